/*
 * relay/handoff.c: the stub of handoff.h.  Until streams are handed
 * between workers, a stream routed to a section another worker serves is
 * closed by worker_stream_foreign() (relay/worker.c).
 */
#include "relay/handoff.h"

int
handoff_setup(struct relay *r, unsigned nworkers)
{
	(void)r;
	(void)nworkers;
	return 0;
}

int
handoff_start(struct relay *r, unsigned id)
{
	(void)r;
	(void)id;
	return 0;
}

void
handoff_gone(struct relay *r, unsigned id)
{
	(void)r;
	(void)id;
}
