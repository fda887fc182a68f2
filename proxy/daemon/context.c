/*
 * The shared context's services: batched store writes, the attribution
 * index, the bind throttle, pools by index, and the hooks to
 * the parts above.
 */
#include "proxy/daemon/context.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "proxy/daemon/attrib.h"
#include "proxy/daemon/upstream.h"
#include "proxy/daemon/writer.h"
#include "proxy/io/log.h"
#include "store/sentlog.h"

/* The first wait, doubled for each failure after it, and its cap. */
#define THROTTLE_STEP_MS	500
#define THROTTLE_MAX_MS		5000
/* A key quiet this long starts over. */
#define THROTTLE_FORGET_MS	60000

uint64_t
daemon_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- batched store writes ------------------------------------------------ */

void
daemon_flush(struct daemon *d)
{
	if (d->writer != NULL)
		writer_sync(d->writer);
}

int
daemon_audit_add(struct daemon *d, const struct store_audit *rec)
{
	return writer_audit(d->writer, rec);
}

bool
daemon_audit_room(const struct daemon *d, size_t n)
{
	return d->writer == NULL || writer_room(d->writer, n);
}

void
daemon_msgmap_add(struct daemon *d, const struct store_msgmap *rec)
{
	writer_msgmap(d->writer, rec);
	/* A receipt that came before this response may be waiting. */
	if (d->hooks.msgmap_added != NULL && d->nheld > 0)
		d->hooks.msgmap_added(d, rec);
}

/*
 * Attribution goes to the sent log, an append (cheap whatever the number),
 * with the number indexed here; the writer merges the log into the
 * per-number table when it is idle. A number that is not all digits is
 * written straight to the table instead.
 *
 * An index still full after dropping what is merged drops its oldest
 * segment: those records stay in the log and reach the table when it is
 * merged, but until then a STOP from one of their numbers is attributed
 * from the table (the message before). The alternative, writing through
 * to the table, costs a random page write per message and would slow
 * every sender to the disk's write rate.
 */
void
daemon_lastsent_add(struct daemon *d, const struct store_lastsent_entry *rec)
{
	uint64_t	key, seq;
	size_t		dropped;

	if (!store_numkey(rec->number, &key)) {
		writer_lastsent(d->writer, rec);
		return;
	}
	/*
	 * The sweep looks at the oldest segment only unless it can free it,
	 * so it is done every time. Room is made before the record is
	 * logged: once logged, it must not go to the table a second way.
	 */
	attrib_sweep(d->attrib, writer_merged(d->writer));
	if (attrib_reserve(d->attrib) == -1 && errno == ENOSPC) {
		dropped = attrib_drop_oldest(d->attrib);
		if (d->counters.attrib_dropped == 0)
			log_warnx("event=attrib_index_full entries=%zu "
			    "dropped=%zu merged=%llu (sends outrun the "
			    "sent-log merge; attribution of the oldest "
			    "unmerged sends waits for it)",
			    attrib_count(d->attrib), dropped,
			    (unsigned long long)writer_merged(d->writer));
		d->counters.attrib_dropped += dropped;
		(void)attrib_reserve(d->attrib);
	}
	seq = writer_sentlog(d->writer, rec);
	if (attrib_put(d->attrib, key, seq) == -1) {
		/* Logged; the table still gets it when the log is merged. */
		d->counters.attrib_unindexed++;
	}
}

void
daemon_lastsent_prefetch(struct daemon *d, const char *number)
{
	uint64_t	key;

	if (d->attrib != NULL && store_numkey(number, &key))
		attrib_prefetch(d->attrib, key);
}

bool
daemon_lastsent_pending(const struct daemon *d, const char *number,
    struct store_lastsent *out)
{
	struct store_lastsent_entry	e;
	uint64_t			key, seq;

	if (d->attrib == NULL || d->writer == NULL)
		return false;	/* no writer: every send is in the table */
	if (!store_numkey(number, &key) ||
	    !attrib_get(d->attrib, key, &seq) ||
	    seq <= writer_merged(d->writer))
		return false;	/* the table has it, or never had one */
	if (!writer_sentlog_find(d->writer, seq, &e) &&
	    store_sentlog_get(d->store, seq, &e) != 1)
		return false;	/* merged meanwhile: the table has it */
	*out = e.last;
	return true;
}

/* --- bind throttle ------------------------------------------------------- */

