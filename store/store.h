/*
 * The opt-out store: one LMDB environment behind a small API. MDB_* never
 * leaks out of store/.
 *
 * Several processes (the proxy, the CLI, the admin API) open the same
 * environment at once; a change committed by one is seen by the next lookup
 * in another. Opt-outs are committed with fsync before the write call
 * returns. Numbers are normalised E.164 digits (smpp_number_normalize) and
 * categories are names from the config; the store does not know the config.
 *
 * Durability: opt-out / opt-in events, imports, review resolutions, audit
 * records and outbox entries are fsync'd before the call returns. The
 * high-rate bookkeeping (last-sent attribution, receipt map, loop-guard
 * marks) commits without the metadata fsync: atomic and never corrupt,
 * but an OS crash (not a process crash) may undo the last such commit.
 * Callers batch those writes (one transaction per call).
 *
 * One thread per struct store (the proxy's event loop); each process opens
 * its own. A full map is grown (doubling) up to map_max_mb, then writes
 * fail with STORE_E_MAPFULL and a clear message; reads go on.
 *
 * Conventions: actions return int (0, or -1 with the reason in
 * store_errmsg() and the kind in store_errcode()); lookups that can fail
 * return int with 1/0 for yes/no and -1 for error; constructors return a
 * pointer or NULL. Strings passed in are borrowed and copied as needed.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_NUMBER_MAX	24	/* normalised number with NUL */
#define STORE_NAME_MAX		32	/* category / account / upstream */
#define STORE_CATEGORY_ALL	"*"	/* the global (every category) scope */
#define STORE_SCOPE_MAX		32	/* categories in one event */

struct store;

struct store_params {
	size_t		 map_mb;	/* initial map size (0 = 1024); grows
					 * by doubling on MAP_FULL */
	size_t		 map_max_mb;	/* growth limit; 0 = 65536 */
	bool		 read_only;	/* CLI queries */
};

enum store_action {
	STORE_OPT_OUT = 0,
	STORE_OPT_IN,
	STORE_LESS,		/* fewer texts: the stricter cap (SPEC §9) */
};

enum store_source {
	STORE_SRC_SMS_KEYWORD = 0,
	STORE_SRC_STAFF,
	STORE_SRC_API,
	STORE_SRC_IMPORT,
};

/* The last message sent to a number, for attribution of an opt-out. */
struct store_lastsent {
	int64_t		 time;		/* unix seconds; 0 = none */
	char		 account[STORE_NAME_MAX];
	char		 category[STORE_NAME_MAX];
	char		 service_type[8];
};

/* One opt-out / opt-in event (append-only history). */
struct store_event {
	uint64_t	 id;		/* assigned by the store, increasing */
	int64_t		 time;		/* unix seconds (set by caller) */
	char		 number[STORE_NUMBER_MAX];
	enum store_action action;
	bool		 all;		/* every category (global flag) */
	size_t		 ncategories;	/* when !all */
	char		 categories[STORE_SCOPE_MAX][STORE_NAME_MAX];
	enum store_source source;
	/* SMS: the number written to */
	char		 inbound[STORE_NUMBER_MAX];
	char		 text[512];	/* SMS: raw text (UTF-8) */
	char		 rule[32];	/* SMS: matched rule */
	char		 actor[64];	/* staff/api/import: who */
	char		 note[256];
	char		 consent[256];	/* opt-in: consent evidence */
	struct store_lastsent last;	/* filled by the store on opt-out */
};

/* Why a number is blocked for a category. */
struct store_block {
	bool		 is_global;	/* by an all-categories opt-out */
	int64_t		 since;		/* unix seconds */
	uint64_t	 event_id;
};

/* Why a send was refused (store_audit_reason_name: opted_out, ...). */
enum store_audit_reason {
	STORE_AUDIT_OPTED_OUT = 0,	/* event_id is the opt-out */
	STORE_AUDIT_FREQUENCY_CAP,	/* the category's cap was reached */
	STORE_AUDIT_QUIET_HOURS,	/* inside the recipient's quiet hours */
};

