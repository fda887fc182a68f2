/*
 * store/optout: lookups, opt-out / opt-in per category and globally,
 * since-times, history, the event feed, state listing and imports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/lookup_int.h"
#include "tests/unit/store/store_fixture.h"

#define N1	"15550100001"
#define N2	"15550100002"

static int
apply(struct store *st, const char *number, enum store_action a, int64_t t,
    const char *c1, const char *c2)
{
	struct store_event ev;
	int rc;

	fx_event(&ev, number, a, t, c1, c2);
	rc = store_optout_apply(st, &ev);
	if (rc != 0)
		fprintf(stderr, "apply: %s\n", store_errmsg(st));
	return rc == 0 ? (int)ev.id : -1;
}

static void
test_check_empty(void **state)
{
	struct fx *f = *state;
	struct store_block why;

	assert_int_equal(store_optout_check(f->st, N1, "promo", &why), 0);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
	assert_int_equal(store_optout_check(f->st, "", "promo", NULL), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_int_equal(store_optout_check(f->st, N1, "", NULL), -1);
}

static void
test_category_out_in(void **state)
{
	struct fx *f = *state;
	struct store_block why;
	int id;

	id = apply(f->st, N1, STORE_OPT_OUT, 1000, "promo", NULL);
	assert_true(id > 0);
	assert_int_equal(store_optout_check(f->st, N1, "promo", &why), 1);
	assert_false(why.is_global);
	assert_int_equal(why.since, 1000);
	assert_int_equal(why.event_id, (uint64_t)id);
	assert_int_equal(store_optout_check(f->st, N1, "billing", NULL), 0);
	assert_int_equal(store_optout_check(f->st, N2, "promo", NULL), 0);
	/* A number that is a prefix of another does not match it. */
	assert_int_equal(store_optout_check(f->st, "1555010000", "promo",
	    NULL), 0);

	assert_true(apply(f->st, N1, STORE_OPT_IN, 2000, "promo", NULL) > 0);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
}

/*
 * A held read (one batch of PDUs) answers from one snapshot: an opt-out
 * committed by another handle meanwhile is seen from the release on; a
 * write on the held handle itself starts a new snapshot at once.
 */
static void
test_read_hold(void **state)
{
	struct fx *f = *state;
	struct store *other;

	assert_non_null(other = store_sibling(f->st));
	store_read_hold(f->st);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
	assert_true(apply(other, N1, STORE_OPT_OUT, 1000, "promo", NULL) > 0);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
	store_read_release(f->st);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 1);

	/* Nested holds; the held handle's own write is seen at once. */
	store_read_hold(f->st);
	store_read_hold(f->st);
	assert_int_equal(store_optout_check(f->st, N2, "promo", NULL), 0);
	assert_true(apply(f->st, N2, STORE_OPT_OUT, 1000, "promo", NULL) > 0);
	assert_int_equal(store_optout_check(f->st, N2, "promo", NULL), 1);
	assert_true(apply(other, N2, STORE_OPT_IN, 2000, "promo", NULL) > 0);
	assert_int_equal(store_optout_check(f->st, N2, "promo", NULL), 1);
	store_read_release(f->st);
	assert_int_equal(store_optout_check(f->st, N2, "promo", NULL), 1);
	store_read_release(f->st);
	assert_int_equal(store_optout_check(f->st, N2, "promo", NULL), 0);
	/* A pause drops the snapshot; the hold stays. */
	store_read_hold(f->st);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 1);
	assert_true(apply(other, N1, STORE_OPT_IN, 3000, "promo", NULL) > 0);
	store_read_pause(f->st);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
	store_read_release(f->st);
	store_read_release(f->st);	/* unbalanced: harmless */
	store_free(other);
}

static void
test_since_unchanged(void **state)
{
	struct fx *f = *state;
	struct store_block why;
	int id1, id2;

	id1 = apply(f->st, N1, STORE_OPT_OUT, 1000, "promo", NULL);
	id2 = apply(f->st, N1, STORE_OPT_OUT, 5000, "promo", "billing");
	assert_true(id2 > id1);
	assert_int_equal(store_optout_check(f->st, N1, "promo", &why), 1);
	assert_int_equal(why.since, 1000);
	assert_int_equal(why.event_id, (uint64_t)id1);
	assert_int_equal(store_optout_check(f->st, N1, "billing", &why), 1);
	assert_int_equal(why.since, 5000);
	assert_int_equal(why.event_id, (uint64_t)id2);

	/* Same for the global flag. */
	id1 = apply(f->st, N2, STORE_OPT_OUT, 100, NULL, NULL);
	apply(f->st, N2, STORE_OPT_OUT, 200, NULL, NULL);
	apply(f->st, N2, STORE_OPT_OUT, 300, "promo", NULL);
	assert_int_equal(store_optout_check(f->st, N2, "promo", &why), 1);
	assert_true(why.is_global);
	assert_int_equal(why.since, 100);
	assert_int_equal(why.event_id, (uint64_t)id1);
}

