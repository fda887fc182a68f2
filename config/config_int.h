/*
 * Internal to config/: the loader's error call for the other files of
 * config/, and the subscriber preference keys of the config (SPEC §9):
 * frequency, quiet_hours and timezones (config/prefs.c). config.c's
 * top-level key table calls the three key functions while it walks the
 * file (they only remember the node), and config_prefs_load() once the
 * categories are known.
 */
#ifndef CONFIG_CONFIG_INT_H
#define CONFIG_CONFIG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "config/tree.h"

struct loader;

/* Report an error at node at (config.c's loader). */
/* The value of key in mapping map (NULL or not a map: NULL), or NULL. */
const struct config_node *config_map_get(const struct config_node *map,
    const char *key);

void config_loader_err(struct loader *L, const struct config_node *at,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Top-level key functions: remember v (a struct config *obj) for later. */
void config_prefs_frequency(struct loader *L, const struct config_node *v,
    void *obj);
void config_prefs_quiet(struct loader *L, const struct config_node *v,
    void *obj);
void config_prefs_timezones(struct loader *L, const struct config_node *v,
    void *obj);

/*
 * Load and check the remembered keys into cfg->prefs, after the
 * categories: durations, caps (a less rule must be stricter), times,
 * zones (a file of the system's tzdata), references to categories. Every
 * problem is reported with its place.
 */
void config_prefs_load(struct loader *L, struct config *cfg);

/* Free what cfg->prefs owns. */
void config_prefs_free(struct config_prefs *p);

/*
 * Parse a duration: digits and one unit of s, m, h or d ("7d").
 * Returns the seconds, or -1 if s is not one.
 */
int64_t config_duration_parse(const char *s);

/* Parse "HH:MM" (00:00..23:59) into minutes. Returns 0 or -1. */
int config_hhmm_parse(const char *s, unsigned *out);

/*
 * Whether zone names a zone of the system's tzdata: a safe relative name
 * whose file under $TZDIR (else /usr/share/zoneinfo) starts with "TZif".
 */
bool config_zone_exists(const char *zone);

#endif /* CONFIG_CONFIG_INT_H */
