/*
 * The splice of a handed-over stream (relay/splice.h):
 *
 *   client -> stream_read_cb -> (TLS) -> stream_input -> splice_input
 *          -> send to our socketpair end -> the owner worker's stream
 *   owner  -> splice_read_cb -> stream_write_raw -> (TLS) -> client
 *
 * Toward the owner, what the socketpair will not take is held, up to what
 * one read from the client can decrypt to (SPLICE_BUF), and the client is
 * not read again until it has gone.  Toward the client, no more is read
 * from the owner than the stream's output buffer has room for; when it is
 * full, reading waits for it to drain (splice_output_drained()).  The
 * owner applies the write-buffer policy (ESP dropped first) to its own
 * end, as for any slow client; bytes here are framed already and are
 * never dropped.  Held bytes count in write-buffer-total.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "relay/log.h"
#include "relay/relay.h"
#include "relay/splice.h"
#include "relay/stream.h"

enum {
	/* One read of ciphertext decrypts to at most this, with a record
	 * begun by the read before. */
	SPLICE_BUF = RELAY_READ_BUF + RELAY_TLS_RECORD,
};

struct splice {
	struct stream	*st;
	int		 fd;		/* our socketpair end */
	ev_io		 rio, wio;
	unsigned	 worker;	/* the owner, for logs */
	uint8_t		*buf;		/* toward the owner, held */
	size_t		 off, len;	/* bytes sent / held */
	bool		 paused;	/* rio off: client output full */
};

static void
buf_free(struct splice *sp)
{
	if (sp->buf != NULL)
		sp->st->r->wbuf_total -= SPLICE_BUF;
	free(sp->buf);
	sp->buf = NULL;
	sp->off = sp->len = 0;
}

/* Our socketpair end readable: the owner's frames, for the client. */
static void
splice_read_cb(EV_P_ ev_io *w, int revents)
{
	struct splice *sp = container_of(w, struct splice, rio);
	struct stream *st = sp->st;
	struct relay *r = st->r;
	size_t room = stream_out_room(st);
	ssize_t n;

	if (room == 0) {
		ev_io_stop(EV_A_ w);
		sp->paused = true;
		return;
	}
	if (room > RELAY_READ_BUF)
		room = RELAY_READ_BUF;
	n = recv(sp->fd, r->rbuf, room, MSG_DONTWAIT);
	if (n <= 0) {
		char why[80];

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		snprintf(why, sizeof(why), "closed by worker %u%s%s",
		    sp->worker, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		stream_close(st, why);
		return;
	}
	st->last_active = ev_now(EV_A);
	if (stream_write_raw(st, r->rbuf, (size_t)n) == -1)
		return;
	if (stream_out_room(st) == 0) {
		ev_io_stop(EV_A_ w);
		sp->paused = true;
	}
}

/* Our socketpair end writable: what was held for the owner. */
static void
splice_write_cb(EV_P_ ev_io *w, int revents)
{
	struct splice *sp = container_of(w, struct splice, wio);
	struct stream *st = sp->st;
	ssize_t n;

	n = send(sp->fd, sp->buf + sp->off, sp->len - sp->off,
	    MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		stream_close(st, "the owner worker's end is gone");
		return;
	}
	sp->off += (size_t)n;
	if (sp->off < sp->len)
		return;
	ev_io_stop(EV_A_ w);
	buf_free(sp);
	/* All passed on: the client may be read again. */
	ev_io_start(EV_A_ &st->rio);
}

int
splice_input(struct stream *st, const uint8_t *p, size_t n)
{
	struct splice *sp = st->sp;
	struct relay *r = st->r;
	ssize_t w = 0;

	if (sp->buf == NULL) {
		w = send(sp->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				stream_close(st, "the owner worker's end is "
				    "gone");
				return -1;
			}
			w = 0;
		}
		if ((size_t)w == n)
			return 0;
		if ((sp->buf = malloc(SPLICE_BUF)) == NULL) {
			log_warn("splice buffer");
			stream_close(st, "out of memory");
			return -1;
		}
		r->wbuf_total += SPLICE_BUF;
	}
	p += w;
	n -= (size_t)w;
	if (sp->off > 0) {
		memmove(sp->buf, sp->buf + sp->off, sp->len - sp->off);
		sp->len -= sp->off;
		sp->off = 0;
	}
	/* Reading stops below, so one read's plaintext is all that can
	 * come: more is a bug of ours, not the peer's doing. */
	if (n > SPLICE_BUF - sp->len) {
		log_stream(st, LOG_LEVEL_WARN, "splice buffer of %d bytes "
		    "cannot take %zu more", SPLICE_BUF, n);
		stream_close(st, "splice buffer full");
		return -1;
	}
	memcpy(sp->buf + sp->len, p, n);
	sp->len += n;
	ev_io_stop(r->loop, &st->rio);
	ev_io_start(r->loop, &sp->wio);
	return 0;
}

void
splice_output_drained(struct stream *st)
{
	struct splice *sp = st->sp;

	if (sp->paused) {
		sp->paused = false;
		ev_io_start(st->r->loop, &sp->rio);
	}
}

int
splice_start(struct stream *st, int fd, unsigned worker)
{
	struct relay *r = st->r;
	struct splice *sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		log_warn("splice");
		close(fd);
		return -1;
	}
	sp->st = st;
	sp->fd = fd;
	sp->worker = worker;
	r->fds_used++;
	ev_io_init(&sp->rio, splice_read_cb, fd, EV_READ);
	ev_io_init(&sp->wio, splice_write_cb, fd, EV_WRITE);
	st->sp = sp;
	stream_set_state(st, STREAM_SPLICE);
	ev_io_start(r->loop, &sp->rio);
	return 0;
}

void
splice_close(struct stream *st)
{
	struct splice *sp = st->sp;
	struct relay *r = st->r;

	ev_io_stop(r->loop, &sp->rio);
	ev_io_stop(r->loop, &sp->wio);
	close(sp->fd);
	r->fds_used--;
	buf_free(sp);
	free(sp);
	st->sp = NULL;
}
