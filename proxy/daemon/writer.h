/*
 * proxy/daemon/writer: the store writer thread.
 *
 * The event loop never commits the per-message records itself: rejected-
 * send audit records, the receipt map, and attribution (sent-log records,
 * or last-sent entries written straight through). It queues them here; a
 * thread with its own store handle commits whatever has gathered in one
 * transaction, so batches grow with the load (group commit) and the loop
 * goes on forwarding meanwhile. Opt-outs are written here too, on a
 * durable lane (writer_durable()) taken before the next batch, and the
 * loop answers for them when they are called back: the loop never waits
 * for LMDB's write lock.
 *
 * When the thread is idle it folds the oldest sent-log records into the
 * per-number last-sent table in small transactions (store/sentlog.h) and
 * publishes how far it got (writer_merged()); then it indexes the audit
 * records it wrote by number (store_audit_index), also in small steps.
 *
 * Queued records live in two batches: the one the loop fills and the one
 * the thread commits. The loop may read both (the thread only reads the
 * one it commits), which is how a receipt or a STOP that overtakes a batch
 * still finds its record. A kind of record past WRITER_QUEUE_MAX waiting
 * makes the loop wait for the thread: bounded memory, nothing dropped.
 */
#ifndef PROXY_DAEMON_WRITER_H
#define PROXY_DAEMON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/freq.h"
#include "store/sentlog.h"
#include "store/store.h"

struct event_base;
struct writer;

/* A batch smaller than WRITER_GROUP_MIN gathers this long before commit. */
#define WRITER_DELAY_MS		5
#define WRITER_GROUP_MIN	1024
/* Records of one kind per transaction: what an opt-out may wait behind. */
#define WRITER_COMMIT_MAX	1024
/* Records of one kind waiting before the loop waits for the thread. */
#define WRITER_QUEUE_MAX	65536
/*
 * A commit that fails (the disk is full, say) keeps its records and those
 * queued after, in memory, up to WRITER_RETAIN_MAX in all, and tries
 * again every WRITER_RETRY_MS until one succeeds. Past the bound a record
 * is not kept: writer_audit() says so, and a refused send whose audit
 * record cannot be kept is answered with a temporary error instead
 * (writer_room()); other kinds are counted lost (failed).
 */
#define WRITER_RETAIN_MAX	65536
#define WRITER_RETRY_MS		1000
/* Lazy commits are made durable (meta page synced) within this. */
#define WRITER_SYNC_MS		1000
/* Quiet this long before merging the sent log. */
#define WRITER_IDLE_MS		20
/* A batch commit this slow is logged. */
#define WRITER_SLOW_MS		100
/* A durable job (an opt-out) this long from queued to written is logged
 * with what the thread was doing when it came (durable_slow). */
#define WRITER_JOB_SLOW_MS	20
/*
 * Sent-log records merged, and rejected-send audit records indexed by
 * number (store_audit_index), per transaction when idle. Each record is
 * about one page written somewhere in the store, so a step costs roughly
 * its size in random writes (on a virtual disk of a few thousand IOPS,
 * 256 take ~50-100 ms); an opt-out arriving meanwhile waits for the step
 * to end.
 */
#define WRITER_MERGE_CHUNK	256
#define WRITER_AUDIT_CHUNK	256
/*
 * The lookup tables (numbers hash, filter) grow in steps of this many
 * slots (store_lookup_grow_step: some 5-25 ms each), first among the
 * background work since lookups are slower until a growth ends. Under
 * traffic that never leaves the writer idle, a step still runs every
 * WRITER_GROW_EVERY_MS, so a growth cannot wait for a quiet hour. The
 * write that starts a growth may be another process's (the CLI, an
 * import), so the writer asks the store every WRITER_SYNC_MS.
 */
#define WRITER_GROW_CHUNK	16384
#define WRITER_GROW_EVERY_MS	200

struct writer_counters {
	uint64_t	batches;	/* transactions committed */
	uint64_t	records;	/* records in them */
	uint64_t	failed;		/* records lost (not kept: bound) */
	uint64_t	retries;	/* failed commits, records kept */
	uint64_t	bad;		/* records dropped for a bad field */
	uint64_t	merged;		/* sent-log records merged */
	uint64_t	indexed;	/* audit records indexed by number */
	uint64_t	waits;		/* times the loop waited (queue full) */
	uint64_t	max_batch;	/* largest batch, records */
};

