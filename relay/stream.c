/*
 * One accepted connection.  Reads are batched through the process's read
 * buffer; only a frame split across reads is copied into the stream's own
 * buffer, and output is held only while the socket will not take it, so an
 * idle stream holds no buffers at all.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "framing/encoder.h"
#include "framing/prefix.h"
#include "relay/integrated.h"
#include "relay/layers.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/route.h"
#include "relay/session.h"
#include "relay/stream.h"
#include "tls/io.h"

static void tls_writable(struct stream *st);

void
log_stream(const struct stream *st, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > (int)log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* An integrated session has no UDP port toward a gateway. */
	if (st->sess != NULL && st->sess->lport != 0)
		log_emit((enum log_level)level, "stream %llu %s lport %u: %s",
		    st->id, st->peer_text, st->sess->lport, msg);
	else
		log_emit((enum log_level)level, "stream %llu %s: %s", st->id,
		    st->peer_text, msg);
}

static void
stream_idle_cb(EV_P_ ev_timer *w, int revents)
{
	struct stream *st = container_of(w, struct stream, idle);
	ev_tstamp left = st->last_active + st->cr->idle_timeout_ms / 1000. -
	    ev_now(EV_A);

	if (left <= 0) {
		stream_close(st, "idle timeout");
		return;
	}
	w->repeat = left;
	ev_timer_again(EV_A_ w);
}

static void
stream_handshake_cb(EV_P_ ev_timer *w, int revents)
{
	struct stream *st = container_of(w, struct stream, handshake);

	if (st->state == STREAM_DRAIN)
		stream_close(st, st->drain_reason);
	else if (st->state == STREAM_TENTATIVE)
		stream_close(st, "re-attach not proven within "
		    "handshake-timeout");
	else
		layers_timeout(st);
}

void
stream_drain(struct stream *st, const char *reason)
{
	struct relay *r = st->r;

	st->state = STREAM_DRAIN;
	st->drain_reason = reason;
	r->stats.layer_refused++;
	/* Nothing more is sent; the answer already queued still goes out,
	 * and reading on (discarding) keeps the kernel from resetting the
	 * connection over unread bytes before the client has read it. */
	if (st->ssl == NULL && st->out_len == st->out_off)
		(void)shutdown(st->fd, SHUT_WR);
	ev_timer_stop(r->loop, &st->handshake);
	ev_timer_set(&st->handshake, 1., 0.);
	ev_timer_start(r->loop, &st->handshake);
}

/* Counts @st in its section's totals, unless that would pass a limit. */
static int
account(struct stream *st)
{
	struct relay *r = st->r;
	const struct conf_relay *cr = st->cr;
	unsigned *all, *mine;
	const char *why = NULL;

	all = source_count(r, NULL, cr->name, true);
	mine = source_count(r, &st->peer, cr->name, true);
	if (all == NULL || mine == NULL)
		why = "out of memory";
	else if (*all >= cr->max_connections)
		why = "max-connections reached";
	else if (*mine >= cr->max_per_source)
		why = "max-per-source reached";
	if (why != NULL) {
		r->stats.refused++;
		log_info("relay %s: refused %s: %s", cr->name, st->peer_text,
		    why);
		return -1;
	}
	(*all)++;
	(*mine)++;
	st->counted = true;
	return 0;
}

static void
unaccount(struct stream *st)
{
	unsigned *cnt;

	if (!st->counted)
		return;
	st->counted = false;
	if ((cnt = source_count(st->r, &st->peer, st->cr->name, false)) !=
	    NULL && *cnt > 0)
		(*cnt)--;
	if ((cnt = source_count(st->r, NULL, st->cr->name, false)) != NULL &&
	    *cnt > 0)
		(*cnt)--;
}

int
stream_set_section(struct stream *st, const struct conf_relay *cr)
{
	st->routed = true;
	if (cr == st->cr)
		return 0;
	unaccount(st);
	log_stream(st, LOG_LEVEL_DEBUG, "%s: relay %s -> %s", __func__,
	    st->cr->name, cr->name);
	st->cr = cr;
	frame_dec_init(&st->dec, cr->max_message);
	/* The idle timer is running: only its repeat may change (ev(3)). */
	if (cr->idle_timeout_ms == 0)
		ev_timer_stop(st->r->loop, &st->idle);
	else {
		st->idle.repeat = cr->idle_timeout_ms / 1000.;
		ev_timer_again(st->r->loop, &st->idle);
	}
	return account(st);
}

