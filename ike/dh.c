/*
 * IKEv2 key exchange on EVP_PKEY: MODP, ECP and Curve25519/448 groups.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "ike/dh.h"
#include "relay/log.h"

enum dh_kind {
	DH_MODP,
	DH_ECP,
	DH_ECX
};

struct group {
	enum ike_dh	 id;
	enum dh_kind	 kind;
	const char	*name;		/* OpenSSL group / key type name */
	size_t		 pub_len;	/* KE data, octets */
	size_t		 secret_len;	/* g^ir, octets */
	bool		 weak;		/* needs IKE_KEX_ALLOW_WEAK */
};

static const struct group groups[] = {
	/* RFC 2409 group 2 has no OpenSSL name: built from its prime. */
	{ IKE_DH_MODP1024, DH_MODP, NULL, 128, 128, true },
	{ IKE_DH_MODP1536, DH_MODP, "modp_1536", 192, 192, true },
	{ IKE_DH_MODP2048, DH_MODP, "modp_2048", 256, 256, false },
	{ IKE_DH_MODP3072, DH_MODP, "modp_3072", 384, 384, false },
	{ IKE_DH_MODP4096, DH_MODP, "modp_4096", 512, 512, false },
	{ IKE_DH_ECP256, DH_ECP, "P-256", 64, 32, false },
	{ IKE_DH_ECP384, DH_ECP, "P-384", 96, 48, false },
	{ IKE_DH_ECP521, DH_ECP, "P-521", 132, 66, false },
	{ IKE_DH_CURVE25519, DH_ECX, "X25519", 32, 32, false },
	{ IKE_DH_CURVE448, DH_ECX, "X448", 56, 56, false }
};

struct ike_kex {
	const struct group	*g;
	EVP_PKEY		*key;
};

static const struct group *
lookup(enum ike_dh id, unsigned flags)
{
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].id == id)
			return groups[i].weak &&
			    !(flags & IKE_KEX_ALLOW_WEAK) ? NULL : &groups[i];
	return NULL;
}

bool
ike_kex_supported(enum ike_dh group, unsigned flags)
{
	return lookup(group, flags) != NULL;
}

size_t
ike_kex_pub_len(enum ike_dh group)
{
	const struct group *g = lookup(group, IKE_KEX_ALLOW_WEAK);

	return g != NULL ? g->pub_len : 0;
}

size_t
ike_kex_secret_len(enum ike_dh group)
{
	const struct group *g = lookup(group, IKE_KEX_ALLOW_WEAK);

	return g != NULL ? g->secret_len : 0;
}

enum ike_dh
ike_kex_group(const struct ike_kex *dh)
{
	return dh->g->id;
}

/* MODP group 2 domain parameters (RFC 2409 §6.2: 1024-bit prime, g = 2). */
static EVP_PKEY *
modp1024_params(void)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *p = NULL, *g = NULL;

	if ((p = BN_get_rfc2409_prime_1024(NULL)) == NULL ||
	    (g = BN_new()) == NULL || !BN_set_word(g, 2) ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS,
	    params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(g);
	BN_free(p);
	return pkey;
}

static EVP_PKEY *
generate(const struct group *g)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *params = NULL, *key = NULL;
	OSSL_PARAM p[2];

	switch (g->kind) {
	case DH_MODP:
		if (g->name == NULL) {
			if ((params = modp1024_params()) == NULL)
				break;
			ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
			if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0)
				break;
		} else {
			ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
			p[0] = OSSL_PARAM_construct_utf8_string(
			    OSSL_PKEY_PARAM_GROUP_NAME, (char *)g->name, 0);
			p[1] = OSSL_PARAM_construct_end();
			if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
			    !EVP_PKEY_CTX_set_params(ctx, p))
				break;
		}
		if (EVP_PKEY_generate(ctx, &key) <= 0)
			key = NULL;
		break;
	case DH_ECP:
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		p[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_PKEY_PARAM_GROUP_NAME, (char *)g->name, 0);
		p[1] = OSSL_PARAM_construct_end();
		if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
		    !EVP_PKEY_CTX_set_params(ctx, p) ||
		    EVP_PKEY_generate(ctx, &key) <= 0)
			key = NULL;
		break;
	case DH_ECX:
		ctx = EVP_PKEY_CTX_new_from_name(NULL, g->name, NULL);
		if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
		    EVP_PKEY_generate(ctx, &key) <= 0)
			key = NULL;
		break;
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(params);
	return key;
}

