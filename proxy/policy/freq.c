/*
 * Frequency caps counted in memory: an open-addressing hash table
 * (linear probing, backward-shift deletion) of (number, category) ->
 * send times, oldest first, at most the cap's max of them. See freq.h.
 */
#include "proxy/policy/freq.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "store/store.h"

#define FREQ_SLOTS_MIN	64	/* per shard; a power of two */
/*
 * The table is split by the hash's top bits into shards that grow
 * (double and rehash) each on its own: a growth moves a 64th of the
 * numbers, a stall of milliseconds rather than hundreds of them once
 * millions are held.
 */
#define FREQ_SHARD_BITS	6
#define FREQ_SHARDS	(1u << FREQ_SHARD_BITS)
#define FREQ_NAME_MAX	CONFIG_NAME_MAX
#define FREQ_INLINE	2	/* send times held in the slot itself */

/*
 * One number and category: 40 bytes (times as seconds since
 * FREQ_EPOCH in 32 bits, good to 2156); the table is kept at most half
 * full, so a million numbers sent to in the window take 2^21 slots,
 * 84 MB.
 */
struct freq_slot {
	uint64_t	 key;		/* number_key(); 0: an empty slot */
	/* Oldest first: in inl while they fit (most numbers get a send or
	 * two: no allocation), else in heap (owned). SLOT_TIMES() reads
	 * whichever; never a pointer to inl (slots move on growth). */
	uint32_t	*heap;
	uint32_t	 inl[FREQ_INLINE];
	uint16_t	 cat;		/* index into the table's names */
	uint16_t	 n;		/* times kept */
	uint16_t	 cap;		/* times kept at most: the cap's max */
	uint16_t	 alloc;		/* times allocated (grows to cap) */
	bool		 is_less;
};

#define SLOT_TIMES(s)	((s)->heap != NULL ? (s)->heap : (s)->inl)

/* Send times in a slot: seconds since 2020-01-01T00:00:00Z. */
#define FREQ_EPOCH	INT64_C(1577836800)

static uint32_t
to32(int64_t t)
{
	if (t <= FREQ_EPOCH)
		return 0;
	if (t - FREQ_EPOCH >= (int64_t)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)(t - FREQ_EPOCH);
}

static int64_t
from32(uint32_t t)
{
	return FREQ_EPOCH + (int64_t)t;
}

/* freq_count_in() over a slot's times. */
static size_t
count32(const uint32_t *tm, size_t n, int64_t now, int64_t per)
{
	size_t	 k = 0;

	while (k < n && from32(tm[n - 1 - k]) > now - per)
		k++;
	return k;
}

struct freq_shard {
	struct freq_slot *slots;	/* owned; mask + 1 of them */
	size_t		 mask;
	size_t		 used;
};

struct freq_table {
	struct freq_shard sh[FREQ_SHARDS];
	size_t		 used;
	size_t		 sweep_shard, sweep_pos;
	char		(*names)[FREQ_NAME_MAX];	/* owned: categories */
	size_t		 nnames;
};

/*
 * A number as a 64-bit key: its digits packed (store_numkey), else (an
 * alphanumeric address) a 64-bit hash with the top bit set, which no
 * packed number has.
 */
