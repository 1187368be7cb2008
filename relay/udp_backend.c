/*
 * The relay backend: a session's messages go to its gateway as UDP, one
 * datagram each, from one connected socket, so the gateway sees one
 * stable source port per session however often the client's stream
 * breaks and comes back (RFC 9329 §6).  A probing stream gets a socket
 * of its own: the gateway answers a request where it came from (RFC 7296
 * §2.11), so its authenticated answer reaches exactly the probe that sent
 * the genuine request, and that answer is the proof (relay/README).
 *
 * With gateway-ike-port set, a session's IKE_SA_INIT requests go to that
 * port as bare IKE from a second socket, opened on the first of them, and
 * everything else to the gateway's port behind the Non-ESP marker: the
 * relay floats as a NAT-T initiator does (RFC 7296 §2.23).  Answers on
 * that socket gain the marker on the way back.  Probes never use it.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "framing/natt.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/stream.h"
#include "relay/udp_backend.h"

/* One connected UDP socket toward the gateway: the session's, or a
 * probe's (@p set) until the probe is proven and it becomes the
 * session's. */
struct udp_sock {
	struct session	*s;
	struct probe	*p;		/* while it serves a probe */
	int		 fd;
	ev_io		 io;
	uint16_t	 lport;		/* our source port */
	bool		 bare;		/* gateway-ike-port: IKE, no marker */
};

/*
 * An address a session's sockets bind or connect to.  Not a conf_addr:
 * every session holds two, sessions are many (100 000 and more, make
 * bench-scale), and a conf_addr's text and sockaddr_storage make it 392
 * bytes against 32 here; a log line shows the address in numbers.
 */
struct udp_addr {
	union {
		struct sockaddr		sa;
		struct sockaddr_in	in;
		struct sockaddr_in6	in6;
	} u;
	socklen_t	 len;		/* of u; 0: none */
};

/* The session's backend state. */
struct udp_sess {
	struct udp_sock	*sock;		/* sends; receives */
	struct udp_sock	*old;		/* receives: the port before the
					 * latest proven re-attach */
	struct udp_sock	*ike;		/* to gateway-ike-port, or NULL */
	struct udp_addr	 gw;		/* the gateway it started with */
	struct udp_addr	 src;		/* gateway-source; len 0: none */
	uint16_t	 ike_port;	/* gateway-ike-port; 0 off */
};

static void udp_read_cb(EV_P_ ev_io *w, int revents);

static void
addr_set(struct udp_addr *a, const struct conf_addr *c)
{
	memset(a, 0, sizeof(*a));
	if (c->len <= sizeof(a->u)) {
		memcpy(&a->u, &c->ss, c->len);
		a->len = c->len;
	}
}

static const char *
addr_text(const struct udp_addr *a, char *buf, size_t cap)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &a->u, a->len);
	return sockaddr_text(&ss, buf, cap);
}

static void
sock_free(struct relay *r, struct udp_sock *u)
{
	if (u == NULL)
		return;
	ev_io_stop(r->loop, &u->io);
	close(u->fd);
	r->fds_used--;
	free(u);
}

/*
 * A socket connected to @gw, bound first to @src when it has an address
 * (gateway-source).  A source whose ephemeral ports are used up fails
 * with EADDRINUSE and no log line: the caller tries the next one.
 */
static struct udp_sock *
sock_new(struct session *s, const struct udp_addr *gw,
    const struct udp_addr *src)
{
	struct relay *r = s->r;
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	struct udp_sock *u;
	char text[INET6_ADDRSTRLEN + 8];
	int fd, bufsz = 1 << 20;

	memset(&local, 0, sizeof(local));
	fd = socket(gw->u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("gateway socket");
		return NULL;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (src->len != 0 && bind(fd, &src->u.sa, src->len) == -1) {
		int e = errno;

		if (e != EADDRINUSE)
			log_warn("gateway-source %s",
			    addr_text(src, text, sizeof(text)));
		close(fd);
		errno = e;
		return NULL;
	}
	if (connect(fd, &gw->u.sa, gw->len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&local, &len) == -1) {
		log_warn("connect to gateway %s",
		    addr_text(gw, text, sizeof(text)));
		close(fd);
		return NULL;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		log_warn("gateway socket");
		close(fd);
		return NULL;
	}
	u->s = s;
	u->fd = fd;
	u->lport = ntohs(local.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&local)->sin6_port :
	    ((struct sockaddr_in *)&local)->sin_port);
	r->fds_used++;
	ev_io_init(&u->io, udp_read_cb, fd, EV_READ);
	ev_io_start(r->loop, &u->io);
	return u;
}

/*
 * A new session's socket: from the section's gateway-sources in turn
 * (the relay's cursor), past any whose ports are used up, so each
 * address adds a port range.  Later sockets of the session (probes,
 * gateway-ike-port) use the same address: the gateway sees one peer
 * address change port, as after a NAT rebinding, never address.
 */
