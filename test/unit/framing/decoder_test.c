#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing/decoder.h"
#include "framing/encoder.h"

TestSuite(decoder, .timeout = 30);

/* Three frames: an IKE-looking one, a keepalive, an ESP-looking one. */
static const uint8_t stream3[] = {
	0x00, 0x08,			/* length 8 = 2 + 6 */
	0x00, 0x00, 0x00, 0x00,		/* Non-ESP marker */
	0xaa, 0xbb,			/* (truncated payload; decoder is blind) */
	0x00, 0x03, 0xff,		/* NAT keepalive */
	0x00, 0x0c,			/* length 12 */
	0x01, 0x02, 0x03, 0x04,		/* ESP SPI */
	0x00, 0x00, 0x00, 0x01,		/* sequence */
	0xde, 0xad,			/* payload */
};
static const struct {
	size_t off, len;
} stream3_msgs[] = { { 2, 6 }, { 10, 1 }, { 13, 10 } };

struct collect {
	uint8_t msgs[8][64];
	size_t lens[8];
	size_t n;
};

/* Feeds @n bytes in chunks whose sizes come from @cuts; returns the result of the last call. */
static enum frame_result
feed(struct frame_dec *d, const uint8_t *p, size_t n, const size_t *cuts,
    size_t ncuts, struct collect *c)
{
	enum frame_result res = FRAME_NEED_MORE;
	size_t off = 0;

	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		struct rd in = rd_make(p + off, end - off);
		struct rd msg;

		while ((res = frame_decode(d, &in, &msg)) == FRAME_OK ||
		    res == FRAME_NEED_BUF) {
			if (res == FRAME_NEED_BUF) {
				cr_assert_null(d->buf);
				d->buf = malloc(frame_dec_bufsize(d));
				continue;
			}
			cr_assert_lt(c->n, 8);
			cr_assert_leq(msg.n, 64);
			memcpy(c->msgs[c->n], msg.p, msg.n);
			c->lens[c->n++] = msg.n;
		}
		if (res == FRAME_ERROR)
			return res;
		cr_assert_eq(in.n, 0, "input left over at cut %zu", i);
		off = end;
	}
	return res;
}

static void
check_stream3(const struct collect *c, const char *what)
{
	cr_assert_eq(c->n, 3, "%s: %zu messages", what, c->n);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(c->lens[i], stream3_msgs[i].len, "%s: msg %zu", what, i);
		cr_assert_arr_eq(c->msgs[i], stream3 + stream3_msgs[i].off,
		    stream3_msgs[i].len, "%s: msg %zu bytes", what, i);
	}
}

Test(decoder, whole_stream_in_one_read)
{
	struct frame_dec d;
	struct collect c = { 0 };

	frame_dec_init(&d, 1000);
	cr_assert_eq(feed(&d, stream3, sizeof(stream3), NULL, 0, &c),
	    FRAME_NEED_MORE);
	check_stream3(&c, "whole");
	cr_assert_null(d.buf, "no buffer needed when frames are whole");
	cr_assert(!frame_dec_partial(&d));
}

Test(decoder, every_single_split_point)
{
	for (size_t cut = 1; cut < sizeof(stream3); cut++) {
		struct frame_dec d;
		struct collect c = { 0 };
		char what[32];

		frame_dec_init(&d, 1000);
		snprintf(what, sizeof(what), "cut %zu", cut);
		feed(&d, stream3, sizeof(stream3), &cut, 1, &c);
		check_stream3(&c, what);
		cr_assert(!frame_dec_partial(&d), "%s", what);
		free(d.buf);
	}
}

Test(decoder, every_pair_of_split_points)
{
	for (size_t a = 1; a < sizeof(stream3); a++)
		for (size_t b = a; b < sizeof(stream3); b++) {
			size_t cuts[2] = { a, b };
			struct frame_dec d;
			struct collect c = { 0 };
			char what[32];

			frame_dec_init(&d, 1000);
			snprintf(what, sizeof(what), "cuts %zu,%zu", a, b);
			feed(&d, stream3, sizeof(stream3), cuts, 2, &c);
			check_stream3(&c, what);
			free(d.buf);
		}
}

Test(decoder, one_byte_at_a_time)
{
	size_t cuts[sizeof(stream3) - 1];
	struct frame_dec d;
	struct collect c = { 0 };

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		cuts[i] = i + 1;
	frame_dec_init(&d, 1000);
	feed(&d, stream3, sizeof(stream3), cuts, sizeof(cuts) / sizeof(cuts[0]),
	    &c);
	check_stream3(&c, "bytewise");
	free(d.buf);
}

Test(decoder, many_frames_per_read)
{
	enum { N = 500 };
	static uint8_t big[N * 7];
	struct wr w = wr_make(big, sizeof(big));
	struct frame_dec d;
	struct rd in, msg;
	size_t n = 0;

	for (unsigned i = 0; i < N; i++) {
		uint8_t m[5] = { 1, 2, 3, 4, (uint8_t)i };

		cr_assert(frame_encode(&w, m, sizeof(m)));
	}
	frame_dec_init(&d, 100);
	in = rd_make(big, w.len);
	while (frame_decode(&d, &in, &msg) == FRAME_OK) {
		cr_assert_eq(msg.n, 5);
		cr_assert_eq(msg.p[4], (uint8_t)n);
		n++;
	}
	cr_assert_eq(n, N);
}

