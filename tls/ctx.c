/*
 * Server SSL_CTX per [relay] section.
 *
 * RFC 9329 Appendix A: "The security of the IKE session is entirely derived
 * from the IKE negotiation and key establishment and not from the TLS
 * session (which, in this context, is only used for encapsulation
 * purposes); therefore, when TLS is used on the TCP connection, both the
 * initiator and responder SHOULD allow the NULL cipher to be selected for
 * performance reasons."  That is an opt-in here (tls-null = yes; the
 * default is no): scanners flag a port that negotiates NULL, and a NULL
 * suite shows an HTTP CONNECT request, Proxy-Authorization included, to
 * anyone on the path.  With it the TLS 1.2 NULL suites are appended, last
 * in our preference (a client gets one only when it offers nothing
 * better), and the security level is 0, which OpenSSL requires before it
 * offers them.  TLS 1.3 has no NULL suite in OpenSSL 3.0.
 *
 * OpenSSL skips a name it does not know in a cipher list (and later
 * versions in a ciphersuites list) without a word, so a typo quietly
 * loses a suite; tls_ciphers_check() and tls_ciphersuites_check() find
 * the element that matches nothing, for the configuration error.  "TLS session resumption is recommended": tickets
 * are on, with keys shared across reloads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "tls/ctx.h"

/* OpenSSL's "DEFAULT" bans eNULL for good ("!eNULL"), so the base list
 * is DEFAULT's other half, and the NULL suites named here are added last:
 * ECDHE key exchange (forward secrecy for the TLS layer's own secrets) and
 * a certificate, never anonymous ones. */
static const char default_ciphers[] = "ALL:!COMPLEMENTOFDEFAULT";
const char tls_null_ciphers[] =
    "ECDHE-ECDSA-NULL-SHA:ECDHE-RSA-NULL-SHA:NULL-SHA256";

/* A scratch context: the checks below ask OpenSSL what a name means.
 * NULL, with the reason in @bad, when there is none. */
static SSL_CTX *
scratch(char *bad, size_t badlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		snprintf(bad, badlen, "%s", "(no OpenSSL context)");
	return ctx;
}

/* The element of @list at @s, up to the next separator, into @out. */
static const char *
element(const char *s, const char *seps, char *out, size_t outlen)
{
	size_t n = strcspn(s, seps);

	snprintf(out, outlen, "%.*s", (int)n, s);
	return s + n + (s[n] != '\0');
}

bool
tls_ciphers_check(const char *list, char *bad, size_t badlen)
{
	char el[TLS_CIPHERS_MAX];
	const char *s = list;
	SSL_CTX *ctx;
	bool ok = true;

	if ((ctx = scratch(bad, badlen)) == NULL)
		return false;
	while (ok && *s != '\0') {
		const char *e = el;

		s = element(s, ":, ", el, sizeof(el));
		if (*e == '!' || *e == '-' || *e == '+')
			e++;
		if (*e == '\0')
			continue;
		if (*e == '@')		/* @STRENGTH, @SECLEVEL=N */
			ok = strcmp(e, "@STRENGTH") == 0 ||
			    (strncmp(e, "@SECLEVEL=", 10) == 0 &&
			    e[10] >= '0' && e[10] <= '5' && e[11] == '\0');
		else
			ok = SSL_CTX_set_cipher_list(ctx, e) == 1;
		if (!ok)
			snprintf(bad, badlen, "%s", el);
	}
	/* Each element means something, but the whole may be empty. */
	if (ok && SSL_CTX_set_cipher_list(ctx, list) != 1) {
		if (badlen > 0)
			bad[0] = '\0';
		ok = false;
	}
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return ok;
}

