/*
 * Inside the responder: struct ike_sa and what sa.c gives the exchange
 * handlers (exch_init.c, exch_auth.c, exch_info.c, exch_child.c).  Not
 * for other modules: they use ike/sa.h.
 *
 * Every handler follows one shape: process the request, decide, then
 * build the response.  Results are computed into locals and committed to
 * the SA at the end, once nothing can fail any more.
 */
#ifndef IKETCP_IKE_SA_INT_H
#define IKETCP_IKE_SA_INT_H

#include <stdarg.h>

#include "ike/frag.h"
#include "ike/sa.h"
#include "ike/sk.h"

enum {
	IKE_SA_NONCE_LEN	= 32,	/* our Nr, octets */
	IKE_SA_INNER_MAX	= 6144,	/* a protected response's plaintext */
	IKE_SA_REASM_BYTES	= 16384,	/* fragmented request, octets */
	IKE_SA_NATD_LEN		= 20,	/* a NAT_DETECTION hash (SHA-1) */
	IKE_SA_COOKIE2_MIN	= 8,	/* RFC 4555 §4.2.5, octets */
	IKE_SA_COOKIE2_MAX	= 64
};

/* One slot of an IKE SA's Child SA table. */
struct ike_child_slot {
	bool		 used;
	uint64_t	 rekey_ms;	/* our rekey of it is due; 0 none */
	uint64_t	 expire_ms;	/* its hard lifetime; 0 none */
	bool		 closing;	/* our Delete of it is outstanding */
	struct ike_child ch;		/* what the events point at */
	/* The nonces of the exchange that made it: §2.8.1 tie-breaks. */
	uint8_t		 ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t		 ni_len, nr_len;
};

/*
 * The IKE SA that a rekey replaced (§2.18), kept until the initiator
 * deletes it: its SPIs, keys and message-ID window, so that its Delete
 * and a retransmitted rekey request are still answered.
 */
struct ike_sa_old {
	uint64_t	 spi_i, spi_r;
	struct ike_sk	 sk_in, sk_out;
	uint8_t		*resp;		/* its last response (malloc) */
	size_t		 resp_len;
	struct ike_frags resp_frags;	/* and as fragments, or none */
	bool		 have_resp;
	uint32_t	 resp_msgid;
	uint32_t	 msgid_next;
	bool		 orig_init;	/* we were its original initiator */
};

/* What our outstanding request is for (exch_req.c). */
enum ike_req_kind {
	IKE_REQ_NONE,		/* nothing outstanding */
	IKE_REQ_DPD,		/* empty INFORMATIONAL: liveness (§2.4) */
	IKE_REQ_DELETE_IKE,	/* INFORMATIONAL, Delete of the IKE SA */
	IKE_REQ_DELETE_CHILD,	/* INFORMATIONAL, Delete of our ESP SPI */
	IKE_REQ_REKEY_CHILD,	/* CREATE_CHILD_SA with REKEY_SA (§1.3.3) */
	IKE_REQ_REKEY_IKE,	/* CREATE_CHILD_SA rekeying the IKE SA */
	IKE_REQ_RR_CHECK	/* INFORMATIONAL, COOKIE2 (RFC 4555 §3.7) */
};

struct ike_kex;
struct ike_eap_backend;

/*
 * An EAP conversation in IKE_AUTH (§2.16, exch_eap.c), from the first
 * IKE_AUTH request (no AUTH) to the last (AUTH from the MSK).  The SA
 * stays INIT_DONE -- half-open -- all along.
 */
