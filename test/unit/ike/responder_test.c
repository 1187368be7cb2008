/*
 * ike/sa.c and the exchanges: a minimal test-only initiator, built from
 * the same codec and crypto, runs IKE_SA_INIT, IKE_AUTH (PSK, CP, first
 * Child SA) and INFORMATIONAL against the responder and checks what both
 * sides derived; then one test per rejection path.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/rand.h>

#include "framing/wire.h"
#include "ike/auth.h"
#include "ike/cp.h"
#include "ike/dh.h"
#include "ike/sa.h"
#include "ike/sk.h"

TestSuite(responder);

#define PSK		"loopback-test-psk"
#define INI_ID		"initiator.test"
#define RESP_ID		"responder.test"

/* ---- the responder's side ------------------------------------------ */

static struct {
	struct ike_prop	 ike[2], esp[2];
	struct ike_sa_conf conf;
	uint32_t	 spi_next;
	struct ike_endpoint local, remote;
} R;

static int
psk_cb(void *arg, uint8_t type, const uint8_t *id, size_t len,
    uint8_t *psk, size_t cap, size_t *psk_len)
{
	static const struct {
		uint8_t		 type;
		const char	*id;
		size_t		 len;
	} known[] = {
		{ IKE_ID_FQDN, INI_ID, sizeof(INI_ID) - 1 },
		{ IKE_ID_RFC822_ADDR, "user@" INI_ID, sizeof(INI_ID) + 4 },
		{ IKE_ID_KEY_ID, "\x01\x02\x03", 3 },
		{ IKE_ID_IPV4_ADDR, "\xc0\x00\x02\x01", 4 },
		{ IKE_ID_IPV6_ADDR, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1",
		    16 },
	};
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (type == known[i].type && len == known[i].len &&
		    memcmp(id, known[i].id, len) == 0)
			break;
	if (i == sizeof(known) / sizeof(known[0]) || cap < strlen(PSK))
		return -1;
	memcpy(psk, PSK, strlen(PSK));
	*psk_len = strlen(PSK);
	return 0;
}

/* Counts from 0: the responder must skip 0 and take 1. */
static uint32_t
spi_cb(void *arg)
{
	uint32_t *n = arg;

	return (*n)++;
}

static void
ts_set(struct ike_ts *ts, uint32_t start, uint32_t end)
{
	memset(ts, 0, sizeof(*ts));
	ts->type = IKE_TS_IPV4_ADDR_RANGE;
	ts->end_port = 0xffff;
	store_be32(ts->start, start);
	store_be32(ts->end, end);
}

static void
responder_setup(const char *ike, const char *esp)
{
	char err[IKE_PROP_ERR_MAX];

	memset(&R, 0, sizeof(R));
	cr_assert(ike_proposal_parse(IKE_PROTO_IKE, ike, &R.ike[0], err,
	    sizeof(err)), "%s", err);
	cr_assert(ike_proposal_parse(IKE_PROTO_ESP, esp, &R.esp[0], err,
	    sizeof(err)), "%s", err);
	R.conf.ike = R.ike;
	R.conf.nike = 1;
	R.conf.esp = R.esp;
	R.conf.nesp = 1;
	R.conf.id_type = IKE_ID_FQDN;
	R.conf.id = (const uint8_t *)RESP_ID;
	R.conf.id_len = strlen(RESP_ID);
	R.conf.psk = psk_cb;
	R.conf.spi = spi_cb;
	R.conf.spi_arg = &R.spi_next;
	R.conf.pool = ike_pool_new("10.10.0.0/24", err, sizeof(err));
	cr_assert_not_null(R.conf.pool, "%s", err);
	R.conf.dns[0] = 0x0a0a0035;	/* 10.10.0.53 */
	R.conf.ndns = 1;
	ts_set(&R.conf.local_ts, 0, 0xffffffff);
	memset(R.conf.cookie_secret, 0x5a, sizeof(R.conf.cookie_secret));
	R.local.family = R.remote.family = 4;
	memcpy(R.local.addr, "\xc0\x00\x02\x02", 4);
	memcpy(R.remote.addr, "\xc0\x00\x02\x01", 4);
	R.local.port = 4500;
	R.remote.port = 4500;
}

static void
responder_teardown(void)
{
	ike_pool_free(R.conf.pool);
}

/* ---- a minimal initiator ------------------------------------------- */

struct ini {
	struct ike_suite prop;		/* what we offer for the IKE SA */
	uint16_t	 dh[2];		/* groups offered */
	size_t		 ndh;
	uint16_t	 ke_group;	/* the KE we send */
	struct ike_suite suite;		/* what the responder chose */
	uint64_t	 spi_i, spi_r;
	struct ike_kex	*kex;
	uint8_t		 ni[32];
	uint8_t		 nr[IKE_NONCE_MAX];
	size_t		 nr_len;
	uint8_t		 req1[IKE_SA_MSG_MAX], resp1[IKE_SA_MSG_MAX];
	size_t		 req1_len, resp1_len;
	struct ike_keys	 keys;
	struct ike_sk	 sk_out, sk_in;
	const char	*psk;
	uint8_t		 id_type;	/* IDi */
	const uint8_t	*id;
	size_t		 id_len;
	bool		 no_cp;		/* no CFG_REQUEST */
	uint8_t		 esp_spi[4];	/* our inbound ESP SPI */
	struct ike_ts	 tsr;		/* TSr we ask for */
	uint8_t		 cookie[64];
	size_t		 cookie_len;
	uint8_t		 esp_encr;	/* ESP offer */
	uint16_t	 esp_bits;
	uint8_t		 esp_integ;
};

