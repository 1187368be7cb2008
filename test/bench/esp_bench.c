/*
 * esp_bench: integrated-mode ESP per-packet cost against the per-packet
 * AEAD ceiling, measured in the same run (shared/PERF.md: this kind of
 * machine flips between speed phases every few hundred milliseconds, so
 * each pair interleaves the two in 20 short slices, and the median
 * per-pair ratio is reported with its min and max).
 *
 *   esp_bench [-d seconds] [-p pairs] [-s inner-octets] [-t gcm|chacha]
 *
 * -d is the time per pair and side (default 1 s), -p the pairs (5), -t
 * the AEAD (default gcm: AES-GCM-16-256; chacha: ChaCha20-Poly1305, with
 * the ceiling on the same cipher).
 *
 * Ceiling: raw EVP AES-256-GCM on one pre-keyed EVP_CIPHER_CTX, a fresh
 * 12-octet nonce and 8 octets of AAD per packet, no framing (encrypt;
 * decrypt with tag check; both).  Ours: esp_encap(), esp_decap(), both,
 * on an AES-GCM-16-256 SA without ESN (8-octet AAD, the same work) with
 * an IPv4 inner packet of -s octets.  Decapsulation cycles through RING
 * packets (the window is reset when the ring restarts); the decrypt
 * ceiling cycles through RING ciphertexts the same way.
 *
 * Output: one line per metric with both rates and the ratio ours/ceiling
 * (higher is better; the integrated-mode target is >= 0.50 per operation),
 * then one key=value line for scripts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "esp/esp.h"
#include "esp/sa.h"
#include "framing/wire.h"

enum {
	RING		= 256,		/* packets cycled through (L2) */
	PKT_MAX		= 9000,
	PAIRS_MAX	= 50,
	CHECK_EVERY	= 32,		/* packets between clock reads */
	SLICES		= 20		/* alternating slices per pair */
};

static double secs = 1.0;
static int pairs = 5;
static size_t size = 1400;
static bool chacha;

static uint8_t key[36];			/* AES-256 key | salt */
static uint8_t inner[PKT_MAX];
static uint8_t ring[RING][PKT_MAX + 64];
static size_t ring_len[RING];
static uint8_t raw_ct[RING][PKT_MAX + 16];
static uint8_t scratch[PKT_MAX + 64], plain[PKT_MAX + 64];
static EVP_CIPHER_CTX *enc_ctx, *dec_ctx;
static struct esp_sa *out_sa, *in_sa;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "esp_bench: %s failed\n", what);
	exit(1);
}

/* One raw AEAD encryption, as an ESP SA would do it, minus ESP. */
static void
raw_encrypt(uint64_t ctr, const uint8_t *in, uint8_t *out)
{
	uint8_t nonce[12], aad[8];
	int n, f;

	memcpy(nonce, key + 32, 4);
	store_be32(nonce + 4, (uint32_t)(ctr >> 32));
	store_be32(nonce + 8, (uint32_t)ctr);
	store_be32(aad, 0x1000);
	store_be32(aad + 4, (uint32_t)ctr);
	if (!EVP_EncryptInit_ex2(enc_ctx, NULL, NULL, nonce, NULL) ||
	    !EVP_EncryptUpdate(enc_ctx, NULL, &n, aad, 8) ||
	    !EVP_EncryptUpdate(enc_ctx, out, &n, in, (int)size) ||
	    !EVP_EncryptFinal_ex(enc_ctx, out + n, &f) ||
	    EVP_CIPHER_CTX_ctrl(enc_ctx, EVP_CTRL_AEAD_GET_TAG, 16,
	    out + size) <= 0)
		die("raw encrypt");
}

static void
raw_decrypt(uint64_t ctr, uint8_t *in, uint8_t *out)
{
	uint8_t nonce[12], aad[8];
	int n, f;

	memcpy(nonce, key + 32, 4);
	store_be32(nonce + 4, (uint32_t)(ctr >> 32));
	store_be32(nonce + 8, (uint32_t)ctr);
	store_be32(aad, 0x1000);
	store_be32(aad + 4, (uint32_t)ctr);
	if (!EVP_DecryptInit_ex2(dec_ctx, NULL, NULL, nonce, NULL) ||
	    EVP_CIPHER_CTX_ctrl(dec_ctx, EVP_CTRL_AEAD_SET_TAG, 16,
	    in + size) <= 0 ||
	    !EVP_DecryptUpdate(dec_ctx, NULL, &n, aad, 8) ||
	    !EVP_DecryptUpdate(dec_ctx, out, &n, in, (int)size) ||
	    EVP_DecryptFinal_ex(dec_ctx, out + n, &f) <= 0)
		die("raw decrypt (tag)");
}

