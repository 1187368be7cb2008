/*
 * PROXY protocol v1/v2 (haproxy proxy-protocol.txt): good headers whole and
 * in every prefix, and one test per rejection rule in tls/proxy.c.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tls/proxy.h"

TestSuite(proxy, .timeout = 10);

#define B(s)	s, sizeof(s) - 1

/* §2.2: the v2 signature. */
#define SIG	"\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"
/* A printable 39-character IPv6 address, the longest v1 form. */
#define V6MAX	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

struct good {
	const char	*name;
	const char	*bytes;		/* the header */
	size_t		 len;		/* its length, bytes */
	bool		 local;		/* expected .local */
	bool		 has_addr;	/* expected .has_addr */
	int		 af;		/* family when has_addr */
	const char	*src;		/* presentation form */
	const char	*dst;
	uint16_t	 sport;
	uint16_t	 dport;
};

static const struct good goods[] = {
	{ "v1 tcp4",
	  B("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
	  false, true, AF_INET, "192.168.0.1", "192.168.0.11", 56324, 443 },
	{ "v1 tcp4 ports 0 and 65535",
	  B("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"),
	  false, true, AF_INET, "0.0.0.0", "255.255.255.255", 0, 65535 },
	{ "v1 tcp6",
	  B("PROXY TCP6 2001:db8::1 2001:db8::2 4500 443\r\n"),
	  false, true, AF_INET6, "2001:db8::1", "2001:db8::2", 4500, 443 },
	{ "v1 tcp6 longest line (104 bytes)",
	  B("PROXY TCP6 " V6MAX " " V6MAX " 65535 65535\r\n"),
	  false, true, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 65535 },
	{ "v1 unknown short form", B("PROXY UNKNOWN\r\n"),
	  false, false, 0, NULL, NULL, 0, 0 },
	{ "v1 unknown worst case (107 bytes)",
	  B("PROXY UNKNOWN " V6MAX " " V6MAX " 65535 65535\r\n"),
	  false, false, 0, NULL, NULL, 0, 0 },
	{ "v2 tcp4",
	  B(SIG
	    "\x21"			/* version 2, PROXY */
	    "\x11"			/* AF_INET, STREAM */
	    "\x00\x0c"			/* 12 address bytes */
	    "\xc0\x00\x02\x01"		/* src 192.0.2.1 */
	    "\xc6\x33\x64\x02"		/* dst 198.51.100.2 */
	    "\xdc\x05"			/* sport 56325 */
	    "\x01\xbb"),		/* dport 443 */
	  false, true, AF_INET, "192.0.2.1", "198.51.100.2", 56325, 443 },
	{ "v2 tcp6",
	  B(SIG
	    "\x21"			/* version 2, PROXY */
	    "\x21"			/* AF_INET6, STREAM */
	    "\x00\x24"			/* 36 address bytes */
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x00\x00\x00\x01"	/* src 2001:db8::1 */
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x00\x00\x00\x02"	/* dst 2001:db8::2 */
	    "\x11\x94"			/* sport 4500 */
	    "\x01\xbb"),		/* dport 443 */
	  false, true, AF_INET6, "2001:db8::1", "2001:db8::2", 4500, 443 },
	{ "v2 tcp4 with TLVs",
	  B(SIG
	    "\x21"			/* version 2, PROXY */
	    "\x11"			/* AF_INET, STREAM */
	    "\x00\x14"			/* 12 address + 8 TLV bytes */
	    "\x0a\x00\x00\x01"		/* src 10.0.0.1 */
	    "\x0a\x00\x00\x02"		/* dst 10.0.0.2 */
	    "\x00\x01"			/* sport 1 */
	    "\x00\x02"			/* dport 2 */
	    "\x01" "\x00\x02" "h2"	/* PP2_TYPE_ALPN, length 2 */
	    "\x04" "\x00\x00"),		/* PP2_TYPE_NOOP, length 0 */
	  false, true, AF_INET, "10.0.0.1", "10.0.0.2", 1, 2 },
	{ "v2 local",
	  B(SIG
	    "\x20"			/* version 2, LOCAL */
	    "\x00"			/* AF_UNSPEC, UNSPEC */
	    "\x00\x00"),		/* no address block */
	  true, false, 0, NULL, NULL, 0, 0 },
	{ "v2 local with an ignored block",
	  B(SIG
	    "\x20"			/* version 2, LOCAL */
	    "\x11"			/* AF_INET, STREAM: ignored */
	    "\x00\x05"			/* 5 bytes, fewer than AF_INET's */
	    "\x01\x02\x03\x04\x05"),
	  true, false, 0, NULL, NULL, 0, 0 },
	{ "v2 proxy unspec",
	  B(SIG
	    "\x21"			/* version 2, PROXY */
	    "\x00"			/* AF_UNSPEC, UNSPEC */
	    "\x00\x00"),		/* no address block */
	  false, false, 0, NULL, NULL, 0, 0 },
};

/* AF_UNIX stream: 2 * 108 address bytes, too long for a literal table. */
static size_t
make_v2_unix(uint8_t *buf, size_t tlv_len, bool tlv_short)
{
	size_t n = 0, len = 216 + tlv_len;

	memcpy(buf, SIG, 12);
	n = 12;
	buf[n++] = 0x21;		/* version 2, PROXY */
	buf[n++] = 0x31;		/* AF_UNIX, STREAM */
	buf[n++] = (uint8_t)(len >> 8);
	buf[n++] = (uint8_t)len;
	memset(buf + n, 'u', 216);	/* two sun_path values */
	n += 216;
	if (tlv_len > 0) {
		buf[n++] = 0x04;	/* PP2_TYPE_NOOP */
		buf[n++] = 0x00;
		buf[n++] = (uint8_t)(tlv_short ? tlv_len : tlv_len - 3);
		memset(buf + n, 0, tlv_len - 3);
		n += tlv_len - 3;
	}
	return n;
}

static void
expect_addr(const struct good *g, const struct sockaddr_storage *ss,
    const char *want, uint16_t port)
{
	char got[INET6_ADDRSTRLEN];
	const void *a;
	uint16_t p;

	cr_assert_eq(ss->ss_family, g->af, "%s: family", g->name);
	if (g->af == AF_INET) {
		a = &((const struct sockaddr_in *)ss)->sin_addr;
		p = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else {
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		p = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	cr_assert_not_null(inet_ntop(g->af, a, got, sizeof(got)));
	cr_expect_str_eq(got, want, "%s: address", g->name);
	cr_expect_eq(p, port, "%s: port %u", g->name, p);
}

Test(proxy, parses_good_headers_and_leaves_what_follows)
{
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		uint8_t buf[256];
		struct proxy_hdr h;
		size_t used = 99;

		memcpy(buf, g->bytes, g->len);
		memcpy(buf + g->len, "IKETCP", 6);
		cr_assert_eq(proxy_parse(buf, g->len + 6, &h, &used), PROXY_OK,
		    "%s: %s", g->name, h.error ? h.error : "");
		cr_expect_eq(used, g->len, "%s: consumed %zu", g->name, used);
		cr_expect_eq(h.local, g->local, "%s: local", g->name);
		cr_expect_eq(h.has_addr, g->has_addr, "%s: has_addr", g->name);
		if (g->has_addr) {
			expect_addr(g, &h.src, g->src, g->sport);
			expect_addr(g, &h.dst, g->dst, g->dport);
		}
	}
}

Test(proxy, needs_more_for_every_strict_prefix_of_a_good_header)
{
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		struct proxy_hdr h;
		size_t used;

		for (size_t k = 0; k < g->len; k++) {
			cr_expect_eq(proxy_parse((const uint8_t *)g->bytes, k,
			    &h, &used), PROXY_NEED_MORE, "%s: %zu bytes: %s",
			    g->name, k, h.error ? h.error : "");
			cr_expect_eq(used, 0);
		}
	}
}

Test(proxy, checks_lengths_of_the_v1_vectors)
{
	cr_assert_eq(sizeof("PROXY TCP6 " V6MAX " " V6MAX " 65535 65535\r\n")
	    - 1, 104);
	cr_assert_eq(sizeof("PROXY UNKNOWN " V6MAX " " V6MAX
	    " 65535 65535\r\n") - 1, PROXY_V1_MAX);
}

Test(proxy, parses_v2_unix_without_addresses)
{
	uint8_t buf[300];
	struct proxy_hdr h;
	size_t used, n;

	n = make_v2_unix(buf, 0, false);
	cr_assert_eq(proxy_parse(buf, n, &h, &used), PROXY_OK, "%s", h.error);
	cr_expect_eq(used, 16 + 216);
	cr_expect(!h.has_addr);
	cr_expect(!h.local);
	n = make_v2_unix(buf, 7, false);
	cr_assert_eq(proxy_parse(buf, n, &h, &used), PROXY_OK, "%s", h.error);
	cr_expect_eq(used, 16 + 216 + 7);
}

struct bad {
	const char	*name;
	const char	*bytes;		/* input */
	size_t		 len;		/* bytes */
	const char	*error;		/* expected reason */
};

/* One or more cases per rejection rule, each named after its rule. */
static const struct bad bads[] = {
	{ "neither signature", B("GET / HTTP/1.1\r\n"),
	  "not a PROXY protocol header" },
	{ "lower-case v1 magic", B("proxy TCP4"),
	  "not a PROXY protocol header" },
	{ "v1 LF without CR", B("PROXY UNKNOWN\n"), "v1: LF without CR" },
	{ "v1 CR without LF", B("PROXY UNKNOWN\rX"), "v1: CR without LF" },
	{ "v1 NUL byte", B("PROXY TCP4\x00"),
	  "v1: byte not printable US-ASCII" },
	{ "v1 high byte", B("PROXY \xff"), "v1: byte not printable US-ASCII" },
	{ "v1 tab", B("PROXY TCP4\t"), "v1: byte not printable US-ASCII" },
	{ "v1 empty protocol", B("PROXY \r\n"), "v1: bad protocol field" },
	{ "v1 two spaces", B("PROXY  TCP4 1.2.3.4 1.2.3.4 1 2\r\n"),
	  "v1: bad protocol field" },
	{ "v1 protocol alone", B("PROXY TCP4\r\n"),
	  "v1: wrong number of fields" },
	{ "v1 protocol TCP5", B("PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n"),
	  "v1: protocol not TCP4, TCP6 or UNKNOWN" },
	{ "v1 protocol UNKNOWNX", B("PROXY UNKNOWNX\r\n"),
	  "v1: protocol not TCP4, TCP6 or UNKNOWN" },
	{ "v1 protocol lower case", B("PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n"),
	  "v1: protocol not TCP4, TCP6 or UNKNOWN" },
	{ "v1 one field short", B("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n"),
	  "v1: wrong number of fields" },
	{ "v1 one field more", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n"),
	  "v1: wrong number of fields" },
	{ "v1 trailing space", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n"),
	  "v1: wrong number of fields" },
	{ "v1 double space", B("PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n"),
	  "v1: wrong number of fields" },
	{ "v1 leading zero in address",
	  B("PROXY TCP4 1.2.3.04 1.2.3.4 1 2\r\n"), "v1: bad address" },
	{ "v1 octet 256", B("PROXY TCP4 1.2.3.4 1.2.3.256 1 2\r\n"),
	  "v1: bad address" },
	{ "v1 three octets", B("PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n"),
	  "v1: bad address" },
	{ "v1 IPv6 under TCP4", B("PROXY TCP4 ::1 ::1 1 2\r\n"),
	  "v1: bad address" },
	{ "v1 IPv4 under TCP6", B("PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n"),
	  "v1: bad address" },
	{ "v1 two double colons", B("PROXY TCP6 1::2::3 ::1 1 2\r\n"),
	  "v1: bad address" },
	{ "v1 port 65536", B("PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n"),
	  "v1: bad port" },
	{ "v1 port leading zero", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 02\r\n"),
	  "v1: bad port" },
	{ "v1 port six digits", B("PROXY TCP4 1.2.3.4 1.2.3.4 100000 2\r\n"),
	  "v1: bad port" },
	{ "v1 port sign", B("PROXY TCP4 1.2.3.4 1.2.3.4 +1 2\r\n"),
	  "v1: bad port" },
	{ "v1 port letter", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 2a\r\n"),
	  "v1: bad port" },
	{ "v2 version 1",
	  B(SIG "\x11"),		/* version 1, PROXY */
	  "v2: version not 2" },
	{ "v2 command 2",
	  B(SIG "\x22"),		/* version 2, command 2 */
	  "v2: unassigned command" },
	{ "v2 family 4",
	  B(SIG "\x21" "\x41"),		/* PROXY; family 4, STREAM */
	  "v2: unassigned address family" },
	{ "v2 transport 3",
	  B(SIG "\x21" "\x13"),		/* PROXY; AF_INET, transport 3 */
	  "v2: unassigned transport protocol" },
	{ "v2 length 1025",
	  B(SIG "\x21" "\x11" "\x04\x01"), /* PROXY; TCP4; 1025 bytes */
	  "v2: length over 1024" },
	{ "v2 udp4",
	  B(SIG "\x21" "\x12" "\x00\x0c"	/* PROXY; UDP over IPv4 */
	    "\x01\x02\x03\x04" "\x01\x02\x03\x04" "\x00\x01" "\x00\x02"),
	  "v2: datagram transport on a stream" },
	{ "v2 inet with unspec transport",
	  B(SIG "\x21" "\x10" "\x00\x0c"	/* PROXY; AF_INET, UNSPEC */
	    "\x01\x02\x03\x04" "\x01\x02\x03\x04" "\x00\x01" "\x00\x02"),
	  "v2: IP family without STREAM transport" },
	{ "v2 tcp4 block of 11",
	  B(SIG "\x21" "\x11" "\x00\x0b"	/* PROXY; TCP4; 11 bytes */
	    "\x01\x02\x03\x04" "\x01\x02\x03\x04" "\x00\x01" "\x00"),
	  "v2: address block shorter than its family" },
	{ "v2 tcp6 block of 12",
	  B(SIG "\x21" "\x21" "\x00\x0c"	/* PROXY; TCP6; 12 bytes */
	    "\x01\x02\x03\x04" "\x01\x02\x03\x04" "\x00\x01" "\x00\x02"),
	  "v2: address block shorter than its family" },
	{ "v2 TLV value overruns",
	  B(SIG "\x21" "\x11" "\x00\x10"	/* PROXY; TCP4; 16 bytes */
	    "\x01\x02\x03\x04" "\x01\x02\x03\x04" "\x00\x01" "\x00\x02"
	    "\x04" "\x00\x02" "x"),		/* NOOP of 2, 1 present */
	  "v2: TLV overruns the header" },
	{ "v2 TLV header cut",
	  B(SIG "\x21" "\x11" "\x00\x0e"	/* PROXY; TCP4; 14 bytes */
	    "\x01\x02\x03\x04" "\x01\x02\x03\x04" "\x00\x01" "\x00\x02"
	    "\x04" "\x00"),			/* 2 of 3 header bytes */
	  "v2: TLV overruns the header" },
};

Test(proxy, rejects_each_malformed_header_with_its_reason)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct proxy_hdr h;
		size_t used = 99;

		cr_expect_eq(proxy_parse((const uint8_t *)b->bytes, b->len, &h,
		    &used), PROXY_ERROR, "%s", b->name);
		cr_expect_eq(used, 0, "%s", b->name);
		cr_expect_str_eq(h.error ? h.error : "", b->error, "%s: %s",
		    b->name, h.error ? h.error : "(none)");
	}
}

