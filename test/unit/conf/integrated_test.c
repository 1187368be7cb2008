/*
 * conf/integrated.c: the [integrated NAME] section, parsed with the relay
 * table plus its own.  One test per rejection rule, each checking the
 * "file:line:" it names, read back from stderr.
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

TestSuite(integrated);


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

Test(integrated, parses_a_minimal_section_with_defaults, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = /etc/iketcpd.secrets",
		"pool = 10.10.0.0/24",
	};
	struct capture cap;
	struct conf *c = parse(lines, NELEM(lines), &cap);
	const struct conf_relay *r;
	const struct conf_integrated *ci;

	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nrelays, 1);
	cr_assert(conf_has_integrated(c));
	r = &c->relays[0];
	cr_assert_eq(r->backend, CONF_BACKEND_INTEGRATED);
	cr_assert_str_eq(conf_relay_kind(r), "integrated");
	cr_assert_eq(r->max_message, CONF_DEF_MAX_MESSAGE);
	ci = r->integ;
	cr_assert_not_null(ci);
	cr_assert_eq(ci->id_type, CONF_ID_FQDN);
	cr_assert_str_eq(ci->id, "vpn.example");
	cr_assert_eq(ci->pool4.family, AF_INET);
	cr_assert_eq(ci->pool4.plen, 24);
	cr_assert_eq(ci->pool6.family, 0);
	cr_assert_str_eq(ci->ike_proposals, CONF_DEF_IKE_PROPOSALS);
	cr_assert_str_eq(ci->esp_proposals, CONF_DEF_ESP_PROPOSALS);
	cr_assert_str_eq(ci->tun, "iketcp0");
	cr_assert_eq(ci->replay_window, CONF_DEF_REPLAY_WINDOW);
	cr_assert_eq(ci->dpd_delay_ms, CONF_DEF_DPD_DELAY_MS);
	cr_assert_eq(ci->dpd_timeout_ms, CONF_DEF_DPD_TIMEOUT_MS);
	cr_assert_eq(ci->ike_lifetime_ms, CONF_DEF_IKE_LIFETIME_MS);
	cr_assert_eq(ci->child_lifetime_ms, CONF_DEF_CHILD_LIFETIME_MS);
	cr_assert_eq(ci->cookie_threshold, CONF_DEF_COOKIE_THRESHOLD);
	cr_assert_eq(ci->eap, CONF_EAP_NO);
	cr_assert_eq(ci->eap_timeout_ms, CONF_DEF_EAP_TIMEOUT_MS);
	cr_assert_eq(ci->ike_fragment_size, 1280);
	cr_assert_eq(ci->nlocal_ts, 1);
	cr_assert_str_eq(ci->local_ts[0].text, "0.0.0.0/0");
	cr_assert_eq(ci->ndns, 0);
	conf_unref(c);
}

Test(integrated, parses_every_key_beside_a_relay, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay r]",
		"listen = 127.0.0.1:4501",
		"gateway = 192.0.2.2",
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"tls-listen = 127.0.0.1:443",
		"tls-cert = /etc/tls.pem",
		"tls-key = /etc/tls.key",
		"max-message = 1500",
		"idle-timeout = 5m",
		"ike-proposals = aes256gcm16-prfsha384-ecp384,"
		    "aes128-sha256-modp3072",
		"esp-proposals = aes128gcm16-ecp256",
		"secrets = /etc/iketcpd.secrets",
		"cert = /etc/ike.pem",
		"key = /etc/ike.key",
		"ca = /etc/ca.pem",
		"id = email:vpn@example.org",
		"pool = 10.10.0.0/24",
		"pool = fd00:10::/64",
		"dns = 10.10.0.1",
		"dns = fd00:10::1",
		"local-ts = 192.0.2.0/24",
		"local-ts = ::/0",
		"tun = ike7",
		"replay-window = 4096",
		"dpd-delay = 0",
		"dpd-timeout = 90s",
		"ike-lifetime = 8h",
		"child-lifetime = 20m",
		"cookie-threshold = 0",
		"ike-fragment-size = 576",
	};
	struct capture cap;
	struct conf *c = parse(lines, NELEM(lines), &cap);
	const struct conf_integrated *ci;

	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nrelays, 2);
	cr_assert_eq(c->relays[0].backend, CONF_BACKEND_RELAY);
	cr_assert_null(c->relays[0].integ);
	ci = c->relays[1].integ;
	cr_assert_eq(c->relays[1].max_message, 1500);
	cr_assert_eq(c->relays[1].ntls_listen, 1);
	cr_assert_str_eq(ci->ike_proposals, "aes256gcm16-prfsha384-ecp384,"
	    "aes128-sha256-modp3072");
	cr_assert_str_eq(ci->esp_proposals, "aes128gcm16-ecp256");
	cr_assert_str_eq(ci->secrets, "/etc/iketcpd.secrets");
	cr_assert_str_eq(ci->cert, "/etc/ike.pem");
	cr_assert_str_eq(ci->key, "/etc/ike.key");
	cr_assert_str_eq(ci->ca, "/etc/ca.pem");
	cr_assert_eq(ci->id_type, CONF_ID_EMAIL);
	cr_assert_str_eq(ci->id, "vpn@example.org");
	cr_assert_eq(ci->pool6.family, AF_INET6);
	cr_assert_eq(ci->pool6.plen, 64);
	cr_assert_eq(ci->ndns, 2);
	cr_assert_eq(ci->dns[1].family, AF_INET6);
	cr_assert_str_eq(ci->dns[1].text, "fd00:10::1");
	cr_assert_eq(ci->nlocal_ts, 2);
	cr_assert_eq(ci->local_ts[1].plen, 0);
	cr_assert_str_eq(ci->tun, "ike7");
	cr_assert_eq(ci->replay_window, 4096);
	cr_assert_eq(ci->dpd_delay_ms, 0);
	cr_assert_eq(ci->dpd_timeout_ms, 90 * 1000);
	cr_assert_eq(ci->ike_lifetime_ms, 8 * 3600 * 1000);
	cr_assert_eq(ci->child_lifetime_ms, 20 * 60 * 1000);
	cr_assert_eq(ci->cookie_threshold, 0);
	cr_assert_eq(ci->ike_fragment_size, 576);
	conf_unref(c);
}

Test(integrated, adds_an_ipv6_selector_by_default_with_an_ipv6_pool,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = 192.0.2.1",
		"secrets = s",
		"pool = 10.10.0.0/24",
		"pool = fd00::/120",
	};
	struct capture cap;
	struct conf *c = parse(lines, NELEM(lines), &cap);
	const struct conf_integrated *ci;

	cr_assert_not_null(c, "%s", cap.text);
	ci = c->relays[0].integ;
	cr_assert_eq(ci->id_type, CONF_ID_IPV4);
	cr_assert_eq(ci->nlocal_ts, 2);
	cr_assert_str_eq(ci->local_ts[1].text, "::/0");
	conf_unref(c);
}

Test(integrated, guesses_or_takes_the_identity_type, .timeout = 10)
{
	static const struct {
		const char	*line;
		enum conf_id_type type;
		const char	*id;
	} cases[] = {
		{ "id = vpn.example", CONF_ID_FQDN, "vpn.example" },
		{ "id = fqdn:vpn", CONF_ID_FQDN, "vpn" },
		{ "id = a@b.example", CONF_ID_EMAIL, "a@b.example" },
		{ "id = 2001:db8::1", CONF_ID_IPV6, "2001:db8::1" },
		{ "id = ipv4:192.0.2.1", CONF_ID_IPV4, "192.0.2.1" },
		{ "id = C=CH, O=example, CN=vpn", CONF_ID_DN,
		    "C=CH, O=example, CN=vpn" },
		{ "id = dn:CN=vpn", CONF_ID_DN, "CN=vpn" },
		{ "id = keyid:#0a1B", CONF_ID_KEYID, "#0a1B" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *lines[] = {
			"[integrated vpn]",
			"listen = 127.0.0.1:4500",
			"secrets = s",
			"pool = 10.10.0.0/24",
			cases[i].line,
		};
		struct capture cap;
		struct conf *c = parse(lines, NELEM(lines), &cap);

		cr_assert_not_null(c, "case %zu: %s", i, cap.text);
		cr_assert_eq(c->relays[0].integ->id_type, cases[i].type,
		    "case %zu", i);
		cr_assert_str_eq(c->relays[0].integ->id, cases[i].id,
		    "case %zu", i);
		conf_unref(c);
	}
}

struct reject {
	const char	*line;		/* line 6 of the section */
	const char	*what;
	unsigned	 at;		/* line reported */
};

