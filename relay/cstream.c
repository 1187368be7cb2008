/*
 * The connector's stream toward the server: connect, [HTTP CONNECT],
 * [TLS], prefix, frames, reconnect with back-off.  RFC 9329 §6: the TCP
 * originator is responsible for re-establishing the TCP connection; the
 * responder accepts the existing SAs on the new connection.
 *
 * State machine:
 *   DOWN --retry--> CONNECTING --> [PROXY] --> [TLS] --> UP
 *     ^                 |             |          |        |
 *     +-----------------+-------------+----------+--------+  error, EOF,
 *                                                            deadline
 * One deadline (handshake-timeout) covers CONNECTING to UP.  The output
 * buffer holds the application bytes (prefix, frames) while the layers
 * below come up, and goes out once UP.  A TLS session is kept across
 * connections so a reconnect resumes it (RFC 9329 Appendix A).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "conf/conf.h"
#include "framing/classify.h"
#include "framing/encoder.h"
#include "framing/prefix.h"
#include "relay/cstream.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "tls/connect.h"
#include "tls/io.h"

static const char *
state_name(enum cstream_state s)
{
	switch (s) {
	case CSTREAM_DOWN:
		return "down";
	case CSTREAM_CONNECTING:
		return "connecting";
	case CSTREAM_PROXY:
		return "proxy";
	case CSTREAM_TLS:
		return "tls";
	case CSTREAM_UP:
		return "up";
	}
	return "?";
}

static void
set_state(struct cstream *cs, enum cstream_state next)
{
	log_debug("%s: %s: %s -> %s", __func__, cs->tag,
	    state_name(cs->state), state_name(next));
	cs->state = next;
}

/* The buffer as a new connection must begin: the prefix alone. */
static void
seed(struct cstream *cs)
{
	const uint8_t *pfx;
	size_t len;

	pfx = prefix_bytes(cs->cc->prefix == CONF_PREFIX_IKEV2 ?
	    PREFIX_IKEV2 : PREFIX_IKETCP, &len);
	memcpy(cs->out, pfx, len);
	cs->prefix_len = len;
	cs->out_off = 0;
	cs->out_len = len;
}

static void
teardown(struct cstream *cs)
{
	struct ev_loop *loop = cs->r->loop;

	ev_io_stop(loop, &cs->rio);
	ev_io_stop(loop, &cs->wio);
	ev_timer_stop(loop, &cs->deadline);
	if (cs->ssl != NULL) {
		SSL_SESSION *sess = SSL_get_session(cs->ssl);

		/*
		 * Keep the server's ticket for the next connection.  A copy:
		 * SSL_free() of a connection that ended without close_notify
		 * marks its cached session not resumable, and a broken
		 * stream is exactly when we want to resume (RFC 9329
		 * Appendix A; IKE and ESP protect their own integrity).
		 */
		if (sess != NULL && SSL_SESSION_is_resumable(sess) &&
		    (sess = SSL_SESSION_dup(sess)) != NULL) {
			SSL_SESSION_free(cs->tls_sess);
			cs->tls_sess = sess;
		}
		tls_io_free(cs->ssl);
		cs->ssl = NULL;
	}
	cs->write_wants_read = false;
	free(cs->proxy);
	cs->proxy = NULL;
	free(cs->hs);
	cs->hs = NULL;
	if (cs->fd != -1)
		close(cs->fd);
	cs->fd = -1;
	free(cs->dec.buf);
	frame_dec_init(&cs->dec, cs->cc->max_message);
}

/* Appends one frame to the output buffer, leaving @reserve bytes free;
 * false when it does not fit. */
static bool
frame_into(struct cstream *cs, bool marker, const uint8_t *p, size_t n,
    size_t reserve)
{
	size_t body = n + (marker ? NON_ESP_MARKER_LEN : 0);
	size_t flen = FRAME_HDR_LEN + body;
	size_t cap = cs->cc->write_buffer;
	uint8_t *at;

	if (body > cs->cc->max_message)
		return false;
	if (cs->out_off > 0 && cs->out_len + flen + reserve > cap) {
		memmove(cs->out, cs->out + cs->out_off,
		    cs->out_len - cs->out_off);
		cs->out_len -= cs->out_off;
		cs->out_off = 0;
	}
	if (cs->out_len + flen + reserve > cap)
		return false;
	at = cs->out + cs->out_len;
	frame_header(at, body);
	at += FRAME_HDR_LEN;
	if (marker) {
		memset(at, 0, NON_ESP_MARKER_LEN);
		at += NON_ESP_MARKER_LEN;
	}
	memcpy(at, p, n);
	cs->out_len += flen;
	return true;
}

