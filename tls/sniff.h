/*
 * First-bytes detection of the next layer on a stream: TLS ClientHello,
 * HTTP CONNECT, PROXY protocol v1/v2 or the RFC 9329 stream prefix.
 * Pure: no I/O, no allocation, no logging.
 */
#ifndef IKETCP_SNIFF_H
#define IKETCP_SNIFF_H

#include <stddef.h>
#include <stdint.h>

enum sniff_layer {
	SNIFF_NEED_MORE,	/* a prefix of some recognised form */
	SNIFF_TLS,		/* TLS record carrying a ClientHello */
	SNIFF_CONNECT,		/* "CONNECT " */
	SNIFF_PROXY_V1,		/* "PROXY " */
	SNIFF_PROXY_V2,		/* the 12-byte PROXY v2 signature */
	SNIFF_PREFIX,		/* "IKETCP" or "IKEv2", or a prefix of either */
	SNIFF_UNKNOWN,		/* none of the above */
};

enum {
	SNIFF_DECIDE_MAX = 12,	/* bytes after which the answer is final */
	SNIFF_HEX_SHOWN = 32,	/* bytes sniff_hex() shows at most */
	SNIFF_HEX_MAX = 192,	/* buffer that always holds a sniff_hex() */
};

/*
 * Classify the first @n bytes of a layer.  Once a call returns anything but
 * SNIFF_NEED_MORE, longer input with the same start returns the same answer,
 * with one exception: SNIFF_PREFIX is a hand-off.  It is returned for any
 * start of "IKETCP" or "IKEv2" (from "I" on); framing/ then reads the
 * prefix itself and rejects what is not one, and the caller does not sniff
 * again.
 */
enum sniff_layer sniff_detect(const uint8_t *p, size_t n);

/* A static name for @layer, for log lines. */
const char	*sniff_layer_name(enum sniff_layer layer);

/*
 * Write a printable dump of at most SNIFF_HEX_SHOWN bytes of @p into @out
 * ("16 03 01 |...| +12 more"), always NUL-terminated when @cap > 0 and
 * truncated to fit.  Returns the length written, without the NUL.
 */
size_t		 sniff_hex(char *out, size_t cap, const uint8_t *p, size_t n);

#endif /* IKETCP_SNIFF_H */
