/*
 * The integrated role's secrets file, in ipsec.secrets form:
 *
 *	ID [ID ...] : PSK "secret"	quoted: any bytes but '"' and controls
 *	ID [ID ...] : PSK 0x6b6579	hex: an even number of digits
 *	user [user ...] : EAP "password"	an EAP user (same secret forms)
 *
 * An ID is a word, or a quoted string for one with blanks (a DN).  The
 * ':' stands alone between blanks, so an IPv6 address is an ID like any
 * other.  '#' starts a comment at the start of a line or after the secret.
 *
 * Every line is checked and every bad one reported; any error refuses the
 * file.  Secrets are never logged, and are wiped wherever a copy dies.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf/conf.h"
#include "conf/secrets.h"
#include "relay/log.h"

struct secret {
	enum secrets_kind kind;
	char		 id[SECRETS_ID_MAX + 1];	/* NUL-terminated */
	uint8_t		 psk[SECRETS_PSK_MAX];
	size_t		 psk_len;			/* bytes */
	unsigned	 line;				/* for duplicates */
};

struct secrets {
	struct secret	*v;
	size_t		 n;
	size_t		 cap;
};

/* One line being parsed. */
struct cursor {
	const char	*s;		/* next character */
	const char	*end;		/* end of the line */
};

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
skip_blank(struct cursor *c)
{
	while (c->s < c->end && is_blank(*c->s))
		c->s++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
bad(const char *name, unsigned line, const char *fmt, ...)
    LOG_PRINTF(3, 4);

static void
bad(const char *name, unsigned line, const char *fmt, ...)
{
	char msg[SECRETS_ID_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%u: %s", name, line, msg);
}

/* A word, or "a quoted string"; false with @why. */
static bool
word(struct cursor *c, const char **w, size_t *len, bool *quoted,
    const char **why)
{
	const char *q;

	*quoted = c->s < c->end && *c->s == '"';
	if (*quoted) {
		c->s++;
		if ((q = memchr(c->s, '"', (size_t)(c->end - c->s))) == NULL) {
			*why = "unterminated quote";
			return false;
		}
		*w = c->s;
		*len = (size_t)(q - c->s);
		c->s = q + 1;
		if (c->s < c->end && !is_blank(*c->s)) {
			*why = "text right after a closing quote";
			return false;
		}
		return true;
	}
	*w = c->s;
	while (c->s < c->end && !is_blank(*c->s))
		c->s++;
	*len = (size_t)(c->s - *w);
	return true;
}

/* Append @id with @psk; false with @why (out of memory). */
static bool
add(struct secrets *s, enum secrets_kind kind, const char *id, size_t idlen,
    const uint8_t *psk, size_t psk_len, unsigned line, const char **why)
{
	struct secret *e, *v;

	if (s->n == s->cap) {
		/* Grown by hand, so that the old copy can be wiped. */
		size_t ncap = s->cap ? s->cap * 2 : 8;

		if ((v = calloc(ncap, sizeof(*v))) == NULL) {
			*why = "out of memory";
			return false;
		}
		if (s->n > 0)
			memcpy(v, s->v, s->n * sizeof(*v));
		if (s->v != NULL)
			OPENSSL_cleanse(s->v, s->cap * sizeof(*s->v));
		free(s->v);
		s->v = v;
		s->cap = ncap;
	}
	e = &s->v[s->n++];
	e->kind = kind;
	memcpy(e->id, id, idlen);
	e->id[idlen] = '\0';
	memcpy(e->psk, psk, psk_len);
	e->psk_len = psk_len;
	e->line = line;
	return true;
}

static const struct secret *
find(const struct secrets *s, enum secrets_kind kind, const char *id,
    size_t idlen)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind == kind && strlen(s->v[i].id) == idlen &&
		    memcmp(s->v[i].id, id, idlen) == 0)
			return &s->v[i];
	return NULL;
}

