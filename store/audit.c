/*
 * store/audit: the rejected-send audit log, the last-sent attribution
 * table and the (upstream, message_id) -> account receipt map.
 */
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/audit_int.h"
#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/daily_int.h"
#include "store/freq_int.h"
#include "store/journal_int.h"
#include "store/sentlog_int.h"

/* ------------------------------------------------------------------ */
/* Audit log.                                                          */

/*
 * A record goes to AUDIT (time id -> record) and, on its way to the
 * per-number index AUDITNUM (destination \0 time id), to AUDITNEW (id ->
 * time id destination): a log in id order, appended at its end, that
 * store_audit_index() later moves into AUDITNUM in key-sorted runs.
 * Inserting into AUDITNUM directly touched a random leaf per record (a
 * million distinct destinations) and held the proxy's writer to ~175k
 * records/s, below the forwarding rate. Queries by number read AUDITNUM
 * and AUDITNEW both, so they do not depend on how far the indexing got.
 * A record is in exactly one of the two.
 */

/*
 * The account and category indexes (AUDITACC, AUDITCAT: name \0 time id)
 * are written with the record, in its transaction: a proxy has a few
 * accounts and categories, so their puts land on a few leaves at the end
 * of each name's range, cheap unlike per-number puts. Records written
 * before them (an older stopgate) are indexed by store_audit_index()'s
 * idle steps, oldest first. The meta record "audit.index" says what is
 * not indexed yet: records with id <= backlog_max at or after the AUDIT
 * key cursor; and through, the last id a writer that indexes wrote. A
 * query by account or category reads the index and scans that backlog
 * (empty once indexed); a store whose last ids were written by an older
 * stopgate (through behind "seq.audit"), or that has no record, is
 * scanned whole until a writable open or the next write re-arms the
 * backlog over every record.
 */

/* Largest AUDITNUM key: destination, NUL, time, id. */
#define AUDITNUM_KEY_MAX	(STORE_NUMBER_MAX + 16)
/* Largest AUDITACC / AUDITCAT key: name, NUL, time, id. */
#define AUDITNAME_KEY_MAX	(STORE_NAME_MAX + 16)

#define AIDX_NAME		"audit.index"
#define AIDX_V1			1
#define AIDX_LEN		(1 + 8 + 16 + 8)

/* The "audit.index" record. */
struct aidx {
	uint64_t	 backlog_max;	/* 0: nothing left to index */
	uint8_t		 cursor[16];	/* AUDIT key the backlog starts at */
	uint64_t	 through;
};

/* Read the record: 0, MDB_NOTFOUND, or an LMDB code. */
static int
aidx_get(struct store *st, MDB_txn *txn, struct aidx *x)
{
	MDB_val k = { sizeof(AIDX_NAME) - 1, (void *)(uintptr_t)AIDX_NAME }, v;
	const uint8_t *b;
	int rc;

	if ((rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v)) != 0)
		return rc;
	b = v.mv_data;
	if (v.mv_size != AIDX_LEN || b[0] != AIDX_V1)
		return MDB_CORRUPTED;
	x->backlog_max = store_be64_get(b + 1);
	memcpy(x->cursor, b + 9, 16);
	x->through = store_be64_get(b + 25);
	return 0;
}

static int
aidx_put(struct store *st, MDB_txn *txn, const struct aidx *x)
{
	MDB_val k = { sizeof(AIDX_NAME) - 1, (void *)(uintptr_t)AIDX_NAME }, v;
	uint8_t b[AIDX_LEN];

	b[0] = AIDX_V1;
	store_be64_put(b + 1, x->backlog_max);
	memcpy(b + 9, x->cursor, 16);
	store_be64_put(b + 25, x->through);
	v.mv_size = sizeof(b);
	v.mv_data = b;
	return mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0);
}

/*
 * The record as a writer at "seq.audit" seq finds it, re-armed if need
 * be: none, damaged or behind seq (records it does not know were written
 * by an older stopgate) means every record up to seq may be unindexed.
 */
static int
aidx_load(struct store *st, MDB_txn *txn, uint64_t seq, struct aidx *x)
{
	int rc;

	rc = aidx_get(st, txn, x);
	if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_CORRUPTED)
		return rc;
	if (rc != 0 || x->through != seq) {
		x->backlog_max = seq;
		memset(x->cursor, 0, sizeof(x->cursor));
		x->through = seq;
	}
	return 0;
}

int
store_audit_open(struct store *st, MDB_txn *txn)
{
	struct aidx x, old;
	uint64_t seq;
	int rc;

	if (st->is_read_only)
		return 0;
	if ((rc = store_seq_peek(st, txn, "seq.audit", &seq)) != 0 ||
	    (rc = aidx_load(st, txn, seq, &x)) != 0)
		return store_fail_mdb(st, rc, "opening the audit indexes");
	if (aidx_get(st, txn, &old) == 0 && memcmp(&old, &x, sizeof(x)) == 0)
		return 0;
	if ((rc = aidx_put(st, txn, &x)) != 0)
		return store_fail_mdb(st, rc, "opening the audit indexes");
	return 0;
}