static void
encap_one(uint8_t *out, size_t *len)
{
	struct wr w = wr_make(out, PKT_MAX + 64);

	if (esp_encap(out_sa, inner, size, &w) != ESP_ENCAP_OK)
		die("esp_encap");
	*len = w.len;
}

static void
decap_one(const uint8_t *pkt, size_t len)
{
	struct esp_rx rx;

	if (esp_decap(in_sa, pkt, len, plain, sizeof(plain), &rx) != ESP_OK)
		die("esp_decap");
}

enum metric { M_ENC, M_DEC, M_BOTH, M_COUNT };
static const char *const metric_name[M_COUNT] = {
	"encrypt", "decrypt", "encrypt+decrypt"
};

/* Runs @m, ours or the ceiling, for @d seconds; adds packets and time. */
static void
run(enum metric m, bool ours, double d, uint64_t *pkts, double *elapsed)
{
	static uint64_t n;	/* keeps raw IVs and ring positions moving */
	static unsigned dpos;	/* next ring packet for esp_decap() */
	double t0 = now(), t;
	uint64_t n0 = n;
	size_t len;
	unsigned i, k;

	/* encrypt+decrypt moved the window far ahead: start the ring over. */
	if (m == M_DEC && ours)
		dpos = 0;

	for (;;) {
		for (k = 0; k < CHECK_EVERY; k++, n++) {
			i = (unsigned)(n % RING);
			switch (m) {
			case M_ENC:
				if (ours)
					encap_one(scratch, &len);
				else
					raw_encrypt(n, inner, scratch);
				break;
			case M_DEC:
				if (ours) {
					/* Seq 1..RING again: a new window. */
					if (dpos == 0 && esp_replay_init(
					    &in_sa->replay, 0, false) != 0)
						die("window reset");
					decap_one(ring[dpos], ring_len[dpos]);
					dpos = (dpos + 1) % RING;
				} else
					raw_decrypt(i, raw_ct[i], plain);
				break;
			default:
				if (ours) {
					encap_one(scratch, &len);
					decap_one(scratch, len);
				} else {
					raw_encrypt(n, inner, scratch);
					raw_decrypt(n, scratch, plain);
				}
				break;
			}
		}
		if ((t = now() - t0) >= d) {
			*pkts += n - n0;
			*elapsed += t;
			return;
		}
	}
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
setup(void)
{
	struct esp_sa_params p;
	const EVP_CIPHER *cipher = chacha ? EVP_chacha20_poly1305() :
	    EVP_aes_256_gcm();
	struct esp_ts ts;
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 13 + 1);
	/* IPv4 UDP 10.0.0.2 -> 10.0.1.1, total length @size. */
	memset(inner, 0x5a, size);
	inner[0] = 0x45;
	inner[1] = 0;
	store_be16(inner + 2, (uint16_t)size);
	inner[8] = 64;
	inner[9] = 17;
	inner[12] = 10; inner[13] = 0; inner[14] = 0; inner[15] = 2;
	inner[16] = 10; inner[17] = 0; inner[18] = 1; inner[19] = 1;

	if ((enc_ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    (dec_ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_EncryptInit_ex2(enc_ctx, cipher, key, NULL, NULL) ||
	    !EVP_DecryptInit_ex2(dec_ctx, cipher, key, NULL, NULL))
		die("EVP set-up");

	memset(&p, 0, sizeof(p));
	memset(&ts, 0, sizeof(ts));
	ts.family = 4;
	ts.addr_lo[0] = ts.addr_hi[0] = 10;
	ts.addr_lo[3] = ts.addr_hi[3] = 2;
	ts.port_hi = 0xffff;
	p.spi = 0x1000;
	p.encr = chacha ? IKE_ENCR_CHACHA20_POLY1305 : IKE_ENCR_AES_GCM_16;
	p.encr_bits = 256;
	p.ekey = key;
	p.ekey_len = sizeof(key);
	p.ts = &ts;
	p.nts = 1;
	p.dir = ESP_DIR_OUT;
	if ((out_sa = esp_sa_new(&p)) == NULL)
		die("esp_sa_new out");
	p.dir = ESP_DIR_IN;
	if ((in_sa = esp_sa_new(&p)) == NULL)
		die("esp_sa_new in");
	for (i = 0; i < RING; i++) {
		encap_one(ring[i], &ring_len[i]);
		raw_encrypt(i, inner, raw_ct[i]);
	}
}

int
main(int argc, char *argv[])
{
	double r[M_COUNT][2][PAIRS_MAX], ratio[M_COUNT][PAIRS_MAX];
	double naive[PAIRS_MAX], c, o, lo, hi;
	int ch, i, m;

	while ((ch = getopt(argc, argv, "d:p:s:t:")) != -1) {
		switch (ch) {
		case 'd':
			secs = atof(optarg);
			break;
		case 'p':
			pairs = atoi(optarg);
			break;
		case 's':
			size = (size_t)atol(optarg);
			break;
		case 't':
			chacha = strcmp(optarg, "chacha") == 0;
			if (!chacha && strcmp(optarg, "gcm") != 0)
				goto usage;
			break;
		default:
usage:
			fprintf(stderr, "usage: esp_bench [-d seconds] "
			    "[-p pairs] [-s inner-octets] [-t gcm|chacha]\n");
			return 2;
		}
	}
	if (pairs < 1 || pairs > PAIRS_MAX || secs <= 0 || size < 28 ||
	    size > PKT_MAX) {
		fprintf(stderr, "esp_bench: bad -d, -p or -s\n");
		return 2;
	}
	setup();
	for (m = 0; m < M_COUNT; m++) {		/* warm-up */
		uint64_t wn = 0;
		double wt = 0;

		run((enum metric)m, false, 0.05, &wn, &wt);
		run((enum metric)m, true, 0.05, &wn, &wt);
	}
	for (i = 0; i < pairs; i++) {
		for (m = 0; m < M_COUNT; m++) {
			uint64_t pn[2] = { 0, 0 };
			double pt[2] = { 0, 0 };
			int k, side;

			/*
			 * A pair is SLICES short slices, the two sides
			 * alternating (and swapping who goes first), so both
			 * see the same mix of the machine's speed phases.
			 */
			for (k = 0; k < SLICES; k++) {
				side = (k + i) % 2;
				run((enum metric)m, side, secs / SLICES,
				    &pn[side], &pt[side]);
			}
			c = (double)pn[0] / pt[0];
			o = (double)pn[1] / pt[1];
			r[m][0][i] = c;
			r[m][1][i] = o;
			ratio[m][i] = o / c;
			fprintf(stderr, "  pair %d %-16s ceiling %8.0f/s  "
			    "esp %8.0f/s  ratio %.3f\n", i + 1,
			    metric_name[m], c, o, o / c);
		}
		/* esp_encap + esp_decap against a raw encrypt alone. */
		naive[i] = r[M_BOTH][1][i] / r[M_ENC][0][i];
	}
	printf("ESP %s vs raw EVP %s, %zu-octet inner, medians of %d "
	    "alternating pairs x %.1f s\n", chacha ? "ChaCha20-Poly1305" :
	    "AES-GCM-16-256", chacha ? "ChaCha20-Poly1305" : "AES-256-GCM",
	    size, pairs, secs);
	printf("%-18s %12s %12s %8s %8s  %s\n", "per packet", "ceiling/s",
	    "esp/s", "ceil Gb", "esp Gb", "ratio (min-max)");
	for (m = 0; m < M_COUNT; m++) {
		c = median(r[m][0], pairs);
		o = median(r[m][1], pairs);
		qsort(ratio[m], (size_t)pairs, sizeof(double), cmp);
		lo = ratio[m][0];
		hi = ratio[m][pairs - 1];
		printf("%-18s %12.0f %12.0f %8.2f %8.2f  %.2f (%.2f-%.2f)\n",
		    metric_name[m], c, o, c * (double)size * 8 / 1e9,
		    o * (double)size * 8 / 1e9, median(ratio[m], pairs), lo,
		    hi);
	}
	qsort(naive, (size_t)pairs, sizeof(double), cmp);
	printf("%-18s %12s %12s %8s %8s  %.2f (%.2f-%.2f)\n",
	    "encap+decap/enc", "", "", "", "", median(naive, pairs), naive[0],
	    naive[pairs - 1]);
	printf("(Gb: Gbit/s of inner packets; ratio: esp/ceiling per pair, "
	    "higher is better; target >= 0.50)\n");
	printf("esp_bench aead=%s size=%zu pairs=%d enc_ratio=%.3f "
	    "dec_ratio=%.3f both_ratio=%.3f encdec_vs_enc=%.3f\n",
	    chacha ? "chacha" : "gcm", size, pairs,
	    median(ratio[M_ENC], pairs), median(ratio[M_DEC], pairs),
	    median(ratio[M_BOTH], pairs), median(naive, pairs));
	esp_sa_free(out_sa);
	esp_sa_free(in_sa);
	EVP_CIPHER_CTX_free(enc_ctx);
	EVP_CIPHER_CTX_free(dec_ctx);
	return 0;
}
