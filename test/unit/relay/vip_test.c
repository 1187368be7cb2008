/*
 * relay/vip.c: the virtual-IP table the TUN path looks destinations up
 * in.  Owners embed one entry per family, as an integrated session does;
 * colliding keys are found by searching for two addresses in one bucket.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "relay/vip.h"

TestSuite(vip);

/* A session's two entries, as in relay/integ_int.h. */
struct owner {
	struct vip_entry v4, v6;
};

static struct vip_table *
table_new(void)
{
	struct vip_table *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t);
	return t;
}

/* 10.0.0.@last as a key. */
static void
key4(uint8_t last, uint8_t key[static VIP_ADDR_LEN])
{
	const uint8_t a[4] = { 10, 0, 0, last };

	vip_map4(a, key);
}

/* fd00::@last as a key. */
static void
key6(uint8_t last, uint8_t key[static VIP_ADDR_LEN])
{
	memset(key, 0, VIP_ADDR_LEN);
	key[0] = 0xfd;
	key[15] = last;
}

Test(vip, maps_ipv4_to_ipv4_mapped_ipv6, .timeout = 5)
{
	static const uint8_t want[VIP_ADDR_LEN] = {
		0, 0, 0, 0, 0, 0, 0, 0,		/* ::ffff:0:0/96 */
		0, 0, 0xff, 0xff,
		192, 0, 2, 7,			/* 192.0.2.7 */
	};
	const uint8_t a[4] = { 192, 0, 2, 7 };
	uint8_t key[VIP_ADDR_LEN];

	vip_map4(a, key);
	cr_assert_arr_eq(key, want, VIP_ADDR_LEN);
}

Test(vip, finds_a_linked_ipv4_address, .timeout = 5)
{
	struct vip_table *t = table_new();
	struct owner o = { 0 };
	uint8_t k[VIP_ADDR_LEN], other[VIP_ADDR_LEN];

	key4(2, k);
	key4(3, other);
	cr_assert_null(vip_lookup(t, 4, k));
	cr_assert(!vip_is_linked(&o.v4));
	vip_link(t, &o.v4, 4, k);
	cr_assert(vip_is_linked(&o.v4));
	cr_assert_eq(vip_lookup(t, 4, k), &o.v4);
	cr_assert_null(vip_lookup(t, 4, other));
	cr_assert_null(vip_lookup(t, 6, k), "the family is part of the key");
	free(t);
}

Test(vip, finds_a_linked_ipv6_address, .timeout = 5)
{
	struct vip_table *t = table_new();
	struct owner o = { 0 };
	uint8_t k[VIP_ADDR_LEN], other[VIP_ADDR_LEN];

	key6(2, k);
	key6(3, other);
	vip_link(t, &o.v6, 6, k);
	cr_assert_eq(vip_lookup(t, 6, k), &o.v6);
	cr_assert_null(vip_lookup(t, 6, other));
	cr_assert_null(vip_lookup(t, 4, k));
	free(t);
}

Test(vip, unlink_removes_and_is_idempotent, .timeout = 5)
{
	struct vip_table *t = table_new();
	struct owner o = { 0 };
	uint8_t k[VIP_ADDR_LEN];

	key4(2, k);
	vip_link(t, &o.v4, 4, k);
	vip_unlink(t, &o.v4);
	cr_assert(!vip_is_linked(&o.v4));
	cr_assert_null(vip_lookup(t, 4, k));
	vip_unlink(t, &o.v4);		/* unlinked: nothing happens */
	vip_unlink(t, &o.v6);		/* never linked */
	cr_assert_null(vip_lookup(t, 4, k));
	free(t);
}

Test(vip, relinking_moves_an_entry_to_its_new_address, .timeout = 5)
{
	struct vip_table *t = table_new();
	struct owner o = { 0 };
	uint8_t a[VIP_ADDR_LEN], b[VIP_ADDR_LEN];

	key4(2, a);
	key4(3, b);
	vip_link(t, &o.v4, 4, a);
	vip_link(t, &o.v4, 4, b);
	cr_assert_null(vip_lookup(t, 4, a));
	cr_assert_eq(vip_lookup(t, 4, b), &o.v4);
	free(t);
}

