/*
 * The owner table: which worker holds each key of the session layer's SPI
 * table (relay/session.c: an IKE SA's SPI pair, a client ESP SPI), in
 * memory that all workers share, so that a stream landing on one worker
 * finds the session another one holds (relay/handoff.c, relay/README
 * "Workers").  Made by the master before the first fork and inherited.
 *
 * One region a worker, which only that worker writes: 8-byte slots (56
 * bits of a keyed hash of the key, under the table's own random SipHash
 * key kept in the shared memory so every worker agrees), linear probing.
 * One process-shared robust mutex makes "no other live worker holds it,
 * so it is mine" one step.  A region is mapped for every key its worker
 * can hold, and past that bound a key is not recorded (OWNERS_FULL); of
 * it, only the slots its keys need are in use and cost memory (a page to
 * start, doubled when 3/4 full).  A dead worker's region is ignored until
 * the master empties it (a hole punched in the shared memory: no scan,
 * nothing touched), whatever the worker was doing when it died.
 *
 *   o = owners_new(max_sessions * 12, nworkers);    fork ...
 *   owners_set_alive(o, id, true);                  in worker id
 *   owners_claim(o, id, esp, spi_i, spi_r, &who);   a key learnt
 *   owners_lookup(o, esp, spi_i, spi_r, &who);      a stream names it
 *   owners_release(o, id, esp, spi_i, spi_r);       the key dropped
 *   owners_purge(o, id);                            master: id died
 */
#ifndef IKETCP_OWNERS_H
#define IKETCP_OWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	OWNERS_WORKERS_MAX = 64,	/* workers = 1..64 */
	OWNERS_SLOTS_MIN = 512,		/* a region, power of two */
	OWNERS_SLOTS_MAX = 1 << 22,	/* a region: 32 MiB of slots */
};

struct owners;

enum owners_claim {
	OWNERS_MINE,		/* recorded for the caller, or was already */
	OWNERS_OTHER,		/* another live worker holds the key */
	OWNERS_FULL,		/* not recorded: the table is at its bound */
};

/* A table for @nworkers workers of @nkeys keys each (a region's slots: a
 * power of two at least 4/3 of @nkeys, within the bounds above), in
 * shared anonymous memory; NULL (logged) on failure. */
struct owners *owners_new(size_t nkeys, unsigned nworkers);
void	owners_free(struct owners *o);
/* Records that @worker holds the key, unless another live worker does
 * (first come keeps it; a dead worker holds nothing).  With OWNERS_OTHER,
 * *@holder is that worker. */
enum owners_claim owners_claim(struct owners *o, unsigned worker, bool esp,
	    uint64_t spi_i, uint64_t spi_r, unsigned *holder);
/* Forgets the key if @worker holds it. */
void	owners_release(struct owners *o, unsigned worker, bool esp,
	    uint64_t spi_i, uint64_t spi_r);
/* The live worker that holds the key; false when none does. */
bool	owners_lookup(struct owners *o, bool esp, uint64_t spi_i,
	    uint64_t spi_r, unsigned *worker);
/* A worker is alive from its start until the master saw it die; the keys
 * of a worker that is not are nobody's. */
void	owners_set_alive(struct owners *o, unsigned worker, bool alive);
bool	owners_is_alive(const struct owners *o, unsigned worker);
/* Forgets every key of @worker (dead; before it is started again). */
void	owners_purge(struct owners *o, unsigned worker);
/* Keys recorded (all workers), the bound of one worker's, and how many
 * times a lock was found whose holder had died. */
size_t	owners_count(struct owners *o);
size_t	owners_max(const struct owners *o);
unsigned long long owners_recovered(struct owners *o);
/* Tests: the bytes of the table's memory that are resident (mincore(2));
 * takes the lock and keeps it (a process then killed holding it). */
size_t	owners_test_resident(const struct owners *o);
void	owners_test_lock(struct owners *o);

#endif /* IKETCP_OWNERS_H */
