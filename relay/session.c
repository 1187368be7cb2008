/*
 * Sessions and the SPI table.  A session owns one connected UDP socket
 * toward the gateway, so the gateway sees one stable source port per client
 * however often the client's stream breaks and comes back (RFC 9329 §6).
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

#include "framing/encoder.h"
#include "relay/integrated.h"
#include "relay/log.h"
#include "relay/session.h"
#include "relay/stream.h"

static size_t
spi_bucket(uint64_t spi, bool esp)
{
	uint64_t h = (spi ^ (esp ? 0x9e3779b97f4a7c15ULL : 0)) *
	    0xff51afd7ed558ccdULL;

	return (size_t)(h >> 52) & (SPI_BUCKETS - 1);
}

struct spi_entry *
session_lookup(struct relay *r, uint64_t spi, bool esp)
{
	struct spi_entry *e;

	for (e = r->spis[spi_bucket(spi, esp)]; e != NULL; e = e->next)
		if (e->spi == spi && e->esp == esp)
			return e;
	return NULL;
}

static void
spi_unlink(struct relay *r, struct spi_entry *e)
{
	struct spi_entry **pp;

	if (e->s == NULL)
		return;
	for (pp = &r->spis[spi_bucket(e->spi, e->esp)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	e->s = NULL;
	e->next = NULL;
}

/* Remember @spi for @s; a SPI owned by another session stays with it. */
static struct spi_entry *
spi_add(struct session *s, uint64_t spi, bool esp)
{
	struct relay *r = s->r;
	struct spi_entry *e = session_lookup(r, spi, esp);
	size_t b;

	if (e != NULL)
		return e->s == s ? e : NULL;
	if (esp) {
		e = &s->esp[s->esp_next++ % SESSION_ESP_SPIS];
	} else
		e = &s->ike[s->ike_next++ % SESSION_IKE_SPIS];
	spi_unlink(r, e);
	memset(e, 0, sizeof(*e));
	e->s = s;
	e->spi = spi;
	e->esp = esp;
	b = spi_bucket(spi, esp);
	e->next = r->spis[b];
	r->spis[b] = e;
	return e;
}

void
session_note(struct session *s, const struct msg_info *m, bool from_client)
{
	struct spi_entry *e;

	if (m->kind == MSG_ESP && from_client) {
		spi_add(s, m->esp_spi, true);
		return;
	}
	if (m->kind != MSG_IKE)
		return;
	e = spi_add(s, m->spi_i, false);
	if (e != NULL && from_client && msg_is_request(m) &&
	    (!e->have_req || m->msgid > e->max_req)) {
		e->have_req = true;
		e->max_req = m->msgid;
	}
}

static void
deliver(struct session *s, struct iovec *iov, bool *ike, size_t n)
{
	if (s->owner != NULL)
		stream_send(s->owner, iov, ike, n);
}

/* Gateway -> session: a tentative stream gets only the IKE responses to its
 * own requests; one that answers a request newer than any seen proves the
 * peer holds the IKE keys (DESIGN.md, security model). */
static bool
deliver_tentative(struct session *s, const struct msg_info *m,
    struct iovec *iov)
{
	struct spi_entry *e;
	bool ike = true;

	if (m->kind != MSG_IKE || msg_is_request(m))
		return false;
	for (size_t i = 0; i < SESSION_TENTATIVE; i++) {
		struct stream *st = s->tent[i];

		if (st == NULL || !st->tent_req || st->tent_spi != m->spi_i ||
		    st->tent_msgid != m->msgid)
			continue;
		e = session_lookup(s->r, m->spi_i, false);
		if (stream_send(st, iov, &ike, 1) == -1)
			return true;
		if (e != NULL && e->s == s && e->have_req &&
		    m->msgid > e->max_req) {
			e->max_req = m->msgid;
			stream_promote(st);
		}
		return true;
	}
	return false;
}

