/*
 * store/lookup: the one answer the proxy asks of the store on every
 * send, "is number N opted out of category C", and the tables behind it.
 * This file is their only writer and the only reader of their formats:
 *
 *   state          number \0 category -> since, event (the truth)
 *   numbers index  packed number -> summary of its state (summary.c)
 *   numbers hash   packed number -> slot of a simple state (numhash.c)
 *   filter         Bloom filter of the packed numbers (filter.c)
 *
 * Each of the last three exists for speed (the comments of their files
 * say what each saves) and is derived from the state; every change of a
 * number's state (store_lookup_apply_txn) updates all four in the same
 * transaction, so a lookup in any snapshot sees them agree. A lookup
 * answers "not opted out" from the filter for most numbers, a simple
 * state from the hash, anything else from the summary or the state
 * entries themselves. What may be trusted is decided at open (the index
 * markers); a store from an older stopgate is rebuilt when writable and
 * read from its state entries when not.
 *
 * State entries per number (key number \0 category, "*" = global):
 *   global        every category blocked (since, event)
 *   category OUT  that category blocked
 *   category EXC  that category allowed despite the global flag
 * An opt-out never moves an existing since-time: the state changes only
 * when the effective answer for a scope changes.
 *
 * Growth. The hash is meant to stay under 4/5 full and the filter under
 * its capacity; rebuilding them inside the write that crosses the line
 * made that write (an opt-out the SMSC waits for) take seconds at
 * millions of numbers. Instead that write only begins a growth of both
 * (grow_maybe: a record each, the new tables empty and, their chunks
 * absent, free), and store_lookup_grow_step() moves the numbers over in
 * bounded lazy transactions that any writable process may run:
 *
 *  - Lookups read the old tables until the step that moves the last
 *    slot switches both in one commit, so every snapshot, in any
 *    process, sees one complete hash and one complete filter.
 *  - Every change during the growth goes to both tables (filter: bits
 *    set in both; hash: put and delete in both). A step copies the old
 *    hash's slots [pos, pos + max) as they are in its own transaction;
 *    the old table is kept exact, so a copy is never stale, and a number
 *    changed meanwhile already has its value in the new one (a copy over
 *    it writes the same). A delete's backward shift may move an entry
 *    from an unmoved slot to a moved one: such an entry is put in the new
 *    table too. So at the switch the new hash holds every number, and
 *    the new filter every number's bits (those moved, those added).
 *  - Why copy in the old hash's slot order: a slot's place is monotonic
 *    in the number's hash, and version 3 filters pick their block from
 *    the same hash, so a step fills both new tables front to back and
 *    writes each 16 KB chunk once, not once per number.
 *  - While growing, the old tables only get fuller: the filter passes a
 *    few more numbers to the hash, the hash probes further. The hash may
 *    not pass 7/8: a new number that would is left out of it, and the
 *    table marked incomplete; lookups then skip it for the numbers index
 *    (exact, a B-tree walk) until the switch. Should the new hash reach
 *    7/8 too (an import larger than the store, mid-growth), it is rebuilt
 *    at once as before, and the filter with it at the next step.
 *  - A crash mid-growth loses nothing: the records and tables are in the
 *    store, and the next step (of any process) goes on from pos.
 *  - Replaced tables' chunks (keys below the current base) are deleted by
 *    the same steps once no growth is under way.
 * store_reindex() still rebuilds everything at once, for tools.
 */
#include "store/lookup_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec_int.h"
#include "store/filter_int.h"
#include "store/numhash_int.h"
#include "store/summary_int.h"

/* Integer keys of the numbers index are native size_t (LMDB). */
_Static_assert(sizeof(size_t) == sizeof(uint64_t), "64-bit size_t");

/* Ends a state_each() visit early; not an LMDB code. */
#define STATE_STOP		(-1000001)

