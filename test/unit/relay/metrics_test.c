/*
 * relay/metrics.c and relay/obuf.c: the exposition formatter (families,
 * samples, label escaping) and the bounded buffer it writes into.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "relay/metrics.h"
#include "relay/obuf.h"

TestSuite(metrics);

Test(metrics, writes_help_and_type_lines, .timeout = 10)
{
	struct obuf o;

	obuf_init(&o, 4096);
	metrics_family(&o, "iketcp_x_total", METRICS_COUNTER, "Things.");
	metrics_family(&o, "iketcp_y", METRICS_GAUGE, "a\\b\nc");
	cr_assert_str_eq(o.p,
	    "# HELP iketcp_x_total Things.\n"
	    "# TYPE iketcp_x_total counter\n"
	    "# HELP iketcp_y a\\\\b\\nc\n"
	    "# TYPE iketcp_y gauge\n");
	obuf_cleanup(&o);
}

Test(metrics, writes_samples_with_and_without_labels, .timeout = 10)
{
	struct obuf o;

	obuf_init(&o, 4096);
	metrics_sample(&o, "a", 0, NULL);
	metrics_sample(&o, "b", 18446744073709551615ULL, "k", "v", NULL);
	metrics_sample(&o, "c", 3, "section", "t", "direction", "in", NULL);
	cr_assert_str_eq(o.p,
	    "a 0\n"
	    "b{k=\"v\"} 18446744073709551615\n"
	    "c{section=\"t\",direction=\"in\"} 3\n");
	obuf_cleanup(&o);
}

Test(metrics, escapes_label_values, .timeout = 10)
{
	struct obuf o;

	obuf_init(&o, 4096);
	metrics_sample(&o, "a", 1, "s", "q\"b\\n\nx", NULL);
	cr_assert_str_eq(o.p, "a{s=\"q\\\"b\\\\n\\nx\"} 1\n");
	obuf_cleanup(&o);
}

Test(metrics, obuf_stops_at_its_bound_and_says_so, .timeout = 10)
{
	struct obuf o;

	obuf_init(&o, 16);
	obuf_printf(&o, "0123456789");
	cr_assert(!o.over);
	obuf_printf(&o, "0123456789");
	cr_assert(o.over);
	cr_assert_eq(o.len, 10);
	/* Nothing more is taken once over, even what would fit. */
	obuf_printf(&o, "x");
	cr_assert_eq(o.len, 10);
	obuf_reset(&o);
	cr_assert(!o.over);
	cr_assert_eq(o.len, 0);
	obuf_cleanup(&o);
}

Test(metrics, obuf_grows_past_its_first_allocation, .timeout = 10)
{
	struct obuf o;
	char chunk[1001];

	memset(chunk, 'z', 1000);
	chunk[1000] = '\0';
	obuf_init(&o, 1 << 20);
	for (int i = 0; i < 100; i++)
		obuf_printf(&o, "%s", chunk);
	cr_assert(!o.over);
	cr_assert_eq(o.len, 100000);
	cr_assert_eq(strlen(o.p), 100000);
	obuf_cleanup(&o);
}

Test(metrics, json_strings_are_escaped, .timeout = 10)
{
	struct obuf o;

	obuf_init(&o, 4096);
	obuf_json_str(&o, "a\"b\\c\n\x01");
	cr_assert_str_eq(o.p, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	obuf_cleanup(&o);
}