int
stream_set_peer(struct stream *st, const struct sockaddr_storage *peer)
{
	unaccount(st);
	st->peer = *peer;
	sockaddr_text(peer, st->peer_text, sizeof(st->peer_text));
	return account(st);
}

void
stream_close(struct stream *st, const char *reason)
{
	struct relay *r = st->r;

	log_stream(st, LOG_LEVEL_INFO,
	    "closed (%s), in %llu msgs/%llu bytes, out %llu msgs/%llu bytes",
	    reason, st->in_msgs, st->in_bytes, st->out_msgs, st->out_bytes);
	if (st->sess != NULL) {
		struct session *s = st->sess;

		st->sess = NULL;
		session_detach(s, st);
	}
	ev_io_stop(r->loop, &st->rio);
	ev_io_stop(r->loop, &st->wio);
	ev_timer_stop(r->loop, &st->handshake);
	ev_timer_stop(r->loop, &st->idle);
	if (st->ssl != NULL) {
		tls_io_shutdown(st->ssl);
		tls_io_free(st->ssl);
	}
	close(st->fd);
	unaccount(st);
	free(st->hs);
	free(st->cs);
	free(st->dec.buf);
	free(st->out);
	conf_unref(st->conf);
	free(st);
}

void
stream_promote(struct stream *st)
{
	struct session *s = st->sess;

	st->state = STREAM_FRAMES;
	ev_timer_stop(st->r->loop, &st->handshake);
	session_attach(s, st);
	log_stream(st, LOG_LEVEL_INFO, "session re-attached (IKE proven)");
}

/* Output: frames are written straight away with writev; what the socket
 * will not take is held, up to write-buffer bytes.  When full, ESP is
 * dropped as a congested link would, and IKE keeps the last
 * max-message + 2 bytes of room (DESIGN.md, bounds). */
static bool
admit(struct stream *st, size_t have, size_t len, bool ike)
{
	size_t cap = st->cr->write_buffer;
	size_t reserve = ike ? 0 : st->cr->max_message + FRAME_HDR_LEN;

	if (have + len + reserve > cap) {
		if (ike)
			st->r->stats.ike_full++;
		else
			st->r->stats.esp_full++;
		return false;
	}
	return true;
}

static int
hold(struct stream *st, const uint8_t *p, size_t len)
{
	if (st->out == NULL &&
	    (st->out = malloc(st->cr->write_buffer)) == NULL) {
		log_warn("stream buffer");
		return -1;
	}
	if (st->out_off > 0 && st->out_off == st->out_len)
		st->out_off = st->out_len = 0;
	if (st->out_len + len > st->cr->write_buffer &&
	    st->out_off > 0) {
		memmove(st->out, st->out + st->out_off,
		    st->out_len - st->out_off);
		st->out_len -= st->out_off;
		st->out_off = 0;
	}
	memcpy(st->out + st->out_len, p, len);
	st->out_len += len;
	ev_io_start(st->r->loop, &st->wio);
	return 0;
}

/* TLS output: whole frames are admitted by kind into the out buffer,
 * then written through OpenSSL, which makes records of them. */
static int
tls_flush(struct stream *st)
{
	char ebuf[160];
	size_t k;

	while (st->out_off < st->out_len) {
		switch (tls_io_write(st->ssl, st->out + st->out_off,
		    st->out_len - st->out_off, &k)) {
		case TLS_IO_OK:
			st->out_off += k;
			continue;
		case TLS_IO_WANT_WRITE:
			ev_io_start(st->r->loop, &st->wio);
			return 0;
		case TLS_IO_WANT_READ:
			return 0;
		default:
			log_stream(st, LOG_LEVEL_INFO, "TLS write: %s",
			    tls_io_strerror(st->ssl, ebuf, sizeof(ebuf)));
			stream_close(st, "TLS write error");
			return -1;
		}
	}
	ev_io_stop(st->r->loop, &st->wio);
	free(st->out);
	st->out = NULL;
	st->out_off = st->out_len = 0;
	return 0;
}

/*
 * With nothing queued, the frames are gathered in the process's TLS
 * scratch buffer and written from there, so a batch costs no allocation;
 * only what OpenSSL does not take is held (and must be offered again as
 * is: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets it move).
 */