static const struct {
	uint8_t bytes[2];	/* the length field */
	size_t max;		/* max_message */
	enum frame_result want;
	enum frame_error err;
} length_cases[] = {
	{ { 0x00, 0x00 }, 100, FRAME_ERROR, FRAME_ERR_LENGTH_SHORT },	/* 0 */
	{ { 0x00, 0x01 }, 100, FRAME_ERROR, FRAME_ERR_LENGTH_SHORT },	/* 1 */
	{ { 0x00, 0x02 }, 100, FRAME_OK, FRAME_ERR_NONE },		/* 2: empty */
	{ { 0x00, 0x03 }, 100, FRAME_NEED_BUF, FRAME_ERR_NONE },	/* 3: needs 1 more */
	{ { 0x00, 0x66 }, 100, FRAME_NEED_BUF, FRAME_ERR_NONE },	/* 102 = max */
	{ { 0x00, 0x67 }, 100, FRAME_ERROR, FRAME_ERR_LENGTH_LONG },	/* 103 > max */
	{ { 0xff, 0xff }, 65533, FRAME_NEED_BUF, FRAME_ERR_NONE },	/* wire max */
	{ { 0xff, 0xff }, 65532, FRAME_ERROR, FRAME_ERR_LENGTH_LONG },
};

Test(decoder, length_field_rules)
{
	for (size_t i = 0; i < sizeof(length_cases) / sizeof(length_cases[0]);
	    i++) {
		struct frame_dec d;
		struct rd in = rd_make(length_cases[i].bytes, 2), msg;

		frame_dec_init(&d, length_cases[i].max);
		cr_assert_eq(frame_decode(&d, &in, &msg), length_cases[i].want,
		    "case %zu", i);
		cr_assert_eq(d.err, length_cases[i].err, "case %zu", i);
	}
}

Test(decoder, rejects_length_below_two_after_a_split)
{
	static const uint8_t bad[] = { 0x00, 0x05, 1, 2, 3, 0x00, 0x01 };
	struct frame_dec d;
	struct collect c = { 0 };
	size_t cut = 6;	/* the bad length field arrives split */

	frame_dec_init(&d, 100);
	cr_assert_eq(feed(&d, bad, sizeof(bad), &cut, 1, &c), FRAME_ERROR);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(d.err, FRAME_ERR_LENGTH_SHORT);
	cr_assert_eq(d.bad_len, 1);
	free(d.buf);
}

Test(decoder, rejects_long_frame_before_buffering_it)
{
	static const uint8_t big[] = { 0x10, 0x00 };
	struct frame_dec d;
	struct rd in = rd_make(big, 2), msg;

	frame_dec_init(&d, 1000);
	cr_assert_eq(frame_decode(&d, &in, &msg), FRAME_ERROR);
	cr_assert_eq(d.err, FRAME_ERR_LENGTH_LONG);
	cr_assert_eq(d.bad_len, 0x1000);
	cr_assert_null(d.buf);
	/* Sticky: the stream cannot resynchronise. */
	in = rd_make(stream3, sizeof(stream3));
	cr_assert_eq(frame_decode(&d, &in, &msg), FRAME_ERROR);
}

Test(decoder, need_buf_consumes_nothing)
{
	struct frame_dec d;
	struct rd in = rd_make(stream3, 5), msg;

	frame_dec_init(&d, 100);
	cr_assert_eq(frame_decode(&d, &in, &msg), FRAME_NEED_BUF);
	cr_assert_eq(in.n, 5);
}

Test(decoder, maximum_message_round_trips)
{
	static uint8_t msgbuf[FRAME_MAX_MESSAGE], wire[FRAME_MAX_MESSAGE + 2];
	struct wr w = wr_make(wire, sizeof(wire));
	struct frame_dec d;
	struct rd in, msg;
	size_t cut = 30000;

	for (size_t i = 0; i < sizeof(msgbuf); i++)
		msgbuf[i] = (uint8_t)(i * 7);
	cr_assert(frame_encode(&w, msgbuf, sizeof(msgbuf)));
	cr_assert_eq(w.len, sizeof(wire));
	frame_dec_init(&d, FRAME_MAX_MESSAGE);
	d.buf = malloc(frame_dec_bufsize(&d));
	in = rd_make(wire, cut);
	cr_assert_eq(frame_decode(&d, &in, &msg), FRAME_NEED_MORE);
	in = rd_make(wire + cut, sizeof(wire) - cut);
	cr_assert_eq(frame_decode(&d, &in, &msg), FRAME_OK);
	cr_assert_eq(msg.n, sizeof(msgbuf));
	cr_assert_arr_eq(msg.p, msgbuf, sizeof(msgbuf));
	free(d.buf);
}

Test(encoder, refuses_oversize_and_full_buffers)
{
	uint8_t buf[8], hdr[2];
	struct wr w = wr_make(buf, sizeof(buf));
	static const uint8_t m[6] = { 1, 2, 3, 4, 5, 6 };

	cr_assert_not(frame_header(hdr, FRAME_MAX_MESSAGE + 1));
	cr_assert(frame_header(hdr, FRAME_MAX_MESSAGE));
	cr_assert_eq(hdr[0], 0xff);
	cr_assert_eq(hdr[1], 0xff);
	cr_assert(frame_encode(&w, m, 6));
	cr_assert_eq(w.len, 8);
	cr_assert_eq(buf[1], 8);
	cr_assert_not(frame_encode(&w, m, 0), "no room for even a header");
	cr_assert_eq(w.len, 8);
}
