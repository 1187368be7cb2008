/*
 * The responder IKE SA: lifecycle, state, message-ID window and
 * retransmissions (RFC 7296 §2.1, §2.2), SK protection of responses, and
 * the dispatch of each request to its exchange.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "framing/wire.h"
#include "ike/cp.h"
#include "ike/sa_int.h"

struct ike_sa *
ike_sa_new(const struct ike_sa_conf *conf, const struct ike_endpoint *local,
    const struct ike_endpoint *remote, unsigned flags)
{
	struct ike_sa *sa;

	if ((sa = calloc(1, sizeof(*sa))) == NULL)
		return NULL;
	sa->conf = conf;
	sa->state = IKE_SA_IDLE;
	sa->flags = flags;
	sa->local = *local;
	sa->remote = *remote;
	ike_reasm_init(&sa->reasm, IKE_SA_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	return sa;
}

static void
release_vip(struct ike_sa *sa)
{
	if (sa->vip != 0 && sa->conf->pool != NULL)
		ike_pool_release(sa->conf->pool, sa->vip);
	sa->vip = 0;
	if (sa->has_vip6 && sa->conf->pool6 != NULL)
		ike_pool6_release(sa->conf->pool6, sa->vip6);
	sa->has_vip6 = false;
}

void
ike_sa_free(struct ike_sa *sa)
{
	if (sa == NULL)
		return;
	release_vip(sa);
	ike_reasm_cleanup(&sa->reasm);
	ike_keys_cleanse(&sa->keys);
	ike_sk_cleanup(&sa->sk_in);
	ike_sk_cleanup(&sa->sk_out);
	ike_child_keys_cleanse(&sa->child.keys);
	free(sa->init_req);
	free(sa->init_resp);
	free(sa->resp);
	ike_req_cleanup(sa);
	ike_sa_free(sa->req.successor);
	OPENSSL_cleanse(sa, sizeof(*sa));
	free(sa);
}

const char *
ike_sa_state_name(enum ike_sa_state state)
{
	switch (state) {
	case IKE_SA_IDLE:
		return "IDLE";
	case IKE_SA_INIT_DONE:
		return "INIT_DONE";
	case IKE_SA_ESTABLISHED:
		return "ESTABLISHED";
	case IKE_SA_DELETING:
		return "DELETING";
	case IKE_SA_DEAD:
		return "DEAD";
	}
	return "?";
}

static bool
is_transition(enum ike_sa_state from, enum ike_sa_state to)
{
	switch (from) {
	case IKE_SA_IDLE:
		return to == IKE_SA_INIT_DONE || to == IKE_SA_DEAD;
	case IKE_SA_INIT_DONE:
		return to == IKE_SA_ESTABLISHED || to == IKE_SA_DEAD;
	case IKE_SA_ESTABLISHED:
		return to == IKE_SA_DELETING || to == IKE_SA_DEAD;
	case IKE_SA_DELETING:
		return to == IKE_SA_DEAD;
	case IKE_SA_DEAD:
		return false;
	}
	return false;
}

void
ike_sa_set_state(struct ike_sa *sa, enum ike_sa_state to)
{
	assert(is_transition(sa->state, to));
	sa->state = to;
	if (to == IKE_SA_DEAD)
		release_vip(sa);
	if (to == IKE_SA_ESTABLISHED)
		ike_req_established(sa, sa->last_ms);
}

enum ike_sa_state
ike_sa_state(const struct ike_sa *sa)
{
	return sa->state;
}

uint64_t
ike_sa_spi_i(const struct ike_sa *sa)
{
	return sa->spi_i;
}

uint64_t
ike_sa_spi_r(const struct ike_sa *sa)
{
	return sa->spi_r;
}

const struct ike_suite *
ike_sa_suite(const struct ike_sa *sa)
{
	return &sa->suite;
}

uint64_t
ike_sa_last_ms(const struct ike_sa *sa)
{
	return sa->last_ms;
}

const uint8_t *
ike_sa_peer_id(const struct ike_sa *sa, uint8_t *type, size_t *len)
{
	*type = sa->peer_id_type;
	*len = sa->peer_id_len;
	return sa->peer_id;
}

bool
ike_sa_initial_contact(const struct ike_sa *sa)
{
	return sa->initial_contact;
}

bool
ike_sa_nat_remote(const struct ike_sa *sa)
{
	return sa->nat_remote;
}

bool
ike_sa_nat_local(const struct ike_sa *sa)
{
	return sa->nat_local;
}

void
ike_sa_event(struct ike_out *out, enum ike_event_type type,
    const struct ike_child *child)
{
	assert(out->nev < IKE_SA_EVENTS_MAX);
	out->ev[out->nev].type = type;
	out->ev[out->nev].child = child;
	out->nev++;
}

void
ike_sa_reason(struct ike_out *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

int
ike_sa_respond(struct ike_sa *sa, uint32_t msgid, bool keep, uint8_t *buf,
    size_t len, struct ike_out *out)
{
	free(sa->resp);
	sa->resp = buf;
	sa->resp_len = len;
	sa->have_resp = keep;
	sa->resp_msgid = msgid;
	out->msg = buf;
	out->len = len;
	return 0;
}

static uint8_t *
begin(const struct ike_sa *sa, const struct ike_hdr *req, struct wr *w,
    struct ike_builder *b, uint64_t spi_r)
{
	struct ike_hdr h;
	uint8_t *buf;

	if ((buf = malloc(IKE_SA_MSG_MAX)) == NULL)
		return NULL;
	memset(&h, 0, sizeof(h));
	h.spi_i = req->spi_i;
	h.spi_r = spi_r;
	h.exchange = req->exchange;
	/* §3.1: I is set by the original initiator (us, after our rekey). */
	h.flags = IKE_FLAG_RESPONSE | (sa->we_init ? IKE_FLAG_INITIATOR : 0);
	h.msgid = req->msgid;
	*w = wr_make(buf, IKE_SA_MSG_MAX);
	ike_build_init(b, w, &h);
	return buf;
}