struct ike_sa_eap {
	void		*conv;		/* the backend's conversation */
	uint8_t		*req1;		/* the first request's inner chain */
	size_t		 req1_len;
	uint8_t		 req1_first;	/* its first payload type */
	bool		 done;		/* EAP-Success sent: AUTH is next */
	uint8_t		 msk[64];
	size_t		 msk_len;
	unsigned	 rounds;	/* IKE_AUTH requests carrying EAP */
	uint64_t	 deadline_ms;	/* the conversation ends by then */
	/*
	 * The backend answers later (IKE_SA_PENDING): the request's header,
	 * for the response ike_sa_eap_resume() builds.
	 */
	bool		 pending;
	struct ike_hdr	 pending_hdr;
	uint32_t	 framed_ip;	/* the backend's choice; 0 none */
	char		 identity[256];	/* EAP identity, once known */
};

/* Requests we initiate: window 1, our own message IDs (§2.1-§2.3). */
struct ike_req {
	enum ike_req_kind kind;		/* the outstanding one, or NONE */
	uint32_t	 msgid_next;	/* our next request's message ID */
	uint32_t	 msgid;		/* the outstanding one's */
	uint8_t		 exchange;	/* the outstanding one's */
	uint8_t		*msg;		/* its bytes, for resending (malloc) */
	size_t		 len;
	struct ike_frags frags;		/* and as fragments, or none */
	uint64_t	 sent_ms;	/* first sent */
	uint64_t	 rtx_ms;	/* next retransmission */
	unsigned	 rtx_gap_ms;	/* current interval, doubling */
	bool		 want_delete;	/* a Delete of the IKE SA is queued */
	const char	*why_delete;	/* for the log: why we delete */
	uint32_t	 child_spi;	/* DELETE_CHILD, REKEY_CHILD: the
					 * Child SA's inbound SPI */
	uint32_t	 del_queued;	/* a rekeyed Child SA's inbound SPI
					 * whose Delete is due; 0 none */
	uint64_t	 up_ms;		/* ESTABLISHED since */
	uint64_t	 ike_expire_ms;	/* hard lifetime; 0 none */
	uint64_t	 ike_rekey_ms;	/* our IKE SA rekey is due; 0 none */
	/* REKEY_CHILD / REKEY_IKE outstanding. */
	struct ike_child rk;		/* the new Child SA so far */
	uint64_t	 rk_spi;	/* our new IKE SPI */
	struct ike_suite rk_suite;	/* the IKE suite offered */
	uint8_t		 rk_ni[IKE_SA_NONCE_LEN]; /* our nonce */
	struct ike_kex	*rk_kex;	/* its key exchange, or NULL */
	/*
	 * After our IKE SA rekey, our Delete of the old SA (§2.18), on the
	 * old SPIs and keys, beside the new SA's own requests.
	 */
	bool		 old_del;	/* queued or outstanding */
	uint32_t	 old_msgid;	/* its message ID (the old counter) */
	uint8_t		*old_msg;	/* its bytes once sent (malloc) */
	size_t		 old_len;
	struct ike_frags old_frags;	/* and as fragments, or none */
	uint64_t	 old_sent_ms, old_rtx_ms;
	/* RR_CHECK outstanding: the COOKIE2 its answer must echo. */
	uint8_t		 rr_cookie[IKE_SA_RR_COOKIE_LEN];
};

/*
 * Requests of our own still outstanding, for the collision rules of
 * RFC 7296 §2.25 (set and cleared by whoever sends them).
 */
enum ike_sa_own {
	IKE_SA_OWN_IKE_REKEY	= 0x01,	/* our IKE SA rekey */
	IKE_SA_OWN_CHILD	= 0x02	/* our Child SA create, rekey, delete */
};

