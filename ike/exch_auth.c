/*
 * IKE_AUTH, responder side, with a pre-shared key or certificates and
 * signatures (RFC 7296 §1.2, §2.15, §3.6; RFC 7427): we answer with the
 * kind of AUTH the initiator used.  Then
 * the Configuration Payload (§2.19, §3.15) and the first Child SA with
 * traffic selector narrowing (§2.9).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "framing/wire.h"
#include "ike/id.h"
#include "ike/auth.h"
#include "ike/cert.h"
#include "ike/cp.h"
#include "ike/sa_int.h"

enum {
	AUTH_MAX	= (int)IKE_AUTH_SIG_MAX > (int)IKE_PRF_OUT_MAX ?
			    (int)IKE_AUTH_SIG_MAX : (int)IKE_PRF_OUT_MAX,
	SPI_TRIES	= 16	/* draws of a non-zero inbound SPI */
};

static bool
has_attr(const struct ike_cp *cp, uint16_t type)
{
	size_t i;

	for (i = 0; i < cp->nattrs; i++)
		if (cp->attrs[i].type == type)
			return true;
	return false;
}

/* RFC 7296 §3.5: the identification data fits its type. */
bool
ike_id_ok(const struct ike_id *id)
{
	switch (id->type) {
	case IKE_ID_IPV4_ADDR:
		return id->data.len == 4;
	case IKE_ID_IPV6_ADDR:
		return id->data.len == 16;
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
	case IKE_ID_KEY_ID:
	case IKE_ID_DER_ASN1_DN:
		return id->data.len > 0 && id->data.len <= IKE_SA_ID_MAX;
	}
	return false;
}

/* a ∩ b for range selectors of one family (§2.9); false when empty. */
static bool
ts_narrow(const struct ike_ts *a, const struct ike_ts *b, struct ike_ts *out)
{
	const uint8_t *lo, *hi;
	size_t n;

	if (a->type != b->type || (a->type != IKE_TS_IPV4_ADDR_RANGE &&
	    a->type != IKE_TS_IPV6_ADDR_RANGE))
		return false;
	n = a->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
	if (a->proto != 0 && b->proto != 0 && a->proto != b->proto)
		return false;
	memset(out, 0, sizeof(*out));
	out->type = a->type;
	out->proto = a->proto != 0 ? a->proto : b->proto;
	out->start_port = a->start_port > b->start_port ? a->start_port :
	    b->start_port;
	out->end_port = a->end_port < b->end_port ? a->end_port : b->end_port;
	if (out->start_port > out->end_port)
		return false;
	/* Network order: memcmp orders addresses. */
	lo = memcmp(a->start, b->start, n) > 0 ? a->start : b->start;
	hi = memcmp(a->end, b->end, n) < 0 ? a->end : b->end;
	if (memcmp(lo, hi, n) > 0)
		return false;
	memcpy(out->start, lo, n);
	memcpy(out->end, hi, n);
	return true;
}

static bool ts_pick(const struct ike_ts_pl *theirs, const struct ike_ts *want,
    struct ike_ts *out);

/* Returns the child's virtual addresses to their pools. */
static void
child_release(const struct ike_sa_conf *conf, struct ike_child *ch)
{
	if (ch->vip != 0)
		ike_pool_release(conf->pool, ch->vip);
	ch->vip = 0;
	if (ch->has6)
		ike_pool6_release(conf->pool6, ch->vip6);
	ch->has6 = false;
}

/*
 * RFC 7296 §3.15.1: an IPv6 address when the initiator asked for one and
 * we have a pool, with TSi = that address and TSr = local_ts6, narrowed
 * (§2.9).  Not fatal: without it the Child SA is IPv4 only.
 */
static void
child_decide6(const struct ike_sa *sa, const struct ike_payloads *pl,
    struct ike_child *ch)
{
	const struct ike_sa_conf *conf = sa->conf;
	struct ike_ts want;

