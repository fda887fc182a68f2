/*
 * Quiet hours (SPEC §9): is it inside a category's quiet window at the
 * recipient's local time?
 *
 * Local time comes from the system's tzdata through the C library, never
 * from rules of our own. glibc has no localtime for a given zone, only
 * for the process's TZ, and changing TZ per message would be slow and
 * would race every other thread's idea of local time. So, on the thread
 * that loads the config, quiet_zones_build() sets TZ to each configured
 * zone in turn (under a lock, the old TZ restored after), samples
 * localtime_r's UTC offset every hour over a window (two days back, 400
 * days ahead) and pins each change of offset to its second by bisection;
 * the result is a small sorted table of (UTC time, offset) per zone,
 * read without locks on the send path by binary search. Nothing else
 * in stopgate reads local time (logs and records are UTC, from
 * gmtime_r), so no other thread sees the brief change of TZ. The daemon
 * rebuilds it on every reload and once a day, so the window always
 * covers the next year; a time past its end takes the last offset.
 *
 * Two changes of offset less than an hour apart would be missed; no zone
 * in tzdata has had one in the past decades.
 *
 * Reading the TZif files directly was the other way: it needs the files'
 * version-2 64-bit data and their POSIX TZ footer rules for the years
 * beyond the table, which is a second implementation of what the C
 * library already does.
 */
#ifndef PROXY_POLICY_QUIET_H
#define PROXY_POLICY_QUIET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct config_quiet;
struct quiet_zones;

/* Sampling window of quiet_zones_build(), seconds around now. */
#define QUIET_WINDOW_BACK_S	(2 * 86400)
#define QUIET_WINDOW_AHEAD_S	(400 * 86400)

/*
 * The offset tables of every zone cfg names (timezones.default and the
 * prefixes' zones), sampled around now. Returns a new set (free with
 * quiet_zones_free()) or NULL with a message in err (out of memory).
 * Touches the process's TZ for the duration: call it where config is
 * loaded, not on a hot path.
 */
struct quiet_zones *quiet_zones_build(const struct config *cfg, int64_t now,
    char *err, size_t errlen);

/* The same for one zone name (tests, `stopgate status`). */
struct quiet_zones *quiet_zones_build_one(const char *zone, int64_t now);

/* Free; accepts NULL. */
void quiet_zones_free(struct quiet_zones *z);

/* Zones held, and changes of offset in all their tables (metrics). */
size_t quiet_zones_count(const struct quiet_zones *z, size_t *ntrans);

/*
 * The UTC offset of zone at unix time t, seconds east: 0 with *off set,
 * -1 if zone is not in z.
 */
int quiet_offset(const struct quiet_zones *z, const char *zone, int64_t t,
    int32_t *off);

/*
 * Pure: is minute-of-day local (0..1439) inside [from, to) of q? from >
 * to wraps midnight (21:00-08:00 holds 23:00 and 07:59, not 08:00).
 */
bool quiet_minute_inside(const struct config_quiet *q, unsigned local);

/* Local minute of day of unix time t at UTC offset off. */
unsigned quiet_local_minute(int64_t t, int32_t off);

/*
 * Is a message of category index cat to number inside its quiet hours
 * at now? 1 yes (then *local_min, if non-NULL, gets the local minute),
 * 0 no (no quiet hours for cat, or outside them), -1 the number's zone
 * has no table (a zone missing from z: the caller decides).
 */
int quiet_check(const struct quiet_zones *z, const struct config *cfg,
    size_t cat, const char *number, int64_t now, unsigned *local_min);

#endif /* PROXY_POLICY_QUIET_H */