/* Put the key "name \0 tk" in db. */
static int
aname_put(struct store *st, MDB_txn *txn, enum store_db db, const char *name,
    const uint8_t tk[16])
{
	uint8_t key[AUDITNAME_KEY_MAX];
	MDB_val k, v = { 0, NULL };
	size_t len;

	/* Validated: the name is shorter than STORE_NAME_MAX. */
	len = store_key2(key, sizeof(key) - 16, name, NULL);
	memcpy(key + len, tk, 16);
	k.mv_size = len + 16;
	k.mv_data = key;
	return mdb_put(txn, st->dbi[db], &k, &v, 0);
}

/* Index record a (key tk) by account and by category. */
static int
aname_index(struct store *st, MDB_txn *txn, const struct store_audit *a,
    const uint8_t tk[16])
{
	int rc;

	if ((rc = aname_put(st, txn, STORE_DB_AUDITACC, a->account, tk)) != 0)
		return rc;
	return aname_put(st, txn, STORE_DB_AUDITCAT, a->category, tk);
}

static bool
audit_ok(const struct store_audit *a)
{
	return store_field_ok(a->destination, sizeof(a->destination), false) &&
	    store_field_ok(a->account, sizeof(a->account), true) &&
	    store_field_ok(a->category, sizeof(a->category), true) &&
	    store_field_ok(a->service_type, sizeof(a->service_type), true) &&
	    store_field_ok(a->source, sizeof(a->source), true);
}

/*
 * Put k through cur at the end when it sorts after the last key (no
 * descent to a leaf once the cursor is there, and full pages when they
 * split). A key that does not (a record timed before the newest one; an
 * id reused after a restore) is refused by MDB_APPEND with MDB_KEYEXIST
 * and put in place instead.
 */
static int
audit_put_append(MDB_cursor *cur, MDB_val *k, MDB_val *v)
{
	int rc;

	rc = mdb_cursor_put(cur, k, v, MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		rc = mdb_cursor_put(cur, k, v, 0);
	return rc;
}

/*
 * Write recs[0..n) in txn and set their ids, read and written once in
 * "seq.audit" for the lot. With is_checked a record with a bad field is
 * skipped (no id) and counted in *nbad: one bad record from a peer costs
 * that record, not the batch. Depends only on its inputs and the
 * database, so map growth may rerun it. Returns 0, an LMDB code or
 * STORE_RC_SET.
 */
static int
audit_put_txn(struct store *st, MDB_txn *txn, struct store_audit *recs,
    size_t n, bool is_checked, size_t *nbad)
{
	static const char seqname[] = "seq.audit";
	uint8_t val[STORE_VALUE_MAX], nval[AUDITNUM_KEY_MAX], ik[8], tk[16];
	MDB_cursor *acur = NULL, *ncur = NULL;
	struct aidx x;
	uint64_t seq, first;
	MDB_val k, v;
	size_t i, len;
	bool is_journaled;
	int rc;

	if ((rc = store_seq_peek(st, txn, seqname, &seq)) != 0 ||
	    (rc = aidx_load(st, txn, seq, &x)) != 0 ||
	    (rc = store_journal_is_on(st, txn, &is_journaled)) != 0)
		return rc;
	first = seq;
	/* One cursor per table: each stays on its last page. */
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_AUDIT], &acur)) != 0 ||
	    (rc = mdb_cursor_open(txn, st->dbi[STORE_DB_AUDITNEW],
	    &ncur)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct store_audit *a = &recs[i];

		if (is_checked && !audit_ok(a)) {
			(*nbad)++;
			continue;
		}
		a->id = ++seq;
		store_time_put(tk, a->time);
		store_be64_put(tk + 8, a->id);
		if ((len = store_audit_encode(a, val, sizeof(val))) == 0) {
			store_fail(st, STORE_E_INVAL, "audit record too large");
			rc = STORE_RC_SET;
			goto out;
		}
		k.mv_size = sizeof(tk);
		k.mv_data = tk;
		v.mv_size = len;
		v.mv_data = val;
		if ((rc = audit_put_append(acur, &k, &v)) != 0)
			goto out;
		/* Validated: the destination is shorter than its array. */
		len = strlen(a->destination);
		memcpy(nval, tk, sizeof(tk));
		memcpy(nval + sizeof(tk), a->destination, len);
		store_be64_put(ik, a->id);
		k.mv_size = sizeof(ik);
		k.mv_data = ik;
		v.mv_size = sizeof(tk) + len;
		v.mv_data = nval;
		if ((rc = audit_put_append(ncur, &k, &v)) != 0 ||
		    (rc = aname_index(st, txn, a, tk)) != 0)
			goto out;
		if (is_journaled && (rc = store_journal_audit_txn(st, txn,
		    a)) != 0)
			goto out;
	}
	if (seq == first)
		goto out;
	x.through = seq;
	if ((rc = aidx_put(st, txn, &x)) != 0)
		goto out;
	/* What store_seq_next() writes, once for the whole run of ids. */
	store_be64_put(ik, seq);
	k.mv_size = sizeof(seqname) - 1;
	k.mv_data = (void *)(uintptr_t)seqname;
	v.mv_size = sizeof(ik);
	v.mv_data = ik;
	rc = mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0);
out:
	if (ncur != NULL)
		mdb_cursor_close(ncur);
	if (acur != NULL)
		mdb_cursor_close(acur);
	return rc;
}

