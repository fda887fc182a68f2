/*
 * store/sentlog: what only store/ (and its tests) calls of the sent log
 * (store/sentlog.h).
 */
#ifndef STORE_SENTLOG_INT_H
#define STORE_SENTLOG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "store/sentlog.h"
#include "store/store_int.h"

/*
 * Is e well-formed: number non-empty, every string field NUL-terminated
 * within its array?
 */
bool store_lastsent_entry_ok(const struct store_lastsent_entry *e);

/*
 * Validate n entries (v borrowed): seq > 0, number non-empty, every
 * string field NUL-terminated within its array. Returns 0, or -1 with
 * STORE_E_INVAL set.
 */
int store_sentlog_check(struct store *st, const struct store_sentlog_entry *v,
    size_t n);

/*
 * Append n entries (v borrowed) in one lazy write transaction. Nothing is
 * written if any entry fails store_sentlog_check(). Seqs normally
 * increase (a cheap append); one not above the last key is still stored,
 * and an entry with a seq already in the log replaces it. Returns 0 or -1.
 */
int store_sentlog_append(struct store *st, const struct store_sentlog_entry *v,
    size_t n);

/*
 * The same inside the caller's write transaction txn (for a combined
 * batch write). The caller validates with store_sentlog_check() first;
 * this only refuses what it cannot encode. Returns 0, an LMDB code, or
 * STORE_RC_SET (error set), like the other body helpers of store/.
 */
int store_sentlog_append_txn(struct store *st, MDB_txn *txn,
    const struct store_sentlog_entry *v, size_t n);

#endif /* STORE_SENTLOG_INT_H */
