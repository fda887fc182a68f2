/*
 * The core of the store (store.c): the handle, the databases, errors, the
 * write-transaction runner with map growth, the reused read transaction,
 * walks, sequences and key helpers. Internal to store/ (and its tests):
 * lmdb.h never reaches the proxy.
 *
 * Layout: one environment, named databases (see enum store_db). Ids are
 * 64-bit sequences kept in "meta" and written big-endian in keys so that
 * byte order is numeric order. Times in keys are biased (x ^ 1 << 63) so
 * negative times sort first. Values are serialised field by field with a
 * leading version byte (store/codec.c); never raw structs. What answers
 * "is this number opted out" and keeps its tables is store/lookup.c.
 */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store/store.h"

enum store_db {
	STORE_DB_META = 0,	/* "schema", "seq.*" -> u32 / u64 */
	STORE_DB_STATE,		/* number \0 category -> state value
				 * (lookup.c) */
	STORE_DB_EVENTS,	/* id -> event */
	STORE_DB_EVNUM,		/* number \0 id -> "" */
	STORE_DB_AUDIT,		/* time id -> audit record */
	STORE_DB_AUDITNUM,	/* destination \0 time id -> "" (indexed
				 * from AUDITNEW by store_audit_index) */
	STORE_DB_REVIEW,	/* id -> review item */
	STORE_DB_REVOPEN,	/* id -> "" for open items */
	STORE_DB_OUTBOX,	/* account \0 seq -> time pdu */
	STORE_DB_OBMETA,	/* account -> next seq, count */
	STORE_DB_MSGMAP,	/* upstream \0 message_id -> time account */
	STORE_DB_MSGTIME,	/* time upstream \0 message_id -> "" */
	STORE_DB_LASTSENT,	/* number -> lastsent */
	STORE_DB_CONFIRM,	/* number \0 kind -> time */
	STORE_DB_NUMIDX,	/* packed number -> summary of its state
				 * (summary.c), for numbers with state */
	STORE_DB_FILTER,	/* chunk -> Bloom filter bits (filter.c) */
	STORE_DB_SENTLOG,	/* be64 seq -> number lastsent (sentlog.c) */
	STORE_DB_AUDITNEW,	/* be64 id -> time id destination, audit
				 * records not yet in AUDITNUM (audit.c) */
	STORE_DB_NUMHASH,	/* chunk -> hash slots of the numbers with
				 * state (numhash.c) */
	STORE_DB_AUDITACC,	/* account \0 time id -> "" (audit.c) */
	STORE_DB_AUDITCAT,	/* category \0 time id -> "" (audit.c) */
	STORE_DB_MOPARTS,	/* subscriber \0 inbound \0 ref total seq ->
				 * time text: waiting MO parts (moparts.c) */
	STORE_DB_DAILY,		/* day kind a \0 b -> count (daily.c) */
	STORE_DB_FREQ,		/* "C" number \0 category -> send times;
				 * "L" number \0 category -> LESS (freq.c) */
	STORE_DB_JOURNAL,	/* be64 row -> kind id: events to ship to
				 * the fleet (journal.c) */
	STORE_DB_PENDING,	/* number \0 be64 event id -> "": local
				 * events the fleet has not ordered yet */
	STORE_DB_REVMAP,	/* 'L' be64 local review id -> node \0 be64
				 * origin id; 'O' node \0 be64 origin id ->
				 * be64 local id: fleet review items */
	STORE_DB_COUNT,
};

/*
 * What the handles of one environment in one process share (store_open
 * and its store_sibling()s). LMDB lets any thread remap the environment
 * (mdb_env_set_mapsize) only while no other thread is inside a
 * transaction: every transaction runs under the read side of maplock and a
 * remap takes the write side. map_gen counts remaps: a handle's copy
 * (struct store's map_gen, updated when it takes the read side) tells
 * lookup.c that views it holds point into an old mapping.
 */
struct store_shared {
	pthread_rwlock_t maplock;
	_Atomic uint64_t map_gen;
	_Atomic int	 refs;
	_Atomic int	 durable_waiting;	/* durable writes begun */
};

struct store_lookup;

struct store {
	MDB_env		*env;
	struct store_shared *sh;	/* refs counted */
	unsigned	 lockdepth;	/* maplock read holds of this handle */
	uint64_t	 map_gen;	/* sh->map_gen last seen */
	MDB_dbi		 dbi[STORE_DB_COUNT];
	MDB_txn		*rtxn;		/* reused read txn, reset when idle */
	MDB_cursor	*rcur;		/* state cursor of rtxn */
	bool		 is_rcur_fresh;	/* renewed for the current rtxn */
	bool		 is_rtxn_live;	/* rtxn renewed, maplock read held */
	unsigned	 read_hold;	/* store_read_hold() depth */
	struct store_lookup *lk;	/* owned; lookup.c's per-handle state */
	uint8_t		*chunk;		/* owned; STORE_CHUNK bytes of scratch
					 * to copy a chunk being changed */
	bool		 is_read_only;
	bool		 is_remote_apply;	/* journal.c: a fleet event */
	/*
	 * A read-only handle on a store written by an older stopgate may
	 * lack a database added since; it reads as empty.
	 */
	bool		 is_missing[STORE_DB_COUNT];
	int		 walks;		/* read txns open in walks */
	size_t		 map_max;	/* bytes */
	enum store_error code;
	char		 errmsg[256];
	struct store_write_stats ws;	/* store_write's timings */
};

