/*
 * The attribution index: a FIFO of segments, each an open-addressing hash
 * table with linear probing, key 0 marking an empty slot.
 *
 * Nothing is ever deleted from a segment, so a probe stops at the first
 * empty slot, and a segment never fills past seg_entries < slots, so one
 * always exists. Segments are doubly linked: gets walk newest to oldest,
 * sweeps free from the oldest end.
 *
 * A swept segment is kept as a spare, not freed, and used again: on this
 * kind of host freeing 2 MiB costs 50-100 us (munmap), or over 1 ms when
 * malloc trims its heap, and a fresh one costs a page fault per 4 KiB.
 * A spare must be zeroed before use, which is 50-90 us in one go, so each
 * put zeroes a little of one (ATTRIB_ZERO_STEP slots): spares are clean
 * long before the newest segment fills. The memory held is thus the most
 * segments ever live at once, at most max_entries' worth, until
 * attrib_free().
 */
#include "proxy/daemon/attrib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Slots of a spare zeroed per put: 256 bytes, a few ns. A default segment
 * is clean after 8192 puts, while filling one takes at least 98304.
 */
#define ATTRIB_ZERO_STEP	16

struct attrib_slot {
	uint64_t	key;	/* 0: empty */
	uint64_t	seq;
};

struct attrib_seg {
	struct attrib_seg	*newer;		/* NULL: the newest */
	struct attrib_seg	*older;		/* NULL: the oldest */
	size_t			 count;
	uint64_t		 max_seq;	/* largest seq put here */
	size_t			 nzeroed;	/* spare: slots below are 0 */
	struct attrib_slot	*slots;		/* owned, mask + 1 of them */
};

