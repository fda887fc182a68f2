/*
 * Frequency caps (SPEC §9): how many messages of a category went to a
 * number in a rolling window, counted in memory on the proxy's loop.
 *
 * Per number and category the table keeps a small ring of send times
 * (unix seconds), as many as the category's cap allows (max): a send is
 * allowed while fewer than max of them fall in the last per seconds, or
 * fewer than less.max in the last less.per once the number said LESS.
 * A less rule never allows more sends (config/prefs.c), so the newest
 * max times answer both windows. No B-tree walk and no store write on
 * the forward path: the store keeps the accepted sends (store/freq.h)
 * and the daemon loads them back at start.
 *
 * A send is counted when it is forwarded (freq_take: the time is kept
 * at once, so a burst cannot overshoot while the SMSC answers), and
 * uncounted (freq_untake) if the SMSC refuses it or never answers: a
 * refused send is not a text the subscriber got.
 *
 * The same table remembers which numbers are in LESS, per category.
 * Not thread-safe: one loop owns it.
 */
#ifndef PROXY_POLICY_FREQ_H
#define PROXY_POLICY_FREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_frequency;
struct freq_table;

/* Returns a new, empty table (free with freq_free()) or NULL. */
struct freq_table *freq_new(void);

/* Free; accepts NULL. */
void freq_free(struct freq_table *t);

/* Numbers and categories held (for /metrics). */
size_t freq_size(const struct freq_table *t);

/*
 * The cap in force for a number: f's plain (max, per), or its less
 * ones when is_less and f has a less rule.
 */
void freq_rule(const struct config_frequency *f, bool is_less,
    unsigned *max, int64_t *per);

/*
 * Pure window arithmetic: of the n times (oldest first), how many are
 * in the window (now - per, now]. A time after now counts (a clock
 * stepping back must not free a send).
 */
size_t freq_count_in(const int64_t *times, size_t n, int64_t now,
    int64_t per);

/*
 * May a message of category under cap f go to number at now? 1 yes, and
 * now is counted; 0 no, the cap is reached (*retry_at, if non-NULL, gets
 * when the oldest counted send leaves the window); -1 out of memory
 * (nothing counted).
 */
int freq_take(struct freq_table *t, const char *number,
    const char *category, const struct config_frequency *f, int64_t now,
    int64_t *retry_at);

/* Uncount one send of number and category at time (freq_take's now). */
void freq_untake(struct freq_table *t, const char *number,
    const char *category, int64_t time);

/*
 * Sends left for number and category under f at now (0 when capped),
 * and whether the number is in LESS for it.
 */
unsigned freq_left(const struct freq_table *t, const char *number,
    const char *category, const struct config_frequency *f, int64_t now,
    bool *is_less);

/*
 * Put back times kept in the store (oldest first; at start), under cap
 * f (the newest f->max are kept). Returns 0 or -1 (out of memory).
 */
int freq_load(struct freq_table *t, const char *number,
    const char *category, const struct config_frequency *f,
    const int64_t *times, size_t n);

/* Set or clear LESS for number and category. Returns 0 or -1. */
int freq_set_less(struct freq_table *t, const char *number,
    const char *category, bool is_less);

/*
 * A hint: start loading the first slot number and category probe (a
 * cache miss on a large table), to overlap it with other work.
 */
void freq_prefetch(const struct freq_table *t, const char *number,
    const char *category);

/* Whether number is in LESS for category. */
bool freq_is_less(const struct freq_table *t, const char *number,
    const char *category);

/*
 * Drop what can no longer matter: entries not in LESS whose newest time
 * is before horizon. Visits up to max slots from where the last call
 * stopped (so a timer spreads the work). Returns the entries dropped.
 */
size_t freq_sweep(struct freq_table *t, int64_t horizon, size_t max);

#endif /* PROXY_POLICY_FREQ_H */
