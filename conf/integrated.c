/*
 * [integrated NAME] sections: iketcpd terminates IKEv2 and ESP itself,
 * behind the same stream side as a relay (listen, TLS, CONNECT, routing).
 *
 * conf.c parses such a section as a struct conf_relay with backend
 * CONF_BACKEND_INTEGRATED and looks every key up in the relay table first;
 * what is not there (and "gateway", which an integrated section has no
 * use for) comes here, to a second sorted table searched with bsearch().
 *
 * Proposal strings are only checked for shape here; ike/ parses them at
 * start, where an unknown algorithm is refused.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/internal.h"

struct ikey {
	const char	*name;
	bool		(*parse)(struct conf_parser *,
			    struct conf_integrated *, const char *);
	bool		 repeatable;
};

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * strongSwan's form, as far as this file checks it: proposals separated by
 * ',' with blanks allowed around each, each of algorithm tokens separated
 * by '-', each token letters and digits.
 * "aes256gcm16-prfsha384-ecp384, aes128-sha256-modp3072".  The algorithms
 * themselves are checked by ike/proposal.c when the section is set up.
 */
static bool
is_proposal_list(const char *s)
{
	enum { NEXT, TOKEN, GAP, DASH } st = NEXT;

	for (; *s != '\0'; s++) {
		if (is_alnum(*s) && st != GAP)
			st = TOKEN;
		else if (*s == '-' && st == TOKEN)
			st = DASH;
		else if (*s == ',' && (st == TOKEN || st == GAP))
			st = NEXT;
		else if (is_blank(*s) && st != DASH)
			st = st == NEXT ? NEXT : GAP;
		else
			return false;
	}
	return st == TOKEN || st == GAP;
}

/* MODP groups 2 and 5 (RFC 8247 §2.4): only with allow-weak-dh = yes. */
static const char *const weak_groups[] = { "modp1024", "modp1536" };

/* The first weak group named in the list @s, or NULL. */
static const char *
weak_group_in(const char *s)
{
	while (*s != '\0') {
		size_t len = strcspn(s, "-, \t");

		for (size_t i = 0; i < sizeof(weak_groups) /
		    sizeof(weak_groups[0]); i++)
			if (len == strlen(weak_groups[i]) &&
			    strncmp(s, weak_groups[i], len) == 0)
				return weak_groups[i];
		s += len;
		s += strspn(s, "-, \t");
	}
	return NULL;
}

static bool
parse_proposals(struct conf_parser *p, const char *key, const char *v,
    char *out, unsigned *line)
{
	size_t len = strlen(v);

	if (len >= CONF_PROPOSALS_MAX || !is_proposal_list(v)) {
		conf_err(p, "bad %s \"%s\": want proposals such as "
		    "aes256gcm16-prfsha384-ecp384, separated by ','", key, v);
		return false;
	}
	memcpy(out, v, len + 1);
	*line = p->lineno;
	return true;
}

static bool
parse_ike_proposals(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	return parse_proposals(p, "ike-proposals", v, ci->ike_proposals,
	    &ci->ike_proposals_line);
}

static bool
parse_esp_proposals(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	return parse_proposals(p, "esp-proposals", v, ci->esp_proposals,
	    &ci->esp_proposals_line);
}

static bool
parse_allow_weak_dh(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	if (!conf_parse_bool(v, &ci->allow_weak_dh)) {
		conf_err(p, "bad allow-weak-dh \"%s\": want yes or no", v);
		return false;
	}
	return true;
}

static bool
parse_path(struct conf_parser *p, const char *key, const char *v, char *out)
{
	size_t len = strlen(v);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < ' ' || v[i] == 0x7f) {
			conf_err(p, "bad %s \"%s\": control character", key, v);
			return false;
		}
	if (len == 0 || len >= CONF_PATH_MAX) {
		conf_err(p, "bad %s \"%s\": want a file name of 1 to %d "
		    "characters", key, v, CONF_PATH_MAX - 1);
		return false;
	}
	memcpy(out, v, len + 1);
	return true;
}

