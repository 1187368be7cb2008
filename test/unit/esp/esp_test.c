/*
 * esp/esp.c and esp/sa.c: round trips for every transform (with and
 * without ESN, IPv4 and IPv6 inner packets), one test per rejection rule
 * of esp_decap(), sequence-number exhaustion, SA parameter checks.
 *
 * Packets with a valid ICV but bad contents are sealed by seal_gcm()
 * below, straight through EVP, not through esp_encap().
 */
#include <signal.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "esp/esp.h"
#include "esp/sa.h"
#include "framing/wire.h"
#include "test/unit/esp/helpers.h"

TestSuite(esp, .timeout = 30);

enum { BUF = 4096 };

static void
round_trip(const struct xform *x, bool esn, bool v6, uint64_t start)
{
	struct esp_sa *out, *in;
	uint8_t inner[BUF], pkt[BUF], plain[BUF];
	struct esp_rx rx;
	struct wr w;
	size_t len, n;
	int i;

	sa_pair(x, esn, 0, &out, &in);
	out->seq = start;
	in->replay.top = start;
	for (i = 0; i < 40; i++) {
		n = (size_t)i * 37;
		len = v6 ? ipv6_udp(inner, client6, 4500, n) :
		    ipv4_udp(inner, client4, 4500, n);
		w = wr_make(pkt, sizeof(pkt));
		cr_assert_eq(esp_encap(out, inner, len, &w), ESP_ENCAP_OK,
		    "%s esn %d v6 %d #%d", x->name, esn, v6, i);
		cr_assert_eq(w.len, esp_encap_len(out, len));
		cr_assert_eq(load_be32(pkt), 0xc0de0001);
		cr_assert_eq(load_be32(pkt + 4), (uint32_t)(start + 1 + i));
		cr_assert_eq(esp_decap(in, pkt, w.len, plain, sizeof(plain),
		    &rx), ESP_OK, "%s esn %d v6 %d #%d: %s", x->name, esn, v6,
		    i, esp_result_name(esp_decap(in, pkt, w.len, plain,
		    sizeof(plain), &rx)));
		cr_assert_eq(rx.len, len);
		cr_assert_eq(rx.next_header, v6 ? ESP_NH_IPV6 : ESP_NH_IPV4);
		cr_assert_eq(rx.seq, start + 1 + i);
		cr_assert_arr_eq(rx.inner, inner, len);
	}
	cr_assert_eq(in->packets, 40);
	esp_sa_free(out);
	esp_sa_free(in);
}

Test(esp, round_trips_every_transform_ipv4_and_ipv6_with_and_without_esn)
{
	size_t i;

	for (i = 0; i < NXFORMS; i++) {
		round_trip(&xforms[i], false, false, 0);
		round_trip(&xforms[i], false, true, 0);
		round_trip(&xforms[i], true, false, 0);
		round_trip(&xforms[i], true, true, 0);
	}
}

Test(esp, round_trips_across_the_esn_wrap_of_the_low_32_bits)
{
	size_t i;

	/*
	 * Sequence numbers 0xffffffec .. 0x100000013; the ICV covers the
	 * high half, so a wrong guess would fail.
	 */
	for (i = 0; i < NXFORMS; i++)
		round_trip(&xforms[i], true, i % 2, 0xffffffebULL);
}

Test(esp, pads_to_four_octets_for_aead_and_sixteen_for_cbc)
{
	struct esp_sa *out, *in;
	size_t len;

	sa_pair(&xforms[0], false, 0, &out, &in);
	for (len = 20; len < 60; len++)
		cr_assert_eq((esp_encap_len(out, len) - 8 - 8 - 16) % 4, 0);
	cr_assert_eq(esp_encap_len(out, 22), 8 + 8 + 24 + 16);
	esp_sa_free(out);
	esp_sa_free(in);
	sa_pair(&xforms[4], false, 0, &out, &in);
	for (len = 20; len < 60; len++)
		cr_assert_eq((esp_encap_len(out, len) - 8 - 16 - 16) % 16, 0);
	cr_assert_eq(esp_encap_len(out, 30), 8 + 16 + 32 + 16);
	esp_sa_free(out);
	esp_sa_free(in);
}

