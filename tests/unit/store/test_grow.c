/*
 * store/lookup: the numbers hash and the filter grow in steps. The write
 * that crosses a threshold only begins a growth; steps interleaved with
 * opt-outs and opt-ins never make a lookup wrong, from this handle, a
 * sibling or another process; an old hash that fills up mid-growth hands
 * its lookups to the numbers index; a store closed mid-growth reopens
 * and finishes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "store/lookup_int.h"
#include "store/numhash_int.h"
#include "tests/unit/store/store_fixture.h"

#define NMAX	4000

/* What each number i should answer for "promo". */
static bool want[NMAX];

static void
num_of(int i, char num[16])
{
	snprintf(num, 16, "1444%07d", i * 13);
}

static void
apply1(struct store *st, int i, enum store_action a)
{
	struct store_event ev;
	char num[16];

	num_of(i, num);
	fx_event(&ev, num, a, i, "promo", NULL);
	assert_int_equal(store_optout_apply(st, &ev), 0);
	want[i] = a == STORE_OPT_OUT;
}

/* Numbers [from, to) out, in imports of batch. */
static void
load(struct store *st, int from, int to, int batch)
{
	static struct store_event evs[NMAX];
	char num[16];
	int i, n = 0;

	for (i = from; i < to; i++) {
		num_of(i, num);
		fx_event(&evs[n++], num, STORE_OPT_OUT, i, "promo", NULL);
		want[i] = true;
		if (n == batch || i + 1 == to) {
			assert_int_equal(store_import(st, evs, (size_t)n), 0);
			n = 0;
		}
	}
}

static void
check_all(struct store *st, int n)
{
	char num[16];
	int i;

	for (i = 0; i < n; i++) {
		num_of(i, num);
		assert_int_equal(store_optout_check(st, num, "promo", NULL),
		    want[i] ? 1 : 0);
	}
	/* Neighbours never are. */
	for (i = 0; i < n; i += 7) {
		snprintf(num, sizeof(num), "1444%07d", i * 13 + 5);
		assert_int_equal(store_optout_check(st, num, "promo", NULL),
		    0);
	}
}

/* What the numbers hash of a fresh snapshot says of number i. */
static int
hash_find(struct store *st, int i)
{
	struct store_numhash_views hv;
	struct store_summary_ent e;
	uint64_t nk;
	char num[16];
	bool is_cat;
	int rc;

	memset(&hv, 0, sizeof(hv));
	num_of(i, num);
	assert_true(store_numkey(num, &nk));
	assert_non_null(store_read_begin(st));
	rc = store_numhash_find(st, &hv, nk, "promo", 5, &e, &is_cat);
	store_read_end(st);
	free(hv.cv.chunks);
	return rc;
}

static void
progress(struct store *st, uint64_t *moved, uint64_t *total)
{
	struct store_info in;

	assert_int_equal(store_info(st, &in), 0);
	*moved = in.lookup_grow_moved;
	*total = in.lookup_grow_total;
}

static void
test_crossing_only_begins(void **state)
{
	struct fx *f = *state;
	uint64_t moved, total;
	int i;

	memset(want, 0, sizeof(want));
	/* The smallest hash (1024 slots) grows past 819 numbers. */
	load(f->st, 0, 810, 100);
	progress(f->st, &moved, &total);
	assert_true(total == 0);
	assert_false(store_lookup_grow_pending(f->st));
	for (i = 810; i < 830; i++)
		apply1(f->st, i, STORE_OPT_OUT);
	progress(f->st, &moved, &total);
	assert_true(total >= 800);
	assert_true(moved == 0);
	assert_true(store_lookup_grow_pending(f->st));
	check_all(f->st, 830);
	/* Half way, then to the end. */
	assert_int_equal(store_lookup_grow_step(f->st, 512, &(size_t){ 0 }),
	    0);
	progress(f->st, &moved, &total);
	assert_true(moved > 0 && moved < total);
	check_all(f->st, 830);
	assert_true(fx_grow(f->st, 256) >= 2);
	progress(f->st, &moved, &total);
	assert_true(moved == 0 && total == 0);
	assert_false(store_lookup_grow_pending(f->st));
	check_all(f->st, 830);
}

/*
 * Steps between opt-outs, opt-ins and re-opt-outs; a sibling handle
 * (its own snapshot and views) checks after each change.
 */