struct ike_kex *
ike_kex_new(enum ike_dh group, unsigned flags)
{
	const struct group *g = lookup(group, flags);
	struct ike_kex *dh;

	if (g == NULL) {
		log_warnx("ike: DH group %d not supported", group);
		return NULL;
	}
	if ((dh = calloc(1, sizeof(*dh))) == NULL) {
		log_warn("ike: DH group %d", group);
		return NULL;
	}
	dh->g = g;
	if ((dh->key = generate(g)) == NULL) {
		log_warnx("ike: DH group %d key generation failed", group);
		free(dh);
		return NULL;
	}
	return dh;
}

/* An EC key pair from the scalar @priv: the public point is priv * G. */
static EVP_PKEY *
ecp_from_private(const struct group *g, const uint8_t *priv, size_t len)
{
	EC_GROUP *grp = NULL;
	EC_POINT *pt = NULL;
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	uint8_t pub[1 + 2 * 66];
	size_t pub_len;

	if ((grp = EC_GROUP_new_by_curve_name_ex(NULL, NULL,
	    EC_curve_nist2nid(g->name))) == NULL ||
	    (d = BN_bin2bn(priv, (int)len, NULL)) == NULL ||
	    (pt = EC_POINT_new(grp)) == NULL ||
	    !EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) ||
	    (pub_len = EC_POINT_point2oct(grp, pt,
	    POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), NULL)) == 0 ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    g->name, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, pub_len) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(pt);
	BN_clear_free(d);
	EC_GROUP_free(grp);
	return key;
}

struct ike_kex *
ike_kex_new_private(enum ike_dh group, unsigned flags, const uint8_t *priv,
    size_t priv_len)
{
	const struct group *g = lookup(group, flags);
	struct ike_kex *dh;
	EVP_PKEY *key = NULL;

	if (g == NULL || g->kind == DH_MODP) {
		log_warnx("ike: DH group %d: no fixed private keys", group);
		return NULL;
	}
	if (g->kind == DH_ECX)
		key = EVP_PKEY_new_raw_private_key_ex(NULL, g->name, NULL,
		    priv, priv_len);
	else if (priv_len == g->secret_len)
		key = ecp_from_private(g, priv, priv_len);
	if (key == NULL) {
		log_warnx("ike: DH group %d: bad private key", group);
		return NULL;
	}
	if ((dh = calloc(1, sizeof(*dh))) == NULL) {
		log_warn("ike: DH group %d", group);
		EVP_PKEY_free(key);
		return NULL;
	}
	dh->g = g;
	dh->key = key;
	return dh;
}

void
ike_kex_free(struct ike_kex *dh)
{
	if (dh == NULL)
		return;
	EVP_PKEY_free(dh->key);
	free(dh);
}

static bool
bn_param(const EVP_PKEY *key, const char *name, uint8_t *out, size_t len)
{
	BIGNUM *bn = NULL;
	bool ok;

	ok = EVP_PKEY_get_bn_param(key, name, &bn) &&
	    BN_bn2binpad(bn, out, (int)len) == (int)len;
	BN_free(bn);
	return ok;
}

