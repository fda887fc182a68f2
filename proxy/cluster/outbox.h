/*
 * The fleet's shared outbox (SPEC §8): MOs and receipts for an account
 * that has no receiver bound on the node where they arrived. Each node's
 * cluster shipper moves the local outbox entries of accounts not bound
 * here to PostgreSQL's outbox table, and takes the table's entries of
 * accounts bound here into its local outbox, whose delivery does the
 * rest. An account bound nowhere waits in PostgreSQL, durably. A move is
 * written at its destination before it is deleted at its source: a crash
 * in between delivers an entry twice (SMPP's at-least-once), never loses
 * one.
 */
#ifndef PROXY_CLUSTER_OUTBOX_H
#define PROXY_CLUSTER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "store/store.h"

/* The channel a node NOTIFYs after it moved entries to PostgreSQL. */
#define CLUSTER_OUTBOX_CHANNEL	"stopgate_outbox"

/* How long a receipt no node's map knows is kept before it is dropped
 * (logged), as one node drops a receipt for an unknown message. */
#define CLUSTER_RECEIPT_WAIT_S	120

/*
 * One pass over n accounts (names[i], bound[i]: a receiver is bound
 * here), and over the receipts this node could not route, kept under the
 * local outbox account receipts: each is looked up in the fleet's
 * receipt map and moved to the shared outbox for its account. *moved
 * counts the entries moved. Returns 0, or -1 with the reason in err when
 * PostgreSQL failed (a store failure is logged and the account skipped).
 */
int cluster_outbox_pass(PGconn *pg, struct store *st, const char *node,
    int wake_fd, const char (*names)[STORE_NAME_MAX], const bool *bound,
    size_t n, const char *receipts, size_t *moved, char *err,
    size_t errlen);

#endif /* PROXY_CLUSTER_OUTBOX_H */
