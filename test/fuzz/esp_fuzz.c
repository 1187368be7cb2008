/*
 * ESP decapsulation and the inner-packet check on arbitrary bytes.
 *
 * The first octet picks a mode (bits 0-1) and one of four inbound SAs keyed
 * like the known-answer vectors (bits 2-3: AES-GCM-16-128, AES-GCM-16-256
 * with ESN, ChaCha20-Poly1305, AES-CBC-128 + HMAC-SHA2-256-128), so the
 * vectors seed the corpus:
 *   0  the rest is an ESP packet for esp_decap() (bit 4: decrypted in
 *      place);
 *   1  the rest is an inner packet for esp_inner_check(), Next Header from
 *      its version nibble;
 *   2  the rest is a plaintext payload (inner | padding | Pad Length | Next
 *      Header) sealed here with AES-GCM, so everything after the ICV runs;
 *   3  the rest is an inner packet: esp_encap() then esp_decap() must give
 *      it back unless a rule drops it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "esp/esp.h"
#include "esp/inner.h"
#include "esp/sa.h"
#include "framing/wire.h"
#include "test/unit/esp/fixtures/esp_vectors.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NSA = 4, BUF = 70000 };

static struct esp_sa *in_sa[NSA], *out_sa[NSA];
static struct esp_ts ts[4];
static uint8_t out[BUF], pkt[BUF];

static size_t
unhex(const char *s, uint8_t *o)
{
	size_t i, n = strlen(s) / 2;
	unsigned v;

	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			abort();
		o[i] = (uint8_t)v;
	}
	return n;
}

static void
setup(void)
{
	struct esp_sa_params p;
	uint8_t key[64], akey[64];
	int i;

	/* 10.0.0.2 any; 10.0.0.0-255 UDP 53; fd00::2 any; fd00::/120 ICMPv6 */
	memset(ts, 0, sizeof(ts));
	ts[0].family = ts[1].family = 4;
	ts[0].addr_lo[0] = ts[0].addr_hi[0] = 10;
	ts[0].addr_lo[3] = ts[0].addr_hi[3] = 2;
	ts[0].port_hi = 0xffff;
	ts[1].addr_lo[0] = ts[1].addr_hi[0] = 10;
	ts[1].addr_hi[3] = 255;
	ts[1].proto = 17;
	ts[1].port_lo = ts[1].port_hi = 53;
	ts[2].family = ts[3].family = 6;
	ts[2].addr_lo[0] = ts[2].addr_hi[0] = 0xfd;
	ts[2].addr_lo[15] = ts[2].addr_hi[15] = 2;
	ts[2].port_hi = 0xffff;
	ts[3].addr_lo[0] = ts[3].addr_hi[0] = 0xfd;
	ts[3].addr_hi[15] = 0xff;
	ts[3].proto = 58;
	ts[3].port_lo = 128 << 8;
	ts[3].port_hi = 129 << 8 | 0xff;
	for (i = 0; i < NSA; i++) {
		const struct esp_kat *k = &esp_kats[i == 3 ? 4 : i];

		memset(&p, 0, sizeof(p));
		p.spi = k->spi;
		p.encr = (enum ike_encr)k->encr;
		p.encr_bits = k->bits;
		p.integ = (enum ike_integ)k->integ;
		p.ekey = key;
		p.ekey_len = unhex(k->key, key);
		p.akey = k->akey[0] ? akey : NULL;
		p.akey_len = unhex(k->akey, akey);
		p.esn = k->esn;
		p.ts = ts;
		p.nts = 4;
		p.dir = ESP_DIR_IN;
		if ((in_sa[i] = esp_sa_new(&p)) == NULL)
			abort();
		p.dir = ESP_DIR_OUT;
		if ((out_sa[i] = esp_sa_new(&p)) == NULL)
			abort();
	}
}

