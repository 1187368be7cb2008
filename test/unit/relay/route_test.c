/*
 * relay/route.c: which [relay] section a stream goes to, by the listen
 * address it came in on (route_primary), its TLS SNI name (route_by_name)
 * or its CONNECT target (route_by_authority).  The confs are built with
 * conf_init/conf_line/conf_finish from numeric addresses only: no DNS.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "conf/conf.h"
#include "relay/route.h"

TestSuite(route);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define TLS	"tls-cert = c.pem", "tls-key = k.pem"

static struct conf *
build(const char *const *lines, size_t n)
{
	struct conf_parser p;
	struct conf *c;

	cr_assert_eq(conf_init(&p, "route.conf"), 0);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(conf_line(&p, lines[i]), 0, "line %zu: %s", i + 1,
		    lines[i]);
	c = conf_finish(&p);
	cr_assert_not_null(c, "the test's conf was rejected");
	return c;
}

static struct sockaddr_storage
addr(const char *text)
{
	struct conf_addr a;

	cr_assert(conf_parse_addr(text, 0, true, &a), "%s", text);
	return a.ss;
}

/* Name of the section chosen, or "(none)". */
static const char *
name_of(const struct conf_relay *cr)
{
	return cr != NULL ? cr->name : "(none)";
}

/*
 * Three sections on 127.0.0.1:443 (two by SNI, one default), one on
 * [::1]:443 that shares nothing and has no sni, one CONNECT section
 * sharing 127.0.0.1:8080 with a default.
 */
static const char *const shared[] = {
	"[relay a]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1",
	TLS, "sni = a.test", "max-header-bytes = 1k",
	"[relay b]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.2",
	TLS, "sni = b.test", "sni = *.wild.test",
	"[relay dflt]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.3",
	TLS, "default = yes",
	"[relay lone]", "tls-listen = [::1]:443", "gateway = 192.0.2.4", TLS,
	"[relay plain]", "listen = 127.0.0.1:8080", "gateway = 192.0.2.5",
	"default = yes", "max-header-bytes = 512",
	"[relay proxy]", "listen = 127.0.0.1:8080", "gateway = 192.0.2.6",
	"http-connect = yes", "connect-allow = gw.example.net:443",
	"connect-allow = [2001:db8::1]:4500", "max-header-bytes = 16k",
	"[relay other]", "listen = 127.0.0.1:8081", "gateway = 192.0.2.7",
	"http-connect = yes", "connect-allow = gw.example.net:4500",
};

Test(route, routes_each_sni_name_to_its_section, .timeout = 10)
{
	static const struct {
		const char	*name;		/* SNI */
		const char	*want;		/* section */
	} cases[] = {
		{ "a.test",		"a" },
		{ "b.test",		"b" },
		{ "A.TEST",		"a" },	/* without case */
		{ "B.Test",		"b" },
		{ "x.wild.test",	"b" },
		{ "X.Wild.Test",	"b" },
	};
	struct conf *c = build(shared, NELEM(shared));
	struct sockaddr_storage la = addr("127.0.0.1:443");

	for (size_t i = 0; i < NELEM(cases); i++)
		cr_assert_str_eq(name_of(route_by_name(c, &la, cases[i].name)),
		    cases[i].want, "case %zu: %s", i, cases[i].name);
	conf_unref(c);
}

Test(route, routes_an_unknown_or_missing_name_to_the_default, .timeout = 10)
{
	static const char *const names[] = {
		"c.test", "test", "a.test.", "x.a.test", "y.x.wild.test",
		"wild.test", "",
	};
	struct conf *c = build(shared, NELEM(shared));
	struct sockaddr_storage la = addr("127.0.0.1:443");

	for (size_t i = 0; i < NELEM(names); i++)
		cr_assert_str_eq(name_of(route_by_name(c, &la, names[i])),
		    "dflt", "case %zu: \"%s\"", i, names[i]);
	cr_assert_str_eq(name_of(route_by_name(c, &la, NULL)), "dflt");
	conf_unref(c);
}

Test(route, refuses_an_unknown_name_without_a_default, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		TLS, "sni = a.test",
		"[relay b]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.2",
		TLS, "sni = b.test",
	};
	struct conf *c = build(lines, NELEM(lines));
	struct sockaddr_storage la = addr("127.0.0.1:443");

	cr_assert_str_eq(name_of(route_by_name(c, &la, "b.test")), "b");
	cr_assert_null(route_by_name(c, &la, "c.test"));
	cr_assert_null(route_by_name(c, &la, NULL));
	conf_unref(c);
}

Test(route, gives_a_lone_section_without_sni_any_name, .timeout = 10)
{
	struct conf *c = build(shared, NELEM(shared));
	struct sockaddr_storage la = addr("[::1]:443");

	cr_assert_str_eq(name_of(route_by_name(c, &la, "a.test")), "lone");
	cr_assert_str_eq(name_of(route_by_name(c, &la, "anything.test")),
	    "lone");
	cr_assert_str_eq(name_of(route_by_name(c, &la, NULL)), "lone");
	conf_unref(c);
}

Test(route, refuses_other_names_for_a_lone_section_with_sni, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		TLS, "sni = a.test",
	};
	struct conf *c = build(lines, NELEM(lines));
	struct sockaddr_storage la = addr("127.0.0.1:443");

	cr_assert_str_eq(name_of(route_by_name(c, &la, "a.test")), "a");
	cr_assert_null(route_by_name(c, &la, "b.test"));
	cr_assert_null(route_by_name(c, &la, NULL));
	conf_unref(c);
}

