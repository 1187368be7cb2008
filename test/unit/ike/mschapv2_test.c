/*
 * Known-answer tests for ike/mschapv2.c: the worked example of RFC 2759
 * §9.2 (user "User", password "clientPass") and the 128-bit key example
 * of RFC 3079 §3.5.3, which continues it.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "ike/mschapv2.h"

static void
fini(void)
{
	ike_mschapv2_cleanup();
}

TestSuite(mschapv2, .fini = fini);

/* RFC 2759 §9.2. */
static const uint8_t user[] = "User";
static const uint8_t pw[] = "clientPass";
static const uint8_t auth_chal[16] = {
	0x5b, 0x5d, 0x7c, 0x7d, 0x7b, 0x3f, 0x2f, 0x3e,
	0x3c, 0x2c, 0x60, 0x21, 0x32, 0x26, 0x26, 0x28
};
static const uint8_t peer_chal[16] = {
	0x21, 0x40, 0x23, 0x24, 0x25, 0x5e, 0x26, 0x2a,
	0x28, 0x29, 0x5f, 0x2b, 0x3a, 0x33, 0x7c, 0x7e
};
static const uint8_t want_chash[8] = {
	0xd0, 0x2e, 0x43, 0x86, 0xbc, 0xe9, 0x12, 0x26
};
static const uint8_t want_nthash[16] = {
	0x44, 0xeb, 0xba, 0x8d, 0x53, 0x12, 0xb8, 0xd6,
	0x11, 0x47, 0x44, 0x11, 0xf5, 0x69, 0x89, 0xae
};
static const uint8_t want_ntresp[24] = {
	0x82, 0x30, 0x9e, 0xcd, 0x8d, 0x70, 0x8b, 0x5e,
	0xa0, 0x8f, 0xaa, 0x39, 0x81, 0xcd, 0x83, 0x54,
	0x42, 0x33, 0x11, 0x4a, 0x3d, 0x85, 0xd6, 0xdf
};
static const uint8_t want_hh[16] = {
	0x41, 0xc0, 0x0c, 0x58, 0x4b, 0xd2, 0xd9, 0x1c,
	0x40, 0x17, 0xa2, 0xa1, 0x2f, 0xa5, 0x9f, 0x3f
};
static const char want_sresp[] = "S=407A5589115FD0D6209F510FE9C04566932CDA56";
/* RFC 3079 §3.5.3. */
static const uint8_t want_master[16] = {
	0xfd, 0xec, 0xe3, 0x71, 0x7a, 0x8c, 0x83, 0x8c,
	0xb3, 0x88, 0xe5, 0x27, 0xae, 0x3c, 0xdd, 0x31
};
static const uint8_t want_send128[16] = {
	0x8b, 0x7c, 0xdc, 0x14, 0x9b, 0x99, 0x3a, 0x1b,
	0xa1, 0x18, 0xcb, 0x15, 0x3f, 0x56, 0xdc, 0xcb
};

Test(mschapv2, rfc2759_worked_example)
{
	uint8_t h[16], hh[16], ch[8], nt[24];
	char s[IKE_MSCHAPV2_AUTH_RESP_LEN];

	cr_assert_eq(ike_mschapv2_nt_hash(pw, sizeof(pw) - 1, h), 0);
	cr_assert_arr_eq(h, want_nthash, 16);
	cr_assert_eq(ike_mschapv2_hash_hash(h, hh), 0);
	cr_assert_arr_eq(hh, want_hh, 16);
	cr_assert_eq(ike_mschapv2_challenge_hash(peer_chal, auth_chal, user,
	    sizeof(user) - 1, ch), 0);
	cr_assert_arr_eq(ch, want_chash, 8);
	cr_assert_eq(ike_mschapv2_nt_response(auth_chal, peer_chal, user,
	    sizeof(user) - 1, h, nt), 0);
	cr_assert_arr_eq(nt, want_ntresp, 24);
	cr_assert_eq(ike_mschapv2_auth_response(h, nt, peer_chal, auth_chal,
	    user, sizeof(user) - 1, s), 0);
	cr_assert_eq(memcmp(s, want_sresp, sizeof(s)), 0, "got %.42s", s);
}

/* §8.2: a "DOMAIN\" in front of the user name is not hashed. */
Test(mschapv2, domain_is_stripped)
{
	static const uint8_t du[] = "EXAMPLE\\User";
	uint8_t ch[8];

	cr_assert_eq(ike_mschapv2_challenge_hash(peer_chal, auth_chal, du,
	    sizeof(du) - 1, ch), 0);
	cr_assert_arr_eq(ch, want_chash, 8);
}

Test(mschapv2, rfc3079_128bit_keys)
{
	uint8_t mk[16], k[16], k2[16], msk[64], zero[32];

	cr_assert_eq(ike_mschapv2_master_key(want_hh, want_ntresp, mk), 0);
	cr_assert_arr_eq(mk, want_master, 16);
	/* §3.5.3 derives the server's send key (IsSend, IsServer TRUE). */
	cr_assert_eq(ike_mschapv2_start_key(mk, true, true, k), 0);
	cr_assert_arr_eq(k, want_send128, 16);
	/* The server's send key is the client's receive key. */
	cr_assert_eq(ike_mschapv2_start_key(mk, false, false, k2), 0);
	cr_assert_arr_eq(k2, want_send128, 16);
	cr_assert_eq(ike_mschapv2_start_key(mk, false, true, k2), 0);
	cr_assert_arr_neq(k2, want_send128, 16);
	/* MSK = MasterReceiveKey | MasterSendKey | 32 zeros (server). */
	cr_assert_eq(ike_mschapv2_msk(want_nthash, want_ntresp, msk), 0);
	cr_assert_arr_eq(msk, k2, 16);
	cr_assert_arr_eq(msk + 16, want_send128, 16);
	memset(zero, 0, sizeof(zero));
	cr_assert_arr_eq(msk + 32, zero, 32);
}

Test(mschapv2, utf16_passwords)
{
	/* "ä" is U+00E4: one code unit, e4 00; U+1F511 a surrogate pair. */
	static const uint8_t a_uml[] = { 0xc3, 0xa4 };
	static const uint8_t bad[] = { 0xc3 };
	static const uint8_t overlong[] = { 0xc0, 0x80 };
	static const uint8_t key[] = { 0xf0, 0x9f, 0x94, 0x91 };
	uint8_t h[16], long_pw[IKE_MSCHAPV2_PASSWORD_MAX + 1];

	cr_assert_eq(ike_mschapv2_nt_hash(a_uml, sizeof(a_uml), h), 0);
	cr_assert_eq(ike_mschapv2_nt_hash(key, sizeof(key), h), 0);
	cr_assert_eq(ike_mschapv2_nt_hash(bad, sizeof(bad), h), -1);
	cr_assert_eq(ike_mschapv2_nt_hash(overlong, sizeof(overlong), h), -1);
	memset(long_pw, 'a', sizeof(long_pw));
	cr_assert_eq(ike_mschapv2_nt_hash(long_pw, sizeof(long_pw) - 1, h), 0);
	cr_assert_eq(ike_mschapv2_nt_hash(long_pw, sizeof(long_pw), h), -1);
}
