/*
 * relay/integ_tun.c: the order of a Child SA rekey's data plane (RFC 7296
 * §2.8).  The peer's ESP that it sealed on the old SA before it switched
 * can arrive after the old SA's Delete exchange (strongSwan's libipsec
 * queues a sealed packet after its IKE thread has sent the Delete; UDP
 * reorders): the old inbound SA is retired for INTEG_RETIRED_MS, not
 * freed, and nothing else changes.  The peer is played by outbound SAs
 * keyed as it would key them; the TUN is a pipe.
 */
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "esp/esp.h"
#include "esp/sa.h"
#include "framing/wire.h"
#include "ike/sa.h"
#include "relay/integ_int.h"
#include "relay/relay.h"
#include "relay/session.h"

TestSuite(integ_tun);

static const uint8_t vip[4] = { 10, 10, 0, 2 };		/* the peer's */
static const uint8_t us[4] = { 10, 10, 0, 1 };

struct fixture {
	struct relay	 r;
	struct session	 s;
	struct integ_sec *sec;
	struct integ_sess is;
	int		 tun[2];	/* [0] reads what was "written to TUN" */
};

static void
fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->sec = calloc(1, sizeof(*f->sec));
	cr_assert_not_null(f->sec);
	f->sec->pkt_buf = malloc(INTEG_PKT_BUF);
	cr_assert_not_null(f->sec->pkt_buf);
	cr_assert_eq(pipe(f->tun), 0);
	cr_assert_neq(fcntl(f->tun[0], F_SETFL, O_NONBLOCK), -1);
	f->sec->tun_fd = f->tun[1];
	f->s.id = 1;
	f->s.r = &f->r;
	f->is.s = &f->s;
	f->is.sec = f->sec;
}

static void
fixture_free(struct fixture *f)
{
	(void)integ_tun_retired_expire(&f->is, UINT64_MAX);
	for (size_t k = 0; k < IKE_SA_CHILD_MAX; k++)
		integ_tun_pair_free(&f->is.ch[k]);
	close(f->tun[0]);
	close(f->tun[1]);
	free(f->sec->pkt_buf);
	free(f->sec);
}

/* A Child SA as ike/ reports it: AES-GCM-16-256, keys from @seed. */
static void
child_make(struct ike_child *ch, uint32_t spi_in, uint32_t replaces,
    uint8_t seed)
{
	memset(ch, 0, sizeof(*ch));
	ch->spi_in = spi_in;
	ch->spi_out = spi_in ^ 0xffff0000u;
	ch->suite.encr = IKE_ENCR_AES_GCM_16;
	ch->suite.encr_bits = 256;
	ch->keys.encr_len = esp_encr_key_len(IKE_ENCR_AES_GCM_16, 256);
	for (size_t i = 0; i < ch->keys.encr_len; i++) {
		ch->keys.ei[i] = (uint8_t)(seed + i);
		ch->keys.er[i] = (uint8_t)(seed * 3 + i);
	}
	ch->tsi.type = ch->tsr.type = IKE_TS_IPV4_ADDR_RANGE;
	ch->tsi.end_port = ch->tsr.end_port = 0xffff;
	memcpy(ch->tsi.start, vip, 4);
	memcpy(ch->tsi.end, vip, 4);
	memcpy(ch->tsr.start, us, 4);
	memcpy(ch->tsr.end, us, 4);
	ch->replaces = replaces;
}

/* The peer's outbound SA for @ch: our inbound SPI and key. */
static struct esp_sa *
peer_sa(const struct ike_child *ch)
{
	struct esp_sa_params p;
	struct esp_sa *sa;

	memset(&p, 0, sizeof(p));
	p.spi = ch->spi_in;
	p.dir = ESP_DIR_OUT;
	p.encr = ch->suite.encr;
	p.encr_bits = ch->suite.encr_bits;
	p.ekey = ch->keys.ei;
	p.ekey_len = ch->keys.encr_len;
	sa = esp_sa_new(&p);
	cr_assert_not_null(sa);
	return sa;
}

/* One ESP packet of the peer's on @sa: an IPv4 UDP packet vip -> us
 * whose payload's first octet is @tag. */
