/*
 * Logging backend.  The level check is first so that debug lines cost one
 * comparison when debug is off.  Peer-caused lines also pass a token
 * bucket, kept in nanoseconds of credit so that a rate of up to 10^9
 * lines per second needs no floating point.
 *
 * A line is written as text (what an operator reads) or, with log-format
 * = kv, as key=value pairs (logfmt: a value with a blank, '"', '=' or a
 * control character is double-quoted, '"' and '\' escaped, controls as
 * \n, \t or \xHH), so that a machine can split it without knowing our
 * sentences.  Both go to stderr in the foreground and to syslog otherwise.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "relay/log.h"

static struct {
	bool		foreground;
	bool		stamps;		/* time in front of stderr lines */
	bool		journal;	/* stderr is systemd's journal */
	enum log_level	level;
	enum log_format	format;
	int		facility;	/* syslog(3) LOG_DAEMON... */
	const char	*ident;		/* for openlog(), NULL before init */
	char		 worker[16];	/* "" or a worker's number */
} lg = { true, true, false, LOG_LEVEL_INFO, LOG_FORMAT_TEXT, LOG_DAEMON,
    NULL, "" };

enum {
	NS_PER_S = 1000000000,
};

static uint64_t	mono_ns(void);

/* The peer-line bucket; credit in ns, a line costs NS_PER_S / rate. */
static struct {
	unsigned	 rate;		/* lines/s; 0 = unlimited */
	uint64_t	 credit;	/* ns, up to LOG_PEER_BURST_S s */
	uint64_t	 last;		/* clock at the last refill, ns */
	bool		 started;	/* last is set */
	unsigned long long suppressed;	/* since the last summary */
	uint64_t	 first;		/* clock at the first of those */
	uint64_t	 (*now)(void);	/* mono_ns, or a test's clock */
} pb = { 0, 0, 0, false, 0, 0, mono_ns };

static const char *const level_names[] = {
	[LOG_LEVEL_ERR] = "err",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* The names syslog(3) facilities have in syslog.conf(5), less "kern",
 * which a process cannot log to. */
static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "auth",	LOG_AUTH },
	{ "authpriv",	LOG_AUTHPRIV },
	{ "cron",	LOG_CRON },
	{ "daemon",	LOG_DAEMON },
	{ "ftp",	LOG_FTP },
	{ "local0",	LOG_LOCAL0 },
	{ "local1",	LOG_LOCAL1 },
	{ "local2",	LOG_LOCAL2 },
	{ "local3",	LOG_LOCAL3 },
	{ "local4",	LOG_LOCAL4 },
	{ "local5",	LOG_LOCAL5 },
	{ "local6",	LOG_LOCAL6 },
	{ "local7",	LOG_LOCAL7 },
	{ "lpr",	LOG_LPR },
	{ "mail",	LOG_MAIL },
	{ "news",	LOG_NEWS },
	{ "syslog",	LOG_SYSLOG },
	{ "user",	LOG_USER },
	{ "uucp",	LOG_UUCP },
};

/*
 * systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connected to the journal; when that is our stderr, lines carry their
 * priority as a "<N>" prefix (sd-daemon(3)) and no timestamp of their own,
 * so that the journal files them at their level, not all at info.
 */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &sb) == -1)
		return false;
	return (unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino;
}

void
log_init(const char *ident, bool foreground, enum log_level level)
{
	lg.foreground = foreground;
	lg.journal = foreground && stderr_is_journal();
	lg.level = level;
	lg.ident = ident;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, lg.facility);
}

void
log_set_worker(int id)
{
	if (id < 0)
		lg.worker[0] = '\0';
	else
		snprintf(lg.worker, sizeof(lg.worker), "%d", id);
}

void
log_set_timestamps(bool on)
{
	lg.stamps = on;
}

void
log_set_format(enum log_format format)
{
	lg.format = format;
}

enum log_format
log_get_format(void)
{
	return lg.format;
}

bool
log_parse_format(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "kv") == 0)
		*out = LOG_FORMAT_KV;
	else
		return false;
	return true;
}

