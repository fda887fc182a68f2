/*
 * store/queue: the staff review queue, the per-account outbox and the
 * confirmation loop guard.
 */
#include "store/store.h"

#include <string.h>

#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/journal_int.h"
#include "store/optout_int.h"
#include "store/queue_int.h"

/* ------------------------------------------------------------------ */
/* Review queue.                                                       */

static int review_read(struct store *, MDB_txn *, uint64_t,
    struct store_review *);

static int
review_put(struct store *st, MDB_txn *txn, const struct store_review *r)
{
	uint8_t val[STORE_VALUE_MAX], idk[8];
	MDB_val k, v;
	int rc;

	store_be64_put(idk, r->id);
	k.mv_size = sizeof(idk);
	k.mv_data = idk;
	if ((v.mv_size = store_review_encode(r, val, sizeof(val))) == 0) {
		store_fail(st, STORE_E_INVAL, "review item too large");
		return STORE_RC_SET;
	}
	v.mv_data = val;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_REVIEW], &k, &v, 0)) != 0)
		return rc;
	v.mv_size = 0;
	v.mv_data = NULL;
	if (r->status == STORE_REVIEW_OPEN)
		rc = mdb_put(txn, st->dbi[STORE_DB_REVOPEN], &k, &v, 0);
	else if ((rc = mdb_del(txn, st->dbi[STORE_DB_REVOPEN], &k,
	    NULL)) == MDB_NOTFOUND)
		rc = 0;
	return rc != 0 ? rc : store_journal_review_txn(st, txn, r);
}

int
store_review_put_txn(struct store *st, MDB_txn *txn, struct store_review *r,
    bool is_new)
{
	int rc;

	if (is_new && (rc = store_seq_next(st, txn, "seq.review",
	    &r->id)) != 0)
		return rc;
	return review_put(st, txn, r);
}

int
store_review_read_txn(struct store *st, MDB_txn *txn, uint64_t id,
    struct store_review *out)
{
	return review_read(st, txn, id, out);
}

static int
review_add_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct store_review *r = arg;
	int rc;

	if ((rc = store_seq_next(st, txn, "seq.review", &r->id)) != 0)
		return rc;
	return review_put(st, txn, r);
}

int
store_review_add(struct store *st, struct store_review *r)
{
	store_ok(st);
	if (!store_field_ok(r->number, sizeof(r->number), false) ||
	    !store_field_ok(r->inbound, sizeof(r->inbound), true) ||
	    !store_field_ok(r->account, sizeof(r->account), true) ||
	    !store_field_ok(r->text, sizeof(r->text), true))
		return store_fail(st, STORE_E_INVAL, "review item: bad field");
	r->status = STORE_REVIEW_OPEN;
	r->resolved_time = 0;
	r->actor[0] = '\0';
	r->note[0] = '\0';
	r->event_id = 0;
	return store_write(st, review_add_body, r, false,
	    "queueing for review");
}

static int
review_read(struct store *st, MDB_txn *txn, uint64_t id,
    struct store_review *out)
{
	uint8_t idk[8];
	MDB_val k, v;
	int rc;

	store_be64_put(idk, id);
	k.mv_size = sizeof(idk);
	k.mv_data = idk;
	if ((rc = mdb_get(txn, st->dbi[STORE_DB_REVIEW], &k, &v)) != 0)
		return rc;
	return store_review_decode(&v, out) == 0 ? 0 : MDB_CORRUPTED;
}

int
store_review_get(struct store *st, uint64_t id, struct store_review *out)
{
	MDB_txn *txn;
	int rc;

	store_ok(st);
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	rc = review_read(st, txn, id, out);
	store_read_end(st);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading a review item");
	return 1;
}

