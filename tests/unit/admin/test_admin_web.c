/*
 * proxy/admin/admin_web.c: who a bearer token belongs to (the shared
 * admin.token, a user of admin.users with a role, nobody) and the
 * dashboard's compiled-in files.
 *
 * Why: every change is recorded under the name this returns, and a
 * viewer must never be taken for staff; a token matching nothing, or a
 * user's token given for the shared one, must not pass.
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
#include "proxy/admin/admin_int.h"
#include "proxy/admin/admin_web.h"

static void
test_who(void **state)
{
	struct config_admin_user users[2];
	struct config		 cfg;
	struct admin_who	 who;
	char			 t0[] = "viewer-token-0123456789";
	char			 t1[] = "staff-token-0123456789";

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(users, 0, sizeof(users));
	snprintf(users[0].name, sizeof(users[0].name), "vera");
	users[0].token = t0;
	users[0].role = CONFIG_ROLE_VIEWER;
	snprintf(users[1].name, sizeof(users[1].name), "sam");
	users[1].token = t1;
	users[1].role = CONFIG_ROLE_STAFF;
	cfg.admin_users = users;
	cfg.nadmin_users = 2;

	assert_true(admin_who_find("shared", &cfg, "Bearer shared", &who));
	assert_string_equal(who.name, "api");
	assert_true(who.is_staff && who.is_shared);

	assert_true(admin_who_find("shared", &cfg, "Bearer " "viewer-token-"
	    "0123456789", &who));
	assert_string_equal(who.name, "vera");
	assert_false(who.is_staff);
	assert_false(who.is_shared);

	assert_true(admin_who_find(NULL, &cfg, "bearer staff-token-0123456789",
	    &who));
	assert_string_equal(who.name, "sam");
	assert_true(who.is_staff);
	assert_false(who.is_shared);

	assert_false(admin_who_find("shared", &cfg, "Bearer staff-token-",
	    &who));
	assert_string_equal(who.name, "");
	assert_false(who.is_staff);
	assert_false(admin_who_find("shared", &cfg, NULL, &who));
	assert_false(admin_who_find(NULL, NULL, "Bearer shared", &who));
	assert_false(admin_who_find(NULL, &cfg, "Bearer ", &who));
	/* No users: the shared token alone, as before. */
	cfg.nadmin_users = 0;
	assert_false(admin_who_find("shared", &cfg, "Bearer staff-token-"
	    "0123456789", &who));
}

static void
test_assets(void **state)
{
	const struct admin_asset *a;

	(void)state;
	assert_non_null(a = admin_asset_find("/"));
	assert_string_equal(a->ctype, "text/html; charset=utf-8");
	assert_true(a->len > 100);
	assert_int_equal(memcmp(a->data, "<!doctype html>", 15), 0);
	assert_non_null(a = admin_asset_find("/assets/app.js"));
	assert_string_equal(a->ctype, "text/javascript; charset=utf-8");
	assert_int_equal(a->etag[0], '"');
	assert_non_null(admin_asset_find("/assets/app.css"));
	assert_null(admin_asset_find("/assets/"));
	assert_null(admin_asset_find("/index.html"));
	assert_null(admin_asset_find("/assets/../admin.c"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_who),
		cmocka_unit_test(test_assets),
	};

	return cmocka_run_group_tests_name("admin/web", tests, NULL, NULL);
}
