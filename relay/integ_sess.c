/*
 * relay/integ_sess.c: a session of the integrated backend and its IKE SA
 * (integ_int.h).  IKE messages from the session's streams go to ike/,
 * whose responses are framed back with the Non-ESP marker; the events it
 * reports install and remove Child SAs (ESP pairs in integ_tun.c, virtual
 * IPs in vip.c); one timer per session drives the requests we initiate
 * (liveness checks, rekeys, Delete at the hard lifetimes and on
 * shutdown).  ESP from the owner stream goes on to integ_tun.c.  The
 * section counts its half-open IKE SAs here for the COOKIE threshold.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp/sa.h"
#include "framing/wire.h"
#include "ike/id.h"
#include "ike/sa.h"
#include "relay/integ_int.h"
#include "relay/integrated.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/session.h"
#include "relay/stream.h"
#include "relay/udpfront.h"

static void
endpoint_of(const struct sockaddr_storage *ss, struct ike_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		e->family = 6;
		memcpy(e->addr, &s6->sin6_addr, 16);
		e->port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		e->family = 4;
		memcpy(e->addr, &s4->sin_addr, 4);
		e->port = ntohs(s4->sin_port);
	}
}

static void req_timer_cb(EV_P_ ev_timer *w, int revents);
static void init_timer_cb(EV_P_ ev_timer *w, int revents);
static void retired_timer_cb(EV_P_ ev_timer *w, int revents);

/* A new session for @st's integrated section, or with @st NULL for a
 * datagram on s->udp (session_backend.open). */
static int
be_open(struct session *s, struct stream *st, const struct msg_info *m)
{
	struct relay *r = s->r;
	struct integ_sec *sec;
	struct integ_sess *is;
	struct sockaddr_storage l, rm;

	if (m->kind != MSG_IKE) {
		session_log(s, LOG_LEVEL_INFO, "a new integrated session "
		    "must start with IKE");
		return -1;
	}
	for (sec = r->integs; sec != NULL; sec = sec->next)
		if (strcmp(sec->name, s->section) == 0)
			break;
	if (sec == NULL) {
		log_warnx("integrated %s: not opened at start (sections are "
		    "read at start only)", s->section);
		return -1;
	}
	if ((is = calloc(1, sizeof(*is))) == NULL) {
		log_warn("integrated session");
		return -1;
	}
	is->s = s;
	is->sec = sec;
	if (st != NULL) {
		l = st->laddr;
		rm = st->peer;
	} else
		session_addrs(s, NULL, &l, &rm);
	endpoint_of(&l, &is->local);
	endpoint_of(&rm, &is->remote);
	integ_mob_init(is, st == NULL ? &rm : NULL);
	ev_timer_init(&is->req_timer, req_timer_cb, 0., 0.);
	ev_timer_init(&is->init_timer, init_timer_cb, 0., 0.);
	ev_timer_init(&is->retired_timer, retired_timer_cb, 0., 0.);
	if (st == NULL) {
		/* A UDP client holds no stream whose deadlines would end a
		 * half-open SA: it has handshake-timeout to authenticate. */
		ev_timer_set(&is->init_timer, sec->udp_init_ms / 1000., 0.);
		ev_timer_start(r->loop, &is->init_timer);
	}
	if ((is->snext = sec->sessions) != NULL)
		is->snext->sprev = &is->snext;
	is->sprev = &sec->sessions;
	sec->sessions = is;
	s->be = is;
	return 0;
}

#define sess_log(is, ...) session_log((is)->s, __VA_ARGS__)

_Static_assert((int)RELAY_AUTH_KINDS == (int)IKE_SA_AUTH_N,
    "relay_stats counts IKE_AUTH by enum ike_sa_auth");

/*
 * RFC 7296 §2.6: a half-open IKE SA is one whose IKE_SA_INIT we answered
 * and whose IKE_AUTH has not succeeded yet.  The section counts them so
 * that, at cookie-threshold or more, a new IKE_SA_INIT gets a COOKIE
 * before we keep any state for it.
 */
static void
half_open_sync(struct integ_sess *is)
{
	struct integ_sec *sec = is->sec;
	bool now = is->ike != NULL && ike_sa_state(is->ike) ==
	    IKE_SA_INIT_DONE;

	if (now == is->half_open)
		return;
	is->half_open = now;
	if (now)
		sec->half_open++;
	else
		sec->half_open--;
	log_debug("%s: integrated %s: session %llu: %u half-open IKE SAs "
	    "(cookie threshold %u)", __func__, sec->name, is->s->id,
	    sec->half_open, sec->cookie_threshold);
}

/* The virtual IPs' routes go: no Child SA is left to carry them. */
static void
vips_unlink(struct integ_sess *is)
{
	vip_unlink(&is->sec->vips, &is->vip4);
	vip_unlink(&is->sec->vips, &is->vip6);
}

/* Every ESP pair, retired ones too, and the virtual IP's route: the
 * session is ending. */
