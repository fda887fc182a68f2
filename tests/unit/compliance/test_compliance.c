/*
 * The checks of staff input: numbers normalised with the config's rules,
 * decimal ids, a scope (all or categories: both refused, neither refused
 * when required, unknown names, a name twice, too many), audit filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/compliance/compliance.h"
#include "proxy/compliance/series.h"
#include "store/store.h"
#include "tests/unit/compliance/compliance_fixture.h"

static int
setup(void **state)
{
	*state = cfx_config();
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	config_free(*state);
	return 0;
}

static void
test_number(void **state)
{
	struct compliance_err	 err;
	char			 num[STORE_NUMBER_MAX];

	assert_int_equal(compliance_number(*state, "+1 (555) 000-1111", num,
	    sizeof(num), &err), 0);
	assert_string_equal(num, "15550001111");
	assert_int_equal(compliance_number(*state, "555-000-1111", num,
	    sizeof(num), &err), 0);
	assert_string_equal(num, "15550001111");
	assert_int_equal(compliance_number(*state, "hello", num, sizeof(num),
	    &err), -1);
	assert_int_equal(err.code, COMPLIANCE_E_INPUT);
	assert_string_equal(err.msg, "not a phone number: \"hello\"");
}

static void
test_ids(void **state)
{
	struct compliance_err	 err;
	uint64_t		 v;

	(void)state;
	assert_int_equal(compliance_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(compliance_u64("18446744073709551616", &v), -1);
	assert_int_equal(compliance_u64("-1", &v), -1);
	assert_int_equal(compliance_u64("", &v), -1);
	assert_int_equal(compliance_u64(NULL, &v), -1);
	assert_int_equal(compliance_u64("12a", &v), -1);
	assert_int_equal(compliance_review_id("42", &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(compliance_review_id("0", &v, &err), -1);
	assert_int_equal(compliance_review_id("x", &v, &err), -1);
	assert_int_equal(err.code, COMPLIANCE_E_INPUT);
	assert_non_null(strstr(err.msg, "not a number"));
}

static void
test_scope(void **state)
{
	static const char *const twice[] = { "promo", "billing", "promo" };
	static const char *const bad[] = { "promo", "nosuch" };
	struct compliance_err	 err;
	struct store_event	 ev;
	bool			 given;

	memset(&ev, 0, sizeof(ev));
	assert_int_equal(compliance_scope(*state, false, twice, 3, true, &ev,
	    &given, &err), 0);
	assert_true(given);
	assert_false(ev.all);
	assert_int_equal(ev.ncategories, 2);
	assert_string_equal(ev.categories[1], "billing");
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(compliance_scope(*state, true, NULL, 0, true, &ev,
	    &given, &err), 0);
	assert_true(ev.all);
	assert_int_equal(compliance_scope(*state, true, twice, 1, true, &ev,
	    &given, &err), -1);
	assert_non_null(strstr(err.msg, "not both"));
	assert_int_equal(compliance_scope(*state, false, NULL, 0, true, &ev,
	    &given, &err), -1);
	assert_non_null(strstr(err.msg, "categories"));
	/* Not required: nothing given leaves ev alone. */
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(compliance_scope(*state, false, NULL, 0, false, &ev,
	    &given, &err), 0);
	assert_false(given);
	assert_false(ev.all);
	assert_int_equal(ev.ncategories, 0);
	assert_int_equal(compliance_scope(*state, false, bad, 2, true, &ev,
	    &given, &err), -1);
	assert_int_equal(err.code, COMPLIANCE_E_INPUT);
	assert_string_equal(err.msg, "unknown category \"nosuch\"");
}

static void
test_scope_full(void **state)
{
	static const char *const names[] = { "promo", "billing" };
	struct compliance_err	 err;
	struct store_event	 ev;
	size_t			 i;
	bool			 given;

	/* A scope already full: one more distinct name is refused. */
	memset(&ev, 0, sizeof(ev));
	for (i = 0; i < STORE_SCOPE_MAX; i++)
		snprintf(ev.categories[i], STORE_NAME_MAX, "c%zu", i);
	ev.ncategories = STORE_SCOPE_MAX;
	assert_int_equal(compliance_scope(*state, false, names, 2, true, &ev,
	    &given, &err), -1);
	assert_non_null(strstr(err.msg, "more than"));
}

static void
test_audit_filter(void **state)
{
	struct compliance_audit_query	 q;
	struct store_audit_filter	 f;
	struct compliance_err		 err;
	char				 num[STORE_NUMBER_MAX];

	memset(&q, 0, sizeof(q));
	q.since = "2026-11-26";
	q.until = "2026-11-27T00:00:00Z";
	q.number = "(555) 000-1111";
	q.account = "marketing";
	q.category = "promo";
	assert_int_equal(compliance_audit_filter(*state, &q, &f, num, &err),
	    0);
	assert_int_equal(f.since, 1795651200);
	assert_int_equal(f.until, 1795651200 + 86400);
	assert_string_equal(f.number, "15550001111");
	assert_string_equal(f.account, "marketing");
	assert_string_equal(f.category, "promo");
	q.since = "yesterday";
	assert_int_equal(compliance_audit_filter(*state, &q, &f, num, &err),
	    -1);
	assert_string_equal(err.msg, "since \"yesterday\" is not RFC 3339");
	q.since = NULL;
	q.category = "nope";
	assert_int_equal(compliance_audit_filter(*state, &q, &f, num, &err),
	    -1);
	assert_non_null(strstr(err.msg, "unknown category"));
	q.category = NULL;
	q.number = "x";
	assert_int_equal(compliance_audit_filter(*state, &q, &f, num, &err),
	    -1);
	assert_non_null(strstr(err.msg, "phone number"));
	memset(&q, 0, sizeof(q));
	assert_int_equal(compliance_audit_filter(*state, &q, &f, num, &err),
	    0);
	assert_null(f.number);
	assert_int_equal(f.since, 0);
}

/* A reason filter takes store_audit_reason_name's names only. */
static void
test_audit_reason(void **state)
{
	struct store_audit_filter	 f;
	struct compliance_err		 err;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(compliance_audit_reason(NULL, &f, &err), 0);
	assert_null(f.reason);
	assert_int_equal(compliance_audit_reason("quiet_hours", &f, &err), 0);
	assert_string_equal(f.reason, "quiet_hours");
	assert_int_equal(compliance_audit_reason("frequency_cap", &f, &err),
	    0);
	assert_string_equal(f.reason, "frequency_cap");
	assert_int_equal(compliance_audit_reason("spam", &f, &err), -1);
	assert_int_equal(err.code, COMPLIANCE_E_INPUT);
	assert_non_null(strstr(err.msg, "opted_out"));
}

/* The overview's rejected statuses named by the config's reasons. */
static void
test_series_reason(void **state)
{
	const struct config	*cfg = *state;

	assert_string_equal(series_reason_of(cfg, 0x401), "opted_out");
	assert_string_equal(series_reason_of(cfg, 0x402), "frequency_cap");
	assert_string_equal(series_reason_of(cfg, 0x403), "quiet_hours");
	assert_null(series_reason_of(cfg, 0x58));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_scope_full),
		cmocka_unit_test(test_audit_filter),
		cmocka_unit_test(test_audit_reason),
		cmocka_unit_test(test_series_reason),
	};

	return cmocka_run_group_tests_name("proxy/compliance/compliance",
	    tests, setup, teardown);
}
