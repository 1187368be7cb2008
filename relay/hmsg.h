/*
 * One handoff message (relay/handoff.c): what a worker tells the owner of
 * a stream's session about the stream it passes along with a descriptor
 * (SCM_RIGHTS), on the owner's channel.  Pure: no I/O, no allocation.
 * The channel is reachable only by our own processes, but what comes off
 * it is still parsed as input: bounded, every field checked, fuzzed
 * (test/fuzz/hmsg_fuzz.c).
 *
 *   0      u8    version (HMSG_VERSION)
 *   1      u8    kind (enum hmsg_kind)
 *   2      u8    sending worker, < HMSG_WORKERS_MAX
 *   3      u8    layers seen there (LAYER_* of relay/stream.h)
 *   4      u8    prefix (enum prefix_kind)
 *   5      be64  the stream's id there (logs)
 *   13     addr  the client: PROXY-named, or the TCP peer
 *   ...    addr  the listen address it reached
 *   ...    u8    section name length (1..CONF_NAME_MAX - 1), the name
 *   ...    be32  byte count, then the bytes: the first message's frame
 *                and every byte after it already read there
 *
 *   addr:  u8 family (4 or 6), be16 port, 4 or 16 address bytes, and for
 *          6 a be32 scope id
 */
#ifndef IKETCP_HMSG_H
#define IKETCP_HMSG_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

enum {
	HMSG_VERSION = 1,
	HMSG_WORKERS_MAX = 64,
	HMSG_HEAD_MAX = 5 + 8 + 2 * 23 + 1 + CONF_NAME_MAX + 4,
	/* Bytes read but not used: one read (relay.h RELAY_READ_BUF) after
	 * the largest held header (CONF_HEADER_BYTES_MAX) or a frame. */
	HMSG_BYTES_MAX = 384 * 1024,
	HMSG_MAX = HMSG_HEAD_MAX + HMSG_BYTES_MAX,
};

enum hmsg_kind {
	HMSG_SOCKET = 1,	/* the descriptor is the client's socket */
	HMSG_SPLICE = 2,	/* a socketpair end; the sender splices it to
				 * the client (TLS stays there) */
};

struct hmsg {
	enum hmsg_kind	 kind;
	unsigned	 from;		/* the sending worker */
	uint64_t	 stream;	/* its stream id there */
	uint8_t		 layers;	/* LAYER_* */
	uint8_t		 prefix;	/* enum prefix_kind */
	struct sockaddr_storage peer;	/* the client */
	struct sockaddr_storage laddr;	/* the listen address */
	char		 section[CONF_NAME_MAX];
	const uint8_t	*bytes;		/* into the decoded buffer */
	size_t		 nbytes;
};

/* The head of @m (everything but the bytes, which follow it on the wire
 * as they are) into @buf; its length, or 0 when @m cannot be sent (a
 * field out of range, @cap too small). */
size_t	hmsg_encode_head(const struct hmsg *m, uint8_t *buf, size_t cap);
/* Parses a whole message; m->bytes points into @p.  false when any field
 * is out of range or the byte count is not exactly what follows. */
bool	hmsg_decode(const uint8_t *p, size_t n, struct hmsg *m);

#endif /* IKETCP_HMSG_H */