void
cstream_reset(struct cstream *cs, const char *reason)
{
	unsigned delay;

	if (cs->state == CSTREAM_UP)
		cs->stats.breaks++;
	teardown(cs);
	seed(cs);
	/* The next connection names the session by ESP SPI (header). */
	if (cs->last_esp_len != 0 && frame_into(cs, false, cs->last_esp,
	    cs->last_esp_len, 0))
		cs->stats.replayed++;
	cs->last_esp_len = 0;
	set_state(cs, CSTREAM_DOWN);
	/* A connection that carried a message from the server resets the
	 * back-off; one that failed before that doubles it. */
	if (cs->proven || cs->backoff_ms == 0)
		cs->backoff_ms = cs->cc->reconnect_min_ms;
	delay = cs->backoff_ms;
	if (cs->backoff_ms <= cs->cc->reconnect_max_ms / 2)
		cs->backoff_ms *= 2;
	else
		cs->backoff_ms = cs->cc->reconnect_max_ms;
	cs->proven = false;
	log_info("%s: stream to %s lost (%s); reconnecting in %u ms",
	    cs->tag, cs->cc->server.text, reason, delay);
	ev_timer_set(&cs->retry, delay / 1000., 0.);
	ev_timer_start(cs->r->loop, &cs->retry);
}

/* Watchers for what the layer below wants next. */
static void
want(struct cstream *cs, bool rd, bool wr)
{
	if (rd)
		ev_io_start(cs->r->loop, &cs->rio);
	else
		ev_io_stop(cs->r->loop, &cs->rio);
	if (wr)
		ev_io_start(cs->r->loop, &cs->wio);
	else
		ev_io_stop(cs->r->loop, &cs->wio);
}

static void
up(struct cstream *cs)
{
	ev_timer_stop(cs->r->loop, &cs->deadline);
	set_state(cs, CSTREAM_UP);
	cs->stats.connects++;
	log_info("%s: stream %llu to %s up from %s%s%s", cs->tag,
	    cs->stats.connects, cs->cc->server.text, cs->local,
	    cs->cc->http_proxy.len != 0 ? " via http-proxy " : "",
	    cs->cc->http_proxy.len != 0 ? cs->cc->http_proxy.text : "");
	want(cs, true, cs->out_len > cs->out_off);
}

/* Runs the TLS handshake as far as it goes; -1 when the stream reset. */
static int
handshake(struct cstream *cs)
{
	char buf[256];

	switch (tls_io_handshake(cs->ssl)) {
	case TLS_IO_OK:
		log_info("%s: TLS %s", cs->tag,
		    tls_io_describe(cs->ssl, buf, sizeof(buf)));
		up(cs);
		return 0;
	case TLS_IO_WANT_READ:
		want(cs, true, false);
		return 0;
	case TLS_IO_WANT_WRITE:
		want(cs, false, true);
		return 0;
	case TLS_IO_CLOSED:
		cstream_reset(cs, "TLS closed during the handshake");
		return -1;
	case TLS_IO_ERROR:
		break;
	}
	snprintf(buf, sizeof(buf), "TLS handshake: ");
	tls_io_strerror(cs->ssl, buf + strlen(buf), sizeof(buf) - strlen(buf));
	cstream_reset(cs, buf);
	return -1;
}

static int
start_tls(struct cstream *cs)
{
	cs->ssl = tls_io_new_client(cs->ssl_ctx, cs->fd, cs->sni);
	if (cs->ssl == NULL) {
		cstream_reset(cs, "TLS: cannot create a client");
		return -1;
	}
	if (cs->tls_sess != NULL)
		SSL_set_session(cs->ssl, cs->tls_sess);
	set_state(cs, CSTREAM_TLS);
	return handshake(cs);
}

/* The layer after the proxy, or after TCP: TLS or the frames. */
static int
next_layer(struct cstream *cs)
{
	if (cs->ssl_ctx != NULL)
		return start_tls(cs);
	up(cs);
	return 0;
}