static void
test_global(void **state)
{
	struct fx *f = *state;
	struct store_block why;

	apply(f->st, N1, STORE_OPT_OUT, 10, NULL, NULL);
	assert_int_equal(store_optout_check(f->st, N1, "promo", &why), 1);
	assert_true(why.is_global);
	assert_int_equal(store_optout_check(f->st, N1, "anything", NULL), 1);
	assert_int_equal(store_optout_check(f->st, N1, STORE_CATEGORY_ALL,
	    NULL), 1);

	/* START PROMO after STOP ALL: promo allowed, the rest blocked. */
	apply(f->st, N1, STORE_OPT_IN, 20, "promo", NULL);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
	assert_int_equal(store_optout_check(f->st, N1, "billing", NULL), 1);
	/* STOP PROMO again: blocked, since the new event. */
	apply(f->st, N1, STORE_OPT_OUT, 30, "promo", NULL);
	assert_int_equal(store_optout_check(f->st, N1, "promo", &why), 1);
	assert_false(why.is_global);
	assert_int_equal(why.since, 30);
	/* START PROMO, then STOP ALL again drops the exception. */
	apply(f->st, N1, STORE_OPT_IN, 40, "promo", NULL);
	apply(f->st, N1, STORE_OPT_IN, 45, "promo", NULL);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
	apply(f->st, N1, STORE_OPT_OUT, 50, NULL, NULL);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 1);
	/* START (all) clears everything. */
	apply(f->st, N1, STORE_OPT_IN, 60, NULL, NULL);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
	assert_int_equal(store_optout_check(f->st, N1, "billing", NULL), 0);
}

static void
test_category_then_global_in(void **state)
{
	struct fx *f = *state;

	apply(f->st, N1, STORE_OPT_OUT, 10, "promo", "billing");
	apply(f->st, N1, STORE_OPT_OUT, 20, NULL, NULL);
	apply(f->st, N1, STORE_OPT_IN, 30, NULL, NULL);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
	assert_int_equal(store_optout_check(f->st, N1, "billing", NULL), 0);
}

static void
test_apply_invalid(void **state)
{
	struct fx *f = *state;
	struct store_event ev;

	fx_event(&ev, "", STORE_OPT_OUT, 1, NULL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	fx_event(&ev, N1, STORE_OPT_OUT, 1, "promo", NULL);
	ev.ncategories = 0;
	assert_int_equal(store_optout_apply(f->st, &ev), -1);
	fx_event(&ev, N1, STORE_OPT_OUT, 1, "promo", "promo");
	assert_int_equal(store_optout_apply(f->st, &ev), -1);
	fx_event(&ev, N1, STORE_OPT_OUT, 1, STORE_CATEGORY_ALL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), -1);
	fx_event(&ev, N1, STORE_OPT_OUT, 1, "promo", NULL);
	memset(ev.note, 'x', sizeof(ev.note));	/* no NUL */
	assert_int_equal(store_optout_apply(f->st, &ev), -1);
	fx_event(&ev, N1, STORE_OPT_OUT, 1, "promo", NULL);
	ev.action = (enum store_action)7;
	assert_int_equal(store_optout_apply(f->st, &ev), -1);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
}

struct collect {
	struct store_event ev[16];
	size_t		 n;
	size_t		 stop_at;	/* 0: never */
};

static int
collect_cb(const struct store_event *ev, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16)
		c->ev[c->n] = *ev;
	c->n++;
	if (c->stop_at != 0 && c->n >= c->stop_at)
		return 1;
	return 0;
}

