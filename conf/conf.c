/*
 * Configuration parser: INI-style lines into an immutable struct conf.
 *
 * conf_line() parses one line and reports what is wrong with it as
 * "file:line: message"; it never stops at the first error, so an operator
 * sees every mistake in one run.  conf_finish() checks what only the whole
 * file can show (required keys, cross-key bounds, listen addresses used
 * twice) and hands back the struct only when nothing was wrong.
 *
 * Keys are looked up with bsearch() in one sorted table per section kind;
 * each key has a parse_x() that logs the bad text and returns false.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <assert.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>

#include "conf/conf.h"
#include "conf/fileset.h"
#include "conf/internal.h"

#define CONF_LINE_MAX_TEXT "1023"	/* CONF_LINE_MAX, for messages */

enum {
	CONF_LINE_MAX = 1023,		/* characters, without newline */
	CONF_WRITE_BUFFER_MAX = 64 << 20, /* bytes */
	CONF_ERR_MAX = 1400,		/* one formatted message */
};

/*
 * Parse state that the public struct conf_parser has no room for.  The
 * parser's conf points at the embedded conf; conf_finish() moves that conf
 * out into an allocation of its own, so a struct conf is always freed as
 * just itself.
 */
struct build {
	struct conf	 conf;		/* being built; p->conf points here */
	size_t		 cap;		/* relays allocated */
	uint32_t	 seen;		/* keys set in the current section */
	bool		 had_global;	/* a [global] header was seen */
	bool		 skip;		/* after a bad header: ignore keys */
	bool		 too_long;	/* this file passed CONF_LOC_LINE_MAX */
	struct {			/* files being read, outermost first */
		dev_t	 dev;
		ino_t	 ino;
	}		 open[CONF_INCLUDE_DEPTH_MAX + 1];
	size_t		 nopen;
};

/* container_of: the parser's conf is always a build's first member. */
static struct build *
build_of(struct conf_parser *p)
{
	return (struct build *)(void *)((char *)p->conf -
	    offsetof(struct build, conf));
}

/* Every error goes through here, so p->errors counts exactly what we said. */
void
conf_err_at(struct conf_parser *p, unsigned line, const char *fmt, ...)
{
	char msg[CONF_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%u: %s", conf_loc_file(p->conf, line),
	    CONF_LOC_LINE(line), msg);
	p->errors++;
}

const char *
conf_loc_file(const struct conf *c, unsigned loc)
{
	size_t i = CONF_LOC_FILE(loc);

	return i < c->nfiles ? c->files[i] : c->path;
}

/* "line N" in the current file, "FILE:N" in another, into @buf. */
const char *
conf_loc_text(struct conf_parser *p, unsigned loc, char *buf, size_t len)
{
	if (CONF_LOC_FILE(loc) == CONF_LOC_FILE(p->lineno))
		snprintf(buf, len, "line %u", CONF_LOC_LINE(loc));
	else
		snprintf(buf, len, "%s:%u", conf_loc_file(p->conf, loc),
		    CONF_LOC_LINE(loc));
	return buf;
}

void
conf_err(struct conf_parser *p, const char *fmt, ...)
{
	char msg[CONF_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_err_at(p, p->lineno, "%s", msg);
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_name_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
}

/* Leading decimal digits of s into *out; false on none or on overflow. */
static bool
digits(const char **sp, unsigned long long max, unsigned long long *out)
{
	const char *s = *sp;
	unsigned long long v = 0;

	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return true;
}

bool
conf_parse_uint(const char *s, unsigned *out)
{
	unsigned long long v;

	if (!digits(&s, UINT_MAX, &v) || *s != '\0')
		return false;
	*out = (unsigned)v;
	return true;
}

/* An integer with an optional k/K (x1024) or m/M (x1024^2) suffix. */
bool
conf_parse_size(const char *s, size_t *out)
{
	unsigned long long v, mult = 1;

	if (!digits(&s, SIZE_MAX, &v))
		return false;
	if (*s == 'k' || *s == 'K')
		mult = 1024;
	else if (*s == 'm' || *s == 'M')
		mult = 1024 * 1024;
	if (mult != 1)
		s++;
	if (*s != '\0' || v > SIZE_MAX / mult)
		return false;
	*out = (size_t)(v * mult);
	return true;
}

/* An integer with a ms, s, m or h suffix (none: seconds), in milliseconds. */
bool
conf_parse_duration_ms(const char *s, unsigned *out)
{
	static const struct {
		const char	*suffix;
		unsigned	 ms;
	} units[] = {
		{ "",	1000 },
		{ "ms",	1 },
		{ "s",	1000 },
		{ "m",	60 * 1000 },
		{ "h",	3600 * 1000 },
	};
	unsigned long long v;

	if (!digits(&s, UINT_MAX, &v))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].suffix) != 0)
			continue;
		if (v > UINT_MAX / units[i].ms)
			return false;
		*out = (unsigned)(v * units[i].ms);
		return true;
	}
	return false;
}

