/*
 * store/audit: the per-number audit index is filled after the fact
 * (store_audit_index) from a backlog that audit writes append to. A query
 * by number must not tell how far that got: the same records in the same
 * order before, during and after indexing, with every filter; expiry
 * must drop records from whichever of the two holds them; and a
 * read-only handle on a store from before the backlog existed reads the
 * index alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lmdb.h>

#include "store/audit_int.h"
#include "tests/unit/store/store_fixture.h"

#define NREC	300
#define NNUM	7
#define DAY	86400

static const char *const numbers[NNUM] = {
	"15550100001", "15550100002", "1555010000", "155501000011",
	"15550100003", "447700900001", "15550100009",
};

static void
mk_audit(struct store_audit *a, int64_t t, const char *dest,
    const char *account)
{
	memset(a, 0, sizeof(*a));
	a->time = t;
	snprintf(a->destination, sizeof(a->destination), "%s", dest);
	snprintf(a->account, sizeof(a->account), "%s", account);
	snprintf(a->category, sizeof(a->category), "promo");
	snprintf(a->service_type, sizeof(a->service_type), "CMT");
	snprintf(a->source, sizeof(a->source), "12345");
	a->status = 0x401;
}

/* What a query returned: (time, id) pairs in order. */
struct got {
	int64_t		 time[NREC];
	uint64_t	 id[NREC];
	size_t		 n;
};

static int
got_cb(const struct store_audit *a, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < NREC);
	g->time[g->n] = a->time;
	g->id[g->n] = a->id;
	g->n++;
	return 0;
}

static void
query(struct store *st, const struct store_audit_filter *f, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(store_audit_query(st, f, got_cb, g), 0);
}

