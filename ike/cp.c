/*
 * Virtual IPv4 and IPv6 address pools (RFC 7296 §2.19).
 */
#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike/cp.h"

struct slot {
	uint64_t	 owner;		/* FNV-1a of the last owner, 0 none */
	bool		 used;
};

struct ike_pool {
	int		 family;	/* 4 or 6 */
	uint32_t	 net;		/* IPv4 network address, host order */
	uint8_t		 net6[16];	/* IPv6 network address */
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

/* "addr/len" into @addr (by inet_pton for @af) and *len; false + @err. */
static bool
split_cidr(const char *cidr, int af, void *addr, unsigned long *len,
    unsigned long min, unsigned long max, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash;
	char *end;

	slash = strchr(cidr, '/');
	if (slash == NULL || (size_t)(slash - cidr) >= sizeof(buf)) {
		snprintf(err, errlen, "pool '%s' is not address/prefix", cidr);
		return false;
	}
	memcpy(buf, cidr, (size_t)(slash - cidr));
	buf[slash - cidr] = '\0';
	if (inet_pton(af, buf, addr) != 1) {
		snprintf(err, errlen, "pool address '%s' is not IPv%d", buf,
		    af == AF_INET ? 4 : 6);
		return false;
	}
	*len = strtoul(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || *len < min || *len > max) {
		snprintf(err, errlen, "pool prefix '%s' not in %lu..%lu",
		    slash + 1, min, max);
		return false;
	}
	return true;
}

static struct ike_pool *
pool_alloc(int family, size_t size, char *err, size_t errlen)
{
	struct ike_pool *pool;

	if ((pool = calloc(1, sizeof(*pool))) == NULL ||
	    (pool->slots = calloc(size, sizeof(*pool->slots))) == NULL) {
		free(pool);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pool->family = family;
	pool->size = size;
	return pool;
}

struct ike_pool *
ike_pool_new(const char *cidr, char *err, size_t errlen)
{
	struct ike_pool *pool;
	struct in_addr a;
	unsigned long len;
	uint32_t net, mask;

	if (!split_cidr(cidr, AF_INET, &a, &len, IKE_POOL_PREFIX_MIN,
	    IKE_POOL_PREFIX_MAX, err, errlen))
		return NULL;
	net = ntohl(a.s_addr);
	mask = 0xffffffffU << (32 - len);
	if ((net & ~mask) != 0) {
		snprintf(err, errlen, "pool '%s' has host bits set", cidr);
		return NULL;
	}
	if ((pool = pool_alloc(4, ((size_t)1 << (32 - len)) - 2, err,
	    errlen)) == NULL)
		return NULL;
	pool->net = net;
	pool->prefix = (uint8_t)len;
	return pool;
}

struct ike_pool *
ike_pool6_new(const char *cidr, char *err, size_t errlen)
{
	struct ike_pool *pool;
	uint8_t a[16];
	unsigned long len, b;
	size_t size;

	if (!split_cidr(cidr, AF_INET6, a, &len, 0, IKE_POOL6_PREFIX_MAX,
	    err, errlen))
		return NULL;
	for (b = len; b < 128; b++)
		if (a[b / 8] & (0x80 >> (b % 8))) {
			snprintf(err, errlen, "pool '%s' has host bits set",
			    cidr);
			return NULL;
		}
	/* 2^(128 - len) - 1 addresses after the network address, capped. */
	size = 128 - len >= 17 ? IKE_POOL6_MAX :
	    ((size_t)1 << (128 - len)) - 1;
	if (size > IKE_POOL6_MAX)
		size = IKE_POOL6_MAX;
	if ((pool = pool_alloc(6, size, err, errlen)) == NULL)
		return NULL;
	memcpy(pool->net6, a, 16);
	pool->prefix = (uint8_t)len;
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

/* A free slot for @id's owner hash; -1 when the pool is exhausted. */
static int
slot_take(struct ike_pool *pool, const uint8_t *id, size_t id_len,
    size_t *slot)
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
	*slot = i;
	return 0;
}

static void
slot_give(struct ike_pool *pool, size_t i)
{
	if (!pool->slots[i].used)
		return;
	pool->slots[i].used = false;
	pool->used--;
}

int
ike_pool_alloc(struct ike_pool *pool, const uint8_t *id, size_t id_len,
    uint32_t *addr)
{
	size_t i;

	assert(pool->family == 4);
	if (slot_take(pool, id, id_len, &i) == -1)
		return -1;
	*addr = pool->net + 1 + (uint32_t)i;
	return 0;
}

int
ike_pool_take(struct ike_pool *pool, uint32_t addr)
{
	size_t i;

	if (pool == NULL || pool->family != 4 || addr <= pool->net ||
	    addr - pool->net - 1 >= pool->size)
		return -1;
	i = addr - pool->net - 1;
	if (pool->slots[i].used)
		return -1;
	pool->slots[i].used = true;
	pool->used++;
	return 0;
}

void
ike_pool_release(struct ike_pool *pool, uint32_t addr)
{
	if (pool == NULL || pool->family != 4 || addr <= pool->net ||
	    addr - pool->net - 1 >= pool->size)
		return;
	slot_give(pool, addr - pool->net - 1);
}

/* The low 32 bits of a v6 address; the pool never spans more. */
static uint32_t
low32(const uint8_t a[static 16])
{
	return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
	    (uint32_t)a[14] << 8 | a[15];
}

int
ike_pool6_alloc(struct ike_pool *pool, const uint8_t *id, size_t id_len,
    uint8_t addr[static 16])
{
	uint32_t lo;
	size_t i;

	assert(pool->family == 6);
	if (slot_take(pool, id, id_len, &i) == -1)
		return -1;
	/* size <= IKE_POOL6_MAX and the host bits of net6 are zero. */
	lo = low32(pool->net6) + 1 + (uint32_t)i;
	memcpy(addr, pool->net6, 12);
	addr[12] = (uint8_t)(lo >> 24);
	addr[13] = (uint8_t)(lo >> 16);
	addr[14] = (uint8_t)(lo >> 8);
	addr[15] = (uint8_t)lo;
	return 0;
}

void
ike_pool6_release(struct ike_pool *pool, const uint8_t addr[static 16])
{
	uint32_t off;

	if (pool == NULL || pool->family != 6 ||
	    memcmp(addr, pool->net6, 12) != 0)
		return;
	off = low32(addr) - low32(pool->net6);
	if (off == 0 || off - 1 >= pool->size)
		return;
	slot_give(pool, off - 1);
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

void
ike_pool6_network(const struct ike_pool *pool, uint8_t net[static 16],
    uint8_t *prefix)
{
	memcpy(net, pool->net6, 16);
	*prefix = pool->prefix;
}

int
ike_pool_family(const struct ike_pool *pool)
{
	return pool->family;
}
