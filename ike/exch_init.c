/*
 * IKE_SA_INIT, responder side (RFC 7296 §1.2, §1.3, §2.6, §2.23):
 * proposal, key exchange, nonces, NAT detection, cookies; then the keys.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "framing/wire.h"
#include "ike/auth.h"
#include "ike/dh.h"
#include "ike/sa_int.h"

enum {
	NATD_LEN	= 20,	/* SHA-1 */
	COOKIE_LEN	= 32	/* SHA-256 */
};

static size_t
addr_len(const struct ike_endpoint *e)
{
	return e->family == 6 ? 16 : 4;
}

/* §2.23: SHA-1(SPIi | SPIr | IP address | port). */
static int
natd_hash(uint64_t spi_i, uint64_t spi_r, const struct ike_endpoint *e,
    uint8_t out[static NATD_LEN])
{
	uint8_t buf[8 + 8 + 16 + 2];
	size_t n = addr_len(e);

	store_be64(buf, spi_i);
	store_be64(buf + 8, spi_r);
	memcpy(buf + 16, e->addr, n);
	store_be16(buf + 16 + n, e->port);
	return EVP_Digest(buf, 18 + n, out, NULL, EVP_sha1(), NULL) == 1 ?
	    0 : -1;
}

/* §2.6: Cookie = Hash(Ni | IPi | SPIi | <secret>), stateless. */
static int
cookie_make(const struct ike_sa *sa, const struct ike_msg *m,
    uint8_t out[static COOKIE_LEN])
{
	EVP_MD_CTX *ctx;
	uint8_t spi[8];
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	store_be64(spi, m->hdr.spi_i);
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, m->pl.nonce.p, m->pl.nonce.len) == 1 &&
	    EVP_DigestUpdate(ctx, sa->remote.addr, addr_len(&sa->remote)) ==
	    1 && EVP_DigestUpdate(ctx, spi, sizeof(spi)) == 1 &&
	    EVP_DigestUpdate(ctx, sa->conf->cookie_secret,
	    sizeof(sa->conf->cookie_secret)) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static const struct ike_notify *
find_notify(const struct ike_payloads *pl, uint16_t type)
{
	size_t i;

	for (i = 0; i < pl->nnotify; i++)
		if (pl->notify[i].type == type)
			return &pl->notify[i];
	return NULL;
}

/* True when some notify of @type in the request carries @hash. */
static bool
has_hash(const struct ike_payloads *pl, uint16_t type,
    const uint8_t hash[static NATD_LEN])
{
	size_t i;

	for (i = 0; i < pl->nnotify; i++)
		if (pl->notify[i].type == type &&
		    pl->notify[i].data.len == NATD_LEN &&
		    memcmp(pl->notify[i].data.p, hash, NATD_LEN) == 0)
			return true;
	return false;
}

static int
add_notify(struct ike_builder *b, uint16_t type, const uint8_t *data,
    size_t len)
{
	struct ike_notify n;

	memset(&n, 0, sizeof(n));
	n.type = type;
	n.data.p = data;
	n.data.len = len;
	return ike_build_notify(b, &n);
}

/* What the response carries besides SA, KE and Nr. */
struct extras {
	bool		 natd;
	uint8_t		 natd_src[NATD_LEN], natd_dst[NATD_LEN];
	bool		 nat_local, nat_remote;
	bool		 frag;
	bool		 hash_algs;
	uint32_t	 hash_mask;
	const uint8_t	*certreq;	/* CA hashes, or certreq_len 0 */
	size_t		 certreq_len;
};