/* One rejected send (audit log). */
struct store_audit {
	uint64_t	 id;		/* assigned by the store */
	int64_t		 time;
	char		 account[STORE_NAME_MAX];
	char		 category[STORE_NAME_MAX];
	char		 service_type[8];
	char		 source[24];	/* source_addr of the submit */
	char		 destination[STORE_NUMBER_MAX];
	uint32_t	 status;	/* command_status sent back */
	uint64_t	 event_id;	/* the blocking event */
	uint32_t	 body_len;	/* message length, octets */
	uint8_t		 body_sha256[32];
	enum store_audit_reason reason;	/* why refused */
};

/*
 * Open (creating the directory and databases if missing) the environment
 * at path. Refuses a newer schema version with a clear message. Returns a
 * new store or NULL with a message in err.
 */
struct store *store_open(const char *path, const struct store_params *p,
    char *err, size_t errlen);

/*
 * A second handle on st's environment for another thread of this process:
 * its own read transaction and error state, the same databases. Each
 * handle is used by one thread at a time; any of them may grow the map
 * (the others' transactions are waited for). Free it with store_free()
 * before or after st: the environment closes with the last handle.
 * Returns NULL with st's error set.
 */
struct store *store_sibling(struct store *st);

/*
 * Make every commit so far durable (the lazy ones included): one
 * fdatasync. Returns 0 or -1.
 */
int store_sync(struct store *st);

/*
 * Hold the read snapshot of st's lookups (store_optout_check and the other
 * point reads) open until the matching store_read_release(), so a batch of
 * lookups starts one read transaction instead of one each; nests. The
 * snapshot is taken at the first lookup: the batch sees what was committed
 * by then, as if its lookups had all been made at that moment. A held
 * snapshot pins the map, so a thread that could wait for another thread
 * of this process (which may need to grow the map) pauses it first with
 * store_read_pause(); store_write() on st does so itself. The next lookup
 * takes a new snapshot.
 */
void store_read_hold(struct store *st);
void store_read_release(struct store *st);
void store_read_pause(struct store *st);

/*
 * Whether a durable write of this process (st or a sibling) is waiting
 * for the write lock or starting: background work yields to it.
 */
bool store_durable_waiting(const struct store *st);

/*
 * A number of 1..15 digits as a non-zero integer key (length << 56 |
 * value): true, or false for one that does not pack (alphanumeric, long).
 */
bool store_numkey(const char *number, uint64_t *key);

/* Close; accepts NULL. */
void store_free(struct store *st);

/* The message of the last failed call on st (borrowed, valid until the
 * next call). */
const char *store_errmsg(const struct store *st);

/*
 * Where the writes of one handle spent their time, summed since it was
 * opened (monotonic clock, µs): waiting for LMDB's write lock (another
 * process's or thread's transaction), building the transaction, the
 * commit (data pages written and synced), and the meta page sync of a
 * durable write. A caller takes the difference around a call.
 */
struct store_write_stats {
	uint64_t	writes;		/* transactions begun */
	uint64_t	wait_us;
	uint64_t	body_us;
	uint64_t	commit_us;
	uint64_t	sync_us;
};
void store_write_stats(const struct store *st, struct store_write_stats *out);

/*
 * Hot path: is number blocked for category? Reuses one read transaction
 * (reset/renew), allocates nothing. Returns 1 blocked (with *why filled if
 * non-NULL), 0 allowed, -1 the store could not be read (fail closed).
 */
int store_optout_check(struct store *st, const char *number,
    const char *category, struct store_block *why);

/*
 * A hint, only while a store_read_hold() is on: start loading what
 * store_optout_check() of number will read first (its filter block), so
 * that a caller with several lookups to make overlaps their cache misses
 * with its other work. Changes nothing; cheap when number has no key.
 */
void store_optout_prefetch(struct store *st, const char *number);

