/*
 * Logging: stderr in the foreground (-d), syslog otherwise.  Every function
 * preserves errno.  log_warn and fatal append strerror(errno).
 */
#ifndef IKETCP_LOG_H
#define IKETCP_LOG_H

#include <stdbool.h>

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

#endif /* IKETCP_LOG_H */
