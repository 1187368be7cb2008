/*
 * conf/secrets.c: the integrated role's ipsec.secrets-style file.  One
 * test per rejection rule, each checking the "file:line:" it names, read
 * back from stderr.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf/secrets.h"

TestSuite(secrets);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct capture {
	int	pfd[2];
	int	saved;
	char	text[16384];
};

static void
capture_start(struct capture *cap)
{
	fflush(stderr);
	cr_assert_eq(pipe(cap->pfd), 0);
	cr_assert_eq(fcntl(cap->pfd[0], F_SETFL, O_NONBLOCK), 0);
	cap->saved = dup(STDERR_FILENO);
	cr_assert_geq(cap->saved, 0);
	cr_assert_geq(dup2(cap->pfd[1], STDERR_FILENO), 0);
}

static void
capture_end(struct capture *cap)
{
	ssize_t n;

	fflush(stderr);
	dup2(cap->saved, STDERR_FILENO);
	close(cap->saved);
	close(cap->pfd[1]);
	n = read(cap->pfd[0], cap->text, sizeof(cap->text) - 1);
	cap->text[n > 0 ? n : 0] = '\0';
	close(cap->pfd[0]);
	fputs(cap->text, stderr);
}

static struct secrets *
parse(const char *text, struct capture *cap)
{
	struct secrets *s;

	capture_start(cap);
	s = secrets_parse("t.secrets", text, strlen(text));
	capture_end(cap);
	return s;
}

static void
expect_psk(const struct secrets *s, const char *id, const char *want,
    size_t want_len)
{
	size_t len = 0;
	const uint8_t *psk = secrets_psk(s, id, &len);

	cr_assert_not_null(psk, "no secret for \"%s\"", id);
	cr_assert_eq(len, want_len, "\"%s\": length %zu", id, len);
	cr_assert_eq(memcmp(psk, want, len), 0, "\"%s\"", id);
}

Test(secrets, parses_every_form, .timeout = 10)
{
	static const char text[] =
	    "# a comment\n"
	    "\n"
	    "initiator.test : PSK \"key\"\n"
	    "  alice@example.org\tbob@example.org : PSK \"two words\" # c\n"
	    "\"C=CH, O=example, CN=carol\" : PSK 0x6B6579\r\n"
	    "2001:db8::1 : PSK \"#not a comment\"\n"
	    "last : PSK \"no newline\"";
	struct capture cap;
	struct secrets *s = parse(text, &cap);

	cr_assert_not_null(s, "%s", cap.text);
	cr_assert_eq(secrets_count(s), 6);
	expect_psk(s, "initiator.test", "key", 3);
	expect_psk(s, "alice@example.org", "two words", 9);
	expect_psk(s, "bob@example.org", "two words", 9);
	expect_psk(s, "C=CH, O=example, CN=carol", "key", 3);
	expect_psk(s, "2001:db8::1", "#not a comment", 14);
	expect_psk(s, "last", "no newline", 10);
	cr_assert_str_eq(cap.text, "");
	secrets_free(s);
}

Test(secrets, finds_nothing_for_an_unknown_or_near_identity, .timeout = 10)
{
	struct capture cap;
	struct secrets *s = parse("vpn.example : PSK \"k\"\n", &cap);
	size_t len = 99;

	cr_assert_not_null(s, "%s", cap.text);
	cr_assert_null(secrets_psk(s, "vpn.exampl", &len));
	cr_assert_null(secrets_psk(s, "vpn.example.", &len));
	cr_assert_null(secrets_psk(s, "", &len));
	cr_assert_eq(len, 99);
	secrets_free(s);
	secrets_free(NULL);
	cr_assert_eq(secrets_count(NULL), 0);
}

struct reject {
	const char	*text;		/* line 2, after a good line 1 */
	const char	*what;
};

static const struct reject bad_lines[] = {
	{ "id PSK \"k\"", "missing ':'" },
	{ "id: PSK \"k\"", "missing ':'" },
	{ ": PSK \"k\"", "no identity before ':'" },
	{ "\"\" : PSK \"k\"", "empty identity" },
	{ "\"C=CH : PSK \"k\"", "text right after a closing quote" },
	{ "\"C=CH, CN=x : PSK k", "unterminated quote" },
	{ "a b c d e f g h i j k l m n o p q : PSK \"k\"",
	    "more than 16 identities" },
	{ "id :", "missing PSK or EAP after ':'" },
	{ "id : RSA key.pem", "unsupported secret type \"RSA\": want PSK or "
	    "EAP" },
	{ "id : XAUTH \"pw\"", "XAUTH is IKEv1 and not supported" },
	{ "id : EAP", "missing secret after PSK or EAP" },
	{ "id : EAP bare", "want a quoted secret or 0x" },
	{ "id : psk \"k\"", "unsupported secret type \"psk\"" },
	{ "id : PSK", "missing secret after PSK or EAP" },
	{ "id : PSK # none", "missing secret after PSK or EAP" },
	{ "id : PSK bare", "want a quoted secret or 0x" },
	{ "id : PSK \"unterminated", "unterminated quote" },
	{ "id : PSK \"\"", "empty secret" },
	{ "id : PSK 0x", "bad hex secret" },
	{ "id : PSK 0xabc", "bad hex secret" },
	{ "id : PSK 0xzz", "bad hex secret" },
	{ "id : PSK \"k\" extra", "text after the secret" },
	{ "id : PSK \"k\"\"", "text right after a closing quote" },
	{ "id : PSK \"a\x01b\"", "control character" },
	{ "first : PSK \"k\"", "duplicate identity \"first\", first at line 1" },
	{ "x x : PSK \"k\"", "duplicate identity \"x\", first at line 2" },
};