Test(proxy, rejects_v1_without_crlf_within_107_bytes)
{
	uint8_t buf[200];
	struct proxy_hdr h;
	size_t used;

	memcpy(buf, "PROXY UNKNOWN ", 14);
	memset(buf + 14, 'x', sizeof(buf) - 14);
	cr_expect_eq(proxy_parse(buf, PROXY_V1_MAX - 1, &h, &used),
	    PROXY_NEED_MORE);
	cr_expect_eq(proxy_parse(buf, PROXY_V1_MAX, &h, &used), PROXY_ERROR);
	cr_expect_str_eq(h.error, "v1: no CRLF within 107 bytes");
}

Test(proxy, rejects_v1_line_of_108_bytes)
{
	uint8_t buf[200];
	struct proxy_hdr h;
	size_t used;

	memcpy(buf, "PROXY UNKNOWN ", 14);
	memset(buf + 14, 'x', sizeof(buf) - 14);
	buf[106] = '\r';		/* CRLF would end at byte 108 */
	buf[107] = '\n';
	cr_expect_eq(proxy_parse(buf, PROXY_V1_MAX, &h, &used), PROXY_ERROR);
	cr_expect_str_eq(h.error, "v1: line longer than 107 bytes");
}

Test(proxy, rejects_unix_tlv_overrun)
{
	uint8_t buf[300];
	struct proxy_hdr h;
	size_t used, n;

	n = make_v2_unix(buf, 7, true);	/* TLV claims 7, has 4 */
	cr_expect_eq(proxy_parse(buf, n, &h, &used), PROXY_ERROR);
	cr_expect_str_eq(h.error, "v2: TLV overruns the header");
}

