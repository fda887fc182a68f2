/*
 * The dashboard's series (proxy/compliance/series.c): the spike rule (a
 * day whose opt-outs exceed 3 x the median of the 28 days before), the
 * median of an even count, and the JSON written from a real store's
 * per-day counters: days in the window, opt-outs by category, rejected
 * sends by status, the STOP rate and the spike flags.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proxy/compliance/series.h"
#include "store/daily.h"
#include "tests/unit/compliance/compliance_fixture.h"

#define DAY	86400
#define NOW	(1795651200 + 12 * 3600)	/* 2026-11-26T12:00:00Z */

static void
test_median(void **state)
{
	uint64_t	 odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 };
	uint64_t	 one[] = { 7 };

	(void)state;
	assert_int_equal(series_median2(odd, 3), 6);
	assert_int_equal(series_median2(even, 4), 5);	/* (2 + 3) */
	assert_int_equal(series_median2(one, 1), 14);
	assert_int_equal(series_median2(NULL, 0), 0);
}

static void
test_spike_rule(void **state)
{
	uint64_t	 prev[SERIES_SPIKE_WINDOW], m2;
	size_t		 i;

	(void)state;
	for (i = 0; i < SERIES_SPIKE_WINDOW; i++)
		prev[i] = 2;
	/* Exceed, not reach: 6 is 3 x 2, 7 is more. */
	assert_false(series_is_spike(prev, SERIES_SPIKE_WINDOW, 6, &m2));
	assert_int_equal(m2, 4);
	assert_true(series_is_spike(prev, SERIES_SPIKE_WINDOW, 7, NULL));
	/* Half the days 1, half 2: the median is 1.5, 4.5 the bar. */
	for (i = 0; i < SERIES_SPIKE_WINDOW; i++)
		prev[i] = i % 2 ? 1 : 2;
	assert_false(series_is_spike(prev, SERIES_SPIKE_WINDOW, 4, &m2));
	assert_int_equal(m2, 3);
	assert_true(series_is_spike(prev, SERIES_SPIKE_WINDOW, 5, NULL));
	/* One loud day among the 28 does not move the median. */
	for (i = 0; i < SERIES_SPIKE_WINDOW; i++)
		prev[i] = i == 3 ? 500 : 10;
	assert_true(series_is_spike(prev, SERIES_SPIKE_WINDOW, 31, NULL));
	assert_false(series_is_spike(prev, SERIES_SPIKE_WINDOW, 30, NULL));
	/* Fewer days than the window: the missing ones count as 0. */
	assert_true(series_is_spike(prev, 10, 1, &m2));
	assert_int_equal(m2, 0);
	assert_false(series_is_spike(prev, 10, 0, NULL));
}

static void
add_optouts(struct cfx *f, int64_t t, const char *cat, size_t n,
    unsigned *num)
{
	struct store_event	 ev;
	size_t			 i;

	for (i = 0; i < n; i++) {
		memset(&ev, 0, sizeof(ev));
		snprintf(ev.number, sizeof(ev.number), "1555%07u", (*num)++);
		ev.time = t;
		ev.action = STORE_OPT_OUT;
		ev.source = STORE_SRC_STAFF;
		ev.ncategories = 1;
		snprintf(ev.categories[0], STORE_NAME_MAX, "%s", cat);
		assert_int_equal(store_optout_apply(f->st, &ev), 0);
	}
}

/* The series of days days at NOW, parsed. */
static json_t *
series_json(struct cfx *f, unsigned days)
{
	struct compliance_err	 err;
	json_error_t		 jerr;
	json_t			*j;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(series_write(f->st, NULL, NOW, days, fp, &err), 0);
	fclose(fp);
	j = json_loadb(buf, len, 0, &jerr);
	if (j == NULL)
		fprintf(stderr, "%s: %.300s\n", jerr.text, buf);
	free(buf);
	assert_non_null(j);
	return j;
}

static uint64_t
at(json_t *arr, size_t i)
{
	return (uint64_t)json_integer_value(json_array_get(arr, i));
}

