/*
 * store/numhash: an exact hash table of the numbers with state, kept
 * inside the environment next to the numbers index, so that a rejected
 * send is decided with one or two cache lines instead of a B-tree walk.
 *
 * Why: the Bloom filter (filter.c) answers "no state" for most numbers,
 * but a number that has state still took a walk of the numbers index:
 * binary searches in 4 KB pages over a tree of a million keys, several
 * dependent cache misses, about half of what rejecting a send cost. Here
 * the number's hash picks a slot; the slot holds the number's state when
 * it is simple (one entry, global or one category, no exception: nearly
 * every opted-out number) and says "read the summary" otherwise.
 *
 * Layout (database "numbers_hash", integer keys): chunk i -> NH_CHUNK
 * bytes of NH_SLOTS_PER_CHUNK slots under key base + i (LMDB keeps a
 * large value in contiguous overflow pages); NH_PARAMS -> version,
 * chunks, count, generation, base, flags; NH_CATS -> the category names
 * that slots refer to by number; while a growth is under way NH_GROW ->
 * the new table and how far the move got. Linear probing over the whole
 * table, which grows (in steps, see lookup.c) for 8/5 of the count when
 * it is 80% full; deletion shifts the run back, so no tombstones. Every
 * write bumps the generation, in the transaction that changes the slots:
 * a reader whose parameters match in full knows its views of the chunks
 * are still the pages of the current snapshot.
 *
 * Slot (32 bytes, native byte order like LMDB's own integer keys):
 *   0 number key (store_numkey; 0 = empty)   8 since   16 event id
 *   24 category id (0 = global "*")   26 kind   27..31 zero
 */
#include "store/numhash_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NH_CHUNK		STORE_CHUNK
#define NH_SLOT			32
#define NH_SLOTS_PER_CHUNK	(NH_CHUNK / NH_SLOT)
#define NH_PARAMS		UINT64_MAX
#define NH_CATS			(UINT64_MAX - 1)
#define NH_V1			1
#define NH_MIN_CHUNKS		2
#define NH_CATS_MAX		STORE_NUMHASH_CATS

/* Load limits, as (count + 1) * den > slots * num. */
#define NH_GROW_NUM		4	/* a growth begins past 4/5 */
#define NH_GROW_DEN		5
#define NH_HARD_NUM		7	/* during one, no table past 7/8 */
#define NH_HARD_DEN		8
#define NH_V2			2	/* v1 + base and flags */
#define NH_F_INCOMPLETE		1	/* some number is not in the table */
#define NH_GROW			(UINT64_MAX - 2)
#define NH_GROW_V1		1
#define NH_BASE_STEP		(UINT64_C(1) << 40)

/* A table: where its chunks are and what it holds. */
struct nh_params {
	uint64_t	 nchunks;
	uint64_t	 count;
	uint64_t	 gen;
	uint64_t	 base;		/* key of chunk 0 */
	uint64_t	 flags;
};

/* A growth under way: the new table and how far the move got. */
struct nh_grow {
	struct nh_params t;
	uint64_t	 pos;		/* old slots [0, pos) moved */
	uint64_t	 total;		/* numbers in the old table at start */
	uint64_t	 moved;
};

/* Returned by nh_table_put when the table has no room; not LMDB's. */
#define NH_NOROOM		(-1000002)

/* --- encoding -------------------------------------------------------- */

static uint64_t
nh_mix(uint64_t x)
{
	/* The filter (version 3) places numbers in the same order. */
	return store_mix64(x ^ STORE_MIX_SALT);
}

/* The first slot to probe for nk, in [0, nslots). */
static uint64_t
nh_home(uint64_t nk, uint64_t nslots)
{
	uint64_t h = nh_mix(nk);

	/* Fast range over 32 bits: tables stay far below 2^32 slots. */
	return ((h >> 32) * nslots) >> 32;
}

static uint64_t
nh_slot_key(const uint8_t *slot)
{
	uint64_t k;

	memcpy(&k, slot, sizeof(k));
	return k;
}

static void
nh_slot_put(uint8_t *slot, uint64_t nk, const struct store_summary_ent *e)
{
	uint16_t cat = e->catid;

	memset(slot, 0, NH_SLOT);
	memcpy(slot, &nk, 8);
	memcpy(slot + 8, &e->since, 8);
	memcpy(slot + 16, &e->event_id, 8);
	memcpy(slot + 24, &cat, 2);
	slot[26] = (uint8_t)e->kind;
}