/* Encapsulates one IPv4 packet from 10.0.0.2 with @out. */
static size_t
one_packet(struct esp_sa *out, uint8_t *pkt)
{
	uint8_t inner[256];
	size_t len = ipv4_udp(inner, client4, 1000, 50);
	struct wr w = wr_make(pkt, BUF);

	cr_assert_eq(esp_encap(out, inner, len, &w), ESP_ENCAP_OK);
	return w.len;
}

Test(esp, drops_a_packet_whose_icv_does_not_verify)
{
	struct esp_sa *out, *in;
	uint8_t pkt[BUF], plain[BUF];
	struct esp_rx rx;
	size_t i, n, at[3];
	int k;

	for (i = 0; i < NXFORMS; i++) {
		sa_pair(&xforms[i], i % 2, 0, &out, &in);
		n = one_packet(out, pkt);
		/* Flip a bit in the IV, the ciphertext, the ICV. */
		at[0] = 8;
		at[1] = n / 2;
		at[2] = n - 1;
		for (k = 0; k < 3; k++) {
			pkt[at[k]] ^= 0x01;
			memset(plain, 0xee, sizeof(plain));
			cr_assert_eq(esp_decap(in, pkt, n, plain, sizeof(plain),
			    &rx), ESP_DROP_AUTH, "%s byte %zu", xforms[i].name,
			    at[k]);
			cr_assert_eq(plain[0], 0, "plaintext not cleansed");
			pkt[at[k]] ^= 0x01;
		}
		/* The window was not moved by the forgeries. */
		cr_assert_eq(in->replay.top, 0);
		cr_assert_eq(in->drops[ESP_DROP_AUTH], 3);
		cr_assert_eq(esp_decap(in, pkt, n, plain, sizeof(plain), &rx),
		    ESP_OK, "%s", xforms[i].name);
		esp_sa_free(out);
		esp_sa_free(in);
	}
}

Test(esp, drops_a_replayed_packet)
{
	struct esp_sa *out, *in;
	uint8_t pkt[BUF], plain[BUF];
	struct esp_rx rx;
	size_t n;

	sa_pair(&xforms[2], false, 0, &out, &in);
	n = one_packet(out, pkt);
	cr_assert_eq(esp_decap(in, pkt, n, plain, sizeof(plain), &rx),
	    ESP_OK);
	cr_assert_eq(esp_decap(in, pkt, n, plain, sizeof(plain), &rx),
	    ESP_DROP_REPLAY);
	cr_assert_eq(in->drops[ESP_DROP_REPLAY], 1);
	esp_sa_free(out);
	esp_sa_free(in);
}

Test(esp, drops_a_packet_left_of_the_window)
{
	struct esp_sa *out, *in;
	uint8_t first[BUF], pkt[BUF], plain[BUF];
	struct esp_rx rx;
	size_t n1, n;
	int i;

	sa_pair(&xforms[3], false, 32, &out, &in);
	n1 = one_packet(out, first);
	for (i = 0; i < 32; i++)
		n = one_packet(out, pkt);
	/* Seq 33 arrives; window [2, 33]; seq 1 is too old. */
	cr_assert_eq(esp_decap(in, pkt, n, plain, sizeof(plain), &rx),
	    ESP_OK);
	cr_assert_eq(esp_decap(in, first, n1, plain, sizeof(plain), &rx),
	    ESP_DROP_OLD);
	esp_sa_free(out);
	esp_sa_free(in);
}

