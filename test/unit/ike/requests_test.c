/*
 * ike/exch_req.c: the requests the responder initiates, against the
 * test-only initiator (initiator.h): liveness checks, their schedule and
 * budget, our Delete of the IKE SA and of the Child SA, the collisions of
 * RFC 7296 §1.4.1, and responses that must change nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "framing/wire.h"
#include "ike/cp.h"
#include "test/unit/ike/initiator.h"

TestSuite(requests);

struct t {
	struct ini	 I;
	struct ike_sa	*sa;
	struct ike_msg	*m;
	uint8_t		 plain[IKE_SA_MSG_MAX];
	uint8_t		 buf[IKE_SA_MSG_MAX];
	struct ike_out	 out;
};

/* ESTABLISHED at 2000 ms with the first Child SA (our SPI 1). */
static void
up(struct t *t, unsigned dpd, unsigned timeout, unsigned ike_life,
    unsigned child_life)
{
	size_t n;

	memset(t, 0, sizeof(*t));
	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	fx.conf.dpd_delay_ms = dpd;
	fx.conf.dpd_timeout_ms = timeout;
	fx.conf.ike_lifetime_ms = ike_life;
	fx.conf.child_lifetime_ms = child_life;
	t->m = calloc(1, sizeof(*t->m));
	cr_assert_not_null(t->m);
	ini_gcm(&t->I);
	t->sa = ini_new_sa(0);
	ini_run_init(t->sa, &t->I);
	n = ini_auth_req(&t->I, t->buf, sizeof(t->buf));
	cr_assert_eq(ike_sa_handle(t->sa, t->buf, n, 2000, &t->out),
	    IKE_SA_ANSWERED, "%s", t->out.reason);
	cr_assert_eq(ike_sa_state(t->sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 1);
}

static void
down(struct t *t)
{
	ike_sa_free(t->sa);
	free(t->m);
	ini_free(&t->I);
	ini_responder_teardown();
}

/* The initiator answers our request @msgid with @inner. */
static enum ike_sa_result
answer(struct t *t, uint32_t msgid, uint8_t first, const uint8_t *inner,
    size_t inner_len, uint64_t now)
{
	size_t n = ini_respond(&t->I, IKE_EXCH_INFORMATIONAL, msgid, first,
	    inner, inner_len, t->buf, sizeof(t->buf));

	return ike_sa_handle(t->sa, t->buf, n, now, &t->out);
}

/* An INFORMATIONAL request from the initiator carrying one Delete. */
static enum ike_sa_result
peer_delete(struct t *t, uint32_t msgid, uint8_t proto, const uint8_t *spi)
{
	uint8_t inner[32];
	struct ike_builder b;
	struct ike_delete d;
	struct wr w = wr_make(inner, sizeof(inner));

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
	return ini_info(t->sa, &t->I, msgid, b.first, inner, w.len, &t->out);
}

static bool
has_event(const struct ike_out *out, enum ike_event_type type)
{
	for (size_t i = 0; i < out->nev; i++)
		if (out->ev[i].type == type)
			return true;
	return false;
}

Test(requests, dpd_request_is_built_and_its_response_accepted, .timeout = 20)
{
	struct t t;

	up(&t, 10000, 0, 0, 0);
	cr_assert_eq(ike_sa_next_ms(t.sa), 12000);
	ike_sa_tick(t.sa, 11999, &t.out);
	cr_assert_eq(t.out.len, 0);

	/* §1.4: an empty INFORMATIONAL under our own message ID 0. */
	ike_sa_tick(t.sa, 12000, &t.out);
	cr_assert_gt(t.out.len, 0);
	cr_assert_not(t.out.resend);
	ini_open_req(&t.I, t.out.msg, t.out.len, 0, t.m, t.plain);
	cr_assert_eq(t.m->hdr.exchange, IKE_EXCH_INFORMATIONAL);
	cr_assert_eq(t.m->pl.have, 0);
	cr_assert_eq(t.m->pl.ndelete + t.m->pl.nnotify, 0);
	cr_assert_eq(ike_sa_next_ms(t.sa), 12000 + IKE_SA_RTX_FIRST_MS);

	/* Its response: accepted, liveness renewed, the next one is ID 1. */
	cr_assert_eq(answer(&t, 0, IKE_PL_NONE, NULL, 0, 12500),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(t.out.len, 0);
	cr_assert_eq(t.out.nev, 0);
	cr_assert_eq(ike_sa_last_ms(t.sa), 12500);
	cr_assert_eq(ike_sa_next_ms(t.sa), 22500);
	ike_sa_tick(t.sa, 22500, &t.out);
	ini_open_req(&t.I, t.out.msg, t.out.len, 1, t.m, t.plain);

	/* The peer's own requests keep their own message IDs (§2.2). */
	cr_assert_eq(ini_info(t.sa, &t.I, 2, IKE_PL_NONE, NULL, 0, &t.out),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(answer(&t, 1, IKE_PL_NONE, NULL, 0, 23000),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_ESTABLISHED);
	down(&t);
}

Test(requests, inbound_esp_postpones_the_liveness_check, .timeout = 20)
{
	struct t t;

	up(&t, 10000, 0, 0, 0);
	ike_sa_alive(t.sa, 8000);
	cr_assert_eq(ike_sa_next_ms(t.sa), 18000);
	ike_sa_tick(t.sa, 12000, &t.out);
	cr_assert_eq(t.out.len, 0);
	/* Time does not run backwards. */
	ike_sa_alive(t.sa, 5000);
	cr_assert_eq(ike_sa_last_ms(t.sa), 8000);
	down(&t);
}

Test(requests, no_dpd_no_lifetime_means_nothing_to_do, .timeout = 20)
{
	struct t t;

	up(&t, 0, 0, 0, 0);
	cr_assert_eq(ike_sa_next_ms(t.sa), UINT64_MAX);
	ike_sa_tick(t.sa, 1000000, &t.out);
	cr_assert_eq(t.out.len, 0);
	down(&t);
}

Test(requests, retransmissions_are_identical_and_back_off, .timeout = 20)
{
	static const uint64_t at[] = { 14000, 18000, 26000 };
	uint8_t first[IKE_SA_MSG_MAX];
	size_t first_len;
	struct t t;

	up(&t, 10000, 30000, 0, 0);
	ike_sa_tick(t.sa, 12000, &t.out);
	memcpy(first, t.out.msg, t.out.len);
	first_len = t.out.len;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		cr_assert_eq(ike_sa_next_ms(t.sa), at[i], "case %zu", i);
		ike_sa_tick(t.sa, at[i] - 1, &t.out);
		cr_assert_eq(t.out.len, 0, "case %zu", i);
		ike_sa_tick(t.sa, at[i], &t.out);
		cr_assert(t.out.resend, "case %zu", i);
		cr_assert_eq(t.out.len, first_len, "case %zu", i);
		cr_assert_arr_eq(t.out.msg, first, first_len, "case %zu", i);
	}
	/* 16 s cap; the budget (30 s from 12 s) ends at 42 s. */
	cr_assert_eq(ike_sa_next_ms(t.sa), 42000);
	ike_sa_tick(t.sa, 41999, &t.out);
	cr_assert_eq(t.out.nev, 0);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_ESTABLISHED);
	down(&t);
}

Test(requests, unanswered_dpd_kills_the_sa_after_the_budget, .timeout = 20)
{
	struct t t;

	up(&t, 10000, 5000, 0, 0);
	ike_sa_tick(t.sa, 12000, &t.out);
	cr_assert_gt(t.out.len, 0);
	ike_sa_tick(t.sa, 14000, &t.out);
	cr_assert(t.out.resend);
	cr_assert_eq(ike_sa_next_ms(t.sa), 17000);
	ike_sa_tick(t.sa, 16999, &t.out);
	cr_assert_eq(t.out.nev, 0);
	ike_sa_tick(t.sa, 17000, &t.out);
	cr_assert_eq(t.out.len, 0);
	cr_assert_eq(t.out.nev, 2);
	cr_assert_eq(t.out.ev[0].type, IKE_EV_CHILD_DOWN);
	cr_assert_eq(t.out.ev[0].child->spi_in, 1);
	cr_assert_eq(t.out.ev[1].type, IKE_EV_IKE_DOWN);
	cr_assert(strstr(t.out.reason, "peer dead") != NULL, "%s",
	    t.out.reason);
	cr_assert(strstr(t.out.reason, "5000 ms") != NULL, "%s",
	    t.out.reason);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_DEAD);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 0);
	cr_assert_eq(ike_sa_next_ms(t.sa), UINT64_MAX);
	/* A late response finds nothing outstanding. */
	cr_assert_eq(answer(&t, 0, IKE_PL_NONE, NULL, 0, 18000),
	    IKE_SA_DROPPED);
	down(&t);
}

