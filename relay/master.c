/*
 * relay/master.c: the master of workers (master.h).
 *
 * Its loop is the default one: a child's end (ev_child), the signals,
 * each worker's channel (relay/chan.h), the control socket
 * (relay/control.c, answered through master_ctl) and a few timers.  What
 * the workers run was set up on a loop of its own (main.c), which the
 * master never runs.
 *
 * Restarts: a worker that dies is logged and forked again from the
 * master's state (the running configuration, the same sockets, TUN
 * devices and keys) after RESTART_MIN_MS, doubling up to RESTART_MAX_MS
 * while it keeps dying within RESTART_STABLE_S of its start, so that a
 * crash loop does not spin.  The other workers are not touched.
 *
 * Reload: the master reads and checks everything as root, binding new
 * ports, while fileset.h records what it read; each worker gets the
 * recorded bytes and the new listening sockets, prepares the same way
 * and answers; only when every worker prepared does every process take
 * the new configuration (CHAN_COMMIT), else every one drops it
 * (CHAN_ABORT) and the log says why.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "conf/conf.h"
#include "conf/fileset.h"
#include "framing/wire.h"
#include "relay/chan.h"
#include "relay/control.h"
#include "relay/ctlmerge.h"
#include "relay/ctlreq.h"
#include "relay/handoff.h"
#include "relay/log.h"
#include "relay/master.h"
#include "relay/metrics.h"
#include "relay/notify.h"
#include "relay/obuf.h"
#include "relay/relay.h"
#include "relay/reload.h"
#include "relay/worker.h"

enum {
	STOP_WAIT_MS = 2000,	/* workers' end after SIGTERM, then SIGKILL */
	RESTART_MIN_MS = 100,	/* first restart of a dead worker */
	RESTART_MAX_MS = 10000,	/* longest wait of one that keeps dying */
	RESTART_STABLE_S = 30,	/* ran this long: the next wait is short */
	FANOUT_WAIT_S = 5,	/* a control answer from the workers */
	RELOAD_WAIT_S = 10,	/* their answers to a reload */
};

enum wreload {
	WR_NONE,		/* not in the reload running */
	WR_WAIT,		/* asked, no answer yet */
	WR_OK,			/* prepared */
	WR_FAILED,		/* failed, or could not be asked */
};

struct wproc {
	struct workers	*ws;
	unsigned	 id;
	pid_t		 pid;		/* 0: not running */
	struct chan	*ch;
	bool		 ready;		/* said CHAN_READY */
	ev_child	 child;
	ev_timer	 restart;	/* armed while it waits for a fork */
	ev_tstamp	 started;
	unsigned	 backoff_ms;	/* the last wait */
	unsigned long long restarts;
	enum wreload	 rl;
};

/* A control request out to every worker. */
struct fanout {
	struct fanout	*next;
	struct workers	*ws;
	unsigned long long ticket;	/* control.c's */
	uint64_t	 id;		/* on the channels */
	struct ctl_req	 req;
	bool		 http;
	unsigned	 waiting;	/* answers to come */
	struct obuf	*ans;		/* one per worker */
	bool		*asked, *done;
	long		*pid;
	ev_timer	 timer;
};

struct workers {
	struct relay	*r;
	const char	*path;
	master_worker_fn *body;
	unsigned	 n;
	struct wproc	*w;
	ev_signal	 s_term, s_int, s_hup, s_usr1;
	ev_timer	 stop;		/* the bounded wait at the end */
	bool		 stopping;
	bool		 notified;	/* READY=1 sent */
	uint64_t	 next_id;	/* of requests on the channels */
	struct fanout	*fanouts;
	/* The reload in progress: its prepared conf, or NULL. */
	struct conf	*rl_conf;
	uint64_t	 rl_id;
	ev_timer	 rl_timer;
	unsigned long long rl_ticket;	/* control's; 0: SIGHUP */
	bool		 rl_json;
};

static void	spawn(struct wproc *w);
static void	fanout_worker_gone(struct workers *ws, unsigned id);
static void	reload_check(struct workers *ws);

/*
 * The master keeps root's user id, but with user set only the
 * capabilities it still needs: CAP_NET_BIND_SERVICE (ports below 1024
 * that a reload adds), CAP_DAC_READ_SEARCH (keys and secrets files that
 * are not root's), CAP_SETUID and CAP_SETGID (a restarted worker drops
 * to the user), CAP_KILL (signals to the workers, which run as the
 * user).
 */