/*
 * Record an opt-out or opt-in event and update the current state in one
 * transaction, committed with fsync before returning. Sets ev->id and, for
 * opt-outs, ev->last from the attribution table when the table's record
 * is at least as new as what the caller set (a caller may know a more
 * recent one that is still in its write batch). Idempotent in effect: an
 * opt-out of something already opted out still records the event but
 * changes no since-time. ev->all with action opt-out sets the global flag;
 * an opt-in of some categories while it is set records exceptions (see
 * struct store_state_entry); an opt-in with ev->all clears every entry.
 * Returns 0, or -1 (ev->id 0; nothing written).
 */
int store_optout_apply(struct store *st, struct store_event *ev);


/*
 * The numbers hash and the Bloom filter that answer store_optout_check()
 * grow in steps: the write that takes one past its threshold only begins
 * a growth (a record, nothing copied), and this moves the numbers of up
 * to max (at most STORE_LOOKUP_GROW_MAX) slots of the old tables into
 * larger ones in one lazy transaction, like store_audit_index's; once a
 * growth is over, the same call deletes the replaced tables, a bounded
 * number of chunks per call. *done = work done (0: nothing left to do).
 * Lookups are exact whatever the progress (store_info shows it). Call it
 * when idle, as store_audit_index, until *done is 0; a store whose
 * tables are not grown keeps working, its lookups a little slower.
 * Returns 0 or -1.
 *
 * Each step reads and writes each 16 KB chunk it touches once: about
 * 0.5 µs per slot, 65536 slots some 20-40 ms (3 M numbers: 85 steps,
 * under 2 s in all). Meanwhile writes of new numbers go to both tables.
 */
#define STORE_LOOKUP_GROW_MAX	1048576
int store_lookup_grow_step(struct store *st, size_t max, size_t *done);

/*
 * Whether store_lookup_grow_step() has work (a growth under way, or
 * replaced tables to delete), read in st's lookup snapshot: cheap (a few
 * point reads), for a background writer to poll when idle, since the
 * write that begins a growth may be another handle's or process's. False
 * on a read-only handle or a read error.
 */
bool store_lookup_grow_pending(struct store *st);

/* ------------------------------------------------------------------ */
/* Error codes: what kind of failure the last call on a store had.     */

enum store_error {
	STORE_E_OK = 0,
	STORE_E_IO,		/* LMDB or system error (message has it) */
	STORE_E_INVAL,		/* bad argument (empty number, long name) */
	STORE_E_NOTFOUND,	/* no such review item / outbox entry */
	STORE_E_EXISTS,		/* review item already resolved */
	STORE_E_FULL,		/* outbox at its per-account bound */
	STORE_E_MAPFULL,	/* map would exceed map_max_mb */
	STORE_E_SCHEMA,		/* environment written by a newer build */
	STORE_E_READONLY,	/* write on a store opened read_only */
	STORE_E_CALLBACK,	/* a walk callback asked to stop with < 0 */
};

/* Name of an error code ("io", "full", ...); never NULL. */
const char *store_error_name(enum store_error e);

/* The kind of the last failure on st (STORE_E_OK after a success). */
enum store_error store_errcode(const struct store *st);

/* Names for logs and CLI output; never NULL ("?" for out of range). */
const char *store_action_name(enum store_action a);	/* opt_out, opt_in */
const char *store_source_name(enum store_source s);	/* sms_keyword, ... */
const char *store_audit_reason_name(enum store_audit_reason r);

/* Parse a source name. Returns 0 or -1. */
int store_source_parse(const char *name, enum store_source *out);

/*
 * Walk callbacks. The pointed-to record is a view valid only during the
 * call (copy what must outlive it). Return 0 to go on; any other value
 * stops the walk. A walk returns 0 when it finished or a callback returned
 * > 0 to stop; -1 on a store error; and when a callback returns < 0, that
 * value (with STORE_E_CALLBACK as the error code). A walk reads one
 * consistent snapshot. Callbacks may call lookups (store_optout_check,
 * *_get); a write from a callback works but cannot grow a full map
 * (STORE_E_MAPFULL), so collect first and write after the walk.
 */
