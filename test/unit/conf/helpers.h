/*
 * Shared by the conf/ unit tests: stderr captured into a pipe while the
 * parser runs, so that the "file:line: message" lines can be checked, and
 * a file of lines fed to a parser named "t.conf".
 */
#ifndef IKETCP_TEST_CONF_HELPERS_H
#define IKETCP_TEST_CONF_HELPERS_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf/conf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct capture {
	int	pfd[2];
	int	saved;
	char	text[16384];
};

static inline void
capture_start(struct capture *cap)
{
	fflush(stderr);
	cr_assert_eq(pipe(cap->pfd), 0);
	cr_assert_eq(fcntl(cap->pfd[0], F_SETFL, O_NONBLOCK), 0);
	cap->saved = dup(STDERR_FILENO);
	cr_assert_geq(cap->saved, 0);
	cr_assert_geq(dup2(cap->pfd[1], STDERR_FILENO), 0);
}

static inline void
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
	/* Show it in the runner's output too. */
	fputs(cap->text, stderr);
}

static inline unsigned
count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Feed lines to a parser named "t.conf"; @errors (may be NULL) gets the
 * errors counted before conf_finish(). */
static inline struct conf *
conf_test_parse(const char *const *lines, size_t n, unsigned *errors,
    struct capture *cap)
{
	struct conf_parser p;
	struct conf *c;

	capture_start(cap);
	cr_assert_eq(conf_init(&p, "t.conf"), 0);
	for (size_t i = 0; i < n; i++)
		conf_line(&p, lines[i]);
	if (errors != NULL)
		*errors = p.errors;
	c = conf_finish(&p);
	capture_end(cap);
	return c;
}

/*
 * Expect no struct and @nlog log lines, each of the @nat lines @at[]
 * named as "t.conf:N: ", and @what among them.  @parse_errors, unless
 * NULL, is how many errors conf_line() must have seen before conf_finish.
 */
static inline void
conf_expect_reject_at(const char *const *lines, size_t n,
    const unsigned *parse_errors, const unsigned *at, size_t nat,
    const char *what, unsigned nlog)
{
	struct capture cap;
	unsigned errors;
	struct conf *c;

	c = conf_test_parse(lines, n, &errors, &cap);
	cr_assert_null(c, "accepted a bad file");
	if (parse_errors != NULL)
		cr_assert_eq(errors, *parse_errors, "errors before finish %u, "
		    "want %u", errors, *parse_errors);
	cr_assert_eq(count_lines(cap.text), nlog, "want %u log lines: %s",
	    nlog, cap.text);
	for (size_t i = 0; i < nat; i++) {
		char where[64];

		snprintf(where, sizeof(where), "t.conf:%u: ", at[i]);
		cr_assert_not_null(strstr(cap.text, where),
		    "want \"%s\" in: %s", where, cap.text);
	}
	cr_assert_not_null(strstr(cap.text, what), "want \"%s\" in: %s", what,
	    cap.text);
}

#endif /* IKETCP_TEST_CONF_HELPERS_H */
