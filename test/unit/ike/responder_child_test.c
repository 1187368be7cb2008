/*
 * CREATE_CHILD_SA against the test-only initiator (initiator.h): a new
 * Child SA with and without PFS (RFC 7296 §1.3.1), a Child SA rekey
 * (§1.3.3, §2.8), the IKE SA rekey (§1.3.2, §2.18) with the old SA's
 * Delete and retransmissions, and one test per refusal; the §2.25
 * collisions with requests of ours and the §2.8.1 nonce tie-break.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "framing/wire.h"
#include "ike/cp.h"
#include "ike/sa_int.h"
#include "test/unit/ike/initiator.h"

TestSuite(responder_child);

static struct ike_msg *m;
static uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
/*
 * The fixture: an IKE SA established with I (its first Child SA up) and
 * C, the CREATE_CHILD_SA offer a test fills in with ini_child_gcm().
 */
static struct ini I;
static struct ini_child C;
static struct ike_sa *sa;

static void
establish(const char *esp)
{
	m = calloc(1, sizeof(*m));
	cr_assert_not_null(m);
	ini_responder_setup("aes256gcm16-prfsha384-x25519", esp);
	memset(&C, 0, sizeof(C));
	ini_gcm(&I);
	sa = ini_establish(&I);
}

static void
setup(void)
{
	establish("aes256gcm16");
}

static void
setup_pfs(void)
{
	establish("aes256gcm16-x25519");
}

/*
 * Each free is a no-op on what a test left untouched (C still zeroed).
 * The SA goes before the pool, which takes its virtual IP back.
 */
static void
teardown(void)
{
	ini_child_free(&C);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}

/* The responder's keys for @ch are the ones the initiator derived in C. */
static void
keys_agree(const struct ike_child *ch)
{
	cr_assert_eq(ch->keys.encr_len, C.keys.encr_len);
	cr_assert_gt(ch->keys.encr_len, 0);
	cr_assert_arr_eq(ch->keys.ei, C.keys.ei, C.keys.encr_len);
	cr_assert_arr_eq(ch->keys.er, C.keys.er, C.keys.encr_len);
	cr_assert_eq(ch->keys.integ_len, C.keys.integ_len);
	cr_assert_arr_eq(ch->keys.ai, C.keys.ai, C.keys.integ_len);
	cr_assert_arr_eq(ch->keys.ar, C.keys.ar, C.keys.integ_len);
}

