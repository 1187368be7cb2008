/*
 * The session layer: streams hand their messages here (session_stream_up),
 * and this file alone decides which session a stream serves, whether it
 * must first prove that it holds the SA's keys, how long a session lingers
 * without a stream, which sessions the budgets reclaim, and what the SPI
 * table holds.  Backends are reached only through s->ops.
 *
 * Re-attach (RFC 9329 §6) and its proof (RFC 9329 §10: only messages that
 * pass authentication may move the return path): relay/README, "Proof".
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing/natt.h"
#include "relay/handoff.h"
#include "relay/keyhash.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/srctab.h"
#include "relay/stream.h"
#include "relay/udpfront.h"
#include "relay/worker.h"

static void session_free(struct session *s);

/* ---- SPI table: keyed hash (peer-chosen keys), grows, frees ---- */

static size_t
key_bucket(const struct relay *r, bool esp, uint64_t spi_i, uint64_t spi_r)
{
	uint8_t k[17];

	k[0] = esp;
	memcpy(k + 1, &spi_i, 8);
	memcpy(k + 9, &spi_r, 8);
	return (size_t)keyhash(k, sizeof(k)) & r->spi_mask;
}

static struct spi_key *
key_find(const struct relay *r, bool esp, uint64_t spi_i, uint64_t spi_r)
{
	struct spi_key *e;

	for (e = r->spis[key_bucket(r, esp, spi_i, spi_r)]; e != NULL;
	    e = e->next)
		if (e->esp == esp && e->spi_i == spi_i && e->spi_r == spi_r)
			return e;
	return NULL;
}

/* Doubles the bucket array when the keys outnumber the buckets, so that
 * chains stay short whatever the peers choose. */
static void
table_grow(struct relay *r)
{
	size_t n = (r->spi_mask + 1) * 2;
	struct spi_key **nb, **old = r->spis;
	size_t omask = r->spi_mask;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;		/* longer chains, still correct */
	r->spis = nb;
	r->spi_mask = n - 1;
	for (size_t i = 0; i <= omask; i++)
		while (old[i] != NULL) {
			struct spi_key *e = old[i];
			size_t b = key_bucket(r, e->esp, e->spi_i, e->spi_r);

			old[i] = e->next;
			e->next = nb[b];
			nb[b] = e;
		}
	free(old);
}

