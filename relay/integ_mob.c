/*
 * relay/integ_mob.c: MOBIKE (RFC 4555) across transports for the
 * integrated backend (integ_int.h; relay/README, "MOBIKE").  A client
 * that agreed to MOBIKE moves its IKE SA and Child SAs by
 * UPDATE_SA_ADDRESSES; ESP always goes where the SA's IKE goes (RFC 9329
 * §7.1).  Before the SA moves to a UDP address not yet known to reach
 * the client, that address must answer a return routability check: an
 * INFORMATIONAL request of ours carrying a fresh COOKIE2, sent there and
 * nowhere else (RFC 4555 §3.7, done by default before the IPsec SAs are
 * updated).  A stream needs none: its TCP handshake proved
 * that the client receives at its address, and the session layer moves
 * a session to a stream only once it proved the SA's keys.
 *
 * What a client holding the keys can do with a forged source address
 * (the attack the check exists for, RFC 4555 §5: aiming the SA's
 * traffic at a third party): each request it sends from there draws one
 * response
 * there (RFC 7296 §2.11, about the request's own size), and an
 * UPDATE_SA_ADDRESSES draws the check, retransmitted on RFC 7296's
 * schedule until answered; one check at a time per SA (our window is 1),
 * a newer update redirecting the one outstanding, and at most one new
 * check a second (INTEG_MOB_GAP_MS).  Unanswered, the SA stays where it
 * was, and the check, like any request of ours, ends the SA at
 * dpd-timeout.  No ESP goes to an address until it answered.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "relay/integ_int.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/session.h"

#define mob_log(is, ...) session_log((is)->s, __VA_ARGS__)

static void gap_cb(EV_P_ ev_timer *w, int revents);

void
integ_mob_init(struct integ_sess *is, const struct sockaddr_storage *udp_peer)
{
	struct integ_mob *mb = &is->mob;

	memset(mb, 0, sizeof(*mb));
	ev_timer_init(&mb->gap, gap_cb, 0., 0.);
	mb->last = -1e9;
	if (udp_peer != NULL) {
		mb->ok[0] = *udp_peer;
		mb->nok = 1;
		mb->ok_next = 1;
	}
}

void
integ_mob_cleanup(struct integ_sess *is)
{
	ev_timer_stop(is->s->r->loop, &is->mob.gap);
	is->mob.want = false;
}

static bool
is_verified(const struct integ_mob *mb, const struct sockaddr_storage *a)
{
	for (unsigned i = 0; i < mb->nok; i++)
		if (sockaddr_same_ip(&mb->ok[i], a))
			return true;
	return false;
}

static void
verified_add(struct integ_mob *mb, const struct sockaddr_storage *a)
{
	if (is_verified(mb, a))
		return;
	mb->ok[mb->ok_next++ % INTEG_MOB_ADDRS] = *a;
	if (mb->nok < INTEG_MOB_ADDRS)
		mb->nok++;
}

/*
 * An address is verified when the client showed that it receives there:
 * the address its IKE_SA_INIT came from over UDP (its IKE_AUTH is keyed
 * from our answer sent there), or one that answered a check.  By IP
 * address, not port: a NAT that rebinds the client's port keeps the
 * address, and the client's own packets from there are authentic.  A
 * host sharing the client's public address (one NAT) is trusted like
 * the client here, as for the ESP re-attach (relay/README).  A stream's
 * peer address is not counted: behind an HTTP proxy it is the proxy's.
 */
bool
integ_mob_withhold(const struct integ_sess *is, const struct probe *pr,
    bool mobike)
{
	/*
	 * RFC 7296 §2.23: the responder follows the address of an
	 * authenticated new message ("dynamic update") when the host does
	 * "not support other methods of recovery such as [...] MOBIKE";
	 * with MOBIKE agreed it follows to verified addresses only.
	 */
	return mobike && pr != NULL && pr->udp != NULL &&
	    !is_verified(&is->mob, &pr->udp->peer);
}

void
integ_mob_moved(struct integ_sess *is)
{
	struct integ_mob *mb = &is->mob;

	mb->want = false;
	mb->live = false;
	mb->to_set = false;
}

