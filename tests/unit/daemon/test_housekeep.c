/*
 * proxy/daemon/housekeep: a retention run happens on its own thread with
 * its own store handle, its deletions are seen by the daemon's handle, a
 * second run while one is going is skipped, and freeing waits for a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "proxy/daemon/housekeep.h"
#include "tests/unit/store/store_fixture.h"

#define YEAR	(365 * 86400)

static int
count_cb(const struct store_event *ev, void *arg)
{
	(void)ev;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
history_len(struct store *st, const char *number)
{
	size_t	n = 0;

	assert_int_equal(store_history(st, number, count_cb, &n), 0);
	return n;
}

static void
test_expire_on_its_thread(void **state)
{
	struct fx		*f = *state;
	struct housekeep	*hk;
	struct store_retention	 r;
	struct store_event	 ev;
	char			 err[256];
	int64_t			 old = (int64_t)time(NULL) - 6 * YEAR;

	/* Opted out and back in six years ago: both past retention. */
	fx_event(&ev, "15550100001", STORE_OPT_OUT, old, "promo", NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	fx_event(&ev, "15550100001", STORE_OPT_IN, old + 60, "promo", NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	/* In force: kept whatever its age. */
	fx_event(&ev, "15550100002", STORE_OPT_OUT, old, "promo", NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(history_len(f->st, "15550100001"), 2);

	hk = housekeep_new(f->st, err, sizeof(err));
	assert_non_null(hk);
	memset(&r, 0, sizeof(r));
	assert_int_equal(housekeep_expire(hk, &r), 0);
	/* Freeing waits for the run. */
	housekeep_free(hk);
	assert_int_equal(history_len(f->st, "15550100001"), 0);
	assert_int_equal(history_len(f->st, "15550100002"), 1);
}

static void
test_runs_again_after_one_ended(void **state)
{
	struct fx		*f = *state;
	struct housekeep	*hk;
	struct store_retention	 r;
	char			 err[256];
	int			 i, started = 0;

	hk = housekeep_new(f->st, err, sizeof(err));
	assert_non_null(hk);
	memset(&r, 0, sizeof(r));
	/* Back to back: each call either starts a run or skips while the
	 * last is going; never two at once, never a crash. */
	for (i = 0; i < 50; i++)
		if (housekeep_expire(hk, &r) == 0)
			started++;
	assert_true(started >= 1);
	housekeep_free(hk);
	housekeep_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_expire_on_its_thread,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_runs_again_after_one_ended,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
