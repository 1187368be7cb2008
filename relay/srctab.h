/* TEMPORARY stand-in for the budgets branch's srctab (replaced on merge). */
#ifndef IKETCP_SRCTAB_H
#define IKETCP_SRCTAB_H

#include <sys/socket.h>

#include <stddef.h>

struct src {
	struct src	*next;
	struct sockaddr_storage addr;
	char		 section[64];
	unsigned	 refs;
	unsigned	 streams;
	unsigned	 sessions;
};

struct srctab {
	struct src	*head;
	size_t		 n;
};

void	srctab_init(struct srctab *t);
void	srctab_cleanup(struct srctab *t);
struct src *srctab_get(struct srctab *t, const struct sockaddr_storage *ss,
	    const char *section);
void	srctab_put(struct srctab *t, struct src *src);
size_t	srctab_size(const struct srctab *t);

#endif
