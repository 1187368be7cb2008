/*
 * Private to the integrated backend, relay/integ_*.c (DESIGN.md): the
 * run-time state of an [integrated] section, of a session and of its
 * Child SAs' ESP pairs, and what the three files call in one another.
 * Nothing outside relay/integ_*.c includes it; the rest of the daemon
 * sees relay/integrated.h only.
 *
 *   integ_sec.c   section set-up (as root), reload, close, statistics
 *   integ_sess.c  stream messages -> IKE SA (ike/) -> responses, events
 *   integ_tun.c   ESP pairs: stream ESP -> TUN, TUN -> ESP -> stream
 *   vip.c         virtual IP -> session, for the TUN path
 */
#ifndef IKETCP_RELAY_INTEG_INT_H
#define IKETCP_RELAY_INTEG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ev.h>

#include "conf/conf.h"
#include "esp/tun.h"
#include "ike/cert.h"
#include "ike/eap.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "relay/vip.h"

struct esp_sa;
struct radclient;
struct relay;
struct secrets;
struct session;

enum {
	INTEG_PROPS_MAX = IKE_PROP_LIST_MAX, /* proposals per list */
	INTEG_TUN_BATCH = 64,		/* packets per TUN read callback */
	INTEG_PKT_MAX = 65536,		/* an inner packet, octets */
	INTEG_MARKER = 4,		/* Non-ESP marker, octets */
	INTEG_PKT_BUF = INTEG_PKT_MAX + 64,	/* TUN read, ESP decap */
	INTEG_OUT_BUF = INTEG_PKT_MAX + 256,	/* ESP encap */
	INTEG_IKE_BUF = INTEG_MARKER + IKE_SA_MSG_MAX, /* IKE to a stream */
};

/* One [integrated] section at run time. */
struct integ_sec {
	struct integ_sec *next;
	struct relay	*r;
	struct conf	*start;		/* held: sec->conf.id and rad point
					   into it, a reload frees the rest */
	char		 name[CONF_NAME_MAX];
	struct ike_prop	 ike[INTEG_PROPS_MAX], esp[INTEG_PROPS_MAX];
	uint8_t		 id[CONF_ID_MAX / 2]; /* binary address, key ID */
	struct ike_sa_conf conf;
	struct ike_eap_local_conf eap;	/* conf.eap_arg with eap = */
	struct secrets	*secrets;
	struct secrets	*next_secrets;	/* read by SIGHUP, not in use yet */
	struct ike_cert_chain chain;	/* ours, then its intermediates */
	struct ike_cert	 inter[IKE_CERT_CHAIN_MAX]; /* chain[1..] as CERTs */
	uint8_t		*dn;		/* its subject (a dn: id) */
	uint8_t		*certreq;	/* CERTREQ: ca's SPKI hashes */
	X509_STORE	*next_ca;	/* ca + crl read by SIGHUP */
	uint8_t		*next_certreq;	/* and its CERTREQ data */
	size_t		 next_certreq_len;
	unsigned	 replay_window;
	int		 tun_fd;
	char		 ifname[ESP_TUN_NAME_MAX];
	uint32_t	 tun_addr;	/* host order */
	uint8_t		 tun_addr6[16];	/* with an IPv6 pool */
	ev_io		 tio;
	struct vip_table vips;		/* both families */
	unsigned	 cookie_threshold; /* half-open SAs; 0 = always */
	unsigned	 half_open;	/* SAs in IKE_SA_INIT_DONE */
	unsigned long long cookies;	/* IKE_SA_INITs answered with one */
	unsigned	 udp_init_ms;	/* a UDP client's IKE SA: up by then */
	bool		 udp_encap;	/* tell UDP clients of a NAT */
	/* eap = radius (integ_rad.c): the client and its outcomes. */
	struct radclient *rad;
	unsigned long long rad_accepts, rad_rejects, rad_challenges,
			 rad_timeouts;
	struct integ_sess *sessions;	/* all of this section's */
	/*
	 * Scratch space of this section's callbacks, which never nest:
	 * stream_send() copies what it is given.
	 */
	uint8_t		*pkt_buf;	/* INTEG_PKT_BUF octets */
	uint8_t		*out_buf;	/* INTEG_OUT_BUF octets */
	uint8_t		*ike_buf;	/* INTEG_IKE_BUF octets */
};

/* One installed Child SA: its ESP pair. */
struct integ_child {
	struct esp_sa	*in, *out;	/* both NULL: a free slot */
	uint32_t	 replaces;	/* inbound SPI of the pair rekeyed */
	bool		 v4, v6;	/* the families it carries */
	uint32_t	 src_lo, src_hi;	/* TSr (our side), host order */
	uint8_t		 src6_lo[16], src6_hi[16];	/* IPv6 TSr */
	unsigned long long gen;		/* install order: newest wins */
	bool		 out_ok;	/* may carry what the TUN sends */
	struct ike_suite suite;		/* negotiated, for iketcpctl */
};

/* A session's backend state. */
struct integ_sess {
	struct session	*s;
	struct integ_sec *sec;
	struct ike_sa	*ike;
	struct integ_child ch[IKE_SA_CHILD_MAX];
	unsigned long long gen;		/* Child SAs installed so far */
	struct vip_entry vip4;		/* in sec->vips while linked */
	struct vip_entry vip6;		/* in sec->vips while linked */
	struct ike_endpoint local, remote;
	bool		 dead;		/* freed by the linger timer */
	bool		 half_open;	/* counted in sec->half_open */
	struct integ_sess *snext, **sprev; /* sec->sessions */
	ev_timer	 req_timer;	/* ike_sa_next_ms(): our requests */
	ev_timer	 init_timer;	/* UDP: IKE SA up, or the end */
	ev_tstamp	 retx_other_at;	/* last cached answer to another
					 * UDP path (at most 1 a second) */
	unsigned long long req_stream;	/* stream id that carried the
					 * outstanding request; 0 none */
};

static inline uint64_t
integ_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* integ_rad.c: eap = radius; conf.eap_arg is the section. */
extern const struct ike_eap_backend integ_eap_radius;

/* integ_sess.c */
/*
 * An asynchronous EAP backend's answer for @is's pending IKE_AUTH
 * (ike_sa_eap_resume()): sends the response, logs, may end the session.
 */
void	integ_eap_ready(struct integ_sess *is, enum ike_eap_result er,
	    const struct ike_eap_out *eo);

/* integ_tun.c */
/* TUN -> ESP -> stream (the section's tio watcher). */
void	integ_tun_read_cb(EV_P_ ev_io *w, int revents);
/* Stream ESP -> the Child SA with its SPI -> TUN; drops are counted. */
/* ESP -> TUN; true when it was authentic and new (its ICV verified and
 * its sequence number had not been seen: RFC 4303 §3.4.3). */
bool	integ_tun_esp_input(struct integ_sess *is, const uint8_t *p,
	    size_t n);
/*
 * Installs @ch's ESP pair in a free slot; NULL (logged) when there is none
 * or the esp_sa cannot be built.
 */
struct integ_child *integ_tun_pair_add(struct integ_sess *is,
	    const struct ike_child *ch);
/* The session's ESP pair with inbound SPI @spi, or NULL. */
struct integ_child *integ_tun_pair_find(struct integ_sess *is,
	    uint32_t spi);
/* Frees @c's esp_sas; the slot is free again. */
void	integ_tun_pair_free(struct integ_child *c);

#endif /* IKETCP_RELAY_INTEG_INT_H */