/* Each case: a valid section with one more line (line 6). */
static const struct reject bad_values[] = {
	{ "gateway = 192.0.2.2", "gateway in [integrated vpn]", 6 },
	{ "colour = blue", "unknown key \"colour\" in [integrated]", 6 },
	{ "id = other.example", "duplicate key \"id\" in [integrated vpn]",
	    6 },
	{ "listen = 127.0.0.1:4500", "listed twice", 1 },
	{ "udp-listen = 127.0.0.1", "bad udp-listen \"127.0.0.1\"", 6 },
	{ "udp-listen = vpn.example:500", "bad udp-listen", 6 },
	{ "udp-listen = 127.0.0.1:4500x", "bad udp-listen", 6 },
	{ "udp-encap = maybe", "bad udp-encap \"maybe\"", 6 },
	/* RFC 7383 §2.5.1: a whole IP datagram, 0 (off) or 576..65535. */
	{ "ike-fragment-size = 575", "bad ike-fragment-size \"575\": want 0 "
	    "(off) or 576 to 65535 octets of an IP datagram", 6 },
	{ "ike-fragment-size = 65536", "bad ike-fragment-size \"65536\"", 6 },
	{ "ike-fragment-size = 1280b", "bad ike-fragment-size", 6 },
	{ "ike-fragment-size = -1", "bad ike-fragment-size", 6 },
	{ "ike-fragment-size = ", "bad ike-fragment-size", 6 },
	{ "ike-proposals = aes256gcm16--ecp384", "bad ike-proposals", 6 },
	{ "ike-proposals = aes256gcm16,", "bad ike-proposals", 6 },
	{ "ike-proposals = aes_256", "bad ike-proposals", 6 },
	{ "esp-proposals = ,aes128gcm16", "bad esp-proposals", 6 },
	{ "esp-proposals = aes 128", "bad esp-proposals", 6 },
	{ "esp-proposals = aes128- sha1", "bad esp-proposals", 6 },
	{ "esp-proposals = aes128 -sha1", "bad esp-proposals", 6 },
	{ "esp-proposals = aes128gcm16, ,aes128-sha1", "bad esp-proposals",
	    6 },
	{ "allow-weak-dh = maybe", "bad allow-weak-dh \"maybe\"", 6 },
	/* Checked at the end, at the key's line, with a hint. */
	{ "ike-proposals = aes256-sha256-modp2048, aes256-sha1-modp1024",
	    "ike-proposals names modp1024, a weak group (RFC 8247): add "
	    "allow-weak-dh = yes", 6 },
	{ "esp-proposals = aes256-sha1-modp1536", "esp-proposals names "
	    "modp1536", 6 },
	{ "cert = a\tb", "bad cert", 6 },
	{ "key = \"\"", "bad key", 6 },
	{ "ca = a\x01", "bad ca", 6 },
	{ "crl = a\x01", "bad crl", 6 },
	{ "secrets = x", "duplicate key \"secrets\"", 6 },
	{ "pool = 10.10.0.0/23", "a second IPv4 pool", 6 },
	{ "pool = 10.11.0.1/24", "bad pool", 6 },
	{ "pool = 10.11.0.0/31", "bad pool", 6 },
	{ "pool = 10.11.0.0", "bad pool", 6 },
	{ "pool = 10.11.0.0/024", "bad pool", 6 },
	{ "pool = fd00::/127", "bad pool", 6 },
	{ "pool = vpn.example/24", "bad pool", 6 },
	{ "dns = 10.10.0.1/32", "bad dns", 6 },
	{ "dns = dns.example", "bad dns", 6 },
	{ "local-ts = 0.0.0.0", "bad local-ts", 6 },
	{ "local-ts = 192.0.2.1/24", "bad local-ts", 6 },
	{ "tun = ../x", "bad tun", 6 },
	{ "tun = a-very-long-name0", "bad tun", 6 },
	{ "tun = ..", "bad tun", 6 },
	{ "replay-window = 31", "bad replay-window", 6 },
	{ "replay-window = 4097", "bad replay-window", 6 },
	{ "dpd-delay = soon", "bad dpd-delay", 6 },
	{ "dpd-timeout = 999ms", "bad dpd-timeout", 6 },
	{ "ike-lifetime = 0", "bad ike-lifetime", 6 },
	{ "child-lifetime = 500ms", "bad child-lifetime", 6 },
	{ "cookie-threshold = -1", "bad cookie-threshold", 6 },
	/* Checked at the end, reported at the section header. */
	{ "child-lifetime = 5h", "child-lifetime 18000000ms > ike-lifetime",
	    1 },
	{ "cert = /etc/ike.pem", "cert and key go together", 1 },
	{ "key = /etc/ike.key", "cert and key go together", 1 },
	{ "tls-listen = 127.0.0.1:443", "tls-listen needs tls-cert", 1 },
	{ "write-buffer = 1k", "[integrated vpn]: write-buffer 1024", 1 },
	{ "eap = md5", "bad eap \"md5\": want mschapv2, radius or no", 6 },
	{ "eap-timeout = 0", "bad eap-timeout \"0\"", 6 },
	{ "eap = mschapv2", "eap = mschapv2 needs cert and key", 1 },
	{ "eap = radius", "eap = radius needs cert and key", 1 },
};