typedef int (*store_event_fn)(const struct store_event *ev, void *arg);

/* ------------------------------------------------------------------ */
/* Opt-out history and state.                                          */

/*
 * Every event for number, oldest first (suppressed history is never
 * deleted before its retention). Returns per the walk convention.
 */
int store_history(struct store *st, const char *number, store_event_fn cb,
    void *arg);

/*
 * The event feed (CRM sync, stats): events with id > after_id in id
 * order, at most max of them (0 = no limit). The id of the last event
 * seen is the resumable cursor. Returns per the walk convention.
 */
int store_events_since(struct store *st, uint64_t after_id, size_t max,
    store_event_fn cb, void *arg);

/*
 * One entry of the current state of a number. category is
 * STORE_CATEGORY_ALL for the global flag. is_exception marks a category
 * opted back in while the global flag is set (an opt-in of that one
 * category after an opt-out of everything): that category is allowed.
 *
 * Effective rule (what store_optout_check answers):
 *   blocked(c) = (entry c exists && !c.is_exception)
 *             || (global exists && !(entry c exists && c.is_exception))
 */
struct store_state_entry {
	char		 number[STORE_NUMBER_MAX];
	char		 category[STORE_NAME_MAX];
	bool		 is_exception;
	int64_t		 since;		/* unix seconds */
	uint64_t	 event_id;	/* the event that set it */
};

typedef int (*store_state_fn)(const struct store_state_entry *e, void *arg);

/*
 * Every state entry of every number, ordered by number, a number's global
 * flag first, then its categories by name (export). No entries = opted
 * out of nothing. Returns per the walk convention.
 */
int store_state_all(struct store *st, store_state_fn cb, void *arg);

/*
 * The same from the first number after after ("" or NULL: from the
 * start), so an export can go in chunks, each from its own snapshot:
 * stop the walk (cb > 0) between two numbers and pass the last number
 * seen to the next call. Returns per the walk convention.
 */
int store_state_after(struct store *st, const char *after, store_state_fn cb,
    void *arg);

/*
 * Bulk import: apply every event in one transaction, all or nothing
 * (each as store_optout_apply would, ids assigned in array order, ev->last
 * filled). On -1 nothing was written. Returns 0 or -1.
 */
int store_import(struct store *st, struct store_event *evs, size_t n);

/* ------------------------------------------------------------------ */
/* Rejected-send audit log.                                            */

/*
 * Query filter; zero / NULL fields do not filter. Strings borrowed.
 * Paging: pass the time and id of the last record of the previous page
 * as after_time and after_id; records come in (time, id) order, so the
 * next page starts right after it, on whichever index the query reads.
 */
struct store_audit_filter {
	int64_t		 since;		/* time >= since (if != 0) */
	int64_t		 until;		/* time < until (if != 0) */
	const char	*number;	/* destination */
	const char	*account;
	const char	*category;
	size_t		 max;		/* stop after max matches (0 = all) */
	int64_t		 after_time;	/* with after_id: (time, id) > */
	uint64_t	 after_id;	/* (after_time, after_id); 0: none */
	const char	*reason;	/* store_audit_reason_name; NULL: any */
};

typedef int (*store_audit_fn)(const struct store_audit *a, void *arg);

/*
 * Matching records in time order (ties by id). A number filter uses the
 * per-number index and the records not yet in it (store_audit_index); an
 * account filter (else a category filter) the per-account (category)
 * index, which every record written by this build is in, and a scan of
 * the records an older stopgate wrote that store_audit_index has not
 * indexed yet; a time range alone reads only that range. What a query
 * reads is bounded by its matches, not by the log's size (once the idle
 * indexing is done); its answer never depends on indexing progress.
 * Returns per the walk convention.
 */