Test(esp, drops_truncated_and_unaligned_packets)
{
	struct esp_sa *out, *in;
	uint8_t pkt[BUF], plain[BUF];
	struct esp_rx rx;
	size_t i, n, cut;

	for (i = 0; i < NXFORMS; i++) {
		sa_pair(&xforms[i], false, 0, &out, &in);
		n = one_packet(out, pkt);
		for (cut = 0; cut < 8 + out->iv_len + out->block +
		    out->icv_len; cut++)
			cr_assert_eq(esp_decap(in, pkt, cut, plain,
			    sizeof(plain), &rx), ESP_DROP_MALFORMED,
			    "%s %zu", xforms[i].name, cut);
		/* One octet short: the ciphertext is no longer aligned. */
		cr_assert_eq(esp_decap(in, pkt, n - 1, plain, sizeof(plain),
		    &rx), ESP_DROP_MALFORMED, "%s", xforms[i].name);
		cr_assert_eq(in->replay.top, 0);
		esp_sa_free(out);
		esp_sa_free(in);
	}
}

Test(esp, drops_a_packet_for_another_spi)
{
	struct esp_sa *out, *in;
	uint8_t pkt[BUF], plain[BUF];
	struct esp_rx rx;
	size_t n;

	sa_pair(&xforms[0], false, 0, &out, &in);
	n = one_packet(out, pkt);
	pkt[3] ^= 0x80;
	cr_assert_eq(esp_decap(in, pkt, n, plain, sizeof(plain), &rx),
	    ESP_DROP_SPI);
	esp_sa_free(out);
	esp_sa_free(in);
}

Test(esp, drops_when_the_output_buffer_is_too_small)
{
	struct esp_sa *out, *in;
	uint8_t pkt[BUF], plain[BUF];
	struct esp_rx rx;
	size_t n;

	sa_pair(&xforms[0], false, 0, &out, &in);
	n = one_packet(out, pkt);
	cr_assert_eq(esp_decap(in, pkt, n, plain, n - 8 - 8 - 16 - 1, &rx),
	    ESP_DROP_NO_SPACE);
	cr_assert_eq(esp_decap(in, pkt, n, plain, n - 8 - 8 - 16, &rx),
	    ESP_OK);
	esp_sa_free(out);
	esp_sa_free(in);
}

/*
 * An AES-GCM-16-128 ESP packet around @plain (inner | padding | Pad
 * Length | Next Header, supplied whole), sealed independently of
 * esp_encap(): RFC 4106 nonce salt | IV, AAD SPI | Seq.
 */
static size_t
seal_gcm(const uint8_t *plain, size_t len, uint32_t seq, uint8_t *pkt)
{
	const uint8_t *key = test_keymat, *salt = test_keymat + 16;
	uint8_t nonce[12];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, f;

	store_be32(pkt, 0xc0de0001);
	store_be32(pkt + 4, seq);
	memset(pkt + 8, 0, 4);
	store_be32(pkt + 12, seq);
	memcpy(nonce, salt, 4);
	memcpy(nonce + 4, pkt + 8, 8);
	cr_assert(EVP_EncryptInit_ex2(c, EVP_aes_128_gcm(), key, nonce,
	    NULL));
	cr_assert(EVP_EncryptUpdate(c, NULL, &n, pkt, 8));
	cr_assert(EVP_EncryptUpdate(c, pkt + 16, &n, plain, (int)len));
	cr_assert(EVP_EncryptFinal_ex(c, pkt + 16 + n, &f));
	cr_assert(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16,
	    pkt + 16 + len));
	EVP_CIPHER_CTX_free(c);
	return 16 + len + 16;
}

/* Appends padding 1,2,.. to 4-octet alignment, Pad Length, @nh. */
static size_t
trailer(uint8_t *p, size_t len, uint8_t nh)
{
	size_t pad = (4 - (len + 2) % 4) % 4, i;

	for (i = 0; i < pad; i++)
		p[len + i] = (uint8_t)(i + 1);
	p[len + pad] = (uint8_t)pad;
	p[len + pad + 1] = nh;
	return len + pad + 2;
}

struct crafted {
	const char	*name;
	enum esp_result	 want;
};

