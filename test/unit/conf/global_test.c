/*
 * conf/conf.c: the [global] logging keys (log-format, syslog-facility)
 * and conf_is_idle(), the test behind iketcpd's "nothing to do".
 */
#include <stdlib.h>
#include <syslog.h>

#include <criterion/criterion.h>

#include "conf/conf.h"
#include "test/unit/conf/helpers.h"

TestSuite(conf_global);

static struct conf *
parse_ok(const char *const *lines, size_t n)
{
	struct capture cap;
	struct conf *c;

	setenv("IKETCP_NO_DNS", "1", 1);
	c = conf_test_parse(lines, n, NULL, &cap);
	cr_assert_not_null(c, "%s", cap.text);
	return c;
}

Test(conf_global, logging_defaults, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay r]", "listen = 127.0.0.1:4500", "gateway = 192.0.2.1",
	};
	struct conf *c = parse_ok(lines, NELEM(lines));

	cr_assert_eq(c->log_format, LOG_FORMAT_TEXT);
	cr_assert_eq(c->syslog_facility, LOG_DAEMON);
	conf_unref(c);
}

Test(conf_global, takes_log_format_and_syslog_facility, .timeout = 10)
{
	static const char *const lines[] = {
		"[global]", "log-format = kv", "syslog-facility = local3",
		"[relay r]", "listen = 127.0.0.1:4500", "gateway = 192.0.2.1",
	};
	struct conf *c = parse_ok(lines, NELEM(lines));

	cr_assert_eq(c->log_format, LOG_FORMAT_KV);
	cr_assert_eq(c->syslog_facility, LOG_LOCAL3);
	conf_unref(c);
}

Test(conf_global, rejects_a_bad_log_format_quoting_it, .timeout = 10)
{
	static const char *const lines[] = {
		"[global]", "log-format = json",
		"[relay r]", "listen = 127.0.0.1:4500", "gateway = 192.0.2.1",
	};
	static const unsigned at[] = { 2 };
	unsigned one = 1;

	conf_expect_reject_at(lines, NELEM(lines), &one, at, 1,
	    "bad log-format \"json\": want text or kv", 1);
}

Test(conf_global, rejects_a_bad_syslog_facility_quoting_it, .timeout = 10)
{
	static const char *const lines[] = {
		"[global]", "syslog-facility = local8",
		"syslog-facility = daemon",
		"[relay r]", "listen = 127.0.0.1:4500", "gateway = 192.0.2.1",
	};
	static const unsigned at[] = { 2, 3 };
	unsigned two = 2;

	/* The bad value, then a second line of the key: both said. */
	conf_expect_reject_at(lines, NELEM(lines), &two, at, 2,
	    "bad syslog-facility \"local8\": want daemon, local0 to local7",
	    2);
}

Test(conf_global, rejects_kern_which_a_process_cannot_use, .timeout = 10)
{
	static const char *const lines[] = {
		"[global]", "syslog-facility = kern",
	};
	static const unsigned at[] = { 2 };
	unsigned one = 1;

	conf_expect_reject_at(lines, NELEM(lines), &one, at, 1,
	    "bad syslog-facility \"kern\"", 1);
}

Test(conf_global, a_file_without_sections_is_idle, .timeout = 10)
{
	static const char *const empty[] = { "# nothing\n" };
	static const char *const global[] = { "[global]", "log-level = info" };
	static const char *const conn[] = {
		"[connector c]", "udp-listen = 127.0.0.1:500",
		"server = 192.0.2.1:443",
	};
	struct conf *c;

	c = parse_ok(empty, NELEM(empty));
	cr_assert(conf_is_idle(c));
	conf_unref(c);
	c = parse_ok(global, NELEM(global));
	cr_assert(conf_is_idle(c));
	conf_unref(c);
	c = parse_ok(conn, NELEM(conn));
	cr_assert_not(conf_is_idle(c));
	conf_unref(c);
}
