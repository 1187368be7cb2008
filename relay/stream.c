/*
 * One accepted connection.  Reads are batched through the process's read
 * buffer; only a frame split across reads is copied into the stream's own
 * buffer, and output is held only while the socket will not take it, so an
 * idle stream holds no buffers at all.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <assert.h>
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
#include "relay/layers.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/route.h"
#include "relay/splice.h"
#include "relay/srctab.h"
#include "relay/stream.h"
#include "tls/io.h"

static void tls_writable(struct stream *st);

void
log_stream(const struct stream *st, int level, const char *fmt, ...)
{
	char msg[1024], id[24], lport[8], prefix[160];
	char peer[STREAM_PEER_TEXT];
	struct log_field f[3] = {
		{ "stream", id }, { "client", peer }, { "lport", lport },
	};
	va_list ap;

	/* Every stream line is one a peer can cause: rate-limited. */
	if (!log_peer_allow((enum log_level)level))
		return;
	sockaddr_text(&st->peer, peer, sizeof(peer));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(id, sizeof(id), "%llu", st->id);
	snprintf(lport, sizeof(lport), "%u", st->lport);
	/* An integrated session has no UDP port toward a gateway. */
	if (st->lport != 0)
		snprintf(prefix, sizeof(prefix), "stream %llu %s lport %u",
		    st->id, peer, st->lport);
	else
		snprintf(prefix, sizeof(prefix), "stream %llu %s", st->id,
		    peer);
	log_emit_fields((enum log_level)level, prefix, f,
	    st->lport != 0 ? 3 : 2, "%s", msg);
}

static const char *const state_names[] = {
#define STREAM_STATE_NAME(name, what) #name,
	STREAM_STATES(STREAM_STATE_NAME)
#undef STREAM_STATE_NAME
};

const char *
stream_state_name(enum stream_state state)
{
	return (size_t)state < sizeof(state_names) / sizeof(state_names[0]) ?
	    state_names[state] : "?";
}

/* Legal transitions: bit (1 << next) set in ok[from]. */
#define B(x) (1u << STREAM_##x)
static const unsigned state_ok[] = {
	[STREAM_SNIFF] = B(SNIFF) | B(PROXY) | B(CONNECT) | B(PREFIX) |
	    B(DRAIN),
	[STREAM_PROXY] = B(SNIFF) | B(DRAIN),
	[STREAM_CONNECT] = B(SNIFF) | B(DRAIN),
	[STREAM_DRAIN] = 0,
	[STREAM_PREFIX] = B(FIRST),
	[STREAM_FIRST] = B(FRAMES),
	[STREAM_FRAMES] = B(SPLICE),
	[STREAM_SPLICE] = 0,
};
#undef B

void
stream_set_state(struct stream *st, enum stream_state next)
{
	assert((state_ok[st->state] & (1u << next)) != 0);
	log_stream(st, LOG_LEVEL_DEBUG, "%s: %s -> %s", __func__,
	    stream_state_name(st->state), stream_state_name(next));
	st->state = next;
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
	else if (st->state == STREAM_FIRST)
		stream_close(st, "no message within handshake-timeout");
	else
		layers_timeout(st);
}

