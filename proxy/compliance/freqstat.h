/*
 * A number's subscriber preferences as staff see them (SPEC §9, for
 * `stopgate status`): LESS per category, and how many messages of a
 * capped category may still go in the window, from what the store keeps
 * (store/freq.h). The proxy's own count may be ahead by the sends of its
 * store writer's current batch.
 */
#ifndef PROXY_COMPLIANCE_FREQSTAT_H
#define PROXY_COMPLIANCE_FREQSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct store;

struct freqstat {
	bool		 has_cap;	/* the category has a frequency rule */
	bool		 is_less;	/* the number said LESS */
	unsigned	 max;		/* the cap in force */
	int64_t		 per_s;
	unsigned	 sent;		/* in the window */
	unsigned	 left;
	int64_t		 less_since;	/* when is_less */
	uint64_t	 less_event;
};

/*
 * Fill *out for number and category index cat at now. Returns 0, or -1
 * when the store could not be read.
 */
int freqstat_get(struct store *st, const struct config *cfg,
    const char *number, size_t cat, int64_t now, struct freqstat *out);

/*
 * freqstat_get() for a category named as optout_status() names it: a
 * name the config does not know (such as the all-categories row) has no
 * cap (has_cap false). What `stopgate status` and GET /v1/numbers/{n}
 * both show. Returns 0 or -1.
 */
int freqstat_category(struct store *st, const struct config *cfg,
    const char *number, const char *category, int64_t now,
    struct freqstat *out);

#endif /* PROXY_COMPLIANCE_FREQSTAT_H */
