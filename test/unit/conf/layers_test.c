/*
 * conf/layers.c: the [relay] keys of the layers before the stream prefix
 * (TLS, HTTP CONNECT, PROXY protocol, SNI), their value parsers, and the
 * whole-file rules of conf_layers_check().  As in conf_test.c, errors are
 * checked by count, by the "file:line:" they name and by their text, read
 * back from stderr through a pipe.
 */
#include <sys/socket.h>

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

TestSuite(layers);


/* A good section the bad lines follow: an error on line 4. */
#define BASE	"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1"
#define TLS	"tls-cert = /etc/c.pem", "tls-key = /etc/k.pem"

static struct conf *
parse(const char *const *lines, size_t n, unsigned *errors,
    struct capture *cap)
{
	return conf_test_parse(lines, n, errors, cap);
}

static struct conf *
accept_lines(const char *const *lines, size_t n)
{
	struct capture cap;
	struct conf *c;

	c = parse(lines, n, NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	return c;
}

/*
 * Expect no struct and `nlog` log lines, each of the `nat` lines `at[]`
 * named as "t.conf:N: ", and `what` among them.  `parse_errors` is how
 * many conf_line() saw before conf_finish.
 */
static void
expect_reject_at(const char *const *lines, size_t n, unsigned parse_errors,
    const unsigned *at, size_t nat, const char *what, unsigned nlog)
{
	conf_expect_reject_at(lines, n, &parse_errors, at, nat, what, nlog);
}

static void
expect_reject(const char *const *lines, size_t n, unsigned parse_errors,
    unsigned line, const char *what)
{
	expect_reject_at(lines, n, parse_errors, &line, 1, what, 1);
}

/* One bad relay line after BASE (line 4), one error, no cascade. */
static void
expect_bad_line(const char *line, const char *what)
{
	const char *lines[] = { BASE, line };

	cr_log_info("case: %s", line);
	expect_reject(lines, NELEM(lines), 1, 4, what);
}

static void
expect_in_addr(const struct conf_addr *a, const char *ip, uint16_t port)
{
	const struct sockaddr_in *sin = (const void *)&a->ss;
	char buf[INET_ADDRSTRLEN];

	cr_assert_eq(a->ss.ss_family, AF_INET, "family of %s", a->text);
	inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
	cr_assert_str_eq(buf, ip, "address of %s", a->text);
	cr_assert_eq(ntohs(sin->sin_port), port, "port of %s", a->text);
}

/* Stored values */

Test(layers, parses_every_layer_key_of_a_section, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay edge]",				/* 1 */
		"tls-listen = 127.0.0.1:443",
		"tls-listen = [::1]:8443",
		"gateway = 192.0.2.1",
		"tls-cert = /etc/iketcp/cert.pem",	/* 5 */
		"tls-key = \"/etc/iketcp/key with blank.pem\"",
		"tls-chain = /etc/iketcp/chain.pem",
		"tls-min-version = 1.3",
		"tls-ciphers = ECDHE-RSA-AES128-GCM-SHA256:!aNULL",
		"tls-ciphersuites = TLS_AES_128_GCM_SHA256",	/* 10 */
		"tls-null = no",
		"http-connect = yes",
		"connect-allow = GW.Example.NET:443",
		"connect-allow = [2001:DB8::1]:4500",
		"connect-auth-file = /etc/iketcp/users",	/* 15 */
		"max-header-bytes = 16k",
		"sni = VPN.Example.COM.",
		"sni = *.example.net",
		"default = yes",
		"proxy-protocol = on",			/* 20 */
	};
	const struct conf_relay *r;
	struct conf *c;

	c = accept_lines(lines, NELEM(lines));
	cr_assert_eq(c->nrelays, 1);
	r = &c->relays[0];
	cr_assert_eq(r->nlisten, 0);
	cr_assert_eq(r->ntls_listen, 2);
	expect_in_addr(&r->tls_listen[0], "127.0.0.1", 443);
	cr_assert_str_eq(r->tls_listen[0].text, "127.0.0.1:443");
	cr_assert_eq(r->tls_listen[1].ss.ss_family, AF_INET6);
	cr_assert_str_eq(r->tls_listen[1].text, "[::1]:8443");
	cr_assert_str_eq(r->tls_cert, "/etc/iketcp/cert.pem");
	cr_assert_str_eq(r->tls_key, "/etc/iketcp/key with blank.pem");
	cr_assert_str_eq(r->tls_chain, "/etc/iketcp/chain.pem");
	cr_assert_eq(r->tls_line, 5);
	cr_assert_eq(r->tls_min_version, CONF_TLS_1_3);
	cr_assert_str_eq(r->tls_ciphers,
	    "ECDHE-RSA-AES128-GCM-SHA256:!aNULL");
	cr_assert_str_eq(r->tls_ciphersuites, "TLS_AES_128_GCM_SHA256");
	cr_assert_not(r->tls_null);
	cr_assert(r->http_connect);
	cr_assert_eq(r->nconnect_allow, 2);
	cr_assert_str_eq(r->connect_allow[0].host, "gw.example.net");
	cr_assert_eq(r->connect_allow[0].port, 443);
	cr_assert_str_eq(r->connect_allow[1].host, "2001:db8::1");
	cr_assert_eq(r->connect_allow[1].port, 4500);
	cr_assert_str_eq(r->connect_auth_file, "/etc/iketcp/users");
	cr_assert_eq(r->connect_auth_line, 15);
	cr_assert_eq(r->max_header_bytes, 16384);
	cr_assert_eq(r->nsni, 2);
	cr_assert_str_eq(r->sni[0], "vpn.example.com");
	cr_assert_str_eq(r->sni[1], "*.example.net");
	cr_assert(r->is_default);
	cr_assert(r->proxy_protocol);
	conf_unref(c);
}

