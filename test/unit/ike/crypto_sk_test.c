/*
 * ike/sk.c: SK/SKF protect and unprotect.  Known answers: AES-GCM (McGrew
 * and Viega, "The Galois/Counter Mode of Operation", test cases 4 and 16:
 * salt cafebabe, IV facedbaddecaf888), ChaCha20-Poly1305 (RFC 8439 §2.8.2),
 * and IKE_AUTH requests sent by strongSwan 5.9.8 (AES-GCM-16-256 and
 * AES-CBC-128 + HMAC-SHA2-256-128).  Round trips and tamper checks for every
 * transform.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "ike/sk.h"
#include "test/unit/ike/fixtures/strongswan_vectors.h"

TestSuite(crypto_sk);

static void
unhex(const char *s, uint8_t *out, size_t *len)
{
	size_t i, n = strlen(s) / 2;
	unsigned v;

	for (i = 0; i < n; i++) {
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	*len = n;
}

struct aead_kat {
	const char	*name;
	enum ike_encr	 encr;
	unsigned	 bits;
	const char	*key;	/* key | salt */
	const char	*aad;
	const char	*iv;	/* explicit IV */
	const char	*ct;	/* ciphertext | tag */
	const char	*pt;
};

static const struct aead_kat aead_kats[] = {
	{ "gcm-tc4", IKE_ENCR_AES_GCM_16, 128,
	    "feffe9928665731c6d6a8f9467308308" "cafebabe",
	    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	    "facedbaddecaf888",
	    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
	    "5bc94fbc3221a5db94fae95ae7121a47",
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39" },
	{ "gcm-tc16", IKE_ENCR_AES_GCM_16, 256,
	    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
	    "cafebabe",
	    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	    "facedbaddecaf888",
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
	    "76fc6ece0f4e1768cddf8853bb2d551b",
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39" },
	/* RFC 8439 §2.8.2: constant 07000000 is the salt, 4041..47 the IV. */
	{ "rfc8439-2.8.2", IKE_ENCR_CHACHA20_POLY1305, 0,
	    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	    "07000000",
	    "50515253c0c1c2c3c4c5c6c7",
	    "4041424344454647",
	    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	    "3ff4def08e4b7a9de576d26586cec64b6116"
	    "1ae10b594f09e26a7e902ecbd0600691",
	    "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
	    "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
	    "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
	    "637265656e20776f756c642062652069742e" },
};

/*
 * The vectors' plaintexts are not IKE-padded: SK reads their last octet as
 * the Pad Length and returns what precedes the padding.
 */
Test(crypto_sk, opens_published_aead_vectors, .timeout = 10)
{
	uint8_t key[64], msg[512], pt[256], out[256];
	size_t i, kl, al, il, cl, pl, ol;

	for (i = 0; i < sizeof(aead_kats) / sizeof(aead_kats[0]); i++) {
		const struct aead_kat *k = &aead_kats[i];
		struct ike_sk sk;

		unhex(k->key, key, &kl);
		cr_assert_eq(ike_sk_init(&sk, k->encr, k->bits, IKE_INTEG_NONE,
		    key, kl, NULL, 0), 0, "%s", k->name);
		unhex(k->aad, msg, &al);
		unhex(k->iv, msg + al, &il);
		unhex(k->ct, msg + al + il, &cl);
		unhex(k->pt, pt, &pl);
		cr_assert_eq(ike_sk_unprotect(&sk, msg, al, al + il + cl, out,
		    sizeof(out), &ol), 0, "%s", k->name);
		cr_assert_eq(ol, pl - pt[pl - 1] - 1, "%s length", k->name);
		cr_assert_arr_eq(out, pt, ol, "%s plaintext", k->name);
		/* A flipped tag bit must fail. */
		msg[al + il + cl - 1] ^= 0x80;
		cr_assert_eq(ike_sk_unprotect(&sk, msg, al, al + il + cl, out,
		    sizeof(out), &ol), -1, "%s tampered", k->name);
		ike_sk_cleanup(&sk);
	}
}

enum {
	IKE_SK_HDR = 32		/* IKE header 28 + SK generic header 4 */
};

Test(crypto_sk, opens_strongswan_gcm_ike_auth, .timeout = 10)
{
	struct ike_sk sk;
	uint8_t out[sizeof(ss_gcm_auth_req)];
	size_t ol;

	cr_assert_eq(ike_sk_init(&sk, IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE,
	    ss_gcm_sk_ei, 36, NULL, 0), 0);
	cr_assert_eq(ike_sk_unprotect(&sk, ss_gcm_auth_req, IKE_SK_HDR,
	    sizeof(ss_gcm_auth_req), out, sizeof(out), &ol), 0);
	/* IDi payload first: next 0x24 (IDr), ID type 2 (FQDN) */
	cr_assert_eq(out[4], 2);
	cr_assert_arr_eq(out + 4, ss_gcm_idi, sizeof(ss_gcm_idi));
	ike_sk_cleanup(&sk);
}

Test(crypto_sk, opens_strongswan_cbc_ike_auth, .timeout = 10)
{
	struct ike_sk sk;
	uint8_t out[sizeof(ss_cbc_auth_req)];
	size_t ol;

	cr_assert_eq(ike_sk_init(&sk, IKE_ENCR_AES_CBC, 128,
	    IKE_INTEG_HMAC_SHA2_256_128, ss_cbc_sk_ei, 16, ss_cbc_sk_ai, 32),
	    0);
	cr_assert_eq(ike_sk_unprotect(&sk, ss_cbc_auth_req, IKE_SK_HDR,
	    sizeof(ss_cbc_auth_req), out, sizeof(out), &ol), 0);
	cr_assert_arr_eq(out + 4, ss_cbc_idi, sizeof(ss_cbc_idi));
	ike_sk_cleanup(&sk);
	/* The responder's keys do not open the initiator's message. */
	cr_assert_eq(ike_sk_init(&sk, IKE_ENCR_AES_CBC, 128,
	    IKE_INTEG_HMAC_SHA2_256_128, ss_cbc_sk_er, 16, ss_cbc_sk_ar, 32),
	    0);
	cr_assert_eq(ike_sk_unprotect(&sk, ss_cbc_auth_req, IKE_SK_HDR,
	    sizeof(ss_cbc_auth_req), out, sizeof(out), &ol), -1);
	ike_sk_cleanup(&sk);
}

struct xform {
	enum ike_encr	encr;
	unsigned	bits;
	enum ike_integ	integ;
};

static const struct xform xforms[] = {
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96 },
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_384_192 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256 },
	{ IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE },
	{ IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE },
};

