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
