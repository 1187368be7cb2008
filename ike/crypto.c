/*
 * IKEv2 PRF, prf+ and integrity transforms on OpenSSL 3 EVP_MAC.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ike/crypto.h"
#include "relay/log.h"

static const char *
prf_digest(enum ike_prf prf)
{
	switch (prf) {
	case IKE_PRF_HMAC_SHA1:
		return "SHA1";
	case IKE_PRF_HMAC_SHA2_256:
		return "SHA2-256";
	case IKE_PRF_HMAC_SHA2_384:
		return "SHA2-384";
	case IKE_PRF_HMAC_SHA2_512:
		return "SHA2-512";
	default:
		return NULL;
	}
}

size_t
ike_prf_len(enum ike_prf prf)
{
	switch (prf) {
	case IKE_PRF_HMAC_SHA1:
		return 20;
	case IKE_PRF_HMAC_SHA2_256:
		return 32;
	case IKE_PRF_HMAC_SHA2_384:
		return 48;
	case IKE_PRF_HMAC_SHA2_512:
		return 64;
	case IKE_PRF_AES128_CMAC:
		return 16;
	default:
		return 0;
	}
}

size_t
ike_prf_key_len(enum ike_prf prf)
{
	return ike_prf_len(prf);
}

bool
ike_prf_fixed_key(enum ike_prf prf)
{
	return prf == IKE_PRF_AES128_XCBC || prf == IKE_PRF_AES128_CMAC;
}

/*
 * One MAC over the concatenation of @in: HMAC with @digest, or AES-128-CMAC
 * when @digest is NULL (the key must then be 16 octets).
 */
static int
mac(const char *digest, const uint8_t *key, size_t key_len,
    const struct ike_chunk *in, size_t n_in, uint8_t *out, size_t out_cap)
{
	EVP_MAC *m = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t i, out_len;
	int rc = -1;

	m = EVP_MAC_fetch(NULL, digest != NULL ? "HMAC" : "CMAC", NULL);
	if (m == NULL || (ctx = EVP_MAC_CTX_new(m)) == NULL)
		goto fail;
	if (digest != NULL)
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
	else
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0);
	params[1] = OSSL_PARAM_construct_end();
	/* HMAC accepts an empty key; EVP_MAC_init wants a non-NULL pointer. */
	if (!EVP_MAC_init(ctx, key_len > 0 ? key : (const uint8_t *)"",
	    key_len, params))
		goto fail;
	for (i = 0; i < n_in; i++)
		if (in[i].len > 0 && !EVP_MAC_update(ctx, in[i].p, in[i].len))
			goto fail;
	if (!EVP_MAC_final(ctx, out, &out_len, out_cap) || out_len != out_cap)
		goto fail;
	rc = 0;
fail:
	if (rc != 0)
		log_warnx("ike: %s MAC failed", digest != NULL ? digest : "CMAC");
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return rc;
}

