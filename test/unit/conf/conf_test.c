/*
 * conf/conf.c: the line parser, the value parsers, conf_finish() checks and
 * conf_load().  Errors are checked by count and by the "file:line:" they
 * name, read back from stderr through a pipe.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf/conf.h"
#include "test/unit/conf/helpers.h"

TestSuite(conf);


static struct conf *
parse(const char *const *lines, size_t n, unsigned *errors,
    struct capture *cap)
{
	return conf_test_parse(lines, n, errors, cap);
}

/*
 * Expect one error, reported at `line` and containing `what`, and no
 * struct.  `parse_errors` is how many conf_line() saw before conf_finish.
 */
static void
expect_reject_log(const char *const *lines, size_t n, unsigned parse_errors,
    unsigned line, const char *what, unsigned nlog)
{
	conf_expect_reject_at(lines, n, &parse_errors, &line, 1, what, nlog);
}

static void
expect_reject(const char *const *lines, size_t n, unsigned parse_errors,
    unsigned line, const char *what)
{
	expect_reject_log(lines, n, parse_errors, line, what, 1);
}

static void
expect_addr(const struct conf_addr *a, int family, const char *ip,
    uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];

	cr_assert_eq(a->ss.ss_family, family, "family of %s", a->text);
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;

		cr_assert_eq(a->len, sizeof(*sin));
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		cr_assert_eq(ntohs(sin->sin_port), port, "port of %s",
		    a->text);
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

		cr_assert_eq(a->len, sizeof(*sin6));
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		cr_assert_eq(ntohs(sin6->sin6_port), port, "port of %s",
		    a->text);
	}
	cr_assert_str_eq(buf, ip, "address of %s", a->text);
}

/* Every key, two relays, comments and quoting as an operator writes them. */
static const char *const full[] = {
	"# iketcpd test configuration\n",
	"; another comment style\n",
	"\n",
	"[global]\n",
	"log-level = debug\n",
	"user=_iketcp\n",
	"group = \"nogroup\"   # trailing comment\n",
	"\n",
	"  [ relay  edge-1 ]  ; spaces inside the brackets\n",
	"listen = 192.0.2.10:443\n",
	"listen = [2001:db8::10]:4500\n",
	"listen\t=\t*:8443\n",
	"gateway = 198.51.100.7:14500\n",
	"max-message = 1500\n",
	"write-buffer = 1m\n",
	"idle-timeout = 0\n",
	"linger = 2m\n",
	"handshake-timeout = 2500ms\n",
	"max-connections = 100\n",
	"max-per-source = 4\n",
	"[relay second_relay.b]\r\n",
	"listen = 127.0.0.1:4500\n",
	"gateway = [2001:db8::1]\n",
};

Test(conf, parses_every_key_of_a_full_file, .timeout = 10)
{
	struct capture cap;
	unsigned errors;
	struct conf *c;
	const struct conf_relay *r;

	c = parse(full, NELEM(full), &errors, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(errors, 0);
	cr_assert_str_eq(c->path, "t.conf");
	cr_assert_eq(c->log_level, LOG_LEVEL_DEBUG);
	cr_assert_str_eq(c->user, "_iketcp");
	cr_assert_str_eq(c->group, "nogroup");
	cr_assert_eq(c->refs, 1);
	cr_assert_eq(c->nrelays, 2);

	r = &c->relays[0];
	cr_assert_str_eq(r->name, "edge-1");
	cr_assert_eq(r->line, 9);
	cr_assert_eq(r->nlisten, 3);
	expect_addr(&r->listen[0], AF_INET, "192.0.2.10", 443);
	cr_assert_str_eq(r->listen[0].text, "192.0.2.10:443");
	expect_addr(&r->listen[1], AF_INET6, "2001:db8::10", 4500);
	cr_assert_str_eq(r->listen[1].text, "[2001:db8::10]:4500");
	expect_addr(&r->listen[2], AF_INET, "0.0.0.0", 8443);
	expect_addr(&r->gateway, AF_INET, "198.51.100.7", 14500);
	cr_assert_eq(r->max_message, 1500);
	cr_assert_eq(r->write_buffer, 1024 * 1024);
	cr_assert_eq(r->idle_timeout_ms, 0);
	cr_assert_eq(r->linger_ms, 120000);
	cr_assert_eq(r->handshake_timeout_ms, 2500);
	cr_assert_eq(r->max_connections, 100);
	cr_assert_eq(r->max_per_source, 4);

	r = &c->relays[1];
	cr_assert_str_eq(r->name, "second_relay.b");
	cr_assert_eq(r->line, 21);
	cr_assert_eq(r->nlisten, 1);
	expect_addr(&r->listen[0], AF_INET, "127.0.0.1", 4500);
	expect_addr(&r->gateway, AF_INET6, "2001:db8::1",
	    CONF_DEF_GATEWAY_PORT);
	conf_unref(c);
}

Test(conf, applies_defaults_when_keys_are_omitted, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay r]",
		"listen = [::]:4500",
		"gateway = 192.0.2.1",
	};
	struct capture cap;
	struct conf *c;
	const struct conf_relay *r;

	c = parse(lines, NELEM(lines), NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(c->log_level, LOG_LEVEL_INFO);
	cr_assert_str_eq(c->user, "");
	cr_assert_str_eq(c->group, "");
	cr_assert_eq(c->max_sessions, CONF_DEF_GLOBAL_MAX_SESSIONS);
	cr_assert_eq(c->fd_reserve, CONF_DEF_FD_RESERVE);
	cr_assert_eq(c->write_buffer_total, CONF_DEF_WRITE_BUFFER_TOTAL);
	cr_assert_eq(c->log_rate, CONF_DEF_LOG_RATE);
	cr_assert_eq(c->nrelays, 1);
	r = &c->relays[0];
	expect_addr(&r->listen[0], AF_INET6, "::", 4500);
	expect_addr(&r->gateway, AF_INET, "192.0.2.1", 4500);
	cr_assert_str_eq(r->gateway.text, "192.0.2.1");
	/* One UDP/IPv4 datagram to the gateway, not the stream's 65533. */
	cr_assert_eq(r->max_message, CONF_UDP4_PAYLOAD_MAX);
	cr_assert_eq(r->max_sessions_per_source,
	    CONF_DEF_MAX_SESSIONS_PER_SOURCE);
	cr_assert_eq(r->write_buffer, CONF_DEF_WRITE_BUFFER);
	cr_assert_eq(r->idle_timeout_ms, CONF_DEF_IDLE_TIMEOUT_MS);
	cr_assert_eq(r->linger_ms, CONF_DEF_LINGER_MS);
	cr_assert_eq(r->handshake_timeout_ms, CONF_DEF_HANDSHAKE_TIMEOUT_MS);
	cr_assert_eq(r->max_connections, CONF_DEF_MAX_CONNECTIONS);
	cr_assert_eq(r->max_per_source, CONF_DEF_MAX_PER_SOURCE);
	conf_unref(c);
}

