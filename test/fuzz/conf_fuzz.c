/*
 * libFuzzer target for conf/conf.c: the input is a configuration file,
 * split on '\n' and fed line by line to conf_line(), then conf_finish().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "relay/log.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Errors only, and gateway names never reach the resolver. */
	log_init("conf_fuzz", true, LOG_LEVEL_ERR);
	setenv("IKETCP_NO_DNS", "1", 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_parser p;
	struct conf *c;
	size_t off = 0;

	if (conf_init(&p, "fuzz.conf") == -1)
		return 0;
	/* include values are checked, but no file is read. */
	p.no_include = true;
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl != NULL ? (size_t)(nl - (data + off)) :
		    size - off;
		/* Exactly sized, so ASan sees any read past the line. */
		char *line = malloc(len + 1);

		if (line == NULL)
			break;
		memcpy(line, data + off, len);
		line[len] = '\0';
		conf_line(&p, line);
		free(line);
		off += len + 1;
	}
	c = conf_finish(&p);
	conf_unref(c);
	return 0;
}
