/*
 * Virtual address pools for the Configuration Payload (RFC 7296 §2.19,
 * §3.15).  A pool is a CIDR block.  IPv4: its network and broadcast
 * addresses are never handed out (a /31 or /32 pool is refused);
 * addresses are host-order uint32_t.  IPv6 (ike_pool6_*): the network
 * address (the Subnet-Router anycast address, RFC 4291 §2.6.1) is never
 * handed out, and at most IKE_POOL6_MAX addresses after it are used;
 * addresses are 16 octets in network order.  In both, an identity that
 * comes back gets its previous address again while it is still free.
 */
#ifndef IKETCP_IKE_CP_H
#define IKETCP_IKE_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	IKE_POOL_PREFIX_MIN	= 16,	/* at most 65534 addresses */
	IKE_POOL_PREFIX_MAX	= 30,
	IKE_POOL6_PREFIX_MAX	= 126,
	IKE_POOL6_MAX		= 65534,	/* addresses used of a v6 pool */
	IKE_POOL_ERR_MAX	= 96	/* error message buffer, octets */
};

struct ike_pool;

/*
 * A pool from "a.b.c.d/len" (host bits must be zero), or NULL with the
 * reason in @err.  Never logs.
 */
struct ike_pool *ike_pool_new(const char *cidr, char *err, size_t errlen);
void	ike_pool_free(struct ike_pool *pool);

/*
 * Allocates an address for the identity @id (@id_len octets, e.g. ID type
 * | data); the same identity's last address when it is free, else the
 * lowest free one.  -1 when the pool is exhausted.
 */
int	ike_pool_alloc(struct ike_pool *pool, const uint8_t *id, size_t id_len,
	    uint32_t *addr);
/*
 * Allocates @addr itself (one chosen elsewhere: a RADIUS
 * Framed-IP-Address); -1 when it is not a usable address of the pool or
 * is in use.
 */
int	ike_pool_take(struct ike_pool *pool, uint32_t addr);
/* Returns @addr to the pool; an address not allocated is ignored. */
void	ike_pool_release(struct ike_pool *pool, uint32_t addr);
/* Addresses in use / usable. */
size_t	ike_pool_used(const struct ike_pool *pool);
size_t	ike_pool_size(const struct ike_pool *pool);
/* The pool's network address and prefix length. */
uint32_t ike_pool_network(const struct ike_pool *pool, uint8_t *prefix);

/* An IPv6 pool from "addr/len" (len <= 126, host bits zero), or NULL. */
struct ike_pool *ike_pool6_new(const char *cidr, char *err, size_t errlen);
/* As ike_pool_alloc / _release / _network, for an IPv6 pool. */
int	ike_pool6_alloc(struct ike_pool *pool, const uint8_t *id,
	    size_t id_len, uint8_t addr[static 16]);
void	ike_pool6_release(struct ike_pool *pool, const uint8_t addr[static 16]);
void	ike_pool6_network(const struct ike_pool *pool, uint8_t net[static 16],
	    uint8_t *prefix);
/* 4 or 6. */
int	ike_pool_family(const struct ike_pool *pool);

#endif /* IKETCP_IKE_CP_H */
