/*
 * Requests the responder initiates (RFC 7296 §1.4, §2.1-§2.4, §1.4.1):
 * liveness checks (DPD), Delete of the IKE SA (shutdown, hard lifetime)
 * and of the Child SA (its hard lifetime).  One request outstanding at a
 * time (window 1) under our own message-ID counter, kept for resending
 * until its authentic response arrives or the budget (dpd_timeout_ms)
 * runs out, when the peer is declared dead.  ike/README, "Requests we
 * initiate", has the schedule over a stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "framing/wire.h"
#include "ike/sa_int.h"

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
	}
	return "?";
}

static unsigned
budget_ms(const struct ike_sa *sa)
{
	return sa->conf->dpd_timeout_ms != 0 ? sa->conf->dpd_timeout_ms :
	    IKE_SA_DPD_TIMEOUT_MS;
}

void
ike_req_cleanup(struct ike_sa *sa)
{
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
	if (c->ike_lifetime_ms != 0)
		sa->req.ike_expire_ms = now_ms + c->ike_lifetime_ms;
	if (c->child_lifetime_ms != 0)	/* the first Child SA comes with it */
		sa->req.child_expire_ms = now_ms + c->child_lifetime_ms;
}

bool
ike_req_deleting_child(const struct ike_sa *sa, uint32_t spi)
{
	return sa->req.kind == IKE_REQ_DELETE_CHILD && sa->req.child_spi == spi;
}

/*
 * Protects @inner (first payload type @first) as request @exch under our
 * next message ID, keeps it as the outstanding request and points
 * out->msg at it.  §3.1: we are the original responder, so neither the
 * Initiator nor the Response flag is set.
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
	h.flags = 0;
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
	if (q->want_delete)
		return 0;
	if (q->ike_expire_ms != 0)
		t = min64(t, q->ike_expire_ms);
	if (q->child_expire_ms != 0 && sa->child_up)
		t = min64(t, q->child_expire_ms);
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
		}
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