bool
conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool
parse_port(const char *s, uint16_t *out)
{
	unsigned long long v;

	if (!digits(&s, UINT16_MAX, &v) || *s != '\0' || v == 0)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* A DNS name as far as we accept one: letters, digits, '-' and '.'. */
static bool
is_hostname(const char *s)
{
	bool letter = false;

	if (*s == '\0' || *s == '.' || *s == '-')
		return false;
	for (; *s != '\0'; s++) {
		if (is_alpha(*s))
			letter = true;
		else if (!is_digit(*s) && *s != '-' && *s != '.')
			return false;
	}
	/* No letter: a malformed number such as 1.2.3, never a name. */
	return letter;
}

static bool
resolve(const char *host, int family, int flags, struct conf_addr *out)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = flags;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
		return false;
	if (res->ai_addrlen > sizeof(out->ss)) {
		freeaddrinfo(res);
		return false;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

static bool
is_unspecified(const struct conf_addr *a)
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;

		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

/*
 * ADDR:PORT, [V6ADDR]:PORT, and with passive also *:PORT (0.0.0.0).  A port
 * may be left out only when default_port is not 0.  Passive addresses are
 * numeric; otherwise a host that contains a letter is resolved, first
 * result wins.  The IKETCP_NO_DNS environment variable keeps the fuzzer off
 * the resolver; it is deliberately not documented for users.
 */
bool
conf_parse_addr(const char *s, uint16_t default_port, bool passive,
    struct conf_addr *out)
{
	char host[CONF_HOST_MAX];
	const char *end, *port = NULL;
	uint16_t pnum = default_port;
	size_t hlen;
	bool v6 = false;

	if (strlen(s) >= sizeof(out->text))
		return false;
	memset(out, 0, sizeof(*out));
	if (*s == '[') {
		v6 = true;
		s++;
		if ((end = strchr(s, ']')) == NULL)
			return false;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return false;
	} else {
		end = strchr(s, ':');
		if (end != NULL && strchr(end + 1, ':') != NULL)
			return false;	/* bare IPv6: brackets required */
		if (end != NULL)
			port = end + 1;
		else
			end = s + strlen(s);
	}
	hlen = (size_t)(end - s);
	if (hlen == 0)
		return false;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (port != NULL && !parse_port(port, &pnum))
		return false;
	if (pnum == 0)
		return false;

	if (v6) {
		if (!resolve(host, AF_INET6, AI_NUMERICHOST, out))
			return false;
	} else if (strcmp(host, "*") == 0) {
		struct sockaddr_in *sin = (void *)&out->ss;

		if (!passive)
			return false;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		out->len = sizeof(*sin);
	} else {
		struct sockaddr_in *sin = (void *)&out->ss;

		/* inet_pton, not inet_aton: no "127.1" shorthands. */
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			out->len = sizeof(*sin);
		} else if (passive || !is_hostname(host) ||
		    getenv("IKETCP_NO_DNS") != NULL ||
		    !resolve(host, AF_UNSPEC, 0, out))
			return false;
	}
	if (out->ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (void *)&out->ss;

		sin->sin_port = htons(pnum);
	} else if (out->ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (void *)&out->ss;

		sin6->sin6_port = htons(pnum);
	} else
		return false;
	/* A gateway must be somewhere: 0.0.0.0 and :: are not. */
	if (!passive && is_unspecified(out))
		return false;
	/* Written with its brackets, so the text can be parsed again. */
	snprintf(out->text, sizeof(out->text), "%s%s", v6 ? "[" : "", s);
	return true;
}

/* [global] keys. */

static bool
parse_name(struct conf_parser *p, const char *key, const char *v, char *out)
{
	size_t len = strlen(v);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f) {
			conf_err(p, "bad %s \"%s\": blank or control character",
			    key, v);
			return false;
		}
	if (len >= CONF_NAME_MAX) {
		conf_err(p, "bad %s \"%s\": longer than %d characters", key,
		    v, CONF_NAME_MAX - 1);
		return false;
	}
	memcpy(out, v, len + 1);
	return true;
}

static bool
parse_log_level(struct conf_parser *p, const char *v)
{
	if (!log_parse_level(v, &p->conf->log_level)) {
		conf_err(p, "bad log-level \"%s\": want err, warning, info or "
		    "debug", v);
		return false;
	}
	return true;
}

static bool
parse_log_format(struct conf_parser *p, const char *v)
{
	if (!log_parse_format(v, &p->conf->log_format)) {
		conf_err(p, "bad log-format \"%s\": want text or kv", v);
		return false;
	}
	return true;
}

static bool
parse_syslog_facility(struct conf_parser *p, const char *v)
{
	if (!log_parse_facility(v, &p->conf->syslog_facility)) {
		conf_err(p, "bad syslog-facility \"%s\": want daemon, local0 "
		    "to local7, user, auth, authpriv, cron, ftp, lpr, mail, "
		    "news, syslog or uucp", v);
		return false;
	}
	return true;
}

static bool
parse_user(struct conf_parser *p, const char *v)
{
	return parse_name(p, "user", v, p->conf->user);
}

static bool
parse_busy_poll(struct conf_parser *p, const char *v)
{
	unsigned ms;

	if (!conf_parse_duration_ms(v, &ms) || ms > CONF_BUSY_POLL_MAX_MS) {
		conf_err(p, "bad busy-poll \"%s\": want a duration from 0 to "
		    "1s, such as 2ms", v);
		return false;
	}
	p->conf->busy_poll_ms = ms;
	return true;
}

static bool
parse_group(struct conf_parser *p, const char *v)
{
	return parse_name(p, "group", v, p->conf->group);
}

static bool
parse_max_sessions(struct conf_parser *p, const char *v)
{
	unsigned n;

	if (!conf_parse_uint(v, &n) || n == 0) {
		conf_err(p, "bad max-sessions \"%s\": want a whole number "
		    "from 1 to %u", v, UINT_MAX);
		return false;
	}
	p->conf->max_sessions = n;
	return true;
}

static bool
parse_fd_reserve(struct conf_parser *p, const char *v)
{
	unsigned n;

	if (!conf_parse_uint(v, &n) || n > CONF_FD_RESERVE_MAX) {
		conf_err(p, "bad fd-reserve \"%s\": want a whole number from "
		    "0 to %d", v, CONF_FD_RESERVE_MAX);
		return false;
	}
	p->conf->fd_reserve = n;
	return true;
}

static bool
parse_workers(struct conf_parser *p, const char *v)
{
	unsigned n;

	if (strcmp(v, "auto") == 0)
		n = 0;
	else if (!conf_parse_uint(v, &n) || n == 0 || n > CONF_WORKERS_MAX) {
		conf_err(p, "bad workers \"%s\": want auto or a whole number "
		    "from 1 to %d", v, CONF_WORKERS_MAX);
		return false;
	}
	p->conf->workers = n;
	p->conf->workers_line = p->lineno;
	return true;
}

