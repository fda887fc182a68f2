/*
 * Shared by the TLS unit tests: fail libevent's allocations on demand and
 * count how often OpenSSL frees an SSL (an ex_data free callback), to
 * prove a failed TLS bufferevent frees its SSL exactly once. Include once,
 * from a test file; call setup() as the group setup.
 */
#ifndef TESTS_UNIT_TLS_FAIL_H
#define TESTS_UNIT_TLS_FAIL_H

#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>
#include <openssl/ssl.h>

static bool	 fail_alloc;
static int	 ssl_frees;
static int	 ex_index = -1;

static void *
t_malloc(size_t n)
{
	return fail_alloc ? NULL : malloc(n);
}

static void *
t_realloc(void *p, size_t n)
{
	return fail_alloc ? NULL : realloc(p, n);
}

static void
ssl_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	(void)parent;
	(void)ptr;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	ssl_frees++;
}

static int
setup(void **state)
{
	(void)state;
	/* Before any libevent allocation. */
	event_set_mem_functions(t_malloc, t_realloc, free);
	ex_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL,
	    NULL, ssl_free_cb);
	return ex_index < 0 ? -1 : 0;
}


#endif /* TESTS_UNIT_TLS_FAIL_H */
