/*
 * store/daily: per-day counters (STORE_DB_DAILY).
 *
 * Key: the day (4 bytes big-endian, biased by 1 << 31 so that days
 * before 1970 sort first), the kind (1 byte), then a \0 b. Value: the
 * count, 8 bytes big-endian. A write path adds its records up in a small
 * table first, so a batch of thousands of forwarded messages costs one
 * read and one write per distinct (day, account, category).
 *
 * A store written before the counters gets them at its first open by a
 * writable handle of this build (store_daily_open): its newest million
 * events and the rejected sends of the longest series' days are counted
 * then. Forwarded messages cannot be: the store keeps only the last one
 * per number.
 */
#include "store/daily.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/daily_int.h"
#include "store/sentlog.h"
#include "store/sentlog_int.h"

#define DAILY_ACC_MAX	64	/* distinct counters added up at once */
#define DAILY_KEY_MAX	(5 + 2 * STORE_NAME_MAX)
/* What a store from before the counters has counted at its first open
 * by this build: its newest events and rejected sends. */
#define DAILY_BACKFILL_MAX	1000000
#define DAILY_BACKFILL_DAYS	(366 + 28)	/* the longest series */
#define DAILY_MARKER		"daily.built"

/* Counters being added up before they are written. */
struct daily_acc {
	struct store_daily	 ents[DAILY_ACC_MAX];
	size_t			 n;
};

int32_t
store_daily_day(int64_t t)
{
	int64_t	 d = t / 86400;

	if (t % 86400 < 0)
		d--;
	if (d < INT32_MIN)
		return INT32_MIN;
	if (d > INT32_MAX)
		return INT32_MAX;
	return (int32_t)d;
}

const char *
store_daily_kind_name(enum store_daily_kind k)
{
	switch (k) {
	case STORE_DAILY_EVENT:
		return "event";
	case STORE_DAILY_EVENTS:
		return "events";
	case STORE_DAILY_FORWARDED:
		return "forwarded";
	case STORE_DAILY_ATTRIBUTED:
		return "attributed";
	case STORE_DAILY_REJECTED:
		return "rejected";
	case STORE_DAILY_NKINDS:
		break;
	}
	return "?";
}

static void
daily_day_put(uint8_t *p, int32_t day)
{
	uint32_t	 u = (uint32_t)day ^ UINT32_C(0x80000000);

	p[0] = (uint8_t)(u >> 24);
	p[1] = (uint8_t)(u >> 16);
	p[2] = (uint8_t)(u >> 8);
	p[3] = (uint8_t)u;
}

static int32_t
daily_day_get(const uint8_t *p)
{
	uint32_t	 u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			    (uint32_t)p[2] << 8 | p[3];

	return (int32_t)(u ^ UINT32_C(0x80000000));
}

/* The key of d into buf (DAILY_KEY_MAX bytes). Returns its length. */
static size_t
daily_key(const struct store_daily *d, uint8_t *buf)
{
	size_t	 la = strlen(d->a), lb = strlen(d->b);

	daily_day_put(buf, d->day);
	buf[4] = (uint8_t)d->kind;
	memcpy(buf + 5, d->a, la);
	buf[5 + la] = '\0';
	memcpy(buf + 6 + la, d->b, lb);
	return 6 + la + lb;
}

/* Decode a key and value into out. Returns 0 or -1 (damaged). */
static int
daily_decode(const MDB_val *k, const MDB_val *v, struct store_daily *out)
{
	const uint8_t	*p = k->mv_data, *z;
	size_t		 la, lb;

	memset(out, 0, sizeof(*out));
	if (k->mv_size < 6 || v->mv_size != 8 ||
	    p[4] >= STORE_DAILY_NKINDS)
		return -1;
	out->day = daily_day_get(p);
	out->kind = (enum store_daily_kind)p[4];
	if ((z = memchr(p + 5, '\0', k->mv_size - 5)) == NULL)
		return -1;
	la = (size_t)(z - (p + 5));
	lb = k->mv_size - 6 - la;
	if (la >= sizeof(out->a) || lb >= sizeof(out->b))
		return -1;
	memcpy(out->a, p + 5, la);
	memcpy(out->b, z + 1, lb);
	out->count = store_be64_get(v->mv_data);
	return 0;
}

