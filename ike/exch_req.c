/*
 * Requests the responder initiates (RFC 7296 §1.4, §2.1-§2.4, §1.4.1):
 * liveness checks (DPD), Delete of the IKE SA (shutdown, hard lifetime)
 * and of the Child SA (its hard lifetime), and the rekey of the Child SA
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
	REQ_INNER_MAX	= 2048,		/* a CREATE_CHILD_SA request's plaintext */
	SPI_TRIES	= 8		/* a non-zero inbound SPI */
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

static uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

static uint32_t
new_spi(const struct ike_sa_conf *conf)
{
	uint8_t b[4];
	uint32_t spi = 0;

	for (int i = 0; i < SPI_TRIES && spi == 0; i++) {
		if (conf->spi != NULL)
			spi = conf->spi(conf->spi_arg);
		else if (RAND_bytes(b, sizeof(b)) == 1)
			spi = load_be32(b);
	}
	return spi;
}

static unsigned
budget_ms(const struct ike_sa *sa)
{
	return sa->conf->dpd_timeout_ms != 0 ? sa->conf->dpd_timeout_ms :
	    IKE_SA_DPD_TIMEOUT_MS;
}

static void
rekey_cleanup(struct ike_req *q)
{
	ike_kex_free(q->rk_kex);
	q->rk_kex = NULL;
	OPENSSL_cleanse(q->rk_ni, sizeof(q->rk_ni));
	ike_child_keys_cleanse(&q->rk.keys);
}

void
ike_req_cleanup(struct ike_sa *sa)
{
	rekey_cleanup(&sa->req);
	free(sa->req.msg);
	sa->req.msg = NULL;
	sa->req.len = 0;
	sa->req.kind = IKE_REQ_NONE;
}

void
ike_req_established(struct ike_sa *sa, uint64_t now_ms)
{
	const struct ike_sa_conf *c = sa->conf;

	sa->req.up_ms = now_ms;
	if (c->ike_lifetime_ms != 0) {
		sa->req.ike_expire_ms = now_ms + c->ike_lifetime_ms;
		sa->req.ike_rekey_ms = rekey_at(now_ms, c->ike_lifetime_ms);
	}
	if (c->child_lifetime_ms != 0) {	/* the first Child SA with it */
		sa->req.child_expire_ms = now_ms + c->child_lifetime_ms;
		sa->req.child_rekey_ms = rekey_at(now_ms,
		    c->child_lifetime_ms);
	}
}

bool
ike_req_deleting_child(const struct ike_sa *sa, uint32_t spi)
{
	return sa->req.kind == IKE_REQ_DELETE_CHILD && sa->req.child_spi == spi;
}

/*
 * Protects @inner (first payload type @first) as request @exch under our
 * next message ID, keeps it as the outstanding request and points
 * out->msg at it.  §3.1: no Response flag; the Initiator flag only when
 * we are the original initiator (after our rekey of the IKE SA).
 */
static int
send_req(struct ike_sa *sa, enum ike_req_kind kind, uint8_t exch,
    uint8_t first, const uint8_t *inner, size_t inner_len, uint64_t now_ms,
    struct ike_out *out)
{
	struct ike_builder b;
	struct ike_hdr h;
	struct wr w;
	uint8_t *buf, *body;
	size_t body_len;

	if ((buf = malloc(IKE_SA_MSG_MAX)) == NULL)
		return -1;
	memset(&h, 0, sizeof(h));
	h.spi_i = sa->spi_i;
	h.spi_r = sa->spi_r;
	h.exchange = exch;
	h.flags = sa->we_init ? IKE_FLAG_INITIATOR : 0;
	h.msgid = sa->req.msgid_next;
	w = wr_make(buf, IKE_SA_MSG_MAX);
	ike_build_init(&b, &w, &h);
	body_len = ike_sk_len(&sa->sk_out, inner_len);
	if (body_len == 0 || ike_build_sk(&b, first, body_len, &body) != 0 ||
	    ike_build_finish(&b) != 0 ||
	    ike_sk_protect(&sa->sk_out, buf, (size_t)(body - buf), inner,
	    inner_len, body_len) != 0) {
		free(buf);
		return -1;
	}
	free(sa->req.msg);
	sa->req.msg = buf;
	sa->req.len = w.len;
	sa->req.kind = kind;
	sa->req.exchange = exch;
	sa->req.msgid = sa->req.msgid_next++;
	sa->req.sent_ms = now_ms;
	sa->req.rtx_gap_ms = IKE_SA_RTX_FIRST_MS;
	sa->req.rtx_ms = now_ms + IKE_SA_RTX_FIRST_MS;
	out->msg = buf;
	out->len = w.len;
	out->resend = false;
	return 0;
}