static int
tls_send_direct(struct stream *st, const struct iovec *iov, size_t niov,
    const bool *ike)
{
	struct relay *r = st->r;
	size_t len = 0, off = 0, k;
	char ebuf[160];

	for (size_t i = 0; i < niov; i += 2) {
		size_t flen = iov[i].iov_len + iov[i + 1].iov_len;

		if (len + flen > RELAY_TLS_BUF ||
		    !admit(st, len, flen, ike[i / 2]))
			continue;
		memcpy(r->tbuf + len, iov[i].iov_base, iov[i].iov_len);
		memcpy(r->tbuf + len + iov[i].iov_len, iov[i + 1].iov_base,
		    iov[i + 1].iov_len);
		len += flen;
	}
	while (off < len) {
		switch (tls_io_write(st->ssl, r->tbuf + off, len - off, &k)) {
		case TLS_IO_OK:
			off += k;
			continue;
		case TLS_IO_WANT_WRITE:
			ev_io_start(r->loop, &st->wio);
			break;
		case TLS_IO_WANT_READ:
			break;
		default:
			log_stream(st, LOG_LEVEL_INFO, "TLS write: %s",
			    tls_io_strerror(st->ssl, ebuf, sizeof(ebuf)));
			stream_close(st, "TLS write error");
			return -1;
		}
		break;
	}
	if (off < len && hold(st, r->tbuf + off, len - off) == -1) {
		stream_close(st, "out of memory");
		return -1;
	}
	return 0;
}

static int
tls_send(struct stream *st, const struct iovec *iov, size_t niov,
    const bool *ike)
{
	if (st->out_len == st->out_off && st->tls_up)
		return tls_send_direct(st, iov, niov, ike);
	for (size_t i = 0; i < niov; i += 2) {
		if (!admit(st, st->out_len, iov[i].iov_len +
		    iov[i + 1].iov_len, ike[i / 2]))
			continue;
		if (hold(st, iov[i].iov_base, iov[i].iov_len) == -1 ||
		    hold(st, iov[i + 1].iov_base, iov[i + 1].iov_len) == -1) {
			stream_close(st, "out of memory");
			return -1;
		}
	}
	return tls_flush(st);
}

int
stream_write_raw(struct stream *st, const void *p, size_t n)
{
	ssize_t w = 0;

	if (st->ssl == NULL && st->out_len == st->out_off) {
		w = write(st->fd, p, n);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			stream_close(st, strerror(errno));
			return -1;
		}
		if (w < 0)
			w = 0;
		if ((size_t)w == n)
			return 0;
	}
	if (hold(st, (const uint8_t *)p + w, n - (size_t)w) == -1) {
		stream_close(st, "out of memory");
		return -1;
	}
	return st->ssl != NULL ? tls_flush(st) : 0;
}

int
stream_send(struct stream *st, const struct iovec *msgs, const bool *ike,
    size_t n)
{
	struct iovec iov[2 * RELAY_UDP_BATCH];
	uint8_t hdr[RELAY_UDP_BATCH][FRAME_HDR_LEN];
	size_t niov = 0, total = 0;
	ssize_t w = 0;

	if (n > RELAY_UDP_BATCH)
		n = RELAY_UDP_BATCH;
	st->last_active = ev_now(st->r->loop);
	if (st->state == STREAM_DRAIN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		frame_header(hdr[i], msgs[i].iov_len);
		iov[niov++] = (struct iovec){ hdr[i], FRAME_HDR_LEN };
		iov[niov++] = msgs[i];
		total += FRAME_HDR_LEN + msgs[i].iov_len;
		st->out_msgs++;
		st->out_bytes += msgs[i].iov_len;
	}
	if (st->ssl != NULL)
		return tls_send(st, iov, niov, ike);
	if (st->out_len == st->out_off) {
		w = writev(st->fd, iov, (int)niov);
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				stream_close(st, strerror(errno));
				return -1;
			}
			w = 0;
		}
		if ((size_t)w == total)
			return 0;
	}
	/* Hold the rest: a partly written frame must be finished; whole
	 * frames are admitted by kind. */
	for (size_t i = 0; i < niov; i += 2) {
		size_t flen = iov[i].iov_len + iov[i + 1].iov_len;
		size_t skip = (size_t)w < flen ? (size_t)w : flen;
		uint8_t *hp = iov[i].iov_base;
		const uint8_t *mp = iov[i + 1].iov_base;

		w -= (ssize_t)skip;
		if (skip == flen)
			continue;
		if (skip == 0 && !admit(st, st->out_len, flen, ike[i / 2]))
			continue;
		if (skip < FRAME_HDR_LEN) {
			if (hold(st, hp + skip, FRAME_HDR_LEN - skip) == -1)
				goto fail;
			skip = FRAME_HDR_LEN;
		}
		if (hold(st, mp + (skip - FRAME_HDR_LEN),
		    flen - skip) == -1)
			goto fail;
	}
	return 0;
