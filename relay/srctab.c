/*
 * The per-source table: one chain per bucket, keyed by (normalised
 * address, section), reference-counted entries freed at zero.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "relay/keyhash.h"
#include "relay/log.h"
#include "relay/srctab.h"

_Static_assert((int)SRCTAB_SECTION_MAX == (int)CONF_NAME_MAX,
    "srctab keeps a section name as conf does");

/* The key, normalised and laid out for hashing and comparing. */
struct srckey {
	int		 family;
	uint8_t		 addr[16];
	char		 section[SRCTAB_SECTION_MAX];
	size_t		 seclen;
};

/* RFC 4291 §2.5.5.2: ::ffff:a.b.c.d is an IPv4 host. */
static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

static bool
key_make(const struct sockaddr_storage *ss, const char *section,
    struct srckey *k)
{
	memset(k, 0, sizeof(*k));
	k->seclen = strnlen(section, SRCTAB_SECTION_MAX);
	if (k->seclen == SRCTAB_SECTION_MAX)
		return false;
	memcpy(k->section, section, k->seclen);
	k->family = AF_UNSPEC;
	if (ss != NULL && ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		k->family = AF_INET;
		memcpy(k->addr, &sin->sin_addr, 4);
	} else if (ss != NULL && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;
		const uint8_t *a = sin6->sin6_addr.s6_addr;

		if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
			k->family = AF_INET;
			memcpy(k->addr, a + 12, 4);
		} else {
			/* One /64 is one customer's network, one source. */
			k->family = AF_INET6;
			memcpy(k->addr, a, 8);
		}
	}
	return true;
}

static uint64_t
key_hash(const struct srckey *k)
{
	uint8_t buf[1 + 16 + SRCTAB_SECTION_MAX];

	buf[0] = (uint8_t)k->family;
	memcpy(buf + 1, k->addr, 16);
	memcpy(buf + 17, k->section, k->seclen);
	return keyhash(buf, 17 + k->seclen);
}

static bool
key_is(const struct src *s, const struct srckey *k, uint64_t h)
{
	return s->hash == h && s->family == k->family &&
	    memcmp(s->addr, k->addr, sizeof(s->addr)) == 0 &&
	    strcmp(s->section, k->section) == 0;
}

int
srctab_init(struct srctab *t)
{
	memset(t, 0, sizeof(*t));
	t->buckets = calloc(SRCTAB_MIN_BUCKETS, sizeof(*t->buckets));
	if (t->buckets == NULL) {
		log_warn("srctab");
		return -1;
	}
	t->nbuckets = SRCTAB_MIN_BUCKETS;
	return 0;
}

void
srctab_cleanup(struct srctab *t)
{
	for (size_t i = 0; i < t->nbuckets; i++)
		while (t->buckets[i] != NULL) {
			struct src *s = t->buckets[i];

			t->buckets[i] = s->next;
			free(s);
		}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* Moves every entry into @nb buckets; on no memory the old array stays
 * (longer chains, still correct). */
static void
resize(struct srctab *t, size_t nb)
{
	struct src **b;

	if ((b = calloc(nb, sizeof(*b))) == NULL)
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		while (t->buckets[i] != NULL) {
			struct src *s = t->buckets[i];
			size_t j = (size_t)s->hash & (nb - 1);

			t->buckets[i] = s->next;
			s->next = b[j];
			b[j] = s;
		}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

static struct src *
lookup(const struct srctab *t, const struct srckey *k, uint64_t h)
{
	struct src *s;

	for (s = t->buckets[h & (t->nbuckets - 1)]; s != NULL; s = s->next)
		if (key_is(s, k, h))
			return s;
	return NULL;
}

struct src *
srctab_find(const struct srctab *t, const struct sockaddr_storage *ss,
    const char *section)
{
	struct srckey k;

	if (t->nbuckets == 0 || !key_make(ss, section, &k))
		return NULL;
	return lookup(t, &k, key_hash(&k));
}

struct src *
srctab_get(struct srctab *t, const struct sockaddr_storage *ss,
    const char *section)
{
	struct srckey k;
	struct src *s;
	uint64_t h;
	size_t b;

	if (t->nbuckets == 0 || !key_make(ss, section, &k))
		return NULL;
	h = key_hash(&k);
	if ((s = lookup(t, &k, h)) != NULL) {
		s->refs++;
		return s;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->hash = h;
	s->family = k.family;
	memcpy(s->addr, k.addr, sizeof(s->addr));
	memcpy(s->section, k.section, k.seclen + 1);
	s->refs = 1;
	b = (size_t)h & (t->nbuckets - 1);
	s->next = t->buckets[b];
	t->buckets[b] = s;
	if (++t->n > t->nbuckets)
		resize(t, t->nbuckets * 2);
	return s;
}

void
srctab_put(struct srctab *t, struct src *s)
{
	struct src **pp;

	if (s == NULL)
		return;
	assert(s->refs > 0);
	if (--s->refs > 0)
		return;
	for (pp = &t->buckets[s->hash & (t->nbuckets - 1)]; *pp != s;
	    pp = &(*pp)->next)
		assert(*pp != NULL);
	*pp = s->next;
	free(s);
	t->n--;
	/* Hysteresis: a table at its size does not resize on every put. */
	if (t->nbuckets > SRCTAB_MIN_BUCKETS && t->n < t->nbuckets / 8)
		resize(t, t->nbuckets / 2);
}

size_t
srctab_size(const struct srctab *t)
{
	return t->n;
}

const char *
srctab_text(const struct src *s, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (s->family == AF_INET) {
		inet_ntop(AF_INET, s->addr, ip, sizeof(ip));
		snprintf(buf, cap, "%s", ip);
	} else if (s->family == AF_INET6) {
		inet_ntop(AF_INET6, s->addr, ip, sizeof(ip));
		snprintf(buf, cap, "%s/64", ip);
	} else
		snprintf(buf, cap, "any");
	return buf;
}
