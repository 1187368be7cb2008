/*
 * Message classification.  Only the fixed IKE header is checked here: the
 * relay forwards what it cannot decrypt, and the gateway judges the rest.
 */
#include <string.h>

#include "framing/classify.h"
#include "framing/wire.h"

static enum msg_kind
invalid(struct msg_info *out, enum msg_error err)
{
	out->kind = MSG_INVALID;
	out->err = err;
	return MSG_INVALID;
}

enum msg_kind
classify_ike(const uint8_t *p, size_t n, struct msg_info *out)
{
	struct rd r = rd_make(p, n);
	uint8_t next, version;
	uint32_t length;

	memset(out, 0, sizeof(*out));
	/* RFC 7296 §3.1: SPIi, SPIr, Next Payload, Version, Exchange, Flags,
	 * Message ID, Length. */
	if (!rd_be64(&r, &out->spi_i) || !rd_be64(&r, &out->spi_r) ||
	    !rd_u8(&r, &next) || !rd_u8(&r, &version) ||
	    !rd_u8(&r, &out->exchange) || !rd_u8(&r, &out->flags) ||
	    !rd_be32(&r, &out->msgid) || !rd_be32(&r, &length))
		return invalid(out, MSG_ERR_IKE_TRUNCATED);
	if (version >> 4 != 2)
		return invalid(out, MSG_ERR_IKE_VERSION);
	if (length != n)
		return invalid(out, MSG_ERR_IKE_LENGTH);
	if (out->spi_i == 0)
		return invalid(out, MSG_ERR_IKE_SPI);
	out->kind = MSG_IKE;
	return MSG_IKE;
}

enum msg_kind
classify_msg(const uint8_t *p, size_t n, struct msg_info *out)
{
	uint32_t spi;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return invalid(out, MSG_ERR_EMPTY);
	if (n == 1 && p[0] == 0xff) {
		out->kind = MSG_KEEPALIVE;
		return MSG_KEEPALIVE;
	}
	if (n < NON_ESP_MARKER_LEN)
		return invalid(out, MSG_ERR_SHORT);
	spi = load_be32(p);
	if (spi == 0)
		return classify_ike(p + NON_ESP_MARKER_LEN,
		    n - NON_ESP_MARKER_LEN, out);
	if (n < ESP_HDR_MIN)
		return invalid(out, MSG_ERR_SHORT);
	out->kind = MSG_ESP;
	out->esp_spi = spi;
	return MSG_ESP;
}

const char *
classify_strerror(enum msg_error err)
{
	switch (err) {
	case MSG_ERR_NONE:
		return "no error";
	case MSG_ERR_EMPTY:
		return "empty message";
	case MSG_ERR_SHORT:
		return "message too short for IKE or ESP";
	case MSG_ERR_IKE_TRUNCATED:
		return "truncated IKE header";
	case MSG_ERR_IKE_VERSION:
		return "IKE major version is not 2";
	case MSG_ERR_IKE_LENGTH:
		return "IKE length disagrees with the message";
	case MSG_ERR_IKE_SPI:
		return "IKE initiator SPI is zero";
	}
	return "unknown";
}
