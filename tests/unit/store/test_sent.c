/*
 * store/audit: store_batch_put(), what the proxy's writer thread commits
 * at once (audit, receipt map, sent log, last-sent) in one transaction.
 *
 * Why: one transaction (one fdatasync) per batch instead of one
 * per kind of record; and a bad record from a peer must cost that record,
 * not the attribution and receipts of everyone else in its batch. These
 * tests check every kind lands where its own call would put it, and that
 * a bad record is dropped and counted alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/sentlog.h"
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
test_batch_all_kinds(void **state)
{
	struct fx *f = *state;
	struct store_msgmap m[2];
	struct store_lastsent_entry e[2], got;
	struct store_sentlog_entry sl[1];
	struct store_audit a[1];
	struct store_lastsent out;
	struct store_batch b;
	char account[STORE_NAME_MAX];
	size_t nbad;

	mk_map(&m[0], "abc1", "marketing");
	mk_map(&m[1], "abc2", "frontdesk");
	mk_last(&e[0], "15550100001", "marketing", 10);
	mk_last(&e[1], "15550100001", "frontdesk", 12);	/* later wins */
	sl[0].seq = 7;
	mk_last(&sl[0].e, "15550100002", "billing", 11);
	memset(a, 0, sizeof(a));
	snprintf(a[0].destination, sizeof(a[0].destination), "15550100003");
	snprintf(a[0].account, sizeof(a[0].account), "marketing");
	a[0].time = 1000;
	memset(&b, 0, sizeof(b));
	b.audit = a;
	b.naudit = 1;
	b.msgmap = m;
	b.nmsgmap = 2;
	b.sentlog = sl;
	b.nsentlog = 1;
	b.lastsent = e;
	b.nlastsent = 2;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	assert_int_equal(nbad, 0);
	assert_true(a[0].id > 0);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "ABC1", account),
	    1);
	assert_string_equal(account, "marketing");
	assert_int_equal(store_msgmap_get(f->st, "carrier", "abc2", account),
	    1);
	assert_string_equal(account, "frontdesk");
	assert_int_equal(store_lastsent_get(f->st, "15550100001", &out), 1);
	assert_string_equal(out.account, "frontdesk");
	assert_int_equal(out.time, 12);
	assert_int_equal(store_sentlog_get(f->st, 7, &got), 1);
	assert_string_equal(got.number, "15550100002");
	assert_string_equal(got.last.account, "billing");
	/* An empty batch writes nothing and succeeds. */
	memset(&b, 0, sizeof(b));
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
}

static void
test_batch_bad_record_alone(void **state)
{
	struct fx *f = *state;
	struct store_msgmap m[2];
	struct store_lastsent_entry e[2];
	struct store_sentlog_entry sl[5];
	struct store_lastsent out;
	struct store_lastsent_entry got;
	struct store_batch b;
	char account[STORE_NAME_MAX];
	size_t nbad;
	int i;

	mk_map(&m[0], "def1", "marketing");
	mk_map(&m[1], "", "marketing");			/* no id */
	mk_last(&e[0], "15550100004", "marketing", 10);
	mk_last(&e[1], "", "marketing", 10);		/* no number */
	/* Sent-log runs around bad records: good, good, bad, good, bad. */
	for (i = 0; i < 5; i++) {
		sl[i].seq = 20 + i;
		mk_last(&sl[i].e, i == 2 || i == 4 ? "" : "15550100005",
		    "billing", 20 + (int64_t)i);
	}
	memset(&b, 0, sizeof(b));
	b.msgmap = m;
	b.nmsgmap = 2;
	b.lastsent = e;
	b.nlastsent = 2;
	b.sentlog = sl;
	b.nsentlog = 5;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	assert_int_equal(nbad, 4);
	assert_int_equal(store_sentlog_get(f->st, 20, &got), 1);
	assert_int_equal(store_sentlog_get(f->st, 21, &got), 1);
	assert_int_equal(store_sentlog_get(f->st, 22, &got), 0);
	assert_int_equal(store_sentlog_get(f->st, 23, &got), 1);
	assert_int_equal(got.last.time, 23);
	assert_int_equal(store_sentlog_get(f->st, 24, &got), 0);
	assert_int_equal(store_errcode(f->st), STORE_E_OK);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "def1", account),
	    1);
	assert_int_equal(store_lastsent_get(f->st, "15550100004", &out), 1);
	/* The arrays were only read. */
	assert_int_equal(b.nmsgmap, 2);
	assert_string_equal(m[1].message_id, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_all_kinds,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_batch_bad_record_alone,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("store/sent", tests, NULL, NULL);
}
