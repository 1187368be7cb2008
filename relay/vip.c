/*
 * relay/vip.c: the virtual-IP table (vip.h).  The TUN path looks up each
 * packet's destination here to find the session, and so the Child SA, that
 * carries it; the IKE glue links a session's addresses when its first
 * Child SA comes up and unlinks them when its last one goes.
 */
#include <string.h>

#include "relay/vip.h"

static const uint8_t v4_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * FNV-1a over the family and the interface identifier: pools differ in
 * the low octets, and an IPv4-mapped key has its IPv4 address there.
 */
size_t
vip_bucket(uint8_t family, const uint8_t a[static VIP_ADDR_LEN])
{
	uint32_t h = 2166136261U;

	h = (h ^ family) * 16777619U;
	for (size_t i = 8; i < VIP_ADDR_LEN; i++)
		h = (h ^ a[i]) * 16777619U;
	return (h ^ h >> 16) & (VIP_BUCKETS - 1);
}

void
vip_map4(const uint8_t a[static 4], uint8_t key[static VIP_ADDR_LEN])
{
	memcpy(key, v4_prefix, sizeof(v4_prefix));
	memcpy(key + sizeof(v4_prefix), a, 4);
}

void
vip_unlink(struct vip_table *t, struct vip_entry *e)
{
	struct vip_entry **pp;

	if (!vip_is_linked(e))
		return;
	for (pp = &t->bucket[vip_bucket(e->family, e->addr)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	e->next = NULL;
	e->family = 0;
}

void
vip_link(struct vip_table *t, struct vip_entry *e, uint8_t family,
    const uint8_t addr[static VIP_ADDR_LEN])
{
	size_t b = vip_bucket(family, addr);

	vip_unlink(t, e);
	e->family = family;
	memcpy(e->addr, addr, VIP_ADDR_LEN);
	e->next = t->bucket[b];
	t->bucket[b] = e;
}

struct vip_entry *
vip_lookup(const struct vip_table *t, uint8_t family,
    const uint8_t addr[static VIP_ADDR_LEN])
{
	struct vip_entry *e;

	for (e = t->bucket[vip_bucket(family, addr)]; e != NULL; e = e->next)
		if (e->family == family &&
		    memcmp(e->addr, addr, VIP_ADDR_LEN) == 0)
			return e;
	return NULL;
}
