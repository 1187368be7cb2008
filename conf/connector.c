/*
 * [connector NAME] sections: the client-side role, which stands in for
 * the gateway on local UDP and carries each initiator's traffic over a
 * stream it originates (DESIGN.md, role 2).
 *
 * The keys have their own sorted table, looked up with bsearch(); conf.c
 * only hands over the section header and the key = value pairs.
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

enum {
	CONNECTOR_WRITE_BUFFER_MAX = 64 << 20,	/* bytes */
	IKE_PORT = 500,				/* RFC 7296 §2 */
};

struct ckey {
	const char	*name;
	bool		(*parse)(struct conf_parser *,
			    struct conf_connector *, const char *);
	bool		 repeatable;
};

static bool
parse_udp_listen(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	if (cc->nudp_listen == CONF_LISTEN_MAX) {
		conf_err(p, "udp-listen \"%s\": more than %d udp-listen lines",
		    v, CONF_LISTEN_MAX);
		return false;
	}
	if (!conf_parse_addr(v, 0, true, &cc->udp_listen[cc->nudp_listen])) {
		conf_err(p, "bad udp-listen \"%s\": want ADDR:PORT, "
		    "[V6ADDR]:PORT or *:PORT with a numeric address", v);
		return false;
	}
	cc->nudp_listen++;
	return true;
}

static bool
parse_server(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	struct conf_addr a;

	/* Into a local: a failed parse may leave a half-filled address. */
	if (!conf_parse_addr(v, 0, false, &a)) {
		conf_err(p, "bad server \"%s\": want host:port or "
		    "[v6addr]:port, resolvable", v);
		return false;
	}
	cc->server = a;
	return true;
}

static bool
parse_http_proxy(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	struct conf_addr a;

	if (!conf_parse_addr(v, 0, false, &a)) {
		conf_err(p, "bad http-proxy \"%s\": want host:port or "
		    "[v6addr]:port, resolvable", v);
		return false;
	}
	cc->http_proxy = a;
	return true;
}

/* A host only: datagrams keep the port they arrived on (500 or 4500). */
static bool
parse_udp_gateway(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	const char *colon = strchr(v, ':');
	bool port = v[0] == '[' ? strstr(v, "]:") != NULL :
	    colon != NULL && strchr(colon + 1, ':') == NULL;

	struct conf_addr a;

	if (port || !conf_parse_addr(v, IKE_PORT, false, &a)) {
		conf_err(p, "bad udp-gateway \"%s\": want a host or [v6addr] "
		    "without a port (each datagram keeps its port)", v);
		return false;
	}
	cc->udp_gateway = a;
	return true;
}

static bool
parse_prefix(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	if (strcmp(v, "iketcp") == 0)
		cc->prefix = CONF_PREFIX_IKETCP;
	else if (strcmp(v, "ikev2") == 0)
		cc->prefix = CONF_PREFIX_IKEV2;
	else {
		conf_err(p, "bad prefix \"%s\": want iketcp or ikev2", v);
		return false;
	}
	return true;
}

static bool
parse_transport(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	if (strcmp(v, "tcp") == 0)
		cc->transport = CONF_TRANSPORT_TCP;
	else if (strcmp(v, "fallback") == 0)
		cc->transport = CONF_TRANSPORT_FALLBACK;
	else {
		conf_err(p, "bad transport \"%s\": want tcp or fallback", v);
		return false;
	}
	return true;
}

static bool
parse_fallback_timeout(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return conf_key_ms(p, "fallback-timeout", v, 1,
	    &cc->fallback_timeout_ms);
}

static bool
parse_reconnect_min(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return conf_key_ms(p, "reconnect-min", v, 1, &cc->reconnect_min_ms);
}

static bool
parse_reconnect_max(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return conf_key_ms(p, "reconnect-max", v, 1, &cc->reconnect_max_ms);
}

static bool
parse_udp_retry_min(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return conf_key_ms(p, "udp-retry-min", v, 1000, &cc->udp_retry_min_ms);
}

static bool
parse_udp_retry_max(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return conf_key_ms(p, "udp-retry-max", v, 1000, &cc->udp_retry_max_ms);
}

static bool
parse_handshake_timeout(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return conf_key_ms(p, "handshake-timeout", v, 1,
	    &cc->handshake_timeout_ms);
}

static bool
parse_idle_timeout(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return conf_key_ms(p, "idle-timeout", v, 1, &cc->idle_timeout_ms);
}