static void
sk_for(const struct xform *x, struct ike_sk *sk)
{
	uint8_t ek[IKE_ENCR_KEY_MAX], ak[IKE_INTEG_KEY_MAX];
	size_t el = ike_encr_key_len(x->encr, x->bits);
	size_t al = ike_encr_is_aead(x->encr) ? 0 : ike_integ_key_len(x->integ);

	memset(ek, 0x5a, sizeof(ek));
	memset(ak, 0xa5, sizeof(ak));
	cr_assert_eq(ike_sk_init(sk, x->encr, x->bits, x->integ, ek, el, ak,
	    al), 0, "encr %d/%u integ %d", x->encr, x->bits, x->integ);
}

/* A header of @hdr_len octets with its length fields already final. */
static void
make_header(uint8_t *msg, size_t hdr_len, size_t total)
{
	size_t i;

	for (i = 0; i < hdr_len; i++)
		msg[i] = (uint8_t)(0x10 + i);
	msg[24] = (uint8_t)(total >> 24);
	msg[25] = (uint8_t)(total >> 16);
	msg[26] = (uint8_t)(total >> 8);
	msg[27] = (uint8_t)total;
}

Test(crypto_sk, round_trips_every_transform_and_length, .timeout = 30)
{
	/* SK (32-octet prefix) and SKF (36: + fragment number and total). */
	static const size_t hdrs[] = { 32, 36 };
	uint8_t plain[300], msg[600], out[600];
	size_t i, h, pl, ol, body;

	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)i;
	for (i = 0; i < sizeof(xforms) / sizeof(xforms[0]); i++) {
		struct ike_sk tx, rx;

		sk_for(&xforms[i], &tx);
		sk_for(&xforms[i], &rx);
		for (h = 0; h < 2; h++) {
			for (pl = 0; pl <= 40; pl++) {
				body = ike_sk_len(&tx, pl);
				cr_assert_gt(body, 0);
				make_header(msg, hdrs[h], hdrs[h] + body);
				cr_assert_eq(ike_sk_protect(&tx, msg, hdrs[h],
				    plain, pl, body), 0, "xform %zu len %zu",
				    i, pl);
				cr_assert_eq(ike_sk_unprotect(&rx, msg,
				    hdrs[h], hdrs[h] + body, out, sizeof(out),
				    &ol), 0, "xform %zu len %zu", i, pl);
				cr_assert_eq(ol, pl);
				cr_assert_arr_eq(out, plain, pl);
			}
		}
		ike_sk_cleanup(&tx);
		ike_sk_cleanup(&rx);
	}
}

