/*
 * relay/udpfront.c: the UDP front end (udpfront.h).  Datagrams from
 * udp-listen sockets are classified (framing/natt.c), keepalives and
 * invalid ones dropped and counted, the rest handed up in the port-4500
 * form with the path they came on; answers leave from the socket and the
 * local address the client sent to (IP_PKTINFO on a wildcard bind, as
 * the connector does).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "framing/natt.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/udpfront.h"

enum {
	IKE_PORT = 500,			/* bare IKE (RFC 7296 §2.23) */
	UDP_RCVBUF = 1 << 20,		/* socket receive buffer, octets */
};

/* Control space for one IP_PKTINFO or IPV6_PKTINFO message. */
union pktinfo_cmsg {
	char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr	align;
};

/* The local address of a datagram: the bound one, or on a wildcard
 * socket the one in its pktinfo (the bound port either way). */
static void
local_of(const struct udpfront_sock *us, struct msghdr *mh,
    struct sockaddr_storage *out)
{
	*out = us->addr;
	if (!us->wild)
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL;
	    cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO &&
		    out->ss_family == AF_INET) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			((struct sockaddr_in *)(void *)out)->sin_addr =
			    pi.ipi_addr;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO &&
		    out->ss_family == AF_INET6) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			((struct sockaddr_in6 *)(void *)out)->sin6_addr =
			    pi.ipi6_addr;
		}
	}
}

/* Datagrams from clients on one udp-listen socket -> r->udp_up. */
static void
udpfront_read_cb(EV_P_ ev_io *w, int revents)
{
	struct udpfront_sock *us = container_of(w, struct udpfront_sock, io);
	struct relay *r = us->r;
	struct mmsghdr mm[RELAY_UDP_BATCH];
	struct iovec iov[RELAY_UDP_BATCH];
	union pktinfo_cmsg ctl[RELAY_UDP_BATCH];
	struct sockaddr_storage from[RELAY_UDP_BATCH];
	struct udp_path path;
	int got;

	(void)revents;
	memset(mm, 0, sizeof(mm));
	memset(ctl, 0, sizeof(ctl));
	memset(&path, 0, sizeof(path));
	path.us = us;
	/* Each slot keeps room for a Non-ESP marker in front, so that bare
	 * IKE from port 500 takes the port-4500 form in place. */
	for (size_t i = 0; i < RELAY_UDP_BATCH; i++) {
		iov[i].iov_base = r->ubuf + i * RELAY_UDP_SLOT +
		    NON_ESP_MARKER_LEN;
		iov[i].iov_len = RELAY_UDP_SLOT - NON_ESP_MARKER_LEN;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &from[i];
		mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		if (us->wild) {
			mm[i].msg_hdr.msg_control = ctl[i].buf;
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
	}
	got = recvmmsg(us->fd, mm, RELAY_UDP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < got; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t n = mm[i].msg_len;
		struct msg_info m;
		struct iovec msg;

		r->stats.udp_in++;
		if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
			r->stats.udp_invalid++;
			continue;
		}
		switch (natt_classify(us->bare, p, n, &m)) {
		case NATT_IN_KEEPALIVE:
			/* RFC 3948 §2.3: the receiver ignores it. */
			r->stats.udp_keepalives++;
			continue;
		case NATT_IN_INVALID:
			r->stats.udp_invalid++;
			continue;
		default:
			break;
		}
		if (us->bare) {
			p -= NON_ESP_MARKER_LEN;
			memset(p, 0, NON_ESP_MARKER_LEN);
			n += NON_ESP_MARKER_LEN;
		}
		path.peer = from[i];
		local_of(us, &mm[i].msg_hdr, &path.local);
		msg.iov_base = p;
		msg.iov_len = n;
		r->udp_up->input(r, &path, &msg, &m);
	}
}