static void
caps_limit(const struct conf *c)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	const unsigned keep[] = { CAP_NET_BIND_SERVICE, CAP_DAC_READ_SEARCH,
	    CAP_SETUID, CAP_SETGID, CAP_KILL };

	if (c->user[0] == '\0' || geteuid() != 0)
		return;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		d[keep[i] / 32].permitted |= 1u << (keep[i] % 32);
	d[0].effective = d[0].permitted;
	d[1].effective = d[1].permitted;
	if (syscall(SYS_capset, &h, d) == -1)
		log_warn("master: limiting its capabilities");
	else
		log_info("master: keeps CAP_NET_BIND_SERVICE, "
		    "CAP_DAC_READ_SEARCH, CAP_SETUID, CAP_SETGID and CAP_KILL");
}

/* Workers drop to user and group: checked once here, as root, rather
 * than by each worker failing in turn. */
static int
user_check(const struct conf *c)
{
	if (c->user[0] != '\0' && getpwnam(c->user) == NULL) {
		log_warnx("unknown user %s", c->user);
		return -1;
	}
	if (c->group[0] != '\0' && getgrnam(c->group) == NULL) {
		log_warnx("unknown group %s", c->group);
		return -1;
	}
	return 0;
}

static unsigned
live(const struct workers *ws)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ws->n; i++)
		if (ws->w[i].pid != 0)
			n++;
	return n;
}

/* --- control ----------------------------------------------------------- */

/* Frees @f, out of the list already. */
static void
fanout_release(struct fanout *f, bool loop)
{
	if (loop)
		ev_timer_stop(EV_DEFAULT_ &f->timer);
	for (unsigned i = 0; f->ans != NULL && i < f->ws->n; i++)
		obuf_cleanup(&f->ans[i]);
	free(f->ans);
	free(f->asked);
	free(f->done);
	free(f->pid);
	free(f);
}

