/*
 * The connector's originated stream (RFC 9329 §6: the TCP originator
 * connects, and reconnects when the stream breaks).  It carries one
 * session's messages to the server; it knows nothing of what they mean.
 *
 * Output is one buffer of write-buffer bytes that always holds, from the
 * start of a connection, the prefix and then whole frames, so a broken
 * connection drops what was in flight and the next one starts clean.
 * Below it, optionally, an HTTP CONNECT through a proxy, then TLS.
 *
 * A new connection must name the session to the server by its first
 * message (an IKE SPI, or an ESP SPI from the same address).  The
 * initiator may have nothing to send for a long time (a download waits
 * for data that the server cannot deliver until the stream is named), so
 * a reconnect begins with a copy of the initiator's last ESP message: the
 * server re-attaches by its SPI and its anti-replay check drops the copy
 * (RFC 4303 §3.4.3).  It is replayed once, not on every attempt.
 */
#ifndef IKETCP_CSTREAM_H
#define IKETCP_CSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "framing/decoder.h"

struct relay;
struct conf_connector;
struct cstream;
struct connect_cli;
struct ssl_ctx_st;		/* SSL_CTX, without including OpenSSL */
struct ssl_st;			/* SSL */
struct ssl_session_st;		/* SSL_SESSION */

/*
 * One message from the server.  Returns -1 when the callback closed the
 * stream (cstream_reset or the owner's close), 0 to go on.
 */
typedef int cstream_msg_fn(struct cstream *cs, const uint8_t *p, size_t n);

enum cstream_state {
	CSTREAM_DOWN,		/* no connection; the retry timer runs */
	CSTREAM_CONNECTING,	/* non-blocking connect() in progress */
	CSTREAM_PROXY,		/* CONNECT to http-proxy, awaiting 2xx */
	CSTREAM_TLS,		/* TLS handshake with the server */
	CSTREAM_UP,		/* prefix first, then frames both ways */
};

struct cstream_stats {
	unsigned long long connects;	/* connections that came up */
	unsigned long long breaks;	/* connections lost */
	unsigned long long dropped;	/* messages refused: buffer full */
	unsigned long long replayed;	/* ESP copies opening a stream */
};

struct cstream {
	struct relay	*r;
	const struct conf_connector *cc;
	cstream_msg_fn	*on_msg;
	char		 tag[128];	/* "connector NAME session N" */
	enum cstream_state state;
	int		 fd;		/* -1 while down */
	ev_io		 rio, wio;
	ev_timer	 deadline;	/* connect (+ proxy, TLS) */
	ev_timer	 retry;		/* back-off, then reconnect */
	unsigned	 backoff_ms;	/* next back-off step, 0 = min */
	bool		 proven;	/* the server sent us a message */
	struct frame_dec dec;
	struct ssl_ctx_st *ssl_ctx;	/* tls = yes: the connector's */
	const char	*sni;		/* server name sent, verified */
	struct ssl_st	*ssl;		/* while connected with TLS */
	struct ssl_session_st *tls_sess; /* resumed by the next connection */
	bool		 write_wants_read; /* TLS write waits for input */
	struct connect_cli *proxy;	/* response parser, while PROXY */
	char		*hs;		/* CONNECT request (PROXY) */
	size_t		 hs_off, hs_len;
	uint8_t		*out;		/* write-buffer bytes */
	size_t		 out_off, out_len; /* bytes sent / held */
	size_t		 prefix_len;	/* prefix bytes at out[0] */
	uint8_t		*last_esp;	/* the initiator's last ESP */
	size_t		 last_esp_len;	/* 0: none, or replayed */
	char		 local[64];	/* our ip:port, for logs */
	struct cstream_stats stats;
};

/* @ssl_ctx (tls = yes) and @sni (may be NULL) must outlive the stream. */
int	cstream_init(struct cstream *cs, struct relay *r,
	    const struct conf_connector *cc, struct ssl_ctx_st *ssl_ctx,
	    const char *sni, cstream_msg_fn *on_msg, const char *tag);
/* Connects now (the first time) or after back-off. */
void	cstream_start(struct cstream *cs);
/*
 * Frames one message; with @marker, the 4-octet Non-ESP marker goes
 * before it (IKE that came from port 500).  When the buffer is short, ESP
 * leaves max-message + 2 bytes for IKE (DESIGN.md, bounds).  Returns
 * false when the message was dropped.
 */
bool	cstream_send(struct cstream *cs, bool marker, const uint8_t *p,
	    size_t n, bool ike);
/* Drops the connection and reconnects after back-off. */
void	cstream_reset(struct cstream *cs, const char *reason);
/* Closes the connection, if any, and does not reconnect; what was queued
 * is dropped.  cstream_start opens the next one. */
void	cstream_stop(struct cstream *cs, const char *reason);
void	cstream_cleanup(struct cstream *cs);

#endif /* IKETCP_CSTREAM_H */
