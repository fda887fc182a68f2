/*
 * store/filter: the Bloom filter in front of the numbers index never
 * hides an opt-out (no false negatives, across its automatic rebuilds and
 * store_reindex), lets most other numbers through on its own (false
 * positive rate well under 2%), and keeps answering correctly after
 * opt-ins leave stale bits behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/filter_int.h"
#include "store/lookup_int.h"
#include "tests/unit/store/store_fixture.h"

#define BATCH	10000

/* Opt out numbers 1555 000 0000 + i * 7 for i in [from, to). */
static void
load(struct store *st, int from, int to)
{
	static struct store_event evs[BATCH];
	int i, n = 0;

	for (i = from; i < to; i++) {
		char num[16];

		snprintf(num, sizeof(num), "1555%07d", i * 7);
		fx_event(&evs[n++], num, STORE_OPT_OUT, i, "promo", NULL);
		if (n == BATCH || i + 1 == to) {
			assert_int_equal(store_import(st, evs, (size_t)n), 0);
			n = 0;
		}
	}
}

/* Fraction of never-written numbers the filter alone lets through. */
static double
pass_rate(struct store *st, int probes)
{
	MDB_txn *txn;
	uint64_t nk;
	int i, passed = 0;
	char num[16];

	txn = store_read_begin(st);
	assert_non_null(txn);
	for (i = 0; i < probes; i++) {
		snprintf(num, sizeof(num), "1666%07d", i);
		assert_true(store_numkey(num, &nk));
		if (store_filter_test(st, txn, nk) == 0)
			passed++;
	}
	store_read_end(st);
	return (double)passed / probes;
}

static void
test_filter_grows_no_false_negatives(void **state)
{
	struct fx *f = *state;
	int i;
	char num[16];

	/* Far past the initial capacity (16384): several growths. */
	load(f->st, 0, 140000);
	fx_grow(f->st, 4096);
	for (i = 0; i < 140000; i++) {
		snprintf(num, sizeof(num), "1555%07d", i * 7);
		assert_int_equal(store_optout_check(f->st, num, "promo", NULL),
		    1);
	}
	/* Neighbours are not blocked. */
	for (i = 0; i < 1000; i++) {
		snprintf(num, sizeof(num), "1555%07d", i * 7 + 3);
		assert_int_equal(store_optout_check(f->st, num, "promo", NULL),
		    0);
	}
	assert_true(pass_rate(f->st, 20000) > 0.98);
}

static void
test_filter_stale_bits_and_reindex(void **state)
{
	struct fx *f = *state;
	struct store_event ev;
	double before, after;
	int i;
	char num[16];

	load(f->st, 0, 60000);
	fx_grow(f->st, 4096);
	before = pass_rate(f->st, 20000);
	assert_true(before > 0.98);
	/* Opt most of them back in: answers are right at once. */
	for (i = 0; i < 50; i++) {
		snprintf(num, sizeof(num), "1555%07d", i * 7);
		fx_event(&ev, num, STORE_OPT_IN, 1, NULL, NULL);
		assert_int_equal(store_optout_apply(f->st, &ev), 0);
		assert_int_equal(store_optout_check(f->st, num, "promo", NULL),
		    0);
	}
	snprintf(num, sizeof(num), "1555%07d", 50 * 7);
	assert_int_equal(store_optout_check(f->st, num, "promo", NULL), 1);
	/* A rebuild keeps every remaining opt-out. */
	assert_int_equal(store_reindex(f->st), 0);
	after = pass_rate(f->st, 20000);
	assert_true(after > 0.98);
	for (i = 0; i < 60000; i++) {
		snprintf(num, sizeof(num), "1555%07d", i * 7);
		assert_int_equal(store_optout_check(f->st, num, "promo", NULL),
		    i < 50 ? 0 : 1);
	}
}

