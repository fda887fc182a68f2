/*
 * store/chunkview: what the filter (filter.c) and the numbers hash
 * (numhash.c) share as tables stored as chunks of one size under integer
 * keys 0..n-1, with a parameters record under a key of its own: views of
 * the chunks in a read snapshot, the parameters record's encoding and the
 * mixing function. Not for use outside store/.
 *
 * A view is fetched on first use. A renewed txn with the same id (txnid)
 * is the same snapshot, whose pages no writer may reuse, so the views
 * stay valid; so does a later snapshot in which the owner finds the
 * table's parameters, generation included, unchanged (no chunk was
 * written since). Any other snapshot, or a remap, drops them all.
 *
 * A table's chunk i is stored under key base + i: a table grown in steps
 * (lookup.c) is built beside the one it replaces, under a higher base,
 * and the keys below the current base are garbage deleted in steps. A
 * chunk never written is absent and reads as zeros (an empty chunk): a
 * new table costs nothing to create.
 */
#ifndef STORE_CHUNKVIEW_INT_H
#define STORE_CHUNKVIEW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

/* Bytes per chunk: small, because adding a number copies one. */
#define STORE_CHUNK		16384

struct store_chunk_views {
	bool		 is_valid;
	size_t		 txnid;
	const uint8_t	**chunks;	/* owned; NULL: not fetched yet */
	uint64_t	 base;		/* key of chunk 0 */
	uint64_t	 n;
	size_t		 cap;
};

/* Forget every view and make room for n chunks of the snapshot txnid:
 * 0, or -1 when out of memory (the views stay invalid). */
static inline int
store_chunk_views_reset(struct store_chunk_views *cv, uint64_t base,
    uint64_t n, size_t txnid)
{
	const uint8_t **a;

	cv->is_valid = false;
	if (n > cv->cap) {
		if ((a = realloc(cv->chunks, n * sizeof(*a))) == NULL)
			return -1;
		cv->chunks = a;
		cv->cap = n;
	}
	memset(cv->chunks, 0, n * sizeof(*cv->chunks));
	cv->base = base;
	cv->n = n;
	cv->txnid = txnid;
	cv->is_valid = true;
	return 0;
}

/* STORE_CHUNK zero bytes: what an absent chunk reads as. */
extern const uint8_t store_chunk_zero[];

/* The view of chunk i (STORE_CHUNK bytes) of dbi in txn, fetched if need
 * be (absent: store_chunk_zero); NULL when it is out of range, of another
 * size or cannot be read. */
static inline const uint8_t *
store_chunk_view(struct store_chunk_views *cv, MDB_txn *txn, MDB_dbi dbi,
    uint64_t i)
{
	MDB_val k, v;
	uint64_t key;
	int rc;

	if (i >= cv->n)
		return NULL;
	if (cv->chunks[i] == NULL) {
		key = cv->base + i;
		k.mv_size = sizeof(key);
		k.mv_data = &key;
		rc = mdb_get(txn, dbi, &k, &v);
		if (rc == MDB_NOTFOUND)
			cv->chunks[i] = store_chunk_zero;
		else if (rc != 0 || v.mv_size != STORE_CHUNK)
			return NULL;
		else
			cv->chunks[i] = v.mv_data;
	}
	return cv->chunks[i];
}

/*
 * Chunk i of the table at base in dbi, in txn (a write txn sees its own
 * puts): 0 with *v its value (store_chunk_zero when absent) and *key
 * (which k points at) its key; MDB_CORRUPTED for a value of another size;
 * or an LMDB code.
 */
int store_chunk_get(MDB_txn *txn, MDB_dbi dbi, uint64_t base, uint64_t i,
    uint64_t *key, MDB_val *k, MDB_val *v);

/*
 * Delete up to max keys of dbi below base (the chunks of tables replaced
 * by a growth): *n how many. 0 or an LMDB code.
 */
int store_chunk_sweep(MDB_txn *txn, MDB_dbi dbi, uint64_t base, size_t max,
    size_t *n);

/* splitmix64's finaliser: the filter's and the numbers hash's mixing. */
static inline uint64_t
store_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/*
 * The numbers hash places a number by store_mix64(nk ^ STORE_MIX_SALT)
 * (its top 32 bits, scaled to the table); a filter of version 3 picks
 * its block the same way, so that a growth moving numbers in the hash's
 * order fills both new tables front to back.
 */
#define STORE_MIX_SALT		UINT64_C(0x9e3779b97f4a7c15)

/* Fields a parameters record holds at most. */
#define STORE_CHUNK_PARAMS_MAX	8

/*
 * A parameters record (under key in dbi): a version byte, then nf
 * big-endian 64-bit fields. get: 0 with *version, f[] and *nf set;
 * MDB_CORRUPTED for a record of another shape; or an LMDB code
 * (MDB_NOTFOUND: none). put: 0 or an LMDB code.
 */
int store_chunk_params_get(MDB_txn *txn, MDB_dbi dbi, uint64_t key,
    uint8_t *version, uint64_t f[STORE_CHUNK_PARAMS_MAX], size_t *nf);
int store_chunk_params_put(MDB_txn *txn, MDB_dbi dbi, uint64_t key,
    uint8_t version, const uint64_t *f, size_t nf);
/* Delete the record under key (none: fine). 0 or an LMDB code. */
int store_chunk_params_del(MDB_txn *txn, MDB_dbi dbi, uint64_t key);

#endif /* STORE_CHUNKVIEW_INT_H */
