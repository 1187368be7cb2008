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