struct ike_sa {
	const struct ike_sa_conf *conf;
	enum ike_sa_state state;
	unsigned	 flags;		/* enum ike_sa_flags */
	struct ike_endpoint local, remote;
	uint64_t	 spi_i, spi_r;
	struct ike_suite suite;
	struct ike_keys	 keys;
	struct ike_sk	 sk_in, sk_out;
	uint8_t		 ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t		 ni_len, nr_len;
	uint8_t		*init_req;	/* IKE_SA_INIT request, for AUTH */
	size_t		 init_req_len;
	uint8_t		*init_resp;	/* IKE_SA_INIT response, for AUTH */
	size_t		 init_resp_len;
	uint8_t		*resp;		/* last response (malloc) */
	size_t		 resp_len;
	struct ike_frags resp_frags;	/* and as fragments, or none */
	bool		 have_resp;	/* resp answers request resp_msgid */
	uint32_t	 resp_msgid;
	uint32_t	 msgid_next;	/* the next request's message ID */
	bool		 initial_contact;	/* in the IKE_AUTH request */
	uint8_t		 peer_id_type;
	enum ike_sa_auth peer_auth_method; /* as the peer's IKE_AUTH asked */
	uint8_t		 peer_id[IKE_SA_ID_MAX];
	size_t		 peer_id_len;
	uint32_t	 vip;		/* from the pool, host order; 0 none */
	struct ike_child_slot children[IKE_SA_CHILD_MAX];
	bool		 has_old;	/* old is a rekeyed IKE SA */
	bool		 in_old;	/* old is swapped in (sa.c only) */
	struct ike_sa_old old;
	bool		 has_vip6;	/* vip6 from conf->pool6 */
	uint8_t		 vip6[16];
	struct ike_reasm reasm;		/* RFC 7383 fragments of requests */
	bool		 frag;		/* RFC 7383 agreed in IKE_SA_INIT */
	uint64_t	 last_ms;
	bool		 nat_local, nat_remote;
	bool		 mobike;	/* RFC 4555 agreed in IKE_AUTH */
	unsigned	 own;		/* enum ike_sa_own */
	/*
	 * We are the original initiator (§2.18: after an IKE SA rekey we
	 * started): the peer's requests come without the Initiator flag
	 * and our messages carry it.
	 */
	bool		 orig_init;
	bool		 hash_algs;	/* SIGNATURE_HASH_ALGORITHMS seen */
	uint32_t	 hash_mask;	/* its hashes, bit 1 << id */
	struct ike_req	 req;		/* requests we initiate */
	struct ike_sa_eap *eap;		/* EAP in progress or done; NULL */
	void		*eap_owner;	/* ike_sa_set_eap_owner() */
};

/* Checks the transition against the state diagram; asserts on a bug. */
void	ike_sa_set_state(struct ike_sa *sa, enum ike_sa_state to);

/*
 * Makes @buf (malloc, @len octets) the response to request @msgid and
 * points out->msg at it.  Consumes @buf on every path.  @keep: remember it
 * for retransmissions (false for the stateless IKE_SA_INIT answers).
 */
int	ike_sa_respond(struct ike_sa *sa, uint32_t msgid, bool keep,
	    uint8_t *buf, size_t len, struct ike_out *out);
/*
 * Encrypts @inner (a payload chain starting with type @first) into an SK
 * payload of a response to @req and responds with it (kept).
 */
int	ike_sa_respond_sk(struct ike_sa *sa, const struct ike_hdr *req,
	    uint8_t first, const uint8_t *inner, size_t inner_len,
	    struct ike_out *out);
/*
 * RFC 7383 §2.5: @inner (first payload @first) of the protected message
 * @h as fragments into *@f, when fragmentation was agreed and the whole
 * message, @whole_len octets, is longer than the conf's frag_max; else
 * (or when they cannot be made: the whole message goes alone) *@f stays
 * empty.  Uses sa->sk_out (AEAD: one IV a fragment).
 */
void	ike_sa_frags(struct ike_sa *sa, const struct ike_hdr *h, uint8_t first,
	    const uint8_t *inner, size_t inner_len, size_t whole_len,
	    struct ike_frags *f);
/* An unprotected IKE_SA_INIT answer with one notify; not kept. */
int	ike_sa_respond_notify(struct ike_sa *sa, const struct ike_hdr *req,
	    uint16_t type, const uint8_t *data, size_t data_len,
	    struct ike_out *out);
void	ike_sa_event(struct ike_out *out, enum ike_event_type type,
	    const struct ike_child *child);
