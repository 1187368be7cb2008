/*
 * IKEv2 key schedule: SKEYSEED, SK_*, rekeyed IKE SAs and Child SA KEYMAT.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "ike/keys.h"
#include "relay/log.h"

enum {
	NONCE_FIXED_KEY = 8	/* §2.14: first 64 bits of Ni and of Nr */
};

bool
ike_suite_valid(const struct ike_suite *s, bool child)
{
	if (ike_encr_key_len(s->encr, s->encr_bits) == 0)
		return false;
	if (!child && ike_prf_len(s->prf) == 0)
		return false;
	if (ike_encr_is_aead(s->encr))
		return s->integ == IKE_INTEG_NONE;
	return ike_integ_key_len(s->integ) != 0;
}

int
ike_skeyseed(enum ike_prf prf, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len, const uint8_t *gir, size_t gir_len,
    uint8_t *out)
{
	uint8_t key[2 * IKE_NONCE_MAX];
	struct ike_chunk in = { gir, gir_len };
	size_t kl;
	int rc;

	if (ni_len > IKE_NONCE_MAX || nr_len > IKE_NONCE_MAX) {
		log_warnx("ike: nonce lengths %zu/%zu > %d", ni_len, nr_len,
		    IKE_NONCE_MAX);
		return -1;
	}
	if (ike_prf_fixed_key(prf)) {
		if (ni_len < NONCE_FIXED_KEY || nr_len < NONCE_FIXED_KEY) {
			log_warnx("ike: nonce lengths %zu/%zu < 8", ni_len,
			    nr_len);
			return -1;
		}
		ni_len = nr_len = NONCE_FIXED_KEY;
	}
	memcpy(key, ni, ni_len);
	memcpy(key + ni_len, nr, nr_len);
	kl = ni_len + nr_len;
	rc = ike_prf(prf, key, kl, &in, 1, out);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
ike_skeyseed_rekey(enum ike_prf old_prf, const uint8_t *old_sk_d,
    size_t old_sk_d_len, const uint8_t *gir, size_t gir_len,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
    uint8_t *out)
{
	struct ike_chunk in[3] = {
		{ gir, gir_len }, { ni, ni_len }, { nr, nr_len }
	};

	return ike_prf(old_prf, old_sk_d, old_sk_d_len, in, 3, out);
}

/* Cut @n octets off the front of @km at *off into @dst. */
static void
take(const uint8_t *km, size_t *off, uint8_t *dst, size_t n)
{
	memcpy(dst, km + *off, n);
	*off += n;
}

int
ike_keys_derive(const struct ike_suite *s, const uint8_t *skeyseed,
    size_t skeyseed_len, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len, const uint8_t spii[static IKE_SPI_LEN],
    const uint8_t spir[static IKE_SPI_LEN], struct ike_keys *keys)
{
	uint8_t km[3 * IKE_PRF_OUT_MAX + 2 * IKE_INTEG_KEY_MAX +
	    2 * IKE_ENCR_KEY_MAX];
	struct ike_chunk in[4] = {
		{ ni, ni_len }, { nr, nr_len },
		{ spii, IKE_SPI_LEN }, { spir, IKE_SPI_LEN }
	};
	size_t total, off = 0;
	int rc = -1;

	memset(keys, 0, sizeof(*keys));
	if (!ike_suite_valid(s, false)) {
		log_warnx("ike: unsupported suite encr %d/%u prf %d integ %d",
		    s->encr, s->encr_bits, s->prf, s->integ);
		return -1;
	}
	keys->prf_len = ike_prf_key_len(s->prf);
	keys->integ_len = ike_encr_is_aead(s->encr) ? 0 :
	    ike_integ_key_len(s->integ);
	keys->encr_len = ike_encr_key_len(s->encr, s->encr_bits);
	total = 3 * keys->prf_len + 2 * keys->integ_len + 2 * keys->encr_len;
	if (ike_prfplus(s->prf, skeyseed, skeyseed_len, in, 4, km,
	    total) != 0)
		goto out;
	take(km, &off, keys->sk_d, keys->prf_len);
	take(km, &off, keys->sk_ai, keys->integ_len);
	take(km, &off, keys->sk_ar, keys->integ_len);
	take(km, &off, keys->sk_ei, keys->encr_len);
	take(km, &off, keys->sk_er, keys->encr_len);
	take(km, &off, keys->sk_pi, keys->prf_len);
	take(km, &off, keys->sk_pr, keys->prf_len);
	rc = 0;
out:
	OPENSSL_cleanse(km, sizeof(km));
	if (rc != 0)
		ike_keys_cleanse(keys);
	return rc;
}

int
ike_keys_new_sa(const struct ike_suite *s, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len, const uint8_t *gir, size_t gir_len,
    const uint8_t spii[static IKE_SPI_LEN],
    const uint8_t spir[static IKE_SPI_LEN], struct ike_keys *keys)
{
	uint8_t seed[IKE_PRF_OUT_MAX];
	int rc = -1;

	memset(keys, 0, sizeof(*keys));
	if (ike_skeyseed(s->prf, ni, ni_len, nr, nr_len, gir, gir_len,
	    seed) != 0)
		goto out;
	rc = ike_keys_derive(s, seed, ike_prf_len(s->prf), ni, ni_len, nr,
	    nr_len, spii, spir, keys);
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	return rc;
}

int
ike_keys_rekey_sa(const struct ike_suite *s, enum ike_prf old_prf,
    const uint8_t *old_sk_d, size_t old_sk_d_len, const uint8_t *gir,
    size_t gir_len, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
    size_t nr_len, const uint8_t spii[static IKE_SPI_LEN],
    const uint8_t spir[static IKE_SPI_LEN], struct ike_keys *keys)
{
	uint8_t seed[IKE_PRF_OUT_MAX];
	int rc = -1;

	memset(keys, 0, sizeof(*keys));
	if (ike_skeyseed_rekey(old_prf, old_sk_d, old_sk_d_len, gir, gir_len,
	    ni, ni_len, nr, nr_len, seed) != 0)
		goto out;
	rc = ike_keys_derive(s, seed, ike_prf_len(old_prf), ni, ni_len, nr,
	    nr_len, spii, spir, keys);
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	return rc;
}

void
ike_keys_cleanse(struct ike_keys *keys)
{
	OPENSSL_cleanse(keys, sizeof(*keys));
}

int
ike_child_keys_derive(enum ike_prf prf, const uint8_t *sk_d, size_t sk_d_len,
    const struct ike_suite *child, const uint8_t *gir, size_t gir_len,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
    struct ike_child_keys *keys)
{
	uint8_t km[2 * IKE_INTEG_KEY_MAX + 2 * IKE_ENCR_KEY_MAX];
	struct ike_chunk in[3];
	size_t n = 0, off = 0;
	int rc = -1;

	memset(keys, 0, sizeof(*keys));
	if (!ike_suite_valid(child, true)) {
		log_warnx("ike: unsupported Child SA encr %d/%u integ %d",
		    child->encr, child->encr_bits, child->integ);
		return -1;
	}
	keys->encr_len = ike_encr_key_len(child->encr, child->encr_bits);
	keys->integ_len = ike_encr_is_aead(child->encr) ? 0 :
	    ike_integ_key_len(child->integ);
	if (gir != NULL && gir_len > 0) {
		in[n].p = gir;
		in[n++].len = gir_len;
	}
	in[n].p = ni;
	in[n++].len = ni_len;
	in[n].p = nr;
	in[n++].len = nr_len;
	/* §2.17: encryption key first, then integrity, initiator's first. */
	if (ike_prfplus(prf, sk_d, sk_d_len, in, n, km,
	    2 * (keys->encr_len + keys->integ_len)) != 0)
		goto out;
	take(km, &off, keys->ei, keys->encr_len);
	take(km, &off, keys->ai, keys->integ_len);
	take(km, &off, keys->er, keys->encr_len);
	take(km, &off, keys->ar, keys->integ_len);
	rc = 0;
out:
	OPENSSL_cleanse(km, sizeof(km));
	if (rc != 0)
		ike_child_keys_cleanse(keys);
	return rc;
}

void
ike_child_keys_cleanse(struct ike_child_keys *keys)
{
	OPENSSL_cleanse(keys, sizeof(*keys));
}
