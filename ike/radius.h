/*
 * RADIUS packets for EAP pass-through (RFC 2865, RFC 3579): the
 * Access-Request we send and the Access-Challenge, -Accept and -Reject we
 * take back.  relay/radclient.c owns the sockets, identifiers and
 * timers; this file only builds and checks bytes.
 *
 *   len = radius_encode_request(buf, cap, id, auth, &req, secret, slen);
 *   v = radius_decode_response(pkt, n, id, auth, secret, slen, &reply);
 *
 * A response is taken only when its Response Authenticator (RFC 2865
 * §3) and its Message-Authenticator (RFC 3579 §3.2, required in every
 * response here, since every request carries an EAP-Message) both
 * verify against the request's; anything else is a verdict for the
 * caller to count, and the packet is to be dropped silently.
 *
 * Pure: no sockets, no logging, no time.  MD5 and HMAC-MD5 come from
 * OpenSSL's default provider.
 */
#ifndef IKETCP_IKE_RADIUS_H
#define IKETCP_IKE_RADIUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	RADIUS_HDR_LEN		= 20,	/* code, id, length, authenticator */
	RADIUS_AUTH_LEN		= 16,	/* an authenticator, octets */
	RADIUS_PKT_MAX		= 4096,	/* RFC 2865 §3: Length at most */
	RADIUS_ATTR_MAX		= 253,	/* value octets in one attribute */
	RADIUS_SECRET_MAX	= 128,	/* a shared secret, octets */
	RADIUS_MPPE_KEY_MAX	= 32,	/* one MS-MPPE key, octets */
	RADIUS_MSK_LEN		= 64,	/* RFC 3748 §7.10: MSK octets */
	RADIUS_FRAMED_MTU	= 1024,	/* the EAP packets we can carry */
	RADIUS_DEF_PORT		= 1812,	/* RFC 2865 §3 (IANA) */

	RADIUS_ACCESS_REQUEST	= 1,	/* codes, RFC 2865 §3 */
	RADIUS_ACCESS_ACCEPT	= 2,
	RADIUS_ACCESS_REJECT	= 3,
	RADIUS_ACCESS_CHALLENGE	= 11,

	RADIUS_A_USER_NAME	= 1,	/* attribute types, RFC 2865 §5 */
	RADIUS_A_FRAMED_IP	= 8,
	RADIUS_A_FRAMED_MTU	= 12,
	RADIUS_A_STATE		= 24,
	RADIUS_A_CLASS		= 25,
	RADIUS_A_VENDOR		= 26,
	RADIUS_A_CALLED_ID	= 30,
	RADIUS_A_CALLING_ID	= 31,
	RADIUS_A_NAS_ID		= 32,
	RADIUS_A_NAS_PORT_TYPE	= 61,	/* RFC 2865 §5.41 */
	RADIUS_A_EAP_MESSAGE	= 79,	/* RFC 3579 §3.1 */
	RADIUS_A_MSG_AUTH	= 80,	/* RFC 3579 §3.2 */
	RADIUS_PORT_VIRTUAL	= 5,	/* NAS-Port-Type Virtual */
	RADIUS_VENDOR_MS	= 311,	/* RFC 2548 §2 */
	RADIUS_MS_SEND_KEY	= 16,	/* MS-MPPE-Send-Key, §2.4.2 */
	RADIUS_MS_RECV_KEY	= 17,	/* MS-MPPE-Recv-Key, §2.4.3 */
};

/* What an Access-Request carries; NULL or 0: left out. */
struct radius_request {
	const uint8_t	*eap;		/* one EAP packet (required) */
	size_t		 eap_len;
	const char	*user;		/* User-Name (required) */
	const uint8_t	*state;		/* State of the last challenge */
	size_t		 state_len;
	const char	*nas_id;	/* NAS-Identifier (required) */
	const char	*called;	/* Called-Station-Id: our addr:port */
	const char	*calling;	/* Calling-Station-Id: the peer's */
};

