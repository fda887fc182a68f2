/*
 * store/journal: the hook the event writers call. Internal to store/.
 */
#ifndef STORE_JOURNAL_INT_H
#define STORE_JOURNAL_INT_H

#include "store/journal.h"
#include "store/store_int.h"

/* Meta key of the fleet sequence applied (be64). */
#define STORE_KEY_APPLIED	"cluster.applied"

/*
 * In the transaction that records event ev (its id set): when the store
 * is enabled for a node and ev is local (not applied from the fleet by
 * store_cluster_apply), add its journal row and its pending mark. 0 or
 * an LMDB code.
 */
int store_journal_event_txn(struct store *st, MDB_txn *txn,
    const struct store_event *ev);

/*
 * Whether records written in txn are journaled: the store is enabled
 * for a node and the write is local. 0 or an LMDB code.
 */
int store_journal_is_on(struct store *st, MDB_txn *txn, bool *is_on);

/* The journal row of audit record a (its id set), when is_on. 0 or an
 * LMDB code. */
int store_journal_audit_txn(struct store *st, MDB_txn *txn,
    const struct store_audit *a);

#endif /* STORE_JOURNAL_INT_H */
