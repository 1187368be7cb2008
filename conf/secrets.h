/*
 * Pre-shared keys for the integrated role, in the familiar ipsec.secrets
 * form, one line per secret:
 *
 *	initiator.test : PSK "key"
 *	alice@example.org bob@example.org : PSK "shared by both"
 *	"C=CH, O=example, CN=carol" : PSK 0x6b6579
 *
 * Identities are kept as text and compared exactly.  Every bad line is
 * reported as "file:line: message"; any error refuses the whole file.
 */
#ifndef IKETCP_CONF_SECRETS_H
#define IKETCP_CONF_SECRETS_H

#include <stddef.h>
#include <stdint.h>

enum {
	SECRETS_ID_MAX = 255,		/* identity text, bytes */
	SECRETS_PSK_MAX = 256,		/* secret, bytes */
	SECRETS_FILE_MAX = 1 << 20,	/* bytes read from a file */
};

struct secrets;

/*
 * Read @path: refused unless a regular file without group or other
 * permission, then parsed as secrets_parse() does.  NULL after any error.
 */
struct secrets	*secrets_load(const char *path);
/* Parse @len bytes of @text; @name only labels messages.  NULL on error. */
struct secrets	*secrets_parse(const char *name, const char *text,
		    size_t len);
/* Wipe and free; NULL is a no-op. */
void		 secrets_free(struct secrets *s);
size_t		 secrets_count(const struct secrets *s);
/*
 * The PSK for identity @id, or NULL; its length in *len.  Points into @s
 * and lives as long as it does.
 */
const uint8_t	*secrets_psk(const struct secrets *s, const char *id,
		    size_t *len);

#endif /* IKETCP_CONF_SECRETS_H */