	if (conf->pool6 == NULL || !(pl->have & IKE_HAVE_CP) ||
	    pl->cp.type != IKE_CFG_REQUEST ||
	    !has_attr(&pl->cp, IKE_CFG_INTERNAL_IP6_ADDRESS) ||
	    ike_pool6_alloc(conf->pool6, pl->idi.body.p, pl->idi.body.len,
	    ch->vip6) != 0)
		return;
	memset(&want, 0, sizeof(want));
	want.type = IKE_TS_IPV6_ADDR_RANGE;
	want.end_port = 0xffff;
	memcpy(want.start, ch->vip6, 16);
	memcpy(want.end, ch->vip6, 16);
	if (!ts_pick(&pl->tsi, &want, &ch->tsi6) ||
	    !ts_pick(&pl->tsr, &conf->local_ts6, &ch->tsr6)) {
		ike_pool6_release(conf->pool6, ch->vip6);
		return;
	}
	ch->has6 = true;
}

/* The first of the initiator's selectors that meets @want, narrowed. */
static bool
ts_pick(const struct ike_ts_pl *theirs, const struct ike_ts *want,
    struct ike_ts *out)
{
	size_t i;

	for (i = 0; i < theirs->count; i++)
		if (ts_narrow(&theirs->ts[i], want, out))
			return true;
	return false;
}

static uint32_t
new_spi(const struct ike_sa_conf *conf)
{
	uint8_t b[4];
	uint32_t spi = 0;
	size_t i;

	for (i = 0; i < SPI_TRIES && spi == 0; i++) {
		if (conf->spi != NULL)
			spi = conf->spi(conf->spi_arg);
		else if (RAND_bytes(b, sizeof(b)) == 1)
			spi = load_be32(b);
	}
	return spi;
}

/*
 * §2.21.2: an authentication failure ends the IKE SA.  @eap (the
 * EAP-Failure of a refused EAP conversation) goes in front of the notify.
 */
enum ike_sa_result
ike_auth_failed(struct ike_sa *sa, const struct ike_hdr *hdr,
    const struct ike_eap *eap, struct ike_out *out)
{
	uint8_t inner[2 * IKE_GENHDR_LEN + 8];
	struct ike_builder b;
	struct ike_notify n;
	struct wr w = wr_make(inner, sizeof(inner));
	enum ike_sa_result res = IKE_SA_ANSWERED;
	int rc = 0;

	ike_build_inner_init(&b, &w);
	if (eap != NULL)
		rc = ike_build_eap(&b, eap);
	memset(&n, 0, sizeof(n));
	n.type = IKE_N_AUTHENTICATION_FAILED;
	if (rc != 0 || ike_build_notify(&b, &n) != 0 ||
	    ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, hdr, b.first, inner, w.len, out) != 0)
		res = IKE_SA_DROPPED;
	ike_sa_set_state(sa, IKE_SA_DEAD);
	return res;
}

/* The signed octets of the initiator (§2.15), malloc; NULL on failure. */
uint8_t *
ike_auth_peer_octets(const struct ike_sa *sa, const struct ike_payloads *pl,
    size_t *len)
{
	enum ike_prf prf = sa->suite.prf;
	uint8_t *oct;

	*len = ike_auth_octets_len(prf, sa->init_req_len, sa->nr_len);
	if ((oct = malloc(*len)) == NULL)
		return NULL;
	/* RealMessage1 | NonceRData | prf(SK_pi, IDi'). */
	if (ike_auth_octets(prf, sa->keys.sk_pi, sa->keys.prf_len,
	    sa->init_req, sa->init_req_len, sa->nr, sa->nr_len,
	    pl->idi.body.p, pl->idi.body.len, oct, *len) != 0) {
		free(oct);
		return NULL;
	}
	return oct;
}

