/*
 * relay/cstream.c: what a connector's new connection begins with.  After
 * a reset the output buffer holds the prefix and then one copy of the
 * initiator's last ESP message (so the server can name the new stream by
 * its SPI), and nothing of that kind on the attempt after.  No socket is
 * opened: cstream_reset only arms the retry timer of a private loop, and
 * cstream_stop leaves it unarmed, with only the prefix queued.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <ev.h>

#include "conf/conf.h"
#include "framing/prefix.h"
#include "relay/cstream.h"
#include "relay/relay.h"

TestSuite(cstream);

static struct relay r;
static struct conf_connector cc;
static struct cstream cs;

static void
setup(void)
{
	memset(&r, 0, sizeof(r));
	memset(&cc, 0, sizeof(cc));
	r.loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(r.loop);
	cc.prefix = CONF_PREFIX_IKETCP;
	cc.max_message = 2048;
	cc.write_buffer = 16384;
	cc.reconnect_min_ms = 100;
	cc.reconnect_max_ms = 1000;
	snprintf(cc.server.text, sizeof(cc.server.text), "192.0.2.1:4500");
	cr_assert_eq(cstream_init(&cs, &r, &cc, NULL, NULL, NULL, "t"), 0);
}

static void
teardown_(void)
{
	cstream_cleanup(&cs);
	ev_loop_destroy(r.loop);
}

/* An ESP message: SPI @spi, sequence number @seq, @n bytes in all. */
static size_t
esp(uint8_t *buf, uint32_t spi, uint32_t seq, size_t n)
{
	memset(buf, 0xa5, n);
	buf[0] = (uint8_t)(spi >> 24);
	buf[1] = (uint8_t)(spi >> 16);
	buf[2] = (uint8_t)(spi >> 8);
	buf[3] = (uint8_t)spi;
	buf[4] = (uint8_t)(seq >> 24);
	buf[5] = (uint8_t)(seq >> 16);
	buf[6] = (uint8_t)(seq >> 8);
	buf[7] = (uint8_t)seq;
	return n;
}

/* The buffer is the prefix, then (when @m) exactly one frame of @m. */
static void
expect_start(const uint8_t *m, size_t n)
{
	size_t plen;
	const uint8_t *pfx = prefix_bytes(PREFIX_IKETCP, &plen);
	const uint8_t *at = cs.out + cs.out_off;

	cr_assert_eq(cs.out_len - cs.out_off, plen + (m ? 2 + n : 0));
	cr_assert_arr_eq(at, pfx, plen);
	if (m == NULL)
		return;
	at += plen;
	cr_assert_eq((size_t)(at[0] << 8 | at[1]), n + 2, "frame length");
	cr_assert_arr_eq(at + 2, m, n);
}

Test(cstream, reconnect_opens_with_last_esp_once, .init = setup,
    .fini = teardown_)
{
	uint8_t a[100], b[300], ike[64] = { 0 };

	cr_assert(cstream_send(&cs, false, a, esp(a, 0xc0ffee01, 7, 100),
	    false));
	cr_assert(cstream_send(&cs, false, b, esp(b, 0xc0ffee02, 8, 300),
	    false));
	/* IKE (with or without the Non-ESP marker) is not kept. */
	cr_assert(cstream_send(&cs, false, ike, sizeof(ike), true));
	cr_assert(cstream_send(&cs, true, ike, sizeof(ike), true));

	cstream_reset(&cs, "test");
	expect_start(b, sizeof(b));
	cr_assert_eq(cs.stats.replayed, 1);
	/* Lost again before it carried anything new: only the prefix. */
	cstream_reset(&cs, "test");
	expect_start(NULL, 0);
	cr_assert_eq(cs.stats.replayed, 1);
}

Test(cstream, nothing_to_replay_before_esp, .init = setup,
    .fini = teardown_)
{
	uint8_t ike[64] = { 0 }, shortm[7];

	cr_assert(cstream_send(&cs, false, ike, sizeof(ike), true));
	/* Shorter than an ESP header: not a message that names an SA. */
	memset(shortm, 1, sizeof(shortm));
	cr_assert(cstream_send(&cs, false, shortm, sizeof(shortm), false));
	cstream_reset(&cs, "test");
	expect_start(NULL, 0);
	cr_assert_eq(cs.stats.replayed, 0);
}

Test(cstream, newer_esp_replaces_the_copy, .init = setup,
    .fini = teardown_)
{
	uint8_t a[100], b[200];

	cr_assert(cstream_send(&cs, false, a, esp(a, 0x11111111, 1, 100),
	    false));
	cstream_reset(&cs, "test");
	expect_start(a, sizeof(a));
	/* The next connection is still down; the initiator sends more. */
	cr_assert(cstream_send(&cs, false, b, esp(b, 0x22222222, 1, 200),
	    false));
	cstream_reset(&cs, "test");
	expect_start(b, sizeof(b));
	cr_assert_eq(cs.stats.replayed, 2);
}

Test(cstream, stop_drops_the_queue_and_does_not_reconnect, .init = setup,
    .fini = teardown_)
{
	uint8_t a[100], ike[64] = { 0 };

	cr_assert(cstream_send(&cs, false, a, esp(a, 0x33333333, 1, 100),
	    false));
	cstream_reset(&cs, "test");
	cr_assert(ev_is_active(&cs.retry));
	/* Queued for the next connection: the stop drops it all. */
	cr_assert(cstream_send(&cs, true, ike, sizeof(ike), true));
	cstream_stop(&cs, "test");
	cr_assert_not(ev_is_active(&cs.retry), "no reconnect armed");
	cr_assert_eq(cs.state, CSTREAM_DOWN);
	cr_assert_eq(cs.fd, -1);
	expect_start(NULL, 0);
	/* A second stop of a stopped stream changes nothing. */
	cstream_stop(&cs, "test");
	cr_assert_not(ev_is_active(&cs.retry));
	expect_start(NULL, 0);
}
