/*
 * The shared context's services: batched store writes, the attribution
 * index, the bind failure slow-down, pools by index, and the hooks to
 * the parts above.
 */
#include "proxy/daemon/context.h"

#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "proxy/daemon/attrib.h"
#include "proxy/daemon/upstream.h"
#include "proxy/daemon/writer.h"
#include "proxy/io/log.h"
#include "store/sentlog.h"

/* Bind failures from one address before answers are slowed down. */
#define AUTHFAIL_FREE		3
/* Delay added per failure beyond those, and its cap. */
#define AUTHFAIL_STEP_MS	500
#define AUTHFAIL_MAX_MS		5000
/* A quiet address is forgiven after this long. */
#define AUTHFAIL_FORGET_MS	60000

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

/* --- bind failure slow-down ---------------------------------------------- */

static void
addr_key(const struct sockaddr *sa, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;

		memcpy(in, sa, sizeof(*in));
		in->sin_port = 0;
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;

		memcpy(in6, sa, sizeof(*in6));
		in6->sin6_port = 0;
		in6->sin6_flowinfo = 0;
	}
}

unsigned
daemon_authfail_note(struct daemon *d, const struct sockaddr *addr)
{
	struct sockaddr_storage	 key;
	struct authfail_slot	*slot = NULL, *oldest = NULL;
	uint64_t		 now = daemon_now_ms();
	unsigned		 over, delay;
	size_t			 i;

	addr_key(addr, &key);
	for (i = 0; i < DAEMON_AUTHFAIL_SLOTS; i++) {
		struct authfail_slot *a = &d->authfail[i];

		if (a->count > 0 && memcmp(&a->addr, &key, sizeof(key)) == 0) {
			slot = a;
			break;
		}
		if (oldest == NULL || a->last_ms < oldest->last_ms)
			oldest = a;
	}
	if (slot == NULL) {
		slot = oldest;
		memset(slot, 0, sizeof(*slot));
		slot->addr = key;
	} else if (now - slot->last_ms > AUTHFAIL_FORGET_MS)
		slot->count = 0;
	slot->count++;
	slot->last_ms = now;
	if (slot->count <= AUTHFAIL_FREE)
		return 0;
	over = slot->count - AUTHFAIL_FREE;
	delay = over > AUTHFAIL_MAX_MS / AUTHFAIL_STEP_MS ? AUTHFAIL_MAX_MS :
	    over * AUTHFAIL_STEP_MS;
	return delay;
}

void
daemon_authfail_clear(struct daemon *d, const struct sockaddr *addr)
{
	struct sockaddr_storage	key;
	size_t			i;

	addr_key(addr, &key);
	for (i = 0; i < DAEMON_AUTHFAIL_SLOTS; i++)
		if (d->authfail[i].count > 0 &&
		    memcmp(&d->authfail[i].addr, &key, sizeof(key)) == 0)
			d->authfail[i].count = 0;
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
