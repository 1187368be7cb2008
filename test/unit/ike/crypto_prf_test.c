/*
 * Known-answer tests for ike/crypto.c (HMAC, AES-CMAC PRF, prf+) and
 * ike/keys.c (SKEYSEED, SK_*, IKE SA rekey, Child SA KEYMAT).  The key
 * schedule is checked against values logged by two unmodified strongSwan
 * 5.9.8 daemons (fixtures/strongswan_vectors.h).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ike/crypto.h"
#include "ike/keys.h"
#include "test/unit/ike/fixtures/strongswan_vectors.h"

TestSuite(crypto_prf);

#define C(x) { (const uint8_t *)(x), sizeof(x) - 1 }

struct mac_case {
	const char	*name;
	enum ike_prf	 prf;
	struct { const uint8_t *p; size_t len; } key, data;
	const char	*want;		/* hex */
};

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

static const uint8_t k0b[20] = {
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b
};
/* RFC 4493 §4 key; RFC 4615 §4 message 0x00 .. 0x13. */
static const uint8_t cmac_key[16] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c
};
static const uint8_t cmac_m[64] = {
	0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e,
	0x11, 0x73, 0x93, 0x17, 0x2a, 0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03,
	0xac, 0x9c, 0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51, 0x30,
	0xc8, 0x1c, 0x46, 0xa3, 0x5c, 0xe4, 0x11, 0xe5, 0xfb, 0xc1, 0x19,
	0x1a, 0x0a, 0x52, 0xef, 0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b,
	0x17, 0xad, 0x2b, 0x41, 0x7b, 0xe6, 0x6c, 0x37, 0x10
};
static const uint8_t seq[20] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
	0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13
};
static const uint8_t key18[18] = {	/* RFC 4615 §4: 18-octet key */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
	0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xed, 0xcb
};

static const struct mac_case mac_cases[] = {
	/* RFC 2202 §3 test cases 1 and 2 (HMAC-SHA-1). */
	{ "rfc2202-1", IKE_PRF_HMAC_SHA1, { k0b, 20 }, C("Hi There"),
	    "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "rfc2202-2", IKE_PRF_HMAC_SHA1, C("Jefe"),
	    C("what do ya want for nothing?"),
	    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	/* RFC 4231 §4.2 and §4.3 (test cases 1 and 2). */
	{ "rfc4231-1-256", IKE_PRF_HMAC_SHA2_256, { k0b, 20 }, C("Hi There"),
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "rfc4231-1-384", IKE_PRF_HMAC_SHA2_384, { k0b, 20 }, C("Hi There"),
	    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	    "faea9ea9076ede7f4af152e8b2fa9cb6" },
	{ "rfc4231-1-512", IKE_PRF_HMAC_SHA2_512, { k0b, 20 }, C("Hi There"),
	    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "rfc4231-2-256", IKE_PRF_HMAC_SHA2_256, C("Jefe"),
	    C("what do ya want for nothing?"),
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "rfc4231-2-384", IKE_PRF_HMAC_SHA2_384, C("Jefe"),
	    C("what do ya want for nothing?"),
	    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	    "8e2240ca5e69e2c78b3239ecfab21649" },
	{ "rfc4231-2-512", IKE_PRF_HMAC_SHA2_512, C("Jefe"),
	    C("what do ya want for nothing?"),
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	/* RFC 4493 §4 examples 1-4 (AES-CMAC, 16-octet key). */
	{ "rfc4493-1", IKE_PRF_AES128_CMAC, { cmac_key, 16 }, { cmac_m, 0 },
	    "bb1d6929e95937287fa37d129b756746" },
	{ "rfc4493-2", IKE_PRF_AES128_CMAC, { cmac_key, 16 }, { cmac_m, 16 },
	    "070a16b46b4d4144f79bdd9dd04a287c" },
	{ "rfc4493-3", IKE_PRF_AES128_CMAC, { cmac_key, 16 }, { cmac_m, 40 },
	    "dfa66747de9ae63030ca32611497c827" },
	{ "rfc4493-4", IKE_PRF_AES128_CMAC, { cmac_key, 16 }, { cmac_m, 64 },
	    "51f0bebf7e3b9d92fc49741779363cfe" },
	/* RFC 4615 §4: PRF-AES-128-CMAC with 18-, 16- and 10-octet keys. */
	{ "rfc4615-18", IKE_PRF_AES128_CMAC, { key18, 18 }, { seq, 20 },
	    "84a348a4a45d235babfffc0d2b4da09a" },
	{ "rfc4615-16", IKE_PRF_AES128_CMAC, { seq, 16 }, { seq, 20 },
	    "980ae87b5f4c9c5214f5b6a8455e4c2d" },
	{ "rfc4615-10", IKE_PRF_AES128_CMAC, { seq, 10 }, { seq, 20 },
	    "290d9e112edb09ee141fcf64c0b72f3d" },
};

Test(crypto_prf, matches_rfc_known_answers, .timeout = 10)
{
	uint8_t out[IKE_PRF_OUT_MAX], want[IKE_PRF_OUT_MAX];
	size_t i, wl;

	for (i = 0; i < sizeof(mac_cases) / sizeof(mac_cases[0]); i++) {
		const struct mac_case *c = &mac_cases[i];
		struct ike_chunk in = { c->data.p, c->data.len };

		unhex(c->want, want, &wl);
		cr_assert_eq(ike_prf_len(c->prf), wl, "%s: length", c->name);
		cr_assert_eq(ike_prf(c->prf, c->key.p, c->key.len, &in, 1,
		    out), 0, "%s", c->name);
		cr_assert_arr_eq(out, want, wl, "%s: output", c->name);
	}
}

Test(crypto_prf, takes_its_input_in_pieces, .timeout = 10)
{
	struct ike_chunk one = { (const uint8_t *)"Hi There", 8 };
	struct ike_chunk three[3] = {
		{ (const uint8_t *)"Hi", 2 }, { (const uint8_t *)"", 0 },
		{ (const uint8_t *)" There", 6 }
	};
	uint8_t a[32], b[32];

	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_256, k0b, 20, &one, 1, a), 0);
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_256, k0b, 20, three, 3, b), 0);
	cr_assert_arr_eq(a, b, 32);
}