Test(crypto_sk, sizes_the_body_exactly, .timeout = 10)
{
	struct ike_sk sk;

	sk_for(&xforms[1], &sk);	/* CBC: IV 16, ICV 16, 16-octet blocks */
	cr_assert_eq(ike_sk_len(&sk, 0), 16 + 16 + 16);
	cr_assert_eq(ike_sk_len(&sk, 15), 16 + 16 + 16);
	cr_assert_eq(ike_sk_len(&sk, 16), 16 + 32 + 16);
	cr_assert_eq(ike_sk_len(&sk, 70000), 0);
	sk_for(&xforms[5], &sk);	/* GCM: IV 8, tag 16, no padding */
	cr_assert_eq(ike_sk_len(&sk, 0), 8 + 1 + 16);
	cr_assert_eq(ike_sk_len(&sk, 100), 8 + 101 + 16);
	ike_sk_cleanup(&sk);
}

Test(crypto_sk, fails_when_any_octet_is_flipped, .timeout = 60)
{
	static const uint8_t plain[37] = { 1, 2, 3, 4, 5 };
	uint8_t msg[200], out[200];
	size_t i, j, body, total, ol;

	for (i = 0; i < sizeof(xforms) / sizeof(xforms[0]); i++) {
		struct ike_sk tx, rx;

		sk_for(&xforms[i], &tx);
		sk_for(&xforms[i], &rx);
		body = ike_sk_len(&tx, sizeof(plain));
		total = IKE_SK_HDR + body;
		make_header(msg, IKE_SK_HDR, total);
		cr_assert_eq(ike_sk_protect(&tx, msg, IKE_SK_HDR, plain,
		    sizeof(plain), body), 0);
		/* header (AAD / covered), IV, ciphertext and ICV alike */
		for (j = 0; j < total; j++) {
			msg[j] ^= 0x01;
			cr_assert_eq(ike_sk_unprotect(&rx, msg, IKE_SK_HDR,
			    total, out, sizeof(out), &ol), -1,
			    "xform %zu octet %zu", i, j);
			msg[j] ^= 0x01;
		}
		cr_assert_eq(ike_sk_unprotect(&rx, msg, IKE_SK_HDR, total, out,
		    sizeof(out), &ol), 0, "xform %zu intact", i);
		ike_sk_cleanup(&tx);
		ike_sk_cleanup(&rx);
	}
}

