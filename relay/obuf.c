/*
 * relay/obuf.c: the bounded text buffer of control-socket answers
 * (obuf.h).  It doubles up to its bound; the first refusal sets over and
 * nothing more is taken, so that an answer is whole or marked as cut.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/obuf.h"

enum {
	OBUF_FIRST = 4096,	/* first allocation, octets */
};

void
obuf_init(struct obuf *o, size_t max)
{
	memset(o, 0, sizeof(*o));
	o->max = max;
}

void
obuf_cleanup(struct obuf *o)
{
	free(o->p);
	obuf_init(o, o->max);
}

void
obuf_reset(struct obuf *o)
{
	o->len = 0;
	o->over = false;
	if (o->p != NULL)
		o->p[0] = '\0';
}

/* Room for @need more octets and a NUL; false (over) past the bound. */
static bool
room(struct obuf *o, size_t need)
{
	size_t cap = o->cap > 0 ? o->cap : OBUF_FIRST;
	char *np;

	if (o->over)
		return false;
	if (o->len >= o->max || o->max - o->len <= need) {
		o->over = true;
		return false;
	}
	if (o->len + need < o->cap)
		return true;
	while (cap <= o->len + need)
		cap *= 2;
	if (cap > o->max)
		cap = o->max;
	if ((np = realloc(o->p, cap)) == NULL) {
		o->over = true;
		return false;
	}
	o->p = np;
	o->cap = cap;
	return true;
}

void
obuf_printf(struct obuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !room(o, (size_t)n))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

void
obuf_append(struct obuf *o, const void *p, size_t n)
{
	if (n == 0 || !room(o, n))
		return;
	memcpy(o->p + o->len, p, n);
	o->len += n;
	o->p[o->len] = '\0';
}

void
obuf_json_str(struct obuf *o, const char *s)
{
	obuf_printf(o, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			obuf_printf(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			obuf_printf(o, "\\u%04x", c);
		else
			obuf_printf(o, "%c", c);
	}
	obuf_printf(o, "\"");
}
