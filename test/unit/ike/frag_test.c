#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "ike/frag.h"

TestSuite(frag, .timeout = 10);

/* Plaintext of a 4-fragment message: "AAAA" "BBB" "CC" "D". */
static const struct {
	uint16_t	 num;
	const char	*body;
} parts[] = {
	{ 1, "AAAA" }, { 2, "BBB" }, { 3, "CC" }, { 4, "D" },
};
static const char whole[] = "AAAABBBCCD";

static enum ike_frag_result
add(struct ike_reasm *r, uint64_t now, uint32_t msgid, size_t i,
    uint16_t total)
{
	return ike_reasm_add(r, now, msgid, parts[i].num, total,
	    parts[i].num == 1 ? 0x23 : 0, (const uint8_t *)parts[i].body,
	    strlen(parts[i].body));
}

static void
expect_whole(struct ike_reasm *r, uint32_t msgid)
{
	uint8_t out[64];
	size_t len;
	uint8_t first;

	cr_assert_eq(ike_reasm_take(r, msgid, out, sizeof(out), &len, &first),
	    0);
	cr_assert_eq(len, strlen(whole));
	cr_assert_eq(memcmp(out, whole, len), 0, "got %.*s", (int)len, out);
	cr_assert_eq(first, 0x23);
	/* Taken: gone. */
	cr_assert_eq(ike_reasm_take(r, msgid, out, sizeof(out), &len, &first),
	    -1);
}

Test(frag, reassembles_in_order)
{
	struct ike_reasm r;

	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(add(&r, 0, 1, i, 4), i == 3 ? IKE_FRAG_COMPLETE :
		    IKE_FRAG_MORE, "fragment %zu", i + 1);
	expect_whole(&r, 1);
	ike_reasm_cleanup(&r);
}

Test(frag, reassembles_reversed)
{
	struct ike_reasm r;

	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	for (size_t i = 4; i-- > 0;)
		cr_assert_eq(add(&r, 0, 1, i, 4), i == 0 ? IKE_FRAG_COMPLETE :
		    IKE_FRAG_MORE, "fragment %zu", i + 1);
	expect_whole(&r, 1);
	ike_reasm_cleanup(&r);
}

Test(frag, ignores_duplicates)
{
	struct ike_reasm r;

	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	cr_assert_eq(add(&r, 0, 1, 1, 4), IKE_FRAG_MORE);
	cr_assert_eq(add(&r, 0, 1, 1, 4), IKE_FRAG_IGNORED);
	cr_assert_eq(add(&r, 0, 1, 0, 4), IKE_FRAG_MORE);
	cr_assert_eq(add(&r, 0, 1, 0, 4), IKE_FRAG_IGNORED);
	cr_assert_eq(add(&r, 0, 1, 3, 4), IKE_FRAG_MORE);
	cr_assert_eq(add(&r, 0, 1, 2, 4), IKE_FRAG_COMPLETE);
	cr_assert_eq(add(&r, 0, 1, 2, 4), IKE_FRAG_IGNORED);
	expect_whole(&r, 1);
	ike_reasm_cleanup(&r);
}

Test(frag, higher_total_restarts_lower_total_is_ignored)
{
	struct ike_reasm r;

	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	/* Sender first cut the message in 3. */
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 1, 3, 0x23,
	    (const uint8_t *)"XXXXXX", 6), IKE_FRAG_MORE);
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 2, 3, 0,
	    (const uint8_t *)"YYYY", 4), IKE_FRAG_MORE);
	/* Then in 4 (a smaller PMTU): start again with this one. */
	cr_assert_eq(add(&r, 0, 1, 3, 4), IKE_FRAG_MORE);
	/* A late fragment of the 3-set is ignored. */
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 3, 3, 0,
	    (const uint8_t *)"ZZ", 2), IKE_FRAG_IGNORED);
	cr_assert_eq(add(&r, 0, 1, 0, 4), IKE_FRAG_MORE);
	cr_assert_eq(add(&r, 0, 1, 1, 4), IKE_FRAG_MORE);
	cr_assert_eq(add(&r, 0, 1, 2, 4), IKE_FRAG_COMPLETE);
	expect_whole(&r, 1);
	ike_reasm_cleanup(&r);
}

