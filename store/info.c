/*
 * store/info: sizes and counts for `stopgate stats` and /metrics, the
 * lookup tables' growth among them (apart from store.c, which lookup.c
 * builds on).
 */
#include "store/store.h"

#include <string.h>

#include "store/lookup_int.h"
#include "store/store_int.h"

static size_t
store_db_entries(struct store *st, MDB_txn *txn, enum store_db db)
{
	MDB_stat s;

	if (st->is_missing[db] || mdb_stat(txn, st->dbi[db], &s) != 0)
		return 0;
	return s.ms_entries;
}

int
store_info(struct store *st, struct store_info *out)
{
	MDB_envinfo ei;
	MDB_stat es;
	MDB_txn *txn;
	int rc;

	store_ok(st);
	memset(out, 0, sizeof(*out));
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	out->schema_version = STORE_SCHEMA_VERSION;
	if ((rc = mdb_env_info(st->env, &ei)) != 0 ||
	    (rc = mdb_env_stat(st->env, &es)) != 0 ||
	    (rc = store_seq_peek(st, txn, "seq.events",
	    &out->last_event_id)) != 0) {
		store_walk_end(st, txn);
		return store_fail_mdb(st, rc, "reading store info");
	}
	out->map_size = ei.me_mapsize;
	out->map_used = (uint64_t)(ei.me_last_pgno + 1) * es.ms_psize;
	out->state = store_db_entries(st, txn, STORE_DB_STATE);
	out->events = store_db_entries(st, txn, STORE_DB_EVENTS);
	out->audit = store_db_entries(st, txn, STORE_DB_AUDIT);
	out->review_open = store_db_entries(st, txn, STORE_DB_REVOPEN);
	out->outbox = store_db_entries(st, txn, STORE_DB_OUTBOX);
	out->msgmap = store_db_entries(st, txn, STORE_DB_MSGMAP);
	out->lastsent = store_db_entries(st, txn, STORE_DB_LASTSENT);
	out->confirm = store_db_entries(st, txn, STORE_DB_CONFIRM);
	rc = store_lookup_progress(st, txn, &out->lookup_grow_moved,
	    &out->lookup_grow_total);
	store_walk_end(st, txn);
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading store info");
	return 0;
}