int
store_audit_put_txn(struct store *st, MDB_txn *txn, struct store_audit *recs,
    size_t n)
{
	size_t nbad = 0;

	return audit_put_txn(st, txn, recs, n, true, &nbad);
}

struct audit_arg {
	struct store_audit *recs;
	size_t		 n;
};

static int
audit_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct audit_arg *aa = arg;
	size_t nbad = 0;

	/* store_audit_add() checked every record. */
	return audit_put_txn(st, txn, aa->recs, aa->n, false, &nbad);
}

int
store_audit_add(struct store *st, struct store_audit *recs, size_t n)
{
	struct audit_arg aa = { recs, n };
	size_t i;

	store_ok(st);
	for (i = 0; i < n; i++)
		if (!audit_ok(&recs[i]))
			return store_fail(st, STORE_E_INVAL,
			    "audit record %zu: bad field", i + 1);
	if (n == 0)
		return 0;
	return store_write(st, audit_body, &aa, false, "writing audit records");
}

/* --- the per-number index ----------------------------------------- */

struct index_key {
	uint8_t		 len;
	uint8_t		 k[AUDITNUM_KEY_MAX];
};

struct index_arg {
	struct store_drain d;		/* ents: struct index_key */
	size_t		 nkeys;
	size_t		 nback;		/* backlog records visited */
};

/*
 * Index by account and category up to max records of the backlog of a
 * store written before those indexes, oldest first; *n = how many were
 * visited. 0 or an LMDB code.
 */
static int
aidx_backfill(struct store *st, MDB_txn *txn, size_t max, size_t *n)
{
	struct store_audit a;
	struct aidx x;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t tk[16];
	uint64_t seq;
	int rc;

	*n = 0;
	if ((rc = store_seq_peek(st, txn, "seq.audit", &seq)) != 0 ||
	    (rc = aidx_load(st, txn, seq, &x)) != 0)
		return rc;
	if (x.backlog_max == 0 || max == 0)
		return 0;
	rc = store_cursor_seek(st, txn, STORE_DB_AUDIT, x.cursor, 16, &cur, &k,
	    &v);
	if (cur == NULL)
		return rc;
	for (; rc == 0 && *n < max; rc = mdb_cursor_get(cur, &k, &v,
	    MDB_NEXT)) {
		(*n)++;
		/* Written indexed, or unreadable (which queries refuse). */
		if (k.mv_size != 16 ||
		    store_be64_get((const uint8_t *)k.mv_data + 8) >
		    x.backlog_max || store_audit_decode(&v, &a) != 0)
			continue;
		memcpy(tk, k.mv_data, 16);
		if ((rc = aname_index(st, txn, &a, tk)) != 0)
			break;
	}
	if (rc == 0) {		/* k: the first record not visited */
		memset(x.cursor, 0, sizeof(x.cursor));
		memcpy(x.cursor, k.mv_data, k.mv_size < 16 ? k.mv_size : 16);
	} else if (rc == MDB_NOTFOUND) {
		x.backlog_max = 0;
		rc = 0;
	}
	mdb_cursor_close(cur);
	return rc != 0 ? rc : aidx_put(st, txn, &x);
}

/*
 * The destination of an AUDITNEW value, or NULL if the value is damaged.
 * *dlen is its length; the time id key is the value's first 16 bytes.
 */
static const char *
auditnew_dest(const MDB_val *v, size_t *dlen)
{
	const char *d;

	if (v->mv_size <= 16 || v->mv_size - 16 >= STORE_NUMBER_MAX)
		return NULL;
	d = (const char *)v->mv_data + 16;
	*dlen = v->mv_size - 16;
	return memchr(d, '\0', *dlen) == NULL ? d : NULL;
}

/* LMDB's default key order: bytes, then the shorter first. */
static int
index_key_cmp(const void *a, const void *b)
{
	const struct index_key *x = a, *y = b;
	int c;

	c = memcmp(x->k, y->k, x->len < y->len ? x->len : y->len);
	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * Pop up to cap entries off the front of AUDITNEW, then put their
 * AUDITNUM keys in key order, so that runs of puts share leaves and each
 * leaf is copied once per transaction. Depends only on the database, so
 * map growth may rerun it.
 */
/*
 * A drain's take: the AUDITNUM key of one AUDITNEW entry. A damaged
 * entry cannot be indexed, and queries skip it too; it is dropped rather
 * than wedging the index (and growing the backlog every query reads) for
 * good.
 */
static int
index_take(struct store_drain *d, size_t i, const MDB_val *k,
    const MDB_val *v)
{
	struct index_arg *ia = (struct index_arg *)d;
	struct index_key *ik;
	const char *dest;
	size_t dlen;

	(void)i;
	(void)k;
	if ((dest = auditnew_dest(v, &dlen)) != NULL) {
		ik = (struct index_key *)d->ents + ia->nkeys++;
		memcpy(ik->k, dest, dlen);
		ik->k[dlen] = '\0';
		memcpy(ik->k + dlen + 1, v->mv_data, 16);
		ik->len = (uint8_t)(dlen + 1 + 16);
	}
	return 0;
}

/*
 * Pop up to cap entries off the front of AUDITNEW, then put their
 * AUDITNUM keys in key order, so that runs of puts share leaves and each
 * leaf is copied once per transaction. Depends only on the database, so
 * map growth may rerun it.
 */
static int
index_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct index_arg *ia = arg;
	struct index_key *keys = ia->d.ents;
	MDB_val k, v;
	size_t i;
	int rc;

	ia->nkeys = 0;
	ia->nback = 0;
	if ((rc = store_drain_pop(st, txn, STORE_DB_AUDITNEW, &ia->d,
	    index_take)) != 0)
		return rc;
	qsort(keys, ia->nkeys, sizeof(keys[0]), index_key_cmp);
	v.mv_size = 0;
	v.mv_data = NULL;
	for (i = 0; i < ia->nkeys; i++) {
		k.mv_size = keys[i].len;
		k.mv_data = keys[i].k;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_AUDITNUM], &k, &v, 0)))
			return rc;
	}
	/* Room left: the records of before the name indexes. */
	return aidx_backfill(st, txn, ia->d.cap - ia->d.n, &ia->nback);
}

