/*
 * X.509 certificates for IKE_AUTH: chain verification, identity match,
 * our certificate's DER and the signature scheme we answer with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conf/fileset.h"
#include "ike/cert.h"
#include "ike/ikev2.h"

/*
 * Files are read with fs_read() (conf/fileset.h), never by OpenSSL: in a
 * worker the bytes come from the set its privileged master read.  Each
 * is then parsed from a read-only memory BIO over those bytes.
 */
struct pem_file {
	unsigned char	*data;		/* the file, wiped when freed */
	size_t		 len;		/* bytes */
	BIO		*bio;		/* read-only, over data */
};

static int
pem_open(struct pem_file *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	if (fs_read(path, &f->data, &f->len) == -1)
		return -1;
	if ((f->bio = BIO_new_mem_buf(f->data, (int)f->len)) == NULL) {
		OPENSSL_clear_free(f->data, f->len + 1);
		return -1;
	}
	return 0;
}

static void
pem_close(struct pem_file *f)
{
	BIO_free(f->bio);
	if (f->data != NULL)
		OPENSSL_clear_free(f->data, f->len + 1);
	memset(f, 0, sizeof(*f));
}

/* Every certificate and CRL of the PEM bundle @path, as
 * X509_STORE_load_file() reads it: NULL unless it holds one at least. */
X509_STORE *
ike_cert_store_load(const char *path)
{
	STACK_OF(X509_INFO) *inf = NULL;
	X509_STORE *st = NULL;
	struct pem_file f;
	int n = 0;

	if (pem_open(&f, path) == -1)
		return NULL;
	if ((inf = PEM_X509_INFO_read_bio(f.bio, NULL, NULL, "")) == NULL ||
	    (st = X509_STORE_new()) == NULL)
		goto fail;
	for (int i = 0; i < sk_X509_INFO_num(inf); i++) {
		X509_INFO *it = sk_X509_INFO_value(inf, i);

		if (it->x509 != NULL && X509_STORE_add_cert(st, it->x509) != 1)
			goto fail;
		if (it->crl != NULL && X509_STORE_add_crl(st, it->crl) != 1)
			goto fail;
		n += (it->x509 != NULL) + (it->crl != NULL);
	}
	if (n == 0)
		goto fail;
	sk_X509_INFO_pop_free(inf, X509_INFO_free);
	pem_close(&f);
	return st;
fail:
	ERR_clear_error();
	sk_X509_INFO_pop_free(inf, X509_INFO_free);
	X509_STORE_free(st);
	pem_close(&f);
	return NULL;
}

uint8_t *
ike_cert_ca_hashes(X509_STORE *store, size_t *len)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	uint8_t *out = NULL, *spki = NULL, *p;
	size_t n = 0, cap = 0;
	int k, i;

	for (i = 0; objs != NULL && i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		uint8_t *grown;

		if (x == NULL)
			continue;	/* a CRL */
		if ((k = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), NULL)) <= 0 ||
		    (spki = malloc((size_t)k)) == NULL)
			goto fail;
		p = spki;
		if (i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &p) != k)
			goto fail;
		if (n + SHA_DIGEST_LENGTH > cap) {
			cap = cap ? 2 * cap : 4 * SHA_DIGEST_LENGTH;
			if ((grown = realloc(out, cap)) == NULL)
				goto fail;
			out = grown;
		}
		if (EVP_Digest(spki, (size_t)k, out + n, NULL, EVP_sha1(),
		    NULL) != 1)
			goto fail;
		n += SHA_DIGEST_LENGTH;
		free(spki);
		spki = NULL;
	}
	if (n == 0)
		goto fail;
	*len = n;
	return out;
fail:
	free(spki);
	free(out);
	return NULL;
}

static uint8_t *
x509_der(X509 *x, size_t *len)
{
	uint8_t *der = NULL, *p;
	int n;

	if ((n = i2d_X509(x, NULL)) <= 0 || (der = malloc((size_t)n)) == NULL)
		return NULL;
	p = der;
	if (i2d_X509(x, &p) != n) {
		free(der);
		return NULL;
	}
	*len = (size_t)n;
	return der;
}

uint8_t *
ike_cert_der_load(const char *path, size_t *len)
{
	struct pem_file f;
	X509 *x;
	uint8_t *der;

	if (pem_open(&f, path) == -1)
		return NULL;
	x = PEM_read_bio_X509(f.bio, NULL, NULL, NULL);
	pem_close(&f);
	if (x == NULL)
		return NULL;
	der = x509_der(x, len);
	X509_free(x);
	return der;
}

