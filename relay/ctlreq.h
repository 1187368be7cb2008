/*
 * The control socket's request (iketcpctl(8)): one line of at most
 * CTL_REQ_MAX octets, printable ASCII, words separated by spaces:
 *
 *   list [--json] | stats [--json] | metrics | reload [--json]
 *   terminate ID [--json]
 *
 * Pure: no I/O, no allocation; the fuzzer calls ctlreq_parse() as the
 * daemon does.
 */
#ifndef IKETCP_CTLREQ_H
#define IKETCP_CTLREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	CTL_REQ_MAX = 256,	/* a request line with its newline, octets */
	CTL_REQ_WORDS = 4,	/* words in a request, at most */
};

enum ctl_cmd {
	CTL_LIST,		/* streams and sessions */
	CTL_METRICS,		/* Prometheus text exposition */
	CTL_RELOAD,		/* as SIGHUP */
	CTL_STATS,		/* counters and budgets */
	CTL_TERMINATE,		/* a session or an IKE SA */
};

struct ctl_req {
	enum ctl_cmd	 cmd;
	bool		 json;		/* --json */
	unsigned long long id;		/* terminate: the session's */
};

enum ctl_parse {
	CTL_NEED_MORE,		/* no newline yet, under CTL_REQ_MAX */
	CTL_OK,			/* *req filled */
	CTL_ERROR,		/* *err says why */
};

/* The request at the start of @p..@n.  On CTL_ERROR, *err is a static
 * string. */
enum ctl_parse ctlreq_parse(const uint8_t *p, size_t n, struct ctl_req *req,
	    const char **err);
const char *ctlreq_cmd_name(enum ctl_cmd cmd);

#endif /* IKETCP_CTLREQ_H */
