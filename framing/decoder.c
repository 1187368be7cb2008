/*
 * Incremental frame decoder.  The length field is validated as soon as both
 * of its bytes are known, before anything else of the frame is buffered.
 */
#include <string.h>

#include "framing/decoder.h"

enum {
	LEN_FIELD = 2,	/* RFC 9329 §3: 2-octet Length, counting itself */
};

void
frame_dec_init(struct frame_dec *d, size_t max_message)
{
	memset(d, 0, sizeof(*d));
	d->max_message = max_message;
}

size_t
frame_dec_bufsize(const struct frame_dec *d)
{
	return d->max_message + LEN_FIELD;
}

bool
frame_dec_partial(const struct frame_dec *d)
{
	return d->have > 0;
}

const char *
frame_strerror(enum frame_error err)
{
	switch (err) {
	case FRAME_ERR_NONE:
		return "no error";
	case FRAME_ERR_LENGTH_SHORT:
		return "length field below 2";
	case FRAME_ERR_LENGTH_LONG:
		return "message longer than max-message";
	}
	return "unknown";
}

static bool
length_ok(struct frame_dec *d, size_t len)
{
	if (len < LEN_FIELD) {
		d->err = FRAME_ERR_LENGTH_SHORT;
		d->bad_len = len;
		return false;
	}
	if (len - LEN_FIELD > d->max_message) {
		d->err = FRAME_ERR_LENGTH_LONG;
		d->bad_len = len;
		return false;
	}
	return true;
}

/* Continue a frame held in d->buf. */
static enum frame_result
decode_held(struct frame_dec *d, struct rd *in, struct rd *msg)
{
	size_t len, take;

	if (d->have < LEN_FIELD) {
		take = LEN_FIELD - d->have;
		if (take > in->n)
			take = in->n;
		rd_bytes(in, d->buf + d->have, take);
		d->have += take;
		if (d->have < LEN_FIELD)
			return FRAME_NEED_MORE;
	}
	len = load_be16(d->buf);
	if (!length_ok(d, len))
		return FRAME_ERROR;
	take = len - d->have;
	if (take > in->n)
		take = in->n;
	rd_bytes(in, d->buf + d->have, take);
	d->have += take;
	if (d->have < len)
		return FRAME_NEED_MORE;
	*msg = rd_make(d->buf + LEN_FIELD, len - LEN_FIELD);
	d->have = 0;
	return FRAME_OK;
}

enum frame_result
frame_decode(struct frame_dec *d, struct rd *in, struct rd *msg)
{
	size_t len;

	if (d->err != FRAME_ERR_NONE)
		return FRAME_ERROR;
	if (d->have > 0)
		return decode_held(d, in, msg);
	if (in->n == 0)
		return FRAME_NEED_MORE;
	if (in->n >= LEN_FIELD) {
		len = load_be16(in->p);
		if (!length_ok(d, len))
			return FRAME_ERROR;
		if (in->n >= len) {
			*msg = rd_make(in->p + LEN_FIELD, len - LEN_FIELD);
			rd_skip(in, len);
			return FRAME_OK;
		}
	}
	/* A partial frame: hold it. */
	if (d->buf == NULL)
		return FRAME_NEED_BUF;
	d->have = in->n;
	rd_bytes(in, d->buf, in->n);
	return FRAME_NEED_MORE;
}