/* An INFORMATIONAL with at most one Delete (@proto IKE or ESP @spi). */
static int
send_info(struct ike_sa *sa, enum ike_req_kind kind, uint8_t proto,
    uint32_t spi, uint64_t now_ms, struct ike_out *out)
{
	uint8_t inner[IKE_GENHDR_LEN + 4 + 4], spi_b[4];
	struct ike_builder b;
	struct ike_delete d;
	struct wr w = wr_make(inner, sizeof(inner));

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
	return send_req(sa, kind, IKE_EXCH_INFORMATIONAL, b.first, inner,
	    w.len, now_ms, out);
}

static void
child_gone(struct ike_sa *sa, struct ike_out *out)
{
	if (!sa->child_up)
		return;
	sa->child_up = false;
	sa->req.child_expire_ms = 0;
	ike_child_keys_cleanse(&sa->child.keys);
	ike_sa_event(out, IKE_EV_CHILD_DOWN, &sa->child);
}

/* The IKE SA ends here: its Child SA with it (§1.4.1), the VIP released. */
static void
ike_gone(struct ike_sa *sa, struct ike_out *out)
{
	child_gone(sa, out);
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

/* The PFS group for a rekey: the first of our ESP proposals' groups. */
static enum ike_dh
pfs_group(const struct ike_sa *sa)
{
	for (size_t i = 0; i < sa->conf->nesp; i++)
		if (sa->conf->esp[i].ndh > 0)
			return (enum ike_dh)sa->conf->esp[i].dh[0];
	return IKE_DH_NONE;
}

/* What we offer: the Child SA's own suite (the peer took it once). */
static void
rekey_offer(const struct ike_child *ch, struct ike_chosen *c)
{
	memset(c, 0, sizeof(*c));
	c->num = 1;
	c->proto = IKE_PROTO_ESP;
	c->suite = ch->suite;
	c->has_integ = ch->suite.integ != IKE_INTEG_NONE;
	c->has_dh = ch->suite.dh != IKE_DH_NONE;
	c->has_esn = true;
	c->esn = ch->esn ? IKE_ESN_YES : IKE_ESN_NO;
}

/*
 * §1.3.3: CREATE_CHILD_SA {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr} for the
 * Child SA.  We initiate this exchange, so TSi is our side and TSr the
 * peer's (§2.9); REKEY_SA names the SA by our inbound SPI.
 */
static int
start_rekey_child(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
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

	rekey_cleanup(q);
	memset(&q->rk, 0, sizeof(q->rk));
	q->rk = sa->child;
	memset(&q->rk.keys, 0, sizeof(q->rk.keys));
	q->rk.suite.dh = pfs_group(sa);
	if ((q->rk.spi_in = new_spi(sa->conf)) == 0 ||
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
	rekey_offer(&q->rk, &c);
	store_be32(spi_new, q->rk.spi_in);
	ike_proposal_response(&c, spi_new, 4, sa_pl);
	store_be32(spi_old, sa->child.spi_in);
	memset(&n, 0, sizeof(n));
	n.proto = IKE_PROTO_ESP;
	n.type = IKE_N_REKEY_SA;
	n.spi.p = spi_old;
	n.spi.len = 4;
	memset(&tsi, 0, sizeof(tsi));
	memset(&tsr, 0, sizeof(tsr));
	tsi.count = tsr.count = 1;
	tsi.ts[0] = sa->child.tsr;
	tsr.ts[0] = sa->child.tsi;
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
out:
	if (rc != 0) {
		rekey_cleanup(q);
		ike_sa_reason(out, "cannot build the Child SA rekey");
	}
	free(inner);
	free(sa_pl);
	return rc;
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

/*
 * Our rekey's response: the new Child SA replaces the old (CHILD_UP),
 * whose Delete is queued (§2.8: the initiator of the rekey deletes the
 * old SA).  A refusal leaves the old one, to be tried again at half its
 * remaining life; the hard lifetime deletes it in the end.
 */
static void
rekey_child_done(struct ike_sa *sa, const struct ike_payloads *pl,
    uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	const struct ike_sa_conf *conf = sa->conf;
	uint8_t gir[IKE_KEX_SECRET_MAX];
	size_t gir_len = 0;
	struct ike_child_keys k;
	struct ike_prop offer;
	struct ike_chosen c;
	uint16_t err;

	memset(&k, 0, sizeof(k));
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
	    load_be32(c.spi) == 0) {
		ike_sa_reason(out, "Child SA rekey: the response's SA or "
		    "nonce is not acceptable");
		goto fail;
	}
	if (q->rk_kex != NULL) {
		gir_len = ike_kex_secret_len(q->rk.suite.dh);
		if (!(pl->have & IKE_HAVE_KE) || pl->ke.group != q->rk.suite.dh ||
		    gir_len > sizeof(gir) || ike_kex_derive(q->rk_kex,
		    pl->ke.data.p, pl->ke.data.len, gir, gir_len) != 0) {
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
	/* Commit.  ike_child keeps ei/ai inbound, er/ar outbound. */
	q->rk.keys.encr_len = k.encr_len;
	q->rk.keys.integ_len = k.integ_len;
	memcpy(q->rk.keys.ei, k.er, sizeof(k.er));
	memcpy(q->rk.keys.ai, k.ar, sizeof(k.ar));
	memcpy(q->rk.keys.er, k.ei, sizeof(k.ei));
	memcpy(q->rk.keys.ar, k.ai, sizeof(k.ai));
	q->rk.spi_out = load_be32(c.spi);
	if (!sa->child_up) {
		/* The peer deleted the old one meanwhile: drop the new. */
		memset(&q->old, 0, sizeof(q->old));
		q->old.spi_in = q->rk.spi_in;
		q->old.spi_out = q->rk.spi_out;
		q->del_old = true;
		ike_sa_reason(out, "Child SA rekeyed after its Delete: "
		    "deleting the new one");
		goto out;
	}
	memset(&q->old, 0, sizeof(q->old));
	q->old.spi_in = sa->child.spi_in;
	q->old.spi_out = sa->child.spi_out;
	q->old.vip = sa->child.vip;
	q->del_old = true;
	ike_child_keys_cleanse(&sa->child.keys);
	sa->child = q->rk;
	ike_sa_event(out, IKE_EV_CHILD_UP, &sa->child);
	q->child_expire_ms = now_ms + conf->child_lifetime_ms;
	q->child_rekey_ms = rekey_at(now_ms, conf->child_lifetime_ms);
	ike_sa_reason(out, "Child SA %08x rekeyed: %08x/%08x", q->old.spi_in,
	    sa->child.spi_in, sa->child.spi_out);
	goto out;
fail:
	q->child_rekey_ms = q->child_expire_ms > now_ms + 2000 ?
	    now_ms + (q->child_expire_ms - now_ms) / 2 : 0;
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

	rekey_cleanup(q);
	q->rk_suite = sa->suite;
	do {
		if (RAND_bytes(spi, sizeof(spi)) != 1)
			goto out;
	} while ((q->rk_spi = get_be64(spi)) == 0);
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
 * §2.18: the new IKE SA, with us as its original initiator (we started
 * the rekey), message IDs from 0, the Child SA and virtual IP moved to it
 * from @sa.  Consumes @keys (cleansed on every path).
 */
static struct ike_sa *
successor_new(struct ike_sa *sa, const struct ike_suite *suite,
    struct ike_keys *keys, uint64_t spi_r, const uint8_t *nr, size_t nr_len,
    uint64_t now_ms)
{
	struct ike_req *q = &sa->req;
	const struct ike_sa_conf *c = sa->conf;
	struct ike_sa *n;

	if (nr_len > IKE_NONCE_MAX ||
	    (n = ike_sa_new(c, &sa->local, &sa->remote, 0)) == NULL) {
		ike_keys_cleanse(keys);
		return NULL;
	}
	n->keys = *keys;
	ike_keys_cleanse(keys);
	n->suite = *suite;
	if (ike_sk_init_pair(&n->sk_out, &n->sk_in, suite, &n->keys,
	    true) != 0) {
		ike_sa_free(n);
		return NULL;
	}
	n->we_init = true;
	n->state = IKE_SA_ESTABLISHED;	/* authenticated by its parent */
	n->spi_i = q->rk_spi;
	n->spi_r = spi_r;
	memcpy(n->ni, q->rk_ni, sizeof(q->rk_ni));
	n->ni_len = sizeof(q->rk_ni);
	memcpy(n->nr, nr, nr_len);
	n->nr_len = nr_len;
	n->peer_id_type = sa->peer_id_type;
	memcpy(n->peer_id, sa->peer_id, sa->peer_id_len);
	n->peer_id_len = sa->peer_id_len;
	n->nat_local = sa->nat_local;
	n->nat_remote = sa->nat_remote;
	n->hash_algs = sa->hash_algs;
	n->hash_mask = sa->hash_mask;
	n->last_ms = now_ms;
	ike_req_established(n, now_ms);
	/* The Child SA keeps its own lifetimes; it is not rekeyed here. */
	n->req.child_expire_ms = q->child_expire_ms;
	n->req.child_rekey_ms = q->child_rekey_ms;
	n->child = sa->child;
	n->child_up = sa->child_up;
	n->vip = sa->vip;
	n->has_vip6 = sa->has_vip6;
	memcpy(n->vip6, sa->vip6, sizeof(n->vip6));
	sa->child_up = false;
	sa->vip = 0;
	sa->has_vip6 = false;
	ike_child_keys_cleanse(&sa->child.keys);
	q->child_expire_ms = q->child_rekey_ms = 0;
	return n;
}

/* Our IKE SA rekey's response {SA, Nr, KEr}: the successor, then our
 * own Delete (§2.18: the old IKE SA is deleted by the rekey's initiator). */
static void
rekey_ike_done(struct ike_sa *sa, const struct ike_payloads *pl,
    uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	uint8_t gir[IKE_KEX_SECRET_MAX], spi_i[IKE_SPI_LEN];
	size_t gir_len = ike_kex_secret_len(q->rk_suite.dh);
	struct ike_keys keys;
	struct ike_prop offer;
	struct ike_chosen c;
	struct ike_sa *n;
	uint16_t err;

	memset(&keys, 0, sizeof(keys));
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
	    get_be64(c.spi) == 0 || pl->ke.group != q->rk_suite.dh ||
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
	/* §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr). */
	put_be64(spi_i, q->rk_spi);
	if (ike_keys_rekey_sa(&c.suite, sa->suite.prf, sa->keys.sk_d,
	    sa->keys.prf_len, gir, gir_len, q->rk_ni, sizeof(q->rk_ni),
	    pl->nonce.p, pl->nonce.len, spi_i, c.spi, &keys) != 0 ||
	    (n = successor_new(sa, &c.suite, &keys, get_be64(c.spi),
	    pl->nonce.p, pl->nonce.len, now_ms)) == NULL) {
		ike_sa_reason(out, "IKE SA rekey: key derivation failed");
		goto fail;
	}
	q->successor = n;
	q->rekeyed = true;
	q->want_delete = true;
	q->why_delete = "rekeyed";
	q->ike_rekey_ms = 0;
	ike_sa_event(out, IKE_EV_IKE_REKEYED, NULL);
	ike_sa_reason(out, "IKE SA rekeyed: %016llx_%016llx",
	    (unsigned long long)n->spi_i, (unsigned long long)n->spi_r);
	goto out;
fail:
	q->ike_rekey_ms = q->ike_expire_ms > now_ms + 2000 ?
	    now_ms + (q->ike_expire_ms - now_ms) / 2 : 0;
out:
	OPENSSL_cleanse(gir, sizeof(gir));
	ike_keys_cleanse(&keys);
	rekey_cleanup(q);
}

struct ike_sa *
ike_sa_successor(struct ike_sa *sa)
{
	struct ike_sa *n = sa->req.successor;

	sa->req.successor = NULL;
	return n;
}

static bool
is_live(const struct ike_sa *sa)
{
	return sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_DELETING;
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t
ike_sa_next_ms(const struct ike_sa *sa)
{
	const struct ike_req *q = &sa->req;
	uint64_t t = UINT64_MAX;

	if (!is_live(sa))
		return UINT64_MAX;
	if (q->kind != IKE_REQ_NONE)
		return min64(q->rtx_ms, q->sent_ms + budget_ms(sa));
	if (q->want_delete || q->del_old)
		return 0;
	if (q->ike_expire_ms != 0)
		t = min64(t, q->ike_expire_ms);
	if (q->child_expire_ms != 0 && sa->child_up)
		t = min64(t, q->child_expire_ms);
	if (q->child_rekey_ms != 0 && sa->child_up)
		t = min64(t, q->child_rekey_ms);
	if (q->ike_rekey_ms != 0)
		t = min64(t, q->ike_rekey_ms);
	if (sa->conf->dpd_delay_ms != 0)
		t = min64(t, sa->last_ms + sa->conf->dpd_delay_ms);
	return t;
}

void
ike_sa_tick(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;

	memset(out, 0, sizeof(*out));
	if (!is_live(sa))
		return;
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
			/* §2.1: bitwise identical, never re-protected. */
			out->msg = q->msg;
			out->len = q->len;
			out->resend = true;
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
	if (q->del_old) {
		/* §2.8: the rekey's initiator deletes the old Child SA. */
		if (send_info(sa, IKE_REQ_DELETE_CHILD, IKE_PROTO_ESP,
		    q->old.spi_in, now_ms, out) != 0) {
			ike_sa_reason(out, "cannot build the Delete request");
			return;
		}
		q->child_spi = q->old.spi_in;
		q->del_old = false;
		return;
	}
	if (q->child_expire_ms != 0 && sa->child_up &&
	    now_ms >= q->child_expire_ms) {
		if (send_info(sa, IKE_REQ_DELETE_CHILD, IKE_PROTO_ESP,
		    sa->child.spi_in, now_ms, out) != 0) {
			ike_sa_reason(out, "cannot build the Delete request");
			return;
		}
		q->child_spi = sa->child.spi_in;
		ike_sa_reason(out, "deleting Child SA %08x: lifetime reached",
		    sa->child.spi_in);
		return;
	}
	if (q->ike_rekey_ms != 0 && now_ms >= q->ike_rekey_ms) {
		q->ike_rekey_ms = 0;
		(void)start_rekey_ike(sa, now_ms, out);
		return;
	}
	if (q->child_rekey_ms != 0 && sa->child_up &&
	    now_ms >= q->child_rekey_ms) {
		q->child_rekey_ms = 0;
		(void)start_rekey_child(sa, now_ms, out);
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
ike_sa_alive(struct ike_sa *sa, uint64_t now_ms)
{
	if (now_ms > sa->last_ms)
		sa->last_ms = now_ms;
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
	return 0;
}

enum ike_sa_result
ike_req_response(struct ike_sa *sa, const uint8_t *msg, size_t len,
    struct ike_msg *m, uint64_t now_ms, struct ike_out *out)
{
	struct ike_req *q = &sa->req;
	enum ike_sa_result res = IKE_SA_DROPPED;
	uint8_t *plain = NULL;
	size_t plain_len, hdr_len;
	uint32_t spi;
	bool parsed;

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
		if (sa->child_up && sa->child.spi_in == spi) {
			child_gone(sa, out);
			ike_sa_reason(out, "Child SA %08x deleted (lifetime "
			    "reached)", spi);
		} else if (q->old.spi_in == spi) {
			/* A rekeyed one: its inbound SA can go now. */
			ike_sa_event(out, IKE_EV_CHILD_DOWN, &q->old);
		}
		break;
	case IKE_REQ_REKEY_CHILD:
		if (parsed)
			rekey_child_done(sa, &m->pl, now_ms, out);
		else
			rekey_cleanup(q);
		break;
	case IKE_REQ_REKEY_IKE:
		if (parsed)
			rekey_ike_done(sa, &m->pl, now_ms, out);
		else
			rekey_cleanup(q);
		break;
	case IKE_REQ_DPD:
	case IKE_REQ_NONE:
		break;
	}
	if (!parsed)
		ike_sa_reason(out, "response %u: %s at octet %zu", m->hdr.msgid,
		    ike_parse_strerror(m->err.reason), m->err.offset);
	free(q->msg);
	q->msg = NULL;
	q->len = 0;
	q->kind = IKE_REQ_NONE;
out:
	OPENSSL_cleanse(plain, len);
	free(plain);
	return res;
}
