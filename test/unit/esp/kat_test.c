/*
 * Known-answer ESP packets: every byte computed by
 * fixtures/make-esp-vectors.py with Python's `cryptography` module, from
 * the RFC rules alone (framing, padding, AAD, nonce, ESN in the ICV).
 * AEAD packets must come out of esp_encap() byte for byte (the IV is the
 * sequence number); CBC packets (random IV) must decapsulate.
 */
#include <stdbool.h>

#include <criterion/criterion.h>

#include "esp/esp.h"
#include "esp/sa.h"
#include "framing/wire.h"
#include "test/unit/esp/helpers.h"

#include "test/unit/esp/fixtures/esp_vectors.h"

TestSuite(kat, .timeout = 10);

static struct esp_sa *
kat_sa(const struct esp_kat *k, enum esp_dir dir, uint8_t *key,
    uint8_t *akey)
{
	struct esp_sa_params p;
	struct esp_ts ts[2];

	memset(&p, 0, sizeof(p));
	p.spi = k->spi;
	p.dir = dir;
	p.encr = (enum ike_encr)k->encr;
	p.encr_bits = k->bits;
	p.integ = (enum ike_integ)k->integ;
	p.ekey = key;
	p.ekey_len = unhex(k->key, key, ESP_ENCR_KEY_MAX);
	p.akey = k->akey[0] != '\0' ? akey : NULL;
	p.akey_len = unhex(k->akey, akey, ESP_INTEG_KEY_MAX);
	p.esn = k->esn;
	p.nts = client_ts(ts);
	p.ts = ts;
	return esp_sa_new(&p);
}

Test(kat, aead_encap_matches_the_independent_packets)
{
	uint8_t key[64], akey[64], inner[512], want[512], got[512];
	const struct esp_kat *k;
	struct esp_sa *sa;
	struct wr w;
	size_t i, il, wl;

	for (i = 0; i < sizeof(esp_kats) / sizeof(esp_kats[0]); i++) {
		k = &esp_kats[i];
		if (k->encr == IKE_ENCR_AES_CBC)
			continue;
		sa = kat_sa(k, ESP_DIR_OUT, key, akey);
		cr_assert_not_null(sa, "%s", k->name);
		sa->seq = k->seq - 1;
		il = unhex(k->inner, inner, sizeof(inner));
		wl = unhex(k->pkt, want, sizeof(want));
		w = wr_make(got, sizeof(got));
		cr_assert_eq(esp_encap(sa, inner, il, &w), ESP_ENCAP_OK,
		    "%s", k->name);
		cr_assert_eq(w.len, wl, "%s: %zu != %zu", k->name, w.len, wl);
		cr_assert_arr_eq(got, want, wl, "%s", k->name);
		esp_sa_free(sa);
	}
}

Test(kat, decap_recovers_every_independent_packet)
{
	uint8_t key[64], akey[64], inner[512], pkt[512], out[512];
	const struct esp_kat *k;
	struct esp_sa *sa;
	struct esp_rx rx;
	size_t i, il, pl;

	for (i = 0; i < sizeof(esp_kats) / sizeof(esp_kats[0]); i++) {
		k = &esp_kats[i];
		sa = kat_sa(k, ESP_DIR_IN, key, akey);
		cr_assert_not_null(sa, "%s", k->name);
		/* A live SA near this number, so ESN infers the high half. */
		sa->replay.top = k->seq - 1;
		il = unhex(k->inner, inner, sizeof(inner));
		pl = unhex(k->pkt, pkt, sizeof(pkt));
		cr_assert_eq(esp_decap(sa, pkt, pl, out, sizeof(out), &rx),
		    ESP_OK, "%s", k->name);
		cr_assert_eq(rx.seq, k->seq, "%s", k->name);
		cr_assert_eq(rx.len, il, "%s", k->name);
		cr_assert_arr_eq(rx.inner, inner, il, "%s", k->name);
		cr_assert_eq(rx.next_header, inner[0] >> 4 == 4 ? 4 : 41);
		esp_sa_free(sa);
	}
}

Test(kat, decap_fails_when_esn_infers_the_wrong_high_half)
{
	uint8_t key[64], akey[64], pkt[512], out[512];
	const struct esp_kat *k;
	struct esp_sa *sa;
	struct esp_rx rx;
	size_t i, pl;

	for (i = 0; i < sizeof(esp_kats) / sizeof(esp_kats[0]); i++) {
		k = &esp_kats[i];
		if (!k->esn)
			continue;
		sa = kat_sa(k, ESP_DIR_IN, key, akey);
		/* One subspace too high: the ICV covers the high bits. */
		sa->replay.top = k->seq - 1 + ((uint64_t)1 << 32);
		sa->replay.top -= sa->replay.size;
		pl = unhex(k->pkt, pkt, sizeof(pkt));
		cr_assert_eq(esp_decap(sa, pkt, pl, out, sizeof(out), &rx),
		    ESP_DROP_AUTH, "%s", k->name);
		esp_sa_free(sa);
	}
}
