/*
 * HTTP CONNECT on llhttp.  The relay reads one request head, answers it,
 * and hands the bytes after the head to the next layer; the connector sends
 * a request and reads the proxy's response head the same way.  llhttp
 * pauses with HPE_PAUSED_UPGRADE right after a CONNECT head, and
 * llhttp_get_error_pos() then points at the first byte of the tunnel.
 */
#include <sys/stat.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "llhttp.h"

#include "framing/wire.h"
#include "relay/log.h"
#include "tls/connect.h"

enum {
	PORT_DIGITS_MAX = 5,
	B64_QUANTUM = 4,
	CRED_DECODED_MAX = CONNECT_USER_MAX + 1 + CONNECT_PASS_MAX,
	CRED_B64_MAX = (CRED_DECODED_MAX + 2) / 3 * 4,
	/* llhttp: on_headers_complete returning 2 means "no body, pause". */
	HEADERS_NO_BODY_PAUSE = 2,
};

struct connect_cred {
	char		 user[CONNECT_USER_MAX];	/* zero-padded */
	size_t		 user_len;			/* bytes */
	char		 pass[CONNECT_PASS_MAX];	/* zero-padded */
	size_t		 pass_len;			/* bytes */
};

struct connect_creds {
	struct connect_cred *v;		/* entries */
	size_t		 n;		/* used */
	size_t		 cap;		/* allocated */
};

static struct connect_srv *
srv_of(llhttp_t *h)
{
	return (struct connect_srv *)(void *)((char *)h -
	    offsetof(struct connect_srv, parser));
}

/* Record why a callback stops llhttp; llhttp then returns an error. */
static int
srv_reject(struct connect_srv *srv, int status, const char *why)
{
	if (srv->status == 0) {
		srv->status = status;
		srv->error = why;
	}
	return -1;
}

/* RFC 3986 §3.2.3 port, kept strict: 1..65535, no leading zeros. */
static bool
parse_port(const char *s, size_t n, uint16_t *port)
{
	uint32_t v = 0;

	if (n == 0 || n > PORT_DIGITS_MAX || s[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > UINT16_MAX)
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool
is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/*
 * RFC 9110 §9.3.6: the CONNECT target is authority-form, host:port
 * (RFC 9112 §3.2.3).  Accepts a DNS name or IPv4 literal, or an IPv6
 * literal in brackets; no userinfo, no IPvFuture.
 */
static bool
parse_authority(const char *s, size_t n, char host[static CONNECT_HOST_MAX + 1],
    uint16_t *port)
{
	struct in6_addr a6;
	const char *colon = NULL;
	size_t hlen;

	for (size_t i = 0; i < n; i++)
		if (s[i] == ':')
			colon = s + i;
	if (colon == NULL || !parse_port(colon + 1, n - (size_t)(colon - s) - 1,
	    port))
		return false;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen > CONNECT_HOST_MAX)
		return false;
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']')
			return false;
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = '\0';
		if (memchr(host, '\0', hlen - 2) != NULL ||
		    inet_pton(AF_INET6, host, &a6) != 1)
			return false;
		return true;
	}
	for (size_t i = 0; i < hlen; i++)
		if (!is_host_char(s[i]))
			return false;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	return true;
}

/* Only CONNECT is served; anything else is 405 before its target is read. */
static int
srv_method_complete_cb(llhttp_t *h)
{
	struct connect_srv *srv = srv_of(h);

	if (llhttp_get_method(h) != HTTP_CONNECT)
		return srv_reject(srv, 405, "method is not CONNECT");
	return 0;
}

/* The request target arrives in pieces; bound it as it comes. */
static int
srv_url_cb(llhttp_t *h, const char *at, size_t len)
{
	struct connect_srv *srv = srv_of(h);

	if (len > CONNECT_AUTHORITY_MAX - srv->authority_len)
		return srv_reject(srv, 400, "authority longer than 261 bytes");
	memcpy(srv->authority + srv->authority_len, at, len);
	srv->authority_len += len;
	srv->authority[srv->authority_len] = '\0';
	return 0;
}

static int
srv_url_complete_cb(llhttp_t *h)
{
	struct connect_srv *srv = srv_of(h);

	if (!parse_authority(srv->authority, srv->authority_len, srv->host,
	    &srv->port))
		return srv_reject(srv, 400, "target is not host:port");
	return 0;
}

