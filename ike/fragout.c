/*
 * IKE fragmentation of what we send (fragout.h, RFC 7383 §2.5).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/wire.h"
#include "ike/codec.h"
#include "ike/frag.h"
#include "ike/fragout.h"
#include "ike/ikev2.h"
#include "ike/sk.h"

_Static_assert(IKE_SKF_HDR_LEN == IKE_HEADER_LEN + IKE_GENHDR_LEN + 4,
    "IKE header, SKF generic header, Fragment Number, Total Fragments");

/*
 * The largest plaintext chunk whose fragment fits in @max octets: the
 * room left after the headers, less IV, padding, Pad Length and ICV
 * (ike_sk_len()), searched downwards since padding steps by the block.
 */
static size_t
chunk_max(const struct ike_sk *sk, size_t max)
{
	size_t room, c;

	if (max <= IKE_SKF_HDR_LEN)
		return 0;
	room = max - IKE_SKF_HDR_LEN;
	for (c = room; c > 0; c--) {
		size_t l = ike_sk_len(sk, c);

		if (l != 0 && l <= room)
			return c;
	}
	return 0;
}

int
ike_frags_make(struct ike_sk *sk, const struct ike_hdr *h, uint8_t first,
    const uint8_t *inner, size_t inner_len, size_t max, struct ike_frags *out)
{
	struct ike_builder b;
	struct ike_hdr fh;
	struct wr w;
	uint8_t *buf = NULL, *body;
	size_t c, n, i, total = 0, off, part, body_len;

	memset(out, 0, sizeof(*out));
	if ((c = chunk_max(sk, max)) == 0 || inner_len == 0)
		return -1;
	n = (inner_len + c - 1) / c;
	if (n > IKE_FRAG_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		part = i + 1 < n ? c : inner_len - c * (n - 1);
		total += IKE_SKF_HDR_LEN + ike_sk_len(sk, part);
	}
	if (total == 0 || total > IKE_FRAGS_BYTES ||
	    (buf = malloc(total)) == NULL)
		return -1;
	fh = *h;
	off = 0;
	for (i = 0; i < n; i++) {
		part = i + 1 < n ? c : inner_len - c * (n - 1);
		body_len = ike_sk_len(sk, part);
		w = wr_make(buf + off, total - off);
		ike_build_init(&b, &w, &fh);
		/*
		 * §2.5: fragment 1's Next Payload is the first inner
		 * payload's type (as an SK payload's would be), every
		 * other fragment's is 0; each fragment is protected on its
		 * own, its header with Fragment Number and Total
		 * Fragments covered by the ICV (or the AEAD tag).
		 */
		if (ike_build_skf(&b, i == 0 ? first : 0, (uint16_t)(i + 1),
		    (uint16_t)n, body_len, &body) != 0 ||
		    ike_build_finish(&b) != 0 ||
		    ike_sk_protect(sk, buf + off, (size_t)(body - (buf + off)),
		    inner + c * i, part, body_len) != 0)
			goto fail;
		off += w.len;
	}
	out->buf = buf;
	out->len = off;
	out->n = (unsigned)n;
	return 0;
fail:
	free(buf);
	return -1;
}

void
ike_frags_free(struct ike_frags *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

bool
ike_frags_next(const struct ike_frags *f, size_t *off, const uint8_t **p,
    size_t *len)
{
	struct rd r;
	uint32_t l;

	if (f->buf == NULL || *off >= f->len)
		return false;
	/* Our own bytes; checked all the same (Length at octet 24). */
	r = rd_make(f->buf + *off, f->len - *off);
	if (!rd_skip(&r, 24) || !rd_be32(&r, &l) || l < IKE_SKF_HDR_LEN ||
	    l > f->len - *off)
		return false;
	*p = f->buf + *off;
	*len = l;
	*off += l;
	return true;
}
