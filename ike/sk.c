/*
 * SK / SKF payload protection: AES-CBC + HMAC, AES-GCM-16, ChaCha20-Poly1305.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ike/sk.h"
#include "relay/log.h"

enum {
	CBC_BLOCK	= 16,
	AEAD_NONCE	= 12,	/* salt 4 | IV 8 */
	PAYLOAD_MAX	= 65535
};

static const char *
cipher_name(enum ike_encr encr, unsigned bits)
{
	switch (encr) {
	case IKE_ENCR_AES_CBC:
		return bits == 128 ? "AES-128-CBC" : bits == 192 ?
		    "AES-192-CBC" : "AES-256-CBC";
	case IKE_ENCR_AES_GCM_16:
		return bits == 128 ? "AES-128-GCM" : bits == 192 ?
		    "AES-192-GCM" : "AES-256-GCM";
	case IKE_ENCR_CHACHA20_POLY1305:
		return "ChaCha20-Poly1305";
	default:
		return NULL;
	}
}

int
ike_sk_init(struct ike_sk *sk, enum ike_encr encr, unsigned encr_bits,
    enum ike_integ integ, const uint8_t *ekey, size_t ekey_len,
    const uint8_t *akey, size_t akey_len)
{
	bool aead = ike_encr_is_aead(encr);

	memset(sk, 0, sizeof(*sk));
	if (ike_encr_key_len(encr, encr_bits) == 0 ||
	    ekey_len != ike_encr_key_len(encr, encr_bits) ||
	    (aead && (integ != IKE_INTEG_NONE || akey_len != 0)) ||
	    (!aead && (ike_integ_key_len(integ) == 0 ||
	    akey_len != ike_integ_key_len(integ)))) {
		log_warnx("ike: SK encr %d/%u (%zu octets) integ %d "
		    "(%zu octets) not supported", encr, encr_bits, ekey_len,
		    integ, akey_len);
		return -1;
	}
	sk->encr = encr;
	sk->encr_bits = encr == IKE_ENCR_CHACHA20_POLY1305 ? 256 : encr_bits;
	sk->integ = integ;
	sk->ekey_len = ekey_len;
	sk->akey_len = akey_len;
	memcpy(sk->ekey, ekey, ekey_len);
	if (akey_len > 0)
		memcpy(sk->akey, akey, akey_len);
	return 0;
}

int
ike_sk_init_pair(struct ike_sk *out, struct ike_sk *in,
    const struct ike_suite *s, const struct ike_keys *keys, bool initiator)
{
	const uint8_t *eo = initiator ? keys->sk_ei : keys->sk_er;
	const uint8_t *ao = initiator ? keys->sk_ai : keys->sk_ar;
	const uint8_t *ei = initiator ? keys->sk_er : keys->sk_ei;
	const uint8_t *ai = initiator ? keys->sk_ar : keys->sk_ai;

	if (ike_sk_init(out, s->encr, s->encr_bits, s->integ, eo,
	    keys->encr_len, ao, keys->integ_len) != 0)
		return -1;
	if (ike_sk_init(in, s->encr, s->encr_bits, s->integ, ei,
	    keys->encr_len, ai, keys->integ_len) != 0) {
		ike_sk_cleanup(out);
		return -1;
	}
	return 0;
}

void
ike_sk_cleanup(struct ike_sk *sk)
{
	OPENSSL_cleanse(sk, sizeof(*sk));
}

static size_t
pad_len(const struct ike_sk *sk, size_t plain_len)
{
	if (ike_encr_is_aead(sk->encr))
		return 0;
	return (CBC_BLOCK - (plain_len + 1) % CBC_BLOCK) % CBC_BLOCK;
}

static size_t
icv_len(const struct ike_sk *sk)
{
	return ike_encr_is_aead(sk->encr) ? ike_encr_tag_len(sk->encr) :
	    ike_integ_icv_len(sk->integ);
}

size_t
ike_sk_len(const struct ike_sk *sk, size_t plain_len)
{
	size_t n;

	if (plain_len > PAYLOAD_MAX)
		return 0;
	n = ike_encr_iv_len(sk->encr) + plain_len + pad_len(sk, plain_len) +
	    1 + icv_len(sk);
	return n > PAYLOAD_MAX ? 0 : n;
}

/*
 * One cipher pass over @in into @out (same length).  AEAD: @aad is the
 * associated data and @tag is written (encrypt) or checked (decrypt).
 */
static int
cipher(const struct ike_sk *sk, bool enc, const uint8_t *iv,
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER *c = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	bool aead = ike_encr_is_aead(sk->encr);
	size_t klen = aead ? sk->ekey_len - IKE_ENCR_SALT_LEN : sk->ekey_len;
	uint8_t nonce[AEAD_NONCE];
	const uint8_t *ivp = iv;
	int n, fin, rc = -1;

	if (aead) {
		memcpy(nonce, sk->ekey + klen, IKE_ENCR_SALT_LEN);
		memcpy(nonce + IKE_ENCR_SALT_LEN, iv, 8);
		ivp = nonce;
	}
	if ((c = EVP_CIPHER_fetch(NULL, cipher_name(sk->encr,
	    sk->encr_bits), NULL)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_CipherInit_ex2(ctx, c, NULL, NULL, enc, NULL) ||
	    (size_t)EVP_CIPHER_CTX_get_key_length(ctx) != klen ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0))
		goto out;
	if (aead && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN,
	    AEAD_NONCE, NULL) <= 0)
		goto out;
	if (!EVP_CipherInit_ex2(ctx, NULL, sk->ekey, ivp, enc, NULL))
		goto out;
	if (aead && !enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
	    (int)ike_encr_tag_len(sk->encr), tag) <= 0)
		goto out;
	if (aead && aad_len > 0 &&
	    !EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len))
		goto out;
	if (!EVP_CipherUpdate(ctx, out, &n, in, (int)len) ||
	    !EVP_CipherFinal_ex(ctx, out + n, &fin) || (size_t)(n + fin) != len)
		goto out;
	if (aead && enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
	    (int)ike_encr_tag_len(sk->encr), tag) <= 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(nonce, sizeof(nonce));
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	return rc;
}

