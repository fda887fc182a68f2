/*
 * cli_put_text(): what the CLI prints for people from text it did not
 * write. A newline must not start a forged line, an escape sequence must
 * not reach the terminal, a bidirectional override must not reorder the
 * line, and plain text (accents, emoji) must print as it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/cli/cli_int.h"

static char out[1024];

static const char *
put(const char *s)
{
	FILE	*fp;

	memset(out, 0, sizeof(out));
	fp = fmemopen(out, sizeof(out) - 1, "w");
	assert_non_null(fp);
	cli_put_text(fp, s);
	fclose(fp);
	return out;
}

static void
test_plain_text_unchanged(void **state)
{
	(void)state;
	assert_string_equal(put("STOP please"), "STOP please");
	assert_string_equal(put("ARR\xc3\x8aT \xf0\x9f\x9b\x91"),
	    "ARR\xc3\x8aT \xf0\x9f\x9b\x91");
	assert_string_equal(put(""), "");
}

static void
test_line_breaks_and_quotes_escaped(void **state)
{
	(void)state;
	assert_string_equal(put("a\nb\rc\td"), "a\\nb\\rc\\td");
	assert_string_equal(put("say \"hi\" \\o/"), "say \\\"hi\\\" \\\\o/");
}

static void
test_controls_escaped(void **state)
{
	(void)state;
	assert_string_equal(put("\x1b[2J\x07\x7f"), "\\x1b[2J\\x07\\x7f");
	/* C1 control U+009B (a one-byte CSI on some terminals). */
	assert_string_equal(put("a\xc2\x9b" "b"), "a\\u{009b}b");
}

static void
test_bidi_and_separators_escaped(void **state)
{
	(void)state;
	assert_string_equal(put("x\xe2\x80\xaey"), "x\\u{202e}y");
	assert_string_equal(put("x\xe2\x81\xa6y"), "x\\u{2066}y");
	assert_string_equal(put("x\xe2\x80\xa8y"), "x\\u{2028}y");
}

static void
test_invalid_utf8_escaped_bytewise(void **state)
{
	(void)state;
	/* A lone continuation byte, a truncated sequence, an overlong '/',
	 * and a surrogate. */
	assert_string_equal(put("\x80"), "\\x80");
	assert_string_equal(put("\xe2\x80"), "\\xe2\\x80");
	assert_string_equal(put("\xc0\xaf"), "\\xc0\\xaf");
	assert_string_equal(put("\xed\xa0\x80"), "\\xed\\xa0\\x80");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_line_breaks_and_quotes_escaped),
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_bidi_and_separators_escaped),
		cmocka_unit_test(test_invalid_utf8_escaped_bytewise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
