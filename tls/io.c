/*
 * Non-blocking TLS: a read BIO that serves the bytes the caller fed, and
 * a socket BIO for writing.  The feed BIO keeps only a pointer and a
 * length (no copy, nothing held while a stream is idle); when it is empty
 * it asks for a retry, which OpenSSL reports as SSL_ERROR_WANT_READ.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls/io.h"

struct feed {
	const uint8_t	*p;	/* next unread ciphertext byte */
	size_t		 n;	/* bytes left */
};

static BIO_METHOD *feed_method;

static int
feed_read(BIO *b, char *out, size_t cap, size_t *got)
{
	struct feed *f = BIO_get_data(b);
	size_t k;

	BIO_clear_retry_flags(b);
	if (f->n == 0) {
		BIO_set_retry_read(b);
		*got = 0;
		return 0;
	}
	k = cap < f->n ? cap : f->n;
	memcpy(out, f->p, k);
	f->p += k;
	f->n -= k;
	*got = k;
	return 1;
}

static long
feed_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct feed *f = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_PENDING:
		return (long)f->n;
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int
feed_create(BIO *b)
{
	struct feed *f = OPENSSL_zalloc(sizeof(*f));

	if (f == NULL)
		return 0;
	BIO_set_data(b, f);
	BIO_set_init(b, 1);
	return 1;
}

static int
feed_destroy(BIO *b)
{
	OPENSSL_free(BIO_get_data(b));
	BIO_set_data(b, NULL);
	return 1;
}

static BIO_METHOD *
feed_meth(void)
{
	BIO_METHOD *m;

	if (feed_method != NULL)
		return feed_method;
	if ((m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "iketcp feed")) == NULL)
		return NULL;
	if (!BIO_meth_set_read_ex(m, feed_read) ||
	    !BIO_meth_set_ctrl(m, feed_ctrl) ||
	    !BIO_meth_set_create(m, feed_create) ||
	    !BIO_meth_set_destroy(m, feed_destroy)) {
		BIO_meth_free(m);
		return NULL;
	}
	feed_method = m;
	return m;
}

static SSL *
io_new(SSL_CTX *ctx, int fd)
{
	BIO_METHOD *m = feed_meth();
	BIO *rb = NULL, *wb = NULL;
	SSL *ssl;

	if (m == NULL || (ssl = SSL_new(ctx)) == NULL)
		return NULL;
	if ((rb = BIO_new(m)) == NULL ||
	    (wb = BIO_new_socket(fd, BIO_NOCLOSE)) == NULL) {
		BIO_free(rb);
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_bio(ssl, rb, wb);
	return ssl;
}

SSL *
tls_io_new(SSL_CTX *ctx, int fd)
{
	SSL *ssl = io_new(ctx, fd);

	if (ssl != NULL)
		SSL_set_accept_state(ssl);
	return ssl;
}

SSL *
tls_io_new_client(SSL_CTX *ctx, int fd, const char *sni)
{
	SSL *ssl = io_new(ctx, fd);

	if (ssl == NULL)
		return NULL;
	if (sni != NULL && *sni != '\0' &&
	    (!SSL_set_tlsext_host_name(ssl, sni) || !SSL_set1_host(ssl, sni))) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

void
tls_io_free(SSL *ssl)
{
	SSL_free(ssl);
}

void
tls_io_feed(SSL *ssl, const uint8_t *p, size_t n)
{
	struct feed *f = BIO_get_data(SSL_get_rbio(ssl));

	f->p = p;
	f->n = n;
}

size_t
tls_io_unread(SSL *ssl)
{
	struct feed *f = BIO_get_data(SSL_get_rbio(ssl));

	return f->n;
}

static enum tls_io_result
result(SSL *ssl, int rc)
{
	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_NONE:
		return TLS_IO_OK;
	case SSL_ERROR_WANT_READ:
		return TLS_IO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_IO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return TLS_IO_CLOSED;
	default:
		return TLS_IO_ERROR;
	}
}

enum tls_io_result
tls_io_handshake(SSL *ssl)
{
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(ssl);
	return rc == 1 ? TLS_IO_OK : result(ssl, rc);
}

enum tls_io_result
tls_io_read(SSL *ssl, uint8_t *buf, size_t cap, size_t *n)
{
	ERR_clear_error();
	errno = 0;
	*n = 0;
	if (SSL_read_ex(ssl, buf, cap, n) == 1)
		return TLS_IO_OK;
	return result(ssl, 0);
}

enum tls_io_result
tls_io_write(SSL *ssl, const uint8_t *p, size_t len, size_t *n)
{
	ERR_clear_error();
	errno = 0;
	*n = 0;
	if (SSL_write_ex(ssl, p, len, n) == 1)
		return TLS_IO_OK;
	return result(ssl, 0);
}

void
tls_io_shutdown(SSL *ssl)
{
	ERR_clear_error();
	if (SSL_is_init_finished(ssl))
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
}

const char *
tls_io_strerror(SSL *ssl, char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, buf, cap);
	else if (errno != 0)
		snprintf(buf, cap, "%s", strerror(errno));
	else
		snprintf(buf, cap, "connection closed without close_notify");
	ERR_clear_error();
	return buf;
}

const char *
tls_io_describe(SSL *ssl, char *buf, size_t cap)
{
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	snprintf(buf, cap, "%s %s%s%s%s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl), SSL_session_reused(ssl) ?
	    " resumed" : "", sni ? " sni=" : "", sni ? sni : "");
	return buf;
}
