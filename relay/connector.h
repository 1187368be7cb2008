/*
 * The connector role (DESIGN.md, role 2): stands in for the gateway on
 * local UDP 500/4500 for an unmodified initiator and carries each
 * initiator's traffic over a stream it originates (relay/cstream.c), or,
 * with transport = fallback, over UDP to the gateway when UDP works.
 */
#ifndef IKETCP_CONNECTOR_H
#define IKETCP_CONNECTOR_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "conf/conf.h"
#include "relay/cstream.h"

struct relay;
struct connector;
struct ssl_ctx_st;

enum {
	CN_SESSION_SPIS = 4,	/* IKE SPIs remembered per session */
};

/* The initiator's two flows: port 500 and port 4500 (RFC 7296 §2.23). */
enum cn_flow_kind {
	CN_FLOW_IKE,		/* port 500: bare IKE */
	CN_FLOW_NATT,		/* 4500: marker + IKE, ESP, keepalives */
	CN_FLOWS,
};

/*
 * transport = fallback moves a live session between UDP and the stream
 * (iketcpd.conf(5), "transport"):
 *   TRYING -> UDP   the gateway answered over UDP
 *   TRYING -> TCP   no IKE answer to IKE_SA_INIT within fallback-timeout
 *   UDP -> TCP      no IKE answer to an IKE request within
 *                   fallback-timeout; the request is replayed on the stream
 *   TCP -> UDP      a probe over UDP (a copy of the initiator's last IKE
 *                   request) drew an IKE answer over UDP (the stream
 *                   closes when the gateway's ESP comes over UDP again,
 *                   and opens on the next move to it); probes every
 *                   udp-retry-min, doubling to udp-retry-max on each
 *                   unanswered probe and on each fall back to the stream
 *                   within udp-retry-max of the last move to UDP.
 */
enum cn_transport {
	CN_TRANSPORT_TRYING,	/* fallback: IKE_SA_INIT out over UDP */
	CN_TRANSPORT_UDP,	/* UDP to udp-gateway answered */
	CN_TRANSPORT_TCP,	/* the stream to server */
};

struct cn_listen {
	struct connector *cn;
	int		 fd;
	ev_io		 io;
	enum cn_flow_kind kind;		/* port 500 or not */
	bool		 wild;		/* bound to * or [::]: pktinfo */
	const struct conf_addr *addr;	/* inside the connector's conf */
};

struct cn_flow {
	struct cn_listen *l;		/* NULL: not used yet */
	struct sockaddr_storage peer;	/* the initiator's address, port */
	socklen_t	 peer_len;
	struct in6_pktinfo dst6;	/* wild: the address it sent to */
	struct in_pktinfo dst4;
	int		 ufd;		/* fallback: UDP to gateway; -1 */
	ev_io		 uio;
};

struct cn_counters {
	unsigned long long up_msgs, up_bytes;	/* to the gateway */
	unsigned long long down_msgs, down_bytes; /* to the initiator */
	unsigned long long keepalives;		/* dropped */
	unsigned long long dropped;		/* other drops */
	unsigned long long to_stream, to_udp;	/* live moves (fallback) */
	unsigned long long probes;		/* UDP probes sent */
};

struct cn_session {
	struct cn_session *next;
	struct connector *cn;
	unsigned long long id;
	enum cn_transport transport;
	struct cn_flow	 flow[CN_FLOWS];
	enum cn_flow_kind ike_flow;	/* the initiator's last IKE flow */
	uint64_t	 spi[CN_SESSION_SPIS];	/* IKE SPIi, ring */
	unsigned	 nspi;
	struct cstream	 cs;		/* with CN_TRANSPORT_TCP, and after */
	bool		 stream_on;	/* cs started, not stopped */
	ev_timer	 fallback;	/* fallback-timeout: answer check */
	ev_timer	 probe;		/* TCP: next UDP probe (fallback) */
	ev_tstamp	 req_at;	/* request out, no IKE answer; 0 */
	ev_tstamp	 probe_at;	/* probe out, no answer yet; 0 */
	ev_tstamp	 udp_since;	/* last move to UDP; 0 */
	unsigned	 retry_ms;	/* next probe delay (udp-retry-*) */
	uint8_t		*req;		/* last IKE request, + marker */
	size_t		 req_len;
	bool		 req_init;	/* it is an IKE_SA_INIT */
	ev_timer	 idle;
	ev_tstamp	 last_active;
	ev_tstamp	 started;
	struct cn_counters n;
};

struct cn_stats {
	unsigned long long invalid;	/* neither IKE nor ESP */
	unsigned long long no_session;	/* no session to tie it to */
	unsigned long long refused;	/* max-sessions reached */
	unsigned long long send_errors;	/* UDP toward an initiator */
};

struct connector {
	struct connector *next;
	struct relay	*r;
	struct conf	*conf;		/* reference */
	const struct conf_connector *cc;	/* inside conf */
	struct ssl_ctx_st *ssl_ctx;	/* tls = yes */
	char		 sni[CONF_HOST_MAX];	/* "" = none */
	struct cn_listen ls[CONF_LISTEN_MAX];
	size_t		 nls;
	struct cn_session *sessions;
	unsigned	 nsessions;
	unsigned long long next_id;
	struct cn_stats	 stats;
};

/* Opens every [connector] section of @c; -1 if any socket failed. */
int	connector_open_all(struct relay *r, struct conf *c);
void	connector_close_all(struct relay *r);
/* A worker: the connectors another worker serves are closed here. */
void	connector_close_unserved(struct relay *r);
/* One line per connector and per live session (SIGUSR1, exit). */
void	connector_stats_log(const struct relay *r);

#endif /* IKETCP_CONNECTOR_H */