int
ike_sa_respond_sk(struct ike_sa *sa, const struct ike_hdr *req, uint8_t first,
    const uint8_t *inner, size_t inner_len, struct ike_out *out)
{
	struct ike_builder b;
	struct wr w;
	uint8_t *buf, *body;
	size_t body_len;

	if ((buf = begin(sa, req, &w, &b, sa->spi_r)) == NULL)
		return -1;
	body_len = ike_sk_len(&sa->sk_out, inner_len);
	if (body_len == 0 || ike_build_sk(&b, first, body_len, &body) != 0 ||
	    ike_build_finish(&b) != 0 ||
	    ike_sk_protect(&sa->sk_out, buf, (size_t)(body - buf), inner,
	    inner_len, body_len) != 0) {
		free(buf);
		return -1;
	}
	return ike_sa_respond(sa, req->msgid, true, buf, w.len, out);
}

int
ike_sa_respond_notify(struct ike_sa *sa, const struct ike_hdr *req,
    uint16_t type, const uint8_t *data, size_t data_len, struct ike_out *out)
{
	struct ike_builder b;
	struct ike_notify n;
	struct wr w;
	uint8_t *buf;

	/* §2.6, §1.3: these answers carry a zero responder SPI. */
	if ((buf = begin(sa, req, &w, &b, 0)) == NULL)
		return -1;
	memset(&n, 0, sizeof(n));
	n.type = type;
	n.data.p = data;
	n.data.len = data_len;
	if (ike_build_notify(&b, &n) != 0 || ike_build_finish(&b) != 0) {
		free(buf);
		return -1;
	}
	return ike_sa_respond(sa, req->msgid, false, buf, w.len, out);
}

static enum ike_sa_result
retransmit(const struct ike_sa *sa, struct ike_out *out)
{
	/* §2.2: the same bytes again, never a recomputed response. */
	out->msg = sa->resp;
	out->len = sa->resp_len;
	return IKE_SA_RETRANSMIT;
}

/* CREATE_CHILD_SA: rekeying and more Child SAs are not supported. */
static enum ike_sa_result
refuse_child(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	uint8_t inner[IKE_GENHDR_LEN + 4];
	struct ike_builder b;
	struct ike_notify n;
	struct wr w = wr_make(inner, sizeof(inner));

	ike_build_inner_init(&b, &w);
	memset(&n, 0, sizeof(n));
	n.type = IKE_N_NO_ADDITIONAL_SAS;
	if (ike_build_notify(&b, &n) != 0 || ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, &m->hdr, b.first, inner, w.len, out) != 0) {
		ike_sa_reason(out, "cannot build the response");
		return IKE_SA_DROPPED;
	}
	ike_sa_reason(out, "CREATE_CHILD_SA refused: NO_ADDITIONAL_SAS");
	return IKE_SA_ANSWERED;
}