static bool
parse_secrets(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	return parse_path(p, "secrets", v, ci->secrets);
}

static bool
parse_cert(struct conf_parser *p, struct conf_integrated *ci, const char *v)
{
	return parse_path(p, "cert", v, ci->cert);
}

static bool
parse_key(struct conf_parser *p, struct conf_integrated *ci, const char *v)
{
	return parse_path(p, "key", v, ci->key);
}

static bool
parse_ca(struct conf_parser *p, struct conf_integrated *ci, const char *v)
{
	return parse_path(p, "ca", v, ci->ca);
}

static bool
parse_crl(struct conf_parser *p, struct conf_integrated *ci, const char *v)
{
	if (ci->ncrl == CONF_CRL_MAX) {
		conf_err(p, "crl \"%s\": more than %d crl lines", v,
		    CONF_CRL_MAX);
		return false;
	}
	if (!parse_path(p, "crl", v, ci->crl[ci->ncrl]))
		return false;
	if (ci->ncrl++ == 0)
		ci->crl_line = p->lineno;
	return true;
}

bool
conf_parse_cidr(const char *s, struct conf_cidr *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned plen, bits;
	size_t hlen;
	struct conf_cidr c;

	memset(&c, 0, sizeof(c));
	if (slash == NULL || strlen(s) >= sizeof(c.text))
		return false;
	hlen = (size_t)(slash - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, c.addr) == 1) {
		c.family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, host, c.addr) == 1) {
		c.family = AF_INET6;
		bits = 128;
	} else
		return false;
	/* No leading zeros or signs: "10.0.0.0/024" is a typo. */
	if (slash[1] == '0' && slash[2] != '\0')
		return false;
	if (!conf_parse_uint(slash + 1, &plen) || plen > bits)
		return false;
	/* Host bits must be zero, so the text says what is meant. */
	for (unsigned b = plen; b < bits; b++)
		if (c.addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	c.plen = plen;
	memcpy(c.text, s, strlen(s) + 1);
	*out = c;
	return true;
}

/* An address pool needs a network, a gateway address and one client. */
static bool
parse_pool(struct conf_parser *p, struct conf_integrated *ci, const char *v)
{
	struct conf_cidr c;
	struct conf_cidr *slot;

	if (!conf_parse_cidr(v, &c) ||
	    c.plen > (c.family == AF_INET ? 30u : 126u)) {
		conf_err(p, "bad pool \"%s\": want ADDR/LEN with the host "
		    "bits zero, at most /30 (IPv4) or /126 (IPv6)", v);
		return false;
	}
	slot = c.family == AF_INET ? &ci->pool4 : &ci->pool6;
	if (slot->family != 0) {
		conf_err(p, "pool \"%s\": a second IPv%d pool (one per "
		    "address family)", v, c.family == AF_INET ? 4 : 6);
		return false;
	}
	*slot = c;
	return true;
}

static bool
parse_dns(struct conf_parser *p, struct conf_integrated *ci, const char *v)
{
	struct conf_cidr c;
	char buf[CONF_CIDR_TEXT_MAX + 8];

	if (ci->ndns == CONF_DNS_MAX) {
		conf_err(p, "dns \"%s\": more than %d dns lines", v,
		    CONF_DNS_MAX);
		return false;
	}
	/* An address only; parsed as a host prefix. */
	snprintf(buf, sizeof(buf), "%s/%s", v, strchr(v, ':') ? "128" : "32");
	if (strchr(v, '/') != NULL || strlen(v) >= CONF_CIDR_TEXT_MAX - 4 ||
	    !conf_parse_cidr(buf, &c)) {
		conf_err(p, "bad dns \"%s\": want an IPv4 or IPv6 address", v);
		return false;
	}
	memcpy(c.text, v, strlen(v) + 1);
	ci->dns[ci->ndns++] = c;
	return true;
}

