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
#include <openssl/rand.h>

#include "framing/wire.h"
#include "ike/cp.h"
#include "ike/dh.h"
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
	uint8_t inner[32], first;
	size_t n = ini_delete_inner(proto, spi, inner, sizeof(inner), &first);

	return ini_info(t->sa, &t->I, msgid, first, inner, n, &t->out);
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

/* The initiator refuses our request @msgid (TEMPORARY_FAILURE). */
static void
refuse(struct t *t, uint32_t msgid, uint64_t now)
{
	uint8_t inner[16];
	struct ike_builder b;
	struct ike_notify n;
	struct wr w = wr_make(inner, sizeof(inner));
	size_t len;

	memset(&n, 0, sizeof(n));
	n.type = IKE_N_TEMPORARY_FAILURE;
	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_notify(&b, &n), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	len = ini_respond(&t->I, IKE_EXCH_CREATE_CHILD_SA, msgid, b.first,
	    inner, w.len, t->buf, sizeof(t->buf));
	cr_assert_eq(ike_sa_handle(t->sa, t->buf, len, now, &t->out),
	    IKE_SA_ANSWERED);
	cr_assert(strstr(t->out.reason, "refused") != NULL, "%s",
	    t->out.reason);
	cr_assert_eq(t->out.nev, 0);
}

/*
 * The peer refuses every rekey we start (at most 10), until there is no
 * time left for one: the next thing due is the hard limit @hard.
 * Returns the message ID of our next request.
 */
static uint32_t
refuse_rekeys_until(struct t *t, uint64_t hard)
{
	uint64_t at;
	uint32_t id = 0;

	while ((at = ike_sa_next_ms(t->sa)) != hard) {
		cr_assert_lt(at, hard);
		cr_assert_lt(id, 10);
		ike_sa_tick(t->sa, at, &t->out);
		ini_open_req(&t->I, t->out.msg, t->out.len, id, t->m,
		    t->plain);
		cr_assert_eq(t->m->hdr.exchange, IKE_EXCH_CREATE_CHILD_SA);
		refuse(t, id++, at);
	}
	return id;
}

Test(requests, ike_lifetime_deletes_the_ike_sa, .timeout = 20)
{
	struct t t;
	uint32_t id;

	up(&t, 0, 0, 60000, 0);
	id = refuse_rekeys_until(&t, 62000);
	ike_sa_tick(t.sa, 62000, &t.out);
	cr_assert(strstr(t.out.reason, "lifetime") != NULL, "%s",
	    t.out.reason);
	ini_open_req(&t.I, t.out.msg, t.out.len, id, t.m, t.plain);
	cr_assert_eq(t.m->pl.delete[0].proto, IKE_PROTO_IKE);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_DELETING);
	down(&t);
}

Test(requests, child_lifetime_deletes_the_child_sa, .timeout = 20)
{
	struct t t;
	uint32_t id;

	up(&t, 0, 0, 0, 30000);
	id = refuse_rekeys_until(&t, 32000);
	ike_sa_tick(t.sa, 32000, &t.out);
	ini_open_req(&t.I, t.out.msg, t.out.len, id, t.m, t.plain);
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
	cr_assert_eq(answer(&t, id, IKE_PL_NONE, NULL, 0, 32100),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(t.out.nev, 0);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_next_ms(t.sa), UINT64_MAX);
	down(&t);
}

/*
 * The initiator's side of our Child SA rekey (§1.3.3): checks the request,
 * answers it with its new SPI @spi_i, and checks the keys both derive.
 */
