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

/* A cursor over @out that never writes past cap - 1 and remembers it. */
struct tbuf {
	char	*p;
	size_t	 cap, len;
	bool	 cut;
};

static void
put(struct tbuf *t, const char *s, size_t n)
{
	if (t->cut)
		return;
	if (n > t->cap - 1 - t->len) {
		n = t->cap - 1 - t->len;
		t->cut = true;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

/* Printable ASCII as it is, the rest as \xNN (and '\' as \x5c). */
static void
put_safe(struct tbuf *t, const uint8_t *s, size_t n)
{
	char esc[5];

	for (size_t i = 0; i < n && !t->cut; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			put(t, (const char *)&s[i], 1);
		else {
			snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
			put(t, esc, 4);
		}
	}
}

/* Lower-case hex, no separators: a KEY_ID in both forms, raw data. */
static void
put_hex(struct tbuf *t, const uint8_t *s, size_t n)
{
	char h[3];

	for (size_t i = 0; i < n && !t->cut; i++) {
		snprintf(h, sizeof(h), "%02x", s[i]);
		put(t, h, 2);
	}
}

/* RFC 4514 text of a DER Name; false when it does not parse. */
static bool
put_dn(struct tbuf *t, const uint8_t *der, size_t n)
{
	const unsigned char *p = der;
	X509_NAME *name;
	BIO *bio;
	char *s;
	long len;
	bool ok = false;

	if ((name = d2i_X509_NAME(NULL, &p, (long)n)) == NULL)
		return false;
	if (p != der + n || (bio = BIO_new(BIO_s_mem())) == NULL) {
		X509_NAME_free(name);
		return false;
	}
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(bio, &s)) >= 0) {
		put_safe(t, (const uint8_t *)s, (size_t)len);
		ok = true;
	}
	BIO_free(bio);
	X509_NAME_free(name);
	return ok;
}

int
ike_id_text(uint8_t type, const uint8_t *id, size_t len, char *out,
    size_t cap)
{
	struct tbuf t = { out, cap, 0, false };
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
		/* Refused unless it fits, so put() never cuts it. */
		if (len == 0 || 2 + 2 * len >= cap)
			return -1;
		put(&t, "@#", 2);
		put_hex(&t, id, len);
		out[t.len] = '\0';
		return 0;
	case IKE_ID_DER_ASN1_DN:
		return dn_text(id, len, out, cap);
	}
	return -1;
}

const char *
ike_id_format(uint8_t type, const uint8_t *data, size_t len, char *out,
    size_t cap)
{
	struct tbuf t = { out, cap, 0, false };
	char a[INET6_ADDRSTRLEN], pfx[16];

	switch (type) {
	case IKE_ID_FQDN:
		put(&t, "fqdn:", 5);
		put_safe(&t, data, len);
		break;
	case IKE_ID_RFC822_ADDR:
		put(&t, "email:", 6);
		put_safe(&t, data, len);
		break;
	case IKE_ID_IPV4_ADDR:
	case IKE_ID_IPV6_ADDR:
		if (len == (type == IKE_ID_IPV4_ADDR ? 4u : 16u) &&
		    inet_ntop(type == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6,
		    data, a, sizeof(a)) != NULL) {
			put(&t, type == IKE_ID_IPV4_ADDR ? "ipv4:" : "ipv6:",
			    5);
			put(&t, a, strlen(a));
			break;
		}
		goto raw;
	case IKE_ID_KEY_ID:
		put(&t, "keyid:", 6);
		put_hex(&t, data, len);
		break;
	case IKE_ID_DER_ASN1_DN:
		put(&t, "dn:", 3);
		if (put_dn(&t, data, len))
			break;
		t.len = 0;
		/* FALLTHROUGH */
	default:
raw:
		snprintf(pfx, sizeof(pfx), "type %u:", type);
		put(&t, pfx, strlen(pfx));
		put_hex(&t, data, len);
		break;
	}
	if (t.cut) {
		memcpy(out + cap - 4, "...", 3);
		t.len = cap - 1;
	}
	out[t.len] = '\0';
	return out;
}
