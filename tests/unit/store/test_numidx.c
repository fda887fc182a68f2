/*
 * store/optout, store/numhash: the numbers index holds a summary of each
 * number's state entries and the numbers hash a slot for each number,
 * and the lookups that decide from them give exactly the answer (and the
 * reason) of the state entries themselves, through any mix of opt-outs,
 * opt-ins and exceptions, and through the hash's growth and deletions; a
 * summary too large to keep is left empty and the entries answer; an
 * index written before summaries is read through the entries and rebuilt
 * by a writable open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lmdb.h>

#include "store/lookup_int.h"
#include "tests/unit/store/store_fixture.h"

#define NNUM	12
#define NCAT	5

static const char *cats[NCAT] = {
	"promo", "billing", "appointments", "dispatch", "never-used"
};

struct answer {
	int			rc;
	struct store_block	why;
};

static void
number_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "1555123%04d", i);
}

/* Every number's answer for every category. */
static void
answers(struct store *st, struct answer a[NNUM][NCAT])
{
	char num[STORE_NUMBER_MAX];
	int i, c;

	for (i = 0; i < NNUM; i++) {
		number_of(i, num, sizeof(num));
		for (c = 0; c < NCAT; c++) {
			memset(&a[i][c], 0, sizeof(a[i][c]));
			a[i][c].rc = store_optout_check(st, num, cats[c],
			    &a[i][c].why);
			assert_true(a[i][c].rc >= 0);
		}
	}
}

static void
answers_equal(struct answer a[NNUM][NCAT], struct answer b[NNUM][NCAT])
{
	int i, c;

	for (i = 0; i < NNUM; i++)
		for (c = 0; c < NCAT; c++) {
			assert_int_equal(a[i][c].rc, b[i][c].rc);
			if (a[i][c].rc != 1)
				continue;
			assert_int_equal(a[i][c].why.is_global,
			    b[i][c].why.is_global);
			assert_int_equal(a[i][c].why.since, b[i][c].why.since);
			assert_int_equal(a[i][c].why.event_id,
			    b[i][c].why.event_id);
		}
}

/* Raw access to the environment of a closed store. */
static MDB_env *
raw_open(const char *dir, MDB_txn **txn)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, txn), 0);
	return env;
}

static void
raw_close(MDB_env *env, MDB_txn *txn)
{
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Empty every summary; return how many were not empty. */
static int
raw_blank(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_dbi dbi;
	MDB_val k, v, empty = { 0, NULL };
	uint64_t key;
	int rc, n = 0;

	env = raw_open(dir, &txn);
	assert_int_equal(mdb_dbi_open(txn, "numbers", MDB_INTEGERKEY, &dbi),
	    0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size > 0)
			n++;
		/* k points into the page that the put rewrites. */
		memcpy(&key, k.mv_data, sizeof(key));
		k.mv_data = &key;
		assert_int_equal(mdb_cursor_put(cur, &k, &empty, MDB_CURRENT),
		    0);
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(cur);
	raw_close(env, txn);
	return n;
}

/* The summary of number (-1: no entry); its size otherwise. */
static int
raw_summary_len(const char *dir, const char *number)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint64_t nk;
	MDB_val k = { sizeof(nk), &nk }, v;
	int rc;

	assert_true(store_numkey(number, &nk));
	env = raw_open(dir, &txn);
	assert_int_equal(mdb_dbi_open(txn, "numbers", MDB_INTEGERKEY, &dbi),
	    0);
	rc = mdb_get(txn, dbi, &k, &v);
	raw_close(env, txn);
	if (rc == MDB_NOTFOUND)
		return -1;
	assert_int_equal(rc, 0);
	return (int)v.mv_size;
}

/* Delete the numbers hash's parameters: a handle then has no table. */
static void
raw_drop_hash(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint64_t key = UINT64_MAX;
	MDB_val k = { sizeof(key), &key };

	env = raw_open(dir, &txn);
	assert_int_equal(mdb_dbi_open(txn, "numbers_hash", MDB_INTEGERKEY,
	    &dbi), 0);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	raw_close(env, txn);
}

/* A read-only handle that answers from the state entries alone. */
static struct store *
reference_open(struct fx *f)
{
	struct store_params ro = { 0, 0, true };
	char err[256];
	struct store *st;

	store_free(f->st);
	f->st = NULL;
	raw_drop_hash(f->dir);
	(void)raw_blank(f->dir);
	st = store_open(f->dir, &ro, err, sizeof(err));
	assert_non_null(st);
	return st;
}

static bool
raw_has(MDB_txn *txn, MDB_dbi meta, const char *name)
{
	MDB_val k = { strlen(name), (void *)(uintptr_t)name }, v;

	return mdb_get(txn, meta, &k, &v) == 0;
}