void
integ_mob_update(struct integ_sess *is, const struct probe *pr,
    bool withheld)
{
	struct integ_mob *mb = &is->mob;
	char a[160];

	if (!withheld) {
		/* RFC 4555 §3.5: the latest update wins; its path is the
		 * session's already. */
		integ_mob_moved(is);
		mob_log(is, LOG_LEVEL_INFO, "MOBIKE: UPDATE_SA_ADDRESSES "
		    "accepted on the session's path");
		return;
	}
	udp_path_text(pr->udp, a, sizeof(a));
	if (mb->out && mb->live && udp_path_same(&mb->to, pr->udp)) {
		mb->want = false;
		return;
	}
	if (mb->out) {
		/*
		 * A newer update names another path: the check outstanding
		 * can only complete (window 1), its answer proving nothing
		 * any more; it is retransmitted to the path the client now
		 * names, and the new check follows its answer.
		 */
		mb->live = false;
		mb->to = *pr->udp;
		mb->to_set = true;
	}
	mb->want = true;
	mb->next = *pr->udp;
	mob_log(is, LOG_LEVEL_INFO, "MOBIKE: UPDATE_SA_ADDRESSES from %s, "
	    "an address not verified: the SA stays on its path until a "
	    "return routability check is answered there", a);
}

bool
integ_mob_send(struct integ_sess *is, const struct ike_out *out)
{
	struct integ_mob *mb = &is->mob;

	if (!out->rr || !mb->out || !mb->to_set)
		return false;
	integ_send_path(is, &mb->to, out);
	return true;
}

void
integ_mob_answered(struct integ_sess *is, bool ok, const char *why)
{
	struct integ_mob *mb = &is->mob;
	struct relay *r = is->s->r;
	char a[160];

	if (!mb->out)
		return;
	mb->out = false;
	udp_path_text(&mb->to, a, sizeof(a));
	if (!ok) {
		r->stats.mob_checks_failed++;
		mob_log(is, LOG_LEVEL_INFO, "MOBIKE: return routability check "
		    "of %s failed (%s): the SA stays on its path", a, why);
	} else if (!mb->live) {
		mob_log(is, LOG_LEVEL_DEBUG, "%s: return routability check "
		    "answered, but a later move overtook it", __func__);
	} else {
		r->stats.mob_checks_ok++;
		verified_add(mb, &mb->to.peer);
		session_move_udp(is->s, &mb->to, "return routability check "
		    "answered with its COOKIE2");
	}
	mb->live = false;
	mb->to_set = false;
}

/* The gap between two checks has passed. */
static void
gap_cb(EV_P_ ev_timer *w, int revents)
{
	struct integ_sess *is = container_of(w, struct integ_sess, mob.gap);

	integ_mob_kick(is);
	integ_req_arm(is);
}

void
integ_mob_kick(struct integ_sess *is)
{
	struct integ_mob *mb = &is->mob;
	struct relay *r = is->s->r;
	struct ike_out out;
	ev_tstamp now = ev_now(r->loop);
	char a[160];

	if (is->ike == NULL || is->dead) {
		mb->out = mb->want = false;
		return;
	}
	/* An IKE SA rekey gives up our outstanding request: try again. */
	if (mb->out && !ike_sa_rr_outstanding(is->ike)) {
		mb->out = false;
		if (mb->live && !mb->want) {
			mb->want = true;
			mb->next = mb->to;
		}
		mb->live = mb->to_set = false;
	}
	if (!mb->want || mb->out || ev_is_active(&mb->gap))
		return;
	if (!ike_sa_mobike(is->ike) ||
	    ike_sa_state(is->ike) != IKE_SA_ESTABLISHED) {
		mb->want = false;
		return;
	}
	/* Window 1: after the request of ours that is out. */
	if (!ike_sa_req_idle(is->ike))
		return;
	if (now - mb->last < INTEG_MOB_GAP_MS / 1000.) {
		ev_timer_set(&mb->gap, mb->last + INTEG_MOB_GAP_MS / 1000. -
		    now, 0.);
		ev_timer_start(r->loop, &mb->gap);
		return;
	}
	mb->want = false;
	if (ike_sa_rr_check(is->ike, integ_now_ms(), &out) != 0) {
		mob_log(is, LOG_LEVEL_INFO, "MOBIKE: %s", out.reason);
		return;
	}
	mb->out = mb->live = mb->to_set = true;
	mb->to = mb->next;
	mb->last = now;
	r->stats.mob_checks++;
	integ_send_path(is, &mb->to, &out);
	mob_log(is, LOG_LEVEL_INFO, "MOBIKE: return routability check "
	    "(COOKIE2) sent to %s", udp_path_text(&mb->to, a, sizeof(a)));
}

const struct udp_path *
integ_mob_checking(const struct integ_sess *is)
{
	return is->mob.out && is->mob.live ? &is->mob.to : NULL;
}
