/*
 * libFuzzer target for what a peer's IKE_AUTH makes ike/cert.c and
 * ike/auth.c take apart: its CERT payloads (ike_cert_verify(): the count
 * bound, OpenSSL's DER parser, chain building and the CRL check against a
 * store with a root and its CRL) and its AUTH data (ike_auth_verify():
 * methods 1, 9-11 with their r | s form, and 14 with its
 * AlgorithmIdentifier).
 *
 * Input: octet 0 even: CERT payloads follow, each as a 2-octet length and
 * the DER; odd: octet 1 picks the method and octet 2 the key, the rest is
 * the Authentication Data.  Run from the repository root (fixtures).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ike/auth.h"
#include "ike/cert.h"
#include "ike/ikev2.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FIX "test/unit/ike/fixtures/"

static X509_STORE *store;
static EVP_PKEY *keys[4];

/* A self-signed root of the fixture P-256 key, and an empty CRL of it. */
static void
setup(void)
{
	static const char *const pubs[] = {
		FIX "ecp256.pub.pem", FIX "ecp384.pub.pem",
		FIX "rsa2048.pub.pem", FIX "ed25519.pub.pem"
	};
	EVP_PKEY *k = ike_auth_key_load(FIX "ecp256.pem", true);
	X509 *x = X509_new();
	X509_CRL *crl = X509_CRL_new();
	size_t i;

	if (k == NULL || x == NULL || crl == NULL)
		abort();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"root", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(x));
	if (X509_sign(x, k, EVP_sha256()) <= 0 ||
	    X509_CRL_sign(crl, k, EVP_sha256()) <= 0 ||
	    (store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(store, x) != 1 ||
	    X509_STORE_add_crl(store, crl) != 1)
		abort();
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL);
	for (i = 0; i < sizeof(pubs) / sizeof(pubs[0]); i++)
		if ((keys[i] = ike_auth_key_load(pubs[i], false)) == NULL)
			abort();
	X509_free(x);
	X509_CRL_free(crl);
	EVP_PKEY_free(k);
}

static void
certs(const uint8_t *p, size_t n)
{
	struct ike_cert c[IKE_CERT_CHAIN_MAX + 2];
	char why[IKE_CERT_WHY_MAX];
	size_t k = 0, len;
	X509 *ee;

	while (n >= 2 && k < sizeof(c) / sizeof(c[0])) {
		len = (size_t)p[0] << 8 | p[1];
		p += 2;
		n -= 2;
		if (len > n)
			len = n;
		c[k].encoding = IKE_CERT_X509_SIG;
		c[k].data.p = p;
		c[k].data.len = len;
		k++;
		p += len;
		n -= len;
	}
	why[0] = '\0';
	ee = ike_cert_verify(store, c, k, why, sizeof(why));
	if (ee == NULL && why[0] == '\0')
		abort();	/* a refusal always says why */
	X509_free(ee);
}

static void
auth(const uint8_t *p, size_t n)
{
	static const uint8_t methods[] = {
		IKE_AUTH_RSA_SIG, IKE_AUTH_ECDSA_SHA256_P256,
		IKE_AUTH_ECDSA_SHA384_P384, IKE_AUTH_ECDSA_SHA512_P521,
		IKE_AUTH_DIGITAL_SIGNATURE
	};
	uint8_t *data;

	if (n < 2)
		return;
	/* Exactly sized, so ASan sees any read past the end. */
	if ((data = malloc(n - 2 > 0 ? n - 2 : 1)) == NULL)
		return;
	memcpy(data, p + 2, n - 2);
	(void)ike_auth_verify(methods[p[0] % sizeof(methods)],
	    keys[p[1] % 4], data, n - 2, (const uint8_t *)"octets", 6);
	free(data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (store == NULL)
		setup();
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		certs(data + 1, size - 1);
	else
		auth(data + 1, size - 1);
	return 0;
}
