/*
 * Internal to proxy/cluster: the two threads of a node's cluster and
 * what they share.
 *
 * The shipper (ship.c) sends the store's journal to PostgreSQL and runs
 * the shared outbox and the fleet tables' expiry; the follower
 * (follow.c) applies the fleet's events and alone decides whether the
 * node is sure. Each has its own PostgreSQL connection and store
 * handle, so a large or slow shipping batch (an import, a PostgreSQL
 * lock wait) never delays the catch-up query that keeps the node sure,
 * and following never waits behind shipping.
 */
#ifndef PROXY_CLUSTER_CLUSTER_INT_H
#define PROXY_CLUSTER_CLUSTER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proxy/cluster/cluster.h"
#include "proxy/cluster/pg.h"
#include "proxy/policy/backoff.h"
#include "store/journal.h"
#include "store/store.h"

#define CLUSTER_QUERY_TIMEOUT_MS	5000
#define CLUSTER_FOLLOW_BATCH		1000	/* fleet rows per query */

/* A published opt-out: its number and its row of the batch (early.c). */
struct cluster_early {
	const char	*number;	/* in items[i] */
	uint16_t	 i;
};

/* One thread: its connection, store handle and backoff. */
struct cluster_link {
	struct cluster	*c;
	const char	*role;		/* "shipper", "follower": logs */
	const char	*listen;	/* the channel it LISTENs on */
	pthread_t	 thread;
	bool		 is_started;
	PGconn		*pg;
	struct store	*st;		/* owned: a sibling */
	struct backoff	 bo;
	_Atomic bool	 is_connected;
};

struct cluster {
	char		 node[33];
	char		*conninfo;		/* owned */
	unsigned	 max_lag_ms;
	unsigned	 poll_ms;		/* catch-up at least this */
	unsigned	 map_hours;		/* receipt map retention */
	int64_t		 sent_keep_s;		/* longest cap window, 0 */
	int		 wake[2];		/* stop: write to wake[1] */
	_Atomic bool	 is_stopping;
	struct cluster_link ship, follow;
	struct store_cluster_item *items;	/* [follow] FOLLOW_BATCH */
	struct cluster_early *early;		/* FOLLOW_BATCH: early.c */
	_Atomic size_t	 early_n;		/* [early_mu] published */
	pthread_mutex_t	 early_mu;

	/* Figures: written by the threads, read by any. */
	_Atomic int64_t	 caught_up_ms;		/* monotonic; 0 never */
	_Atomic uint64_t applied_seq, fleet_seq, journal_depth;
	_Atomic uint64_t shipped_total, applied_total, reconnects_total;
	_Atomic uint64_t refused_total, outbox_moved_total;
	pthread_mutex_t	 mu;
	char		 reason[256];		/* [mu] last failure */
	char		(*acct_names)[STORE_NAME_MAX];	/* [mu] owned */
	bool		*acct_bound;			/* [mu] owned */
	size_t		 nacct, acct_cap;		/* [mu] */
};

/* Monotonic milliseconds. */
int64_t cluster_mono_ms(void);

/* Remember msg as the last failure (cluster_stats' reason). */
void cluster_reason_set(struct cluster *c, const char *msg);

/* Connect l, check the schema, LISTEN. 0, or -1 (logged, reason set). */
int cluster_link_up(struct cluster_link *l);

/* Close l's connection after a failure (why: logged); a no-op when it
 * has none. */
void cluster_link_drop(struct cluster_link *l, const char *why);

/* Wait ms for the stop pipe. */
void cluster_nap(struct cluster *c, unsigned ms);

/*
 * The remote opt-outs of c->items[0..n) that the store will block once
 * the batch is applied, published for cluster_early_blocks() (follower
 * only; see early.c). Withdraw them a moment after the batch is
 * committed, and before c->items is written again.
 */
void cluster_early_publish(struct cluster *c, size_t n);
void cluster_early_withdraw(struct cluster *c);

/* The threads' bodies (arg: their struct cluster_link). */
void *cluster_ship_main(void *arg);
void *cluster_follow_main(void *arg);

#endif /* PROXY_CLUSTER_CLUSTER_INT_H */
