/*
 * The IKEv2 responder (RFC 7296): one IKE SA and its Child SAs (the
 * first from IKE_AUTH, more and rekeys from CREATE_CHILD_SA).
 * Pure: messages in, messages out.  The caller owns the sockets or
 * streams, strips the Non-ESP marker before ike_sa_handle() and adds it in
 * front of the response; this module never opens a socket and never logs
 * (out->reason carries the one line to log).
 *
 * Life of an SA, from the caller's side:
 *
 *   sa = ike_sa_new(&conf, &local, &remote, cookie ? IKE_SA_F_COOKIE : 0);
 *   ike_sa_handle(sa, msg, len, now_ms, &out);    IKE_SA_INIT, then every
 *                                                 request with its SPIs
 *   send out.msg (out.len octets) if any; act on out.ev[0 .. out.nev)
 *   after the first call, an SA that is still IKE_SA_IDLE holds no state
 *   (COOKIE or INVALID_KE_PAYLOAD was sent): free it; index the others by
 *   ike_sa_spi_r(); free an IKE_SA_DEAD one when it has lingered long
 *   enough to answer retransmissions.
 *   ike_sa_free(sa);                              wipes every key
 *
 * States: IDLE -> INIT_DONE (IKE_SA_INIT answered, keys computed) ->
 * ESTABLISHED (IKE_AUTH succeeded) -> DEAD; ESTABLISHED -> DELETING (we
 * sent a Delete of the IKE SA) -> DEAD.  An IKE SA rekey (RFC 7296 §2.18),
 * the peer's or ours, keeps the object ESTABLISHED: it takes the new SPIs
 * and keys (IKE_EV_IKE_REKEYED), and the old SA lives on inside it until
 * the rekey's initiator deletes it.
 *
 * Requests we initiate (exch_req.c; RFC 7296 §2.1, §2.2, §2.4, §1.4.1):
 * one outstanding at a time (window 1), under our own message-ID counter.
 * The caller asks when to come back and comes back then:
 *
 *   at = ike_sa_next_ms(sa);                      UINT64_MAX: nothing due
 *   ike_sa_tick(sa, now_ms, &out);                out.msg: a request to
 *                                                 send (out.resend: the same
 *                                                 bytes again); out.ev: the
 *                                                 peer was declared dead
 *   ike_sa_alive(sa, now_ms);                     authentic inbound ESP
 *   ike_sa_delete(sa, now_ms, &out);              start a Delete of the SA
 *
 * Responses to our requests come through ike_sa_handle().  See ike/README
 * ("Requests we initiate") for the schedule over a stream.
 */
#ifndef IKETCP_IKE_SA_H
#define IKETCP_IKE_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/codec.h"
#include "ike/eap.h"
#include "ike/fragout.h"
#include "ike/keys.h"
#include "ike/proposal.h"

#include <openssl/types.h>

struct ike_eap_backend;
struct ike_pool;
struct ike_sa;

