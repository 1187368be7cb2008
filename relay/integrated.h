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
struct session;
struct stream;

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
/* A new session for @st's integrated section; NULL (logged) on failure. */
struct session *integ_session_new(struct relay *r, struct stream *st);
/* The session's backend state; called by session_free(). */
void	integ_session_free(struct session *s);
/* @n client messages from @st (the owner or a tentative stream); -1 when
 * @st was closed. */
int	integ_input(struct session *s, struct stream *st,
	    const struct iovec *msgs, size_t n);
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
