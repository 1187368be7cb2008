/*
 * IKE fragmentation of what we send (RFC 7383 §2.5): a protected message
 * split into Encrypted Fragment payloads (SKF), each fragment a whole IKE
 * message of its own, encrypted and integrity-protected on its own with
 * its own IV, numbered 1..Total Fragments, fragment 1 naming the first
 * inner payload and the others 0.  The receiving side is frag.h.
 *
 * What is kept: one allocation holding the fragments back to back, each
 * prefixed by nothing (every IKE header's Length field says where the
 * next one starts), at most IKE_FRAGS_BYTES octets; walk it with
 * ike_frags_next().  Retransmissions resend these bytes (RFC 7296 §2.1,
 * RFC 7383 §2.6: all fragments again), never re-protect.
 *
 * Pure: no sockets, no logging.  Which transport may carry fragments is
 * the caller's decision (over a stream: never, RFC 9329 §7, IKE fragmentation).
 */
#ifndef IKETCP_IKE_FRAGOUT_H
#define IKETCP_IKE_FRAGOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ike_hdr;
struct ike_sk;

enum {
	/* Every fragment's overhead beyond its share of the plaintext: the
	 * IKE header, the SKF header with Fragment Number and Total
	 * Fragments (RFC 7383 §2.5). */
	IKE_SKF_HDR_LEN		= 28 + 4 + 4,
	/* The fragments of one message, octets at most (twice the largest
	 * message ike/sa.c builds: room for every fragment's overhead). */
	IKE_FRAGS_BYTES		= 16384
};

/* One message's fragments; embedded, zeroed = none. */
struct ike_frags {
	uint8_t		*buf;	/* the fragments back to back (malloc) */
	size_t		 len;	/* octets in buf */
	unsigned	 n;	/* fragments; 0: none */
};

/*
 * Splits @inner (@inner_len octets of inner payloads, the first of type
 * @first) of a message with header @h (its SPIs, exchange, flags and
 * message ID; next payload and length are set here) into fragments of at
 * most @max octets each (IKE header to ICV), protected by @sk.  Chunks
 * are as large as @max allows, the last one takes the rest.  0 and *out
 * set; -1 when @max leaves no room for one octet of plaintext, more than
 * IKE_FRAG_MAX fragments or IKE_FRAGS_BYTES octets would be needed, or
 * memory or the cipher failed (*out then empty).
 */
int	ike_frags_make(struct ike_sk *sk, const struct ike_hdr *h,
	    uint8_t first, const uint8_t *inner, size_t inner_len, size_t max,
	    struct ike_frags *out);
/* Frees and empties @f; an empty one is a no-op. */
void	ike_frags_free(struct ike_frags *f);
/*
 * Walks @f: from *off (start at 0), the next fragment in *p / *len, and
 * *off moves past it; false at the end.
 */
bool	ike_frags_next(const struct ike_frags *f, size_t *off,
	    const uint8_t **p, size_t *len);

#endif /* IKETCP_IKE_FRAGOUT_H */
