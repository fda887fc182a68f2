/*
 * Quiet hours: per-zone UTC offset tables sampled from the C library's
 * tzdata, and the window test. See quiet.h for why it is done this way.
 */
#include "proxy/policy/quiet.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"

#define QUIET_STEP_S	3600	/* sampling step */
#define QUIET_DAY_S	86400

/* From utc on (until the next one), the offset is off. */
struct quiet_trans {
	int64_t		 utc;
	int32_t		 off;
};

struct quiet_zone {
	char		 name[CONFIG_ZONE_MAX];
	struct quiet_trans *t;		/* owned; sorted by utc */
	size_t		 n;
};

struct quiet_zones {
	struct quiet_zone *z;		/* owned */
	size_t		 n;
};

/* TZ is process-wide: one builder at a time. */
static pthread_mutex_t	 quiet_tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* UTC offset at t under the current TZ (tzset() called). */
static int32_t
offset_at(int64_t t)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return (int32_t)tm.tm_gmtoff;
}

/* Sample the current TZ over [from, to] into z. Returns 0 or -1. */
static int
zone_sample(struct quiet_zone *z, int64_t from, int64_t to)
{
	struct quiet_trans	*nt;
	size_t			 cap = 16;
	int64_t			 t, lo, hi, mid;
	int32_t			 prev, cur;

	if ((z->t = malloc(cap * sizeof(*z->t))) == NULL)
		return -1;
	prev = offset_at(from);
	z->t[0].utc = from;
	z->t[0].off = prev;
	z->n = 1;
	for (t = from + QUIET_STEP_S; t <= to + QUIET_STEP_S;
	    t += QUIET_STEP_S) {
		if ((cur = offset_at(t)) == prev)
			continue;
		/* The change is in (t - step, t]: find its second. */
		lo = t - QUIET_STEP_S;
		hi = t;
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (offset_at(mid) == prev)
				lo = mid;
			else
				hi = mid;
		}
		if (z->n == cap) {
			cap *= 2;
			if ((nt = realloc(z->t, cap * sizeof(*nt))) == NULL)
				return -1;
			z->t = nt;
		}
		z->t[z->n].utc = hi;
		z->t[z->n].off = cur;
		z->n++;
		prev = cur;
	}
	return 0;
}

/*
 * Sample each of the n zone names into zs->z under the TZ lock, the
 * process's TZ restored after. Returns 0 or -1.
 */
static int
zones_sample(struct quiet_zones *zs, int64_t now)
{
	char	*saved = NULL;
	const char *old;
	size_t	 i;
	int	 rc = 0;

	pthread_mutex_lock(&quiet_tz_lock);
	if ((old = getenv("TZ")) != NULL && (saved = strdup(old)) == NULL) {
		pthread_mutex_unlock(&quiet_tz_lock);
		return -1;
	}
	for (i = 0; i < zs->n && rc == 0; i++) {
		if (setenv("TZ", zs->z[i].name, 1) != 0) {
			rc = -1;
			break;
		}
		tzset();
		rc = zone_sample(&zs->z[i], now - QUIET_WINDOW_BACK_S,
		    now + QUIET_WINDOW_AHEAD_S);
	}
	if (saved != NULL)
		(void)setenv("TZ", saved, 1);
	else
		(void)unsetenv("TZ");
	tzset();
	pthread_mutex_unlock(&quiet_tz_lock);
	free(saved);
	return rc;
}

/* Add name to zs unless there. Returns 0 or -1. */
static int
zones_add(struct quiet_zones *zs, const char *name, size_t cap)
{
	size_t	 i;

	for (i = 0; i < zs->n; i++)
		if (strcmp(zs->z[i].name, name) == 0)
			return 0;
	if (zs->n == cap || strlen(name) >= CONFIG_ZONE_MAX)
		return -1;
	memcpy(zs->z[zs->n].name, name, strlen(name) + 1);
	zs->n++;
	return 0;
}

