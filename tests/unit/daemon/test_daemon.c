/*
 * proxy/daemon: attribution (last-sent) and receipt-map records, queued to
 * the store writer thread.
 *
 * Why: committing these on the event loop, one scattered B-tree
 * write per forwarded message, was what limited throughput and made a
 * STOP wait behind a long batch. Now attribution is appended to the sent
 * log and indexed by number in memory; the writer merges the log into the
 * per-number table when idle. These tests check that what was sent last
 * is found at every stage (queued, logged, merged), that the table ends up
 * with the newest record per number, and that nothing is lost across a
 * writer restart. They drive a daemon with a store, a writer and no event
 * loop (writer_sync() waits on the thread directly).
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

#include "proxy/daemon/attrib.h"
#include "proxy/daemon/daemon.h"
#include "proxy/daemon/writer.h"
#include "store/store.h"
#include "tests/unit/store/store_fixture.h"

struct dfx {
	struct fx		 f;
	struct daemon		*d;
	struct event_base	*base;
};

static int
setup(void **state)
{
	struct dfx	*x;
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
	if ((x->d = calloc(1, sizeof(*x->d))) == NULL)
		return -1;
	x->d->store = x->f.st;
	if ((x->base = event_base_new()) == NULL ||
	    (x->d->attrib = attrib_new(DAEMON_ATTRIB_MAX)) == NULL ||
	    (x->d->writer = writer_new(x->base, x->d->store, err,
	    sizeof(err))) == NULL)
		return -1;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct dfx	*x = *state;

	writer_free(x->d->writer);
	attrib_free(x->d->attrib);
	store_free(x->f.st);
	event_base_free(x->base);
	fx_rmdir(x->f.dir);
	free(x->d);
	free(x);
	return 0;
}

static void
mk_last(struct store_lastsent_entry *e, const char *number, int64_t t)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->number, sizeof(e->number), "%s", number);
	snprintf(e->last.account, sizeof(e->last.account), "marketing");
	snprintf(e->last.category, sizeof(e->last.category), "promo");
	e->last.time = t;
}

/* Wait (bounded) until the writer has merged everything it logged. */
static void
wait_merged(struct dfx *x, uint64_t seq)
{
	struct timespec	ts = { 0, 5 * 1000 * 1000 };
	int		i;

	for (i = 0; i < 1000 && writer_merged(x->d->writer) < seq; i++)
		nanosleep(&ts, NULL);
	assert_true(writer_merged(x->d->writer) >= seq);
}

/* Many messages to a few numbers: the table ends with the last of each. */
static void
test_lastsent_newest_wins(void **state)
{
	struct dfx			*x = *state;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;
	char				 num[32];
	uint64_t			 first, last;
	int				 i;

	for (i = 0; i < 3000; i++) {
		snprintf(num, sizeof(num), "1555010%04d", i % 3);
		mk_last(&e, num, 1000 + i);
		daemon_lastsent_add(x->d, &e);
	}
	assert_int_equal(attrib_count(x->d->attrib), 3);
	/* Queued, not committed: the STOP path still sees the newest. */
	assert_true(daemon_lastsent_pending(x->d, "15550100000", &out));
	assert_int_equal(out.time, 1000 + 2997);
	daemon_flush(x->d);
	assert_int_equal(writer_pending(x->d->writer), 0);
	assert_int_equal(store_sentlog_bounds(x->d->store, &first, &last), 0);
	/* Logged (or merged already): still the newest. */
	assert_true(daemon_lastsent_pending(x->d, "15550100002", &out) ||
	    writer_merged(x->d->writer) >= 3000);
	wait_merged(x, 3000);
	assert_int_equal(store_lastsent_get(x->d->store, "15550100000",
	    &out), 1);
	assert_int_equal(out.time, 1000 + 2997);
	assert_int_equal(store_lastsent_get(x->d->store, "15550100002",
	    &out), 1);
	assert_int_equal(out.time, 1000 + 2999);
	assert_string_equal(out.account, "marketing");
	/* Merged: the table has it, nothing is pending any more. */
	assert_false(daemon_lastsent_pending(x->d, "15550100001", &out));
	assert_int_equal(store_sentlog_bounds(x->d->store, &first, &last), 0);
	assert_int_equal(first, 0);
}

/*
 * Many distinct numbers (a blast): every one is found while queued and
 * after, and the table gets every one once the log is merged.
 */
