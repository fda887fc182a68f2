/*
 * store/freq: what subscriber preferences (SPEC §9) keep in the store.
 *
 * Sends counted against a frequency cap: every accepted send of a capped
 * category appended to a log (number, category, time), in send order.
 * The proxy counts in memory on its loop and writes accepted sends here
 * through its store writer's batches (store_batch_put, lazy commits like
 * the attribution records): after a crash the counts are short by the
 * last batch at most. At start it reads the log of the window back
 * (store_freq_load) and deletes what is older (store_freq_prune).
 *
 * LESS: a number asked for fewer texts of a category. Set by an event of
 * action STORE_LESS, ended by any opt-in of that category (START, ALL,
 * staff), in the event's transaction (store_optout_apply). The proxy
 * reads them all at start and follows the event feed after.
 *
 * A read-only handle on a store from before these reads them as empty.
 * Conventions as in store/store.h.
 */
#ifndef STORE_FREQ_H
#define STORE_FREQ_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Send times a caller asks back for one number: a cap's largest max. */
#define STORE_FREQ_KEEP_MAX	1000

/* One accepted send, for store_batch's freq array. */
struct store_freq_entry {
	char		 number[STORE_NUMBER_MAX];
	char		 category[STORE_NAME_MAX];
	int64_t		 time;		/* unix seconds */
};

/*
 * Walk callback: times of one number and category (a view valid during
 * the call; store_freq_load passes one send at a time). Return 0 to go
 * on.
 */
typedef int (*store_freq_fn)(const char *number, const char *category,
    const int64_t *times, size_t n, void *arg);

/*
 * Every send logged at or after horizon, in send order. Returns per the
 * walk convention.
 */
int store_freq_load(struct store *st, int64_t horizon, store_freq_fn cb,
    void *arg);

/*
 * In a cluster, the sends of the other nodes (store_cluster_apply) are
 * appended to the same log, in records of their own. The proxy, which
 * counts its own sends as it makes them, reads those records as they
 * come: the log's position now (store_freq_position, taken before
 * store_freq_load), then every poll store_freq_remote from it.
 */
int store_freq_position(struct store *st, uint64_t *pos);

/*
 * The remote sends of up to max records after *pos, one at a time to cb,
 * *pos advanced past every record read. Returns per the walk convention.
 */
int store_freq_remote(struct store *st, uint64_t *pos, size_t max,
    store_freq_fn cb, void *arg);

/*
 * The logged send times of one number and category, oldest first, into
 * times[0..cap) (the newest cap of them). Reads the whole log: for staff
 * (`stopgate status`), not for a hot path. Returns 0 with *n set, or -1.
 */
int store_freq_get(struct store *st, const char *number,
    const char *category, int64_t *times, size_t cap, size_t *n);

/*
 * Delete the sends logged before horizon, from the front of the log, up
 * to max of them in one lazy transaction. *done gets how many. Returns 0
 * or -1.
 */
int store_freq_prune(struct store *st, int64_t horizon, size_t max,
    size_t *done);

/* A number in LESS for a category. */
struct store_less {
	char		 number[STORE_NUMBER_MAX];
	char		 category[STORE_NAME_MAX];
	int64_t		 since;		/* unix seconds */
	uint64_t	 event_id;	/* the LESS event */
};

typedef int (*store_less_fn)(const struct store_less *l, void *arg);

/* Every LESS entry, by number. Returns per the walk convention. */
int store_less_all(struct store *st, store_less_fn cb, void *arg);

/* One: 1 found (out filled), 0 not in LESS, -1 error. */
int store_less_get(struct store *st, const char *number,
    const char *category, struct store_less *out);

#endif /* STORE_FREQ_H */