/* The secret after "PSK" or "EAP" into @psk; false with @why. */
static bool
secret(struct cursor *c, uint8_t psk[static SECRETS_PSK_MAX], size_t *len,
    const char **why)
{
	const char *w;
	size_t wlen;
	bool quoted;

	if (c->s == c->end || *c->s == '#') {
		*why = "missing secret after PSK or EAP";
		return false;
	}
	if (*c->s != '"' && !(c->end - c->s >= 2 && c->s[0] == '0' &&
	    (c->s[1] == 'x' || c->s[1] == 'X'))) {
		*why = "want a quoted secret or 0x and hex digits";
		return false;
	}
	if (!word(c, &w, &wlen, &quoted, why))
		return false;
	if (quoted) {
		if (wlen == 0) {
			*why = "empty secret";
			return false;
		}
		if (wlen > SECRETS_PSK_MAX) {
			*why = "secret longer than 256 bytes";
			return false;
		}
		memcpy(psk, w, wlen);
		*len = wlen;
		return true;
	}
	w += 2;
	wlen -= 2;
	if (wlen == 0 || wlen % 2 != 0) {
		*why = "bad hex secret: want an even number of hex digits";
		return false;
	}
	if (wlen / 2 > SECRETS_PSK_MAX) {
		*why = "secret longer than 256 bytes";
		return false;
	}
	for (size_t i = 0; i < wlen; i += 2) {
		int hi = hexval(w[i]), lo = hexval(w[i + 1]);

		if (hi < 0 || lo < 0) {
			*why = "bad hex secret: want an even number of hex "
			    "digits";
			return false;
		}
		psk[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = wlen / 2;
	return true;
}

/*
 * One line of @len bytes, already known not to be blank or a comment.
 * Each message names the line; returns false after one.
 */
static bool
parse_line(struct secrets *s, const char *name, unsigned line,
    const char *text, size_t len)
{
	struct cursor c = { text, text + len };
	uint8_t psk[SECRETS_PSK_MAX];
	struct {
		const char	*p;
		size_t		 len;
	} ids[16];
	const struct secret *dup;
	const char *w, *why = NULL;
	size_t wlen, nids = 0, psk_len = 0;
	enum secrets_kind kind;
	bool quoted, ok = false;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)text[i] < ' ' && text[i] != '\t') ||
		    text[i] == 0x7f) {
			why = text[i] == '\0' ? "NUL byte" :
			    "control character";
			goto out;
		}
	for (;;) {
		skip_blank(&c);
		if (c.s == c.end) {
			why = "missing ':' between identities and secret "
			    "(the ':' stands alone between blanks)";
			goto out;
		}
		if (!word(&c, &w, &wlen, &quoted, &why))
			goto out;
		if (!quoted && wlen == 1 && *w == ':')
			break;
		if (wlen == 0) {
			why = "empty identity";
			goto out;
		}
		if (wlen > SECRETS_ID_MAX) {
			why = "identity longer than 255 bytes";
			goto out;
		}
		if (nids == sizeof(ids) / sizeof(ids[0])) {
			why = "more than 16 identities on one line";
			goto out;
		}
		ids[nids].p = w;
		ids[nids++].len = wlen;
	}
	if (nids == 0) {
		why = "no identity before ':'";
		goto out;
	}
	skip_blank(&c);
	w = c.s;
	while (c.s < c.end && !is_blank(*c.s))
		c.s++;
	wlen = (size_t)(c.s - w);
	if (wlen == 3 && memcmp(w, "PSK", 3) == 0)
		kind = SECRETS_PSK;
	else if (wlen == 3 && memcmp(w, "EAP", 3) == 0)
		kind = SECRETS_EAP;
	else {
		if (wlen == 0)
			why = "missing PSK or EAP after ':'";
		else if (wlen == 5 && memcmp(w, "XAUTH", 5) == 0)
			why = "XAUTH is IKEv1 and not supported: write the "
			    "user's password as EAP \"...\"";
		else
			bad(name, line, "unsupported secret type \"%.*s\": "
			    "want PSK or EAP", (int)(wlen > 32 ? 32 : wlen), w);
		goto out;
	}
	skip_blank(&c);
	if (!secret(&c, psk, &psk_len, &why))
		goto out;
	skip_blank(&c);
	if (c.s != c.end && *c.s != '#') {
		why = "text after the secret";
		goto out;
	}
	for (size_t i = 0; i < nids; i++) {
		/* Within the line too: "a a : PSK" is a typo. */
		if ((dup = find(s, kind, ids[i].p, ids[i].len)) != NULL) {
			bad(name, line, "duplicate identity \"%.*s\", first at "
			    "line %u", (int)ids[i].len, ids[i].p, dup->line);
			goto out;
		}
		if (!add(s, kind, ids[i].p, ids[i].len, psk, psk_len, line,
		    &why))
			goto out;
	}
	ok = true;
out:
	if (why != NULL)
		bad(name, line, "%s", why);
	OPENSSL_cleanse(psk, sizeof(psk));
	return ok;
}

struct secrets *
secrets_parse(const char *name, const char *text, size_t len)
{
	struct secrets *s;
	const char *p = text, *end = text + len;
	unsigned line = 0;
	bool fail = false;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("%s", name);
		return NULL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		size_t k = 0;

		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		while (k < n && is_blank(p[k]))
			k++;
		if (k < n && p[k] != '#' &&
		    !parse_line(s, name, line, p + k, n - k))
			fail = true;
		p = nl != NULL ? nl + 1 : end;
	}
	if (!fail && s->n == 0) {
		log_warnx("%s: no secrets", name);
		fail = true;
	}
	if (fail) {
		secrets_free(s);
		return NULL;
	}
	return s;
}

struct secrets *
secrets_load(const char *path)
{
	struct secrets *s;
	unsigned char *buf;
	size_t len;

	if (conf_read_private(path, SECRETS_FILE_MAX, &buf, &len) == -1)
		return NULL;
	s = secrets_parse(path, (const char *)buf, len);
	OPENSSL_clear_free(buf, len + 1);
	return s;
}

void
secrets_free(struct secrets *s)
{
	if (s == NULL)
		return;
	if (s->v != NULL)
		OPENSSL_cleanse(s->v, s->cap * sizeof(*s->v));
	free(s->v);
	free(s);
}

size_t
secrets_count(const struct secrets *s)
{
	return s == NULL ? 0 : s->n;
}

const uint8_t *
secrets_psk(const struct secrets *s, const char *id, size_t *len)
{
	const struct secret *e;

	if (s == NULL || (e = find(s, SECRETS_PSK, id, strlen(id))) == NULL)
		return NULL;
	*len = e->psk_len;
	return e->psk;
}

const uint8_t *
secrets_eap(const struct secrets *s, const char *user, size_t *len)
{
	const struct secret *e;

	if (s == NULL || (e = find(s, SECRETS_EAP, user, strlen(user))) ==
	    NULL)
		return NULL;
	*len = e->psk_len;
	return e->psk;
}

size_t
secrets_count_kind(const struct secrets *s, enum secrets_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; s != NULL && i < s->n; i++)
		n += s->v[i].kind == kind;
	return n;
}