enum {
	IKE_SA_MSG_MAX		= 8192,	/* a request or response, octets */
	IKE_SA_ID_MAX		= 255,	/* identification data, octets */
	IKE_SA_PSK_MAX		= 256,	/* pre-shared key, octets */
	IKE_SA_DNS_MAX		= 2,	/* INTERNAL_IP4_DNS servers */
	IKE_SA_CHILD_MAX	= 4,	/* Child SAs per IKE SA (rekeys too) */
	IKE_SA_EVENTS_MAX	= 8,	/* events from one ike_sa_handle() */
	IKE_SA_REASON_MAX	= 128,	/* out->reason, octets */
	IKE_SA_COOKIE_SECRET	= 32,	/* cookie secret, octets */
	IKE_SA_DPD_TIMEOUT_MS	= 30000, /* default dpd_timeout_ms */
	IKE_SA_RTX_FIRST_MS	= 2000,	/* first retransmission after */
	IKE_SA_RTX_MAX_MS	= 16000,	/* retransmission interval cap */
	IKE_SA_EAP_TIMEOUT_MS	= 30000, /* default eap_timeout_ms */
	IKE_SA_EAP_ROUNDS_MAX	= 16,	/* IKE_AUTH requests with EAP */
	/*
	 * Default frag_max: 1280 (RFC 7383 §2.5.1: the IPv6 minimum MTU,
	 * which nearly every IPv4 path carries too) less an IPv6 header
	 * (40), UDP (8) and the Non-ESP marker (4), the largest of the
	 * paths a message may take.
	 */
	IKE_SA_FRAG_MAX_DEFAULT	= 1280 - 40 - 8 - 4,
	/* frag_max at least: the IKE and SKF headers (36), an IV (16), an
	 * ICV (32) and a few blocks of plaintext with any suite. */
	IKE_SA_FRAG_MAX_MIN	= 160,
	IKE_SA_RR_COOKIE_LEN	= 16	/* our COOKIE2 (RFC 4555 §4.2.5) */
};

/* An address and port as the caller sees them; addr in network order. */
struct ike_endpoint {
	uint8_t		 family;	/* 4 or 6 */
	uint8_t		 addr[16];	/* 4 octets used for IPv4 */
	uint16_t	 port;
};

/*
 * Finds the PSK for the initiator's identity (@id_type, @id / @id_len as
 * in its IDi payload).  Writes at most @cap octets to @psk and sets
 * *psk_len; returns 0, or -1 for an unknown identity.
 */
typedef int ike_psk_fn(void *arg, uint8_t id_type, const uint8_t *id,
    size_t id_len, uint8_t *psk, size_t cap, size_t *psk_len);
/* A fresh inbound ESP SPI; 0 is never used (asked again). */
typedef uint32_t ike_spi_fn(void *arg);

