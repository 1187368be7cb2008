/*
 * The test-only IKEv2 initiator of initiator.h: IKE_SA_INIT, IKE_AUTH with
 * PSK, CP and one Child SA, INFORMATIONAL, SKF fragments, CREATE_CHILD_SA
 * (new Child SA, Child SA and IKE SA rekey); and the responder fixture.
 * No tests here: the responder_*_test.c files use it.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/rand.h>

#include "framing/wire.h"
#include "ike/auth.h"
#include "ike/cp.h"
#include "test/unit/ike/initiator.h"

struct ini_fixture fx;

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

void
ini_ts_set(struct ike_ts *ts, uint32_t start, uint32_t end)
{
	memset(ts, 0, sizeof(*ts));
	ts->type = IKE_TS_IPV4_ADDR_RANGE;
	ts->end_port = 0xffff;
	store_be32(ts->start, start);
	store_be32(ts->end, end);
}

void
ini_responder_setup(const char *ike, const char *esp)
{
	char err[IKE_PROP_ERR_MAX];

	memset(&fx, 0, sizeof(fx));
	cr_assert(ike_proposal_parse(IKE_PROTO_IKE, ike, &fx.ike[0], err,
	    sizeof(err)), "%s", err);
	cr_assert(ike_proposal_parse(IKE_PROTO_ESP, esp, &fx.esp[0], err,
	    sizeof(err)), "%s", err);
	fx.conf.ike = fx.ike;
	fx.conf.nike = 1;
	fx.conf.esp = fx.esp;
	fx.conf.nesp = 1;
	fx.conf.id_type = IKE_ID_FQDN;
	fx.conf.id = (const uint8_t *)RESP_ID;
	fx.conf.id_len = strlen(RESP_ID);
	fx.conf.psk = psk_cb;
	fx.conf.spi = spi_cb;
	fx.conf.spi_arg = &fx.spi_next;
	fx.conf.pool = ike_pool_new("10.10.0.0/24", err, sizeof(err));
	cr_assert_not_null(fx.conf.pool, "%s", err);
	fx.conf.dns[0] = 0x0a0a0035;	/* 10.10.0.53 */
	fx.conf.ndns = 1;
	ini_ts_set(&fx.conf.local_ts, 0, 0xffffffff);
	memset(fx.conf.cookie_secret, 0x5a, sizeof(fx.conf.cookie_secret));
	fx.local.family = fx.remote.family = 4;
	memcpy(fx.local.addr, "\xc0\x00\x02\x02", 4);
	memcpy(fx.remote.addr, "\xc0\x00\x02\x01", 4);
	fx.local.port = 4500;
	fx.remote.port = 4500;
}

void
ini_ts6_all(struct ike_ts *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->type = IKE_TS_IPV6_ADDR_RANGE;
	ts->end_port = 0xffff;
	memset(ts->end, 0xff, 16);
}

void
ini_responder_teardown(void)
{
	ike_pool_free(fx.conf.pool);
}

void
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
	ini_ts_set(&I->tsr, 0, 0xffffffff);
	I->esp_encr = IKE_ENCR_AES_GCM_16;
	I->esp_bits = 256;
	I->esp_integ = IKE_INTEG_NONE;
	cr_assert_eq(RAND_bytes(I->ni, sizeof(I->ni)), 1);
}

void
ini_free(struct ini *I)
{
	ike_kex_free(I->kex);
	I->kex = NULL;
	ike_keys_cleanse(&I->keys);
	ike_sk_cleanup(&I->sk_in);
	ike_sk_cleanup(&I->sk_out);
}