int store_audit_query(struct store *st, const struct store_audit_filter *f,
    store_audit_fn cb, void *arg);

/*
 * Records are written unindexed by number (cheap on the proxy's reject
 * path) and queries by number read that backlog whole besides the
 * per-number index, so the backlog must be kept short: call this when
 * idle. It moves up to max (at most STORE_AUDIT_INDEX_MAX) of the oldest
 * unindexed records into the index, in one transaction committed like
 * store_batch_put's; with room left, it goes on indexing by account and
 * category the records of a store written before those indexes (oldest
 * first, a cursor kept in the store). *done = how many it took (0: none
 * left). Query results do not depend on it. Returns 0 or -1.
 *
 * A larger max indexes faster (records of one leaf share its copy) but
 * holds the write lock longer: with a million numbers, 64k records take
 * ~0.2 s at ~320k/s, 256k ~0.4 s at ~640k/s; with ten records a number
 * already indexed, ~100-140k/s either way (a leaf write per record).
 */
#define STORE_AUDIT_INDEX_MAX	262144
int store_audit_index(struct store *st, size_t max, size_t *done);

/* ------------------------------------------------------------------ */
/* Attribution: the last message sent to each number.                  */

struct store_lastsent_entry {
	char		 number[STORE_NUMBER_MAX];
	struct store_lastsent last;
};

/*
 * Remember the last message sent to each number (later entries for the
 * same number win), n entries in one transaction. Committed without the
 * metadata fsync (MDB_NOMETASYNC): atomic and consistent, but an OS crash
 * (not a process crash) may undo the last such batch; attribution is
 * best-effort and the proxy writes often. Returns 0 or -1.
 */
int store_lastsent_put(struct store *st,
    const struct store_lastsent_entry *entries, size_t n);

/* Read it back: 1 found (out filled), 0 none, -1 error. */
int store_lastsent_get(struct store *st, const char *number,
    struct store_lastsent *out);

/* ------------------------------------------------------------------ */
/* Receipt routing: (upstream, message_id) -> account.                 */

#define STORE_MSGID_MAX		72	/* message_id (65 per SMPP 5.0) + NUL */

struct store_msgmap {
	char		 upstream[STORE_NAME_MAX];
	char		 message_id[STORE_MSGID_MAX];	/* as the SMSC sent */
	char		 account[STORE_NAME_MAX];
	int64_t		 time;		/* when submitted (unix seconds) */
};

/*
 * What the proxy's store writer commits at once: rejected-send audit
 * records (ids are set), receipt map entries, sent-log records
 * (store/sentlog.h) and last-sent entries written straight to the table.
 * One transaction, its data pages synced at commit and its meta page with
 * the next durable write (an OS crash may undo the last such batches, a
 * process crash none once this returns). A record with a bad field is
 * dropped and counted in *nbad. The arrays are only read (audit ids
 * aside), so another thread may read them meanwhile. Returns 0 or -1
 * (nothing written).
 */
struct store_sentlog_entry;
struct store_freq_entry;
struct store_batch {
	struct store_audit		*audit;
	size_t				 naudit;
	const struct store_msgmap	*msgmap;
	size_t				 nmsgmap;
	const struct store_sentlog_entry *sentlog;
	size_t				 nsentlog;
	const struct store_lastsent_entry *lastsent;
	size_t				 nlastsent;
	const struct store_freq_entry	*freq;	/* store/freq.c */
	size_t				 nfreq;
};
int store_batch_put(struct store *st, struct store_batch *b, size_t *nbad);

/*
 * Find the account for a receipt. message_id is normalised; if that is
 * not found and the id reads as a number in the other base (decimal vs
 * hex, both within 64 bits) that form is tried too. Returns 1 found
 * (account filled), 0 not found, -1 error.
 */
int store_msgmap_get(struct store *st, const char *upstream,
    const char *message_id, char account[STORE_NAME_MAX]);