fail:
	stream_close(st, "out of memory");
	return -1;
}

static void
stream_write_cb(EV_P_ ev_io *w, int revents)
{
	struct stream *st = container_of(w, struct stream, wio);
	ssize_t n;

	if (st->ssl != NULL) {
		tls_writable(st);
		return;
	}
	n = write(st->fd, st->out + st->out_off, st->out_len - st->out_off);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		stream_close(st, strerror(errno));
		return;
	}
	st->out_off += (size_t)n;
	if (st->out_off == st->out_len) {
		ev_io_stop(EV_A_ w);
		free(st->out);
		st->out = NULL;
		st->out_off = st->out_len = 0;
		if (st->state == STREAM_DRAIN)
			(void)shutdown(st->fd, SHUT_WR);
	}
}

/* The first message decides the session: a lingering one it names by IKE
 * SPI (tentatively) or by ESP SPI (from the same client address), else a
 * new one.  A session with a live stream is never taken over. */
static int
choose_session(struct stream *st, const struct msg_info *m)
{
	struct relay *r = st->r;
	struct spi_entry *e = NULL;
	struct session *s;

	if (m->kind == MSG_IKE)
		e = session_lookup(r, m->spi_i, false);
	else if (m->kind == MSG_ESP)
		e = session_lookup(r, m->esp_spi, true);
	if (e != NULL && e->s != NULL && e->s->owner == NULL &&
	    strcmp(e->s->section, st->cr->name) == 0) {
		s = e->s;
		if (m->kind == MSG_ESP &&
		    sockaddr_same_ip(&s->last_client, &st->peer)) {
			st->state = STREAM_FRAMES;
			ev_timer_stop(r->loop, &st->handshake);
			session_attach(s, st);
			log_stream(st, LOG_LEVEL_INFO,
			    "session re-attached by ESP SPI %08x",
			    m->esp_spi);
			return 0;
		}
		if (m->kind == MSG_IKE) {
			st->state = STREAM_TENTATIVE;
			st->tent_spi = m->spi_i;
			session_attach_tentative(s, st);
			log_stream(st, LOG_LEVEL_INFO,
			    "session tentative (re-attach by IKE SPI %016llx)",
			    (unsigned long long)m->spi_i);
			return 0;
		}
	}
	if (st->cr->backend == CONF_BACKEND_INTEGRATED) {
		if (m->kind != MSG_IKE ||
		    (s = integ_session_new(r, st)) == NULL)
			return -1;
	} else if ((s = session_new(r, st->cr)) == NULL)
		return -1;
	st->state = STREAM_FRAMES;
	ev_timer_stop(r->loop, &st->handshake);
	session_attach(s, st);
	if (s->integ != NULL)
		log_stream(st, LOG_LEVEL_INFO, "session %llu new, integrated",
		    s->id);
	else
		log_stream(st, LOG_LEVEL_INFO, "session new, gateway %s",
		    st->cr->gateway.text);
	return 0;
}

/* Sends the messages gathered from this read to the gateway (or to the
 * integrated backend); -1 when that closed the stream. */
static int
flush(struct stream *st)
{
	struct relay *r = st->r;
	size_t n = r->ntx;

	r->ntx = 0;
	if (n == 0 || st->sess == NULL)
		return 0;
	if (st->sess->integ == NULL) {
		session_send_batch(st->sess, r->tx, n);
		return 0;
	}
	return integ_input(st->sess, st, r->tx, n);
}

/* One message from the client; -1 when the stream was closed. */
static int
on_message(struct stream *st, const uint8_t *p, size_t n)
{
	struct msg_info m;

	st->in_msgs++;
	st->in_bytes += n;
	switch (classify_msg(p, n, &m)) {
	case MSG_KEEPALIVE:
		st->r->stats.keepalives++;
		return 0;
	case MSG_INVALID:
		if (flush(st) == -1)
			return -1;
		log_stream(st, LOG_LEVEL_INFO, "bad message of %zu bytes: %s",
		    n, classify_strerror(m.err));
		stream_close(st, "malformed message");
		return -1;
	default:
		break;
	}
	if (st->state == STREAM_FIRST && choose_session(st, &m) == -1) {
		stream_close(st, "no session");
		return -1;
	}
	if (st->state == STREAM_TENTATIVE) {
		if (m.kind == MSG_IKE && msg_is_request(&m) &&
		    m.spi_i == st->tent_spi) {
			st->tent_req = true;
			st->tent_msgid = m.msgid;
		}
	} else
		session_note(st->sess, &m, true);
	/* Messages point into the read buffer, or into dec.buf, which the
	 * next partial frame may overwrite: flush before that can happen. */
	st->r->tx[st->r->ntx++] = (struct iovec){ (void *)p, n };
	if (st->r->ntx == RELAY_SEND_BATCH || p == st->dec.buf + FRAME_HDR_LEN)
		return flush(st);
	return 0;
}

