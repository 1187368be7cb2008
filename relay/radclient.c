/*
 * RADIUS client for EAP pass-through (RFC 2865, RFC 3579, RFC 5080):
 * one unconnected UDP socket per radius-server on the daemon's loop, the
 * requests in flight by identifier, a retransmission timer per request,
 * failover to the next server.  See radclient.h.
 *
 * Not libradcli: its calls send and wait for the answer in the caller,
 * which would stop the one event loop (STYLE.md §5.8) for up to
 * timeout x retries x servers.
 *
 * What an on-path attacker can do, and the bounds:
 *  - spoof answers: without the secret it cannot make a Response
 *    Authenticator and Message-Authenticator verify (ike/radius.c); a
 *    datagram from another address or port than the server's, for an
 *    identifier not in flight, or that does not verify is dropped and
 *    counted, and the request keeps waiting for the real one;
 *  - flood the sockets: each read callback takes at most READ_BATCH
 *    datagrams into one buffer of RADIUS_PKT_MAX + 1 octets; nothing is
 *    allocated or logged per datagram;
 *  - make requests (through IKE_AUTH): at most RADCLIENT_INFLIGHT_MAX in
 *    flight per server, each holding one packet of at most
 *    RADIUS_PKT_MAX octets; past it radclient_send() refuses (busy).
 *    A request lives at most (retries + 1) x timeout per server.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "conf/conf.h"
#include "conf/fileset.h"
#include "ike/radius.h"
#include "relay/log.h"
#include "relay/radclient.h"
#include "relay/relay.h"

enum {
	READ_BATCH = 32		/* datagrams per read callback */
};

struct server {
	struct radclient	*c;
	const struct conf_addr	*addr;		/* in c->ci */
	int			 fd;
	ev_io			 io;		/* answers */
	struct radclient_req	*inflight[RADCLIENT_INFLIGHT_MAX]; /* by id */
	size_t			 ninflight;
	uint8_t			 next_id;	/* where the search starts */
};

struct radclient {
	struct ev_loop		*loop;
	const struct conf_integrated *ci;
	char			 name[CONF_NAME_MAX];
	uint8_t			 secret[RADIUS_SECRET_MAX];
	size_t			 secret_len;
	struct server		 srv[CONF_RADIUS_SERVERS_MAX];
	size_t			 nsrv;
	size_t			 active;	/* new requests go here */
	size_t			 pending;	/* requests in flight */
	struct radclient_stats	 st;
	uint8_t			 rbuf[RADIUS_PKT_MAX + 1]; /* one datagram */
	struct radius_reply	 reply;		/* decoded, then wiped */
};

struct radclient_req {
	struct radclient	*c;
	ev_timer		 timer;		/* retransmit / fail over */
	size_t			 srv;		/* index into c->srv */
	size_t			 tried;		/* servers given up on */
	unsigned		 tries;		/* sends to this server */
	uint8_t			 id;
	uint8_t			 auth[RADIUS_AUTH_LEN];
	radclient_done_fn	*done;
	void			*arg;
	size_t			 len;
	uint8_t			 pkt[];		/* the request, len octets */
};

static void server_read_cb(EV_P_ ev_io *w, int revents);
static void req_timer_cb(EV_P_ ev_timer *w, int revents);

/* The first line of the 0600 file @path, 1 to RADIUS_SECRET_MAX octets. */
static int
read_secret(struct radclient *c, const char *path)
{
	unsigned char *buf;
	size_t n, len = 0;
	int rc = -1;

	if (conf_read_private(path, FS_FILE_MAX, &buf, &n) == -1)
		return -1;
	while (len < n && buf[len] != '\n')
		len++;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0 || len > RADIUS_SECRET_MAX) {
		log_warnx("%s: want the RADIUS secret, 1 to %d octets, on the "
		    "first line", path, RADIUS_SECRET_MAX);
		goto out;
	}
	memcpy(c->secret, buf, len);
	c->secret_len = len;
	rc = 0;
out:
	OPENSSL_clear_free(buf, n + 1);
	return rc;
}

struct radclient *
radclient_new(struct ev_loop *loop, const struct conf_integrated *ci,
    const char *name)
{
	struct radclient *c;

	if (ci->nradius_server == 0) {
		log_warnx("[integrated %s]: no radius-server", name);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("radius [%s]", name);
		return NULL;
	}
	c->loop = loop;
	c->ci = ci;
	snprintf(c->name, sizeof(c->name), "%s", name);
	for (size_t i = 0; i < CONF_RADIUS_SERVERS_MAX; i++)
		c->srv[i].fd = -1;
	if (read_secret(c, ci->radius_secret_file) == -1)
		goto fail;
	for (size_t i = 0; i < ci->nradius_server; i++) {
		struct server *s = &c->srv[i];

		s->c = c;
		s->addr = &ci->radius_server[i];
		s->fd = socket(s->addr->ss.ss_family,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd == -1) {
			log_warn("radius [%s]: socket for %s", name,
			    s->addr->text);
			goto fail;
		}
		ev_io_init(&s->io, server_read_cb, s->fd, EV_READ);
		ev_io_start(loop, &s->io);
		c->nsrv++;
	}
	return c;
fail:
	radclient_free(c);
	return NULL;
}

