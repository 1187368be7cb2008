/*
 * ike/sa.c and the exchanges against the test-only initiator
 * (initiator.h): IKE_SA_INIT, IKE_AUTH (PSK, CP, first Child SA) and
 * INFORMATIONAL, checking what both sides derived; retransmissions, the
 * message-ID window, fragments, cookies.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "framing/wire.h"
#include "ike/auth.h"
#include "ike/cp.h"
#include "test/unit/ike/initiator.h"

TestSuite(responder);

static void
establish_and_check(const char *ike, const char *esp, struct ini *I)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	const struct ike_child *ch;
	struct ike_child_keys ck;
	struct ike_suite cs;
	struct ike_sa *sa;
	struct ike_out out;
	uint8_t req[IKE_SA_MSG_MAX], plain[IKE_SA_MSG_MAX], dinner[32];
	uint8_t resp2[IKE_SA_MSG_MAX];
	struct ike_builder b;
	struct ike_delete d;
	struct wr w;
	size_t n, resp2_len;

	ini_responder_setup(ike, esp);
	sa = ini_new_sa(0);
	ini_run_init(sa, I);

	n = ini_auth_req(I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_str_empty(out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	cr_assert(ike_sa_initial_contact(sa));
	cr_assert_eq(ike_sa_peer_auth(sa), IKE_SA_AUTH_PSK);
	cr_assert_str_eq(ike_sa_auth_name(ike_sa_peer_auth(sa)), "psk");
	{
		uint8_t type;
		size_t len;
		const uint8_t *id = ike_sa_peer_id(sa, &type, &len);

		cr_assert_eq(type, IKE_ID_FQDN);
		cr_assert_eq(len, strlen(INI_ID));
		cr_assert_arr_eq(id, INI_ID, len);
	}
	cr_assert_eq(out.nev, 2);
	cr_assert_eq(out.ev[0].type, IKE_EV_IKE_UP);
	cr_assert_eq(out.ev[1].type, IKE_EV_CHILD_UP);
	ch = out.ev[1].child;
	ini_open(I, out.msg, out.len, 1, m, plain);
	ini_check_auth(I, m);

	/* CFG_REPLY: the pool's first address and the DNS server. */
	cr_assert(m->pl.have & IKE_HAVE_CP);
	cr_assert_eq(m->pl.cp.type, IKE_CFG_REPLY);
	cr_assert_eq(m->pl.cp.nattrs, 2);
	cr_assert_eq(m->pl.cp.attrs[0].type, IKE_CFG_INTERNAL_IP4_ADDRESS);
	cr_assert_arr_eq(m->pl.cp.attrs[0].value.p, "\x0a\x0a\x00\x01", 4);
	cr_assert_eq(m->pl.cp.attrs[1].type, IKE_CFG_INTERNAL_IP4_DNS);
	cr_assert_arr_eq(m->pl.cp.attrs[1].value.p, "\x0a\x0a\x00\x35", 4);
	cr_assert_eq(ch->vip, 0x0a0a0001);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 1);

	/* TSi narrowed to the virtual IP, TSr ours. */
	cr_assert_eq(m->pl.tsi.count, 1);
	cr_assert_arr_eq(m->pl.tsi.ts[0].start, "\x0a\x0a\x00\x01", 4);
	cr_assert_arr_eq(m->pl.tsi.ts[0].end, "\x0a\x0a\x00\x01", 4);
	cr_assert_arr_eq(m->pl.tsr.ts[0].start, "\0\0\0\0", 4);
	cr_assert_arr_eq(m->pl.tsr.ts[0].end, "\xff\xff\xff\xff", 4);
	cr_assert_arr_eq(ch->tsi.start, "\x0a\x0a\x00\x01", 4);

	/* SPIs: the responder's from the generator (0 skipped), ours. */
	cr_assert_eq(m->pl.sa.nproposals, 1);
	cr_assert_eq(m->pl.sa.proposals[0].spi_size, 4);
	cr_assert_arr_eq(m->pl.sa.proposals[0].spi, "\0\0\0\1", 4);
	cr_assert_eq(ch->spi_in, 1);
	cr_assert_eq(ch->spi_out, load_be32(I->esp_spi));

	/* Both sides derive the same KEYMAT. */
	memset(&cs, 0, sizeof(cs));
	cs.encr = I->esp_encr;
	cs.encr_bits = I->esp_bits;
	cs.integ = I->esp_integ;
	cr_assert_eq(ch->suite.encr, cs.encr);
	cr_assert_eq(ch->suite.encr_bits, cs.encr_bits);
	cr_assert_eq(ch->suite.integ, cs.integ);
	cr_assert_eq(ike_child_keys_derive(I->suite.prf, I->keys.sk_d,
	    I->keys.prf_len, &cs, NULL, 0, I->ni, sizeof(I->ni), I->nr,
	    I->nr_len, &ck), 0);
	cr_assert_eq(ck.encr_len, ch->keys.encr_len);
	cr_assert_eq(ck.integ_len, ch->keys.integ_len);
	cr_assert_gt(ck.encr_len, 0);
	cr_assert_arr_eq(ck.ei, ch->keys.ei, ck.encr_len);
	cr_assert_arr_eq(ck.er, ch->keys.er, ck.encr_len);
	cr_assert_arr_eq(ck.ai, ch->keys.ai, ck.integ_len);
	cr_assert_arr_eq(ck.ar, ch->keys.ar, ck.integ_len);
	cr_assert_arr_neq(ck.ei, ck.er, ck.encr_len);

	/* INFORMATIONAL: an empty request gets an empty response. */
	cr_assert_eq(ini_info(sa, I, 2, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 0);
	ini_open(I, out.msg, out.len, 2, m, plain);
	cr_assert_eq(m->pl.have, 0);
	cr_assert_eq(m->pl.nnotify + m->pl.ndelete, 0);
	cr_assert_eq(ike_sa_last_ms(sa), 5000);

	/* Delete of the Child SA: our SPI comes back. */
	memset(&d, 0, sizeof(d));
	d.proto = IKE_PROTO_ESP;
	d.spi_size = 4;
	d.nspis = 1;
	d.spis.p = I->esp_spi;
	d.spis.len = 4;
	w = wr_make(dinner, sizeof(dinner));
	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_delete(&b, &d), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(ini_info(sa, I, 3, b.first, dinner, w.len, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_CHILD_DOWN);
	cr_assert_eq(out.ev[0].child->spi_in, 1);
	memcpy(resp2, out.msg, out.len);
	resp2_len = out.len;
	ini_open(I, resp2, resp2_len, 3, m, plain);
	cr_assert_eq(m->pl.ndelete, 1);
	cr_assert_eq(m->pl.delete[0].proto, IKE_PROTO_ESP);
	cr_assert_eq(ike_delete_spi(&m->pl.delete[0], 0), 1);

	/* Delete of the IKE SA: empty response, DEAD, address back. */
	memset(&d, 0, sizeof(d));
	d.proto = IKE_PROTO_IKE;
	w = wr_make(dinner, sizeof(dinner));
	ike_build_inner_init(&b, &w);
	cr_assert_eq(ike_build_delete(&b, &d), 0);
	cr_assert_eq(ike_build_finish(&b), 0);
	cr_assert_eq(ini_info(sa, I, 4, b.first, dinner, w.len, &out),
	    IKE_SA_ANSWERED, "%s", out.reason);
	cr_assert_eq(out.nev, 1);
	cr_assert_eq(out.ev[0].type, IKE_EV_IKE_DOWN);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_DEAD);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 0);
	ini_open(I, out.msg, out.len, 4, m, plain);
	cr_assert_eq(m->pl.have, 0);
	cr_assert_eq(m->pl.ndelete, 0);

	/* Dead: a new request is dropped. */
	cr_assert_eq(ini_info(sa, I, 5, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_DROPPED);
	ike_child_keys_cleanse(&ck);
	ike_sa_free(sa);
	free(m);
	ini_free(I);
	ini_responder_teardown();
}

