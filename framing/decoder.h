/*
 * Incremental frame decoder (RFC 9329 §3): each message is preceded by a
 * 16-bit big-endian length that counts itself.
 *
 * A frame that lies wholly in the input is returned in place (no copy).  A
 * frame split across reads is gathered in d->buf, a caller-owned buffer of
 * frame_dec_bufsize() bytes.  The caller may leave d->buf NULL until the
 * decoder first needs it (FRAME_NEED_BUF), so an idle stream holds none.
 */
#ifndef IKETCP_DECODER_H
#define IKETCP_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing/wire.h"

enum frame_result {
	FRAME_NEED_MORE,	/* input used up; a partial frame may be held */
	FRAME_OK,		/* *msg is one whole message */
	FRAME_NEED_BUF,		/* set d->buf and call again; nothing consumed */
	FRAME_ERROR,		/* d->err says why; the stream must close */
};

enum frame_error {
	FRAME_ERR_NONE,
	FRAME_ERR_LENGTH_SHORT,	/* length field 0 or 1 */
	FRAME_ERR_LENGTH_LONG,	/* message longer than max_message */
};

struct frame_dec {
	uint8_t		*buf;		/* caller-owned; may be NULL */
	size_t		 have;		/* bytes of a partial frame in buf */
	size_t		 max_message;	/* bytes, excluding the length */
	enum frame_error err;		/* set with FRAME_ERROR */
	size_t		 bad_len;	/* the offending length field */
};

void	frame_dec_init(struct frame_dec *d, size_t max_message);
size_t	frame_dec_bufsize(const struct frame_dec *d);
/*
 * Takes bytes from @in.  On FRAME_OK, @msg points into @in or into d->buf
 * and stays valid until the next call.
 */
enum frame_result frame_decode(struct frame_dec *d, struct rd *in,
    struct rd *msg);
/* True while part of a frame is held in d->buf. */
bool	frame_dec_partial(const struct frame_dec *d);
const char *frame_strerror(enum frame_error err);

#endif /* IKETCP_DECODER_H */
