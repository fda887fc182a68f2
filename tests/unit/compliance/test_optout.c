/*
 * The staff operations on a real store: a number's status per category,
 * an opt-out and an opt-in (consent required, the daemon's attribution
 * named, nothing written when refused), and review items resolved (the
 * stop_scope of the number written to, a given scope, dismissal, twice,
 * no such item).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/compliance/optout.h"
#include "tests/unit/compliance/compliance_fixture.h"

#define NUM	"15550001111"

struct seen {
	char	 cats[4][STORE_NAME_MAX];
	bool	 is_blocked[4];
	size_t	 n;
};

static int
status_cb(const char *category, bool is_blocked,
    const struct store_block *why, void *arg)
{
	struct seen	*s = arg;

	(void)why;
	snprintf(s->cats[s->n], STORE_NAME_MAX, "%s", category);
	s->is_blocked[s->n++] = is_blocked;
	return 0;
}

static bool
lastsent_cb(void *arg, const char *number, struct store_lastsent *out)
{
	int	*calls = arg;

	(*calls)++;
	assert_string_equal(number, NUM);
	memset(out, 0, sizeof(*out));
	out->time = 1000;
	snprintf(out->account, sizeof(out->account), "marketing");
	snprintf(out->category, sizeof(out->category), "promo");
	return true;
}

static void
mk_request(struct optout_request *rq, enum store_action action,
    const char *number)
{
	memset(rq, 0, sizeof(*rq));
	rq->action = action;
	rq->number = number;
	rq->act.source = STORE_SRC_STAFF;
	rq->act.actor = "dana";
	rq->act.now = 2000;
}

static void
test_record_and_status(void **state)
{
	static const char *const promo[] = { "promo" };
	struct cfx		*f = *state;
	struct optout_request	 rq;
	struct compliance_err	 err;
	struct store_event	 ev;
	struct seen		 s;
	int			 calls = 0;

	mk_request(&rq, STORE_OPT_OUT, "(555) 000-1111");
	rq.act.categories = promo;
	rq.act.ncategories = 1;
	rq.act.note = "by phone";
	rq.act.lastsent = lastsent_cb;
	rq.act.lastsent_arg = &calls;
	assert_int_equal(optout_record(f->st, f->cfg, &rq, &ev, &err), 0);
	assert_true(ev.id > 0);
	assert_string_equal(ev.number, NUM);
	assert_string_equal(ev.note, "by phone");
	assert_string_equal(ev.actor, "dana");
	assert_int_equal(ev.time, 2000);
	assert_int_equal(calls, 1);
	assert_string_equal(ev.last.account, "marketing");
	memset(&s, 0, sizeof(s));
	assert_int_equal(optout_status(f->st, f->cfg, NUM, status_cb, &s,
	    &err), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.cats[0], "promo");
	assert_true(s.is_blocked[0]);
	assert_false(s.is_blocked[1]);
	/* An opt-in: consent required, and no attribution asked for. */
	mk_request(&rq, STORE_OPT_IN, NUM);
	rq.act.all = true;
	rq.act.lastsent = lastsent_cb;
	rq.act.lastsent_arg = &calls;
	assert_int_equal(optout_record(f->st, f->cfg, &rq, &ev, &err), -1);
	assert_int_equal(err.code, COMPLIANCE_E_INPUT);
	assert_non_null(strstr(err.msg, "consent"));
	rq.consent = "signed form";
	assert_int_equal(optout_record(f->st, f->cfg, &rq, &ev, &err), 0);
	assert_int_equal(calls, 1);
	assert_string_equal(ev.consent, "signed form");
	memset(&s, 0, sizeof(s));
	assert_int_equal(optout_status(f->st, f->cfg, NUM, status_cb, &s,
	    &err), 0);
	assert_false(s.is_blocked[0]);
}

static int
history_count(const struct store_event *ev, void *arg)
{
	(void)ev;
	(*(size_t *)arg)++;
	return 0;
}

static void
test_record_refused(void **state)
{
	static const char *const nosuch[] = { "nosuch" };
	struct cfx		*f = *state;
	struct optout_request	 rq;
	struct compliance_err	 err;
	struct store_event	 ev;
	char			 longnote[300];
	size_t			 n = 0;

	mk_request(&rq, STORE_OPT_OUT, NUM);
	assert_int_equal(optout_record(f->st, f->cfg, &rq, &ev, &err), -1);
	assert_non_null(strstr(err.msg, "categories"));		/* no scope */
	rq.act.categories = nosuch;
	rq.act.ncategories = 1;
	assert_int_equal(optout_record(f->st, f->cfg, &rq, &ev, &err), -1);
	assert_non_null(strstr(err.msg, "unknown category"));
	rq.act.ncategories = 0;
	rq.act.all = true;
	memset(longnote, 'x', sizeof(longnote) - 1);
	longnote[sizeof(longnote) - 1] = '\0';
	rq.act.note = longnote;
	assert_int_equal(optout_record(f->st, f->cfg, &rq, &ev, &err), -1);
	assert_string_equal(err.msg, "note longer than 255 bytes");
	rq.act.note = NULL;
	rq.number = "not a number";
	assert_int_equal(optout_record(f->st, f->cfg, &rq, &ev, &err), -1);
	assert_non_null(strstr(err.msg, "not a phone number"));
	assert_int_equal(store_history(f->st, NUM, history_count, &n), 0);
	assert_int_equal(n, 0);
}

