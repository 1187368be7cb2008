/*
 * Next-layer sniffing: every recognised form, fed one byte more at a time,
 * is NEED_MORE until its deciding byte and the right layer from then on.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tls/sniff.h"

TestSuite(sniff, .timeout = 10);

struct vec {
	const char	*name;
	const char	*bytes;		/* the form, plus what may follow */
	size_t		 len;		/* bytes */
	size_t		 decide;	/* prefix length that decides */
	enum sniff_layer want;		/* answer from @decide bytes on */
	enum sniff_layer before;	/* answer below @decide bytes */
};

#define B(s)	s, sizeof(s) - 1

/* The first 12 bytes of a PROXY v2 header (proxy-protocol.txt §2.2). */
#define V2SIG	"\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"

static const struct vec vecs[] = {
	{ "tls 1.0 record",
	  B("\x16"		/* handshake */
	    "\x03\x01"		/* legacy_record_version 0x0301 */
	    "\x02\x00"		/* record length 512 */
	    "\x01"		/* ClientHello */
	    "\x00\x01\xfc"),	/* handshake length */
	  6, SNIFF_TLS, SNIFF_NEED_MORE },
	{ "tls 1.2 record", B("\x16\x03\x03\x00\xf8\x01\x00"),
	  6, SNIFF_TLS, SNIFF_NEED_MORE },
	{ "tls 1.3 record version", B("\x16\x03\x04\x00\x04\x01"), 6,
	  SNIFF_TLS, SNIFF_NEED_MORE },
	{ "tls minimum length 4", B("\x16\x03\x01\x00\x04\x01"), 6,
	  SNIFF_TLS, SNIFF_NEED_MORE },
	{ "tls maximum length 16640", B("\x16\x03\x01\x41\x00\x01"), 6,
	  SNIFF_TLS, SNIFF_NEED_MORE },
	{ "connect", B("CONNECT gw.example.net:443 HTTP/1.1\r\n"), 8,
	  SNIFF_CONNECT, SNIFF_NEED_MORE },
	{ "proxy v1", B("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n"), 6,
	  SNIFF_PROXY_V1, SNIFF_NEED_MORE },
	{ "proxy v2", B(V2SIG "\x21\x11\x00\x0c"),
	  12, SNIFF_PROXY_V2, SNIFF_NEED_MORE },
	{ "prefix IKETCP", B("IKETCP\x00\x10"),
	  1, SNIFF_PREFIX, SNIFF_NEED_MORE },
	{ "prefix IKEv2", B("IKEv2\x00\x10"),
	  1, SNIFF_PREFIX, SNIFF_NEED_MORE },
	/*
	 * Rejections: each decided at the first byte that leaves all forms.
	 * A start of the stream prefix is handed to framing/ at once (the
	 * relay does not sniff again), so those cases say PREFIX before.
	 */
	{ "GET", B("GET / HTTP/1.1\r\n"), 1, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "lower-case connect", B("connect a:1 HTTP/1.1\r\n"), 1,
	  SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "CONNECT without space", B("CONNECTX"),
	  8, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "CONNECT with tab", B("CONNECT\t"),
	  8, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "PROXY without space", B("PROXY\r\n"),
	  6, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "proxy v2 signature broken at its last byte",
	  B("\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54" "X"), 12,
	  SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "IKE then garbage", B("IKX"), 3, SNIFF_UNKNOWN,
	  SNIFF_PREFIX },
	{ "IKEV2 upper-case v", B("IKEV2"), 4, SNIFF_UNKNOWN,
	  SNIFF_PREFIX },
	{ "IKETC then garbage", B("IKETCX"), 6, SNIFF_UNKNOWN,
	  SNIFF_PREFIX },
	{ "tls alert", B("\x15\x03\x01\x00\x02\x02"),
	  1, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "tls major 2", B("\x16\x02\x01\x00\x04\x01"),
	  2, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "ssl 3.0 record", B("\x16\x03\x00\x00\x04\x01"),
	  3, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "tls minor 5", B("\x16\x03\x05\x00\x04\x01"),
	  3, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "tls length high byte too big", B("\x16\x03\x01\x42\x00\x01"), 4,
	  SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "tls length 16641", B("\x16\x03\x01\x41\x01\x01"), 5,
	  SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "tls length 3", B("\x16\x03\x01\x00\x03\x01"),
	  5, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "tls ServerHello", B("\x16\x03\x03\x00\x40\x02"),
	  6, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
	{ "zero byte", B("\x00\x10"), 1, SNIFF_UNKNOWN, SNIFF_NEED_MORE },
};

Test(sniff, empty_input_needs_more)
{
	cr_assert_eq(sniff_detect(NULL, 0), SNIFF_NEED_MORE);
}

Test(sniff, decides_each_form_at_its_deciding_byte_and_never_earlier)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		const uint8_t *buf = (const uint8_t *)v->bytes;
		size_t decide = v->decide;

		for (size_t k = 1; k <= v->len; k++) {
			enum sniff_layer got = sniff_detect(buf, k);
			enum sniff_layer want = k < decide ? v->before :
			    v->want;

			cr_expect_eq(got, want,
			    "%s: %zu bytes: got %s, want %s", v->name, k,
			    sniff_layer_name(got),
			    sniff_layer_name(want));
		}
	}
}

