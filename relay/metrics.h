/*
 * Prometheus text exposition (format 0.0.4) of the daemon's counters and
 * gauges: on the control socket (iketcpctl metrics) and over HTTP at
 * metrics-listen.  The formatter is two calls: one family header, then
 * its samples; every label value is escaped.
 */
#ifndef IKETCP_METRICS_H
#define IKETCP_METRICS_H

struct obuf;
struct relay;

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
};

/* "# HELP" and "# TYPE" lines of family @name. */
void	metrics_family(struct obuf *o, const char *name,
	    enum metrics_type type, const char *help);
/*
 * One sample: @name, then label name/value pairs as further arguments,
 * ended by NULL; then the value.  metrics_sample(o, "x_total", 3, "dir",
 * "in", NULL) writes x_total{dir="in"} 3.
 */
void	metrics_sample(struct obuf *o, const char *name,
	    unsigned long long value, ...) __attribute__((sentinel));
/* Every family of @r. */
void	metrics_write(struct obuf *o, const struct relay *r);

#endif /* IKETCP_METRICS_H */