void	ike_sa_reason(struct ike_out *out, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The Child SA table (sa.c).  Reusable for Child SAs we create ourselves
 * (a server-initiated rekey):
 *
 * ike_sa_child_count: live Child SAs; a new one needs fewer than
 *   IKE_SA_CHILD_MAX (else NO_ADDITIONAL_SAS).
 * ike_sa_child_install: copies @ch (keys included) and the exchange's
 *   nonces into a free slot and returns the slot's Child SA (a stable
 *   address until it is removed), or NULL when the table is full.  The
 *   caller wipes its copy of the keys and sends IKE_EV_CHILD_UP.
 * ike_sa_child_by_spi_out / _by_spi_in: a live Child SA by the
 *   initiator's SPI (what REKEY_SA and Delete name) or by ours.
 * ike_sa_child_remove: wipes the keys, frees the slot and adds
 *   IKE_EV_CHILD_DOWN (the pointer stays readable until the next call).
 * ike_sa_child_slot: the slot of a live Child SA (its nonces).
 */
size_t	ike_sa_child_count(const struct ike_sa *sa);
struct ike_child *ike_sa_child_install(struct ike_sa *sa,
	    const struct ike_child *ch, const uint8_t *ni, size_t ni_len,
	    const uint8_t *nr, size_t nr_len);
struct ike_child *ike_sa_child_by_spi_out(struct ike_sa *sa, uint32_t spi);
struct ike_child *ike_sa_child_by_spi_in(struct ike_sa *sa, uint32_t spi);
void	ike_sa_child_remove(struct ike_sa *sa, struct ike_child *ch,
	    struct ike_out *out);
struct ike_child_slot *ike_sa_child_slot(struct ike_sa *sa,
	    const struct ike_child *ch);

/*
 * RFC 7296 §2.8.1: nonces compare as octet strings, a proper prefix
 * being the lower; <0, 0 or >0 as memcmp.
 */
int	ike_nonce_cmp(const uint8_t *a, size_t a_len, const uint8_t *b,
	    size_t b_len);
/*
 * §2.8.1 simultaneous rekey: exchange A (nonces ai/ar) and exchange B
 * (bi/br) made redundant SAs; true when the lowest of the four nonces is
 * one of A's, i.e. A's new SA is the one to close, by whoever initiated
 * exchange A.
 */
bool	ike_rekey_a_loses(const uint8_t *ai, size_t ai_len,
	    const uint8_t *ar, size_t ar_len, const uint8_t *bi,
	    size_t bi_len, const uint8_t *br, size_t br_len);

/*
 * IKE SA rekey, the switch (§2.18): the current SPIs, SK keys and
 * message-ID window (with the response just made, which is what a
 * retransmitted rekey request gets) become the old SA; the new SA takes
 * @spi_i/@spi_r, @suite, @keys, @sk_in/@sk_out (copied; the caller wipes
 * its copies) and message IDs from 0.  @we_initiated: the rekey was ours,
 * so we are the new SA's original initiator (§2.18; @spi_i is then our
 * SPI, and the caller derived the keys with initiator = true).  Child SAs
 * stay, now under SK_d of the new SA.  Adds IKE_EV_IKE_REKEYED.  An older
 * old SA still waiting for its Delete is dropped.
 */
void	ike_sa_ike_switch(struct ike_sa *sa, uint64_t spi_i, uint64_t spi_r,
	    const struct ike_suite *suite, const struct ike_keys *keys,
	    const struct ike_sk *sk_in, const struct ike_sk *sk_out,
	    bool we_initiated, struct ike_out *out);