Test(conf, accepts_a_file_without_relays, .timeout = 10)
{
	static const char *const lines[] = { "# nothing", "[global]" };
	struct capture cap;
	struct conf *c;

	c = parse(lines, NELEM(lines), NULL, &cap);
	cr_assert_not_null(c);
	cr_assert_eq(c->nrelays, 0);
	conf_unref(c);
}

Test(conf, keeps_sections_in_file_order, .timeout = 10)
{
	char lines[40][64];
	const char *ptrs[40];
	struct capture cap;
	struct conf *c;

	/* Ten relays: the array grows past its first allocation. */
	for (int i = 0; i < 10; i++) {
		snprintf(lines[4 * i], 64, "[relay r%d]", 9 - i);
		snprintf(lines[4 * i + 1], 64, "listen = 127.0.0.1:%d",
		    5000 + i);
		snprintf(lines[4 * i + 2], 64, "gateway = 192.0.2.1");
		lines[4 * i + 3][0] = '\0';
	}
	for (int i = 0; i < 40; i++)
		ptrs[i] = lines[i];
	c = parse(ptrs, 40, NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(c->nrelays, 10);
	for (int i = 0; i < 10; i++) {
		char want[16];

		snprintf(want, sizeof(want), "r%d", 9 - i);
		cr_assert_str_eq(c->relays[i].name, want);
		cr_assert_eq(c->relays[i].line, (unsigned)(4 * i + 1));
	}
	conf_unref(c);
}

Test(conf, resolves_a_gateway_name, .timeout = 30)
{
	static const char *const lines[] = {
		"[relay r]",
		"listen = 127.0.0.1:4500",
		"gateway = localhost:1234",
	};
	struct capture cap;
	struct conf *c;
	const struct conf_addr *g;

	c = parse(lines, NELEM(lines), NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	g = &c->relays[0].gateway;
	if (g->ss.ss_family == AF_INET)
		expect_addr(g, AF_INET, "127.0.0.1", 1234);
	else
		expect_addr(g, AF_INET6, "::1", 1234);
	cr_assert_str_eq(g->text, "localhost:1234");
	conf_unref(c);
}

Test(conf, counts_references, .timeout = 10)
{
	static const char *const lines[] = { "[global]" };
	struct capture cap;
	struct conf *c;

	c = parse(lines, NELEM(lines), NULL, &cap);
	cr_assert_not_null(c);
	cr_assert_eq(conf_ref(c), c);
	cr_assert_eq(c->refs, 2);
	conf_unref(c);
	cr_assert_eq(c->refs, 1);
	conf_unref(c);		/* freed: ASan reports a leak otherwise */
	conf_unref(NULL);
}

Test(conf, abort_releases_a_parser, .timeout = 10)
{
	struct conf_parser p;

	cr_assert_eq(conf_init(&p, "t.conf"), 0);
	cr_assert_eq(conf_line(&p, "[relay a]"), 0);
	cr_assert_eq(conf_line(&p, "listen = 127.0.0.1:1"), 0);
	conf_abort(&p);
	cr_assert_null(p.conf);
}

/* One test per rejection rule; each names the line it expects. */

Test(conf, rejects_an_unknown_section, .timeout = 10)
{
	static const char *const lines[] = {
		"[server]",
		"listen = 127.0.0.1:1",	/* ignored: no cascade */
	};

	expect_reject(lines, NELEM(lines), 1, 1, "unknown section");
}

Test(conf, rejects_an_unknown_key_naming_its_section_kind, .timeout = 10)
{
	static const char *const g[] = { "[global]", "listen = 1.2.3.4:5" };
	static const char *const r[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"log-level = info",
	};

	expect_reject(g, NELEM(g), 1, 2, "unknown key \"listen\" in [global]");
	expect_reject(r, NELEM(r), 1, 4,
	    "unknown key \"log-level\" in [relay]");
}

Test(conf, rejects_a_key_outside_a_section, .timeout = 10)
{
	static const char *const lines[] = { "# top", "user = nobody" };

	expect_reject(lines, NELEM(lines), 1, 2, "outside a section");
}

Test(conf, rejects_a_duplicate_key_in_a_section, .timeout = 10)
{
	static const char *const g[] = {
		"[global]", "user = a", "user = b",
	};
	static const char *const r[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"linger = 1s", "linger = 2s",
	};

	expect_reject(g, NELEM(g), 1, 3, "duplicate key \"user\"");
	expect_reject(r, NELEM(r), 1, 5, "duplicate key \"linger\"");
}

Test(conf, allows_the_same_key_in_another_section, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"[relay b]", "listen = 127.0.0.1:2", "gateway = 192.0.2.1",
	};
	struct capture cap;
	struct conf *c;

	c = parse(lines, NELEM(lines), NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	conf_unref(c);
}

Test(conf, rejects_a_duplicate_relay_name, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"[relay a]", "listen = 127.0.0.1:2", "gateway = 192.0.2.1",
	};

	expect_reject(lines, NELEM(lines), 1, 4,
	    "duplicate relay name \"a\", first at line 1");
}

Test(conf, rejects_a_second_global_section, .timeout = 10)
{
	static const char *const lines[] = {
		"[global]", "user = a", "[global]", "user = b",
	};

	expect_reject(lines, NELEM(lines), 1, 3, "second [global]");
}

Test(conf, rejects_a_bad_relay_name, .timeout = 10)
{
	static const char *const cases[][2] = {
		{ "[relay a/b]", "bad relay name \"a/b\"" },
		{ "[relay]", "bad relay name \"\"" },
		{ "[relay a b]", "bad relay name \"a b\"" },
		{ "[relay "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]",
		  "want 1 to 63 characters" },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		expect_reject(&cases[i][0], 1, 1, 1, cases[i][1]);
}

Test(conf, rejects_text_after_a_section_header, .timeout = 10)
{
	static const char *const lines[] = { "[global] x" };

	expect_reject(lines, NELEM(lines), 1, 1, "text after section header");
}

Test(conf, rejects_a_bad_value_quoting_it, .timeout = 10)
{
	/*
	 * Global keys go after "[global]" (error on line 2); relay keys after
	 * "[relay a]" and a good listen and gateway (line 4).  A bad gateway
	 * leaves the relay without one: a second log line at finish.
	 */
	static const struct {
		bool		 global;	/* section kind */
		const char	*line;		/* the bad line */
		const char	*want;		/* the error quotes the text */
	} cases[] = {
		{ true, "log-level = loud", "bad log-level \"loud\"" },
		{ true, "user = \"a b\"", "bad user \"a b\"" },
		{ true, "group = "
		  "gggggggggggggggggggggggggggggggg"
		  "gggggggggggggggggggggggggggggggg",
		  "bad group \"gggg" },
		{ false, "listen = localhost:1", "bad listen \"localhost:1\"" },
		{ false, "listen = 127.0.0.1", "bad listen \"127.0.0.1\"" },
		{ false, "listen = 127.0.0.1:0", "bad listen \"127.0.0.1:0\"" },
		{ false, "gateway = 0.0.0.0", "bad gateway \"0.0.0.0\"" },
		{ false, "gateway = *:4500", "bad gateway \"*:4500\"" },
		{ false, "max-message = 575", "bad max-message \"575\"" },
		{ false, "max-message = 65534", "bad max-message \"65534\"" },
		{ false, "write-buffer = 65m", "bad write-buffer \"65m\"" },
		{ false, "write-buffer = 0", "bad write-buffer \"0\"" },
		{ false, "idle-timeout = 5d", "bad idle-timeout \"5d\"" },
		{ false, "linger = -1", "bad linger \"-1\"" },
		{ false, "handshake-timeout = 0",
		  "bad handshake-timeout \"0\"" },
		{ false, "handshake-timeout = 0ms",
		  "bad handshake-timeout \"0ms\"" },
		{ false, "max-connections = 0", "bad max-connections \"0\"" },
		{ false, "max-per-source = 1x", "bad max-per-source \"1x\"" },
		{ false, "max-per-source = ", "bad max-per-source \"\"" },
		{ true, "max-sessions = 0", "bad max-sessions \"0\"" },
		{ true, "max-sessions = 4294967296",
		  "bad max-sessions \"4294967296\"" },
		{ true, "fd-reserve = 65537", "bad fd-reserve \"65537\"" },
		{ true, "fd-reserve = -1", "bad fd-reserve \"-1\"" },
		{ true, "write-buffer-total = 0",
		  "bad write-buffer-total \"0\"" },
		{ true, "write-buffer-total = 1g",
		  "bad write-buffer-total \"1g\"" },
		{ true, "log-rate = 1000001", "bad log-rate \"1000001\"" },
		{ true, "log-rate = fast", "bad log-rate \"fast\"" },
		{ false, "max-sessions-per-source = 0",
		  "bad max-sessions-per-source \"0\"" },
		{ false, "max-sessions-per-source = 2k",
		  "bad max-sessions-per-source \"2k\"" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *lines[4];
		unsigned nlog = 1;

		cr_log_info("case %zu: %s", i, cases[i].line);
		if (cases[i].global) {
			lines[0] = "[global]";
			lines[1] = cases[i].line;
			expect_reject_log(lines, 2, 1, 2, cases[i].want, 1);
			continue;
		}
		lines[0] = "[relay a]";
		lines[1] = "listen = 127.0.0.2:1";
		lines[2] = "gateway = 192.0.2.1";
		lines[3] = cases[i].line;
		if (strncmp(cases[i].line, "gateway", 7) == 0) {
			lines[2] = "# no good gateway";
			nlog = 2;
		}
		expect_reject_log(lines, 4, 1, 4, cases[i].want, nlog);
	}
}

Test(conf, rejects_more_listen_lines_than_the_limit, .timeout = 10)
{
	char text[CONF_LISTEN_MAX + 1][32];
	const char *lines[CONF_LISTEN_MAX + 3];

	lines[0] = "[relay a]";
	lines[1] = "gateway = 192.0.2.1";
	for (int i = 0; i <= CONF_LISTEN_MAX; i++) {
		snprintf(text[i], sizeof(text[i]), "listen = 127.0.0.1:%d",
		    i + 1);
		lines[i + 2] = text[i];
	}
	expect_reject(lines, NELEM(lines), 1, CONF_LISTEN_MAX + 3,
	    "more than 16 listen lines");
}

Test(conf, rejects_a_line_without_equals, .timeout = 10)
{
	static const char *const lines[] = { "[global]", "user nobody" };

	expect_reject(lines, NELEM(lines), 1, 2, "missing '='");
}

Test(conf, rejects_a_line_without_a_key, .timeout = 10)
{
	static const char *const lines[] = { "[global]", " = nobody" };

	expect_reject(lines, NELEM(lines), 1, 2, "missing key");
}

Test(conf, rejects_an_unterminated_quote, .timeout = 10)
{
	static const char *const lines[] = { "[global]", "user = \"nobody" };

	expect_reject(lines, NELEM(lines), 1, 2, "unterminated quote");
}

Test(conf, rejects_text_after_a_quoted_value, .timeout = 10)
{
	static const char *const lines[] = { "[global]", "user = \"a\"b" };

	expect_reject(lines, NELEM(lines), 1, 2, "text after quoted value");
}

Test(conf, rejects_an_unterminated_bracket, .timeout = 10)
{
	static const char *const lines[] = { "[relay a", "user = x" };

	expect_reject(lines, NELEM(lines), 1, 1, "unterminated '['");
}

Test(conf, rejects_a_line_longer_than_1023_characters, .timeout = 10)
{
	static char ok[1024 + 2], bad[1024 + 2];
	const char *lines[] = { "[global]", ok, bad };
	struct conf_parser p;

	/* 1023 characters and a newline pass the length check. */
	memset(ok, ' ', 1023);
	strcpy(ok + 1023, "\n");
	memset(bad, ' ', 1024);
	bad[1024] = '\0';
	expect_reject(lines, NELEM(lines), 1, 3, "line longer than 1023");

	cr_assert_eq(conf_init(&p, "t.conf"), 0);
	cr_assert_eq(conf_line(&p, ok), 0);
	cr_assert_eq(conf_line(&p, bad), -1);
	conf_abort(&p);
}

Test(conf, rejects_a_relay_without_listen, .timeout = 10)
{
	static const char *const lines[] = {
		"[global]", "[relay a]", "gateway = 192.0.2.1",
	};

	expect_reject(lines, NELEM(lines), 0, 2, "[relay a]: missing listen");
}

Test(conf, rejects_a_relay_without_gateway, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1",
	};

	expect_reject(lines, NELEM(lines), 0, 1, "[relay a]: missing gateway");
}

Test(conf, rejects_a_write_buffer_below_max_message_plus_two, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"max-message = 1500", "write-buffer = 1501",
	};
	static const char *const fits[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"max-message = 1500", "write-buffer = 1502",
	};
	struct capture cap;
	struct conf *c;

	expect_reject(lines, NELEM(lines), 0, 1,
	    "write-buffer 1501 < max-message + 2");
	c = parse(fits, NELEM(fits), NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	conf_unref(c);
}

Test(conf, parses_the_budget_keys, .timeout = 10)
{
	static const char *const lines[] = {
		"[global]",
		"max-sessions = 1000",
		"fd-reserve = 0",
		"write-buffer-total = 8m",
		"log-rate = 0",
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"max-sessions-per-source = 7",
		"[integrated i]", "listen = 127.0.0.1:2", "secrets = /x",
		"id = vpn.example", "pool = 10.0.0.0/24",
		"max-sessions-per-source = 9",
	};
	struct capture cap;
	struct conf *c;

	c = parse(lines, NELEM(lines), NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(c->max_sessions, 1000);
	cr_assert_eq(c->fd_reserve, 0);
	cr_assert_eq(c->write_buffer_total, 8 << 20);
	cr_assert_eq(c->log_rate, 0);
	cr_assert_eq(c->nrelays, 2);
	cr_assert_eq(c->relays[0].max_sessions_per_source, 7);
	cr_assert_eq(c->relays[1].max_sessions_per_source, 9);
	/* An integrated section sends no UDP datagram to a gateway. */
	cr_assert_eq(c->relays[1].max_message, CONF_DEF_MAX_MESSAGE);
	conf_unref(c);
}

Test(conf, rejects_a_write_buffer_total_below_a_write_buffer, .timeout = 10)
{
	static const char *const lines[] = {
		"[global]", "write-buffer-total = 512k",
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"write-buffer = 1m",
	};

	expect_reject(lines, NELEM(lines), 0, 2,
	    "write-buffer-total 524288 < write-buffer 1048576 of [relay a]");
}

/* One relay section: max-message (or none) before or after the gateway. */
static struct conf *
parse_relay_message(const char *max, const char *gw, bool gw_first,
    unsigned *errors, struct capture *cap)
{
	const char *lines[4] = { "[relay a]", "listen = 127.0.0.1:1" };
	size_t n = 2;

	if (gw_first)
		lines[n++] = gw;
	if (max != NULL)
		lines[n++] = max;
	if (!gw_first)
		lines[n++] = gw;
	return parse(lines, n, errors, cap);
}

Test(conf, rejects_a_max_message_above_one_udp4_datagram, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "max-message = 65508",
		"gateway = 192.0.2.1",
	};

	/* The gateway comes after max-message: checked at finish. */
	expect_reject(lines, NELEM(lines), 0, 3,
	    "[relay a]: max-message 65508 > 65507, the largest UDP payload "
	    "to an IPv4 gateway (192.0.2.1)");
}

Test(conf, rejects_a_max_message_above_one_udp6_datagram, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = [2001:db8::1]",
		"max-message = 65528",
	};

	expect_reject(lines, NELEM(lines), 0, 4,
	    "max-message 65528 > 65527, the largest UDP payload to an IPv6 "
	    "gateway");
}

