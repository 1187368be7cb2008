/*
 * The relay role: listeners, streams, sessions.  One struct relay per
 * process owns them all; DESIGN.md gives the data flow
 *   socket -> prefix -> frame decoder -> message -> session -> UDP gateway.
 */
#ifndef IKETCP_RELAY_H
#define IKETCP_RELAY_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "conf/conf.h"
#include "framing/classify.h"
#include "framing/decoder.h"
#include "relay/srctab.h"

/* The object that embeds watcher @ptr as @member (ev(3), "ASSOCIATING
 * CUSTOM DATA WITH A WATCHER"); type-checked, independent of layout. */
#define container_of(ptr, type, member)					\
	((type *)(void *)((char *)(1 ? (ptr) : &((type *)0)->member) -	\
	    offsetof(type, member)))

enum {
	RELAY_READ_BUF = 256 * 1024,	/* one read from a stream, bytes */
	RELAY_TLS_RECORD = 16384 + 256,	/* room for one more TLS record */
	RELAY_TLS_BUF = 256 * 1024,	/* frames gathered for SSL_write */
	RELAY_UDP_BATCH = 32,		/* datagrams per recvmmsg */
	RELAY_UDP_SLOT = 65536,		/* bytes per datagram slot */
	RELAY_SEND_BATCH = 256,		/* client messages per flush */
	UDP_GSO_SEGMENTS = 64,		/* kernel limit per GSO send */
	UDP_GSO_BYTES = 65000,		/* payload bytes per GSO send */
	SPI_BUCKETS_MIN = 1024,		/* SPI table, power of two; grows */
	RELAY_AUTH_KINDS = 5,		/* enum ike_sa_auth's IKE_SA_AUTH_N */
	RELAY_ESP_REASONS = 16,		/* >= enum esp_result's count */
};

struct relay_stats {
	unsigned long long keepalives;		/* 0xFF dropped, either side */
	unsigned long long esp_full;		/* ESP dropped: buffer full */
	unsigned long long ike_full;		/* IKE dropped: buffer full */
	unsigned long long gw_nostream;		/* gateway traffic, no stream */
	unsigned long long gw_bad;		/* unframeable datagrams */
	unsigned long long udp_send_errors;
	unsigned long long refused;		/* connection limits */
	unsigned long long layer_refused;	/* TLS/CONNECT/PROXY/prefix */
	unsigned long long esp_in_drop;		/* integrated: ESP not decapsulated */
	unsigned long long esp_out_drop;	/* integrated: TUN packets dropped */
	unsigned long long ike_drop;		/* integrated: IKE dropped */
	unsigned long long probe_drop;		/* not for a probing stream */
	unsigned long long proven;		/* probes proven, now owners */
	unsigned long long reclaimed;		/* lingering sessions reclaimed */
	unsigned long long sess_refused;	/* session budgets */
	unsigned long long wbuf_total_full;	/* write-buffer-total reached */
	/* Counted for the metrics (iketcpctl(8)); never from log text. */
	unsigned long long streams;		/* streams accepted */
	unsigned long long refused_conn;	/* of refused: max-connections */
	unsigned long long refused_source;	/* of refused: max-per-source */
	unsigned long long sessions;		/* sessions started */
	unsigned long long reattach_esp;	/* ESP from the last address */
	unsigned long long probe_ike;		/* probes named by IKE SPIs */
	unsigned long long probe_esp;		/* probes named by ESP SPI */
	unsigned long long probe_expired;	/* not proven in time */
	unsigned long long probe_refused;	/* over a session budget */
	unsigned long long tls_ok[3];		/* TLS 1.2, 1.3, other */
	unsigned long long tls_failed;		/* handshakes that failed */
	unsigned long long ike_up;		/* integrated: IKE SAs up */
	unsigned long long child_up;		/* integrated: Child SAs up */
	/* integrated: IKE_AUTH succeeded / refused, by the initiator's
	 * method (enum ike_sa_auth, RELAY_AUTH_KINDS of them) */
	unsigned long long auth_ok[RELAY_AUTH_KINDS];
	unsigned long long auth_failed[RELAY_AUTH_KINDS];
	unsigned long long esp_in_nosa;		/* ESP: no Child SA */
	unsigned long long esp_in_tun;		/* ESP: TUN write failed */
	unsigned long long esp_in_retired;	/* ESP on a rekeyed Child SA
						 * after its Delete, taken */
	unsigned long long esp_in_res[RELAY_ESP_REASONS]; /* esp_decap */
	unsigned long long esp_out_nosa;	/* TUN: no SA or no stream */
	unsigned long long esp_out_encap;	/* TUN: too big, encap error */
	/* integrated: the UDP front end (relay/udpfront.c) */
	unsigned long long udp_in;		/* datagrams received */
	unsigned long long udp_keepalives;	/* 0xFF dropped */
	unsigned long long udp_invalid;		/* not IKE nor ESP, truncated */
	unsigned long long udp_nosession;	/* names no session */
	unsigned long long udp_refused;		/* new sessions over budget */
	unsigned long long udp_moved;		/* paths moved, proven */
	unsigned long long udp_init_expired;	/* IKE SA not up in time */
	unsigned long long udp_out;		/* datagrams sent */
	unsigned long long udp_out_drop;	/* ESP toward port 500 */
	unsigned long long udp_out_errors;	/* sendmsg failed */
	unsigned long long udp_ike_frag_msgs;	/* IKE sent as fragments */
	unsigned long long udp_ike_frags;	/* RFC 7383 fragments sent */
	/* integrated, MOBIKE (relay/integ_mob.c) */
	unsigned long long mob_checks;		/* return routability checks */
	unsigned long long mob_checks_ok;	/* answered: the path moved */
	unsigned long long mob_checks_failed;	/* answered without COOKIE2 */
	unsigned long long mob_withheld;	/* authentic from a UDP address
						 * not verified: no move */
	unsigned long long ctl_refused;		/* control: clients over max */
	unsigned long long ctl_bad;		/* control: bad requests */
	/* workers (relay/handoff.c) */
	unsigned long long handoff_out;		/* streams handed over */
	unsigned long long handoff_spliced;	/* of those: spliced here */
	unsigned long long handoff_in;		/* streams taken over */
	unsigned long long handoff_failed;	/* channel full, owner gone,
						 * refused on arrival */
	unsigned long long handoff_foreign;	/* keys another worker holds */
	unsigned long long handoff_unrecorded;	/* keys: owner table full */
};

