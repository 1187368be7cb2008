/*
 * ike/dh.c: RFC 7748 §6.1 (X25519) and RFC 5903 §8 (ECP 19, 20, 21)
 * known answers, round trips for every group and peer-value validation.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/bn.h>

#include "ike/dh.h"

TestSuite(crypto_dh);

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

struct kat {
	const char	*name;
	enum ike_dh	 group;
	const char	*i;		/* initiator private */
	const char	*gi;		/* initiator KE data (x | y) */
	const char	*r;		/* responder private */
	const char	*gr;		/* responder KE data */
	const char	*gir;		/* shared secret */
};

static const struct kat kats[] = {
	{ "rfc7748-6.1", IKE_DH_CURVE25519,
	    /* Alice's private key and public key */
	    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    /* Bob's private key and public key */
	    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	    /* shared secret K */
	    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
	{ "rfc5903-8.1", IKE_DH_ECP256,
	    "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
	    "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
	    "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
	    "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
	    "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
	    "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
	    "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de" },
	{ "rfc5903-8.2", IKE_DH_ECP384,
	    "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655"
	    "e35b538041e649ee3faef896783ab194",
	    "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6"
	    "de3ac808acb4bdb4c88732aee95f41aa"
	    "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e"
	    "eb9fcff3c2c947dae69b4c634573a81c",
	    "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942"
	    "e0308312916b8ed2960e4bd55a7448fc",
	    "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d"
	    "0d1ac43a0336def96fda41d0774a3571"
	    "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff"
	    "f83fa40142209dff5eaad96db9e6386c",
	    "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4"
	    "d603135569b9e9d09cf5d4a270f59746" },
	{ "rfc5903-8.3", IKE_DH_ECP521,
	    "0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a0"
	    "95aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d"
	    "4a52",
	    "0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbe"
	    "e1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176c"
	    "ed3e"
	    "017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10a"
	    "d8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f"
	    "9582",
	    "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e"
	    "9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb15168"
	    "5eb9",
	    "00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a21"
	    "9b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9"
	    "460f"
	    "015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87"
	    "220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0f"
	    "c56a",
	    "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04"
	    "d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3"
	    "ddea" },
};

Test(crypto_dh, matches_rfc_known_answers, .timeout = 10)
{
	uint8_t priv[66], pub[IKE_KEX_PUB_MAX], want[IKE_KEX_PUB_MAX];
	uint8_t s[IKE_KEX_SECRET_MAX], ws[IKE_KEX_SECRET_MAX];
	size_t i, pl, wl, sl;

	for (i = 0; i < sizeof(kats) / sizeof(kats[0]); i++) {
		const struct kat *k = &kats[i];
		const char *privs[2] = { k->i, k->r };
		const char *pubs[2] = { k->gi, k->gr };
		int side;

		unhex(k->gir, ws, &sl);
		cr_assert_eq(ike_kex_secret_len(k->group), sl, "%s", k->name);
		for (side = 0; side < 2; side++) {
			struct ike_kex *dh;

			unhex(privs[side], priv, &pl);
			dh = ike_kex_new_private(k->group, 0, priv, pl);
			cr_assert_not_null(dh, "%s side %d", k->name, side);
			unhex(pubs[side], want, &wl);
			cr_assert_eq(ike_kex_pub_len(k->group), wl, "%s",
			    k->name);
			cr_assert_eq(ike_kex_public(dh, pub, wl), 0);
			cr_assert_arr_eq(pub, want, wl, "%s side %d public",
			    k->name, side);
			unhex(pubs[1 - side], want, &wl);
			cr_assert_eq(ike_kex_derive(dh, want, wl, s, sl), 0,
			    "%s side %d", k->name, side);
			cr_assert_arr_eq(s, ws, sl, "%s side %d secret",
			    k->name, side);
			ike_kex_free(dh);
		}
	}
}

static const enum ike_dh all[] = {
	IKE_DH_MODP1024, IKE_DH_MODP1536, IKE_DH_MODP2048, IKE_DH_MODP3072,
	IKE_DH_MODP4096, IKE_DH_ECP256, IKE_DH_ECP384, IKE_DH_ECP521,
	IKE_DH_CURVE25519, IKE_DH_CURVE448
};

Test(crypto_dh, agrees_in_every_group, .timeout = 60)
{
	uint8_t pa[IKE_KEX_PUB_MAX], pb[IKE_KEX_PUB_MAX];
	uint8_t sa[IKE_KEX_SECRET_MAX], sb[IKE_KEX_SECRET_MAX];
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		enum ike_dh g = all[i];
		struct ike_kex *a = ike_kex_new(g, IKE_KEX_ALLOW_WEAK);
		struct ike_kex *b = ike_kex_new(g, IKE_KEX_ALLOW_WEAK);
		size_t pl = ike_kex_pub_len(g), sl = ike_kex_secret_len(g);

		cr_assert(a != NULL && b != NULL, "group %d", g);
		cr_assert_eq(ike_kex_group(a), g);
		cr_assert_eq(ike_kex_public(a, pa, pl), 0, "group %d", g);
		cr_assert_eq(ike_kex_public(b, pb, pl), 0, "group %d", g);
		cr_assert_eq(ike_kex_derive(a, pb, pl, sa, sl), 0, "group %d",
		    g);
		cr_assert_eq(ike_kex_derive(b, pa, pl, sb, sl), 0, "group %d",
		    g);
		cr_assert_arr_eq(sa, sb, sl, "group %d", g);
		ike_kex_free(a);
		ike_kex_free(b);
	}
}

