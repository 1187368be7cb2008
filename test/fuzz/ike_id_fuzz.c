/*
 * libFuzzer target for ike/id.c: the first octet is the ID type, the rest
 * the identification data of an IDi or IDr (a DER DN goes through
 * OpenSSL's parser).  Whatever comes out must be a NUL-terminated text of
 * printable characters within the buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/id.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[IKE_ID_TEXT_MAX];
	uint8_t *id;
	size_t n;

	if (size < 1)
		return 0;
	/* Exactly sized, so ASan sees any read past the end. */
	if ((id = malloc(size - 1 > 0 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(id, data + 1, size - 1);
	if (ike_id_text(data[0], id, size - 1, out, sizeof(out)) == 0) {
		n = strnlen(out, sizeof(out));
		if (n == sizeof(out) || n == 0)
			abort();
	}
	free(id);
	return 0;
}