static void
rekey_round(struct t *t, bool pfs, uint32_t msgid, uint32_t old_in,
    uint32_t new_in, uint32_t spi_i)
{
	const struct ike_notify *n;
	const struct ike_child *ch;
	struct ike_sa_pl *sa_pl = calloc(1, sizeof(*sa_pl));
	struct ike_kex *kex = NULL;
	struct ike_child_keys kk;
	struct ike_builder b;
	struct ike_chosen c;
	struct ike_ts_pl tsi, tsr;
	struct ike_suite cs;
	struct ike_ke ke;
	uint8_t inner[2048], ni[IKE_NONCE_MAX], nr[32], spi_b[4];
	uint8_t pub[IKE_KEX_PUB_MAX], gir[IKE_KEX_SECRET_MAX];
	size_t ni_len, gir_len = 0, n_len;
	struct wr w;

	cr_assert_not_null(sa_pl);
	cr_assert_gt(t->out.len, 0, "%s", t->out.reason);
	ini_open_req(&t->I, t->out.msg, t->out.len, msgid, t->m, t->plain);
	cr_assert_eq(t->m->hdr.exchange, IKE_EXCH_CREATE_CHILD_SA);
	n = ini_find_n(t->m, IKE_N_REKEY_SA);
	cr_assert_not_null(n);
	cr_assert_eq(n->proto, IKE_PROTO_ESP);
	cr_assert_eq(n->spi.len, 4);
	cr_assert_eq(load_be32(n->spi.p), old_in);
	cr_assert_eq(t->m->pl.sa.nproposals, 1);
	cr_assert_eq(t->m->pl.sa.proposals[0].spi_size, 4);
	cr_assert_eq(load_be32(t->m->pl.sa.proposals[0].spi), new_in);
	/* §2.9: TSi is the rekey initiator's side (ours), TSr the VIP. */
	cr_assert_arr_eq(t->m->pl.tsi.ts[0].start, "\0\0\0\0", 4);
	cr_assert_arr_eq(t->m->pl.tsr.ts[0].start, "\x0a\x0a\x00\x01", 4);
	cr_assert_arr_eq(t->m->pl.tsr.ts[0].end, "\x0a\x0a\x00\x01", 4);
	cr_assert_eq((t->m->pl.have & IKE_HAVE_KE) != 0, pfs);
	ni_len = t->m->pl.nonce.len;
	memcpy(ni, t->m->pl.nonce.p, ni_len);
	memset(&cs, 0, sizeof(cs));
	cs.encr = IKE_ENCR_AES_GCM_16;
	cs.encr_bits = 256;
	if (pfs) {
		cr_assert_eq(t->m->pl.ke.group, IKE_DH_CURVE25519);
		cs.dh = IKE_DH_CURVE25519;
		kex = ike_kex_new(IKE_DH_CURVE25519, 0);
		cr_assert_not_null(kex);
		gir_len = ike_kex_secret_len(IKE_DH_CURVE25519);
		cr_assert_eq(ike_kex_derive(kex, t->m->pl.ke.data.p,
		    t->m->pl.ke.data.len, gir, gir_len), 0);
		cr_assert_eq(ike_kex_public(kex, pub,
		    ike_kex_pub_len(IKE_DH_CURVE25519)), 0);
	}
	tsi = t->m->pl.tsi;
	tsr = t->m->pl.tsr;

	/* The response: SA (our SPI), Nr, [KEr], TSi, TSr. */
	memset(&c, 0, sizeof(c));
	c.num = 1;
	c.proto = IKE_PROTO_ESP;
	c.suite = cs;
	c.has_dh = pfs;
	c.has_esn = true;
	c.esn = IKE_ESN_NO;
	store_be32(spi_b, spi_i);
	ike_proposal_response(&c, spi_b, 4, sa_pl);
	cr_assert_eq(RAND_bytes(nr, sizeof(nr)), 1);
	w = wr_make(inner, sizeof(inner));
	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_sa(&b, sa_pl), 0);
	cr_assert_eq(ike_build_nonce(&b, nr, sizeof(nr)), 0);
	if (pfs) {
		ke.group = IKE_DH_CURVE25519;
		ke.data.p = pub;
		ke.data.len = ike_kex_pub_len(IKE_DH_CURVE25519);
		cr_assert_eq(ike_build_ke(&b, &ke), 0);
	}
	cr_assert_eq(ike_build_ts(&b, IKE_PL_TSI, &tsi), 0);
	cr_assert_eq(ike_build_ts(&b, IKE_PL_TSR, &tsr), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	n_len = ini_respond(&t->I, IKE_EXCH_CREATE_CHILD_SA, msgid, b.first,
	    inner, w.len, t->buf, sizeof(t->buf));
	cr_assert_eq(ike_sa_handle(t->sa, t->buf, n_len, 40000, &t->out),
	    IKE_SA_ANSWERED, "%s", t->out.reason);
	cr_assert(strstr(t->out.reason, "rekeyed") != NULL, "%s",
	    t->out.reason);
	cr_assert_eq(t->out.nev, 1);
	cr_assert_eq(t->out.ev[0].type, IKE_EV_CHILD_UP);
	ch = t->out.ev[0].child;
	cr_assert_eq(ch->spi_in, new_in);
	cr_assert_eq(ch->spi_out, spi_i);
	cr_assert_eq(ch->vip, 0x0a0a0001);

	/* §2.17 with the server as "i": its inbound is our er/ar. */
	cr_assert_eq(ike_child_keys_derive(t->I.suite.prf, t->I.keys.sk_d,
	    t->I.keys.prf_len, &cs, pfs ? gir : NULL, gir_len, ni, ni_len,
	    nr, sizeof(nr), &kk), 0);
	cr_assert_eq(kk.encr_len, ch->keys.encr_len);
	cr_assert_arr_eq(ch->keys.ei, kk.er, kk.encr_len);
	cr_assert_arr_eq(ch->keys.er, kk.ei, kk.encr_len);

	/* §2.8: then the old Child SA is deleted by its inbound SPI. */
	cr_assert_eq(ike_sa_next_ms(t->sa), 0);
	ike_sa_tick(t->sa, 40001, &t->out);
	ini_open_req(&t->I, t->out.msg, t->out.len, msgid + 1, t->m,
	    t->plain);
	cr_assert_eq(t->m->pl.ndelete, 1);
	cr_assert_eq(t->m->pl.delete[0].proto, IKE_PROTO_ESP);
	cr_assert_eq(ike_delete_spi(&t->m->pl.delete[0], 0), old_in);
	cr_assert_eq(answer(t, msgid + 1, IKE_PL_NONE, NULL, 0, 40002),
	    IKE_SA_ANSWERED, "%s", t->out.reason);
	cr_assert_eq(t->out.nev, 1);
	cr_assert_eq(t->out.ev[0].type, IKE_EV_CHILD_DOWN);
	cr_assert_eq(t->out.ev[0].child->spi_in, old_in);
	cr_assert_eq(ike_sa_state(t->sa), IKE_SA_ESTABLISHED);
	ike_child_keys_cleanse(&kk);
	ike_kex_free(kex);
	free(sa_pl);
}