/* A signature AUTH: CERT chain to our CA, IDi in it, the signature. */
static int
verify_sig(struct ike_sa *sa, const struct ike_payloads *pl,
    struct ike_out *out)
{
	const struct ike_sa_conf *conf = sa->conf;
	char why[IKE_SA_REASON_MAX];
	uint8_t *oct = NULL;
	size_t oct_len;
	X509 *cert;
	int rc = -1;

	if (conf->ca == NULL) {
		ike_sa_reason(out, "auth method %u: no ca configured for "
		    "client certificates", pl->auth.method);
		return -1;
	}
	if (pl->ncert == 0) {
		ike_sa_reason(out, "signature AUTH without a CERT payload");
		return -1;
	}
	if ((cert = ike_cert_verify(conf->ca, pl->cert, pl->ncert, why,
	    sizeof(why))) == NULL) {
		ike_sa_reason(out, "%s", why);
		return -1;
	}
	if (!ike_cert_id_match(cert, pl->idi.type, pl->idi.data.p,
	    pl->idi.data.len)) {
		X509_NAME_oneline(X509_get_subject_name(cert), why, 64);
		ike_sa_reason(out, "IDi (type %u) is not in the certificate %s",
		    pl->idi.type, why);
		goto out;
	}
	if ((oct = ike_auth_peer_octets(sa, pl, &oct_len)) == NULL) {
		ike_sa_reason(out, "AUTH octets failed");
		goto out;
	}
	if (ike_auth_verify(pl->auth.method, X509_get0_pubkey(cert),
	    pl->auth.data.p, pl->auth.data.len, oct, oct_len) != 0) {
		X509_NAME_oneline(X509_get_subject_name(cert), why, 64);
		ike_sa_reason(out, "AUTH signature of %s does not verify", why);
		goto out;
	}
	rc = 0;
out:
	free(oct);
	X509_free(cert);
	return rc;
}

/* Checks the initiator's AUTH; 0 when it is right, else the reason. */
static int
verify_peer(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out,
    uint8_t *psk, size_t *psk_len, bool *sig)
{
	const struct ike_payloads *pl = &m->pl;
	const struct ike_sa_conf *conf = sa->conf;
	enum ike_prf prf = sa->suite.prf;
	uint8_t *oct = NULL;
	size_t oct_len;
	int rc = -1;

	*sig = false;
	if (!(pl->have & IKE_HAVE_AUTH)) {
		sa->peer_auth_method = IKE_SA_AUTH_EAP;
		ike_sa_reason(out, "IKE_AUTH without AUTH (EAP is not "
		    "enabled here: eap = no)");
		return -1;
	}
	sa->peer_auth_method = pl->auth.method == IKE_AUTH_SHARED_KEY_MIC ?
	    IKE_SA_AUTH_PSK : ike_auth_is_sig_method(pl->auth.method) ?
	    IKE_SA_AUTH_CERT : IKE_SA_AUTH_OTHER;
	if (!(pl->have & IKE_HAVE_IDI) || !ike_id_ok(&pl->idi)) {
		ike_sa_reason(out, "IDi missing or of unsupported type %u",
		    pl->idi.type);
		return -1;
	}
	if ((pl->have & IKE_HAVE_IDR) && (pl->idr.type != conf->id_type ||
	    pl->idr.data.len != conf->id_len ||
	    memcmp(pl->idr.data.p, conf->id, conf->id_len) != 0)) {
		char t[IKE_ID_LOG_MAX];

		ike_id_format(pl->idr.type, pl->idr.data.p, pl->idr.data.len,
		    t, 64);
		ike_sa_reason(out, "IDr %s asks for an identity not ours", t);
		return -1;
	}
	if (ike_auth_is_sig_method(pl->auth.method)) {
		if (conf->key == NULL || conf->cert == NULL) {
			ike_sa_reason(out, "signature AUTH but no cert and "
			    "key of ours");
			return -1;
		}
		*sig = true;
		return verify_sig(sa, pl, out);
	}
	if (pl->auth.method != IKE_AUTH_SHARED_KEY_MIC) {
		ike_sa_reason(out, "auth method %u not supported",
		    pl->auth.method);
		return -1;
	}
	if (conf->psk == NULL) {
		ike_sa_reason(out, "PSK AUTH but no secrets configured");
		return -1;
	}
	if (conf->psk(conf->psk_arg, pl->idi.type, pl->idi.data.p,
	    pl->idi.data.len, psk, IKE_SA_PSK_MAX, psk_len) != 0) {
		ike_sa_reason(out, "no PSK for the peer's identity");
		return -1;
	}
	if ((oct = ike_auth_peer_octets(sa, pl, &oct_len)) == NULL) {
		ike_sa_reason(out, "AUTH octets failed");
		goto out;
	}
	if (!ike_auth_psk_verify(prf, psk, *psk_len, oct, oct_len,
	    pl->auth.data.p, pl->auth.data.len)) {
		ike_sa_reason(out, "AUTH of the peer does not verify "
		    "(wrong PSK?)");
		goto out;
	}
	rc = 0;
out:
	free(oct);
	return rc;
}

