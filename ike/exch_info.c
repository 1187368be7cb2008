/*
 * INFORMATIONAL, responder side (RFC 7296 §1.4, §1.4.1): liveness checks
 * and Delete of the IKE SA or of its Child SAs.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "framing/wire.h"
#include "ike/sa_int.h"

enum ike_sa_result
ike_exch_info(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	const struct ike_payloads *pl = &m->pl;
	uint8_t inner[IKE_GENHDR_LEN + 4 + 4 * IKE_SA_CHILD_MAX];
	uint8_t spi_b[4 * IKE_SA_CHILD_MAX];
	struct ike_child *del[IKE_SA_CHILD_MAX], *ch;
	struct ike_builder b;
	struct ike_delete d;
	struct wr w = wr_make(inner, sizeof(inner));
	bool del_ike = false;
	size_t i, j, k, ndel = 0;

	/* Process and decide. */
	if (sa->state != IKE_SA_ESTABLISHED) {
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
	/*
	 * Build.  §1.4.1: deleting the IKE SA gets an empty response; a
	 * deleted Child SA gets the Delete of our inbound SPI (unknown SPIs
	 * are ignored, §1.4.1).
	 */
	ike_build_inner_init(&b, &w);
	if (!del_ike && ndel > 0) {
		memset(&d, 0, sizeof(d));
		d.proto = IKE_PROTO_ESP;
		d.spi_size = 4;
		d.nspis = (uint16_t)ndel;
		for (k = 0; k < ndel; k++)
			store_be32(spi_b + 4 * k, del[k]->spi_in);
		d.spis.p = spi_b;
		d.spis.len = 4 * ndel;
		if (ike_build_delete(&b, &d) != 0)
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
	return IKE_SA_ANSWERED;
fail:
	ike_sa_reason(out, "cannot build the INFORMATIONAL response");
	return IKE_SA_DROPPED;
}
