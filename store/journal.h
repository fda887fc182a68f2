/*
 * The cluster journal (SPEC §8): what a node of a fleet must ship to
 * PostgreSQL, and how the events of the other nodes come into this store.
 *
 * Once a store is enabled for a node (store_journal_enable()), every
 * opt-out / opt-in event committed to it, by any process (the proxy, the
 * CLI, the admin API), also gets a journal row in the SAME transaction:
 * the journal is exactly as durable as the event. The shipper reads rows
 * oldest first (store_journal_peek()) and forgets them once PostgreSQL
 * has them (store_journal_done()). A store never enabled journals
 * nothing and behaves as before.
 *
 * Each local event also leaves a "pending" mark on its number until the
 * follower sees it come back in the fleet's order: a remote event applied
 * meanwhile comes before it in that order, so the pending local events of
 * the number are applied again after it (store_cluster_apply()), and the
 * local replica ends in the state the fleet's order gives.
 *
 * Conventions as store/store.h.
 */
#ifndef STORE_JOURNAL_H
#define STORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/freq.h"
#include "store/store.h"

#define STORE_NODE_MAX		33	/* [a-z0-9-]{1,32} and NUL */

enum store_journal_kind {
	STORE_JOURNAL_EVENT = 1,	/* an opt-out / opt-in event */
	STORE_JOURNAL_AUDIT,		/* a rejected-send audit record */
	STORE_JOURNAL_REVIEW,		/* a review item queued */
	STORE_JOURNAL_REVIEW_DONE,	/* a review item resolved */
	STORE_JOURNAL_MSGMAP,		/* a receipt map entry */
	STORE_JOURNAL_SENT,		/* a send counted by a frequency cap */
};

/* Name of a kind ("event", "audit", "review", "review_done",
 * "msgmap", "sent"); NULL for none. */
const char *store_journal_kind_name(enum store_journal_kind k);

/* One journal row: its id (increasing) and what it carries. */
struct store_journal_row {
	uint64_t		 id;
	enum store_journal_kind	 kind;
	struct store_event	 ev;	/* kind EVENT; ev.id its local id */
	struct store_audit	 audit;	/* kind AUDIT; audit.id its id */
	/* Kinds REVIEW*: the item as it is now (review.id its local id)
	 * and the node and id it was first queued under, fleet-wide. */
	struct store_review	 review;
	char			 origin_node[STORE_NODE_MAX];
	uint64_t		 origin_id;
	/* Kind MSGMAP: the entry (message_id normalised); its local id is
	 * the row's id. */
	struct store_msgmap	 msgmap;
	/* Kind SENT: the send (number, category, time); its local id is
	 * the row's id. */
	struct store_freq_entry	 sent;
};

/*
 * Journal every later event of this store for node (copied), durably.
 * The first time (no node recorded yet), every event already in the
 * store is journaled too, so a node that joins a fleet brings its
 * history. Refuses (STORE_E_INVAL) a store enabled for another node: a
 * node's name is bound to its store, since the fleet tells events apart
 * by (node, local id). Returns 0 or -1.
 */
int store_journal_enable(struct store *st, const char *node);

/* The node st is enabled for: 1 (node filled), 0 none, -1 error. */
int store_journal_node(struct store *st, char node[STORE_NODE_MAX]);

typedef int (*store_journal_fn)(const struct store_journal_row *row,
    void *arg);

/*
 * The oldest rows, up to max, in id order (a row whose record has
 * expired is passed with its id 0). Returns per the walk convention.
 */
int store_journal_peek(struct store *st, size_t max, store_journal_fn cb,
    void *arg);

/* Forget every row with id <= upto (shipped). Returns 0 or -1. */
int store_journal_done(struct store *st, uint64_t upto);

/*
 * Replication figures: rows not shipped yet, and the fleet sequence
 * applied so far. Returns 0 or -1.
 */
int store_journal_depth(struct store *st, size_t *rows,
    uint64_t *applied_seq);

/*
 * One row of the fleet stream, in fleet order. is_own: a row of this
 * node coming back (own_id its local id; nothing is applied again; an
 * event's pending mark goes, ev.number naming it). Else, by kind: ev (a
 * remote event; its id is assigned here, its last attribution kept as
 * given) is recorded and applied, audit (a remote rejected send) is
 * added to the audit log, review (an item queued on another node, known
 * by origin_node and origin_id) is queued here unless already known,
 * and a resolution (REVIEW_DONE) resolves the local copy of the item if
 * it is still open (the first resolution in fleet order wins; its
 * opt-out, if any, comes as an event of its own). A send counted by a
 * frequency cap on another node (SENT, sent) is added to the send log
 * marked remote (store_freq_remote).
 */
struct store_cluster_item {
	enum store_journal_kind	 kind;
	bool			 is_own;
	uint64_t		 own_id;
	struct store_event	 ev;
	struct store_audit	 audit;
	struct store_review	 review;
	char			 origin_node[STORE_NODE_MAX];
	uint64_t		 origin_id;
	struct store_freq_entry	 sent;
};

/*
 * Apply n items of the fleet stream in one transaction and record seq as
 * the position reached (store_journal_depth's applied_seq). Remote
 * events journal nothing; the pending local events of their number are
 * applied again after them (see above). Committed without the meta
 * fsync: an OS crash may undo the last call, position included, and the
 * follower then applies the same items again. Returns 0 or -1.
 */
int store_cluster_apply(struct store *st, struct store_cluster_item *items,
    size_t n, uint64_t seq);

#endif /* STORE_JOURNAL_H */
