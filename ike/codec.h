/*
 * IKEv2 message codec (RFC 7296 §3, RFC 7383 §2.5).
 *
 * ike_msg_parse() validates a whole message and decodes it into a plain
 * struct ike_msg: fixed-capacity arrays plus pointers into the caller's
 * buffer.  Every pointer in a parsed ike_msg points into the buffer given to
 * the parser and is valid only while that buffer lives and is unchanged.  The
 * parser never allocates, never logs and never writes to the input.
 *
 * SK and SKF bodies (IV, ciphertext, padding, ICV) are kept as blobs; the
 * caller decrypts them and parses the inner chain with ike_payloads_parse().
 *
 * The builder writes through a struct wr and never overruns it: payloads are
 * appended with their next-payload fields chained and their lengths patched;
 * ike_build_finish() patches the header length.  ike_msg_build() builds a
 * whole unencrypted message from a struct ike_msg such that parsing the
 * result gives back an equal struct (ike_msg_equal()).
 */
#ifndef IKETCP_IKE_CODEC_H
#define IKETCP_IKE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/ikev2.h"

struct wr;

/* Bounds: more than these is a syntax error, never an overflow. */
enum {
	IKE_MAX_REPEAT		= 64,	/* N, CERT, CERTREQ, V, D, unknown */
	IKE_MAX_PROPOSALS	= 32,	/* proposals in one SA payload */
	IKE_MAX_XFORMS		= 256,	/* transforms in one SA payload */
	IKE_MAX_XFORM_ATTRS	= 16,	/* non-Key-Length attributes, one SA */
	IKE_MAX_TS		= 16, /* traffic selectors in one TS payload */
	IKE_MAX_CP_ATTRS	= 32,	/* attributes in the CP payload */
	IKE_PAYLOAD_MAX		= 65535	/* a payload's length field, octets */
};

/* A run of bytes inside the parsed (or to-be-built) message. */
struct ike_data {
	const uint8_t	*p;	/* NULL when len is 0 */
	size_t		 len;	/* octets */
};

/* What ike_msg_parse() decided. */
enum ike_parse_result {
	IKE_PARSE_OK,
	IKE_PARSE_TRUNCATED,	/* shorter than the IKE header: drop */
	IKE_PARSE_BAD_LENGTH,	/* header length != datagram length: drop */
	IKE_PARSE_BAD_VERSION,	/* major != 2; err.notify says if to answer */
	IKE_PARSE_CRITICAL,	/* UNSUPPORTED_CRITICAL_PAYLOAD, err.payload */
	IKE_PARSE_SYNTAX	/* INVALID_SYNTAX */
};

/* Which rule failed: one value per rejection rule, for logs and tests. */
enum ike_parse_err {
	IKE_ERR_NONE,
	IKE_ERR_SHORT_HEADER,	/* less than 28 octets */
	IKE_ERR_HDR_LENGTH,	/* header length != buffer length */
	IKE_ERR_VERSION,	/* major version is not 2 */
	IKE_ERR_PL_HEADER,	/* generic header does not fit */
	IKE_ERR_PL_SHORT,	/* length below the payload's minimum */
	IKE_ERR_PL_PAST_END,	/* length runs past the message end */
	IKE_ERR_CHAIN_END,	/* bytes after the last payload */
	IKE_ERR_CRITICAL,	/* unknown payload with the critical bit */
	IKE_ERR_DUPLICATE,	/* second singleton payload */
	IKE_ERR_TOO_MANY,	/* a count over its IKE_MAX_* cap */
	IKE_ERR_SK_NOT_LAST,	/* SK/SKF not the last payload */
	IKE_ERR_NESTED_SK,	/* SK/SKF inside an encrypted chain */
	IKE_ERR_PROPOSAL,	/* proposal framing, numbering, protocol */
	IKE_ERR_PROPOSAL_SPI,	/* SPI size wrong for the protocol */
	IKE_ERR_TRANSFORM,	/* transform framing */
	IKE_ERR_ATTRIBUTE,	/* transform or CP attribute framing */
	IKE_ERR_NONCE_SIZE,	/* nonce outside 16..256 octets */
	IKE_ERR_NOTIFY_SPI,	/* notify SPI size */
	IKE_ERR_DELETE,		/* D protocol/SPI size/count disagree */
	IKE_ERR_TS,		/* TS count or framing */
	IKE_ERR_TS_LENGTH,	/* TS length wrong for its type */
	IKE_ERR_EAP_LENGTH,	/* EAP length disagrees with payload */
	IKE_ERR_SKF_NUMBER	/* fragment number 0 or > total */
};