/* Write what acc holds (adding to the counters in txn) and empty it. */
static int
daily_flush(struct store *st, MDB_txn *txn, struct daily_acc *acc)
{
	uint8_t		 key[DAILY_KEY_MAX], val[8];
	MDB_val		 k, v;
	uint64_t	 n;
	size_t		 i;
	int		 rc;

	for (i = 0; i < acc->n; i++) {
		k.mv_size = daily_key(&acc->ents[i], key);
		k.mv_data = key;
		rc = mdb_get(txn, st->dbi[STORE_DB_DAILY], &k, &v);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		n = rc == 0 && v.mv_size == 8 ? store_be64_get(v.mv_data) : 0;
		store_be64_put(val, n + acc->ents[i].count);
		v.mv_size = sizeof(val);
		v.mv_data = val;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_DAILY], &k, &v,
		    0)) != 0)
			return rc;
	}
	acc->n = 0;
	return 0;
}

/*
 * Add one to the counter (day, kind, a, b) in acc, writing acc out first
 * when it is full. Names too long for a key are not counted (the record
 * they come from was refused for them already). 0 or an LMDB code.
 */
static int
daily_add(struct store *st, MDB_txn *txn, struct daily_acc *acc,
    int64_t t, enum store_daily_kind kind, const char *a, const char *b)
{
	struct store_daily	*d;
	int32_t			 day = store_daily_day(t);
	size_t			 i;
	int			 rc;

	if (strlen(a) >= STORE_NAME_MAX || strlen(b) >= STORE_NAME_MAX)
		return 0;
	for (i = 0; i < acc->n; i++) {
		d = &acc->ents[i];
		if (d->day == day && d->kind == kind &&
		    strcmp(d->a, a) == 0 && strcmp(d->b, b) == 0) {
			d->count++;
			return 0;
		}
	}
	if (acc->n == DAILY_ACC_MAX && (rc = daily_flush(st, txn, acc)) != 0)
		return rc;
	d = &acc->ents[acc->n++];
	d->day = day;
	d->kind = kind;
	store_copy(d->a, sizeof(d->a), a);
	store_copy(d->b, sizeof(d->b), b);
	d->count = 1;
	return 0;
}

/* Count ev into acc. 0 or an LMDB code. */
static int
store_daily_event_acc(struct store *st, MDB_txn *txn, struct daily_acc *acc,
    const struct store_event *ev)
{
	const char		*act = store_action_name(ev->action);
	size_t			 i;
	int			 rc;

	if ((rc = daily_add(st, txn, acc, ev->time, STORE_DAILY_EVENTS, act,
	    "")) != 0)
		return rc;
	if (ev->all)
		rc = daily_add(st, txn, acc, ev->time, STORE_DAILY_EVENT, act,
		    STORE_CATEGORY_ALL);
	for (i = 0; rc == 0 && !ev->all && i < ev->ncategories; i++)
		rc = daily_add(st, txn, acc, ev->time, STORE_DAILY_EVENT, act,
		    ev->categories[i]);
	/* What the subscriber was sent last drove the opt-out. */
	if (rc == 0 && ev->action == STORE_OPT_OUT && ev->last.time != 0)
		rc = daily_add(st, txn, acc, ev->time,
		    STORE_DAILY_ATTRIBUTED, ev->last.account,
		    ev->last.category);
	return rc;
}

int
store_daily_event_txn(struct store *st, MDB_txn *txn,
    const struct store_event *ev)
{
	struct daily_acc	 acc;
	int			 rc;

	acc.n = 0;
	if ((rc = store_daily_event_acc(st, txn, &acc, ev)) != 0)
		return rc;
	return daily_flush(st, txn, &acc);
}

/* The checks store_batch_put() drops an audit record for. */
static bool
daily_audit_ok(const struct store_audit *a)
{
	return store_field_ok(a->destination, sizeof(a->destination), false) &&
	    store_field_ok(a->account, sizeof(a->account), true) &&
	    store_field_ok(a->category, sizeof(a->category), true) &&
	    store_field_ok(a->service_type, sizeof(a->service_type), true) &&
	    store_field_ok(a->source, sizeof(a->source), true);
}

/* A forwarded message, from its last-sent entry. */
static int
daily_sent(struct store *st, MDB_txn *txn, struct daily_acc *acc,
    const struct store_lastsent_entry *e)
{
	if (!store_lastsent_entry_ok(e))
		return 0;
	return daily_add(st, txn, acc, e->last.time, STORE_DAILY_FORWARDED,
	    e->last.account, e->last.category);
}