Test(responder, establishes_gcm_and_agrees_on_child_keys, .timeout = 20)
{
	struct ini I;

	ini_gcm(&I);
	establish_and_check("aes256gcm16-prfsha384-x25519", "aes256gcm16", &I);
}

Test(responder, establishes_cbc_modp2048_and_agrees_on_child_keys,
    .timeout = 20)
{
	struct ini I;

	ini_gcm(&I);
	I.prop.encr = IKE_ENCR_AES_CBC;
	I.prop.encr_bits = 256;
	I.prop.prf = IKE_PRF_HMAC_SHA2_256;
	I.prop.integ = IKE_INTEG_HMAC_SHA2_256_128;
	I.dh[0] = I.ke_group = IKE_DH_MODP2048;
	I.esp_encr = IKE_ENCR_AES_CBC;
	I.esp_bits = 128;
	I.esp_integ = IKE_INTEG_HMAC_SHA2_256_128;
	establish_and_check("aes256-sha256-modp2048", "aes128-sha256", &I);
}

Test(responder, retransmissions_get_identical_bytes, .timeout = 20)
{
	uint8_t req[IKE_SA_MSG_MAX], first[IKE_SA_MSG_MAX];
	uint8_t resp1[IKE_SA_MSG_MAX];
	size_t n, first_len, resp1_len;
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = ini_new_sa(0);
	ini_init_req(&I);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1000, &out),
	    IKE_SA_ANSWERED);
	memcpy(resp1, out.msg, out.len);
	resp1_len = out.len;
	ini_init_resp(&I, resp1, resp1_len);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1500, &out),
	    IKE_SA_RETRANSMIT);
	cr_assert_eq(out.len, resp1_len);
	cr_assert_arr_eq(out.msg, resp1, resp1_len);

	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	memcpy(first, out.msg, out.len);
	first_len = out.len;
	cr_assert_eq(ike_sa_handle(sa, req, n, 2500, &out), IKE_SA_RETRANSMIT);
	cr_assert_eq(out.nev, 0);
	cr_assert_eq(out.len, first_len);
	cr_assert_arr_eq(out.msg, first, first_len);
	/* IKE_SA_INIT is over once IKE_AUTH was answered. */
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 2600, &out),
	    IKE_SA_DROPPED);

	/* An old message ID and one from the future are dropped. */
	cr_assert_eq(ini_info(sa, &I, 0, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_DROPPED);
	cr_assert_eq(ini_info(sa, &I, 3, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_DROPPED);
	cr_assert(strstr(out.reason, "expected 2") != NULL, "%s", out.reason);
	cr_assert_eq(ini_info(sa, &I, 2, IKE_PL_NONE, NULL, 0, &out),
	    IKE_SA_ANSWERED);
	ike_sa_free(sa);
	ini_free(&I);
	ini_responder_teardown();
}

Test(responder, forged_request_is_dropped, .timeout = 20)
{
	uint8_t req[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	req[n - 20] ^= 1;
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_DROPPED);
	cr_assert(strstr(out.reason, "integrity") != NULL, "%s", out.reason);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_INIT_DONE);
	req[n - 20] ^= 1;
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ike_sa_free(sa);
	ini_free(&I);
	ini_responder_teardown();
}

