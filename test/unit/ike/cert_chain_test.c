/*
 * ike/cert.c: our certificate file with its intermediates, the peer's
 * chain through the intermediates it sends, the bounds on what a peer
 * makes us verify, and certificate revocation lists.  A small PKI is
 * made here with OpenSSL: root -> mid -> leaf, P-256 keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ike/cert.h"
#include "ike/ikev2.h"

enum {
	REASON_MAX	= 128	/* as IKE_SA_REASON_MAX */
};

struct ca {
	EVP_PKEY	*key;
	X509		*cert;
};

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	cr_assert_not_null(e = X509V3_EXT_conf_nid(NULL, &v3, nid, value));
	cr_assert(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* A certificate for @cn issued by @by (NULL: self-signed); @ca: a CA. */
static struct ca
mk(const char *cn, const struct ca *by, bool ca, long serial)
{
	struct ca c;
	X509 *issuer;

	c.key = EVP_EC_gen("P-256");
	c.cert = X509_new();
	cr_assert(c.key != NULL && c.cert != NULL);
	X509_set_version(c.cert, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(c.cert), serial);
	X509_gmtime_adj(X509_getm_notBefore(c.cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(c.cert), 3600);
	X509_set_pubkey(c.cert, c.key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c.cert), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	issuer = by != NULL ? by->cert : c.cert;
	X509_set_issuer_name(c.cert, X509_get_subject_name(issuer));
	if (ca) {
		add_ext(c.cert, issuer, NID_basic_constraints,
		    "critical,CA:TRUE");
		add_ext(c.cert, issuer, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	}
	cr_assert(X509_sign(c.cert, by != NULL ? by->key : c.key,
	    EVP_sha256()) > 0);
	return c;
}

static void
ca_free(struct ca *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
}

/* A CRL of @by revoking @serials[0..n), valid until now + @next s. */
static X509_CRL *
mk_crl(const struct ca *by, EVP_PKEY *signer, const long *serials, size_t n,
    long next)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	size_t i;

	cr_assert(crl != NULL && t != NULL);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(by->cert));
	X509_gmtime_adj(t, next - 7200);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, next);
	X509_CRL_set1_nextUpdate(crl, t);
	for (i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		ASN1_INTEGER_set(s, serials[i]);
		X509_REVOKED_set_serialNumber(r, s);
		X509_gmtime_adj(t, -60);
		X509_REVOKED_set_revocationDate(r, t);
		cr_assert(X509_CRL_add0_revoked(crl, r));
		ASN1_INTEGER_free(s);
	}
	X509_CRL_sort(crl);
	cr_assert(X509_CRL_sign(crl, signer != NULL ? signer : by->key,
	    EVP_sha256()) > 0);
	ASN1_TIME_free(t);
	return crl;
}

static FILE *
tmp(char *path)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/iketcp-chain-XXXXXX");
	cr_assert((fd = mkstemp(path)) != -1);
	cr_assert_not_null(f = fdopen(fd, "w"));
	return f;
}

/* A PEM file of @n certificates. */
static void
pem_certs(char *path, X509 *const *certs, size_t n)
{
	FILE *f = tmp(path);
	size_t i;

	for (i = 0; i < n; i++)
		cr_assert(PEM_write_X509(f, certs[i]));
	fclose(f);
}

static X509_STORE *
store_of(const struct ca *root)
{
	char path[64];
	X509_STORE *st;

	pem_certs(path, &root->cert, 1);
	cr_assert_not_null(st = ike_cert_store_load(path));
	unlink(path);
	return st;
}

/* The peer's CERT payloads: DER of each certificate, kept in @der. */
static void
certs_of(X509 *const *x, size_t n, struct ike_cert *out, uint8_t **der)
{
	size_t i;
	int len;

	for (i = 0; i < n; i++) {
		der[i] = NULL;
		cr_assert((len = i2d_X509(x[i], &der[i])) > 0);
		out[i].encoding = IKE_CERT_X509_SIG;
		out[i].data.p = der[i];
		out[i].data.len = (size_t)len;
	}
}

