/*
 * A bounded, growing text buffer: control-socket answers are built in one
 * before a byte is written, so that a slow reader holds memory, never the
 * loop.  Past its bound it stops taking text and says so (over).
 */
#ifndef IKETCP_OBUF_H
#define IKETCP_OBUF_H

#include <stdbool.h>
#include <stddef.h>

struct obuf {
	char		*p;		/* text, NUL-terminated when len > 0 */
	size_t		 len;		/* octets of text */
	size_t		 cap;		/* octets allocated */
	size_t		 max;		/* bound on cap */
	bool		 over;		/* text was refused: bound or memory */
};

void	obuf_init(struct obuf *o, size_t max);
void	obuf_cleanup(struct obuf *o);
/* Drops the text, keeps the memory. */
void	obuf_reset(struct obuf *o);
void	obuf_printf(struct obuf *o, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* @n octets of @p as they are. */
void	obuf_append(struct obuf *o, const void *p, size_t n);
/* @s as a JSON string, quoted and escaped (RFC 8259 §7). */
void	obuf_json_str(struct obuf *o, const char *s);

#endif /* IKETCP_OBUF_H */