/* Decapsulates @plain sealed as sequence number 1 with a fresh SA pair. */
static enum esp_result
decap_crafted(const uint8_t *plain, size_t len, struct esp_rx *rx,
    uint8_t *out)
{
	struct esp_sa *o, *in;
	uint8_t pkt[BUF];
	enum esp_result r;
	size_t n;

	sa_pair(&xforms[0], false, 0, &o, &in);
	n = seal_gcm(plain, len, 1, pkt);
	r = esp_decap(in, pkt, n, out, BUF, rx);
	/* Every one of these passed the ICV: the window moved. */
	if (r != ESP_DROP_AUTH)
		cr_assert_eq(in->replay.top, 1);
	if (r != ESP_OK)
		cr_assert_eq(in->drops[r], 1);
	esp_sa_free(o);
	esp_sa_free(in);
	return r;
}

Test(esp, accepts_a_packet_sealed_outside_esp_encap)
{
	uint8_t p[BUF], out[BUF];
	struct esp_rx rx;
	size_t len = ipv4_udp(p, client4, 1, 30);

	cr_assert_eq(decap_crafted(p, trailer(p, len, 4), &rx, out), ESP_OK);
	cr_assert_eq(rx.len, len);
}

Test(esp, drops_padding_that_is_not_one_two_three)
{
	uint8_t p[BUF], out[BUF];
	struct esp_rx rx;
	size_t len = ipv4_udp(p, client4, 1, 31);	/* 59: pad 3 */
	size_t n = trailer(p, len, 4);

	cr_assert_eq(n, len + 5);
	p[len + 2] = 4;		/* 1, 2, 4 */
	cr_assert_eq(decap_crafted(p, n, &rx, out), ESP_DROP_PAD);
	p[len + 2] = 3;
	p[len] = 0;		/* 0, 2, 3 */
	cr_assert_eq(decap_crafted(p, n, &rx, out), ESP_DROP_PAD);
}

Test(esp, drops_a_pad_length_beyond_the_payload)
{
	uint8_t p[BUF], out[BUF];
	struct esp_rx rx;

	/* Payload of 4 octets: Pad Length 3 would need one more. */
	p[0] = 1;
	p[1] = 2;
	p[2] = 3;
	p[3] = 4;
	cr_assert_eq(decap_crafted(p, 4, &rx, out), ESP_DROP_PAD_LEN);
	p[2] = 255;
	cr_assert_eq(decap_crafted(p, 4, &rx, out), ESP_DROP_PAD_LEN);
	memset(p, 0, 8);
	p[6] = 7;	/* 7 + 2 > 8 */
	p[7] = 4;
	cr_assert_eq(decap_crafted(p, 8, &rx, out), ESP_DROP_PAD_LEN);
}

Test(esp, drops_dummy_packets_with_next_header_59)
{
	uint8_t p[BUF], out[BUF];
	struct esp_rx rx;

	memset(p, 0xab, 40);
	cr_assert_eq(decap_crafted(p, trailer(p, 40, 59), &rx, out),
	    ESP_DROP_DUMMY);
	cr_assert_eq(decap_crafted(p, trailer(p, 0, 59), &rx, out),
	    ESP_DROP_DUMMY);
}

Test(esp, drops_next_headers_other_than_ip_in_ip)
{
	uint8_t p[BUF], out[BUF];
	struct esp_rx rx;
	size_t len = ipv4_udp(p, client4, 1, 30);

	cr_assert_eq(decap_crafted(p, trailer(p, len, 17), &rx, out),
	    ESP_DROP_NEXT_HDR);
	cr_assert_eq(decap_crafted(p, trailer(p, len, 41), &rx, out),
	    ESP_DROP_INNER);
}

