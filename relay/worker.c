/*
 * relay/worker.c: which process runs which section (worker.h).
 */
#include <sys/mman.h>
#include <sys/prctl.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "conf/conf.h"
#include "conf/fileset.h"
#include "framing/wire.h"
#include "relay/chan.h"
#include "relay/connector.h"
#include "relay/control.h"
#include "relay/ctlreq.h"
#include "relay/handoff.h"
#include "relay/integrated.h"
#include "relay/log.h"
#include "relay/obuf.h"
#include "relay/relay.h"
#include "relay/reload.h"
#include "relay/report.h"
#include "relay/udpfront.h"
#include "relay/worker.h"

/* What every worker publishes for the others: shared memory, made
 * before the first fork. */
struct worker_load {
	_Atomic unsigned long	 fds;	/* descriptors its streams and
					   sessions hold (r->fds_used) */
	_Atomic int		 up;	/* serving (set by the master) */
};

static unsigned
nworkers(const struct relay *r)
{
	return r->nworkers > 1 ? r->nworkers : 1;
}

/* The one-owner sections at start, in their numbering. */
struct worker_map {
	size_t		 n;
	struct {
		bool	 connector;		/* else [integrated] */
		char	 name[CONF_NAME_MAX];
	}		*sec;
	struct worker_load *load;		/* nworkers of them, shared */
	size_t		 load_len;		/* octets mapped */
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
	if (nworkers(r) > 1) {
		m->load_len = nworkers(r) * sizeof(*m->load);
		m->load = mmap(NULL, m->load_len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m->load == MAP_FAILED) {
			log_warn("workers: shared memory");
			free(m->sec);
			free(m);
			return -1;
		}
	}
	worker_map_free(r);
	r->wmap = m;
	return 0;
}

