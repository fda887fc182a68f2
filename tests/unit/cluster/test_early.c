/*
 * proxy/cluster/early: of a batch read from the fleet, the remote
 * opt-outs the store will certainly block once it is applied are
 * enforced at once, by number and category; an opt-out followed in the
 * batch by another event of the same number (an opt-in, LESS) is left
 * to the store; the node's own rows and other kinds never count; once
 * withdrawn nothing is blocked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/cluster/cluster_int.h"

static struct cluster *
cluster_new(void)
{
	struct cluster *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->items = calloc(CLUSTER_FOLLOW_BATCH, sizeof(*c->items));
	c->early = calloc(CLUSTER_FOLLOW_BATCH, sizeof(*c->early));
	assert_non_null(c->items);
	assert_non_null(c->early);
	pthread_mutex_init(&c->early_mu, NULL);
	return c;
}

static void
cluster_del(struct cluster *c)
{
	pthread_mutex_destroy(&c->early_mu);
	free(c->items);
	free(c->early);
	free(c);
}

/* Row i: a remote event of number for cats ("*": all). */
static void
row(struct cluster *c, size_t i, const char *number,
    enum store_action action, const char *cats)
{
	struct store_cluster_item *it = &c->items[i];
	char buf[128], *p, *save = NULL;

	memset(it, 0, sizeof(*it));
	it->kind = STORE_JOURNAL_EVENT;
	snprintf(it->ev.number, sizeof(it->ev.number), "%s", number);
	it->ev.action = action;
	if (strcmp(cats, "*") == 0) {
		it->ev.all = true;
		return;
	}
	snprintf(buf, sizeof(buf), "%s", cats);
	for (p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		snprintf(it->ev.categories[it->ev.ncategories++],
		    STORE_NAME_MAX, "%s", p);
}

static void
test_categories_and_all(void **state)
{
	struct cluster *c = cluster_new();

	(void)state;
	row(c, 0, "15550000003", STORE_OPT_OUT, "promo,billing");
	row(c, 1, "15550000001", STORE_OPT_OUT, "*");
	row(c, 2, "15550000002", STORE_OPT_OUT, "promo");
	assert_false(cluster_early_blocks(c, "15550000003", "promo"));
	cluster_early_publish(c, 3);
	assert_true(cluster_early_blocks(c, "15550000003", "promo"));
	assert_true(cluster_early_blocks(c, "15550000003", "billing"));
	assert_false(cluster_early_blocks(c, "15550000003", "appointments"));
	assert_true(cluster_early_blocks(c, "15550000001", "anything"));
	assert_true(cluster_early_blocks(c, "15550000002", "promo"));
	assert_false(cluster_early_blocks(c, "15550000002", "billing"));
	assert_false(cluster_early_blocks(c, "15550000004", "promo"));
	assert_false(cluster_early_blocks(c, "1555000000", "promo"));
	cluster_early_withdraw(c);
	assert_false(cluster_early_blocks(c, "15550000001", "promo"));
	assert_false(cluster_early_blocks(NULL, "15550000001", "promo"));
	cluster_del(c);
}

static void
test_later_events_leave_it_to_the_store(void **state)
{
	struct cluster *c = cluster_new();

	(void)state;
	/* Opt-out then opt-in: the store decides (exceptions, scopes). */
	row(c, 0, "15550000001", STORE_OPT_OUT, "promo");
	row(c, 1, "15550000001", STORE_OPT_IN, "billing");
	/* Opt-in then opt-out: the opt-out stands. */
	row(c, 2, "15550000002", STORE_OPT_IN, "*");
	row(c, 3, "15550000002", STORE_OPT_OUT, "promo");
	/* LESS after an opt-out: left to the store as well. */
	row(c, 4, "15550000003", STORE_OPT_OUT, "promo");
	row(c, 5, "15550000003", STORE_LESS, "promo");
	/* Two opt-outs: both count. */
	row(c, 6, "15550000004", STORE_OPT_OUT, "promo");
	row(c, 7, "15550000004", STORE_OPT_OUT, "billing");
	cluster_early_publish(c, 8);
	assert_false(cluster_early_blocks(c, "15550000001", "promo"));
	assert_true(cluster_early_blocks(c, "15550000002", "promo"));
	assert_false(cluster_early_blocks(c, "15550000002", "billing"));
	assert_false(cluster_early_blocks(c, "15550000003", "promo"));
	assert_true(cluster_early_blocks(c, "15550000004", "promo"));
	assert_true(cluster_early_blocks(c, "15550000004", "billing"));
	cluster_del(c);
}

static void
test_own_rows_and_other_kinds(void **state)
{
	struct cluster *c = cluster_new();
	size_t i;

	(void)state;
	row(c, 0, "15550000001", STORE_OPT_OUT, "promo");
	c->items[0].is_own = true;	/* in the store already */
	row(c, 1, "15550000002", STORE_OPT_OUT, "promo");
	c->items[1].kind = STORE_JOURNAL_AUDIT;
	cluster_early_publish(c, 2);
	assert_false(cluster_early_blocks(c, "15550000001", "promo"));
	assert_false(cluster_early_blocks(c, "15550000002", "promo"));
	/* A full batch, published again over the last. */
	for (i = 0; i < CLUSTER_FOLLOW_BATCH; i++) {
		char num[24];

		snprintf(num, sizeof(num), "1556%07zu",
		    (i * 7919) % CLUSTER_FOLLOW_BATCH);
		row(c, i, num, STORE_OPT_OUT, "promo");
	}
	cluster_early_publish(c, CLUSTER_FOLLOW_BATCH);
	for (i = 0; i < CLUSTER_FOLLOW_BATCH; i += 97) {
		char num[24];

		snprintf(num, sizeof(num), "1556%07zu", i);
		assert_true(cluster_early_blocks(c, num, "promo"));
	}
	assert_false(cluster_early_blocks(c, "15560001000", "promo"));
	cluster_del(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_categories_and_all),
		cmocka_unit_test(test_later_events_leave_it_to_the_store),
		cmocka_unit_test(test_own_rows_and_other_kinds),
	};

	return cmocka_run_group_tests_name("cluster/early", tests, NULL,
	    NULL);
}
