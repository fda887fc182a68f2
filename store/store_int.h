/*
 * Internals shared by the store/ sources. Not for use outside store/:
 * this is the one header that includes lmdb.h.
 *
 * Layout: one environment, named databases (see enum store_db). Ids are
 * 64-bit sequences kept in "meta" and written big-endian in keys so that
 * byte order is numeric order. Times in keys are biased (x ^ 1 << 63) so
 * negative times sort first. Values are serialised field by field with a
 * leading version byte (store/codec.c); never raw structs.
 */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store/store.h"

enum store_db {
	STORE_DB_META = 0,	/* "schema", "seq.*" -> u32 / u64 */
	STORE_DB_STATE,		/* number \0 category -> state value */
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
	STORE_DB_NUMIDX,	/* packed number -> "" if it has state */
	STORE_DB_FILTER,	/* chunk -> Bloom filter bits (filter.c) */
	STORE_DB_SENTLOG,	/* be64 seq -> number lastsent (sentlog.c) */
	STORE_DB_AUDITNEW,	/* be64 id -> time id destination, audit
				 * records not yet in AUDITNUM (audit.c) */
	STORE_DB_NUMHASH,	/* chunk -> hash slots of the numbers with
				 * state (numhash.c) */
	STORE_DB_COUNT,
};

/*
 * What the handles of one environment in one process share (store_open
 * and its store_sibling()s). LMDB lets any thread remap the environment
 * (mdb_env_set_mapsize) only while no other thread is inside a
 * transaction: every transaction runs under the read side of maplock and a
 * remap takes the write side. map_gen counts remaps, so a handle drops
 * filter views that point into the old mapping.
 */
struct store_shared {
	pthread_rwlock_t maplock;
	_Atomic uint64_t map_gen;
	_Atomic int	 refs;
	_Atomic int	 durable_waiting;	/* durable writes begun */
};

/*
 * Views into the shared read txn's snapshot of a table stored as chunks
 * of one size under integer keys 0..n-1: the filter's and the numbers
 * hash's. A view is fetched on first use. A renewed txn with the same id
 * (txnid) is the same snapshot, whose pages no writer may reuse, so the
 * views stay valid; so does a later snapshot in which the owner finds the
 * table's parameters, generation included, unchanged (no chunk was
 * written since). Any other snapshot, or a remap, drops them all.
 */
struct store_chunk_views {
	bool		 is_valid;
	size_t		 txnid;
	const uint8_t	**chunks;	/* owned; NULL: not fetched yet */
	uint64_t	 n;
	size_t		 cap;
};

/* Forget every view and make room for n chunks of the snapshot txnid:
 * 0, or -1 when out of memory (the views stay invalid). */
static inline int
store_chunk_views_reset(struct store_chunk_views *cv, uint64_t n,
    size_t txnid)
{
	const uint8_t **a;

	cv->is_valid = false;
	if (n > cv->cap) {
		if ((a = realloc(cv->chunks, n * sizeof(*a))) == NULL)
			return -1;
		cv->chunks = a;
		cv->cap = n;
	}
	memset(cv->chunks, 0, n * sizeof(*cv->chunks));
	cv->n = n;
	cv->txnid = txnid;
	cv->is_valid = true;
	return 0;
}

/* The view of chunk i (size bytes) of dbi in txn, fetched if need be;
 * NULL when it is out of range, missing or of another size. */
static inline const uint8_t *
store_chunk_view(struct store_chunk_views *cv, MDB_txn *txn, MDB_dbi dbi,
    uint64_t i, size_t size)
{
	MDB_val k, v;

	if (i >= cv->n)
		return NULL;
	if (cv->chunks[i] == NULL) {
		k.mv_size = sizeof(i);
		k.mv_data = &i;
		if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size != size)
			return NULL;
		cv->chunks[i] = v.mv_data;
	}
	return cv->chunks[i];
}

/* splitmix64's finaliser: the filter's and the numbers hash's mixing. */
static inline uint64_t
store_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* Category names a numbers hash slot may refer to (ids 1..this). */
#define STORE_NUMHASH_CATS	255

