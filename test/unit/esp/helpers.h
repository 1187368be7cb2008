/*
 * Shared by the esp/ unit tests: hex decoding, inner packets, selectors and
 * SA pairs with fixed keys.
 */
#ifndef IKETCP_TEST_ESP_HELPERS_H
#define IKETCP_TEST_ESP_HELPERS_H

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "esp/esp.h"
#include "esp/sa.h"
#include "framing/wire.h"

static inline size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t i, n = strlen(s) / 2;
	unsigned v;

	cr_assert_leq(n, cap);
	for (i = 0; i < n; i++) {
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* IPv4 UDP packet src -> 10.0.1.1, ports sport -> 53, @plen payload. */
static inline size_t
ipv4_udp(uint8_t *p, const uint8_t src[4], uint16_t sport, size_t plen)
{
	size_t total = 20 + 8 + plen, i;

	memset(p, 0, total);
	p[0] = 0x45;
	store_be16(p + 2, (uint16_t)total);
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, src, 4);
	p[16] = 10; p[17] = 0; p[18] = 1; p[19] = 1;
	store_be16(p + 20, sport);
	store_be16(p + 22, 53);
	store_be16(p + 24, (uint16_t)(8 + plen));
	for (i = 0; i < plen; i++)
		p[28 + i] = (uint8_t)(i * 7);
	return total;
}

/* IPv6 UDP packet src -> fd00::101, ports sport -> 53. */
static inline size_t
ipv6_udp(uint8_t *p, const uint8_t src[16], uint16_t sport, size_t plen)
{
	size_t total = 40 + 8 + plen, i;

	memset(p, 0, total);
	p[0] = 0x60;
	store_be16(p + 4, (uint16_t)(8 + plen));
	p[6] = 17;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	p[24] = 0xfd; p[38] = 1; p[39] = 1;
	store_be16(p + 40, sport);
	store_be16(p + 42, 53);
	store_be16(p + 44, (uint16_t)(8 + plen));
	for (i = 0; i < plen; i++)
		p[48 + i] = (uint8_t)(i * 3);
	return total;
}

static const uint8_t client4[4] = { 10, 0, 0, 2 };
static const uint8_t client6[16] = { 0xfd, [15] = 2 };

/* The client's assigned addresses, 10.0.0.2 and fd00::2, any port. */
static inline size_t
client_ts(struct esp_ts ts[2])
{
	memset(ts, 0, 2 * sizeof(*ts));
	ts[0].family = 4;
	memcpy(ts[0].addr_lo, client4, 4);
	memcpy(ts[0].addr_hi, client4, 4);
	ts[0].port_hi = 0xffff;
	ts[1].family = 6;
	memcpy(ts[1].addr_lo, client6, 16);
	memcpy(ts[1].addr_hi, client6, 16);
	ts[1].port_hi = 0xffff;
	return 2;
}

struct xform {
	const char	*name;
	enum ike_encr	 encr;
	unsigned	 bits;
	enum ike_integ	 integ;
};

static const struct xform xforms[] = {
	{ "aes-gcm-16-128", IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE },
	{ "aes-gcm-16-192", IKE_ENCR_AES_GCM_16, 192, IKE_INTEG_NONE },
	{ "aes-gcm-16-256", IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE },
	{ "chacha20-poly1305", IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE },
	{ "aes-cbc-128/sha256", IKE_ENCR_AES_CBC, 128,
	    IKE_INTEG_HMAC_SHA2_256_128 },
	{ "aes-cbc-256/sha256", IKE_ENCR_AES_CBC, 256,
	    IKE_INTEG_HMAC_SHA2_256_128 },
	{ "aes-cbc-128/sha384", IKE_ENCR_AES_CBC, 128,
	    IKE_INTEG_HMAC_SHA2_384_192 },
	{ "aes-cbc-256/sha512", IKE_ENCR_AES_CBC, 256,
	    IKE_INTEG_HMAC_SHA2_512_256 },
	/* RFC 2404, for old clients (RFC 8221 §6: MUST-). */
	{ "aes-cbc-256/sha1", IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA1_96 },
};
#define NXFORMS	(sizeof(xforms) / sizeof(xforms[0]))

static const uint8_t test_keymat[2 * (36 + 64)] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	[50] = 0x5a, [99] = 0xa5, [150] = 0x3c, [199] = 0xc3
};

/* An outbound and an inbound SA with the same keys (ei/ai). */
static inline void
sa_pair(const struct xform *x, bool esn, uint32_t window,
    struct esp_sa **out, struct esp_sa **in)
{
	struct esp_sa_params p;
	struct esp_ts ts[2];

	memset(&p, 0, sizeof(p));
	p.spi = 0xc0de0001;
	p.encr = x->encr;
	p.encr_bits = x->bits;
	p.integ = x->integ;
	p.esn = esn;
	p.replay_window = window;
	cr_assert_eq(esp_keymat_slice(&p, test_keymat, sizeof(test_keymat),
	    true), 0, "%s", x->name);
	p.dir = ESP_DIR_OUT;
	*out = esp_sa_new(&p);
	p.dir = ESP_DIR_IN;
	p.nts = client_ts(ts);
	p.ts = ts;
	*in = esp_sa_new(&p);
	cr_assert_not_null(*out, "%s", x->name);
	cr_assert_not_null(*in, "%s", x->name);
}

#endif /* IKETCP_TEST_ESP_HELPERS_H */