static void
test_history(void **state)
{
	struct fx *f = *state;
	struct store_event ev;
	struct collect c;

	memset(&c, 0, sizeof(c));
	fx_event(&ev, N1, STORE_OPT_OUT, 100, "promo", NULL);
	ev.source = STORE_SRC_SMS_KEYWORD;
	snprintf(ev.inbound, sizeof(ev.inbound), "12345");
	snprintf(ev.text, sizeof(ev.text), "Stop promo ✋");
	snprintf(ev.rule, sizeof(ev.rule), "stop_category");
	ev.actor[0] = '\0';
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	apply(f->st, N2, STORE_OPT_OUT, 150, NULL, NULL);
	fx_event(&ev, N1, STORE_OPT_IN, 200, "promo", NULL);
	snprintf(ev.consent, sizeof(ev.consent), "signed form 2024-01-01");
	snprintf(ev.note, sizeof(ev.note), "called in");
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	apply(f->st, N1, STORE_OPT_OUT, 300, NULL, NULL);

	assert_int_equal(store_history(f->st, N1, collect_cb, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ev[0].time, 100);
	assert_int_equal(c.ev[0].source, STORE_SRC_SMS_KEYWORD);
	assert_string_equal(c.ev[0].inbound, "12345");
	assert_string_equal(c.ev[0].text, "Stop promo ✋");
	assert_string_equal(c.ev[0].rule, "stop_category");
	assert_int_equal(c.ev[0].ncategories, 1);
	assert_string_equal(c.ev[0].categories[0], "promo");
	assert_int_equal(c.ev[1].time, 200);
	assert_int_equal(c.ev[1].action, STORE_OPT_IN);
	assert_string_equal(c.ev[1].consent, "signed form 2024-01-01");
	assert_string_equal(c.ev[1].note, "called in");
	assert_string_equal(c.ev[1].actor, "tester");
	assert_int_equal(c.ev[2].time, 300);
	assert_true(c.ev[2].all);
	assert_true(c.ev[0].id < c.ev[1].id && c.ev[1].id < c.ev[2].id);

	/* Stop early with > 0: the walk returns 0. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	assert_int_equal(store_history(f->st, N1, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_history(f->st, "19999999999", collect_cb, &c),
	    0);
	assert_int_equal(c.n, 0);
}

static int
fail_cb(const struct store_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	return -7;
}

static void
test_feed(void **state)
{
	struct fx *f = *state;
	struct collect c;
	uint64_t cursor = 0;
	int i;

	for (i = 0; i < 10; i++)
		apply(f->st, i % 2 ? N1 : N2, STORE_OPT_OUT, 100 + i, "promo",
		    NULL);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_events_since(f->st, cursor, 4, collect_cb, &c),
	    0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.ev[0].time, 100);
	assert_int_equal(c.ev[3].time, 103);
	cursor = c.ev[3].id;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_events_since(f->st, cursor, 0, collect_cb, &c),
	    0);
	assert_int_equal(c.n, 6);
	assert_int_equal(c.ev[0].time, 104);
	assert_int_equal(c.ev[0].id, cursor + 1);
	cursor = c.ev[5].id;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_events_since(f->st, cursor, 0, collect_cb, &c),
	    0);
	assert_int_equal(c.n, 0);
	assert_int_equal(store_events_since(f->st, UINT64_MAX, 0, collect_cb,
	    &c), 0);

	assert_int_equal(store_events_since(f->st, 0, 0, fail_cb, NULL), -7);
	assert_int_equal(store_errcode(f->st), STORE_E_CALLBACK);
}

struct states {
	struct store_state_entry e[16];
	size_t		 n;
};

static int
state_cb(const struct store_state_entry *e, void *arg)
{
	struct states *s = arg;

	if (s->n < 16)
		s->e[s->n] = *e;
	s->n++;
	return 0;
}

static void
test_state(void **state)
{
	struct fx *f = *state;
	struct states s;
	int g;

	apply(f->st, N1, STORE_OPT_OUT, 10, "promo", "billing");
	g = apply(f->st, N1, STORE_OPT_OUT, 20, NULL, NULL);
	apply(f->st, N1, STORE_OPT_IN, 30, "appt", NULL);
	apply(f->st, N2, STORE_OPT_OUT, 40, "promo", NULL);
	apply(f->st, "15550100003", STORE_OPT_OUT, 50, "promo", NULL);
	apply(f->st, "15550100003", STORE_OPT_IN, 60, "promo", NULL);

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_state(f->st, N1, state_cb, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.e[0].category, STORE_CATEGORY_ALL);
	assert_int_equal(s.e[0].event_id, (uint64_t)g);
	assert_int_equal(s.e[0].since, 20);
	assert_string_equal(s.e[1].category, "appt");
	assert_true(s.e[1].is_exception);
	assert_string_equal(s.e[2].category, "billing");
	assert_false(s.e[2].is_exception);
	assert_int_equal(s.e[2].since, 10);
	assert_string_equal(s.e[3].category, "promo");
	assert_string_equal(s.e[3].number, N1);

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_state_all(f->st, state_cb, &s), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.e[0].number, N1);
	assert_string_equal(s.e[0].category, STORE_CATEGORY_ALL);
	assert_string_equal(s.e[4].number, N2);

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_state(f->st, "15550100003", state_cb, &s), 0);
	assert_int_equal(s.n, 0);
}

static void
test_import(void **state)
{
	struct fx *f = *state;
	struct store_event evs[3];

	fx_event(&evs[0], N1, STORE_OPT_OUT, 10, "promo", NULL);
	fx_event(&evs[1], N2, STORE_OPT_OUT, 20, NULL, NULL);
	fx_event(&evs[2], "15550100003", STORE_OPT_OUT, 30, "billing", NULL);
	evs[0].source = evs[1].source = evs[2].source = STORE_SRC_IMPORT;
	assert_int_equal(store_import(f->st, evs, 3), 0);
	assert_true(evs[0].id > 0 && evs[1].id == evs[0].id + 1 &&
	    evs[2].id == evs[1].id + 1);
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 1);
	assert_int_equal(store_optout_check(f->st, N2, "x", NULL), 1);
	assert_int_equal(store_optout_check(f->st, "15550100003", "billing",
	    NULL), 1);
	assert_int_equal(store_import(f->st, evs, 0), 0);
}

static void
test_import_all_or_nothing(void **state)
{
	struct fx *f = *state;
	struct store_event evs[3];
	struct collect c;

	fx_event(&evs[0], N1, STORE_OPT_OUT, 10, "promo", NULL);
	fx_event(&evs[1], N2, STORE_OPT_OUT, 20, NULL, NULL);
	fx_event(&evs[2], "", STORE_OPT_OUT, 30, "billing", NULL);
	assert_int_equal(store_import(f->st, evs, 3), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_non_null(strstr(store_errmsg(f->st), "entry 3"));
	assert_int_equal(store_optout_check(f->st, N1, "promo", NULL), 0);
	assert_int_equal(store_optout_check(f->st, N2, "x", NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_events_since(f->st, 0, 0, collect_cb, &c), 0);
	assert_int_equal(c.n, 0);
}

/* Attribution: an opt-out picks up the last message sent. */
static void
test_apply_fills_last(void **state)
{
	struct fx *f = *state;
	struct store_lastsent_entry ls;
	struct store_event ev;
	struct collect c;

	memset(&ls, 0, sizeof(ls));
	snprintf(ls.number, sizeof(ls.number), "%s", N1);
	ls.last.time = 900;
	snprintf(ls.last.account, sizeof(ls.last.account), "marketing");
	snprintf(ls.last.category, sizeof(ls.last.category), "promo");
	snprintf(ls.last.service_type, sizeof(ls.last.service_type), "CMT");
	assert_int_equal(store_lastsent_put(f->st, &ls, 1), 0);
	fx_event(&ev, N1, STORE_OPT_OUT, 1000, NULL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(ev.last.time, 900);
	assert_string_equal(ev.last.account, "marketing");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_history(f->st, N1, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.ev[0].last.category, "promo");
	assert_string_equal(c.ev[0].last.service_type, "CMT");
	/* Opt-ins carry no attribution. */
	fx_event(&ev, N1, STORE_OPT_IN, 1100, NULL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(ev.last.time, 0);
}

/* Numbers that do not pack into the index, and ones that differ only by
 * leading zeros, are each their own. */
static void
test_number_forms(void **state)
{
	struct fx *f = *state;

	apply(f->st, "01234", STORE_OPT_OUT, 1, "promo", NULL);
	apply(f->st, "ACMEINFO", STORE_OPT_OUT, 1, NULL, NULL);
	apply(f->st, "123456789012345678", STORE_OPT_OUT, 1, "promo", NULL);
	apply(f->st, "123456789012345", STORE_OPT_OUT, 1, "promo", NULL);
	assert_int_equal(store_optout_check(f->st, "01234", "promo", NULL), 1);
	assert_int_equal(store_optout_check(f->st, "1234", "promo", NULL), 0);
	assert_int_equal(store_optout_check(f->st, "001234", "promo", NULL),
	    0);
	assert_int_equal(store_optout_check(f->st, "ACMEINFO", "x", NULL), 1);
	assert_int_equal(store_optout_check(f->st, "ACME", "x", NULL), 0);
	assert_int_equal(store_optout_check(f->st, "123456789012345678",
	    "promo", NULL), 1);
	assert_int_equal(store_optout_check(f->st, "12345678901234567",
	    "promo", NULL), 0);
	assert_int_equal(store_optout_check(f->st, "123456789012345",
	    "promo", NULL), 1);
	apply(f->st, "01234", STORE_OPT_IN, 2, "promo", NULL);
	apply(f->st, "ACMEINFO", STORE_OPT_IN, 2, NULL, NULL);
	assert_int_equal(store_optout_check(f->st, "01234", "promo", NULL), 0);
	assert_int_equal(store_optout_check(f->st, "ACMEINFO", "x", NULL), 0);
	/* Re-opting out after the index entry was dropped. */
	apply(f->st, "01234", STORE_OPT_OUT, 3, "billing", NULL);
	assert_int_equal(store_optout_check(f->st, "01234", "billing", NULL),
	    1);
	assert_int_equal(store_optout_check(f->st, "01234", "promo", NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_empty, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_category_out_in,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_hold, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_since_unchanged,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_global, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_category_then_global_in,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_apply_invalid, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_history, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_feed, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_state, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_import, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_import_all_or_nothing,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_apply_fills_last,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_number_forms, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/optout", tests, NULL, NULL);
}