/* Reopens syslog when the facility changes after log_init(). */
void
log_set_facility(int facility)
{
	if (facility == lg.facility)
		return;
	lg.facility = facility;
	if (!lg.foreground && lg.ident != NULL) {
		closelog();
		openlog(lg.ident, LOG_PID | LOG_NDELAY, lg.facility);
	}
}

bool
log_parse_facility(const char *s, int *out)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]);
	    i++)
		if (strcmp(s, facilities[i].name) == 0) {
			*out = facilities[i].facility;
			return true;
		}
	return false;
}

void
log_set_level(enum log_level level)
{
	lg.level = level;
}

enum log_level
log_get_level(void)
{
	return lg.level;
}

bool
log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	if (strcmp(s, "warn") == 0) {
		*out = LOG_LEVEL_WARN;
		return true;
	}
	return false;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

/* logfmt: bare when it can be, else quoted with escapes. */
static size_t
kv_value(char *out, size_t cap, size_t off, const char *v)
{
	bool quote = *v == '\0';

	for (const char *c = v; *c != '\0' && !quote; c++)
		if ((unsigned char)*c <= ' ' || *c == '"' || *c == '=' ||
		    *c == '\\' || *c == 0x7f)
			quote = true;
#define PUT(ch) do { if (off + 1 < cap) out[off++] = (ch); } while (0)
	if (!quote) {
		for (const char *c = v; *c != '\0'; c++)
			PUT(*c);
		out[off < cap ? off : cap - 1] = '\0';
		return off;
	}
	PUT('"');
	for (const unsigned char *c = (const void *)v; *c != '\0'; c++) {
		static const char hex[] = "0123456789abcdef";

		if (*c == '"' || *c == '\\') {
			PUT('\\');
			PUT((char)*c);
		} else if (*c == '\n') {
			PUT('\\');
			PUT('n');
		} else if (*c == '\t') {
			PUT('\\');
			PUT('t');
		} else if (*c < ' ' || *c == 0x7f) {
			PUT('\\');
			PUT('x');
			PUT(hex[*c >> 4]);
			PUT(hex[*c & 15]);
		} else
			PUT((char)*c);
	}
	PUT('"');
#undef PUT
	out[off < cap ? off : cap - 1] = '\0';
	return off;
}

static size_t
kv_pair(char *out, size_t cap, size_t off, const char *key, const char *v)
{
	int n = snprintf(out + off, cap - off, "%s%s=", off ? " " : "", key);

	if (n < 0 || (size_t)n >= cap - off)
		return cap - 1;
	return kv_value(out, cap, off + (size_t)n, v);
}

/*
 * One line: @lvl names the level in kv ("notice" for statistics), @prio
 * is the syslog priority; the text form is "prefix: msg: suffix".
 */
static void
emit(int prio, const char *lvl, const char *prefix,
    const struct log_field *f, size_t nf, const char *msg, const char *suffix)
{
	char kv[LOG_LINE_MAX], full[LOG_LINE_MAX], ts[64];
	const char *pre = prefix ? prefix : "", *sep = prefix ? ": " : "";
	const char *line = full;
	struct timespec now;
	struct tm tm;
	int saved = errno;

	/* A line too long is cut, not refused.  A worker's text lines
	 * say whose they are first. */
	if (lg.worker[0] != '\0' && lg.format == LOG_FORMAT_TEXT) {
		if (snprintf(full, sizeof(full), "worker %s: %s%s%s%s%s",
		    lg.worker, pre, sep, msg, suffix ? ": " : "",
		    suffix ? suffix : "") < 0)
			full[0] = '\0';
		pre = sep = "";
	} else if (snprintf(full, sizeof(full), "%s%s%s", msg,
	    suffix ? ": " : "", suffix ? suffix : "") < 0)
		full[0] = '\0';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	if (lg.format == LOG_FORMAT_KV) {
		size_t off = 0;

		if (snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d."
		    "%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)(now.tv_nsec / 1000000)) < 0)
			ts[0] = '\0';
		off = kv_pair(kv, sizeof(kv), off, "ts", ts);
		off = kv_pair(kv, sizeof(kv), off, "level", lvl);
		off = kv_pair(kv, sizeof(kv), off, "msg", full);
		for (size_t i = 0; i < nf; i++)
			off = kv_pair(kv, sizeof(kv), off, f[i].key,
			    f[i].value);
		if (lg.worker[0] != '\0')
			(void)kv_pair(kv, sizeof(kv), off, "worker",
			    lg.worker);
		line = kv;
		pre = sep = "";
	}
	if (!lg.foreground)
		syslog(prio, "%s%s%s", pre, sep, line);
	else if (lg.journal)
		fprintf(stderr, "<%d>%s%s%s\n", prio, pre, sep, line);
	else if (lg.stamps && lg.format == LOG_FORMAT_TEXT)
		fprintf(stderr, "%02d:%02d:%02d.%03d %s%s%s\n", tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)(now.tv_nsec / 1000000), pre,
		    sep, line);
	else
		fprintf(stderr, "%s%s%s\n", pre, sep, line);
	errno = saved;
}