static void
key_unlink(struct relay *r, struct spi_key *e)
{
	struct spi_key **pp;

	if (!e->linked)
		return;
	for (pp = &r->spis[key_bucket(r, e->esp, e->spi_i, e->spi_r)];
	    *pp != NULL; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	e->next = NULL;
	e->linked = false;
	r->nspis--;
	handoff_key_release(r, e->esp, e->spi_i, e->spi_r);
}

/* Links @e into the table unless another session holds its key (first
 * come keeps it: a later one cannot take what it did not start), here or
 * in another worker (the owner table, relay/owners.h); a key another
 * worker holds is never this worker's while @e keeps it. */
static void
key_link(struct relay *r, struct spi_key *e)
{
	size_t b;

	if (key_find(r, e->esp, e->spi_i, e->spi_r) != NULL)
		return;
	if (!handoff_key_claim(r, e->esp, e->spi_i, e->spi_r)) {
		e->foreign = true;
		return;
	}
	if (r->nspis >= r->spi_mask + 1)
		table_grow(r);
	b = key_bucket(r, e->esp, e->spi_i, e->spi_r);
	e->next = r->spis[b];
	r->spis[b] = e;
	e->linked = true;
	r->nspis++;
}

/* @s's slot for a key, found (and linked, once the session that held it
 * is gone) or newly taken, replacing its oldest key of that kind.  The
 * search of the session's own few keys first keeps the table out of the
 * per-message path. */
static struct spi_key *
key_add(struct session *s, bool esp, uint64_t spi_i, uint64_t spi_r)
{
	struct relay *r = s->r;
	struct spi_key *ring = esp ? s->esp : s->ike, *e;
	size_t n = esp ? SESSION_ESP_KEYS : SESSION_IKE_KEYS;
	unsigned *next = esp ? &s->esp_next : &s->ike_next;

	for (size_t i = 0; i < n; i++)
		if (ring[i].s == s && ring[i].spi_i == spi_i &&
		    ring[i].spi_r == spi_r) {
			if (!ring[i].linked && !ring[i].foreign)
				key_link(r, &ring[i]);
			return &ring[i];
		}
	e = &ring[(*next)++ % n];
	key_unlink(r, e);
	memset(e, 0, sizeof(*e));
	e->s = s;
	e->esp = esp;
	e->spi_i = spi_i;
	e->spi_r = spi_r;
	key_link(r, e);
	return e;
}

void
session_note(struct session *s, const struct msg_info *m, bool from_client)
{
	struct spi_key *e;

	if (m->kind == MSG_ESP) {
		if (from_client)
			(void)key_add(s, true, m->esp_spi, 0);
		return;
	}
	/* An IKE_SA_INIT request (SPIr 0) names no SA yet. */
	if (m->kind != MSG_IKE || m->spi_r == 0)
		return;
	e = key_add(s, false, m->spi_i, m->spi_r);
	/* A client request relayed, or the gateway's answer to one (the
	 * answer to IKE_SA_INIT first shows the pair; a proving stream's
	 * request is relayed by the time its answer proves it). */
	if (from_client != msg_is_request(m))
		return;
	if (!e->have_req || m->msgid > e->max_req) {
		e->have_req = true;
		e->max_req = m->msgid;
	}
}

void
session_key_ike(struct session *s, uint64_t spi_i, uint64_t spi_r)
{
	(void)key_add(s, false, spi_i, spi_r);
}

void
session_key_esp(struct session *s, uint32_t spi)
{
	(void)key_add(s, true, spi, 0);
}

bool
session_is_proof(const struct session *s, const struct probe *p,
    const struct msg_info *m)
{
	if (m->kind != MSG_IKE || msg_is_request(m) || m->spi_r == 0 ||
	    !p->req_first || p->req_spi_i != m->spi_i ||
	    p->req_spi_r != m->spi_r || p->req_msgid != m->msgid)
		return false;
	for (size_t i = 0; i < SESSION_IKE_KEYS; i++) {
		const struct spi_key *e = &s->ike[i];

		if (e->s == s && e->spi_i == m->spi_i &&
		    e->spi_r == m->spi_r)
			return e->have_req && m->msgid > e->max_req;
	}
	return false;
}

/*
 * Probe @p relays IKE request @m (@p..@n): remember it, and whether @p is
 * the first to relay these bytes.  Whoever replays a request another
 * stream relayed (it saw it on the UDP leg) draws the gateway's cached
 * answer at its own port too, and must not be proven by it, even when
 * that answer is read before the first stream's.
 */
static void
probe_request(struct session *s, struct probe *p, const struct msg_info *m,
    const uint8_t *b, size_t n)
{
	uint64_t h;

	if (m->kind != MSG_IKE || !msg_is_request(m) || m->spi_r == 0)
		return;
	h = keyhash(b, n);
	p->req_spi_i = m->spi_i;
	p->req_spi_r = m->spi_r;
	p->req_msgid = m->msgid;
	p->req_hash = h;
	p->req_first = true;
	for (const struct probe *q = s->probes; q != NULL; q = q->next)
		if (q != p && q->req_hash == h && q->req_msgid == m->msgid &&
		    q->req_spi_i == m->spi_i && q->req_spi_r == m->spi_r)
			p->req_first = false;
}

/* ---- logging ---- */

/* Keeps @ss as the latest client: its first bytes, all that
 * sockaddr_text() and sockaddr_same_ip() read. */
static void
client_set(struct session *s, const struct sockaddr_storage *ss)
{
	memcpy(&s->last_client, ss, sizeof(s->last_client));
}

void
session_client(const struct session *s, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out, &s->last_client, sizeof(s->last_client));
}

/* @ss has the latest client's IP address. */
static bool
same_client(const struct session *s, const struct sockaddr_storage *ss)
{
	struct sockaddr_storage cl;

	session_client(s, &cl);
	return sockaddr_same_ip(&cl, ss);
}

/* @msg about @s: on its owner stream, or naming the client. */
static void
log_line(const struct session *s, int level, const char *msg)
{
	struct sockaddr_storage cl;
	char addr[160];

	if (s->owner != NULL) {
		log_stream(s->owner, level, "%s", msg);
		return;
	}
	if (!log_peer_allow((enum log_level)level))
		return;
	if (s->on_udp) {
		log_emit((enum log_level)level, "%s %s: session %llu (%s): %s",
		    s->ops->name, s->section, s->id, udp_path_text(s->udp,
		    addr, sizeof(addr)), msg);
		return;
	}
	session_client(s, &cl);
	log_emit((enum log_level)level, "%s %s: session %llu (client %s, no "
	    "stream): %s", s->ops->name, s->section, s->id,
	    sockaddr_text(&cl, addr, sizeof(addr)), msg);
}