/* RFC 9110 §9.3.6: CONNECT server:port, then the proxy's 2xx head. */
static int
start_proxy(struct cstream *cs)
{
	const struct conf_connector *cc = cs->cc;
	char user[CONF_SECRET_MAX], *pass = NULL;

	cs->proxy = malloc(sizeof(*cs->proxy));
	cs->hs = malloc(CONNECT_REQUEST_MAX);
	if (cs->proxy == NULL || cs->hs == NULL) {
		cstream_reset(cs, "out of memory");
		return -1;
	}
	if (cc->http_proxy_auth[0] != '\0') {
		snprintf(user, sizeof(user), "%s", cc->http_proxy_auth);
		if ((pass = strchr(user, ':')) != NULL)
			*pass++ = '\0';
	}
	cs->hs_off = 0;
	cs->hs_len = connect_cli_request(cs->hs, CONNECT_REQUEST_MAX,
	    cc->server.text, pass != NULL ? user : NULL, pass);
	OPENSSL_cleanse(user, sizeof(user));
	if (cs->hs_len == 0) {
		cstream_reset(cs, "cannot build the CONNECT request");
		return -1;
	}
	connect_cli_init(cs->proxy, CONNECT_RESPONSE_MAX * 16);
	set_state(cs, CSTREAM_PROXY);
	want(cs, true, true);
	return 0;
}

static void
connected(struct cstream *cs)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(cs->fd, (struct sockaddr *)&ss, &len) == 0)
		sockaddr_text(&ss, cs->local, sizeof(cs->local));
	if (cs->cc->http_proxy.len != 0)
		start_proxy(cs);
	else
		next_layer(cs);
}

static void
cstream_connect(struct cstream *cs)
{
	const struct conf_addr *a = cs->cc->http_proxy.len != 0 ?
	    &cs->cc->http_proxy : &cs->cc->server;
	int one = 1;

	cs->fd = socket(a->ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cs->fd == -1) {
		cstream_reset(cs, strerror(errno));
		return;
	}
	/* Frames are gathered per loop turn already; IKE must not wait. */
	(void)setsockopt(cs->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev_io_set(&cs->rio, cs->fd, EV_READ);
	ev_io_set(&cs->wio, cs->fd, EV_WRITE);
	ev_timer_set(&cs->deadline, cs->cc->handshake_timeout_ms / 1000., 0.);
	ev_timer_start(cs->r->loop, &cs->deadline);
	if (connect(cs->fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
		connected(cs);
		return;
	}
	if (errno != EINPROGRESS) {
		cstream_reset(cs, strerror(errno));
		return;
	}
	set_state(cs, CSTREAM_CONNECTING);
	want(cs, false, true);
}

static void
cstream_retry_cb(EV_P_ ev_timer *w, int revents)
{
	struct cstream *cs = container_of(w, struct cstream, retry);

	cstream_connect(cs);
}

static void
cstream_deadline_cb(EV_P_ ev_timer *w, int revents)
{
	struct cstream *cs = container_of(w, struct cstream, deadline);
	char why[64];

	snprintf(why, sizeof(why), "handshake timeout in state %s",
	    state_name(cs->state));
	cstream_reset(cs, why);
}

/* Pending application bytes -> TLS or the socket. */
static void
flush_out(struct cstream *cs)
{
	size_t n = 0;
	ssize_t w;

	if (cs->ssl != NULL) {
		switch (tls_io_write(cs->ssl, cs->out + cs->out_off,
		    cs->out_len - cs->out_off, &n)) {
		case TLS_IO_OK:
			break;
		case TLS_IO_WANT_WRITE:
			return;
		case TLS_IO_WANT_READ:
			/* Resumed from the read callback. */
			cs->write_wants_read = true;
			ev_io_stop(cs->r->loop, &cs->wio);
			return;
		case TLS_IO_CLOSED:
			cstream_reset(cs, "TLS closed by server");
			return;
		case TLS_IO_ERROR: {
			char buf[160];

			cstream_reset(cs, tls_io_strerror(cs->ssl, buf,
			    sizeof(buf)));
			return;
		}
		}
	} else {
		w = write(cs->fd, cs->out + cs->out_off,
		    cs->out_len - cs->out_off);
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				cstream_reset(cs, strerror(errno));
			return;
		}
		n = (size_t)w;
	}
	cs->out_off += n;
	if (cs->out_off == cs->out_len) {
		cs->out_off = cs->out_len = 0;
		ev_io_stop(cs->r->loop, &cs->wio);
	}
}

/* The socket is writable: connect() ended, or a layer has bytes to send. */
static void
cstream_write_cb(EV_P_ ev_io *w, int revents)
{
	struct cstream *cs = container_of(w, struct cstream, wio);
	ssize_t n;

	switch (cs->state) {
	case CSTREAM_CONNECTING: {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(cs->fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == -1)
			err = errno;
		if (err != 0) {
			cstream_reset(cs, strerror(err));
			return;
		}
		connected(cs);
		return;
	}
	case CSTREAM_PROXY:
		n = write(cs->fd, cs->hs + cs->hs_off, cs->hs_len - cs->hs_off);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				cstream_reset(cs, strerror(errno));
			return;
		}
		cs->hs_off += (size_t)n;
		if (cs->hs_off == cs->hs_len)
			ev_io_stop(EV_A_ w);
		return;
	case CSTREAM_TLS:
		handshake(cs);
		return;
	case CSTREAM_UP:
		flush_out(cs);
		return;
	case CSTREAM_DOWN:
		break;
	}
	ev_io_stop(EV_A_ w);
}

