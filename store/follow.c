/*
 * store/follow: the fleet stream applied to this store, in the fleet's
 * order (store_cluster_apply, store/journal.h), and the pending marks
 * that keep local events after the remote ones the fleet ordered first.
 */
#include "store/journal.h"

#include <string.h>

#include "store/audit_int.h"
#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/journal_int.h"
#include "store/lookup_int.h"
#include "store/optout_int.h"

/* ------------------------------------------------------------------ */
/* Following.                                                          */

/* Drop the pending mark of own event id of number. */
static int
pending_del(struct store *st, MDB_txn *txn, const char *number, uint64_t id)
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val k;
	size_t len;
	int rc;

	if ((len = store_key2(key, sizeof(key) - 8, number, NULL)) == 0)
		return MDB_BAD_VALSIZE;
	store_be64_put(key + len, id);
	k.mv_size = len + 8;
	k.mv_data = key;
	rc = mdb_del(txn, st->dbi[STORE_DB_PENDING], &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * The local events of number that the fleet has not ordered yet come
 * after any remote event applied now: apply them again, oldest first.
 */
static int
pending_reapply(struct store *st, MDB_txn *txn, const char *number)
{
	uint8_t prefix[STORE_KEY_MAX], idk[8];
	struct store_event ev;
	MDB_cursor *cur;
	MDB_val k, v, ek, evv;
	size_t plen;
	int rc;

	if ((plen = store_key2(prefix, sizeof(prefix), number, NULL)) == 0)
		return MDB_BAD_VALSIZE;
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_PENDING], &cur)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = prefix;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && store_key_has_prefix(&k, prefix, plen)) {
		if (k.mv_size != plen + 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(idk, (const uint8_t *)k.mv_data + plen, 8);
		ek.mv_size = 8;
		ek.mv_data = idk;
		rc = mdb_get(txn, st->dbi[STORE_DB_EVENTS], &ek, &evv);
		if (rc == 0) {
			if (store_event_decode(&evv, store_be64_get(idk),
			    &ev) != 0) {
				rc = MDB_CORRUPTED;
				break;
			}
			if ((rc = store_lookup_apply_txn(st, txn, &ev)) != 0)
				break;
		} else if (rc != MDB_NOTFOUND)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct apply_arg {
	struct store_cluster_item *items;
	size_t		 n;
	uint64_t	 seq;
};

static int
cluster_apply_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct apply_arg *a = arg;
	MDB_val k = { sizeof(STORE_KEY_APPLIED) - 1,
	    (void *)(uintptr_t)STORE_KEY_APPLIED }, v;
	uint8_t buf[8];
	size_t i;
	int rc = 0;

	st->is_remote_apply = true;
	for (i = 0; i < a->n && rc == 0; i++) {
		struct store_cluster_item *it = &a->items[i];

		if (it->kind == STORE_JOURNAL_AUDIT)
			rc = it->is_own ? 0 : store_audit_put_txn(st, txn,
			    &it->audit, 1);
		else if (it->is_own)
			rc = pending_del(st, txn, it->ev.number, it->own_id);
		else if ((rc = store_event_apply_txn(st, txn, &it->ev)) == 0)
			rc = pending_reapply(st, txn, it->ev.number);
	}
	st->is_remote_apply = false;
	if (rc != 0)
		return rc;
	store_be64_put(buf, a->seq);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	return mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0);
}

int
store_cluster_apply(struct store *st, struct store_cluster_item *items,
    size_t n, uint64_t seq)
{
	struct apply_arg a = { items, n, seq };
	size_t i;

	store_ok(st);
	for (i = 0; i < n; i++)
		if (!items[i].is_own && items[i].kind != STORE_JOURNAL_AUDIT &&
		    store_event_check(st, &items[i].ev) != 0)
			return -1;
	return store_write(st, cluster_apply_body, &a, true,
	    "applying fleet events");
}