struct ike_hdr {
	uint64_t	 spi_i;		/* initiator SPI */
	uint64_t	 spi_r;		/* responder SPI, 0 in IKE_SA_INIT */
	uint8_t		 next;		/* first payload (set by the parser) */
	uint8_t		 major;		/* 2 (builder always writes 2) */
	uint8_t		 minor;		/* ignored on receipt, RFC 7296 §2.5 */
	uint8_t		 exchange;	/* enum ike_exchange */
	uint8_t		 flags;		/* enum ike_flag bits only */
	uint32_t	 msgid;
	uint32_t	 length;	/* whole message, octets (parser) */
};

/* RFC 7296 §3.3.5: an attribute other than Key Length. */
struct ike_xattr {
	uint16_t	 type;		/* without the AF bit */
	bool		 tv;		/* AF set: value is in 'value' */
	uint16_t	 value;		/* TV value */
	struct ike_data	 data;		/* TLV value */
};

/* RFC 7296 §3.3.2. */
struct ike_xform {
	uint8_t		 type;		/* enum ike_xform_type (or unknown) */
	uint16_t	 id;		/* IKE_ENCR_* ... */
	uint16_t	 key_length;	/* bits; 0 = no Key Length attribute */
	uint8_t		 attr_first;	/* index into sa.attrs */
	uint8_t		 nattrs;	/* other attributes (unsupported) */
};

/* RFC 7296 §3.3.1. */
struct ike_proposal {
	uint8_t		 num;		/* proposal number, from 1 */
	uint8_t		 proto;		/* enum ike_proto */
	uint8_t		 spi_size;	/* 0 or 8 (IKE), 4 (AH, ESP) */
	uint8_t		 spi[8];	/* spi_size octets */
	uint16_t	 xform_first;	/* index into sa.xforms */
	uint16_t	 nxforms;
};

struct ike_sa_pl {
	uint8_t		 nproposals;
	uint16_t	 nxforms;	/* used entries of xforms[] */
	uint8_t		 nattrs;	/* used entries of attrs[] */
	struct ike_proposal proposals[IKE_MAX_PROPOSALS];
	struct ike_xform xforms[IKE_MAX_XFORMS];
	struct ike_xattr	 attrs[IKE_MAX_XFORM_ATTRS];
};

struct ike_ke {
	uint16_t	 group;		/* enum ike_dh */
	struct ike_data	 data;
};

struct ike_id {
	uint8_t		 type;		/* enum ike_id_type */
	struct ike_data	 data;
	struct ike_data	 body;	/* parser: whole body, for AUTH (§2.15) */
};

struct ike_cert {
	uint8_t		 encoding;	/* enum ike_cert_enc */
	struct ike_data	 data;
};

struct ike_auth {
	uint8_t		 method;	/* enum ike_auth_method */
	struct ike_data	 data;
};

struct ike_notify {
	uint8_t		 proto;		/* enum ike_proto, or 0 */
	uint16_t	 type;		/* IKE_N_* */
	struct ike_data	 spi;		/* 0, 4 or 8 octets */
	struct ike_data	 data;
};

struct ike_delete {
	uint8_t		 proto;		/* IKE (no SPIs), AH or ESP */
	uint8_t		 spi_size;	/* 0 (IKE) or 4 */
	uint16_t	 nspis;
	struct ike_data	 spis;		/* nspis * spi_size octets */
};

/* RFC 7296 §3.13.1; other types keep their bytes after the 4-octet head. */
struct ike_ts {
	uint8_t		 type;		/* enum ike_ts_type */
	uint8_t		 proto;		/* IP protocol, 0 = any */
	uint16_t	 start_port;
	uint16_t	 end_port;
	uint8_t		 start[16];	/* 4 octets for IPv4 */
	uint8_t		 end[16];
	struct ike_data	 other;		/* unknown type: rest of the selector */
};