/* A handle's lookup state. */
struct store_lookup {
	bool		 is_index_ok;	/* numbers index + filter trusted */
	bool		 is_summary_ok;	/* and its values (state summaries)
					 * and the numbers hash */
	bool		 was_positive;	/* last lookup passed the filter */
	uint64_t	 map_gen;	/* st->map_gen the views are of */
	struct store_filter_views fv;	/* views in the shared read txn */
	struct store_numhash_views hv;	/* (filter_int.h, numhash_int.h) */
};

/*
 * With the shared read txn live: drop the views if the map moved since
 * they were taken (their pointers are into the old mapping).
 */
static inline void
lookup_views_check(struct store *st, struct store_lookup *lk)
{
	if (lk->map_gen == st->map_gen)
		return;
	lk->fv.cv.is_valid = false;
	lk->hv.cv.is_valid = false;
	lk->map_gen = st->map_gen;
}

/* ------------------------------------------------------------------ */
/* Lookup.                                                             */

bool
store_numkey(const char *number, uint64_t *key)
{
	uint64_t v = 0;
	size_t n;

	for (n = 0; number[n] != '\0'; n++) {
		if (number[n] < '0' || number[n] > '9' || n == 15)
			return false;
		v = v * 10 + (uint64_t)(number[n] - '0');
	}
	if (n == 0)
		return false;
	*key = (uint64_t)n << 56 | v;
	return true;
}