static void
req_free(struct radclient_req *rq)
{
	OPENSSL_cleanse(rq->pkt, rq->len);
	free(rq);
}

/* Takes @rq off its server's table and stops its timer. */
static void
req_detach(struct radclient_req *rq)
{
	struct server *s = &rq->c->srv[rq->srv];

	ev_timer_stop(rq->c->loop, &rq->timer);
	if (s->inflight[rq->id] == rq) {
		s->inflight[rq->id] = NULL;
		s->ninflight--;
	}
}

void
radclient_free(struct radclient *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsrv; i++) {
		struct server *s = &c->srv[i];

		for (size_t k = 0; k < RADCLIENT_INFLIGHT_MAX; k++)
			if (s->inflight[k] != NULL) {
				struct radclient_req *rq = s->inflight[k];

				req_detach(rq);
				req_free(rq);
			}
		ev_io_stop(c->loop, &s->io);
	}
	for (size_t i = 0; i < CONF_RADIUS_SERVERS_MAX; i++)
		if (c->srv[i].fd != -1)
			close(c->srv[i].fd);
	OPENSSL_cleanse(c->secret, sizeof(c->secret));
	free(c);
}

/* A free identifier of @s for @rq, rotating so that one is not reused at
 * once (a late answer to the old request then fails to verify). */
static bool
take_id(struct server *s, struct radclient_req *rq)
{
	if (s->ninflight == RADCLIENT_INFLIGHT_MAX)
		return false;
	for (unsigned i = 0; i < RADCLIENT_INFLIGHT_MAX; i++) {
		uint8_t id = (uint8_t)(s->next_id + i);

		if (s->inflight[id] == NULL) {
			s->inflight[id] = rq;
			s->ninflight++;
			rq->id = id;
			s->next_id = (uint8_t)(id + 1);
			return true;
		}
	}
	return false;
}

