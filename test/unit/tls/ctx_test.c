/*
 * tls/ctx.c: the checks of tls-ciphers and tls-ciphersuites, which find
 * the element OpenSSL would skip without a word, and the NULL suites
 * being offered only on request; the files of a context (below).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conf/fileset.h"
#include "conf/secrets.h"
#include "ike/auth.h"
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

/*
 * Certificates, chains, keys and CA bundles: read with fs_read()
 * (conf/fileset.h) and parsed from memory, with the file named in every
 * error; and, the point of it, a worker that dropped its privileges loads
 * a root-only key from the set its master read.
 */
static char dir[64];

static void
dir_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tls_ctx.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
dir_teardown(void)
{
	char cmd[128];

	fs_use(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static const char *
at(const char *name)
{
	static char buf[8][256];
	static unsigned k;
	char *p = buf[k++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* A certificate for @cn with @key, signed by @ca_key as @ca (self-signed
 * when @ca is NULL). */
static X509 *
mk_cert(const char *cn, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
    long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	cr_assert_not_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, ca != NULL ? X509_get_subject_name(ca) : n);
	X509_set_pubkey(x, key);
	cr_assert(X509_sign(x, ca_key != NULL ? ca_key : key, EVP_sha256()) >
	    0);
	X509_NAME_free(n);
	return x;
}

/* @name in dir with mode @mode, written by @write_fn. */
static void
put_pem(const char *name, mode_t mode, X509 *x1, X509 *x2, EVP_PKEY *key)
{
	FILE *f;
	int fd;

	fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0);
	cr_assert_not_null(f = fdopen(fd, "w"));
	if (x1 != NULL)
		cr_assert(PEM_write_X509(f, x1));
	if (x2 != NULL)
		cr_assert(PEM_write_X509(f, x2));
	if (key != NULL)
		cr_assert(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL,
		    NULL));
	cr_assert_eq(fclose(f), 0);
}

static void
put_text(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");

	cr_assert_not_null(f);
	cr_assert(fputs(text, f) >= 0);
	cr_assert_eq(fclose(f), 0);
}

static const unsigned char ticket_keys[TLS_TICKET_KEYS];

/* dir holds: ca.pem (a CA), leaf.pem (leaf, then the CA), solo.pem (the
 * leaf alone), chain.pem (the CA), key.pem (the leaf's key, 0600),
 * other.key (another key). */
static void
make_pki(void)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256"),
	    *other = EVP_EC_gen("P-256");
	X509 *ca, *leaf;

	cr_assert(ca_key != NULL && key != NULL && other != NULL);
	ca = mk_cert("ca.test", ca_key, NULL, NULL, 1);
	leaf = mk_cert("relay.test", key, ca, ca_key, 2);
	put_pem("ca.pem", 0644, ca, NULL, NULL);
	put_pem("leaf.pem", 0644, leaf, ca, NULL);
	put_pem("solo.pem", 0644, leaf, NULL, NULL);
	put_pem("chain.pem", 0644, ca, NULL, NULL);
	put_pem("key.pem", 0600, NULL, NULL, key);
	put_pem("other.key", 0600, NULL, NULL, other);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static SSL_CTX *
server(const char *cert, const char *key, const char *chain, char *err,
    size_t errlen)
{
	struct tls_server_opts o;

	memset(&o, 0, sizeof(o));
	o.cert = cert;
	o.key = key;
	o.chain = chain;
	snprintf(err, errlen, "unset");
	return tls_ctx_server_new(&o, ticket_keys, err, errlen);
}

Test(tls_ctx, loads_certificate_chain_and_key_from_files,
    .init = dir_setup, .fini = dir_teardown)
{
	STACK_OF(X509) *sk;
	char err[512];
	SSL_CTX *ctx;

	make_pki();
	ctx = server(at("leaf.pem"), at("key.pem"), NULL, err, sizeof(err));
	cr_assert_not_null(ctx, "%s", err);
	cr_assert_not_null(SSL_CTX_get0_certificate(ctx));
	cr_assert(SSL_CTX_get0_chain_certs(ctx, &sk));
	cr_assert_eq(sk_X509_num(sk), 1, "the CA after the leaf");
	SSL_CTX_free(ctx);

	ctx = server(at("solo.pem"), at("key.pem"), at("chain.pem"), err,
	    sizeof(err));
	cr_assert_not_null(ctx, "%s", err);
	cr_assert(SSL_CTX_get_extra_chain_certs(ctx, &sk));
	cr_assert_eq(sk_X509_num(sk), 1, "tls-chain's one certificate");
	SSL_CTX_free(ctx);
}

static void
server_fails(const char *cert, const char *key, const char *chain,
    const char *want)
{
	char err[512];
	SSL_CTX *ctx = server(cert, key, chain, err, sizeof(err));

	cr_assert_null(ctx, "want \"%s\"", want);
	cr_assert_not_null(strstr(err, want), "\"%s\" lacks \"%s\"", err,
	    want);
}

Test(tls_ctx, names_the_file_it_cannot_use, .init = dir_setup,
    .fini = dir_teardown)
{
	char want[512];

	make_pki();
	put_text("junk.pem", "not PEM\n");
	snprintf(want, sizeof(want), "tls-cert %s: No such file or directory",
	    at("nocert"));
	server_fails(at("nocert"), at("key.pem"), NULL, want);
	snprintf(want, sizeof(want), "tls-key %s: No such file or directory",
	    at("nokey"));
	server_fails(at("leaf.pem"), at("nokey"), NULL, want);
	snprintf(want, sizeof(want), "tls-chain %s: No such file or "
	    "directory", at("nochain"));
	server_fails(at("solo.pem"), at("key.pem"), at("nochain"), want);
	snprintf(want, sizeof(want), "tls-cert %s: error:", at("junk.pem"));
	server_fails(at("junk.pem"), at("key.pem"), NULL, want);
	server_fails(at("junk.pem"), at("key.pem"), NULL, "no start line");
	snprintf(want, sizeof(want), "tls-key %s: no PEM private key (error:",
	    at("junk.pem"));
	server_fails(at("leaf.pem"), at("junk.pem"), NULL, want);
	snprintf(want, sizeof(want), "tls-key %s: ", at("other.key"));
	server_fails(at("leaf.pem"), at("other.key"), NULL, want);
	server_fails(at("leaf.pem"), at("other.key"), NULL,
	    "key values mismatch");
	snprintf(want, sizeof(want), "tls-cert %s: Is a directory", dir);
	server_fails(dir, at("key.pem"), NULL, want);
}

Test(tls_ctx, loads_a_ca_bundle_and_names_a_bad_one, .init = dir_setup,
    .fini = dir_teardown)
{
	char err[512], want[512];
	SSL_CTX *ctx;

	make_pki();
	put_text("empty.pem", "");
	ctx = tls_ctx_client_new(true, at("ca.pem"), err, sizeof(err));
	cr_assert_not_null(ctx, "%s", err);
	cr_assert_eq(sk_X509_OBJECT_num(X509_STORE_get0_objects(
	    SSL_CTX_get_cert_store(ctx))), 1);
	SSL_CTX_free(ctx);
	cr_assert_null(tls_ctx_client_new(true, at("empty.pem"), err,
	    sizeof(err)));
	snprintf(want, sizeof(want), "tls-ca %s: ", at("empty.pem"));
	cr_assert_not_null(strstr(err, want), "%s", err);
	cr_assert_not_null(strstr(err, "no certificate or crl found"), "%s",
	    err);
	cr_assert_null(tls_ctx_client_new(true, at("none.pem"), err,
	    sizeof(err)));
	snprintf(want, sizeof(want), "tls-ca %s: No such file or directory",
	    at("none.pem"));
	cr_assert_str_eq(err, want);
	/* The system store: no error even where it is empty. */
	ctx = tls_ctx_client_new(true, NULL, err, sizeof(err));
	cr_assert_not_null(ctx, "%s", err);
	SSL_CTX_free(ctx);
}

/* Child: tls/ctx.c, ike/auth.c and conf/secrets.c load the 0600 root-only
 * files as nobody, from @set_fd when it is not -1.  Exit status: 0 all
 * loaded, 1 tls failed, 2 ike key failed, 3 secrets failed, 4 the disk
 * was readable after the drop (the test would prove nothing), 9 set-up. */
static int
as_nobody(int set_fd, const struct passwd *pw)
{
	char err[512];
	SSL_CTX *ctx;
	struct secrets *sec;
	EVP_PKEY *k;
	int fd;

	if (set_fd != -1) {
		struct fs_set *s = fs_set_import(set_fd);

		if (s == NULL)
			return 9;
		fs_use(s);
	}
	if (setgroups(0, NULL) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		return 9;
	if ((fd = open(at("key.pem"), O_RDONLY)) != -1 || errno != EACCES)
		return 4;
	ctx = server(at("leaf.pem"), at("key.pem"), NULL, err, sizeof(err));
	if (ctx == NULL) {
		fprintf(stderr, "as nobody: %s\n", err);
		return 1;
	}
	SSL_CTX_free(ctx);
	if ((k = ike_auth_key_load(at("key.pem"), true)) == NULL)
		return 2;
	EVP_PKEY_free(k);
	if ((sec = secrets_load(at("ipsec.secrets"))) == NULL)
		return 3;
	secrets_free(sec);
	return 0;
}

static int
run_as_nobody(int set_fd, const struct passwd *pw)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	cr_assert_geq(pid = fork(), 0);
	if (pid == 0)
		_exit(as_nobody(set_fd, pw));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "status %#x", status);
	return WEXITSTATUS(status);
}

