/*
 * RADIUS Access-Request / -Challenge / -Accept / -Reject for EAP
 * pass-through (RFC 2865, RFC 3579), and the MS-MPPE keys of RFC 2548
 * §2.4.2-3 that carry the EAP MSK.  See radius.h.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "framing/wire.h"
#include "ike/radius.h"

enum {
	MD5_LEN		= 16,
	MSG_AUTH_ATTR	= 2 + MD5_LEN,	/* type, length, HMAC-MD5 */
	ATTR_HDR	= 2,		/* type, length */
	VSA_HDR		= 4,		/* Vendor-Id */
	MPPE_SALT	= 2,
	MPPE_PLAIN_MAX	= 48,		/* Key-Length, 32 octets, padding */
	EAP_HDR_LEN	= 4		/* RFC 3748 §4: code, id, length */
};

/* One piece of a digest's input. */
struct part {
	const void	*p;
	size_t		 n;
};

static bool
md5_parts(const struct part *parts, size_t n, uint8_t out[static MD5_LEN])
{
	EVP_MD_CTX *ctx;
	bool ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return false;
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static bool
hmac_md5_parts(const uint8_t *key, size_t key_len, const struct part *parts,
    size_t n, uint8_t out[static MD5_LEN])
{
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t len = 0;
	bool ok = false;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return false;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"MD5", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, key_len, params) != 1)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (EVP_MAC_update(ctx, parts[i].p, parts[i].n) != 1)
			goto out;
	ok = EVP_MAC_final(ctx, out, &len, MD5_LEN) == 1 && len == MD5_LEN;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

/* A text attribute of 1 to 253 octets; NULL leaves it out. */
static bool
put_text(struct wr *w, uint8_t type, const char *s, bool required)
{
	size_t len;

	if (s == NULL)
		return !required;
	len = strlen(s);
	if (len == 0 || len > RADIUS_ATTR_MAX)
		return false;
	return wr_u8(w, type) && wr_u8(w, (uint8_t)(ATTR_HDR + len)) &&
	    wr_bytes(w, s, len);
}

static bool
put_u32(struct wr *w, uint8_t type, uint32_t v)
{
	return wr_u8(w, type) && wr_u8(w, ATTR_HDR + 4) && wr_be32(w, v);
}

size_t
radius_encode_request(uint8_t *buf, size_t cap, uint8_t id,
    const uint8_t auth[static RADIUS_AUTH_LEN],
    const struct radius_request *rq, const uint8_t *secret,
    size_t secret_len)
{
	struct wr w = wr_make(buf, cap < RADIUS_PKT_MAX ? cap : RADIUS_PKT_MAX);
	uint8_t mac[MD5_LEN];
	struct part part;
	size_t ma_off;

	if (rq->eap == NULL || rq->eap_len < EAP_HDR_LEN ||
	    rq->state_len > RADIUS_ATTR_MAX || secret_len == 0)
		return 0;
	if (!wr_u8(&w, RADIUS_ACCESS_REQUEST) || !wr_u8(&w, id) ||
	    !wr_be16(&w, 0) || !wr_bytes(&w, auth, RADIUS_AUTH_LEN))
		return 0;
	if (!put_text(&w, RADIUS_A_USER_NAME, rq->user, true) ||
	    !put_text(&w, RADIUS_A_NAS_ID, rq->nas_id, true) ||
	    !put_text(&w, RADIUS_A_CALLED_ID, rq->called, false) ||
	    !put_text(&w, RADIUS_A_CALLING_ID, rq->calling, false) ||
	    !put_u32(&w, RADIUS_A_NAS_PORT_TYPE, RADIUS_PORT_VIRTUAL) ||
	    /* RFC 3579 §2.4: the EAP MTU the server may use. */
	    !put_u32(&w, RADIUS_A_FRAMED_MTU, RADIUS_FRAMED_MTU))
		return 0;
	if (rq->state_len > 0 && (!wr_u8(&w, RADIUS_A_STATE) ||
	    !wr_u8(&w, (uint8_t)(ATTR_HDR + rq->state_len)) ||
	    !wr_bytes(&w, rq->state, rq->state_len)))
		return 0;
	/* RFC 3579 §3.1: split into attributes of 253 octets, in order. */
	for (size_t off = 0; off < rq->eap_len; off += RADIUS_ATTR_MAX) {
		size_t n = rq->eap_len - off;

		if (n > RADIUS_ATTR_MAX)
			n = RADIUS_ATTR_MAX;
		if (!wr_u8(&w, RADIUS_A_EAP_MESSAGE) ||
		    !wr_u8(&w, (uint8_t)(ATTR_HDR + n)) ||
		    !wr_bytes(&w, rq->eap + off, n))
			return 0;
	}
	/* RFC 3579 §3.2: HMAC-MD5 of the packet with this value zero. */
	ma_off = w.len + ATTR_HDR;
	if (!wr_u8(&w, RADIUS_A_MSG_AUTH) || !wr_u8(&w, MSG_AUTH_ATTR) ||
	    !wr_zero(&w, MD5_LEN))
		return 0;
	store_be16(buf + 2, (uint16_t)w.len);
	part.p = buf;
	part.n = w.len;
	if (!hmac_md5_parts(secret, secret_len, &part, 1, mac))
		return 0;
	memcpy(buf + ma_off, mac, MD5_LEN);
	return w.len;
}

