/*
 * proxy/cluster/cluster: the shipper and follower thread (cluster.h).
 *
 * Why a thread with poll(2) and not the SMPP loop's event_base: libpq's
 * asynchronous calls are used all the same (proxy/cluster/pg.c), but a
 * straight-line loop with a deadline on every wait is easier to show
 * correct than callbacks, and the SMPP loop is never delayed by a
 * PostgreSQL answer, a reconnect or a large catch-up: it reads one atomic
 * timestamp per send (cluster_refuses).
 */
#include "proxy/cluster/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "proxy/cluster/evjson.h"
#include "proxy/cluster/outbox.h"
#include "proxy/cluster/pg.h"
#include "proxy/cluster/schema.h"
#include "proxy/io/log.h"
#include "proxy/policy/backoff.h"
#include "store/journal.h"

#define SHIP_BATCH		2000	/* journal rows per ship_events */
#define FOLLOW_BATCH		1000	/* fleet rows per catch-up query */
#define QUERY_TIMEOUT_MS	5000
#define CONNECT_TIMEOUT_MS	3000
#define JOURNAL_POLL_MS		10	/* how often the journal is read */

struct cluster {
	char		 node[33];
	char		*conninfo;		/* owned */
	unsigned	 max_lag_ms;
	unsigned	 poll_ms;		/* catch-up at least this */
	struct store	*st;			/* owned: a sibling */
	pthread_t	 thread;
	bool		 is_started;
	int		 wake[2];		/* stop: write to wake[1] */
	_Atomic bool	 is_stopping;

	/* Figures: written by the thread, read by any. */
	_Atomic int64_t	 caught_up_ms;		/* monotonic; 0 never */
	_Atomic bool	 is_connected;
	_Atomic uint64_t applied_seq, fleet_seq, journal_depth;
	_Atomic uint64_t shipped_total, applied_total, reconnects_total;
	_Atomic uint64_t refused_total, outbox_moved_total;
	pthread_mutex_t	 mu;
	char		 reason[256];		/* [mu] last failure */
	char		(*acct_names)[STORE_NAME_MAX];	/* [mu] owned */
	bool		*acct_bound;			/* [mu] owned */
	size_t		 nacct, acct_cap;		/* [mu] */

	/* The thread's own. */
	PGconn		*pg;
	struct backoff	 bo;
	struct store_cluster_item *items;	/* FOLLOW_BATCH */
	bool		 was_sure;
	uint64_t	 reported_seq;		/* last position_report */
	int64_t		 reported_ms;
	int64_t		 outbox_ms;		/* last outbox pass */
	int64_t		 expire_ms;		/* last receipt map expiry */
	int64_t		 ship_after_ms;		/* journal unreadable: wait */
	unsigned	 map_hours;		/* receipt map retention */
	int64_t		 sent_keep_s;		/* longest cap window, 0 */
	bool		 is_outbox_woken;
};

#define OUTBOX_PASS_MS		250

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
reason_set(struct cluster *c, const char *msg)
{
	pthread_mutex_lock(&c->mu);
	snprintf(c->reason, sizeof(c->reason), "%s", msg);
	pthread_mutex_unlock(&c->mu);
}

bool
cluster_is_sure(const struct cluster *c)
{
	int64_t at = atomic_load(&c->caught_up_ms);

	return at != 0 && mono_ms() - at <= (int64_t)c->max_lag_ms;
}

bool
cluster_refuses(struct cluster *c, const struct config *cfg, size_t cat)
{
	if (c == NULL || cluster_is_sure(c) ||
	    config_cluster_is_fail_open(cfg, cat))
		return false;
	atomic_fetch_add_explicit(&c->refused_total, 1,
	    memory_order_relaxed);
	return true;
}

