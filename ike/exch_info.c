/*
 * INFORMATIONAL, responder side (RFC 7296 §1.4, §1.4.1): liveness checks
 * and Delete of the IKE SA or of its Child SAs; with MOBIKE (RFC 4555)
 * UPDATE_SA_ADDRESSES, NAT detection in any INFORMATIONAL, COOKIE2, and
 * the pieces of our own return routability check (exch_req.c sends it).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "framing/wire.h"
#include "ike/sa_int.h"

/* What an INFORMATIONAL request asks of MOBIKE (RFC 4555 §3.5, §3.7,
 * §3.8). */
struct mobike {
	bool		 update;	/* UPDATE_SA_ADDRESSES, accepted */
	bool		 natd;		/* NAT_DETECTION_* go back */
	bool		 nat_local, nat_remote;
	bool		 unexpected;	/* NO_NATS_ALLOWED, but a NAT */
	uint8_t		 src[IKE_SA_NATD_LEN], dst[IKE_SA_NATD_LEN];
	const struct ike_notify *cookie2;	/* echoed as is */
};

/*
 * The NAT_DETECTION hashes are those of the path the request came on
 * (ike_sa_set_path): its UDP addresses and ports, or over a stream its
 * TCP ones (RFC 9329, "NAT Detection Payloads": over TCP they use the
 * TCP ports, and a NAT they find changes no encapsulation, so on a
 * stream they are never faked).  They answer UPDATE_SA_ADDRESSES, as RFC 4555 §3.5 asks,
 * and also any other INFORMATIONAL that carries them: a MOBIKE
 * initiator behind a NAT puts them in its liveness checks to learn that
 * its mapping changed (§3.8), or tests a path with them (§3.10), and
 * compares our answer with the last one.  A client whose SA moves
 * between UDP and a stream sees the change of path there, as a change
 * of NAT mapping, and names the new path with UPDATE_SA_ADDRESSES.
 * NO_NATS_ALLOWED (§3.9) is judged by the same hashes, with an update
 * only.  Without MOBIKE agreed, its notifies are ignored.
 */
static int
mobike_get(const struct ike_sa *sa, const struct ike_payloads *pl,
    struct mobike *mb, struct ike_out *out)
{
	const struct ike_notify *c2;
	uint8_t h[IKE_SA_NATD_LEN];

	memset(mb, 0, sizeof(*mb));
	if (!sa->mobike)
		return 0;
	/* §3.7: "the recipient ... MUST copy the notification as-is". */
	if ((c2 = ike_sa_notify(pl, IKE_N_COOKIE2)) != NULL) {
		if (c2->data.len < IKE_SA_COOKIE2_MIN ||
		    c2->data.len > IKE_SA_COOKIE2_MAX)
			ike_sa_reason(out, "COOKIE2 of %zu octets ignored "
			    "(RFC 4555 §4.2.5: 8 to 64)", c2->data.len);
		else
			mb->cookie2 = c2;
	}
	mb->update = ike_sa_notify(pl, IKE_N_UPDATE_SA_ADDRESSES) != NULL;
	if (ike_sa_notify(pl, IKE_N_NAT_DETECTION_SOURCE_IP) == NULL ||
	    ike_sa_notify(pl, IKE_N_NAT_DETECTION_DESTINATION_IP) == NULL)
		return 0;
	mb->natd = true;
	if (ike_natd_hash(sa->spi_i, sa->spi_r, &sa->remote, h) != 0)
		return -1;
	mb->nat_remote = !ike_natd_has(pl, IKE_N_NAT_DETECTION_SOURCE_IP,
	    h);
	if (ike_natd_hash(sa->spi_i, sa->spi_r, &sa->local, h) != 0)
		return -1;
	mb->nat_local = !ike_natd_has(pl,
	    IKE_N_NAT_DETECTION_DESTINATION_IP, h);
	if (ike_natd_hash(sa->spi_i, sa->spi_r, &sa->local, mb->src) != 0 ||
	    ike_natd_hash(sa->spi_i, sa->spi_r, &sa->remote, mb->dst) != 0)
		return -1;
	/* As in IKE_SA_INIT (exch_init.c): still "behind a NAT". */
	if (sa->flags & IKE_SA_F_FAKE_NAT)
		mb->src[0] ^= 0xff;
	mb->unexpected = mb->update &&
	    ike_sa_notify(pl, IKE_N_NO_NATS_ALLOWED) != NULL &&
	    (mb->nat_local || mb->nat_remote);
	return 0;
}

