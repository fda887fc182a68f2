/*
 * proxy/reassembly: joining concatenated MO parts in order, duplicates,
 * keys kept apart, the timeout, the slot bound with eviction of the
 * oldest, the per-message part bound, and redelivery after completion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/policy/reassembly.h"

static struct reasm_key
mk_key(const char *sub, const char *in, uint16_t ref, uint8_t total)
{
	struct reasm_key	 k;

	memset(&k, 0, sizeof(k));
	snprintf(k.subscriber, sizeof(k.subscriber), "%s", sub);
	snprintf(k.inbound, sizeof(k.inbound), "%s", in);
	k.ref = ref;
	k.total = total;
	return k;
}

static enum reasm_result
add(struct reasm *r, const struct reasm_key *k, uint8_t seq,
    const char *text, int64_t now, const char **out)
{
	size_t	 len;

	return reasm_add(r, k, seq, text, strlen(text), now, out, &len);
}

static void
test_in_order(void **state)
{
	struct reasm		*r = reasm_new(0, 60000);
	struct reasm_key	 k = mk_key("15551230000", "12345", 7, 3);
	struct reasm_stats	 st;
	const char		*t;

	(void)state;
	assert_non_null(r);
	assert_int_equal(add(r, &k, 1, "please ", 1000, &t), REASM_PENDING);
	assert_null(t);
	assert_int_equal(add(r, &k, 2, "stop ", 1001, &t), REASM_PENDING);
	assert_int_equal(add(r, &k, 3, "texting me", 1002, &t),
	    REASM_COMPLETE);
	assert_string_equal(t, "please stop texting me");
	reasm_stats_get(r, &st);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.active, 1);	/* kept for redeliveries */
	reasm_free(r);
}

static void
test_out_of_order_and_duplicates(void **state)
{
	struct reasm		*r = reasm_new(0, 60000);
	struct reasm_key	 k = mk_key("15551230000", "12345", 0xBEEF, 3);
	struct reasm_stats	 st;
	const char		*t;
	size_t			 len;

	(void)state;
	assert_int_equal(add(r, &k, 3, "C", 0, &t), REASM_PENDING);
	assert_int_equal(add(r, &k, 3, "C", 1, &t), REASM_DUPLICATE);
	assert_int_equal(add(r, &k, 1, "A", 2, &t), REASM_PENDING);
	assert_int_equal(add(r, &k, 1, "X", 3, &t), REASM_DUPLICATE);
	assert_int_equal(reasm_add(r, &k, 2, "B", 1, 4, &t, &len),
	    REASM_COMPLETE);
	assert_string_equal(t, "ABC");
	assert_int_equal(len, 3);
	/* A part redelivered after completion (the SMSC retrying after a
	 * temporary error) gives the whole text again. */
	assert_int_equal(add(r, &k, 2, "B", 5, &t), REASM_COMPLETE);
	assert_string_equal(t, "ABC");
	reasm_stats_get(r, &st);
	assert_int_equal(st.duplicates, 2);
	assert_int_equal(st.completed, 1);
	reasm_free(r);
}

static void
test_keys_apart(void **state)
{
	struct reasm		*r = reasm_new(0, 60000);
	struct reasm_key	 a = mk_key("15551230000", "12345", 1, 2);
	struct reasm_key	 b = mk_key("15551230001", "12345", 1, 2);
	struct reasm_key	 c = mk_key("15551230000", "15550100", 1, 2);
	struct reasm_key	 d = mk_key("15551230000", "12345", 2, 2);
	struct reasm_key	 e = mk_key("15551230000", "12345", 1, 3);
	const char		*t;

	(void)state;
	assert_int_equal(add(r, &a, 1, "a1", 0, &t), REASM_PENDING);
	assert_int_equal(add(r, &b, 2, "b2", 0, &t), REASM_PENDING);
	assert_int_equal(add(r, &c, 2, "c2", 0, &t), REASM_PENDING);
	assert_int_equal(add(r, &d, 2, "d2", 0, &t), REASM_PENDING);
	assert_int_equal(add(r, &e, 2, "e2", 0, &t), REASM_PENDING);
	assert_int_equal(add(r, &a, 2, "a2", 0, &t), REASM_COMPLETE);
	assert_string_equal(t, "a1a2");
	assert_int_equal(add(r, &b, 1, "b1", 0, &t), REASM_COMPLETE);
	assert_string_equal(t, "b1b2");
	assert_int_equal(add(r, &e, 1, "e1", 0, &t), REASM_PENDING);
	reasm_free(r);
}

static void
test_timeout(void **state)
{
	struct reasm		*r = reasm_new(0, 5000);
	struct reasm_key	 k = mk_key("15551230000", "12345", 9, 2);
	struct reasm_stats	 st;
	const char		*t;

	(void)state;
	assert_int_equal(add(r, &k, 1, "STO", 10000, &t), REASM_PENDING);
	/* Within the timeout: joined. */
	assert_int_equal(reasm_expire(r, 15000), 0);
	/* Past it: the first part is gone, the second waits alone. */
	assert_int_equal(add(r, &k, 2, "P", 15001, &t), REASM_PENDING);
	reasm_stats_get(r, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.active, 1);
	assert_int_equal(reasm_expire(r, 30000), 1);
	reasm_stats_get(r, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.expired, 2);

	/* A completed message is kept one timeout after completion. */
	assert_int_equal(add(r, &k, 1, "A", 40000, &t), REASM_PENDING);
	assert_int_equal(add(r, &k, 2, "B", 44000, &t), REASM_COMPLETE);
	assert_int_equal(add(r, &k, 2, "B", 48000, &t), REASM_COMPLETE);
	assert_int_equal(reasm_expire(r, 49001), 1);
	reasm_stats_get(r, &st);
	assert_int_equal(st.expired, 2);	/* complete: not "expired" */
	reasm_free(r);
}

