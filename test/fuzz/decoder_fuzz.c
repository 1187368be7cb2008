/*
 * Frame decoder + prefix + classification on arbitrary bytes, split at
 * points chosen by the input itself.  Every decoded message must lie within
 * the bytes given; re-encoding it must give the original frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing/classify.h"
#include "framing/decoder.h"
#include "framing/encoder.h"
#include "framing/prefix.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_dec d;
	enum prefix_kind kind;
	size_t plen, off = 0, max;
	uint8_t *buf = NULL;

	if (size < 3)
		return 0;
	max = (size_t)data[0] << 8 | data[1];
	if (max < 1)
		max = 1;
	frame_dec_init(&d, max);
	data += 2;
	size -= 2;
	if (prefix_detect(data, size, &kind, &plen) == PREFIX_OK)
		off = plen;
	while (off < size) {
		/* The next chunk length comes from the data: 1..16 bytes. */
		size_t chunk = (data[off] & 0x0f) + 1;
		struct rd in, msg;
		enum frame_result res;

		if (chunk > size - off)
			chunk = size - off;
		in = rd_make(data + off, chunk);
		while ((res = frame_decode(&d, &in, &msg)) != FRAME_NEED_MORE) {
			struct msg_info info;
			uint8_t *copy;
			struct wr w;

			if (res == FRAME_ERROR)
				goto out;
			if (res == FRAME_NEED_BUF) {
				buf = malloc(frame_dec_bufsize(&d));
				d.buf = buf;
				continue;
			}
			if (msg.n > max)
				abort();
			classify_msg(msg.p, msg.n, &info);
			copy = malloc(msg.n + 2);
			w = wr_make(copy, msg.n + 2);
			if (!frame_encode(&w, msg.p, msg.n) || w.len != msg.n + 2)
				abort();
			free(copy);
		}
		off += chunk;
	}
out:
	free(buf);
	return 0;
}