Test(conf, accepts_a_max_message_of_one_full_udp_datagram, .timeout = 10)
{
	static const struct {
		const char	*max;		/* NULL: the default */
		const char	*gw;
		bool		 gw_first;
		size_t		 want;
	} cases[] = {
		{ "max-message = 65507", "gateway = 192.0.2.1", false, 65507 },
		{ "max-message = 65507", "gateway = 192.0.2.1", true, 65507 },
		{ "max-message = 65527", "gateway = [2001:db8::1]", false,
		  65527 },
		{ NULL, "gateway = 192.0.2.1", true, 65507 },
		{ NULL, "gateway = [2001:db8::1]", true, 65527 },
		{ "max-message = 1500", "gateway = [2001:db8::1]", true, 1500 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct capture cap;
		unsigned errors;
		struct conf *c;

		cr_log_info("case %zu", i);
		c = parse_relay_message(cases[i].max, cases[i].gw,
		    cases[i].gw_first, &errors, &cap);
		cr_assert_not_null(c, "case %zu rejected: %s", i, cap.text);
		cr_assert_eq(c->relays[0].max_message, cases[i].want,
		    "case %zu: max-message %zu", i, c->relays[0].max_message);
		conf_unref(c);
	}
}

Test(conf, rejects_a_listen_address_used_twice, .timeout = 10)
{
	static const char *const same_relay[] = {
		"[relay a]", "listen = 127.0.0.1:1", "listen = 127.0.0.1:1",
		"gateway = 192.0.2.1",
	};
	static const char *const two_relays[] = {
		"[relay a]", "listen = [::1]:7", "gateway = 192.0.2.1",
		"[relay b]", "listen = [0::1]:7", "gateway = 192.0.2.1",
	};

	expect_reject(same_relay, NELEM(same_relay), 0, 1,
	    "[relay a]: 127.0.0.1:1 listed twice");
	/* Sections may share an address, but each of these two has no way
	 * to be chosen: one error for each. */
	expect_reject_log(two_relays, NELEM(two_relays), 0, 1,
	    "[relay a]: shares [::1]:7 with another section but has no sni, "
	    "connect-allow or default = yes", 2);
	expect_reject_log(two_relays, NELEM(two_relays), 0, 4,
	    "[relay b]: shares [0::1]:7 with another section but has no sni, "
	    "connect-allow or default = yes", 2);
}

Test(conf, reports_every_error_before_failing, .timeout = 10)
{
	static const char *const lines[] = {
		"user = x",			/* 1: outside a section */
		"[global]",
		"log-level = 7",		/* 3: bad value */
		"bogus = 1",			/* 4: unknown key */
		"[relay a]",			/* missing gateway */
		"listen = 127.0.0.1:1",
		"max-connections",		/* 7: no '=' */
		"idle-timeout = 1s",
		"idle-timeout = 2s",		/* 9: duplicate */
	};
	static const unsigned want[] = { 1, 3, 4, 7, 9, 5 };
	struct capture cap;
	unsigned errors;
	const char *s;

	cr_assert_null(parse(lines, NELEM(lines), &errors, &cap));
	cr_assert_eq(errors, 5);
	cr_assert_eq(count_lines(cap.text), NELEM(want), "%s", cap.text);
	s = cap.text;
	for (size_t i = 0; i < NELEM(want); i++) {
		char where[32];

		snprintf(where, sizeof(where), "t.conf:%u: ", want[i]);
		s = strstr(s, where);
		cr_assert_not_null(s, "error %zu: want %s in order", i, where);
	}
}

/* Value parsers, table-driven. */

Test(conf, parses_sizes, .timeout = 10)
{
	static const struct {
		const char	*text;
		bool		 ok;
		size_t		 want;	/* bytes */
	} cases[] = {
		{ "0",		true,	0 },
		{ "576",	true,	576 },
		{ "4k",		true,	4096 },
		{ "4K",		true,	4096 },
		{ "64m",	true,	64 * 1024 * 1024 },
		{ "2M",		true,	2 * 1024 * 1024 },
		{ "007",	true,	7 },
		{ "18446744073709551615", true, SIZE_MAX },
		{ "18446744073709551616", false, 0 },	/* overflow */
		{ "18014398509481984k", false, 0 },	/* overflow by suffix */
		{ "",		false,	0 },
		{ "k",		false,	0 },
		{ "-1",		false,	0 },
		{ "+1",		false,	0 },
		{ " 1",		false,	0 },
		{ "1 ",		false,	0 },
		{ "1kb",	false,	0 },
		{ "1g",		false,	0 },
		{ "0x10",	false,	0 },
		{ "1.5k",	false,	0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t v = 12345;
		bool ok = conf_parse_size(cases[i].text, &v);

		cr_assert_eq(ok, cases[i].ok, "case %zu \"%s\"", i,
		    cases[i].text);
		if (ok)
			cr_assert_eq(v, cases[i].want, "case %zu \"%s\": %zu",
			    i, cases[i].text, v);
		else
			cr_assert_eq(v, 12345, "case %zu wrote on failure", i);
	}
}

Test(conf, parses_durations, .timeout = 10)
{
	static const struct {
		const char	*text;
		bool		 ok;
		unsigned	 want;	/* milliseconds */
	} cases[] = {
		{ "0",		true,	0 },
		{ "10",		true,	10000 },
		{ "10s",	true,	10000 },
		{ "250ms",	true,	250 },
		{ "2m",		true,	120000 },
		{ "1h",		true,	3600000 },
		{ "4294967295ms", true,	UINT_MAX },
		{ "4294967s",	true,	4294967000u },
		{ "4294968s",	false,	0 },	/* over UINT_MAX ms */
		{ "4294967296ms", false, 0 },
		{ "1193h",	true,	1193u * 3600000 },
		{ "1194h",	false,	0 },	/* 49.75 days */
		{ "1194",	true,	1194000 },
		{ "1194m",	true,	1194u * 60000 },
		{ "1194000h",	false,	0 },
		{ "",		false,	0 },
		{ "s",		false,	0 },
		{ "1S",		false,	0 },
		{ "1d",		false,	0 },
		{ "1 s",	false,	0 },
		{ "1sec",	false,	0 },
		{ "-5",		false,	0 },
		{ "1.5s",	false,	0 },
		{ "99999999999999999999", false, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		unsigned v = 12345;
		bool ok = conf_parse_duration_ms(cases[i].text, &v);

		cr_assert_eq(ok, cases[i].ok, "case %zu \"%s\"", i,
		    cases[i].text);
		if (ok)
			cr_assert_eq(v, cases[i].want, "case %zu \"%s\": %u",
			    i, cases[i].text, v);
		else
			cr_assert_eq(v, 12345, "case %zu wrote on failure", i);
	}
}

Test(conf, parses_unsigned_integers, .timeout = 10)
{
	static const struct {
		const char	*text;
		bool		 ok;
		unsigned	 want;
	} cases[] = {
		{ "0",		true,	0 },
		{ "1",		true,	1 },
		{ "8192",	true,	8192 },
		{ "4294967295",	true,	UINT_MAX },
		{ "4294967296",	false,	0 },	/* overflow */
		{ "42949672950", false,	0 },
		{ "",		false,	0 },
		{ "-1",		false,	0 },
		{ "+1",		false,	0 },
		{ " 1",		false,	0 },
		{ "1 ",		false,	0 },
		{ "12a",	false,	0 },
		{ "0x1",	false,	0 },
		{ "1k",		false,	0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		unsigned v = 12345;
		bool ok = conf_parse_uint(cases[i].text, &v);

		cr_assert_eq(ok, cases[i].ok, "case %zu \"%s\"", i,
		    cases[i].text);
		if (ok)
			cr_assert_eq(v, cases[i].want, "case %zu \"%s\": %u",
			    i, cases[i].text, v);
		else
			cr_assert_eq(v, 12345, "case %zu wrote on failure", i);
	}
}

Test(conf, parses_booleans, .timeout = 10)
{
	static const struct {
		const char	*text;
		bool		 ok;
		bool		 want;
	} cases[] = {
		{ "yes",	true,	true },
		{ "true",	true,	true },
		{ "on",		true,	true },
		{ "1",		true,	true },
		{ "no",		true,	false },
		{ "false",	true,	false },
		{ "off",	true,	false },
		{ "0",		true,	false },
		{ "",		false,	false },
		{ "YES",	false,	false },
		{ "y",		false,	false },
		{ "2",		false,	false },
		{ "yes ",	false,	false },
		{ "onn",	false,	false },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		bool v = !cases[i].want;
		bool ok = conf_parse_bool(cases[i].text, &v);

		cr_assert_eq(ok, cases[i].ok, "case %zu \"%s\"", i,
		    cases[i].text);
		if (ok)
			cr_assert_eq(v, cases[i].want, "case %zu \"%s\"", i,
			    cases[i].text);
	}
}

Test(conf, parses_addresses, .timeout = 10)
{
	static const struct {
		const char	*text;
		uint16_t	 def_port;	/* 0: port required */
		bool		 passive;
		bool		 ok;
		int		 family;
		const char	*ip;		/* inet_ntop form */
		uint16_t	 port;
		const char	*as_text;	/* conf_addr.text */
	} cases[] = {
		{ "192.0.2.1:443", 0, true, true, AF_INET, "192.0.2.1", 443,
		  "192.0.2.1:443" },
		{ "*:4500", 0, true, true, AF_INET, "0.0.0.0", 4500,
		  "*:4500" },
		{ "[::]:4500", 0, true, true, AF_INET6, "::", 4500,
		  "[::]:4500" },
		{ "[2001:db8::1]:65535", 0, true, true, AF_INET6,
		  "2001:db8::1", 65535, "[2001:db8::1]:65535" },
		{ "192.0.2.1", 4500, false, true, AF_INET, "192.0.2.1", 4500,
		  "192.0.2.1" },
		{ "[2001:db8::1]", 4500, false, true, AF_INET6, "2001:db8::1",
		  4500, "[2001:db8::1]" },
		{ "192.0.2.1:1", 4500, false, true, AF_INET, "192.0.2.1", 1,
		  "192.0.2.1:1" },
		{ "192.0.2.1", 0, true, false, 0, NULL, 0, NULL },
		{ "192.0.2.1:", 0, true, false, 0, NULL, 0, NULL },
		{ "192.0.2.1:0", 0, true, false, 0, NULL, 0, NULL },
		{ "192.0.2.1:65536", 0, true, false, 0, NULL, 0, NULL },
		{ "192.0.2.1:-1", 0, true, false, 0, NULL, 0, NULL },
		{ "192.0.2.1:44x", 0, true, false, 0, NULL, 0, NULL },
		{ "192.0.2:4500", 0, true, false, 0, NULL, 0, NULL },
		{ "127.1:4500", 4500, false, false, 0, NULL, 0, NULL },
		{ "256.0.0.1:1", 0, true, false, 0, NULL, 0, NULL },
		{ "2001:db8::1:4500", 0, true, false, 0, NULL, 0, NULL },
		{ "2001:db8::1", 4500, false, false, 0, NULL, 0, NULL },
		{ "[192.0.2.1]:1", 0, true, false, 0, NULL, 0, NULL },
		{ "[::1:1", 0, true, false, 0, NULL, 0, NULL },
		{ "[::1]x", 4500, false, false, 0, NULL, 0, NULL },
		{ "[]:1", 0, true, false, 0, NULL, 0, NULL },
		{ ":1", 0, true, false, 0, NULL, 0, NULL },
		{ "", 4500, false, false, 0, NULL, 0, NULL },
		{ "localhost:1", 0, true, false, 0, NULL, 0, NULL },
		{ "*:1", 4500, false, false, 0, NULL, 0, NULL },
		{ "0.0.0.0", 4500, false, false, 0, NULL, 0, NULL },
		{ "[::]", 4500, false, false, 0, NULL, 0, NULL },
		{ "bad_name", 4500, false, false, 0, NULL, 0, NULL },
		{ "-x.example", 4500, false, false, 0, NULL, 0, NULL },
		{ "no-such-host.invalid", 4500, false, false, 0, NULL, 0,
		  NULL },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct conf_addr a;
		bool ok = conf_parse_addr(cases[i].text, cases[i].def_port,
		    cases[i].passive, &a);

		cr_assert_eq(ok, cases[i].ok, "case %zu \"%s\"", i,
		    cases[i].text);
		if (!ok)
			continue;
		expect_addr(&a, cases[i].family, cases[i].ip, cases[i].port);
		cr_assert_str_eq(a.text, cases[i].as_text, "case %zu", i);
	}
}

Test(conf, parses_a_long_address_only_up_to_its_buffer, .timeout = 10)
{
	char s[CONF_HOST_MAX + 8];
	struct conf_addr a;

	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	cr_assert_not(conf_parse_addr(s, 4500, false, &a));
}

Test(conf, keeps_dns_off_when_told_to, .timeout = 10)
{
	struct conf_addr a;

	cr_assert_eq(setenv("IKETCP_NO_DNS", "1", 1), 0);
	cr_assert_not(conf_parse_addr("localhost", 4500, false, &a));
	cr_assert(conf_parse_addr("192.0.2.1", 4500, false, &a));
	unsetenv("IKETCP_NO_DNS");
}

Test(conf, accepts_comments_quotes_and_blanks, .timeout = 10)
{
	static const char *const lines[] = {
		"\t# indented comment",
		"   ",
		"[global]   # comment after header",
		"user = a#b",			/* '#' not after a blank */
		"group = \"x;y\" ; the quoted ';' is part of the value",
		"log-level=warning;",		/* ';' not after a blank */
	};
	struct capture cap;
	unsigned errors;
	struct conf *c;

	c = parse(lines, NELEM(lines), &errors, &cap);
	cr_assert_null(c, "log-level \"warning;\" must be rejected");
	cr_assert_eq(errors, 1);
	cr_assert_not_null(strstr(cap.text, "t.conf:6: bad log-level "
	    "\"warning;\""), "%s", cap.text);

	c = parse(lines, NELEM(lines) - 1, &errors, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_str_eq(c->user, "a#b");
	cr_assert_str_eq(c->group, "x;y");
	conf_unref(c);
}

/* conf_load() */

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

Test(conf, loads_a_file, .timeout = 10)
{
	static const char text[] =
	    "[global]\n"
	    "log-level = err\n"
	    "[relay r]\r\n"
	    "listen = 127.0.0.1:4500\n"
	    "gateway = 192.0.2.1:4501";		/* no final newline */
	char path[] = "/tmp/conf_test.XXXXXX";
	struct conf *c;
	int fd;

	cr_assert_geq(fd = mkstemp(path), 0);
	close(fd);
	write_file(path, text, sizeof(text) - 1);
	c = conf_load(path);
	unlink(path);
	cr_assert_not_null(c);
	cr_assert_str_eq(c->path, path);
	cr_assert_eq(c->log_level, LOG_LEVEL_ERR);
	cr_assert_eq(c->nrelays, 1);
	cr_assert_eq(c->relays[0].line, 3);
	expect_addr(&c->relays[0].gateway, AF_INET, "192.0.2.1", 4501);
	conf_unref(c);
}

Test(conf, loads_the_sample_configuration, .timeout = 10)
{
	struct conf *c;

	/* The runner starts in the top of the tree, as `make unit` does. */
	c = conf_load("conf/iketcpd.conf");
	cr_assert_not_null(c, "conf/iketcpd.conf must load");
	cr_assert_eq(c->nrelays, 1);
	cr_assert_eq(c->relays[0].nlisten, 2);
	expect_addr(&c->relays[0].listen[0], AF_INET, "0.0.0.0", 4500);
	expect_addr(&c->relays[0].listen[1], AF_INET6, "::", 4500);
	expect_addr(&c->relays[0].gateway, AF_INET, "192.0.2.1", 4500);
	conf_unref(c);
}

static struct conf *
load_text(const void *text, size_t len, struct capture *cap, char *path,
    size_t pathlen)
{
	char tmpl[] = "/tmp/conf_test.XXXXXX";
	struct conf *c;
	int fd;

	cr_assert_geq(fd = mkstemp(tmpl), 0);
	close(fd);
	snprintf(path, pathlen, "%s", tmpl);
	write_file(path, text, len);
	capture_start(cap);
	c = conf_load(path);
	capture_end(cap);
	unlink(path);
	return c;
}

Test(conf, load_rejects_an_over_long_line_and_goes_on, .timeout = 10)
{
	static char text[8192];
	char path[64], want[96];
	struct capture cap;
	size_t n = 0;

	n += (size_t)sprintf(text + n, "[global]\n");
	memset(text + n, 'x', 5000);
	n += 5000;
	n += (size_t)sprintf(text + n, "\nuser = nobody\nbogus = 1\n");
	cr_assert_null(load_text(text, n, &cap, path, sizeof(path)));
	cr_assert_eq(count_lines(cap.text), 2, "%s", cap.text);
	snprintf(want, sizeof(want), "%s:2: line longer than 1023", path);
	cr_assert_not_null(strstr(cap.text, want), "%s", cap.text);
	snprintf(want, sizeof(want), "%s:4: unknown key", path);
	cr_assert_not_null(strstr(cap.text, want), "%s", cap.text);
}

Test(conf, load_rejects_an_embedded_nul, .timeout = 10)
{
	static const char text[] = "[global]\nuser = a\0b\nbogus = 1\n";
	char path[64], want[96];
	struct capture cap;

	cr_assert_null(load_text(text, sizeof(text) - 1, &cap, path,
	    sizeof(path)));
	cr_assert_eq(count_lines(cap.text), 2, "%s", cap.text);
	snprintf(want, sizeof(want), "%s:2: embedded NUL", path);
	cr_assert_not_null(strstr(cap.text, want), "%s", cap.text);
	snprintf(want, sizeof(want), "%s:3: unknown key", path);
	cr_assert_not_null(strstr(cap.text, want), "%s", cap.text);
}

Test(conf, load_accepts_a_line_of_exactly_1023_characters, .timeout = 10)
{
	static char text[2048];
	char path[64];
	struct capture cap;
	struct conf *c;
	size_t n = 0;

	n += (size_t)sprintf(text + n, "[global]\n");
	memset(text + n, '#', 1023);
	n += 1023;
	n += (size_t)sprintf(text + n, "\r\n");
	c = load_text(text, n, &cap, path, sizeof(path));
	cr_assert_not_null(c, "%s", cap.text);
	conf_unref(c);
}

Test(conf, load_reports_a_missing_file, .timeout = 10)
{
	struct capture cap;

	capture_start(&cap);
	cr_assert_null(conf_load("/nonexistent/iketcpd.conf"));
	capture_end(&cap);
	cr_assert_not_null(strstr(cap.text,
	    "/nonexistent/iketcpd.conf: No such file or directory"), "%s",
	    cap.text);
}

Test(conf, load_reports_a_directory, .timeout = 10)
{
	struct capture cap;

	capture_start(&cap);
	cr_assert_null(conf_load("/"));
	capture_end(&cap);
	cr_assert_not_null(strstr(cap.text, "Is a directory"), "%s",
	    cap.text);
}

/* gateway-ike-port (issue 15): IKE_SA_INIT bare to that port, the rest
 * behind the marker to the gateway's; marked IKE never to port 500. */
Test(conf, parses_gateway_ike_port, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"gateway-ike-port = 500",
		"[relay b]", "listen = 127.0.0.1:2",
		"gateway = 192.0.2.1:4500", "gateway-ike-port = 0",
	};
	struct capture cap;
	struct conf *c;

	c = parse(lines, NELEM(lines), NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(c->relays[0].gateway_ike_port, 500);
	cr_assert_eq(c->relays[0].gateway_ike_port_line, 4);
	expect_addr(&c->relays[0].gateway, AF_INET, "192.0.2.1", 4500);
	cr_assert_eq(c->relays[1].gateway_ike_port, 0);
	conf_unref(c);
}

Test(conf, rejects_a_gateway_on_port_500_alone, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1:500",
	};
	static const char *const off[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1:500",
		"gateway-ike-port = 0",
	};

	expect_reject(lines, NELEM(lines), 0, 3,
	    "[relay a]: gateway 192.0.2.1:500: port 500 takes IKE without "
	    "the Non-ESP marker");
	/* 0 is off: the same. */
	expect_reject(off, NELEM(off), 0, 3, "[relay a]: gateway "
	    "192.0.2.1:500: port 500");
}

Test(conf, rejects_a_gateway_ike_port_equal_to_the_gateway_port,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway-ike-port = 4500",
		"gateway = [2001:db8::1]",
	};

	expect_reject(lines, NELEM(lines), 0, 3,
	    "[relay a]: gateway-ike-port 4500 is the gateway's port "
	    "([2001:db8::1])");
}

/* Marked IKE would still go to 500: refused whatever gateway-ike-port
 * says, once (at the gateway's line). */
Test(conf, rejects_a_gateway_on_port_500_with_gateway_ike_port,
    .timeout = 10)
{
	static const char *const both500[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway-ike-port = 500",
		"gateway = 192.0.2.1:500",
	};
	static const char *const other[] = {
		"[relay a]", "listen = 127.0.0.1:1",
		"gateway = 192.0.2.1:500", "gateway-ike-port = 1500",
	};

	expect_reject(both500, NELEM(both500), 0, 4,
	    "[relay a]: gateway 192.0.2.1:500: port 500");
	expect_reject(other, NELEM(other), 0, 3,
	    "[relay a]: gateway 192.0.2.1:500: port 500");
}

Test(conf, rejects_a_bad_gateway_ike_port, .timeout = 10)
{
	static const char *const vals[] = { "65536", "-1", "abc", "", "5x" };

	for (size_t i = 0; i < NELEM(vals); i++) {
		char line[64];
		const char *lines[] = {
			"[relay a]", "listen = 127.0.0.1:1",
			"gateway = 192.0.2.1", line,
		};

		snprintf(line, sizeof(line), "gateway-ike-port = %s", vals[i]);
		expect_reject(lines, NELEM(lines), 1, 4,
		    "bad gateway-ike-port");
	}
}

Test(conf, rejects_gateway_ike_port_in_an_integrated_section, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated i]", "listen = 127.0.0.1:2", "secrets = /x",
		"id = vpn.example", "pool = 10.0.0.0/24",
		"gateway-ike-port = 500",
	};

	expect_reject(lines, NELEM(lines), 1, 6,
	    "gateway-ike-port in [integrated i]");
}

/* gateway-source (issue 13): local addresses for the UDP legs, no port. */
Test(conf, parses_gateway_sources, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"gateway-source = 192.0.2.11", "gateway-source = 192.0.2.12",
		"[relay b]", "listen = 127.0.0.1:2", "gateway = [2001:db8::1]",
		"gateway-source = [2001:db8::11]",
	};
	struct capture cap;
	struct conf *c;

	c = parse(lines, NELEM(lines), NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(c->relays[0].ngateway_source, 2);
	expect_addr(&c->relays[0].gateway_source[0], AF_INET, "192.0.2.11",
	    0);
	expect_addr(&c->relays[0].gateway_source[1], AF_INET, "192.0.2.12",
	    0);
	cr_assert_eq(c->relays[0].gateway_source_line[1], 5);
	cr_assert_eq(c->relays[1].ngateway_source, 1);
	expect_addr(&c->relays[1].gateway_source[0], AF_INET6,
	    "2001:db8::11", 0);
	conf_unref(c);
}

Test(conf, rejects_a_bad_gateway_source, .timeout = 10)
{
	static const char *const vals[] = {
		"192.0.2.11:4500", "[2001:db8::1]:1", "*", "", "host.example",
		"2001:db8::1", "[2001:db8::1",
	};

	for (size_t i = 0; i < NELEM(vals); i++) {
		char line[64];
		const char *lines[] = {
			"[relay a]", "listen = 127.0.0.1:1",
			"gateway = 192.0.2.1", line,
		};

		snprintf(line, sizeof(line), "gateway-source = %s", vals[i]);
		expect_reject(lines, NELEM(lines), 1, 4,
		    "bad gateway-source");
	}
}

Test(conf, rejects_gateway_sources_twice_or_of_another_family,
    .timeout = 10)
{
	static const char *const twice[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
		"gateway-source = 192.0.2.11", "gateway-source = 192.0.2.11",
	};
	static const char *const family[] = {
		"[relay a]", "listen = 127.0.0.1:1",
		"gateway-source = [2001:db8::11]", "gateway = 192.0.2.1",
	};
	static const char *const integ[] = {
		"[integrated i]", "listen = 127.0.0.1:2", "secrets = /x",
		"id = vpn.example", "pool = 10.0.0.0/24",
		"gateway-source = 192.0.2.11",
	};

	expect_reject(twice, NELEM(twice), 1, 5,
	    "gateway-source 192.0.2.11 listed twice");
	expect_reject(family, NELEM(family), 0, 3,
	    "[relay a]: gateway-source [2001:db8::11] is not of the "
	    "gateway's address family (192.0.2.1)");
	expect_reject(integ, NELEM(integ), 1, 6,
	    "gateway-source in [integrated i]");
}
