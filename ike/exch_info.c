/*
 * INFORMATIONAL, responder side (RFC 7296 §1.4, §1.4.1): liveness checks
 * and Delete of the IKE SA or of its Child SA.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "framing/wire.h"
#include "ike/sa_int.h"

enum ike_sa_result
ike_exch_info(struct ike_sa *sa, const struct ike_msg *m, struct ike_out *out)
{
	const struct ike_payloads *pl = &m->pl;
	uint8_t inner[IKE_GENHDR_LEN + 4 + 4];
	uint8_t spi_b[4];
	struct ike_builder b;
	struct ike_delete d;
	struct wr w = wr_make(inner, sizeof(inner));
	bool del_ike = false, del_child = false;
	size_t i, j;

	/* Process and decide. */
	/* §1.4.1: while our Delete is out, the peer's requests still count. */
	if (sa->state != IKE_SA_ESTABLISHED && sa->state != IKE_SA_DELETING) {
		ike_sa_reason(out, "INFORMATIONAL in state %s",
		    ike_sa_state_name(sa->state));
		return IKE_SA_DROPPED;
	}
	for (i = 0; i < pl->ndelete; i++) {
		if (pl->delete[i].proto == IKE_PROTO_IKE)
			del_ike = true;
		else if (pl->delete[i].proto == IKE_PROTO_ESP && sa->child_up)
			for (j = 0; j < pl->delete[i].nspis; j++)
				if (ike_delete_spi(&pl->delete[i], j) ==
				    sa->child.spi_out)
					del_child = true;
	}
	/*
	 * Build.  §1.4.1: deleting the IKE SA gets an empty response; a
	 * deleted Child SA gets the Delete of our inbound SPI.
	 */
	ike_build_inner_init(&b, &w);
	/*
	 * §1.4.1: a request to close a Child SA we are closing ourselves is
	 * answered without a Delete payload.
	 */
	if (!del_ike && del_child &&
	    !ike_req_deleting_child(sa, sa->child.spi_in)) {
		memset(&d, 0, sizeof(d));
		d.proto = IKE_PROTO_ESP;
		d.spi_size = 4;
		d.nspis = 1;
		store_be32(spi_b, sa->child.spi_in);
		d.spis.p = spi_b;
		d.spis.len = sizeof(spi_b);
		if (ike_build_delete(&b, &d) != 0)
			goto fail;
	}
	if (ike_build_finish(&b) != 0 ||
	    ike_sa_respond_sk(sa, &m->hdr, b.first, inner, w.len, out) != 0)
		goto fail;
	/* Commit. */
	if ((del_ike || del_child) && sa->child_up) {
		sa->child_up = false;
		ike_child_keys_cleanse(&sa->child.keys);
		ike_sa_event(out, IKE_EV_CHILD_DOWN, &sa->child);
	}
	if (del_ike) {
		ike_sa_set_state(sa, IKE_SA_DEAD);
		ike_sa_event(out, IKE_EV_IKE_DOWN, NULL);
		ike_sa_reason(out, "IKE SA deleted by the peer");
	} else if (del_child)
		ike_sa_reason(out, "Child SA deleted by the peer");
	return IKE_SA_ANSWERED;
fail:
	ike_sa_reason(out, "cannot build the INFORMATIONAL response");
	return IKE_SA_DROPPED;
}
