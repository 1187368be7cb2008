/*
 * What conf.c shares with the files that parse one kind of section, so
 * that each section kind keeps its key table and its checks to itself.
 */
#ifndef IKETCP_CONF_SECTION_H
#define IKETCP_CONF_SECTION_H

#include <stddef.h>

#include "conf/conf.h"

/* "file:line: message", counted in p->errors. */
void	conf_err(struct conf_parser *p, const char *fmt, ...)
	    LOG_PRINTF(2, 3);
void	conf_err_at(struct conf_parser *p, unsigned line, const char *fmt, ...)
	    LOG_PRINTF(3, 4);

/* conf/connector.c: "[connector NAME]" (name not NUL-terminated). */
int	conf_connector_section(struct conf_parser *p, const char *name,
	    size_t len);
int	conf_connector_key(struct conf_parser *p, const char *key,
	    const char *val);
/* Checks that need the whole file; errors go to p. */
void	conf_connector_finish(struct conf_parser *p);

#endif /* IKETCP_CONF_SECTION_H */