Test(requests, wrong_or_forged_responses_change_nothing, .timeout = 20)
{
	struct t t;
	size_t n;

	up(&t, 10000, 0, 0, 0);
	/* Nothing outstanding yet. */
	cr_assert_eq(answer(&t, 0, IKE_PL_NONE, NULL, 0, 3000),
	    IKE_SA_DROPPED);
	cr_assert(strstr(t.out.reason, "no request") != NULL, "%s",
	    t.out.reason);
	ike_sa_tick(t.sa, 12000, &t.out);
	cr_assert_gt(t.out.len, 0);

	/* Wrong message ID. */
	cr_assert_eq(answer(&t, 1, IKE_PL_NONE, NULL, 0, 12100),
	    IKE_SA_DROPPED);
	cr_assert(strstr(t.out.reason, "expected 0") != NULL, "%s",
	    t.out.reason);
	/* Wrong exchange. */
	n = ini_respond(&t.I, IKE_EXCH_CREATE_CHILD_SA, 0, IKE_PL_NONE, NULL,
	    0, t.buf, sizeof(t.buf));
	cr_assert_eq(ike_sa_handle(t.sa, t.buf, n, 12100, &t.out),
	    IKE_SA_DROPPED);
	/* Forged: one flipped bit in the ICV. */
	n = ini_respond(&t.I, IKE_EXCH_INFORMATIONAL, 0, IKE_PL_NONE, NULL, 0,
	    t.buf, sizeof(t.buf));
	t.buf[n - 1] ^= 1;
	cr_assert_eq(ike_sa_handle(t.sa, t.buf, n, 12200, &t.out),
	    IKE_SA_DROPPED);
	cr_assert(strstr(t.out.reason, "integrity") != NULL, "%s",
	    t.out.reason);
	/* None of them counted as liveness or closed the exchange. */
	cr_assert_eq(ike_sa_last_ms(t.sa), 2000);
	cr_assert_eq(ike_sa_next_ms(t.sa), 12000 + IKE_SA_RTX_FIRST_MS);
	cr_assert_eq(answer(&t, 0, IKE_PL_NONE, NULL, 0, 12300),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(ike_sa_last_ms(t.sa), 12300);
	down(&t);
}

Test(requests, our_delete_goes_out_and_its_response_ends_the_sa,
    .timeout = 20)
{
	struct t t;

	up(&t, 0, 0, 0, 0);
	cr_assert_eq(ike_sa_delete(t.sa, 3000, &t.out), 0);
	cr_assert_gt(t.out.len, 0);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_DELETING);
	ini_open_req(&t.I, t.out.msg, t.out.len, 0, t.m, t.plain);
	cr_assert_eq(t.m->pl.ndelete, 1);
	cr_assert_eq(t.m->pl.delete[0].proto, IKE_PROTO_IKE);
	cr_assert_eq(t.m->pl.delete[0].nspis, 0);
	/* Only once. */
	cr_assert_eq(ike_sa_delete(t.sa, 3001, &t.out), -1);

	/* §1.4.1: the (empty) response ends the IKE SA and its child. */
	cr_assert_eq(answer(&t, 0, IKE_PL_NONE, NULL, 0, 3100),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert(has_event(&t.out, IKE_EV_CHILD_DOWN));
	cr_assert(has_event(&t.out, IKE_EV_IKE_DOWN));
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_DEAD);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 0);
	down(&t);
}

