/*
 * Stub of the process model's section ownership (contracts.md B); the
 * `workers` branch replaces this file.  Integrated sections are owned in
 * turn by their order in the configuration.
 */
#include <stddef.h>

#include "conf/conf.h"
#include "relay/relay.h"
#include "relay/worker.h"

unsigned
worker_owner(const struct relay *r, const struct conf_relay *cr)
{
	unsigned k = 0;

	if (r->nworkers <= 1)
		return 0;
	for (size_t i = 0; i < r->conf->nrelays; i++) {
		if (&r->conf->relays[i] == cr)
			return k % r->nworkers;
		if (r->conf->relays[i].backend == CONF_BACKEND_INTEGRATED)
			k++;
	}
	return 0;
}

bool
worker_serves(const struct relay *r, const struct conf_relay *cr)
{
	return cr->backend == CONF_BACKEND_RELAY || r->nworkers <= 1 ||
	    worker_owner(r, cr) == r->worker_id;
}
