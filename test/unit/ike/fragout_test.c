/*
 * ike/fragout.c: RFC 7383 §2.5 fragments of what we send.  Every set
 * made here is checked the way a peer takes it: each fragment parses as
 * an IKE message with one SKF payload, fits the limit, carries the
 * message's header, its number and the total; it decrypts on its own
 * with ike/sk.c (the receiving direction's keys) and the decrypted
 * parts reassemble with ike/frag.c into the original inner chain, whose
 * first payload type only fragment 1 names.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/codec.h"
#include "ike/crypto.h"
#include "ike/frag.h"
#include "ike/fragout.h"
#include "ike/ikev2.h"
#include "ike/sk.h"

TestSuite(fragout, .timeout = 30);

struct xform {
	enum ike_encr	encr;
	unsigned	bits;
	enum ike_integ	integ;
};

/* CBC with the shortest and the longest ICV, and the AEADs. */
static const struct xform xforms[] = {
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96 },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256 },
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
	    al), 0);
}

static void
hdr_for(struct ike_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = 0x0102030405060708ULL;
	h->spi_r = 0x1112131415161718ULL;
	h->exchange = IKE_EXCH_IKE_AUTH;
	h->flags = IKE_FLAG_RESPONSE;
	h->msgid = 1;
}

/*
 * Checks @f as a peer would and returns how many fragments it had.
 * @rx: the receiving side's keys; @inner/@len/@first: the original.
 */
static unsigned
check_set(const struct ike_frags *f, struct ike_sk *rx, size_t max,
    const uint8_t *inner, size_t len, uint8_t first)
{
	struct ike_reasm r;
	struct ike_msg *m = malloc(sizeof(*m));
	uint8_t plain[IKE_FRAGS_BYTES], *whole = malloc(IKE_REASM_BYTES);
	const uint8_t *p;
	size_t off = 0, fl, pl, wl;
	enum ike_frag_result res = IKE_FRAG_MORE;
	unsigned k = 0;
	uint8_t got_first;

	cr_assert_not_null(m);
	cr_assert_not_null(whole);
	ike_reasm_init(&r, IKE_REASM_BYTES, IKE_REASM_TIMEOUT_MS);
	while (ike_frags_next(f, &off, &p, &fl)) {
		k++;
		cr_assert_leq(fl, max, "fragment %u: %zu octets > %zu", k, fl,
		    max);
		cr_assert_eq(ike_msg_parse(p, fl, m), IKE_PARSE_OK,
		    "fragment %u does not parse", k);
		cr_assert_eq(m->pl.have, IKE_HAVE_SKF, "fragment %u", k);
		cr_assert_eq(m->hdr.spi_i, 0x0102030405060708ULL);
		cr_assert_eq(m->hdr.spi_r, 0x1112131415161718ULL);
		cr_assert_eq(m->hdr.exchange, IKE_EXCH_IKE_AUTH);
		cr_assert_eq(m->hdr.flags, IKE_FLAG_RESPONSE);
		cr_assert_eq(m->hdr.msgid, 1);
		cr_assert_eq(m->hdr.next, IKE_PL_SKF);
		cr_assert_eq(m->pl.sk.frag_num, k);
		cr_assert_eq(m->pl.sk.frag_total, f->n);
		/* §2.5: only fragment 1 names the first inner payload. */
		cr_assert_eq(m->pl.sk.inner, k == 1 ? first : 0,
		    "fragment %u next payload %u", k, m->pl.sk.inner);
		cr_assert_eq(ike_sk_unprotect(rx, p, m->pl.sk.hdr_off +
		    IKE_GENHDR_LEN + 4, fl, plain, sizeof(plain), &pl), 0,
		    "fragment %u does not decrypt on its own", k);
		/* Every fragment but the last is filled to the limit, up
		 * to one cipher block (as few fragments as it allows). */
		if (k < f->n)
			cr_assert_gt(fl, max - 16, "fragment %u: %zu octets "
			    "of %zu", k, fl, max);
		cr_assert_eq(res, IKE_FRAG_MORE);
		res = ike_reasm_add(&r, 0, 1, m->pl.sk.frag_num,
		    m->pl.sk.frag_total, m->pl.sk.inner, plain, pl);
	}
	cr_assert_eq(off, f->len, "the set ends with its last fragment");
	cr_assert_eq(k, f->n);
	cr_assert_eq(res, IKE_FRAG_COMPLETE);
	cr_assert_eq(ike_reasm_take(&r, 1, whole, IKE_REASM_BYTES, &wl,
	    &got_first), 0);
	cr_assert_eq(wl, len);
	cr_assert_eq(memcmp(whole, inner, len), 0, "reassembled differs");
	cr_assert_eq(got_first, first);
	ike_reasm_cleanup(&r);
	free(whole);
	free(m);
	return k;
}