static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

static void
vlog(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[LOG_LINE_MAX];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(prio[level], level_names[level], NULL, NULL, 0, msg, suffix);
	errno = saved;
}

#define LOG_BODY(lvl, suffix)				\
	do {						\
		va_list ap;				\
		if ((lvl) > lg.level)			\
			return;				\
		va_start(ap, fmt);			\
		vlog((lvl), fmt, ap, (suffix));		\
		va_end(ap);				\
	} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, strerror(errno));
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, NULL);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, NULL);
}

void
log_emit(enum log_level level, const char *fmt, ...)
{
	LOG_BODY(level, NULL);
}

void
log_emit_fields(enum log_level level, const char *prefix,
    const struct log_field *f, size_t nf, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	if (level > lg.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(prio[level], level_names[level], prefix, f, nf, msg, NULL);
}

/* Asked for (SIGUSR1, exit): whatever log-level says. */
void
log_stats(const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(LOG_NOTICE, "notice", NULL, NULL, 0, msg, NULL);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, fmt, ap, strerror(errno));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t
bucket_cap(void)
{
	return (uint64_t)LOG_PEER_BURST_S * NS_PER_S;
}

void
log_set_clock(uint64_t (*now_ns)(void))
{
	pb.now = now_ns != NULL ? now_ns : mono_ns;
	pb.started = false;
}

/* A new rate starts with a full bucket; what was suppressed stays
 * counted. */
void
log_set_rate(unsigned rate)
{
	if (rate == pb.rate && pb.started)
		return;
	pb.rate = rate;
	pb.started = false;
}

static void
refill(uint64_t now)
{
	if (!pb.started) {
		pb.started = true;
		pb.credit = bucket_cap();
	} else if (now > pb.last) {
		uint64_t dt = now - pb.last;

		pb.credit = dt >= bucket_cap() - pb.credit ? bucket_cap() :
		    pb.credit + dt;
	}
	pb.last = now;
}

static void
summary(uint64_t now)
{
	unsigned long long s = (now - pb.first + NS_PER_S - 1) / NS_PER_S;

	log_emit(LOG_LEVEL_WARN, "log: %llu line%s suppressed in the last "
	    "%llu s", pb.suppressed, pb.suppressed == 1 ? "" : "s",
	    s > 0 ? s : 1);
	pb.suppressed = 0;
}

bool
log_peer_allow(enum log_level level)
{
	uint64_t now, cost;

	if (level > lg.level)
		return false;
	if (pb.rate == 0) {
		if (pb.suppressed > 0)
			summary(pb.now());
		return true;
	}
	now = pb.now();
	refill(now);
	cost = NS_PER_S / pb.rate;
	if (pb.credit < cost) {
		if (pb.suppressed++ == 0)
			pb.first = now;
		return false;
	}
	pb.credit -= cost;
	if (pb.suppressed > 0)
		summary(now);
	return true;
}

void
log_peer(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_peer_allow(level))
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap, NULL);
	va_end(ap);
}

bool
log_peer_pending(void)
{
	return pb.suppressed > 0;
}

void
log_peer_flush(void)
{
	uint64_t now;

	if (pb.suppressed == 0)
		return;
	now = pb.now();
	if (now - pb.first >= NS_PER_S)
		summary(now);
}
