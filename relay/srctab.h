/*
 * Per-source accounting: how many streams and sessions each client source
 * holds in each section, for max-per-source and max-sessions-per-source.
 *
 * A source is an address normalised as DESIGN.md "Bounds" says: an IPv4
 * address (/32), an IPv6 /64 (the low 64 bits zeroed), an IPv4-mapped IPv6
 * address counting as its IPv4 address; with the [relay]/[integrated]
 * section name it is the key.  Whoever counts something on a source holds
 * a reference to its entry; the entry is freed when its last reference is
 * dropped, so a peer naming many sources (PROXY, an IPv6 /64 per host)
 * leaves nothing behind once they are gone.  Buckets are chosen by
 * keyhash(), and the bucket array doubles when entries outnumber buckets
 * and halves when they fall well below, so chains stay short and memory
 * follows what is in use.
 *
 *   struct src *s = srctab_get(&r->srcs, &peer, cr->name);
 *   if (s == NULL || s->streams >= cr->max_per_source) refuse;
 *   s->streams++;  ...  s->streams--; srctab_put(&r->srcs, s);
 */
#ifndef IKETCP_SRCTAB_H
#define IKETCP_SRCTAB_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

enum {
	SRCTAB_SECTION_MAX = 64,	/* CONF_NAME_MAX, NUL included */
	SRCTAB_MIN_BUCKETS = 64,	/* initial size, power of two */
	SRCTAB_TEXT_MAX = 64,		/* "ffff:...:ffff::/64" and NUL */
};

struct src {
	struct src	*next;			/* bucket chain */
	uint64_t	 hash;			/* keyhash of the key */
	int		 family;	/* AF_INET, AF_INET6 or AF_UNSPEC */
	uint8_t		 addr[16];	/* IPv4: 4 bytes; IPv6: 8 (/64) */
	char		 section[SRCTAB_SECTION_MAX];
	unsigned	 refs;			/* srctab_get - srctab_put */
	unsigned	 streams;		/* live streams; the caller's */
	unsigned	 sessions;		/* sessions; the caller's */
};

struct srctab {
	struct src	**buckets;		/* nbuckets chains */
	size_t		 nbuckets;		/* power of two */
	size_t		 n;			/* entries */
};

/* 0, or -1 when out of memory (logged). */
int	srctab_init(struct srctab *t);
/* Frees every entry, referenced or not. */
void	srctab_cleanup(struct srctab *t);
/*
 * The entry of @ss's source in @section, created with zero counters when
 * there is none, with one more reference.  @ss NULL or neither IPv4 nor
 * IPv6: the section as a whole.  NULL when out of memory or when @section
 * is longer than a section name may be (not logged: the caller refuses
 * what it was counting and counts that).
 */
struct src *srctab_get(struct srctab *t, const struct sockaddr_storage *ss,
	    const char *section);
/* The entry if there is one, without a reference (lookups, tests). */
struct src *srctab_find(const struct srctab *t,
	    const struct sockaddr_storage *ss, const char *section);
/* Drops a reference taken by srctab_get; frees the entry at zero.
 * srctab_put(t, NULL) does nothing. */
void	srctab_put(struct srctab *t, struct src *s);
/* Entries in the table. */
size_t	srctab_size(const struct srctab *t);
/* The source for logs: "192.0.2.1", "2001:db8:1:2::/64" or "any". */
const char *srctab_text(const struct src *s, char *buf, size_t cap);

#endif /* IKETCP_SRCTAB_H */
