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
 * conf_load() does the above for a file, read through conf/fileset.h (so
 * that a worker parses the bytes its master read).  A loaded conf never
 * changes; SIGHUP loads a new one and live objects keep a reference to the
 * old one.
 *
 * "include = GLOB" reads other files in place of its line.  Every line
 * number kept in a struct conf (and p->lineno) is a location: the file's
 * index in conf->files in the high bits, its line in the low ones, so that
 * an error found after the whole file names the right file.
 */
#ifndef IKETCP_CONF_H
#define IKETCP_CONF_H

#include <sys/socket.h>
#include <sys/stat.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/log.h"

enum {
	CONF_NAME_MAX = 64,		/* section name, user, group */
	CONF_HOST_MAX = 256,		/* a host[:port] as written */
	CONF_LISTEN_MAX = 16,		/* listen lines per section */
	CONF_SOURCE_MAX = 16,		/* gateway-source lines per section */
	CONF_MESSAGE_MAX = 65533,	/* 16-bit length counts itself */
	CONF_MESSAGE_MIN = 576,		/* IPv4 minimum datagram */
	CONF_PATH_MAX = 1024,		/* a file name, NUL included */
	CONF_CIPHERS_MAX = 512,		/* an OpenSSL cipher string */
	CONF_AUTHORITY_MAX = 262,	/* host:port, RFC 9110 §9.3.6 */
	CONF_ALLOW_MAX = 32,		/* connect-allow lines per section */
	CONF_SNI_MAX = 32,		/* sni lines per section */
	CONF_PROXY_FROM_MAX = 16,	/* proxy-from lines per section */
	CONF_DNS_NAME_MAX = 254,	/* RFC 1035 name, NUL included */
	CONF_HEADER_BYTES_MIN = 256,	/* max-header-bytes bounds */
	CONF_HEADER_BYTES_MAX = 65536,
	CONF_BUSY_POLL_MAX_MS = 1000,	/* busy-poll bound */
	CONF_UDP4_PAYLOAD_MAX = 65507,	/* 65535 - IPv4 20 - UDP 8 */
	CONF_UDP6_PAYLOAD_MAX = 65527,	/* 65535 - UDP 8 (no jumbogram) */
	CONF_FD_RESERVE_MAX = 65536,	/* fd-reserve bound */
	CONF_WORKERS_MAX = 64,		/* workers bound */
	CONF_LOG_RATE_MAX = 1000000,	/* log-rate bound, lines/s */
	CONF_SOCK_PATH_MAX = 108,	/* sun_path, NUL included */
	CONF_INCLUDE_DEPTH_MAX = 8,	/* files open at once, less one */
	CONF_FILES_MAX = 256,		/* files read, the first included */
	CONF_LOC_LINE_BITS = 20,	/* a location's line part */
	CONF_LOC_LINE_MAX = (1 << CONF_LOC_LINE_BITS) - 1, /* lines a file */
};

/* [global] control-socket when the file names none (iketcpctl(8)). */
#define CONF_DEF_CONTROL_SOCKET "/run/iketcpd/iketcpd.sock"

/* A location's file index (into conf->files) and line. */
#define CONF_LOC_FILE(loc)	((unsigned)(loc) >> CONF_LOC_LINE_BITS)
#define CONF_LOC_LINE(loc)	((unsigned)(loc) & CONF_LOC_LINE_MAX)

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
	CONF_IKE_PORT = 500,		/* bare IKE, RFC 7296 §2 */
	CONF_DEF_MAX_HEADER_BYTES = 8192,	/* CONNECT head, bytes */
	CONF_DEF_MAX_SESSIONS_PER_SOURCE = 256,	/* incl. lingering */
	CONF_DEF_GLOBAL_MAX_SESSIONS = 16384, /* [global] max-sessions */
	CONF_DEF_FD_RESERVE = 64,		/* descriptors */
	CONF_DEF_WRITE_BUFFER_TOTAL = 64 << 20,	/* bytes, all streams */
	CONF_DEF_LOG_RATE = 100,		/* lines/s; 0 = unlimited */
};

enum conf_tls_version {
	CONF_TLS_1_2,		/* "1.2": TLS 1.2 and 1.3 (default) */
	CONF_TLS_1_3,		/* "1.3": TLS 1.3 only */
};

/* A connect-allow entry: exact host (compared without case) and port. */
struct conf_authority {
	char		 host[CONF_DNS_NAME_MAX]; /* no brackets, lower case */
	uint16_t	 port;
};

