/*
 * tls/ctx.c + tls/io.c: a server and a client SSL over a socketpair, each
 * fed the ciphertext its peer wrote (as the stream does after its own
 * read()), through a handshake, data both ways, resumption by ticket, a
 * NULL suite, close_notify, and garbage that must fail the handshake.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls/ctx.h"
#include "tls/io.h"

struct pair {
	int		 fd[2];		/* 0 server, 1 client */
	SSL		*s, *c;
	SSL_CTX		*sctx, *cctx;
	char		 cert[96], key[96];
	struct tls_server_opts o;
	char		 dir[64];
};

static unsigned char tickets[TLS_TICKET_KEYS];

/* A self-signed P-256 certificate for "relay.test" in @p->dir. */
static void
make_cert(struct pair *p)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;

	cr_assert_not_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"relay.test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	cr_assert(X509_sign(x, k, EVP_sha256()) > 0);
	snprintf(p->cert, sizeof(p->cert), "%s/c.pem", p->dir);
	snprintf(p->key, sizeof(p->key), "%s/k.pem", p->dir);
	cr_assert_not_null(f = fopen(p->cert, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	cr_assert_not_null(f = fopen(p->key, "w"));
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* A pair whose server has tls-null = @server_null (the default is no). */
static void
pair_init_null(struct pair *p, bool null_only, bool server_null)
{
	char err[TLS_ERR_MAX];

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/iketcp-io-XXXXXX");
	cr_assert_not_null(mkdtemp(p->dir));
	make_cert(p);
	p->o.cert = p->cert;
	p->o.key = p->key;
	p->o.null_suites = server_null;
	p->sctx = tls_ctx_server_new(&p->o, tickets, err, sizeof(err));
	cr_assert_not_null(p->sctx, "%s", err);
	p->cctx = tls_ctx_client_new(false, NULL, err, sizeof(err));
	cr_assert_not_null(p->cctx, "%s", err);
	if (null_only) {
		SSL_CTX_set_max_proto_version(p->cctx, TLS1_2_VERSION);
		SSL_CTX_set_security_level(p->cctx, 0);
		cr_assert(SSL_CTX_set_cipher_list(p->cctx, "eNULL"));
	}
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	fcntl(p->fd[0], F_SETFL, O_NONBLOCK);
	fcntl(p->fd[1], F_SETFL, O_NONBLOCK);
	p->s = tls_io_new(p->sctx, p->fd[0]);
	p->c = tls_io_new_client(p->cctx, p->fd[1], "relay.test");
	cr_assert(p->s != NULL && p->c != NULL);
}

static void
pair_init(struct pair *p, bool null_only)
{
	pair_init_null(p, null_only, true);
}

static void
pair_free(struct pair *p)
{
	tls_io_free(p->s);
	tls_io_free(p->c);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
	close(p->fd[0]);
	close(p->fd[1]);
	unlink(p->cert);
	unlink(p->key);
	rmdir(p->dir);
}

/* Reads what is waiting on @fd and feeds it to @ssl; bytes fed. */
static size_t
feed(SSL *ssl, int fd, uint8_t *buf, size_t cap)
{
	ssize_t n = read(fd, buf, cap);

	if (n <= 0)
		return 0;
	tls_io_feed(ssl, buf, (size_t)n);
	return (size_t)n;
}

/* Both handshakes to completion, taking turns. */
static void
handshake(struct pair *p)
{
	static uint8_t buf[65536];
	enum tls_io_result rs = TLS_IO_WANT_READ, rc = TLS_IO_WANT_READ;

	for (int i = 0; i < 20 && (rs != TLS_IO_OK || rc != TLS_IO_OK); i++) {
		if (rc != TLS_IO_OK) {
			feed(p->c, p->fd[1], buf, sizeof(buf));
			rc = tls_io_handshake(p->c);
		}
		if (rs != TLS_IO_OK) {
			feed(p->s, p->fd[0], buf, sizeof(buf));
			rs = tls_io_handshake(p->s);
		}
		cr_assert(rs != TLS_IO_ERROR && rc != TLS_IO_ERROR,
		    "handshake failed at round %d", i);
	}
	cr_assert_eq(rs, TLS_IO_OK);
	cr_assert_eq(rc, TLS_IO_OK);
	cr_assert_eq(tls_io_unread(p->s), 0);
}

/* @from writes @msg; @to reads it back. */
static void
carry(SSL *from, SSL *to, int tofd, const char *msg)
{
	static uint8_t cbuf[65536];
	uint8_t out[256];
	size_t n, got = 0;

	cr_assert_eq(tls_io_write(from, (const uint8_t *)msg, strlen(msg),
	    &n), TLS_IO_OK);
	cr_assert_eq(n, strlen(msg));
	for (int i = 0; i < 5 && got < strlen(msg); i++) {
		feed(to, tofd, cbuf, sizeof(cbuf));
		while (tls_io_read(to, out + got, sizeof(out) - got, &n) ==
		    TLS_IO_OK)
			got += n;
	}
	cr_assert_eq(got, strlen(msg));
	cr_assert_eq(memcmp(out, msg, got), 0);
	tls_io_feed(to, NULL, 0);
}

TestSuite(tls_io);

Test(tls_io, carries_data_both_ways_after_a_handshake, .timeout = 10)
{
	struct pair p;
	char d[128];

	pair_init(&p, false);
	handshake(&p);
	carry(p.c, p.s, p.fd[0], "IKETCP frames");
	carry(p.s, p.c, p.fd[1], "reply");
	tls_io_describe(p.s, d, sizeof(d));
	cr_assert(strstr(d, "TLSv1.3") != NULL, "%s", d);
	cr_assert(strstr(d, "sni=relay.test") != NULL, "%s", d);
	pair_free(&p);
}

Test(tls_io, selects_a_null_suite_when_the_client_offers_only_that,
    .timeout = 10)
{
	struct pair p;

	pair_init(&p, true);
	handshake(&p);
	cr_assert(strstr(SSL_get_cipher_name(p.s), "NULL") != NULL,
	    "cipher %s", SSL_get_cipher_name(p.s));
	carry(p.c, p.s, p.fd[0], "esp over null");
	pair_free(&p);
}

/* tls-null = no, the default: a client that offers only NULL fails. */
Test(tls_io, refuses_a_null_only_client_by_default, .timeout = 10)
{
	static uint8_t buf[65536];
	enum tls_io_result rs = TLS_IO_WANT_READ, rc = TLS_IO_WANT_READ;
	struct pair p;

	pair_init_null(&p, true, false);
	for (int i = 0; i < 20 && rs != TLS_IO_ERROR && rc != TLS_IO_ERROR;
	    i++) {
		feed(p.c, p.fd[1], buf, sizeof(buf));
		rc = tls_io_handshake(p.c);
		feed(p.s, p.fd[0], buf, sizeof(buf));
		rs = tls_io_handshake(p.s);
	}
	cr_assert_eq(rs, TLS_IO_ERROR, "the server took a NULL-only client");
	pair_free(&p);
}

Test(tls_io, reports_close_notify_as_closed, .timeout = 10)
{
	static uint8_t buf[4096];
	struct pair p;
	uint8_t out[16];
	size_t n;

	pair_init(&p, false);
	handshake(&p);
	tls_io_shutdown(p.c);
	feed(p.s, p.fd[0], buf, sizeof(buf));
	cr_assert_eq(tls_io_read(p.s, out, sizeof(out), &n), TLS_IO_CLOSED);
	pair_free(&p);
}

Test(tls_io, fails_the_handshake_on_garbage, .timeout = 10)
{
	/* A handshake record whose ClientHello claims 0xffffff octets. */
	static const uint8_t junk[] = {
		0x16, 0x03, 0x01, 0x00, 0x08,	/* record: handshake, 8 */
		0x01, 0xff, 0xff, 0xff,		/* ClientHello, length */
		0xde, 0xad, 0xbe, 0xef,
	};
	struct pair p;
	char e[256];

	pair_init(&p, false);
	tls_io_feed(p.s, junk, sizeof(junk));
	cr_assert_eq(tls_io_handshake(p.s), TLS_IO_ERROR);
	cr_assert(strlen(tls_io_strerror(p.s, e, sizeof(e))) > 0);
	pair_free(&p);
}

Test(tls_io, resumes_a_session_from_a_ticket, .timeout = 10)
{
	struct pair p, q;
	SSL_SESSION *sess;

	pair_init(&p, false);
	handshake(&p);
	/* TLS 1.3 tickets arrive after the handshake: read them. */
	carry(p.s, p.c, p.fd[1], "x");
	cr_assert_not_null(sess = SSL_get1_session(p.c));
	cr_assert(SSL_SESSION_is_resumable(sess));

	pair_init(&q, false);
	/* A second context with the same ticket keys, as after SIGHUP. */
	cr_assert(SSL_set_session(q.c, sess));
	handshake(&q);
	cr_assert(SSL_session_reused(q.s), "not resumed");
	SSL_SESSION_free(sess);
	pair_free(&p);
	pair_free(&q);
}