static void
children_down(struct integ_sess *is)
{
	vips_unlink(is);
	ev_timer_stop(is->s->r->loop, &is->retired_timer);
	(void)integ_tun_retired_expire(is, UINT64_MAX);
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		integ_tun_pair_free(&is->ch[k]);
}

/* The timer frees each retired inbound SA when its time is up. */
static void
retired_arm(struct integ_sess *is)
{
	struct ev_loop *loop = is->s->r->loop;
	uint64_t now = integ_now_ms(), at;

	ev_timer_stop(loop, &is->retired_timer);
	if ((at = integ_tun_retired_expire(is, now)) == UINT64_MAX)
		return;
	ev_timer_set(&is->retired_timer, (double)(at - now) / 1000., 0.);
	ev_timer_start(loop, &is->retired_timer);
}

static void
retired_timer_cb(EV_P_ ev_timer *w, int revents)
{
	retired_arm(container_of(w, struct integ_sess, retired_timer));
}

/*
 * One Child SA deleted.  Its successor (a rekey) now carries the outbound
 * traffic, and its inbound SA is retired a moment (integ_tun_child_gone);
 * the route stays while any Child SA is left.
 */
static void
child_down(struct integ_sess *is, uint32_t spi_in)
{
	size_t k, left = 0;

	if (!integ_tun_child_gone(is, spi_in, integ_now_ms()))
		return;
	retired_arm(is);
	for (k = 0; k < IKE_SA_CHILD_MAX; k++)
		if (is->ch[k].in != NULL)
			left++;
	if (left == 0)
		vips_unlink(is);
}

/* The session ends (session_backend.close). */
static void
be_close(struct session *s)
{
	struct integ_sess *is = s->be;

	ev_timer_stop(s->r->loop, &is->req_timer);
	ev_timer_stop(s->r->loop, &is->init_timer);
	integ_mob_cleanup(is);
	if ((*is->sprev = is->snext) != NULL)
		is->snext->sprev = is->sprev;
	children_down(is);
	ike_sa_free(is->ike);
	is->ike = NULL;
	half_open_sync(is);
	free(is);
	s->be = NULL;
}

/*
 * Links @is under (@family, @addr) unless a session has it already: the
 * first to bring up a Child SA for an address keeps its route.
 */
static void
vip_claim(struct integ_sess *is, struct vip_entry *e, uint8_t family,
    const uint8_t addr[static VIP_ADDR_LEN])
{
	if (vip_lookup(&is->sec->vips, family, addr) == NULL)
		vip_link(&is->sec->vips, e, family, addr);
}

/* A Child SA is up: its ESP pair, and on the first one the routes. */
static void
child_up(struct integ_sess *is, const struct ike_child *ch)
{
	struct integ_child *old;
	char t[INET_ADDRSTRLEN], t6[INET6_ADDRSTRLEN];
	uint8_t a[4], key[VIP_ADDR_LEN];

	if (integ_tun_pair_add(is, ch) == NULL)
		return;
	session_key_esp(is->s, ch->spi_in);
	old = ch->replaces != 0 ? integ_tun_pair_find(is, ch->replaces) :
	    NULL;
	if (old != NULL) {
		sess_log(is, LOG_LEVEL_INFO, "CHILD_SA rekeyed, spi in "
		    "%08x -> %08x, out %08x -> %08x", old->in->spi,
		    ch->spi_in, old->out->spi, ch->spi_out);
		return;
	}
	if (ch->vip != 0) {
		store_be32(a, ch->vip);
		vip_map4(a, key);
		vip_claim(is, &is->vip4, 4, key);
	} else if (ch->tsi.type == IKE_TS_IPV4_ADDR_RANGE &&
	    ch->tsi.start[0] != 0 &&
	    memcmp(ch->tsi.start, ch->tsi.end, 4) == 0) {
		/* No pool address: the initiator's single-address TSi. */
		vip_map4(ch->tsi.start, key);
		vip_claim(is, &is->vip4, 4, key);
	}
	if (ch->has6)
		vip_claim(is, &is->vip6, 6, ch->vip6);
	memset(a, 0, sizeof(a));
	if (vip_is_linked(&is->vip4))
		memcpy(a, is->vip4.addr + 12, 4);
	log_info("integrated %s: session %llu: CHILD_SA up, spi in %08x out "
	    "%08x, virtual IP %s%s%s", is->sec->name, is->s->id, ch->spi_in,
	    ch->spi_out, inet_ntop(AF_INET, a, t, sizeof(t)),
	    vip_is_linked(&is->vip6) ? " and " : "",
	    vip_is_linked(&is->vip6) ? inet_ntop(AF_INET6, is->vip6.addr, t6,
	    sizeof(t6)) : "");
}

