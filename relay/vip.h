/*
 * The virtual-IP table of an [integrated] section: which session owns the
 * inner address a packet read from the TUN is sent to.  One table holds
 * both families, keyed by (family, 16-octet address) with an IPv4 address
 * in its IPv4-mapped form (RFC 4291 §2.5.5.2); a family in the key keeps
 * an IPv6 pool that hands out ::ffff:a.b.c.d apart from the IPv4 pool.
 *
 * Entries are embedded in their owner (a session has one per family) and
 * chained in the table: linking and unlinking never allocate.  The owner
 * recovers itself from an entry with container_of.  A zeroed table is
 * empty; a zeroed entry is unlinked.
 */
#ifndef IKETCP_RELAY_VIP_H
#define IKETCP_RELAY_VIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	VIP_BUCKETS = 2048,	/* per table, power of two */
	VIP_ADDR_LEN = 16,	/* key octets: IPv6, or IPv4-mapped */
};

struct vip_entry {
	struct vip_entry *next;		/* bucket chain */
	uint8_t		 family;	/* 4 or 6; 0 while unlinked */
	uint8_t		 addr[VIP_ADDR_LEN]; /* valid while linked */
};

struct vip_table {
	struct vip_entry *bucket[VIP_BUCKETS];
};

/* @a (4 octets, network order) as a key: ::ffff:a.b.c.d. */
void	vip_map4(const uint8_t a[static 4],
	    uint8_t key[static VIP_ADDR_LEN]);
/*
 * Links @e under (@family, @addr), unlinking it from its previous address
 * first.  An address already linked by another entry stays found first
 * until that entry is unlinked: callers look up before they link.
 */
void	vip_link(struct vip_table *t, struct vip_entry *e, uint8_t family,
	    const uint8_t addr[static VIP_ADDR_LEN]);
/* Unlinks @e; an unlinked entry is left as it is. */
void	vip_unlink(struct vip_table *t, struct vip_entry *e);
/* The entry linked under (@family, @addr), or NULL. */
struct vip_entry *vip_lookup(const struct vip_table *t, uint8_t family,
	    const uint8_t addr[static VIP_ADDR_LEN]);

/* The bucket (family, @addr) is chained in; for tests of collisions. */
size_t	vip_bucket(uint8_t family,
	    const uint8_t addr[static VIP_ADDR_LEN]);

static inline bool
vip_is_linked(const struct vip_entry *e)
{
	return e->family != 0;
}

#endif /* IKETCP_RELAY_VIP_H */