Test(crypto_prf, rejects_unsupported_transforms, .timeout = 10)
{
	struct ike_chunk in = { seq, 20 };
	uint8_t out[IKE_PRF_OUT_MAX];

	cr_assert_eq(ike_prf_len(IKE_PRF_HMAC_MD5), 0);
	cr_assert_eq(ike_prf_len(IKE_PRF_AES128_XCBC), 0);
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_MD5, seq, 16, &in, 1, out), -1);
	cr_assert_eq(ike_integ_key_len(IKE_INTEG_HMAC_MD5_96), 0);
	cr_assert_eq(ike_encr_key_len(IKE_ENCR_3DES, 0), 0);
	cr_assert_eq(ike_encr_key_len(IKE_ENCR_AES_CBC, 100), 0);
	cr_assert_eq(ike_encr_key_len(IKE_ENCR_AES_GCM_16, 0), 0);
}

Test(crypto_prf, reports_transform_sizes, .timeout = 10)
{
	cr_assert_eq(ike_prf_key_len(IKE_PRF_AES128_CMAC), 16);
	cr_assert_eq(ike_prf_key_len(IKE_PRF_HMAC_SHA2_384), 48);
	cr_assert_eq(ike_integ_icv_len(IKE_INTEG_HMAC_SHA1_96), 12);
	cr_assert_eq(ike_integ_icv_len(IKE_INTEG_HMAC_SHA2_256_128), 16);
	cr_assert_eq(ike_integ_icv_len(IKE_INTEG_HMAC_SHA2_384_192), 24);
	cr_assert_eq(ike_integ_icv_len(IKE_INTEG_HMAC_SHA2_512_256), 32);
	cr_assert_eq(ike_encr_key_len(IKE_ENCR_AES_GCM_16, 256), 36);
	cr_assert_eq(ike_encr_key_len(IKE_ENCR_AES_GCM_16, 128), 20);
	cr_assert_eq(ike_encr_key_len(IKE_ENCR_CHACHA20_POLY1305, 0), 36);
	cr_assert_eq(ike_encr_key_len(IKE_ENCR_AES_CBC, 128), 16);
}

