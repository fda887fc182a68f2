/*
 * store/filter: a blocked Bloom filter over the numbers index, kept inside
 * the environment so that every process sees the same one.
 *
 * Why: with millions of opted-out numbers, a B-tree lookup costs several
 * dependent cache misses per page (binary search inside each 4 KB page),
 * and nearly every lookup is for a number that is not opted out. The
 * filter answers "definitely no state" with one cache line: the number's
 * hash picks a 64-byte block, and FILTER_K bits inside it must all be set.
 * A positive (about 1% true, well under 1% false) goes on to the exact
 * numbers index and the state entries, so the filter can only make a
 * lookup faster, never change its answer.
 *
 * Layout (database "filter", integer keys): chunk i -> FILTER_CHUNK bytes
 * under key base + i (LMDB stores a large value in contiguous overflow
 * pages, so a block is one pointer away), key FILTER_PARAMS -> version,
 * block count, capacity, numbers added, generation, base, and while a
 * growth is under way FILTER_GROW -> the same for the next filter. Bits
 * are only ever set: an opt-in that clears a number's state leaves its
 * bits, which costs a little speed until the next rebuild. Past the
 * capacity lookup.c grows it, in steps, to twice the count, so it keeps
 * 16 to 32 bits per number (a few less while a growth is under way). A
 * chunk is small (16 KB) because adding a number copies one.
 */
#include "store/filter_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FILTER_BLOCK		64		/* bytes: one cache line */
#define FILTER_CHUNK		STORE_CHUNK
#define FILTER_BLOCKS_PER_CHUNK	(FILTER_CHUNK / FILTER_BLOCK)
#define FILTER_K		6		/* bits per number */
#define FILTER_BITS_PER_NUMBER	16
#define FILTER_MIN_CAPACITY	16384		/* numbers */
#define FILTER_PARAMS		UINT64_MAX	/* key of the parameters */
#define FILTER_V1		1
#define FILTER_V2		2	/* v1 + a generation */

/*
 * The generation is bumped by every write of the filter (each added
 * number, each rebuild), in the transaction that changes its bits: a
 * reader whose parameters match in full knows its views of the chunks
 * are still the pages of the current snapshot, whatever else was written
 * since. (A v1 record, written by an older stopgate, has generation 0;
 * its count still changes with every add.) Version 3 adds the base key
 * of its chunks and places numbers in the numbers hash's order (see
 * STORE_MIX_SALT); v1 and v2 filters are read and written as they are
 * until they are replaced.
 */
struct filter_params {
	uint64_t	 nblocks;
	uint64_t	 capacity;
	uint64_t	 count;
	uint64_t	 gen;
	uint64_t	 base;		/* key of chunk 0 */
	uint8_t		 version;
};

#define FILTER_V3		3
#define FILTER_GROW		(UINT64_MAX - 2)	/* the next filter */
#define FILTER_BASE_STEP	(UINT64_C(1) << 40)

/* Block number and the FILTER_K bit positions (0..511) inside it. */
static uint64_t
filter_locate(const struct filter_params *p, uint64_t nk,
    unsigned bits[FILTER_K])
{
	uint64_t h, g;
	int i;

	h = store_mix64(p->version == FILTER_V3 ? nk ^ STORE_MIX_SALT : nk);
	g = store_mix64(h ^ 0x5bd1e995u);
	for (i = 0; i < FILTER_K; i++) {
		bits[i] = (unsigned)(g & 511);
		g >>= 9;
	}
	/* Fast range: (h32 * n) >> 32 maps onto [0, n) for n < 2^32. */
	return ((h >> 32) * p->nblocks) >> 32;
}

/* The filter (key FILTER_PARAMS) or the next one (FILTER_GROW). */
static int
filter_params_get(struct store *st, MDB_txn *txn, uint64_t key,
    struct filter_params *p)
{
	uint64_t f[STORE_CHUNK_PARAMS_MAX];
	uint8_t version;
	size_t nf;
	int rc;

