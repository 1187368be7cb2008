/*
 * ESP tunnel-mode encapsulation and decapsulation (RFC 4303) with AES-GCM-16
 * (RFC 4106), ChaCha20-Poly1305 (RFC 7634) and AES-CBC + HMAC-SHA2
 * (RFC 3602, RFC 4868), on the SA's pre-keyed EVP contexts.
 */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "esp/esp.h"
#include "esp/inner.h"
#include "esp/sa.h"
#include "framing/wire.h"

enum {
	AAD_MAX		= 12,	/* SPI | ESN high | Sequence Number */
	NONCE_LEN	= 12,	/* salt 4 | IV 8 */
	HMAC_MAX	= 64	/* SHA2-512 output before truncation */
};

#define ESP_RESULT_NAME(e, s)	s,
static const char *const result_names[] = {
	ESP_RESULTS(ESP_RESULT_NAME)
};
#undef ESP_RESULT_NAME

const char *
esp_result_name(enum esp_result r)
{
	if ((unsigned)r >= ESP_RESULT_COUNT)
		return "?";
	return result_names[r];
}

/* RFC 4303 §2.4: Pad Length and Next Header end on the cipher's block. */
static size_t
pad_len(const struct esp_sa *sa, size_t inner_len)
{
	return (sa->block - (inner_len + 2) % sa->block) % sa->block;
}

size_t
esp_encap_len(const struct esp_sa *sa, size_t inner_len)
{
	return ESP_HDR_LEN + sa->iv_len + inner_len + pad_len(sa, inner_len) +
	    2 + sa->icv_len;
}

/*
 * RFC 4106 §5 (and RFC 7634 §2.1, which uses the same AAD): "SPI, 32-bit
 * Sequence Number" or, with ESN, "SPI, 64-bit Extended Sequence Number".
 */
static size_t
make_aad(const struct esp_sa *sa, uint64_t seq, uint8_t aad[AAD_MAX])
{
	store_be32(aad, sa->spi);
	if (!sa->esn) {
		store_be32(aad + 4, (uint32_t)seq);
		return 8;
	}
	store_be32(aad + 4, (uint32_t)(seq >> 32));
	store_be32(aad + 8, (uint32_t)seq);
	return 12;
}

/* RFC 4106 §4 / RFC 7634 §2: nonce = salt | explicit IV. */
static bool
aead_start(struct esp_sa *sa, const uint8_t *iv, uint64_t seq)
{
	uint8_t nonce[NONCE_LEN], aad[AAD_MAX];
	size_t alen = make_aad(sa, seq, aad);
	int n;

	bool ok;

	memcpy(nonce, sa->salt, ESP_SALT_LEN);
	memcpy(nonce + ESP_SALT_LEN, iv, NONCE_LEN - ESP_SALT_LEN);
	ok = EVP_CipherInit_ex2(sa->cctx, NULL, NULL, nonce, -1, NULL) &&
	    EVP_CipherUpdate(sa->cctx, NULL, &n, aad, (int)alen);
	/* The salt is keying material (RFC 4106 §8.1). */
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return ok;
}

/*
 * The CBC SA's ICV over @p[0 .. len) and, with ESN, the high-order 32
 * bits of the sequence number, which RFC 4303 §2.2.1 includes in the ICV
 * computation without sending them.  @icv gets sa->icv_len octets.
 */
static bool
hmac(struct esp_sa *sa, const uint8_t *p, size_t len, uint64_t seq,
    uint8_t *icv)
{
	uint8_t full[HMAC_MAX], hi[4];
	size_t n;
	bool ok;

	store_be32(hi, (uint32_t)(seq >> 32));
	/* No key: HMAC restarts with the key set in esp_sa_new(). */
	ok = EVP_MAC_init(sa->mctx, NULL, 0, NULL) &&
	    EVP_MAC_update(sa->mctx, p, len) &&
	    (!sa->esn || EVP_MAC_update(sa->mctx, hi, sizeof(hi))) &&
	    EVP_MAC_final(sa->mctx, full, &n, sizeof(full)) &&
	    n >= sa->icv_len;
	if (ok)
		memcpy(icv, full, sa->icv_len);
	OPENSSL_cleanse(full, sizeof(full));
	return ok;
}

/* Encrypts @in (@len octets) to @out, where the previous output ended. */
static bool
update(struct esp_sa *sa, uint8_t *out, size_t *done, const uint8_t *in,
    size_t len)
{
	int n;

	if (len == 0)
		return true;
	if (!EVP_CipherUpdate(sa->cctx, out + *done, &n, in, (int)len))
		return false;
	*done += (size_t)n;
	return true;
}

