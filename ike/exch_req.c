/*
 * Requests the responder initiates (RFC 7296 §1.4, §2.1-§2.4, §1.4.1):
 * liveness checks (DPD), Delete of the IKE SA (shutdown, hard lifetime)
 * and of Child SAs (their hard lifetimes), and the rekeys of Child SAs
 * (§1.3.3, §2.8) and of the IKE SA (§1.3.2, §2.18) before their
 * lifetimes end.  One request outstanding at a
 * time (window 1) under our own message-ID counter, kept for resending
 * until its authentic response arrives or the budget (dpd_timeout_ms)
 * runs out, when the peer is declared dead.  ike/README, "Requests we
 * initiate", has the schedule over a stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "framing/wire.h"
#include "ike/dh.h"
#include "ike/sa_int.h"

enum {
	REQ_INNER_MAX	= 2048	/* CREATE_CHILD_SA request plaintext */
};

static const char *
kind_name(enum ike_req_kind kind)
{
	switch (kind) {
	case IKE_REQ_NONE:
		return "no";
	case IKE_REQ_DPD:
		return "liveness check";
	case IKE_REQ_DELETE_IKE:
		return "IKE SA Delete";
	case IKE_REQ_DELETE_CHILD:
		return "Child SA Delete";
	case IKE_REQ_REKEY_CHILD:
		return "Child SA rekey";
	case IKE_REQ_REKEY_IKE:
		return "IKE SA rekey";
	case IKE_REQ_RR_CHECK:
		return "return routability check";
	}
	return "?";
}

/*
 * When to rekey an SA with hard lifetime @life from @now: a margin of 10%
 * of the lifetime plus up to another 10% at random, so SAs made together
 * are not all rekeyed together and the rekey is done well before the
 * hard limit.
 */
static uint64_t
rekey_at(uint64_t now, unsigned life)
{
	uint8_t r[2] = { 0, 0 };
	uint64_t margin = life / 10;

	(void)RAND_bytes(r, sizeof(r));
	margin += (uint64_t)load_be16(r) * (life / 10) / 65536;
	return now + life - margin;
}

