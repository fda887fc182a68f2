/*
 * store/sentlog: the append-only sent log and its merge into the
 * last-sent table.
 *
 * Why: writing the last-sent table once per forwarded message is a random
 * B-tree insert per message, too slow at the proxy's rate. The proxy
 * appends to the sent log instead and a background task merges it. These
 * tests check that what a later opt-out is attributed to
 * (store_lastsent_get) after a merge is what the table would have held
 * had every message been written to it directly, and that the log reads
 * back as written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lmdb.h>

#include "store/sentlog_int.h"
#include "tests/unit/store/store_fixture.h"

static void
mk_ent(struct store_sentlog_entry *s, uint64_t seq, const char *number,
    const char *account, int64_t t)
{
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	snprintf(s->e.number, sizeof(s->e.number), "%s", number);
	snprintf(s->e.last.account, sizeof(s->e.last.account), "%s", account);
	snprintf(s->e.last.category, sizeof(s->e.last.category), "promo");
	snprintf(s->e.last.service_type, sizeof(s->e.last.service_type),
	    "CMT");
	s->e.last.time = t;
}

static void
assert_bounds(struct store *st, uint64_t first, uint64_t last)
{
	uint64_t f = 99, l = 99;

	assert_int_equal(store_sentlog_bounds(st, &f, &l), 0);
	assert_int_equal(f, first);
	assert_int_equal(l, last);
}

/* Walk collector: the seqs seen, stopping after stop_after (0: never). */
struct seen {
	uint64_t	 seq[64];
	char		 number[64][STORE_NUMBER_MAX];
	size_t		 n;
	size_t		 stop_after;
};

static int
collect(void *arg, const struct store_sentlog_entry *ent)
{
	struct seen *s = arg;

	if (s->n < 64) {
		s->seq[s->n] = ent->seq;
		snprintf(s->number[s->n], STORE_NUMBER_MAX, "%s",
		    ent->e.number);
	}
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after ? 1 : 0;
}

static void
test_append_get(void **state)
{
	struct fx *f = *state;
	struct store_sentlog_entry v[2];
	struct store_lastsent_entry out;

	mk_ent(&v[0], 1, "15550100001", "marketing", 100);
	mk_ent(&v[1], 2, "15550100002", "frontdesk", 101);
	snprintf(v[1].e.last.category, sizeof(v[1].e.last.category), "%s",
	    "");					/* empty is fine */
	assert_int_equal(store_sentlog_append(f->st, v, 2), 0);

	assert_int_equal(store_sentlog_get(f->st, 1, &out), 1);
	assert_string_equal(out.number, "15550100001");
	assert_string_equal(out.last.account, "marketing");
	assert_string_equal(out.last.category, "promo");
	assert_string_equal(out.last.service_type, "CMT");
	assert_int_equal(out.last.time, 100);
	assert_int_equal(store_sentlog_get(f->st, 2, &out), 1);
	assert_string_equal(out.number, "15550100002");
	assert_string_equal(out.last.account, "frontdesk");
	assert_string_equal(out.last.category, "");
	assert_int_equal(out.last.time, 101);
	assert_int_equal(store_sentlog_get(f->st, 3, &out), 0);
	assert_int_equal(store_sentlog_get(f->st, 0, &out), 0);
	/* The log is not the table: nothing is attributed before a merge. */
	assert_int_equal(store_lastsent_get(f->st, "15550100001", &out.last),
	    0);
	/* An empty append is a no-op. */
	assert_int_equal(store_sentlog_append(f->st, NULL, 0), 0);
	assert_bounds(f->st, 1, 2);
}

static void
test_bounds(void **state)
{
	struct fx *f = *state;
	struct store_sentlog_entry v[3];

	assert_bounds(f->st, 0, 0);
	mk_ent(&v[0], 10, "15550100001", "marketing", 100);
	assert_int_equal(store_sentlog_append(f->st, v, 1), 0);
	assert_bounds(f->st, 10, 10);
	/* Past 2^32 and with the high byte set: still numeric order. */
	mk_ent(&v[0], 11, "15550100001", "marketing", 100);
	mk_ent(&v[1], UINT64_C(0x100000000), "15550100002", "marketing", 101);
	mk_ent(&v[2], UINT64_C(0xff00000000000001), "15550100003",
	    "marketing", 102);
	assert_int_equal(store_sentlog_append(f->st, v, 3), 0);
	assert_bounds(f->st, 10, UINT64_C(0xff00000000000001));
}

