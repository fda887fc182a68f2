/*
 * The attribution index: number key -> seq of that number's newest sentlog
 * record not yet merged into the per-number table.
 *
 * One thread (the event loop) owns an index; nothing here locks. Keys are
 * store_numkey() values, never 0.
 *
 * The index is a FIFO of fixed-size segments, each a small open-addressing
 * table (linear probing, 16-byte slots, load at most 3/4) that takes the
 * puts of a contiguous run of seqs. A put goes to the newest segment; a
 * full one is followed by another, never rehashed, so no put moves more
 * than one slot's worth of data. A sweep drops whole segments from the
 * oldest end; they are kept as spares for later segments (so the memory
 * held is the most ever live, at most max_entries' worth). Nothing costs
 * time in proportion to the number of entries, which is what keeps the
 * event loop from stalling (a doubling table stalled it for 238 ms at 2M
 * entries).
 *
 * Seqs come from the sent log, so the puts' seqs strictly increase; the
 * index relies on that (see attrib_put() for what happens otherwise).
 */
#ifndef PROXY_DAEMON_ATTRIB_H
#define PROXY_DAEMON_ATTRIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Keys a segment takes by default: 98304 in 131072 slots (2 MiB), a load
 * of 3/4. Linear probing at 3/4 still averages under 3 probes for a hit
 * and about 8 for a miss, all in one or two cache lines; 2 MiB is a cheap
 * allocation (mmap, pages zeroed on first touch) and a cheap free.
 */
#define ATTRIB_SEG_ENTRIES	98304

struct attrib;

/*
 * An index for at most max_entries (>= 1) keys in segments of
 * ATTRIB_SEG_ENTRIES keys (or max_entries, if smaller). Returns it (owned;
 * free with attrib_free()), or NULL with errno ENOMEM or EINVAL (see
 * attrib_new_seg()). No segment is allocated until the first put.
 */
struct attrib *attrib_new(size_t max_entries);

/*
 * Like attrib_new() with seg_entries (>= 1) keys a segment; small segments
 * are for tests. max_entries is rounded down to whole segments, at least
 * one: the index holds at most max(1, max_entries / seg_entries) segments.
 * A segment has the smallest power-of-two slot count with load <= 3/4.
 * NULL with errno EINVAL when either is 0, ENOMEM on allocation failure or
 * when seg_entries is too large to size.
 */
struct attrib *attrib_new_seg(size_t max_entries, size_t seg_entries);

/* Free a and its segments. NULL is fine. */
void attrib_free(struct attrib *a);

/*
 * Make sure the next put of a new key cannot fail: start a segment if the
 * newest is full or there is none. Returns 0, or -1 with errno ENOSPC
 * (all segments allowed are live: sweep first) or ENOMEM.
 */
int attrib_reserve(struct attrib *a);

/*
 * Record key -> seq in the newest segment. A key already in that segment
 * keeps the larger of its seq there and seq; older segments are not
 * looked at (a get finds the newest segment's entry first). Seqs are
 * expected to increase from put to put; a smaller one is still stored,
 * but a get may then return it although an older segment holds a larger
 * one for the same key. Returns 0, or -1 with errno: EINVAL for key 0,
 * or what attrib_reserve() sets when a new key needs a new segment. On -1
 * nothing changed. O(1), one allocation when a segment starts.
 */
int attrib_put(struct attrib *a, uint64_t key, uint64_t seq);

/*
 * A hint: start loading the slot where a put of key will look first (in
 * the newest segment), for a caller that knows the put is coming. Changes
 * nothing.
 */
void attrib_prefetch(const struct attrib *a, uint64_t key);

/*
 * Whether key is in a live segment; if so the seq of the newest segment
 * holding it goes to *seq. Walks the segments newest first: a miss probes
 * every live segment (gets are rare, STOP messages only).
 */
bool attrib_get(const struct attrib *a, uint64_t key, uint64_t *seq);

/*
 * The merger has published "merged through seq `through`": drop segments,
 * oldest first, while every seq in the segment is <= through. An entry
 * with seq <= through may therefore outlive the call, when its segment
 * also holds a larger seq. A segment with no entries yet (just reserved)
 * is kept. Returns how many entries were dropped. O(segments dropped), and
 * O(1) when none is: cheap enough to call before every put. Nothing is
 * freed: dropped segments become spares.
 */
size_t attrib_sweep(struct attrib *a, uint64_t through);

/*
 * Drop the oldest live segment whatever its seqs (the index is full and
 * newer attribution matters more). Returns how many entries went; 0 when
 * there is no segment with entries. O(1).
 */
size_t attrib_drop_oldest(struct attrib *a);

/*
 * Entries in live segments. A key put in several segments counts once
 * for each, so this is the load, not the number of distinct keys.
 */
size_t attrib_count(const struct attrib *a);

/*
 * Bytes of slot memory in live segments (not spares, not the small
 * headers), for metrics.
 */
size_t attrib_bytes(const struct attrib *a);

/*
 * The 64-bit mixer behind slot placement: within a segment of `slots`
 * slots, key sits at or after slot attrib_hash(key) & (slots - 1).
 * Exported for tests, which build colliding keys from it.
 */
uint64_t attrib_hash(uint64_t key);

#endif /* PROXY_DAEMON_ATTRIB_H */
