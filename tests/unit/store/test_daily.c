/*
 * store/daily: the per-day counters the dashboard draws from.
 *
 * Why: a chart of 90 days must not walk years of events and audit
 * records, so every write path counts what it writes in the same
 * transaction. These tests check that opt-out / opt-in events (applied,
 * imported), rejected sends and forwarded messages of a writer batch are
 * counted on the right UTC day and under the right names, that what a
 * batch drops as bad is not counted, that a walk reads exactly the days
 * asked for, and that a store written before the counters gets them from
 * its history at its first open (all but the forwarded messages, which
 * the store does not keep).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include <cmocka.h>
#include <lmdb.h>

#include "store/daily.h"
#include "store/store_int.h"
#include "store/sentlog.h"
#include "tests/unit/store/store_fixture.h"

#define DAY	86400
#define D0	20000		/* 2024-10-04 */

struct got {
	struct store_daily	 d[64];
	size_t			 n;
};

static int
collect(const struct store_daily *d, void *arg)
{
	struct got	*g = arg;

	if (g->n < 64)
		g->d[g->n] = *d;
	g->n++;
	return 0;
}

/* The count of (day, kind, a, b) in g; 0 if absent. */
static uint64_t
count_of(const struct got *g, int32_t day, enum store_daily_kind k,
    const char *a, const char *b)
{
	size_t	 i;

	for (i = 0; i < g->n && i < 64; i++)
		if (g->d[i].day == day && g->d[i].kind == k &&
		    strcmp(g->d[i].a, a) == 0 && strcmp(g->d[i].b, b) == 0)
			return g->d[i].count;
	return 0;
}

static void
mk_event(struct store_event *ev, const char *number, int64_t t,
    enum store_action action, const char *cat)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->number, sizeof(ev->number), "%s", number);
	ev->time = t;
	ev->action = action;
	ev->source = STORE_SRC_STAFF;
	if (cat == NULL)
		ev->all = true;
	else {
		ev->ncategories = 1;
		snprintf(ev->categories[0], sizeof(ev->categories[0]), "%s",
		    cat);
	}
}

static void
test_day(void **state)
{
	(void)state;
	assert_int_equal(store_daily_day(0), 0);
	assert_int_equal(store_daily_day(DAY - 1), 0);
	assert_int_equal(store_daily_day(DAY), 1);
	assert_int_equal(store_daily_day(-1), -1);
	assert_int_equal(store_daily_day(-DAY), -1);
	assert_int_equal(store_daily_day(-DAY - 1), -2);
	assert_string_equal(store_daily_kind_name(STORE_DAILY_REJECTED),
	    "rejected");
}

static void
test_events_counted(void **state)
{
	struct fx		*f = *state;
	struct store_lastsent_entry ls;
	struct store_event	 ev, imp[3];
	struct got		 g;
	int64_t			 t0 = (int64_t)D0 * DAY;

	/* What the number was sent last: the opt-out is attributed to it. */
	memset(&ls, 0, sizeof(ls));
	snprintf(ls.number, sizeof(ls.number), "15550001111");
	snprintf(ls.last.account, sizeof(ls.last.account), "marketing");
	snprintf(ls.last.category, sizeof(ls.last.category), "promo");
	ls.last.time = t0 - 60;
	assert_int_equal(store_lastsent_put(f->st, &ls, 1), 0);
	mk_event(&ev, "15550001111", t0 + 10, STORE_OPT_OUT, "promo");
	ev.ncategories = 2;
	snprintf(ev.categories[1], sizeof(ev.categories[1]), "billing");
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	mk_event(&ev, "15550001111", t0 + DAY - 1, STORE_OPT_IN, NULL);
	snprintf(ev.consent, sizeof(ev.consent), "signed");
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	/* An import: the next day, and the day before (all categories). */
	mk_event(&imp[0], "15550002222", t0 + DAY, STORE_OPT_OUT, "promo");
	mk_event(&imp[1], "15550003333", t0 + DAY + 5, STORE_OPT_OUT, "promo");
	mk_event(&imp[2], "15550004444", t0 - 1, STORE_OPT_OUT, NULL);
	assert_int_equal(store_import(f->st, imp, 3), 0);

	memset(&g, 0, sizeof(g));
	assert_int_equal(store_daily_walk(f->st, D0 - 1, D0 + 1, collect, &g),
	    0);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_EVENTS, "opt_out", ""),
	    1);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_EVENT, "opt_out",
	    "promo"), 1);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_EVENT, "opt_out",
	    "billing"), 1);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_ATTRIBUTED, "marketing",
	    "promo"), 1);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_EVENTS, "opt_in", ""),
	    1);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_EVENT, "opt_in",
	    STORE_CATEGORY_ALL), 1);
	assert_int_equal(count_of(&g, D0 + 1, STORE_DAILY_EVENT, "opt_out",
	    "promo"), 2);
	assert_int_equal(count_of(&g, D0 - 1, STORE_DAILY_EVENT, "opt_out",
	    STORE_CATEGORY_ALL), 1);
	/* Nothing was sent to the imported numbers: not attributed. */
	assert_int_equal(count_of(&g, D0 + 1, STORE_DAILY_ATTRIBUTED,
	    "marketing", "promo"), 0);
	/* Ordered by day. */
	assert_int_equal(g.d[0].day, D0 - 1);
	assert_int_equal(g.d[g.n - 1].day, D0 + 1);

	/* Only the days asked for. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_daily_walk(f->st, D0 + 1, D0 + 1, collect, &g),
	    0);
	assert_int_equal(g.n, 2);	/* events, event promo */
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_daily_walk(f->st, D0 + 2, D0 + 9, collect, &g),
	    0);
	assert_int_equal(g.n, 0);
}

