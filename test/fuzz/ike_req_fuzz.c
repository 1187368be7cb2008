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
#include "ike/sa_int.h"
#include "test/fuzz/ike_fuzz_sa.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	RECORDS_MAX	= 8
};

static const char *const ike[] = { "aes256gcm16-prfsha384-x25519", NULL };
/* The second one: AES-CBC, HMAC-SHA-256 and a PFS group. */
static const char *const esp[] = { "aes256gcm16", "aes128-sha256-x25519",
    NULL };
static struct ike_sa_conf conf;
static struct ike_msg m;
static uint8_t msg[IKE_SA_MSG_MAX];

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
	if (!fuzz_out_ok(out, &m) ||
	    ike_sa_child_count(sa) > IKE_SA_CHILD_MAX)
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

	if (fuzz_conf(&conf, ike, esp)) {
		conf.dpd_delay_ms = 7000;	/* after the first rekeys */
		conf.dpd_timeout_ms = 5000;
		conf.ike_lifetime_ms = 20000;
		conf.child_lifetime_ms = 10000;
	}
	if ((sa = fuzz_established(&conf)) == NULL)
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
