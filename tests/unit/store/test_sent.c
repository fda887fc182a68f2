/*
 * store/audit: store_sent_put(), the receipt map and last-sent batches of
 * one proxy flush written in one transaction.
 *
 * Why (issue 6): the proxy committed its receipt map and its attribution
 * batches in two transactions, each with its own fdatasync, on the event
 * loop thread; profiling showed the loop spending most of its time there.
 * One transaction per flush halves the syncs. These tests check it writes
 * what the two old calls wrote, and nothing when any entry is bad.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/store/store_fixture.h"

static void
mk_map(struct store_msgmap *m, const char *id, const char *account)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->upstream, sizeof(m->upstream), "carrier");
	snprintf(m->message_id, sizeof(m->message_id), "%s", id);
	snprintf(m->account, sizeof(m->account), "%s", account);
	m->time = 1000;
}

static void
mk_last(struct store_lastsent_entry *e, const char *number,
    const char *account, int64_t t)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->number, sizeof(e->number), "%s", number);
	snprintf(e->last.account, sizeof(e->last.account), "%s", account);
	snprintf(e->last.category, sizeof(e->last.category), "promo");
	snprintf(e->last.service_type, sizeof(e->last.service_type), "CMT");
	e->last.time = t;
}

static void
test_sent_put_both(void **state)
{
	struct fx *f = *state;
	struct store_msgmap m[2];
	struct store_lastsent_entry e[3];
	struct store_lastsent out;
	char account[STORE_NAME_MAX];

	mk_map(&m[0], "abc1", "marketing");
	mk_map(&m[1], "abc2", "frontdesk");
	mk_last(&e[0], "15550100001", "marketing", 10);
	mk_last(&e[1], "15550100002", "frontdesk", 11);
	mk_last(&e[2], "15550100001", "frontdesk", 12);	/* later wins */
	assert_int_equal(store_sent_put(f->st, m, 2, e, 3), 0);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "ABC1", account),
	    1);
	assert_string_equal(account, "marketing");
	assert_int_equal(store_msgmap_get(f->st, "carrier", "abc2", account),
	    1);
	assert_string_equal(account, "frontdesk");
	assert_int_equal(store_lastsent_get(f->st, "15550100001", &out), 1);
	assert_string_equal(out.account, "frontdesk");
	assert_int_equal(out.time, 12);
	assert_int_equal(store_lastsent_get(f->st, "15550100002", &out), 1);
	assert_string_equal(out.account, "frontdesk");
	/* Either side may be empty. */
	assert_int_equal(store_sent_put(f->st, NULL, 0, NULL, 0), 0);
	mk_map(&m[0], "abc3", "marketing");
	assert_int_equal(store_sent_put(f->st, m, 1, NULL, 0), 0);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "abc3", account),
	    1);
	mk_last(&e[0], "15550100003", "marketing", 13);
	assert_int_equal(store_sent_put(f->st, NULL, 0, e, 1), 0);
	assert_int_equal(store_lastsent_get(f->st, "15550100003", &out), 1);
}

static void
test_sent_put_bad_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct store_msgmap m[1];
	struct store_lastsent_entry e[2];
	struct store_lastsent out;
	char account[STORE_NAME_MAX];

	mk_map(&m[0], "def1", "marketing");
	mk_last(&e[0], "15550100004", "marketing", 10);
	mk_last(&e[1], "", "marketing", 10);		/* no number */
	assert_int_equal(store_sent_put(f->st, m, 1, e, 2), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "def1", account),
	    0);
	assert_int_equal(store_lastsent_get(f->st, "15550100004", &out), 0);
	mk_map(&m[0], "", "marketing");			/* no id */
	assert_int_equal(store_sent_put(f->st, m, 1, e, 1), -1);
	assert_int_equal(store_lastsent_get(f->st, "15550100004", &out), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sent_put_both, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sent_put_bad_writes_nothing, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("store/sent", tests, NULL, NULL);
}
