/*
 * store/audit: queries by account, by category and by time read only
 * their index range (plus, on a store written before those indexes, the
 * records store_audit_index has not reached yet), and give the same
 * records in the same order as working the answer out from every record:
 * with paging after (time, id) on every index, on a store half indexed,
 * and after expiry (which takes the index entries with the records).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lmdb.h>

#include "store/audit_int.h"
#include "store/store_int.h"
#include "tests/unit/store/store_fixture.h"

#define NREC	400
#define DAY	86400

static const char *const accounts[] = { "bank", "shop", "clinic", "" };
static const char *const categories[] = { "promo", "alerts", "" };

/* Every record written, as the store numbered them. */
static struct store_audit recs[NREC * 2];
static size_t nrecs;

static void
add(struct store *st, int from, int to)
{
	struct store_audit *a;
	int i;

	for (i = from; i < to; i++) {
		a = &recs[nrecs];
		memset(a, 0, sizeof(*a));
		/* Out of time order now and then, and ties. */
		a->time = 1000000 + (i % 13 == 0 ? i - 40 : i) / 2 * 60;
		snprintf(a->destination, sizeof(a->destination), "1555%07d",
		    i % 17);
		snprintf(a->account, sizeof(a->account), "%s",
		    accounts[i % 4]);
		snprintf(a->category, sizeof(a->category), "%s",
		    categories[i % 3]);
		a->status = 0x401;
		assert_int_equal(store_audit_add(st, a, 1), 0);
		nrecs++;
	}
}

struct got {
	struct store_audit a[NREC * 2];
	size_t		 n;
};

static int
got_cb(const struct store_audit *a, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < NREC * 2);
	g->a[g->n++] = *a;
	return 0;
}