/* strongSwan's form, blanks after commas; MODP 2 and 5 with the opt-in. */
Test(integrated, takes_proposal_lists_with_blanks_and_weak_groups,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = /etc/iketcpd.secrets",
		"pool = 10.10.0.0/24",
		"ike-proposals = aes256gcm16-prfsha384-x25519, "
		    "aes256-sha1-modp1024 ,\taes256-sha256-modp1536",
		"esp-proposals = aes256gcm16,\taes256-sha1",
		"allow-weak-dh = yes",
	};
	struct capture cap;
	struct conf *c = parse(lines, NELEM(lines), &cap);
	const struct conf_integrated *ci;

	cr_assert_not_null(c, "%s", cap.text);
	ci = c->relays[0].integ;
	cr_assert(ci->allow_weak_dh);
	cr_assert_str_eq(ci->ike_proposals, "aes256gcm16-prfsha384-x25519, "
	    "aes256-sha1-modp1024 ,\taes256-sha256-modp1536");
	cr_assert_str_eq(ci->esp_proposals, "aes256gcm16,\taes256-sha1");
	conf_unref(c);
}

Test(integrated, rejects_each_bad_value_at_its_line, .timeout = 20)
{
	for (size_t i = 0; i < NELEM(bad_values); i++) {
		const char *lines[] = {
			"[integrated vpn]",
			"listen = 127.0.0.1:4500",
			"id = vpn.example",
			"secrets = /etc/iketcpd.secrets",
			"pool = 10.10.0.0/24",
			bad_values[i].line,
		};

		cr_log_info("case %zu: %s", i, bad_values[i].line);
		expect_reject(lines, NELEM(lines), bad_values[i].at,
		    bad_values[i].what);
	}
}