static void
fanout_free(struct fanout *f)
{
	struct fanout **pp;

	for (pp = &f->ws->fanouts; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	fanout_release(f, true);
}

/* Master-side families of the metrics: the workers themselves, and the
 * control counters (the control socket is the master's). */
static void
metrics_master(struct obuf *o, const struct workers *ws)
{
	const struct relay *r = ws->r;
	char id[16];

	metrics_family(o, "iketcp_workers", METRICS_GAUGE, "Worker "
	    "processes configured ([global] workers).");
	metrics_sample(o, "iketcp_workers", ws->n, NULL);
	metrics_family(o, "iketcp_worker_up", METRICS_GAUGE, "Whether the "
	    "worker is running and serving.");
	for (unsigned i = 0; i < ws->n; i++) {
		snprintf(id, sizeof(id), "%u", i);
		metrics_sample(o, "iketcp_worker_up", ws->w[i].pid != 0 &&
		    ws->w[i].ready, "worker", id, NULL);
	}
	metrics_family(o, "iketcp_worker_restarts_total", METRICS_COUNTER,
	    "Workers forked again after they died.");
	for (unsigned i = 0; i < ws->n; i++) {
		snprintf(id, sizeof(id), "%u", i);
		metrics_sample(o, "iketcp_worker_restarts_total",
		    ws->w[i].restarts, "worker", id, NULL);
	}
	metrics_family(o, "iketcp_control_refused_total", METRICS_COUNTER,
	    "Control clients refused: too many at once.");
	metrics_sample(o, "iketcp_control_refused_total",
	    r->stats.ctl_refused, NULL);
	metrics_family(o, "iketcp_control_bad_requests_total",
	    METRICS_COUNTER, "Control requests that did not parse.");
	metrics_sample(o, "iketcp_control_bad_requests_total",
	    r->stats.ctl_bad, NULL);
}

/* Every answer is in (or the wait is over): the merged one to control. */
static void
fanout_finish(struct fanout *f)
{
	struct workers *ws = f->ws;
	struct ctl_part *parts;
	struct obuf o;
	size_t n = 0, oklen = 0;
	const char *okans = NULL;

	obuf_init(&o, CTL_ANSWER_MAX);
	if ((parts = calloc(ws->n, sizeof(*parts))) == NULL) {
		control_answer(ws->r, f->ticket, NULL, 0);
		fanout_free(f);
		return;
	}
	for (unsigned i = 0; i < ws->n; i++) {
		const struct obuf *a = &f->ans[i];

		if (!f->asked[i])
			continue;
		parts[n].worker = i;
		parts[n].pid = f->pid[i];
		if (f->done[i] && !a->over && a->len >= 3 &&
		    memcmp(a->p, "OK\n", 3) == 0) {
			parts[n].p = a->p + 3;
			parts[n].n = a->len - 3;
			if (okans == NULL) {
				okans = a->p;
				oklen = a->len;
			}
		}
		if (parts[n].p == NULL)
			log_warnx("control: worker %u (pid %ld) %s", i,
			    f->pid[i], f->done[i] ? "answered with an error" :
			    "did not answer");
		n++;
	}
	if (!f->http)
		obuf_printf(&o, "OK\n");
	switch (f->req.cmd) {
	case CTL_LIST:
		ctlmerge_list(&o, parts, n, f->req.json);
		break;
	case CTL_STATS: {
		unsigned long long restarts = 0;
		struct ctl_stat extra[4];

		for (unsigned i = 0; i < ws->n; i++)
			restarts += ws->w[i].restarts;
		extra[0] = (struct ctl_stat){ "ctl_refused",
		    ws->r->stats.ctl_refused };
		extra[1] = (struct ctl_stat){ "ctl_bad", ws->r->stats.ctl_bad };
		extra[2] = (struct ctl_stat){ "workers", ws->n };
		extra[3] = (struct ctl_stat){ "worker_restarts", restarts };
		ctlmerge_stats(&o, parts, n, extra, 4, f->req.json);
		break;
	}
	case CTL_METRICS:
		ctlmerge_metrics(&o, parts, n);
		metrics_master(&o, ws);
		break;
	case CTL_TERMINATE:
		/* The session is one worker's: its answer, else "none". */
		obuf_reset(&o);
		if (okans != NULL)
			obuf_append(&o, okans, oklen);
		else
			obuf_printf(&o, "ERR no session %llu\n", f->req.id);
		break;
	case CTL_RELOAD:
		break;
	}
	if (o.over) {
		obuf_reset(&o);
		if (!f->http)
			obuf_printf(&o, "ERR answer larger than %d octets\n",
			    CTL_ANSWER_MAX);
	}
	control_answer(ws->r, f->ticket, o.over && f->http ? NULL :
	    o.p != NULL ? o.p : "", o.len);
	obuf_cleanup(&o);
	free(parts);
	fanout_free(f);
}

static void
fanout_timer_cb(EV_P_ ev_timer *w, int revents)
{
	fanout_finish(container_of(w, struct fanout, timer));
}

/* A part of worker @id's answer to request @rid. */
static void
fanout_answer(struct workers *ws, unsigned id, uint64_t rid, uint32_t flags,
    const uint8_t *p, size_t n)
{
	struct fanout *f;

	for (f = ws->fanouts; f != NULL && f->id != rid; f = f->next)
		;
	if (f == NULL || !f->asked[id] || f->done[id])
		return;
	obuf_append(&f->ans[id], p, n);
	if ((flags & CHAN_F_LAST) == 0 && !f->ans[id].over)
		return;
	f->done[id] = true;
	if (--f->waiting == 0)
		fanout_finish(f);
}

static void
fanout_worker_gone(struct workers *ws, unsigned id)
{
	struct fanout *f, *next;

	for (f = ws->fanouts; f != NULL; f = next) {
		next = f->next;
		if (!f->asked[id] || f->done[id])
			continue;
		f->done[id] = true;
		obuf_reset(&f->ans[id]);
		if (--f->waiting == 0)
			fanout_finish(f);
	}
}

/* Reload asked on the control socket: answered when it is decided. */
static void	reload_start(struct workers *ws, unsigned long long ticket,
		    bool json);

void
master_ctl(struct relay *r, const struct ctl_req *req, bool http,
    unsigned long long ticket)
{
	struct workers *ws = r->workers;
	struct fanout *f;
	uint8_t msg[CHAN_CTL_LEN];
	struct wr w = wr_make(msg, sizeof(msg));

	if (req->cmd == CTL_RELOAD) {
		reload_start(ws, ticket, req->json);
		return;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->ans = calloc(ws->n, sizeof(*f->ans))) == NULL ||
	    (f->asked = calloc(ws->n, sizeof(bool))) == NULL ||
	    (f->done = calloc(ws->n, sizeof(bool))) == NULL ||
	    (f->pid = calloc(ws->n, sizeof(long))) == NULL) {
		if (f != NULL) {
			free(f->ans);
			free(f->asked);
			free(f->done);
			free(f);
		}
		log_warn("control");
		control_answer(r, ticket, http ? NULL : "ERR out of memory\n",
		    http ? 0 : 18);
		return;
	}
	f->ws = ws;
	f->ticket = ticket;
	f->id = ++ws->next_id;
	f->req = *req;
	f->http = http;
	f->next = ws->fanouts;
	ws->fanouts = f;
	ev_timer_init(&f->timer, fanout_timer_cb, FANOUT_WAIT_S, 0.);
	ev_timer_start(EV_DEFAULT_ &f->timer);
	(void)wr_u8(&w, (uint8_t)req->cmd);
	(void)wr_u8(&w, req->json);
	(void)wr_be64(&w, req->id);
	for (unsigned i = 0; i < ws->n; i++) {
		struct wproc *wp = &ws->w[i];

		obuf_init(&f->ans[i], CTL_ANSWER_MAX);
		if (wp->pid == 0)
			continue;
		f->asked[i] = true;
		f->pid[i] = (long)wp->pid;
		if (wp->ch != NULL && chan_send(wp->ch, CHAN_CTL, 0, f->id, msg,
		    sizeof(msg), NULL, 0) == 0)
			f->waiting++;
		else
			f->done[i] = true;
	}
	if (f->waiting == 0)
		fanout_finish(f);
}