/* The session ends after its last response had a moment to leave. */
static void
integ_end(struct integ_sess *is)
{
	struct session *s = is->s;

	is->dead = true;
	ev_timer_stop(s->r->loop, &is->req_timer);
	ev_timer_stop(s->r->loop, &is->init_timer);
	integ_mob_cleanup(is);
	children_down(is);
	session_end(s, 0.5);
}

/*
 * RFC 7296 §2.18: the session now answers to the new IKE SPIs too; the
 * SPI table learns the new initiator SPI at once, so that a stream
 * re-attaching with it (RFC 9329 §6) finds the session.
 */
static void
ike_rekeyed(struct integ_sess *is, const struct ike_event *ev)
{
	uint64_t spi_i = ike_sa_spi_i(is->ike), spi_r = ike_sa_spi_r(is->ike);

	session_key_ike(is->s, spi_i, spi_r);
	sess_log(is, LOG_LEVEL_INFO, "IKE_SA rekeyed, %016llx_%016llx -> "
	    "%016llx_%016llx", (unsigned long long)ev->spi_i,
	    (unsigned long long)ev->spi_r, (unsigned long long)spi_i,
	    (unsigned long long)spi_r);
}

static const char *peer_text(const struct ike_sa *sa,
	    char out[static IKE_ID_LOG_MAX]);

/*
 * What the IKE SA reported: install or remove Child SAs, follow MOBIKE,
 * log the rest.  @pr: the probe the message came from (NULL: the owner,
 * or no message), @withheld: integ_mob_withhold() kept the session off
 * its path.
 */
static void
ike_events(struct integ_sess *is, const struct probe *pr, bool withheld,
    const struct ike_out *out)
{
	char idt[IKE_ID_LOG_MAX];

	for (size_t i = 0; i < out->nev; i++) {
		switch (out->ev[i].type) {
		case IKE_EV_IKE_UP:
			ev_timer_stop(is->s->r->loop, &is->init_timer);
			is->s->r->stats.ike_up++;
			is->s->r->stats.auth_ok[ike_sa_peer_auth(is->ike)]++;
			sess_log(is, LOG_LEVEL_INFO, "IKE_SA %016llx_%016llx "
			    "established, %s authenticated%s%s%s",
			    (unsigned long long)ike_sa_spi_i(is->ike),
			    (unsigned long long)ike_sa_spi_r(is->ike),
			    peer_text(is->ike, idt),
			    ike_sa_eap_identity(is->ike)[0] == '\0' ? "" :
			    is->sec->rad != NULL ? " by EAP through RADIUS "
			    "as \"" : " by EAP-MSCHAPv2 as \"",
			    ike_sa_eap_identity(is->ike),
			    ike_sa_eap_identity(is->ike)[0] != '\0' ? "\"" :
			    "");
			break;
		case IKE_EV_CHILD_UP:
			is->s->r->stats.child_up++;
			child_up(is, out->ev[i].child);
			break;
		case IKE_EV_CHILD_DOWN:
			sess_log(is, LOG_LEVEL_INFO, "CHILD_SA deleted, spi "
			    "in %08x", out->ev[i].child->spi_in);
			child_down(is, out->ev[i].child->spi_in);
			break;
		case IKE_EV_IKE_DOWN:
			sess_log(is, LOG_LEVEL_INFO, "IKE_SA deleted");
			break;
		case IKE_EV_IKE_REKEYED:
			ike_rekeyed(is, &out->ev[i]);
			break;
		case IKE_EV_ADDRESSES:
			/*
			 * RFC 4555 §3.5: the initiator names the path the
			 * request came on.  Proven there (a stream, a
			 * verified address), the session moved already;
			 * else a return routability check comes first.
			 */
			integ_mob_update(is, pr, withheld);
			break;
		case IKE_EV_RR_OK:
		case IKE_EV_RR_FAILED:
			integ_mob_answered(is, out->ev[i].type ==
			    IKE_EV_RR_OK, out->reason);
			break;
		}
	}
}

/*
 * @out's message in the port-4500 form (behind the Non-ESP marker, RFC
 * 9329 §3) in the section's ike_buf, as @iov[0 .. return): over UDP
 * (@udp) its RFC 7383 fragments when it has them, one datagram each, so
 * that no IP fragment is needed (§2.5.1; many mobile networks drop
 * them); else the whole message.  Never fragments over a stream: RFC
 * 9329 §7, on IKE fragmentation (so RFC 8229 before it), leaves it to UDP,
 * TCP carrying a message of any length whole.  0: nothing to send.
 */
static size_t
ike_wire(struct integ_sess *is, const struct ike_out *out, bool udp,
    struct iovec iov[static IKE_FRAG_MAX], bool ike[static IKE_FRAG_MAX])
{
	uint8_t *buf = is->sec->ike_buf;
	const uint8_t *p;
	size_t off = 0, at = 0, n = 0, len;

