/*
 * CREATE_CHILD_SA, responder side (RFC 7296 §1.3): a new Child SA
 * (§1.3.1), the rekey of a Child SA (§1.3.3, REKEY_SA) and the rekey of
 * the IKE SA itself (§1.3.2, §2.18).  Each follows the handlers' shape:
 * process and decide into locals, build the response (protected with the
 * keys of the SA the request came on), then commit.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "framing/wire.h"
#include "ike/dh.h"
#include "ike/sa_int.h"

enum {
	CHILD_NONCE_LEN	= IKE_SA_NONCE_LEN	/* our Nr, octets */
};

/*
 * An error answer (§1.3: "a Notify payload ... indicating the error"),
 * with @data and, for CHILD_SA_NOT_FOUND, the Child SA's @proto/@spi.
 * The IKE SA stands.
 */
static enum ike_sa_result
refuse(struct ike_sa *sa, const struct ike_msg *m, uint16_t type,
    const uint8_t *data, size_t data_len, const struct ike_notify *about,
    struct ike_out *out)
{
	uint8_t inner[IKE_GENHDR_LEN + 4 + 8 + 2];
	struct ike_builder b;
	struct ike_notify n;
	struct wr w = wr_make(inner, sizeof(inner));

	ike_build_inner_init(&b, &w);
	memset(&n, 0, sizeof(n));
	n.type = type;
	n.data.p = data;
	n.data.len = data_len;
	if (about != NULL) {
		n.proto = about->proto;
		n.spi = about->spi;
	}
	if (ike_build_notify(&b, &n) != 0 || ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, &m->hdr, b.first, inner, w.len, out) != 0) {
		ike_sa_reason(out, "cannot build the response");
		return IKE_SA_DROPPED;
	}
	return IKE_SA_ANSWERED;
}

int
ike_kex_answer(const struct ike_sa_conf *conf, uint16_t group,
    const uint8_t *peer, size_t peer_len, uint8_t *pub, size_t pub_len,
    uint8_t *gir, size_t gir_len)
{
	struct ike_kex *kex;
	int rc = -1;

	if ((kex = ike_kex_new(group, conf->kex_flags)) != NULL &&
	    ike_kex_public(kex, pub, pub_len) == 0 &&
	    ike_kex_derive(kex, peer, peer_len, gir, gir_len) == 0)
		rc = 0;
	ike_kex_free(kex);
	return rc;
}

int
ike_child_keys(const struct ike_sa *sa, const struct ike_chosen *c,
    const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len, struct ike_child *ch)
{
	ch->suite = c->suite;
	ch->suite.prf = sa->suite.prf;
	ch->esn = c->has_esn && c->esn == IKE_ESN_YES;
	/* §2.17: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr), g^ir with PFS. */
	return ike_child_keys_derive(sa->suite.prf, sa->keys.sk_d,
	    sa->keys.prf_len, &ch->suite, gir, gir_len, ni, ni_len, nr, nr_len,
	    &ch->keys);
}

/*
 * The KE of the request for the chosen group (§1.3.1, §1.3.2): 0 with our
 * KE data in @pub and g^ir in @gir; else the refusal is already built
 * into @out and *res set.
 */
static int
kex_decide(struct ike_sa *sa, const struct ike_msg *m, uint16_t group,
    uint8_t *pub, size_t *pub_len, uint8_t *gir, size_t *gir_len,
    struct ike_out *out, enum ike_sa_result *res)
{
	const struct ike_payloads *pl = &m->pl;
	uint8_t grp[2];

	*pub_len = *gir_len = 0;
	if (!(pl->have & IKE_HAVE_KE) || pl->ke.group != group) {
		/* §1.3: name the group we want; the initiator retries. */
		store_be16(grp, group);
		ike_sa_reason(out, "CREATE_CHILD_SA: KE group %u, we want "
		    "%u: INVALID_KE_PAYLOAD sent", (pl->have & IKE_HAVE_KE) ?
		    pl->ke.group : 0, group);
		*res = refuse(sa, m, IKE_N_INVALID_KE_PAYLOAD, grp,
		    sizeof(grp), NULL, out);
		return -1;
	}
	*pub_len = ike_kex_pub_len(group);
	*gir_len = ike_kex_secret_len(group);
	if (pl->ke.data.len != *pub_len || ike_kex_answer(sa->conf, group,
	    pl->ke.data.p, pl->ke.data.len, pub, *pub_len, gir,
	    *gir_len) != 0) {
		ike_sa_reason(out, "CREATE_CHILD_SA: bad KE data (%zu "
		    "octets, group %u)", pl->ke.data.len, group);
		*gir_len = 0;
		*res = refuse(sa, m, IKE_N_INVALID_SYNTAX, NULL, 0, NULL, out);
		return -1;
	}
	return 0;
}

