/*
 * Logging: stderr in the foreground (-d), syslog otherwise.  Every function
 * preserves errno.  log_warn and fatal append strerror(errno).  Lines are
 * text, or key=value pairs (log-format = kv): ts, level, msg and the
 * fields a caller gives (stream, client, lport).
 */
#ifndef IKETCP_LOG_H
#define IKETCP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_format {
	LOG_FORMAT_TEXT,	/* sentences, time in front on stderr */
	LOG_FORMAT_KV,		/* ts=... level=... msg="..." k=v */
};

enum {
	LOG_LINE_MAX = 2048,	/* one formatted line, NUL included */
};

/* One key=value of a line in kv form; @value is quoted as needed. */
struct log_field {
	const char	*key;
	const char	*value;
};

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Opens syslog with the facility set so far (LOG_DAEMON by default)
 * unless @foreground. */
void	log_init(const char *ident, bool foreground, enum log_level level);
/* stderr lines in text form start with the time (hh:mm:ss.mmm UTC)
 * unless turned off: iketcpd -t prints bare "file:line: message". */
void	log_set_timestamps(bool on);
/* A worker's lines name it: "worker N: " in front in text, worker=N in
 * kv; -1 (a single process, the master): nothing. */
void	log_set_worker(int id);
void	log_set_format(enum log_format format);
enum log_format log_get_format(void);
bool	log_parse_format(const char *s, enum log_format *out);
/* A syslog(3) facility; reopens syslog if it is open and it changed. */
void	log_set_facility(int facility);
/* "daemon", "local0".."local7", "user"...: syslog.conf(5) names. */
bool	log_parse_facility(const char *s, int *out);
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool	log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_emit(enum log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);
/* A line about one object: text form "prefix: msg", kv form the @nf
 * fields after msg.  At @level, not rate-limited. */
void	log_emit_fields(enum log_level level, const char *prefix,
	    const struct log_field *f, size_t nf, const char *fmt, ...)
	    LOG_PRINTF(5, 6);
/* Statistics someone asked for (SIGUSR1, exit): written whatever the
 * log level is, at syslog priority notice ("level=notice" in kv). */
void	log_stats(const char *fmt, ...) LOG_PRINTF(1, 2);
_Noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
_Noreturn void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

/*
 * Lines a remote peer can cause (a refused stream, a bad frame, an accept
 * error) share one process-wide token bucket: @rate lines per second with
 * a burst of LOG_PEER_BURST_S seconds' worth; 0 is unlimited ([global]
 * log-rate).  What the bucket refuses is counted, and the next line let
 * through, or log_peer_flush(), first logs
 *   "log: N lines suppressed in the last S s".
 */
enum {
	LOG_PEER_BURST_S = 3,		/* bucket depth, seconds of rate */
};

void	log_set_rate(unsigned rate);
/* May a peer-caused line at @level be logged now?  Takes a token when it
 * may; false (and not counted) when @level is not logged at all. */
bool	log_peer_allow(enum log_level level);
/* log_emit() through log_peer_allow(). */
void	log_peer(enum log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);
/* Logs the suppressed count now if lines were suppressed at least a
 * second ago and no line has said so since; for a periodic timer. */
void	log_peer_flush(void);
/* Lines were suppressed and their count is not logged yet. */
bool	log_peer_pending(void);
/* Tests: the monotonic clock in ns; NULL restores CLOCK_MONOTONIC. */
void	log_set_clock(uint64_t (*now_ns)(void));

#endif /* IKETCP_LOG_H */