static void
ini_gcm(struct ini *I)
{
	memset(I, 0, sizeof(*I));
	I->prop.encr = IKE_ENCR_AES_GCM_16;
	I->prop.encr_bits = 256;
	I->prop.prf = IKE_PRF_HMAC_SHA2_384;
	I->prop.integ = IKE_INTEG_NONE;
	I->dh[0] = IKE_DH_CURVE25519;
	I->ndh = 1;
	I->ke_group = IKE_DH_CURVE25519;
	I->spi_i = 0x0123456789abcdefULL;
	I->psk = PSK;
	I->id_type = IKE_ID_FQDN;
	I->id = (const uint8_t *)INI_ID;
	I->id_len = strlen(INI_ID);
	memcpy(I->esp_spi, "\xc0\x01\xd0\x0d", 4);
	ts_set(&I->tsr, 0, 0xffffffff);
	I->esp_encr = IKE_ENCR_AES_GCM_16;
	I->esp_bits = 256;
	I->esp_integ = IKE_INTEG_NONE;
	cr_assert_eq(RAND_bytes(I->ni, sizeof(I->ni)), 1);
}

static void
ini_free(struct ini *I)
{
	ike_kex_free(I->kex);
	ike_keys_cleanse(&I->keys);
	ike_sk_cleanup(&I->sk_in);
	ike_sk_cleanup(&I->sk_out);
}

static void
notify(struct ike_builder *b, uint16_t type, const void *data, size_t len)
{
	struct ike_notify n;

	memset(&n, 0, sizeof(n));
	n.type = type;
	n.data.p = data;
	n.data.len = len;
	cr_assert_eq(ike_build_notify(b, &n), 0);
}

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

/* IKE_SA_INIT request into I->req1. */
static void
ini_init_req(struct ini *I)
{
	static const uint8_t algs[] = { 0, 2, 0, 3, 0, 4 };
	uint8_t pub[IKE_KEX_PUB_MAX], natd[20];
	struct ike_sa_pl *sa = calloc(1, sizeof(*sa));
	struct ike_builder b;
	struct ike_hdr h;
	struct ike_ke ke;
	struct wr w;
	size_t i, pub_len = ike_kex_pub_len(I->ke_group);

	cr_assert_not_null(sa);
	ike_kex_free(I->kex);
	I->kex = ike_kex_new(I->ke_group, 0);
	cr_assert_not_null(I->kex);
	cr_assert_eq(ike_kex_public(I->kex, pub, pub_len), 0);
	memset(&h, 0, sizeof(h));
	h.spi_i = I->spi_i;
	h.exchange = IKE_EXCH_IKE_SA_INIT;
	h.flags = IKE_FLAG_INITIATOR;
	w = wr_make(I->req1, sizeof(I->req1));
	ike_build_init(&b, &w, &h);
	if (I->cookie_len > 0)
		notify(&b, IKE_N_COOKIE, I->cookie, I->cookie_len);
	sa->nproposals = 1;
	sa->proposals[0].num = 1;
	sa->proposals[0].proto = IKE_PROTO_IKE;
	xf(sa, IKE_XFORM_ENCR, (uint16_t)I->prop.encr,
	    (uint16_t)I->prop.encr_bits);
	xf(sa, IKE_XFORM_PRF, (uint16_t)I->prop.prf, 0);
	if (I->prop.integ != IKE_INTEG_NONE)
		xf(sa, IKE_XFORM_INTEG, (uint16_t)I->prop.integ, 0);
	for (i = 0; i < I->ndh; i++)
		xf(sa, IKE_XFORM_DH, I->dh[i], 0);
	cr_assert_eq(ike_build_sa(&b, sa), 0);
	ke.group = I->ke_group;
	ke.data.p = pub;
	ke.data.len = pub_len;
	cr_assert_eq(ike_build_ke(&b, &ke), 0);
	cr_assert_eq(ike_build_nonce(&b, I->ni, sizeof(I->ni)), 0);
	memset(natd, 0x77, sizeof(natd));
	notify(&b, IKE_N_NAT_DETECTION_SOURCE_IP, natd, sizeof(natd));
	notify(&b, IKE_N_NAT_DETECTION_DESTINATION_IP, natd, sizeof(natd));
	notify(&b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	notify(&b, IKE_N_SIGNATURE_HASH_ALGORITHMS, algs, sizeof(algs));
	cr_assert_eq(ike_build_finish(&b), 0);
	I->req1_len = w.len;
	free(sa);
}

static const struct ike_notify *
find_n(const struct ike_msg *m, uint16_t type)
{
	size_t i;

	for (i = 0; i < m->pl.nnotify; i++)
		if (m->pl.notify[i].type == type)
			return &m->pl.notify[i];
	return NULL;
}

/* Takes the IKE_SA_INIT response: suite, SPIr, Nr, keys. */
static void
ini_init_resp(struct ini *I, const uint8_t *msg, size_t len)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	const struct ike_xform *x;
	uint8_t gir[IKE_KEX_SECRET_MAX], spii[8], spir[8];
	size_t i, gir_len;

	cr_assert_not_null(m);
	cr_assert_eq(ike_msg_parse(msg, len, m), IKE_PARSE_OK);
	cr_assert_eq(m->hdr.flags, IKE_FLAG_RESPONSE);
	cr_assert_eq(m->hdr.spi_i, I->spi_i);
	cr_assert_neq(m->hdr.spi_r, 0);
	cr_assert_eq(m->pl.have & (IKE_HAVE_SA | IKE_HAVE_KE | IKE_HAVE_NONCE),
	    IKE_HAVE_SA | IKE_HAVE_KE | IKE_HAVE_NONCE);
	cr_assert_eq(m->pl.sa.nproposals, 1);
	cr_assert_eq(m->pl.sa.proposals[0].spi_size, 0);
	memset(&I->suite, 0, sizeof(I->suite));
	for (i = 0; i < m->pl.sa.proposals[0].nxforms; i++) {
		x = &m->pl.sa.xforms[m->pl.sa.proposals[0].xform_first + i];
		switch (x->type) {
		case IKE_XFORM_ENCR:
			I->suite.encr = x->id;
			I->suite.encr_bits = x->key_length;
			break;
		case IKE_XFORM_PRF:
			I->suite.prf = x->id;
			break;
		case IKE_XFORM_INTEG:
			I->suite.integ = x->id;
			break;
		case IKE_XFORM_DH:
			I->suite.dh = x->id;
			break;
		}
	}
	cr_assert_eq(m->pl.ke.group, I->ke_group);
	cr_assert_not_null(find_n(m, IKE_N_NAT_DETECTION_SOURCE_IP));
	cr_assert_not_null(find_n(m, IKE_N_NAT_DETECTION_DESTINATION_IP));
	cr_assert_not_null(find_n(m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED));
	cr_assert_not_null(find_n(m, IKE_N_SIGNATURE_HASH_ALGORITHMS));
	I->spi_r = m->hdr.spi_r;
	memcpy(I->nr, m->pl.nonce.p, m->pl.nonce.len);
	I->nr_len = m->pl.nonce.len;
	gir_len = ike_kex_secret_len(I->ke_group);
	cr_assert_eq(ike_kex_derive(I->kex, m->pl.ke.data.p,
	    m->pl.ke.data.len, gir, gir_len), 0);
	store_be32(spii, (uint32_t)(I->spi_i >> 32));
	store_be32(spii + 4, (uint32_t)I->spi_i);
	store_be32(spir, (uint32_t)(I->spi_r >> 32));
	store_be32(spir + 4, (uint32_t)I->spi_r);
	cr_assert_eq(ike_keys_new_sa(&I->suite, I->ni, sizeof(I->ni), I->nr,
	    I->nr_len, gir, gir_len, spii, spir, &I->keys), 0);
	cr_assert_eq(ike_sk_init_pair(&I->sk_out, &I->sk_in, &I->suite,
	    &I->keys, true), 0);
	memcpy(I->resp1, msg, len);
	I->resp1_len = len;
	free(m);
}