static unsigned
budget_ms(const struct ike_sa *sa)
{
	return sa->conf->dpd_timeout_ms != 0 ? sa->conf->dpd_timeout_ms :
	    IKE_SA_DPD_TIMEOUT_MS;
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static bool
is_live(const struct ike_sa *sa)
{
	return sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_DELETING;
}

static void
rekey_cleanup(struct ike_req *q)
{
	ike_kex_free(q->rk_kex);
	q->rk_kex = NULL;
	OPENSSL_cleanse(q->rk_ni, sizeof(q->rk_ni));
	ike_child_keys_cleanse(&q->rk.keys);
}

static void
forget_req(struct ike_req *q)
{
	OPENSSL_cleanse(q->rr_cookie, sizeof(q->rr_cookie));
	free(q->msg);
	q->msg = NULL;
	q->len = 0;
	ike_frags_free(&q->frags);
	q->kind = IKE_REQ_NONE;
}

static void
forget_old_del(struct ike_req *q)
{
	free(q->old_msg);
	q->old_msg = NULL;
	q->old_len = 0;
	ike_frags_free(&q->old_frags);
	q->old_del = false;
}

/*
 * §2.25: what our outstanding request is doing, for the collision rules
 * of exch_child.c (sa->own, a slot's `closing`).
 */
static void
own_sync(struct ike_sa *sa)
{
	const struct ike_req *q = &sa->req;
	struct ike_child *ch;

	sa->own &= ~(unsigned)(IKE_SA_OWN_IKE_REKEY | IKE_SA_OWN_CHILD);
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		sa->children[k].closing = false;
	switch (q->kind) {
	case IKE_REQ_REKEY_IKE:
		sa->own |= IKE_SA_OWN_IKE_REKEY;
		break;
	case IKE_REQ_DELETE_CHILD:
		if ((ch = ike_sa_child_by_spi_in(sa, q->child_spi)) != NULL)
			ike_sa_child_slot(sa, ch)->closing = true;
		/* FALLTHROUGH */
	case IKE_REQ_REKEY_CHILD:
		sa->own |= IKE_SA_OWN_CHILD;
		break;
	default:
		break;
	}
}

void
ike_req_cleanup(struct ike_sa *sa)
{
	rekey_cleanup(&sa->req);
	forget_req(&sa->req);
	forget_old_del(&sa->req);
}

/* Lifetimes of the IKE SA from @now_ms (IKE_AUTH, or a rekey of it). */
static void
ike_timers(struct ike_sa *sa, uint64_t now_ms)
{
	unsigned life = sa->conf->ike_lifetime_ms;

	sa->req.up_ms = now_ms;
	sa->req.ike_expire_ms = life != 0 ? now_ms + life : 0;
	sa->req.ike_rekey_ms = life != 0 ? rekey_at(now_ms, life) : 0;
}

void
ike_req_established(struct ike_sa *sa, uint64_t now_ms)
{
	ike_timers(sa, now_ms);
}

void
ike_req_child_installed(struct ike_sa *sa, struct ike_child_slot *sl)
{
	unsigned life = sa->conf->child_lifetime_ms;

	/* sa->last_ms: the exchange that made it, just now. */
	sl->expire_ms = life != 0 ? sa->last_ms + life : 0;
	sl->rekey_ms = life != 0 ? rekey_at(sa->last_ms, life) : 0;
}

void
ike_req_switched(struct ike_sa *sa)
{
	struct ike_req *q = &sa->req;
	struct ike_child *ch;

	/*
	 * A request of ours outstanding on the old SA will not be answered
	 * on the new one: a Delete is asked for again, a Child SA rekey
	 * tried again; a liveness check is moot.  §2.18: our message IDs
	 * restart at 0 too.
	 */
	if (q->kind == IKE_REQ_DELETE_IKE)
		q->want_delete = true;
	if (q->kind == IKE_REQ_REKEY_CHILD &&
	    (ch = ike_sa_child_by_spi_in(sa, q->child_spi)) != NULL)
		ike_sa_child_slot(sa, ch)->rekey_ms = sa->last_ms;
	rekey_cleanup(q);
	forget_req(q);
	forget_old_del(q);
	q->msgid_next = 0;
	ike_timers(sa, sa->last_ms);
	own_sync(sa);
}

bool
ike_req_deleting_child(const struct ike_sa *sa, uint32_t spi)
{
	return sa->req.kind == IKE_REQ_DELETE_CHILD && sa->req.child_spi == spi;
}

/*
 * Protects @inner (first payload type @first) as a request @exch with
 * message ID @msgid into a new buffer (*@buf, *@len), and into RFC 7383
 * fragments (*@frags, empty when not needed; ike_sa_frags()).  §3.1: no
 * Response flag; the Initiator flag only when we are the SA's original
 * initiator (after our rekey of it).
 */
static int
protect_req(struct ike_sa *sa, uint8_t exch, uint32_t msgid, uint8_t first,
    const uint8_t *inner, size_t inner_len, uint8_t **buf, size_t *len,
    struct ike_frags *frags)
{
	struct ike_builder b;
	struct ike_hdr h;
	struct wr w;
	uint8_t *p, *body;
	size_t body_len;

	if ((p = malloc(IKE_SA_MSG_MAX)) == NULL)
		return -1;
	memset(&h, 0, sizeof(h));
	h.spi_i = sa->spi_i;
	h.spi_r = sa->spi_r;
	h.exchange = exch;
	h.flags = sa->orig_init ? IKE_FLAG_INITIATOR : 0;
	h.msgid = msgid;
	w = wr_make(p, IKE_SA_MSG_MAX);
	ike_build_init(&b, &w, &h);
	body_len = ike_sk_len(&sa->sk_out, inner_len);
	if (body_len == 0 || ike_build_sk(&b, first, body_len, &body) != 0 ||
	    ike_build_finish(&b) != 0 ||
	    ike_sk_protect(&sa->sk_out, p, (size_t)(body - p), inner,
	    inner_len, body_len) != 0) {
		free(p);
		return -1;
	}
	ike_sa_frags(sa, &h, first, inner, inner_len, w.len, frags);
	*buf = p;
	*len = w.len;
	return 0;
}

/* Our next request: protected, kept as the outstanding one, in out->msg. */
static int
send_req(struct ike_sa *sa, enum ike_req_kind kind, uint8_t exch,
    uint8_t first, const uint8_t *inner, size_t inner_len, uint64_t now_ms,
    struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	struct ike_frags f;
	uint8_t *buf;
	size_t len;

	if (protect_req(sa, exch, q->msgid_next, first, inner, inner_len,
	    &buf, &len, &f) != 0)
		return -1;
	free(q->msg);
	ike_frags_free(&q->frags);
	q->msg = buf;
	q->len = len;
	q->frags = f;
	q->kind = kind;
	q->exchange = exch;
	q->msgid = q->msgid_next++;
	q->sent_ms = now_ms;
	q->rtx_gap_ms = IKE_SA_RTX_FIRST_MS;
	q->rtx_ms = now_ms + IKE_SA_RTX_FIRST_MS;
	out->msg = buf;
	out->len = len;
	out->frags = f;
	out->resend = false;
	return 0;
}

/* The inner chain of an INFORMATIONAL with at most one Delete. */
static int
info_inner(uint8_t proto, uint32_t spi, uint8_t *inner, size_t cap,
    size_t *len, uint8_t *first)
{
	uint8_t spi_b[4];
	struct ike_builder b;
	struct ike_delete d;
	struct wr w = wr_make(inner, cap);

	ike_build_inner_init(&b, &w);
	if (proto != 0) {
		memset(&d, 0, sizeof(d));
		d.proto = proto;
		if (proto == IKE_PROTO_ESP) {
			store_be32(spi_b, spi);
			d.spi_size = 4;
			d.nspis = 1;
			d.spis.p = spi_b;
			d.spis.len = sizeof(spi_b);
		}
		if (ike_build_delete(&b, &d) != 0)
			return -1;
	}
	if (ike_build_finish(&b) != 0)
		return -1;
	*len = w.len;
	*first = b.first;
	return 0;
}

static int
send_info(struct ike_sa *sa, enum ike_req_kind kind, uint8_t proto,
    uint32_t spi, uint64_t now_ms, struct ike_out *out)
{
	uint8_t inner[IKE_GENHDR_LEN + 4 + 4], first;
	size_t len;

	if (info_inner(proto, spi, inner, sizeof(inner), &len, &first) != 0)
		return -1;
	return send_req(sa, kind, IKE_EXCH_INFORMATIONAL, first, inner, len,
	    now_ms, out);
}

/* The IKE SA ends here: its Child SAs with it (§1.4.1), the VIP released. */
static void
ike_gone(struct ike_sa *sa, struct ike_out *out)
{
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		if (sa->children[k].used)
			ike_sa_child_remove(sa, &sa->children[k].ch, out);
	ike_req_cleanup(sa);
	ike_sa_set_state(sa, IKE_SA_DEAD);
	ike_sa_event(out, IKE_EV_IKE_DOWN, NULL);
}

static void
start_delete(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out)
{
	if (send_info(sa, IKE_REQ_DELETE_IKE, IKE_PROTO_IKE, 0, now_ms,
	    out) != 0) {
		ike_sa_reason(out, "cannot build the Delete request");
		return;
	}
	sa->req.want_delete = false;
	ike_sa_set_state(sa, IKE_SA_DELETING);
	ike_sa_reason(out, "deleting the IKE SA: %s", sa->req.why_delete);
}

/* The first error notify of a response (§3.10.1: types below 16384). */
static uint16_t
error_notify(const struct ike_payloads *pl)
{
	for (size_t i = 0; i < pl->nnotify; i++)
		if (pl->notify[i].type < 16384)
			return pl->notify[i].type;
	return 0;
}

/* The PFS group for a rekey: the first of our ESP proposals' groups. */
static enum ike_dh
pfs_group(const struct ike_sa *sa)
{
	for (size_t i = 0; i < sa->conf->nesp; i++)
		if (sa->conf->esp[i].ndh > 0)
			return (enum ike_dh)sa->conf->esp[i].dh[0];
	return IKE_DH_NONE;
}

/* A Child SA that a rekey (either side's) already replaced. */
static bool
is_replaced(const struct ike_sa *sa, const struct ike_child *ch)
{
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		if (sa->children[k].used &&
		    sa->children[k].ch.replaces == ch->spi_in)
			return true;
	return false;
}

/*
 * The live Child SA whose rekey (@rekey) or hard lifetime is due first,
 * and when; a replaced one is left to the Delete that ends it.
 */
static struct ike_child_slot *
child_due(const struct ike_sa *sa, bool rekey, uint64_t *at)
{
	const struct ike_child_slot *best = NULL, *sl;
	uint64_t t, bt = UINT64_MAX;

	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++) {
		sl = &sa->children[k];
		t = rekey ? sl->rekey_ms : sl->expire_ms;
		if (!sl->used || t == 0 || is_replaced(sa, &sl->ch) ||
		    t >= bt)
			continue;
		best = sl;
		bt = t;
	}
	*at = bt;
	return (struct ike_child_slot *)(uintptr_t)best;
}

