#include <criterion/criterion.h>
#include <string.h>

#include "framing/prefix.h"

TestSuite(prefix, .timeout = 10);

static const struct {
	const char *bytes;
	enum prefix_result want;
	enum prefix_kind kind;
	size_t len;
} cases[] = {
	{ "", PREFIX_NEED_MORE, 0, 0 },
	{ "I", PREFIX_NEED_MORE, 0, 0 },
	{ "IK", PREFIX_NEED_MORE, 0, 0 },
	{ "IKE", PREFIX_NEED_MORE, 0, 0 },
	{ "IKET", PREFIX_NEED_MORE, 0, 0 },
	{ "IKETC", PREFIX_NEED_MORE, 0, 0 },
	{ "IKETCP", PREFIX_OK, PREFIX_IKETCP, 6 },
	{ "IKETCP\x00\x08", PREFIX_OK, PREFIX_IKETCP, 6 },	/* frame follows */
	{ "IKEv", PREFIX_NEED_MORE, 0, 0 },
	{ "IKEv2", PREFIX_OK, PREFIX_IKEV2, 5 },
	{ "IKEv2\x00", PREFIX_OK, PREFIX_IKEV2, 5 },
	{ "G", PREFIX_ERROR, 0, 0 },			/* decided at once */
	{ "GET / HTTP/1.1", PREFIX_ERROR, 0, 0 },
	{ "IKEV2", PREFIX_ERROR, 0, 0 },		/* case matters */
	{ "iketcp", PREFIX_ERROR, 0, 0 },
	{ "IKETCp", PREFIX_ERROR, 0, 0 },
	{ "IKEv3", PREFIX_ERROR, 0, 0 },
	{ "IKX", PREFIX_ERROR, 0, 0 },
	{ "\x00\x08", PREFIX_ERROR, 0, 0 },		/* frames without a prefix */
	{ "\x16\x03\x01", PREFIX_ERROR, 0, 0 },		/* TLS */
};

Test(prefix, detects_known_and_refuses_others)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum prefix_kind kind = 99;
		size_t len = 99;
		size_t n = strlen(cases[i].bytes);

		if (cases[i].bytes[0] == '\0' && i != 0)
			n = 2;	/* "\x00\x08" */
		cr_assert_eq(prefix_detect((const uint8_t *)cases[i].bytes, n,
		    &kind, &len), cases[i].want, "case %zu", i);
		if (cases[i].want == PREFIX_OK) {
			cr_assert_eq(kind, cases[i].kind, "case %zu", i);
			cr_assert_eq(len, cases[i].len, "case %zu", i);
		}
	}
}

Test(prefix, bytes_and_names_agree_with_detection)
{
	enum prefix_kind kinds[] = { PREFIX_IKETCP, PREFIX_IKEV2 };

	for (size_t i = 0; i < 2; i++) {
		size_t len, got;
		enum prefix_kind k;
		const uint8_t *b = prefix_bytes(kinds[i], &len);

		cr_assert_eq(prefix_detect(b, len, &k, &got), PREFIX_OK);
		cr_assert_eq(k, kinds[i]);
		cr_assert_eq(got, len);
		cr_assert_eq(strlen(prefix_name(k)), len);
	}
}