Test(layers, applies_layer_defaults_when_keys_are_omitted, .timeout = 10)
{
	static const char *const lines[] = { BASE };
	const struct conf_relay *r;
	struct conf *c;

	c = accept_lines(lines, NELEM(lines));
	r = &c->relays[0];
	cr_assert_eq(r->ntls_listen, 0);
	cr_assert_str_eq(r->tls_cert, "");
	cr_assert_str_eq(r->tls_key, "");
	cr_assert_str_eq(r->tls_chain, "");
	cr_assert_eq(r->tls_min_version, CONF_TLS_1_2);
	cr_assert_str_eq(r->tls_ciphers, "");
	cr_assert_str_eq(r->tls_ciphersuites, "");
	cr_assert_not(r->tls_null, "tls-null defaults to no (opt-in)");
	cr_assert_not(r->http_connect);
	cr_assert_eq(r->nconnect_allow, 0);
	cr_assert_str_eq(r->connect_auth_file, "");
	cr_assert_eq(r->max_header_bytes, CONF_DEF_MAX_HEADER_BYTES);
	cr_assert_eq(r->max_header_bytes, 8192);
	cr_assert_eq(r->nsni, 0);
	cr_assert_not(r->is_default);
	cr_assert_not(r->proxy_protocol);
	conf_unref(c);
}

