/*
 * The connector's stream toward the server: connect, prefix, frames,
 * reconnect with back-off.  RFC 9329 §6: "the TCP originator ... is
 * responsible for reestablishing the TCP connection"; the responder
 * accepts the existing SAs on the new connection.
 *
 * State machine:  DOWN --retry--> CONNECTING --writable--> UP
 *                   ^                 |  deadline/error      | EOF/error
 *                   +-----------------+----------------------+
 * A TLS layer and an HTTP CONNECT handshake slot in between CONNECTING
 * and UP; the output buffer then holds the application data they wait on.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "framing/classify.h"
#include "framing/encoder.h"
#include "framing/prefix.h"
#include "relay/cstream.h"
#include "relay/log.h"
#include "relay/relay.h"

static const char *
state_name(enum cstream_state s)
{
	switch (s) {
	case CSTREAM_DOWN:
		return "down";
	case CSTREAM_CONNECTING:
		return "connecting";
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
	if (cs->fd != -1)
		close(cs->fd);
	cs->fd = -1;
	free(cs->dec.buf);
	frame_dec_init(&cs->dec, cs->cc->max_message);
}

void
cstream_reset(struct cstream *cs, const char *reason)
{
	unsigned delay;

	if (cs->state == CSTREAM_UP)
		cs->stats.breaks++;
	teardown(cs);
	seed(cs);
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

static void
connected(struct cstream *cs)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(cs->fd, (struct sockaddr *)&ss, &len) == 0)
		sockaddr_text(&ss, cs->local, sizeof(cs->local));
	ev_timer_stop(cs->r->loop, &cs->deadline);
	set_state(cs, CSTREAM_UP);
	cs->stats.connects++;
	log_info("%s: stream %llu to %s up from %s", cs->tag,
	    cs->stats.connects, cs->cc->server.text, cs->local);
	ev_io_start(cs->r->loop, &cs->rio);
	if (cs->out_len > cs->out_off)
		ev_io_start(cs->r->loop, &cs->wio);
}

static void
cstream_connect(struct cstream *cs)
{
	const struct conf_addr *a = &cs->cc->server;
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
	if (connect(cs->fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
		connected(cs);
		return;
	}
	if (errno != EINPROGRESS) {
		cstream_reset(cs, strerror(errno));
		return;
	}
	set_state(cs, CSTREAM_CONNECTING);
	ev_io_start(cs->r->loop, &cs->wio);
	ev_timer_set(&cs->deadline, cs->cc->handshake_timeout_ms / 1000., 0.);
	ev_timer_start(cs->r->loop, &cs->deadline);
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

	cstream_reset(cs, "connect timeout");
}

/* Pending frames -> server; in CONNECTING, the first writable event says
 * how connect() ended. */
static void
cstream_write_cb(EV_P_ ev_io *w, int revents)
{
	struct cstream *cs = container_of(w, struct cstream, wio);
	ssize_t n;

	if (cs->state == CSTREAM_CONNECTING) {
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
		if (cs->out_len == cs->out_off)
			return;
	}
	n = write(cs->fd, cs->out + cs->out_off, cs->out_len - cs->out_off);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		cstream_reset(cs, strerror(errno));
		return;
	}
	cs->out_off += (size_t)n;
	if (cs->out_off == cs->out_len) {
		cs->out_off = cs->out_len = 0;
		ev_io_stop(EV_A_ w);
	}
}

/* Server bytes -> frames -> the session's initiator. */
static void
cstream_read_cb(EV_P_ ev_io *w, int revents)
{
	struct cstream *cs = container_of(w, struct cstream, rio);
	struct relay *r = cs->r;
	struct rd in, msg;
	ssize_t n;

	n = read(cs->fd, r->rbuf, RELAY_READ_BUF);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		cstream_reset(cs, n == 0 ? "closed by server" :
		    strerror(errno));
		return;
	}
	in = rd_make(r->rbuf, (size_t)n);
	for (;;) {
		switch (frame_decode(&cs->dec, &in, &msg)) {
		case FRAME_OK:
			cs->proven = true;
			if (cs->on_msg(cs, msg.p, msg.n) == -1)
				return;
			continue;
		case FRAME_NEED_BUF:
			cs->dec.buf = malloc(frame_dec_bufsize(&cs->dec));
			if (cs->dec.buf == NULL) {
				cstream_reset(cs, "out of memory");
				return;
			}
			continue;
		case FRAME_NEED_MORE:
			if (!frame_dec_partial(&cs->dec)) {
				free(cs->dec.buf);
				cs->dec.buf = NULL;
			}
			return;
		case FRAME_ERROR:
			log_info("%s: bad frame from server: %s (%zu)",
			    cs->tag, frame_strerror(cs->dec.err),
			    cs->dec.bad_len);
			cstream_reset(cs, "framing error");
			return;
		}
	}
}

bool
cstream_send(struct cstream *cs, bool marker, const uint8_t *p, size_t n,
    bool ike)
{
	size_t body = n + (marker ? NON_ESP_MARKER_LEN : 0);
	size_t flen = FRAME_HDR_LEN + body;
	size_t reserve = ike ? 0 : cs->cc->max_message + FRAME_HDR_LEN;
	size_t cap = cs->cc->write_buffer;
	uint8_t *at;

	if (body > cs->cc->max_message) {
		cs->stats.dropped++;
		return false;
	}
	if (cs->out_off > 0 && cs->out_len + flen + reserve > cap) {
		memmove(cs->out, cs->out + cs->out_off,
		    cs->out_len - cs->out_off);
		cs->out_len -= cs->out_off;
		cs->out_off = 0;
	}
	if (cs->out_len + flen + reserve > cap) {
		cs->stats.dropped++;
		return false;
	}
	at = cs->out + cs->out_len;
	frame_header(at, body);
	at += FRAME_HDR_LEN;
	if (marker) {
		memset(at, 0, NON_ESP_MARKER_LEN);
		at += NON_ESP_MARKER_LEN;
	}
	memcpy(at, p, n);
	cs->out_len += flen;
	/* Written on this loop turn, together with the rest of the batch. */
	if (cs->state == CSTREAM_UP)
		ev_io_start(cs->r->loop, &cs->wio);
	return true;
}

int
cstream_init(struct cstream *cs, struct relay *r,
    const struct conf_connector *cc, cstream_msg_fn *on_msg, const char *tag)
{
	memset(cs, 0, sizeof(*cs));
	cs->r = r;
	cs->cc = cc;
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
cstream_cleanup(struct cstream *cs)
{
	if (cs->r == NULL)
		return;
	teardown(cs);
	ev_timer_stop(cs->r->loop, &cs->retry);
	free(cs->out);
	cs->out = NULL;
	cs->r = NULL;
}
