/*
 * relay/owners.c: the owner table in shared memory.  In one process:
 * claims, first come keeps it, releases, dead workers and their purge,
 * the bound, deletes that keep every other key findable.  Across fork(2): a child's claims
 * seen by the parent and the other way round, both racing on the same
 * keys, and a child killed while it holds the lock.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "relay/log.h"
#include "relay/owners.h"

TestSuite(owners);

static struct owners *o;

static void
setup(void)
{
	log_init("owners_test", true, LOG_LEVEL_ERR);
	o = owners_new(1000, 4);
	cr_assert_not_null(o);
	for (unsigned w = 0; w < 4; w++)
		owners_set_alive(o, w, true);
}

static void
teardown(void)
{
	owners_free(o);
	o = NULL;
}

/* The i-th test key: ESP SPIs and IKE pairs alike. */
static void
key(unsigned i, bool *esp, uint64_t *spi_i, uint64_t *spi_r)
{
	*esp = (i & 1) != 0;
	*spi_i = *esp ? 0xe5000000u + i : 0x1000000000000000ULL + i;
	*spi_r = *esp ? 0 : 0x2000000000000000ULL + i * 7;
}

static enum owners_claim
claim(unsigned w, unsigned i, unsigned *holder)
{
	bool esp;
	uint64_t a, b;

	key(i, &esp, &a, &b);
	return owners_claim(o, w, esp, a, b, holder);
}

static int
owner(unsigned i)
{
	bool esp;
	uint64_t a, b;
	unsigned w;

	key(i, &esp, &a, &b);
	return owners_lookup(o, esp, a, b, &w) ? (int)w : -1;
}

static void
release(unsigned w, unsigned i)
{
	bool esp;
	uint64_t a, b;

	key(i, &esp, &a, &b);
	owners_release(o, w, esp, a, b);
}

Test(owners, a_claimed_key_is_found_as_its_workers,
    .init = setup, .fini = teardown, .timeout = 10)
{
	unsigned h;

	cr_assert_eq(owner(1), -1);
	cr_assert_eq(claim(2, 1, &h), OWNERS_MINE);
	cr_assert_eq(owner(1), 2);
	cr_assert_eq(claim(2, 1, &h), OWNERS_MINE, "again: still its");
	cr_assert_eq(owners_count(o), 1);
}

Test(owners, the_first_worker_keeps_a_key,
    .init = setup, .fini = teardown, .timeout = 10)
{
	unsigned h = 99;

	cr_assert_eq(claim(0, 7, &h), OWNERS_MINE);
	cr_assert_eq(claim(3, 7, &h), OWNERS_OTHER);
	cr_assert_eq(h, 0);
	cr_assert_eq(owner(7), 0);
	/* A release by another worker changes nothing. */
	release(3, 7);
	cr_assert_eq(owner(7), 0);
	release(0, 7);
	cr_assert_eq(owner(7), -1);
	cr_assert_eq(claim(3, 7, &h), OWNERS_MINE);
}

Test(owners, an_esp_spi_and_an_ike_pair_are_different_keys,
    .init = setup, .fini = teardown, .timeout = 10)
{
	unsigned h, w;

	cr_assert_eq(owners_claim(o, 1, true, 5, 0, &h), OWNERS_MINE);
	cr_assert_eq(owners_claim(o, 2, false, 5, 0, &h), OWNERS_MINE);
	cr_assert(owners_lookup(o, true, 5, 0, &w) && w == 1);
	cr_assert(owners_lookup(o, false, 5, 0, &w) && w == 2);
}

Test(owners, a_dead_workers_keys_are_nobodys,
    .init = setup, .fini = teardown, .timeout = 10)
{
	unsigned h;

	cr_assert_eq(claim(1, 3, &h), OWNERS_MINE);
	cr_assert_eq(claim(1, 4, &h), OWNERS_MINE);
	cr_assert_eq(claim(2, 5, &h), OWNERS_MINE);
	owners_set_alive(o, 1, false);
	cr_assert_eq(owner(3), -1, "not found while its worker is dead");
	cr_assert_eq(claim(2, 3, &h), OWNERS_MINE, "taken over");
	cr_assert_eq(owner(3), 2);
	owners_purge(o, 1);
	cr_assert_eq(owners_count(o), 2, "key 4 went, 3 and 5 stay");
	cr_assert_eq(owner(5), 2);
	owners_set_alive(o, 1, true);
	cr_assert_eq(owner(4), -1, "a restarted worker holds nothing");
}

