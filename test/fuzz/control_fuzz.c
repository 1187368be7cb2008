/*
 * libFuzzer target for relay/ctlreq.c: the input is what a control-socket
 * client sent so far, copied into an exactly sized buffer and parsed as
 * the daemon parses it; a request that parses must name a known command
 * and, for terminate, a non-zero ID.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/ctlreq.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req req;
	const char *err = NULL;
	uint8_t *buf;

	/* Exactly sized, so ASan sees any read past the input. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	switch (ctlreq_parse(buf, size, &req, &err)) {
	case CTL_OK:
		if (req.cmd == CTL_TERMINATE && req.id == 0)
			abort();
		if (strcmp(ctlreq_cmd_name(req.cmd), "?") == 0)
			abort();
		break;
	case CTL_ERROR:
		if (err == NULL)
			abort();
		break;
	case CTL_NEED_MORE:
		if (size >= CTL_REQ_MAX || memchr(buf, '\n', size) != NULL)
			abort();
		break;
	}
	free(buf);
	return 0;
}
