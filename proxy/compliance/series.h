/*
 * What the dashboard's overview draws (SPEC §10), from the store's
 * per-day counters (store/daily.h), never from a walk of the history:
 * opt-outs per day by category, rejected sends per day by reason (the
 * command_status sent back), the STOP rate per account and category
 * (opt-outs attributed to the last message ÷ messages forwarded), and
 * the days whose opt-outs exceed three times the median of the 28 days
 * before (spikes).
 */
#ifndef PROXY_COMPLIANCE_SERIES_H
#define PROXY_COMPLIANCE_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proxy/compliance/compliance.h"

struct config;
struct store;

#define SERIES_DAYS_MAX		366
#define SERIES_DAYS_DEFAULT	90
#define SERIES_SPIKE_WINDOW	28	/* days before a day */
#define SERIES_SPIKE_FACTOR	3

/*
 * Twice the median of v[0..n) (the sum of the two middle values when n
 * is even), so that it stays an integer. v is reordered. 0 when n is 0.
 */
uint64_t series_median2(uint64_t *v, size_t n);

/*
 * Whether count is a spike against the n days before it (prev, oldest
 * first, not changed): count > SERIES_SPIKE_FACTOR × their median. With
 * fewer than SERIES_SPIKE_WINDOW days the missing ones count as 0 (a
 * store younger than the window). *median2 (if not NULL) gets twice the
 * median.
 */
bool series_is_spike(const uint64_t *prev, size_t n, uint64_t count,
    uint64_t *median2);

/*
 * Why a send refused with status was refused, by cfg: "opted_out" (the
 * rejection status or a category's), "frequency_cap", "quiet_hours"
 * (store_audit_reason_name), or NULL for any other status. The per-day
 * counters keep only the status.
 */
const char *series_reason_of(const struct config *cfg, uint32_t status);

/*
 * Write the series of the days days (1..SERIES_DAYS_MAX) up to and
 * including the day of now as one JSON object to fp:
 *   {"from":DAY,"to":DAY,"days":[DAY..],
 *    "optouts":[n per day],                 opt-out events
 *    "optouts_by_category":{CAT:[n..]},     "*" = every category
 *    "events":{ACTION:[n..]},               every action, opt_out too
 *    "rejected":{STATUS:[n..]},             "0x00000401": [..]
 *    "rejected_reasons":{STATUS:REASON},    series_reason_of(cfg), for
 *                                           the statuses it knows
 *    "spikes":[{"day","index","optouts","median"}],
 *    "stop_rate":[{"account","category","forwarded","attributed",
 *                  "rate"}]}                rate null with nothing sent
 * LESS events are in "events" ("less"), never in the opt-out members.
 * DAY is YYYY-MM-DD (UTC). cfg may be NULL (no reasons). Returns 0, or
 * -1 with err set (COMPLIANCE_E_INPUT, _STORE, _NOMEM).
 */
int series_write(struct store *st, const struct config *cfg, int64_t now,
    unsigned days, FILE *fp, struct compliance_err *err);

#endif /* PROXY_COMPLIANCE_SERIES_H */
