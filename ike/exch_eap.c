/*
 * IKE_AUTH with EAP, responder side (RFC 7296 §2.16):
 *
 *   HDR, SK {IDi, [CERTREQ,] [IDr,] SAi2, TSi, TSr}      (no AUTH)
 *   HDR, SK {IDr, [CERT,] AUTH, EAP}                      our signature
 *   HDR, SK {EAP}  /  HDR, SK {EAP}                       rounds
 *   HDR, SK {EAP}  /  HDR, SK {EAP (success)}
 *   HDR, SK {AUTH}                                        from the MSK
 *   HDR, SK {AUTH, SAr2, TSi, TSr}  (+ CP)                established
 *
 * The first request's payloads (SA, TS, CP, notifies, IDi) are kept
 * as its plaintext chain and parsed again for the last response.  Both
 * final AUTH payloads are shared-key MICs with the MSK as the key over
 * the §2.15 octets (IDi of the first request, our IDr); a method without
 * an MSK uses SK_pi / SK_pr instead (§2.16).  The SA stays INIT_DONE,
 * counted as half-open by the caller, until then; ike_sa_tick() ends it
 * at the conversation's deadline.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "framing/wire.h"
#include "ike/auth.h"
#include "ike/eap.h"
#include "ike/sa_int.h"

void
ike_sa_eap_free(struct ike_sa *sa)
{
	struct ike_sa_eap *e = sa->eap;

	if (e == NULL)
		return;
	ike_sa_eap_end(sa);
	if (e->req1 != NULL)
		OPENSSL_clear_free(e->req1, e->req1_len);
	OPENSSL_clear_free(e, sizeof(*e));
	sa->eap = NULL;
}

void
ike_sa_eap_end(struct ike_sa *sa)
{
	struct ike_sa_eap *e = sa->eap;

	if (e == NULL || e->conv == NULL)
		return;
	sa->conf->eap->free(e->conv);
	e->conv = NULL;
	e->pending = false;
}

/* @pkt as an EAP payload (RFC 7296 §3.16); false when it does not parse. */
static bool
eap_payload(const uint8_t *pkt, size_t len, struct ike_eap *pl)
{
	memset(pl, 0, sizeof(*pl));
	return ike_eap_split(pkt, len, &pl->code, &pl->id, &pl->type,
	    &pl->data.p, &pl->data.len);
}

/* The identity for the log, once the backend knows it. */
static void
note_identity(struct ike_sa *sa)
{
	struct ike_sa_eap *e = sa->eap;
	const char *id;

	if (e->conv == NULL)
		return;
	id = sa->conf->eap->identity(e->conv);
	if (id[0] != '\0')
		snprintf(e->identity, sizeof(e->identity), "%s", id);
}

/* A refusal: EAP-Failure (when there is one) and AUTHENTICATION_FAILED. */
static enum ike_sa_result
refuse(struct ike_sa *sa, const struct ike_hdr *hdr,
    const struct ike_eap_out *eo, struct ike_out *out)
{
	struct ike_eap pl;
	bool have = eo != NULL && eo->len > 0 &&
	    eap_payload(eo->pkt, eo->len, &pl);

	return ike_auth_failed(sa, hdr, have ? &pl : NULL, out);
}

/*
 * A response of @eo's packet alone, or with IDr, CERT and AUTH first; our
 * intermediates follow our certificate (RFC 7296 §3.6), as in a
 * signature AUTH: clients have only the root.
 */
static int
respond(struct ike_sa *sa, const struct ike_hdr *hdr,
    const struct ike_eap_out *eo, const struct ike_id *idr,
    const struct ike_cert *cert, const struct ike_auth *auth,
    struct ike_out *out)
{
	uint8_t inner[IKE_SA_INNER_MAX];
	struct ike_builder b;
	struct ike_eap pl;
	struct wr w = wr_make(inner, sizeof(inner));
	int rc = 0;

