/*
 * The session layer (DESIGN.md): a session binds a live stream to a
 * backend and outlives the stream.  It alone decides binding, re-attach
 * and its proof, linger, the SPI table and the session budgets; backends
 * (relay/udp_backend.c, the integrated backend) are reached only through
 * struct session_backend, send to clients only with session_deliver(),
 * and read a stream's addresses but keep no stream pointer across calls.
 * relay/README tells the whole story.
 */
#ifndef IKETCP_SESSION_H
#define IKETCP_SESSION_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "conf/conf.h"
#include "framing/classify.h"
#include "relay/udpfront.h"

struct relay;
struct session;
struct stream;
struct probe;
struct stream_up;

enum {
	SESSION_IKE_KEYS = 4,	/* IKE SA SPI pairs remembered per session */
	SESSION_ESP_KEYS = 8,	/* client ESP SPIs remembered per session */
};

/* The operations of one kind of backend.  None of them frees the
 * session: a backend that is done with it calls session_end(). */
struct session_backend {
	const char *name;
	/* Backend state for a new session started by @st with first
	 * message @m, or with @st NULL by a datagram on s->udp; -1
	 * (logged) refuses the session. */
	int	(*open)(struct session *s, struct stream *st,
		    const struct msg_info *m);
	/* Frees the backend state; runs from the event loop only. */
	void	(*close)(struct session *s);
	/* @n client messages from the owner (@p NULL) or from probe @p.
	 * Keepalives are already dropped. */
	void	(*input)(struct session *s, struct probe *p,
		    const struct iovec *msgs, const struct msg_info *mi,
		    size_t n);
	/* What a probe needs (relay: its own UDP socket); -1 refuses it.
	 * May be NULL. */
	int	(*probe_open)(struct session *s, struct probe *p);
	void	(*probe_close)(struct session *s, struct probe *p);
	/* Probe @p was proven: its stream is the owner now.  May be NULL. */
	void	(*proven)(struct session *s, struct probe *p);
};

enum session_state {
	SESSION_LIVE,		/* has an owner stream */
	SESSION_LINGER,		/* no owner; waits for a re-attach */
	SESSION_DEAD,		/* ended; freed on the next loop turn */
};

/* A key of the SPI table: an IKE SA's SPI pair, or a client ESP SPI. */
struct spi_key {
	struct spi_key	*next;		/* table chain */
	struct session	*s;		/* owner, NULL while unused */
	uint64_t	 spi_i, spi_r;	/* IKE; spi_i holds an ESP SPI */
	bool		 esp;
	bool		 linked;	/* in the table (else another
					 * session holds the same key) */
	bool		 foreign;	/* another worker holds it: never
					 * linked here (relay/handoff.c) */
	bool		 have_req;	/* IKE: a client request relayed */
	uint32_t	 max_req;	/* IKE: its highest message ID */
};

/*
 * A stream that named a session but has not proven it holds its keys; or
 * (@st NULL, @udp set) one datagram from a path that is not the
 * session's, a probe for the length of one input call.
 */
struct probe {
	struct probe	*next;
	struct session	*s;
	struct stream	*st;
	const struct udp_path *udp;	/* the datagram's path, or NULL */
	ev_timer	 deadline;	/* handshake-timeout */
	void		*be;		/* the backend's, per probe */
	uint16_t	 lport;		/* its own gateway-side port, or 0 */
	struct src	*src;		/* budget source of the stream */
	/* Its latest IKE request, and whether it was the first stream to
	 * relay those bytes (a replay of another probe's is not). */
	uint64_t	 req_spi_i, req_spi_r;
	uint32_t	 req_msgid;
	uint64_t	 req_hash;	/* keyhash() of the message */
	bool		 req_first;
};