	if ((rc = store_chunk_params_get(txn, st->dbi[STORE_DB_FILTER],
	    key, &version, f, &nf)) != 0)
		return rc;
	if (!(version == FILTER_V1 && nf == 3) &&
	    !(version == FILTER_V2 && nf == 4) &&
	    !(version == FILTER_V3 && nf == 5))
		return MDB_CORRUPTED;
	p->version = version;
	p->nblocks = f[0];
	p->capacity = f[1];
	p->count = f[2];
	p->gen = version >= FILTER_V2 ? f[3] : 0;
	p->base = version == FILTER_V3 ? f[4] : 0;
	if (p->nblocks == 0 || p->nblocks >= UINT64_C(1) << 32 ||
	    p->base > UINT64_MAX / 2)
		return MDB_CORRUPTED;
	return 0;
}

static int
filter_params_put(struct store *st, MDB_txn *txn, uint64_t key,
    const struct filter_params *p)
{
	const uint64_t f[] = { p->nblocks, p->capacity, p->count, p->gen,
	    p->base };

	if (p->version == FILTER_V3)
		return store_chunk_params_put(txn, st->dbi[STORE_DB_FILTER],
		    key, FILTER_V3, f, 5);
	return store_chunk_params_put(txn, st->dbi[STORE_DB_FILTER], key,
	    FILTER_V2, f, 4);
}

/* A v3 filter with room for capacity numbers (at least the minimum). */
static void
filter_size(struct filter_params *p, uint64_t capacity)
{
	uint64_t nchunks;

	p->version = FILTER_V3;
	p->capacity = capacity < FILTER_MIN_CAPACITY ? FILTER_MIN_CAPACITY :
	    capacity;
	p->nblocks = p->capacity * FILTER_BITS_PER_NUMBER / (FILTER_BLOCK * 8);
	nchunks = (p->nblocks + FILTER_BLOCKS_PER_CHUNK - 1) /
	    FILTER_BLOCKS_PER_CHUNK;
	p->nblocks = nchunks * FILTER_BLOCKS_PER_CHUNK;
}

static void
filter_set(uint8_t *block, const unsigned bits[FILTER_K])
{
	int i;

	for (i = 0; i < FILTER_K; i++)
		block[bits[i] >> 3] |= (uint8_t)(1u << (bits[i] & 7));
}

static bool
filter_has(const uint8_t *block, const unsigned bits[FILTER_K])
{
	int i;

	for (i = 0; i < FILTER_K; i++)
		if ((block[bits[i] >> 3] & (1u << (bits[i] & 7))) == 0)
			return false;
	return true;
}

/*
 * nk's chunk of the filter p in txn: *k its key (held in *chunk), *v the
 * chunk (zeros when absent), *off the offset of nk's block in it, bits[]
 * its bit positions. 0, or an LMDB code (MDB_CORRUPTED: a chunk of
 * another size).
 */
static int
filter_chunk_get(struct store *st, MDB_txn *txn, const struct filter_params *p,
    uint64_t nk, unsigned bits[FILTER_K], uint64_t *chunk, MDB_val *k,
    MDB_val *v, size_t *off)
{
	uint64_t block;

	block = filter_locate(p, nk, bits);
	*off = (size_t)(block % FILTER_BLOCKS_PER_CHUNK) * FILTER_BLOCK;
	return store_chunk_get(txn, st->dbi[STORE_DB_FILTER], p->base,
	    block / FILTER_BLOCKS_PER_CHUNK, chunk, k, v);
}

int
store_filter_test(struct store *st, MDB_txn *txn, uint64_t nk)
{
	struct filter_params p;
	unsigned bits[FILTER_K];
	uint64_t chunk;
	size_t off;
	MDB_val k, v;

	/* No usable filter: take the exact path. */
	if (filter_params_get(st, txn, FILTER_PARAMS, &p) != 0 ||
	    filter_chunk_get(st, txn, &p, nk, bits, &chunk, &k, &v,
	    &off) != 0)
		return 1;
	return filter_has((const uint8_t *)v.mv_data + off, bits) ? 1 : 0;
}

/* Load the parameters of the shared txn's snapshot; 0 or -1 (no filter). */
static int
filter_views_load(struct store *st, struct store_filter_views *fv)
{
	struct filter_params p;

	fv->cv.is_valid = false;
	if (filter_params_get(st, st->rtxn, FILTER_PARAMS, &p) != 0 ||
	    store_chunk_views_reset(&fv->cv, p.base, p.nblocks /
	    FILTER_BLOCKS_PER_CHUNK, mdb_txn_id(st->rtxn)) != 0)
		return -1;
	fv->nblocks = p.nblocks;
	fv->capacity = p.capacity;
	fv->count = p.count;
	fv->gen = p.gen;
	fv->version = p.version;
	return 0;
}