Test(layers, accepts_each_good_value_of_the_scalar_keys, .timeout = 10)
{
	/* One key after BASE; `field` names the stored value to read. */
	enum { F_MINVER, F_NULL, F_PROXY, F_DEFAULT, F_HEADER };
	static const struct {
		const char	*line;
		int		 field;	/* which value to compare */
		size_t		 want;
	} cases[] = {
		{ "tls-min-version = 1.2",	F_MINVER, CONF_TLS_1_2 },
		{ "tls-min-version = 1.3",	F_MINVER, CONF_TLS_1_3 },
		{ "tls-null = yes",		F_NULL,	  1 },
		{ "tls-null = off",		F_NULL,	  0 },
		{ "proxy-protocol = 1",		F_PROXY,  1 },
		{ "proxy-protocol = false",	F_PROXY,  0 },
		{ "default = true",		F_DEFAULT, 1 },
		{ "default = no",		F_DEFAULT, 0 },
		{ "max-header-bytes = 256",	F_HEADER, 256 },
		{ "max-header-bytes = 65536",	F_HEADER, 65536 },
		{ "max-header-bytes = 64k",	F_HEADER, 65536 },
		{ "max-header-bytes = 1k",	F_HEADER, 1024 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *lines[] = { BASE, cases[i].line };
		const struct conf_relay *r;
		struct conf *c;
		size_t got = 0;

		cr_log_info("case %zu: %s", i, cases[i].line);
		c = accept_lines(lines, NELEM(lines));
		r = &c->relays[0];
		switch (cases[i].field) {
		case F_MINVER:	got = r->tls_min_version; break;
		case F_NULL:	got = r->tls_null; break;
		case F_PROXY:	got = r->proxy_protocol; break;
		case F_DEFAULT:	got = r->is_default; break;
		case F_HEADER:	got = r->max_header_bytes; break;
		}
		cr_assert_eq(got, cases[i].want, "case %zu \"%s\": %zu", i,
		    cases[i].line, got);
		conf_unref(c);
	}
}

Test(layers, accepts_a_cipher_string_of_511_characters, .timeout = 10)
{
	static char line[600];
	const char *lines[] = { BASE, line };
	struct conf *c;
	int n = snprintf(line, sizeof(line), "tls-ciphers = ");

	memset(line + n, 'A', CONF_CIPHERS_MAX - 1);
	line[n + CONF_CIPHERS_MAX - 1] = '\0';
	c = accept_lines(lines, NELEM(lines));
	cr_assert_eq(strlen(c->relays[0].tls_ciphers), CONF_CIPHERS_MAX - 1);
	conf_unref(c);
}

Test(layers, accepts_as_many_repeatable_lines_as_the_limits, .timeout = 10)
{
	/* 16 tls-listen, 32 connect-allow, 32 sni: header, gateway, TLS. */
	static char text[16 + 32 + 32][64];
	const char *lines[5 + 16 + 32 + 32];
	size_t n = 0, t = 0;
	struct conf *c;

	lines[n++] = "[relay a]";
	lines[n++] = "gateway = 192.0.2.1";
	lines[n++] = "tls-cert = c";
	lines[n++] = "tls-key = k";
	lines[n++] = "http-connect = yes";
	for (int i = 0; i < CONF_LISTEN_MAX; i++, t++) {
		snprintf(text[t], 64, "tls-listen = 127.0.0.1:%d", i + 1);
		lines[n++] = text[t];
	}
	for (int i = 0; i < CONF_ALLOW_MAX; i++, t++) {
		snprintf(text[t], 64, "connect-allow = h%d.test:443", i);
		lines[n++] = text[t];
	}
	for (int i = 0; i < CONF_SNI_MAX; i++, t++) {
		snprintf(text[t], 64, "sni = n%d.test", i);
		lines[n++] = text[t];
	}
	c = accept_lines(lines, n);
	cr_assert_eq(c->relays[0].ntls_listen, CONF_LISTEN_MAX);
	cr_assert_eq(c->relays[0].nconnect_allow, CONF_ALLOW_MAX);
	cr_assert_eq(c->relays[0].nsni, CONF_SNI_MAX);
	cr_assert_str_eq(c->relays[0].sni[CONF_SNI_MAX - 1], "n31.test");
	conf_unref(c);
}

/* Bad values: one test per rejection rule in layers.c. */

Test(layers, rejects_a_bad_tls_listen_address, .timeout = 10)
{
	static const char *const cases[][2] = {
		{ "tls-listen = localhost:443",
		  "bad tls-listen \"localhost:443\": want ADDR:PORT" },
		{ "tls-listen = 127.0.0.1", "bad tls-listen \"127.0.0.1\"" },
		{ "tls-listen = 127.0.0.1:0", "bad tls-listen \"127.0.0.1:0\"" },
		{ "tls-listen = ::1:443", "bad tls-listen \"::1:443\"" },
		{ "tls-listen =", "bad tls-listen \"\"" },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		expect_bad_line(cases[i][0], cases[i][1]);
}

Test(layers, rejects_more_tls_listen_lines_than_the_limit, .timeout = 10)
{
	static char text[CONF_LISTEN_MAX + 1][40];
	const char *lines[4 + CONF_LISTEN_MAX + 1];

	lines[0] = "[relay a]";
	lines[1] = "gateway = 192.0.2.1";
	lines[2] = "tls-cert = c";
	lines[3] = "tls-key = k";
	for (int i = 0; i <= CONF_LISTEN_MAX; i++) {
		snprintf(text[i], sizeof(text[i]), "tls-listen = 127.0.0.1:%d",
		    i + 1);
		lines[4 + i] = text[i];
	}
	expect_reject(lines, NELEM(lines), 1, NELEM(lines),
	    "tls-listen \"127.0.0.1:17\": more than 16 tls-listen lines");
}

Test(layers, rejects_an_empty_file_name, .timeout = 10)
{
	static const char *const cases[][2] = {
		{ "tls-cert =", "bad tls-cert \"\": want a file name of 1 to "
		  "1023 characters" },
		{ "tls-key = \"\"", "bad tls-key \"\": want a file name" },
		{ "tls-chain = ", "bad tls-chain \"\": want a file name" },
	};
	static const char *const auth[] = {
		BASE, "http-connect = yes", "connect-allow = gw.test:443",
		"connect-auth-file = \"\"",
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		expect_bad_line(cases[i][0], cases[i][1]);
	expect_reject(auth, NELEM(auth), 1, 6,
	    "bad connect-auth-file \"\": want a file name");
}

Test(layers, rejects_a_tls_min_version_other_than_1_2_or_1_3, .timeout = 10)
{
	static const char *const cases[][2] = {
		{ "tls-min-version = 1.1",
		  "bad tls-min-version \"1.1\": want 1.2 or 1.3" },
		{ "tls-min-version = 1.0", "bad tls-min-version \"1.0\"" },
		{ "tls-min-version = TLSv1.3",
		  "bad tls-min-version \"TLSv1.3\"" },
		{ "tls-min-version = 1.3.0", "bad tls-min-version \"1.3.0\"" },
		{ "tls-min-version = ", "bad tls-min-version \"\"" },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		expect_bad_line(cases[i][0], cases[i][1]);
}

Test(layers, rejects_an_empty_or_over_long_cipher_string, .timeout = 10)
{
	static char longer[600];
	int n = snprintf(longer, sizeof(longer), "tls-ciphersuites = ");

	memset(longer + n, 'A', CONF_CIPHERS_MAX);
	longer[n + CONF_CIPHERS_MAX] = '\0';
	expect_bad_line("tls-ciphers =", "bad tls-ciphers \"\": want an "
	    "OpenSSL cipher string of 1 to 511 characters");
	expect_bad_line("tls-ciphersuites = \"\"",
	    "bad tls-ciphersuites \"\": want an OpenSSL cipher string");
	expect_bad_line(longer, "bad tls-ciphersuites \"AAAA");
}

Test(layers, rejects_a_cipher_string_with_a_blank_or_control_character,
    .timeout = 10)
{
	static const char *const cases[][2] = {
		{ "tls-ciphers = \"HIGH !aNULL\"",
		  "bad tls-ciphers \"HIGH !aNULL\": blank or control "
		  "character" },
		{ "tls-ciphers = HIGH\t!aNULL",
		  "bad tls-ciphers \"HIGH\t!aNULL\": blank or control" },
		{ "tls-ciphersuites = TLS_AES\x01",
		  "bad tls-ciphersuites \"TLS_AES\x01\": blank or control" },
		{ "tls-ciphersuites = TLS_AES\x7f",
		  "bad tls-ciphersuites \"TLS_AES\x7f\": blank or control" },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		expect_bad_line(cases[i][0], cases[i][1]);
}

Test(layers, rejects_a_bad_boolean_for_each_switch, .timeout = 10)
{
	static const char *const cases[][2] = {
		{ "tls-null = maybe", "bad tls-null \"maybe\": want yes or no" },
		{ "http-connect = YES", "bad http-connect \"YES\": want yes "
		  "or no" },
		{ "proxy-protocol = 2", "bad proxy-protocol \"2\": want yes "
		  "or no" },
		{ "default = ", "bad default \"\": want yes or no" },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		expect_bad_line(cases[i][0], cases[i][1]);
}

Test(layers, rejects_a_max_header_bytes_out_of_range, .timeout = 10)
{
	static const char *const cases[] = {
		"255", "65537", "0", "65k", "8kb", "-1", "",
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char line[64], want[96];

		snprintf(line, sizeof(line), "max-header-bytes = %s", cases[i]);
		snprintf(want, sizeof(want), "bad max-header-bytes \"%s\": "
		    "want a size from 256 to 65536", cases[i]);
		expect_bad_line(line, want);
	}
}

Test(layers, rejects_a_bad_connect_allow_authority, .timeout = 10)
{
	static const char *const cases[] = {
		"gw.example.net",	/* no port */
		"gw.example.net:",	/* empty port */
		":443",			/* no host */
		"gw.example.net:0",
		"gw.example.net:65536",
		"gw.example.net:443x",
		"gw.example.net:+443",
		"::1:443",		/* bare IPv6 */
		"[::1]",
		"[::1]443",
		"[192.0.2.1]:443",	/* brackets for IPv6 only */
		"[gw.example.net]:443",
		"gw_ex ample:443",
		"-gw.example.net:443",
		"gw..example.net:443",
	};
	static const char *const lines_tmpl[] = {
		BASE, "http-connect = yes", "connect-allow = gw.test:1",
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *lines[NELEM(lines_tmpl) + 1];
		char line[128], want[160];

		memcpy(lines, lines_tmpl, sizeof(lines_tmpl));
		snprintf(line, sizeof(line), "connect-allow = \"%s\"",
		    cases[i]);
		snprintf(want, sizeof(want), "bad connect-allow \"%s\": want "
		    "HOST:PORT or [V6ADDR]:PORT", cases[i]);
		lines[NELEM(lines_tmpl)] = line;
		cr_log_info("case %zu: %s", i, cases[i]);
		expect_reject(lines, NELEM(lines), 1, 6, want);
	}
}

Test(layers, rejects_more_connect_allow_lines_than_the_limit, .timeout = 10)
{
	static char text[CONF_ALLOW_MAX + 1][48];
	const char *lines[4 + CONF_ALLOW_MAX + 1];

	lines[0] = "[relay a]";
	lines[1] = "listen = 127.0.0.1:1";
	lines[2] = "gateway = 192.0.2.1";
	lines[3] = "http-connect = yes";
	for (int i = 0; i <= CONF_ALLOW_MAX; i++) {
		snprintf(text[i], sizeof(text[i]),
		    "connect-allow = h%d.test:443", i);
		lines[4 + i] = text[i];
	}
	expect_reject(lines, NELEM(lines), 1, NELEM(lines),
	    "connect-allow \"h32.test:443\": more than 32 connect-allow lines");
}

Test(layers, rejects_a_bad_sni_name, .timeout = 10)
{
	static char label64[80], name254[300];
	static const char *const fixed[] = {
		"",
		"*",
		"*.",
		".",
		"a..b",
		".a.b",
		"-a.b",
		"a-.b",
		"a.b-",
		"a.*.b",
		"**.a",
		"*a.b",
		"*.*.a",
		"a b",
		"a/b",
		"xn--\xc3\xa9.test",
		"[::1]",
	};
	const char *cases[NELEM(fixed) + 2];
	size_t n = 0;

	/* A 64-character label; a 254-character name of 63-char labels. */
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".test");
	for (size_t i = 0; i < 254; i++)
		name254[i] = i % 64 == 63 ? '.' : 'b';
	name254[254] = '\0';
	for (size_t i = 0; i < NELEM(fixed); i++)
		cases[n++] = fixed[i];
	cases[n++] = label64;
	cases[n++] = name254;
	for (size_t i = 0; i < n; i++) {
		char line[400], want[400];

		snprintf(line, sizeof(line), "sni = \"%s\"", cases[i]);
		snprintf(want, sizeof(want), "bad sni \"%s\": want a DNS name, "
		    "or *.NAME for one more label", cases[i]);
		expect_bad_line(line, want);
	}
}

Test(layers, rejects_more_sni_lines_than_the_limit, .timeout = 10)
{
	static char text[CONF_SNI_MAX + 1][40];
	const char *lines[5 + CONF_SNI_MAX + 1];

	lines[0] = "[relay a]";
	lines[1] = "tls-listen = 127.0.0.1:1";
	lines[2] = "gateway = 192.0.2.1";
	lines[3] = "tls-cert = c";
	lines[4] = "tls-key = k";
	for (int i = 0; i <= CONF_SNI_MAX; i++) {
		snprintf(text[i], sizeof(text[i]), "sni = n%d.test", i);
		lines[5 + i] = text[i];
	}
	expect_reject(lines, NELEM(lines), 1, NELEM(lines),
	    "sni \"n32.test\": more than 32 sni lines");
}

/* Whole-file rules: reported at the section header's line. */

Test(layers, rejects_tls_listen_without_a_certificate_and_key, .timeout = 10)
{
	static const char *const no_key[] = {
		"# x", "[relay a]", "tls-listen = 127.0.0.1:443",
		"gateway = 192.0.2.1", "tls-cert = c",
	};
	static const char *const no_cert[] = {
		"# x", "[relay a]", "tls-listen = 127.0.0.1:443",
		"gateway = 192.0.2.1", "tls-key = k", "tls-chain = ch",
	};
	static const char *const neither[] = {
		"# x", "[relay a]", "tls-listen = 127.0.0.1:443",
		"gateway = 192.0.2.1",
	};
	static const char *const want =
	    "[relay a]: tls-listen needs tls-cert and tls-key";

	expect_reject(no_key, NELEM(no_key), 0, 2, want);
	expect_reject(no_cert, NELEM(no_cert), 0, 2, want);
	expect_reject(neither, NELEM(neither), 0, 2, want);
}

Test(layers, rejects_tls_files_without_tls_listen, .timeout = 10)
{
	static const char *const both[] = { BASE, TLS };
	static const char *const chain[] = { BASE, "tls-chain = ch" };
	static const char *const want =
	    "[relay a]: tls-cert, tls-key or tls-chain without tls-listen";

	expect_reject(both, NELEM(both), 0, 1, want);
	expect_reject(chain, NELEM(chain), 0, 1, want);
}

Test(layers, rejects_http_connect_without_connect_allow, .timeout = 10)
{
	static const char *const lines[] = {
		BASE, "http-connect = yes", "connect-auth-file = users",
	};

	expect_reject(lines, NELEM(lines), 0, 1,
	    "[relay a]: http-connect = yes needs connect-allow (CONNECT "
	    "targets are an allowlist)");
}

Test(layers, rejects_connect_allow_or_auth_file_without_http_connect,
    .timeout = 10)
{
	static const char *const allow[] = {
		BASE, "connect-allow = gw.test:443",
	};
	static const char *const auth[] = {
		BASE, "connect-auth-file = users",
	};
	static const char *const off[] = {
		BASE, "http-connect = no", "connect-allow = gw.test:443",
	};
	static const char *const want = "[relay a]: connect-allow or "
	    "connect-auth-file without http-connect = yes";

	expect_reject(allow, NELEM(allow), 0, 1, want);
	expect_reject(auth, NELEM(auth), 0, 1, want);
	expect_reject(off, NELEM(off), 0, 1, want);
}

Test(layers, rejects_an_address_listed_twice_in_one_section, .timeout = 10)
{
	static const char *const listen[] = {
		BASE, "listen = 127.0.0.1:1",
	};
	static const char *const mixed[] = {
		BASE, "tls-listen = 127.0.0.1:1", TLS,
	};
	static const char *const tls[] = {
		"[relay a]", "tls-listen = [::1]:7", "tls-listen = [0::1]:7",
		"gateway = 192.0.2.1", TLS,
	};

	expect_reject(listen, NELEM(listen), 0, 1,
	    "[relay a]: 127.0.0.1:1 listed twice");
	expect_reject(mixed, NELEM(mixed), 0, 1,
	    "[relay a]: 127.0.0.1:1 listed twice");
	expect_reject(tls, NELEM(tls), 0, 1, "[relay a]: [0::1]:7 listed twice");
}

/*
 * Three sections on one TLS address, each reachable: by sni, by
 * connect-allow, as the default; plus one on another address reusing a
 * name.
 */
static const char *const sharing[] = {
	"[relay a]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1",
	TLS, "sni = a.test",
	"[relay b]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.2",
	TLS, "http-connect = yes", "connect-allow = gw.b.test:443",
	"[relay c]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.3",
	TLS, "default = yes",
	"[relay d]", "tls-listen = 127.0.0.1:444", "gateway = 192.0.2.4",
	TLS, "sni = a.test", "default = yes",
};

Test(layers, accepts_sections_sharing_an_address_when_each_is_reachable,
    .timeout = 10)
{
	struct conf *c = accept_lines(sharing, NELEM(sharing));

	cr_assert_eq(c->nrelays, 4);
	conf_unref(c);
}

Test(layers, rejects_sections_sharing_an_address_as_listen_and_tls_listen,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		"default = yes",
		"[relay b]", "tls-listen = 127.0.0.1:443",
		"gateway = 192.0.2.1", TLS, "sni = b.test",
	};

	expect_reject(lines, NELEM(lines), 0, 5,
	    "[relay b]: tls-listen 127.0.0.1:443 is listen in [relay a]");
}

Test(layers, rejects_sections_sharing_an_address_with_another_proxy_protocol,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		"default = yes", "proxy-protocol = yes",
		"[relay b]", "listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		"http-connect = yes", "connect-allow = b.test:443",
	};

	expect_reject(lines, NELEM(lines), 0, 6,
	    "[relay b]: proxy-protocol differs from [relay a], which shares "
	    "127.0.0.1:443");
}

Test(layers, rejects_an_sni_name_repeated_on_a_shared_address, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		TLS, "sni = x.test", "sni = *.a.test",
		"[relay b]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		TLS, "sni = *.A.Test",
	};

	expect_reject(lines, NELEM(lines), 0, 8,
	    "[relay b]: sni *.a.test also in [relay a] on 127.0.0.1:443");
}

Test(layers, rejects_two_default_sections_on_one_address, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		"default = yes",
		"[relay b]", "listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		"default = yes",
	};
	static const unsigned at[] = { 1, 5 };

	/* Each of the two sections is told. */
	expect_reject_at(lines, NELEM(lines), 0, at, NELEM(at),
	    "more than one section with default = yes on 127.0.0.1:443", 2);
}

Test(layers, rejects_a_sharing_section_without_sni_connect_allow_or_default,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		TLS, "sni = a.test",
		"[relay b]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		TLS,
	};

	expect_reject(lines, NELEM(lines), 0, 7,
	    "[relay b]: shares 127.0.0.1:443 with another section but has "
	    "no sni, connect-allow or default = yes");
}