/*
 * §1.3.3: CREATE_CHILD_SA {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr} for @ch.
 * One proposal: its own suite (the peer took it once), with a KE of the
 * first group of our ESP proposals when one has a group (PFS).  We
 * initiate this exchange, so TSi is our side and TSr the peer's (§2.9);
 * REKEY_SA names the SA by our inbound SPI.
 */
static int
start_rekey_child(struct ike_sa *sa, struct ike_child_slot *sl,
    uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	const struct ike_child *ch = &sl->ch;
	uint8_t *inner = NULL, spi_old[4], spi_new[4];
	uint8_t pub[IKE_KEX_PUB_MAX];
	struct ike_sa_pl *sa_pl = NULL;
	struct ike_builder b;
	struct ike_ts_pl tsi, tsr;
	struct ike_chosen c;
	struct ike_notify n;
	struct ike_ke ke;
	struct wr w;
	size_t pub_len = 0;
	int rc = -1;

	sl->rekey_ms = 0;
	rekey_cleanup(q);
	q->rk = *ch;
	memset(&q->rk.keys, 0, sizeof(q->rk.keys));
	q->rk.suite.dh = pfs_group(sa);
	q->rk.replaces = ch->spi_in;
	q->rk.initiated = true;
	if ((q->rk.spi_in = ike_child_spi(sa->conf)) == 0 ||
	    RAND_bytes(q->rk_ni, sizeof(q->rk_ni)) != 1)
		goto out;
	if (q->rk.suite.dh != IKE_DH_NONE) {
		pub_len = ike_kex_pub_len(q->rk.suite.dh);
		if ((q->rk_kex = ike_kex_new(q->rk.suite.dh,
		    sa->conf->kex_flags)) == NULL || pub_len > sizeof(pub) ||
		    ike_kex_public(q->rk_kex, pub, pub_len) != 0)
			goto out;
	}
	if ((inner = malloc(REQ_INNER_MAX)) == NULL ||
	    (sa_pl = malloc(sizeof(*sa_pl))) == NULL)
		goto out;
	memset(&c, 0, sizeof(c));
	c.num = 1;
	c.proto = IKE_PROTO_ESP;
	c.suite = q->rk.suite;
	c.has_integ = q->rk.suite.integ != IKE_INTEG_NONE;
	c.has_dh = q->rk.suite.dh != IKE_DH_NONE;
	c.has_esn = true;
	c.esn = q->rk.esn ? IKE_ESN_YES : IKE_ESN_NO;
	store_be32(spi_new, q->rk.spi_in);
	ike_proposal_response(&c, spi_new, 4, sa_pl);
	store_be32(spi_old, ch->spi_in);
	memset(&n, 0, sizeof(n));
	n.proto = IKE_PROTO_ESP;
	n.type = IKE_N_REKEY_SA;
	n.spi.p = spi_old;
	n.spi.len = 4;
	memset(&tsi, 0, sizeof(tsi));
	memset(&tsr, 0, sizeof(tsr));
	tsi.count = tsr.count = 1;
	tsi.ts[0] = ch->tsr;
	tsr.ts[0] = ch->tsi;
	w = wr_make(inner, REQ_INNER_MAX);
	ike_build_inner_init(&b, &w);
	rc = ike_build_notify(&b, &n) | ike_build_sa(&b, sa_pl) |
	    ike_build_nonce(&b, q->rk_ni, sizeof(q->rk_ni));
	if (q->rk_kex != NULL) {
		ke.group = q->rk.suite.dh;
		ke.data.p = pub;
		ke.data.len = pub_len;
		rc |= ike_build_ke(&b, &ke);
	}
	rc |= ike_build_ts(&b, IKE_PL_TSI, &tsi) |
	    ike_build_ts(&b, IKE_PL_TSR, &tsr) | ike_build_finish(&b);
	if (rc == 0)
		rc = send_req(sa, IKE_REQ_REKEY_CHILD,
		    IKE_EXCH_CREATE_CHILD_SA, b.first, inner, w.len, now_ms,
		    out);
	q->child_spi = ch->spi_in;
out:
	if (rc != 0) {
		rekey_cleanup(q);
		ike_sa_reason(out, "cannot build the Child SA rekey");
	}
	free(inner);
	free(sa_pl);
	return rc;
}

