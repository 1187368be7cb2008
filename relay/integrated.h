/*
 * The integrated backend (DESIGN.md): a session's messages go to an IKE SA
 * (ike/) and its Child SA's ESP SAs (esp/) instead of a UDP socket; inner
 * packets go to and come from one TUN device per [integrated] section.
 */
#ifndef IKETCP_RELAY_INTEGRATED_H
#define IKETCP_RELAY_INTEGRATED_H

#include <sys/uio.h>

#include <stdbool.h>
#include <stddef.h>

struct relay;
struct conf;
struct session_backend;

/* Opens every section's TUN, pool, secrets and proposals (as root);
 * -1 (logged) on any failure. */
int	integ_open_all(struct relay *r, const struct conf *c);
void	integ_close_all(struct relay *r);
/*
 * SIGHUP: checks that @c (read from @path) keeps every [integrated]
 * section and its start-only keys as running, and reads each secrets file
 * anew; -1 (logged with file:line) when the reload must be refused.
 * Then integ_reload_commit(ok) puts the new secrets in use, or drops them.
 */
int	integ_reload_prepare(struct relay *r, const struct conf *c,
	    const char *path);
void	integ_reload_commit(struct relay *r, bool ok);
/* The integrated backend of the session layer (relay/session.h). */
extern const struct session_backend integ_backend;
/* One info line per section: half-open IKE SAs, COOKIEs (SIGUSR1). */
void	integ_stats_log(const struct relay *r);

/*
 * SIGTERM: a Delete of every established IKE SA goes out on its live
 * stream (RFC 7296 §1.4.1); returns how many.  integ_deleting() counts
 * those still waiting for their response.
 */
int	integ_shutdown(struct relay *r);
int	integ_deleting(const struct relay *r);

#endif /* IKETCP_RELAY_INTEGRATED_H */