static void
nh_slot_get(const uint8_t *slot, struct store_summary_ent *e)
{
	uint16_t cat;

	memcpy(&e->since, slot + 8, 8);
	memcpy(&e->event_id, slot + 16, 8);
	memcpy(&cat, slot + 24, 2);
	e->catid = cat;
	e->kind = slot[26];
}

static int
nh_params_get(struct store *st, MDB_txn *txn, struct nh_params *p)
{
	uint64_t f[STORE_CHUNK_PARAMS_MAX];
	uint8_t version;
	size_t nf;
	int rc;

	if (st->is_missing[STORE_DB_NUMHASH])
		return MDB_NOTFOUND;
	if ((rc = store_chunk_params_get(txn, st->dbi[STORE_DB_NUMHASH],
	    NH_PARAMS, &version, f, &nf)) != 0)
		return rc;
	if (!(version == NH_V1 && nf == 3) && !(version == NH_V2 && nf == 5))
		return MDB_CORRUPTED;
	p->nchunks = f[0];
	p->count = f[1];
	p->gen = f[2];
	p->base = version == NH_V2 ? f[3] : 0;
	p->flags = version == NH_V2 ? f[4] : 0;
	if (p->nchunks == 0 ||
	    p->nchunks * NH_SLOTS_PER_CHUNK >= UINT64_C(1) << 32 ||
	    p->base > UINT64_MAX / 2)
		return MDB_CORRUPTED;
	return 0;
}

static int
nh_params_put(struct store *st, MDB_txn *txn, const struct nh_params *p)
{
	const uint64_t f[] = { p->nchunks, p->count, p->gen, p->base,
	    p->flags };

	return store_chunk_params_put(txn, st->dbi[STORE_DB_NUMHASH],
	    NH_PARAMS, NH_V2, f, 5);
}

/* The growth record: 0 (*has set), or an LMDB code. */
static int
nh_grow_get(struct store *st, MDB_txn *txn, struct nh_grow *g, bool *has)
{
	uint64_t f[STORE_CHUNK_PARAMS_MAX];
	uint8_t version;
	size_t nf;
	int rc;

	*has = false;
	if (st->is_missing[STORE_DB_NUMHASH])
		return 0;
	rc = store_chunk_params_get(txn, st->dbi[STORE_DB_NUMHASH], NH_GROW,
	    &version, f, &nf);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (version != NH_GROW_V1 || nf != 7)
		return MDB_CORRUPTED;
	memset(g, 0, sizeof(*g));
	g->t.nchunks = f[0];
	g->t.count = f[1];
	g->t.gen = f[2];
	g->t.base = f[3];
	g->pos = f[4];
	g->total = f[5];
	g->moved = f[6];
	if (g->t.nchunks == 0 ||
	    g->t.nchunks * NH_SLOTS_PER_CHUNK >= UINT64_C(1) << 32)
		return MDB_CORRUPTED;
	*has = true;
	return 0;
}

static int
nh_grow_put(struct store *st, MDB_txn *txn, const struct nh_grow *g)
{
	const uint64_t f[] = { g->t.nchunks, g->t.count, g->t.gen, g->t.base,
	    g->pos, g->total, g->moved };

	return store_chunk_params_put(txn, st->dbi[STORE_DB_NUMHASH], NH_GROW,
	    NH_GROW_V1, f, 7);
}

/* Would one more number put p past num/den of its slots? */
static bool
nh_over(const struct nh_params *p, uint64_t num, uint64_t den)
{
	return (p->count + 1) * den > p->nchunks * NH_SLOTS_PER_CHUNK * num;
}

/* Slots for n numbers at a load of 5/8, in whole chunks. */
static uint64_t
nh_chunks_for(uint64_t n)
{
	uint64_t c = (n / 5 * 8 + NH_SLOTS_PER_CHUNK) / NH_SLOTS_PER_CHUNK;

	return c < NH_MIN_CHUNKS ? NH_MIN_CHUNKS : c;
}

/* --- category names -------------------------------------------------- */

/*
 * The names record: for ids 1..n in order, a length byte and the name.
 * Parse v into names[] (NULL-free views, lens[]); returns the count or -1.
 */
static int
nh_cats_parse(const MDB_val *v, const char **names, uint8_t *lens)
{
	const uint8_t *p = v->mv_data, *end = p + v->mv_size;
	int n = 0;

	while (p < end) {
		if (n == NH_CATS_MAX || *p == 0 || (size_t)(end - p) < 1u + *p)
			return -1;
		lens[n] = *p;
		names[n++] = (const char *)p + 1;
		p += 1 + *p;
	}
	return n;
}