/*
 * Issue 13: after the privilege drop a reload could not read a root-only
 * 0600 key ("SSL routines::system lib").  The master records what it read
 * as root; a forked worker that drops to nobody loads the same key from
 * that set, and cannot without it.
 */
Test(tls_ctx, a_worker_as_nobody_loads_a_root_only_key_from_the_set,
    .init = dir_setup, .fini = dir_teardown, .timeout = 30)
{
	const struct passwd *pw = getpwnam("nobody");
	char err[512];
	struct fs_set *s;
	SSL_CTX *ctx;
	struct secrets *sec;
	EVP_PKEY *k;
	int fd;

	if (geteuid() != 0 || pw == NULL)
		cr_skip_test("needs root and a user nobody");
	make_pki();
	put_text("ipsec.secrets", "a.test : PSK \"k\"\n");
	cr_assert_eq(chmod(at("ipsec.secrets"), 0600), 0);
	cr_assert_eq(chmod(dir, 0700), 0);	/* root's alone */

	fs_record_begin();
	ctx = server(at("leaf.pem"), at("key.pem"), NULL, err, sizeof(err));
	cr_assert_not_null(ctx, "%s", err);
	SSL_CTX_free(ctx);
	cr_assert_not_null(k = ike_auth_key_load(at("key.pem"), true));
	EVP_PKEY_free(k);
	cr_assert_not_null(sec = secrets_load(at("ipsec.secrets")));
	secrets_free(sec);
	cr_assert_not_null(s = fs_record_end());
	fd = fs_set_export(s);
	cr_assert_geq(fd, 0, "%s", strerror(errno));
	fs_set_free(s);

	cr_assert_eq(run_as_nobody(-1, pw), 1, "without the set the key "
	    "must not load as nobody");
	cr_assert_eq(run_as_nobody(fd, pw), 0);
	close(fd);
}