int
store_audit_index(struct store *st, size_t max, size_t *done)
{
	struct index_arg ia;

	store_ok(st);
	*done = 0;
	memset(&ia, 0, sizeof(ia));
	if (store_drain(st, &ia.d, max, STORE_AUDIT_INDEX_MAX,
	    sizeof(struct index_key), index_body, &ia,
	    "indexing the audit log") != 0)
		return -1;
	*done = ia.d.n + ia.nback;
	return 0;
}

/* --- queries ------------------------------------------------------ */

/* Does a match f? (time bounds are checked by the caller's scan.) */
static bool
audit_match(const struct store_audit *a, const struct store_audit_filter *f)
{
	if (f->number != NULL && strcmp(f->number, a->destination) != 0)
		return false;
	if (f->account != NULL && strcmp(f->account, a->account) != 0)
		return false;
	if (f->category != NULL && strcmp(f->category, a->category) != 0)
		return false;
	if (f->reason != NULL &&
	    strcmp(f->reason, store_audit_reason_name(a->reason)) != 0)
		return false;
	return true;
}

/*
 * The first time id key a query reads: the first at since, or the one
 * right after the paging cursor (after_time, after_id) if that is later.
 */
static void
audit_start(const struct store_audit_filter *f, uint8_t start[16])
{
	uint8_t a[16];

	store_time_put(start, f->since != 0 ? f->since : INT64_MIN);
	memset(start + 8, 0, 8);
	if (f->after_id == 0)
		return;
	store_time_put(a, f->after_time);
	store_be64_put(a + 8, f->after_id + 1);
	if (f->after_id != UINT64_MAX && memcmp(a, start, 16) > 0)
		memcpy(start, a, 16);
}

/* Time id keys, 16 bytes each. */
struct tkeys {
	uint8_t		(*k)[16];	/* owned */
	size_t		 n;
	size_t		 cap;
};

static int
tkey_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/*
 * Collect into out, in key order, the time id keys of f->number's
 * records in AUDITNEW within [since, until). The backlog is bounded by
 * the indexing, so it is read whole. Returns 0, an LMDB code or
 * STORE_RC_SET.
 */
static int
auditnew_collect(struct store *st, MDB_txn *txn,
    const struct store_audit_filter *f, struct tkeys *out)
{
	uint8_t start[16];
	size_t nlen = strlen(f->number), dlen, cap;
	const char *dest;
	MDB_cursor *cur;
	MDB_val k, v;
	int64_t t;
	void *p;
	int rc;

	if (st->is_missing[STORE_DB_AUDITNEW])
		return 0;	/* an older store: everything is indexed */
	audit_start(f, start);
	rc = store_cursor_seek(st, txn, STORE_DB_AUDITNEW, NULL, 0, &cur, &k,
	    &v);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((dest = auditnew_dest(&v, &dlen)) == NULL ||
		    dlen != nlen || memcmp(dest, f->number, nlen) != 0)
			continue;
		t = store_time_get(v.mv_data);
		if (memcmp(v.mv_data, start, 16) < 0 ||
		    (f->until != 0 && t >= f->until))
			continue;
		if (out->n == out->cap) {
			cap = out->cap != 0 ? out->cap * 2 : 64;
			if ((p = reallocarray(out->k, cap,
			    sizeof(out->k[0]))) == NULL) {
				store_fail(st, STORE_E_IO,
				    "reading the audit log: %s",
				    strerror(errno));
				rc = STORE_RC_SET;
				break;
			}
			out->k = p;
			out->cap = cap;
		}
		memcpy(out->k[out->n++], v.mv_data, 16);
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (out->n > 1)
		qsort(out->k, out->n, sizeof(out->k[0]), tkey_cmp);
	return 0;
}

