/*
 * The dashboard's series from the per-day counters: a handful of rows
 * (categories, statuses, actions, account/category pairs), each an array
 * of days, filled by one walk of the counters of the window and the 28
 * days before it.
 */
#include "proxy/compliance/series.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "proxy/compliance/jsonout.h"
#include "store/daily.h"
#include "store/store.h"

/* A row: one name (a, b), a count per day, or totals. */
struct series_row {
	char		 a[STORE_NAME_MAX];
	char		 b[STORE_NAME_MAX];
	uint64_t	*v;		/* owned; ndays counts */
	uint64_t	 total[2];	/* forwarded, attributed */
};

struct series_rows {
	struct series_row	*r;	/* owned */
	size_t			 n, cap;
};

enum series_table {
	SERIES_CAT = 0,		/* opt-outs by category */
	SERIES_ACT,		/* events by action */
	SERIES_REJ,		/* rejected by status */
	SERIES_RATE,		/* account/category totals */
	SERIES_NTABLES,
};

struct series {
	const struct config	*cfg;	/* NULL: no reasons */
	int32_t			 first;	/* first day read (window - 28) */
	size_t			 ndays;	/* read: window + 28 */
	size_t			 nshow;	/* shown: the window */
	uint64_t		*optouts;	/* owned; ndays */
	struct series_rows	 t[SERIES_NTABLES];
	bool			 is_nomem;
};

static int
u64_cmp(const void *x, const void *y)
{
	uint64_t	 a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

uint64_t
series_median2(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), u64_cmp);
	if (n % 2 == 1)
		return 2 * v[n / 2];
	return v[n / 2 - 1] + v[n / 2];
}

bool
series_is_spike(const uint64_t *prev, size_t n, uint64_t count,
    uint64_t *median2)
{
	uint64_t	 w[SERIES_SPIKE_WINDOW] = { 0 };
	uint64_t	 m2;
	size_t		 k;

	/* The last k days of prev; days before the store count as 0. */
	k = n < SERIES_SPIKE_WINDOW ? n : SERIES_SPIKE_WINDOW;
	/* cppcheck takes n for 0 from one caller's arithmetic; any n
	 * comes here. */
	/* cppcheck-suppress knownConditionTrueFalse */
	if (k > 0)
		memcpy(w, prev + n - k, k * sizeof(*w));
	m2 = series_median2(w, SERIES_SPIKE_WINDOW);
	if (median2 != NULL)
		*median2 = m2;
	/* count > 3 × m2 / 2, in integers. */
	return 2 * count > SERIES_SPIKE_FACTOR * m2;
}

/* The row (a, b) of table t, made if new; NULL out of memory. */
static struct series_row *
series_row(struct series *s, enum series_table t, const char *a,
    const char *b)
{
	struct series_rows	*rs = &s->t[t];
	struct series_row	*nr, *r;
	size_t			 i, cap;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->r[i].a, a) == 0 && strcmp(rs->r[i].b, b) == 0)
			return &rs->r[i];
	if (rs->n == rs->cap) {
		cap = rs->cap == 0 ? 8 : rs->cap * 2;
		if ((nr = realloc(rs->r, cap * sizeof(*nr))) == NULL)
			return NULL;
		rs->r = nr;
		rs->cap = cap;
	}
	r = &rs->r[rs->n];
	memset(r, 0, sizeof(*r));
	snprintf(r->a, sizeof(r->a), "%s", a);
	snprintf(r->b, sizeof(r->b), "%s", b);
	if (t != SERIES_RATE &&
	    (r->v = calloc(s->nshow, sizeof(*r->v))) == NULL)
		return NULL;
	rs->n++;
	return r;
}

/* Add c to the shown day i of row (a, b) of table t. */
static void
series_put(struct series *s, enum series_table t, const char *a,
    const char *b, size_t i, uint64_t c)
{
	struct series_row	*r;

	if ((r = series_row(s, t, a, b)) == NULL)
		s->is_nomem = true;
	else
		r->v[i] += c;
}

