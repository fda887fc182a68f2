/*
 * RFC 3339 UTC times: gmtime_r to print, a strict parser (no locale, no
 * strptime) to read.
 */
#include "proxy/compliance/rfc3339.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

const char *
rfc3339_format(int64_t t, char *buf, size_t cap)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)t);
	return buf;
}

/* Read exactly n digits at *p into *v. */
static bool
rfc3339_digits(const char **p, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
rfc3339_days(int y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" at *p, a real day of the calendar. */
static bool
rfc3339_date(const char **p, int *y, int *mo, int *d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (!rfc3339_digits(p, 4, y) || *(*p)++ != '-' ||
	    !rfc3339_digits(p, 2, mo) || *(*p)++ != '-' ||
	    !rfc3339_digits(p, 2, d))
		return false;
	if (*mo < 1 || *mo > 12 || *d < 1 || *d > mdays[*mo - 1])
		return false;
	if (*mo == 2 && *d == 29 && !(*y % 4 == 0 && (*y % 100 != 0 ||
	    *y % 400 == 0)))
		return false;
	return true;
}

/* The zone after the seconds: "Z" (0) or "+hh:mm" / "-hh:mm" as seconds
 * east of UTC in *off. */
static bool
rfc3339_zone(const char **p, int *off)
{
	int	 sign, oh, om;

	*off = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return true;
	}
	if (**p != '+' && **p != '-')
		return false;
	sign = *(*p)++ == '+' ? 1 : -1;
	if (!rfc3339_digits(p, 2, &oh) || *(*p)++ != ':' ||
	    !rfc3339_digits(p, 2, &om) || oh > 23 || om > 59)
		return false;
	*off = sign * (oh * 3600 + om * 60);
	return true;
}

int
rfc3339_parse(const char *s, int64_t *out)
{
	const char	*p = s;
	int		 y, mo, d, h = 0, mi = 0, se = 0, off = 0;

	if (!rfc3339_date(&p, &y, &mo, &d))
		return -1;
	if (*p == '\0')
		goto done;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (!rfc3339_digits(&p, 2, &h) || *p++ != ':' ||
	    !rfc3339_digits(&p, 2, &mi) || *p++ != ':' ||
	    !rfc3339_digits(&p, 2, &se))
		return -1;
	if (h > 23 || mi > 59 || se > 60)
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (!rfc3339_zone(&p, &off) || *p != '\0')
		return -1;
done:
	*out = rfc3339_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	return 0;
}