/* Every record in time order: a scan of AUDIT. */
static int
audit_query_all(struct store *st, const struct store_audit_filter *f,
    store_audit_fn cb, void *arg)
{
	uint8_t start[16];
	struct store_audit a;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t seen = 0;
	int rc, cbret = 0;

	audit_start(f, start);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_AUDIT, start, sizeof(start),
	    &cur, &k, &v);
	while (rc == 0 && cbret == 0 && (f->max == 0 || seen < f->max)) {
		if (k.mv_size != 16) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (f->until != 0 && store_time_get(k.mv_data) >= f->until)
			break;
		if (store_audit_decode(&v, &a) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (audit_match(&a, f)) {
			cbret = cb(&a, arg);
			seen++;
		}
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading the audit log");
}

/*
 * One number's records in time order: its AUDITNUM range merged with
 * its entries still in AUDITNEW, each record read from AUDIT.
 */
static int
audit_query_number(struct store *st, const struct store_audit_filter *f,
    store_audit_fn cb, void *arg)
{
	uint8_t prefix[STORE_KEY_MAX];
	struct tkeys fresh = { NULL, 0, 0 };
	struct store_audit a;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v, pk, pv;
	size_t plen, seen = 0, inew = 0;
	int rc, irc, cbret = 0, c;

	plen = store_key2(prefix, sizeof(prefix) - 16, f->number, NULL);
	audit_start(f, prefix + plen);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	if ((rc = auditnew_collect(st, txn, f, &fresh)) != 0)
		goto done;
	/* irc: where the index cursor is (0 on a key, or why not). */
	irc = store_cursor_seek(st, txn, STORE_DB_AUDITNUM, prefix, plen + 16,
	    &cur, &k, &v);
	while (cbret == 0 && (f->max == 0 || seen < f->max)) {
		const uint8_t *ikey = NULL, *nkey = NULL, *tk;

		if (irc == 0 && !store_key_has_prefix(&k, prefix, plen))
			irc = MDB_NOTFOUND;	/* past the number */
		if (irc == 0 && k.mv_size != plen + 16)
			irc = MDB_CORRUPTED;
		if (irc != 0 && irc != MDB_NOTFOUND) {
			rc = irc;
			break;
		}
		if (irc == 0)
			ikey = (const uint8_t *)k.mv_data + plen;
		if (inew < fresh.n)
			nkey = fresh.k[inew];
		if (ikey == NULL && nkey == NULL)
			break;
		/* Equal keys (a record in both) would be a store bug: once. */
		c = ikey == NULL ? 1 : nkey == NULL ? -1 : memcmp(ikey, nkey,
		    16);
		tk = c <= 0 ? ikey : nkey;
		if (f->until != 0 && store_time_get(tk) >= f->until)
			break;
		pk.mv_size = 16;
		pk.mv_data = (void *)(uintptr_t)tk;
		rc = mdb_get(txn, st->dbi[STORE_DB_AUDIT], &pk, &pv);
		if (rc == 0) {
			if (store_audit_decode(&pv, &a) != 0) {
				rc = MDB_CORRUPTED;
				break;
			}
			if (audit_match(&a, f)) {
				cbret = cb(&a, arg);
				seen++;
			}
		} else if (rc != MDB_NOTFOUND) {
			break;
		}
		rc = 0;
		if (c >= 0)
			inew++;
		if (c <= 0)
			irc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
done:
	free(fresh.k);
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading the audit log");
}

/*
 * A query by account or category: the name's index range merged with
 * the backlog of records not in it yet (see the head of this file),
 * read straight from AUDIT; x is NULL when the index cannot be trusted.
 */
struct nameq {
	MDB_txn		*txn;
	MDB_cursor	*icur;		/* the index, from prefix + start */
	int		 irc;		/* 0: ik is the next key */
	MDB_val		 ik;
	uint8_t		 prefix[STORE_KEY_MAX];
	size_t		 plen;
	MDB_cursor	*bcur;		/* the backlog in AUDIT */
	int		 brc;		/* 0: ba / bkey is the next one */
	uint64_t	 bmax;
	struct store_audit ba;
	uint8_t		 bkey[16];
};

/* Move the backlog to its next matching record (op: where from). */
static void
nameq_backlog_next(struct nameq *q, const struct store_audit_filter *f,
    MDB_cursor_op op)
{
	MDB_val k, v;

	while ((q->brc = mdb_cursor_get(q->bcur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != 16) {
			q->brc = MDB_CORRUPTED;
			return;
		}
		if (f->until != 0 && store_time_get(k.mv_data) >= f->until) {
			q->brc = MDB_NOTFOUND;
			return;
		}
		if (store_be64_get((const uint8_t *)k.mv_data + 8) > q->bmax)
			continue;
		if (store_audit_decode(&v, &q->ba) != 0) {
			q->brc = MDB_CORRUPTED;
			return;
		}
		if (audit_match(&q->ba, f)) {
			memcpy(q->bkey, k.mv_data, 16);
			return;
		}
	}
}

/*
 * Position q's cursors for f on index db (name): 0; MDB_INCOMPATIBLE
 * when the index cannot answer (the caller scans); or an LMDB code.
 */
static int
nameq_open(struct store *st, struct nameq *q,
    const struct store_audit_filter *f, enum store_db db, const char *name)
{
	uint8_t start[16];
	struct aidx x;
	uint64_t seq;
	MDB_val k, v;
	int rc;

	if (st->is_missing[db])
		return MDB_INCOMPATIBLE;
	if ((rc = store_seq_peek(st, q->txn, "seq.audit", &seq)) != 0)
		return rc;
	rc = aidx_get(st, q->txn, &x);
	if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED ||
	    (rc == 0 && x.through != seq))
		return MDB_INCOMPATIBLE;
	if (rc != 0)
		return rc;
	audit_start(f, start);
	q->plen = store_key2(q->prefix, sizeof(q->prefix) - 16, name, NULL);
	memcpy(q->prefix + q->plen, start, 16);
	q->irc = store_cursor_seek(st, q->txn, db, q->prefix, q->plen + 16,
	    &q->icur, &q->ik, &v);
	if (q->icur == NULL)
		return q->irc;
	q->bmax = x.backlog_max;
	q->brc = MDB_NOTFOUND;
	if (q->bmax == 0)
		return 0;
	if (memcmp(x.cursor, start, 16) > 0)
		memcpy(start, x.cursor, 16);
	q->brc = store_cursor_seek(st, q->txn, STORE_DB_AUDIT, start, 16,
	    &q->bcur, &k, &v);
	if (q->bcur == NULL)
		return q->brc;
	if (q->brc == 0)
		nameq_backlog_next(q, f, MDB_GET_CURRENT);
	return 0;
}

/* Hand the record under key tk (from the index) to cb if it matches. */
static int
nameq_emit(struct store *st, struct nameq *q, const uint8_t *tk,
    const struct store_audit_filter *f, store_audit_fn cb, void *arg,
    size_t *seen, int *cbret)
{
	struct store_audit a;
	MDB_val pk = { 16, (void *)(uintptr_t)tk }, pv;
	int rc;

	rc = mdb_get(q->txn, st->dbi[STORE_DB_AUDIT], &pk, &pv);
	if (rc == MDB_NOTFOUND)
		return 0;	/* expired by an older stopgate */
	if (rc != 0)
		return rc;
	if (store_audit_decode(&pv, &a) != 0)
		return MDB_CORRUPTED;
	if (audit_match(&a, f)) {
		*cbret = cb(&a, arg);
		(*seen)++;
	}
	return 0;
}

/* The merge of nameq_open's two streams, in key order, once each. */
static int
nameq_run(struct store *st, struct nameq *q,
    const struct store_audit_filter *f, store_audit_fn cb, void *arg,
    int *cbret)
{
	const uint8_t *ikey, *tk;
	MDB_val v;
	size_t seen = 0;
	int rc, c;

	while (*cbret == 0 && (f->max == 0 || seen < f->max)) {
		if (q->irc == 0 &&
		    !store_key_has_prefix(&q->ik, q->prefix, q->plen))
			q->irc = MDB_NOTFOUND;	/* past the name */
		if (q->irc == 0 && q->ik.mv_size != q->plen + 16)
			q->irc = MDB_CORRUPTED;
		if (q->irc != 0 && q->irc != MDB_NOTFOUND)
			return q->irc;
		if (q->brc != 0 && q->brc != MDB_NOTFOUND)
			return q->brc;
		ikey = q->irc == 0 ? (const uint8_t *)q->ik.mv_data + q->plen :
		    NULL;
		if (ikey == NULL && q->brc != 0)
			return 0;
		c = ikey == NULL ? 1 : q->brc != 0 ? -1 :
		    memcmp(ikey, q->bkey, 16);
		tk = c <= 0 ? ikey : q->bkey;
		if (f->until != 0 && store_time_get(tk) >= f->until)
			return 0;
		if (c <= 0 && (rc = nameq_emit(st, q, ikey, f, cb, arg, &seen,
		    cbret)) != 0)
			return rc;
		if (c > 0) {
			*cbret = cb(&q->ba, arg);
			seen++;
		}
		if (*cbret != 0)
			return 0;
		if (c >= 0)
			nameq_backlog_next(q, f, MDB_NEXT);
		if (c <= 0)
			q->irc = mdb_cursor_get(q->icur, &q->ik, &v, MDB_NEXT);
	}
	return 0;
}

static int
audit_query_name(struct store *st, const struct store_audit_filter *f,
    enum store_db db, const char *name, store_audit_fn cb, void *arg)
{
	struct nameq q;
	int rc, cbret = 0;

	if (strlen(name) >= STORE_NAME_MAX)
		return 0;	/* no record has such a name */
	memset(&q, 0, sizeof(q));
	if ((q.txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = nameq_open(st, &q, f, db, name);
	if (rc == 0)
		rc = nameq_run(st, &q, f, cb, arg, &cbret);
	if (q.bcur != NULL)
		mdb_cursor_close(q.bcur);
	if (rc == MDB_INCOMPATIBLE) {	/* no index to trust: scan */
		if (q.icur != NULL)
			mdb_cursor_close(q.icur);
		store_walk_end(st, q.txn);
		return audit_query_all(st, f, cb, arg);
	}
	return store_walk_finish(st, q.txn, q.icur, rc, cbret,
	    "reading the audit log");
}

int
store_audit_query(struct store *st, const struct store_audit_filter *f,
    store_audit_fn cb, void *arg)
{
	static const struct store_audit_filter none;

	store_ok(st);
	if (f == NULL)
		f = &none;
	if (f->number == NULL && f->account != NULL)
		return audit_query_name(st, f, STORE_DB_AUDITACC, f->account,
		    cb, arg);
	if (f->number == NULL && f->category != NULL)
		return audit_query_name(st, f, STORE_DB_AUDITCAT, f->category,
		    cb, arg);
	if (f->number == NULL)
		return audit_query_all(st, f, cb, arg);
	if (!store_str_ok(f->number, STORE_NUMBER_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number");
	return audit_query_number(st, f, cb, arg);
}

/* ------------------------------------------------------------------ */
/* Attribution.                                                        */

struct lastsent_arg {
	const struct store_lastsent_entry *e;
	size_t		 n;
};

static int
lastsent_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct lastsent_arg *la = arg;
	uint8_t val[256];
	MDB_val k, v;
	size_t i;
	int rc;

	for (i = 0; i < la->n; i++) {
		k.mv_size = strlen(la->e[i].number);
		k.mv_data = (void *)(uintptr_t)la->e[i].number;
		v.mv_size = store_lastsent_encode(&la->e[i].last, val,
		    sizeof(val));
		v.mv_data = val;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_LASTSENT], &k, &v,
		    0)) != 0)
			return rc;
	}
	return 0;
}

/* Validate n last-sent entries. Returns 0, or -1 with the error set. */
static int
lastsent_check(struct store *st, const struct store_lastsent_entry *entries,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!store_lastsent_entry_ok(&entries[i]))
			return store_fail(st, STORE_E_INVAL,
			    "last-sent entry %zu: bad field", i + 1);
	}
	return 0;
}