/* Views of the numbers hash in the shared read txn (numhash.c). */
struct store_numhash_views {
	struct store_chunk_views cv;
	uint64_t	 count;		/* the parameters they were loaded */
	uint64_t	 gen;		/* with (nchunks is cv.n) */
	const char	*cats[STORE_NUMHASH_CATS];	/* views, not NUL- */
	uint8_t		 catlens[STORE_NUMHASH_CATS];	/* terminated */
	int		 ncats;
};

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
	uint8_t		*chunk;		/* owned; filter chunk scratch */
	bool		 is_index_ok;	/* numbers index + filter trusted */
	bool		 is_summary_ok;	/* and its values (state summaries)
					 * and the numbers hash */
	bool		 was_positive;	/* last lookup passed the filter */
	/*
	 * Filter views into the shared read txn (the rules are
	 * store_chunk_views'), and the parameters they were loaded with
	 * (filter.c).
	 */
	struct store_chunk_views fv;
	uint64_t	 fc_nblocks;
	uint64_t	 fc_capacity;
	uint64_t	 fc_count;
	uint64_t	 fc_gen;
	struct store_numhash_views hv;	/* same rules as the filter's */
	bool		 is_read_only;
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

/*
 * The numbers index: a number of 1..15 digits packs into an integer key
 * (length << 56 | value) of a small MDB_INTEGERKEY database that holds
 * every number with state. The hot path answers "no state" (the common
 * case) from it with integer compares over far fewer pages than the state
 * keys. Returns false for numbers that do not pack (alphanumeric, long);
 * those always take the state cursor.
 */
bool store_numkey(const char *number, uint64_t *key);	/* store.h */

/*
 * Meta key present once the numbers index (with its state summaries) and
 * the filter were built from the state. An environment from before them
 * has none, and one last indexed by a stopgate from before the summaries
 * has only STORE_NUMIDX_MARKER_V1: a writable open rebuilds the index, a
 * read-only open does without (none) or reads the state entries (v1).
 */
#define STORE_NUMIDX_MARKER	"index.numbers.2"
#define STORE_NUMIDX_MARKER_V1	"index.numbers"
/* Rebuild the numbers index from the state; set the marker, drop v1's. */
int store_numidx_rebuild(struct store *st, MDB_txn *txn);

/* --- numhash.c: exact hash of the numbers with state --------------- */

/* What a slot says of its number. */
#define STORE_NUMHASH_SIMPLE	1	/* one entry, no exception */
#define STORE_NUMHASH_OTHER	2	/* anything else: read the summary */

struct store_numhash_ent {
	int64_t		 since;		/* SIMPLE: the entry's */
	uint64_t	 event_id;
	uint16_t	 catid;		/* SIMPLE: 0 global, else the id */
	uint8_t		 kind;
};

/*
 * On the shared read txn: 1 nk has state (*e is its slot; *is_cat: a
 * SIMPLE category entry is for category, clen bytes), 0 it has none, -1
 * the table cannot say (none, damaged): read the numbers index.
 */
int store_numhash_find(struct store *st, uint64_t nk, const char *category,
    size_t clen, struct store_numhash_ent *e, bool *is_cat);
void store_numhash_prefetch(struct store *st, uint64_t nk);
void store_numhash_forget(struct store *st);
/* In a write txn; 0 or an LMDB code. put: add or replace nk's slot. */
int store_numhash_put(struct store *st, MDB_txn *txn, uint64_t nk,
    const struct store_numhash_ent *e);
int store_numhash_del(struct store *st, MDB_txn *txn, uint64_t nk);
/* Rebuild from the numbers index (whose values it reads). */
int store_numhash_rebuild(struct store *st, MDB_txn *txn);
/* Whether txn has a table (its parameters read). */
bool store_numhash_present(struct store *st, MDB_txn *txn);
/*
 * The id of category name (len bytes): 0 with *id set; MDB_NOTFOUND if
 * it has none and may_add is false, or the table of names is full.
 */
int store_numhash_catid(struct store *st, MDB_txn *txn, const char *name,
    size_t len, bool may_add, uint16_t *id);
/*
 * optout.c: the slot for the numbers index value (summary) v. Returns 1
 * when e is a SIMPLE category entry whose id the caller must set (the
 * category is *cat, *clen bytes, a view into v), else 0.
 */
int store_numhash_ent_of(const MDB_val *v, struct store_numhash_ent *e,
    const char **cat, size_t *clen);

/* --- filter.c: Bloom filter in front of the numbers index ----------- */

#define STORE_FILTER_CHUNK	16384