int
store_numhash_catid(struct store *st, MDB_txn *txn, const char *name,
    size_t len, bool may_add, uint16_t *id)
{
	const char *names[NH_CATS_MAX];
	uint8_t lens[NH_CATS_MAX], buf[NH_CATS_MAX * (1 + STORE_NAME_MAX)];
	uint64_t key = NH_CATS;
	MDB_val k = { sizeof(key), &key }, v = { 0, NULL };
	int n = 0, i, rc;

	rc = mdb_get(txn, st->dbi[STORE_DB_NUMHASH], &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0 && (n = nh_cats_parse(&v, names, lens)) < 0)
		return MDB_CORRUPTED;
	for (i = 0; i < n; i++)
		if (lens[i] == len && memcmp(names[i], name, len) == 0) {
			*id = (uint16_t)(i + 1);
			return 0;
		}
	if (!may_add || n == NH_CATS_MAX || len == 0 || len >= STORE_NAME_MAX)
		return MDB_NOTFOUND;
	/* Copy out first: the put may reuse the old value's pages. */
	if (v.mv_size > 0)
		memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = (uint8_t)len;
	memcpy(buf + v.mv_size + 1, name, len);
	v.mv_size += 1 + len;
	v.mv_data = buf;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_NUMHASH], &k, &v, 0)) != 0)
		return rc;
	*id = (uint16_t)(n + 1);
	return 0;
}

/* --- the shared read txn's views ------------------------------------- */

static int
nh_views_load(struct store *st, struct store_numhash_views *hv)
{
	struct nh_params p;
	uint64_t key = NH_CATS;
	MDB_val k = { sizeof(key), &key }, v;
	int rc;

	hv->cv.is_valid = false;
	/* A table short of a number cannot say "none": the summary can. */
	if (nh_params_get(st, st->rtxn, &p) != 0 ||
	    (p.flags & NH_F_INCOMPLETE) != 0)
		return -1;
	hv->ncats = 0;
	rc = mdb_get(st->rtxn, st->dbi[STORE_DB_NUMHASH], &k, &v);
	if (rc == 0) {
		if ((rc = nh_cats_parse(&v, hv->cats, hv->catlens)) < 0)
			return -1;
		hv->ncats = rc;
	} else if (rc != MDB_NOTFOUND)
		return -1;
	hv->count = p.count;
	hv->gen = p.gen;
	return store_chunk_views_reset(&hv->cv, p.base, p.nchunks,
	    mdb_txn_id(st->rtxn));
}

/* As the filter's: good for a later snapshot with the same parameters. */
static bool
nh_views_current(struct store *st, struct store_numhash_views *hv)
{
	struct nh_params p;
	size_t id;

	if (!hv->cv.is_valid)
		return false;
	if ((id = mdb_txn_id(st->rtxn)) == hv->cv.txnid)
		return true;
	if (nh_params_get(st, st->rtxn, &p) != 0 || p.nchunks != hv->cv.n ||
	    p.count != hv->count || p.gen != hv->gen ||
	    p.base != hv->cv.base || p.flags != 0)
		return false;
	hv->cv.txnid = id;
	return true;
}

/* The view of slot i, or NULL. */
static const uint8_t *
nh_view_slot(struct store *st, struct store_numhash_views *hv, uint64_t i)
{
	const uint8_t *chunk;

	if ((chunk = store_chunk_view(&hv->cv, st->rtxn,
	    st->dbi[STORE_DB_NUMHASH], i / NH_SLOTS_PER_CHUNK)) == NULL)
		return NULL;
	return chunk + (i % NH_SLOTS_PER_CHUNK) * NH_SLOT;
}

int
store_numhash_find(struct store *st, struct store_numhash_views *hv,
    uint64_t nk, const char *category, size_t clen,
    struct store_summary_ent *e, bool *is_cat)
{
	const uint8_t *slot;
	uint64_t i, nslots, probes;
	int c;

	if (!nh_views_current(st, hv) && nh_views_load(st, hv) != 0)
		return -1;
	nslots = hv->cv.n * NH_SLOTS_PER_CHUNK;
	i = nh_home(nk, nslots);
	for (probes = 0; probes < nslots; probes++) {
		if ((slot = nh_view_slot(st, hv, i)) == NULL)
			return -1;
		if (nh_slot_key(slot) == nk)
			break;
		if (nh_slot_key(slot) == 0)
			return 0;
		i = i + 1 == nslots ? 0 : i + 1;
	}
	if (probes == nslots)
		return -1;	/* full: cannot be, read the summary */
	nh_slot_get(slot, e);
	*is_cat = false;
	if (e->kind == STORE_SUMMARY_SIMPLE && e->catid != 0) {
		c = e->catid - 1;
		if (c >= hv->ncats)
			return -1;
		*is_cat = hv->catlens[c] == clen &&
		    memcmp(hv->cats[c], category, clen) == 0;
	}
	return 1;
}