void
session_log(const struct session *s, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level > (int)log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(s, level, msg);
}

void
session_log_from(const struct session *s, const struct probe *p, int level,
    const char *fmt, ...)
{
	char msg[512], addr[160];
	va_list ap;

	if (level > (int)log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p == NULL)
		log_line(s, level, msg);
	else if (p->st != NULL)
		log_stream(p->st, level, "%s", msg);
	else if (log_peer_allow((enum log_level)level))
		log_emit((enum log_level)level, "%s %s: session %llu "
		    "(unproven %s): %s", s->ops->name, s->section, s->id,
		    udp_path_text(p->udp, addr, sizeof(addr)), msg);
}

void
session_addrs(const struct session *s, const struct probe *p,
    struct sockaddr_storage *local, struct sockaddr_storage *peer)
{
	const struct stream *st = p != NULL ? p->st : s->owner;
	const struct udp_path *u = p != NULL ? p->udp : s->udp;

	if (st != NULL) {
		*local = st->laddr;
		*peer = st->peer;
	} else if (u == NULL) {
		/* Never on UDP, no stream: no address (as calloc left it). */
		memset(local, 0, sizeof(*local));
		memset(peer, 0, sizeof(*peer));
	} else {
		*local = u->local;
		*peer = u->peer;
	}
}

/* ---- budgets ---- */

static void
linger_unlink(struct session *s)
{
	struct relay *r = s->r;

	if (s->lprev == NULL)
		return;
	if ((*s->lprev = s->lnext) != NULL)
		s->lnext->lprev = s->lprev;
	else
		r->lingering_tail = s->lprev;
	s->lnext = NULL;
	s->lprev = NULL;
}

static void
linger_link(struct session *s)
{
	struct relay *r = s->r;

	s->lnext = NULL;
	s->lprev = r->lingering_tail;
	*r->lingering_tail = s;
	r->lingering_tail = &s->lnext;
}

/* Frees the oldest lingering session (of source @src, or of any when
 * NULL) but @keep; false when there is none.  Live and probing sessions
 * are never reclaimed: only state nobody is using goes. */
static bool
reclaim(struct relay *r, const struct src *src, const struct session *keep,
    const char *why)
{
	struct session *s;

	for (s = r->lingering; s != NULL; s = s->lnext)
		if ((src == NULL || s->src == src) && s->probes == NULL &&
		    s != keep)
			break;
	if (s == NULL)
		return false;
	r->stats.reclaimed++;
	session_log(s, LOG_LEVEL_INFO, "reclaimed while lingering: %s", why);
	session_free(s);
	return true;
}

/*
 * Room for one more session or probe started by @st, holding @fds
 * descriptors: within the source's share (max-sessions-per-source),
 * max-sessions (sessions only) and the descriptor budget; reclaims lingering sessions to
 * make it (the source's own first), never @keep (the session a probe
 * names).  -1 (logged) when there is none.
 */
static int
budget_check(struct stream *st, unsigned fds, const struct session *keep)
{
	struct relay *r = st->r;
	const struct conf *c = r->conf;
	const char *why = NULL;

	if (st->src == NULL)
		why = "not counted";
	while (why == NULL &&
	    st->src->sessions >= st->cr->max_sessions_per_source)
		if (!reclaim(r, st->src, keep, "its source is at "
		    "max-sessions-per-source"))
			why = "max-sessions-per-source reached";
	/* A probe (@keep set) adds a descriptor and a count to its source,
	 * but no session. */
	while (why == NULL && keep == NULL && r->nsessions >= c->max_sessions)
		if (!reclaim(r, NULL, keep, "max-sessions reached"))
			why = "max-sessions reached";
	while (why == NULL && r->fds_used + fds > r->fds_max)
		if (!reclaim(r, NULL, keep, "descriptor budget reached"))
			why = "descriptor budget reached";
	if (why != NULL) {
		r->stats.sess_refused++;
		log_stream(st, LOG_LEVEL_INFO, "refused: %s", why);
		return -1;
	}
	return 0;
}

bool
session_fd_room(struct relay *r)
{
	while (r->fds_used + 1 > r->fds_max)
		if (!reclaim(r, NULL, NULL, "descriptor budget reached"))
			return false;
	return true;
}

