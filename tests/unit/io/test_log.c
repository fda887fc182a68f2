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

/*
 * The limiter: a peer that causes lines at will (garbage PDUs before
 * bind wrote one each, millions in seconds) gets per_sec a second, then
 * one summary line for the rest of that second.
 */
static struct log_limit	lim;
static unsigned		allowed;

static void
limit_flood(void)
{
	unsigned	i;

	log_limit_init(&lim, 3);
	allowed = 0;
	/* 1,000 lines in the first second, from one address. */
	for (i = 0; i < 1000; i++)
		if (log_limit_allow(&lim, "10.0.0.1", 100 + i / 10))
			allowed++;
	/* Another address is not held back by the first. */
	if (log_limit_allow(&lim, "10.0.0.2", 500))
		allowed++;
	/* The next second: the summary, then lines again. */
	if (log_limit_allow(&lim, "10.0.0.1", 1200))
		allowed++;
}

static void
test_limit_summarises_a_flood(void **state)
{
	const char	*out;

	(void)state;
	out = capture(limit_flood);
	assert_int_equal(allowed, 3 + 1 + 1);
	assert_int_equal(lim.suppressed_total, 997);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "event=log_suppressed key=10.0.0.1 "
	    "count=997\n"));
}

static void
limit_flush(void)
{
	unsigned	i;

	log_limit_init(&lim, 1);
	for (i = 0; i < 5; i++)
		(void)log_limit_allow(&lim, "a", 0);
	/* Not over yet: nothing. */
	log_limit_flush(&lim, 999);
	/* Over: the summary, once. */
	log_limit_flush(&lim, 1000);
	log_limit_flush(&lim, 5000);
}

static void
test_limit_flush_writes_once(void **state)
{
	const char	*out;

	(void)state;
	out = capture(limit_flush);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "key=a count=4\n"));
}

static void
limit_churn(void)
{
	char		key[32];
	unsigned	i;

	log_limit_init(&lim, 1);
	(void)log_limit_allow(&lim, "first", 0);
	(void)log_limit_allow(&lim, "first", 0);
	/* More keys than slots: the oldest is taken over, and its pending
	 * summary written, not lost. */
	for (i = 0; i < LOG_LIMIT_SLOTS; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		assert_true(log_limit_allow(&lim, key, 10 + i));
	}
}

static void
test_limit_slot_reuse_keeps_summary(void **state)
{
	const char	*out;

	(void)state;
	out = capture(limit_churn);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "key=first count=1\n"));
}

/* A zeroed limiter (a hand-built daemon's) writes 10 a second. */
static void
test_limit_zeroed_default(void **state)
{
	struct log_limit	*z;
	unsigned		 i, n = 0;

	(void)state;
	assert_non_null(z = calloc(1, sizeof(*z)));
	for (i = 0; i < 10; i++)
		n += log_limit_allow(z, "k", 5) ? 1 : 0;
	assert_int_equal(n, 10);
	assert_false(log_limit_allow(z, "k", 5));
	free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_bytes_do_not_split_lines),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_limit_summarises_a_flood),
		cmocka_unit_test(test_limit_flush_writes_once),
		cmocka_unit_test(test_limit_slot_reuse_keeps_summary),
		cmocka_unit_test(test_limit_zeroed_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
