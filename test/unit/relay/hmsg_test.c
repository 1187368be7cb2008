/*
 * relay/hmsg.c: the handoff message.  A round trip for IPv4 and IPv6,
 * then one test per rejection rule of hmsg_decode(), each on a message
 * that is valid but for one field, and the encoder's refusals.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "framing/prefix.h"
#include "relay/hmsg.h"

TestSuite(hmsg);

static const uint8_t payload[] = { 0x00, 0x1a, 0xc0, 0xde, 0x00, 0x01 };

static struct hmsg
sample(int family)
{
	struct hmsg m;

	memset(&m, 0, sizeof(m));
	m.kind = HMSG_SPLICE;
	m.from = 3;
	m.stream = 0x0102030405060708ULL;
	m.layers = 0x03;
	m.prefix = PREFIX_IKEV2;
	snprintf(m.section, sizeof(m.section), "edge-1.a_b");
	m.bytes = payload;
	m.nbytes = sizeof(payload);
	if (family == AF_INET) {
		struct sockaddr_in *p = (struct sockaddr_in *)&m.peer;
		struct sockaddr_in *l = (struct sockaddr_in *)&m.laddr;

		p->sin_family = l->sin_family = AF_INET;
		p->sin_port = htons(40001);
		l->sin_port = htons(443);
		inet_pton(AF_INET, "198.51.100.7", &p->sin_addr);
		inet_pton(AF_INET, "192.0.2.1", &l->sin_addr);
	} else {
		struct sockaddr_in6 *p = (struct sockaddr_in6 *)&m.peer;
		struct sockaddr_in6 *l = (struct sockaddr_in6 *)&m.laddr;

		p->sin6_family = l->sin6_family = AF_INET6;
		p->sin6_port = htons(40001);
		l->sin6_port = htons(4500);
		p->sin6_scope_id = 7;
		inet_pton(AF_INET6, "2001:db8::7", &p->sin6_addr);
		inet_pton(AF_INET6, "fe80::1", &l->sin6_addr);
	}
	return m;
}

/* @m on the wire: head then bytes; the length. */
static size_t
wire(const struct hmsg *m, uint8_t *buf, size_t cap)
{
	size_t n = hmsg_encode_head(m, buf, cap);

	cr_assert_gt(n, 0, "the sample encodes");
	cr_assert_leq(n + m->nbytes, cap);
	memcpy(buf + n, m->bytes, m->nbytes);
	return n + m->nbytes;
}

static void
round_trip(int family)
{
	struct hmsg m = sample(family), d;
	uint8_t buf[512];
	size_t n = wire(&m, buf, sizeof(buf));

	cr_assert(hmsg_decode(buf, n, &d));
	cr_assert_eq(d.kind, m.kind);
	cr_assert_eq(d.from, m.from);
	cr_assert_eq(d.stream, m.stream);
	cr_assert_eq(d.layers, m.layers);
	cr_assert_eq(d.prefix, m.prefix);
	cr_assert_str_eq(d.section, m.section);
	cr_assert_eq(memcmp(&d.peer, &m.peer, sizeof(d.peer)), 0);
	cr_assert_eq(memcmp(&d.laddr, &m.laddr, sizeof(d.laddr)), 0);
	cr_assert_eq(d.nbytes, sizeof(payload));
	cr_assert_arr_eq(d.bytes, payload, sizeof(payload));
	cr_assert(d.bytes >= buf && d.bytes < buf + n, "points into it");
}

Test(hmsg, round_trips_ipv4, .timeout = 10)
{
	round_trip(AF_INET);
}

Test(hmsg, round_trips_ipv6_with_its_scope, .timeout = 10)
{
	round_trip(AF_INET6);
}

/* Offsets in an IPv4 sample: head fields, then addresses of 7 bytes. */
enum {
	O_VERSION = 0,
	O_KIND = 1,
	O_FROM = 2,
	O_LAYERS = 3,
	O_PREFIX = 4,
	O_PEER = 13,
	O_LADDR = 20,
	O_SLEN = 27,
	O_NAME = 28,
};