/*
 * Whether our new Child SA (nonces ni/nr) loses to the peer's rekey of the
 * same SA that completed meanwhile (§2.8.1: the exchange with the lowest
 * nonce made the redundant SA).
 */
static bool
rekey_lost(struct ike_sa *sa, uint32_t old_spi, const uint8_t *ni,
    size_t ni_len, const uint8_t *nr, size_t nr_len)
{
	struct ike_child_slot *sl;

	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++) {
		sl = &sa->children[k];
		if (sl->used && sl->ch.replaces == old_spi &&
		    !sl->ch.initiated)
			return ike_rekey_a_loses(ni, ni_len, nr, nr_len,
			    sl->ni, sl->ni_len, sl->nr, sl->nr_len);
	}
	return false;
}

/*
 * Our Child SA rekey's response.  The new Child SA goes into the table
 * (IKE_EV_CHILD_UP; it replaces the old one, which stays installed until
 * its Delete, §2.8) and the old one's Delete is queued: we started the
 * rekey, so we delete the old SA.  A refusal leaves the old Child SA, to
 * be tried again at half its remaining life; its hard lifetime ends it
 * otherwise.
 */
static void
rekey_child_done(struct ike_sa *sa, const struct ike_payloads *pl,
    uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	uint8_t gir[IKE_KEX_SECRET_MAX];
	size_t gir_len = 0;
	struct ike_child_keys k;
	struct ike_child_slot *sl = NULL;
	struct ike_child *old, *nc;
	struct ike_prop offer;
	struct ike_chosen c;
	uint16_t err;

	memset(&k, 0, sizeof(k));
	if ((old = ike_sa_child_by_spi_in(sa, q->child_spi)) != NULL)
		sl = ike_sa_child_slot(sa, old);
	if ((err = error_notify(pl)) != 0) {
		ike_sa_reason(out, "Child SA rekey refused: notify %u", err);
		goto fail;
	}
	memset(&offer, 0, sizeof(offer));
	offer.proto = IKE_PROTO_ESP;
	offer.nencr = 1;
	offer.encr[0].id = (uint16_t)q->rk.suite.encr;
	offer.encr[0].bits = (uint16_t)q->rk.suite.encr_bits;
	if (q->rk.suite.integ != IKE_INTEG_NONE) {
		offer.ninteg = 1;
		offer.integ[0] = (uint16_t)q->rk.suite.integ;
	}
	if (q->rk.suite.dh != IKE_DH_NONE) {
		offer.ndh = 1;
		offer.dh[0] = (uint16_t)q->rk.suite.dh;
	}
	offer.nesn = 1;
	offer.esn[0] = q->rk.esn ? IKE_ESN_YES : IKE_ESN_NO;
	/* §2.7: the response holds one proposal, taken from our offer. */
	if (!(pl->have & IKE_HAVE_SA) || !(pl->have & IKE_HAVE_NONCE) ||
	    pl->sa.nproposals != 1 || ike_proposal_select(&offer, 1, &pl->sa,
	    q->rk.suite.dh, 0, &c) != IKE_SELECT_OK || c.spi_size != 4 ||
	    load_be32(c.spi) == 0 || pl->nonce.len > IKE_NONCE_MAX) {
		ike_sa_reason(out, "Child SA rekey: the response's SA or "
		    "nonce is not acceptable");
		goto fail;
	}
	if (q->rk_kex != NULL) {
		gir_len = ike_kex_secret_len(q->rk.suite.dh);
		if (!(pl->have & IKE_HAVE_KE) ||
		    pl->ke.group != q->rk.suite.dh || gir_len > sizeof(gir) ||
		    ike_kex_derive(q->rk_kex, pl->ke.data.p, pl->ke.data.len,
		    gir, gir_len) != 0) {
			ike_sa_reason(out, "Child SA rekey: bad KE");
			goto fail;
		}
	}
	/* §2.17: KEYMAT = prf+(SK_d, [g^ir] | Ni | Nr); we are "i" here. */
	if (ike_child_keys_derive(sa->suite.prf, sa->keys.sk_d,
	    sa->keys.prf_len, &q->rk.suite, gir_len ? gir : NULL, gir_len,
	    q->rk_ni, sizeof(q->rk_ni), pl->nonce.p, pl->nonce.len,
	    &k) != 0) {
		ike_sa_reason(out, "Child SA rekey: key derivation failed");
		goto fail;
	}
	/* Commit.  struct ike_child keeps ei/ai inbound, er/ar outbound. */
	q->rk.keys.encr_len = k.encr_len;
	q->rk.keys.integ_len = k.integ_len;
	memcpy(q->rk.keys.ei, k.er, sizeof(k.er));
	memcpy(q->rk.keys.ai, k.ar, sizeof(k.ar));
	memcpy(q->rk.keys.er, k.ei, sizeof(k.ei));
	memcpy(q->rk.keys.ar, k.ai, sizeof(k.ai));
	q->rk.spi_out = load_be32(c.spi);
	q->rk.suite.prf = sa->suite.prf;
	if (old == NULL || rekey_lost(sa, q->child_spi, q->rk_ni,
	    sizeof(q->rk_ni), pl->nonce.p, pl->nonce.len) ||
	    (nc = ike_sa_child_install(sa, &q->rk, q->rk_ni,
	    sizeof(q->rk_ni), pl->nonce.p, pl->nonce.len)) == NULL) {
		/*
		 * The old one went meanwhile (the peer deleted it), the
		 * peer's simultaneous rekey won (§2.8.1) or the table is
		 * full: the new SA is redundant, and ours to delete.
		 */
		q->del_queued = q->rk.spi_in;
		ike_sa_reason(out, "Child SA rekey redundant: deleting "
		    "%08x", q->rk.spi_in);
		goto out;
	}
	ike_sa_event(out, IKE_EV_CHILD_UP, nc);
	q->del_queued = old->spi_in;
	ike_sa_reason(out, "Child SA %08x rekeyed: %08x/%08x", old->spi_in,
	    nc->spi_in, nc->spi_out);
	goto out;
fail:
	if (sl != NULL)
		sl->rekey_ms = sl->expire_ms > now_ms + 2000 ?
		    now_ms + (sl->expire_ms - now_ms) / 2 : 0;
out:
	OPENSSL_cleanse(gir, sizeof(gir));
	ike_child_keys_cleanse(&k);
	rekey_cleanup(q);
}

