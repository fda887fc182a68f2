/*
 * proxy/daemon: the batched receipt-map and attribution (last-sent) writes.
 *
 * Why (issue 6): profiling showed the event loop spending most of its time
 * committing these batches (a transaction and an fdatasync each, on the
 * loop thread): the receipt map and last-sent went in two transactions
 * per flush, and last-sent took one record per forwarded message in
 * batches of 256 although the store keeps only the last one per number.
 * Now last-sent is coalesced per number in a batch of up to
 * DAEMON_LASTSENT_MAX (flushed within 200 ms), and one flush writes both
 * in one transaction. These
 * tests drive daemon_*_add() on a daemon with a store and no event loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/daemon.h"
#include "store/store.h"
#include "tests/unit/store/store_fixture.h"

struct dfx {
	struct fx	 f;
	struct daemon	*d;
};

static int
setup(void **state)
{
	struct dfx	*x;
	void		*fs = NULL;

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
	x->d->lastsent_gen = 1;		/* as daemon_main() sets it */
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct dfx	*x = *state;

	store_free(x->f.st);
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

/* Many messages to a few numbers: one batch entry per number, the last. */
static void
test_lastsent_coalesced(void **state)
{
	struct dfx			*x = *state;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;
	char				 num[32];
	int				 i;

	for (i = 0; i < 3000; i++) {
		snprintf(num, sizeof(num), "1555010%04d", i % 3);
		mk_last(&e, num, 1000 + i);
		daemon_lastsent_add(x->d, &e);
	}
	assert_int_equal(x->d->nlastsent, 3);
	/* Nothing written yet: the batch waits for its timer. */
	assert_int_equal(store_lastsent_get(x->d->store, "15550100000",
	    &out), 0);
	daemon_flush(x->d);
	assert_int_equal(x->d->nlastsent, 0);
	assert_int_equal(store_lastsent_get(x->d->store, "15550100000",
	    &out), 1);
	assert_int_equal(out.time, 1000 + 2997);
	assert_int_equal(store_lastsent_get(x->d->store, "15550100002",
	    &out), 1);
	assert_int_equal(out.time, 1000 + 2999);
	/* A new batch after the flush: the old index entries are free. */
	mk_last(&e, "15550100001", 5000);
	daemon_lastsent_add(x->d, &e);
	mk_last(&e, "15550100001", 5001);
	daemon_lastsent_add(x->d, &e);
	assert_int_equal(x->d->nlastsent, 1);
	assert_int_equal(x->d->lastsent[0].last.time, 5001);
}

/* Distinct numbers: the batch holds DAEMON_LASTSENT_MAX, then is written. */
static void
test_lastsent_full_batch(void **state)
{
	struct dfx			*x = *state;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;
	char				 num[32];
	int				 i;

	for (i = 0; i < DAEMON_LASTSENT_MAX; i++) {
		snprintf(num, sizeof(num), "1555%07d", i);
		mk_last(&e, num, 1);
		daemon_lastsent_add(x->d, &e);
	}
	assert_int_equal(x->d->nlastsent, DAEMON_LASTSENT_MAX);
	mk_last(&e, "15559999999", 2);
	daemon_lastsent_add(x->d, &e);
	assert_int_equal(x->d->nlastsent, 1);
	snprintf(num, sizeof(num), "1555%07d", DAEMON_LASTSENT_MAX - 1);
	assert_int_equal(store_lastsent_get(x->d->store, num, &out), 1);
	assert_int_equal(store_lastsent_get(x->d->store, "15559999999",
	    &out), 0);
}

/* A record still in the batch is found by number until it is written. */
static void
test_lastsent_pending(void **state)
{
	struct dfx			*x = *state;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;

	assert_false(daemon_lastsent_pending(x->d, "15550100001", &out));
	mk_last(&e, "15550100001", 42);
	daemon_lastsent_add(x->d, &e);
	mk_last(&e, "15550100002", 43);
	daemon_lastsent_add(x->d, &e);
	assert_true(daemon_lastsent_pending(x->d, "15550100001", &out));
	assert_int_equal(out.time, 42);
	assert_true(daemon_lastsent_pending(x->d, "15550100002", &out));
	assert_int_equal(out.time, 43);
	assert_false(daemon_lastsent_pending(x->d, "15550100003", &out));
	daemon_flush(x->d);
	assert_false(daemon_lastsent_pending(x->d, "15550100001", &out));
}

/* The receipt map and last-sent go out together in one flush. */
static void
test_flush_both(void **state)
{
	struct dfx			*x = *state;
	struct store_lastsent_entry	 e;
	struct store_lastsent		 out;
	struct store_msgmap		 m;
	char				 account[STORE_NAME_MAX];

	memset(&m, 0, sizeof(m));
	snprintf(m.upstream, sizeof(m.upstream), "carrier");
	snprintf(m.message_id, sizeof(m.message_id), "ab12");
	snprintf(m.account, sizeof(m.account), "marketing");
	m.time = 1;
	daemon_msgmap_add(x->d, &m);
	mk_last(&e, "15550100009", 7);
	daemon_lastsent_add(x->d, &e);
	daemon_flush(x->d);
	assert_int_equal(x->d->nmsgmap, 0);
	assert_int_equal(x->d->nlastsent, 0);
	assert_int_equal(store_msgmap_get(x->d->store, "carrier", "AB12",
	    account), 1);
	assert_string_equal(account, "marketing");
	assert_int_equal(store_lastsent_get(x->d->store, "15550100009",
	    &out), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lastsent_coalesced, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lastsent_full_batch,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lastsent_pending, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flush_both, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("proxy/daemon", tests, NULL, NULL);
}
