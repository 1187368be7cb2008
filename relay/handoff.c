/*
 * Handoff between workers (relay/handoff.h; relay/README "Workers").
 *
 * Made by the master before the first fork and inherited by every worker:
 * the owner table (relay/owners.c) in shared memory, and for each worker
 * an AF_UNIX SOCK_SEQPACKET socketpair, its channel: the worker reads one
 * end, every other worker sends on the other.  One message (relay/hmsg.h)
 * carries one stream: its metadata, the bytes read but not used, and one
 * descriptor by SCM_RIGHTS.  A sequenced packet arrives whole or not at
 * all, from any number of senders on one socket; a full channel refuses
 * at once (MSG_DONTWAIT), and the stream is closed, as a full accept
 * queue would refuse it.  The master keeps every end, so that a worker
 * forked again reads the same channel, and a dead worker's is drained.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "conf/conf.h"
#include "framing/encoder.h"
#include "framing/prefix.h"
#include "relay/handoff.h"
#include "relay/hmsg.h"
#include "relay/log.h"
#include "relay/owners.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/splice.h"
#include "relay/stream.h"
#include "relay/worker.h"

enum {
	HANDOFF_SNDBUF = 4 << 20,	/* bytes in flight to one worker */
	HANDOFF_BATCH = 32,		/* messages read per wake-up */
	HANDOFF_FDS_MAX = 4,		/* room to see (and close) extras */
	SESSION_KEYS = SESSION_IKE_KEYS + SESSION_ESP_KEYS,
};

_Static_assert((int)HMSG_WORKERS_MAX == (int)OWNERS_WORKERS_MAX,
    "one bound on workers");
/* A first read after the largest held header, or after a frame begun in
 * an earlier read. */
_Static_assert((size_t)HMSG_BYTES_MAX >= (size_t)RELAY_READ_BUF +
    CONF_HEADER_BYTES_MAX + FRAME_HDR_LEN, "a header and a read fit");
_Static_assert((size_t)HMSG_BYTES_MAX >= (size_t)RELAY_READ_BUF +
    CONF_MESSAGE_MAX + 2 * FRAME_HDR_LEN, "a message and a read fit");

/* What the master made; each process has its copy of the descriptors. */
static struct {
	bool		 made;				/* fds below set */
	struct owners	*owners;
	unsigned	 n;				/* workers */
	int		 rx[OWNERS_WORKERS_MAX];	/* worker i reads */
	int		 tx[OWNERS_WORKERS_MAX];	/* to worker i */
} hs;

/* A worker's part. */
struct handoff {
	struct relay	*r;
	unsigned	 id;
	ev_io		 io;		/* on hs.rx[id] */
	uint8_t		*buf;		/* HMSG_MAX, one message */
};

static void chan_read_cb(EV_P_ ev_io *w, int revents);

/* ---- set-up: master and workers ---- */

