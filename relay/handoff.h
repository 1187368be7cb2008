/*
 * Handoff between workers ([global] workers > 1): a stream that lands on
 * a worker that does not own its session or its section reaches the owner
 * with the bytes already read.  The master calls these only when it has
 * workers (relay/master.c); a single process never does.
 *
 * This file is the seam of the process model: the workers branch ships
 * them doing nothing, the handoff branch fills them in.
 */
#ifndef IKETCP_HANDOFF_H
#define IKETCP_HANDOFF_H

struct relay;

/* Once, in the master as root, before the first worker is forked: what
 * the workers share (memory, channels) is made here and inherited.
 * -1 (logged) stops the daemon. */
int	handoff_setup(struct relay *r, unsigned nworkers);
/* In worker @id right after its fork, before the privilege drop; -1
 * (logged) ends that worker (the master restarts it). */
int	handoff_start(struct relay *r, unsigned id);
/* In the master: worker @id died; called before it is forked again. */
void	handoff_gone(struct relay *r, unsigned id);

#endif /* IKETCP_HANDOFF_H */
