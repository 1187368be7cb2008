/*
 * conf/connector.c: the [connector NAME] section.  One test per rejection
 * rule, each checking the "file:line:" it names, read back from stderr.
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf/conf.h"
#include "test/unit/conf/helpers.h"

TestSuite(connector);


static struct conf *
parse(const char *const *lines, size_t n, struct capture *cap)
{
	return conf_test_parse(lines, n, NULL, cap);
}

/* Exactly one error, at @line, containing @what. */
static void
expect_reject(const char *const *lines, size_t n, unsigned line,
    const char *what)
{
	conf_expect_reject_at(lines, n, NULL, &line, 1, what, 1);
}

static uint16_t
port_of(const struct conf_addr *a)
{
	return ntohs(((const struct sockaddr_in *)(const void *)&a->ss)
	    ->sin_port);
}

Test(connector, parses_a_full_section_with_defaults, .timeout = 10)
{
	static const char *const lines[] = {
		"[connector c1]",
		"udp-listen = 203.0.113.1:500",
		"udp-listen = 203.0.113.1:4500",
		"server = 198.51.100.2:4500",
	};
	struct capture cap;
	struct conf *c = parse(lines, NELEM(lines), &cap);
	const struct conf_connector *cc;

	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nconnectors, 1);
	cr_assert_eq(c->nrelays, 0);
	cc = &c->connectors[0];
	cr_assert_str_eq(cc->name, "c1");
	cr_assert_eq(cc->line, 1);
	cr_assert_eq(cc->nudp_listen, 2);
	cr_assert_eq(port_of(&cc->udp_listen[0]), 500);
	cr_assert_eq(port_of(&cc->udp_listen[1]), 4500);
	cr_assert_eq(port_of(&cc->server), 4500);
	cr_assert_eq(cc->prefix, CONF_PREFIX_IKETCP);
	cr_assert_eq(cc->transport, CONF_TRANSPORT_TCP);
	cr_assert_eq(cc->fallback_timeout_ms, CONF_DEF_FALLBACK_TIMEOUT_MS);
	cr_assert_eq(cc->reconnect_min_ms, CONF_DEF_RECONNECT_MIN_MS);
	cr_assert_eq(cc->reconnect_max_ms, CONF_DEF_RECONNECT_MAX_MS);
	cr_assert_eq(cc->udp_retry_min_ms, CONF_DEF_UDP_RETRY_MIN_MS);
	cr_assert_eq(cc->udp_retry_max_ms, CONF_DEF_UDP_RETRY_MAX_MS);
	cr_assert_eq(cc->max_sessions, CONF_DEF_MAX_SESSIONS);
	cr_assert_eq(cc->write_buffer, CONF_DEF_WRITE_BUFFER);
	cr_assert(cc->tls_verify);
	cr_assert(cc->bypass_rule);
	cr_assert_eq(cc->bypass_priority, CONF_DEF_BYPASS_PRIORITY);
	conf_unref(c);
}

