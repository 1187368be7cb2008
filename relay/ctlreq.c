/*
 * relay/ctlreq.c: the control socket's request line (ctlreq.h).  Validate,
 * then decode: the whole line is checked for length and characters before
 * a word is looked at; commands are in one sorted table (bsearch).
 */
#include <stdlib.h>
#include <string.h>

#include "relay/ctlreq.h"

struct cmddef {
	const char	*name;
	enum ctl_cmd	 cmd;
	bool		 takes_id;
	bool		 takes_json;
};

/* Sorted by strcmp(): looked up with bsearch(). */
static const struct cmddef cmds[] = {
	{ "list",	CTL_LIST,	false,	true },
	{ "metrics",	CTL_METRICS,	false,	false },
	{ "reload",	CTL_RELOAD,	false,	true },
	{ "stats",	CTL_STATS,	false,	true },
	{ "terminate",	CTL_TERMINATE,	true,	true },
};

enum {
	ID_DIGITS_MAX = 20,	/* ULLONG_MAX has 20 */
	WORD_MAX = 32,		/* octets of one word, NUL included */
};

static int
cmdcmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cmddef *)elem)->name);
}

const char *
ctlreq_cmd_name(enum ctl_cmd cmd)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].cmd == cmd)
			return cmds[i].name;
	return "?";
}

/* A session id: decimal, 1 to ULLONG_MAX, no sign, no leading zero. */
static bool
parse_id(const char *w, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t len = strlen(w);

	if (len == 0 || len > ID_DIGITS_MAX || w[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (w[i] < '0' || w[i] > '9')
			return false;
		d = (unsigned)(w[i] - '0');
		if (v > (~0ULL - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

enum ctl_parse
ctlreq_parse(const uint8_t *p, size_t n, struct ctl_req *req,
    const char **err)
{
	char words[CTL_REQ_WORDS][WORD_MAX];
	const struct cmddef *d;
	size_t len, nw = 0, wl = 0, i;
	const uint8_t *nl;
	bool json = false, have_id = false;
	unsigned long long id = 0;

	nl = memchr(p, '\n', n < CTL_REQ_MAX ? n : CTL_REQ_MAX);
	if (nl == NULL) {
		if (n < CTL_REQ_MAX)
			return CTL_NEED_MORE;
		*err = "request longer than 256 octets";
		return CTL_ERROR;
	}
	len = (size_t)(nl - p);
	if (len > 0 && p[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e) {
			*err = "request holds a byte that is not printable "
			    "ASCII";
			return CTL_ERROR;
		}
	for (i = 0; i <= len; i++) {
		if (i == len || p[i] == ' ') {
			if (wl == 0)
				continue;
			words[nw++][wl] = '\0';
			wl = 0;
			continue;
		}
		if (wl == 0 && nw == CTL_REQ_WORDS) {
			*err = "too many words";
			return CTL_ERROR;
		}
		if (wl == WORD_MAX - 1) {
			*err = "word too long";
			return CTL_ERROR;
		}
		words[nw][wl++] = (char)p[i];
	}
	if (nw == 0) {
		*err = "empty request";
		return CTL_ERROR;
	}
	d = bsearch(words[0], cmds, sizeof(cmds) / sizeof(cmds[0]),
	    sizeof(cmds[0]), cmdcmp);
	if (d == NULL) {
		*err = "unknown command (want list, stats, metrics, "
		    "terminate or reload)";
		return CTL_ERROR;
	}
	for (i = 1; i < nw; i++) {
		if (strcmp(words[i], "--json") == 0 && d->takes_json &&
		    !json)
			json = true;
		else if (d->takes_id && !have_id && words[i][0] != '-') {
			if (!parse_id(words[i], &id)) {
				*err = "bad ID: want a session number";
				return CTL_ERROR;
			}
			have_id = true;
		} else {
			*err = "unexpected argument";
			return CTL_ERROR;
		}
	}
	if (d->takes_id && !have_id) {
		*err = "missing ID";
		return CTL_ERROR;
	}
	req->cmd = d->cmd;
	req->json = json;
	req->id = id;
	return CTL_OK;
}