/* What the responder accepts; must outlive every SA that uses it. */
struct ike_sa_conf {
	const struct ike_prop *ike;	/* IKE proposals, best first */
	size_t		 nike;
	const struct ike_prop *esp;	/* ESP proposals, best first */
	size_t		 nesp;
	uint8_t		 id_type;	/* our IDr: enum ike_id_type */
	const uint8_t	*id;
	size_t		 id_len;
	ike_psk_fn	*psk;		/* NULL: no PSK authentication */
	void		*psk_arg;
	/*
	 * Certificates (RFC 7296 §3.6, RFC 7427): @key and @cert (DER) sign
	 * our AUTH when the peer authenticates with a signature; @ca, when
	 * set, verifies the peer's CERT (NULL: no signature AUTH accepted).
	 * Our id should be one the certificate carries.
	 */
	EVP_PKEY	*key;
	const uint8_t	*cert;
	size_t		 cert_len;
	/*
	 * Intermediate certificates sent after @cert, in this order, so that
	 * a peer holding only the root can build the chain (§3.6).
	 */
	const struct ike_cert *inter;
	size_t		 ninter;
	X509_STORE	*ca;
	/*
	 * CERTREQ data for the IKE_SA_INIT response (§3.7): the 20-octet
	 * SHA-1 hashes of @ca's trust anchors' SubjectPublicKeyInfo,
	 * concatenated (ike_cert_ca_hashes()); 0 octets: no CERTREQ.
	 */
	const uint8_t	*certreq;
	size_t		 certreq_len;
	ike_spi_fn	*spi;		/* NULL: RAND_bytes */
	void		*spi_arg;
	struct ike_pool	*pool;		/* NULL: TSi is the peer's address */
	uint32_t	 dns[IKE_SA_DNS_MAX];	/* host order */
	size_t		 ndns;
	struct ike_ts	 local_ts;	/* IPv4 range we offer as TSr */
	/* IPv6 (RFC 7296 §3.15.1): NULL pool6, no INTERNAL_IP6_ADDRESS. */
	struct ike_pool	*pool6;
	uint8_t		 dns6[IKE_SA_DNS_MAX][16];
	size_t		 ndns6;
	struct ike_ts	 local_ts6;	/* IPv6 range we offer as TSr */
	uint8_t		 cookie_secret[IKE_SA_COOKIE_SECRET];
	unsigned	 kex_flags;	/* enum ike_kex_flags */
	/*
	 * Requests we initiate.  dpd_delay_ms: a liveness check after that
	 * long without anything authentic from the peer (0: none).
	 * dpd_timeout_ms: any request of ours unanswered for that long
	 * means the peer is dead (0: IKE_SA_DPD_TIMEOUT_MS).
	 * ike/child_lifetime_ms: hard lifetimes (0: none); the SAs are
	 * rekeyed before (ike/README) and deleted when one is reached.
	 */
	unsigned	 dpd_delay_ms;
	unsigned	 dpd_timeout_ms;
	unsigned	 ike_lifetime_ms;
	unsigned	 child_lifetime_ms;
	/*
	 * EAP (RFC 7296 §2.16, ike/eap.h): an initiator whose first
	 * IKE_AUTH has no AUTH payload is authenticated by @eap (NULL:
	 * refused, AUTHENTICATION_FAILED) and we by @key and @cert.  The
	 * conversation must end within eap_timeout_ms of its first
	 * request (0: IKE_SA_EAP_TIMEOUT_MS) and IKE_SA_EAP_ROUNDS_MAX
	 * requests, else the SA dies (ike_sa_tick()).
	 */
	const struct ike_eap_backend *eap;
	void		*eap_arg;
	unsigned	 eap_timeout_ms;
	/*
	 * IKE fragmentation (RFC 7383).  no_frag: IKEV2_FRAGMENTATION_-
	 * SUPPORTED is not answered, so neither side fragments.  Else,
	 * when the initiator offered it, every protected message we send
	 * that is longer than frag_max octets (IKE header to ICV; 0:
	 * IKE_SA_FRAG_MAX_DEFAULT, at least IKE_SA_FRAG_MAX_MIN) comes
	 * with its fragments too (ike_out.frags), each at most frag_max:
	 * the caller sends those over UDP and the whole message over a
	 * stream.
	 */
	bool		 no_frag;
	size_t		 frag_max;
};

enum ike_sa_state {
	IKE_SA_IDLE,
	IKE_SA_INIT_DONE,
	IKE_SA_ESTABLISHED,
	IKE_SA_DELETING,
	IKE_SA_DEAD
};

enum ike_sa_flags {
	IKE_SA_F_COOKIE	= 0x01,	/* half-open over the threshold (§2.6) */
	/* Our NAT_DETECTION_SOURCE_IP matches no address, so that the
	 * peer sees a NAT and puts ESP in UDP (RFC 3948) whatever the
	 * path: for a server that takes ESP in UDP only. */
	IKE_SA_F_FAKE_NAT = 0x02,
};

/* The negotiated Child SA; keys are ours to wipe. */
struct ike_child {
	uint32_t	 spi_in;	/* ours: the initiator sends with it */
	uint32_t	 spi_out;	/* the initiator's: we send with it */
	struct ike_suite suite;		/* encr, encr_bits, integ */
	bool		 esn;
	/* ei/ai: initiator to us (inbound); er/ar: us to initiator. */
	struct ike_child_keys keys;
	struct ike_ts	 tsi;		/* the initiator's side (virtual IP) */
	struct ike_ts	 tsr;		/* our side */
	uint32_t	 vip;		/* host order, 0 = none assigned */
	/*
	 * A rekey (RFC 7296 §1.3.3): spi_in of the Child SA this one
	 * replaces, which stays installed until it is deleted (§2.8);
	 * 0 for a new Child SA.
	 */
	uint32_t	 replaces;
	/* We started the exchange that made it (a rekey of ours). */
	bool		 initiated;
	/* An IPv6 virtual address and its selectors, when has6. */
	bool		 has6;
	uint8_t		 vip6[16];
	struct ike_ts	 tsi6, tsr6;
};