Test(sniff, accepts_every_tls_record_version_from_0301_to_0304)
{
	for (uint8_t minor = 1; minor <= 4; minor++) {
		uint8_t rec[] = { 0x16, 0x03, minor, 0x01, 0x00, 0x01 };

		cr_expect_eq(sniff_detect(rec, sizeof(rec)), SNIFF_TLS,
		    "minor %u", minor);
	}
}

Test(sniff, answers_prefix_for_partial_stream_prefixes)
{
	static const char *const parts[] = { "I", "IK", "IKE", "IKET", "IKETC",
	    "IKEv" };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		cr_expect_eq(sniff_detect((const uint8_t *)parts[i],
		    strlen(parts[i])), SNIFF_PREFIX, "%s", parts[i]);
}

Test(sniff, names_every_layer)
{
	cr_expect_str_eq(sniff_layer_name(SNIFF_TLS), "tls");
	cr_expect_str_eq(sniff_layer_name(SNIFF_CONNECT), "connect");
	cr_expect_str_eq(sniff_layer_name(SNIFF_PROXY_V1), "proxy-v1");
	cr_expect_str_eq(sniff_layer_name(SNIFF_PROXY_V2), "proxy-v2");
	cr_expect_str_eq(sniff_layer_name(SNIFF_PREFIX), "prefix");
	cr_expect_str_eq(sniff_layer_name(SNIFF_UNKNOWN), "unknown");
	cr_expect_str_eq(sniff_layer_name(SNIFF_NEED_MORE), "need-more");
}

Test(sniff, hex_dump_shows_hex_and_safe_ascii)
{
	char out[SNIFF_HEX_MAX];
	size_t len;

	len = sniff_hex(out, sizeof(out), (const uint8_t *)"GET\x00\x7f", 5);
	cr_assert_str_eq(out, "47 45 54 00 7f |GET..|");
	cr_assert_eq(len, strlen(out));
}

Test(sniff, hex_dump_of_nothing_is_empty_bars)
{
	char out[SNIFF_HEX_MAX];

	cr_assert_eq(sniff_hex(out, sizeof(out), NULL, 0), 2);
	cr_assert_str_eq(out, "||");
}

Test(sniff, hex_dump_shows_at_most_32_bytes_and_counts_the_rest)
{
	uint8_t in[1000];
	char out[SNIFF_HEX_MAX], want[SNIFF_HEX_MAX];
	size_t len;

	memset(in, 'A', sizeof(in));
	len = sniff_hex(out, sizeof(out), in, sizeof(in));
	want[0] = '\0';
	for (int i = 0; i < 32; i++)
		strcat(want, i ? " 41" : "41");
	strcat(want, " |AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA| +968 more");
	cr_assert_str_eq(out, want);
	cr_assert_eq(len, strlen(want));
	cr_assert_lt(len, SNIFF_HEX_MAX);
}

Test(sniff, hex_dump_truncates_to_a_small_buffer)
{
	char out[6];
	size_t len;

	memset(out, 'Z', sizeof(out));
	len = sniff_hex(out, sizeof(out), (const uint8_t *)"\x16\x03\x01", 3);
	cr_assert_eq(len, 5);
	cr_assert_str_eq(out, "16 03");
	cr_assert_eq(sniff_hex(out, 0, (const uint8_t *)"x", 1), 0);
	cr_assert_eq(out[0], '1', "cap 0 must not write");
}
