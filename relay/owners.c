/*
 * The owner table (relay/owners.h) in MAP_SHARED anonymous memory: one
 * region of 8-byte slots per worker, linear probing, one process-shared
 * robust mutex.  Each worker writes only its own region, so a worker that
 * dies, even inside an update, leaves nothing wrong in the others', and
 * forgetting all it held is one hole punched in its region
 * (MADV_REMOVE): no scan, and untouched pages stay unallocated.
 *
 * A region is mapped for every key its worker may hold, but only its
 * first slots are in use: a power of two, from one page, doubled (the
 * keys rehashed, under the lock) when 3/4 full.  Keys hash over the
 * slots in use, so the memory a region costs follows the most keys it
 * held, not the bound: hashed over the whole mapping, a few keys a page
 * would touch every page of it (16 MiB a worker for max-sessions
 * 110 000).  The lock makes "no other worker holds it, so it is mine"
 * one step.  It is taken only when a key is learnt or dropped and when a
 * first message names a key this worker lacks, never per message.
 */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "relay/keyhash.h"
#include "relay/log.h"
#include "relay/owners.h"

enum {
	SLOT_USED = 0x80,		/* a used slot is never 0 */
};

#define SLOT_FP(v)	((v) & ~(uint64_t)0xff)	/* the key's 56 bits */

struct owners {
	pthread_mutex_t	 lock;		/* process-shared, robust */
	size_t		 size;		/* bytes mapped */
	size_t		 region_off;	/* region 0, from the start; paged */
	size_t		 region_len;	/* bytes a region, whole pages */
	size_t		 cap;		/* slots a region has room for */
	size_t		 mask[OWNERS_WORKERS_MAX];	/* slots in use - 1 */
	unsigned	 nworkers;
	unsigned long long recovered;	/* EOWNERDEAD seen */
	size_t		 count[OWNERS_WORKERS_MAX];	/* used slots */
	_Atomic uint8_t	 alive[OWNERS_WORKERS_MAX];
	uint8_t		 key[KEYHASH_KEY_LEN]; /* SipHash key of the slots */
};

static void
lock(struct owners *o)
{
	int e = pthread_mutex_lock(&o->lock);

	if (e == EOWNERDEAD) {
		/* A worker died holding the lock: it can only have been
		 * writing its own region, which the master forgets when it
		 * sees the death (owners_purge()). */
		o->recovered++;
		(void)pthread_mutex_consistent(&o->lock);
	} else if (e != 0)
		fatalx("owner table: lock: %s", strerror(e));
}

static void
unlock(struct owners *o)
{
	(void)pthread_mutex_unlock(&o->lock);
}

static uint64_t *
region(const struct owners *o, unsigned w)
{
	return (uint64_t *)(void *)((char *)(uintptr_t)o + o->region_off +
	    w * o->region_len);
}

/* The key's hash, its low byte the slot's tag. */
static uint64_t
fingerprint(const struct owners *o, bool esp, uint64_t spi_i,
    uint64_t spi_r)
{
	uint8_t k[17];

	k[0] = esp;
	memcpy(k + 1, &spi_i, 8);
	memcpy(k + 9, &spi_r, 8);
	return SLOT_FP(keyhash_with(o->key, k, sizeof(k))) | SLOT_USED;
}

static size_t
home(const struct owners *o, unsigned w, uint64_t v)
{
	return (size_t)(v >> 8) & o->mask[w];
}

static bool
alive(const struct owners *o, unsigned w)
{
	return w < OWNERS_WORKERS_MAX && atomic_load(&o->alive[w]) != 0;
}

/* In region @w: the slot holding @fp, or the empty slot that ends its
 * probe run (there is one: a region is never more than 3/4 full). */
static size_t
find(const struct owners *o, unsigned w, uint64_t fp)
{
	const uint64_t *s = region(o, w);
	size_t i = home(o, w, fp);

	while (s[i] != 0 && s[i] != fp)
		i = (i + 1) & o->mask[w];
	return i;
}