bool
radius_rekey_request(uint8_t *pkt, size_t len, uint8_t id,
    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
    size_t secret_len)
{
	uint8_t mac[MD5_LEN];
	struct part part = { pkt, len };
	size_t ma_off = len - MD5_LEN;

	/* Message-Authenticator is the last attribute we write. */
	if (len < RADIUS_HDR_LEN + MSG_AUTH_ATTR ||
	    pkt[ma_off - ATTR_HDR] != RADIUS_A_MSG_AUTH ||
	    pkt[ma_off - 1] != MSG_AUTH_ATTR)
		return false;
	pkt[1] = id;
	memcpy(pkt + 4, auth, RADIUS_AUTH_LEN);
	memset(pkt + ma_off, 0, MD5_LEN);
	if (!hmac_md5_parts(secret, secret_len, &part, 1, mac))
		return false;
	memcpy(pkt + ma_off, mac, MD5_LEN);
	return true;
}

/*
 * RFC 2865 §3: Response Authenticator = MD5(Code + ID + Length +
 * RequestAuth + Attributes + Secret).
 */
static bool
response_auth(const uint8_t *pkt, size_t len,
    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
    size_t secret_len, uint8_t out[static MD5_LEN])
{
	const struct part parts[] = {
		{ pkt, 4 },
		{ auth, RADIUS_AUTH_LEN },
		{ pkt + RADIUS_HDR_LEN, len - RADIUS_HDR_LEN },
		{ secret, secret_len },
	};

	return md5_parts(parts, 4, out);
}

/*
 * RFC 3579 §3.2: HMAC-MD5 over the response with the Request
 * Authenticator in place of its own and the Message-Authenticator value
 * (at @ma_off) zero.
 */
static bool
response_msg_auth(const uint8_t *pkt, size_t len, size_t ma_off,
    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
    size_t secret_len, uint8_t out[static MD5_LEN])
{
	static const uint8_t zero[MD5_LEN];
	const struct part parts[] = {
		{ pkt, 4 },
		{ auth, RADIUS_AUTH_LEN },
		{ pkt + RADIUS_HDR_LEN, ma_off - RADIUS_HDR_LEN },
		{ zero, MD5_LEN },
		{ pkt + ma_off + MD5_LEN, len - ma_off - MD5_LEN },
	};

	return hmac_md5_parts(secret, secret_len, parts, 5, out);
}

bool
radius_sign_response(uint8_t *pkt, size_t len, size_t ma_off,
    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
    size_t secret_len)
{
	uint8_t mac[MD5_LEN];

	if (len < RADIUS_HDR_LEN || ma_off < RADIUS_HDR_LEN + ATTR_HDR ||
	    ma_off > len || len - ma_off < MD5_LEN ||
	    !response_msg_auth(pkt, len, ma_off, auth, secret, secret_len,
	    mac))
		return false;
	memcpy(pkt + ma_off, mac, MD5_LEN);
	if (!response_auth(pkt, len, auth, secret, secret_len, mac))
		return false;
	memcpy(pkt + 4, mac, MD5_LEN);
	return true;
}

/* RFC 2548 §2.4.2: b(1) = MD5(S + R + A), b(i) = MD5(S + c(i-1)). */
static bool
mppe_block(const uint8_t *secret, size_t secret_len, const uint8_t *prev,
    size_t prev_len, const uint8_t *salt, uint8_t out[static MD5_LEN])
{
	const struct part parts[] = {
		{ secret, secret_len },
		{ prev, prev_len },
		{ salt, salt != NULL ? MPPE_SALT : 0 },
	};

	return md5_parts(parts, 3, out);
}

