/*
 * store/queue: what only store/ and its tests call of the review queue,
 * the outbox and the confirmation loop guard.
 */
#ifndef STORE_QUEUE_INT_H
#define STORE_QUEUE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_int.h"

/*
 * Entries of account with id > after_id, in order, at most max (0 = all);
 * pdu is a view valid during the call. Returns per the walk convention.
 */
int store_outbox_walk(struct store *st, const char *account,
    uint64_t after_id, size_t max, store_outbox_fn cb, void *arg);

/*
 * In txn: one entry of account's outbox is gone (delivered or expired),
 * count it out. A missing or damaged counter is left as it is. 0 or an
 * LMDB code.
 */
int store_outbox_uncount(struct store *st, MDB_txn *txn, const char *account);

#endif /* STORE_QUEUE_INT_H */