Test(requests, delete_collision_the_peers_delete_is_answered,
    .timeout = 20)
{
	struct t t;

	up(&t, 0, 0, 0, 0);
	cr_assert_eq(ike_sa_delete(t.sa, 3000, &t.out), 0);
	/* Both sides delete at once: we answer theirs, and the SA is gone. */
	cr_assert_eq(peer_delete(&t, 2, IKE_PROTO_IKE, NULL),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert(has_event(&t.out, IKE_EV_IKE_DOWN));
	ini_open(&t.I, t.out.msg, t.out.len, 2, t.m, t.plain);
	cr_assert_eq(t.m->pl.ndelete, 0);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_DEAD);
	cr_assert_eq(ike_sa_next_ms(t.sa), UINT64_MAX);
	down(&t);
}

Test(requests, delete_waits_for_the_outstanding_request, .timeout = 20)
{
	struct t t;

	up(&t, 10000, 0, 0, 0);
	ike_sa_tick(t.sa, 12000, &t.out);
	cr_assert_gt(t.out.len, 0);
	/* Window 1 (§2.3): queued behind the liveness check. */
	cr_assert_eq(ike_sa_delete(t.sa, 12100, &t.out), 0);
	cr_assert_eq(t.out.len, 0);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(answer(&t, 0, IKE_PL_NONE, NULL, 0, 12200),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(ike_sa_next_ms(t.sa), 0);
	ike_sa_tick(t.sa, 12200, &t.out);
	ini_open_req(&t.I, t.out.msg, t.out.len, 1, t.m, t.plain);
	cr_assert_eq(t.m->pl.ndelete, 1);
	cr_assert_eq(t.m->pl.delete[0].proto, IKE_PROTO_IKE);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_DELETING);
	down(&t);
}