/* --- reload ------------------------------------------------------------- */

static void
reload_answer(struct workers *ws, bool ok)
{
	char buf[96];

	if (ws->rl_ticket == 0)
		return;
	if (!ok)
		snprintf(buf, sizeof(buf), "ERR reload failed; the running "
		    "configuration stays (see the log)\n");
	else if (ws->rl_json)
		snprintf(buf, sizeof(buf), "OK\n{\"reloaded\":true}\n");
	else
		snprintf(buf, sizeof(buf), "OK\nreloaded\n");
	control_answer(ws->r, ws->rl_ticket, buf, strlen(buf));
	ws->rl_ticket = 0;
}

/*
 * SIGHUP or iketcpctl reload (@ticket, 0 for SIGHUP): read and check all
 * of the configuration here, as root, and send each worker what it needs
 * to do the same without privileges.
 */
static void
reload_start(struct workers *ws, unsigned long long ticket, bool json)
{
	struct relay *r = ws->r;
	int fds[CHAN_FDS_MAX];
	struct fs_set *set;
	struct conf *c;
	size_t nfds = 0;
	int mfd;

	if (ws->rl_conf != NULL) {
		log_warnx("reload of %s refused: another one is in progress",
		    ws->path);
		if (ticket != 0)
			control_answer(r, ticket, "ERR a reload is in "
			    "progress\n", 26);
		return;
	}
	ws->rl_ticket = ticket;
	ws->rl_json = json;
	fs_record_begin();
	c = reload_prepare(r, ws->path);
	set = fs_record_end();
	if (c == NULL) {
		fs_set_free(set);
		log_warnx("reload of %s failed; keeping the running "
		    "configuration", ws->path);
		reload_answer(ws, false);
		return;
	}
	mfd = set != NULL ? fs_set_export(set) : -1;
	fs_set_free(set);
	if (mfd == -1) {
		log_warn("reload of %s failed: the files read cannot be "
		    "passed on", ws->path);
		reload_abort(r, c);
		reload_answer(ws, false);
		return;
	}
	fds[nfds++] = mfd;
	for (struct listener *l = r->listeners; l != NULL; l = l->next)
		if (l->fresh && nfds < CHAN_FDS_MAX)
			fds[nfds++] = l->fd;
		else if (l->fresh) {
			log_warnx("reload of %s failed: more than %d new "
			    "listen addresses at once", ws->path,
			    CHAN_FDS_MAX - 1);
			close(mfd);
			reload_abort(r, c);
			reload_answer(ws, false);
			return;
		}
	if (conf_workers(c) != ws->n)
		log_warnx("%s:%u: workers is read at start only; %u workers "
		    "keep running", conf_loc_file(c, c->workers_line),
		    CONF_LOC_LINE(c->workers_line), ws->n);
	ws->rl_conf = c;
	ws->rl_id = ++ws->next_id;
	for (unsigned i = 0; i < ws->n; i++) {
		struct wproc *w = &ws->w[i];

		w->rl = WR_NONE;
		if (w->pid == 0)
			continue;
		if (w->ch != NULL && chan_send(w->ch, CHAN_RELOAD, 0,
		    ws->rl_id, NULL, 0, fds, nfds) == 0)
			w->rl = WR_WAIT;
		else {
			log_warnx("reload: worker %u (pid %d) cannot be asked",
			    i, (int)w->pid);
			w->rl = WR_FAILED;
		}
	}
	close(mfd);
	ev_timer_set(&ws->rl_timer, RELOAD_WAIT_S, 0.);
	ev_timer_start(EV_DEFAULT_ &ws->rl_timer);
	reload_check(ws);
}