Test(crypto_dh, refuses_weak_groups_without_opt_in, .timeout = 10)
{
	cr_assert_null(ike_kex_new(IKE_DH_MODP1024, 0));
	cr_assert_null(ike_kex_new(IKE_DH_MODP1536, 0));
	cr_assert_not(ike_kex_supported(IKE_DH_MODP1024, 0));
	cr_assert(ike_kex_supported(IKE_DH_MODP1024, IKE_KEX_ALLOW_WEAK));
	cr_assert(ike_kex_supported(IKE_DH_MODP2048, 0));
}

Test(crypto_dh, refuses_unsupported_groups, .timeout = 10)
{
	cr_assert_null(ike_kex_new(IKE_DH_MODP768, IKE_KEX_ALLOW_WEAK));
	cr_assert_null(ike_kex_new(IKE_DH_BRAINPOOL256, 0));
	cr_assert_eq(ike_kex_pub_len(IKE_DH_ECP192), 0);
}

Test(crypto_dh, rejects_peer_values_of_the_wrong_length, .timeout = 10)
{
	static const enum ike_dh g[] = {
		IKE_DH_MODP2048, IKE_DH_ECP256, IKE_DH_CURVE25519
	};
	uint8_t peer[IKE_KEX_PUB_MAX + 1], s[IKE_KEX_SECRET_MAX];
	size_t i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		struct ike_kex *a = ike_kex_new(g[i], 0), *b = ike_kex_new(g[i],
		    0);
		size_t pl = ike_kex_pub_len(g[i]), sl = ike_kex_secret_len(g[i]);

		cr_assert_eq(ike_kex_public(b, peer, pl), 0);
		cr_assert_eq(ike_kex_derive(a, peer, pl - 1, s, sl), -1,
		    "group %d short", g[i]);
		cr_assert_eq(ike_kex_derive(a, peer, pl + 1, s, sl), -1,
		    "group %d long", g[i]);
		cr_assert_eq(ike_kex_derive(a, peer, pl, s, sl - 1), -1,
		    "group %d secret buffer", g[i]);
		ike_kex_free(a);
		ike_kex_free(b);
	}
}

Test(crypto_dh, rejects_points_off_the_curve, .timeout = 10)
{
	static const enum ike_dh g[] = {
		IKE_DH_ECP256, IKE_DH_ECP384, IKE_DH_ECP521
	};
	uint8_t peer[IKE_KEX_PUB_MAX], s[IKE_KEX_SECRET_MAX];
	size_t i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		struct ike_kex *a = ike_kex_new(g[i], 0), *b = ike_kex_new(g[i],
		    0);
		size_t pl = ike_kex_pub_len(g[i]);

		cr_assert_eq(ike_kex_public(b, peer, pl), 0);
		peer[pl - 1] ^= 0x01;		/* y + 1: not on the curve */
		cr_assert_eq(ike_kex_derive(a, peer, pl, s,
		    ike_kex_secret_len(g[i])), -1, "group %d", g[i]);
		memset(peer, 0, pl);		/* the point (0, 0) */
		cr_assert_eq(ike_kex_derive(a, peer, pl, s,
		    ike_kex_secret_len(g[i])), -1, "group %d zero", g[i]);
		ike_kex_free(a);
		ike_kex_free(b);
	}
}

