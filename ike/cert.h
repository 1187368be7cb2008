/*
 * X.509 certificates for IKE_AUTH (RFC 7296 §3.6, §3.7; RFC 4945 §3):
 * the peer's end-entity certificate checked against our CA store, its
 * identity against the IDi payload, and our own certificate's DER.
 * Pure: no sockets, no logging (errors come back as text).
 */
#ifndef IKETCP_IKE_CERT_H
#define IKETCP_IKE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/types.h>

#include "ike/auth.h"
#include "ike/codec.h"

enum {
	IKE_CERT_WHY_MAX	= 96,
	/*
	 * Bounds on what a peer makes us parse and verify: CERT payloads
	 * taken from one IKE_AUTH (the end-entity certificate and its
	 * intermediates), and intermediate CAs between a client certificate
	 * and a trust anchor.  Also the most certificates in our cert file.
	 */
	IKE_CERT_CHAIN_MAX	= 8,
	IKE_CERT_DEPTH_MAX	= 4,
	/*
	 * Our CERT payloads in all (headers included): with IDr, AUTH (up
	 * to IKE_AUTH_SIG_MAX), CP, SA and TSs they fit the 6144 octets of
	 * an IKE_AUTH response's plaintext.
	 */
	IKE_CERT_SEND_MAX	= 4096
};

/* Our own certificates: the end entity first, then its intermediates. */
struct ike_cert_chain {
	uint8_t		*der[IKE_CERT_CHAIN_MAX];	/* malloc'd DER */
	size_t		 len[IKE_CERT_CHAIN_MAX];
	size_t		 n;
};

/* A store with every certificate of the PEM file @path; NULL on error. */
X509_STORE *ike_cert_store_load(const char *path);
/*
 * CERTREQ Certification Authority data for @store (RFC 7296 §3.7): the
 * SHA-1 hash of each certificate's SubjectPublicKeyInfo, concatenated
 * (malloc, *len = 20 * certificates); NULL when it holds none or on error.
 */
uint8_t *ike_cert_ca_hashes(X509_STORE *store, size_t *len);
/* The first certificate of the PEM file @path as DER (malloc). */
uint8_t *ike_cert_der_load(const char *path, size_t *len);
/*
 * Every certificate of the PEM file @path into @chain: ours first, then
 * intermediates, each the issuer of the one before it (RFC 7296 §3.6: the
 * first CERT holds the key for AUTH; the others help the peer build the
 * chain).  0, or -1 with @why set and @chain empty.
 */
int	ike_cert_chain_load(const char *path, struct ike_cert_chain *chain,
	    char *why, size_t why_cap);
void	ike_cert_chain_free(struct ike_cert_chain *chain);

/*
 * Adds the certificate revocation lists of @path (PEM, one or more, or a
 * single DER one) to @store and turns on revocation checking for every
 * certificate of a chain whose issuer has a CRL there.  A CRL whose issuer
 * is a trust anchor of @store must verify with its key.  Returns how many
 * CRLs were added and, in *stale, how many are past their nextUpdate at
 * @now (still used: what they revoke stays revoked); -1 with @why set.
 */
int	ike_cert_crl_load(X509_STORE *store, const char *path, time_t now,
	    size_t *stale, char *why, size_t why_cap);
/* DER of the subject name of the certificate @der (malloc). */
uint8_t *ike_cert_subject_der(const uint8_t *der, size_t len,
	    size_t *out_len);

/*
 * Verifies the end-entity certificate (the first X.509 CERT of @certs,
 * the others are untrusted intermediates) against @store, purpose any,
 * with at most IKE_CERT_DEPTH_MAX intermediates, and against the CRLs in
 * @store.  More than IKE_CERT_CHAIN_MAX certificates are refused before
 * any is parsed.  Returns the certificate (the caller frees it) or NULL
 * with @why set.
 */
X509	*ike_cert_verify(X509_STORE *store, const struct ike_cert *certs,
	    size_t ncerts, char *why, size_t why_cap);

/*
 * True when the certificate carries the identity (RFC 4945 §3.1):
 * FQDN and RFC822_ADDR against subjectAltName dNSName / rfc822Name (case
 * insensitive), IPV4/IPV6_ADDR against iPAddress, DER_ASN1_DN against the
 * subject (DER compare).
 */
bool	ike_cert_id_match(X509 *cert, uint8_t id_type, const uint8_t *id,
	    size_t id_len);

/*
 * Our own certificate (@der) and key, checked at start: the key must be
 * the certificate's, and our identity must be one it carries (as
 * ike_cert_id_match()), or initiators would refuse our AUTH.  0, or -1
 * with @why set.
 */
int	ike_cert_check_ours(const uint8_t *der, size_t len, EVP_PKEY *key,
	    uint8_t id_type, const uint8_t *id, size_t id_len, char *why,
	    size_t why_cap);

/*
 * Our signature scheme for @key: method 14 with the best hash in the
 * peer's SIGNATURE_HASH_ALGORITHMS @mask (bit 1 << id) -- for an ECDSA
 * key the hash of its curve (RFC 4754) when the peer has it -- or, when
 * @have_mask is false (a peer without RFC 7427), method 1 for an RSA key
 * and methods 9-11 for a P-256, P-384 or P-521 key.  False when nothing
 * fits.
 */
bool	ike_cert_sig_pick(EVP_PKEY *key, bool have_mask, uint32_t mask,
	    enum ike_sig *sig);

#endif /* IKETCP_IKE_CERT_H */
