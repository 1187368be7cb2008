/*
 * RFC 7383 at the responder, what we send: IKEV2_FRAGMENTATION_SUPPORTED
 * answered only when offered (and not turned off); a protected message
 * longer than frag_max -- a response, or a request of our own -- comes
 * with its fragments (ike_out.frags), which decrypt one by one with the
 * initiator's keys and reassemble into the message's plaintext; a
 * retransmission gives the very same fragments (no new encryption); a
 * short message, an initiator that did not offer, or no_frag: none.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ike/frag.h"
#include "ike/fragout.h"
#include "ike/sa.h"
#include "test/unit/ike/initiator.h"

TestSuite(responder_frag, .timeout = 20);

struct t {
	struct ini	 I;
	struct ike_sa	*sa;
	struct ike_msg	*m;
	uint8_t		 buf[IKE_SA_MSG_MAX];
	size_t		 len;
	struct ike_out	 out;
};

/*
 * IKE_SA_INIT with @ike proposals and the initiator's KE in @group;
 * frag_max @max (0: the default); @offer: the initiator sends
 * IKEV2_FRAGMENTATION_SUPPORTED; @off: the conf's no_frag.
 */
static void
init(struct t *t, const char *ike, uint16_t group, size_t max, bool offer,
    bool off)
{
	memset(t, 0, sizeof(*t));
	ini_responder_setup(ike, "aes256gcm16");
	fx.conf.frag_max = max;
	fx.conf.no_frag = off;
	t->m = calloc(1, sizeof(*t->m));
	cr_assert_not_null(t->m);
	ini_gcm(&t->I);
	t->I.dh[0] = group;
	t->I.ke_group = group;
	t->I.no_frag = !offer;
	t->sa = ini_new_sa(0);
	ini_run_init(t->sa, &t->I);
	cr_assert_eq(ike_sa_frag(t->sa), offer && !off);
}

/* IKE_AUTH (PSK) answered at 2000 ms. */
static void
auth(struct t *t)
{
	t->len = ini_auth_req(&t->I, t->buf, sizeof(t->buf));
	cr_assert_eq(ike_sa_handle(t->sa, t->buf, t->len, 2000, &t->out),
	    IKE_SA_ANSWERED, "%s", t->out.reason);
	cr_assert_eq(ike_sa_state(t->sa), IKE_SA_ESTABLISHED);
}

static void
done(struct t *t)
{
	ike_sa_free(t->sa);
	free(t->m);
	ini_free(&t->I);
	ini_responder_teardown();
}

/*
 * @f against the whole message @msg as the initiator (keys I->sk_in)
 * takes them: each fragment at most @max octets, with @msg's header,
 * numbered, authentic on its own, reassembling into @msg's plaintext.
 * Returns the number of fragments.
 */
static unsigned
check(struct ini *I, const struct ike_frags *f, size_t max,
    const uint8_t *msg, size_t len)
{
	struct ike_msg *m = calloc(1, sizeof(*m)), *w = calloc(1, sizeof(*w));
	uint8_t *plain = malloc(IKE_SA_MSG_MAX), *part = malloc(max);
	uint8_t *whole = malloc(IKE_REASM_BYTES), first;
	struct ike_reasm r;
	const uint8_t *p;
	size_t off = 0, fl, pl, wl, plain_len;
	enum ike_frag_result res = IKE_FRAG_MORE;
	unsigned k = 0;

	cr_assert(m != NULL && w != NULL && plain != NULL && part != NULL &&
	    whole != NULL);
	cr_assert_eq(ike_msg_parse(msg, len, w), IKE_PARSE_OK);
	cr_assert(w->pl.have & IKE_HAVE_SK);
	cr_assert_eq(ike_sk_unprotect(&I->sk_in, msg, w->pl.sk.hdr_off +
	    IKE_GENHDR_LEN, len, plain, IKE_SA_MSG_MAX, &plain_len), 0);
	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	while (ike_frags_next(f, &off, &p, &fl)) {
		k++;
		cr_assert_leq(fl, max, "fragment %u: %zu > %zu", k, fl, max);
		cr_assert_eq(ike_msg_parse(p, fl, m), IKE_PARSE_OK);
		cr_assert_eq(m->pl.have, IKE_HAVE_SKF);
		cr_assert_eq(m->hdr.spi_i, w->hdr.spi_i);
		cr_assert_eq(m->hdr.spi_r, w->hdr.spi_r);
		cr_assert_eq(m->hdr.exchange, w->hdr.exchange);
		cr_assert_eq(m->hdr.flags, w->hdr.flags);
		cr_assert_eq(m->hdr.msgid, w->hdr.msgid);
		cr_assert_eq(m->pl.sk.frag_num, k);
		cr_assert_eq(m->pl.sk.frag_total, f->n);
		cr_assert_eq(m->pl.sk.inner, k == 1 ? w->pl.sk.inner : 0);
		cr_assert_eq(ike_sk_unprotect(&I->sk_in, p, m->pl.sk.hdr_off +
		    IKE_GENHDR_LEN + 4, fl, part, max, &pl), 0,
		    "fragment %u", k);
		cr_assert_eq(res, IKE_FRAG_MORE);
		res = ike_reasm_add(&r, 0, m->hdr.msgid, m->pl.sk.frag_num,
		    m->pl.sk.frag_total, m->pl.sk.inner, part, pl);
	}
	cr_assert_eq(k, f->n);
	cr_assert_eq(res, IKE_FRAG_COMPLETE);
	cr_assert_eq(ike_reasm_take(&r, w->hdr.msgid, whole, IKE_REASM_BYTES,
	    &wl, &first), 0);
	cr_assert_eq(first, w->pl.sk.inner);
	cr_assert_eq(wl, plain_len);
	cr_assert_eq(memcmp(whole, plain, wl), 0);
	ike_reasm_cleanup(&r);
	free(whole);
	free(part);
	free(plain);
	free(w);
	free(m);
	return k;
}