static size_t
seal(struct esp_sa *sa, uint8_t tag, uint8_t *out, size_t cap)
{
	uint8_t inner[64];
	struct wr w = wr_make(out, cap);

	memset(inner, 0, sizeof(inner));
	inner[0] = 0x45;
	store_be16(inner + 2, sizeof(inner));
	inner[8] = 64;
	inner[9] = 17;
	memcpy(inner + 12, vip, 4);
	memcpy(inner + 16, us, 4);
	store_be16(inner + 24, sizeof(inner) - 20);
	inner[28] = tag;
	cr_assert_eq(esp_encap(sa, inner, sizeof(inner), &w), ESP_ENCAP_OK);
	return w.len;
}

/* The tag of the next packet written to the TUN; -1 when none was. */
static int
tun_next(struct fixture *f)
{
	uint8_t pkt[128];
	ssize_t n = read(f->tun[0], pkt, sizeof(pkt));

	if (n < 29)
		return -1;
	return pkt[28];
}

/*
 * A rekey the peer started and then deleted: its packet sealed on the old
 * SA before the switch arrives after the Delete, and still goes through;
 * the successor sends from the Delete on, as before.
 */
Test(integ_tun, old_inbound_sa_takes_esp_after_the_rekeys_delete,
    .timeout = 10)
{
	struct fixture f;
	struct ike_child a, b;
	struct esp_sa *pa, *pb;
	struct integ_child *cb;
	uint8_t late[256], pkt[256];
	size_t late_len, n;

	fixture_init(&f);
	child_make(&a, 0xa0000001, 0, 1);
	child_make(&b, 0xb0000002, a.spi_in, 2);
	cr_assert_not_null(integ_tun_pair_add(&f.is, &a));
	pa = peer_sa(&a);
	n = seal(pa, 1, pkt, sizeof(pkt));
	cr_assert(integ_tun_esp_input(&f.is, pkt, n));
	cr_assert_eq(tun_next(&f), 1);

	/* We answer the rekey: the new pair is in before the response. */
	cr_assert_not_null(cb = integ_tun_pair_add(&f.is, &b));
	cr_assert(!cb->out_ok, "we wait for the peer to switch");
	/* The peer seals one more on the old SA, then switches... */
	late_len = seal(pa, 2, late, sizeof(late));
	pb = peer_sa(&b);
	n = seal(pb, 3, pkt, sizeof(pkt));
	cr_assert(integ_tun_esp_input(&f.is, pkt, n));
	cr_assert_eq(tun_next(&f), 3);
	cr_assert(cb->out_ok);
	/* ...and its Delete of the old SA overtakes the late packet. */
	cr_assert(integ_tun_child_gone(&f.is, a.spi_in, integ_now_ms()));
	cr_assert_null(integ_tun_pair_find(&f.is, a.spi_in));
	cr_assert(integ_tun_esp_input(&f.is, late, late_len),
	    "ESP sealed before the Delete is not lost after it");
	cr_assert_eq(tun_next(&f), 2);
	cr_assert_eq(f.r.stats.esp_in_drop, 0);
	cr_assert_eq(f.r.stats.esp_in_retired, 1);
	/* The old SA's replay window still holds: a copy is refused. */
	cr_assert(!integ_tun_esp_input(&f.is, late, late_len));
	cr_assert_eq(f.r.stats.esp_in_res[ESP_DROP_REPLAY], 1);
	cr_assert_eq(tun_next(&f), -1);
	/* The new SA carries on. */
	n = seal(pb, 4, pkt, sizeof(pkt));
	cr_assert(integ_tun_esp_input(&f.is, pkt, n));
	cr_assert_eq(tun_next(&f), 4);
	esp_sa_free(pa);
	esp_sa_free(pb);
	fixture_free(&f);
}

