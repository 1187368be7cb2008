/*
 * IKE fragment reassembly (RFC 7383 §2.6).  The caller authenticates and
 * decrypts each Encrypted Fragment payload first (§2.6.1: fragments are
 * verified before they are reassembled) and hands the plaintext body here;
 * a complete set is taken out as the ordered concatenation, which is the
 * inner payload chain starting with the type carried by fragment 1.
 *
 * Bounds: at most IKE_FRAG_MAX fragments per message, IKE_REASM_SLOTS
 * messages at once (keyed by message ID; the oldest is evicted), max_bytes
 * of plaintext per message, and timeout_ms from a set's first fragment.
 * Memory: each set owns one allocation of max_bytes, made when the set
 * starts and freed when it is taken, dropped, restarted or expires.
 */
#ifndef IKETCP_IKE_FRAG_H
#define IKETCP_IKE_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	IKE_FRAG_MAX		= 64,		/* fragments per message */
	IKE_REASM_SLOTS		= 4,		/* messages at once */
	IKE_REASM_BYTES		= 65536,	/* default max_bytes */
	IKE_REASM_TIMEOUT_MS	= 30000		/* default timeout */
};

enum ike_frag_result {
	IKE_FRAG_MORE,		/* stored; the set is not complete yet */
	IKE_FRAG_COMPLETE,	/* stored; ike_reasm_take() the message now */
	IKE_FRAG_IGNORED,	/* duplicate, lower total or bad number */
	IKE_FRAG_DROPPED,	/* over a bound: the whole set is discarded */
	IKE_FRAG_NOMEM		/* allocation failed; nothing stored */
};

struct ike_frag_set {
	bool		 active;
	uint32_t	 msgid;
	uint16_t	 total;		/* Total Fragments of this set */
	uint16_t	 have;		/* fragments stored */
	uint8_t		 first;		/* fragment 1's next payload */
	uint64_t	 started;	/* ms, first fragment's arrival */
	size_t		 used;		/* octets stored in buf */
	uint8_t		*buf;		/* max_bytes, owned by the set */
	struct {
		size_t	 off;		/* in buf */
		size_t	 len;		/* octets */
		bool	 got;
	} frag[IKE_FRAG_MAX];		/* index: Fragment Number - 1 */
};

struct ike_reasm {
	size_t		 max_bytes;	/* plaintext octets per message */
	uint32_t	 timeout_ms;
	struct ike_frag_set set[IKE_REASM_SLOTS];
};

void	ike_reasm_init(struct ike_reasm *r, size_t max_bytes,
	    uint32_t timeout_ms);
/* Frees every set; the struct may be reused after ike_reasm_init(). */
void	ike_reasm_cleanup(struct ike_reasm *r);

/*
 * Add the decrypted body of fragment @num of @total of message @msgid;
 * @next is the fragment's Next Payload field (only fragment 1's is kept).
 * @body is copied.  A higher @total than the set's restarts the set, a lower
 * one is ignored (RFC 7383 §2.6.2).
 */
enum ike_frag_result ike_reasm_add(struct ike_reasm *r, uint64_t now_ms,
    uint32_t msgid, uint16_t num, uint16_t total, uint8_t next,
    const uint8_t *body, size_t len);

/*
 * Copy the complete message @msgid in fragment order into @out and free
 * its set.  *first is the first inner payload type.  Returns -1 (keeping
 * the set) if there is no complete set or @cap is too small.
 */
int	ike_reasm_take(struct ike_reasm *r, uint32_t msgid, uint8_t *out,
	    size_t cap, size_t *len, uint8_t *first);

/* Free sets older than timeout_ms; ike_reasm_add() also does this. */
void	ike_reasm_expire(struct ike_reasm *r, uint64_t now_ms);

/* Free the set of @msgid, if any. */
void	ike_reasm_drop(struct ike_reasm *r, uint32_t msgid);

#endif /* IKETCP_IKE_FRAG_H */
