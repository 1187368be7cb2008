/*
 * IKEv2 authentication (RFC 7296 §2.15, RFC 7427, RFC 8420).
 *
 * Signed octets: for the initiator
 *   RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
 * and for the responder
 *   RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)
 * where RestOf...IDPayload is the ID payload after its generic header
 * (ID Type, 3 reserved octets, identification data).
 *
 * Shared key: AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), octets).
 * Signatures: Digital Signature (method 14, RFC 7427: 1-octet length |
 * AlgorithmIdentifier DER | signature) with RSASSA-PSS (SHA-256/384/512,
 * MGF1 with the same hash, salt = hash length), RSA PKCS#1 v1.5
 * (SHA-256/384/512), ECDSA (SHA-256/384/512, DER signature) and Ed25519 /
 * Ed448 (RFC 8420); legacy method 1 (RSA PKCS#1 v1.5 over SHA-1) and
 * ECDSA methods 9-11 (RFC 4754: the curve fixes the hash, and the
 * signature is r | s, each as long as the group order), for peers that do
 * not speak RFC 7427.
 */
#ifndef IKETCP_IKE_AUTH_H
#define IKETCP_IKE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "ike/crypto.h"

/* IANA "IKEv2 Hash Algorithms" (RFC 7427 §7, RFC 8420). */
enum ike_hash {
	IKE_HASH_SHA1		= 1,
	IKE_HASH_SHA2_256	= 2,
	IKE_HASH_SHA2_384	= 3,
	IKE_HASH_SHA2_512	= 4,
	IKE_HASH_IDENTITY	= 5
};

enum ike_sig {
	IKE_SIG_RSA_SHA1,		/* method 1 */
	IKE_SIG_RSA_PKCS1_SHA256,	/* method 14 from here on */
	IKE_SIG_RSA_PKCS1_SHA384,
	IKE_SIG_RSA_PKCS1_SHA512,
	IKE_SIG_RSA_PSS_SHA256,
	IKE_SIG_RSA_PSS_SHA384,
	IKE_SIG_RSA_PSS_SHA512,
	IKE_SIG_ECDSA_SHA256,
	IKE_SIG_ECDSA_SHA384,
	IKE_SIG_ECDSA_SHA512,
	IKE_SIG_ED25519,
	IKE_SIG_ED448,
	IKE_SIG_ECDSA_P256,		/* method 9: P-256 with SHA-256 */
	IKE_SIG_ECDSA_P384,		/* method 10: P-384 with SHA-384 */
	IKE_SIG_ECDSA_P521		/* method 11: P-521 with SHA-512 */
};

enum {
	IKE_AUTH_SIG_MAX	= 1 + 80 + 1024	/* length | AlgId | 8192-bit RSA */
};

/* Octets ike_auth_octets() writes. */
size_t	ike_auth_octets_len(enum ike_prf prf, size_t msg_len,
	    size_t nonce_len);
/*
 * out = msg | nonce | prf(sk_p, id); @msg is our own first message
 * (IKE_SA_INIT request for the initiator, response for the responder),
 * @nonce the peer's nonce data, @id the RestOf...IDPayload.  @out_len must
 * equal ike_auth_octets_len().  The octets are not secret.
 */
int	ike_auth_octets(enum ike_prf prf, const uint8_t *sk_p, size_t sk_p_len,
	    const uint8_t *msg, size_t msg_len, const uint8_t *nonce,
	    size_t nonce_len, const uint8_t *id, size_t id_len, uint8_t *out,
	    size_t out_len);

/* Shared-key AUTH data (ike_prf_len(prf) octets) into @auth. */
int	ike_auth_psk(enum ike_prf prf, const uint8_t *psk, size_t psk_len,
	    const uint8_t *octets, size_t octets_len, uint8_t *auth);
/* Constant-time check of a peer's shared-key AUTH data. */
bool	ike_auth_psk_verify(enum ike_prf prf, const uint8_t *psk,
	    size_t psk_len, const uint8_t *octets, size_t octets_len,
	    const uint8_t *auth, size_t auth_len);

/* The Auth Method for @sig: 1, 9, 10, 11 or 14. */
enum ike_auth_method ike_auth_sig_method(enum ike_sig sig);
/* True when @key can make @sig signatures (of its curve for 9-11). */
bool	ike_auth_sig_fits(enum ike_sig sig, EVP_PKEY *key);

/*
 * Authentication Data for @sig over @octets with the private @key, into
 * @out (@cap octets, IKE_AUTH_SIG_MAX is enough); *out_len is set.
 */
int	ike_auth_sign(enum ike_sig sig, EVP_PKEY *key, const uint8_t *octets,
	    size_t octets_len, uint8_t *out, size_t cap, size_t *out_len);
/* True for the Auth Methods ike_auth_verify() takes: 1, 9-11, 14. */
bool	ike_auth_is_sig_method(uint8_t method);
/*
 * Verifies Authentication Data @data of Auth Method @method with the peer's
 * public @key.  Method 14 accepts only the AlgorithmIdentifiers this file
 * produces (an exact match) and only with a key of the matching type;
 * methods 9-11 only with a key on their curve.
 */
int	ike_auth_verify(enum ike_auth_method method, EVP_PKEY *key,
	    const uint8_t *data, size_t data_len, const uint8_t *octets,
	    size_t octets_len);

/* A PEM key from @path: private when @private, else a public key. */
EVP_PKEY *ike_auth_key_load(const char *path, bool private);

/*
 * SIGNATURE_HASH_ALGORITHMS notify data (RFC 7427 §4): a non-empty list of
 * 16-bit hash identifiers.  Sets bit (1 << id) in *mask for each id below
 * 32 (unknown ids are ignored).  False on an empty or odd-length list.
 */
bool	ike_auth_hash_algs_parse(const uint8_t *data, size_t len,
	    uint32_t *mask);

#endif /* IKETCP_IKE_AUTH_H */