/* Fast-forwards to the rekey, runs it (and the old one's Delete). */
static void
rekey(struct t *t, bool pfs, uint32_t msgid, uint32_t old_in,
    uint32_t new_in, uint32_t spi_i)
{
	uint64_t at = ike_sa_next_ms(t->sa);

	ike_sa_tick(t->sa, at, &t->out);
	rekey_round(t, pfs, msgid, old_in, new_in, spi_i);
}

Test(requests, child_sa_rekey_starts_at_80_to_90_percent_of_its_life,
    .timeout = 20)
{
	struct t t;
	uint64_t at;

	up(&t, 0, 0, 0, 100000);
	/* Margin 10% of the lifetime + up to 10% jitter. */
	at = ike_sa_next_ms(t.sa);
	cr_assert_geq(at, 2000 + 80000);
	cr_assert_leq(at, 2000 + 90000);
	ike_sa_tick(t.sa, at - 1, &t.out);
	cr_assert_eq(t.out.len, 0);
	ike_sa_tick(t.sa, at, &t.out);
	ini_open_req(&t.I, t.out.msg, t.out.len, 0, t.m, t.plain);
	cr_assert_eq(t.m->hdr.exchange, IKE_EXCH_CREATE_CHILD_SA);
	down(&t);
}

Test(requests, child_sa_rekey_installs_new_keys_then_deletes_the_old,
    .timeout = 20)
{
	struct t t;

	up(&t, 0, 0, 0, 30000);
	rekey(&t, false, 0, 1, 2, 0xc001d00e);
	/* And again: the next rekey replaces the new one. */
	rekey(&t, false, 2, 2, 3, 0xc001d00f);
	down(&t);
}

Test(requests, child_sa_rekey_with_pfs_sends_a_ke, .timeout = 20)
{
	struct t t;
	char err[IKE_PROP_ERR_MAX];

	up(&t, 0, 0, 0, 30000);
	/* The configured ESP proposal asks for PFS (x25519). */
	cr_assert(ike_proposal_parse(IKE_PROTO_ESP, "aes256gcm16-x25519",
	    &fx.esp[0], err, sizeof(err)), "%s", err);
	rekey(&t, true, 0, 1, 2, 0xc001d00e);
	down(&t);
}

Test(requests, a_refused_child_rekey_keeps_the_old_and_retries,
    .timeout = 20)
{
	struct t t;
	uint64_t at;

	up(&t, 0, 0, 0, 30000);
	at = ike_sa_next_ms(t.sa);
	ike_sa_tick(t.sa, at, &t.out);
	refuse(&t, 0, at + 10);
	/* Again at half the remaining life, and this time it works. */
	cr_assert_eq(ike_sa_next_ms(t.sa), at + 10 + (32000 - at - 10) / 2);
	rekey(&t, false, 1, 1, 3, 0xc001d00e);
	down(&t);
}