void
stream_drain(struct stream *st, const char *reason)
{
	struct relay *r = st->r;

	stream_set_state(st, STREAM_DRAIN);
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

/* Counts @st in its section's totals and its source's, unless that would
 * pass max-connections or max-per-source. */
static int
account(struct stream *st)
{
	struct relay *r = st->r;
	const struct conf_relay *cr = st->cr;
	struct sockaddr_storage any = { .ss_family = AF_UNSPEC };
	struct src *all, *mine;
	const char *why = NULL;

	all = srctab_get(&r->sources, &any, cr->name);
	mine = srctab_get(&r->sources, &st->peer, cr->name);
	if (all == NULL || mine == NULL)
		why = "out of memory";
	else if (all->streams >= cr->max_connections)
		why = "max-connections reached";
	else if (mine->streams >= cr->max_per_source)
		why = "max-per-source reached";
	if (why != NULL) {
		srctab_put(&r->sources, all);
		srctab_put(&r->sources, mine);
		r->stats.refused++;
		if (all != NULL && mine != NULL &&
		    all->streams >= cr->max_connections)
			r->stats.refused_conn++;
		else if (all != NULL && mine != NULL)
			r->stats.refused_source++;
		char peer[STREAM_PEER_TEXT];

		log_peer(LOG_LEVEL_INFO, "relay %s: refused %s: %s", cr->name,
		    sockaddr_text(&st->peer, peer, sizeof(peer)), why);
		return -1;
	}
	all->streams++;
	mine->streams++;
	st->src_all = all;
	st->src = mine;
	return 0;
}

static void
unaccount(struct stream *st)
{
	struct relay *r = st->r;

	if (st->src == NULL)
		return;
	st->src->streams--;
	st->src_all->streams--;
	srctab_put(&r->sources, st->src);
	srctab_put(&r->sources, st->src_all);
	st->src = st->src_all = NULL;
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
	st->sec = stream_section(st->r, cr->name);
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
	return account(st);
}

/* Would one more stream's write-buffer pass write-buffer-total? */
static bool
wbuf_at_total(const struct stream *st)
{
	return st->r->wbuf_total + st->cr->write_buffer >
	    st->r->conf->write_buffer_total;
}

/* The held output and its count in write-buffer-total go. */
static void
out_free(struct stream *st)
{
	if (st->out != NULL)
		st->r->wbuf_total -= st->out_cap;
	free(st->out);
	st->out = NULL;
	st->out_off = st->out_len = 0;
	if (st->sp != NULL)
		splice_output_drained(st);
}

size_t
stream_out_room(const struct stream *st)
{
	size_t cap = st->cr->write_buffer, held = st->out_len - st->out_off;

	if (st->out != NULL)
		cap = st->out_cap;
	else if (wbuf_at_total(st) &&
	    cap > st->cr->max_message + FRAME_HDR_LEN)
		cap = st->cr->max_message + FRAME_HDR_LEN;	/* as hold() */
	return cap > held ? cap - held : 0;
}

void
stream_close(struct stream *st, const char *reason)
{
	struct relay *r = st->r;

	log_stream(st, LOG_LEVEL_INFO,
	    "closed (%s), in %llu msgs/%llu bytes, out %llu msgs/%llu bytes",
	    reason, st->in_msgs, st->in_bytes, st->out_msgs, st->out_bytes);
	if (st->up != NULL)
		r->up->closed(st);
	if (st->sp != NULL)
		splice_close(st);
	if ((*st->aprev = st->anext) != NULL)
		st->anext->aprev = st->aprev;
	ev_io_stop(r->loop, &st->rio);
	ev_io_stop(r->loop, &st->wio);
	ev_timer_stop(r->loop, &st->handshake);
	ev_timer_stop(r->loop, &st->idle);
	if (st->ssl != NULL) {
		tls_io_shutdown(st->ssl);
		tls_io_free(st->ssl);
	}
	close(st->fd);
	r->fds_used--;
	unaccount(st);
	free(st->hs);
	free(st->cs);
	free(st->dec.buf);
	out_free(st);
	conf_unref(st->conf);
	free(st);
}

/* Output: frames are written straight away with writev; what the socket
 * will not take is held, up to write-buffer bytes.  When full, ESP is
 * dropped as a congested link would, and IKE keeps the last
 * max-message + 2 bytes of room (DESIGN.md, bounds). */
static bool
admit(struct stream *st, size_t have, size_t len, bool ike)
{
	struct relay *r = st->r;
	size_t cap = st->out != NULL ? st->out_cap : st->cr->write_buffer;
	size_t reserve = ike ? 0 : st->cr->max_message + FRAME_HDR_LEN;

	/* write-buffer-total: a stream with nothing held may not start
	 * holding ESP when all the buffers together are at the bound (IKE
	 * gets one frame's room: hold()). */
	if (st->out == NULL && !ike && wbuf_at_total(st)) {
		r->stats.wbuf_total_full++;
		reserve = cap;
	}
	if (have + len + reserve > cap) {
		if (ike)
			st->r->stats.ike_full++;
		else
			st->r->stats.esp_full++;
		return false;
	}
	return true;
}

/*
 * Holds @len bytes for later.  At write-buffer-total, a stream that holds
 * nothing yet gets room for one frame only: the rest of a frame the socket
 * took in part must still go out whole (a stream cannot skip bytes), but
 * admit() lets nothing else in.
 */
static int
hold(struct stream *st, const uint8_t *p, size_t len)
{
	if (st->out == NULL) {
		size_t cap = st->cr->write_buffer;

		if (wbuf_at_total(st) &&
		    cap > st->cr->max_message + FRAME_HDR_LEN)
			cap = st->cr->max_message + FRAME_HDR_LEN;
		if ((st->out = malloc(cap)) == NULL) {
			log_warn("stream buffer");
			return -1;
		}
		st->out_cap = cap;
		st->r->wbuf_total += cap;
	}
	if (st->out_off > 0 && st->out_off == st->out_len)
		st->out_off = st->out_len = 0;
	if (st->out_len + len > st->out_cap && st->out_off > 0) {
		memmove(st->out, st->out + st->out_off,
		    st->out_len - st->out_off);
		st->out_len -= st->out_off;
		st->out_off = 0;
	}
	/* admit() keeps frames within write-buffer; a section change since
	 * the buffer was made (routing) may have lowered it. */
	if (st->out_len + len > st->out_cap) {
		log_stream(st, LOG_LEVEL_INFO, "write buffer of %zu bytes "
		    "cannot take %zu more", st->out_cap, len);
		return -1;
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
	out_free(st);
	return 0;
}

/* Frames admitted by kind into the out buffer, to be written through
 * OpenSSL later; -1 when the stream was closed. */
static int
tls_hold(struct stream *st, const struct iovec *iov, size_t niov,
    const bool *ike)
{
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
	return 0;
}

/*
 * With nothing queued, the frames are gathered in the process's TLS
 * scratch buffer and written from there, a scratch buffer's worth at a
 * time, so a batch costs no allocation; only what OpenSSL does not take
 * is held (and must be offered again as is:
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets it move), and the frames after
 * it are admitted by kind behind it.
 */
static int
tls_send_direct(struct stream *st, const struct iovec *iov, size_t niov,
    const bool *ike)
{
	struct relay *r = st->r;
	size_t i = 0, k;
	char ebuf[160];

	while (i < niov) {
		size_t len = 0, off = 0;

		for (; i < niov; i += 2) {
			size_t flen = iov[i].iov_len + iov[i + 1].iov_len;

			if (len + flen > RELAY_TLS_BUF)
				break;
			if (!admit(st, len, flen, ike[i / 2]))
				continue;
			memcpy(r->tbuf + len, iov[i].iov_base,
			    iov[i].iov_len);
			memcpy(r->tbuf + len + iov[i].iov_len,
			    iov[i + 1].iov_base, iov[i + 1].iov_len);
			len += flen;
		}
		while (off < len) {
			switch (tls_io_write(st->ssl, r->tbuf + off,
			    len - off, &k)) {
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
				    tls_io_strerror(st->ssl, ebuf,
				    sizeof(ebuf)));
				stream_close(st, "TLS write error");
				return -1;
			}
			break;
		}
		if (off == len)
			continue;
		if (hold(st, r->tbuf + off, len - off) == -1) {
			stream_close(st, "out of memory");
			return -1;
		}
		return tls_hold(st, iov + i, niov - i, ike + i / 2);
	}
	return 0;
}

static int
tls_send(struct stream *st, const struct iovec *iov, size_t niov,
    const bool *ike)
{
	if (st->out_len == st->out_off && st->tls_up)
		return tls_send_direct(st, iov, niov, ike);
	if (tls_hold(st, iov, niov, ike) == -1)
		return -1;
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
		if (st->sec != NULL) {
			st->sec->out_msgs++;
			st->sec->out_bytes += msgs[i].iov_len;
		}
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
		out_free(st);
		if (st->state == STREAM_DRAIN)
			(void)shutdown(st->fd, SHUT_WR);
	}
}