static struct udp_sock *
sock_first(struct session *s, struct udp_sess *us,
    const struct conf_relay *cr)
{
	struct relay *r = s->r;
	size_t n = cr->ngateway_source;

	if (n == 0)
		return sock_new(s, &us->gw, &us->src);
	for (size_t i = 0; i < n; i++) {
		size_t k = (r->gw_source_next + i) % n;
		struct udp_sock *u;

		addr_set(&us->src, &cr->gateway_source[k]);
		if ((u = sock_new(s, &us->gw, &us->src)) != NULL) {
			r->gw_source_next = (unsigned)((k + 1) % n);
			return u;
		}
		if (errno != EADDRINUSE)
			break;
	}
	log_peer(LOG_LEVEL_WARN, "[relay %s]: no gateway-source with a "
	    "free port: session refused", cr->name);
	return NULL;
}

static int
be_open(struct session *s, struct stream *st, const struct msg_info *m)
{
	struct udp_sess *us;

	if ((us = calloc(1, sizeof(*us))) == NULL) {
		log_warn("session");
		return -1;
	}
	addr_set(&us->gw, &st->cr->gateway);
	us->ike_port = st->cr->gateway_ike_port;
	if ((us->sock = sock_first(s, us, st->cr)) == NULL) {
		free(us);
		return -1;
	}
	s->be = us;
	s->lport = us->sock->lport;
	return 0;
}

static void
be_close(struct session *s)
{
	struct udp_sess *us = s->be;

	sock_free(s->r, us->sock);
	sock_free(s->r, us->old);
	sock_free(s->r, us->ike);
	free(us);
	s->be = NULL;
}

static int
be_probe_open(struct session *s, struct probe *p)
{
	struct udp_sess *us = s->be;
	struct udp_sock *u;

	if ((u = sock_new(s, &us->gw, &us->src)) == NULL)
		return -1;
	u->p = p;
	p->be = u;
	p->lport = u->lport;
	return 0;
}

static void
be_probe_close(struct session *s, struct probe *p)
{
	sock_free(s->r, p->be);
	p->be = NULL;
}

/*
 * The probe's socket is the session's now: it sends from here on.  The
 * previous one keeps receiving, since not every gateway moves to the new
 * port: one that follows NAT (RFC 7296 §2.23) does on the authenticated
 * request, but with MOBIKE negotiated it waits for UPDATE_SA_ADDRESSES
 * (RFC 4555 §3.5) and goes on sending to the old port.  The one before
 * that goes.
 */
static void
be_proven(struct session *s, struct probe *p)
{
	struct udp_sess *us = s->be;
	struct udp_sock *u = p->be;

	p->be = NULL;
	u->p = NULL;
	sock_free(s->r, us->old);
	us->old = us->sock;
	us->sock = u;
	s->lport = u->lport;
}

/* One sendmsg of @n datagrams of equal size (but the last, which may be
 * shorter) as UDP GSO segments, or of one datagram. */
static ssize_t
send_run(int fd, const struct iovec *iov, size_t n)
{
	union {
		char		buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr	align;
	} ctl;
	struct msghdr mh = { .msg_iov = (struct iovec *)(uintptr_t)iov,
	    .msg_iovlen = n };

	if (n > 1) {
		struct cmsghdr *cm;
		uint16_t seg = (uint16_t)iov[0].iov_len;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	}
	return sendmsg(fd, &mh, MSG_DONTWAIT);
}

/* An owner's message for gateway-ike-port: an IKE_SA_INIT request (a
 * COOKIE or INVALID_KE_PAYLOAD retry too). */
static bool
is_bare(const struct udp_sess *us, const struct probe *p,
    const struct msg_info *m)
{
	return p == NULL && us->ike_port != 0 && m->kind == MSG_IKE &&
	    m->exchange == IKE_EXCH_SA_INIT && msg_is_request(m);
}

/* An IKE_SA_INIT request to gateway-ike-port without its marker, from
 * the session's socket for it, opened on first use. */
static void
send_bare(struct session *s, struct udp_sess *us, const struct iovec *iov)
{
	struct relay *r = s->r;
	struct iovec bare = {
		.iov_base = (uint8_t *)iov->iov_base + NON_ESP_MARKER_LEN,
		.iov_len = iov->iov_len - NON_ESP_MARKER_LEN,
	};

	if (us->ike == NULL) {
		struct udp_addr ike_gw = us->gw;
		char text[INET6_ADDRSTRLEN + 8];

		/* The gateway at gateway-ike-port. */
		if (ike_gw.u.sa.sa_family == AF_INET6)
			ike_gw.u.in6.sin6_port = htons(us->ike_port);
		else
			ike_gw.u.in.sin_port = htons(us->ike_port);
		if (!session_fd_room(r) ||
		    (us->ike = sock_new(s, &ike_gw, &us->src)) == NULL) {
			session_log(s, LOG_LEVEL_INFO, "no socket to "
			    "gateway-ike-port %s: IKE_SA_INIT dropped",
			    addr_text(&ike_gw, text, sizeof(text)));
			r->stats.udp_send_errors++;
			return;
		}
		us->ike->bare = true;
	}
	if (send_run(us->ike->fd, &bare, 1) == -1)
		r->stats.udp_send_errors++;
}

