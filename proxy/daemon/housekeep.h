/*
 * Store housekeeping off the event loop: retention (store_expire) runs on
 * a thread of its own with its own store handle. Expiry visits every
 * record of the tables it trims (the last-sent table has one per number
 * ever sent to), in write transactions of a few thousand records: on the
 * loop that cost every department seconds once an hour at 10 M numbers;
 * here a durable write (an opt-out) waits for one such transaction at
 * most.
 *
 * One thread (the event loop) calls these; the housekeeping thread only
 * touches its own copy of the settings and its store handle.
 */
#ifndef PROXY_DAEMON_HOUSEKEEP_H
#define PROXY_DAEMON_HOUSEKEEP_H

#include "store/store.h"

struct housekeep;

/* A housekeeper for st (a sibling handle is opened). Returns NULL with a
 * reason in err. */
struct housekeep *housekeep_new(struct store *st, char *err, size_t errlen);

/*
 * Start one retention run with r (copied). A run still going is left to
 * finish and this one skipped (logged). Returns 0 when started, -1 not.
 */
int housekeep_expire(struct housekeep *hk, const struct store_retention *r);

/* Waits for a run in progress, then frees. NULL is a no-op. */
void housekeep_free(struct housekeep *hk);

#endif /* PROXY_DAEMON_HOUSEKEEP_H */