Test(crypto_sk, rejects_truncated_bodies, .timeout = 10)
{
	uint8_t msg[200], out[200];
	size_t i, body, ol;

	for (i = 0; i < sizeof(xforms) / sizeof(xforms[0]); i++) {
		struct ike_sk tx;

		sk_for(&xforms[i], &tx);
		body = ike_sk_len(&tx, 10);
		make_header(msg, IKE_SK_HDR, IKE_SK_HDR + body);
		cr_assert_eq(ike_sk_protect(&tx, msg, IKE_SK_HDR,
		    (const uint8_t *)"0123456789", 10, body), 0);
		cr_assert_eq(ike_sk_unprotect(&tx, msg, IKE_SK_HDR,
		    IKE_SK_HDR + body - 1, out, sizeof(out), &ol), -1,
		    "xform %zu short by one", i);
		cr_assert_eq(ike_sk_unprotect(&tx, msg, IKE_SK_HDR,
		    IKE_SK_HDR, out, sizeof(out), &ol), -1,
		    "xform %zu empty", i);
		cr_assert_eq(ike_sk_unprotect(&tx, msg, IKE_SK_HDR + 1,
		    IKE_SK_HDR, out, sizeof(out), &ol), -1,
		    "xform %zu header past end", i);
		cr_assert_eq(ike_sk_unprotect(&tx, msg, IKE_SK_HDR,
		    IKE_SK_HDR + body, out, 1, &ol), -1,
		    "xform %zu small output", i);
		ike_sk_cleanup(&tx);
	}
}

Test(crypto_sk, rejects_a_pad_length_beyond_the_plaintext, .timeout = 10)
{
	/*
	 * AES-CBC-128 + HMAC-SHA2-256-128, built by hand: one block whose
	 * Pad Length octet says 200, with a valid ICV.
	 */
	struct ike_sk sk;
	uint8_t ek[16], ak[32], blk[16], msg[IKE_SK_HDR + 16 + 16 + 16];
	uint8_t out[64];
	struct ike_chunk covered = { msg, IKE_SK_HDR + 32 };
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t ol;
	int n;

	memset(ek, 0x11, sizeof(ek));
	memset(ak, 0x22, sizeof(ak));
	memset(blk, 0, sizeof(blk));
	blk[15] = 200;
	make_header(msg, IKE_SK_HDR, sizeof(msg));
	memset(msg + IKE_SK_HDR, 0x33, 16);		/* IV */
	cr_assert(EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, ek,
	    msg + IKE_SK_HDR));
	EVP_CIPHER_CTX_set_padding(c, 0);
	cr_assert(EVP_EncryptUpdate(c, msg + IKE_SK_HDR + 16, &n, blk, 16));
	EVP_CIPHER_CTX_free(c);
	cr_assert_eq(ike_integ(IKE_INTEG_HMAC_SHA2_256_128, ak, 32, &covered,
	    1, msg + IKE_SK_HDR + 32), 0);
	cr_assert_eq(ike_sk_init(&sk, IKE_ENCR_AES_CBC, 128,
	    IKE_INTEG_HMAC_SHA2_256_128, ek, 16, ak, 32), 0);
	cr_assert_eq(ike_sk_unprotect(&sk, msg, IKE_SK_HDR, sizeof(msg), out,
	    sizeof(out), &ol), -1);
	/* The same block with Pad Length 15 decodes to nothing. */
	blk[15] = 15;
	c = EVP_CIPHER_CTX_new();
	cr_assert(EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, ek,
	    msg + IKE_SK_HDR));
	EVP_CIPHER_CTX_set_padding(c, 0);
	cr_assert(EVP_EncryptUpdate(c, msg + IKE_SK_HDR + 16, &n, blk, 16));
	EVP_CIPHER_CTX_free(c);
	cr_assert_eq(ike_integ(IKE_INTEG_HMAC_SHA2_256_128, ak, 32, &covered,
	    1, msg + IKE_SK_HDR + 32), 0);
	cr_assert_eq(ike_sk_unprotect(&sk, msg, IKE_SK_HDR, sizeof(msg), out,
	    sizeof(out), &ol), 0);
	cr_assert_eq(ol, 0);
	ike_sk_cleanup(&sk);
}