bool
radius_mppe_decrypt(const uint8_t *val, size_t len,
    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
    size_t secret_len, uint8_t key[static RADIUS_MPPE_KEY_MAX],
    size_t *key_len)
{
	uint8_t plain[MPPE_PLAIN_MAX], b[MD5_LEN];
	size_t clen;
	bool ok = false;

	/* Salt, then at least one block; its high bit is set (§2.4.2). */
	if (len < MPPE_SALT + MD5_LEN || (val[0] & 0x80) == 0)
		return false;
	clen = len - MPPE_SALT;
	if (clen % MD5_LEN != 0 || clen > sizeof(plain))
		return false;
	for (size_t i = 0; i < clen; i += MD5_LEN) {
		const uint8_t *c = val + MPPE_SALT + i;

		if (!(i == 0 ? mppe_block(secret, secret_len, auth,
		    RADIUS_AUTH_LEN, val, b) : mppe_block(secret, secret_len,
		    c - MD5_LEN, MD5_LEN, NULL, b)))
			goto out;
		for (size_t k = 0; k < MD5_LEN; k++)
			plain[i + k] = c[k] ^ b[k];
	}
	if (plain[0] == 0 || plain[0] > RADIUS_MPPE_KEY_MAX ||
	    plain[0] > clen - 1)
		goto out;
	memcpy(key, plain + 1, plain[0]);
	*key_len = plain[0];
	ok = true;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(b, sizeof(b));
	return ok;
}

bool
radius_mppe_encrypt(const uint8_t *key, size_t key_len, uint16_t salt,
    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
    size_t secret_len, uint8_t *val, size_t cap, size_t *val_len)
{
	uint8_t plain[MPPE_PLAIN_MAX], b[MD5_LEN];
	size_t plen = (1 + key_len + MD5_LEN - 1) / MD5_LEN * MD5_LEN;
	bool ok = false;

	if (key_len == 0 || key_len > RADIUS_MPPE_KEY_MAX ||
	    cap < MPPE_SALT + plen)
		return false;
	memset(plain, 0, sizeof(plain));
	plain[0] = (uint8_t)key_len;
	memcpy(plain + 1, key, key_len);
	store_be16(val, (uint16_t)(salt | 0x8000));
	for (size_t i = 0; i < plen; i += MD5_LEN) {
		uint8_t *c = val + MPPE_SALT + i;

		if (!(i == 0 ? mppe_block(secret, secret_len, auth,
		    RADIUS_AUTH_LEN, val, b) : mppe_block(secret, secret_len,
		    c - MD5_LEN, MD5_LEN, NULL, b)))
			goto out;
		for (size_t k = 0; k < MD5_LEN; k++)
			c[k] = plain[i + k] ^ b[k];
	}
	*val_len = MPPE_SALT + plen;
	ok = true;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(b, sizeof(b));
	return ok;
}

/* The MS-MPPE keys of one Microsoft Vendor-Specific value (§2.4). */
struct mppe {
	uint8_t		 recv[RADIUS_MPPE_KEY_MAX];
	size_t		 recv_len;
	uint8_t		 send[RADIUS_MPPE_KEY_MAX];
	size_t		 send_len;
};

/* RFC 2865 §5.26; @r is after the Vendor-Id. */
static bool
ms_vendor(struct rd r, const uint8_t auth[static RADIUS_AUTH_LEN],
    const uint8_t *secret, size_t secret_len, struct mppe *m)
{
	while (r.n > 0) {
		uint8_t type, len;
		struct rd v;
		uint8_t *key;
		size_t *key_len;

		if (!rd_u8(&r, &type) || !rd_u8(&r, &len) || len < ATTR_HDR ||
		    !rd_sub(&r, len - ATTR_HDR, &v))
			return false;
		if (type == RADIUS_MS_RECV_KEY) {
			key = m->recv;
			key_len = &m->recv_len;
		} else if (type == RADIUS_MS_SEND_KEY) {
			key = m->send;
			key_len = &m->send_len;
		} else
			continue;
		/* One of each: a second one is not ours to pick. */
		if (*key_len != 0 || !radius_mppe_decrypt(v.p, v.n, auth,
		    secret, secret_len, key, key_len))
			return false;
	}
	return true;
}