static const char *const bad_ids[] = {
	"id = ipv4:192.0.2",
	"id = ipv6:192.0.2.1",
	"id = fqdn:vpn..example",
	"id = fqdn:a@b",
	"id = email:nobody",
	"id = email:a b@c",
	"id = dn:CN",
	"id = keyid:0a1",
	"id = keyid:xyz",
	"id = fqdn:",
	"id = -vpn_example",
};

Test(integrated, rejects_each_bad_identity, .timeout = 20)
{
	for (size_t i = 0; i < NELEM(bad_ids); i++) {
		const char *lines[] = {
			"[integrated vpn]",
			"listen = 127.0.0.1:4500",
			"secrets = s",
			"pool = 10.10.0.0/24",
			bad_ids[i],
		};
		struct capture cap;

		cr_log_info("case %zu: %s", i, bad_ids[i]);
		cr_assert_null(parse(lines, NELEM(lines), &cap));
		cr_assert_not_null(strstr(cap.text, "t.conf:5: bad id"),
		    "case %zu: %s", i, cap.text);
	}
}

/* Required keys: each case leaves one out of a good section. */
Test(integrated, rejects_a_section_without_pool, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = s",
	};

	expect_reject(lines, NELEM(lines), 1, "missing pool");
}

/* The IPv6 pool is an addition to the IPv4 one (iketcpd.conf(5)). */
Test(integrated, rejects_an_ipv6_pool_alone, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = s",
		"pool = fd00:10::/64",
	};

	expect_reject(lines, NELEM(lines), 1,
	    "an IPv6 pool needs an IPv4 pool beside it");
}

