/*
 * Listening sockets, accept, and the connection limits: max-connections
 * per [relay] section and max-per-source per client address.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/log.h"
#include "relay/relay.h"
#include "relay/stream.h"

const char *
sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, cap, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, cap, "%s:%u", ip, ntohs(s4->sin_port));
	}
	return buf;
}

bool
sockaddr_same_ip(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)
		    ->sin6_addr, &((const struct sockaddr_in6 *)(const void *)b)
		    ->sin6_addr, sizeof(struct in6_addr)) == 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)
		    ->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)
		    ->sin_addr.s_addr;
	return true;	/* AF_UNSPEC: the section's total */
}

bool
sockaddr_equal(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (!sockaddr_same_ip(a, b))
		return false;
	if (a->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)(const void *)a)->sin6_port ==
		    ((const struct sockaddr_in6 *)(const void *)b)->sin6_port;
	return ((const struct sockaddr_in *)(const void *)a)->sin_port ==
	    ((const struct sockaddr_in *)(const void *)b)->sin_port;
}

/* Listening socket readable: accept what is queued.  Limits are counted
 * by the stream, once it knows its section and its real client. */
static void
listener_accept_cb(EV_P_ ev_io *w, int revents)
{
	struct listener *l = container_of(w, struct listener, io);
	struct relay *r = l->r;

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int one = 1;
		int fd;

		fd = accept4(l->fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED) {
				char text[64];

				log_warn("accept on %s", sockaddr_text(&l->addr,
				    text, sizeof(text)));
			}
			return;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		stream_accept(r, fd, &peer, &l->addr);
	}
}

static struct listener *
listener_find(struct relay *r, const struct sockaddr_storage *ss)
{
	for (struct listener *l = r->listeners; l != NULL; l = l->next)
		if (sockaddr_equal(&l->addr, ss))
			return l;
	return NULL;
}

static int
listener_open(struct relay *r, const struct conf_relay *cr,
    const struct conf_addr *a, bool tls)
{
	struct listener *l;
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("socket for %s", a->text);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
	    listen(fd, 4096) == -1) {
		log_warn("listen on %s", a->text);
		close(fd);
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		close(fd);
		return -1;
	}
	l->r = r;
	l->fd = fd;
	l->addr = a->ss;
	l->keep = true;
	ev_io_init(&l->io, listener_accept_cb, fd, EV_READ);
	ev_io_start(r->loop, &l->io);
	l->next = r->listeners;
	r->listeners = l;
	if (cr->integ != NULL)
		log_info("integrated %s: listening on %s%s", cr->name, a->text,
		    tls ? " (TLS too)" : "");
	else
		log_info("relay %s: listening on %s%s, gateway %s", cr->name,
		    a->text, tls ? " (TLS too)" : "", cr->gateway.text);
	return 0;
}

/* Opens what @c lists and closes what it no longer lists; a listener whose
 * address stays is kept (its queue is not lost on reload). */
int
listener_open_all(struct relay *r, struct conf *c)
{
	struct listener **pp;
	int rc = 0;

	for (struct listener *l = r->listeners; l != NULL; l = l->next)
		l->keep = false;
	for (size_t i = 0; i < c->nrelays; i++) {
		const struct conf_relay *cr = &c->relays[i];

		for (size_t j = 0; j < cr->nlisten + cr->ntls_listen; j++) {
			bool tls = j >= cr->nlisten;
			const struct conf_addr *a = tls ?
			    &cr->tls_listen[j - cr->nlisten] : &cr->listen[j];
			struct listener *l = listener_find(r, &a->ss);

			if (l != NULL)
				l->keep = true;
			else if (listener_open(r, cr, a, tls) == -1)
				rc = -1;
		}
	}
	for (pp = &r->listeners; *pp != NULL;) {
		struct listener *l = *pp;

		if (l->keep) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		ev_io_stop(r->loop, &l->io);
		close(l->fd);
		free(l);
	}
	return rc;
}

void
listener_close_all(struct relay *r)
{
	while (r->listeners != NULL) {
		struct listener *l = r->listeners;

		r->listeners = l->next;
		ev_io_stop(r->loop, &l->io);
		close(l->fd);
		free(l);
	}
}