/* Plaintext from the server -> frames -> the owner; -1 when closed. */
static int
deliver(struct cstream *cs, const uint8_t *p, size_t n)
{
	struct rd in = rd_make(p, n), msg;

	for (;;) {
		switch (frame_decode(&cs->dec, &in, &msg)) {
		case FRAME_OK:
			cs->proven = true;
			if (cs->on_msg(cs, msg.p, msg.n) == -1)
				return -1;
			continue;
		case FRAME_NEED_BUF:
			cs->dec.buf = malloc(frame_dec_bufsize(&cs->dec));
			if (cs->dec.buf == NULL) {
				cstream_reset(cs, "out of memory");
				return -1;
			}
			continue;
		case FRAME_NEED_MORE:
			if (!frame_dec_partial(&cs->dec)) {
				free(cs->dec.buf);
				cs->dec.buf = NULL;
			}
			return 0;
		case FRAME_ERROR:
			log_info("%s: bad frame from server: %s (%zu)",
			    cs->tag, frame_strerror(cs->dec.err),
			    cs->dec.bad_len);
			cstream_reset(cs, "framing error");
			return -1;
		}
	}
}

/*
 * Ciphertext that was fed (in the process's cbuf) -> plaintext (in its
 * rbuf, as the relay's streams do) -> frames.  Frames split across reads
 * are copied by the decoder, so the buffers are free again on return.
 */
static int
tls_drain(struct cstream *cs)
{
	struct relay *r = cs->r;
	char buf[160];
	size_t n;

	for (;;) {
		switch (tls_io_read(cs->ssl, r->rbuf, RELAY_READ_BUF, &n)) {
		case TLS_IO_OK:
			if (deliver(cs, r->rbuf, n) == -1)
				return -1;
			continue;
		case TLS_IO_WANT_READ:
			return 0;
		case TLS_IO_WANT_WRITE:
			ev_io_start(r->loop, &cs->wio);
			return 0;
		case TLS_IO_CLOSED:
			cstream_reset(cs, "TLS close_notify from server");
			return -1;
		case TLS_IO_ERROR:
			cstream_reset(cs, tls_io_strerror(cs->ssl, buf,
			    sizeof(buf)));
			return -1;
		}
	}
}

/* The proxy's response head; what follows it is the next layer's. */
static int
proxy_feed(struct cstream *cs, struct rd *in)
{
	size_t used = 0;
	char why[96];

	switch (connect_cli_feed(cs->proxy, in->p, in->n, &used)) {
	case CONNECT_NEED_MORE:
		rd_skip(in, in->n);
		return 0;
	case CONNECT_OK:
		rd_skip(in, used);
		log_info("%s: http-proxy %s: CONNECT %s: %d", cs->tag,
		    cs->cc->http_proxy.text, cs->cc->server.text,
		    cs->proxy->status);
		free(cs->proxy);
		cs->proxy = NULL;
		free(cs->hs);
		cs->hs = NULL;
		return next_layer(cs);
	case CONNECT_ERROR:
		break;
	}
	snprintf(why, sizeof(why), "http-proxy refused CONNECT: %d %s",
	    cs->proxy->status, cs->proxy->error);
	cstream_reset(cs, why);
	return -1;
}

