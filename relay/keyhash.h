/*
 * A keyed hash for tables whose keys a peer chooses (SPIs, addresses):
 * SipHash-2-4 with a per-process random 128-bit key, so that a client
 * cannot steer its entries into one bucket (issue 11, DESIGN.md "Bounds").
 *
 *   keyhash_init();                    once at start, before any table
 *   b = keyhash(&spi, 8) & (nbuckets - 1);
 *
 * Not for anything secret: the output is a bucket index, nothing more.
 */
#ifndef IKETCP_KEYHASH_H
#define IKETCP_KEYHASH_H

#include <stddef.h>
#include <stdint.h>

enum {
	KEYHASH_KEY_LEN = 16,		/* SipHash key, bytes */
};

/* Fetches SipHash and draws a random key; 0, or -1 (logged).  keyhash()
 * calls it on first use when nobody did. */
int	keyhash_init(void);
/* SipHash-2-4 of @n bytes at @p under the process key, 64 bits. */
uint64_t keyhash(const void *p, size_t n);
/* The same under @key instead of the process key: a table that several
 * processes share keeps its own key with it (relay/owners.c). */
uint64_t keyhash_with(const uint8_t key[static KEYHASH_KEY_LEN],
	    const void *p, size_t n);
/* Tests: replace the process key (known-answer vectors, two keys). */
void	keyhash_set_key(const uint8_t key[static KEYHASH_KEY_LEN]);
/* Releases the MAC context (at exit, for leak checkers). */
void	keyhash_cleanup(void);

#endif /* IKETCP_KEYHASH_H */
