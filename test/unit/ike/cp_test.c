/*
 * ike/cp.c: the virtual IPv4 address pool.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "ike/cp.h"

TestSuite(cp);

#define A(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

Test(cp, parses_cidrs, .timeout = 10)
{
	char err[IKE_POOL_ERR_MAX];
	struct ike_pool *p;
	uint8_t len;

	p = ike_pool_new("10.10.0.0/24", err, sizeof(err));
	cr_assert_not_null(p, "%s", err);
	cr_assert_eq(ike_pool_size(p), 254);
	cr_assert_eq(ike_pool_network(p, &len), A(10, 10, 0, 0));
	cr_assert_eq(len, 24);
	ike_pool_free(p);
	cr_assert_null(ike_pool_new("10.10.0.1/24", err, sizeof(err)));
	cr_assert(strstr(err, "host bits") != NULL, "%s", err);
	cr_assert_null(ike_pool_new("10.10.0.0/31", err, sizeof(err)));
	cr_assert_null(ike_pool_new("10.0.0.0/8", err, sizeof(err)));
	cr_assert_null(ike_pool_new("10.10.0.0", err, sizeof(err)));
	cr_assert_null(ike_pool_new("fd00::/64", err, sizeof(err)));
	cr_assert_null(ike_pool_new("10.10.0.0/24x", err, sizeof(err)));
	ike_pool_free(NULL);
}

Test(cp, allocates_frees_and_remembers_identities, .timeout = 10)
{
	char err[IKE_POOL_ERR_MAX];
	struct ike_pool *p = ike_pool_new("192.168.7.0/30", err, sizeof(err));
	uint32_t a, b, c;

	cr_assert_not_null(p, "%s", err);
	cr_assert_eq(ike_pool_size(p), 2);
	cr_assert_eq(ike_pool_alloc(p, (const uint8_t *)"alice", 5, &a), 0);
	cr_assert_eq(a, A(192, 168, 7, 1));
	cr_assert_eq(ike_pool_alloc(p, (const uint8_t *)"bob", 3, &b), 0);
	cr_assert_eq(b, A(192, 168, 7, 2));
	cr_assert_eq(ike_pool_alloc(p, (const uint8_t *)"carol", 5, &c), -1);
	cr_assert_eq(ike_pool_used(p), 2);

	ike_pool_release(p, a);
	ike_pool_release(p, a);			/* twice: ignored */
	ike_pool_release(p, A(10, 0, 0, 1));	/* not ours: ignored */
	cr_assert_eq(ike_pool_used(p), 1);
	ike_pool_release(p, b);
	/* Bob comes back first and gets .2 again, not the lower .1. */
	cr_assert_eq(ike_pool_alloc(p, (const uint8_t *)"bob", 3, &b), 0);
	cr_assert_eq(b, A(192, 168, 7, 2));
	cr_assert_eq(ike_pool_alloc(p, (const uint8_t *)"carol", 5, &c), 0);
	cr_assert_eq(c, A(192, 168, 7, 1));
	ike_pool_free(p);
}

Test(cp, parses_ipv6_cidrs, .timeout = 10)
{
	static const uint8_t want[16] = { 0xfd, 0, 0, 0x10 };
	char err[IKE_POOL_ERR_MAX];
	struct ike_pool *p;
	uint8_t net[16], len;

	p = ike_pool6_new("fd00:10::/64", err, sizeof(err));
	cr_assert_not_null(p, "%s", err);
	cr_assert_eq(ike_pool_family(p), 6);
	cr_assert_eq(ike_pool_size(p), IKE_POOL6_MAX);
	ike_pool6_network(p, net, &len);
	cr_assert_arr_eq(net, want, 16);
	cr_assert_eq(len, 64);
	ike_pool_free(p);
	/* /126: three addresses after the network address. */
	p = ike_pool6_new("2001:db8::4/126", err, sizeof(err));
	cr_assert_not_null(p, "%s", err);
	cr_assert_eq(ike_pool_size(p), 3);
	ike_pool_free(p);
	cr_assert_null(ike_pool6_new("fd00:10::1/64", err, sizeof(err)));
	cr_assert(strstr(err, "host bits") != NULL, "%s", err);
	cr_assert_null(ike_pool6_new("fd00::/127", err, sizeof(err)));
	cr_assert_null(ike_pool6_new("10.10.0.0/24", err, sizeof(err)));
	cr_assert_null(ike_pool6_new("fd00::", err, sizeof(err)));
	cr_assert_null(ike_pool6_new("fd00::/64x", err, sizeof(err)));
	p = ike_pool_new("10.0.0.0/24", err, sizeof(err));
	cr_assert_eq(ike_pool_family(p), 4);
	ike_pool_free(p);
}

Test(cp, allocates_ipv6_and_remembers_identities, .timeout = 10)
{
	char err[IKE_POOL_ERR_MAX];
	struct ike_pool *p = ike_pool6_new("2001:db8::/126", err, sizeof(err));
	uint8_t a[16], b[16], c[16], d[16];
	uint8_t outside[16] = { 0x20, 0x01, 0x0d, 0xb9, [15] = 1 };

	cr_assert_not_null(p, "%s", err);
	cr_assert_eq(ike_pool6_alloc(p, (const uint8_t *)"a", 1, a), 0);
	cr_assert_eq(ike_pool6_alloc(p, (const uint8_t *)"b", 1, b), 0);
	cr_assert_eq(ike_pool6_alloc(p, (const uint8_t *)"c", 1, c), 0);
	/* net + 1, + 2, + 3; never the network address. */
	cr_assert_eq(a[15], 1);
	cr_assert_eq(b[15], 2);
	cr_assert_eq(c[15], 3);
	cr_assert_eq(a[0], 0x20);
	cr_assert_eq(a[3], 0xb8);
	cr_assert_eq(ike_pool6_alloc(p, (const uint8_t *)"d", 1, d), -1);
	cr_assert_eq(ike_pool_used(p), 3);
	/* Not ours, or not allocated: ignored. */
	ike_pool6_release(p, outside);
	cr_assert_eq(ike_pool_used(p), 3);
	ike_pool6_release(p, b);
	ike_pool6_release(p, b);
	cr_assert_eq(ike_pool_used(p), 2);
	/* "b" comes back to its address. */
	memset(d, 0, sizeof(d));
	cr_assert_eq(ike_pool6_alloc(p, (const uint8_t *)"b", 1, d), 0);
	cr_assert_arr_eq(d, b, 16);
	/* A v4 release on a v6 pool is ignored. */
	ike_pool_release(p, 1);
	cr_assert_eq(ike_pool_used(p), 3);
	ike_pool_free(p);
}
