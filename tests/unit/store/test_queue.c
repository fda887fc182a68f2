/*
 * store/queue: review queue (add, list oldest first, resolve with or
 * without an opt-out), outbox (order, bound, peek, walk, delete, count)
 * and the confirmation loop guard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/queue_int.h"
#include "tests/unit/store/store_fixture.h"

static void
mk_review(struct store_review *r, int64_t t, const char *number,
    const char *text)
{
	memset(r, 0, sizeof(*r));
	r->time = t;
	snprintf(r->number, sizeof(r->number), "%s", number);
	snprintf(r->inbound, sizeof(r->inbound), "15550100");
	snprintf(r->account, sizeof(r->account), "frontdesk");
	snprintf(r->text, sizeof(r->text), "%s", text);
}

struct reviews {
	struct store_review r[8];
	size_t		 n;
};

static int
review_cb(const struct store_review *r, void *arg)
{
	struct reviews *s = arg;

	if (s->n < 8)
		s->r[s->n] = *r;
	s->n++;
	return 0;
}

static void
test_review(void **state)
{
	struct fx *f = *state;
	struct store_review r[3], got;
	struct store_event ev;
	struct reviews s;

	mk_review(&r[0], 100, "15550100001", "please cancel my appointment");
	mk_review(&r[1], 200, "15550100002", "end of story");
	mk_review(&r[2], 300, "15550100003", "remove me maybe");
	assert_int_equal(store_review_add(f->st, &r[0]), 0);
	assert_int_equal(store_review_add(f->st, &r[1]), 0);
	assert_int_equal(store_review_add(f->st, &r[2]), 0);
	assert_true(r[0].id < r[1].id && r[1].id < r[2].id);

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_review_list(f->st, review_cb, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.r[0].text, "please cancel my appointment");
	assert_int_equal(s.r[0].status, STORE_REVIEW_OPEN);
	assert_string_equal(s.r[2].number, "15550100003");

	/* Dismiss one. */
	assert_int_equal(store_review_resolve(f->st, r[1].id,
	    STORE_REVIEW_DISMISSED, "alice", "not an opt-out", 400, NULL), 0);
	/* Resolve one as an opt-out: the event is applied atomically. */
	fx_event(&ev, "15550100003", STORE_OPT_OUT, 410, NULL, NULL);
	assert_int_equal(store_review_resolve(f->st, r[2].id,
	    STORE_REVIEW_OPTED_OUT, "bob", "clearly wants out", 410, &ev), 0);
	assert_true(ev.id > 0);
	assert_int_equal(store_optout_check(f->st, "15550100003", "promo",
	    NULL), 1);

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_review_list(f->st, review_cb, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.r[0].id, r[0].id);

	assert_int_equal(store_review_get(f->st, r[2].id, &got), 1);
	assert_int_equal(got.status, STORE_REVIEW_OPTED_OUT);
	assert_string_equal(got.actor, "bob");
	assert_string_equal(got.note, "clearly wants out");
	assert_int_equal(got.resolved_time, 410);
	assert_int_equal(got.event_id, ev.id);
	assert_int_equal(store_review_get(f->st, 999, &got), 0);

	/* Twice: refused, and the event is not applied again. */
	fx_event(&ev, "15550100002", STORE_OPT_OUT, 420, NULL, NULL);
	assert_int_equal(store_review_resolve(f->st, r[1].id,
	    STORE_REVIEW_OPTED_OUT, "bob", "", 420, &ev), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_EXISTS);
	assert_int_equal(store_optout_check(f->st, "15550100002", "promo",
	    NULL), 0);
	assert_int_equal(store_review_resolve(f->st, 999,
	    STORE_REVIEW_DISMISSED, "bob", "", 420, NULL), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_NOTFOUND);
	/* Bad combinations. */
	assert_int_equal(store_review_resolve(f->st, r[0].id,
	    STORE_REVIEW_OPTED_OUT, "bob", "", 420, NULL), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	assert_int_equal(store_review_resolve(f->st, r[0].id,
	    STORE_REVIEW_OPEN, "bob", "", 420, NULL), -1);
	mk_review(&r[0], 1, "", "x");
	assert_int_equal(store_review_add(f->st, &r[0]), -1);
}

struct obs {
	uint64_t	 id[16];
	char		 pdu[16][16];
	size_t		 n;
};

static int
ob_cb(uint64_t id, int64_t time, const uint8_t *pdu, size_t len, void *arg)
{
	struct obs *o = arg;

	(void)time;
	if (o->n < 16) {
		o->id[o->n] = id;
		snprintf(o->pdu[o->n], sizeof(o->pdu[0]), "%.*s", (int)len,
		    (const char *)pdu);
	}
	o->n++;
	return 0;
}