static int
ref_cmp(const void *a, const void *b)
{
	const struct store_audit *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The answer worked out from the records themselves. */
static void
expect(const struct store_audit *recs, size_t n,
    const struct store_audit_filter *f, struct got *g)
{
	static struct store_audit sorted[NREC + 2];
	size_t i;

	assert_true(n <= NREC + 2);
	memcpy(sorted, recs, n * sizeof(recs[0]));
	qsort(sorted, n, sizeof(sorted[0]), ref_cmp);
	memset(g, 0, sizeof(*g));
	for (i = 0; i < n && (f->max == 0 || g->n < f->max); i++) {
		const struct store_audit *a = &sorted[i];

		if ((f->number != NULL &&
		    strcmp(f->number, a->destination) != 0) ||
		    (f->account != NULL &&
		    strcmp(f->account, a->account) != 0) ||
		    (f->since != 0 && a->time < f->since) ||
		    (f->until != 0 && a->time >= f->until))
			continue;
		g->time[g->n] = a->time;
		g->id[g->n] = a->id;
		g->n++;
	}
}

static void
assert_got_equal(const struct got *x, const struct got *y)
{
	size_t i;

	assert_int_equal(x->n, y->n);
	for (i = 0; i < x->n; i++) {
		assert_int_equal(x->time[i], y->time[i]);
		assert_int_equal(x->id[i], y->id[i]);
	}
}

/*
 * Every number under a set of filters (plain, since, until, both, max,
 * max with since, account), each against the reference; the results are
 * appended to out (if not NULL) for comparing stages.
 */
static size_t
check_all(struct store *st, const struct store_audit *recs, size_t n,
    struct got *out)
{
	struct store_audit_filter fl;
	struct got g, want;
	size_t i, j, k = 0;

	for (i = 0; i < NNUM; i++) {
		for (j = 0; j < 8; j++) {
			memset(&fl, 0, sizeof(fl));
			fl.number = numbers[i];
			switch (j) {
			case 1:
				fl.since = 1040;
				break;
			case 2:
				fl.until = 1100;
				break;
			case 3:
				fl.since = 1020;
				fl.until = 1080;
				break;
			case 4:
				fl.max = 3;
				break;
			case 5:
				fl.since = 1050;
				fl.max = 5;
				break;
			case 6:
				fl.account = "frontdesk";
				break;
			case 7:
				fl.account = "marketing";
				fl.max = 4;
				break;
			}
			query(st, &fl, &g);
			expect(recs, n, &fl, &want);
			assert_got_equal(&g, &want);
			if (out != NULL)
				out[k] = g;
			k++;
		}
	}
	/* Without a number: the time-ordered scan, as before. */
	memset(&fl, 0, sizeof(fl));
	fl.since = 1010;
	fl.until = 1110;
	query(st, &fl, &g);
	expect(recs, n, &fl, &want);
	assert_got_equal(&g, &want);
	return k;
}

/* NREC records over NNUM numbers, interleaved, times not in order. */
static void
add_many(struct store *st, struct store_audit *recs)
{
	struct store_batch b;
	size_t i, nbad;

	for (i = 0; i < NREC; i++)
		mk_audit(&recs[i], 1000 + (int64_t)((i * 37) % 151),
		    numbers[(i * 5 + i / 11) % NNUM],
		    i % 3 == 0 ? "frontdesk" : "marketing");
	/* Through both write paths, in a few calls. */
	assert_int_equal(store_audit_add(st, recs, 40), 0);
	memset(&b, 0, sizeof(b));
	b.audit = recs + 40;
	b.naudit = 160;
	assert_int_equal(store_batch_put(st, &b, &nbad), 0);
	assert_int_equal(nbad, 0);
	b.audit = recs + 200;
	b.naudit = NREC - 200;
	assert_int_equal(store_batch_put(st, &b, &nbad), 0);
	for (i = 1; i < NREC; i++)
		assert_int_equal(recs[i].id, recs[i - 1].id + 1);
}

static void
test_query_across_indexing(void **state)
{
	struct fx *f = *state;
	static struct store_audit recs[NREC];
	static struct got before[NNUM * 8], during[NNUM * 8],
	    after[NNUM * 8];
	size_t done, n, i, total = 0;

	add_many(f->st, recs);
	n = check_all(f->st, recs, NREC, before);

	/* Partial: the oldest 70 records move to the index. */
	assert_int_equal(store_audit_index(f->st, 70, &done), 0);
	assert_int_equal(done, 70);
	total += done;
	assert_int_equal(check_all(f->st, recs, NREC, during), n);
	for (i = 0; i < n; i++)
		assert_got_equal(&before[i], &during[i]);

	/* The rest, in pieces, checking after each. */
	do {
		assert_int_equal(store_audit_index(f->st, 97, &done), 0);
		total += done;
		assert_int_equal(check_all(f->st, recs, NREC, during), n);
	} while (done > 0);
	assert_int_equal(total, NREC);
	assert_int_equal(check_all(f->st, recs, NREC, after), n);
	for (i = 0; i < n; i++)
		assert_got_equal(&before[i], &after[i]);

	/* Nothing left; max 0 does nothing. */
	assert_int_equal(store_audit_index(f->st, 1000, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(store_audit_index(f->st, 0, &done), 0);
	assert_int_equal(done, 0);
}

/*
 * A number with records both indexed and waiting comes back merged in
 * time order, ties by id; an indexed and a waiting record at the same
 * time interleave by id.
 */
static void
test_merge_order(void **state)
{
	struct fx *f = *state;
	struct store_audit a[6];
	struct store_audit_filter fl;
	struct got g;
	size_t done;

	mk_audit(&a[0], 500, "15550100001", "marketing");
	mk_audit(&a[1], 300, "15550100001", "marketing");
	mk_audit(&a[2], 400, "15550100002", "marketing");
	assert_int_equal(store_audit_add(f->st, a, 3), 0);
	assert_int_equal(store_audit_index(f->st, 2, &done), 0);
	assert_int_equal(done, 2);
	mk_audit(&a[3], 500, "15550100001", "marketing");
	mk_audit(&a[4], 100, "15550100001", "marketing");
	mk_audit(&a[5], 300, "15550100001", "marketing");
	assert_int_equal(store_audit_add(f->st, a + 3, 3), 0);

	memset(&fl, 0, sizeof(fl));
	fl.number = "15550100001";
	query(f->st, &fl, &g);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.time[0], 100);
	assert_int_equal(g.id[1], a[1].id);	/* 300, indexed */
	assert_int_equal(g.id[2], a[5].id);	/* 300, waiting */
	assert_int_equal(g.id[3], a[0].id);	/* 500, indexed */
	assert_int_equal(g.id[4], a[3].id);	/* 500, waiting */
	fl.max = 2;
	query(f->st, &fl, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.id[1], a[1].id);
	fl.max = 0;
	fl.since = 300;
	fl.until = 500;
	query(f->st, &fl, &g);
	assert_int_equal(g.n, 2);
	fl.number = "15550100002";
	query(f->st, &fl, &g);
	assert_int_equal(g.n, 1);
	/* A prefix of a number is another number. */
	fl.number = "1555010000";
	query(f->st, &fl, &g);
	assert_int_equal(g.n, 0);
}

static void
test_index_empty(void **state)
{
	struct fx *f = *state;
	struct store_audit_filter fl;
	struct got g;
	size_t done = 99;

	assert_int_equal(store_audit_index(f->st, 100, &done), 0);
	assert_int_equal(done, 0);
	memset(&fl, 0, sizeof(fl));
	fl.number = "15550100001";
	query(f->st, &fl, &g);
	assert_int_equal(g.n, 0);
}

/* A bad record in a batch gets no id; the others' ids run on. */
static void
test_batch_bad_record(void **state)
{
	struct fx *f = *state;
	struct store_audit a[3];
	struct store_audit_filter fl;
	struct store_batch b;
	struct got g;
	size_t nbad, done;

	mk_audit(&a[0], 100, "15550100001", "marketing");
	mk_audit(&a[1], 100, "", "marketing");
	mk_audit(&a[2], 100, "15550100001", "marketing");
	memset(&b, 0, sizeof(b));
	b.audit = a;
	b.naudit = 3;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	assert_int_equal(nbad, 1);
	assert_int_equal(a[2].id, a[0].id + 1);
	assert_int_equal(store_audit_add(f->st, &a[0], 1), 0);
	assert_int_equal(a[0].id, a[2].id + 1);
	memset(&fl, 0, sizeof(fl));
	fl.number = "15550100001";
	query(f->st, &fl, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(store_audit_index(f->st, 10, &done), 0);
	assert_int_equal(done, 3);
	query(f->st, &fl, &g);
	assert_int_equal(g.n, 3);
}

/*
 * Expiry drops old records whether they were indexed or still waiting;
 * a waiting entry of an expired record is dropped with it, so indexing
 * afterwards moves only the survivors.
 */
static void
test_expire_indexed_and_not(void **state)
{
	struct fx *f = *state;
	struct store_audit recs[40];
	struct store_audit_filter fl;
	struct store_retention r;
	struct store_expired c;
	struct got g, want;
	size_t i, done;

	/* ids 1..20 old, 21..30 new, 31..40 old again (out of order). */
	for (i = 0; i < 40; i++)
		mk_audit(&recs[i], i >= 20 && i < 30 ? 100 * DAY + (int64_t)i :
		    1 * DAY + (int64_t)i, numbers[i % 3], "marketing");
	assert_int_equal(store_audit_add(f->st, recs, 20), 0);
	assert_int_equal(store_audit_add(f->st, recs + 20, 10), 0);
	assert_int_equal(store_audit_add(f->st, recs + 30, 10), 0);
	/* ids 1..10 indexed; 11..40 waiting. */
	assert_int_equal(store_audit_index(f->st, 10, &done), 0);
	assert_int_equal(done, 10);

	memset(&r, 0, sizeof(r));
	r.audit_days = 30;
	assert_int_equal(store_expire(f->st, 100 * DAY, &r, &c), 0);
	assert_int_equal(c.audit, 30);
	for (i = 0; i < 3; i++) {
		memset(&fl, 0, sizeof(fl));
		fl.number = numbers[i];
		query(f->st, &fl, &g);
		expect(recs + 20, 10, &fl, &want);
		assert_got_equal(&g, &want);
	}
	/* Only the ten survivors were waiting. */
	assert_int_equal(store_audit_index(f->st, 1000, &done), 0);
	assert_int_equal(done, 10);
	for (i = 0; i < 3; i++) {
		memset(&fl, 0, sizeof(fl));
		fl.number = numbers[i];
		query(f->st, &fl, &g);
		expect(recs + 20, 10, &fl, &want);
		assert_got_equal(&g, &want);
	}
	/* And they expire from the index in turn. */
	assert_int_equal(store_expire(f->st, 200 * DAY, &r, &c), 0);
	assert_int_equal(c.audit, 10);
	memset(&fl, 0, sizeof(fl));
	fl.number = numbers[0];
	query(f->st, &fl, &g);
	assert_int_equal(g.n, 0);
}

/* A read-only handle (the CLI) sees the waiting records too. */
static void
test_read_only(void **state)
{
	struct fx *f = *state;
	static struct store_audit recs[NREC];
	struct store_params p = { 0, 0, true };
	char err[256];
	struct store *ro;
	size_t done;

	add_many(f->st, recs);
	assert_int_equal(store_audit_index(f->st, 123, &done), 0);
	assert_non_null(ro = store_open(f->dir, &p, err, sizeof(err)));
	check_all(ro, recs, NREC, NULL);
	assert_int_equal(store_audit_index(ro, 10, &done), -1);
	assert_int_equal(store_errcode(ro), STORE_E_READONLY);
	assert_int_equal(done, 0);
	store_free(ro);
}

/* Open the fixture's environment with LMDB itself (f->st closed). */
static MDB_env *
raw_open(const char *dir)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)64 << 20), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0600), 0);
	return env;
}

