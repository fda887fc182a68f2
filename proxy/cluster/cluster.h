/*
 * The cluster follower and shipper (SPEC §8): two threads per node, each
 * with its own store handle (store_sibling) and its own PostgreSQL
 * connection, so no PostgreSQL round trip ever runs on the SMPP loop.
 *
 * The shipper sends the store's journal (store/journal.h) to PostgreSQL
 * in order and in batches (ship_events: idempotent by node and local
 * id). The follower applies the other nodes' events into the store in
 * the fleet's order (a catch-up query by sequence, woken by
 * LISTEN/NOTIFY and run at least every poll period, so a missed
 * notification costs latency only); shipping, however slow, never
 * delays it. Both reconnect with capped exponential backoff.
 *
 * "Sure" means: a catch-up query that found nothing more was sent less
 * than max_lag_ms ago. An unsure node refuses sends in categories not in
 * fail_open with ESME_RTHROTTLED (cluster_refuses), answers /healthz
 * with 503, and recovers on its own once it has caught up again.
 */
#ifndef PROXY_CLUSTER_CLUSTER_H
#define PROXY_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The local outbox account under which a node keeps a receipt it cannot
 * route (no local receipt map entry): the cluster shipper looks its
 * message id up in the fleet's receipt map and moves it to the shared
 * outbox for the account found. No configured account can be named so.
 */
#define CLUSTER_RECEIPTS_ACCOUNT	"@fleet-receipts"

struct cluster;
struct config;
struct config_cluster;
struct store;

/*
 * Enable st's journal for cfg's cluster node and start the thread on a
 * sibling of st (st itself stays the caller's). What it needs of cfg
 * (the cluster section, the receipt map's retention) is copied. Returns
 * the cluster (free with cluster_stop()) or NULL with the reason in err.
 */
struct cluster *cluster_start(struct store *st, const struct config *cfg,
    char *err, size_t errlen);

/* Stop the thread (bounded: every wait has a deadline) and free c;
 * accepts NULL. */
void cluster_stop(struct cluster *c);

/* Whether c can show it has every fleet event (see above). Any thread;
 * a couple of atomic loads. */
bool cluster_is_sure(const struct cluster *c);

/*
 * Whether a send in category index cat of cfg must be refused at now_ms
 * (CLOCK_MONOTONIC milliseconds: the caller's clock of its batch, so a
 * send costs no clock read) with ESME_RTHROTTLED: the node is unsure
 * and cat is not fail_open. False when c is NULL (no cluster:
 * configured).
 */
bool cluster_refuses(struct cluster *c, const struct config *cfg,
    size_t cat, int64_t now_ms);

/*
 * Whether number is opted out of category by a fleet event this node
 * has read from PostgreSQL but not yet committed to its store (from
 * then on the store answers). Any thread; one atomic load when nothing
 * is waiting, which is almost always. False when c is NULL.
 */
bool cluster_early_blocks(struct cluster *c, const char *number,
    const char *category);

/*
 * The config's accounts (names, borrowed for the call) and whether a
 * receiver of each is bound on this node (on the daemon's loop, copied):
 * what the shared outbox (proxy/cluster/outbox.h) moves where.
 */
void cluster_accounts_set(struct cluster *c, const char *const *names,
    const bool *bound, size_t n);

/* What /healthz and /metrics show. */
struct cluster_stats {
	char		 node[33];
	bool		 is_connected;
	bool		 is_sure;
	double		 lag_s;		/* since the last time caught up */
	uint64_t	 applied_seq;	/* fleet position applied */
	uint64_t	 fleet_seq;	/* newest fleet seq heard of */
	uint64_t	 journal_depth;	/* rows not shipped yet */
	uint64_t	 shipped_total;	/* rows PostgreSQL took */
	uint64_t	 applied_total;	/* remote events applied */
	uint64_t	 reconnects_total;
	uint64_t	 refused_total;	/* sends refused while unsure */
	uint64_t	 outbox_moved_total;	/* shared outbox moves */
	char		 reason[320];	/* why unsure ("" when sure) */
};

/* Copy c's figures (any thread). */
void cluster_stats(const struct cluster *c, struct cluster_stats *out);

/*
 * `stopgate status` lines for a node: its applied position and journal
 * from st, the fleet's newest sequence and the lag from PostgreSQL
 * (conninfo; NULL or unreachable: said so). Returns 0, or -1 when st
 * could not be read.
 */
int cluster_status_print(FILE *out, struct store *st, const char *node,
    const char *conninfo);

#endif /* PROXY_CLUSTER_CLUSTER_H */