static void
sndbuf(int fd)
{
	int want = HANDOFF_SNDBUF, have = 0;
	socklen_t len = sizeof(have);

	/* Root may pass net.core.wmem_max; otherwise take what is allowed. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want,
	    sizeof(want)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want,
		    sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &len) == 0 &&
	    (size_t)have < (size_t)HMSG_MAX + 64)
		log_warnx("handoff channel: send buffer of %d bytes: a stream "
		    "with more than that read cannot be handed over", have);
}

int
handoff_setup(struct relay *r, unsigned nworkers)
{
	size_t nkeys;

	for (unsigned i = 0; i < OWNERS_WORKERS_MAX; i++)
		hs.rx[i] = hs.tx[i] = -1;
	hs.made = true;
	if (nworkers < 2)
		return 0;
	nkeys = (size_t)r->conf->max_sessions * SESSION_KEYS;
	if ((hs.owners = owners_new(nkeys, nworkers)) == NULL)
		return -1;
	hs.n = nworkers;
	for (unsigned i = 0; i < nworkers; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, sv) == -1) {
			log_warn("handoff channel");
			handoff_teardown();
			return -1;
		}
		hs.rx[i] = sv[0];
		hs.tx[i] = sv[1];
		sndbuf(sv[1]);
	}
	if (nkeys > owners_max(hs.owners))
		log_warnx("owner table: room for %zu keys a worker of the %zu "
		    "that max-sessions %u may hold; keys past it stay in their "
		    "worker", owners_max(hs.owners), nkeys,
		    r->conf->max_sessions);
	return 0;
}

int
handoff_attach(struct relay *r, unsigned id)
{
	struct handoff *h;

	if (hs.owners == NULL)
		return 0;
	if (id >= hs.n) {
		log_warnx("handoff: worker %u of %u", id, hs.n);
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->buf = malloc(HMSG_MAX)) == NULL) {
		log_warn("handoff");
		free(h);
		return -1;
	}
	h->r = r;
	h->id = id;
	ev_io_init(&h->io, chan_read_cb, hs.rx[id], EV_READ);
	if (r->loop != NULL)
		ev_io_start(r->loop, &h->io);
	r->handoff = h;
	owners_set_alive(hs.owners, id, true);
	return 0;
}

int
handoff_start(struct relay *r, unsigned id)
{
	if (handoff_attach(r, id) == -1)
		return -1;
	/* Only the master keeps every end: another worker's channel is
	 * read by that worker alone, and nobody sends to itself. */
	for (unsigned i = 0; i < hs.n; i++) {
		if (i != id && hs.rx[i] != -1) {
			close(hs.rx[i]);
			hs.rx[i] = -1;
		}
	}
	if (id < hs.n && hs.tx[id] != -1) {
		close(hs.tx[id]);
		hs.tx[id] = -1;
	}
	return 0;
}

void
handoff_detach(struct relay *r)
{
	struct handoff *h = r->handoff;

	if (h == NULL)
		return;
	if (r->loop != NULL)
		ev_io_stop(r->loop, &h->io);
	owners_set_alive(hs.owners, h->id, false);
	free(h->buf);
	free(h);
	r->handoff = NULL;
}

void
handoff_teardown(void)
{
	for (unsigned i = 0; hs.made && i < OWNERS_WORKERS_MAX; i++) {
		if (hs.rx[i] != -1)
			close(hs.rx[i]);
		if (hs.tx[i] != -1)
			close(hs.tx[i]);
		hs.rx[i] = hs.tx[i] = -1;
	}
	hs.made = false;
	owners_free(hs.owners);
	hs.owners = NULL;
	hs.n = 0;
}

/* Receives what is queued on @fd and closes the descriptors it carries;
 * the number of messages. */
static unsigned
drain(int fd)
{
	unsigned n = 0;

	for (;;) {
		union {
			char		buf[CMSG_SPACE(sizeof(int) *
			    HANDOFF_FDS_MAX)];
			struct cmsghdr	align;
		} ctl;
		uint8_t b[16];
		struct iovec iov = { b, sizeof(b) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };

		if (recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
			return n;
		n++;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < k; i++) {
				int x;

				memcpy(&x, CMSG_DATA(cm) + i * sizeof(int),
				    sizeof(int));
				close(x);
			}
		}
	}
}

void
handoff_gone(struct relay *r, unsigned id)
{
	unsigned n = 0;

	if (hs.owners == NULL || id >= hs.n)
		return;
	/* From now on nobody sends to it, and its keys are nobody's. */
	owners_set_alive(hs.owners, id, false);
	owners_purge(hs.owners, id);
	if (hs.rx[id] != -1)
		n = drain(hs.rx[id]);
	log_info("worker %u gone: its keys forgotten (%zu keys of other "
	    "workers kept), %u stream%s in flight to it closed", id,
	    owners_count(hs.owners), n, n == 1 ? "" : "s");
}

/* ---- keys ---- */

bool
handoff_key_claim(struct relay *r, bool esp, uint64_t spi_i, uint64_t spi_r)
{
	struct handoff *h = r->handoff;
	unsigned holder;

	if (h == NULL)
		return true;
	switch (owners_claim(hs.owners, h->id, esp, spi_i, spi_r, &holder)) {
	case OWNERS_MINE:
		return true;
	case OWNERS_OTHER:
		r->stats.handoff_foreign++;
		return false;
	case OWNERS_FULL:
		/* Still this worker's: streams that land here find it;
		 * elsewhere it is a new session. */
		if (r->stats.handoff_unrecorded++ == 0)
			log_warnx("owner table full: keys learnt from now on "
			    "are found only by the worker that holds them");
		return true;
	}
	return true;
}