Test(crypto_sk, uses_a_fresh_counter_iv_for_each_aead_message,
    .timeout = 10)
{
	struct ike_sk sk;
	uint8_t a[100], b[100];
	size_t body;

	sk_for(&xforms[5], &sk);
	body = ike_sk_len(&sk, 4);
	make_header(a, IKE_SK_HDR, IKE_SK_HDR + body);
	make_header(b, IKE_SK_HDR, IKE_SK_HDR + body);
	cr_assert_eq(ike_sk_protect(&sk, a, IKE_SK_HDR,
	    (const uint8_t *)"abcd", 4, body), 0);
	cr_assert_eq(ike_sk_protect(&sk, b, IKE_SK_HDR,
	    (const uint8_t *)"abcd", 4, body), 0);
	cr_assert_neq(memcmp(a + IKE_SK_HDR, b + IKE_SK_HDR, 8), 0);
	cr_assert_eq(a[IKE_SK_HDR + 7], 0);	/* IV 0 */
	cr_assert_eq(b[IKE_SK_HDR + 7], 1);	/* IV 1 */
	ike_sk_cleanup(&sk);
}

Test(crypto_sk, rejects_mismatched_keys_and_transforms, .timeout = 10)
{
	struct ike_sk sk;
	uint8_t k[64] = { 0 };

	cr_assert_eq(ike_sk_init(&sk, IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE,
	    k, 32, NULL, 0), -1, "GCM key without salt");
	cr_assert_eq(ike_sk_init(&sk, IKE_ENCR_AES_GCM_16, 256,
	    IKE_INTEG_HMAC_SHA2_256_128, k, 36, k, 32), -1, "AEAD + integ");
	cr_assert_eq(ike_sk_init(&sk, IKE_ENCR_AES_CBC, 128, IKE_INTEG_NONE,
	    k, 16, NULL, 0), -1, "CBC without integ");
	cr_assert_eq(ike_sk_init(&sk, IKE_ENCR_AES_CBC, 128,
	    IKE_INTEG_HMAC_SHA2_256_128, k, 16, k, 20), -1, "integ key len");
	cr_assert_eq(ike_sk_init(&sk, IKE_ENCR_3DES, 0,
	    IKE_INTEG_HMAC_SHA1_96, k, 24, k, 20), -1, "3DES");
}

Test(crypto_sk, pairs_directions_from_the_sa_keys, .timeout = 10)
{
	struct ike_suite s = { IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_384,
	    IKE_INTEG_NONE, IKE_DH_CURVE25519 };
	struct ike_keys k;
	struct ike_sk out, in;
	uint8_t buf[sizeof(ss_gcm_auth_req)];
	size_t ol;

	cr_assert_eq(ike_keys_new_sa(&s, ss_gcm_ni, 32, ss_gcm_nr, 32,
	    ss_gcm_gir, 32, ss_gcm_spii, ss_gcm_spir, &k), 0);
	/* As responder, "in" holds SK_ei: it opens the initiator's message. */
	cr_assert_eq(ike_sk_init_pair(&out, &in, &s, &k, false), 0);
	cr_assert_eq(ike_sk_unprotect(&in, ss_gcm_auth_req, IKE_SK_HDR,
	    sizeof(ss_gcm_auth_req), buf, sizeof(buf), &ol), 0);
	cr_assert_eq(ike_sk_unprotect(&out, ss_gcm_auth_req, IKE_SK_HDR,
	    sizeof(ss_gcm_auth_req), buf, sizeof(buf), &ol), -1);
	ike_sk_cleanup(&out);
	ike_sk_cleanup(&in);
	ike_keys_cleanse(&k);
}
