/*
 * ike/auth.c: signed octets and shared-key AUTH (checked against strongSwan
 * 5.9.8 and against Python's hmac module), sign/verify round trips for every
 * signature scheme with keys in fixtures/ (openssl genpkey), and the
 * SIGNATURE_HASH_ALGORITHMS parser.  Run from the repository root.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "ike/auth.h"
#include "test/unit/ike/fixtures/strongswan_vectors.h"

TestSuite(crypto_auth);

#define FIX "test/unit/ike/fixtures/"

Test(crypto_auth, builds_strongswan_initiator_octets_and_psk_auth,
    .timeout = 10)
{
	uint8_t oct[sizeof(ss_gcm_octets_i)], auth[48];
	size_t n = ike_auth_octets_len(IKE_PRF_HMAC_SHA2_384,
	    sizeof(ss_gcm_msg1), sizeof(ss_gcm_nr));

	cr_assert_eq(n, sizeof(ss_gcm_octets_i));
	cr_assert_eq(ike_auth_octets(IKE_PRF_HMAC_SHA2_384, ss_gcm_sk_pi, 48,
	    ss_gcm_msg1, sizeof(ss_gcm_msg1), ss_gcm_nr, sizeof(ss_gcm_nr),
	    ss_gcm_idi, sizeof(ss_gcm_idi), oct, n), 0);
	cr_assert_arr_eq(oct, ss_gcm_octets_i, n);
	cr_assert_eq(ike_auth_psk(IKE_PRF_HMAC_SHA2_384, ss_gcm_psk,
	    sizeof(ss_gcm_psk), oct, n, auth), 0);
	cr_assert_arr_eq(auth, ss_gcm_auth_i, 48);
	cr_assert(ike_auth_psk_verify(IKE_PRF_HMAC_SHA2_384, ss_gcm_psk,
	    sizeof(ss_gcm_psk), oct, n, ss_gcm_auth_i, 48));
}

Test(crypto_auth, matches_strongswan_cbc_psk_auth, .timeout = 10)
{
	uint8_t oct[sizeof(ss_cbc_octets_i)], auth[32];
	size_t n = sizeof(ss_cbc_octets_i);

	cr_assert_eq(ike_auth_octets(IKE_PRF_HMAC_SHA2_256, ss_cbc_sk_pi, 32,
	    ss_cbc_msg1, sizeof(ss_cbc_msg1), ss_cbc_nr, sizeof(ss_cbc_nr),
	    ss_cbc_idi, sizeof(ss_cbc_idi), oct, n), 0);
	cr_assert_arr_eq(oct, ss_cbc_octets_i, n);
	cr_assert_eq(ike_auth_psk(IKE_PRF_HMAC_SHA2_256, ss_cbc_psk,
	    sizeof(ss_cbc_psk), oct, n, auth), 0);
	cr_assert_arr_eq(auth, ss_cbc_auth_i, 32);
}

/*
 * Computed with Python 3.11 hmac/hashlib: msg = 00..27, nonce = 64..73,
 * SK_p = 32 x 0x42, ID = 02 000000 "a.example", PSK "swordfish", SHA-256.
 */
Test(crypto_auth, matches_an_independent_psk_vector, .timeout = 10)
{
	static const uint8_t want[32] = {
		0x7d, 0xc3, 0x37, 0x2b, 0xae, 0xe4, 0xaf, 0xd9, 0x9d, 0x77,
		0x3e, 0x4d, 0x68, 0xea, 0x97, 0x9b, 0xca, 0xb3, 0x62, 0x06,
		0x10, 0x27, 0x72, 0x94, 0x66, 0x1c, 0x5a, 0xe0, 0x96, 0x10,
		0x22, 0x4d
	};
	static const uint8_t id[] = {
		2, 0, 0, 0, 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e'
	};
	uint8_t msg[40], nonce[16], skp[32], oct[40 + 16 + 32], auth[32];
	size_t i;

	for (i = 0; i < 40; i++)
		msg[i] = (uint8_t)i;
	for (i = 0; i < 16; i++)
		nonce[i] = (uint8_t)(100 + i);
	memset(skp, 0x42, sizeof(skp));
	cr_assert_eq(ike_auth_octets(IKE_PRF_HMAC_SHA2_256, skp, 32, msg, 40,
	    nonce, 16, id, sizeof(id), oct, sizeof(oct)), 0);
	cr_assert_eq(ike_auth_psk(IKE_PRF_HMAC_SHA2_256,
	    (const uint8_t *)"swordfish", 9, oct, sizeof(oct), auth), 0);
	cr_assert_arr_eq(auth, want, 32);
}

