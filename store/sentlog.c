/*
 * store/sentlog: the append-only sent log (STORE_DB_SENTLOG) and its
 * merge into the last-sent table.
 *
 * Key: the seq, 8 bytes big-endian, so byte order is numeric order and a
 * growing seq appends at the right edge of the tree (MDB_APPEND). Value:
 * a version byte, the number (codec string) and then the
 * store_lastsent_encode() bytes, which carry their own version.
 */
#include "store/sentlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/sentlog_int.h"

#define SENTLOG_V1		1
/* Version, number and a last-sent record at their longest fit easily. */
#define SENTLOG_VALUE_MAX	256

/* ------------------------------------------------------------------ */
/* Records.                                                            */

/* Encode e into buf. Returns the length, or 0 if it does not fit. */
static size_t
sentlog_encode(const struct store_lastsent_entry *e, uint8_t *buf,
    size_t cap)
{
	struct store_wbuf w = { buf, cap, 0, false };
	size_t n;

	store_w_u8(&w, SENTLOG_V1);
	store_w_str(&w, e->number, sizeof(e->number));
	if (w.is_bad)
		return 0;
	n = store_lastsent_encode(&e->last, buf + w.len, cap - w.len);
	return n == 0 ? 0 : w.len + n;
}

/*
 * Decode one log record (key k, value v) into out. Anything but a
 * well-formed record of a version we know, under an 8-byte key, is
 * damage. Returns 0 or -1.
 */
static int
sentlog_decode(const MDB_val *k, const MDB_val *v,
    struct store_sentlog_entry *out)
{
	struct store_rbuf r = { v->mv_data, v->mv_size, 0, false };
	MDB_val rest;

	memset(out, 0, sizeof(*out));
	if (k->mv_size != 8)
		return -1;
	out->seq = store_be64_get(k->mv_data);
	if (store_r_u8(&r) != SENTLOG_V1)
		return -1;
	store_r_str(&r, out->e.number, sizeof(out->e.number));
	if (r.is_bad || out->e.number[0] == '\0')
		return -1;
	rest.mv_size = r.len - r.off;
	rest.mv_data = (void *)(uintptr_t)(r.p + r.off);
	return store_lastsent_decode(&rest, &out->e.last);
}

/* ------------------------------------------------------------------ */
/* Append.                                                             */

bool
store_lastsent_entry_ok(const struct store_lastsent_entry *e)
{
	return store_field_ok(e->number, sizeof(e->number), false) &&
	    store_field_ok(e->last.account, sizeof(e->last.account), true) &&
	    store_field_ok(e->last.category, sizeof(e->last.category),
	    true) &&
	    store_field_ok(e->last.service_type,
	    sizeof(e->last.service_type), true);
}

int
store_sentlog_check(struct store *st, const struct store_sentlog_entry *v,
    size_t n)
{
	size_t i;

	if (v == NULL && n > 0)
		return store_fail(st, STORE_E_INVAL, "no sent log entries");
	for (i = 0; i < n; i++) {
		const struct store_lastsent_entry *e = &v[i].e;

		if (v[i].seq == 0)
			return store_fail(st, STORE_E_INVAL,
			    "sent log entry %zu: seq 0", i + 1);
		if (!store_lastsent_entry_ok(e))
			return store_fail(st, STORE_E_INVAL,
			    "sent log entry %zu: bad field", i + 1);
	}
	return 0;
}

int
store_sentlog_append_txn(struct store *st, MDB_txn *txn,
    const struct store_sentlog_entry *v, size_t n)
{
	uint8_t key[8], val[SENTLOG_VALUE_MAX];
	MDB_cursor *cur;
	MDB_val k, d;
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	/* One cursor: after the first append it stays on the last page. */
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_SENTLOG], &cur)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		store_be64_put(key, v[i].seq);
		k.mv_size = sizeof(key);
		k.mv_data = key;
		if ((d.mv_size = sentlog_encode(&v[i].e, val,
		    sizeof(val))) == 0) {
			store_fail(st, STORE_E_INVAL,
			    "sent log entry %zu: too large", i + 1);
			rc = STORE_RC_SET;
			break;
		}
		d.mv_data = val;
		rc = mdb_cursor_put(cur, &k, &d, MDB_APPEND);
		/*
		 * A seq not above the last key (batches from two writers
		 * interleaved, a replay): MDB_APPEND refuses it, an
		 * ordinary insert puts it in place (or replaces that seq).
		 */
		if (rc == MDB_KEYEXIST)
			rc = mdb_cursor_put(cur, &k, &d, 0);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc;
}

struct append_arg {
	const struct store_sentlog_entry *v;
	size_t		 n;
};

static int
append_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct append_arg *aa = arg;

	return store_sentlog_append_txn(st, txn, aa->v, aa->n);
}

int
store_sentlog_append(struct store *st, const struct store_sentlog_entry *v,
    size_t n)
{
	struct append_arg aa = { v, n };

	store_ok(st);
	if (store_sentlog_check(st, v, n) == -1)
		return -1;
	if (n == 0)
		return 0;
	return store_write(st, append_body, &aa, true,
	    "appending to the sent log");
}

/* ------------------------------------------------------------------ */
/* Reads.                                                              */

