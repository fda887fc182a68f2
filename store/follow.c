/*
 * store/follow: the fleet stream applied to this store, in the fleet's
 * order (store_cluster_apply, store/journal.h), and the pending marks
 * that keep local events after the remote ones the fleet ordered first.
 */
#include "store/journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/audit_int.h"
#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/freq_int.h"
#include "store/journal_int.h"
#include "store/lookup_int.h"
#include "store/optout_int.h"
#include "store/queue_int.h"

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
			/* LESS lives in the freq table, not the state. */
			if ((rc = store_freq_event_txn(st, txn, &ev)) != 0 ||
			    (ev.action != STORE_LESS &&
			    (rc = store_lookup_apply_txn(st, txn, &ev)) != 0))
				break;
		} else if (rc != MDB_NOTFOUND)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * The local id of the fleet item (node, origin_id): 0 and *local set, or
 * MDB_NOTFOUND. An item first queued here is its own origin.
 */
static int
revmap_local(struct store *st, MDB_txn *txn, const char *node,
    uint64_t origin_id, uint64_t *local)
{
	char me[STORE_NODE_MAX];
	uint8_t key[STORE_KEY_MAX];
	MDB_val k, v;
	int rc;

	if ((rc = store_journal_node_txn(st, txn, me)) != 0)
		return rc;
	if (strcmp(me, node) == 0) {
		*local = origin_id;
		return 0;
	}
	if ((k.mv_size = store_revmap_okey(key, sizeof(key), node,
	    origin_id)) == 0)
		return MDB_BAD_VALSIZE;
	k.mv_data = key;
	if ((rc = mdb_get(txn, st->dbi[STORE_DB_REVMAP], &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	*local = store_be64_get(v.mv_data);
	return 0;
}

/* A review item queued on another node: queued here once, mapped. */
static int
review_add_remote(struct store *st, MDB_txn *txn,
    struct store_cluster_item *it)
{
	uint8_t okey[STORE_KEY_MAX], lkey[16], lval[STORE_NODE_MAX + 8];
	uint64_t local;
	MDB_val k, v;
	size_t n;
	int rc;

	rc = revmap_local(st, txn, it->origin_node, it->origin_id, &local);
	if (rc != MDB_NOTFOUND)
		return rc;	/* known already, or an error */
	it->review.status = STORE_REVIEW_OPEN;
	it->review.resolved_time = 0;
	it->review.event_id = 0;
	if ((rc = store_review_put_txn(st, txn, &it->review, true)) != 0)
		return rc;
	k.mv_size = store_revmap_okey(okey, sizeof(okey), it->origin_node,
	    it->origin_id);
	k.mv_data = okey;
	store_be64_put(lval, it->review.id);
	v.mv_size = 8;
	v.mv_data = lval;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_REVMAP], &k, &v, 0)) != 0)
		return rc;
	n = strlen(it->origin_node) + 1;
	memcpy(lval, it->origin_node, n);
	store_be64_put(lval + n, it->origin_id);
	k.mv_size = store_revmap_lkey(lkey, it->review.id);
	k.mv_data = lkey;
	v.mv_size = n + 8;
	v.mv_data = lval;
	return mdb_put(txn, st->dbi[STORE_DB_REVMAP], &k, &v, 0);
}

/* A resolution from another node: the first in fleet order wins. */
static int
review_done_remote(struct store *st, MDB_txn *txn,
    const struct store_cluster_item *it)
{
	struct store_review r;
	uint64_t local;
	int rc;

	rc = revmap_local(st, txn, it->origin_node, it->origin_id, &local);
	if (rc == 0)
		rc = store_review_read_txn(st, txn, local, &r);
	if (rc == MDB_NOTFOUND)
		return 0;	/* expired here, or never seen */
	if (rc != 0 || r.status != STORE_REVIEW_OPEN)
		return rc;
	r.status = it->review.status;
	r.resolved_time = it->review.resolved_time;
	store_copy(r.actor, sizeof(r.actor), it->review.actor);
	store_copy(r.note, sizeof(r.note), it->review.note);
	r.event_id = 0;		/* its opt-out is an event of its own */
	return store_review_put_txn(st, txn, &r, false);
}

/* Apply one remote item. 0 or an LMDB code. */
static int
item_apply(struct store *st, MDB_txn *txn, struct store_cluster_item *it)
{
	int rc;

	switch (it->kind) {
	case STORE_JOURNAL_AUDIT:
		return it->is_own ? 0 : store_audit_put_txn(st, txn,
		    &it->audit, 1);
	case STORE_JOURNAL_REVIEW:
		return it->is_own ? 0 : review_add_remote(st, txn, it);
	case STORE_JOURNAL_REVIEW_DONE:
		return it->is_own ? 0 : review_done_remote(st, txn, it);
	case STORE_JOURNAL_SENT:
		return 0;	/* in one record: apply_sends */
	default:
		break;
	}
	if (it->is_own)
		return pending_del(st, txn, it->ev.number, it->own_id);
	if ((rc = store_event_apply_txn(st, txn, &it->ev)) != 0)
		return rc;
	return pending_reapply(st, txn, it->ev.number);
}

struct apply_arg {
	struct store_cluster_item *items;
	size_t		 n;
	uint64_t	 seq;
};

/*
 * The remote sends of the batch as one record of the send log: one
 * append per batch, however many sends the fleet shipped. 0 or an LMDB
 * code.
 */
static int
apply_sends(struct store *st, MDB_txn *txn, const struct apply_arg *a)
{
	struct store_freq_entry *e;
	size_t i, n = 0, nbad = 0;
	int rc;

	for (i = 0; i < a->n; i++)
		n += a->items[i].kind == STORE_JOURNAL_SENT &&
		    !a->items[i].is_own;
	if (n == 0)
		return 0;
	if ((e = calloc(n, sizeof(*e))) == NULL)
		return ENOMEM;
	n = 0;
	for (i = 0; i < a->n; i++)
		if (a->items[i].kind == STORE_JOURNAL_SENT &&
		    !a->items[i].is_own)
			e[n++] = a->items[i].sent;
	rc = store_freq_remote_put_txn(st, txn, e, n, &nbad);
	free(e);
	return rc;
}

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
		rc = item_apply(st, txn, &a->items[i]);
	}
	if (rc == 0)
		rc = apply_sends(st, txn, a);
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
	for (i = 0; i < n; i++) {
		const struct store_cluster_item *it = &items[i];

		if (it->is_own)
			continue;
		if ((it->kind == STORE_JOURNAL_EVENT || it->kind == 0) &&
		    store_event_check(st, &it->ev) != 0)
			return -1;
		if ((it->kind == STORE_JOURNAL_REVIEW ||
		    it->kind == STORE_JOURNAL_REVIEW_DONE) &&
		    (!store_field_ok(it->origin_node, sizeof(it->origin_node),
		    false) || !store_field_ok(it->review.number,
		    sizeof(it->review.number), false)))
			return store_fail(st, STORE_E_INVAL,
			    "fleet review item: bad origin or number");
	}
	return store_write(st, cluster_apply_body, &a, true,
	    "applying fleet events");
}
