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

/* The node recorded in txn: 0 (node filled, "" when none) or an LMDB
 * code. */
int store_journal_node_txn(struct store *st, MDB_txn *txn,
    char node[STORE_NODE_MAX]);

/*
 * Whether records written in txn are journaled: the store is enabled
 * for a node and the write is local. 0 or an LMDB code.
 */
int store_journal_is_on(struct store *st, MDB_txn *txn, bool *is_on);

/* The journal row of audit record a (its id set), when is_on. 0 or an
 * LMDB code. */
int store_journal_audit_txn(struct store *st, MDB_txn *txn,
    const struct store_audit *a);

/* The journal row of receipt map entry m, its message_id normalised as
 * id, when is_on. 0 or an LMDB code. */
int store_journal_msgmap_txn(struct store *st, MDB_txn *txn,
    const struct store_msgmap *m, const char *id);

/*
 * In the transaction of store_freq_put_txn(e, n): a journal row (kind
 * SENT) per valid entry, when is_on (a local write on a node's store):
 * the fleet counts the sends of every node. 0 or an LMDB code.
 */
int store_journal_sent_txn(struct store *st, MDB_txn *txn,
    const struct store_freq_entry *e, size_t n);

/* The journal row of review item r (queued, or resolved), unless the
 * write is a fleet one. 0 or an LMDB code. */
int store_journal_review_txn(struct store *st, MDB_txn *txn,
    const struct store_review *r);

/*
 * Review map keys: 'L' local id (9 bytes) and 'O' node \0 origin id.
 * Return the key length (0: node too long).
 */
size_t store_revmap_lkey(uint8_t *key, uint64_t local_id);
size_t store_revmap_okey(uint8_t *key, size_t cap, const char *node,
    uint64_t origin_id);

#endif /* STORE_JOURNAL_INT_H */