static bool
verifies(X509_STORE *st, X509 *const *x, size_t n, char *why, size_t cap)
{
	struct ike_cert c[16];
	uint8_t *der[16];
	X509 *ee;
	size_t i;

	cr_assert(n <= 16);
	certs_of(x, n, c, der);
	why[0] = '\0';
	ee = ike_cert_verify(st, c, n, why, cap);
	for (i = 0; i < n; i++)
		OPENSSL_free(der[i]);
	X509_free(ee);
	return ee != NULL;
}

Test(ike_cert, loads_our_certificate_then_its_intermediates, .timeout = 10)
{
	struct ca root = mk("root", NULL, true, 1);
	struct ca mid = mk("mid", &root, true, 2);
	struct ca leaf = mk("vpn.test", &mid, false, 3);
	X509 *ok[] = { leaf.cert, mid.cert, root.cert };
	X509 *wrong[] = { leaf.cert, root.cert };
	struct ike_cert_chain ch;
	char path[64], why[IKE_CERT_WHY_MAX];
	uint8_t *der = NULL;
	int len;

	pem_certs(path, ok, 3);
	cr_assert_eq(ike_cert_chain_load(path, &ch, why, sizeof(why)), 0,
	    "%s", why);
	unlink(path);
	cr_assert_eq(ch.n, 3);
	/* §3.6: ours first, as the file has it. */
	len = i2d_X509(leaf.cert, &der);
	cr_assert_eq(ch.len[0], (size_t)len);
	cr_assert_eq(memcmp(ch.der[0], der, (size_t)len), 0);
	OPENSSL_free(der);
	ike_cert_chain_free(&ch);
	cr_assert_eq(ch.n, 0);
	/* The second certificate must have issued the first. */
	pem_certs(path, wrong, 2);
	cr_assert_eq(ike_cert_chain_load(path, &ch, why, sizeof(why)), -1);
	cr_assert(strstr(why, "certificate 2 (/CN=root) is not the issuer") !=
	    NULL, "%s", why);
	cr_assert_eq(ch.n, 0);
	unlink(path);
	ca_free(&leaf);
	ca_free(&mid);
	ca_free(&root);
}

