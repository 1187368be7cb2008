/*
 * ike/cert.c: the signature scheme the responder answers with, from its
 * key and the peer's SIGNATURE_HASH_ALGORITHMS.  Run from the repository
 * root (keys in fixtures/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ike/cert.h"

#define FIX "test/unit/ike/fixtures/"
#define H(id) (1u << (id))

Test(ike_cert, picks_the_signature_scheme, .timeout = 10)
{
	EVP_PKEY *ec = ike_auth_key_load(FIX "ecp256.pem", true);
	EVP_PKEY *ed = ike_auth_key_load(FIX "ed25519.pem", true);
	EVP_PKEY *ec384 = ike_auth_key_load(FIX "ecp384.pem", true);
	EVP_PKEY *rsa = ike_auth_key_load(FIX "rsa2048.pem", true);
	enum ike_sig s;

	cr_assert(ec != NULL && ed != NULL && ec384 != NULL && rsa != NULL);
	cr_assert(ike_cert_sig_pick(ec, true, H(IKE_HASH_SHA2_256) |
	    H(IKE_HASH_SHA2_384), &s));
	cr_assert_eq(s, IKE_SIG_ECDSA_SHA256);
	cr_assert(ike_cert_sig_pick(ec, true, H(IKE_HASH_SHA2_512), &s));
	cr_assert_eq(s, IKE_SIG_ECDSA_SHA512);
	/* No notify: RFC 4754, the curve's method (9 for P-256). */
	cr_assert(ike_cert_sig_pick(ec, false, 0, &s));
	cr_assert_eq(s, IKE_SIG_ECDSA_P256);
	cr_assert_not(ike_cert_sig_pick(ed, false, 0, &s));
	cr_assert_not(ike_cert_sig_pick(ec, true, H(IKE_HASH_SHA1), &s));
	cr_assert(ike_cert_sig_pick(ed, true, H(IKE_HASH_IDENTITY), &s));
	cr_assert_eq(s, IKE_SIG_ED25519);
	cr_assert_not(ike_cert_sig_pick(ed, true, H(IKE_HASH_SHA2_256), &s));
	/* P-384: SHA-384 when the peer has it, then the usual order. */
	cr_assert(ike_cert_sig_pick(ec384, true, H(IKE_HASH_SHA2_256) |
	    H(IKE_HASH_SHA2_384) | H(IKE_HASH_SHA2_512), &s));
	cr_assert_eq(s, IKE_SIG_ECDSA_SHA384);
	cr_assert(ike_cert_sig_pick(ec384, true, H(IKE_HASH_SHA2_256), &s));
	cr_assert_eq(s, IKE_SIG_ECDSA_SHA256);
	cr_assert(ike_cert_sig_pick(ec384, false, 0, &s));
	cr_assert_eq(s, IKE_SIG_ECDSA_P384);
	/* RSA: PKCS#1 v1.5 with SHA-256 first; method 1 without notify. */
	cr_assert(ike_cert_sig_pick(rsa, true, H(IKE_HASH_SHA2_256) |
	    H(IKE_HASH_SHA2_512), &s));
	cr_assert_eq(s, IKE_SIG_RSA_PKCS1_SHA256);
	cr_assert(ike_cert_sig_pick(rsa, false, 0, &s));
	cr_assert_eq(s, IKE_SIG_RSA_SHA1);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec384);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
}

/* A self-signed certificate for @cn with a fresh P-256 key, appended to @f. */
static EVP_PKEY *
add_selfsigned(FILE *f, const char *cn)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	cr_assert(k != NULL && x != NULL);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	cr_assert(X509_sign(x, k, EVP_sha256()) > 0);
	cr_assert(PEM_write_X509(f, x));
	X509_free(x);
	return k;
}

/* SHA-1 of the key's SubjectPublicKeyInfo, the EVP_PKEY way. */
static void
spki_sha1(EVP_PKEY *k, uint8_t out[20])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	cr_assert(n > 0);
	cr_assert(EVP_Digest(der, (size_t)n, out, NULL, EVP_sha1(), NULL));
	OPENSSL_free(der);
}

Test(ike_cert, certreq_names_each_trust_anchor_by_spki_sha1, .timeout = 10)
{
	char path[] = "/tmp/iketcp-ca-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	EVP_PKEY *a, *b;
	X509_STORE *st;
	uint8_t ha[20], hb[20], *h;
	size_t len = 0;

	cr_assert_not_null(f);
	a = add_selfsigned(f, "ca one");
	b = add_selfsigned(f, "ca two");
	fclose(f);
	cr_assert_not_null(st = ike_cert_store_load(path));
	cr_assert_not_null(h = ike_cert_ca_hashes(st, &len));
	spki_sha1(a, ha);
	spki_sha1(b, hb);
	cr_assert_eq(len, 40);
	/* Order is the store's: either one may come first. */
	cr_assert((memcmp(h, ha, 20) == 0 && memcmp(h + 20, hb, 20) == 0) ||
	    (memcmp(h, hb, 20) == 0 && memcmp(h + 20, ha, 20) == 0));
	free(h);
	X509_STORE_free(st);
	/* A store without certificates gives no CERTREQ. */
	cr_assert_not_null(st = X509_STORE_new());
	cr_assert_null(ike_cert_ca_hashes(st, &len));
	X509_STORE_free(st);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	unlink(path);
}
