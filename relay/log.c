/*
 * Logging backend.  The level check is first so that debug lines cost one
 * comparison when debug is off.  Peer-caused lines also pass a token
 * bucket, kept in nanoseconds of credit so that a rate of up to 10^9
 * lines per second needs no floating point.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "relay/log.h"

static struct {
	bool		foreground;
	enum log_level	level;
} lg = { true, LOG_LEVEL_INFO };

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

void
log_init(const char *ident, bool foreground, enum log_level level)
{
	lg.foreground = foreground;
	lg.level = level;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
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

static void
vlog(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[2048];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (lg.foreground) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s%s%s\n", tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, msg,
		    suffix ? ": " : "", suffix ? suffix : "");
	} else
		syslog(prio[level], "%s%s%s", msg, suffix ? ": " : "",
		    suffix ? suffix : "");
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
