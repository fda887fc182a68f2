/*
 * Logging for the daemon: one line per event, key=value, to stderr (or
 * syslog-friendly stderr under a supervisor). Lines are led by the level and,
 * for session events, the session id (callers put "sid=N" first).
 *
 * Never log a bind password. errno is preserved across every call.
 */
#ifndef PROXY_IO_LOG_H
#define PROXY_IO_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Set the most verbose level printed (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level level);
/* Name of a level ("warn", "info", "debug"). */
const char *log_level_name(enum log_level level);

/* Warning with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warning without errno. */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True if debug lines are printed (to skip building expensive ones). */
bool log_debug_enabled(void);

/* Startup failure or broken invariant: log and exit(1). Never for peer
 * input. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif /* PROXY_IO_LOG_H */
