/*
 * IKEv2 AUTH payload data: signed octets, shared-key MAC, signatures.
 */
#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "conf/fileset.h"
#include "framing/wire.h"
#include "ike/auth.h"
#include "relay/log.h"

/* RFC 7296 §2.15: the 17 ASCII characters, no terminating NUL. */
static const uint8_t key_pad[] = {
	'K', 'e', 'y', ' ', 'P', 'a', 'd', ' ', 'f', 'o', 'r', ' ',
	'I', 'K', 'E', 'v', '2'
};

/*
 * AlgorithmIdentifier DER for method 14 (RFC 7427 §3 and Appendix A;
 * RFC 8420 §2 for Ed25519/Ed448).
 */
static const uint8_t algid_rsa_sha256[] = {	/* sha256WithRSAEncryption */
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x0b, 0x05, 0x00
};
static const uint8_t algid_rsa_sha384[] = {	/* sha384WithRSAEncryption */
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x0c, 0x05, 0x00
};
static const uint8_t algid_rsa_sha512[] = {	/* sha512WithRSAEncryption */
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x01, 0x0d, 0x05, 0x00
};
/* id-RSASSA-PSS { sha-N, mgf1(sha-N), saltLength N/8 } */
#define PSS_ALGID(h, salt) {						\
	0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,	\
	0x01, 0x0a, 0x30, 0x34,						\
	0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,	\
	0x03, 0x04, 0x02, (h), 0x05, 0x00,				\
	0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,	\
	0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,	\
	0x01, 0x65, 0x03, 0x04, 0x02, (h), 0x05, 0x00,			\
	0xa2, 0x03, 0x02, 0x01, (salt)					\
}
static const uint8_t algid_pss_sha256[] = PSS_ALGID(0x01, 32);
static const uint8_t algid_pss_sha384[] = PSS_ALGID(0x02, 48);
static const uint8_t algid_pss_sha512[] = PSS_ALGID(0x03, 64);
#undef PSS_ALGID
static const uint8_t algid_ecdsa_sha256[] = {	/* ecdsa-with-SHA256 */
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02
};
static const uint8_t algid_ecdsa_sha384[] = {	/* ecdsa-with-SHA384 */
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03
};
static const uint8_t algid_ecdsa_sha512[] = {	/* ecdsa-with-SHA512 */
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04
};
static const uint8_t algid_ed25519[] = {	/* id-Ed25519 */
	0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70
};
static const uint8_t algid_ed448[] = {		/* id-Ed448 */
	0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x71
};

enum pad {
	PAD_NONE,
	PAD_PKCS1,
	PAD_PSS
};

struct sigdef {
	enum ike_sig	 sig;
	enum pad	 pad;
	const char	*md;		/* NULL: PureEdDSA, no pre-hash */
	const char	*key_type;	/* EVP_PKEY_is_a() name */
	const uint8_t	*algid;		/* NULL for methods 1, 9-11 */
	size_t		 algid_len;
	const char	*group;		/* methods 9-11: the key's curve */
	size_t		 half;		/* and the length of r and of s */
};

enum {
	ECDSA_DER_MAX	= 2 * (3 + 1 + 66) + 3	/* SEQUENCE { r, s } */
};

#define ALGID(a) a, sizeof(a), NULL, 0
static const struct sigdef sigdefs[] = {
	{ IKE_SIG_RSA_SHA1, PAD_PKCS1, "SHA1", "RSA", NULL, 0, NULL, 0 },
	{ IKE_SIG_RSA_PKCS1_SHA256, PAD_PKCS1, "SHA2-256", "RSA",
	    ALGID(algid_rsa_sha256) },
	{ IKE_SIG_RSA_PKCS1_SHA384, PAD_PKCS1, "SHA2-384", "RSA",
	    ALGID(algid_rsa_sha384) },
	{ IKE_SIG_RSA_PKCS1_SHA512, PAD_PKCS1, "SHA2-512", "RSA",
	    ALGID(algid_rsa_sha512) },
	{ IKE_SIG_RSA_PSS_SHA256, PAD_PSS, "SHA2-256", "RSA",
	    ALGID(algid_pss_sha256) },
	{ IKE_SIG_RSA_PSS_SHA384, PAD_PSS, "SHA2-384", "RSA",
	    ALGID(algid_pss_sha384) },
	{ IKE_SIG_RSA_PSS_SHA512, PAD_PSS, "SHA2-512", "RSA",
	    ALGID(algid_pss_sha512) },
	{ IKE_SIG_ECDSA_SHA256, PAD_NONE, "SHA2-256", "EC",
	    ALGID(algid_ecdsa_sha256) },
	{ IKE_SIG_ECDSA_SHA384, PAD_NONE, "SHA2-384", "EC",
	    ALGID(algid_ecdsa_sha384) },
	{ IKE_SIG_ECDSA_SHA512, PAD_NONE, "SHA2-512", "EC",
	    ALGID(algid_ecdsa_sha512) },
	{ IKE_SIG_ED25519, PAD_NONE, NULL, "ED25519", ALGID(algid_ed25519) },
	{ IKE_SIG_ED448, PAD_NONE, NULL, "ED448", ALGID(algid_ed448) },
	/* RFC 4754 §3 and §7: the curve's own hash; r and s fixed size. */
	{ IKE_SIG_ECDSA_P256, PAD_NONE, "SHA2-256", "EC", NULL, 0,
	    "prime256v1", 32 },
	{ IKE_SIG_ECDSA_P384, PAD_NONE, "SHA2-384", "EC", NULL, 0,
	    "secp384r1", 48 },
	{ IKE_SIG_ECDSA_P521, PAD_NONE, "SHA2-512", "EC", NULL, 0,
	    "secp521r1", 66 }
};
#undef ALGID

