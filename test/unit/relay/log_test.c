/*
 * relay/log.c: the token bucket of peer-caused lines.  The clock is the
 * test's, so bursts, refills and the suppressed count are exact; stderr
 * is read back through a pipe for the summary line.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "relay/log.h"
#include "test/unit/conf/helpers.h"

TestSuite(log);

enum {
	RATE = 100,			/* lines/s in these tests */
	BURST = RATE * LOG_PEER_BURST_S,
	S = 1000000000,			/* ns */
};

static uint64_t now;

static uint64_t
test_clock(void)
{
	return now;
}

static void
setup(void)
{
	now = 1000ULL * S;
	log_init("test", true, LOG_LEVEL_INFO);
	log_set_clock(test_clock);
	log_set_rate(RATE);
}

static unsigned
allowed(unsigned tries)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tries; i++)
		n += log_peer_allow(LOG_LEVEL_WARN);
	return n;
}

Test(log, lets_a_full_burst_through, .init = setup, .timeout = 10)
{
	cr_assert_eq(allowed(BURST), BURST);
	cr_assert_not(log_peer_allow(LOG_LEVEL_WARN));
}

Test(log, suppresses_lines_beyond_the_burst, .init = setup, .timeout = 10)
{
	cr_assert_eq(allowed(BURST + 1000), BURST);
	/* Time stands still: nothing more. */
	cr_assert_eq(allowed(10), 0);
}

Test(log, refills_at_the_rate, .init = setup, .timeout = 10)
{
	cr_assert_eq(allowed(BURST), BURST);
	now += S / 2;
	cr_assert_eq(allowed(1000), RATE / 2);
	now += 10ULL * S;
	/* Never more than the burst, however long the pause. */
	cr_assert_eq(allowed(1000), BURST);
}

Test(log, counts_what_it_suppressed_exactly, .init = setup, .timeout = 10)
{
	struct capture cap;

	cr_assert_eq(allowed(BURST + 57), BURST);
	now += 2 * S;
	capture_start(&cap);
	log_peer(LOG_LEVEL_WARN, "peer line %d", 1);
	log_peer(LOG_LEVEL_WARN, "peer line %d", 2);
	capture_end(&cap);
	cr_assert_not_null(strstr(cap.text,
	    "log: 57 lines suppressed in the last 2 s\n"), "%s", cap.text);
	cr_assert_eq(count_lines(cap.text), 3, "%s", cap.text);
	cr_assert_lt(strstr(cap.text, "suppressed"),
	    strstr(cap.text, "peer line 1"), "the summary comes first");
}

Test(log, flushes_the_count_after_a_second, .init = setup, .timeout = 10)
{
	struct capture cap;

	cr_assert_eq(allowed(BURST + 1), BURST);
	capture_start(&cap);
	now += S / 2;
	log_peer_flush();		/* too early */
	now += S / 2;
	log_peer_flush();
	log_peer_flush();		/* once */
	capture_end(&cap);
	cr_assert_eq(count_lines(cap.text), 1, "%s", cap.text);
	cr_assert_not_null(strstr(cap.text,
	    "log: 1 line suppressed in the last 1 s\n"), "%s", cap.text);
}

Test(log, lets_everything_through_at_rate_zero, .init = setup,
    .timeout = 10)
{
	log_set_rate(0);
	cr_assert_eq(allowed(100000), 100000);
}

Test(log, takes_no_token_for_a_level_not_logged, .init = setup,
    .timeout = 10)
{
	cr_assert_eq(allowed(BURST - 1), BURST - 1);
	cr_assert_not(log_peer_allow(LOG_LEVEL_DEBUG));
	cr_assert(log_peer_allow(LOG_LEVEL_INFO));
	cr_assert_not(log_peer_allow(LOG_LEVEL_INFO));
}