enum ike_event_type {
	IKE_EV_IKE_UP,		/* IKE SA authenticated */
	IKE_EV_CHILD_UP,	/* install: inbound spi_in, outbound spi_out */
	IKE_EV_CHILD_DOWN,	/* remove child (keys already wiped) */
	IKE_EV_IKE_DOWN,	/* IKE SA gone: deleted (either side), or
				 * the peer declared dead (out->reason) */
	/*
	 * IKE SA rekeyed (RFC 7296 §2.18): ike_sa_spi_i/_r() are the new
	 * SPIs, spi_i/spi_r the old ones, which still answer the old SA's
	 * Delete (ike_sa_knows_spi_i()); the Child SAs stay.
	 */
	IKE_EV_IKE_REKEYED,
	/*
	 * RFC 4555 §3.5 UPDATE_SA_ADDRESSES accepted: the initiator asks
	 * that the SA use the path the request came on (the one given by
	 * the last ike_sa_set_path(), whose NAT_DETECTION hashes the
	 * response carries).  When the SA moves is the caller's decision:
	 * to a new UDP address only after a return routability check
	 * (ike_sa_rr_check()).
	 */
	IKE_EV_ADDRESSES,
	/*
	 * RFC 4555 §3.7: our return routability check was answered with
	 * its COOKIE2 (RR_OK): the peer receives at the address the caller
	 * sent the check to.  RR_FAILED: it was answered without it
	 * (out->reason says how).
	 */
	IKE_EV_RR_OK,
	IKE_EV_RR_FAILED
};

struct ike_event {
	enum ike_event_type type;
	/*
	 * CHILD_*: a slot of the SA's Child SA table; it stays at the same
	 * address while the Child SA lives (until its CHILD_DOWN, whose
	 * pointer is valid until the next ike_sa_handle()).
	 */
	const struct ike_child *child;
	uint64_t	 spi_i, spi_r;	/* IKE_REKEYED: the old SA's */
};

enum ike_sa_result {
	IKE_SA_ANSWERED,	/* processed; out->msg is the response */
	IKE_SA_RETRANSMIT,	/* a retransmitted request: the same bytes */
	IKE_SA_FRAGMENT,	/* a fragment was kept; nothing to send yet */
	IKE_SA_DROPPED,		/* ignored; out->reason says why */
	/*
	 * An IKE_AUTH request whose EAP response went to an asynchronous
	 * backend (ike/eap.h): nothing to send now; the response comes
	 * from ike_sa_eap_resume().  Until then every request, its own
	 * retransmissions too, is dropped: not answered, not passed on.
	 */
	IKE_SA_PENDING
};

struct ike_out {
	const uint8_t	*msg;	/* response, owned by the SA: valid until */
	size_t		 len;	/* the next ike_sa_handle() or ike_sa_free() */
	bool		 resend; /* a request of ours sent before: same bytes */
	/*
	 * @msg demands a COOKIE (RFC 7296 §2.6): a stateless answer that the
	 * caller counts; false for every other message.
	 */
	bool		 cookie;
	/*
	 * @msg as RFC 7383 fragments (owned by the SA, valid as @msg;
	 * frags.n 0: none): sent instead of @msg over UDP, never over a
	 * stream (RFC 9329 §7, IKE fragmentation).  A retransmission gives the same
	 * fragments again, never new ones.
	 */
	struct ike_frags frags;
	/*
	 * @msg is our return routability check (ike_sa_rr_check()) or its
	 * retransmission: the caller sends it to the address under test
	 * and nowhere else, or the answer proves nothing.
	 */
	bool		 rr;
	size_t		 nev;
	struct ike_event ev[IKE_SA_EVENTS_MAX];
	/* Why a request failed or was dropped; "" when all went well. */
	char		 reason[IKE_SA_REASON_MAX];
};