unsigned
conf_workers(const struct conf *c)
{
	long n;

	if (c->workers != 0)
		return c->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > CONF_WORKERS_MAX ? CONF_WORKERS_MAX : (unsigned)n;
}

static bool
parse_write_buffer_total(struct conf_parser *p, const char *v)
{
	size_t n;

	if (!conf_parse_size(v, &n) || n == 0) {
		conf_err(p, "bad write-buffer-total \"%s\": want a size above "
		    "0, such as 64m", v);
		return false;
	}
	p->conf->write_buffer_total = n;
	p->conf->write_buffer_total_line = p->lineno;
	return true;
}

static bool
parse_log_rate(struct conf_parser *p, const char *v)
{
	unsigned n;

	if (!conf_parse_uint(v, &n) || n > CONF_LOG_RATE_MAX) {
		conf_err(p, "bad log-rate \"%s\": want lines per second from "
		    "0 (unlimited) to %d", v, CONF_LOG_RATE_MAX);
		return false;
	}
	p->conf->log_rate = n;
	return true;
}

/* [relay NAME] keys. */

static bool
parse_listen(struct conf_parser *p, const char *v)
{
	struct conf_relay *r = p->cur;

	if (r->nlisten == CONF_LISTEN_MAX) {
		conf_err(p, "listen \"%s\": more than %d listen lines", v,
		    CONF_LISTEN_MAX);
		return false;
	}
	if (!conf_parse_addr(v, 0, true, &r->listen[r->nlisten])) {
		conf_err(p, "bad listen \"%s\": want ADDR:PORT, [V6ADDR]:PORT "
		    "or *:PORT with a numeric address", v);
		return false;
	}
	r->nlisten++;
	return true;
}

static bool
parse_gateway(struct conf_parser *p, const char *v)
{
	struct conf_addr a;

	if (!conf_parse_addr(v, CONF_DEF_GATEWAY_PORT, false, &a)) {
		conf_err(p, "bad gateway \"%s\": want host[:port] or "
		    "[v6addr][:port], resolvable", v);
		return false;
	}
	p->cur->gateway = a;
	p->cur->gateway_line = p->lineno;
	return true;
}

/*
 * The gateway's port for IKE_SA_INIT, without the Non-ESP marker: the
 * relay then floats to the gateway port as a NAT-T initiator does (RFC
 * 7296 §2.23).  Checked against the gateway at finish.
 */
static bool
parse_gateway_ike_port(struct conf_parser *p, const char *v)
{
	unsigned n;

	if (p->section == CONF_SEC_INTEGRATED) {
		conf_err(p, "gateway-ike-port in [integrated %s]: an "
		    "integrated section is the gateway itself", p->cur->name);
		return false;
	}
	if (!conf_parse_uint(v, &n) || n > UINT16_MAX) {
		conf_err(p, "bad gateway-ike-port \"%s\": want a port from 1 "
		    "to 65535, or 0 (off)", v);
		return false;
	}
	p->cur->gateway_ike_port = (uint16_t)n;
	p->cur->gateway_ike_port_line = p->lineno;
	return true;
}

/*
 * A local address for the relay's UDP legs to the gateway, without a
 * port: each address gives the kernel's ephemeral port range again
 * (about 28 000 sessions per address and gateway port), so several lift
 * one host past that.
 */
static bool
parse_gateway_source(struct conf_parser *p, const char *v)
{
	struct conf_relay *r = p->cur;
	struct conf_addr a;
	size_t len = strlen(v);

	if (p->section == CONF_SEC_INTEGRATED) {
		conf_err(p, "gateway-source in [integrated %s]: an "
		    "integrated section has no gateway", r->name);
		return false;
	}
	if (r->ngateway_source == CONF_SOURCE_MAX) {
		conf_err(p, "gateway-source \"%s\": more than %d "
		    "gateway-source lines", v, CONF_SOURCE_MAX);
		return false;
	}
	/* An address and no port: "ADDR" or "[V6ADDR]". */
	if (len == 0 || strcmp(v, "*") == 0 || (v[0] == '[' ?
	    v[len - 1] != ']' : strchr(v, ':') != NULL) ||
	    !conf_parse_addr(v, 1, true, &a)) {
		conf_err(p, "bad gateway-source \"%s\": want a numeric "
		    "address (ADDR or [V6ADDR]) without a port", v);
		return false;
	}
	if (a.ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a.ss)->sin6_port = 0;
	else
		((struct sockaddr_in *)&a.ss)->sin_port = 0;
	for (size_t i = 0; i < r->ngateway_source; i++)
		if (r->gateway_source[i].len == a.len &&
		    memcmp(&r->gateway_source[i].ss, &a.ss, a.len) == 0) {
			conf_err(p, "gateway-source %s listed twice", v);
			return false;
		}
	r->gateway_source_line[r->ngateway_source] = p->lineno;
	r->gateway_source[r->ngateway_source++] = a;
	return true;
}

static bool
parse_max_message(struct conf_parser *p, const char *v)
{
	size_t n;

	if (!conf_parse_size(v, &n) || n < CONF_MESSAGE_MIN ||
	    n > CONF_MESSAGE_MAX) {
		conf_err(p, "bad max-message \"%s\": want a size from %d to %d",
		    v, CONF_MESSAGE_MIN, CONF_MESSAGE_MAX);
		return false;
	}
	p->cur->max_message = n;
	p->cur->max_message_line = p->lineno;
	return true;
}

static bool
parse_write_buffer(struct conf_parser *p, const char *v)
{
	size_t n;

	if (!conf_parse_size(v, &n) || n == 0 || n > CONF_WRITE_BUFFER_MAX) {
		conf_err(p, "bad write-buffer \"%s\": want a size up to 64m",
		    v);
		return false;
	}
	p->cur->write_buffer = n;
	return true;
}

