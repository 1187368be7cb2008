/* TEMPORARY stand-in for the budgets branch's srctab (replaced on merge). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "relay/relay.h"
#include "relay/srctab.h"

void
srctab_init(struct srctab *t)
{
	memset(t, 0, sizeof(*t));
}

void
srctab_cleanup(struct srctab *t)
{
	while (t->head != NULL) {
		struct src *s = t->head;

		t->head = s->next;
		free(s);
	}
}

struct src *
srctab_get(struct srctab *t, const struct sockaddr_storage *ss,
    const char *section)
{
	struct src *s;

	for (s = t->head; s != NULL; s = s->next)
		if (sockaddr_same_ip(&s->addr, ss) &&
		    strcmp(s->section, section) == 0) {
			s->refs++;
			return s;
		}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->addr = *ss;
	snprintf(s->section, sizeof(s->section), "%s", section);
	s->refs = 1;
	s->next = t->head;
	t->head = s;
	t->n++;
	return s;
}

void
srctab_put(struct srctab *t, struct src *src)
{
	struct src **pp;

	if (src == NULL || --src->refs > 0)
		return;
	for (pp = &t->head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == src) {
			*pp = src->next;
			break;
		}
	t->n--;
	free(src);
}

size_t
srctab_size(const struct srctab *t)
{
	return t->n;
}