static void
mk_audit(struct store_audit *a, int64_t t, uint32_t status)
{
	memset(a, 0, sizeof(*a));
	a->time = t;
	snprintf(a->account, sizeof(a->account), "marketing");
	snprintf(a->category, sizeof(a->category), "promo");
	snprintf(a->destination, sizeof(a->destination), "15550009999");
	a->status = status;
}

static void
mk_sent(struct store_sentlog_entry *s, uint64_t seq, const char *account,
    const char *cat, int64_t t)
{
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	snprintf(s->e.number, sizeof(s->e.number), "155500%05u",
	    (unsigned)seq);
	snprintf(s->e.last.account, sizeof(s->e.last.account), "%s", account);
	snprintf(s->e.last.category, sizeof(s->e.last.category), "%s", cat);
	s->e.last.time = t;
}

static void
test_batch_counted(void **state)
{
	struct fx		*f = *state;
	struct store_audit	 au[3];
	struct store_sentlog_entry sl[200];
	struct store_lastsent_entry ls;
	struct store_batch	 b;
	struct got		 g;
	int64_t			 t0 = (int64_t)D0 * DAY;
	size_t			 i, nbad;

	mk_audit(&au[0], t0 + 1, 0x401);
	mk_audit(&au[1], t0 + 2, 0x402);	/* another reason */
	mk_audit(&au[2], t0 + 3, 0x401);
	au[2].destination[0] = '\0';		/* bad: dropped */
	/* More distinct counters than are added up at once (64). */
	for (i = 0; i < 200; i++)
		mk_sent(&sl[i], i + 1, i % 2 ? "marketing" : "frontdesk",
		    "promo", t0 + (int64_t)(i % 100) * DAY);
	sl[199].e.number[0] = '\0';		/* bad: dropped */
	memset(&ls, 0, sizeof(ls));
	snprintf(ls.number, sizeof(ls.number), "ALPHA");
	snprintf(ls.last.account, sizeof(ls.last.account), "marketing");
	snprintf(ls.last.category, sizeof(ls.last.category), "promo");
	ls.last.time = t0;
	memset(&b, 0, sizeof(b));
	b.audit = au;
	b.naudit = 3;
	b.sentlog = sl;
	b.nsentlog = 200;
	b.lastsent = &ls;
	b.nlastsent = 1;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	assert_int_equal(nbad, 2);

	memset(&g, 0, sizeof(g));
	assert_int_equal(store_daily_walk(f->st, D0, D0, collect, &g), 0);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_REJECTED, "0x00000401",
	    "promo"), 1);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_REJECTED, "0x00000402",
	    "promo"), 1);
	/* Day 0: sl[0] and sl[100] (frontdesk), the last-sent entry. */
	assert_int_equal(count_of(&g, D0, STORE_DAILY_FORWARDED, "frontdesk",
	    "promo"), 2);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_FORWARDED, "marketing",
	    "promo"), 1);
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_daily_walk(f->st, D0 + 99, D0 + 99, collect,
	    &g), 0);
	/* sl[99] counted, sl[199] dropped. */
	assert_int_equal(count_of(&g, D0 + 99, STORE_DAILY_FORWARDED,
	    "marketing", "promo"), 1);

	/* A second batch adds to the same counters. */
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_daily_walk(f->st, D0, D0, collect, &g), 0);
	assert_int_equal(count_of(&g, D0, STORE_DAILY_FORWARDED, "frontdesk",
	    "promo"), 4);
}

