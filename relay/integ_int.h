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
 *   integ_mob.c   MOBIKE across transports: verified client addresses,
 *                 the return routability check before a new UDP address
 *   vip.c         virtual IP -> session, for the TUN path
 */
#ifndef IKETCP_RELAY_INTEG_INT_H
#define IKETCP_RELAY_INTEG_INT_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ev.h>

#include "conf/conf.h"
#include "esp/tun.h"
#include "ike/cert.h"
#include "ike/eap.h"
#include "ike/frag.h"
#include "ike/fragout.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "relay/udpfront.h"
#include "relay/vip.h"

struct esp_sa;
struct probe;
struct radclient;
struct relay;
struct secrets;
struct session;

enum {
	INTEG_PROPS_MAX = IKE_PROP_LIST_MAX, /* proposals per list */
	INTEG_TUN_BATCH = 64,		/* packets per TUN read callback */
	INTEG_PKT_MAX = 65536,		/* an inner packet, octets */
	INTEG_MARKER = 4,		/* Non-ESP marker, octets */
	/* IPv6 header, UDP header, Non-ESP marker: around a fragment. */
	INTEG_FRAG_OVERHEAD = 40 + 8 + INTEG_MARKER,
	INTEG_PKT_BUF = INTEG_PKT_MAX + 64,	/* TUN read, ESP decap */
	INTEG_OUT_BUF = INTEG_PKT_MAX + 256,	/* ESP encap */
	/* An IKE message to a client: whole (to a stream), or its RFC
	 * 7383 fragments (over UDP), each behind a Non-ESP marker. */
	INTEG_IKE_BUF = INTEG_MARKER * IKE_FRAG_MAX + IKE_FRAGS_BYTES,
	INTEG_RETIRED_MAX = IKE_SA_CHILD_MAX,	/* retired inbound SAs */
	INTEG_RETIRED_MS = 2000,	/* kept this long after the Delete */
};

_Static_assert(INTEG_IKE_BUF >= INTEG_MARKER + IKE_SA_MSG_MAX,
    "ike_buf holds a whole message too");

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

enum {
	INTEG_MOB_ADDRS = 4,		/* verified client addresses kept */
	INTEG_MOB_GAP_MS = 1000,	/* between two checks' starts */
};

/*
 * MOBIKE across transports (integ_mob.c, relay/README "MOBIKE"): the
 * client addresses known to receive what we send, and our return
 * routability check (RFC 4555 §3.7) of a new UDP address.
 */
struct integ_mob {
	/* Verified client IP addresses, newest replacing the oldest. */
	struct sockaddr_storage ok[INTEG_MOB_ADDRS];
	unsigned	 nok, ok_next;
	bool		 out;		/* our check is outstanding */
	bool		 live;		/* its answer moves the SA to `to` */
	bool		 to_set;	/* it is (re)sent to `to` only */
	struct udp_path	 to;
	bool		 want;		/* a check of `next` is due */
	struct udp_path	 next;
	ev_tstamp	 last;		/* loop time the last check began */
	ev_timer	 gap;		/* a due check waits for the gap */
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

/*
 * The inbound SA of a Child SA that a rekey replaced, kept after its
 * Delete for the peer's ESP that was on its way (integ_tun.c,
 * integ_tun_child_gone()).
 */
struct integ_retired {
	struct esp_sa	*in;		/* NULL: a free slot */
	uint64_t	 until_ms;	/* integ_now_ms() when it goes */
};

/* A session's backend state. */
struct integ_sess {
	struct session	*s;
	struct integ_sec *sec;
	struct ike_sa	*ike;
	struct integ_child ch[IKE_SA_CHILD_MAX];
	struct integ_retired retired[INTEG_RETIRED_MAX];
	ev_timer	 retired_timer;	/* frees the retired SAs in time */
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
	struct integ_mob mob;		/* integ_mob.c */
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
/* Arms the session's request timer for ike_sa_next_ms(). */
void	integ_req_arm(struct integ_sess *is);
/* IKE message @out, behind the Non-ESP marker, to UDP path @path (not
 * the session's: an answer where a request came from, or a check). */
void	integ_send_path(struct integ_sess *is, const struct udp_path *path,
	    const struct ike_out *out);

/* integ_mob.c (relay/README, "MOBIKE") */
/* A new session; @udp_peer: the client's address when it began over UDP
 * (its IKE_SA_INIT came from there and its IKE_AUTH proves it got our
 * answer), NULL over a stream. */
void	integ_mob_init(struct integ_sess *is,
	    const struct sockaddr_storage *udp_peer);
void	integ_mob_cleanup(struct integ_sess *is);
/*
 * An authentic, new message from probe @pr must not move the session
 * there: MOBIKE was agreed (@mobike, as it stood before the message)
 * and @pr is a UDP path whose address is not verified.
 */
bool	integ_mob_withhold(const struct integ_sess *is, const struct probe *pr,
	    bool mobike);
/* UPDATE_SA_ADDRESSES accepted from @pr (NULL: the owner's path);
 * @withheld: integ_mob_withhold() held the session back. */
void	integ_mob_update(struct integ_sess *is, const struct probe *pr,
	    bool withheld);
/* The session moved another way (a proven stream, a verified path): a
 * check under way moves it no more. */
void	integ_mob_moved(struct integ_sess *is);
/* Request @out of ours: a check (out->rr) goes to the address under test
 * here (true); false: the caller sends it as any other. */
bool	integ_mob_send(struct integ_sess *is, const struct ike_out *out);
/* IKE_EV_RR_OK (@ok) or IKE_EV_RR_FAILED (@why: out->reason). */
void	integ_mob_answered(struct integ_sess *is, bool ok, const char *why);
/* After each call into ike/: notes a check that an IKE SA rekey gave
 * up, and starts a due one when no request of ours is outstanding. */
void	integ_mob_kick(struct integ_sess *is);
/* The path under test, or NULL (iketcpctl). */
const struct udp_path *integ_mob_checking(const struct integ_sess *is);

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
/*
 * Child SA @spi_in was deleted (its Delete exchange is over, RFC 7296
 * §1.4.1): its pair goes, and a rekey's successor may send from now on.
 * The inbound SA of a pair that a rekey replaced is retired instead of
 * freed: it still accepts ESP until @now_ms + INTEG_RETIRED_MS.  False
 * when the session has no such pair.
 */
bool	integ_tun_child_gone(struct integ_sess *is, uint32_t spi_in,
	    uint64_t now_ms);
/* Frees the retired inbound SAs due by @now_ms (all of them with
 * UINT64_MAX); the next one's time, or UINT64_MAX when none is left. */
uint64_t integ_tun_retired_expire(struct integ_sess *is, uint64_t now_ms);

#endif /* IKETCP_RELAY_INTEG_INT_H */
