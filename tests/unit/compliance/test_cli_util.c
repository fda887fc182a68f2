/*
 * The CLI's helpers: RFC 3339 parsing and formatting, the RFC 4180 CSV
 * reader (quotes, CRLF, embedded newlines, malformed records), option
 * parsing in any order.
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

#include "proxy/compliance/cli_util.h"

static void
test_time_parse(void **state)
{
	int64_t	 t;
	char	 buf[32];

	(void)state;
	assert_int_equal(cli_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(cli_time_parse("2026-11-26T13:41:00Z", &t), 0);
	assert_int_equal(t, 1795700460);
	assert_string_equal(cli_time_format(t, buf, sizeof(buf)),
	    "2026-11-26T13:41:00Z");
	assert_int_equal(cli_time_parse("2026-11-26T14:41:00+01:00", &t), 0);
	assert_int_equal(t, 1795700460);
	assert_int_equal(cli_time_parse("2026-11-26T13:41:00.123Z", &t), 0);
	assert_int_equal(t, 1795700460);
	assert_int_equal(cli_time_parse("2026-11-26", &t), 0);
	assert_int_equal(t, 1795651200);
	assert_int_equal(cli_time_parse("2024-02-29T00:00:00Z", &t), 0);
	/* malformed */
	assert_int_equal(cli_time_parse("2023-02-29T00:00:00Z", &t), -1);
	assert_int_equal(cli_time_parse("2026-13-01", &t), -1);
	assert_int_equal(cli_time_parse("2026-11-26T13:41:00", &t), -1);
	assert_int_equal(cli_time_parse("2026-11-26T25:00:00Z", &t), -1);
	assert_int_equal(cli_time_parse("yesterday", &t), -1);
	assert_int_equal(cli_time_parse("", &t), -1);
	assert_int_equal(cli_time_parse("2026-11-26T13:41:00Zjunk", &t), -1);
}

/* Write text to a temp file; return its path (static buffer). */
static const char *
tmpcsv(const char *text)
{
	static char	 path[64];
	int		 fd;

	snprintf(path, sizeof(path), "/tmp/stopgate-csv-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
test_csv(void **state)
{
	struct cli_csv	*c;
	char		 err[128], **f;
	size_t		 n;
	unsigned	 line;
	const char	*p;

	(void)state;
	p = tmpcsv("\xef\xbb\xbfnumber,note\r\n"
	    "15550001111,\"said \"\"stop\"\", twice\"\r\n"
	    "\r\n"
	    "15550002222,\"two\nlines\"\n"
	    "15550003333,\n"
	    "15550004444");
	assert_non_null(c = cli_csv_open(p, err, sizeof(err)));
	assert_int_equal(cli_csv_next(c, &f, &n, &line, err, sizeof(err)), 1);
	assert_int_equal(n, 2);
	assert_string_equal(f[0], "number");
	assert_int_equal(line, 1);
	assert_int_equal(cli_csv_next(c, &f, &n, &line, err, sizeof(err)), 1);
	assert_string_equal(f[1], "said \"stop\", twice");
	assert_int_equal(line, 2);
	assert_int_equal(cli_csv_next(c, &f, &n, &line, err, sizeof(err)), 1);
	assert_int_equal(line, 4);
	assert_string_equal(f[1], "two\nlines");
	assert_int_equal(cli_csv_next(c, &f, &n, &line, err, sizeof(err)), 1);
	assert_int_equal(line, 6);
	assert_int_equal(n, 2);
	assert_string_equal(f[1], "");
	assert_int_equal(cli_csv_next(c, &f, &n, &line, err, sizeof(err)), 1);
	assert_int_equal(line, 7);
	assert_string_equal(f[0], "15550004444");
	assert_int_equal(cli_csv_next(c, &f, &n, &line, err, sizeof(err)), 0);
	cli_csv_free(c);
	unlink(p);
}

static void
test_csv_malformed(void **state)
{
	static const char *const bad[] = {
		"number\n\"unterminated\n",
		"number\n\"closed\"junk\n",
		"number\nbare\"quote\n",
	};
	struct cli_csv	*c;
	char		 err[128], **f;
	size_t		 n, i;
	unsigned	 line;
	const char	*p;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = tmpcsv(bad[i]);
		assert_non_null(c = cli_csv_open(p, err, sizeof(err)));
		assert_int_equal(cli_csv_next(c, &f, &n, &line, err,
		    sizeof(err)), 1);
		assert_int_equal(cli_csv_next(c, &f, &n, &line, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "line 2"));
		cli_csv_free(c);
		unlink(p);
	}
	assert_null(cli_csv_open("/nonexistent/x.csv", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

static void
test_args(void **state)
{
	struct cli_args	 a;
	char		 w[][24] = { "optout", "add", "15550001111",
	    "--category", "promo", "-c", "x.yaml", "--category=billing",
	    "--note", "n", "--all", "status", "--bogus", "1", "-c" };
	char		*argv[] = { w[0], w[1], w[2], w[3], w[4], w[5], w[6],
	    w[7], w[8], w[9], w[10], NULL };
	char		*bad[] = { w[11], w[12], w[13], NULL };
	char		*novalue[] = { w[11], w[14], NULL };

	(void)state;
	assert_int_equal(cli_args_parse(&a, 11, argv, 2), 0);
	assert_string_equal(a.config, "x.yaml");
	assert_int_equal(a.ncategories, 2);
	assert_string_equal(a.categories[1], "billing");
	assert_int_equal(a.npos, 1);
	assert_string_equal(a.pos[0], "15550001111");
	assert_true(a.all);
	assert_string_equal(a.note, "n");
	assert_int_equal(cli_args_parse(&a, 3, bad, 1), -1);
	assert_int_equal(cli_args_parse(&a, 2, novalue, 1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_malformed),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
