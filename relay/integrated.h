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
#include <stdint.h>

struct relay;
struct conf;
struct session;
struct session_backend;

enum {
	INTEG_INFO_TEXT = 192,		/* an identity or algorithm, octets */
};

/* What iketcpctl(8) lists of an integrated session's IKE SA. */
struct integ_info {
	char		 section[64];
	const char	*state;		/* ike_sa_state_name(), or "none" */
	char		 id[INTEG_INFO_TEXT];	/* the peer's, "" none */
	char		 vip4[16], vip6[46];	/* "" none */
	char		 ike_alg[INTEG_INFO_TEXT], esp_alg[INTEG_INFO_TEXT];
	uint64_t	 spi_i, spi_r;		/* IKE SA */
	uint32_t	 spi_in, spi_out;	/* newest Child SA */
	unsigned	 children;		/* Child SAs installed */
	long long	 next_s;	/* to our next request (DPD, rekey,
					 * Delete), seconds; -1 none */
	unsigned long long in_packets, in_octets;	/* ESP, inner */
	unsigned long long out_packets, out_octets;
};

/* The RADIUS outcomes of one section with eap = radius (integ_rad.c). */
struct integ_radius_info {
	const char	*section;
	unsigned long long accepts, rejects, challenges, timeouts;
	size_t		 in_flight;
};

/* Opens every section's TUN, pool, secrets and proposals (as root);
 * -1 (logged) on any failure.  Each section holds a reference to @c, the
 * conf its fixed keys (id, radius servers) point into. */
int	integ_open_all(struct relay *r, struct conf *c);
void	integ_close_all(struct relay *r);
/* A worker: the sections another worker serves are closed here (their
 * TUN, keys, RADIUS sockets stay with the master and their owner). */
void	integ_close_unserved(struct relay *r);
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
/* iketcpctl terminate: a Delete of @s's IKE SA to the client, as at
 * SIGTERM; -1 when there is none to delete (the caller ends @s). */
int	integ_terminate(struct session *s);
/* Fills @info for @s; -1 when @s is not an integrated session. */
int	integ_describe(const struct session *s, struct integ_info *info);
int	integ_deleting(const struct relay *r);
/* The @i-th section with eap = radius into @info; -1 past the last. */
int	integ_radius_info(const struct relay *r, size_t i,
	    struct integ_radius_info *info);

#endif /* IKETCP_RELAY_INTEGRATED_H */