/* Value parsers and helpers, table-driven. */

Test(layers, parses_dns_names, .timeout = 10)
{
	static const struct {
		const char	*text;
		bool		 wildcard;	/* "*." allowed */
		bool		 ok;
		const char	*want;		/* as stored */
	} cases[] = {
		{ "example.com",	false,	true,	"example.com" },
		{ "Example.COM",	false,	true,	"example.com" },
		{ "example.com.",	false,	true,	"example.com" },
		{ "a",			false,	true,	"a" },
		{ "a-b.c_d.9",		false,	true,	"a-b.c_d.9" },
		{ "192.0.2.1",		false,	true,	"192.0.2.1" },
		{ "*.Example.com",	true,	true,	"*.example.com" },
		{ "*.a",		true,	true,	"*.a" },
		{ "*.example.com",	false,	false,	NULL },
		{ "*",			true,	false,	NULL },
		{ "*.",			true,	false,	NULL },
		{ "*..a",		true,	false,	NULL },
		{ "a.*.b",		true,	false,	NULL },
		{ "",			false,	false,	NULL },
		{ ".",			false,	false,	NULL },
		{ "a..b",		false,	false,	NULL },
		{ "a.b..",		false,	false,	NULL },
		{ "-a",			false,	false,	NULL },
		{ "a-",			false,	false,	NULL },
		{ "a-.b",		false,	false,	NULL },
		{ "a:1",		false,	false,	NULL },
		{ "::1",		false,	false,	NULL },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char out[CONF_DNS_NAME_MAX];
		bool ok = conf_parse_dns_name(cases[i].text, cases[i].wildcard,
		    out);

		cr_assert_eq(ok, cases[i].ok, "case %zu \"%s\"", i,
		    cases[i].text);
		if (ok)
			cr_assert_str_eq(out, cases[i].want, "case %zu", i);
	}
}

