/*
 * store/audit: the rejected-send audit log and its filters, last-sent
 * attribution, and the receipt map with its tolerant message_id match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/audit_int.h"
#include "tests/unit/store/store_fixture.h"

static void
mk_audit(struct store_audit *a, int64_t t, const char *dest,
    const char *account, const char *cat)
{
	memset(a, 0, sizeof(*a));
	a->time = t;
	snprintf(a->destination, sizeof(a->destination), "%s", dest);
	snprintf(a->account, sizeof(a->account), "%s", account);
	snprintf(a->category, sizeof(a->category), "%s", cat);
	snprintf(a->service_type, sizeof(a->service_type), "CMT");
	snprintf(a->source, sizeof(a->source), "12345");
	a->status = 0x401;
	a->event_id = 7;
	a->body_len = 42;
	memset(a->body_sha256, 0xab, sizeof(a->body_sha256));
}

struct audits {
	struct store_audit a[32];
	size_t		 n;
};

static int
audit_cb(const struct store_audit *a, void *arg)
{
	struct audits *s = arg;

	if (s->n < 32)
		s->a[s->n] = *a;
	s->n++;
	return 0;
}

static size_t
query(struct store *st, const struct store_audit_filter *f, struct audits *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(store_audit_query(st, f, audit_cb, s), 0);
	return s->n;
}

static void
test_audit_add_query(void **state)
{
	struct fx *f = *state;
	struct store_audit recs[6];
	struct store_audit_filter fl;
	struct audits s;

	/* Out of time order on purpose: queries come back in time order. */
	mk_audit(&recs[0], 300, "15550100001", "marketing", "promo");
	mk_audit(&recs[1], 100, "15550100002", "marketing", "promo");
	mk_audit(&recs[2], 200, "15550100001", "frontdesk", "appointments");
	mk_audit(&recs[3], 400, "15550100003", "frontdesk", "billing");
	mk_audit(&recs[4], 500, "15550100001", "marketing", "promo");
	mk_audit(&recs[5], 200, "1555010000", "marketing", "promo");
	assert_int_equal(store_audit_add(f->st, recs, 6), 0);
	assert_true(recs[0].id > 0 && recs[5].id == recs[0].id + 5);

	assert_int_equal(query(f->st, NULL, &s), 6);
	assert_int_equal(s.a[0].time, 100);
	assert_int_equal(s.a[5].time, 500);
	assert_int_equal(s.a[0].status, 0x401);
	assert_int_equal(s.a[0].body_len, 42);
	assert_int_equal(s.a[0].body_sha256[31], 0xab);
	assert_string_equal(s.a[0].service_type, "CMT");
	assert_string_equal(s.a[0].source, "12345");
	assert_int_equal(s.a[0].event_id, 7);

	memset(&fl, 0, sizeof(fl));
	fl.since = 200;
	fl.until = 400;
	assert_int_equal(query(f->st, &fl, &s), 3);
	assert_int_equal(s.a[0].time, 200);
	assert_int_equal(s.a[2].time, 300);

	memset(&fl, 0, sizeof(fl));
	fl.number = "15550100001";
	assert_int_equal(query(f->st, &fl, &s), 3);
	assert_int_equal(s.a[0].time, 200);
	assert_int_equal(s.a[2].time, 500);
	fl.since = 250;
	assert_int_equal(query(f->st, &fl, &s), 2);
	fl.until = 500;
	assert_int_equal(query(f->st, &fl, &s), 1);
	assert_int_equal(s.a[0].time, 300);

	memset(&fl, 0, sizeof(fl));
	fl.account = "frontdesk";
	assert_int_equal(query(f->st, &fl, &s), 2);
	fl.category = "billing";
	assert_int_equal(query(f->st, &fl, &s), 1);
	assert_string_equal(s.a[0].destination, "15550100003");

	memset(&fl, 0, sizeof(fl));
	fl.category = "promo";
	fl.max = 2;
	assert_int_equal(query(f->st, &fl, &s), 2);

	memset(&fl, 0, sizeof(fl));
	fl.number = "19999999999";
	assert_int_equal(query(f->st, &fl, &s), 0);
}

