/*
 * ike/id.c: identities as the text the secrets file and the log use.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/x509.h>

#include "ike/id.h"
#include "ike/ikev2.h"

TestSuite(ike_id);

static const char *
text(uint8_t type, const void *id, size_t len)
{
	static char out[IKE_ID_TEXT_MAX];

	if (ike_id_text(type, id, len, out, sizeof(out)) == -1)
		return NULL;
	return out;
}

/* DER of a DN built from "short=value" pairs, in this order. */
static size_t
dn_der(const char *const *rdn, size_t n, uint8_t *out, size_t cap)
{
	X509_NAME *name = X509_NAME_new();
	unsigned char *p = out;
	int len;

	cr_assert_not_null(name);
	for (size_t i = 0; i < n; i += 2)
		cr_assert(X509_NAME_add_entry_by_txt(name, rdn[i], MBSTRING_UTF8,
		    (const unsigned char *)rdn[i + 1], -1, -1, 0));
	len = i2d_X509_NAME(name, NULL);
	cr_assert(len > 0 && (size_t)len <= cap);
	cr_assert_eq(i2d_X509_NAME(name, &p), len);
	X509_NAME_free(name);
	return (size_t)len;
}

Test(ike_id, names_and_addresses)
{
	static const uint8_t v4[4] = { 192, 0, 2, 7 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	cr_expect_str_eq(text(IKE_ID_FQDN, "vpn.example", 11), "vpn.example");
	cr_expect_str_eq(text(IKE_ID_RFC822_ADDR, "a@b.example", 11),
	    "a@b.example");
	cr_expect_str_eq(text(IKE_ID_IPV4_ADDR, v4, 4), "192.0.2.7");
	cr_expect_str_eq(text(IKE_ID_IPV6_ADDR, v6, 16), "2001:db8::1");
}

Test(ike_id, key_id_is_at_hash_hex)
{
	static const uint8_t k[] = { 0x01, 0xab, 0xff, 0x00 };

	cr_expect_str_eq(text(IKE_ID_KEY_ID, k, sizeof(k)), "@#01abff00");
}

Test(ike_id, dn_in_der_order_with_short_names)
{
	static const char *const rdn[] = {
		"C", "CH", "O", "example", "CN", "carol",
	};
	uint8_t der[256];
	size_t n = dn_der(rdn, sizeof(rdn) / sizeof(rdn[0]), der,
	    sizeof(der));

	cr_expect_str_eq(text(IKE_ID_DER_ASN1_DN, der, n),
	    "C=CH, O=example, CN=carol");
	/* Trailing octets, a cut DER and garbage are not a DN. */
	der[n] = 0;
	cr_expect_null(text(IKE_ID_DER_ASN1_DN, der, n + 1));
	cr_expect_null(text(IKE_ID_DER_ASN1_DN, der, n - 1));
	cr_expect_null(text(IKE_ID_DER_ASN1_DN, "garbage", 7));
}

Test(ike_id, refuses_what_is_not_that_type)
{
	static const uint8_t v4[5] = { 192, 0, 2, 7, 1 };
	char small[8];

	cr_expect_null(text(IKE_ID_FQDN, "a\0b", 3), "NUL in a name");
	cr_expect_null(text(IKE_ID_FQDN, "a\nb", 3), "newline in a name");
	cr_expect_null(text(IKE_ID_FQDN, "", 0), "empty");
	cr_expect_null(text(IKE_ID_IPV4_ADDR, v4, 5), "5-octet IPv4");
	cr_expect_null(text(IKE_ID_IPV6_ADDR, v4, 4), "4-octet IPv6");
	cr_expect_null(text(IKE_ID_KEY_ID, v4, 0), "empty key ID");
	cr_expect_null(text(IKE_ID_DER_ASN1_GN, "x", 1), "GN unsupported");
	/* Exactly full: the NUL must fit too. */
	cr_expect_eq(ike_id_text(IKE_ID_FQDN, (const uint8_t *)"1234567", 7,
	    small, sizeof(small)), 0);
	cr_expect_eq(ike_id_text(IKE_ID_FQDN, (const uint8_t *)"12345678", 8,
	    small, sizeof(small)), -1);
	/* "@#" and 3 octets in hex is 8 characters: 9 with the NUL. */
	cr_expect_eq(ike_id_text(IKE_ID_KEY_ID, (const uint8_t *)"\1\2\3", 3,
	    small, sizeof(small)), -1);
	cr_expect_eq(ike_id_text(IKE_ID_KEY_ID, (const uint8_t *)"\1\2\3", 2,
	    small, sizeof(small)), 0);
	cr_expect_str_eq(small, "@#0102");
}

/* ike_id_format(): log text. */
TestSuite(id);

struct id_case {
	uint8_t		 type;
	const char	*data;		/* bytes */
	size_t		 len;
	const char	*want;
};

static const struct id_case cases[] = {
	/* 0 */ { IKE_ID_FQDN, "vpn.test", 8, "fqdn:vpn.test" },
	/* 1 */ { IKE_ID_RFC822_ADDR, "a@b.test", 8, "email:a@b.test" },
	/* 2: IPv4 address */
	{ IKE_ID_IPV4_ADDR, "\xc6\x33\x64\x01", 4, "ipv4:198.51.100.1" },
	/* 3: IPv6 address */
	{ IKE_ID_IPV6_ADDR, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01",
	    16, "ipv6:2001:db8::1" },
	/* 4: an IPv4 ID of the wrong length is shown as raw bytes */
	{ IKE_ID_IPV4_ADDR, "\x01\x02\x03", 3, "type 1:010203" },
	/* 5 */ { IKE_ID_KEY_ID, "\x0a\x1b", 2, "keyid:0a1b" },
	/* 6: control characters and '\' escaped */
	{ IKE_ID_FQDN, "a\nb\\c\xff", 6, "fqdn:a\\x0ab\\x5cc\\xff" },
	/* 7: DER SEQUENCE { SET { SEQUENCE { OID CN, UTF8String "x" } } } */
	{ IKE_ID_DER_ASN1_DN, "\x30\x0c\x31\x0a\x30\x08\x06\x03\x55\x04\x03"
	    "\x0c\x01x", 14, "dn:CN=x" },
	/* 8: a DN that does not parse */
	{ IKE_ID_DER_ASN1_DN, "\x30\x05", 2, "type 9:3005" },
	/* 9: unknown type */
	{ 200, "\x01", 1, "type 200:01" },
};

Test(id, formats_each_type, .timeout = 10)
{
	char out[IKE_ID_LOG_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct id_case *c = &cases[i];

		ike_id_format(c->type, (const uint8_t *)c->data, c->len, out,
		    sizeof(out));
		cr_expect_str_eq(out, c->want, "case %zu: %s", i, out);
	}
}

Test(id, cuts_long_text_with_dots, .timeout = 10)
{
	char out[12];

	cr_assert_eq(ike_id_format(IKE_ID_FQDN,
	    (const uint8_t *)"a-long-name.test", 16, out, sizeof(out)), out);
	cr_assert_str_eq(out, "fqdn:a-l...");
	ike_id_format(IKE_ID_FQDN, (const uint8_t *)"abcdef", 6, out,
	    sizeof(out));
	cr_assert_str_eq(out, "fqdn:abcdef");
}