static void
test_interleaved_sibling(void **state)
{
	struct fx *f = *state;
	struct store *rd;
	uint64_t moved, total;
	size_t done;
	char num[16];
	int i, j, growing = 0;

	memset(want, 0, sizeof(want));
	rd = store_sibling(f->st);
	assert_non_null(rd);
	load(f->st, 0, 700, 100);
	for (i = 700; i < 2600; i++) {
		apply1(f->st, i, STORE_OPT_OUT);
		if (i % 7 == 0)
			apply1(f->st, i - 350, STORE_OPT_IN);
		if (i % 11 == 0)
			apply1(f->st, i - 500, STORE_OPT_OUT);
		if (i % 3 == 0)
			assert_int_equal(store_lookup_grow_step(f->st, 48,
			    &done), 0);
		progress(f->st, &moved, &total);
		growing += total > 0;
		num_of(i, num);
		assert_int_equal(store_optout_check(rd, num, "promo", NULL),
		    1);
		for (j = i % 29; j < i; j += 29) {
			num_of(j, num);
			assert_int_equal(store_optout_check(rd, num, "promo",
			    NULL), want[j] ? 1 : 0);
		}
	}
	assert_true(growing > 100);
	check_all(rd, 2600);
	fx_grow(f->st, 1000);
	check_all(rd, 2600);
	check_all(f->st, 2600);
	store_free(rd);
}

/*
 * No steps while numbers keep coming: the old hash reaches 7/8 and is
 * marked incomplete; lookups go to the numbers index, still exact.
 */
static void
test_old_hash_full(void **state)
{
	struct fx *f = *state;
	struct store *rd;
	uint64_t moved, total;
	int i;

	memset(want, 0, sizeof(want));
	rd = store_sibling(f->st);
	assert_non_null(rd);
	load(f->st, 0, 815, 100);
	/* Past 896 of 1024 slots, below 7/8 of the new table's. */
	for (i = 815; i < 1000; i++)
		apply1(f->st, i, STORE_OPT_OUT);
	progress(f->st, &moved, &total);
	assert_true(total > 0 && moved == 0);
	/* The hash cannot say, so the numbers index does. */
	assert_int_equal(hash_find(f->st, 0), -1);
	apply1(f->st, 3, STORE_OPT_IN);
	apply1(f->st, 999, STORE_OPT_IN);
	check_all(f->st, 1000);
	check_all(rd, 1000);
	fx_grow(f->st, 100);
	assert_int_equal(hash_find(f->st, 0), 1);
	assert_int_equal(hash_find(f->st, 3), 0);
	check_all(f->st, 1000);
	check_all(rd, 1000);
	store_free(rd);
}

/* A process dies mid-growth; the next open sees it and finishes it. */
static void
test_crash_mid_growth(void **state)
{
	struct fx *f = *state;
	uint64_t moved, total;
	pid_t pid;
	int status;

	memset(want, 0, sizeof(want));
	store_free(f->st);
	f->st = NULL;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct store *w = fx_open(f, 8, 64);
		size_t done;
		int i;

		if (w == NULL)
			_exit(1);
		load(w, 0, 800, 100);
		for (i = 800; i < 900; i++)
			apply1(w, i, STORE_OPT_OUT);
		if (store_lookup_grow_step(w, 300, &done) != 0 || done == 0)
			_exit(2);
		_exit(0);	/* no store_free: as if killed */
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 900; i++)
		want[i] = true;
	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
	progress(f->st, &moved, &total);
	assert_true(moved > 0 && moved < total);
	check_all(f->st, 900);
	apply1(f->st, 900, STORE_OPT_OUT);
	apply1(f->st, 10, STORE_OPT_IN);
	fx_grow(f->st, 64);
	progress(f->st, &moved, &total);
	assert_true(total == 0);
	check_all(f->st, 901);
}

/*
 * Another process reads while this one writes and steps: every number
 * whose opt-out event it has seen committed is blocked in its lookups.
 */
static void
test_reader_process(void **state)
{
	struct fx *f = *state;
	struct store_params ro = { 8, 64, true };
	pid_t pid;
	size_t done;
	int i, status;

	memset(want, 0, sizeof(want));
	load(f->st, 0, 100, 100);
	/* No environment may cross a fork. */
	store_free(f->st);
	f->st = NULL;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct store *r;
		struct store_info in;
		char err[256], num[16];
		uint64_t e, k;

		if ((r = store_open(f->dir, &ro, err, sizeof(err))) == NULL)
			_exit(1);
		do {
			if (store_info(r, &in) != 0)
				_exit(2);
			e = in.last_event_id;
			/* Event k opted number k - 1 out, for good. */
			for (k = e > 400 ? e - 400 : 1; k <= e; k++) {
				num_of((int)k - 1, num);
				if (store_optout_check(r, num, "promo",
				    NULL) != 1) {
					fprintf(stderr, "missed %s\n", num);
					_exit(3);
				}
			}
		} while (e < 3000);
		_exit(0);
	}
	assert_true(pid > 0);
	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
	for (i = 100; i < 3000; i++) {
		apply1(f->st, i, STORE_OPT_OUT);
		if (i % 4 == 0)
			assert_int_equal(store_lookup_grow_step(f->st, 40,
			    &done), 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fx_grow(f->st, 1000);
	check_all(f->st, 3000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crossing_only_begins,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_interleaved_sibling,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_old_hash_full,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_crash_mid_growth,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reader_process,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
