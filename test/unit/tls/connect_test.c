/*
 * HTTP CONNECT: server-side request heads (whole, byte by byte, at every
 * split), each error status, the header-byte bound, Basic authorisation and
 * credentials files, and the client side's request and response handling.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "conf/conf.h"
#include "conf/fileset.h"
#include "tls/connect.h"

TestSuite(connect, .timeout = 10);

enum { HEAD_MAX = 8192 };

static const char tail[] = "IKETCP";	/* the next layer's first bytes */

struct good {
	const char	*name;
	const char	*head;		/* request head */
	const char	*authority;	/* expected authority */
	const char	*host;		/* expected host, no brackets */
	uint16_t	 port;		/* expected port */
	const char	*auth;		/* expected Proxy-Authorization */
};

static const struct good goods[] = {
	{ "name and Host",
	  "CONNECT gw.example.net:443 HTTP/1.1\r\n"
	  "Host: gw.example.net:443\r\n"
	  "\r\n",
	  "gw.example.net:443", "gw.example.net", 443, NULL },
	{ "IPv4 literal, HTTP/1.0, no Host",
	  "CONNECT 192.0.2.7:4500 HTTP/1.0\r\n"
	  "\r\n",
	  "192.0.2.7:4500", "192.0.2.7", 4500, NULL },
	{ "IPv6 literal",
	  "CONNECT [2001:db8::1]:4500 HTTP/1.1\r\n"
	  "Host: [2001:db8::1]:4500\r\n"
	  "User-Agent: test\r\n"
	  "\r\n",
	  "[2001:db8::1]:4500", "2001:db8::1", 4500, NULL },
	{ "Proxy-Authorization, any case, trailing blanks",
	  "CONNECT gw:443 HTTP/1.1\r\n"
	  "Host: gw:443\r\n"
	  "proxy-AUTHORIZATION:   Basic dXNlcjpwYXNz \t\r\n"
	  "Proxy-Connection: keep-alive\r\n"
	  "\r\n",
	  "gw:443", "gw", 443, "Basic dXNlcjpwYXNz" },
	{ "Content-Length 0",
	  "CONNECT gw:1 HTTP/1.1\r\n"
	  "Content-Length: 0\r\n"
	  "\r\n",
	  "gw:1", "gw", 1, NULL },
	{ "port 65535, name with _ and -",
	  "CONNECT a_b-c.d:65535 HTTP/1.1\r\n\r\n",
	  "a_b-c.d:65535", "a_b-c.d", 65535, NULL },
};

static void
expect_parsed(const struct good *g, const struct connect_srv *srv)
{
	cr_expect_str_eq(srv->authority, g->authority, "%s", g->name);
	cr_expect_eq(srv->authority_len, strlen(g->authority), "%s", g->name);
	cr_expect_str_eq(srv->host, g->host, "%s", g->name);
	cr_expect_eq(srv->port, g->port, "%s", g->name);
	cr_expect_eq(srv->has_proxy_auth, g->auth != NULL, "%s", g->name);
	if (g->auth != NULL)
		cr_expect_str_eq(srv->proxy_auth, g->auth, "%s", g->name);
}

/* Head + tail in one buffer, fed in two pieces split at @split. */
static void
feed_split(const struct good *g, size_t split)
{
	struct connect_srv srv;
	char buf[1024];
	size_t hlen = strlen(g->head), n = hlen + sizeof(tail) - 1;
	size_t used = 0, total;
	enum connect_result r;

	memcpy(buf, g->head, hlen);
	memcpy(buf + hlen, tail, sizeof(tail) - 1);
	connect_srv_init(&srv, HEAD_MAX);
	r = connect_srv_feed(&srv, (const uint8_t *)buf, split, &used);
	total = used;
	if (split < hlen) {
		cr_assert_eq(r, CONNECT_NEED_MORE, "%s: split %zu: %s",
		    g->name, split, srv.error ? srv.error : "");
		cr_assert_eq(used, split);
		r = connect_srv_feed(&srv, (const uint8_t *)buf + split,
		    n - split, &used);
		total += used;
	}
	cr_assert_eq(r, CONNECT_OK, "%s: split %zu: %d %s", g->name, split,
	    srv.status, srv.error ? srv.error : "");
	cr_assert_eq(total, hlen, "%s: split %zu: consumed %zu", g->name,
	    split, total);
	cr_assert_eq(memcmp(buf + total, tail, sizeof(tail) - 1), 0);
	expect_parsed(g, &srv);
}

