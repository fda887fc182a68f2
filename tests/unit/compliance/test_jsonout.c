/*
 * JSON text output: string escapes (RFC 8259 section 7) and members.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "proxy/compliance/jsonout.h"
#include "tests/unit/compliance/compliance_fixture.h"

static void
test_str(void **state)
{
	char	*buf;
	FILE	*fp;

	(void)state;
	CFX_CAPTURE(buf, fp, jsonout_str(fp, "a\"b\\c\nd\re\tf\x01g\x1fh"));
	assert_string_equal(buf,
	    "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\"");
	free(buf);
	/* UTF-8 passes through; "/" needs no escape. */
	CFX_CAPTURE(buf, fp, jsonout_str(fp, "caf\xc3\xa9 a/b"));
	assert_string_equal(buf, "\"caf\xc3\xa9 a/b\"");
	free(buf);
	CFX_CAPTURE(buf, fp, jsonout_str(fp, ""));
	assert_string_equal(buf, "\"\"");
	free(buf);
}

static void
test_members(void **state)
{
	char	*buf;
	FILE	*fp;

	(void)state;
	CFX_CAPTURE(buf, fp, {
		fputc('{', fp);
		jsonout_kv_str(fp, "s", "x\"y", false);
		jsonout_kv_time(fp, "t", 1795700460, true);
		jsonout_kv_u64(fp, "n", UINT64_MAX, true);
		fputc('}', fp);
	});
	assert_string_equal(buf, "{\"s\":\"x\\\"y\",\"t\":"
	    "\"2026-11-26T13:41:00Z\",\"n\":18446744073709551615}");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_members),
	};

	return cmocka_run_group_tests_name("proxy/compliance/jsonout", tests,
	    NULL, NULL);
}
