/*
 * store/chunkview: the parameters record of the chunked tables (see
 * store/chunkview_int.h).
 */
#include "store/chunkview_int.h"

#include "store/bytes.h"

int
store_chunk_params_get(MDB_txn *txn, MDB_dbi dbi, uint64_t key,
    uint8_t *version, uint64_t f[STORE_CHUNK_PARAMS_MAX], size_t *nf)
{
	MDB_val k = { sizeof(key), &key }, v;
	const uint8_t *b;
	size_t i;
	int rc;

	if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
		return rc;
	b = v.mv_data;
	if (v.mv_size < 1 || (v.mv_size - 1) % 8 != 0 ||
	    (v.mv_size - 1) / 8 > STORE_CHUNK_PARAMS_MAX)
		return MDB_CORRUPTED;
	*version = b[0];
	*nf = (v.mv_size - 1) / 8;
	for (i = 0; i < *nf; i++)
		f[i] = store_be64_get(b + 1 + 8 * i);
	return 0;
}

int
store_chunk_params_put(MDB_txn *txn, MDB_dbi dbi, uint64_t key,
    uint8_t version, const uint64_t *f, size_t nf)
{
	uint8_t b[1 + 8 * STORE_CHUNK_PARAMS_MAX];
	MDB_val k = { sizeof(key), &key }, v;
	size_t i;

	if (nf > STORE_CHUNK_PARAMS_MAX)
		return MDB_BAD_VALSIZE;
	b[0] = version;
	for (i = 0; i < nf; i++)
		store_be64_put(b + 1 + 8 * i, f[i]);
	v.mv_size = 1 + 8 * nf;
	v.mv_data = b;
	return mdb_put(txn, dbi, &k, &v, 0);
}

const uint8_t store_chunk_zero[STORE_CHUNK];

int
store_chunk_get(MDB_txn *txn, MDB_dbi dbi, uint64_t base, uint64_t i,
    uint64_t *key, MDB_val *k, MDB_val *v)
{
	int rc;

	*key = base + i;
	k->mv_size = sizeof(*key);
	k->mv_data = key;
	rc = mdb_get(txn, dbi, k, v);
	if (rc == MDB_NOTFOUND) {
		v->mv_size = STORE_CHUNK;
		v->mv_data = (void *)(uintptr_t)store_chunk_zero;
		return 0;
	}
	if (rc != 0)
		return rc;
	return v->mv_size == STORE_CHUNK ? 0 : MDB_CORRUPTED;
}

int
store_chunk_sweep(MDB_txn *txn, MDB_dbi dbi, uint64_t base, size_t max,
    size_t *n)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t key;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && *n < max;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != sizeof(key))
			continue;
		memcpy(&key, k.mv_data, sizeof(key));
		if (key >= base)
			break;
		/* MDB_NEXT after a delete yields the successor. */
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		(*n)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int
store_chunk_params_del(MDB_txn *txn, MDB_dbi dbi, uint64_t key)
{
	MDB_val k = { sizeof(key), &key };
	int rc;

	rc = mdb_del(txn, dbi, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
