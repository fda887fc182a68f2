/*
 * store/daily: the hooks the write paths call inside their transactions
 * (store/daily.h says what is counted). Internal to store/.
 */
#ifndef STORE_DAILY_INT_H
#define STORE_DAILY_INT_H

#include "store/daily.h"
#include "store/store_int.h"

/*
 * Count ev (its id and ev->last already set) in txn. 0 or an LMDB code.
 */
int store_daily_event_txn(struct store *st, MDB_txn *txn,
    const struct store_event *ev);

/*
 * Count what batch b writes in txn: its rejected sends and the messages
 * its sent-log and last-sent entries say were forwarded (records with a
 * bad field, which the batch drops, are not counted). 0 or an LMDB code.
 */
int store_daily_batch_txn(struct store *st, MDB_txn *txn,
    const struct store_batch *b);

/*
 * In store_open()'s first transaction, on a writable handle: a store
 * whose counters were never made (written by an older stopgate) gets
 * them from its history (see store/daily.c), once. Returns 0, or -1 with
 * st's error set.
 */
int store_daily_open(struct store *st, MDB_txn *txn);

#endif /* STORE_DAILY_INT_H */