void
handoff_key_release(struct relay *r, bool esp, uint64_t spi_i,
    uint64_t spi_r)
{
	struct handoff *h = r->handoff;

	if (h != NULL)
		owners_release(hs.owners, h->id, esp, spi_i, spi_r);
}

int
handoff_key_owner(struct relay *r, bool esp, uint64_t spi_i, uint64_t spi_r)
{
	struct handoff *h = r->handoff;
	unsigned w;

	if (h == NULL || !owners_lookup(hs.owners, esp, spi_i, spi_r, &w) ||
	    w == h->id)
		return -1;
	return (int)w;
}

/* ---- a stream goes ---- */

/* The head, the first message's frame and the rest, with @fd. */
static int
chan_send(int tx, const uint8_t *head, size_t hlen, const struct iovec *first,
    const uint8_t *rest, size_t nrest, int fd)
{
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	} ctl;
	uint8_t fh[FRAME_HDR_LEN];
	struct iovec iov[4] = {
		{ (void *)(uintptr_t)head, hlen },
		{ fh, sizeof(fh) },
		*first,
		{ (void *)(uintptr_t)rest, nrest },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 4,
	    .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm;

	frame_header(fh, first->iov_len);
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(tx, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == -1 ? -1 : 0;
}

static uint8_t
prefix_of(const struct stream *st)
{
	enum prefix_kind kind = PREFIX_IKETCP;
	size_t len;

	(void)prefix_detect(st->prefix, st->prefix_have, &kind, &len);
	return (uint8_t)kind;
}

/* Why @st cannot go to @worker, after trying to send it there (a
 * socketpair's other end in *@keep when it is spliced); NULL when it
 * went. */
static const char *
send_stream(struct stream *st, unsigned worker, const struct iovec *first,
    bool splice, int *keep)
{
	struct relay *r = st->r;
	uint8_t head[HMSG_HEAD_MAX];
	const uint8_t *rest = r->first_st == st ? r->first_rest : NULL;
	size_t nrest = r->first_st == st ? r->first_nrest : 0, hlen;
	struct hmsg m;
	int sv[2];

	memset(&m, 0, sizeof(m));
	m.kind = splice ? HMSG_SPLICE : HMSG_SOCKET;
	m.from = r->handoff->id;
	m.stream = st->id;
	m.layers = st->layers;
	m.prefix = prefix_of(st);
	m.peer = st->peer;
	m.laddr = st->laddr;
	snprintf(m.section, sizeof(m.section), "%s", st->cr->name);
	m.nbytes = FRAME_HDR_LEN + first->iov_len + nrest;
	if (worker >= hs.n || worker == r->handoff->id || hs.tx[worker] == -1)
		return "no channel to it";
	if (!owners_is_alive(hs.owners, worker))
		return "it is not running";
	if (m.nbytes > HMSG_BYTES_MAX)
		return "too much read";
	if ((hlen = hmsg_encode_head(&m, head, sizeof(head))) == 0)
		return "the stream cannot be described";
	if (!splice) {
		if (chan_send(hs.tx[worker], head, hlen, first, rest, nrest,
		    st->fd) == -1)
			return errno == EAGAIN ? "its channel is full" :
			    strerror(errno);
		return NULL;
	}
	if (!session_fd_room(r))
		return "descriptor budget reached";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		return strerror(errno);
	if (chan_send(hs.tx[worker], head, hlen, first, rest, nrest,
	    sv[1]) == -1) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		return e == EAGAIN ? "its channel is full" : strerror(e);
	}
	close(sv[1]);		/* in flight now */
	*keep = sv[0];
	return NULL;
}

