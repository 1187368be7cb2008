/*
 * The connector role: local UDP 500/4500 for unmodified initiators, one
 * session per initiator, each carried over its own originated stream
 * (RFC 9329) or, with transport = fallback, over UDP while UDP works
 * (RFC 9329 §5.1: try UDP first; use TCP when UDP gets no answer), moving
 * a live session to the stream when UDP stops answering and back when a
 * probe finds UDP working again (connector.h, enum cn_transport).
 *
 * Flows and sessions.  An initiator sends IKE_SA_INIT to port 500 and the
 * rest, ESP included, to port 4500, from another source port (RFC 7296
 * §2.23).  An IKE message is tied to its session by its initiator SPI; an
 * IKE_SA_INIT request with an unknown SPI starts one, and so does another
 * request to port 4500 that no session knows (an SA set up elsewhere).  ESP, keepalives,
 * and IKE with an SPI we have not seen (a rekeyed IKE SA) are tied by the
 * address and port of the session's port-4500 flow.
 *
 * Data flow:
 *   initiator --UDP--> listen_cb --> to_gateway --> cstream (or UDP)
 *   cstream --> session_stream_msg --> to_initiator --UDP--> initiator
 * Sessions are few (one per initiator) and found by a linear search.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "conf/conf.h"
#include "framing/classify.h"
#include "framing/natt.h"
#include "relay/connector.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/worker.h"
#include "tls/ctx.h"

enum {
	IKE_PORT = 500,		/* RFC 7296 §2: bare IKE */
	GW_READS = 32,		/* gateway datagrams per callback */
};

static const char *
transport_name(enum cn_transport t)
{
	switch (t) {
	case CN_TRANSPORT_TRYING:
		return "trying udp";
	case CN_TRANSPORT_UDP:
		return "udp";
	case CN_TRANSPORT_TCP:
		return "tcp";
	}
	return "?";
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
}

static void
log_counters(const struct cn_session *s, const char *what, bool stats)
{
	const struct cn_counters *n = &s->n;
	char line[LOG_LINE_MAX];

	snprintf(line, sizeof(line), "%s: %s: transport %s, up %llu "
	    "msgs/%llu bytes, down %llu "
	    "msgs/%llu bytes, keepalives dropped %llu, other drops %llu, "
	    "streams %llu (lost %llu, named by a replayed ESP %llu), "
	    "moved to the stream %llu, to udp %llu, udp probes %llu, %.1f s",
	    s->cs.tag, what, transport_name(s->transport), n->up_msgs,
	    n->up_bytes, n->down_msgs, n->down_bytes, n->keepalives,
	    n->dropped + s->cs.stats.dropped, s->cs.stats.connects,
	    s->cs.stats.breaks, s->cs.stats.replayed, n->to_stream, n->to_udp,
	    n->probes, ev_now(s->cn->r->loop) - s->started);
	if (stats)
		log_stats("%s", line);	/* asked for: whatever the level */
	else
		log_info("%s", line);
}

static struct cn_session *
find_by_spi(struct connector *cn, uint64_t spi)
{
	for (struct cn_session *s = cn->sessions; s != NULL; s = s->next)
		for (unsigned i = 0; i < CN_SESSION_SPIS; i++)
			if (s->spi[i] == spi)
				return s;
	return NULL;
}

static struct cn_session *
find_by_peer(struct connector *cn, const struct sockaddr_storage *ss)
{
	for (struct cn_session *s = cn->sessions; s != NULL; s = s->next) {
		const struct cn_flow *f = &s->flow[CN_FLOW_NATT];

		if (f->l != NULL && sockaddr_equal(&f->peer, ss))
			return s;
	}
	return NULL;
}

static void
remember_spi(struct cn_session *s, uint64_t spi)
{
	for (unsigned i = 0; i < CN_SESSION_SPIS; i++)
		if (s->spi[i] == spi)
			return;
	s->spi[s->nspi++ % CN_SESSION_SPIS] = spi;
}

