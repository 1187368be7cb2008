/*
 * A master's control answers from its workers' (relay/master.c): each
 * worker answers list, stats and metrics about itself, as a single process
 * would; these put the answers together.  Pure: no I/O; every answer is
 * read as untrusted input (a worker reads peers' bytes and may be
 * subverted), with bounds on lines, names and counts; what does not parse
 * is left out.  Fuzzed (test/fuzz/ctlmerge_fuzz.c).
 */
#ifndef IKETCP_CTLMERGE_H
#define IKETCP_CTLMERGE_H

#include <stdbool.h>
#include <stddef.h>

struct obuf;

enum {
	CTLMERGE_NAMES_MAX = 1024,	/* stats names, metric families */
	CTLMERGE_NAME_MAX = 128,	/* octets of one name, NUL included */
	CTLMERGE_SAMPLES_MAX = 262144,	/* metric samples over all workers */
};

/* One worker's answer: its body after the status line "OK". */
struct ctl_part {
	unsigned	 worker;
	long		 pid;
	const char	*p;		/* NULL: no answer */
	size_t		 n;
};

/* A number the master adds to the stats (its own, or about workers). */
struct ctl_stat {
	const char		*name;
	unsigned long long	 v;
};

/*
 * list: in text, each worker's tables under "Worker N (pid P)"; in JSON
 * (each part the three lines of report_list_parts()) one object whose
 * streams, sessions and connector_sessions hold every worker's, and
 * "workers" which answered.
 */
void	ctlmerge_list(struct obuf *o, const struct ctl_part *parts, size_t n,
	    bool json);
/* stats: each "name value" line summed over the workers (saturating),
 * in the order first seen, then @extra; text or JSON. */
void	ctlmerge_stats(struct obuf *o, const struct ctl_part *parts, size_t n,
	    const struct ctl_stat *extra, size_t nextra, bool json);
/* metrics: each family once (its HELP and TYPE from the first worker that
 * has it), then every worker's samples with the label worker="N". */
void	ctlmerge_metrics(struct obuf *o, const struct ctl_part *parts,
	    size_t n);

#endif /* IKETCP_CTLMERGE_H */
