/*
 * HTTP CONNECT (RFC 9110 §9.3.6) on llhttp: the relay's server side, the
 * connector's client side, and Basic proxy authorisation (RFC 7617).
 * The feed functions are incremental decoders: no I/O, no allocation, no
 * logging; on CONNECT_ERROR the caller logs @error and answers @status.
 */
#ifndef IKETCP_CONNECT_H
#define IKETCP_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llhttp.h"

enum connect_result {
	CONNECT_NEED_MORE,	/* head not complete yet */
	CONNECT_OK,		/* head complete; the rest is the next layer */
	CONNECT_ERROR,		/* see status and error */
};

enum {
	CONNECT_HOST_MAX = 255,		/* RFC 1035 name, or [IPv6] */
	CONNECT_AUTHORITY_MAX = 261,	/* host ":" 5-digit port */
	CONNECT_AUTH_VALUE_MAX = 512,	/* Proxy-Authorization value, bytes */
	CONNECT_FIELD_MAX = 32,		/* header name bytes kept */
	CONNECT_USER_MAX = 64,		/* user-id, bytes */
	CONNECT_PASS_MAX = 128,		/* password, bytes */
	CONNECT_CREDS_MAX = 4096,	/* lines in a credentials file */
	CONNECT_REQUEST_MAX = 1024,	/* a buffer that fits any request */
	CONNECT_RESPONSE_MAX = 256,	/* a buffer that fits any response */
};

/* Server side: parses one CONNECT request head. */
struct connect_srv {
	llhttp_t	 parser;
	llhttp_settings_t settings;
	size_t		 max_header_bytes; /* bound on the request head */
	size_t		 seen;		/* head bytes given to llhttp */
	enum connect_result result;	/* sticky once not NEED_MORE */
	int		 status;	/* HTTP status to answer on ERROR */
	const char	*error;		/* static reason on ERROR */
	char		 authority[CONNECT_AUTHORITY_MAX + 1]; /* host:port */
	size_t		 authority_len;	/* bytes, without the NUL */
	char		 host[CONNECT_HOST_MAX + 1]; /* no [], NUL-ended */
	uint16_t	 port;		/* target port, host order */
	bool		 has_proxy_auth; /* proxy_auth is set */
	char		 proxy_auth[CONNECT_AUTH_VALUE_MAX + 1]; /* NUL-ended */
	size_t		 proxy_auth_len; /* bytes, without the NUL */
	char		 field[CONNECT_FIELD_MAX]; /* current header name */
	size_t		 field_len;	/* its full length, bytes */
	bool		 in_proxy_auth;	/* current header is ours */
};

/* Client side: parses the proxy's response head. */
struct connect_cli {
	llhttp_t	 parser;
	llhttp_settings_t settings;
	size_t		 max_header_bytes; /* bound on the response head */
	size_t		 seen;		/* head bytes given to llhttp */
	enum connect_result result;	/* sticky once not NEED_MORE */
	int		 status;	/* proxy's status; 431 head too long;
					   0 malformed */
	const char	*error;		/* static reason on ERROR */
};

struct connect_creds;

void		connect_srv_init(struct connect_srv *srv,
		    size_t max_header_bytes);
/*
 * Feed the next @n bytes.  *@consumed is how many of them belong to the
 * request head: on CONNECT_OK the bytes after it are the next layer's; on
 * CONNECT_ERROR it is 0.  After OK or ERROR every call returns the same
 * result and consumes nothing.
 */
enum connect_result connect_srv_feed(struct connect_srv *srv,
		    const uint8_t *p, size_t n, size_t *consumed);
/*
 * Write the response head for @status (200, 400, 403, 405, 407, 408, 431,
 * 500, 502, 503, 504).  Returns its length, or 0 for another status or if
 * it does not fit in @cap.  Not NUL-terminated unless room remains.
 */
size_t		connect_srv_response(int status, char *buf, size_t cap);

/* Basic credentials in @header_value against @creds, in constant time. */
bool		connect_auth_check(const char *header_value,
		    const struct connect_creds *creds);
/*
 * Parses "user:password" lines ('#' comments, blank lines) from the @len
 * bytes at @data, the file @path read by the caller (who checks its
 * permissions: conf_read_private(); the caller wipes @data).  Logs every
 * error as "file:line: message" and returns NULL if there was any.
 */
struct connect_creds *connect_creds_parse(const unsigned char *data,
		    size_t len, const char *path);
/* Wipe and free; NULL is a no-op. */
void		connect_creds_free(struct connect_creds *creds);
size_t		connect_creds_count(const struct connect_creds *creds);

/*
 * Write a CONNECT request for @authority (host:port) with Host and, when
 * @user is not NULL, Proxy-Authorization: Basic.  Returns its length, or 0
 * if an argument is invalid or it does not fit in @cap.
 */
size_t		connect_cli_request(char *buf, size_t cap,
		    const char *authority, const char *user, const char *pass);
void		connect_cli_init(struct connect_cli *cli,
		    size_t max_header_bytes);
/*
 * As connect_srv_feed(), for the proxy's response: OK on any 2xx, ERROR
 * (consuming nothing) on any other status, a malformed head or one longer
 * than the bound.
 */
enum connect_result connect_cli_feed(struct connect_cli *cli,
		    const uint8_t *p, size_t n, size_t *consumed);

#endif /* IKETCP_CONNECT_H */