/* Is @k's home cyclically in (@i, @j]? Then it may not move to @i. */
static bool
stays(size_t i, size_t j, size_t k)
{
	return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

/* Empties slot @i of region @w, moving back whatever the hole would cut
 * off from its home. */
static void
del(struct owners *o, unsigned w, size_t i)
{
	uint64_t *s = region(o, w);
	size_t j = i;

	for (;;) {
		j = (j + 1) & o->mask[w];
		if (s[j] == 0)
			break;
		if (stays(i, j, home(o, w, s[j])))
			continue;
		s[i] = s[j];
		i = j;
	}
	s[i] = 0;
	o->count[w]--;
}

/* The other live worker whose region holds @fp, or -1. */
static int
holder(const struct owners *o, unsigned me, uint64_t fp)
{
	for (unsigned w = 0; w < o->nworkers; w++)
		if (w != me && alive(o, w) && region(o, w)[find(o, w, fp)] != 0)
			return (int)w;
	return -1;
}

/* The slots region @w starts with (and returns to when purged). */
static size_t
first_slots(const struct owners *o)
{
	size_t n = (size_t)sysconf(_SC_PAGESIZE) / sizeof(uint64_t);

	return n < OWNERS_SLOTS_MIN ? OWNERS_SLOTS_MIN :
	    n > o->cap ? o->cap : n;
}

/* Region @w, 3/4 full, uses twice the slots: its keys are copied out,
 * the slots in use emptied and the keys placed again under the new mask.
 * The slots past the old ones were never written since the last purge,
 * so they are zero.  Under the lock; false (nothing changed) when the
 * region is at its room or the copy has no memory. */
static bool
grow(struct owners *o, unsigned w)
{
	uint64_t *s = region(o, w), *old;
	size_t n = o->mask[w] + 1;

	if (n * 2 > o->cap || (old = malloc(n * sizeof(*old))) == NULL)
		return false;
	memcpy(old, s, n * sizeof(*old));
	memset(s, 0, n * sizeof(*s));
	o->mask[w] = n * 2 - 1;
	for (size_t i = 0; i < n; i++)
		if (old[i] != 0)
			s[find(o, w, old[i])] = old[i];
	free(old);
	return true;
}

struct owners *
owners_new(size_t nkeys, unsigned nworkers)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), slots = OWNERS_SLOTS_MIN;
	size_t head, len, size;
	pthread_mutexattr_t ma;
	struct owners *o;
	void *m;

	if (nworkers == 0 || nworkers > OWNERS_WORKERS_MAX) {
		log_warnx("owner table: %u workers", nworkers);
		return NULL;
	}
	while (slots < OWNERS_SLOTS_MAX && slots / 4 * 3 < nkeys)
		slots *= 2;
	/* Mapped, not touched: a region's pages cost nothing until its
	 * keys need them (grow()). */
	head = (sizeof(*o) + page - 1) / page * page;
	len = (slots * sizeof(uint64_t) + page - 1) / page * page;
	size = head + nworkers * len;
	/* Untouched pages cost nothing until a key lands on them. */
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		log_warn("owner table: mmap of %zu bytes", size);
		return NULL;
	}
	o = m;
	o->size = size;
	o->region_off = head;
	o->region_len = len;
	o->cap = slots;
	o->nworkers = nworkers;
	for (unsigned w = 0; w < nworkers; w++)
		o->mask[w] = first_slots(o) - 1;
	if (RAND_bytes(o->key, sizeof(o->key)) != 1) {
		log_warnx("owner table: RAND_bytes failed");
		goto fail;
	}
	if (pthread_mutexattr_init(&ma) != 0)
		goto fail;
	if (pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&o->lock, &ma) != 0) {
		pthread_mutexattr_destroy(&ma);
		log_warnx("owner table: no process-shared robust mutex");
		goto fail;
	}
	pthread_mutexattr_destroy(&ma);
	return o;