Test(fragout, splits_decrypts_and_reassembles_for_every_transform)
{
	static const size_t lens[] = { 600, 1500, 3000, 4096, 6000 };
	static const size_t maxes[] = { 524, 1228, 1400 };
	static uint8_t inner[6000];
	struct ike_hdr h;

	for (size_t i = 0; i < sizeof(inner); i++)
		inner[i] = (uint8_t)(i * 7 + 3);
	hdr_for(&h);
	for (size_t x = 0; x < sizeof(xforms) / sizeof(xforms[0]); x++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (size_t mx = 0; mx < 3; mx++) {
				struct ike_sk tx, rx;
				struct ike_frags f;
				unsigned n;

				sk_for(&xforms[x], &tx);
				sk_for(&xforms[x], &rx);
				cr_assert_eq(ike_frags_make(&tx, &h,
				    IKE_PL_IDR, inner, lens[l], maxes[mx],
				    &f), 0, "xform %zu len %zu max %zu", x,
				    lens[l], maxes[mx]);
				n = check_set(&f, &rx, maxes[mx], inner,
				    lens[l], IKE_PL_IDR);
				cr_assert_geq(n, 1);
				ike_frags_free(&f);
				cr_assert_null(f.buf);
				cr_assert_eq(f.n, 0);
				ike_sk_cleanup(&tx);
				ike_sk_cleanup(&rx);
			}
}

Test(fragout, fills_each_fragment_but_the_last_to_the_limit)
{
	static uint8_t inner[3000];
	struct ike_sk tx, rx;
	struct ike_frags f;
	struct ike_hdr h;
	const uint8_t *p;
	size_t off = 0, fl, max = 1228;
	unsigned k = 0;

	hdr_for(&h);
	/* AES-GCM: IV 8, ICV 16, Pad Length 1, no padding: every full
	 * fragment is exactly max, carrying max - 36 - 25 octets. */
	sk_for(&xforms[2], &tx);
	sk_for(&xforms[2], &rx);
	cr_assert_eq(ike_frags_make(&tx, &h, IKE_PL_IDR, inner,
	    sizeof(inner), max, &f), 0);
	cr_assert_eq(f.n, 3);	/* 1167 + 1167 + 666 */
	while (ike_frags_next(&f, &off, &p, &fl)) {
		k++;
		cr_assert_eq(fl, k < 3 ? max : 36 + 8 + 666 + 1 + 16,
		    "fragment %u: %zu octets", k, fl);
	}
	(void)check_set(&f, &rx, max, inner, sizeof(inner), IKE_PL_IDR);
	ike_frags_free(&f);
	ike_sk_cleanup(&tx);
	ike_sk_cleanup(&rx);
}

Test(fragout, numbers_cbc_fragments_on_block_boundaries)
{
	static uint8_t inner[2000];
	struct ike_sk tx, rx;
	struct ike_frags f;
	struct ike_hdr h;
	const uint8_t *p;
	size_t off = 0, fl, max = 600;

	hdr_for(&h);
	/* CBC, HMAC-SHA1-96: IV 16, ICV 12; 600 - 36 - 16 - 12 = 536 of
	 * ciphertext -> 33 blocks (528), 527 of plaintext a fragment. */
	sk_for(&xforms[0], &tx);
	sk_for(&xforms[0], &rx);
	cr_assert_eq(ike_frags_make(&tx, &h, IKE_PL_CERT, inner,
	    sizeof(inner), max, &f), 0);
	cr_assert_eq(f.n, 4);	/* 527 * 3 + 419 */
	while (ike_frags_next(&f, &off, &p, &fl))
		cr_assert_eq((fl - 36 - 16 - 12) % 16, 0);
	(void)check_set(&f, &rx, max, inner, sizeof(inner), IKE_PL_CERT);
	ike_frags_free(&f);
	ike_sk_cleanup(&tx);
	ike_sk_cleanup(&rx);
}

Test(fragout, gives_each_aead_fragment_its_own_iv)
{
	static uint8_t inner[3000];
	struct ike_sk tx;
	struct ike_frags f;
	struct ike_hdr h;
	const uint8_t *p, *iv[8];
	size_t off = 0, fl;
	unsigned k = 0;

	hdr_for(&h);
	sk_for(&xforms[2], &tx);
	cr_assert_eq(ike_frags_make(&tx, &h, IKE_PL_IDR, inner,
	    sizeof(inner), 700, &f), 0);
	while (ike_frags_next(&f, &off, &p, &fl) && k < 8)
		iv[k++] = p + 36;
	cr_assert_eq(k, f.n);
	for (unsigned a = 0; a < k; a++)
		for (unsigned b = a + 1; b < k; b++)
			cr_assert_neq(memcmp(iv[a], iv[b], 8), 0,
			    "fragments %u and %u share an IV", a + 1, b + 1);
	/* The counter moved on by one a fragment. */
	cr_assert_eq(tx.iv_next, f.n);
	ike_frags_free(&f);
	ike_sk_cleanup(&tx);
}

Test(fragout, refuses_what_does_not_fit)
{
	static uint8_t inner[8192];
	struct ike_sk tx;
	struct ike_frags f;
	struct ike_hdr h;

	hdr_for(&h);
	sk_for(&xforms[1], &tx);	/* CBC, ICV 32: 84 octets of headers */
	/* No room for one octet of plaintext. */
	cr_assert_eq(ike_frags_make(&tx, &h, IKE_PL_IDR, inner, 100,
	    IKE_SKF_HDR_LEN + 16 + 16 + 32 - 1, &f), -1);
	cr_assert_null(f.buf);
	cr_assert_eq(ike_frags_make(&tx, &h, IKE_PL_IDR, inner, 100, 0, &f),
	    -1);
	/* More than IKE_FRAG_MAX fragments: 8192 / 15 per fragment. */
	cr_assert_eq(ike_frags_make(&tx, &h, IKE_PL_IDR, inner,
	    sizeof(inner), IKE_SKF_HDR_LEN + 16 + 16 + 32, &f), -1);
	cr_assert_null(f.buf);
	cr_assert_eq(f.n, 0);
	/* Nothing to split. */
	cr_assert_eq(ike_frags_make(&tx, &h, IKE_PL_IDR, inner, 0, 1228,
	    &f), -1);
	ike_frags_free(&f);	/* empty: a no-op */
	ike_sk_cleanup(&tx);
}

Test(fragout, walks_nothing_in_an_empty_set)
{
	struct ike_frags f;
	const uint8_t *p;
	size_t off = 0, len;

	memset(&f, 0, sizeof(f));
	cr_assert_not(ike_frags_next(&f, &off, &p, &len));
}