static bool
parse_local_ts(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	if (ci->nlocal_ts == CONF_TS_MAX) {
		conf_err(p, "local-ts \"%s\": more than %d local-ts lines", v,
		    CONF_TS_MAX);
		return false;
	}
	if (!conf_parse_cidr(v, &ci->local_ts[ci->nlocal_ts])) {
		conf_err(p, "bad local-ts \"%s\": want ADDR/LEN with the host "
		    "bits zero, such as 0.0.0.0/0 or 192.0.2.0/24", v);
		return false;
	}
	ci->nlocal_ts++;
	return true;
}

/* Linux interface names: 1 to 15 bytes, no '/', blank or ':'. */
static bool
parse_tun(struct conf_parser *p, struct conf_integrated *ci, const char *v)
{
	size_t len = strlen(v);
	bool ok = len > 0 && len < CONF_TUN_MAX && strcmp(v, ".") != 0 &&
	    strcmp(v, "..") != 0;

	for (size_t i = 0; ok && i < len; i++)
		ok = is_alnum(v[i]) || v[i] == '-' || v[i] == '_' ||
		    v[i] == '.';
	if (!ok) {
		conf_err(p, "bad tun \"%s\": want an interface name of 1 to "
		    "%d letters, digits, '-', '_' or '.'", v, CONF_TUN_MAX - 1);
		return false;
	}
	memcpy(ci->tun, v, len + 1);
	return true;
}

static bool
parse_replay_window(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	unsigned n;

	if (!conf_parse_uint(v, &n) || n < CONF_REPLAY_WINDOW_MIN ||
	    n > CONF_REPLAY_WINDOW_MAX) {
		conf_err(p, "bad replay-window \"%s\": want a number of "
		    "packets from %d to %d", v, CONF_REPLAY_WINDOW_MIN,
		    CONF_REPLAY_WINDOW_MAX);
		return false;
	}
	ci->replay_window = n;
	return true;
}

static bool
parse_dpd_delay(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	return conf_key_ms(p, "dpd-delay", v, 0, &ci->dpd_delay_ms);
}

static bool
parse_dpd_timeout(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	return conf_key_ms(p, "dpd-timeout", v, 1000, &ci->dpd_timeout_ms);
}

static bool
parse_eap(struct conf_parser *p, struct conf_integrated *ci, const char *v)
{
	if (strcmp(v, "no") == 0)
		ci->eap = CONF_EAP_NO;
	else if (strcmp(v, "mschapv2") == 0)
		ci->eap = CONF_EAP_MSCHAPV2;
	else if (strcmp(v, "radius") == 0)
		ci->eap = CONF_EAP_RADIUS;
	else {
		conf_err(p, "bad eap \"%s\": want mschapv2, radius or no",
		    v);
		return false;
	}
	return true;
}

static bool
parse_eap_timeout(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	return conf_key_ms(p, "eap-timeout", v, 1000, &ci->eap_timeout_ms);
}

static bool
parse_ike_lifetime(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	return conf_key_ms(p, "ike-lifetime", v, 1000, &ci->ike_lifetime_ms);
}

static bool
parse_child_lifetime(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	return conf_key_ms(p, "child-lifetime", v, 1000,
	    &ci->child_lifetime_ms);
}

static bool
parse_cookie_threshold(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	unsigned n;

	if (!conf_parse_uint(v, &n)) {
		conf_err(p, "bad cookie-threshold \"%s\": want a whole number "
		    "of half-open IKE SAs (0: always)", v);
		return false;
	}
	ci->cookie_threshold = n;
	return true;
}

/*
 * The largest IP datagram that carries one of our RFC 7383 fragments
 * (IP and UDP headers and the Non-ESP marker included, as strongSwan's
 * fragment_size counts it); 0 turns IKE fragmentation off.  Below 576
 * (RFC 791: the datagram every IPv4 host takes) there is no point.
 */
static bool
parse_ike_fragment_size(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	unsigned n;

	if (!conf_parse_uint(v, &n) || (n != 0 &&
	    (n < CONF_IKE_FRAGMENT_SIZE_MIN ||
	    n > CONF_IKE_FRAGMENT_SIZE_MAX))) {
		conf_err(p, "bad ike-fragment-size \"%s\": want 0 (off) or "
		    "%d to %d octets of an IP datagram", v,
		    CONF_IKE_FRAGMENT_SIZE_MIN, CONF_IKE_FRAGMENT_SIZE_MAX);
		return false;
	}
	ci->ike_fragment_size = n;
	return true;
}

