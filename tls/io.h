/*
 * Non-blocking TLS on a socket, driven by the caller's event loop.
 *
 * Ciphertext from the peer is not read by OpenSSL: the stream reads the
 * socket itself (so the bytes it already read to recognise a ClientHello
 * are not lost) and hands them over with tls_io_feed().  OpenSSL writes
 * ciphertext straight to the socket.  Every call maps OpenSSL's result to
 * enum tls_io_result, which the caller turns into watcher state.
 */
#ifndef IKETCP_TLS_IO_H
#define IKETCP_TLS_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

enum tls_io_result {
	TLS_IO_OK,		/* done, or *@n bytes moved */
	TLS_IO_WANT_READ,	/* feed more ciphertext */
	TLS_IO_WANT_WRITE,	/* wait until the socket is writable */
	TLS_IO_CLOSED,		/* close_notify from the peer */
	TLS_IO_ERROR,		/* fatal: see tls_io_strerror() */
};

/* A server-side SSL for @fd; NULL on failure. */
SSL	*tls_io_new(SSL_CTX *ctx, int fd);
/* A client-side SSL for @fd that sends @sni (may be NULL) and, when the
 * context verifies, checks the certificate names @sni; NULL on failure. */
SSL	*tls_io_new_client(SSL_CTX *ctx, int fd, const char *sni);
void	 tls_io_free(SSL *ssl);
/* Makes @p..@p+@n the ciphertext OpenSSL reads next; the bytes must stay
 * valid until the calls that follow have consumed them (they are all
 * consumed by the time a call returns WANT_READ). */
void	 tls_io_feed(SSL *ssl, const uint8_t *p, size_t n);
/* Ciphertext fed but not consumed yet. */
size_t	 tls_io_unread(SSL *ssl);
enum tls_io_result tls_io_handshake(SSL *ssl);
enum tls_io_result tls_io_read(SSL *ssl, uint8_t *buf, size_t cap,
	    size_t *n);
enum tls_io_result tls_io_write(SSL *ssl, const uint8_t *p, size_t len,
	    size_t *n);
/* Sends close_notify if the socket takes it; never waits. */
void	 tls_io_shutdown(SSL *ssl);
/* The reason for the last TLS_IO_ERROR (clears OpenSSL's error queue);
 * @buf of at least 128 bytes. */
const char *tls_io_strerror(SSL *ssl, char *buf, size_t cap);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384 resumed sni=x" for logs. */
const char *tls_io_describe(SSL *ssl, char *buf, size_t cap);

#endif /* IKETCP_TLS_IO_H */
