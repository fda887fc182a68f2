/*
 * store_state_after: the state walk an export runs in chunks.
 *
 * Why: GET /v1/export streams a store of millions of numbers a chunk at a
 * time, each chunk a walk from the number after the last one sent. A
 * number whose digits begin another's (1555 and 15551) and a number
 * with several entries must each come exactly once, in the order of
 * store_state_all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/store/store_fixture.h"

struct seen {
	char	 list[64][64];
	size_t	 n;
	size_t	 stop_at;	/* stop before the first entry of a new
				 * number once this many were seen */
	char	 last[STORE_NUMBER_MAX];
};

static int
collect(const struct store_state_entry *e, void *arg)
{
	struct seen	*s = arg;

	if (s->stop_at != 0 && s->n >= s->stop_at &&
	    strcmp(e->number, s->last) != 0)
		return 1;
	snprintf(s->last, sizeof(s->last), "%s", e->number);
	if (s->n < 64)
		snprintf(s->list[s->n], sizeof(s->list[0]), "%s/%s", e->number,
		    e->category);
	s->n++;
	return 0;
}

static void
opt_out(struct store *st, const char *number, const char *cat)
{
	struct store_event	 ev;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.number, sizeof(ev.number), "%s", number);
	ev.time = 1000;
	ev.action = STORE_OPT_OUT;
	ev.source = STORE_SRC_STAFF;
	if (cat == NULL)
		ev.all = true;
	else {
		ev.ncategories = 1;
		snprintf(ev.categories[0], sizeof(ev.categories[0]), "%s",
		    cat);
	}
	assert_int_equal(store_optout_apply(st, &ev), 0);
}

static void
test_chunks(void **state)
{
	struct fx	*f = *state;
	struct seen	 all, part;
	size_t		 i;

	opt_out(f->st, "15551", "promo");
	opt_out(f->st, "1555", "promo");
	opt_out(f->st, "1555", "billing");
	opt_out(f->st, "1555", NULL);
	opt_out(f->st, "15550", "promo");
	opt_out(f->st, "2", "promo");
	memset(&all, 0, sizeof(all));
	assert_int_equal(store_state_all(f->st, collect, &all), 0);
	assert_int_equal(all.n, 6);
	assert_string_equal(all.list[0], "1555/*");

	/* Chunks of about one number: the same entries, once each. */
	memset(&part, 0, sizeof(part));
	for (i = 0; i < 10; i++) {
		struct seen	 s;
		char		 after[STORE_NUMBER_MAX];

		memset(&s, 0, sizeof(s));
		s.stop_at = 1;
		snprintf(after, sizeof(after), "%s", part.last);
		assert_int_equal(store_state_after(f->st, after, collect, &s),
		    0);
		if (s.n == 0)
			break;
		memcpy(part.list[part.n], s.list, s.n * sizeof(s.list[0]));
		part.n += s.n;
		snprintf(part.last, sizeof(part.last), "%s", s.last);
	}
	assert_int_equal(i, 4);		/* four numbers, then nothing */
	assert_int_equal(part.n, all.n);
	for (i = 0; i < all.n; i++)
		assert_string_equal(part.list[i], all.list[i]);

	memset(&part, 0, sizeof(part));
	assert_int_equal(store_state_after(f->st, "15551", collect, &part), 0);
	assert_int_equal(part.n, 1);
	assert_string_equal(part.list[0], "2/promo");
	assert_int_equal(store_state_after(f->st, "x" "12345678901234567890"
	    "1234", collect, &part), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chunks, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/state_after", tests, NULL,
	    NULL);
}