/*
 * Our AUTH over RealMessage2 | NonceIData | prf(SK_pr, IDr'): a PSK MAC,
 * or with @sig a signature; sets *method and *auth_len.
 */
int
ike_auth_ours(const struct ike_sa *sa, const uint8_t *psk, size_t psk_len,
    bool sig, const uint8_t *idr_body, size_t idr_len, uint8_t *auth,
    size_t *auth_len, uint8_t *method)
{
	enum ike_prf prf = sa->suite.prf;
	size_t oct_len = ike_auth_octets_len(prf, sa->init_resp_len,
	    sa->ni_len);
	enum ike_sig s;
	uint8_t *oct;
	int rc = -1;

	if ((oct = malloc(oct_len)) == NULL)
		return -1;
	if (ike_auth_octets(prf, sa->keys.sk_pr, sa->keys.prf_len,
	    sa->init_resp, sa->init_resp_len, sa->ni, sa->ni_len, idr_body,
	    idr_len, oct, oct_len) != 0)
		goto out;
	if (!sig) {
		if (ike_auth_psk(prf, psk, psk_len, oct, oct_len, auth) == 0) {
			*auth_len = ike_prf_len(prf);
			*method = IKE_AUTH_SHARED_KEY_MIC;
			rc = 0;
		}
	} else if (ike_cert_sig_pick(sa->conf->key, sa->hash_algs,
	    sa->hash_mask, &s) && ike_auth_sign(s, sa->conf->key, oct,
	    oct_len, auth, AUTH_MAX, auth_len) == 0) {
		*method = (uint8_t)ike_auth_sig_method(s);
		rc = 0;
	}
out:
	free(oct);
	return rc;
}

/* §2.9: TSi narrowed to @vip, TSr to local_ts; 0, or -1 (reason set). */
static int
ts_for(const struct ike_sa *sa, const struct ike_payloads *pl, uint32_t vip,
    struct ike_child *ch, struct ike_out *out)
{
	struct ike_ts want;

	memset(&want, 0, sizeof(want));
	want.type = IKE_TS_IPV4_ADDR_RANGE;
	want.end_port = 0xffff;
	store_be32(want.start, vip);
	store_be32(want.end, vip);
	if (!ts_pick(&pl->tsi, &want, &ch->tsi) ||
	    !ts_pick(&pl->tsr, &sa->conf->local_ts, &ch->tsr)) {
		ike_sa_reason(out, "Child SA: traffic selectors do not "
		    "overlap ours");
		return -1;
	}
	return 0;
}