/* Errors are left to the timer: a retransmission or the next server. */
static void
req_send(struct radclient_req *rq)
{
	struct radclient *c = rq->c;
	const struct conf_addr *a = c->srv[rq->srv].addr;

	rq->tries++;
	if (sendto(c->srv[rq->srv].fd, rq->pkt, rq->len, 0,
	    (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    log_peer_allow(LOG_LEVEL_DEBUG))
		log_debug("%s: radius [%s]: %s: %s", __func__, c->name,
		    a->text, strerror(errno));
	ev_timer_set(&rq->timer, c->ci->radius_timeout_ms / 1000.0, 0.);
	ev_timer_start(c->loop, &rq->timer);
}

struct radclient_req *
radclient_send(struct radclient *c, const struct radclient_args *a,
    radclient_done_fn *done, void *arg)
{
	struct radius_request r = {
		.eap = a->eap, .eap_len = a->eap_len, .user = a->user,
		.state = a->state, .state_len = a->state_len,
		.nas_id = c->ci->radius_nas_id, .called = a->called,
		.calling = a->calling,
	};
	uint8_t buf[RADIUS_PKT_MAX], auth[RADIUS_AUTH_LEN];
	struct radclient_req *rq = NULL;
	struct server *s = &c->srv[c->active];
	size_t len;

	if (s->ninflight == RADCLIENT_INFLIGHT_MAX) {
		c->st.busy++;
		return NULL;
	}
	if (RAND_bytes(auth, sizeof(auth)) != 1 ||
	    (len = radius_encode_request(buf, sizeof(buf), 0, auth, &r,
	    c->secret, c->secret_len)) == 0 ||
	    (rq = calloc(1, sizeof(*rq) + len)) == NULL) {
		log_warnx("radius [%s]: cannot build a request for \"%s\" "
		    "(%zu octets of EAP)", c->name, a->user ? a->user : "",
		    a->eap_len);
		goto out;
	}
	rq->c = c;
	rq->srv = c->active;
	rq->done = done;
	rq->arg = arg;
	rq->len = len;
	memcpy(rq->auth, auth, sizeof(auth));
	ev_timer_init(&rq->timer, req_timer_cb, 0., 0.);
	take_id(s, rq);
	memcpy(rq->pkt, buf, len);
	rq->pkt[1] = rq->id;
	/* The identifier is under the Message-Authenticator: sign again. */
	if (!radius_rekey_request(rq->pkt, len, rq->id, auth, c->secret,
	    c->secret_len)) {
		req_detach(rq);
		req_free(rq);
		rq = NULL;
		goto out;
	}
	c->st.requests++;
	c->pending++;
	req_send(rq);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return rq;
}

void
radclient_cancel(struct radclient_req *rq)
{
	if (rq == NULL)
		return;
	req_detach(rq);
	rq->c->pending--;
	req_free(rq);
}

/* Ends @rq with @result (the reply in c->reply unless TIMEOUT). */
static void
req_finish(struct radclient_req *rq, enum radclient_result result)
{
	struct radclient *c = rq->c;
	struct radclient_answer ans = {
		.result = result,
		.reply = result == RADCLIENT_TIMEOUT ? NULL : &c->reply,
		.server = c->srv[rq->srv].addr->text,
	};

	req_detach(rq);
	c->pending--;
	rq->done(rq->arg, &ans);
	req_free(rq);
	OPENSSL_cleanse(&c->reply, sizeof(c->reply));
}

/* No answer within radius-timeout: again, or the next server. */
static void
req_timer_cb(EV_P_ ev_timer *w, int revents)
{
	struct radclient_req *rq = container_of(w, struct radclient_req,
	    timer);
	struct radclient *c = rq->c;
	struct server *s;
	uint8_t auth[RADIUS_AUTH_LEN];
	size_t from = rq->srv;

	/* RFC 5080 §2.2.1: the same ID and authenticator. */
	if (rq->tries <= c->ci->radius_retries) {
		c->st.retransmits++;
		req_send(rq);
		return;
	}
	req_detach(rq);
	if (++rq->tried == c->nsrv) {
		log_warnx("radius [%s]: no answer from any of %zu server(s) "
		    "after %u tries each", c->name, c->nsrv,
		    c->ci->radius_retries + 1);
		c->st.timeouts++;
		req_finish(rq, RADCLIENT_TIMEOUT);
		return;
	}
	/* A new ID and authenticator for the next server. */
	rq->srv = (rq->srv + 1) % c->nsrv;
	rq->tries = 0;
	s = &c->srv[rq->srv];
	if (RAND_bytes(auth, sizeof(auth)) != 1 || !take_id(s, rq) ||
	    !radius_rekey_request(rq->pkt, rq->len, rq->id, auth, c->secret,
	    c->secret_len)) {
		c->st.timeouts++;
		req_finish(rq, RADCLIENT_TIMEOUT);
		return;
	}
	memcpy(rq->auth, auth, sizeof(auth));
	c->st.failovers++;
	if (c->active == from) {
		c->active = rq->srv;
		log_warnx("radius [%s]: %s did not answer %u tries; using %s",
		    c->name, c->srv[from].addr->text,
		    c->ci->radius_retries + 1, s->addr->text);
	}
	req_send(rq);
}

static bool
is_from(const struct sockaddr_storage *ss, socklen_t len,
    const struct conf_addr *a)
{
	if (ss->ss_family != a->ss.ss_family)
		return false;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)ss;
		const struct sockaddr_in *y = (const void *)&a->ss;

		return len >= sizeof(*x) && x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)ss;
		const struct sockaddr_in6 *y = (const void *)&a->ss;

		return len >= sizeof(*x) && x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

/* One datagram @n octets in c->rbuf on server @s. */
static void
server_input(struct server *s, size_t n)
{
	struct radclient *c = s->c;
	struct radclient_req *rq;
	enum radclient_result result;

	if (n < RADIUS_HDR_LEN || n > RADIUS_PKT_MAX) {
		c->st.drop_form++;
		return;
	}
	if ((rq = s->inflight[c->rbuf[1]]) == NULL) {
		c->st.drop_id++;
		return;
	}
	switch (radius_decode_response(c->rbuf, n, rq->id, rq->auth,
	    c->secret, c->secret_len, &c->reply)) {
	case RADIUS_OK:
		break;
	case RADIUS_BAD_ID:
		c->st.drop_id++;
		return;
	case RADIUS_BAD_AUTH:
		c->st.drop_auth++;
		return;
	case RADIUS_BAD_MSG_AUTH:
		c->st.drop_msg_auth++;
		return;
	case RADIUS_BAD_FORM:
	default:
		c->st.drop_form++;
		return;
	}
	c->st.answers++;
	if (c->reply.code == RADIUS_ACCESS_ACCEPT)
		result = RADCLIENT_ACCEPT;
	else if (c->reply.code == RADIUS_ACCESS_REJECT)
		result = RADCLIENT_REJECT;
	else
		result = RADCLIENT_CHALLENGE;
	req_finish(rq, result);
}

/* Answers (and anything else) arriving on a server's socket. */
static void
server_read_cb(EV_P_ ev_io *w, int revents)
{
	struct server *s = container_of(w, struct server, io);
	struct radclient *c = s->c;

	for (int i = 0; i < READ_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t slen = sizeof(ss);
		ssize_t n;

		ss.ss_family = AF_UNSPEC;
		n = recvfrom(s->fd, c->rbuf, sizeof(c->rbuf), 0,
		    (struct sockaddr *)&ss, &slen);
		if (n < 0)
			return;		/* EAGAIN, or an ICMP error */
		if (!is_from(&ss, slen, s->addr))
			c->st.drop_source++;
		else
			server_input(s, (size_t)n);
	}
}

void
radclient_stats(const struct radclient *c, struct radclient_stats *s)
{
	*s = c->st;
}

size_t
radclient_pending(const struct radclient *c)
{
	return c->pending;
}