Test(connect, server_parses_good_requests_at_every_split)
{
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		size_t n = strlen(goods[i].head) + sizeof(tail) - 1;

		for (size_t split = 0; split <= n; split++)
			feed_split(&goods[i], split);
	}
}

Test(connect, server_parses_good_requests_byte_by_byte)
{
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		struct connect_srv srv;
		size_t hlen = strlen(g->head), used;
		enum connect_result r = CONNECT_NEED_MORE;

		connect_srv_init(&srv, HEAD_MAX);
		for (size_t k = 0; k < hlen; k++) {
			r = connect_srv_feed(&srv, (const uint8_t *)g->head + k,
			    1, &used);
			cr_assert_eq(r, k + 1 < hlen ? CONNECT_NEED_MORE :
			    CONNECT_OK, "%s: byte %zu", g->name, k);
			cr_assert_eq(used, 1);
		}
		/* The head is over: the tail is not the server's. */
		r = connect_srv_feed(&srv, (const uint8_t *)tail, 6, &used);
		cr_expect_eq(r, CONNECT_OK);
		cr_expect_eq(used, 0);
		expect_parsed(g, &srv);
	}
}

struct bad {
	const char	*name;
	const char	*head;		/* request head */
	int		 status;	/* expected answer */
};

static const struct bad bads[] = {
	{ "GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 405 },
	{ "POST", "POST /x HTTP/1.1\r\n\r\n", 405 },
	{ "unknown method", "FOO gw:443 HTTP/1.1\r\n\r\n", 405 },
	{ "no port", "CONNECT gw HTTP/1.1\r\n\r\n", 400 },
	{ "empty port", "CONNECT gw: HTTP/1.1\r\n\r\n", 400 },
	{ "port 0", "CONNECT gw:0 HTTP/1.1\r\n\r\n", 400 },
	{ "port 65536", "CONNECT gw:65536 HTTP/1.1\r\n\r\n", 400 },
	{ "port leading zero", "CONNECT gw:0443 HTTP/1.1\r\n\r\n", 400 },
	{ "port letters", "CONNECT gw:https HTTP/1.1\r\n\r\n", 400 },
	{ "empty host", "CONNECT :443 HTTP/1.1\r\n\r\n", 400 },
	{ "userinfo", "CONNECT u@gw:443 HTTP/1.1\r\n\r\n", 400 },
	{ "origin-form", "CONNECT /gw:443 HTTP/1.1\r\n\r\n", 400 },
	{ "absolute-form", "CONNECT http://gw:443 HTTP/1.1\r\n\r\n", 400 },
	{ "bare IPv6", "CONNECT 2001:db8::1:443 HTTP/1.1\r\n\r\n", 400 },
	{ "unclosed bracket", "CONNECT [2001:db8::1:443 HTTP/1.1\r\n\r\n",
	  400 },
	{ "bad IPv6 literal", "CONNECT [2001:zz::1]:443 HTTP/1.1\r\n\r\n",
	  400 },
	{ "empty brackets", "CONNECT []:443 HTTP/1.1\r\n\r\n", 400 },
	{ "HTTP/2.0", "CONNECT gw:443 HTTP/2.0\r\n\r\n", 400 },
	{ "Content-Length 5", "CONNECT gw:443 HTTP/1.1\r\n"
	  "Content-Length: 5\r\n\r\n", 400 },
	{ "Transfer-Encoding", "CONNECT gw:443 HTTP/1.1\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", 400 },
	{ "two Proxy-Authorization", "CONNECT gw:443 HTTP/1.1\r\n"
	  "Proxy-Authorization: Basic a\r\n"
	  "Proxy-Authorization: Basic b\r\n\r\n", 400 },
	{ "header without colon", "CONNECT gw:443 HTTP/1.1\r\n"
	  "Bad Header\r\n\r\n", 400 },
	{ "TLS bytes", "\x16\x03\x01\x02\x00\x01", 405 },
};

Test(connect, server_answers_each_malformed_request_with_its_status)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct connect_srv srv;
		size_t used = 99;
		enum connect_result r;

		connect_srv_init(&srv, HEAD_MAX);
		r = connect_srv_feed(&srv, (const uint8_t *)b->head,
		    strlen(b->head), &used);
		cr_expect_eq(r, CONNECT_ERROR, "%s: result %d", b->name, r);
		cr_expect_eq(srv.status, b->status, "%s: status %d (%s)",
		    b->name, srv.status, srv.error ? srv.error : "");
		cr_expect_not_null(srv.error, "%s", b->name);
		cr_expect_eq(used, 0, "%s", b->name);
		/* Sticky: more input changes nothing. */
		r = connect_srv_feed(&srv, (const uint8_t *)"\r\n", 2, &used);
		cr_expect_eq(r, CONNECT_ERROR, "%s", b->name);
		cr_expect_eq(used, 0);
	}
}