/* The first Child SA; 0, or the error notify type (reason set). */
static uint16_t
child_decide(struct ike_sa *sa, const struct ike_payloads *pl,
    struct ike_child *ch, struct ike_chosen *c, struct ike_out *out)
{
	const struct ike_sa_conf *conf = sa->conf;
	uint32_t vip;
	bool want4;

	if (ike_proposal_select(conf->esp, conf->nesp, &pl->sa, IKE_DH_NONE,
	    IKE_SELECT_NO_DH, c) != IKE_SELECT_OK || c->spi_size != 4) {
		ike_sa_reason(out, "Child SA: no acceptable ESP proposal");
		return IKE_N_NO_PROPOSAL_CHOSEN;
	}
	child_decide6(sa, pl, ch);
	if (conf->pool != NULL) {
		want4 = (pl->have & IKE_HAVE_CP) &&
		    pl->cp.type == IKE_CFG_REQUEST &&
		    has_attr(&pl->cp, IKE_CFG_INTERNAL_IP4_ADDRESS);
		if (!want4 && !ch->has6) {
			ike_sa_reason(out, "Child SA: no CFG_REQUEST for an "
			    "IPv4 address%s", conf->pool6 != NULL ?
			    " or an IPv6 one within our TS" : "");
			return IKE_N_FAILED_CP_REQUIRED;
		}
		if (!want4)
			goto keys;	/* IPv6 only */
		if (sa->eap != NULL && sa->eap->framed_ip != 0) {
			/* The AAA server's choice wins, within the pool. */
			vip = sa->eap->framed_ip;
			if (ike_pool_take(conf->pool, vip) != 0) {
				ike_sa_reason(out, "Child SA: Framed-IP-Address "
				    "%u.%u.%u.%u outside the pool or in use",
				    vip >> 24, (vip >> 16) & 0xff,
				    (vip >> 8) & 0xff, vip & 0xff);
				return IKE_N_INTERNAL_ADDRESS_FAILURE;
			}
		} else if (ike_pool_alloc(conf->pool, pl->idi.body.p,
		    pl->idi.body.len, &vip) != 0) {
			ike_sa_reason(out, "Child SA: address pool exhausted");
			return IKE_N_INTERNAL_ADDRESS_FAILURE;
		}
		ch->vip = vip;
	} else if (sa->remote.family == 4)
		vip = load_be32(sa->remote.addr);
	else {
		ike_sa_reason(out, "Child SA: no pool and an IPv6 peer");
		return IKE_N_TS_UNACCEPTABLE;
	}
	if (ts_for(sa, pl, vip, ch, out) != 0)
		return IKE_N_TS_UNACCEPTABLE;
keys:
	ch->spi_out = load_be32(c->spi);
	if ((ch->spi_in = new_spi(conf)) == 0) {
		ike_sa_reason(out, "Child SA: no inbound SPI");
		return IKE_N_TEMPORARY_FAILURE;
	}
	ch->suite = c->suite;
	ch->suite.prf = sa->suite.prf;
	ch->suite.dh = IKE_DH_NONE;
	ch->esn = c->has_esn && c->esn == IKE_ESN_YES;
	/* §2.17: KEYMAT = prf+(SK_d, Ni | Nr). */
	if (ike_child_keys_derive(sa->suite.prf, sa->keys.sk_d,
	    sa->keys.prf_len, &ch->suite, NULL, 0, sa->ni, sa->ni_len,
	    sa->nr, sa->nr_len, &ch->keys) != 0) {
		ike_sa_reason(out, "Child SA: key derivation failed");
		return IKE_N_TEMPORARY_FAILURE;
	}
	return 0;
}

enum ike_sa_result
ike_exch_auth(struct ike_sa *sa, const struct ike_msg *m,
    const uint8_t *inner, size_t inner_len, uint8_t first,
    struct ike_out *out)
{
	const struct ike_payloads *pl = &m->pl;
	uint8_t psk[IKE_SA_PSK_MAX];
	enum ike_sa_result res;
	size_t psk_len = 0;
	bool sig;

