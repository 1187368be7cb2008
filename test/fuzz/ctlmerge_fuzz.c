/*
 * libFuzzer target for relay/ctlmerge.c: the input is what subverted
 * workers could answer a master, up to four answers separated by NUL
 * octets, each copied into an exactly sized buffer; every merge runs on
 * them (list in text and JSON, stats, metrics).  A merged JSON list must
 * hold its three lists and the workers, whatever the answers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/ctlmerge.h"
#include "relay/obuf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

enum {
	PARTS = 4,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_part parts[PARTS];
	char *copy[PARTS] = { NULL };
	struct ctl_stat extra[] = { { "ctl_bad", 1 }, { "workers", PARTS } };
	struct obuf o;
	size_t n = 0, off = 0;

	while (n < PARTS && off <= size) {
		const uint8_t *z = memchr(data + off, 0, size - off);
		size_t len = z != NULL ? (size_t)(z - (data + off)) :
		    size - off;

		/* Exactly sized, so ASan sees any read past an answer. */
		if ((copy[n] = malloc(len > 0 ? len : 1)) == NULL)
			break;
		memcpy(copy[n], data + off, len);
		parts[n].worker = (unsigned)n;
		parts[n].pid = 1000 + (long)n;
		parts[n].p = len == 1 && copy[n][0] == '-' ? NULL : copy[n];
		parts[n].n = len;
		n++;
		off += len + 1;
	}
	obuf_init(&o, 1 << 22);
	ctlmerge_list(&o, parts, n, true);
	if (!o.over && (o.p == NULL || strstr(o.p, "\"workers\":[") == NULL ||
	    strncmp(o.p, "{\"streams\":[", 12) != 0))
		abort();
	obuf_reset(&o);
	ctlmerge_list(&o, parts, n, false);
	obuf_reset(&o);
	ctlmerge_stats(&o, parts, n, extra, 2, true);
	obuf_reset(&o);
	ctlmerge_stats(&o, parts, n, extra, 2, false);
	obuf_reset(&o);
	ctlmerge_metrics(&o, parts, n);
	obuf_cleanup(&o);
	for (size_t i = 0; i < n; i++)
		free(copy[i]);
	return 0;
}