/* Hands the messages gathered from this read up to the session layer;
 * -1 when that closed the stream. */
static int
flush(struct stream *st)
{
	struct relay *r = st->r;
	size_t n = r->ntx;

	r->ntx = 0;
	if (n == 0)
		return 0;
	return r->up->input(st, r->tx, r->txi, n);
}

/* One message from the client; -1 when the stream was closed. */
static int
on_message(struct stream *st, const uint8_t *p, size_t n)
{
	struct msg_info m;
	bool first = false;

	st->in_msgs++;
	st->in_bytes += n;
	if (st->sec != NULL) {
		st->sec->in_msgs++;
		st->sec->in_bytes += n;
	}
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
	if (st->state == STREAM_FIRST) {
		/* The handshake deadline ends with the first message; a
		 * probe's proof has its own (relay/session.c). */
		stream_set_state(st, STREAM_FRAMES);
		ev_timer_stop(st->r->loop, &st->handshake);
		first = true;
	}
	/* Messages point into the read buffer, or into dec.buf, which the
	 * next partial frame may overwrite: flush before that can happen.
	 * The first goes up alone: the session layer may hand the stream
	 * to another worker with the bytes after it (frames_input()). */
	st->r->txi[st->r->ntx] = m;
	st->r->tx[st->r->ntx++] = (struct iovec){ (void *)p, n };
	if (first || st->r->ntx == RELAY_SEND_BATCH ||
	    p == st->dec.buf + FRAME_HDR_LEN)
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
			stream_set_state(st, STREAM_FIRST);
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
	struct relay *r = st->r;
	struct rd in = rd_make(p, n), msg;
	int rc;

	if (st->state == STREAM_PREFIX && on_prefix(st, &in) == -1)
		return -1;
	for (;;) {
		switch (frame_decode(&st->dec, &in, &msg)) {
		case FRAME_OK:
			if (st->state == STREAM_FIRST) {
				/* What follows the first message, for a
				 * handoff (relay/handoff.c). */
				r->first_st = st;
				r->first_rest = in.p;
				r->first_nrest = in.n;
			}
			rc = on_message(st, msg.p, msg.n);
			r->first_st = NULL;
			if (rc == -1)
				return -1;
			/* Handed over, spliced: the rest went along. */
			if (st->state == STREAM_SPLICE)
				return 0;
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
	if (st->state == STREAM_SPLICE)
		return splice_input(st, p, n);
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
			r->stats.tls_failed++;
			log_stream(st, LOG_LEVEL_INFO, "TLS handshake failed: "
			    "%s", st->tls_refusal != NULL ? st->tls_refusal :
			    tls_io_strerror(st->ssl, ebuf, sizeof(ebuf)));
			stream_close(st, "TLS handshake failed");
			return -1;
		}
		st->tls_up = true;
		r->stats.tls_ok[SSL_version(st->ssl) == TLS1_2_VERSION ? 0 :
		    SSL_version(st->ssl) == TLS1_3_VERSION ? 1 : 2]++;
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

/* A stream of section @cr on @fd, counted in its limits, in state
 * @state, its watchers made but not started; NULL (@fd closed) when over
 * a limit or out of memory. */
static struct stream *
stream_new(struct relay *r, int fd, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *laddr, const struct conf_relay *cr,
    enum stream_state state)
{
	struct stream *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_warn("stream");
		close(fd);
		return NULL;
	}
	st->id = relay_next_id(r, &r->next_stream_id);
	st->r = r;
	st->conf = conf_ref(r->conf);
	st->cr = cr;
	st->fd = fd;
	st->peer = *peer;
	st->laddr = *laddr;
	st->state = state;	/* the machine's start */
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
		return NULL;
	}
	r->fds_used++;
	st->started = ev_now(r->loop);
	st->sec = stream_section(r, cr->name);
	if ((st->anext = r->streams) != NULL)
		st->anext->aprev = &st->anext;
	st->aprev = &r->streams;
	r->streams = st;
	return st;
}

