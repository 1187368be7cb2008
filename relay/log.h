/*
 * Logging: stderr in the foreground (-d), syslog otherwise.  Every function
 * preserves errno.  log_warn and fatal append strerror(errno).
 */
#ifndef IKETCP_LOG_H
#define IKETCP_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *ident, bool foreground, enum log_level level);
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool	log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_emit(enum log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);
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
