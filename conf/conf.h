/*
 * Configuration: an INI-style file parsed line by line into an immutable
 * struct conf.  Errors are reported as "file:line: message" through
 * log_warnx(); all of them are reported, then conf_finish() fails.
 *
 *   struct conf_parser p;
 *   conf_init(&p, "iketcpd.conf");
 *   while (getline(...)) conf_line(&p, line);
 *   struct conf *c = conf_finish(&p);      NULL when any line was bad
 *
 * conf_load() does the above for a file.  A loaded conf never changes;
 * SIGHUP loads a new one and live objects keep a reference to the old one.
 */
#ifndef IKETCP_CONF_H
#define IKETCP_CONF_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/log.h"

enum {
	CONF_NAME_MAX = 64,		/* section name, user, group */
	CONF_HOST_MAX = 256,		/* a host[:port] as written */
	CONF_LISTEN_MAX = 16,		/* listen lines per section */
	CONF_MESSAGE_MAX = 65533,	/* 16-bit length counts itself */
	CONF_MESSAGE_MIN = 576,		/* IPv4 minimum datagram */
};

/* Defaults, documented in iketcpd.conf(5). */
enum {
	CONF_DEF_MAX_MESSAGE = CONF_MESSAGE_MAX,
	CONF_DEF_WRITE_BUFFER = 256 * 1024,	/* bytes */
	CONF_DEF_IDLE_TIMEOUT_MS = 600 * 1000,
	CONF_DEF_LINGER_MS = 60 * 1000,
	CONF_DEF_HANDSHAKE_TIMEOUT_MS = 10 * 1000,
	CONF_DEF_MAX_CONNECTIONS = 8192,
	CONF_DEF_MAX_PER_SOURCE = 256,
	CONF_DEF_GATEWAY_PORT = 4500,
};

/* [connector NAME] defaults, documented in iketcpd.conf(5). */
enum {
	CONF_PATH_MAX = 1024,			/* a file name, as written */
	CONF_SECRET_MAX = 256,			/* user:password */
	CONF_DEF_FALLBACK_TIMEOUT_MS = 2 * 1000,
	CONF_DEF_RECONNECT_MIN_MS = 100,
	CONF_DEF_RECONNECT_MAX_MS = 30 * 1000,
	CONF_DEF_MAX_SESSIONS = 1024,
};

/* How a connector's sessions reach the gateway. */
enum conf_transport {
	CONF_TRANSPORT_TCP,		/* always the stream to the server */
	CONF_TRANSPORT_FALLBACK,	/* UDP first, the stream if no answer */
};

/* The stream prefix a connector sends (RFC 9329 §3 / draft-04). */
enum conf_prefix {
	CONF_PREFIX_IKETCP,
	CONF_PREFIX_IKEV2,
};

struct conf_addr {
	struct sockaddr_storage	ss;	/* resolved address and port */
	socklen_t		len;	/* sizeof the sockaddr in ss */
	char			text[CONF_HOST_MAX]; /* as written, for logs */
};

struct conf_relay {
	char		 name[CONF_NAME_MAX];	/* [relay NAME] */
	unsigned	 line;			/* line of the section header */
	struct conf_addr listen[CONF_LISTEN_MAX]; /* "listen", repeatable */
	size_t		 nlisten;
	struct conf_addr gateway;		/* "gateway", port 4500 default */
	size_t		 max_message;		/* bytes, excluding the length */
	size_t		 write_buffer;		/* bytes queued toward a client */
	unsigned	 idle_timeout_ms;	/* stream idle; 0 = never */
	unsigned	 linger_ms;		/* session after stream loss */
	unsigned	 handshake_timeout_ms;	/* prefix (and later TLS) */
	unsigned	 max_connections;	/* streams in this section */
	unsigned	 max_per_source;	/* streams per client address */
};

struct conf_connector {
	char		 name[CONF_NAME_MAX];	/* [connector NAME] */
	unsigned	 line;			/* line of the section header */
	struct conf_addr udp_listen[CONF_LISTEN_MAX]; /* repeatable */
	size_t		 nudp_listen;
	struct conf_addr server;		/* stream destination */
	enum conf_prefix prefix;
	enum conf_transport transport;
	struct conf_addr udp_gateway;		/* fallback; port: as arrived */
	unsigned	 fallback_timeout_ms;	/* IKE_SA_INIT over UDP */
	unsigned	 reconnect_min_ms;	/* first back-off step */
	unsigned	 reconnect_max_ms;	/* back-off ceiling */
	unsigned	 handshake_timeout_ms;	/* connect (+ proxy, TLS) */
	unsigned	 idle_timeout_ms;	/* session without traffic */
	size_t		 max_message;		/* bytes, excluding the length */
	size_t		 write_buffer;		/* bytes queued toward server */
	unsigned	 max_sessions;		/* initiators at once */
	bool		 tls;			/* parsed; not implemented yet */
	bool		 tls_verify;
	char		 tls_ca[CONF_PATH_MAX];
	char		 tls_sni[CONF_HOST_MAX];
	struct conf_addr http_proxy;		/* len 0: none */
	char		 http_proxy_auth[CONF_SECRET_MAX];
};

struct conf {
	char		 path[4096];		/* file it came from */
	enum log_level	 log_level;		/* [global] log-level */
	char		 user[CONF_NAME_MAX];	/* [global] user, "" = stay */
	char		 group[CONF_NAME_MAX];	/* [global] group */
	struct conf_relay *relays;		/* array of nrelays */
	size_t		 nrelays;
	struct conf_connector *connectors;	/* array of nconnectors */
	size_t		 nconnectors;
	unsigned	 refs;			/* conf_ref / conf_unref */
};

enum conf_section_kind {
	CONF_SEC_NONE,		/* before the first section header */
	CONF_SEC_GLOBAL,
	CONF_SEC_RELAY,
	CONF_SEC_CONNECTOR,
};

struct conf_parser {
	struct conf	*conf;		/* being built */
	const char	*file;		/* for error messages */
	unsigned	 lineno;	/* current line, from 1 */
	unsigned	 errors;	/* errors reported so far */
	enum conf_section_kind section;
	struct conf_relay *cur;		/* current [relay] section */
	struct conf_connector *ccur;	/* current [connector] section */
	uint64_t	 cseen;		/* keys set in ccur */
};

int	conf_init(struct conf_parser *p, const char *file);
/* One line, without or with its trailing newline.  Returns 0 or -1. */
int	conf_line(struct conf_parser *p, const char *line);
/* Validates the whole; consumes the parser.  NULL after any error. */
struct conf *conf_finish(struct conf_parser *p);
/* Releases what conf_init allocated when conf_finish is not called. */
void	conf_abort(struct conf_parser *p);

struct conf *conf_load(const char *path);
struct conf *conf_ref(struct conf *c);
void	conf_unref(struct conf *c);

/* Value parsers, exported for tests: each returns false on bad text. */
bool	conf_parse_addr(const char *s, uint16_t default_port, bool passive,
	    struct conf_addr *out);
bool	conf_parse_size(const char *s, size_t *out);
bool	conf_parse_duration_ms(const char *s, unsigned *out);
bool	conf_parse_uint(const char *s, unsigned *out);
bool	conf_parse_bool(const char *s, bool *out);

#endif /* IKETCP_CONF_H */