size_t
esp_encap_offset(const struct esp_sa *sa)
{
	return ESP_HDR_LEN + sa->iv_len;
}

/*
 * Appends one ESP packet carrying @len octets of payload with Next Header
 * @nh.  @inner NULL: the payload is random (a dummy packet).
 */
static enum esp_encap_result
seal(struct esp_sa *sa, const uint8_t *inner, size_t len, uint8_t nh,
    struct wr *w)
{
	uint8_t *at, *iv, *ct, *icv;
	size_t pad, total, ctl, done = 0, i;
	uint64_t seq, limit;
	int n;

	assert(sa->dir == ESP_DIR_OUT);
	/*
	 * RFC 4303 §3.3.3: "the sender MUST NOT send a packet on an SA if
	 * doing so would cause the sequence number to cycle"; the SA must be
	 * rekeyed first.  Without ESN the counter has 32 bits.
	 */
	limit = sa->esn ? UINT64_MAX : UINT32_MAX;
	if (sa->seq == limit)
		return ESP_ENCAP_SEQ_EXHAUSTED;
	pad = pad_len(sa, len);
	total = esp_encap_len(sa, len);
	if ((at = wr_reserve(w, total)) == NULL)
		return ESP_ENCAP_NO_SPACE;
	ctl = len + pad + 2;
	iv = at + ESP_HDR_LEN;
	ct = iv + sa->iv_len;
	icv = ct + ctl;
	/*
	 * The plaintext is assembled in place and encrypted in one call (a
	 * second EVP update for the trailer costs more than the copy).  The
	 * inner packet moves first: it may already sit at @ct, or overlap.
	 */
	if (inner != NULL)
		memmove(ct, inner, len);
	else if (RAND_bytes(ct, (int)len) != 1)
		goto fail;
	seq = ++sa->seq;
	store_be32(at, sa->spi);
	store_be32(at + 4, (uint32_t)seq);
	/* RFC 4303 §2.4: Padding bytes 1, 2, 3, ..., then the two fields. */
	for (i = 0; i < pad; i++)
		ct[len + i] = (uint8_t)(i + 1);
	ct[len + pad] = (uint8_t)pad;
	ct[len + pad + 1] = nh;

	if (sa->aead) {
		/* RFC 4106 §3.1: the IV is unique per key: the counter. */
		store_be64(iv, seq);
		if (!aead_start(sa, iv, seq) ||
		    !update(sa, ct, &done, ct, ctl) ||
		    !EVP_CipherFinal_ex(sa->cctx, ct + done, &n) ||
		    done + (size_t)n != ctl ||
		    EVP_CIPHER_CTX_ctrl(sa->cctx, EVP_CTRL_AEAD_GET_TAG,
		    (int)sa->icv_len, icv) <= 0)
			goto fail;
	} else {
		if (RAND_bytes(iv, (int)sa->iv_len) != 1 ||
		    !EVP_CipherInit_ex2(sa->cctx, NULL, NULL, iv, -1, NULL) ||
		    !update(sa, ct, &done, ct, ctl) ||
		    !EVP_CipherFinal_ex(sa->cctx, ct + done, &n) ||
		    done + (size_t)n != ctl ||
		    !hmac(sa, at, ESP_HDR_LEN + sa->iv_len + ctl, seq, icv))
			goto fail;
	}
	sa->packets++;
	sa->octets += len;
	return ESP_ENCAP_OK;
fail:
	/* A sequence number once taken stays used: no IV repeats. */
	OPENSSL_cleanse(at, total);
	w->len -= total;
	return ESP_ENCAP_CRYPTO;
}

enum esp_encap_result
esp_encap(struct esp_sa *sa, const uint8_t *inner, size_t inner_len,
    struct wr *w)
{
	if (inner_len == 0 || inner_len > INT_MAX / 2)
		return ESP_ENCAP_BAD_INNER;
	switch (inner[0] >> 4) {
	case 4:
		return seal(sa, inner, inner_len, ESP_NH_IPV4, w);
	case 6:
		return seal(sa, inner, inner_len, ESP_NH_IPV6, w);
	default:
		return ESP_ENCAP_BAD_INNER;
	}
}

enum esp_encap_result
esp_encap_dummy(struct esp_sa *sa, size_t len, struct wr *w)
{
	if (len > INT_MAX / 2)
		return ESP_ENCAP_BAD_INNER;
	return seal(sa, NULL, len, ESP_NH_NONE, w);
}

static enum esp_result
drop(struct esp_sa *sa, enum esp_result r)
{
	sa->drops[r]++;
	return r;
}