Test(layers, parses_dns_names_up_to_253_characters_and_63_per_label,
    .timeout = 10)
{
	char name[300], out[CONF_DNS_NAME_MAX];

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	cr_assert(conf_parse_dns_name(name, false, out));
	cr_assert_str_eq(out, name);
	name[253] = '.';			/* trailing dot: still 253 */
	name[254] = '\0';
	cr_assert(conf_parse_dns_name(name, false, out));
	name[253] = 'a';			/* 254 characters */
	cr_assert_not(conf_parse_dns_name(name, false, out));
	memset(name, 'a', 64);			/* a 64-character label */
	strcpy(name + 64, ".test");
	cr_assert_not(conf_parse_dns_name(name, false, out));
}

Test(layers, parses_authorities, .timeout = 10)
{
	static const struct {
		const char	*text;
		bool		 ok;
		const char	*host;		/* stored: lower, no brackets */
		uint16_t	 port;
	} cases[] = {
		{ "[::1]:443",		true,	"::1",		443 },
		{ "[2001:DB8::A]:1",	true,	"2001:db8::a",	1 },
		{ "host:443",		true,	"host",		443 },
		{ "GW.Example.net:65535", true,	"gw.example.net", 65535 },
		{ "192.0.2.1:4500",	true,	"192.0.2.1",	4500 },
		{ "gw.example.net.:443", true,	"gw.example.net", 443 },
		{ "host:0443",		true,	"host",		443 },
		{ "host",		false,	NULL,		0 },	/* no port */
		{ "host:",		false,	NULL,		0 },
		{ "host:0",		false,	NULL,		0 },
		{ "host:65536",		false,	NULL,		0 },
		{ "host:99999999999999999999", false, NULL,	0 },
		{ "host:-1",		false,	NULL,		0 },
		{ "host: 443",		false,	NULL,		0 },
		{ "host:443x",		false,	NULL,		0 },	/* junk */
		{ "host:443 ",		false,	NULL,		0 },
		{ "[::1]:443x",		false,	NULL,		0 },
		{ "::1:443",		false,	NULL,		0 },	/* bare v6 */
		{ "::1",		false,	NULL,		0 },
		{ "[::1]",		false,	NULL,		0 },
		{ "[::1]443",		false,	NULL,		0 },
		{ "[::1:443",		false,	NULL,		0 },
		{ "[]:443",		false,	NULL,		0 },
		{ "[192.0.2.1]:443",	false,	NULL,		0 },
		{ "[host]:443",		false,	NULL,		0 },
		{ ":443",		false,	NULL,		0 },
		{ "",			false,	NULL,		0 },
		{ "ho st:443",		false,	NULL,		0 },
		{ "*.example.com:443",	false,	NULL,		0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct conf_authority a;
		bool ok = conf_parse_authority(cases[i].text, &a);

		cr_assert_eq(ok, cases[i].ok, "case %zu \"%s\"", i,
		    cases[i].text);
		if (!ok)
			continue;
		cr_assert_str_eq(a.host, cases[i].host, "case %zu", i);
		cr_assert_eq(a.port, cases[i].port, "case %zu", i);
	}
}

Test(layers, matches_sni_wildcards_one_label_deep, .timeout = 10)
{
	static const struct {
		const char	*pat;		/* as stored: lower case */
		const char	*name;		/* as a client sends it */
		bool		 match;
	} cases[] = {
		{ "*.example.com",	"a.example.com",	true },
		{ "*.example.com",	"A.EXAMPLE.Com",	true },
		{ "*.example.com",	"xn--bcher-kva.example.com", true },
		{ "*.example.com",	"a.b.example.com",	false },
		{ "*.example.com",	"example.com",		false },
		{ "*.example.com",	".example.com",		false },
		{ "*.example.com",	"aexample.com",		false },
		{ "*.example.com",	"a.example.com.evil",	false },
		{ "*.example.com",	"a.example.org",	false },
		{ "*.example.com",	"",			false },
		{ "example.com",	"example.com",		true },
		{ "example.com",	"EXAMPLE.com",		true },
		{ "example.com",	"a.example.com",	false },
		{ "example.com",	"example.co",		false },
		{ "a.example.com",	"a.example.com",	true },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		cr_assert_eq(conf_sni_match(cases[i].pat, cases[i].name),
		    cases[i].match, "case %zu: %s against %s", i,
		    cases[i].pat, cases[i].name);
}

Test(layers, tells_whether_a_section_listens_on_an_address, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:1", "listen = [::1]:2",
		"tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1", TLS,
	};
	static const struct {
		const char	*addr;
		bool		 listens;
		bool		 tls;
	} cases[] = {
		{ "127.0.0.1:1",	true,	false },
		{ "[::1]:2",		true,	false },
		{ "[0:0::1]:2",		true,	false },
		{ "127.0.0.1:443",	true,	true },
		{ "127.0.0.1:2",	false,	false },	/* port */
		{ "127.0.0.2:1",	false,	false },	/* address */
		{ "[::1]:1",		false,	false },	/* family */
		{ "[::ffff:127.0.0.1]:1", false, false },
	};
	struct conf *c = accept_lines(lines, NELEM(lines));

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct conf_addr a;
		bool tls = !cases[i].tls;

		cr_assert(conf_parse_addr(cases[i].addr, 0, true, &a));
		cr_assert_eq(conf_relay_listens(&c->relays[0], &a.ss, &tls),
		    cases[i].listens, "case %zu %s", i, cases[i].addr);
		if (cases[i].listens)
			cr_assert_eq(tls, cases[i].tls, "case %zu", i);
		cr_assert_eq(conf_relay_listens(&c->relays[0], &a.ss, NULL),
		    cases[i].listens, "case %zu with NULL", i);
	}
	conf_unref(c);
}