static void
test_series_json(void **state)
{
	struct cfx		*f = *state;
	struct store_lastsent_entry ls[4];
	struct store_event	 ev;
	struct store_audit	 au;
	struct store_batch	 b;
	struct compliance_err	 err;
	json_t			*j, *sp, *rate;
	unsigned		 num = 1;
	size_t			 i, nbad;
	int			 d;

	/* 2 promo opt-outs a day on days -60..-8, 9 on day -3. */
	for (d = -60; d <= -8; d++)
		add_optouts(f, NOW + d * DAY, "promo", 2, &num);
	add_optouts(f, NOW - 3 * DAY, "promo", 9, &num);
	add_optouts(f, NOW - 3 * DAY, "billing", 1, &num);
	/* Today: 4 messages forwarded by marketing, one refused. */
	memset(ls, 0, sizeof(ls));
	for (i = 0; i < 4; i++) {
		snprintf(ls[i].number, sizeof(ls[i].number), "1777000000%zu",
		    i);
		snprintf(ls[i].last.account, STORE_NAME_MAX, "marketing");
		snprintf(ls[i].last.category, STORE_NAME_MAX, "promo");
		ls[i].last.time = NOW - 100;
	}
	memset(&au, 0, sizeof(au));
	au.time = NOW - 50;
	au.status = 0x401;
	snprintf(au.destination, sizeof(au.destination), "15550000001");
	snprintf(au.account, sizeof(au.account), "marketing");
	snprintf(au.category, sizeof(au.category), "promo");
	memset(&b, 0, sizeof(b));
	b.lastsent = ls;
	b.nlastsent = 4;
	b.audit = &au;
	b.naudit = 1;
	assert_int_equal(store_batch_put(f->st, &b, &nbad), 0);
	/* One of them replies STOP: attributed to marketing/promo. */
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.number, sizeof(ev.number), "17770000002");
	ev.time = NOW - 10;
	ev.action = STORE_OPT_OUT;
	ev.source = STORE_SRC_SMS_KEYWORD;
	ev.all = true;
	assert_int_equal(store_optout_apply(f->st, &ev), 0);

	j = series_json(f, 30);
	assert_string_equal(json_string_value(json_object_get(j, "to")),
	    "2026-11-26");
	assert_string_equal(json_string_value(json_object_get(j, "from")),
	    "2026-10-28");
	assert_int_equal(json_array_size(json_object_get(j, "days")), 30);
	assert_int_equal(at(json_object_get(j, "optouts"), 29 - 3), 10);
	assert_int_equal(at(json_object_get(j, "optouts"), 29 - 10), 2);
	assert_int_equal(at(json_object_get(j, "optouts"), 29 - 5), 0);
	assert_int_equal(at(json_object_get(json_object_get(j,
	    "optouts_by_category"), "promo"), 29 - 3), 9);
	assert_int_equal(at(json_object_get(json_object_get(j,
	    "optouts_by_category"), "*"), 29), 1);
	assert_int_equal(at(json_object_get(json_object_get(j, "rejected"),
	    "0x00000401"), 29), 1);
	/* Day -3: 10 > 3 x 2. Today: 1, median 2. Nothing else. */
	sp = json_object_get(j, "spikes");
	assert_int_equal(json_array_size(sp), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(sp, 0), "day")), "2026-11-23");
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(sp, 0), "index")), 26);
	rate = json_array_get(json_object_get(j, "stop_rate"), 0);
	assert_string_equal(json_string_value(json_object_get(rate,
	    "account")), "marketing");
	assert_int_equal(json_integer_value(json_object_get(rate,
	    "forwarded")), 4);
	assert_int_equal(json_integer_value(json_object_get(rate,
	    "attributed")), 1);
	assert_true(json_real_value(json_object_get(rate, "rate")) == 0.25);
	json_decref(j);

	/* The window ends today: day -3 is outside a 2-day window. */
	j = series_json(f, 2);
	assert_int_equal(json_array_size(json_object_get(j, "spikes")), 0);
	json_decref(j);
	assert_int_equal(series_write(f->st, NULL, NOW, 0, stdout, &err), -1);
	assert_int_equal(err.code, COMPLIANCE_E_INPUT);
	assert_int_equal(series_write(f->st, NULL, NOW, SERIES_DAYS_MAX + 1,
	    stdout, &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_spike_rule),
		cmocka_unit_test_setup_teardown(test_series_json, cfx_setup,
		    cfx_teardown),
	};

	return cmocka_run_group_tests_name("compliance/series", tests, NULL,
	    NULL);
}