/* Server bytes -> [proxy head] -> [TLS] -> frames -> the session. */
static void
cstream_read_cb(EV_P_ ev_io *w, int revents)
{
	struct cstream *cs = container_of(w, struct cstream, rio);
	struct relay *r = cs->r;
	uint8_t *buf = cs->ssl != NULL ? r->cbuf : r->rbuf;
	struct rd in;
	ssize_t n;

	/* While PROXY the bytes after the head may be TLS: keep them apart
	 * from the plaintext buffer too. */
	if (cs->state == CSTREAM_PROXY && cs->ssl_ctx != NULL)
		buf = r->cbuf;
	n = read(cs->fd, buf, RELAY_READ_BUF);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		cstream_reset(cs, n == 0 ? "closed by server" :
		    strerror(errno));
		return;
	}
	in = rd_make(buf, (size_t)n);
	if (cs->state == CSTREAM_PROXY && (proxy_feed(cs, &in) == -1 ||
	    in.n == 0))
		return;
	if (cs->ssl == NULL) {
		if (cs->state == CSTREAM_UP)
			deliver(cs, in.p, in.n);
		return;
	}
	tls_io_feed(cs->ssl, in.p, in.n);
	if (cs->state == CSTREAM_TLS && (handshake(cs) == -1 ||
	    cs->state != CSTREAM_UP))
		return;
	if (tls_drain(cs) == -1)
		return;
	if (cs->write_wants_read) {
		cs->write_wants_read = false;
		if (cs->out_len > cs->out_off)
			ev_io_start(EV_A_ &cs->wio);
	}
}

bool
cstream_send(struct cstream *cs, bool marker, const uint8_t *p, size_t n,
    bool ike)
{
	size_t reserve = ike ? 0 : cs->cc->max_message + FRAME_HDR_LEN;

	if (!frame_into(cs, marker, p, n, reserve)) {
		cs->stats.dropped++;
		return false;
	}
	/* Kept for the next connection's first message (see cstream.h). */
	if (!ike && !marker && n >= ESP_HDR_MIN) {
		if (cs->last_esp == NULL &&
		    (cs->last_esp = malloc(cs->cc->max_message)) == NULL)
			return true;
		memcpy(cs->last_esp, p, n);
		cs->last_esp_len = n;
	}
	/* Written on this loop turn, together with the rest of the batch. */
	if (cs->state == CSTREAM_UP && !cs->write_wants_read)
		ev_io_start(cs->r->loop, &cs->wio);
	return true;
}

int
cstream_init(struct cstream *cs, struct relay *r,
    const struct conf_connector *cc, struct ssl_ctx_st *ssl_ctx,
    const char *sni, cstream_msg_fn *on_msg, const char *tag)
{
	memset(cs, 0, sizeof(*cs));
	cs->r = r;
	cs->cc = cc;
	cs->ssl_ctx = ssl_ctx;
	cs->sni = sni;
	cs->on_msg = on_msg;
	cs->fd = -1;
	snprintf(cs->tag, sizeof(cs->tag), "%s", tag);
	snprintf(cs->local, sizeof(cs->local), "-");
	if ((cs->out = malloc(cc->write_buffer)) == NULL) {
		log_warn("%s: stream buffer", tag);
		return -1;
	}
	frame_dec_init(&cs->dec, cc->max_message);
	seed(cs);
	ev_io_init(&cs->rio, cstream_read_cb, -1, EV_READ);
	ev_io_init(&cs->wio, cstream_write_cb, -1, EV_WRITE);
	ev_timer_init(&cs->deadline, cstream_deadline_cb, 0., 0.);
	ev_timer_init(&cs->retry, cstream_retry_cb, 0., 0.);
	return 0;
}

void
cstream_start(struct cstream *cs)
{
	if (cs->state == CSTREAM_DOWN && !ev_is_active(&cs->retry))
		cstream_connect(cs);
}

void
cstream_stop(struct cstream *cs, const char *reason)
{
	if (cs->state == CSTREAM_DOWN && !ev_is_active(&cs->retry))
		return;
	if (cs->ssl != NULL && cs->state == CSTREAM_UP)
		tls_io_shutdown(cs->ssl);
	teardown(cs);
	seed(cs);
	ev_timer_stop(cs->r->loop, &cs->retry);
	cs->backoff_ms = 0;
	cs->proven = false;
	set_state(cs, CSTREAM_DOWN);
	log_info("%s: stream to %s closed (%s)", cs->tag, cs->cc->server.text,
	    reason);
}

void
cstream_cleanup(struct cstream *cs)
{
	if (cs->r == NULL)
		return;
	if (cs->ssl != NULL && cs->state == CSTREAM_UP)
		tls_io_shutdown(cs->ssl);
	teardown(cs);
	ev_timer_stop(cs->r->loop, &cs->retry);
	SSL_SESSION_free(cs->tls_sess);
	cs->tls_sess = NULL;
	free(cs->out);
	cs->out = NULL;
	free(cs->last_esp);
	cs->last_esp = NULL;
	cs->r = NULL;
}
