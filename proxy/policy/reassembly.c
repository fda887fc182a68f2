/*
 * Reassembly of concatenated MOs: a fixed table of slots, searched
 * linearly (1024 slots of short keys: cheaper than the fsync that follows
 * a decision, and no hash to attack).
 */
#include "proxy/policy/reassembly.h"

#include <stdlib.h>
#include <string.h>

struct reasm_slot {
	bool		 in_use;
	bool		 is_complete;	/* kept for redeliveries */
	struct reasm_key key;
	int64_t		 created_ms;	/* first part seen */
	int64_t		 deadline_ms;	/* dropped after this */
	uint16_t	 have;		/* bit seq-1 set per part held */
	char		*part[REASM_PARTS_MAX];	/* owned, NUL-terminated */
	size_t		 partlen[REASM_PARTS_MAX];
	char		*joined;	/* owned once complete */
	size_t		 joinedlen;
};

struct reasm {
	struct reasm_slot *slots;	/* owned, nslots */
	size_t		 nslots;
	unsigned	 timeout_ms;
	struct reasm_stats stats;
};

const char *
reasm_result_name(enum reasm_result res)
{
	switch (res) {
	case REASM_PENDING:
		return "pending";
	case REASM_COMPLETE:
		return "complete";
	case REASM_DUPLICATE:
		return "duplicate";
	case REASM_TOO_MANY:
		return "too_many_parts";
	case REASM_INVALID:
		return "invalid";
	case REASM_NOMEM:
		return "nomem";
	}
	return "?";
}

struct reasm *
reasm_new(size_t nslots, unsigned timeout_ms)
{
	struct reasm	*r;

	if (nslots == 0)
		nslots = REASM_SLOTS_DEFAULT;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->slots = calloc(nslots, sizeof(*r->slots))) == NULL) {
		free(r);
		return NULL;
	}
	r->nslots = nslots;
	r->timeout_ms = timeout_ms;
	return r;
}

static void
slot_clear(struct reasm *r, struct reasm_slot *s)
{
	size_t	 i;

	for (i = 0; i < REASM_PARTS_MAX; i++) {
		free(s->part[i]);
		s->part[i] = NULL;
		s->partlen[i] = 0;
	}
	free(s->joined);
	s->joined = NULL;
	s->joinedlen = 0;
	s->have = 0;
	if (s->in_use && r->stats.active > 0)
		r->stats.active--;
	s->in_use = false;
	s->is_complete = false;
}

void
reasm_free(struct reasm *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nslots; i++)
		slot_clear(r, &r->slots[i]);
	free(r->slots);
	free(r);
}

void
reasm_set_timeout(struct reasm *r, unsigned timeout_ms)
{
	r->timeout_ms = timeout_ms;
}

size_t
reasm_expire(struct reasm *r, int64_t now_ms)
{
	struct reasm_slot	*s;
	size_t			 i, n = 0;

	for (i = 0; i < r->nslots; i++) {
		s = &r->slots[i];
		if (!s->in_use || now_ms <= s->deadline_ms)
			continue;
		if (!s->is_complete)
			r->stats.expired++;
		slot_clear(r, s);
		n++;
	}
	return n;
}

void
reasm_stats_get(const struct reasm *r, struct reasm_stats *st)
{
	*st = r->stats;
}

static bool
key_equal(const struct reasm_key *a, const struct reasm_key *b)
{
	return a->ref == b->ref && a->total == b->total &&
	    strcmp(a->subscriber, b->subscriber) == 0 &&
	    strcmp(a->inbound, b->inbound) == 0;
}

/* Longest prefix of s (len bytes) of at most max bytes that does not end
 * inside a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	return len;
}

/* A free slot, or the oldest one evicted to make room. */
static struct reasm_slot *
slot_take(struct reasm *r)
{
	struct reasm_slot	*s, *oldest;
	size_t			 i;

	for (i = 0; i < r->nslots; i++)
		if (!r->slots[i].in_use)
			return &r->slots[i];
	oldest = &r->slots[0];
	for (i = 1; i < r->nslots; i++) {
		s = &r->slots[i];
		/* Prefer evicting a completed message: it is only kept
		 * for redeliveries. */
		if ((s->is_complete && !oldest->is_complete) ||
		    (s->is_complete == oldest->is_complete &&
		    s->created_ms < oldest->created_ms))
			oldest = s;
	}
	if (!oldest->is_complete)
		r->stats.evicted++;
	slot_clear(r, oldest);
	return oldest;
}

static enum reasm_result
slot_join(struct reasm *r, struct reasm_slot *s, int64_t now_ms)
{
	size_t	 i, n = 0, off = 0;

	for (i = 0; i < s->key.total; i++)
		n += s->partlen[i];
	if ((s->joined = malloc(n + 1)) == NULL)
		return REASM_NOMEM;
	for (i = 0; i < s->key.total; i++) {
		memcpy(s->joined + off, s->part[i], s->partlen[i]);
		off += s->partlen[i];
		free(s->part[i]);
		s->part[i] = NULL;
	}
	s->joined[off] = '\0';
	s->joinedlen = off;
	s->is_complete = true;
	s->deadline_ms = now_ms + (int64_t)r->timeout_ms;
	r->stats.completed++;
	return REASM_COMPLETE;
}

enum reasm_result
reasm_add(struct reasm *r, const struct reasm_key *key, uint8_t seq,
    const char *text, size_t len, int64_t now_ms, const char **text_out,
    size_t *len_out)
{
	struct reasm_slot	*s = NULL;
	enum reasm_result	 res;
	uint16_t		 bit, full;
	size_t			 i, n;

	*text_out = NULL;
	*len_out = 0;
	if (key->total < 2 || seq == 0 || seq > key->total)
		return REASM_INVALID;
	if (key->total > REASM_PARTS_MAX)
		return REASM_TOO_MANY;
	reasm_expire(r, now_ms);

	for (i = 0; i < r->nslots; i++)
		if (r->slots[i].in_use && key_equal(&r->slots[i].key, key)) {
			s = &r->slots[i];
			break;
		}
	if (s != NULL && s->is_complete) {
		*text_out = s->joined;
		*len_out = s->joinedlen;
		return REASM_COMPLETE;
	}
	bit = (uint16_t)(1u << (seq - 1));
	if (s != NULL && (s->have & bit) != 0) {
		r->stats.duplicates++;
		return REASM_DUPLICATE;
	}
	if (s == NULL) {
		s = slot_take(r);
		s->in_use = true;
		s->key = *key;
		s->created_ms = now_ms;
		s->deadline_ms = now_ms + (int64_t)r->timeout_ms;
		r->stats.active++;
	}
	n = utf8_cut(text, len, REASM_PART_TEXT_MAX);
	if ((s->part[seq - 1] = malloc(n + 1)) == NULL) {
		if (s->have == 0)
			slot_clear(r, s);
		return REASM_NOMEM;
	}
	memcpy(s->part[seq - 1], text, n);
	s->part[seq - 1][n] = '\0';
	s->partlen[seq - 1] = n;
	s->have |= bit;

	full = (uint16_t)((1u << key->total) - 1);
	if (s->have != full)
		return REASM_PENDING;
	if ((res = slot_join(r, s, now_ms)) != REASM_COMPLETE) {
		slot_clear(r, s);
		return res;
	}
	*text_out = s->joined;
	*len_out = s->joinedlen;
	return REASM_COMPLETE;
}