/* A write retried this often without fitting is a bug, not a full map. */
#define STORE_WRITE_TRIES	40

/* Key buffer large enough for every key we build (LMDB max is 511). */
#define STORE_KEY_MAX		256

/* Returned by a write body when it has set st's error itself. */
#define STORE_RC_SET		(-1000000)

/* Error reporting: set code and a formatted message. Returns -1. */
int store_fail(struct store *st, enum store_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set the error from an LMDB return code, "doing" says what failed. */
int store_fail_mdb(struct store *st, int rc, const char *doing);
/* Clear the error at the start of a call. */
void store_ok(struct store *st);

/*
 * Run body in a write transaction and commit. A body returns 0, an LMDB
 * code, or STORE_RC_SET. On MDB_MAP_FULL the map is grown (doubling, up to
 * map_max) and the body is run again from scratch, so bodies must only
 * depend on their inputs. is_lazy commits with MDB_NOMETASYNC. Returns 0
 * or -1 with the error set.
 */
typedef int (*store_body_fn)(struct store *st, MDB_txn *txn, void *arg);
int store_write(struct store *st, store_body_fn body, void *arg,
    bool is_lazy, const char *doing);

/*
 * The shared read txn for point lookups: renewed on entry (so it sees the
 * latest commit of any process), reset by store_read_end(); while a
 * store_read_hold() is on, renewed on the first entry only and kept until
 * the release. Returns the txn or NULL with the error set.
 */
MDB_txn *store_read_begin(struct store *st);
void store_read_end(struct store *st);
/* The state cursor of the shared read txn (renewed on first use). */
MDB_cursor *store_read_cursor(struct store *st);

/* A private read txn for walks (callbacks may do point lookups). */
MDB_txn *store_walk_begin(struct store *st);
void store_walk_end(struct store *st, MDB_txn *txn);
/*
 * Open a cursor on db in txn (owned by the caller: close it with
 * mdb_cursor_close() or store_walk_finish()) and put it on the first key
 * >= key (klen bytes; klen 0: the first key of db), filling k and v.
 * *cur is NULL if the cursor could not be opened. Returns 0,
 * MDB_NOTFOUND past the last key, or an LMDB code.
 */
int store_cursor_seek(struct store *st, MDB_txn *txn, enum store_db db,
    const void *key, size_t klen, MDB_cursor **cur, MDB_val *k,
    MDB_val *v);
/*
 * End a walk: close cur (NULL: none), end txn (from store_walk_begin()),
 * and give the walk's return: -1 with the error set for doing if rc (the
 * last LMDB code) is an error other than MDB_NOTFOUND, else
 * store_walk_result(st, cbret).
 */
int store_walk_finish(struct store *st, MDB_txn *txn, MDB_cursor *cur,
    int rc, int cbret, const char *doing);

/*
 * Background drains (the audit index backlog, the sent log): they move
 * entries off the front of a log table in bounded lazy transactions.
 *
 * store_drain() runs body in one lazy write transaction with d->ents
 * scratch room for d->cap = min(max, limit) entries of size bytes
 * (allocated here and freed before returning); arg (passed to body)
 * holds d. Nothing is done when max is 0. Returns 0, or -1 with the
 * error set for doing.
 */
struct store_drain {
	void		*ents;		/* scratch, d->cap entries */
	size_t		 cap;
	size_t		 n;		/* entries popped (by the body) */
};
int store_drain(struct store *st, struct store_drain *d, size_t max,
    size_t limit, size_t size, store_body_fn body, void *arg,
    const char *doing);
/*
 * In a drain's body: pop up to d->cap entries off the front of db. take
 * gets each entry (key, value) with its index in d->ents before the entry
 * is deleted, and returns 0 or an LMDB code. Sets d->n. Returns 0 or an
 * LMDB code.
 */
typedef int (*store_take_fn)(struct store_drain *d, size_t i,
    const MDB_val *k, const MDB_val *v);
int store_drain_pop(struct store *st, MDB_txn *txn, enum store_db db,
    struct store_drain *d, store_take_fn take);

/* Next value of a sequence in meta, starting at 1. 0 or an LMDB code. */
int store_seq_next(struct store *st, MDB_txn *txn, const char *name,
    uint64_t *out);
/* Current value of a sequence (0 if never used). */
int store_seq_peek(struct store *st, MDB_txn *txn, const char *name,
    uint64_t *out);

/* Parse an action name (store_action_name()). Returns 0 or -1. */
int store_action_parse(const char *name, enum store_action *out);

/* Check a string argument: non-empty, shorter than cap. */
bool store_str_ok(const char *s, size_t cap);
/* Same for a fixed array field (must hold a NUL). */
bool store_field_ok(const char *s, size_t cap, bool may_be_empty);
/* Copy with truncation (fields already validated). */
void store_copy(char *dst, size_t cap, const char *src);

/* Walk-callback result to the walk convention. */
int store_walk_result(struct store *st, int cbret);

/*
 * Key builders: write "a \0 b" (b may be NULL: "a \0") into buf. Return
 * the length, or 0 if it does not fit.
 */
size_t store_key2(uint8_t *buf, size_t cap, const char *a, const char *b);

/* Does key start with prefix (plen bytes)? */
bool store_key_has_prefix(const MDB_val *key, const uint8_t *prefix,
    size_t plen);

#endif /* STORE_STORE_INT_H */