/* EAP users beside PSKs: their own kind, the same identity allowed. */
Test(secrets, keeps_eap_users_apart_from_psks, .timeout = 10)
{
	static const char text[] =
	    "alice : EAP \"her password\"\n"
	    "alice : PSK \"a psk\"\n"
	    "bob carol : EAP 0x70770a\n"
	    "dave : PSK \"only a psk\"\n";
	struct capture cap;
	struct secrets *s = parse(text, &cap);
	const uint8_t *k;
	size_t n = 0;

	cr_assert_not_null(s, "%s", cap.text);
	cr_assert_eq(secrets_count(s), 5);
	cr_assert_eq(secrets_count_kind(s, SECRETS_EAP), 3);
	k = secrets_eap(s, "alice", &n);
	cr_assert_not_null(k);
	cr_assert_eq(n, 12);
	cr_assert_eq(memcmp(k, "her password", 12), 0);
	k = secrets_psk(s, "alice", &n);
	cr_assert_not_null(k);
	cr_assert_eq(memcmp(k, "a psk", 5), 0);
	k = secrets_eap(s, "carol", &n);
	cr_assert_not_null(k);
	cr_assert_eq(n, 3);
	cr_assert_null(secrets_eap(s, "dave", &n));
	cr_assert_null(secrets_psk(s, "bob", &n));
	secrets_free(s);
	s = parse("alice : EAP \"1\"\nalice : EAP \"2\"\n", &cap);
	cr_assert_null(s);
	cr_assert(strstr(cap.text, "t.secrets:2: duplicate identity "
	    "\"alice\", first at line 1") != NULL, "%s", cap.text);
}

Test(secrets, rejects_each_bad_line_at_its_line, .timeout = 20)
{
	for (size_t i = 0; i < NELEM(bad_lines); i++) {
		char text[512];
		struct capture cap;
		unsigned nl = 0;

		snprintf(text, sizeof(text), "first : PSK \"k\"\n%s\n",
		    bad_lines[i].text);
		cr_log_info("case %zu: %s", i, bad_lines[i].text);
		cr_assert_null(parse(text, &cap), "case %zu accepted", i);
		for (const char *p = cap.text; *p != '\0'; p++)
			nl += *p == '\n';
		cr_assert_eq(nl, 1, "case %zu: want 1 line: %s", i, cap.text);
		cr_assert_not_null(strstr(cap.text, "t.secrets:2: "),
		    "case %zu: %s", i, cap.text);
		cr_assert_not_null(strstr(cap.text, bad_lines[i].what),
		    "case %zu: want \"%s\" in %s", i, bad_lines[i].what,
		    cap.text);
	}
}

Test(secrets, rejects_an_identity_longer_than_255_bytes, .timeout = 10)
{
	char text[SECRETS_ID_MAX + 64];
	struct capture cap;

	memset(text, 'a', SECRETS_ID_MAX + 1);
	strcpy(text + SECRETS_ID_MAX + 1, " : PSK \"k\"\n");
	cr_assert_null(parse(text, &cap));
	cr_assert_not_null(strstr(cap.text, "t.secrets:1: identity longer"),
	    "%s", cap.text);
	text[SECRETS_ID_MAX] = ' ';
	text[SECRETS_ID_MAX - 1] = ' ';
	text[0] = 'b';
	{
		struct secrets *s = parse(text, &cap);

		cr_assert_not_null(s, "%s", cap.text);
		secrets_free(s);
	}
}

