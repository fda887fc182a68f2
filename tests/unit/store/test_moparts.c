/*
 * store/moparts: waiting parts of concatenated MOs are kept, replaced,
 * deleted per message, expired and walked back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/store/store_fixture.h"

struct seen {
	size_t			 n;
	struct store_mopart	 p[8];
};

static int
collect(const struct store_mopart *p, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->p[s->n] = *p;
	s->n++;
	return 0;
}

static void
part(struct store_mopart *p, const char *sub, uint16_t ref, uint8_t total,
    uint8_t seq, int64_t t, const char *text)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->subscriber, sizeof(p->subscriber), "%s", sub);
	snprintf(p->inbound, sizeof(p->inbound), "12345");
	p->ref = ref;
	p->total = total;
	p->seq = seq;
	p->time = t;
	p->len = strlen(text);
	memcpy(p->text, text, p->len);
}

static void
test_put_load_del(void **state)
{
	struct fx		*f = *state;
	struct store_mopart	 p;
	struct seen		 s;

	part(&p, "15550100001", 0x1234, 3, 2, 1000, "OP");
	assert_int_equal(store_mopart_put(f->st, &p, 0), 0);
	part(&p, "15550100001", 0x1234, 3, 1, 1001, "ST");
	assert_int_equal(store_mopart_put(f->st, &p, 0), 0);
	/* Replaced, not added. */
	assert_int_equal(store_mopart_put(f->st, &p, 0), 0);
	part(&p, "15550100002", 0x1234, 2, 1, 1002, "hello ");
	assert_int_equal(store_mopart_put(f->st, &p, 0), 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mopart_load(f->st, 0, collect, &s), 0);
	assert_int_equal(s.n, 3);
	/* A message's parts together, by seq. */
	assert_string_equal(s.p[0].subscriber, "15550100001");
	assert_string_equal(s.p[0].inbound, "12345");
	assert_int_equal(s.p[0].seq, 1);
	assert_int_equal(s.p[0].ref, 0x1234);
	assert_int_equal(s.p[0].total, 3);
	assert_int_equal(s.p[0].time, 1001);
	assert_int_equal(s.p[0].len, 2);
	assert_memory_equal(s.p[0].text, "ST", 2);
	assert_int_equal(s.p[1].seq, 2);
	assert_memory_equal(s.p[1].text, "OP", 2);
	assert_string_equal(s.p[2].subscriber, "15550100002");

	/* Deleting one message leaves the other. */
	part(&p, "15550100001", 0x1234, 3, 0, 0, "");
	assert_int_equal(store_mopart_del(f->st, &p), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mopart_load(f->st, 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.p[0].subscriber, "15550100002");
	/* Nothing to delete is no error. */
	assert_int_equal(store_mopart_del(f->st, &p), 0);

	/* Bad fields. */
	part(&p, "", 1, 2, 1, 1, "x");
	assert_int_equal(store_mopart_put(f->st, &p, 0), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_INVAL);
	part(&p, "15550100003", 1, 2, 3, 1, "x");
	assert_int_equal(store_mopart_put(f->st, &p, 0), -1);
	part(&p, "15550100003", 1, 1, 1, 1, "x");
	assert_int_equal(store_mopart_put(f->st, &p, 0), -1);
}

static void
test_expire(void **state)
{
	struct fx		*f = *state;
	struct store_mopart	 p;
	struct seen		 s;

	part(&p, "15550100001", 7, 2, 1, 1000, "old");
	assert_int_equal(store_mopart_put(f->st, &p, 0), 0);
	part(&p, "15550100002", 7, 2, 1, 2000, "mid");
	assert_int_equal(store_mopart_put(f->st, &p, 0), 0);
	part(&p, "15550100003", 7, 2, 1, 3000, "new");
	assert_int_equal(store_mopart_put(f->st, &p, 0), 0);

	/* Loading deletes what is past the timeout. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mopart_load(f->st, 1500, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.p[0].subscriber, "15550100002");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mopart_load(f->st, 0, collect, &s), 0);
	assert_int_equal(s.n, 2);

	/* So does keeping a new part. */
	part(&p, "15550100004", 7, 2, 1, 4000, "newest");
	assert_int_equal(store_mopart_put(f->st, &p, 2500), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mopart_load(f->st, 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.p[0].subscriber, "15550100003");
	assert_string_equal(s.p[1].subscriber, "15550100004");

	/* Everything expired: an empty table. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mopart_load(f->st, 99999, collect, &s), 0);
	assert_int_equal(s.n, 0);
}

static void
test_persist(void **state)
{
	struct fx		*f = *state;
	struct store_mopart	 p;
	struct seen		 s;
	char			 big[STORE_MOPART_TEXT_MAX + 1];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	part(&p, "15550100001", 65535, 16, 16, 5, "");
	memcpy(p.text, big, STORE_MOPART_TEXT_MAX);
	p.len = STORE_MOPART_TEXT_MAX;
	assert_int_equal(store_mopart_put(f->st, &p, 0), 0);
	/* A part longer than the table holds is refused. */
	p.len = STORE_MOPART_TEXT_MAX + 1;
	assert_int_equal(store_mopart_put(f->st, &p, 0), -1);

	/* Across a reopen. */
	store_free(f->st);
	assert_non_null(f->st = fx_open(f, 8, 64));
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_mopart_load(f->st, 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.p[0].ref, 65535);
	assert_int_equal(s.p[0].seq, 16);
	assert_int_equal(s.p[0].len, STORE_MOPART_TEXT_MAX);
	assert_memory_equal(s.p[0].text, big, STORE_MOPART_TEXT_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_load_del, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_expire, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_persist, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/moparts", tests, NULL,
	    NULL);
}
