/*
 * The responder IKE SA: lifecycle, state, message-ID window and
 * retransmissions (RFC 7296 §2.1, §2.2), SK protection of responses, and
 * the dispatch of each request to its exchange; the Child SA table and
 * the switch to a rekeyed IKE SA (§2.18), whose predecessor lingers here
 * until the initiator deletes it.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

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

static void
drop_old(struct ike_sa *sa)
{
	if (!sa->has_old)
		return;
	ike_sk_cleanup(&sa->old.sk_in);
	ike_sk_cleanup(&sa->old.sk_out);
	free(sa->old.resp);
	ike_frags_free(&sa->old.resp_frags);
	memset(&sa->old, 0, sizeof(sa->old));
	sa->has_old = false;
}

void
ike_sa_free(struct ike_sa *sa)
{
	size_t i;

	if (sa == NULL)
		return;
	release_vip(sa);
	ike_reasm_cleanup(&sa->reasm);
	ike_keys_cleanse(&sa->keys);
	ike_sk_cleanup(&sa->sk_in);
	ike_sk_cleanup(&sa->sk_out);
	for (i = 0; i < IKE_SA_CHILD_MAX; i++)
		ike_child_keys_cleanse(&sa->children[i].ch.keys);
	drop_old(sa);
	ike_req_cleanup(sa);
	ike_sa_eap_free(sa);
	free(sa->init_req);
	free(sa->init_resp);
	free(sa->resp);
	ike_frags_free(&sa->resp_frags);
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
	if (to == IKE_SA_DEAD) {
		release_vip(sa);
		/* No backend answer (a RADIUS request) outlives the SA. */
		ike_sa_eap_end(sa);
	}
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