/*
 * An authentic request whose inner payloads do not parse: §3.10.1 allows
 * INVALID_SYNTAX (or UNSUPPORTED_CRITICAL_PAYLOAD) only now, "for and in
 * an encrypted packet if the Message ID and cryptographic checksum were
 * valid".  An IKE SA that was being authenticated cannot go on.
 */
static enum ike_sa_result
refuse_syntax(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	uint8_t inner[IKE_GENHDR_LEN + 4 + 1];
	struct ike_builder b;
	struct ike_notify n;
	struct wr w = wr_make(inner, sizeof(inner));
	uint8_t type = m->err.payload;

	ike_sa_reason(out, "message ID %u: %s at octet %zu", m->hdr.msgid,
	    ike_parse_strerror(m->err.reason), m->err.offset);
	if (m->err.notify == 0)
		return IKE_SA_DROPPED;
	ike_build_inner_init(&b, &w);
	memset(&n, 0, sizeof(n));
	n.type = m->err.notify;
	if (n.type == IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD) {
		n.data.p = &type;
		n.data.len = 1;
	}
	if (ike_build_notify(&b, &n) != 0 || ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, &m->hdr, b.first, inner, w.len, out) != 0)
		return IKE_SA_DROPPED;
	if (sa->state == IKE_SA_INIT_DONE)
		ike_sa_set_state(sa, IKE_SA_DEAD);
	return IKE_SA_ANSWERED;
}

/* A protected request: verify, decrypt, check the window, dispatch. */
static enum ike_sa_result
protected(struct ike_sa *sa, const uint8_t *msg, size_t len,
    struct ike_msg *m, uint64_t now_ms, struct ike_out *out)
{
	enum ike_sa_result res = IKE_SA_DROPPED;
	enum ike_parse_result pr;
	uint8_t *plain = NULL, *whole = NULL, first;
	size_t plain_len, whole_len = 0, hdr_len;
	uint32_t msgid = m->hdr.msgid;
	bool frag = (m->pl.have & IKE_HAVE_SKF) != 0;

	if (sa->state == IKE_SA_IDLE) {
		ike_sa_reason(out, "%s before IKE_SA_INIT", "request");
		goto out;
	}
	if (m->hdr.spi_r != sa->spi_r) {
		ike_sa_reason(out, "unknown responder SPI");
		goto out;
	}
	if (!(m->pl.have & (IKE_HAVE_SK | IKE_HAVE_SKF))) {
		ike_sa_reason(out, "exchange %u without an SK payload",
		    m->hdr.exchange);
		goto out;
	}
	if ((plain = malloc(len)) == NULL) {
		ike_sa_reason(out, "out of memory");
		goto out;
	}
	/* SKF: Fragment Number and Total Fragments follow the header. */
	hdr_len = m->pl.sk.hdr_off + IKE_GENHDR_LEN + (frag ? 4 : 0);
	/* Authentic first: a forged message ID must not trigger a resend. */
	if (ike_sk_unprotect(&sa->sk_in, msg, hdr_len, len, plain, len,
	    &plain_len) != 0) {
		ike_sa_reason(out, "message ID %u: integrity check failed",
		    msgid);
		goto out;
	}
	if (sa->have_resp && msgid == sa->resp_msgid) {
		/* One resend per retransmitted fragmented request. */
		if (frag && m->pl.sk.frag_num != 1)
			ike_sa_reason(out, "retransmitted fragment %u",
			    m->pl.sk.frag_num);
		else
			res = retransmit(sa, out);
		goto out;
	}
	if (msgid != sa->msgid_next) {
		ike_sa_reason(out, "message ID %u, expected %u", msgid,
		    sa->msgid_next);
		goto out;
	}
	if (sa->state == IKE_SA_DEAD) {
		ike_sa_reason(out, "request to a dead IKE SA");
		goto out;
	}
	first = m->pl.sk.inner;
	if (frag) {
		/* RFC 7383 §2.6: verified fragments, reassembled. */
		switch (ike_reasm_add(&sa->reasm, now_ms, msgid,
		    m->pl.sk.frag_num, m->pl.sk.frag_total, first, plain,
		    plain_len)) {
		case IKE_FRAG_COMPLETE:
			break;
		case IKE_FRAG_MORE:
			res = IKE_SA_FRAGMENT;
			goto out;
		default:
			ike_sa_reason(out, "message ID %u: fragment %u/%u "
			    "not kept", msgid, m->pl.sk.frag_num,
			    m->pl.sk.frag_total);
			goto out;
		}
		if ((whole = malloc(IKE_SA_REASM_BYTES)) == NULL ||
		    ike_reasm_take(&sa->reasm, msgid, whole,
		    IKE_SA_REASM_BYTES, &whole_len, &first) != 0) {
			ike_reasm_drop(&sa->reasm, msgid);
			ike_sa_reason(out, "message ID %u: reassembly failed",
			    msgid);
			goto out;
		}
		pr = ike_payloads_parse(first, whole, whole_len, m);
	} else
		pr = ike_payloads_parse(first, plain, plain_len, m);
	if (pr != IKE_PARSE_OK) {
		if ((res = refuse_syntax(sa, m, out)) == IKE_SA_ANSWERED)
			sa->msgid_next = msgid + 1;
		goto out;
	}
	sa->last_ms = now_ms;
	switch (m->hdr.exchange) {
	case IKE_EXCH_IKE_AUTH:
		if (sa->state != IKE_SA_INIT_DONE) {
			ike_sa_reason(out, "IKE_AUTH in state %s",
			    ike_sa_state_name(sa->state));
			goto out;
		}
		res = ike_exch_auth(sa, m, out);
		break;
	case IKE_EXCH_INFORMATIONAL:
		res = ike_exch_info(sa, m, out);
		break;
	case IKE_EXCH_CREATE_CHILD_SA:
		if (sa->state != IKE_SA_ESTABLISHED) {
			ike_sa_reason(out, "CREATE_CHILD_SA in state %s",
			    ike_sa_state_name(sa->state));
			goto out;
		}
		res = refuse_child(sa, m, out);
		break;
	default:
		ike_sa_reason(out, "exchange type %u not supported",
		    m->hdr.exchange);
		goto out;
	}
	if (res == IKE_SA_ANSWERED)
		sa->msgid_next = msgid + 1;
out:
	if (plain != NULL) {
		OPENSSL_cleanse(plain, len);
		free(plain);
	}
	if (whole != NULL) {
		OPENSSL_cleanse(whole, IKE_SA_REASM_BYTES);
		free(whole);
	}
	return res;
}

