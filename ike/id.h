/*
 * IKE identities (RFC 7296 §3.5: ID Type and Identification Data) as text,
 * in two forms:
 *
 * ike_id_text(): the exact form the secrets file names peers by, the one
 * strongSwan's ipsec.secrets uses: an FQDN or RFC822 address as it is, an
 * address in its usual notation, a KEY_ID as "@#" and lower-case hex, a
 * DER_ASN1_DN as "C=CH, O=example, CN=carol" (RDNs in DER order, ", "
 * between them, short attribute names).  Refuses what is not printable.
 *
 * ike_id_format(): one line for logs, in the form iketcpd.conf(5) writes
 * identities: "fqdn:vpn.example", "email:a@example", "ipv4:192.0.2.1",
 * "ipv6:2001:db8::1", "keyid:0a1b", "dn:CN=client,O=Example", or
 * "type N:<hex>" for others.  The data comes from the peer: anything not
 * printable ASCII is written as \xNN, and text that does not fit ends in
 * "...".
 *
 * Pure: no logging.
 */
#ifndef IKETCP_IKE_ID_H
#define IKETCP_IKE_ID_H

#include <stddef.h>
#include <stdint.h>

enum {
	IKE_ID_TEXT_MAX	= 1024,	/* ike_id_text() output, NUL included */
	IKE_ID_LOG_MAX	= 192	/* an ike_id_format() buffer for a log line */
};

/*
 * Writes the text of identity @type / @id (@len octets) to @out (@cap
 * octets, NUL-terminated); -1 when the type is not one above, the data
 * is not valid for it (a NUL or control character in a name, a wrong
 * address length, a DN that does not parse) or the text does not fit.
 */
int	ike_id_text(uint8_t type, const uint8_t *id, size_t len, char *out,
	    size_t cap);
/* Writes the log text to @out (@cap >= 4 octets, NUL-terminated); @out. */
const char *ike_id_format(uint8_t type, const uint8_t *data, size_t len,
	    char *out, size_t cap);

#endif /* IKETCP_IKE_ID_H */
