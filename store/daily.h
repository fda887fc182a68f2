/*
 * store/daily: per-day counters, kept in the same write transactions as
 * the records they count, so that a chart of the last 90 days reads a
 * few hundred keys instead of walking years of events and audit records
 * (the compliance dashboard, SPEC §10).
 *
 * What is counted, per UTC day (store_daily_day()):
 *   EVENT       a: action name (opt_out, opt_in, any later one), b: a
 *               category of its scope, or STORE_CATEGORY_ALL
 *   EVENTS      a: action name, b: "": events (an opt-out of two
 *               categories counts once here, twice in EVENT)
 *   FORWARDED   a: account, b: category: messages the SMSC accepted
 *               (what the store writer's batches attribute)
 *   ATTRIBUTED  a: account, b: category of the message sent last to the
 *               number before an opt-out: what drove it
 *   REJECTED    a: command_status sent back ("0x00000401"), b: category
 * Keys are generic strings, so a new action or a new rejection status is
 * counted without a change here. Counters are never expired (a few keys
 * a day). A store written before them is counted from its history once
 * (store/daily.c says what can be).
 * Conventions as in store/store.h.
 */
#ifndef STORE_DAILY_H
#define STORE_DAILY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum store_daily_kind {
	STORE_DAILY_EVENT = 0,
	STORE_DAILY_EVENTS,
	STORE_DAILY_FORWARDED,
	STORE_DAILY_ATTRIBUTED,
	STORE_DAILY_REJECTED,
	STORE_DAILY_NKINDS,
};

struct store_daily {
	int32_t			 day;	/* days since 1970-01-01 UTC */
	enum store_daily_kind	 kind;
	char			 a[STORE_NAME_MAX];
	char			 b[STORE_NAME_MAX];
	uint64_t		 count;
};

/* The UTC day of unix time t (floor division: -1 is 1969-12-31). */
int32_t store_daily_day(int64_t t);

/* "event", "events", "forwarded", "attributed", "rejected"; "?". */
const char *store_daily_kind_name(enum store_daily_kind k);

/* A counter (a view valid during the call). Return 0 to go on. */
typedef int (*store_daily_fn)(const struct store_daily *d, void *arg);

/*
 * Every counter of the days from..to (inclusive), by day, then kind,
 * then a and b, from one snapshot. Returns per the walk convention.
 */
int store_daily_walk(struct store *st, int32_t from, int32_t to,
    store_daily_fn cb, void *arg);

#endif /* STORE_DAILY_H */
