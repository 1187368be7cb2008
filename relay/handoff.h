/*
 * Workers hand streams to each other (DESIGN.md "Scale and processes";
 * relay/README "Workers"): a stream whose first message names a session
 * another worker holds, or whose section another worker owns, reaches that
 * worker with the bytes already read, and the session layer there decides
 * as it would for a stream it had accepted itself.
 *
 * The master calls the first three (contracts.md B), only with several
 * workers; in a single process r->handoff stays NULL and every other
 * function here is a no-op answering "this process".
 */
#ifndef IKETCP_HANDOFF_H
#define IKETCP_HANDOFF_H

#include <sys/uio.h>

#include <stdbool.h>
#include <stdint.h>

struct relay;
struct stream;

/* In the master, once, before the first fork (as root): the owner table
 * in shared memory and one channel per worker, inherited.  -1 (logged)
 * on failure. */
int	handoff_setup(struct relay *r, unsigned nworkers);
/* In worker @id right after its fork: it is alive, reads its channel
 * (on r->loop), and closes the other workers' channel ends it does not
 * use.  -1 (logged) on failure. */
int	handoff_start(struct relay *r, unsigned id);
/* In the master when worker @id died, before it is forked again: its keys
 * are nobody's, the streams in flight to it are closed. */
void	handoff_gone(struct relay *r, unsigned id);

/* handoff_start() without closing anything: tests run two workers'
 * relays in one process. */
int	handoff_attach(struct relay *r, unsigned id);
/* This relay's part goes (tests, exit); the shared part stays. */
void	handoff_detach(struct relay *r);
/* The shared part goes (tests). */
void	handoff_teardown(void);

/* The session layer (relay/session.c). */

/* A session of this worker learnt a key: false when another live worker
 * holds it (it is then not this worker's to link; counted). */
bool	handoff_key_claim(struct relay *r, bool esp, uint64_t spi_i,
	    uint64_t spi_r);
/* A key this worker linked is dropped. */
void	handoff_key_release(struct relay *r, bool esp, uint64_t spi_i,
	    uint64_t spi_r);
/* The other live worker that holds a key, or -1. */
int	handoff_key_owner(struct relay *r, bool esp, uint64_t spi_i,
	    uint64_t spi_r);

enum handoff_result {
	HANDOFF_CLOSED,		/* the stream is closed here (freed): its
				 * socket went over, or the handoff failed */
	HANDOFF_SPLICED,	/* the stream stays, spliced (relay/splice.h) */
};
/*
 * Hands @st (in STREAM_FRAMES, no session chosen) to @worker with its
 * first message @first and the input after it (r->first_rest): a plain
 * stream's own socket goes; a TLS stream, or one with output still held,
 * stays here spliced to a socketpair whose other end goes.  A failure
 * (the owner not running, its channel full, no descriptor) closes the
 * stream, counted and logged at the peer-caused rate.
 */
enum handoff_result handoff_stream(struct stream *st, unsigned worker,
	    const struct iovec *first);

#endif /* IKETCP_HANDOFF_H */