bool
tls_ciphersuites_check(const char *list, char *bad, size_t badlen)
{
	char el[TLS_CIPHERS_MAX];
	const char *s = list;
	SSL_CTX *ctx;
	bool ok = true;

	if ((ctx = scratch(bad, badlen)) == NULL)
		return false;
	while (ok && *s != '\0') {
		STACK_OF(SSL_CIPHER) *sk;

		s = element(s, ":", el, sizeof(el));
		ok = false;
		if (el[0] != '\0' && SSL_CTX_set_ciphersuites(ctx, el) == 1 &&
		    (sk = SSL_CTX_get_ciphers(ctx)) != NULL)
			for (int i = 0; i < sk_SSL_CIPHER_num(sk) && !ok; i++)
				ok = strcmp(SSL_CIPHER_standard_name(
				    sk_SSL_CIPHER_value(sk, i)), el) == 0;
		if (!ok)
			snprintf(bad, badlen, "%s", el);
	}
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return ok;
}

static void
ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_peek_last_error();
	char buf[160] = "unknown error";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s: %s", what, path ? " " : "",
	    path ? path : "", buf);
}

SSL_CTX *
tls_ctx_server_new(const struct tls_server_opts *o,
    const unsigned char *ticket_keys, char *err, size_t errlen)
{
	char list[TLS_CIPHERS_MAX + sizeof(tls_null_ciphers) + 16];
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ssl_err(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx,
	    o->tls13_only ? TLS1_3_VERSION :
	    TLS1_2_VERSION)) {
		ssl_err(err, errlen, "tls-min-version", NULL);
		goto fail;
	}
	if (o->ciphers != NULL && strlen(o->ciphers) >= TLS_CIPHERS_MAX) {
		snprintf(err, errlen, "tls-ciphers: longer than %d",
		    TLS_CIPHERS_MAX - 1);
		goto fail;
	}
	snprintf(list, sizeof(list), "%s%s%s",
	    o->ciphers != NULL ? o->ciphers : default_ciphers,
	    o->null_suites ? ":" : "", o->null_suites ? tls_null_ciphers : "");
	if (o->null_suites)
		SSL_CTX_set_security_level(ctx, 0);
	if (!SSL_CTX_set_cipher_list(ctx, list)) {
		ssl_err(err, errlen, "tls-ciphers", o->ciphers);
		goto fail;
	}
	if (o->ciphersuites != NULL &&
	    !SSL_CTX_set_ciphersuites(ctx, o->ciphersuites)) {
		ssl_err(err, errlen, "tls-ciphersuites", o->ciphersuites);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
		ssl_err(err, errlen, "tls-cert", o->cert);
		goto fail;
	}
	if (o->chain != NULL) {
		/* Extra intermediates, in order, after the leaf. */
		FILE *f = fopen(o->chain, "r");
		X509 *x;

		if (f == NULL) {
			snprintf(err, errlen, "tls-chain %s: %s",
			    o->chain, strerror(errno));
			goto fail;
		}
		while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
			if (!SSL_CTX_add_extra_chain_cert(ctx, x)) {
				X509_free(x);
				fclose(f);
				ssl_err(err, errlen, "tls-chain",
				    o->chain);
				goto fail;
			}
		fclose(f);
		ERR_clear_error();	/* the end of the file */
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key,
	    SSL_FILETYPE_PEM) != 1) {
		ssl_err(err, errlen, "tls-key", o->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "tls-key does not match tls-cert",
		    o->key);
		goto fail;
	}
	/* No client certificate is asked for: IKE authenticates peers. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	if (SSL_CTX_set_tlsext_ticket_keys(ctx, (void *)ticket_keys,
	    TLS_TICKET_KEYS) != 1) {
		ssl_err(err, errlen, "session ticket keys", NULL);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_ctx_client_new(bool verify, const char *ca_file, char *err,
    size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_err(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		ssl_err(err, errlen, "TLS 1.2 floor", NULL);
		goto fail;
	}
	if (verify) {
		if ((ca_file != NULL && *ca_file != '\0' ?
		    SSL_CTX_load_verify_locations(ctx, ca_file, NULL) :
		    SSL_CTX_set_default_verify_paths(ctx)) != 1) {
			ssl_err(err, errlen, "tls-ca", ca_file);
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
