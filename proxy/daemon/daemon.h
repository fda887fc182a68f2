/*
 * The daemon: one event_base, the listeners, the downstream sessions, one
 * upstream pool per configured SMSC, the store, signals (SIGTERM/SIGINT
 * graceful stop, SIGHUP reload) and the batched store writes (audit,
 * receipt map, attribution).
 *
 * struct daemon is the proxy's shared context, read and written by
 * session.c, listener.c and dlr.c on the one event loop thread. It is
 * visible, not opaque, because those files are the daemon's own parts;
 * nothing outside proxy/ sees it.
 */
#ifndef PROXY_DAEMON_H
#define PROXY_DAEMON_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "proxy/policy/ratelimit.h"
#include "store/store.h"

struct attrib;
struct dlr_held;
struct event;
struct event_base;
struct inbound;
struct listener;
struct session;
struct upstream_pool;
struct writer;

/*
 * Attribution records not yet merged into the last-sent table, indexed in
 * memory (proxy/attrib.c: 2 MiB a segment of 98,304, so about 86 MiB when
 * full): past this many the oldest segment is dropped (see
 * daemon_lastsent_add()).
 */
#define DAEMON_ATTRIB_MAX	(4u << 20)
/* Concatenated messages refused at their first part, remembered so the
 * later parts are refused too (SPEC §3: every part gets the same
 * decision). "Allowed" is never remembered: an opt-out acknowledged
 * between two parts blocks the rest (SPEC §7). Power of two. */
#define DAEMON_CONCAT_SLOTS	4096
/* Refused sends logged one line each, a second; the rest are counted. */
#define DAEMON_REJECT_LOGS_PER_S	100
/* Addresses whose recent bind failures slow down their next attempts. */
#define DAEMON_AUTHFAIL_SLOTS	64

TAILQ_HEAD(session_list, session);

/* One remembered concatenated-message refusal. */
struct concat_slot {
	uint64_t	 key;		/* hash(account, destination, ref) */
	uint64_t	 time_ms;	/* when decided */
	bool		 is_blocked;
	uint32_t	 status;	/* rejection status when blocked */
	uint64_t	 event_id;	/* blocking event when blocked */
};

/* Recent bind failures from one peer address. */
struct authfail_slot {
	struct sockaddr_storage addr;	/* port zeroed */
	unsigned	 count;
	uint64_t	 last_ms;
};

/* Counters for /metrics (proxy/admin.c), bumped by session.c. */
struct daemon_counters {
	uint64_t	 submits_forwarded;	/* handed to an upstream */
	uint64_t	 submits_rejected_optout; /* destinations refused */
	uint64_t	 submits_store_error;	/* store unreadable: refused */
	uint64_t	 attrib_unindexed;	/* logged, not indexed */
	uint64_t	 attrib_dropped;	/* dropped from a full index */
};

struct daemon {
	struct event_base	*base;		/* owned */
	char			*config_path;	/* owned */
	struct config		*cfg;		/* owned; swapped on SIGHUP */
	uint64_t		 cfg_gen;	/* bumped on every swap */
	struct store		*store;		/* owned */
	struct inbound		*inbound;	/* owned: MOs, outbox */

	/* One pool per cfg->upstreams[i], same index. Owned. */
	struct upstream_pool	**pools;
	size_t			 npools;

	/* One bucket per cfg->accounts[i], same index. Owned. */
	struct ratelimit	*rates;

	struct listener		**listeners;	/* owned */
	size_t			 nlisteners;

	struct session_list	 sessions;	/* every live session */
	struct session_list	 closing;	/* closed, free pending */
	size_t			 nsessions;
	uint64_t		 next_sid;
	size_t			 rr;		/* round robin for receivers */

	bool			 is_stopping;	/* SIGTERM seen */
	int			 exit_status;
	uint64_t		 stop_deadline_ms;
	size_t			 pools_down;	/* shutdown done callbacks */
	bool			 is_pools_stopping;
	/* Pools of upstreams a reload removed, shutting down. Owned. */
	struct upstream_pool	**retired;
	size_t			 nretired;
	struct event		*expire_ev;	/* store housekeeping */

	/* Per-message store records, committed by a thread. Owned. */
	struct writer		*writer;
	/* Attribution records in the sent log, by number. Owned. */
	struct attrib		*attrib;

	struct event		*sig_term;	/* owned */
	struct event		*sig_int;
	struct event		*sig_hup;
	struct event		*stop_ev;	/* shutdown progress timer */

	/* Receipts that overtook their submit_sm_resp (proxy/dlr.c). */
	struct dlr_held		*held;		/* owned; DLR_HOLD_MAX slots */
	size_t			 nheld;
	struct event		*held_ev;	/* owned */

	/* The front end run on this loop (the admin API), known only
	 * through its hooks; its state is owned through them. */
	const struct daemon_frontend *fe;	/* borrowed; may be NULL */
	void			*fe_state;
	struct daemon_counters	 counters;
	int64_t			 rejlog_sec;	/* second of rejlog_n */
	unsigned		 rejlog_n;	/* refusals logged in it */
	uint64_t		 rejlog_quiet;	/* and not logged */

	struct concat_slot	 concat[DAEMON_CONCAT_SLOTS];
	struct authfail_slot	 authfail[DAEMON_AUTHFAIL_SLOTS];
};

/*
 * A front end that runs on the daemon's loop, above it: the daemon starts
 * it once the listeners are up, tells it of every reload (after d->cfg
 * was swapped) and frees it at teardown, and knows nothing else of it.
 * start returns 0 (*state set, NULL when the config asks for nothing) or
 * -1 (the reason logged; startup fails). reload may replace *state.
 */
struct daemon_frontend {
	int	(*start)(struct daemon *d, void **state);
	void	(*reload)(struct daemon *d, void **state);
	void	(*free)(void *state);
};

/*
 * Run the proxy on the config at path in the foreground until SIGTERM or
 * SIGINT, with front end fe (borrowed; NULL for none). path is borrowed.
 * Returns the process exit status: 0 after a graceful stop, 1 when startup
 * failed (the reason is logged).
 */
int daemon_main(const char *path, const struct daemon_frontend *fe);

/* Milliseconds of a monotonic clock. */
uint64_t daemon_now_ms(void);

/*
 * Queue records for the store writer (proxy/writer.h; audit: a rejected
 * send; msgmap: an SMSC message_id for receipt routing; lastsent:
 * attribution, appended to the sent log and indexed by number). rec is
 * copied. The writer commits within WRITER_DELAY_MS when idle, else as
 * soon as its current batch is done; a store error is logged (those
 * records are then lost, which the log says).
 */
void daemon_audit_add(struct daemon *d, const struct store_audit *rec);
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
 * Note a bind failure from addr (port ignored), and the delay in ms to
 * apply before answering the next one from it (0 for the first few; then
 * growing, capped at a few seconds). Returns that delay.
 */
unsigned daemon_authfail_note(struct daemon *d,
    const struct sockaddr *addr);

/* Forget the bind failures of addr (after a successful bind from it). */
void daemon_authfail_clear(struct daemon *d, const struct sockaddr *addr);

/* Called by session.c when a session ends, so a stop can finish. */
void daemon_session_gone(struct daemon *d);

#endif /* PROXY_DAEMON_H */