int
ike_info_rr_inner(const uint8_t cookie[static IKE_SA_RR_COOKIE_LEN],
    uint8_t *inner, size_t cap, size_t *len, uint8_t *first)
{
	struct ike_builder b;
	struct wr w = wr_make(inner, cap);

	ike_build_inner_init(&b, &w);
	if (ike_notify_add(&b, IKE_N_COOKIE2, cookie,
	    IKE_SA_RR_COOKIE_LEN) != 0 || ike_build_finish(&b) != 0)
		return -1;
	*len = w.len;
	*first = b.first;
	return 0;
}

/*
 * RFC 4555 §3.7: "the recipient [...] MUST copy the notification as-is"
 * into its response.  Only a peer that received our request at the
 * address we sent it to knows the cookie: it travelled encrypted, and
 * even a peer holding the SA's keys, which could forge any answer of
 * its own, cannot guess 128 random bits.
 */
void
ike_info_rr_answered(const struct ike_payloads *pl, bool parsed,
    const uint8_t cookie[static IKE_SA_RR_COOKIE_LEN], struct ike_out *out)
{
	const struct ike_notify *c2 = parsed ? ike_sa_notify(pl,
	    IKE_N_COOKIE2) : NULL;

	if (c2 != NULL && c2->data.len == IKE_SA_RR_COOKIE_LEN &&
	    CRYPTO_memcmp(c2->data.p, cookie, IKE_SA_RR_COOKIE_LEN) == 0) {
		ike_sa_event(out, IKE_EV_RR_OK, NULL);
		return;
	}
	ike_sa_event(out, IKE_EV_RR_FAILED, NULL);
	ike_sa_reason(out, "return routability check: the answer %s",
	    c2 == NULL ? "has no COOKIE2" : "has another COOKIE2");
}

/*
 * §2.21.2: an initiator that cannot accept our IKE_AUTH response (our
 * AUTH, or the EAP result) says AUTHENTICATION_FAILED in an INFORMATIONAL
 * request of its own.  It came under SK_e/SK_a of this IKE SA, so only the
 * peer that made it can end it this way: answered empty, then the SA and
 * its Child SAs go, instead of waiting for a timeout or a liveness check.
 */
static enum ike_sa_result
peer_refused(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	uint8_t inner[16];
	struct ike_builder b;
	struct wr w = wr_make(inner, sizeof(inner));

	ike_build_inner_init(&b, &w);
	if (ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, &m->hdr, b.first, inner, w.len, out) != 0) {
		ike_sa_reason(out, "cannot build the INFORMATIONAL response");
		return IKE_SA_DROPPED;
	}
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		if (sa->children[k].used)
			ike_sa_child_remove(sa, &sa->children[k].ch, out);
	if (sa->state == IKE_SA_ESTABLISHED)
		ike_sa_event(out, IKE_EV_IKE_DOWN, NULL);
	ike_sa_set_state(sa, IKE_SA_DEAD);
	ike_sa_reason(out, "the peer sent AUTHENTICATION_FAILED: it refused "
	    "our IKE_AUTH response");
	return IKE_SA_ANSWERED;
}