/* A verified response. */
struct radius_reply {
	uint8_t		 code;		/* RADIUS_ACCESS_* */
	uint8_t		 eap[RADIUS_PKT_MAX]; /* EAP-Messages, in order */
	size_t		 eap_len;	/* 0: none */
	uint8_t		 state[RADIUS_ATTR_MAX];
	size_t		 state_len;	/* 0: none */
	uint8_t		 cls[RADIUS_ATTR_MAX]; /* the first Class */
	size_t		 cls_len;	/* 0: none */
	bool		 has_framed_ip;
	uint8_t		 framed_ip[4];	/* Framed-IP-Address, network order */
	/*
	 * MS-MPPE-Recv-Key || MS-MPPE-Send-Key (the order strongSwan's
	 * eap-radius and FreeRADIUS use), zero-padded to 64 octets:
	 * for EAP-MSCHAPv2 (16-octet keys) that is the MSK of RFC 3079
	 * §3.4 as the peer computes it.  msk_len 0: no keys.
	 */
	uint8_t		 msk[RADIUS_MSK_LEN];
	size_t		 msk_len;
};

enum radius_verdict {
	RADIUS_OK,
	RADIUS_BAD_FORM,	/* lengths, code, attributes */
	RADIUS_BAD_ID,		/* not the identifier asked about */
	RADIUS_BAD_AUTH,	/* Response Authenticator */
	RADIUS_BAD_MSG_AUTH	/* Message-Authenticator missing or wrong */
};

/*
 * An Access-Request with identifier @id and Request Authenticator @auth
 * into @buf: the EAP packet split into EAP-Message attributes of 253
 * octets (RFC 3579 §3.1), Message-Authenticator last.  The length, or 0
 * when a field is out of range or the packet would exceed @cap or
 * RADIUS_PKT_MAX.
 */
size_t	radius_encode_request(uint8_t *buf, size_t cap, uint8_t id,
	    const uint8_t auth[static RADIUS_AUTH_LEN],
	    const struct radius_request *rq, const uint8_t *secret,
	    size_t secret_len);

/*
 * The same request @pkt (@len octets, from radius_encode_request) with
 * a new identifier and Request Authenticator, for another server (RFC
 * 5080 §2.2.1: a retransmission to the same server keeps both).
 */
bool	radius_rekey_request(uint8_t *pkt, size_t len, uint8_t id,
	    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
	    size_t secret_len);

/*
 * Checks @len octets received as the answer to request @id with
 * Request Authenticator @auth, then decodes it into @out (which is
 * wiped first; the caller wipes out->msk).
 */
enum radius_verdict radius_decode_response(const uint8_t *pkt, size_t len,
	    uint8_t id, const uint8_t auth[static RADIUS_AUTH_LEN],
	    const uint8_t *secret, size_t secret_len,
	    struct radius_reply *out);

/*
 * RFC 2548 §2.4.2: the String of an MS-MPPE-Send/Recv-Key (Salt, then
 * the encrypted Key-Length || Key || padding), @len octets, to the key.
 * False when malformed or the Key-Length does not fit.
 */
bool	radius_mppe_decrypt(const uint8_t *val, size_t len,
	    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
	    size_t secret_len, uint8_t key[static RADIUS_MPPE_KEY_MAX],
	    size_t *key_len);
/*
 * The reverse, for tests and fuzz seeds: @key (at most 32 octets) with
 * @salt (its high bit set here) into @val, *val_len octets (at most
 * 2 + 48).
 */
bool	radius_mppe_encrypt(const uint8_t *key, size_t key_len,
	    uint16_t salt, const uint8_t auth[static RADIUS_AUTH_LEN],
	    const uint8_t *secret, size_t secret_len, uint8_t *val,
	    size_t cap, size_t *val_len);

/*
 * Sets the Response Authenticator and Message-Authenticator of response
 * @pkt (@len octets, a Message-Authenticator attribute already present
 * at @ma_off, value zero) for request authenticator @auth: what a
 * server does, for tests.
 */
bool	radius_sign_response(uint8_t *pkt, size_t len, size_t ma_off,
	    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
	    size_t secret_len);

#endif /* IKETCP_IKE_RADIUS_H */