void
store_numhash_prefetch(struct store *st, struct store_numhash_views *hv,
    uint64_t nk)
{
	const uint8_t *slot;

	if (!nh_views_current(st, hv) && nh_views_load(st, hv) != 0)
		return;
	if ((slot = nh_view_slot(st, hv, nh_home(nk, hv->cv.n *
	    NH_SLOTS_PER_CHUNK))) != NULL)
		__builtin_prefetch(slot);
}

/* --- writing --------------------------------------------------------- */

/* Read slot i of table p into out. */
static int
nh_read(struct store *st, MDB_txn *txn, const struct nh_params *p,
    uint64_t i, uint8_t out[NH_SLOT])
{
	uint64_t key;
	MDB_val k, v;
	int rc;

	if ((rc = store_chunk_get(txn, st->dbi[STORE_DB_NUMHASH], p->base,
	    i / NH_SLOTS_PER_CHUNK, &key, &k, &v)) != 0)
		return rc;
	memcpy(out, (const uint8_t *)v.mv_data +
	    (i % NH_SLOTS_PER_CHUNK) * NH_SLOT, NH_SLOT);
	return 0;
}

/* Write slot i of table p (a copy of its chunk, changed, put back). */
static int
nh_write(struct store *st, MDB_txn *txn, const struct nh_params *p,
    uint64_t i, const uint8_t in[NH_SLOT])
{
	uint64_t key;
	MDB_val k, v;
	int rc;

	if ((rc = store_chunk_get(txn, st->dbi[STORE_DB_NUMHASH], p->base,
	    i / NH_SLOTS_PER_CHUNK, &key, &k, &v)) != 0)
		return rc;
	/* Copy out first: the put may reuse the old value's pages. */
	memcpy(st->chunk, v.mv_data, NH_CHUNK);
	memcpy(st->chunk + (i % NH_SLOTS_PER_CHUNK) * NH_SLOT, in, NH_SLOT);
	v.mv_size = NH_CHUNK;
	v.mv_data = st->chunk;
	return mdb_put(txn, st->dbi[STORE_DB_NUMHASH], &k, &v, 0);
}

/*
 * Where nk is (*found) or would go in table p: its slot, or the empty
 * slot that ends its probe run. 0 or an LMDB code.
 */
static int
nh_probe(struct store *st, MDB_txn *txn, const struct nh_params *p,
    uint64_t nk, uint64_t *at, bool *found)
{
	uint8_t slot[NH_SLOT];
	uint64_t i, nslots = p->nchunks * NH_SLOTS_PER_CHUNK, n;
	int rc;

	i = nh_home(nk, nslots);
	for (n = 0; n < nslots; n++) {
		if ((rc = nh_read(st, txn, p, i, slot)) != 0)
			return rc;
		if (nh_slot_key(slot) == nk || nh_slot_key(slot) == 0) {
			*at = i;
			*found = nh_slot_key(slot) == nk;
			return 0;
		}
		i = i + 1 == nslots ? 0 : i + 1;
	}
	return MDB_CORRUPTED;	/* no empty slot: never past 7/8 */
}

/*
 * Put slot (of number nk) in table p, updating p (not saved). A new
 * number that would take p past num/den of its slots is not put:
 * NH_NOROOM. Otherwise 0 or an LMDB code.
 */
static int
nh_table_put(struct store *st, MDB_txn *txn, struct nh_params *p,
    uint64_t nk, const uint8_t slot[NH_SLOT], uint64_t num, uint64_t den)
{
	uint64_t at;
	bool found;
	int rc;

	if ((rc = nh_probe(st, txn, p, nk, &at, &found)) != 0)
		return rc;
	if (!found && nh_over(p, num, den))
		return NH_NOROOM;
	if ((rc = nh_write(st, txn, p, at, slot)) != 0)
		return rc;
	if (!found)
		p->count++;
	p->gen++;
	return 0;
}

/*
 * Delete nk from table p, updating p (not saved). Every entry the
 * deletion moves is put in table also too (if not NULL): see the growth
 * below. 0, NH_NOROOM (also is full) or an LMDB code.
 */