Test(integrated, rejects_a_section_without_id, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"secrets = s",
		"pool = 10.10.0.0/24",
	};

	expect_reject(lines, NELEM(lines), 1, "missing id");
}

Test(integrated, rejects_a_section_without_credentials, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"pool = 10.10.0.0/24",
	};

	expect_reject(lines, NELEM(lines), 1, "missing secrets, or cert and "
	    "key");
}

Test(integrated, rejects_a_section_without_listen, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/24",
	};

	expect_reject(lines, NELEM(lines), 1, "[integrated vpn]: missing "
	    "listen or tls-listen or udp-listen");
}

static uint16_t
port_of(const struct conf_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)&a->ss)
		    ->sin6_port);
	return ntohs(((const struct sockaddr_in *)(const void *)&a->ss)
	    ->sin_port);
}

Test(integrated, takes_udp_listen_alone_as_its_only_listener, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"udp-listen = *:500",
		"udp-listen = [::]:4500",
		"udp-encap = yes",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/24",
	};
	struct capture cap;
	struct conf *c = parse(lines, NELEM(lines), &cap);
	const struct conf_integrated *ci;

	cr_assert_not_null(c, "%s", cap.text);
	ci = c->relays[0].integ;
	cr_assert(ci->udp_encap);
	cr_assert_eq(ci->nudp_listen, 2);
	cr_assert_eq(port_of(&ci->udp_listen[0]), 500);
	cr_assert_eq(ci->udp_listen[1].ss.ss_family, AF_INET6);
	cr_assert_eq(port_of(&ci->udp_listen[1]), 4500);
	conf_unref(c);
}

Test(integrated, rejects_a_udp_listen_used_twice, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated a]",
		"udp-listen = 127.0.0.1:4500",
		"udp-listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/24",
		"tun = t0",
	};

	expect_reject(lines, NELEM(lines), 1, "[integrated a]: udp-listen "
	    "127.0.0.1:4500 already used in [integrated a]");
}

Test(integrated, rejects_a_udp_listen_of_another_section, .timeout = 10)
{
	static const char *const lines[] = {
		"[connector c]",
		"udp-listen = 127.0.0.1:500",
		"server = 127.0.0.1:4500",
		"[integrated a]",
		"udp-listen = 127.0.0.1:500",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/24",
	};

	expect_reject(lines, NELEM(lines), 4, "[integrated a]: udp-listen "
	    "127.0.0.1:500 already used in [connector c]");
}

/* EAP: our certificate and the users' secrets, and a timeout. */
Test(integrated, parses_eap_with_a_certificate, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = /etc/iketcpd.secrets",
		"pool = 10.10.0.0/24",
		"cert = /etc/ike.pem",
		"key = /etc/ike.key",
		"eap = mschapv2",
		"eap-timeout = 45s",
	};
	struct capture cap;
	struct conf *c = parse(lines, NELEM(lines), &cap);

	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->relays[0].integ->eap, CONF_EAP_MSCHAPV2);
	cr_assert_eq(c->relays[0].integ->eap_timeout_ms, 45000);
	conf_unref(c);
}