struct ike_ts_pl {
	uint8_t		 count;
	struct ike_ts	 ts[IKE_MAX_TS];
};

struct ike_cp_attr {
	uint16_t	 type;	/* enum ike_cfg_attr, reserved bit off */
	struct ike_data	 value;
};

struct ike_cp {
	uint8_t		 type;		/* enum ike_cfg_type */
	uint8_t		 nattrs;
	struct ike_cp_attr attrs[IKE_MAX_CP_ATTRS];
};

/* RFC 7296 §3.16, RFC 3748 §4. */
struct ike_eap {
	uint8_t		 code;		/* enum ike_eap_code */
	uint8_t		 id;
	uint8_t		 type;		/* Request/Response only, else 0 */
	struct ike_data	 data;		/* after Type (or after Length) */
	struct ike_data	 msg;		/* parser: the whole EAP packet */
};

/* RFC 7296 §3.14 and RFC 7383 §2.5. */
struct ike_sk_pl {
	uint8_t		 inner;		/* first inner payload type */
	uint16_t	 frag_num;	/* SKF only, 1..frag_total */
	uint16_t	 frag_total;	/* SKF only */
	struct ike_data	 body;		/* IV | ciphertext | padding | ICV */
	size_t		 hdr_off; /* parser: offset of the generic header */
};

/* Presence bits for the singleton payloads. */
enum ike_have {
	IKE_HAVE_SA	= 1 << 0,
	IKE_HAVE_KE	= 1 << 1,
	IKE_HAVE_IDI	= 1 << 2,
	IKE_HAVE_IDR	= 1 << 3,
	IKE_HAVE_AUTH	= 1 << 4,
	IKE_HAVE_NONCE	= 1 << 5,
	IKE_HAVE_TSI	= 1 << 6,
	IKE_HAVE_TSR	= 1 << 7,
	IKE_HAVE_SK	= 1 << 8,
	IKE_HAVE_SKF	= 1 << 9,
	IKE_HAVE_CP	= 1 << 10,
	IKE_HAVE_EAP	= 1 << 11
};

struct ike_payloads {
	uint32_t	 have;		/* enum ike_have bits */
	struct ike_sa_pl sa;
	struct ike_ke	 ke;
	struct ike_id	 idi, idr;
	struct ike_auth	 auth;
	struct ike_data	 nonce;		/* Ni or Nr */
	struct ike_ts_pl tsi, tsr;
	struct ike_cp	 cp;
	struct ike_eap	 eap;
	struct ike_sk_pl sk;		/* SK or SKF, see have */
	uint8_t		 nnotify, ncert, ncertreq, nvendor, ndelete;
	struct ike_notify notify[IKE_MAX_REPEAT];
	struct ike_cert	 cert[IKE_MAX_REPEAT];
	struct ike_cert	 certreq[IKE_MAX_REPEAT];
	struct ike_data	 vendor[IKE_MAX_REPEAT];
	struct ike_delete delete[IKE_MAX_REPEAT];
	uint8_t		 nunknown;	/* non-critical unknown, skipped */
};

/* Where parsing stopped, and the notify to answer with (if any). */
struct ike_parse_error {
	enum ike_parse_err reason;
	uint8_t		 payload;	/* type being parsed (0: header) */
	uint16_t	 notify;	/* IKE_N_* to send, 0 = none */
	size_t		 offset;	/* octet offset of the failing item */
};

struct ike_msg {
	struct ike_hdr	 hdr;
	struct ike_payloads pl;
	struct ike_parse_error err;
};

/*
 * Parse a whole IKE message (no Non-ESP marker).  @len must be the datagram
 * or frame length: the header length must equal it.  On any result other
 * than IKE_PARSE_OK, out->err says why, and out->err.notify names the
 * notification RFC 7296 says to answer with (INVALID_MAJOR_VERSION,
 * UNSUPPORTED_CRITICAL_PAYLOAD with the type in err.payload, INVALID_SYNTAX)
 * or 0.  Per RFC 7296 §3.10.1, INVALID_SYNTAX may only be sent in a
 * protected response; that is the caller's decision.
 */
enum ike_parse_result ike_msg_parse(const uint8_t *buf, size_t len,
    struct ike_msg *out);

