/*
 * The master of workers ([global] workers > 1; relay/README,
 * "Processes").  It set up, as root, everything the workers serve
 * (main.c), and from then on only forks them, waits for them, restarts
 * one that dies, passes signals on, reloads the configuration for them
 * and answers the control socket from their answers.  It never reads a
 * byte from a client.
 */
#ifndef IKETCP_MASTER_H
#define IKETCP_MASTER_H

#include <stdbool.h>

struct ctl_req;
struct relay;

/* Runs worker @id in a child just forked, its channel to the master on
 * @fd; never returns. */
typedef void master_worker_fn(struct relay *r, unsigned id, int fd);

/*
 * Forks r->nworkers workers (each runs @body) and supervises them until
 * SIGTERM or SIGINT, then until they have ended; the exit status (0).
 * @path is the configuration file that reloads read.
 */
int	master_run(struct relay *r, const char *path, master_worker_fn *body);
/* control.h's control_async_fn: every request, answered by the workers. */
void	master_ctl(struct relay *r, const struct ctl_req *req, bool http,
	    unsigned long long ticket);

#endif /* IKETCP_MASTER_H */