int
store_lastsent_put(struct store *st,
    const struct store_lastsent_entry *entries, size_t n)
{
	struct lastsent_arg la = { entries, n };

	store_ok(st);
	if (lastsent_check(st, entries, n) == -1)
		return -1;
	if (n == 0)
		return 0;
	return store_write(st, lastsent_body, &la, true,
	    "recording last-sent messages");
}

int
store_lastsent_get(struct store *st, const char *number,
    struct store_lastsent *out)
{
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	store_ok(st);
	if (!store_str_ok(number, STORE_NUMBER_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number");
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	k.mv_size = strlen(number);
	k.mv_data = (void *)(uintptr_t)number;
	rc = mdb_get(txn, st->dbi[STORE_DB_LASTSENT], &k, &v);
	if (rc == 0 && store_lastsent_decode(&v, out) != 0)
		rc = MDB_CORRUPTED;
	store_read_end(st);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading last-sent");
	return 1;
}

/* ------------------------------------------------------------------ */
/* Receipt map.                                                        */

int
store_msgid_normalize(const char *in, char *out, size_t cap)
{
	size_t n, i;

	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t' ||
	    in[n - 1] == '\r' || in[n - 1] == '\n'))
		n--;
	/* Zero padding: "000123" and "123" are one id; "0" stays. */
	while (n > 1 && in[0] == '0') {
		in++;
		n--;
	}
	if (n == 0 || n >= cap)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return 0;
}

