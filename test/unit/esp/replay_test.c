/*
 * esp/replay.c: RFC 4303 §3.4.3 window and Appendix A2.2 ESN inference.
 */
#include <criterion/criterion.h>

#include "esp/replay.h"

TestSuite(replay, .timeout = 10);

/* check + update, as esp_decap does once the ICV verified. */
static enum esp_replay_verdict
accept(struct esp_replay *w, uint32_t low, uint64_t *seq)
{
	enum esp_replay_verdict v = esp_replay_check(w, low, seq);

	if (v == ESP_REPLAY_OK)
		esp_replay_update(w, *seq);
	return v;
}

Test(replay, accepts_a_new_packet_and_refuses_its_replay, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;

	cr_assert_eq(esp_replay_init(&w, 0, false), 0);
	cr_assert_eq(w.size, ESP_REPLAY_WINDOW_DEFAULT);
	cr_assert_eq(accept(&w, 1, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 1);
	cr_assert_eq(esp_replay_check(&w, 1, &s), ESP_REPLAY_SEEN);
}

Test(replay, check_alone_changes_nothing, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, 64, false);
	cr_assert_eq(esp_replay_check(&w, 7, &s), ESP_REPLAY_OK);
	cr_assert_eq(esp_replay_check(&w, 7, &s), ESP_REPLAY_OK);
	cr_assert_eq(w.top, 0);
}

Test(replay, refuses_sequence_zero_without_esn, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, 64, false);
	cr_assert_eq(esp_replay_check(&w, 0, &s), ESP_REPLAY_OLD);
	accept(&w, 100, &s);
	cr_assert_eq(esp_replay_check(&w, 0, &s), ESP_REPLAY_OLD);
}

Test(replay, refuses_sequence_zero_with_esn_before_a_wrap, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, 64, true);
	cr_assert_eq(esp_replay_check(&w, 0, &s), ESP_REPLAY_OLD);
}

Test(replay, accepts_the_bottom_edge_and_refuses_one_below, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, 1024, false);
	accept(&w, 2000, &s);
	/* Window [977, 2000]. */
	cr_assert_eq(esp_replay_check(&w, 977, &s), ESP_REPLAY_OK);
	cr_assert_eq(esp_replay_check(&w, 976, &s), ESP_REPLAY_OLD);
	cr_assert_eq(esp_replay_check(&w, 1999, &s), ESP_REPLAY_OK);
	cr_assert_eq(esp_replay_check(&w, 2000, &s), ESP_REPLAY_SEEN);
	cr_assert_eq(esp_replay_check(&w, 2001, &s), ESP_REPLAY_OK);
}

Test(replay, accepts_reordered_packets_once_each, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;
	uint32_t i;

	esp_replay_init(&w, 128, false);
	for (i = 200; i >= 100; i -= 2)
		cr_assert_eq(accept(&w, i, &s), ESP_REPLAY_OK, "seq %u", i);
	for (i = 101; i < 200; i += 2)
		cr_assert_eq(accept(&w, i, &s), ESP_REPLAY_OK, "seq %u", i);
	for (i = 100; i <= 200; i++)
		cr_assert_eq(esp_replay_check(&w, i, &s), ESP_REPLAY_SEEN,
		    "seq %u", i);
}

Test(replay, forgets_bits_that_slide_out_of_the_window, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s, ring;
	uint32_t i;

	esp_replay_init(&w, 1024, false);
	ring = 64 * (uint64_t)w.words;
	for (i = 1; i <= 1024; i++)
		accept(&w, i, &s);
	/* Jump so the window holds numbers that share ring bits with 1.. */
	accept(&w, (uint32_t)(ring + 1024), &s);
	for (i = (uint32_t)(ring + 1024 - 1023); i < ring + 1024; i++)
		cr_assert_eq(esp_replay_check(&w, i, &s), ESP_REPLAY_OK,
		    "seq %u", i);
}

Test(replay, window_sizes_from_32_to_4096_only, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;

	cr_assert_eq(esp_replay_init(&w, 31, false), -1);
	cr_assert_eq(esp_replay_init(&w, 4097, false), -1);
	cr_assert_eq(esp_replay_init(&w, 32, false), 0);
	cr_assert_eq(esp_replay_init(&w, 4096, false), 0);
	accept(&w, 10000, &s);
	cr_assert_eq(esp_replay_check(&w, 10000 - 4095, &s), ESP_REPLAY_OK);
	cr_assert_eq(esp_replay_check(&w, 10000 - 4096, &s), ESP_REPLAY_OLD);
}

Test(replay, infers_the_next_subspace_across_the_wrap, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, 64, true);
	/* At the start, a low half just below 2^32 would be from "before 1". */
	cr_assert_eq(esp_replay_check(&w, 0xfffffff0, &s), ESP_REPLAY_OLD);
	w.top = 0xffffffe0;
	cr_assert_eq(accept(&w, 0xfffffff0, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 0xfffffff0);
	/* Below the window's bottom: the next 2^32 subspace (case A). */
	cr_assert_eq(accept(&w, 5, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 0x100000005ULL);
	/* Low 32 bits 0 is a valid ESN sequence number after the wrap. */
	cr_assert_eq(accept(&w, 0, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 0x100000000ULL);
	/* Window spans two subspaces (case B): a late one from the old. */
	cr_assert_eq(accept(&w, 0xfffffff8, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 0xfffffff8ULL);
	cr_assert_eq(esp_replay_check(&w, 0xfffffff0, &s), ESP_REPLAY_SEEN);
	cr_assert_eq(esp_replay_check(&w, 0xffffffc6, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 0xffffffc6ULL);
	/* Below the bottom of a spanning window: the current subspace. */
	cr_assert_eq(esp_replay_check(&w, 0xffffffc5, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 0x1ffffffc5ULL);
	cr_assert_eq(esp_replay_check(&w, 4, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 0x100000004ULL);
}

Test(replay, infers_the_same_subspace_inside_the_window, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, 64, true);
	w.top = 0x300000100ULL;
	cr_assert_eq(esp_replay_check(&w, 0x100 - 63, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 0x300000100ULL - 63);
	/* Below the bottom: taken as the next subspace, the ICV decides. */
	cr_assert_eq(esp_replay_check(&w, 0x100 - 64, &s), ESP_REPLAY_OK);
	cr_assert_eq(s, 0x400000100ULL - 64);
}

Test(replay, refuses_without_esn_what_would_need_a_wrap, .timeout = 10)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, 64, false);
	accept(&w, 0xffffffff, &s);
	cr_assert_eq(esp_replay_check(&w, 1, &s), ESP_REPLAY_OLD);
	cr_assert_eq(esp_replay_check(&w, 0, &s), ESP_REPLAY_OLD);
}