/*
 * A responder SA for an IKE_SA_INIT from @remote to @local (the addresses
 * go into the NAT_DETECTION hashes, the cookie and, without a pool, TSi).
 * NULL when out of memory.
 */
struct ike_sa *ike_sa_new(const struct ike_sa_conf *conf,
	    const struct ike_endpoint *local,
	    const struct ike_endpoint *remote, unsigned flags);
/* Wipes every key, releases the virtual IP, frees.  NULL is a no-op. */
void	ike_sa_free(struct ike_sa *sa);

/*
 * One IKE message (without the Non-ESP marker, @len octets) from the
 * initiator.  Fills @out; see enum ike_sa_result.
 */
enum ike_sa_result ike_sa_handle(struct ike_sa *sa, const uint8_t *msg,
	    size_t len, uint64_t now_ms, struct ike_out *out);

enum ike_sa_state ike_sa_state(const struct ike_sa *sa);
const char *ike_sa_state_name(enum ike_sa_state state);
uint64_t ike_sa_spi_i(const struct ike_sa *sa);
/*
 * True for the current initiator SPI and, after an IKE SA rekey, for the
 * old one until the old SA is deleted: both belong to this session.
 */
bool	ike_sa_knows_spi_i(const struct ike_sa *sa, uint64_t spi_i);
/* Ours; 0 until IKE_SA_INIT is answered. */
uint64_t ike_sa_spi_r(const struct ike_sa *sa);
/* The negotiated IKE suite (valid from INIT_DONE). */
const struct ike_suite *ike_sa_suite(const struct ike_sa *sa);
/*
 * When something authentic last came from the peer: a request, a response
 * or (ike_sa_alive()) ESP.
 */
uint64_t ike_sa_last_ms(const struct ike_sa *sa);
/*
 * The initiator's authenticated ID (valid from ESTABLISHED); after a
 * refused IKE_AUTH, the ID it claimed (for the log); *len 0 when none.
 */
/* How the initiator authenticated (or asked to), for statistics. */
enum ike_sa_auth {
	IKE_SA_AUTH_NONE,	/* no IKE_AUTH yet */
	IKE_SA_AUTH_PSK,	/* shared key MIC */
	IKE_SA_AUTH_CERT,	/* RSA or Digital Signature */
	IKE_SA_AUTH_EAP,	/* no AUTH payload: EAP asked */
	IKE_SA_AUTH_OTHER,
	IKE_SA_AUTH_N
};
enum ike_sa_auth ike_sa_peer_auth(const struct ike_sa *sa);
const char *ike_sa_auth_name(enum ike_sa_auth a);
const uint8_t *ike_sa_peer_id(const struct ike_sa *sa, uint8_t *type,
	    size_t *len);
/* The EAP identity the peer gave (printable ASCII), or "" when none. */
const char *ike_sa_eap_identity(const struct ike_sa *sa);
/*
 * The @owner an asynchronous EAP backend's start() gets (ike/eap.h):
 * whom it tells that an answer is ready.  Set before IKE_AUTH.
 */
void	ike_sa_set_eap_owner(struct ike_sa *sa, void *owner);
/*
 * The backend's answer @er / @eo to the pending IKE_AUTH request (after
 * IKE_SA_PENDING): builds and keeps the response as ike_sa_handle()
 * would have (out->msg; out->reason on a refusal, after which the SA
 * is dead).  IKE_SA_DROPPED, with nothing sent, when no request is
 * pending (the SA died meanwhile).  @eo is not kept; its MSK is the
 * caller's to wipe.
 */
enum ike_sa_result ike_sa_eap_resume(struct ike_sa *sa,
	    enum ike_eap_result er, const struct ike_eap_out *eo,
	    uint64_t now_ms, struct ike_out *out);