int
store_review_list(struct store *st, store_review_fn cb, void *arg)
{
	struct store_review r;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, cbret = 0;

	store_ok(st);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_REVOPEN, NULL, 0, &cur, &k,
	    &v);
	while (rc == 0 && cbret == 0) {
		if (k.mv_size != 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		rc = review_read(st, txn, store_be64_get(k.mv_data), &r);
		if (rc != 0)
			break;
		cbret = cb(&r, arg);
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading the review queue");
}

struct resolve_arg {
	uint64_t	 id;
	enum store_review_status decision;
	const char	*actor;
	const char	*note;
	int64_t		 time;
	struct store_event *ev;
};

static int
resolve_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct resolve_arg *ra = arg;
	struct store_review r;
	int rc;

	rc = review_read(st, txn, ra->id, &r);
	if (rc == MDB_NOTFOUND) {
		store_fail(st, STORE_E_NOTFOUND, "no review item %llu",
		    (unsigned long long)ra->id);
		return STORE_RC_SET;
	}
	if (rc != 0)
		return rc;
	if (r.status != STORE_REVIEW_OPEN) {
		store_fail(st, STORE_E_EXISTS, "review item %llu is resolved",
		    (unsigned long long)ra->id);
		return STORE_RC_SET;
	}
	if (ra->ev != NULL &&
	    (rc = store_event_apply_txn(st, txn, ra->ev)) != 0)
		return rc;
	r.status = ra->decision;
	r.resolved_time = ra->time;
	store_copy(r.actor, sizeof(r.actor), ra->actor);
	store_copy(r.note, sizeof(r.note), ra->note);
	r.event_id = ra->ev != NULL ? ra->ev->id : 0;
	return review_put(st, txn, &r);
}

int
store_review_resolve(struct store *st, uint64_t id,
    enum store_review_status decision, const char *actor, const char *note,
    int64_t time, struct store_event *ev)
{
	struct resolve_arg ra = { id, decision, actor, note, time, ev };

	store_ok(st);
	if (decision == STORE_REVIEW_OPTED_OUT) {
		if (ev == NULL || ev->action != STORE_OPT_OUT)
			return store_fail(st, STORE_E_INVAL,
			    "resolving as opted out needs an opt-out event");
		if (store_event_check(st, ev) != 0)
			return -1;
	} else if (decision != STORE_REVIEW_DISMISSED || ev != NULL) {
		return store_fail(st, STORE_E_INVAL, "bad review decision");
	}
	return store_write(st, resolve_body, &ra, false,
	    "resolving a review item");
}

/* ------------------------------------------------------------------ */
/* Outbox.                                                             */

/* Per-account counters: next sequence and entry count. */
struct obmeta {
	uint64_t	 next;
	uint64_t	 count;
};

static int
obmeta_get(struct store *st, MDB_txn *txn, const char *account,
    struct obmeta *m)
{
	MDB_val k = { strlen(account), (void *)(uintptr_t)account }, v;
	int rc;

	m->next = 1;
	m->count = 0;
	rc = mdb_get(txn, st->dbi[STORE_DB_OBMETA], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 16)
		return MDB_CORRUPTED;
	m->next = store_be64_get(v.mv_data);
	m->count = store_be64_get((const uint8_t *)v.mv_data + 8);
	return 0;
}

static int
obmeta_put(struct store *st, MDB_txn *txn, const char *account,
    const struct obmeta *m)
{
	MDB_val k = { strlen(account), (void *)(uintptr_t)account }, v;
	uint8_t buf[16];

	store_be64_put(buf, m->next);
	store_be64_put(buf + 8, m->count);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return mdb_put(txn, st->dbi[STORE_DB_OBMETA], &k, &v, 0);
}

int
store_outbox_uncount(struct store *st, MDB_txn *txn, const char *account)
{
	MDB_val k = { strlen(account), (void *)(uintptr_t)account }, v;
	struct obmeta m;
	int rc;

	rc = mdb_get(txn, st->dbi[STORE_DB_OBMETA], &k, &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != 16))
		return 0;	/* no counter, or a damaged one: leave it */
	if (rc != 0)
		return rc;
	m.next = store_be64_get(v.mv_data);
	m.count = store_be64_get((const uint8_t *)v.mv_data + 8);
	if (m.count > 0)
		m.count--;
	return obmeta_put(st, txn, account, &m);
}

/* Outbox key: account \0 seq. Returns the length. */
static size_t
outbox_key(uint8_t *key, size_t cap, const char *account, uint64_t id)
{
	size_t len = store_key2(key, cap - 8, account, NULL);

	store_be64_put(key + len, id);
	return len + 8;
}