bool
conf_key_ms(struct conf_parser *p, const char *key, const char *v,
    unsigned min, unsigned *out)
{
	unsigned ms;

	if (!conf_parse_duration_ms(v, &ms) || ms < min) {
		if (min >= 1000)
			conf_err(p, "bad %s \"%s\": want a duration of at "
			    "least %us, such as 30s, 10m or 1h", key, v,
			    min / 1000);
		else
			conf_err(p, "bad %s \"%s\": want a duration%s such as "
			    "30s, 500ms, 10m or 1h", key, v,
			    min > 0 ? " above 0" : "");
		return false;
	}
	*out = ms;
	return true;
}

static bool
parse_idle_timeout(struct conf_parser *p, const char *v)
{
	return conf_key_ms(p, "idle-timeout", v, 0, &p->cur->idle_timeout_ms);
}

static bool
parse_linger(struct conf_parser *p, const char *v)
{
	return conf_key_ms(p, "linger", v, 0, &p->cur->linger_ms);
}

static bool
parse_handshake_timeout(struct conf_parser *p, const char *v)
{
	return conf_key_ms(p, "handshake-timeout", v, 1,
	    &p->cur->handshake_timeout_ms);
}

static bool
parse_count(struct conf_parser *p, const char *key, const char *v,
    unsigned *out)
{
	unsigned n;

	if (!conf_parse_uint(v, &n) || n == 0) {
		conf_err(p, "bad %s \"%s\": want a whole number from 1 to %u",
		    key, v, UINT_MAX);
		return false;
	}
	*out = n;
	return true;
}

static bool
parse_max_connections(struct conf_parser *p, const char *v)
{
	return parse_count(p, "max-connections", v, &p->cur->max_connections);
}

static bool
parse_max_per_source(struct conf_parser *p, const char *v)
{
	return parse_count(p, "max-per-source", v, &p->cur->max_per_source);
}

static bool
parse_max_sessions_per_source(struct conf_parser *p, const char *v)
{
	return parse_count(p, "max-sessions-per-source", v,
	    &p->cur->max_sessions_per_source);
}

/* Sorted by strcmp(): looked up with bsearch(). */
static const struct keydef global_keys[] = {
	{ "busy-poll",		parse_busy_poll,	false },
	{ "control-socket",	conf_key_control_socket, false },
	{ "fd-reserve",		parse_fd_reserve,	false },
	{ "group",		parse_group,		false },
	{ "log-format",		parse_log_format,	false },
	{ "log-level",		parse_log_level,	false },
	{ "log-rate",		parse_log_rate,		false },
	{ "max-sessions",	parse_max_sessions,	false },
	{ "metrics-listen",	conf_key_metrics_listen, false },
	{ "syslog-facility",	parse_syslog_facility,	false },
	{ "user",		parse_user,		false },
	{ "workers",		parse_workers,		false },
	{ "write-buffer-total",	parse_write_buffer_total, false },
};

static const struct keydef relay_keys[] = {
	{ "connect-allow",	conf_key_connect_allow,	true },
	{ "connect-auth-file",	conf_key_connect_auth_file, false },
	{ "default",		conf_key_default,	false },
	{ "gateway",		parse_gateway,		false },
	{ "gateway-ike-port",	parse_gateway_ike_port,	false },
	{ "gateway-source",	parse_gateway_source,	true },
	{ "handshake-timeout",	parse_handshake_timeout, false },
	{ "http-connect",	conf_key_http_connect,	false },
	{ "idle-timeout",	parse_idle_timeout,	false },
	{ "linger",		parse_linger,		false },
	{ "listen",		parse_listen,		true },
	{ "max-connections",	parse_max_connections,	false },
	{ "max-header-bytes",	conf_key_max_header_bytes, false },
	{ "max-message",	parse_max_message,	false },
	{ "max-per-source",	parse_max_per_source,	false },
	{ "max-sessions-per-source", parse_max_sessions_per_source, false },
	{ "proxy-from",		conf_key_proxy_from,	true },
	{ "proxy-protocol",	conf_key_proxy_protocol, false },
	{ "sni",		conf_key_sni,		true },
	{ "tls-cert",		conf_key_tls_cert,	false },
	{ "tls-chain",		conf_key_tls_chain,	false },
	{ "tls-ciphers",	conf_key_tls_ciphers,	false },
	{ "tls-ciphersuites",	conf_key_tls_ciphersuites, false },
	{ "tls-key",		conf_key_tls_key,	false },
	{ "tls-listen",		conf_key_tls_listen,	true },
	{ "tls-min-version",	conf_key_tls_min_version, false },
	{ "tls-null",		conf_key_tls_null,	false },
	{ "write-buffer",	parse_write_buffer,	false },
};

static int
keycmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct keydef *)elem)->name);
}

static bool
is_sorted(const struct keydef *t, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(t[i - 1].name, t[i].name) >= 0)
			return false;
	return true;
}

int
conf_init(struct conf_parser *p, const char *file)
{
	struct build *b;

	assert(is_sorted(global_keys, sizeof(global_keys) /
	    sizeof(global_keys[0])));
	assert(is_sorted(relay_keys, sizeof(relay_keys) /
	    sizeof(relay_keys[0])));
	memset(p, 0, sizeof(*p));
	if (strlen(file) >= sizeof(b->conf.path)) {
		log_warnx("%.64s...: path too long", file);
		return -1;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->conf.files = calloc(1, sizeof(*b->conf.files))) == NULL ||
	    (b->conf.files[0] = strdup(file)) == NULL) {
		log_warn("%s", file);
		if (b != NULL)
			free(b->conf.files);
		free(b);
		return -1;
	}
	b->conf.nfiles = 1;
	strcpy(b->conf.path, file);
	b->conf.log_level = LOG_LEVEL_INFO;
	b->conf.log_format = LOG_FORMAT_TEXT;
	b->conf.syslog_facility = LOG_DAEMON;
	b->conf.max_sessions = CONF_DEF_GLOBAL_MAX_SESSIONS;
	b->conf.fd_reserve = CONF_DEF_FD_RESERVE;
	b->conf.workers = 1;
	b->conf.write_buffer_total = CONF_DEF_WRITE_BUFFER_TOTAL;
	b->conf.log_rate = CONF_DEF_LOG_RATE;
	conf_control_defaults(&b->conf);
	b->conf.refs = 1;
	p->conf = &b->conf;
	p->file = b->conf.path;
	p->section = CONF_SEC_NONE;
	return 0;
}