enum ike_sa_result
ike_sa_handle(struct ike_sa *sa, const uint8_t *msg, size_t len,
    uint64_t now_ms, struct ike_out *out)
{
	enum ike_sa_result res = IKE_SA_DROPPED;
	enum ike_parse_result pr;
	struct ike_msg *m;

	memset(out, 0, sizeof(*out));
	if (len > IKE_SA_MSG_MAX) {
		ike_sa_reason(out, "message of %zu octets > %d", len,
		    IKE_SA_MSG_MAX);
		return IKE_SA_DROPPED;
	}
	if ((m = malloc(sizeof(*m))) == NULL) {
		ike_sa_reason(out, "out of memory");
		return IKE_SA_DROPPED;
	}
	pr = ike_msg_parse(msg, len, m);
	if (pr != IKE_PARSE_OK) {
		ike_sa_reason(out, "unparsable message: %s at octet %zu",
		    ike_parse_strerror(m->err.reason), m->err.offset);
		goto out;
	}
	/*
	 * §3.1: the original initiator sets it in requests and responses --
	 * the peer, unless we rekeyed the IKE SA (§2.18).
	 */
	if (((m->hdr.flags & IKE_FLAG_INITIATOR) != 0) == sa->we_init) {
		ike_sa_reason(out, "a message with the wrong Initiator flag");
		goto out;
	}
	if (sa->state != IKE_SA_IDLE && m->hdr.spi_i != sa->spi_i) {
		ike_sa_reason(out, "unknown initiator SPI");
		goto out;
	}
	if (m->hdr.flags & IKE_FLAG_RESPONSE) {
		res = ike_req_response(sa, msg, len, m, now_ms, out);
		goto out;
	}
	if (m->hdr.exchange != IKE_EXCH_IKE_SA_INIT) {
		res = protected(sa, msg, len, m, now_ms, out);
		goto out;
	}
	if (m->hdr.msgid != 0 || m->hdr.spi_r != 0) {
		ike_sa_reason(out, "IKE_SA_INIT with message ID %u",
		    m->hdr.msgid);
		goto out;
	}
	if (sa->state == IKE_SA_IDLE) {
		res = ike_exch_init(sa, msg, len, m, out);
		if (res == IKE_SA_ANSWERED && sa->state == IKE_SA_INIT_DONE)
			sa->last_ms = now_ms;
	} else if (sa->have_resp && sa->resp_msgid == 0)
		res = retransmit(sa, out);
	else
		ike_sa_reason(out, "IKE_SA_INIT again after IKE_AUTH");
out:
	free(m);
	return res;
}