/* An FQDN as an identity: labels of letters, digits and '-'. */
static bool
is_fqdn(const char *s)
{
	size_t label = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (is_alnum(*s) || *s == '-')
			label++;
		else
			return false;
	}
	return label > 0;
}

static bool
is_keyid(const char *s)
{
	size_t n = 0;

	if (*s == '#')
		s++;
	for (; is_hex(s[n]); n++)
		;
	return n > 0 && n % 2 == 0 && s[n] == '\0';
}

/*
 * Our identity (RFC 7296 §3.5): "fqdn:", "email:", "ipv4:", "ipv6:", "dn:"
 * or "keyid:" followed by the value, or the value alone, whose type is
 * then guessed: an address, text with '=' (a DN), with '@' (an email), or
 * else an FQDN.
 */
static bool
parse_id(struct conf_parser *p, struct conf_integrated *ci, const char *v)
{
	static const struct {
		const char	*prefix;
		enum conf_id_type type;
	} prefixes[] = {
		{ "dn:",	CONF_ID_DN },
		{ "email:",	CONF_ID_EMAIL },
		{ "fqdn:",	CONF_ID_FQDN },
		{ "ipv4:",	CONF_ID_IPV4 },
		{ "ipv6:",	CONF_ID_IPV6 },
		{ "keyid:",	CONF_ID_KEYID },
	};
	uint8_t a[16];
	const char *val = v, *why = NULL;
	enum conf_id_type type = CONF_ID_FQDN;
	bool typed = false;
	size_t len;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i].prefix);

		if (strncmp(v, prefixes[i].prefix, n) == 0) {
			val = v + n;
			type = prefixes[i].type;
			typed = true;
			break;
		}
	}
	if (!typed) {
		if (inet_pton(AF_INET, v, a) == 1)
			type = CONF_ID_IPV4;
		else if (inet_pton(AF_INET6, v, a) == 1)
			type = CONF_ID_IPV6;
		else if (strchr(v, '=') != NULL)
			type = CONF_ID_DN;
		else if (strchr(v, '@') != NULL)
			type = CONF_ID_EMAIL;
		else
			type = CONF_ID_FQDN;
	}
	len = strlen(val);
	for (size_t i = 0; i < len && why == NULL; i++)
		if ((unsigned char)val[i] < ' ' || val[i] == 0x7f)
			why = "control character";
	if (why != NULL)
		;
	else if (len == 0 || len >= CONF_ID_MAX)
		why = "want 1 to 255 characters";
	else if (type == CONF_ID_IPV4 && inet_pton(AF_INET, val, a) != 1)
		why = "not an IPv4 address";
	else if (type == CONF_ID_IPV6 && inet_pton(AF_INET6, val, a) != 1)
		why = "not an IPv6 address";
	else if (type == CONF_ID_FQDN && !is_fqdn(val))
		why = "not a DNS name (letters, digits, '-' and '.')";
	else if (type == CONF_ID_EMAIL && (strchr(val, '@') == NULL ||
	    strpbrk(val, " \t") != NULL))
		why = "not an email address (user@domain, no blanks)";
	else if (type == CONF_ID_DN && strchr(val, '=') == NULL)
		why = "not a DN (such as \"C=CH, O=example, CN=vpn\")";
	else if (type == CONF_ID_KEYID && !is_keyid(val))
		why = "want an even number of hex digits after keyid:";
	if (why != NULL) {
		conf_err(p, "bad id \"%s\": %s", v, why);
		return false;
	}
	ci->id_type = type;
	memcpy(ci->id, val, len + 1);
	ci->id_line = p->lineno;
	return true;
}

/*
 * The connector's key and form (conf/connector.c): UDP 500 carries bare
 * IKE, any other port the port-4500 form (RFC 3948 §2).
 */