/* @steps claims and releases of keys 0..@n-1 by workers 0..3 in a
 * pseudo-random order from @seed, kept in @model (the worker holding each
 * key, -1 for none): a key not held is claimed, a held one released one
 * time in @release_in.  Every @check_in steps (0: never) each key's owner
 * must be its model's.  Returns how many keys are held. */
static size_t
churn(int *model, unsigned n, unsigned steps, uint32_t seed,
    unsigned release_in, unsigned check_in)
{
	uint32_t x = seed;
	unsigned h;
	size_t live = 0;

	for (unsigned i = 0; i < n; i++)
		model[i] = -1;
	for (unsigned step = 1; step <= steps; step++) {
		unsigned i, w;

		x = x * 1103515245u + 12345u;
		i = (x >> 8) % n;
		w = (x >> 24) % 4;
		if (model[i] == -1) {
			cr_assert_eq(claim(w, i, &h), OWNERS_MINE, "key %u", i);
			model[i] = (int)w;
			live++;
		} else if (x % release_in == 0) {
			release((unsigned)model[i], i);
			model[i] = -1;
			live--;
		}
		if (check_in != 0 && step % check_in == 0)
			for (unsigned k = 0; k < n; k++)
				cr_assert_eq(owner(k), model[k],
				    "key %u at step %u", k, step);
	}
	return live;
}

/* Claims and releases in a pseudo-random order against a model: every
 * key claimed and not released is found, nothing else is. */
Test(owners, deletes_keep_every_other_key_findable,
    .init = setup, .fini = teardown, .timeout = 20)
{
	enum { N = 700 };
	static int model[N];
	size_t live = churn(model, N, 20000, 12345, 1, 0);

	cr_assert_eq(owners_count(o), live);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(owner(i), model[i], "key %u", i);
	/* Purging one worker leaves the others' keys whole. */
	owners_purge(o, 2);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(owner(i), model[i] == 2 ? -1 : model[i],
		    "key %u after the purge", i);
}

/* Regions grow as their keys come (a page of slots to start): claims,
 * releases and lookups across several doublings of every region, keys of
 * all four workers interleaved (three claims to a release: the regions
 * fill), checked against a model after each thousand steps. */
Test(owners, keys_stay_findable_while_regions_grow,
    .init = setup, .fini = teardown, .timeout = 30)
{
	enum { N = 4000 };
	static int model[N];
	size_t live = churn(model, N, 12000, 777, 4, 1000);

	cr_assert_eq(owners_count(o), live);
}

/* The memory a table costs follows the keys it holds, not its bound:
 * 2 000 keys in each of two regions made for 1 048 576 each (16 MiB of
 * slots a region) make a few pages resident; a purge gives them back. */
Test(owners, memory_follows_the_keys_held_not_the_bound, .timeout = 20)
{
	struct owners *big;
	unsigned h;
	size_t r0, r1, r2;

	log_init("owners_test", true, LOG_LEVEL_ERR);
	big = owners_new(1u << 20, 2);
	cr_assert_not_null(big);
	cr_assert_geq(owners_max(big), 1u << 20);
	owners_set_alive(big, 0, true);
	owners_set_alive(big, 1, true);
	r0 = owners_test_resident(big);
	for (unsigned i = 0; i < 4000; i++)
		cr_assert_eq(owners_claim(big, i % 2, true, 0xa0000000u + i, 0,
		    &h), OWNERS_MINE);
	for (unsigned i = 0; i < 4000; i++) {
		unsigned w = 9;

		cr_assert(owners_lookup(big, true, 0xa0000000u + i, 0, &w) &&
		    w == i % 2, "key %u", i);
	}
	r1 = owners_test_resident(big);
	/* 2 000 keys: 4 096 slots in use, 32 KiB a region. */
	cr_assert_leq(r1, r0 + 2 * 32 * 1024,
	    "%zu bytes resident for 4 000 keys (%zu before)", r1, r0);
	owners_purge(big, 0);
	r2 = owners_test_resident(big);
	cr_assert_leq(r2, r0 + 32 * 1024, "after the purge: %zu", r2);
	cr_assert_eq(owners_count(big), 2000);
	owners_free(big);
}

