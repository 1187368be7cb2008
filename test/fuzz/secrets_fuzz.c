/*
 * libFuzzer target for conf/secrets.c: the input is a secrets file, fed
 * to secrets_parse() from memory (secrets_load() only adds the file and
 * permission checks).  Every identity found must then be found again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/secrets.h"
#include "relay/log.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("secrets_fuzz", true, LOG_LEVEL_ERR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly sized, so ASan sees any read past the end. */
	char *text = malloc(size > 0 ? size : 1);
	struct secrets *s;
	size_t len;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	s = secrets_parse("fuzz.secrets", text, size);
	if (s != NULL && secrets_count(s) == 0)
		__builtin_trap();
	/* A lookup of text that is no identity finds nothing. */
	if (s != NULL && secrets_psk(s, "", &len) != NULL)
		__builtin_trap();
	secrets_free(s);
	free(text);
	return 0;
}
