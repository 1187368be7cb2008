/*
 * The layers in front of the stream prefix: PROXY header, TLS, HTTP
 * CONNECT, each recognised from its first bytes (tls/sniff.c), in any
 * sensible nesting, within handshake-timeout.
 */
#ifndef IKETCP_LAYERS_H
#define IKETCP_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct route_layers;
struct stream;

/* Bytes a stream may hold before its prefix, for these layers. */
size_t	layers_hs_cap(const struct route_layers *lay);
/* Plaintext bytes while st->state < STREAM_PREFIX; the bytes after the
 * layers go on to the frames.  -1 when the stream was closed. */
int	layers_input(struct stream *st, const uint8_t *p, size_t n);
/* handshake-timeout before the prefix: answer 408 to a CONNECT, close. */
void	layers_timeout(struct stream *st);
/* OpenSSL servername callback: routes by SNI, switches the context. */
int	layers_sni_cb(SSL *ssl, int *alert, void *arg);

#endif /* IKETCP_LAYERS_H */
