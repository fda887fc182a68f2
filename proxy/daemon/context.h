/*
 * The runtime's shared context: struct daemon, what every part of the
 * SMPP runtime reads and writes on the one event loop thread (the store,
 * the config, the pools, the sessions, the store writer, the counters),
 * and the few services on it they share (batched store writes, the
 * attribution index, the bind failure slow-down, the pools by index).
 *
 * It sits below the parts (session, submit, deliveries, receipts, MOs,
 * outbox) and above the pools and the writer; the lifecycle owner,
 * proxy/daemon/daemon.c (startup, signals, reload, stop), builds it and
 * wires the hooks through which a lower part tells a higher one
 * something. Nothing here includes a part above it.
 */
#ifndef PROXY_DAEMON_CONTEXT_H
#define PROXY_DAEMON_CONTEXT_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "proxy/io/log.h"
#include "proxy/policy/ratelimit.h"
#include "store/store.h"

struct attrib;
struct daemon;
struct daemon_frontend;
struct daemon_run;
struct event;
struct event_base;
struct outbox;
struct prefs;
struct receipt_held;
struct replies;
struct session;
struct submit_memory;
struct upstream_pool;
struct writer;

/*
 * Attribution records not yet merged into the last-sent table, indexed in
 * memory (proxy/daemon/attrib.c: 2 MiB a segment of 98,304, so about
 * 86 MiB when full): past this many the oldest segment is dropped (see
 * daemon_lastsent_add()).
 */
#define DAEMON_ATTRIB_MAX	(4u << 20)
/* Bind throttle keys: accounts and addresses with recent failures. */
#define DAEMON_THROTTLE_SLOTS	256
#define DAEMON_THROTTLE_KEY_LEN	96
/* Failed checks of a key before its next check waits: an account from
 * one address; an account from every address together (many hosts
 * guessing one password); an address naming no account. */
#define DAEMON_THROTTLE_FREE		3
#define DAEMON_THROTTLE_FREE_ACCOUNT	20

TAILQ_HEAD(session_list, session);

/*
 * What a part below tells a part above it, wired by daemon.c; a NULL
 * member means nobody listens (a test's hand-built daemon).
 */
struct daemon_hooks {
	/* A receiver or transceiver of account bound (its outbox may go). */
	void	(*receiver_bound)(struct daemon *d, const char *account);
	/* The department answered outbox entry id of account with status
	 * (ESME_RX_T_APPN when it did not in time). */
	void	(*outbox_done)(struct daemon *d, const char *account,
		    uint64_t id, uint32_t status);
	/* A message id was recorded for receipts (rec borrowed). */
	void	(*msgmap_added)(struct daemon *d,
		    const struct store_msgmap *rec);
	/* A session ended (a stop may be done). */
	void	(*session_gone)(struct daemon *d);
};

/*
 * Bind checks of one key (an account's system_id, or the source address
 * of binds naming no account): failures and when the next check may
 * run. Checks of a key are serialised: a bind arriving before next_ms
 * waits, unanswered and unchecked, however many connections carry them.
 */
struct bind_throttle {
	char		 key[DAEMON_THROTTLE_KEY_LEN];	/* "" = free */
	unsigned	 failures;	/* in this episode */
	unsigned	 nfree;		/* failures before a wait */
	uint64_t	 last_ms;	/* last failure */
	uint64_t	 next_ms;	/* next check allowed at */
	uint64_t	 unlogged;	/* failures not logged one by one */
};

/* Counters for /metrics (proxy/admin/admin.c), bumped by the sessions. */
struct daemon_counters {
	uint64_t	 submits_forwarded;	/* handed to an upstream */
	uint64_t	 submits_rejected_optout; /* destinations refused */
	uint64_t	 submits_store_error;	/* store unreadable: refused */
	uint64_t	 submits_rejected_frequency; /* over a cap (SPEC §9) */
	uint64_t	 submits_rejected_quiet; /* in quiet hours (SPEC §9) */
	uint64_t	 attrib_unindexed;	/* logged, not indexed */
	uint64_t	 attrib_dropped;	/* dropped from a full index */
	uint64_t	 binds_refused;		/* wrong system_id, password */
	uint64_t	 binds_throttled;	/* held by the throttle */
	uint64_t	 unbound_evicted;	/* idle, closed for room */
	uint64_t	 unbound_refused;	/* no room even after that */
	uint64_t	 bad_pdu_closed;	/* garbage before bind */
};

struct daemon {
	struct event_base	*base;		/* owned */
	struct daemon_hooks	 hooks;		/* wired by daemon.c */
	/* The lifecycle's own state (listeners, signals, stop, retired
	 * pools): daemon.c's alone. Owned; NULL in a hand-built daemon. */
	struct daemon_run	*run;
	struct config		*cfg;		/* owned; swapped on SIGHUP */
	uint64_t		 cfg_gen;	/* bumped on every swap */
	struct store		*store;		/* owned */
	struct outbox		*outbox;	/* owned: delivery, kept */
	struct replies		*replies;	/* owned: MOs, confirmations */

	/* One pool per cfg->upstreams[i], same index. Owned. */
	struct upstream_pool	**pools;
	size_t			 npools;