static const struct sigdef *
sigdef(enum ike_sig sig)
{
	size_t i;

	for (i = 0; i < sizeof(sigdefs) / sizeof(sigdefs[0]); i++)
		if (sigdefs[i].sig == sig)
			return &sigdefs[i];
	return NULL;
}

size_t
ike_auth_octets_len(enum ike_prf prf, size_t msg_len, size_t nonce_len)
{
	return msg_len + nonce_len + ike_prf_len(prf);
}

int
ike_auth_octets(enum ike_prf prf, const uint8_t *sk_p, size_t sk_p_len,
    const uint8_t *msg, size_t msg_len, const uint8_t *nonce,
    size_t nonce_len, const uint8_t *id, size_t id_len, uint8_t *out,
    size_t out_len)
{
	struct ike_chunk in = { id, id_len };
	struct wr w = wr_make(out, out_len);
	uint8_t *mac;

	if (ike_prf_len(prf) == 0 ||
	    out_len != ike_auth_octets_len(prf, msg_len, nonce_len)) {
		log_warnx("ike: AUTH octets buffer %zu != %zu", out_len,
		    ike_auth_octets_len(prf, msg_len, nonce_len));
		return -1;
	}
	wr_bytes(&w, msg, msg_len);
	wr_bytes(&w, nonce, nonce_len);
	if ((mac = wr_reserve(&w, ike_prf_len(prf))) == NULL || !wr_ok(&w))
		return -1;
	return ike_prf(prf, sk_p, sk_p_len, &in, 1, mac);
}

int
ike_auth_psk(enum ike_prf prf, const uint8_t *psk, size_t psk_len,
    const uint8_t *octets, size_t octets_len, uint8_t *auth)
{
	uint8_t k[IKE_PRF_OUT_MAX];
	struct ike_chunk pad = { key_pad, sizeof(key_pad) };
	struct ike_chunk in = { octets, octets_len };
	int rc = -1;

	if (ike_prf(prf, psk, psk_len, &pad, 1, k) != 0)
		goto out;
	rc = ike_prf(prf, k, ike_prf_len(prf), &in, 1, auth);
out:
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

bool
ike_auth_psk_verify(enum ike_prf prf, const uint8_t *psk, size_t psk_len,
    const uint8_t *octets, size_t octets_len, const uint8_t *auth,
    size_t auth_len)
{
	uint8_t want[IKE_PRF_OUT_MAX];
	bool ok = false;

	if (auth_len != ike_prf_len(prf) || auth_len == 0) {
		log_warnx("ike: shared-key AUTH %zu octets, want %zu",
		    auth_len, ike_prf_len(prf));
		return false;
	}
	if (ike_auth_psk(prf, psk, psk_len, octets, octets_len, want) != 0)
		goto out;
	ok = CRYPTO_memcmp(want, auth, auth_len) == 0;
	if (!ok)
		log_warnx("ike: shared-key AUTH mismatch");
out:
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

enum ike_auth_method
ike_auth_sig_method(enum ike_sig sig)
{
	switch (sig) {
	case IKE_SIG_RSA_SHA1:
		return IKE_AUTH_RSA_SIG;
	case IKE_SIG_ECDSA_P256:
		return IKE_AUTH_ECDSA_SHA256_P256;
	case IKE_SIG_ECDSA_P384:
		return IKE_AUTH_ECDSA_SHA384_P384;
	case IKE_SIG_ECDSA_P521:
		return IKE_AUTH_ECDSA_SHA512_P521;
	default:
		return IKE_AUTH_DIGITAL_SIGNATURE;
	}
}

bool
ike_auth_is_sig_method(uint8_t method)
{
	switch (method) {
	case IKE_AUTH_RSA_SIG:
	case IKE_AUTH_ECDSA_SHA256_P256:
	case IKE_AUTH_ECDSA_SHA384_P384:
	case IKE_AUTH_ECDSA_SHA512_P521:
	case IKE_AUTH_DIGITAL_SIGNATURE:
		return true;
	default:
		return false;
	}
}

/* True when @key is on the curve @group names. */
static bool
is_on(EVP_PKEY *key, const char *group)
{
	char name[32];
	size_t len = 0;

	return EVP_PKEY_get_group_name(key, name, sizeof(name), &len) == 1 &&
	    strcmp(name, group) == 0;
}

bool
ike_auth_sig_fits(enum ike_sig sig, EVP_PKEY *key)
{
	const struct sigdef *d = sigdef(sig);

	return d != NULL && key != NULL && EVP_PKEY_is_a(key, d->key_type) &&
	    (d->group == NULL || is_on(key, d->group));
}

/* RFC 4754 §7: DER ECDSA-Sig-Value -> r | s, each @half octets. */
static int
ecdsa_raw(const uint8_t *der, size_t der_len, size_t half, uint8_t *out)
{
	const uint8_t *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *es;
	int rc = -1;

	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) == NULL)
		return -1;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, out, (int)half) == (int)half &&
	    BN_bn2binpad(s, out + half, (int)half) == (int)half)
		rc = 0;
	ECDSA_SIG_free(es);
	return rc;
}