/* ------------------------------------------------------------------ */
/* Staff review queue (ambiguous replies).                             */

enum store_review_status {
	STORE_REVIEW_OPEN = 0,
	STORE_REVIEW_OPTED_OUT,
	STORE_REVIEW_DISMISSED,
};

struct store_review {
	uint64_t	 id;		/* assigned by the store */
	int64_t		 time;		/* received */
	char		 number[STORE_NUMBER_MAX];	/* subscriber */
	char		 inbound[STORE_NUMBER_MAX];	/* number written to */
	char		 account[STORE_NAME_MAX];	/* forwarded to */
	char		 text[512];
	enum store_review_status status;
	int64_t		 resolved_time;
	char		 actor[64];
	char		 note[256];
	uint64_t	 event_id;	/* opt-out event when OPTED_OUT */
};

typedef int (*store_review_fn)(const struct store_review *r, void *arg);

/*
 * Queue an item (id, status and resolution fields are set by the store).
 * Returns 0 with r->id set, or -1.
 */
int store_review_add(struct store *st, struct store_review *r);

/* Open items, oldest first. Returns per the walk convention. */
int store_review_list(struct store *st, store_review_fn cb, void *arg);

/* One item, open or resolved: 1 found, 0 no such id, -1 error. */
int store_review_get(struct store *st, uint64_t id, struct store_review *out);

/*
 * Resolve an open item. decision is STORE_REVIEW_OPTED_OUT or
 * STORE_REVIEW_DISMISSED; for OPTED_OUT, ev (borrowed, its id/last set on
 * success) is the opt-out event to apply in the same transaction, and
 * must be NULL otherwise. actor and note are copied. Returns 0, or -1
 * (STORE_E_NOTFOUND unknown id, STORE_E_EXISTS already resolved).
 */
int store_review_resolve(struct store *st, uint64_t id,
    enum store_review_status decision, const char *actor, const char *note,
    int64_t time, struct store_event *ev);

/* ------------------------------------------------------------------ */
/* Outbox: MOs / receipts kept while the account has no receiver.      */

/*
 * Append an encoded PDU to account's queue (fsync'd: the caller answers
 * the SMSC only after this returns). Returns 0 with *id set (id may be
 * NULL), or -1; STORE_E_FULL when the account already holds max entries
 * (max 0 = no bound).
 */
int store_outbox_put(struct store *st, const char *account,
    const uint8_t *pdu, size_t len, int64_t time, size_t max, uint64_t *id);

/*
 * The oldest entry of account: 1 found (id, pdu copied into buf, *len;
 * *time if time non-NULL), 0 empty, -1 error (STORE_E_INVAL with *len set
 * to the size needed if cap is too small).
 */
int store_outbox_peek(struct store *st, const char *account, uint64_t *id,
    uint8_t *buf, size_t cap, size_t *len, int64_t *time);

typedef int (*store_outbox_fn)(uint64_t id, int64_t time,
    const uint8_t *pdu, size_t len, void *arg);

/* Delete an entry once delivered. Returns 0, or -1 (STORE_E_NOTFOUND). */
int store_outbox_del(struct store *st, const char *account, uint64_t id);

/* Entries queued for account. Returns 0 with *n set, or -1. */
int store_outbox_count(struct store *st, const char *account, size_t *n);

/* ------------------------------------------------------------------ */
/* Confirmation loop guard.                                            */

enum store_confirm {
	STORE_CONFIRM_OPT_OUT = 0,
	STORE_CONFIRM_OPT_IN,
	STORE_CONFIRM_HELP,
	STORE_CONFIRM_LESS,
};

/*
 * May a confirmation of kind be sent to number now? 1 yes, and the
 * sending is recorded at now; 0 no, one was recorded within window_s
 * seconds before now; -1 error (the caller should not send).
 */
int store_confirm_mark(struct store *st, const char *number,
    enum store_confirm kind, int64_t now, int64_t window_s);