/* SA, Nr, [KEr] and, for a Child SA, TSi and TSr; the response. */
static int
respond(struct ike_sa *sa, const struct ike_msg *m,
    const struct ike_chosen *c, const uint8_t *spi, uint8_t spi_size,
    const uint8_t *nr, const uint8_t *pub, size_t pub_len,
    const struct ike_child *ch, struct ike_out *out)
{
	uint8_t inner[IKE_SA_INNER_MAX];
	struct ike_sa_pl *sa_pl;
	struct ike_ts_pl *ts;
	struct ike_builder b;
	struct ike_ke ke;
	struct wr w = wr_make(inner, sizeof(inner));
	int rc = -1;

	sa_pl = calloc(1, sizeof(*sa_pl));
	ts = calloc(2, sizeof(*ts));
	if (sa_pl == NULL || ts == NULL)
		goto out;
	ike_build_inner_init(&b, &w);
	ike_proposal_response(c, spi, spi_size, sa_pl);
	rc = ike_build_sa(&b, sa_pl) | ike_build_nonce(&b, nr,
	    CHILD_NONCE_LEN);
	if (pub_len > 0) {
		ke.group = (uint16_t)c->suite.dh;
		ke.data.p = pub;
		ke.data.len = pub_len;
		rc |= ike_build_ke(&b, &ke);
	}
	if (ch != NULL) {
		/* §2.9: one selector per family we agreed on. */
		if (ch->tsi.type == IKE_TS_IPV4_ADDR_RANGE) {
			ts[0].ts[ts[0].count++] = ch->tsi;
			ts[1].ts[ts[1].count++] = ch->tsr;
		}
		if (ch->has6) {
			ts[0].ts[ts[0].count++] = ch->tsi6;
			ts[1].ts[ts[1].count++] = ch->tsr6;
		}
		rc |= ike_build_ts(&b, IKE_PL_TSI, &ts[0]) |
		    ike_build_ts(&b, IKE_PL_TSR, &ts[1]);
	}
	if (rc != 0 || ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, &m->hdr, b.first, inner, w.len, out) != 0)
		rc = -1;
out:
	free(sa_pl);
	free(ts);
	OPENSSL_cleanse(inner, sizeof(inner));
	return rc;
}

