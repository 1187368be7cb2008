/*
 * Identities as text (see id.h): for the secrets file, whose lines name
 * peers the way strongSwan's ipsec.secrets does, and for log lines.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

#include "ike/id.h"
#include "ike/ikev2.h"

static bool
is_text(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < ' ' || p[i] == 0x7f)
			return false;
	return len > 0;
}

static int
dn_text(const uint8_t *der, size_t len, char *out, size_t cap)
{
	const unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN |
	    ASN1_STRFLGS_UTF8_CONVERT | ASN1_STRFLGS_ESC_CTRL;
	const unsigned char *p = der;
	X509_NAME *name;
	BIO *b = NULL;
	int n, rc = -1;

	if ((name = d2i_X509_NAME(NULL, &p, (long)len)) == NULL ||
	    p != der + len || X509_NAME_entry_count(name) == 0)
		goto out;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(b, name, 0, flags) < 0)
		goto out;
	n = BIO_read(b, out, (int)cap);
	/* One octet must stay for the NUL: a DN that fills @cap is refused. */
	if (n <= 0 || (size_t)n >= cap || memchr(out, '\0', (size_t)n) != NULL)
		goto out;
	out[n] = '\0';
	rc = 0;
out:
	BIO_free(b);
	X509_NAME_free(name);
	return rc;
}

int
ike_id_text(uint8_t type, const uint8_t *id, size_t len, char *out,
    size_t cap)
{
	int af = AF_INET;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	switch (type) {
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
		if (!is_text(id, len) || len >= cap)
			return -1;
		memcpy(out, id, len);
		out[len] = '\0';
		return 0;
	case IKE_ID_IPV6_ADDR:
		af = AF_INET6;
		/* FALLTHROUGH */
	case IKE_ID_IPV4_ADDR:
		if (len != (af == AF_INET ? 4u : 16u) ||
		    inet_ntop(af, id, out, (socklen_t)cap) == NULL)
			return -1;
		return 0;
	case IKE_ID_KEY_ID:
		if (len == 0 || 2 + 2 * len >= cap)
			return -1;
		out[0] = '@';
		out[1] = '#';
		for (size_t i = 0; i < len; i++)
			snprintf(out + 2 + 2 * i, 3, "%02x", id[i]);
		return 0;
	case IKE_ID_DER_ASN1_DN:
		return dn_text(id, len, out, cap);
	}
	return -1;
}

const char *
ike_id_type_name(uint8_t type)
{
	static char other[16];

	switch (type) {
	case IKE_ID_FQDN:
		return "fqdn";
	case IKE_ID_RFC822_ADDR:
		return "email";
	case IKE_ID_IPV4_ADDR:
		return "ipv4";
	case IKE_ID_IPV6_ADDR:
		return "ipv6";
	case IKE_ID_DER_ASN1_DN:
		return "dn";
	case IKE_ID_KEY_ID:
		return "keyid";
	}
	snprintf(other, sizeof(other), "type %u", type);
	return other;
}
