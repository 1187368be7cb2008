/*
 * libFuzzer target for framing/natt.c: the input is one datagram, taken
 * as it would arrive on port 500 and on port 4500, and as a stream message
 * on its way back to a port-500 flow.
 */
#include <stddef.h>
#include <stdint.h>

#include "framing/natt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_info m;
	struct rd bare;

	(void)natt_classify(true, data, size, &m);
	if (natt_classify(false, data, size, &m) == NATT_IN_IKE_INIT &&
	    !natt_is_init_request(&m))
		__builtin_trap();
	if (natt_strip_marker(data, size, &bare) &&
	    (bare.n + NON_ESP_MARKER_LEN != size ||
	    bare.p != data + NON_ESP_MARKER_LEN))
		__builtin_trap();
	return 0;
}
