/*
 * Opt-out statistics over the event history: a linear tally per
 * dimension (few distinct keys: categories, sources, accounts, days).
 */
#include "proxy/compliance/stats.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/compliance/jsonout.h"
#include "store/store.h"

/* The walk's state. */
struct stats_walk {
	struct stats	*s;
	int64_t		 since;
	bool		 is_nomem;
};

static void
stats_add(struct stats_walk *w, enum stats_dim d, const char *key)
{
	struct stats_tallies	*ts = &w->s->by[d];
	struct stats_tally	*nt;
	size_t			 i;

	for (i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].key, key) == 0) {
			ts->t[i].n++;
			return;
		}
	if (ts->n == ts->cap) {
		if ((nt = realloc(ts->t, (ts->cap == 0 ? 16 : ts->cap * 2) *
		    sizeof(*nt))) == NULL) {
			w->is_nomem = true;
			return;
		}
		ts->t = nt;
		ts->cap = ts->cap == 0 ? 16 : ts->cap * 2;
	}
	snprintf(ts->t[ts->n].key, sizeof(ts->t[ts->n].key), "%s", key);
	ts->t[ts->n].n = 1;
	ts->n++;
}

/* The preferences row for key, or NULL (out of memory). */
static struct stats_prefs_row *
stats_prefs_row(struct stats_walk *w, const char *key)
{
	struct stats		*s = w->s;
	struct stats_prefs_row	*nr;
	size_t			 i;

	for (i = 0; i < s->nprefs; i++)
		if (strcmp(s->prefs[i].key, key) == 0)
			return &s->prefs[i];
	if (s->nprefs == s->capprefs) {
		if ((nr = realloc(s->prefs, (s->capprefs == 0 ? 16 :
		    s->capprefs * 2) * sizeof(*nr))) == NULL) {
			w->is_nomem = true;
			return NULL;
		}
		s->prefs = nr;
		s->capprefs = s->capprefs == 0 ? 16 : s->capprefs * 2;
	}
	memset(&s->prefs[s->nprefs], 0, sizeof(s->prefs[0]));
	snprintf(s->prefs[s->nprefs].key, sizeof(s->prefs[0].key), "%s", key);
	return &s->prefs[s->nprefs++];
}

/* store_audit_fn: the sends refused for a cap or quiet hours. */
static int
stats_audit(const struct store_audit *a, void *arg)
{
	struct stats_walk	*w = arg;
	struct stats_prefs_row	*r;
	char			 key[80];

	if (a->reason == STORE_AUDIT_OPTED_OUT)
		return 0;
	snprintf(key, sizeof(key), "%s/%s", a->account, a->category);
	if ((r = stats_prefs_row(w, key)) == NULL)
		return -1;
	if (a->reason == STORE_AUDIT_FREQUENCY_CAP) {
		r->frequency_cap++;
		w->s->frequency_cap++;
	} else {
		r->quiet_hours++;
		w->s->quiet_hours++;
	}
	return 0;
}

static int
stats_event(const struct store_event *ev, void *arg)
{
	struct stats_walk	*w = arg;
	struct tm		 tm;
	time_t			 t = (time_t)ev->time;
	char			 day[16], drv[80];
	size_t			 i;

	if (ev->time < w->since)
		return 0;
	if (ev->action == STORE_OPT_IN) {
		w->s->opt_ins++;
		return 0;
	}
	if (ev->action == STORE_LESS) {
		struct stats_prefs_row	*r;

		w->s->less++;
		for (i = 0; i < ev->ncategories; i++)
			if ((r = stats_prefs_row(w, ev->categories[i])) != NULL)
				r->less++;
		return w->is_nomem ? -1 : 0;
	}
	w->s->opt_outs++;
	if (ev->all)
		stats_add(w, STATS_BY_CATEGORY, "all");
	for (i = 0; i < ev->ncategories; i++)
		stats_add(w, STATS_BY_CATEGORY, ev->categories[i]);
	stats_add(w, STATS_BY_SOURCE, store_source_name(ev->source));
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	stats_add(w, STATS_BY_DAY, day);
	if (ev->last.time != 0)
		snprintf(drv, sizeof(drv), "%s/%s", ev->last.account,
		    ev->last.category);
	else
		snprintf(drv, sizeof(drv), "(nothing sent before)");
	stats_add(w, STATS_BY_LAST_SENT, drv);
	return w->is_nomem ? -1 : 0;
}

