/* TEMPORARY stand-in for the budgets branch's keyhash (replaced on merge). */
#include "relay/keyhash.h"

int
keyhash_init(void)
{
	return 0;
}

uint64_t
keyhash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}
