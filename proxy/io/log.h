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
#include <stdint.h>

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

/*
 * A limiter for lines a peer can cause at will (garbage PDUs, connections
 * opened and dropped): at most per_sec lines a second per key (a source
 * address), the rest counted and summarised in one
 * "event=log_suppressed key=K count=N" line once their second is over.
 * A fixed table: a new key takes the slot idle longest (its pending
 * summary is written first). A zeroed one allows 10 lines a second per
 * key. Not thread-safe: one event loop.
 */
#define LOG_LIMIT_SLOTS		64
#define LOG_LIMIT_KEY_LEN	64

struct log_limit_slot {
	char		 key[LOG_LIMIT_KEY_LEN];
	uint64_t	 window_ms;	/* start of the current second */
	unsigned	 lines;		/* written in it */
	uint64_t	 suppressed;	/* not written, not yet summarised */
};

struct log_limit {
	unsigned		 per_sec;
	uint64_t		 suppressed_total;
	struct log_limit_slot	 slots[LOG_LIMIT_SLOTS];
};

/* Empty the table; per_sec lines a second per key (at least 1). */
void	log_limit_init(struct log_limit *ll, unsigned per_sec);

/*
 * May a line about key (borrowed; truncated to LOG_LIMIT_KEY_LEN - 1) be
 * written at now_ms (a monotonic clock)? false counts it as suppressed.
 * A second that ended with lines suppressed is summarised first.
 */
bool	log_limit_allow(struct log_limit *ll, const char *key,
	    uint64_t now_ms);

/* Write the summaries of every key whose second is over (call about
 * once a second so a flood that stopped is still summarised). */
void	log_limit_flush(struct log_limit *ll, uint64_t now_ms);

#endif /* PROXY_IO_LOG_H */
