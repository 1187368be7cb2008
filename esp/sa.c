/*
 * ESP SA set-up: transform checks, key layout, one keyed EVP context per SA.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "esp/sa.h"
#include "relay/log.h"

enum {
	AEAD_IV_LEN	= 8,	/* RFC 4106 §3.1, RFC 7634 §2 */
	AEAD_ICV_LEN	= 16,	/* AES-GCM-16, Poly1305 */
	CBC_IV_LEN	= 16,	/* RFC 3602 §3 */
	CBC_BLOCK	= 16,
	AEAD_ALIGN	= 4	/* RFC 4303 §2.4: 4-octet alignment */
};

size_t
esp_encr_key_len(enum ike_encr encr, unsigned bits)
{
	switch (encr) {
	case IKE_ENCR_AES_CBC:
		return bits == 128 || bits == 192 || bits == 256 ?
		    bits / 8 : 0;
	case IKE_ENCR_AES_GCM_16:
		return bits == 128 || bits == 192 || bits == 256 ?
		    bits / 8 + ESP_SALT_LEN : 0;
	case IKE_ENCR_CHACHA20_POLY1305:
		return bits == 0 || bits == 256 ? 32 + ESP_SALT_LEN : 0;
	default:
		return 0;
	}
}

size_t
esp_integ_key_len(enum ike_integ integ)
{
	switch (integ) {
	case IKE_INTEG_HMAC_SHA1_96:
		return 20;
	case IKE_INTEG_HMAC_SHA2_256_128:
		return 32;
	case IKE_INTEG_HMAC_SHA2_384_192:
		return 48;
	case IKE_INTEG_HMAC_SHA2_512_256:
		return 64;
	default:
		return 0;
	}
}

/*
 * RFC 4868 §2.3: the ICV is the SHA-2 HMAC truncated to half its length;
 * RFC 2404 §2: HMAC-SHA-1-96 keeps the first 96 bits.
 */
static size_t
integ_icv_len(enum ike_integ integ)
{
	if (integ == IKE_INTEG_HMAC_SHA1_96)
		return 12;
	return esp_integ_key_len(integ) / 2;
}

static const char *
integ_digest(enum ike_integ integ)
{
	switch (integ) {
	case IKE_INTEG_HMAC_SHA1_96:
		return "SHA1";
	case IKE_INTEG_HMAC_SHA2_256_128:
		return "SHA2-256";
	case IKE_INTEG_HMAC_SHA2_384_192:
		return "SHA2-384";
	case IKE_INTEG_HMAC_SHA2_512_256:
		return "SHA2-512";
	default:
		return NULL;
	}
}

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

static bool
is_aead(enum ike_encr encr)
{
	return encr == IKE_ENCR_AES_GCM_16 ||
	    encr == IKE_ENCR_CHACHA20_POLY1305;
}

int
esp_keymat_slice(struct esp_sa_params *p, const uint8_t *keymat,
    size_t keymat_len, bool i2r)
{
	size_t el = esp_encr_key_len(p->encr, p->encr_bits);
	size_t al = is_aead(p->encr) ? 0 : esp_integ_key_len(p->integ);
	size_t off = i2r ? 0 : el + al;

	if (el == 0 || (!is_aead(p->encr) && al == 0) ||
	    keymat_len < 2 * (el + al)) {
		log_warnx("esp: KEYMAT %zu octets for encr %d/%u integ %d "
		    "(need %zu)", keymat_len, p->encr, p->encr_bits, p->integ,
		    2 * (el + al));
		return -1;
	}
	p->ekey = keymat + off;
	p->ekey_len = el;
	p->akey = al > 0 ? keymat + off + el : NULL;
	p->akey_len = al;
	return 0;
}

static bool
params_valid(const struct esp_sa_params *p)
{
	size_t el = esp_encr_key_len(p->encr, p->encr_bits);

	if (el == 0 || p->ekey == NULL || p->ekey_len != el)
		return false;
	if (is_aead(p->encr))
		return p->integ == IKE_INTEG_NONE && p->akey_len == 0;
	return esp_integ_key_len(p->integ) != 0 && p->akey != NULL &&
	    p->akey_len == esp_integ_key_len(p->integ);
}