	if (out->len == 0 || out->len > IKE_SA_MSG_MAX)
		return 0;
	if (!udp || out->frags.n == 0) {
		memset(buf, 0, INTEG_MARKER);
		memcpy(buf + INTEG_MARKER, out->msg, out->len);
		iov[0].iov_base = buf;
		iov[0].iov_len = INTEG_MARKER + out->len;
		ike[0] = true;
		return 1;
	}
	while (n < IKE_FRAG_MAX && ike_frags_next(&out->frags, &off, &p,
	    &len)) {
		memset(buf + at, 0, INTEG_MARKER);
		memcpy(buf + at + INTEG_MARKER, p, len);
		iov[n].iov_base = buf + at;
		iov[n].iov_len = INTEG_MARKER + len;
		ike[n++] = true;
		at += INTEG_MARKER + len;
	}
	is->s->r->stats.udp_ike_frag_msgs++;
	is->s->r->stats.udp_ike_frags += n;
	sess_log(is, LOG_LEVEL_DEBUG, "%s: IKE message of %zu octets as %zu "
	    "fragments (RFC 7383)", __func__, out->len, n);
	return n;
}

/* @out's message to the session's client: its owner stream, or its UDP
 * path. */
static void
ike_send(struct integ_sess *is, const struct ike_out *out)
{
	struct iovec iov[IKE_FRAG_MAX];
	bool ike[IKE_FRAG_MAX];
	size_t n;

	if (!session_has_client(is->s))
		return;
	n = ike_wire(is, out, is->s->owner == NULL, iov, ike);
	session_deliver(is->s, iov, ike, n);
}

/*
 * A request of ours (ike/README, "Requests we initiate") to the session's
 * stream.  RFC 9329 §7.2: no retransmission over the same TCP stream --
 * a resend goes out only on a stream that has not carried it (the client
 * re-attached); with no stream attached nothing goes out (§6: only the
 * client reconnects).
 */
static void
req_send(struct integ_sess *is, const struct ike_out *out)
{
	struct stream *st = is->s->owner;

	if (out->len == 0 || out->len > IKE_SA_MSG_MAX ||
	    integ_mob_send(is, out))
		return;
	if (st == NULL) {
		/* RFC 7296 §2.1: over UDP, we retransmit until answered. */
		if (is->s->on_udp)
			ike_send(is, out);
		return;
	}
	if (out->resend && is->req_stream == st->id)
		return;
	is->req_stream = st->id;
	ike_send(is, out);
}

void
integ_req_arm(struct integ_sess *is)
{
	struct ev_loop *loop = is->s->r->loop;
	uint64_t at, now;

	ev_timer_stop(loop, &is->req_timer);
	if (is->ike == NULL || is->dead ||
	    (at = ike_sa_next_ms(is->ike)) == UINT64_MAX)
		return;
	now = integ_now_ms();
	ev_timer_set(&is->req_timer, at > now ? (double)(at - now) / 1000. :
	    0., 0.);
	ev_timer_start(loop, &is->req_timer);
}

/* After a tick or a shutdown Delete: send, log, end a dead session. */
static void
req_done(struct integ_sess *is, const struct ike_out *out)
{
	if (!out->resend && out->len > 0)
		is->req_stream = 0;	/* a new request: on no stream yet */
	req_send(is, out);
	if (out->reason[0] != '\0')
		sess_log(is, LOG_LEVEL_INFO, "IKE: %s", out->reason);
	ike_events(is, NULL, false, out);
	if (ike_sa_state(is->ike) == IKE_SA_DEAD) {
		if (!is->dead)
			integ_end(is);
		return;
	}
	integ_mob_kick(is);
	integ_req_arm(is);
}

/* Timer -> ike_sa_tick(): a liveness check, a Delete, a rekey, or a dead
 * peer. */
static void
req_timer_cb(EV_P_ ev_timer *w, int revents)
{
	struct integ_sess *is = container_of(w, struct integ_sess, req_timer);
	enum ike_sa_state before;
	struct ike_out out;

	if (is->ike == NULL || is->dead)
		return;
	before = ike_sa_state(is->ike);
	ike_sa_tick(is->ike, integ_now_ms(), &out);
	/* An EAP conversation that did not finish in time. */
	if (before == IKE_SA_INIT_DONE &&
	    ike_sa_state(is->ike) == IKE_SA_DEAD)
		is->s->r->stats.auth_failed[ike_sa_peer_auth(is->ike)]++;
	req_done(is, &out);
}

/* A UDP client's IKE SA was not up within handshake-timeout. */
static void
init_timer_cb(EV_P_ ev_timer *w, int revents)
{
	struct integ_sess *is = container_of(w, struct integ_sess, init_timer);

	if (is->dead)
		return;
	is->s->r->stats.udp_init_expired++;
	sess_log(is, LOG_LEVEL_DEBUG, "%s: IKE SA not up within "
	    "handshake-timeout", __func__);
	integ_end(is);
}