/* A session's or probe's count in the budget of @st's source. */
static struct src *
src_take(struct stream *st)
{
	struct src *src = srctab_get(&st->r->sources, &st->peer,
	    st->cr->name);

	if (src != NULL)
		src->sessions++;
	return src;
}

static void
src_drop(struct relay *r, struct src *src)
{
	if (src == NULL)
		return;
	src->sessions--;
	srctab_put(&r->sources, src);
}

/* ---- sessions ---- */

static void
session_linger_cb(EV_P_ ev_timer *w, int revents)
{
	struct session *s = container_of(w, struct session, linger);

	if (s->state == SESSION_LINGER)
		session_log(s, LOG_LEVEL_DEBUG, "%s: linger expired",
		    __func__);
	session_free(s);
}

static void probe_free(struct probe *p);

/* Ends @s now: its streams are closed.  Runs only from the event loop,
 * or on a lingering session no call is using (reclaim). */
static void
session_free(struct session *s)
{
	struct relay *r = s->r;
	struct stream *st;

	if ((st = s->owner) != NULL) {
		s->owner = NULL;
		st->up = NULL;
		stream_close(st, "session closed");
	}
	while (s->probes != NULL) {
		struct probe *p = s->probes;

		st = p->st;
		p->st = NULL;
		st->up = NULL;
		probe_free(p);
		stream_close(st, "session closed");
	}
	for (size_t i = 0; i < SESSION_IKE_KEYS; i++)
		key_unlink(r, &s->ike[i]);
	for (size_t i = 0; i < SESSION_ESP_KEYS; i++)
		key_unlink(r, &s->esp[i]);
	linger_unlink(s);
	ev_timer_stop(r->loop, &s->linger);
	if (s->be != NULL)
		s->ops->close(s);
	src_drop(r, s->src);
	r->nsessions--;
	if ((*s->aprev = s->anext) != NULL)
		s->anext->aprev = s->aprev;
	free(s->udp);
	free(s);
}

void
session_end(struct session *s, double delay_s)
{
	if (s->state == SESSION_DEAD)
		return;
	s->state = SESSION_DEAD;
	linger_unlink(s);
	ev_timer_stop(s->r->loop, &s->linger);
	ev_timer_set(&s->linger, delay_s, 0.);
	ev_timer_start(s->r->loop, &s->linger);
}

/* The name of section @cr as a session keeps it: the relay_section's,
 * which lives until exit (a reload frees the conf's); NULL (logged)
 * without memory. */
static const char *
section_name(struct relay *r, const struct conf_relay *cr)
{
	const struct relay_section *sec = stream_section(r, cr->name);

	if (sec == NULL) {
		log_warnx("session: no memory for section %s", cr->name);
		return NULL;
	}
	return sec->name;
}

/* @st (the client, accounted) starts a session of its section. */
static struct session *
session_new(struct stream *st, const struct msg_info *m)
{
	struct relay *r = st->r;
	const struct conf_relay *cr = st->cr;
	const struct session_backend *ops = r->backends[cr->backend];
	struct session *s;

	if (budget_check(st, ops->probe_open != NULL ? 1 : 0, NULL) == -1)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("session");
		return NULL;
	}
	s->id = relay_next_id(r, &r->next_session_id);
	s->r = r;
	s->ops = ops;
	s->state = SESSION_LIVE;
	s->linger_ms = cr->linger_ms;
	s->max_message = cr->max_message;
	client_set(s, &st->peer);
	if ((s->section = section_name(r, cr)) == NULL) {
		free(s);
		return NULL;
	}
	ev_timer_init(&s->linger, session_linger_cb, 0., 0.);
	if (ops->open(s, st, m) == -1) {
		free(s);
		return NULL;
	}
	s->src = src_take(st);
	r->nsessions++;
	r->stats.sessions++;
	s->started = ev_now(r->loop);
	if ((s->anext = r->sessions) != NULL)
		s->anext->aprev = &s->anext;
	s->aprev = &r->sessions;
	r->sessions = s;
	return s;
}

static void
attach(struct session *s, struct stream *st)
{
	s->owner = st;
	s->on_udp = false;	/* the stream carries ESP now (9329 §7.1) */
	s->state = SESSION_LIVE;
	client_set(s, &st->peer);
	linger_unlink(s);
	ev_timer_stop(s->r->loop, &s->linger);
	st->up = s;
	st->lport = s->lport;
}