/* The retired SA goes when its time is up: then its ESP has no SA. */
Test(integ_tun, retired_inbound_sa_goes_after_its_time, .timeout = 10)
{
	struct fixture f;
	struct ike_child a, b;
	struct esp_sa *pa;
	uint8_t pkt[256];
	uint64_t now = integ_now_ms(), next;
	size_t n;

	fixture_init(&f);
	child_make(&a, 0xa0000001, 0, 1);
	child_make(&b, 0xb0000002, a.spi_in, 2);
	cr_assert_not_null(integ_tun_pair_add(&f.is, &a));
	cr_assert_not_null(integ_tun_pair_add(&f.is, &b));
	pa = peer_sa(&a);
	cr_assert(integ_tun_child_gone(&f.is, a.spi_in, now));
	next = integ_tun_retired_expire(&f.is, now);
	cr_assert_eq(next, now + INTEG_RETIRED_MS);
	cr_assert_eq(integ_tun_retired_expire(&f.is, next), UINT64_MAX,
	    "nothing is left to time");
	n = seal(pa, 1, pkt, sizeof(pkt));
	cr_assert(!integ_tun_esp_input(&f.is, pkt, n));
	cr_assert_eq(f.r.stats.esp_in_nosa, 1);
	cr_assert_eq(tun_next(&f), -1);

	/* Past its time but not freed yet (the timer is late): refused. */
	child_make(&a, 0xc0000003, b.spi_in, 3);
	cr_assert_not_null(integ_tun_pair_add(&f.is, &a));
	esp_sa_free(pa);
	pa = peer_sa(&b);
	cr_assert(integ_tun_child_gone(&f.is, b.spi_in,
	    integ_now_ms() - INTEG_RETIRED_MS));
	n = seal(pa, 2, pkt, sizeof(pkt));
	cr_assert(!integ_tun_esp_input(&f.is, pkt, n));
	cr_assert_eq(f.r.stats.esp_in_nosa, 2);
	esp_sa_free(pa);
	fixture_free(&f);
}

/* A Child SA deleted without a successor goes at once (RFC 7296
 * §1.4.1: both members of the pair are closed). */
Test(integ_tun, child_sa_without_successor_goes_at_once, .timeout = 10)
{
	struct fixture f;
	struct ike_child a;
	struct esp_sa *pa;
	uint8_t pkt[256];
	size_t n;

	fixture_init(&f);
	child_make(&a, 0xa0000001, 0, 1);
	cr_assert_not_null(integ_tun_pair_add(&f.is, &a));
	pa = peer_sa(&a);
	cr_assert(integ_tun_child_gone(&f.is, a.spi_in, integ_now_ms()));
	cr_assert(!integ_tun_child_gone(&f.is, a.spi_in, integ_now_ms()));
	cr_assert_eq(integ_tun_retired_expire(&f.is, integ_now_ms()),
	    UINT64_MAX);
	n = seal(pa, 1, pkt, sizeof(pkt));
	cr_assert(!integ_tun_esp_input(&f.is, pkt, n));
	cr_assert_eq(f.r.stats.esp_in_nosa, 1);
	esp_sa_free(pa);
	fixture_free(&f);
}

/* Rekeys faster than INTEG_RETIRED_MS: the retired SAs stay bounded, the
 * oldest giving way; the newest retired one still takes its ESP. */
Test(integ_tun, retired_sas_are_bounded, .timeout = 10)
{
	struct fixture f;
	struct ike_child ch[INTEG_RETIRED_MAX + 3];
	struct esp_sa *peer[INTEG_RETIRED_MAX + 3];
	uint64_t now = integ_now_ms();
	uint8_t pkt[256];
	size_t k, n, kept = 0, last = INTEG_RETIRED_MAX + 2;

	fixture_init(&f);
	child_make(&ch[0], 0x10000000, 0, 1);
	cr_assert_not_null(integ_tun_pair_add(&f.is, &ch[0]));
	peer[0] = peer_sa(&ch[0]);
	for (k = 1; k <= last; k++) {
		child_make(&ch[k], 0x10000000 + (uint32_t)k, ch[k - 1].spi_in,
		    (uint8_t)(k + 1));
		cr_assert_not_null(integ_tun_pair_add(&f.is, &ch[k]));
		peer[k] = peer_sa(&ch[k]);
		cr_assert(integ_tun_child_gone(&f.is, ch[k - 1].spi_in,
		    now + k));
	}
	for (k = 0; k < INTEG_RETIRED_MAX; k++)
		if (f.is.retired[k].in != NULL)
			kept++;
	cr_assert_eq(kept, INTEG_RETIRED_MAX);
	n = seal(peer[0], 1, pkt, sizeof(pkt));
	cr_assert(!integ_tun_esp_input(&f.is, pkt, n), "the oldest gave way");
	n = seal(peer[last - 1], 2, pkt, sizeof(pkt));
	cr_assert(integ_tun_esp_input(&f.is, pkt, n));
	cr_assert_eq(tun_next(&f), 2);
	for (k = 0; k <= last; k++)
		esp_sa_free(peer[k]);
	fixture_free(&f);
}
