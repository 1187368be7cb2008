/*
 * IKE_AUTH with certificates at the responder (ike/exch_auth.c): our
 * certificate goes out first and our intermediates after it (RFC 7296
 * §3.6); an initiator's RFC 4754 ECDSA AUTH (method 9) is verified; an
 * initiator sending more CERT payloads than IKE_CERT_CHAIN_MAX is refused
 * with AUTHENTICATION_FAILED before any is parsed.  PKI: root -> mid ->
 * responder.test (ours), root -> initiator.test (the initiator's).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "framing/wire.h"
#include "ike/auth.h"
#include "ike/cert.h"
#include "ike/sa.h"
#include "test/unit/ike/initiator.h"

TestSuite(responder_cert);

struct ca {
	EVP_PKEY	*key;
	X509		*cert;
	uint8_t		*der;
	size_t		 len;
};

static struct ca root, mid, ours, theirs;
static struct ike_cert inter;

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

/* @cn's certificate issued by @by (NULL: self), a CA or with SAN @san. */
static void
mk(struct ca *c, const char *cn, const struct ca *by, const char *san)
{
	X509 *issuer;
	int n;

	c->key = EVP_EC_gen("P-256");
	c->cert = X509_new();
	cr_assert(c->key != NULL && c->cert != NULL);
	X509_set_version(c->cert, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(c->cert), 7);
	X509_gmtime_adj(X509_getm_notBefore(c->cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(c->cert), 3600);
	X509_set_pubkey(c->cert, c->key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c->cert), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	issuer = by != NULL ? by->cert : c->cert;
	X509_set_issuer_name(c->cert, X509_get_subject_name(issuer));
	if (san == NULL)
		add_ext(c->cert, issuer, NID_basic_constraints,
		    "critical,CA:TRUE");
	else
		add_ext(c->cert, issuer, NID_subject_alt_name, san);
	cr_assert(X509_sign(c->cert, by != NULL ? by->key : c->key,
	    EVP_sha256()) > 0);
	c->der = NULL;
	cr_assert((n = i2d_X509(c->cert, &c->der)) > 0);
	c->len = (size_t)n;
}

static void
ca_free(struct ca *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	OPENSSL_free(c->der);
}

static void
setup(void)
{
	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	mk(&root, "root", NULL, NULL);
	mk(&mid, "mid", &root, NULL);
	mk(&ours, "responder.test", &mid, "DNS:" RESP_ID);
	mk(&theirs, "initiator.test", &root, "DNS:" INI_ID);
	fx.conf.key = ours.key;
	fx.conf.cert = ours.der;
	fx.conf.cert_len = ours.len;
	inter.encoding = IKE_CERT_X509_SIG;
	inter.data.p = mid.der;
	inter.data.len = mid.len;
	fx.conf.inter = &inter;
	fx.conf.ninter = 1;
	cr_assert_not_null(fx.conf.ca = X509_STORE_new());
	cr_assert(X509_STORE_add_cert(fx.conf.ca, root.cert));
}

static void
teardown(void)
{
	X509_STORE_free(fx.conf.ca);
	ca_free(&root);
	ca_free(&mid);
	ca_free(&ours);
	ca_free(&theirs);
	ini_responder_teardown();
}

/* A transform of the one proposal (as initiator_test.c does). */
static void
xf(struct ike_sa_pl *sa, uint8_t type, uint16_t id, uint16_t bits)
{
	struct ike_xform *x = &sa->xforms[sa->nxforms++];

	memset(x, 0, sizeof(*x));
	x->type = type;
	x->id = id;
	x->key_length = bits;
	sa->proposals[0].nxforms++;
}

/*
 * IKE_AUTH {IDi, CERT x @ncert (the initiator's certificate), AUTH
 * (method 9 over its octets), CP(INTERNAL_IP4_ADDRESS), SA, TSi, TSr},
 * protected.
 */
static size_t
cert_auth_req(struct ini *I, size_t ncert, uint8_t *out, size_t cap)
{
	uint8_t inner[IKE_SA_MSG_MAX], idi_body[4 + 64];
	uint8_t auth_data[IKE_AUTH_SIG_MAX], *oct;
	struct ike_sa_pl *sa = calloc(1, sizeof(*sa));
	struct ike_builder b;
	struct ike_ts_pl tsi, tsr;
	struct ike_auth auth;
	struct ike_cert c;
	struct ike_id id;
	struct ike_cp cp;
	struct wr w = wr_make(inner, sizeof(inner));
	size_t oct_len, auth_len, i;

	cr_assert_not_null(sa);
	idi_body[0] = I->id_type;
	memset(idi_body + 1, 0, 3);
	memcpy(idi_body + 4, I->id, I->id_len);
	oct_len = ike_auth_octets_len(I->suite.prf, I->req1_len, I->nr_len);
	cr_assert_not_null(oct = malloc(oct_len));
	cr_assert_eq(ike_auth_octets(I->suite.prf, I->keys.sk_pi,
	    I->keys.prf_len, I->req1, I->req1_len, I->nr, I->nr_len, idi_body,
	    4 + I->id_len, oct, oct_len), 0);
	cr_assert_eq(ike_auth_sign(IKE_SIG_ECDSA_P256, theirs.key, oct,
	    oct_len, auth_data, sizeof(auth_data), &auth_len), 0);
	free(oct);

	ike_build_inner_init(&b, &w);
	memset(&id, 0, sizeof(id));
	id.type = I->id_type;
	id.data.p = I->id;
	id.data.len = I->id_len;
	cr_assert_eq(ike_build_id(&b, IKE_PL_IDI, &id), 0);
	c.encoding = IKE_CERT_X509_SIG;
	c.data.p = theirs.der;
	c.data.len = theirs.len;
	for (i = 0; i < ncert; i++)
		cr_assert_eq(ike_build_cert(&b, IKE_PL_CERT, &c), 0);
	auth.method = IKE_AUTH_ECDSA_SHA256_P256;
	auth.data.p = auth_data;
	auth.data.len = auth_len;
	cr_assert_eq(ike_build_auth(&b, &auth), 0);
	memset(&cp, 0, sizeof(cp));
	cp.type = IKE_CFG_REQUEST;
	cp.attrs[cp.nattrs++].type = IKE_CFG_INTERNAL_IP4_ADDRESS;
	cr_assert_eq(ike_build_cp(&b, &cp), 0);
	sa->nproposals = 1;
	sa->proposals[0].num = 1;
	sa->proposals[0].proto = IKE_PROTO_ESP;
	sa->proposals[0].spi_size = 4;
	memcpy(sa->proposals[0].spi, I->esp_spi, 4);
	xf(sa, IKE_XFORM_ENCR, IKE_ENCR_AES_GCM_16, 256);
	xf(sa, IKE_XFORM_ESN, IKE_ESN_NO, 0);
	cr_assert_eq(ike_build_sa(&b, sa), 0);
	memset(&tsi, 0, sizeof(tsi));
	memset(&tsr, 0, sizeof(tsr));
	ini_ts_set(&tsi.ts[tsi.count++], 0, 0xffffffff);
	tsr.ts[tsr.count++] = I->tsr;
	cr_assert_eq(ike_build_ts(&b, IKE_PL_TSI, &tsi), 0);
	cr_assert_eq(ike_build_ts(&b, IKE_PL_TSR, &tsr), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	free(sa);
	return ini_protect(I, IKE_EXCH_IKE_AUTH, 1, b.first, inner, w.len, out,
	    cap);
}

Test(responder_cert, sends_its_certificate_then_its_intermediates,
    .init = setup, .fini = teardown, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX], *oct;
	struct ike_out out;
	struct ike_sa *sa;
	struct ini I;
	size_t n, oct_len;

	cr_assert_not_null(m);
	ini_gcm(&I);
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	n = cert_auth_req(&I, 1, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_str_empty(out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_peer_auth(sa), IKE_SA_AUTH_CERT);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	/* §3.6: ours first (its key signs AUTH), then mid. */
	cr_assert_eq(m->pl.ncert, 2);
	cr_assert_eq(m->pl.cert[0].encoding, IKE_CERT_X509_SIG);
	cr_assert_eq(m->pl.cert[0].data.len, ours.len);
	cr_assert_arr_eq(m->pl.cert[0].data.p, ours.der, ours.len);
	cr_assert_eq(m->pl.cert[1].encoding, IKE_CERT_X509_SIG);
	cr_assert_eq(m->pl.cert[1].data.len, mid.len);
	cr_assert_arr_eq(m->pl.cert[1].data.p, mid.der, mid.len);
	/* The initiator sent SIGNATURE_HASH_ALGORITHMS: method 14. */
	cr_assert_eq(m->pl.auth.method, IKE_AUTH_DIGITAL_SIGNATURE);
	oct_len = ike_auth_octets_len(I.suite.prf, I.resp1_len, sizeof(I.ni));
	cr_assert_not_null(oct = malloc(oct_len));
	cr_assert_eq(ike_auth_octets(I.suite.prf, I.keys.sk_pr,
	    I.keys.prf_len, I.resp1, I.resp1_len, I.ni, sizeof(I.ni),
	    m->pl.idr.body.p, m->pl.idr.body.len, oct, oct_len), 0);
	cr_assert_eq(ike_auth_verify(IKE_AUTH_DIGITAL_SIGNATURE,
	    X509_get0_pubkey(ours.cert), m->pl.auth.data.p,
	    m->pl.auth.data.len, oct, oct_len), 0);
	free(oct);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
}

Test(responder_cert, refuses_more_cert_payloads_than_a_chain_needs,
    .init = setup, .fini = teardown, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_out out;
	struct ike_sa *sa;
	struct ini I;
	size_t n;

	cr_assert_not_null(m);
	ini_gcm(&I);
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	n = cert_auth_req(&I, IKE_CERT_CHAIN_MAX + 1, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_str_eq(out.reason, "9 CERT payloads, at most 8");
	cr_assert_eq(ike_sa_state(sa), IKE_SA_DEAD);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	cr_assert_not_null(ini_find_n(m, IKE_N_AUTHENTICATION_FAILED));
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
}
