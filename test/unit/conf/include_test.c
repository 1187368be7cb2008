/*
 * conf/conf.c: include = GLOB.  Each test builds a directory of files
 * under /tmp and loads its main.conf; errors are read back from stderr
 * and must name the included file and its own line.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf/conf.h"
#include "test/unit/conf/helpers.h"

TestSuite(conf_include);

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/conf_include.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	setenv("IKETCP_NO_DNS", "1", 1);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* dir/NAME with the text; subdirectories made as needed. */
static void
put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/')) != NULL;
	    s++) {
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	cr_assert_not_null(f = fopen(path, "w"), "%s", path);
	cr_assert_eq(fputs(text, f) >= 0, true);
	cr_assert_eq(fclose(f), 0);
}

static struct conf *
load(const char *name, struct capture *cap)
{
	char path[256];
	struct conf *c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	capture_start(cap);
	c = conf_load(path);
	capture_end(cap);
	return c;
}

/* Is "DIR/@name:@line: " followed somewhere by @what in @text? */
static void
expect_at(const char *text, const char *name, unsigned line,
    const char *what)
{
	char where[320];
	const char *p;

	snprintf(where, sizeof(where), "%s/%s:%u: ", dir, name, line);
	p = strstr(text, where);
	cr_assert_not_null(p, "want \"%s\" in: %s", where, text);
	cr_assert_not_null(strstr(p, what), "want \"%s\" after \"%s\" in: %s",
	    what, where, text);
}

#define RELAY(name) \
	"[relay " name "]\nlisten = 127.0.0.1:" \
	"45" name "\ngateway = 192.0.2.1\n"

Test(conf_include, reads_a_glob_in_sorted_order, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct capture cap;
	struct conf *c;
	char want[256];

	put("main.conf", "[global]\nlog-level = info\n"
	    "include = conf.d/*.conf\n");
	put("conf.d/20.conf", RELAY("20"));
	put("conf.d/10.conf", "# first\n" RELAY("10"));
	put("conf.d/30.conf.disabled", RELAY("30"));
	c = load("main.conf", &cap);
	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nrelays, 2);
	cr_assert_str_eq(c->relays[0].name, "10");
	cr_assert_str_eq(c->relays[1].name, "20");
	/* The location names the included file and its own line. */
	snprintf(want, sizeof(want), "%s/conf.d/10.conf", dir);
	cr_assert_str_eq(conf_loc_file(c, c->relays[0].line), want);
	cr_assert_eq(CONF_LOC_LINE(c->relays[0].line), 2);
	snprintf(want, sizeof(want), "%s/main.conf", dir);
	cr_assert_str_eq(conf_loc_file(c, 3), want);
	cr_assert_eq(c->nfiles, 3);
	conf_unref(c);
}

Test(conf_include, errors_name_the_included_file_and_line, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct capture cap;

	put("main.conf", "[global]\ninclude = conf.d/*.conf\nbogus = 1\n");
	put("conf.d/a.conf", "[relay a]\nlisten = 127.0.0.1:4500\n"
	    "max-message = lots\n");
	cr_assert_null(load("main.conf", &cap));
	/* A line error, a whole-file error (missing gateway, at the header),
	 * and the includer's own line after the include. */
	cr_assert_eq(count_lines(cap.text), 3, "%s", cap.text);
	expect_at(cap.text, "conf.d/a.conf", 3, "bad max-message \"lots\"");
	expect_at(cap.text, "conf.d/a.conf", 1, "missing gateway");
	/* Textual: the includer's next line is in [relay a] now. */
	expect_at(cap.text, "main.conf", 3, "unknown key \"bogus\"");
}

Test(conf_include, a_glob_matching_nothing_is_said_and_no_error,
    .init = setup, .fini = teardown, .timeout = 10)
{
	struct capture cap;
	struct conf *c;

	put("main.conf", "[global]\ninclude = conf.d/*.conf\n" RELAY("01"));
	c = load("main.conf", &cap);
	cr_assert_not_null(c, "%s", cap.text);
	expect_at(cap.text, "main.conf", 2, "no file matches");
	cr_assert_not_null(strstr(cap.text, "(not an error)"), "%s", cap.text);
	cr_assert_eq(c->nrelays, 1);
	conf_unref(c);
}

Test(conf_include, a_missing_plain_name_is_an_error, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct capture cap;
	char want[256];

	put("main.conf", "[global]\ninclude = extra.conf\n" RELAY("01"));
	cr_assert_null(load("main.conf", &cap));
	cr_assert_eq(count_lines(cap.text), 1, "%s", cap.text);
	snprintf(want, sizeof(want), "include %s/extra.conf: No such file",
	    dir);
	expect_at(cap.text, "main.conf", 2, want);
}

Test(conf_include, is_relative_to_the_including_file, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct capture cap;
	struct conf *c;
	char abs[320];

	/* sub/a.conf includes "b.conf": sub/b.conf, not ./b.conf. */
	snprintf(abs, sizeof(abs), "include = %s/abs.conf\n", dir);
	put("main.conf", "include = sub/a.conf\n");
	put("sub/a.conf", "include = b.conf\n");
	put("sub/b.conf", abs);
	put("abs.conf", RELAY("01"));
	put("b.conf", "this would be an error\n");
	c = load("main.conf", &cap);
	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nrelays, 1);
	cr_assert_eq(c->nfiles, 4);
	conf_unref(c);
}