const char *
conf_relay_kind(const struct conf_relay *r)
{
	return r->backend == CONF_BACKEND_INTEGRATED ? "integrated" : "relay";
}

bool
conf_has_integrated(const struct conf *c)
{
	for (size_t i = 0; i < c->nrelays; i++)
		if (c->relays[i].backend == CONF_BACKEND_INTEGRATED)
			return true;
	return false;
}

static void
relays_free(struct conf_relay *r, size_t n)
{
	for (size_t i = 0; r != NULL && i < n; i++)
		conf_integrated_free(r[i].integ);
	free(r);
}

static void
files_free(char **files, size_t n)
{
	for (size_t i = 0; files != NULL && i < n; i++)
		free(files[i]);
	free(files);
}

static void
build_free(struct build *b)
{
	if (b == NULL)
		return;
	files_free(b->conf.files, b->conf.nfiles);
	relays_free(b->conf.relays, b->conf.nrelays);
	free(b->conf.connectors);
	free(b);
}

void
conf_abort(struct conf_parser *p)
{
	if (p->conf != NULL)
		build_free(build_of(p));
	memset(p, 0, sizeof(*p));
}

static void
skip_ws(const char **s)
{
	while (is_ws(**s))
		(*s)++;
}

/* After a value or a header: blanks, then the end or a comment. */
static bool
is_rest_empty(const char *s)
{
	skip_ws(&s);
	return *s == '\0' || *s == '#' || *s == ';';
}

/*
 * [relay NAME] or [integrated NAME]: one array, since both have the stream
 * side and their names share one namespace in logs.
 */
static int
section_relay(struct conf_parser *p, const char *name, size_t len,
    enum conf_backend backend)
{
	struct build *b = build_of(p);
	struct conf *c = p->conf;
	struct conf_relay *r;
	const char *kind = backend == CONF_BACKEND_INTEGRATED ? "integrated" :
	    "relay";

	for (size_t i = 0; i < len; i++)
		if (!is_name_char(name[i])) {
			conf_err(p, "bad %s name \"%.*s\": want letters, "
			    "digits, '_', '.' and '-'", kind, (int)len, name);
			return -1;
		}
	if (len == 0 || len >= CONF_NAME_MAX) {
		conf_err(p, "bad %s name \"%.*s\": want 1 to %d characters",
		    kind, (int)len, name, CONF_NAME_MAX - 1);
		return -1;
	}
	if (c->nrelays == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4;

		r = reallocarray(c->relays, cap, sizeof(*r));
		if (r == NULL) {
			conf_err(p, "out of memory");
			return -1;
		}
		c->relays = r;
		b->cap = cap;
	}
	r = &c->relays[c->nrelays];
	memset(r, 0, sizeof(*r));
	memcpy(r->name, name, len);
	r->backend = backend;
	r->line = p->lineno;
	r->max_message = CONF_DEF_MAX_MESSAGE;
	r->write_buffer = CONF_DEF_WRITE_BUFFER;
	r->idle_timeout_ms = CONF_DEF_IDLE_TIMEOUT_MS;
	r->linger_ms = CONF_DEF_LINGER_MS;
	r->handshake_timeout_ms = CONF_DEF_HANDSHAKE_TIMEOUT_MS;
	r->max_connections = CONF_DEF_MAX_CONNECTIONS;
	r->max_per_source = CONF_DEF_MAX_PER_SOURCE;
	r->max_sessions_per_source = CONF_DEF_MAX_SESSIONS_PER_SOURCE;
	conf_layers_defaults(r);

	/* Still parsed, so that its keys are checked too; the error stands. */
	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *o = &c->relays[i];

		if (strcmp(o->name, r->name) != 0)
			continue;
		char at[CONF_PATH_MAX + 16];

		conf_loc_text(p, o->line, at, sizeof(at));
		if (o->backend == backend)
			conf_err(p, "duplicate %s name \"%s\", first at %s",
			    kind, r->name, at);
		else
			conf_err(p, "%s name \"%s\" already used by [%s %s] "
			    "at %s", kind, r->name, conf_relay_kind(o),
			    o->name, at);
		break;
	}
	c->nrelays++;
	p->cur = r;
	p->section = CONF_SEC_RELAY;
	b->skip = false;
	if (backend == CONF_BACKEND_INTEGRATED &&
	    conf_integrated_section(p) == -1) {
		b->skip = true;
		return -1;
	}
	return 0;
}

/* "[global]" or "[relay NAME]"; s points at the '['. */
static int
section_header(struct conf_parser *p, const char *s)
{
	struct build *b = build_of(p);
	const char *close, *w, *name;
	size_t wlen, nlen;

	/* Until a good header, keys belong nowhere and are not reported. */
	b->skip = true;
	b->seen = 0;
	p->section = CONF_SEC_NONE;
	p->cur = NULL;
	p->ccur = NULL;
	if ((close = strchr(s, ']')) == NULL) {
		conf_err(p, "unterminated '[' in section header");
		return -1;
	}
	if (!is_rest_empty(close + 1)) {
		conf_err(p, "text after section header: \"%s\"", close + 1);
		return -1;
	}
	w = s + 1;
	skip_ws(&w);
	for (wlen = 0; w + wlen < close && !is_ws(w[wlen]); wlen++)
		;
	name = w + wlen;
	skip_ws(&name);
	for (nlen = 0; name + nlen < close && !is_ws(name[nlen]); nlen++)
		;
	if (wlen == 6 && strncmp(w, "global", 6) == 0 && name == close) {
		if (b->had_global) {
			conf_err(p, "second [global] section");
			return -1;
		}
		b->had_global = true;
		b->skip = false;
		p->section = CONF_SEC_GLOBAL;
		return 0;
	}
	if (wlen == 5 && strncmp(w, "relay", 5) == 0) {
		const char *after = name + nlen;

		skip_ws(&after);
		if (after != close) {
			conf_err(p, "bad relay name \"%.*s\": want one word",
			    (int)(close - name), name);
			return -1;
		}
		return section_relay(p, name, nlen, CONF_BACKEND_RELAY);
	}
	if (wlen == 10 && strncmp(w, "integrated", 10) == 0) {
		const char *after = name + nlen;

		skip_ws(&after);
		if (after != close) {
			conf_err(p, "bad integrated name \"%.*s\": want one "
			    "word", (int)(close - name), name);
			return -1;
		}
		return section_relay(p, name, nlen, CONF_BACKEND_INTEGRATED);
	}
	if (wlen == 9 && strncmp(w, "connector", 9) == 0) {
		const char *after = name + nlen;

		skip_ws(&after);
		if (after != close) {
			conf_err(p, "bad connector name \"%.*s\": want one "
			    "word", (int)(close - name), name);
			return -1;
		}
		if (conf_connector_section(p, name, nlen) == -1)
			return -1;
		b->skip = false;
		return 0;
	}
	conf_err(p, "unknown section \"%.*s\": want [global], [relay NAME], "
	    "[connector NAME] or [integrated NAME]", (int)(close - s + 1), s);
	return -1;
}

