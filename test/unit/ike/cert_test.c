/*
 * ike/cert.c: the signature scheme the responder answers with, from its
 * key and the peer's SIGNATURE_HASH_ALGORITHMS.  Run from the repository
 * root (keys in fixtures/).
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "ike/cert.h"

#define FIX "test/unit/ike/fixtures/"
#define H(id) (1u << (id))

Test(ike_cert, picks_the_signature_scheme, .timeout = 10)
{
	EVP_PKEY *ec = ike_auth_key_load(FIX "ecp256.pem", true);
	EVP_PKEY *ed = ike_auth_key_load(FIX "ed25519.pem", true);
	enum ike_sig s;

	cr_assert(ec != NULL && ed != NULL);
	cr_assert(ike_cert_sig_pick(ec, true, H(IKE_HASH_SHA2_256) |
	    H(IKE_HASH_SHA2_384), &s));
	cr_assert_eq(s, IKE_SIG_ECDSA_SHA256);
	cr_assert(ike_cert_sig_pick(ec, true, H(IKE_HASH_SHA2_512), &s));
	cr_assert_eq(s, IKE_SIG_ECDSA_SHA512);
	/* No notify: only RSA has a legacy method we sign with. */
	cr_assert_not(ike_cert_sig_pick(ec, false, 0, &s));
	cr_assert_not(ike_cert_sig_pick(ec, true, H(IKE_HASH_SHA1), &s));
	cr_assert(ike_cert_sig_pick(ed, true, H(IKE_HASH_IDENTITY), &s));
	cr_assert_eq(s, IKE_SIG_ED25519);
	cr_assert_not(ike_cert_sig_pick(ed, true, H(IKE_HASH_SHA2_256), &s));
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
}