	if (!eap_payload(eo->pkt, eo->len, &pl))
		return -1;
	ike_build_inner_init(&b, &w);
	if (idr != NULL) {
		rc |= ike_build_id(&b, IKE_PL_IDR, idr) |
		    ike_build_cert(&b, IKE_PL_CERT, cert);
		for (size_t i = 0; i < sa->conf->ninter; i++)
			rc |= ike_build_cert(&b, IKE_PL_CERT,
			    &sa->conf->inter[i]);
		rc |= ike_build_auth(&b, auth);
	}
	rc |= ike_build_eap(&b, &pl);
	if (rc != 0 || ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, hdr, b.first, inner, w.len, out) != 0)
		rc = -1;
	OPENSSL_cleanse(inner, sizeof(inner));
	return rc;
}

enum ike_sa_result
ike_exch_eap_begin(struct ike_sa *sa, const struct ike_msg *m,
    const uint8_t *inner, size_t inner_len, uint8_t first,
    struct ike_out *out)
{
	const struct ike_sa_conf *conf = sa->conf;
	const struct ike_payloads *pl = &m->pl;
	struct ike_eap_out *eo = NULL;
	uint8_t idr_body[4 + IKE_SA_ID_MAX], auth_data[IKE_AUTH_SIG_MAX], method;
	struct ike_sa_eap *e;
	struct ike_auth auth;
	struct ike_cert cert;
	struct ike_id idr;
	size_t auth_len;
	enum ike_sa_result res = IKE_SA_DROPPED;

	sa->peer_auth_method = IKE_SA_AUTH_EAP;
	if (!(pl->have & IKE_HAVE_IDI) || !ike_id_ok(&pl->idi)) {
		ike_sa_reason(out, "IDi missing or of unsupported type %u",
		    pl->idi.type);
		return ike_auth_failed(sa, &m->hdr, NULL, out);
	}
	sa->peer_id_type = pl->idi.type;
	memcpy(sa->peer_id, pl->idi.data.p, pl->idi.data.len);
	sa->peer_id_len = pl->idi.data.len;
	if ((pl->have & IKE_HAVE_IDR) && (pl->idr.type != conf->id_type ||
	    pl->idr.data.len != conf->id_len ||
	    memcmp(pl->idr.data.p, conf->id, conf->id_len) != 0)) {
		ike_sa_reason(out, "IDr asks for an identity not ours");
		return ike_auth_failed(sa, &m->hdr, NULL, out);
	}
	if (conf->key == NULL || conf->cert == NULL ||
	    conf->id_len > IKE_SA_ID_MAX) {
		ike_sa_reason(out, "EAP: we have no certificate to "
		    "authenticate with (§2.16)");
		return ike_auth_failed(sa, &m->hdr, NULL, out);
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (eo = malloc(sizeof(*eo))) == NULL ||
	    (e->req1 = malloc(inner_len)) == NULL) {
		if (e != NULL)
			free(e);
		free(eo);
		ike_sa_reason(out, "EAP: out of memory");
		return IKE_SA_DROPPED;
	}
	sa->eap = e;
	memcpy(e->req1, inner, inner_len);
	e->req1_len = inner_len;
	e->req1_first = first;
	e->deadline_ms = sa->last_ms + (conf->eap_timeout_ms != 0 ?
	    conf->eap_timeout_ms : IKE_SA_EAP_TIMEOUT_MS);
	if ((e->conv = conf->eap->start(conf->eap_arg, sa->eap_owner)) == NULL) {
		ike_sa_reason(out, "EAP: out of memory");
		goto out;
	}
	if (conf->eap->input(e->conv, NULL, 0, eo) != IKE_EAP_CONTINUE) {
		ike_sa_reason(out, "EAP: %s", eo->reason);
		res = refuse(sa, &m->hdr, NULL, out);
		goto out;
	}
	/* §2.16: we authenticate now, with our certificate. */
	idr_body[0] = conf->id_type;
	memset(idr_body + 1, 0, 3);
	memcpy(idr_body + 4, conf->id, conf->id_len);
	if (ike_auth_ours(sa, NULL, 0, true, idr_body, 4 + conf->id_len,
	    auth_data, &auth_len, &method) != 0) {
		ike_sa_reason(out, "EAP: cannot compute our AUTH");
		goto out;
	}
	memset(&idr, 0, sizeof(idr));
	idr.type = conf->id_type;
	idr.data.p = conf->id;
	idr.data.len = conf->id_len;
	memset(&cert, 0, sizeof(cert));
	cert.encoding = IKE_CERT_X509_SIG;
	cert.data.p = conf->cert;
	cert.data.len = conf->cert_len;
	auth.method = method;
	auth.data.p = auth_data;
	auth.data.len = auth_len;
	if (respond(sa, &m->hdr, eo, &idr, &cert, &auth, out) != 0) {
		ike_sa_reason(out, "EAP: cannot build the IKE_AUTH response");
		goto out;
	}
	res = IKE_SA_ANSWERED;
out:
	if (res == IKE_SA_DROPPED)
		ike_sa_eap_free(sa);
	OPENSSL_clear_free(eo, sizeof(*eo));
	return res;
}

