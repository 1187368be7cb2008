/*
 * [relay] keys of the layers in front of the stream prefix: TLS, HTTP
 * CONNECT, PROXY protocol, and the names (SNI, CONNECT authority) that
 * route a stream to one of several sections sharing a listen address.
 * conf_layers_check() holds the rules that only the whole file can show.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/internal.h"

void
conf_layers_defaults(struct conf_relay *r)
{
	r->tls_min_version = CONF_TLS_1_2;
	r->tls_null = false;	/* opt-in: see iketcpd.conf(5) tls-null */
	r->max_header_bytes = CONF_DEF_MAX_HEADER_BYTES;
}

static bool
set_path(struct conf_parser *p, const char *key, const char *v, char *out)
{
	size_t len = strlen(v);

	if (len == 0 || len >= CONF_PATH_MAX) {
		conf_err(p, "bad %s \"%s\": want a file name of 1 to %d "
		    "characters", key, v, CONF_PATH_MAX - 1);
		return false;
	}
	memcpy(out, v, len + 1);
	return true;
}

static bool
set_bool(struct conf_parser *p, const char *key, const char *v, bool *out)
{
	if (!conf_parse_bool(v, out)) {
		conf_err(p, "bad %s \"%s\": want yes or no", key, v);
		return false;
	}
	return true;
}

bool
conf_key_tls_listen(struct conf_parser *p, const char *v)
{
	struct conf_relay *r = p->cur;

	if (r->ntls_listen == CONF_LISTEN_MAX) {
		conf_err(p, "tls-listen \"%s\": more than %d tls-listen lines",
		    v, CONF_LISTEN_MAX);
		return false;
	}
	if (!conf_parse_addr(v, 0, true, &r->tls_listen[r->ntls_listen])) {
		conf_err(p, "bad tls-listen \"%s\": want ADDR:PORT, "
		    "[V6ADDR]:PORT or *:PORT with a numeric address", v);
		return false;
	}
	r->ntls_listen++;
	return true;
}

bool
conf_key_tls_cert(struct conf_parser *p, const char *v)
{
	p->cur->tls_line = p->lineno;
	return set_path(p, "tls-cert", v, p->cur->tls_cert);
}

bool
conf_key_tls_key(struct conf_parser *p, const char *v)
{
	return set_path(p, "tls-key", v, p->cur->tls_key);
}

bool
conf_key_tls_chain(struct conf_parser *p, const char *v)
{
	return set_path(p, "tls-chain", v, p->cur->tls_chain);
}

bool
conf_key_tls_min_version(struct conf_parser *p, const char *v)
{
	if (strcmp(v, "1.2") == 0)
		p->cur->tls_min_version = CONF_TLS_1_2;
	else if (strcmp(v, "1.3") == 0)
		p->cur->tls_min_version = CONF_TLS_1_3;
	else {
		conf_err(p, "bad tls-min-version \"%s\": want 1.2 or 1.3", v);
		return false;
	}
	return true;
}

static bool
set_ciphers(struct conf_parser *p, const char *key, const char *v, char *out)
{
	size_t len = strlen(v);

	if (len == 0 || len >= CONF_CIPHERS_MAX) {
		conf_err(p, "bad %s \"%s\": want an OpenSSL cipher string of 1 "
		    "to %d characters", key, v, CONF_CIPHERS_MAX - 1);
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f) {
			conf_err(p, "bad %s \"%s\": blank or control "
			    "character", key, v);
			return false;
		}
	memcpy(out, v, len + 1);
	return true;
}

bool
conf_key_tls_ciphers(struct conf_parser *p, const char *v)
{
	p->cur->tls_ciphers_line = p->lineno;
	return set_ciphers(p, "tls-ciphers", v, p->cur->tls_ciphers);
}

bool
conf_key_tls_ciphersuites(struct conf_parser *p, const char *v)
{
	p->cur->tls_ciphersuites_line = p->lineno;
	return set_ciphers(p, "tls-ciphersuites", v,
	    p->cur->tls_ciphersuites);
}

bool
conf_key_tls_null(struct conf_parser *p, const char *v)
{
	return set_bool(p, "tls-null", v, &p->cur->tls_null);
}