static void
stream_start(struct stream *st)
{
	struct relay *r = st->r;

	ev_io_start(r->loop, &st->rio);
	ev_timer_start(r->loop, &st->handshake);
	if (st->cr->idle_timeout_ms > 0)
		ev_timer_again(r->loop, &st->idle);
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
	if ((st = stream_new(r, fd, peer, laddr, cr, STREAM_SNIFF)) == NULL)
		return;
	st->lay_tls = lay.tls;
	st->lay_proxy = lay.proxy;
	st->lay_connect = lay.connect;
	st->hs_cap = layers_hs_cap(&lay);
	r->stats.streams++;
	log_stream(st, LOG_LEVEL_INFO, "open, relay %s", cr->name);
	stream_start(st);
}

int
stream_import(struct relay *r, int fd, const struct stream_origin *o,
    const uint8_t *bytes, size_t n)
{
	struct stream *st;

	if ((st = stream_new(r, fd, &o->peer, &o->laddr, o->cr,
	    STREAM_FIRST)) == NULL)
		return -1;
	st->routed = true;
	st->imported = true;
	st->layers = o->layers;
	log_stream(st, LOG_LEVEL_INFO, "open, relay %s, handed over by %s",
	    o->cr->name, o->what);
	stream_start(st);
	return stream_input(st, bytes, n);
}

struct relay_section *
stream_section(struct relay *r, const char *name)
{
	struct relay_section *sec;

	for (sec = r->sections; sec != NULL; sec = sec->next)
		if (strcmp(sec->name, name) == 0)
			return sec;
	if ((sec = calloc(1, sizeof(*sec))) == NULL)
		return NULL;
	snprintf(sec->name, sizeof(sec->name), "%s", name);
	sec->next = r->sections;
	r->sections = sec;
	return sec;
}

void
stream_sections_free(struct relay *r)
{
	struct relay_section *sec;

	while ((sec = r->sections) != NULL) {
		r->sections = sec->next;
		free(sec);
	}
}
