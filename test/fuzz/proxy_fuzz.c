/*
 * libFuzzer target for tls/proxy.c: proxy_parse() on the input, and the
 * stateless contract: a header found in the input is found the same way in
 * exactly its own bytes, and every shorter prefix needs more or fails.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls/proxy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr h, h2;
	size_t used, used2;
	enum proxy_result r;

	r = proxy_parse(data, size, &h, &used);
	if (r == PROXY_ERROR && h.error == NULL)
		__builtin_trap();
	if (r != PROXY_OK)
		return 0;
	if (used == 0 || used > size || (h.local && h.has_addr))
		__builtin_trap();
	if (h.has_addr && h.src.ss_family != h.dst.ss_family)
		__builtin_trap();
	if (proxy_parse(data, used, &h2, &used2) != PROXY_OK || used2 != used ||
	    memcmp(&h, &h2, sizeof(h)) != 0)
		__builtin_trap();
	if (used > 0 && proxy_parse(data, used - 1, &h2, &used2) == PROXY_OK)
		__builtin_trap();
	return 0;
}