/* Every worker answered (or died, or the wait is over): decide. */
static void
reload_check(struct workers *ws)
{
	struct relay *r = ws->r;
	struct conf *c = ws->rl_conf;
	unsigned failed = 0;
	char who[128] = "";

	if (c == NULL)
		return;
	for (unsigned i = 0; i < ws->n; i++) {
		if (ws->w[i].rl == WR_WAIT)
			return;
		if (ws->w[i].rl == WR_FAILED) {
			size_t k = strlen(who);

			snprintf(who + k, sizeof(who) - k, "%s%u",
			    failed++ == 0 ? "" : ", ", i);
		}
	}
	ev_timer_stop(EV_DEFAULT_ &ws->rl_timer);
	ws->rl_conf = NULL;
	for (unsigned i = 0; i < ws->n; i++) {
		struct wproc *w = &ws->w[i];

		if (w->rl != WR_NONE && w->ch != NULL)
			(void)chan_send(w->ch, failed == 0 && !ws->stopping ?
			    CHAN_COMMIT : CHAN_ABORT, 0, ws->rl_id, NULL, 0,
			    NULL, 0);
		w->rl = WR_NONE;
	}
	if (ws->stopping) {
		reload_abort(r, c);
		log_info("reload of %s dropped: stopping", ws->path);
		reload_answer(ws, false);
	} else if (failed > 0) {
		reload_abort(r, c);
		log_warnx("reload of %s failed in worker%s %s; keeping the "
		    "running configuration", ws->path, failed == 1 ? "" : "s",
		    who);
		reload_answer(ws, false);
	} else {
		reload_commit(r, c);
		log_info("reloaded %s", ws->path);
		if (r->connectors != NULL || c->nconnectors > 0)
			log_warnx("[connector] sections are read at start "
			    "only; running connectors keep their "
			    "configuration");
		reload_answer(ws, true);
	}
	/* Restarts held back while the reload ran. */
	for (unsigned i = 0; i < ws->n; i++)
		if (ws->w[i].pid == 0 && !ws->stopping &&
		    !ev_is_active(&ws->w[i].restart))
			spawn(&ws->w[i]);
}

static void
reload_timer_cb(EV_P_ ev_timer *t, int revents)
{
	struct workers *ws = container_of(t, struct workers, rl_timer);

	for (unsigned i = 0; i < ws->n; i++)
		if (ws->w[i].rl == WR_WAIT) {
			log_warnx("reload: worker %u (pid %d) did not answer "
			    "in %d s", i, (int)ws->w[i].pid, RELOAD_WAIT_S);
			ws->w[i].rl = WR_FAILED;
		}
	reload_check(ws);
}

/* --- workers ------------------------------------------------------------ */