static bool
parse_udp_listen(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	if (ci->nudp_listen == CONF_LISTEN_MAX) {
		conf_err(p, "udp-listen \"%s\": more than %d udp-listen lines",
		    v, CONF_LISTEN_MAX);
		return false;
	}
	if (!conf_parse_addr(v, 0, true, &ci->udp_listen[ci->nudp_listen])) {
		conf_err(p, "bad udp-listen \"%s\": want ADDR:PORT, "
		    "[V6ADDR]:PORT or *:PORT with a numeric address", v);
		return false;
	}
	ci->nudp_listen++;
	return true;
}

/* yes: UDP clients are told we are behind a NAT, so that they put ESP
 * in UDP even where there is none (ESP in UDP is all we take). */
static bool
parse_udp_encap(struct conf_parser *p, struct conf_integrated *ci,
    const char *v)
{
	if (!conf_parse_bool(v, &ci->udp_encap)) {
		conf_err(p, "bad udp-encap \"%s\": want yes or no", v);
		return false;
	}
	return true;
}

/* Sorted by strcmp(): looked up with bsearch(). */
static const struct ikey integrated_keys[] = {
	{ "allow-weak-dh",	parse_allow_weak_dh,	false },
	{ "ca",			parse_ca,		false },
	{ "cert",		parse_cert,		false },
	{ "child-lifetime",	parse_child_lifetime,	false },
	{ "cookie-threshold",	parse_cookie_threshold,	false },
	{ "crl",		parse_crl,		true },
	{ "dns",		parse_dns,		true },
	{ "dpd-delay",		parse_dpd_delay,	false },
	{ "dpd-timeout",	parse_dpd_timeout,	false },
	{ "eap",		parse_eap,		false },
	{ "eap-timeout",	parse_eap_timeout,	false },
	{ "esp-proposals",	parse_esp_proposals,	false },
	{ "id",			parse_id,		false },
	{ "ike-fragment-size",	parse_ike_fragment_size, false },
	{ "ike-lifetime",	parse_ike_lifetime,	false },
	{ "ike-proposals",	parse_ike_proposals,	false },
	{ "key",		parse_key,		false },
	{ "local-ts",		parse_local_ts,		true },
	{ "pool",		parse_pool,		true },
	{ "radius-nas-identifier", conf_key_radius_nas_id, false },
	{ "radius-retries",	conf_key_radius_retries, false },
	{ "radius-secret-file",	conf_key_radius_secret_file, false },
	{ "radius-server",	conf_key_radius_server,	true },
	{ "radius-timeout",	conf_key_radius_timeout, false },
	{ "replay-window",	parse_replay_window,	false },
	{ "secrets",		parse_secrets,		false },
	{ "tun",		parse_tun,		false },
	{ "udp-encap",		parse_udp_encap,	false },
	{ "udp-listen",		parse_udp_listen,	true },
};

enum {
	NKEYS = sizeof(integrated_keys) / sizeof(integrated_keys[0]),
};

static int
ikeycmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ikey *)elem)->name);
}

int
conf_integrated_section(struct conf_parser *p)
{
	struct conf_integrated *ci;

	for (size_t i = 1; i < NKEYS; i++)
		assert(strcmp(integrated_keys[i - 1].name,
		    integrated_keys[i].name) < 0);
	if ((ci = calloc(1, sizeof(*ci))) == NULL) {
		conf_err(p, "out of memory");
		return -1;
	}
	memcpy(ci->ike_proposals, CONF_DEF_IKE_PROPOSALS,
	    sizeof(CONF_DEF_IKE_PROPOSALS));
	memcpy(ci->esp_proposals, CONF_DEF_ESP_PROPOSALS,
	    sizeof(CONF_DEF_ESP_PROPOSALS));
	memcpy(ci->tun, CONF_DEF_TUN, sizeof(CONF_DEF_TUN));
	ci->replay_window = CONF_DEF_REPLAY_WINDOW;
	ci->dpd_delay_ms = CONF_DEF_DPD_DELAY_MS;
	ci->dpd_timeout_ms = CONF_DEF_DPD_TIMEOUT_MS;
	ci->ike_lifetime_ms = CONF_DEF_IKE_LIFETIME_MS;
	ci->child_lifetime_ms = CONF_DEF_CHILD_LIFETIME_MS;
	ci->cookie_threshold = CONF_DEF_COOKIE_THRESHOLD;
	ci->eap_timeout_ms = CONF_DEF_EAP_TIMEOUT_MS;
	ci->ike_fragment_size = CONF_DEF_IKE_FRAGMENT_SIZE;
	conf_radius_defaults(ci);
	p->cur->integ = ci;
	p->iseen = 0;
	p->section = CONF_SEC_INTEGRATED;
	return 0;
}

