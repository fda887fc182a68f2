/*
 * store/journal and store/follow: the cluster journal is written with
 * each local event (and only once the store is enabled for a node), read
 * in order and forgotten once shipped; enabling brings the history in; a
 * store is bound to one node name; remote events are applied without
 * being journaled, and a local event the fleet has not ordered yet is
 * applied again after a remote event of its number; review items and
 * receipt map entries journal too, and other nodes' review items are
 * queued once and resolved by their resolution; sends counted by a
 * frequency cap journal (on a node only), and other nodes' sends join
 * the send log where store_freq_remote reads them, own ones do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/freq.h"
#include "store/journal.h"
#include "tests/unit/store/store_fixture.h"

#define N1	"15550100001"
#define N2	"15550100002"

static uint64_t
apply(struct store *st, const char *number, enum store_action a,
    const char *c1)
{
	struct store_event ev;

	fx_event(&ev, number, a, 1000, c1, NULL);
	assert_int_equal(store_optout_apply(st, &ev), 0);
	return ev.id;
}

struct rows {
	size_t		 n;
	uint64_t	 ids[16];	/* journal row ids */
	uint64_t	 evids[16];	/* their event ids */
	struct store_journal_row last;	/* the last row seen */
};

static int
collect(const struct store_journal_row *row, void *arg)
{
	struct rows *r = arg;

	if (r->n < 16) {
		r->ids[r->n] = row->id;
		r->evids[r->n] = row->ev.id;
	}
	r->n++;
	r->last = *row;
	return 0;
}