static int
srv_header_field_cb(llhttp_t *h, const char *at, size_t len)
{
	struct connect_srv *srv = srv_of(h);
	size_t room = sizeof(srv->field) - srv->field_len;

	if (srv->field_len < sizeof(srv->field))
		memcpy(srv->field + srv->field_len, at,
		    len < room ? len : room);
	srv->field_len += len;
	return 0;
}

static int
srv_header_field_complete_cb(llhttp_t *h)
{
	static const char name[] = "Proxy-Authorization";
	struct connect_srv *srv = srv_of(h);

	srv->in_proxy_auth = srv->field_len == sizeof(name) - 1 &&
	    strncasecmp(srv->field, name, sizeof(name) - 1) == 0;
	srv->field_len = 0;
	if (srv->in_proxy_auth && srv->has_proxy_auth)
		return srv_reject(srv, 400, "repeated Proxy-Authorization");
	return 0;
}

static int
srv_header_value_cb(llhttp_t *h, const char *at, size_t len)
{
	struct connect_srv *srv = srv_of(h);

	if (!srv->in_proxy_auth)
		return 0;
	if (len > CONNECT_AUTH_VALUE_MAX - srv->proxy_auth_len)
		return srv_reject(srv, 431, "Proxy-Authorization too long");
	memcpy(srv->proxy_auth + srv->proxy_auth_len, at, len);
	srv->proxy_auth_len += len;
	return 0;
}

static int
srv_header_value_complete_cb(llhttp_t *h)
{
	struct connect_srv *srv = srv_of(h);

	if (!srv->in_proxy_auth)
		return 0;
	/* RFC 9110 §5.5: trailing OWS is not part of the value. */
	while (srv->proxy_auth_len > 0 &&
	    (srv->proxy_auth[srv->proxy_auth_len - 1] == ' ' ||
	    srv->proxy_auth[srv->proxy_auth_len - 1] == '\t'))
		srv->proxy_auth_len--;
	srv->proxy_auth[srv->proxy_auth_len] = '\0';
	srv->has_proxy_auth = true;
	srv->in_proxy_auth = false;
	return 0;
}

static int
srv_headers_complete_cb(llhttp_t *h)
{
	struct connect_srv *srv = srv_of(h);

	if (llhttp_get_http_major(h) != 1)
		return srv_reject(srv, 400, "HTTP version is not 1.x");
	/*
	 * RFC 9110 §9.3.6: a CONNECT request has no content, so bytes after
	 * the head are the tunnel's.  A request that announces a body is
	 * ambiguous about where the tunnel starts.
	 */
	if ((h->flags & F_TRANSFER_ENCODING) != 0 ||
	    ((h->flags & F_CONTENT_LENGTH) != 0 && h->content_length > 0))
		return srv_reject(srv, 400, "CONNECT request with a body");
	return 0;
}

void
connect_srv_init(struct connect_srv *srv, size_t max_header_bytes)
{
	memset(srv, 0, sizeof(*srv));
	llhttp_settings_init(&srv->settings);
	srv->settings.on_method_complete = srv_method_complete_cb;
	srv->settings.on_url = srv_url_cb;
	srv->settings.on_url_complete = srv_url_complete_cb;
	srv->settings.on_header_field = srv_header_field_cb;
	srv->settings.on_header_field_complete = srv_header_field_complete_cb;
	srv->settings.on_header_value = srv_header_value_cb;
	srv->settings.on_header_value_complete = srv_header_value_complete_cb;
	srv->settings.on_headers_complete = srv_headers_complete_cb;
	llhttp_init(&srv->parser, HTTP_REQUEST, &srv->settings);
	srv->max_header_bytes = max_header_bytes;
	srv->result = CONNECT_NEED_MORE;
}

/*
 * Run llhttp over at most the bytes the head may still take.  Shared by both
 * sides: returns the llhttp error and sets *@used on HPE_PAUSED_UPGRADE.
 */
static llhttp_errno_t
execute(llhttp_t *h, size_t max, size_t *seen, const uint8_t *p, size_t n,
    size_t *used)
{
	size_t room = max - *seen, k = n < room ? n : room;
	llhttp_errno_t err;

	*used = 0;
	if (k == 0)
		return HPE_OK;
	err = llhttp_execute(h, (const char *)p, k);
	if (err == HPE_OK)
		*used = k;
	else if (err == HPE_PAUSED_UPGRADE)
		*used = (size_t)(llhttp_get_error_pos(h) - (const char *)p);
	*seen += *used;
	return err;
}

