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
struct stream;

/* Whether this process runs section @cr: a relay section in every worker,
 * a one-owner section in its owner; nothing in the master. */
bool	worker_serves(const struct relay *r, const struct conf_relay *cr);
/* The owner of a one-owner section; for a relay section the calling
 * worker (every worker owns it); 0 in a single process. */
unsigned worker_owner(const struct relay *r, const struct conf_relay *cr);
/* worker_serves() for a [connector] section. */
bool	worker_serves_connector(const struct relay *r,
	    const struct conf_connector *cc);
/* Whether this process holds the resources of one-owner section @cr (TUN,
 * keys, sockets): the master all, a worker its own. */
bool	worker_holds(const struct relay *r, const struct conf_relay *cr);
/* Whether this process accepts on listen address @addr: a section of
 * r->conf that lists it is served here. */
bool	worker_accepts(const struct relay *r,
	    const struct sockaddr_storage *addr);

/* At start, before any fork: numbers the one-owner sections of @c for
 * r->nworkers workers.  -1 (logged) on no memory. */
int	worker_map_init(struct relay *r, const struct conf *c);
void	worker_map_free(struct relay *r);

/*
 * A stream whose section (chosen by address, SNI or CONNECT) another
 * worker serves.  The stream has read its layers; st->hs holds the bytes
 * it kept, @rest..@n what followed in this read.  The stream is gone on
 * return (closed, or handed to its owner); -1 always.  The one place
 * where relay/handoff.c takes over such streams.
 */
int	worker_stream_foreign(struct stream *st, const uint8_t *rest,
	    size_t n);

#endif /* IKETCP_WORKER_H */
