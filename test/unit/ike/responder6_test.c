/*
 * IPv6 in IKE_AUTH (ike/exch_auth.c): INTERNAL_IP6_ADDRESS and
 * INTERNAL_IP6_DNS from an IPv6 pool (RFC 7296 §3.15.1) and IPv6 traffic
 * selectors narrowed to the address (§2.9), against the test-only
 * initiator (initiator.h).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ike/cp.h"
#include "test/unit/ike/initiator.h"

TestSuite(responder6);

/* fd00:10::1, the pool's first address. */
static const uint8_t vip6[16] = { 0xfd, 0, 0, 0x10, [15] = 1 };
static const uint8_t dns6[16] = { 0xfd, 0, 0, 0x10, [15] = 0x53 };

static struct ike_msg *m;
static uint8_t plain[IKE_SA_MSG_MAX];
/* The fixture: an initiator that asks for IPv6 too, and its SA. */
static struct ini I;
static struct ike_sa *sa;

static void
setup6(bool pool6)
{
	char err[IKE_POOL_ERR_MAX];

	m = calloc(1, sizeof(*m));
	cr_assert_not_null(m);
	ini_responder_setup("aes256gcm16-prfsha384-x25519", "aes256gcm16");
	ini_gcm(&I);
	I.want6 = true;
	if (!pool6)
		return;
	fx.conf.pool6 = ike_pool6_new("fd00:10::/64", err, sizeof(err));
	cr_assert_not_null(fx.conf.pool6, "%s", err);
	memcpy(fx.conf.dns6[0], dns6, 16);
	fx.conf.ndns6 = 1;
	ini_ts6_all(&fx.conf.local_ts6);
}

static void
setup(void)
{
	setup6(true);
}

static void
setup_no_pool6(void)
{
	setup6(false);
}

/* The SA goes before the pools, which take its addresses back. */
static void
teardown(void)
{
	ike_sa_free(sa);
	ini_free(&I);
	free(m);
	ike_pool_free(fx.conf.pool6);
	fx.conf.pool6 = NULL;
	ini_responder_teardown();
}

/* The response's CP attribute of @type. */
static const struct ike_cp_attr *
cp_attr(uint16_t type)
{
	for (size_t i = 0; i < m->pl.cp.nattrs; i++)
		if (m->pl.cp.attrs[i].type == type)
			return &m->pl.cp.attrs[i];
	return NULL;
}

/* IKE_AUTH with I: sa ESTABLISHED, the response in m; its Child SA. */
static const struct ike_child *
auth(void)
{
	uint8_t req[IKE_SA_MSG_MAX];
	struct ike_out out;
	size_t n;

	sa = ini_new_sa(0);
	ini_run_init(sa, &I);
	n = ini_auth_req(&I, req, sizeof(req));
	cr_assert_eq(ike_sa_handle(sa, req, n, 2000, &out), IKE_SA_ANSWERED,
	    "%s", out.reason);
	cr_assert_eq(ike_sa_state(sa), IKE_SA_ESTABLISHED, "%s", out.reason);
	cr_assert_eq(out.nev, 2, "%s", out.reason);
	cr_assert_eq(out.ev[1].type, IKE_EV_CHILD_UP);
	ini_open(&I, out.msg, out.len, 1, m, plain);
	ini_check_auth(&I, m);
	return out.ev[1].child;
}