Test(crypto_dh, rejects_modp_values_outside_one_to_p_minus_one,
    .timeout = 10)
{
	/* RFC 3526 §3: the 2048-bit prime ends in ...FFFFFFFFFFFFFFFF. */
	struct ike_kex *a = ike_kex_new(IKE_DH_MODP2048, 0);
	uint8_t y[256], s[256];
	size_t i;

	cr_assert_not_null(a);
	memset(y, 0, sizeof(y));			/* 0 */
	cr_assert_eq(ike_kex_derive(a, y, 256, s, 256), -1, "y = 0");
	y[255] = 1;					/* 1 */
	cr_assert_eq(ike_kex_derive(a, y, 256, s, 256), -1, "y = 1");
	memset(y, 0xff, sizeof(y));			/* > p */
	cr_assert_eq(ike_kex_derive(a, y, 256, s, 256), -1, "y > p");
	{
		BIGNUM *p = BN_get_rfc3526_prime_2048(NULL);

		cr_assert_eq(BN_bn2binpad(p, y, 256), 256);	/* p */
		cr_assert_eq(ike_kex_derive(a, y, 256, s, 256), -1, "y = p");
		cr_assert(BN_sub_word(p, 1));			/* p - 1 */
		cr_assert_eq(BN_bn2binpad(p, y, 256), 256);
		cr_assert_eq(ike_kex_derive(a, y, 256, s, 256), -1,
		    "y = p - 1");
		BN_free(p);
	}
	for (i = 0; i < sizeof(y); i++)
		cr_assert_eq(s[i], 0, "secret cleansed on failure");
	ike_kex_free(a);
}

Test(crypto_dh, rejects_the_all_zero_x25519_result, .timeout = 10)
{
	struct ike_kex *a = ike_kex_new(IKE_DH_CURVE25519, 0);
	uint8_t zero[32] = { 0 }, s[32];

	cr_assert_eq(ike_kex_derive(a, zero, 32, s, 32), -1);
	ike_kex_free(a);
}

Test(crypto_dh, frees_null, .timeout = 10)
{
	ike_kex_free(NULL);
}

/*
 * Groups 2 and 5 (RFC 2409 §6.2, RFC 3526 §2) with the opt-in: the range
 * check runs against the RFC primes, as for the other MODP groups.
 */
Test(crypto_dh, checks_weak_group_values_against_the_rfc_primes,
    .timeout = 10)
{
	static const struct {
		enum ike_dh	 g;
		BIGNUM		*(*prime)(BIGNUM *);
		size_t		 len;
	} w[] = {
		{ IKE_DH_MODP1024, BN_get_rfc2409_prime_1024, 128 },
		{ IKE_DH_MODP1536, BN_get_rfc3526_prime_1536, 192 },
	};
	uint8_t y[192], s[192];

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct ike_kex *a = ike_kex_new(w[i].g, IKE_KEX_ALLOW_WEAK);
		BIGNUM *p = w[i].prime(NULL);
		size_t n = w[i].len;

		cr_assert(a != NULL && p != NULL, "group %d", w[i].g);
		cr_assert_eq(ike_kex_pub_len(w[i].g), n);
		cr_assert_eq(ike_kex_public(a, y, n), 0);
		cr_assert_eq(BN_bn2binpad(p, y, (int)n), (int)n);
		cr_assert_eq(ike_kex_derive(a, y, n, s, n), -1, "y = p");
		cr_assert(BN_sub_word(p, 1));
		cr_assert_eq(BN_bn2binpad(p, y, (int)n), (int)n);
		cr_assert_eq(ike_kex_derive(a, y, n, s, n), -1, "y = p - 1");
		memset(y, 0, n);
		y[n - 1] = 1;
		cr_assert_eq(ike_kex_derive(a, y, n, s, n), -1, "y = 1");
		/* g = 2 itself is a good value. */
		y[n - 1] = 2;
		cr_assert_eq(ike_kex_derive(a, y, n, s, n), 0, "y = 2");
		BN_free(p);
		ike_kex_free(a);
	}
}