Test(esp, drops_an_inner_source_outside_the_selectors)
{
	static const uint8_t other4[4] = { 10, 0, 0, 3 };
	static const uint8_t other6[16] = { 0xfd, [15] = 3 };
	uint8_t p[BUF], out[BUF];
	struct esp_rx rx;
	size_t len;

	len = ipv4_udp(p, other4, 1, 30);
	cr_assert_eq(decap_crafted(p, trailer(p, len, 4), &rx, out),
	    ESP_DROP_TS);
	len = ipv6_udp(p, other6, 1, 30);
	cr_assert_eq(decap_crafted(p, trailer(p, len, 41), &rx, out),
	    ESP_DROP_TS);
}

Test(esp, drops_an_inner_packet_longer_than_what_arrived)
{
	uint8_t p[BUF], out[BUF];
	struct esp_rx rx;
	size_t len = ipv4_udp(p, client4, 1, 30);

	store_be16(p + 2, (uint16_t)(len + 1));
	cr_assert_eq(decap_crafted(p, trailer(p, len, 4), &rx, out),
	    ESP_DROP_INNER);
	len = ipv6_udp(p, client6, 1, 30);
	store_be16(p + 4, (uint16_t)(len - 40 + 1));
	cr_assert_eq(decap_crafted(p, trailer(p, len, 41), &rx, out),
	    ESP_DROP_INNER);
}

Test(esp, strips_tfc_padding_after_the_inner_packet)
{
	uint8_t p[BUF], out[BUF];
	struct esp_rx rx;
	size_t len = ipv4_udp(p, client4, 1, 30);

	/* RFC 4303 §2.7: TFC padding follows the IP packet. */
	memset(p + len, 0, 100);
	cr_assert_eq(decap_crafted(p, trailer(p, len + 100, 4), &rx, out),
	    ESP_OK);
	cr_assert_eq(rx.len, len);
}

Test(esp, refuses_to_cycle_the_32_bit_sequence_number)
{
	struct esp_sa *out, *in;
	uint8_t inner[256], pkt[BUF];
	size_t len = ipv4_udp(inner, client4, 1, 10);
	struct wr w = wr_make(pkt, sizeof(pkt));

	sa_pair(&xforms[0], false, 0, &out, &in);
	out->seq = UINT32_MAX - 1;
	cr_assert_eq(esp_encap(out, inner, len, &w), ESP_ENCAP_OK);
	cr_assert_eq(load_be32(pkt + 4), UINT32_MAX);
	cr_assert_eq(esp_encap(out, inner, len, &w),
	    ESP_ENCAP_SEQ_EXHAUSTED);
	cr_assert_eq(w.len, esp_encap_len(out, len));
	esp_sa_free(out);
	esp_sa_free(in);
}

Test(esp, continues_past_2_32_with_esn_and_stops_at_2_64)
{
	struct esp_sa *out, *in;
	uint8_t inner[256], pkt[BUF];
	size_t len = ipv4_udp(inner, client4, 1, 10);
	struct wr w = wr_make(pkt, sizeof(pkt));

	sa_pair(&xforms[4], true, 0, &out, &in);
	out->seq = UINT32_MAX;
	cr_assert_eq(esp_encap(out, inner, len, &w), ESP_ENCAP_OK);
	cr_assert_eq(load_be32(pkt + 4), 0);
	out->seq = UINT64_MAX - 1;
	cr_assert_eq(esp_encap(out, inner, len, &w), ESP_ENCAP_OK);
	cr_assert_eq(esp_encap(out, inner, len, &w),
	    ESP_ENCAP_SEQ_EXHAUSTED);
	esp_sa_free(out);
	esp_sa_free(in);
}

Test(esp, encap_refuses_what_does_not_fit_and_non_ip)
{
	struct esp_sa *out, *in;
	uint8_t inner[256], pkt[BUF];
	size_t len = ipv4_udp(inner, client4, 1, 10);
	struct wr w;

	sa_pair(&xforms[0], false, 0, &out, &in);
	w = wr_make(pkt, esp_encap_len(out, len) - 1);
	cr_assert_eq(esp_encap(out, inner, len, &w), ESP_ENCAP_NO_SPACE);
	cr_assert_eq(w.len, 0);
	w = wr_make(pkt, sizeof(pkt));
	inner[0] = 0x55;
	cr_assert_eq(esp_encap(out, inner, len, &w), ESP_ENCAP_BAD_INNER);
	cr_assert_eq(esp_encap(out, inner, 0, &w), ESP_ENCAP_BAD_INNER);
	cr_assert_eq(w.len, 0);
	cr_assert_eq(out->seq, 0);
	esp_sa_free(out);
	esp_sa_free(in);
}