struct obput_arg {
	const char	*account;
	const uint8_t	*pdu;
	size_t		 len;
	int64_t		 time;
	size_t		 max;
	uint64_t	 id;
};

static int
outbox_put_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct obput_arg *oa = arg;
	uint8_t key[STORE_KEY_MAX];
	struct obmeta m;
	MDB_val k, v;
	int rc;

	if ((rc = obmeta_get(st, txn, oa->account, &m)) != 0)
		return rc;
	if (oa->max != 0 && m.count >= oa->max) {
		store_fail(st, STORE_E_FULL,
		    "outbox of %s is full (%llu entries)", oa->account,
		    (unsigned long long)m.count);
		return STORE_RC_SET;
	}
	oa->id = m.next;
	k.mv_size = outbox_key(key, sizeof(key), oa->account, oa->id);
	k.mv_data = key;
	v.mv_size = 8 + oa->len;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_OUTBOX], &k, &v,
	    MDB_RESERVE)) != 0)
		return rc;
	store_time_put(v.mv_data, oa->time);
	memcpy((uint8_t *)v.mv_data + 8, oa->pdu, oa->len);
	m.next++;
	m.count++;
	return obmeta_put(st, txn, oa->account, &m);
}

int
store_outbox_put(struct store *st, const char *account, const uint8_t *pdu,
    size_t len, int64_t time, size_t max, uint64_t *id)
{
	struct obput_arg oa = { account, pdu, len, time, max, 0 };

	store_ok(st);
	if (!store_str_ok(account, STORE_NAME_MAX) || (pdu == NULL && len))
		return store_fail(st, STORE_E_INVAL, "outbox: bad account");
	/* LMDB values are limited by the map only; keep them sane. */
	if (len > 1024 * 1024)
		return store_fail(st, STORE_E_INVAL, "outbox: PDU too large");
	if (store_write(st, outbox_put_body, &oa, false, "queueing in outbox"))
		return -1;
	if (id != NULL)
		*id = oa.id;
	return 0;
}

int
store_outbox_peek(struct store *st, const char *account, uint64_t *id,
    uint8_t *buf, size_t cap, size_t *len, int64_t *time)
{
	uint8_t prefix[STORE_KEY_MAX];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t plen;
	int rc, ret = 1;

	store_ok(st);
	if (!store_str_ok(account, STORE_NAME_MAX))
		return store_fail(st, STORE_E_INVAL, "outbox: bad account");
	plen = store_key2(prefix, sizeof(prefix), account, NULL);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_OUTBOX, prefix, plen, &cur, &k,
	    &v);
	if (rc == 0 && !store_key_has_prefix(&k, prefix, plen))
		rc = MDB_NOTFOUND;
	if (rc == 0 && (k.mv_size != plen + 8 || v.mv_size < 8))
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		*id = store_be64_get((const uint8_t *)k.mv_data + plen);
		*len = v.mv_size - 8;
		if (time != NULL)
			*time = store_time_get(v.mv_data);
		if (*len > cap)
			ret = store_fail(st, STORE_E_INVAL,
			    "outbox: entry of %zu bytes, buffer %zu", *len,
			    cap);
		else if (*len > 0)
			memcpy(buf, (const uint8_t *)v.mv_data + 8, *len);
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	store_walk_end(st, txn);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading the outbox");
	return ret;
}

