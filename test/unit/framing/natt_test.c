/*
 * framing/natt.c: what a datagram from an initiator is, per port, and the
 * marker removed on the way back to a port-500 flow.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "framing/natt.h"

TestSuite(natt);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* An IKE header (RFC 7296 §3.1), 28 octets, length 28. */
static size_t
ike_hdr(uint8_t *p, uint64_t spi_r, uint8_t exch, uint8_t flags,
    uint32_t msgid)
{
	static const uint8_t spi_i[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	memcpy(p, spi_i, 8);			/* SPIi */
	for (int i = 0; i < 8; i++)		/* SPIr */
		p[8 + i] = (uint8_t)(spi_r >> (56 - 8 * i));
	p[16] = 33;				/* Next Payload: SA */
	p[17] = 0x20;				/* Version 2.0 */
	p[18] = exch;				/* Exchange Type */
	p[19] = flags;				/* Flags */
	p[20] = (uint8_t)(msgid >> 24);		/* Message ID */
	p[21] = (uint8_t)(msgid >> 16);
	p[22] = (uint8_t)(msgid >> 8);
	p[23] = (uint8_t)msgid;
	p[24] = 0; p[25] = 0; p[26] = 0; p[27] = 28;	/* Length */
	return 28;
}

struct vec {
	const char	*name;
	bool		 bare;		/* arrived on port 500 */
	bool		 marker;	/* 4 zero octets first */
	uint64_t	 spi_r;
	uint8_t		 exch, flags;
	uint32_t	 msgid;
	enum natt_in	 want;
};

static const struct vec ike_vecs[] = {
	{ "init on 500", true, false, 0, 34, 0x08, 0, NATT_IN_IKE_INIT },
	{ "init on 4500", false, true, 0, 34, 0x08, 0, NATT_IN_IKE_INIT },
	{ "init response", true, false, 9, 34, 0x20, 0, NATT_IN_IKE },
	{ "init, SPIr set", true, false, 9, 34, 0x08, 0, NATT_IN_IKE },
	{ "auth on 4500", false, true, 9, 35, 0x08, 1, NATT_IN_IKE },
	{ "auth on 500", true, false, 9, 35, 0x08, 1, NATT_IN_IKE },
	{ "init from responder", true, false, 0, 34, 0x00, 0, NATT_IN_IKE },
	/* Port 500 never has a marker: SPIi would read as zero. */
	{ "marker on 500", true, true, 0, 34, 0x08, 0, NATT_IN_INVALID },
	/* Port 4500 always has one: a bare header is taken as ESP. */
	{ "bare on 4500", false, false, 0, 34, 0x08, 0, NATT_IN_ESP },
};

Test(natt, classifies_ike_by_port_and_exchange, .timeout = 10)
{
	for (size_t i = 0; i < NELEM(ike_vecs); i++) {
		const struct vec *v = &ike_vecs[i];
		uint8_t buf[64] = { 0 };
		size_t off = v->marker ? 4 : 0, n;
		struct msg_info m;

		n = off + ike_hdr(buf + off, v->spi_r, v->exch, v->flags,
		    v->msgid);
		cr_expect_eq(natt_classify(v->bare, buf, n, &m), v->want,
		    "case %zu (%s)", i, v->name);
	}
}

Test(natt, keepalive_and_esp_only_on_4500, .timeout = 10)
{
	static const uint8_t ka[] = { 0xff };
	static const uint8_t esp[] = { 0xc0, 0xff, 0xee, 0x01,	/* SPI */
		0, 0, 0, 1,					/* Seq */
		0xaa, 0xbb };					/* data */
	struct msg_info m;

	cr_assert_eq(natt_classify(false, ka, 1, &m), NATT_IN_KEEPALIVE);
	cr_assert_eq(natt_classify(true, ka, 1, &m), NATT_IN_INVALID);
	cr_assert_eq(natt_classify(false, esp, sizeof(esp), &m), NATT_IN_ESP);
	cr_assert_eq(m.esp_spi, 0xc0ffee01);
	cr_assert_eq(natt_classify(true, esp, sizeof(esp), &m),
	    NATT_IN_INVALID);
	cr_assert_eq(natt_classify(false, esp, 4, &m), NATT_IN_INVALID);
	cr_assert_eq(natt_classify(false, esp, 0, &m), NATT_IN_INVALID);
}

Test(natt, strips_the_marker_from_ike_only, .timeout = 10)
{
	uint8_t buf[64] = { 0 };
	struct rd out;
	size_t n = 4 + ike_hdr(buf + 4, 0, 34, 0x20, 0);

	cr_assert(natt_strip_marker(buf, n, &out));
	cr_assert_eq(out.p, buf + 4);
	cr_assert_eq(out.n, 28);
	/* ESP: the first octets are a SPI, not a marker. */
	buf[0] = 1;
	cr_assert_not(natt_strip_marker(buf, n, &out));
	/* A marker with less than an IKE header behind it. */
	buf[0] = 0;
	cr_assert_not(natt_strip_marker(buf, 4 + 27, &out));
	cr_assert_not(natt_strip_marker(buf, 3, &out));
}
