/*
 * config: the cluster: section (SPEC §8): absent by default, defaults,
 * the node name's form, exactly one source of the conninfo, fail_open
 * naming defined categories, errors at their line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"

#define BASE \
	"business_name: Acme\n" \
	"default_country_code: \"1\"\n" \
	"store: { path: /tmp/stopgate-test-cluster }\n" \
	"listeners: [{ bind: 127.0.0.1:2775 }]\n" \
	"categories: [promo, billing]\n" \
	"accounts:\n" \
	"  - { system_id: marketing, password: mkpass1, " \
	"default_category: promo }\n" \
	"upstreams:\n" \
	"  - { name: carrier, host: 127.0.0.1, port: 2776, system_id: acme, " \
	"password: secret }\n"

static struct config *
load(const char *yaml, struct config_errors *errs)
{
	return config_load_string(yaml, strlen(yaml), "t.yaml", "/tmp", errs);
}

/* One error at line:col containing substr. */
static void
expect_one(const char *yaml, unsigned line, unsigned col, const char *substr)
{
	struct config_errors errs;
	struct config *cfg;

	cfg = load(yaml, &errs);
	if (cfg != NULL || errs.count != 1 || errs.err[0].line != line ||
	    errs.err[0].col != col ||
	    strstr(errs.err[0].msg, substr) == NULL)
		fprintf(stderr, "want %u:%u %s, got %zu: %u:%u %s\n", line,
		    col, substr, errs.count, errs.err[0].line,
		    errs.err[0].col, errs.err[0].msg);
	assert_null(cfg);
	assert_int_equal(errs.count, 1);
	assert_int_equal(errs.err[0].line, line);
	assert_int_equal(errs.err[0].col, col);
	assert_non_null(strstr(errs.err[0].msg, substr));
}

static void
test_absent(void **state)
{
	struct config_errors errs;
	struct config *cfg;

	(void)state;
	assert_non_null(cfg = load(BASE, &errs));
	assert_false(cfg->has_cluster);
	assert_false(config_cluster_is_fail_open(cfg, 0));
	config_free(cfg);
}

static void
test_defaults_and_values(void **state)
{
	struct config_errors errs;
	struct config *cfg;

	(void)state;
	assert_non_null(cfg = load(BASE "cluster:\n  node: a-1\n"
	    "  postgres: \"host=db dbname=stopgate\"\n", &errs));
	assert_true(cfg->has_cluster);
	assert_string_equal(cfg->cluster.node, "a-1");
	assert_string_equal(cfg->cluster.postgres, "host=db dbname=stopgate");
	assert_int_equal(cfg->cluster.max_lag_ms, 2000);
	assert_int_equal(cfg->cluster.nfail_open, 0);
	config_free(cfg);
	setenv("STOPGATE_TEST_PG", "host=env", 1);
	assert_non_null(cfg = load(BASE "cluster:\n  node: b\n"
	    "  postgres_env: STOPGATE_TEST_PG\n  max_lag_ms: 500\n"
	    "  fail_open: [billing]\n", &errs));
	assert_string_equal(cfg->cluster.postgres, "host=env");
	assert_int_equal(cfg->cluster.max_lag_ms, 500);
	assert_true(config_cluster_is_fail_open(cfg, 1));
	assert_false(config_cluster_is_fail_open(cfg, 0));
	config_free(cfg);
	assert_non_null(cfg = load(BASE "cluster:\n  node: c\n"
	    "  postgres: x\n  fail_open: []\n", &errs));
	assert_int_equal(cfg->cluster.nfail_open, 0);
	config_free(cfg);
}

static void
test_errors(void **state)
{
	(void)state;
	expect_one(BASE "cluster:\n  node: A_1\n  postgres: x\n", 11, 9,
	    "'node' must be 1 to 32 of a-z, 0-9 and '-'");
	expect_one(BASE "cluster:\n  node: a\n", 11, 3,
	    "missing postgres, postgres_file or postgres_env");
	expect_one(BASE "cluster:\n  postgres: x\n", 11, 3,
	    "missing required key 'node'");
	expect_one(BASE "cluster:\n  node: a\n  postgres: x\n"
	    "  postgres_env: HOME\n", 13, 17,
	    "give only one of postgres, postgres_file, postgres_env");
	expect_one(BASE "cluster:\n  node: a\n  postgres: x\n"
	    "  fail_open: [nope]\n", 13, 15, "undefined category 'nope'");
	expect_one(BASE "cluster:\n  node: a\n  postgres: x\n"
	    "  max_lag_ms: 10\n", 13, 15, "'max_lag_ms' must be between");
	expect_one(BASE "cluster:\n  node: a\n  postgres: x\n  colour: 1\n",
	    13, 3, "unknown key 'colour'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("config/cluster", tests, NULL,
	    NULL);
}
