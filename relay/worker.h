/*
 * Workers ([global] workers > 1; relay/README, "Processes"): which
 * process runs which section, and a worker's side of its channel to the
 * master (relay/master.c).
 *
 * [relay] sections run in every worker, on listening sockets that all
 * workers share.  Each [integrated] and each [connector] section has one
 * owner worker, which alone holds its TUN device, udp-listen sockets and
 * connector sockets: the one-owner sections are numbered at start,
 * [integrated] first, then [connector], each in the order of the file,
 * and the k-th belongs to worker k mod workers.  Reloads cannot add,
 * remove or rename such sections, so an owner never changes.
 */
#ifndef IKETCP_WORKER_H
#define IKETCP_WORKER_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_connector;
struct conf_relay;
struct relay;

/* Whether this process runs section @cr: a relay section in every worker,
 * a one-owner section in its owner; nothing in the master. */
bool	worker_serves(const struct relay *r, const struct conf_relay *cr);
/* The owner of a one-owner section; for a relay section the calling
 * worker (every worker owns it); 0 in a single process. */
unsigned worker_owner(const struct relay *r, const struct conf_relay *cr);
/* worker_serves() for a [connector] section. */
bool	worker_serves_connector(const struct relay *r,
	    const struct conf_connector *cc);
/* Whether worker @id has a section of @c to serve. */
bool	worker_has_work(const struct relay *r, const struct conf *c,
	    unsigned id);
/* Whether this process holds the resources of one-owner section @cr (TUN,
 * keys, sockets): the master all, a worker its own. */
bool	worker_holds(const struct relay *r, const struct conf_relay *cr);
/* Whether this process accepts on listen address @addr: a section of
 * r->conf that lists it is served here. */
bool	worker_accepts(const struct relay *r,
	    const struct sockaddr_storage *addr);

/* Whether every worker accepts on @addr (a [relay] section lists it). */
bool	worker_shares(const struct relay *r,
	    const struct sockaddr_storage *addr);

/* At start, before any fork: numbers the one-owner sections of @c for
 * r->nworkers workers.  -1 (logged) on no memory. */
int	worker_map_init(struct relay *r, const struct conf *c);
void	worker_map_free(struct relay *r);

/*
 * Accepting: every worker waits on the same listening sockets, and the
 * kernel wakes them all for a connection; the first to accept() has it.
 * So that one worker does not take them all while the others idle, a
 * worker holding more descriptors (streams, sessions) than the least
 * loaded serving worker plus an eighth steps back from the shared
 * listeners for a moment, once: worker_accept_defer() says when, from
 * loads in shared memory.
 */
bool	worker_accept_defer(struct relay *r);
/* This worker's load, for the others (every loop turn). */
void	worker_load_publish(struct relay *r);
/* Master: worker @id serves (or no longer does). */
void	worker_set_up(struct relay *r, unsigned id, bool up);

/*
 * The worker process (main.c's worker_body): worker_start() right after
 * the fork, as root: the channel to the master on @fd, handoff_start(),
 * and everything of sections this worker does not serve closed.  Then
 * main.c drops privileges and calls worker_dropped(); serving, it says
 * worker_ready() to the master; worker_stop() at its end.
 */
int	worker_start(struct relay *r, unsigned id, int fd, const char *path);
int	worker_dropped(struct relay *r);
void	worker_ready(struct relay *r);
void	worker_stop(struct relay *r);

#endif /* IKETCP_WORKER_H */
