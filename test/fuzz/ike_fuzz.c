/*
 * IKEv2 codec on arbitrary bytes: parse as a message; if it parses, build
 * it back, parse the result and require an equal struct.  Parse the SK/SKF
 * body as an inner chain too, and feed SKF fragments (and the input cut in
 * pieces) to the reassembler.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/codec.h"
#include "ike/frag.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ike_msg a, b;
static uint8_t out[65536 + 1024];

static void
round_trip(const uint8_t *data, size_t size)
{
	size_t len;

	if (ike_msg_parse(data, size, &a) != IKE_PARSE_OK)
		return;
	if (ike_msg_build(&a, out, sizeof(out), &len) != 0)
		abort();
	if (ike_msg_parse(out, len, &b) != IKE_PARSE_OK)
		abort();
	if (!ike_msg_equal(&a, &b))
		abort();
	if (a.pl.have & (IKE_HAVE_SK | IKE_HAVE_SKF)) {
		/* As if the blob were plaintext. */
		(void)ike_payloads_parse(a.pl.sk.inner, a.pl.sk.body.p,
		    a.pl.sk.body.len, &b);
	}
}

static void
reassemble(const uint8_t *data, size_t size)
{
	struct ike_reasm r;
	uint8_t first;
	size_t len, off = 0;
	uint64_t now = 0;

	ike_reasm_init(&r, 4096, 1000);
	if (a.pl.have & IKE_HAVE_SKF)
		(void)ike_reasm_add(&r, now, a.hdr.msgid, a.pl.sk.frag_num,
		    a.pl.sk.frag_total, a.pl.sk.inner, a.pl.sk.body.p,
		    a.pl.sk.body.len);
	/* Records: msgid(1) num(1) total(1) dt(1) len(1) body. */
	while (size - off >= 5) {
		const uint8_t *p = data + off;
		size_t blen = p[4];
		enum ike_frag_result res;

		off += 5;
		if (blen > size - off)
			blen = size - off;
		now += p[3] * 10u;
		res = ike_reasm_add(&r, now, p[0] & 7, p[1], p[2], p[1],
		    data + off, blen);
		if (res == IKE_FRAG_COMPLETE &&
		    ike_reasm_take(&r, p[0] & 7, out, sizeof(out), &len,
		    &first) != 0)
			abort();
		off += blen;
	}
	ike_reasm_cleanup(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&a, 0, sizeof(a));
	round_trip(data, size);
	reassemble(data, size);
	return 0;
}
