/*
 * The responses to the requests the responder initiates itself
 * (ike/exch_req.c), on arbitrary inner payloads: an established IKE SA
 * with short lifetimes and liveness checks is ticked to its next request
 * (a liveness check, a Child SA or IKE SA rekey, a Delete), and answered
 * by an authentic response whose plaintext is the input, so the response
 * handlers (proposal, nonce, KE, Delete) are reached past the ICV check.
 *
 * Input: records of  [flags][first payload][length, 2 octets][payload
 * chain].  flags bit 0: answer with the wrong message ID; bit 1: call
 * ike_sa_delete() before ticking.  Every response the SA sends must fit
 * its bound and parse; the Child SA table stays within its size; every
 * address goes back to the pool.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/wire.h"
#include "ike/cp.h"
#include "ike/proposal.h"
#include "ike/sa_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	RECORDS_MAX	= 8
};

static struct ike_prop ike[1], esp[2];
static struct ike_sa_conf conf;
static struct ike_msg m;
static uint8_t msg[IKE_SA_MSG_MAX];

static void
setup(void)
{
	char err[IKE_POOL_ERR_MAX];

	if (conf.nike != 0)
		return;
	if (!ike_proposal_parse(IKE_PROTO_IKE, "aes256gcm16-prfsha384-x25519",
	    &ike[0], err, sizeof(err)) ||
	    !ike_proposal_parse(IKE_PROTO_ESP, "aes256gcm16", &esp[0], err,
	    sizeof(err)) ||
	    !ike_proposal_parse(IKE_PROTO_ESP, "aes128-sha256-x25519", &esp[1],
	    err, sizeof(err)) ||
	    (conf.pool = ike_pool_new("10.9.0.0/24", err, sizeof(err))) ==
	    NULL)
		abort();
	conf.ike = ike;
	conf.nike = 1;
	conf.esp = esp;
	conf.nesp = 2;
	conf.id_type = IKE_ID_FQDN;
	conf.id = (const uint8_t *)"fuzz.test";
	conf.id_len = 9;
	conf.local_ts.type = IKE_TS_IPV4_ADDR_RANGE;
	conf.local_ts.end_port = 0xffff;
	memset(conf.local_ts.end, 0xff, 4);
	conf.dpd_delay_ms = 7000;	/* after the first rekeys */
	conf.dpd_timeout_ms = 5000;
	conf.ike_lifetime_ms = 20000;
	conf.child_lifetime_ms = 10000;
}