int
ike_kex_public(const struct ike_kex *dh, uint8_t *out, size_t len)
{
	const struct group *g = dh->g;
	size_t n = len, half = g->pub_len / 2;
	bool ok = false;

	if (len != g->pub_len) {
		log_warnx("ike: DH group %d public value %zu != %zu octets",
		    g->id, len, g->pub_len);
		return -1;
	}
	switch (g->kind) {
	case DH_MODP:
		ok = bn_param(dh->key, OSSL_PKEY_PARAM_PUB_KEY, out, len);
		break;
	case DH_ECP:
		ok = bn_param(dh->key, OSSL_PKEY_PARAM_EC_PUB_X, out, half) &&
		    bn_param(dh->key, OSSL_PKEY_PARAM_EC_PUB_Y, out + half,
		    half);
		break;
	case DH_ECX:
		ok = EVP_PKEY_get_raw_public_key(dh->key, out, &n) &&
		    n == len;
		break;
	}
	if (!ok) {
		log_warnx("ike: DH group %d: cannot export public value",
		    g->id);
		return -1;
	}
	return 0;
}

/* RFC 7296 §3.4 and NIST SP 800-56A: a MODP peer value is in 1 < y < p-1. */
static bool
modp_in_range(const EVP_PKEY *ours, const uint8_t *peer, size_t len)
{
	BIGNUM *p = NULL, *y = NULL;
	bool ok = false;

	if (!EVP_PKEY_get_bn_param(ours, OSSL_PKEY_PARAM_FFC_P, &p) ||
	    (y = BN_bin2bn(peer, (int)len, NULL)) == NULL ||
	    !BN_sub_word(p, 1))
		goto out;
	ok = BN_cmp(y, BN_value_one()) > 0 && BN_cmp(y, p) < 0;
out:
	BN_free(y);
	BN_free(p);
	return ok;
}

static EVP_PKEY *
peer_key(const struct ike_kex *dh, const uint8_t *peer, size_t len)
{
	uint8_t point[1 + 2 * 66];
	EVP_PKEY *key = NULL;

	if (dh->g->kind == DH_ECX)
		return EVP_PKEY_new_raw_public_key_ex(NULL, dh->g->name,
		    NULL, peer, len);
	if ((key = EVP_PKEY_new()) == NULL ||
	    !EVP_PKEY_copy_parameters(key, dh->key))
		goto fail;
	if (dh->g->kind == DH_ECP) {
		/* RFC 5903 §7: x | y; OpenSSL wants the SEC 1 form 04 | x | y. */
		point[0] = POINT_CONVERSION_UNCOMPRESSED;
		memcpy(point + 1, peer, len);
		if (!EVP_PKEY_set1_encoded_public_key(key, point, len + 1))
			goto fail;
	} else if (!EVP_PKEY_set1_encoded_public_key(key, peer, len)) {
		goto fail;
	}
	return key;
fail:
	EVP_PKEY_free(key);
	return NULL;
}

int
ike_kex_derive(struct ike_kex *dh, const uint8_t *peer, size_t peer_len,
    uint8_t *secret, size_t len)
{
	const struct group *g = dh->g;
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = len;
	int rc = -1;

	if (peer_len != g->pub_len) {
		log_warnx("ike: DH group %d: peer KE data %zu != %zu octets",
		    g->id, peer_len, g->pub_len);
		goto out;
	}
	if (len != g->secret_len) {
		log_warnx("ike: DH group %d: secret buffer %zu != %zu octets",
		    g->id, len, g->secret_len);
		goto out;
	}
	if (g->kind == DH_MODP && !modp_in_range(dh->key, peer, peer_len)) {
		log_warnx("ike: DH group %d: peer value not in 1 < y < p-1",
		    g->id);
		goto out;
	}
	if ((pk = peer_key(dh, peer, peer_len)) == NULL) {
		log_warnx("ike: DH group %d: peer value rejected (not on the "
		    "curve?)", g->id);
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->key, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) <= 0 ||
	    (g->kind == DH_MODP && EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0) ||
	    EVP_PKEY_derive_set_peer_ex(ctx, pk, 1) <= 0 ||
	    EVP_PKEY_derive(ctx, secret, &n) <= 0 || n != len) {
		log_warnx("ike: DH group %d: key agreement failed", g->id);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(secret, len);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}