static int
ref_cmp(const void *a, const void *b)
{
	const struct store_audit *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool
ref_match(const struct store_audit *a, const struct store_audit_filter *f,
    int64_t cutoff)
{
	return a->time >= cutoff &&
	    (f->since == 0 || a->time >= f->since) &&
	    (f->until == 0 || a->time < f->until) &&
	    (f->number == NULL || strcmp(f->number, a->destination) == 0) &&
	    (f->account == NULL || strcmp(f->account, a->account) == 0) &&
	    (f->category == NULL || strcmp(f->category, a->category) == 0);
}

/*
 * Query f whole and in pages of page records (after the last one seen),
 * and compare both with the records that match, kept past cutoff.
 */
static void
check(struct store *st, struct store_audit_filter f, size_t page,
    int64_t cutoff)
{
	static struct store_audit want[NREC * 2];
	static struct got g, p;
	size_t nwant = 0, i;

	for (i = 0; i < nrecs; i++)
		if (ref_match(&recs[i], &f, cutoff))
			want[nwant++] = recs[i];
	qsort(want, nwant, sizeof(want[0]), ref_cmp);
	g.n = 0;
	assert_int_equal(store_audit_query(st, &f, got_cb, &g), 0);
	assert_int_equal(g.n, nwant);
	for (i = 0; i < nwant; i++)
		assert_int_equal(g.a[i].id, want[i].id);
	/* Paging. */
	g.n = 0;
	f.max = page;
	do {
		p.n = 0;
		assert_int_equal(store_audit_query(st, &f, got_cb, &p), 0);
		assert_true(p.n <= page);
		memcpy(&g.a[g.n], p.a, p.n * sizeof(p.a[0]));
		g.n += p.n;
		if (p.n > 0) {
			f.after_time = p.a[p.n - 1].time;
			f.after_id = p.a[p.n - 1].id;
		}
	} while (p.n == page);
	assert_int_equal(g.n, nwant);
	for (i = 0; i < nwant; i++)
		assert_int_equal(g.a[i].id, want[i].id);
}

/* Every filter the admin API and the CLI can combine, paged. */
static void
check_filters(struct store *st, int64_t cutoff)
{
	struct store_audit_filter f;
	size_t i, j;

	for (i = 0; i < 4; i++) {
		memset(&f, 0, sizeof(f));
		f.account = accounts[i];
		check(st, f, 7, cutoff);
		f.since = 1000000 + 50 * 60;
		f.until = 1000000 + 150 * 60;
		check(st, f, 5, cutoff);
		for (j = 0; j < 3; j++) {
			f.category = categories[j];
			check(st, f, 3, cutoff);
		}
	}
	for (j = 0; j < 3; j++) {
		memset(&f, 0, sizeof(f));
		f.category = categories[j];
		check(st, f, 11, cutoff);
		f.number = "15550000003";
		check(st, f, 2, cutoff);
	}
	memset(&f, 0, sizeof(f));
	f.since = 1000000 + 10 * 60;
	f.until = 1000000 + 90 * 60;
	check(st, f, 9, cutoff);
	f.number = "15550000005";
	check(st, f, 1, cutoff);
	f.account = "unknown";
	check(st, f, 4, cutoff);
}

/* Entries of db in a snapshot of st. */
static size_t
entries(struct store *st, enum store_db db)
{
	MDB_txn *txn;
	MDB_stat ms;

	txn = store_walk_begin(st);
	assert_non_null(txn);
	assert_int_equal(mdb_stat(txn, st->dbi[db], &ms), 0);
	store_walk_end(st, txn);
	return ms.ms_entries;
}

static void
test_each_index_paged(void **state)
{
	struct fx *f = *state;

	nrecs = 0;
	add(f->st, 0, NREC);
	assert_int_equal(entries(f->st, STORE_DB_AUDITACC), NREC);
	assert_int_equal(entries(f->st, STORE_DB_AUDITCAT), NREC);
	check_filters(f->st, INT64_MIN);
}

/* Make the store look written by a stopgate from before the indexes. */
static int
forget_body(struct store *st, MDB_txn *txn, void *arg)
{
	MDB_val k = { 11, (void *)(uintptr_t)"audit.index" };
	int rc;

	(void)arg;
	if ((rc = mdb_drop(txn, st->dbi[STORE_DB_AUDITACC], 0)) != 0 ||
	    (rc = mdb_drop(txn, st->dbi[STORE_DB_AUDITCAT], 0)) != 0)
		return rc;
	rc = mdb_del(txn, st->dbi[STORE_DB_META], &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static void
test_old_store_mixed(void **state)
{
	struct fx *f = *state;
	struct store_params ro = { 8, 64, true };
	struct store *r;
	char err[256];
	size_t done;
	int steps = 0;

	nrecs = 0;
	add(f->st, 0, NREC);
	assert_int_equal(store_write(f->st, forget_body, NULL, false, "t"), 0);
	/* Read-only, nothing to trust: the scan answers. */
	store_free(f->st);
	r = store_open(f->dir, &ro, err, sizeof(err));
	assert_non_null(r);
	check_filters(r, INT64_MIN);
	store_free(r);
	/* A writable open arms the backlog; new records are indexed. */
	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
	check_filters(f->st, INT64_MIN);
	add(f->st, NREC, NREC + 100);
	assert_int_equal(entries(f->st, STORE_DB_AUDITACC), 100);
	check_filters(f->st, INT64_MIN);
	/* Part of the backlog indexed (the number backlog goes first). */
	do {
		assert_int_equal(store_audit_index(f->st, 64, &done), 0);
		steps++;
		if (steps == 3 || steps == 5)
			check_filters(f->st, INT64_MIN);
	} while (done > 0);
	assert_true(steps > 5);
	assert_int_equal(entries(f->st, STORE_DB_AUDITACC), NREC + 100);
	assert_int_equal(entries(f->st, STORE_DB_AUDITCAT), NREC + 100);
	check_filters(f->st, INT64_MIN);
}

static void
test_expiry_takes_index_entries(void **state)
{
	struct fx *f = *state;
	struct store_retention ret;
	struct store_expired ex;
	int64_t cutoff;
	size_t i, kept = 0;

	nrecs = 0;
	add(f->st, 0, NREC);
	memset(&ret, 0, sizeof(ret));
	ret.audit_days = 1;
	/* Now is a day after the middle record: the older half goes. */
	cutoff = recs[NREC / 2].time;
	assert_int_equal(store_expire(f->st, cutoff + DAY, &ret, &ex), 0);
	for (i = 0; i < nrecs; i++)
		kept += recs[i].time >= cutoff;
	assert_int_equal(ex.audit, nrecs - kept);
	assert_int_equal(entries(f->st, STORE_DB_AUDITACC), kept);
	assert_int_equal(entries(f->st, STORE_DB_AUDITCAT), kept);
	check_filters(f->st, cutoff);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_index_paged,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_old_store_mixed,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_expiry_takes_index_entries,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