Test(owners, past_its_bound_a_key_is_not_recorded,
    .init = setup, .fini = teardown, .timeout = 10)
{
	size_t max = owners_max(o);
	unsigned h, i;

	cr_assert_geq(max, 1000, "room for what it was made for");
	for (i = 0; i < max; i++)
		cr_assert_eq(claim(0, i, &h), OWNERS_MINE, "key %u", i);
	cr_assert_eq(claim(0, i, &h), OWNERS_FULL);
	cr_assert_eq(owner(i), -1);
	/* A key already held is still answered; other workers have room
	 * of their own. */
	cr_assert_eq(claim(0, 1, &h), OWNERS_MINE);
	cr_assert_eq(claim(1, 1, &h), OWNERS_OTHER);
	cr_assert_eq(claim(1, i, &h), OWNERS_MINE);
	release(1, i);
	release(0, 0);
	cr_assert_eq(claim(0, i, &h), OWNERS_MINE);
}

Test(owners, refuses_more_workers_than_it_can_name, .timeout = 10)
{
	log_init("owners_test", true, LOG_LEVEL_ERR);
	cr_assert_null(owners_new(10, 0));
	cr_assert_null(owners_new(10, OWNERS_WORKERS_MAX + 1));
}

/* ---- two processes ---- */

/* Runs @fn in a child; returns its pid. */
static pid_t
child(void (*fn)(int), int arg)
{
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

static int
reap(pid_t pid)
{
	int st = 0;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void
claim_range(int w)
{
	unsigned h;

	for (unsigned i = 0; i < 400; i++)
		if (claim((unsigned)w, i, &h) == OWNERS_FULL)
			_exit(2);
}

Test(owners, a_childs_claims_are_seen_by_its_parent,
    .init = setup, .fini = teardown, .timeout = 20)
{
	unsigned h;

	cr_assert_eq(reap(child(claim_range, 1)), 0);
	for (unsigned i = 0; i < 400; i++)
		cr_assert_eq(owner(i), 1, "key %u", i);
	cr_assert_eq(claim(0, 5, &h), OWNERS_OTHER);
	cr_assert_eq(h, 1);
}

/* Two workers claim the same keys at the same time, many rounds, each
 * releasing what it got: every key ends with exactly one holder or
 * none, and the count agrees. */
static void
race(int w)
{
	unsigned h;

	for (unsigned round = 0; round < 50; round++) {
		for (unsigned i = 0; i < 300; i++)
			(void)claim((unsigned)w, i, &h);
		for (unsigned i = 0; i < 300; i += 2)
			release((unsigned)w, i);
	}
}

Test(owners, two_processes_racing_agree_on_one_holder,
    .init = setup, .fini = teardown, .timeout = 60)
{
	pid_t a = child(race, 1), b = child(race, 2);
	size_t held = 0;

	cr_assert_eq(reap(a), 0);
	cr_assert_eq(reap(b), 0);
	for (unsigned i = 0; i < 300; i++) {
		int w = owner(i);

		if (i % 2 == 0)
			cr_assert_eq(w, -1, "even key %u released", i);
		else {
			cr_assert(w == 1 || w == 2, "odd key %u: %d", i, w);
			held++;
		}
	}
	cr_assert_eq(owners_count(o), held);
}

static void
die_holding_the_lock(int fd)
{
	unsigned h;

	(void)claim(3, 11, &h);
	owners_test_lock(o);
	(void)!write(fd, "x", 1);
	pause();
}

/* A worker killed while it holds the lock does not stop the others. */
Test(owners, a_worker_killed_holding_the_lock_stops_nobody,
    .init = setup, .fini = teardown, .timeout = 20)
{
	int p[2];
	char c;
	pid_t pid;
	unsigned h;

	cr_assert_eq(pipe(p), 0);
	pid = child(die_holding_the_lock, p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1);
	kill(pid, SIGKILL);
	reap(pid);
	owners_set_alive(o, 3, false);
	cr_assert_eq(claim(0, 12, &h), OWNERS_MINE);
	cr_assert_eq(owners_recovered(o), 1);
	owners_purge(o, 3);
	cr_assert_eq(owner(12), 0);
	cr_assert_eq(owners_count(o), 1, "the dead worker's key went");
	close(p[0]);
	close(p[1]);
}