	/* §2.16: EAP, when the initiator leaves AUTH out (exch_eap.c). */
	if (sa->eap != NULL)
		return ike_exch_eap(sa, m, out);
	if (!(pl->have & IKE_HAVE_AUTH) && sa->conf->eap != NULL)
		return ike_exch_eap_begin(sa, m, inner, inner_len, first, out);
	if (verify_peer(sa, m, out, psk, &psk_len, &sig) != 0) {
		/* The claimed identity, for the caller's log line. */
		if ((pl->have & IKE_HAVE_IDI) && ike_id_ok(&pl->idi)) {
			sa->peer_id_type = pl->idi.type;
			memcpy(sa->peer_id, pl->idi.data.p, pl->idi.data.len);
			sa->peer_id_len = pl->idi.data.len;
		}
		res = ike_auth_failed(sa, &m->hdr, NULL, out);
	} else
		res = ike_auth_establish(sa, &m->hdr, pl, psk, psk_len, sig,
		    out);
	OPENSSL_cleanse(psk, sizeof(psk));
	return res;
}

enum ike_sa_result
ike_auth_establish(struct ike_sa *sa, const struct ike_hdr *hdr,
    const struct ike_payloads *pl, const uint8_t *psk, size_t psk_len,
    bool sig, struct ike_out *out)
{
	const struct ike_sa_conf *conf = sa->conf;
	enum ike_sa_result res = IKE_SA_DROPPED;
	uint8_t auth_data[AUTH_MAX];
	uint8_t idr_body[4 + IKE_SA_ID_MAX], inner[IKE_SA_INNER_MAX];
	uint8_t vip_b[4], dns_b[IKE_SA_DNS_MAX][4], spi_b[4], vip6_b[17];
	struct ike_child ch;
	struct ike_chosen c;
	struct ike_sa_pl sa_pl;
	struct ike_builder b;
	struct ike_ts_pl tsi, tsr;
	struct ike_notify n;
	struct ike_auth auth;
	struct ike_id idr;
	struct ike_cp cp;
	uint8_t net6[16];
	struct wr w;
	size_t auth_len = 0, i;
	uint16_t child_err = 0;
	uint8_t method = 0;
	struct ike_cert cert;
	bool want_child, mobike;
	int rc;

	memset(&ch, 0, sizeof(ch));
	/* Decide. */
	want_child = (pl->have & (IKE_HAVE_SA | IKE_HAVE_TSI | IKE_HAVE_TSR))
	    == (IKE_HAVE_SA | IKE_HAVE_TSI | IKE_HAVE_TSR);
	if (want_child)
		child_err = child_decide(sa, pl, &ch, &c, out);
	if (child_err != 0)
		child_release(conf, &ch);
	/* Build: IDr, AUTH, [CP], then SA, TSi, TSr or the child's error. */
	if (conf->id_len > IKE_SA_ID_MAX) {
		ike_sa_reason(out, "our ID is too long");
		goto out;
	}
	idr_body[0] = conf->id_type;
	memset(idr_body + 1, 0, 3);
	memcpy(idr_body + 4, conf->id, conf->id_len);
	if (ike_auth_ours(sa, psk, psk_len, sig, idr_body, 4 + conf->id_len,
	    auth_data, &auth_len, &method) != 0) {
		ike_sa_reason(out, "cannot compute our AUTH");
		goto out;
	}
	memset(&idr, 0, sizeof(idr));
	idr.type = conf->id_type;
	idr.data.p = conf->id;
	idr.data.len = conf->id_len;
	auth.method = method;
	auth.data.p = auth_data;
	auth.data.len = auth_len;
	w = wr_make(inner, sizeof(inner));
	ike_build_inner_init(&b, &w);
	rc = ike_build_id(&b, IKE_PL_IDR, &idr);
	if (sig) {
		memset(&cert, 0, sizeof(cert));
		cert.encoding = IKE_CERT_X509_SIG;
		cert.data.p = conf->cert;
		cert.data.len = conf->cert_len;
		rc |= ike_build_cert(&b, IKE_PL_CERT, &cert);
		for (i = 0; i < conf->ninter; i++)
			rc |= ike_build_cert(&b, IKE_PL_CERT, &conf->inter[i]);
	}
	rc |= ike_build_auth(&b, &auth);
	/* RFC 4555 §3.1: MOBIKE_SUPPORTED back to an initiator that sent it. */
	mobike = ike_sa_notify(pl, IKE_N_MOBIKE_SUPPORTED) != NULL;
	if (mobike) {
		memset(&n, 0, sizeof(n));
		n.type = IKE_N_MOBIKE_SUPPORTED;
		rc |= ike_build_notify(&b, &n);
	}
	if (want_child && child_err == 0 && (ch.vip != 0 || ch.has6)) {
		memset(&cp, 0, sizeof(cp));
		cp.type = IKE_CFG_REPLY;
		store_be32(vip_b, ch.vip);
		if (ch.vip != 0) {
			cp.attrs[cp.nattrs].type = IKE_CFG_INTERNAL_IP4_ADDRESS;
			cp.attrs[cp.nattrs].value.p = vip_b;
			cp.attrs[cp.nattrs++].value.len = 4;
		}
		if (ch.has6) {
			/* §3.15.1: 16 octets of address, 1 of prefix length. */
			memcpy(vip6_b, ch.vip6, 16);
			ike_pool6_network(conf->pool6, net6, &vip6_b[16]);
			cp.attrs[cp.nattrs].type = IKE_CFG_INTERNAL_IP6_ADDRESS;
			cp.attrs[cp.nattrs].value.p = vip6_b;
			cp.attrs[cp.nattrs++].value.len = 17;
			for (i = 0; has_attr(&pl->cp,
			    IKE_CFG_INTERNAL_IP6_DNS) && i < conf->ndns6 &&
			    i < IKE_SA_DNS_MAX; i++) {
				cp.attrs[cp.nattrs].type =
				    IKE_CFG_INTERNAL_IP6_DNS;
				cp.attrs[cp.nattrs].value.p = conf->dns6[i];
				cp.attrs[cp.nattrs++].value.len = 16;
			}
		}
		for (i = 0; ch.vip != 0 &&
		    has_attr(&pl->cp, IKE_CFG_INTERNAL_IP4_DNS) &&
		    i < conf->ndns && i < IKE_SA_DNS_MAX; i++) {
			store_be32(dns_b[i], conf->dns[i]);
			cp.attrs[cp.nattrs].type = IKE_CFG_INTERNAL_IP4_DNS;
			cp.attrs[cp.nattrs].value.p = dns_b[i];
			cp.attrs[cp.nattrs++].value.len = 4;
		}
		rc |= ike_build_cp(&b, &cp);
	}
	if (want_child && child_err == 0) {
		store_be32(spi_b, ch.spi_in);
		ike_proposal_response(&c, spi_b, 4, &sa_pl);
		memset(&tsi, 0, sizeof(tsi));
		memset(&tsr, 0, sizeof(tsr));
		/* §2.9: one selector per family we agreed on. */
		if (ch.vip != 0 || conf->pool == NULL) {
			tsi.ts[tsi.count++] = ch.tsi;
			tsr.ts[tsr.count++] = ch.tsr;
		}
		if (ch.has6) {
			tsi.ts[tsi.count++] = ch.tsi6;
			tsr.ts[tsr.count++] = ch.tsr6;
		}
		rc |= ike_build_sa(&b, &sa_pl) | ike_build_ts(&b, IKE_PL_TSI,
		    &tsi) | ike_build_ts(&b, IKE_PL_TSR, &tsr);
	} else if (child_err != 0) {
		memset(&n, 0, sizeof(n));
		n.type = child_err;
		rc |= ike_build_notify(&b, &n);
	}
	if (rc != 0 || ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, hdr, b.first, inner, w.len, out) != 0) {
		ike_sa_reason(out, "cannot build the IKE_AUTH response");
		goto out;
	}
	/* Commit. */
	sa->peer_id_type = pl->idi.type;
	memcpy(sa->peer_id, pl->idi.data.p, pl->idi.data.len);
	sa->peer_id_len = pl->idi.data.len;
	for (i = 0; i < pl->nnotify; i++)
		if (pl->notify[i].type == IKE_N_INITIAL_CONTACT)
			sa->initial_contact = true;
	sa->mobike = mobike;
	ike_sa_set_state(sa, IKE_SA_ESTABLISHED);
	ike_sa_event(out, IKE_EV_IKE_UP, NULL);
	if (want_child && child_err == 0) {
		sa->vip = ch.vip;
		sa->has_vip6 = ch.has6;
		memcpy(sa->vip6, ch.vip6, 16);
		/* The table is empty: the first Child SA always fits. */
		ike_sa_event(out, IKE_EV_CHILD_UP, ike_sa_child_install(sa,
		    &ch, sa->ni, sa->ni_len, sa->nr, sa->nr_len));
		memset(&ch, 0, sizeof(ch));
	}
	res = IKE_SA_ANSWERED;
