/*
 * The owner table (relay/owners.h): a fixed array of 8-byte slots in
 * MAP_SHARED anonymous memory, linear probing, one process-shared robust
 * mutex.  It is touched only when a session learns or drops a key and when
 * a stream's first message names a key this worker does not hold, never
 * per message, so one lock is enough.
 */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "relay/keyhash.h"
#include "relay/log.h"
#include "relay/owners.h"

enum {
	SLOT_USED = 0x80,		/* a used slot is never 0 */
	SLOT_WORKER = 0x3f,		/* worker id, < OWNERS_WORKERS_MAX */
};

#define SLOT_FP(v)	((v) & ~(uint64_t)0xff)	/* the key's 56 bits */

struct owners {
	pthread_mutex_t	 lock;		/* process-shared, robust */
	size_t		 size;		/* bytes mapped */
	size_t		 mask;		/* slots - 1 */
	size_t		 count;		/* used slots */
	size_t		 max;		/* bound on count (3/4 of slots) */
	unsigned	 nworkers;
	unsigned long long recovered;	/* EOWNERDEAD seen */
	_Atomic uint8_t	 alive[OWNERS_WORKERS_MAX];
	uint8_t		 key[KEYHASH_KEY_LEN]; /* SipHash key of the slots */
	uint64_t	 slot[];	/* 0, or SLOT_FP | SLOT_USED | worker */
};

static void
lock(struct owners *o)
{
	int e = pthread_mutex_lock(&o->lock);

	if (e == EOWNERDEAD) {
		/* A worker died holding the lock, inside an update: at worst
		 * a duplicate slot is left (see del()), which the master's
		 * owners_purge() for that worker removes. */
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

/* The key's hash, its low byte cleared for the slot's tag. */
static uint64_t
fingerprint(const struct owners *o, bool esp, uint64_t spi_i,
    uint64_t spi_r)
{
	uint8_t k[17];

	k[0] = esp;
	memcpy(k + 1, &spi_i, 8);
	memcpy(k + 9, &spi_r, 8);
	return SLOT_FP(keyhash_with(o->key, k, sizeof(k)));
}

static size_t
home(const struct owners *o, uint64_t v)
{
	return (size_t)(v >> 8) & o->mask;
}

static bool
alive(const struct owners *o, unsigned w)
{
	return w < OWNERS_WORKERS_MAX && atomic_load(&o->alive[w]) != 0;
}

/* The slot holding @fp, or the empty slot that ends its probe run. */
static size_t
find(const struct owners *o, uint64_t fp)
{
	size_t i = home(o, fp);

	while (o->slot[i] != 0 && SLOT_FP(o->slot[i]) != fp)
		i = (i + 1) & o->mask;
	return i;
}

/* Is @k's home cyclically in (@i, @j]? Then it may not move to @i. */
static bool
stays(size_t i, size_t j, size_t k)
{
	return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

/*
 * Empties slot @i, moving back whatever the hole would cut off from its
 * home.  Each step copies a later entry over the hole before the hole
 * moves on, and only the last step clears a slot: a process killed in
 * between leaves a duplicate, never an entry its probe run cannot reach.
 */
static void
del(struct owners *o, size_t i)
{
	size_t j = i;

	for (;;) {
		j = (j + 1) & o->mask;
		if (o->slot[j] == 0)
			break;
		if (stays(i, j, home(o, o->slot[j])))
			continue;
		o->slot[i] = o->slot[j];
		i = j;
	}
	o->slot[i] = 0;
	o->count--;
}

struct owners *
owners_new(size_t nkeys, unsigned nworkers)
{
	pthread_mutexattr_t ma;
	struct owners *o;
	size_t slots = OWNERS_SLOTS_MIN, size;
	void *m;

	if (nworkers == 0 || nworkers > OWNERS_WORKERS_MAX) {
		log_warnx("owner table: %u workers", nworkers);
		return NULL;
	}
	while (slots < OWNERS_SLOTS_MAX && slots / 4 * 3 < nkeys)
		slots *= 2;
	size = sizeof(*o) + slots * sizeof(o->slot[0]);
	/* Untouched pages cost nothing until a key lands on them. */
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (m == MAP_FAILED) {
		log_warn("owner table: mmap of %zu bytes", size);
		return NULL;
	}
	o = m;
	o->size = size;
	o->mask = slots - 1;
	o->max = slots / 4 * 3;
	o->nworkers = nworkers;
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
    uint64_t spi_r, unsigned *holder)
{
	uint64_t fp = fingerprint(o, esp, spi_i, spi_r);
	uint64_t mine = fp | SLOT_USED | (worker & SLOT_WORKER);
	enum owners_claim rc = OWNERS_MINE;
	size_t i;

	lock(o);
	i = find(o, fp);
	if (o->slot[i] != 0) {
		unsigned w = (unsigned)(o->slot[i] & SLOT_WORKER);

		if (w != worker && alive(o, w)) {
			*holder = w;
			rc = OWNERS_OTHER;
		} else
			o->slot[i] = mine;
	} else if (o->count >= o->max)
		rc = OWNERS_FULL;
	else {
		o->slot[i] = mine;
		o->count++;
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

	lock(o);
	i = find(o, fp);
	if (o->slot[i] != 0 && (o->slot[i] & SLOT_WORKER) == worker)
		del(o, i);
	unlock(o);
}

bool
owners_lookup(struct owners *o, bool esp, uint64_t spi_i, uint64_t spi_r,
    unsigned *worker)
{
	uint64_t fp = fingerprint(o, esp, spi_i, spi_r);
	bool found = false;
	size_t i;

	lock(o);
	i = find(o, fp);
	if (o->slot[i] != 0) {
		*worker = (unsigned)(o->slot[i] & SLOT_WORKER);
		found = alive(o, *worker);
	}
	unlock(o);
	return found;
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

/* The slot array again without @worker's entries and without duplicates:
 * everything else is inserted afresh from a copy. */
static bool
rebuild(struct owners *o, unsigned worker)
{
	size_t n = o->mask + 1;
	uint64_t *old = malloc(n * sizeof(*old));

	if (old == NULL)
		return false;
	memcpy(old, o->slot, n * sizeof(*old));
	memset(o->slot, 0, n * sizeof(*old));
	o->count = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i;

		if (old[k] == 0 || (old[k] & SLOT_WORKER) == worker)
			continue;
		i = find(o, SLOT_FP(old[k]));
		if (o->slot[i] != 0)
			continue;	/* a duplicate: the first stays */
		o->slot[i] = old[k];
		o->count++;
	}
	free(old);
	return true;
}

void
owners_purge(struct owners *o, unsigned worker)
{
	lock(o);
	if (!rebuild(o, worker)) {
		/* Without memory for a copy: in place (a duplicate stays).
		 * A delete at i moves only entries from after i (cyclically)
		 * into i, so i is looked at again until it holds another's. */
		for (size_t i = 0; i <= o->mask; i++)
			while (o->slot[i] != 0 &&
			    (o->slot[i] & SLOT_WORKER) == worker)
				del(o, i);
	}
	unlock(o);
}

size_t
owners_count(struct owners *o)
{
	size_t n;

	lock(o);
	n = o->count;
	unlock(o);
	return n;
}

size_t
owners_max(const struct owners *o)
{
	return o->max;
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

void
owners_test_lock(struct owners *o)
{
	lock(o);
}