/* [connector NAME] defaults, documented in iketcpd.conf(5). */
enum {
	CONF_SECRET_MAX = 256,			/* user:password */
	CONF_DEF_FALLBACK_TIMEOUT_MS = 2 * 1000,
	CONF_DEF_RECONNECT_MIN_MS = 100,
	CONF_DEF_RECONNECT_MAX_MS = 30 * 1000,
	CONF_DEF_UDP_RETRY_MIN_MS = 30 * 1000,
	CONF_DEF_UDP_RETRY_MAX_MS = 10 * 60 * 1000,
	CONF_DEF_MAX_SESSIONS = 1024,
	/* bypass-priority: below strongSwan's routing table 220 rule (its
	 * routing_table_prio), above main's 32766 */
	CONF_DEF_BYPASS_PRIORITY = 210,
	CONF_BYPASS_PRIORITY_MAX = 32765,
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

/* What a [relay]-shaped section does with the IKE and ESP it carries. */
enum conf_backend {
	CONF_BACKEND_RELAY,		/* [relay NAME]: forward to a gateway */
	CONF_BACKEND_INTEGRATED,	/* [integrated NAME]: terminate here */
};

/* [integrated NAME] limits and defaults, documented in iketcpd.conf(5). */
enum {
	CONF_PROPOSALS_MAX = 512,	/* a proposal list as written */
	CONF_ID_MAX = 256,		/* an identity, NUL included */
	CONF_DNS_MAX = 4,		/* dns lines */
	CONF_CRL_MAX = 8,		/* crl lines */
	CONF_TS_MAX = 16,		/* local-ts lines */
	CONF_TUN_MAX = 16,		/* IFNAMSIZ, NUL included */
	CONF_CIDR_TEXT_MAX = 64,	/* "ffff:...::/128" */
	CONF_REPLAY_WINDOW_MIN = 32,	/* packets */
	CONF_REPLAY_WINDOW_MAX = 4096,
	CONF_DEF_REPLAY_WINDOW = 1024,
	CONF_DEF_DPD_DELAY_MS = 30 * 1000,
	CONF_DEF_DPD_TIMEOUT_MS = 30 * 1000,
	CONF_DEF_IKE_LIFETIME_MS = 4 * 3600 * 1000,
	CONF_DEF_CHILD_LIFETIME_MS = 3600 * 1000,
	CONF_DEF_COOKIE_THRESHOLD = 128,	/* half-open IKE SAs */
	CONF_DEF_EAP_TIMEOUT_MS = 30 * 1000,	/* one EAP conversation */
	/* ike-fragment-size: an IP datagram carrying one RFC 7383
	 * fragment, octets; 0 turns IKE fragmentation off. */
	CONF_DEF_IKE_FRAGMENT_SIZE = 1280,	/* §2.5.1: IPv6 minimum MTU */
	CONF_IKE_FRAGMENT_SIZE_MIN = 576,	/* RFC 791: every IPv4 host */
	CONF_IKE_FRAGMENT_SIZE_MAX = 65535,
	CONF_RADIUS_SERVERS_MAX = 4,	/* radius-server lines */
	CONF_RADIUS_NAS_ID_MAX = 254,	/* 253 octets, NUL included */
	CONF_RADIUS_RETRIES_MAX = 10,	/* retransmissions a server */
	CONF_DEF_RADIUS_PORT = 1812,	/* RFC 2865 §3 */
	CONF_DEF_RADIUS_TIMEOUT_MS = 2 * 1000,	/* one try */
	CONF_DEF_RADIUS_RETRIES = 2,	/* then the next server */
};

#define CONF_DEF_RADIUS_NAS_ID	"iketcpd"

#define CONF_DEF_IKE_PROPOSALS	"aes256gcm16-prfsha384-ecp384"
#define CONF_DEF_ESP_PROPOSALS	"aes256gcm16"
#define CONF_DEF_TUN		"iketcp0"

/* The type of our IKE identity (RFC 7296 §3.5 ID Type). */
enum conf_id_type {
	CONF_ID_FQDN,			/* "fqdn:" or a name */
	CONF_ID_EMAIL,			/* "email:" or text with '@' */
	CONF_ID_IPV4,			/* "ipv4:" or an IPv4 address */
	CONF_ID_IPV6,			/* "ipv6:" or an IPv6 address */
	CONF_ID_DN,			/* "dn:" or text with '=' */
	CONF_ID_KEYID,			/* "keyid:" hex, as bytes */
};

/* An address prefix: a pool, a traffic selector, or a DNS server (/32). */
struct conf_cidr {
	int		 family;		/* AF_INET, AF_INET6; 0 = none */
	uint8_t		 addr[16];		/* network order, 4 or 16 used */
	unsigned	 plen;			/* prefix length, bits */
	char		 text[CONF_CIDR_TEXT_MAX]; /* as written */
};

/* The keys of an [integrated NAME] section beyond the stream-side ones. */
/* EAP for initiators that leave AUTH out (RFC 7296 §2.16). */
enum conf_eap {
	CONF_EAP_NO,		/* refused: AUTHENTICATION_FAILED */
	CONF_EAP_MSCHAPV2,	/* EAP-Identity, then EAP-MSCHAPv2 */
	CONF_EAP_RADIUS		/* EAP-Identity, then RADIUS (RFC 3579) */
};

struct conf_integrated {
	char		 ike_proposals[CONF_PROPOSALS_MAX]; /* checked at start */
	char		 esp_proposals[CONF_PROPOSALS_MAX];
	unsigned	 ike_proposals_line;		/* 0: the default */
	unsigned	 esp_proposals_line;
	bool		 allow_weak_dh;	/* MODP groups 2 and 5 may be named */
	char		 secrets[CONF_PATH_MAX];	/* ipsec.secrets form */
	char		 cert[CONF_PATH_MAX];		/* our certificate */
	char		 key[CONF_PATH_MAX];		/* its private key */
	char		 ca[CONF_PATH_MAX];		/* client certs' CA */
	char		 crl[CONF_CRL_MAX][CONF_PATH_MAX]; /* re-read on HUP */
	size_t		 ncrl;
	unsigned	 crl_line;			/* first, for errors */
	enum conf_id_type id_type;
	char		 id[CONF_ID_MAX];		/* without type prefix */
	unsigned	 id_line;			/* for errors */
	struct conf_cidr pool4;			/* family 0: none */
	struct conf_cidr pool6;
	struct conf_cidr dns[CONF_DNS_MAX];	/* host prefixes */
	size_t		 ndns;
	struct conf_cidr local_ts[CONF_TS_MAX];	/* default 0.0.0.0/0 */
	size_t		 nlocal_ts;
	char		 tun[CONF_TUN_MAX];		/* interface name */
	unsigned	 replay_window;			/* packets */
	unsigned	 dpd_delay_ms;			/* 0 = no DPD */
	unsigned	 dpd_timeout_ms;		/* request budget */
	unsigned	 ike_lifetime_ms;		/* IKE SA hard life */
	unsigned	 child_lifetime_ms;		/* Child SA hard life */
	unsigned	 cookie_threshold;		/* half-open SAs */
	enum conf_eap	 eap;				/* EAP method offered */
	unsigned	 eap_timeout_ms;		/* one conversation */
	/* RADIUS servers for EAP pass-through (relay/radclient.c). */
	struct conf_addr radius_server[CONF_RADIUS_SERVERS_MAX]; /* in turn */
	size_t		 nradius_server;
	char		 radius_secret_file[CONF_PATH_MAX]; /* 0600 */
	unsigned	 radius_timeout_ms;		/* one try */
	unsigned	 radius_retries;		/* then next server */
	char		 radius_nas_id[CONF_RADIUS_NAS_ID_MAX];
	/* The UDP front end: IKE on 500, IKE and ESP-in-UDP on 4500. */
	struct conf_addr udp_listen[CONF_LISTEN_MAX];	/* repeatable */
	size_t		 nudp_listen;
	bool		 udp_encap;	/* UDP clients always put ESP in UDP */
	unsigned	 ike_fragment_size;	/* octets; 0: no RFC 7383 */
};

/*
 * A [relay NAME] or [integrated NAME] section: both have the stream side
 * (listeners, TLS, CONNECT, routing), so relay/ serves both unchanged.
 */
struct conf_relay {
	char		 name[CONF_NAME_MAX];	/* [relay NAME], [integrated NAME] */
	enum conf_backend backend;
	struct conf_integrated *integ;		/* NULL for a relay */
	unsigned	 line;			/* line of the section header */
	struct conf_addr listen[CONF_LISTEN_MAX]; /* "listen", repeatable */
	size_t		 nlisten;
	struct conf_addr gateway;		/* "gateway", port 4500 default */
	unsigned	 gateway_line;		/* its line, for errors */
	uint16_t	 gateway_ike_port;	/* IKE_SA_INIT, bare; 0 = off */
	unsigned	 gateway_ike_port_line;	/* its line, for errors */
	/* Local addresses for the UDP legs, used in turn; none: the
	 * kernel's choice.  Lines kept for the bind check at load. */
	struct conf_addr gateway_source[CONF_SOURCE_MAX]; /* port 0 */
	unsigned	 gateway_source_line[CONF_SOURCE_MAX];
	size_t		 ngateway_source;
	size_t		 max_message;		/* bytes, excluding the length */
	unsigned	 max_message_line;	/* its line; 0 = the default */
	size_t		 write_buffer;		/* bytes queued toward a client */
	unsigned	 idle_timeout_ms;	/* stream idle; 0 = never */
	unsigned	 linger_ms;		/* session after stream loss */
	unsigned	 handshake_timeout_ms;	/* prefix (and later TLS) */
	unsigned	 max_connections;	/* streams in this section */
	unsigned	 max_per_source;	/* streams per client address */
	unsigned	 max_sessions_per_source; /* sessions, lingering too */
	/* Layers before the stream prefix (DESIGN.md data flow). */
	struct conf_addr tls_listen[CONF_LISTEN_MAX]; /* TLS also accepted */
	size_t		 ntls_listen;
	char		 tls_cert[CONF_PATH_MAX];	/* PEM certificate */
	char		 tls_key[CONF_PATH_MAX];	/* PEM private key */
	char		 tls_chain[CONF_PATH_MAX];	/* PEM chain, optional */
	unsigned	 tls_line;		/* line of tls-cert, for errors */
	enum conf_tls_version tls_min_version;
	char		 tls_ciphers[CONF_CIPHERS_MAX]; /* TLS 1.2; "" default */
	char		 tls_ciphersuites[CONF_CIPHERS_MAX]; /* TLS 1.3 */
	unsigned	 tls_ciphers_line;	/* their lines, for the */
	unsigned	 tls_ciphersuites_line;	/* check at load (relay/) */
	bool		 tls_null;		/* NULL suites allowed (9329 A) */
	bool		 http_connect;		/* CONNECT accepted */
	struct conf_authority connect_allow[CONF_ALLOW_MAX];
	size_t		 nconnect_allow;
	char		 connect_auth_file[CONF_PATH_MAX]; /* "" = no auth */
	unsigned	 connect_auth_line;	/* its line, for errors */
	size_t		 max_header_bytes;	/* CONNECT request head */
	char		 sni[CONF_SNI_MAX][CONF_DNS_NAME_MAX]; /* "*.x" allowed */
	size_t		 nsni;
	bool		 is_default;		/* "default = yes" */
	bool		 proxy_protocol;	/* PROXY v1/v2 header required */
	struct conf_cidr proxy_from[CONF_PROXY_FROM_MAX]; /* who may send it */
	size_t		 nproxy_from;		/* 0: any peer */
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
	unsigned	 udp_retry_min_ms;	/* fallback: first UDP probe */
	unsigned	 udp_retry_max_ms;	/* its back-off ceiling */
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
	bool		 bypass_rule;		/* rules: server etc. -> main */
	unsigned	 bypass_priority;	/* their priority */
};

struct conf {
	char		 path[4096];		/* file it came from */
	char		**files;		/* [0] path, then included */
	size_t		 nfiles;
	enum log_level	 log_level;		/* [global] log-level */
	enum log_format	 log_format;		/* [global] log-format */
	int		 syslog_facility;	/* [global] syslog-facility */
	unsigned	 busy_poll_ms;		/* [global] busy-poll, 0 off */
	char		 user[CONF_NAME_MAX];	/* [global] user, "" = stay */
	char		 group[CONF_NAME_MAX];	/* [global] group */
	unsigned	 max_sessions;		/* [global] all sessions */
	unsigned	 fd_reserve;		/* [global] fds kept free */
	unsigned	 workers;		/* [global] 1..64; 0 = auto */
	unsigned	 workers_line;		/* its line; 0 = default */
	size_t		 write_buffer_total;	/* [global] bytes, summed */
	unsigned	 write_buffer_total_line; /* its line; 0 = default */
	unsigned	 log_rate;		/* [global] lines/s, 0 = all */
	char		 control_socket[CONF_SOCK_PATH_MAX]; /* "" = none */
	bool		 control_socket_set;	/* named in the file */
	struct conf_addr metrics_listen;	/* HTTP /metrics; len 0 none */
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
	CONF_SEC_INTEGRATED,	/* a conf_relay with integrated keys */
};

struct conf_parser {
	struct conf	*conf;		/* being built */
	const char	*file;		/* for error messages: current file */
	unsigned	 lineno;	/* current location, line from 1 */
	unsigned	 errors;	/* errors reported so far */
	bool		 no_include;	/* include checks its value, reads
					   nothing (the fuzzer) */
	enum conf_section_kind section;
	struct conf_relay *cur;		/* current [relay] section */
	struct conf_connector *ccur;	/* current [connector] section */
	uint64_t	 cseen;		/* keys set in ccur */
	uint64_t	 iseen;		/* integrated keys set in cur */
};

int	conf_init(struct conf_parser *p, const char *file);
/* One line, without or with its trailing newline.  Returns 0 or -1. */
int	conf_line(struct conf_parser *p, const char *line);
/* Validates the whole; consumes the parser.  NULL after any error. */
struct conf *conf_finish(struct conf_parser *p);
/* Releases what conf_init allocated when conf_finish is not called. */
void	conf_abort(struct conf_parser *p);

struct conf *conf_load(const char *path);
/* Reads a secrets file (through fs_read: from disk, or from the set a
 * worker was given): a regular file that gives its group and others no
 * access, at most @max bytes.  0 with *data malloc'd (NUL after *len
 * bytes; wipe it, OPENSSL_clear_free(*data, *len + 1)), or -1, logged
 * with the file's name. */
int	conf_read_private(const char *path, size_t max, unsigned char **data,
	    size_t *len);
struct conf *conf_ref(struct conf *c);
/* The file of location @loc (a "line" kept in @c). */
const char *conf_loc_file(const struct conf *c, unsigned loc);
/* workers = auto (0): the online CPUs, within 1..CONF_WORKERS_MAX;
 * otherwise the number the file gave. */
unsigned conf_workers(const struct conf *c);
/* No [relay], [integrated] or [connector] section: nothing to serve. */
bool	conf_is_idle(const struct conf *c);
void	conf_unref(struct conf *c);

/* Value parsers, exported for tests: each returns false on bad text. */
bool	conf_parse_addr(const char *s, uint16_t default_port, bool passive,
	    struct conf_addr *out);
bool	conf_parse_size(const char *s, size_t *out);
bool	conf_parse_duration_ms(const char *s, unsigned *out);
bool	conf_parse_uint(const char *s, unsigned *out);
bool	conf_parse_bool(const char *s, bool *out);
bool	conf_parse_authority(const char *s, struct conf_authority *out);
bool	conf_parse_dns_name(const char *s, bool wildcard, char *out);

/* "relay" or "integrated", for messages. */
const char *conf_relay_kind(const struct conf_relay *r);
/* Does any [integrated] section exist? */
bool	conf_has_integrated(const struct conf *c);
/*
 * The first key of two [integrated] sections that differs and that is
 * read at start only (SIGHUP cannot change it), or NULL: the secrets
 * file's contents and cookie-threshold may change.
 */
const char *conf_integrated_fixed_diff(const struct conf_integrated *a,
	    const struct conf_integrated *b);
/* ADDR/LEN, v4 or v6, host bits zero; false on bad text. */
bool	conf_parse_cidr(const char *s, struct conf_cidr *out);
/* Whether @ss's address is in @c (an IPv4-mapped IPv6 address counts as
 * its IPv4 address). */
bool	conf_cidr_match(const struct conf_cidr *c,
	    const struct sockaddr_storage *ss);

/* Routing helpers (pure): does @name match sni pattern @pat (exact, or
 * "*.example.com" for one more label), ignoring case? */
bool	conf_sni_match(const char *pat, const char *name);
/* The [relay] or [integrated] section called @name, or NULL. */
const struct conf_relay *conf_relay_named(const struct conf *c,
	    const char *name);
/* Does section @cr list @addr in listen (@tls false) or tls-listen? */
bool	conf_relay_listens(const struct conf_relay *cr,
	    const struct sockaddr_storage *addr, bool *tls);

#endif /* IKETCP_CONF_H */