/*
 * Are the views good for the shared txn's snapshot? Yes for the snapshot
 * they were loaded in; for a later one, when the filter's parameters,
 * generation included, are the same: then no chunk was written since, and
 * the chunks' pages are this snapshot's too. Every batch the proxy's
 * writer commits is a new snapshot; this keeps the views across them.
 */
static bool
filter_views_current(struct store *st, struct store_filter_views *fv)
{
	struct filter_params p;
	size_t id;

	if (!fv->cv.is_valid)
		return false;
	if ((id = mdb_txn_id(st->rtxn)) == fv->cv.txnid)
		return true;
	if (filter_params_get(st, st->rtxn, FILTER_PARAMS, &p) != 0 ||
	    p.nblocks != fv->nblocks || p.capacity != fv->capacity ||
	    p.count != fv->count || p.gen != fv->gen ||
	    p.base != fv->cv.base || p.version != fv->version)
		return false;
	fv->cv.txnid = id;
	return true;
}

/*
 * The view of nk's block in the shared txn's snapshot (bits[] set to its
 * bit positions), or NULL when there is no usable filter.
 */
static const uint8_t *
filter_view_block(struct store *st, struct store_filter_views *fv,
    uint64_t nk, unsigned bits[FILTER_K])
{
	struct filter_params p;
	const uint8_t *chunk;
	uint64_t block;

	if (!filter_views_current(st, fv) && filter_views_load(st, fv) != 0)
		return NULL;
	memset(&p, 0, sizeof(p));
	p.nblocks = fv->nblocks;
	p.version = fv->version;
	block = filter_locate(&p, nk, bits);
	if ((chunk = store_chunk_view(&fv->cv, st->rtxn,
	    st->dbi[STORE_DB_FILTER], block / FILTER_BLOCKS_PER_CHUNK)) == NULL)
		return NULL;
	return chunk + (size_t)(block % FILTER_BLOCKS_PER_CHUNK) * FILTER_BLOCK;
}

int
store_filter_test_shared(struct store *st, struct store_filter_views *fv,
    uint64_t nk)
{
	unsigned bits[FILTER_K];
	const uint8_t *b;

	if ((b = filter_view_block(st, fv, nk, bits)) == NULL)
		return 1;	/* no usable filter: take the exact path */
	return filter_has(b, bits) ? 1 : 0;
}

void
store_filter_prefetch(struct store *st, struct store_filter_views *fv,
    uint64_t nk)
{
	unsigned bits[FILTER_K];
	const uint8_t *b;

	if ((b = filter_view_block(st, fv, nk, bits)) != NULL)
		__builtin_prefetch(b);
}

/* Rebuild from the numbers index, all at once (a growth goes with it). */
static int
filter_rebuild(struct store *st, MDB_txn *txn)
{
	struct filter_params p;
	unsigned bits[FILTER_K];
	MDB_cursor *cur;
	MDB_stat ms;
	MDB_val k, v;
	uint64_t nchunks, i, nk, block;
	uint8_t *bitmap;
	int rc;

	/* A new generation, whatever the old parameters were. */
	if (filter_params_get(st, txn, FILTER_PARAMS, &p) != 0)
		p.gen = 0;
	p.gen++;
	if ((rc = mdb_stat(txn, st->dbi[STORE_DB_NUMIDX], &ms)) != 0)
		return rc;
	/* Room for twice what is there: 16 to 32 bits per number. */
	filter_size(&p, ms.ms_entries * 2);
	p.count = ms.ms_entries;
	p.base = 0;
	nchunks = p.nblocks / FILTER_BLOCKS_PER_CHUNK;
	if ((bitmap = calloc(nchunks, FILTER_CHUNK)) == NULL)
		return ENOMEM;
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_NUMIDX], &cur)) != 0)
		goto out;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size == sizeof(nk)) {
			memcpy(&nk, k.mv_data, sizeof(nk));
			block = filter_locate(&p, nk, bits);
			filter_set(bitmap + block * FILTER_BLOCK, bits);
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		goto out;
	if ((rc = mdb_drop(txn, st->dbi[STORE_DB_FILTER], 0)) != 0)
		goto out;
	for (i = 0; i < nchunks; i++) {
		k.mv_size = sizeof(i);
		k.mv_data = &i;
		v.mv_size = FILTER_CHUNK;
		v.mv_data = bitmap + i * FILTER_CHUNK;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_FILTER], &k, &v,
		    MDB_APPEND)) != 0)
			goto out;
	}
	rc = filter_params_put(st, txn, FILTER_PARAMS, &p);
