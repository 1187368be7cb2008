/*
 * conf/control.c: [global] control-socket and metrics-listen, their
 * defaults and one test per rejection rule, each naming "t.conf:2:".
 */
#include <netinet/in.h>

#include <string.h>

#include <criterion/criterion.h>

#include "conf/conf.h"
#include "test/unit/conf/helpers.h"

TestSuite(conf_control);

static struct conf *
global(const char *line, unsigned *errors, struct capture *cap)
{
	const char *lines[] = { "[global]", line };

	return conf_test_parse(lines, line != NULL ? 2 : 1, errors, cap);
}

Test(conf_control, defaults_to_the_run_directory_and_no_metrics,
    .timeout = 10)
{
	struct capture cap;
	struct conf *c = global(NULL, NULL, &cap);

	cr_assert_not_null(c);
	cr_assert_str_eq(c->control_socket, CONF_DEF_CONTROL_SOCKET);
	cr_assert(!c->control_socket_set);
	cr_assert_eq(c->metrics_listen.len, 0);
	conf_unref(c);
}

Test(conf_control, takes_an_absolute_path, .timeout = 10)
{
	struct capture cap;
	struct conf *c = global("control-socket = /tmp/x/ctl.sock", NULL,
	    &cap);

	cr_assert_not_null(c);
	cr_assert_str_eq(c->control_socket, "/tmp/x/ctl.sock");
	cr_assert(c->control_socket_set);
	conf_unref(c);
}

Test(conf_control, none_turns_the_socket_off, .timeout = 10)
{
	struct capture cap;
	struct conf *c = global("control-socket = none", NULL, &cap);

	cr_assert_not_null(c);
	cr_assert_str_eq(c->control_socket, "");
	cr_assert(c->control_socket_set);
	conf_unref(c);
}

Test(conf_control, takes_a_numeric_metrics_address, .timeout = 10)
{
	struct capture cap;
	struct conf *c = global("metrics-listen = 127.0.0.1:9108", NULL,
	    &cap);
	const struct sockaddr_in *sin;

	cr_assert_not_null(c);
	cr_assert_neq(c->metrics_listen.len, 0);
	sin = (const void *)&c->metrics_listen.ss;
	cr_assert_eq(sin->sin_family, AF_INET);
	cr_assert_eq(ntohs(sin->sin_port), 9108);
	conf_unref(c);
}

Test(conf_control, rejects_bad_values_quoting_them, .timeout = 10)
{
	static const struct {
		const char	*line;
		const char	*want;
	} cases[] = {
		/* 1: not absolute */
		{ "control-socket = run/ctl.sock",
		  "t.conf:2: bad control-socket \"run/ctl.sock\"" },
		/* 2: longer than sun_path */
		{ "control-socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaa", "t.conf:2: bad control-socket \"/aaaa" },
		/* 3: empty */
		{ "control-socket = ", "t.conf:2: bad control-socket \"\"" },
		/* 4: no port */
		{ "metrics-listen = 127.0.0.1",
		  "t.conf:2: bad metrics-listen \"127.0.0.1\"" },
		/* 5: a name, not an address */
		{ "metrics-listen = localhost:9108",
		  "t.conf:2: bad metrics-listen \"localhost:9108\"" },
		/* 6: port 0 */
		{ "metrics-listen = 127.0.0.1:0",
		  "t.conf:2: bad metrics-listen \"127.0.0.1:0\"" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct capture cap;
		unsigned errors = 0;
		struct conf *c = global(cases[i].line, &errors, &cap);

		cr_expect_null(c, "case %zu accepted", i + 1);
		cr_expect_eq(errors, 1, "case %zu: %u errors", i + 1, errors);
		cr_expect_not_null(strstr(cap.text, cases[i].want),
		    "case %zu: want \"%s\" in \"%s\"", i + 1, cases[i].want,
		    cap.text);
		conf_unref(c);
	}
}
