/*
 * store/audit: what only store/ and its tests call of the audit log, the
 * attribution table and the receipt map (the proxy writes them through
 * store_batch_put()).
 */
#ifndef STORE_AUDIT_INT_H
#define STORE_AUDIT_INT_H

#include <stddef.h>

#include "store/store_int.h"

/*
 * In store_open()'s first transaction, on a writable handle: make sure
 * the account and category indexes exist and, for records written
 * without them (an older stopgate), that store_audit_index() will index
 * them. Returns 0, or -1 with st's error set.
 */
int store_audit_open(struct store *st, MDB_txn *txn);

/*
 * Append n records in one fsync'd transaction; sets each recs[i].id.
 * Returns 0 or -1 (nothing written).
 */
int store_audit_add(struct store *st, struct store_audit *recs, size_t n);

/*
 * The body of store_audit_add() inside txn (ids set; a record with a
 * bad field is skipped, id 0): for the fleet's records
 * (store/follow.c). 0, an LMDB code or STORE_RC_SET.
 */
int store_audit_put_txn(struct store *st, MDB_txn *txn,
    struct store_audit *recs, size_t n);

/*
 * Normalise a message_id for matching: surrounding spaces dropped, lower
 * case, leading zeros dropped ("0" stays). Writes at most cap bytes with
 * NUL. Returns 0 or -1 (empty or too long).
 */
int store_msgid_normalize(const char *in, char *out, size_t cap);

/*
 * Record n entries in one transaction (message_id normalised by the
 * store; same MDB_NOMETASYNC durability as store_lastsent_put). Returns
 * 0 or -1.
 */
int store_msgmap_put(struct store *st, const struct store_msgmap *entries,
    size_t n);

#endif /* STORE_AUDIT_INT_H */
