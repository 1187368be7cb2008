/*
 * Inside the responder: struct ike_sa and what sa.c gives the exchange
 * handlers (exch_init.c, exch_auth.c, exch_info.c).  Not for other
 * modules: they use ike/sa.h.
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
	IKE_SA_REASM_BYTES	= 16384	/* a fragmented request's plaintext */
};

/* What our outstanding request is for (exch_req.c). */
enum ike_req_kind {
	IKE_REQ_NONE,		/* nothing outstanding */
	IKE_REQ_DPD,		/* empty INFORMATIONAL: liveness (§2.4) */
	IKE_REQ_DELETE_IKE,	/* INFORMATIONAL, Delete of the IKE SA */
	IKE_REQ_DELETE_CHILD,	/* INFORMATIONAL, Delete of our ESP SPI */
	IKE_REQ_REKEY_CHILD,	/* CREATE_CHILD_SA with REKEY_SA (§1.3.3) */
	IKE_REQ_REKEY_IKE	/* CREATE_CHILD_SA rekeying the IKE SA */
};

struct ike_kex;

/* Requests we initiate: window 1, our own message IDs (§2.1-§2.3). */
struct ike_req {
	enum ike_req_kind kind;		/* the outstanding one, or NONE */
	uint32_t	 msgid_next;	/* our next request's message ID */
	uint32_t	 msgid;		/* the outstanding one's */
	uint8_t		 exchange;	/* the outstanding one's */
	uint8_t		*msg;		/* its bytes, for resending (malloc) */
	size_t		 len;
	uint64_t	 sent_ms;	/* first sent */
	uint64_t	 rtx_ms;	/* next retransmission */
	unsigned	 rtx_gap_ms;	/* current interval, doubling */
	bool		 want_delete;	/* a Delete of the IKE SA is queued */
	const char	*why_delete;	/* for the log: why we delete */
	uint32_t	 child_spi;	/* DELETE_CHILD: our inbound SPI */
	uint64_t	 up_ms;		/* ESTABLISHED since */
	uint64_t	 ike_expire_ms;	/* hard lifetime; 0 none */
	uint64_t	 child_expire_ms; /* the Child SA's; 0 none */
	uint64_t	 child_rekey_ms; /* its rekey is due; 0 none */
	/* REKEY_CHILD outstanding: the new Child SA so far. */
	struct ike_child rk;		/* spi_in, suite, esn, selectors */
	uint8_t		 rk_ni[IKE_SA_NONCE_LEN]; /* our nonce */
	struct ike_kex	*rk_kex;	/* PFS key exchange, or NULL */
	/* A rekeyed (old) Child SA whose Delete is queued or outstanding. */
	bool		 del_old;	/* queued */
	struct ike_child old;		/* its SPIs (no keys), for the event */
	/* IKE SA rekey (§1.3.2, §2.18). */
	uint64_t	 ike_rekey_ms;	/* due; 0 none */
	uint64_t	 rk_spi;	/* REKEY_IKE outstanding: our new SPI */
	struct ike_suite rk_suite;	/* and the suite offered */
	bool		 rekeyed;	/* we were rekeyed: a successor exists */
	struct ike_sa	*successor;	/* until ike_sa_successor() takes it */
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
	bool		 have_resp;	/* resp answers request resp_msgid */
	uint32_t	 resp_msgid;
	uint32_t	 msgid_next;	/* the next request's message ID */
	bool		 initial_contact;	/* in the IKE_AUTH request */
	uint8_t		 peer_id_type;
	uint8_t		 peer_id[IKE_SA_ID_MAX];
	size_t		 peer_id_len;
	uint32_t	 vip;		/* from the pool, host order; 0 none */
	bool		 has_vip6;	/* vip6 from conf->pool6 */
	uint8_t		 vip6[16];
	bool		 child_up;
	struct ike_child child;
	struct ike_reasm reasm;		/* RFC 7383 fragments of requests */
	uint64_t	 last_ms;
	bool		 nat_local, nat_remote;
	bool		 hash_algs;	/* SIGNATURE_HASH_ALGORITHMS seen */
	uint32_t	 hash_mask;	/* its hashes, bit 1 << id */
	struct ike_req	 req;		/* requests we initiate */
	bool		 we_init;	/* the original initiator is us: after
					 * our rekey of the IKE SA (§2.18) */
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
/* An unprotected IKE_SA_INIT answer with one notify; not kept. */
int	ike_sa_respond_notify(struct ike_sa *sa, const struct ike_hdr *req,
	    uint16_t type, const uint8_t *data, size_t data_len,
	    struct ike_out *out);
void	ike_sa_event(struct ike_out *out, enum ike_event_type type,
	    const struct ike_child *child);
void	ike_sa_reason(struct ike_out *out, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The exchanges.  @m is the parsed request (inner chain for SK). */
enum ike_sa_result ike_exch_init(struct ike_sa *sa, const uint8_t *msg,
	    size_t len, const struct ike_msg *m, struct ike_out *out);
enum ike_sa_result ike_exch_auth(struct ike_sa *sa, const struct ike_msg *m,
	    struct ike_out *out);
enum ike_sa_result ike_exch_info(struct ike_sa *sa, const struct ike_msg *m,
	    struct ike_out *out);

/*
 * Requests we initiate (exch_req.c).  ike_req_response(): a message with
 * the Response flag, SPIs already checked; @m is the outer parse.
 * ike_req_established(): the SA just became ESTABLISHED at @now_ms (arms
 * the lifetimes).  ike_req_deleting_child(): our outstanding request
 * deletes the Child SA with inbound SPI @spi (§1.4.1 collisions).
 */
enum ike_sa_result ike_req_response(struct ike_sa *sa, const uint8_t *msg,
	    size_t len, struct ike_msg *m, uint64_t now_ms,
	    struct ike_out *out);
void	ike_req_established(struct ike_sa *sa, uint64_t now_ms);
bool	ike_req_deleting_child(const struct ike_sa *sa, uint32_t spi);
void	ike_req_cleanup(struct ike_sa *sa);

#endif /* IKETCP_IKE_SA_INT_H */