	/* One bucket per cfg->accounts[i], same index. Owned. */
	struct ratelimit	*rates;

	struct session_list	 sessions;	/* every live session */
	struct session_list	 closing;	/* closed, free pending */
	size_t			 nsessions;
	uint64_t		 next_sid;
	size_t			 rr;		/* round robin for receivers */

	bool			 is_stopping;	/* SIGTERM seen */

	/* Per-message store records, committed by a thread. Owned. */
	struct writer		*writer;
	/* Attribution records in the sent log, by number. Owned. */
	struct attrib		*attrib;
	/* Several nodes (SPEC §8): the shipper and follower thread; NULL
	 * without cluster: in the config. Owned. */
	struct cluster		*cluster;

	/* Receipts that overtook their submit_sm_resp (receipts.c). */
	struct receipt_held	*held;		/* owned; RECEIPTS_HOLD_MAX */
	size_t			 nheld;
	struct event		*held_ev;	/* owned */

	/* The front end run on this loop (the admin API), known only
	 * through its hooks; its state is owned through them. */
	const struct daemon_frontend *fe;	/* borrowed; may be NULL */
	void			*fe_state;
	struct daemon_counters	 counters;
	/* What every session's sends share (proxy/daemon/submit.h). */
	struct submit_memory	*submits;	/* owned */
	/* Frequency caps, quiet hours (proxy/daemon/prefs.h). Owned. */
	struct prefs		*prefs;

	struct bind_throttle	 throttle[DAEMON_THROTTLE_SLOTS];
	/* Lines any peer can cause (connections, garbage, refused binds),
	 * limited per source address; suppressed_total for /metrics. */
	struct log_limit	 peer_log;
};

/* Milliseconds of a monotonic clock. */
uint64_t daemon_now_ms(void);

/*
 * Queue records for the store writer (proxy/daemon/writer.h; audit: a
 * rejected send; msgmap: an SMSC message_id for receipt routing; lastsent:
 * attribution, appended to the sent log and indexed by number). rec is
 * copied. The writer commits within WRITER_DELAY_MS when idle, else as
 * soon as its current batch is done; records of a failed commit are kept
 * and retried (daemon_audit_add() returns -1 when one cannot be).
 */
int daemon_audit_add(struct daemon *d, const struct store_audit *rec);
/*
 * Whether n audit records can be kept now: false only while the store
 * fails and the records kept for the retry reach their bound; a refused
 * send is then answered with a temporary error, never left unaudited.
 */
bool daemon_audit_room(const struct daemon *d, size_t n);
void daemon_msgmap_add(struct daemon *d, const struct store_msgmap *rec);
void daemon_lastsent_add(struct daemon *d,
    const struct store_lastsent_entry *rec);
/* A hint when a send to number is forwarded: its attribution entry
 * (daemon_lastsent_add() at the response) starts loading into cache. */
void daemon_lastsent_prefetch(struct daemon *d, const char *number);

/* Commit everything queued and wait for it (the admin API does, before
 * reading the audit log or recording an opt-out). */
void daemon_flush(struct daemon *d);

/*
 * The newest last-sent record for number that the last-sent table may not
 * have yet (queued, or in the sent log): true with *out filled. The
 * store picks the newer of it and the table's when it records an opt-out
 * (the MO path), without waiting for any batch.
 */
bool daemon_lastsent_pending(const struct daemon *d, const char *number,
    struct store_lastsent *out);

/*
 * The pool for upstream index i of the current config, or NULL (borrowed).
 */
struct upstream_pool *daemon_pool(struct daemon *d, size_t i);

/*
 * The pool whose upstream is called name, or NULL (borrowed), and its
 * index in *idx when idx is non-NULL.
 */
struct upstream_pool *daemon_pool_by_name(struct daemon *d,
    const char *name, size_t *idx);

/*
 * The bind throttle (SPEC §3). key (borrowed) names what a bind is
 * checked against: "system_id=ID peer=HOST" (an account from one
 * address), "system_id=ID" (the account from everywhere), "peer=HOST"
 * (binds from HOST naming no account). daemon_bind_wait() is how long a
 * bind of key must wait before it is checked (0: check now); a wait is
 * the caller's to count and arm. daemon_bind_failed() records a failed
 * check at now: the first nfree leave the next check free, then each
 * pushes it out by a growing delay capped at a few seconds; a key quiet
 * for a minute starts over. It returns true while the failure should be
 * logged on its own line (the first few of an episode; the episode's
 * start and end get one line each, from here). daemon_bind_succeeded()
 * forgets key's failures, and only key's.
 */
uint64_t daemon_bind_wait(struct daemon *d, const char *key, uint64_t now);
bool	daemon_bind_failed(struct daemon *d, const char *key, unsigned nfree,
	    uint64_t now);
void	daemon_bind_succeeded(struct daemon *d, const char *key);

/* Called by session.c when a session ends, so a stop can finish. */
void daemon_session_gone(struct daemon *d);

/* The hooks, each a no-op when not wired. */
void daemon_receiver_bound(struct daemon *d, const char *account);
void daemon_outbox_done(struct daemon *d, const char *account, uint64_t id,
    uint32_t status);

#endif /* PROXY_DAEMON_CONTEXT_H */
