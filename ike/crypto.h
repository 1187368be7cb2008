/*
 * IKEv2 transform primitives through OpenSSL 3 EVP: PRF and prf+ (RFC 7296
 * §2.13), truncated HMAC integrity (RFC 4868, RFC 2404) and the sizes of
 * every supported encryption, PRF and integrity transform.
 *
 * Supported: PRF HMAC-SHA1 (2), HMAC-SHA2-256/384/512 (5, 6, 7),
 * AES128-CMAC (8, RFC 4615); INTEG HMAC-SHA1-96 (2), HMAC-SHA2-256-128 (12),
 * -384-192 (13), -512-256 (14); ENCR AES-CBC (12; 128, 192, 256 bits),
 * AES-GCM-16 (20; 128, 192, 256 bits, RFC 5282), ChaCha20-Poly1305 (28,
 * RFC 7634).  A size function returns 0 for anything else.
 *
 * Buffers are the caller's.  Nothing here keeps state between calls.
 */
#ifndef IKETCP_IKE_CRYPTO_H
#define IKETCP_IKE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/ikev2.h"

enum {
	IKE_PRF_OUT_MAX		= 64,	/* HMAC-SHA2-512 output, octets */
	IKE_INTEG_KEY_MAX	= 64,	/* HMAC-SHA2-512-256 key, octets */
	IKE_INTEG_ICV_MAX	= 32,	/* HMAC-SHA2-512-256 ICV, octets */
	IKE_ENCR_KEY_MAX	= 36,	/* 32-octet key + 4-octet salt */
	IKE_ENCR_SALT_LEN	= 4,	/* RFC 5282 §7.1, RFC 7634 §3 */
	IKE_ENCR_IV_MAX		= 16,	/* AES-CBC */
	IKE_PRFPLUS_ROUNDS	= 255,	/* RFC 7296 §2.13: T1 .. T255 */
	IKE_CMAC_KEY_LEN	= 16	/* RFC 4615 */
};

/* One piece of a PRF input; an input is an array of pieces, concatenated. */
struct ike_chunk {
	const uint8_t	*p;
	size_t		 len;
};

/* PRF output length in octets; 0 when @prf is not supported. */
size_t	ike_prf_len(enum ike_prf prf);
/*
 * The PRF's preferred key length (RFC 7296 §2.14: the length of SK_d, SK_pi
 * and SK_pr): the output length for HMAC, 16 for AES-CMAC.
 */
size_t	ike_prf_key_len(enum ike_prf prf);
/* True for the PRFs that take a fixed-size key (AES-XCBC, AES-CMAC). */
bool	ike_prf_fixed_key(enum ike_prf prf);

/*
 * out = prf(key, in[0] | in[1] | ...); @out holds ike_prf_len(prf) octets.
 * AES-CMAC applies RFC 4615's rule for keys that are not 16 octets long.
 */
int	ike_prf(enum ike_prf prf, const uint8_t *key, size_t key_len,
	    const struct ike_chunk *in, size_t n_in, uint8_t *out);

/*
 * RFC 7296 §2.13: out = first @out_len octets of T1 | T2 | ... with
 * T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n).  S is the concatenation
 * of @in.  Fails if @out_len needs more than 255 rounds.
 */
int	ike_prfplus(enum ike_prf prf, const uint8_t *key, size_t key_len,
	    const struct ike_chunk *in, size_t n_in, uint8_t *out,
	    size_t out_len);

/* Integrity key and ICV lengths; 0 when @integ is not supported. */
size_t	ike_integ_key_len(enum ike_integ integ);
size_t	ike_integ_icv_len(enum ike_integ integ);

/* icv = HMAC(key, in...) truncated to ike_integ_icv_len(integ) octets. */
int	ike_integ(enum ike_integ integ, const uint8_t *key, size_t key_len,
	    const struct ike_chunk *in, size_t n_in, uint8_t *icv);

/* True for the combined-mode (AEAD) ciphers: AES-GCM-16, ChaCha20-Poly1305. */
bool	ike_encr_is_aead(enum ike_encr encr);
/*
 * Keying material for one direction in octets, salt included for AEAD
 * (RFC 5282 §7.1, RFC 7634 §3); 0 when the transform or the Key Length
 * attribute @key_bits is not supported.  @key_bits is 0 for ChaCha20-Poly1305
 * (no Key Length attribute), 128/192/256 for AES.
 */
size_t	ike_encr_key_len(enum ike_encr encr, unsigned key_bits);
/* Explicit IV octets in each message: 16 for CBC, 8 for AEAD, 0 unknown. */
size_t	ike_encr_iv_len(enum ike_encr encr);
/* AEAD tag octets (16), 0 for CBC. */
size_t	ike_encr_tag_len(enum ike_encr encr);

#endif /* IKETCP_IKE_CRYPTO_H */