/*
 * CREATE_CHILD_SA pieces (exch_child.c), for the responder and for
 * requests of our own:
 *
 * ike_child_ts: TSi/TSr narrowed as in IKE_AUTH (TSi = the virtual IP or
 *   the peer's address, TSr = local_ts ∩ theirs) into @ch; 0 or
 *   TS_UNACCEPTABLE (reason set).  (exch_auth.c)
 * ike_child_spi: a fresh inbound ESP SPI, 0 when none could be drawn.
 *   (exch_auth.c)
 * ike_child_keys: ch->suite from @c and KEYMAT = prf+(SK_d, [g^ir |] Ni |
 *   Nr) (§2.17) with Ni/Nr as the exchange's initiator/responder nonces.
 * ike_kex_answer: for group @group, our KE data into @pub (@pub_len =
 *   ike_kex_pub_len) and g^ir into @gir from the peer's @peer; 0/-1.
 */
uint16_t ike_child_ts(struct ike_sa *sa, const struct ike_payloads *pl,
	    struct ike_child *ch, struct ike_out *out);
uint32_t ike_child_spi(const struct ike_sa_conf *conf);
int	ike_child_keys(const struct ike_sa *sa, const struct ike_chosen *c,
	    const uint8_t *gir, size_t gir_len, const uint8_t *ni,
	    size_t ni_len, const uint8_t *nr, size_t nr_len,
	    struct ike_child *ch);
int	ike_kex_answer(const struct ike_sa_conf *conf, uint16_t group,
	    const uint8_t *peer, size_t peer_len, uint8_t *pub,
	    size_t pub_len, uint8_t *gir, size_t gir_len);

/* The first notify of @type in @pl, or NULL. */
const struct ike_notify *ike_sa_notify(const struct ike_payloads *pl,
	    uint16_t type);
/* §2.23: SHA-1(SPIi | SPIr | IP address | port) of @e.  (exch_init.c) */
int	ike_natd_hash(uint64_t spi_i, uint64_t spi_r,
	    const struct ike_endpoint *e, uint8_t out[static IKE_SA_NATD_LEN]);
/* Some notify of @type in @pl carries @hash.  (exch_init.c) */
bool	ike_natd_has(const struct ike_payloads *pl, uint16_t type,
	    const uint8_t hash[static IKE_SA_NATD_LEN]);
/* A notify without protocol or SPI.  (exch_init.c) */
int	ike_notify_add(struct ike_builder *b, uint16_t type,
	    const uint8_t *data, size_t len);
/* A fresh non-zero IKE SPI into @spi (network order), or 0. */
uint64_t ike_sa_draw_spi(uint8_t spi[static IKE_SPI_LEN]);

/* The exchanges.  @m is the parsed request (inner chain for SK). */
enum ike_sa_result ike_exch_init(struct ike_sa *sa, const uint8_t *msg,
	    size_t len, const struct ike_msg *m, struct ike_out *out);
enum ike_sa_result ike_exch_auth(struct ike_sa *sa, const struct ike_msg *m,
	    const uint8_t *inner, size_t inner_len, uint8_t first,
	    struct ike_out *out);

/*
 * IKE_AUTH pieces (exch_auth.c) for EAP (exch_eap.c):
 *
 * ike_id_ok: the ID's data fits its type (§3.5).
 * ike_auth_failed: AUTHENTICATION_FAILED (after @eap, an EAP-Failure,
 *   when not NULL) in the response to @hdr; the SA dies.
 * ike_auth_peer_octets: the initiator's signed octets for IDi of @pl.
 * ike_auth_ours: our AUTH with @psk (a PSK or the MSK) or, with @sig, a
 *   signature by our key, for the IDr payload body @idr_body.
 * ike_auth_establish: the IKE SA is authenticated by @psk or @sig: the
 *   final response (IDr, [CERT], AUTH, CP, SA, TSi, TSr) to @hdr built
 *   from the request payloads @pl, and the SA ESTABLISHED.
 * ike_exch_eap_begin / ike_exch_eap: the first EAP round (@inner: the
 *   request's plaintext chain, kept for the last round) and the next.
 * ike_sa_eap_free: forget the conversation (wipes the MSK).
 */