enum connect_result
connect_srv_feed(struct connect_srv *srv, const uint8_t *p, size_t n,
    size_t *consumed)
{
	llhttp_errno_t err;
	size_t used;

	*consumed = 0;
	if (srv->result != CONNECT_NEED_MORE)
		return srv->result;
	err = execute(&srv->parser, srv->max_header_bytes, &srv->seen, p, n,
	    &used);
	switch (err) {
	case HPE_OK:
		/* The head is not complete and may not grow any further. */
		if (srv->seen >= srv->max_header_bytes) {
			srv_reject(srv, 431, "request head over the bound");
			break;
		}
		*consumed = used;
		return CONNECT_NEED_MORE;
	case HPE_PAUSED_UPGRADE:
		*consumed = used;
		srv->result = CONNECT_OK;
		return CONNECT_OK;
	case HPE_INVALID_METHOD:
		srv_reject(srv, 405, "method is not CONNECT");
		break;
	default:
		srv_reject(srv, 400, llhttp_get_error_reason(&srv->parser));
		break;
	}
	srv->result = CONNECT_ERROR;
	return CONNECT_ERROR;
}

size_t
connect_srv_response(int status, char *buf, size_t cap)
{
	static const struct {
		int		 status;
		const char	*text;	/* status line and extra headers */
	} tab[] = {
		{ 400, "400 Bad Request\r\n" },
		{ 403, "403 Forbidden\r\n" },
		{ 405, "405 Method Not Allowed\r\nAllow: CONNECT\r\n" },
		{ 407, "407 Proxy Authentication Required\r\n"
		    "Proxy-Authenticate: Basic realm=\"iketcp\"\r\n" },
		{ 408, "408 Request Timeout\r\n" },
		{ 431, "431 Request Header Fields Too Large\r\n" },
		{ 500, "500 Internal Server Error\r\n" },
		{ 502, "502 Bad Gateway\r\n" },
		{ 503, "503 Service Unavailable\r\n" },
		{ 504, "504 Gateway Timeout\r\n" },
	};
	int len = -1;

	if (status == 200)
		len = snprintf(buf, cap,
		    "HTTP/1.1 200 Connection established\r\n\r\n");
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].status == status)
			len = snprintf(buf, cap, "HTTP/1.1 %s"
			    "Connection: close\r\nContent-Length: 0\r\n\r\n",
			    tab[i].text);
	if (len < 0 || (size_t)len >= cap)
		return 0;
	return (size_t)len;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict RFC 4648 §4 decoding: whole quanta, '=' only at the end, no other
 * characters, zero pad bits (§3.5).
 */
static bool
b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	struct wr w = wr_make(out, cap);

	if (n == 0 || n % B64_QUANTUM != 0)
		return false;
	for (size_t i = 0; i < n; i += B64_QUANTUM) {
		bool last = i + B64_QUANTUM == n;
		int v[B64_QUANTUM];
		size_t pad = 0;
		uint32_t q;

		for (size_t j = 0; j < B64_QUANTUM; j++) {
			if (last && j >= 2 && in[i + j] == '=') {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[j] = b64_value(in[i + j])) < 0)
				return false;
		}
		q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if ((pad == 2 && (q & 0xffff) != 0) ||
		    (pad == 1 && (q & 0xff) != 0))
			return false;
		wr_u8(&w, (uint8_t)(q >> 16));
		if (pad < 2)
			wr_u8(&w, (uint8_t)(q >> 8));
		if (pad < 1)
			wr_u8(&w, (uint8_t)q);
	}
	*len = w.len;
	return wr_ok(&w);
}

