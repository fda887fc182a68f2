/*
 * Reconnect backoff: bounds, growth, cap, jitter and reset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "proxy/policy/backoff.h"

static void
test_first_delay_is_min(void **state)
{
	struct backoff	b;

	(void)state;
	/* base = min: the range [max(min, min/2), min] is min alone. */
	for (uint64_t seed = 1; seed < 50; seed++) {
		backoff_init(&b, 1000, 60000, seed);
		assert_int_equal(backoff_next(&b), 1000);
	}
}

static void
test_bounds_per_attempt(void **state)
{
	struct backoff	b;
	unsigned	d, base;

	(void)state;
	for (uint64_t seed = 1; seed < 200; seed++) {
		backoff_init(&b, 100, 5000, seed * 7919);
		base = 100;
		for (int n = 0; n < 20; n++) {
			d = backoff_next(&b);
			assert_true(d <= base);
			assert_true(d >= 100);
			assert_true(d >= base / 2);
			assert_true(d <= 5000);
			base = base * 2 > 5000 ? 5000 : base * 2;
		}
	}
}

static void
test_cap_reached_and_held(void **state)
{
	struct backoff	b;
	unsigned	d = 0;

	(void)state;
	backoff_init(&b, 10, 640, 42);
	for (int n = 0; n < 100; n++)
		d = backoff_next(&b);
	assert_true(d >= 320 && d <= 640);
	/* Many attempts must not overflow the shift. */
	for (int n = 0; n < 1000; n++) {
		d = backoff_next(&b);
		assert_true(d >= 320 && d <= 640);
	}
}

static void
test_jitter_spreads(void **state)
{
	struct backoff	b;
	unsigned	lo = ~0u, hi = 0, d;

	(void)state;
	/* At the cap the delay must not be one fixed value. */
	for (uint64_t seed = 1; seed <= 100; seed++) {
		backoff_init(&b, 100, 1600, seed);
		for (int n = 0; n < 6; n++)
			d = backoff_next(&b);
		d = backoff_next(&b);
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	assert_true(hi - lo > 400);
}

static void
test_reset(void **state)
{
	struct backoff	b;

	(void)state;
	backoff_init(&b, 50, 10000, 3);
	for (int n = 0; n < 10; n++)
		(void)backoff_next(&b);
	backoff_reset(&b);
	assert_int_equal(backoff_next(&b), 50);
	assert_true(backoff_next(&b) <= 100);
}

static void
test_odd_bounds(void **state)
{
	struct backoff	b;

	(void)state;
	backoff_init(&b, 0, 0, 0);	/* clock seed; min 0 -> 1 */
	assert_int_equal(backoff_next(&b), 1);
	assert_int_equal(backoff_next(&b), 1);
	backoff_init(&b, 500, 100, 9);	/* max below min -> min */
	for (int n = 0; n < 5; n++)
		assert_int_equal(backoff_next(&b), 500);
	backoff_set_bounds(&b, 10, 20);
	for (int n = 0; n < 5; n++) {
		unsigned d = backoff_next(&b);

		assert_true(d >= 10 && d <= 20);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_delay_is_min),
		cmocka_unit_test(test_bounds_per_attempt),
		cmocka_unit_test(test_cap_reached_and_held),
		cmocka_unit_test(test_jitter_spreads),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_odd_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
