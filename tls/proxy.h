/*
 * PROXY protocol v1 and v2 header parser (haproxy proxy-protocol.txt), for
 * relays placed behind an L4 balancer.  Pure: no I/O, no allocation, no
 * logging; the caller logs @error.
 */
#ifndef IKETCP_PROXY_H
#define IKETCP_PROXY_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum proxy_result {
	PROXY_NEED_MORE,	/* a valid prefix of a header; read more */
	PROXY_OK,		/* a whole header; *consumed bytes of it */
	PROXY_ERROR,		/* not a valid header: close the stream */
};

enum {
	PROXY_V1_MAX = 107,	/* §2.1: longest line, CRLF included */
	PROXY_V2_HDR = 16,	/* §2.2: signature, ver_cmd, fam, len */
	PROXY_V2_MAX_LEN = 1024, /* our bound on the v2 length field */
};

struct proxy_hdr {
	bool		 local;		/* v2 LOCAL: use the real endpoints */
	bool		 has_addr;	/* src and dst are set */
	struct sockaddr_storage src;	/* original client, AF_INET/AF_INET6 */
	struct sockaddr_storage dst;	/* address the client connected to */
	const char	*error;		/* static reason on PROXY_ERROR */
};

/*
 * Parse the header at the start of @p.  Stateless: call again with the
 * whole buffer when more bytes have arrived.  On PROXY_OK, *@consumed is the
 * header length and the bytes after it belong to the next layer.  v1 lines
 * that are not complete within PROXY_V1_MAX bytes are an error.
 */
enum proxy_result proxy_parse(const uint8_t *p, size_t n,
		    struct proxy_hdr *out, size_t *consumed);

#endif /* IKETCP_PROXY_H */