/* r | s (2 * @half octets) -> DER into @der (ECDSA_DER_MAX); length. */
static size_t
ecdsa_der(const uint8_t *raw, size_t half, uint8_t *der)
{
	BIGNUM *r = BN_bin2bn(raw, (int)half, NULL);
	BIGNUM *s = BN_bin2bn(raw + half, (int)half, NULL);
	ECDSA_SIG *es = ECDSA_SIG_new();
	uint8_t *p = der;
	int n = 0;

	if (r == NULL || s == NULL || es == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return 0;
	}
	if (i2d_ECDSA_SIG(es, NULL) <= ECDSA_DER_MAX)
		n = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	return n > 0 ? (size_t)n : 0;
}

/* A DigestSign/DigestVerify context for @d with @key. */
static EVP_MD_CTX *
sig_ctx(const struct sigdef *d, EVP_PKEY *key, bool sign)
{
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if ((mctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	ok = sign ? EVP_DigestSignInit_ex(mctx, &pctx, d->md, NULL, NULL,
	    key, NULL) : EVP_DigestVerifyInit_ex(mctx, &pctx, d->md, NULL,
	    NULL, key, NULL);
	if (ok <= 0)
		goto fail;
	if (d->pad == PAD_PKCS1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
		goto fail;
	if (d->pad == PAD_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
	    RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, d->md, NULL) <= 0))
		goto fail;
	return mctx;
fail:
	EVP_MD_CTX_free(mctx);
	return NULL;
}

int
ike_auth_sign(enum ike_sig sig, EVP_PKEY *key, const uint8_t *octets,
    size_t octets_len, uint8_t *out, size_t cap, size_t *out_len)
{
	const struct sigdef *d = sigdef(sig);
	EVP_MD_CTX *mctx = NULL;
	size_t hdr, slen = 0;
	int rc = -1;

	*out_len = 0;
	if (!ike_auth_sig_fits(sig, key)) {
		log_warnx("ike: signature scheme %d does not fit the key", sig);
		return -1;
	}
	hdr = d->algid != NULL ? 1 + d->algid_len : 0;
	if ((mctx = sig_ctx(d, key, true)) == NULL ||
	    EVP_DigestSign(mctx, NULL, &slen, octets, octets_len) <= 0 ||
	    cap < hdr || cap - hdr < slen) {
		log_warnx("ike: cannot sign (scheme %d, %zu + %zu > %zu?)",
		    sig, hdr, slen, cap);
		goto out;
	}
	if (d->algid != NULL) {
		out[0] = (uint8_t)d->algid_len;
		memcpy(out + 1, d->algid, d->algid_len);
	}
	if (d->group != NULL) {
		uint8_t der[ECDSA_DER_MAX];

		slen = sizeof(der);
		if (cap < 2 * d->half || EVP_DigestSign(mctx, der, &slen,
		    octets, octets_len) <= 0 ||
		    ecdsa_raw(der, slen, d->half, out) != 0) {
			log_warnx("ike: signing failed (scheme %d)", sig);
			goto out;
		}
		*out_len = 2 * d->half;
		rc = 0;
		goto out;
	}
	if (EVP_DigestSign(mctx, out + hdr, &slen, octets, octets_len) <= 0) {
		log_warnx("ike: signing failed (scheme %d)", sig);
		goto out;
	}
	*out_len = hdr + slen;
	rc = 0;
out:
	EVP_MD_CTX_free(mctx);
	return rc;
}

/* The scheme whose AlgorithmIdentifier is exactly @p[0 .. len). */
static const struct sigdef *
sigdef_by_algid(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(sigdefs) / sizeof(sigdefs[0]); i++)
		if (sigdefs[i].algid != NULL && sigdefs[i].algid_len == len &&
		    memcmp(sigdefs[i].algid, p, len) == 0)
			return &sigdefs[i];
	return NULL;
}

