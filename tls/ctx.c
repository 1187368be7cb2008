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
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conf/fileset.h"
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

/* "@what @path: @why (OpenSSL's last error)", or without @why: "@what
 * @path: OpenSSL's last error". */
static void
ssl_err_why(char *err, size_t errlen, const char *what, const char *path,
    const char *why)
{
	unsigned long e = ERR_peek_last_error();
	char buf[160] = "unknown error";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s: %s%s%s%s", what, path ? " " : "",
	    path ? path : "", why ? why : "", why ? " (" : "", buf,
	    why ? ")" : "");
}

static void
ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
	ssl_err_why(err, errlen, what, path, NULL);
}

/*
 * Every file is read with fs_read() (conf/fileset.h), never by OpenSSL
 * itself: in a worker the bytes come from the set its privileged master
 * read, so a root-only 0600 key loads after the privilege drop too.  The
 * PEM is then parsed from memory as OpenSSL's *_file() functions would.
 */
struct pem_file {
	unsigned char	*data;		/* the file, wiped when freed */
	size_t		 len;		/* bytes */
	BIO		*bio;		/* read-only, over data */
};

/* @path (for the key @what) into @f; -1 with the reason in @err. */
static int
pem_open(struct pem_file *f, const char *what, const char *path, char *err,
    size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (fs_read(path, &f->data, &f->len) == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path,
		    fs_strerror(errno));
		return -1;
	}
	if ((f->bio = BIO_new_mem_buf(f->data, (int)f->len)) == NULL) {
		ssl_err(err, errlen, what, path);
		OPENSSL_clear_free(f->data, f->len + 1);
		return -1;
	}
	return 0;
}

static void
pem_close(struct pem_file *f)
{
	BIO_free(f->bio);
	if (f->data != NULL)
		OPENSSL_clear_free(f->data, f->len + 1);
	memset(f, 0, sizeof(*f));
}

/* True when the PEM reader stopped at the end of its input, not at junk. */
static bool
is_pem_end(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* tls-cert, as SSL_CTX_use_certificate_chain_file() reads it: the first
 * certificate is ours, the ones after it its chain. */
static int
use_cert_chain(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	struct pem_file f;
	X509 *x, *ca;
	int rc = -1;

	ERR_clear_error();
	if (pem_open(&f, "tls-cert", path, err, errlen) == -1)
		return -1;
	if ((x = PEM_read_bio_X509_AUX(f.bio, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1 || ERR_peek_error() != 0 ||
	    SSL_CTX_clear_chain_certs(ctx) != 1)
		goto out;
	while ((ca = PEM_read_bio_X509(f.bio, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
			X509_free(ca);
			goto out;
		}
	if (is_pem_end()) {
		ERR_clear_error();
		rc = 0;
	}
out:
	if (rc == -1)
		ssl_err(err, errlen, "tls-cert", path);
	X509_free(x);
	pem_close(&f);
	return rc;
}

/* tls-chain: extra intermediates, in order, after the leaf; reading stops
 * at the first thing that is no PEM certificate. */
static int
add_extra_chain(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	struct pem_file f;
	X509 *x;

	if (pem_open(&f, "tls-chain", path, err, errlen) == -1)
		return -1;
	while ((x = PEM_read_bio_X509(f.bio, NULL, NULL, NULL)) != NULL)
		if (!SSL_CTX_add_extra_chain_cert(ctx, x)) {
			X509_free(x);
			ssl_err(err, errlen, "tls-chain", path);
			pem_close(&f);
			return -1;
		}
	pem_close(&f);
	ERR_clear_error();	/* the end of the file */
	return 0;
}

/* tls-key, as SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM). */
static int
use_key(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	struct pem_file f;
	EVP_PKEY *key;
	int rc = -1;

	if (pem_open(&f, "tls-key", path, err, errlen) == -1)
		return -1;
	if ((key = PEM_read_bio_PrivateKey(f.bio, NULL, NULL, NULL)) == NULL)
		ssl_err_why(err, errlen, "tls-key", path,
		    "no PEM private key");
	else if (SSL_CTX_use_PrivateKey(ctx, key) != 1)
		ssl_err(err, errlen, "tls-key", path);
	else
		rc = 0;
	EVP_PKEY_free(key);
	pem_close(&f);
	return rc;
}

/* Every certificate and CRL of the PEM bundle in @f into @st, as
 * X509_STORE_load_file() does; -1 when it holds none or is bad. */
static int
store_add_pem(X509_STORE *st, struct pem_file *f)
{
	STACK_OF(X509_INFO) *inf;
	int n = 0, rc = -1;

	if ((inf = PEM_X509_INFO_read_bio(f->bio, NULL, NULL, "")) == NULL)
		return -1;
	for (int i = 0; i < sk_X509_INFO_num(inf); i++) {
		X509_INFO *it = sk_X509_INFO_value(inf, i);

		if (it->x509 != NULL) {
			if (!X509_STORE_add_cert(st, it->x509))
				goto out;
			n++;
		}
		if (it->crl != NULL) {
			if (!X509_STORE_add_crl(st, it->crl))
				goto out;
			n++;
		}
	}
	if (n == 0)
		ERR_raise(ERR_LIB_X509, X509_R_NO_CERTIFICATE_OR_CRL_FOUND);
	else
		rc = 0;
out:
	sk_X509_INFO_pop_free(inf, X509_INFO_free);
	return rc;
}

/* tls-ca: the PEM bundle @path. */
static int
load_ca(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	struct pem_file f;
	int rc;

	if (pem_open(&f, "tls-ca", path, err, errlen) == -1)
		return -1;
	if ((rc = store_add_pem(SSL_CTX_get_cert_store(ctx), &f)) == -1)
		ssl_err(err, errlen, "tls-ca", path);
	pem_close(&f);
	return rc;
}

/*
 * No tls-ca: the system store, as SSL_CTX_set_default_verify_paths() sets
 * it up.  Its bundle ($SSL_CERT_FILE or OpenSSL's default file) is read
 * through fs_read like every other file; a missing or bad one is no error,
 * as for OpenSSL.  The hashed directory ($SSL_CERT_DIR or the default) is
 * looked up by OpenSSL at verification time, one public certificate at a
 * time: world-readable files of the system, none of our configuration.
 */
static int
load_default_ca(SSL_CTX *ctx, char *err, size_t errlen)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	const char *path = secure_getenv(X509_get_default_cert_file_env());
	X509_LOOKUP *dir;
	struct pem_file f;
	char ignored[8];

	if (path == NULL)
		path = X509_get_default_cert_file();
	if (pem_open(&f, "tls-ca", path, ignored, sizeof(ignored)) == 0) {
		(void)store_add_pem(st, &f);
		pem_close(&f);
	}
	ERR_clear_error();
	if ((dir = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir())) == NULL) {
		ssl_err(err, errlen, "tls-ca", NULL);
		return -1;
	}
	(void)X509_LOOKUP_add_dir(dir, NULL, X509_FILETYPE_DEFAULT);
	ERR_clear_error();
	return 0;
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
	if (use_cert_chain(ctx, o->cert, err, errlen) == -1)
		goto fail;
	if (o->chain != NULL && add_extra_chain(ctx, o->chain, err,
	    errlen) == -1)
		goto fail;
	if (use_key(ctx, o->key, err, errlen) == -1)
		goto fail;
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
		    load_ca(ctx, ca_file, err, errlen) :
		    load_default_ca(ctx, err, errlen)) == -1)
			goto fail;
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