/* §1.3.2: CREATE_CHILD_SA {SA, Ni, KEi} with our new IKE SPI. */
static int
start_rekey_ike(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	uint8_t *inner = NULL, spi[IKE_SPI_LEN], pub[IKE_KEX_PUB_MAX];
	struct ike_sa_pl *sa_pl = NULL;
	struct ike_builder b;
	struct ike_chosen c;
	struct ike_ke ke;
	struct wr w;
	size_t pub_len = ike_kex_pub_len(sa->suite.dh);
	int rc = -1;

	q->ike_rekey_ms = 0;
	rekey_cleanup(q);
	q->rk_suite = sa->suite;
	do {
		if (RAND_bytes(spi, sizeof(spi)) != 1)
			goto out;
	} while ((q->rk_spi = load_be64(spi)) == 0);
	if (RAND_bytes(q->rk_ni, sizeof(q->rk_ni)) != 1 ||
	    pub_len == 0 || pub_len > sizeof(pub) ||
	    (q->rk_kex = ike_kex_new(sa->suite.dh,
	    sa->conf->kex_flags)) == NULL ||
	    ike_kex_public(q->rk_kex, pub, pub_len) != 0 ||
	    (inner = malloc(REQ_INNER_MAX)) == NULL ||
	    (sa_pl = malloc(sizeof(*sa_pl))) == NULL)
		goto out;
	/* The IKE SA's own suite: the peer chose it once. */
	memset(&c, 0, sizeof(c));
	c.num = 1;
	c.proto = IKE_PROTO_IKE;
	c.suite = sa->suite;
	c.has_integ = sa->suite.integ != IKE_INTEG_NONE;
	c.has_dh = true;
	ike_proposal_response(&c, spi, IKE_SPI_LEN, sa_pl);
	ke.group = sa->suite.dh;
	ke.data.p = pub;
	ke.data.len = pub_len;
	w = wr_make(inner, REQ_INNER_MAX);
	ike_build_inner_init(&b, &w);
	rc = ike_build_sa(&b, sa_pl) |
	    ike_build_nonce(&b, q->rk_ni, sizeof(q->rk_ni)) |
	    ike_build_ke(&b, &ke) | ike_build_finish(&b);
	if (rc == 0)
		rc = send_req(sa, IKE_REQ_REKEY_IKE, IKE_EXCH_CREATE_CHILD_SA,
		    b.first, inner, w.len, now_ms, out);
out:
	if (rc != 0) {
		rekey_cleanup(q);
		ike_sa_reason(out, "cannot build the IKE SA rekey");
	}
	free(inner);
	free(sa_pl);
	return rc;
}

/*
 * Our IKE SA rekey's response {SA, Nr, KEr}.  §2.18: SKEYSEED = prf(SK_d
 * (old), g^ir (new) | Ni | Nr), SK_* from the new SPIs with ours as SPIi:
 * the rekey's initiator is the new SA's original initiator.  The SA
 * switches to the new SPIs and keys in place (the Child SAs stay), and
 * our Delete of the old SA is queued: the rekey's initiator deletes it.
 */
