/*
 * relay/ctlmerge.c: a master's control answers put together from its
 * workers' (ctlmerge.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/ctlmerge.h"
#include "relay/obuf.h"

/* The next line of @p..@end at *off: its start and length without the
 * newline; false at the end. */
static bool
next_line(const char *p, size_t n, size_t *off, const char **line,
    size_t *len)
{
	const char *nl;

	if (*off >= n)
		return false;
	*line = p + *off;
	if ((nl = memchr(*line, '\n', n - *off)) == NULL) {
		*len = n - *off;
		*off = n;
	} else {
		*len = (size_t)(nl - *line);
		*off += *len + 1;
	}
	return true;
}

/* Room for one more of *n elements of @size in *arr (capacity *cap), at
 * most @max; false when full or out of memory. */
static bool
grow(void *arr, size_t *cap, size_t n, size_t size, size_t max)
{
	void **a = arr;
	size_t c;
	void *p;

	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	c = *cap == 0 ? 16 : *cap * 2;
	if (c > max)
		c = max;
	if ((p = realloc(*a, c * size)) == NULL)
		return false;
	*a = p;
	*cap = c;
	return true;
}

/* --- list ----------------------------------------------------------- */

static void
json_list(struct obuf *o, const struct ctl_part *parts, size_t n, int k,
    const char *key)
{
	bool first = true;

	obuf_printf(o, "%s\"%s\":[", k == 0 ? "" : ",", key);
	for (size_t i = 0; i < n; i++) {
		const char *line = NULL;
		size_t off = 0, len = 0;
		int j;

		if (parts[i].p == NULL)
			continue;
		for (j = 0; j <= k && next_line(parts[i].p, parts[i].n, &off,
		    &line, &len); j++)
			;
		if (j <= k || len == 0)
			continue;
		obuf_printf(o, "%s", first ? "" : ",");
		obuf_append(o, line, len);
		first = false;
	}
	obuf_printf(o, "]");
}

/* A JSON part: exactly three lines, no control octets. */
static bool
json_part_ok(const struct ctl_part *pt)
{
	unsigned lines = 0;

	if (pt->p == NULL)
		return false;
	for (size_t i = 0; i < pt->n; i++) {
		unsigned char c = (unsigned char)pt->p[i];

		if (c == '\n')
			lines++;
		else if (c < 0x20 || c == 0x7f)
			return false;
	}
	return lines == 3 && pt->n > 0 && pt->p[pt->n - 1] == '\n';
}

void
ctlmerge_list(struct obuf *o, const struct ctl_part *parts, size_t n,
    bool json)
{
	static const char *const keys[] = { "streams", "sessions",
	    "connector_sessions" };
	struct ctl_part *ok;

	if (!json) {
		for (size_t i = 0; i < n; i++) {
			obuf_printf(o, "Worker %u (pid %ld)%s\n",
			    parts[i].worker, parts[i].pid,
			    parts[i].p == NULL ? ": no answer" : "");
			if (parts[i].p != NULL)
				obuf_append(o, parts[i].p, parts[i].n);
			if (parts[i].p != NULL && (parts[i].n == 0 ||
			    parts[i].p[parts[i].n - 1] != '\n'))
				obuf_printf(o, "\n");
		}
		return;
	}
	if ((ok = calloc(n > 0 ? n : 1, sizeof(*ok))) == NULL) {
		o->over = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ok[i] = parts[i];
		if (!json_part_ok(&parts[i]))
			ok[i].p = NULL;
	}
	obuf_printf(o, "{");
	for (int k = 0; k < 3; k++)
		json_list(o, ok, n, k, keys[k]);
	obuf_printf(o, ",\"workers\":[");
	for (size_t i = 0; i < n; i++)
		obuf_printf(o, "%s{\"worker\":%u,\"pid\":%ld,\"answered\":%s}",
		    i == 0 ? "" : ",", parts[i].worker, parts[i].pid,
		    ok[i].p != NULL ? "true" : "false");
	obuf_printf(o, "]}\n");
	free(ok);
}