static int
nh_table_del(struct store *st, MDB_txn *txn, struct nh_params *p,
    uint64_t nk, struct nh_params *also)
{
	uint8_t slot[NH_SLOT], empty[NH_SLOT];
	uint64_t i, j, home, nslots;
	bool found;
	int rc;

	if ((rc = nh_probe(st, txn, p, nk, &i, &found)) != 0 || !found)
		return rc;
	/*
	 * Backward shift: move each later entry of the run whose home is
	 * not cyclically in (i, j] into the hole, until an empty slot.
	 */
	nslots = p->nchunks * NH_SLOTS_PER_CHUNK;
	for (j = i;;) {
		j = j + 1 == nslots ? 0 : j + 1;
		if ((rc = nh_read(st, txn, p, j, slot)) != 0)
			return rc;
		if (nh_slot_key(slot) == 0)
			break;
		home = nh_home(nh_slot_key(slot), nslots);
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		if ((rc = nh_write(st, txn, p, i, slot)) != 0)
			return rc;
		if (also != NULL && (rc = nh_table_put(st, txn, also,
		    nh_slot_key(slot), slot, NH_HARD_NUM, NH_HARD_DEN)) != 0)
			return rc;
		i = j;
	}
	memset(empty, 0, sizeof(empty));
	if ((rc = nh_write(st, txn, p, i, empty)) != 0)
		return rc;
	p->count--;
	p->gen++;
	return 0;
}

/*
 * The table and the growth record, if any, in txn. 0; MDB_NOTFOUND or
 * MDB_CORRUPTED when there is no usable table; or an LMDB code.
 */
static int
nh_state(struct store *st, MDB_txn *txn, struct nh_params *p,
    struct nh_grow *g, bool *has_g)
{
	int rc;

	if ((rc = nh_params_get(st, txn, p)) != 0)
		return rc;
	return nh_grow_get(st, txn, g, has_g);
}

int
store_numhash_put(struct store *st, MDB_txn *txn, uint64_t nk,
    const struct store_summary_ent *e)
{
	struct nh_params p;
	struct nh_grow g;
	uint8_t slot[NH_SLOT];
	bool has_g;
	int rc;

	if ((rc = nh_state(st, txn, &p, &g, &has_g)) != 0)
		return rc == MDB_NOTFOUND || rc == MDB_CORRUPTED ?
		    store_numhash_rebuild(st, txn) : rc;
	nh_slot_put(slot, nk, e);
	if (!has_g) {
		rc = nh_table_put(st, txn, &p, nk, slot, NH_GROW_NUM,
		    NH_GROW_DEN);
		if (rc == NH_NOROOM)	/* no growth begun: at once */
			return store_numhash_rebuild(st, txn);
		return rc != 0 ? rc : nh_params_put(st, txn, &p);
	}
	/* Growing: both tables (the rules are in lookup.c). */
	rc = nh_table_put(st, txn, &g.t, nk, slot, NH_HARD_NUM, NH_HARD_DEN);
	if (rc == NH_NOROOM)
		return store_numhash_rebuild(st, txn);
	if (rc != 0)
		return rc;
	rc = nh_table_put(st, txn, &p, nk, slot, NH_HARD_NUM, NH_HARD_DEN);
	if (rc == NH_NOROOM) {
		p.flags |= NH_F_INCOMPLETE;
		p.gen++;
	} else if (rc != 0)
		return rc;
	if ((rc = nh_params_put(st, txn, &p)) != 0)
		return rc;
	return nh_grow_put(st, txn, &g);
}

int
store_numhash_del(struct store *st, MDB_txn *txn, uint64_t nk)
{
	struct nh_params p;
	struct nh_grow g;
	bool has_g;
	int rc;

	if ((rc = nh_state(st, txn, &p, &g, &has_g)) != 0)
		return rc == MDB_NOTFOUND || rc == MDB_CORRUPTED ?
		    store_numhash_rebuild(st, txn) : rc;
	if (!has_g) {
		if ((rc = nh_table_del(st, txn, &p, nk, NULL)) != 0)
			return rc;
		return nh_params_put(st, txn, &p);
	}
	if ((rc = nh_table_del(st, txn, &g.t, nk, NULL)) != 0 ||
	    (rc = nh_table_del(st, txn, &p, nk, &g.t)) != 0)
		return rc == NH_NOROOM ? store_numhash_rebuild(st, txn) : rc;
	if ((rc = nh_params_put(st, txn, &p)) != 0)
		return rc;
	return nh_grow_put(st, txn, &g);
}