/* RFC 4231 §4.3 case 2, truncated to 128 bits as HMAC-SHA2-256-128. */
Test(crypto_prf, truncates_the_integrity_checksum, .timeout = 10)
{
	static const uint8_t want[16] = {
		0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53,
		0x5c, 0xa8, 0xaf, 0xce, 0xaf, 0x0b, 0xf1, 0x2b
	};
	uint8_t key[32] = { 0 }, icv[32];
	struct ike_chunk in = { (const uint8_t *)"Hi There", 8 };

	/* The integrity transform wants a 32-octet key: use the PRF's. */
	memcpy(key, k0b, 20);
	cr_assert_eq(ike_integ(IKE_INTEG_HMAC_SHA2_256_128, k0b, 20, &in, 1,
	    icv), -1, "a 20-octet key is refused");
	cr_assert_eq(ike_integ(IKE_INTEG_HMAC_SHA2_256_128, key, 32, &in, 1,
	    icv), 0);
	/* HMAC zero-pads short keys, so a padded key gives the same MAC. */
	cr_assert_arr_eq(icv, want, 16);
}

Test(crypto_prf, prfplus_chains_rounds_per_rfc7296, .timeout = 10)
{
	/* T1 = prf(K, S | 01), T2 = prf(K, T1 | S | 02), built by hand. */
	struct ike_chunk s = { seq, 20 };
	uint8_t out[80], t1[32], t2[32], one = 1, two = 2;
	struct ike_chunk in1[2] = { { seq, 20 }, { &one, 1 } };
	struct ike_chunk in2[3] = { { t1, 32 }, { seq, 20 }, { &two, 1 } };
	uint8_t t3[32], three = 3;
	struct ike_chunk in3[3] = { { t2, 32 }, { seq, 20 }, { &three, 1 } };

	cr_assert_eq(ike_prfplus(IKE_PRF_HMAC_SHA2_256, k0b, 20, &s, 1, out,
	    80), 0);
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_256, k0b, 20, in1, 2, t1), 0);
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_256, k0b, 20, in2, 3, t2), 0);
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_256, k0b, 20, in3, 3, t3), 0);
	cr_assert_arr_eq(out, t1, 32);
	cr_assert_arr_eq(out + 32, t2, 32);
	cr_assert_arr_eq(out + 64, t3, 16);
}

Test(crypto_prf, prfplus_refuses_more_than_255_rounds, .timeout = 10)
{
	static uint8_t out[256 * 20];
	struct ike_chunk s = { seq, 20 };

	cr_assert_eq(ike_prfplus(IKE_PRF_HMAC_SHA1, k0b, 20, &s, 1, out,
	    255 * 20), 0);
	cr_assert_eq(ike_prfplus(IKE_PRF_HMAC_SHA1, k0b, 20, &s, 1, out,
	    255 * 20 + 1), -1);
}

/* SKEYSEED with AES-CMAC keys the PRF with Ni[0..8) | Nr[0..8) (§2.14). */
Test(crypto_prf, truncates_nonces_for_fixed_key_prfs, .timeout = 10)
{
	uint8_t a[16], b[16], key[16];
	struct ike_chunk in = { ss_gcm_gir, sizeof(ss_gcm_gir) };

	cr_assert_eq(ike_skeyseed(IKE_PRF_AES128_CMAC, ss_gcm_ni, 32,
	    ss_gcm_nr, 32, ss_gcm_gir, sizeof(ss_gcm_gir), a), 0);
	memcpy(key, ss_gcm_ni, 8);
	memcpy(key + 8, ss_gcm_nr, 8);
	cr_assert_eq(ike_prf(IKE_PRF_AES128_CMAC, key, 16, &in, 1, b), 0);
	cr_assert_arr_eq(a, b, 16);
	cr_assert_eq(ike_skeyseed(IKE_PRF_AES128_CMAC, ss_gcm_ni, 7,
	    ss_gcm_nr, 32, ss_gcm_gir, 32, a), -1, "nonce < 64 bits");
}