static void
test_slot_bound(void **state)
{
	struct reasm		*r = reasm_new(4, 60000);
	struct reasm_key	 k[6];
	struct reasm_stats	 st;
	const char		*t;
	char			 sub[24];
	int			 i;

	(void)state;
	for (i = 0; i < 6; i++) {
		snprintf(sub, sizeof(sub), "1555123000%d", i);
		k[i] = mk_key(sub, "12345", 1, 2);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(add(r, &k[i], 1, "x", 100 + i, &t),
		    REASM_PENDING);
	/* Full: the fifth evicts the oldest (k[0]). */
	assert_int_equal(add(r, &k[4], 1, "x", 200, &t), REASM_PENDING);
	reasm_stats_get(r, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.active, 4);
	assert_int_equal(add(r, &k[0], 2, "y", 201, &t), REASM_PENDING);
	/* ... which evicted k[1]; k[2] still completes. */
	assert_int_equal(add(r, &k[2], 2, "y", 202, &t), REASM_COMPLETE);
	assert_string_equal(t, "xy");
	/* A completed slot is evicted before any waiting one. */
	assert_int_equal(add(r, &k[5], 1, "z", 203, &t), REASM_PENDING);
	reasm_stats_get(r, &st);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(add(r, &k[3], 2, "y", 204, &t), REASM_COMPLETE);
	reasm_free(r);
}

static void
test_part_bounds(void **state)
{
	struct reasm		*r = reasm_new(0, 60000);
	struct reasm_key	 big = mk_key("1", "2", 1, REASM_PARTS_MAX + 1);
	struct reasm_key	 max = mk_key("1", "2", 2, REASM_PARTS_MAX);
	struct reasm_key	 one = mk_key("1", "2", 3, 1);
	char			*longtext, expect[REASM_PARTS_MAX + 1];
	const char		*t;
	size_t			 len;
	int			 i;

	(void)state;
	assert_int_equal(add(r, &big, 1, "x", 0, &t), REASM_TOO_MANY);
	assert_int_equal(add(r, &one, 1, "x", 0, &t), REASM_INVALID);
	assert_int_equal(add(r, &max, 0, "x", 0, &t), REASM_INVALID);
	assert_int_equal(add(r, &max, REASM_PARTS_MAX + 1, "x", 0, &t),
	    REASM_INVALID);
	for (i = REASM_PARTS_MAX; i >= 2; i--) {
		char	 c[2] = { (char)('a' + i - 1), '\0' };

		assert_int_equal(add(r, &max, (uint8_t)i, c, 0, &t),
		    REASM_PENDING);
	}
	assert_int_equal(add(r, &max, 1, "a", 0, &t), REASM_COMPLETE);
	for (i = 0; i < REASM_PARTS_MAX; i++)
		expect[i] = (char)('a' + i);
	expect[REASM_PARTS_MAX] = '\0';
	assert_string_equal(t, expect);

	/* A part longer than REASM_PART_TEXT_MAX is cut at a character
	 * boundary (here: a 2-byte é straddles the limit). */
	longtext = malloc(REASM_PART_TEXT_MAX + 10);
	assert_non_null(longtext);
	memset(longtext, 'a', REASM_PART_TEXT_MAX + 10);
	longtext[REASM_PART_TEXT_MAX - 1] = (char)0xC3;
	longtext[REASM_PART_TEXT_MAX] = (char)0xA9;
	max.ref = 99;
	max.total = 2;
	assert_int_equal(reasm_add(r, &max, 1, longtext,
	    REASM_PART_TEXT_MAX + 10, 0, &t, &len), REASM_PENDING);
	assert_int_equal(add(r, &max, 2, "Z", 0, &t), REASM_COMPLETE);
	len = strlen(t);
	assert_int_equal(len, REASM_PART_TEXT_MAX - 1 + 1);
	assert_int_equal(t[len - 1], 'Z');
	assert_int_equal(t[len - 2], 'a');
	free(longtext);
	reasm_free(r);
}

static void
test_timeout_change(void **state)
{
	struct reasm		*r = reasm_new(0, 1000);
	struct reasm_key	 k = mk_key("1", "2", 1, 2);
	const char		*t;

	(void)state;
	reasm_set_timeout(r, 100000);
	assert_int_equal(add(r, &k, 1, "a", 0, &t), REASM_PENDING);
	assert_int_equal(add(r, &k, 2, "b", 50000, &t), REASM_COMPLETE);
	assert_string_equal(reasm_result_name(REASM_TOO_MANY),
	    "too_many_parts");
	reasm_free(r);
	reasm_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order_and_duplicates),
		cmocka_unit_test(test_keys_apart),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_slot_bound),
		cmocka_unit_test(test_part_bounds),
		cmocka_unit_test(test_timeout_change),
	};

	return cmocka_run_group_tests_name("proxy/reassembly", tests, NULL,
	    NULL);
}