Test(connect, server_rejects_authority_over_261_bytes)
{
	char head[512], host[300];
	struct connect_srv srv;
	size_t used;

	/* 255-byte name + ":443" = 259 bytes: fits. */
	memset(host, 'a', 255);
	host[255] = '\0';
	snprintf(head, sizeof(head), "CONNECT %s:443 HTTP/1.1\r\n\r\n", host);
	connect_srv_init(&srv, HEAD_MAX);
	cr_expect_eq(connect_srv_feed(&srv, (const uint8_t *)head,
	    strlen(head), &used), CONNECT_OK, "%s", srv.error);
	/* 256-byte name: over the host bound. */
	memset(host, 'a', 256);
	host[256] = '\0';
	snprintf(head, sizeof(head), "CONNECT %s:443 HTTP/1.1\r\n\r\n", host);
	connect_srv_init(&srv, HEAD_MAX);
	cr_expect_eq(connect_srv_feed(&srv, (const uint8_t *)head,
	    strlen(head), &used), CONNECT_ERROR);
	cr_expect_eq(srv.status, 400);
	/* 262-byte authority: refused while it is still arriving. */
	memset(host, 'a', 257);
	host[257] = '\0';
	snprintf(head, sizeof(head), "CONNECT %s:4433 HTTP/1.1\r\n\r\n", host);
	connect_srv_init(&srv, HEAD_MAX);
	cr_expect_eq(connect_srv_feed(&srv, (const uint8_t *)head,
	    strlen(head), &used), CONNECT_ERROR);
	cr_expect_eq(srv.status, 400);
	cr_expect_str_eq(srv.error, "authority longer than 261 bytes");
}

Test(connect, server_answers_431_to_a_long_proxy_authorization)
{
	char head[1024], val[600];
	struct connect_srv srv;
	size_t used;

	memset(val, 'A', 513);
	val[513] = '\0';
	snprintf(head, sizeof(head), "CONNECT gw:443 HTTP/1.1\r\n"
	    "Proxy-Authorization: %s\r\n\r\n", val);
	connect_srv_init(&srv, HEAD_MAX);
	cr_expect_eq(connect_srv_feed(&srv, (const uint8_t *)head,
	    strlen(head), &used), CONNECT_ERROR);
	cr_expect_eq(srv.status, 431);
}

Test(connect, server_bounds_the_head_and_not_what_follows_it)
{
	static const char head[] = "CONNECT gw:443 HTTP/1.1\r\n"
	    "Host: gw:443\r\n\r\n";
	size_t hlen = sizeof(head) - 1, used;
	struct connect_srv srv;
	char buf[256];

	memcpy(buf, head, hlen);
	memcpy(buf + hlen, tail, sizeof(tail) - 1);
	/* A head of exactly the bound, with the tail in the same read. */
	connect_srv_init(&srv, hlen);
	cr_expect_eq(connect_srv_feed(&srv, (const uint8_t *)buf,
	    hlen + 6, &used), CONNECT_OK);
	cr_expect_eq(used, hlen);
	/* One byte less: 431 as soon as the bound is reached. */
	connect_srv_init(&srv, hlen - 1);
	cr_expect_eq(connect_srv_feed(&srv, (const uint8_t *)buf,
	    hlen + 6, &used), CONNECT_ERROR);
	cr_expect_eq(srv.status, 431);
	/* The same, byte by byte. */
	connect_srv_init(&srv, hlen - 1);
	for (size_t k = 0; k + 2 < hlen; k++)
		cr_assert_eq(connect_srv_feed(&srv, (const uint8_t *)buf + k,
		    1, &used), CONNECT_NEED_MORE, "byte %zu", k);
	cr_expect_eq(connect_srv_feed(&srv, (const uint8_t *)buf + hlen - 2,
	    1, &used), CONNECT_ERROR);
	cr_expect_eq(srv.status, 431);
}

