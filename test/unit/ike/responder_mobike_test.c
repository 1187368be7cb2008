/*
 * MOBIKE (RFC 4555) on the responder: MOBIKE_SUPPORTED answered in
 * IKE_AUTH only when offered (§3.1), UPDATE_SA_ADDRESSES answered with
 * NAT_DETECTION hashes of the path the request came on and COOKIE2 copied
 * as is (§3.5, §3.7), NAT detection in a liveness check (§3.8), faked
 * per path, its refusals, nothing of it without MOBIKE; and our own
 * return routability check (§3.7): COOKIE2 out, its echo checked.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "framing/wire.h"
#include "test/unit/ike/initiator.h"

TestSuite(responder_mobike);

static struct ike_msg *m;
static uint8_t plain[IKE_SA_MSG_MAX];
/* The fixture: an initiator and the IKE SA it established. */
static struct ini I;
static struct ike_sa *sa;

static void
setup(void)
{
	m = calloc(1, sizeof(*m));
	cr_assert_not_null(m);
	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
}

static void
establish(bool mobike)
{
	setup();
	ini_gcm(&I);
	I.mobike = mobike;
	sa = ini_establish(&I);
}

static void
setup_mobike(void)
{
	establish(true);
}

static void
setup_plain(void)
{
	establish(false);
}

/* The SA goes before the pool, which takes its virtual IP back. */
static void
teardown(void)
{
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}

/* RFC 7296 §2.23: SHA-1(SPIi | SPIr | IPv4 address | port). */
static void
natd(const struct ike_endpoint *e, uint8_t out[20])
{
	uint8_t buf[8 + 8 + 4 + 2];

	store_be64(buf, I.spi_i);
	store_be64(buf + 8, I.spi_r);
	memcpy(buf + 16, e->addr, 4);
	store_be16(buf + 20, e->port);
	cr_assert_eq(EVP_Digest(buf, sizeof(buf), out, NULL, EVP_sha1(), NULL),
	    1);
}

/*
 * INFORMATIONAL @msgid with UPDATE_SA_ADDRESSES (unless !@update), the
 * NAT_DETECTION hashes the initiator computes for @src/@dst (NULL: none),
 * COOKIE2 of @c2_len octets (0: none), NO_NATS_ALLOWED with @no_nats.
 */
static enum ike_sa_result
update(uint32_t msgid, bool update, const struct ike_endpoint *src,
    const struct ike_endpoint *dst, size_t c2_len, bool no_nats,
    struct ike_out *out)
{
	uint8_t inner[512], h[20], cookie2[80];
	struct ike_builder b;
	struct wr w = wr_make(inner, sizeof(inner));

	memset(cookie2, 0xc2, sizeof(cookie2));
	ike_build_inner_init(&b, &w);
	if (update)
		ini_notify(&b, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
	if (src != NULL) {
		natd(src, h);
		ini_notify(&b, IKE_N_NAT_DETECTION_SOURCE_IP, h, sizeof(h));
		natd(dst, h);
		ini_notify(&b, IKE_N_NAT_DETECTION_DESTINATION_IP, h,
		    sizeof(h));
	}
	if (no_nats)
		ini_notify(&b, IKE_N_NO_NATS_ALLOWED, "\xc0\x00\x02\x01", 4);
	if (c2_len > 0)
		ini_notify(&b, IKE_N_COOKIE2, cookie2, c2_len);
	cr_assert_eq(ike_build_finish(&b), 0);
	return ini_info(sa, &I, msgid, b.first, inner, w.len, out);
}

Test(responder_mobike, supported_only_when_offered, .init = setup,
    .fini = teardown, .timeout = 20)
{
	uint8_t req[IKE_SA_MSG_MAX];
	struct ike_out out;
	size_t n;
	int k;

	for (k = 0; k < 2; k++) {
		ini_gcm(&I);
		I.mobike = k == 1;
		sa = ini_new_sa(0);
		ini_run_init(sa, &I);
		n = ini_auth_req(&I, req, sizeof(req));
		cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out),
		    IKE_SA_ANSWERED, "%s", out.reason);
		ini_open(&I, out.msg, out.len, 1, m, plain);
		cr_assert_eq(ini_find_n(m, IKE_N_MOBIKE_SUPPORTED) != NULL,
		    I.mobike);
		cr_assert_eq(ike_sa_mobike(sa), I.mobike);
		ike_sa_free(sa);
		sa = NULL;
		ini_free(&I);
	}
}