/* A protected request carrying @inner. */
static size_t
ini_protect(struct ini *I, uint8_t exch, uint32_t msgid, uint8_t first,
    const uint8_t *inner, size_t inner_len, uint8_t *out, size_t cap)
{
	struct ike_builder b;
	struct ike_hdr h;
	struct wr w = wr_make(out, cap);
	uint8_t *body;
	size_t body_len = ike_sk_len(&I->sk_out, inner_len);

	memset(&h, 0, sizeof(h));
	h.spi_i = I->spi_i;
	h.spi_r = I->spi_r;
	h.exchange = exch;
	h.flags = IKE_FLAG_INITIATOR;
	h.msgid = msgid;
	ike_build_init(&b, &w, &h);
	cr_assert_eq(ike_build_sk(&b, first, body_len, &body), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(ike_sk_protect(&I->sk_out, out, (size_t)(body - out),
	    inner, inner_len, body_len), 0);
	return w.len;
}

/* Fragment @num of @total (RFC 7383 §2.5) carrying @part. */
static size_t
ini_protect_frag(struct ini *I, uint32_t msgid, uint8_t first, uint16_t num,
    uint16_t total, const uint8_t *part, size_t part_len, uint8_t *out,
    size_t cap)
{
	struct ike_builder b;
	struct ike_hdr h;
	struct wr w = wr_make(out, cap);
	uint8_t *body;
	size_t body_len = ike_sk_len(&I->sk_out, part_len);

	memset(&h, 0, sizeof(h));
	h.spi_i = I->spi_i;
	h.spi_r = I->spi_r;
	h.exchange = IKE_EXCH_IKE_AUTH;
	h.flags = IKE_FLAG_INITIATOR;
	h.msgid = msgid;
	ike_build_init(&b, &w, &h);
	cr_assert_eq(ike_build_skf(&b, num == 1 ? first : 0, num, total,
	    body_len, &body), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(ike_sk_protect(&I->sk_out, out, (size_t)(body - out),
	    part, part_len, body_len), 0);
	return w.len;
}

/* Decrypts a protected response into @m (inner chain in @plain). */
static void
ini_open(struct ini *I, const uint8_t *msg, size_t len, uint32_t msgid,
    struct ike_msg *m, uint8_t *plain)
{
	size_t plain_len;

	cr_assert_eq(ike_msg_parse(msg, len, m), IKE_PARSE_OK);
	cr_assert_eq(m->hdr.flags, IKE_FLAG_RESPONSE);
	cr_assert_eq(m->hdr.msgid, msgid);
	cr_assert_eq(m->hdr.spi_r, I->spi_r);
	cr_assert(m->pl.have & IKE_HAVE_SK);
	cr_assert_eq(ike_sk_unprotect(&I->sk_in, msg,
	    m->pl.sk.hdr_off + IKE_GENHDR_LEN, len, plain, len, &plain_len), 0);
	cr_assert_eq(ike_payloads_parse(m->pl.sk.inner, plain, plain_len, m),
	    IKE_PARSE_OK);
}

/*
 * The IKE_AUTH request (message ID 1); with @frag, its plaintext is left
 * in frag->inner / frag->len / frag->first and nothing is protected.
 */
struct plain_req {
	uint8_t		 inner[2048];
	size_t		 len;
	uint8_t		 first;
};

static size_t
ini_auth_req_ex(struct ini *I, uint8_t *out, size_t cap,
    struct plain_req *frag)
{
	uint8_t inner[2048], idi_body[4 + 64];
	uint8_t auth_data[IKE_PRF_OUT_MAX], *oct;
	struct ike_sa_pl *sa = calloc(1, sizeof(*sa));
	struct ike_builder b;
	struct ike_ts_pl tsi, tsr;
	struct ike_auth auth;
	struct ike_id id;
	struct ike_cp cp;
	struct wr w = wr_make(inner, sizeof(inner));
	size_t oct_len, n;

	cr_assert_not_null(sa);
	cr_assert_leq(I->id_len, 64);
	idi_body[0] = I->id_type;
	memset(idi_body + 1, 0, 3);
	memcpy(idi_body + 4, I->id, I->id_len);
	oct_len = ike_auth_octets_len(I->suite.prf, I->req1_len, I->nr_len);
	oct = malloc(oct_len);
	cr_assert_eq(ike_auth_octets(I->suite.prf, I->keys.sk_pi,
	    I->keys.prf_len, I->req1, I->req1_len, I->nr, I->nr_len, idi_body,
	    4 + I->id_len, oct, oct_len), 0);
	cr_assert_eq(ike_auth_psk(I->suite.prf, (const uint8_t *)I->psk,
	    strlen(I->psk), oct, oct_len, auth_data), 0);
	free(oct);

	ike_build_inner_init(&b, &w);
	memset(&id, 0, sizeof(id));
	id.type = I->id_type;
	id.data.p = I->id;
	id.data.len = I->id_len;
	cr_assert_eq(ike_build_id(&b, IKE_PL_IDI, &id), 0);
	id.type = IKE_ID_FQDN;
	id.data.p = (const uint8_t *)RESP_ID;
	id.data.len = strlen(RESP_ID);
	cr_assert_eq(ike_build_id(&b, IKE_PL_IDR, &id), 0);
	auth.method = IKE_AUTH_SHARED_KEY_MIC;
	auth.data.p = auth_data;
	auth.data.len = ike_prf_len(I->suite.prf);
	cr_assert_eq(ike_build_auth(&b, &auth), 0);
	memset(&cp, 0, sizeof(cp));
	cp.type = IKE_CFG_REQUEST;
	cp.nattrs = 2;
	cp.attrs[0].type = IKE_CFG_INTERNAL_IP4_ADDRESS;
	cp.attrs[1].type = IKE_CFG_INTERNAL_IP4_DNS;
	if (!I->no_cp)
		cr_assert_eq(ike_build_cp(&b, &cp), 0);
	notify(&b, IKE_N_INITIAL_CONTACT, NULL, 0);
	sa->nproposals = 1;
	sa->proposals[0].num = 1;
	sa->proposals[0].proto = IKE_PROTO_ESP;
	sa->proposals[0].spi_size = 4;
	memcpy(sa->proposals[0].spi, I->esp_spi, 4);
	xf(sa, IKE_XFORM_ENCR, I->esp_encr, I->esp_bits);
	if (I->esp_integ != IKE_INTEG_NONE)
		xf(sa, IKE_XFORM_INTEG, I->esp_integ, 0);
	xf(sa, IKE_XFORM_ESN, IKE_ESN_NO, 0);
	cr_assert_eq(ike_build_sa(&b, sa), 0);
	memset(&tsi, 0, sizeof(tsi));
	tsi.count = 1;
	ts_set(&tsi.ts[0], 0, 0xffffffff);
	memset(&tsr, 0, sizeof(tsr));
	tsr.count = 1;
	tsr.ts[0] = I->tsr;
	cr_assert_eq(ike_build_ts(&b, IKE_PL_TSI, &tsi), 0);
	cr_assert_eq(ike_build_ts(&b, IKE_PL_TSR, &tsr), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	free(sa);
	if (frag != NULL) {
		memcpy(frag->inner, inner, w.len);
		frag->len = w.len;
		frag->first = b.first;
		return 0;
	}
	n = ini_protect(I, IKE_EXCH_IKE_AUTH, 1, b.first, inner, w.len, out,
	    cap);
	return n;
}

static size_t
ini_auth_req(struct ini *I, uint8_t *out, size_t cap)
{
	return ini_auth_req_ex(I, out, cap, NULL);
}

/* Checks the responder's AUTH in an IKE_AUTH response. */
static void
ini_check_auth(struct ini *I, const struct ike_msg *m)
{
	size_t oct_len = ike_auth_octets_len(I->suite.prf, I->resp1_len,
	    sizeof(I->ni));
	uint8_t *oct = malloc(oct_len);

	cr_assert(m->pl.have & IKE_HAVE_IDR);
	cr_assert(m->pl.have & IKE_HAVE_AUTH);
	cr_assert_eq(m->pl.idr.type, IKE_ID_FQDN);
	cr_assert_eq(m->pl.idr.data.len, strlen(RESP_ID));
	cr_assert_eq(ike_auth_octets(I->suite.prf, I->keys.sk_pr,
	    I->keys.prf_len, I->resp1, I->resp1_len, I->ni, sizeof(I->ni),
	    m->pl.idr.body.p, m->pl.idr.body.len, oct, oct_len), 0);
	cr_assert(ike_auth_psk_verify(I->suite.prf, (const uint8_t *)PSK,
	    strlen(PSK), oct, oct_len, m->pl.auth.data.p, m->pl.auth.data.len),
	    "the responder's AUTH does not verify");
	free(oct);
}

/* IKE_SA_INIT through to INIT_DONE. */
static void
run_init(struct ike_sa *sa, struct ini *I)
{
	struct ike_out out;

	ini_init_req(I);
	cr_assert_eq(ike_sa_handle(sa, I->req1, I->req1_len, 1000, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_INIT_DONE);
	ini_init_resp(I, out.msg, out.len);
	cr_assert_eq(ike_sa_spi_r(sa), I->spi_r);
}

static struct ike_sa *
new_sa(unsigned flags)
{
	struct ike_sa *sa = ike_sa_new(&R.conf, &R.local, &R.remote, flags);

	cr_assert_not_null(sa);
	return sa;
}

/* Message @msgid of INFORMATIONAL with @inner; the response in @resp. */
static enum ike_sa_result
info(struct ike_sa *sa, struct ini *I, uint32_t msgid, uint8_t first,
    const uint8_t *inner, size_t inner_len, struct ike_out *out)
{
	uint8_t req[512];
	size_t n = ini_protect(I, IKE_EXCH_INFORMATIONAL, msgid, first,
	    inner, inner_len, req, sizeof(req));

	return ike_sa_handle(sa, req, n, 5000, out);
}

static void
establish_and_check(const char *ike, const char *esp, struct ini *I)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	const struct ike_child *ch;
	struct ike_child_keys ck;
	struct ike_suite cs;
	struct ike_sa *sa;
	struct ike_out out;
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX], dinner[32];
	uint8_t resp2[IKE_SA_MSG_MAX];
	struct ike_builder b;
	struct ike_delete d;
	struct wr w;
	size_t n, resp2_len;

	responder_setup(ike, esp);
	sa = new_sa(0);
	run_init(sa, I);

	n = ini_auth_req(I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_str_empty(out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(out.nev, 2);
	cr_assert_eq(out.ev[0].type, IKE_EV_IKE_UP);
	cr_assert_eq(out.ev[1].type, IKE_EV_CHILD_UP);
	ch = out.ev[1].child;
	ini_open(I, out.msg, out.len, 1, m, plain);
	ini_check_auth(I, m);

	/* CFG_REPLY: the pool's first address and the DNS server. */
	cr_assert(m->pl.have & IKE_HAVE_CP);
	cr_assert_eq(m->pl.cp.type, IKE_CFG_REPLY);
	cr_assert_eq(m->pl.cp.nattrs, 2);
	cr_assert_eq(m->pl.cp.attrs[0].type, IKE_CFG_INTERNAL_IP4_ADDRESS);
	cr_assert_arr_eq(m->pl.cp.attrs[0].value.p, "\x0a\x0a\x00\x01", 4);
	cr_assert_eq(m->pl.cp.attrs[1].type, IKE_CFG_INTERNAL_IP4_DNS);
	cr_assert_arr_eq(m->pl.cp.attrs[1].value.p, "\x0a\x0a\x00\x35", 4);
	cr_assert_eq(ch->vip, 0x0a0a0001);
	cr_assert_eq(ike_pool_used(R.conf.pool), 1);

	/* TSi narrowed to the virtual IP, TSr ours. */
	cr_assert_eq(m->pl.tsi.count, 1);
	cr_assert_arr_eq(m->pl.tsi.ts[0].start, "\x0a\x0a\x00\x01", 4);
	cr_assert_arr_eq(m->pl.tsi.ts[0].end, "\x0a\x0a\x00\x01", 4);
	cr_assert_arr_eq(m->pl.tsr.ts[0].start, "\0\0\0\0", 4);
	cr_assert_arr_eq(m->pl.tsr.ts[0].end, "\xff\xff\xff\xff", 4);
	cr_assert_arr_eq(ch->tsi.start, "\x0a\x0a\x00\x01", 4);

	/* SPIs: the responder's from the generator (0 skipped), ours. */
	cr_assert_eq(m->pl.sa.nproposals, 1);
	cr_assert_eq(m->pl.sa.proposals[0].spi_size, 4);
	cr_assert_arr_eq(m->pl.sa.proposals[0].spi, "\0\0\0\1", 4);
	cr_assert_eq(ch->spi_in, 1);
	cr_assert_eq(ch->spi_out, load_be32(I->esp_spi));

	/* Both sides derive the same KEYMAT. */
	memset(&cs, 0, sizeof(cs));
	cs.encr = I->esp_encr;
	cs.encr_bits = I->esp_bits;
	cs.integ = I->esp_integ;
	cr_assert_eq(ch->suite.encr, cs.encr);
	cr_assert_eq(ch->suite.encr_bits, cs.encr_bits);
	cr_assert_eq(ch->suite.integ, cs.integ);
	cr_assert_eq(ike_child_keys_derive(I->suite.prf, I->keys.sk_d,
	    I->keys.prf_len, &cs, NULL, 0, I->ni, sizeof(I->ni), I->nr,
	    I->nr_len, &ck), 0);
	cr_assert_eq(ck.encr_len, ch->keys.encr_len);
	cr_assert_eq(ck.integ_len, ch->keys.integ_len);
	cr_assert_gt(ck.encr_len, 0);
	cr_assert_arr_eq(ck.ei, ch->keys.ei, ck.encr_len);
	cr_assert_arr_eq(ck.er, ch->keys.er, ck.encr_len);
	cr_assert_arr_eq(ck.ai, ch->keys.ai, ck.integ_len);
	cr_assert_arr_eq(ck.ar, ch->keys.ar, ck.integ_len);
	cr_assert_arr_neq(ck.ei, ck.er, ck.encr_len);

	/* INFORMATIONAL: an empty request gets an empty response. */
	cr_assert_eq(info(sa, I, 2, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 0);
	ini_open(I, out.msg, out.len, 2, m, plain);
	cr_assert_eq(m->pl.have, 0);
	cr_assert_eq(m->pl.nnotify + m->pl.ndelete, 0);
	cr_assert_eq(ike_sa_last_ms(sa), 5000);

	/* Delete of the Child SA: our SPI comes back. */
	memset(&d, 0, sizeof(d));
	d.proto = IKE_PROTO_ESP;
	d.spi_size = 4;
	d.nspis = 1;
	d.spis.p = I->esp_spi;
	d.spis.len = 4;
	w = wr_make(dinner, sizeof(dinner));
	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_delete(&b, &d), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(info(sa, I, 3, b.first, dinner, w.len, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_CHILD_DOWN);
	cr_assert_eq(out.ev[0].child->spi_in, 1);
	memcpy(resp2, out.msg, out.len);
	resp2_len = out.len;
	ini_open(I, resp2, resp2_len, 3, m, plain);
	cr_assert_eq(m->pl.ndelete, 1);
	cr_assert_eq(m->pl.delete[0].proto, IKE_PROTO_ESP);
	cr_assert_eq(ike_delete_spi(&m->pl.delete[0], 0), 1);

	/* Delete of the IKE SA: empty response, DEAD, address back. */
	memset(&d, 0, sizeof(d));
	d.proto = IKE_PROTO_IKE;
	w = wr_make(dinner, sizeof(dinner));
	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_delete(&b, &d), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(info(sa, I, 4, b.first, dinner, w.len, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_IKE_DOWN);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_DEAD);
	cr_assert_eq(ike_pool_used(R.conf.pool), 0);
	ini_open(I, out.msg, out.len, 4, m, plain);
	cr_assert_eq(m->pl.have, 0);
	cr_assert_eq(m->pl.ndelete, 0);

	/* Dead: a new request is dropped. */
	cr_assert_eq(info(sa, I, 5, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_DROPPED);
	ike_child_keys_cleanse(&ck);
	ike_sa_free(sa);
	free(m);
	ini_free(I);
	responder_teardown();
}

Test(responder, establishes_gcm_and_agrees_on_child_keys, .timeout = 20)
{
	struct ini I;

	ini_gcm(&I);
	establish_and_check("aes256gcm16-prfsha384-x25519", "aes256gcm16", &I);
}

Test(responder, establishes_cbc_modp2048_and_agrees_on_child_keys,
    .timeout = 20)
{
	struct ini I;

	ini_gcm(&I);
	I.prop.encr = IKE_ENCR_AES_CBC;
	I.prop.encr_bits = 256;
	I.prop.prf = IKE_PRF_HMAC_SHA2_256;
	I.prop.integ = IKE_INTEG_HMAC_SHA2_256_128;
	I.dh[0] = I.ke_group = IKE_DH_MODP2048;
	I.esp_encr = IKE_ENCR_AES_CBC;
	I.esp_bits = 128;
	I.esp_integ = IKE_INTEG_HMAC_SHA2_256_128;
	establish_and_check("aes256-sha256-modp2048", "aes128-sha256", &I);
}

Test(responder, wrong_psk_is_authentication_failed, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.psk = "not-the-psk";
	sa = new_sa(0);
	run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	cr_assert(strstr(out.reason, "does not verify") != NULL, "%s",
	    out.reason);
	cr_assert_eq(out.nev, 0);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_DEAD);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_AUTHENTICATION_FAILED);
	cr_assert_eq(m->pl.have & (IKE_HAVE_IDR | IKE_HAVE_AUTH), 0);
	cr_assert_eq(ike_pool_used(R.conf.pool), 0);
	/* Its retransmission still gets the answer. */
	cr_assert_eq(ike_sa_handle(sa, req, n, 2100, &out), IKE_SA_RETRANSMIT);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	responder_teardown();
}

Test(responder, no_common_proposal_is_no_proposal_chosen, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.prop.encr = IKE_ENCR_AES_CBC;
	I.prop.encr_bits = 128;
	I.prop.prf = IKE_PRF_HMAC_SHA1;
	I.prop.integ = IKE_INTEG_HMAC_SHA1_96;
	I.dh[0] = I.ke_group = IKE_DH_MODP3072;
	sa = new_sa(0);
	ini_init_req(&I);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1000, &out),
	    IKE_SA_ANSWERED);
	cr_assert(strstr(out.reason, "no acceptable proposal") != NULL);
	cr_assert_eq(ike_msg_parse(out.msg, out.len, m), IKE_PARSE_OK);
	cr_assert_eq(m->hdr.spi_r, 0);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_NO_PROPOSAL_CHOSEN);
	cr_assert_eq(m->pl.have, 0);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_DEAD);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	responder_teardown();
}

Test(responder, wrong_ke_group_gets_invalid_ke_naming_ours, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.dh[0] = IKE_DH_ECP256;
	I.dh[1] = IKE_DH_CURVE25519;
	I.ndh = 2;
	I.ke_group = IKE_DH_ECP256;
	sa = new_sa(0);
	ini_init_req(&I);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1000, &out),
	    IKE_SA_ANSWERED);
	cr_assert_eq(ike_msg_parse(out.msg, out.len, m), IKE_PARSE_OK);
	cr_assert_eq(m->hdr.spi_r, 0);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_INVALID_KE_PAYLOAD);
	cr_assert_eq(m->pl.notify[0].data.len, 2);
	cr_assert_eq(load_be16(m->pl.notify[0].data.p), IKE_DH_CURVE25519);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_IDLE);
	ike_sa_free(sa);

	/* The retry with the named group succeeds. */
	I.ke_group = IKE_DH_CURVE25519;
	sa = new_sa(0);
	run_init(sa, &I);
	cr_assert_eq(I.suite.dh, IKE_DH_CURVE25519);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	responder_teardown();
}