Test(connect, server_answers_431_to_endless_headers)
{
	struct connect_srv srv;
	static const char line[] = "X-Filler: 0123456789\r\n";
	size_t used, fed = 0;
	enum connect_result r;

	connect_srv_init(&srv, 1024);
	r = connect_srv_feed(&srv, (const uint8_t *)"CONNECT gw:1 HTTP/1.1\r\n",
	    23, &used);
	while (r == CONNECT_NEED_MORE && fed < 4096) {
		r = connect_srv_feed(&srv, (const uint8_t *)line,
		    sizeof(line) - 1, &used);
		fed += sizeof(line) - 1;
	}
	cr_expect_eq(r, CONNECT_ERROR);
	cr_expect_eq(srv.status, 431);
	cr_expect_leq(srv.seen, 1024);
}

Test(connect, builds_responses)
{
	char buf[CONNECT_RESPONSE_MAX];
	size_t n;

	n = connect_srv_response(200, buf, sizeof(buf));
	cr_expect_str_eq(buf, "HTTP/1.1 200 Connection established\r\n\r\n");
	cr_expect_eq(n, strlen(buf));
	n = connect_srv_response(407, buf, sizeof(buf));
	cr_expect_str_eq(buf, "HTTP/1.1 407 Proxy Authentication Required\r\n"
	    "Proxy-Authenticate: Basic realm=\"iketcp\"\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n");
	cr_expect_eq(n, strlen(buf));
	connect_srv_response(405, buf, sizeof(buf));
	cr_expect_str_eq(buf, "HTTP/1.1 405 Method Not Allowed\r\n"
	    "Allow: CONNECT\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
	connect_srv_response(431, buf, sizeof(buf));
	cr_expect_str_eq(buf, "HTTP/1.1 431 Request Header Fields Too Large\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n");
	static const int all[] = { 400, 403, 408, 500, 502, 503, 504 };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char want[16];

		snprintf(want, sizeof(want), "HTTP/1.1 %d ", all[i]);
		cr_expect_gt(connect_srv_response(all[i], buf, sizeof(buf)), 0);
		cr_expect_eq(strncmp(buf, want, strlen(want)), 0, "%d", all[i]);
		cr_expect_not_null(strstr(buf, "Connection: close\r\n"));
	}
}

Test(connect, refuses_unknown_status_and_small_buffers)
{
	char buf[CONNECT_RESPONSE_MAX];

	cr_expect_eq(connect_srv_response(418, buf, sizeof(buf)), 0);
	cr_expect_eq(connect_srv_response(200, buf, 10), 0);
	cr_expect_eq(connect_srv_response(200, buf, 39), 0);
	cr_expect_eq(connect_srv_response(200, buf, 40), 39);
}

/* Write @text to a new file of mode @mode; returns its path. */
static char *
write_creds(const char *text, mode_t mode)
{
	char *path = strdup("/tmp/iketcp-creds-XXXXXX");
	int fd;

	cr_assert_not_null(path);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

/* As relay/route.c loads connect-auth-file. */
static struct connect_creds *
creds_load(const char *path)
{
	struct connect_creds *creds;
	unsigned char *buf;
	size_t len;

	if (conf_read_private(path, FS_FILE_MAX, &buf, &len) == -1)
		return NULL;
	creds = connect_creds_parse(buf, len, path);
	OPENSSL_clear_free(buf, len + 1);
	return creds;
}

static struct connect_creds *
load(const char *text, mode_t mode)
{
	char *path = write_creds(text, mode);
	struct connect_creds *c = creds_load(path);

	unlink(path);
	free(path);
	return c;
}

/* "Basic " + base64(@pair), built with OpenSSL's encoder. */
static void
basic(char *out, const char *pair)
{
	strcpy(out, "Basic ");
	EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)pair,
	    (int)strlen(pair));
}

static const char creds_text[] =
    "# users of the test relay\n"
    "\n"
    "   # an indented comment\n"
    "user:pass\n"
    "alice:s3cr:et\r\n"		/* password with a colon, CRLF line */
    "bob:p a s s";		/* spaces, no final newline */

