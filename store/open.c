/*
 * store/open: opening an environment (creating it if need be, checking
 * its schema), sibling handles and closing.
 */
#include "store/store.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "store/audit_int.h"
#include "store/chunkview_int.h"
#include "store/daily_int.h"
#include "store/lookup_int.h"
#include "store/store_int.h"

#define MB			((size_t)1024 * 1024)
#define STORE_MAP_DEFAULT_MB	1024
#define STORE_MAP_MAX_DEFAULT_MB 65536

static const char *const store_db_names[STORE_DB_COUNT] = {
	[STORE_DB_META] = "meta",
	[STORE_DB_STATE] = "state",
	[STORE_DB_EVENTS] = "events",
	[STORE_DB_EVNUM] = "events_by_number",
	[STORE_DB_AUDIT] = "audit",
	[STORE_DB_AUDITNUM] = "audit_by_number",
	[STORE_DB_REVIEW] = "review",
	[STORE_DB_REVOPEN] = "review_open",
	[STORE_DB_OUTBOX] = "outbox",
	[STORE_DB_OBMETA] = "outbox_meta",
	[STORE_DB_MSGMAP] = "msgmap",
	[STORE_DB_MSGTIME] = "msgmap_by_time",
	[STORE_DB_LASTSENT] = "lastsent",
	[STORE_DB_CONFIRM] = "confirm",
	[STORE_DB_NUMIDX] = "numbers",
	[STORE_DB_FILTER] = "filter",
	[STORE_DB_SENTLOG] = "sentlog",
	[STORE_DB_AUDITNEW] = "audit_new",
	[STORE_DB_NUMHASH] = "numbers_hash",
	[STORE_DB_AUDITACC] = "audit_by_account",
	[STORE_DB_AUDITCAT] = "audit_by_category",
	[STORE_DB_MOPARTS] = "mo_parts",
	[STORE_DB_DAILY] = "daily",
	[STORE_DB_FREQ] = "freq",
	[STORE_DB_JOURNAL] = "cluster_journal",
	[STORE_DB_PENDING] = "cluster_pending",
	[STORE_DB_REVMAP] = "cluster_review_map",
};

/* mkdir -p path (mode 0700 for what we create). */
static int
store_mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path), i;

	if (n == 0 || n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -1;
		buf[i] = path[i];
	}
	return 0;
}

static int
store_open_dbs(struct store *st, MDB_txn *txn)
{
	unsigned flags = st->is_read_only ? 0 : MDB_CREATE;
	int i, rc;

	for (i = 0; i < STORE_DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_db_names[i], flags |
		    (i == STORE_DB_NUMIDX || i == STORE_DB_FILTER ||
		    i == STORE_DB_NUMHASH ? MDB_INTEGERKEY : 0), &st->dbi[i]);
		if (rc == MDB_NOTFOUND && st->is_read_only &&
		    (i == STORE_DB_SENTLOG || i == STORE_DB_AUDITNEW ||
		    i == STORE_DB_NUMHASH || i == STORE_DB_AUDITACC ||
		    i == STORE_DB_AUDITCAT || i == STORE_DB_MOPARTS ||
		    i == STORE_DB_DAILY || i == STORE_DB_FREQ ||
		    i == STORE_DB_JOURNAL || i == STORE_DB_PENDING ||
		    i == STORE_DB_REVMAP)) {
			st->is_missing[i] = true;
			continue;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Check (and on a new environment, write) the schema version. */
static int
store_schema(struct store *st, MDB_txn *txn, bool *is_new)
{
	MDB_val k = { 6, (void *)(uintptr_t)"schema" }, v;
	uint8_t buf[4];
	uint32_t version;
	int rc;

	rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		if (st->is_read_only)
			return store_fail(st, STORE_E_SCHEMA,
			    "store is not initialised");
		buf[0] = (STORE_SCHEMA_VERSION >> 24) & 0xff;
		buf[1] = (STORE_SCHEMA_VERSION >> 16) & 0xff;
		buf[2] = (STORE_SCHEMA_VERSION >> 8) & 0xff;
		buf[3] = STORE_SCHEMA_VERSION & 0xff;
		v.mv_size = 4;
		v.mv_data = buf;
		*is_new = true;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0)))
			return store_fail_mdb(st, rc, "writing the schema");
		return 0;
	}
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading the schema");
	if (v.mv_size != 4)
		return store_fail(st, STORE_E_SCHEMA,
		    "store schema record is damaged (%zu bytes)", v.mv_size);
	memcpy(buf, v.mv_data, 4);
	version = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	if (version > STORE_SCHEMA_VERSION)
		return store_fail(st, STORE_E_SCHEMA,
		    "store has schema version %u, newer than this build "
		    "(%d); use a newer stopgate", version,
		    STORE_SCHEMA_VERSION);
	if (version == 0)
		return store_fail(st, STORE_E_SCHEMA,
		    "store has invalid schema version 0");
	return 0;
}

