/*
 * config/prefs: durations, times, zones, the longest prefix, and the
 * errors of `stopgate check` for the preference keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_int.h"

static const char base[] =
    "business_name: A\n"
    "default_country_code: \"1\"\n"
    "store: { path: ./s }\n"
    "listeners: [ { bind: \"127.0.0.1:2775\" } ]\n"
    "categories: [promo, billing]\n"
    "accounts: [ { system_id: m, password: p, default_category: promo } ]\n"
    "upstreams: [ { name: c, host: 127.0.0.1, port: 2, system_id: a,"
    " password: b } ]\n";

static struct config *
load(const char *extra, struct config_errors *errs)
{
	char	 buf[4096];

	snprintf(buf, sizeof(buf), "%s%s", base, extra);
	return config_load_string(buf, strlen(buf), "t.yaml", "/tmp", errs);
}

static void
test_parsers(void **state)
{
	unsigned	 m;

	(void)state;
	assert_int_equal(config_duration_parse("7d"), 7 * 86400);
	assert_int_equal(config_duration_parse("90s"), 90);
	assert_int_equal(config_duration_parse("15m"), 900);
	assert_int_equal(config_duration_parse("12h"), 43200);
	assert_int_equal(config_duration_parse("0d"), -1);
	assert_int_equal(config_duration_parse("2w"), -1);
	assert_int_equal(config_duration_parse("d"), -1);
	assert_int_equal(config_duration_parse("367d"), -1);
	assert_int_equal(config_duration_parse("7 d"), -1);
	assert_int_equal(config_hhmm_parse("21:00", &m), 0);
	assert_int_equal(m, 1260);
	assert_int_equal(config_hhmm_parse("24:00", &m), -1);
	assert_int_equal(config_hhmm_parse("9:00", &m), -1);
	assert_true(config_zone_exists("America/New_York"));
	assert_true(config_zone_exists("Europe/London"));
	assert_false(config_zone_exists("Mars/Olympus"));
	assert_false(config_zone_exists("../../etc/passwd"));
	assert_false(config_zone_exists("/etc/localtime"));
}

static void
test_load(void **state)
{
	struct config_errors		 errs;
	struct config			*cfg;
	const struct config_frequency	*f;

	(void)state;
	cfg = load("frequency:\n"
	    "  - { category: promo, max: 4, per: 7d,"
	    " less: { max: 1, per: 7d } }\n"
	    "quiet_hours: [ { category: promo, from: \"21:00\","
	    " to: \"08:00\" } ]\n"
	    "timezones: { default: America/New_York,"
	    " prefixes: { \"44\": Europe/London, \"1808\": Pacific/Honolulu }"
	    " }\n"
	    "rejection: { frequency_status: 0x4f2 }\n", &errs);
	assert_non_null(cfg);
	assert_non_null(f = config_frequency_find(cfg, 0));
	assert_int_equal(f->max, 4);
	assert_true(f->has_less);
	assert_int_equal(f->less_per_s, 7 * 86400);
	assert_null(config_frequency_find(cfg, 1));
	assert_non_null(config_quiet_find(cfg, 0));
	assert_string_equal(config_zone_of(cfg, "18085550000"),
	    "Pacific/Honolulu");
	assert_string_equal(config_zone_of(cfg, "447700900000"),
	    "Europe/London");
	assert_string_equal(config_zone_of(cfg, "15550100"),
	    "America/New_York");
	assert_int_equal(cfg->prefs.frequency_status, 0x4f2);
	assert_int_equal(cfg->prefs.quiet_hours_status, 0x403);
	assert_non_null(cfg->replies.less);
	assert_int_equal(cfg->keywords.less.count, 2);
	config_free(cfg);
}

static void
test_errors(void **state)
{
	struct config_errors	 errs;
	char			 line[512];
	size_t			 i;
	bool			 has_tz = false;

	(void)state;
	assert_null(load("frequency:\n"
	    "  - { category: promo, max: 0, per: 1d }\n"
	    "  - { category: billing, max: 2, per: 1d,"
	    " less: { max: 2, per: 1d } }\n"
	    "quiet_hours: [ { category: promo, from: \"21:00\","
	    " to: \"25:00\" } ]\n", &errs));
	assert_int_equal(errs.count, 4);
	for (i = 0; i < errs.count; i++) {
		config_error_format(&errs, i, line, sizeof(line));
		if (strstr(line, "need the recipients' time zones") != NULL)
			has_tz = true;
	}
	assert_true(has_tz);
	config_error_format(&errs, 0, line, sizeof(line));
	assert_non_null(strstr(line, "t.yaml:9:"));
	assert_null(load("timezones: { prefixes: { \"4x\": Europe/London } }\n",
	    &errs));
	assert_int_equal(errs.count, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
