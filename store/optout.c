/*
 * store/optout: the hot-path lookup, opt-out / opt-in events and the
 * current state they maintain, history, the event feed and imports.
 *
 * State entries per number (key number \0 category, "*" = global):
 *   global        every category blocked (since, event)
 *   category OUT  that category blocked
 *   category EXC  that category allowed despite the global flag
 * An opt-out never moves an existing since-time: the state changes only
 * when the effective answer for a scope changes.
 */
#include "store/store.h"

#include <string.h>

#include "store/store_int.h"

/* Integer keys of the numbers index are native size_t (LMDB). */
_Static_assert(sizeof(size_t) == sizeof(uint64_t), "64-bit size_t");

/* ------------------------------------------------------------------ */
/* Lookup.                                                             */

/*
 * The numbers index holds, for each number with state, a summary of its
 * state entries, written in the same transaction as they are:
 *   NUMIDX_V2, then per entry in key order: category length (1..255),
 *   the category ("*" for the global entry), its STORE_STATE_LEN value.
 * A rejected send then costs one integer-key lookup instead of a walk of
 * the string-keyed state. An empty value (a number whose summary would
 * not fit, or an index from before summaries) says: read the entries.
 */
#define NUMIDX_V2		2
#define NUMIDX_SUMMARY_MAX	480	/* bytes: stays in the leaf page */

/* What a number's entries say for one category. */
struct verdict {
	const char	*category;
	size_t		 clen;
	bool		 has_global;
	bool		 has_cat;
	bool		 cat_exc;
	int64_t		 g_since;
	int64_t		 c_since;
	uint64_t	 g_id;
	uint64_t	 c_id;
};

/* Take one state entry (category cat, n bytes; value v) into vd. */
static int
verdict_take(struct verdict *vd, const uint8_t *cat, size_t n,
    const MDB_val *v)
{
	bool is_global = n == 1 && cat[0] == '*', is_cat, exc;
	int64_t since;
	uint64_t id;

	is_cat = n == vd->clen && memcmp(cat, vd->category, n) == 0;
	if (!is_global && !is_cat)
		return 0;
	if (store_state_decode(v, &exc, &since, &id) != 0)
		return MDB_CORRUPTED;
	if (is_global) {
		vd->has_global = true;
		vd->g_since = since;
		vd->g_id = id;
	}
	if (is_cat) {
		vd->has_cat = true;
		vd->cat_exc = exc;
		vd->c_since = since;
		vd->c_id = id;
	}
	return 0;
}

/* Take every entry of a non-empty summary into vd. */
static int
verdict_summary(struct verdict *vd, const MDB_val *v)
{
	const uint8_t *p = v->mv_data, *end = p + v->mv_size;
	MDB_val sv;
	size_t n;
	int rc;

	if (p[0] != NUMIDX_V2)
		return MDB_CORRUPTED;
	for (p++; p < end; p += n + STORE_STATE_LEN) {
		n = *p++;
		if (n == 0 || (size_t)(end - p) < n + STORE_STATE_LEN)
			return MDB_CORRUPTED;
		sv.mv_size = STORE_STATE_LEN;
		sv.mv_data = (void *)(uintptr_t)(p + n);
		if ((rc = verdict_take(vd, p, n, &sv)) != 0)
			return rc;
	}
	return 0;
}