static void read_lines(struct conf_parser *p, const unsigned char *data,
    size_t len);

/*
 * One file of an include: read in place of the include line, with its
 * own name and line numbers in errors.  A file already being read is a
 * cycle; nesting stops at CONF_INCLUDE_DEPTH_MAX.
 */
static bool
include_file(struct conf_parser *p, const char *path)
{
	struct build *b = build_of(p);
	struct conf *c = p->conf;
	const char *saved_file = p->file;
	unsigned saved_line = p->lineno;
	bool saved_long = b->too_long;
	unsigned char *data;
	struct stat st;
	char **files;
	size_t len;

	/* fs_read: from disk, or from the master's set in a worker. */
	if (fs_read_stat(path, &data, &len, &st) == -1) {
		if (errno == EISDIR)
			conf_err(p, "include %s: not a regular file", path);
		else
			conf_err(p, "include %s: %s", path,
			    fs_strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_err(p, "include %s: not a regular file", path);
		goto fail;
	}
	for (size_t i = 0; i < b->nopen; i++)
		if (b->open[i].dev == st.st_dev && b->open[i].ino == st.st_ino) {
			conf_err(p, "include %s: include cycle: that file is "
			    "being read already", path);
			goto fail;
		}
	if (b->nopen == sizeof(b->open) / sizeof(b->open[0])) {
		conf_err(p, "include %s: includes nested more than %d deep",
		    path, CONF_INCLUDE_DEPTH_MAX);
		goto fail;
	}
	if (c->nfiles == CONF_FILES_MAX) {
		conf_err(p, "include %s: more than %d files", path,
		    CONF_FILES_MAX);
		goto fail;
	}
	if ((files = reallocarray(c->files, c->nfiles + 1,
	    sizeof(*files))) == NULL) {
		conf_err(p, "include %s: out of memory", path);
		goto fail;
	}
	c->files = files;
	if ((files[c->nfiles] = strdup(path)) == NULL) {
		conf_err(p, "include %s: out of memory", path);
		goto fail;
	}
	b->open[b->nopen].dev = st.st_dev;
	b->open[b->nopen].ino = st.st_ino;
	b->nopen++;
	p->file = files[c->nfiles];
	p->lineno = (unsigned)c->nfiles << CONF_LOC_LINE_BITS;
	b->too_long = false;
	c->nfiles++;
	read_lines(p, data, len);
	b->nopen--;
	p->file = saved_file;
	p->lineno = saved_line;
	b->too_long = saved_long;
	free(data);
	return true;
fail:
	free(data);
	return false;
}

/*
 * include = GLOB: relative to the including file's directory; glob(3)
 * (through fs_glob) sorts the names.  A pattern that matches nothing is said (info) and is
 * no error, so an empty conf.d/ is fine; a plain name that is not there
 * is an error.
 */
static bool
include(struct conf_parser *p, const char *v)
{
	char pat[CONF_PATH_MAX * 2];
	const char *slash = strrchr(p->file, '/');
	int dirlen = v[0] != '/' && slash != NULL ?
	    (int)(slash - p->file + 1) : 0;
	bool ok = true;
	char **names;
	size_t n;

	if (*v == '\0' || strlen(v) >= CONF_PATH_MAX) {
		conf_err(p, "bad include \"%s\": want a file name or a glob "
		    "of 1 to %d characters", v, CONF_PATH_MAX - 1);
		return false;
	}
	if (snprintf(pat, sizeof(pat), "%.*s%s", dirlen, p->file, v) >=
	    (int)sizeof(pat)) {
		conf_err(p, "bad include \"%s\": path too long", v);
		return false;
	}
	if (p->no_include)
		return true;
	if (strpbrk(v, "*?[") == NULL)
		return include_file(p, pat);
	if (fs_glob(pat, &names, &n) == -1) {
		conf_err(p, "include \"%s\": cannot list %s", v, pat);
		return false;
	}
	if (n == 0)
		log_info("%s:%u: include \"%s\": no file matches %s "
		    "(not an error)", p->file, CONF_LOC_LINE(p->lineno), v,
		    pat);
	for (size_t i = 0; i < n; i++)
		ok = include_file(p, names[i]) && ok;
	fs_glob_free(names, n);
	return ok;
}

/*
 * key = value, where value is bare (up to a comment that follows a blank)
 * or double-quoted (no escapes: a quoted value cannot hold '"').
 */
static int
key_value(struct conf_parser *p, const char *s)
{
	struct build *b = build_of(p);
	const struct keydef *table, *k;
	char key[CONF_LINE_MAX + 1], val[CONF_LINE_MAX + 1];
	const char *eq, *v, *ve;
	size_t klen, n;

	if ((eq = strchr(s, '=')) == NULL) {
		conf_err(p, "missing '=' in \"%s\"", s);
		return -1;
	}
	for (klen = (size_t)(eq - s); klen > 0 && is_ws(s[klen - 1]); klen--)
		;
	if (klen == 0) {
		conf_err(p, "missing key before '='");
		return -1;
	}
	memcpy(key, s, klen);
	key[klen] = '\0';

	v = eq + 1;
	skip_ws(&v);
	if (*v == '"') {
		v++;
		if ((ve = strchr(v, '"')) == NULL) {
			conf_err(p, "unterminated quote in value of %s", key);
			return -1;
		}
		if (!is_rest_empty(ve + 1)) {
			conf_err(p, "text after quoted value of %s: \"%s\"",
			    key, ve + 1);
			return -1;
		}
	} else {
		for (ve = v; *ve != '\0'; ve++)
			if ((*ve == '#' || *ve == ';') &&
			    (ve == v || is_ws(ve[-1])))
				break;
		while (ve > v && is_ws(ve[-1]))
			ve--;
	}
	memcpy(val, v, (size_t)(ve - v));
	val[ve - v] = '\0';

	/* In any section or none: the files' lines stand in its place. */
	if (strcmp(key, "include") == 0)
		return include(p, val) ? 0 : -1;
	if (b->skip)
		return 0;
	switch (p->section) {
	case CONF_SEC_GLOBAL:
		table = global_keys;
		n = sizeof(global_keys) / sizeof(global_keys[0]);
		break;
	case CONF_SEC_RELAY:
	case CONF_SEC_INTEGRATED:
		table = relay_keys;
		n = sizeof(relay_keys) / sizeof(relay_keys[0]);
		break;
	case CONF_SEC_CONNECTOR:
		return conf_connector_key(p, key, val);
	default:
		conf_err(p, "key \"%s\" outside a section", key);
		return -1;
	}
	k = bsearch(key, table, n, sizeof(*table), keycmp);
	/* The stream-side keys first, then the integrated table. */
	if (p->section == CONF_SEC_INTEGRATED &&
	    (k == NULL || k->parse == parse_gateway))
		return conf_integrated_key(p, key, val);
	if (k == NULL) {
		conf_err(p, "unknown key \"%s\" in [%s] section", key,
		    p->section == CONF_SEC_GLOBAL ? "global" : "relay");
		return -1;
	}
	if (!k->repeatable && (b->seen & (1u << (k - table)))) {
		if (p->section == CONF_SEC_GLOBAL)
			conf_err(p, "duplicate key \"%s\" in [global]", key);
		else
			conf_err(p, "duplicate key \"%s\" in [%s %s]", key,
			    conf_relay_kind(p->cur), p->cur->name);
		return -1;
	}
	b->seen |= 1u << (k - table);
	return k->parse(p, val) ? 0 : -1;
}

/* Counts a line; false (said once a file) past CONF_LOC_LINE_MAX - 1. */
static bool
next_line(struct conf_parser *p)
{
	struct build *b = build_of(p);

	if (CONF_LOC_LINE(p->lineno + 1) == CONF_LOC_LINE_MAX) {
		if (!b->too_long) {
			p->lineno++;
			conf_err(p, "more than %d lines in one file",
			    CONF_LOC_LINE_MAX - 1);
			b->too_long = true;
		}
		return false;
	}
	p->lineno++;
	return true;
}

int
conf_line(struct conf_parser *p, const char *line)
{
	char buf[CONF_LINE_MAX + 1];
	size_t len = strlen(line);
	unsigned before;
	const char *s;
	int rc;

	if (p->conf == NULL)
		return -1;	/* conf_init() failed */
	if (!next_line(p))
		return -1;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > CONF_LINE_MAX) {
		conf_err(p, "line longer than %d characters", CONF_LINE_MAX);
		return -1;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	s = buf;
	skip_ws(&s);
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	before = p->errors;
	rc = *s == '[' ? section_header(p, s) : key_value(p, s);
	assert(rc == 0 || p->errors > before);
	return rc;
}

/*
 * A relay forwards each message as one UDP datagram, so max-message may not
 * pass what one datagram to the gateway carries: 65535 less the IPv4 and
 * UDP headers, or less the UDP header for IPv6 (RFC 8200 §5: the payload
 * length excludes the fixed header; no jumbograms).  Beyond it the frame
 * would be read and then dropped by the kernel.  The default follows the
 * gateway's family; a value written in the file is refused at its line.
 */
static void
udp_message_check(struct conf_parser *p, struct conf_relay *r)
{
	size_t max = r->gateway.ss.ss_family == AF_INET6 ?
	    CONF_UDP6_PAYLOAD_MAX : CONF_UDP4_PAYLOAD_MAX;

	if (r->max_message <= max)
		return;
	if (r->max_message_line == 0) {
		r->max_message = max;
		return;
	}
	conf_err_at(p, r->max_message_line, "[relay %s]: max-message %zu > "
	    "%zu, the largest UDP payload to an IPv%c gateway (%s)", r->name,
	    r->max_message, max,
	    r->gateway.ss.ss_family == AF_INET6 ? '6' : '4', r->gateway.text);
}

/*
 * Marked IKE (port-4500 form) must never reach the gateway's IKE port:
 * there the marker reads as a zero SPIi and every message is dropped.  So
 * the gateway's port (where marked IKE and ESP go) is never 500, which
 * is what gateway-ike-port is for, and gateway-ike-port differs from it
 * (RFC 7296 §2.23, RFC 3948 §2.2).
 */
static void
gateway_port_check(struct conf_parser *p, struct conf_relay *r)
{
	const struct sockaddr_storage *ss = &r->gateway.ss;
	uint16_t port = ntohs(ss->ss_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)ss)->sin6_port :
	    ((const struct sockaddr_in *)ss)->sin_port);

	if (port == CONF_IKE_PORT)
		conf_err_at(p, r->gateway_line, "[relay %s]: gateway %s: "
		    "port %u takes IKE without the Non-ESP marker; use "
		    "port 4500, with gateway-ike-port = %u for IKE_SA_INIT",
		    r->name, r->gateway.text, port, CONF_IKE_PORT);
	else if (r->gateway_ike_port == port)
		conf_err_at(p, r->gateway_ike_port_line, "[relay %s]: "
		    "gateway-ike-port %u is the gateway's port (%s), which "
		    "takes IKE behind the Non-ESP marker: give another",
		    r->name, port, r->gateway.text);
}