void
ini_notify(struct ike_builder *b, uint16_t type, const void *data,
    size_t len)
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
void
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
		ini_notify(&b, IKE_N_COOKIE, I->cookie, I->cookie_len);
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
	ini_notify(&b, IKE_N_NAT_DETECTION_SOURCE_IP, natd, sizeof(natd));
	ini_notify(&b, IKE_N_NAT_DETECTION_DESTINATION_IP, natd, sizeof(natd));
	if (!I->no_frag)
		ini_notify(&b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	ini_notify(&b, IKE_N_SIGNATURE_HASH_ALGORITHMS, algs, sizeof(algs));
	cr_assert_eq(ike_build_finish(&b), 0);
	I->req1_len = w.len;
	free(sa);
}

const struct ike_notify *
ini_find_n(const struct ike_msg *m, uint16_t type)
{
	size_t i;

	for (i = 0; i < m->pl.nnotify; i++)
		if (m->pl.notify[i].type == type)
			return &m->pl.notify[i];
	return NULL;
}

/* Takes the IKE_SA_INIT response: suite, SPIr, Nr, keys. */
void
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
	cr_assert_not_null(ini_find_n(m, IKE_N_NAT_DETECTION_SOURCE_IP));
	cr_assert_not_null(ini_find_n(m, IKE_N_NAT_DETECTION_DESTINATION_IP));
	/* RFC 7383 §2.3: answered when offered and not turned off. */
	if (I->no_frag || fx.conf.no_frag)
		cr_assert_null(ini_find_n(m,
		    IKE_N_IKEV2_FRAGMENTATION_SUPPORTED));
	else
		cr_assert_not_null(ini_find_n(m,
		    IKE_N_IKEV2_FRAGMENTATION_SUPPORTED));
	cr_assert_not_null(ini_find_n(m, IKE_N_SIGNATURE_HASH_ALGORITHMS));
	I->spi_r = m->hdr.spi_r;
	memcpy(I->nr, m->pl.nonce.p, m->pl.nonce.len);
	I->nr_len = m->pl.nonce.len;
	gir_len = ike_kex_secret_len(I->ke_group);
	cr_assert_eq(ike_kex_derive(I->kex, m->pl.ke.data.p,
	    m->pl.ke.data.len, gir, gir_len), 0);
	store_be64(spii, I->spi_i);
	store_be64(spir, I->spi_r);
	cr_assert_eq(ike_keys_new_sa(&I->suite, I->ni, sizeof(I->ni), I->nr,
	    I->nr_len, gir, gir_len, spii, spir, &I->keys), 0);
	cr_assert_eq(ike_sk_init_pair(&I->sk_out, &I->sk_in, &I->suite,
	    &I->keys, true), 0);
	memcpy(I->resp1, msg, len);
	I->resp1_len = len;
	free(m);
}

/* A protected request carrying @inner. */
size_t
ini_protect(struct ini *I, uint8_t exch, uint32_t msgid, uint8_t first,
    const uint8_t *inner, size_t inner_len, uint8_t *out, size_t cap)
{
	/* Not the original initiator once the responder rekeyed (§2.18). */
	return ini_protect_flags(I, exch, I->not_orig ? 0 : IKE_FLAG_INITIATOR,
	    msgid, first, inner, inner_len, out, cap);
}

/* A response (§3.1: Initiator and Response flags) to the SA's request. */
size_t
ini_respond(struct ini *I, uint8_t exch, uint32_t msgid, uint8_t first,
    const uint8_t *inner, size_t inner_len, uint8_t *out, size_t cap)
{
	return ini_protect_flags(I, exch, IKE_FLAG_INITIATOR |
	    IKE_FLAG_RESPONSE, msgid, first, inner, inner_len, out, cap);
}

/* A request from the responder: neither flag set (§3.1). */
void
ini_open_req(struct ini *I, const uint8_t *msg, size_t len, uint32_t msgid,
    struct ike_msg *m, uint8_t *plain)
{
	ini_open_flags(I, msg, len, 0, msgid, m, plain);
}