Test(esp, sa_new_refuses_inconsistent_parameters)
{
	struct esp_sa_params p;
	uint8_t key[64] = { 1 };

	memset(&p, 0, sizeof(p));
	p.spi = 1;
	p.dir = ESP_DIR_IN;
	p.encr = IKE_ENCR_AES_GCM_16;
	p.encr_bits = 128;
	p.ekey = key;
	p.ekey_len = 20;
	esp_sa_free(esp_sa_new(&p));
	p.ekey_len = 16;			/* salt missing */
	cr_assert_null(esp_sa_new(&p));
	p.ekey_len = 20;
	p.integ = IKE_INTEG_HMAC_SHA2_256_128;	/* AEAD with integrity */
	p.akey = key;
	p.akey_len = 32;
	cr_assert_null(esp_sa_new(&p));
	p.encr = IKE_ENCR_AES_CBC;		/* CBC without integrity */
	p.ekey_len = 16;
	p.integ = IKE_INTEG_NONE;
	p.akey_len = 0;
	cr_assert_null(esp_sa_new(&p));
	p.integ = IKE_INTEG_HMAC_MD5_96;	/* not offered */
	p.akey_len = 16;
	cr_assert_null(esp_sa_new(&p));
	p.encr = IKE_ENCR_AES_CTR;
	p.integ = IKE_INTEG_HMAC_SHA2_256_128;
	p.akey_len = 32;
	cr_assert_null(esp_sa_new(&p));
	p.encr = IKE_ENCR_AES_CBC;
	p.spi = 0;				/* reserved SPI */
	cr_assert_null(esp_sa_new(&p));
	p.spi = 1;
	p.replay_window = 8192;
	cr_assert_null(esp_sa_new(&p));
	p.replay_window = 0;
	p.nts = ESP_TS_MAX + 1;
	cr_assert_null(esp_sa_new(&p));
	p.nts = 1;				/* selectors missing */
	cr_assert_null(esp_sa_new(&p));
	esp_sa_free(NULL);
}

Test(esp, keymat_slice_takes_ei_ai_then_er_ar)
{
	struct esp_sa_params p;
	uint8_t km[200];
	size_t i;

	for (i = 0; i < sizeof(km); i++)
		km[i] = (uint8_t)i;
	memset(&p, 0, sizeof(p));
	p.encr = IKE_ENCR_AES_CBC;
	p.encr_bits = 128;
	p.integ = IKE_INTEG_HMAC_SHA2_256_128;
	cr_assert_eq(esp_keymat_slice(&p, km, 96, true), 0);
	cr_assert_eq(p.ekey, km);
	cr_assert_eq(p.akey, km + 16);
	cr_assert_eq(esp_keymat_slice(&p, km, 96, false), 0);
	cr_assert_eq(p.ekey, km + 48);
	cr_assert_eq(p.akey, km + 64);
	cr_assert_eq(esp_keymat_slice(&p, km, 95, false), -1);
	p.encr = IKE_ENCR_AES_GCM_16;
	p.encr_bits = 256;
	p.integ = IKE_INTEG_NONE;
	cr_assert_eq(esp_keymat_slice(&p, km, 72, false), 0);
	cr_assert_eq(p.ekey, km + 36);
	cr_assert_eq(p.ekey_len, 36);
	cr_assert_null(p.akey);
}