/* True when the PEM reader stopped at the end of its input, not at junk. */
static bool
is_pem_end(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

int
ike_cert_chain_load(const char *path, struct ike_cert_chain *chain,
    char *why, size_t why_cap)
{
	struct pem_file f;
	X509 *x = NULL, *prev = NULL;
	char subj[64];
	int rc = -1;

	memset(chain, 0, sizeof(*chain));
	if (pem_open(&f, path) == -1) {
		snprintf(why, why_cap, "cannot open it: %s",
		    fs_strerror(errno));
		return -1;
	}
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(f.bio, NULL, NULL, NULL)) != NULL) {
		if (chain->n == IKE_CERT_CHAIN_MAX) {
			snprintf(why, why_cap, "more than %d certificates",
			    IKE_CERT_CHAIN_MAX);
			goto out;
		}
		/* §3.6: each one after ours helps to verify the one before. */
		if (prev != NULL && X509_check_issued(x, prev) != X509_V_OK) {
			X509_NAME_oneline(X509_get_subject_name(x), subj,
			    sizeof(subj));
			snprintf(why, why_cap, "certificate %zu (%s) is not the "
			    "issuer of the one before it", chain->n + 1, subj);
			goto out;
		}
		if ((chain->der[chain->n] = x509_der(x,
		    &chain->len[chain->n])) == NULL) {
			snprintf(why, why_cap, "out of memory");
			goto out;
		}
		chain->n++;
		X509_free(prev);
		prev = x;
		x = NULL;
	}
	if (!is_pem_end())
		snprintf(why, why_cap, "bad PEM after %zu certificates",
		    chain->n);
	else if (chain->n == 0)
		snprintf(why, why_cap, "no PEM certificate");
	else
		rc = 0;
out:
	ERR_clear_error();
	X509_free(x);
	X509_free(prev);
	pem_close(&f);
	if (rc != 0)
		ike_cert_chain_free(chain);
	return rc;
}

void
ike_cert_chain_free(struct ike_cert_chain *chain)
{
	size_t i;

	for (i = 0; i < chain->n; i++)
		free(chain->der[i]);
	memset(chain, 0, sizeof(*chain));
}

/*
 * Revocation checking with our CRLs: a certificate whose issuer has no
 * CRL of ours is not checked, and a CRL past its nextUpdate still counts
 * (what it revokes stays revoked; the operator was warned at load).
 */
static int
crl_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	if (ok)
		return ok;
	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return 1;
	default:
		return 0;
	}
}

/* 0 unless @crl names a trust anchor of @store that did not sign it. */
static int
crl_check_issuer(X509_STORE *store, X509_CRL *crl, char *why, size_t why_cap)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	const X509_NAME *iss = X509_CRL_get_issuer(crl);
	bool named = false;
	char subj[64];
	int i;

	for (i = 0; objs != NULL && i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

		if (x == NULL || X509_NAME_cmp(X509_get_subject_name(x),
		    iss) != 0)
			continue;
		if (X509_CRL_verify(crl, X509_get0_pubkey(x)) == 1)
			return 0;
		named = true;
	}
	if (!named)
		return 0;	/* an intermediate's: checked in each chain */
	X509_NAME_oneline(iss, subj, sizeof(subj));
	snprintf(why, why_cap, "the CRL of %s does not verify with that CA's "
	    "key", subj);
	return -1;
}

int
ike_cert_crl_load(X509_STORE *store, const char *path, time_t now,
    size_t *stale, char *why, size_t why_cap)
{
	X509_CRL *crl = NULL;
	const unsigned char *p;
	struct pem_file f;
	BIO *bio;
	bool der = false;
	int n = 0;

	*stale = 0;
	if (pem_open(&f, path) == -1) {
		snprintf(why, why_cap, "cannot open it: %s",
		    fs_strerror(errno));
		return -1;
	}
	bio = f.bio;
	ERR_clear_error();
	for (;;) {
		if (!der && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL,
		    NULL)) == NULL) {
			if (!is_pem_end()) {
				snprintf(why, why_cap, "bad PEM after %d CRLs",
				    n);
				goto fail;
			}
			if (n > 0)
				break;
			/* Not PEM: one DER CRL, from the file's start. */
			ERR_clear_error();
			der = true;
			p = f.data;
			if ((crl = d2i_X509_CRL(NULL, &p, (long)f.len)) ==
			    NULL) {
				snprintf(why, why_cap, "no PEM or DER CRL");
				goto fail;
			}
		}
		if (crl_check_issuer(store, crl, why, why_cap) != 0) {
			X509_CRL_free(crl);
			goto fail;
		}
		if (X509_STORE_add_crl(store, crl) != 1) {
			snprintf(why, why_cap, "cannot add CRL %d", n + 1);
			X509_CRL_free(crl);
			goto fail;
		}
		if (X509_CRL_get0_nextUpdate(crl) != NULL &&
		    X509_cmp_time(X509_CRL_get0_nextUpdate(crl), &now) < 0)
			(*stale)++;
		X509_CRL_free(crl);	/* the store holds its own reference */
		n++;
		if (der)
			break;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL);
	X509_STORE_set_verify_cb(store, crl_verify_cb);
	ERR_clear_error();
	pem_close(&f);
	return n;