static void
test_walk_order_and_from(void **state)
{
	struct fx *f = *state;
	struct store_sentlog_entry v[5];
	struct seen s;
	size_t i;

	for (i = 0; i < 5; i++) {
		char number[STORE_NUMBER_MAX];

		snprintf(number, sizeof(number), "1555010000%zu", 5 - i);
		mk_ent(&v[i], 2 * i + 2, number, "marketing", 100);
	}
	assert_int_equal(store_sentlog_append(f->st, v, 5), 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_sentlog_walk(f->st, 0, collect, &s), 0);
	assert_int_equal(s.n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(s.seq[i], 2 * i + 2);
	/* Seq order, not number order. */
	assert_string_equal(s.number[0], "15550100005");
	assert_string_equal(s.number[4], "15550100001");

	/* from is inclusive; between two keys it starts at the next. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_sentlog_walk(f->st, 6, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.seq[0], 6);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_sentlog_walk(f->st, 7, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seq[0], 8);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_sentlog_walk(f->st, 11, collect, &s), 0);
	assert_int_equal(s.n, 0);

	/* A callback returning > 0 stops the walk; that is not an error. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(store_sentlog_walk(f->st, 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
}

static int
stop_negative(void *arg, const struct store_sentlog_entry *ent)
{
	(void)arg;
	(void)ent;
	return -7;
}

static void
test_walk_callback_error(void **state)
{
	struct fx *f = *state;
	struct store_sentlog_entry v[1];

	mk_ent(&v[0], 1, "15550100001", "marketing", 100);
	assert_int_equal(store_sentlog_append(f->st, v, 1), 0);
	assert_int_equal(store_sentlog_walk(f->st, 0, stop_negative, NULL),
	    -7);
	assert_int_equal(store_errcode(f->st), STORE_E_CALLBACK);
}

static void
test_merge_newest_per_number(void **state)
{
	struct fx *f = *state;
	struct store_sentlog_entry v[5];
	struct store_lastsent_entry ent;
	struct store_lastsent out;
	uint64_t through = 99;

	mk_ent(&v[0], 1, "15550100001", "marketing", 100);
	mk_ent(&v[1], 2, "15550100002", "frontdesk", 100);
	mk_ent(&v[2], 3, "15550100001", "frontdesk", 101);
	/* Same second, later seq: the later message is the one sent last. */
	mk_ent(&v[3], 4, "15550100001", "billing", 101);
	mk_ent(&v[4], 5, "15550100003", "marketing", 90);
	assert_int_equal(store_sentlog_append(f->st, v, 5), 0);

	assert_int_equal(store_sentlog_merge(f->st, 100, &through), 5);
	assert_int_equal(through, 5);
	assert_int_equal(store_lastsent_get(f->st, "15550100001", &out), 1);
	assert_string_equal(out.account, "billing");
	assert_int_equal(out.time, 101);
	assert_int_equal(store_lastsent_get(f->st, "15550100002", &out), 1);
	assert_string_equal(out.account, "frontdesk");
	assert_int_equal(store_lastsent_get(f->st, "15550100003", &out), 1);
	assert_string_equal(out.account, "marketing");
	assert_int_equal(out.time, 90);
	/* Merged entries are gone from the log. */
	assert_bounds(f->st, 0, 0);
	assert_int_equal(store_sentlog_get(f->st, 1, &ent), 0);
	assert_int_equal(store_sentlog_get(f->st, 5, &ent), 0);

	/* An empty log merges nothing. */
	through = 99;
	assert_int_equal(store_sentlog_merge(f->st, 100, &through), 0);
	assert_int_equal(through, 0);
}

static void
test_merge_respects_newer_table(void **state)
{
	struct fx *f = *state;
	struct store_lastsent_entry direct[2];
	struct store_sentlog_entry v[2];
	struct store_lastsent out;
	uint64_t through;

	/* The table already knows a later message to ...01. */
	memset(direct, 0, sizeof(direct));
	snprintf(direct[0].number, sizeof(direct[0].number), "15550100001");
	snprintf(direct[0].last.account, sizeof(direct[0].last.account),
	    "staff");
	direct[0].last.time = 200;
	/* ... and an older one to ...02; equal times go to the log. */
	snprintf(direct[1].number, sizeof(direct[1].number), "15550100002");
	snprintf(direct[1].last.account, sizeof(direct[1].last.account),
	    "staff");
	direct[1].last.time = 150;
	assert_int_equal(store_lastsent_put(f->st, direct, 2), 0);

	mk_ent(&v[0], 1, "15550100001", "marketing", 150);
	mk_ent(&v[1], 2, "15550100002", "marketing", 150);
	assert_int_equal(store_sentlog_append(f->st, v, 2), 0);
	assert_int_equal(store_sentlog_merge(f->st, 10, &through), 2);
	assert_int_equal(through, 2);

	assert_int_equal(store_lastsent_get(f->st, "15550100001", &out), 1);
	assert_string_equal(out.account, "staff");
	assert_int_equal(out.time, 200);
	assert_int_equal(store_lastsent_get(f->st, "15550100002", &out), 1);
	assert_string_equal(out.account, "marketing");
	assert_int_equal(out.time, 150);
	/* Consumed either way: the log does not keep the losing entry. */
	assert_bounds(f->st, 0, 0);
}

static void
test_merge_chunks(void **state)
{
	struct fx *f = *state;
	struct store_sentlog_entry v[10];
	struct store_lastsent out;
	uint64_t through;
	size_t i;

	/* Four numbers; seq i goes to number i % 4 at time 1000 + i. */
	for (i = 0; i < 10; i++) {
		char number[STORE_NUMBER_MAX];

		snprintf(number, sizeof(number), "1555010000%zu", i % 4);
		mk_ent(&v[i], i + 1, number, "marketing", 1000 + (int64_t)i);
	}
	assert_int_equal(store_sentlog_append(f->st, v, 10), 0);

	assert_int_equal(store_sentlog_merge(f->st, 4, &through), 4);
	assert_int_equal(through, 4);
	assert_bounds(f->st, 5, 10);
	/* Only the first chunk is in the table so far. */
	assert_int_equal(store_lastsent_get(f->st, "15550100000", &out), 1);
	assert_int_equal(out.time, 1000);

	assert_int_equal(store_sentlog_merge(f->st, 4, &through), 4);
	assert_int_equal(through, 8);
	assert_bounds(f->st, 9, 10);
	assert_int_equal(store_sentlog_merge(f->st, 4, &through), 2);
	assert_int_equal(through, 10);
	assert_bounds(f->st, 0, 0);
	assert_int_equal(store_sentlog_merge(f->st, 4, &through), 0);
	assert_int_equal(through, 0);

	/* Every number ends with its last message (seqs 9, 10, 7, 8). */
	assert_int_equal(store_lastsent_get(f->st, "15550100000", &out), 1);
	assert_int_equal(out.time, 1008);
	assert_int_equal(store_lastsent_get(f->st, "15550100001", &out), 1);
	assert_int_equal(out.time, 1009);
	assert_int_equal(store_lastsent_get(f->st, "15550100002", &out), 1);
	assert_int_equal(out.time, 1006);
	assert_int_equal(store_lastsent_get(f->st, "15550100003", &out), 1);
	assert_int_equal(out.time, 1007);

	/* max 0 touches nothing. */
	mk_ent(&v[0], 11, "15550100000", "billing", 2000);
	assert_int_equal(store_sentlog_append(f->st, v, 1), 0);
	through = 99;
	assert_int_equal(store_sentlog_merge(f->st, 0, &through), 0);
	assert_int_equal(through, 0);
	assert_bounds(f->st, 11, 11);
}

/* More than one merge's worth: max is clamped, the rest stays queued. */
static void
test_merge_clamped(void **state)
{
	struct fx *f = *state;
	size_t n = STORE_SENTLOG_MERGE_MAX + 10, i;
	struct store_sentlog_entry *v;
	struct store_lastsent out;
	uint64_t through;

	assert_non_null(v = calloc(n, sizeof(*v)));
	for (i = 0; i < n; i++) {
		char number[STORE_NUMBER_MAX];

		snprintf(number, sizeof(number), "1555%07zu", i % 1000);
		mk_ent(&v[i], i + 1, number, "marketing", (int64_t)i);
	}
	assert_int_equal(store_sentlog_append(f->st, v, n), 0);
	free(v);
	assert_int_equal(store_sentlog_merge(f->st, SIZE_MAX, &through),
	    STORE_SENTLOG_MERGE_MAX);
	assert_int_equal(through, STORE_SENTLOG_MERGE_MAX);
	assert_bounds(f->st, STORE_SENTLOG_MERGE_MAX + 1, n);
	assert_int_equal(store_sentlog_merge(f->st, SIZE_MAX, &through), 10);
	assert_int_equal(through, n);
	/* The last message to ...0000 was i = 4000 (seq 4001). */
	assert_int_equal(store_lastsent_get(f->st, "15550000000", &out), 1);
	assert_int_equal(out.time, 4000);
}

static void
test_bad_input_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct store_sentlog_entry v[2];
	struct store_lastsent_entry out;

	mk_ent(&v[0], 1, "15550100001", "marketing", 100);
	mk_ent(&v[1], 2, "", "marketing", 100);		/* no number */
	assert_int_equal(store_sentlog_append(f->st, v, 2), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_int_equal(store_sentlog_get(f->st, 1, &out), 0);
	assert_bounds(f->st, 0, 0);

	mk_ent(&v[1], 0, "15550100002", "marketing", 100);	/* seq 0 */
	assert_int_equal(store_sentlog_append(f->st, v, 2), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_bounds(f->st, 0, 0);

	mk_ent(&v[1], 2, "15550100002", "marketing", 100);
	memset(v[1].e.number, '5', sizeof(v[1].e.number));	/* no NUL */
	assert_int_equal(store_sentlog_append(f->st, v, 2), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_bounds(f->st, 0, 0);

	mk_ent(&v[1], 2, "15550100002", "marketing", 100);
	memset(v[1].e.last.account, 'a', sizeof(v[1].e.last.account));
	assert_int_equal(store_sentlog_check(f->st, v, 2), -1);
	assert_int_equal(store_sentlog_append(f->st, v, 2), -1);
	assert_bounds(f->st, 0, 0);
	assert_int_equal(store_sentlog_append(f->st, NULL, 1), -1);

	/* The same batch, fixed, goes in whole. */
	mk_ent(&v[1], 2, "15550100002", "marketing", 100);
	assert_int_equal(store_sentlog_check(f->st, v, 2), 0);
	assert_int_equal(store_sentlog_append(f->st, v, 2), 0);
	assert_bounds(f->st, 1, 2);
}

static void
test_seq_not_increasing(void **state)
{
	struct fx *f = *state;
	struct store_sentlog_entry v[3];
	struct store_lastsent_entry out;
	struct store_lastsent last;
	struct seen s;
	uint64_t through;

	mk_ent(&v[0], 10, "15550100001", "marketing", 100);
	mk_ent(&v[1], 20, "15550100002", "marketing", 100);
	assert_int_equal(store_sentlog_append(f->st, v, 2), 0);
	/* Below the last key, within one batch out of order, and a repeat. */
	mk_ent(&v[0], 15, "15550100003", "frontdesk", 101);
	mk_ent(&v[1], 5, "15550100004", "frontdesk", 102);
	mk_ent(&v[2], 20, "15550100002", "billing", 103);
	assert_int_equal(store_sentlog_append(f->st, v, 3), 0);

	assert_int_equal(store_sentlog_get(f->st, 15, &out), 1);
	assert_string_equal(out.number, "15550100003");
	assert_int_equal(store_sentlog_get(f->st, 5, &out), 1);
	assert_string_equal(out.number, "15550100004");
	/* A seq written twice holds the second record. */
	assert_int_equal(store_sentlog_get(f->st, 20, &out), 1);
	assert_string_equal(out.last.account, "billing");
	assert_bounds(f->st, 5, 20);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_sentlog_walk(f->st, 0, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.seq[0], 5);
	assert_int_equal(s.seq[1], 10);
	assert_int_equal(s.seq[2], 15);
	assert_int_equal(s.seq[3], 20);

	/* An append after them still goes on the end. */
	mk_ent(&v[0], 21, "15550100005", "marketing", 104);
	assert_int_equal(store_sentlog_append(f->st, v, 1), 0);
	assert_bounds(f->st, 5, 21);
	assert_int_equal(store_sentlog_merge(f->st, 100, &through), 5);
	assert_int_equal(through, 21);
	assert_int_equal(store_lastsent_get(f->st, "15550100002", &last), 1);
	assert_string_equal(last.account, "billing");
}

static void
test_read_only(void **state)
{
	struct fx *f = *state;
	struct store_params p = { 0, 0, true };
	struct store_sentlog_entry v[2];
	struct store_lastsent_entry out;
	char err[256];
	struct store *ro;
	struct seen s;
	uint64_t through = 99;

	mk_ent(&v[0], 1, "15550100001", "marketing", 100);
	mk_ent(&v[1], 2, "15550100002", "marketing", 101);
	assert_int_equal(store_sentlog_append(f->st, v, 1), 0);
	assert_non_null(ro = store_open(f->dir, &p, err, sizeof(err)));

	assert_int_equal(store_sentlog_get(ro, 1, &out), 1);
	assert_string_equal(out.number, "15550100001");
	assert_bounds(ro, 1, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_sentlog_walk(ro, 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	/* The writer's next append is seen by the reader's next read. */
	assert_int_equal(store_sentlog_append(f->st, &v[1], 1), 0);
	assert_bounds(ro, 1, 2);

	assert_int_equal(store_sentlog_append(ro, v, 1), -1);
	assert_int_equal(store_errcode(ro), STORE_E_READONLY);
	assert_int_equal(store_sentlog_merge(ro, 10, &through), -1);
	assert_int_equal(store_errcode(ro), STORE_E_READONLY);
	assert_int_equal(through, 0);
	store_free(ro);
	assert_bounds(f->st, 1, 2);
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
 * A damaged record is an error everywhere it is read, and a merge that
 * meets one changes nothing: it neither drops the entries before it nor
 * writes a guess into the table.
 */
static void
test_corrupt_record(void **state)
{
	struct fx *f = *state;
	static const uint8_t bad[][6] = {
		{ 2, 0, 1, '1', 1, 0 },		/* unknown version */
		{ 1, 0, 9, '1', '5', '5' },	/* number past the end */
		{ 1, 0, 1, '1', 1, 0 },		/* last-sent cut short */
	};
	struct store_sentlog_entry v[2];
	struct store_lastsent_entry out;
	struct seen s;
	uint64_t through = 99;
	uint8_t key[8] = { 0, 0, 0, 0, 0, 0, 0, 3 };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mk_ent(&v[0], 1, "15550100001", "marketing", 100);
		mk_ent(&v[1], 2, "15550100002", "marketing", 100);
		assert_non_null(f->st);
		assert_int_equal(store_sentlog_append(f->st, v, 2), 0);
		store_free(f->st);
		f->st = NULL;

		env = raw_open(f->dir);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "sentlog", 0, &dbi), 0);
		k.mv_size = sizeof(key);
		k.mv_data = key;
		d.mv_size = sizeof(bad[i]);
		d.mv_data = (void *)(uintptr_t)bad[i];
		assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		mdb_env_close(env);

		assert_non_null(f->st = fx_open(f, 8, 64));
		assert_int_equal(store_sentlog_get(f->st, 2, &out), 1);
		assert_int_equal(store_sentlog_get(f->st, 3, &out), -1);
		assert_int_equal(store_errcode(f->st), STORE_E_IO);
		memset(&s, 0, sizeof(s));
		assert_int_equal(store_sentlog_walk(f->st, 0, collect, &s),
		    -1);
		assert_int_equal(s.n, 2);
		assert_int_equal(store_sentlog_merge(f->st, 10, &through), -1);
		assert_int_equal(through, 0);
		assert_bounds(f->st, 1, 3);
		assert_int_equal(store_lastsent_get(f->st, "15550100001",
		    &out.last), 0);

		/* Clear the log for the next case. */
		store_free(f->st);
		f->st = NULL;
		env = raw_open(f->dir);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "sentlog", 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		mdb_env_close(env);
		f->st = fx_open(f, 8, 64);
	}
}

/*
 * A store written before the sent log existed has no such database; a
 * read-only handle (the CLI on a store the proxy has not yet opened)
 * must read it as empty rather than fail or read another database.
 */
static void
test_read_only_older_store(void **state)
{
	struct fx *f = *state;
	struct store_params p = { 0, 0, true };
	struct store_sentlog_entry v[1];
	struct store_lastsent_entry out;
	struct store_lastsent_entry direct;
	char err[256];
	struct store *ro;
	struct seen s;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	mk_ent(&v[0], 1, "15550100001", "marketing", 100);
	assert_int_equal(store_sentlog_append(f->st, v, 1), 0);
	memset(&direct, 0, sizeof(direct));
	snprintf(direct.number, sizeof(direct.number), "15550100009");
	direct.last.time = 5;
	assert_int_equal(store_lastsent_put(f->st, &direct, 1), 0);
	store_free(f->st);
	f->st = NULL;

	/* Make it an older store: drop the sentlog database itself. */
	env = raw_open(f->dir);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "sentlog", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_non_null(ro = store_open(f->dir, &p, err, sizeof(err)));
	assert_int_equal(store_sentlog_get(ro, 1, &out), 0);
	assert_bounds(ro, 0, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_sentlog_walk(ro, 0, collect, &s), 0);
	assert_int_equal(s.n, 0);
	/* The rest of the store reads as before. */
	assert_int_equal(store_lastsent_get(ro, "15550100009", &out.last), 1);
	assert_int_equal(out.last.time, 5);
	store_free(ro);

	/* A writable open adds the database back, empty. */
	assert_non_null(f->st = fx_open(f, 8, 64));
	assert_bounds(f->st, 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_get, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_bounds, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_walk_order_and_from,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_walk_callback_error,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_merge_newest_per_number,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_merge_respects_newer_table, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_merge_chunks, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_merge_clamped, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_writes_nothing,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_seq_not_increasing,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_record, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_only, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_only_older_store,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("store/sentlog", tests, NULL,
	    NULL);
}