Test(secrets, rejects_a_secret_longer_than_256_bytes, .timeout = 10)
{
	char text[2 * SECRETS_PSK_MAX + 64];
	struct capture cap;
	struct secrets *s;
	int n;

	n = snprintf(text, sizeof(text), "id : PSK \"");
	memset(text + n, 'k', SECRETS_PSK_MAX + 1);
	strcpy(text + n + SECRETS_PSK_MAX + 1, "\"\n");
	cr_assert_null(parse(text, &cap));
	cr_assert_not_null(strstr(cap.text, "t.secrets:1: secret longer"),
	    "%s", cap.text);

	n = snprintf(text, sizeof(text), "id : PSK 0x");
	memset(text + n, 'a', 2 * SECRETS_PSK_MAX + 2);
	text[n + 2 * SECRETS_PSK_MAX + 2] = '\0';
	cr_assert_null(parse(text, &cap));
	cr_assert_not_null(strstr(cap.text, "t.secrets:1: secret longer"),
	    "%s", cap.text);

	/* Exactly 256 bytes is fine. */
	n = snprintf(text, sizeof(text), "id : PSK 0x");
	memset(text + n, 'a', 2 * SECRETS_PSK_MAX);
	text[n + 2 * SECRETS_PSK_MAX] = '\0';
	s = parse(text, &cap);
	cr_assert_not_null(s, "%s", cap.text);
	secrets_free(s);
}

Test(secrets, rejects_a_nul_byte, .timeout = 10)
{
	static const char text[] = "id : PSK \"a\0b\"\n";
	struct capture cap;
	struct secrets *s;

	capture_start(&cap);
	s = secrets_parse("t.secrets", text, sizeof(text) - 1);
	capture_end(&cap);
	cr_assert_null(s);
	cr_assert_not_null(strstr(cap.text, "t.secrets:1: NUL byte"), "%s",
	    cap.text);
}

Test(secrets, rejects_a_file_without_secrets, .timeout = 10)
{
	struct capture cap;

	cr_assert_null(parse("# only a comment\n\n", &cap));
	cr_assert_not_null(strstr(cap.text, "t.secrets: no secrets"), "%s",
	    cap.text);
	cr_assert_null(parse("", &cap));
}

Test(secrets, reports_every_bad_line, .timeout = 10)
{
	static const char text[] =
	    "a : PSK\n"
	    "good : PSK \"k\"\n"
	    "b PSK \"k\"\n"
	    "c : PSK \"\"\n";
	struct capture cap;

	cr_assert_null(parse(text, &cap));
	cr_assert_not_null(strstr(cap.text, "t.secrets:1: "), "%s", cap.text);
	cr_assert_not_null(strstr(cap.text, "t.secrets:3: "), "%s", cap.text);
	cr_assert_not_null(strstr(cap.text, "t.secrets:4: "), "%s", cap.text);
	cr_assert_null(strstr(cap.text, "t.secrets:2: "), "%s", cap.text);
}

Test(secrets, never_logs_a_secret, .timeout = 10)
{
	struct capture cap;

	cr_assert_null(parse("id : PSK \"hunter2\" trailing\n", &cap));
	cr_assert_null(strstr(cap.text, "hunter2"), "%s", cap.text);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

Test(secrets, loads_a_private_file, .timeout = 10)
{
	char path[] = "/tmp/iketcp-secrets-XXXXXX";
	struct capture cap;
	struct secrets *s;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	write_file(path, "vpn : PSK \"k\"\n", 0600);
	capture_start(&cap);
	s = secrets_load(path);
	capture_end(&cap);
	cr_assert_not_null(s, "%s", cap.text);
	expect_psk(s, "vpn", "k", 1);
	secrets_free(s);
	unlink(path);
}

Test(secrets, refuses_a_file_that_others_may_read, .timeout = 10)
{
	static const mode_t modes[] = { 0640, 0604, 0610, 0620, 0601 };
	char path[] = "/tmp/iketcp-secrets-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	for (size_t i = 0; i < NELEM(modes); i++) {
		struct capture cap;

		write_file(path, "vpn : PSK \"k\"\n", modes[i]);
		capture_start(&cap);
		cr_assert_null(secrets_load(path), "mode %o", modes[i]);
		capture_end(&cap);
		cr_assert_not_null(strstr(cap.text, "gives group or others "
		    "access"), "%s", cap.text);
	}
	unlink(path);
}

Test(secrets, refuses_a_missing_file_or_a_directory, .timeout = 10)
{
	struct capture cap;

	capture_start(&cap);
	cr_assert_null(secrets_load("/nonexistent/iketcp-secrets"));
	cr_assert_null(secrets_load("/tmp"));
	capture_end(&cap);
	cr_assert_not_null(strstr(cap.text, "/tmp: "), "%s", cap.text);
}

Test(secrets, refuses_a_file_too_large, .timeout = 10)
{
	char path[] = "/tmp/iketcp-secrets-XXXXXX";
	struct capture cap;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, SECRETS_FILE_MAX + 1), 0);
	cr_assert_eq(fchmod(fd, 0600), 0);
	close(fd);
	capture_start(&cap);
	cr_assert_null(secrets_load(path));
	capture_end(&cap);
	cr_assert_not_null(strstr(cap.text, "larger than"), "%s", cap.text);
	unlink(path);
}