/* ------------------------------------------------------------------ */
/* Retention and housekeeping.                                         */

/* Zero fields take the defaults in brackets. */
struct store_retention {
	unsigned	 events_days;	/* [1461] opt-out/in history */
	unsigned	 audit_days;	/* [1461] rejected sends */
	unsigned	 review_days;	/* [1461] resolved review items */
	unsigned	 msgmap_hours;	/* [72] receipt map */
	unsigned	 outbox_hours;	/* [48] undelivered MOs / receipts */
	unsigned	 confirm_hours;	/* [168] loop-guard marks */
	unsigned	 lastsent_days;	/* [1461] attribution */
};

struct store_expired {
	size_t		 events, audit, review, msgmap, outbox, confirm,
			 lastsent;
};

/*
 * Delete what is older than its retention at now. Never touches current
 * opt-out state, and keeps every event that a state entry refers to.
 * Works in bounded transactions, so a large backlog cannot overflow one.
 * r may be NULL (all defaults); counts, if non-NULL, receives what was
 * deleted. Returns 0 or -1.
 */
int store_expire(struct store *st, int64_t now, const struct store_retention *r,
    struct store_expired *counts);

/* ------------------------------------------------------------------ */
/* Waiting parts of concatenated MOs.                                  */

/*
 * Each part of a concatenated subscriber reply is acknowledged to the
 * SMSC as it comes, so it is kept here (durably, before its answer)
 * until the last part completes the message; a restart then loses no
 * part, and a STOP split over parts is still acted on. Times are Unix
 * milliseconds.
 */
#define STORE_MOPART_TEXT_MAX	2048	/* UTF-8 bytes of one part */

struct store_mopart {
	char		 subscriber[STORE_NUMBER_MAX];
	char		 inbound[STORE_NUMBER_MAX];
	uint16_t	 ref;		/* concatenation reference */
	uint8_t		 total;		/* parts in the message */
	uint8_t		 seq;		/* this part, 1..total */
	int64_t		 time;		/* when it came, ms */
	size_t		 len;		/* bytes of text */
	char		 text[STORE_MOPART_TEXT_MAX]; /* decoded, no NUL */
};

/*
 * Keep part p (replacing the same part kept before) and, in the same
 * durable transaction, delete every part kept before expire_before (ms;
 * 0: none). Returns 0 or -1 (STORE_E_INVAL for a bad field).
 */
int store_mopart_put(struct store *st, const struct store_mopart *p,
    int64_t expire_before);

/*
 * Delete every part of the message of p (subscriber, inbound, ref,
 * total; seq, time and text are ignored), durably. Returns 0 or -1.
 */
int store_mopart_del(struct store *st, const struct store_mopart *p);

/* A kept part (a copy the callee may keep). Returns 0 to go on. */
typedef int (*store_mopart_fn)(const struct store_mopart *p, void *arg);

/*
 * Delete every part kept before expire_before (ms; 0: none), then call
 * cb on each part left, in key order (a message's parts together, by
 * seq). Returns per the walk convention (0, cb's nonzero, or -1).
 */
int store_mopart_load(struct store *st, int64_t expire_before,
    store_mopart_fn cb, void *arg);

/* Sizes and counts for `stopgate stats` and /metrics. */
struct store_info {
	uint32_t	 schema_version;
	uint64_t	 map_size;	/* bytes, current */
	uint64_t	 map_used;	/* bytes used (last page * page size) */
	uint64_t	 last_event_id;
	size_t		 state, events, audit, review_open, outbox, msgmap,
			 lastsent, confirm;
	/* A growth of the lookup tables (store_lookup_grow_step): numbers
	 * moved of those to move; 0 and 0 when none is under way. */
	uint64_t	 lookup_grow_moved, lookup_grow_total;
};

/* Fill *out. Returns 0 or -1. */
int store_info(struct store *st, struct store_info *out);

#define STORE_SCHEMA_VERSION	1

#endif /* STORE_STORE_H */