static struct quiet_zones *
zones_alloc(size_t cap)
{
	struct quiet_zones	*zs;

	if ((zs = calloc(1, sizeof(*zs))) == NULL)
		return NULL;
	if (cap > 0 && (zs->z = calloc(cap, sizeof(*zs->z))) == NULL) {
		free(zs);
		return NULL;
	}
	return zs;
}

struct quiet_zones *
quiet_zones_build(const struct config *cfg, int64_t now, char *err,
    size_t errlen)
{
	const struct config_prefs	*p = &cfg->prefs;
	struct quiet_zones		*zs;
	size_t				 i, cap = 1 + p->ntz_prefixes;

	if ((zs = zones_alloc(cap)) == NULL)
		goto nomem;
	if (p->has_timezones && p->tz_default[0] != '\0' &&
	    zones_add(zs, p->tz_default, cap) == -1)
		goto nomem;
	for (i = 0; i < p->ntz_prefixes; i++)
		if (zones_add(zs, p->tz_prefixes[i].zone, cap) == -1)
			goto nomem;
	if (zones_sample(zs, now) == -1)
		goto nomem;
	return zs;

nomem:
	snprintf(err, errlen, "out of memory building time zone tables");
	quiet_zones_free(zs);
	return NULL;
}

struct quiet_zones *
quiet_zones_build_one(const char *zone, int64_t now)
{
	struct quiet_zones	*zs;

	if ((zs = zones_alloc(1)) == NULL)
		return NULL;
	if (zones_add(zs, zone, 1) == -1 || zones_sample(zs, now) == -1) {
		quiet_zones_free(zs);
		return NULL;
	}
	return zs;
}

void
quiet_zones_free(struct quiet_zones *z)
{
	size_t	 i;

	if (z == NULL)
		return;
	for (i = 0; i < z->n; i++)
		free(z->z[i].t);
	free(z->z);
	free(z);
}

size_t
quiet_zones_count(const struct quiet_zones *z, size_t *ntrans)
{
	size_t	 i;

	*ntrans = 0;
	if (z == NULL)
		return 0;
	for (i = 0; i < z->n; i++)
		*ntrans += z->z[i].n > 0 ? z->z[i].n - 1 : 0;
	return z->n;
}

int
quiet_offset(const struct quiet_zones *z, const char *zone, int64_t t,
    int32_t *off)
{
	const struct quiet_zone	*q = NULL;
	size_t			 i, lo, hi, mid;

	for (i = 0; z != NULL && i < z->n; i++)
		if (strcmp(z->z[i].name, zone) == 0) {
			q = &z->z[i];
			break;
		}
	if (q == NULL || q->n == 0)
		return -1;
	/* The last transition at or before t (the first before the table). */
	lo = 0;
	hi = q->n;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (q->t[mid].utc <= t)
			lo = mid;
		else
			hi = mid;
	}
	*off = q->t[lo].off;
	return 0;
}

bool
quiet_minute_inside(const struct config_quiet *q, unsigned local)
{
	if (q->from_min < q->to_min)
		return local >= q->from_min && local < q->to_min;
	return local >= q->from_min || local < q->to_min;
}

unsigned
quiet_local_minute(int64_t t, int32_t off)
{
	int64_t	 s = (t + off) % QUIET_DAY_S;

	if (s < 0)
		s += QUIET_DAY_S;
	return (unsigned)(s / 60);
}

int
quiet_check(const struct quiet_zones *z, const struct config *cfg,
    size_t cat, const char *number, int64_t now, unsigned *local_min)
{
	const struct config_quiet	*q = config_quiet_find(cfg, cat);
	const char			*zone;
	unsigned			 local;
	int32_t				 off;

	if (q == NULL)
		return 0;
	if ((zone = config_zone_of(cfg, number)) == NULL ||
	    quiet_offset(z, zone, now, &off) == -1)
		return -1;
	local = quiet_local_minute(now, off);
	if (local_min != NULL)
		*local_min = local;
	return quiet_minute_inside(q, local) ? 1 : 0;
}