int
conf_integrated_key(struct conf_parser *p, const char *key, const char *val)
{
	const struct ikey *k;
	uint64_t bit;

	if (strcmp(key, "gateway") == 0) {
		conf_err(p, "gateway in [integrated %s]: an integrated "
		    "section is the gateway itself", p->cur->name);
		return -1;
	}
	k = bsearch(key, integrated_keys, NKEYS, sizeof(integrated_keys[0]),
	    ikeycmp);
	if (k == NULL) {
		conf_err(p, "unknown key \"%s\" in [integrated] section", key);
		return -1;
	}
	bit = 1ull << (k - integrated_keys);
	if (!k->repeatable && (p->iseen & bit)) {
		conf_err(p, "duplicate key \"%s\" in [integrated %s]", key,
		    p->cur->name);
		return -1;
	}
	p->iseen |= bit;
	return k->parse(p, p->cur->integ, val) ? 0 : -1;
}

/* Do prefixes @a and @b share any address? */
static bool
cidr_overlap(const struct conf_cidr *a, const struct conf_cidr *b)
{
	unsigned plen = a->plen < b->plen ? a->plen : b->plen;

	if (a->family != b->family || a->family == 0)
		return false;
	for (unsigned i = 0; i < plen; i++) {
		uint8_t m = 0x80 >> (i % 8);

		if ((a->addr[i / 8] & m) != (b->addr[i / 8] & m))
			return false;
	}
	return true;
}

/* A weak group in @list without allow-weak-dh = yes. */
static void
check_weak(struct conf_parser *p, const struct conf_relay *r,
    const char *key, const char *list, unsigned line)
{
	const char *g;

	if (r->integ->allow_weak_dh || (g = weak_group_in(list)) == NULL)
		return;
	conf_err_at(p, line, "[integrated %s]: %s names %s, a weak group "
	    "(RFC 8247): add allow-weak-dh = yes to accept it from old "
	    "clients", r->name, key, g);
}

static void
check_one(struct conf_parser *p, const struct conf_relay *r)
{
	const struct conf_integrated *ci = r->integ;

	if (ci->pool4.family == 0 && ci->pool6.family == 0)
		conf_err_at(p, r->line, "[integrated %s]: missing pool",
		    r->name);
	else if (ci->pool4.family == 0)
		conf_err_at(p, r->line, "[integrated %s]: an IPv6 pool needs "
		    "an IPv4 pool beside it", r->name);
	if (ci->id[0] == '\0')
		conf_err_at(p, r->line, "[integrated %s]: missing id",
		    r->name);
	if ((ci->cert[0] != '\0') != (ci->key[0] != '\0'))
		conf_err_at(p, r->line, "[integrated %s]: cert and key go "
		    "together", r->name);
	else if (ci->secrets[0] == '\0' && ci->cert[0] == '\0')
		conf_err_at(p, r->line, "[integrated %s]: missing secrets, or "
		    "cert and key", r->name);
	else if (ci->secrets[0] == '\0' && ci->ca[0] == '\0' &&
	    ci->eap != CONF_EAP_RADIUS)
		conf_err_at(p, r->line, "[integrated %s]: no way to "
		    "authenticate clients: want secrets or ca (or eap = "
		    "radius)", r->name);
	if (ci->eap == CONF_EAP_RADIUS && (ci->cert[0] == '\0' ||
	    ci->nradius_server == 0))
		conf_err_at(p, r->line, "[integrated %s]: eap = radius needs "
		    "cert and key (we authenticate with them, RFC 7296 §2.16) "
		    "and radius-server", r->name);
	if (ci->eap == CONF_EAP_MSCHAPV2 && (ci->cert[0] == '\0' ||
	    ci->secrets[0] == '\0'))
		conf_err_at(p, r->line, "[integrated %s]: eap = mschapv2 needs "
		    "cert and key (we authenticate with them, RFC 7296 §2.16) "
		    "and secrets (the users' EAP lines)", r->name);
	if (ci->ncrl > 0 && ci->ca[0] == '\0')
		conf_err_at(p, ci->crl_line, "[integrated %s]: crl without ca: "
		    "a CRL revokes client certificates, which need ca",
		    r->name);
	if (ci->child_lifetime_ms > ci->ike_lifetime_ms)
		conf_err_at(p, r->line, "[integrated %s]: child-lifetime "
		    "%ums > ike-lifetime %ums", r->name,
		    ci->child_lifetime_ms, ci->ike_lifetime_ms);
	conf_radius_check(p, r);
	check_weak(p, r, "ike-proposals", ci->ike_proposals,
	    ci->ike_proposals_line);
	check_weak(p, r, "esp-proposals", ci->esp_proposals,
	    ci->esp_proposals_line);
}