/* The owner stream is gone: linger (or end at once with linger 0). */
static void
detach(struct session *s)
{
	struct relay *r = s->r;

	s->owner = NULL;
	if (s->state == SESSION_DEAD)
		return;
	if (s->linger_ms == 0) {
		session_end(s, 0.);
		return;
	}
	s->state = SESSION_LINGER;
	linger_link(s);
	ev_timer_set(&s->linger, s->linger_ms / 1000., 0.);
	ev_timer_start(r->loop, &s->linger);
}

/* ---- probes: streams proving they hold the session's keys ---- */

static void
probe_deadline_cb(EV_P_ ev_timer *w, int revents)
{
	struct probe *p = container_of(w, struct probe, deadline);

	p->s->r->stats.probe_expired++;
	stream_close(p->st, "re-attach not proven within handshake-timeout");
}

static void
probe_free(struct probe *p)
{
	struct session *s = p->s;
	struct relay *r = s->r;
	struct probe **pp;

	for (pp = &s->probes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	ev_timer_stop(r->loop, &p->deadline);
	if (p->be != NULL && s->ops->probe_close != NULL)
		s->ops->probe_close(s, p);
	if (p->st != NULL)
		p->st->up = NULL;
	src_drop(r, p->src);
	free(p);
}

static int
probe_new(struct session *s, struct stream *st)
{
	struct relay *r = s->r;
	struct probe *p;

	if (budget_check(st, s->ops->probe_open != NULL ? 1 : 0, s) == -1) {
		r->stats.probe_refused++;
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("probe");
		return -1;
	}
	p->s = s;
	p->st = st;
	if (s->ops->probe_open != NULL && s->ops->probe_open(s, p) == -1) {
		free(p);
		return -1;
	}
	p->src = src_take(st);
	p->next = s->probes;
	s->probes = p;
	st->up = s;
	st->lport = p->lport;
	ev_timer_init(&p->deadline, probe_deadline_cb,
	    st->cr->handshake_timeout_ms / 1000., 0.);
	ev_timer_start(r->loop, &p->deadline);
	return 0;
}

static struct probe *
probe_of(const struct session *s, const struct stream *st)
{
	for (struct probe *p = s->probes; p != NULL; p = p->next)
		if (p->st == st)
			return p;
	return NULL;
}

void
session_move_udp(struct session *s, const struct udp_path *path,
    const char *how)
{
	struct relay *r = s->r;
	struct stream *old = s->owner;
	char was[160], now[160];

	if (s->state == SESSION_DEAD)
		return;
	if (s->udp == NULL && (s->udp = malloc(sizeof(*s->udp))) == NULL) {
		/* Stays where it was: the path is proven again later. */
		log_warn("session %llu: udp path", s->id);
		return;
	}
	if (old != NULL) {
		s->owner = NULL;
		old->up = NULL;
		stream_close(old, "the session moved to UDP");
		snprintf(was, sizeof(was), "a stream");
	} else if (s->on_udp)
		udp_path_text(s->udp, was, sizeof(was));
	else
		snprintf(was, sizeof(was), "no client");
	*s->udp = *path;
	s->on_udp = true;
	client_set(s, &path->peer);
	s->state = SESSION_LIVE;
	linger_unlink(s);
	ev_timer_stop(r->loop, &s->linger);
	r->stats.udp_moved++;
	session_log(s, LOG_LEVEL_INFO, "session moved from %s to %s "
	    "(proven: %s)", was, udp_path_text(s->udp, now, sizeof(now)),
	    how);
}

void
session_prove(struct session *s, struct probe *p, const char *how)
{
	struct relay *r = s->r;
	struct stream *st = p->st, *old = s->owner;

	/* An ended session stays ended; its probes close with it. */
	if (s->state == SESSION_DEAD)
		return;
	if (st == NULL) {
		/*
		 * A datagram from path @p->udp proved the session's keys:
		 * the session answers there from now on, IKE and ESP alike
		 * (RFC 7296 §2.23: the responder follows the address of an
		 * authenticated message; RFC 9329 §7.1 when it comes from a
		 * stream's session).  The probe was the caller's, for one
		 * call.
		 */
		session_move_udp(s, p->udp, how);
		return;
	}
	if (s->ops->proven != NULL)
		s->ops->proven(s, p);
	if (old != NULL) {
		s->owner = NULL;
		old->up = NULL;
		stream_close(old, "replaced by a stream that proved the "
		    "session's keys");
	}
	src_drop(r, s->src);
	s->src = p->src;	/* the probe's count is the session's now */
	p->src = NULL;
	p->st = NULL;
	probe_free(p);
	attach(s, st);
	r->stats.proven++;
	log_stream(st, LOG_LEVEL_INFO, "session re-attached (proven: %s; "
	    "session %llu)", how, s->id);
}

/* ---- the stream's upper layer ---- */

/* The first message decides: a session it names (by an IKE SA's SPI pair
 * or a client ESP SPI) is re-attached at once only by ESP from the
 * previous client's address while no stream owns it; any other stream
 * naming it must prove itself first (a probe); a message that names no
 * session starts one. */
static struct session *
choose(struct stream *st, const struct msg_info *m)
{
	struct spi_key *e = NULL;
	struct session *s;

	if (m->kind == MSG_ESP)
		e = key_find(st->r, true, m->esp_spi, 0);
	else if (m->kind == MSG_IKE && m->spi_r != 0)
		e = key_find(st->r, false, m->spi_i, m->spi_r);
	if (e != NULL && (s = e->s)->state != SESSION_DEAD &&
	    strcmp(s->section, st->cr->name) == 0) {
		if (m->kind == MSG_ESP && s->state == SESSION_LINGER &&
		    same_client(s, &st->peer)) {
			src_drop(st->r, s->src);
			s->src = src_take(st);
			attach(s, st);
			st->r->stats.reattach_esp++;
			log_stream(st, LOG_LEVEL_INFO, "session re-attached "
			    "by ESP SPI %08x from the previous client "
			    "address (session %llu)", m->esp_spi, s->id);
			return s;
		}
		if (probe_new(s, st) == -1)
			return NULL;
		if (m->kind == MSG_ESP)
			st->r->stats.probe_esp++;
		else
			st->r->stats.probe_ike++;
		if (m->kind == MSG_ESP)
			log_stream(st, LOG_LEVEL_INFO, "re-attach by ESP SPI "
			    "%08x to session %llu: to be proven", m->esp_spi,
			    s->id);
		else
			log_stream(st, LOG_LEVEL_INFO, "re-attach by IKE SPI "
			    "%016llx_%016llx to session %llu: to be proven",
			    (unsigned long long)m->spi_i,
			    (unsigned long long)m->spi_r, s->id);
		return s;
	}
	if ((s = session_new(st, m)) == NULL)
		return NULL;
	attach(s, st);
	log_stream(st, LOG_LEVEL_INFO, "session new (%llu), %s", s->id,
	    s->ops->name);
	return s;
}

/*
 * With several workers, the worker a stream's first message @m belongs
 * to when it is not this one (-1): the owner of its section when this
 * worker does not run it, or the worker that holds the session it names
 * when none here does.  The owner decides as for a stream it accepted
 * (choose()), so landing elsewhere gains nobody anything; and a stream
 * handed over once is never handed on (relay/README, "Workers").
 */
static int
elsewhere(struct stream *st, const struct msg_info *m)
{
	struct relay *r = st->r;
	struct spi_key *e = NULL;

	if (r->handoff == NULL || st->imported)
		return -1;
	if (!worker_serves(r, st->cr))
		return (int)worker_owner(r, st->cr);
	if (m->kind == MSG_ESP) {
		e = key_find(r, true, m->esp_spi, 0);
		if (e == NULL)
			return handoff_key_owner(r, true, m->esp_spi, 0);
	} else if (m->kind == MSG_IKE && m->spi_r != 0) {
		e = key_find(r, false, m->spi_i, m->spi_r);
		if (e == NULL)
			return handoff_key_owner(r, false, m->spi_i,
			    m->spi_r);
	}
	return -1;
}

/* Client messages from a stream (stream_up.input). */
static int
up_input(struct stream *st, const struct iovec *msgs,
    const struct msg_info *mi, size_t n)
{
	struct relay *r = st->r;
	struct session *s = st->up;
	struct probe *p = NULL;
	struct stream *was = r->in_stream;
	bool closed;
	int w;

	if (n == 0)
		return 0;
	if (s == NULL && (w = elsewhere(st, &mi[0])) != -1)
		return handoff_stream(st, (unsigned)w, &msgs[0]) ==
		    HANDOFF_SPLICED ? 0 : -1;
	if (s == NULL && (s = choose(st, &mi[0])) == NULL) {
		stream_close(st, "no session");
		return -1;
	}
	if (s->state == SESSION_DEAD)
		return 0;
	if (s->owner == st) {
		for (size_t i = 0; i < n; i++) {
			session_note(s, &mi[i], true);
			s->up_bytes += msgs[i].iov_len;
		}
		s->up_msgs += n;
	} else if ((p = probe_of(s, st)) != NULL) {
		for (size_t i = 0; i < n; i++)
			probe_request(s, p, &mi[i], msgs[i].iov_base,
			    msgs[i].iov_len);
	} else
		return 0;
	r->in_stream = st;
	r->in_stream_closed = false;
	s->ops->input(s, p, msgs, mi, n);
	closed = r->in_stream_closed;
	r->in_stream = was;
	r->in_stream_closed = false;
	return closed ? -1 : 0;
}

/* A stream is closing (stream_up.closed). */
static void
up_closed(struct stream *st)
{
	struct relay *r = st->r;
	struct session *s = st->up;
	struct probe *p;

	if (st == r->in_stream)
		r->in_stream_closed = true;
	if (s == NULL)
		return;
	st->up = NULL;
	if (s->owner == st)
		detach(s);
	else if ((p = probe_of(s, st)) != NULL) {
		p->st = NULL;
		probe_free(p);
	}
}

const struct stream_up session_stream_up = {
	.input = up_input,
	.closed = up_closed,
};

void
session_deliver(struct session *s, const struct iovec *msgs,
    const bool *ike, size_t n)
{
	if (!session_has_client(s) || n == 0)
		return;
	s->down_msgs += n;
	for (size_t i = 0; i < n; i++)
		s->down_bytes += msgs[i].iov_len;
	if (s->owner != NULL)
		(void)stream_send(s->owner, msgs, ike, n);
	else
		udpfront_send(s->udp, msgs, ike, n);
}

/* ---- the UDP front end's upper layer ---- */

/*
 * What stands for a UDP IKE_SA_INIT's SPIr until the SA has one: a keyed
 * hash of the client's address and port, never 0.  A retransmission
 * finds its session by (SPIi, this); a client elsewhere that uses the
 * same SPIi does not, and nobody can aim at another client's, since the
 * hash key is secret.
 */
static uint64_t
init_tag(const struct sockaddr_storage *peer)
{
	uint8_t k[1 + 2 + 16];

	memset(k, 0, sizeof(k));
	if (peer->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)peer;

		k[0] = 6;
		memcpy(k + 1, &a->sin6_port, 2);
		memcpy(k + 3, &a->sin6_addr, 16);
	} else {
		const struct sockaddr_in *a = (const void *)peer;

		k[0] = 4;
		memcpy(k + 1, &a->sin_port, 2);
		memcpy(k + 3, &a->sin_addr, 4);
	}
	return keyhash(k, sizeof(k)) | 1;
}

