/*
 * The control socket (iketcpctl(8)) and the optional HTTP metrics
 * address: requests are read and answered on the daemon's loop without
 * ever blocking it.  Opened as root before the privilege drop, owned by
 * the service user afterwards; relay/README, "Control", lists the bounds.
 */
#ifndef IKETCP_CONTROL_H
#define IKETCP_CONTROL_H

#include <stddef.h>

struct conf;
struct relay;

enum {
	CTL_CLIENTS_MAX = 16,		/* control + HTTP clients at once */
	CTL_ANSWER_MAX = 8 << 20,	/* one answer, octets */
	CTL_HTTP_HEAD_MAX = 2048,	/* an HTTP request head, octets */
	CTL_IDLE_S = 10,		/* a client making no progress, s */
	CTL_MODE = 0660,		/* the socket file's mode */
};

/* What "reload" runs: main's SIGHUP handling; 0 when it took. */
typedef int control_reload_fn(struct relay *r);

/*
 * Opens @c's control socket (mode CTL_MODE, owned by @c's user and group)
 * and metrics-listen, and starts their watchers.  -1 (logged) when one
 * that the file names cannot be opened; a default socket path whose
 * directory is missing is skipped (logged at info).
 */
int	control_open(struct relay *r, const struct conf *c,
	    control_reload_fn *reload);
/* Closes every client and listener; removes the socket file. */
void	control_close(struct relay *r);

#endif /* IKETCP_CONTROL_H */