int
integ_shutdown(struct relay *r)
{
	struct integ_sec *sec;
	struct integ_sess *is;
	struct ike_out out;
	int n = 0;

	for (sec = r->integs; sec != NULL; sec = sec->next)
		for (is = sec->sessions; is != NULL; is = is->snext) {
			if (is->ike == NULL || is->dead ||
			    !session_has_client(is->s) ||
			    ike_sa_delete(is->ike, integ_now_ms(), &out) == -1)
				continue;
			req_done(is, &out);
			n++;
		}
	return n;
}

int
integ_terminate(struct session *s)
{
	struct integ_sess *is = s->be;
	struct ike_out out;

	if (s->ops != &integ_backend || is == NULL || is->ike == NULL ||
	    is->dead || !session_has_client(s) ||
	    ike_sa_delete(is->ike, integ_now_ms(), &out) == -1)
		return -1;
	sess_log(is, LOG_LEVEL_INFO, "IKE: Delete of the IKE SA requested "
	    "by the control socket");
	req_done(is, &out);
	return 0;
}

/* An algorithm's name as swanctl.conf(5) spells it, else its number. */
static const char *
alg_name(const char *const *names, size_t n, unsigned id, char *buf,
    size_t cap)
{
	if (id < n && names[id] != NULL)
		return names[id];
	snprintf(buf, cap, "%u", id);
	return buf;
}

/* @su as a proposal string, such as aes256gcm16-prfsha384-x25519. */
static void
suite_text(const struct ike_suite *su, bool ike, char *out, size_t cap)
{
	static const char *const encr[] = {
		[IKE_ENCR_3DES] = "3des", [IKE_ENCR_NULL] = "null",
		[IKE_ENCR_AES_CBC] = "aes", [IKE_ENCR_AES_CTR] = "aesctr",
		[IKE_ENCR_AES_GCM_16] = "aesgcm16",
		[IKE_ENCR_CHACHA20_POLY1305] = "chacha20poly1305",
	};
	static const char *const integ[] = {
		[IKE_INTEG_HMAC_SHA1_96] = "sha1",
		[IKE_INTEG_AES_XCBC_96] = "aesxcbc",
		[IKE_INTEG_HMAC_SHA2_256_128] = "sha256",
		[IKE_INTEG_HMAC_SHA2_384_192] = "sha384",
		[IKE_INTEG_HMAC_SHA2_512_256] = "sha512",
	};
	static const char *const prf[] = {
		[IKE_PRF_HMAC_SHA1] = "prfsha1",
		[IKE_PRF_HMAC_SHA2_256] = "prfsha256",
		[IKE_PRF_HMAC_SHA2_384] = "prfsha384",
		[IKE_PRF_HMAC_SHA2_512] = "prfsha512",
	};
	static const char *const dh[] = {
		[IKE_DH_MODP2048] = "modp2048", [15] = "modp3072",
		[16] = "modp4096", [19] = "ecp256", [20] = "ecp384",
		[21] = "ecp521", [31] = "x25519", [32] = "x448",
	};
	char b[4][16], e[32];
	const char *en;

	en = alg_name(encr, sizeof(encr) / sizeof(encr[0]), su->encr, b[0],
	    sizeof(b[0]));
	if (su->encr_bits != 0 && strncmp(en, "aes", 3) == 0)
		snprintf(e, sizeof(e), "aes%u%s", su->encr_bits, en + 3);
	else
		snprintf(e, sizeof(e), "%s", en);
	snprintf(out, cap, "%s%s%s%s%s%s%s", e,
	    su->integ != IKE_INTEG_NONE ? "-" : "",
	    su->integ != IKE_INTEG_NONE ? alg_name(integ, sizeof(integ) /
	    sizeof(integ[0]), su->integ, b[1], sizeof(b[1])) : "",
	    ike ? "-" : "", ike ? alg_name(prf, sizeof(prf) / sizeof(prf[0]),
	    su->prf, b[2], sizeof(b[2])) : "",
	    ike || su->dh != IKE_DH_NONE ? "-" : "",
	    ike || su->dh != IKE_DH_NONE ? alg_name(dh, sizeof(dh) /
	    sizeof(dh[0]), su->dh, b[3], sizeof(b[3])) : "");
}