/* Take the state entries of number (prefix: its key "number \0"). */
static int
verdict_walk(struct store *st, struct verdict *vd, const uint8_t *prefix,
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
		if ((rc = verdict_take(vd, (const uint8_t *)k.mv_data + plen,
		    k.mv_size - plen, &v)) != 0)
			return rc;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_optout_check(struct store *st, const char *number,
    const char *category, struct store_block *why)
{
	uint8_t prefix[STORE_KEY_MAX];
	struct verdict vd;
	MDB_txn *txn;
	MDB_val k, v;
	struct store_numhash_ent he;
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
	if (st->is_index_ok && store_numkey(number, &nk)) {
		/* Most numbers have no state: the filter says so in one
		 * cache line. */
		st->was_positive = store_filter_test_shared(st, nk) != 0;
		if (!st->was_positive)
			is_walk = false;
		else if (st->is_summary_ok &&
		    (h = store_numhash_find(st, nk, category, vd.clen, &he,
		    &is_cat)) >= 0 && (h == 0 ||
		    he.kind == STORE_NUMHASH_SIMPLE)) {
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
		} else if (st->is_summary_ok) {
			k.mv_size = sizeof(nk);
			k.mv_data = &nk;
			rc = mdb_get(txn, st->dbi[STORE_DB_NUMIDX], &k, &v);
			if (rc == MDB_NOTFOUND) {
				rc = 0;
				is_walk = false;
			} else if (rc == 0 && v.mv_size > 0) {
				rc = verdict_summary(&vd, &v);
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
	uint64_t nk;

	/* Under a hold the txn begun here is the one the check reads. */
	if (st->read_hold == 0 || !st->is_index_ok ||
	    !store_numkey(number, &nk) || store_read_begin(st) == NULL)
		return;
	store_filter_prefetch(st, nk);
	/* Rejections come in runs (a list with opted-out numbers): after
	 * one, the slot the next lookup may need too. */
	if (st->was_positive && st->is_summary_ok)
		store_numhash_prefetch(st, nk);
}

/* ------------------------------------------------------------------ */
/* Applying events.                                                    */

int
store_event_check(struct store *st, const struct store_event *ev)
{
	size_t i, j;

	if (!store_field_ok(ev->number, sizeof(ev->number), false))
		return store_fail(st, STORE_E_INVAL, "event: bad number");
	if ((unsigned)ev->action > STORE_OPT_IN ||
	    (unsigned)ev->source > STORE_SRC_IMPORT)
		return store_fail(st, STORE_E_INVAL,
		    "event: bad action or source");
	if (!ev->all) {
		if (ev->ncategories == 0 || ev->ncategories > STORE_SCOPE_MAX)
			return store_fail(st, STORE_E_INVAL,
			    "event for %s: no categories and not all",
			    ev->number);
		for (i = 0; i < ev->ncategories; i++) {
			if (!store_field_ok(ev->categories[i],
			    sizeof(ev->categories[i]), false) ||
			    strcmp(ev->categories[i], STORE_CATEGORY_ALL) == 0)
				return store_fail(st, STORE_E_INVAL,
				    "event for %s: bad category", ev->number);
			for (j = 0; j < i; j++)
				if (strcmp(ev->categories[i],
				    ev->categories[j]) == 0)
					return store_fail(st, STORE_E_INVAL,
					    "event for %s: category %s twice",
					    ev->number, ev->categories[i]);
		}
	}
	if (!store_field_ok(ev->inbound, sizeof(ev->inbound), true) ||
	    !store_field_ok(ev->text, sizeof(ev->text), true) ||
	    !store_field_ok(ev->rule, sizeof(ev->rule), true) ||
	    !store_field_ok(ev->actor, sizeof(ev->actor), true) ||
	    !store_field_ok(ev->note, sizeof(ev->note), true) ||
	    !store_field_ok(ev->consent, sizeof(ev->consent), true) ||
	    !store_field_ok(ev->last.account, sizeof(ev->last.account),
	    true) ||
	    !store_field_ok(ev->last.category, sizeof(ev->last.category),
	    true) ||
	    !store_field_ok(ev->last.service_type,
	    sizeof(ev->last.service_type), true))
		return store_fail(st, STORE_E_INVAL,
		    "event for %s: unterminated text field", ev->number);
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
 * Delete the entries of number: every one (all_entries) or only the
 * exceptions.
 */
static int
state_clear(struct store *st, MDB_txn *txn, const char *number,
    bool all_entries)
{
	uint8_t prefix[STORE_KEY_MAX];
	MDB_cursor *cur;
	MDB_val k, v;
	size_t plen;
	bool exc;
	int64_t since;
	uint64_t id;
	int rc;

	plen = store_key2(prefix, sizeof(prefix), number, NULL);
	rc = store_cursor_seek(st, txn, STORE_DB_STATE, prefix, plen, &cur, &k,
	    &v);
	if (cur == NULL)
		return rc;
	while (rc == 0 && store_key_has_prefix(&k, prefix, plen)) {
		if (store_state_decode(&v, &exc, &since, &id) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (all_entries || exc) {
			/* MDB_NEXT after a delete yields the successor. */
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A number's summary as it is built (see "Lookup"). */
struct summary {
	uint8_t		 b[NUMIDX_SUMMARY_MAX];
	size_t		 len;
	size_t		 n;		/* entries */
	bool		 is_over;	/* does not fit: stored empty */
};

static void
summary_init(struct summary *sm)
{
	sm->b[0] = NUMIDX_V2;
	sm->len = 1;
	sm->n = 0;
	sm->is_over = false;
}

/* Add the entry of state key k (prefix plen bytes long), value v. */
static void
summary_add(struct summary *sm, const MDB_val *k, size_t plen,
    const MDB_val *v)
{
	size_t n = k->mv_size - plen;

	sm->n++;
	if (sm->is_over)
		return;
	/* A damaged value goes as it is to the walk, which reports it. */
	if (n == 0 || n > UINT8_MAX || v->mv_size != STORE_STATE_LEN ||
	    sm->len + 1 + n + STORE_STATE_LEN > sizeof(sm->b)) {
		sm->is_over = true;
		return;
	}
	sm->b[sm->len++] = (uint8_t)n;
	memcpy(sm->b + sm->len, (const uint8_t *)k->mv_data + plen, n);
	memcpy(sm->b + sm->len + n, v->mv_data, STORE_STATE_LEN);
	sm->len += n + STORE_STATE_LEN;
}

static void
summary_val(const struct summary *sm, MDB_val *v)
{
	v->mv_size = sm->is_over ? 0 : sm->len;
	v->mv_data = sm->is_over ? NULL : (void *)(uintptr_t)sm->b;
}

int
store_numhash_ent_of(const MDB_val *v, struct store_numhash_ent *e,
    const char **cat, size_t *clen)
{
	const uint8_t *p = v->mv_data;
	MDB_val sv;
	bool exc;
	size_t n;

	memset(e, 0, sizeof(*e));
	e->kind = STORE_NUMHASH_OTHER;
	*cat = NULL;
	*clen = 0;
	/* One entry: version, length, name, state value. */
	if (v->mv_size < 2 || p[0] != NUMIDX_V2 || (n = p[1]) == 0 ||
	    v->mv_size != 2 + n + STORE_STATE_LEN)
		return 0;
	sv.mv_size = STORE_STATE_LEN;
	sv.mv_data = (void *)(uintptr_t)(p + 2 + n);
	if (store_state_decode(&sv, &exc, &e->since, &e->event_id) != 0 ||
	    exc)
		return 0;
	e->kind = STORE_NUMHASH_SIMPLE;
	if (n == 1 && p[2] == '*')
		return 0;	/* global: catid 0 */
	*cat = (const char *)p + 2;
	*clen = n;
	return 1;
}

/* Make the numbers index hold number's summary, or not hold number. */
static int
numidx_sync(struct store *st, MDB_txn *txn, const char *number)
{
	uint8_t prefix[STORE_KEY_MAX];
	struct store_numhash_ent he;
	struct summary sm;
	MDB_cursor *cur;
	MDB_val k, v;
	const char *cat;
	uint64_t nk;
	size_t plen, clen;
	bool is_new;
	int rc;

	if (!store_numkey(number, &nk))
		return 0;
	plen = store_key2(prefix, sizeof(prefix), number, NULL);
	summary_init(&sm);
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_STATE], &cur)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = prefix;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && store_key_has_prefix(&k, prefix, plen)) {
		summary_add(&sm, &k, plen, &v);
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
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
	summary_val(&sm, &v);
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_NUMIDX], &k, &v, 0)) != 0)
		return rc;
	/* After the index: a put that grows the table rebuilds from it. */
	if (store_numhash_ent_of(&v, &he, &cat, &clen) == 1) {
		rc = store_numhash_catid(st, txn, cat, clen, true, &he.catid);
		if (rc == MDB_NOTFOUND)
			he.kind = STORE_NUMHASH_OTHER;	/* no id left */
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
    const struct summary *sm, uint64_t *last)
{
	MDB_val k, v;
	uint64_t nk;
	int rc;

	if (sm->n == 0 || !store_numkey(number, &nk))
		return 0;
	k.mv_size = sizeof(nk);
	k.mv_data = &nk;
	summary_val(sm, &v);
	/* Numbers of one length arrive in numeric order: append those
	 * (fast); put the rest. */
	rc = mdb_put(txn, st->dbi[STORE_DB_NUMIDX], &k, &v,
	    nk > *last ? MDB_APPEND : 0);
	if (rc == 0 && nk > *last)
		*last = nk;
	return rc;
}

int
store_numidx_rebuild(struct store *st, MDB_txn *txn)
{
	static const char marker[] = STORE_NUMIDX_MARKER;
	static const char marker_v1[] = STORE_NUMIDX_MARKER_V1;
	struct summary sm;
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
	summary_init(&sm);
	/* A number's entries are adjacent: "n \0" sorts before "n1". */
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		nul = memchr(k.mv_data, '\0', k.mv_size);
		nlen = nul != NULL ? (size_t)(nul - (const char *)k.mv_data) : 0;
		if (nlen > 0 && nlen < sizeof(number)) {
			if (strlen(number) != nlen ||
			    memcmp(number, k.mv_data, nlen) != 0) {
				if ((rc = numidx_put(st, txn, number, &sm,
				    &last)) != 0)
					break;
				memcpy(number, k.mv_data, nlen);
				number[nlen] = '\0';
				summary_init(&sm);
			}
			summary_add(&sm, &k, nlen + 1, &v);
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

static int
state_update(struct store *st, MDB_txn *txn, const struct store_event *ev)
{
	int rc;

	if ((rc = state_update1(st, txn, ev)) != 0)
		return rc;
	return numidx_sync(st, txn, ev->number);
}

int
store_event_apply_txn(struct store *st, MDB_txn *txn, struct store_event *ev)
{
	uint8_t val[STORE_VALUE_MAX], key[STORE_KEY_MAX], idk[8];
	struct store_lastsent last;
	MDB_val k, v;
	size_t len;
	int rc;

	if ((rc = store_seq_next(st, txn, "seq.events", &ev->id)) != 0)
		return rc;
	if (ev->action == STORE_OPT_OUT) {
		k.mv_size = strlen(ev->number);
		k.mv_data = ev->number;
		rc = mdb_get(txn, st->dbi[STORE_DB_LASTSENT], &k, &v);
		/* The newer of the table's and the caller's (a caller may
		 * know one still waiting in its batch). */
		if (rc == 0 && store_lastsent_decode(&v, &last) == 0 &&
		    last.time >= ev->last.time)
			ev->last = last;
		else if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	if ((len = store_event_encode(ev, val, sizeof(val))) == 0) {
		store_fail(st, STORE_E_INVAL, "event too large");
		return STORE_RC_SET;
	}
	store_be64_put(idk, ev->id);
	k.mv_size = sizeof(idk);
	k.mv_data = idk;
	v.mv_size = len;
	v.mv_data = val;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_EVENTS], &k, &v,
	    MDB_APPEND)) != 0)
		return rc;
	len = store_key2(key, sizeof(key) - 8, ev->number, NULL);
	memcpy(key + len, idk, 8);
	k.mv_size = len + 8;
	k.mv_data = key;
	v.mv_size = 0;
	v.mv_data = NULL;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_EVNUM], &k, &v, 0)) != 0)
		return rc;
	return state_update(st, txn, ev);
}