Test(requests, ike_sa_rekey_we_start_makes_us_the_new_sas_initiator,
    .timeout = 20)
{
	struct ike_sa_pl *sa_pl = calloc(1, sizeof(*sa_pl));
	struct ike_kex *kex;
	struct ike_builder b;
	struct ike_chosen c;
	struct ike_ke ke;
	struct ike_keys k2;
	struct ini I2;
	struct t t;
	struct wr w;
	uint8_t inner[1024], ni[IKE_NONCE_MAX], nr[32], spi_new[8], gir[32];
	uint8_t pub[32], spi_r[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
	    0x77, 0x88 };
	uint64_t at, old_i = 0x0123456789abcdefULL;
	size_t ni_len, len;

	cr_assert_not_null(sa_pl);
	up(&t, 0, 0, 100000, 0);
	at = ike_sa_next_ms(t.sa);
	cr_assert_geq(at, 2000 + 80000);
	cr_assert_leq(at, 2000 + 90000);

	/* §1.3.2: CREATE_CHILD_SA {SA, Ni, KEi}, our new SPI in the SA. */
	ike_sa_tick(t.sa, at, &t.out);
	ini_open_req(&t.I, t.out.msg, t.out.len, 0, t.m, t.plain);
	cr_assert_eq(t.m->hdr.exchange, IKE_EXCH_CREATE_CHILD_SA);
	cr_assert_null(ini_find_n(t.m, IKE_N_REKEY_SA));
	cr_assert_eq(t.m->pl.sa.nproposals, 1);
	cr_assert_eq(t.m->pl.sa.proposals[0].proto, IKE_PROTO_IKE);
	cr_assert_eq(t.m->pl.sa.proposals[0].spi_size, 8);
	memcpy(spi_new, t.m->pl.sa.proposals[0].spi, 8);
	cr_assert(t.m->pl.have & IKE_HAVE_KE);
	cr_assert_eq(t.m->pl.ke.group, IKE_DH_CURVE25519);
	ni_len = t.m->pl.nonce.len;
	memcpy(ni, t.m->pl.nonce.p, ni_len);
	kex = ike_kex_new(IKE_DH_CURVE25519, 0);
	cr_assert_not_null(kex);
	cr_assert_eq(ike_kex_derive(kex, t.m->pl.ke.data.p,
	    t.m->pl.ke.data.len, gir, sizeof(gir)), 0);
	cr_assert_eq(ike_kex_public(kex, pub, sizeof(pub)), 0);

	/* The peer's response {SA (its SPI), Nr, KEr}. */
	memset(&c, 0, sizeof(c));
	c.num = 1;
	c.proto = IKE_PROTO_IKE;
	c.suite = t.I.suite;
	c.has_dh = true;
	ike_proposal_response(&c, spi_r, 8, sa_pl);
	cr_assert_eq(RAND_bytes(nr, sizeof(nr)), 1);
	ke.group = IKE_DH_CURVE25519;
	ke.data.p = pub;
	ke.data.len = sizeof(pub);
	w = wr_make(inner, sizeof(inner));
	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_sa(&b, sa_pl) | ike_build_nonce(&b, nr,
	    sizeof(nr)) | ike_build_ke(&b, &ke) | ike_build_finish(&b), 0);
	len = ini_respond(&t.I, IKE_EXCH_CREATE_CHILD_SA, 0, b.first, inner,
	    w.len, t.buf, sizeof(t.buf));
	cr_assert_eq(ike_sa_handle(t.sa, t.buf, len, at + 10, &t.out),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(t.out.nev, 1);
	cr_assert_eq(t.out.ev[0].type, IKE_EV_IKE_REKEYED);
	cr_assert_eq(t.out.ev[0].spi_i, old_i);
	/* §2.18: our SPI is SPIi now -- we are the original initiator. */
	cr_assert_eq(ike_sa_spi_i(t.sa), load_be32(spi_new) * 0x100000000ULL +
	    load_be32(spi_new + 4));
	cr_assert_eq(ike_sa_spi_r(t.sa), 0x1122334455667788ULL);
	cr_assert(ike_sa_knows_spi_i(t.sa, old_i));
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_ESTABLISHED);

	/* Then our Delete of the old SA, on its SPIs, keys and ID 1. */
	cr_assert_eq(ike_sa_next_ms(t.sa), 0);
	ike_sa_tick(t.sa, at + 11, &t.out);
	ini_open_req(&t.I, t.out.msg, t.out.len, 1, t.m, t.plain);
	cr_assert_eq(t.m->hdr.spi_i, old_i);
	cr_assert_eq(t.m->pl.ndelete, 1);
	cr_assert_eq(t.m->pl.delete[0].proto, IKE_PROTO_IKE);
	cr_assert_eq(answer(&t, 1, IKE_PL_NONE, NULL, 0, at + 12),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	cr_assert_eq(t.out.nev, 0);
	cr_assert_eq(ike_sa_state(t.sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 1);
	/* The old SA takes no more requests. */
	cr_assert_eq(ini_info(t.sa, &t.I, 2, IKE_PL_NONE, NULL, 0, &t.out),
	    IKE_SA_DROPPED);

	/* The peer's view of the new SA: it is now the responder. */
	I2 = t.I;
	I2.spi_i = ike_sa_spi_i(t.sa);
	I2.spi_r = 0x1122334455667788ULL;
	cr_assert_eq(ike_keys_rekey_sa(&t.I.suite, t.I.suite.prf,
	    t.I.keys.sk_d, t.I.keys.prf_len, gir, sizeof(gir), ni, ni_len, nr,
	    sizeof(nr), spi_new, spi_r, &k2), 0);
	I2.keys = k2;
	cr_assert_eq(ike_sk_init_pair(&I2.sk_out, &I2.sk_in, &t.I.suite,
	    &I2.keys, false), 0);

	/* Our liveness check on it: ID 0, Initiator flag set (§3.1). */
	fx.conf.dpd_delay_ms = 5000;
	cr_assert_eq(ike_sa_next_ms(t.sa), at + 12 + 5000);
	ike_sa_tick(t.sa, at + 12 + 5000, &t.out);
	ini_open_flags(&I2, t.out.msg, t.out.len, IKE_FLAG_INITIATOR, 0, t.m,
	    t.plain);
	len = ini_protect_flags(&I2, IKE_EXCH_INFORMATIONAL,
	    IKE_FLAG_RESPONSE, 0, IKE_PL_NONE, NULL, 0, t.buf, sizeof(t.buf));
	cr_assert_eq(ike_sa_handle(t.sa, t.buf, len, at + 5020, &t.out),
	    IKE_SA_ANSWERED, "%s", t.out.reason);

	/* Its requests: no Initiator flag now; answered with I|R. */
	len = ini_protect_flags(&I2, IKE_EXCH_INFORMATIONAL,
	    IKE_FLAG_INITIATOR, 0, IKE_PL_NONE, NULL, 0, t.buf, sizeof(t.buf));
	cr_assert_eq(ike_sa_handle(t.sa, t.buf, len, at + 5030, &t.out),
	    IKE_SA_DROPPED);
	len = ini_protect_flags(&I2, IKE_EXCH_INFORMATIONAL, 0, 0,
	    IKE_PL_NONE, NULL, 0, t.buf, sizeof(t.buf));
	cr_assert_eq(ike_sa_handle(t.sa, t.buf, len, at + 5040, &t.out),
	    IKE_SA_ANSWERED, "%s", t.out.reason);
	ini_open_flags(&I2, t.out.msg, t.out.len, IKE_FLAG_INITIATOR |
	    IKE_FLAG_RESPONSE, 0, t.m, t.plain);

	/* The Child SA lives on under the new SA: deleting it there works. */
	{
		uint8_t din[32];
		struct ike_delete d;
		struct wr dw = wr_make(din, sizeof(din));

		memset(&d, 0, sizeof(d));
		d.proto = IKE_PROTO_ESP;
		d.spi_size = 4;
		d.nspis = 1;
		d.spis.p = t.I.esp_spi;
		d.spis.len = 4;
		ike_build_inner_init(&b, &dw);
		cr_assert_eq(ike_build_delete(&b, &d) | ike_build_finish(&b),
		    0);
		len = ini_protect_flags(&I2, IKE_EXCH_INFORMATIONAL, 0, 1,
		    b.first, din, dw.len, t.buf, sizeof(t.buf));
		cr_assert_eq(ike_sa_handle(t.sa, t.buf, len, at + 5050,
		    &t.out), IKE_SA_ANSWERED, "%s", t.out.reason);
		cr_assert_eq(t.out.nev, 1);
		cr_assert_eq(t.out.ev[0].type, IKE_EV_CHILD_DOWN);
		cr_assert_eq(t.out.ev[0].child->spi_in, 1);
	}
	ike_keys_cleanse(&k2);
	ike_kex_free(kex);
	free(sa_pl);
	down(&t);
}