/* Walks the attributes into @out; the MA's value offset in *ma_off. */
static bool
attributes(const uint8_t *pkt, size_t len,
    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
    size_t secret_len, struct radius_reply *out, struct mppe *m,
    size_t *ma_off)
{
	struct rd r = rd_make(pkt + RADIUS_HDR_LEN, len - RADIUS_HDR_LEN);

	*ma_off = 0;
	while (r.n > 0) {
		size_t at = len - r.n;
		uint8_t type, alen;
		uint32_t vendor;
		struct rd v;

		if (!rd_u8(&r, &type) || !rd_u8(&r, &alen) ||
		    alen < ATTR_HDR || !rd_sub(&r, alen - ATTR_HDR, &v))
			return false;
		switch (type) {
		case RADIUS_A_EAP_MESSAGE:
			/* RFC 3579 §3.1: concatenated in order. */
			if (v.n == 0 || !rd_bytes(&v, out->eap + out->eap_len,
			    v.n))
				return false;
			out->eap_len += alen - ATTR_HDR;
			break;
		case RADIUS_A_MSG_AUTH:
			if (*ma_off != 0 || v.n != MD5_LEN)
				return false;
			*ma_off = at + ATTR_HDR;
			break;
		case RADIUS_A_STATE:
			if (out->state_len != 0 || v.n == 0)
				return false;
			out->state_len = v.n;
			memcpy(out->state, v.p, v.n);
			break;
		case RADIUS_A_CLASS:
			/* The first one; RFC 2865 §5.25 allows more. */
			if (out->cls_len == 0 && v.n > 0) {
				out->cls_len = v.n;
				memcpy(out->cls, v.p, v.n);
			}
			break;
		case RADIUS_A_FRAMED_IP:
			if (out->has_framed_ip || v.n != 4)
				return false;
			out->has_framed_ip = true;
			memcpy(out->framed_ip, v.p, 4);
			break;
		case RADIUS_A_VENDOR:
			if (!rd_be32(&v, &vendor))
				return false;
			if (vendor == RADIUS_VENDOR_MS && !ms_vendor(v, auth,
			    secret, secret_len, m))
				return false;
			break;
		default:
			break;
		}
	}
	return true;
}

enum radius_verdict
radius_decode_response(const uint8_t *pkt, size_t len, uint8_t id,
    const uint8_t auth[static RADIUS_AUTH_LEN], const uint8_t *secret,
    size_t secret_len, struct radius_reply *out)
{
	uint8_t mac[MD5_LEN];
	struct mppe m;
	size_t plen, ma_off;
	enum radius_verdict v = RADIUS_BAD_FORM;

	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	if (len < RADIUS_HDR_LEN)
		return RADIUS_BAD_FORM;
	/* RFC 2865 §3: octets past Length are padding; fewer: discard. */
	plen = load_be16(pkt + 2);
	if (plen < RADIUS_HDR_LEN || plen > RADIUS_PKT_MAX || plen > len)
		return RADIUS_BAD_FORM;
	if (pkt[0] != RADIUS_ACCESS_ACCEPT && pkt[0] != RADIUS_ACCESS_REJECT &&
	    pkt[0] != RADIUS_ACCESS_CHALLENGE)
		return RADIUS_BAD_FORM;
	if (pkt[1] != id)
		return RADIUS_BAD_ID;
	if (!response_auth(pkt, plen, auth, secret, secret_len, mac) ||
	    CRYPTO_memcmp(mac, pkt + 4, MD5_LEN) != 0)
		return RADIUS_BAD_AUTH;
	if (!attributes(pkt, plen, auth, secret, secret_len, out, &m, &ma_off))
		goto out;
	/* RFC 3579 §3.2: without a valid one, silently discarded. */
	v = RADIUS_BAD_MSG_AUTH;
	if (ma_off == 0 || !response_msg_auth(pkt, plen, ma_off, auth, secret,
	    secret_len, mac) || CRYPTO_memcmp(mac, pkt + ma_off, MD5_LEN) != 0)
		goto out;
	/* RFC 3748 §4: the EAP Length covers exactly what came. */
	v = RADIUS_BAD_FORM;
	if (out->eap_len != 0 && (out->eap_len < EAP_HDR_LEN ||
	    load_be16(out->eap + 2) != out->eap_len))
		goto out;
	if (pkt[0] == RADIUS_ACCESS_CHALLENGE && out->eap_len == 0)
		goto out;
	if (m.recv_len != 0 && m.send_len != 0) {
		memcpy(out->msk, m.recv, m.recv_len);
		memcpy(out->msk + m.recv_len, m.send, m.send_len);
		out->msk_len = RADIUS_MSK_LEN;
	}
	out->code = pkt[0];
	v = RADIUS_OK;
out:
	OPENSSL_cleanse(&m, sizeof(m));
	if (v != RADIUS_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	return v;
}