/* §1.3.1 a new Child SA, or §1.3.3 a rekey of @rekey's Child SA. */
static enum ike_sa_result
child(struct ike_sa *sa, const struct ike_msg *m,
    const struct ike_notify *rekey, struct ike_out *out)
{
	const struct ike_payloads *pl = &m->pl;
	const struct ike_sa_conf *conf = sa->conf;
	enum ike_sa_result res = IKE_SA_DROPPED;
	struct ike_child ch, *old = NULL;
	struct ike_chosen c;
	uint8_t nr[CHILD_NONCE_LEN], pub[IKE_KEX_PUB_MAX];
	uint8_t gir[IKE_KEX_SECRET_MAX], spi_b[4];
	size_t pub_len = 0, gir_len = 0;
	uint16_t err;

	memset(&ch, 0, sizeof(ch));
	/* Process. */
	if ((pl->have & (IKE_HAVE_TSI | IKE_HAVE_TSR)) !=
	    (IKE_HAVE_TSI | IKE_HAVE_TSR)) {
		ike_sa_reason(out, "CREATE_CHILD_SA without TSi/TSr");
		return refuse(sa, m, IKE_N_INVALID_SYNTAX, NULL, 0, NULL, out);
	}
	if (rekey != NULL && (rekey->proto != IKE_PROTO_ESP ||
	    rekey->spi.len != 4 || (old = ike_sa_child_by_spi_out(sa,
	    load_be32(rekey->spi.p))) == NULL)) {
		/* §1.3.3, §3.10.1: a Child SA we do not have. */
		ike_sa_reason(out, "Child SA rekey: CHILD_SA_NOT_FOUND "
		    "(protocol %u, %zu-octet SPI %08x)", rekey->proto,
		    rekey->spi.len, rekey->spi.len == 4 ?
		    load_be32(rekey->spi.p) : 0);
		return refuse(sa, m, IKE_N_CHILD_SA_NOT_FOUND, NULL, 0, rekey,
		    out);
	}
	/* Decide.  §2.25.1, §2.25.2: collisions with requests of ours. */
	if ((old != NULL && ike_sa_child_slot(sa, old)->closing) ||
	    (sa->own & IKE_SA_OWN_IKE_REKEY) ||
	    sa->state == IKE_SA_DELETING) {
		ike_sa_reason(out, "CREATE_CHILD_SA while we %s: "
		    "TEMPORARY_FAILURE", sa->state == IKE_SA_DELETING ?
		    "delete the IKE SA" : old != NULL &&
		    ike_sa_child_slot(sa, old)->closing ?
		    "delete that Child SA" : "rekey the IKE SA");
		return refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0, NULL,
		    out);
	}
	if (ike_sa_child_count(sa) >= IKE_SA_CHILD_MAX) {
		ike_sa_reason(out, "CREATE_CHILD_SA refused: %d Child SAs: "
		    "NO_ADDITIONAL_SAS", IKE_SA_CHILD_MAX);
		return refuse(sa, m, IKE_N_NO_ADDITIONAL_SAS, NULL, 0, NULL,
		    out);
	}
	if (ike_proposal_select(conf->esp, conf->nesp, &pl->sa,
	    (pl->have & IKE_HAVE_KE) ? pl->ke.group : IKE_DH_NONE, 0, &c) !=
	    IKE_SELECT_OK || c.spi_size != 4) {
		ike_sa_reason(out, "CREATE_CHILD_SA: no acceptable ESP "
		    "proposal");
		return refuse(sa, m, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, NULL,
		    out);
	}
	/* A KE without a chosen group (no PFS) is ignored. */
	if (c.suite.dh != IKE_DH_NONE && kex_decide(sa, m,
	    (uint16_t)c.suite.dh, pub, &pub_len, gir, &gir_len, out,
	    &res) != 0)
		goto out;
	if ((err = ike_child_ts(sa, pl, &ch, out)) != 0) {
		res = refuse(sa, m, err, NULL, 0, NULL, out);
		goto out;
	}
	ch.spi_out = load_be32(c.spi);
	if ((ch.spi_in = ike_child_spi(conf)) == 0) {
		ike_sa_reason(out, "CREATE_CHILD_SA: no inbound SPI");
		res = refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0, NULL,
		    out);
		goto out;
	}
	if (RAND_bytes(nr, sizeof(nr)) != 1 || ike_child_keys(sa, &c, gir,
	    gir_len, pl->nonce.p, pl->nonce.len, nr, sizeof(nr), &ch) != 0) {
		ike_sa_reason(out, "CREATE_CHILD_SA: key derivation failed");
		goto out;
	}
	if (old != NULL)
		ch.replaces = old->spi_in;
	/* Build. */
	store_be32(spi_b, ch.spi_in);
	if (respond(sa, m, &c, spi_b, 4, nr, pub, pub_len, &ch, out) != 0) {
		ike_sa_reason(out, "cannot build the CREATE_CHILD_SA "
		    "response");
		goto out;
	}
	/* Commit: counted above, so there is a free slot. */
	ike_sa_event(out, IKE_EV_CHILD_UP, ike_sa_child_install(sa, &ch,
	    pl->nonce.p, pl->nonce.len, nr, sizeof(nr)));
	res = IKE_SA_ANSWERED;
out:
	ike_child_keys_cleanse(&ch.keys);
	OPENSSL_cleanse(gir, sizeof(gir));
	OPENSSL_cleanse(nr, sizeof(nr));
	return res;
}

/*
 * §1.3.2, §2.18: the IKE SA rekeyed.  SKEYSEED = prf(SK_d (old), g^ir
 * (new) | Ni | Nr) with the old PRF; the new SA's keys from its suite and
 * the new SPIs.  The response goes out under the old keys; then the SA
 * switches and the Child SAs move with it.
 */