/* --- growing in steps ------------------------------------------------ */

int
store_numhash_grow_wanted(struct store *st, MDB_txn *txn, bool *yes)
{
	struct nh_params p;
	struct nh_grow g;
	bool has_g;
	int rc;

	*yes = false;
	if ((rc = nh_state(st, txn, &p, &g, &has_g)) != 0)
		return rc == MDB_NOTFOUND || rc == MDB_CORRUPTED ? 0 : rc;
	*yes = !has_g && nh_over(&p, NH_GROW_NUM, NH_GROW_DEN);
	return 0;
}

int
store_numhash_grow_begin(struct store *st, MDB_txn *txn, uint64_t numbers)
{
	struct nh_params p;
	struct nh_grow g;
	bool has_g;
	int rc;

	if ((rc = nh_state(st, txn, &p, &g, &has_g)) != 0)
		return rc == MDB_NOTFOUND || rc == MDB_CORRUPTED ?
		    store_numhash_rebuild(st, txn) : rc;
	if (has_g)
		return 0;
	memset(&g, 0, sizeof(g));
	g.t.nchunks = nh_chunks_for(numbers > p.count ? numbers : p.count);
	if (g.t.nchunks <= p.nchunks)
		g.t.nchunks = p.nchunks + 1;
	if (g.t.nchunks * NH_SLOTS_PER_CHUNK >= UINT64_C(1) << 32)
		return MDB_BAD_VALSIZE;
	/* Absent chunks read as empty: creating the table writes none. */
	g.t.base = p.base + NH_BASE_STEP;
	g.total = p.count;
	return nh_grow_put(st, txn, &g);
}

int
store_numhash_grow_progress(struct store *st, MDB_txn *txn, uint64_t *moved,
    uint64_t *total, bool *is_growing)
{
	struct nh_grow g;
	bool has_g;
	int rc;

	*moved = *total = 0;
	rc = nh_grow_get(st, txn, &g, &has_g);
	*is_growing = rc == 0 && has_g;
	if (rc != 0 || !has_g)
		return rc;
	*moved = g.moved;
	*total = g.total > g.moved ? g.total : g.moved;
	return 0;
}

/* An entry on its way to the new table, and its home there. */
struct nh_ent {
	uint64_t	 home;
	uint8_t		 slot[NH_SLOT];
};

static int
nh_ent_cmp(const void *a, const void *b)
{
	const struct nh_ent *x = a, *y = b;

	return x->home < y->home ? -1 : x->home > y->home;
}

/*
 * Copy the entries of up to max slots of table p from *pos on into ents
 * (room for max), *n of them; *pos moves past the slots read. Reads a
 * chunk once.
 */
static int
nh_collect(struct store *st, MDB_txn *txn, const struct nh_params *p,
    uint64_t *pos, size_t max, struct nh_ent *ents, size_t *n)
{
	uint64_t nslots = p->nchunks * NH_SLOTS_PER_CHUNK, key, end;
	const uint8_t *c;
	MDB_val k, v;
	int rc;

	*n = 0;
	end = *pos + max < nslots ? *pos + max : nslots;
	while (*pos < end) {
		if ((rc = store_chunk_get(txn, st->dbi[STORE_DB_NUMHASH],
		    p->base, *pos / NH_SLOTS_PER_CHUNK, &key, &k, &v)) != 0)
			return rc;
		c = v.mv_data;
		do {
			if (nh_slot_key(c + (*pos % NH_SLOTS_PER_CHUNK) *
			    NH_SLOT) != 0)
				memcpy(ents[(*n)++].slot, c + (*pos %
				    NH_SLOTS_PER_CHUNK) * NH_SLOT, NH_SLOT);
			(*pos)++;
		} while (*pos < end && *pos % NH_SLOTS_PER_CHUNK != 0);
	}
	return 0;
}

/* A chunk of the new table being filled in memory (buf, NH_CHUNK). */
struct nh_fill {
	uint8_t		*buf;
	uint64_t	 chunk;
	bool		 is_loaded;
};

static int
nh_fill_flush(struct store *st, MDB_txn *txn, const struct nh_params *t,
    struct nh_fill *f)
{
	uint64_t key;
	MDB_val k, v;

	if (!f->is_loaded)
		return 0;
	f->is_loaded = false;
	key = t->base + f->chunk;
	k.mv_size = sizeof(key);
	k.mv_data = &key;
	v.mv_size = NH_CHUNK;
	v.mv_data = f->buf;
	return mdb_put(txn, st->dbi[STORE_DB_NUMHASH], &k, &v, 0);
}