static void
rekey_ike_done(struct ike_sa *sa, const struct ike_payloads *pl,
    uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	uint8_t gir[IKE_KEX_SECRET_MAX], spi_i[IKE_SPI_LEN];
	size_t gir_len = ike_kex_secret_len(q->rk_suite.dh);
	struct ike_sk sk_in, sk_out;
	struct ike_keys keys;
	struct ike_prop offer;
	struct ike_chosen c;
	uint32_t old_msgid = q->msgid_next;
	uint16_t err;

	memset(&keys, 0, sizeof(keys));
	memset(&sk_in, 0, sizeof(sk_in));
	memset(&sk_out, 0, sizeof(sk_out));
	if ((err = error_notify(pl)) != 0) {
		ike_sa_reason(out, "IKE SA rekey refused: notify %u", err);
		goto fail;
	}
	memset(&offer, 0, sizeof(offer));
	offer.proto = IKE_PROTO_IKE;
	offer.nencr = offer.nprf = offer.ndh = 1;
	offer.encr[0].id = (uint16_t)q->rk_suite.encr;
	offer.encr[0].bits = (uint16_t)q->rk_suite.encr_bits;
	offer.prf[0] = (uint16_t)q->rk_suite.prf;
	offer.dh[0] = (uint16_t)q->rk_suite.dh;
	if (q->rk_suite.integ != IKE_INTEG_NONE) {
		offer.ninteg = 1;
		offer.integ[0] = (uint16_t)q->rk_suite.integ;
	}
	if (!(pl->have & IKE_HAVE_SA) || !(pl->have & IKE_HAVE_NONCE) ||
	    !(pl->have & IKE_HAVE_KE) || pl->sa.nproposals != 1 ||
	    ike_proposal_select(&offer, 1, &pl->sa, q->rk_suite.dh, 0, &c) !=
	    IKE_SELECT_OK || c.spi_size != IKE_SPI_LEN ||
	    load_be64(c.spi) == 0 || pl->ke.group != q->rk_suite.dh ||
	    gir_len == 0 || gir_len > sizeof(gir)) {
		ike_sa_reason(out, "IKE SA rekey: the response's SA, nonce or "
		    "KE is not acceptable");
		goto fail;
	}
	if (ike_kex_derive(q->rk_kex, pl->ke.data.p, pl->ke.data.len, gir,
	    gir_len) != 0) {
		ike_sa_reason(out, "IKE SA rekey: bad KE");
		goto fail;
	}
	store_be64(spi_i, q->rk_spi);
	if (ike_keys_rekey_sa(&c.suite, sa->suite.prf, sa->keys.sk_d,
	    sa->keys.prf_len, gir, gir_len, q->rk_ni, sizeof(q->rk_ni),
	    pl->nonce.p, pl->nonce.len, spi_i, c.spi, &keys) != 0 ||
	    ike_sk_init_pair(&sk_out, &sk_in, &c.suite, &keys, true) != 0) {
		ike_sa_reason(out, "IKE SA rekey: key derivation failed");
		goto fail;
	}
	/* Commit: the switch resets our requests for the new SA. */
	forget_req(q);
	ike_sa_ike_switch(sa, q->rk_spi, load_be64(c.spi), &c.suite, &keys,
	    &sk_in, &sk_out, true, out);
	q->old_del = true;
	q->old_msgid = old_msgid;
	ike_sa_reason(out, "IKE SA rekeyed: %016llx_%016llx",
	    (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r);
	goto out;
fail:
	q->ike_rekey_ms = q->ike_expire_ms > now_ms + 2000 ?
	    now_ms + (q->ike_expire_ms - now_ms) / 2 : 0;
out:
	OPENSSL_cleanse(gir, sizeof(gir));
	OPENSSL_cleanse(&sk_in, sizeof(sk_in));
	OPENSSL_cleanse(&sk_out, sizeof(sk_out));
	ike_keys_cleanse(&keys);
	rekey_cleanup(q);
}

/*
 * Our Delete of the old IKE SA after our rekey, on its SPIs and keys and
 * under its message-ID counter; resent like any request, forgotten (not
 * fatal: the new SA is fine) when the budget runs out.
 */
static void
old_delete_tick(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	uint8_t inner[IKE_GENHDR_LEN + 4], first;
	size_t len;
	int rc;

	if (q->old_msg != NULL) {
		if (now_ms >= q->old_sent_ms + budget_ms(sa)) {
			ike_sa_reason(out, "Delete of the rekeyed IKE SA "
			    "unanswered: forgotten");
			forget_old_del(q);
			ike_sa_old_drop(sa);
		} else if (now_ms >= q->old_rtx_ms) {
			out->msg = q->old_msg;
			out->len = q->old_len;
			out->frags = q->old_frags;
			out->resend = true;
			q->old_rtx_ms = now_ms + IKE_SA_RTX_MAX_MS;
		}
		return;
	}
	if (!sa->has_old ||
	    info_inner(IKE_PROTO_IKE, 0, inner, sizeof(inner), &len,
	    &first) != 0) {
		forget_old_del(q);
		return;
	}
	ike_sa_old_swap(sa);
	rc = protect_req(sa, IKE_EXCH_INFORMATIONAL, q->old_msgid, first,
	    inner, len, &q->old_msg, &q->old_len, &q->old_frags);
	ike_sa_old_swap(sa);
	if (rc != 0) {
		forget_old_del(q);
		return;
	}
	q->old_sent_ms = now_ms;
	q->old_rtx_ms = now_ms + IKE_SA_RTX_FIRST_MS;
	out->msg = q->old_msg;
	out->len = q->old_len;
	out->frags = q->old_frags;
	out->resend = false;
}

uint64_t
ike_sa_next_ms(const struct ike_sa *sa)
{
	const struct ike_req *q = &sa->req;
	uint64_t t = UINT64_MAX, c;

	/* §2.16: a half-open EAP conversation has a deadline. */
	if (sa->state == IKE_SA_INIT_DONE && sa->eap != NULL)
		return sa->eap->deadline_ms;
	if (!is_live(sa))
		return UINT64_MAX;
	if (q->old_del)
		t = q->old_msg == NULL ? 0 : min64(q->old_rtx_ms,
		    q->old_sent_ms + budget_ms(sa));
	if (q->kind != IKE_REQ_NONE)
		return min64(t, min64(q->rtx_ms, q->sent_ms + budget_ms(sa)));
	if (q->want_delete || q->del_queued != 0)
		return 0;
	if (sa->state != IKE_SA_ESTABLISHED)
		return t;
	if (q->ike_expire_ms != 0)
		t = min64(t, q->ike_expire_ms);
	if (q->ike_rekey_ms != 0)
		t = min64(t, q->ike_rekey_ms);
	(void)child_due(sa, false, &c);
	t = min64(t, c);
	(void)child_due(sa, true, &c);
	t = min64(t, c);
	if (sa->conf->dpd_delay_ms != 0)
		t = min64(t, sa->last_ms + sa->conf->dpd_delay_ms);
	return t;
}

static void
tick(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	struct ike_child_slot *sl;
	uint64_t at;

	memset(out, 0, sizeof(*out));
	if (sa->state == IKE_SA_INIT_DONE && sa->eap != NULL) {
		if (now_ms < sa->eap->deadline_ms)
			return;
		ike_sa_reason(out, "EAP: not completed within %llu ms "
		    "(%u rounds, identity \"%s\")", (unsigned long long)
		    (sa->conf->eap_timeout_ms != 0 ? sa->conf->eap_timeout_ms :
		    IKE_SA_EAP_TIMEOUT_MS), sa->eap->rounds,
		    sa->eap->identity);
		ike_sa_set_state(sa, IKE_SA_DEAD);
		ike_sa_event(out, IKE_EV_IKE_DOWN, NULL);
		return;
	}
	if (!is_live(sa))
		return;
	if (q->old_del) {
		old_delete_tick(sa, now_ms, out);
		if (out->len > 0 || out->reason[0] != '\0')
			return;
	}
	if (q->kind != IKE_REQ_NONE) {
		if (now_ms >= q->sent_ms + budget_ms(sa)) {
			/*
			 * §2.4: "If the peer doesn't respond [...] the IKE
			 * SA [is] deleted"; §1.4.1: an unanswered Delete
			 * deletes all the same.
			 */
			ike_sa_reason(out, "peer dead: %s (message ID %u) "
			    "unanswered for %llu ms", kind_name(q->kind),
			    q->msgid, (unsigned long long)(now_ms -
			    q->sent_ms));
			ike_gone(sa, out);
			return;
		}
		if (now_ms >= q->rtx_ms) {
			/*
			 * §2.1: bitwise identical, never re-protected; RFC
			 * 7383 §2.6: every fragment again.
			 */
			out->msg = q->msg;
			out->len = q->len;
			out->frags = q->frags;
			out->resend = true;
			out->rr = q->kind == IKE_REQ_RR_CHECK;
			q->rtx_gap_ms = q->rtx_gap_ms * 2 > IKE_SA_RTX_MAX_MS ?
			    IKE_SA_RTX_MAX_MS : q->rtx_gap_ms * 2;
			q->rtx_ms = now_ms + q->rtx_gap_ms;
		}
		return;
	}
	if (sa->state != IKE_SA_ESTABLISHED)
		return;
	if (!q->want_delete && q->ike_expire_ms != 0 &&
	    now_ms >= q->ike_expire_ms) {
		q->want_delete = true;
		q->why_delete = "lifetime reached";
	}
	if (q->want_delete) {
		start_delete(sa, now_ms, out);
		return;
	}
	if (q->del_queued != 0) {
		/* §2.8: the rekey's initiator deletes the old Child SA. */
		if (send_info(sa, IKE_REQ_DELETE_CHILD, IKE_PROTO_ESP,
		    q->del_queued, now_ms, out) != 0) {
			ike_sa_reason(out, "cannot build the Delete request");
			return;
		}
		q->child_spi = q->del_queued;
		q->del_queued = 0;
		return;
	}
	if ((sl = child_due(sa, false, &at)) != NULL && now_ms >= at) {
		if (send_info(sa, IKE_REQ_DELETE_CHILD, IKE_PROTO_ESP,
		    sl->ch.spi_in, now_ms, out) != 0) {
			ike_sa_reason(out, "cannot build the Delete request");
			return;
		}
		sl->expire_ms = sl->rekey_ms = 0;
		q->child_spi = sl->ch.spi_in;
		ike_sa_reason(out, "deleting Child SA %08x: lifetime reached",
		    sl->ch.spi_in);
		return;
	}
	if (q->ike_rekey_ms != 0 && now_ms >= q->ike_rekey_ms) {
		(void)start_rekey_ike(sa, now_ms, out);
		return;
	}
	if ((sl = child_due(sa, true, &at)) != NULL && now_ms >= at) {
		(void)start_rekey_child(sa, sl, now_ms, out);
		return;
	}
	if (sa->conf->dpd_delay_ms != 0 &&
	    now_ms >= sa->last_ms + sa->conf->dpd_delay_ms) {
		/* §1.4: an empty INFORMATIONAL asks "are you alive?". */
		if (send_info(sa, IKE_REQ_DPD, 0, 0, now_ms, out) != 0)
			ike_sa_reason(out, "cannot build the liveness check");
	}
}

void
ike_sa_tick(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out)
{
	tick(sa, now_ms, out);
	own_sync(sa);
}

void
ike_sa_alive(struct ike_sa *sa, uint64_t now_ms)
{
	if (now_ms > sa->last_ms)
		sa->last_ms = now_ms;
}

int
ike_sa_rr_check(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	uint8_t inner[IKE_GENHDR_LEN + 8 + IKE_SA_RR_COOKIE_LEN], first;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!sa->mobike || sa->state != IKE_SA_ESTABLISHED ||
	    q->kind != IKE_REQ_NONE)
		return -1;
	if (RAND_bytes(q->rr_cookie, sizeof(q->rr_cookie)) != 1 ||
	    ike_info_rr_inner(q->rr_cookie, inner, sizeof(inner), &len,
	    &first) != 0 ||
	    send_req(sa, IKE_REQ_RR_CHECK, IKE_EXCH_INFORMATIONAL, first,
	    inner, len, now_ms, out) != 0) {
		OPENSSL_cleanse(q->rr_cookie, sizeof(q->rr_cookie));
		ike_sa_reason(out, "cannot build the return routability "
		    "check");
		return -1;
	}
	out->rr = true;
	return 0;
}

