/*
 * Listening sockets, accept, and the connection limits: max-connections
 * per [relay] section and max-per-source per client address.
 *
 * An accept error that is not about one lost connection (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM, anything unexpected) leaves the connection queued and
 * the socket readable, so retrying at once spins.  Instead every listener
 * pauses: one timer, 100 ms doubling to 1 s while the errors go on, back
 * to 100 ms after an accept succeeds.  One warning opens such an episode
 * and one line closes it with the count of errors.
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

#include <ev.h>

#include "relay/log.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/stream.h"
#include "relay/worker.h"

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

uint16_t
sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)
		    ->sin6_port);
	return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
}

bool
sockaddr_is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)
		    (const void *)ss)->sin6_addr);
	return ((const struct sockaddr_in *)(const void *)ss)->sin_addr.s_addr
	    == htonl(INADDR_ANY);
}

enum {
	ACCEPT_BATCH = 64,		/* accepts per readable event */
	ACCEPT_PAUSE_MIN_MS = 100,	/* first pause after an error */
	ACCEPT_PAUSE_MAX_MS = 1000,	/* longest pause */
	ACCEPT_DEFER_MS = 10,		/* a busier worker's step back */
};

/*
 * accept(2), Linux: errors of the connection being accepted (and
 * ECONNABORTED, EINTR) are about that one connection; accept the next.
 */
static bool
is_conn_error(int e)
{
	switch (e) {
	case ECONNABORTED:
	case EINTR:
	case EPROTO:
	case EPERM:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return true;
	default:
		return false;
	}
}

/* The watchers of the listeners this process accepts on. */
static void
listeners_run(struct relay *r, bool on)
{
	for (struct listener *l = r->listeners; l != NULL; l = l->next)
		if (on && l->on)
			ev_io_start(r->loop, &l->io);
		else
			ev_io_stop(r->loop, &l->io);
}

/* A busier worker's step back: the listeners every worker shares. */
static void
listeners_defer(struct relay *r)
{
	for (struct listener *l = r->listeners; l != NULL; l = l->next)
		if (l->shared)
			ev_io_stop(r->loop, &l->io);
	ev_timer_set(&r->accept_defer, ACCEPT_DEFER_MS / 1000., 0.);
	ev_timer_start(r->loop, &r->accept_defer);
}

static void
listeners_set(struct relay *r, bool on)
{
	listeners_run(r, on);
	if (on && ev_is_active(&r->accept_defer))
		for (struct listener *l = r->listeners; l != NULL; l = l->next)
			if (l->shared)
				ev_io_stop(r->loop, &l->io);
	r->accept_paused = !on;
}

/* The other workers had their moment: accept whatever the loads. */
static void
listener_defer_cb(EV_P_ ev_timer *w, int revents)
{
	struct relay *r = container_of(w, struct relay, accept_defer);

	r->accept_force = true;
	if (!r->accept_paused)
		listeners_run(r, true);
}

/* Pause over: listen again; an error on the next accept pauses longer. */
static void
listener_pause_cb(EV_P_ ev_timer *w, int revents)
{
	struct relay *r = container_of(w, struct relay, accept_pause);

	listeners_set(r, true);
	log_peer_flush();
}

static void
accept_pause(struct listener *l, int e)
{
	struct relay *r = l->r;
	char text[64];

	if (r->accept_errors++ == 0) {
		r->accept_since = ev_now(r->loop);
		log_peer(LOG_LEVEL_WARN, "accept on %s: %s; pausing accepts "
		    "on every listener", sockaddr_text(&l->addr, text,
		    sizeof(text)), strerror(e));
	}
	if (r->accept_pause_ms == 0)
		r->accept_pause_ms = ACCEPT_PAUSE_MIN_MS;
	else if (r->accept_pause_ms < ACCEPT_PAUSE_MAX_MS / 2)
		r->accept_pause_ms *= 2;
	else
		r->accept_pause_ms = ACCEPT_PAUSE_MAX_MS;
	listeners_set(r, false);
	ev_timer_set(&r->accept_pause, r->accept_pause_ms / 1000., 0.);
	ev_timer_start(r->loop, &r->accept_pause);
}

/* An accept succeeded: the episode, if any, is over. */
static void
accept_resumed(struct relay *r)
{
	if (r->accept_errors > 0)
		log_peer(LOG_LEVEL_INFO, "accepting again after %llu accept "
		    "error%s in %.1f s", r->accept_errors,
		    r->accept_errors == 1 ? "" : "s",
		    ev_now(r->loop) - r->accept_since);
	r->accept_errors = 0;
	r->accept_pause_ms = 0;
}

/* Listening socket readable: accept what is queued.  Limits are counted
 * by the stream, once it knows its section and its real client. */
