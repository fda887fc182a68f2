/*
 * store/expire: retention. Each database is scanned in bounded write
 * transactions (STORE_EXPIRE_BATCH records visited per commit), resuming
 * from the next key, so a large backlog neither overflows a transaction
 * nor holds the write lock (and the proxy's opt-out commits) for long.
 *
 * Current opt-out state is never expired, and an event that a state entry
 * refers to is kept whatever its age: the answer to "why is this number
 * blocked" must stay.
 */
#include "store/store.h"

#include <string.h>

#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/lookup_int.h"
#include "store/queue_int.h"

#define STORE_EXPIRE_BATCH	5000
#define DAY			INT64_C(86400)
#define HOUR			INT64_C(3600)

enum scan_verdict {
	SCAN_KEEP = 0,
	SCAN_DELETE,
	SCAN_STOP,	/* time-ordered database: nothing older follows */
};

/*
 * Decide for one record; may delete index entries in other databases.
 * Returns 0 with *verdict set, or an LMDB code.
 */
typedef int (*scan_pred_fn)(struct store *st, MDB_txn *txn,
    const MDB_val *k, const MDB_val *v, int64_t cutoff,
    enum scan_verdict *verdict);

struct scan {
	enum store_db	 db;
	scan_pred_fn	 pred;
	int64_t		 cutoff;
	uint8_t		 resume[STORE_KEY_MAX];
	size_t		 rlen;		/* 0: from the first key */
	/* Outputs of a batch, adopted by scan_run once it committed (a
	 * body may run twice when the map grows). */
	uint8_t		 next[STORE_KEY_MAX];
	size_t		 nlen;
	bool		 is_done;
	size_t		 deleted;
};

static int
scan_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct scan *sc = arg;
	enum scan_verdict verdict;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t visited = 0, deleted = 0;
	int rc;

	rc = store_cursor_seek(st, txn, sc->db, sc->resume, sc->rlen, &cur, &k,
	    &v);
	if (cur == NULL)
		return rc;
	while (rc == 0 && visited < STORE_EXPIRE_BATCH) {
		visited++;
		if ((rc = sc->pred(st, txn, &k, &v, sc->cutoff,
		    &verdict)) != 0)
			break;
		if (verdict == SCAN_STOP) {
			rc = MDB_NOTFOUND;
			break;
		}
		if (verdict == SCAN_DELETE) {
			/* MDB_NEXT after a delete yields the successor. */
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			deleted++;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == 0) {
		/* Batch full: resume at the next unvisited key. */
		if (k.mv_size > sizeof(sc->resume)) {
			rc = MDB_BAD_VALSIZE;
		} else {
			memcpy(sc->next, k.mv_data, k.mv_size);
			sc->nlen = k.mv_size;
			sc->is_done = false;
		}
	} else if (rc == MDB_NOTFOUND) {
		sc->is_done = true;
		rc = 0;
	}
	mdb_cursor_close(cur);
	sc->deleted = deleted;
	return rc;
}

static int
scan_run(struct store *st, enum store_db db, scan_pred_fn pred,
    int64_t cutoff, size_t *count)
{
	struct scan sc;

	memset(&sc, 0, sizeof(sc));
	sc.db = db;
	sc.pred = pred;
	sc.cutoff = cutoff;
	do {
		if (store_write(st, scan_body, &sc, false, "expiring") != 0)
			return -1;
		*count += sc.deleted;
		memcpy(sc.resume, sc.next, sc.nlen);
		sc.rlen = sc.nlen;
	} while (!sc.is_done);
	return 0;
}

/*
 * Delete the index entry "name \0 suffix" (slen bytes of suffix) of db:
 * 0, MDB_NOTFOUND or an LMDB code.
 */
static int
index_del(struct store *st, MDB_txn *txn, enum store_db db, const char *name,
    const void *suffix, size_t slen)
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val ik;
	size_t len;

	len = store_key2(key, sizeof(key) - slen, name, NULL);
	memcpy(key + len, suffix, slen);
	ik.mv_size = len + slen;
	ik.mv_data = key;
	return mdb_del(txn, st->dbi[db], &ik, NULL);
}

static int
pred_event(struct store *st, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, int64_t cutoff, enum scan_verdict *verdict)
{
	struct store_event ev;
	bool is_ref;
	int rc;

	*verdict = SCAN_KEEP;
	if (k->mv_size != 8 ||
	    store_event_decode(v, store_be64_get(k->mv_data), &ev) != 0)
		return 0;	/* keep what we cannot read */
	if (ev.time >= cutoff)
		return 0;
	if ((rc = store_lookup_refers(st, txn, ev.number, ev.id, &is_ref)))
		return rc;
	if (is_ref)
		return 0;
	rc = index_del(st, txn, STORE_DB_EVNUM, ev.number, k->mv_data, 8);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	*verdict = SCAN_DELETE;
	return 0;
}

