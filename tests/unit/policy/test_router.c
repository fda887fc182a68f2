/*
 * proxy/router: first match wins on category / account / prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/policy/router.h"

static struct config_route routes[4];
static struct config cfg;

static void
setup_routes(void)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(routes, 0, sizeof(routes));
	/* promo to +1 -> 1; account 2 -> 2; prefix 44 -> 3; rest -> 0 */
	routes[0].has_category = true;
	routes[0].category = 0;
	strncpy(routes[0].destination_prefix, "1",
	    sizeof(routes[0].destination_prefix) - 1);
	routes[0].upstream = 1;
	routes[1].has_account = true;
	routes[1].account = 2;
	routes[1].upstream = 2;
	strncpy(routes[2].destination_prefix, "44",
	    sizeof(routes[2].destination_prefix) - 1);
	routes[2].upstream = 3;
	routes[3].upstream = 0;
	cfg.routes = routes;
	cfg.nroutes = 4;
	cfg.nupstreams = 4;
}

static void
test_router_first_match(void **state)
{
	(void)state;
	setup_routes();
	assert_int_equal(router_pick(&cfg, 0, 0, "15550100000"), 1);
	/* same category, other prefix: falls through */
	assert_int_equal(router_pick(&cfg, 0, 0, "447700900123"), 3);
	/* account match beats the prefix route below it */
	assert_int_equal(router_pick(&cfg, 2, 1, "447700900123"), 2);
	/* category 1 to +1: not route 0 */
	assert_int_equal(router_pick(&cfg, 0, 1, "15550100000"), 0);
	/* promo, account 2, prefix 1: route 0 comes first */
	assert_int_equal(router_pick(&cfg, 2, 0, "15550100000"), 1);
}

static void
test_router_no_destination(void **state)
{
	(void)state;
	setup_routes();
	/* a prefix route never matches a message without destination */
	assert_int_equal(router_pick(&cfg, 0, 0, NULL), 0);
	assert_int_equal(router_pick(&cfg, 0, 0, ""), 0);
}

static void
test_router_no_match(void **state)
{
	(void)state;
	setup_routes();
	cfg.nroutes = 3;	/* drop the catch-all */
	assert_int_equal(router_pick(&cfg, 0, 1, "15550100000"), -1);
	cfg.nroutes = 0;
	assert_int_equal(router_pick(&cfg, 0, 0, "15550100000"), -1);
}

static void
test_router_bad_upstream_index(void **state)
{
	(void)state;
	setup_routes();
	cfg.nupstreams = 1;	/* routes 0..2 point past the table */
	assert_int_equal(router_pick(&cfg, 2, 0, "15550100000"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_router_first_match),
		cmocka_unit_test(test_router_no_destination),
		cmocka_unit_test(test_router_no_match),
		cmocka_unit_test(test_router_bad_upstream_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
