/*
 * What conf.c shares with the files that parse some of its sections' keys
 * (layers.c) or whole sections (connector.c): error reporting and the key
 * table entry.  Not for use outside conf/.
 */
#ifndef IKETCP_CONF_INTERNAL_H
#define IKETCP_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"

struct keydef {
	const char	*name;
	bool		(*parse)(struct conf_parser *, const char *);
	bool		 repeatable;
};

/* "file:line: message" through log_warnx(); counts p->errors. */
void	conf_err_at(struct conf_parser *p, unsigned line, const char *fmt, ...)
	    LOG_PRINTF(3, 4);
/* "line N" for a location in the current file, else "FILE:N". */
const char *conf_loc_text(struct conf_parser *p, unsigned loc, char *buf,
	    size_t len);
/* The same, at the current line. */
void	conf_err(struct conf_parser *p, const char *fmt, ...) LOG_PRINTF(2, 3);
/* A duration value of at least @min ms for @key; reports and returns
 * false on bad text. */
bool	conf_key_ms(struct conf_parser *p, const char *key, const char *v,
	    unsigned min, unsigned *out);

/* [relay] keys of the layers before the stream prefix (layers.c). */
bool	conf_key_connect_allow(struct conf_parser *p, const char *v);
bool	conf_key_connect_auth_file(struct conf_parser *p, const char *v);
bool	conf_key_default(struct conf_parser *p, const char *v);
bool	conf_key_http_connect(struct conf_parser *p, const char *v);
bool	conf_key_max_header_bytes(struct conf_parser *p, const char *v);
bool	conf_key_proxy_protocol(struct conf_parser *p, const char *v);
bool	conf_key_proxy_from(struct conf_parser *p, const char *v);
bool	conf_key_sni(struct conf_parser *p, const char *v);
bool	conf_key_tls_chain(struct conf_parser *p, const char *v);
bool	conf_key_tls_cert(struct conf_parser *p, const char *v);
bool	conf_key_tls_ciphers(struct conf_parser *p, const char *v);
bool	conf_key_tls_ciphersuites(struct conf_parser *p, const char *v);
bool	conf_key_tls_key(struct conf_parser *p, const char *v);
bool	conf_key_tls_listen(struct conf_parser *p, const char *v);
bool	conf_key_tls_min_version(struct conf_parser *p, const char *v);
bool	conf_key_tls_null(struct conf_parser *p, const char *v);
/* Defaults of those keys for a new section. */
void	conf_layers_defaults(struct conf_relay *r);
/* Whole-file checks of those keys and of shared listen addresses. */
void	conf_layers_check(struct conf_parser *p, const struct conf *c);

/* [global] control-socket, metrics-listen (control.c). */
bool	conf_key_control_socket(struct conf_parser *p, const char *v);
bool	conf_key_metrics_listen(struct conf_parser *p, const char *v);
void	conf_control_defaults(struct conf *c);

/* [connector NAME] (connector.c); @name is not NUL-terminated. */
int	conf_connector_section(struct conf_parser *p, const char *name,
	    size_t len);
int	conf_connector_key(struct conf_parser *p, const char *key,
	    const char *val);
/* Whole-file checks of the connector sections. */
void	conf_connector_finish(struct conf_parser *p);

/* [integrated NAME] (integrated.c): conf.c has made p->cur the section. */
int	conf_integrated_section(struct conf_parser *p);
/* A key that is not in the relay table, or "gateway". */
int	conf_integrated_key(struct conf_parser *p, const char *key,
	    const char *val);
/* Whole-file checks of the integrated sections. */
void	conf_integrated_finish(struct conf_parser *p);
void	conf_integrated_free(struct conf_integrated *ci);

/* The radius-* keys of an [integrated] section (radius.c). */
bool	conf_key_radius_nas_id(struct conf_parser *p,
	    struct conf_integrated *ci, const char *v);
bool	conf_key_radius_retries(struct conf_parser *p,
	    struct conf_integrated *ci, const char *v);
bool	conf_key_radius_secret_file(struct conf_parser *p,
	    struct conf_integrated *ci, const char *v);
bool	conf_key_radius_server(struct conf_parser *p,
	    struct conf_integrated *ci, const char *v);
bool	conf_key_radius_timeout(struct conf_parser *p,
	    struct conf_integrated *ci, const char *v);
/* Their defaults, and the checks once the section is read. */
void	conf_radius_defaults(struct conf_integrated *ci);
void	conf_radius_check(struct conf_parser *p, const struct conf_relay *r);
/* The first radius-* key that differs, or NULL. */
const char *conf_radius_diff(const struct conf_integrated *a,
	    const struct conf_integrated *b);

#endif /* IKETCP_CONF_INTERNAL_H */
