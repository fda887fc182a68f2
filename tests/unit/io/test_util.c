/*
 * proxy/util: str_copy(), once copied identically into session.c, dlr.c
 * and inbound.c, now one static inline shared by them. Truncation, the
 * terminating NUL, cap 0 and 1, and a source not terminated within cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/io/util.h"

static void
test_str_copy_fits(void **state)
{
	char	dst[8];

	(void)state;
	memset(dst, 'x', sizeof(dst));
	str_copy(dst, sizeof(dst), "abc");
	assert_string_equal(dst, "abc");
	str_copy(dst, sizeof(dst), "");
	assert_string_equal(dst, "");
	str_copy(dst, sizeof(dst), "1234567");
	assert_string_equal(dst, "1234567");
}

static void
test_str_copy_truncates(void **state)
{
	char	dst[4];
	/* Not NUL-terminated: only cap - 1 bytes may be read. */
	const char src[5] = { 'a', 'b', 'c', 'd', 'e' };

	(void)state;
	str_copy(dst, sizeof(dst), "abcdef");
	assert_string_equal(dst, "abc");
	str_copy(dst, sizeof(dst), src);
	assert_string_equal(dst, "abc");
}

static void
test_str_copy_tiny_cap(void **state)
{
	char	dst[2] = { 'x', 'y' };

	(void)state;
	str_copy(dst, 0, "abc");
	assert_int_equal(dst[0], 'x');
	str_copy(dst, 1, "abc");
	assert_int_equal(dst[0], '\0');
	assert_int_equal(dst[1], 'y');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_copy_fits),
		cmocka_unit_test(test_str_copy_truncates),
		cmocka_unit_test(test_str_copy_tiny_cap),
	};

	return cmocka_run_group_tests_name("proxy/util", tests, NULL, NULL);
}