int
store_outbox_walk(struct store *st, const char *account, uint64_t after_id,
    size_t max, store_outbox_fn cb, void *arg)
{
	uint8_t prefix[STORE_KEY_MAX];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t plen, seen = 0;
	int rc, cbret = 0;

	store_ok(st);
	if (!store_str_ok(account, STORE_NAME_MAX))
		return store_fail(st, STORE_E_INVAL, "outbox: bad account");
	if (after_id == UINT64_MAX)
		return 0;
	plen = store_key2(prefix, sizeof(prefix) - 8, account, NULL);
	store_be64_put(prefix + plen, after_id + 1);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_OUTBOX, prefix, plen + 8, &cur,
	    &k, &v);
	while (rc == 0 && cbret == 0 && (max == 0 || seen < max) &&
	    store_key_has_prefix(&k, prefix, plen)) {
		if (k.mv_size != plen + 8 || v.mv_size < 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		cbret = cb(store_be64_get((const uint8_t *)k.mv_data + plen),
		    store_time_get(v.mv_data), (const uint8_t *)v.mv_data + 8,
		    v.mv_size - 8, arg);
		seen++;
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading the outbox");
}

struct obdel_arg {
	const char	*account;
	uint64_t	 id;
};

static int
outbox_del_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct obdel_arg *oa = arg;
	uint8_t key[STORE_KEY_MAX];
	MDB_val k;
	int rc;

	k.mv_size = outbox_key(key, sizeof(key), oa->account, oa->id);
	k.mv_data = key;
	rc = mdb_del(txn, st->dbi[STORE_DB_OUTBOX], &k, NULL);
	if (rc == MDB_NOTFOUND) {
		store_fail(st, STORE_E_NOTFOUND, "outbox of %s: no entry %llu",
		    oa->account, (unsigned long long)oa->id);
		return STORE_RC_SET;
	}
	if (rc != 0)
		return rc;
	return store_outbox_uncount(st, txn, oa->account);
}

int
store_outbox_del(struct store *st, const char *account, uint64_t id)
{
	struct obdel_arg oa = { account, id };

	store_ok(st);
	if (!store_str_ok(account, STORE_NAME_MAX))
		return store_fail(st, STORE_E_INVAL, "outbox: bad account");
	return store_write(st, outbox_del_body, &oa, false,
	    "deleting from the outbox");
}

int
store_outbox_count(struct store *st, const char *account, size_t *n)
{
	struct obmeta m;
	MDB_txn *txn;
	int rc;

	store_ok(st);
	if (!store_str_ok(account, STORE_NAME_MAX))
		return store_fail(st, STORE_E_INVAL, "outbox: bad account");
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	rc = obmeta_get(st, txn, account, &m);
	store_read_end(st);
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading the outbox");
	*n = (size_t)m.count;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Confirmation loop guard.                                            */

struct confirm_arg {
	const char	*number;
	uint8_t		 kind;
	int64_t		 now;
	int64_t		 window_s;
	bool		 may_send;
};

static int
confirm_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct confirm_arg *ca = arg;
	uint8_t key[STORE_KEY_MAX], tv[8];
	MDB_val k, v;
	size_t len;
	int64_t last, age;
	int rc;

	len = store_key2(key, sizeof(key) - 1, ca->number, NULL);
	key[len] = ca->kind;
	k.mv_size = len + 1;
	k.mv_data = key;
	rc = mdb_get(txn, st->dbi[STORE_DB_CONFIRM], &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0 && v.mv_size == 8) {
		last = store_time_get(v.mv_data);
		/* A clock stepped back counts as inside the window too. */
		age = ca->now >= last ? ca->now - last : last - ca->now;
		if (age < ca->window_s) {
			ca->may_send = false;
			return 0;
		}
	}
	ca->may_send = true;
	store_time_put(tv, ca->now);
	v.mv_size = sizeof(tv);
	v.mv_data = tv;
	return mdb_put(txn, st->dbi[STORE_DB_CONFIRM], &k, &v, 0);
}

int
store_confirm_mark(struct store *st, const char *number,
    enum store_confirm kind, int64_t now, int64_t window_s)
{
	struct confirm_arg ca = { number, (uint8_t)kind, now, window_s, false };

	store_ok(st);
	if (!store_str_ok(number, STORE_NUMBER_MAX) ||
	    (unsigned)kind > STORE_CONFIRM_LESS)
		return store_fail(st, STORE_E_INVAL, "confirm: bad argument");
	/*
	 * Lazy commit: an OS crash may forget the mark, which costs at most
	 * one repeated confirmation.
	 */
	if (store_write(st, confirm_body, &ca, true, "marking a confirmation"))
		return -1;
	return ca.may_send ? 1 : 0;
}