enum ike_sa_result
ike_exch_info(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	const struct ike_payloads *pl = &m->pl;
	uint8_t inner[256 + 4 * IKE_SA_CHILD_MAX];
	uint8_t spi_b[4 * IKE_SA_CHILD_MAX];
	struct ike_child *del[IKE_SA_CHILD_MAX], *ch;
	struct ike_builder b;
	struct ike_delete d;
	struct wr w = wr_make(inner, sizeof(inner));
	struct mobike mb;
	bool del_ike = false;
	size_t i, j, k, ndel = 0;
	int rc = 0;

	/* Process and decide. */
	if (ike_sa_notify(pl, IKE_N_AUTHENTICATION_FAILED) != NULL &&
	    (sa->state == IKE_SA_INIT_DONE ||
	    sa->state == IKE_SA_ESTABLISHED))
		return peer_refused(sa, m, out);
	/* §1.4.1: while our Delete is out, the peer's requests still count. */
	if (sa->state != IKE_SA_ESTABLISHED && sa->state != IKE_SA_DELETING) {
		ike_sa_reason(out, "INFORMATIONAL in state %s",
		    ike_sa_state_name(sa->state));
		return IKE_SA_DROPPED;
	}
	for (i = 0; i < pl->ndelete; i++) {
		if (pl->delete[i].proto == IKE_PROTO_IKE)
			del_ike = true;
		else if (pl->delete[i].proto == IKE_PROTO_ESP)
			for (j = 0; j < pl->delete[i].nspis; j++) {
				ch = ike_sa_child_by_spi_out(sa,
				    ike_delete_spi(&pl->delete[i], j));
				for (k = 0; k < ndel && del[k] != ch; k++)
					;
				if (ch != NULL && k == ndel)
					del[ndel++] = ch;
			}
	}
	if (mobike_get(sa, pl, &mb, out) != 0)
		goto fail;
	/*
	 * Build.  §1.4.1: deleting the IKE SA gets an empty response; a
	 * deleted Child SA gets the Delete of our inbound SPI (unknown SPIs
	 * are ignored, §1.4.1).
	 */
	ike_build_inner_init(&b, &w);
	if (mb.unexpected)
		rc |= ike_notify_add(&b, IKE_N_UNEXPECTED_NAT_DETECTED, NULL,
		    0);
	else if (mb.natd)
		rc |= ike_notify_add(&b, IKE_N_NAT_DETECTION_SOURCE_IP, mb.src,
		    sizeof(mb.src)) | ike_notify_add(&b,
		    IKE_N_NAT_DETECTION_DESTINATION_IP, mb.dst, sizeof(mb.dst));
	if (mb.cookie2 != NULL)
		rc |= ike_notify_add(&b, IKE_N_COOKIE2, mb.cookie2->data.p,
		    mb.cookie2->data.len);
	if (rc != 0)
		goto fail;
	if (!del_ike && ndel > 0) {
		memset(&d, 0, sizeof(d));
		d.proto = IKE_PROTO_ESP;
		d.spi_size = 4;
		/*
		 * §1.4.1: a Child SA we are deleting ourselves is answered
		 * without a Delete payload.
		 */
		for (k = 0; k < ndel; k++)
			if (!ike_req_deleting_child(sa, del[k]->spi_in))
				store_be32(spi_b + 4 * d.nspis++,
				    del[k]->spi_in);
		d.spis.p = spi_b;
		d.spis.len = 4 * (size_t)d.nspis;
		if (d.nspis > 0 && ike_build_delete(&b, &d) != 0)
			goto fail;
	}
	if (ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, &m->hdr, b.first, inner, w.len, out) != 0)
		goto fail;
	/* Commit. */
	if (del_ike) {
		for (k = 0; k < IKE_SA_CHILD_MAX; k++)
			if (sa->children[k].used)
				ike_sa_child_remove(sa, &sa->children[k].ch,
				    out);
		ike_sa_set_state(sa, IKE_SA_DEAD);
		ike_sa_event(out, IKE_EV_IKE_DOWN, NULL);
		ike_sa_reason(out, "IKE SA deleted by the peer");
	} else if (ndel > 0) {
		for (k = 0; k < ndel; k++)
			ike_sa_child_remove(sa, del[k], out);
	}
	if (!del_ike && mb.update) {
		if (mb.unexpected) {
			ike_sa_reason(out, "UPDATE_SA_ADDRESSES with "
			    "NO_NATS_ALLOWED through a NAT: "
			    "UNEXPECTED_NAT_DETECTED");
		} else {
			if (mb.natd) {
				sa->nat_local = mb.nat_local;
				sa->nat_remote = mb.nat_remote;
			}
			ike_sa_event(out, IKE_EV_ADDRESSES, NULL);
		}
	}
	return IKE_SA_ANSWERED;
fail:
	ike_sa_reason(out, "cannot build the INFORMATIONAL response");
	return IKE_SA_DROPPED;
}
