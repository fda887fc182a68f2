/*
 * admin.users: people who sign in to the admin API and the dashboard
 * with a token of their own and a role (SPEC §10).
 *
 * Why: a user's name is recorded as the actor of every change, and a
 * viewer must never get staff rights: names and tokens are unique,
 * tokens long enough not to be guessed through the throttle, roles one
 * of two, and each problem is reported at its line and column.
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

#define HEAD \
	"business_name: Acme\n" \
	"default_country_code: \"1\"\n" \
	"store: { path: var/stopgate }\n" \
	"listeners: [ { bind: \"127.0.0.1:2775\" } ]\n" \
	"categories: [ promo ]\n" \
	"accounts:\n" \
	"  - { system_id: mk, password: p, default_category: promo }\n" \
	"upstreams:\n" \
	"  - { name: c, host: 127.0.0.1, port: 2, system_id: a, " \
	"password: b }\n"

static struct config *
load(const char *yaml, struct config_errors *errs)
{
	return config_load_string(yaml, strlen(yaml), "t.yaml", "/tmp", errs);
}

/* errs holds an error at line:col containing needle. */
static void
expect(const struct config_errors *errs, unsigned line, unsigned col,
    const char *needle)
{
	size_t	 i;
	char	 buf[320];

	for (i = 0; i < errs->count && i < CONFIG_ERRORS_MAX; i++)
		if (errs->err[i].line == line && errs->err[i].col == col &&
		    strstr(errs->err[i].msg, needle) != NULL)
			return;
	for (i = 0; i < errs->count && i < CONFIG_ERRORS_MAX; i++)
		fprintf(stderr, "  %s\n", config_error_format(errs, i, buf,
		    sizeof(buf)));
	fail_msg("no error %u:%u containing \"%s\"", line, col, needle);
}

static void
test_users_loaded(void **state)
{
	struct config_errors	 errs;
	struct config		*cfg;

	(void)state;
	cfg = load(HEAD
	    "admin:\n"
	    "  bind: 127.0.0.1:8775\n"
	    "  users:\n"
	    "    - { name: alice, token: alice-token-0123456, role: staff }\n"
	    "    - name: v.ictor@acme\n"
	    "      token: victor-token-012345\n"
	    "      role: viewer\n", &errs);
	assert_non_null(cfg);
	assert_null(cfg->admin_token);		/* users alone will do */
	assert_int_equal(cfg->nadmin_users, 2);
	assert_string_equal(cfg->admin_users[0].name, "alice");
	assert_string_equal(cfg->admin_users[0].token, "alice-token-0123456");
	assert_int_equal(cfg->admin_users[0].role, CONFIG_ROLE_STAFF);
	assert_string_equal(cfg->admin_users[1].name, "v.ictor@acme");
	assert_int_equal(cfg->admin_users[1].role, CONFIG_ROLE_VIEWER);
	config_free(cfg);
}

static void
test_users_refused(void **state)
{
	struct config_errors	 errs;

	(void)state;
	assert_null(load(HEAD
	    "admin:\n"						/* 10 */
	    "  bind: 127.0.0.1:8775\n"
	    "  token: shared-token-0123456\n"
	    "  users:\n"
	    "    - { name: a, token: short, role: staff }\n"
	    "    - { name: a, token: b-token-0123456789, role: boss }\n"
	    "    - { name: c, token: b-token-0123456789, role: viewer }\n"
	    "    - { name: \"d e\", token: d-token-0123456789, role: staff }\n"
	    "    - { name: f, role: staff }\n"
	    "    - { name: g, token: shared-token-0123456, role: staff }\n"
	    "    - { token: h-token-0123456789, role: staff }\n"
	    "    - { name: i, token: i-token-0123456789, token_env: X, "
	    "role: staff }\n", &errs));
	expect(&errs, 14, 7, "shorter than 16");
	expect(&errs, 15, 51, "viewer or staff");
	expect(&errs, 15, 7, "duplicate admin user 'a'");
	expect(&errs, 16, 7, "has the token of user 'a'");
	expect(&errs, 17, 15, "letters, digits");
	expect(&errs, 18, 7, "missing token");
	expect(&errs, 19, 7, "'g' has the token of admin.token");
	expect(&errs, 20, 7, "missing required key 'name'");
	expect(&errs, 21, 56, "give only one of token");

	assert_null(load(HEAD
	    "admin:\n"
	    "  bind: 127.0.0.1:8775\n"
	    "  users: []\n", &errs));
	expect(&errs, 12, 10, "must not be empty");
	assert_null(load(HEAD
	    "admin:\n"
	    "  bind: 127.0.0.1:8775\n", &errs));
	expect(&errs, 11, 3, "missing token, token_file or token_env in "
	    "admin");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users_loaded),
		cmocka_unit_test(test_users_refused),
	};

	return cmocka_run_group_tests_name("config/admin_users", tests, NULL,
	    NULL);
}