static enum ike_sa_result
ike_rekey(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	const struct ike_payloads *pl = &m->pl;
	enum ike_sa_result res = IKE_SA_DROPPED;
	struct ike_chosen c;
	struct ike_keys keys;
	struct ike_sk sk_in, sk_out;
	uint8_t nr[CHILD_NONCE_LEN], pub[IKE_KEX_PUB_MAX];
	uint8_t gir[IKE_KEX_SECRET_MAX], spir[IKE_SPI_LEN];
	size_t pub_len = 0, gir_len = 0;
	uint64_t spi_i, spi_r = 0;

	memset(&keys, 0, sizeof(keys));
	memset(&sk_in, 0, sizeof(sk_in));
	memset(&sk_out, 0, sizeof(sk_out));
	/*
	 * §2.25.2: "If a peer receives a request to rekey the IKE SA, and it
	 * is currently creating, rekeying, or closing a Child SA of that IKE
	 * SA, it SHOULD reply with TEMPORARY_FAILURE", likewise when it is
	 * closing the IKE SA.  A collision with our own IKE SA rekey is
	 * answered as usual (§2.8.1: ike_rekey_a_loses() decides later).
	 */
	if ((sa->own & IKE_SA_OWN_CHILD) || sa->state == IKE_SA_DELETING) {
		ike_sa_reason(out, "IKE SA rekey while we %s: "
		    "TEMPORARY_FAILURE", sa->state == IKE_SA_DELETING ?
		    "delete it" : "change a Child SA");
		return refuse(sa, m, IKE_N_TEMPORARY_FAILURE, NULL, 0, NULL,
		    out);
	}
	/* Decide. */
	if (ike_proposal_select(sa->conf->ike, sa->conf->nike, &pl->sa,
	    (pl->have & IKE_HAVE_KE) ? pl->ke.group : IKE_DH_NONE, 0, &c) !=
	    IKE_SELECT_OK) {
		ike_sa_reason(out, "IKE SA rekey: no acceptable proposal");
		return refuse(sa, m, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, NULL,
		    out);
	}
	spi_i = c.spi_size == IKE_SPI_LEN ? load_be64(c.spi) : 0;
	if (spi_i == 0) {
		ike_sa_reason(out, "IKE SA rekey: proposal SPI of %u octets",
		    c.spi_size);
		return refuse(sa, m, IKE_N_INVALID_SYNTAX, NULL, 0, NULL, out);
	}
	if (kex_decide(sa, m, (uint16_t)c.suite.dh, pub, &pub_len, gir,
	    &gir_len, out, &res) != 0)
		goto out;
	if (RAND_bytes(nr, sizeof(nr)) != 1) {
		ike_sa_reason(out, "no random nonce");
		goto out;
	}
	if ((spi_r = ike_sa_draw_spi(spir)) == 0) {
		ike_sa_reason(out, "no random SPI");
		goto out;
	}
	if (ike_keys_rekey_sa(&c.suite, sa->suite.prf, sa->keys.sk_d,
	    sa->keys.prf_len, gir, gir_len, pl->nonce.p, pl->nonce.len, nr,
	    sizeof(nr), c.spi, spir, &keys) != 0 ||
	    ike_sk_init_pair(&sk_out, &sk_in, &c.suite, &keys, false) != 0) {
		ike_sa_reason(out, "IKE SA rekey: key derivation failed");
		goto out;
	}
	/* Build: our new SPI goes in the proposal (§3.3.1). */
	if (respond(sa, m, &c, spir, IKE_SPI_LEN, nr, pub, pub_len, NULL,
	    out) != 0) {
		ike_sa_reason(out, "cannot build the CREATE_CHILD_SA "
		    "response");
		goto out;
	}
	/* Commit. */
	ike_sa_ike_switch(sa, spi_i, spi_r, &c.suite, &keys, &sk_in, &sk_out,
	    false, out);
	res = IKE_SA_ANSWERED;
out:
	ike_keys_cleanse(&keys);
	ike_sk_cleanup(&sk_in);
	ike_sk_cleanup(&sk_out);
	OPENSSL_cleanse(gir, sizeof(gir));
	OPENSSL_cleanse(nr, sizeof(nr));
	return res;
}

enum ike_sa_result
ike_exch_child(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	const struct ike_payloads *pl = &m->pl;
	const struct ike_notify *rekey = ike_sa_notify(pl, IKE_N_REKEY_SA);

	/* §1.3: SA and Ni in every CREATE_CHILD_SA request. */
	if ((pl->have & (IKE_HAVE_SA | IKE_HAVE_NONCE)) !=
	    (IKE_HAVE_SA | IKE_HAVE_NONCE) || pl->sa.nproposals == 0) {
		ike_sa_reason(out, "CREATE_CHILD_SA without SA or Ni");
		return refuse(sa, m, IKE_N_INVALID_SYNTAX, NULL, 0, NULL, out);
	}
	/* §1.3.2: an IKE proposal, no traffic selectors, no REKEY_SA. */
	if (rekey == NULL && pl->sa.proposals[0].proto == IKE_PROTO_IKE &&
	    !(pl->have & (IKE_HAVE_TSI | IKE_HAVE_TSR)))
		return ike_rekey(sa, m, out);
	return child(sa, m, rekey, out);
}