static int
series_daily(const struct store_daily *d, void *arg)
{
	struct series		*s = arg;
	struct series_row	*r;
	size_t			 i = (size_t)(d->day - s->first);
	size_t			 w = s->ndays - s->nshow;
	bool			 is_out = strcmp(d->a,
				    store_action_name(STORE_OPT_OUT)) == 0;

	if (d->day < s->first || i >= s->ndays)
		return 0;
	if (d->kind == STORE_DAILY_EVENTS && is_out)
		s->optouts[i] += d->count;
	if (i < w)		/* before the window: spikes only */
		return 0;
	i -= w;
	switch (d->kind) {
	case STORE_DAILY_EVENT:
		if (is_out)
			series_put(s, SERIES_CAT, d->b, "", i, d->count);
		break;
	case STORE_DAILY_EVENTS:
		series_put(s, SERIES_ACT, d->a, "", i, d->count);
		break;
	case STORE_DAILY_REJECTED:
		series_put(s, SERIES_REJ, d->a, "", i, d->count);
		break;
	case STORE_DAILY_FORWARDED:
	case STORE_DAILY_ATTRIBUTED:
		if ((r = series_row(s, SERIES_RATE, d->a, d->b)) == NULL)
			s->is_nomem = true;
		else
			r->total[d->kind == STORE_DAILY_ATTRIBUTED] +=
			    d->count;
		break;
	case STORE_DAILY_NKINDS:
		break;
	}
	return s->is_nomem ? -1 : 0;
}

static void
series_free(struct series *s)
{
	size_t	 t, i;

	for (t = 0; t < SERIES_NTABLES; t++) {
		for (i = 0; i < s->t[t].n; i++)
			free(s->t[t].r[i].v);
		free(s->t[t].r);
	}
	free(s->optouts);
}

static void
series_day(FILE *fp, int32_t day)
{
	char		 buf[16];
	struct tm	 tm;
	time_t		 t = (time_t)day * 86400;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
	jsonout_str(fp, buf);
}

static void
series_array(FILE *fp, const uint64_t *v, size_t n)
{
	size_t	 i;

	fputc('[', fp);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s%" PRIu64, i > 0 ? "," : "", v[i]);
	fputc(']', fp);
}

/* "name":{a:[..],..} for table t. */
static void
series_table_json(FILE *fp, const struct series *s, enum series_table t,
    const char *name)
{
	const struct series_rows *rs = &s->t[t];
	size_t			 i;

	fprintf(fp, ",\"%s\":{", name);
	for (i = 0; i < rs->n; i++) {
		if (i > 0)
			fputc(',', fp);
		jsonout_str(fp, rs->r[i].a);
		fputc(':', fp);
		series_array(fp, rs->r[i].v, s->nshow);
	}
	fputc('}', fp);
}

const char *
series_reason_of(const struct config *cfg, uint32_t status)
{
	size_t	 i;

	if (status == cfg->prefs.frequency_status)
		return store_audit_reason_name(STORE_AUDIT_FREQUENCY_CAP);
	if (status == cfg->prefs.quiet_hours_status)
		return store_audit_reason_name(STORE_AUDIT_QUIET_HOURS);
	if (status == cfg->rejection_status)
		return store_audit_reason_name(STORE_AUDIT_OPTED_OUT);
	for (i = 0; i < cfg->ncategories; i++)
		if (status == cfg->categories[i].rejection_status)
			return store_audit_reason_name(STORE_AUDIT_OPTED_OUT);
	return NULL;
}

/* "rejected_reasons":{STATUS:REASON} for the statuses cfg knows. */
static void
series_reasons_json(FILE *fp, const struct series *s)
{
	const struct series_rows *rs = &s->t[SERIES_REJ];
	const char		*why;
	size_t			 i, n = 0;

	fprintf(fp, ",\"rejected_reasons\":{");
	for (i = 0; s->cfg != NULL && i < rs->n; i++) {
		why = series_reason_of(s->cfg,
		    (uint32_t)strtoul(rs->r[i].a, NULL, 16));
		if (why == NULL)
			continue;
		if (n++ > 0)
			fputc(',', fp);
		jsonout_str(fp, rs->r[i].a);
		fputc(':', fp);
		jsonout_str(fp, why);
	}
	fputc('}', fp);
}