int
integ_describe(const struct session *s, struct integ_info *info)
{
	const struct integ_sess *is = s->be;
	const struct integ_child *c, *esp = NULL;
	const struct udp_path *check;
	uint64_t next, now = integ_now_ms();
	char idt[IKE_ID_LOG_MAX];
	uint8_t idtype;
	size_t idlen;

	memset(info, 0, sizeof(*info));
	info->next_s = -1;
	if (s->ops != &integ_backend || is == NULL)
		return -1;
	snprintf(info->section, sizeof(info->section), "%s", is->sec->name);
	if (is->ike == NULL) {
		info->state = "none";
		return 0;
	}
	info->state = ike_sa_state_name(ike_sa_state(is->ike));
	info->spi_i = ike_sa_spi_i(is->ike);
	info->spi_r = ike_sa_spi_r(is->ike);
	(void)ike_sa_peer_id(is->ike, &idtype, &idlen);
	if (idlen > 0)
		snprintf(info->id, sizeof(info->id), "%s",
		    peer_text(is->ike, idt));
	if (ike_sa_state(is->ike) != IKE_SA_IDLE)
		suite_text(ike_sa_suite(is->ike), true, info->ike_alg,
		    sizeof(info->ike_alg));
	if (vip_is_linked(&is->vip4))
		inet_ntop(AF_INET, is->vip4.addr + 12, info->vip4,
		    sizeof(info->vip4));
	if (vip_is_linked(&is->vip6))
		inet_ntop(AF_INET6, is->vip6.addr, info->vip6,
		    sizeof(info->vip6));
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++) {
		c = &is->ch[k];
		if (c->in == NULL)
			continue;
		info->children++;
		info->in_packets += c->in->packets;
		info->in_octets += c->in->octets;
		info->out_packets += c->out->packets;
		info->out_octets += c->out->octets;
		if (esp == NULL || c->gen > esp->gen)
			esp = c;
	}
	if (esp != NULL) {
		info->spi_in = esp->in->spi;
		info->spi_out = esp->out->spi;
		suite_text(&esp->suite, false, info->esp_alg,
		    sizeof(info->esp_alg));
	}
	if ((next = ike_sa_next_ms(is->ike)) != UINT64_MAX)
		info->next_s = next > now ? (long long)((next - now) / 1000) :
		    0;
	info->mobike = ike_sa_mobike(is->ike);
	if ((check = integ_mob_checking(is)) != NULL)
		sockaddr_text(&check->peer, info->mobike_check,
		    sizeof(info->mobike_check));
	return 0;
}

int
integ_deleting(const struct relay *r)
{
	const struct integ_sec *sec;
	const struct integ_sess *is;
	int n = 0;

	for (sec = r->integs; sec != NULL; sec = sec->next)
		for (is = sec->sessions; is != NULL; is = is->snext)
			if (is->ike != NULL && !is->dead &&
			    session_has_client(is->s) &&
			    ike_sa_state(is->ike) == IKE_SA_DELETING)
				n++;
	return n;
}

/* The peer's IKE identity as text, or "an unnamed peer". */
static const char *
peer_text(const struct ike_sa *sa, char out[static IKE_ID_LOG_MAX])
{
	const uint8_t *id;
	uint8_t type;
	size_t len;

	id = ike_sa_peer_id(sa, &type, &len);
	if (len == 0)
		return "an unnamed peer";
	return ike_id_format(type, id, len, out, IKE_ID_LOG_MAX);
}

/* The IKE SA's path is that of probe @pr, or the owner's (@pr NULL):
 * a stream's or a UDP path's addresses; with udp-encap a UDP path's
 * NAT detection tells of a NAT (a stream's tells the truth). */
static void
set_path(struct integ_sess *is, const struct probe *pr)
{
	struct sockaddr_storage la, ra;
	struct ike_endpoint l, rm;
	bool udp = pr != NULL ? pr->udp != NULL : is->s->owner == NULL &&
	    is->s->on_udp;

	session_addrs(is->s, pr, &la, &ra);
	endpoint_of(&la, &l);
	endpoint_of(&ra, &rm);
	ike_sa_set_path(is->ike, &l, &rm, udp && is->sec->udp_encap);
}

/* Probe @pr proved the keys: the session follows it (session_prove()),
 * and a MOBIKE check under way no longer decides. */
static void
prove(struct integ_sess *is, struct probe *pr, const char *how)
{
	session_prove(is->s, pr, how);
	integ_mob_moved(is);
}

/*
 * A retransmitted request over UDP from a path that is not the session's
 * gets the cached response there, as RFC 7296 §2.11 asks (responses go
 * where the request came from); the session stays where it is.  A
 * connector checking whether UDP works again sends such a copy (the
 * man page's transport = fallback).  Anyone can replay a request, so at
 * most one such answer a second per session: a reflection of about the
 * request's own size, at a trickle.
 */
static void
retx_to_path(struct integ_sess *is, const struct udp_path *path,
    const struct ike_out *out)
{
	struct relay *r = is->s->r;

	if (out->len == 0 || out->len > IKE_SA_MSG_MAX ||
	    ev_now(r->loop) - is->retx_other_at < 1.) {
		r->stats.probe_drop++;
		return;
	}
	is->retx_other_at = ev_now(r->loop);
	integ_send_path(is, path, out);
}

void
integ_send_path(struct integ_sess *is, const struct udp_path *path,
    const struct ike_out *out)
{
	struct iovec iov[IKE_FRAG_MAX];
	bool ike[IKE_FRAG_MAX];
	size_t n;

	if ((n = ike_wire(is, out, true, iov, ike)) > 0)
		udpfront_send(path, iov, ike, n);
}