/* Room for one more session of @cr from @src, reclaiming lingering ones
 * as budget_check() does; -1 (counted, logged at a rate) when none. */
static int
udp_budget(struct relay *r, const struct conf_relay *cr, struct src *src,
    const struct udp_path *path)
{
	const char *why = NULL;
	char addr[160];

	while (why == NULL && src->sessions >= cr->max_sessions_per_source)
		if (!reclaim(r, src, NULL, "its source is at "
		    "max-sessions-per-source"))
			why = "max-sessions-per-source reached";
	while (why == NULL && r->nsessions >= r->conf->max_sessions)
		if (!reclaim(r, NULL, NULL, "max-sessions reached"))
			why = "max-sessions reached";
	if (why == NULL)
		return 0;
	r->stats.sess_refused++;
	r->stats.udp_refused++;
	if (log_peer_allow(LOG_LEVEL_INFO))
		log_emit(LOG_LEVEL_INFO, "integrated %s: %s: refused: %s",
		    cr->name, udp_path_text(path, addr, sizeof(addr)), why);
	return -1;
}

/* An IKE_SA_INIT request from @path starts a session of @cr. */
static struct session *
udp_session_new(struct relay *r, const struct conf_relay *cr,
    const struct udp_path *path, const struct msg_info *m)
{
	struct session *s;
	struct src *src;

	if ((src = srctab_get(&r->sources, &path->peer, cr->name)) == NULL) {
		r->stats.udp_refused++;
		return NULL;
	}
	if (udp_budget(r, cr, src, path) == -1 ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		srctab_put(&r->sources, src);
		return NULL;
	}
	s->id = relay_next_id(r, &r->next_session_id);
	s->r = r;
	s->ops = r->backends[cr->backend];
	s->state = SESSION_LIVE;
	s->linger_ms = cr->linger_ms;
	s->max_message = cr->max_message;
	client_set(s, &path->peer);
	s->on_udp = true;
	if ((s->udp = malloc(sizeof(*s->udp))) == NULL ||
	    (s->section = section_name(r, cr)) == NULL) {
		if (s->udp == NULL)
			log_warn("session");
		srctab_put(&r->sources, src);
		free(s->udp);
		free(s);
		return NULL;
	}
	*s->udp = *path;
	ev_timer_init(&s->linger, session_linger_cb, 0., 0.);
	if (s->ops->open(s, NULL, m) == -1) {
		srctab_put(&r->sources, src);
		free(s->udp);
		free(s);
		return NULL;
	}
	src->sessions++;
	s->src = src;
	r->nsessions++;
	r->stats.sessions++;
	s->started = ev_now(r->loop);
	if ((s->anext = r->sessions) != NULL)
		s->anext->aprev = &s->anext;
	s->aprev = &r->sessions;
	r->sessions = s;
	(void)key_add(s, false, m->spi_i, init_tag(&path->peer));
	session_log(s, LOG_LEVEL_INFO, "session new (%llu), %s", s->id,
	    s->ops->name);
	return s;
}

