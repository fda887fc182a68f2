/*
 * store/queue: what only store/ and its tests call of the review queue,
 * the outbox and the confirmation loop guard.
 */
#ifndef STORE_QUEUE_INT_H
#define STORE_QUEUE_INT_H

#include <stdbool.h>
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

/*
 * Write review item r in txn (is_new: assign its id first), open or
 * resolved, journaled as store/journal.c says; and read one (0,
 * MDB_NOTFOUND or an LMDB code). For the fleet's items (store/follow.c).
 */
int store_review_put_txn(struct store *st, MDB_txn *txn,
    struct store_review *r, bool is_new);
int store_review_read_txn(struct store *st, MDB_txn *txn, uint64_t id,
    struct store_review *out);

#endif /* STORE_QUEUE_INT_H */
