/*
 * Store housekeeping off the event loop, on one thread of its own with
 * its own store handle (a sibling of the daemon's):
 *
 * - retention (store_expire), once a run is asked for. Expiry visits
 *   every record of the tables it trims (the last-sent table has one per
 *   number ever sent to), in write transactions of a few thousand
 *   records: on the loop that cost every department seconds once an hour
 *   at 10 M numbers; here a durable write (an opt-out) waits for one such
 *   transaction at most.
 * - the frequency caps' send log (store_freq_prune), every
 *   HOUSEKEEP_PRUNE_EVERY_S: the sends older than the longest cap window
 *   are deleted from the log's front, a bounded number a pass. A write
 *   transaction waits for LMDB's write lock, which the store writer holds
 *   through a batch commit: the loop must never wait for it.
 *
 * One thread (the event loop) calls these; each takes a mutex only for
 * a few field updates, never across store work. The housekeeping thread
 * touches only its copy of the settings and its store handle.
 */
#ifndef PROXY_DAEMON_HOUSEKEEP_H
#define PROXY_DAEMON_HOUSEKEEP_H

#include <stdint.h>

#include "store/store.h"

/* Send log pruning: a pass this often, deleting at most this many. */
#define HOUSEKEEP_PRUNE_EVERY_S	10
#define HOUSEKEEP_PRUNE_STEP	10000

struct housekeep;

/* What the thread did, for tests and metrics. */
struct housekeep_counters {
	uint64_t	 prune_passes;	/* passes, with caps or not */
	uint64_t	 pruned;	/* send log records deleted */
	uint64_t	 prune_failed;	/* passes that failed (logged) */
};

/*
 * A housekeeper for st (a sibling handle is opened) and its thread,
 * started. It prunes nothing until housekeep_freq_window() gives it a
 * window. Returns NULL with a reason in err.
 */
struct housekeep *housekeep_new(struct store *st, char *err, size_t errlen);

/*
 * Start one retention run with r (copied), on the thread. A run asked for
 * and not ended yet is left to finish and this one skipped (logged).
 * Returns 0 when asked for, -1 not.
 */
int housekeep_expire(struct housekeep *hk, const struct store_retention *r);

/*
 * How far back the caps' send log must reach, in seconds (the longest
 * cap window of the config in force; 0: no caps, nothing is pruned). Set
 * at start and on every reload; a pass with it runs at once, then every
 * HOUSEKEEP_PRUNE_EVERY_S.
 */
void housekeep_freq_window(struct housekeep *hk, int64_t window_s);

/* Copy the counters into out. */
void housekeep_counters(struct housekeep *hk, struct housekeep_counters *out);

/*
 * Stop the thread (a retention run asked for or going is finished first,
 * a prune pass going too: bounded) and free. NULL is a no-op.
 */
void housekeep_free(struct housekeep *hk);

#endif /* PROXY_DAEMON_HOUSEKEEP_H */
