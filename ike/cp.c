/*
 * Virtual IPv4 address pool (RFC 7296 §2.19).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike/cp.h"

struct slot {
	uint64_t	 owner;		/* FNV-1a of the last owner, 0 none */
	bool		 used;
};

struct ike_pool {
	uint32_t	 net;		/* network address */
	uint8_t		 prefix;
	size_t		 size;		/* usable: net + 1 .. net + size */
	size_t		 used;
	size_t		 next;		/* first slot to look at */
	struct slot	*slots;		/* size entries */
};

/*
 * Identity fingerprint: only a preference for re-use, never a decision
 * about who may have which address, so a non-cryptographic hash is enough.
 */
static uint64_t
fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h != 0 ? h : 1;
}

struct ike_pool *
ike_pool_new(const char *cidr, char *err, size_t errlen)
{
	struct ike_pool *pool;
	char buf[INET_ADDRSTRLEN];
	const char *slash;
	struct in_addr a;
	unsigned long len;
	char *end;
	uint32_t net, mask;

	slash = strchr(cidr, '/');
	if (slash == NULL || (size_t)(slash - cidr) >= sizeof(buf)) {
		snprintf(err, errlen, "pool '%s' is not address/prefix", cidr);
		return NULL;
	}
	memcpy(buf, cidr, (size_t)(slash - cidr));
	buf[slash - cidr] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1) {
		snprintf(err, errlen, "pool address '%s' is not IPv4", buf);
		return NULL;
	}
	len = strtoul(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || len < IKE_POOL_PREFIX_MIN ||
	    len > IKE_POOL_PREFIX_MAX) {
		snprintf(err, errlen, "pool prefix '%s' not in %d..%d",
		    slash + 1, IKE_POOL_PREFIX_MIN, IKE_POOL_PREFIX_MAX);
		return NULL;
	}
	net = ntohl(a.s_addr);
	mask = 0xffffffffU << (32 - len);
	if ((net & ~mask) != 0) {
		snprintf(err, errlen, "pool '%s' has host bits set", cidr);
		return NULL;
	}
	if ((pool = calloc(1, sizeof(*pool))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pool->net = net;
	pool->prefix = (uint8_t)len;
	pool->size = ((size_t)1 << (32 - len)) - 2;
	if ((pool->slots = calloc(pool->size, sizeof(*pool->slots))) == NULL) {
		free(pool);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return pool;
}

void
ike_pool_free(struct ike_pool *pool)
{
	if (pool == NULL)
		return;
	free(pool->slots);
	free(pool);
}

int
ike_pool_alloc(struct ike_pool *pool, const uint8_t *id, size_t id_len,
    uint32_t *addr)
{
	uint64_t h = fnv1a(id, id_len);
	size_t i, k;

	if (pool->used == pool->size)
		return -1;
	for (i = 0; i < pool->size; i++)
		if (!pool->slots[i].used && pool->slots[i].owner == h)
			goto take;
	/* Prefer slots never owned, then any free one, round robin. */
	for (k = 0; k < 2; k++)
		for (i = 0; i < pool->size; i++) {
			size_t j = (pool->next + i) % pool->size;

			if (!pool->slots[j].used &&
			    (k == 1 || pool->slots[j].owner == 0)) {
				i = j;
				goto take;
			}
		}
	return -1;
take:
	pool->slots[i].used = true;
	pool->slots[i].owner = h;
	pool->used++;
	pool->next = (i + 1) % pool->size;
	*addr = pool->net + 1 + (uint32_t)i;
	return 0;
}

void
ike_pool_release(struct ike_pool *pool, uint32_t addr)
{
	size_t i;

	if (pool == NULL || addr <= pool->net ||
	    addr - pool->net - 1 >= pool->size)
		return;
	i = addr - pool->net - 1;
	if (!pool->slots[i].used)
		return;
	pool->slots[i].used = false;
	pool->used--;
}

size_t
ike_pool_used(const struct ike_pool *pool)
{
	return pool->used;
}

size_t
ike_pool_size(const struct ike_pool *pool)
{
	return pool->size;
}

uint32_t
ike_pool_network(const struct ike_pool *pool, uint8_t *prefix)
{
	*prefix = pool->prefix;
	return pool->net;
}
