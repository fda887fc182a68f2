/*
 * proxy/tls: tls_bev_new(), the TLS bufferevent of listeners and the
 * admin API.
 *
 * Bug: listener.c and admin.c called SSL_free() when
 * bufferevent_openssl_socket_new() failed. With BEV_OPT_CLOSE_ON_FREE,
 * libevent 2.1.9 and later free the SSL themselves on failure, so an
 * allocation failure while accepting a TLS connection freed the SSL twice.
 * tls_bev_new() now makes the SSL and leaves it to libevent; the test
 * fails libevent's allocations and counts how often the SSL is freed (an
 * SSL ex_data free callback): exactly once, on failure as on success.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include "proxy/io/tls.h"

#include "tests/unit/tls_fail.h"

/* One tls_bev_new() on a socket; returns whether it made a bufferevent. */
static bool
try_once(bool should_fail)
{
	struct event_base	*base;
	struct bufferevent	*bev;
	SSL_CTX			*ctx;
	int			 sv[2];

	assert_non_null(base = event_base_new());
	assert_non_null(ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ssl_frees = 0;
	fail_alloc = should_fail;
	bev = tls_bev_new(base, sv[0], ctx, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_DEFER_CALLBACKS);
	fail_alloc = false;
	if (bev != NULL)
		bufferevent_free(bev);
	else
		close(sv[0]);
	close(sv[1]);
	SSL_CTX_free(ctx);
	event_base_free(base);
	return bev != NULL;
}

static void
test_ssl_freed_once_on_failure(void **state)
{
	(void)state;
	assert_false(try_once(true));
	assert_int_equal(ssl_frees, 1);
}

static void
test_ssl_freed_with_bufferevent(void **state)
{
	(void)state;
	assert_true(try_once(false));
	assert_int_equal(ssl_frees, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssl_freed_once_on_failure),
		cmocka_unit_test(test_ssl_freed_with_bufferevent),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