fail:
	ERR_clear_error();
	pem_close(&f);
	return -1;
}

static X509 *
x509_parse(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	X509 *x;

	if (len > 0x7fffffff)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x != NULL && p != der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

uint8_t *
ike_cert_subject_der(const uint8_t *der, size_t len, size_t *out_len)
{
	X509 *x;
	uint8_t *out = NULL, *p;
	int n;

	if ((x = x509_parse(der, len)) == NULL)
		return NULL;
	if ((n = i2d_X509_NAME(X509_get_subject_name(x), NULL)) > 0 &&
	    (out = malloc((size_t)n)) != NULL) {
		p = out;
		if (i2d_X509_NAME(X509_get_subject_name(x), &p) != n) {
			free(out);
			out = NULL;
		} else
			*out_len = (size_t)n;
	}
	X509_free(x);
	return out;
}

X509 *
ike_cert_verify(X509_STORE *store, const struct ike_cert *certs,
    size_t ncerts, char *why, size_t why_cap)
{
	STACK_OF(X509) *chain = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *ee = NULL, *x;
	size_t i;
	int err;

	if (ncerts > IKE_CERT_CHAIN_MAX) {
		snprintf(why, why_cap, "%zu CERT payloads, at most %d", ncerts,
		    IKE_CERT_CHAIN_MAX);
		return NULL;
	}
	for (i = 0; i < ncerts; i++) {
		if (certs[i].encoding != IKE_CERT_X509_SIG) {
			snprintf(why, why_cap, "CERT encoding %u not "
			    "supported", certs[i].encoding);
			goto fail;
		}
		if ((x = x509_parse(certs[i].data.p, certs[i].data.len)) ==
		    NULL) {
			snprintf(why, why_cap, "CERT %zu is not X.509 DER", i);
			goto fail;
		}
		if (ee == NULL) {
			ee = x;
			continue;
		}
		if ((chain == NULL && (chain = sk_X509_new_null()) == NULL) ||
		    !sk_X509_push(chain, x)) {
			X509_free(x);
			snprintf(why, why_cap, "out of memory");
			goto fail;
		}
	}
	if (ee == NULL) {
		snprintf(why, why_cap, "no certificate");
		goto fail;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, ee, chain) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY) != 1) {
		snprintf(why, why_cap, "X509_STORE_CTX setup failed");
		goto fail;
	}
	X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(ctx),
	    IKE_CERT_DEPTH_MAX);
	if (X509_verify_cert(ctx) != 1) {
		char subj[64], bsubj[40], at[48] = "";
		X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
		int depth = X509_STORE_CTX_get_error_depth(ctx);

		err = X509_STORE_CTX_get_error(ctx);
		if (depth > 0 && bad != NULL) {
			/* An intermediate failed: say which. */
			X509_NAME_oneline(X509_get_subject_name(bad), bsubj,
			    sizeof(bsubj));
			snprintf(at, sizeof(at), " (%s)", bsubj);
		}
		X509_NAME_oneline(X509_get_subject_name(ee), subj,
		    sizeof(subj));
		snprintf(why, why_cap, "certificate %s not trusted: %s%s",
		    subj, X509_verify_cert_error_string(err), at);
		goto fail;
	}
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(chain, X509_free);
	return ee;
fail:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(chain, X509_free);
	X509_free(ee);
	return NULL;
}

