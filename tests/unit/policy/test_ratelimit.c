/*
 * proxy/ratelimit: token bucket with burst, driven by a fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proxy/policy/ratelimit.h"

static void
test_ratelimit_unlimited(void **state)
{
	struct ratelimit	rl;
	int			i;

	(void)state;
	ratelimit_init(&rl, 0, 0, 1000);
	for (i = 0; i < 10000; i++)
		assert_true(ratelimit_take(&rl, 1000));
}

static void
test_ratelimit_burst_then_rate(void **state)
{
	struct ratelimit	rl;
	int			i;

	(void)state;
	ratelimit_init(&rl, 10, 5, 1000);
	for (i = 0; i < 5; i++)
		assert_true(ratelimit_take(&rl, 1000));
	assert_false(ratelimit_take(&rl, 1000));
	/* 100 ms at 10/s earns one token */
	assert_true(ratelimit_take(&rl, 1100));
	assert_false(ratelimit_take(&rl, 1100));
	/* a long pause refills only up to the burst */
	for (i = 0; i < 5; i++)
		assert_true(ratelimit_take(&rl, 60000));
	assert_false(ratelimit_take(&rl, 60000));
}

static void
test_ratelimit_default_burst(void **state)
{
	struct ratelimit	rl;

	(void)state;
	ratelimit_init(&rl, 0.5, 0, 0);	/* burst max(1, rate) = 1 */
	assert_true(ratelimit_take(&rl, 0));
	assert_false(ratelimit_take(&rl, 1000));
	assert_true(ratelimit_take(&rl, 2000));
}

static void
test_ratelimit_refund_and_clock_back(void **state)
{
	struct ratelimit	rl;

	(void)state;
	ratelimit_init(&rl, 1, 1, 5000);
	assert_true(ratelimit_take(&rl, 5000));
	ratelimit_refund(&rl);
	assert_true(ratelimit_take(&rl, 5000));
	/* the clock going back earns nothing and does not underflow */
	assert_false(ratelimit_take(&rl, 1000));
	assert_true(ratelimit_take(&rl, 6000));
}

static void
test_ratelimit_update_keeps_tokens(void **state)
{
	struct ratelimit	rl;

	(void)state;
	ratelimit_init(&rl, 100, 100, 0);
	ratelimit_update(&rl, 1, 2, 0);	/* capped to the new burst */
	assert_true(ratelimit_take(&rl, 0));
	assert_true(ratelimit_take(&rl, 0));
	assert_false(ratelimit_take(&rl, 0));
	ratelimit_update(&rl, 0, 0, 0);	/* unlimited now */
	assert_true(ratelimit_take(&rl, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit_unlimited),
		cmocka_unit_test(test_ratelimit_burst_then_rate),
		cmocka_unit_test(test_ratelimit_default_burst),
		cmocka_unit_test(test_ratelimit_refund_and_clock_back),
		cmocka_unit_test(test_ratelimit_update_keeps_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
