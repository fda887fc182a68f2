/*
 * proxy/daemon/housekeep: a retention run happens on its own thread with
 * its own store handle, its deletions are seen by the daemon's handle, a
 * second run while one is going is skipped, and freeing waits for a run.
 * The caps' send log is pruned by the same thread to the window it was
 * given (what is older gone, what is newer kept), with no event loop;
 * without caps, nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "proxy/daemon/housekeep.h"
#include "store/freq.h"
#include "tests/unit/store/store_fixture.h"

#define YEAR	(365 * 86400)
#define HOUR	3600
#define WAIT_MS	5000	/* bound on waiting for the thread */

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

/* Log one send of "promo" to number at t, as a record of its own. */
static void
send_put(struct store *st, const char *number, int64_t t)
{
	struct store_freq_entry	 e;
	struct store_batch	 b;
	size_t			 nbad = 0;

	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "%s", number);
	snprintf(e.category, sizeof(e.category), "promo");
	e.time = t;
	memset(&b, 0, sizeof(b));
	b.freq = &e;
	b.nfreq = 1;
	assert_int_equal(store_batch_put(st, &b, &nbad), 0);
	assert_int_equal(nbad, 0);
}

static size_t
sends_of(struct store *st, const char *number)
{
	int64_t	 times[8];
	size_t	 n;

	assert_int_equal(store_freq_get(st, number, "promo", times, 8, &n),
	    0);
	return n;
}

/*
 * Wait (bounded) until the thread made more than `passes` passes and
 * deleted at least `pruned` records.
 */
static void
prune_wait(struct housekeep *hk, uint64_t passes, uint64_t pruned,
    struct housekeep_counters *c)
{
	struct timespec	 ts = { 0, 10 * 1000000L };
	int		 ms;

	for (ms = 0; ms < WAIT_MS; ms += 10) {
		housekeep_counters(hk, c);
		if (c->prune_passes > passes && c->pruned >= pruned)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("no prune pass in %d ms", WAIT_MS);
}

static void
test_prune_on_its_thread(void **state)
{
	struct fx			*f = *state;
	struct housekeep		*hk;
	struct housekeep_counters	 c;
	char				 err[256];
	int64_t				 now = (int64_t)time(NULL);

	/* Two hours back, and an hour and a half and a minute: outside a
	 * window of an hour and a half. */
	send_put(f->st, "15550100001", now - 2 * HOUR);
	send_put(f->st, "15550100002", now - HOUR - HOUR / 2 - 60);
	/* Inside it. */
	send_put(f->st, "15550100001", now - HOUR);
	send_put(f->st, "15550100003", now - 10);
	hk = housekeep_new(f->st, err, sizeof(err));
	assert_non_null(hk);
	housekeep_counters(hk, &c);
	/* The window is applied at once, not 10 s later. */
	housekeep_freq_window(hk, HOUR + HOUR / 2);
	prune_wait(hk, c.prune_passes, 2, &c);
	assert_int_equal(c.pruned, 2);
	assert_int_equal(c.prune_failed, 0);
	/* Seen by the daemon's own handle. */
	assert_int_equal(sends_of(f->st, "15550100001"), 1);
	assert_int_equal(sends_of(f->st, "15550100002"), 0);
	assert_int_equal(sends_of(f->st, "15550100003"), 1);
	/* A reload to a shorter window prunes to it. */
	housekeep_freq_window(hk, 60);
	prune_wait(hk, c.prune_passes, 3, &c);
	assert_int_equal(c.pruned, 3);
	assert_int_equal(sends_of(f->st, "15550100001"), 0);
	assert_int_equal(sends_of(f->st, "15550100003"), 1);
	housekeep_free(hk);
}

static void
test_no_caps_prunes_nothing(void **state)
{
	struct fx			*f = *state;
	struct housekeep		*hk;
	struct housekeep_counters	 c;
	char				 err[256];

	send_put(f->st, "15550100001", (int64_t)time(NULL) - 5 * YEAR);
	hk = housekeep_new(f->st, err, sizeof(err));
	assert_non_null(hk);
	/* Never given a window: its first pass, at start, finds none. */
	prune_wait(hk, 0, 0, &c);
	housekeep_freq_window(hk, 0);
	prune_wait(hk, c.prune_passes, 0, &c);
	housekeep_free(hk);
	assert_int_equal(c.pruned, 0);
	assert_int_equal(sends_of(f->st, "15550100001"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_expire_on_its_thread,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_runs_again_after_one_ended,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_prune_on_its_thread,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_caps_prunes_nothing,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