Test(ike_cert, refuses_a_bad_certificate_file, .timeout = 10)
{
	struct ca root = mk("root", NULL, true, 1);
	X509 *many[IKE_CERT_CHAIN_MAX + 1];
	struct ike_cert_chain ch;
	char path[64], why[IKE_CERT_WHY_MAX];
	FILE *f;
	size_t i;

	/* A self-signed root issues itself: only the count is wrong. */
	for (i = 0; i < IKE_CERT_CHAIN_MAX + 1; i++)
		many[i] = root.cert;
	pem_certs(path, many, IKE_CERT_CHAIN_MAX + 1);
	cr_assert_eq(ike_cert_chain_load(path, &ch, why, sizeof(why)), -1);
	cr_assert(strstr(why, "more than 8 certificates") != NULL, "%s", why);
	unlink(path);
	pem_certs(path, many, IKE_CERT_CHAIN_MAX);
	cr_assert_eq(ike_cert_chain_load(path, &ch, why, sizeof(why)), 0);
	ike_cert_chain_free(&ch);
	unlink(path);
	f = tmp(path);
	fclose(f);
	cr_assert_eq(ike_cert_chain_load(path, &ch, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "no PEM certificate");
	unlink(path);
	f = tmp(path);
	cr_assert(PEM_write_X509(f, root.cert));
	fputs("-----BEGIN CERTIFICATE-----\nnot base64!\n"
	    "-----END CERTIFICATE-----\n", f);
	fclose(f);
	cr_assert_eq(ike_cert_chain_load(path, &ch, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "bad PEM after 1 certificates");
	unlink(path);
	cr_assert_eq(ike_cert_chain_load("/nonexistent/x.pem", &ch, why,
	    sizeof(why)), -1);
	ca_free(&root);
}

Test(ike_cert, verifies_a_peer_through_the_intermediates_it_sends,
    .timeout = 10)
{
	struct ca root = mk("root", NULL, true, 1);
	struct ca mid = mk("mid", &root, true, 2);
	struct ca leaf = mk("initiator.test", &mid, false, 3);
	X509 *both[] = { leaf.cert, mid.cert };
	X509_STORE *st = store_of(&root);
	char why[REASON_MAX];

	cr_assert(verifies(st, both, 2, why, sizeof(why)), "%s", why);
	/* Without the intermediate the chain stops short of the root. */
	cr_assert_not(verifies(st, both, 1, why, sizeof(why)));
	cr_assert(strstr(why, "not trusted: unable to get local issuer") !=
	    NULL, "%s", why);
	X509_STORE_free(st);
	ca_free(&leaf);
	ca_free(&mid);
	ca_free(&root);
}

Test(ike_cert, bounds_the_certificates_a_peer_makes_us_verify,
    .timeout = 20)
{
	struct ca ca[IKE_CERT_DEPTH_MAX + 3];
	X509 *x[IKE_CERT_DEPTH_MAX + 3], *many[IKE_CERT_CHAIN_MAX + 1];
	X509_STORE *st;
	char why[REASON_MAX], cn[16];
	size_t i, n = IKE_CERT_DEPTH_MAX + 3;

	/* ca[0] the root, ca[1 .. n-2] intermediates, ca[n-1] the leaf. */
	ca[0] = mk("root", NULL, true, 1);
	for (i = 1; i < n; i++) {
		snprintf(cn, sizeof(cn), "c%zu", i);
		ca[i] = mk(cn, &ca[i - 1], i < n - 1, (long)i + 1);
	}
	for (i = 0; i < n - 1; i++)
		x[i] = ca[n - 1 - i].cert;	/* leaf first, root left out */
	st = store_of(&ca[0]);
	/* IKE_CERT_DEPTH_MAX intermediates: the leaf and c1..c4. */
	cr_assert(verifies(st, x + 1, n - 2, why, sizeof(why)), "%s", why);
	/* One more is refused. */
	cr_assert_not(verifies(st, x, n - 1, why, sizeof(why)));
	cr_assert(strstr(why, "chain too long") != NULL, "%s", why);
	/* More CERT payloads than IKE_CERT_CHAIN_MAX: none is parsed. */
	for (i = 0; i < IKE_CERT_CHAIN_MAX + 1; i++)
		many[i] = x[n - 2];
	cr_assert_not(verifies(st, many, IKE_CERT_CHAIN_MAX + 1, why,
	    sizeof(why)));
	cr_assert_str_eq(why, "9 CERT payloads, at most 8");
	X509_STORE_free(st);
	for (i = 0; i < n; i++)
		ca_free(&ca[i]);
}

/* Writes @crl as PEM (or DER) and adds it to @st. */
static int
crl_add(X509_STORE *st, X509_CRL *crl, bool der, size_t *stale, char *why,
    size_t cap)
{
	char path[64];
	FILE *f = tmp(path);
	int n;

	cr_assert(der ? i2d_X509_CRL_fp(f, crl) : PEM_write_X509_CRL(f, crl));
	fclose(f);
	n = ike_cert_crl_load(st, path, time(NULL), stale, why, cap);
	unlink(path);
	return n;
}

Test(ike_cert, refuses_what_a_crl_revokes, .timeout = 20)
{
	struct ca root = mk("root", NULL, true, 1);
	struct ca mid = mk("mid", &root, true, 2);
	struct ca good = mk("good.test", &mid, false, 3);
	struct ca bad = mk("bad.test", &mid, false, 4);
	struct ca other = mk("other", NULL, true, 5);
	X509 *g[] = { good.cert, mid.cert }, *b[] = { bad.cert, mid.cert };
	long revoked = 4, mid_serial = 2;
	X509_STORE *st = store_of(&root);
	X509_CRL *crl;
	char why[REASON_MAX];
	size_t stale;

	/* mid's CRL, in DER, revokes bad.test; the root has no CRL. */
	crl = mk_crl(&mid, NULL, &revoked, 1, 3600);
	cr_assert_eq(crl_add(st, crl, true, &stale, why, sizeof(why)), 1,
	    "%s", why);
	X509_CRL_free(crl);
	cr_assert_eq(stale, 0);
	cr_assert(verifies(st, g, 2, why, sizeof(why)), "%s", why);
	cr_assert_not(verifies(st, b, 2, why, sizeof(why)));
	cr_assert_str_eq(why, "certificate /CN=bad.test not trusted: "
	    "certificate revoked");
	/* The root's CRL (PEM) revokes mid: all of mid's are refused. */
	crl = mk_crl(&root, NULL, &mid_serial, 1, 3600);
	cr_assert_eq(crl_add(st, crl, false, &stale, why, sizeof(why)), 1,
	    "%s", why);
	X509_CRL_free(crl);
	cr_assert_not(verifies(st, g, 2, why, sizeof(why)));
	cr_assert_str_eq(why, "certificate /CN=good.test not trusted: "
	    "certificate revoked (/CN=mid)");
	X509_STORE_free(st);
	/* A CRL naming the root but signed by another key: refused. */
	st = store_of(&root);
	crl = mk_crl(&root, other.key, NULL, 0, 3600);
	cr_assert_eq(crl_add(st, crl, false, &stale, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "the CRL of /CN=root does not verify with "
	    "that CA's key");
	X509_CRL_free(crl);
	/* Another CA's CRL: nothing of ours is checked against it. */
	crl = mk_crl(&other, NULL, &revoked, 1, 3600);
	cr_assert_eq(crl_add(st, crl, false, &stale, why, sizeof(why)), 1);
	X509_CRL_free(crl);
	cr_assert(verifies(st, b, 2, why, sizeof(why)), "%s", why);
	X509_STORE_free(st);
	ca_free(&root);
	ca_free(&mid);
	ca_free(&good);
	ca_free(&bad);
	ca_free(&other);
}

Test(ike_cert, a_stale_crl_still_revokes, .timeout = 20)
{
	struct ca root = mk("root", NULL, true, 1);
	struct ca good = mk("good.test", &root, false, 3);
	struct ca bad = mk("bad.test", &root, false, 4);
	X509 *g[] = { good.cert }, *b[] = { bad.cert };
	X509_STORE *st = store_of(&root);
	long revoked = 4;
	X509_CRL *crl;
	char why[REASON_MAX], path[64];
	size_t stale;
	FILE *f;

	/* Past its nextUpdate an hour ago, and a fresh one, in one file. */
	f = tmp(path);
	crl = mk_crl(&root, NULL, &revoked, 1, -3600);
	cr_assert(PEM_write_X509_CRL(f, crl));
	X509_CRL_free(crl);
	crl = mk_crl(&root, NULL, NULL, 0, 3600);
	cr_assert(PEM_write_X509_CRL(f, crl));
	X509_CRL_free(crl);
	fclose(f);
	cr_assert_eq(ike_cert_crl_load(st, path, time(NULL), &stale, why,
	    sizeof(why)), 2, "%s", why);
	cr_assert_eq(stale, 1);
	unlink(path);
	X509_STORE_free(st);
	/* The stale one alone: bad.test stays revoked, good.test passes. */
	st = store_of(&root);
	crl = mk_crl(&root, NULL, &revoked, 1, -3600);
	cr_assert_eq(crl_add(st, crl, false, &stale, why, sizeof(why)), 1);
	X509_CRL_free(crl);
	cr_assert_eq(stale, 1);
	cr_assert(verifies(st, g, 1, why, sizeof(why)), "%s", why);
	cr_assert_not(verifies(st, b, 1, why, sizeof(why)));
	cr_assert(strstr(why, "certificate revoked") != NULL, "%s", why);
	X509_STORE_free(st);
	/* Neither PEM nor DER. */
	st = store_of(&root);
	f = tmp(path);
	fputs("garbage\n", f);
	fclose(f);
	cr_assert_eq(ike_cert_crl_load(st, path, time(NULL), &stale, why,
	    sizeof(why)), -1);
	cr_assert_str_eq(why, "no PEM or DER CRL");
	unlink(path);
	X509_STORE_free(st);
	ca_free(&root);
	ca_free(&good);
	ca_free(&bad);
}
