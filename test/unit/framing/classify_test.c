#include <criterion/criterion.h>
#include <string.h>

#include "framing/classify.h"

TestSuite(classify, .timeout = 10);

/* An IKE_SA_INIT request header after the Non-ESP marker. */
static const uint8_t ike_init[] = {
	0x00, 0x00, 0x00, 0x00,				/* Non-ESP marker */
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,	/* SPIi */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* SPIr */
	0x21,						/* next: SA */
	0x20,						/* version 2.0 */
	0x22,						/* IKE_SA_INIT */
	0x08,						/* flags: I */
	0x00, 0x00, 0x00, 0x00,				/* message ID 0 */
	0x00, 0x00, 0x00, 0x20,				/* length 32 */
	0xaa, 0xbb, 0xcc, 0xdd,				/* (payload bytes) */
};

static void
with_patch(uint8_t *buf, size_t off, uint8_t v)
{
	memcpy(buf, ike_init, sizeof(ike_init));
	buf[off] = v;
}

Test(classify, ike_request_fields)
{
	struct msg_info m;

	cr_assert_eq(classify_msg(ike_init, sizeof(ike_init), &m), MSG_IKE);
	cr_assert_eq(m.spi_i, 0x1122334455667788ULL);
	cr_assert_eq(m.spi_r, 0);
	cr_assert_eq(m.exchange, 34);
	cr_assert(msg_is_request(&m));
	cr_assert_eq(m.msgid, 0);
	/* Bare IKE (UDP 500) is the same without the marker. */
	cr_assert_eq(classify_ike(ike_init + 4, sizeof(ike_init) - 4, &m),
	    MSG_IKE);
}

Test(classify, ike_response_flag)
{
	uint8_t b[sizeof(ike_init)];
	struct msg_info m;

	with_patch(b, 4 + 19, 0x20);
	cr_assert_eq(classify_msg(b, sizeof(b), &m), MSG_IKE);
	cr_assert_not(msg_is_request(&m));
}

Test(classify, rejects_truncated_ike_header)
{
	struct msg_info m;

	for (size_t n = 4; n < 4 + 28; n++) {
		cr_assert_eq(classify_msg(ike_init, n, &m), MSG_INVALID, "n %zu", n);
		cr_assert_eq(m.err, MSG_ERR_IKE_TRUNCATED, "n %zu", n);
	}
}

Test(classify, rejects_wrong_ike_major_version)
{
	static const uint8_t versions[] = { 0x10, 0x30, 0x00, 0xf0 };
	uint8_t b[sizeof(ike_init)];
	struct msg_info m;

	for (size_t i = 0; i < sizeof(versions); i++) {
		with_patch(b, 4 + 17, versions[i]);
		cr_assert_eq(classify_msg(b, sizeof(b), &m), MSG_INVALID);
		cr_assert_eq(m.err, MSG_ERR_IKE_VERSION, "version %#x", versions[i]);
	}
	with_patch(b, 4 + 17, 0x21);	/* minor version is ignored */
	cr_assert_eq(classify_msg(b, sizeof(b), &m), MSG_IKE);
}

Test(classify, rejects_ike_length_disagreeing_with_frame)
{
	static const uint8_t lens[] = { 0x1f, 0x21, 0x1c, 0x00 };
	uint8_t b[sizeof(ike_init)];
	struct msg_info m;

	for (size_t i = 0; i < sizeof(lens); i++) {
		with_patch(b, 4 + 27, lens[i]);
		cr_assert_eq(classify_msg(b, sizeof(b), &m), MSG_INVALID);
		cr_assert_eq(m.err, MSG_ERR_IKE_LENGTH, "len %#x", lens[i]);
	}
	/* Frame longer than the IKE length also disagrees. */
	cr_assert_eq(classify_msg(ike_init, sizeof(ike_init) - 1, &m),
	    MSG_INVALID);
	cr_assert_eq(m.err, MSG_ERR_IKE_LENGTH);
}

Test(classify, rejects_zero_initiator_spi)
{
	uint8_t b[sizeof(ike_init)];
	struct msg_info m;

	memcpy(b, ike_init, sizeof(b));
	memset(b + 4, 0, 8);
	cr_assert_eq(classify_msg(b, sizeof(b), &m), MSG_INVALID);
	cr_assert_eq(m.err, MSG_ERR_IKE_SPI);
}

Test(classify, esp_keepalive_and_short)
{
	static const uint8_t esp[] = { 0xc0, 0x01, 0x02, 0x03, 0, 0, 0, 9 };
	static const uint8_t ka[] = { 0xff };
	static const uint8_t one[] = { 0xfe };
	struct msg_info m;

	cr_assert_eq(classify_msg(esp, sizeof(esp), &m), MSG_ESP);
	cr_assert_eq(m.esp_spi, 0xc0010203);
	cr_assert_eq(classify_msg(ka, 1, &m), MSG_KEEPALIVE);
	cr_assert_eq(classify_msg(one, 1, &m), MSG_INVALID);
	cr_assert_eq(m.err, MSG_ERR_SHORT);
	cr_assert_eq(classify_msg(esp, 0, &m), MSG_INVALID);
	cr_assert_eq(m.err, MSG_ERR_EMPTY);
	for (size_t n = 2; n < 8; n++) {
		cr_assert_eq(classify_msg(esp, n, &m), MSG_INVALID, "n %zu", n);
		cr_assert_eq(m.err, MSG_ERR_SHORT);
	}
	/* A marker alone (4 zero octets) is a truncated IKE message. */
	cr_assert_eq(classify_msg(ike_init, 4, &m), MSG_INVALID);
	cr_assert_eq(m.err, MSG_ERR_IKE_TRUNCATED);
}