Test(responder6, hands_out_ipv4_and_ipv6_with_narrowed_selectors,
    .init = setup, .fini = teardown, .timeout = 20)
{
	const struct ike_cp_attr *a;
	const struct ike_child *ch;

	ch = auth();
	/* The Child SA: both families. */
	cr_assert_eq(ch->vip, 0x0a0a0001);
	cr_assert(ch->has6);
	cr_assert_arr_eq(ch->vip6, vip6, 16);
	cr_assert_eq(ch->tsi6.type, IKE_TS_IPV6_ADDR_RANGE);
	cr_assert_arr_eq(ch->tsi6.start, vip6, 16);
	cr_assert_arr_eq(ch->tsi6.end, vip6, 16);
	cr_assert_eq(ch->tsr6.type, IKE_TS_IPV6_ADDR_RANGE);
	/* CFG_REPLY: 16 octets of address and the pool's prefix length. */
	cr_assert(m->pl.have & IKE_HAVE_CP);
	cr_assert_eq(m->pl.cp.type, IKE_CFG_REPLY);
	a = cp_attr(IKE_CFG_INTERNAL_IP6_ADDRESS);
	cr_assert_not_null(a);
	cr_assert_eq(a->value.len, 17);
	cr_assert_arr_eq(a->value.p, vip6, 16);
	cr_assert_eq(a->value.p[16], 64);
	a = cp_attr(IKE_CFG_INTERNAL_IP6_DNS);
	cr_assert_not_null(a);
	cr_assert_eq(a->value.len, 16);
	cr_assert_arr_eq(a->value.p, dns6, 16);
	cr_assert_not_null(cp_attr(IKE_CFG_INTERNAL_IP4_ADDRESS));
	/* TSi = 10.10.0.1/32 and fd00:10::1/128; TSr one of each. */
	cr_assert_eq(m->pl.tsi.count, 2);
	cr_assert_eq(m->pl.tsi.ts[0].type, IKE_TS_IPV4_ADDR_RANGE);
	cr_assert_eq(m->pl.tsi.ts[1].type, IKE_TS_IPV6_ADDR_RANGE);
	cr_assert_arr_eq(m->pl.tsi.ts[1].start, vip6, 16);
	cr_assert_arr_eq(m->pl.tsi.ts[1].end, vip6, 16);
	cr_assert_eq(m->pl.tsr.count, 2);
	cr_assert_eq(ike_pool_used(fx.conf.pool6), 1);
	ike_sa_free(sa);
	sa = NULL;
	cr_assert_eq(ike_pool_used(fx.conf.pool6), 0);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 0);
}

Test(responder6, ipv6_only_initiator_gets_no_ipv4, .init = setup,
    .fini = teardown, .timeout = 20)
{
	const struct ike_child *ch;

	I.no_ip4 = true;
	ch = auth();
	cr_assert_eq(ch->vip, 0);
	cr_assert(ch->has6);
	cr_assert_null(cp_attr(IKE_CFG_INTERNAL_IP4_ADDRESS));
	cr_assert_not_null(cp_attr(IKE_CFG_INTERNAL_IP6_ADDRESS));
	cr_assert_eq(m->pl.tsi.count, 1);
	cr_assert_eq(m->pl.tsi.ts[0].type, IKE_TS_IPV6_ADDR_RANGE);
	cr_assert_eq(m->pl.tsr.count, 1);
	cr_assert_eq(ike_pool_used(fx.conf.pool), 0);
}

Test(responder6, without_an_ipv6_pool_only_ipv4, .init = setup_no_pool6,
    .fini = teardown, .timeout = 20)
{
	const struct ike_child *ch;

	ch = auth();
	cr_assert_eq(ch->vip, 0x0a0a0001);
	cr_assert_not(ch->has6);
	cr_assert_null(cp_attr(IKE_CFG_INTERNAL_IP6_ADDRESS));
	cr_assert_eq(m->pl.tsi.count, 1);
	cr_assert_eq(m->pl.tsi.ts[0].type, IKE_TS_IPV4_ADDR_RANGE);
}

Test(responder6, narrows_ipv6_tsr_to_local_ts6, .init = setup,
    .fini = teardown, .timeout = 20)
{
	static const uint8_t lo[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t hi[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct ike_child *ch;

	/* We offer 2001:db8::/32; the initiator asks for ::/0. */
	memcpy(fx.conf.local_ts6.start, lo, 16);
	memcpy(fx.conf.local_ts6.end, hi, 16);
	ch = auth();
	cr_assert(ch->has6);
	cr_assert_arr_eq(ch->tsr6.start, lo, 16);
	cr_assert_arr_eq(ch->tsr6.end, hi, 16);
	cr_assert_eq(m->pl.tsr.count, 2);
	cr_assert_arr_eq(m->pl.tsr.ts[1].start, lo, 16);
	cr_assert_arr_eq(m->pl.tsr.ts[1].end, hi, 16);
}