Test(responder, ts_without_overlap_is_ts_unacceptable, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ts_set(&R.conf.local_ts, 0x0a000000, 0x0affffff);	/* 10/8 */
	ini_gcm(&I);
	ts_set(&I.tsr, 0xc0a80000, 0xc0a8ffff);		/* 192.168/16 */
	sa = new_sa(0);
	run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	cr_assert(strstr(out.reason, "traffic selectors") != NULL, "%s",
	    out.reason);
	/* §1.2: the IKE SA stands, the Child SA does not. */
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_IKE_UP);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	ini_check_auth(&I, m);
	cr_assert_eq(m->pl.have & (IKE_HAVE_SA | IKE_HAVE_TSI | IKE_HAVE_TSR |
	    IKE_HAVE_CP), 0);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_TS_UNACCEPTABLE);
	cr_assert_eq(ike_pool_used(R.conf.pool), 0);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	responder_teardown();
}

Test(responder, esp_without_common_proposal_keeps_the_ike_sa, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.esp_encr = IKE_ENCR_AES_CBC;
	I.esp_bits = 128;
	I.esp_integ = IKE_INTEG_HMAC_SHA1_96;
	sa = new_sa(0);
	run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_NO_PROPOSAL_CHOSEN);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	responder_teardown();
}

Test(responder, retransmissions_get_identical_bytes, .timeout = 20)
{
	uint8_t req[IKE_SA_MSG_MAX], first[IKE_SA_MSG_MAX];
	uint8_t resp1[IKE_SA_MSG_MAX];
	size_t n, first_len, resp1_len;
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = new_sa(0);
	ini_init_req(&I);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1000, &out),
	    IKE_SA_ANSWERED);
	memcpy(resp1, out.msg, out.len);
	resp1_len = out.len;
	ini_init_resp(&I, resp1, resp1_len);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1500, &out),
	    IKE_SA_RETRANSMIT);
	cr_assert_eq(out.len, resp1_len);
	cr_assert_arr_eq(out.msg, resp1, resp1_len);

	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	memcpy(first, out.msg, out.len);
	first_len = out.len;
	cr_assert_eq(ike_sa_handle(sa, req, n, 2500, &out), IKE_SA_RETRANSMIT);
	cr_assert_eq(out.nev, 0);
	cr_assert_eq(out.len, first_len);
	cr_assert_arr_eq(out.msg, first, first_len);
	/* IKE_SA_INIT is over once IKE_AUTH was answered. */
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 2600, &out),
	    IKE_SA_DROPPED);

	/* An old message ID and one from the future are dropped. */
	cr_assert_eq(info(sa, &I, 0, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_DROPPED);
	cr_assert_eq(info(sa, &I, 3, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_DROPPED);
	cr_assert(strstr(out.reason, "expected 2") != NULL, "%s", out.reason);
	cr_assert_eq(info(sa, &I, 2, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_ANSWERED);
	ike_sa_free(sa);
	ini_free(&I);
	responder_teardown();
}

Test(responder, forged_request_is_dropped, .timeout = 20)
{
	uint8_t req[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = new_sa(0);
	run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	req[n - 20] ^= 1;
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_DROPPED);
	cr_assert(strstr(out.reason, "integrity") != NULL, "%s", out.reason);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_INIT_DONE);
	req[n - 20] ^= 1;
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ike_sa_free(sa);
	ini_free(&I);
	responder_teardown();
}

Test(responder, cookie_required_then_accepted, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = new_sa(IKE_SA_F_COOKIE);
	ini_init_req(&I);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1000, &out),
	    IKE_SA_ANSWERED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_IDLE);
	cr_assert_eq(ike_msg_parse(out.msg, out.len, m), IKE_PARSE_OK);
	cr_assert_eq(m->hdr.spi_r, 0);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_COOKIE);
	cr_assert_leq(m->pl.notify[0].data.len, sizeof(I.cookie));
	I.cookie_len = m->pl.notify[0].data.len;
	memcpy(I.cookie, m->pl.notify[0].data.p, I.cookie_len);
	ike_sa_free(sa);	/* stateless: the SA held nothing */

	/* A wrong cookie is challenged again. */
	I.cookie[0] ^= 1;
	sa = new_sa(IKE_SA_F_COOKIE);
	ini_init_req(&I);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1000, &out),
	    IKE_SA_ANSWERED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_IDLE);
	cr_assert(strstr(out.reason, "wrong cookie") != NULL, "%s",
	    out.reason);
	ike_sa_free(sa);

	/* The right one is accepted, and the rest goes on as usual. */
	I.cookie[0] ^= 1;
	sa = new_sa(IKE_SA_F_COOKIE);
	run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	responder_teardown();
}