static int
pred_audit(struct store *st, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, int64_t cutoff, enum scan_verdict *verdict)
{
	struct store_audit a;
	MDB_val ik;
	int rc;

	*verdict = SCAN_KEEP;
	if (k->mv_size != 16)
		return 0;
	if (store_time_get(k->mv_data) >= cutoff) {
		*verdict = SCAN_STOP;
		return 0;
	}
	rc = MDB_NOTFOUND;
	if (store_audit_decode(v, &a) == 0) {
		/* Not in the account and category indexes yet: fine. */
		if (((rc = index_del(st, txn, STORE_DB_AUDITACC, a.account,
		    k->mv_data, 16)) != 0 && rc != MDB_NOTFOUND) ||
		    ((rc = index_del(st, txn, STORE_DB_AUDITCAT, a.category,
		    k->mv_data, 16)) != 0 && rc != MDB_NOTFOUND))
			return rc;
		rc = index_del(st, txn, STORE_DB_AUDITNUM, a.destination,
		    k->mv_data, 16);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	/*
	 * Not indexed by number (or unreadable): it may still wait in the
	 * index backlog (store_audit_index), keyed by its id. Dropping it
	 * with the record, in one transaction, the backlog never names a
	 * record that is gone, and the indexer need not look.
	 */
	if (rc == MDB_NOTFOUND) {
		ik.mv_size = 8;
		ik.mv_data = (uint8_t *)k->mv_data + 8;
		rc = mdb_del(txn, st->dbi[STORE_DB_AUDITNEW], &ik, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	*verdict = SCAN_DELETE;
	return 0;
}

static int
pred_review(struct store *st, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, int64_t cutoff, enum scan_verdict *verdict)
{
	struct store_review r;

	(void)st;
	(void)txn;
	(void)k;
	*verdict = SCAN_KEEP;
	if (store_review_decode(v, &r) != 0)
		return 0;
	/* Open items wait for a person, however old. */
	if (r.status != STORE_REVIEW_OPEN && r.resolved_time < cutoff)
		*verdict = SCAN_DELETE;
	return 0;
}

static int
pred_msgtime(struct store *st, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, int64_t cutoff, enum scan_verdict *verdict)
{
	MDB_val pk, pv;
	int64_t t;
	int rc;

	(void)v;
	*verdict = SCAN_KEEP;
	if (k->mv_size < 8)
		return 0;
	t = store_time_get(k->mv_data);
	if (t >= cutoff) {
		*verdict = SCAN_STOP;
		return 0;
	}
	pk.mv_size = k->mv_size - 8;
	pk.mv_data = (uint8_t *)k->mv_data + 8;
	rc = mdb_get(txn, st->dbi[STORE_DB_MSGMAP], &pk, &pv);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	/* A re-put entry has a newer time and its own index key. */
	if (rc == 0 && pv.mv_size >= 9 &&
	    (int64_t)store_be64_get((uint8_t *)pv.mv_data + 1) == t) {
		if ((rc = mdb_del(txn, st->dbi[STORE_DB_MSGMAP], &pk, NULL)))
			return rc;
	}
	*verdict = SCAN_DELETE;
	return 0;
}

static int
pred_outbox(struct store *st, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, int64_t cutoff, enum scan_verdict *verdict)
{
	const char *key = k->mv_data, *nul;
	char account[STORE_NAME_MAX];
	size_t alen;
	int rc;

	*verdict = SCAN_KEEP;
	if (v->mv_size < 8 || store_time_get(v->mv_data) >= cutoff)
		return 0;
	if ((nul = memchr(key, '\0', k->mv_size)) == NULL ||
	    (alen = (size_t)(nul - key)) >= sizeof(account))
		return 0;
	memcpy(account, key, alen);
	account[alen] = '\0';
	if ((rc = store_outbox_uncount(st, txn, account)) != 0)
		return rc;
	*verdict = SCAN_DELETE;
	return 0;
}

static int
pred_confirm(struct store *st, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, int64_t cutoff, enum scan_verdict *verdict)
{
	(void)st;
	(void)txn;
	(void)k;
	*verdict = v->mv_size == 8 && store_time_get(v->mv_data) < cutoff ?
	    SCAN_DELETE : SCAN_KEEP;
	return 0;
}

static int
pred_lastsent(struct store *st, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, int64_t cutoff, enum scan_verdict *verdict)
{
	struct store_lastsent l;

	(void)st;
	(void)txn;
	(void)k;
	*verdict = store_lastsent_decode(v, &l) == 0 && l.time < cutoff ?
	    SCAN_DELETE : SCAN_KEEP;
	return 0;
}

static int64_t
cutoff_of(int64_t now, unsigned n, unsigned dflt, int64_t unit)
{
	return now - (int64_t)(n != 0 ? n : dflt) * unit;
}

int
store_expire(struct store *st, int64_t now, const struct store_retention *r,
    struct store_expired *counts)
{
	static const struct store_retention dflt;
	struct store_expired c;

	store_ok(st);
	memset(&c, 0, sizeof(c));
	if (r == NULL)
		r = &dflt;
	if (scan_run(st, STORE_DB_EVENTS, pred_event,
	    cutoff_of(now, r->events_days, 1461, DAY), &c.events) != 0 ||
	    scan_run(st, STORE_DB_AUDIT, pred_audit,
	    cutoff_of(now, r->audit_days, 1461, DAY), &c.audit) != 0 ||
	    scan_run(st, STORE_DB_REVIEW, pred_review,
	    cutoff_of(now, r->review_days, 1461, DAY), &c.review) != 0 ||
	    scan_run(st, STORE_DB_MSGTIME, pred_msgtime,
	    cutoff_of(now, r->msgmap_hours, 72, HOUR), &c.msgmap) != 0 ||
	    scan_run(st, STORE_DB_OUTBOX, pred_outbox,
	    cutoff_of(now, r->outbox_hours, 48, HOUR), &c.outbox) != 0 ||
	    scan_run(st, STORE_DB_CONFIRM, pred_confirm,
	    cutoff_of(now, r->confirm_hours, 168, HOUR), &c.confirm) != 0 ||
	    scan_run(st, STORE_DB_LASTSENT, pred_lastsent,
	    cutoff_of(now, r->lastsent_days, 1461, DAY), &c.lastsent) != 0) {
		if (counts != NULL)
			*counts = c;
		return -1;
	}
	if (counts != NULL)
		*counts = c;
	return 0;
}