/* Parse all of s in base (10 or 16) into a 64-bit value; 0 or -1. */
static int
msgid_parse(const char *s, unsigned base, uint64_t *out)
{
	uint64_t v = 0;
	unsigned d;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

struct msgmap_arg {
	const struct store_msgmap *e;
	size_t		 n;
};

static int
msgmap_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct msgmap_arg *ma = arg;
	uint8_t key[STORE_KEY_MAX], tkey[STORE_KEY_MAX], val[64];
	char id[STORE_MSGID_MAX];
	struct store_wbuf w;
	MDB_val k, v;
	size_t i, len;
	bool is_journaled;
	int rc;

	if ((rc = store_journal_is_on(st, txn, &is_journaled)) != 0)
		return rc;
	for (i = 0; i < ma->n; i++) {
		const struct store_msgmap *m = &ma->e[i];

		/* Validated by the caller. */
		if (store_msgid_normalize(m->message_id, id, sizeof(id)) != 0)
			continue;
		len = store_key2(key, sizeof(key), m->upstream, id);
		w.p = val;
		w.cap = sizeof(val);
		w.len = 0;
		w.is_bad = false;
		store_w_u8(&w, 1);
		store_w_i64(&w, m->time);
		store_w_str(&w, m->account, sizeof(m->account));
		k.mv_size = len;
		k.mv_data = key;
		v.mv_size = w.len;
		v.mv_data = val;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_MSGMAP], &k, &v, 0)))
			return rc;
		store_time_put(tkey, m->time);
		memcpy(tkey + 8, key, len);
		k.mv_size = len + 8;
		k.mv_data = tkey;
		v.mv_size = 0;
		v.mv_data = NULL;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_MSGTIME], &k, &v, 0)))
			return rc;
		/* Shared so that a receipt on another node finds it. */
		if (is_journaled &&
		    (rc = store_journal_msgmap_txn(st, txn, m, id)) != 0)
			return rc;
	}
	return 0;
}

/* Validate n receipt map entries. Returns 0, or -1 with the error set. */
static int
msgmap_check(struct store *st, const struct store_msgmap *entries, size_t n)
{
	char id[STORE_MSGID_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct store_msgmap *m = &entries[i];

		if (!store_field_ok(m->upstream, sizeof(m->upstream), false) ||
		    !store_field_ok(m->message_id, sizeof(m->message_id),
		    false) ||
		    !store_field_ok(m->account, sizeof(m->account), false) ||
		    store_msgid_normalize(m->message_id, id, sizeof(id)) != 0)
			return store_fail(st, STORE_E_INVAL,
			    "receipt map entry %zu: bad field", i + 1);
	}
	return 0;
}

int
store_msgmap_put(struct store *st, const struct store_msgmap *entries,
    size_t n)
{
	struct msgmap_arg ma = { entries, n };

	store_ok(st);
	if (msgmap_check(st, entries, n) == -1)
		return -1;
	if (n == 0)
		return 0;
	return store_write(st, msgmap_body, &ma, true,
	    "recording message ids");
}

