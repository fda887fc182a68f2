/*
 * Token bucket.
 */
#include "proxy/policy/ratelimit.h"

static double
burst_of(double rate, unsigned burst)
{
	if (burst > 0)
		return (double)burst;
	return rate > 1.0 ? rate : 1.0;
}

static void
refill(struct ratelimit *rl, uint64_t now_ms)
{
	double	dt;

	if (now_ms <= rl->last_ms)
		return;		/* a clock that went back earns nothing */
	dt = (double)(now_ms - rl->last_ms) / 1000.0;
	rl->tokens += dt * rl->rate;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	rl->last_ms = now_ms;
}

void
ratelimit_init(struct ratelimit *rl, double rate, unsigned burst,
    uint64_t now_ms)
{
	rl->rate = rate > 0 ? rate : 0;
	rl->burst = burst_of(rl->rate, burst);
	rl->tokens = rl->burst;
	rl->last_ms = now_ms;
}

void
ratelimit_update(struct ratelimit *rl, double rate, unsigned burst,
    uint64_t now_ms)
{
	refill(rl, now_ms);
	rl->rate = rate > 0 ? rate : 0;
	rl->burst = burst_of(rl->rate, burst);
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
}

bool
ratelimit_take(struct ratelimit *rl, uint64_t now_ms)
{
	if (rl->rate <= 0)
		return true;
	refill(rl, now_ms);
	if (rl->tokens < 1.0)
		return false;
	rl->tokens -= 1.0;
	return true;
}

void
ratelimit_refund(struct ratelimit *rl)
{
	if (rl->rate <= 0)
		return;
	rl->tokens += 1.0;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
}