out:
	child_release(conf, &ch);
	ike_child_keys_cleanse(&ch.keys);
	OPENSSL_cleanse(inner, sizeof(inner));
	return res;
}

/*
 * For CREATE_CHILD_SA (exch_child.c): the same narrowing as the first
 * Child SA, to the IKE SA's virtual addresses (or, without a pool, the
 * peer's IPv4 address); a family whose selectors do not meet ours is left
 * out, both missing is TS_UNACCEPTABLE.
 */
uint16_t
ike_child_ts(struct ike_sa *sa, const struct ike_payloads *pl,
    struct ike_child *ch, struct ike_out *out)
{
	const struct ike_sa_conf *conf = sa->conf;
	struct ike_ts want;
	uint32_t vip = 0;

	if (sa->vip != 0)
		vip = sa->vip;
	else if (conf->pool == NULL && sa->remote.family == 4)
		vip = load_be32(sa->remote.addr);
	memset(&want, 0, sizeof(want));
	want.type = IKE_TS_IPV4_ADDR_RANGE;
	want.end_port = 0xffff;
	store_be32(want.start, vip);
	store_be32(want.end, vip);
	if (vip == 0 || !ts_pick(&pl->tsi, &want, &ch->tsi) ||
	    !ts_pick(&pl->tsr, &conf->local_ts, &ch->tsr)) {
		memset(&ch->tsi, 0, sizeof(ch->tsi));
		memset(&ch->tsr, 0, sizeof(ch->tsr));
	} else
		ch->vip = sa->vip;
	if (sa->has_vip6) {
		memset(&want, 0, sizeof(want));
		want.type = IKE_TS_IPV6_ADDR_RANGE;
		want.end_port = 0xffff;
		memcpy(want.start, sa->vip6, 16);
		memcpy(want.end, sa->vip6, 16);
		if (ts_pick(&pl->tsi, &want, &ch->tsi6) &&
		    ts_pick(&pl->tsr, &conf->local_ts6, &ch->tsr6)) {
			ch->has6 = true;
			memcpy(ch->vip6, sa->vip6, 16);
		}
	}
	if (ch->tsi.type != IKE_TS_IPV4_ADDR_RANGE && !ch->has6) {
		ike_sa_reason(out, "Child SA: traffic selectors do not "
		    "overlap ours");
		return IKE_N_TS_UNACCEPTABLE;
	}
	return 0;
}

uint32_t
ike_child_spi(const struct ike_sa_conf *conf)
{
	return new_spi(conf);
}