/* Most first, then by key. */
static int
stats_cmp_count(const void *a, const void *b)
{
	const struct stats_tally	*x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int
stats_cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct stats_tally *)a)->key,
	    ((const struct stats_tally *)b)->key);
}

int
stats_collect(struct store *st, int64_t since, struct stats *s,
    struct compliance_err *err)
{
	struct stats_walk	 w;
	struct store_audit_filter af;
	size_t			 d;

	memset(s, 0, sizeof(*s));
	w.s = s;
	w.since = since;
	w.is_nomem = false;
	if (store_events_since(st, 0, 0, stats_event, &w) != 0) {
		if (w.is_nomem)
			return compliance_fail(err, COMPLIANCE_E_NOMEM,
			    "out of memory");
		return compliance_fail_store(err, st, false);
	}
	memset(&af, 0, sizeof(af));
	af.since = since;
	if (store_audit_query(st, &af, stats_audit, &w) != 0) {
		if (w.is_nomem)
			return compliance_fail(err, COMPLIANCE_E_NOMEM,
			    "out of memory");
		return compliance_fail_store(err, st, false);
	}
	/* A store of LESS events alone has empty tallies (NULL arrays). */
	for (d = 0; d < STATS_NDIMS; d++)
		if (s->by[d].n > 1)
			qsort(s->by[d].t, s->by[d].n, sizeof(*s->by[d].t),
			    d == STATS_BY_DAY ? stats_cmp_key :
			    stats_cmp_count);
	return 0;
}

void
stats_free(struct stats *s)
{
	size_t	 d;

	for (d = 0; d < STATS_NDIMS; d++) {
		free(s->by[d].t);
		s->by[d].t = NULL;
		s->by[d].n = s->by[d].cap = 0;
	}
	free(s->prefs);
	s->prefs = NULL;
	s->nprefs = s->capprefs = 0;
}

const char *
stats_dim_name(enum stats_dim d)
{
	switch (d) {
	case STATS_BY_CATEGORY:
		return "category";
	case STATS_BY_SOURCE:
		return "source";
	case STATS_BY_LAST_SENT:
		return "last_sent";
	case STATS_BY_DAY:
		return "day";
	case STATS_NDIMS:
		break;
	}
	return "?";
}

void
stats_totals_json(FILE *fp, const struct stats *s)
{
	fputc('{', fp);
	jsonout_kv_u64(fp, "opt_outs", s->opt_outs, false);
	jsonout_kv_u64(fp, "opt_ins", s->opt_ins, true);
	/* Only where preferences are in use: the totals of a store
	 * without them keep their shape. */
	if (s->less + s->frequency_cap + s->quiet_hours > 0) {
		jsonout_kv_u64(fp, "less", s->less, true);
		jsonout_kv_u64(fp, "frequency_cap", s->frequency_cap, true);
		jsonout_kv_u64(fp, "quiet_hours", s->quiet_hours, true);
	}
	fputc('}', fp);
}

void
stats_prefs_json(FILE *fp, const struct stats_prefs_row *r)
{
	fputc('{', fp);
	jsonout_kv_str(fp, "by", "prefs", false);
	jsonout_kv_str(fp, "key", r->key, true);
	jsonout_kv_u64(fp, "less", r->less, true);
	jsonout_kv_u64(fp, "frequency_cap", r->frequency_cap, true);
	jsonout_kv_u64(fp, "quiet_hours", r->quiet_hours, true);
	fputc('}', fp);
}

void
stats_tally_json(FILE *fp, enum stats_dim d, const struct stats_tally *t)
{
	fputc('{', fp);
	jsonout_kv_str(fp, "by", stats_dim_name(d), false);
	jsonout_kv_str(fp, "key", t->key, true);
	jsonout_kv_u64(fp, "opt_outs", t->n, true);
	fputc('}', fp);
}
