/*
 * libFuzzer target for tls/sniff.c: sniff_detect() on every prefix of the
 * input must never change a decision once made (PREFIX excepted, which is a
 * hand-off), and sniff_hex() must stay within its documented bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls/sniff.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sniff_layer first = SNIFF_NEED_MORE, got;
	char out[SNIFF_HEX_MAX];
	size_t len;

	for (size_t k = 0; k <= size && k <= 2 * SNIFF_DECIDE_MAX; k++) {
		got = sniff_detect(data, k);
		if (first == SNIFF_NEED_MORE)
			first = got;
		else if (first != SNIFF_PREFIX && got != first)
			__builtin_trap();
		if (k >= SNIFF_DECIDE_MAX && got == SNIFF_NEED_MORE)
			__builtin_trap();
	}
	len = sniff_hex(out, sizeof(out), data, size);
	if (len >= sizeof(out) || strlen(out) != len)
		__builtin_trap();
	return 0;
}
