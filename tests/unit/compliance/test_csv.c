/*
 * The RFC 4180 reader (quotes, CRLF, embedded newlines, a byte order
 * mark, malformed records, binary data) and the field writer.
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

#include "proxy/compliance/csv.h"

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
test_read(void **state)
{
	struct csv_reader	*c;
	char			 err[128], **f;
	size_t			 n;
	unsigned		 line;
	const char		*p;

	(void)state;
	p = tmpcsv("\xef\xbb\xbfnumber,note\r\n"
	    "15550001111,\"said \"\"stop\"\", twice\"\r\n"
	    "\r\n"
	    "15550002222,\"two\nlines\"\n"
	    "15550003333,\n"
	    "15550004444");
	assert_non_null(c = csv_reader_open(p, err, sizeof(err)));
	assert_int_equal(csv_reader_next(c, &f, &n, &line, err, sizeof(err)),
	    1);
	assert_int_equal(n, 2);
	assert_string_equal(f[0], "number");
	assert_int_equal(line, 1);
	assert_int_equal(csv_reader_next(c, &f, &n, &line, err, sizeof(err)),
	    1);
	assert_string_equal(f[1], "said \"stop\", twice");
	assert_int_equal(line, 2);
	assert_int_equal(csv_reader_next(c, &f, &n, &line, err, sizeof(err)),
	    1);
	assert_int_equal(line, 4);
	assert_string_equal(f[1], "two\nlines");
	assert_int_equal(csv_reader_next(c, &f, &n, &line, err, sizeof(err)),
	    1);
	assert_int_equal(line, 6);
	assert_int_equal(n, 2);
	assert_string_equal(f[1], "");
	assert_int_equal(csv_reader_next(c, &f, &n, &line, err, sizeof(err)),
	    1);
	assert_int_equal(line, 7);
	assert_string_equal(f[0], "15550004444");
	assert_int_equal(csv_reader_next(c, &f, &n, &line, err, sizeof(err)),
	    0);
	csv_reader_free(c);
	unlink(p);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"number\n\"unterminated\n",
		"number\n\"closed\"junk\n",
		"number\nbare\"quote\n",
	};
	struct csv_reader	*c;
	char			 err[128], **f;
	size_t			 n, i;
	unsigned		 line;
	const char		*p;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = tmpcsv(bad[i]);
		assert_non_null(c = csv_reader_open(p, err, sizeof(err)));
		assert_int_equal(csv_reader_next(c, &f, &n, &line, err,
		    sizeof(err)), 1);
		assert_int_equal(csv_reader_next(c, &f, &n, &line, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "line 2"));
		csv_reader_free(c);
		unlink(p);
	}
	assert_null(csv_reader_open("/nonexistent/x.csv", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	csv_reader_free(NULL);
}

static void
test_mem(void **state)
{
	static const char	 nul[] = { 'a', ',', '\0', 'b' };
	struct csv_reader	*c;
	char			 err[128], **f, many[3 * CSV_MAX_FIELDS];
	size_t			 n, i;
	unsigned		 line;

	(void)state;
	assert_null(csv_reader_open_mem(nul, sizeof(nul), err, sizeof(err)));
	assert_non_null(strstr(err, "NUL"));
	assert_non_null(c = csv_reader_open_mem("a,b\rc", 5, err,
	    sizeof(err)));
	assert_int_equal(csv_reader_next(c, &f, &n, &line, err, sizeof(err)),
	    1);
	assert_int_equal(n, 2);
	assert_int_equal(csv_reader_next(c, &f, &n, &line, err, sizeof(err)),
	    1);
	assert_string_equal(f[0], "c");
	assert_int_equal(line, 2);
	csv_reader_free(c);
	/* One field more than a record may hold. */
	for (i = 0; i <= CSV_MAX_FIELDS; i++)
		memcpy(many + 2 * i, "x,", 2);
	many[2 * CSV_MAX_FIELDS + 1] = '\0';
	assert_non_null(c = csv_reader_open_mem(many, strlen(many), err,
	    sizeof(err)));
	assert_int_equal(csv_reader_next(c, &f, &n, &line, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "more than"));
	csv_reader_free(c);
}

static void
test_field_write(void **state)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	(void)state;
	assert_non_null(fp = open_memstream(&buf, &len));
	csv_field_write(fp, "plain");
	fputc('|', fp);
	csv_field_write(fp, "a,b");
	fputc('|', fp);
	csv_field_write(fp, "say \"hi\"");
	fputc('|', fp);
	csv_field_write(fp, "two\nlines");
	fclose(fp);
	assert_string_equal(buf, "plain|\"a,b\"|\"say \"\"hi\"\"\"|"
	    "\"two\nlines\"");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_mem),
		cmocka_unit_test(test_field_write),
	};

	return cmocka_run_group_tests_name("proxy/compliance/csv", tests,
	    NULL, NULL);
}
