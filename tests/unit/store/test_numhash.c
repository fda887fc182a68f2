/*
 * store/numhash: the exact hash of the numbers with state finds every
 * number it holds (across growth rebuilds and backward-shift deletions),
 * never finds one it does not, keeps a simple state in the slot and says
 * "read the summary" otherwise, names categories by id, and its views in
 * the shared read txn follow the writes of later snapshots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/lookup_int.h"
#include "store/numhash_int.h"
#include "tests/unit/store/store_fixture.h"

/* Numbers of the form 1777 nnnnnnn, as packed keys. */
static uint64_t
nkey(int i)
{
	char num[16];
	uint64_t nk;

	snprintf(num, sizeof(num), "1777%07d", i);
	assert_true(store_numkey(num, &nk));
	return nk;
}

/* One store_numhash_find() on a fresh snapshot of st. */
static int
find(struct store *st, struct store_numhash_views *hv, uint64_t nk,
    const char *cat, struct store_summary_ent *e, bool *is_cat)
{
	int rc;

	assert_non_null(store_read_begin(st));
	rc = store_numhash_find(st, hv, nk, cat, strlen(cat), e, is_cat);
	store_read_end(st);
	return rc;
}

/*
 * Direct writes: put or delete the slots of keys [from, to) (a put past
 * the load factor rebuilds from the numbers index, so puts stay few).
 */
struct span {
	int		 from;
	int		 to;
	int		 step;
	bool		 is_del;
};