Test(crypto_auth, rejects_a_wrong_psk_auth, .timeout = 10)
{
	uint8_t bad[48];

	memcpy(bad, ss_gcm_auth_i, 48);
	bad[47] ^= 1;
	cr_assert_not(ike_auth_psk_verify(IKE_PRF_HMAC_SHA2_384, ss_gcm_psk,
	    sizeof(ss_gcm_psk), ss_gcm_octets_i, sizeof(ss_gcm_octets_i), bad,
	    48));
	cr_assert_not(ike_auth_psk_verify(IKE_PRF_HMAC_SHA2_384, ss_gcm_psk,
	    sizeof(ss_gcm_psk), ss_gcm_octets_i, sizeof(ss_gcm_octets_i),
	    ss_gcm_auth_i, 47), "short AUTH");
	cr_assert_not(ike_auth_psk_verify(IKE_PRF_HMAC_SHA2_384,
	    (const uint8_t *)"other", 5, ss_gcm_octets_i,
	    sizeof(ss_gcm_octets_i), ss_gcm_auth_i, 48), "other PSK");
}

Test(crypto_auth, refuses_an_octets_buffer_of_the_wrong_size, .timeout = 10)
{
	uint8_t oct[400];

	cr_assert_eq(ike_auth_octets(IKE_PRF_HMAC_SHA2_384, ss_gcm_sk_pi, 48,
	    ss_gcm_msg1, sizeof(ss_gcm_msg1), ss_gcm_nr, 32, ss_gcm_idi,
	    sizeof(ss_gcm_idi), oct, sizeof(ss_gcm_octets_i) - 1), -1);
}

struct sig_case {
	enum ike_sig	 sig;
	const char	*priv;
	const char	*pub;
	const char	*other;		/* a public key that must not verify */
};

static const struct sig_case sig_cases[] = {
	{ IKE_SIG_RSA_SHA1, "rsa2048", "rsa2048", "rsa2048-other" },
	{ IKE_SIG_RSA_PKCS1_SHA256, "rsa2048", "rsa2048", "rsa2048-other" },
	{ IKE_SIG_RSA_PKCS1_SHA384, "rsa2048", "rsa2048", "rsa2048-other" },
	{ IKE_SIG_RSA_PKCS1_SHA512, "rsa2048", "rsa2048", "rsa2048-other" },
	{ IKE_SIG_RSA_PSS_SHA256, "rsa2048", "rsa2048", "rsa2048-other" },
	{ IKE_SIG_RSA_PSS_SHA384, "rsa2048", "rsa2048", "rsa2048-other" },
	{ IKE_SIG_RSA_PSS_SHA512, "rsa2048", "rsa2048", "rsa2048-other" },
	{ IKE_SIG_ECDSA_SHA256, "ecp256", "ecp256", "ecp384" },
	{ IKE_SIG_ECDSA_SHA384, "ecp384", "ecp384", "ecp256" },
	{ IKE_SIG_ED25519, "ed25519", "ed25519", "rsa2048" },
	/* RFC 4754 methods 9 and 10: another curve's key is refused. */
	{ IKE_SIG_ECDSA_P256, "ecp256", "ecp256", "ecp384" },
	{ IKE_SIG_ECDSA_P384, "ecp384", "ecp384", "ecp256" },
};

static EVP_PKEY *
load(const char *name, bool private)
{
	char path[128];
	EVP_PKEY *k;

	snprintf(path, sizeof(path), FIX "%s%s", name,
	    private ? ".pem" : ".pub.pem");
	k = ike_auth_key_load(path, private);
	cr_assert_not_null(k, "%s", path);
	return k;
}

Test(crypto_auth, signs_and_verifies_every_scheme, .timeout = 30)
{
	uint8_t sig[IKE_AUTH_SIG_MAX];
	uint8_t oct[sizeof(ss_gcm_octets_i)];
	size_t i, len;

	memcpy(oct, ss_gcm_octets_i, sizeof(oct));
	for (i = 0; i < sizeof(sig_cases) / sizeof(sig_cases[0]); i++) {
		const struct sig_case *c = &sig_cases[i];
		EVP_PKEY *priv = load(c->priv, true);
		EVP_PKEY *pub = load(c->pub, false);
		EVP_PKEY *other = load(c->other, false);
		enum ike_auth_method m = ike_auth_sig_method(c->sig);

		cr_assert_eq(ike_auth_sign(c->sig, priv, oct, sizeof(oct), sig,
		    sizeof(sig), &len), 0, "case %zu", i);
		cr_assert_eq(ike_auth_verify(m, pub, sig, len, oct,
		    sizeof(oct)), 0, "case %zu", i);
		cr_assert_eq(ike_auth_verify(m, other, sig, len, oct,
		    sizeof(oct)), -1, "case %zu wrong key", i);
		oct[0] ^= 1;
		cr_assert_eq(ike_auth_verify(m, pub, sig, len, oct,
		    sizeof(oct)), -1, "case %zu other octets", i);
		oct[0] ^= 1;
		sig[len - 1] ^= 1;
		cr_assert_eq(ike_auth_verify(m, pub, sig, len, oct,
		    sizeof(oct)), -1, "case %zu flipped signature", i);
		EVP_PKEY_free(priv);
		EVP_PKEY_free(pub);
		EVP_PKEY_free(other);
	}
}