struct conf *
conf_finish(struct conf_parser *p)
{
	struct build *b;
	struct conf *c = NULL;

	if (p->conf == NULL)
		return NULL;
	b = build_of(p);
	for (size_t i = 0; i < b->conf.nrelays; i++) {
		struct conf_relay *r = &b->conf.relays[i];
		const char *kind = conf_relay_kind(r);

		if (r->nlisten == 0 && r->ntls_listen == 0 &&
		    (r->integ == NULL || r->integ->nudp_listen == 0))
			conf_err_at(p, r->line, "[%s %s]: missing listen "
			    "or tls-listen%s", kind, r->name,
			    r->backend == CONF_BACKEND_INTEGRATED ?
			    " or udp-listen" : "");
		if (r->backend == CONF_BACKEND_RELAY && r->gateway.len == 0)
			conf_err_at(p, r->line, "[relay %s]: missing gateway",
			    r->name);
		if (r->backend == CONF_BACKEND_RELAY && r->gateway.len != 0) {
			udp_message_check(p, r);
			gateway_port_check(p, r);
			for (size_t j = 0; j < r->ngateway_source; j++)
				if (r->gateway_source[j].ss.ss_family !=
				    r->gateway.ss.ss_family)
					conf_err_at(p, r->gateway_source_line[j],
					    "[relay %s]: gateway-source %s is "
					    "not of the gateway's address "
					    "family (%s)", r->name,
					    r->gateway_source[j].text,
					    r->gateway.text);
		}
		if (r->write_buffer < r->max_message + 2)
			conf_err_at(p, r->line, "[%s %s]: write-buffer %zu "
			    "< max-message + 2 (%zu)", kind, r->name,
			    r->write_buffer, r->max_message + 2);
		if (b->conf.write_buffer_total < r->write_buffer)
			conf_err_at(p, b->conf.write_buffer_total_line,
			    "write-buffer-total %zu < write-buffer %zu of "
			    "[%s %s]", b->conf.write_buffer_total,
			    r->write_buffer, kind, r->name);
	}
	conf_layers_check(p, &b->conf);
	conf_integrated_finish(p);
	conf_connector_finish(p);
	if (p->errors > 0)
		goto fail;
	if ((c = malloc(sizeof(*c))) == NULL) {
		log_warn("%s", p->file);
		goto fail;
	}
	*c = b->conf;
	b->conf.relays = NULL;
	b->conf.connectors = NULL;
	b->conf.files = NULL;
fail:
	build_free(b);
	memset(p, 0, sizeof(*p));
	return c;
}