Test(route, routes_no_name_on_an_address_no_section_lists, .timeout = 10)
{
	struct conf *c = build(shared, NELEM(shared));
	struct sockaddr_storage la = addr("127.0.0.1:444");
	struct route_layers lay;

	cr_assert_null(route_by_name(c, &la, "a.test"));
	cr_assert_null(route_by_name(c, &la, NULL));
	cr_assert_null(route_by_authority(c, &la, "gw.example.net", 443));
	memset(&lay, 0xa5, sizeof(lay));
	cr_assert_null(route_primary(c, &la, &lay));
	cr_assert_not(lay.tls);
	cr_assert_not(lay.proxy);
	cr_assert_not(lay.connect);
	cr_assert_eq(lay.header_max, 0);
	conf_unref(c);
}

/*
 * An exact name wins over a wildcard that also covers it, whatever the
 * order of the sections: otherwise [relay exact] below is accepted by
 * conf_layers_check() but can never be reached.
 */
Test(route, prefers_an_exact_sni_name_to_a_wildcard_in_an_earlier_section,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[relay wild]", "tls-listen = 127.0.0.1:443",
		"gateway = 192.0.2.1", TLS, "sni = *.example.com",
		"[relay exact]", "tls-listen = 127.0.0.1:443",
		"gateway = 192.0.2.2", TLS, "sni = vpn.example.com",
	};
	struct conf *c = build(lines, NELEM(lines));
	struct sockaddr_storage la = addr("127.0.0.1:443");

	cr_assert_str_eq(name_of(route_by_name(c, &la, "www.example.com")),
	    "wild");
	cr_assert_str_eq(name_of(route_by_name(c, &la, "vpn.example.com")),
	    "exact");
	conf_unref(c);
}

Test(route, starts_a_stream_in_the_default_section_with_every_layer,
    .timeout = 10)
{
	struct conf *c = build(shared, NELEM(shared));
	struct sockaddr_storage la = addr("127.0.0.1:443");
	struct route_layers lay;

	cr_assert_str_eq(name_of(route_primary(c, &la, &lay)), "dflt");
	cr_assert(lay.tls);
	cr_assert_not(lay.proxy);
	cr_assert_not(lay.connect);
	cr_assert_eq(lay.header_max, CONF_DEF_MAX_HEADER_BYTES,
	    "largest of 1k and two defaults: %zu", lay.header_max);

	la = addr("127.0.0.1:8080");
	cr_assert_str_eq(name_of(route_primary(c, &la, &lay)), "plain");
	cr_assert_not(lay.tls);
	cr_assert(lay.connect, "[relay proxy] takes CONNECT");
	cr_assert_eq(lay.header_max, 16384);
	conf_unref(c);
}

Test(route, starts_a_stream_in_the_first_section_without_a_default,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[relay a]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.1",
		"tls-cert = c", "tls-key = k",
		"sni = a.test", "proxy-protocol = yes",
		"[relay b]", "tls-listen = 127.0.0.1:443", "gateway = 192.0.2.2",
		"tls-cert = c", "tls-key = k",
		"sni = b.test", "proxy-protocol = yes",
		"max-header-bytes = 256",
	};
	struct conf *c = build(lines, NELEM(lines));
	struct sockaddr_storage la = addr("127.0.0.1:443");
	struct route_layers lay;

	cr_assert_str_eq(name_of(route_primary(c, &la, &lay)), "a");
	cr_assert(lay.tls);
	cr_assert(lay.proxy);
	cr_assert_not(lay.connect);
	cr_assert_eq(lay.header_max, CONF_DEF_MAX_HEADER_BYTES);
	conf_unref(c);
}

Test(route, routes_a_connect_target_listed_exactly, .timeout = 10)
{
	static const struct {
		const char	*laddr;
		const char	*host;		/* as the CONNECT parser gives */
		uint16_t	 port;
		const char	*want;
	} cases[] = {
		{ "127.0.0.1:8080", "gw.example.net",	443,	"proxy" },
		{ "127.0.0.1:8080", "GW.Example.NET",	443,	"proxy" },
		{ "127.0.0.1:8080", "2001:db8::1",	4500,	"proxy" },
		{ "127.0.0.1:8080", "2001:DB8::1",	4500,	"proxy" },
		{ "127.0.0.1:8081", "gw.example.net",	4500,	"other" },
		/* wrong port */
		{ "127.0.0.1:8080", "gw.example.net",	4500,	"(none)" },
		{ "127.0.0.1:8080", "gw.example.net",	0,	"(none)" },
		{ "127.0.0.1:8081", "gw.example.net",	443,	"(none)" },
		/* not a listed host: no suffix or prefix match */
		{ "127.0.0.1:8080", "example.net",	443,	"(none)" },
		{ "127.0.0.1:8080", "x.gw.example.net",	443,	"(none)" },
		{ "127.0.0.1:8080", "gw.example.ne",	443,	"(none)" },
		{ "127.0.0.1:8080", "",			443,	"(none)" },
		{ "127.0.0.1:8080", "[2001:db8::1]",	4500,	"(none)" },
		/* a section without http-connect, another address */
		{ "127.0.0.1:443",  "gw.example.net",	443,	"(none)" },
		{ "127.0.0.1:9",    "gw.example.net",	443,	"(none)" },
	};
	struct conf *c = build(shared, NELEM(shared));

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct sockaddr_storage la = addr(cases[i].laddr);

		cr_assert_str_eq(name_of(route_by_authority(c, &la,
		    cases[i].host, cases[i].port)), cases[i].want,
		    "case %zu: %s:%u on %s", i, cases[i].host,
		    (unsigned)cases[i].port, cases[i].laddr);
	}
	conf_unref(c);
}