Test(responder, cookie_required_then_accepted, .timeout = 20)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t req[IKE_SA_MSG_MAX];
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = ini_new_sa(IKE_SA_F_COOKIE);
	ini_init_req(&I);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1000, &out),
	    IKE_SA_ANSWERED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_IDLE);
	cr_assert(out.cookie, "a COOKIE demand is flagged for counting");
	cr_assert_eq(ike_msg_parse(out.msg, out.len, m), IKE_PARSE_OK);
	cr_assert_eq(m->hdr.spi_r, 0);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_COOKIE);
	cr_assert_leq(m->pl.notify[0].data.len, sizeof(I.cookie));
	I.cookie_len = m->pl.notify[0].data.len;
	memcpy(I.cookie, m->pl.notify[0].data.p, I.cookie_len);
	ike_sa_free(sa);	/* stateless: the SA held nothing */

	/* A wrong cookie is challenged again. */
	I.cookie[0] ^= 1;
	sa = ini_new_sa(IKE_SA_F_COOKIE);
	ini_init_req(&I);
	cr_assert_eq(ike_sa_handle(sa, I.req1, I.req1_len, 1000, &out),
	    IKE_SA_ANSWERED);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_IDLE);
	cr_assert(strstr(out.reason, "wrong cookie") != NULL, "%s",
	    out.reason);
	cr_assert(out.cookie);
	ike_sa_free(sa);

	/*
	 * The right one is accepted (ini_run_init() checks that its answer
	 * is not flagged as a COOKIE), and the rest goes on as usual.
	 */
	I.cookie[0] ^= 1;
	sa = ini_new_sa(IKE_SA_F_COOKIE);
	ini_run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert(!out.cookie);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}

Test(responder, create_child_sa_without_payloads_is_invalid_syntax,
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
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED);
	n = ini_protect(&I, IKE_EXCH_CREATE_CHILD_SA, 2, IKE_PL_NONE, NULL, 0,
	    req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 3000, &out), IKE_SA_ANSWERED);
	ini_open(&I, out.msg, out.len, 2, m, plain);
	cr_assert_eq(m->pl.nnotify, 1);
	cr_assert_eq(m->pl.notify[0].type, IKE_N_INVALID_SYNTAX);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ini_responder_teardown();
}

Test(responder, reassembles_a_fragmented_ike_auth, .timeout = 20)
{
	uint8_t f1[IKE_SA_MSG_MAX], f2[IKE_SA_MSG_MAX];
	struct ini_plain pr;
	struct ike_sa *sa;
	struct ike_out out;
	struct ini I;
	size_t n1, n2, half;

	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	(void)ini_auth_req_ex(&I, NULL, 0, &pr);
	half = pr.len / 2;
	n1 = ini_protect_frag(&I, 1, pr.first, 1, 2, pr.inner, half, f1,
	    sizeof(f1));
	n2 = ini_protect_frag(&I, 1, pr.first, 2, 2, pr.inner + half,
	    pr.len - half, f2, sizeof(f2));
	/* Out of order: 2 then 1. */
	cr_assert_eq(ike_sa_handle(sa, f2, n2, 2000, &out), IKE_SA_FRAGMENT,
	    "%s", out.reason);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(ike_sa_handle(sa, f1, n1, 2001, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED);
	cr_assert_eq(out.nev, 2);
	/* A retransmitted set: fragment 1 gets the response once. */
	cr_assert_eq(ike_sa_handle(sa, f2, n2, 2500, &out), IKE_SA_DROPPED);
	cr_assert_eq(ike_sa_handle(sa, f1, n1, 2500, &out), IKE_SA_RETRANSMIT);
	ike_sa_free(sa);
	ini_free(&I);
	ini_responder_teardown();
}