static void
test_filter_empty_and_alnum(void **state)
{
	struct fx *f = *state;
	struct store_event ev;

	/* No filter yet: lookups take the exact path. */
	assert_int_equal(store_optout_check(f->st, "15550000000", "p", NULL),
	    0);
	assert_int_equal(store_reindex(f->st), 0);
	assert_int_equal(store_optout_check(f->st, "15550000000", "p", NULL),
	    0);
	/* Alphanumeric senders never go through the filter. */
	fx_event(&ev, "ACME", STORE_OPT_OUT, 1, NULL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_optout_check(f->st, "ACME", "p", NULL), 1);
	fx_event(&ev, "15550000000", STORE_OPT_OUT, 1, NULL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_optout_check(f->st, "15550000000", "p", NULL),
	    1);
}

/*
 * An environment written before the numbers index existed (simulated by
 * dropping the index, the filter and the marker) must not make lookups
 * fail open: a read-only open takes the exact path, a writable open
 * rebuilds the index.
 */
/*
 * The views of the filter's chunks are kept across snapshots that did not
 * touch the filter (the proxy's writer thread commits a batch every few
 * milliseconds) and dropped by any that did: an opt-out written through
 * another handle (another thread) is seen by the very next lookup.
 */
static void
test_filter_views_across_writes(void **state)
{
	struct fx *f = *state;
	struct store *sib;
	struct store_event ev;
	struct store_lastsent_entry ls;
	struct store_batch b;
	size_t nbad;
	int i;

	load(f->st, 0, 2000);
	assert_non_null(sib = store_sibling(f->st));
	assert_int_equal(store_optout_check(f->st, "15559999991", "promo",
	    NULL), 0);
	memset(&ls, 0, sizeof(ls));
	memset(&b, 0, sizeof(b));
	b.lastsent = &ls;
	b.nlastsent = 1;
	for (i = 0; i < 50; i++) {
		/* Unrelated batches from the other handle: new snapshots. */
		snprintf(ls.number, sizeof(ls.number), "1666%07d", i);
		assert_int_equal(store_batch_put(sib, &b, &nbad), 0);
		assert_int_equal(store_optout_check(f->st, "15559999991",
		    "promo", NULL), 0);
		assert_int_equal(store_optout_check(f->st, "15550000007",
		    "promo", NULL), 1);
	}
	/* The filter itself changes: seen at once. */
	fx_event(&ev, "15559999991", STORE_OPT_OUT, 1, "promo", NULL);
	assert_int_equal(store_optout_apply(sib, &ev), 0);
	assert_int_equal(store_optout_check(f->st, "15559999991", "promo",
	    NULL), 1);
	store_free(sib);
}

static void
test_index_missing(void **state)
{
	struct fx *f = *state;
	struct store_params ro = { 0, 0, true };
	struct store_event ev;
	struct store *st;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { sizeof(STORE_NUMIDX_MARKER) - 1,
	    (void *)(uintptr_t)STORE_NUMIDX_MARKER };
	char err[256];

	fx_event(&ev, "15550000001", STORE_OPT_OUT, 1, "promo", NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	store_free(f->st);
	f->st = NULL;

	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "numbers", MDB_INTEGERKEY, &dbi),
	    0);
	assert_int_equal(mdb_drop(txn, dbi, 0), 0);
	assert_int_equal(mdb_dbi_open(txn, "filter", MDB_INTEGERKEY, &dbi),
	    0);
	assert_int_equal(mdb_drop(txn, dbi, 0), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	st = store_open(f->dir, &ro, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_optout_check(st, "15550000001", "promo", NULL),
	    1);
	assert_int_equal(store_optout_check(st, "15550000002", "promo", NULL),
	    0);
	store_free(st);

	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
	assert_int_equal(store_optout_check(f->st, "15550000001", "promo",
	    NULL), 1);
	assert_true(pass_rate(f->st, 1000) > 0.98);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_filter_grows_no_false_negatives, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_filter_stale_bits_and_reindex, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_filter_empty_and_alnum,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_filter_views_across_writes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_index_missing, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/filter", tests, NULL, NULL);
}
