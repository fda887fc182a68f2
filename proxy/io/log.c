/*
 * Logging: key=value lines on stderr with an RFC 3339 UTC timestamp.
 */
#include "proxy/io/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level log_max = LOG_LEVEL_INFO;

void
log_set_level(enum log_level level)
{
	log_max = level;
}

const char *
log_level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_WARN:
		return "warn";
	case LOG_LEVEL_INFO:
		return "info";
	case LOG_LEVEL_DEBUG:
		return "debug";
	}
	return "unknown";
}

bool
log_debug_enabled(void)
{
	return log_max >= LOG_LEVEL_DEBUG;
}

/*
 * Values in a line often come from peers: SMPP addresses and system_ids,
 * HTTP paths and bodies. A CR, LF or other control byte among them would
 * end the line early and let a peer forge the next one, so each becomes
 * '?'. Bytes from 0x80 up are kept (UTF-8 text).
 */
static void
log_scrub(char *msg)
{
	for (; *msg != '\0'; msg++)
		if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
			*msg = '?';
}

/* Print one line: time level=... message [: strerror]. */
static void
log_vline(enum log_level level, int err, const char *fmt, va_list ap)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[32], msg[1024];

	if (level > log_max)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_scrub(msg);
	if (err != 0)
		fprintf(stderr, "%s.%03ldZ level=%s %s: %s\n", ts,
		    (long)(tv.tv_usec / 1000), log_level_name(level), msg,
		    strerror(err));
	else
		fprintf(stderr, "%s.%03ldZ level=%s %s\n", ts,
		    (long)(tv.tv_usec / 1000), log_level_name(level), msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vline(LOG_LEVEL_WARN, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vline(LOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vline(LOG_LEVEL_INFO, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	if (log_max < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vline(LOG_LEVEL_DEBUG, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vline(LOG_LEVEL_WARN, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vline(LOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* --- per-key line limiter ------------------------------------------------ */

#define LOG_LIMIT_WINDOW_MS	1000u
/* Lines a second per key of a zeroed limiter. */
#define LOG_LIMIT_DEFAULT	10u

void
log_limit_init(struct log_limit *ll, unsigned per_sec)
{
	memset(ll, 0, sizeof(*ll));
	ll->per_sec = per_sec > 0 ? per_sec : 1;
}

/* Write the summary of slot, if anything was suppressed, and empty it. */
static void
log_limit_summary(struct log_limit_slot *sl)
{
	if (sl->suppressed > 0)
		log_warnx("event=log_suppressed key=%s count=%llu", sl->key,
		    (unsigned long long)sl->suppressed);
	sl->suppressed = 0;
	sl->lines = 0;
}

static struct log_limit_slot *
log_limit_slot(struct log_limit *ll, const char *key, uint64_t now_ms)
{
	struct log_limit_slot	*sl, *idle = NULL;
	size_t			 i;

	for (i = 0; i < LOG_LIMIT_SLOTS; i++) {
		sl = &ll->slots[i];
		if (sl->key[0] != '\0' && strncmp(sl->key, key,
		    sizeof(sl->key) - 1) == 0)
			return sl;
		if (idle == NULL || sl->key[0] == '\0' ||
		    (idle->key[0] != '\0' && sl->window_ms < idle->window_ms))
			idle = sl;
	}
	log_limit_summary(idle);
	memset(idle, 0, sizeof(*idle));
	snprintf(idle->key, sizeof(idle->key), "%s", key);
	if (idle->key[0] == '\0')
		snprintf(idle->key, sizeof(idle->key), "-");
	idle->window_ms = now_ms;
	return idle;
}

bool
log_limit_allow(struct log_limit *ll, const char *key, uint64_t now_ms)
{
	struct log_limit_slot	*sl;
	unsigned		 max;

	max = ll->per_sec > 0 ? ll->per_sec : LOG_LIMIT_DEFAULT;
	sl = log_limit_slot(ll, key[0] != '\0' ? key : "-", now_ms);
	if (now_ms - sl->window_ms >= LOG_LIMIT_WINDOW_MS) {
		log_limit_summary(sl);
		sl->window_ms = now_ms;
	}
	if (sl->lines < max) {
		sl->lines++;
		return true;
	}
	sl->suppressed++;
	ll->suppressed_total++;
	return false;
}

void
log_limit_flush(struct log_limit *ll, uint64_t now_ms)
{
	struct log_limit_slot	*sl;
	size_t			 i;

	for (i = 0; i < LOG_LIMIT_SLOTS; i++) {
		sl = &ll->slots[i];
		if (sl->key[0] != '\0' && sl->suppressed > 0 &&
		    now_ms - sl->window_ms >= LOG_LIMIT_WINDOW_MS) {
			log_limit_summary(sl);
			sl->window_ms = now_ms;
		}
	}
}