fail:
	munmap(m, size);
	return NULL;
}

void
owners_free(struct owners *o)
{
	if (o == NULL)
		return;
	pthread_mutex_destroy(&o->lock);
	munmap(o, o->size);
}

enum owners_claim
owners_claim(struct owners *o, unsigned worker, bool esp, uint64_t spi_i,
    uint64_t spi_r, unsigned *holder_out)
{
	uint64_t fp = fingerprint(o, esp, spi_i, spi_r), *s;
	enum owners_claim rc = OWNERS_MINE;
	size_t i;
	int w;

	if (worker >= o->nworkers)
		return OWNERS_FULL;
	s = region(o, worker);
	lock(o);
	i = find(o, worker, fp);
	if (s[i] != 0)
		;		/* already its */
	else if ((w = holder(o, worker, fp)) != -1) {
		*holder_out = (unsigned)w;
		rc = OWNERS_OTHER;
	} else if (o->count[worker] >= (o->mask[worker] + 1) / 4 * 3 &&
	    !grow(o, worker))
		rc = OWNERS_FULL;
	else {
		s[find(o, worker, fp)] = fp;
		o->count[worker]++;
	}
	unlock(o);
	return rc;
}

void
owners_release(struct owners *o, unsigned worker, bool esp, uint64_t spi_i,
    uint64_t spi_r)
{
	uint64_t fp = fingerprint(o, esp, spi_i, spi_r);
	size_t i;

	if (worker >= o->nworkers)
		return;
	lock(o);
	i = find(o, worker, fp);
	if (region(o, worker)[i] != 0)
		del(o, worker, i);
	unlock(o);
}

bool
owners_lookup(struct owners *o, bool esp, uint64_t spi_i, uint64_t spi_r,
    unsigned *worker)
{
	uint64_t fp = fingerprint(o, esp, spi_i, spi_r);
	int w;

	lock(o);
	w = holder(o, OWNERS_WORKERS_MAX, fp);
	unlock(o);
	if (w == -1)
		return false;
	*worker = (unsigned)w;
	return true;
}

void
owners_set_alive(struct owners *o, unsigned worker, bool on)
{
	if (worker < OWNERS_WORKERS_MAX)
		atomic_store(&o->alive[worker], on ? 1 : 0);
}

bool
owners_is_alive(const struct owners *o, unsigned worker)
{
	return alive(o, worker);
}

void
owners_purge(struct owners *o, unsigned worker)
{
	if (worker >= o->nworkers)
		return;
	lock(o);
	/* A hole in the shared memory's backing store: every process sees
	 * zeros there, and the pages are freed. */
	if (madvise(region(o, worker), o->region_len, MADV_REMOVE) == -1)
		memset(region(o, worker), 0, o->region_len);
	o->count[worker] = 0;
	o->mask[worker] = first_slots(o) - 1;
	unlock(o);
}

size_t
owners_count(struct owners *o)
{
	size_t n = 0;

	lock(o);
	for (unsigned w = 0; w < o->nworkers; w++)
		n += o->count[w];
	unlock(o);
	return n;
}

size_t
owners_max(const struct owners *o)
{
	return o->cap / 4 * 3;
}

unsigned long long
owners_recovered(struct owners *o)
{
	unsigned long long n;

	lock(o);
	n = o->recovered;
	unlock(o);
	return n;
}

size_t
owners_test_resident(const struct owners *o)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = o->size / page, in = 0;
	unsigned char *v = malloc(n);

	if (v == NULL)
		return SIZE_MAX;
	if (mincore((void *)(uintptr_t)o, o->size, v) == -1)
		in = SIZE_MAX;
	else
		for (size_t i = 0; i < n; i++)
			in += (v[i] & 1) != 0 ? page : 0;
	free(v);
	return in;
}

void
owners_test_lock(struct owners *o)
{
	lock(o);
}