bool
ike_sa_knows_spi_i(const struct ike_sa *sa, uint64_t spi_i)
{
	return spi_i == sa->spi_i || (sa->has_old && spi_i == sa->old.spi_i);
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

enum ike_sa_auth
ike_sa_peer_auth(const struct ike_sa *sa)
{
	return sa->peer_auth_method;
}

const char *
ike_sa_auth_name(enum ike_sa_auth a)
{
	static const char *const names[IKE_SA_AUTH_N] = {
		[IKE_SA_AUTH_NONE] = "none",
		[IKE_SA_AUTH_PSK] = "psk",
		[IKE_SA_AUTH_CERT] = "certificate",
		[IKE_SA_AUTH_EAP] = "eap",
		[IKE_SA_AUTH_OTHER] = "other",
	};

	return (size_t)a < IKE_SA_AUTH_N ? names[a] : "other";
}

const uint8_t *
ike_sa_peer_id(const struct ike_sa *sa, uint8_t *type, size_t *len)
{
	*type = sa->peer_id_type;
	*len = sa->peer_id_len;
	return sa->peer_id;
}

void
ike_sa_set_eap_owner(struct ike_sa *sa, void *owner)
{
	sa->eap_owner = owner;
}

const char *
ike_sa_eap_identity(const struct ike_sa *sa)
{
	return sa->eap != NULL ? sa->eap->identity : "";
}

bool
ike_sa_initial_contact(const struct ike_sa *sa)
{
	return sa->initial_contact;
}

void
ike_sa_set_path(struct ike_sa *sa, const struct ike_endpoint *local,
    const struct ike_endpoint *remote, bool fake_nat)
{
	sa->local = *local;
	sa->remote = *remote;
	if (fake_nat)
		sa->flags |= IKE_SA_F_FAKE_NAT;
	else
		sa->flags &= ~(unsigned)IKE_SA_F_FAKE_NAT;
}

bool
ike_sa_mobike(const struct ike_sa *sa)
{
	return sa->mobike;
}

const struct ike_notify *
ike_sa_notify(const struct ike_payloads *pl, uint16_t type)
{
	size_t i;

	for (i = 0; i < pl->nnotify; i++)
		if (pl->notify[i].type == type)
			return &pl->notify[i];
	return NULL;
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

bool
ike_sa_frag(const struct ike_sa *sa)
{
	return sa->frag;
}

void
ike_sa_event(struct ike_out *out, enum ike_event_type type,
    const struct ike_child *child)
{
	assert(out->nev < IKE_SA_EVENTS_MAX);
	memset(&out->ev[out->nev], 0, sizeof(out->ev[0]));
	out->ev[out->nev].type = type;
	out->ev[out->nev].child = child;
	out->nev++;
}

size_t
ike_sa_child_count(const struct ike_sa *sa)
{
	size_t i, n = 0;

	for (i = 0; i < IKE_SA_CHILD_MAX; i++)
		n += sa->children[i].used;
	return n;
}

struct ike_child *
ike_sa_child_install(struct ike_sa *sa, const struct ike_child *ch,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len)
{
	struct ike_child_slot *sl;
	size_t i;

	assert(ni_len <= IKE_NONCE_MAX && nr_len <= IKE_NONCE_MAX);
	for (i = 0; i < IKE_SA_CHILD_MAX; i++)
		if (!sa->children[i].used)
			break;
	if (i == IKE_SA_CHILD_MAX)
		return NULL;
	sl = &sa->children[i];
	sl->used = true;
	sl->ch = *ch;
	memcpy(sl->ni, ni, ni_len);
	sl->ni_len = ni_len;
	memcpy(sl->nr, nr, nr_len);
	sl->nr_len = nr_len;
	ike_req_child_installed(sa, sl);
	return &sl->ch;
}

struct ike_child *
ike_sa_child_by_spi_out(struct ike_sa *sa, uint32_t spi)
{
	size_t i;

	for (i = 0; i < IKE_SA_CHILD_MAX; i++)
		if (sa->children[i].used && sa->children[i].ch.spi_out == spi)
			return &sa->children[i].ch;
	return NULL;
}

struct ike_child *
ike_sa_child_by_spi_in(struct ike_sa *sa, uint32_t spi)
{
	size_t i;

	for (i = 0; i < IKE_SA_CHILD_MAX; i++)
		if (sa->children[i].used && sa->children[i].ch.spi_in == spi)
			return &sa->children[i].ch;
	return NULL;
}

struct ike_child_slot *
ike_sa_child_slot(struct ike_sa *sa, const struct ike_child *ch)
{
	size_t i;

	for (i = 0; i < IKE_SA_CHILD_MAX; i++)
		if (&sa->children[i].ch == ch)
			return &sa->children[i];
	return NULL;
}

void
ike_sa_child_remove(struct ike_sa *sa, struct ike_child *ch,
    struct ike_out *out)
{
	struct ike_child_slot *sl = ike_sa_child_slot(sa, ch);

	assert(sl != NULL && sl->used);
	sl->used = false;
	ike_child_keys_cleanse(&sl->ch.keys);
	OPENSSL_cleanse(sl->ni, sizeof(sl->ni));
	OPENSSL_cleanse(sl->nr, sizeof(sl->nr));
	ike_sa_event(out, IKE_EV_CHILD_DOWN, &sl->ch);
}

uint64_t
ike_sa_draw_spi(uint8_t spi[static IKE_SPI_LEN])
{
	uint64_t v = 0;

	while (v == 0) {
		if (RAND_bytes(spi, IKE_SPI_LEN) != 1)
			return 0;
		v = load_be64(spi);
	}
	return v;
}

int
ike_nonce_cmp(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);

	if (c != 0)
		return c;
	return a_len < b_len ? -1 : a_len > b_len;
}

bool
ike_rekey_a_loses(const uint8_t *ai, size_t ai_len, const uint8_t *ar,
    size_t ar_len, const uint8_t *bi, size_t bi_len, const uint8_t *br,
    size_t br_len)
{
	const uint8_t *a = ai, *b = bi;
	size_t a_len = ai_len, b_len = bi_len;

	/* The lowest of each exchange, then the lower of the two. */
	if (ike_nonce_cmp(ar, ar_len, a, a_len) < 0) {
		a = ar;
		a_len = ar_len;
	}
	if (ike_nonce_cmp(br, br_len, b, b_len) < 0) {
		b = br;
		b_len = br_len;
	}
	return ike_nonce_cmp(a, a_len, b, b_len) < 0;
}

void
ike_sa_ike_switch(struct ike_sa *sa, uint64_t spi_i, uint64_t spi_r,
    const struct ike_suite *suite, const struct ike_keys *keys,
    const struct ike_sk *sk_in, const struct ike_sk *sk_out,
    bool we_initiated, struct ike_out *out)
{
	struct ike_event *ev;

	assert(!sa->in_old);
	drop_old(sa);
	sa->has_old = true;
	sa->old.spi_i = sa->spi_i;
	sa->old.spi_r = sa->spi_r;
	sa->old.sk_in = sa->sk_in;
	sa->old.sk_out = sa->sk_out;
	sa->old.resp = sa->resp;
	sa->old.resp_len = sa->resp_len;
	sa->old.resp_frags = sa->resp_frags;
	sa->old.have_resp = sa->have_resp;
	sa->old.resp_msgid = sa->resp_msgid;
	sa->old.msgid_next = sa->have_resp ? sa->resp_msgid + 1 :
	    sa->msgid_next;
	sa->old.orig_init = sa->orig_init;
	sa->orig_init = we_initiated;
	sa->resp = NULL;
	sa->resp_len = 0;
	memset(&sa->resp_frags, 0, sizeof(sa->resp_frags));
	sa->have_resp = false;
	/* §2.18: the new IKE SA's message IDs start at 0. */
	sa->msgid_next = 0;
	sa->spi_i = spi_i;
	sa->spi_r = spi_r;
	sa->suite = *suite;
	ike_keys_cleanse(&sa->keys);
	sa->keys = *keys;
	sa->sk_in = *sk_in;
	sa->sk_out = *sk_out;
	ike_sa_event(out, IKE_EV_IKE_REKEYED, NULL);
	ev = &out->ev[out->nev - 1];
	ev->spi_i = sa->old.spi_i;
	ev->spi_r = sa->old.spi_r;
	ike_req_switched(sa);
}

/* Swaps the old SA's SPIs, keys and window with the current ones. */
static void
swap_old(struct ike_sa *sa)
{
	struct ike_sa_old t;

	t.spi_i = sa->spi_i;
	t.spi_r = sa->spi_r;
	t.sk_in = sa->sk_in;
	t.sk_out = sa->sk_out;
	t.resp = sa->resp;
	t.resp_len = sa->resp_len;
	t.resp_frags = sa->resp_frags;
	t.have_resp = sa->have_resp;
	t.resp_msgid = sa->resp_msgid;
	t.msgid_next = sa->msgid_next;
	t.orig_init = sa->orig_init;
	sa->spi_i = sa->old.spi_i;
	sa->spi_r = sa->old.spi_r;
	sa->sk_in = sa->old.sk_in;
	sa->sk_out = sa->old.sk_out;
	sa->resp = sa->old.resp;
	sa->resp_len = sa->old.resp_len;
	sa->resp_frags = sa->old.resp_frags;
	sa->have_resp = sa->old.have_resp;
	sa->resp_msgid = sa->old.resp_msgid;
	sa->msgid_next = sa->old.msgid_next;
	sa->orig_init = sa->old.orig_init;
	sa->old = t;
	sa->in_old = !sa->in_old;
	OPENSSL_cleanse(&t, sizeof(t));
}

void
ike_sa_old_swap(struct ike_sa *sa)
{
	swap_old(sa);
}

void
ike_sa_old_drop(struct ike_sa *sa)
{
	assert(!sa->in_old);
	drop_old(sa);
}

/*
 * INFORMATIONAL on the old IKE SA after a rekey: its Delete (§2.18: the
 * initiator of the rekey deletes the old SA) takes nothing else down, the
 * Child SAs having moved to the new SA; the answer is empty (§1.4.1).
 */
static enum ike_sa_result
old_info(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out,
    bool *deleted)
{
	uint8_t inner[8];
	struct ike_builder b;
	struct wr w = wr_make(inner, sizeof(inner));
	size_t i;

	ike_build_inner_init(&b, &w);
	if (ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, &m->hdr, b.first, inner, w.len, out) != 0) {
		ike_sa_reason(out, "cannot build the response");
		return IKE_SA_DROPPED;
	}
	for (i = 0; i < m->pl.ndelete; i++)
		if (m->pl.delete[i].proto == IKE_PROTO_IKE)
			*deleted = true;
	return IKE_SA_ANSWERED;
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
	ike_frags_free(&sa->resp_frags);
	sa->resp = buf;
	sa->resp_len = len;
	sa->have_resp = keep;
	sa->resp_msgid = msgid;
	out->msg = buf;
	out->len = len;
	return 0;
}

