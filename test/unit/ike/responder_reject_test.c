/*
 * ike/sa.c refusals, one test per path: wrong PSK, ID types, no common
 * IKE or ESP proposal, wrong KE group, selectors without overlap, no
 * CFG_REQUEST, authentic requests with bad or critical unknown payloads.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "framing/wire.h"
#include "ike/auth.h"
#include "ike/cp.h"
#include "test/unit/ike/initiator.h"

TestSuite(responder_reject);

Test(responder_reject, wrong_psk_is_authentication_failed, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.psk = "not-the-psk";
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
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
	cr_assert_eq(ike_pool_used(fx.conf.pool), 0);
	/* Its retransmission still gets the answer. */
	cr_assert_eq(ike_sa_handle(sa, req, n, 2100, &out), IKE_SA_RETRANSMIT);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}

Test(responder_reject, no_common_proposal_is_no_proposal_chosen, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.prop.encr = IKE_ENCR_AES_CBC;
	I.prop.encr_bits = 128;
	I.prop.prf = IKE_PRF_HMAC_SHA1;
	I.prop.integ = IKE_INTEG_HMAC_SHA1_96;
	I.dh[0] = I.ke_group = IKE_DH_MODP3072;
	sa = ini_new_sa(0);
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
	ini_responder_teardown();
}

Test(responder_reject, wrong_ke_group_gets_invalid_ke_naming_ours,
    .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.dh[0] = IKE_DH_ECP256;
	I.dh[1] = IKE_DH_CURVE25519;
	I.ndh = 2;
	I.ke_group = IKE_DH_ECP256;
	sa = ini_new_sa(0);
	ini_init_req(&I);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1000, &out),
	    IKE_SA_ANSWERED);
	cr_assert_eq(ike_msg_parse(out.msg, out.len, m), IKE_PARSE_OK);
	cr_assert_eq(m->hdr.spi_r, 0);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_INVALID_KE_PAYLOAD);
	cr_assert(!out.cookie, "stateless, but no COOKIE to count");
	cr_assert_eq(m->pl.notify[0].data.len, 2);
	cr_assert_eq(load_be16(m->pl.notify[0].data.p), IKE_DH_CURVE25519);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_IDLE);
	ike_sa_free(sa);

	/* The retry with the named group succeeds. */
	I.ke_group = IKE_DH_CURVE25519;
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	cr_assert_eq(I.suite.dh, IKE_DH_CURVE25519);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}

Test(responder_reject, ts_without_overlap_is_ts_unacceptable, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_ts_set(&fx.conf.local_ts, 0x0a000000, 0x0affffff);	/* 10/8 */
	ini_gcm(&I);
	ini_ts_set(&I.tsr, 0xc0a80000, 0xc0a8ffff);		/* 192.168/16 */
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
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
	cr_assert_eq(ike_pool_used(fx.conf.pool), 0);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}

Test(responder_reject, esp_without_common_proposal_keeps_the_ike_sa,
    .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.esp_encr = IKE_ENCR_AES_CBC;
	I.esp_bits = 128;
	I.esp_integ = IKE_INTEG_HMAC_SHA1_96;
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_NO_PROPOSAL_CHOSEN);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}

/* ID types the PSK callback sees as they came; others fail AUTH. */
Test(responder_reject, passes_id_types_to_the_psk_lookup, .timeout = 30)
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

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		ini_gcm(&I);
		I.id_type = ids[i].type;
		I.id = (const uint8_t *)ids[i].id;
		I.id_len = ids[i].len;
		sa = ini_new_sa(0);
		ini_run_init(sa, &I);
		n = ini_auth_req(&I, req, sizeof(req));
		cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out),
		    IKE_SA_ANSWERED);
		cr_assert_eq(ike_sa_state(sa), ids[i].ok ? IKE_SA_ESTABLISHED :
		    IKE_SA_DEAD, "ID %zu: %s", i, out.reason);
		ike_sa_free(sa);
		ini_free(&I);
	}
	cr_assert_eq(ike_pool_used(fx.conf.pool), 0);
	ini_responder_teardown();
}

Test(responder_reject, missing_cfg_request_is_failed_cp_required, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.no_cp = true;
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_FAILED_CP_REQUIRED);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}

/* §3.10.1: after the checksum verifies, bad syntax is answered. */
Test(responder_reject, authentic_bad_syntax_is_answered, .timeout = 20)
{
	static const uint8_t junk[] = { 0, 0, 0, 2 };	/* length 2 < 4 */
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX], inner[16];
	struct ike_builder b;
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	struct wr w;
	size_t n;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	n = ini_protect(&I, IKE_EXCH_IKE_AUTH, 1, IKE_PL_NONCE, junk,
	    sizeof(junk), req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_DEAD);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_INVALID_SYNTAX);
	ike_sa_free(sa);
	ini_free(&I);

	/* A critical payload we do not know, in an INFORMATIONAL. */
	ini_gcm(&I);
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	w = wr_make(inner, sizeof(inner));
	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_raw(&b, 200, true, junk, sizeof(junk)), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(ini_info(sa, &I, 2, b.first, inner, w.len, &out),
	    IKE_SA_ANSWERED);
	ini_open(&I, out.msg, out.len, 2, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	cr_assert_eq(m->pl.notify[0].data.len, 1);
	cr_assert_eq(m->pl.notify[0].data.p[0], 200);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	/* The window moved on. */
	cr_assert_eq(ini_info(sa, &I, 3, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_ANSWERED);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}