Test(requests, an_unanswered_delete_ends_the_sa_all_the_same,
    .timeout = 20)
{
	struct t t;

	up(&t, 0, 4000, 0, 0);
	cr_assert_eq(ike_sa_delete(t.sa, 3000, &t.out), 0);
	ike_sa_tick(t.sa, 7000, &t.out);
	cr_assert(has_event(&t.out, IKE_EV_IKE_DOWN));
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_DEAD);
	down(&t);
}

Test(requests, ike_lifetime_deletes_the_ike_sa, .timeout = 20)
{
	struct t t;

	up(&t, 0, 0, 60000, 0);
	cr_assert_eq(ike_sa_next_ms(t.sa), 62000);
	ike_sa_tick(t.sa, 62000, &t.out);
	cr_assert(strstr(t.out.reason, "lifetime") != NULL, "%s",
	    t.out.reason);
	ini_open_req(&t.I, t.out.msg, t.out.len, 0, t.m, t.plain);
	cr_assert_eq(t.m->pl.delete[0].proto, IKE_PROTO_IKE);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_DELETING);
	down(&t);
}

Test(requests, child_lifetime_deletes_the_child_sa, .timeout = 20)
{
	struct t t;

	up(&t, 0, 0, 0, 30000);
	cr_assert_eq(ike_sa_next_ms(t.sa), 32000);
	ike_sa_tick(t.sa, 32000, &t.out);
	ini_open_req(&t.I, t.out.msg, t.out.len, 0, t.m, t.plain);
	cr_assert_eq(t.m->pl.ndelete, 1);
	cr_assert_eq(t.m->pl.delete[0].proto, IKE_PROTO_ESP);
	cr_assert_eq(ike_delete_spi(&t.m->pl.delete[0], 0), 1);

	/* §1.4.1: their Delete of the same child crosses ours: no Delete
	 * payload in our answer; the child goes down once. */
	cr_assert_eq(peer_delete(&t, 2, IKE_PROTO_ESP, t.I.esp_spi),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert(has_event(&t.out, IKE_EV_CHILD_DOWN));
	ini_open(&t.I, t.out.msg, t.out.len, 2, t.m, t.plain);
	cr_assert_eq(t.m->pl.ndelete, 0);
	cr_assert_eq(answer(&t, 0, IKE_PL_NONE, NULL, 0, 32100),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(t.out.nev, 0);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_next_ms(t.sa), UINT64_MAX);
	down(&t);
}
