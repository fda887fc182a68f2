/*
 * RFC 3339 times: parsing (zones, fractions, dates, leap days, junk) and
 * formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proxy/compliance/rfc3339.h"

static void
test_parse(void **state)
{
	int64_t	 t;

	(void)state;
	assert_int_equal(rfc3339_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(rfc3339_parse("2026-11-26T13:41:00Z", &t), 0);
	assert_int_equal(t, 1795700460);
	assert_int_equal(rfc3339_parse("2026-11-26T14:41:00+01:00", &t), 0);
	assert_int_equal(t, 1795700460);
	assert_int_equal(rfc3339_parse("2026-11-26T12:41:00-01:00", &t), 0);
	assert_int_equal(t, 1795700460);
	assert_int_equal(rfc3339_parse("2026-11-26t13:41:00.123z", &t), 0);
	assert_int_equal(t, 1795700460);
	assert_int_equal(rfc3339_parse("2026-11-26 13:41:00Z", &t), 0);
	assert_int_equal(t, 1795700460);
	assert_int_equal(rfc3339_parse("2026-11-26", &t), 0);
	assert_int_equal(t, 1795651200);
	assert_int_equal(rfc3339_parse("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(rfc3339_parse("2000-02-29", &t), 0);
	assert_int_equal(rfc3339_parse("1969-12-31T23:59:59Z", &t), 0);
	assert_int_equal(t, -1);
}

static void
test_parse_malformed(void **state)
{
	static const char *const bad[] = {
		"2023-02-29T00:00:00Z",		/* not a leap year */
		"1900-02-29",			/* nor this */
		"2026-13-01",
		"2026-04-31",
		"2026-00-10",
		"2026-11-26T13:41:00",		/* no zone */
		"2026-11-26T25:00:00Z",
		"2026-11-26T13:60:00Z",
		"2026-11-26T13:41:00.Z",	/* empty fraction */
		"2026-11-26T13:41:00+1:00",
		"2026-11-26T13:41:00+24:00",
		"2026-11-26T13:41Z",
		"2026-1-26",
		"yesterday",
		"",
		"2026-11-26T13:41:00Zjunk",
		"2026-11-26junk",
	};
	size_t	 i;
	int64_t	 t = 42;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rfc3339_parse(bad[i], &t) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(t, 42);
	}
}

static void
test_format(void **state)
{
	char	 buf[RFC3339_MAX];
	int64_t	 t;

	(void)state;
	assert_string_equal(rfc3339_format(0, buf, sizeof(buf)),
	    "1970-01-01T00:00:00Z");
	assert_string_equal(rfc3339_format(1795700460, buf, sizeof(buf)),
	    "2026-11-26T13:41:00Z");
	/* A round trip. */
	assert_int_equal(rfc3339_parse(buf, &t), 0);
	assert_int_equal(t, 1795700460);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("proxy/compliance/rfc3339", tests,
	    NULL, NULL);
}
