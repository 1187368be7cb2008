/*
 * Which [relay] section serves a stream, chosen by the listen address it
 * arrived on and the name it asked for (TLS SNI, CONNECT authority), and
 * the per-section resources that live beside the immutable conf: TLS
 * server contexts and CONNECT credentials, rebuilt on every reload.
 */
#ifndef IKETCP_ROUTE_H
#define IKETCP_ROUTE_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct conf;
struct conf_relay;
struct connect_creds;
struct relay;

/* What the sections on @laddr allow before the prefix. */
struct route_layers {
	bool	 tls;		/* a tls-listen address */
	bool	 proxy;		/* PROXY header required */
	bool	 connect;	/* some section takes CONNECT */
	size_t	 header_max;	/* largest max-header-bytes among them */
};

/* The section a stream starts in (for limits): the default one, else the
 * first that lists @laddr; NULL when none does (after a reload). */
const struct conf_relay *route_primary(const struct conf *c,
	    const struct sockaddr_storage *laddr, struct route_layers *lay);
/* By TLS SNI (@name, or NULL for none): a section listing the name, else
 * the default section, else NULL (refuse). */
const struct conf_relay *route_by_name(const struct conf *c,
	    const struct sockaddr_storage *laddr, const char *name);
/* By CONNECT target: the section whose connect-allow lists host:port. */
const struct conf_relay *route_by_authority(const struct conf *c,
	    const struct sockaddr_storage *laddr, const char *host,
	    uint16_t port);

/* Builds TLS contexts and loads credentials for every section of @c;
 * on any failure logs "file:line: ..." and keeps the previous set. */
int	route_res_load(struct relay *r, const struct conf *c);
/* The same in two steps (a reload): the new set is built aside, then
 * taken (@commit) or dropped. */
int	route_res_prepare(struct relay *r, const struct conf *c);
void	route_res_finish(struct relay *r, bool commit);
void	route_res_free(struct relay *r);
SSL_CTX	*route_res_ctx(const struct relay *r, const char *section);
const struct connect_creds *route_res_creds(const struct relay *r,
	    const char *section);

#endif /* IKETCP_ROUTE_H */