struct session {
	unsigned long long id;
	struct relay	*r;
	const struct session_backend *ops;
	void		*be;		/* backend state */
	enum session_state state;
	unsigned	 linger_ms;
	/* The section's name: the relay_section's (stream_section()),
	 * which lives until exit, not the conf's, which a reload frees. */
	const char	*section;
	size_t		 max_message;	/* larger datagrams are dropped */
	uint16_t	 lport;		/* gateway-side port, 0 none */
	/* With no owner stream, the client's UDP path (relay/udpfront.h):
	 * where the session's latest proven datagram came from.  Allocated
	 * the first time the session is on UDP (most never are), kept
	 * until the session is freed; on_udp says whether it is current. */
	bool		 on_udp;
	struct stream	*owner;		/* live stream or NULL */
	struct udp_path	*udp;
	struct probe	*probes;
	struct src	*src;		/* budget source of the client */
	/* The latest owner's address: what sockaddr_text() and
	 * sockaddr_same_ip() read of a sockaddr_storage, in the room an
	 * IPv6 address takes (session_client() gives it back whole). */
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}		 last_client;
	ev_timer	 linger;	/* also the deferred free */
	struct session	*lnext, **lprev; /* lingering, oldest first */
	struct spi_key	 ike[SESSION_IKE_KEYS];
	struct spi_key	 esp[SESSION_ESP_KEYS];
	unsigned	 ike_next, esp_next; /* ring replacement */
	struct session	*anext, **aprev; /* r->sessions */
	ev_tstamp	 started;	/* loop time it began */
	/* Client -> backend from the owner, backend -> owner stream. */
	unsigned long long up_msgs, up_bytes, down_msgs, down_bytes;
};

/* A client to send to: an owner stream or a UDP path. */
static inline bool
session_has_client(const struct session *s)
{
	return s->owner != NULL || s->on_udp;
}

/* The process's session layer: called once from main. */
int	session_layer_init(struct relay *r);
void	session_layer_cleanup(struct relay *r);
/* Room for one more descriptor within the budget, reclaiming the oldest
 * lingering session if need be; false when there is none (accept). */
bool	session_fd_room(struct relay *r);
/* What a stream hands its messages to (relay/stream.h). */
extern const struct stream_up session_stream_up;
/* What the UDP front end hands its datagrams to (relay/udpfront.h). */
extern const struct udp_up session_udp_up;

/* Learns @m's SPIs for @s (from the owner path or the backend's own
 * traffic for the session, never from a probe). */
void	session_note(struct session *s, const struct msg_info *m,
	    bool from_client);
/* Registers an IKE SA's SPI pair for @s (a rekey the backend saw). */
void	session_key_ike(struct session *s, uint64_t spi_i, uint64_t spi_r);
/* Registers an ESP SPI the client sends with (a Child SA the backend
 * installed): a datagram finds its session by it alone. */
void	session_key_esp(struct session *s, uint32_t spi);
/* An IKE response that proves probe @p holds the SA's keys: for one of
 * @s's SAs, newer than every client request relayed, and the answer to
 * the request @p was the first to relay. */
bool	session_is_proof(const struct session *s, const struct probe *p,
	    const struct msg_info *m);
/* Probe @p proved itself: its stream (or its datagram's path) becomes
 * the owner. */
void	session_prove(struct session *s, struct probe *p, const char *how);
/*
 * The session answers on UDP path @path from now on, IKE and ESP alike:
 * an owner stream is closed, a lingering session is live again; @how
 * goes into the log line.  For a move the backend decided without a
 * probe at hand (a return routability check answered).
 */
void	session_move_udp(struct session *s, const struct udp_path *path,
	    const char *how);
/* Messages to the owner stream, if any; @ike says which are IKE. */
void	session_deliver(struct session *s, const struct iovec *msgs,
	    const bool *ike, size_t n);
/* The backend is done: the session ends after @delay_s seconds (0: on
 * the next loop turn), its streams are closed then. */
void	session_end(struct session *s, double delay_s);
/* The session with @id that has not ended, or NULL (iketcpctl). */
struct session *session_find(struct relay *r, unsigned long long id);
const char *session_state_name(enum session_state state);

/* The addresses that message input from @p (or the owner, @p NULL)
 * came from and went to. */
void	session_addrs(const struct session *s, const struct probe *p,
	    struct sockaddr_storage *local, struct sockaddr_storage *peer);
/* One line about input from probe @p (NULL: the owner) of @s. */
void	session_log_from(const struct session *s, const struct probe *p,
	    int level, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* The latest owner's address (stream or UDP path) into @out. */
void	session_client(const struct session *s, struct sockaddr_storage *out);

/* One line about @s: on its owner stream, or naming the client. */
void	session_log(const struct session *s, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif /* IKETCP_SESSION_H */
