/*
 * The admin token throttle (see admin_throttle.h): a small table of
 * addresses, the least recently failed one reused when it is full (never
 * one with requests held).
 */
#include "proxy/admin/admin_throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct throttle_slot {
	char		 addr[ADMIN_THROTTLE_ADDR_MAX];	/* "" = free */
	unsigned	 failures;	/* this episode */
	uint64_t	 last_ms;	/* the last failure */
	uint64_t	 next_ms;	/* no check before */
	unsigned	 held;		/* requests held now */
	uint64_t	 rep_failures;	/* since the last report */
	uint64_t	 rep_refused;
};

struct admin_throttle {
	struct throttle_slot	 slot[ADMIN_THROTTLE_SLOTS];
};

struct admin_throttle *
admin_throttle_new(void)
{
	return calloc(1, sizeof(struct admin_throttle));
}

void
admin_throttle_free(struct admin_throttle *t)
{
	free(t);
}

static struct throttle_slot *
slot_find(struct admin_throttle *t, const char *addr)
{
	size_t	 i;

	for (i = 0; i < ADMIN_THROTTLE_SLOTS; i++)
		if (t->slot[i].addr[0] != '\0' &&
		    strncmp(t->slot[i].addr, addr, ADMIN_THROTTLE_ADDR_MAX - 1)
		    == 0)
			return &t->slot[i];
	return NULL;
}

/* addr's slot, taking a free or the stalest idle one; NULL if none. */
static struct throttle_slot *
slot_take(struct admin_throttle *t, const char *addr)
{
	struct throttle_slot	*s, *best = NULL;
	size_t			 i;

	if ((s = slot_find(t, addr)) != NULL)
		return s;
	for (i = 0; i < ADMIN_THROTTLE_SLOTS; i++) {
		s = &t->slot[i];
		if (s->addr[0] == '\0') {
			best = s;
			break;
		}
		/* Unreported counts are lost with a slot: fine, the
		 * summary is a log line, not an account. */
		if (s->held == 0 && (best == NULL ||
		    s->last_ms < best->last_ms))
			best = s;
	}
	if (best == NULL)
		return NULL;
	memset(best, 0, sizeof(*best));
	snprintf(best->addr, sizeof(best->addr), "%s", addr);
	return best;
}

uint64_t
admin_throttle_wait_ms(struct admin_throttle *t, const char *addr,
    uint64_t now_ms)
{
	struct throttle_slot	*s = slot_find(t, addr);

	if (s == NULL || now_ms >= s->next_ms)
		return 0;
	return s->next_ms - now_ms;
}

uint64_t
admin_throttle_fail(struct admin_throttle *t, const char *addr,
    uint64_t now_ms, bool *is_first)
{
	struct throttle_slot	*s;
	uint64_t		 delay = 0;

	*is_first = false;
	if ((s = slot_take(t, addr)) == NULL) {
		/* Every slot holds requests: as slow as it gets. */
		return ADMIN_THROTTLE_MAX_MS;
	}
	if (s->failures > 0 && now_ms - s->last_ms > ADMIN_THROTTLE_FORGET_MS)
		s->failures = 0;
	*is_first = s->failures == 0;
	s->failures++;
	s->last_ms = now_ms;
	s->rep_failures++;
	if (s->failures > ADMIN_THROTTLE_FREE) {
		delay = (uint64_t)(s->failures - ADMIN_THROTTLE_FREE) *
		    ADMIN_THROTTLE_STEP_MS;
		if (delay > ADMIN_THROTTLE_MAX_MS)
			delay = ADMIN_THROTTLE_MAX_MS;
	}
	if (now_ms + delay > s->next_ms)
		s->next_ms = now_ms + delay;
	return delay;
}

bool
admin_throttle_hold(struct admin_throttle *t, const char *addr,
    uint64_t now_ms, bool is_forced)
{
	struct throttle_slot	*s;

	(void)now_ms;
	if ((s = slot_take(t, addr)) == NULL)
		return false;
	if (!is_forced && s->held >= ADMIN_THROTTLE_HELD_MAX) {
		s->rep_refused++;
		return false;
	}
	s->held++;
	return true;
}

void
admin_throttle_release(struct admin_throttle *t, const char *addr)
{
	struct throttle_slot	*s = slot_find(t, addr);

	if (s != NULL && s->held > 0)
		s->held--;
}

unsigned
admin_throttle_report(struct admin_throttle *t, admin_throttle_report_fn fn,
    void *arg)
{
	struct throttle_slot	*s;
	unsigned		 n = 0;
	size_t			 i;

	for (i = 0; i < ADMIN_THROTTLE_SLOTS; i++) {
		s = &t->slot[i];
		if (s->addr[0] == '\0' ||
		    (s->rep_failures == 0 && s->rep_refused == 0))
			continue;
		fn(s->addr, s->rep_failures, s->rep_refused, arg);
		s->rep_failures = s->rep_refused = 0;
		n++;
	}
	return n;
}