/* The header of our response to @req. */
static void
resp_hdr(const struct ike_sa *sa, const struct ike_hdr *req, uint64_t spi_r,
    struct ike_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = req->spi_i;
	h->spi_r = spi_r;
	h->exchange = req->exchange;
	h->flags = IKE_FLAG_RESPONSE | (sa->orig_init ? IKE_FLAG_INITIATOR : 0);
	h->msgid = req->msgid;
}

static uint8_t *
begin(const struct ike_sa *sa, const struct ike_hdr *req, struct wr *w,
    struct ike_builder *b, uint64_t spi_r)
{
	struct ike_hdr h;
	uint8_t *buf;

	if ((buf = malloc(IKE_SA_MSG_MAX)) == NULL)
		return NULL;
	resp_hdr(sa, req, spi_r, &h);
	*w = wr_make(buf, IKE_SA_MSG_MAX);
	ike_build_init(b, w, &h);
	return buf;
}

void
ike_sa_frags(struct ike_sa *sa, const struct ike_hdr *h, uint8_t first,
    const uint8_t *inner, size_t inner_len, size_t whole_len,
    struct ike_frags *f)
{
	size_t max = sa->conf->frag_max;

	memset(f, 0, sizeof(*f));
	if (max == 0)
		max = IKE_SA_FRAG_MAX_DEFAULT;
	else if (max < IKE_SA_FRAG_MAX_MIN)
		max = IKE_SA_FRAG_MAX_MIN;
	/*
	 * §2.4: only when both sides said so in IKE_SA_INIT, and only for
	 * a message that would not fit: a short one goes as one SK
	 * payload, never as a lone fragment.  Both forms are kept, as the
	 * SA may move between UDP and a stream before a retransmission.
	 */
	if (!sa->frag || whole_len <= max)
		return;
	(void)ike_frags_make(&sa->sk_out, h, first, inner, inner_len, max, f);
}