/*
 * One IKE message from the owner stream, or from probe @pr (a stream that
 * named this session and must prove it holds the IKE SA's keys): a new
 * request that ike/ authenticated and answered proves it (RFC 9329 §10);
 * a retransmission does not (anyone can replay one), and nothing is sent
 * to an unproven stream.  With MOBIKE, a UDP path whose address is not
 * verified gets the answer to its request (RFC 7296 §2.11) but not the
 * session (integ_mob.c).
 */
static void
ike_input(struct integ_sess *is, struct probe *pr, const struct msg_info *m,
    const uint8_t *p, size_t n)
{
	struct session *s = is->s;
	struct relay *r = s->r;
	struct ike_out out;
	enum ike_sa_result res;
	enum ike_sa_state before;
	char idt[IKE_ID_LOG_MAX];
	uint8_t idtype;
	size_t idlen;
	struct ike_out held;
	bool mobike, withheld = false;

	/* classify_msg() checked the marker and the IKE header. */
	p += INTEG_MARKER;
	n -= INTEG_MARKER;
	if (is->ike != NULL && !ike_sa_knows_spi_i(is->ike, m->spi_i)) {
		r->stats.ike_drop++;
		session_log_from(s, pr, LOG_LEVEL_DEBUG, "IKE SPI %016llx is not this "
		    "session's", (unsigned long long)m->spi_i);
		return;
	}
	if (is->ike == NULL) {
		if (pr != NULL) {
			r->stats.ike_drop++;
			return;
		}
		/* RFC 7296 §2.6: at the threshold, no state without one. */
		is->ike = ike_sa_new(&is->sec->conf, &is->local, &is->remote,
		    (is->sec->half_open >= is->sec->cookie_threshold ?
		    IKE_SA_F_COOKIE : 0) | (s->owner == NULL && s->on_udp &&
		    is->sec->udp_encap ? IKE_SA_F_FAKE_NAT : 0));
		if (is->ike == NULL) {
			log_warnx("IKE SA: out of memory");
			return;
		}
		ike_sa_set_eap_owner(is->ike, is);
	}
	/* The addresses are those of the stream it came on (a MOBIKE
	 * answer's NAT detection needs them); an unproven probe's are
	 * undone below. */
	set_path(is, pr);
	before = ike_sa_state(is->ike);
	/* As agreed before this message (IKE_AUTH agrees to it). */
	mobike = ike_sa_mobike(is->ike) && (before == IKE_SA_ESTABLISHED ||
	    before == IKE_SA_DELETING);
	res = ike_sa_handle(is->ike, p, n, integ_now_ms(), &out);
	/*
	 * A reason is a dropped or refused request (a wrong PSK answered
	 * with AUTHENTICATION_FAILED, a Child SA refused): an operator
	 * must see it at the default level, with the peer's identity
	 * (session_log_from() adds its address).
	 */
	if (out.reason[0] != '\0' && before == IKE_SA_IDLE &&
	    ike_sa_state(is->ike) == IKE_SA_IDLE)
		/*
		 * A COOKIE or INVALID_KE_PAYLOAD answer: a normal step of
		 * IKE_SA_INIT, and under a flood of them (when cookies are
		 * in use) one info line each would flood the log too.
		 */
		session_log_from(s, pr, LOG_LEVEL_DEBUG, "IKE: %s", out.reason);
	else if (out.reason[0] != '\0' && before == IKE_SA_INIT_DONE &&
	    ike_sa_state(is->ike) == IKE_SA_DEAD) {
		r->stats.auth_failed[ike_sa_peer_auth(is->ike)]++;
		session_log_from(s, pr, LOG_LEVEL_INFO, "IKE: authentication of %s "
		    "refused: %s", peer_text(is->ike, idt), out.reason);
	} else if (out.reason[0] != '\0') {
		(void)ike_sa_peer_id(is->ike, &idtype, &idlen);
		session_log_from(s, pr, LOG_LEVEL_INFO, "IKE: %s%s%s", out.reason,
		    idlen > 0 ? ", peer " : "",
		    idlen > 0 ? peer_text(is->ike, idt) : "");
	}
	if (res == IKE_SA_DROPPED)
		r->stats.ike_drop++;
	/* PENDING: new and authentic too, answered later (EAP, RADIUS). */
	if (pr != NULL && (res == IKE_SA_ANSWERED || res == IKE_SA_PENDING))
		withheld = integ_mob_withhold(is, pr, mobike);
	if (pr != NULL && (res == IKE_SA_ANSWERED || res == IKE_SA_PENDING) &&
	    !withheld)
		prove(is, pr, "a new IKE request authenticated");
	else if (pr != NULL) {
		if (session_has_client(s))
			set_path(is, NULL);
		if (withheld) {
			/* Sent below, once its events are acted on.  (An
			 * answer to a request of ours is not counted: a
			 * check's may move the session, below.) */
			if (out.len > 0)
				r->stats.mob_withheld++;
			held = out;
		} else if (res == IKE_SA_RETRANSMIT && pr->udp != NULL)
			retx_to_path(is, pr->udp, &out);
		else if (out.len > 0)
			r->stats.probe_drop++;
		out.len = 0;
	}
	/*
	 * Installs first, then the response: a rekey's initiator may send
	 * on the new Child SA as soon as it has our answer (RFC 7296 §2.8),
	 * so its inbound SA is in place before the answer leaves.
	 */
	ike_events(is, pr, withheld, &out);
	if (withheld) {
		/* A request's answer goes where it came from (RFC 7296
		 * §2.11); the session stays on its path. */
		integ_send_path(is, pr->udp, &held);
	}
	ike_send(is, &out);
	switch (ike_sa_state(is->ike)) {
	case IKE_SA_IDLE:
		/* COOKIE or INVALID_KE_PAYLOAD sent: no state kept. */
		if (res == IKE_SA_ANSWERED && out.cookie)
			is->sec->cookies++;
		ike_sa_free(is->ike);
		is->ike = NULL;
		/* Over UDP not even the session: the client's next
		 * IKE_SA_INIT starts a new one (RFC 7296 §2.6). */
		if (s->owner == NULL && s->on_udp && pr == NULL) {
			is->dead = true;
			ev_timer_stop(r->loop, &is->init_timer);
			session_end(s, 0.);
		}
		break;
	case IKE_SA_DEAD:
		if (!is->dead)
			integ_end(is);
		break;
	default:
		/* The SA's SPI pair names the session from now on (a UDP
		 * client's IKE_AUTH finds it by them). */
		if (ike_sa_spi_r(is->ike) != 0)
			session_key_ike(s, ike_sa_spi_i(is->ike),
			    ike_sa_spi_r(is->ike));
		integ_mob_kick(is);
		integ_req_arm(is);
		break;
	}
	half_open_sync(is);
}

