/*
 * An IKE identity (RFC 7296 §3.5: ID Type and Identification Data) as one
 * line of text for logs, in the form iketcpd.conf(5) writes identities:
 * "fqdn:vpn.example", "email:a@example", "ipv4:192.0.2.1", "ipv6:2001:db8::1",
 * "keyid:0a1b", "dn:CN=client,O=Example", or "type N:<hex>" for others.
 * The data comes from the peer: anything not printable ASCII is written
 * as \xNN, and text that does not fit ends in "...".  Pure: no logging.
 */
#ifndef IKETCP_IKE_ID_H
#define IKETCP_IKE_ID_H

#include <stddef.h>
#include <stdint.h>

enum {
	IKE_ID_TEXT_MAX	= 192	/* a buffer that suits a log line */
};

/* Writes the text to @out (@cap >= 4 octets, NUL-terminated); @out. */
const char *ike_id_format(uint8_t type, const uint8_t *data, size_t len,
	    char *out, size_t cap);

#endif /* IKETCP_IKE_ID_H */