int
ike_auth_verify(enum ike_auth_method method, EVP_PKEY *key,
    const uint8_t *data, size_t data_len, const uint8_t *octets,
    size_t octets_len)
{
	const struct sigdef *d;
	struct rd r = rd_make(data, data_len), algid;
	EVP_MD_CTX *mctx = NULL;
	uint8_t alen, der[ECDSA_DER_MAX];
	int rc = -1;

	switch (method) {
	case IKE_AUTH_RSA_SIG:
		d = sigdef(IKE_SIG_RSA_SHA1);
		break;
	case IKE_AUTH_ECDSA_SHA256_P256:
	case IKE_AUTH_ECDSA_SHA384_P384:
	case IKE_AUTH_ECDSA_SHA512_P521:
		d = sigdef(method == IKE_AUTH_ECDSA_SHA256_P256 ?
		    IKE_SIG_ECDSA_P256 : method == IKE_AUTH_ECDSA_SHA384_P384 ?
		    IKE_SIG_ECDSA_P384 : IKE_SIG_ECDSA_P521);
		/* RFC 4754 §7: exactly r | s, each as long as the order. */
		if (data_len != 2 * d->half) {
			log_warnx("ike: AUTH method %d data %zu octets, want "
			    "%zu", method, data_len, 2 * d->half);
			return -1;
		}
		if ((r.n = ecdsa_der(data, d->half, der)) == 0)
			return -1;
		r.p = der;
		break;
	case IKE_AUTH_DIGITAL_SIGNATURE:
		if (!rd_u8(&r, &alen) || !rd_sub(&r, alen, &algid) ||
		    r.n == 0) {
			log_warnx("ike: AUTH data %zu octets too short for "
			    "its AlgorithmIdentifier", data_len);
			return -1;
		}
		if ((d = sigdef_by_algid(algid.p, algid.n)) == NULL) {
			log_warnx("ike: AUTH AlgorithmIdentifier (%zu octets) "
			    "not supported", algid.n);
			return -1;
		}
		break;
	default:
		log_warnx("ike: AUTH method %d not supported", method);
		return -1;
	}
	if (!ike_auth_sig_fits(d->sig, key)) {
		log_warnx("ike: AUTH scheme %d needs a %s key%s%s", d->sig,
		    d->key_type, d->group != NULL ? " on " : "",
		    d->group != NULL ? d->group : "");
		return -1;
	}
	if ((mctx = sig_ctx(d, key, false)) == NULL)
		goto out;
	if (EVP_DigestVerify(mctx, r.p, r.n, octets, octets_len) != 1) {
		log_warnx("ike: AUTH signature does not verify (scheme %d)",
		    d->sig);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(mctx);
	return rc;
}

EVP_PKEY *
ike_auth_key_load(const char *path, bool private)
{
	unsigned char *data;
	size_t len;
	BIO *bio;
	EVP_PKEY *key = NULL;

	/* fs_read: from disk, or in a worker from its master's set. */
	if (fs_read(path, &data, &len) == -1) {
		log_warnx("ike: cannot open key %s: %s", path,
		    fs_strerror(errno));
		return NULL;
	}
	if ((bio = BIO_new_mem_buf(data, (int)len)) != NULL)
		key = private ? PEM_read_bio_PrivateKey_ex(bio, NULL, NULL,
		    NULL, NULL, NULL) : PEM_read_bio_PUBKEY_ex(bio, NULL, NULL,
		    NULL, NULL, NULL);
	BIO_free(bio);
	OPENSSL_clear_free(data, len + 1);
	if (key == NULL)
		log_warnx("ike: no %s PEM key in %s", private ? "private" :
		    "public", path);
	return key;
}

bool
ike_auth_hash_algs_parse(const uint8_t *data, size_t len, uint32_t *mask)
{
	struct rd r = rd_make(data, len);
	uint16_t id;

	*mask = 0;
	if (len == 0 || len % 2 != 0)
		return false;
	while (rd_be16(&r, &id))
		if (id < 32)
			*mask |= (uint32_t)1 << id;
	return true;
}
