/*
 * The RADIUS client of an [integrated] section: an asynchronous EAP
 * relay to the section's radius-server list (RFC 3579), on the daemon's
 * libev loop.  The EAP code hands it each EAP packet from the peer and
 * gets the server's answer later through a callback:
 *
 *   c = radclient_new(loop, ci, name);      at start, as root (secret)
 *   rq = radclient_send(c, &args, done, arg);
 *       ... done(arg, &answer) once, later, unless cancelled
 *   radclient_cancel(rq);                   the IKE SA went away
 *   radclient_free(c);                      cancels what is left
 *
 * The answer is a CHALLENGE (the next EAP-Request and a State to give
 * back with the next packet), ACCEPT (EAP-Success, the MSK, a
 * Framed-IP-Address, a Class), REJECT (EAP-Failure), or TIMEOUT when no
 * server answered.  A callback may send new requests and cancel other
 * ones; it must not free the client, and its own request is over when it
 * runs (no cancel).
 */
#ifndef IKETCP_RELAY_RADCLIENT_H
#define IKETCP_RELAY_RADCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct conf_integrated;
struct radclient;
struct radclient_req;
struct radius_reply;

enum {
	RADCLIENT_INFLIGHT_MAX = 256	/* one server's identifiers */
};

/* One EAP packet from the peer and who it is. */
struct radclient_args {
	const uint8_t	*eap;		/* the EAP packet */
	size_t		 eap_len;
	const char	*user;		/* User-Name: the EAP identity */
	const uint8_t	*state;		/* the last challenge's, or NULL */
	size_t		 state_len;
	const char	*called;	/* our address:port, or NULL */
	const char	*calling;	/* the peer's address:port, or NULL */
};

enum radclient_result {
	RADCLIENT_CHALLENGE,	/* reply->eap: next EAP-Request; state */
	RADCLIENT_ACCEPT,	/* reply->eap (EAP-Success), msk, framed_ip */
	RADCLIENT_REJECT,	/* reply->eap (EAP-Failure) if any */
	RADCLIENT_TIMEOUT	/* every server tried; reply NULL */
};

struct radclient_answer {
	enum radclient_result	 result;
	/* Valid during the callback only; the client wipes it after. */
	const struct radius_reply *reply;
	const char		*server;	/* which one, as written */
};

typedef void radclient_done_fn(void *arg, const struct radclient_answer *a);

/* Counters (iketcpctl stats, tests). */
struct radclient_stats {
	uint64_t	 requests;	/* radclient_send() taken */
	uint64_t	 busy;		/* refused: no identifier free */
	uint64_t	 retransmits;	/* same ID and authenticator */
	uint64_t	 failovers;	/* moved to the next server */
	uint64_t	 timeouts;	/* no server answered */
	uint64_t	 answers;	/* challenges, accepts, rejects */
	uint64_t	 drop_source;	/* not from the server's address */
	uint64_t	 drop_id;	/* no request of that identifier */
	uint64_t	 drop_form;	/* malformed */
	uint64_t	 drop_auth;	/* Response Authenticator wrong */
	uint64_t	 drop_msg_auth;	/* Message-Authenticator wrong */
};

/*
 * A client for the radius-* keys of @ci (which must outlive it) of
 * section @name (for logs): reads radius-secret-file and opens one UDP
 * socket a server.  NULL, logged, on failure.
 */
struct radclient *radclient_new(struct ev_loop *loop,
	    const struct conf_integrated *ci, const char *name);
/* Cancels every request (no callbacks); NULL is a no-op. */
void	radclient_free(struct radclient *c);
/*
 * Sends @a (copied: nothing of it is kept) to the current server.  NULL
 * when it cannot be encoded or all RADCLIENT_INFLIGHT_MAX identifiers
 * of that server are taken (counted as busy); no callback then.
 */
struct radclient_req *radclient_send(struct radclient *c,
	    const struct radclient_args *a, radclient_done_fn *done,
	    void *arg);
/* Forget @rq: no callback will come.  NULL is a no-op. */
void	radclient_cancel(struct radclient_req *rq);
void	radclient_stats(const struct radclient *c, struct radclient_stats *s);
/* Requests waiting for an answer. */
size_t	radclient_pending(const struct radclient *c);

#endif /* IKETCP_RELAY_RADCLIENT_H */