static void
set_transport(struct cn_session *s, enum cn_transport t, const char *why)
{
	s->transport = t;
	log_info("%s: transport %s (%s)", s->cs.tag, transport_name(t), why);
}

/* An IKE message from the gateway, on UDP or on the stream: the pending
 * request, if any, was answered (RFC 7296 §2.1: every request draws a
 * response; ESP proves nothing about our requests reaching it). */
static void
ike_answered(struct cn_session *s)
{
	if (s->req_at == 0)
		return;
	s->req_at = 0;
	if (s->transport != CN_TRANSPORT_TCP)
		ev_timer_stop(s->cn->r->loop, &s->fallback);
}

static void
retry_arm(struct cn_session *s)
{
	ev_timer_stop(s->cn->r->loop, &s->probe);
	ev_timer_set(&s->probe, s->retry_ms / 1000., 0.);
	ev_timer_start(s->cn->r->loop, &s->probe);
}

/* The next probe waits twice as long, up to udp-retry-max. */
static void
retry_backoff(struct cn_session *s)
{
	const struct conf_connector *cc = s->cn->cc;

	if (s->retry_ms <= cc->udp_retry_max_ms / 2)
		s->retry_ms *= 2;
	else
		s->retry_ms = cc->udp_retry_max_ms;
}

static void
close_gw(struct cn_session *s)
{
	for (int k = 0; k < CN_FLOWS; k++) {
		struct cn_flow *f = &s->flow[k];

		if (f->ufd == -1)
			continue;
		ev_io_stop(s->cn->r->loop, &f->uio);
		close(f->ufd);
		f->ufd = -1;
	}
}

static void
session_close(struct cn_session *s, const char *reason)
{
	struct connector *cn = s->cn;
	struct cn_session **pp;

	log_counters(s, reason, false);
	for (pp = &cn->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	cn->nsessions--;
	close_gw(s);
	ev_timer_stop(cn->r->loop, &s->fallback);
	ev_timer_stop(cn->r->loop, &s->probe);
	ev_timer_stop(cn->r->loop, &s->idle);
	cstream_cleanup(&s->cs);
	free(s->req);
	free(s);
}

/* Control space for one IP_PKTINFO or IPV6_PKTINFO message. */
union pktinfo_cmsg {
	char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr	align;
};

/* The address a datagram was sent to, from a wildcard socket's cmsg. */
static void
note_dst(struct cn_flow *f, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL;
	    cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO)
			memcpy(&f->dst4, CMSG_DATA(cm), sizeof(f->dst4));
		else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO)
			memcpy(&f->dst6, CMSG_DATA(cm), sizeof(f->dst6));
	}
}

/* One datagram to the initiator, from the socket and the address it sent
 * to (on a wildcard socket, the kernel would pick the source by route). */
static void
to_initiator(struct cn_session *s, enum cn_flow_kind k, const uint8_t *p,
    size_t n)
{
	struct cn_flow *f = &s->flow[k];
	struct iovec iov = { (void *)p, n };
	struct msghdr mh = { 0 };
	union pktinfo_cmsg ctl;

	if (f->l == NULL) {
		s->n.dropped++;
		return;
	}
	mh.msg_name = &f->peer;
	mh.msg_namelen = f->peer_len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (f->l->wild) {
		struct cmsghdr *cm;
		bool v6 = f->peer.ss_family == AF_INET6;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = v6 ? CMSG_SPACE(sizeof(f->dst6)) :
		    CMSG_SPACE(sizeof(f->dst4));
		cm = CMSG_FIRSTHDR(&mh);
		if (v6) {
			struct in6_pktinfo pi = {
				.ipi6_addr = f->dst6.ipi6_addr,
			};

			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		} else {
			struct in_pktinfo pi = {
				.ipi_spec_dst = f->dst4.ipi_addr,
			};

			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		}
	}
	if (sendmsg(f->l->fd, &mh, MSG_DONTWAIT) == -1) {
		s->cn->stats.send_errors++;
		return;
	}
	s->n.down_msgs++;
	s->n.down_bytes += n;
	s->last_active = ev_now(s->cn->r->loop);
}