static void
series_spikes_json(FILE *fp, const struct series *s)
{
	size_t		 w = s->ndays - s->nshow, i, n = 0;
	uint64_t	 m2;

	fprintf(fp, ",\"spikes\":[");
	for (i = w; i < s->ndays; i++) {
		if (!series_is_spike(s->optouts + i - w, w, s->optouts[i],
		    &m2))
			continue;
		fprintf(fp, "%s{\"day\":", n++ > 0 ? "," : "");
		series_day(fp, s->first + (int32_t)i);
		fprintf(fp, ",\"index\":%zu,\"optouts\":%" PRIu64
		    ",\"median\":%" PRIu64 "%s}", i - w, s->optouts[i],
		    m2 / 2, m2 % 2 ? ".5" : "");
	}
	fputc(']', fp);
}

static void
series_rates_json(FILE *fp, const struct series *s)
{
	const struct series_rows *rs = &s->t[SERIES_RATE];
	const struct series_row	*r;
	size_t			 i;

	fprintf(fp, ",\"stop_rate\":[");
	for (i = 0; i < rs->n; i++) {
		r = &rs->r[i];
		fprintf(fp, "%s{", i > 0 ? "," : "");
		jsonout_kv_str(fp, "account", r->a, false);
		jsonout_kv_str(fp, "category", r->b, true);
		jsonout_kv_u64(fp, "forwarded", r->total[0], true);
		jsonout_kv_u64(fp, "attributed", r->total[1], true);
		if (r->total[0] == 0)
			fprintf(fp, ",\"rate\":null}");
		else
			fprintf(fp, ",\"rate\":%.6f}", (double)r->total[1] /
			    (double)r->total[0]);
	}
	fputc(']', fp);
}

static void
series_json(FILE *fp, const struct series *s)
{
	size_t	 w = s->ndays - s->nshow, i;

	fprintf(fp, "{\"from\":");
	series_day(fp, s->first + (int32_t)w);
	fprintf(fp, ",\"to\":");
	series_day(fp, s->first + (int32_t)s->ndays - 1);
	fprintf(fp, ",\"days\":[");
	for (i = w; i < s->ndays; i++) {
		if (i > w)
			fputc(',', fp);
		series_day(fp, s->first + (int32_t)i);
	}
	fprintf(fp, "],\"optouts\":");
	series_array(fp, s->optouts + w, s->nshow);
	series_table_json(fp, s, SERIES_CAT, "optouts_by_category");
	series_table_json(fp, s, SERIES_ACT, "events");
	series_table_json(fp, s, SERIES_REJ, "rejected");
	series_reasons_json(fp, s);
	series_spikes_json(fp, s);
	series_rates_json(fp, s);
	fputc('}', fp);
}

int
series_write(struct store *st, const struct config *cfg, int64_t now,
    unsigned days, FILE *fp, struct compliance_err *err)
{
	struct series	 s;
	int32_t		 today = store_daily_day(now);
	int		 rc;

	if (days == 0 || days > SERIES_DAYS_MAX)
		return compliance_fail(err, COMPLIANCE_E_INPUT, "days must be "
		    "1 to %d", SERIES_DAYS_MAX);
	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.nshow = days;
	s.ndays = days + SERIES_SPIKE_WINDOW;
	s.first = today - (int32_t)s.ndays + 1;
	if ((s.optouts = calloc(s.ndays, sizeof(*s.optouts))) == NULL)
		return compliance_fail(err, COMPLIANCE_E_NOMEM,
		    "out of memory");
	rc = store_daily_walk(st, s.first, today, series_daily, &s);
	if (rc != 0) {
		series_free(&s);
		if (s.is_nomem)
			return compliance_fail(err, COMPLIANCE_E_NOMEM,
			    "out of memory");
		return compliance_fail_store(err, st, false);
	}
	series_json(fp, &s);
	series_free(&s);
	return 0;
}