int
store_sentlog_get(struct store *st, uint64_t seq,
    struct store_lastsent_entry *out)
{
	struct store_sentlog_entry ent;
	uint8_t key[8];
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	store_ok(st);
	if (st->is_missing[STORE_DB_SENTLOG])
		return 0;
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	store_be64_put(key, seq);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	rc = mdb_get(txn, st->dbi[STORE_DB_SENTLOG], &k, &v);
	if (rc == 0 && sentlog_decode(&k, &v, &ent) != 0)
		rc = MDB_CORRUPTED;
	store_read_end(st);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading the sent log");
	*out = ent.e;
	return 1;
}

int
store_sentlog_bounds(struct store *st, uint64_t *first, uint64_t *last)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	store_ok(st);
	*first = 0;
	*last = 0;
	if (st->is_missing[STORE_DB_SENTLOG])
		return 0;
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_SENTLOG], &cur)) == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		if (rc == 0 && k.mv_size != 8)
			rc = MDB_CORRUPTED;
		if (rc == 0) {
			*first = store_be64_get(k.mv_data);
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		}
		if (rc == 0 && k.mv_size != 8)
			rc = MDB_CORRUPTED;
		if (rc == 0)
			*last = store_be64_get(k.mv_data);
		mdb_cursor_close(cur);
	}
	store_read_end(st);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0) {
		*first = 0;
		*last = 0;
		return store_fail_mdb(st, rc, "reading the sent log bounds");
	}
	return 0;
}

int
store_sentlog_walk(struct store *st, uint64_t from, store_sentlog_fn cb,
    void *arg)
{
	struct store_sentlog_entry ent;
	uint8_t key[8];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, cbret = 0;

	store_ok(st);
	if (st->is_missing[STORE_DB_SENTLOG])
		return 0;
	store_be64_put(key, from);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_SENTLOG, key, sizeof(key),
	    &cur, &k, &v);
	while (rc == 0 && cbret == 0) {
		if (sentlog_decode(&k, &v, &ent) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		cbret = cb(arg, &ent);
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading the sent log");
}

/* ------------------------------------------------------------------ */
/* Merge.                                                              */

struct merge_arg {
	struct store_drain d;	/* ents: struct store_sentlog_entry */
	uint64_t	 through;	/* out: highest seq consumed */
};

/* Number order (LMDB's key order for these keys), then seq. */
static int
merge_cmp(const void *a, const void *b)
{
	const struct store_sentlog_entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->e.number, y->e.number)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Write e to the last-sent table unless it holds a later message. cur is
 * a cursor on the table: entries come in key order, so its position
 * usually saves the put a descent from the root.
 */
static int
merge_put(struct store *st, MDB_cursor *cur,
    const struct store_lastsent_entry *e)
{
	struct store_lastsent old;
	uint8_t val[SENTLOG_VALUE_MAX];
	MDB_val k, v;
	int rc;

	k.mv_size = strlen(e->number);
	k.mv_data = (void *)(uintptr_t)e->number;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	/*
	 * A table record newer than the log's came from a direct
	 * store_lastsent_put() and stays. A damaged one is replaced rather
	 * than failing the merge: refusing would wedge the merge, and the
	 * log, for good over one record that the entry repairs.
	 */
	if (rc == 0 && store_lastsent_decode(&v, &old) == 0 &&
	    old.time > e->last.time)
		return 0;
	if ((v.mv_size = store_lastsent_encode(&e->last, val,
	    sizeof(val))) == 0) {
		store_fail(st, STORE_E_INVAL, "merging the sent log: %s: "
		    "record too large", e->number);
		return STORE_RC_SET;
	}
	v.mv_data = val;
	k.mv_size = strlen(e->number);
	k.mv_data = (void *)(uintptr_t)e->number;
	return mdb_cursor_put(cur, &k, &v, 0);
}

/* A drain's take: decode one log record (damage stops the merge). */
static int
merge_take(struct store_drain *d, size_t i, const MDB_val *k,
    const MDB_val *v)
{
	struct store_sentlog_entry *ents = d->ents;

	return sentlog_decode(k, v, &ents[i]) != 0 ? MDB_CORRUPTED : 0;
}

/*
 * Pop up to cap entries off the front of the log, then put the newest
 * entry of each number, in number order so that consecutive puts share
 * pages. Depends only on the database, so map growth may rerun it.
 */
static int
merge_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct merge_arg *ma = arg;
	struct store_sentlog_entry *ents = ma->d.ents;
	MDB_cursor *cur;
	size_t i, j, n;
	int rc;

	ma->through = 0;
	if ((rc = store_drain_pop(st, txn, STORE_DB_SENTLOG, &ma->d,
	    merge_take)) != 0)
		return rc;
	if ((n = ma->d.n) == 0)
		return 0;
	/* Popped in key order: the last one has the highest seq. */
	ma->through = ents[n - 1].seq;
	qsort(ents, n, sizeof(ents[0]), merge_cmp);
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_LASTSENT], &cur)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i = j) {
		j = i + 1;
		while (j < n && strcmp(ents[j].e.number, ents[i].e.number) == 0)
			j++;
		/* ents[j - 1]: the highest seq of this number. */
		rc = merge_put(st, cur, &ents[j - 1].e);
	}
	mdb_cursor_close(cur);
	return rc;
}

int
store_sentlog_merge(struct store *st, size_t max, uint64_t *through)
{
	struct merge_arg ma;

	store_ok(st);
	*through = 0;
	memset(&ma, 0, sizeof(ma));
	if (store_drain(st, &ma.d, max, STORE_SENTLOG_MERGE_MAX,
	    sizeof(struct store_sentlog_entry), merge_body, &ma,
	    "merging the sent log") != 0)
		return -1;
	*through = ma.through;
	return (int)ma.d.n;
}
