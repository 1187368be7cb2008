/*
 * relay/ctlmerge.c: a master's control answers put together from its
 * workers' -- lists joined, stats summed, metrics labelled -- and what a
 * worker's answer that does not parse leaves out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "relay/ctlmerge.h"
#include "relay/obuf.h"

TestSuite(ctlmerge);

static struct ctl_part
part(unsigned w, const char *text)
{
	struct ctl_part p = { w, 100 + (long)w, text,
	    text != NULL ? strlen(text) : 0 };

	return p;
}

Test(ctlmerge, list_json_joins_the_three_lists, .timeout = 10)
{
	struct ctl_part p[] = {
		part(0, "{\"worker\":0,\"id\":2}\n{\"worker\":0,\"id\":4}\n\n"),
		part(1, "\n{\"worker\":1,\"id\":3}\n{\"c\":1}\n"),
	};
	struct obuf o;

	obuf_init(&o, 1 << 16);
	ctlmerge_list(&o, p, 2, true);
	cr_assert_str_eq(o.p, "{\"streams\":[{\"worker\":0,\"id\":2}],"
	    "\"sessions\":[{\"worker\":0,\"id\":4},{\"worker\":1,\"id\":3}],"
	    "\"connector_sessions\":[{\"c\":1}],\"workers\":["
	    "{\"worker\":0,\"pid\":100,\"answered\":true},"
	    "{\"worker\":1,\"pid\":101,\"answered\":true}]}\n");
	obuf_cleanup(&o);
}

Test(ctlmerge, list_json_leaves_out_a_part_that_is_not_three_lines,
    .timeout = 10)
{
	struct ctl_part p[] = {
		part(0, "{\"a\":1}\n\n\n"),
		part(1, "{\"evil\":1}\n\n"),		/* two lines */
		part(2, "{\"x\":\"\x01\"}\n\n\n"),	/* a control octet */
		part(3, NULL),				/* no answer */
	};
	struct obuf o;

	obuf_init(&o, 1 << 16);
	ctlmerge_list(&o, p, 4, true);
	cr_assert(strstr(o.p, "\"streams\":[{\"a\":1}]") != NULL, "%s", o.p);
	cr_assert(strstr(o.p, "evil") == NULL);
	cr_assert(strstr(o.p, "\"x\"") == NULL);
	cr_assert(strstr(o.p, "{\"worker\":1,\"pid\":101,\"answered\":false}")
	    != NULL, "%s", o.p);
	cr_assert(strstr(o.p, "{\"worker\":3,\"pid\":103,\"answered\":false}")
	    != NULL, "%s", o.p);
	obuf_cleanup(&o);
}

Test(ctlmerge, list_text_heads_each_worker_table, .timeout = 10)
{
	struct ctl_part p[] = { part(0, "Streams\nA\n"), part(1, NULL) };
	struct obuf o;

	obuf_init(&o, 1 << 16);
	ctlmerge_list(&o, p, 2, false);
	cr_assert_str_eq(o.p, "Worker 0 (pid 100)\nStreams\nA\n"
	    "Worker 1 (pid 101): no answer\n");
	obuf_cleanup(&o);
}

Test(ctlmerge, stats_sum_by_name_in_first_seen_order, .timeout = 10)
{
	struct ctl_part p[] = {
		part(0, "streams                  3\nsessions 2\n"),
		part(1, "sessions 5\nstreams 1\nextra_one 7\n"),
	};
	struct ctl_stat x[] = { { "ctl_bad", 4 }, { "streams", 10 } };
	struct obuf o;

	obuf_init(&o, 1 << 16);
	ctlmerge_stats(&o, p, 2, x, 2, false);
	cr_assert_str_eq(o.p,
	    "streams                  14\n"
	    "sessions                 7\n"
	    "extra_one                7\n"
	    "ctl_bad                  4\n");
	obuf_reset(&o);
	ctlmerge_stats(&o, p, 2, NULL, 0, true);
	cr_assert_str_eq(o.p, "{\"streams\":4,\"sessions\":7,"
	    "\"extra_one\":7}\n");
	obuf_cleanup(&o);
}

Test(ctlmerge, stats_skip_bad_lines_and_saturate, .timeout = 10)
{
	struct ctl_part p[] = {
		part(0, "a 18446744073709551615\nbad\n\"q\" 1\nb -1\nc 1x\n"
		    "d 99999999999999999999999\n"),
		part(1, "a 5\n"),
	};
	struct obuf o;

	obuf_init(&o, 1 << 16);
	ctlmerge_stats(&o, p, 2, NULL, 0, true);
	cr_assert_str_eq(o.p, "{\"a\":18446744073709551615}\n");
	obuf_reset(&o);
	ctlmerge_stats(&o, NULL, 0, NULL, 0, true);
	cr_assert_str_eq(o.p, "{}\n");
	obuf_cleanup(&o);
}

Test(ctlmerge, metrics_group_families_and_label_workers, .timeout = 10)
{
	struct ctl_part p[] = {
		part(0, "# HELP x_total Things.\n# TYPE x_total counter\n"
		    "x_total{a=\"1\"} 3\nx_total{a=\"2\"} 4\n"
		    "# HELP y Now.\n# TYPE y gauge\ny 1\n"),
		part(1, "# HELP y Now.\n# TYPE y gauge\ny 2\n"
		    "# HELP x_total Things.\n# TYPE x_total counter\n"
		    "x_total{a=\"1\"} 5\nx_total{} 6\n"),
	};
	struct obuf o;

	obuf_init(&o, 1 << 16);
	ctlmerge_metrics(&o, p, 2);
	cr_assert_str_eq(o.p,
	    "# HELP x_total Things.\n# TYPE x_total counter\n"
	    "x_total{worker=\"0\",a=\"1\"} 3\n"
	    "x_total{worker=\"0\",a=\"2\"} 4\n"
	    "x_total{worker=\"1\",a=\"1\"} 5\n"
	    "x_total{worker=\"1\"} 6\n"
	    "# HELP y Now.\n# TYPE y gauge\n"
	    "y{worker=\"0\"} 1\n"
	    "y{worker=\"1\"} 2\n");
	obuf_cleanup(&o);
}

Test(ctlmerge, metrics_drop_samples_outside_their_family, .timeout = 10)
{
	struct ctl_part p[] = {
		part(0, "orphan 1\n# HELP a A.\n# TYPE a gauge\nb 2\na 3\n"
		    "a\n# comment\n{x=\"1\"} 4\n"),
	};
	struct obuf o;

	obuf_init(&o, 1 << 16);
	ctlmerge_metrics(&o, p, 1);
	cr_assert_str_eq(o.p, "# HELP a A.\n# TYPE a gauge\n"
	    "a{worker=\"0\"} 3\n");
	obuf_cleanup(&o);
}