/* Client messages -> gateway, each one datagram, from the owner's socket
 * or the probe's own.  Runs of equal-sized messages go out as one GSO
 * send (PERF.md: the kernel's per-datagram path is the bottleneck, GSO
 * carries ~4x as many). */
static void
be_input(struct session *s, struct probe *p, const struct iovec *iov,
    const struct msg_info *mi, size_t n)
{
	struct relay *r = s->r;
	struct udp_sess *us = s->be;
	struct udp_sock *u = p != NULL ? p->be : us->sock;
	size_t i = 0;

	while (i < n) {
		size_t j = i + 1, total = iov[i].iov_len;

		if (is_bare(us, p, &mi[i])) {
			send_bare(s, us, &iov[i]);
			i++;
			continue;
		}
		if (!r->no_gso)
			while (j < n && j - i < UDP_GSO_SEGMENTS &&
			    iov[j].iov_len == iov[i].iov_len &&
			    total + iov[j].iov_len <= UDP_GSO_BYTES &&
			    !is_bare(us, p, &mi[j]))
				total += iov[j++].iov_len;
		if (send_run(u->fd, &iov[i], j - i) == -1) {
			if (j - i > 1 && (errno == EIO || errno == EINVAL ||
			    errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
				log_info("UDP GSO refused (%s); sending "
				    "datagrams one by one", strerror(errno));
				r->no_gso = true;
				continue;
			}
			/* UDP is lossy: drop, count; IKE retransmits. */
			r->stats.udp_send_errors += j - i;
		}
		i = j;
	}
}

/*
 * Gateway datagrams.  On the session's socket they are framed back onto
 * the owner stream.  On a probe's socket only the proof passes: an IKE
 * answer newer than every client request relayed for that SA, which only
 * a holder of the SA's keys could have drawn from the gateway; the probe
 * becomes the owner and the rest of the batch flows to it.  Nothing else
 * that reaches a probe is delivered to anyone.  On the gateway-ike-port
 * socket only bare IKE passes, and it is received behind room for the
 * marker, which it gains: a stream carries the port-4500 form.
 */
static void
udp_read_cb(EV_P_ ev_io *w, int revents)
{
	struct udp_sock *u = container_of(w, struct udp_sock, io);
	struct session *s = u->s;
	struct relay *r = s->r;
	struct mmsghdr mm[RELAY_UDP_BATCH];
	struct iovec rv[RELAY_UDP_BATCH], out[RELAY_UDP_BATCH];
	bool ike[RELAY_UDP_BATCH];
	/* A bare datagram lands after room for its marker. */
	size_t nout = 0, skip = u->bare ? NON_ESP_MARKER_LEN : 0;
	int n;

	memset(mm, 0, sizeof(mm));
	for (size_t i = 0; i < RELAY_UDP_BATCH; i++) {
		rv[i].iov_base = r->ubuf + i * RELAY_UDP_SLOT + skip;
		rv[i].iov_len = RELAY_UDP_SLOT - skip;
		mm[i].msg_hdr.msg_iov = &rv[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(u->fd, mm, RELAY_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			log_debug("%s: session %llu: recvmmsg: %s", __func__,
			    s->id, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)rv[i].iov_base - skip;
		size_t len = mm[i].msg_len + skip;
		struct msg_info m;
		enum msg_kind k;

		if ((mm[i].msg_hdr.msg_flags & MSG_TRUNC) ||
		    len > s->max_message) {
			r->stats.gw_bad++;
			continue;
		}
		/* RFC 7296 §2.23: only bare IKE on the IKE port. */
		k = u->bare ? classify_ike(p + skip, len - skip, &m) :
		    classify_msg(p, len, &m);
		if (u->bare && k == MSG_IKE)
			memset(p, 0, NON_ESP_MARKER_LEN);
		switch (k) {
		case MSG_KEEPALIVE:
			/* RFC 9329 §3: never send a keepalive on a stream. */
			r->stats.keepalives++;
			continue;
		case MSG_INVALID:
			r->stats.gw_bad++;
			continue;
		default:
			break;
		}
		if (u->p != NULL) {
			if (!session_is_proof(s, u->p, &m)) {
				r->stats.probe_drop++;
				continue;
			}
			session_prove(s, u->p, "an IKE answer to it on its "
			    "own port");
		}
		if (s->owner == NULL) {
			r->stats.gw_nostream++;
			continue;
		}
		session_note(s, &m, false);
		out[nout].iov_base = (void *)(uintptr_t)p;
		out[nout].iov_len = len;
		ike[nout++] = m.kind == MSG_IKE;
	}
	session_deliver(s, out, ike, nout);
}

const struct session_backend udp_backend = {
	.name = "relay",
	.open = be_open,
	.close = be_close,
	.input = be_input,
	.probe_open = be_probe_open,
	.probe_close = be_probe_close,
	.proven = be_proven,
};
