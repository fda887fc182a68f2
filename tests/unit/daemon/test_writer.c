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

/*
 * A write that crosses a growth threshold of the lookup tables (here the
 * loop's own handle, as an opt-out on the event loop or the CLI would)
 * only begins the growth; the writer notices it and finishes it in
 * steps, every lookup exact meanwhile and afterwards.
 */
static void
test_growth_finished_by_writer(void **state)
{
	struct wfx		*x = *state;
	struct store_event	 ev;
	struct store_info	 in;
	char			 num[16];
	uint64_t		 t0;
	int			 i;

	/* The smallest numbers hash (1024 slots) grows past 819. */
	for (i = 0; i < 830; i++) {
		snprintf(num, sizeof(num), "1777%07d", i * 13);
		fx_event(&ev, num, STORE_OPT_OUT, i, "promo", NULL);
		assert_int_equal(store_optout_apply(x->f.st, &ev), 0);
	}
	assert_int_equal(store_info(x->f.st, &in), 0);
	assert_true(in.lookup_grow_total > 0);
	t0 = mono_ms();
	do {
		run_for(x, 20);
		assert_int_equal(store_info(x->f.st, &in), 0);
	} while (in.lookup_grow_total != 0 && mono_ms() - t0 < 10000);
	assert_int_equal(in.lookup_grow_total, 0);
	assert_false(store_lookup_grow_pending(x->f.st));
	for (i = 0; i < 830; i++) {
		snprintf(num, sizeof(num), "1777%07d", i * 13);
		assert_int_equal(store_optout_check(x->f.st, num, "promo",
		    NULL), 1);
		snprintf(num, sizeof(num), "1777%07d", i * 13 + 5);
		assert_int_equal(store_optout_check(x->f.st, num, "promo",
		    NULL), 0);
	}
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

/* A durable job for the lane tests: records the order it ran in. */
struct ljob {
	struct writer_job	 job;
	int			 id;
	int			 fail;		/* run returns -1 */
	int			*ran;		/* shared counter */
	int			 ran_at;	/* 1-based, thread side */
	int			 done_at;	/* 1-based, loop side */
	int			*done;
	size_t			 audit_seen;	/* audit records then */
};

static int
ljob_run(struct store *st, void *arg)
{
	struct ljob			*j = arg;
	struct store_audit_filter	 f;

	j->ran_at = ++*j->ran;
	memset(&f, 0, sizeof(f));
	if (store_audit_query(st, &f, count_cb, &j->audit_seen) < 0)
		j->audit_seen = (size_t)-1;
	return j->fail ? -1 : 0;
}

static void
ljob_done(void *arg, int rc)
{
	struct ljob	*j = arg;

	assert_int_equal(rc, j->fail ? -1 : 0);
	j->done_at = ++*j->done;
}

static void
ljob_init(struct ljob *j, int id, int *ran, int *done)
{
	memset(j, 0, sizeof(*j));
	j->id = id;
	j->ran = ran;
	j->done = done;
	j->job.run = ljob_run;
	j->job.done = ljob_done;
	j->job.arg = j;
}

/*
 * Durable jobs run on the thread in the order queued and are called back
 * on the loop in that order, when its event loop turns (not before);
 * writer_sync() waits for them too.
 */
static void
test_durable_lane_order(void **state)
{
	struct wfx	*x = *state;
	struct ljob	 j[8];
	int		 i, ran = 0, done = 0;

	for (i = 0; i < 8; i++) {
		ljob_init(&j[i], i, &ran, &done);
		writer_durable(x->w, &j[i].job);
	}
	assert_true(writer_durable_pending(x->w) > 0);
	for (i = 0; i < 200 && done < 8; i++)
		run_for(x, 5);
	assert_int_equal(done, 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(j[i].ran_at, i + 1);
		assert_int_equal(j[i].done_at, i + 1);
	}
	assert_int_equal(writer_durable_pending(x->w), 0);
	ljob_init(&j[0], 0, &ran, &done);
	writer_durable(x->w, &j[0].job);
	writer_sync(x->w);
	assert_int_equal(done, 9);
}

/*
 * A job queued while a batch far larger than WRITER_COMMIT_MAX is being
 * committed runs before the batch is all in: it waits for one chunk.
 */
static void
test_durable_lane_ahead_of_batch(void **state)
{
	struct wfx		*x = *state;
	struct store_audit	 a;
	struct ljob		 j;
	int			 i, ran = 0, done = 0;
	int			 n = 8 * WRITER_COMMIT_MAX;

	for (i = 0; i < n; i++) {
		mk_audit(&a, i);
		writer_audit(x->w, &a);
	}
	run_for(x, WRITER_DELAY_MS + 2);	/* the batch is handed over */
	ljob_init(&j, 0, &ran, &done);
	writer_durable(x->w, &j.job);
	writer_sync(x->w);
	assert_int_equal(done, 1);
	/* It did not wait for the whole batch. */
	assert_true(j.audit_seen < (size_t)n);
	assert_int_equal(audit_count(x, NULL), (size_t)n);
}

/* A failed durable job makes the writer unhealthy until one succeeds. */
static void
test_durable_lane_health(void **state)
{
	struct wfx		*x = *state;
	struct writer_health	 h;
	struct ljob		 j;
	int			 ran = 0, done = 0;

	writer_health(x->w, &h);
	assert_false(h.is_failing);
	assert_string_equal(h.reason, "");
	ljob_init(&j, 0, &ran, &done);
	j.fail = 1;
	writer_durable(x->w, &j.job);
	writer_sync(x->w);
	writer_health(x->w, &h);
	assert_true(h.is_failing);
	assert_true(h.since > 0);
	assert_non_null(strstr(h.reason, "opt-out writes failing"));
	ljob_init(&j, 1, &ran, &done);
	writer_durable(x->w, &j.job);
	writer_sync(x->w);
	writer_health(x->w, &h);
	assert_false(h.is_failing);
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
		cmocka_unit_test_setup_teardown(
		    test_growth_finished_by_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_lane_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_durable_lane_ahead_of_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_lane_health,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("proxy/writer", tests, NULL, NULL);
}