Test(crypto_auth, prefixes_method_14_with_the_algorithm_identifier,
    .timeout = 10)
{
	/* RFC 7427 §3: length 0x0d, sha256WithRSAEncryption with NULL. */
	static const uint8_t rsa256[] = {
		0x0f, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
		0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00
	};
	/* RFC 8420 §2: id-Ed25519, no parameters; signature 64 octets. */
	static const uint8_t ed[] = {
		0x07, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70
	};
	uint8_t sig[IKE_AUTH_SIG_MAX];
	size_t len;
	EVP_PKEY *rsa = load("rsa2048", true), *ed25519 = load("ed25519",
	    true);

	cr_assert_eq(ike_auth_sign(IKE_SIG_RSA_PKCS1_SHA256, rsa,
	    (const uint8_t *)"x", 1, sig, sizeof(sig), &len), 0);
	cr_assert_eq(len, sizeof(rsa256) + 256);
	cr_assert_arr_eq(sig, rsa256, sizeof(rsa256));
	cr_assert_eq(ike_auth_sign(IKE_SIG_RSA_SHA1, rsa,
	    (const uint8_t *)"x", 1, sig, sizeof(sig), &len), 0);
	cr_assert_eq(len, 256, "method 1: bare signature");
	cr_assert_eq(ike_auth_sign(IKE_SIG_ED25519, ed25519,
	    (const uint8_t *)"x", 1, sig, sizeof(sig), &len), 0);
	cr_assert_eq(len, sizeof(ed) + 64);
	cr_assert_arr_eq(sig, ed, sizeof(ed));
	cr_assert_eq(ike_auth_sign(IKE_SIG_ECDSA_SHA256, rsa,
	    (const uint8_t *)"x", 1, sig, sizeof(sig), &len), -1,
	    "scheme does not fit the key");
	cr_assert_eq(ike_auth_sign(IKE_SIG_RSA_PKCS1_SHA256, rsa,
	    (const uint8_t *)"x", 1, sig, 100, &len), -1, "buffer too small");
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed25519);
}

Test(crypto_auth, rejects_malformed_method_14_data, .timeout = 10)
{
	uint8_t sig[IKE_AUTH_SIG_MAX];
	size_t len;
	EVP_PKEY *priv = load("ecp256", true), *pub = load("ecp256", false);
	EVP_PKEY *rsa = load("rsa2048", false);

	cr_assert_eq(ike_auth_sign(IKE_SIG_ECDSA_SHA256, priv,
	    (const uint8_t *)"x", 1, sig, sizeof(sig), &len), 0);
	/* Length octet past the end. */
	cr_assert_eq(ike_auth_verify(IKE_AUTH_DIGITAL_SIGNATURE, pub, sig, 5,
	    (const uint8_t *)"x", 1), -1);
	/* No signature after the AlgorithmIdentifier. */
	cr_assert_eq(ike_auth_verify(IKE_AUTH_DIGITAL_SIGNATURE, pub, sig,
	    1 + sig[0], (const uint8_t *)"x", 1), -1);
	/* Unknown AlgorithmIdentifier (ecdsa-with-SHA224 ...03 01). */
	sig[sig[0]] = 0x01;
	cr_assert_eq(ike_auth_verify(IKE_AUTH_DIGITAL_SIGNATURE, pub, sig, len,
	    (const uint8_t *)"x", 1), -1);
	sig[sig[0]] = 0x02;
	/* ECDSA AlgorithmIdentifier with an RSA key. */
	cr_assert_eq(ike_auth_verify(IKE_AUTH_DIGITAL_SIGNATURE, rsa, sig, len,
	    (const uint8_t *)"x", 1), -1);
	/* Unsupported method. */
	cr_assert_eq(ike_auth_verify(IKE_AUTH_ECDSA_SHA256_P256, pub, sig, len,
	    (const uint8_t *)"x", 1), -1);
	/* And the untouched data still verifies. */
	cr_assert_eq(ike_auth_verify(IKE_AUTH_DIGITAL_SIGNATURE, pub, sig, len,
	    (const uint8_t *)"x", 1), 0);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(rsa);
}