Test(layers, rejects_sni_on_a_section_without_tls_listen, .timeout = 10)
{
	static const char *const lines[] = {
		"# x", "[relay a]", "listen = 127.0.0.1:443",
		"gateway = 192.0.2.1", "sni = a.test",
	};

	expect_reject(lines, NELEM(lines), 0, 2,
	    "[relay a]: sni without tls-listen");
}

Test(layers, takes_busy_poll_in_global_up_to_one_second, .timeout = 10)
{
	static const char *const good[] = {
		"[global]", "busy-poll = 2ms",
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
	};
	static const char *const bad[] = {
		"[global]", "busy-poll = 2s",
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
	};
	struct capture cap;
	struct conf *c = parse(good, NELEM(good), NULL, &cap);

	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(c->busy_poll_ms, 2);
	conf_unref(c);
	expect_reject(bad, NELEM(bad), 1, 2, "bad busy-poll \"2s\"");
}

Test(layers, takes_workers_auto_or_one_to_sixty_four, .timeout = 10)
{
	static const char *const good[] = {
		"[global]", "workers = 4",
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
	};
	static const char *const autow[] = {
		"[global]", "workers = auto",
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
	};
	static const char *const none[] = {
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
	};
	static const char *const zero[] = {
		"[global]", "workers = 0",
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
	};
	static const char *const many[] = {
		"[global]", "workers = 65",
		"[relay a]", "listen = 127.0.0.1:1", "gateway = 192.0.2.1",
	};
	struct capture cap;
	struct conf *c = parse(good, NELEM(good), NULL, &cap);

	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(conf_workers(c), 4);
	cr_assert_eq(c->workers_line, 2);
	conf_unref(c);
	c = parse(autow, NELEM(autow), NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(c->workers, 0);
	cr_assert(conf_workers(c) >= 1 && conf_workers(c) <= 64);
	conf_unref(c);
	c = parse(none, NELEM(none), NULL, &cap);
	cr_assert_not_null(c, "rejected: %s", cap.text);
	cr_assert_eq(conf_workers(c), 1, "one process unless asked");
	conf_unref(c);
	expect_reject(zero, NELEM(zero), 1, 2, "bad workers \"0\": want auto "
	    "or a whole number from 1 to 64");
	expect_reject(many, NELEM(many), 1, 2, "bad workers \"65\"");
}

/* ---- proxy-from: who may send a PROXY header ---- */

static struct sockaddr_storage
ss_of(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;

		s6->sin6_family = AF_INET6;
		cr_assert_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;

		s4->sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return ss;
}

Test(layers, parses_proxy_from_addresses_and_prefixes, .timeout = 10)
{
	static const char *const lines[] = {
		BASE, "proxy-protocol = yes",
		"proxy-from = 10.0.0.7", "proxy-from = 172.16.0.0/12",
		"proxy-from = 2001:db8::1", "proxy-from = 2001:db8:1::/48",
	};
	struct conf *c = accept_lines(lines, NELEM(lines));
	const struct conf_relay *r = &c->relays[0];
	static const struct {
		const char	*ip;
		bool		 in;
	} cases[] = {
		{ "10.0.0.7", true }, { "10.0.0.8", false },
		{ "::ffff:10.0.0.7", true }, { "::ffff:10.0.0.6", false },
		{ "172.16.0.1", true }, { "172.31.255.255", true },
		{ "172.32.0.0", false }, { "172.15.255.255", false },
		{ "2001:db8::1", true }, { "2001:db8::2", false },
		{ "2001:db8:1:ffff::9", true }, { "2001:db8:2::", false },
		{ "127.0.0.1", false }, { "::1", false },
	};

	cr_assert_eq(r->nproxy_from, 4);
	cr_assert_eq(r->proxy_from[0].plen, 32);
	cr_assert_eq(r->proxy_from[2].plen, 128);
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct sockaddr_storage ss = ss_of(cases[i].ip);
		bool in = false;

		for (size_t k = 0; k < r->nproxy_from; k++)
			in |= conf_cidr_match(&r->proxy_from[k], &ss);
		cr_assert_eq(in, cases[i].in, "%s: %d", cases[i].ip, in);
	}
	conf_unref(c);
}