/* Stream message -> initiator: IKE on the flow the initiator last used
 * (without its marker toward port 500), ESP on the port-4500 flow. */
static int
session_stream_msg(struct cstream *cs, const uint8_t *p, size_t n)
{
	struct cn_session *s = container_of(cs, struct cn_session, cs);
	enum cn_flow_kind k = s->ike_flow;
	struct msg_info m;
	struct rd bare;

	switch (classify_msg(p, n, &m)) {
	case MSG_KEEPALIVE:
		/* RFC 9329 §3: not sent on a stream; ignore it if it is. */
		s->n.keepalives++;
		return 0;
	case MSG_INVALID:
		log_info("%s: bad message of %zu bytes from server: %s",
		    cs->tag, n, classify_strerror(m.err));
		cstream_reset(cs, "malformed message");
		return -1;
	case MSG_ESP:
		to_initiator(s, CN_FLOW_NATT, p, n);
		return 0;
	case MSG_IKE:
		ike_answered(s);
		break;
	}
	if (s->flow[k].l == NULL)
		k = k == CN_FLOW_IKE ? CN_FLOW_NATT : CN_FLOW_IKE;
	if (k == CN_FLOW_IKE && natt_strip_marker(p, n, &bare))
		to_initiator(s, k, bare.p, bare.n);
	else
		to_initiator(s, k, p, n);
	return 0;
}

/* TCP -> UDP: a probe drew an IKE answer over UDP.  The stream stays
 * while the gateway sends to the relay, until the initiator's next
 * request over UDP moves it back (RFC 7296 §2.23, or MOBIKE's update);
 * gw_read closes it once ESP arrives over UDP. */
static void
to_udp(struct cn_session *s)
{
	struct ev_loop *loop = s->cn->r->loop;

	ev_timer_stop(loop, &s->fallback);
	ev_timer_stop(loop, &s->probe);
	s->probe_at = 0;
	s->req_at = 0;
	s->udp_since = ev_now(loop);
	s->n.to_udp++;
	set_transport(s, CN_TRANSPORT_UDP, "a probe over UDP was answered");
}

/* Fallback: the gateway's datagrams on flow @k, straight back. */
static void
gw_read(struct cn_session *s, enum cn_flow_kind k)
{
	struct cn_flow *f = &s->flow[k];
	uint8_t *buf = s->cn->r->ubuf;

	for (int i = 0; i < GW_READS; i++) {
		ssize_t n = recv(f->ufd, buf, RELAY_UDP_SLOT, MSG_DONTWAIT);
		struct msg_info m;
		enum natt_in kind;

		if (n < 0)
			return;
		kind = natt_classify(k == CN_FLOW_IKE, buf, (size_t)n, &m);
		/* ESP goes to the IKE SA's peer address alone (RFC 7296
		 * §2.23): the gateway has left the relay, and the stream is
		 * no longer needed until the next fall back. */
		if (kind == NATT_IN_ESP && s->transport == CN_TRANSPORT_UDP &&
		    s->stream_on) {
			s->stream_on = false;
			cstream_stop(&s->cs, "the gateway is back on UDP");
		}
		if (kind == NATT_IN_IKE || kind == NATT_IN_IKE_INIT) {
			if (s->transport == CN_TRANSPORT_TRYING) {
				ev_timer_stop(s->cn->r->loop, &s->fallback);
				set_transport(s, CN_TRANSPORT_UDP,
				    "the gateway answered over UDP");
			} else if (s->transport == CN_TRANSPORT_TCP &&
			    s->probe_at != 0)
				to_udp(s);
			ike_answered(s);
		}
		to_initiator(s, k, buf, (size_t)n);
	}
}

