/*
 * store/freq: capped send times kept newest-first-bounded, loaded past a
 * horizon and pruned; LESS set by a less event and ended by an opt-in in
 * the event's transaction; audit records with a preference reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/freq.h"
#include "tests/unit/store/store_fixture.h"

struct seen {
	size_t	 n;
	size_t	 ntimes[4];
	int64_t	 first[4];
};

static int
collect(const char *number, const char *category, const int64_t *times,
    size_t n, void *arg)
{
	struct seen *s = arg;

	(void)number;
	(void)category;
	if (s->n < 4) {
		s->ntimes[s->n] = n;
		s->first[s->n] = times[0];
	}
	s->n++;
	return 0;
}

static void
entry(struct store_freq_entry *e, const char *num, int64_t t)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->number, sizeof(e->number), "%s", num);
	snprintf(e->category, sizeof(e->category), "promo");
	e->time = t;
}

static void
test_counts(void **state)
{
	struct fx		*f = *state;
	struct store_freq_entry	 e[6];
	struct store_batch	 b;
	struct seen		 s;
	int64_t			 times[8];
	size_t			 n, nbad = 0, done;
	int			 i;

	entry(&e[0], "15550100002", 500);
	for (i = 1; i < 6; i++)
		entry(&e[i], "15550100001", 1000 + i * 10);
	/* Two batches: a record each. */
	memset(&b, 0, sizeof(b));
	b.freq = e;
	b.nfreq = 1;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	b.freq = e + 1;
	b.nfreq = 5;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	assert_int_equal(nbad, 0);
	/* The newest cap asked for, oldest first. */
	assert_int_equal(store_freq_get(f->st, "15550100001", "promo", times,
	    3, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(times[0], 1030);
	assert_int_equal(times[2], 1050);
	/* Load skips what is before the horizon, one send at a time. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_freq_load(f->st, 1040, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ntimes[0], 1);
	assert_int_equal(s.first[0], 1040);
	/* Prune deletes the old front of the log, a record at a time. */
	assert_int_equal(store_freq_prune(f->st, 1000, 100, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(store_freq_get(f->st, "15550100002", "promo", times,
	    8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_freq_get(f->st, "15550100001", "promo", times,
	    8, &n), 0);
	assert_int_equal(n, 5);
	/* A bad entry costs itself only. */
	entry(&e[0], "", 10);
	b.freq = e;
	b.nfreq = 1;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	assert_int_equal(nbad, 1);
}

static void
event(struct store_event *ev, enum store_action a, bool all,
    const char *cat)
{
	memset(ev, 0, sizeof(*ev));
	ev->time = 1000;
	snprintf(ev->number, sizeof(ev->number), "15550100001");
	ev->action = a;
	ev->all = all;
	ev->source = STORE_SRC_SMS_KEYWORD;
	if (!all) {
		snprintf(ev->categories[0], sizeof(ev->categories[0]), "%s",
		    cat);
		ev->ncategories = 1;
	}
	if (a == STORE_OPT_IN)
		snprintf(ev->consent, sizeof(ev->consent), "sms keyword");
}

static void
test_less(void **state)
{
	struct fx		*f = *state;
	struct store_event	 ev;
	struct store_less	 l;
	struct store_block	 why;

	event(&ev, STORE_LESS, false, "promo");
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_less_get(f->st, "15550100001", "promo", &l), 1);
	assert_int_equal(l.event_id, ev.id);
	/* LESS is not an opt-out. */
	assert_int_equal(store_optout_check(f->st, "15550100001", "promo",
	    &why), 0);
	event(&ev, STORE_LESS, false, "billing");
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	/* START PROMO ends it for promo only. */
	event(&ev, STORE_OPT_IN, false, "promo");
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_less_get(f->st, "15550100001", "promo", &l), 0);
	assert_int_equal(store_less_get(f->st, "15550100001", "billing", &l),
	    1);
	/* ALL ends every one. */
	event(&ev, STORE_OPT_IN, true, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_less_get(f->st, "15550100001", "billing", &l),
	    0);
	/* A less event names its categories. */
	event(&ev, STORE_LESS, true, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), -1);
	assert_string_equal(store_action_name(STORE_LESS), "less");
}

static int
audit_cb(const struct store_audit *a, void *arg)
{
	enum store_audit_reason *r = arg;

	*r = a->reason;
	return 0;
}

static void
test_audit_reason(void **state)
{
	struct fx			*f = *state;
	struct store_audit		 a;
	struct store_audit_filter	 flt;
	enum store_audit_reason		 r = STORE_AUDIT_OPTED_OUT;
	struct store_batch		 b;
	size_t				 nbad;

	memset(&a, 0, sizeof(a));
	a.time = 1000;
	snprintf(a.account, sizeof(a.account), "marketing");
	snprintf(a.category, sizeof(a.category), "promo");
	snprintf(a.destination, sizeof(a.destination), "15550100001");
	a.status = 0x402;
	a.reason = STORE_AUDIT_FREQUENCY_CAP;
	memset(&b, 0, sizeof(b));
	b.audit = &a;
	b.naudit = 1;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	memset(&flt, 0, sizeof(flt));
	assert_int_equal(store_audit_query(f->st, &flt, audit_cb, &r), 0);
	assert_int_equal(r, STORE_AUDIT_FREQUENCY_CAP);
	assert_string_equal(store_audit_reason_name(STORE_AUDIT_QUIET_HOURS),
	    "quiet_hours");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_less, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_audit_reason, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/freq", tests, NULL, NULL);
}
