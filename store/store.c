/*
 * store: the core every other part of store/ builds on: errors, the
 * write-transaction runner with map growth, the reused read transaction,
 * walks, sequences and small helpers (see store/store_int.h). Opening and
 * closing is store/open.c.
 */
#include "store/store.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/bytes.h"
#include "store/store_int.h"

#define MB			((size_t)1024 * 1024)

/* ------------------------------------------------------------------ */
/* Errors and names.                                                   */

int
store_fail(struct store *st, enum store_error code, const char *fmt, ...)
{
	va_list ap;

	st->code = code;
	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

int
store_fail_mdb(struct store *st, int rc, const char *doing)
{
	if (rc == STORE_RC_SET)
		return -1;
	if (rc == MDB_MAP_FULL)
		return store_fail(st, STORE_E_MAPFULL,
		    "%s: store map full (limit %zu MB)", doing,
		    st->map_max / MB);
	return store_fail(st, STORE_E_IO, "%s: %s", doing, mdb_strerror(rc));
}

void
store_ok(struct store *st)
{
	st->code = STORE_E_OK;
	st->errmsg[0] = '\0';
}

const char *
store_errmsg(const struct store *st)
{
	if (st == NULL)
		return "no store";
	return st->errmsg[0] != '\0' ? st->errmsg : "no error";
}

enum store_error
store_errcode(const struct store *st)
{
	return st->code;
}

const char *
store_error_name(enum store_error e)
{
	static const char *const names[] = {
		[STORE_E_OK] = "ok",
		[STORE_E_IO] = "io",
		[STORE_E_INVAL] = "invalid",
		[STORE_E_NOTFOUND] = "not_found",
		[STORE_E_EXISTS] = "exists",
		[STORE_E_FULL] = "full",
		[STORE_E_MAPFULL] = "map_full",
		[STORE_E_SCHEMA] = "schema",
		[STORE_E_READONLY] = "read_only",
		[STORE_E_CALLBACK] = "callback",
	};

	if ((unsigned)e >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[e];
}

static const char *const store_action_names[] = {
	[STORE_OPT_OUT] = "opt_out",
	[STORE_OPT_IN] = "opt_in",
	[STORE_LESS] = "less",
};

static const char *const store_audit_reason_names[] = {
	[STORE_AUDIT_OPTED_OUT] = "opted_out",
	[STORE_AUDIT_FREQUENCY_CAP] = "frequency_cap",
	[STORE_AUDIT_QUIET_HOURS] = "quiet_hours",
};

static const char *const store_source_names[] = {
	[STORE_SRC_SMS_KEYWORD] = "sms_keyword",
	[STORE_SRC_STAFF] = "staff",
	[STORE_SRC_API] = "api",
	[STORE_SRC_IMPORT] = "import",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

const char *
store_action_name(enum store_action a)
{
	if ((unsigned)a >= NELEM(store_action_names))
		return "?";
	return store_action_names[a];
}

const char *
store_audit_reason_name(enum store_audit_reason r)
{
	if ((unsigned)r >= NELEM(store_audit_reason_names))
		return "?";
	return store_audit_reason_names[r];
}

const char *
store_source_name(enum store_source s)
{
	if ((unsigned)s >= NELEM(store_source_names))
		return "?";
	return store_source_names[s];
}

int
store_action_parse(const char *name, enum store_action *out)
{
	size_t i;

	for (i = 0; i < NELEM(store_action_names); i++)
		if (strcmp(name, store_action_names[i]) == 0) {
			*out = (enum store_action)i;
			return 0;
		}
	return -1;
}

int
store_source_parse(const char *name, enum store_source *out)
{
	size_t i;

	for (i = 0; i < NELEM(store_source_names); i++)
		if (strcmp(name, store_source_names[i]) == 0) {
			*out = (enum store_source)i;
			return 0;
		}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

bool
store_str_ok(const char *s, size_t cap)
{
	return s != NULL && s[0] != '\0' && memchr(s, '\0', cap) != NULL;
}

bool
store_field_ok(const char *s, size_t cap, bool may_be_empty)
{
	if (memchr(s, '\0', cap) == NULL)
		return false;
	return may_be_empty || s[0] != '\0';
}

void
store_copy(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (src == NULL)
		src = "";
	n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
store_walk_result(struct store *st, int cbret)
{
	if (cbret < 0) {
		store_fail(st, STORE_E_CALLBACK, "stopped by the callback");
		return cbret;
	}
	return 0;
}

size_t
store_key2(uint8_t *buf, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a), lb = b != NULL ? strlen(b) : 0;

	if (la + 1 + lb > cap)
		return 0;
	memcpy(buf, a, la);
	buf[la] = '\0';
	if (lb > 0)
		memcpy(buf + la + 1, b, lb);
	return la + 1 + lb;
}

bool
store_key_has_prefix(const MDB_val *key, const uint8_t *prefix, size_t plen)
{
	return key->mv_size >= plen && memcmp(key->mv_data, prefix, plen) == 0;
}

/* ------------------------------------------------------------------ */
/* Background drains.                                                  */

int
store_drain(struct store *st, struct store_drain *d, size_t max,
    size_t limit, size_t size, store_body_fn body, void *arg,
    const char *doing)
{
	int rc;

	d->n = 0;
	if (max == 0)
		return 0;
	if (st->is_read_only)
		return store_fail(st, STORE_E_READONLY,
		    "%s: store opened read-only", doing);
	d->cap = max < limit ? max : limit;
	if ((d->ents = calloc(d->cap, size)) == NULL)
		return store_fail(st, STORE_E_IO, "%s: %s", doing,
		    strerror(errno));
	rc = store_write(st, body, arg, true, doing);
	free(d->ents);
	d->ents = NULL;
	return rc;
}

int
store_drain_pop(struct store *st, MDB_txn *txn, enum store_db db,
    struct store_drain *d, store_take_fn take)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, op = MDB_FIRST;

	d->n = 0;
	if ((rc = mdb_cursor_open(txn, st->dbi[db], &cur)) != 0)
		return rc;
	while (d->n < d->cap) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0 ||
		    (rc = take(d, d->n, &k, &v)) != 0)
			break;
		/* MDB_NEXT after a delete yields the successor. */
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		op = MDB_NEXT;
		d->n++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ------------------------------------------------------------------ */
/* Sequences.                                                          */

int
store_seq_peek(struct store *st, MDB_txn *txn, const char *name,
    uint64_t *out)
{
	MDB_val k = { strlen(name), (void *)(uintptr_t)name }, v;
	int rc;

	rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		*out = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	*out = store_be64_get(v.mv_data);
	return 0;
}

int
store_seq_next(struct store *st, MDB_txn *txn, const char *name,
    uint64_t *out)
{
	MDB_val k = { strlen(name), (void *)(uintptr_t)name }, v;
	uint8_t buf[8];
	uint64_t cur;
	int rc;

	if ((rc = store_seq_peek(st, txn, name, &cur)) != 0)
		return rc;
	store_be64_put(buf, cur + 1);
	v.mv_size = sizeof(buf);
	v.mv_data = buf;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0)) != 0)
		return rc;
	*out = cur + 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Transactions.                                                       */

/*
 * The map lock (see struct store_shared). Reads nest: a handle takes the
 * read side once, however many of its reads and walks are open.
 */
static void
store_lock(struct store *st)
{
	uint64_t gen;

	if (st->lockdepth++ > 0)
		return;
	pthread_rwlock_rdlock(&st->sh->maplock);
	/* A remap since: lookup.c drops its views into the old map. */
	gen = atomic_load(&st->sh->map_gen);
	if (gen != st->map_gen)
		st->map_gen = gen;
}

static void
store_unlock(struct store *st)
{
	if (--st->lockdepth == 0)
		pthread_rwlock_unlock(&st->sh->maplock);
}

/*
 * Remap to size bytes (0: adopt a size another process set), with no
 * transaction of this process open. Called without the read side held.
 */
static int
store_remap(struct store *st, size_t size)
{
	int rc;

	pthread_rwlock_wrlock(&st->sh->maplock);
	rc = mdb_env_set_mapsize(st->env, size);
	atomic_fetch_add(&st->sh->map_gen, 1);
	pthread_rwlock_unlock(&st->sh->maplock);
	return rc;
}

/* Pick up a map grown by another process. */
static int
store_map_adopt(struct store *st)
{
	if (st->lockdepth > 0)
		return MDB_MAP_RESIZED;	/* a walk of ours pins the map */
	return store_remap(st, 0);
}

/*
 * Double the map (from the size seen full, so two threads that both saw
 * it full grow it once), up to map_max. Returns 0, or -1 with the error
 * set.
 */
static int
store_map_grow(struct store *st, size_t seen, const char *doing)
{
	MDB_envinfo info;
	size_t next;
	int rc;

	if (st->lockdepth > 0)
		return store_fail(st, STORE_E_MAPFULL,
		    "%s: store map full and a walk is in progress", doing);
	if ((rc = mdb_env_info(st->env, &info)) != 0)
		return store_fail_mdb(st, rc, doing);
	if (info.me_mapsize > seen)
		return 0;	/* another thread grew it meanwhile */
	if (info.me_mapsize >= st->map_max)
		return store_fail(st, STORE_E_MAPFULL,
		    "%s: store map full at %zu MB (map_max_mb %zu); raise it "
		    "or expire old records", doing, info.me_mapsize / MB,
		    st->map_max / MB);
	next = info.me_mapsize * 2;
	if (next > st->map_max || next < info.me_mapsize)
		next = st->map_max;
	if ((rc = store_remap(st, next)) != 0)
		return store_fail_mdb(st, rc, "growing the store map");
	return 0;
}

static size_t
store_mapsize(struct store *st)
{
	MDB_envinfo info;

	return mdb_env_info(st->env, &info) == 0 ? info.me_mapsize : 0;
}

static uint64_t
store_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
store_write_stats(const struct store *st, struct store_write_stats *out)
{
	*out = st->ws;
}

int
store_write(struct store *st, store_body_fn body, void *arg, bool is_lazy,
    const char *doing)
{
	MDB_txn *txn;
	size_t seen;
	uint64_t t0, t1;
	int rc, tries;

	if (st->is_read_only)
		return store_fail(st, STORE_E_READONLY,
		    "%s: store opened read-only", doing);
	/* A held snapshot would pin the map; lookups after this see it. */
	store_read_pause(st);
	for (tries = 0; tries < STORE_WRITE_TRIES; tries++) {
		if (!is_lazy)
			atomic_fetch_add(&st->sh->durable_waiting, 1);
		store_lock(st);
		seen = store_mapsize(st);
		t0 = store_now_us();
		rc = mdb_txn_begin(st->env, NULL, 0, &txn);
		t1 = store_now_us();
		st->ws.writes++;
		st->ws.wait_us += t1 - t0;
		if (!is_lazy)
			atomic_fetch_sub(&st->sh->durable_waiting, 1);
		if (rc == 0) {
			rc = body(st, txn, arg);
			t0 = store_now_us();
			st->ws.body_us += t0 - t1;
			if (rc != 0)
				mdb_txn_abort(txn);
			else
				rc = mdb_txn_commit(txn);
			t1 = store_now_us();
			st->ws.commit_us += t1 - t0;
			/*
			 * The environment is opened MDB_NOMETASYNC: a commit
			 * syncs its data pages but not the meta page, so an
			 * OS crash may undo it but never corrupts the file.
			 * A durable write syncs the meta page too before it
			 * returns; a lazy one becomes durable with the next.
			 */
			if (rc == 0 && !is_lazy) {
				rc = mdb_env_sync(st->env, 1);
				st->ws.sync_us += store_now_us() - t1;
			}
		}
		store_unlock(st);
		if (rc == MDB_MAP_RESIZED) {
			if ((rc = store_map_adopt(st)) != 0)
				return store_fail_mdb(st, rc, doing);
			continue;
		}
		if (rc == MDB_MAP_FULL) {
			if (store_map_grow(st, seen, doing) != 0)
				return -1;
			continue;
		}
		if (rc != 0)
			return store_fail_mdb(st, rc, doing);
		return 0;
	}
	return store_fail(st, STORE_E_IO, "%s: gave up after %d retries",
	    doing, tries);
}

bool
store_durable_waiting(const struct store *st)
{
	return atomic_load(&st->sh->durable_waiting) > 0;
}

int
store_sync(struct store *st)
{
	int rc;

	if (st->is_read_only)
		return 0;
	if ((rc = mdb_env_sync(st->env, 1)) != 0)
		return store_fail_mdb(st, rc, "syncing the store");
	return 0;
}

MDB_txn *
store_read_begin(struct store *st)
{
	int rc, tries;

	if (st->is_rtxn_live)
		return st->rtxn;	/* held (store_read_hold) */
	for (tries = 0; tries < 3; tries++) {
		store_lock(st);
		if (st->rtxn == NULL) {
			rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY,
			    &st->rtxn);
			if (rc != 0)
				st->rtxn = NULL;
		} else {
			rc = mdb_txn_renew(st->rtxn);
		}
		if (rc == 0)
			break;
		store_unlock(st);
		if (rc != MDB_MAP_RESIZED) {
			store_fail_mdb(st, rc, "starting a read");
			return NULL;
		}
		if ((rc = store_map_adopt(st)) != 0) {
			store_fail_mdb(st, rc, "adopting a grown map");
			return NULL;
		}
	}
	if (tries == 3) {
		store_fail(st, STORE_E_IO, "starting a read: map keeps moving");
		return NULL;
	}
	st->is_rcur_fresh = false;
	st->is_rtxn_live = true;
	return st->rtxn;
}