/*
 * Parse a payload chain starting with type @first, e.g. the decrypted body
 * of SK (@first = sk.inner).  Replaces out->pl and out->err; out->hdr is
 * kept and used (the R flag) for proposal numbering.  SK/SKF are refused.
 */
enum ike_parse_result ike_payloads_parse(uint8_t first, const uint8_t *buf,
    size_t len, struct ike_msg *out);

const char *ike_parse_strerror(enum ike_parse_err reason);

/* The @i'th SPI of a Delete payload (i < nspis, spi_size 4). */
uint32_t ike_delete_spi(const struct ike_delete *d, size_t i);

/* Field-by-field equality; data compared by content, not by address. */
bool	ike_msg_equal(const struct ike_msg *a, const struct ike_msg *b);

/*
 * Builder.  ike_build_init() writes the IKE header (length patched by
 * ike_build_finish()); ike_build_inner_init() starts a bare chain, e.g. the
 * plaintext of an SK payload, whose first type is then b->first.  Every
 * ike_build_* returns 0, or -1 when the writer is full (wr_ok() false) or a
 * payload exceeds 65535 octets or a payload follows SK/SKF.
 */
struct ike_builder {
	struct wr	*w;
	size_t		 start;		/* offset of the IKE header in w */
	size_t		 np_off;	/* next-payload field to patch */
	bool		 outer;		/* has an IKE header */
	bool		 closed;	/* SK/SKF written: chain is over */
	bool		 err;
	uint8_t		 first;		/* type of the first payload */
};

void	ike_build_init(struct ike_builder *b, struct wr *w,
	    const struct ike_hdr *h);
void	ike_build_inner_init(struct ike_builder *b, struct wr *w);
int	ike_build_finish(struct ike_builder *b);

int	ike_build_sa(struct ike_builder *b, const struct ike_sa_pl *sa);
int	ike_build_ke(struct ike_builder *b, const struct ike_ke *ke);
int	ike_build_id(struct ike_builder *b, uint8_t pl_type,
	    const struct ike_id *id);			/* IDi or IDr */
int	ike_build_cert(struct ike_builder *b, uint8_t pl_type,
	    const struct ike_cert *c);			/* CERT or CERTREQ */
int	ike_build_auth(struct ike_builder *b, const struct ike_auth *a);
int	ike_build_nonce(struct ike_builder *b, const uint8_t *p, size_t len);
int	ike_build_notify(struct ike_builder *b, const struct ike_notify *n);
int	ike_build_delete(struct ike_builder *b, const struct ike_delete *d);
int	ike_build_vendor(struct ike_builder *b, const uint8_t *p, size_t len);
int	ike_build_ts(struct ike_builder *b, uint8_t pl_type,
	    const struct ike_ts_pl *ts);		/* TSi or TSr */
int	ike_build_cp(struct ike_builder *b, const struct ike_cp *cp);
int	ike_build_eap(struct ike_builder *b, const struct ike_eap *e);
/* Any payload as raw body bytes (e.g. a type this codec does not know). */
int	ike_build_raw(struct ike_builder *b, uint8_t pl_type, bool critical,
	    const uint8_t *p, size_t len);

/*
 * SK (RFC 7296 §3.14): append the SK header naming @inner and reserve
 * @body_len octets for IV | ciphertext | padding | ICV; *body points to them
 * (valid until the writer's buffer moves).  The crypto code fills them after
 * ike_build_finish(), since the ICV covers the patched header.  The chain is
 * closed afterwards.  ike_build_skf() does the same for RFC 7383 fragments.
 */
int	ike_build_sk(struct ike_builder *b, uint8_t inner, size_t body_len,
	    uint8_t **body);
int	ike_build_skf(struct ike_builder *b, uint8_t inner, uint16_t num,
	    uint16_t total, size_t body_len, uint8_t **body);

/*
 * Build @m unencrypted into @buf: header, then N, SA, KE, IDi, CERT,
 * CERTREQ, IDr, AUTH, Nonce, CP, EAP, D, TSi, TSr, V, and SK/SKF last with
 * sk.body copied as is.  Returns 0 and sets *len, or -1 if @cap is too small.
 */
int	ike_msg_build(const struct ike_msg *m, uint8_t *buf, size_t cap,
	    size_t *len);

#endif /* IKETCP_IKE_CODEC_H */