/* What worker @arg sends. */
static void
master_msg_cb(void *arg, enum chan_type type, uint32_t flags,
    uint64_t ticket, const uint8_t *p, size_t n, int *fds, size_t nfds)
{
	struct wproc *w = arg;
	struct workers *ws = w->ws;

	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	switch (type) {
	case CHAN_GONE:
		/* Its end comes by SIGCHLD (child_cb). */
		chan_free(w->ch);
		w->ch = NULL;
		break;
	case CHAN_READY:
		if (w->ready)
			break;
		w->ready = true;
		worker_set_up(ws->r, w->id, true);
		if (!ws->notified) {
			for (unsigned i = 0; i < ws->n; i++)
				if (!ws->w[i].ready)
					return;
			ws->notified = true;
			log_info("iketcpd %s started with %u workers",
			    IKETCP_VERSION, ws->n);
			(void)notify_ready();
		}
		break;
	case CHAN_CTL_ANSWER:
		fanout_answer(ws, w->id, ticket, flags, p, n);
		break;
	case CHAN_RELOAD_ANSWER:
		if (ws->rl_conf == NULL || ticket != ws->rl_id ||
		    w->rl != WR_WAIT)
			break;
		w->rl = n == 1 && p[0] == 0 ? WR_OK : WR_FAILED;
		if (w->rl == WR_FAILED)
			log_warnx("reload: worker %u (pid %d) could not "
			    "prepare it (see its lines above)", w->id,
			    (int)w->pid);
		reload_check(ws);
		break;
	default:
		log_warnx("worker %u (pid %d): unexpected message %d", w->id,
		    (int)w->pid, (int)type);
		break;
	}
}

/* A worker ended. */
static void
child_cb(EV_P_ ev_child *c, int revents)
{
	struct wproc *w = container_of(c, struct wproc, child);
	struct workers *ws = w->ws;
	const char *then = ws->stopping ? "" : "; restarting";
	ev_tstamp ran = ev_now(EV_A) - w->started;

	ev_child_stop(EV_A_ c);
	if (WIFSIGNALED(c->rstatus))
		log_emit(ws->stopping ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
		    "worker %u (pid %d) killed by signal %d%s", w->id,
		    (int)c->rpid, WTERMSIG(c->rstatus), then);
	else if (WEXITSTATUS(c->rstatus) != 0 || !ws->stopping)
		log_warnx("worker %u (pid %d) exited with status %d%s", w->id,
		    (int)c->rpid, WEXITSTATUS(c->rstatus), then);
	else
		log_info("worker %u (pid %d) exited", w->id, (int)c->rpid);
	w->pid = 0;
	w->ready = false;
	chan_free(w->ch);
	w->ch = NULL;
	worker_set_up(ws->r, w->id, false);
	handoff_gone(ws->r, w->id);
	fanout_worker_gone(ws, w->id);
	if (w->rl == WR_WAIT || w->rl == WR_OK) {
		/* Forked again from the master's state, whatever it is
		 * then: it needs no part in this reload. */
		w->rl = WR_NONE;
		reload_check(ws);
	}
	if (ws->stopping) {
		if (live(ws) == 0)
			ev_break(EV_A_ EVBREAK_ALL);
		return;
	}
	w->restarts++;
	if (ran >= RESTART_STABLE_S)
		w->backoff_ms = RESTART_MIN_MS;
	else if (w->backoff_ms < RESTART_MIN_MS)
		w->backoff_ms = RESTART_MIN_MS;
	else
		w->backoff_ms = w->backoff_ms * 2 > RESTART_MAX_MS ?
		    RESTART_MAX_MS : w->backoff_ms * 2;
	ev_timer_set(&w->restart, w->backoff_ms / 1000., 0.);
	ev_timer_start(EV_A_ &w->restart);
}

static void
restart_cb(EV_P_ ev_timer *t, int revents)
{
	struct wproc *w = container_of(t, struct wproc, restart);

	/* Not while a reload is undecided: forked after it, the worker
	 * starts from what the master then runs. */
	if (w->ws->rl_conf != NULL || w->ws->stopping)
		return;
	spawn(w);
}

/*
 * In the child: the master's watchers and descriptors are not the
 * worker's.  The default loop is left as it is (the worker never runs
 * it); its signals are given back first, so the worker can take them.
 */
static void
child_forget(struct workers *ws, struct relay *r)
{
	struct fanout *f;

	ev_signal_stop(EV_DEFAULT_ &ws->s_term);
	ev_signal_stop(EV_DEFAULT_ &ws->s_int);
	ev_signal_stop(EV_DEFAULT_ &ws->s_hup);
	ev_signal_stop(EV_DEFAULT_ &ws->s_usr1);
	for (unsigned i = 0; i < ws->n; i++) {
		ev_child_stop(EV_DEFAULT_ &ws->w[i].child);
		ev_timer_stop(EV_DEFAULT_ &ws->w[i].restart);
		chan_forget(ws->w[i].ch);
	}
	while ((f = ws->fanouts) != NULL) {
		ws->fanouts = f->next;
		fanout_release(f, false);
	}
	control_forget(r);
	if (ws->rl_conf != NULL)
		conf_unref(ws->rl_conf);
	free(ws->w);
	free(ws);
	r->workers = NULL;
}