/* The one notify of a refusal; the IKE SA stands. */
static const struct ike_notify *
refused(size_t n, uint32_t msgid, uint16_t type)
{
	struct ike_out out;

	cr_assert_eq(ike_sa_handle(sa, req, n, 3000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(out.nev, 0);
	cr_assert_str_not_empty(out.reason);
	ini_open(&I, out.msg, out.len, msgid, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, type, "notify %u, want %u",
	    m->pl.notify[0].type, type);
	cr_assert_eq(m->pl.have & IKE_HAVE_SA, 0);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	return &m->pl.notify[0];
}

/* C's CREATE_CHILD_SA as @msgid, refused with @type. */
static const struct ike_notify *
child_refused(uint32_t msgid, uint16_t type)
{
	size_t n = ini_child_req(&I, &C, msgid, req, sizeof(req));

	return refused(n, msgid, type);
}

/* C's CREATE_CHILD_SA as @msgid, answered into @out. */
static void
child_answered(uint32_t msgid, struct ike_out *out)
{
	size_t n = ini_child_req(&I, &C, msgid, req, sizeof(req));

	cr_assert_eq(ike_sa_handle(sa, req, n, 3000, out), IKE_SA_ANSWERED,
	    "%s", out->reason);
}

Test(responder_child, new_child_sa_agrees_on_keys, .init = setup,
    .fini = teardown, .timeout = 20)
{
	const struct ike_child *ch;
	struct ike_out out;

	ini_child_gcm(&I, &C, "\xc0\x02\x00\x01");
	child_answered(2, &out);
	cr_assert_str_empty(out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_CHILD_UP);
	ch = out.ev[0].child;
	ini_child_resp(&I, &C, out.msg, out.len, 2, m, plain);
	/* Our SPI from the generator (1 went to the first Child SA). */
	cr_assert_eq(C.spi_r, 2);
	cr_assert_eq(ch->spi_in, 2);
	cr_assert_eq(ch->spi_out, 0xc0020001);
	cr_assert_eq(ch->replaces, 0);
	cr_assert_eq(ch->vip, 0x0a0a0001);
	/* TSi narrowed to the IKE SA's virtual IP, as in IKE_AUTH. */
	cr_assert_arr_eq(m->pl.tsi.ts[0].start, "\x0a\x0a\x00\x01", 4);
	cr_assert_arr_eq(m->pl.tsi.ts[0].end, "\x0a\x0a\x00\x01", 4);
	keys_agree(ch);
	cr_assert_eq(ike_sa_child_count(sa), 2);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 1);
}

Test(responder_child, new_child_sa_with_pfs_uses_g_ir, .init = setup_pfs,
    .fini = teardown, .timeout = 20)
{
	struct ike_out out;

	ini_child_gcm(&I, &C, "\xc0\x02\x00\x02");
	C.dh = C.ke_group = IKE_DH_CURVE25519;
	child_answered(2, &out);
	cr_assert_eq(out.nev, 1);
	ini_child_resp(&I, &C, out.msg, out.len, 2, m, plain);
	cr_assert_eq(out.ev[0].child->suite.dh, IKE_DH_CURVE25519);
	keys_agree(out.ev[0].child);
}

Test(responder_child, pfs_with_another_group_is_invalid_ke_payload,
    .init = setup_pfs, .fini = teardown, .timeout = 20)
{
	const struct ike_notify *no;
	struct ike_out out;

	ini_child_gcm(&I, &C, "\xc0\x02\x00\x03");
	/* x25519 offered, but the KE is ECP-256 (not ours). */
	C.dh = IKE_DH_CURVE25519;
	C.ke_group = IKE_DH_ECP256;
	no = child_refused(2, IKE_N_INVALID_KE_PAYLOAD);
	cr_assert_eq(no->data.len, 2);
	cr_assert_eq(load_be16(no->data.p), IKE_DH_CURVE25519);
	/* The retry with the group named works (message ID 3). */
	C.ke_group = IKE_DH_CURVE25519;
	child_answered(3, &out);
	cr_assert_eq(out.nev, 1);
	ini_child_resp(&I, &C, out.msg, out.len, 3, m, plain);
	keys_agree(out.ev[0].child);
}

Test(responder_child, pfs_without_ke_is_invalid_ke_payload, .init = setup_pfs,
    .fini = teardown, .timeout = 20)
{
	ini_child_gcm(&I, &C, "\xc0\x02\x00\x04");
	C.dh = IKE_DH_CURVE25519;
	(void)child_refused(2, IKE_N_INVALID_KE_PAYLOAD);
}

Test(responder_child, other_esp_is_no_proposal_chosen, .init = setup,
    .fini = teardown, .timeout = 20)
{
	ini_child_gcm(&I, &C, "\xc0\x02\x00\x05");
	C.encr = IKE_ENCR_AES_CBC;
	C.bits = 128;
	C.integ = IKE_INTEG_HMAC_SHA2_256_128;
	(void)child_refused(2, IKE_N_NO_PROPOSAL_CHOSEN);
	/* PFS offered to a responder without a group: refused as well. */
	ini_child_gcm(&I, &C, "\xc0\x02\x00\x05");
	C.dh = C.ke_group = IKE_DH_CURVE25519;
	(void)child_refused(3, IKE_N_NO_PROPOSAL_CHOSEN);
}

Test(responder_child, tsi_without_the_virtual_ip_is_ts_unacceptable,
    .init = setup, .fini = teardown, .timeout = 20)
{
	ini_child_gcm(&I, &C, "\xc0\x02\x00\x06");
	ini_ts_set(&C.tsi, 0xc0a80000, 0xc0a800ff);
	(void)child_refused(2, IKE_N_TS_UNACCEPTABLE);
}

Test(responder_child, missing_payloads_are_invalid_syntax, .init = setup,
    .fini = teardown, .timeout = 20)
{
	size_t n;

	/* No payloads at all. */
	n = ini_protect(&I, IKE_EXCH_CREATE_CHILD_SA, 2, IKE_PL_NONE, NULL, 0,
	    req, sizeof(req));
	(void)refused(n, 2, IKE_N_INVALID_SYNTAX);
	/* An ESP SA without traffic selectors. */
	ini_child_gcm(&I, &C, "\xc0\x02\x00\x07");
	C.no_ts = true;
	(void)child_refused(3, IKE_N_INVALID_SYNTAX);
}

Test(responder_child, beyond_the_table_is_no_additional_sas, .init = setup,
    .fini = teardown, .timeout = 20)
{
	struct ike_out out;
	uint32_t id = 2;
	char spi[4] = "\xc0\x03\x00\x00";

	for (; ike_sa_child_count(sa) < IKE_SA_CHILD_MAX; id++) {
		spi[3] = (char)id;
		ini_child_gcm(&I, &C, spi);
		child_answered(id, &out);
		cr_assert_eq(out.nev, 1);
	}
	ini_child_gcm(&I, &C, "\xc0\x03\x00\xff");
	(void)child_refused(id, IKE_N_NO_ADDITIONAL_SAS);
}

Test(responder_child, rekey_keeps_both_until_the_old_is_deleted,
    .init = setup, .fini = teardown, .timeout = 20)
{
	const struct ike_child *ch;
	struct ike_out out;
	uint8_t inner[64], first;
	size_t n;

	ini_child_gcm(&I, &C, "\xc0\x04\x00\x01");
	/* §1.3.3: REKEY_SA names the SA by our (the initiator's) SPI. */
	C.rekey_spi = load_be32(I.esp_spi);
	child_answered(2, &out);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_CHILD_UP);
	ch = out.ev[0].child;
	cr_assert_eq(ch->replaces, 1);
	cr_assert_eq(ch->spi_in, 2);
	cr_assert_eq(ch->spi_out, 0xc0040001);
	ini_child_resp(&I, &C, out.msg, out.len, 2, m, plain);
	keys_agree(ch);
	/* §2.8: the old Child SA stays until it is deleted. */
	cr_assert_eq(ike_sa_child_count(sa), 2);
	cr_assert_not_null(ike_sa_child_by_spi_in(sa, 1));
	/* The initiator deletes the old one: only it goes down. */
	n = ini_delete_inner(IKE_PROTO_ESP, I.esp_spi, inner, sizeof(inner),
	    &first);
	cr_assert_eq(ini_info(sa, &I, 3, first, inner, n, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_CHILD_DOWN);
	cr_assert_eq(out.ev[0].child->spi_in, 1);
	ini_open(&I, out.msg, out.len, 3, m, plain);
	cr_assert_eq(m->pl.ndelete, 1);
	cr_assert_eq(ike_delete_spi(&m->pl.delete[0], 0), 1);
	cr_assert_eq(ike_sa_child_count(sa), 1);
	cr_assert_not_null(ike_sa_child_by_spi_in(sa, 2));
	/* The virtual IP stays with the IKE SA. */
	cr_assert_eq(ike_pool_used(fx.conf.pool), 1);
	/* And the new one can be rekeyed in turn. */
	C.rekey_spi = 0xc0040001;
	memcpy(C.spi, "\xc0\x04\x00\x02", 4);
	child_answered(4, &out);
	cr_assert_eq(out.ev[0].child->replaces, 2);
}

Test(responder_child, rekey_of_an_unknown_spi_is_child_sa_not_found,
    .init = setup, .fini = teardown, .timeout = 20)
{
	const struct ike_notify *no;

	ini_child_gcm(&I, &C, "\xc0\x05\x00\x01");
	C.rekey_spi = 0xdeadbeef;
	no = child_refused(2, IKE_N_CHILD_SA_NOT_FOUND);
	cr_assert_eq(no->proto, IKE_PROTO_ESP);
	cr_assert_eq(no->spi.len, 4);
	cr_assert_eq(load_be32(no->spi.p), 0xdeadbeef);
	cr_assert_eq(ike_sa_child_count(sa), 1);
}

Test(responder_child, ike_sa_rekey_moves_children_and_old_sa_is_deleted,
    .init = setup, .fini = teardown, .timeout = 20)
{
	uint8_t rekey_req[IKE_SA_MSG_MAX], rekey_resp[IKE_SA_MSG_MAX];
	uint8_t inner[64], first;
	struct ini_rekey R;
	struct ike_out out;
	struct ini old;
	uint64_t spi_i0, spi_r0;
	size_t n, rn, resp_len;

	spi_i0 = I.spi_i;
	spi_r0 = I.spi_r;
	memset(&R, 0, sizeof(R));
	R.spi_i = 0x1122334455667788ULL;
	R.dh = R.ke_group = IKE_DH_CURVE25519;
	rn = ini_rekey_req(&I, &R, 2, rekey_req, sizeof(rekey_req));
	cr_assert_eq(ike_sa_handle(sa, rekey_req, rn, 3000, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_str_empty(out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_IKE_REKEYED);
	cr_assert_eq(out.ev[0].spi_i, spi_i0);
	cr_assert_eq(out.ev[0].spi_r, spi_r0);
	memcpy(rekey_resp, out.msg, out.len);
	resp_len = out.len;
	ini_rekey_resp(&I, &R, rekey_resp, resp_len, 2, &old);
	cr_assert_eq(ike_sa_spi_i(sa), R.spi_i);
	cr_assert_eq(ike_sa_spi_r(sa), I.spi_r);
	cr_assert_neq(I.spi_r, spi_r0);
	cr_assert(ike_sa_knows_spi_i(sa, spi_i0));
	cr_assert(ike_sa_knows_spi_i(sa, R.spi_i));

	/* The new SA: its own keys, message IDs from 0 (§2.18). */
	cr_assert_eq(ini_info(sa, &I, 0, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	ini_open(&I, out.msg, out.len, 0, m, plain);
	/* A late IKE_SA_INIT does not get the new SA's response 0. */
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 3050, &out),
	    IKE_SA_DROPPED);
	/* The retransmitted rekey request gets the same bytes (old SA). */
	cr_assert_eq(ike_sa_handle(sa, rekey_req, rn, 3100, &out),
	    IKE_SA_RETRANSMIT, "%s", out.reason);
	cr_assert_eq(out.len, resp_len);
	cr_assert_arr_eq(out.msg, rekey_resp, resp_len);
	/* The old SA's Delete: answered under the old keys, nothing down. */
	n = ini_delete_inner(IKE_PROTO_IKE, NULL, inner, sizeof(inner),
	    &first);
	cr_assert_eq(ini_info(sa, &old, 3, first, inner, n, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 0);
	ini_open(&old, out.msg, out.len, 3, m, plain);
	cr_assert_eq(m->pl.have, 0);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(ike_sa_child_count(sa), 1);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 1);
	/* The deleted old SA takes no new request. */
	cr_assert_eq(ini_info(sa, &old, 4, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_DROPPED);
	cr_assert(strstr(out.reason, "deleted") != NULL, "%s", out.reason);

	/* The Child SA moved: rekeyed on the new SA with its SK_d. */
	ini_child_gcm(&I, &C, "\xc0\x06\x00\x01");
	C.rekey_spi = load_be32(I.esp_spi);
	n = ini_child_req(&I, &C, 1, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 3200, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].child->replaces, 1);
	ini_child_resp(&I, &C, out.msg, out.len, 1, m, plain);
	keys_agree(out.ev[0].child);
	/* A Delete of the IKE SA on the new SA takes everything down. */
	n = ini_delete_inner(IKE_PROTO_IKE, NULL, inner, sizeof(inner),
	    &first);
	cr_assert_eq(ini_info(sa, &I, 2, first, inner, n, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 3);
	cr_assert_eq(out.ev[0].type, IKE_EV_CHILD_DOWN);
	cr_assert_eq(out.ev[1].type, IKE_EV_CHILD_DOWN);
	cr_assert_eq(out.ev[2].type, IKE_EV_IKE_DOWN);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_DEAD);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 0);
	ini_free(&old);
}

Test(responder_child, ike_sa_rekey_refusals, .init = setup, .fini = teardown,
    .timeout = 20)
{
	const struct ike_notify *no;
	struct ini_rekey R;
	size_t n;

	memset(&R, 0, sizeof(R));
	R.spi_i = 0x1122334455667788ULL;
	R.dh = IKE_DH_CURVE25519;
	R.ke_group = IKE_DH_ECP256;
	n = ini_rekey_req(&I, &R, 2, req, sizeof(req));
	no = refused(n, 2, IKE_N_INVALID_KE_PAYLOAD);
	cr_assert_eq(load_be16(no->data.p), IKE_DH_CURVE25519);
	R.dh = R.ke_group = IKE_DH_ECP256;
	n = ini_rekey_req(&I, &R, 3, req, sizeof(req));
	(void)refused(n, 3, IKE_N_NO_PROPOSAL_CHOSEN);
	R.dh = R.ke_group = IKE_DH_CURVE25519;
	R.spi_i = 0;
	n = ini_rekey_req(&I, &R, 4, req, sizeof(req));
	(void)refused(n, 4, IKE_N_INVALID_SYNTAX);
	cr_assert_eq(ike_sa_spi_i(sa), I.spi_i);
	ike_kex_free(R.kex);
}

Test(responder_child, collisions_with_our_requests_are_temporary_failure,
    .init = setup, .fini = teardown, .timeout = 20)
{
	struct ini_rekey R;
	struct ike_out out;
	size_t n;

	memset(&R, 0, sizeof(R));
	R.spi_i = 0x1122334455667788ULL;
	R.dh = R.ke_group = IKE_DH_CURVE25519;
	/* §2.25.1: a rekey of a Child SA we are deleting. */
	ike_sa_child_slot(sa, ike_sa_child_by_spi_in(sa, 1))->closing = true;
	ini_child_gcm(&I, &C, "\xc0\x07\x00\x01");
	C.rekey_spi = load_be32(I.esp_spi);
	(void)child_refused(2, IKE_N_TEMPORARY_FAILURE);
	/* Another Child SA is fine meanwhile. */
	C.rekey_spi = 0;
	child_answered(3, &out);
	cr_assert_eq(out.nev, 1);
	/* §2.25.2: Child SAs while we rekey the IKE SA. */
	sa->own = IKE_SA_OWN_IKE_REKEY;
	(void)child_refused(4, IKE_N_TEMPORARY_FAILURE);
	/* The IKE SA while we change a Child SA. */
	sa->own = IKE_SA_OWN_CHILD;
	n = ini_rekey_req(&I, &R, 5, req, sizeof(req));
	(void)refused(n, 5, IKE_N_TEMPORARY_FAILURE);
	/* Either while we delete the IKE SA. */
	sa->own = 0;
	ike_sa_set_state(sa, IKE_SA_DELETING);
	n = ini_rekey_req(&I, &R, 6, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 3000, &out), IKE_SA_ANSWERED);
	ini_open(&I, out.msg, out.len, 6, m, plain);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_TEMPORARY_FAILURE);
	n = ini_child_req(&I, &C, 7, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 3000, &out), IKE_SA_ANSWERED);
	ini_open(&I, out.msg, out.len, 7, m, plain);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_TEMPORARY_FAILURE);
	cr_assert_eq(ike_sa_spi_i(sa), I.spi_i);
	ike_kex_free(R.kex);
}

