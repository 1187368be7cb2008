/*
 * tls/ctx.c: the checks of tls-ciphers and tls-ciphersuites, which find
 * the element OpenSSL would skip without a word, and the NULL suites
 * being offered only on request.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "tls/ctx.h"

TestSuite(tls_ctx, .timeout = 10);

static void
ciphers_ok(const char *list)
{
	char bad[TLS_CIPHERS_MAX] = "unset";

	cr_assert(tls_ciphers_check(list, bad, sizeof(bad)),
	    "\"%s\" refused at \"%s\"", list, bad);
}

static void
ciphers_bad(const char *list, const char *want)
{
	char bad[TLS_CIPHERS_MAX] = "unset";

	cr_assert_not(tls_ciphers_check(list, bad, sizeof(bad)),
	    "\"%s\" accepted", list);
	cr_assert_str_eq(bad, want, "\"%s\"", list);
}

Test(tls_ctx, takes_cipher_strings_in_openssl_syntax)
{
	ciphers_ok("HIGH");
	ciphers_ok("ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5");
	ciphers_ok("ALL:!COMPLEMENTOFDEFAULT");
	ciphers_ok("ECDHE-ECDSA-AES128-GCM-SHA256,ECDHE-RSA-AES256-GCM-SHA384");
	ciphers_ok("HIGH:-AES128:+AES256:@STRENGTH");
	ciphers_ok("eNULL:@SECLEVEL=0");
}

Test(tls_ctx, names_the_element_that_matches_nothing)
{
	/* OpenSSL itself takes the first and drops "BOGUS". */
	ciphers_bad("AES128-SHA:BOGUS", "BOGUS");
	ciphers_bad("ECDHE-RSA-AES128-GCM-SHA265", "ECDHE-RSA-AES128-GCM-SHA265");
	ciphers_bad("HIGH:!NOPE", "!NOPE");
	ciphers_bad("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256");
	ciphers_bad("HIGH:@SECLEVEL=9", "@SECLEVEL=9");
	ciphers_bad("HIGH:@FAST", "@FAST");
}

Test(tls_ctx, refuses_a_list_that_leaves_no_cipher)
{
	ciphers_bad("!ALL", "");
	ciphers_bad("HIGH:!HIGH", "");
}

Test(tls_ctx, takes_tls13_suite_names)
{
	char bad[TLS_CIPHERS_MAX] = "unset";

	cr_assert(tls_ciphersuites_check("TLS_AES_256_GCM_SHA384", bad,
	    sizeof(bad)), "%s", bad);
	cr_assert(tls_ciphersuites_check("TLS_AES_128_GCM_SHA256:"
	    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256", bad,
	    sizeof(bad)), "%s", bad);
}

Test(tls_ctx, names_the_suite_it_does_not_know)
{
	char bad[TLS_CIPHERS_MAX];

	cr_assert_not(tls_ciphersuites_check("TLS_AES_256_GCM_SHA384:"
	    "TLS_AES_129_GCM", bad, sizeof(bad)));
	cr_assert_str_eq(bad, "TLS_AES_129_GCM");
	cr_assert_not(tls_ciphersuites_check("ECDHE-RSA-AES128-GCM-SHA256",
	    bad, sizeof(bad)));
	cr_assert_str_eq(bad, "ECDHE-RSA-AES128-GCM-SHA256");
	cr_assert_not(tls_ciphersuites_check("TLS_AES_256_GCM_SHA384::", bad,
	    sizeof(bad)));
	cr_assert_str_eq(bad, "");
}