Test(conf_include, continues_the_section_it_is_in, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct capture cap;
	struct conf *c;

	put("main.conf", "[relay r]\nlisten = 127.0.0.1:4500\n"
	    "include = tls.inc\n");
	put("tls.inc", "gateway = 192.0.2.7\nidle-timeout = 5s\n");
	c = load("main.conf", &cap);
	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nrelays, 1);
	cr_assert_eq(c->relays[0].idle_timeout_ms, 5000);
	cr_assert_str_eq(c->relays[0].gateway.text, "192.0.2.7");
	conf_unref(c);
}

Test(conf_include, keys_set_twice_across_files_are_duplicates,
    .init = setup, .fini = teardown, .timeout = 10)
{
	struct capture cap;
	char want[256];

	put("main.conf", RELAY("01") "include = more.conf\n");
	put("more.conf", "gateway = 192.0.2.9\n" RELAY("01"));
	cr_assert_null(load("main.conf", &cap));
	expect_at(cap.text, "more.conf", 1, "duplicate key \"gateway\"");
	snprintf(want, sizeof(want), "duplicate relay name \"01\", first at "
	    "%s/main.conf:1", dir);
	expect_at(cap.text, "more.conf", 2, want);
}

Test(conf_include, refuses_a_file_including_itself, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct capture cap;

	put("main.conf", RELAY("01") "include = main.conf\n");
	cr_assert_null(load("main.conf", &cap));
	cr_assert_eq(count_lines(cap.text), 1, "%s", cap.text);
	expect_at(cap.text, "main.conf", 4, "include cycle");
}

Test(conf_include, refuses_a_cycle_through_a_glob, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct capture cap;

	put("main.conf", "include = d/*.conf\n" RELAY("01"));
	put("d/a.conf", "include = ../main.conf\n");
	cr_assert_null(load("main.conf", &cap));
	cr_assert_eq(count_lines(cap.text), 1, "%s", cap.text);
	expect_at(cap.text, "d/a.conf", 1, "include cycle");
}

Test(conf_include, bounds_the_depth, .init = setup, .fini = teardown,
    .timeout = 10)
{
	struct capture cap;
	char name[32], text[64];

	/* main -> 1 -> ... -> 9: nine levels, one more than allowed. */
	put("main.conf", RELAY("01") "include = 1.conf\n");
	for (int i = 1; i <= CONF_INCLUDE_DEPTH_MAX + 1; i++) {
		snprintf(name, sizeof(name), "%d.conf", i);
		snprintf(text, sizeof(text), "include = %d.conf\n", i + 1);
		put(name, i <= CONF_INCLUDE_DEPTH_MAX ? text : "# end\n");
	}
	cr_assert_null(load("main.conf", &cap));
	cr_assert_eq(count_lines(cap.text), 1, "%s", cap.text);
	snprintf(name, sizeof(name), "%d.conf", CONF_INCLUDE_DEPTH_MAX);
	expect_at(cap.text, name, 1, "nested more than 8 deep");
}

Test(conf_include, accepts_the_deepest_allowed, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct capture cap;
	struct conf *c;
	char name[32], text[64];

	put("main.conf", RELAY("01") "include = 1.conf\n");
	for (int i = 1; i <= CONF_INCLUDE_DEPTH_MAX; i++) {
		snprintf(name, sizeof(name), "%d.conf", i);
		snprintf(text, sizeof(text), "include = %d.conf\n", i + 1);
		put(name, i < CONF_INCLUDE_DEPTH_MAX ? text : "# end\n");
	}
	c = load("main.conf", &cap);
	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nfiles, CONF_INCLUDE_DEPTH_MAX + 1);
	conf_unref(c);
}

Test(conf_include, refuses_a_directory, .init = setup, .fini = teardown,
    .timeout = 10)
{
	struct capture cap;

	put("main.conf", RELAY("01") "include = d/*\n");
	put("d/sub/x.conf", "# x\n");
	cr_assert_null(load("main.conf", &cap));
	expect_at(cap.text, "main.conf", 4, "not a regular file");
}

Test(conf_include, the_same_file_twice_is_no_cycle, .init = setup,
    .fini = teardown, .timeout = 10)
{
	struct capture cap;
	struct conf *c;

	put("main.conf", "[global]\ninclude = c.inc\n" RELAY("01")
	    "include = c.inc\n");
	put("c.inc", "# a comment only\n");
	c = load("main.conf", &cap);
	cr_assert_not_null(c, "%s", cap.text);
	conf_unref(c);
}

Test(conf_include, rejects_an_empty_value, .timeout = 10)
{
	static const char *const lines[] = {
		"include =\n",
		"[relay r]\n", "listen = 127.0.0.1:4500\n",
		"gateway = 192.0.2.1\n",
	};
	static const unsigned at[] = { 1 };
	unsigned one = 1;

	conf_expect_reject_at(lines, NELEM(lines), &one, at, 1,
	    "bad include \"\"", 1);
}

Test(conf_include, reads_nothing_when_turned_off, .timeout = 10)
{
	struct conf_parser p;
	struct capture cap;
	struct conf *c;

	capture_start(&cap);
	cr_assert_eq(conf_init(&p, "fuzz.conf"), 0);
	p.no_include = true;
	cr_assert_eq(conf_line(&p, "include = /nonexistent/*.conf"), 0);
	cr_assert_eq(conf_line(&p, "include = /nonexistent.conf"), 0);
	conf_line(&p, "[relay r]");
	conf_line(&p, "listen = 127.0.0.1:4500");
	conf_line(&p, "gateway = 192.0.2.1");
	c = conf_finish(&p);
	capture_end(&cap);
	cr_assert_not_null(c, "%s", cap.text);
	cr_assert_eq(c->nfiles, 1);
	conf_unref(c);
}
