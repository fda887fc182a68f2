/*
 * proxy/upstream: the TLS connection to an SMSC when its bufferevent
 * cannot be made.
 *
 * Bug: ups_conn_connect() called SSL_free() when
 * bufferevent_openssl_socket_new(..., BEV_OPT_CLOSE_ON_FREE) failed. With
 * that option libevent 2.1.9 and later (Debian 12 has 2.1.12) free the
 * SSL themselves on failure, so an allocation failure while connecting to
 * a TLS upstream freed the SSL twice. The SSL is now left to libevent, as
 * tls_bev_new() does for listeners. The test fails libevent's allocations
 * while the pool connects and counts how often an SSL is freed (an SSL
 * ex_data free callback): exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "config/config.h"
#include "proxy/daemon/upstream.h"

#include "tests/unit/tls_fail.h"

static void
test_tls_bufferevent_failure_frees_ssl_once(void **state)
{
	struct event_base	*base;
	struct upstream_pool	*p;
	struct upstream_stats	 st;
	struct config_upstream	 cfg;
	struct upstream_cbs	 cbs;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&cbs, 0, sizeof(cbs));
	snprintf(cfg.name, sizeof(cfg.name), "carrier");
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	cfg.port = 9;		/* never reached: no bufferevent */
	snprintf(cfg.system_id, sizeof(cfg.system_id), "acme");
	cfg.password = (char *)(uintptr_t)"secret";
	cfg.bind = CONFIG_BIND_TRANSCEIVER;
	cfg.sessions = 1;
	cfg.window = 10;
	cfg.tls.enabled = true;
	cfg.tls.verify = false;
	cfg.enquire_link_ms = 10000;
	cfg.response_timeout_ms = 2000;
	cfg.reconnect_min_ms = 1000;
	cfg.reconnect_max_ms = 2000;

	assert_non_null(base = event_base_new());
	assert_non_null(p = upstream_pool_new(base, &cfg, &cbs, NULL));
	ssl_frees = 0;
	/* The first connect runs from the loop: make its bufferevent
	 * allocation fail. */
	fail_alloc = true;
	assert_int_not_equal(event_base_loop(base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), -1);
	fail_alloc = false;
	assert_int_equal(ssl_frees, 1);
	upstream_pool_stats(p, &st);
	assert_int_equal(st.bound, 0);
	upstream_pool_free(p);
	event_base_free(base);
	assert_int_equal(ssl_frees, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_bufferevent_failure_frees_ssl_once),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
