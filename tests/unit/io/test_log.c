/*
 * proxy/log: one event, one line.
 *
 * Bug: log lines carry values that peers choose (an MO's source address,
 * a bind's system_id, an admin request's path segment). A value holding a
 * CR or LF split the line, so a peer could append a forged
 * "level=info event=..." line of its own to the log. Control bytes are now
 * written as '?'; UTF-8 text is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy/io/log.h"

/* Run fn with stderr sent to a temporary file; return what it wrote. */
static char *
capture(void (*fn)(void))
{
	static char	 buf[4096];
	FILE		*tmp;
	size_t		 n;
	int		 saved;

	fflush(stderr);
	assert_non_null(tmp = tmpfile());
	assert_true((saved = dup(fileno(stderr))) >= 0);
	assert_true(dup2(fileno(tmp), fileno(stderr)) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, fileno(stderr)) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static size_t
count_lines(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

static void
log_forged(void)
{
	log_info("event=mo_bad_sender source=%s",
	    "x\nlevel=info event=admin_opt_in number=15551230000\r");
}

static void
test_control_bytes_do_not_split_lines(void **state)
{
	const char	*out;

	(void)state;
	out = capture(log_forged);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "source=x?level=info event=admin_opt_in "
	    "number=15551230000?\n"));
}

static void
log_utf8(void)
{
	log_warnx("event=mo text=\"ARR\xc3\x8aT \xf0\x9f\x9b\x91\" tab=a\tb");
}

static void
test_utf8_kept(void **state)
{
	const char	*out;

	(void)state;
	out = capture(log_utf8);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "text=\"ARR\xc3\x8aT \xf0\x9f\x9b\x91\" "
	    "tab=a?b\n"));
	assert_non_null(strstr(out, "level=warn "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_bytes_do_not_split_lines),
		cmocka_unit_test(test_utf8_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
