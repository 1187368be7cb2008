/* Frame encoder: the 16-bit length (counting itself) before a message. */
#ifndef IKETCP_ENCODER_H
#define IKETCP_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing/wire.h"

enum {
	FRAME_HDR_LEN = 2,		/* the length field */
	FRAME_MAX_MESSAGE = 65533,	/* 0xffff minus the length field */
};

/* Writes the length field for a message of @len bytes; false if too long. */
bool	frame_header(uint8_t hdr[static FRAME_HDR_LEN], size_t len);
/* Appends one framed message to @w; false (nothing written) if no room. */
bool	frame_encode(struct wr *w, const uint8_t *msg, size_t len);

#endif /* IKETCP_ENCODER_H */