/* A fresh window near the vector's sequence number for every input. */
static void
reset(struct esp_sa *sa)
{
	uint64_t top = sa->esn ? 0x100000001ULL : 0;

	if (esp_replay_init(&sa->replay, 0, sa->esn) != 0)
		abort();
	sa->replay.top = top;
}

/* RFC 4106 seal with the GCM-128 vector's key, sequence number 1. */
static size_t
seal(const uint8_t *plain, size_t len)
{
	static const uint8_t key[16] = { 0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65,
	    0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08 };
	uint8_t nonce[12] = { 0xca, 0xfe, 0xba, 0xbe, [11] = 1 };
	EVP_CIPHER_CTX *c;
	int n, f;

	if (len > BUF - 32)
		len = BUF - 32;
	store_be32(pkt, 0xa5f8);
	store_be32(pkt + 4, 1);
	memcpy(pkt + 8, nonce + 4, 8);
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_EncryptInit_ex2(c, EVP_aes_128_gcm(), key, nonce, NULL) ||
	    !EVP_EncryptUpdate(c, NULL, &n, pkt, 8) ||
	    !EVP_EncryptUpdate(c, pkt + 16, &n, plain, (int)len) ||
	    !EVP_EncryptFinal_ex(c, pkt + 16 + n, &f) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, pkt + 16 + len))
		abort();
	EVP_CIPHER_CTX_free(c);
	return 16 + len + 16;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct esp_rx rx;
	enum esp_result r;
	struct wr w;
	size_t n, ip_len;
	int mode, i, inplace;

	if (in_sa[0] == NULL)
		setup();
	if (size < 1 || size > BUF - 256)
		return 0;
	mode = data[0] & 3;
	i = data[0] >> 2 & 3;
	inplace = data[0] >> 4 & 1;
	data++;
	size--;
	reset(in_sa[i]);
	switch (mode) {
	case 0:
		if (inplace) {
			/* Decrypt where the ciphertext is, as relay/ may. */
			memcpy(pkt, data, size);
			n = esp_encap_offset(in_sa[i]);
			r = esp_decap(in_sa[i], pkt, size, pkt + n,
			    sizeof(pkt) - n, &rx);
			if (r == ESP_OK && rx.inner != pkt + n)
				abort();
		} else {
			r = esp_decap(in_sa[i], data, size, out, sizeof(out),
			    &rx);
			if (r == ESP_OK && rx.inner != out)
				abort();
		}
		if (r == ESP_OK && rx.len > size)
			abort();
		break;
	case 1:
		r = esp_inner_check(data, size, size > 0 && data[0] >> 4 == 6 ?
		    ESP_NH_IPV6 : ESP_NH_IPV4, ts, 4, &ip_len);
		if ((r == ESP_OK) != (ip_len > 0) || ip_len > size)
			abort();
		break;
	case 2:
		reset(in_sa[0]);
		n = seal(data, size);
		r = esp_decap(in_sa[0], pkt, n, out, sizeof(out), &rx);
		/* The ICV verified: only content rules may drop it. */
		if (r == ESP_DROP_AUTH || r == ESP_DROP_REPLAY ||
		    r == ESP_DROP_OLD || r == ESP_DROP_SPI)
			abort();
		break;
	case 3:
		w = wr_make(pkt, sizeof(pkt));
		out_sa[i]->seq = in_sa[i]->replay.top;
		if (esp_encap(out_sa[i], data, size, &w) != ESP_ENCAP_OK)
			break;
		r = esp_decap(in_sa[i], pkt, w.len, out, sizeof(out), &rx);
		if (r == ESP_DROP_AUTH || r == ESP_DROP_MALFORMED ||
		    r == ESP_DROP_PAD || r == ESP_DROP_PAD_LEN)
			abort();
		if (r == ESP_OK && (rx.len > size ||
		    memcmp(rx.inner, data, rx.len) != 0))
			abort();
		break;
	}
	return 0;
}