enum handoff_result
handoff_stream(struct stream *st, unsigned worker, const struct iovec *first)
{
	struct relay *r = st->r;
	/* TLS state cannot move, nor bytes held for the client. */
	bool splice = st->ssl != NULL || st->out_len > st->out_off;
	const char *why;
	int keep = -1;

	if ((why = send_stream(st, worker, first, splice, &keep)) != NULL) {
		r->stats.handoff_failed++;
		log_stream(st, LOG_LEVEL_INFO, "not handed over to worker %u: "
		    "%s", worker, why);
		stream_close(st, "handoff failed");
		return HANDOFF_CLOSED;
	}
	r->stats.handoff_out++;
	if (!splice) {
		char reason[64];

		snprintf(reason, sizeof(reason), "handed over to worker %u",
		    worker);
		stream_close(st, reason);
		return HANDOFF_CLOSED;
	}
	if (splice_start(st, keep, worker) == -1) {
		stream_close(st, "out of memory");
		return HANDOFF_CLOSED;
	}
	r->stats.handoff_spliced++;
	log_stream(st, LOG_LEVEL_INFO, "handed over to worker %u, spliced "
	    "(%s stays here)", worker, st->ssl != NULL ? "TLS" :
	    "held output");
	return HANDOFF_SPLICED;
}

/* ---- a stream comes ---- */

/* A decoded message and its descriptor: the stream is ours now. */
static void
take(struct handoff *h, const struct hmsg *m, int fd)
{
	struct relay *r = h->r;
	struct stream_origin o;
	const char *why = NULL;
	char what[96];

	memset(&o, 0, sizeof(o));
	if ((o.cr = conf_relay_named(r->conf, m->section)) == NULL)
		why = "no such section";
	else if (!worker_serves(r, o.cr))
		why = "a section another worker runs";
	else if (!session_fd_room(r))
		why = "descriptor budget reached";
	if (why != NULL) {
		char addr[64];

		close(fd);
		r->stats.handoff_failed++;
		log_peer(LOG_LEVEL_INFO, "handoff from worker %u (stream %llu, "
		    "client %s, relay %s) refused: %s", m->from,
		    (unsigned long long)m->stream,
		    sockaddr_text(&m->peer, addr, sizeof(addr)), m->section,
		    why);
		return;
	}
	r->stats.handoff_in++;
	o.peer = m->peer;
	o.laddr = m->laddr;
	o.layers = m->layers;
	snprintf(what, sizeof(what), "worker %u (its stream %llu, %s, %s)",
	    m->from, (unsigned long long)m->stream,
	    prefix_name((enum prefix_kind)m->prefix),
	    m->kind == HMSG_SOCKET ? "socket" : "spliced there");
	o.what = what;
	(void)stream_import(r, fd, &o, m->bytes, m->nbytes);
}

/* One message off the channel: -1 when there is none. */
static int
chan_read_one(struct handoff *h)
{
	struct relay *r = h->r;
	union {
		char		buf[CMSG_SPACE(sizeof(int) * HANDOFF_FDS_MAX)];
		struct cmsghdr	align;
	} ctl;
	struct iovec iov = { h->buf, HMSG_MAX };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	int fds[HANDOFF_FDS_MAX];
	size_t nfds = 0;
	struct hmsg m;
	ssize_t n;

	n = recvmsg(hs.rx[h->id], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("handoff channel of worker %u", h->id);
		return -1;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
	    cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < k && nfds < HANDOFF_FDS_MAX; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || nfds != 1 ||
	    !hmsg_decode(h->buf, (size_t)n, &m)) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		r->stats.handoff_failed++;
		log_peer(LOG_LEVEL_WARN, "handoff channel of worker %u: a "
		    "message of %zd bytes with %zu descriptors dropped", h->id,
		    n, nfds);
		return 0;
	}
	take(h, &m, fds[0]);
	return 0;
}

/* The channel readable: streams other workers hand over. */
static void
chan_read_cb(EV_P_ ev_io *w, int revents)
{
	struct handoff *h = container_of(w, struct handoff, io);

	for (unsigned i = 0; i < HANDOFF_BATCH; i++)
		if (chan_read_one(h) == -1)
			return;
}
