/*
 * The channel between the master and one worker (relay/master.c,
 * relay/worker.c): a SOCK_SEQPACKET socketpair made before the fork, so
 * each message arrives whole or not at all, with descriptors beside it
 * (SCM_RIGHTS).  A message is a 16-octet header -- type, flags, ticket
 * (the request it belongs to), big-endian -- and up to CHAN_PAYLOAD_MAX
 * octets; a longer answer goes in parts, the last one flagged
 * CHAN_F_LAST.  Sending never blocks: what the socket does not take waits
 * in a queue of at most CHAN_QUEUE_MAX octets.
 *
 * Each side reads what the other sends as input: a worker reads peers'
 * bytes and may be subverted, so the master checks every header and
 * length and bounds what it keeps.
 */
#ifndef IKETCP_CHAN_H
#define IKETCP_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

enum {
	CHAN_HDR = 16,			/* type, flags, ticket */
	CHAN_PAYLOAD_MAX = 32768,	/* octets of one message */
	CHAN_FDS_MAX = 250,		/* descriptors with one message */
	CHAN_QUEUE_MAX = 32 << 20,	/* octets waiting to be sent */
};

enum chan_type {
	CHAN_GONE = 0,		/* (to the callback) the peer is gone */
	CHAN_READY,		/* W->M: serving */
	CHAN_CTL,		/* M->W: a control request (struct chan_ctl) */
	CHAN_CTL_ANSWER,	/* W->M: part of the answer */
	CHAN_RELOAD,		/* M->W: prepare; fds: the file set, then
				   the listening sockets the master bound */
	CHAN_RELOAD_ANSWER,	/* W->M: one octet, 0 prepared, 1 failed */
	CHAN_COMMIT,		/* M->W: take the prepared configuration */
	CHAN_ABORT,		/* M->W: drop it */
	CHAN_TYPE_MAX = CHAN_ABORT,
};

enum {
	CHAN_F_LAST = 1,	/* the last part of an answer */
};

/* A control request to a worker: payload of CHAN_CTL. */
enum {
	CHAN_CTL_LEN = 10,	/* cmd, json, session id */
};

struct chan;

/*
 * One message: @p..@n its payload, @fds..@nfds the descriptors that came
 * with it (the callback owns them and must close what it does not keep).
 * Type CHAN_GONE: the peer closed or the channel failed; nothing more
 * comes, and the callback may free the channel.
 */
typedef void chan_recv_fn(void *arg, enum chan_type type, uint32_t flags,
    uint64_t ticket, const uint8_t *p, size_t n, int *fds, size_t nfds);

/* A channel on @fd (consumed on every path), read on @loop; NULL, logged,
 * on no memory. */
struct chan *chan_new(struct ev_loop *loop, int fd, chan_recv_fn *recv,
	    void *arg);
/* Stops, closes, frees; queued messages are dropped.  NULL: no-op. */
void	chan_free(struct chan *ch);
/* Closes the descriptor and frees without touching the loop: in a child
 * of the process that made @ch, whose loop that child never runs. */
void	chan_forget(struct chan *ch);
/*
 * Queues one message; @fds are duplicated (the caller keeps its own).
 * -1 when @n > CHAN_PAYLOAD_MAX, the queue is full or memory is short.
 */
int	chan_send(struct chan *ch, enum chan_type type, uint32_t flags,
	    uint64_t ticket, const void *p, size_t n, const int *fds,
	    size_t nfds);
/* @n octets in parts of CHAN_PAYLOAD_MAX, the last with CHAN_F_LAST. */
int	chan_send_long(struct chan *ch, enum chan_type type, uint64_t ticket,
	    const void *p, size_t n);
/* Octets waiting in the queue. */
size_t	chan_queued(const struct chan *ch);

#endif /* IKETCP_CHAN_H */