int
store_daily_batch_txn(struct store *st, MDB_txn *txn,
    const struct store_batch *b)
{
	struct daily_acc	 acc;
	char			 status[16];
	size_t			 i;
	int			 rc = 0;

	acc.n = 0;
	for (i = 0; rc == 0 && i < b->naudit; i++) {
		if (!daily_audit_ok(&b->audit[i]))
			continue;
		snprintf(status, sizeof(status), "0x%08x",
		    (unsigned)b->audit[i].status);
		rc = daily_add(st, txn, &acc, b->audit[i].time,
		    STORE_DAILY_REJECTED, status, b->audit[i].category);
	}
	for (i = 0; rc == 0 && i < b->nsentlog; i++)
		if (b->sentlog[i].seq != 0)
			rc = daily_sent(st, txn, &acc, &b->sentlog[i].e);
	for (i = 0; rc == 0 && i < b->nlastsent; i++)
		rc = daily_sent(st, txn, &acc, &b->lastsent[i]);
	return rc != 0 ? rc : daily_flush(st, txn, &acc);
}

int
store_daily_walk(struct store *st, int32_t from, int32_t to,
    store_daily_fn cb, void *arg)
{
	struct store_daily	 d;
	uint8_t			 start[4];
	MDB_cursor		*cur;
	MDB_txn			*txn;
	MDB_val			 k, v;
	int			 rc, cbret = 0;

	store_ok(st);
	if (from > to || st->is_missing[STORE_DB_DAILY])
		return 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	daily_day_put(start, from);
	rc = store_cursor_seek(st, txn, STORE_DB_DAILY, start, sizeof(start),
	    &cur, &k, &v);
	while (rc == 0 && cbret == 0) {
		if (daily_decode(&k, &v, &d) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (d.day > to)
			break;
		cbret = cb(&d, arg);
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading the daily counters");
}

/* --- a store from before the counters ------------------------------ */

/* The newest events, at most DAILY_BACKFILL_MAX, counted into acc. */
static int
daily_backfill_events(struct store *st, MDB_txn *txn, struct daily_acc *acc)
{
	struct store_event	 ev;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	size_t			 n = 0;
	int			 rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_EVENTS], &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	while (rc == 0 && n++ < DAILY_BACKFILL_MAX) {
		if (k.mv_size != 8 ||
		    store_event_decode(&v, store_be64_get(k.mv_data), &ev)) {
			rc = MDB_CORRUPTED;
			break;
		}
		if ((rc = store_daily_event_acc(st, txn, acc, &ev)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The rejected sends of the last DAILY_BACKFILL_DAYS days. */
static int
daily_backfill_audit(struct store *st, MDB_txn *txn, struct daily_acc *acc,
    int64_t since)
{
	struct store_audit	 a;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	char			 status[16];
	size_t			 n = 0;
	int			 rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_AUDIT], &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	while (rc == 0 && n++ < DAILY_BACKFILL_MAX) {
		if (store_audit_decode(&v, &a) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (a.time < since)
			break;
		snprintf(status, sizeof(status), "0x%08x", (unsigned)a.status);
		if ((rc = daily_add(st, txn, acc, a.time, STORE_DAILY_REJECTED,
		    status, a.category)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_daily_open(struct store *st, MDB_txn *txn)
{
	MDB_val		 k = { sizeof(DAILY_MARKER) - 1,
			    (void *)(uintptr_t)DAILY_MARKER }, v;
	struct daily_acc acc;
	MDB_stat	 ms;
	uint8_t		 val[8];
	int64_t		 now = (int64_t)time(NULL);
	int		 rc;

	if (st->is_read_only)
		return 0;
	rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v);
	if (rc == 0)
		return 0;
	acc.n = 0;
	if (rc != MDB_NOTFOUND ||
	    (rc = mdb_stat(txn, st->dbi[STORE_DB_DAILY], &ms)) != 0)
		goto err;
	/* Counters already kept (a build before the marker) stay. */
	if (ms.ms_entries == 0 &&
	    ((rc = daily_backfill_events(st, txn, &acc)) != 0 ||
	    (rc = daily_backfill_audit(st, txn, &acc, now -
	    (int64_t)DAILY_BACKFILL_DAYS * 86400)) != 0 ||
	    (rc = daily_flush(st, txn, &acc)) != 0))
		goto err;
	store_be64_put(val, (uint64_t)now);
	v.mv_size = sizeof(val);
	v.mv_data = val;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0)) != 0)
		goto err;
	return 0;
err:
	return store_fail_mdb(st, rc, "counting the history per day");
}
