/* One accepted connection: prefix, frames, bounded output, deadlines. */
#ifndef IKETCP_STREAM_H
#define IKETCP_STREAM_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>
#include <openssl/ssl.h>

#include "framing/classify.h"
#include "framing/decoder.h"

struct relay;
struct relay_section;
struct splice;
struct src;
struct stream;
struct conf;
struct conf_relay;
struct connect_srv;

/*
 * The stream state machine (STYLE.md §6): the layer the next plaintext
 * bytes belong to (DESIGN.md data flow); TLS, when present, sits below
 * all of them (st->ssl).  Changed only by stream_set_state(), which
 * checks the transition.  X(name, comment).
 */
#define STREAM_STATES(X)						\
	X(SNIFF,   "first bytes of a layer decide which")		\
	X(PROXY,   "PROXY v1/v2 header")				\
	X(CONNECT, "HTTP CONNECT request head")				\
	X(DRAIN,   "refused: answer sent, closing")			\
	X(PREFIX,  "waiting for \"IKETCP\" / \"IKEv2\"")		\
	X(FIRST,   "prefix seen, no message yet")			\
	X(FRAMES,  "messages flow to the session layer")		\
	X(SPLICE,  "bytes pass to the worker that owns the session")

enum stream_state {
#define STREAM_STATE_ENUM(name, what) STREAM_##name,
	STREAM_STATES(STREAM_STATE_ENUM)
#undef STREAM_STATE_ENUM
};

/*
 * What a stream hands its messages to: the session layer
 * (session_stream_up), reached through struct relay so that the stream
 * knows nothing of sessions.
 */
/* Room for a stream's peer as sockaddr_text() writes it. */
enum { STREAM_PEER_TEXT = 64 };

struct stream_up {
	/* @n classified messages, keepalives already dropped; @mi[i]
	 * describes @msgs[i].  -1 when @st was closed meanwhile. */
	int	(*input)(struct stream *st, const struct iovec *msgs,
		    const struct msg_info *mi, size_t n);
	/* @st is closing (once, before its watchers stop). */
	void	(*closed)(struct stream *st);
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
	struct sockaddr_storage laddr;	/* listen address: routing */
	bool		 lay_tls;	/* listener takes TLS */
	bool		 lay_proxy;	/* listener wants a PROXY header */
	bool		 lay_connect;	/* listener takes CONNECT */
	bool		 routed;	/* section chosen by a name */
	bool		 imported;	/* handed over by another worker */
	struct src	*src;		/* its source's budget; NULL: not
					 * counted in its section's limits */
	struct src	*src_all;	/* its section's total */
	uint8_t		 layers;	/* LAYER_* seen, for logs and order */
	uint8_t		*hs;		/* pre-prefix bytes not yet used */
	size_t		 hs_len, hs_cap; /* bytes held / allocated */
	struct connect_srv *cs;		/* while in STREAM_CONNECT */
	size_t		 cs_fed;	/* hs bytes given to cs */
	const char	*drain_reason;	/* close reason once drained */
	SSL		*ssl;		/* TLS layer, or NULL */
	bool		 tls_up;	/* handshake done */
	bool		 tls_rwant_w;	/* a TLS read waits for writable */
	const char	*tls_refusal;	/* why the SNI callback refused */
	uint8_t		 prefix[8];
	size_t		 prefix_have;
	struct frame_dec dec;
	uint8_t		*out;		/* pending output, lazily allocated */
	size_t		 out_off, out_len; /* bytes sent / held */
	size_t		 out_cap;	/* bytes allocated for out */
	void		*up;		/* the session layer's; opaque here */
	struct splice	*sp;		/* STREAM_SPLICE: relay/splice.c */
	uint16_t	 lport;		/* gateway-side port, for logs */
	struct sockaddr_storage peer;	/* text: sockaddr_text(), on demand */
	unsigned long long in_msgs, in_bytes, out_msgs, out_bytes;
	struct stream	*anext, **aprev; /* r->streams */
	ev_tstamp	 started;	/* loop time of the accept */
	struct relay_section *sec;	/* its section's counters */
};

/* Layers seen on a stream, outermost first in logs. */
enum {
	LAYER_PROXY = 1 << 0,
	LAYER_TLS = 1 << 1,
	LAYER_CONNECT = 1 << 2,
};

void	stream_accept(struct relay *r, int fd, const struct sockaddr_storage *peer,
	    const struct sockaddr_storage *laddr);

/* Where a stream handed over by another worker comes from. */
struct stream_origin {
	const struct conf_relay *cr;	/* its section, in r->conf */
	struct sockaddr_storage peer;	/* the client (PROXY-named or not) */
	struct sockaddr_storage laddr;	/* the listen address it reached */
	uint8_t		 layers;	/* LAYER_* seen there */
	const char	*what;		/* for the log line */
};
/*
 * A stream another worker accepted and handed over (relay/handoff.c): @fd
 * is the client's socket, or a socketpair end that worker splices to the
 * client.  It starts past the layers and the prefix (STREAM_FIRST), within
 * the limits of @o->cr, and takes @bytes (read there, not used: the first
 * message's frame and every byte after it) as its first input.  Consumes
 * @fd on every path; -1 when refused or closed by that input.
 */
int	stream_import(struct relay *r, int fd, const struct stream_origin *o,
	    const uint8_t *bytes, size_t n);
/* Bytes the stream's output buffer can take now (what a splice may read
 * from the owner for the client). */
size_t	stream_out_room(const struct stream *st);
/* Frames @n messages to the stream; @ike says which are IKE.  -1 when the
 * stream was closed (and freed). */
int	stream_send(struct stream *st, const struct iovec *msgs,
	    const bool *ike, size_t n);
void	stream_close(struct stream *st, const char *reason);
/* Bytes of the current plaintext layer; -1 when the stream was closed. */
int	stream_input(struct stream *st, const uint8_t *p, size_t n);
/* TLS ciphertext from the client; -1 when the stream was closed. */
int	stream_tls_input(struct stream *st, const uint8_t *p, size_t n);
/* Bytes for the peer below the frames (HTTP answers); -1 when closed. */
int	stream_write_raw(struct stream *st, const void *p, size_t n);
/* Moves the stream to section @cr (a name chose it), within @cr's limits;
 * -1 when over them (the stream is not closed). */
int	stream_set_section(struct stream *st, const struct conf_relay *cr);
/* The client is @peer, not the TCP peer (PROXY header); -1 when over the
 * per-source limit (the stream is not closed). */
int	stream_set_peer(struct stream *st, const struct sockaddr_storage *peer);
/* Answers nothing more; closes at end of input or after a second. */
void	stream_drain(struct stream *st, const char *reason);
/* Moves @st to state @next; a transition not in the table is a bug. */
void	stream_set_state(struct stream *st, enum stream_state next);
const char *stream_state_name(enum stream_state state);
/* The counters of section @name, made on first use; NULL without memory.
 * They live until stream_sections_free() (at exit). */
struct relay_section *stream_section(struct relay *r, const char *name);
void	stream_sections_free(struct relay *r);
void	log_stream(const struct stream *st, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif /* IKETCP_STREAM_H */