Test(integrated, rejects_a_certificate_without_a_way_to_check_clients,
    .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"pool = 10.10.0.0/24",
		"cert = /etc/ike.pem",
		"key = /etc/ike.key",
	};
	static const char *const with_ca[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"pool = 10.10.0.0/24",
		"cert = /etc/ike.pem",
		"key = /etc/ike.key",
		"ca = /etc/ca.pem",
	};
	struct capture cap;
	struct conf *c;

	expect_reject(lines, NELEM(lines), 1, "want secrets or ca");
	c = parse(with_ca, NELEM(with_ca), &cap);
	cr_assert_not_null(c, "%s", cap.text);
	conf_unref(c);
}

Test(integrated, rejects_a_tun_used_twice, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated a]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/24",
		"[integrated b]",
		"listen = 127.0.0.1:4501",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.11.0.0/24",
	};

	expect_reject(lines, NELEM(lines), 6, "tun iketcp0 already used by "
	    "[integrated a]");
}

Test(integrated, rejects_overlapping_pools, .timeout = 10)
{
	static const char *const v4[] = {
		"[integrated a]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/16",
		"tun = a0",
		"[integrated b]",
		"listen = 127.0.0.1:4501",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.8.0/24",
		"tun = b0",
	};
	static const char *const v6[] = {
		"[integrated a]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = s",
		"pool = fd00::/64",
		"pool = 10.11.0.0/24",
		"tun = a0",
		"[integrated b]",
		"listen = 127.0.0.1:4501",
		"id = vpn.example",
		"secrets = s",
		"pool = fd00::/48",
		"pool = 10.10.0.0/24",
		"tun = b0",
	};
	static const char *const apart[] = {
		"[integrated a]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/24",
		"tun = a0",
		"[integrated b]",
		"listen = 127.0.0.1:4501",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.1.0/24",
		"tun = b0",
	};
	struct capture cap;
	struct conf *c;

	expect_reject(v4, NELEM(v4), 7, "pool 10.10.8.0/24 overlaps pool "
	    "10.10.0.0/16 of [integrated a]");
	expect_reject(v6, NELEM(v6), 8, "pool fd00::/48 overlaps pool "
	    "fd00::/64 of [integrated a]");
	c = parse(apart, NELEM(apart), &cap);
	cr_assert_not_null(c, "%s", cap.text);
	conf_unref(c);
}

Test(integrated, rejects_a_name_shared_with_a_relay, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay vpn]",
		"listen = 127.0.0.1:4501",
		"gateway = 192.0.2.2",
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/24",
	};

	expect_reject(lines, NELEM(lines), 4, "integrated name \"vpn\" "
	    "already used by [relay vpn] at line 1");
}

Test(integrated, rejects_a_duplicate_name, .timeout = 10)
{
	static const char *const lines[] = {
		"[integrated a]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/24",
		"tun = a0",
		"[integrated a]",
		"listen = 127.0.0.1:4501",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.11.0.0/24",
		"tun = a1",
	};

	expect_reject(lines, NELEM(lines), 7, "duplicate integrated name "
	    "\"a\", first at line 1");
}

Test(integrated, rejects_bad_names, .timeout = 10)
{
	static const char *const two[] = { "[integrated a b]" };
	static const char *const chars[] = { "[integrated a/b]" };
	static const char *const none[] = { "[integrated]" };

	expect_reject(two, 1, 1, "want one word");
	expect_reject(chars, 1, 1, "bad integrated name");
	expect_reject(none, 1, 1, "want 1 to");
}

Test(integrated, shares_listen_checks_with_relays, .timeout = 10)
{
	static const char *const lines[] = {
		"[relay r]",
		"listen = 127.0.0.1:4500",
		"gateway = 192.0.2.2",
		"default = yes",
		"[integrated vpn]",
		"tls-listen = 127.0.0.1:4500",
		"tls-cert = /etc/tls.pem",
		"tls-key = /etc/tls.key",
		"id = vpn.example",
		"secrets = s",
		"pool = 10.10.0.0/24",
		"sni = vpn.example",
	};

	expect_reject(lines, NELEM(lines), 5, "[integrated vpn]: tls-listen "
	    "127.0.0.1:4500 is listen in [relay r]");
}