bool
connect_auth_check(const char *header_value, const struct connect_creds *creds)
{
	static const char scheme[] = "Basic";
	uint8_t dec[CRED_DECODED_MAX];
	char user[CONNECT_USER_MAX] = { 0 }, pass[CONNECT_PASS_MAX] = { 0 };
	const char *t, *colon;
	size_t dlen = 0, ulen, plen;
	unsigned match = 0;
	bool ok = false;

	if (header_value == NULL || creds == NULL)
		return false;
	/* RFC 9110 §11.1: the scheme is case-insensitive; then 1*SP. */
	if (strncasecmp(header_value, scheme, sizeof(scheme) - 1) != 0 ||
	    header_value[sizeof(scheme) - 1] != ' ')
		return false;
	t = header_value + sizeof(scheme) - 1;
	while (*t == ' ')
		t++;
	if (strlen(t) > CRED_B64_MAX ||
	    !b64_decode(t, strlen(t), dec, sizeof(dec), &dlen))
		goto out;
	/* RFC 7617 §2: the user-id ends at the first colon. */
	colon = memchr(dec, ':', dlen);
	if (colon == NULL)
		goto out;
	ulen = (size_t)((const uint8_t *)colon - dec);
	plen = dlen - ulen - 1;
	if (ulen > sizeof(user) || plen > sizeof(pass))
		goto out;
	memcpy(user, dec, ulen);
	memcpy(pass, colon + 1, plen);
	/* Every entry is compared in full, so timing shows no prefix. */
	for (size_t i = 0; i < creds->n; i++) {
		const struct connect_cred *e = &creds->v[i];

		unsigned u, w;

		u = CRYPTO_memcmp(e->user, user, sizeof(user)) == 0;
		w = CRYPTO_memcmp(e->pass, pass, sizeof(pass)) == 0;
		match |= (unsigned)(e->user_len == ulen) & u &
		    (unsigned)(e->pass_len == plen) & w;
	}
	ok = match != 0;
out:
	OPENSSL_cleanse(dec, sizeof(dec));
	OPENSSL_cleanse(user, sizeof(user));
	OPENSSL_cleanse(pass, sizeof(pass));
	return ok;
}

/* Check one "user:password" line and append it; false with a message. */
static bool
creds_add(struct connect_creds *c, const char *line, size_t len,
    const char **why)
{
	const char *colon = memchr(line, ':', len);
	struct connect_cred *e, *v;
	size_t ulen, plen;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
			*why = "control character";
			return false;
		}
	if (colon == NULL) {
		*why = "expected user:password";
		return false;
	}
	ulen = (size_t)(colon - line);
	plen = len - ulen - 1;
	if (ulen == 0 || plen == 0) {
		*why = ulen == 0 ? "empty user" : "empty password";
		return false;
	}
	if (ulen > CONNECT_USER_MAX || plen > CONNECT_PASS_MAX) {
		*why = ulen > CONNECT_USER_MAX ? "user longer than 64 bytes" :
		    "password longer than 128 bytes";
		return false;
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].user_len == ulen &&
		    memcmp(c->v[i].user, line, ulen) == 0) {
			*why = "duplicate user";
			return false;
		}
	if (c->n == CONNECT_CREDS_MAX) {
		*why = "more than 4096 users";
		return false;
	}
	if (c->n == c->cap) {
		/* Grow by hand so the old copy can be wiped. */
		size_t ncap = c->cap ? c->cap * 2 : 8;

		if ((v = calloc(ncap, sizeof(*v))) == NULL) {
			*why = "out of memory";
			return false;
		}
		if (c->n > 0)
			memcpy(v, c->v, c->n * sizeof(*v));
		if (c->v != NULL)
			OPENSSL_cleanse(c->v, c->cap * sizeof(*c->v));
		free(c->v);
		c->v = v;
		c->cap = ncap;
	}
	e = &c->v[c->n++];
	memcpy(e->user, line, ulen);
	e->user_len = ulen;
	memcpy(e->pass, colon + 1, plen);
	e->pass_len = plen;
	return true;
}

struct connect_creds *
connect_creds_parse(const unsigned char *data, size_t len, const char *path)
{
	const unsigned char *p = data, *end = data + len;
	struct connect_creds *c;
	size_t lineno = 0;
	const char *why;
	bool bad = false;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line = (const char *)p;
		size_t n = (size_t)((nl != NULL ? nl : end) - p), k;

		p = nl != NULL ? nl + 1 : end;
		lineno++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		for (k = 0; k < n && (line[k] == ' ' || line[k] == '\t'); k++)
			;
		if (k == n || line[k] == '#')
			continue;
		if (memchr(line, '\0', n) != NULL) {
			log_warnx("%s:%zu: NUL byte", path, lineno);
			bad = true;
		} else if (!creds_add(c, line, n, &why)) {
			log_warnx("%s:%zu: %s", path, lineno, why);
			bad = true;
		}
	}
	if (!bad && c->n == 0) {
		log_warnx("%s: no credentials", path);
		bad = true;
	}
	if (bad) {
		connect_creds_free(c);
		return NULL;
	}
	return c;
}