out:
	free(bitmap);
	return rc;
}

/* Set nk's bits in filter p (count and generation bumped, not saved). */
static int
filter_add1(struct store *st, MDB_txn *txn, struct filter_params *p,
    uint64_t nk)
{
	unsigned bits[FILTER_K];
	uint64_t chunk;
	size_t off;
	MDB_val k, v;
	int rc;

	p->count++;
	p->gen++;
	if ((rc = filter_chunk_get(st, txn, p, nk, bits, &chunk, &k, &v,
	    &off)) != 0)
		return rc;
	if (filter_has((const uint8_t *)v.mv_data + off, bits))
		return 0;
	/* Copy out first: the put may reuse the old value's pages. */
	memcpy(st->chunk, v.mv_data, FILTER_CHUNK);
	filter_set(st->chunk + off, bits);
	v.mv_size = FILTER_CHUNK;
	v.mv_data = st->chunk;
	return mdb_put(txn, st->dbi[STORE_DB_FILTER], &k, &v, 0);
}

/* The next filter of a growth: 0 (*has set) or an LMDB code. */
static int
filter_next_get(struct store *st, MDB_txn *txn, struct filter_params *g,
    bool *has)
{
	int rc;

	rc = filter_params_get(st, txn, FILTER_GROW, g);
	*has = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_filter_add(struct store *st, MDB_txn *txn, uint64_t nk)
{
	struct filter_params p, g;
	bool has_g;
	int rc;

	rc = filter_params_get(st, txn, FILTER_PARAMS, &p);
	if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED)
		return filter_rebuild(st, txn);	/* includes nk */
	if (rc != 0 || (rc = filter_next_get(st, txn, &g, &has_g)) != 0)
		return rc;
	/* Without a growth under way (lookup.c begins one): at once. */
	if (!has_g && p.count + 1 > p.capacity)
		return filter_rebuild(st, txn);
	/* With one, both filters; the old one only gets fuller. */
	if (has_g && ((rc = filter_add1(st, txn, &g, nk)) != 0 ||
	    (rc = filter_params_put(st, txn, FILTER_GROW, &g)) != 0))
		return rc;
	if ((rc = filter_add1(st, txn, &p, nk)) != 0)
		return rc;
	return filter_params_put(st, txn, FILTER_PARAMS, &p);
}

int
store_filter_rebuild(struct store *st, MDB_txn *txn)
{
	return filter_rebuild(st, txn);
}

/* --- growing in steps ------------------------------------------------ */

int
store_filter_growing(struct store *st, MDB_txn *txn, bool *yes)
{
	struct filter_params g;

	return filter_next_get(st, txn, &g, yes);
}

int
store_filter_grow_wanted(struct store *st, MDB_txn *txn, bool *yes)
{
	struct filter_params p, g;
	bool has_g;
	int rc;

	*yes = false;
	rc = filter_params_get(st, txn, FILTER_PARAMS, &p);
	if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED)
		return 0;
	if (rc != 0 || (rc = filter_next_get(st, txn, &g, &has_g)) != 0)
		return rc;
	*yes = !has_g && p.count + 1 > p.capacity;
	return 0;
}

int
store_filter_grow_begin(struct store *st, MDB_txn *txn, uint64_t numbers)
{
	struct filter_params p, g;
	bool has_g;
	int rc;

	rc = filter_params_get(st, txn, FILTER_PARAMS, &p);
	if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED)
		return filter_rebuild(st, txn);
	if (rc != 0 || (rc = filter_next_get(st, txn, &g, &has_g)) != 0 ||
	    has_g)
		return rc;
	memset(&g, 0, sizeof(g));
	filter_size(&g, numbers * 2);
	/* Absent chunks read as zeros: creating it writes none. */
	g.base = p.base + FILTER_BASE_STEP;
	return filter_params_put(st, txn, FILTER_GROW, &g);
}

