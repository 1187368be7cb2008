/*
 * Stream prefix detection (RFC 9329 §3: "IKETCP"; draft-pauly-ipsecme-tcp-
 * encaps-04: "IKEv2").  The TCP originator sends the prefix once, first.
 */
#ifndef IKETCP_PREFIX_H
#define IKETCP_PREFIX_H

#include <stddef.h>
#include <stdint.h>

enum prefix_kind {
	PREFIX_IKETCP,		/* "IKETCP", RFC 9329 */
	PREFIX_IKEV2,		/* "IKEv2", draft-pauly-ipsecme-tcp-encaps-04 */
};

enum prefix_result {
	PREFIX_NEED_MORE,	/* the bytes so far start a known prefix */
	PREFIX_OK,		/* *kind and *len are set */
	PREFIX_ERROR,		/* no known prefix starts so */
};

enum {
	PREFIX_MAX_LEN = 6,	/* the longest prefix, "IKETCP" */
};

enum prefix_result prefix_detect(const uint8_t *p, size_t n,
    enum prefix_kind *kind, size_t *len);
const char *prefix_name(enum prefix_kind kind);
/* The bytes of a prefix, for originators; *len receives its length. */
const uint8_t *prefix_bytes(enum prefix_kind kind, size_t *len);

#endif /* IKETCP_PREFIX_H */