void
cluster_stats(const struct cluster *c, struct cluster_stats *out)
{
	int64_t at = atomic_load(&c->caught_up_ms), now = mono_ms();

	memset(out, 0, sizeof(*out));
	snprintf(out->node, sizeof(out->node), "%s", c->node);
	out->is_connected = atomic_load(&c->is_connected);
	out->is_sure = cluster_is_sure(c);
	out->lag_s = at == 0 ? -1 : (double)(now - at) / 1000.0;
	out->applied_seq = atomic_load(&c->applied_seq);
	out->fleet_seq = atomic_load(&c->fleet_seq);
	out->journal_depth = atomic_load(&c->journal_depth);
	out->shipped_total = atomic_load(&c->shipped_total);
	out->applied_total = atomic_load(&c->applied_total);
	out->reconnects_total = atomic_load(&c->reconnects_total);
	out->refused_total = atomic_load(&c->refused_total);
	out->outbox_moved_total = atomic_load(&c->outbox_moved_total);
	if (!out->is_sure) {
		pthread_mutex_lock((pthread_mutex_t *)(uintptr_t)&c->mu);
		if (!out->is_connected)
			snprintf(out->reason, sizeof(out->reason),
			    "no contact with PostgreSQL: %s", c->reason);
		else
			snprintf(out->reason, sizeof(out->reason),
			    "catching up with the fleet");
		pthread_mutex_unlock((pthread_mutex_t *)(uintptr_t)&c->mu);
	}
}