static void
session_gw_ike_cb(EV_P_ ev_io *w, int revents)
{
	gw_read(container_of(w, struct cn_session, flow[CN_FLOW_IKE].uio),
	    CN_FLOW_IKE);
}

static void
session_gw_natt_cb(EV_P_ ev_io *w, int revents)
{
	gw_read(container_of(w, struct cn_session, flow[CN_FLOW_NATT].uio),
	    CN_FLOW_NATT);
}

/* Fallback: a connected UDP socket to udp-gateway, on the port the
 * initiator's datagram arrived on. */
static int
gw_socket(struct cn_session *s, enum cn_flow_kind k)
{
	const struct conf_connector *cc = s->cn->cc;
	struct cn_flow *f = &s->flow[k];
	struct sockaddr_storage dst = cc->udp_gateway.ss;

	if (f->ufd != -1)
		return 0;
	set_port(&dst, sockaddr_port(&f->l->addr->ss));
	f->ufd = socket(dst.ss_family,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->ufd == -1) {
		log_warn("%s: gateway socket", s->cs.tag);
		return -1;
	}
	if (connect(f->ufd, (const struct sockaddr *)&dst,
	    cc->udp_gateway.len) == -1) {
		log_warn("%s: connect to %s port %u", s->cs.tag,
		    cc->udp_gateway.text, sockaddr_port(&dst));
		close(f->ufd);
		f->ufd = -1;
		return -1;
	}
	ev_io_init(&f->uio, k == CN_FLOW_IKE ? session_gw_ike_cb :
	    session_gw_natt_cb, f->ufd, EV_READ);
	ev_io_start(s->cn->r->loop, &f->uio);
	return 0;
}

/* Initiator -> gateway, by the session's transport.  An IKE @request
 * over UDP starts the answer check (fallback-timeout), even when the
 * send fails: a firewall may refuse it locally (EPERM). */
static void
to_gateway(struct cn_session *s, enum cn_flow_kind k, const uint8_t *p,
    size_t n, enum natt_in kind, bool request)
{
	bool ike = kind == NATT_IN_IKE || kind == NATT_IN_IKE_INIT;

	if (s->transport != CN_TRANSPORT_TCP && ike && request &&
	    s->req_at == 0) {
		s->req_at = ev_now(s->cn->r->loop);
		ev_timer_set(&s->fallback,
		    s->cn->cc->fallback_timeout_ms / 1000., 0.);
		ev_timer_start(s->cn->r->loop, &s->fallback);
	}
	if (s->transport == CN_TRANSPORT_TCP) {
		/* RFC 9329 §3: keepalives are never put on a stream. */
		if (kind == NATT_IN_KEEPALIVE) {
			s->n.keepalives++;
			return;
		}
		if (!cstream_send(&s->cs, k == CN_FLOW_IKE, p, n, ike))
			return;
	} else if (gw_socket(s, k) == -1 ||
	    send(s->flow[k].ufd, p, n, MSG_DONTWAIT) == -1) {
		s->n.dropped++;
		return;
	}
	s->n.up_msgs++;
	s->n.up_bytes += n;
}

/*
 * UDP (or TRYING) -> TCP: the request sent over UDP drew no IKE answer.
 * It is replayed on the stream at once, byte for byte what the initiator
 * retransmits anyway (RFC 7296 §2.1).  An IKE_SA_INIT keeps its SPI,
 * nonce and NAT detection: a transparent proxy cannot start the new
 * IKE_SA_INIT that RFC 9329 §5.1 asks of an initiator that switches; a
 * gateway that did get the UDP request answers the copy from its
 * retransmission cache.  A later request moves an established SA's peer
 * address to the relay (RFC 7296 §2.23; with MOBIKE, the initiator's
 * UPDATE_SA_ADDRESSES after its next DPD sees the NAT mapping changed).
 */