static int
apply_body(struct store *st, MDB_txn *txn, void *arg)
{
	return store_event_apply_txn(st, txn, arg);
}

int
store_optout_apply(struct store *st, struct store_event *ev)
{
	store_ok(st);
	if (store_event_check(st, ev) != 0 ||
	    store_write(st, apply_body, ev, false, "recording an event") != 0) {
		ev->id = 0;
		return -1;
	}
	return 0;
}

struct import_arg {
	struct store_event *evs;
	size_t		 n;
};

static int
import_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct import_arg *ia = arg;
	size_t i;
	int rc;

	for (i = 0; i < ia->n; i++)
		if ((rc = store_event_apply_txn(st, txn, &ia->evs[i])) != 0)
			return rc;
	return 0;
}

int
store_import(struct store *st, struct store_event *evs, size_t n)
{
	struct import_arg ia = { evs, n };
	size_t i;

	store_ok(st);
	for (i = 0; i < n; i++)
		if (store_event_check(st, &evs[i]) != 0) {
			char msg[sizeof(st->errmsg)];

			store_copy(msg, sizeof(msg), st->errmsg);
			return store_fail(st, STORE_E_INVAL,
			    "import entry %zu: %s", i + 1, msg);
		}
	if (n == 0)
		return 0;
	if (store_write(st, import_body, &ia, false, "importing") != 0) {
		for (i = 0; i < n; i++)
			evs[i].id = 0;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* History and feed.                                                   */

/* Decode the event with key idk from txn and hand it to cb. */
static int
event_emit(struct store *st, MDB_txn *txn, const uint8_t *idk,
    struct store_event *ev, store_event_fn cb, void *arg, int *cbret)
{
	MDB_val k = { 8, (void *)(uintptr_t)idk }, v;
	int rc;

	if ((rc = mdb_get(txn, st->dbi[STORE_DB_EVENTS], &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;	/* expired */
	if (store_event_decode(&v, store_be64_get(idk), ev) != 0)
		return MDB_CORRUPTED;
	*cbret = cb(ev, arg);
	return 0;
}

int
store_history(struct store *st, const char *number, store_event_fn cb,
    void *arg)
{
	uint8_t prefix[STORE_KEY_MAX];
	struct store_event ev;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t plen;
	int rc, cbret = 0;

	store_ok(st);
	if (!store_str_ok(number, STORE_NUMBER_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number");
	plen = store_key2(prefix, sizeof(prefix), number, NULL);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_EVNUM, prefix, plen, &cur, &k,
	    &v);
	while (rc == 0 && cbret == 0 && store_key_has_prefix(&k, prefix, plen)) {
		if (k.mv_size != plen + 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		rc = event_emit(st, txn, (const uint8_t *)k.mv_data + plen,
		    &ev, cb, arg, &cbret);
		if (rc == 0 && cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret, "reading history");
}

int
store_events_since(struct store *st, uint64_t after_id, size_t max,
    store_event_fn cb, void *arg)
{
	struct store_event ev;
	uint8_t idk[8];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t seen = 0;
	int rc, cbret = 0;

	store_ok(st);
	if (after_id == UINT64_MAX)
		return 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	store_be64_put(idk, after_id + 1);
	rc = store_cursor_seek(st, txn, STORE_DB_EVENTS, idk, sizeof(idk),
	    &cur, &k, &v);
	while (rc == 0 && cbret == 0 && (max == 0 || seen < max)) {
		if (k.mv_size != 8 ||
		    store_event_decode(&v, store_be64_get(k.mv_data), &ev)) {
			rc = MDB_CORRUPTED;
			break;
		}
		cbret = cb(&ev, arg);
		seen++;
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret, "reading events");
}

/* ------------------------------------------------------------------ */
/* State listing.                                                      */

/*
 * Walk state keys from prefix (plen 0: everything). The global entry of
 * a number sorts first only if no category name sorts before "*", so
 * each number's entries are gathered and the global one is emitted
 * first.
 */
static int
state_walk(struct store *st, const uint8_t *prefix, size_t plen,
    store_state_fn cb, void *arg)
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
	rc = store_cursor_seek(st, txn, STORE_DB_STATE, prefix, plen, &cur, &k,
	    &v);
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
	return state_walk(st, prefix, plen, cb, arg);
}

int
store_state_all(struct store *st, store_state_fn cb, void *arg)
{
	store_ok(st);
	return state_walk(st, NULL, 0, cb, arg);
}