/* An SA as IKE_AUTH leaves it at 0 ms, with one Child SA. */
static struct ike_sa *
established(void)
{
	static const uint8_t spii[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t spir[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	struct ike_endpoint a = { 4, { 192, 0, 2, 1 }, 4500 };
	struct ike_endpoint b = { 4, { 192, 0, 2, 2 }, 4500 };
	struct ike_suite s = { IKE_ENCR_AES_GCM_16, 256,
	    IKE_PRF_HMAC_SHA2_384, IKE_INTEG_NONE, IKE_DH_CURVE25519 };
	uint8_t nonce[32], gir[32];
	struct ike_child ch;
	struct ike_sa *sa;

	if ((sa = ike_sa_new(&conf, &b, &a, 0)) == NULL)
		return NULL;
	memset(nonce, 0x4e, sizeof(nonce));
	memset(gir, 0x67, sizeof(gir));
	sa->spi_i = load_be64(spii);
	sa->spi_r = load_be64(spir);
	sa->suite = s;
	if (ike_keys_new_sa(&s, nonce, sizeof(nonce), nonce, sizeof(nonce),
	    gir, sizeof(gir), spii, spir, &sa->keys) != 0 ||
	    ike_sk_init_pair(&sa->sk_out, &sa->sk_in, &s, &sa->keys, false) !=
	    0 || ike_pool_alloc(conf.pool, (const uint8_t *)"fuzz", 4,
	    &sa->vip) != 0)
		abort();
	ike_sa_set_state(sa, IKE_SA_INIT_DONE);
	ike_sa_set_state(sa, IKE_SA_ESTABLISHED);
	sa->msgid_next = 1;
	memset(&ch, 0, sizeof(ch));
	ch.spi_in = 1;
	ch.spi_out = 0x11111111;
	ch.suite.encr = IKE_ENCR_AES_GCM_16;
	ch.suite.encr_bits = 256;
	ch.vip = sa->vip;
	store_be32(ch.tsi.start, sa->vip);
	store_be32(ch.tsi.end, sa->vip);
	ch.tsi.type = ch.tsr.type = IKE_TS_IPV4_ADDR_RANGE;
	ch.tsi.end_port = ch.tsr.end_port = 0xffff;
	memset(ch.tsr.end, 0xff, 4);
	if (ike_sa_child_install(sa, &ch, nonce, 16, nonce, 16) == NULL)
		abort();
	return sa;
}

/*
 * The peer's response to our outstanding request (or, with @wrong, to
 * another message ID) around @inner, under the SA's current keys.
 */
static size_t
response(struct ike_sa *sa, bool wrong, uint8_t first, const uint8_t *inner,
    size_t inner_len)
{
	struct ike_sk out, in;
	struct ike_builder b;
	struct ike_hdr h;
	struct wr w = wr_make(msg, sizeof(msg));
	uint8_t *body;
	size_t body_len, n = 0;

	/* The peer's side: the other role of the same keys. */
	if (ike_sk_init_pair(&out, &in, &sa->suite, &sa->keys,
	    !sa->orig_init) != 0)
		abort();
	body_len = ike_sk_len(&out, inner_len);
	memset(&h, 0, sizeof(h));
	h.spi_i = sa->spi_i;
	h.spi_r = sa->spi_r;
	h.exchange = sa->req.exchange;
	h.flags = IKE_FLAG_RESPONSE | (sa->orig_init ? 0 : IKE_FLAG_INITIATOR);
	h.msgid = sa->req.msgid + (wrong ? 1 : 0);
	ike_build_init(&b, &w, &h);
	if (body_len != 0 && ike_build_sk(&b, first, body_len, &body) == 0 &&
	    ike_build_finish(&b) == 0 && ike_sk_protect(&out, msg,
	    (size_t)(body - msg), inner, inner_len, body_len) == 0)
		n = w.len;
	ike_sk_cleanup(&out);
	ike_sk_cleanup(&in);
	return n;
}

static void
check(struct ike_sa *sa, const struct ike_out *out)
{
	if (out->len > IKE_SA_MSG_MAX ||
	    (out->len > 0 && ike_msg_parse(out->msg, out->len, &m) !=
	    IKE_PARSE_OK) || ike_sa_child_count(sa) > IKE_SA_CHILD_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };
	struct ike_out out;
	struct ike_sa *sa;
	uint64_t now = 0, at;
	uint16_t len;
	uint8_t flags, first;
	size_t i, n;
	const uint8_t *inner;

	setup();
	if ((sa = established()) == NULL)
		return 0;
	for (i = 0; i < RECORDS_MAX && rd_u8(&r, &flags) &&
	    rd_u8(&r, &first) && rd_be16(&r, &len) && r.n >= len; i++) {
		inner = r.p;
		(void)rd_skip(&r, len);
		if (flags & 2) {
			(void)ike_sa_delete(sa, now, &out);
			check(sa, &out);
		}
		/* Tick until a request of ours is out (or nothing is due). */
		while (sa->req.kind == IKE_REQ_NONE &&
		    (at = ike_sa_next_ms(sa)) != UINT64_MAX) {
			now = at > now ? at : now;
			ike_sa_tick(sa, now, &out);
			check(sa, &out);
			if (out.len == 0 && out.nev == 0 &&
			    ike_sa_next_ms(sa) <= now)
				break;	/* nothing happened: no spin */
		}
		if (sa->req.kind == IKE_REQ_NONE)
			break;
		if ((n = response(sa, (flags & 1) != 0, first, inner,
		    len)) == 0)
			continue;
		(void)ike_sa_handle(sa, msg, n, ++now, &out);
		check(sa, &out);
	}
	ike_sa_free(sa);
	if (ike_pool_used(conf.pool) != 0)
		abort();		/* every SA gave its address back */
	return 0;
}