/*
 * Put one moved entry in table t through f: in the chunk in memory when
 * its probe run ends there, else (a run across a chunk's end) directly.
 */
static int
nh_fill_put(struct store *st, MDB_txn *txn, struct nh_params *t,
    struct nh_fill *f, const uint8_t *slot)
{
	uint64_t nk = nh_slot_key(slot), home, key, i;
	uint8_t *s;
	MDB_val k, v;
	int rc;

	home = nh_home(nk, t->nchunks * NH_SLOTS_PER_CHUNK);
	if (!f->is_loaded || f->chunk != home / NH_SLOTS_PER_CHUNK) {
		if ((rc = nh_fill_flush(st, txn, t, f)) != 0 ||
		    (rc = store_chunk_get(txn, st->dbi[STORE_DB_NUMHASH],
		    t->base, home / NH_SLOTS_PER_CHUNK, &key, &k, &v)) != 0)
			return rc;
		memcpy(f->buf, v.mv_data, NH_CHUNK);
		f->chunk = home / NH_SLOTS_PER_CHUNK;
		f->is_loaded = true;
	}
	for (i = home % NH_SLOTS_PER_CHUNK; i < NH_SLOTS_PER_CHUNK; i++) {
		s = f->buf + i * NH_SLOT;
		if (nh_slot_key(s) != nk && nh_slot_key(s) != 0)
			continue;
		if (nh_slot_key(s) == 0) {
			if (nh_over(t, NH_HARD_NUM, NH_HARD_DEN))
				return NH_NOROOM;
			t->count++;
		}
		memcpy(s, slot, NH_SLOT);
		return 0;
	}
	if ((rc = nh_fill_flush(st, txn, t, f)) != 0)
		return rc;
	return nh_table_put(st, txn, t, nk, slot, NH_HARD_NUM, NH_HARD_DEN);
}

/* Move ents[0..n) into the new table, in the order of their homes. */
static int
nh_move(struct store *st, MDB_txn *txn, struct nh_grow *g,
    struct nh_ent *ents, size_t n)
{
	struct nh_fill f = { NULL, 0, false };
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((f.buf = malloc(NH_CHUNK)) == NULL)
		return ENOMEM;
	for (i = 0; i < n; i++)
		ents[i].home = nh_home(nh_slot_key(ents[i].slot),
		    g->t.nchunks * NH_SLOTS_PER_CHUNK);
	qsort(ents, n, sizeof(ents[0]), nh_ent_cmp);
	for (i = 0; i < n && rc == 0; i++)
		rc = nh_fill_put(st, txn, &g->t, &f, ents[i].slot);
	if (rc == 0)
		rc = nh_fill_flush(st, txn, &g->t, &f);
	free(f.buf);
	return rc;
}

int
store_numhash_grow_step(struct store *st, MDB_txn *txn, size_t max,
    uint64_t *nks, size_t *n, bool *is_done)
{
	struct nh_params p;
	struct nh_grow g;
	struct nh_ent *ents;
	bool has_g;
	size_t i;
	int rc;

	*n = 0;
	*is_done = true;
	if ((rc = nh_state(st, txn, &p, &g, &has_g)) != 0 || !has_g)
		return rc;
	if ((ents = calloc(max, sizeof(*ents))) == NULL)
		return ENOMEM;
	/* max slots hold fewer numbers: the step stays within max. */
	if ((rc = nh_collect(st, txn, &p, &g.pos, max, ents, n)) != 0 ||
	    (rc = nh_move(st, txn, &g, ents, *n)) != 0)
		goto out;
	for (i = 0; i < *n; i++)
		nks[i] = nh_slot_key(ents[i].slot);
	g.moved += *n;
	*is_done = g.pos >= p.nchunks * NH_SLOTS_PER_CHUNK;
	if (!*is_done) {
		rc = nh_grow_put(st, txn, &g);
		goto out;
	}
	/* Every number is in the new table: it is the table from now. */
	g.t.gen = p.gen + 1;
	g.t.flags = 0;
	if ((rc = nh_params_put(st, txn, &g.t)) != 0)
		goto out;
	rc = store_chunk_params_del(txn, st->dbi[STORE_DB_NUMHASH], NH_GROW);
out:
	free(ents);
	if (rc != NH_NOROOM)
		return rc;
	/*
	 * The new table filled up (numbers came faster than the growth):
	 * rebuild at once. The growth is over without a switch, so nothing
	 * was moved as far as the caller is concerned.
	 */
	*n = 0;
	*is_done = false;
	return store_numhash_rebuild(st, txn);
}