/* --- stats ---------------------------------------------------------- */

struct named {
	char			 name[CTLMERGE_NAME_MAX];
	unsigned long long	 v;
};

static bool
is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':' || (!first && c >= '0' && c <= '9');
}

/* "name  value": false unless exactly that, name and value in bounds. */
static bool
stat_line(const char *line, size_t len, char *name, unsigned long long *v)
{
	size_t i = 0, k;

	while (i < len && i + 1 < CTLMERGE_NAME_MAX &&
	    is_name_char(line[i], i == 0))
		i++;
	if (i == 0 || i >= len || line[i] != ' ')
		return false;
	memcpy(name, line, i);
	name[i] = '\0';
	while (i < len && line[i] == ' ')
		i++;
	if (i == len)
		return false;
	for (*v = 0, k = i; k < len; k++) {
		unsigned d;

		if (line[k] < '0' || line[k] > '9' || k - i >= 20)
			return false;
		d = (unsigned)(line[k] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return false;
		*v = *v * 10 + d;
	}
	return true;
}

static struct named *
named_get(struct named **t, size_t *nt, size_t *cap, const char *name)
{
	for (size_t i = 0; i < *nt; i++)
		if (strcmp((*t)[i].name, name) == 0)
			return &(*t)[i];
	if (!grow(t, cap, *nt, sizeof(**t), CTLMERGE_NAMES_MAX))
		return NULL;
	snprintf((*t)[*nt].name, sizeof((*t)[*nt].name), "%s", name);
	(*t)[*nt].v = 0;
	return &(*t)[(*nt)++];
}

static void
add_sat(unsigned long long *a, unsigned long long b)
{
	*a = *a > UINT64_MAX - b ? UINT64_MAX : *a + b;
}

void
ctlmerge_stats(struct obuf *o, const struct ctl_part *parts, size_t n,
    const struct ctl_stat *extra, size_t nextra, bool json)
{
	struct named *t = NULL;
	size_t nt = 0, cap = 0;
	const char *sep = json ? "{" : "";

	for (size_t i = 0; i < n; i++) {
		const char *line;
		size_t off = 0, len;

		while (parts[i].p != NULL && next_line(parts[i].p, parts[i].n,
		    &off, &line, &len)) {
			char name[CTLMERGE_NAME_MAX];
			unsigned long long v;
			struct named *e;

			if (stat_line(line, len, name, &v) &&
			    (e = named_get(&t, &nt, &cap, name)) != NULL)
				add_sat(&e->v, v);
		}
	}
	for (size_t i = 0; i < nextra; i++) {
		struct named *e = named_get(&t, &nt, &cap, extra[i].name);

		if (e != NULL)
			add_sat(&e->v, extra[i].v);
	}
	for (size_t i = 0; i < nt; i++) {
		if (json)
			obuf_printf(o, "%s\"%s\":%llu", sep, t[i].name, t[i].v);
		else
			obuf_printf(o, "%-24s %llu\n", t[i].name, t[i].v);
		sep = ",";
	}
	if (json)
		obuf_printf(o, "%s}\n", nt == 0 ? "{" : "");
	free(t);
}

/* --- metrics -------------------------------------------------------- */

struct family {
	char		 name[CTLMERGE_NAME_MAX];
	const char	*help, *type;	/* lines, in a worker's answer */
	size_t		 help_len, type_len;
};

struct sample {
	unsigned	 fam;
	unsigned	 part;		/* index in parts */
	size_t		 seq;		/* order of reading */
	const char	*p;
	size_t		 len;
};

/* The metric name at the start of @line (up to '{', ' ' or the end). */
static size_t
metric_name(const char *line, size_t len, char *name)
{
	size_t i = 0;

	while (i < len && i + 1 < CTLMERGE_NAME_MAX &&
	    is_name_char(line[i], i == 0))
		i++;
	if (i == 0 || (i < len && line[i] != '{' && line[i] != ' '))
		return 0;
	memcpy(name, line, i);
	name[i] = '\0';
	return i;
}

/* What the metrics of every worker hold, as read. */
struct mtab {
	struct family	*f;
	size_t		 nf, fcap;
	struct sample	*s;
	size_t		 ns, scap;
};

static int
family_get(struct mtab *m, const char *name)
{
	for (size_t i = 0; i < m->nf; i++)
		if (strcmp(m->f[i].name, name) == 0)
			return (int)i;
	if (!grow(&m->f, &m->fcap, m->nf, sizeof(*m->f), CTLMERGE_NAMES_MAX))
		return -1;
	memset(&m->f[m->nf], 0, sizeof(m->f[m->nf]));
	snprintf(m->f[m->nf].name, sizeof(m->f[m->nf].name), "%s", name);
	return (int)m->nf++;
}

static int
sample_cmp(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->fam != y->fam)
		return x->fam < y->fam ? -1 : 1;
	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One worker's lines: families and samples. */
static void
metrics_scan(const struct ctl_part *pt, unsigned part, struct mtab *m)
{
	const char *line;
	size_t off = 0, len;
	int cur = -1;

	while (next_line(pt->p, pt->n, &off, &line, &len)) {
		char name[CTLMERGE_NAME_MAX];
		struct family *f;
		size_t k;
		bool help;

		if (len > 7 && (memcmp(line, "# HELP ", 7) == 0 ||
		    memcmp(line, "# TYPE ", 7) == 0)) {
			help = line[2] == 'H';
			if (metric_name(line + 7, len - 7, name) == 0 ||
			    (cur = family_get(m, name)) == -1) {
				cur = -1;
				continue;
			}
			f = &m->f[cur];
			if (help && f->help == NULL) {
				f->help = line;
				f->help_len = len;
			} else if (!help && f->type == NULL) {
				f->type = line;
				f->type_len = len;
			}
			continue;
		}
		if (cur == -1 || line[0] == '#' ||
		    (k = metric_name(line, len, name)) == 0 ||
		    strcmp(name, m->f[cur].name) != 0 || k == len ||
		    !grow(&m->s, &m->scap, m->ns, sizeof(*m->s),
		    CTLMERGE_SAMPLES_MAX))
			continue;
		m->s[m->ns].fam = (unsigned)cur;
		m->s[m->ns].part = part;
		m->s[m->ns].seq = m->ns;
		m->s[m->ns].p = line;
		m->s[m->ns].len = len;
		m->ns++;
	}
}

void
ctlmerge_metrics(struct obuf *o, const struct ctl_part *parts, size_t n)
{
	struct mtab m;
	size_t j = 0;

	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < n; i++)
		if (parts[i].p != NULL)
			metrics_scan(&parts[i], (unsigned)i, &m);
	if (m.ns > 0)
		qsort(m.s, m.ns, sizeof(*m.s), sample_cmp);
	for (size_t fi = 0; fi < m.nf; fi++) {
		const struct family *f = &m.f[fi];
		size_t k = strlen(f->name);

		if (f->help != NULL) {
			obuf_append(o, f->help, f->help_len);
			obuf_printf(o, "\n");
		}
		if (f->type != NULL) {
			obuf_append(o, f->type, f->type_len);
			obuf_printf(o, "\n");
		}
		for (; j < m.ns && m.s[j].fam == fi; j++) {
			const struct sample *s = &m.s[j];
			unsigned w = parts[s->part].worker;
			bool brace = s->p[k] == '{';

			obuf_append(o, s->p, k);
			if (brace)
				obuf_printf(o, "{worker=\"%u\"%s", w,
				    k + 1 < s->len && s->p[k + 1] == '}' ?
				    "" : ",");
			else
				obuf_printf(o, "{worker=\"%u\"}", w);
			obuf_append(o, s->p + k + brace, s->len - k - brace);
			obuf_printf(o, "\n");
		}
	}
	free(m.f);
	free(m.s);
}
