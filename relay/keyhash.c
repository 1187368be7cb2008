/*
 * SipHash-2-4 through OpenSSL 3's EVP_MAC "SIPHASH".  The MAC is fetched
 * and its context made once per process; each call re-initialises the
 * context with the key (cheap: SipHash's state is four words) and asks for
 * the 8-byte output (OSSL_MAC_PARAM_SIZE, which would otherwise be 16).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "relay/keyhash.h"
#include "relay/log.h"

enum {
	KEYHASH_OUT_LEN = 8,		/* SipHash-2-4-64 */
};

static struct {
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx;
	uint8_t		 key[KEYHASH_KEY_LEN];
} kh;

/* Sets the output size, which the context keeps across re-inits. */
static int
ctx_new(void)
{
	size_t size = KEYHASH_OUT_LEN;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
		OSSL_PARAM_construct_end(),
	};

	if ((kh.mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) == NULL ||
	    (kh.ctx = EVP_MAC_CTX_new(kh.mac)) == NULL ||
	    !EVP_MAC_init(kh.ctx, kh.key, sizeof(kh.key), params)) {
		log_warnx("keyhash: OpenSSL has no usable SIPHASH MAC");
		keyhash_cleanup();
		return -1;
	}
	return 0;
}

int
keyhash_init(void)
{
	if (kh.ctx != NULL)
		return 0;
	if (RAND_bytes(kh.key, sizeof(kh.key)) != 1) {
		log_warnx("keyhash: RAND_bytes failed");
		return -1;
	}
	return ctx_new();
}

void
keyhash_set_key(const uint8_t key[static KEYHASH_KEY_LEN])
{
	memcpy(kh.key, key, sizeof(kh.key));
	if (kh.ctx == NULL && ctx_new() == -1)
		fatalx("keyhash: cannot set a key");
}

void
keyhash_cleanup(void)
{
	EVP_MAC_CTX_free(kh.ctx);
	EVP_MAC_free(kh.mac);
	kh.ctx = NULL;
	kh.mac = NULL;
	OPENSSL_cleanse(kh.key, sizeof(kh.key));
}

/* SipHash-2-4-64 of @p..@n under @key. */
static uint64_t
hash(const uint8_t *key, const void *p, size_t n)
{
	uint8_t out[KEYHASH_OUT_LEN];
	size_t outl = 0;
	uint64_t h = 0;

	if (kh.ctx == NULL && keyhash_init() == -1)
		fatalx("keyhash: no SipHash");
	/* Only a broken provider fails here; the table must not go on
	 * with a hash it cannot compute, so this is our invariant. */
	if (!EVP_MAC_init(kh.ctx, key, KEYHASH_KEY_LEN, NULL) ||
	    !EVP_MAC_update(kh.ctx, p, n) ||
	    !EVP_MAC_final(kh.ctx, out, &outl, sizeof(out)) ||
	    outl != sizeof(out))
		fatalx("keyhash: SipHash failed");
	/* The reference implementation writes the result little-endian. */
	for (size_t i = 0; i < sizeof(out); i++)
		h |= (uint64_t)out[i] << (8 * i);
	return h;
}

uint64_t
keyhash(const void *p, size_t n)
{
	return hash(kh.key, p, n);
}

uint64_t
keyhash_with(const uint8_t key[static KEYHASH_KEY_LEN], const void *p,
    size_t n)
{
	return hash(key, p, n);
}
