/*
 * IKEv2 key schedule (RFC 7296 §2.14, §2.17, §2.18).
 *
 *   SKEYSEED = prf(Ni | Nr, g^ir)                       (new IKE SA)
 *   SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)    (IKE SA rekey; the
 *              old SA's PRF, "the rekeying exchange belongs to the old SA")
 *   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 *            = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
 *   KEYMAT   = prf+(SK_d, [g^ir (new) |] Ni | Nr)       (Child SA)
 *
 * For AES-XCBC/CMAC PRFs only the first 64 bits of Ni and of Nr key the
 * SKEYSEED prf (§2.14); prf+ gets them whole.  AEAD keys carry their 4-octet
 * salt at the end (RFC 5282 §7.1, RFC 4106 §8.1, RFC 7634 §3/§4).
 * SKEYSEED never leaves this file except through ike_skeyseed(), whose
 * caller cleanses it.  struct ike_keys and struct ike_child_keys hold
 * secrets: cleanse them with ike_keys_cleanse() / ike_child_keys_cleanse().
 */
#ifndef IKETCP_IKE_KEYS_H
#define IKETCP_IKE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/crypto.h"

/* A negotiated IKE SA (or Child SA) suite. */
struct ike_suite {
	enum ike_encr	encr;
	unsigned	encr_bits;	/* Key Length attribute; 0 if none */
	enum ike_prf	prf;		/* unused for a Child SA */
	enum ike_integ	integ;		/* IKE_INTEG_NONE with AEAD */
	enum ike_dh	dh;
};

struct ike_keys {
	size_t	prf_len;		/* SK_d, SK_pi, SK_pr */
	size_t	integ_len;		/* SK_ai, SK_ar; 0 with AEAD */
	size_t	encr_len;		/* SK_ei, SK_er, salt included */
	uint8_t	sk_d[IKE_PRF_OUT_MAX];
	uint8_t	sk_ai[IKE_INTEG_KEY_MAX];
	uint8_t	sk_ar[IKE_INTEG_KEY_MAX];
	uint8_t	sk_ei[IKE_ENCR_KEY_MAX];
	uint8_t	sk_er[IKE_ENCR_KEY_MAX];
	uint8_t	sk_pi[IKE_PRF_OUT_MAX];
	uint8_t	sk_pr[IKE_PRF_OUT_MAX];
};

/* Child SA keys in the order of RFC 7296 §2.17. */
struct ike_child_keys {
	size_t	encr_len;		/* salt included for AEAD */
	size_t	integ_len;		/* 0 with AEAD */
	uint8_t	ei[IKE_ENCR_KEY_MAX];	/* initiator to responder */
	uint8_t	ai[IKE_INTEG_KEY_MAX];
	uint8_t	er[IKE_ENCR_KEY_MAX];	/* responder to initiator */
	uint8_t	ar[IKE_INTEG_KEY_MAX];
};

/*
 * True when the transforms are supported and consistent: an AEAD cipher
 * without integrity, any other cipher with one.  @child skips the PRF.
 */
bool	ike_suite_valid(const struct ike_suite *s, bool child);

/* out (ike_prf_len(prf) octets) = SKEYSEED for a new IKE SA. */
int	ike_skeyseed(enum ike_prf prf, const uint8_t *ni, size_t ni_len,
	    const uint8_t *nr, size_t nr_len, const uint8_t *gir,
	    size_t gir_len, uint8_t *out);
/* out (ike_prf_len(old_prf) octets) = SKEYSEED for a rekeyed IKE SA. */
int	ike_skeyseed_rekey(enum ike_prf old_prf, const uint8_t *old_sk_d,
	    size_t old_sk_d_len, const uint8_t *gir, size_t gir_len,
	    const uint8_t *ni, size_t ni_len, const uint8_t *nr,
	    size_t nr_len, uint8_t *out);
/* The seven SK_* keys of @s from SKEYSEED. Cleanses @keys on failure. */
int	ike_keys_derive(const struct ike_suite *s, const uint8_t *skeyseed,
	    size_t skeyseed_len, const uint8_t *ni, size_t ni_len,
	    const uint8_t *nr, size_t nr_len,
	    const uint8_t spii[static IKE_SPI_LEN],
	    const uint8_t spir[static IKE_SPI_LEN], struct ike_keys *keys);
/* ike_skeyseed() + ike_keys_derive() for IKE_SA_INIT. */
int	ike_keys_new_sa(const struct ike_suite *s, const uint8_t *ni,
	    size_t ni_len, const uint8_t *nr, size_t nr_len,
	    const uint8_t *gir, size_t gir_len,
	    const uint8_t spii[static IKE_SPI_LEN],
	    const uint8_t spir[static IKE_SPI_LEN], struct ike_keys *keys);
/*
 * ike_skeyseed_rekey() + ike_keys_derive() for a CREATE_CHILD_SA that
 * rekeys the IKE SA: @s is the new SA's suite, the SPIs the new ones.
 */
int	ike_keys_rekey_sa(const struct ike_suite *s, enum ike_prf old_prf,
	    const uint8_t *old_sk_d, size_t old_sk_d_len, const uint8_t *gir,
	    size_t gir_len, const uint8_t *ni, size_t ni_len,
	    const uint8_t *nr, size_t nr_len,
	    const uint8_t spii[static IKE_SPI_LEN],
	    const uint8_t spir[static IKE_SPI_LEN], struct ike_keys *keys);
void	ike_keys_cleanse(struct ike_keys *keys);

/*
 * Child SA keys for @child (encr, encr_bits, integ) from the IKE SA's
 * @prf and SK_d; @gir NULL (length 0) without PFS.
 */
int	ike_child_keys_derive(enum ike_prf prf, const uint8_t *sk_d,
	    size_t sk_d_len, const struct ike_suite *child,
	    const uint8_t *gir, size_t gir_len, const uint8_t *ni,
	    size_t ni_len, const uint8_t *nr, size_t nr_len,
	    struct ike_child_keys *keys);
void	ike_child_keys_cleanse(struct ike_child_keys *keys);

#endif /* IKETCP_IKE_KEYS_H */