Test(crypto_prf, derives_strongswan_gcm_sa_keys, .timeout = 10)
{
	struct ike_suite s = { IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_384,
	    IKE_INTEG_NONE, IKE_DH_CURVE25519 };
	struct ike_keys k;
	uint8_t seed[48];

	cr_assert_eq(ike_skeyseed(s.prf, ss_gcm_ni, sizeof(ss_gcm_ni),
	    ss_gcm_nr, sizeof(ss_gcm_nr), ss_gcm_gir, sizeof(ss_gcm_gir),
	    seed), 0);
	cr_assert_arr_eq(seed, ss_gcm_skeyseed, 48);
	cr_assert_eq(ike_keys_new_sa(&s, ss_gcm_ni, sizeof(ss_gcm_ni),
	    ss_gcm_nr, sizeof(ss_gcm_nr), ss_gcm_gir, sizeof(ss_gcm_gir),
	    ss_gcm_spii, ss_gcm_spir, &k), 0);
	cr_assert_eq(k.prf_len, 48);
	cr_assert_eq(k.integ_len, 0);
	cr_assert_eq(k.encr_len, 36);
	cr_assert_arr_eq(k.sk_d, ss_gcm_sk_d, 48);
	cr_assert_arr_eq(k.sk_ei, ss_gcm_sk_ei, 36);
	cr_assert_arr_eq(k.sk_er, ss_gcm_sk_er, 36);
	cr_assert_arr_eq(k.sk_pi, ss_gcm_sk_pi, 48);
	cr_assert_arr_eq(k.sk_pr, ss_gcm_sk_pr, 48);
	ike_keys_cleanse(&k);
}

Test(crypto_prf, derives_strongswan_cbc_sa_keys, .timeout = 10)
{
	struct ike_suite s = { IKE_ENCR_AES_CBC, 128, IKE_PRF_HMAC_SHA2_256,
	    IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP2048 };
	struct ike_keys k;

	cr_assert_eq(ike_keys_new_sa(&s, ss_cbc_ni, sizeof(ss_cbc_ni),
	    ss_cbc_nr, sizeof(ss_cbc_nr), ss_cbc_gir, sizeof(ss_cbc_gir),
	    ss_cbc_spii, ss_cbc_spir, &k), 0);
	cr_assert_arr_eq(k.sk_d, ss_cbc_sk_d, 32);
	cr_assert_arr_eq(k.sk_ai, ss_cbc_sk_ai, 32);
	cr_assert_arr_eq(k.sk_ar, ss_cbc_sk_ar, 32);
	cr_assert_arr_eq(k.sk_ei, ss_cbc_sk_ei, 16);
	cr_assert_arr_eq(k.sk_er, ss_cbc_sk_er, 16);
	cr_assert_arr_eq(k.sk_pi, ss_cbc_sk_pi, 32);
	cr_assert_arr_eq(k.sk_pr, ss_cbc_sk_pr, 32);
	ike_keys_cleanse(&k);
}

Test(crypto_prf, derives_strongswan_rekeyed_sa_keys, .timeout = 10)
{
	struct ike_suite s = { IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_384,
	    IKE_INTEG_NONE, IKE_DH_CURVE25519 };
	struct ike_keys k;
	uint8_t seed[48];

	cr_assert_eq(ike_skeyseed_rekey(IKE_PRF_HMAC_SHA2_384, ss_gcm_sk_d,
	    48, ss_rekey_gir, 32, ss_rekey_ni, sizeof(ss_rekey_ni),
	    ss_rekey_nr, sizeof(ss_rekey_nr), seed), 0);
	cr_assert_arr_eq(seed, ss_rekey_skeyseed, 48);
	cr_assert_eq(ike_keys_rekey_sa(&s, IKE_PRF_HMAC_SHA2_384, ss_gcm_sk_d,
	    48, ss_rekey_gir, 32, ss_rekey_ni, sizeof(ss_rekey_ni),
	    ss_rekey_nr, sizeof(ss_rekey_nr), ss_rekey_spii, ss_rekey_spir,
	    &k), 0);
	cr_assert_arr_eq(k.sk_d, ss_rekey_sk_d, 48);
	cr_assert_arr_eq(k.sk_ei, ss_rekey_sk_ei, 36);
	cr_assert_arr_eq(k.sk_er, ss_rekey_sk_er, 36);
	cr_assert_arr_eq(k.sk_pi, ss_rekey_sk_pi, 48);
	cr_assert_arr_eq(k.sk_pr, ss_rekey_sk_pr, 48);
	ike_keys_cleanse(&k);
}