static int
on_prefix(struct stream *st, struct rd *in)
{
	enum prefix_kind kind;
	size_t len;

	while (in->n > 0) {
		rd_u8(in, &st->prefix[st->prefix_have++]);
		switch (prefix_detect(st->prefix, st->prefix_have, &kind,
		    &len)) {
		case PREFIX_NEED_MORE:
			continue;
		case PREFIX_OK:
			st->state = STREAM_FIRST;
			log_stream(st, LOG_LEVEL_DEBUG, "prefix %s",
			    prefix_name(kind));
			return 0;
		case PREFIX_ERROR:
			log_stream(st, LOG_LEVEL_INFO,
			    "bad stream prefix %02x%02x%02x%02x%02x%02x",
			    st->prefix[0], st->prefix[1], st->prefix[2],
			    st->prefix[3], st->prefix[4], st->prefix[5]);
			stream_close(st, "bad prefix");
			return -1;
		}
	}
	return 0;
}

/* Plaintext after the layers: prefix -> frames -> messages -> gateway.
 * -1 when the stream was closed. */
static int
frames_input(struct stream *st, const uint8_t *p, size_t n)
{
	struct rd in = rd_make(p, n), msg;

	if (st->state == STREAM_PREFIX && on_prefix(st, &in) == -1)
		return -1;
	for (;;) {
		switch (frame_decode(&st->dec, &in, &msg)) {
		case FRAME_OK:
			if (on_message(st, msg.p, msg.n) == -1)
				return -1;
			continue;
		case FRAME_NEED_BUF:
			st->dec.buf = malloc(frame_dec_bufsize(&st->dec));
			if (st->dec.buf == NULL) {
				stream_close(st, "out of memory");
				return -1;
			}
			continue;
		case FRAME_NEED_MORE:
			if (flush(st) == -1)
				return -1;
			if (!frame_dec_partial(&st->dec)) {
				free(st->dec.buf);
				st->dec.buf = NULL;
			}
			return 0;
		case FRAME_ERROR:
			if (flush(st) == -1)
				return -1;
			log_stream(st, LOG_LEVEL_INFO, "bad frame: %s (%zu)",
			    frame_strerror(st->dec.err), st->dec.bad_len);
			stream_close(st, "framing error");
			return -1;
		}
	}
}

int
stream_input(struct stream *st, const uint8_t *p, size_t n)
{
	if (st->state == STREAM_DRAIN)
		return 0;
	if (st->state < STREAM_PREFIX)
		return layers_input(st, p, n);
	st->r->ntx = 0;
	return frames_input(st, p, n);
}

/*
 * TLS: drive the handshake, then decrypt what was fed into the read
 * buffer, several records at a time so that the gateway still gets GSO
 * runs, and pass the plaintext on.  -1 when the stream was closed.
 */
static int
tls_pump(struct stream *st)
{
	struct relay *r = st->r;
	enum tls_io_result res;
	char ebuf[160];
	size_t k;

	if (!st->tls_up) {
		res = tls_io_handshake(st->ssl);
		if (res == TLS_IO_WANT_READ)
			return 0;
		if (res == TLS_IO_WANT_WRITE) {
			ev_io_start(r->loop, &st->wio);
			return 0;
		}
		if (res != TLS_IO_OK) {
			r->stats.layer_refused++;
			log_stream(st, LOG_LEVEL_INFO, "TLS handshake failed: "
			    "%s", st->tls_refusal != NULL ? st->tls_refusal :
			    tls_io_strerror(st->ssl, ebuf, sizeof(ebuf)));
			stream_close(st, "TLS handshake failed");
			return -1;
		}
		st->tls_up = true;
		if (st->out_len == st->out_off)
			ev_io_stop(r->loop, &st->wio);
		log_stream(st, LOG_LEVEL_INFO, "TLS %s, relay %s",
		    tls_io_describe(st->ssl, ebuf, sizeof(ebuf)),
		    st->cr->name);
	}
	for (;;) {
		size_t off = 0;

		do {
			res = tls_io_read(st->ssl, r->rbuf + off,
			    RELAY_READ_BUF - off, &k);
			off += k;
		} while (res == TLS_IO_OK && RELAY_READ_BUF - off >=
		    RELAY_TLS_RECORD);
		if (off > 0 && stream_input(st, r->rbuf, off) == -1)
			return -1;
		switch (res) {
		case TLS_IO_OK:
			continue;
		case TLS_IO_WANT_READ:
			return 0;
		case TLS_IO_WANT_WRITE:
			st->tls_rwant_w = true;
			ev_io_start(r->loop, &st->wio);
			return 0;
		case TLS_IO_CLOSED:
			stream_close(st, "closed by client (TLS close_notify)");
			return -1;
		default:
			log_stream(st, LOG_LEVEL_INFO, "TLS read: %s",
			    tls_io_strerror(st->ssl, ebuf, sizeof(ebuf)));
			stream_close(st, "TLS error");
			return -1;
		}
	}
}