static void
test_outbox(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64];
	char name[16];
	uint64_t id, ids[5];
	size_t len, n;
	int64_t t;
	struct obs o;
	int i;

	assert_int_equal(store_outbox_peek(f->st, "frontdesk", &id, buf,
	    sizeof(buf), &len, &t), 0);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "pdu%d", i);
		assert_int_equal(store_outbox_put(f->st, "frontdesk",
		    (const uint8_t *)name, strlen(name), 100 + i, 5, &ids[i]),
		    0);
	}
	/* Another account, whose name extends the first one's. */
	assert_int_equal(store_outbox_put(f->st, "frontdesk2",
	    (const uint8_t *)"other", 5, 100, 5, NULL), 0);
	/* The bound: full is distinguishable. */
	assert_int_equal(store_outbox_put(f->st, "frontdesk",
	    (const uint8_t *)"x", 1, 200, 5, NULL), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_FULL);
	assert_int_equal(store_outbox_count(f->st, "frontdesk", &n), 0);
	assert_int_equal(n, 5);

	assert_int_equal(store_outbox_peek(f->st, "frontdesk", &id, buf,
	    sizeof(buf), &len, &t), 1);
	assert_int_equal(id, ids[0]);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "pdu0", 4);
	assert_int_equal(t, 100);
	/* Too small a buffer: error, with the size needed. */
	assert_int_equal(store_outbox_peek(f->st, "frontdesk", &id, buf, 2,
	    &len, NULL), -1);
	assert_int_equal(len, 4);

	memset(&o, 0, sizeof(o));
	assert_int_equal(store_outbox_walk(f->st, "frontdesk", ids[1], 2,
	    ob_cb, &o), 0);
	assert_int_equal(o.n, 2);
	assert_string_equal(o.pdu[0], "pdu2");
	assert_string_equal(o.pdu[1], "pdu3");

	assert_int_equal(store_outbox_del(f->st, "frontdesk", ids[0]), 0);
	assert_int_equal(store_outbox_del(f->st, "frontdesk", ids[0]), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_NOTFOUND);
	assert_int_equal(store_outbox_peek(f->st, "frontdesk", &id, buf,
	    sizeof(buf), &len, NULL), 1);
	assert_int_equal(id, ids[1]);
	assert_memory_equal(buf, "pdu1", 4);
	/* Room again; the new one goes to the back. */
	assert_int_equal(store_outbox_put(f->st, "frontdesk",
	    (const uint8_t *)"pdu5", 4, 300, 5, &id), 0);
	assert_true(id > ids[4]);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_outbox_walk(f->st, "frontdesk", 0, 0, ob_cb,
	    &o), 0);
	assert_int_equal(o.n, 5);
	assert_string_equal(o.pdu[0], "pdu1");
	assert_string_equal(o.pdu[4], "pdu5");

	assert_int_equal(store_outbox_count(f->st, "frontdesk2", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_outbox_count(f->st, "nobody", &n), 0);
	assert_int_equal(n, 0);
	/* Unbounded with max 0. */
	for (i = 0; i < 10; i++)
		assert_int_equal(store_outbox_put(f->st, "frontdesk2",
		    (const uint8_t *)"y", 1, 400, 0, NULL), 0);
	assert_int_equal(store_outbox_count(f->st, "frontdesk2", &n), 0);
	assert_int_equal(n, 11);
	assert_int_equal(store_outbox_put(f->st, "", (const uint8_t *)"y", 1,
	    400, 0, NULL), -1);
}

static void
test_confirm(void **state)
{
	struct fx *f = *state;
	const char *n = "15550100001";

	assert_int_equal(store_confirm_mark(f->st, n, STORE_CONFIRM_OPT_OUT,
	    1000, 86400), 1);
	assert_int_equal(store_confirm_mark(f->st, n, STORE_CONFIRM_OPT_OUT,
	    1000 + 3600, 86400), 0);
	/* Other kinds and numbers are separate. */
	assert_int_equal(store_confirm_mark(f->st, n, STORE_CONFIRM_HELP,
	    1000 + 3600, 86400), 1);
	assert_int_equal(store_confirm_mark(f->st, n, STORE_CONFIRM_OPT_IN,
	    1000 + 3600, 86400), 1);
	assert_int_equal(store_confirm_mark(f->st, "15550100002",
	    STORE_CONFIRM_OPT_OUT, 1000 + 3600, 86400), 1);
	/* A refusal does not extend the window. */
	assert_int_equal(store_confirm_mark(f->st, n, STORE_CONFIRM_OPT_OUT,
	    1000 + 86399, 86400), 0);
	assert_int_equal(store_confirm_mark(f->st, n, STORE_CONFIRM_OPT_OUT,
	    1000 + 86400, 86400), 1);
	assert_int_equal(store_confirm_mark(f->st, n, STORE_CONFIRM_OPT_OUT,
	    1000 + 86401, 86400), 0);
	assert_int_equal(store_confirm_mark(f->st, "", STORE_CONFIRM_OPT_OUT,
	    1, 1), -1);
	assert_int_equal(store_confirm_mark(f->st, n, (enum store_confirm)9,
	    1, 1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_review, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_outbox, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_confirm, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/queue", tests, NULL, NULL);
}