void
udpfront_send(const struct udp_path *path, const struct iovec *msgs,
    const bool *ike, size_t n)
{
	struct udpfront_sock *us = path->us;
	struct relay *r = us->r;
	union pktinfo_cmsg ctl;
	bool v6 = path->peer.ss_family == AF_INET6;

	for (size_t i = 0; i < n; i++) {
		struct iovec iov = msgs[i];
		struct msghdr mh;

		if (us->bare && !ike[i]) {
			/* Never ESP on port 500 (RFC 7296 §2.23): a client
			 * that did not float sends and takes it bare. */
			r->stats.udp_out_drop++;
			continue;
		}
		if (us->bare) {
			iov.iov_base = (uint8_t *)iov.iov_base +
			    NON_ESP_MARKER_LEN;
			iov.iov_len -= NON_ESP_MARKER_LEN;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = (void *)&path->peer;
		mh.msg_namelen = v6 ? sizeof(struct sockaddr_in6) :
		    sizeof(struct sockaddr_in);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (us->wild) {
			struct cmsghdr *cm;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = v6 ?
			    CMSG_SPACE(sizeof(struct in6_pktinfo)) :
			    CMSG_SPACE(sizeof(struct in_pktinfo));
			cm = CMSG_FIRSTHDR(&mh);
			if (v6) {
				struct in6_pktinfo pi = { 0 };

				pi.ipi6_addr = ((const struct sockaddr_in6 *)
				    (const void *)&path->local)->sin6_addr;
				cm->cmsg_level = IPPROTO_IPV6;
				cm->cmsg_type = IPV6_PKTINFO;
				cm->cmsg_len = CMSG_LEN(sizeof(pi));
				memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			} else {
				struct in_pktinfo pi = { 0 };

				pi.ipi_spec_dst = ((const struct sockaddr_in *)
				    (const void *)&path->local)->sin_addr;
				cm->cmsg_level = IPPROTO_IP;
				cm->cmsg_type = IP_PKTINFO;
				cm->cmsg_len = CMSG_LEN(sizeof(pi));
				memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			}
		}
		if (sendmsg(us->fd, &mh, MSG_DONTWAIT) == -1)
			r->stats.udp_out_errors++;
		else
			r->stats.udp_out++;
	}
}

bool
udp_path_same(const struct udp_path *a, const struct udp_path *b)
{
	return a->us == b->us && sockaddr_equal(&a->peer, &b->peer) &&
	    sockaddr_same_ip(&a->local, &b->local);
}

const char *
udp_path_text(const struct udp_path *p, char *buf, size_t cap)
{
	char a[64], b[64];

	snprintf(buf, cap, "udp %s -> %s", sockaddr_text(&p->peer, a,
	    sizeof(a)), sockaddr_text(&p->local, b, sizeof(b)));
	return buf;
}

static int
sock_open(struct relay *r, const struct conf_relay *cr,
    const struct conf_addr *a)
{
	struct udpfront_sock *us;
	int fd = -1, on = 1, bufsz = UDP_RCVBUF;
	bool v6 = a->ss.ss_family == AF_INET6;

	if ((us = calloc(1, sizeof(*us))) == NULL) {
		log_warn("integrated %s: udp-listen %s", cr->name, a->text);
		return -1;
	}
	fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		log_warn("integrated %s: udp-listen %s", cr->name, a->text);
		goto fail;
	}
	if (v6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	/* On a wildcard socket, learn which address each datagram was sent
	 * to, so the answer comes from it (the client checks). */
	us->wild = sockaddr_is_any(&a->ss);
	if (us->wild && setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
	    v6 ? IPV6_RECVPKTINFO : IP_PKTINFO, &on, sizeof(on)) == -1) {
		log_warn("integrated %s: pktinfo on %s", cr->name, a->text);
		goto fail;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		log_warn("integrated %s: bind udp-listen %s", cr->name,
		    a->text);
		goto fail;
	}
	us->r = r;
	us->fd = fd;
	us->addr = a->ss;
	us->bare = sockaddr_port(&a->ss) == IKE_PORT;
	snprintf(us->section, sizeof(us->section), "%s", cr->name);
	snprintf(us->text, sizeof(us->text), "%s", a->text);
	ev_io_init(&us->io, udpfront_read_cb, fd, EV_READ);
	ev_io_start(r->loop, &us->io);
	us->next = r->udp_socks;
	r->udp_socks = us;
	log_info("integrated %s: udp-listen %s (%s)", cr->name, a->text,
	    us->bare ? "IKE" : "IKE with the Non-ESP marker, ESP in UDP");
	return 0;
fail:
	if (fd != -1)
		close(fd);
	free(us);
	return -1;
}

int
udpfront_open_all(struct relay *r, const struct conf *c)
{
	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *cr = &c->relays[i];

		if (cr->backend != CONF_BACKEND_INTEGRATED || cr->integ == NULL)
			continue;
		for (size_t j = 0; j < cr->integ->nudp_listen; j++)
			if (sock_open(r, cr, &cr->integ->udp_listen[j]) == -1)
				return -1;
	}
	return 0;
}

void
udpfront_close_all(struct relay *r)
{
	while (r->udp_socks != NULL) {
		struct udpfront_sock *us = r->udp_socks;

		r->udp_socks = us->next;
		ev_io_stop(r->loop, &us->io);
		close(us->fd);
		free(us);
	}
}