bool	ike_id_ok(const struct ike_id *id);
enum ike_sa_result ike_auth_failed(struct ike_sa *sa,
	    const struct ike_hdr *hdr, const struct ike_eap *eap,
	    struct ike_out *out);
uint8_t *ike_auth_peer_octets(const struct ike_sa *sa,
	    const struct ike_payloads *pl, size_t *len);
int	ike_auth_ours(const struct ike_sa *sa, const uint8_t *psk,
	    size_t psk_len, bool sig, const uint8_t *idr_body, size_t idr_len,
	    uint8_t *auth, size_t *auth_len, uint8_t *method);
enum ike_sa_result ike_auth_establish(struct ike_sa *sa,
	    const struct ike_hdr *hdr, const struct ike_payloads *pl,
	    const uint8_t *psk, size_t psk_len, bool sig, struct ike_out *out);
enum ike_sa_result ike_exch_eap_begin(struct ike_sa *sa,
	    const struct ike_msg *m, const uint8_t *inner, size_t inner_len,
	    uint8_t first, struct ike_out *out);
enum ike_sa_result ike_exch_eap(struct ike_sa *sa, const struct ike_msg *m,
	    struct ike_out *out);
void	ike_sa_eap_free(struct ike_sa *sa);
/* Ends the backend's conversation (a pending one is cancelled). */
void	ike_sa_eap_end(struct ike_sa *sa);
enum ike_sa_result ike_exch_info(struct ike_sa *sa, const struct ike_msg *m,
	    struct ike_out *out);
/*
 * The return routability check (RFC 4555 §3.7, exch_info.c):
 * ike_info_rr_inner: the request's inner chain, N(COOKIE2) with @cookie,
 *   into @inner (@cap octets); 0/-1.
 * ike_info_rr_answered: its authentic response's payloads @pl (@parsed:
 *   they parsed) echo @cookie: IKE_EV_RR_OK, else IKE_EV_RR_FAILED and a
 *   reason.
 */
int	ike_info_rr_inner(const uint8_t cookie[static IKE_SA_RR_COOKIE_LEN],
	    uint8_t *inner, size_t cap, size_t *len, uint8_t *first);
void	ike_info_rr_answered(const struct ike_payloads *pl, bool parsed,
	    const uint8_t cookie[static IKE_SA_RR_COOKIE_LEN],
	    struct ike_out *out);
enum ike_sa_result ike_exch_child(struct ike_sa *sa, const struct ike_msg *m,
	    struct ike_out *out);

/*
 * Requests we initiate (exch_req.c).  ike_req_response(): a message with
 * the Response flag, SPIs already checked (the old SA swapped in when
 * they are its); @m is the outer parse.  ike_req_established(): the SA
 * just became ESTABLISHED at @now_ms (arms the lifetimes).
 * ike_req_child_installed(): a new Child SA in @sl (arms its lifetimes
 * from sa->last_ms).  ike_req_switched(): ike_sa_ike_switch() happened;
 * a request of ours outstanding on the old SA is given up.
 * ike_req_deleting_child(): our outstanding request deletes the Child SA
 * with inbound SPI @spi (§1.4.1 collisions).
 */
enum ike_sa_result ike_req_response(struct ike_sa *sa, const uint8_t *msg,
	    size_t len, struct ike_msg *m, uint64_t now_ms,
	    struct ike_out *out);
void	ike_req_established(struct ike_sa *sa, uint64_t now_ms);
void	ike_req_child_installed(struct ike_sa *sa,
	    struct ike_child_slot *sl);
void	ike_req_switched(struct ike_sa *sa);
bool	ike_req_deleting_child(const struct ike_sa *sa, uint32_t spi);
void	ike_req_cleanup(struct ike_sa *sa);
/* The old SA after an IKE SA rekey (sa.c): swap it in and out; forget it. */
void	ike_sa_old_swap(struct ike_sa *sa);
void	ike_sa_old_drop(struct ike_sa *sa);

#endif /* IKETCP_IKE_SA_INT_H */