Test(connector, parses_every_key, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay r]",
		"listen = 127.0.0.1:4500",
		"gateway = 192.0.2.2",
		"[connector c1]",
		"udp-listen = *:500",
		"server = [::1]:443",
		"prefix = ikev2",
		"transport = fallback",
		"udp-gateway = 192.0.2.2",
		"fallback-timeout = 700ms",
		"reconnect-min = 50ms",
		"reconnect-max = 5s",
		"udp-retry-min = 5s",
		"udp-retry-max = 1m",
		"handshake-timeout = 3s",
		"idle-timeout = 2m",
		"max-message = 1500",
		"write-buffer = 64k",
		"max-sessions = 7",
		"tls = yes",
		"tls-verify = no",
		"tls-ca = /etc/ssl/ca.pem",
		"tls-sni = vpn.example",
		"http-proxy = 127.0.0.1:3128",
		"http-proxy-auth = user:secret",
		"bypass-rule = no",
		"bypass-priority = 150",
	};
	struct capture cap;
	struct conf *c = parse(lines, NELEM(lines), &cap);
	const struct conf_connector *cc;

	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nrelays, 1);
	cr_assert_eq(c->nconnectors, 1);
	cc = &c->connectors[0];
	cr_assert_eq(cc->server.ss.ss_family, AF_INET6);
	cr_assert_eq(cc->prefix, CONF_PREFIX_IKEV2);
	cr_assert_eq(cc->transport, CONF_TRANSPORT_FALLBACK);
	cr_assert_eq(cc->udp_gateway.ss.ss_family, AF_INET);
	cr_assert_eq(cc->fallback_timeout_ms, 700);
	cr_assert_eq(cc->reconnect_min_ms, 50);
	cr_assert_eq(cc->reconnect_max_ms, 5000);
	cr_assert_eq(cc->udp_retry_min_ms, 5000);
	cr_assert_eq(cc->udp_retry_max_ms, 60000);
	cr_assert_eq(cc->handshake_timeout_ms, 3000);
	cr_assert_eq(cc->idle_timeout_ms, 120000);
	cr_assert_eq(cc->max_message, 1500);
	cr_assert_eq(cc->write_buffer, 65536);
	cr_assert_eq(cc->max_sessions, 7);
	cr_assert(cc->tls);
	cr_assert_not(cc->tls_verify);
	cr_assert_eq(cc->http_proxy.ss.ss_family, AF_INET);
	cr_assert_str_eq(cc->tls_ca, "/etc/ssl/ca.pem");
	cr_assert_str_eq(cc->tls_sni, "vpn.example");
	cr_assert_str_eq(cc->http_proxy_auth, "user:secret");
	cr_assert_not(cc->bypass_rule);
	cr_assert_eq(cc->bypass_priority, 150);
	conf_unref(c);
}

struct reject {
	const char	*line;		/* the line 3 of the section */
	const char	*what;
	unsigned	 at;		/* line reported */
};

/* Each case: a valid section with one more line (line 4). */
static const struct reject bad_values[] = {
	{ "udp-listen = 203.0.113.1", "bad udp-listen", 4 },
	{ "udp-listen = example.org:500", "bad udp-listen", 4 },
	{ "prefix = IKETCP", "bad prefix", 4 },
	{ "transport = udp", "bad transport", 4 },
	{ "udp-gateway = 192.0.2.2:500", "bad udp-gateway", 4 },
	{ "udp-gateway = [::1]:500", "bad udp-gateway", 4 },
	{ "udp-gateway = 0.0.0.0", "bad udp-gateway", 4 },
	{ "fallback-timeout = 0", "bad fallback-timeout", 4 },
	{ "fallback-timeout = 2 s", "bad fallback-timeout", 4 },
	{ "reconnect-min = 0ms", "bad reconnect-min", 4 },
	{ "reconnect-max = soon", "bad reconnect-max", 4 },
	{ "udp-retry-min = 500ms", "bad udp-retry-min", 4 },
	{ "udp-retry-max = never", "bad udp-retry-max", 4 },
	{ "handshake-timeout = 0", "bad handshake-timeout", 4 },
	{ "idle-timeout = 0", "bad idle-timeout", 4 },
	{ "max-message = 100", "bad max-message", 4 },
	{ "write-buffer = 0", "bad write-buffer", 4 },
	{ "write-buffer = 65m", "bad write-buffer", 4 },
	{ "max-sessions = 0", "bad max-sessions", 4 },
	{ "tls = maybe", "bad tls", 4 },
	{ "tls-verify = 2", "bad tls-verify", 4 },
	{ "tls-sni = a\tb", "bad tls-sni", 4 },
	{ "http-proxy = proxy", "bad http-proxy", 4 },
	{ "http-proxy-auth = nopassword", "bad http-proxy-auth", 4 },
	{ "bypass-rule = maybe", "bad bypass-rule", 4 },
	{ "bypass-priority = 0", "bad bypass-priority", 4 },
	{ "bypass-priority = 32766", "bad bypass-priority", 4 },
	{ "bypass-priority = -1", "bad bypass-priority", 4 },
	{ "colour = blue", "unknown key \"colour\" in [connector]", 4 },
	{ "server = 198.51.100.2:443", "duplicate key \"server\"", 4 },
	/* Checked at the end, reported at the section header. */
	{ "udp-gateway = 192.0.2.2", "udp-gateway is used only", 1 },
	{ "transport = fallback", "fallback needs udp-gateway", 1 },
	{ "reconnect-min = 1m", "reconnect-min 60000ms > reconnect-max", 1 },
	{ "udp-retry-min = 1h", "udp-retry-min 3600000ms > udp-retry-max", 1 },
	{ "write-buffer = 1k", "write-buffer 1024 < max-message + 2", 1 },
	{ "tls = yes", "tls-verify needs tls-sni when server is an address",
	    1 },
	{ "tls-sni = vpn.example", "used only with tls = yes", 1 },
	{ "tls-ca = /etc/ssl/ca.pem", "used only with tls = yes", 1 },
	{ "http-proxy-auth = u:p", "http-proxy-auth without http-proxy", 1 },
	{ "udp-listen = 203.0.113.1:4500", "udp-listen 203.0.113.1:4500 "
	    "already used in [connector c]", 1 },
};

