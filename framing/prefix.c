/*
 * Stream prefix detection.  Decides as soon as the bytes rule out every
 * prefix, so a peer that sends garbage is refused after its first byte.
 */
#include <stdbool.h>
#include <string.h>

#include "framing/prefix.h"

static const struct {
	enum prefix_kind kind;
	const char	*text;
	size_t		 len;
} prefixes[] = {
	{ PREFIX_IKETCP, "IKETCP", 6 },
	{ PREFIX_IKEV2, "IKEv2", 5 },
};

enum prefix_result
prefix_detect(const uint8_t *p, size_t n, enum prefix_kind *kind, size_t *len)
{
	bool partial = false;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t cmp = n < prefixes[i].len ? n : prefixes[i].len;

		if (memcmp(p, prefixes[i].text, cmp) != 0)
			continue;
		if (cmp == prefixes[i].len) {
			*kind = prefixes[i].kind;
			*len = prefixes[i].len;
			return PREFIX_OK;
		}
		partial = true;
	}
	return partial ? PREFIX_NEED_MORE : PREFIX_ERROR;
}

const char *
prefix_name(enum prefix_kind kind)
{
	return kind == PREFIX_IKETCP ? "IKETCP" : "IKEv2";
}

const uint8_t *
prefix_bytes(enum prefix_kind kind, size_t *len)
{
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (prefixes[i].kind == kind) {
			*len = prefixes[i].len;
			return (const uint8_t *)prefixes[i].text;
		}
	*len = 0;
	return NULL;
}
