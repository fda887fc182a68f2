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

#endif /* STORE_FILTER_INT_H */