Test(proxy, rejects_unix_block_shorter_than_216)
{
	uint8_t buf[300];
	struct proxy_hdr h;
	size_t used, n;

	n = make_v2_unix(buf, 0, false);
	buf[15] = 215;			/* length 215 */
	cr_expect_eq(proxy_parse(buf, n - 1, &h, &used), PROXY_ERROR);
	cr_expect_str_eq(h.error, "v2: address block shorter than its family");
}

Test(proxy, accepts_v2_length_1024_and_waits_for_it)
{
	uint8_t buf[16 + 1024];
	struct proxy_hdr h;
	size_t used;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, SIG "\x20\x00\x04\x00", 16);	/* LOCAL, 1024 */
	cr_expect_eq(proxy_parse(buf, sizeof(buf) - 1, &h, &used),
	    PROXY_NEED_MORE);
	cr_expect_eq(proxy_parse(buf, sizeof(buf), &h, &used), PROXY_OK);
	cr_expect_eq(used, sizeof(buf));
	cr_expect(h.local);
}

Test(proxy, decides_v2_errors_at_the_byte_that_breaks_them)
{
	struct proxy_hdr h;
	size_t used;

	cr_expect_eq(proxy_parse((const uint8_t *)SIG "\x11", 13, &h, &used),
	    PROXY_ERROR);
	cr_expect_eq(proxy_parse((const uint8_t *)SIG "\x21\x11\xff", 15, &h,
	    &used), PROXY_NEED_MORE);
	cr_expect_eq(proxy_parse((const uint8_t *)SIG "\x21\x11\xff\xff", 16,
	    &h, &used), PROXY_ERROR);
}
