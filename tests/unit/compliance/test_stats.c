/*
 * Opt-out statistics from a real store's history: totals, counts by
 * category (all counted as "all"), source, day and what was sent last,
 * sorted (most first; days by day), --since, and their JSON lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/compliance/stats.h"
#include "tests/unit/compliance/compliance_fixture.h"

#define DAY	86400
#define T0	1795651200	/* 2026-11-26T00:00:00Z */

static void
add(struct cfx *f, const char *number, int64_t t, enum store_action action,
    const char *category, enum store_source source)
{
	struct store_event	 ev;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.number, sizeof(ev.number), "%s", number);
	ev.time = t;
	ev.action = action;
	ev.source = source;
	if (category == NULL)
		ev.all = true;
	else {
		ev.ncategories = 1;
		snprintf(ev.categories[0], STORE_NAME_MAX, "%s", category);
	}
	if (action == STORE_OPT_IN)
		snprintf(ev.consent, sizeof(ev.consent), "form");
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
}

/* The count of key in dimension d, or 0. */
static size_t
count(const struct stats *s, enum stats_dim d, const char *key)
{
	size_t	 i;

	for (i = 0; i < s->by[d].n; i++)
		if (strcmp(s->by[d].t[i].key, key) == 0)
			return s->by[d].t[i].n;
	return 0;
}

static void
test_collect(void **state)
{
	struct cfx		*f = *state;
	struct compliance_err	 err;
	struct stats		 s;

	add(f, "15550000001", T0 + DAY, STORE_OPT_OUT, "promo",
	    STORE_SRC_STAFF);
	add(f, "15550000002", T0, STORE_OPT_OUT, "promo", STORE_SRC_API);
	add(f, "15550000003", T0 + DAY, STORE_OPT_OUT, NULL, STORE_SRC_API);
	add(f, "15550000002", T0 + DAY, STORE_OPT_IN, "promo",
	    STORE_SRC_STAFF);
	assert_int_equal(stats_collect(f->st, 0, &s, &err), 0);
	assert_int_equal(s.opt_outs, 3);
	assert_int_equal(s.opt_ins, 1);
	assert_int_equal(count(&s, STATS_BY_CATEGORY, "promo"), 2);
	assert_int_equal(count(&s, STATS_BY_CATEGORY, "all"), 1);
	/* Most first. */
	assert_string_equal(s.by[STATS_BY_CATEGORY].t[0].key, "promo");
	assert_string_equal(s.by[STATS_BY_SOURCE].t[0].key, "api");
	assert_int_equal(count(&s, STATS_BY_LAST_SENT,
	    "(nothing sent before)"), 3);
	/* Days by day, although the later one has more. */
	assert_int_equal(s.by[STATS_BY_DAY].n, 2);
	assert_string_equal(s.by[STATS_BY_DAY].t[0].key, "2026-11-26");
	assert_string_equal(s.by[STATS_BY_DAY].t[1].key, "2026-11-27");
	stats_free(&s);
	assert_null(s.by[STATS_BY_DAY].t);
	/* Since the second day. */
	assert_int_equal(stats_collect(f->st, T0 + DAY, &s, &err), 0);
	assert_int_equal(s.opt_outs, 2);
	assert_int_equal(count(&s, STATS_BY_SOURCE, "api"), 1);
	stats_free(&s);
}

static void
test_json(void **state)
{
	struct stats_tally	 t = { "promo", 2 };
	struct stats		 s;
	char			*buf;
	FILE			*fp;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.opt_outs = 3;
	s.opt_ins = 1;
	CFX_CAPTURE(buf, fp, {
		stats_totals_json(fp, &s);
		stats_tally_json(fp, STATS_BY_LAST_SENT, &t);
	});
	assert_string_equal(buf, "{\"opt_outs\":3,\"opt_ins\":1}"
	    "{\"by\":\"last_sent\",\"key\":\"promo\",\"opt_outs\":2}");
	free(buf);
	assert_string_equal(stats_dim_name(STATS_BY_DAY), "day");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_collect, cfx_setup,
		    cfx_teardown),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("proxy/compliance/stats", tests,
	    NULL, NULL);
}
