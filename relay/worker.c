/*
 * relay/worker.c: which process runs which section (worker.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/stream.h"
#include "relay/worker.h"

/* The one-owner sections at start, in their numbering. */
struct worker_map {
	size_t		 n;
	struct {
		bool	 connector;		/* else [integrated] */
		char	 name[CONF_NAME_MAX];
	}		*sec;
};

int
worker_map_init(struct relay *r, const struct conf *c)
{
	struct worker_map *m;
	size_t k = 0;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->sec = calloc(c->nrelays + c->nconnectors + 1,
	    sizeof(*m->sec))) == NULL) {
		log_warn("workers");
		free(m);
		return -1;
	}
	for (size_t i = 0; i < c->nrelays; i++) {
		if (c->relays[i].backend != CONF_BACKEND_INTEGRATED)
			continue;
		snprintf(m->sec[k].name, sizeof(m->sec[k].name), "%s",
		    c->relays[i].name);
		k++;
	}
	for (size_t i = 0; i < c->nconnectors; i++) {
		m->sec[k].connector = true;
		snprintf(m->sec[k].name, sizeof(m->sec[k].name), "%s",
		    c->connectors[i].name);
		k++;
	}
	m->n = k;
	worker_map_free(r);
	r->wmap = m;
	return 0;
}

void
worker_map_free(struct relay *r)
{
	if (r->wmap == NULL)
		return;
	free(r->wmap->sec);
	free(r->wmap);
	r->wmap = NULL;
}

static unsigned
nworkers(const struct relay *r)
{
	return r->nworkers > 1 ? r->nworkers : 1;
}

/* The owner of one-owner section @name; a section unknown at start (a
 * reload that adds one is refused) goes to worker 0. */
static unsigned
owner_of(const struct relay *r, bool connector, const char *name)
{
	const struct worker_map *m = r->wmap;

	for (size_t k = 0; m != NULL && k < m->n; k++)
		if (m->sec[k].connector == connector &&
		    strcmp(m->sec[k].name, name) == 0)
			return (unsigned)(k % nworkers(r));
	return 0;
}

unsigned
worker_owner(const struct relay *r, const struct conf_relay *cr)
{
	if (nworkers(r) == 1)
		return 0;
	if (cr->backend != CONF_BACKEND_INTEGRATED)
		return r->worker_id;
	return owner_of(r, false, cr->name);
}

bool
worker_serves(const struct relay *r, const struct conf_relay *cr)
{
	if (r->master)
		return false;
	if (nworkers(r) == 1 || cr->backend != CONF_BACKEND_INTEGRATED)
		return true;
	return owner_of(r, false, cr->name) == r->worker_id;
}

bool
worker_serves_connector(const struct relay *r,
    const struct conf_connector *cc)
{
	if (r->master)
		return false;
	return nworkers(r) == 1 || owner_of(r, true, cc->name) ==
	    r->worker_id;
}

bool
worker_holds(const struct relay *r, const struct conf_relay *cr)
{
	return r->master || worker_serves(r, cr);
}

bool
worker_accepts(const struct relay *r, const struct sockaddr_storage *addr)
{
	const struct conf *c = r->conf;

	for (size_t i = 0; c != NULL && i < c->nrelays; i++)
		if (conf_relay_listens(&c->relays[i], addr, NULL) &&
		    worker_serves(r, &c->relays[i]))
			return true;
	return false;
}

int
worker_stream_foreign(struct stream *st, const uint8_t *rest, size_t n)
{
	(void)rest;
	(void)n;
	st->r->stats.layer_refused++;
	log_peer(LOG_LEVEL_INFO, "stream %llu from %s: [%s %s] is served by "
	    "worker %u, not by this one (%u); closed", st->id, st->peer_text,
	    conf_relay_kind(st->cr), st->cr->name,
	    worker_owner(st->r, st->cr), st->r->worker_id);
	stream_close(st, "section served by another worker");
	return -1;
}
