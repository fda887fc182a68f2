/*
 * Frequency caps counted in memory: an open-addressing hash table
 * (linear probing, backward-shift deletion) of (number, category) ->
 * send times, oldest first, at most the cap's max of them. See freq.h.
 */
#include "proxy/policy/freq.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define FREQ_SLOTS_MIN	1024	/* power of two */
#define FREQ_NUMBER_MAX	CONFIG_NUMBER_MAX
#define FREQ_NAME_MAX	CONFIG_NAME_MAX
#define FREQ_INLINE	2	/* send times held in the slot itself */

struct freq_slot {
	uint64_t	 hash;		/* 0: empty */
	char		 number[FREQ_NUMBER_MAX];
	char		 category[FREQ_NAME_MAX];
	bool		 is_less;
	uint32_t	 n;		/* times kept */
	uint32_t	 cap;		/* times kept at most: the cap's max */
	uint32_t	 alloc;		/* times allocated (grows to cap) */
	/* Oldest first: in inl while they fit (most numbers get a send or
	 * two: no allocation), else in heap (owned). SLOT_TIMES() reads
	 * whichever; never a pointer to inl (slots move on growth). */
	int64_t		*heap;
	int64_t		 inl[FREQ_INLINE];
};

#define SLOT_TIMES(s)	((s)->heap != NULL ? (s)->heap : (s)->inl)

struct freq_table {
	struct freq_slot *slots;	/* owned; mask + 1 of them */
	size_t		 mask;
	size_t		 used;
	size_t		 sweep_pos;
};

static uint64_t
freq_hash(const char *number, const char *category)
{
	uint64_t	 h = 0xcbf29ce484222325ull;
	const char	*p;

	for (p = number; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	h = (h ^ 0xff) * 0x100000001b3ull;
	for (p = category; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return h != 0 ? h : 1;
}

struct freq_table *
freq_new(void)
{
	struct freq_table	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->slots = calloc(FREQ_SLOTS_MIN, sizeof(*t->slots))) == NULL) {
		free(t);
		return NULL;
	}
	t->mask = FREQ_SLOTS_MIN - 1;
	return t;
}

void
freq_free(struct freq_table *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i <= t->mask; i++)
		free(t->slots[i].heap);
	free(t->slots);
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

static struct freq_slot *
slot_find(const struct freq_table *t, const char *number,
    const char *category)
{
	uint64_t		 h = freq_hash(number, category);
	size_t			 i = (size_t)h & t->mask;
	struct freq_slot	*s;

	for (;; i = (i + 1) & t->mask) {
		s = &t->slots[i];
		if (s->hash == 0)
			return NULL;
		if (s->hash == h && strcmp(s->number, number) == 0 &&
		    strcmp(s->category, category) == 0)
			return s;
	}
}

/* Double the slots. Returns 0 or -1. */
static int
table_grow(struct freq_table *t)
{
	struct freq_slot	*old = t->slots, *ns;
	size_t			 oldn = t->mask + 1, i, j, nmask;

	nmask = oldn * 2 - 1;
	if ((ns = calloc(nmask + 1, sizeof(*ns))) == NULL)
		return -1;
	for (i = 0; i < oldn; i++) {
		if (old[i].hash == 0)
			continue;
		for (j = (size_t)old[i].hash & nmask; ns[j].hash != 0;
		    j = (j + 1) & nmask)
			;
		ns[j] = old[i];
	}
	free(old);
	t->slots = ns;
	t->mask = nmask;
	return 0;
}

static struct freq_slot *
slot_get(struct freq_table *t, const char *number, const char *category)
{
	struct freq_slot	*s;
	uint64_t		 h;
	size_t			 i;

	if ((s = slot_find(t, number, category)) != NULL)
		return s;
	if (strlen(number) >= FREQ_NUMBER_MAX ||
	    strlen(category) >= FREQ_NAME_MAX)
		return NULL;
	/* At most 3/4 full, so probes stay short. */
	if ((t->used + 1) * 4 > (t->mask + 1) * 3 && table_grow(t) == -1)
		return NULL;
	h = freq_hash(number, category);
	for (i = (size_t)h & t->mask; t->slots[i].hash != 0;
	    i = (i + 1) & t->mask)
		;
	s = &t->slots[i];
	memset(s, 0, sizeof(*s));
	s->hash = h;
	memcpy(s->number, number, strlen(number) + 1);
	memcpy(s->category, category, strlen(category) + 1);
	t->used++;
	return s;
}

/* Remove slot i, shifting back the entries of its probe run. */
static void
slot_del(struct freq_table *t, size_t i)
{
	size_t	 j, home;

	free(t->slots[i].heap);
	t->slots[i].heap = NULL;
	t->slots[i].hash = 0;
	t->used--;
	for (j = (i + 1) & t->mask; t->slots[j].hash != 0;
	    j = (j + 1) & t->mask) {
		home = (size_t)t->slots[j].hash & t->mask;
		/* Move j back to i unless its home lies in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j].hash = 0;
		t->slots[j].heap = NULL;
		i = j;
	}
}

/* Keep at most cap times in s (the newest). */
static void
slot_cap(struct freq_slot *s, uint32_t cap)
{
	int64_t	*tm = SLOT_TIMES(s);

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
	uint32_t	 na;
	int64_t		*nt;

	if (s->alloc < FREQ_INLINE && s->heap == NULL)
		s->alloc = FREQ_INLINE;
	if (s->n < s->alloc || s->n >= s->cap)
		return 0;
	na = s->alloc * 2;
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
slot_push(struct freq_slot *s, int64_t time)
{
	int64_t		*tm;
	uint32_t	 i;

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
	slot_cap(s, f->max);
	freq_rule(f, s->is_less, &max, &per);
	k = freq_count_in(SLOT_TIMES(s), s->n, now, per);
	if (k >= max) {
		if (retry_at != NULL)
			*retry_at = SLOT_TIMES(s)[s->n - max] + per;
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
	int64_t			*tm;
	uint32_t		 i;

	if ((s = slot_find(t, number, category)) == NULL)
		return;
	tm = SLOT_TIMES(s);
	for (i = s->n; i > 0; i--)
		if (tm[i - 1] == time) {
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
	k = s != NULL ? freq_count_in(SLOT_TIMES(s), s->n, now, per) : 0;
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
	slot_cap(s, f->max);
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
	struct freq_slot	*s;
	size_t			 visited, dropped = 0, i;

	for (visited = 0; visited < max && visited <= t->mask; visited++) {
		i = t->sweep_pos;
		s = &t->slots[i];
		if (s->hash != 0 && !s->is_less &&
		    (s->n == 0 || SLOT_TIMES(s)[s->n - 1] < horizon)) {
			/* A later entry may shift into i: look again. */
			slot_del(t, i);
			dropped++;
			continue;
		}
		t->sweep_pos = (i + 1) & t->mask;
	}
	return dropped;
}
