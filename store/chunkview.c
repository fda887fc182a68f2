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