static void
random_events(struct store *st, unsigned *seed, int n)
{
	struct store_event ev;
	char num[STORE_NUMBER_MAX];
	int i, r;

	for (i = 0; i < n; i++) {
		r = rand_r(seed);
		number_of(r % NNUM, num, sizeof(num));
		r /= NNUM;
		/* All scopes, one category, or two; never "never-used". */
		switch (r % 4) {
		case 0:
			fx_event(&ev, num, (r / 4) % 2 ? STORE_OPT_IN :
			    STORE_OPT_OUT, 1000 + i, NULL, NULL);
			break;
		case 1:
			fx_event(&ev, num, (r / 4) % 2 ? STORE_OPT_IN :
			    STORE_OPT_OUT, 1000 + i, cats[(r / 8) % 4],
			    cats[(r / 32) % 4]);
			break;
		default:
			fx_event(&ev, num, (r / 4) % 2 ? STORE_OPT_IN :
			    STORE_OPT_OUT, 1000 + i, cats[(r / 8) % 4], NULL);
			break;
		}
		if (ev.ncategories == 2 &&
		    strcmp(ev.categories[0], ev.categories[1]) == 0)
			ev.ncategories = 1;
		assert_int_equal(store_optout_apply(st, &ev), 0);
	}
}

static void
test_summary_matches_entries(void **state)
{
	static struct answer a[NNUM][NCAT], b[NNUM][NCAT];
	struct fx *f = *state;
	unsigned seed = 20261127;
	int round, blocked = 0, i, c;

	struct store *ref;

	for (round = 0; round < 8; round++) {
		random_events(f->st, &seed, 40);
		answers(f->st, a);
		/* The same store read through the state entries alone. */
		ref = reference_open(f);
		answers(ref, b);
		answers_equal(a, b);
		store_free(ref);
		/* A writable open rebuilds the index and the hash. */
		f->st = fx_open(f, 8, 64);
		assert_non_null(f->st);
		answers(f->st, b);
		answers_equal(a, b);
		for (i = 0; i < NNUM; i++)
			for (c = 0; c < NCAT; c++)
				blocked += a[i][c].rc;
	}
	/* The mix exercised both answers. */
	assert_true(blocked > 0);
	assert_true(blocked < 8 * NNUM * NCAT);
}

/*
 * Thousands of numbers in and out: the hash grows (rebuilds) and deletes
 * in long probe runs, and every answer stays the state entries' own.
 */
#define CHURN_NUM	3000
#define CHURN_EVENTS	1500

static void
churn_number(int i, char *buf, size_t len)
{
	snprintf(buf, len, "1666%07d", i * 13);
}

static void
churn_answers(struct store *st, int *rc, struct store_block *why)
{
	char num[STORE_NUMBER_MAX];
	int i, c;

	for (i = 0; i < CHURN_NUM; i++) {
		churn_number(i, num, sizeof(num));
		for (c = 0; c < 3; c++) {
			memset(&why[i * 3 + c], 0, sizeof(why[0]));
			rc[i * 3 + c] = store_optout_check(st, num, cats[c],
			    &why[i * 3 + c]);
			assert_true(rc[i * 3 + c] >= 0);
		}
	}
}

static void
test_hash_churn(void **state)
{
	static struct store_event evs[CHURN_EVENTS];
	static int ra[CHURN_NUM * 3], rb[CHURN_NUM * 3];
	static struct store_block wa[CHURN_NUM * 3], wb[CHURN_NUM * 3];
	struct fx *f = *state;
	struct store *ref;
	char num[STORE_NUMBER_MAX];
	unsigned seed = 99;
	int round, i, r, blocked;

	for (round = 0; round < 6; round++) {
		/* Early rounds mostly opt out, later ones mostly opt in. */
		for (i = 0; i < CHURN_EVENTS; i++) {
			r = rand_r(&seed);
			churn_number(r % CHURN_NUM, num, sizeof(num));
			r /= CHURN_NUM;
			fx_event(&evs[i], num, r % 6 < 4 - round / 2 ?
			    STORE_OPT_OUT : STORE_OPT_IN,
			    5000 + round * 10000 + i,
			    (r / 6) % 3 == 0 ? NULL : cats[(r / 18) % 2], NULL);
		}
		assert_int_equal(store_import(f->st, evs, CHURN_EVENTS), 0);
		churn_answers(f->st, ra, wa);
		ref = reference_open(f);
		churn_answers(ref, rb, wb);
		store_free(ref);
		f->st = fx_open(f, 8, 64);
		assert_non_null(f->st);
		blocked = 0;
		for (i = 0; i < CHURN_NUM * 3; i++) {
			assert_int_equal(ra[i], rb[i]);
			blocked += ra[i];
			if (ra[i] != 1)
				continue;
			assert_int_equal(wa[i].is_global, wb[i].is_global);
			assert_int_equal(wa[i].since, wb[i].since);
			assert_int_equal(wa[i].event_id, wb[i].event_id);
		}
		assert_true(blocked > 0);
	}
}