static int
stop_after_one(const struct store_daily *d, void *arg)
{
	(void)d;
	(*(int *)arg)++;
	return 1;
}

static void
test_walk_stops_and_read_only(void **state)
{
	struct fx		*f = *state;
	struct store_event	 ev;
	struct store_params	 p = { 8, 64, true };
	struct store		*ro;
	char			 err[256];
	int			 n = 0;

	mk_event(&ev, "15550001111", (int64_t)D0 * DAY, STORE_OPT_OUT, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_daily_walk(f->st, D0, D0, stop_after_one, &n),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(store_daily_walk(f->st, D0 + 1, D0, stop_after_one,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_non_null(ro = store_open(f->dir, &p, err, sizeof(err)));
	assert_int_equal(store_daily_walk(ro, D0, D0, stop_after_one, &n), 0);
	assert_int_equal(n, 2);
	store_free(ro);
}

/* Forget the counters and their marker, as a store from before them. */
static void
forget_counters(struct fx *f)
{
	MDB_val		 k = { 11, (void *)(uintptr_t)"daily.built" };
	MDB_txn		*txn;

	assert_int_equal(mdb_txn_begin(f->st->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_drop(txn, f->st->dbi[STORE_DB_DAILY], 0), 0);
	assert_int_equal(mdb_del(txn, f->st->dbi[STORE_DB_META], &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	store_free(f->st);
	assert_non_null(f->st = fx_open(f, 8, 64));
}

static void
test_backfill(void **state)
{
	struct fx		*f = *state;
	struct store_event	 ev;
	struct store_audit	 au[2];
	struct store_sentlog_entry sl[2];
	struct store_batch	 b;
	struct got		 before, after;
	int64_t			 t = (int64_t)time(NULL) - 3 * DAY;
	int32_t			 d = store_daily_day(t);
	size_t			 i, nbad;

	mk_event(&ev, "15550001111", (int64_t)D0 * DAY, STORE_OPT_OUT,
	    "promo");
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	mk_event(&ev, "15550002222", t, STORE_OPT_OUT, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	mk_audit(&au[0], t, 0x401);
	mk_audit(&au[1], (int64_t)D0 * DAY, 0x401);	/* too old: not
							 * counted again */
	mk_sent(&sl[0], 1, "marketing", "promo", t);
	mk_sent(&sl[1], 2, "marketing", "promo", t);
	memset(&b, 0, sizeof(b));
	b.audit = au;
	b.naudit = 2;
	b.sentlog = sl;
	b.nsentlog = 2;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	memset(&before, 0, sizeof(before));
	assert_int_equal(store_daily_walk(f->st, D0 - 5, d + 5, collect,
	    &before), 0);

	forget_counters(f);
	memset(&after, 0, sizeof(after));
	assert_int_equal(store_daily_walk(f->st, D0 - 5, d + 5, collect,
	    &after), 0);
	/* Everything but the forwarded messages and the old audit. */
	for (i = 0; i < before.n; i++) {
		const struct store_daily *x = &before.d[i];
		uint64_t want = x->count;

		if (x->kind == STORE_DAILY_FORWARDED ||
		    (x->kind == STORE_DAILY_REJECTED && x->day == D0))
			want = 0;
		assert_int_equal(count_of(&after, x->day, x->kind, x->a, x->b),
		    want);
	}
	assert_int_equal(count_of(&after, d, STORE_DAILY_REJECTED,
	    "0x00000401", "promo"), 1);
	assert_int_equal(count_of(&after, D0, STORE_DAILY_EVENT, "opt_out",
	    "promo"), 1);

	/* Once: a second open counts nothing again; new writes count. */
	store_free(f->st);
	assert_non_null(f->st = fx_open(f, 8, 64));
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	memset(&after, 0, sizeof(after));
	assert_int_equal(store_daily_walk(f->st, D0 - 5, d + 5, collect,
	    &after), 0);
	assert_int_equal(count_of(&after, d, STORE_DAILY_REJECTED,
	    "0x00000401", "promo"), 2);
	assert_int_equal(count_of(&after, d, STORE_DAILY_FORWARDED,
	    "marketing", "promo"), 2);
	assert_int_equal(count_of(&after, d, STORE_DAILY_EVENT, "opt_out",
	    STORE_CATEGORY_ALL), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_day),
		cmocka_unit_test_setup_teardown(test_events_counted, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_batch_counted, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_walk_stops_and_read_only,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_backfill, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/daily", tests, NULL, NULL);
}
