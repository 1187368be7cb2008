/*
 * Datagram classification for the connector's UDP side.  Pure: no I/O,
 * no allocation.
 */
#include <string.h>

#include "framing/natt.h"

bool
natt_is_init_request(const struct msg_info *m)
{
	return m->kind == MSG_IKE && m->exchange == IKE_EXCH_SA_INIT &&
	    msg_is_request(m) && (m->flags & IKE_FLAG_I) != 0 &&
	    m->msgid == 0 && m->spi_r == 0;
}

enum natt_in
natt_classify(bool bare, const uint8_t *p, size_t n, struct msg_info *m)
{
	enum msg_kind k;

	/* RFC 7296 §2.23: on port 500 there is no marker, and neither ESP
	 * nor keepalives travel there. */
	k = bare ? classify_ike(p, n, m) : classify_msg(p, n, m);
	switch (k) {
	case MSG_KEEPALIVE:
		return NATT_IN_KEEPALIVE;
	case MSG_ESP:
		return NATT_IN_ESP;
	case MSG_IKE:
		return natt_is_init_request(m) ? NATT_IN_IKE_INIT :
		    NATT_IN_IKE;
	case MSG_INVALID:
		break;
	}
	return NATT_IN_INVALID;
}

bool
natt_strip_marker(const uint8_t *p, size_t n, struct rd *out)
{
	struct rd r = rd_make(p, n);
	uint32_t marker;

	if (!rd_be32(&r, &marker) || marker != 0 || r.n < IKE_HDR_LEN)
		return false;
	*out = r;
	return true;
}