static void
test_summary_too_large(void **state)
{
	struct fx *f = *state;
	struct store_event ev;
	struct store_block why;
	char cat[12][STORE_NAME_MAX];
	const char *num = "15551230001";
	int i;

	for (i = 0; i < 12; i++) {
		/* 29 characters, the first two i's digits. */
		snprintf(cat[i], sizeof(cat[i]),
		    "00-a-long-category-name-abcde");
		cat[i][0] = (char)('0' + i / 10);
		cat[i][1] = (char)('0' + i % 10);
		fx_event(&ev, num, STORE_OPT_OUT, 100 + i, "x", NULL);
		/* (a copy: fortified snprintf sees the whole array) */
		memcpy(ev.categories[0], cat[i], sizeof(cat[i]));
		assert_int_equal(store_optout_apply(f->st, &ev), 0);
	}
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(raw_summary_len(f->dir, num), 0);	/* too large */
	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
	for (i = 0; i < 12; i++) {
		assert_int_equal(store_optout_check(f->st, num, cat[i], &why),
		    1);
		assert_int_equal(why.since, 100 + i);
	}
	assert_int_equal(store_optout_check(f->st, num, "promo", NULL), 0);
	/* Opted back in to most: the summary fits again. */
	for (i = 2; i < 12; i++) {
		fx_event(&ev, num, STORE_OPT_IN, 200 + i, "x", NULL);
		/* (a copy: fortified snprintf sees the whole array) */
		memcpy(ev.categories[0], cat[i], sizeof(cat[i]));
		assert_int_equal(store_optout_apply(f->st, &ev), 0);
	}
	assert_int_equal(store_optout_check(f->st, num, cat[1], NULL), 1);
	assert_int_equal(store_optout_check(f->st, num, cat[2], NULL), 0);
	store_free(f->st);
	f->st = NULL;
	assert_true(raw_summary_len(f->dir, num) > 0);
	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
	assert_int_equal(store_optout_check(f->st, num, cat[0], NULL), 1);
	assert_int_equal(store_optout_check(f->st, num, cat[11], NULL), 0);
	/* Opted in to all: the number leaves the index. */
	fx_event(&ev, num, STORE_OPT_IN, 300, NULL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_optout_check(f->st, num, cat[0], NULL), 0);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(raw_summary_len(f->dir, num), -1);
}

static void
test_index_from_before_summaries(void **state)
{
	static struct answer a[NNUM][NCAT], b[NNUM][NCAT];
	struct fx *f = *state;
	struct store_params ro = { 0, 0, true };
	unsigned seed = 7;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k, v;
	uint8_t one = 1;
	char err[256];
	struct store *st;

	random_events(f->st, &seed, 120);
	answers(f->st, a);
	store_free(f->st);
	f->st = NULL;

	/* What a stopgate from before summaries leaves: empty values, the
	 * v1 marker only. */
	assert_true(raw_blank(f->dir) > 0);
	env = raw_open(f->dir, &txn);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	k.mv_size = strlen(STORE_NUMIDX_MARKER);
	k.mv_data = (void *)(uintptr_t)STORE_NUMIDX_MARKER;
	assert_int_equal(mdb_del(txn, meta, &k, NULL), 0);
	k.mv_size = strlen(STORE_NUMIDX_MARKER_V1);
	k.mv_data = (void *)(uintptr_t)STORE_NUMIDX_MARKER_V1;
	v.mv_size = 1;
	v.mv_data = &one;
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	raw_close(env, txn);

	/* Read-only: answered from the state entries. */
	st = store_open(f->dir, &ro, err, sizeof(err));
	assert_non_null(st);
	answers(st, b);
	answers_equal(a, b);
	store_free(st);

	/* Writable: rebuilt with summaries, and the v1 marker gone. */
	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
	answers(f->st, b);
	answers_equal(a, b);
	store_free(f->st);
	f->st = NULL;
	env = raw_open(f->dir, &txn);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_true(raw_has(txn, meta, STORE_NUMIDX_MARKER));
	assert_false(raw_has(txn, meta, STORE_NUMIDX_MARKER_V1));
	raw_close(env, txn);
	assert_true(raw_blank(f->dir) > 0);	/* they were rebuilt */
	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_summary_matches_entries,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_summary_too_large,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hash_churn, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_index_from_before_summaries, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("store/numidx", tests, NULL, NULL);
}