void
worker_map_free(struct relay *r)
{
	if (r->wmap == NULL)
		return;
	if (r->wmap->load != NULL)
		(void)munmap(r->wmap->load, r->wmap->load_len);
	free(r->wmap->sec);
	free(r->wmap);
	r->wmap = NULL;
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
worker_has_work(const struct relay *r, const struct conf *c, unsigned id)
{
	for (size_t i = 0; i < c->nrelays; i++)
		if (c->relays[i].backend != CONF_BACKEND_INTEGRATED ||
		    owner_of(r, false, c->relays[i].name) == id)
			return true;
	for (size_t i = 0; i < c->nconnectors; i++)
		if (owner_of(r, true, c->connectors[i].name) == id)
			return true;
	return false;
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

bool
worker_shares(const struct relay *r, const struct sockaddr_storage *addr)
{
	const struct conf *c = r->conf;

	if (nworkers(r) == 1)
		return false;
	for (size_t i = 0; c != NULL && i < c->nrelays; i++)
		if (c->relays[i].backend != CONF_BACKEND_INTEGRATED &&
		    conf_relay_listens(&c->relays[i], addr, NULL))
			return true;
	return false;
}

void
worker_set_up(struct relay *r, unsigned id, bool up)
{
	if (r->wmap != NULL && r->wmap->load != NULL && id < nworkers(r)) {
		atomic_store_explicit(&r->wmap->load[id].up, up,
		    memory_order_relaxed);
		if (!up)
			atomic_store_explicit(&r->wmap->load[id].fds, 0,
			    memory_order_relaxed);
	}
}

void
worker_load_publish(struct relay *r)
{
	if (r->wmap != NULL && r->wmap->load != NULL && !r->master)
		atomic_store_explicit(&r->wmap->load[r->worker_id].fds,
		    r->fds_used, memory_order_relaxed);
}

bool
worker_accept_defer(struct relay *r)
{
	const struct worker_load *ld;
	unsigned long mine = r->fds_used, least = mine;

	if (r->wmap == NULL || (ld = r->wmap->load) == NULL || r->master)
		return false;
	worker_load_publish(r);
	for (unsigned k = 0; k < nworkers(r); k++) {
		unsigned long v;

		if (k == r->worker_id || !atomic_load_explicit(&ld[k].up,
		    memory_order_relaxed))
			continue;
		v = atomic_load_explicit(&ld[k].fds, memory_order_relaxed);
		if (v < least)
			least = v;
	}
	return mine > least + least / 8;
}

/* --- the worker process ------------------------------------------------ */

/* A worker's side of its channel (struct relay's wchan). */
struct wchan {
	struct chan	*ch;
	const char	*path;		/* the configuration file */
	pid_t		 master;	/* the master's pid */
	struct conf	*next;		/* prepared by CHAN_RELOAD */
	uint64_t	 next_ticket;	/* ... for that reload */
};

/* The udp-listen sockets of another worker's sections go. */
static void
udp_keep_served(struct relay *r)
{
	struct udpfront_sock **pp = &r->udp_socks;

	while (*pp != NULL) {
		struct udpfront_sock *us = *pp;
		const struct conf_relay *cr = conf_relay_named(r->conf,
		    us->section);

		if (cr != NULL && worker_serves(r, cr)) {
			pp = &us->next;
			continue;
		}
		*pp = us->next;
		ev_io_stop(r->loop, &us->io);
		close(us->fd);
		free(us);
	}
}

/* A control request from the master: answered as the control socket of a
 * single process would, but list --json in three parts (master.c joins
 * every worker's) and stats as text (master.c sums them). */
static void
ctl_answer(struct relay *r, uint64_t ticket, const uint8_t *p, size_t n)
{
	struct ctl_req req;
	struct obuf o;
	struct rd rd = rd_make(p, n);
	uint8_t cmd, json;
	uint64_t id;

	memset(&req, 0, sizeof(req));
	obuf_init(&o, CTL_ANSWER_MAX);
	if (n != CHAN_CTL_LEN || !rd_u8(&rd, &cmd) || !rd_u8(&rd, &json) ||
	    !rd_be64(&rd, &id) || cmd > CTL_TERMINATE)
		obuf_printf(&o, "ERR bad request from the master\n");
	else {
		req.cmd = (enum ctl_cmd)cmd;
		req.json = json != 0;
		req.id = id;
		if (req.cmd == CTL_LIST && req.json) {
			obuf_printf(&o, "OK\n");
			report_list_parts(&o, r);
		} else {
			if (req.cmd == CTL_STATS)
				req.json = false;
			control_run_local(r, &req, &o);
		}
	}
	if (o.over) {
		obuf_reset(&o);
		obuf_printf(&o, "ERR answer larger than %d octets\n",
		    CTL_ANSWER_MAX);
	}
	if (chan_send_long(r->wchan->ch, CHAN_CTL_ANSWER, ticket, o.p, o.len)
	    == -1)
		log_warnx("control answer to the master: channel full");
	obuf_cleanup(&o);
}

/*
 * The master read and checked the new configuration as root; here the
 * same steps run on the bytes it read (@fds[0], the file set: this
 * process never opens a configuration path) and with the listening
 * sockets it bound (@fds[1..]), then wait for its word.
 */
static void
reload_prepare_worker(struct relay *r, uint64_t ticket, int *fds,
    size_t nfds)
{
	struct wchan *wc = r->wchan;
	struct fs_set *set = NULL;
	uint8_t failed = 1;

	if (wc->next != NULL) {
		reload_abort(r, wc->next);
		wc->next = NULL;
	}
	if (nfds >= 1 && (set = fs_set_import(fds[0])) == NULL)
		log_warn("reload: the master's file set");
	if (set != NULL) {
		fs_use(set);
		r->adopt_fds = fds + 1;
		r->nadopt = nfds - 1;
		wc->next = reload_prepare(r, wc->path);
		r->adopt_fds = NULL;
		r->nadopt = 0;
		failed = wc->next == NULL;
	}
	for (size_t i = 0; i < nfds; i++)
		if (fds[i] != -1)
			close(fds[i]);
	wc->next_ticket = ticket;
	if (chan_send(wc->ch, CHAN_RELOAD_ANSWER, 0, ticket, &failed, 1,
	    NULL, 0) == -1)
		log_warnx("reload answer to the master: channel full");
}

static void
reload_finish_worker(struct relay *r, uint64_t ticket, bool commit)
{
	struct wchan *wc = r->wchan;

	if (wc->next == NULL || ticket != wc->next_ticket)
		return;
	if (commit) {
		reload_commit(r, wc->next);
		log_debug("%s: reloaded %s", __func__, wc->path);
		/* run() picks up a changed busy-poll on its next turn. */
		ev_break(r->loop, EVBREAK_ALL);
	} else
		reload_abort(r, wc->next);
	wc->next = NULL;
}

/* What the master sends. */
static void
worker_msg_cb(void *arg, enum chan_type type, uint32_t flags,
    uint64_t ticket, const uint8_t *p, size_t n, int *fds, size_t nfds)
{
	struct relay *r = arg;

	if (type != CHAN_RELOAD)
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
	switch (type) {
	case CHAN_GONE:
		/* A master that died sent SIGTERM by PR_SET_PDEATHSIG
		 * already; one that lives and closed the channel wants this
		 * worker gone too.  Either way: as on SIGTERM (main.c). */
		log_warnx("the channel to the master is closed: exiting");
		if (getppid() == r->wchan->master)
			(void)kill(getpid(), SIGTERM);
		break;
	case CHAN_CTL:
		ctl_answer(r, ticket, p, n);
		break;
	case CHAN_RELOAD:
		reload_prepare_worker(r, ticket, fds, nfds);
		break;
	case CHAN_COMMIT:
	case CHAN_ABORT:
		reload_finish_worker(r, ticket, type == CHAN_COMMIT);
		break;
	default:
		log_warnx("%s: unexpected message %d from the master",
		    __func__, (int)type);
		break;
	}
}

int
worker_start(struct relay *r, unsigned id, int fd, const char *path)
{
	struct wchan *wc;

	r->master = false;
	r->worker_id = id;
	log_set_worker((int)id);
	/* A terminal's ^C reaches the master, which passes SIGTERM on:
	 * not two signals (the second would skip the Delete grace). */
	(void)setpgid(0, 0);
	ev_loop_fork(r->loop);
	if ((wc = calloc(1, sizeof(*wc))) == NULL) {
		log_warn("worker");
		close(fd);
		return -1;
	}
	wc->path = path;
	wc->master = getppid();
	r->wchan = wc;
	if ((wc->ch = chan_new(r->loop, fd, worker_msg_cb, r)) == NULL)
		return -1;
	if (handoff_start(r, id) == -1)
		return -1;
	integ_close_unserved(r);
	udp_keep_served(r);
	connector_close_unserved(r);
	listener_commit(r);
	return 0;
}

int
worker_dropped(struct relay *r)
{
	/* After the drop (a change of user clears it): the master's death
	 * ends this worker, also if the channel's end were missed. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1) {
		log_warn("PR_SET_PDEATHSIG");
		return -1;
	}
	if (getppid() != r->wchan->master) {
		log_warnx("the master is gone before the worker started");
		return -1;
	}
	/* Nothing is read from a configuration path from now on: reloads
	 * bring the bytes (fileset.h). */
	fs_record_begin();
	fs_use(fs_record_end());
	return 0;
}

void
worker_ready(struct relay *r)
{
	log_info("serving (pid %d)", (int)getpid());
	if (chan_send(r->wchan->ch, CHAN_READY, 0, 0, NULL, 0, NULL, 0) == -1)
		log_warnx("cannot tell the master that this worker is ready");
}

void
worker_stop(struct relay *r)
{
	struct wchan *wc = r->wchan;

	if (wc == NULL)
		return;
	if (wc->next != NULL)
		reload_abort(r, wc->next);
	chan_free(wc->ch);
	free(wc);
	r->wchan = NULL;
	fs_use(NULL);
}