/* Messages and bytes of one section's streams, each way (stream.c). */
struct relay_section {
	struct relay_section *next;
	char		 name[CONF_NAME_MAX];
	unsigned long long in_msgs, in_bytes;	/* from clients */
	unsigned long long out_msgs, out_bytes;	/* to clients */
};

struct listener {
	struct listener	*next;
	struct relay	*r;
	ev_io		 io;
	int		 fd;
	struct sockaddr_storage addr;	/* bound address */
	bool		 keep;		/* reload bookkeeping */
	bool		 fresh;		/* opened by listener_prepare() */
	bool		 on;		/* accepted on in this process */
	bool		 shared;	/* ... and by every worker */
};

struct connector;
struct control;
struct handoff;
struct route_res;
struct integ_sec;
struct session;
struct spi_key;
struct stream;
struct stream_up;
struct session_backend;
struct udpfront_sock;
struct udp_up;

struct worker_map;
struct workers;
struct wchan;

struct relay {
	struct ev_loop	*loop;
	struct conf	*conf;			/* current; streams hold refs */
	/*
	 * Processes (relay/worker.h, relay/master.h): a single process is
	 * worker 0 of 1.  With [global] workers > 1 the master holds what
	 * the workers are forked with and runs none of it.
	 */
	unsigned	 worker_id;		/* 0 in a single process */
	unsigned	 nworkers;		/* 1 in a single process */
	bool		 master;		/* the master of workers */
	struct worker_map *wmap;		/* one-owner sections, at start */
	struct workers	*workers;		/* master: its workers */
	struct wchan	*wchan;			/* worker: its master channel */
	struct handoff	*handoff;		/* relay/handoff.c; NULL: one
						 * process, or the master */
	struct listener	*listeners;
	struct connector *connectors;		/* relay/connector.c */
	struct integ_sec *integs;		/* relay/integ_sec.c */
	const struct stream_up *up;		/* the session layer */
	const struct udp_up *udp_up;		/* ... for datagrams */
	struct udpfront_sock	*udp_socks;		/* relay/udpfront.c */
	const struct session_backend *backends[CONF_BACKEND_INTEGRATED + 1];
	struct srctab	 sources;		/* per-source budgets */
	struct spi_key	**spis;			/* SPI table, spi_mask + 1 */
	size_t		 spi_mask, nspis;
	struct session	*sessions;		/* all but the freed */
	struct stream	*streams;		/* all open streams */
	struct relay_section *sections;		/* every section seen */
	struct control	*control;		/* relay/control.c */
	struct session	*lingering;		/* oldest first */
	struct session	**lingering_tail;
	unsigned	 nsessions;		/* all but the dead */
	unsigned	 fds_used;		/* streams' and sessions' fds */
	unsigned	 fds_max;		/* budget: limit - fd-reserve */
	unsigned	 gw_source_next;	/* gateway-source cursor */
	size_t		 wbuf_total;		/* write buffers held, bytes */
	struct stream	*in_stream;		/* whose messages a backend has */
	bool		 in_stream_closed;	/* ... and it closed meanwhile */
	/* While a stream's first message is with the session layer: the
	 * stream, and the input after that message not parsed yet (a
	 * handoff takes it along, relay/handoff.c). */
	const struct stream *first_st;
	const uint8_t	*first_rest;
	size_t		 first_nrest;
	unsigned long long next_stream_id;
	unsigned long long next_session_id;
	uint8_t		*rbuf;			/* RELAY_READ_BUF */
	uint8_t		*ubuf;			/* RELAY_UDP_BATCH slots */
	uint8_t		*cbuf;			/* TLS ciphertext, READ_BUF */
	uint8_t		*tbuf;			/* TLS output, RELAY_TLS_BUF */
	struct route_res *res;			/* per section: TLS, creds */
	size_t		 nres;
	struct route_res *res_next;		/* prepared by a reload */
	size_t		 nres_next;
	int		*adopt_fds;		/* reload: listening sockets */
	size_t		 nadopt;		/* ... the master bound */
	unsigned char	 ticket_keys[80];	/* TLS_TICKET_KEYS */
	bool		 have_ticket_keys;
	struct relay_stats stats;
	bool		 no_gso;		/* the kernel refused UDP GSO */
	bool		 quit;			/* SIGTERM/SIGINT seen */
	unsigned long long busy_events;		/* callbacks run (busy-poll) */
	struct iovec	 tx[RELAY_SEND_BATCH];	/* client -> gateway batch */
	struct msg_info	 txi[RELAY_SEND_BATCH];	/* what each of tx is */
	size_t		 ntx;
	/*
	 * Accept pause (listener.c): an accept error other than a lost
	 * connection stops every listener until this timer fires.
	 */
	ev_timer	 accept_pause;		/* armed while paused */
	bool		 accept_paused;		/* listeners' watchers off */
	unsigned	 accept_pause_ms;	/* the last pause; 0 = none */
	unsigned long long accept_errors;	/* in this episode */
	ev_tstamp	 accept_since;		/* its first error */
	/* Workers: one that holds more than the others lets them accept
	 * first for a moment (worker_accept_defer()). */
	ev_timer	 accept_defer;		/* armed while deferring */
	bool		 accept_force;		/* the deferral is over */
};

/* listener.c */
int	listener_open_all(struct relay *r, struct conf *c);
int	listener_prepare(struct relay *r, struct conf *c);
void	listener_commit(struct relay *r);
void	listener_abort(struct relay *r);
void	listener_close_all(struct relay *r);

void	relay_stats_log(const struct relay *r);

/* The next id of a stream or session from counter @ctr: unique over the
 * workers (id modulo nworkers is the worker), 1, 2, 3... in one process. */
static inline unsigned long long
relay_next_id(const struct relay *r, unsigned long long *ctr)
{
	return ++*ctr * (r->nworkers > 1 ? r->nworkers : 1) + r->worker_id;
}
const char *sockaddr_text(const struct sockaddr_storage *ss, char *buf,
	    size_t cap);
bool	sockaddr_same_ip(const struct sockaddr_storage *a,
	    const struct sockaddr_storage *b);
bool	sockaddr_equal(const struct sockaddr_storage *a,
	    const struct sockaddr_storage *b);
/* The port, host order; the wildcard address (0.0.0.0 or ::)? */
uint16_t sockaddr_port(const struct sockaddr_storage *ss);
bool	sockaddr_is_any(const struct sockaddr_storage *ss);

#endif /* IKETCP_RELAY_H */
