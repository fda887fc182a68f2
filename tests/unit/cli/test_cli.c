/*
 * The compliance CLI in process: its argument parsing, then commands run
 * through cli_run() against a config file and a store in a temp
 * directory, their output read back from memory streams.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy/cli/cli.h"
#include "proxy/cli/cli_int.h"
#include "store/store.h"

#define NUM	"15550001111"

struct fx {
	char	 dir[64];
	char	 cfg[128];
	char	 store[128];
	/* the last run */
	int	 rc;
	char	*out, *err;
	size_t	 outlen, errlen;
};

static void
rm_tree(const char *dir)
{
	struct dirent	*e;
	DIR		*d;
	char		 p[512];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) == -1)
			rm_tree(p);
	}
	closedir(d);
	rmdir(dir);
}

static int
fx_setup(void **state)
{
	struct fx	*f;
	FILE		*fp;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cli-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->cfg, sizeof(f->cfg), "%s/stopgate.yaml", f->dir);
	snprintf(f->store, sizeof(f->store), "%s/store", f->dir);
	if ((fp = fopen(f->cfg, "w")) == NULL)
		return -1;
	fprintf(fp,
	    "business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: \"%s\", map_mb: 8 }\n"
	    "listeners: [ { bind: \"127.0.0.1:1\" } ]\n"
	    "categories: [ promo, billing ]\n"
	    "accounts:\n"
	    "  - { system_id: marketing, password: mkpass1,\n"
	    "      default_category: promo }\n"
	    "upstreams:\n"
	    "  - { name: carrier, host: 127.0.0.1, port: 2, system_id: a,\n"
	    "      password: b }\n"
	    "inbound:\n"
	    "  - { number: \"12345\", account: marketing,\n"
	    "      stop_scope: [ promo ] }\n", f->store);
	fclose(fp);
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;

	free(f->out);
	free(f->err);
	rm_tree(f->dir);
	free(f);
	return 0;
}

/* Run `stopgate WORDS... -c CFG`; the words end with NULL. Returns the
 * exit status; f->out and f->err hold what was printed. */
static int
run(struct fx *f, ...)
{
	char		*argv[32];
	FILE		*out, *err;
	va_list		 ap;
	int		 argc = 0;

	va_start(ap, f);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc++] = (char *)(uintptr_t)"-c";
	argv[argc++] = f->cfg;
	argv[argc] = NULL;
	free(f->out);
	free(f->err);
	f->out = f->err = NULL;
	assert_non_null(out = open_memstream(&f->out, &f->outlen));
	assert_non_null(err = open_memstream(&f->err, &f->errlen));
	f->rc = cli_run(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return f->rc;
}

#define W(s)	((char *)(uintptr_t)(s))

