/*
 * store/filter: the Bloom filter in front of the numbers index (see
 * filter.c). Only lookup.c, which keeps it in step with the numbers
 * index, calls these. Internal to store/.
 */
#ifndef STORE_FILTER_INT_H
#define STORE_FILTER_INT_H

#include <stdint.h>

#include "store/chunkview_int.h"
#include "store/store_int.h"

/*
 * A handle's views of the filter in its shared read txn (the rules are
 * store_chunk_views'), and the parameters they were loaded with.
 */
struct store_filter_views {
	struct store_chunk_views cv;
	uint64_t	 nblocks;
	uint64_t	 capacity;
	uint64_t	 count;
	uint64_t	 gen;
	uint8_t		 version;	/* how numbers are placed */
};

/* 0: nk certainly has no state; 1: it may (or no filter): look it up. */
int store_filter_test(struct store *st, MDB_txn *txn, uint64_t nk);
/* The same on the shared read txn (live), through the views fv. */
int store_filter_test_shared(struct store *st, struct store_filter_views *fv,
    uint64_t nk);
/* Prefetch nk's block of the shared txn's filter (a hint). */
void store_filter_prefetch(struct store *st, struct store_filter_views *fv,
    uint64_t nk);
/* Add a number newly put in the numbers index. 0 or an LMDB code. */
int store_filter_add(struct store *st, MDB_txn *txn, uint64_t nk);
/* Rebuild the filter from the numbers index. 0 or an LMDB code. */
int store_filter_rebuild(struct store *st, MDB_txn *txn);

/*
 * Growing in steps, driven by lookup.c with the numbers hash's growth:
 * grow_wanted: no growth under way and one more number passes the
 * capacity; grow_begin: start the next filter, for numbers numbers
 * (store_filter_add then sets bits in both); grow_add: set the bits of
 * nks[0..n) in the next filter, each chunk written once; grow_end: the
 * next filter (count numbers) replaces the filter; sweep: delete up to
 * max chunks of replaced filters (*n). All 0 or an LMDB code.
 */
int store_filter_grow_wanted(struct store *st, MDB_txn *txn, bool *yes);
/* Whether a next filter is being built. 0 or an LMDB code. */
int store_filter_growing(struct store *st, MDB_txn *txn, bool *yes);
int store_filter_grow_begin(struct store *st, MDB_txn *txn,
    uint64_t numbers);
int store_filter_grow_add(struct store *st, MDB_txn *txn, const uint64_t *nks,
    size_t n);
int store_filter_grow_end(struct store *st, MDB_txn *txn, uint64_t count);
int store_filter_sweep(struct store *st, MDB_txn *txn, size_t max, size_t *n);

#endif /* STORE_FILTER_INT_H */