static void
spawn(struct wproc *w)
{
	struct workers *ws = w->ws;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("worker %u: socketpair", w->id);
		goto later;
	}
	/* Ids of streams and sessions are counter * N + worker: a
	 * restarted worker counts on from 2^20 times its restarts, so that
	 * an id (iketcpctl terminate) is not one its last life gave. */
	ws->r->next_stream_id = ws->r->next_session_id =
	    (unsigned long long)w->restarts << 20;
	if ((pid = fork()) == -1) {
		log_warn("worker %u: fork", w->id);
		close(sv[0]);
		close(sv[1]);
		goto later;
	}
	if (pid == 0) {
		struct relay *r = ws->r;
		master_worker_fn *body = ws->body;
		unsigned id = w->id;

		close(sv[0]);
		child_forget(ws, r);
		body(r, id, sv[1]);
		_exit(1);
	}
	close(sv[1]);
	w->pid = pid;
	w->ready = false;
	w->started = ev_now(EV_DEFAULT);
	w->ch = chan_new(EV_DEFAULT_ sv[0], master_msg_cb, w);
	ev_child_set(&w->child, pid, 0);
	ev_child_start(EV_DEFAULT_ &w->child);
	log_info("worker %u (pid %d) started", w->id, (int)pid);
	return;
later:
	w->backoff_ms = RESTART_MAX_MS;
	ev_timer_set(&w->restart, w->backoff_ms / 1000., 0.);
	ev_timer_start(EV_DEFAULT_ &w->restart);
}

/* A worker with no section to serve only costs: said once, at start. */
static void
idle_warn(const struct workers *ws)
{
	const struct conf *c = ws->r->conf;
	unsigned idle = 0;

	for (unsigned k = 0; k < ws->n; k++)
		idle += !worker_has_work(ws->r, c, k);
	if (idle > 0)
		log_warnx("%s:%u: workers = %u, but %u of them serve no "
		    "section: [integrated] and [connector] sections are one "
		    "worker's each, only [relay] sections run in every one",
		    conf_loc_file(c, c->workers_line),
		    CONF_LOC_LINE(c->workers_line), ws->n, idle);
}

/* --- signals ------------------------------------------------------------ */

static void
signal_all(struct workers *ws, int sig)
{
	for (unsigned i = 0; i < ws->n; i++)
		if (ws->w[i].pid != 0 && kill(ws->w[i].pid, sig) == -1 &&
		    errno != ESRCH)
			log_warn("worker %u (pid %d): kill %d", i,
			    (int)ws->w[i].pid, sig);
}

/* The workers' end, bounded: those still there are killed, by PID. */
static void
stop_cb(EV_P_ ev_timer *t, int revents)
{
	struct workers *ws = container_of(t, struct workers, stop);

	for (unsigned i = 0; i < ws->n; i++) {
		struct wproc *w = &ws->w[i];

		if (w->pid == 0)
			continue;
		log_warnx("worker %u (pid %d) still running %d ms after "
		    "SIGTERM: killed", i, (int)w->pid, STOP_WAIT_MS);
		(void)kill(w->pid, SIGKILL);
		(void)waitpid(w->pid, NULL, 0);
		ev_child_stop(EV_A_ &w->child);
		w->pid = 0;
	}
	ev_break(EV_A_ EVBREAK_ALL);
}

/*
 * SIGTERM, SIGINT: passed on as SIGTERM (each worker deletes its
 * integrated IKE SAs and waits a moment for the answers); a second one is
 * passed on too (the workers then end at once).
 */
