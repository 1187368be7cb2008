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
named_get(struct named *t, size_t *nt, const char *name)
{
	for (size_t i = 0; i < *nt; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	if (*nt >= CTLMERGE_NAMES_MAX)
		return NULL;
	snprintf(t[*nt].name, sizeof(t[*nt].name), "%s", name);
	t[*nt].v = 0;
	return &t[(*nt)++];
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
	struct named *t;
	size_t nt = 0;
	const char *sep = json ? "{" : "";

	if ((t = calloc(CTLMERGE_NAMES_MAX, sizeof(*t))) == NULL) {
		o->over = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *line;
		size_t off = 0, len;

		while (parts[i].p != NULL && next_line(parts[i].p, parts[i].n,
		    &off, &line, &len)) {
			char name[CTLMERGE_NAME_MAX];
			unsigned long long v;
			struct named *e;

			if (stat_line(line, len, name, &v) &&
			    (e = named_get(t, &nt, name)) != NULL)
				add_sat(&e->v, v);
		}
	}
	for (size_t i = 0; i < nextra; i++) {
		struct named *e = named_get(t, &nt, extra[i].name);

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

static int
family_get(struct family *f, size_t *nf, const char *name)
{
	for (size_t i = 0; i < *nf; i++)
		if (strcmp(f[i].name, name) == 0)
			return (int)i;
	if (*nf >= CTLMERGE_NAMES_MAX)
		return -1;
	memset(&f[*nf], 0, sizeof(f[*nf]));
	snprintf(f[*nf].name, sizeof(f[*nf].name), "%s", name);
	return (int)(*nf)++;
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
metrics_scan(const struct ctl_part *pt, unsigned part, struct family *f,
    size_t *nf, struct sample *s, size_t *ns)
{
	const char *line;
	size_t off = 0, len;
	int cur = -1;

	while (next_line(pt->p, pt->n, &off, &line, &len)) {
		char name[CTLMERGE_NAME_MAX];
		size_t k;
		bool help;

		if (len > 7 && (memcmp(line, "# HELP ", 7) == 0 ||
		    memcmp(line, "# TYPE ", 7) == 0)) {
			help = line[2] == 'H';
			if ((k = metric_name(line + 7, len - 7, name)) == 0 ||
			    (cur = family_get(f, nf, name)) == -1) {
				cur = -1;
				continue;
			}
			if (help && f[cur].help == NULL) {
				f[cur].help = line;
				f[cur].help_len = len;
			} else if (!help && f[cur].type == NULL) {
				f[cur].type = line;
				f[cur].type_len = len;
			}
			continue;
		}
		if (cur == -1 || line[0] == '#' || *ns >= CTLMERGE_SAMPLES_MAX ||
		    (k = metric_name(line, len, name)) == 0 ||
		    strcmp(name, f[cur].name) != 0 || k == len)
			continue;
		s[*ns].fam = (unsigned)cur;
		s[*ns].part = part;
		s[*ns].seq = *ns;
		s[*ns].p = line;
		s[*ns].len = len;
		(*ns)++;
	}
}

void
ctlmerge_metrics(struct obuf *o, const struct ctl_part *parts, size_t n)
{
	struct family *f;
	struct sample *s;
	size_t nf = 0, ns = 0, j = 0;

	f = calloc(CTLMERGE_NAMES_MAX, sizeof(*f));
	s = calloc(CTLMERGE_SAMPLES_MAX, sizeof(*s));
	if (f == NULL || s == NULL) {
		free(f);
		free(s);
		o->over = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (parts[i].p != NULL)
			metrics_scan(&parts[i], (unsigned)i, f, &nf, s, &ns);
	qsort(s, ns, sizeof(*s), sample_cmp);
	for (size_t fi = 0; fi < nf; fi++) {
		if (f[fi].help != NULL) {
			obuf_append(o, f[fi].help, f[fi].help_len);
			obuf_printf(o, "\n");
		}
		if (f[fi].type != NULL) {
			obuf_append(o, f[fi].type, f[fi].type_len);
			obuf_printf(o, "\n");
		}
		for (; j < ns && s[j].fam == fi; j++) {
			size_t k = strlen(f[fi].name);
			unsigned w = parts[s[j].part].worker;

			obuf_append(o, s[j].p, k);
			if (s[j].p[k] == '{')
				obuf_printf(o, "{worker=\"%u\"%s", w,
				    k + 1 < s[j].len && s[j].p[k + 1] == '}' ?
				    "" : ",");
			else
				obuf_printf(o, "{worker=\"%u\"}", w);
			obuf_append(o, s[j].p + k + (s[j].p[k] == '{'),
			    s[j].len - k - (s[j].p[k] == '{'));
			obuf_printf(o, "\n");
		}
	}
	free(f);
	free(s);
}
