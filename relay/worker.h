/*
 * Stub of the process model's section ownership (contracts.md B); the
 * `workers` branch replaces this file.
 */
#ifndef IKETCP_WORKER_H
#define IKETCP_WORKER_H

#include <stdbool.h>

struct conf_relay;
struct relay;

/* Whether this process runs section @cr: relay sections every worker,
 * integrated and connector sections their one owner. */
bool	worker_serves(const struct relay *r, const struct conf_relay *cr);
/* The owner of a one-owner section. */
unsigned worker_owner(const struct relay *r, const struct conf_relay *cr);

#endif /* IKETCP_WORKER_H */
