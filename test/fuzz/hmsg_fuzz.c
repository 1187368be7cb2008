/*
 * libFuzzer target for relay/hmsg.c: hmsg_decode() on the input, and the
 * round trip: a message it accepts encodes to exactly the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "relay/hmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t head[HMSG_HEAD_MAX];
	struct hmsg m;
	size_t n;

	if (!hmsg_decode(data, size, &m))
		return 0;
	if (m.nbytes > HMSG_BYTES_MAX || m.bytes < data ||
	    m.bytes + m.nbytes != data + size)
		__builtin_trap();
	n = hmsg_encode_head(&m, head, sizeof(head));
	if (n == 0 || n + m.nbytes != size || memcmp(head, data, n) != 0)
		__builtin_trap();
	return 0;
}