bool
conf_key_http_connect(struct conf_parser *p, const char *v)
{
	return set_bool(p, "http-connect", v, &p->cur->http_connect);
}

bool
conf_key_proxy_protocol(struct conf_parser *p, const char *v)
{
	return set_bool(p, "proxy-protocol", v, &p->cur->proxy_protocol);
}

/* An address or a prefix; a bare address is its own /32 or /128. */
bool
conf_key_proxy_from(struct conf_parser *p, const char *v)
{
	struct conf_relay *r = p->cur;
	char buf[CONF_CIDR_TEXT_MAX];
	const char *s = v;

	if (r->nproxy_from == CONF_PROXY_FROM_MAX) {
		conf_err(p, "proxy-from \"%s\": more than %d proxy-from lines",
		    v, CONF_PROXY_FROM_MAX);
		return false;
	}
	if (strchr(v, '/') == NULL) {
		int n = snprintf(buf, sizeof(buf), "%s/%s", v,
		    strchr(v, ':') != NULL ? "128" : "32");
		if (n < 0 || (size_t)n >= sizeof(buf))
			buf[0] = '\0';
		s = buf;
	}
	if (!conf_parse_cidr(s, &r->proxy_from[r->nproxy_from])) {
		conf_err(p, "bad proxy-from \"%s\": want an address or a "
		    "prefix (ADDR/LEN, host bits zero)", v);
		return false;
	}
	r->nproxy_from++;
	return true;
}

bool
conf_cidr_match(const struct conf_cidr *c, const struct sockaddr_storage *ss)
{
	const uint8_t *a;
	int family = ss->ss_family;
	unsigned full, rest;

	if (family == AF_INET)
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)ss)->sin_addr;
	else if (family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)
		    (const void *)ss)->sin6_addr;

		a = a6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			a += 12;
		}
	} else
		return false;
	if (family != c->family)
		return false;
	full = c->plen / 8;
	rest = c->plen % 8;
	if (memcmp(a, c->addr, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ c->addr[full]) &
	    (uint8_t)(0xff00 >> rest)) == 0;
}

bool
conf_key_default(struct conf_parser *p, const char *v)
{
	return set_bool(p, "default", v, &p->cur->is_default);
}

bool
conf_key_connect_auth_file(struct conf_parser *p, const char *v)
{
	p->cur->connect_auth_line = p->lineno;
	return set_path(p, "connect-auth-file", v, p->cur->connect_auth_file);
}

bool
conf_key_max_header_bytes(struct conf_parser *p, const char *v)
{
	size_t n;

	if (!conf_parse_size(v, &n) || n < CONF_HEADER_BYTES_MIN ||
	    n > CONF_HEADER_BYTES_MAX) {
		conf_err(p, "bad max-header-bytes \"%s\": want a size from %d "
		    "to %d", v, CONF_HEADER_BYTES_MIN, CONF_HEADER_BYTES_MAX);
		return false;
	}
	p->cur->max_header_bytes = n;
	return true;
}

/*
 * A DNS name (RFC 1035 §2.3.1 letters, digits, hyphens; labels of 1..63;
 * a trailing dot is not kept), lowered; "*." in front only with @wildcard.
 */
bool
conf_parse_dns_name(const char *s, bool wildcard, char *out)
{
	size_t len = strlen(s), label = 0, i = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len >= CONF_DNS_NAME_MAX)
		return false;
	if (wildcard && len > 2 && s[0] == '*' && s[1] == '.') {
		out[0] = '*';
		out[1] = '.';
		i = 2;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if ((label == 0 && c == '-') || ++label > 63)
				return false;
		} else
			return false;
		out[i] = (char)tolower(c);
	}
	if (label == 0 || s[len - 1] == '-')
		return false;
	out[len] = '\0';
	return true;
}

/* "host:port" or "[v6]:port", port 1..65535; a host is a DNS name or a
 * numeric address. */