static uint64_t
number_key(const char *number)
{
	uint64_t	 h = 0xcbf29ce484222325ull;
	const char	*p;

	if (store_numkey(number, &h))
		return h;
	for (p = number; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return h | (UINT64_C(1) << 63);
}

static uint64_t
slot_hash(uint64_t key, uint16_t cat)
{
	uint64_t	 h = (key ^ ((uint64_t)cat << 48)) *
			    0x9e3779b97f4a7c15ull;

	h ^= h >> 29;
	return h != 0 ? h : 1;
}

/* The index of category name, added when is_add. Returns 0, or -1 (not
 * known, or no room). */
static int
name_id(struct freq_table *t, const char *name, bool is_add, uint16_t *id)
{
	char	(*nn)[FREQ_NAME_MAX];
	size_t	 i, len = strlen(name);

	for (i = 0; i < t->nnames; i++)
		if (strcmp(t->names[i], name) == 0) {
			*id = (uint16_t)i;
			return 0;
		}
	if (!is_add || len >= FREQ_NAME_MAX || t->nnames >= UINT16_MAX)
		return -1;
	if ((nn = realloc(t->names, (t->nnames + 1) * sizeof(*nn))) == NULL)
		return -1;
	t->names = nn;
	memcpy(t->names[t->nnames], name, len + 1);
	*id = (uint16_t)t->nnames++;
	return 0;
}

struct freq_table *
freq_new(void)
{
	struct freq_table	*t;

	size_t			 i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	for (i = 0; i < FREQ_SHARDS; i++) {
		if ((t->sh[i].slots = calloc(FREQ_SLOTS_MIN,
		    sizeof(*t->sh[i].slots))) == NULL) {
			freq_free(t);
			return NULL;
		}
		t->sh[i].mask = FREQ_SLOTS_MIN - 1;
	}
	return t;
}

void
freq_free(struct freq_table *t)
{
	size_t	 i, k;

	if (t == NULL)
		return;
	for (k = 0; k < FREQ_SHARDS; k++) {
		for (i = 0; t->sh[k].slots != NULL && i <= t->sh[k].mask; i++)
			free(t->sh[k].slots[i].heap);
		free(t->sh[k].slots);
	}
	free(t->names);
	free(t);
}

size_t
freq_size(const struct freq_table *t)
{
	return t->used;
}

void
freq_rule(const struct config_frequency *f, bool is_less, unsigned *max,
    int64_t *per)
{
	if (is_less && f->has_less) {
		*max = f->less_max;
		*per = f->less_per_s;
	} else {
		*max = f->max;
		*per = f->per_s;
	}
}

size_t
freq_count_in(const int64_t *times, size_t n, int64_t now, int64_t per)
{
	size_t	 k = 0;

	/* Newest first: the window is a suffix of the sorted times. */
	while (k < n && times[n - 1 - k] > now - per)
		k++;
	return k;
}

/* The shard of hash h. */
static struct freq_shard *
shard_of(const struct freq_table *t, uint64_t h)
{
	return (struct freq_shard *)(uintptr_t)&t->sh[h >>
	    (64 - FREQ_SHARD_BITS)];
}

static struct freq_slot *
slot_find_key(const struct freq_table *t, uint64_t key, uint16_t cat)
{
	uint64_t		 h = slot_hash(key, cat);
	const struct freq_shard	*d = shard_of(t, h);
	size_t			 i = (size_t)h & d->mask;
	struct freq_slot	*s;

	for (;; i = (i + 1) & d->mask) {
		s = &d->slots[i];
		if (s->key == 0)
			return NULL;
		if (s->key == key && s->cat == cat)
			return s;
	}
}

static struct freq_slot *
slot_find(const struct freq_table *t, const char *number,
    const char *category)
{
	uint16_t	 cat;

	/* Read-only use of name_id: never adds. */
	if (name_id((struct freq_table *)(uintptr_t)t, category, false,
	    &cat) == -1)
		return NULL;
	return slot_find_key(t, number_key(number), cat);
}

/* Double the slots of shard d. Returns 0 or -1. */
static int
shard_grow(struct freq_shard *d)
{
	struct freq_slot	*old = d->slots, *ns;
	size_t			 oldn = d->mask + 1, i, j, nmask;

	nmask = oldn * 2 - 1;
	if ((ns = calloc(nmask + 1, sizeof(*ns))) == NULL)
		return -1;
	for (i = 0; i < oldn; i++) {
		if (old[i].key == 0)
			continue;
		for (j = (size_t)slot_hash(old[i].key, old[i].cat) & nmask;
		    ns[j].key != 0; j = (j + 1) & nmask)
			;
		ns[j] = old[i];
	}
	free(old);
	d->slots = ns;
	d->mask = nmask;
	return 0;
}

static struct freq_slot *
slot_get(struct freq_table *t, const char *number, const char *category)
{
	struct freq_shard	*d;
	struct freq_slot	*s;
	uint64_t		 h, key;
	uint16_t		 cat;
	size_t			 i;

	if (name_id(t, category, true, &cat) == -1)
		return NULL;
	key = number_key(number);
	h = slot_hash(key, cat);
	d = shard_of(t, h);
	/*
	 * At most half full: a miss (most sends go to a number not yet
	 * seen) probes about two slots, not the eight of a 3/4 load.
	 */
	if ((d->used + 1) * 2 > d->mask + 1 && shard_grow(d) == -1)
		return NULL;
	for (i = (size_t)h & d->mask; d->slots[i].key != 0;
	    i = (i + 1) & d->mask) {
		s = &d->slots[i];
		if (s->key == key && s->cat == cat)
			return s;
	}
	s = &d->slots[i];
	memset(s, 0, sizeof(*s));
	s->key = key;
	s->cat = cat;
	d->used++;
	t->used++;
	return s;
}

/* Remove slot i of shard d, shifting back the entries of its probe run. */
static void
slot_del(struct freq_table *t, struct freq_shard *d, size_t i)
{
	size_t	 j, home;

	free(d->slots[i].heap);
	d->slots[i].heap = NULL;
	d->slots[i].key = 0;
	d->used--;
	t->used--;
	for (j = (i + 1) & d->mask; d->slots[j].key != 0;
	    j = (j + 1) & d->mask) {
		home = (size_t)slot_hash(d->slots[j].key, d->slots[j].cat) &
		    d->mask;
		/* Move j back to i unless its home lies in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		d->slots[i] = d->slots[j];
		d->slots[j].key = 0;
		d->slots[j].heap = NULL;
		i = j;
	}
}

/* Keep at most cap times in s (the newest). */
static void
slot_cap(struct freq_slot *s, uint16_t cap)
{
	uint32_t	*tm = SLOT_TIMES(s);

	if (s->n > cap) {
		memmove(tm, tm + (s->n - cap), cap * sizeof(*tm));
		s->n = cap;
	}
	s->cap = cap;
}

/*
 * Room for one more time below the cap: the array grows as sends come
 * (most numbers get one or two), never past cap. Returns 0 or -1.
 */
static int
slot_room(struct freq_slot *s)
{
	uint16_t	 na;
	uint32_t	*nt;

	if (s->alloc < FREQ_INLINE && s->heap == NULL)
		s->alloc = FREQ_INLINE;
	if (s->n < s->alloc || s->n >= s->cap)
		return 0;
	na = (uint16_t)(s->alloc * 2);
	if (na > s->cap)
		na = s->cap;
	if ((nt = realloc(s->heap, na * sizeof(*nt))) == NULL)
		return -1;
	if (s->heap == NULL)
		memcpy(nt, s->inl, s->n * sizeof(*nt));
	s->heap = nt;
	s->alloc = na;
	return 0;
}

/* Add time at its place (oldest first), dropping the oldest if full. */
static int
slot_push(struct freq_slot *s, int64_t t64)
{
	uint32_t	*tm, time = to32(t64);
	uint16_t	 i;

	if (slot_room(s) == -1)
		return -1;
	tm = SLOT_TIMES(s);
	if (s->n == s->cap) {
		if (s->cap == 0 || time < tm[0])
			return 0;
		memmove(tm, tm + 1, (s->n - 1) * sizeof(*tm));
		s->n--;
	}
	i = s->n;
	while (i > 0 && tm[i - 1] > time) {
		tm[i] = tm[i - 1];
		i--;
	}
	tm[i] = time;
	s->n++;
	return 0;
}

int
freq_take(struct freq_table *t, const char *number, const char *category,
    const struct config_frequency *f, int64_t now, int64_t *retry_at)
{
	struct freq_slot	*s;
	unsigned		 max;
	int64_t			 per;
	size_t			 k;

	if ((s = slot_get(t, number, category)) == NULL)
		return -1;
	slot_cap(s, (uint16_t)(f->max < UINT16_MAX ? f->max : UINT16_MAX));
	freq_rule(f, s->is_less, &max, &per);
	k = count32(SLOT_TIMES(s), s->n, now, per);
	if (k >= max) {
		if (retry_at != NULL)
			*retry_at = from32(SLOT_TIMES(s)[s->n - max]) + per;
		return 0;
	}
	if (slot_push(s, now) == -1)
		return -1;
	return 1;
}

void
freq_untake(struct freq_table *t, const char *number, const char *category,
    int64_t time)
{
	struct freq_slot	*s;
	uint32_t		*tm;
	uint16_t		 i;

	if ((s = slot_find(t, number, category)) == NULL)
		return;
	tm = SLOT_TIMES(s);
	for (i = s->n; i > 0; i--)
		if (tm[i - 1] == to32(time)) {
			memmove(tm + i - 1, tm + i, (s->n - i) * sizeof(*tm));
			s->n--;
			return;
		}
}

unsigned
freq_left(const struct freq_table *t, const char *number,
    const char *category, const struct config_frequency *f, int64_t now,
    bool *is_less)
{
	const struct freq_slot	*s = slot_find(t, number, category);
	unsigned		 max;
	int64_t			 per;
	size_t			 k;

	*is_less = s != NULL && s->is_less;
	freq_rule(f, *is_less, &max, &per);
	k = s != NULL ? count32(SLOT_TIMES(s), s->n, now, per) : 0;
	return k >= max ? 0 : max - (unsigned)k;
}

int
freq_load(struct freq_table *t, const char *number, const char *category,
    const struct config_frequency *f, const int64_t *times, size_t n)
{
	struct freq_slot	*s;
	size_t			 i;

	if ((s = slot_get(t, number, category)) == NULL)
		return -1;
	slot_cap(s, (uint16_t)(f->max < UINT16_MAX ? f->max : UINT16_MAX));
	for (i = 0; i < n; i++)
		if (slot_push(s, times[i]) == -1)
			return -1;
	return 0;
}

int
freq_set_less(struct freq_table *t, const char *number,
    const char *category, bool is_less)
{
	struct freq_slot	*s;

	if (!is_less) {
		if ((s = slot_find(t, number, category)) != NULL)
			s->is_less = false;
		return 0;
	}
	if ((s = slot_get(t, number, category)) == NULL)
		return -1;
	s->is_less = true;
	return 0;
}

void
freq_prefetch(const struct freq_table *t, const char *number,
    const char *category)
{
	const struct freq_shard	*d;
	uint64_t		 h;
	uint16_t		 cat;

	if (name_id((struct freq_table *)(uintptr_t)t, category, false,
	    &cat) == -1)
		return;
	h = slot_hash(number_key(number), cat);
	d = shard_of(t, h);
	__builtin_prefetch(&d->slots[(size_t)h & d->mask]);
}

bool
freq_is_less(const struct freq_table *t, const char *number,
    const char *category)
{
	const struct freq_slot	*s = slot_find(t, number, category);

	return s != NULL && s->is_less;
}

size_t
freq_sweep(struct freq_table *t, int64_t horizon, size_t max)
{
	struct freq_shard	*d;
	struct freq_slot	*s;
	size_t			 visited, dropped = 0, i;

	for (visited = 0; visited < max; visited++) {
		d = &t->sh[t->sweep_shard];
		if (t->sweep_pos > d->mask) {
			/* This shard is done: the next one, from its start. */
			t->sweep_pos = 0;
			t->sweep_shard = (t->sweep_shard + 1) % FREQ_SHARDS;
			if (t->sweep_shard == 0)
				break;	/* the whole table, once a call */
			continue;
		}
		i = t->sweep_pos;
		s = &d->slots[i];
		if (s->key != 0 && !s->is_less &&
		    (s->n == 0 || from32(SLOT_TIMES(s)[s->n - 1]) < horizon)) {
			/* A later entry may shift into i: look again. */
			slot_del(t, d, i);
			dropped++;
			continue;
		}
		t->sweep_pos++;
	}
	return dropped;
}