static void
test_audit_invalid(void **state)
{
	struct fx *f = *state;
	struct store_audit a;
	struct audits s;

	mk_audit(&a, 1, "", "marketing", "promo");
	assert_int_equal(store_audit_add(f->st, &a, 1), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_int_equal(store_audit_add(f->st, &a, 0), 0);
	assert_int_equal(query(f->st, NULL, &s), 0);
}

static void
test_lastsent(void **state)
{
	struct fx *f = *state;
	struct store_lastsent_entry e[3];
	struct store_lastsent out;

	memset(e, 0, sizeof(e));
	snprintf(e[0].number, sizeof(e[0].number), "15550100001");
	e[0].last.time = 10;
	snprintf(e[0].last.account, sizeof(e[0].last.account), "marketing");
	snprintf(e[1].number, sizeof(e[1].number), "15550100002");
	e[1].last.time = 20;
	snprintf(e[2].number, sizeof(e[2].number), "15550100001");
	e[2].last.time = 30;
	snprintf(e[2].last.account, sizeof(e[2].last.account), "frontdesk");
	snprintf(e[2].last.category, sizeof(e[2].last.category), "billing");
	assert_int_equal(store_lastsent_put(f->st, e, 3), 0);
	assert_int_equal(store_lastsent_get(f->st, "15550100001", &out), 1);
	assert_int_equal(out.time, 30);
	assert_string_equal(out.account, "frontdesk");
	assert_string_equal(out.category, "billing");
	assert_int_equal(store_lastsent_get(f->st, "15550100002", &out), 1);
	assert_int_equal(out.time, 20);
	assert_int_equal(store_lastsent_get(f->st, "15550100009", &out), 0);
	assert_int_equal(store_lastsent_get(f->st, "", &out), -1);
	e[0].number[0] = '\0';
	assert_int_equal(store_lastsent_put(f->st, e, 1), -1);
}

static void
test_msgid_normalize(void **state)
{
	char out[STORE_MSGID_MAX];

	(void)state;
	assert_int_equal(store_msgid_normalize(" 000ABCdef ", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "abcdef");
	assert_int_equal(store_msgid_normalize("0000", out, sizeof(out)), 0);
	assert_string_equal(out, "0");
	assert_int_equal(store_msgid_normalize("   ", out, sizeof(out)), -1);
	assert_int_equal(store_msgid_normalize("", out, sizeof(out)), -1);
	assert_int_equal(store_msgid_normalize("12345", out, 5), -1);
	assert_int_equal(store_msgid_normalize("1234", out, 5), 0);
}

static void
mk_map(struct store_msgmap *m, const char *up, const char *id,
    const char *account, int64_t t)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->upstream, sizeof(m->upstream), "%s", up);
	snprintf(m->message_id, sizeof(m->message_id), "%s", id);
	snprintf(m->account, sizeof(m->account), "%s", account);
	m->time = t;
}

static void
test_msgmap(void **state)
{
	struct fx *f = *state;
	struct store_msgmap m[4];
	char account[STORE_NAME_MAX];

	mk_map(&m[0], "carrier", "0000ABC123", "marketing", 100);
	mk_map(&m[1], "carrier", "4660", "frontdesk", 100);
	mk_map(&m[2], "other", "0000ABC123", "billing", 100);
	mk_map(&m[3], "carrier", "1a2b", "dispatch", 100);
	assert_int_equal(store_msgmap_put(f->st, m, 4), 0);

	assert_int_equal(store_msgmap_get(f->st, "carrier", "abc123",
	    account), 1);
	assert_string_equal(account, "marketing");
	assert_int_equal(store_msgmap_get(f->st, "carrier", "00ABC123",
	    account), 1);
	assert_int_equal(store_msgmap_get(f->st, "other", "abc123", account),
	    1);
	assert_string_equal(account, "billing");
	/* Receipt prints hex of a decimal id: 0x1234 = 4660. */
	assert_int_equal(store_msgmap_get(f->st, "carrier", "1234", account),
	    1);
	assert_string_equal(account, "frontdesk");
	/* Receipt prints decimal of a hex id: 0x1a2b = 6699. */
	assert_int_equal(store_msgmap_get(f->st, "carrier", "6699", account),
	    1);
	assert_string_equal(account, "dispatch");
	/* And 0xabc123 = 11256099. */
	assert_int_equal(store_msgmap_get(f->st, "carrier", "11256099",
	    account), 1);
	assert_string_equal(account, "marketing");

	assert_int_equal(store_msgmap_get(f->st, "carrier", "999", account),
	    0);
	assert_int_equal(store_msgmap_get(f->st, "nobody", "abc123", account),
	    0);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "", account), 0);
	assert_int_equal(store_msgmap_get(f->st, "", "1", account), -1);

	mk_map(&m[0], "carrier", "", "marketing", 100);
	assert_int_equal(store_msgmap_put(f->st, m, 1), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
}

static void
test_msgmap_expiry(void **state)
{
	struct fx *f = *state;
	struct store_retention r;
	struct store_expired c;
	struct store_msgmap m[3];
	char account[STORE_NAME_MAX];

	mk_map(&m[0], "carrier", "1", "old", 1000);
	mk_map(&m[1], "carrier", "2", "new", 1000 + 71 * 3600);
	mk_map(&m[2], "carrier", "3", "refreshed", 1000);
	assert_int_equal(store_msgmap_put(f->st, m, 3), 0);
	/* Put again later: the newer time wins. */
	mk_map(&m[2], "carrier", "3", "refreshed", 1000 + 10 * 3600);
	assert_int_equal(store_msgmap_put(f->st, &m[2], 1), 0);

	memset(&r, 0, sizeof(r));
	r.msgmap_hours = 72;
	assert_int_equal(store_expire(f->st, 1000 + 73 * 3600, &r, &c), 0);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "1", account), 0);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "2", account), 1);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "3", account), 1);
	assert_string_equal(account, "refreshed");
	assert_int_equal(c.msgmap, 2);	/* two index keys */
	assert_int_equal(store_expire(f->st, 1000 + 83 * 3600, &r, &c), 0);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "3", account), 0);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "2", account), 1);
	assert_int_equal(store_expire(f->st, 1000 + 200 * 3600, &r, &c), 0);
	assert_int_equal(store_msgmap_get(f->st, "carrier", "2", account), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_add_query,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_audit_invalid, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_lastsent, fx_setup,
		    fx_teardown),
		cmocka_unit_test(test_msgid_normalize),
		cmocka_unit_test_setup_teardown(test_msgmap, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_msgmap_expiry, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/audit", tests, NULL, NULL);
}
