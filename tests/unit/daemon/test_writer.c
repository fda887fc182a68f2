/*
 * proxy/writer: the store writer thread, driven by a real event loop.
 *
 * What an operator would notice: records queued at a trickle are committed
 * within a few milliseconds in a handful of transactions, not one each
 * (each is a wake-up of a second thread and a B-tree commit); a queue that
 * outruns the store makes the loop wait instead of dropping or growing
 * without bound; and when traffic stops, the writer folds the sent log
 * into the last-sent table and indexes rejected-send audit records by
 * number, so compliance queries by number read the index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <event2/event.h>

#include "proxy/daemon/writer.h"
#include "store/store.h"
#include "tests/unit/store/store_fixture.h"

struct wfx {
	struct fx		 f;
	struct event_base	*base;
	struct writer		*w;
};

static int
setup(void **state)
{
	struct wfx	*x;
	void		*fs = NULL;
	char		 err[256];

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	if (fx_setup(&fs) == -1) {
		free(x);
		return -1;
	}
	x->f = *(struct fx *)fs;
	free(fs);
	if ((x->base = event_base_new()) == NULL ||
	    (x->w = writer_new(x->base, x->f.st, err, sizeof(err))) == NULL)
		return -1;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct wfx	*x = *state;

	writer_free(x->w);
	store_free(x->f.st);
	event_base_free(x->base);
	fx_rmdir(x->f.dir);
	free(x);
	return 0;
}

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Run the loop for about ms milliseconds. */
static void
run_for(struct wfx *x, unsigned ms)
{
	struct timeval	tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	event_base_loopexit(x->base, &tv);
	event_base_dispatch(x->base);
}

static void
mk_audit(struct store_audit *a, int i)
{
	memset(a, 0, sizeof(*a));
	a->time = 1700000000000 + i;
	snprintf(a->account, sizeof(a->account), "marketing");
	snprintf(a->category, sizeof(a->category), "promo");
	snprintf(a->source, sizeof(a->source), "ACME");
	snprintf(a->destination, sizeof(a->destination), "1555%07d", i % 7);
	a->status = 0x45;
}

