/*
 * store/lookup: "is number N opted out of category C" and the tables
 * that answer it (state, numbers index, numbers hash, filter), behind one
 * boundary: lookup.c is their only writer. The other parts of store/
 * change a number's state only through store_lookup_apply_txn(). Internal
 * to store/ (and its tests and tools).
 */
#ifndef STORE_LOOKUP_INT_H
#define STORE_LOOKUP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store_int.h"

/*
 * Meta key present once the numbers index (with its state summaries) and
 * the filter were built from the state. An environment from before them
 * has none, and one last indexed by a stopgate from before the summaries
 * has only STORE_NUMIDX_MARKER_V1: a writable open rebuilds the index, a
 * read-only open does without (none) or reads the state entries (v1).
 */
#define STORE_NUMIDX_MARKER	"index.numbers.2"
#define STORE_NUMIDX_MARKER_V1	"index.numbers"

/*
 * In store_open()'s first transaction: set up st's lookup state, decide
 * which tables it may trust and, on a writable handle, rebuild those it
 * may not. Returns 0, or -1 with st's error set.
 */
int store_lookup_open(struct store *st, MDB_txn *txn);
/* The same for a sibling of st: 0, or -1 with st's error set. */
int store_lookup_share(struct store *sib, struct store *st);
/* Free st's lookup state (none: nothing). */
void store_lookup_free(struct store *st);

/*
 * Apply event ev (its id set) to number's state in txn, and the numbers
 * index, hash and filter with it. 0 or an LMDB code.
 */
int store_lookup_apply_txn(struct store *st, MDB_txn *txn,
    const struct store_event *ev);

/* Does a state entry of number refer to event id? 0 or an LMDB code. */
int store_lookup_refers(struct store *st, MDB_txn *txn, const char *number,
    uint64_t id, bool *is_ref);

/*
 * The current state entries of number (the global flag first, then
 * categories by name). No entries = opted out of nothing. Returns per the
 * walk convention.
 */
int store_state(struct store *st, const char *number, store_state_fn cb,
    void *arg);

/*
 * A growth's progress in txn: numbers moved and to move (0, 0: none).
 * 0 or an LMDB code.
 */
int store_lookup_progress(struct store *st, MDB_txn *txn, uint64_t *moved,
    uint64_t *total);

/*
 * Rebuild the numbers index, hash and filter from the state, sized for
 * the current count: for tools that bulk-load the state, or to shed the
 * filter bits of numbers that have since opted back in. Returns 0 or -1.
 */
int store_reindex(struct store *st);

#endif /* STORE_LOOKUP_INT_H */