static int
extras_get(const struct ike_sa *sa, const struct ike_msg *m,
    uint64_t spi_r, struct extras *x)
{
	const struct ike_notify *n;
	uint8_t h[NATD_LEN];

	memset(x, 0, sizeof(*x));
	x->natd = find_notify(&m->pl, IKE_N_NAT_DETECTION_SOURCE_IP) !=
	    NULL && find_notify(&m->pl, IKE_N_NAT_DETECTION_DESTINATION_IP) !=
	    NULL;
	if (x->natd) {
		if (natd_hash(m->hdr.spi_i, 0, &sa->remote, h) != 0)
			return -1;
		x->nat_remote = !has_hash(&m->pl,
		    IKE_N_NAT_DETECTION_SOURCE_IP, h);
		if (natd_hash(m->hdr.spi_i, 0, &sa->local, h) != 0)
			return -1;
		x->nat_local = !has_hash(&m->pl,
		    IKE_N_NAT_DETECTION_DESTINATION_IP, h);
		if (natd_hash(m->hdr.spi_i, spi_r, &sa->local,
		    x->natd_src) != 0 || natd_hash(m->hdr.spi_i, spi_r,
		    &sa->remote, x->natd_dst) != 0)
			return -1;
		/* RFC 7296 §2.23: a hash that matches no address of ours
		 * says "behind a NAT"; the peer then encapsulates. */
		if (sa->flags & IKE_SA_F_FAKE_NAT)
			x->natd_src[0] ^= 0xff;
	}
	/*
	 * RFC 7383 §2.3: the responder answers the notify (empty) when it
	 * supports fragmentation and the initiator sent it; from then on
	 * either side may fragment protected messages (§2.4).
	 */
	x->frag = !sa->conf->no_frag && find_notify(&m->pl,
	    IKE_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
	n = find_notify(&m->pl, IKE_N_SIGNATURE_HASH_ALGORITHMS);
	x->hash_algs = n != NULL;
	x->certreq = sa->conf->certreq;
	x->certreq_len = sa->conf->certreq_len;
	if (n != NULL && !ike_auth_hash_algs_parse(n->data.p, n->data.len,
	    &x->hash_mask))
		x->hash_mask = 0;
	return 0;
}

static uint8_t *
build_response(const struct ike_msg *m, uint64_t spi_r,
    const struct ike_chosen *c, const uint8_t *pub, size_t pub_len,
    const uint8_t *nr, size_t nr_len, const struct extras *x, size_t *len)
{
	/* RFC 7427 §4: the hashes we can verify with. */
	static const uint8_t algs[] = { 0, IKE_HASH_SHA2_256, 0,
	    IKE_HASH_SHA2_384, 0, IKE_HASH_SHA2_512, 0, IKE_HASH_IDENTITY };
	struct ike_builder b;
	struct ike_sa_pl *sa_pl;
	struct ike_ke ke;
	struct ike_hdr h;
	struct wr w;
	uint8_t *buf;
	int rc;

	buf = malloc(IKE_SA_MSG_MAX);
	sa_pl = malloc(sizeof(*sa_pl));
	if (buf == NULL || sa_pl == NULL)
		goto fail;
	memset(&h, 0, sizeof(h));
	h.spi_i = m->hdr.spi_i;
	h.spi_r = spi_r;
	h.exchange = IKE_EXCH_IKE_SA_INIT;
	h.flags = IKE_FLAG_RESPONSE;
	w = wr_make(buf, IKE_SA_MSG_MAX);
	ike_build_init(&b, &w, &h);
	ike_proposal_response(c, NULL, 0, sa_pl);
	ke.group = (uint16_t)c->suite.dh;
	ke.data.p = pub;
	ke.data.len = pub_len;
	rc = ike_build_sa(&b, sa_pl) | ike_build_ke(&b, &ke) |
	    ike_build_nonce(&b, nr, nr_len);
	if (x->natd)
		rc |= add_notify(&b, IKE_N_NAT_DETECTION_SOURCE_IP,
		    x->natd_src, NATD_LEN) | add_notify(&b,
		    IKE_N_NAT_DETECTION_DESTINATION_IP, x->natd_dst, NATD_LEN);
	if (x->frag)
		rc |= add_notify(&b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED,
		    NULL, 0);
	if (x->hash_algs)
		rc |= add_notify(&b, IKE_N_SIGNATURE_HASH_ALGORITHMS, algs,
		    sizeof(algs));
	if (x->certreq_len > 0) {
		/*
		 * §3.7: ask for the initiator's certificate, naming our
		 * trust anchors; without it a client that sends its
		 * certificate only when asked (strongSwan's default) sends
		 * none.
		 */
		struct ike_cert cr;

		cr.encoding = IKE_CERT_X509_SIG;
		cr.data.p = x->certreq;
		cr.data.len = x->certreq_len;
		rc |= ike_build_cert(&b, IKE_PL_CERTREQ, &cr);
	}
	if (rc != 0 || ike_build_finish(&b) != 0)
		goto fail;
	free(sa_pl);
	*len = w.len;
	return buf;
fail:
	free(sa_pl);
	free(buf);
	return NULL;
}

static enum ike_sa_result
answer(struct ike_sa *sa, const struct ike_msg *m, uint16_t type,
    const uint8_t *data, size_t len, struct ike_out *out)
{
	if (ike_sa_respond_notify(sa, &m->hdr, type, data, len, out) != 0) {
		ike_sa_reason(out, "cannot build the response");
		return IKE_SA_DROPPED;
	}
	return IKE_SA_ANSWERED;
}

enum ike_sa_result
ike_exch_init(struct ike_sa *sa, const uint8_t *msg, size_t len,
    const struct ike_msg *m, struct ike_out *out)
{
	const struct ike_payloads *pl = &m->pl;
	const struct ike_notify *n;
	enum ike_sa_result res = IKE_SA_DROPPED;
	struct ike_chosen c;
	struct ike_kex *kex = NULL;
	struct ike_keys keys;
	struct ike_sk sk_in, sk_out;
	struct extras x;
	uint8_t cookie[COOKIE_LEN], grp[2], spii[8], spir[8];
	uint8_t pub[IKE_KEX_PUB_MAX], gir[IKE_KEX_SECRET_MAX];
	uint8_t nr[IKE_SA_NONCE_LEN];
	uint8_t *req = NULL, *resp = NULL, *resp_copy = NULL;
	size_t pub_len, gir_len = 0, resp_len = 0;
	uint64_t spi_r = 0;

	memset(&keys, 0, sizeof(keys));
	memset(&sk_in, 0, sizeof(sk_in));
	memset(&sk_out, 0, sizeof(sk_out));
	/* Process. */
	if ((pl->have & (IKE_HAVE_SA | IKE_HAVE_KE | IKE_HAVE_NONCE)) !=
	    (IKE_HAVE_SA | IKE_HAVE_KE | IKE_HAVE_NONCE)) {
		ike_sa_reason(out, "IKE_SA_INIT without SA, KE or Ni");
		return IKE_SA_DROPPED;
	}
	if (sa->flags & IKE_SA_F_COOKIE) {
		if (cookie_make(sa, m, cookie) != 0) {
			ike_sa_reason(out, "cookie hash failed");
			return IKE_SA_DROPPED;
		}
		n = find_notify(pl, IKE_N_COOKIE);
		if (n == NULL || n->data.len != COOKIE_LEN ||
		    CRYPTO_memcmp(n->data.p, cookie, COOKIE_LEN) != 0) {
			ike_sa_reason(out, "%s: COOKIE sent",
			    n == NULL ? "half-open SAs over the threshold" :
			    "wrong cookie");
			res = answer(sa, m, IKE_N_COOKIE, cookie, COOKIE_LEN,
			    out);
			out->cookie = res == IKE_SA_ANSWERED;
			return res;
		}
	}
	/* Decide. */
	if (ike_proposal_select(sa->conf->ike, sa->conf->nike, &pl->sa,
	    pl->ke.group, 0, &c) != IKE_SELECT_OK) {
		ike_sa_reason(out, "IKE_SA_INIT: no acceptable proposal");
		res = answer(sa, m, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, out);
		ike_sa_set_state(sa, IKE_SA_DEAD);
		return res;
	}
	if (c.suite.dh != pl->ke.group) {
		/* §1.3: name the group we want; the initiator retries. */
		store_be16(grp, (uint16_t)c.suite.dh);
		ike_sa_reason(out, "KE group %u, we want %u: "
		    "INVALID_KE_PAYLOAD sent", pl->ke.group, c.suite.dh);
		return answer(sa, m, IKE_N_INVALID_KE_PAYLOAD, grp,
		    sizeof(grp), out);
	}
	pub_len = ike_kex_pub_len(c.suite.dh);
	if (pl->ke.data.len != pub_len) {
		ike_sa_reason(out, "KE data of %zu octets for group %u, "
		    "want %zu", pl->ke.data.len, c.suite.dh, pub_len);
		return IKE_SA_DROPPED;
	}
	gir_len = ike_kex_secret_len(c.suite.dh);
	if ((kex = ike_kex_new(c.suite.dh, sa->conf->kex_flags)) == NULL ||
	    ike_kex_public(kex, pub, pub_len) != 0 ||
	    ike_kex_derive(kex, pl->ke.data.p, pub_len, gir, gir_len) != 0) {
		ike_sa_reason(out, "key exchange (group %u) failed",
		    c.suite.dh);
		gir_len = 0;
		goto out;
	}
	if (RAND_bytes(nr, sizeof(nr)) != 1) {
		ike_sa_reason(out, "no random nonce");
		goto out;
	}
	if ((spi_r = ike_sa_draw_spi(spir)) == 0) {
		ike_sa_reason(out, "no random SPI");
		goto out;
	}
	store_be64(spii, m->hdr.spi_i);
	if (ike_keys_new_sa(&c.suite, pl->nonce.p, pl->nonce.len, nr,
	    sizeof(nr), gir, gir_len, spii, spir, &keys) != 0 ||
	    ike_sk_init_pair(&sk_out, &sk_in, &c.suite, &keys, false) != 0) {
		ike_sa_reason(out, "key derivation failed");
		goto out;
	}
	/* Build. */
	if (extras_get(sa, m, spi_r, &x) != 0 ||
	    (resp = build_response(m, spi_r, &c, pub, pub_len, nr,
	    sizeof(nr), &x, &resp_len)) == NULL ||
	    (req = malloc(len)) == NULL ||
	    (resp_copy = malloc(resp_len)) == NULL) {
		ike_sa_reason(out, "cannot build the response");
		goto out;
	}
	/* Commit. */
	memcpy(req, msg, len);
	memcpy(resp_copy, resp, resp_len);
	sa->init_req = req;
	sa->init_req_len = len;
	sa->init_resp = resp_copy;
	sa->init_resp_len = resp_len;
	req = resp_copy = NULL;
	sa->spi_i = m->hdr.spi_i;
	sa->spi_r = spi_r;
	sa->suite = c.suite;
	sa->keys = keys;
	sa->sk_in = sk_in;
	sa->sk_out = sk_out;
	memcpy(sa->ni, pl->nonce.p, pl->nonce.len);
	sa->ni_len = pl->nonce.len;
	memcpy(sa->nr, nr, sizeof(nr));
	sa->nr_len = sizeof(nr);
	sa->nat_local = x.nat_local;
	sa->nat_remote = x.nat_remote;
	sa->hash_algs = x.hash_algs;
	sa->hash_mask = x.hash_mask;
	sa->frag = x.frag;
	sa->msgid_next = 1;
	ike_sa_set_state(sa, IKE_SA_INIT_DONE);
	(void)ike_sa_respond(sa, 0, true, resp, resp_len, out);
	resp = NULL;
	res = IKE_SA_ANSWERED;
out:
	ike_kex_free(kex);
	OPENSSL_cleanse(gir, sizeof(gir));
	ike_keys_cleanse(&keys);
	ike_sk_cleanup(&sk_in);
	ike_sk_cleanup(&sk_out);
	free(req);
	free(resp);
	free(resp_copy);
	return res;
}

int
ike_natd_hash(uint64_t spi_i, uint64_t spi_r, const struct ike_endpoint *e,
    uint8_t out[static IKE_SA_NATD_LEN])
{
	return natd_hash(spi_i, spi_r, e, out);
}

bool
ike_natd_has(const struct ike_payloads *pl, uint16_t type,
    const uint8_t hash[static IKE_SA_NATD_LEN])
{
	return has_hash(pl, type, hash);
}

int
ike_notify_add(struct ike_builder *b, uint16_t type, const uint8_t *data,
    size_t len)
{
	return add_notify(b, type, data, len);
}