static void
sig_term_cb(EV_P_ ev_signal *s, int revents)
{
	struct workers *ws = s->signum == SIGTERM ?
	    container_of(s, struct workers, s_term) :
	    container_of(s, struct workers, s_int);

	if (!ws->stopping) {
		log_info("signal %d: stopping %u workers", s->signum,
		    live(ws));
		ws->stopping = true;
		for (unsigned i = 0; i < ws->n; i++)
			ev_timer_stop(EV_A_ &ws->w[i].restart);
		ev_timer_set(&ws->stop, STOP_WAIT_MS / 1000., 0.);
		ev_timer_start(EV_A_ &ws->stop);
	}
	signal_all(ws, SIGTERM);
	if (live(ws) == 0)
		ev_break(EV_A_ EVBREAK_ALL);
}

static void
sig_hup_cb(EV_P_ ev_signal *s, int revents)
{
	reload_start(container_of(s, struct workers, s_hup), 0, false);
}

static void
sig_usr1_cb(EV_P_ ev_signal *s, int revents)
{
	struct workers *ws = container_of(s, struct workers, s_usr1);
	unsigned long long restarts = 0;

	for (unsigned i = 0; i < ws->n; i++)
		restarts += ws->w[i].restarts;
	log_stats("stats: master: %u workers, %u running, %llu restarts",
	    ws->n, live(ws), restarts);
	signal_all(ws, SIGUSR1);
}

int
master_run(struct relay *r, const char *path, master_worker_fn *body)
{
	struct workers *ws;
	struct fanout *f;

	if (user_check(r->conf) == -1)
		return 1;
	if ((ws = calloc(1, sizeof(*ws))) == NULL ||
	    (ws->w = calloc(r->nworkers, sizeof(*ws->w))) == NULL) {
		free(ws);
		log_warn("workers");
		return 1;
	}
	ws->r = r;
	ws->path = path;
	ws->body = body;
	ws->n = r->nworkers;
	r->workers = ws;
	if (handoff_setup(r, ws->n) == -1) {
		free(ws->w);
		free(ws);
		r->workers = NULL;
		return 1;
	}
	caps_limit(r->conf);
	ev_signal_init(&ws->s_term, sig_term_cb, SIGTERM);
	ev_signal_init(&ws->s_int, sig_term_cb, SIGINT);
	ev_signal_init(&ws->s_hup, sig_hup_cb, SIGHUP);
	ev_signal_init(&ws->s_usr1, sig_usr1_cb, SIGUSR1);
	ev_signal_start(EV_DEFAULT_ &ws->s_term);
	ev_signal_start(EV_DEFAULT_ &ws->s_int);
	ev_signal_start(EV_DEFAULT_ &ws->s_hup);
	ev_signal_start(EV_DEFAULT_ &ws->s_usr1);
	ev_timer_init(&ws->stop, stop_cb, 0., 0.);
	ev_timer_init(&ws->rl_timer, reload_timer_cb, 0., 0.);
	for (unsigned i = 0; i < ws->n; i++) {
		struct wproc *w = &ws->w[i];

		w->ws = ws;
		w->id = i;
		ev_child_init(&w->child, child_cb, 0, 0);
		ev_timer_init(&w->restart, restart_cb, 0., 0.);
	}
	log_info("master (pid %d): starting %u workers", (int)getpid(),
	    ws->n);
	idle_warn(ws);
	for (unsigned i = 0; i < ws->n; i++)
		spawn(&ws->w[i]);
	ev_run(EV_DEFAULT_ 0);

	log_info("master: all workers ended; exiting");
	ev_signal_stop(EV_DEFAULT_ &ws->s_term);
	ev_signal_stop(EV_DEFAULT_ &ws->s_int);
	ev_signal_stop(EV_DEFAULT_ &ws->s_hup);
	ev_signal_stop(EV_DEFAULT_ &ws->s_usr1);
	ev_timer_stop(EV_DEFAULT_ &ws->stop);
	ev_timer_stop(EV_DEFAULT_ &ws->rl_timer);
	while ((f = ws->fanouts) != NULL) {
		ws->fanouts = f->next;
		fanout_release(f, true);
	}
	for (unsigned i = 0; i < ws->n; i++) {
		ev_child_stop(EV_DEFAULT_ &ws->w[i].child);
		ev_timer_stop(EV_DEFAULT_ &ws->w[i].restart);
		chan_free(ws->w[i].ch);
	}
	if (ws->rl_conf != NULL)
		reload_abort(r, ws->rl_conf);
	free(ws->w);
	free(ws);
	r->workers = NULL;
	return 0;
}