static int
count_cb(const struct store_audit *a, void *arg)
{
	(void)a;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
audit_count(struct wfx *x, const char *number)
{
	struct store_audit_filter	f;
	size_t				n = 0;

	memset(&f, 0, sizeof(f));
	f.number = number;
	assert_true(store_audit_query(x->f.st, &f, count_cb, &n) >= 0);
	return n;
}

/*
 * A trickle (one record every ~0.5 ms over ~40 ms) is committed in a few
 * gathered transactions, each within WRITER_DELAY_MS plus a commit of its
 * first record, and all of it is in the store afterwards.
 */
static void
test_trickle_is_gathered(void **state)
{
	struct wfx		*x = *state;
	struct store_audit	 a;
	struct writer_counters	 c;
	struct timespec		 ts = { 0, 500 * 1000 };
	int			 i, n = 80;

	for (i = 0; i < n; i++) {
		mk_audit(&a, i);
		writer_audit(x->w, &a);
		nanosleep(&ts, NULL);
		(void)event_base_loop(x->base, EVLOOP_NONBLOCK);
	}
	run_for(x, 4 * WRITER_DELAY_MS + 50);
	writer_counters(x->w, &c);
	assert_int_equal(c.records, (uint64_t)n);
	assert_int_equal(writer_pending(x->w), 0);
	/* ~40 ms of records at 5 ms a batch: far fewer batches than records. */
	assert_true(c.batches >= 2);
	assert_true(c.batches <= (uint64_t)n / 4);
	assert_int_equal(audit_count(x, NULL), (size_t)n);
}

/* One record alone is committed within WRITER_DELAY_MS and a commit. */
static void
test_single_record_committed_soon(void **state)
{
	struct wfx		*x = *state;
	struct store_audit	 a;
	struct writer_counters	 c;
	uint64_t		 t0;

	mk_audit(&a, 1);
	t0 = mono_ms();
	writer_audit(x->w, &a);
	do {
		(void)event_base_loop(x->base, EVLOOP_ONCE);
		writer_counters(x->w, &c);
	} while (c.batches == 0 && mono_ms() - t0 < 2000);
	assert_int_equal(c.batches, 1);
	assert_int_equal(audit_count(x, NULL), 1);
}

/*
 * Three queues' worth of one kind with no loop turning (the thread cannot
 * commit a full queue in the time it takes to fill one): the loop side
 * waits for the thread rather than dropping or growing without bound, and
 * every record is committed.
 */
static void
test_full_queue_waits(void **state)
{
	struct wfx		*x = *state;
	struct store_msgmap	 m;
	struct writer_counters	 c;
	size_t			 i, n = 3 * WRITER_QUEUE_MAX + 100;
	char			 account[STORE_NAME_MAX];

	memset(&m, 0, sizeof(m));
	snprintf(m.upstream, sizeof(m.upstream), "carrier");
	snprintf(m.account, sizeof(m.account), "billing");
	for (i = 0; i < n; i++) {
		snprintf(m.message_id, sizeof(m.message_id), "m%zx", i);
		m.time = (int64_t)i + 1;
		writer_msgmap(x->w, &m);
		if (i % 1000 == 0)
			assert_true(writer_pending(x->w) <=
			    2 * (size_t)WRITER_QUEUE_MAX);
	}
	writer_sync(x->w);
	writer_counters(x->w, &c);
	assert_int_equal(c.records, (uint64_t)n);
	assert_int_equal(c.failed, 0);
	assert_true(c.waits >= 1);
	assert_int_equal(store_msgmap_get(x->f.st, "carrier", "m0", account),
	    1);
	assert_string_equal(account, "billing");
	snprintf(m.message_id, sizeof(m.message_id), "m%zx", n - 1);
	assert_int_equal(store_msgmap_get(x->f.st, "carrier", m.message_id,
	    account), 1);
}

/*
 * When traffic stops the writer merges the sent log into the last-sent
 * table and indexes the audit records by number, in small steps.
 */
static void
test_idle_merges_and_indexes(void **state)
{
	struct wfx			*x = *state;
	struct store_audit		 a;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;
	struct writer_counters		 c;
	uint64_t			 seq = 0, t0;
	int				 i, n = WRITER_AUDIT_CHUNK + 500;

	for (i = 0; i < n; i++) {
		mk_audit(&a, i);
		writer_audit(x->w, &a);
		memset(&e, 0, sizeof(e));
		snprintf(e.number, sizeof(e.number), "1666%07d", i);
		snprintf(e.last.account, sizeof(e.last.account), "billing");
		snprintf(e.last.category, sizeof(e.last.category), "billing");
		e.last.time = 1000 + i;
		seq = writer_sentlog(x->w, &e);
	}
	writer_sync(x->w);
	t0 = mono_ms();
	do {
		run_for(x, 10);
		writer_counters(x->w, &c);
	} while ((c.indexed < (uint64_t)n || writer_merged(x->w) < seq) &&
	    mono_ms() - t0 < 5000);
	assert_true(writer_merged(x->w) >= seq);
	assert_int_equal(c.merged, (uint64_t)n);
	assert_int_equal(c.indexed, (uint64_t)n);
	assert_int_equal(store_lastsent_get(x->f.st, "16660000042", &out), 1);
	assert_int_equal(out.time, 1042);
	assert_string_equal(out.account, "billing");
	/* Every record by number, each once: index and backlog agree. */
	assert_int_equal(audit_count(x, "15550000003"),
	    (size_t)((n - 3 + 6) / 7));
	assert_int_equal(audit_count(x, NULL), (size_t)n);
}

/* A stopping daemon's writer commits what it is given but merges nothing. */
static void
test_quiesce(void **state)
{
	struct wfx			*x = *state;
	struct store_lastsent_entry	 e;
	struct writer_counters		 c;
	uint64_t			 first, last;

	memset(&e, 0, sizeof(e));
	snprintf(e.number, sizeof(e.number), "16660000001");
	e.last.time = 5;
	writer_quiesce(x->w);
	(void)writer_sentlog(x->w, &e);
	writer_sync(x->w);
	run_for(x, 5 * WRITER_IDLE_MS);
	writer_counters(x->w, &c);
	assert_int_equal(c.records, 1);
	assert_int_equal(c.merged, 0);
	assert_int_equal(writer_merged(x->w), 0);
	assert_int_equal(store_sentlog_bounds(x->f.st, &first, &last), 0);
	assert_int_equal(first, 1);
	assert_int_equal(last, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_trickle_is_gathered,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_single_record_committed_soon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_queue_waits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_idle_merges_and_indexes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiesce, setup, teardown),
	};

	return cmocka_run_group_tests_name("proxy/writer", tests, NULL, NULL);
}