/* Queue an item from NUM written to inbound. */
static uint64_t
add_review(struct cfx *f, const char *inbound)
{
	struct store_review	 rv;

	memset(&rv, 0, sizeof(rv));
	rv.time = 1000;
	snprintf(rv.number, sizeof(rv.number), NUM);
	snprintf(rv.inbound, sizeof(rv.inbound), "%s", inbound);
	snprintf(rv.account, sizeof(rv.account), "marketing");
	snprintf(rv.text, sizeof(rv.text), "please stop");
	assert_int_equal(store_review_add(f->st, &rv), 0);
	return rv.id;
}

static void
mk_resolution(struct optout_resolution *rs, uint64_t id,
    enum store_review_status decision)
{
	memset(rs, 0, sizeof(*rs));
	rs->id = id;
	rs->decision = decision;
	rs->act.source = STORE_SRC_API;
	rs->act.actor = "carol";
	rs->act.note = "asked to stop";
	rs->act.now = 3000;
}

static void
test_resolve_optout(void **state)
{
	static const char *const billing[] = { "billing" };
	struct cfx		*f = *state;
	struct optout_resolution rs;
	struct compliance_err	 err;
	struct store_review	 rv;
	struct store_event	 ev;
	uint64_t		 id;

	/* 12345 stops promo only: the default scope. */
	id = add_review(f, "12345");
	mk_resolution(&rs, id, STORE_REVIEW_OPTED_OUT);
	assert_int_equal(optout_review_resolve(f->st, f->cfg, &rs, &rv, &ev,
	    &err), 0);
	assert_int_equal(rv.status, STORE_REVIEW_OPTED_OUT);
	assert_string_equal(rv.actor, "carol");
	assert_int_equal(rv.event_id, ev.id);
	assert_false(ev.all);
	assert_int_equal(ev.ncategories, 1);
	assert_string_equal(ev.categories[0], "promo");
	assert_string_equal(ev.rule, "review");
	assert_string_equal(ev.text, "please stop");
	assert_int_equal(ev.source, STORE_SRC_API);
	/* Twice: a conflict. */
	assert_int_equal(optout_review_resolve(f->st, f->cfg, &rs, &rv, &ev,
	    &err), -1);
	assert_int_equal(err.code, COMPLIANCE_E_CONFLICT);
	assert_non_null(strstr(err.msg, "already resolved by carol"));
	/* 15550100 stops all; a given scope wins. */
	id = add_review(f, "15550100");
	mk_resolution(&rs, id, STORE_REVIEW_OPTED_OUT);
	rs.act.categories = billing;
	rs.act.ncategories = 1;
	assert_int_equal(optout_review_resolve(f->st, f->cfg, &rs, &rv, &ev,
	    &err), 0);
	assert_false(ev.all);
	assert_string_equal(ev.categories[0], "billing");
	id = add_review(f, "15550100");
	mk_resolution(&rs, id, STORE_REVIEW_OPTED_OUT);
	assert_int_equal(optout_review_resolve(f->st, f->cfg, &rs, &rv, &ev,
	    &err), 0);
	assert_true(ev.all);
}

static void
test_resolve_refused(void **state)
{
	struct cfx		*f = *state;
	struct optout_resolution rs;
	struct compliance_err	 err;
	struct store_review	 rv;
	struct store_event	 ev;
	uint64_t		 id;

	id = add_review(f, "12345");
	mk_resolution(&rs, 999, STORE_REVIEW_DISMISSED);
	assert_int_equal(optout_review_resolve(f->st, f->cfg, &rs, &rv, &ev,
	    &err), -1);
	assert_int_equal(err.code, COMPLIANCE_E_NOTFOUND);
	mk_resolution(&rs, id, STORE_REVIEW_DISMISSED);
	rs.act.note = "";
	assert_int_equal(optout_review_resolve(f->st, f->cfg, &rs, &rv, &ev,
	    &err), -1);
	assert_int_equal(err.code, COMPLIANCE_E_INPUT);
	assert_non_null(strstr(err.msg, "note"));
	mk_resolution(&rs, id, STORE_REVIEW_DISMISSED);
	rs.act.all = true;
	assert_int_equal(optout_review_resolve(f->st, f->cfg, &rs, &rv, &ev,
	    &err), -1);
	assert_non_null(strstr(err.msg, "opt-out decision only"));
	/* Still open; then dismissed. */
	assert_int_equal(store_review_get(f->st, id, &rv), 1);
	assert_int_equal(rv.status, STORE_REVIEW_OPEN);
	rs.act.all = false;
	assert_int_equal(optout_review_resolve(f->st, f->cfg, &rs, &rv, &ev,
	    &err), 0);
	assert_int_equal(rv.status, STORE_REVIEW_DISMISSED);
	assert_int_equal(rv.event_id, 0);
	assert_int_equal(ev.id, 0);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, cfx_setup, cfx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_record_and_status),
		T(test_record_refused),
		T(test_resolve_optout),
		T(test_resolve_refused),
	};
#undef T

	return cmocka_run_group_tests_name("proxy/compliance/optout", tests,
	    NULL, NULL);
}