Test(crypto_prf, derives_strongswan_child_keys, .timeout = 10)
{
	struct ike_suite gcm = { IKE_ENCR_AES_GCM_16, 256, 0, IKE_INTEG_NONE,
	    0 };
	struct ike_suite cbc = { IKE_ENCR_AES_CBC, 128, 0,
	    IKE_INTEG_HMAC_SHA2_256_128, 0 };
	struct ike_child_keys k;

	/* KEYMAT = prf+(SK_d, Ni | Nr): salt is the last 4 octets. */
	cr_assert_eq(ike_child_keys_derive(IKE_PRF_HMAC_SHA2_384, ss_gcm_sk_d,
	    48, &gcm, NULL, 0, ss_gcm_ni, 32, ss_gcm_nr, 32, &k), 0);
	cr_assert_eq(k.encr_len, 36);
	cr_assert_arr_eq(k.ei, ss_gcm_child_ei, 36);
	cr_assert_arr_eq(k.er, ss_gcm_child_er, 36);
	/* With PFS: KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr). */
	cr_assert_eq(ike_child_keys_derive(IKE_PRF_HMAC_SHA2_384,
	    ss_rekey_sk_d, 48, &gcm, ss_pfs_seed, 32, ss_pfs_seed + 32, 32,
	    ss_pfs_seed + 64, 32, &k), 0);
	cr_assert_arr_eq(k.ei, ss_pfs_encr_i, 36);
	cr_assert_arr_eq(k.er, ss_pfs_encr_r, 36);
	/* CBC + HMAC: encryption key, then integrity key, per direction. */
	cr_assert_eq(ike_child_keys_derive(IKE_PRF_HMAC_SHA2_256, ss_cbc_sk_d,
	    32, &cbc, NULL, 0, ss_cbc_ni, 32, ss_cbc_nr, 32, &k), 0);
	cr_assert_arr_eq(k.ei, ss_cbc_child_ei, 16);
	cr_assert_arr_eq(k.ai, ss_cbc_child_ai, 32);
	cr_assert_arr_eq(k.er, ss_cbc_child_er, 16);
	cr_assert_arr_eq(k.ar, ss_cbc_child_ar, 32);
	ike_child_keys_cleanse(&k);
}

Test(crypto_prf, rejects_inconsistent_suites, .timeout = 10)
{
	static const struct ike_suite bad[] = {
		/* AEAD with an integrity transform */
		{ IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_256,
		    IKE_INTEG_HMAC_SHA2_256_128, 0 },
		/* CBC without one */
		{ IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_256,
		    IKE_INTEG_NONE, 0 },
		/* unsupported PRF */
		{ IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_MD5,
		    IKE_INTEG_HMAC_SHA2_256_128, 0 },
		/* bad key length */
		{ IKE_ENCR_AES_CBC, 64, IKE_PRF_HMAC_SHA2_256,
		    IKE_INTEG_HMAC_SHA2_256_128, 0 },
	};
	struct ike_keys k;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_not(ike_suite_valid(&bad[i], false), "case %zu", i);
		cr_assert_eq(ike_keys_new_sa(&bad[i], ss_gcm_ni, 32, ss_gcm_nr,
		    32, ss_gcm_gir, 32, ss_gcm_spii, ss_gcm_spir, &k), -1,
		    "case %zu", i);
	}
}
