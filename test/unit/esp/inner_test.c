/*
 * esp/inner.c: inner IPv4 / IPv6 header validation and traffic selectors
 * (RFC 7296 §3.13.1), one test per rejection rule.
 */
#include <criterion/criterion.h>

#include "esp/inner.h"
#include "esp/sa.h"
#include "framing/wire.h"
#include "test/unit/esp/helpers.h"

TestSuite(inner, .timeout = 10);

static enum esp_result
check(const uint8_t *p, size_t len, uint8_t nh)
{
	struct esp_ts ts[2];
	size_t n = client_ts(ts), ip_len;

	return esp_inner_check(p, len, nh, ts, n, &ip_len);
}

struct v4_case {
	const char	*name;
	size_t		 off;	/* octet to overwrite */
	uint8_t		 val;
	size_t		 len;	/* octets handed over; 0: the packet */
};

static const struct v4_case v4_bad[] = {
	{ "shorter than 20 octets", 0, 0x45, 19 },
	{ "version 5", 0, 0x55, 0 },
	{ "version 6 under next header 4", 0, 0x65, 0 },
	{ "IHL 4", 0, 0x44, 0 },
	{ "IHL beyond the packet", 0, 0x4f, 0 },	/* 60 > 58 */
	{ "total length below IHL", 3, 19, 0 },
	{ "total length beyond what arrived", 3, 0xff, 0 },
};

Test(inner, refuses_each_malformed_ipv4_header)
{
	uint8_t p[256];
	size_t i, len;

	for (i = 0; i < sizeof(v4_bad) / sizeof(v4_bad[0]); i++) {
		len = ipv4_udp(p, client4, 1, 30);
		p[v4_bad[i].off] = v4_bad[i].val;
		cr_assert_eq(check(p, v4_bad[i].len ? v4_bad[i].len : len, 4),
		    ESP_DROP_INNER, "%s", v4_bad[i].name);
	}
}

Test(inner, refuses_each_malformed_ipv6_header)
{
	uint8_t p[256];
	size_t len;

	len = ipv6_udp(p, client6, 1, 30);
	cr_assert_eq(check(p, 39, 41), ESP_DROP_INNER, "short");
	p[0] = 0x40;
	cr_assert_eq(check(p, len, 41), ESP_DROP_INNER, "version");
	p[0] = 0x60;
	store_be16(p + 4, 0);
	cr_assert_eq(check(p, len, 41), ESP_DROP_INNER, "jumbogram");
	store_be16(p + 4, (uint16_t)(len - 40 + 1));
	cr_assert_eq(check(p, len, 41), ESP_DROP_INNER, "too long");
	store_be16(p + 4, (uint16_t)(len - 40));
	cr_assert_eq(check(p, len, 41), ESP_OK);
}

Test(inner, refuses_next_headers_other_than_4_and_41)
{
	uint8_t p[256];
	size_t len = ipv4_udp(p, client4, 1, 30);

	cr_assert_eq(check(p, len, 0), ESP_DROP_NEXT_HDR);
	cr_assert_eq(check(p, len, 6), ESP_DROP_NEXT_HDR);
	cr_assert_eq(check(p, len, 59), ESP_DROP_NEXT_HDR);
}

Test(inner, reports_the_ip_length_without_tfc_padding)
{
	uint8_t p[256];
	struct esp_ts ts[2];
	size_t len = ipv4_udp(p, client4, 1, 30), ip_len;

	cr_assert_eq(esp_inner_check(p, len + 50, 4, ts, client_ts(ts),
	    &ip_len), ESP_OK);
	cr_assert_eq(ip_len, len);
}