/* Ciphertext @p..@n from the socket (or held from before TLS began). */
int
stream_tls_input(struct stream *st, const uint8_t *p, size_t n)
{
	tls_io_feed(st->ssl, p, n);
	if (tls_pump(st) == -1)
		return -1;
	/* The feed must not point at a buffer that is about to be reused. */
	tls_io_feed(st->ssl, NULL, 0);
	return 0;
}

static void
tls_writable(struct stream *st)
{
	if (!st->tls_up) {
		if (tls_pump(st) == -1)
			return;
		if (!st->tls_up)
			return;
	}
	if (st->out_len > st->out_off) {
		if (tls_flush(st) == -1)
			return;
	} else
		ev_io_stop(st->r->loop, &st->wio);
	if (st->tls_rwant_w) {
		st->tls_rwant_w = false;
		(void)tls_pump(st);
	}
}

/* Socket readable: client bytes, in the clear or TLS ciphertext. */
static void
stream_read_cb(EV_P_ ev_io *w, int revents)
{
	struct stream *st = container_of(w, struct stream, rio);
	struct relay *r = st->r;
	uint8_t *buf = st->ssl != NULL ? r->cbuf : r->rbuf;
	ssize_t n;

	r->ntx = 0;
	n = read(st->fd, buf, RELAY_READ_BUF);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (st->state == STREAM_DRAIN)
			stream_close(st, st->drain_reason);
		else
			stream_close(st, n == 0 ? "closed by client" :
			    strerror(errno));
		return;
	}
	st->last_active = ev_now(EV_A);
	if (st->ssl != NULL)
		(void)stream_tls_input(st, buf, (size_t)n);
	else
		(void)stream_input(st, buf, (size_t)n);
}

void
stream_accept(struct relay *r, int fd, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *laddr)
{
	struct route_layers lay;
	const struct conf_relay *cr;
	struct stream *st;

	if ((cr = route_primary(r->conf, laddr, &lay)) == NULL) {
		close(fd);
		return;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_warn("stream");
		close(fd);
		return;
	}
	st->id = ++r->next_stream_id;
	st->r = r;
	st->conf = conf_ref(r->conf);
	st->cr = cr;
	st->fd = fd;
	st->peer = *peer;
	st->laddr = *laddr;
	st->lay_tls = lay.tls;
	st->lay_proxy = lay.proxy;
	st->lay_connect = lay.connect;
	st->hs_cap = layers_hs_cap(&lay);
	sockaddr_text(peer, st->peer_text, sizeof(st->peer_text));
	st->state = STREAM_SNIFF;
	frame_dec_init(&st->dec, cr->max_message);
	st->last_active = ev_now(r->loop);
	ev_io_init(&st->rio, stream_read_cb, fd, EV_READ);
	ev_io_init(&st->wio, stream_write_cb, fd, EV_WRITE);
	ev_timer_init(&st->handshake, stream_handshake_cb,
	    cr->handshake_timeout_ms / 1000., 0.);
	ev_timer_init(&st->idle, stream_idle_cb, 0.,
	    cr->idle_timeout_ms / 1000.);
	if (account(st) == -1) {
		close(fd);
		conf_unref(st->conf);
		free(st);
		return;
	}
	log_stream(st, LOG_LEVEL_INFO, "open, relay %s", cr->name);
	ev_io_start(r->loop, &st->rio);
	ev_timer_start(r->loop, &st->handshake);
	if (cr->idle_timeout_ms > 0)
		ev_timer_again(r->loop, &st->idle);
}