/*
 * INITIAL_CONTACT came with IKE_AUTH (§2.4): the caller should delete
 * other IKE SAs of the same peer ID.
 */
bool	ike_sa_initial_contact(const struct ike_sa *sa);
/*
 * The addresses the next message arrived on (a stream's TCP addresses
 * and ports, or a UDP path's): they feed the NAT_DETECTION hashes of
 * IKE_SA_INIT and of MOBIKE's INFORMATIONAL exchanges.  @fake_nat: on
 * this path our NAT_DETECTION_SOURCE_IP matches no address of ours
 * (IKE_SA_F_FAKE_NAT: a UDP path of a server that takes ESP in UDP
 * only); false on a stream, where a NAT changes no encapsulation (RFC
 * 9329, "NAT Detection Payloads") and the hashes tell the truth.
 */
void	ike_sa_set_path(struct ike_sa *sa, const struct ike_endpoint *local,
	    const struct ike_endpoint *remote, bool fake_nat);
/* MOBIKE (RFC 4555) was agreed in IKE_AUTH. */
bool	ike_sa_mobike(const struct ike_sa *sa);
/* NAT seen by NAT_DETECTION (§2.23): in front of the peer / of us. */
bool	ike_sa_nat_remote(const struct ike_sa *sa);
bool	ike_sa_nat_local(const struct ike_sa *sa);
/* IKE fragmentation (RFC 7383) agreed in IKE_SA_INIT. */
bool	ike_sa_frag(const struct ike_sa *sa);


/*
 * When ike_sa_tick() has something to do: a request to start, retransmit
 * or give up on, or an EAP conversation's deadline.  UINT64_MAX: nothing
 * (not established and no EAP, or dead).
 */
uint64_t ike_sa_next_ms(const struct ike_sa *sa);
/*
 * Does what is due at @now_ms.  out->msg: a request to send (out->resend
 * for the same bytes again); out->ev IKE_EV_CHILD_DOWN / IKE_EV_IKE_DOWN
 * with out->reason when the peer did not answer in time (§2.4: the SA is
 * then dead, its virtual IP released); CHILD_UP / IKE_REKEYED never come
 * from here (they come with the responses).
 */
void	ike_sa_tick(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out);
/* Authentic inbound ESP at @now_ms: the peer is alive (§2.4). */
void	ike_sa_alive(struct ike_sa *sa, uint64_t now_ms);
/*
 * Starts a Delete of the IKE SA (§1.4.1): out->msg is the request, or
 * nothing yet when another request of ours is outstanding (it goes out
 * from ike_sa_tick() once that one is answered).  -1 when the SA is not
 * established or is already being deleted.
 */
int	ike_sa_delete(struct ike_sa *sa, uint64_t now_ms, struct ike_out *out);
/*
 * RFC 4555 §3.7: starts a return routability check, an INFORMATIONAL
 * request carrying a COOKIE2 of IKE_SA_RR_COOKIE_LEN fresh random octets
 * (out->msg, with out->rr set).  Its authentic response brings
 * IKE_EV_RR_OK when it echoes the cookie, IKE_EV_RR_FAILED otherwise;
 * it is retransmitted by ike_sa_tick() (out->rr again) and, unanswered
 * for dpd_timeout_ms, ends the SA as any request of ours does.  -1,
 * nothing built, unless MOBIKE was agreed, the SA is ESTABLISHED and no
 * request of ours is outstanding (window 1: ask again once
 * ike_sa_req_idle()).
 */
int	ike_sa_rr_check(struct ike_sa *sa, uint64_t now_ms,
	    struct ike_out *out);
/* No request of ours is outstanding: one may start. */
bool	ike_sa_req_idle(const struct ike_sa *sa);
/* The request of ours outstanding is a return routability check. */
bool	ike_sa_rr_outstanding(const struct ike_sa *sa);

#endif /* IKETCP_IKE_SA_H */