Test(responder_frag, fragments_a_long_response_and_resends_the_same)
{
	uint8_t *copy = malloc(IKE_FRAGS_BYTES);
	const uint8_t *was;
	size_t copy_len;
	unsigned n;
	struct t t;

	cr_assert_not_null(copy);
	init(&t, "aes256gcm16-prfsha384-x25519",
	    IKE_DH_CURVE25519, IKE_SA_FRAG_MAX_MIN, true,
	    false);
	auth(&t);
	/* The whole message stays (for a stream), and it is too long. */
	cr_assert_gt(t.out.len, IKE_SA_FRAG_MAX_MIN);
	cr_assert_geq(t.out.frags.n, 2);
	n = check(&t.I, &t.out.frags, IKE_SA_FRAG_MAX_MIN, t.out.msg,
	    t.out.len);
	cr_assert_eq(n, t.out.frags.n);
	was = t.out.frags.buf;
	copy_len = t.out.frags.len;
	memcpy(copy, was, copy_len);

	/* RFC 7383 §2.6, RFC 7296 §2.1: the same fragments again. */
	cr_assert_eq(ike_sa_handle(t.sa, t.buf, t.len, 3000, &t.out),
	    IKE_SA_RETRANSMIT, "%s", t.out.reason);
	cr_assert_eq(t.out.frags.buf, was);
	cr_assert_eq(t.out.frags.n, n);
	cr_assert_eq(t.out.frags.len, copy_len);
	cr_assert_eq(memcmp(t.out.frags.buf, copy, copy_len), 0);
	free(copy);
	done(&t);
}

Test(responder_frag, sends_a_short_response_whole)
{
	uint8_t inner[8];
	struct t t;

	init(&t, "aes256gcm16-prfsha384-x25519",
	    IKE_DH_CURVE25519, 0, true, false);
	auth(&t);
	/* About 300 octets: far below 1228 (IKE_SA_FRAG_MAX_DEFAULT). */
	cr_assert_lt(t.out.len, IKE_SA_FRAG_MAX_DEFAULT);
	cr_assert_eq(t.out.frags.n, 0);
	cr_assert_null(t.out.frags.buf);
	/* An empty INFORMATIONAL: one SK payload, never a lone fragment. */
	cr_assert_eq(ini_info(t.sa, &t.I, 2, 0, inner, 0, &t.out),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(t.out.frags.n, 0);
	done(&t);
}

Test(responder_frag, does_not_fragment_unless_the_initiator_offered)
{
	struct t t;

	init(&t, "aes256gcm16-prfsha384-x25519",
	    IKE_DH_CURVE25519, IKE_SA_FRAG_MAX_MIN, false,
	    false);
	auth(&t);
	cr_assert_gt(t.out.len, IKE_SA_FRAG_MAX_MIN);
	cr_assert_eq(t.out.frags.n, 0);
	done(&t);
}

Test(responder_frag, no_frag_leaves_the_notify_unanswered)
{
	struct t t;

	init(&t, "aes256gcm16-prfsha384-x25519",
	    IKE_DH_CURVE25519, IKE_SA_FRAG_MAX_MIN, true,
	    true);
	auth(&t);
	cr_assert_eq(t.out.frags.n, 0);
	done(&t);
}

/*
 * Our own request: an IKE SA rekey with MODP-2048 (a 256-octet KE) is
 * longer than frag_max; its retransmission resends the same fragments.
 */
Test(responder_frag, fragments_our_own_long_request_and_resends_the_same)
{
	uint8_t *copy = malloc(IKE_FRAGS_BYTES);
	uint64_t at;
	size_t copy_len;
	struct t t;

	cr_assert_not_null(copy);
	init(&t, "aes256gcm16-prfsha384-modp2048",
	    IKE_DH_MODP2048, IKE_SA_FRAG_MAX_MIN, true,
	    false);
	fx.conf.ike_lifetime_ms = 100000;
	auth(&t);
	at = ike_sa_next_ms(t.sa);
	ike_sa_tick(t.sa, at, &t.out);
	cr_assert_gt(t.out.len, IKE_SA_FRAG_MAX_MIN);
	cr_assert(!t.out.resend);
	cr_assert_geq(t.out.frags.n, 2);
	(void)check(&t.I, &t.out.frags, IKE_SA_FRAG_MAX_MIN, t.out.msg,
	    t.out.len);
	copy_len = t.out.frags.len;
	memcpy(copy, t.out.frags.buf, copy_len);
	/* §2.1 over UDP: resent after 2 s, every fragment as it was. */
	ike_sa_tick(t.sa, at + IKE_SA_RTX_FIRST_MS, &t.out);
	cr_assert(t.out.resend);
	cr_assert_eq(t.out.frags.len, copy_len);
	cr_assert_eq(memcmp(t.out.frags.buf, copy, copy_len), 0);
	free(copy);
	done(&t);
}
