/*
 * The steps of a reload (SIGHUP, iketcpctl reload), shared by a single
 * process, the master and its workers: prepare reads and checks all of
 * the new configuration and opens what it needs beside the running one;
 * then commit takes it, or abort drops it and nothing has changed.
 */
#ifndef IKETCP_RELOAD_H
#define IKETCP_RELOAD_H

struct conf;
struct relay;

/* The new configuration from @path, everything for it prepared; NULL
 * (logged where it failed) when any part fails: then nothing stays. */
struct conf *reload_prepare(struct relay *r, const char *path);
/* Takes @c (consumed) as the running configuration. */
void	reload_commit(struct relay *r, struct conf *c);
/* Drops @c (consumed) and what was prepared for it. */
void	reload_abort(struct relay *r, struct conf *c);
/* The descriptor budget of streams and sessions: the process's limit
 * less fd-reserve, kept for listeners, TUN devices, logs and reloads. */
void	relay_budget_update(struct relay *r);

#endif /* IKETCP_RELOAD_H */