static bool
addr_eq(const struct conf_addr *a, const struct conf_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

/* @r's udp-listen addresses: each used once over every [integrated] and
 * [connector] section (@o: the earlier integrated sections, @no of them;
 * a later use is the error). */
static void
check_udp(struct conf_parser *p, const struct conf_relay *r,
    const struct conf_relay *o, size_t no)
{
	const struct conf *c = p->conf;
	const struct conf_integrated *ci = r->integ;

	for (size_t j = 0; j < ci->nudp_listen; j++) {
		const struct conf_addr *a = &ci->udp_listen[j];
		const char *dup = NULL, *kind = "integrated";

		for (size_t l = 0; l < j && dup == NULL; l++)
			if (addr_eq(a, &ci->udp_listen[l]))
				dup = r->name;
		for (size_t k = 0; k < no && dup == NULL; k++) {
			const struct conf_integrated *oi = o[k].integ;

			if (o[k].backend != CONF_BACKEND_INTEGRATED ||
			    oi == NULL)
				continue;
			for (size_t l = 0; l < oi->nudp_listen; l++)
				if (addr_eq(a, &oi->udp_listen[l]))
					dup = o[k].name;
		}
		for (size_t k = 0; k < c->nconnectors && dup == NULL; k++)
			for (size_t l = 0; l < c->connectors[k].nudp_listen;
			    l++)
				if (addr_eq(a, &c->connectors[k].udp_listen[l])) {
					dup = c->connectors[k].name;
					kind = "connector";
				}
		if (dup != NULL)
			conf_err_at(p, r->line, "[integrated %s]: udp-listen "
			    "%s already used in [%s %s]", r->name, a->text,
			    kind, dup);
	}
}

/* The pools of @r against those of an earlier section @o. */
static void
check_pools(struct conf_parser *p, const struct conf_relay *r,
    const struct conf_relay *o)
{
	const struct conf_cidr *a[2] = { &r->integ->pool4, &r->integ->pool6 };
	const struct conf_cidr *b[2] = { &o->integ->pool4, &o->integ->pool6 };

	for (size_t i = 0; i < 2; i++)
		if (cidr_overlap(a[i], b[i]))
			conf_err_at(p, r->line, "[integrated %s]: pool %s "
			    "overlaps pool %s of [integrated %s]", r->name,
			    a[i]->text, b[i]->text, o->name);
}

void
conf_integrated_finish(struct conf_parser *p)
{
	struct conf *c = p->conf;

	for (size_t i = 0; i < c->nrelays; i++) {
		struct conf_relay *r = &c->relays[i];
		struct conf_integrated *ci = r->integ;

		/* NULL only after "out of memory", already reported. */
		if (r->backend != CONF_BACKEND_INTEGRATED || ci == NULL)
			continue;
		check_one(p, r);
		check_udp(p, r, c->relays, i);
		/* Each later use is the error. */
		for (size_t k = 0; k < i; k++) {
			const struct conf_relay *o = &c->relays[k];

			if (o->backend != CONF_BACKEND_INTEGRATED ||
			    o->integ == NULL)
				continue;
			if (strcmp(ci->tun, o->integ->tun) == 0)
				conf_err_at(p, r->line, "[integrated %s]: tun "
				    "%s already used by [integrated %s]",
				    r->name, ci->tun, o->name);
			check_pools(p, r, o);
		}
		/* Everything, unless told otherwise; ::/0 with a v6 pool. */
		if (ci->nlocal_ts == 0) {
			conf_parse_cidr("0.0.0.0/0", &ci->local_ts[0]);
			ci->nlocal_ts = 1;
			if (ci->pool6.family != 0) {
				conf_parse_cidr("::/0", &ci->local_ts[1]);
				ci->nlocal_ts = 2;
			}
		}
	}
}

void
conf_integrated_free(struct conf_integrated *ci)
{
	free(ci);
}

static bool
cidr_eq(const struct conf_cidr *a, const struct conf_cidr *b)
{
	return a->family == b->family && a->plen == b->plen &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static bool
cidrs_eq(const struct conf_cidr *a, size_t na, const struct conf_cidr *b,
    size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!cidr_eq(&a[i], &b[i]))
			return false;
	return true;
}

/*
 * What the running daemon set up from these keys (a TUN, a pool, loaded
 * keys, the SAs' conf) cannot change under live IKE SAs; the secrets file
 * and cookie-threshold can.
 */
const char *
conf_integrated_fixed_diff(const struct conf_integrated *a,
    const struct conf_integrated *b)
{
	if (strcmp(a->ike_proposals, b->ike_proposals) != 0)
		return "ike-proposals";
	if (strcmp(a->esp_proposals, b->esp_proposals) != 0)
		return "esp-proposals";
	if (a->allow_weak_dh != b->allow_weak_dh)
		return "allow-weak-dh";
	if (strcmp(a->cert, b->cert) != 0)
		return "cert";
	if (strcmp(a->key, b->key) != 0)
		return "key";
	if (strcmp(a->ca, b->ca) != 0)
		return "ca";
	if ((a->secrets[0] == '\0') != (b->secrets[0] == '\0'))
		return "secrets";
	if (a->id_type != b->id_type || strcmp(a->id, b->id) != 0)
		return "id";
	if (!cidr_eq(&a->pool4, &b->pool4) || !cidr_eq(&a->pool6, &b->pool6))
		return "pool";
	if (!cidrs_eq(a->dns, a->ndns, b->dns, b->ndns))
		return "dns";
	if (!cidrs_eq(a->local_ts, a->nlocal_ts, b->local_ts, b->nlocal_ts))
		return "local-ts";
	if (strcmp(a->tun, b->tun) != 0)
		return "tun";
	if (a->udp_encap != b->udp_encap)
		return "udp-encap";
	if (a->nudp_listen != b->nudp_listen)
		return "udp-listen";
	for (size_t i = 0; i < a->nudp_listen; i++)
		if (!addr_eq(&a->udp_listen[i], &b->udp_listen[i]))
			return "udp-listen";
	if (a->replay_window != b->replay_window)
		return "replay-window";
	if (a->dpd_delay_ms != b->dpd_delay_ms)
		return "dpd-delay";
	if (a->dpd_timeout_ms != b->dpd_timeout_ms)
		return "dpd-timeout";
	if (a->ike_lifetime_ms != b->ike_lifetime_ms)
		return "ike-lifetime";
	if (a->child_lifetime_ms != b->child_lifetime_ms)
		return "child-lifetime";
	if (a->eap != b->eap)
		return "eap";
	if (a->eap_timeout_ms != b->eap_timeout_ms)
		return "eap-timeout";
	if (a->ike_fragment_size != b->ike_fragment_size)
		return "ike-fragment-size";
	return conf_radius_diff(a, b);
}
