/*
 * relay/integ_rad.c: the "eap = radius" backend of an [integrated]
 * section (ike/eap.h): the peer's EAP passed through to RADIUS (RFC 3579)
 * by relay/radclient.c, as RFC 7296 §2.16 allows with an AAA server.
 *
 *   -> Request/Identity              ours, at once (the first request
 *                                    must not be pending; the identity
 *                                    names the user to RADIUS)
 *   <- Response/Identity "user"      -> Access-Request (User-Name, EAP)
 *   -> the server's EAP-Request      <- Access-Challenge (EAP, State)
 *   <- the peer's response           -> Access-Request (EAP, State)
 *      ... as many rounds as the method wants (ike/sa.h bounds them)
 *   -> EAP-Success                   <- Access-Accept (MSK from the
 *                                       MS-MPPE keys, Framed-IP-Address)
 *   -> EAP-Failure                   <- Access-Reject, or no answer
 *
 * The server picks the method; we only carry its packets.  Each answer
 * goes to the session with integ_eap_ready(); a conversation freed while
 * its request is out cancels it (no callback after).
 *
 * Bounds: one request in flight per IKE SA (the SA holds every other
 * request while pending), so RADIUS load is bounded by the half-open SAs
 * (cookies, eap-timeout) and, overall, by RADCLIENT_INFLIGHT_MAX per
 * server: past it the peer is refused at once ("RADIUS busy").
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ike/radius.h"
#include "relay/integ_int.h"
#include "relay/log.h"
#include "relay/radclient.h"

enum rad_state {
	R_START,	/* nothing sent yet */
	R_IDENTITY,	/* Request/Identity sent */
	R_RADIUS,	/* the server leads */
	R_DONE
};

struct rad_conv {
	struct integ_sec *sec;
	struct integ_sess *is;		/* the owner: told of answers */
	enum rad_state	 state;
	uint8_t		 id;		/* Identifier of the last packet */
	char		 identity[IKE_EAP_ID_MAX + 1];
	uint8_t		 rstate[RADIUS_ATTR_MAX]; /* the last State */
	size_t		 rstate_len;
	struct radclient_req *rq;	/* in flight, or NULL */
};