/* ------------------------------------------------------------------ */
/* A proxy batch, in one transaction.                                  */

struct batch_arg {
	struct store_batch	*b;
	size_t			 nbad;
};

/*
 * Each record is checked where it is written, so one bad record from a
 * peer costs that record, not the batch; and the arrays are only read
 * (the proxy's loop reads them meanwhile), audit ids aside.
 */
static int
batch_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct batch_arg *ba = arg;
	struct store_batch *b = ba->b;
	size_t i, j;
	int rc;

	ba->nbad = 0;	/* a retry (map grown) starts over */
	if ((rc = audit_put_txn(st, txn, b->audit, b->naudit, true,
	    &ba->nbad)) != 0)
		return rc;
	for (i = 0; i < b->nmsgmap; i++) {
		struct msgmap_arg ma = { &b->msgmap[i], 1 };

		if (msgmap_check(st, &b->msgmap[i], 1) != 0)
			ba->nbad++;
		else if ((rc = msgmap_body(st, txn, &ma)) != 0)
			return rc;
	}
	/* Runs of good sent-log records are appended through one cursor. */
	for (i = 0; i < b->nsentlog; i = j) {
		for (j = i; j < b->nsentlog &&
		    store_sentlog_check(st, &b->sentlog[j], 1) == 0; j++)
			;
		if (j > i && (rc = store_sentlog_append_txn(st, txn,
		    &b->sentlog[i], j - i)) != 0)
			return rc;
		if (j < b->nsentlog) {
			ba->nbad++;	/* b->sentlog[j] is bad */
			j++;
		}
	}
	for (i = 0; i < b->nlastsent; i++) {
		struct lastsent_arg la = { &b->lastsent[i], 1 };

		if (lastsent_check(st, &b->lastsent[i], 1) != 0)
			ba->nbad++;
		else if ((rc = lastsent_body(st, txn, &la)) != 0)
			return rc;
	}
	if ((rc = store_freq_put_txn(st, txn, b->freq, b->nfreq,
	    &ba->nbad)) != 0 ||
	    (rc = store_journal_sent_txn(st, txn, b->freq, b->nfreq)) != 0)
		return rc;
	return store_daily_batch_txn(st, txn, b);
}

int
store_batch_put(struct store *st, struct store_batch *b, size_t *nbad)
{
	struct batch_arg ba = { b, 0 };
	int rc;

	store_ok(st);
	*nbad = 0;
	if (b->naudit + b->nmsgmap + b->nsentlog + b->nlastsent +
	    b->nfreq == 0)
		return 0;
	rc = store_write(st, batch_body, &ba, true, "writing a batch");
	*nbad = ba.nbad;
	if (rc == 0)
		store_ok(st);	/* the checks of dropped records set it */
	return rc;
}

/* Look one normalised id up; 0 found, MDB_NOTFOUND, or an error. */
static int
msgmap_get1(struct store *st, MDB_txn *txn, const char *upstream,
    const char *id, char account[STORE_NAME_MAX])
{
	uint8_t key[STORE_KEY_MAX];
	struct store_rbuf r;
	MDB_val k, v;
	int rc;

	k.mv_size = store_key2(key, sizeof(key), upstream, id);
	k.mv_data = key;
	if (k.mv_size == 0)
		return MDB_NOTFOUND;
	if ((rc = mdb_get(txn, st->dbi[STORE_DB_MSGMAP], &k, &v)) != 0)
		return rc;
	r.p = v.mv_data;
	r.len = v.mv_size;
	r.off = 0;
	r.is_bad = false;
	if (store_r_u8(&r) != 1)
		return MDB_CORRUPTED;
	(void)store_r_i64(&r);
	store_r_str(&r, account, STORE_NAME_MAX);
	return r.is_bad ? MDB_CORRUPTED : 0;
}

int
store_msgmap_get(struct store *st, const char *upstream,
    const char *message_id, char account[STORE_NAME_MAX])
{
	char id[STORE_MSGID_MAX], alt[2][STORE_MSGID_MAX];
	size_t nalt = 0, i;
	uint64_t x;
	MDB_txn *txn;
	int rc;

	store_ok(st);
	if (!store_str_ok(upstream, STORE_NAME_MAX) || message_id == NULL)
		return store_fail(st, STORE_E_INVAL, "bad upstream");
	if (store_msgid_normalize(message_id, id, sizeof(id)) != 0)
		return 0;	/* no id can match an empty one */
	/* The SMSC may print in the receipt the other base of the id. */
	if (msgid_parse(id, 10, &x) == 0)
		snprintf(alt[nalt++], sizeof(alt[0]), "%" PRIx64, x);
	if (msgid_parse(id, 16, &x) == 0)
		snprintf(alt[nalt++], sizeof(alt[0]), "%" PRIu64, x);
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	rc = msgmap_get1(st, txn, upstream, id, account);
	for (i = 0; i < nalt && rc == MDB_NOTFOUND; i++)
		if (strcmp(alt[i], id) != 0)
			rc = msgmap_get1(st, txn, upstream, alt[i], account);
	store_read_end(st);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading the receipt map");
	return 1;
}
