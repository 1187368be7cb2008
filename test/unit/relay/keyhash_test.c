/*
 * relay/keyhash.c: SipHash-2-4-64 through EVP_MAC.  The known answer is
 * the one in the SipHash paper (Aumasson, Bernstein, 2012, appendix A):
 * key 00 01 .. 0f, message 00 01 .. 0e.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <criterion/criterion.h>

#include "relay/keyhash.h"

TestSuite(keyhash);

static const uint8_t paper_key[KEYHASH_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

Test(keyhash, matches_the_siphash_paper_vector, .timeout = 10)
{
	uint8_t msg[15];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	keyhash_set_key(paper_key);
	cr_assert_eq(keyhash(msg, sizeof(msg)), 0xa129ca6149be45e5ULL,
	    "got %016llx", (unsigned long long)keyhash(msg, sizeof(msg)));
	/* Again: a re-used context gives the same answer. */
	cr_assert_eq(keyhash(msg, sizeof(msg)), 0xa129ca6149be45e5ULL);
	keyhash_cleanup();
}

Test(keyhash, hashes_the_empty_message_as_the_paper_does, .timeout = 10)
{
	/* The reference vectors.h, 64-bit output, message length 0. */
	keyhash_set_key(paper_key);
	cr_assert_eq(keyhash("", 0), 0x726fdb47dd0e0e31ULL, "got %016llx",
	    (unsigned long long)keyhash("", 0));
	keyhash_cleanup();
}

/*
 * The same 1024 inputs in 256 buckets under two keys: the bucket of most
 * inputs changes (a fixed hash would map each to the same bucket).
 */
Test(keyhash, puts_the_same_inputs_in_other_buckets_under_another_key,
    .timeout = 10)
{
	uint8_t k2[KEYHASH_KEY_LEN];
	unsigned b1[1024], same = 0;

	for (size_t i = 0; i < sizeof(k2); i++)
		k2[i] = (uint8_t)(0xf0 - i);
	keyhash_set_key(paper_key);
	for (uint32_t i = 0; i < 1024; i++)
		b1[i] = (unsigned)(keyhash(&i, sizeof(i)) & 255);
	keyhash_set_key(k2);
	for (uint32_t i = 0; i < 1024; i++)
		same += (unsigned)(keyhash(&i, sizeof(i)) & 255) == b1[i];
	/* Chance alone: about 4 of 1024. */
	cr_assert_lt(same, 32, "%u of 1024 in the same bucket", same);
	keyhash_cleanup();
}

Test(keyhash, draws_a_random_key_at_init, .timeout = 10)
{
	uint64_t spi = 0x1122334455667788ULL, a;

	cr_assert_eq(keyhash_init(), 0);
	a = keyhash(&spi, sizeof(spi));
	keyhash_cleanup();
	cr_assert_eq(keyhash_init(), 0);
	/* Two random keys agree on 64 bits once in 2^64. */
	cr_assert_neq(keyhash(&spi, sizeof(spi)), a);
	keyhash_cleanup();
}

/* Not a check: prints what one call costs, for the closing note. */
Test(keyhash, reports_its_cost_per_call, .timeout = 30)
{
	struct timespec t0, t1;
	uint64_t acc = 0, spi[2] = { 1, 2 };
	enum { N = 200000 };
	double ns;

	cr_assert_eq(keyhash_init(), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < N; i++) {
		spi[0] = i;
		acc ^= keyhash(spi, sizeof(spi));
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / N;
	cr_log_info("keyhash: %.0f ns per 16-byte call (%016llx)", ns,
	    (unsigned long long)acc);
	fprintf(stderr, "keyhash: %.0f ns per 16-byte call\n", ns);
	keyhash_cleanup();
}