static void *
rad_start(void *arg, void *owner)
{
	struct rad_conv *c;

	if (owner == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sec = arg;
	c->is = owner;
	if (RAND_bytes(&c->id, 1) != 1)
		c->id = 0;
	return c;
}

static void
rad_free(void *conv)
{
	struct rad_conv *c = conv;

	if (c == NULL)
		return;
	radclient_cancel(c->rq);
	OPENSSL_clear_free(c, sizeof(*c));
}

static const char *
rad_identity(const void *conv)
{
	return ((const struct rad_conv *)conv)->identity;
}

/* An EAP packet with no Type (Success, Failure) into @out. */
static void
bare(struct ike_eap_out *out, uint8_t code, uint8_t id)
{
	out->pkt[0] = code;
	out->pkt[1] = id;
	out->pkt[2] = 0;
	out->pkt[3] = 4;
	out->len = 4;
}

static enum ike_eap_result
reject(struct rad_conv *c, struct ike_eap_out *out, const char *why)
{
	/* RFC 3748 §4.2: the Identifier of the response it answers. */
	bare(out, IKE_EAP_FAILURE, c->id);
	snprintf(out->reason, sizeof(out->reason), "%s", why);
	c->state = R_DONE;
	return IKE_EAP_REJECT;
}

static void
endpoint_text(const struct ike_endpoint *e, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(e->family == 6 ? AF_INET6 : AF_INET, e->addr, a,
	    sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, cap, e->family == 6 ? "[%s]:%u" : "%s:%u", a, e->port);
}

static void rad_done(void *arg, const struct radclient_answer *a);

/* The peer's EAP packet @in to the server. */
static enum ike_eap_result
relay_out(struct rad_conv *c, const uint8_t *in, size_t len,
    struct ike_eap_out *out)
{
	char called[64], calling[64];
	struct radclient_args a = {
		.eap = in, .eap_len = len, .user = c->identity,
		.state = c->rstate_len > 0 ? c->rstate : NULL,
		.state_len = c->rstate_len, .called = called,
		.calling = calling,
	};

	if (c->sec->rad == NULL)
		return reject(c, out, "RADIUS: no client");
	endpoint_text(&c->is->local, called, sizeof(called));
	endpoint_text(&c->is->remote, calling, sizeof(calling));
	if ((c->rq = radclient_send(c->sec->rad, &a, rad_done, c)) == NULL)
		return reject(c, out, "RADIUS: busy (every identifier in "
		    "flight) or the request cannot be built");
	c->state = R_RADIUS;
	return IKE_EAP_PENDING;
}

static enum ike_eap_result
rad_input(void *conv, const uint8_t *in, size_t len, struct ike_eap_out *out)
{
	struct rad_conv *c = conv;
	uint8_t code, id, type;
	const uint8_t *d;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (c->state == R_START) {
		c->state = R_IDENTITY;
		out->pkt[0] = IKE_EAP_REQUEST;
		out->pkt[1] = c->id;
		out->pkt[2] = 0;
		out->pkt[3] = 5;
		out->pkt[4] = IKE_EAP_TYPE_IDENTITY;
		out->len = 5;
		return IKE_EAP_CONTINUE;
	}
	if (c->state == R_DONE || in == NULL || c->rq != NULL)
		return reject(c, out, "EAP: conversation already over");
	if (!ike_eap_split(in, len, &code, &id, &type, &d, &n) ||
	    code != IKE_EAP_RESPONSE)
		return reject(c, out, "EAP: not a Response");
	if (id != c->id)
		return reject(c, out, "EAP: Response to another request");
	if (c->state == R_IDENTITY) {
		if (type != IKE_EAP_TYPE_IDENTITY)
			return reject(c, out, "EAP: no Identity in response "
			    "to Request/Identity");
		if (n == 0 || n > IKE_EAP_ID_MAX)
			return reject(c, out, "EAP: empty or too long "
			    "identity");
		for (size_t i = 0; i < n; i++)
			if (d[i] < 0x20 || d[i] > 0x7e)
				return reject(c, out, "EAP: identity with a "
				    "byte that is not printable ASCII");
		memcpy(c->identity, d, n);
		c->identity[n] = '\0';
	}
	return relay_out(c, in, len, out);
}

/* The server's answer: what the IKE SA sends next. */
static enum ike_eap_result
rad_answer(struct rad_conv *c, const struct radclient_answer *a,
    struct ike_eap_out *eo)
{
	const struct radius_reply *rp = a->reply;
	struct integ_sec *sec = c->sec;
	uint8_t code = 0, id = 0, type;
	const uint8_t *d;
	size_t n;
	bool ok = rp != NULL && rp->eap_len > 0 &&
	    rp->eap_len <= sizeof(eo->pkt) &&
	    ike_eap_split(rp->eap, rp->eap_len, &code, &id, &type, &d, &n);

	memset(eo, 0, sizeof(*eo));
	switch (a->result) {
	case RADCLIENT_CHALLENGE:
		sec->rad_challenges++;
		if (!ok || code != IKE_EAP_REQUEST)
			return reject(c, eo, "RADIUS: Access-Challenge "
			    "without an EAP-Request");
		memcpy(eo->pkt, rp->eap, rp->eap_len);
		eo->len = rp->eap_len;
		c->id = id;
		memcpy(c->rstate, rp->state, rp->state_len);
		c->rstate_len = rp->state_len;
		return IKE_EAP_CONTINUE;
	case RADCLIENT_ACCEPT:
		if (ok && code == IKE_EAP_SUCCESS) {
			memcpy(eo->pkt, rp->eap, rp->eap_len);
			eo->len = rp->eap_len;
		} else
			bare(eo, IKE_EAP_SUCCESS, c->id);
		/* No MS-MPPE keys (EAP-MD5): SK_pi/SK_pr sign (§2.16). */
		sec->rad_accepts++;
		memcpy(eo->msk, rp->msk, rp->msk_len);
		eo->msk_len = rp->msk_len;
		if (rp->has_framed_ip)
			eo->framed_ip = (uint32_t)rp->framed_ip[0] << 24 |
			    (uint32_t)rp->framed_ip[1] << 16 |
			    (uint32_t)rp->framed_ip[2] << 8 | rp->framed_ip[3];
		c->state = R_DONE;
		return IKE_EAP_ACCEPT;
	case RADCLIENT_REJECT:
		sec->rad_rejects++;
		(void)reject(c, eo, "RADIUS: Access-Reject");
		if (ok && code == IKE_EAP_FAILURE) {
			memcpy(eo->pkt, rp->eap, rp->eap_len);
			eo->len = rp->eap_len;
		}
		return IKE_EAP_REJECT;
	case RADCLIENT_TIMEOUT:
	default:
		sec->rad_timeouts++;
		return reject(c, eo, "RADIUS: no server answered");
	}
}

static void
rad_done(void *arg, const struct radclient_answer *a)
{
	struct rad_conv *c = arg;
	struct integ_sess *is = c->is;
	struct ike_eap_out *eo;
	enum ike_eap_result er;

	c->rq = NULL;		/* over: no cancel from rad_free() */
	if ((eo = malloc(sizeof(*eo))) == NULL) {
		log_warn("integrated %s: RADIUS answer", c->sec->name);
		return;		/* eap-timeout ends the SA */
	}
	er = rad_answer(c, a, eo);
	/* May free c (the SA refused): c is not touched after. */
	integ_eap_ready(is, er, eo);
	OPENSSL_clear_free(eo, sizeof(*eo));
}

const struct ike_eap_backend integ_eap_radius = {
	.name		= "eap-radius",
	.start		= rad_start,
	.input		= rad_input,
	.identity	= rad_identity,
	.free		= rad_free,
};
