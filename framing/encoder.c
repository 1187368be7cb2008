/* Frame encoder. */
#include "framing/encoder.h"

bool
frame_header(uint8_t hdr[static FRAME_HDR_LEN], size_t len)
{
	if (len > FRAME_MAX_MESSAGE)
		return false;
	store_be16(hdr, (uint16_t)(len + FRAME_HDR_LEN));
	return true;
}

bool
frame_encode(struct wr *w, const uint8_t *msg, size_t len)
{
	uint8_t *at;

	if (len > FRAME_MAX_MESSAGE)
		return false;
	if (w->err || w->cap - w->len < len + FRAME_HDR_LEN)
		return false;
	at = wr_reserve(w, len + FRAME_HDR_LEN);
	frame_header(at, len);
	if (len > 0)
		memcpy(at + FRAME_HDR_LEN, msg, len);
	return true;
}