static bool
parse_max_message(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	size_t n;

	if (!conf_parse_size(v, &n) || n < CONF_MESSAGE_MIN ||
	    n > CONF_MESSAGE_MAX) {
		conf_err(p, "bad max-message \"%s\": want a size from %d to %d",
		    v, CONF_MESSAGE_MIN, CONF_MESSAGE_MAX);
		return false;
	}
	cc->max_message = n;
	return true;
}

static bool
parse_write_buffer(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	size_t n;

	if (!conf_parse_size(v, &n) || n == 0 ||
	    n > CONNECTOR_WRITE_BUFFER_MAX) {
		conf_err(p, "bad write-buffer \"%s\": want a size up to 64m",
		    v);
		return false;
	}
	cc->write_buffer = n;
	return true;
}

static bool
parse_max_sessions(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	unsigned n;

	if (!conf_parse_uint(v, &n) || n == 0) {
		conf_err(p, "bad max-sessions \"%s\": want a whole number "
		    "from 1 to %u", v, UINT_MAX);
		return false;
	}
	cc->max_sessions = n;
	return true;
}

static bool
parse_flag(struct conf_parser *p, const char *key, const char *v, bool *out)
{
	if (!conf_parse_bool(v, out)) {
		conf_err(p, "bad %s \"%s\": want yes or no", key, v);
		return false;
	}
	return true;
}

static bool
parse_tls(struct conf_parser *p, struct conf_connector *cc, const char *v)
{
	return parse_flag(p, "tls", v, &cc->tls);
}

static bool
parse_tls_verify(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return parse_flag(p, "tls-verify", v, &cc->tls_verify);
}

/* A free-form value that must fit and hold no control characters. */
static bool
parse_text(struct conf_parser *p, const char *key, const char *v, char *out,
    size_t cap)
{
	size_t len = strlen(v);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < ' ' || v[i] == 0x7f) {
			conf_err(p, "bad %s: control character", key);
			return false;
		}
	if (len == 0 || len >= cap) {
		conf_err(p, "bad %s: want 1 to %zu characters", key, cap - 1);
		return false;
	}
	memcpy(out, v, len + 1);
	return true;
}

static bool
parse_tls_ca(struct conf_parser *p, struct conf_connector *cc, const char *v)
{
	return parse_text(p, "tls-ca", v, cc->tls_ca, sizeof(cc->tls_ca));
}

static bool
parse_tls_sni(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return parse_text(p, "tls-sni", v, cc->tls_sni, sizeof(cc->tls_sni));
}

/* user:password; the value itself is never logged. */
static bool
parse_http_proxy_auth(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	if (strchr(v, ':') == NULL) {
		conf_err(p, "bad http-proxy-auth: want user:password");
		return false;
	}
	return parse_text(p, "http-proxy-auth", v, cc->http_proxy_auth,
	    sizeof(cc->http_proxy_auth));
}

static bool
parse_bypass_rule(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	return parse_flag(p, "bypass-rule", v, &cc->bypass_rule);
}

/* 0 is the local table's rule; 32766 and 32767 are main's and default's. */
static bool
parse_bypass_priority(struct conf_parser *p, struct conf_connector *cc,
    const char *v)
{
	unsigned n;

	if (!conf_parse_uint(v, &n) || n == 0 ||
	    n > CONF_BYPASS_PRIORITY_MAX) {
		conf_err(p, "bad bypass-priority \"%s\": want a whole number "
		    "from 1 to %d", v, CONF_BYPASS_PRIORITY_MAX);
		return false;
	}
	cc->bypass_priority = n;
	return true;
}