static int
count_open(const struct store_review *rv, void *arg)
{
	(void)rv;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
depth(struct store *st, uint64_t *applied)
{
	size_t rows;
	uint64_t a;

	assert_int_equal(store_journal_depth(st, &rows, &a), 0);
	if (applied != NULL)
		*applied = a;
	return rows;
}

static void
test_off_until_enabled(void **state)
{
	struct fx *f = *state;
	char node[STORE_NODE_MAX];

	(void)apply(f->st, N1, STORE_OPT_OUT, "promo");
	assert_int_equal(store_journal_node(f->st, node), 0);
	assert_int_equal(depth(f->st, NULL), 0);
}

static void
test_enable_backfills_then_journals(void **state)
{
	struct fx *f = *state;
	char node[STORE_NODE_MAX];
	struct rows r;
	uint64_t e1, e2, e3;

	e1 = apply(f->st, N1, STORE_OPT_OUT, "promo");
	e2 = apply(f->st, N2, STORE_OPT_OUT, NULL);
	assert_int_equal(store_journal_enable(f->st, "a"), 0);
	assert_int_equal(store_journal_node(f->st, node), 1);
	assert_string_equal(node, "a");
	/* Enabling again for the same node changes nothing. */
	assert_int_equal(store_journal_enable(f->st, "a"), 0);
	assert_int_equal(depth(f->st, NULL), 2);
	e3 = apply(f->st, N1, STORE_OPT_IN, "promo");
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_journal_peek(f->st, 0, collect, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.evids[0], e1);
	assert_int_equal(r.evids[1], e2);
	assert_int_equal(r.evids[2], e3);
	assert_true(r.ids[0] < r.ids[1] && r.ids[1] < r.ids[2]);
	/* A batch of 2, then forget them: one left, the newest. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_journal_peek(f->st, 2, collect, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(store_journal_done(f->st, r.ids[1]), 0);
	assert_int_equal(depth(f->st, NULL), 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_journal_peek(f->st, 0, collect, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.evids[0], e3);
}

static void
test_bound_to_node(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_journal_enable(f->st, "a"), 0);
	assert_int_equal(store_journal_enable(f->st, "b"), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_non_null(strstr(store_errmsg(f->st), "'a'"));
}

/* A sibling handle (the cluster thread's) sees the same journal. */
static void
test_sibling_and_reopen(void **state)
{
	struct fx *f = *state;
	struct store *sib;

	assert_int_equal(store_journal_enable(f->st, "a"), 0);
	(void)apply(f->st, N1, STORE_OPT_OUT, "promo");
	assert_non_null(sib = store_sibling(f->st));
	assert_int_equal(depth(sib, NULL), 1);
	store_free(sib);
	store_free(f->st);
	assert_non_null(f->st = fx_open(f, 0, 0));
	assert_int_equal(depth(f->st, NULL), 1);
}

static void
test_remote_not_journaled(void **state)
{
	struct fx *f = *state;
	struct store_cluster_item it;
	struct store_block why;
	uint64_t applied;

	assert_int_equal(store_journal_enable(f->st, "a"), 0);
	memset(&it, 0, sizeof(it));
	fx_event(&it.ev, N2, STORE_OPT_OUT, 2000, "promo", NULL);
	snprintf(it.ev.last.account, sizeof(it.ev.last.account), "mkt");
	it.ev.last.time = 1999;
	assert_int_equal(store_cluster_apply(f->st, &it, 1, 7), 0);
	assert_int_equal(depth(f->st, &applied), 0);
	assert_int_equal(applied, 7);
	assert_int_equal(store_optout_check(f->st, N2, "promo", &why), 1);
	assert_int_equal(why.since, 2000);
}

/*
 * Local opt-out of promo (not ordered by the fleet yet), then a remote
 * opt-in of everything the fleet ordered before it: the local opt-out
 * still holds, as on every other node. Once the local event comes back
 * (is_own), a later remote opt-in wins.
 */
static void
test_pending_local_reapplied(void **state)
{
	struct fx *f = *state;
	struct store_cluster_item it[2];
	uint64_t local;

	assert_int_equal(store_journal_enable(f->st, "a"), 0);
	local = apply(f->st, N1, STORE_OPT_OUT, "promo");
	memset(it, 0, sizeof(it));
	fx_event(&it[0].ev, N1, STORE_OPT_IN, 900, NULL, NULL);
	assert_int_equal(store_cluster_apply(f->st, it, 1, 1), 0);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 1);
	/* Its own event comes back at seq 2, then a remote opt-in. */
	memset(it, 0, sizeof(it));
	it[0].is_own = true;
	it[0].own_id = local;
	snprintf(it[0].ev.number, sizeof(it[0].ev.number), "%s", N1);
	fx_event(&it[1].ev, N1, STORE_OPT_IN, 1100, "promo", NULL);
	assert_int_equal(store_cluster_apply(f->st, it, 2, 3), 0);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
}

static void
test_remote_bad_event_refused(void **state)
{
	struct fx *f = *state;
	struct store_cluster_item it;
	uint64_t applied;

	memset(&it, 0, sizeof(it));
	fx_event(&it.ev, "", STORE_OPT_OUT, 1, "promo", NULL);
	assert_int_equal(store_cluster_apply(f->st, &it, 1, 5), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_int_equal(depth(f->st, &applied), 0);
	assert_int_equal(applied, 0);
}

/* Review items journal as queued and as resolved, with their origin;
 * a receipt map entry with its id normalised. */
static void
test_review_and_msgmap_rows(void **state)
{
	struct fx *f = *state;
	struct store_review rv;
	struct store_msgmap mm;
	struct store_batch b;
	struct rows r;
	size_t nbad = 0;

	assert_int_equal(store_journal_enable(f->st, "a"), 0);
	memset(&rv, 0, sizeof(rv));
	snprintf(rv.number, sizeof(rv.number), "%s", N1);
	snprintf(rv.text, sizeof(rv.text), "cancel please");
	assert_int_equal(store_review_add(f->st, &rv), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_journal_peek(f->st, 0, collect, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.last.kind, STORE_JOURNAL_REVIEW);
	assert_string_equal(r.last.origin_node, "a");
	assert_int_equal(r.last.origin_id, rv.id);
	assert_int_equal(store_review_resolve(f->st, rv.id,
	    STORE_REVIEW_DISMISSED, "alice", "spam", 5, NULL), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_journal_peek(f->st, 0, collect, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.last.kind, STORE_JOURNAL_REVIEW_DONE);
	assert_int_equal(r.last.review.status, STORE_REVIEW_DISMISSED);
	memset(&mm, 0, sizeof(mm));
	snprintf(mm.upstream, sizeof(mm.upstream), "carrier");
	snprintf(mm.message_id, sizeof(mm.message_id), "00AbC");
	snprintf(mm.account, sizeof(mm.account), "marketing");
	mm.time = 77;
	memset(&b, 0, sizeof(b));
	b.msgmap = &mm;
	b.nmsgmap = 1;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_journal_peek(f->st, 0, collect, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.last.kind, STORE_JOURNAL_MSGMAP);
	assert_string_equal(r.last.msgmap.message_id, "abc");
	assert_string_equal(r.last.msgmap.account, "marketing");
	assert_int_equal(r.last.msgmap.time, 77);
}

/* Another node's review item: queued once, resolved by its resolution,
 * nothing journaled. */
static void
test_remote_review(void **state)
{
	struct fx *f = *state;
	struct store_cluster_item it;
	size_t open = 0;

	assert_int_equal(store_journal_enable(f->st, "a"), 0);
	memset(&it, 0, sizeof(it));
	it.kind = STORE_JOURNAL_REVIEW;
	snprintf(it.origin_node, sizeof(it.origin_node), "b");
	it.origin_id = 7;
	snprintf(it.review.number, sizeof(it.review.number), "%s", N2);
	assert_int_equal(store_cluster_apply(f->st, &it, 1, 1), 0);
	assert_int_equal(store_cluster_apply(f->st, &it, 1, 2), 0);
	assert_int_equal(store_review_list(f->st, count_open, &open), 0);
	assert_int_equal(open, 1);
	it.kind = STORE_JOURNAL_REVIEW_DONE;
	it.review.status = STORE_REVIEW_DISMISSED;
	assert_int_equal(store_cluster_apply(f->st, &it, 1, 3), 0);
	open = 0;
	assert_int_equal(store_review_list(f->st, count_open, &open), 0);
	assert_int_equal(open, 0);
	assert_int_equal(depth(f->st, NULL), 0);
}

static void
sent_mk(struct store_freq_entry *e, const char *number, int64_t time)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->number, sizeof(e->number), "%s", number);
	snprintf(e->category, sizeof(e->category), "promo");
	e->time = time;
}

struct sends {
	size_t		 n;
	char		 number[STORE_NUMBER_MAX];
	int64_t		 time;
};

static int
sends_collect(const char *number, const char *category,
    const int64_t *times, size_t n, void *arg)
{
	struct sends *s = arg;

	assert_string_equal(category, "promo");
	assert_int_equal(n, 1);
	snprintf(s->number, sizeof(s->number), "%s", number);
	s->time = times[0];
	s->n++;
	return 0;
}

/* A capped send journals (number, category, time) once the store is a
 * node's; a remote one is logged for the proxy to read and journals
 * nothing; our own coming back adds nothing. */
static void
test_sent_rows(void **state)
{
	struct fx *f = *state;
	struct store_cluster_item it[3];
	struct store_freq_entry e[2];
	struct store_batch b;
	struct sends s;
	struct rows r;
	uint64_t pos;
	size_t nbad = 0;

	sent_mk(&e[0], N1, 100);
	memset(&b, 0, sizeof(b));
	b.freq = e;
	b.nfreq = 1;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	assert_int_equal(depth(f->st, NULL), 0);	/* no node yet */
	assert_int_equal(store_journal_enable(f->st, "a"), 0);
	sent_mk(&e[0], N1, 200);
	sent_mk(&e[1], N2, 201);
	b.nfreq = 2;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_journal_peek(f->st, 0, collect, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.last.kind, STORE_JOURNAL_SENT);
	assert_string_equal(r.last.sent.number, N2);
	assert_string_equal(r.last.sent.category, "promo");
	assert_int_equal(r.last.sent.time, 201);
	assert_int_equal(r.last.id, r.ids[1]);
	assert_int_equal(store_journal_done(f->st, r.last.id), 0);

	/* Own sends read from a position: none are remote. */
	assert_int_equal(store_freq_position(f->st, &pos), 0);
	assert_int_equal(pos, 2);
	memset(&s, 0, sizeof(s));
	pos = 0;
	assert_int_equal(store_freq_remote(f->st, &pos, 100, sends_collect,
	    &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(pos, 2);

	memset(it, 0, sizeof(it));
	it[0].kind = STORE_JOURNAL_SENT;
	it[0].is_own = true;
	it[0].own_id = r.ids[0];
	it[1].kind = STORE_JOURNAL_SENT;
	sent_mk(&it[1].sent, N2, 300);
	it[2].kind = STORE_JOURNAL_EVENT;
	fx_event(&it[2].ev, N1, STORE_OPT_OUT, 1000, "promo", NULL);
	assert_int_equal(store_cluster_apply(f->st, it, 3, 9), 0);
	assert_int_equal(depth(f->st, NULL), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_freq_remote(f->st, &pos, 100, sends_collect,
	    &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.number, N2);
	assert_int_equal(s.time, 300);
	assert_int_equal(pos, 3);
	/* Read once; and counted by a full load like any send. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_freq_remote(f->st, &pos, 100, sends_collect,
	    &s), 0);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_freq_load(f->st, 250, sends_collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.time, 300);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_off_until_enabled,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_enable_backfills_then_journals, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_bound_to_node, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_sibling_and_reopen,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_remote_not_journaled,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pending_local_reapplied,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_remote_bad_event_refused,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_review_and_msgmap_rows,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sent_rows, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_remote_review, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/journal", tests, NULL,
	    NULL);
}