Test(crypto_auth, fails_to_load_missing_keys, .timeout = 10)
{
	cr_assert_null(ike_auth_key_load(FIX "nonexistent.pem", true));
	cr_assert_null(ike_auth_key_load(FIX "rsa2048.pub.pem", true));
}

Test(crypto_auth, parses_signature_hash_algorithms, .timeout = 10)
{
	/* strongSwan's list: SHA2-256, SHA2-384, SHA2-512, Identity. */
	static const uint8_t list[] = { 0, 2, 0, 3, 0, 4, 0, 5 };
	static const uint8_t unknown[] = { 0x12, 0x34, 0, 1 };
	uint32_t mask;

	cr_assert(ike_auth_hash_algs_parse(list, sizeof(list), &mask));
	cr_assert_eq(mask, 1u << IKE_HASH_SHA2_256 | 1u << IKE_HASH_SHA2_384 |
	    1u << IKE_HASH_SHA2_512 | 1u << IKE_HASH_IDENTITY);
	cr_assert(ike_auth_hash_algs_parse(unknown, sizeof(unknown), &mask));
	cr_assert_eq(mask, 1u << IKE_HASH_SHA1);
}

Test(crypto_auth, rejects_an_odd_hash_algorithm_list, .timeout = 10)
{
	static const uint8_t odd[] = { 0, 2, 0 };
	uint32_t mask;

	cr_assert_not(ike_auth_hash_algs_parse(odd, sizeof(odd), &mask));
}

Test(crypto_auth, rejects_an_empty_hash_algorithm_list, .timeout = 10)
{
	uint32_t mask;

	cr_assert_not(ike_auth_hash_algs_parse((const uint8_t *)"", 0, &mask));
}

Test(crypto_auth, rfc4754_signatures_are_r_and_s_of_the_curve_size,
    .timeout = 10)
{
	static const struct {
		enum ike_sig	 sig;
		const char	*curve;
		enum ike_auth_method method;
		size_t		 len;
	} c[] = {
		{ IKE_SIG_ECDSA_P256, "P-256", IKE_AUTH_ECDSA_SHA256_P256, 64 },
		{ IKE_SIG_ECDSA_P384, "P-384", IKE_AUTH_ECDSA_SHA384_P384, 96 },
		{ IKE_SIG_ECDSA_P521, "P-521", IKE_AUTH_ECDSA_SHA512_P521,
		    132 },
	};
	uint8_t sig[IKE_AUTH_SIG_MAX];
	size_t i, len;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		EVP_PKEY *k = EVP_EC_gen(c[i].curve);

		cr_assert_not_null(k);
		cr_assert_eq(ike_auth_sig_method(c[i].sig), c[i].method);
		cr_assert(ike_auth_is_sig_method(c[i].method));
		cr_assert_eq(ike_auth_sign(c[i].sig, k, (const uint8_t *)"x",
		    1, sig, sizeof(sig), &len), 0, "case %zu", i);
		/* No AlgorithmIdentifier, no DER: exactly r | s. */
		cr_assert_eq(len, c[i].len, "case %zu", i);
		cr_assert_eq(ike_auth_verify(c[i].method, k, sig, len,
		    (const uint8_t *)"x", 1), 0, "case %zu", i);
		/* One octet short or long is refused before any math. */
		cr_assert_eq(ike_auth_verify(c[i].method, k, sig, len - 1,
		    (const uint8_t *)"x", 1), -1, "case %zu short", i);
		cr_assert_eq(ike_auth_verify(c[i].method, k, sig, len + 1,
		    (const uint8_t *)"x", 1), -1, "case %zu long", i);
		/* A method of another curve with this key. */
		cr_assert_eq(ike_auth_verify(c[(i + 1) % 3].method, k, sig,
		    c[(i + 1) % 3].len, (const uint8_t *)"x", 1), -1,
		    "case %zu other curve", i);
		cr_assert_eq(ike_auth_sign(c[(i + 1) % 3].sig, k,
		    (const uint8_t *)"x", 1, sig, sizeof(sig), &len), -1,
		    "case %zu signs for another curve", i);
		EVP_PKEY_free(k);
	}
	cr_assert_not(ike_auth_is_sig_method(IKE_AUTH_SHARED_KEY_MIC));
	cr_assert_not(ike_auth_is_sig_method(IKE_AUTH_DSS_SIG));
}