/*
 * A rekey the server started (what ike_sa_ike_switch() is also for):
 * §2.18 makes it the new SA's original initiator, so the flags turn.
 */
Test(responder_child, switch_after_our_rekey_makes_us_original_initiator,
    .init = setup, .fini = teardown, .timeout = 20)
{
	static const uint8_t spii[8] = { 0xaa, 1, 2, 3, 4, 5, 6, 7 };
	static const uint8_t spir[8] = { 0xbb, 1, 2, 3, 4, 5, 6, 7 };
	uint8_t gir[32], n1[32], n2[32], inner[64], first;
	struct ike_sk sk_in, sk_out;
	struct ike_keys keys;
	struct ike_out out;
	struct ini old;
	size_t n;

	memset(gir, 7, sizeof(gir));
	memset(n1, 1, sizeof(n1));
	memset(n2, 2, sizeof(n2));
	cr_assert_eq(ike_keys_rekey_sa(&I.suite, I.suite.prf, I.keys.sk_d,
	    I.keys.prf_len, gir, sizeof(gir), n1, sizeof(n1), n2, sizeof(n2),
	    spii, spir, &keys), 0);
	cr_assert_eq(ike_sk_init_pair(&sk_out, &sk_in, &I.suite, &keys, true),
	    0);
	memset(&out, 0, sizeof(out));
	ike_sa_ike_switch(sa, load_be32(spii) * 0x100000000ULL +
	    load_be32(spii + 4), load_be32(spir) * 0x100000000ULL +
	    load_be32(spir + 4), &I.suite, &keys, &sk_in, &sk_out, true, &out);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_IKE_REKEYED);
	ike_sk_cleanup(&sk_in);
	ike_sk_cleanup(&sk_out);
	/* The test initiator is now the new SA's responder. */
	old = I;
	old.kex = NULL;
	I.spi_i = ike_sa_spi_i(sa);
	I.spi_r = ike_sa_spi_r(sa);
	I.keys = keys;
	I.not_orig = true;
	cr_assert_eq(ike_sk_init_pair(&I.sk_out, &I.sk_in, &I.suite, &I.keys,
	    false), 0);
	cr_assert_eq(ini_info(sa, &I, 0, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	ini_open(&I, out.msg, out.len, 0, m, plain);	/* flags R | I */
	/* A request that claims to be the original initiator's is not. */
	I.not_orig = false;
	cr_assert_eq(ini_info(sa, &I, 1, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_DROPPED);
	cr_assert(strstr(out.reason, "with the Initiator flag") != NULL, "%s",
	    out.reason);
	/* The old SA keeps its roles: its Delete still has the flag. */
	n = ini_delete_inner(IKE_PROTO_IKE, NULL, inner, sizeof(inner),
	    &first);
	cr_assert_eq(ini_info(sa, &old, 2, first, inner, n, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	ini_open(&old, out.msg, out.len, 2, m, plain);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ike_keys_cleanse(&keys);
	ini_free(&old);
}

Test(responder_child, nonces_compare_as_octet_strings, .timeout = 5)
{
	static const uint8_t a[] = { 1, 2, 3 }, b[] = { 1, 2, 3, 0 };
	static const uint8_t c[] = { 1, 2, 4 }, d[] = { 0, 9, 9, 9 };

	cr_assert_eq(ike_nonce_cmp(a, 3, a, 3), 0);
	cr_assert_lt(ike_nonce_cmp(a, 3, b, 4), 0);	/* prefix is lower */
	cr_assert_gt(ike_nonce_cmp(b, 4, a, 3), 0);
	cr_assert_lt(ike_nonce_cmp(b, 4, c, 3), 0);
	/* §2.8.1: the exchange holding the lowest of the four loses. */
	cr_assert(ike_rekey_a_loses(c, 3, d, 4, a, 3, b, 4));
	cr_assert_not(ike_rekey_a_loses(a, 3, c, 3, b, 4, d, 4));
	cr_assert(ike_rekey_a_loses(c, 3, a, 3, b, 4, c, 3));
}

/*
 * IKE_SA_F_FAKE_NAT (udp-encap = yes): the response's
 * NAT_DETECTION_SOURCE_IP matches no address of ours, so that the peer
 * sees a NAT and encapsulates; without it, it is the hash of our address
 * (RFC 7296 §2.23).  The destination hash is the true one either way.
 */
Test(responder_child, fake_nat_makes_only_our_source_hash_wrong,
    .timeout = 20)
{
	static const unsigned flags[] = { 0, IKE_SA_F_FAKE_NAT };
	struct ike_msg *pm = calloc(1, sizeof(*pm));
	uint8_t h[IKE_SA_NATD_LEN];

	cr_assert_not_null(pm);
	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	for (size_t i = 0; i < 2; i++) {
		struct ike_sa *fsa = ini_new_sa(flags[i]);
		struct ike_out out;
		struct ini ini;

		ini_gcm(&ini);
		ini_init_req(&ini);
		cr_assert_eq(ike_sa_handle(fsa, ini.req1, ini.req1_len, 1000,
		    &out), IKE_SA_ANSWERED, "%s", out.reason);
		cr_assert_eq(ike_msg_parse(out.msg, out.len, pm), IKE_PARSE_OK);
		cr_assert_eq(ike_natd_hash(ini.spi_i, pm->hdr.spi_r, &fx.local,
		    h), 0);
		cr_assert_eq(ike_natd_has(&pm->pl,
		    IKE_N_NAT_DETECTION_SOURCE_IP, h), flags[i] == 0,
		    "case %zu: source hash", i);
		cr_assert_eq(ike_natd_hash(ini.spi_i, pm->hdr.spi_r, &fx.remote,
		    h), 0);
		cr_assert(ike_natd_has(&pm->pl,
		    IKE_N_NAT_DETECTION_DESTINATION_IP, h),
		    "case %zu: destination hash", i);
		ike_sa_free(fsa);
		ini_free(&ini);
	}
	free(pm);
	ini_responder_teardown();
}