/* Sorted by strcmp(): looked up with bsearch(). */
static const struct ckey connector_keys[] = {
	{ "bypass-priority",	parse_bypass_priority,	false },
	{ "bypass-rule",	parse_bypass_rule,	false },
	{ "fallback-timeout",	parse_fallback_timeout,	false },
	{ "handshake-timeout",	parse_handshake_timeout, false },
	{ "http-proxy",		parse_http_proxy,	false },
	{ "http-proxy-auth",	parse_http_proxy_auth,	false },
	{ "idle-timeout",	parse_idle_timeout,	false },
	{ "max-message",	parse_max_message,	false },
	{ "max-sessions",	parse_max_sessions,	false },
	{ "prefix",		parse_prefix,		false },
	{ "reconnect-max",	parse_reconnect_max,	false },
	{ "reconnect-min",	parse_reconnect_min,	false },
	{ "server",		parse_server,		false },
	{ "tls",		parse_tls,		false },
	{ "tls-ca",		parse_tls_ca,		false },
	{ "tls-sni",		parse_tls_sni,		false },
	{ "tls-verify",		parse_tls_verify,	false },
	{ "transport",		parse_transport,	false },
	{ "udp-gateway",	parse_udp_gateway,	false },
	{ "udp-listen",		parse_udp_listen,	true },
	{ "udp-retry-max",	parse_udp_retry_max,	false },
	{ "udp-retry-min",	parse_udp_retry_min,	false },
	{ "write-buffer",	parse_write_buffer,	false },
};

enum {
	NKEYS = sizeof(connector_keys) / sizeof(connector_keys[0]),
};

static int
ckeycmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ckey *)elem)->name);
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int
conf_connector_section(struct conf_parser *p, const char *name, size_t len)
{
	struct conf *c = p->conf;
	struct conf_connector *cc;

	for (size_t i = 1; i < NKEYS; i++)
		assert(strcmp(connector_keys[i - 1].name,
		    connector_keys[i].name) < 0);
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(name[i])) {
			conf_err(p, "bad connector name \"%.*s\": want "
			    "letters, digits, '_', '.' and '-'", (int)len,
			    name);
			return -1;
		}
	if (len == 0 || len >= CONF_NAME_MAX) {
		conf_err(p, "bad connector name \"%.*s\": want 1 to %d "
		    "characters", (int)len, name, CONF_NAME_MAX - 1);
		return -1;
	}
	cc = reallocarray(c->connectors, c->nconnectors + 1, sizeof(*cc));
	if (cc == NULL) {
		conf_err(p, "out of memory");
		return -1;
	}
	c->connectors = cc;
	cc = &c->connectors[c->nconnectors];
	memset(cc, 0, sizeof(*cc));
	memcpy(cc->name, name, len);
	cc->line = p->lineno;
	cc->prefix = CONF_PREFIX_IKETCP;
	cc->transport = CONF_TRANSPORT_TCP;
	cc->fallback_timeout_ms = CONF_DEF_FALLBACK_TIMEOUT_MS;
	cc->reconnect_min_ms = CONF_DEF_RECONNECT_MIN_MS;
	cc->reconnect_max_ms = CONF_DEF_RECONNECT_MAX_MS;
	cc->udp_retry_min_ms = CONF_DEF_UDP_RETRY_MIN_MS;
	cc->udp_retry_max_ms = CONF_DEF_UDP_RETRY_MAX_MS;
	cc->handshake_timeout_ms = CONF_DEF_HANDSHAKE_TIMEOUT_MS;
	cc->idle_timeout_ms = CONF_DEF_IDLE_TIMEOUT_MS;
	cc->max_message = CONF_DEF_MAX_MESSAGE;
	cc->write_buffer = CONF_DEF_WRITE_BUFFER;
	cc->max_sessions = CONF_DEF_MAX_SESSIONS;
	cc->tls_verify = true;
	cc->bypass_rule = true;
	cc->bypass_priority = CONF_DEF_BYPASS_PRIORITY;

	/* Still parsed, so that its keys are checked too; the error stands. */
	for (size_t i = 0; i < c->nconnectors; i++)
		if (strcmp(c->connectors[i].name, cc->name) == 0) {
			char at[CONF_PATH_MAX + 16];

			conf_err(p, "duplicate connector name \"%s\", first "
			    "at %s", cc->name, conf_loc_text(p,
			    c->connectors[i].line, at, sizeof(at)));
			break;
		}
	c->nconnectors++;
	p->ccur = cc;
	p->cseen = 0;
	p->section = CONF_SEC_CONNECTOR;
	return 0;
}

int
conf_connector_key(struct conf_parser *p, const char *key, const char *val)
{
	const struct ckey *k;
	uint64_t bit;

	k = bsearch(key, connector_keys, NKEYS, sizeof(connector_keys[0]),
	    ckeycmp);
	if (k == NULL) {
		conf_err(p, "unknown key \"%s\" in [connector] section", key);
		return -1;
	}
	bit = 1ull << (k - connector_keys);
	if (!k->repeatable && (p->cseen & bit)) {
		conf_err(p, "duplicate key \"%s\" in [connector %s]", key,
		    p->ccur->name);
		return -1;
	}
	p->cseen |= bit;
	return k->parse(p, p->ccur, val) ? 0 : -1;
}

