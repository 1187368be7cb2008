/* One accepted connection: prefix, frames, bounded output, deadlines. */
#ifndef IKETCP_STREAM_H
#define IKETCP_STREAM_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "framing/decoder.h"

struct relay;
struct session;
struct conf;
struct conf_relay;

enum stream_state {
	STREAM_PREFIX,		/* waiting for "IKETCP" / "IKEv2" */
	STREAM_FIRST,		/* prefix seen; first message decides session */
	STREAM_TENTATIVE,	/* re-attached by IKE SPI, not yet proven */
	STREAM_FRAMES,		/* owner of its session */
};

struct stream {
	unsigned long long id;
	struct relay	*r;
	struct conf	*conf;		/* reference */
	const struct conf_relay *cr;	/* section, inside conf */
	int		 fd;
	ev_io		 rio, wio;
	ev_timer	 handshake;	/* prefix + proof deadline */
	ev_timer	 idle;
	ev_tstamp	 last_active;
	enum stream_state state;
	uint8_t		 prefix[8];
	size_t		 prefix_have;
	struct frame_dec dec;
	uint8_t		*out;		/* pending output, lazily allocated */
	size_t		 out_off, out_len; /* bytes sent / held */
	struct session	*sess;
	uint64_t	 tent_spi;	/* tentative: IKE SPI it claimed */
	uint32_t	 tent_msgid;	/* tentative: its last request */
	bool		 tent_req;
	struct sockaddr_storage peer;
	char		 peer_text[64];
	unsigned long long in_msgs, in_bytes, out_msgs, out_bytes;
};

void	stream_accept(struct relay *r, int fd, const struct sockaddr_storage *peer,
	    struct conf *c, const struct conf_relay *cr);
/* Frames @n messages to the stream; @ike says which are IKE.  -1 when the
 * stream was closed (and freed). */
int	stream_send(struct stream *st, const struct iovec *msgs,
	    const bool *ike, size_t n);
void	stream_close(struct stream *st, const char *reason);
void	stream_promote(struct stream *st);
void	log_stream(const struct stream *st, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif /* IKETCP_STREAM_H */