Test(responder, create_child_sa_is_refused, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = new_sa(0);
	run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	n = ini_protect(&I, IKE_EXCH_CREATE_CHILD_SA, 2, IKE_PL_NONE, NULL, 0,
	    req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 3000, &out), IKE_SA_ANSWERED);
	ini_open(&I, out.msg, out.len, 2, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_NO_ADDITIONAL_SAS);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	responder_teardown();
}

Test(responder, reassembles_a_fragmented_ike_auth, .timeout = 20)
{
	uint8_t f1[IKE_SA_MSG_MAX], f2[IKE_SA_MSG_MAX];
	struct plain_req pr;
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n1, n2, half;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = new_sa(0);
	run_init(sa, &I);
	(void)ini_auth_req_ex(&I, NULL, 0, &pr);
	half = pr.len / 2;
	n1 = ini_protect_frag(&I, 1, pr.first, 1, 2, pr.inner, half, f1,
	    sizeof(f1));
	n2 = ini_protect_frag(&I, 1, pr.first, 2, 2, pr.inner + half,
	    pr.len - half, f2, sizeof(f2));
	/* Out of order: 2 then 1. */
	cr_assert_eq(ike_sa_handle(sa, f2, n2, 2000, &out), IKE_SA_FRAGMENT,
	    "%s", out.reason);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(ike_sa_handle(sa, f1, n1, 2001, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(out.nev, 2);
	/* A retransmitted set: fragment 1 gets the response once. */
	cr_assert_eq(ike_sa_handle(sa, f2, n2, 2500, &out), IKE_SA_DROPPED);
	cr_assert_eq(ike_sa_handle(sa, f1, n1, 2500, &out), IKE_SA_RETRANSMIT);
	ike_sa_free(sa);
	ini_free(&I);
	responder_teardown();
}

/* ID types the PSK callback sees as they came; others fail AUTH. */
Test(responder, passes_id_types_to_the_psk_lookup, .timeout = 30)
{
	static const struct {
		uint8_t		 type;
		const char	*id;
		size_t		 len;
		bool		 ok;
	} ids[] = {
		{ IKE_ID_RFC822_ADDR, "user@" INI_ID, sizeof(INI_ID) + 4,
		    true },
		{ IKE_ID_KEY_ID, "\x01\x02\x03", 3, true },
		{ IKE_ID_IPV4_ADDR, "\xc0\x00\x02\x01", 4, true },
		{ IKE_ID_IPV6_ADDR, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1",
		    16, true },
		{ IKE_ID_IPV4_ADDR, "\xc0\x00\x02", 3, false },	/* short */
		{ IKE_ID_DER_ASN1_DN, "\x30\x00", 2, false },	/* no certs */
		{ IKE_ID_FQDN, "stranger.test", 13, false },	/* unknown */
	};
	uint8_t req[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t i, n;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		ini_gcm(&I);
		I.id_type = ids[i].type;
		I.id = (const uint8_t *)ids[i].id;
		I.id_len = ids[i].len;
		sa = new_sa(0);
		run_init(sa, &I);
		n = ini_auth_req(&I, req, sizeof(req));
		cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out),
		    IKE_SA_ANSWERED);
		cr_assert_eq(ike_sa_state(sa), ids[i].ok ? IKE_SA_ESTABLISHED :
		    IKE_SA_DEAD, "ID %zu: %s", i, out.reason);
		ike_sa_free(sa);
		ini_free(&I);
	}
	cr_assert_eq(ike_pool_used(R.conf.pool), 0);
	responder_teardown();
}

Test(responder, missing_cfg_request_is_failed_cp_required, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.no_cp = true;
	sa = new_sa(0);
	run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_FAILED_CP_REQUIRED);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	responder_teardown();
}