static void
listener_accept_cb(EV_P_ ev_io *w, int revents)
{
	struct listener *l = container_of(w, struct listener, io);
	struct relay *r = l->r;

	/* Workers share the listening sockets; all are woken, the first to
	 * call accept() wins.  One that holds clearly more than the least
	 * loaded worker steps back for ACCEPT_DEFER_MS (worker.h). */
	if (l->shared && !r->accept_force && worker_accept_defer(r)) {
		listeners_defer(r);
		return;
	}
	r->accept_force = false;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int one = 1;
		int fd;

		memset(&peer, 0, sizeof(peer));
		fd = accept4(l->fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (is_conn_error(errno))
				continue;
			accept_pause(l, errno);
			return;
		}
		if (r->accept_pause_ms != 0)
			accept_resumed(r);
		/* The descriptor budget keeps fd-reserve free: past it, a
		 * lingering session goes, or this connection does. */
		if (!session_fd_room(r)) {
			char text[64];

			close(fd);
			r->stats.refused++;
			log_peer(LOG_LEVEL_INFO, "refused %s: descriptor budget "
			    "reached", sockaddr_text(&peer, text,
			    sizeof(text)));
			continue;
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

/*
 * A worker's reload: the listening socket for @a is one the master bound
 * and sent (r->adopt_fds); it is taken from there, matched by the address
 * it is bound to.  -1 (logged) when none is.
 */
static int
adopt(struct relay *r, const struct conf_addr *a)
{
	for (size_t i = 0; i < r->nadopt; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = r->adopt_fds[i];

		memset(&ss, 0, sizeof(ss));
		if (fd == -1 || getsockname(fd, (struct sockaddr *)&ss,
		    &len) == -1 || !sockaddr_equal(&ss, &a->ss))
			continue;
		r->adopt_fds[i] = -1;
		return fd;
	}
	log_warnx("listen on %s: the master sent no socket for it", a->text);
	return -1;
}

static int
listener_open(struct relay *r, const struct conf_relay *cr,
    const struct conf_addr *a, bool tls)
{
	struct listener *l;
	int fd, one = 1;

	if (r->adopt_fds != NULL) {
		if ((fd = adopt(r, a)) == -1)
			return -1;
	} else if ((fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket for %s", a->text);
		return -1;
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (a->ss.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
		    listen(fd, 4096) == -1) {
			log_warn("listen on %s", a->text);
			close(fd);
			return -1;
		}
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		close(fd);
		return -1;
	}
	l->r = r;
	l->fd = fd;
	l->addr = a->ss;
	l->keep = true;
	l->fresh = true;
	ev_io_init(&l->io, listener_accept_cb, fd, EV_READ);
	l->next = r->listeners;
	r->listeners = l;
	if (r->nworkers > 1 && !r->master)
		return 0;	/* the master said so */
	if (cr->integ != NULL)
		log_info("integrated %s: listening on %s%s", cr->name, a->text,
		    tls ? " (TLS too)" : "");
	else
		log_info("relay %s: listening on %s%s, gateway %s", cr->name,
		    a->text, tls ? " (TLS too)" : "", cr->gateway.text);
	return 0;
}

static void
listener_free(struct relay *r, struct listener *l)
{
	ev_io_stop(r->loop, &l->io);
	close(l->fd);
	free(l);
}

/*
 * Binds every address @c lists that is not bound yet, without accepting
 * on them, and marks which running listeners @c keeps.  Any address that
 * cannot be bound (in use, a port below 1024 after the privilege drop)
 * undoes what this call opened and returns -1: a reload takes its new
 * ports all or none.
 */
int
listener_prepare(struct relay *r, struct conf *c)
{
	int rc = 0;

	if (!ev_is_active(&r->accept_pause))
		ev_init(&r->accept_pause, listener_pause_cb);
	if (!ev_is_active(&r->accept_defer))
		ev_init(&r->accept_defer, listener_defer_cb);
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
	if (rc == -1)
		listener_abort(r);
	return rc;
}

/*
 * After listener_prepare(): the new listeners accept, the ones the new
 * configuration no longer lists close (a kept one keeps its queue).  A
 * process accepts only where a section it serves listens (worker.h); it
 * keeps the others open, so that its list matches the master's in the
 * next reload.
 */
void
listener_commit(struct relay *r)
{
	struct listener **pp;

	for (pp = &r->listeners; *pp != NULL;) {
		struct listener *l = *pp;

		if (!l->keep) {
			*pp = l->next;
			listener_free(r, l);
			continue;
		}
		l->on = worker_accepts(r, &l->addr);
		l->shared = l->on && worker_shares(r, &l->addr);
		if (!l->on)
			ev_io_stop(r->loop, &l->io);
		else if (!r->accept_paused && !(l->shared &&
		    ev_is_active(&r->accept_defer)))
			ev_io_start(r->loop, &l->io);
		l->fresh = false;
		pp = &l->next;
	}
}

/* After listener_prepare(): closes what it opened; the running listeners
 * stay as they were. */
void
listener_abort(struct relay *r)
{
	struct listener **pp;

	for (pp = &r->listeners; *pp != NULL;) {
		struct listener *l = *pp;

		l->keep = true;
		if (l->fresh) {
			*pp = l->next;
			listener_free(r, l);
			continue;
		}
		pp = &l->next;
	}
}

/* At start: opens what @c lists; -1 when any address cannot be bound. */
int
listener_open_all(struct relay *r, struct conf *c)
{
	if (listener_prepare(r, c) == -1)
		return -1;
	listener_commit(r);
	return 0;
}

void
listener_close_all(struct relay *r)
{
	ev_timer_stop(r->loop, &r->accept_pause);
	ev_timer_stop(r->loop, &r->accept_defer);
	r->accept_paused = false;
	while (r->listeners != NULL) {
		struct listener *l = r->listeners;

		r->listeners = l->next;
		listener_free(r, l);
	}
}