void
cluster_accounts_set(struct cluster *c, const char *const *names,
    const bool *bound, size_t n)
{
	size_t i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	if (n > c->acct_cap) {
		void *nn = realloc(c->acct_names, n * sizeof(*c->acct_names));
		void *nb = nn == NULL ? NULL : realloc(c->acct_bound,
		    n * sizeof(*c->acct_bound));

		if (nn != NULL)
			c->acct_names = nn;
		if (nb != NULL) {
			c->acct_bound = nb;
			c->acct_cap = n;
		}
	}
	c->nacct = n <= c->acct_cap ? n : 0;
	for (i = 0; i < c->nacct; i++) {
		snprintf(c->acct_names[i], STORE_NAME_MAX, "%s", names[i]);
		c->acct_bound[i] = bound[i];
	}
	pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------------ */
/* Connection.                                                         */

static void
pg_drop(struct cluster *c, const char *why)
{
	if (c->pg == NULL)
		return;
	log_warnx("event=cluster_disconnected node=%s error=\"%s\"", c->node,
	    why);
	reason_set(c, why);
	PQfinish(c->pg);
	c->pg = NULL;
	atomic_store(&c->is_connected, false);
}

/* Connect, check the schema, LISTEN. 0 or -1 (reason set). */
static int
pg_up(struct cluster *c)
{
	char err[256];
	int version;

	if ((c->pg = pg_connect(c->conninfo, CONNECT_TIMEOUT_MS, c->wake[0],
	    err, sizeof(err))) == NULL)
		goto fail;
	if (cluster_schema_version(c->pg, QUERY_TIMEOUT_MS, c->wake[0],
	    &version, err, sizeof(err)) == -1)
		goto fail;
	if (version != CLUSTER_SCHEMA_VERSION) {
		snprintf(err, sizeof(err), "database schema version %d, this "
		    "build needs %d: run stopgate db migrate", version,
		    CLUSTER_SCHEMA_VERSION);
		goto fail;
	}
	/* Notices (a temporary table already there) are not news. */
	if (pg_exec(c->pg, "SET client_min_messages = warning; "
	    "LISTEN " CLUSTER_CHANNEL "; LISTEN " CLUSTER_OUTBOX_CHANNEL, 0,
	    NULL,
	    QUERY_TIMEOUT_MS, c->wake[0], err, sizeof(err)) == -1)
		goto fail;
	atomic_store(&c->is_connected, true);
	atomic_fetch_add(&c->reconnects_total, 1);
	backoff_reset(&c->bo);
	log_info("event=cluster_connected node=%s", c->node);
	return 0;
fail:
	if (!atomic_load(&c->is_stopping))
		log_warnx("event=cluster_connect_failed node=%s error=\"%s\"",
		    c->node, err);
	reason_set(c, err);
	if (c->pg != NULL)
		PQfinish(c->pg);
	c->pg = NULL;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Shipping.                                                           */

struct ship_buf {
	FILE		*fp;
	size_t		 n;		/* rows written */
	uint64_t	 last;		/* last journal row id seen */
	bool		 is_bad;
};

/* s as a JSON string (numbers are digits, but a destination is what a
 * department sent). */
static void
json_str_put(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(fp, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

/* The JSON body of row (owned; NULL: out of memory), its local id (0:
 * expired), subscriber number and time. */
static char *
row_body(const struct store_journal_row *row, uint64_t *id,
    const char **number, int64_t *time)
{
	switch (row->kind) {
	case STORE_JOURNAL_AUDIT:
		*id = row->audit.id;
		*number = row->audit.destination;
		*time = row->audit.time;
		return *id == 0 ? NULL : evjson_audit_encode(&row->audit);
	case STORE_JOURNAL_REVIEW:
	case STORE_JOURNAL_REVIEW_DONE:
		*id = row->review.id;
		*number = row->review.number;
		*time = row->review.time;
		return *id == 0 ? NULL : evjson_review_encode(&row->review,
		    row->origin_node, row->origin_id);
	case STORE_JOURNAL_MSGMAP:
		*id = row->id;
		*number = "";
		*time = row->msgmap.time;
		return evjson_msgmap_encode(&row->msgmap);
	case STORE_JOURNAL_SENT:
		*id = row->id;
		*number = row->sent.number;
		*time = row->sent.time;
		return evjson_sent_encode(&row->sent);
	case STORE_JOURNAL_EVENT:
		break;
	}
	*id = row->ev.id;
	*number = row->ev.number;
	*time = row->ev.time;
	return *id == 0 ? NULL : evjson_encode(&row->ev);
}

static int
ship_row(const struct store_journal_row *row, void *arg)
{
	struct ship_buf *b = arg;
	const char *number;
	uint64_t id;
	int64_t time;
	char *body;

	b->last = row->id;
	body = row_body(row, &id, &number, &time);
	if (id == 0)
		return 0;	/* expired before it was shipped */
	if (body == NULL) {
		b->is_bad = true;
		return 1;
	}
	fprintf(b->fp, "%s{\"kind\":\"%s\",\"id\":%" PRIu64 ",\"time\":%"
	    PRId64 ",\"number\":", b->n > 0 ? "," : "",
	    store_journal_kind_name(row->kind), id, time);
	json_str_put(b->fp, number);
	fprintf(b->fp, ",\"body\":%s}", body);
	free(body);
	b->n++;
	return 0;
}

/*
 * Ship one batch of the journal. Returns rows handled (0: journal
 * empty), or -1 (PostgreSQL failed: connection dropped; or the store).
 */
static int
ship_once(struct cluster *c)
{
	struct ship_buf b;
	const char *params[2];
	char *text = NULL, err[256];
	size_t len = 0;
	PGresult *r;
	int rc;

	memset(&b, 0, sizeof(b));
	if ((b.fp = open_memstream(&text, &len)) == NULL)
		return -1;
	fputc('[', b.fp);
	rc = store_journal_peek(c->st, SHIP_BATCH, ship_row, &b);
	fputc(']', b.fp);
	fclose(b.fp);
	if (rc != 0 || b.is_bad) {
		log_warnx("event=cluster_journal_failed node=%s error=\"%s\"",
		    c->node, rc != 0 ? store_errmsg(c->st) : "nomem");
		free(text);
		return -1;
	}
	if (b.last == 0) {
		free(text);
		return 0;
	}
	params[0] = c->node;
	params[1] = text;

	r = b.n == 0 ? NULL : pg_query(c->pg, "SELECT ship_events($1, "
	    "$2::jsonb)", 2, params, QUERY_TIMEOUT_MS, c->wake[0], err,
	    sizeof(err));
	free(text);
	if (b.n > 0 && r == NULL) {
		pg_drop(c, err);
		return -1;
	}
	if (r != NULL) {
		atomic_fetch_add(&c->shipped_total,
		    (uint64_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10));
		PQclear(r);
	}
	if (store_journal_done(c->st, b.last) == -1) {
		log_warnx("event=cluster_journal_failed node=%s error=\"%s\"",
		    c->node, store_errmsg(c->st));
		return -1;
	}
	return (int)b.n + 1;
}

/* ------------------------------------------------------------------ */
/* Following.                                                          */

static enum store_journal_kind
kind_parse(const char *s)
{
	enum store_journal_kind k;

	for (k = STORE_JOURNAL_AUDIT; k <= STORE_JOURNAL_SENT; k++)
		if (strcmp(s, store_journal_kind_name(k)) == 0)
			return k;
	return STORE_JOURNAL_EVENT;
}

/* The body of a fleet row into it, by its kind. 0 or -1 (err set). */
static int
item_decode(struct store_cluster_item *it, const char *text, size_t len,
    char *err, size_t errlen)
{
	switch (it->kind) {
	case STORE_JOURNAL_AUDIT:
		return evjson_audit_decode(text, len, &it->audit, err, errlen);
	case STORE_JOURNAL_REVIEW:
	case STORE_JOURNAL_REVIEW_DONE:
		return evjson_review_decode(text, len, &it->review,
		    it->origin_node, &it->origin_id, err, errlen);
	case STORE_JOURNAL_SENT:	/* the number is the row's */
		return evjson_sent_decode(text, len, &it->sent, err, errlen);
	case STORE_JOURNAL_MSGMAP:	/* never in the fleet's log */
	case STORE_JOURNAL_EVENT:
		break;
	}
	return evjson_decode(text, len, &it->ev, err, errlen);
}

/* Rows of r into c->items. Returns how many, or -1 (a bad row). */
static int
follow_items(struct cluster *c, PGresult *r, uint64_t *last)
{
	struct store_cluster_item *it;
	char err[160];
	int i, n = PQntuples(r);

	for (i = 0; i < n; i++) {
		it = &c->items[i];
		*last = strtoull(PQgetvalue(r, i, 0), NULL, 10);
		memset(it, 0, sizeof(*it));
		it->kind = kind_parse(PQgetvalue(r, i, 2));
		if (strcmp(PQgetvalue(r, i, 1), c->node) == 0) {
			it->is_own = true;
			it->own_id = strtoull(PQgetvalue(r, i, 3), NULL, 10);
			snprintf(it->ev.number, sizeof(it->ev.number), "%s",
			    PQgetvalue(r, i, 4));
			continue;
		}
		snprintf(it->sent.number, sizeof(it->sent.number), "%s",
		    PQgetvalue(r, i, 4));
		if (item_decode(it, PQgetvalue(r, i, 5),
		    (size_t)PQgetlength(r, i, 5), err, sizeof(err)) == -1) {
			log_warnx("event=cluster_bad_row node=%s seq=%" PRIu64
			    " error=\"%s\"", c->node, *last, err);
			return -1;
		}
	}
	return n;
}

/*
 * One catch-up query and its application. Returns 1 if a full batch came
 * (more may follow), 0 caught up, -1 failed (dropped, or the store).
 */
static int
follow_once(struct cluster *c)
{
	char pos[24], err[256];
	const char *params[2] = { pos, c->node };
	uint64_t applied = atomic_load(&c->applied_seq), last = applied;
	int64_t t0 = mono_ms();
	PGresult *r;
	size_t i, remote = 0;
	int n;

	snprintf(pos, sizeof(pos), "%" PRIu64, applied);
	/* Our own rows come back without their body: we have them. */
	if ((r = pg_query(c->pg, "SELECT seq, node, kind, local_id, number, "
	    "CASE WHEN node = $2 THEN '' ELSE body::text END FROM events "
	    "WHERE seq > $1 ORDER BY seq LIMIT 1000", 2, params,
	    QUERY_TIMEOUT_MS, c->wake[0], err, sizeof(err))) == NULL) {
		pg_drop(c, err);
		return -1;
	}
	if ((n = follow_items(c, r, &last)) < 0) {
		PQclear(r);
		return -1;
	}
	PQclear(r);
	if (n > 0) {
		if (store_cluster_apply(c->st, c->items, (size_t)n,
		    last) == -1) {
			log_warnx("event=cluster_apply_failed node=%s "
			    "error=\"%s\"", c->node, store_errmsg(c->st));
			return -1;
		}
		for (i = 0; i < (size_t)n; i++)
			remote += !c->items[i].is_own &&
			    c->items[i].kind == STORE_JOURNAL_EVENT;
		atomic_fetch_add(&c->applied_total, remote);
		atomic_store(&c->applied_seq, last);
		if (last > atomic_load(&c->fleet_seq))
			atomic_store(&c->fleet_seq, last);
	}
	if (n == FOLLOW_BATCH)
		return 1;
	/* Everything committed before t0 is applied: seq order is commit
	 * order (schema.c), so nothing can appear below last later. */
	atomic_store(&c->caught_up_ms, t0);
	return 0;
}

/* Record this node's position in PostgreSQL (for people). */
static void
position_report(struct cluster *c)
{
	char pos[24], err[256];
	const char *params[2] = { c->node, pos };
	int64_t now = mono_ms();

	/* On a change, else every few seconds (seen_at says alive). */
	if (atomic_load(&c->applied_seq) == c->reported_seq &&
	    now - c->reported_ms < 5000)
		return;
	c->reported_seq = atomic_load(&c->applied_seq);
	c->reported_ms = now;
	snprintf(pos, sizeof(pos), "%" PRIu64, atomic_load(&c->applied_seq));
	if (pg_exec(c->pg, "INSERT INTO nodes (node, applied_seq, seen_at) "
	    "VALUES ($1, $2, now()) ON CONFLICT (node) DO UPDATE SET "
	    "applied_seq = $2, seen_at = now()", 2, params, QUERY_TIMEOUT_MS,
	    c->wake[0], err, sizeof(err)) == -1)
		pg_drop(c, err);
}

/* ------------------------------------------------------------------ */
/* The thread.                                                         */

static void
sure_log(struct cluster *c)
{
	bool is_sure = cluster_is_sure(c);
	struct cluster_stats s;

	if (is_sure == c->was_sure)
		return;
	c->was_sure = is_sure;
	if (is_sure) {
		log_info("event=cluster_caught_up node=%s applied_seq=%" PRIu64,
		    c->node, atomic_load(&c->applied_seq));
		return;
	}
	cluster_stats(c, &s);
	log_warnx("event=cluster_unsure node=%s reason=\"%s\"", c->node,
	    s.reason);
}

static void
journal_depth_update(struct cluster *c)
{
	size_t rows;
	uint64_t applied;

	if (store_journal_depth(c->st, &rows, &applied) == 0)
		atomic_store(&c->journal_depth, rows);
}

/* The longest window of cfg's frequency caps (0: none). */
static int64_t
sent_keep(const struct config *cfg)
{
	const struct config_frequency *f;
	int64_t w = 0;
	size_t i;

	for (i = 0; i < cfg->prefs.nfrequency; i++) {
		f = &cfg->prefs.frequency[i];
		if (f->per_s > w)
			w = f->per_s;
		if (f->has_less && f->less_per_s > w)
			w = f->less_per_s;
	}
	return w;
}

/*
 * Sent rows (one per capped send) matter for the longest cap window
 * only: a node applies them as they come, and one that catches up later
 * would count older ones for nothing. Deleted past that window, through
 * the partial index of migration 3, so the log does not grow with the
 * traffic. A node without caps leaves them to the nodes that have some.
 */
static int
sent_expire(struct cluster *c)
{
	char secs[24], err[256];
	const char *params[1] = { secs };

	if (c->sent_keep_s <= 0)
		return 0;
	snprintf(secs, sizeof(secs), "%" PRId64, c->sent_keep_s);
	if (pg_exec(c->pg, "DELETE FROM events WHERE kind = 'sent' AND "
	    "time < now() - make_interval(secs => $1::double precision)", 1,
	    params,
	    QUERY_TIMEOUT_MS, c->wake[0], err, sizeof(err)) == -1) {
		pg_drop(c, err);
		return -1;
	}
	return 0;
}

/*
 * The fleet's receipt map keeps what the nodes' own maps keep
 * (retention.receipt_map_hours); every node deletes, a minute apart.
 */
static int
receipt_map_expire(struct cluster *c)
{
	char hours[16], err[256];
	const char *params[1] = { hours };

	c->expire_ms = mono_ms();
	snprintf(hours, sizeof(hours), "%u", c->map_hours);
	if (pg_exec(c->pg, "DELETE FROM receipt_map WHERE time < now() - "
	    "make_interval(hours => $1::int)", 1, params, QUERY_TIMEOUT_MS,
	    c->wake[0], err, sizeof(err)) == -1) {
		pg_drop(c, err);
		return -1;
	}
	return sent_expire(c);
}

/* One pass of the shared outbox over a copy of the accounts. -1 when
 * PostgreSQL failed (dropped). */
static int
outbox_turn(struct cluster *c)
{
	char (*names)[STORE_NAME_MAX] = NULL, err[256];
	bool *bound = NULL;
	size_t n, moved = 0;
	int rc = 0;

	c->outbox_ms = mono_ms();
	c->is_outbox_woken = false;
	pthread_mutex_lock(&c->mu);
	n = c->nacct;
	if (n > 0 && (names = calloc(n, sizeof(*names))) != NULL &&
	    (bound = calloc(n, sizeof(*bound))) != NULL) {
		memcpy(names, c->acct_names, n * sizeof(*names));
		memcpy(bound, c->acct_bound, n * sizeof(*bound));
	} else
		n = 0;
	pthread_mutex_unlock(&c->mu);
	if (n > 0 && cluster_outbox_pass(c->pg, c->st, c->node, c->wake[0],
	    (const char (*)[STORE_NAME_MAX])names, bound, n,
	    CLUSTER_RECEIPTS_ACCOUNT, &moved, err, sizeof(err)) == -1) {
		pg_drop(c, err);
		rc = -1;
	}
	if (moved > 0) {
		atomic_fetch_add(&c->outbox_moved_total, moved);
		log_info("event=cluster_outbox_moved node=%s entries=%zu",
		    c->node, moved);
	}
	free(names);
	free(bound);
	return rc;
}

/* Drain notifications; true if any came (their payload: newest seq). */
static bool
notifies_take(struct cluster *c)
{
	PGnotify *nf;
	bool any = false;
	uint64_t seq;

	while ((nf = PQnotifies(c->pg)) != NULL) {
		if (strcmp(nf->relname, CLUSTER_OUTBOX_CHANNEL) == 0) {
			c->is_outbox_woken = true;
			PQfreemem(nf);
			continue;
		}
		any = true;
		seq = strtoull(nf->extra, NULL, 10);
		if (seq > atomic_load(&c->fleet_seq))
			atomic_store(&c->fleet_seq, seq);
		PQfreemem(nf);
	}
	return any;
}

/* Wait ms for the stop pipe. */
static void
nap(struct cluster *c, unsigned ms)
{
	struct pollfd pfd = { c->wake[0], POLLIN, 0 };

	(void)poll(&pfd, 1, (int)ms);
}

/* One turn while connected: ship, follow, wait. -1 when dropped. */
static int
turn(struct cluster *c, int64_t *last_poll, bool *is_woken)
{
	char err[256];
	int64_t now;
	int rc;

	now = mono_ms();
	rc = 0;
	if (now >= c->ship_after_ms)
		while ((rc = ship_once(c)) == SHIP_BATCH + 1)
			;
	if (rc < 0 && c->pg == NULL)
		return -1;
	/* The store failed (logged): try again in a second, and follow the
	 * fleet meanwhile. */
	if (rc < 0)
		c->ship_after_ms = now + 1000;
	if (*is_woken || now - *last_poll >= (int64_t)c->poll_ms) {
		*is_woken = false;
		*last_poll = now;
		while ((rc = follow_once(c)) == 1 &&
		    !atomic_load(&c->is_stopping))
			;
		if (c->pg == NULL)
			return -1;
		position_report(c);
		if (c->pg == NULL)
			return -1;
	}
	if ((c->is_outbox_woken || now - c->outbox_ms >= OUTBOX_PASS_MS) &&
	    outbox_turn(c) == -1)
		return -1;
	if (now - c->expire_ms >= 60000 && receipt_map_expire(c) == -1)
		return -1;
	journal_depth_update(c);
	sure_log(c);
	if (pg_wait(c->pg, c->wake[0], JOURNAL_POLL_MS, err,
	    sizeof(err)) == -1) {
		pg_drop(c, err);
		return -1;
	}
	if (notifies_take(c))
		*is_woken = true;
	return 0;
}

static void *
cluster_main(void *arg)
{
	struct cluster *c = arg;
	int64_t last_poll = 0;
	bool is_woken = true;
	size_t rows;
	uint64_t applied;

	if (store_journal_depth(c->st, &rows, &applied) == 0) {
		atomic_store(&c->applied_seq, applied);
		atomic_store(&c->fleet_seq, applied);
		atomic_store(&c->journal_depth, rows);
	}
	while (!atomic_load(&c->is_stopping)) {
		if (c->pg == NULL) {
			journal_depth_update(c);
			sure_log(c);
			if (pg_up(c) == -1) {
				nap(c, backoff_next(&c->bo));
				continue;
			}
			is_woken = true;
		}
		if (turn(c, &last_poll, &is_woken) == -1)
			nap(c, backoff_next(&c->bo));
	}
	if (c->pg != NULL)
		PQfinish(c->pg);
	c->pg = NULL;
	return NULL;
}

static void
cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	store_free(c->st);
	free(c->items);
	free(c->acct_names);
	free(c->acct_bound);
	if (c->conninfo != NULL)
		explicit_bzero(c->conninfo, strlen(c->conninfo));
	free(c->conninfo);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

struct cluster *
cluster_start(struct store *st, const struct config *cfg, char *err,
    size_t errlen)
{
	const struct config_cluster *cc = &cfg->cluster;
	struct cluster *c;
	unsigned q;

	if (store_journal_enable(st, cc->node) == -1) {
		snprintf(err, errlen, "store: %s", store_errmsg(st));
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->wake[0] = c->wake[1] = -1;
	pthread_mutex_init(&c->mu, NULL);
	snprintf(c->node, sizeof(c->node), "%s", cc->node);
	c->max_lag_ms = cc->max_lag_ms != 0 ? cc->max_lag_ms : 2000;
	/* A few polls per max_lag_ms: a missed NOTIFY never makes a node
	 * unsure, and an idle fleet costs a few small queries a second. */
	q = c->max_lag_ms / 4;
	c->poll_ms = q < 10 ? 10 : q > 250 ? 250 : q;
	backoff_init(&c->bo, 100, 5000, 0);
	c->map_hours = cfg->retention.receipt_map_hours != 0 ?
	    cfg->retention.receipt_map_hours : 72;
	c->sent_keep_s = sent_keep(cfg);
	snprintf(c->reason, sizeof(c->reason), "not connected yet");
	if ((c->conninfo = strdup(cc->postgres)) == NULL ||
	    (c->items = calloc(FOLLOW_BATCH, sizeof(*c->items))) == NULL ||
	    pipe(c->wake) == -1 ||
	    (c->st = store_sibling(st)) == NULL) {
		snprintf(err, errlen, "cluster: %s", c->st == NULL &&
		    c->items != NULL && c->wake[0] >= 0 ? store_errmsg(st) :
		    strerror(errno));
		cluster_free(c);
		return NULL;
	}
	if ((errno = pthread_create(&c->thread, NULL, cluster_main, c)) != 0) {
		snprintf(err, errlen, "cluster thread: %s", strerror(errno));
		cluster_free(c);
		return NULL;
	}
	c->is_started = true;
	return c;
}

void
cluster_stop(struct cluster *c)
{
	if (c == NULL)
		return;
	if (c->is_started) {
		atomic_store(&c->is_stopping, true);
		/* The pipe is empty and ours: a 1-byte write cannot fail
		 * short, and a failure leaves the poll timeouts to end
		 * the thread anyway. */
		if (write(c->wake[1], "x", 1) != 1)
			log_warn("event=cluster_stop_wake");
		pthread_join(c->thread, NULL);
	}
	cluster_free(c);
}