static void
to_stream(struct cn_session *s, const char *why)
{
	const struct conf_connector *cc = s->cn->cc;
	ev_tstamp now = ev_now(s->cn->r->loop);

	if (s->transport == CN_TRANSPORT_TRYING)
		close_gw(s);
	else {
		s->n.to_stream++;
		/* Hysteresis: UDP that failed again soon waits longer. */
		if (now - s->udp_since < cc->udp_retry_max_ms / 1000.)
			retry_backoff(s);
		else
			s->retry_ms = cc->udp_retry_min_ms;
	}
	s->req_at = 0;
	set_transport(s, CN_TRANSPORT_TCP, why);
	cstream_start(&s->cs);
	s->stream_on = true;
	if (s->req != NULL &&
	    cstream_send(&s->cs, false, s->req, s->req_len, true)) {
		s->n.up_msgs++;
		s->n.up_bytes += s->req_len;
	}
	retry_arm(s);
}

/* TCP: the probe drew no answer within fallback-timeout. */
static void
probe_failed(struct cn_session *s)
{
	s->probe_at = 0;
	retry_backoff(s);
	log_debug("%s: %s: no answer over UDP; next probe in %u ms", __func__,
	    s->cs.tag, s->retry_ms);
	retry_arm(s);
}

static void
session_fallback_cb(EV_P_ ev_timer *w, int revents)
{
	struct cn_session *s = container_of(w, struct cn_session, fallback);
	char why[96];

	if (s->transport == CN_TRANSPORT_TCP) {
		if (s->probe_at != 0)
			probe_failed(s);
		return;
	}
	if (s->req_at == 0)
		return;
	if (s->transport == CN_TRANSPORT_TRYING)
		snprintf(why, sizeof(why), "no UDP answer to IKE_SA_INIT "
		    "within %u ms", s->cn->cc->fallback_timeout_ms);
	else
		snprintf(why, sizeof(why), "no UDP answer to an IKE request "
		    "within %u ms", s->cn->cc->fallback_timeout_ms);
	to_stream(s, why);
}

/*
 * TCP: a probe is a copy of the initiator's last IKE request (never an
 * IKE_SA_INIT, which would start a half-open SA) sent over UDP.  The
 * gateway answers a retransmitted request from its cache (RFC 7296 §2.1)
 * to where it came from; any other request it drops.  Either way its
 * state does not change.
 */
static void
session_probe_cb(EV_P_ ev_timer *w, int revents)
{
	struct cn_session *s = container_of(w, struct cn_session, probe);

	if (s->transport != CN_TRANSPORT_TCP)
		return;
	if (s->req == NULL || s->req_init || gw_socket(s, CN_FLOW_NATT) ==
	    -1 || send(s->flow[CN_FLOW_NATT].ufd, s->req, s->req_len,
	    MSG_DONTWAIT) == -1) {
		probe_failed(s);
		return;
	}
	s->n.probes++;
	s->probe_at = ev_now(EV_A);
	ev_timer_set(&s->fallback, s->cn->cc->fallback_timeout_ms / 1000.,
	    0.);
	ev_timer_start(EV_A_ &s->fallback);
}

static void
session_idle_cb(EV_P_ ev_timer *w, int revents)
{
	struct cn_session *s = container_of(w, struct cn_session, idle);
	ev_tstamp left = s->last_active + s->cn->cc->idle_timeout_ms / 1000. -
	    ev_now(EV_A);

	if (left <= 0) {
		session_close(s, "closed (idle timeout)");
		return;
	}
	w->repeat = left;
	ev_timer_again(EV_A_ w);
}