struct bad {
	const char	*what;
	size_t		 off;
	uint8_t		 val;
};

Test(hmsg, rejects_each_field_out_of_range, .timeout = 10)
{
	static const struct bad cases[] = {
		{ "version 0", O_VERSION, 0 },
		{ "version 2", O_VERSION, 2 },
		{ "kind 0", O_KIND, 0 },
		{ "kind 3", O_KIND, 3 },
		{ "worker 64", O_FROM, HMSG_WORKERS_MAX },
		{ "unknown layer", O_LAYERS, 0x08 },
		{ "prefix 2", O_PREFIX, 2 },
		{ "peer family 5", O_PEER, 5 },
		{ "laddr family 0", O_LADDR, 0 },
		{ "name length 0", O_SLEN, 0 },
		{ "name length 64", O_SLEN, 64 },
		{ "name with a space", O_NAME + 2, ' ' },
		{ "name with a slash", O_NAME, '/' },
		{ "name with a NUL", O_NAME + 1, 0 },
	};
	struct hmsg m = sample(AF_INET), d;
	uint8_t good[512], buf[512];
	size_t n = wire(&m, good, sizeof(good));

	cr_assert(hmsg_decode(good, n, &d));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(buf, good, n);
		buf[cases[i].off] = cases[i].val;
		cr_assert_not(hmsg_decode(buf, n, &d), "case %zu: %s", i,
		    cases[i].what);
	}
}

Test(hmsg, rejects_a_byte_count_other_than_what_follows, .timeout = 10)
{
	struct hmsg m = sample(AF_INET), d;
	uint8_t buf[512];
	size_t n = wire(&m, buf, sizeof(buf));

	cr_assert_not(hmsg_decode(buf, n - 1, &d), "one byte short");
	buf[n] = 0;
	cr_assert_not(hmsg_decode(buf, n + 1, &d), "one byte over");
}

Test(hmsg, rejects_every_truncation_of_the_head, .timeout = 10)
{
	struct hmsg m = sample(AF_INET6), d;
	uint8_t buf[512];
	size_t n = wire(&m, buf, sizeof(buf));

	for (size_t k = 0; k < n - m.nbytes; k++)
		cr_assert_not(hmsg_decode(buf, k, &d), "%zu bytes", k);
}

Test(hmsg, rejects_a_byte_count_over_its_bound, .timeout = 10)
{
	struct hmsg m = sample(AF_INET), d;
	uint8_t buf[512];
	size_t n = wire(&m, buf, sizeof(buf)), at = n - m.nbytes - 4;

	/* The count says HMSG_BYTES_MAX + 1; that much does not follow,
	 * but the bound is checked on its own. */
	buf[at] = (uint8_t)((HMSG_BYTES_MAX + 1) >> 24);
	buf[at + 1] = (uint8_t)((HMSG_BYTES_MAX + 1) >> 16);
	buf[at + 2] = (uint8_t)((HMSG_BYTES_MAX + 1) >> 8);
	buf[at + 3] = (uint8_t)(HMSG_BYTES_MAX + 1);
	cr_assert_not(hmsg_decode(buf, n, &d));
}

Test(hmsg, encoder_refuses_what_the_decoder_would, .timeout = 10)
{
	uint8_t buf[512];
	struct hmsg m;

	m = sample(AF_INET);
	m.from = HMSG_WORKERS_MAX;
	cr_assert_eq(hmsg_encode_head(&m, buf, sizeof(buf)), 0);
	m = sample(AF_INET);
	m.section[0] = '\0';
	cr_assert_eq(hmsg_encode_head(&m, buf, sizeof(buf)), 0);
	m = sample(AF_INET);
	m.peer.ss_family = AF_UNIX;
	cr_assert_eq(hmsg_encode_head(&m, buf, sizeof(buf)), 0);
	m = sample(AF_INET);
	m.nbytes = HMSG_BYTES_MAX + 1;
	cr_assert_eq(hmsg_encode_head(&m, buf, sizeof(buf)), 0);
	m = sample(AF_INET);
	cr_assert_eq(hmsg_encode_head(&m, buf, 20), 0, "no room");
}