Test(layers, matches_prefixes_at_every_length, .timeout = 10)
{
	struct conf_cidr all, one;
	struct sockaddr_storage ss = ss_of("192.0.2.129");

	cr_assert(conf_parse_cidr("0.0.0.0/0", &all));
	cr_assert(conf_cidr_match(&all, &ss));
	cr_assert(conf_parse_cidr("192.0.2.128/25", &one));
	cr_assert(conf_cidr_match(&one, &ss));
	cr_assert(conf_parse_cidr("192.0.2.0/25", &one));
	cr_assert_not(conf_cidr_match(&one, &ss));
	cr_assert(conf_parse_cidr("192.0.2.128/31", &one));
	cr_assert(conf_cidr_match(&one, &ss));
	cr_assert(conf_parse_cidr("192.0.2.130/31", &one));
	cr_assert_not(conf_cidr_match(&one, &ss));
	/* An IPv4 prefix never matches an IPv6 address, and back. */
	ss = ss_of("::");
	cr_assert_not(conf_cidr_match(&all, &ss));
	cr_assert(conf_parse_cidr("::/0", &all));
	cr_assert(conf_cidr_match(&all, &ss));
	ss = ss_of("10.1.2.3");
	cr_assert_not(conf_cidr_match(&all, &ss));
}