void
integ_eap_ready(struct integ_sess *is, enum ike_eap_result er,
    const struct ike_eap_out *eo)
{
	struct relay *r = is->s->r;
	struct stream *st = is->s->owner;
	struct ike_out out;
	enum ike_sa_result res;
	char idt[IKE_ID_LOG_MAX];

	if (is->ike == NULL || is->dead)
		return;
	res = ike_sa_eap_resume(is->ike, er, eo, integ_now_ms(), &out);
	if (out.reason[0] != '\0' && ike_sa_state(is->ike) == IKE_SA_DEAD) {
		r->stats.auth_failed[ike_sa_peer_auth(is->ike)]++;
		if (st != NULL)
			log_stream(st, LOG_LEVEL_INFO, "IKE: authentication of "
			    "%s refused: %s", peer_text(is->ike, idt),
			    out.reason);
		else
			sess_log(is, LOG_LEVEL_INFO, "IKE: authentication of "
			    "%s refused: %s", peer_text(is->ike, idt),
			    out.reason);
	} else if (out.reason[0] != '\0')
		sess_log(is, LOG_LEVEL_INFO, "IKE: %s", out.reason);
	if (res == IKE_SA_ANSWERED) {
		ike_events(is, NULL, false, &out);
		/* With no stream attached, the client's retransmission
		 * after it re-attaches gets these bytes (§2.1). */
		ike_send(is, &out);
	}
	if (ike_sa_state(is->ike) == IKE_SA_DEAD) {
		if (!is->dead)
			integ_end(is);
	} else
		integ_req_arm(is);
	half_open_sync(is);
}

/* Authentic, new ESP from probe @pr: the session follows it, unless
 * MOBIKE holds it back from an address not verified (integ_mob.c). */
static void
esp_proof(struct integ_sess *is, struct probe *pr)
{
	if (integ_mob_withhold(is, pr, is->ike != NULL &&
	    ike_sa_mobike(is->ike)))
		is->s->r->stats.mob_withheld++;
	else
		prove(is, pr, "ESP that passed its ICV and replay checks");
}

/* Client messages from the owner or probe @pr (session_backend.input). */
static void
be_input(struct session *s, struct probe *pr, const struct iovec *msgs,
    const struct msg_info *mi, size_t n)
{
	struct integ_sess *is = s->be;
	struct stream *st = pr != NULL ? pr->st : s->owner;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = msgs[i].iov_base;
		size_t len = msgs[i].iov_len;

		/* The stream gone (and its probe with it), or the session
		 * ending: the rest is nobody's. */
		if (is->dead || s->r->in_stream_closed)
			break;
		if (mi[i].kind == MSG_IKE)
			ike_input(is, pr, &mi[i], p, len);
		else if (integ_tun_esp_input(is, p, len) && pr != NULL)
			esp_proof(is, pr);
		/* Proven: the probe is gone, the rest is the owner's. */
		if (pr != NULL && s->owner == st)
			pr = NULL;
	}
}

const struct session_backend integ_backend = {
	.name = "integrated",
	.open = be_open,
	.close = be_close,
	.input = be_input,
};
