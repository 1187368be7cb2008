/*
 * relay/ctlreq.c: the control request line.  One case per acceptance and
 * one per rejection rule in the parser, numbered so a failure names it.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "relay/ctlreq.h"

TestSuite(ctlreq);

static enum ctl_parse
parse(const char *s, struct ctl_req *req, const char **err)
{
	return ctlreq_parse((const uint8_t *)s, strlen(s), req, err);
}

Test(ctlreq, accepts_each_command_and_its_options, .timeout = 10)
{
	static const struct {
		const char		*line;
		enum ctl_cmd		 cmd;
		bool			 json;
		unsigned long long	 id;
	} cases[] = {
		/* 1 */ { "list\n", CTL_LIST, false, 0 },
		/* 2 */ { "list --json\n", CTL_LIST, true, 0 },
		/* 3 */ { "stats --json\r\n", CTL_STATS, true, 0 },
		/* 4 */ { "metrics\n", CTL_METRICS, false, 0 },
		/* 5 */ { "reload\n", CTL_RELOAD, false, 0 },
		/* 6 */ { "terminate 7\n", CTL_TERMINATE, false, 7 },
		/* 7 */ { "terminate --json 7\n", CTL_TERMINATE, true, 7 },
		/* 8: extra spaces between words */
		{ "  terminate   12  --json \n", CTL_TERMINATE, true, 12 },
		/* 9: the largest ID */
		{ "terminate 18446744073709551615\n", CTL_TERMINATE, false,
		  18446744073709551615ULL },
		/* 10: bytes after the newline are not looked at */
		{ "stats\n\x01\x02", CTL_STATS, false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_req req;
		const char *err = NULL;

		cr_expect_eq(parse(cases[i].line, &req, &err), CTL_OK,
		    "case %zu: %s", i + 1, err != NULL ? err : "");
		cr_expect_eq(req.cmd, cases[i].cmd, "case %zu", i + 1);
		cr_expect_eq(req.json, cases[i].json, "case %zu", i + 1);
		cr_expect_eq(req.id, cases[i].id, "case %zu", i + 1);
	}
}

Test(ctlreq, waits_for_the_newline_below_the_bound, .timeout = 10)
{
	struct ctl_req req;
	const char *err = NULL;
	char big[CTL_REQ_MAX - 1];

	cr_assert_eq(parse("", &req, &err), CTL_NEED_MORE);
	cr_assert_eq(parse("list --js", &req, &err), CTL_NEED_MORE);
	memset(big, 'a', sizeof(big));
	cr_assert_eq(ctlreq_parse((const uint8_t *)big, sizeof(big), &req,
	    &err), CTL_NEED_MORE);
}

Test(ctlreq, rejects_each_bad_request_saying_why, .timeout = 10)
{
	static const struct {
		const char	*line;
		const char	*want;
	} cases[] = {
		/* 1 */ { "\n", "empty request" },
		/* 2 */ { "   \n", "empty request" },
		/* 3 */ { "lis\n", "unknown command" },
		/* 4: case matters */ { "LIST\n", "unknown command" },
		/* 5 */ { "list\tx\n", "not printable" },
		/* 6 */ { "list \x80\n", "not printable" },
		/* 7 */ { "list extra\n", "unexpected argument" },
		/* 8 */ { "list --json --json\n", "unexpected argument" },
		/* 9: metrics is text only */
		{ "metrics --json\n", "unexpected argument" },
		/* 10 */ { "terminate\n", "missing ID" },
		/* 11 */ { "terminate 0\n", "bad ID" },
		/* 12 */ { "terminate 007\n", "bad ID" },
		/* 13 */ { "terminate 1x\n", "bad ID" },
		/* 14 */ { "terminate 18446744073709551616\n", "bad ID" },
		/* 15 */ { "terminate 1 2\n", "unexpected argument" },
		/* 16 */ { "terminate -1\n", "unexpected argument" },
		/* 17 */ { "a b c d e\n", "too many words" },
		/* 18 */ { "terminate 123456789012345678901234567890123\n",
		  "word too long" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_req req;
		const char *err = NULL;

		cr_expect_eq(parse(cases[i].line, &req, &err), CTL_ERROR,
		    "case %zu accepted", i + 1);
		cr_expect(err != NULL && strstr(err, cases[i].want) != NULL,
		    "case %zu: want \"%s\", got \"%s\"", i + 1, cases[i].want,
		    err != NULL ? err : "(none)");
	}
}

Test(ctlreq, rejects_a_line_at_the_bound_without_newline, .timeout = 10)
{
	struct ctl_req req;
	const char *err = NULL;
	char big[CTL_REQ_MAX + 10];

	memset(big, 'a', sizeof(big));
	cr_assert_eq(ctlreq_parse((const uint8_t *)big, CTL_REQ_MAX, &req,
	    &err), CTL_ERROR);
	cr_assert_not_null(strstr(err, "longer than"));
	/* A newline past the bound does not make it a request. */
	big[CTL_REQ_MAX + 2] = '\n';
	cr_assert_eq(ctlreq_parse((const uint8_t *)big, sizeof(big), &req,
	    &err), CTL_ERROR);
}