/* A protected message with header flags exactly @flags. */
void
ini_open_flags(struct ini *I, const uint8_t *msg, size_t len, uint8_t flags,
    uint32_t msgid, struct ike_msg *m, uint8_t *plain)
{
	size_t plain_len;

	cr_assert_eq(ike_msg_parse(msg, len, m), IKE_PARSE_OK);
	cr_assert_eq(m->hdr.flags, flags);
	cr_assert_eq(m->hdr.msgid, msgid);
	cr_assert_eq(m->hdr.spi_i, I->spi_i);
	cr_assert_eq(m->hdr.spi_r, I->spi_r);
	cr_assert(m->pl.have & IKE_HAVE_SK);
	cr_assert_eq(ike_sk_unprotect(&I->sk_in, msg,
	    m->pl.sk.hdr_off + IKE_GENHDR_LEN, len, plain, len, &plain_len), 0);
	cr_assert_eq(ike_payloads_parse(m->pl.sk.inner, plain, plain_len, m),
	    IKE_PARSE_OK);
}

size_t
ini_protect_flags(struct ini *I, uint8_t exch, uint8_t flags, uint32_t msgid,
    uint8_t first, const uint8_t *inner, size_t inner_len, uint8_t *out,
    size_t cap)
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
	h.flags = flags;
	h.msgid = msgid;
	ike_build_init(&b, &w, &h);
	cr_assert_eq(ike_build_sk(&b, first, body_len, &body), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(ike_sk_protect(&I->sk_out, out, (size_t)(body - out),
	    inner, inner_len, body_len), 0);
	return w.len;
}

/* Fragment @num of @total (RFC 7383 §2.5) carrying @part. */
size_t
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
void
ini_open(struct ini *I, const uint8_t *msg, size_t len, uint32_t msgid,
    struct ike_msg *m, uint8_t *plain)
{
	ini_open_flags(I, msg, len, IKE_FLAG_RESPONSE |
	    (I->not_orig ? IKE_FLAG_INITIATOR : 0), msgid, m, plain);
}

size_t
ini_auth_req_ex(struct ini *I, uint8_t *out, size_t cap,
    struct ini_plain *frag)
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
	if (!I->no_ip4) {
		cp.attrs[cp.nattrs++].type = IKE_CFG_INTERNAL_IP4_ADDRESS;
		cp.attrs[cp.nattrs++].type = IKE_CFG_INTERNAL_IP4_DNS;
	}
	if (I->want6) {
		cp.attrs[cp.nattrs++].type = IKE_CFG_INTERNAL_IP6_ADDRESS;
		cp.attrs[cp.nattrs++].type = IKE_CFG_INTERNAL_IP6_DNS;
	}
	if (!I->no_cp)
		cr_assert_eq(ike_build_cp(&b, &cp), 0);
	ini_notify(&b, IKE_N_INITIAL_CONTACT, NULL, 0);
	if (I->mobike)
		ini_notify(&b, IKE_N_MOBIKE_SUPPORTED, NULL, 0);
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
	memset(&tsr, 0, sizeof(tsr));
	if (!I->no_ip4) {
		ini_ts_set(&tsi.ts[tsi.count++], 0, 0xffffffff);
		tsr.ts[tsr.count++] = I->tsr;
	}
	if (I->want6) {
		ini_ts6_all(&tsi.ts[tsi.count++]);
		ini_ts6_all(&tsr.ts[tsr.count++]);
	}
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

size_t
ini_auth_req(struct ini *I, uint8_t *out, size_t cap)
{
	return ini_auth_req_ex(I, out, cap, NULL);
}