/* The ICV step: AEAD decrypts and verifies; CBC verifies, then decrypts. */
static bool
open_payload(struct esp_sa *sa, const uint8_t *pkt, size_t len,
    uint64_t seq, uint8_t *out)
{
	const uint8_t *iv = pkt + ESP_HDR_LEN, *ct = iv + sa->iv_len;
	size_t ctl = len - ESP_HDR_LEN - sa->iv_len - sa->icv_len, done = 0;
	uint8_t tag[ESP_ICV_MAX], want[ESP_ICV_MAX];
	const uint8_t *icv = ct + ctl;
	bool ok = false;
	int n;

	if (sa->aead) {
		memcpy(tag, icv, sa->icv_len);
		ok = aead_start(sa, iv, seq) &&
		    EVP_CIPHER_CTX_ctrl(sa->cctx, EVP_CTRL_AEAD_SET_TAG,
		    (int)sa->icv_len, tag) > 0 &&
		    update(sa, out, &done, ct, ctl) &&
		    EVP_CipherFinal_ex(sa->cctx, out + done, &n) > 0 &&
		    done + (size_t)n == ctl;
	} else {
		/*
		 * RFC 4303 §3.4.4.1: with a separate integrity algorithm
		 * the ICV is verified before decryption.
		 */
		ok = hmac(sa, pkt, len - sa->icv_len, seq, want) &&
		    CRYPTO_memcmp(want, icv, sa->icv_len) == 0 &&
		    EVP_CipherInit_ex2(sa->cctx, NULL, NULL, iv, -1, NULL) &&
		    update(sa, out, &done, ct, ctl) &&
		    EVP_CipherFinal_ex(sa->cctx, out + done, &n) &&
		    done + (size_t)n == ctl;
	}
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

enum esp_result
esp_decap(struct esp_sa *sa, const uint8_t *pkt, size_t len, uint8_t *out,
    size_t cap, struct esp_rx *rx)
{
	size_t ctl, padl, plen, ip_len, i;
	enum esp_replay_verdict v;
	enum esp_result res;
	uint64_t seq;
	uint8_t nh;

	assert(sa->dir == ESP_DIR_IN);
	memset(rx, 0, sizeof(*rx));
	/* At least one aligned block of ciphertext: Pad Length + Next Hdr. */
	if (len < ESP_HDR_LEN + sa->iv_len + sa->block + sa->icv_len ||
	    len > INT_MAX / 2)
		return drop(sa, ESP_DROP_MALFORMED);
	ctl = len - ESP_HDR_LEN - sa->iv_len - sa->icv_len;
	if (ctl % sa->block != 0)
		return drop(sa, ESP_DROP_MALFORMED);
	if (load_be32(pkt) != sa->spi)
		return drop(sa, ESP_DROP_SPI);
	if (cap < ctl)
		return drop(sa, ESP_DROP_NO_SPACE);

	/* RFC 4303 §3.4.3: the replay check comes before the ICV. */
	v = esp_replay_check(&sa->replay, load_be32(pkt + 4), &seq);
	if (v == ESP_REPLAY_SEEN)
		return drop(sa, ESP_DROP_REPLAY);
	if (v != ESP_REPLAY_OK)
		return drop(sa, ESP_DROP_OLD);
	if (!open_payload(sa, pkt, len, seq, out)) {
		OPENSSL_cleanse(out, ctl);
		return drop(sa, ESP_DROP_AUTH);
	}
	/*
	 * RFC 4303 §3.4.3: "The receive window is updated only if the ICV
	 * verification succeeds."
	 */
	esp_replay_update(&sa->replay, seq);

	padl = out[ctl - 2];
	nh = out[ctl - 1];
	if (padl + 2 > ctl)
		return drop(sa, ESP_DROP_PAD_LEN);
	plen = ctl - 2 - padl;
	/* RFC 4303 §2.4: "the receiver SHOULD inspect the Padding field". */
	for (i = 0; i < padl; i++)
		if (out[plen + i] != (uint8_t)(i + 1))
			return drop(sa, ESP_DROP_PAD);
	/*
	 * RFC 4303 §2.6: "a receiver MUST be prepared to discard such
	 * packets, without indicating an error."
	 */
	if (nh == ESP_NH_NONE)
		return drop(sa, ESP_DROP_DUMMY);
	res = esp_inner_check(out, plen, nh, sa->ts, sa->nts, &ip_len);
	if (res != ESP_OK)
		return drop(sa, res);
	rx->inner = out;
	rx->len = ip_len;
	rx->next_header = nh;
	rx->seq = seq;
	sa->packets++;
	sa->octets += ip_len;
	return ESP_OK;
}
