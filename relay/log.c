/*
 * Logging backend.  The level check is first so that debug lines cost one
 * comparison when debug is off.
 */
#include <errno.h>
#include <stdarg.h>
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
