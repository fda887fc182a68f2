/*
 * Capped exponential backoff with jitter, for reconnecting to an SMSC.
 *
 * Attempt n (0-based since the last reset) has a base delay of
 * min_ms * 2^n capped at max_ms; the delay returned is uniform in
 * [max(min_ms, base / 2), base]. Jitter keeps many connections that fail
 * together from reconnecting in lockstep. Plain data, no allocation.
 */
#ifndef PROXY_POLICY_BACKOFF_H
#define PROXY_POLICY_BACKOFF_H

#include <stdint.h>

struct backoff {
	unsigned	min_ms;
	unsigned	max_ms;
	unsigned	attempt;	/* since the last reset */
	uint64_t	rng;		/* xorshift64* state, never 0 */
};

/*
 * Set up b with bounds min_ms .. max_ms (min_ms 0 is taken as 1; max_ms
 * below min_ms is taken as min_ms) and a jitter seed (0 picks one from the
 * clock and b's address).
 */
void backoff_init(struct backoff *b, unsigned min_ms, unsigned max_ms,
    uint64_t seed);

/* Change the bounds, keeping the attempt count (config reload). */
void backoff_set_bounds(struct backoff *b, unsigned min_ms, unsigned max_ms);

/* The delay before the next attempt, in ms; counts the attempt. */
unsigned backoff_next(struct backoff *b);

/* Start over from min_ms (after a successful bind). */
void backoff_reset(struct backoff *b);

#endif /* PROXY_POLICY_BACKOFF_H */