bool
ike_cert_id_match(X509 *cert, uint8_t id_type, const uint8_t *id,
    size_t id_len)
{
	GENERAL_NAMES *gens;
	const X509_NAME *subj;
	const uint8_t *p;
	X509_NAME *dn;
	int want, i;
	bool ok = false;

	switch (id_type) {
	case IKE_ID_DER_ASN1_DN:
		p = id;
		if (id_len > 0x7fffffff ||
		    (dn = d2i_X509_NAME(NULL, &p, (long)id_len)) == NULL)
			return false;
		subj = X509_get_subject_name(cert);
		ok = p == id + id_len && X509_NAME_cmp(dn, subj) == 0;
		X509_NAME_free(dn);
		return ok;
	case IKE_ID_FQDN:
		want = GEN_DNS;
		break;
	case IKE_ID_RFC822_ADDR:
		want = GEN_EMAIL;
		break;
	case IKE_ID_IPV4_ADDR:
	case IKE_ID_IPV6_ADDR:
		want = GEN_IPADD;
		break;
	default:
		return false;
	}
	if ((gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
	    NULL)) == NULL)
		return false;
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && !ok; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;
		const uint8_t *d;
		size_t n;

		if (g->type != want)
			continue;
		s = want == GEN_IPADD ? g->d.iPAddress : g->d.ia5;
		d = ASN1_STRING_get0_data(s);
		n = (size_t)ASN1_STRING_length(s);
		if (n != id_len)
			continue;
		if (want == GEN_IPADD)
			ok = memcmp(d, id, n) == 0;
		else
			ok = memchr(id, '\0', id_len) == NULL &&
			    strncasecmp((const char *)d, (const char *)id,
			    n) == 0;
	}
	GENERAL_NAMES_free(gens);
	return ok;
}

bool
ike_cert_sig_pick(EVP_PKEY *key, bool have_mask, uint32_t mask,
    enum ike_sig *sig)
{
	static const struct {
		enum ike_hash	 hash;
		enum ike_sig	 rsa, ec;
	} pref[] = {
		{ IKE_HASH_SHA2_256, IKE_SIG_RSA_PKCS1_SHA256,
		    IKE_SIG_ECDSA_SHA256 },
		{ IKE_HASH_SHA2_384, IKE_SIG_RSA_PKCS1_SHA384,
		    IKE_SIG_ECDSA_SHA384 },
		{ IKE_HASH_SHA2_512, IKE_SIG_RSA_PKCS1_SHA512,
		    IKE_SIG_ECDSA_SHA512 },
	};
	/* RFC 4754: each curve with its own hash; also our first choice. */
	static const struct {
		enum ike_sig	 legacy, sig;
		enum ike_hash	 hash;
	} curves[] = {
		{ IKE_SIG_ECDSA_P256, IKE_SIG_ECDSA_SHA256, IKE_HASH_SHA2_256 },
		{ IKE_SIG_ECDSA_P384, IKE_SIG_ECDSA_SHA384, IKE_HASH_SHA2_384 },
		{ IKE_SIG_ECDSA_P521, IKE_SIG_ECDSA_SHA512, IKE_HASH_SHA2_512 },
	};
	bool rsa = EVP_PKEY_is_a(key, "RSA"), ec = EVP_PKEY_is_a(key, "EC");
	size_t i;

	for (i = 0; ec && i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (!ike_auth_sig_fits(curves[i].legacy, key))
			continue;
		if (!have_mask) {
			/* No RFC 7427: methods 9-11. */
			*sig = curves[i].legacy;
			return true;
		}
		if (mask & (1u << curves[i].hash)) {
			*sig = curves[i].sig;
			return true;
		}
	}
	if (!have_mask) {
		*sig = IKE_SIG_RSA_SHA1;
		return rsa;
	}
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) {
		*sig = EVP_PKEY_is_a(key, "ED25519") ? IKE_SIG_ED25519 :
		    IKE_SIG_ED448;
		return (mask & (1u << IKE_HASH_IDENTITY)) != 0;
	}
	for (i = 0; i < sizeof(pref) / sizeof(pref[0]); i++) {
		if (!(mask & (1u << pref[i].hash)))
			continue;
		if (rsa || ec) {
			*sig = rsa ? pref[i].rsa : pref[i].ec;
			return true;
		}
	}
	return false;
}

int
ike_cert_check_ours(const uint8_t *der, size_t len, EVP_PKEY *key,
    uint8_t id_type, const uint8_t *id, size_t id_len, char *why,
    size_t why_cap)
{
	X509 *x = x509_parse(der, len);
	int rc = -1;

	if (x == NULL)
		snprintf(why, why_cap, "the certificate does not parse");
	else if (X509_check_private_key(x, key) != 1)
		snprintf(why, why_cap, "key does not match the certificate");
	else if (!ike_cert_id_match(x, id_type, id, id_len))
		snprintf(why, why_cap, "id is not in the certificate's "
		    "subjectAltName (or, for a dn, its subject)");
	else
		rc = 0;
	ERR_clear_error();
	X509_free(x);
	return rc;
}
