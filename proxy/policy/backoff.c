/*
 * Capped exponential backoff with jitter.
 */
#include "proxy/policy/backoff.h"

#include <time.h>

static uint64_t
backoff_rand(struct backoff *b)
{
	/* xorshift64*: plenty for jitter, no global state. */
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545F4914F6CDD1DULL;
}

void
backoff_set_bounds(struct backoff *b, unsigned min_ms, unsigned max_ms)
{
	b->min_ms = min_ms ? min_ms : 1;
	b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
}

void
backoff_init(struct backoff *b, unsigned min_ms, unsigned max_ms,
    uint64_t seed)
{
	struct timespec	ts;

	backoff_set_bounds(b, min_ms, max_ms);
	b->attempt = 0;
	if (seed == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
		    (uint64_t)(uintptr_t)b;
	}
	b->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

unsigned
backoff_next(struct backoff *b)
{
	uint64_t	base, lo;

	base = b->min_ms;
	/* Shift at most until the cap; 32 doublings overflow nothing. */
	for (unsigned i = 0; i < b->attempt && base < b->max_ms; i++)
		base *= 2;
	if (base > b->max_ms)
		base = b->max_ms;
	if (b->attempt < 64)
		b->attempt++;
	lo = base / 2;
	if (lo < b->min_ms)
		lo = b->min_ms;
	if (lo >= base)
		return (unsigned)base;
	return (unsigned)(lo + backoff_rand(b) % (base - lo + 1));
}

void
backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}
