/*
 * Proposals (RFC 7296 §2.7, §3.3): strongSwan-style configuration strings
 * parsed into transform sets, and the responder's choice among the
 * initiator's proposals.
 *
 * A string is a '-'-separated list of algorithm tokens, in preference
 * order within each transform type:
 *
 *   IKE  aes256gcm16-prfsha384-x25519   aes256-sha256-modp2048
 *        chacha20poly1305-prfsha256-ecp256
 *   ESP  aes256gcm16   aes256-sha256   chacha20poly1305-esn
 *        aes128-sha1-ecp256
 *
 * Tokens: encryption aes128 aes192 aes256 (CBC), aes128gcm16 aes192gcm16
 * aes256gcm16 (also ...gcm128, ...gcm), chacha20poly1305; integrity sha1
 * sha256 sha384 sha512; PRF prfsha1 prfsha256 prfsha384 prfsha512
 * prfaescmac; key exchange modp2048 modp3072 modp4096 ecp256 ecp384 ecp521
 * x25519 (curve25519) x448 (curve448), and modp1024 modp1536 only under
 * IKE_KEX_ALLOW_WEAK; esn noesn (ESP only).
 *
 * Rules: an AEAD cipher takes no integrity algorithm and is not mixed with
 * other ciphers in one proposal; an IKE proposal needs a key exchange and,
 * without an explicit PRF, takes the PRFs matching its integrity
 * algorithms; an ESP proposal has no PRF, defaults to noesn, and a key
 * exchange there asks for PFS (not used for the first Child SA).
 */
#ifndef IKETCP_IKE_PROPOSAL_H
#define IKETCP_IKE_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/codec.h"
#include "ike/keys.h"

enum {
	IKE_PROP_ALGS_MAX	= 8,	/* per transform type, per proposal */
	IKE_PROP_LIST_MAX	= 16,	/* proposals in a configured list */
	IKE_PROP_ERR_MAX	= 96,	/* error message buffer, octets */
	IKE_PROP_LIST_ERR_MAX	= 160	/* the same for a list */
};

struct ike_prop_encr {
	uint16_t	 id;		/* enum ike_encr */
	uint16_t	 bits;		/* Key Length attribute, 0 = none */
};

/* One configured proposal: acceptable algorithms per type, best first. */
struct ike_prop {
	uint8_t		 proto;		/* IKE_PROTO_IKE or IKE_PROTO_ESP */
	uint8_t		 nencr, nprf, ninteg, ndh, nesn;
	struct ike_prop_encr encr[IKE_PROP_ALGS_MAX];
	uint16_t	 prf[IKE_PROP_ALGS_MAX];
	uint16_t	 integ[IKE_PROP_ALGS_MAX];
	uint16_t	 dh[IKE_PROP_ALGS_MAX];
	uint16_t	 esn[2];
};

/*
 * Parses @s as a proposal for @proto (IKE_PROTO_IKE or IKE_PROTO_ESP).
 * False on any error, with a one-line reason in @err (IKE_PROP_ERR_MAX
 * octets is enough) such as "unknown algorithm 'aes257'"; the caller adds
 * file:line.  Never logs.
 */
bool	ike_proposal_parse(uint8_t proto, const char *s, struct ike_prop *out,
	    char *err, size_t errlen);

/*
 * Parses the list @s, proposals separated by ',' with blanks (spaces,
 * tabs) allowed around each one, as strongSwan writes them:
 * "aes256gcm16-prfsha384-x25519, aes256-sha256-modp2048".  @kex_flags
 * (enum ike_kex_flags) says which key exchange methods may be named.
 * Returns the number of proposals put in @out (at most @max), or 0 with a
 * reason in @err (IKE_PROP_LIST_ERR_MAX octets is enough) naming the
 * proposal at fault.  Never logs.
 */
size_t	ike_proposal_list_parse(uint8_t proto, const char *s,
	    unsigned kex_flags, struct ike_prop *out, size_t max, char *err,
	    size_t errlen);

/* The configuration name of key exchange @dh ("modp1024"), or "?". */
const char *ike_proposal_dh_name(uint16_t dh);

/* What the responder accepted from one of the initiator's proposals. */
struct ike_chosen {
	uint8_t		 num;		/* the initiator's proposal number */
	uint8_t		 proto;		/* enum ike_proto */
	uint8_t		 spi_size;
	uint8_t		 spi[8];	/* the initiator's SPI (ESP: inbound) */
	struct ike_suite suite;		/* dh IKE_DH_NONE when none chosen */
	bool		 has_integ;	/* an INTEG transform goes back */
	bool		 has_dh;	/* a DH transform goes back */
	bool		 has_esn;	/* an ESN transform goes back */
	uint8_t		 esn;		/* enum ike_esn */
};

enum ike_select_flags {
	/*
	 * The first Child SA, in IKE_AUTH: key exchange transforms are
	 * ignored and none goes back (RFC 7296 §1.2).
	 */
	IKE_SELECT_NO_DH	= 0x01
};

enum ike_select_result {
	IKE_SELECT_OK,
	IKE_SELECT_NO_PROPOSAL		/* answer NO_PROPOSAL_CHOSEN */
};

/*
 * Chooses from the initiator's @sa the first acceptable proposal in our
 * order (@ours[0] first; within it, our algorithm order).  @dh_hint, when
 * not IKE_DH_NONE, is the group of the initiator's KE payload: it is
 * chosen when acceptable, so that a guess we also accept costs no round
 * trip.  Proposals of another protocol, with an unknown transform type or
 * with an algorithm we do not list are skipped; transforms with attributes
 * other than Key Length are unsupported (RFC 7296 §3.3.6).
 */
enum ike_select_result ike_proposal_select(const struct ike_prop *ours,
	    size_t nours, const struct ike_sa_pl *sa, uint16_t dh_hint,
	    unsigned flags, struct ike_chosen *out);

/*
 * The SA payload of the response: one proposal with the initiator's
 * number, our @spi (@spi_size octets: 0 for IKE_SA_INIT, 4 for ESP) and
 * one transform of each type the chosen proposal had.
 */
void	ike_proposal_response(const struct ike_chosen *c, const uint8_t *spi,
	    uint8_t spi_size, struct ike_sa_pl *out);

#endif /* IKETCP_IKE_PROPOSAL_H */
