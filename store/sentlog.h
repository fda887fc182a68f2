/*
 * store/sentlog: the append-only sent log of attribution records.
 *
 * Writing the last-sent table once per forwarded message is a random
 * B-tree insert per message, too slow at the proxy's rate. Instead the
 * proxy appends (seq, number, last sent) records to the sent log, whose
 * keys are increasing sequence numbers (appends touch only the rightmost
 * page), keeps its own index number -> seq of what is not merged yet, and
 * a background task merges the oldest records into the last-sent table in
 * small sorted transactions (store_sentlog_merge) and deletes them.
 *
 * Durability as store_lastsent_put(): lazy commits (MDB_NOMETASYNC).
 * The proxy appends through store_batch_put(); the appends of their own
 * are in store/sentlog_int.h.
 * A read-only handle on a store from before the sent log reads it as
 * empty. Conventions as in store/store.h.
 */
#ifndef STORE_SENTLOG_H
#define STORE_SENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct store_sentlog_entry {
	uint64_t		 seq;	/* > 0; the log's key */
	struct store_lastsent_entry e;	/* number + last sent */
};

/*
 * Walk callback: ent is a view valid only during the call. Return 0 to go
 * on, anything else to stop (see the walk convention in store/store.h).
 */
typedef int (*store_sentlog_fn)(void *arg,
    const struct store_sentlog_entry *ent);

/*
 * The entry with key seq, from the shared read txn: 1 found (out filled),
 * 0 not in the log (merged, or never written), -1 error (a damaged record
 * is STORE_E_IO).
 */
int store_sentlog_get(struct store *st, uint64_t seq,
    struct store_lastsent_entry *out);

/* First and last seq in the log; both 0 when it is empty. 0 or -1. */
int store_sentlog_bounds(struct store *st, uint64_t *first, uint64_t *last);

/*
 * Entries with seq >= from, in seq order, from one snapshot (a private
 * read txn). Returns per the walk convention: 0 when done or cb returned
 * > 0, -1 on a store error, cb's value when it returned < 0.
 */
int store_sentlog_walk(struct store *st, uint64_t from, store_sentlog_fn cb,
    void *arg);

/* At most this many entries are merged per call (scratch is per entry). */
#define STORE_SENTLOG_MERGE_MAX	4096

/*
 * Merge the oldest min(max, STORE_SENTLOG_MERGE_MAX) entries into the
 * last-sent table and delete them from the log, in one lazy write
 * transaction. Per number only its highest-seq entry of the chunk
 * counts, and it is written only if the table has no record for the
 * number or one with a time <= the entry's (newer wins; on a tie the log
 * wins). *through is set to the highest seq merged (0 if none). Returns
 * the number of log entries consumed (0 when max is 0 or the log is
 * empty), or -1 (nothing changed). A background thread calls it on its
 * own struct store (one thread per handle, as everywhere in store/).
 */
int store_sentlog_merge(struct store *st, size_t max, uint64_t *through);

#endif /* STORE_SENTLOG_H */