Test(vip, one_owner_holds_an_ipv4_and_an_ipv6_address, .timeout = 5)
{
	struct vip_table *t = table_new();
	struct owner o = { 0 }, p = { 0 };
	uint8_t k4[VIP_ADDR_LEN], k6[VIP_ADDR_LEN], p4[VIP_ADDR_LEN];

	key4(2, k4);
	key6(2, k6);
	key4(9, p4);
	vip_link(t, &o.v4, 4, k4);
	vip_link(t, &o.v6, 6, k6);
	vip_link(t, &p.v4, 4, p4);
	cr_assert_eq(vip_lookup(t, 4, k4), &o.v4);
	cr_assert_eq(vip_lookup(t, 6, k6), &o.v6);
	cr_assert_eq(vip_lookup(t, 4, p4), &p.v4);
	/* Its last IPv4 Child SA gone: the IPv6 route stays. */
	vip_unlink(t, &o.v4);
	cr_assert_null(vip_lookup(t, 4, k4));
	cr_assert_eq(vip_lookup(t, 6, k6), &o.v6);
	cr_assert_eq(vip_lookup(t, 4, p4), &p.v4);
	vip_unlink(t, &o.v6);
	cr_assert_null(vip_lookup(t, 6, k6));
	free(t);
}

/* The first key 10.0.N.N or fd00::N, N > @from, in bucket @b. */
static void
in_bucket(size_t b, uint8_t family, unsigned from,
    uint8_t key[static VIP_ADDR_LEN])
{
	for (unsigned i = from + 1; i < 1U << 16; i++) {
		if (family == 6) {
			key6(0, key);
			key[14] = (uint8_t)(i >> 8);
			key[15] = (uint8_t)i;
		} else {
			const uint8_t a[4] = { 10, 0, (uint8_t)(i >> 8),
			    (uint8_t)i };

			vip_map4(a, key);
		}
		if (vip_bucket(family, key) == b)
			return;
	}
	cr_assert_fail("no key in bucket %zu", b);
}

/*
 * Three entries in one chain, one of them IPv6: each is found as its own,
 * and unlinking the middle, then the head, leaves the others found.
 */
Test(vip, entries_sharing_a_bucket_are_found_and_unlinked, .timeout = 10)
{
	struct vip_table *t = table_new();
	struct owner o[3];
	uint8_t k[3][VIP_ADDR_LEN];
	const uint8_t fam[3] = { 4, 4, 6 };
	size_t b;

	memset(o, 0, sizeof(o));
	key4(1, k[0]);
	b = vip_bucket(4, k[0]);
	in_bucket(b, 4, 1, k[1]);
	in_bucket(b, 6, 0, k[2]);
	cr_assert_neq(memcmp(k[0], k[1], VIP_ADDR_LEN), 0);
	for (size_t i = 0; i < 3; i++)
		vip_link(t, fam[i] == 4 ? &o[i].v4 : &o[i].v6, fam[i], k[i]);
	cr_assert_eq(vip_lookup(t, 4, k[0]), &o[0].v4);
	cr_assert_eq(vip_lookup(t, 4, k[1]), &o[1].v4);
	cr_assert_eq(vip_lookup(t, 6, k[2]), &o[2].v6);
	vip_unlink(t, &o[1].v4);	/* the middle of the chain */
	cr_assert_null(vip_lookup(t, 4, k[1]));
	cr_assert_eq(vip_lookup(t, 4, k[0]), &o[0].v4);
	cr_assert_eq(vip_lookup(t, 6, k[2]), &o[2].v6);
	vip_unlink(t, &o[2].v6);	/* the head: linked last */
	cr_assert_null(vip_lookup(t, 6, k[2]));
	cr_assert_eq(vip_lookup(t, 4, k[0]), &o[0].v4);
	vip_unlink(t, &o[0].v4);
	cr_assert_null(vip_lookup(t, 4, k[0]));
	free(t);
}

/* More addresses than buckets: every one found, every other unlinked. */
Test(vip, a_full_table_keeps_every_address, .timeout = 10)
{
	enum { N = VIP_BUCKETS + 64 };
	struct vip_table *t = table_new();
	struct owner *o = calloc(N, sizeof(*o));
	uint8_t k[VIP_ADDR_LEN];

	cr_assert_not_null(o);
	for (size_t i = 0; i < N; i++) {
		const uint8_t a[4] = { 10, 1, (uint8_t)(i >> 8), (uint8_t)i };

		vip_map4(a, k);
		vip_link(t, &o[i].v4, 4, k);
	}
	for (size_t i = 0; i < N; i += 2)
		vip_unlink(t, &o[i].v4);
	for (size_t i = 0; i < N; i++) {
		const uint8_t a[4] = { 10, 1, (uint8_t)(i >> 8), (uint8_t)i };

		vip_map4(a, k);
		if (i % 2 == 0)
			cr_assert_null(vip_lookup(t, 4, k), "address %zu", i);
		else
			cr_assert_eq(vip_lookup(t, 4, k), &o[i].v4,
			    "address %zu", i);
	}
	free(o);
	free(t);
}