static bool
same_addr(const struct conf_addr *a, const struct conf_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

/* "1.2.3.4:443" or "[::1]:443", as opposed to "vpn.example:443". */
static bool
is_numeric_host(const char *text)
{
	char host[CONF_HOST_MAX];
	struct in6_addr a;
	char *colon;

	if (text[0] == '[')
		return true;
	snprintf(host, sizeof(host), "%s", text);
	if ((colon = strrchr(host, ':')) != NULL)
		*colon = '\0';
	return inet_pton(AF_INET, host, &a) == 1;
}

static void
check_one(struct conf_parser *p, const struct conf_connector *cc)
{
	if (cc->nudp_listen == 0)
		conf_err_at(p, cc->line, "[connector %s]: missing udp-listen",
		    cc->name);
	if (cc->server.len == 0)
		conf_err_at(p, cc->line, "[connector %s]: missing server",
		    cc->name);
	if (cc->transport == CONF_TRANSPORT_FALLBACK &&
	    cc->udp_gateway.len == 0)
		conf_err_at(p, cc->line, "[connector %s]: transport = "
		    "fallback needs udp-gateway", cc->name);
	if (cc->transport == CONF_TRANSPORT_TCP && cc->udp_gateway.len != 0)
		conf_err_at(p, cc->line, "[connector %s]: udp-gateway is "
		    "used only with transport = fallback", cc->name);
	if (cc->reconnect_min_ms > cc->reconnect_max_ms)
		conf_err_at(p, cc->line, "[connector %s]: reconnect-min %ums "
		    "> reconnect-max %ums", cc->name, cc->reconnect_min_ms,
		    cc->reconnect_max_ms);
	if (cc->udp_retry_min_ms > cc->udp_retry_max_ms)
		conf_err_at(p, cc->line, "[connector %s]: udp-retry-min %ums "
		    "> udp-retry-max %ums", cc->name, cc->udp_retry_min_ms,
		    cc->udp_retry_max_ms);
	if (cc->write_buffer < cc->max_message + 2)
		conf_err_at(p, cc->line, "[connector %s]: write-buffer %zu "
		    "< max-message + 2 (%zu)", cc->name, cc->write_buffer,
		    cc->max_message + 2);
	/* A verified certificate must name something: the SNI, which is
	 * tls-sni or else the server's host name. */
	if (cc->tls && cc->tls_verify && cc->tls_sni[0] == '\0' &&
	    is_numeric_host(cc->server.text))
		conf_err_at(p, cc->line, "[connector %s]: tls-verify needs "
		    "tls-sni when server is an address", cc->name);
	if (!cc->tls && (cc->tls_ca[0] != '\0' || cc->tls_sni[0] != '\0'))
		conf_err_at(p, cc->line, "[connector %s]: tls-ca and tls-sni "
		    "are used only with tls = yes", cc->name);
	if (cc->http_proxy.len == 0 && cc->http_proxy_auth[0] != '\0')
		conf_err_at(p, cc->line, "[connector %s]: http-proxy-auth "
		    "without http-proxy", cc->name);
}

static void
dup_listen(struct conf_parser *p, const struct conf_connector *cc,
    const struct conf_addr *a, const struct conf_connector *first)
{
	conf_err_at(p, cc->line, "[connector %s]: udp-listen %s already used "
	    "in [connector %s]", cc->name, a->text, first->name);
}

void
conf_connector_finish(struct conf_parser *p)
{
	const struct conf *c = p->conf;

	for (size_t i = 0; i < c->nconnectors; i++) {
		const struct conf_connector *cc = &c->connectors[i];

		check_one(p, cc);
		/* Each later use of a UDP address is the error. */
		for (size_t j = 0; j < cc->nudp_listen; j++) {
			const struct conf_addr *a = &cc->udp_listen[j];
			bool dup = false;

			for (size_t k = 0; k <= i && !dup; k++) {
				const struct conf_connector *o =
				    &c->connectors[k];
				size_t m = k == i ? j : o->nudp_listen;

				for (size_t l = 0; l < m && !dup; l++)
					if (same_addr(a, &o->udp_listen[l])) {
						dup_listen(p, cc, a, o);
						dup = true;
					}
			}
		}
	}
}
