/*
 * MS-CHAPv2 (RFC 2759 §8) and its MPPE keys (RFC 3079 §3.4), for the
 * EAP-MSCHAPv2 authenticator.  MD4 and DES come from OpenSSL's legacy
 * provider in a library context of our own (see mschapv2.h for why);
 * SHA-1 from the default one.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "ike/mschapv2.h"

/* The legacy algorithms, fetched once (ike_mschapv2_init()). */
static OSSL_LIB_CTX	*legacy_ctx;
static OSSL_PROVIDER	*legacy_prov;
static EVP_MD		*md4;
static EVP_CIPHER	*des_ecb;

/* RFC 2759 §8.7. */
static const char magic_sign[] = "Magic server to client signing constant";
static const char magic_pad[] = "Pad to make it do more than one iteration";
/* RFC 3079 §3.4. */
static const char magic_master[] = "This is the MPPE Master Key";
static const char magic_csend[] = "On the client side, this is the send key; "
    "on the server side, it is the receive key.";
static const char magic_crecv[] = "On the client side, this is the receive "
    "key; on the server side, it is the send key.";

enum {
	SHA1_LEN	= 20,
	SHS_PAD_LEN	= 40	/* RFC 3079 §3.4 SHSpad1 / SHSpad2 */
};

int
ike_mschapv2_init(const char **why)
{
	if (md4 != NULL && des_ecb != NULL)
		return 0;
	ike_mschapv2_cleanup();
	if ((legacy_ctx = OSSL_LIB_CTX_new()) == NULL) {
		*why = "cannot make an OpenSSL library context";
		goto fail;
	}
	if ((legacy_prov = OSSL_PROVIDER_load(legacy_ctx, "legacy")) == NULL) {
		*why = "cannot load OpenSSL's legacy provider (MD4, DES)";
		goto fail;
	}
	if ((md4 = EVP_MD_fetch(legacy_ctx, "MD4", NULL)) == NULL ||
	    (des_ecb = EVP_CIPHER_fetch(legacy_ctx, "DES-ECB", NULL)) == NULL) {
		*why = "OpenSSL's legacy provider lacks MD4 or DES-ECB";
		goto fail;
	}
	return 0;
fail:
	ike_mschapv2_cleanup();
	return -1;
}

void
ike_mschapv2_cleanup(void)
{
	EVP_MD_free(md4);
	md4 = NULL;
	EVP_CIPHER_free(des_ecb);
	des_ecb = NULL;
	if (legacy_prov != NULL)
		(void)OSSL_PROVIDER_unload(legacy_prov);
	legacy_prov = NULL;
	OSSL_LIB_CTX_free(legacy_ctx);
	legacy_ctx = NULL;
}

/* @md over the pieces @a (@alen) and @b (@blen), ... into @out. */
static int
digest(const EVP_MD *md, const void *const *p, const size_t *len, size_t n,
    uint8_t *out)
{
	EVP_MD_CTX *c;
	int rc = -1;

	if (md == NULL || (c = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(c, md, NULL) != 1)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (len[i] > 0 && EVP_DigestUpdate(c, p[i], len[i]) != 1)
			goto out;
	if (EVP_DigestFinal_ex(c, out, NULL) == 1)
		rc = 0;
out:
	EVP_MD_CTX_free(c);
	return rc;
}

static int
md4_of(const uint8_t *in, size_t len, uint8_t out[static 16])
{
	const void *p[] = { in };
	const size_t l[] = { len };
	const char *why;

	if (md4 == NULL && ike_mschapv2_init(&why) != 0)
		return -1;
	return digest(md4, p, l, 1, out);
}

/* The next code point of UTF-8 at *s (< end); -1 when malformed. */
static long
utf8_next(const uint8_t **s, const uint8_t *end)
{
	const uint8_t *p = *s;
	unsigned n, i;
	long c, min;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 1;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 2;
		c = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 3;
		c = p[0] & 0x07;
		min = 0x10000;
	} else
		return -1;
	if ((size_t)(end - p) < n + 1)
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not text. */
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*s = p + n + 1;
	return c;
}

int
ike_mschapv2_nt_hash(const uint8_t *pw, size_t len,
    uint8_t out[static IKE_MSCHAPV2_HASH_LEN])
{
	uint8_t u[2 * IKE_MSCHAPV2_PASSWORD_MAX];
	const uint8_t *s = pw, *end = pw + len;
	size_t n = 0;
	long c;
	int rc = -1;

	while (s < end) {
		if ((c = utf8_next(&s, end)) < 0)
			goto out;
		if (c >= 0x10000) {
			/* A surrogate pair: two code units. */
			if (n + 4 > sizeof(u))
				goto out;
			c -= 0x10000;
			u[n++] = (uint8_t)((0xd800 | (c >> 10)) & 0xff);
			u[n++] = (uint8_t)((0xd800 | (c >> 10)) >> 8);
			u[n++] = (uint8_t)((0xdc00 | (c & 0x3ff)) & 0xff);
			u[n++] = (uint8_t)((0xdc00 | (c & 0x3ff)) >> 8);
			continue;
		}
		if (n + 2 > sizeof(u))
			goto out;
		u[n++] = (uint8_t)(c & 0xff);
		u[n++] = (uint8_t)(c >> 8);
	}
	rc = md4_of(u, n, out);
out:
	OPENSSL_cleanse(u, sizeof(u));
	return rc;
}