/* Take the state entries of number (prefix: its key "number \0"). */
static int
verdict_walk(struct store *st, struct store_verdict *vd, const uint8_t *prefix,
    size_t plen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((cur = store_read_cursor(st)) == NULL)
		return STORE_RC_SET;
	/* Position on the first key >= "number \0" and read its entries. */
	k.mv_size = plen;
	k.mv_data = (void *)(uintptr_t)prefix;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && store_key_has_prefix(&k, prefix, plen)) {
		if ((rc = store_verdict_take(vd,
		    (const uint8_t *)k.mv_data + plen, k.mv_size - plen,
		    &v)) != 0)
			return rc;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_optout_check(struct store *st, const char *number,
    const char *category, struct store_block *why)
{
	struct store_lookup *lk = st->lk;
	uint8_t prefix[STORE_KEY_MAX];
	struct store_verdict vd;
	MDB_txn *txn;
	MDB_val k, v;
	struct store_summary_ent he;
	uint64_t nk;
	size_t plen;
	bool is_walk, is_cat;
	int rc, h;

	if (!store_str_ok(number, STORE_NUMBER_MAX) ||
	    !store_str_ok(category, STORE_NAME_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number or category");
	memset(&vd, 0, sizeof(vd));
	vd.category = category;
	vd.clen = strlen(category);
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	rc = 0;
	is_walk = true;
	lookup_views_check(st, lk);
	if (lk->is_index_ok && store_numkey(number, &nk)) {
		/* Most numbers have no state: the filter says so in one
		 * cache line. */
		lk->was_positive = store_filter_test_shared(st, &lk->fv,
		    nk) != 0;
		if (!lk->was_positive)
			is_walk = false;
		else if (lk->is_summary_ok &&
		    (h = store_numhash_find(st, &lk->hv, nk, category, vd.clen,
		    &he, &is_cat)) >= 0 && (h == 0 ||
		    he.kind == STORE_SUMMARY_SIMPLE)) {
			/* The common cases, from one slot. */
			is_walk = false;
			if (h == 1 && he.catid == 0) {
				vd.has_global = true;
				vd.g_since = he.since;
				vd.g_id = he.event_id;
			} else if (h == 1 && is_cat) {
				vd.has_cat = true;
				vd.c_since = he.since;
				vd.c_id = he.event_id;
			}
		} else if (lk->is_summary_ok) {
			k.mv_size = sizeof(nk);
			k.mv_data = &nk;
			rc = mdb_get(txn, st->dbi[STORE_DB_NUMIDX], &k, &v);
			if (rc == MDB_NOTFOUND) {
				rc = 0;
				is_walk = false;
			} else if (rc == 0 && v.mv_size > 0) {
				rc = store_verdict_summary(&vd, &v);
				is_walk = false;
			}
			/* An empty summary: read the entries. */
		}
	}
	if (rc == 0 && is_walk) {
		plen = store_key2(prefix, sizeof(prefix), number, NULL);
		rc = verdict_walk(st, &vd, prefix, plen);
	}
	store_read_end(st);
	if (rc == STORE_RC_SET)
		return -1;
	if (rc != 0)
		return store_fail_mdb(st, rc, "opt-out lookup");
	store_ok(st);
	if (vd.has_cat && !vd.cat_exc) {
		if (why != NULL) {
			why->is_global = false;
			why->since = vd.c_since;
			why->event_id = vd.c_id;
		}
		return 1;
	}
	if (vd.has_global && !(vd.has_cat && vd.cat_exc)) {
		if (why != NULL) {
			why->is_global = true;
			why->since = vd.g_since;
			why->event_id = vd.g_id;
		}
		return 1;
	}
	return 0;
}

void
store_optout_prefetch(struct store *st, const char *number)
{
	struct store_lookup *lk = st->lk;
	uint64_t nk;

	/* Under a hold the txn begun here is the one the check reads. */
	if (st->read_hold == 0 || !lk->is_index_ok ||
	    !store_numkey(number, &nk) || store_read_begin(st) == NULL)
		return;
	lookup_views_check(st, lk);
	store_filter_prefetch(st, &lk->fv, nk);
	/* Rejections come in runs (a list with opted-out numbers): after
	 * one, the slot the next lookup may need too. */
	if (lk->was_positive && lk->is_summary_ok)
		store_numhash_prefetch(st, &lk->hv, nk);
}

/* ------------------------------------------------------------------ */
/* Changing the state.                                                 */

/* One state entry as state_each() hands it over. */
struct state_ent {
	const MDB_val	*k;		/* key: the number prefix is plen */
	size_t		 plen;		/* bytes, the category the rest */
	const MDB_val	*v;
	bool		 is_ok;		/* v decoded (else damaged): */
	bool		 is_exception;
	uint64_t	 event_id;
};

/*
 * Visit the state entries of number in txn, in key order: fn gets the
 * cursor (on the entry; fn may delete it) and the entry, and returns 0
 * to go on, STATE_STOP to stop, or an LMDB code. Returns 0 or an LMDB
 * code.
 */
typedef int (*state_fn)(MDB_cursor *cur, const struct state_ent *e,
    void *arg);

static int
state_each(struct store *st, MDB_txn *txn, const char *number, state_fn fn,
    void *arg)
{
	uint8_t prefix[STORE_KEY_MAX];
	struct state_ent e;
	MDB_cursor *cur;
	MDB_val k, v;
	int64_t since;
	int rc;

	e.plen = store_key2(prefix, sizeof(prefix), number, NULL);
	e.k = &k;
	e.v = &v;
	rc = store_cursor_seek(st, txn, STORE_DB_STATE, prefix, e.plen, &cur,
	    &k, &v);
	if (cur == NULL)
		return rc;
	while (rc == 0 && store_key_has_prefix(&k, prefix, e.plen)) {
		e.is_ok = store_state_decode(&v, &e.is_exception, &since,
		    &e.event_id) == 0;
		if ((rc = fn(cur, &e, arg)) != 0)
			break;
		/* MDB_NEXT after a delete yields the successor. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == STATE_STOP ? 0 : rc;
}

/* state_each: delete the entry if it is an exception (or *arg). */
static int
clear_entry(MDB_cursor *cur, const struct state_ent *e, void *arg)
{
	const bool *all_entries = arg;

	if (!e->is_ok)
		return MDB_CORRUPTED;
	return *all_entries || e->is_exception ? mdb_cursor_del(cur, 0) : 0;
}

/*
 * Delete the entries of number: every one (all_entries) or only the
 * exceptions.
 */
static int
state_clear(struct store *st, MDB_txn *txn, const char *number,
    bool all_entries)
{
	return state_each(st, txn, number, clear_entry, &all_entries);
}

/* state_each: add the entry to the summary *arg. */
static int
summary_entry(MDB_cursor *cur, const struct state_ent *e, void *arg)
{
	(void)cur;
	store_summary_add(arg, e->k, e->plen, e->v);
	return 0;
}

/* Read one state entry: 0 found, MDB_NOTFOUND, or an error. */
static int
state_get(struct store *st, MDB_txn *txn, const char *number,
    const char *cat, bool *exc)
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val k, v;
	int64_t since;
	uint64_t id;
	int rc;

	k.mv_size = store_key2(key, sizeof(key), number, cat);
	k.mv_data = key;
	if ((rc = mdb_get(txn, st->dbi[STORE_DB_STATE], &k, &v)) != 0)
		return rc;
	if (store_state_decode(&v, exc, &since, &id) != 0)
		return MDB_CORRUPTED;
	return 0;
}

static int
state_put(struct store *st, MDB_txn *txn, const char *number,
    const char *cat, bool exc, const struct store_event *ev)
{
	uint8_t key[STORE_KEY_MAX], val[STORE_STATE_LEN];
	MDB_val k, v;

	k.mv_size = store_key2(key, sizeof(key), number, cat);
	k.mv_data = key;
	store_state_encode(val, exc, ev->time, ev->id);
	v.mv_size = sizeof(val);
	v.mv_data = val;
	return mdb_put(txn, st->dbi[STORE_DB_STATE], &k, &v, 0);
}

static int
state_del(struct store *st, MDB_txn *txn, const char *number,
    const char *cat)
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val k;
	int rc;

	k.mv_size = store_key2(key, sizeof(key), number, cat);
	k.mv_data = key;
	rc = mdb_del(txn, st->dbi[STORE_DB_STATE], &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * A new number is coming: if it takes the hash or the filter past its
 * threshold, begin a growth of both (a record each; nothing is copied
 * here), sized for the numbers there are.
 */
static int
grow_maybe(struct store *st, MDB_txn *txn)
{
	MDB_stat ms;
	bool hw, fw;
	int rc;

	if ((rc = store_numhash_grow_wanted(st, txn, &hw)) != 0 ||
	    (rc = store_filter_grow_wanted(st, txn, &fw)) != 0)
		return rc;
	if (!hw && !fw)
		return 0;
	if ((rc = mdb_stat(txn, st->dbi[STORE_DB_NUMIDX], &ms)) != 0 ||
	    (rc = store_numhash_grow_begin(st, txn, ms.ms_entries + 1)) != 0)
		return rc;
	return store_filter_grow_begin(st, txn, ms.ms_entries + 1);
}

/* Make the numbers index hold number's summary, or not hold number. */
static int
numidx_sync(struct store *st, MDB_txn *txn, const char *number)
{
	struct store_summary_ent he;
	struct store_summary sm;
	MDB_val k, v;
	const char *cat;
	uint64_t nk;
	size_t clen;
	bool is_new;
	int rc;

	if (!store_numkey(number, &nk))
		return 0;
	store_summary_init(&sm);
	if ((rc = state_each(st, txn, number, summary_entry, &sm)) != 0)
		return rc;
	k.mv_size = sizeof(nk);
	k.mv_data = &nk;
	if (sm.n == 0) {
		rc = mdb_del(txn, st->dbi[STORE_DB_NUMIDX], &k, NULL);
		if (rc == MDB_NOTFOUND)
			return 0;
		return rc != 0 ? rc : store_numhash_del(st, txn, nk);
	}
	rc = mdb_get(txn, st->dbi[STORE_DB_NUMIDX], &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	is_new = rc == MDB_NOTFOUND;
	if (is_new && (rc = grow_maybe(st, txn)) != 0)
		return rc;
	store_summary_val(&sm, &v);
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_NUMIDX], &k, &v, 0)) != 0)
		return rc;
	/* After the index: a put that grows the table rebuilds from it. */
	if (store_summary_ent_of(&v, &he, &cat, &clen) == 1) {
		rc = store_numhash_catid(st, txn, cat, clen, true, &he.catid);
		if (rc == MDB_NOTFOUND)
			he.kind = STORE_SUMMARY_OTHER;	/* no id left */
		else if (rc != 0)
			return rc;
	}
	if ((rc = store_numhash_put(st, txn, nk, &he)) != 0)
		return rc;
	return is_new ? store_filter_add(st, txn, nk) : 0;
}

/* Put number's summary (if it packs) while rebuilding; *last: see below. */
static int
numidx_put(struct store *st, MDB_txn *txn, const char *number,
    const struct store_summary *sm, uint64_t *last)
{
	MDB_val k, v;
	uint64_t nk;
	int rc;

	if (sm->n == 0 || !store_numkey(number, &nk))
		return 0;
	k.mv_size = sizeof(nk);
	k.mv_data = &nk;
	store_summary_val(sm, &v);
	/* Numbers of one length arrive in numeric order: append those
	 * (fast); put the rest. */
	rc = mdb_put(txn, st->dbi[STORE_DB_NUMIDX], &k, &v,
	    nk > *last ? MDB_APPEND : 0);
	if (rc == 0 && nk > *last)
		*last = nk;
	return rc;
}

static int
numidx_rebuild(struct store *st, MDB_txn *txn)
{
	static const char marker[] = STORE_NUMIDX_MARKER;
	static const char marker_v1[] = STORE_NUMIDX_MARKER_V1;
	struct store_summary sm;
	MDB_cursor *cur;
	MDB_val k, v, mk, mv;
	const char *nul;
	char number[STORE_NUMBER_MAX] = "";
	uint8_t one = 1;
	uint64_t last = 0;
	size_t nlen;
	int rc;

	if ((rc = mdb_drop(txn, st->dbi[STORE_DB_NUMIDX], 0)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_STATE], &cur)) != 0)
		return rc;
	store_summary_init(&sm);
	/* A number's entries are adjacent: "n \0" sorts before "n1". */
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		nul = memchr(k.mv_data, '\0', k.mv_size);
		nlen = nul != NULL ?
		    (size_t)(nul - (const char *)k.mv_data) : 0;
		if (nlen > 0 && nlen < sizeof(number)) {
			if (strlen(number) != nlen ||
			    memcmp(number, k.mv_data, nlen) != 0) {
				if ((rc = numidx_put(st, txn, number, &sm,
				    &last)) != 0)
					break;
				memcpy(number, k.mv_data, nlen);
				number[nlen] = '\0';
				store_summary_init(&sm);
			}
			store_summary_add(&sm, &k, nlen + 1, &v);
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = numidx_put(st, txn, number, &sm, &last)) != 0 ||
	    (rc = store_numhash_rebuild(st, txn)) != 0)
		return rc;
	mk.mv_size = sizeof(marker_v1) - 1;
	mk.mv_data = (void *)(uintptr_t)marker_v1;
	rc = mdb_del(txn, st->dbi[STORE_DB_META], &mk, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	mk.mv_size = sizeof(marker) - 1;
	mk.mv_data = (void *)(uintptr_t)marker;
	mv.mv_size = 1;
	mv.mv_data = &one;
	return mdb_put(txn, st->dbi[STORE_DB_META], &mk, &mv, 0);
}

