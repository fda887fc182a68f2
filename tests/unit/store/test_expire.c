/*
 * store/expire: retention drops old events, audit records, resolved
 * review items, outbox entries, loop-guard marks and attribution, but
 * never current opt-out state nor the events that state refers to; and it
 * works through more records than one batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/audit_int.h"
#include "tests/unit/store/store_fixture.h"

#define DAY	86400
#define YEAR	(365 * DAY)

static int
count_cb(const struct store_event *ev, void *arg)
{
	(void)ev;
	(*(size_t *)arg)++;
	return 0;
}

static int
audit_count_cb(const struct store_audit *a, void *arg)
{
	(void)a;
	(*(size_t *)arg)++;
	return 0;
}

static void
apply(struct store *st, const char *number, enum store_action a, int64_t t,
    const char *cat)
{
	struct store_event ev;

	fx_event(&ev, number, a, t, cat, NULL);
	assert_int_equal(store_optout_apply(st, &ev), 0);
}

static void
test_events_kept_when_referenced(void **state)
{
	struct fx *f = *state;
	struct store_block why;
	struct store_expired c;
	int64_t now = 10 * YEAR;
	size_t n;

	/* Old opt-out still in force: its event must stay. */
	apply(f->st, "15550100001", STORE_OPT_OUT, 1 * YEAR, NULL);
	/* Old opt-out then old opt-in: both events may go. */
	apply(f->st, "15550100002", STORE_OPT_OUT, 1 * YEAR, "promo");
	apply(f->st, "15550100002", STORE_OPT_IN, 1 * YEAR + DAY, "promo");
	/* Old repeated opt-out: the first is referenced, the second not. */
	apply(f->st, "15550100003", STORE_OPT_OUT, 1 * YEAR, "promo");
	apply(f->st, "15550100003", STORE_OPT_OUT, 2 * YEAR, "promo");
	/* Recent: stays. */
	apply(f->st, "15550100004", STORE_OPT_OUT, now - DAY, "promo");

	assert_int_equal(store_expire(f->st, now, NULL, &c), 0);
	assert_int_equal(c.events, 3);
	assert_int_equal(store_optout_check(f->st, "15550100001", "x", &why),
	    1);
	n = 0;
	assert_int_equal(store_history(f->st, "15550100001", count_cb, &n),
	    0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_history(f->st, "15550100002", count_cb, &n),
	    0);
	assert_int_equal(n, 0);
	n = 0;
	assert_int_equal(store_history(f->st, "15550100003", count_cb, &n),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(store_optout_check(f->st, "15550100003", "promo",
	    &why), 1);
	assert_int_equal(why.since, 1 * YEAR);
	n = 0;
	assert_int_equal(store_events_since(f->st, 0, 0, count_cb, &n), 0);
	assert_int_equal(n, 3);
	/* Nothing more to do the second time. */
	assert_int_equal(store_expire(f->st, now, NULL, &c), 0);
	assert_int_equal(c.events, 0);
}

static void
test_audit_and_more_than_a_batch(void **state)
{
	struct fx *f = *state;
	static struct store_audit recs[12000];
	struct store_audit_filter fl;
	struct store_retention r;
	struct store_expired c;
	size_t i, n;

	for (i = 0; i < 12000; i++) {
		memset(&recs[i], 0, sizeof(recs[i]));
		recs[i].time = (int64_t)i;
		snprintf(recs[i].destination, sizeof(recs[i].destination),
		    "1555%07zu", i % 100);
	}
	assert_int_equal(store_audit_add(f->st, recs, 12000), 0);
	memset(&r, 0, sizeof(r));
	r.audit_days = 1;
	/* Cut-off at 11000: 11000 records go, in three batches. */
	assert_int_equal(store_expire(f->st, 11000 + DAY, &r, &c), 0);
	assert_int_equal(c.audit, 11000);
	n = 0;
	assert_int_equal(store_audit_query(f->st, NULL, audit_count_cb, &n),
	    0);
	assert_int_equal(n, 1000);
	/* The per-number index went with them. */
	memset(&fl, 0, sizeof(fl));
	fl.number = "15550000007";
	n = 0;
	assert_int_equal(store_audit_query(f->st, &fl, audit_count_cb, &n),
	    0);
	assert_int_equal(n, 10);
}

static void
test_queue_retention(void **state)
{
	struct fx *f = *state;
	struct store_lastsent_entry ls[2];
	struct store_review rv[2];
	struct store_retention r;
	struct store_expired c;
	struct store_lastsent l;
	size_t n;

	/* Outbox: 48 h by default, counters follow. */
	assert_int_equal(store_outbox_put(f->st, "acct", (const uint8_t *)"a",
	    1, 1000, 0, NULL), 0);
	assert_int_equal(store_outbox_put(f->st, "acct", (const uint8_t *)"b",
	    1, 1000 + 47 * 3600, 0, NULL), 0);
	/* Loop guard marks. */
	assert_int_equal(store_confirm_mark(f->st, "15550100001",
	    STORE_CONFIRM_OPT_OUT, 1000, 86400), 1);
	/* Review: an old resolved item goes, an old open one stays. */
	memset(rv, 0, sizeof(rv));
	snprintf(rv[0].number, sizeof(rv[0].number), "15550100001");
	snprintf(rv[1].number, sizeof(rv[1].number), "15550100002");
	assert_int_equal(store_review_add(f->st, &rv[0]), 0);
	assert_int_equal(store_review_add(f->st, &rv[1]), 0);
	assert_int_equal(store_review_resolve(f->st, rv[0].id,
	    STORE_REVIEW_DISMISSED, "a", "n", 1000, NULL), 0);
	/* Attribution. */
	memset(ls, 0, sizeof(ls));
	snprintf(ls[0].number, sizeof(ls[0].number), "15550100001");
	ls[0].last.time = 1000;
	snprintf(ls[1].number, sizeof(ls[1].number), "15550100002");
	ls[1].last.time = 1000 + 2 * DAY;
	assert_int_equal(store_lastsent_put(f->st, ls, 2), 0);

	memset(&r, 0, sizeof(r));
	r.review_days = 1;
	r.lastsent_days = 1;
	assert_int_equal(store_expire(f->st, 1000 + 49 * 3600, &r, &c), 0);
	assert_int_equal(c.outbox, 1);
	assert_int_equal(c.review, 1);
	assert_int_equal(c.lastsent, 1);
	assert_int_equal(c.confirm, 0);
	assert_int_equal(store_outbox_count(f->st, "acct", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_review_get(f->st, rv[0].id, &rv[0]), 0);
	assert_int_equal(store_review_get(f->st, rv[1].id, &rv[1]), 1);
	assert_int_equal(store_lastsent_get(f->st, "15550100001", &l), 0);
	assert_int_equal(store_lastsent_get(f->st, "15550100002", &l), 1);

	/* A week later the loop-guard mark goes too. */
	assert_int_equal(store_expire(f->st, 1000 + 8 * DAY, &r, &c), 0);
	assert_int_equal(c.confirm, 1);
	assert_int_equal(store_confirm_mark(f->st, "15550100001",
	    STORE_CONFIRM_OPT_OUT, 1000 + 8 * DAY, 86400), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_events_kept_when_referenced, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_audit_and_more_than_a_batch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_retention,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("store/expire", tests, NULL, NULL);
}
