/*
 * The attribution index: number key -> seq of that number's newest sentlog
 * record not yet merged into the per-number table.
 *
 * One thread (the event loop) owns a table; nothing here locks. Keys are
 * store_numkey() values, never 0. The table is open addressing with linear
 * probing over a power-of-two array of 16-byte slots; it starts small,
 * doubles while the load passes 1/2, and stops at the slot count that
 * max_entries needs (2 * max_entries rounded up to a power of two), so the
 * load never passes 1/2 and a probe always meets an empty slot. A put
 * allocates only when the table doubles.
 */
#ifndef PROXY_ATTRIB_H
#define PROXY_ATTRIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct attrib;

/*
 * A table for at most max_entries keys (>= 1). Returns it (owned; free with
 * attrib_free()), or NULL with errno ENOMEM on allocation failure or when
 * max_entries is too large to size, EINVAL when it is 0.
 */
struct attrib *attrib_new(size_t max_entries);

/* Free a and its slots. NULL is fine. */
void attrib_free(struct attrib *a);

/*
 * Record key -> seq. A key already present keeps the larger of its stored
 * seq and seq; that never fails, even when the table is full. Returns 0, or
 * -1 with errno: EINVAL for key 0, ENOSPC when a new key would exceed
 * max_entries, ENOMEM when doubling failed. On -1 nothing changed.
 */
int attrib_put(struct attrib *a, uint64_t key, uint64_t seq);

/* Whether key is present; if so its seq goes to *seq. */
bool attrib_get(const struct attrib *a, uint64_t key, uint64_t *seq);

/*
 * Drop every entry with seq <= through (the merger has published "merged
 * through seq `through`"), in one pass over the slots. The slot array keeps
 * its size. Returns how many entries were dropped.
 */
size_t attrib_sweep(struct attrib *a, uint64_t through);

/* How many keys the table holds. */
size_t attrib_count(const struct attrib *a);

/* Bytes of slot memory (not the small header), for metrics. */
size_t attrib_bytes(const struct attrib *a);

/*
 * The 64-bit mixer behind slot placement: key sits at or after slot
 * attrib_hash(key) & (slots - 1), slots being attrib_bytes() / 16.
 * Exported for tests, which build colliding keys from it.
 */
uint64_t attrib_hash(uint64_t key);

#endif /* PROXY_ATTRIB_H */