static int
state_update1(struct store *st, MDB_txn *txn, const struct store_event *ev)
{
	bool has_global, exc = false;
	size_t i;
	int rc;

	rc = state_get(st, txn, ev->number, STORE_CATEGORY_ALL, &exc);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	has_global = rc == 0;

	if (ev->all && ev->action == STORE_OPT_OUT) {
		if (!has_global && (rc = state_put(st, txn, ev->number,
		    STORE_CATEGORY_ALL, false, ev)) != 0)
			return rc;
		/* Per-category OUT entries stay: they keep their since. */
		return state_clear(st, txn, ev->number, false);
	}
	if (ev->all)	/* opt-in to everything */
		return state_clear(st, txn, ev->number, true);

	for (i = 0; i < ev->ncategories; i++) {
		const char *cat = ev->categories[i];
		bool has_cat;

		rc = state_get(st, txn, ev->number, cat, &exc);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		has_cat = rc == 0;
		rc = 0;
		if (ev->action == STORE_OPT_OUT) {
			if (has_cat && !exc)
				continue;	/* already out: keep since */
			if (has_cat && exc)	/* back under the block */
				rc = state_put(st, txn, ev->number, cat,
				    false, ev);
			else if (!has_global)
				rc = state_put(st, txn, ev->number, cat,
				    false, ev);
		} else {
			if (has_global) {
				if (!(has_cat && exc))
					rc = state_put(st, txn, ev->number,
					    cat, true, ev);
			} else if (has_cat) {
				rc = state_del(st, txn, ev->number, cat);
			}
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
store_lookup_apply_txn(struct store *st, MDB_txn *txn,
    const struct store_event *ev)
{
	int rc;

	if ((rc = state_update1(st, txn, ev)) != 0)
		return rc;
	return numidx_sync(st, txn, ev->number);
}

struct refers_arg {
	uint64_t	 id;
	bool		 is_ref;
};

/* state_each: stop at the entry set by event ra->id (damage skipped). */
static int
refers_entry(MDB_cursor *cur, const struct state_ent *e, void *arg)
{
	struct refers_arg *ra = arg;

	(void)cur;
	if (e->is_ok && e->event_id == ra->id) {
		ra->is_ref = true;
		return STATE_STOP;
	}
	return 0;
}

int
store_lookup_refers(struct store *st, MDB_txn *txn, const char *number,
    uint64_t id, bool *is_ref)
{
	struct refers_arg ra = { id, false };
	int rc;

	rc = state_each(st, txn, number, refers_entry, &ra);
	*is_ref = ra.is_ref;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Listing.                                                            */

/*
 * Walk state keys from prefix (plen 0: everything). The global entry of
 * a number sorts first only if no category name sorts before "*", so
 * each number's entries are gathered and the global one is emitted
 * first.
 */
static int
state_walk(struct store *st, const uint8_t *prefix, size_t seeklen,
    size_t plen, store_state_fn cb, void *arg)
{
	struct store_state_entry e[STORE_SCOPE_MAX + 8], *g;
	size_t ne = 0, i;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, cbret = 0;
	char cur_number[STORE_NUMBER_MAX] = "";

	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_STATE, prefix, seeklen, &cur,
	    &k, &v);
	while (cur != NULL) {
		const char *key = k.mv_data, *nul;
		bool at_end = rc != 0 ||
		    (plen > 0 && !store_key_has_prefix(&k, prefix, plen));
		struct store_state_entry x;
		size_t nlen;

		memset(&x, 0, sizeof(x));
		if (!at_end) {
			nul = memchr(key, '\0', k.mv_size);
			nlen = nul != NULL ? (size_t)(nul - key) : 0;
			if (nul == NULL || nlen == 0 ||
			    nlen >= sizeof(x.number) ||
			    k.mv_size - nlen - 1 >= sizeof(x.category) ||
			    k.mv_size - nlen - 1 == 0 ||
			    store_state_decode(&v, &x.is_exception, &x.since,
			    &x.event_id) != 0) {
				rc = MDB_CORRUPTED;
				break;
			}
			memcpy(x.number, key, nlen);
			memcpy(x.category, nul + 1, k.mv_size - nlen - 1);
		}
		/* Flush the gathered number when it changes or at the end. */
		if (ne > 0 && (at_end || strcmp(x.number, cur_number) != 0 ||
		    ne == sizeof(e) / sizeof(e[0]))) {
			g = NULL;
			for (i = 0; i < ne; i++)
				if (strcmp(e[i].category,
				    STORE_CATEGORY_ALL) == 0)
					g = &e[i];
			if (g != NULL)
				cbret = cb(g, arg);
			for (i = 0; i < ne && cbret == 0; i++)
				if (&e[i] != g)
					cbret = cb(&e[i], arg);
			ne = 0;
			if (cbret != 0)
				break;
		}
		if (at_end)
			break;
		store_copy(cur_number, sizeof(cur_number), x.number);
		e[ne++] = x;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret, "reading state");
}

int
store_state(struct store *st, const char *number, store_state_fn cb,
    void *arg)
{
	uint8_t prefix[STORE_KEY_MAX];
	size_t plen;

	store_ok(st);
	if (!store_str_ok(number, STORE_NUMBER_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number");
	plen = store_key2(prefix, sizeof(prefix), number, NULL);
	return state_walk(st, prefix, plen, plen, cb, arg);
}

int
store_state_all(struct store *st, store_state_fn cb, void *arg)
{
	store_ok(st);
	return state_walk(st, NULL, 0, 0, cb, arg);
}

int
store_state_after(struct store *st, const char *after, store_state_fn cb,
    void *arg)
{
	uint8_t seek[STORE_NUMBER_MAX + 1];
	size_t n;

	store_ok(st);
	if (after == NULL || after[0] == '\0')
		return state_walk(st, NULL, 0, 0, cb, arg);
	if (!store_str_ok(after, STORE_NUMBER_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number");
	/* Keys are number \0 category: number \1 sorts after all of them
	 * and before the next number. */
	n = strlen(after);
	memcpy(seek, after, n);
	seek[n] = 1;
	return state_walk(st, seek, n + 1, 0, cb, arg);
}

/* ------------------------------------------------------------------ */
/* Open, share, rebuild.                                               */

/* Is meta key name present? 0 no, 1 yes, -1 error (set). */
static int
meta_has(struct store *st, MDB_txn *txn, const char *name)
{
	MDB_val k = { strlen(name), (void *)(uintptr_t)name }, v;
	int rc;

	rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v);
	if (rc == 0)
		return 1;
	if (rc == MDB_NOTFOUND)
		return 0;
	return store_fail_mdb(st, rc, "reading the index marker");
}

/*
 * Trust the numbers index only if it was built from the state, and its
 * summaries only if no stopgate from before them indexed it since (it
 * sets the v1 marker, which our rebuild deletes); rebuild it now if
 * either is not so (and we may write).
 */
static int
index_check(struct store *st, MDB_txn *txn)
{
	int v1, v2, rc;

	if ((v2 = meta_has(st, txn, STORE_NUMIDX_MARKER)) < 0 ||
	    (v1 = meta_has(st, txn, STORE_NUMIDX_MARKER_V1)) < 0)
		return -1;
	st->lk->is_index_ok = v1 || v2;
	st->lk->is_summary_ok = v2 && !v1 && store_numhash_present(st, txn);
	if (st->lk->is_summary_ok || st->is_read_only)
		return 0;	/* read-only: the state entries answer */
	if ((rc = numidx_rebuild(st, txn)) != 0 ||
	    (rc = store_filter_rebuild(st, txn)) != 0)
		return store_fail_mdb(st, rc, "building the lookup index");
	st->lk->is_index_ok = st->lk->is_summary_ok = true;
	return 0;
}


int
store_lookup_open(struct store *st, MDB_txn *txn)
{
	if ((st->lk = calloc(1, sizeof(*st->lk))) == NULL)
		return store_fail(st, STORE_E_IO, "store: %s", strerror(errno));
	st->lk->map_gen = st->map_gen;
	return index_check(st, txn);
}

int
store_lookup_share(struct store *sib, struct store *st)
{
	if ((sib->lk = calloc(1, sizeof(*sib->lk))) == NULL)
		return store_fail(st, STORE_E_IO, "store: %s", strerror(errno));
	sib->lk->is_index_ok = st->lk->is_index_ok;
	sib->lk->is_summary_ok = st->lk->is_summary_ok;
	sib->lk->map_gen = sib->map_gen;
	return 0;
}

void
store_lookup_free(struct store *st)
{
	if (st->lk == NULL)
		return;
	free(st->lk->fv.cv.chunks);
	free(st->lk->hv.cv.chunks);
	free(st->lk);
	st->lk = NULL;
}

static int
reindex_body(struct store *st, MDB_txn *txn, void *arg)
{
	int rc;

	(void)arg;
	if ((rc = numidx_rebuild(st, txn)) != 0)
		return rc;
	return store_filter_rebuild(st, txn);
}

/* ------------------------------------------------------------------ */
/* Growing in steps.                                                   */

struct grow_arg {
	size_t		 max;
	uint64_t	*nks;		/* room for max */
	size_t		 done;		/* numbers moved + chunks swept */
	bool		 is_growing;	/* after the step */
};

/* One step: move numbers, or when no growth is under way, sweep. */
static int
grow_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct grow_arg *ga = arg;
	uint64_t moved, total;
	MDB_stat ms;
	size_t n, nf;
	bool hg, fg, is_done;
	int rc;

	ga->done = 0;	/* a retry (map grown) starts over */
	ga->is_growing = false;
	if ((rc = store_numhash_grow_progress(st, txn, &moved, &total,
	    &hg)) != 0 || (rc = store_filter_growing(st, txn, &fg)) != 0)
		return rc;
	if (!hg && fg)	/* the hash was rebuilt at once meanwhile */
		return store_filter_rebuild(st, txn);
	if (!hg) {
		if ((rc = store_numhash_sweep(st, txn, ga->max / 64 + 1,
		    &n)) != 0 ||
		    (rc = store_filter_sweep(st, txn, ga->max / 64 + 1,
		    &nf)) != 0)
			return rc;
		ga->done = n + nf;
		return 0;
	}
	if ((rc = store_numhash_grow_step(st, txn, ga->max, ga->nks, &n,
	    &is_done)) != 0 ||
	    (rc = store_filter_grow_add(st, txn, ga->nks, n)) != 0)
		return rc;
	/* A step that found only empty slots still moved on. */
	ga->done = n > 0 ? n : 1;
	ga->is_growing = !is_done;
	if (!is_done)
		return 0;
	if ((rc = mdb_stat(txn, st->dbi[STORE_DB_NUMIDX], &ms)) != 0)
		return rc;
	return store_filter_grow_end(st, txn, ms.ms_entries);
}

int
store_lookup_grow_step(struct store *st, size_t max, size_t *done)
{
	struct grow_arg ga;
	int rc;

	store_ok(st);
	*done = 0;
	if (max == 0)
		return 0;
	if (st->is_read_only)
		return store_fail(st, STORE_E_READONLY,
		    "growing the lookup tables: store opened read-only");
	if (max > STORE_LOOKUP_GROW_MAX)
		max = STORE_LOOKUP_GROW_MAX;
	memset(&ga, 0, sizeof(ga));
	ga.max = max;
	if ((ga.nks = calloc(max, sizeof(*ga.nks))) == NULL)
		return store_fail(st, STORE_E_IO, "store: %s", strerror(errno));
	rc = store_write(st, grow_body, &ga, true,
	    "growing the lookup tables");
	free(ga.nks);
	if (rc == 0)
		*done = ga.done;
	return rc;
}

bool
store_lookup_grow_pending(struct store *st)
{
	MDB_txn *txn;
	bool yes;

	if (st->is_read_only || !st->lk->is_summary_ok ||
	    (txn = store_read_begin(st)) == NULL)
		return false;
	/* The filter's old chunks go with the hash's: one test for both. */
	yes = store_numhash_pending(st, txn);
	store_read_end(st);
	return yes;
}

int
store_lookup_progress(struct store *st, MDB_txn *txn, uint64_t *moved,
    uint64_t *total)
{
	bool is_growing;

	if (st->lk == NULL || !st->lk->is_summary_ok)
		return 0;
	return store_numhash_grow_progress(st, txn, moved, total, &is_growing);
}

int
store_reindex(struct store *st)
{
	store_ok(st);
	if (store_write(st, reindex_body, NULL, false,
	    "rebuilding the lookup index") != 0)
		return -1;
	st->lk->is_index_ok = st->lk->is_summary_ok = true;
	return 0;
}