static struct cn_session *
session_new(struct connector *cn, const struct sockaddr_storage *from)
{
	const struct conf_connector *cc = cn->cc;
	struct cn_session *s;
	char tag[128], peer[64];

	if (cn->nsessions >= cc->max_sessions) {
		cn->stats.refused++;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("connector %s: session", cc->name);
		return NULL;
	}
	s->cn = cn;
	s->id = ++cn->next_id;
	snprintf(tag, sizeof(tag), "connector %s session %llu", cc->name,
	    s->id);
	if (cstream_init(&s->cs, cn->r, cc, cn->ssl_ctx,
	    cn->sni[0] != '\0' ? cn->sni : NULL, session_stream_msg,
	    tag) == -1) {
		free(s);
		return NULL;
	}
	for (int k = 0; k < CN_FLOWS; k++)
		s->flow[k].ufd = -1;
	s->started = s->last_active = ev_now(cn->r->loop);
	ev_timer_init(&s->fallback, session_fallback_cb,
	    cc->fallback_timeout_ms / 1000., 0.);
	ev_timer_init(&s->probe, session_probe_cb, 0., 0.);
	s->retry_ms = cc->udp_retry_min_ms;
	ev_timer_init(&s->idle, session_idle_cb, 0.,
	    cc->idle_timeout_ms / 1000.);
	ev_timer_again(cn->r->loop, &s->idle);
	s->next = cn->sessions;
	cn->sessions = s;
	cn->nsessions++;
	log_info("%s: new, initiator %s", tag,
	    sockaddr_text(from, peer, sizeof(peer)));
	if (cc->transport == CONF_TRANSPORT_FALLBACK) {
		s->transport = CN_TRANSPORT_TRYING;
		log_info("%s: transport %s to %s first", tag,
		    transport_name(s->transport), cc->udp_gateway.text);
	} else {
		set_transport(s, CN_TRANSPORT_TCP, "transport = tcp");
		cstream_start(&s->cs);
		s->stream_on = true;
	}
	return s;
}

/* Keeps the initiator's last IKE request in stream (marker) form, for
 * the replay on a move to the stream and for UDP probes. */
static void
keep_request(struct cn_session *s, bool bare, const uint8_t *p, size_t n,
    bool init)
{
	size_t off = bare ? NON_ESP_MARKER_LEN : 0;
	uint8_t *b = realloc(s->req, n + off);

	if (b == NULL)
		return;
	memset(b, 0, off);
	memcpy(b + off, p, n);
	s->req = b;
	s->req_len = n + off;
	s->req_init = init;
}

/* Which session a datagram belongs to; NULL to drop it. */
static struct cn_session *
session_of(struct cn_listen *l, const struct sockaddr_storage *from,
    enum natt_in kind, const struct msg_info *m)
{
	struct connector *cn = l->cn;
	struct cn_session *s = NULL;

	switch (kind) {
	case NATT_IN_INVALID:
		cn->stats.invalid++;
		return NULL;
	case NATT_IN_KEEPALIVE:
	case NATT_IN_ESP:
		s = find_by_peer(cn, from);
		break;
	case NATT_IN_IKE:
	case NATT_IN_IKE_INIT:
		s = find_by_spi(cn, m->spi_i);
		if (s == NULL && l->kind == CN_FLOW_NATT)
			s = find_by_peer(cn, from);
		if (s == NULL && kind == NATT_IN_IKE_INIT)
			s = session_new(cn, from);
		/*
		 * A request of an IKE SA set up elsewhere (the initiator
		 * was on UDP to the server until UDP failed, RFC 9329
		 * §7.1): carried like any other, so that the server, which
		 * holds that SA, can take it over on the stream.
		 */
		if (s == NULL && l->kind == CN_FLOW_NATT &&
		    msg_is_request(m) && (s = session_new(cn, from)) != NULL)
			log_info("connector %s session %llu: carries IKE SA "
			    "%016llx, set up before", cn->cc->name, s->id,
			    (unsigned long long)m->spi_i);
		break;
	}
	if (s == NULL)
		cn->stats.no_session++;
	return s;
}