bool
ike_sa_req_idle(const struct ike_sa *sa)
{
	return sa->req.kind == IKE_REQ_NONE;
}

bool
ike_sa_rr_outstanding(const struct ike_sa *sa)
{
	return sa->req.kind == IKE_REQ_RR_CHECK;
}

int
ike_sa_delete(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->state != IKE_SA_ESTABLISHED || sa->req.want_delete)
		return -1;
	sa->req.want_delete = true;
	sa->req.why_delete = "shutting down";
	if (sa->req.kind == IKE_REQ_NONE)
		start_delete(sa, now_ms, out);
	own_sync(sa);
	return 0;
}

/* The response to our Delete of the old IKE SA (swapped in). */
static enum ike_sa_result
old_response(struct ike_sa *sa, const uint8_t *msg, size_t len,
    const struct ike_msg *m, uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	uint8_t *plain;
	size_t plain_len;

	if (!q->old_del || q->old_msg == NULL || m->hdr.msgid != q->old_msgid ||
	    m->hdr.exchange != IKE_EXCH_INFORMATIONAL ||
	    !(m->pl.have & IKE_HAVE_SK)) {
		ike_sa_reason(out, "response %u on the rekeyed IKE SA, not to "
		    "our Delete", m->hdr.msgid);
		return IKE_SA_DROPPED;
	}
	if ((plain = malloc(len)) == NULL) {
		ike_sa_reason(out, "out of memory");
		return IKE_SA_DROPPED;
	}
	if (ike_sk_unprotect(&sa->sk_in, msg, m->pl.sk.hdr_off +
	    IKE_GENHDR_LEN, len, plain, len, &plain_len) != 0) {
		free(plain);
		ike_sa_reason(out, "response %u: integrity check failed",
		    m->hdr.msgid);
		return IKE_SA_DROPPED;
	}
	OPENSSL_cleanse(plain, len);
	free(plain);
	sa->last_ms = now_ms;
	forget_old_del(q);
	/* Deleted: only its last answer is left (as when the peer deletes). */
	sa->msgid_next = UINT32_MAX;
	ike_sa_reason(out, "rekeyed IKE SA deleted");
	return IKE_SA_ANSWERED;
}

