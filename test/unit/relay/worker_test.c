/*
 * relay/worker.c: which process runs which section -- relay sections in
 * every worker, each [integrated] and [connector] section in worker k mod
 * N by its place at start, nothing in the master, everything in a single
 * process -- and the accept balance between workers.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "conf/conf.h"
#include "relay/relay.h"
#include "relay/worker.h"

TestSuite(worker);

static struct conf_relay relays[4];
static struct conf_connector cns[2];
static struct conf conf;

static void
setup(void)
{
	memset(relays, 0, sizeof(relays));
	memset(cns, 0, sizeof(cns));
	memset(&conf, 0, sizeof(conf));
	strcpy(relays[0].name, "r0");
	relays[0].backend = CONF_BACKEND_RELAY;
	strcpy(relays[1].name, "i0");
	relays[1].backend = CONF_BACKEND_INTEGRATED;
	strcpy(relays[2].name, "r1");
	relays[2].backend = CONF_BACKEND_RELAY;
	strcpy(relays[3].name, "i1");
	relays[3].backend = CONF_BACKEND_INTEGRATED;
	strcpy(cns[0].name, "c0");
	strcpy(cns[1].name, "i0");	/* a connector may share a name */
	conf.relays = relays;
	conf.nrelays = 4;
	conf.connectors = cns;
	conf.nconnectors = 2;
}

static struct relay
process(unsigned n, unsigned id, bool master)
{
	struct relay r;

	memset(&r, 0, sizeof(r));
	r.nworkers = n;
	r.worker_id = id;
	r.master = master;
	r.conf = &conf;
	cr_assert_eq(worker_map_init(&r, &conf), 0);
	return r;
}

Test(worker, one_process_serves_everything, .init = setup, .timeout = 10)
{
	struct relay r = process(1, 0, false);

	for (size_t i = 0; i < 4; i++) {
		cr_assert(worker_serves(&r, &relays[i]));
		cr_assert_eq(worker_owner(&r, &relays[i]), 0);
	}
	cr_assert(worker_serves_connector(&r, &cns[0]));
	cr_assert(worker_serves_connector(&r, &cns[1]));
	worker_map_free(&r);
}

Test(worker, one_owner_sections_go_round_the_workers, .init = setup,
    .timeout = 10)
{
	/* Numbered [integrated] first, then [connector]: i0 0, i1 1, c0 2,
	 * connector i0 3. */
	struct relay w0 = process(3, 0, false), w1 = process(3, 1, false),
	    w2 = process(3, 2, false);

	cr_assert_eq(worker_owner(&w1, &relays[1]), 0);
	cr_assert_eq(worker_owner(&w0, &relays[3]), 1);
	cr_assert(worker_serves(&w0, &relays[1]));
	cr_assert(!worker_serves(&w1, &relays[1]));
	cr_assert(worker_serves(&w1, &relays[3]));
	cr_assert(!worker_serves(&w2, &relays[3]));
	cr_assert(worker_serves_connector(&w2, &cns[0]));
	cr_assert(!worker_serves_connector(&w0, &cns[0]));
	cr_assert(worker_serves_connector(&w0, &cns[1]));
	cr_assert(!worker_serves_connector(&w2, &cns[1]));
	/* Relay sections: every worker, each its own owner. */
	cr_assert(worker_serves(&w0, &relays[0]) &&
	    worker_serves(&w1, &relays[0]) && worker_serves(&w2, &relays[2]));
	cr_assert_eq(worker_owner(&w2, &relays[0]), 2);
	worker_map_free(&w0);
	worker_map_free(&w1);
	worker_map_free(&w2);
}

Test(worker, the_master_serves_nothing_and_holds_all, .init = setup,
    .timeout = 10)
{
	struct relay m = process(2, 0, true), w1 = process(2, 1, false);

	for (size_t i = 0; i < 4; i++)
		cr_assert(!worker_serves(&m, &relays[i]));
	cr_assert(!worker_serves_connector(&m, &cns[0]));
	cr_assert(worker_holds(&m, &relays[1]) && worker_holds(&m, &relays[3]));
	cr_assert(!worker_holds(&w1, &relays[1]));
	cr_assert(worker_holds(&w1, &relays[3]));
	worker_map_free(&m);
	worker_map_free(&w1);
}

Test(worker, a_busier_worker_steps_back, .init = setup, .timeout = 10)
{
	struct relay m = process(2, 0, true), a, b;

	/* The workers are forks of the master: the same shared memory. */
	a = m;
	a.master = false;
	b = a;
	b.worker_id = 1;
	cr_assert(!worker_accept_defer(&a), "alone: never");
	worker_set_up(&m, 0, true);
	worker_set_up(&m, 1, true);
	a.fds_used = 2;
	b.fds_used = 0;
	worker_load_publish(&b);
	cr_assert(worker_accept_defer(&a));
	cr_assert(!worker_accept_defer(&b));
	/* An eighth above the least loaded is within the slack. */
	a.fds_used = 90;
	b.fds_used = 80;
	worker_load_publish(&b);
	cr_assert(!worker_accept_defer(&a));
	a.fds_used = 91;
	cr_assert(worker_accept_defer(&a));
	/* A dead worker is not a reason to wait. */
	worker_set_up(&m, 1, false);
	cr_assert(!worker_accept_defer(&a));
	worker_map_free(&m);
}

Test(worker, says_which_workers_have_work, .init = setup, .timeout = 10)
{
	struct relay m = process(8, 0, true);

	/* A relay section: every worker. */
	for (unsigned k = 0; k < 8; k++)
		cr_assert(worker_has_work(&m, &conf, k));
	/* Without it: i0, i1, c0, connector i0 on workers 0 to 3 only. */
	relays[0].backend = CONF_BACKEND_INTEGRATED;
	relays[2].backend = CONF_BACKEND_INTEGRATED;
	strcpy(relays[0].name, "i2");
	strcpy(relays[2].name, "i3");
	cr_assert_eq(worker_map_init(&m, &conf), 0);
	for (unsigned k = 0; k < 8; k++)
		cr_assert_eq(worker_has_work(&m, &conf, k), k < 6, "worker %u",
		    k);
	worker_map_free(&m);
}