/* Datagrams from initiators on one udp-listen socket. */
static void
listen_cb(EV_P_ ev_io *w, int revents)
{
	struct cn_listen *l = container_of(w, struct cn_listen, io);
	struct relay *r = l->cn->r;
	struct mmsghdr mm[RELAY_UDP_BATCH];
	struct iovec iov[RELAY_UDP_BATCH];
	struct sockaddr_storage from[RELAY_UDP_BATCH];
	union pktinfo_cmsg ctl[RELAY_UDP_BATCH];
	int got;

	memset(mm, 0, sizeof(mm));
	for (size_t i = 0; i < RELAY_UDP_BATCH; i++) {
		iov[i].iov_base = r->ubuf + i * RELAY_UDP_SLOT;
		iov[i].iov_len = RELAY_UDP_SLOT;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &from[i];
		mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		if (l->wild) {
			mm[i].msg_hdr.msg_control = ctl[i].buf;
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
	}
	got = recvmmsg(l->fd, mm, RELAY_UDP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < got; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t n = mm[i].msg_len;
		struct cn_session *s;
		struct msg_info m;
		enum natt_in kind;
		bool request;

		if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
			l->cn->stats.invalid++;
			continue;
		}
		kind = natt_classify(l->kind == CN_FLOW_IKE, p, n, &m);
		if ((s = session_of(l, &from[i], kind, &m)) == NULL)
			continue;
		s->last_active = ev_now(EV_A);
		request = false;
		if (kind == NATT_IN_IKE || kind == NATT_IN_IKE_INIT) {
			struct cn_flow *f = &s->flow[l->kind];

			remember_spi(s, m.spi_i);
			f->l = l;
			f->peer = from[i];
			f->peer_len = mm[i].msg_hdr.msg_namelen;
			if (l->wild)
				note_dst(f, &mm[i].msg_hdr);
			s->ike_flow = l->kind;
			request = msg_is_request(&m);
			if (request)
				keep_request(s, l->kind == CN_FLOW_IKE, p, n,
				    kind == NATT_IN_IKE_INIT);
		}
		to_gateway(s, l->kind, p, n, kind, request);
	}
}

static int
listen_open(struct connector *cn, const struct conf_addr *a)
{
	struct cn_listen *l = &cn->ls[cn->nls];
	int fd, on = 1, bufsz = 1 << 20;

	fd = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		log_warn("connector %s: udp-listen %s", cn->cc->name, a->text);
		return -1;
	}
	if (a->ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	/* On a wildcard socket, learn which address each datagram was sent
	 * to, so the reply comes from it (the initiator checks). */
	l->wild = sockaddr_is_any(&a->ss);
	if (l->wild && setsockopt(fd, a->ss.ss_family == AF_INET6 ?
	    IPPROTO_IPV6 : IPPROTO_IP, a->ss.ss_family == AF_INET6 ?
	    IPV6_RECVPKTINFO : IP_PKTINFO, &on, sizeof(on)) == -1) {
		log_warn("connector %s: pktinfo on %s", cn->cc->name, a->text);
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		log_warn("connector %s: bind udp-listen %s", cn->cc->name,
		    a->text);
		close(fd);
		return -1;
	}
	l->cn = cn;
	l->fd = fd;
	l->addr = a;
	l->kind = sockaddr_port(&a->ss) == IKE_PORT ? CN_FLOW_IKE :
	    CN_FLOW_NATT;
	ev_io_init(&l->io, listen_cb, fd, EV_READ);
	ev_io_start(cn->r->loop, &l->io);
	cn->nls++;
	return 0;
}

static void
connector_free(struct connector *cn)
{
	while (cn->sessions != NULL)
		session_close(cn->sessions, "closed (shutdown)");
	for (size_t i = 0; i < cn->nls; i++) {
		ev_io_stop(cn->r->loop, &cn->ls[i].io);
		close(cn->ls[i].fd);
	}
	SSL_CTX_free(cn->ssl_ctx);
	conf_unref(cn->conf);
	free(cn);
}