/*
 * A datagram (udp_up.input).  The session it names (by an IKE SA's SPI
 * pair, a client ESP SPI, or for an IKE_SA_INIT retransmission its SPIi
 * and source) takes it as the owner's when it comes on the session's
 * path; from any other path it is a probe for this one call: the backend
 * acts on it only if it proves the keys, and then the path moves
 * (relay/README, "Proof").  An IKE_SA_INIT request that names no session
 * starts one; anything else naming none is dropped and counted.
 */
static void
udp_input(struct relay *r, const struct udp_path *path,
    const struct iovec *msg, const struct msg_info *m)
{
	const struct conf_relay *cr = conf_relay_named(r->conf, path->us->section);
	struct spi_key *e = NULL;
	struct session *s;
	struct probe p;

	if (cr == NULL || cr->backend != CONF_BACKEND_INTEGRATED) {
		r->stats.udp_nosession++;
		return;
	}
	if (m->kind == MSG_ESP)
		e = key_find(r, true, m->esp_spi, 0);
	else if (m->spi_r != 0)
		e = key_find(r, false, m->spi_i, m->spi_r);
	else
		e = key_find(r, false, m->spi_i, init_tag(&path->peer));
	s = e != NULL ? e->s : NULL;
	if (s != NULL && (s->state == SESSION_DEAD ||
	    strcmp(s->section, cr->name) != 0))
		s = NULL;
	if (s == NULL) {
		if (m->kind != MSG_IKE || !natt_is_init_request(m)) {
			r->stats.udp_nosession++;
			return;
		}
		if ((s = udp_session_new(r, cr, path, m)) == NULL)
			return;
	}
	if (s->owner == NULL && s->on_udp && udp_path_same(s->udp, path)) {
		/* Local address and port as this datagram has them. */
		*s->udp = *path;
		session_note(s, m, true);
		s->up_msgs++;
		s->up_bytes += msg->iov_len;
		s->ops->input(s, NULL, msg, m, 1);
		return;
	}
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.udp = path;
	s->ops->input(s, &p, msg, m, 1);
}

const struct udp_up session_udp_up = {
	.input = udp_input,
};

struct session *
session_find(struct relay *r, unsigned long long id)
{
	for (struct session *s = r->sessions; s != NULL; s = s->anext)
		if (s->id == id && s->state != SESSION_DEAD)
			return s;
	return NULL;
}

const char *
session_state_name(enum session_state state)
{
	switch (state) {
	case SESSION_LIVE:
		return "live";
	case SESSION_LINGER:
		return "lingering";
	case SESSION_DEAD:
		return "ending";
	}
	return "?";
}

/* ---- the layer ---- */

int
session_layer_init(struct relay *r)
{
	r->up = &session_stream_up;
	r->udp_up = &session_udp_up;
	r->spi_mask = SPI_BUCKETS_MIN - 1;
	if ((r->spis = calloc(SPI_BUCKETS_MIN, sizeof(*r->spis))) == NULL) {
		log_warn("SPI table");
		return -1;
	}
	r->lingering = NULL;
	r->lingering_tail = &r->lingering;
	return srctab_init(&r->sources);
}

void
session_layer_cleanup(struct relay *r)
{
	free(r->spis);
	r->spis = NULL;
	srctab_cleanup(&r->sources);
}
