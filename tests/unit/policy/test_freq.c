/*
 * proxy/policy/freq and quiet: the cap arithmetic, the edges of the
 * rolling window, LESS, and local time across DST changes (America/
 * New_York and Europe/London, spring forward and fall back) from the
 * system's tzdata.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "proxy/policy/freq.h"
#include "proxy/policy/quiet.h"

#define DAY	86400
#define T0	INT64_C(1800000000)	/* 2027: slots count from 2020 */

static const struct config_frequency promo = {
	.category = 0, .max = 3, .per_s = 7 * DAY,
	.has_less = true, .less_max = 1, .less_per_s = 7 * DAY,
};

static void
test_count_in_window_edges(void **state)
{
	int64_t	t[] = { 100, 200, 300 };

	(void)state;
	/* (now - per, now]: a time exactly per ago has left. */
	assert_int_equal(freq_count_in(t, 3, 300, 200), 2);
	assert_int_equal(freq_count_in(t, 3, 299, 200), 3);
	assert_int_equal(freq_count_in(t, 3, 300, 1), 1);
	assert_int_equal(freq_count_in(t, 3, 1000, 100), 0);
	/* A clock stepped back still counts what was sent. */
	assert_int_equal(freq_count_in(t, 3, 50, 100), 3);
	assert_int_equal(freq_count_in(t, 0, 50, 100), 0);
}

static void
test_take_cap_and_window(void **state)
{
	struct freq_table	*t = freq_new();
	int64_t			 retry = 0, now = T0;
	bool			 is_less;

	(void)state;
	assert_non_null(t);
	assert_int_equal(freq_take(t, "15550001", "promo", &promo, now, NULL),
	    1);
	assert_int_equal(freq_take(t, "15550001", "promo", &promo, now + 10,
	    NULL), 1);
	assert_int_equal(freq_left(t, "15550001", "promo", &promo, now + 10,
	    &is_less), 1);
	assert_false(is_less);
	assert_int_equal(freq_take(t, "15550001", "promo", &promo, now + 20,
	    NULL), 1);
	assert_int_equal(freq_take(t, "15550001", "promo", &promo, now + 30,
	    &retry), 0);
	/* Free again when the oldest leaves: exactly 7 days after it. */
	assert_int_equal(retry, now + 7 * DAY);
	assert_int_equal(freq_take(t, "15550001", "promo", &promo,
	    now + 7 * DAY - 1, NULL), 0);
	assert_int_equal(freq_take(t, "15550001", "promo", &promo,
	    now + 7 * DAY, NULL), 1);
	/* Another number and another category count apart. */
	assert_int_equal(freq_take(t, "15550002", "promo", &promo, now, NULL),
	    1);
	assert_int_equal(freq_take(t, "15550001", "billing", &promo, now,
	    NULL), 1);
	assert_int_equal(freq_size(t), 3);
	freq_free(t);
}

static void
test_untake_and_less(void **state)
{
	struct freq_table	*t = freq_new();
	int64_t			 now = T0 + 5000;
	bool			 is_less;

	(void)state;
	assert_int_equal(freq_take(t, "1", "promo", &promo, now, NULL), 1);
	/* The SMSC refused it: not counted. */
	freq_untake(t, "1", "promo", now);
	assert_int_equal(freq_left(t, "1", "promo", &promo, now, &is_less), 3);
	assert_int_equal(freq_set_less(t, "1", "promo", true), 0);
	assert_true(freq_is_less(t, "1", "promo"));
	assert_int_equal(freq_left(t, "1", "promo", &promo, now, &is_less), 1);
	assert_true(is_less);
	assert_int_equal(freq_take(t, "1", "promo", &promo, now, NULL), 1);
	assert_int_equal(freq_take(t, "1", "promo", &promo, now + 1, NULL),
	    0);
	/* START ends LESS: the plain cap again, the send still counted. */
	assert_int_equal(freq_set_less(t, "1", "promo", false), 0);
	assert_int_equal(freq_left(t, "1", "promo", &promo, now + 1,
	    &is_less), 2);
	freq_free(t);
}

static void
test_load_sweep_and_shrink(void **state)
{
	struct freq_table	*t = freq_new();
	struct config_frequency	 small = promo;
	int64_t			 times[] = { T0 + 10, T0 + 20, T0 + 30,
	    T0 + 40, T0 + 50 };
	bool			 is_less;
	int			 i;
	char			 num[16];

	(void)state;
	/* Only the newest max are kept. */
	assert_int_equal(freq_load(t, "1", "promo", &promo, times, 5), 0);
	assert_int_equal(freq_left(t, "1", "promo", &promo, T0 + 60,
	    &is_less), 0);
	/* A smaller cap (SIGHUP) counts at the next send. */
	small.max = 2;
	small.less_max = 1;
	assert_int_equal(freq_take(t, "1", "promo", &small, T0 + 60, NULL),
	    0);
	/* Many numbers: the table grows and the sweep drops old ones. */
	for (i = 0; i < 5000; i++) {
		snprintf(num, sizeof(num), "1555%07d", i);
		assert_int_equal(freq_take(t, num, "promo", &promo, T0 + 100,
		    NULL), 1);
	}
	assert_int_equal(freq_size(t), 5001);
	assert_int_equal(freq_set_less(t, "15550000007", "promo", true), 0);
	while (freq_sweep(t, T0 + 1000, 100000) > 0)
		;
	/* The LESS one stays, and is found after the shifts. */
	assert_int_equal(freq_size(t), 1);
	assert_true(freq_is_less(t, "15550000007", "promo"));
	freq_free(t);
}

