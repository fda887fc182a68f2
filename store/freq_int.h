/*
 * store/freq: the writes made inside other modules' transactions.
 * Internal to store/.
 */
#ifndef STORE_FREQ_INT_H
#define STORE_FREQ_INT_H

#include "store/freq.h"
#include "store/store_int.h"

/*
 * What event ev does to LESS, inside its transaction: a STORE_LESS sets
 * its categories; an opt-in ends LESS for its categories (every one when
 * ev->all). Anything else: nothing. 0 or an LMDB code.
 */
int store_freq_event_txn(struct store *st, MDB_txn *txn,
    const struct store_event *ev);

/*
 * Add n accepted sends (a proxy batch). A bad entry is skipped and
 * counted in *nbad. On a cluster node's store the batch's transaction
 * journals each too (store_journal_sent_txn). 0 or an LMDB code.
 */
int store_freq_put_txn(struct store *st, MDB_txn *txn,
    const struct store_freq_entry *e, size_t n, size_t *nbad);

/*
 * The same for sends made on other nodes (store_cluster_apply): a record
 * store_freq_remote reads, and no journal row. 0 or an LMDB code.
 */
int store_freq_remote_put_txn(struct store *st, MDB_txn *txn,
    const struct store_freq_entry *e, size_t n, size_t *nbad);

#endif /* STORE_FREQ_INT_H */
