/*
 * Next-layer sniffing.  The recognised forms start with distinct first
 * bytes (0x16, 'C', 'P', 0x0D, 'I'), so at most one can match and the first
 * byte that leaves every form decides SNIFF_UNKNOWN.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tls/sniff.h"

enum {
	TLS_CT_HANDSHAKE = 22,		/* RFC 8446 §5.1 ContentType */
	TLS_HS_CLIENT_HELLO = 1,	/* RFC 8446 §4 HandshakeType */
	TLS_MAJOR = 3,
	TLS_MINOR_MIN = 1,		/* legacy_record_version 0x0301 */
	TLS_MINOR_MAX = 4,		/* .. 0x0304 */
	TLS_RECORD_MIN = 4,		/* a handshake header at least */
	TLS_RECORD_MAX = 16384 + 256,	/* RFC 8446 §5.2 ciphertext bound */
	TLS_DECIDE = 6,			/* record header + handshake type */
};

enum match {
	MATCH_NO,
	MATCH_PARTIAL,			/* input is a strict prefix */
	MATCH_FULL,			/* input starts with the pattern */
};

struct form {
	const char	*pat;		/* bytes to match */
	size_t		 len;		/* pattern length, bytes */
	enum sniff_layer layer;		/* answer on a full match */
};

/* haproxy proxy-protocol.txt §2.2: the v2 signature. */
static const char proxy_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static const struct form forms[] = {
	{ "CONNECT ", 8, SNIFF_CONNECT },	/* RFC 9110 §9.3.6, exact */
	{ "PROXY ", 6, SNIFF_PROXY_V1 },	/* proxy-protocol.txt §2.1 */
	{ proxy_v2_sig, sizeof(proxy_v2_sig), SNIFF_PROXY_V2 },
	{ "IKETCP", 6, SNIFF_PREFIX },		/* RFC 9329 §3 */
	{ "IKEv2", 5, SNIFF_PREFIX },		/* tcp-encaps draft -04 */
};

static enum match
match(const uint8_t *p, size_t n, const char *pat, size_t len)
{
	size_t k = n < len ? n : len;

	if (memcmp(p, pat, k) != 0)
		return MATCH_NO;
	return n < len ? MATCH_PARTIAL : MATCH_FULL;
}

/* RFC 8446 §5.1: a TLSPlaintext record header then a ClientHello. */
static enum match
match_tls(const uint8_t *p, size_t n)
{
	uint16_t len;

	if (n >= 1 && p[0] != TLS_CT_HANDSHAKE)
		return MATCH_NO;
	if (n >= 2 && p[1] != TLS_MAJOR)
		return MATCH_NO;
	if (n >= 3 && (p[2] < TLS_MINOR_MIN || p[2] > TLS_MINOR_MAX))
		return MATCH_NO;
	/* The length's high byte alone can already break the upper bound. */
	if (n >= 4 && (size_t)p[3] << 8 > TLS_RECORD_MAX)
		return MATCH_NO;
	if (n >= 5) {
		len = (uint16_t)((unsigned)p[3] << 8 | p[4]);
		if (len < TLS_RECORD_MIN || len > TLS_RECORD_MAX)
			return MATCH_NO;
	}
	if (n >= 6 && p[5] != TLS_HS_CLIENT_HELLO)
		return MATCH_NO;
	return n < TLS_DECIDE ? MATCH_PARTIAL : MATCH_FULL;
}

enum sniff_layer
sniff_detect(const uint8_t *p, size_t n)
{
	bool partial = false;
	enum match m;

	if (n == 0)
		return SNIFF_NEED_MORE;
	m = match_tls(p, n);
	if (m == MATCH_FULL)
		return SNIFF_TLS;
	partial |= m == MATCH_PARTIAL;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		m = match(p, n, forms[i].pat, forms[i].len);
		if (m == MATCH_FULL)
			return forms[i].layer;
		/*
		 * Only the stream prefix is handed over before it is whole:
		 * framing/prefix decides between "IKETCP" and "IKEv2".
		 */
		if (m == MATCH_PARTIAL && forms[i].layer == SNIFF_PREFIX)
			return SNIFF_PREFIX;
		partial |= m == MATCH_PARTIAL;
	}
	return partial ? SNIFF_NEED_MORE : SNIFF_UNKNOWN;
}

const char *
sniff_layer_name(enum sniff_layer layer)
{
	switch (layer) {
	case SNIFF_NEED_MORE:
		return "need-more";
	case SNIFF_TLS:
		return "tls";
	case SNIFF_CONNECT:
		return "connect";
	case SNIFF_PROXY_V1:
		return "proxy-v1";
	case SNIFF_PROXY_V2:
		return "proxy-v2";
	case SNIFF_PREFIX:
		return "prefix";
	case SNIFF_UNKNOWN:
		break;
	}
	return "unknown";
}

/* Append one formatted piece; a piece that does not fit is cut short. */
static void
put(char *out, size_t cap, size_t *len, const char *s)
{
	size_t k = strlen(s);

	if (*len + 1 >= cap)
		return;
	if (k > cap - 1 - *len)
		k = cap - 1 - *len;
	memcpy(out + *len, s, k);
	*len += k;
	out[*len] = '\0';
}

size_t
sniff_hex(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t shown = n < SNIFF_HEX_SHOWN ? n : SNIFF_HEX_SHOWN;
	size_t len = 0;
	char piece[32];

	if (cap == 0)
		return 0;
	out[0] = '\0';
	for (size_t i = 0; i < shown; i++) {
		snprintf(piece, sizeof(piece), "%s%02x", i ? " " : "", p[i]);
		put(out, cap, &len, piece);
	}
	put(out, cap, &len, shown ? " |" : "|");
	for (size_t i = 0; i < shown; i++) {
		piece[0] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
		piece[1] = '\0';
		put(out, cap, &len, piece);
	}
	put(out, cap, &len, "|");
	if (n > shown) {
		snprintf(piece, sizeof(piece), " +%zu more", n - shown);
		put(out, cap, &len, piece);
	}
	return len;
}