static void
test_args(void **state)
{
	struct cli_args	 a;
	char		 w[][24] = { "optout", "add", "15550001111",
	    "--category", "promo", "-c", "x.yaml", "--category=billing",
	    "--note", "n", "--all", "status", "--bogus", "1", "-c", "--",
	    "-5" };
	char		*argv[] = { w[0], w[1], w[2], w[3], w[4], w[5], w[6],
	    w[7], w[8], w[9], w[10], NULL };
	char		*bad[] = { w[11], w[12], w[13], NULL };
	char		*novalue[] = { w[11], w[14], NULL };
	char		*dashes[] = { w[11], w[15], w[16], NULL };
	char		 err[128];

	(void)state;
	assert_int_equal(cli_args_parse(&a, 11, argv, 2, err, sizeof(err)),
	    0);
	assert_string_equal(a.config, "x.yaml");
	assert_int_equal(a.ncategories, 2);
	assert_string_equal(a.categories[1], "billing");
	assert_int_equal(a.npos, 1);
	assert_string_equal(a.pos[0], "15550001111");
	assert_true(a.all);
	assert_string_equal(a.note, "n");
	assert_int_equal(cli_args_parse(&a, 3, bad, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown option: --bogus");
	assert_int_equal(cli_args_parse(&a, 2, novalue, 1, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "needs a value"));
	/* After "--" a leading dash is a positional. */
	assert_int_equal(cli_args_parse(&a, 3, dashes, 1, err, sizeof(err)),
	    0);
	assert_int_equal(a.npos, 1);
	assert_string_equal(a.pos[0], "-5");
}

static void
test_format(void **state)
{
	enum cli_format	 fmt;
	char		 err[128];

	(void)state;
	assert_int_equal(cli_format_parse(NULL, false, &fmt, err,
	    sizeof(err)), 0);
	assert_int_equal(fmt, CLI_FORMAT_TEXT);
	assert_int_equal(cli_format_parse("jsonl", false, &fmt, err,
	    sizeof(err)), 0);
	assert_int_equal(fmt, CLI_FORMAT_JSONL);
	assert_int_equal(cli_format_parse("csv", true, &fmt, err,
	    sizeof(err)), 0);
	assert_int_equal(fmt, CLI_FORMAT_CSV);
	assert_int_equal(cli_format_parse("csv", false, &fmt, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "text, jsonl"));
}

static void
test_usage(void **state)
{
	struct fx	*f = *state;
	char		*argv[] = { W("status"), W(NUM), NULL };
	FILE		*sink;

	assert_int_equal(run(f, W("frobnicate"), NULL), 2);
	assert_non_null(strstr(f->err, "unknown command"));
	assert_int_equal(run(f, W("optout"), W("add"), W(NUM), W("--all"),
	    W("--bogus"), W("x"), NULL), 2);
	assert_int_equal(run(f, W("review"), W("resolve"), W("1"), NULL), 2);
	assert_non_null(sink = fopen("/dev/null", "w"));
	assert_int_equal(cli_run(2, argv, sink, sink), 2);	/* no -c */
	fclose(sink);
	assert_true(cli_is_command("stats"));
	assert_false(cli_is_command("run"));
}

static void
test_optout_status_history(void **state)
{
	struct fx	*f = *state;

	assert_int_equal(run(f, W("optout"), W("add"), W("(555) 000-1111"),
	    W("--category"), W("promo"), W("--category"), W("promo"),
	    W("--note"), W("by phone"), W("--actor"), W("dana"), NULL), 0);
	assert_non_null(strstr(f->out, "opted out: " NUM " from promo"));
	assert_int_equal(run(f, W("status"), W(NUM), W("--format"),
	    W("jsonl"), NULL), 0);
	assert_non_null(strstr(f->out, "{\"number\":\"" NUM "\","
	    "\"category\":\"promo\",\"status\":\"blocked\",\"since\":"));
	assert_non_null(strstr(f->out, "\"category\":\"billing\","
	    "\"status\":\"allowed\"}\n"));
	assert_int_equal(run(f, W("status"), W(NUM), NULL), 0);
	assert_non_null(strstr(f->out, "promo            blocked  since"));
	/* The API's event shape: all and categories as JSON types. */
	assert_int_equal(run(f, W("history"), W(NUM), W("--format"),
	    W("jsonl"), NULL), 0);
	assert_non_null(strstr(f->out, "\"scope\":\"promo\",\"all\":false,"
	    "\"categories\":[\"promo\"],\"source\":\"staff\""));
	assert_non_null(strstr(f->out, "\"actor\":\"dana\","
	    "\"note\":\"by phone\""));
	assert_int_equal(run(f, W("history"), W(NUM), W("--format"),
	    W("csv"), NULL), 0);
	assert_int_equal(strncmp(f->out, "event_id,time,number,", 21), 0);
	/* Refused: nothing changes. */
	assert_int_equal(run(f, W("optout"), W("add"), W(NUM), NULL), 1);
	assert_non_null(strstr(f->err, "categories"));
	assert_int_equal(run(f, W("optout"), W("add"), W(NUM), W("--all"),
	    W("--category"), W("promo"), NULL), 1);
	assert_non_null(strstr(f->err, "not both"));
	assert_int_equal(run(f, W("optout"), W("add"), W("hello"), W("--all"),
	    NULL), 1);
	assert_non_null(strstr(f->err, "not a phone number"));
	assert_int_equal(run(f, W("optout"), W("remove"), W(NUM), W("--all"),
	    NULL), 1);
	assert_non_null(strstr(f->err, "consent"));
	assert_int_equal(run(f, W("optout"), W("add"), W(NUM), W("--all"),
	    W("--source"), W("sms_keyword"), NULL), 1);
	assert_int_equal(run(f, W("history"), W(NUM), W("--format"),
	    W("jsonl"), NULL), 0);
	assert_null(strchr(strchr(f->out, '\n') + 1, '\n'));	/* one */
	assert_int_equal(run(f, W("optout"), W("remove"), W(NUM),
	    W("--category"), W("promo"), W("--consent"), W("signed form"),
	    NULL), 0);
	assert_non_null(strstr(f->out, "opted in: " NUM " to promo"));
}

/* Queue a review item for NUM written to 12345 (stop_scope: promo). */
static uint64_t
add_review(struct fx *f)
{
	struct store_params	 p = { 8, 64, false };
	struct store_review	 rv;
	struct store		*st;
	char			 err[256];

	assert_non_null(st = store_open(f->store, &p, err, sizeof(err)));
	memset(&rv, 0, sizeof(rv));
	rv.time = 1000;
	snprintf(rv.number, sizeof(rv.number), NUM);
	snprintf(rv.inbound, sizeof(rv.inbound), "12345");
	snprintf(rv.account, sizeof(rv.account), "marketing");
	snprintf(rv.text, sizeof(rv.text), "no more, \"please\"");
	assert_int_equal(store_review_add(st, &rv), 0);
	store_free(st);
	return rv.id;
}

static void
test_review(void **state)
{
	struct fx	*f = *state;
	char		 id[24];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)add_review(f));
	assert_int_equal(run(f, W("review"), W("list"), W("--format"),
	    W("csv"), NULL), 0);
	assert_non_null(strstr(f->out, "\"no more, \"\"please\"\"\"\n"));
	assert_int_equal(run(f, W("review"), W("list"), W("--format"),
	    W("jsonl"), NULL), 0);
	assert_non_null(strstr(f->out, "\"status\":\"open\""));
	assert_int_equal(run(f, W("review"), W("resolve"), W(id),
	    W("--optout"), NULL), 1);
	assert_non_null(strstr(f->err, "note"));
	assert_int_equal(run(f, W("review"), W("resolve"), W("x1"),
	    W("--dismiss"), W("--note"), W("n"), NULL), 1);
	assert_non_null(strstr(f->err, "not a number"));
	assert_int_equal(run(f, W("review"), W("resolve"), W(id),
	    W("--optout"), W("--note"), W("asked to stop"), NULL), 0);
	assert_non_null(strstr(f->out, "opted out " NUM));
	/* The scope of the number written to. */
	assert_int_equal(run(f, W("history"), W(NUM), W("--format"),
	    W("jsonl"), NULL), 0);
	assert_non_null(strstr(f->out, "\"categories\":[\"promo\"]"));
	assert_non_null(strstr(f->out, "\"rule\":\"review\""));
	assert_int_equal(run(f, W("review"), W("resolve"), W(id),
	    W("--dismiss"), W("--note"), W("again"), NULL), 1);
	assert_non_null(strstr(f->err, "already resolved"));
	assert_int_equal(run(f, W("review"), W("list"), NULL), 0);
	assert_string_equal(f->out, "");
}

