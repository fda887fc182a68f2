/*
 * The attribution index: an open-addressing hash table, linear probing,
 * key 0 marking an empty slot.
 *
 * Invariant (the one every operation keeps): an entry at slot p whose home
 * slot is h has every slot from h up to p - 1, cyclically, occupied. A
 * lookup therefore stops at the first empty slot. Deleting one entry
 * shifts later entries of its cluster back (no tombstones); the sweep
 * deletes many at once and re-places what follows a hole (see there).
 */
#include "proxy/attrib.h"

#include <errno.h>
#include <stdlib.h>

/* Small enough to cost nothing for a quiet daemon: 64 KiB. */
#define ATTRIB_MIN_SLOTS	4096

struct attrib_slot {
	uint64_t	key;	/* 0: empty */
	uint64_t	seq;
};

struct attrib {
	struct attrib_slot	*slots;		/* owned, mask + 1 of them */
	size_t			 mask;
	size_t			 count;
	size_t			 max_entries;
	size_t			 max_slots;	/* the size we stop doubling at */
};

uint64_t
attrib_hash(uint64_t key)
{
	/*
	 * MurmurHash3's fmix64. Keys are decimal numbers plus a length in
	 * the top byte, so nearby numbers differ in the low bits only; this
	 * spreads every input bit over the slot index bits.
	 */
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ULL;
	key ^= key >> 33;
	return key;
}

/* Index of key's slot if present, else of the empty slot ending its probe. */
static size_t
attrib_find(const struct attrib_slot *slots, size_t mask, uint64_t key)
{
	size_t	i;

	for (i = attrib_hash(key) & mask; slots[i].key != 0;
	    i = (i + 1) & mask)
		if (slots[i].key == key)
			break;
	return i;
}

struct attrib *
attrib_new(size_t max_entries)
{
	struct attrib	*a;
	size_t		 n;

	if (max_entries == 0) {
		errno = EINVAL;
		return NULL;
	}
	/* 2 * max_entries, rounded up, must not overflow as a byte count. */
	if (max_entries > SIZE_MAX / 4 / sizeof(struct attrib_slot)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	for (n = 2; n < 2 * max_entries; n *= 2)
		;
	a->max_entries = max_entries;
	a->max_slots = n;
	if (n > ATTRIB_MIN_SLOTS)
		n = ATTRIB_MIN_SLOTS;
	if ((a->slots = calloc(n, sizeof(*a->slots))) == NULL) {
		free(a);
		return NULL;
	}
	a->mask = n - 1;
	return a;
}

void
attrib_free(struct attrib *a)
{
	if (a == NULL)
		return;
	free(a->slots);
	free(a);
}

/* Double the slot array. 0, or -1 with errno ENOMEM and a unchanged. */
static int
attrib_grow(struct attrib *a)
{
	struct attrib_slot	*slots;
	size_t			 i, j, nmask;

	nmask = a->mask * 2 + 1;
	if ((slots = calloc(nmask + 1, sizeof(*slots))) == NULL)
		return -1;
	for (i = 0; i <= a->mask; i++) {
		if (a->slots[i].key == 0)
			continue;
		j = attrib_find(slots, nmask, a->slots[i].key);
		slots[j] = a->slots[i];
	}
	free(a->slots);
	a->slots = slots;
	a->mask = nmask;
	return 0;
}

int
attrib_put(struct attrib *a, uint64_t key, uint64_t seq)
{
	size_t	i;

	if (key == 0) {
		errno = EINVAL;
		return -1;
	}
	i = attrib_find(a->slots, a->mask, key);
	if (a->slots[i].key == key) {
		/* The log only grows, but a late put must not undo a newer. */
		if (seq > a->slots[i].seq)
			a->slots[i].seq = seq;
		return 0;
	}
	if (a->count >= a->max_entries) {
		errno = ENOSPC;
		return -1;
	}
	/*
	 * Keep the load at 1/2 or below: short probes, and always an empty
	 * slot. At max_slots, count <= max_entries <= max_slots / 2 anyway.
	 */
	if ((a->count + 1) * 2 > a->mask + 1 && a->mask + 1 < a->max_slots) {
		if (attrib_grow(a) == -1)
			return -1;
		i = attrib_find(a->slots, a->mask, key);
	}
	a->slots[i].key = key;
	a->slots[i].seq = seq;
	a->count++;
	return 0;
}

bool
attrib_get(const struct attrib *a, uint64_t key, uint64_t *seq)
{
	size_t	i;

	if (key == 0)
		return false;
	i = attrib_find(a->slots, a->mask, key);
	if (a->slots[i].key == 0)
		return false;
	*seq = a->slots[i].seq;
	return true;
}

size_t
attrib_sweep(struct attrib *a, uint64_t through)
{
	struct attrib_slot	*slots = a->slots, e;
	size_t			 mask = a->mask, start, i, j, n, dropped = 0;
	bool			 holed = false;

	/*
	 * Start just after an empty slot (the load is at most 1/2, so one
	 * exists) and walk all slots once, around the end. No cluster
	 * crosses that slot, so every entry met has its home between it and
	 * the entry, in walk order.
	 *
	 * Dropping an entry leaves a hole that may cut the probe path of
	 * entries after it in the same cluster. So once a cluster has a
	 * hole, every entry after it is taken out and put back from its
	 * home: it lands at the first empty slot from there, which is its
	 * own slot or an earlier one, never a slot the walk has not reached.
	 * Slots ahead of the walk are thus untouched, so an empty slot met
	 * is one that was empty before: a cluster's end, where the holes
	 * stop mattering. Slots behind the walk keep the invariant, since
	 * later steps only fill their holes or empty the walk's own slot.
	 */
	for (start = 0; slots[start].key != 0; start++)
		;
	for (n = 0, i = start; n <= mask; n++) {
		i = (i + 1) & mask;
		if (slots[i].key == 0) {
			holed = false;
			continue;
		}
		e = slots[i];
		if (e.seq <= through) {
			slots[i].key = 0;
			dropped++;
			holed = true;
			continue;
		}
		if (!holed)
			continue;
		slots[i].key = 0;
		j = attrib_find(slots, mask, e.key);
		slots[j] = e;
	}
	a->count -= dropped;
	return dropped;
}

size_t
attrib_count(const struct attrib *a)
{
	return a->count;
}

size_t
attrib_bytes(const struct attrib *a)
{
	return (a->mask + 1) * sizeof(struct attrib_slot);
}