Test(inner, matches_an_address_range_inclusively)
{
	static const uint8_t lo[4] = { 10, 0, 0, 10 }, hi[4] = { 10, 0, 1, 9 };
	static const uint8_t in_[][4] = { { 10, 0, 0, 10 }, { 10, 0, 0, 255 },
	    { 10, 0, 1, 9 } };
	static const uint8_t out_[][4] = { { 10, 0, 0, 9 }, { 10, 0, 1, 10 },
	    { 9, 255, 255, 255 } };
	struct esp_ts ts;
	uint8_t p[256];
	size_t i, len, ip_len;

	memset(&ts, 0, sizeof(ts));
	ts.family = 4;
	memcpy(ts.addr_lo, lo, 4);
	memcpy(ts.addr_hi, hi, 4);
	ts.port_hi = 0xffff;
	for (i = 0; i < 3; i++) {
		len = ipv4_udp(p, in_[i], 1, 0);
		cr_assert_eq(esp_inner_check(p, len, 4, &ts, 1, &ip_len),
		    ESP_OK, "in %zu", i);
		len = ipv4_udp(p, out_[i], 1, 0);
		cr_assert_eq(esp_inner_check(p, len, 4, &ts, 1, &ip_len),
		    ESP_DROP_TS, "out %zu", i);
	}
	/* An IPv4 selector never matches IPv6, nor the reverse. */
	len = ipv6_udp(p, client6, 1, 0);
	cr_assert_eq(esp_inner_check(p, len, 41, &ts, 1, &ip_len),
	    ESP_DROP_TS);
	/* No selectors: nothing is allowed. */
	len = ipv4_udp(p, in_[0], 1, 0);
	cr_assert_eq(esp_inner_check(p, len, 4, &ts, 0, &ip_len),
	    ESP_DROP_TS);
}

Test(inner, restricts_protocol_and_source_port)
{
	struct esp_ts ts[2];
	uint8_t p[256];
	size_t len, ip_len;

	client_ts(ts);
	ts[0].proto = 17;
	ts[0].port_lo = 5000;
	ts[0].port_hi = 5010;
	len = ipv4_udp(p, client4, 5000, 10);
	cr_assert_eq(esp_inner_check(p, len, 4, ts, 1, &ip_len), ESP_OK);
	len = ipv4_udp(p, client4, 5010, 10);
	cr_assert_eq(esp_inner_check(p, len, 4, ts, 1, &ip_len), ESP_OK);
	len = ipv4_udp(p, client4, 5011, 10);
	cr_assert_eq(esp_inner_check(p, len, 4, ts, 1, &ip_len),
	    ESP_DROP_TS);
	len = ipv4_udp(p, client4, 5000, 10);
	p[9] = 6;				/* TCP */
	cr_assert_eq(esp_inner_check(p, len, 4, ts, 1, &ip_len),
	    ESP_DROP_TS);
	p[9] = 17;
	store_be16(p + 6, 0x0010);		/* a later fragment */
	cr_assert_eq(esp_inner_check(p, len, 4, ts, 1, &ip_len),
	    ESP_DROP_TS);
	/* Truncated before the port: no port, no match. */
	store_be16(p + 6, 0);
	store_be16(p + 2, 21);
	cr_assert_eq(esp_inner_check(p, 21, 4, ts, 1, &ip_len),
	    ESP_DROP_TS);
}

Test(inner, matches_icmp_type_and_code_as_the_port)
{
	struct esp_ts ts[2];
	uint8_t p[256];
	size_t len, ip_len;

	client_ts(ts);
	ts[0].proto = 1;
	ts[0].port_lo = ts[0].port_hi = 8 << 8;	/* echo request */
	len = ipv4_udp(p, client4, 0x0800, 10);
	p[9] = 1;
	cr_assert_eq(esp_inner_check(p, len, 4, ts, 1, &ip_len), ESP_OK);
	p[20] = 0;				/* echo reply */
	cr_assert_eq(esp_inner_check(p, len, 4, ts, 1, &ip_len),
	    ESP_DROP_TS);
}

Test(inner, walks_ipv6_extension_headers_to_the_port)
{
	struct esp_ts ts[2];
	uint8_t p[256], q[256];
	size_t len, ip_len;

	client_ts(ts);
	ts[1].proto = 17;
	ts[1].port_lo = ts[1].port_hi = 4500;
	len = ipv6_udp(p, client6, 4500, 10);
	/* Insert a Destination Options header (8 octets) before UDP. */
	memcpy(q, p, 40);
	q[6] = 60;
	memset(q + 40, 0, 8);
	q[40] = 17;
	memcpy(q + 48, p + 40, len - 40);
	store_be16(q + 4, (uint16_t)(len - 40 + 8));
	cr_assert_eq(esp_inner_check(q, len + 8, 41, &ts[1], 1, &ip_len),
	    ESP_OK);
	cr_assert_eq(ip_len, len + 8);
	/* The same as a non-first fragment: the port is not visible. */
	q[6] = 44;
	store_be16(q + 42, 0x0008);
	cr_assert_eq(esp_inner_check(q, len + 8, 41, &ts[1], 1, &ip_len),
	    ESP_DROP_TS);
	store_be16(q + 42, 0x0001);	/* first fragment, more follow */
	cr_assert_eq(esp_inner_check(q, len + 8, 41, &ts[1], 1, &ip_len),
	    ESP_OK);
}
