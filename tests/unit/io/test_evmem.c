/*
 * libevent's recycled memory: classes, reuse, the per-class bound,
 * realloc, and an evbuffer that empties after every message allocating
 * nothing new once warm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "proxy/io/evmem.h"

static bool is_installed;

static uint64_t
reused(void)
{
	struct evmem_stats	st;

	evmem_stats(&st);
	return st.reused;
}

static void
test_chain_sizes_are_reused(void **state)
{
	size_t	 size;
	void	*p, *q;

	(void)state;
	for (size = 1024; size <= 65536; size *= 2) {
		uint64_t before = reused();

		assert_non_null(p = evmem_malloc(size));
		memset(p, 0xab, size);
		evmem_free(p);
		assert_non_null(q = evmem_malloc(size));
		assert_ptr_equal(p, q);
		assert_int_equal(reused(), before + 1);
		evmem_free(q);
	}
}

static void
test_other_sizes_go_to_malloc(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, 1000, 1023, 1025, 3000,
	    65535, 65537, 131072 };
	size_t	 i;
	void	*p, *q;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t before = reused();

		assert_non_null(p = evmem_malloc(sizes[i]));
		memset(p, 0xcd, sizes[i]);
		evmem_free(p);
		assert_non_null(q = evmem_malloc(sizes[i]));
		evmem_free(q);
		assert_int_equal(reused(), before);
	}
}

static void
test_cache_is_bounded(void **state)
{
	struct evmem_stats	 st;
	void			*p[64];
	size_t			 i, held;

	(void)state;
	/* 64 blocks of 64 KiB out and back: only EVMEM_CLASS_BYTES of
	 * them stay on the list, the rest go back to malloc. */
	for (i = 0; i < 64; i++)
		assert_non_null(p[i] = evmem_malloc(65536));
	evmem_stats(&st);
	held = st.cached_bytes;		/* other classes' */
	for (i = 0; i < 64; i++)
		evmem_free(p[i]);
	evmem_stats(&st);
	assert_int_equal(st.cached_bytes - held, EVMEM_CLASS_BYTES);
	/* And they are handed out again. */
	for (i = 0; i < 64; i++)
		assert_non_null(p[i] = evmem_malloc(65536));
	evmem_stats(&st);
	assert_int_equal(st.cached_bytes, held);
	for (i = 0; i < 64; i++)
		evmem_free(p[i]);
}

static void
test_grow_and_shrink(void **state)
{
	char	*p, *q;
	size_t	 i;

	(void)state;
	assert_non_null(p = evmem_realloc(NULL, 1024));
	for (i = 0; i < 1024; i++)
		p[i] = (char)i;
	/* Within capacity: the same block. */
	assert_ptr_equal(evmem_realloc(p, 600), p);
	assert_non_null(q = evmem_realloc(p, 5000));
	for (i = 0; i < 1024; i++)
		assert_int_equal(q[i], (char)i);
	assert_null(evmem_realloc(q, 0));	/* freed */
	evmem_free(NULL);
}

/* What the proxy does at window 1: add a PDU, write it out, again. */
static void
test_evbuffer_refill_reuses(void **state)
{
	struct evbuffer	*b;
	uint8_t		 pdu[105], out[105];
	uint64_t	 before;
	int		 i;

	(void)state;
	if (!is_installed)
		skip();		/* sanitizer build: libevent uses malloc */
	assert_non_null(b = evbuffer_new());
	memset(pdu, 0x5a, sizeof(pdu));
	assert_int_equal(evbuffer_add(b, pdu, sizeof(pdu)), 0);
	assert_int_equal(evbuffer_remove(b, out, sizeof(out)), sizeof(out));
	before = reused();
	for (i = 0; i < 1000; i++) {
		assert_int_equal(evbuffer_add(b, pdu, sizeof(pdu)), 0);
		assert_int_equal(evbuffer_remove(b, out, sizeof(out)),
		    sizeof(out));
		assert_memory_equal(out, pdu, sizeof(pdu));
	}
	/* Every refill took its chain from the free list. */
	assert_true(reused() - before >= 1000);
	evbuffer_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_sizes_are_reused),
		cmocka_unit_test(test_other_sizes_go_to_malloc),
		cmocka_unit_test(test_cache_is_bounded),
		cmocka_unit_test(test_grow_and_shrink),
		cmocka_unit_test(test_evbuffer_refill_reuses),
	};

	/* Before any other libevent call, as the daemon does. */
	is_installed = evmem_install();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