MDB_cursor *
store_read_cursor(struct store *st)
{
	int rc;

	if (st->is_rcur_fresh)
		return st->rcur;
	if (st->rcur == NULL)
		rc = mdb_cursor_open(st->rtxn, st->dbi[STORE_DB_STATE],
		    &st->rcur);
	else
		rc = mdb_cursor_renew(st->rtxn, st->rcur);
	if (rc != 0) {
		if (st->rcur != NULL)
			mdb_cursor_close(st->rcur);
		st->rcur = NULL;
		store_fail_mdb(st, rc, "opening a cursor");
		return NULL;
	}
	st->is_rcur_fresh = true;
	return st->rcur;
}

void
store_read_end(struct store *st)
{
	if (st->read_hold == 0)
		store_read_pause(st);
}

void
store_read_hold(struct store *st)
{
	st->read_hold++;
}

void
store_read_pause(struct store *st)
{
	if (!st->is_rtxn_live)
		return;
	mdb_txn_reset(st->rtxn);
	st->is_rtxn_live = false;
	store_unlock(st);
}

void
store_read_release(struct store *st)
{
	if (st->read_hold > 0 && --st->read_hold == 0)
		store_read_pause(st);
}

MDB_txn *
store_walk_begin(struct store *st)
{
	MDB_txn *txn;
	int rc, tries;

	for (tries = 0; tries < 3; tries++) {
		store_lock(st);
		rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
		if (rc == 0) {
			st->walks++;
			return txn;
		}
		store_unlock(st);
		if (rc != MDB_MAP_RESIZED || (rc = store_map_adopt(st)) != 0)
			break;
	}
	store_fail_mdb(st, rc, "starting a read");
	return NULL;
}

void
store_walk_end(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	st->walks--;
	store_unlock(st);
}

int
store_cursor_seek(struct store *st, MDB_txn *txn, enum store_db db,
    const void *key, size_t klen, MDB_cursor **cur, MDB_val *k, MDB_val *v)
{
	int rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[db], cur)) != 0) {
		*cur = NULL;
		return rc;
	}
	k->mv_size = klen;
	k->mv_data = (void *)(uintptr_t)key;
	return mdb_cursor_get(*cur, k, v, klen > 0 ? MDB_SET_RANGE :
	    MDB_FIRST);
}

int
store_walk_finish(struct store *st, MDB_txn *txn, MDB_cursor *cur, int rc,
    int cbret, const char *doing)
{
	if (cur != NULL)
		mdb_cursor_close(cur);
	store_walk_end(st, txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail_mdb(st, rc, doing);
	return store_walk_result(st, cbret);
}