int
ike_mschapv2_hash_hash(const uint8_t nt_hash[static IKE_MSCHAPV2_HASH_LEN],
    uint8_t out[static IKE_MSCHAPV2_HASH_LEN])
{
	return md4_of(nt_hash, IKE_MSCHAPV2_HASH_LEN, out);
}

/* RFC 2759 §8.2: UserName is the part after a "DOMAIN\". */
static void
strip_domain(const uint8_t **user, size_t *len)
{
	const uint8_t *bs = NULL;

	for (size_t i = 0; i < *len; i++)
		if ((*user)[i] == '\\')
			bs = *user + i;
	if (bs != NULL) {
		*len -= (size_t)(bs + 1 - *user);
		*user = bs + 1;
	}
}

int
ike_mschapv2_challenge_hash(const uint8_t peer[static
    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t auth[static
    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t *user, size_t user_len,
    uint8_t out[static 8])
{
	uint8_t d[SHA1_LEN];
	const void *p[3];
	size_t l[3];

	strip_domain(&user, &user_len);
	p[0] = peer;
	l[0] = IKE_MSCHAPV2_CHALLENGE_LEN;
	p[1] = auth;
	l[1] = IKE_MSCHAPV2_CHALLENGE_LEN;
	p[2] = user;
	l[2] = user_len;
	if (digest(EVP_sha1(), p, l, 3, d) != 0)
		return -1;
	memcpy(out, d, 8);
	return 0;
}

/* RFC 2759 §8.6 DesEncrypt: 8 octets under a 7-octet key. */
static int
des7(const uint8_t in[static 8], const uint8_t k7[static 7],
    uint8_t out[static 8])
{
	EVP_CIPHER_CTX *c;
	uint8_t k[8];
	int n = 0, rc = -1;

	/* Seven bits per octet; the low bit (DES parity) is not used. */
	k[0] = k7[0];
	k[1] = (uint8_t)(k7[0] << 7 | k7[1] >> 1);
	k[2] = (uint8_t)(k7[1] << 6 | k7[2] >> 2);
	k[3] = (uint8_t)(k7[2] << 5 | k7[3] >> 3);
	k[4] = (uint8_t)(k7[3] << 4 | k7[4] >> 4);
	k[5] = (uint8_t)(k7[4] << 3 | k7[5] >> 5);
	k[6] = (uint8_t)(k7[5] << 2 | k7[6] >> 6);
	k[7] = (uint8_t)(k7[6] << 1);
	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_EncryptInit_ex(c, des_ecb, NULL, k, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	    EVP_EncryptUpdate(c, out, &n, in, 8) == 1 && n == 8)
		rc = 0;
	EVP_CIPHER_CTX_free(c);
out:
	OPENSSL_cleanse(k, sizeof(k));
	return rc;
}

int
ike_mschapv2_nt_response(const uint8_t auth[static
    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t peer[static
    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t *user, size_t user_len,
    const uint8_t nt_hash[static IKE_MSCHAPV2_HASH_LEN],
    uint8_t out[static IKE_MSCHAPV2_NT_RESPONSE_LEN])
{
	uint8_t ch[8], z[21];
	const char *why;
	int rc = -1;

	if (des_ecb == NULL && ike_mschapv2_init(&why) != 0)
		return -1;
	if (ike_mschapv2_challenge_hash(peer, auth, user, user_len, ch) != 0)
		return -1;
	/* §8.5: the 16-octet hash padded with zeros to 21 octets. */
	memset(z, 0, sizeof(z));
	memcpy(z, nt_hash, IKE_MSCHAPV2_HASH_LEN);
	if (des7(ch, z, out) == 0 && des7(ch, z + 7, out + 8) == 0 &&
	    des7(ch, z + 14, out + 16) == 0)
		rc = 0;
	OPENSSL_cleanse(z, sizeof(z));
	return rc;
}

int
ike_mschapv2_auth_response(const uint8_t nt_hash[static
    IKE_MSCHAPV2_HASH_LEN], const uint8_t nt_resp[static
    IKE_MSCHAPV2_NT_RESPONSE_LEN], const uint8_t peer[static
    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t auth[static
    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t *user, size_t user_len,
    char out[static IKE_MSCHAPV2_AUTH_RESP_LEN])
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t hh[IKE_MSCHAPV2_HASH_LEN], d[SHA1_LEN], ch[8];
	const void *p[3];
	size_t l[3];
	int rc = -1;

	if (ike_mschapv2_hash_hash(nt_hash, hh) != 0 ||
	    ike_mschapv2_challenge_hash(peer, auth, user, user_len, ch) != 0)
		goto out;
	p[0] = hh;
	l[0] = sizeof(hh);
	p[1] = nt_resp;
	l[1] = IKE_MSCHAPV2_NT_RESPONSE_LEN;
	p[2] = magic_sign;
	l[2] = sizeof(magic_sign) - 1;
	if (digest(EVP_sha1(), p, l, 3, d) != 0)
		goto out;
	p[0] = d;
	l[0] = sizeof(d);
	p[1] = ch;
	l[1] = sizeof(ch);
	p[2] = magic_pad;
	l[2] = sizeof(magic_pad) - 1;
	if (digest(EVP_sha1(), p, l, 3, d) != 0)
		goto out;
	out[0] = 'S';
	out[1] = '=';
	for (size_t i = 0; i < SHA1_LEN; i++) {
		out[2 + 2 * i] = hex[d[i] >> 4];
		out[3 + 2 * i] = hex[d[i] & 0xf];
	}
	rc = 0;
out:
	OPENSSL_cleanse(hh, sizeof(hh));
	return rc;
}

int
ike_mschapv2_master_key(const uint8_t hash_hash[static IKE_MSCHAPV2_HASH_LEN],
    const uint8_t nt_resp[static IKE_MSCHAPV2_NT_RESPONSE_LEN],
    uint8_t out[static IKE_MSCHAPV2_HASH_LEN])
{
	uint8_t d[SHA1_LEN];
	const void *p[] = { hash_hash, nt_resp, magic_master };
	const size_t l[] = { IKE_MSCHAPV2_HASH_LEN,
	    IKE_MSCHAPV2_NT_RESPONSE_LEN, sizeof(magic_master) - 1 };

	if (digest(EVP_sha1(), p, l, 3, d) != 0)
		return -1;
	memcpy(out, d, IKE_MSCHAPV2_HASH_LEN);
	OPENSSL_cleanse(d, sizeof(d));
	return 0;
}

int
ike_mschapv2_start_key(const uint8_t master[static IKE_MSCHAPV2_HASH_LEN],
    bool is_send, bool is_server, uint8_t out[static IKE_MSCHAPV2_HASH_LEN])
{
	static const uint8_t pad1[SHS_PAD_LEN];
	uint8_t pad2[SHS_PAD_LEN], d[SHA1_LEN];
	/* The client's send key is the server's receive key. */
	const char *s = is_send != is_server ? magic_csend : magic_crecv;
	const void *p[] = { master, pad1, s, pad2 };
	const size_t l[] = { IKE_MSCHAPV2_HASH_LEN, SHS_PAD_LEN,
	    sizeof(magic_csend) - 1, SHS_PAD_LEN };

	_Static_assert(sizeof(magic_csend) == sizeof(magic_crecv),
	    "RFC 3079 Magic2 and Magic3 are both 84 octets");
	memset(pad2, 0xf2, sizeof(pad2));
	if (digest(EVP_sha1(), p, l, 4, d) != 0)
		return -1;
	memcpy(out, d, IKE_MSCHAPV2_HASH_LEN);
	OPENSSL_cleanse(d, sizeof(d));
	return 0;
}

int
ike_mschapv2_msk(const uint8_t nt_hash[static IKE_MSCHAPV2_HASH_LEN],
    const uint8_t nt_resp[static IKE_MSCHAPV2_NT_RESPONSE_LEN],
    uint8_t out[static IKE_MSCHAPV2_MSK_LEN])
{
	uint8_t hh[IKE_MSCHAPV2_HASH_LEN], mk[IKE_MSCHAPV2_HASH_LEN];
	int rc = -1;

	memset(out, 0, IKE_MSCHAPV2_MSK_LEN);
	if (ike_mschapv2_hash_hash(nt_hash, hh) == 0 &&
	    ike_mschapv2_master_key(hh, nt_resp, mk) == 0 &&
	    ike_mschapv2_start_key(mk, false, true, out) == 0 &&
	    ike_mschapv2_start_key(mk, true, true,
	    out + IKE_MSCHAPV2_HASH_LEN) == 0)
		rc = 0;
	if (rc != 0)
		OPENSSL_cleanse(out, IKE_MSCHAPV2_MSK_LEN);
	OPENSSL_cleanse(hh, sizeof(hh));
	OPENSSL_cleanse(mk, sizeof(mk));
	return rc;
}
