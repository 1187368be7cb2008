/*
 * Pre-shared keys for the integrated role, in the familiar ipsec.secrets
 * form, one line per secret:
 *
 *	initiator.test : PSK "key"
 *	alice@example.org bob@example.org : PSK "shared by both"
 *	"C=CH, O=example, CN=carol" : PSK 0x6b6579
 *	alice : EAP "her password"
 *
 * EAP lines hold the passwords of EAP users (EAP-MSCHAPv2), by EAP
 * identity; an identity may have a PSK and an EAP secret.  XAUTH (IKEv1)
 * lines are refused with a hint.
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

enum secrets_kind {
	SECRETS_PSK,		/* IKE pre-shared key, by IKE identity */
	SECRETS_EAP		/* EAP password, by EAP identity */
};

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

/* The EAP password of @user, or NULL; as secrets_psk(). */
const uint8_t	*secrets_eap(const struct secrets *s, const char *user,
		    size_t *len);
/* Secrets of @kind. */
size_t		 secrets_count_kind(const struct secrets *s,
		    enum secrets_kind kind);

#endif /* IKETCP_CONF_SECRETS_H */
