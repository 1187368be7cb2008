/*
 * conf/radius.c: the radius-* keys of an [integrated] section.  One test
 * per rejection rule, each checking the "file:line:" it names.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "conf/conf.h"
#include "test/unit/conf/helpers.h"

TestSuite(conf_radius);

/* A valid section (5 lines) and @extra after it. */
static struct conf *
parse_with(const char *const *extra, size_t n, struct capture *cap)
{
	const char *lines[16] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = /etc/iketcpd.secrets",
		"pool = 10.10.0.0/24",
	};

	cr_assert_leq(n, NELEM(lines) - 5);
	for (size_t i = 0; i < n; i++)
		lines[5 + i] = extra[i];
	return conf_test_parse(lines, 5 + n, NULL, cap);
}

Test(conf_radius, defaults_without_servers, .timeout = 10)
{
	struct capture cap;
	struct conf *c = parse_with(NULL, 0, &cap);
	const struct conf_integrated *ci;

	cr_assert_not_null(c, "%s", cap.text);
	ci = c->relays[0].integ;
	cr_assert_eq(ci->nradius_server, 0);
	cr_assert_eq(ci->radius_timeout_ms, CONF_DEF_RADIUS_TIMEOUT_MS);
	cr_assert_eq(ci->radius_retries, CONF_DEF_RADIUS_RETRIES);
	cr_assert_str_eq(ci->radius_nas_id, "iketcpd");
	conf_unref(c);
}

Test(conf_radius, parses_servers_in_order_with_the_default_port,
    .timeout = 10)
{
	static const char *const extra[] = {
		"radius-server = 192.0.2.10",
		"radius-server = 192.0.2.11:1645",
		"radius-server = [2001:db8::1]",
		"radius-secret-file = /etc/iketcpd/radius.secret",
		"radius-timeout = 1500ms",
		"radius-retries = 0",
		"radius-nas-identifier = vpn-1.example",
	};
	struct capture cap;
	struct conf *c = parse_with(extra, NELEM(extra), &cap);
	const struct conf_integrated *ci;
	const struct sockaddr_in *a;
	const struct sockaddr_in6 *b;

	cr_assert_not_null(c, "%s", cap.text);
	ci = c->relays[0].integ;
	cr_assert_eq(ci->nradius_server, 3);
	a = (const void *)&ci->radius_server[0].ss;
	cr_assert_eq(ntohs(a->sin_port), 1812);
	a = (const void *)&ci->radius_server[1].ss;
	cr_assert_eq(ntohs(a->sin_port), 1645);
	b = (const void *)&ci->radius_server[2].ss;
	cr_assert_eq(b->sin6_family, AF_INET6);
	cr_assert_eq(ntohs(b->sin6_port), 1812);
	cr_assert_str_eq(ci->radius_secret_file, "/etc/iketcpd/radius.secret");
	cr_assert_eq(ci->radius_timeout_ms, 1500);
	cr_assert_eq(ci->radius_retries, 0);
	cr_assert_str_eq(ci->radius_nas_id, "vpn-1.example");
	conf_unref(c);
}

struct reject {
	const char	*line;		/* line 6 */
	const char	*what;
	unsigned	 at;		/* line reported */
};

static const struct reject bad[] = {
	{ "radius-server = 192.0.2.10:0", "bad radius-server", 6 },
	{ "radius-server = 0.0.0.0", "bad radius-server", 6 },
	{ "radius-server = *:1812", "bad radius-server", 6 },
	{ "radius-server = 2001:db8::1", "bad radius-server", 6 },
	{ "radius-secret-file = a\x01", "bad radius-secret-file", 6 },
	{ "radius-timeout = 0", "bad radius-timeout", 6 },
	{ "radius-timeout = soon", "bad radius-timeout", 6 },
	{ "radius-retries = 11", "bad radius-retries", 6 },
	{ "radius-retries = -1", "bad radius-retries", 6 },
	{ "radius-nas-identifier = a b", "bad radius-nas-identifier", 6 },
	/* Checked at the end, reported at the section header. */
	{ "radius-server = 192.0.2.10", "radius-server needs "
	    "radius-secret-file", 1 },
	{ "radius-secret-file = /x", "radius-secret-file without a "
	    "radius-server", 1 },
};

Test(conf_radius, rejects_each_bad_value_at_its_line, .timeout = 20)
{
	for (size_t i = 0; i < NELEM(bad); i++) {
		const char *lines[] = {
			"[integrated vpn]",
			"listen = 127.0.0.1:4500",
			"id = vpn.example",
			"secrets = /etc/iketcpd.secrets",
			"pool = 10.10.0.0/24",
			bad[i].line,
		};
		unsigned at = bad[i].at;

		cr_log_info("case %zu: %s", i, bad[i].line);
		conf_expect_reject_at(lines, NELEM(lines), NULL, &at, 1,
		    bad[i].what, 1);
	}
}

Test(conf_radius, rejects_a_fifth_server_and_a_repeated_one, .timeout = 10)
{
	static const char *const five[] = {
		"radius-secret-file = /x",
		"radius-server = 192.0.2.1", "radius-server = 192.0.2.2",
		"radius-server = 192.0.2.3", "radius-server = 192.0.2.4",
		"radius-server = 192.0.2.5",
	};
	static const char *const twice[] = {
		"radius-secret-file = /x",
		"radius-server = 192.0.2.1",
		"radius-server = 192.0.2.1:1812",
	};
	struct capture cap;

	cr_assert_null(parse_with(five, NELEM(five), &cap));
	cr_assert(strstr(cap.text, "t.conf:11: radius-server \"192.0.2.5\": "
	    "more than 4") != NULL, "%s", cap.text);
	cr_assert_null(parse_with(twice, NELEM(twice), &cap));
	cr_assert(strstr(cap.text, "t.conf:8: radius-server "
	    "\"192.0.2.1:1812\": listed twice") != NULL, "%s", cap.text);
}

Test(conf_radius, a_reload_may_not_change_the_servers, .timeout = 10)
{
	struct conf_integrated a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_null(conf_integrated_fixed_diff(&a, &b));
	b.radius_retries = 1;
	cr_assert_str_eq(conf_integrated_fixed_diff(&a, &b),
	    "radius-retries");
}
