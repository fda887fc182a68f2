/*
 * Per-account send rate (SPEC §3 `max_rate`): a token bucket that allows
 * bursts. One bucket per account, shared by every session of that account.
 * Plain data; the caller passes the time, so tests need no clock.
 */
#ifndef PROXY_POLICY_RATELIMIT_H
#define PROXY_POLICY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	double		 rate;		/* tokens per second; 0 = unlimited */
	double		 burst;		/* bucket depth, >= 1 */
	double		 tokens;	/* available now */
	uint64_t	 last_ms;	/* time of the last refill */
};

/*
 * Set up rl for rate messages per second with a bucket of burst tokens
 * (0 means max(1, rate)); the bucket starts full at now_ms.
 */
void ratelimit_init(struct ratelimit *rl, double rate, unsigned burst,
    uint64_t now_ms);

/*
 * Change rate and burst (config reload) keeping the tokens already earned,
 * capped at the new burst.
 */
void ratelimit_update(struct ratelimit *rl, double rate, unsigned burst,
    uint64_t now_ms);

/*
 * Take one token at now_ms. Returns true if the message may go, false if
 * the account is over its rate (the caller answers ESME_RTHROTTLED).
 */
bool ratelimit_take(struct ratelimit *rl, uint64_t now_ms);

/* Give back a token taken for a message that was not sent after all. */
void ratelimit_refund(struct ratelimit *rl);

#endif /* PROXY_POLICY_RATELIMIT_H */