Test(connect, loads_credentials_and_checks_basic_auth)
{
	struct connect_creds *c = load(creds_text, 0600);
	char v[256];

	cr_assert_not_null(c);
	cr_expect_eq(connect_creds_count(c), 3);
	cr_expect(connect_auth_check("Basic dXNlcjpwYXNz", c));
	cr_expect(connect_auth_check("basic   dXNlcjpwYXNz", c));
	cr_expect(connect_auth_check("BASIC dXNlcjpwYXNz", c));
	basic(v, "alice:s3cr:et");
	cr_expect(connect_auth_check(v, c));
	basic(v, "bob:p a s s");
	cr_expect(connect_auth_check(v, c));
	connect_creds_free(c);
	connect_creds_free(NULL);
}

Test(connect, refuses_wrong_or_missing_credentials)
{
	struct connect_creds *c = load(creds_text, 0600);
	static const char *const pairs[] = {
		"user:pas",		/* password prefix */
		"user:passs",		/* password longer */
		"user:Pass",		/* case differs */
		"alice:s3cr",		/* cut at the inner colon */
		"users:pass",		/* unknown user */
		"use:pass",
		":pass",		/* empty user */
		"user:",		/* empty password */
		"alice:pass",		/* another user's password */
	};
	char v[256];

	cr_assert_not_null(c);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		basic(v, pairs[i]);
		cr_expect(!connect_auth_check(v, c), "%s", pairs[i]);
	}
	cr_expect(!connect_auth_check(NULL, c), "missing header");
	cr_expect(!connect_auth_check("", c), "empty header");
	cr_expect(!connect_auth_check("Basic dXNlcjpwYXNz", NULL), "no creds");
	cr_expect(!connect_auth_check("Bearer dXNlcjpwYXNz", c));
	cr_expect(!connect_auth_check("Basicx dXNlcjpwYXNz", c));
	cr_expect(!connect_auth_check("BasicdXNlcjpwYXNz", c));
	cr_expect(!connect_auth_check("Basic", c));
	cr_expect(!connect_auth_check("Basic ", c));
	connect_creds_free(c);
}

Test(connect, refuses_malformed_base64)
{
	struct connect_creds *c = load(creds_text, 0600);
	static const char *const vals[] = {
		"Basic dXNlcjpwYXN",	/* not whole quanta */
		"Basic dXNlcjpwYXNz=",
		"Basic dXNl*jpwYXNz",	/* character outside the alphabet */
		"Basic dXNl cjpwYXNz",	/* inner space */
		"Basic dXNlcjpwYXNz\t",	/* trailing tab */
		"Basic dX==cjpwYXNz",	/* padding before the end */
		"Basic dXNlcjpwYX=z",	/* padding then data */
		"Basic dXNlcjpwYXM==",	/* too much padding */
		"Basic dXNlcjpwYXN=",	/* non-zero pad bits */
		"Basic dXNlcnBhc3M=",	/* "userpass": no colon */
	};

	cr_assert_not_null(c);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		cr_expect(!connect_auth_check(vals[i], c), "%s", vals[i]);
	/* The canonical "user:pas" decodes; it is just the wrong password. */
	cr_expect(!connect_auth_check("Basic dXNlcjpwYXM=", c));
	/*
	 * RFC 4648 §3.5: non-zero pad bits are refused even where lenient
	 * decoding would give valid credentials.
	 */
	cr_expect(connect_auth_check("Basic YWxpY2U6czNjcjpldA==", c));
	cr_expect(!connect_auth_check("Basic YWxpY2U6czNjcjpldB==", c));
	cr_expect(connect_auth_check("Basic Ym9iOnAgYSBzIHM=", c));
	cr_expect(!connect_auth_check("Basic Ym9iOnAgYSBzIHN=", c));
	connect_creds_free(c);
}

Test(connect, refuses_an_over_long_authorization)
{
	struct connect_creds *c = load(creds_text, 0600);
	char pair[400], v[700];

	cr_assert_not_null(c);
	memset(pair, 'p', sizeof(pair) - 1);
	memcpy(pair, "user:", 5);
	pair[sizeof(pair) - 1] = '\0';
	basic(v, pair);
	cr_expect(!connect_auth_check(v, c));
	connect_creds_free(c);
}