/* A new handle with its shared part, or NULL with errno set. */
static struct store *
store_alloc(void)
{
	struct store *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->chunk = malloc(STORE_CHUNK)) == NULL ||
	    (st->sh = calloc(1, sizeof(*st->sh))) == NULL) {
		free(st->chunk);
		free(st);
		return NULL;
	}
	pthread_rwlock_init(&st->sh->maplock, NULL);
	atomic_init(&st->sh->refs, 1);
	atomic_init(&st->sh->map_gen, 0);
	atomic_init(&st->sh->durable_waiting, 0);
	return st;
}

/*
 * Create and open st's environment at path with an initial map of map_mb.
 * Returns 0, or -1 with a message in err (the environment is closed).
 */
static int
store_env_open(struct store *st, const char *path, size_t map_mb, char *err,
    size_t errlen)
{
	unsigned flags;
	int rc, dead;

	if (!st->is_read_only && store_mkdirs(path) != 0) {
		snprintf(err, errlen, "store %s: cannot create: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((rc = mdb_env_create(&st->env)) != 0) {
		st->env = NULL;
		snprintf(err, errlen, "store %s: %s", path, mdb_strerror(rc));
		return -1;
	}
	mdb_env_set_maxdbs(st->env, STORE_DB_COUNT + 2);
	mdb_env_set_mapsize(st->env, map_mb * MB);
	/*
	 * MDB_NOTLS: the reused read txn is not tied to a thread's TLS slot,
	 * and walks may hold their own read txn at the same time.
	 * MDB_NOMETASYNC: see store_write(). No
	 * MDB_NOSYNC: every commit of an opt-out is fsync'd.
	 */
	flags = MDB_NOTLS | (st->is_read_only ? MDB_RDONLY : MDB_NOMETASYNC);
	if ((rc = mdb_env_open(st->env, path, flags, 0600)) != 0) {
		snprintf(err, errlen, "store %s: %s", path, mdb_strerror(rc));
		mdb_env_close(st->env);
		st->env = NULL;
		return -1;
	}
	/* Free reader slots left by killed processes (kill -9). */
	mdb_reader_check(st->env, &dead);
	return 0;
}

/*
 * The first transaction: open the databases, check the schema and let
 * lookup.c check (or build) its tables. Returns 0, or -1 with a message
 * in err.
 */
static int
store_open_txn(struct store *st, const char *path, char *err, size_t errlen)
{
	MDB_txn *txn;
	bool is_new = false;
	int rc, tries;

	/*
	 * Another process (the daemon, when this is the CLI) may commit past
	 * the size just mapped, which covers only what was committed at
	 * mdb_env_open(): adopt its size and try again.
	 */
	for (tries = 0; tries < STORE_WRITE_TRIES; tries++) {
		rc = mdb_txn_begin(st->env, NULL, st->is_read_only ?
		    MDB_RDONLY : 0, &txn);
		if (rc != MDB_MAP_RESIZED ||
		    (rc = mdb_env_set_mapsize(st->env, 0)) != 0)
			break;
		rc = MDB_MAP_RESIZED;	/* if this was the last try */
	}
	if (rc != 0) {
		snprintf(err, errlen, "store %s: %s", path, mdb_strerror(rc));
		return -1;
	}
	if ((rc = store_open_dbs(st, txn)) != 0) {
		mdb_txn_abort(txn);
		snprintf(err, errlen, "store %s: %s%s", path, mdb_strerror(rc),
		    rc == MDB_NOTFOUND ? " (not initialised)" : "");
		return -1;
	}
	if (store_schema(st, txn, &is_new) != 0 ||
	    store_lookup_open(st, txn) != 0 ||
	    store_audit_open(st, txn) != 0 ||
	    store_daily_open(st, txn) != 0) {
		mdb_txn_abort(txn);
		snprintf(err, errlen, "store %s: %s", path, st->errmsg);
		return -1;
	}
	/* Commit even a read-only txn: aborting it would close the DBIs. */
	if ((rc = mdb_txn_commit(txn)) != 0) {
		snprintf(err, errlen, "store %s: %s", path, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

/* Free a handle store_open() could not finish (env may be NULL). */
static void
store_open_undo(struct store *st)
{
	store_lookup_free(st);
	if (st->env != NULL)
		mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->sh->maplock);
	free(st->sh);
	free(st->chunk);
	free(st);
}

struct store *
store_open(const char *path, const struct store_params *p, char *err,
    size_t errlen)
{
	struct store *st;
	size_t map_mb, max_mb;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "store: no path");
		return NULL;
	}
	if ((st = store_alloc()) == NULL) {
		snprintf(err, errlen, "store: %s", strerror(errno));
		return NULL;
	}
	st->is_read_only = p != NULL && p->read_only;
	map_mb = p != NULL && p->map_mb != 0 ? p->map_mb :
	    STORE_MAP_DEFAULT_MB;
	max_mb = p != NULL && p->map_max_mb != 0 ? p->map_max_mb :
	    STORE_MAP_MAX_DEFAULT_MB;
	if (max_mb < map_mb)
		max_mb = map_mb;
	st->map_max = max_mb * MB;
	if (store_env_open(st, path, map_mb, err, errlen) != 0 ||
	    store_open_txn(st, path, err, errlen) != 0) {
		store_open_undo(st);
		return NULL;
	}
	store_ok(st);
	return st;
}

struct store *
store_sibling(struct store *st)
{
	struct store *sib;

	if ((sib = calloc(1, sizeof(*sib))) == NULL ||
	    (sib->chunk = malloc(STORE_CHUNK)) == NULL) {
		free(sib);
		store_fail(st, STORE_E_IO, "store: %s", strerror(errno));
		return NULL;
	}
	sib->env = st->env;
	sib->sh = st->sh;
	atomic_fetch_add(&sib->sh->refs, 1);
	sib->map_gen = atomic_load(&sib->sh->map_gen);
	memcpy(sib->dbi, st->dbi, sizeof(sib->dbi));
	memcpy(sib->is_missing, st->is_missing, sizeof(sib->is_missing));
	sib->is_read_only = st->is_read_only;
	sib->map_max = st->map_max;
	if (store_lookup_share(sib, st) != 0) {
		store_free(sib);
		return NULL;
	}
	store_ok(sib);
	return sib;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	store_read_pause(st);
	if (st->rcur != NULL)
		mdb_cursor_close(st->rcur);
	if (st->rtxn != NULL)
		mdb_txn_abort(st->rtxn);
	if (atomic_fetch_sub(&st->sh->refs, 1) == 1) {
		mdb_env_close(st->env);
		pthread_rwlock_destroy(&st->sh->maplock);
		free(st->sh);
	}
	store_lookup_free(st);
	free(st->chunk);
	free(st);
}