Test(integrated, rejects_too_many_dns_and_local_ts_lines, .timeout = 10)
{
	const char *lines[5 + CONF_TS_MAX + 1];
	char ts[CONF_TS_MAX + 1][32];
	size_t n = 0;

	lines[n++] = "[integrated vpn]";
	lines[n++] = "listen = 127.0.0.1:4500";
	lines[n++] = "id = vpn.example";
	lines[n++] = "secrets = s";
	lines[n++] = "pool = 10.10.0.0/24";
	for (size_t i = 0; i <= CONF_TS_MAX; i++) {
		snprintf(ts[i], sizeof(ts[i]), "local-ts = 10.%zu.0.0/16", i);
		lines[n++] = ts[i];
	}
	expect_reject(lines, n, (unsigned)n, "more than 16 local-ts lines");

	n = 5;
	for (size_t i = 0; i <= CONF_DNS_MAX; i++) {
		snprintf(ts[i], sizeof(ts[i]), "dns = 10.10.0.%zu", i + 1);
		lines[n++] = ts[i];
	}
	expect_reject(lines, n, (unsigned)n, "more than 4 dns lines");
}

Test(integrated, takes_crl_lines_with_ca_only, .timeout = 10)
{
	const char *lines[7 + CONF_CRL_MAX + 1];
	char crl[CONF_CRL_MAX + 1][32];
	struct capture cap;
	struct conf *a, *b;
	size_t n = 0;

	lines[n++] = "[integrated vpn]";
	lines[n++] = "listen = 127.0.0.1:4500";
	lines[n++] = "id = vpn.example";
	lines[n++] = "secrets = s";
	lines[n++] = "pool = 10.10.0.0/24";
	lines[n++] = "crl = /etc/a.crl";
	/* Without ca: the first crl line is named. */
	expect_reject(lines, n, 6, "[integrated vpn]: crl without ca");
	lines[n++] = "ca = /etc/ca.pem";
	a = parse(lines, n, &cap);
	cr_assert_not_null(a, "%s", cap.text);
	cr_assert_eq(a->relays[0].integ->ncrl, 1);
	cr_assert_str_eq(a->relays[0].integ->crl[0], "/etc/a.crl");
	n = 5;
	lines[n++] = "ca = /etc/ca.pem";
	for (size_t i = 0; i <= CONF_CRL_MAX; i++) {
		snprintf(crl[i], sizeof(crl[i]), "crl = /etc/%zu.crl", i);
		lines[n++] = crl[i];
	}
	expect_reject(lines, n, (unsigned)n, "more than 8 crl lines");
	/* CRLs are read again on SIGHUP: their list may change. */
	b = parse(lines, n - 1, &cap);
	cr_assert_not_null(b, "%s", cap.text);
	cr_assert_eq(b->relays[0].integ->ncrl, CONF_CRL_MAX);
	cr_assert_str_eq(b->relays[0].integ->crl[7], "/etc/7.crl");
	cr_assert_null(conf_integrated_fixed_diff(a->relays[0].integ,
	    b->relays[0].integ));
	conf_unref(a);
	conf_unref(b);
}