Test(responder_mobike, update_answers_natd_of_the_new_path_and_cookie2,
    .init = setup_mobike, .fini = teardown, .timeout = 20)
{
	const struct ike_notify *no;
	struct ike_endpoint local, remote;
	struct ike_out out;
	uint8_t h[20];

	/* A new stream: another client port. */
	local = fx.local;
	remote = fx.remote;
	remote.port = 40001;
	ike_sa_set_path(sa, &local, &remote, false);
	cr_assert_eq(update(2, true, &remote, &local, 16, false, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_str_empty(out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_ADDRESSES);
	ini_open(&I, out.msg, out.len, 2, m, plain);
	cr_assert_eq(m->pl.nnotify, 3);
	/* Source: ours; destination: the initiator's on this path. */
	no = ini_find_n(m, IKE_N_NAT_DETECTION_SOURCE_IP);
	cr_assert_not_null(no);
	natd(&local, h);
	cr_assert_eq(no->data.len, 20);
	cr_assert_arr_eq(no->data.p, h, 20);
	no = ini_find_n(m, IKE_N_NAT_DETECTION_DESTINATION_IP);
	cr_assert_not_null(no);
	natd(&remote, h);
	cr_assert_arr_eq(no->data.p, h, 20);
	no = ini_find_n(m, IKE_N_COOKIE2);
	cr_assert_not_null(no);
	cr_assert_eq(no->data.len, 16);
	cr_assert_arr_eq(no->data.p, "\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2"
	    "\xc2\xc2\xc2\xc2\xc2\xc2\xc2\xc2", 16);
	cr_assert_not(ike_sa_nat_remote(sa));
	cr_assert_not(ike_sa_nat_local(sa));
	/* Hashes of other addresses (a NAT) are noted. */
	remote.port = 40002;
	cr_assert_eq(update(3, true, &remote, &local, 0, false, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert(ike_sa_nat_remote(sa));
	/* COOKIE2 alone (a routability check) is echoed too, no event. */
	cr_assert_eq(update(4, false, NULL, NULL, 64, false, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 0);
	ini_open(&I, out.msg, out.len, 4, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_COOKIE2);
	cr_assert_eq(m->pl.notify[0].data.len, 64);
}

Test(responder_mobike, cookie2_of_a_wrong_length_is_not_echoed,
    .init = setup_mobike, .fini = teardown, .timeout = 20)
{
	struct ike_out out;

	cr_assert_eq(update(2, false, NULL, NULL, 7, false, &out),
	    IKE_SA_ANSWERED);
	cr_assert(strstr(out.reason, "COOKIE2 of 7") != NULL, "%s",
	    out.reason);
	ini_open(&I, out.msg, out.len, 2, m, plain);
	cr_assert_eq(m->pl.nnotify, 0);
	cr_assert_eq(update(3, false, NULL, NULL, 65, false, &out),
	    IKE_SA_ANSWERED);
	ini_open(&I, out.msg, out.len, 3, m, plain);
	cr_assert_eq(m->pl.nnotify, 0);
}

Test(responder_mobike, no_nats_allowed_through_a_nat_is_refused,
    .init = setup_mobike, .fini = teardown, .timeout = 20)
{
	struct ike_endpoint elsewhere;
	struct ike_out out;

	elsewhere = fx.remote;
	elsewhere.addr[3] = 99;
	cr_assert_eq(update(2, true, &elsewhere, &fx.local, 0, true,
	    &out), IKE_SA_ANSWERED);
	cr_assert_eq(out.nev, 0);
	cr_assert(strstr(out.reason, "UNEXPECTED_NAT_DETECTED") != NULL);
	ini_open(&I, out.msg, out.len, 2, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_UNEXPECTED_NAT_DETECTED);
	/* Without a NAT it is accepted. */
	cr_assert_eq(update(3, true, &fx.remote, &fx.local, 0, true,
	    &out), IKE_SA_ANSWERED);
	cr_assert_eq(out.nev, 1);
}

Test(responder_mobike, ignored_without_mobike, .init = setup_plain,
    .fini = teardown, .timeout = 20)
{
	struct ike_out out;

	cr_assert_not(ike_sa_mobike(sa));
	cr_assert_eq(update(2, true, &fx.remote, &fx.local, 16, false,
	    &out), IKE_SA_ANSWERED);
	cr_assert_eq(out.nev, 0);
	ini_open(&I, out.msg, out.len, 2, m, plain);
	cr_assert_eq(m->pl.nnotify, 0);
}

/* The response's NAT_DETECTION hashes match @local / @remote. */
static void
natd_match(const struct ike_out *out, uint32_t msgid,
    const struct ike_endpoint *local, const struct ike_endpoint *remote,
    bool src_ok)
{
	const struct ike_notify *no;
	uint8_t h[20];

	ini_open(&I, out->msg, out->len, msgid, m, plain);
	no = ini_find_n(m, IKE_N_NAT_DETECTION_SOURCE_IP);
	cr_assert_not_null(no, "message %u: no NAT_DETECTION_SOURCE_IP",
	    msgid);
	natd(local, h);
	cr_assert_eq(no->data.len == 20 && memcmp(no->data.p, h, 20) == 0,
	    src_ok, "message %u: source hash", msgid);
	no = ini_find_n(m, IKE_N_NAT_DETECTION_DESTINATION_IP);
	cr_assert_not_null(no);
	natd(remote, h);
	cr_assert_arr_eq(no->data.p, h, 20);
}

/*
 * §3.8: a MOBIKE initiator behind a NAT puts NAT_DETECTION in its
 * liveness checks and compares our answers, to learn that its mapping
 * changed (our side: that the SA moved between UDP and a stream); they
 * are answered with the hashes of the path the check came on, with no
 * event and no change to the SA's NAT state, which only an update makes.
 */
Test(responder_mobike, a_liveness_check_with_natd_is_answered_with_natd,
    .init = setup_mobike, .fini = teardown, .timeout = 20)
{
	struct ike_endpoint tcp;
	struct ike_out out;
	bool nat = ike_sa_nat_remote(sa);

	cr_assert_eq(update(2, false, &fx.remote, &fx.local, 0, false, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 0);
	natd_match(&out, 2, &fx.local, &fx.remote, true);
	/* The SA on a stream: the stream's TCP addresses and ports. */
	tcp = fx.remote;
	tcp.port = 51000;
	ike_sa_set_path(sa, &fx.local, &tcp, false);
	cr_assert_eq(update(3, false, &fx.remote, &fx.local, 0, false, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 0);
	natd_match(&out, 3, &fx.local, &tcp, true);
	/* The initiator's hashes name another port: not a NAT the SA
	 * notes, without an update. */
	cr_assert_eq(ike_sa_nat_remote(sa), nat);
	/* Without both hashes, none go back. */
	cr_assert_eq(update(4, false, NULL, NULL, 0, false, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	ini_open(&I, out.msg, out.len, 4, m, plain);
	cr_assert_eq(m->pl.nnotify, 0);
}

/*
 * udp-encap: on a UDP path our source hash is faked (the client sees a
 * NAT and keeps ESP in UDP), on a stream it is the true one (RFC 9329,
 * "NAT Detection Payloads": a NAT changes no encapsulation there); the
 * destination hash is the true one either way.  Per path, whichever
 * transport the SA began on.
 */
Test(responder_mobike, fake_nat_follows_the_path, .init = setup_mobike,
    .fini = teardown, .timeout = 20)
{
	struct ike_out out;

	ike_sa_set_path(sa, &fx.local, &fx.remote, true);
	cr_assert_eq(update(2, true, &fx.remote, &fx.local, 0, false, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	natd_match(&out, 2, &fx.local, &fx.remote, false);
	ike_sa_set_path(sa, &fx.local, &fx.remote, false);
	cr_assert_eq(update(3, true, &fx.remote, &fx.local, 0, false, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	natd_match(&out, 3, &fx.local, &fx.remote, true);
}

Test(responder_mobike, no_nats_allowed_counts_with_an_update_only,
    .init = setup_mobike, .fini = teardown, .timeout = 20)
{
	struct ike_endpoint elsewhere;
	struct ike_out out;

	elsewhere = fx.remote;
	elsewhere.addr[3] = 99;
	cr_assert_eq(update(2, false, &elsewhere, &fx.local, 0, true, &out),
	    IKE_SA_ANSWERED);
	ini_open(&I, out.msg, out.len, 2, m, plain);
	cr_assert_null(ini_find_n(m, IKE_N_UNEXPECTED_NAT_DETECTED));
	cr_assert_not_null(ini_find_n(m, IKE_N_NAT_DETECTION_SOURCE_IP));
}

/* Our check @msgid opened: its COOKIE2 into @c2 (16 octets). */
static void
open_check(const struct ike_out *out, uint32_t msgid, uint8_t c2[16])
{
	const struct ike_notify *no;

	cr_assert(out->rr);
	ini_open_req(&I, out->msg, out->len, msgid, m, plain);
	cr_assert_eq(m->hdr.exchange, IKE_EXCH_INFORMATIONAL);
	cr_assert_eq(m->pl.nnotify, 1);
	no = ini_find_n(m, IKE_N_COOKIE2);
	cr_assert_not_null(no);
	cr_assert_eq(no->data.len, IKE_SA_RR_COOKIE_LEN);
	memcpy(c2, no->data.p, 16);
}

/* The initiator answers our request @msgid with COOKIE2 @c2 (@len
 * octets, 0: none). */
static enum ike_sa_result
answer_check(uint32_t msgid, const uint8_t *c2, size_t len, uint64_t now,
    struct ike_out *out)
{
	uint8_t inner[128], buf[IKE_SA_MSG_MAX];
	struct ike_builder b;
	struct wr w = wr_make(inner, sizeof(inner));
	size_t n;

	ike_build_inner_init(&b, &w);
	if (len > 0)
		ini_notify(&b, IKE_N_COOKIE2, c2, len);
	cr_assert_eq(ike_build_finish(&b), 0);
	n = ini_respond(&I, IKE_EXCH_INFORMATIONAL, msgid, b.first, inner,
	    w.len, buf, sizeof(buf));
	return ike_sa_handle(sa, buf, n, now, out);
}

/*
 * §3.7: the check is an INFORMATIONAL request of ours with a fresh
 * 16-octet COOKIE2; an answer that echoes it is RR_OK, one without it or
 * with another cookie RR_FAILED; each check has a new cookie; window 1.
 */
Test(responder_mobike, our_check_sends_cookie2_and_checks_the_echo,
    .init = setup_mobike, .fini = teardown, .timeout = 20)
{
	uint8_t c2[16], c2b[16], wrong[16];
	struct ike_out out;

	cr_assert(ike_sa_req_idle(sa));
	cr_assert_eq(ike_sa_rr_check(sa, 3000, &out), 0, "%s", out.reason);
	open_check(&out, 0, c2);
	cr_assert(ike_sa_rr_outstanding(sa));
	cr_assert_not(ike_sa_req_idle(sa));
	/* One at a time. */
	cr_assert_eq(ike_sa_rr_check(sa, 3000, &out), -1);
	cr_assert_eq(answer_check(0, c2, 16, 3100, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_RR_OK);
	cr_assert(ike_sa_req_idle(sa));
	cr_assert_not(ike_sa_rr_outstanding(sa));

	/* No COOKIE2 in the answer. */
	cr_assert_eq(ike_sa_rr_check(sa, 4000, &out), 0);
	open_check(&out, 1, c2b);
	cr_assert(memcmp(c2, c2b, 16) != 0, "the cookie was used again");
	cr_assert_eq(answer_check(1, NULL, 0, 4100, &out), IKE_SA_ANSWERED);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_RR_FAILED);
	cr_assert(strstr(out.reason, "no COOKIE2") != NULL, "%s", out.reason);

	/* Another cookie, or a part of ours. */
	cr_assert_eq(ike_sa_rr_check(sa, 5000, &out), 0);
	open_check(&out, 2, c2);
	memcpy(wrong, c2, 16);
	wrong[15] ^= 1;
	cr_assert_eq(answer_check(2, wrong, 16, 5100, &out), IKE_SA_ANSWERED);
	cr_assert_eq(out.ev[0].type, IKE_EV_RR_FAILED);
	cr_assert_eq(ike_sa_rr_check(sa, 6000, &out), 0);
	open_check(&out, 3, c2);
	cr_assert_eq(answer_check(3, c2, 8, 6100, &out), IKE_SA_ANSWERED);
	cr_assert_eq(out.ev[0].type, IKE_EV_RR_FAILED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
}

/*
 * Unanswered, the check is retransmitted (the same bytes, out->rr set:
 * to the address under test only) and ends the SA at the budget, as any
 * request of ours does; meanwhile no other request of ours starts.
 */
Test(responder_mobike, an_unanswered_check_is_resent_then_ends_the_sa,
    .init = setup_mobike, .fini = teardown, .timeout = 20)
{
	uint8_t first[IKE_SA_MSG_MAX];
	struct ike_out out;
	size_t len;

	cr_assert_eq(ike_sa_rr_check(sa, 3000, &out), 0);
	memcpy(first, out.msg, out.len);
	len = out.len;
	ike_sa_tick(sa, 3000 + IKE_SA_RTX_FIRST_MS, &out);
	cr_assert(out.resend);
	cr_assert(out.rr);
	cr_assert_eq(out.len, len);
	cr_assert_arr_eq(out.msg, first, len);
	ike_sa_tick(sa, 3000 + IKE_SA_DPD_TIMEOUT_MS, &out);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_DEAD);
	cr_assert(strstr(out.reason, "return routability check") != NULL,
	    "%s", out.reason);
}

Test(responder_mobike, no_check_without_mobike, .init = setup_plain,
    .fini = teardown, .timeout = 20)
{
	struct ike_out out;

	cr_assert_eq(ike_sa_rr_check(sa, 3000, &out), -1);
	cr_assert(ike_sa_req_idle(sa));
}
