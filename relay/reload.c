/*
 * relay/reload.c: the steps of a reload (reload.h).  A failed part fails
 * the whole: the new listeners are closed, the new TLS contexts and
 * secrets dropped, and the running configuration stays.
 */
#include <sys/resource.h>

#include "conf/conf.h"
#include "relay/integrated.h"
#include "relay/log.h"
#include "relay/relay.h"
#include "relay/reload.h"
#include "relay/route.h"

void
relay_budget_update(struct relay *r)
{
	struct rlimit rl;
	rlim_t max = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur;
	else if (rl.rlim_cur == RLIM_INFINITY)
		max = 1u << 20;
	r->fds_max = max > r->conf->fd_reserve ?
	    (unsigned)(max - r->conf->fd_reserve) : 0;
}

struct conf *
reload_prepare(struct relay *r, const char *path)
{
	struct conf *c = conf_load(path);

	if (c != NULL && integ_reload_prepare(r, c, path) == -1) {
		conf_unref(c);
		c = NULL;
	}
	if (c != NULL && listener_prepare(r, c) == -1) {
		conf_unref(c);
		c = NULL;
	} else if (c != NULL && route_res_prepare(r, c) == -1) {
		listener_abort(r);
		conf_unref(c);
		c = NULL;
	}
	if (c == NULL)
		integ_reload_commit(r, false);
	return c;
}

void
reload_commit(struct relay *r, struct conf *c)
{
	integ_reload_commit(r, true);
	route_res_finish(r, true);
	log_set_level(c->log_level);
	log_set_format(c->log_format);
	log_set_facility(c->syslog_facility);
	log_set_rate(c->log_rate);
	conf_unref(r->conf);
	r->conf = c;
	relay_budget_update(r);
	listener_commit(r);
}

void
reload_abort(struct relay *r, struct conf *c)
{
	integ_reload_commit(r, false);
	route_res_finish(r, false);
	listener_abort(r);
	conf_unref(c);
}
