/*
 * The answers of iketcpctl(8) list and stats: tables for people, JSON for
 * programs, built into a bounded buffer (relay/obuf.h).
 */
#ifndef IKETCP_REPORT_H
#define IKETCP_REPORT_H

#include <stdbool.h>

struct obuf;
struct relay;

/* Streams, sessions, integrated IKE SAs, connector sessions. */
void	report_list(struct obuf *o, const struct relay *r, bool json);
/* A worker's list for its master: the JSON elements of the streams, the
 * sessions and the connector sessions, each list on one line. */
void	report_list_parts(struct obuf *o, const struct relay *r);
/* struct relay_stats and the budgets. */
void	report_stats(struct obuf *o, const struct relay *r, bool json);

#endif /* IKETCP_REPORT_H */