struct attrib {
	struct attrib_seg	*newest;	/* owned, with all older ones */
	struct attrib_seg	*oldest;
	struct attrib_seg	*dirty;		/* owned spares, via older */
	struct attrib_seg	*clean;		/* owned spares, via older */
	size_t			 nsegs;		/* live ones */
	size_t			 max_segs;
	size_t			 seg_entries;	/* keys a segment takes */
	size_t			 mask;		/* slots a segment, less 1 */
	size_t			 count;		/* sum of the segments' */
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
attrib_find(const struct attrib_slot *slots, size_t mask, uint64_t h,
    uint64_t key)
{
	size_t	i;

	for (i = h & mask; slots[i].key != 0; i = (i + 1) & mask)
		if (slots[i].key == key)
			break;
	return i;
}

struct attrib *
attrib_new(size_t max_entries)
{
	return attrib_new_seg(max_entries, ATTRIB_SEG_ENTRIES);
}

struct attrib *
attrib_new_seg(size_t max_entries, size_t seg_entries)
{
	struct attrib	*a;
	size_t		 n;

	if (max_entries == 0 || seg_entries == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (seg_entries > max_entries)
		seg_entries = max_entries;
	/* Slots at load <= 3/4, rounded up, must not overflow as bytes. */
	if (seg_entries > SIZE_MAX / 4 / sizeof(struct attrib_slot)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	/* n * 3 / 4 >= seg_entries, and n > seg_entries for an empty slot. */
	for (n = 2; n / 4 * 3 + n % 4 * 3 / 4 < seg_entries ||
	    n <= seg_entries; n *= 2)
		;
	a->seg_entries = seg_entries;
	a->mask = n - 1;
	a->max_segs = max_entries / seg_entries;
	return a;
}

static void
attrib_seg_free(struct attrib_seg *s)
{
	free(s->slots);
	free(s);
}

void
attrib_free(struct attrib *a)
{
	struct attrib_seg	*s;

	if (a == NULL)
		return;
	while ((s = a->oldest) != NULL) {
		a->oldest = s->newer;
		attrib_seg_free(s);
	}
	while ((s = a->dirty) != NULL) {
		a->dirty = s->older;
		attrib_seg_free(s);
	}
	while ((s = a->clean) != NULL) {
		a->clean = s->older;
		attrib_seg_free(s);
	}
	free(a);
}

/*
 * Zero up to n more slots of the first dirty spare; once it is all zero,
 * move it to the clean ones.
 */
static void
attrib_zero(struct attrib *a, size_t n)
{
	struct attrib_seg	*s = a->dirty;

	if (n > a->mask + 1 - s->nzeroed)
		n = a->mask + 1 - s->nzeroed;
	memset(s->slots + s->nzeroed, 0, n * sizeof(*s->slots));
	s->nzeroed += n;
	if (s->nzeroed <= a->mask)
		return;
	a->dirty = s->older;
	s->older = a->clean;
	a->clean = s;
}

/* A zeroed segment, unlinked: a clean spare, else a new one. */
static struct attrib_seg *
attrib_seg_get(struct attrib *a)
{
	struct attrib_seg	*s;

	/*
	 * Puts outran the zeroing (a sweep freed many segments at once and
	 * then they were needed): finish one spare now rather than hold
	 * more memory than max_entries needs.
	 */
	if (a->clean == NULL && a->dirty != NULL)
		attrib_zero(a, a->mask + 1);
	if ((s = a->clean) != NULL) {
		a->clean = s->older;
		s->newer = s->older = NULL;
		s->count = 0;
		s->max_seq = 0;
		return s;
	}
	/*
	 * calloc gets a segment this size straight from mmap: pages come
	 * zeroed and are faulted in by the puts that follow, one at a time,
	 * so starting a segment does not write 2 MiB in one go.
	 */
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->slots = calloc(a->mask + 1, sizeof(*s->slots))) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

int
attrib_reserve(struct attrib *a)
{
	struct attrib_seg	*s;

	if (a->newest != NULL && a->newest->count < a->seg_entries)
		return 0;
	if (a->nsegs >= a->max_segs) {
		errno = ENOSPC;
		return -1;
	}
	if ((s = attrib_seg_get(a)) == NULL)
		return -1;
	s->older = a->newest;
	if (a->newest != NULL)
		a->newest->newer = s;
	else
		a->oldest = s;
	a->newest = s;
	a->nsegs++;
	return 0;
}

int
attrib_put(struct attrib *a, uint64_t key, uint64_t seq)
{
	struct attrib_seg	*s;
	uint64_t		 h;
	size_t			 i;

	if (key == 0) {
		errno = EINVAL;
		return -1;
	}
	if (a->dirty != NULL)
		attrib_zero(a, ATTRIB_ZERO_STEP);
	h = attrib_hash(key);
	if ((s = a->newest) != NULL) {
		i = attrib_find(s->slots, a->mask, h, key);
		if (s->slots[i].key == key) {
			/* A late put must not undo a newer one. */
			if (seq > s->slots[i].seq)
				s->slots[i].seq = seq;
			if (seq > s->max_seq)
				s->max_seq = seq;
			return 0;
		}
	}
	if (attrib_reserve(a) == -1)
		return -1;
	s = a->newest;
	i = attrib_find(s->slots, a->mask, h, key);
	s->slots[i].key = key;
	s->slots[i].seq = seq;
	if (seq > s->max_seq)
		s->max_seq = seq;
	s->count++;
	a->count++;
	return 0;
}

void
attrib_prefetch(const struct attrib *a, uint64_t key)
{
	if (a->newest != NULL)
		__builtin_prefetch(&a->newest->slots[attrib_hash(key) &
		    a->mask], 1);
}

bool
attrib_get(const struct attrib *a, uint64_t key, uint64_t *seq)
{
	const struct attrib_seg	*s;
	uint64_t		 h;
	size_t			 i;

	if (key == 0)
		return false;
	h = attrib_hash(key);
	for (s = a->newest; s != NULL; s = s->older) {
		i = attrib_find(s->slots, a->mask, h, key);
		if (s->slots[i].key == key) {
			*seq = s->slots[i].seq;
			return true;
		}
	}
	return false;
}

size_t
attrib_sweep(struct attrib *a, uint64_t through)
{
	struct attrib_seg	*s;
	size_t			 dropped = 0;

	/*
	 * Oldest first, and stop at the first segment that must stay: the
	 * merger goes through the log in seq order, so a newer segment
	 * could only go if its seqs were out of order with this one's.
	 */
	while ((s = a->oldest) != NULL && s->count > 0 &&
	    s->max_seq <= through) {
		/* Kept as a spare; see the top of the file. */
		a->oldest = s->newer;
		if (a->oldest != NULL)
			a->oldest->older = NULL;
		else
			a->newest = NULL;
		dropped += s->count;
		a->count -= s->count;
		a->nsegs--;
		s->nzeroed = 0;
		s->older = a->dirty;
		a->dirty = s;
	}
	return dropped;
}

size_t
attrib_drop_oldest(struct attrib *a)
{
	if (a->oldest == NULL || a->oldest->count == 0)
		return 0;
	return attrib_sweep(a, a->oldest->max_seq);
}

size_t
attrib_count(const struct attrib *a)
{
	return a->count;
}

size_t
attrib_bytes(const struct attrib *a)
{
	return a->nsegs * (a->mask + 1) * sizeof(struct attrib_slot);
}