Test(connect, refuses_credentials_files_open_to_group_or_others)
{
	static const mode_t modes[] = { 0640, 0604, 0620, 0602, 0610, 0644 };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		cr_expect_null(load("user:pass\n", modes[i]), "mode %o",
		    (unsigned)modes[i]);
	cr_expect_null(creds_load("/nonexistent/iketcp-creds"));
	cr_expect_null(creds_load("/tmp"), "a directory");
}

Test(connect, refuses_each_bad_credentials_line)
{
	char user65[80], pass129[160], line[300];
	struct connect_creds *c;
	static const char *const texts[] = {
		"userpass\n",			/* no colon */
		":pass\n",			/* empty user */
		"user:\n",			/* empty password */
		"user:pass\nuser:other\n",	/* duplicate user */
		"us\ter:pass\n",		/* control character */
		"user:pa\x7fss\n",		/* DEL */
		"# only a comment\n\n",		/* no credentials */
		"",				/* empty file */
		"ok:fine\nbad\n",		/* one bad line spoils all */
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		cr_expect_null(load(texts[i], 0600), "case %zu", i);

	memset(user65, 'u', 65);
	user65[65] = '\0';
	snprintf(line, sizeof(line), "%s:pass\n", user65);
	cr_expect_null(load(line, 0600), "user of 65 bytes");
	user65[64] = '\0';
	snprintf(line, sizeof(line), "%s:pass\n", user65);
	c = load(line, 0600);
	cr_expect_not_null(c, "user of 64 bytes");
	connect_creds_free(c);
	memset(pass129, 'p', 129);
	pass129[129] = '\0';
	snprintf(line, sizeof(line), "user:%s\n", pass129);
	cr_expect_null(load(line, 0600), "password of 129 bytes");
}

Test(connect, client_builds_requests)
{
	char buf[CONNECT_REQUEST_MAX];
	size_t n;

	n = connect_cli_request(buf, sizeof(buf), "gw.example.net:443", NULL,
	    NULL);
	cr_expect_str_eq(buf, "CONNECT gw.example.net:443 HTTP/1.1\r\n"
	    "Host: gw.example.net:443\r\n\r\n");
	cr_expect_eq(n, strlen(buf));
	n = connect_cli_request(buf, sizeof(buf), "[2001:db8::1]:4500", "user",
	    "pass");
	cr_expect_str_eq(buf, "CONNECT [2001:db8::1]:4500 HTTP/1.1\r\n"
	    "Host: [2001:db8::1]:4500\r\n"
	    "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n");
	cr_expect_eq(n, strlen(buf));
}

Test(connect, client_refuses_bad_request_arguments)
{
	char buf[CONNECT_REQUEST_MAX];

	cr_expect_eq(connect_cli_request(buf, sizeof(buf), "gw", NULL, NULL),
	    0);
	cr_expect_eq(connect_cli_request(buf, sizeof(buf), NULL, NULL, NULL),
	    0);
	cr_expect_eq(connect_cli_request(buf, sizeof(buf),
	    "gw:443\r\nX: y", NULL, NULL), 0);
	cr_expect_eq(connect_cli_request(buf, sizeof(buf), "gw:443", "u:v",
	    "p"), 0);
	cr_expect_eq(connect_cli_request(buf, sizeof(buf), "gw:443", "u",
	    NULL), 0);
	cr_expect_eq(connect_cli_request(buf, sizeof(buf), "gw:443", "u",
	    "p\r\n"), 0);
	cr_expect_eq(connect_cli_request(buf, 20, "gw:443", NULL, NULL), 0);
}

Test(connect, client_request_round_trips_through_the_server)
{
	struct connect_creds *c = load("alice:s3cr:et\n", 0600);
	char buf[CONNECT_REQUEST_MAX];
	struct connect_srv srv;
	size_t n, used;

	cr_assert_not_null(c);
	n = connect_cli_request(buf, sizeof(buf), "gw:4500", "alice",
	    "s3cr:et");
	cr_assert_gt(n, 0);
	connect_srv_init(&srv, HEAD_MAX);
	cr_assert_eq(connect_srv_feed(&srv, (const uint8_t *)buf, n, &used),
	    CONNECT_OK);
	cr_expect_eq(used, n);
	cr_expect_str_eq(srv.authority, "gw:4500");
	cr_expect(srv.has_proxy_auth);
	cr_expect(connect_auth_check(srv.proxy_auth, c));
	connect_creds_free(c);
}

struct resp {
	const char	*name;
	const char	*head;		/* response head */
	size_t		 head_len;	/* bytes of the head proper */
	enum connect_result want;	/* expected result */
	int		 status;	/* expected status */
};

static const struct resp resps[] = {
	{ "200", "HTTP/1.1 200 Connection established\r\n\r\n", 39,
	  CONNECT_OK, 200 },
	{ "HTTP/1.0 200 with headers",
	  "HTTP/1.0 200 OK\r\nProxy-Agent: x\r\n\r\n", 35, CONNECT_OK, 200 },
	{ "204", "HTTP/1.1 204 No Content\r\n\r\n", 27, CONNECT_OK, 204 },
	{ "200 with a Content-Length to ignore",
	  "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 39, CONNECT_OK,
	  200 },
	{ "407", "HTTP/1.1 407 Proxy Authentication Required\r\n"
	  "Proxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
	  0, CONNECT_ERROR, 407 },
	{ "403", "HTTP/1.1 403 Forbidden\r\n\r\n", 0, CONNECT_ERROR, 403 },
	{ "101", "HTTP/1.1 101 Switching Protocols\r\n\r\n", 0,
	  CONNECT_ERROR, 101 },
	{ "garbage", "SSH-2.0-OpenSSH_9.2\r\n", 0, CONNECT_ERROR, 0 },
	{ "bad status", "HTTP/1.1 2x0 OK\r\n\r\n", 0, CONNECT_ERROR, 0 },
};

Test(connect, client_parses_responses_and_leaves_the_tail)
{
	for (size_t i = 0; i < sizeof(resps) / sizeof(resps[0]); i++) {
		const struct resp *rp = &resps[i];
		struct connect_cli cli;
		char buf[512];
		size_t hlen = strlen(rp->head), used = 99;
		enum connect_result r;

		memcpy(buf, rp->head, hlen);
		memcpy(buf + hlen, tail, sizeof(tail) - 1);
		connect_cli_init(&cli, HEAD_MAX);
		r = connect_cli_feed(&cli, (const uint8_t *)buf, hlen + 6,
		    &used);
		cr_expect_eq(r, rp->want, "%s: %d %s", rp->name, cli.status,
		    cli.error ? cli.error : "");
		cr_expect_eq(cli.status, rp->status, "%s: status %d", rp->name,
		    cli.status);
		if (rp->want == CONNECT_OK) {
			cr_expect_eq(hlen, rp->head_len, "%s", rp->name);
			cr_expect_eq(used, hlen, "%s: consumed %zu", rp->name,
			    used);
		} else {
			cr_expect_not_null(cli.error, "%s", rp->name);
			cr_expect_eq(used, 0, "%s: consumed %zu", rp->name,
			    used);
		}
	}
}

Test(connect, client_parses_a_200_byte_by_byte)
{
	static const char head[] = "HTTP/1.1 200 Connection established\r\n"
	    "\r\n";
	struct connect_cli cli;
	size_t used;

	connect_cli_init(&cli, HEAD_MAX);
	for (size_t k = 0; k + 1 < sizeof(head) - 1; k++)
		cr_assert_eq(connect_cli_feed(&cli, (const uint8_t *)head + k,
		    1, &used), CONNECT_NEED_MORE, "byte %zu", k);
	cr_expect_eq(connect_cli_feed(&cli, (const uint8_t *)head +
	    sizeof(head) - 2, 1, &used), CONNECT_OK);
	cr_expect_eq(used, 1);
	cr_expect_eq(connect_cli_feed(&cli, (const uint8_t *)tail, 6, &used),
	    CONNECT_OK);
	cr_expect_eq(used, 0);
}

Test(connect, client_answers_431_to_a_head_over_the_bound)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nX-Pad: 0123456789\r\n"
	    "\r\n";
	struct connect_cli cli;
	size_t used;

	connect_cli_init(&cli, sizeof(head) - 2);
	cr_expect_eq(connect_cli_feed(&cli, (const uint8_t *)head,
	    sizeof(head) - 1, &used), CONNECT_ERROR);
	cr_expect_eq(cli.status, 431);
	connect_cli_init(&cli, sizeof(head) - 1);
	cr_expect_eq(connect_cli_feed(&cli, (const uint8_t *)head,
	    sizeof(head) - 1, &used), CONNECT_OK);
}