static void
test_quiet_minutes(void **state)
{
	struct config_quiet	 night = { 0, 21 * 60, 8 * 60 };
	struct config_quiet	 lunch = { 0, 12 * 60, 13 * 60 };

	(void)state;
	assert_true(quiet_minute_inside(&night, 21 * 60));
	assert_true(quiet_minute_inside(&night, 23 * 60));
	assert_true(quiet_minute_inside(&night, 0));
	assert_true(quiet_minute_inside(&night, 8 * 60 - 1));
	assert_false(quiet_minute_inside(&night, 8 * 60));
	assert_false(quiet_minute_inside(&night, 21 * 60 - 1));
	assert_true(quiet_minute_inside(&lunch, 12 * 60));
	assert_false(quiet_minute_inside(&lunch, 13 * 60));
	assert_int_equal(quiet_local_minute(0, 0), 0);
	assert_int_equal(quiet_local_minute(0, -5 * 3600), 19 * 60);
	assert_int_equal(quiet_local_minute(59, 0), 0);
	assert_int_equal(quiet_local_minute(60, 3600), 61);
}

/* Offset of zone at t, from a table built around t. */
static int32_t
off_at(const char *zone, int64_t t)
{
	struct quiet_zones	*z = quiet_zones_build_one(zone, t);
	int32_t			 off = 1;

	assert_non_null(z);
	assert_int_equal(quiet_offset(z, zone, t, &off), 0);
	quiet_zones_free(z);
	return off;
}

static void
test_dst_new_york(void **state)
{
	/* 2026-03-08 07:00:00 UTC: 02:00 EST becomes 03:00 EDT. */
	int64_t			 spring = 1772953200;
	/* 2026-11-01 06:00:00 UTC: 02:00 EDT becomes 01:00 EST. */
	int64_t			 fall = 1793512800;
	struct quiet_zones	*z;
	int32_t			 off;

	(void)state;
	assert_int_equal(off_at("America/New_York", spring - 1), -5 * 3600);
	assert_int_equal(off_at("America/New_York", spring), -4 * 3600);
	assert_int_equal(off_at("America/New_York", fall - 1), -4 * 3600);
	assert_int_equal(off_at("America/New_York", fall), -5 * 3600);
	/* One table covers both changes, pinned to the second. */
	z = quiet_zones_build_one("America/New_York", spring - 2 * DAY);
	assert_non_null(z);
	assert_int_equal(quiet_offset(z, "America/New_York", spring - 1,
	    &off), 0);
	assert_int_equal(off, -5 * 3600);
	assert_int_equal(quiet_offset(z, "America/New_York", spring, &off),
	    0);
	assert_int_equal(off, -4 * 3600);
	assert_int_equal(quiet_offset(z, "America/New_York", fall, &off), 0);
	assert_int_equal(off, -5 * 3600);
	/* Local 01:30 comes twice on the fall-back day. */
	assert_int_equal(quiet_local_minute(fall - 1800, -4 * 3600), 90);
	assert_int_equal(quiet_local_minute(fall + 1800, -5 * 3600), 90);
	assert_int_equal(quiet_offset(z, "Europe/London", fall, &off), -1);
	quiet_zones_free(z);
}

static void
test_dst_london(void **state)
{
	/* 2026-03-29 01:00:00 UTC: 01:00 GMT becomes 02:00 BST. */
	int64_t	spring = 1774746000;
	/* 2026-10-25 01:00:00 UTC: 02:00 BST becomes 01:00 GMT. */
	int64_t	fall = 1792890000;
	struct config_quiet night = { 0, 21 * 60, 8 * 60 };

	(void)state;
	assert_int_equal(off_at("Europe/London", spring - 1), 0);
	assert_int_equal(off_at("Europe/London", spring), 3600);
	assert_int_equal(off_at("Europe/London", fall - 1), 3600);
	assert_int_equal(off_at("Europe/London", fall), 0);
	/* 07:30 UTC in summer is 08:30 BST: outside 21:00-08:00. */
	assert_false(quiet_minute_inside(&night,
	    quiet_local_minute(spring + 6 * 3600 + 1800, 3600)));
	/* The same UTC time the day before is 07:30 GMT: inside. */
	assert_true(quiet_minute_inside(&night,
	    quiet_local_minute(spring - DAY + 6 * 3600 + 1800, 0)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_in_window_edges),
		cmocka_unit_test(test_take_cap_and_window),
		cmocka_unit_test(test_untake_and_less),
		cmocka_unit_test(test_load_sweep_and_shrink),
		cmocka_unit_test(test_quiet_minutes),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_dst_london),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