/* 0: nk certainly has no state; 1: it may (or no filter): look it up. */
int store_filter_test(struct store *st, MDB_txn *txn, uint64_t nk);
/* The same on the shared read txn, through the per-snapshot views. */
int store_filter_test_shared(struct store *st, uint64_t nk);
/* Prefetch nk's block of the shared txn's filter (a hint). */
void store_filter_prefetch(struct store *st, uint64_t nk);
/* Forget the views (the map moved). */
void store_filter_forget(struct store *st);
/* Add a number newly put in the numbers index. 0 or an LMDB code. */
int store_filter_add(struct store *st, MDB_txn *txn, uint64_t nk);
/* Rebuild the filter from the numbers index. 0 or an LMDB code. */
int store_filter_rebuild(struct store *st, MDB_txn *txn);

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

/* Next value of a sequence in meta, starting at 1. 0 or an LMDB code. */
int store_seq_next(struct store *st, MDB_txn *txn, const char *name,
    uint64_t *out);
/* Current value of a sequence (0 if never used). */
int store_seq_peek(struct store *st, MDB_txn *txn, const char *name,
    uint64_t *out);

/* Check a string argument: non-empty, shorter than cap. */
bool store_str_ok(const char *s, size_t cap);
/* Same for a fixed array field (must hold a NUL). */
bool store_field_ok(const char *s, size_t cap, bool may_be_empty);
/* Copy with truncation (fields already validated). */
void store_copy(char *dst, size_t cap, const char *src);

/* Walk-callback result to the walk convention. */
int store_walk_result(struct store *st, int cbret);

/* Big-endian integers and biased times. */
void store_be64_put(uint8_t *p, uint64_t v);
uint64_t store_be64_get(const uint8_t *p);
void store_time_put(uint8_t *p, int64_t t);
int64_t store_time_get(const uint8_t *p);

/*
 * Key builders: write "a \0 b" (b may be NULL: "a \0") into buf. Return
 * the length, or 0 if it does not fit.
 */
size_t store_key2(uint8_t *buf, size_t cap, const char *a, const char *b);

/* Does key start with prefix (plen bytes)? */
bool store_key_has_prefix(const MDB_val *key, const uint8_t *prefix,
    size_t plen);

/* --- codec.c: versioned field-by-field values ----------------------- */

#define STORE_VALUE_MAX		8192	/* every encoded record fits */

struct store_wbuf {
	uint8_t		*p;
	size_t		 cap;
	size_t		 len;
	bool		 is_bad;
};

struct store_rbuf {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	bool		 is_bad;
};

void store_w_u8(struct store_wbuf *w, uint8_t v);
void store_w_u32(struct store_wbuf *w, uint32_t v);
void store_w_u64(struct store_wbuf *w, uint64_t v);
void store_w_i64(struct store_wbuf *w, int64_t v);
void store_w_str(struct store_wbuf *w, const char *s, size_t cap);
void store_w_bytes(struct store_wbuf *w, const uint8_t *b, size_t n);

uint8_t store_r_u8(struct store_rbuf *r);
uint32_t store_r_u32(struct store_rbuf *r);
uint64_t store_r_u64(struct store_rbuf *r);
int64_t store_r_i64(struct store_rbuf *r);
void store_r_str(struct store_rbuf *r, char *out, size_t cap);
void store_r_bytes(struct store_rbuf *r, uint8_t *out, size_t n);

/* State value: flags, since, event id. */
#define STORE_STATE_LEN		18
#define STORE_STATE_EXCEPTION	0x01
void store_state_encode(uint8_t out[STORE_STATE_LEN], bool is_exception,
    int64_t since, uint64_t event_id);
int store_state_decode(const MDB_val *v, bool *is_exception, int64_t *since,
    uint64_t *event_id);

/* Records: encode returns the length (0 on overflow); decode 0 or -1. */
size_t store_event_encode(const struct store_event *ev, uint8_t *buf,
    size_t cap);
int store_event_decode(const MDB_val *v, uint64_t id, struct store_event *ev);
size_t store_audit_encode(const struct store_audit *a, uint8_t *buf,
    size_t cap);
int store_audit_decode(const MDB_val *v, struct store_audit *a);
size_t store_review_encode(const struct store_review *r, uint8_t *buf,
    size_t cap);
int store_review_decode(const MDB_val *v, struct store_review *r);
size_t store_lastsent_encode(const struct store_lastsent *l, uint8_t *buf,
    size_t cap);
int store_lastsent_decode(const MDB_val *v, struct store_lastsent *l);

/* --- optout.c ------------------------------------------------------- */

/* Apply one event inside txn (used by apply, import, review resolve). */
int store_event_apply_txn(struct store *st, MDB_txn *txn,
    struct store_event *ev);
/* Validate an event from a caller; 0 or -1 with the error set. */
int store_event_check(struct store *st, const struct store_event *ev);

#endif /* STORE_STORE_INT_H */
