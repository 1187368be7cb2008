/*
 * MS-CHAPv2 (RFC 2759) for the authenticator side of EAP-MSCHAPv2, and
 * its keys (RFC 3079 §3).  Pure functions over caller buffers.
 *
 *   NtPasswordHash        = MD4(password as UTF-16LE)          (§8.3)
 *   ChallengeHash         = SHA1(PeerChallenge | AuthenticatorChallenge
 *                                | UserName)[0..8)             (§8.2)
 *   NT-Response           = DES(ChallengeHash) under the NT hash
 *                           split into three 7-octet keys      (§8.5)
 *   AuthenticatorResponse = "S=" + 40 upper-case hex digits    (§8.7)
 *   MasterKey, start keys  RFC 3079 §3.4 (GetMasterKey,
 *                           GetAsymmetricStartKey)
 *
 * MD4 and single DES live in OpenSSL 3's legacy provider only.  They are
 * fetched from a library context of our own with the legacy provider
 * loaded (ike_mschapv2_init()), so that the process's default context
 * never offers them to anything else (TLS, IKE proposals).  The provider
 * is a shared object: ike_mschapv2_init() is called at start, before
 * privileges are dropped, when a section uses EAP-MSCHAPv2.
 */
#ifndef IKETCP_IKE_MSCHAPV2_H
#define IKETCP_IKE_MSCHAPV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	IKE_MSCHAPV2_CHALLENGE_LEN	= 16,	/* either challenge */
	IKE_MSCHAPV2_NT_RESPONSE_LEN	= 24,
	IKE_MSCHAPV2_HASH_LEN		= 16,	/* NT hash, its hash, keys */
	IKE_MSCHAPV2_AUTH_RESP_LEN	= 42,	/* "S=" and 40 hex digits */
	IKE_MSCHAPV2_MSK_LEN		= 64,
	IKE_MSCHAPV2_PASSWORD_MAX	= 256,	/* UTF-16 code units (§8.3) */
	IKE_MSCHAPV2_USER_MAX		= 256	/* user name, octets */
};

/*
 * Loads the legacy provider into our private library context and checks
 * that MD4 and DES-ECB can be fetched; 0, or -1 (*why says what is
 * missing).  Safe to call again: the second call does nothing.
 */
int	ike_mschapv2_init(const char **why);
/* Frees the library context (tests, shutdown). */
void	ike_mschapv2_cleanup(void);

/*
 * NtPasswordHash of a UTF-8 password of @len octets; -1 when it is not
 * valid UTF-8 or longer than IKE_MSCHAPV2_PASSWORD_MAX code units.
 */
int	ike_mschapv2_nt_hash(const uint8_t *pw, size_t len,
	    uint8_t out[static IKE_MSCHAPV2_HASH_LEN]);
/* HashNtPasswordHash: MD4 of the NT hash. */
int	ike_mschapv2_hash_hash(const uint8_t nt_hash[static
	    IKE_MSCHAPV2_HASH_LEN], uint8_t out[static IKE_MSCHAPV2_HASH_LEN]);
/* ChallengeHash over the user name without its domain (§8.2). */
int	ike_mschapv2_challenge_hash(const uint8_t peer[static
	    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t auth[static
	    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t *user, size_t user_len,
	    uint8_t out[static 8]);
/* GenerateNTResponse from the NT hash. */
int	ike_mschapv2_nt_response(const uint8_t auth[static
	    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t peer[static
	    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t *user, size_t user_len,
	    const uint8_t nt_hash[static IKE_MSCHAPV2_HASH_LEN],
	    uint8_t out[static IKE_MSCHAPV2_NT_RESPONSE_LEN]);
/* GenerateAuthenticatorResponse: "S=..." (42 characters, no NUL). */
int	ike_mschapv2_auth_response(const uint8_t nt_hash[static
	    IKE_MSCHAPV2_HASH_LEN], const uint8_t nt_resp[static
	    IKE_MSCHAPV2_NT_RESPONSE_LEN], const uint8_t peer[static
	    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t auth[static
	    IKE_MSCHAPV2_CHALLENGE_LEN], const uint8_t *user, size_t user_len,
	    char out[static IKE_MSCHAPV2_AUTH_RESP_LEN]);
/* RFC 3079 §3.4 GetMasterKey. */
int	ike_mschapv2_master_key(const uint8_t hash_hash[static
	    IKE_MSCHAPV2_HASH_LEN], const uint8_t nt_resp[static
	    IKE_MSCHAPV2_NT_RESPONSE_LEN],
	    uint8_t out[static IKE_MSCHAPV2_HASH_LEN]);
/* RFC 3079 §3.4 GetAsymmetricStartKey, 16 octets (128-bit keys). */
int	ike_mschapv2_start_key(const uint8_t master[static
	    IKE_MSCHAPV2_HASH_LEN], bool is_send, bool is_server,
	    uint8_t out[static IKE_MSCHAPV2_HASH_LEN]);
/*
 * The EAP-MSCHAPv2 MSK (64 octets): MasterReceiveKey | MasterSendKey of
 * the authenticator, then 32 zero octets -- the order Windows and
 * strongSwan use (the peer computes the same octets: its send key is
 * the authenticator's receive key).
 */
int	ike_mschapv2_msk(const uint8_t nt_hash[static IKE_MSCHAPV2_HASH_LEN],
	    const uint8_t nt_resp[static IKE_MSCHAPV2_NT_RESPONSE_LEN],
	    uint8_t out[static IKE_MSCHAPV2_MSK_LEN]);

#endif /* IKETCP_IKE_MSCHAPV2_H */