static enum ike_sa_result
response(struct ike_sa *sa, const uint8_t *msg, size_t len,
    struct ike_msg *m, uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	enum ike_sa_result res = IKE_SA_DROPPED;
	struct ike_child *ch;
	uint8_t *plain = NULL;
	size_t plain_len, hdr_len;
	uint32_t spi;
	bool parsed;

	if (sa->in_old)
		return old_response(sa, msg, len, m, now_ms, out);
	if (!is_live(sa) || q->kind == IKE_REQ_NONE) {
		ike_sa_reason(out, "a response, but no request of ours is "
		    "outstanding");
		return IKE_SA_DROPPED;
	}
	if (m->hdr.spi_r != sa->spi_r) {
		ike_sa_reason(out, "response: unknown responder SPI");
		return IKE_SA_DROPPED;
	}
	/* §2.2: a response must match our outstanding request's ID. */
	if (m->hdr.msgid != q->msgid || m->hdr.exchange != q->exchange) {
		ike_sa_reason(out, "response message ID %u exchange %u, "
		    "expected %u exchange %u", m->hdr.msgid, m->hdr.exchange,
		    q->msgid, q->exchange);
		return IKE_SA_DROPPED;
	}
	if (!(m->pl.have & IKE_HAVE_SK)) {
		ike_sa_reason(out, "response %u without an SK payload",
		    m->hdr.msgid);
		return IKE_SA_DROPPED;
	}
	if ((plain = malloc(len)) == NULL) {
		ike_sa_reason(out, "out of memory");
		return IKE_SA_DROPPED;
	}
	hdr_len = m->pl.sk.hdr_off + IKE_GENHDR_LEN;
	/* Authentic first: a forged response changes nothing. */
	if (ike_sk_unprotect(&sa->sk_in, msg, hdr_len, len, plain, len,
	    &plain_len) != 0) {
		ike_sa_reason(out, "response %u: integrity check failed",
		    m->hdr.msgid);
		goto out;
	}
	parsed = ike_payloads_parse(m->pl.sk.inner, plain, plain_len, m) ==
	    IKE_PARSE_OK;
	/* Authentic: the peer is alive and the exchange is over (§2.4). */
	sa->last_ms = now_ms;
	res = IKE_SA_ANSWERED;
	switch (q->kind) {
	case IKE_REQ_DELETE_IKE:
		/* §1.4.1: whatever the response says, the SA is gone. */
		ike_sa_reason(out, "IKE SA deleted (%s)", q->why_delete);
		ike_gone(sa, out);
		goto out;
	case IKE_REQ_DELETE_CHILD:
		spi = q->child_spi;
		/* Gone already if the peer deleted it too (§1.4.1). */
		if ((ch = ike_sa_child_by_spi_in(sa, spi)) != NULL) {
			ike_sa_child_remove(sa, ch, out);
			ike_sa_reason(out, "Child SA %08x deleted", spi);
		}
		break;
	case IKE_REQ_REKEY_CHILD:
		forget_req(q);
		if (parsed)
			rekey_child_done(sa, &m->pl, now_ms, out);
		else
			rekey_cleanup(q);
		goto parse;
	case IKE_REQ_REKEY_IKE:
		forget_req(q);
		if (parsed)
			rekey_ike_done(sa, &m->pl, now_ms, out);
		else
			rekey_cleanup(q);
		goto parse;
	case IKE_REQ_RR_CHECK:
		ike_info_rr_answered(&m->pl, parsed, q->rr_cookie, out);
		break;
	case IKE_REQ_DPD:
	case IKE_REQ_NONE:
		break;
	}
	forget_req(q);
parse:
	if (!parsed)
		ike_sa_reason(out, "response %u: %s at octet %zu", m->hdr.msgid,
		    ike_parse_strerror(m->err.reason), m->err.offset);
out:
	OPENSSL_cleanse(plain, len);
	free(plain);
	return res;
}

enum ike_sa_result
ike_req_response(struct ike_sa *sa, const uint8_t *msg, size_t len,
    struct ike_msg *m, uint64_t now_ms, struct ike_out *out)
{
	enum ike_sa_result res = response(sa, msg, len, m, now_ms, out);

	if (!sa->in_old)
		own_sync(sa);
	return res;
}