/* The last round: the initiator's AUTH from the MSK, then established. */
static enum ike_sa_result
eap_auth(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	struct ike_sa_eap *e = sa->eap;
	const struct ike_payloads *pl = &m->pl;
	const uint8_t *key = e->msk;
	size_t key_len = e->msk_len, oct_len;
	enum ike_sa_result res = IKE_SA_DROPPED;
	struct ike_msg *m1;
	uint8_t *oct = NULL;
	bool ok;

	if ((m1 = malloc(sizeof(*m1))) == NULL) {
		ike_sa_reason(out, "EAP: out of memory");
		return IKE_SA_DROPPED;
	}
	memset(m1, 0, sizeof(*m1));
	m1->hdr = m->hdr;
	if (ike_payloads_parse(e->req1_first, e->req1, e->req1_len, m1) !=
	    IKE_PARSE_OK) {
		ike_sa_reason(out, "EAP: the first IKE_AUTH request no longer "
		    "parses");
		goto out;
	}
	if (!(pl->have & IKE_HAVE_AUTH) ||
	    pl->auth.method != IKE_AUTH_SHARED_KEY_MIC) {
		ike_sa_reason(out, "EAP: the last IKE_AUTH request has no "
		    "shared-key AUTH (method %u)", pl->auth.method);
		res = refuse(sa, &m->hdr, NULL, out);
		goto out;
	}
	if (key_len == 0) {
		/* §2.16: no MSK, SK_pi verifies the initiator. */
		key = sa->keys.sk_pi;
		key_len = sa->keys.prf_len;
	}
	if ((oct = ike_auth_peer_octets(sa, &m1->pl, &oct_len)) == NULL) {
		ike_sa_reason(out, "EAP: AUTH octets failed");
		goto out;
	}
	ok = ike_auth_psk_verify(sa->suite.prf, key, key_len, oct, oct_len,
	    pl->auth.data.p, pl->auth.data.len);
	if (!ok) {
		ike_sa_reason(out, "EAP: the AUTH from the MSK does not "
		    "verify (identity \"%s\")", e->identity);
		res = refuse(sa, &m->hdr, NULL, out);
		goto out;
	}
	if (e->msk_len == 0) {
		key = sa->keys.sk_pr;
		key_len = sa->keys.prf_len;
	}
	res = ike_auth_establish(sa, &m->hdr, &m1->pl, key, key_len, false,
	    out);
out:
	free(oct);
	OPENSSL_cleanse(e->msk, sizeof(e->msk));
	e->msk_len = 0;
	if (res != IKE_SA_ANSWERED || sa->state != IKE_SA_ESTABLISHED) {
		/* A response failing to build leaves the SA; it is dead. */
		if (sa->state == IKE_SA_INIT_DONE)
			ike_sa_set_state(sa, IKE_SA_DEAD);
	}
	free(m1);
	return res;
}

