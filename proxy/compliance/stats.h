/*
 * What drives opt-outs (SPEC §6, `stopgate stats`): opt-outs counted by
 * category, source, the account/category of the message sent last before
 * each, and day, from the event history.
 */
#ifndef PROXY_COMPLIANCE_STATS_H
#define PROXY_COMPLIANCE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proxy/compliance/compliance.h"

struct store;

/* The dimensions, in the order they are shown. */
enum stats_dim {
	STATS_BY_CATEGORY = 0,
	STATS_BY_SOURCE,
	STATS_BY_LAST_SENT,	/* "account/category" */
	STATS_BY_DAY,		/* YYYY-MM-DD, UTC */
	STATS_NDIMS,
};

struct stats_tally {
	char	 key[80];
	size_t	 n;
};

struct stats_tallies {
	struct stats_tally	*t;		/* owned */
	size_t			 n, cap;
};

/*
 * Subscriber preferences (SPEC §9): LESS events by category (key: the
 * category), refused sends by account and category (key:
 * "account/category", from the audit log) for a cap or quiet hours.
 */
struct stats_prefs_row {
	char	 key[80];
	size_t	 less, frequency_cap, quiet_hours;
};

struct stats {
	struct stats_tallies	 by[STATS_NDIMS];
	size_t			 opt_outs, opt_ins;
	size_t			 less, frequency_cap, quiet_hours;
	struct stats_prefs_row	*prefs;		/* owned */
	size_t			 nprefs, capprefs;
};

/*
 * Count the events at or after since (unix seconds) into s (the caller's,
 * zeroed by this call; free with stats_free()). Days are sorted by day,
 * the other dimensions by count, most first. Returns 0, or -1 with err
 * set (COMPLIANCE_E_STORE, COMPLIANCE_E_NOMEM).
 */
int stats_collect(struct store *st, int64_t since, struct stats *s,
    struct compliance_err *err);

/* Free what s holds (not s). */
void stats_free(struct stats *s);

/* "category", "source", "last_sent", "day". */
const char *stats_dim_name(enum stats_dim d);

/* The totals as a JSON object: {"opt_outs":N,"opt_ins":N}, and
 * "less", "frequency_cap", "quiet_hours" when any of them is not 0. */
void stats_totals_json(FILE *fp, const struct stats *s);

/* One tally as a JSON object: {"by":DIM,"key":K,"opt_outs":N}. */
void stats_tally_json(FILE *fp, enum stats_dim d,
    const struct stats_tally *t);

/* A preferences row: {"by":"prefs","key":K,"less":N,"frequency_cap":N,
 * "quiet_hours":N}. */
void stats_prefs_json(FILE *fp, const struct stats_prefs_row *r);

#endif /* PROXY_COMPLIANCE_STATS_H */
