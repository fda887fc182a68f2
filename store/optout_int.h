/*
 * store/optout: opt-out / opt-in events. Internal to store/.
 */
#ifndef STORE_OPTOUT_INT_H
#define STORE_OPTOUT_INT_H

#include "store/store_int.h"

/*
 * Record one event inside txn and apply it to the state (used by apply,
 * import, review resolve). 0, an LMDB code or STORE_RC_SET.
 */
int store_event_apply_txn(struct store *st, MDB_txn *txn,
    struct store_event *ev);
/* Validate an event from a caller; 0 or -1 with the error set. */
int store_event_check(struct store *st, const struct store_event *ev);

#endif /* STORE_OPTOUT_INT_H */