/*
 * Start the thread on a sibling handle of st (borrowed; must outlive the
 * writer), its completions delivered on base. Returns NULL with a message
 * in err.
 */
struct writer *writer_new(struct event_base *base, struct store *st,
    char *err, size_t errlen);

/* Commit everything queued, stop the thread and free. NULL ok. */
void writer_free(struct writer *w);

/*
 * Queue one record (copied); may wait (see above). writer_audit()
 * returns -1 when the record cannot be kept (the store is failing and
 * WRITER_RETAIN_MAX records wait), else 0; the others count that as lost.
 */
int writer_audit(struct writer *w, const struct store_audit *rec);
void writer_msgmap(struct writer *w, const struct store_msgmap *rec);
void writer_lastsent(struct writer *w, const struct store_lastsent_entry *rec);
/* A send counted against a frequency cap (store/freq.h). */
void writer_freq(struct writer *w, const struct store_freq_entry *rec);

/* Queue a sent-log record; returns its sequence number (> 0). */
uint64_t writer_sentlog(struct writer *w,
    const struct store_lastsent_entry *rec);

/* Hand everything queued to the thread and wait until it is committed;
 * durable jobs are run and called back first. */
void writer_sync(struct writer *w);

/*
 * Sent-log records with a sequence number up to this are in the last-sent
 * table (or superseded there); the log may have dropped them.
 */
uint64_t writer_merged(const struct writer *w);

/*
 * No more background work (merging, indexing) from now on: the daemon is
 * stopping. Batches are still committed.
 */
void writer_quiesce(struct writer *w);

/* A sent-log record still queued or being committed: true and *out. */
bool writer_sentlog_find(const struct writer *w, uint64_t seq,
    struct store_lastsent_entry *out);

/*
 * Call fn on each queued receipt map entry, newest first, until it
 * returns true; returns whether one did.
 */
bool writer_msgmap_each(const struct writer *w,
    bool (*fn)(void *arg, const struct store_msgmap *m), void *arg);

/* Whether n more records can be kept now (always, unless failing). */
bool writer_room(const struct writer *w, size_t n);

/*
 * The writer's health, for /healthz: failing from the first failed
 * batch commit until the next good one, or while the last durable job
 * (an opt-out) failed. Call on the loop thread.
 */
struct writer_health {
	bool		is_failing;
	int64_t		since;		/* failing since, wall clock (s) */
	uint64_t	retained;	/* records kept for the retry */
	uint64_t	not_kept;	/* records refused at the bound, ever */
	char		reason[256];	/* the store's error; "" when ok */
};
void writer_health(const struct writer *w, struct writer_health *out);

/*
 * The durable lane: a store write that must be durable before the loop
 * answers for it (an opt-out before its deliver_sm_resp). run(st, arg)
 * is called on the writer thread with its handle, ahead of any batch not
 * yet begun (a batch being committed yields between its chunks of
 * WRITER_COMMIT_MAX), jobs in the order queued; then done(arg, rc) on
 * the loop with run's return value, in the same order. j is borrowed
 * until done is called (done may free it). run must touch nothing the
 * loop uses meanwhile.
 */
struct writer_job {
	int			(*run)(struct store *st, void *arg);
	void			(*done)(void *arg, int rc);
	void			*arg;
	int			 rc;
	char			 err[160];	/* the store's, rc != 0 */
	struct writer_job	*next;	/* the writer's */
	uint64_t		 queued_ms;	/* the writer's */
	const char		*behind;	/* the writer's */
};
void writer_durable(struct writer *w, struct writer_job *j);

/* Durable jobs queued or not yet called back. */
size_t writer_durable_pending(const struct writer *w);

/* Records waiting (both batches), for /metrics. */
size_t writer_pending(const struct writer *w);
void writer_counters(const struct writer *w, struct writer_counters *out);

#endif /* PROXY_DAEMON_WRITER_H */