static int
span_body(struct store *st, MDB_txn *txn, void *arg)
{
	const struct span *sp = arg;
	struct store_summary_ent e;
	int i, rc;

	for (i = sp->from; i < sp->to; i += sp->step) {
		memset(&e, 0, sizeof(e));
		e.kind = STORE_SUMMARY_SIMPLE;
		e.since = i;
		e.event_id = (uint64_t)i + 1;
		rc = sp->is_del ? store_numhash_del(st, txn, nkey(i)) :
		    store_numhash_put(st, txn, nkey(i), &e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void
span(struct store *st, int from, int to, int step, bool is_del)
{
	struct span sp = { from, to, step, is_del };

	assert_int_equal(store_write(st, span_body, &sp, false, "test"), 0);
}

/* Opt numbers [0, n) out of everything at time i (event ids i + 1). */
static void
load(struct store *st, int n)
{
	static struct store_event evs[6000];
	char num[16];
	int i;

	assert_true(n <= 6000);
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "1777%07d", i);
		fx_event(&evs[i], num, STORE_OPT_OUT, i, NULL, NULL);
	}
	assert_int_equal(store_import(st, evs, (size_t)n), 0);
}

static void
test_put_find_grow_delete(void **state)
{
	struct fx *f = *state;
	struct store_numhash_views hv;
	struct store_summary_ent e;
	bool is_cat;
	int i;

	memset(&hv, 0, sizeof(hv));
	/* Far past the smallest table (2 chunks): several growths. */
	load(f->st, 6000);
	fx_grow(f->st, 512);
	for (i = 0; i < 6000; i++) {
		assert_int_equal(find(f->st, &hv, nkey(i), "promo", &e,
		    &is_cat), 1);
		assert_int_equal(e.kind, STORE_SUMMARY_SIMPLE);
		assert_int_equal(e.since, i);
		assert_int_equal(e.event_id, (uint64_t)i + 1);
		assert_int_equal(e.catid, 0);
		assert_false(is_cat);
	}
	for (i = 6000; i < 7000; i++)
		assert_int_equal(find(f->st, &hv, nkey(i), "promo", &e,
		    &is_cat), 0);
	/* Every third gone: the runs they were in still find the rest. */
	span(f->st, 0, 6000, 3, true);
	for (i = 0; i < 6000; i++)
		assert_int_equal(find(f->st, &hv, nkey(i), "promo", &e,
		    &is_cat), i % 3 == 0 ? 0 : 1);
	/* Deleting what is not there changes nothing. */
	span(f->st, 0, 6000, 3, true);
	assert_int_equal(find(f->st, &hv, nkey(1), "promo", &e, &is_cat), 1);
	/* A put replaces the slot of a number already there. */
	span(f->st, 1000, 1001, 1, false);
	span(f->st, 1000, 1001, 1, false);
	assert_int_equal(find(f->st, &hv, nkey(1000), "promo", &e, &is_cat),
	    1);
	assert_int_equal(e.since, 1000);
	assert_int_equal(e.event_id, 1001);
	free(hv.cv.chunks);
}

static void
test_views_follow_writes(void **state)
{
	struct fx *f = *state;
	struct store_numhash_views hv;
	struct store_summary_ent e;
	bool is_cat;

	memset(&hv, 0, sizeof(hv));
	span(f->st, 0, 10, 1, false);
	assert_int_equal(find(f->st, &hv, nkey(20), "promo", &e, &is_cat), 0);
	/* A later snapshot with a write in between: the views reload. */
	span(f->st, 20, 21, 1, false);
	assert_int_equal(find(f->st, &hv, nkey(20), "promo", &e, &is_cat), 1);
	span(f->st, 20, 21, 1, true);
	assert_int_equal(find(f->st, &hv, nkey(20), "promo", &e, &is_cat), 0);
	/* Held: one snapshot for the lot, the write after it unseen. */
	store_read_hold(f->st);
	assert_int_equal(find(f->st, &hv, nkey(5), "promo", &e, &is_cat), 1);
	store_read_release(f->st);
	free(hv.cv.chunks);
}

/* Through the store: what each kind of state puts in the slot. */
static void
test_slots_of_states(void **state)
{
	struct fx *f = *state;
	struct store_numhash_views hv;
	struct store_summary_ent e;
	struct store_event ev;
	uint64_t nk;
	bool is_cat;

	memset(&hv, 0, sizeof(hv));
	/* Global: catid 0. */
	fx_event(&ev, "15550000001", STORE_OPT_OUT, 100, NULL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_true(store_numkey("15550000001", &nk));
	assert_int_equal(find(f->st, &hv, nk, "promo", &e, &is_cat), 1);
	assert_int_equal(e.kind, STORE_SUMMARY_SIMPLE);
	assert_int_equal(e.catid, 0);
	assert_int_equal(e.since, 100);
	assert_int_equal(e.event_id, ev.id);
	/* One category: its id, is_cat only for that name. */
	fx_event(&ev, "15550000002", STORE_OPT_OUT, 200, "promo", NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_true(store_numkey("15550000002", &nk));
	assert_int_equal(find(f->st, &hv, nk, "promo", &e, &is_cat), 1);
	assert_int_equal(e.kind, STORE_SUMMARY_SIMPLE);
	assert_int_not_equal(e.catid, 0);
	assert_true(is_cat);
	assert_int_equal(find(f->st, &hv, nk, "promos", &e, &is_cat), 1);
	assert_false(is_cat);
	assert_int_equal(find(f->st, &hv, nk, "prom", &e, &is_cat), 1);
	assert_false(is_cat);
	/* Two entries: read the summary. */
	fx_event(&ev, "15550000002", STORE_OPT_OUT, 300, "alerts", NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(find(f->st, &hv, nk, "promo", &e, &is_cat), 1);
	assert_int_equal(e.kind, STORE_SUMMARY_OTHER);
	/* Global with an exception: read the summary. */
	fx_event(&ev, "15550000001", STORE_OPT_IN, 400, "promo", NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_true(store_numkey("15550000001", &nk));
	assert_int_equal(find(f->st, &hv, nk, "promo", &e, &is_cat), 1);
	assert_int_equal(e.kind, STORE_SUMMARY_OTHER);
	assert_int_equal(store_optout_check(f->st, "15550000001", "promo",
	    NULL), 0);
	/* Opted back in to everything: gone from the hash. */
	fx_event(&ev, "15550000001", STORE_OPT_IN, 500, NULL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(find(f->st, &hv, nk, "promo", &e, &is_cat), 0);
	free(hv.cv.chunks);
}

struct cat_arg {
	const char	*name;
	bool		 may_add;
	int		 rc;
	uint16_t	 id;
};

static int
cat_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct cat_arg *ca = arg;

	ca->rc = store_numhash_catid(st, txn, ca->name, strlen(ca->name),
	    ca->may_add, &ca->id);
	return 0;
}

static struct cat_arg
catid(struct store *st, const char *name, bool may_add)
{
	struct cat_arg ca = { name, may_add, -1, 0 };

	assert_int_equal(store_write(st, cat_body, &ca, false, "test"), 0);
	return ca;
}

static void
test_category_ids(void **state)
{
	struct fx *f = *state;
	struct cat_arg a, b;
	char name[16];
	int i;

	a = catid(f->st, "promo", false);
	assert_int_equal(a.rc, MDB_NOTFOUND);
	a = catid(f->st, "promo", true);
	assert_int_equal(a.rc, 0);
	b = catid(f->st, "alerts", true);
	assert_int_equal(b.rc, 0);
	assert_int_not_equal(a.id, b.id);
	/* Asked again: the same ids. */
	assert_int_equal(catid(f->st, "promo", false).id, a.id);
	assert_int_equal(catid(f->st, "alerts", true).id, b.id);
	/* The table of names fills up: then no id, and no error. */
	for (i = 2; i < STORE_NUMHASH_CATS; i++) {
		snprintf(name, sizeof(name), "cat%d", i);
		assert_int_equal(catid(f->st, name, true).rc, 0);
	}
	assert_int_equal(catid(f->st, "onetoomany", true).rc, MDB_NOTFOUND);
	assert_int_equal(catid(f->st, "cat200", false).rc, 0);
}

/* More categories than ids: the slots of the rest say "other", and the
 * answers stay right. */
static void
test_categories_past_ids(void **state)
{
	struct fx *f = *state;
	struct store_numhash_views hv;
	struct store_summary_ent e;
	struct store_event ev;
	char num[16], cat[16];
	uint64_t nk;
	bool is_cat;
	int i;

	memset(&hv, 0, sizeof(hv));
	for (i = 0; i < STORE_NUMHASH_CATS + 5; i++) {
		snprintf(num, sizeof(num), "1888%07d", i);
		snprintf(cat, sizeof(cat), "c%d", i);
		fx_event(&ev, num, STORE_OPT_OUT, i, cat, NULL);
		assert_int_equal(store_optout_apply(f->st, &ev), 0);
	}
	for (i = 0; i < STORE_NUMHASH_CATS + 5; i++) {
		snprintf(num, sizeof(num), "1888%07d", i);
		snprintf(cat, sizeof(cat), "c%d", i);
		assert_true(store_numkey(num, &nk));
		assert_int_equal(find(f->st, &hv, nk, cat, &e, &is_cat), 1);
		if (i < STORE_NUMHASH_CATS) {
			assert_int_equal(e.kind, STORE_SUMMARY_SIMPLE);
			assert_true(is_cat);
		} else {
			assert_int_equal(e.kind, STORE_SUMMARY_OTHER);
		}
		assert_int_equal(store_optout_check(f->st, num, cat, NULL), 1);
		assert_int_equal(store_optout_check(f->st, num, "c", NULL), 0);
	}
	free(hv.cv.chunks);
}

/* A store without the table: find cannot say, the lookup still can. */
static void
test_missing_table(void **state)
{
	struct fx *f = *state;
	struct store_numhash_views hv;
	struct store_summary_ent e;
	struct store_event ev;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint64_t nk;
	bool is_cat;

	memset(&hv, 0, sizeof(hv));
	fx_event(&ev, "15550000009", STORE_OPT_OUT, 1, "promo", NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	store_free(f->st);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "numbers_hash", MDB_INTEGERKEY,
	    &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	/* Read-only: no rebuild, so no table. */
	{
		struct store_params p = { 8, 64, true };
		char err[256];

		f->st = store_open(f->dir, &p, err, sizeof(err));
		assert_non_null(f->st);
	}
	assert_true(store_numkey("15550000009", &nk));
	assert_int_equal(find(f->st, &hv, nk, "promo", &e, &is_cat), -1);
	assert_int_equal(store_optout_check(f->st, "15550000009", "promo",
	    NULL), 1);
	assert_int_equal(store_optout_check(f->st, "15550000008", "promo",
	    NULL), 0);
	/* Writable: the open rebuilds it. */
	store_free(f->st);
	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
	assert_int_equal(find(f->st, &hv, nk, "promo", &e, &is_cat), 1);
	assert_int_equal(e.kind, STORE_SUMMARY_SIMPLE);
	free(hv.cv.chunks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_find_grow_delete,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_views_follow_writes,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_slots_of_states,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_category_ids, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_categories_past_ids,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing_table, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
