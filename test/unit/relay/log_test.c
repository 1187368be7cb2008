/*
 * relay/log.c: the token bucket of peer-caused lines, the text and kv
 * forms of a line, statistics that ignore the level, the key parsers.  The clock is the
 * test's, so bursts, refills and the suppressed count are exact; stderr
 * is read back through a pipe for the summary line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

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
	log_set_format(LOG_FORMAT_TEXT);
	log_set_timestamps(true);
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

Test(log, text_lines_start_with_the_time_unless_turned_off, .init = setup,
    .timeout = 10)
{
	struct capture cap;
	unsigned h, m, sec, ms;

	capture_start(&cap);
	log_warnx("t.conf:3: bad thing");
	capture_end(&cap);
	cr_assert_eq(sscanf(cap.text, "%2u:%2u:%2u.%3u ", &h, &m, &sec, &ms),
	    4, "%s", cap.text);
	capture_start(&cap);
	log_set_timestamps(false);
	log_warnx("t.conf:3: bad thing");
	capture_end(&cap);
	cr_assert_str_eq(cap.text, "t.conf:3: bad thing\n");
}

/* Under systemd (JOURNAL_STREAM names our stderr) a line carries its
 * syslog priority as "<N>" and no time of its own. */
Test(log, journal_lines_carry_their_priority, .init = setup, .timeout = 10)
{
	struct capture cap;
	struct stat sb;
	char js[64];

	capture_start(&cap);
	cr_assert_eq(fstat(STDERR_FILENO, &sb), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)sb.st_dev,
	    (unsigned long long)sb.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_init("test", true, LOG_LEVEL_INFO);
	log_warnx("t.conf:3: bad thing");
	log_info("fine");
	unsetenv("JOURNAL_STREAM");
	log_init("test", true, LOG_LEVEL_INFO);
	capture_end(&cap);
	cr_assert_str_eq(cap.text, "<4>t.conf:3: bad thing\n<6>fine\n");
}

Test(log, kv_lines_are_key_value_pairs, .init = setup, .timeout = 10)
{
	const struct log_field f[] = {
		{ "stream", "7" }, { "client", "[::1]:40000" },
		{ "lport", "51000" },
	};
	struct capture cap;
	char *p;

	log_set_format(LOG_FORMAT_KV);
	capture_start(&cap);
	log_emit_fields(LOG_LEVEL_INFO, "stream 7 [::1]:40000 lport 51000", f,
	    NELEM(f), "closed: %s", "peer \"eof\" a=b\tc\\d\x01");
	capture_end(&cap);
	cr_assert_eq(strncmp(cap.text, "ts=", 3), 0, "%s", cap.text);
	/* 2024-01-02T03:04:05.678Z: 24 characters, UTC. */
	p = strchr(cap.text, ' ');
	cr_assert_not_null(p);
	cr_assert_eq(p - cap.text, 3 + 24, "%s", cap.text);
	cr_assert_eq(p[-1], 'Z');
	cr_assert_str_eq(p, " level=info msg=\"closed: peer \\\"eof\\\" "
	    "a=b\\tc\\\\d\\x01\" stream=7 client=[::1]:40000 lport=51000\n");
}

Test(log, text_lines_with_fields_keep_their_prefix, .init = setup,
    .timeout = 10)
{
	const struct log_field f[] = { { "stream", "7" } };
	struct capture cap;

	log_set_timestamps(false);
	capture_start(&cap);
	log_emit_fields(LOG_LEVEL_WARN, "stream 7 1.2.3.4:5", f, NELEM(f),
	    "reset");
	log_emit_fields(LOG_LEVEL_DEBUG, "stream 7 1.2.3.4:5", f, NELEM(f),
	    "not at info");
	capture_end(&cap);
	cr_assert_str_eq(cap.text, "stream 7 1.2.3.4:5: reset\n");
}

Test(log, kv_quotes_an_empty_value_and_errno_text, .init = setup,
    .timeout = 10)
{
	const struct log_field f[] = { { "client", "" } };
	struct capture cap;

	log_set_format(LOG_FORMAT_KV);
	capture_start(&cap);
	log_emit_fields(LOG_LEVEL_ERR, NULL, f, NELEM(f), "x");
	errno = ENOENT;
	log_warn("open %s", "f");
	capture_end(&cap);
	cr_assert_not_null(strstr(cap.text, " level=err msg=x client=\"\"\n"),
	    "%s", cap.text);
	cr_assert_not_null(strstr(cap.text, " level=warning msg=\"open f: No "
	    "such file or directory\"\n"), "%s", cap.text);
}

Test(log, statistics_ignore_the_level, .init = setup, .timeout = 10)
{
	struct capture cap;

	log_set_level(LOG_LEVEL_WARN);
	log_set_timestamps(false);
	capture_start(&cap);
	log_info("not logged");
	log_stats("stats: sessions %u", 3u);
	log_set_level(LOG_LEVEL_ERR);
	log_stats("stats: again");
	log_set_format(LOG_FORMAT_KV);
	log_stats("stats: kv");
	capture_end(&cap);
	cr_assert_eq(count_lines(cap.text), 3, "%s", cap.text);
	cr_assert_eq(strncmp(cap.text, "stats: sessions 3\nstats: again\n",
	    31), 0, "%s", cap.text);
	cr_assert_not_null(strstr(cap.text, " level=notice msg=\"stats: kv\""),
	    "%s", cap.text);
}

Test(log, parses_formats_and_facilities, .timeout = 10)
{
	enum log_format lf;
	int fac;

	cr_assert(log_parse_format("text", &lf) && lf == LOG_FORMAT_TEXT);
	cr_assert(log_parse_format("kv", &lf) && lf == LOG_FORMAT_KV);
	cr_assert_not(log_parse_format("json", &lf));
	cr_assert_not(log_parse_format("KV", &lf));
	cr_assert(log_parse_facility("daemon", &fac) && fac == LOG_DAEMON);
	cr_assert(log_parse_facility("local0", &fac) && fac == LOG_LOCAL0);
	cr_assert(log_parse_facility("local7", &fac) && fac == LOG_LOCAL7);
	cr_assert(log_parse_facility("authpriv", &fac) && fac == LOG_AUTHPRIV);
	cr_assert_not(log_parse_facility("local8", &fac));
	cr_assert_not(log_parse_facility("kern", &fac));
	cr_assert_not(log_parse_facility("", &fac));
	cr_assert_not(log_parse_facility("Daemon", &fac));
}

Test(log, a_workers_lines_name_it, .init = setup, .timeout = 10)
{
	const struct log_field f[] = { { "stream", "7" } };
	struct capture cap;

	log_set_timestamps(false);
	log_set_worker(3);
	capture_start(&cap);
	log_emit_fields(LOG_LEVEL_WARN, "stream 7 1.2.3.4:5", f, NELEM(f),
	    "reset");
	log_warnx("plain");
	log_set_format(LOG_FORMAT_KV);
	log_warnx("kv");
	log_set_worker(-1);
	log_warnx("none");
	capture_end(&cap);
	cr_assert_not_null(strstr(cap.text, "worker 3: stream 7 1.2.3.4:5: "
	    "reset\nworker 3: plain\n"), "%s", cap.text);
	cr_assert_not_null(strstr(cap.text, " level=warning msg=kv worker=3\n"),
	    "%s", cap.text);
	cr_assert_not_null(strstr(cap.text, " level=warning msg=none\n"), "%s",
	    cap.text);
}
