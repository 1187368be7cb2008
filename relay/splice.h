/*
 * A stream handed to the worker that owns its session when the client's
 * socket cannot go with it: TLS (its state stays in the process that made
 * the handshake), or output still held for the client.  The owner gets one
 * end of a socketpair as if it were the client's plain stream
 * (relay/handoff.c); the stream keeps the other end and passes bytes both
 * ways: plaintext from the client to the owner, the owner's frames to the
 * client (through TLS).  Buffers are bounded; a full one stops reading on
 * the other side; either end closing closes both.
 */
#ifndef IKETCP_SPLICE_H
#define IKETCP_SPLICE_H

#include <stddef.h>
#include <stdint.h>

struct stream;

/* @st (in STREAM_FRAMES) relays to and from @fd, our socketpair end,
 * counted in r->fds_used from now on, for worker @worker.  Consumes @fd;
 * -1 (out of memory) leaves the stream to the caller, @fd closed. */
int	splice_start(struct stream *st, int fd, unsigned worker);
/* Plaintext from the client, for the owner; -1 when the stream was
 * closed. */
int	splice_input(struct stream *st, const uint8_t *p, size_t n);
/* The client's output buffer emptied: reading from the owner resumes. */
void	splice_output_drained(struct stream *st);
/* From stream_close(): the socketpair end and the buffer go. */
void	splice_close(struct stream *st);

#endif /* IKETCP_SPLICE_H */
