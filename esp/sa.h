/*
 * One ESP Security Association, one direction (RFC 4303), tunnel mode.
 *
 * Transforms (IDs from ike/ikev2.h, RFC 8221 §5/§6):
 *   IKE_ENCR_AES_GCM_16 (128/192/256-bit key, RFC 4106),
 *   IKE_ENCR_CHACHA20_POLY1305 (256-bit key, RFC 7634), both without an
 *   integrity transform; IKE_ENCR_AES_CBC (128/192/256, RFC 3602) with
 *   IKE_INTEG_HMAC_SHA2_256_128 / _384_192 / _512_256 (RFC 4868).
 *
 * Key material: the encryption key of an AEAD ends with its 4-octet salt
 * (RFC 4106 §8.1, RFC 7634 §2), so @ekey_len is 20/28/36 for AES-GCM-16 and
 * 36 for ChaCha20-Poly1305.  esp_keymat_slice() cuts one direction's keys
 * out of a Child SA's KEYMAT in RFC 7296 §2.17 order (ei | ai | er | ar).
 *
 * An SA keeps one EVP_CIPHER_CTX (and, for CBC, one EVP_MAC_CTX) keyed once
 * in esp_sa_new(): per packet only the IV changes.  esp_sa_free() frees
 * them and cleanses the copied keys and the whole struct.
 */
#ifndef IKETCP_ESP_SA_H
#define IKETCP_ESP_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "esp/esp.h"
#include "esp/replay.h"
#include "ike/ikev2.h"

enum {
	ESP_ENCR_KEY_MAX	= 36,	/* 32-octet key + 4-octet salt */
	ESP_INTEG_KEY_MAX	= 64,	/* HMAC-SHA2-512-256 */
	ESP_ICV_MAX		= 32,	/* HMAC-SHA2-512-256 */
	ESP_SALT_LEN		= 4,	/* RFC 4106 §4, RFC 7634 §2 */
	ESP_TS_MAX		= 16	/* selectors per inbound SA */
};

enum esp_dir {
	ESP_DIR_OUT,		/* we encapsulate (esp_encap) */
	ESP_DIR_IN,		/* we decapsulate (esp_decap) */
};

/*
 * One traffic selector (RFC 7296 §3.13.1): an inclusive address range of
 * one family, an IP protocol (0 = any) and an inclusive port range.  For
 * ICMP / ICMPv6 the "port" is Type << 8 | Code (§3.13.1).  The client's
 * assigned address is a selector with addr_lo == addr_hi, proto 0 and
 * ports 0..65535.
 */
struct esp_ts {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		proto;		/* IP protocol; 0 any */
	uint16_t	port_lo;
	uint16_t	port_hi;
	uint8_t		addr_lo[16];	/* network order; IPv4 in [0..4) */
	uint8_t		addr_hi[16];
};

struct esp_sa_params {
	uint32_t	 spi;		/* host order */
	enum esp_dir	 dir;
	enum ike_encr	 encr;
	unsigned	 encr_bits;	/* 128/192/256; 0 or 256 for ChaCha */
	enum ike_integ	 integ;		/* IKE_INTEG_NONE with an AEAD */
	const uint8_t	*ekey;		/* salt last for AEAD */
	size_t		 ekey_len;
	const uint8_t	*akey;		/* NULL with an AEAD */
	size_t		 akey_len;
	bool		 esn;		/* Extended Sequence Numbers */
	uint32_t	 replay_window;	/* packets; 0 default (inbound) */
	const struct esp_ts *ts;	/* inbound: allowed inner sources */
	size_t		 nts;		/* <= ESP_TS_MAX */
};

struct esp_sa {
	uint32_t	 spi;
	enum esp_dir	 dir;
	enum ike_encr	 encr;
	enum ike_integ	 integ;
	bool		 aead;
	bool		 esn;
	size_t		 iv_len;	/* 8 AEAD, 16 CBC */
	size_t		 icv_len;	/* tag or truncated HMAC, octets */
	size_t		 block;		/* padding alignment: 4 or 16 */
	uint64_t	 seq;		/* outbound: last one sent */
	uint8_t		 salt[ESP_SALT_LEN];
	EVP_CIPHER_CTX	*cctx;		/* keyed once; per-packet IV */
	EVP_MAC_CTX	*mctx;		/* CBC: keyed HMAC; NULL with AEAD */
	struct esp_replay replay;	/* inbound */
	size_t		 nts;
	struct esp_ts	 ts[ESP_TS_MAX];
	uint64_t	 packets;	/* encapsulated / accepted */
	uint64_t	 octets;	/* inner octets of those */
	uint64_t	 drops[ESP_RESULT_COUNT];	/* by enum esp_result */
};

/* Validates @p, copies what it needs; NULL (logged) on any failure. */
struct esp_sa	*esp_sa_new(const struct esp_sa_params *p);
/* Frees the EVP contexts and cleanses the SA.  NULL is a no-op. */
void		 esp_sa_free(struct esp_sa *sa);

/*
 * One direction's keys from a Child SA's KEYMAT (RFC 7296 §2.17: "keys
 * are taken in the order encryption key, integrity key" for the
 * initiator-to-responder direction first).  Sets p->ekey / p->akey and their
 * lengths from p->encr, p->encr_bits, p->integ; @i2r picks ei/ai.  The
 * pointers point into @keymat.
 */
int	esp_keymat_slice(struct esp_sa_params *p, const uint8_t *keymat,
	    size_t keymat_len, bool i2r);
/* Octets of keying material for one direction (key + salt); 0 unknown. */
size_t	esp_encr_key_len(enum ike_encr encr, unsigned bits);
size_t	esp_integ_key_len(enum ike_integ integ);

#endif /* IKETCP_ESP_SA_H */
