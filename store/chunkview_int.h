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
	uint64_t	 n;
	size_t		 cap;
};

/* Forget every view and make room for n chunks of the snapshot txnid:
 * 0, or -1 when out of memory (the views stay invalid). */
static inline int
store_chunk_views_reset(struct store_chunk_views *cv, uint64_t n,
    size_t txnid)
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
	cv->n = n;
	cv->txnid = txnid;
	cv->is_valid = true;
	return 0;
}

/* The view of chunk i (size bytes) of dbi in txn, fetched if need be;
 * NULL when it is out of range, missing or of another size. */
static inline const uint8_t *
store_chunk_view(struct store_chunk_views *cv, MDB_txn *txn, MDB_dbi dbi,
    uint64_t i, size_t size)
{
	MDB_val k, v;

	if (i >= cv->n)
		return NULL;
	if (cv->chunks[i] == NULL) {
		k.mv_size = sizeof(i);
		k.mv_data = &i;
		if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size != size)
			return NULL;
		cv->chunks[i] = v.mv_data;
	}
	return cv->chunks[i];
}

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

/* Fields a parameters record holds at most. */
#define STORE_CHUNK_PARAMS_MAX	4

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

#endif /* STORE_CHUNKVIEW_INT_H */