/* A number and its block in the next filter. */
struct filter_ent {
	uint64_t	 block;
	uint64_t	 nk;
};

static int
filter_ent_cmp(const void *a, const void *b)
{
	const struct filter_ent *x = a, *y = b;

	return x->block < y->block ? -1 : x->block > y->block;
}

/* Write chunk i (buf) of filter g. */
static int
filter_chunk_put(struct store *st, MDB_txn *txn, const struct filter_params *g,
    uint64_t i, uint8_t *buf)
{
	uint64_t key = g->base + i;
	MDB_val k = { sizeof(key), &key }, v = { FILTER_CHUNK, buf };

	return mdb_put(txn, st->dbi[STORE_DB_FILTER], &k, &v, 0);
}

/* Set the bits of ents[0..n) (sorted by block) in g, a chunk at a time. */
static int
filter_set_sorted(struct store *st, MDB_txn *txn, struct filter_params *g,
    const struct filter_ent *ents, size_t n, uint8_t *buf)
{
	unsigned bits[FILTER_K];
	uint64_t chunk = UINT64_MAX, key;
	MDB_val k, v;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (ents[i].block / FILTER_BLOCKS_PER_CHUNK != chunk) {
			if (chunk != UINT64_MAX && (rc = filter_chunk_put(st,
			    txn, g, chunk, buf)) != 0)
				return rc;
			chunk = ents[i].block / FILTER_BLOCKS_PER_CHUNK;
			if ((rc = store_chunk_get(txn,
			    st->dbi[STORE_DB_FILTER], g->base, chunk, &key,
			    &k, &v)) != 0)
				return rc;
			memcpy(buf, v.mv_data, FILTER_CHUNK);
		}
		(void)filter_locate(g, ents[i].nk, bits);
		filter_set(buf + (ents[i].block % FILTER_BLOCKS_PER_CHUNK) *
		    FILTER_BLOCK, bits);
	}
	return chunk == UINT64_MAX ? 0 : filter_chunk_put(st, txn, g, chunk,
	    buf);
}

int
store_filter_grow_add(struct store *st, MDB_txn *txn, const uint64_t *nks,
    size_t n)
{
	struct filter_params g;
	struct filter_ent *ents;
	unsigned bits[FILTER_K];
	uint8_t *buf;
	bool has_g;
	size_t i;
	int rc;

	if ((rc = filter_next_get(st, txn, &g, &has_g)) != 0 || !has_g ||
	    n == 0)
		return rc;
	ents = calloc(n, sizeof(*ents));
	buf = malloc(FILTER_CHUNK);
	if (ents == NULL || buf == NULL) {
		rc = ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		ents[i].nk = nks[i];
		ents[i].block = filter_locate(&g, nks[i], bits);
	}
	qsort(ents, n, sizeof(ents[0]), filter_ent_cmp);
	if ((rc = filter_set_sorted(st, txn, &g, ents, n, buf)) != 0)
		goto out;
	g.count += n;
	g.gen++;
	rc = filter_params_put(st, txn, FILTER_GROW, &g);
out:
	free(buf);
	free(ents);
	return rc;
}

int
store_filter_grow_end(struct store *st, MDB_txn *txn, uint64_t count)
{
	struct filter_params p, g;
	bool has_g;
	int rc;

	if ((rc = filter_next_get(st, txn, &g, &has_g)) != 0)
		return rc;
	if (!has_g)	/* not begun with the hash's (an older store) */
		return filter_rebuild(st, txn);
	if (filter_params_get(st, txn, FILTER_PARAMS, &p) == 0)
		g.gen = p.gen + 1;
	g.count = count;
	if ((rc = filter_params_put(st, txn, FILTER_PARAMS, &g)) != 0)
		return rc;
	return store_chunk_params_del(txn, st->dbi[STORE_DB_FILTER],
	    FILTER_GROW);
}

int
store_filter_sweep(struct store *st, MDB_txn *txn, size_t max, size_t *n)
{
	struct filter_params p;

	*n = 0;
	if (filter_params_get(st, txn, FILTER_PARAMS, &p) != 0 || p.base == 0)
		return 0;
	return store_chunk_sweep(txn, st->dbi[STORE_DB_FILTER], p.base, max,
	    n);
}
