/*
 * IKEv2 key exchange (RFC 7296 §3.4) through OpenSSL 3 EVP_PKEY.
 *
 * Groups: MODP 14, 15, 16 (RFC 3526); ECP 19, 20, 21 (RFC 5903: KE data is
 * x | y, each coordinate left-padded to the field size, no 0x04 prefix;
 * the shared secret is the x coordinate, field-size octets); Curve25519 31
 * and Curve448 32 (RFC 8031).  MODP 2 and 5 only with IKE_KEX_ALLOW_WEAK.
 * The MODP shared secret is left-padded to the length of the prime
 * (RFC 7296 §2.14 "g^ir ... represented as a string of octets in big
 * endian order padded with zeros if necessary").
 */
#ifndef IKETCP_IKE_DH_H
#define IKETCP_IKE_DH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/ikev2.h"

enum {
	IKE_KEX_PUB_MAX		= 512,	/* MODP 4096 KE data, octets */
	IKE_KEX_SECRET_MAX	= 512
};

enum ike_kex_flags {
	IKE_KEX_ALLOW_WEAK	= 0x01	/* also accept MODP groups 2 and 5 */
};

struct ike_kex;

/* True when @group is supported under @flags. */
bool	ike_kex_supported(enum ike_dh group, unsigned flags);
/* Key Exchange Data length for @group (octets); 0 when unsupported. */
size_t	ike_kex_pub_len(enum ike_dh group);
/* Shared secret length for @group (octets); 0 when unsupported. */
size_t	ike_kex_secret_len(enum ike_dh group);

/* A fresh key pair for @group, or NULL (logged). */
struct ike_kex *ike_kex_new(enum ike_dh group, unsigned flags);
/*
 * A key pair from a given private value (big-endian scalar for ECP, the
 * RFC 7748 string for Curve25519/448), for known-answer tests.  MODP groups
 * are not supported here.
 */
struct ike_kex *ike_kex_new_private(enum ike_dh group, unsigned flags,
	    const uint8_t *priv, size_t priv_len);
/* Frees the key pair (OpenSSL clears the private key). NULL is a no-op. */
void	ike_kex_free(struct ike_kex *dh);

enum ike_dh ike_kex_group(const struct ike_kex *dh);

/* Our KE data; @len must equal ike_kex_pub_len(). */
int	ike_kex_public(const struct ike_kex *dh, uint8_t *out, size_t len);

/*
 * Shared secret from the peer's KE data.  The peer value must be exactly
 * ike_kex_pub_len() octets, on the curve (ECP), 1 < y < p-1 (MODP); @len must
 * equal ike_kex_secret_len().  @secret is the caller's to cleanse; it is
 * cleansed here on failure.
 */
int	ike_kex_derive(struct ike_kex *dh, const uint8_t *peer, size_t peer_len,
	    uint8_t *secret, size_t len);

#endif /* IKETCP_IKE_DH_H */