Test(layers, rejects_a_bad_proxy_from, .timeout = 10)
{
	static const char *const cases[] = {
		"proxy-from = ", "proxy-from = host.test",
		"proxy-from = 10.0.0.1/24", "proxy-from = 10.0.0.0/33",
		"proxy-from = 10.0.0.0/024", "proxy-from = 2001:db8::/129",
		"proxy-from = 10.0.0.0/8/8",
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char want[128];
		const char *lines[] = { BASE, "proxy-protocol = yes", cases[i] };

		snprintf(want, sizeof(want), "bad proxy-from \"%s\"",
		    cases[i] + strlen("proxy-from = "));
		cr_log_info("case: %s", cases[i]);
		expect_reject(lines, NELEM(lines), 1, 5, want);
	}
}

Test(layers, rejects_more_than_the_most_proxy_from_lines, .timeout = 10)
{
	const char *lines[4 + CONF_PROXY_FROM_MAX + 1] = {
		BASE, "proxy-protocol = yes",
	};
	char buf[CONF_PROXY_FROM_MAX + 1][32];

	for (size_t i = 0; i <= CONF_PROXY_FROM_MAX; i++) {
		snprintf(buf[i], sizeof(buf[i]), "proxy-from = 10.0.0.%zu", i);
		lines[4 + i] = buf[i];
	}
	expect_reject(lines, NELEM(lines), 1, 4 + CONF_PROXY_FROM_MAX + 1,
	    "more than 16 proxy-from lines");
}

Test(layers, rejects_proxy_from_without_proxy_protocol, .timeout = 10)
{
	static const char *const lines[] = { BASE, "proxy-from = 10.0.0.1" };

	expect_reject(lines, NELEM(lines), 0, 1,
	    "[relay a]: proxy-from without proxy-protocol = yes");
}

Test(layers, rejects_sections_sharing_an_address_with_another_proxy_from,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		"default = yes", "proxy-protocol = yes",
		"proxy-from = 127.0.0.2",
		"[relay b]", "listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		"http-connect = yes", "connect-allow = b.test:443",
		"proxy-protocol = yes", "proxy-from = 127.0.0.3",
	};

	expect_reject(lines, NELEM(lines), 0, 7,
	    "[relay b]: proxy-from differs from [relay a], which shares "
	    "127.0.0.1:443");
}