Test(frag, rejects_bad_numbers)
{
	struct ike_reasm r;
	const uint8_t x = 0;

	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 0, 2, 0, &x, 1),
	    IKE_FRAG_IGNORED);
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 3, 2, 0, &x, 1),
	    IKE_FRAG_IGNORED);
	ike_reasm_cleanup(&r);
}

Test(frag, drops_set_over_fragment_count)
{
	struct ike_reasm r;
	const uint8_t x = 0;

	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 1, IKE_FRAG_MAX, 0, &x, 1),
	    IKE_FRAG_MORE);
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 1, IKE_FRAG_MAX + 1, 0, &x, 1),
	    IKE_FRAG_DROPPED);
	/* The old set went with it. */
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 1, IKE_FRAG_MAX, 0, &x, 1),
	    IKE_FRAG_MORE);
	ike_reasm_cleanup(&r);
}

Test(frag, drops_set_over_byte_bound)
{
	struct ike_reasm r;
	uint8_t big[100] = { 0 };

	ike_reasm_init(&r, 150, IKE_REASM_TIMEOUT_MS);
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 1, 3, 0, big, 100),
	    IKE_FRAG_MORE);
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 2, 3, 0, big, 50),
	    IKE_FRAG_MORE);
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 3, 3, 0, big, 1),
	    IKE_FRAG_DROPPED);
	/* A fresh start: fragment 2 is new again. */
	cr_assert_eq(ike_reasm_add(&r, 0, 1, 2, 3, 0, big, 50),
	    IKE_FRAG_MORE);
	ike_reasm_cleanup(&r);
}

Test(frag, expires_stale_sets)
{
	struct ike_reasm r;
	uint8_t out[64];
	size_t len;
	uint8_t first;

	ike_reasm_init(&r, IKE_REASM_BYTES, 1000);
	cr_assert_eq(add(&r, 5000, 1, 0, 4), IKE_FRAG_MORE);
	cr_assert_eq(add(&r, 5999, 1, 1, 4), IKE_FRAG_MORE);
	/* 1000 ms after the first fragment the set is gone. */
	cr_assert_eq(add(&r, 6000, 1, 2, 4), IKE_FRAG_MORE);
	cr_assert_eq(add(&r, 6000, 1, 3, 4), IKE_FRAG_MORE);
	cr_assert_eq(add(&r, 6000, 1, 0, 4), IKE_FRAG_MORE);
	cr_assert_eq(add(&r, 6000, 1, 1, 4), IKE_FRAG_COMPLETE);
	ike_reasm_expire(&r, 7000);
	cr_assert_eq(ike_reasm_take(&r, 1, out, sizeof(out), &len, &first),
	    -1);
	ike_reasm_cleanup(&r);
}

Test(frag, keeps_messages_apart_and_evicts_oldest)
{
	struct ike_reasm r;

	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	for (uint32_t id = 0; id < IKE_REASM_SLOTS; id++)
		cr_assert_eq(add(&r, id, id, 0, 4), IKE_FRAG_MORE);
	/* One more message evicts message 0 (the oldest). */
	cr_assert_eq(add(&r, 10, 99, 0, 4), IKE_FRAG_MORE);
	for (size_t i = 1; i < 4; i++) {
		cr_assert_eq(add(&r, 10, 99, i, 4), i == 3 ?
		    IKE_FRAG_COMPLETE : IKE_FRAG_MORE);
		cr_assert_eq(add(&r, 10, 1, i, 4), i == 3 ?
		    IKE_FRAG_COMPLETE : IKE_FRAG_MORE);
	}
	expect_whole(&r, 99);
	expect_whole(&r, 1);
	/* Message 0 starts over: fragment 1 is new. */
	cr_assert_eq(add(&r, 10, 0, 0, 4), IKE_FRAG_MORE);
	ike_reasm_cleanup(&r);
}

Test(frag, take_refuses_short_buffer_and_incomplete_set)
{
	struct ike_reasm r;
	uint8_t out[64];
	size_t len;
	uint8_t first;

	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	for (size_t i = 0; i < 3; i++)
		(void)add(&r, 0, 1, i, 4);
	cr_assert_eq(ike_reasm_take(&r, 1, out, sizeof(out), &len, &first),
	    -1);
	cr_assert_eq(add(&r, 0, 1, 3, 4), IKE_FRAG_COMPLETE);
	cr_assert_eq(ike_reasm_take(&r, 1, out, strlen(whole) - 1, &len,
	    &first), -1);
	expect_whole(&r, 1);
	ike_reasm_cleanup(&r);
}
