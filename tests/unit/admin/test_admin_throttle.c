/*
 * The admin token throttle (proxy/admin/admin_throttle.c), on a clock
 * the test moves: free failures, the growing and capped delay, a check
 * held until the last 401 has gone, the quiet minute that forgets, the
 * cap on held requests, addresses apart, and the summary counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "proxy/admin/admin_throttle.h"

static int
setup(void **state)
{
	*state = admin_throttle_new();
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	admin_throttle_free(*state);
	return 0;
}

static void
test_free_then_growing(void **state)
{
	struct admin_throttle	*t = *state;
	uint64_t		 now = 1000, d;
	bool			 is_first;
	unsigned		 i;

	assert_int_equal(admin_throttle_wait_ms(t, "10.0.0.1", now), 0);
	for (i = 0; i < ADMIN_THROTTLE_FREE; i++) {
		assert_int_equal(admin_throttle_fail(t, "10.0.0.1", now,
		    &is_first), 0);
		assert_int_equal(is_first, i == 0);
		assert_int_equal(admin_throttle_wait_ms(t, "10.0.0.1", now),
		    0);
	}
	/* The next: held back, and no check until its 401 has gone. */
	d = admin_throttle_fail(t, "10.0.0.1", now, &is_first);
	assert_false(is_first);
	assert_int_equal(d, ADMIN_THROTTLE_STEP_MS);
	assert_int_equal(admin_throttle_wait_ms(t, "10.0.0.1", now), d);
	assert_int_equal(admin_throttle_wait_ms(t, "10.0.0.1", now + d), 0);
	now += d;
	assert_int_equal(admin_throttle_fail(t, "10.0.0.1", now, &is_first),
	    2 * ADMIN_THROTTLE_STEP_MS);
	/* Capped. */
	for (i = 0; i < 100; i++)
		d = admin_throttle_fail(t, "10.0.0.1", now, &is_first);
	assert_int_equal(d, ADMIN_THROTTLE_MAX_MS);
	/* Another address is not slowed by this one. */
	assert_int_equal(admin_throttle_wait_ms(t, "10.0.0.2", now), 0);
	assert_int_equal(admin_throttle_fail(t, "10.0.0.2", now, &is_first),
	    0);
	assert_true(is_first);
}

static void
test_forgets_after_quiet_minute(void **state)
{
	struct admin_throttle	*t = *state;
	uint64_t		 now = 5000;
	bool			 is_first;
	unsigned		 i;

	for (i = 0; i < ADMIN_THROTTLE_FREE + 3; i++)
		(void)admin_throttle_fail(t, "::1", now, &is_first);
	assert_true(admin_throttle_wait_ms(t, "::1", now) > 0);
	/* Within the minute the count stays. */
	now += ADMIN_THROTTLE_FORGET_MS / 2;
	assert_true(admin_throttle_fail(t, "::1", now, &is_first) > 0);
	assert_false(is_first);
	now += ADMIN_THROTTLE_FORGET_MS + 1;
	assert_int_equal(admin_throttle_wait_ms(t, "::1", now), 0);
	assert_int_equal(admin_throttle_fail(t, "::1", now, &is_first), 0);
	assert_true(is_first);
}

static void
test_hold_cap(void **state)
{
	struct admin_throttle	*t = *state;
	unsigned		 i;

	for (i = 0; i < ADMIN_THROTTLE_HELD_MAX; i++)
		assert_true(admin_throttle_hold(t, "a", 0, false));
	assert_false(admin_throttle_hold(t, "a", 0, false));
	/* A 401 already decided is always held (sending it early would
	 * tell the guesser sooner). */
	assert_true(admin_throttle_hold(t, "a", 0, true));
	admin_throttle_release(t, "a");
	admin_throttle_release(t, "a");
	assert_true(admin_throttle_hold(t, "a", 0, false));
	assert_true(admin_throttle_hold(t, "b", 0, false));
	admin_throttle_release(t, "nobody");
}

struct seen {
	unsigned	 n;
	uint64_t	 failures, refused;
};

static void
report_cb(const char *addr, uint64_t failures, uint64_t refused, void *arg)
{
	struct seen	*s = arg;

	assert_string_equal(addr, "a");
	s->n++;
	s->failures += failures;
	s->refused += refused;
}

static void
test_report(void **state)
{
	struct admin_throttle	*t = *state;
	struct seen		 s = { 0, 0, 0 };
	bool			 is_first;
	unsigned		 i;

	for (i = 0; i < 3; i++)
		(void)admin_throttle_fail(t, "a", 10, &is_first);
	for (i = 0; i < ADMIN_THROTTLE_HELD_MAX + 2; i++)
		(void)admin_throttle_hold(t, "a", 10, false);
	assert_int_equal(admin_throttle_report(t, report_cb, &s), 1);
	assert_int_equal(s.failures, 3);
	assert_int_equal(s.refused, 2);
	/* Reported once: nothing new, nothing said. */
	assert_int_equal(admin_throttle_report(t, report_cb, &s), 0);
	assert_int_equal(s.n, 1);
}

/* More addresses than slots: the stalest idle one is reused, never one
 * with requests held. */
static void
test_slots_reused(void **state)
{
	struct admin_throttle	*t = *state;
	char			 addr[32];
	bool			 is_first;
	unsigned		 i;

	assert_true(admin_throttle_hold(t, "held", 0, false));
	for (i = 0; i < 3 * ADMIN_THROTTLE_SLOTS; i++) {
		snprintf(addr, sizeof(addr), "10.1.%u.%u", i / 256, i % 256);
		(void)admin_throttle_fail(t, addr, 100 + i, &is_first);
		assert_true(is_first);
	}
	for (i = 0; i < ADMIN_THROTTLE_HELD_MAX - 1; i++)
		assert_true(admin_throttle_hold(t, "held", 0, false));
	assert_false(admin_throttle_hold(t, "held", 0, false));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_free_then_growing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forgets_after_quiet_minute,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_reused, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
