/*
 * The control socket (iketcpctl(8)) and the optional HTTP metrics
 * address: requests are read and answered on the daemon's loop without
 * ever blocking it.  Opened as root before the privilege drop, owned by
 * the service user afterwards; relay/README, "Control", lists the bounds.
 */
#ifndef IKETCP_CONTROL_H
#define IKETCP_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

struct conf;
struct relay;

enum {
	CTL_CLIENTS_MAX = 16,		/* control + HTTP clients at once */
	CTL_ANSWER_MAX = 8 << 20,	/* one answer, octets */
	CTL_HTTP_HEAD_MAX = 2048,	/* an HTTP request head, octets */
	CTL_IDLE_S = 10,		/* a client making no progress, s */
	CTL_MODE = 0660,		/* the socket file's mode */
};

struct ctl_req;
struct obuf;

/* What "reload" runs: main's SIGHUP handling; 0 when it took. */
typedef int control_reload_fn(struct relay *r);
/*
 * In a master of workers, what answers every request instead (relay/
 * master.c: asks the workers): the answer comes later, by
 * control_answer() with the same @ticket.  @http: a GET /metrics.
 */
typedef void control_async_fn(struct relay *r, const struct ctl_req *req,
    bool http, unsigned long long ticket);

/*
 * Opens @c's control socket (mode CTL_MODE, owned by @c's user and group)
 * and metrics-listen, and starts their watchers on @loop.  -1 (logged)
 * when one that the file names cannot be opened; a default socket path
 * whose directory is missing is skipped (logged at info).  @async NULL:
 * answered here, from @r.
 */
int	control_open(struct relay *r, struct ev_loop *loop,
	    const struct conf *c, control_reload_fn *reload,
	    control_async_fn *async);
/* Closes every client and listener; removes the socket file. */
void	control_close(struct relay *r);
/* In a forked child: closes the descriptors, leaves the loop and the
 * socket file to the parent. */
void	control_forget(struct relay *r);
/*
 * The answer to the request of @ticket: @len octets of @body (the control
 * socket's whole answer, status line first; for HTTP the metrics text, or
 * NULL for an error).  Dropped when that client has gone.
 */
void	control_answer(struct relay *r, unsigned long long ticket,
	    const char *body, size_t len);
/* A request other than reload answered from @r into @o, as the control
 * socket of a single process would (a worker answering its master). */
void	control_run_local(struct relay *r, const struct ctl_req *req,
	    struct obuf *o);

#endif /* IKETCP_CONTROL_H */