/*
 * A store written before the backlog existed has every record in the
 * index and no backlog database: a read-only handle reads the index
 * alone, and a writable one adds the backlog and merges new records
 * with the old.
 */
static void
test_older_store(void **state)
{
	struct fx *f = *state;
	static struct store_audit recs[NREC];
	struct store_params p = { 0, 0, true };
	struct store_audit more[2];
	struct store_audit_filter fl;
	struct got g;
	char err[256];
	struct store *ro;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	size_t done;

	add_many(f->st, recs);
	assert_int_equal(store_audit_index(f->st, NREC, &done), 0);
	assert_int_equal(done, NREC);
	store_free(f->st);
	f->st = NULL;

	env = raw_open(f->dir);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "audit_new", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_non_null(ro = store_open(f->dir, &p, err, sizeof(err)));
	check_all(ro, recs, NREC, NULL);
	assert_int_equal(store_audit_index(ro, 10, &done), -1);
	store_free(ro);

	assert_non_null(f->st = fx_open(f, 8, 64));
	mk_audit(&more[0], 1001, numbers[0], "marketing");
	mk_audit(&more[1], 999, numbers[0], "marketing");
	assert_int_equal(store_audit_add(f->st, more, 2), 0);
	memset(&fl, 0, sizeof(fl));
	fl.number = numbers[0];
	query(f->st, &fl, &g);
	assert_int_equal(g.id[0], more[1].id);
	{
		static struct store_audit all[NREC + 2];
		struct got want;

		memcpy(all, recs, sizeof(recs));
		all[NREC] = more[0];
		all[NREC + 1] = more[1];
		expect(all, NREC + 2, &fl, &want);
		assert_got_equal(&g, &want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_query_across_indexing,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_merge_order, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_index_empty, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_batch_bad_record,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_expire_indexed_and_not,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_only, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_older_store, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/auditidx", tests, NULL,
	    NULL);
}
