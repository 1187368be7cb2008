/*
 * Identification data (RFC 7296 §3.5) as text, the form the secrets file
 * and the log use: an FQDN or RFC822 address as it is, an address in its
 * usual notation, a KEY_ID as "@#" and lower-case hex (strongSwan's
 * ipsec.secrets form), a DER_ASN1_DN as "C=CH, O=example, CN=carol"
 * (RDNs in DER order, ", " between them, short attribute names).
 */
#ifndef IKETCP_IKE_ID_H
#define IKETCP_IKE_ID_H

#include <stddef.h>
#include <stdint.h>

enum {
	IKE_ID_TEXT_MAX = 1024	/* ike_id_text() output, NUL included */
};

/*
 * Writes the text of identity @type / @id (@len octets) to @out (@cap
 * octets, NUL-terminated); -1 when the type is not one above, the data
 * is not valid for it (a NUL or control character in a name, a wrong
 * address length, a DN that does not parse) or the text does not fit.
 */
int	ike_id_text(uint8_t type, const uint8_t *id, size_t len, char *out,
	    size_t cap);
/* "fqdn", "email", "ipv4", "ipv6", "dn", "keyid", or "type N" (static). */
const char *ike_id_type_name(uint8_t type);

#endif /* IKETCP_IKE_ID_H */