Test(integrated, parses_prefixes, .timeout = 10)
{
	static const struct {
		const char	*text;
		bool		 ok;
		unsigned	 plen;
	} cases[] = {
		{ "0.0.0.0/0", true, 0 },
		{ "10.0.0.0/8", true, 8 },
		{ "192.0.2.7/32", true, 32 },
		{ "::/0", true, 0 },
		{ "fd00::/8", true, 8 },
		{ "10.0.0.0/33", false, 0 },
		{ "fd00::/129", false, 0 },
		{ "10.0.0.1/8", false, 0 },
		{ "10.0.0.0/", false, 0 },
		{ "/8", false, 0 },
		{ "10.0.0.0/+8", false, 0 },
		{ "10.0.0/8", false, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct conf_cidr c;
		bool ok = conf_parse_cidr(cases[i].text, &c);

		cr_assert_eq(ok, cases[i].ok, "case %zu: %s", i,
		    cases[i].text);
		if (ok)
			cr_assert_eq(c.plen, cases[i].plen, "case %zu", i);
	}
}

Test(integrated, loads_the_sample_configuration, .timeout = 10)
{
	struct conf *c;

	/* The runner starts in the top of the tree, as `make unit` does. */
	c = conf_load("conf/integrated.conf");
	cr_assert_not_null(c, "conf/integrated.conf must load");
	cr_assert_eq(c->nrelays, 1);
	cr_assert_eq(c->relays[0].backend, CONF_BACKEND_INTEGRATED);
	cr_assert_eq(c->relays[0].nlisten, 2);
	cr_assert_str_eq(c->relays[0].integ->pool4.text, "10.10.0.0/24");
	cr_assert_eq(c->relays[0].integ->ndns, 1);
	conf_unref(c);
}

/* SIGHUP: which keys are fixed at start, and which may change. */
Test(integrated, names_the_first_start_only_key_that_changed, .timeout = 10)
{
	static const char *const base[] = {
		"[integrated vpn]",
		"listen = 127.0.0.1:4500",
		"id = vpn.example",
		"secrets = /etc/iketcpd.secrets",
		"pool = 10.10.0.0/24",
		"cookie-threshold = 5",
	};
	static const struct {
		const char *line;	/* replaces or adds to base; '+': adds */
		const char *key;	/* NULL: may change */
	} cases[] = {
		{ "secrets = /etc/other.secrets", NULL },
		{ "cookie-threshold = 50", NULL },
		{ "listen = 127.0.0.2:4500", NULL },
		{ "idle-timeout = 1m", NULL },
		{ "pool = 10.20.0.0/24", "pool" },
		{ "+pool = fd00:1::/64", "pool" },
		{ "id = other.example", "id" },
		{ "id = email:vpn@example", "id" },
		{ "ike-proposals = aes128gcm16-prfsha256-x25519",
		    "ike-proposals" },
		{ "esp-proposals = chacha20poly1305", "esp-proposals" },
		{ "dns = 10.10.0.1", "dns" },
		{ "local-ts = 10.0.0.0/8", "local-ts" },
		{ "tun = iketcp7", "tun" },
		{ "replay-window = 64", "replay-window" },
		{ "dpd-delay = 5s", "dpd-delay" },
		{ "dpd-timeout = 5s", "dpd-timeout" },
		{ "ike-lifetime = 2h", "ike-lifetime" },
		{ "child-lifetime = 2h", "child-lifetime" },
		{ "ca = /etc/ca.pem", "ca" },
		{ "allow-weak-dh = yes", "allow-weak-dh" },
		{ "ike-fragment-size = 1400", "ike-fragment-size" },
	};
	struct capture cap;
	struct conf *a = parse(base, NELEM(base), &cap);

	cr_assert_not_null(a, "%s", cap.text);
	cr_assert_null(conf_integrated_fixed_diff(a->relays[0].integ,
	    a->relays[0].integ));
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *lines[NELEM(base) + 1];
		const char *d, *line = cases[i].line;
		struct conf *b;
		size_t n = NELEM(base), k = n;

		memcpy(lines, base, sizeof(base));
		/* The same key replaces its line; a new key is added. */
		if (line[0] == '+')
			line++;
		else
			for (k = 1; k < n; k++)
				if (strncmp(lines[k], line,
				    strcspn(line, " ")) == 0 &&
				    strcspn(lines[k], " ") ==
				    strcspn(line, " "))
					break;
		lines[k] = line;
		if (k == n)
			n++;
		b = parse(lines, n, &cap);
		cr_assert_not_null(b, "%s: %s", cases[i].line, cap.text);
		d = conf_integrated_fixed_diff(a->relays[0].integ,
		    b->relays[0].integ);
		if (cases[i].key == NULL)
			cr_assert_null(d, "%s: %s", cases[i].line, d);
		else
			cr_assert(d != NULL && strcmp(d, cases[i].key) == 0,
			    "%s: got %s", cases[i].line, d ? d : "NULL");
		conf_unref(b);
	}
	conf_unref(a);
}
