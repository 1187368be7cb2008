/*
 * relay/chan.c: the master <-> worker channel (chan.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "framing/wire.h"
#include "relay/chan.h"
#include "relay/log.h"
#include "relay/relay.h"

enum {
	CHAN_READ_BATCH = 64,		/* messages per readable event */
};

struct chan_msg {
	struct chan_msg	*next;
	size_t		 len;		/* header and payload */
	size_t		 nfds;
	int		 fds[CHAN_FDS_MAX];
	uint8_t		 buf[];		/* len octets */
};

struct chan {
	struct ev_loop	*loop;
	int		 fd;
	ev_io		 rio, wio;
	chan_recv_fn	*recv;
	void		*arg;
	struct chan_msg	*q, **qtail;	/* to send, oldest first */
	size_t		 queued;	/* octets in q */
	unsigned	 in_cb;		/* inside recv */
	bool		 doomed;	/* freed inside recv */
	bool		 gone;		/* CHAN_GONE told */
	uint8_t		 in[CHAN_HDR + CHAN_PAYLOAD_MAX + 1];
};

static void
msg_free(struct chan_msg *m)
{
	for (size_t i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	free(m);
}

static void
release(struct chan *ch, bool loop)
{
	struct chan_msg *m;

	if (loop) {
		ev_io_stop(ch->loop, &ch->rio);
		ev_io_stop(ch->loop, &ch->wio);
	}
	while ((m = ch->q) != NULL) {
		ch->q = m->next;
		msg_free(m);
	}
	if (ch->fd != -1)
		close(ch->fd);
	free(ch);
}

void
chan_free(struct chan *ch)
{
	if (ch == NULL)
		return;
	if (ch->in_cb > 0) {
		ev_io_stop(ch->loop, &ch->rio);
		ev_io_stop(ch->loop, &ch->wio);
		ch->doomed = true;
		return;
	}
	release(ch, true);
}

void
chan_forget(struct chan *ch)
{
	if (ch != NULL)
		release(ch, false);
}

/* Tells the callback, once, that the peer is gone; true when the channel
 * was freed meanwhile. */
static bool
deliver(struct chan *ch, enum chan_type type, uint32_t flags,
    uint64_t ticket, const uint8_t *p, size_t n, int *fds, size_t nfds)
{
	if (type == CHAN_GONE) {
		if (ch->gone)
			return false;
		ch->gone = true;
		ev_io_stop(ch->loop, &ch->rio);
		ev_io_stop(ch->loop, &ch->wio);
	}
	ch->in_cb++;
	ch->recv(ch->arg, type, flags, ticket, p, n, fds, nfds);
	ch->in_cb--;
	if (ch->doomed && ch->in_cb == 0) {
		release(ch, false);
		return true;
	}
	return false;
}

/* Descriptors of one received message into @fds (at most max). */
static size_t
take_fds(struct msghdr *mh, int *fds, size_t max)
{
	size_t n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL;
	    c = CMSG_NXTHDR(mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (n < max)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* The other side sent something: whole messages, each to the callback. */
static void
chan_read_cb(EV_P_ ev_io *w, int revents)
{
	struct chan *ch = container_of(w, struct chan, rio);
	union {
		char	buf[CMSG_SPACE(CHAN_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} cm;
	int fds[CHAN_FDS_MAX];

	for (int i = 0; i < CHAN_READ_BATCH; i++) {
		struct iovec iov = { ch->in, sizeof(ch->in) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
		uint32_t type, flags;
		uint64_t ticket;
		struct rd rd;
		size_t nfds;
		ssize_t n;

		n = recvmsg(ch->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (n == -1)
				log_warn("%s: recvmsg", __func__);
			(void)deliver(ch, CHAN_GONE, 0, 0, NULL, 0, NULL, 0);
			return;
		}
		nfds = take_fds(&mh, fds, CHAN_FDS_MAX);
		rd = rd_make(ch->in, (size_t)n);
		if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
		    !rd_be32(&rd, &type) || !rd_be32(&rd, &flags) ||
		    !rd_be64(&rd, &ticket) || type == CHAN_GONE ||
		    type > CHAN_TYPE_MAX) {
			log_warnx("%s: malformed message (%zd octets, flags "
			    "%#x): channel closed", __func__, n, mh.msg_flags);
			for (size_t k = 0; k < nfds; k++)
				close(fds[k]);
			(void)deliver(ch, CHAN_GONE, 0, 0, NULL, 0, NULL, 0);
			return;
		}
		if (deliver(ch, (enum chan_type)type, flags, ticket, rd.p,
		    rd.n, fds, nfds) || ch->doomed || ch->gone)
			return;
	}
}

/* Sends what is queued, as far as the socket takes it. */
static void
flush(struct chan *ch)
{
	struct chan_msg *m;

	while ((m = ch->q) != NULL) {
		union {
			char	buf[CMSG_SPACE(CHAN_FDS_MAX * sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = { m->buf, m->len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (m->nfds > 0) {
			struct cmsghdr *c;

			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.buf;
			mh.msg_controllen = CMSG_SPACE(m->nfds * sizeof(int));
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(m->nfds * sizeof(int));
			memcpy(CMSG_DATA(c), m->fds, m->nfds * sizeof(int));
		}
		if (sendmsg(ch->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				ev_io_start(ch->loop, &ch->wio);
				return;
			}
			/* The reader finds out by the end of the socket. */
			log_warn("%s: sendmsg", __func__);
			shutdown(ch->fd, SHUT_RDWR);
			break;
		}
		ch->q = m->next;
		ch->queued -= m->len;
		msg_free(m);
	}
	if (ch->q == NULL) {
		ch->qtail = &ch->q;
		ch->queued = 0;
	}
	ev_io_stop(ch->loop, &ch->wio);
}

static void
chan_write_cb(EV_P_ ev_io *w, int revents)
{
	flush(container_of(w, struct chan, wio));
}

struct chan *
chan_new(struct ev_loop *loop, int fd, chan_recv_fn *recv, void *arg)
{
	struct chan *ch;

	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		log_warn("channel");
		close(fd);
		return NULL;
	}
	ch->loop = loop;
	ch->fd = fd;
	ch->recv = recv;
	ch->arg = arg;
	ch->qtail = &ch->q;
	ev_io_init(&ch->rio, chan_read_cb, fd, EV_READ);
	ev_io_init(&ch->wio, chan_write_cb, fd, EV_WRITE);
	ev_io_start(loop, &ch->rio);
	return ch;
}

int
chan_send(struct chan *ch, enum chan_type type, uint32_t flags,
    uint64_t ticket, const void *p, size_t n, const int *fds, size_t nfds)
{
	struct chan_msg *m;
	struct wr w;

	if (n > CHAN_PAYLOAD_MAX || nfds > CHAN_FDS_MAX || ch->gone ||
	    ch->queued + CHAN_HDR + n > CHAN_QUEUE_MAX)
		return -1;
	if ((m = malloc(sizeof(*m) + CHAN_HDR + n)) == NULL)
		return -1;
	m->next = NULL;
	m->len = CHAN_HDR + n;
	m->nfds = 0;
	for (size_t i = 0; i < nfds; i++) {
		if ((m->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0)) == -1) {
			log_warn("%s: dup", __func__);
			msg_free(m);
			return -1;
		}
		m->nfds++;
	}
	w = wr_make(m->buf, m->len);
	(void)wr_be32(&w, (uint32_t)type);
	(void)wr_be32(&w, flags);
	(void)wr_be64(&w, ticket);
	if (n > 0)
		(void)wr_bytes(&w, p, n);
	*ch->qtail = m;
	ch->qtail = &m->next;
	ch->queued += m->len;
	if (ch->q == m)
		flush(ch);
	return 0;
}

int
chan_send_long(struct chan *ch, enum chan_type type, uint64_t ticket,
    const void *p, size_t n)
{
	const uint8_t *b = p;

	do {
		size_t k = n > CHAN_PAYLOAD_MAX ? CHAN_PAYLOAD_MAX : n;

		if (chan_send(ch, type, k == n ? CHAN_F_LAST : 0, ticket, b, k,
		    NULL, 0) == -1)
			return -1;
		b += k;
		n -= k;
	} while (n > 0);
	return 0;
}

size_t
chan_queued(const struct chan *ch)
{
	return ch->queued;
}