static struct bind_throttle *
throttle_find(struct daemon *d, const char *key)
{
	size_t	i;

	for (i = 0; i < DAEMON_THROTTLE_SLOTS; i++)
		if (d->throttle[i].key[0] != '\0' &&
		    strncmp(d->throttle[i].key, key,
		    DAEMON_THROTTLE_KEY_LEN - 1) == 0)
			return &d->throttle[i];
	return NULL;
}

/* The end of an episode of failures: one line for what was not logged. */
static void
throttle_end(struct bind_throttle *t, const char *why)
{
	if (t->failures > t->nfree)
		log_warnx("event=bind_throttle_end %s failures=%u "
		    "unlogged=%llu reason=%s", t->key, t->failures,
		    (unsigned long long)t->unlogged, why);
	memset(t, 0, sizeof(*t));
}

uint64_t
daemon_bind_wait(struct daemon *d, const char *key, uint64_t now)
{
	struct bind_throttle	*t;

	if ((t = throttle_find(d, key)) == NULL)
		return 0;
	if (now - t->last_ms > THROTTLE_FORGET_MS) {
		throttle_end(t, "quiet");
		return 0;
	}
	return t->next_ms > now ? t->next_ms - now : 0;
}

bool
daemon_bind_failed(struct daemon *d, const char *key, unsigned nfree,
    uint64_t now)
{
	struct bind_throttle	*t, *old = NULL;
	uint64_t		 delay;
	size_t			 i;

	if ((t = throttle_find(d, key)) != NULL &&
	    now - t->last_ms > THROTTLE_FORGET_MS)
		throttle_end(t, "quiet");
	if (t == NULL || t->key[0] == '\0') {
		/* A free slot, else the one quiet longest. */
		for (i = 0; i < DAEMON_THROTTLE_SLOTS && t == NULL; i++)
			if (d->throttle[i].key[0] == '\0')
				t = &d->throttle[i];
		for (i = 0; i < DAEMON_THROTTLE_SLOTS && t == NULL; i++)
			if (old == NULL ||
			    d->throttle[i].last_ms < old->last_ms)
				old = &d->throttle[i];
		if (t == NULL) {
			throttle_end(old, "evicted");
			t = old;
		}
		memset(t, 0, sizeof(*t));
		snprintf(t->key, sizeof(t->key), "%s", key);
	}
	t->nfree = nfree;
	t->failures++;
	t->last_ms = now;
	if (t->failures <= nfree) {
		t->next_ms = now;
		return true;
	}
	delay = THROTTLE_MAX_MS;
	if (t->failures - nfree <= 4)
		delay = (uint64_t)THROTTLE_STEP_MS <<
		    (t->failures - nfree - 1);
	if (delay > THROTTLE_MAX_MS)
		delay = THROTTLE_MAX_MS;
	t->next_ms = now + delay;
	if (t->failures == nfree + 1) {
		log_warnx("event=bind_throttled %s failures=%u next_ms=%llu",
		    t->key, t->failures, (unsigned long long)delay);
		return false;
	}
	t->unlogged++;
	return false;
}

void
daemon_bind_succeeded(struct daemon *d, const char *key)
{
	struct bind_throttle	*t;

	if ((t = throttle_find(d, key)) != NULL)
		throttle_end(t, "bound");
}

/* --- pools and hooks ----------------------------------------------------- */

struct upstream_pool *
daemon_pool(struct daemon *d, size_t i)
{
	if (i >= d->npools)
		return NULL;
	return d->pools[i];
}

struct upstream_pool *
daemon_pool_by_name(struct daemon *d, const char *name, size_t *idx)
{
	size_t	i;

	for (i = 0; i < d->npools; i++)
		if (d->pools[i] != NULL &&
		    strcmp(upstream_pool_name(d->pools[i]), name) == 0) {
			if (idx != NULL)
				*idx = i;
			return d->pools[i];
		}
	return NULL;
}

void
daemon_session_gone(struct daemon *d)
{
	if (d->hooks.session_gone != NULL)
		d->hooks.session_gone(d);
}

void
daemon_receiver_bound(struct daemon *d, const char *account)
{
	if (d->hooks.receiver_bound != NULL)
		d->hooks.receiver_bound(d, account);
}

void
daemon_outbox_done(struct daemon *d, const char *account, uint64_t id,
    uint32_t status)
{
	if (d->hooks.outbox_done != NULL)
		d->hooks.outbox_done(d, account, id, status);
}