/* The line is bad before conf_line() could see it. */
static void
bad_line(struct conf_parser *p, const char *what)
{
	if (next_line(p))
		conf_err(p, "%s", what);
}

int
conf_read_private(const char *path, size_t max, unsigned char **data,
    size_t *len)
{
	struct stat st;

	if (fs_read_stat(path, data, len, &st) == -1) {
		if (errno == EFBIG)
			log_warnx("%s: larger than %zu bytes", path,
			    max < FS_FILE_MAX ? max : (size_t)FS_FILE_MAX);
		else if (errno == EISDIR)
			log_warnx("%s: not a regular file", path);
		else
			log_warn("%s", path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		log_warnx("%s: mode %04o gives group or others access; "
		    "chmod 600", path, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (*len > max) {
		log_warnx("%s: larger than %zu bytes", path, max);
		goto fail;
	}
	return 0;
fail:
	OPENSSL_clear_free(*data, *len + 1);
	*data = NULL;
	return -1;
}

/* Every line of @data through conf_line(), a line too long or with a NUL
 * reported as such. */
static void
read_lines(struct conf_parser *p, const unsigned char *data, size_t len)
{
	char buf[CONF_LINE_MAX + 2];	/* one more: conf_line strips '\r' */
	const unsigned char *s = data, *end = data + len;

	while (s < end) {
		const unsigned char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl != NULL ? nl : end) - s);

		if (memchr(s, '\0', n) != NULL)
			bad_line(p, "embedded NUL character");
		else if (n > sizeof(buf) - 1)
			bad_line(p, "line longer than " CONF_LINE_MAX_TEXT
			    " characters");
		else {
			memcpy(buf, s, n);
			buf[n] = '\0';
			conf_line(p, buf);
		}
		s = nl != NULL ? nl + 1 : end;
	}
}

struct conf *
conf_load(const char *path)
{
	struct conf_parser p;
	struct build *b;
	unsigned char *data;
	struct stat st;
	size_t len;

	if (fs_read_stat(path, &data, &len, &st) == -1) {
		if (errno == EFBIG)
			log_warnx("%s: %s", path, fs_strerror(errno));
		else
			log_warn("%s", path);
		return NULL;
	}
	if (conf_init(&p, path) == -1) {
		free(data);
		return NULL;
	}
	/* The first file is on the stack too: including it is a cycle. */
	b = build_of(&p);
	b->open[0].dev = st.st_dev;
	b->open[0].ino = st.st_ino;
	b->nopen = 1;
	read_lines(&p, data, len);
	free(data);
	return conf_finish(&p);
}

struct conf *
conf_ref(struct conf *c)
{
	c->refs++;
	return c;
}

void
conf_unref(struct conf *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	relays_free(c->relays, c->nrelays);
	free(c->connectors);
	files_free(c->files, c->nfiles);
	free(c);
}

bool
conf_is_idle(const struct conf *c)
{
	return c->nrelays == 0 && c->nconnectors == 0;
}