/* Checks the responder's AUTH in an IKE_AUTH response. */
void
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
void
ini_run_init(struct ike_sa *sa, struct ini *I)
{
	struct ike_out out;

	ini_init_req(I);
	cr_assert_eq(ike_sa_handle(sa, I->req1, I->req1_len, 1000, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_INIT_DONE);
	cr_assert(!out.cookie, "an accepted IKE_SA_INIT is no COOKIE");
	ini_init_resp(I, out.msg, out.len);
	cr_assert_eq(ike_sa_spi_r(sa), I->spi_r);
}

struct ike_sa *
ini_new_sa(unsigned flags)
{
	struct ike_sa *sa = ike_sa_new(&fx.conf, &fx.local, &fx.remote, flags);

	cr_assert_not_null(sa);
	return sa;
}

/* Message @msgid of INFORMATIONAL with @inner; the response in @resp. */
enum ike_sa_result
ini_info(struct ike_sa *sa, struct ini *I, uint32_t msgid, uint8_t first,
    const uint8_t *inner, size_t inner_len, struct ike_out *out)
{
	uint8_t req[512];
	size_t n = ini_protect(I, IKE_EXCH_INFORMATIONAL, msgid, first,
	    inner, inner_len, req, sizeof(req));

	return ike_sa_handle(sa, req, n, 5000, out);
}

struct ike_sa *
ini_establish(struct ini *I)
{
	uint8_t req[IKE_SA_MSG_MAX];
	struct ike_sa *sa = ini_new_sa(0);
	struct ike_out out;
	size_t n;

	ini_run_init(sa, I);
	n = ini_auth_req(I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(out.nev, 2);
	return sa;
}

void
ini_child_gcm(const struct ini *I, struct ini_child *C, const char *spi)
{
	memset(C, 0, sizeof(*C));
	memcpy(C->spi, spi, 4);
	C->encr = I->esp_encr;
	C->bits = I->esp_bits;
	C->integ = I->esp_integ;
	ini_ts_set(&C->tsi, 0, 0xffffffff);
	C->tsr = I->tsr;
	cr_assert_eq(RAND_bytes(C->ni, sizeof(C->ni)), 1);
}

void
ini_child_free(struct ini_child *C)
{
	ike_kex_free(C->kex);
	C->kex = NULL;
	ike_child_keys_cleanse(&C->keys);
}

static void
ke_add(struct ike_builder *b, struct ike_kex **kex, uint16_t group)
{
	uint8_t pub[IKE_KEX_PUB_MAX];
	size_t pub_len = ike_kex_pub_len(group);
	struct ike_ke ke;

	ike_kex_free(*kex);
	*kex = ike_kex_new(group, 0);
	cr_assert_not_null(*kex);
	cr_assert_eq(ike_kex_public(*kex, pub, pub_len), 0);
	ke.group = group;
	ke.data.p = pub;
	ke.data.len = pub_len;
	cr_assert_eq(ike_build_ke(b, &ke), 0);
}

size_t
ini_child_req(struct ini *I, struct ini_child *C, uint32_t msgid,
    uint8_t *out, size_t cap)
{
	uint8_t inner[2048], spi_b[4];
	struct ike_sa_pl *sa = calloc(1, sizeof(*sa));
	struct ike_builder b;
	struct ike_ts_pl tsi, tsr;
	struct ike_notify n;
	struct wr w = wr_make(inner, sizeof(inner));

	cr_assert_not_null(sa);
	ike_build_inner_init(&b, &w);
	if (C->rekey_spi != 0) {
		memset(&n, 0, sizeof(n));
		n.type = IKE_N_REKEY_SA;
		n.proto = IKE_PROTO_ESP;
		store_be32(spi_b, C->rekey_spi);
		n.spi.p = spi_b;
		n.spi.len = 4;
		cr_assert_eq(ike_build_notify(&b, &n), 0);
	}
	sa->nproposals = 1;
	sa->proposals[0].num = 1;
	sa->proposals[0].proto = IKE_PROTO_ESP;
	sa->proposals[0].spi_size = 4;
	memcpy(sa->proposals[0].spi, C->spi, 4);
	xf(sa, IKE_XFORM_ENCR, C->encr, C->bits);
	if (C->integ != IKE_INTEG_NONE)
		xf(sa, IKE_XFORM_INTEG, C->integ, 0);
	if (C->dh != 0)
		xf(sa, IKE_XFORM_DH, C->dh, 0);
	xf(sa, IKE_XFORM_ESN, IKE_ESN_NO, 0);
	cr_assert_eq(ike_build_sa(&b, sa), 0);
	cr_assert_eq(ike_build_nonce(&b, C->ni, sizeof(C->ni)), 0);
	if (C->ke_group != 0)
		ke_add(&b, &C->kex, C->ke_group);
	if (!C->no_ts) {
		memset(&tsi, 0, sizeof(tsi));
		memset(&tsr, 0, sizeof(tsr));
		tsi.count = tsr.count = 1;
		tsi.ts[0] = C->tsi;
		tsr.ts[0] = C->tsr;
		cr_assert_eq(ike_build_ts(&b, IKE_PL_TSI, &tsi), 0);
		cr_assert_eq(ike_build_ts(&b, IKE_PL_TSR, &tsr), 0);
	}
	cr_assert_eq(ike_build_finish(&b), 0);
	free(sa);
	return ini_protect(I, IKE_EXCH_CREATE_CHILD_SA, msgid, b.first, inner,
	    w.len, out, cap);
}

void
ini_child_resp(struct ini *I, struct ini_child *C, const uint8_t *msg,
    size_t len, uint32_t msgid, struct ike_msg *m, uint8_t *plain)
{
	uint8_t gir[IKE_KEX_SECRET_MAX];
	struct ike_suite cs;
	size_t gir_len = 0;

	ini_open(I, msg, len, msgid, m, plain);
	if (!(m->pl.have & IKE_HAVE_SA))
		return;
	cr_assert_eq(m->pl.have & (IKE_HAVE_NONCE | IKE_HAVE_TSI |
	    IKE_HAVE_TSR), IKE_HAVE_NONCE | IKE_HAVE_TSI | IKE_HAVE_TSR);
	cr_assert_eq(m->pl.sa.nproposals, 1);
	cr_assert_eq(m->pl.sa.proposals[0].proto, IKE_PROTO_ESP);
	cr_assert_eq(m->pl.sa.proposals[0].spi_size, 4);
	C->spi_r = load_be32(m->pl.sa.proposals[0].spi);
	memcpy(C->nr, m->pl.nonce.p, m->pl.nonce.len);
	C->nr_len = m->pl.nonce.len;
	if (C->dh != 0) {
		cr_assert(m->pl.have & IKE_HAVE_KE);
		cr_assert_eq(m->pl.ke.group, C->dh);
		gir_len = ike_kex_secret_len(C->dh);
		cr_assert_eq(ike_kex_derive(C->kex, m->pl.ke.data.p,
		    m->pl.ke.data.len, gir, gir_len), 0);
	} else
		cr_assert_eq(m->pl.have & IKE_HAVE_KE, 0);
	memset(&cs, 0, sizeof(cs));
	cs.encr = C->encr;
	cs.encr_bits = C->bits;
	cs.integ = C->integ;
	cr_assert_eq(ike_child_keys_derive(I->suite.prf, I->keys.sk_d,
	    I->keys.prf_len, &cs, gir_len > 0 ? gir : NULL, gir_len, C->ni,
	    sizeof(C->ni), C->nr, C->nr_len, &C->keys), 0);
}

size_t
ini_rekey_req(struct ini *I, struct ini_rekey *R, uint32_t msgid,
    uint8_t *out, size_t cap)
{
	uint8_t inner[2048];
	struct ike_sa_pl *sa = calloc(1, sizeof(*sa));
	struct ike_builder b;
	struct wr w = wr_make(inner, sizeof(inner));

	cr_assert_not_null(sa);
	cr_assert_eq(RAND_bytes(R->ni, sizeof(R->ni)), 1);
	ike_build_inner_init(&b, &w);
	sa->nproposals = 1;
	sa->proposals[0].num = 1;
	sa->proposals[0].proto = IKE_PROTO_IKE;
	sa->proposals[0].spi_size = 8;
	store_be64(sa->proposals[0].spi, R->spi_i);
	xf(sa, IKE_XFORM_ENCR, (uint16_t)I->prop.encr,
	    (uint16_t)I->prop.encr_bits);
	xf(sa, IKE_XFORM_PRF, (uint16_t)I->prop.prf, 0);
	if (I->prop.integ != IKE_INTEG_NONE)
		xf(sa, IKE_XFORM_INTEG, (uint16_t)I->prop.integ, 0);
	xf(sa, IKE_XFORM_DH, R->dh, 0);
	cr_assert_eq(ike_build_sa(&b, sa), 0);
	cr_assert_eq(ike_build_nonce(&b, R->ni, sizeof(R->ni)), 0);
	if (R->ke_group != 0)
		ke_add(&b, &R->kex, R->ke_group);
	cr_assert_eq(ike_build_finish(&b), 0);
	free(sa);
	return ini_protect(I, IKE_EXCH_CREATE_CHILD_SA, msgid, b.first, inner,
	    w.len, out, cap);
}

void
ini_rekey_resp(struct ini *I, struct ini_rekey *R, const uint8_t *msg,
    size_t len, uint32_t msgid, struct ini *old)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t plain[IKE_SA_MSG_MAX], gir[IKE_KEX_SECRET_MAX];
	uint8_t spii[8], spir[8];
	struct ike_keys keys;
	size_t gir_len;

	cr_assert_not_null(m);
	ini_open(I, msg, len, msgid, m, plain);
	cr_assert_eq(m->pl.have & (IKE_HAVE_SA | IKE_HAVE_NONCE |
	    IKE_HAVE_KE | IKE_HAVE_TSI | IKE_HAVE_TSR), IKE_HAVE_SA |
	    IKE_HAVE_NONCE | IKE_HAVE_KE);
	cr_assert_eq(m->pl.sa.nproposals, 1);
	cr_assert_eq(m->pl.sa.proposals[0].proto, IKE_PROTO_IKE);
	cr_assert_eq(m->pl.sa.proposals[0].spi_size, 8);
	cr_assert_eq(m->pl.ke.group, R->dh);
	gir_len = ike_kex_secret_len(R->dh);
	cr_assert_eq(ike_kex_derive(R->kex, m->pl.ke.data.p,
	    m->pl.ke.data.len, gir, gir_len), 0);
	store_be64(spii, R->spi_i);
	memcpy(spir, m->pl.sa.proposals[0].spi, 8);
	/* §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr). */
	cr_assert_eq(ike_keys_rekey_sa(&I->suite, I->suite.prf, I->keys.sk_d,
	    I->keys.prf_len, gir, gir_len, R->ni, sizeof(R->ni),
	    m->pl.nonce.p, m->pl.nonce.len, spii, spir, &keys), 0);
	*old = *I;
	old->kex = NULL;
	I->spi_i = R->spi_i;
	I->spi_r = load_be64(spir);
	I->keys = keys;
	cr_assert_eq(ike_sk_init_pair(&I->sk_out, &I->sk_in, &I->suite,
	    &I->keys, true), 0);
	ike_kex_free(R->kex);
	R->kex = NULL;
	ike_keys_cleanse(&keys);
	free(m);
}

size_t
ini_delete_inner(uint8_t proto, const uint8_t *spi, uint8_t *out, size_t cap,
    uint8_t *first)
{
	struct ike_builder b;
	struct ike_delete d;
	struct wr w = wr_make(out, cap);

	memset(&d, 0, sizeof(d));
	d.proto = proto;
	if (spi != NULL) {
		d.spi_size = 4;
		d.nspis = 1;
		d.spis.p = spi;
		d.spis.len = 4;
	}
	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_delete(&b, &d), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	*first = b.first;
	return w.len;
}
