/*
 * ike/id.c: IKE identities as log text.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "ike/id.h"
#include "ike/ikev2.h"

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
	char out[IKE_ID_TEXT_MAX];

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