static void
test_import_export_stats(void **state)
{
	struct fx	*f = *state;
	char		 csv[160];
	FILE		*fp;

	snprintf(csv, sizeof(csv), "%s/in.csv", f->dir);
	assert_non_null(fp = fopen(csv, "w"));
	fputs("number,category,time\n" NUM ",promo,2025-01-02T03:04:05Z\n"
	    "5550002222,,\n", fp);
	fclose(fp);
	assert_int_equal(run(f, W("import"), W(csv), NULL), 0);
	assert_int_equal(strncmp(f->out, "imported 2 opt-outs from ", 25), 0);
	assert_int_equal(run(f, W("export"), NULL), 0);
	assert_non_null(strstr(f->out, "number,category,state,since,"
	    "event_id\n"));
	assert_non_null(strstr(f->out, NUM ",promo,opted_out,"
	    "2025-01-02T03:04:05Z,"));
	assert_non_null(strstr(f->out, "15550002222,all,opted_out,"));
	assert_int_equal(run(f, W("stats"), W("--format"), W("jsonl"), NULL),
	    0);
	assert_int_equal(strncmp(f->out, "{\"opt_outs\":2,\"opt_ins\":0}\n",
	    27), 0);
	assert_non_null(strstr(f->out, "{\"by\":\"source\",\"key\":\"import\","
	    "\"opt_outs\":2}"));
	/* One bad row: nothing imported, the line named. */
	assert_non_null(fp = fopen(csv, "w"));
	fputs("number,category\n15550003333,promo\n15550004444,nosuch\n", fp);
	fclose(fp);
	assert_int_equal(run(f, W("import"), W(csv), NULL), 1);
	assert_non_null(strstr(f->err, "in.csv:3: unknown category"));
	assert_int_equal(run(f, W("status"), W("15550003333"), W("--format"),
	    W("csv"), NULL), 0);
	assert_non_null(strstr(f->out, "15550003333,promo,allowed,,,\n"));
}

static void
test_audit(void **state)
{
	struct fx	*f = *state;

	assert_int_equal(run(f, W("audit"), W("--format"), W("csv"), NULL),
	    0);
	assert_string_equal(f->out, "time,account,category,service_type,"
	    "source,destination,status,reason,event_id,body_len,"
	    "body_sha256\n");
	assert_int_equal(run(f, W("audit"), W("--since"), W("yesterday"),
	    NULL), 1);
	assert_non_null(strstr(f->err, "RFC 3339"));
	assert_int_equal(run(f, W("audit"), W("--category"), W("nosuch"),
	    NULL), 1);
	assert_int_equal(run(f, W("audit"), W("extra"), NULL), 2);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_format),
		T(test_usage),
		T(test_optout_status_history),
		T(test_review),
		T(test_import_export_stats),
		T(test_audit),
	};
#undef T

	return cmocka_run_group_tests_name("proxy/cli", tests, NULL, NULL);
}
