/*
 * Attribution index: put/get/replace, growth, the max_entries limit, and
 * the sweep against a plain array, with keys built to collide in one long
 * cluster that wraps around the end of the slot array.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "proxy/attrib.h"

#define SLOT_BYTES	16

/* A store_numkey()-shaped key: ndigits in the top byte, never 0. */
static uint64_t
numkey(unsigned ndigits, uint64_t digits)
{
	return (uint64_t)ndigits << 56 | digits;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_put_get_replace(void **state)
{
	struct attrib	*a;
	uint64_t	 seq, k1 = numkey(11, 44770090001), k2 = numkey(3, 999);

	(void)state;
	assert_non_null(a = attrib_new(100));
	assert_int_equal(attrib_count(a), 0);
	assert_false(attrib_get(a, k1, &seq));

	assert_int_equal(attrib_put(a, k1, 5), 0);
	assert_true(attrib_get(a, k1, &seq));
	assert_int_equal(seq, 5);
	assert_false(attrib_get(a, k2, &seq));

	/* An older seq does not replace a newer one; a newer does. */
	assert_int_equal(attrib_put(a, k1, 3), 0);
	assert_true(attrib_get(a, k1, &seq));
	assert_int_equal(seq, 5);
	assert_int_equal(attrib_put(a, k1, 9), 0);
	assert_true(attrib_get(a, k1, &seq));
	assert_int_equal(seq, 9);
	assert_int_equal(attrib_count(a), 1);

	assert_int_equal(attrib_put(a, k2, 1), 0);
	assert_int_equal(attrib_count(a), 2);
	assert_true(attrib_get(a, k2, &seq));
	assert_int_equal(seq, 1);

	/* Key 0 marks empty slots: refused, never found. */
	errno = 0;
	assert_int_equal(attrib_put(a, 0, 7), -1);
	assert_int_equal(errno, EINVAL);
	assert_false(attrib_get(a, 0, &seq));
	assert_int_equal(attrib_count(a), 2);

	attrib_free(a);
	attrib_free(NULL);
	errno = 0;
	assert_null(attrib_new(0));
	assert_int_equal(errno, EINVAL);
	assert_null(attrib_new(SIZE_MAX));
}

static void
test_growth_keeps_all(void **state)
{
	struct attrib	*a;
	uint64_t	 seq;
	size_t		 bytes, i, n = 200000;

	(void)state;
	assert_non_null(a = attrib_new(300000));
	bytes = attrib_bytes(a);
	assert_int_equal(bytes, 4096 * SLOT_BYTES);
	for (i = 0; i < n; i++) {
		assert_int_equal(attrib_put(a, numkey(11, 44700000000 + i * 7),
		    i + 1), 0);
		/* Doubles, never shrinks, load never past 1/2. */
		assert_true(attrib_bytes(a) >= bytes);
		bytes = attrib_bytes(a);
		assert_true((i + 1) * 2 <= bytes / SLOT_BYTES);
	}
	assert_int_equal(attrib_count(a), n);
	/* 200k keys at load <= 1/2: 2^19 slots; max would be 2^20. */
	assert_int_equal(attrib_bytes(a), ((size_t)1 << 19) * SLOT_BYTES);
	for (i = 0; i < n; i++) {
		assert_true(attrib_get(a, numkey(11, 44700000000 + i * 7),
		    &seq));
		assert_int_equal(seq, i + 1);
		assert_false(attrib_get(a, numkey(11, 44700000001 + i * 7),
		    &seq));
	}
	attrib_free(a);
}

static void
test_bytes(void **state)
{
	struct attrib	*a;
	size_t		 i;

	(void)state;
	/* Small limits size the table for themselves, not 4096 slots. */
	assert_non_null(a = attrib_new(10));
	assert_int_equal(attrib_bytes(a), 32 * SLOT_BYTES);
	attrib_free(a);
	assert_non_null(a = attrib_new(16));
	assert_int_equal(attrib_bytes(a), 32 * SLOT_BYTES);
	attrib_free(a);

	assert_non_null(a = attrib_new(100000));
	assert_int_equal(attrib_bytes(a), 4096 * SLOT_BYTES);
	for (i = 1; i <= 2048; i++)
		assert_int_equal(attrib_put(a, numkey(5, i), i), 0);
	assert_int_equal(attrib_bytes(a), 4096 * SLOT_BYTES);
	assert_int_equal(attrib_put(a, numkey(5, i), i), 0);
	assert_int_equal(attrib_bytes(a), 8192 * SLOT_BYTES);
	/* A sweep keeps the array. */
	assert_int_equal(attrib_sweep(a, UINT64_MAX), 2049);
	assert_int_equal(attrib_count(a), 0);
	assert_int_equal(attrib_bytes(a), 8192 * SLOT_BYTES);
	attrib_free(a);
}

static void
test_full(void **state)
{
	struct attrib	*a;
	uint64_t	 seq;
	size_t		 i;

	(void)state;
	assert_non_null(a = attrib_new(1000));
	for (i = 1; i <= 1000; i++)
		assert_int_equal(attrib_put(a, numkey(8, i), i), 0);
	errno = 0;
	assert_int_equal(attrib_put(a, numkey(8, 1001), 1001), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(attrib_count(a), 1000);
	assert_false(attrib_get(a, numkey(8, 1001), &seq));
	for (i = 1; i <= 1000; i++) {
		assert_true(attrib_get(a, numkey(8, i), &seq));
		assert_int_equal(seq, i);
	}
	/* A key already there is still updated. */
	assert_int_equal(attrib_put(a, numkey(8, 500), 2000), 0);
	assert_true(attrib_get(a, numkey(8, 500), &seq));
	assert_int_equal(seq, 2000);
	assert_int_equal(attrib_count(a), 1000);

	/* Seqs 1..10 merged: room for exactly ten new keys. */
	assert_int_equal(attrib_sweep(a, 10), 10);
	assert_int_equal(attrib_count(a), 990);
	for (i = 1001; i <= 1010; i++)
		assert_int_equal(attrib_put(a, numkey(8, i), i), 0);
	assert_int_equal(attrib_put(a, numkey(8, 1011), 1011), -1);
	for (i = 1; i <= 1011; i++) {
		bool want = (i > 10 && i <= 1010);

		assert_int_equal(attrib_get(a, numkey(8, i), &seq), want);
		if (want)
			assert_int_equal(seq, i == 500 ? 2000 : i);
	}
	attrib_free(a);

	/* The smallest table. */
	assert_non_null(a = attrib_new(1));
	assert_int_equal(attrib_bytes(a), 2 * SLOT_BYTES);
	assert_int_equal(attrib_put(a, 42, 1), 0);
	assert_int_equal(attrib_put(a, 43, 2), -1);
	assert_int_equal(attrib_put(a, 42, 3), 0);
	assert_int_equal(attrib_sweep(a, 2), 0);
	assert_int_equal(attrib_sweep(a, 3), 1);
	assert_int_equal(attrib_put(a, 43, 4), 0);
	assert_true(attrib_get(a, 43, &seq));
	assert_int_equal(seq, 4);
	assert_false(attrib_get(a, 42, &seq));
	attrib_free(a);
}

/*
 * Keys whose home slot, in a table of `slots` slots, is in the last `tail`
 * slots or the first `head`: they form one cluster that wraps around the
 * end. Since slots is the largest size the table reaches, they collide at
 * every smaller size too (the home index there is this one's low bits).
 */
static size_t
colliding_keys(uint64_t *keys, size_t n, size_t slots, size_t tail,
    size_t head)
{
	uint64_t	d, h;
	size_t		got = 0;

	for (d = 1; got < n; d++) {
		h = attrib_hash(numkey(12, d)) & (slots - 1);
		if (h + tail >= slots || h < head)
			keys[got++] = numkey(12, d);
	}
	return got;
}

struct model {
	uint64_t	*keys;	/* the universe */
	uint64_t	*ref;	/* seq per key, 0: absent */
	size_t		 nkeys;
	size_t		 count;
	size_t		 max_entries;
};

static void
model_check_all(const struct attrib *a, const struct model *m)
{
	uint64_t	seq;
	size_t		i;

	assert_int_equal(attrib_count(a), m->count);
	for (i = 0; i < m->nkeys; i++) {
		if (m->ref[i] == 0) {
			assert_false(attrib_get(a, m->keys[i], &seq));
			continue;
		}
		assert_true(attrib_get(a, m->keys[i], &seq));
		assert_int_equal(seq, m->ref[i]);
	}
}

/*
 * Random puts, gets and sweeps against m. Seqs mostly rise like the log's,
 * with some stale puts; sweeps mostly trail the newest seq like the
 * merger, some drop nothing and some drop everything.
 */
static void
model_run(struct attrib *a, struct model *m, uint64_t rng, size_t ops)
{
	uint64_t	seq, next = 1, through, r;
	size_t		i, op, want;
	int		rc;

	for (op = 0; op < ops; op++) {
		r = xorshift(&rng);
		i = (size_t)(xorshift(&rng) % m->nkeys);
		if (r % 1000 < 700) {
			seq = r % 10 == 0 ? 1 + xorshift(&rng) % next : next++;
			rc = attrib_put(a, m->keys[i], seq);
			if (m->ref[i] != 0) {
				assert_int_equal(rc, 0);
				if (seq > m->ref[i])
					m->ref[i] = seq;
			} else if (m->count >= m->max_entries) {
				assert_int_equal(rc, -1);
				assert_int_equal(errno, ENOSPC);
			} else {
				assert_int_equal(rc, 0);
				m->ref[i] = seq;
				m->count++;
			}
		} else if (r % 1000 < 990) {
			rc = attrib_get(a, m->keys[i], &seq);
			assert_int_equal(rc, m->ref[i] != 0);
			if (rc)
				assert_int_equal(seq, m->ref[i]);
		} else {
			switch (r % 7) {
			case 0:
				through = 0;
				break;
			case 1:
				through = UINT64_MAX;
				break;
			default:
				through = next - 1 -
				    xorshift(&rng) % (next / 4 + 1);
				break;
			}
			want = 0;
			for (i = 0; i < m->nkeys; i++) {
				if (m->ref[i] != 0 && m->ref[i] <= through) {
					m->ref[i] = 0;
					want++;
				}
			}
			m->count -= want;
			assert_int_equal(attrib_sweep(a, through), want);
			model_check_all(a, m);
		}
	}
	model_check_all(a, m);
}

static void
model_test(size_t max_entries, size_t ncollide, size_t nrandom,
    uint64_t seed, size_t ops)
{
	struct attrib	*a;
	struct model	 m;
	size_t		 slots, i;

	assert_non_null(a = attrib_new(max_entries));
	for (slots = 2; slots < 2 * max_entries; slots *= 2)
		;
	m.nkeys = ncollide + nrandom;
	m.max_entries = max_entries;
	m.count = 0;
	assert_non_null(m.keys = calloc(m.nkeys, sizeof(*m.keys)));
	assert_non_null(m.ref = calloc(m.nkeys, sizeof(*m.ref)));
	colliding_keys(m.keys, ncollide, slots, 6, 3);
	/*
	 * Other keys: another length, so never equal to those above, and
	 * distinct from each other (i * odd + c, far below 2^56).
	 */
	for (i = ncollide; i < m.nkeys; i++)
		m.keys[i] = numkey(10, i * 2654435761ULL + seed);
	model_run(a, &m, seed * 0x9E3779B97F4A7C15ULL | 1, ops);
	assert_true(attrib_bytes(a) <= slots * SLOT_BYTES);
	free(m.keys);
	free(m.ref);
	attrib_free(a);
}

static void
test_sweep_model_fixed(void **state)
{
	(void)state;
	/*
	 * 2048 slots from the start. 400 keys homed in 9 slots around the
	 * end: a cluster several hundred slots long that wraps, plus random
	 * keys; more keys than max_entries, so the limit is hit too.
	 */
	for (uint64_t seed = 1; seed <= 6; seed++)
		model_test(1000, 400, 900, seed, 60000);
	/* Collisions only: the cluster is most of the table. */
	model_test(1000, 1200, 0, 77, 60000);
}

static void
test_sweep_model_growing(void **state)
{
	(void)state;
	/* 4096 slots growing to 65536, collisions at every size. */
	model_test(20000, 500, 25000, 11, 150000);
	/* Tiny tables: a wrap on almost every probe. */
	for (uint64_t seed = 1; seed <= 20; seed++)
		model_test(1 + seed % 5, 8, 4, seed, 3000);
}

static void
test_sweep_edges(void **state)
{
	struct attrib	*a;
	uint64_t	 keys[64], seq;
	size_t		 i;

	(void)state;
	assert_non_null(a = attrib_new(1000));	/* 2048 slots */
	assert_int_equal(attrib_sweep(a, UINT64_MAX), 0);

	/*
	 * All keys homed in the last two slots: the cluster runs from slot
	 * 2046 over the end to slot 61. Drop every other one, then the ones
	 * at the front of the array, checking all survivors each time.
	 */
	colliding_keys(keys, 64, 2048, 2, 0);
	for (i = 0; i < 64; i++)
		assert_int_equal(attrib_put(a, keys[i], i + 1), 0);
	/* Odd seqs first: a sweep drops a prefix of seqs, so re-number. */
	for (i = 0; i < 64; i++)
		assert_int_equal(attrib_put(a, keys[i],
		    i % 2 ? 1000 + i : 100 + i), 0);
	assert_int_equal(attrib_sweep(a, 199), 32);
	for (i = 0; i < 64; i++) {
		assert_int_equal(attrib_get(a, keys[i], &seq), i % 2);
		if (i % 2)
			assert_int_equal(seq, 1000 + i);
	}
	assert_int_equal(attrib_sweep(a, 1031), 16);
	for (i = 0; i < 64; i++) {
		assert_int_equal(attrib_get(a, keys[i], &seq),
		    i % 2 && i > 31);
	}
	assert_int_equal(attrib_sweep(a, 0), 0);
	assert_int_equal(attrib_count(a), 16);
	assert_int_equal(attrib_sweep(a, UINT64_MAX), 16);
	assert_int_equal(attrib_count(a), 0);
	for (i = 0; i < 64; i++)
		assert_false(attrib_get(a, keys[i], &seq));
	attrib_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_growth_keeps_all),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_sweep_edges),
		cmocka_unit_test(test_sweep_model_fixed),
		cmocka_unit_test(test_sweep_model_growing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