/* The response to request @hdr for the backend's @er / @eo. */
static enum ike_sa_result
answer(struct ike_sa *sa, const struct ike_hdr *hdr, enum ike_eap_result er,
    const struct ike_eap_out *eo, struct ike_out *out)
{
	struct ike_sa_eap *e = sa->eap;
	enum ike_sa_result res = IKE_SA_DROPPED;

	note_identity(sa);
	switch (er) {
	case IKE_EAP_CONTINUE:
		if (respond(sa, hdr, eo, NULL, NULL, NULL, out) == 0)
			res = IKE_SA_ANSWERED;
		else
			ike_sa_reason(out, "EAP: cannot build the response");
		break;
	case IKE_EAP_ACCEPT:
		if (eo->msk_len > sizeof(e->msk) ||
		    respond(sa, hdr, eo, NULL, NULL, NULL, out) != 0) {
			ike_sa_reason(out, "EAP: cannot build the response");
			break;
		}
		memcpy(e->msk, eo->msk, eo->msk_len);
		e->msk_len = eo->msk_len;
		e->framed_ip = eo->framed_ip;
		e->done = true;
		/* The backend has nothing more to say. */
		ike_sa_eap_end(sa);
		res = IKE_SA_ANSWERED;
		break;
	case IKE_EAP_REJECT:
		ike_sa_reason(out, "%s (identity \"%s\")", eo->reason,
		    e->identity);
		res = refuse(sa, hdr, eo, out);
		break;
	case IKE_EAP_PENDING:
	default:
		ike_sa_reason(out, "EAP: the backend answered \"pending\" "
		    "to its own answer (identity \"%s\")", e->identity);
		res = refuse(sa, hdr, NULL, out);
		break;
	}
	return res;
}

enum ike_sa_result
ike_sa_eap_resume(struct ike_sa *sa, enum ike_eap_result er,
    const struct ike_eap_out *eo, uint64_t now_ms, struct ike_out *out)
{
	struct ike_sa_eap *e = sa->eap;
	enum ike_sa_result res;
	struct ike_hdr hdr;

	memset(out, 0, sizeof(*out));
	if (sa->state != IKE_SA_INIT_DONE || e == NULL || !e->pending) {
		ike_sa_reason(out, "EAP: an answer with no request pending");
		return IKE_SA_DROPPED;
	}
	e->pending = false;
	hdr = e->pending_hdr;
	res = answer(sa, &hdr, er, eo, out);
	/* As protected() does for an answered request (§2.3). */
	if (res == IKE_SA_ANSWERED) {
		sa->msgid_next = hdr.msgid + 1;
		sa->last_ms = now_ms;
	}
	return res;
}

enum ike_sa_result
ike_exch_eap(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	struct ike_sa_eap *e = sa->eap;
	const struct ike_payloads *pl = &m->pl;
	struct ike_eap_out *eo;
	enum ike_sa_result res = IKE_SA_DROPPED;
	enum ike_eap_result er;

	if (e->done)
		return eap_auth(sa, m, out);
	if (!(pl->have & IKE_HAVE_EAP)) {
		ike_sa_reason(out, "EAP: IKE_AUTH request without EAP in the "
		    "conversation (identity \"%s\")", e->identity);
		return refuse(sa, &m->hdr, NULL, out);
	}
	if (e->conv == NULL) {
		ike_sa_reason(out, "EAP: the conversation is over");
		return refuse(sa, &m->hdr, NULL, out);
	}
	if (++e->rounds > IKE_SA_EAP_ROUNDS_MAX) {
		ike_sa_reason(out, "EAP: more than %d rounds (identity "
		    "\"%s\")", IKE_SA_EAP_ROUNDS_MAX, e->identity);
		return refuse(sa, &m->hdr, NULL, out);
	}
	if ((eo = malloc(sizeof(*eo))) == NULL) {
		ike_sa_reason(out, "EAP: out of memory");
		return IKE_SA_DROPPED;
	}
	er = sa->conf->eap->input(e->conv, pl->eap.msg.p, pl->eap.msg.len,
	    eo);
	if (er == IKE_EAP_PENDING) {
		/* §2.16 with an AAA server: the answer comes later. */
		e->pending = true;
		e->pending_hdr = m->hdr;
		res = IKE_SA_PENDING;
	} else
		res = answer(sa, &m->hdr, er, eo, out);
	OPENSSL_clear_free(eo, sizeof(*eo));
	return res;
}