bool
conf_parse_authority(const char *s, struct conf_authority *out)
{
	char host[CONF_DNS_NAME_MAX];
	const char *colon, *h = s;
	struct in6_addr a6;
	unsigned long port;
	size_t hlen;
	char *end;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return false;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return false;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		return false;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return false;
	if (*s == '[') {
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return false;
		for (size_t i = 0; i < hlen; i++)
			host[i] = (char)tolower((unsigned char)host[i]);
		memcpy(out->host, host, hlen + 1);
	} else if (!conf_parse_dns_name(host, false, out->host))
		return false;	/* an IPv4 address is a valid "name" too */
	out->port = (uint16_t)port;
	return true;
}

bool
conf_key_connect_allow(struct conf_parser *p, const char *v)
{
	struct conf_relay *r = p->cur;

	if (r->nconnect_allow == CONF_ALLOW_MAX) {
		conf_err(p, "connect-allow \"%s\": more than %d connect-allow "
		    "lines", v, CONF_ALLOW_MAX);
		return false;
	}
	if (!conf_parse_authority(v, &r->connect_allow[r->nconnect_allow])) {
		conf_err(p, "bad connect-allow \"%s\": want HOST:PORT or "
		    "[V6ADDR]:PORT", v);
		return false;
	}
	r->nconnect_allow++;
	return true;
}

bool
conf_key_sni(struct conf_parser *p, const char *v)
{
	struct conf_relay *r = p->cur;

	if (r->nsni == CONF_SNI_MAX) {
		conf_err(p, "sni \"%s\": more than %d sni lines", v,
		    CONF_SNI_MAX);
		return false;
	}
	if (!conf_parse_dns_name(v, true, r->sni[r->nsni])) {
		conf_err(p, "bad sni \"%s\": want a DNS name, or *.NAME for "
		    "one more label", v);
		return false;
	}
	r->nsni++;
	return true;
}

bool
conf_sni_match(const char *pat, const char *name)
{
	const char *dot;

	if (pat[0] != '*')
		return strcasecmp(pat, name) == 0;
	/* "*.example.com" covers "a.example.com", not "a.b.example.com". */
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return false;
	return strcasecmp(pat + 1, dot) == 0;
}

static bool
same_ss(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

const struct conf_relay *
conf_relay_named(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->nrelays; i++)
		if (strcmp(c->relays[i].name, name) == 0)
			return &c->relays[i];
	return NULL;
}

bool
conf_relay_listens(const struct conf_relay *cr,
    const struct sockaddr_storage *addr, bool *tls)
{
	for (size_t i = 0; i < cr->nlisten; i++)
		if (same_ss(&cr->listen[i].ss, addr)) {
			if (tls != NULL)
				*tls = false;
			return true;
		}
	for (size_t i = 0; i < cr->ntls_listen; i++)
		if (same_ss(&cr->tls_listen[i].ss, addr)) {
			if (tls != NULL)
				*tls = true;
			return true;
		}
	return false;
}

static void
check_section(struct conf_parser *p, const struct conf_relay *r)
{
	bool any_tls = r->tls_cert[0] || r->tls_key[0] || r->tls_chain[0];
	const char *kind = conf_relay_kind(r);

	if (r->ntls_listen > 0 && (!r->tls_cert[0] || !r->tls_key[0]))
		conf_err_at(p, r->line, "[%s %s]: tls-listen needs tls-cert "
		    "and tls-key", kind, r->name);
	if (r->ntls_listen == 0 && any_tls)
		conf_err_at(p, r->line, "[%s %s]: tls-cert, tls-key or "
		    "tls-chain without tls-listen", kind, r->name);
	if (r->nsni > 0 && r->ntls_listen == 0)
		conf_err_at(p, r->line, "[%s %s]: sni without tls-listen "
		    "(a name can only choose among TLS listeners)", kind,
		    r->name);
	if (r->http_connect && r->nconnect_allow == 0)
		conf_err_at(p, r->line, "[%s %s]: http-connect = yes needs "
		    "connect-allow (CONNECT targets are an allowlist)",
		    kind, r->name);
	if (r->nproxy_from > 0 && !r->proxy_protocol)
		conf_err_at(p, r->line, "[%s %s]: proxy-from without "
		    "proxy-protocol = yes", kind, r->name);
	if (!r->http_connect && (r->nconnect_allow > 0 ||
	    r->connect_auth_file[0]))
		conf_err_at(p, r->line, "[%s %s]: connect-allow or "
		    "connect-auth-file without http-connect = yes", kind,
		    r->name);
}