/* tls-sni, or else the server's host when it is a name, not an address. */
static void
pick_sni(struct connector *cn)
{
	const struct conf_connector *cc = cn->cc;
	char host[CONF_HOST_MAX];
	struct in6_addr a6;
	char *colon;

	if (cc->tls_sni[0] != '\0') {
		snprintf(cn->sni, sizeof(cn->sni), "%s", cc->tls_sni);
		return;
	}
	snprintf(host, sizeof(host), "%s", cc->server.text);
	if (host[0] == '[' || (colon = strrchr(host, ':')) == NULL)
		return;
	*colon = '\0';
	if (inet_pton(AF_INET, host, &a6) == 1)
		return;
	snprintf(cn->sni, sizeof(cn->sni), "%s", host);
}

static int
tls_open(struct connector *cn)
{
	const struct conf_connector *cc = cn->cc;
	char err[TLS_ERR_MAX];

	pick_sni(cn);
	cn->ssl_ctx = tls_ctx_client_new(cc->tls_verify, cc->tls_ca, err,
	    sizeof(err));
	if (cn->ssl_ctx == NULL) {
		log_warnx("connector %s: TLS: %s", cc->name, err);
		return -1;
	}
	return 0;
}

int
connector_open_all(struct relay *r, struct conf *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->nconnectors; i++) {
		const struct conf_connector *cc = &c->connectors[i];
		struct connector *cn;

		if ((cn = calloc(1, sizeof(*cn))) == NULL) {
			log_warn("connector %s", cc->name);
			return -1;
		}
		cn->r = r;
		cn->conf = conf_ref(c);
		cn->cc = cc;
		cn->next = r->connectors;
		r->connectors = cn;
		if (cc->tls && tls_open(cn) == -1)
			rc = -1;
		for (size_t j = 0; j < cc->nudp_listen; j++)
			if (listen_open(cn, &cc->udp_listen[j]) == -1)
				rc = -1;
		log_info("connector %s: %zu udp-listen, server %s%s%s%s%s%s, "
		    "prefix %s, transport %s%s%s", cc->name, cn->nls,
		    cc->server.text, cc->tls ? ", TLS" : "",
		    cn->sni[0] != '\0' ? " sni " : "", cn->sni,
		    cc->http_proxy.len != 0 ? ", via http-proxy " : "",
		    cc->http_proxy.len != 0 ? cc->http_proxy.text : "",
		    cc->prefix == CONF_PREFIX_IKEV2 ? "IKEv2" : "IKETCP",
		    cc->transport == CONF_TRANSPORT_FALLBACK ? "fallback" :
		    "tcp", cc->transport == CONF_TRANSPORT_FALLBACK ?
		    ", udp-gateway " : "", cc->transport ==
		    CONF_TRANSPORT_FALLBACK ? cc->udp_gateway.text : "");
	}
	return rc;
}

void
connector_close_unserved(struct relay *r)
{
	struct connector **pp = &r->connectors;

	while (*pp != NULL) {
		struct connector *cn = *pp;

		if (worker_serves_connector(r, cn->cc)) {
			pp = &cn->next;
			continue;
		}
		*pp = cn->next;
		connector_free(cn);
	}
}

void
connector_close_all(struct relay *r)
{
	while (r->connectors != NULL) {
		struct connector *cn = r->connectors;

		r->connectors = cn->next;
		connector_free(cn);
	}
}

void
connector_stats_log(const struct relay *r)
{
	for (const struct connector *cn = r->connectors; cn != NULL;
	    cn = cn->next) {
		log_stats("connector %s: %u sessions, invalid datagrams %llu, "
		    "without session %llu, refused (max-sessions) %llu, udp "
		    "send errors %llu", cn->cc->name, cn->nsessions,
		    cn->stats.invalid, cn->stats.no_session,
		    cn->stats.refused, cn->stats.send_errors);
		for (const struct cn_session *s = cn->sessions; s != NULL;
		    s = s->next)
			log_counters(s, "stats", true);
	}
}