int
ike_sk_protect(struct ike_sk *sk, uint8_t *msg, size_t hdr_len,
    const uint8_t *plain, size_t plain_len, size_t body_len)
{
	uint8_t *body = msg + hdr_len, *iv, *ct, *icv;
	size_t ivl = ike_encr_iv_len(sk->encr), pad = pad_len(sk, plain_len);
	size_t ctl = plain_len + pad + 1, i;
	struct ike_chunk covered;
	int rc = -1;

	if (body_len == 0 || body_len != ike_sk_len(sk, plain_len)) {
		log_warnx("ike: SK body %zu != %zu octets for %zu plaintext",
		    body_len, ike_sk_len(sk, plain_len), plain_len);
		return -1;
	}
	iv = body;
	ct = body + ivl;
	icv = ct + ctl;
	if (ike_encr_is_aead(sk->encr)) {
		if (sk->iv_next == UINT64_MAX) {
			log_warnx("ike: SK IV counter exhausted");
			return -1;
		}
		for (i = 0; i < ivl; i++)
			iv[i] = (uint8_t)(sk->iv_next >> (8 * (ivl - 1 - i)));
		sk->iv_next++;
	} else if (RAND_bytes(iv, (int)ivl) != 1) {
		log_warnx("ike: RAND_bytes failed for the SK IV");
		return -1;
	}
	/* Plaintext, zero padding and the Pad Length octet, in place. */
	if (plain_len > 0)	/* an empty INFORMATIONAL has no payloads */
		memmove(ct, plain, plain_len);
	memset(ct + plain_len, 0, pad);
	ct[plain_len + pad] = (uint8_t)pad;
	if (ike_encr_is_aead(sk->encr)) {
		rc = cipher(sk, true, iv, msg, hdr_len, ct, ctl, ct, icv);
	} else {
		rc = cipher(sk, true, iv, NULL, 0, ct, ctl, ct, NULL);
		covered.p = msg;
		covered.len = hdr_len + ivl + ctl;
		if (rc == 0)
			rc = ike_integ(sk->integ, sk->akey, sk->akey_len,
			    &covered, 1, icv);
	}
	if (rc != 0) {
		log_warnx("ike: SK encryption failed");
		OPENSSL_cleanse(body, body_len);
	}
	return rc;
}

int
ike_sk_unprotect(const struct ike_sk *sk, const uint8_t *msg, size_t hdr_len,
    size_t msg_len, uint8_t *plain, size_t cap, size_t *plain_len)
{
	size_t ivl = ike_encr_iv_len(sk->encr), il = icv_len(sk), ctl, pad;
	const uint8_t *iv, *ct, *icv;
	uint8_t want[IKE_INTEG_ICV_MAX], tag[16];
	struct ike_chunk covered;
	bool aead = ike_encr_is_aead(sk->encr);
	int rc = -1;

	*plain_len = 0;
	if (msg_len < hdr_len || msg_len - hdr_len < ivl + 1 + il) {
		log_warnx("ike: SK body %zu octets < %zu",
		    msg_len < hdr_len ? 0 : msg_len - hdr_len, ivl + 1 + il);
		return -1;
	}
	iv = msg + hdr_len;
	ct = iv + ivl;
	ctl = msg_len - hdr_len - ivl - il;
	icv = ct + ctl;
	if (!aead && ctl % CBC_BLOCK != 0) {
		log_warnx("ike: SK ciphertext %zu not a multiple of %d", ctl,
		    CBC_BLOCK);
		return -1;
	}
	if (cap < ctl) {
		log_warnx("ike: SK plaintext buffer %zu < %zu", cap, ctl);
		return -1;
	}
	if (aead) {
		memcpy(tag, icv, il);
		if (cipher(sk, false, iv, msg, hdr_len, ct, ctl, plain,
		    tag) != 0) {
			/* Anyone can send this: per-message, debug only;
			 * the caller reports the drop, rate-limited. */
			log_debug("%s: SK ICV mismatch (AEAD tag)", __func__);
			goto out;
		}
	} else {
		covered.p = msg;
		covered.len = msg_len - il;
		if (ike_integ(sk->integ, sk->akey, sk->akey_len, &covered, 1,
		    want) != 0)
			goto out;
		if (CRYPTO_memcmp(want, icv, il) != 0) {
			log_debug("%s: SK ICV mismatch", __func__);
			goto out;
		}
		if (cipher(sk, false, iv, NULL, 0, ct, ctl, plain, NULL) != 0) {
			log_warnx("ike: SK decryption failed");
			goto out;
		}
	}
	pad = plain[ctl - 1];
	if (pad + 1 > ctl) {
		log_warnx("ike: SK pad length %zu > %zu available", pad,
		    ctl - 1);
		goto out;
	}
	*plain_len = ctl - pad - 1;
	rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(plain, cap < ctl ? cap : ctl);
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}