int
ike_prf(enum ike_prf prf, const uint8_t *key, size_t key_len,
    const struct ike_chunk *in, size_t n_in, uint8_t *out)
{
	uint8_t k[IKE_CMAC_KEY_LEN];
	static const uint8_t zero[IKE_CMAC_KEY_LEN];
	struct ike_chunk kin;
	int rc = -1;

	if (prf != IKE_PRF_AES128_CMAC) {
		if (prf_digest(prf) == NULL) {
			log_warnx("ike: PRF %d not supported", prf);
			return -1;
		}
		return mac(prf_digest(prf), key, key_len, in, n_in, out,
		    ike_prf_len(prf));
	}
	/*
	 * RFC 4615 §3: a 16-octet key is used as is; any other key length
	 * is first reduced to K = AES-CMAC(0^128, key).
	 */
	if (key_len == IKE_CMAC_KEY_LEN) {
		memcpy(k, key, sizeof(k));
	} else {
		kin.p = key;
		kin.len = key_len;
		if (mac(NULL, zero, sizeof(zero), &kin, 1, k, sizeof(k)) != 0)
			goto out;
	}
	rc = mac(NULL, k, sizeof(k), in, n_in, out, IKE_CMAC_KEY_LEN);
out:
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

int
ike_prfplus(enum ike_prf prf, const uint8_t *key, size_t key_len,
    const struct ike_chunk *in, size_t n_in, uint8_t *out, size_t out_len)
{
	enum { PIECES_MAX = 8 };
	struct ike_chunk pieces[PIECES_MAX + 2];
	uint8_t t[IKE_PRF_OUT_MAX];
	size_t plen = ike_prf_len(prf), done = 0, take, n;
	uint8_t round = 1;
	int rc = -1;

	if (plen == 0) {
		log_warnx("ike: prf+ with unsupported PRF %d", prf);
		return -1;
	}
	if (n_in > PIECES_MAX) {
		log_warnx("ike: prf+ seed in %zu pieces > %d", n_in,
		    PIECES_MAX);
		return -1;
	}
	if (out_len > (size_t)IKE_PRFPLUS_ROUNDS * plen) {
		log_warnx("ike: prf+ output %zu > 255 * %zu", out_len, plen);
		return -1;
	}
	while (done < out_len) {
		n = 0;
		if (round > 1) {
			pieces[n].p = t;
			pieces[n++].len = plen;
		}
		memcpy(&pieces[n], in, n_in * sizeof(*in));
		n += n_in;
		pieces[n].p = &round;
		pieces[n++].len = 1;
		if (ike_prf(prf, key, key_len, pieces, n, t) != 0)
			goto out;
		take = out_len - done < plen ? out_len - done : plen;
		memcpy(out + done, t, take);
		done += take;
		round++;
	}
	rc = 0;
out:
	OPENSSL_cleanse(t, sizeof(t));
	if (rc != 0)
		OPENSSL_cleanse(out, out_len);
	return rc;
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

size_t
ike_integ_key_len(enum ike_integ integ)
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

size_t
ike_integ_icv_len(enum ike_integ integ)
{
	return ike_integ_key_len(integ) == 20 ? 12 :
	    ike_integ_key_len(integ) / 2;
}

int
ike_integ(enum ike_integ integ, const uint8_t *key, size_t key_len,
    const struct ike_chunk *in, size_t n_in, uint8_t *icv)
{
	uint8_t full[IKE_INTEG_KEY_MAX];
	const char *digest = integ_digest(integ);
	int rc;

	if (digest == NULL || key_len != ike_integ_key_len(integ)) {
		log_warnx("ike: integrity %d with %zu-octet key not supported",
		    integ, key_len);
		return -1;
	}
	/* The HMAC output is as long as the key for all four transforms. */
	rc = mac(digest, key, key_len, in, n_in, full, key_len);
	if (rc == 0)
		memcpy(icv, full, ike_integ_icv_len(integ));
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

bool
ike_encr_is_aead(enum ike_encr encr)
{
	return encr == IKE_ENCR_AES_GCM_16 ||
	    encr == IKE_ENCR_CHACHA20_POLY1305;
}

size_t
ike_encr_key_len(enum ike_encr encr, unsigned key_bits)
{
	switch (encr) {
	case IKE_ENCR_AES_CBC:
	case IKE_ENCR_AES_GCM_16:
		if (key_bits != 128 && key_bits != 192 && key_bits != 256)
			return 0;
		return key_bits / 8 +
		    (encr == IKE_ENCR_AES_GCM_16 ? IKE_ENCR_SALT_LEN : 0);
	case IKE_ENCR_CHACHA20_POLY1305:
		/* RFC 7634 §3: no Key Length attribute, 256-bit key. */
		return key_bits == 0 || key_bits == 256 ?
		    32 + IKE_ENCR_SALT_LEN : 0;
	default:
		return 0;
	}
}

size_t
ike_encr_iv_len(enum ike_encr encr)
{
	switch (encr) {
	case IKE_ENCR_AES_CBC:
		return 16;
	case IKE_ENCR_AES_GCM_16:
	case IKE_ENCR_CHACHA20_POLY1305:
		return 8;
	default:
		return 0;
	}
}

size_t
ike_encr_tag_len(enum ike_encr encr)
{
	return ike_encr_is_aead(encr) ? 16 : 0;
}