/* Is there a key of dbi below base? */
static bool
nh_has_below(MDB_txn *txn, MDB_dbi dbi, uint64_t base)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t key;
	bool yes = false;

	if (base == 0 || mdb_cursor_open(txn, dbi, &cur) != 0)
		return false;
	if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 &&
	    k.mv_size == sizeof(key)) {
		memcpy(&key, k.mv_data, sizeof(key));
		yes = key < base;
	}
	mdb_cursor_close(cur);
	return yes;
}

bool
store_numhash_pending(struct store *st, MDB_txn *txn)
{
	struct nh_params p;
	struct nh_grow g;
	bool has_g;

	if (nh_state(st, txn, &p, &g, &has_g) != 0)
		return false;
	return has_g || nh_has_below(txn, st->dbi[STORE_DB_NUMHASH], p.base);
}

int
store_numhash_sweep(struct store *st, MDB_txn *txn, size_t max, size_t *n)
{
	struct nh_params p;

	*n = 0;
	if (nh_params_get(st, txn, &p) != 0 || p.base == 0)
		return 0;
	return store_chunk_sweep(txn, st->dbi[STORE_DB_NUMHASH], p.base, max,
	    n);
}

/* Rebuild from the numbers index, for twice its count, all at once. */
int
store_numhash_rebuild(struct store *st, MDB_txn *txn)
{
	struct store_summary_ent e;
	struct nh_params p;
	MDB_cursor *cur;
	MDB_stat ms;
	MDB_val k, v;
	const char *cat;
	char last[STORE_NAME_MAX];
	size_t clen, lastlen = 0;	/* 0: no name in last */
	uint64_t nslots, i, nk, key;
	uint16_t lastid = 0;
	uint8_t *table = NULL;
	int rc;

	if (nh_params_get(st, txn, &p) != 0)
		p.gen = 0;
	p.gen++;
	p.base = 0;
	p.flags = 0;
	if ((rc = mdb_stat(txn, st->dbi[STORE_DB_NUMIDX], &ms)) != 0)
		return rc;
	p.count = 0;
	/* Load 5/8 now; it grows past 4/5. */
	p.nchunks = nh_chunks_for(ms.ms_entries);
	nslots = p.nchunks * NH_SLOTS_PER_CHUNK;
	if (nslots >= UINT64_C(1) << 32)
		return MDB_BAD_VALSIZE;
	/*
	 * The category names are assigned afresh, as entries need them; a
	 * growth under way and old tables go with the drop.
	 */
	if ((rc = mdb_drop(txn, st->dbi[STORE_DB_NUMHASH], 0)) != 0)
		return rc;
	if ((table = calloc(p.nchunks, NH_CHUNK)) == NULL)
		return ENOMEM;
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_NUMIDX], &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != sizeof(nk))
			continue;
		memcpy(&nk, k.mv_data, sizeof(nk));
		if (nk == 0)
			continue;
		if (store_summary_ent_of(&v, &e, &cat, &clen) == 1) {
			/* Runs of one category are the rule: ask once. */
			if (clen != lastlen || memcmp(cat, last, clen) != 0) {
				rc = store_numhash_catid(st, txn, cat, clen,
				    true, &lastid);
				if (rc == MDB_NOTFOUND)
					lastid = 0;	/* no id left */
				else if (rc != 0)
					break;
				/* A copy: v's page may move. */
				lastlen = clen < sizeof(last) ? clen : 0;
				memcpy(last, cat, lastlen);
			}
			if (lastid == 0)
				e.kind = STORE_SUMMARY_OTHER;
			e.catid = lastid;
		}
		for (i = nh_home(nk, nslots); nh_slot_key(table +
		    i * NH_SLOT) != 0; i = i + 1 == nslots ? 0 : i + 1)
			;
		nh_slot_put(table + i * NH_SLOT, nk, &e);
		p.count++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		goto out;
	for (i = 0; i < p.nchunks; i++) {
		key = i;
		k.mv_size = sizeof(key);
		k.mv_data = &key;
		v.mv_size = NH_CHUNK;
		v.mv_data = table + i * NH_CHUNK;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_NUMHASH], &k, &v,
		    0)) != 0)
			goto out;
	}
	rc = nh_params_put(st, txn, &p);
out:
	free(table);
	return rc;
}

bool
store_numhash_present(struct store *st, MDB_txn *txn)
{
	struct nh_params p;

	return nh_params_get(st, txn, &p) == 0;
}