static void
test_lastsent_many_numbers(void **state)
{
	struct dfx			*x = *state;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;
	char				 num[32];
	int				 i, n = 20000;

	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "1555%07d", i);
		mk_last(&e, num, 100 + i);
		daemon_lastsent_add(x->d, &e);
	}
	snprintf(num, sizeof(num), "1555%07d", 12345);
	assert_true(daemon_lastsent_pending(x->d, num, &out));
	assert_int_equal(out.time, 100 + 12345);
	daemon_flush(x->d);
	wait_merged(x, (uint64_t)n);
	for (i = 0; i < n; i += 997) {
		snprintf(num, sizeof(num), "1555%07d", i);
		assert_int_equal(store_lastsent_get(x->d->store, num, &out),
		    1);
		assert_int_equal(out.time, 100 + i);
	}
	assert_false(daemon_lastsent_pending(x->d, "15559999999", &out));
}

/* A number that is not digits goes straight to the table. */
static void
test_lastsent_alphanumeric(void **state)
{
	struct dfx			*x = *state;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;

	mk_last(&e, "INFO", 77);
	daemon_lastsent_add(x->d, &e);
	assert_int_equal(attrib_count(x->d->attrib), 0);
	daemon_flush(x->d);
	assert_int_equal(store_lastsent_get(x->d->store, "INFO", &out), 1);
	assert_int_equal(out.time, 77);
}

/*
 * A writer that stops with records logged and not merged (a restart):
 * the next one numbers after them and merges them; nothing is lost.
 */
static void
test_writer_restart(void **state)
{
	struct dfx			*x = *state;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;
	uint64_t			 seq, first, last;
	char				 err[256];

	mk_last(&e, "15550100021", 5);
	seq = writer_sentlog(x->d->writer, &e);
	writer_free(x->d->writer);	/* commits it */
	assert_int_equal(store_sentlog_bounds(x->d->store, &first, &last), 0);
	assert_true(last >= seq);
	x->d->writer = writer_new(x->base, x->d->store, err, sizeof(err));
	assert_non_null(x->d->writer);
	mk_last(&e, "15550100022", 6);
	assert_true(writer_sentlog(x->d->writer, &e) > seq);
	writer_sync(x->d->writer);
	wait_merged(x, seq + 1);
	assert_int_equal(store_lastsent_get(x->d->store, "15550100021",
	    &out), 1);
	assert_int_equal(out.time, 5);
	assert_int_equal(store_lastsent_get(x->d->store, "15550100022",
	    &out), 1);
}

static bool
find_ab12(void *arg, const struct store_msgmap *m)
{
	(void)arg;
	return strcmp(m->message_id, "ab12") == 0;
}

/* The receipt map: seen while queued, in the store once committed. */
static void
test_msgmap_queued_then_stored(void **state)
{
	struct dfx			*x = *state;
	struct store_msgmap		 m;
	char				 account[STORE_NAME_MAX];

	memset(&m, 0, sizeof(m));
	snprintf(m.upstream, sizeof(m.upstream), "carrier");
	snprintf(m.message_id, sizeof(m.message_id), "ab12");
	snprintf(m.account, sizeof(m.account), "marketing");
	m.time = 1;
	daemon_msgmap_add(x->d, &m);
	assert_true(writer_msgmap_each(x->d->writer, find_ab12, NULL));
	daemon_flush(x->d);
	assert_false(writer_msgmap_each(x->d->writer, find_ab12, NULL));
	assert_int_equal(store_msgmap_get(x->d->store, "carrier", "AB12",
	    account), 1);
	assert_string_equal(account, "marketing");
}

/* A bad record from a peer costs that record, not its batch. */
static void
test_bad_record_dropped_alone(void **state)
{
	struct dfx			*x = *state;
	struct store_audit		 a;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;
	struct writer_counters		 c;

	memset(&a, 0, sizeof(a));
	/* No destination: refused by the store. */
	a.time = 1;
	daemon_audit_add(x->d, &a);
	mk_last(&e, "INFO2", 9);
	daemon_lastsent_add(x->d, &e);
	daemon_flush(x->d);
	writer_counters(x->d->writer, &c);
	assert_int_equal(c.bad, 1);
	assert_int_equal(c.failed, 0);
	assert_int_equal(store_lastsent_get(x->d->store, "INFO2", &out), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lastsent_newest_wins,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lastsent_many_numbers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lastsent_alphanumeric,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_restart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_msgmap_queued_then_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_record_dropped_alone, setup, teardown),
	};

	return cmocka_run_group_tests_name("proxy/daemon", tests, NULL, NULL);
}
