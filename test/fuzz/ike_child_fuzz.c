/*
 * The responder's protected exchanges on arbitrary inner payloads: an
 * established IKE SA (keys from fixed nonces, one Child SA, a virtual IP)
 * gets a series of authentic requests whose plaintext is the input, so
 * CREATE_CHILD_SA (new Child SA, Child SA and IKE SA rekey, every
 * refusal) and INFORMATIONAL (Delete, the old SA after a rekey,
 * and MOBIKE's UPDATE_SA_ADDRESSES / COOKIE2) are reached past the ICV
 * check that stops ike_sa_fuzz.
 *
 * Input: records of  [flags][first payload][length, 2 octets][payload
 * chain].  flags bit 0: INFORMATIONAL, else CREATE_CHILD_SA; bit 1: the
 * same message ID again (a retransmission); bit 2: to the SA's first
 * SPIs and keys (after a rekey: the old SA).  A response must fit its
 * bound and parse; every address goes back to the pool.
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
}

/* An SA as IKE_AUTH leaves it; @ini_out protects what we send to it. */
static struct ike_sa *
established(struct ike_sk *ini_out)
{
	static const uint8_t spii[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t spir[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	struct ike_endpoint a = { 4, { 192, 0, 2, 1 }, 4500 };
	struct ike_endpoint b = { 4, { 192, 0, 2, 2 }, 4500 };
	struct ike_suite s = { IKE_ENCR_AES_GCM_16, 256,
	    IKE_PRF_HMAC_SHA2_384, IKE_INTEG_NONE, IKE_DH_CURVE25519 };
	uint8_t nonce[32], gir[32];
	struct ike_child ch;
	struct ike_sk ini_in;
	struct ike_sa *sa;

	if ((sa = ike_sa_new(&conf, &b, &a, 0)) == NULL)
		return NULL;
	memset(nonce, 0x4e, sizeof(nonce));
	memset(gir, 0x67, sizeof(gir));
	sa->spi_i = load_be64(spii);
	sa->spi_r = load_be64(spir);
	sa->suite = s;
	memcpy(sa->ni, nonce, sizeof(nonce));
	memcpy(sa->nr, nonce, sizeof(nonce));
	sa->ni_len = sa->nr_len = sizeof(nonce);
	if (ike_keys_new_sa(&s, nonce, sizeof(nonce), nonce, sizeof(nonce),
	    gir, sizeof(gir), spii, spir, &sa->keys) != 0 ||
	    ike_sk_init_pair(&sa->sk_out, &sa->sk_in, &s, &sa->keys, false) !=
	    0 || ike_sk_init_pair(ini_out, &ini_in, &s, &sa->keys, true) != 0 ||
	    ike_pool_alloc(conf.pool, (const uint8_t *)"fuzz", 4, &sa->vip) !=
	    0)
		abort();
	ike_sk_cleanup(&ini_in);
	ike_sa_set_state(sa, IKE_SA_INIT_DONE);
	ike_sa_set_state(sa, IKE_SA_ESTABLISHED);
	sa->msgid_next = 1;
	sa->mobike = true;	/* RFC 4555 notifies are processed */
	memset(&ch, 0, sizeof(ch));
	ch.spi_in = 1;
	ch.spi_out = 0x11111111;
	ch.suite.encr = IKE_ENCR_AES_GCM_16;
	ch.suite.encr_bits = 256;
	ch.vip = sa->vip;
	if (ike_sa_child_install(sa, &ch, nonce, 16, nonce, 16) == NULL)
		abort();
	return sa;
}

/* One protected request around @inner; its length, 0 if it did not fit. */
static size_t
request(struct ike_sk *sk, uint64_t spi_i, uint64_t spi_r, uint8_t exch,
    uint32_t msgid, uint8_t first, const uint8_t *inner, size_t inner_len)
{
	struct ike_builder b;
	struct ike_hdr h;
	struct wr w = wr_make(msg, sizeof(msg));
	uint8_t *body;
	size_t body_len = ike_sk_len(sk, inner_len);

	memset(&h, 0, sizeof(h));
	h.spi_i = spi_i;
	h.spi_r = spi_r;
	h.exchange = exch;
	h.flags = IKE_FLAG_INITIATOR;
	h.msgid = msgid;
	ike_build_init(&b, &w, &h);
	if (body_len == 0 || ike_build_sk(&b, first, body_len, &body) != 0 ||
	    ike_build_finish(&b) != 0 || ike_sk_protect(sk, msg,
	    (size_t)(body - msg), inner, inner_len, body_len) != 0)
		return 0;
	return w.len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };
	struct ike_sk sk;
	struct ike_out out;
	struct ike_sa *sa;
	uint64_t spi_i, spi_r;
	uint32_t msgid = 0;
	uint16_t len;
	uint8_t flags, first;
	size_t i, n;
	const uint8_t *inner;

	setup();
	if ((sa = established(&sk)) == NULL)
		return 0;
	spi_i = sa->spi_i;
	spi_r = sa->spi_r;
	for (i = 0; i < RECORDS_MAX && rd_u8(&r, &flags) &&
	    rd_u8(&r, &first) && rd_be16(&r, &len) && r.n >= len; i++) {
		inner = r.p;
		(void)rd_skip(&r, len);
		if (!(flags & 2))
			msgid++;
		/* After an IKE SA rekey only the old SA's keys are known. */
		n = request(&sk, (flags & 4) ? spi_i : sa->spi_i,
		    (flags & 4) ? spi_r : sa->spi_r, (flags & 1) ?
		    IKE_EXCH_INFORMATIONAL : IKE_EXCH_CREATE_CHILD_SA, msgid,
		    first, inner, len);
		if (n == 0)
			continue;
		(void)ike_sa_handle(sa, msg, n, 1000 + i, &out);
		if (out.len > IKE_SA_MSG_MAX ||
		    (out.len > 0 && ike_msg_parse(out.msg, out.len, &m) !=
		    IKE_PARSE_OK))
			abort();
		if (ike_sa_child_count(sa) > IKE_SA_CHILD_MAX)
			abort();
	}
	ike_sk_cleanup(&sk);
	ike_sa_free(sa);
	if (ike_pool_used(conf.pool) != 0)
		abort();		/* every SA gave its address back */
	return 0;
}