Test(connector, rejects_each_bad_value_at_its_line, .timeout = 20)
{
	for (size_t i = 0; i < NELEM(bad_values); i++) {
		const char *lines[] = {
			"[connector c]",
			"udp-listen = 203.0.113.1:4500",
			"server = 198.51.100.2:4500",
			bad_values[i].line,
		};

		cr_log_info("case %zu: %s", i, bad_values[i].line);
		expect_reject(lines, NELEM(lines), bad_values[i].at,
		    bad_values[i].what);
	}
}

Test(connector, rejects_a_section_without_udp_listen, .timeout = 10)
{
	static const char *const lines[] = {
		"[connector c]",
		"server = 198.51.100.2:4500",
	};

	expect_reject(lines, NELEM(lines), 1, "missing udp-listen");
}

Test(connector, rejects_a_server_without_a_port, .timeout = 10)
{
	static const char *const lines[] = {
		"[connector c]",
		"udp-listen = 203.0.113.1:4500",
		"server = 198.51.100.2",
	};
	struct capture cap;

	cr_assert_null(parse(lines, NELEM(lines), &cap));
	cr_assert_not_null(strstr(cap.text, "t.conf:3: bad server"), "%s",
	    cap.text);
}

Test(connector, rejects_a_section_without_server, .timeout = 10)
{
	static const char *const lines[] = {
		"[connector c]",
		"udp-listen = 203.0.113.1:4500",
	};

	expect_reject(lines, NELEM(lines), 1, "missing server");
}

Test(connector, rejects_a_duplicate_name, .timeout = 10)
{
	static const char *const lines[] = {
		"[connector c]",
		"udp-listen = 203.0.113.1:500",
		"server = 198.51.100.2:4500",
		"[connector c]",
		"udp-listen = 203.0.113.1:4500",
		"server = 198.51.100.2:4500",
	};

	expect_reject(lines, NELEM(lines), 4, "duplicate connector name");
}

Test(connector, rejects_a_udp_listen_used_by_another_connector,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[connector a]",
		"udp-listen = 203.0.113.1:500",
		"server = 198.51.100.2:4500",
		"[connector b]",
		"udp-listen = 203.0.113.1:500",
		"server = 198.51.100.2:4500",
	};

	expect_reject(lines, NELEM(lines), 4, "already used in [connector a]");
}

Test(connector, rejects_bad_names, .timeout = 10)
{
	static const char *const two[] = { "[connector a b]" };
	static const char *const chars[] = { "[connector a/b]" };
	static const char *const none[] = { "[connector]" };

	expect_reject(two, 1, 1, "want one word");
	expect_reject(chars, 1, 1, "bad connector name");
	expect_reject(none, 1, 1, "want 1 to");
}

Test(connector, rejects_too_many_udp_listen_lines, .timeout = 10)
{
	const char *lines[3 + CONF_LISTEN_MAX + 1];
	char addr[CONF_LISTEN_MAX + 1][64];
	size_t n = 0;

	lines[n++] = "[connector c]";
	lines[n++] = "server = 198.51.100.2:4500";
	for (int i = 0; i <= CONF_LISTEN_MAX; i++) {
		snprintf(addr[i], sizeof(addr[i]), "udp-listen = 10.0.0.%d:500",
		    i + 1);
		lines[n++] = addr[i];
	}
	expect_reject(lines, n, 3 + CONF_LISTEN_MAX,
	    "more than 16 udp-listen lines");
}