struct esp_sa *
esp_sa_new(const struct esp_sa_params *p)
{
	struct esp_sa *sa = NULL;
	EVP_CIPHER *c = NULL;
	EVP_MAC *mac = NULL;
	OSSL_PARAM mp[2];
	size_t klen;
	unsigned bits;

	if (!params_valid(p)) {
		log_warnx("esp: SA encr %d/%u (%zu octets) integ %d "
		    "(%zu octets) not supported", p->encr, p->encr_bits,
		    p->ekey_len, p->integ, p->akey_len);
		return NULL;
	}
	if (p->spi == 0 || p->nts > ESP_TS_MAX ||
	    (p->nts > 0 && p->ts == NULL)) {
		log_warnx("esp: SA spi %08x with %zu selectors refused",
		    p->spi, p->nts);
		return NULL;
	}
	if ((sa = calloc(1, sizeof(*sa))) == NULL) {
		log_warn("esp: SA");
		return NULL;
	}
	sa->spi = p->spi;
	sa->dir = p->dir;
	sa->encr = p->encr;
	sa->integ = p->integ;
	sa->aead = is_aead(p->encr);
	sa->esn = p->esn;
	bits = p->encr == IKE_ENCR_CHACHA20_POLY1305 ? 256 : p->encr_bits;
	klen = sa->aead ? p->ekey_len - ESP_SALT_LEN : p->ekey_len;
	sa->iv_len = sa->aead ? AEAD_IV_LEN : CBC_IV_LEN;
	sa->icv_len = sa->aead ? AEAD_ICV_LEN : integ_icv_len(p->integ);
	sa->block = sa->aead ? AEAD_ALIGN : CBC_BLOCK;
	if (sa->aead)
		memcpy(sa->salt, p->ekey + klen, ESP_SALT_LEN);
	if (p->nts > 0)
		memcpy(sa->ts, p->ts, p->nts * sizeof(*p->ts));
	sa->nts = p->nts;
	if (esp_replay_init(&sa->replay, p->replay_window, p->esn) != 0)
		goto fail;

	/* The key schedule is computed here, once for the SA's life. */
	if ((c = EVP_CIPHER_fetch(NULL, cipher_name(p->encr, bits),
	    NULL)) == NULL || (sa->cctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_CipherInit_ex2(sa->cctx, c, NULL, NULL,
	    p->dir == ESP_DIR_OUT, NULL) ||
	    (size_t)EVP_CIPHER_CTX_get_key_length(sa->cctx) != klen ||
	    (!sa->aead && !EVP_CIPHER_CTX_set_padding(sa->cctx, 0)) ||
	    !EVP_CipherInit_ex2(sa->cctx, NULL, p->ekey, NULL, -1, NULL)) {
		log_warnx("esp: cipher %s set-up failed",
		    cipher_name(p->encr, bits));
		goto fail;
	}
	if (!sa->aead) {
		mp[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, (char *)integ_digest(p->integ), 0);
		mp[1] = OSSL_PARAM_construct_end();
		if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
		    (sa->mctx = EVP_MAC_CTX_new(mac)) == NULL ||
		    !EVP_MAC_init(sa->mctx, p->akey, p->akey_len, mp)) {
			log_warnx("esp: HMAC %s set-up failed",
			    integ_digest(p->integ));
			goto fail;
		}
	}
	EVP_CIPHER_free(c);
	EVP_MAC_free(mac);
	return sa;
fail:
	EVP_CIPHER_free(c);
	EVP_MAC_free(mac);
	esp_sa_free(sa);
	return NULL;
}

void
esp_sa_free(struct esp_sa *sa)
{
	if (sa == NULL)
		return;
	/* The contexts hold the key schedules; OpenSSL cleanses them. */
	EVP_CIPHER_CTX_free(sa->cctx);
	EVP_MAC_CTX_free(sa->mctx);
	OPENSSL_cleanse(sa, sizeof(*sa));
	free(sa);
}