/* The same proxy-from lines, in the same order. */
static bool
same_proxy_from(const struct conf_relay *a, const struct conf_relay *b)
{
	if (a->nproxy_from != b->nproxy_from)
		return false;
	for (size_t i = 0; i < a->nproxy_from; i++)
		if (a->proxy_from[i].family != b->proxy_from[i].family ||
		    a->proxy_from[i].plen != b->proxy_from[i].plen ||
		    memcmp(a->proxy_from[i].addr, b->proxy_from[i].addr,
		    sizeof(a->proxy_from[i].addr)) != 0)
			return false;
	return true;
}

/* One listen address @a (kind @tls) of section @i, against every use of
 * it before. */
static void
check_addr(struct conf_parser *p, const struct conf *c, size_t i,
    const struct conf_addr *a, bool tls)
{
	const struct conf_relay *r = &c->relays[i];
	const char *kind = conf_relay_kind(r);
	size_t sharers = 0, defaults = 0;
	bool other_tls;

	for (size_t k = 0; k < c->nrelays; k++) {
		const struct conf_relay *o = &c->relays[k];
		const char *okind = conf_relay_kind(o);

		if (!conf_relay_listens(o, &a->ss, &other_tls))
			continue;
		sharers++;
		defaults += o->is_default;
		if (k >= i)
			continue;
		if (other_tls != tls)
			conf_err_at(p, r->line, "[%s %s]: %s %s is %s in "
			    "[%s %s]", kind, r->name, tls ? "tls-listen" :
			    "listen", a->text, other_tls ? "tls-listen" :
			    "listen", okind, o->name);
		if (o->proxy_protocol != r->proxy_protocol)
			conf_err_at(p, r->line, "[%s %s]: proxy-protocol "
			    "differs from [%s %s], which shares %s",
			    kind, r->name, okind, o->name, a->text);
		if (!same_proxy_from(o, r))
			conf_err_at(p, r->line, "[%s %s]: proxy-from "
			    "differs from [%s %s], which shares %s",
			    kind, r->name, okind, o->name, a->text);
		for (size_t s = 0; s < r->nsni; s++)
			for (size_t t = 0; t < o->nsni; t++)
				if (strcmp(r->sni[s], o->sni[t]) == 0)
					conf_err_at(p, r->line, "[%s %s]: "
					    "sni %s also in [%s %s] on %s",
					    kind, r->name, r->sni[s], okind,
					    o->name, a->text);
	}
	if (r->is_default && defaults > 1)
		conf_err_at(p, r->line, "[%s %s]: more than one section "
		    "with default = yes on %s", kind, r->name, a->text);
	if (sharers > 1 && !r->is_default && r->nsni == 0 &&
	    r->nconnect_allow == 0)
		conf_err_at(p, r->line, "[%s %s]: shares %s with another "
		    "section but has no sni, connect-allow or default = yes",
		    kind, r->name, a->text);
}

void
conf_layers_check(struct conf_parser *p, const struct conf *c)
{
	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *r = &c->relays[i];
		const char *kind = conf_relay_kind(r);

		check_section(p, r);
		for (size_t j = 0; j < r->nlisten + r->ntls_listen; j++) {
			bool tls = j >= r->nlisten;
			const struct conf_addr *a = tls ?
			    &r->tls_listen[j - r->nlisten] : &r->listen[j];

			/* The same address twice in one section. */
			for (size_t k = 0; k < j; k++) {
				const struct conf_addr *b = k >= r->nlisten ?
				    &r->tls_listen[k - r->nlisten] :
				    &r->listen[k];

				if (same_ss(&a->ss, &b->ss)) {
					conf_err_at(p, r->line, "[%s %s]: "
					    "%s listed twice", kind, r->name,
					    a->text);
					break;
				}
			}
			check_addr(p, c, i, a, tls);
		}
	}
}
