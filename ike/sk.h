/*
 * The Encrypted payload SK (RFC 7296 §3.14) and Encrypted Fragment payload
 * SKF (RFC 7383 §2.5): protect and unprotect one direction.
 *
 * A message is laid out as
 *
 *   msg[0 .. hdr_len)       IKE header .. SK/SKF generic header (and, for
 *                           SKF, Fragment Number and Total Fragments);
 *                           AEAD: the associated data (RFC 5282 §5.1);
 *                           CBC: the start of the integrity-covered part
 *   msg[hdr_len .. end)     IV | ciphertext(inner | padding | pad length) | ICV
 *
 * so an SK and an SKF payload differ only in @hdr_len.  All length fields in
 * the header must already be final: reserve ike_sk_len() octets first.
 *
 * IVs: AES-CBC takes 16 random octets from RAND_bytes for every message.
 * AES-GCM-16 and ChaCha20-Poly1305 take a 64-bit big-endian counter, one per
 * struct ike_sk (one key, one direction), starting at 0 and never reused;
 * the nonce is salt (the last 4 octets of SK_e) | IV (RFC 5282 §4, RFC 7634
 * §2).  A retransmission must resend the stored bytes, not re-protect.
 * Padding: CBC pads with zero octets to the 16-octet block; AEAD adds none.
 */
#ifndef IKETCP_IKE_SK_H
#define IKETCP_IKE_SK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/crypto.h"
#include "ike/keys.h"

/* One direction's keys and IV state; embedded, init/cleanup. */
struct ike_sk {
	enum ike_encr	encr;
	unsigned	encr_bits;
	enum ike_integ	integ;
	size_t		ekey_len;		/* salt included for AEAD */
	size_t		akey_len;		/* 0 for AEAD */
	uint8_t		ekey[IKE_ENCR_KEY_MAX];
	uint8_t		akey[IKE_INTEG_KEY_MAX];
	uint64_t	iv_next;		/* AEAD: next explicit IV */
};

/* Copies the keys in; lengths must match the transforms. */
int	ike_sk_init(struct ike_sk *sk, enum ike_encr encr, unsigned encr_bits,
	    enum ike_integ integ, const uint8_t *ekey, size_t ekey_len,
	    const uint8_t *akey, size_t akey_len);
/*
 * Both directions from the IKE SA keys: @out protects what we send, @in
 * unprotects what we receive (SK_ei/SK_ai are the initiator's to send).
 */
int	ike_sk_init_pair(struct ike_sk *out, struct ike_sk *in,
	    const struct ike_suite *s, const struct ike_keys *keys,
	    bool initiator);
/* Cleanses the keys. */
void	ike_sk_cleanup(struct ike_sk *sk);

/*
 * Octets after the SK/SKF header for @plain_len octets of inner payloads:
 * IV + ciphertext (with padding and pad length) + ICV; 0 if too long for
 * a 16-bit payload length.
 */
size_t	ike_sk_len(const struct ike_sk *sk, size_t plain_len);

/*
 * Encrypts @plain (inner payloads, not overlapping @msg) into
 * msg[hdr_len .. hdr_len + body_len); @body_len must equal
 * ike_sk_len(sk, plain_len).  msg[0 .. hdr_len) is read, never written.
 */
int	ike_sk_protect(struct ike_sk *sk, uint8_t *msg, size_t hdr_len,
	    const uint8_t *plain, size_t plain_len, size_t body_len);

/*
 * Checks and decrypts the SK/SKF payload that ends at msg + msg_len.  The
 * ICV (or AEAD tag) is verified first in constant time; on success the
 * inner payloads go to @plain (@cap octets; msg_len - hdr_len is always
 * enough) and their length to *plain_len.  On failure @plain is cleansed.
 */
int	ike_sk_unprotect(const struct ike_sk *sk, const uint8_t *msg,
	    size_t hdr_len, size_t msg_len, uint8_t *plain, size_t cap,
	    size_t *plain_len);

#endif /* IKETCP_IKE_SK_H */