int
ike_sa_respond_sk(struct ike_sa *sa, const struct ike_hdr *req, uint8_t first,
    const uint8_t *inner, size_t inner_len, struct ike_out *out)
{
	struct ike_builder b;
	struct ike_frags f;
	struct ike_hdr h;
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
	resp_hdr(sa, req, sa->spi_r, &h);
	ike_sa_frags(sa, &h, first, inner, inner_len, w.len, &f);
	(void)ike_sa_respond(sa, req->msgid, true, buf, w.len, out);
	sa->resp_frags = f;
	out->frags = f;
	return 0;
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
	/*
	 * §2.2: the same bytes again, never a recomputed response; RFC
	 * 7383 §2.6: all the fragments again, as made the first time.
	 */
	out->msg = sa->resp;
	out->len = sa->resp_len;
	out->frags = sa->resp_frags;
	return IKE_SA_RETRANSMIT;
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
	uint64_t spi_r = sa->spi_r;
	bool frag = (m->pl.have & IKE_HAVE_SKF) != 0, deleted = false;

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
	if (sa->in_old && sa->msgid_next == UINT32_MAX) {
		/* The old SA was deleted: only its last answer is left. */
		ike_sa_reason(out, "request to a deleted (rekeyed) IKE SA");
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
	if (sa->eap != NULL && sa->eap->pending) {
		/* Answered once, by ike_sa_eap_resume(); relayed once. */
		ike_sa_reason(out, "message ID %u while the EAP backend's "
		    "answer is pending (a retransmission?)", msgid);
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
	if (sa->in_old) {
		if (m->hdr.exchange != IKE_EXCH_INFORMATIONAL) {
			ike_sa_reason(out, "exchange %u on the rekeyed IKE SA",
			    m->hdr.exchange);
			goto out;
		}
		if ((res = old_info(sa, m, out, &deleted)) == IKE_SA_ANSWERED)
			sa->msgid_next = deleted ? UINT32_MAX : msgid + 1;
		goto out;
	}
	switch (m->hdr.exchange) {
	case IKE_EXCH_IKE_AUTH:
		if (sa->state != IKE_SA_INIT_DONE) {
			ike_sa_reason(out, "IKE_AUTH in state %s",
			    ike_sa_state_name(sa->state));
			goto out;
		}
		res = ike_exch_auth(sa, m, whole != NULL ? whole : plain,
		    whole != NULL ? whole_len : plain_len, first, out);
		break;
	case IKE_EXCH_INFORMATIONAL:
		res = ike_exch_info(sa, m, out);
		break;
	case IKE_EXCH_CREATE_CHILD_SA:
		/* DELETING: answered TEMPORARY_FAILURE (§2.25.2). */
		if (sa->state != IKE_SA_ESTABLISHED &&
		    sa->state != IKE_SA_DELETING) {
			ike_sa_reason(out, "CREATE_CHILD_SA in state %s",
			    ike_sa_state_name(sa->state));
			goto out;
		}
		res = ike_exch_child(sa, m, out);
		break;
	default:
		ike_sa_reason(out, "exchange type %u not supported",
		    m->hdr.exchange);
		goto out;
	}
	/* After an IKE SA rekey the window is the new SA's, from 0. */
	if (res == IKE_SA_ANSWERED && sa->spi_r == spi_r)
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

/*
 * A protected message: the peer's request, or a response to ours.  §3.1:
 * the original initiator sets I in both -- the peer, unless we rekeyed
 * the IKE SA (§2.18).
 */
static enum ike_sa_result
dispatch(struct ike_sa *sa, const uint8_t *msg, size_t len,
    struct ike_msg *m, uint64_t now_ms, struct ike_out *out)
{
	if (((m->hdr.flags & IKE_FLAG_INITIATOR) != 0) == sa->orig_init) {
		ike_sa_reason(out, "a %s %s the Initiator flag",
		    (m->hdr.flags & IKE_FLAG_RESPONSE) ? "response" :
		    "request", (m->hdr.flags & IKE_FLAG_INITIATOR) ? "with" :
		    "without");
		return IKE_SA_DROPPED;
	}
	if (m->hdr.flags & IKE_FLAG_RESPONSE)
		return ike_req_response(sa, msg, len, m, now_ms, out);
	return protected(sa, msg, len, m, now_ms, out);
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
	if (sa->state != IKE_SA_IDLE && !ike_sa_knows_spi_i(sa, m->hdr.spi_i)) {
		ike_sa_reason(out, "unknown initiator SPI");
		goto out;
	}
	if (m->hdr.exchange != IKE_EXCH_IKE_SA_INIT && sa->has_old &&
	    m->hdr.spi_i == sa->old.spi_i && m->hdr.spi_r == sa->old.spi_r) {
		/* §2.18: the old SA answers until it is deleted. */
		swap_old(sa);
		res = dispatch(sa, msg, len, m, now_ms, out);
		swap_old(sa);
		goto out;
	}
	if (m->hdr.exchange != IKE_EXCH_IKE_SA_INIT) {
		res = dispatch(sa, msg, len, m, now_ms, out);
		goto out;
	}
	if (!(m->hdr.flags & IKE_FLAG_INITIATOR) ||
	    (m->hdr.flags & IKE_FLAG_RESPONSE)) {
		ike_sa_reason(out, "IKE_SA_INIT with flags %#x", m->hdr.flags);
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
	} else if (sa->state == IKE_SA_INIT_DONE && sa->have_resp &&
	    sa->resp_msgid == 0)
		/* Not later: a rekeyed SA's message 0 is no IKE_SA_INIT. */
		res = retransmit(sa, out);
	else
		ike_sa_reason(out, "IKE_SA_INIT again after IKE_AUTH");
out:
	free(m);
	return res;
}