void
connect_creds_free(struct connect_creds *creds)
{
	if (creds == NULL)
		return;
	if (creds->v != NULL)
		OPENSSL_cleanse(creds->v, creds->cap * sizeof(*creds->v));
	free(creds->v);
	free(creds);
}

size_t
connect_creds_count(const struct connect_creds *creds)
{
	return creds == NULL ? 0 : creds->n;
}

size_t
connect_cli_request(char *buf, size_t cap, const char *authority,
    const char *user, const char *pass)
{
	char host[CONNECT_HOST_MAX + 1], pair[CRED_DECODED_MAX + 1];
	char b64[CRED_B64_MAX + 1];
	size_t alen, ulen, plen;
	uint16_t port;
	int len = -1;

	if (authority == NULL)
		return 0;
	alen = strlen(authority);
	if (alen > CONNECT_AUTHORITY_MAX ||
	    !parse_authority(authority, alen, host, &port))
		return 0;
	if (user == NULL) {
		/* RFC 9110 §9.3.6: the Host is the target authority. */
		len = snprintf(buf, cap, "CONNECT %s HTTP/1.1\r\n"
		    "Host: %s\r\n\r\n", authority, authority);
		goto out;
	}
	if (pass == NULL)
		goto out;
	ulen = strlen(user);
	plen = strlen(pass);
	/* RFC 7617 §2: no colon in the user-id, no controls in either. */
	if (ulen == 0 || ulen > CONNECT_USER_MAX || plen > CONNECT_PASS_MAX ||
	    strchr(user, ':') != NULL)
		goto out;
	for (size_t i = 0; i < ulen; i++)
		if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			goto out;
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)pass[i] < 0x20 || pass[i] == 0x7f)
			goto out;
	memcpy(pair, user, ulen);
	pair[ulen] = ':';
	memcpy(pair + ulen + 1, pass, plen);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pair,
	    (int)(ulen + 1 + plen));
	len = snprintf(buf, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
	    "Proxy-Authorization: Basic %s\r\n\r\n", authority, authority, b64);
	OPENSSL_cleanse(pair, sizeof(pair));
	OPENSSL_cleanse(b64, sizeof(b64));
out:
	if (len < 0 || (size_t)len >= cap) {
		if (cap > 0 && len >= 0)
			OPENSSL_cleanse(buf, cap);
		return 0;
	}
	return (size_t)len;
}

/*
 * RFC 9112 §6.3: a 2xx answer to CONNECT has no body, whatever its headers
 * say, and the tunnel starts right after the head.  Returning 2 makes
 * llhttp stop there for every status; only the head matters to us.
 */
static int
cli_headers_complete_cb(llhttp_t *h)
{
	return HEADERS_NO_BODY_PAUSE;
}

void
connect_cli_init(struct connect_cli *cli, size_t max_header_bytes)
{
	memset(cli, 0, sizeof(*cli));
	llhttp_settings_init(&cli->settings);
	cli->settings.on_headers_complete = cli_headers_complete_cb;
	llhttp_init(&cli->parser, HTTP_RESPONSE, &cli->settings);
	cli->max_header_bytes = max_header_bytes;
	cli->result = CONNECT_NEED_MORE;
}

enum connect_result
connect_cli_feed(struct connect_cli *cli, const uint8_t *p, size_t n,
    size_t *consumed)
{
	llhttp_errno_t err;
	size_t used;

	*consumed = 0;
	if (cli->result != CONNECT_NEED_MORE)
		return cli->result;
	err = execute(&cli->parser, cli->max_header_bytes, &cli->seen, p, n,
	    &used);
	switch (err) {
	case HPE_OK:
		if (cli->seen >= cli->max_header_bytes) {
			cli->status = 431;
			cli->error = "response head over the bound";
			break;
		}
		*consumed = used;
		return CONNECT_NEED_MORE;
	case HPE_PAUSED_UPGRADE:
		cli->status = llhttp_get_status_code(&cli->parser);
		if (cli->status >= 200 && cli->status <= 299) {
			*consumed = used;
			cli->result = CONNECT_OK;
			return CONNECT_OK;
		}
		cli->error = "proxy refused the CONNECT";
		break;
	default:
		cli->status = 0;
		cli->error = llhttp_get_error_reason(&cli->parser);
		break;
	}
	cli->result = CONNECT_ERROR;
	return CONNECT_ERROR;
}