/* Gateway datagrams, framed back onto the session's stream. */
static void
session_udp_cb(EV_P_ ev_io *w, int revents)
{
	struct session *s = container_of(w, struct session, uio);
	struct relay *r = s->r;
	struct mmsghdr mm[RELAY_UDP_BATCH];
	struct iovec rv[RELAY_UDP_BATCH], out[RELAY_UDP_BATCH];
	bool ike[RELAY_UDP_BATCH];
	size_t nout = 0;
	int n;

	memset(mm, 0, sizeof(mm));
	for (size_t i = 0; i < RELAY_UDP_BATCH; i++) {
		rv[i].iov_base = r->ubuf + i * RELAY_UDP_SLOT;
		rv[i].iov_len = RELAY_UDP_SLOT;
		mm[i].msg_hdr.msg_iov = &rv[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(s->fd, mm, RELAY_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			log_debug("%s: session %llu: recvmmsg: %s", __func__,
			    s->id, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		const uint8_t *p = rv[i].iov_base;
		size_t len = mm[i].msg_len;
		struct msg_info m;

		if ((mm[i].msg_hdr.msg_flags & MSG_TRUNC) ||
		    len > s->max_message) {
			r->stats.gw_bad++;
			continue;
		}
		switch (classify_msg(p, len, &m)) {
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
		if (s->owner == NULL) {
			struct iovec one = { (void *)p, len };

			if (!deliver_tentative(s, &m, &one))
				r->stats.gw_nostream++;
			continue;
		}
		session_note(s, &m, false);
		out[nout].iov_base = (void *)p;
		out[nout].iov_len = len;
		ike[nout++] = m.kind == MSG_IKE;
	}
	if (nout > 0)
		deliver(s, out, ike, nout);
}

static void
session_linger_cb(EV_P_ ev_timer *w, int revents)
{
	struct session *s = container_of(w, struct session, linger);

	log_debug("%s: session %llu lport %u expired", __func__, s->id,
	    s->lport);
	session_free(s);
}

struct session *
session_alloc(struct relay *r, const struct conf_relay *cr)
{
	struct session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("session");
		return NULL;
	}
	s->id = ++r->next_session_id;
	s->r = r;
	s->fd = -1;
	s->linger_ms = cr->linger_ms;
	s->max_message = cr->max_message;
	snprintf(s->section, sizeof(s->section), "%s", cr->name);
	ev_timer_init(&s->linger, session_linger_cb, 0., 0.);
	return s;
}

struct session *
session_new(struct relay *r, const struct conf_relay *cr)
{
	struct session *s;
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int fd, bufsz = 1 << 20;

	fd = socket(cr->gateway.ss.ss_family,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("gateway socket");
		return NULL;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (connect(fd, (const struct sockaddr *)&cr->gateway.ss,
	    cr->gateway.len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&local, &len) == -1) {
		log_warn("connect to gateway %s", cr->gateway.text);
		close(fd);
		return NULL;
	}
	if ((s = session_alloc(r, cr)) == NULL) {
		close(fd);
		return NULL;
	}
	s->fd = fd;
	s->lport = ntohs(local.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&local)->sin6_port :
	    ((struct sockaddr_in *)&local)->sin_port);
	ev_io_init(&s->uio, session_udp_cb, fd, EV_READ);
	ev_io_start(r->loop, &s->uio);
	return s;
}

static void
drop_tentatives(struct session *s, const char *reason)
{
	for (size_t i = 0; i < SESSION_TENTATIVE; i++) {
		struct stream *st = s->tent[i];

		if (st != NULL) {
			s->tent[i] = NULL;
			st->sess = NULL;
			stream_close(st, reason);
		}
	}
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	if (s->owner != NULL) {
		struct stream *st = s->owner;

		s->owner = NULL;
		st->sess = NULL;
		stream_close(st, "session closed");
	}
	drop_tentatives(s, "session closed");
	for (size_t i = 0; i < SESSION_IKE_SPIS; i++)
		spi_unlink(s->r, &s->ike[i]);
	for (size_t i = 0; i < SESSION_ESP_SPIS; i++)
		spi_unlink(s->r, &s->esp[i]);
	ev_timer_stop(s->r->loop, &s->linger);
	if (s->integ != NULL)
		integ_session_free(s);
	else {
		ev_io_stop(s->r->loop, &s->uio);
		close(s->fd);
	}
	free(s);
}

/* One sendmsg of @n datagrams of equal size (but the last, which may be
 * shorter) as UDP GSO segments, or of one datagram. */
static ssize_t
send_run(struct session *s, struct iovec *iov, size_t n)
{
	union {
		char		buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr	align;
	} ctl;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };

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
	return sendmsg(s->fd, &mh, MSG_DONTWAIT);
}

/* Client messages -> gateway, each one datagram.  Runs of equal-sized
 * messages go out as one GSO send (PERF.md: the kernel's per-datagram path
 * is the bottleneck, GSO carries ~4x as many). */
void
session_send_batch(struct session *s, struct iovec *iov, size_t n)
{
	struct relay *r = s->r;
	size_t i = 0;

	while (i < n) {
		size_t j = i + 1, total = iov[i].iov_len;

		if (!r->no_gso)
			while (j < n && j - i < UDP_GSO_SEGMENTS &&
			    iov[j].iov_len == iov[i].iov_len &&
			    total + iov[j].iov_len <= UDP_GSO_BYTES)
				total += iov[j++].iov_len;
		if (send_run(s, &iov[i], j - i) == -1) {
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

void
session_attach(struct session *s, struct stream *st)
{
	for (size_t i = 0; i < SESSION_TENTATIVE; i++)
		if (s->tent[i] == st)
			s->tent[i] = NULL;
	drop_tentatives(s, "session taken by another stream");
	ev_timer_stop(s->r->loop, &s->linger);
	s->owner = st;
	st->sess = s;
}

void
session_attach_tentative(struct session *s, struct stream *st)
{
	size_t slot = 0;

	for (size_t i = 0; i < SESSION_TENTATIVE; i++)
		if (s->tent[i] == NULL) {
			slot = i;
			goto found;
		}
	/* Full: the oldest probation ends. */
	s->tent[0]->sess = NULL;
	stream_close(s->tent[0], "replaced by a newer re-attaching stream");
	memmove(&s->tent[0], &s->tent[1],
	    (SESSION_TENTATIVE - 1) * sizeof(s->tent[0]));
	slot = SESSION_TENTATIVE - 1;
found:
	s->tent[slot] = st;
	st->sess = s;
}

void
session_detach(struct session *s, struct stream *st)
{
	if (s->owner == st) {
		s->owner = NULL;
		s->last_client = st->peer;
		if (s->linger_ms == 0) {
			session_free(s);
			return;
		}
		ev_timer_set(&s->linger, s->linger_ms / 1000., 0.);
		ev_timer_start(s->r->loop, &s->linger);
		return;
	}
	for (size_t i = 0; i < SESSION_TENTATIVE; i++)
		if (s->tent[i] == st)
			s->tent[i] = NULL;
}