Test(esp, decap_on_an_outbound_sa_is_a_bug, .signal = SIGABRT)
{
	struct esp_sa *out, *in;
	uint8_t pkt[BUF], plain[BUF];
	struct esp_rx rx;

	sa_pair(&xforms[0], false, 0, &out, &in);
	memset(pkt, 0, 64);
	esp_decap(out, pkt, 64, plain, sizeof(plain), &rx);
}

Test(esp, names_every_result)
{
	int r;

	for (r = 0; r < ESP_RESULT_COUNT; r++)
		cr_assert_str_neq(esp_result_name(r), "?");
	cr_assert_str_eq(esp_result_name(ESP_RESULT_COUNT), "?");
}

Test(esp, encapsulates_in_place_and_decapsulates_in_place)
{
	struct esp_sa *out, *in, *out2, *in2;
	uint8_t inner[BUF], a[BUF], b[BUF];
	struct esp_rx rx;
	struct wr wa, wb;
	size_t i, len, off;

	for (i = 0; i < NXFORMS; i++) {
		sa_pair(&xforms[i], i % 2, 0, &out, &in);
		sa_pair(&xforms[i], i % 2, 0, &out2, &in2);
		len = ipv4_udp(inner, client4, 7, 100 + i);
		off = esp_encap_offset(out);
		cr_assert_eq(off, 8 + out->iv_len);
		/*
		 * The inner packet read straight to its place after a
		 * previous packet already in the buffer.
		 */
		wa = wr_make(a, sizeof(a));
		wb = wr_make(b, sizeof(b));
		cr_assert_eq(esp_encap(out, inner, len, &wa), ESP_ENCAP_OK);
		cr_assert_eq(esp_encap(out2, inner, len, &wb), ESP_ENCAP_OK);
		memcpy(a + wa.len + off, inner, len);
		memcpy(b + wb.len + off, inner, len);
		cr_assert_eq(esp_encap(out, a + wa.len + off, len, &wa),
		    ESP_ENCAP_OK, "%s", xforms[i].name);
		cr_assert_eq(esp_encap(out2, inner, len, &wb), ESP_ENCAP_OK);
		cr_assert_eq(wa.len, wb.len);
		if (out->aead)	/* deterministic IVs: the same bytes */
			cr_assert_arr_eq(a, b, wa.len, "%s", xforms[i].name);
		/* Decrypt both packets of @a where they are. */
		len = wa.len / 2;
		cr_assert_eq(esp_decap(in, a, len, a + off, len, &rx), ESP_OK,
		    "%s", xforms[i].name);
		cr_assert_eq(rx.inner, a + off);
		cr_assert_eq(esp_decap(in, a + len, len, a + len + off, len,
		    &rx), ESP_OK, "%s", xforms[i].name);
		cr_assert_arr_eq(rx.inner, inner, rx.len);
		esp_sa_free(out);
		esp_sa_free(in);
		esp_sa_free(out2);
		esp_sa_free(in2);
	}
}

Test(esp, sends_dummy_packets_that_the_receiver_drops)
{
	struct esp_sa *out, *in;
	uint8_t pkt[BUF], plain[BUF];
	struct esp_rx rx;
	struct wr w;
	size_t i, len;

	for (i = 0; i < NXFORMS; i++) {
		sa_pair(&xforms[i], false, 0, &out, &in);
		for (len = 0; len < 70; len += 23) {
			w = wr_make(pkt, sizeof(pkt));
			cr_assert_eq(esp_encap_dummy(out, len, &w),
			    ESP_ENCAP_OK);
			cr_assert_eq(w.len, esp_encap_len(out, len));
			cr_assert_eq(esp_decap(in, pkt, w.len, plain,
			    sizeof(plain), &rx), ESP_DROP_DUMMY, "%s %zu",
			    xforms[i].name, len);
		}
		/* Authentic: the window moved past them. */
		cr_assert_eq(in->replay.top, 4);
		cr_assert_eq(in->drops[ESP_DROP_DUMMY], 4);
		esp_sa_free(out);
		esp_sa_free(in);
	}
}
