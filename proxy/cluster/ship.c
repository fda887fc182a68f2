/*
 * proxy/cluster/ship: the shipper thread (cluster_int.h). It sends the
 * store's journal to PostgreSQL in order and in batches (ship_events,
 * idempotent by node and local id), moves the shared outbox's entries
 * for accounts bound here, and expires the fleet's receipt map and send
 * log. What it never does is decide whether the node is sure: a slow
 * batch delays this node's own events reaching the fleet, not this
 * node's view of the others'.
 */
#include "proxy/cluster/cluster_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/cluster/evjson.h"
#include "proxy/cluster/outbox.h"
#include "proxy/io/log.h"

#define SHIP_BATCH		2000	/* journal rows per ship_events */
#define JOURNAL_POLL_MS		10	/* how often the journal is read */
#define OUTBOX_PASS_MS		250
#define EXPIRE_EVERY_MS		60000
#define SHIP_SLOW_MS		100	/* a batch this long is logged */

/* The thread's own. */
struct shipper {
	struct cluster_link *l;
	struct cluster	*c;
	int64_t		 outbox_ms;		/* last outbox pass */
	int64_t		 expire_ms;		/* last expiry */
	int64_t		 ship_after_ms;		/* journal unreadable: wait */
	bool		 is_outbox_woken;
};

struct ship_buf {
	FILE		*fp;		/* opened at the first row */
	char		*text;
	size_t		 len;
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
	if (body == NULL || (b->fp == NULL && ((b->fp = open_memstream(
	    &b->text, &b->len)) == NULL || fputc('[', b->fp) == EOF))) {
		free(body);
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
 * Ship one batch of the journal. Returns rows handled + 1 (1: only
 * expired rows), 0 when the journal is empty, or -1 (PostgreSQL failed:
 * connection dropped; or the store).
 */
static int
ship_once(struct shipper *sh)
{
	struct cluster_link *l = sh->l;
	struct ship_buf b;
	const char *params[2];
	char err[256];
	int64_t t0;
	PGresult *r;
	int rc;

	/* The buffer is opened by the first row: most turns find none. */
	memset(&b, 0, sizeof(b));
	rc = store_journal_peek(l->st, SHIP_BATCH, ship_row, &b);
	if (b.fp != NULL) {
		fputc(']', b.fp);
		if (fclose(b.fp) == EOF)
			b.is_bad = true;
	}
	if (rc != 0 || b.is_bad) {
		log_warnx("event=cluster_journal_failed node=%s error=\"%s\"",
		    sh->c->node, rc != 0 ? store_errmsg(l->st) : "nomem");
		free(b.text);
		return -1;
	}
	if (b.last == 0) {
		free(b.text);
		return 0;
	}
	params[0] = sh->c->node;
	params[1] = b.text;
	t0 = cluster_mono_ms();

	r = b.n == 0 ? NULL : pg_query(l->pg, "SELECT ship_events($1, "
	    "$2::jsonb)", 2, params, CLUSTER_QUERY_TIMEOUT_MS, sh->c->wake[0],
	    err, sizeof(err));
	free(b.text);
	if (b.n > 0 && r == NULL) {
		cluster_link_drop(l, err);
		return -1;
	}
	if (r != NULL && cluster_mono_ms() - t0 >= SHIP_SLOW_MS)
		log_info("event=cluster_ship_slow node=%s rows=%zu ms=%" PRId64,
		    sh->c->node, b.n, cluster_mono_ms() - t0);
	if (r != NULL) {
		atomic_fetch_add(&sh->c->shipped_total,
		    (uint64_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10));
		PQclear(r);
	}
	if (store_journal_done(l->st, b.last) == -1) {
		log_warnx("event=cluster_journal_failed node=%s error=\"%s\"",
		    sh->c->node, store_errmsg(l->st));
		return -1;
	}
	return (int)b.n + 1;
}

static void
journal_depth_update(struct shipper *sh)
{
	size_t rows;
	uint64_t applied;

	if (store_journal_depth(sh->l->st, &rows, &applied) == 0)
		atomic_store(&sh->c->journal_depth, rows);
}

/*
 * Sent rows (one per capped send) matter for the longest cap window
 * only: a node applies them as they come, and one that catches up later
 * would count older ones for nothing. Deleted past that window, through
 * the partial index of migration 3, so the log does not grow with the
 * traffic. A node without caps leaves them to the nodes that have some.
 */
static int
sent_expire(struct shipper *sh)
{
	char secs[24], err[256];
	const char *params[1] = { secs };

	if (sh->c->sent_keep_s <= 0)
		return 0;
	snprintf(secs, sizeof(secs), "%" PRId64, sh->c->sent_keep_s);
	if (pg_exec(sh->l->pg, "DELETE FROM events WHERE kind = 'sent' AND "
	    "time < now() - make_interval(secs => $1::double precision)", 1,
	    params, CLUSTER_QUERY_TIMEOUT_MS, sh->c->wake[0], err,
	    sizeof(err)) == -1) {
		cluster_link_drop(sh->l, err);
		return -1;
	}
	return 0;
}

/*
 * The fleet's receipt map keeps what the nodes' own maps keep
 * (retention.receipt_map_hours); every node deletes, a minute apart.
 */
static int
receipt_map_expire(struct shipper *sh)
{
	char hours[16], err[256];
	const char *params[1] = { hours };

	sh->expire_ms = cluster_mono_ms();
	snprintf(hours, sizeof(hours), "%u", sh->c->map_hours);
	if (pg_exec(sh->l->pg, "DELETE FROM receipt_map WHERE time < now() - "
	    "make_interval(hours => $1::int)", 1, params,
	    CLUSTER_QUERY_TIMEOUT_MS, sh->c->wake[0], err,
	    sizeof(err)) == -1) {
		cluster_link_drop(sh->l, err);
		return -1;
	}
	return sent_expire(sh);
}

/* One pass of the shared outbox over a copy of the accounts. -1 when
 * PostgreSQL failed (dropped). */
static int
outbox_turn(struct shipper *sh)
{
	struct cluster *c = sh->c;
	char (*names)[STORE_NAME_MAX] = NULL, err[256];
	bool *bound = NULL;
	size_t n, moved = 0;
	int rc = 0;

	sh->outbox_ms = cluster_mono_ms();
	sh->is_outbox_woken = false;
	pthread_mutex_lock(&c->mu);
	n = c->nacct;
	if (n > 0 && (names = calloc(n, sizeof(*names))) != NULL &&
	    (bound = calloc(n, sizeof(*bound))) != NULL) {
		memcpy(names, c->acct_names, n * sizeof(*names));
		memcpy(bound, c->acct_bound, n * sizeof(*bound));
	} else
		n = 0;
	pthread_mutex_unlock(&c->mu);
	if (n > 0 && cluster_outbox_pass(sh->l->pg, sh->l->st, c->node,
	    c->wake[0], (const char (*)[STORE_NAME_MAX])names, bound, n,
	    CLUSTER_RECEIPTS_ACCOUNT, &moved, err, sizeof(err)) == -1) {
		cluster_link_drop(sh->l, err);
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

/* One turn while connected: ship, outbox, expiry, wait. -1 when
 * dropped. */
static int
ship_turn(struct shipper *sh)
{
	struct cluster_link *l = sh->l;
	PGnotify *nf;
	char err[256];
	int64_t now = cluster_mono_ms();
	int rc = 0;

	if (now >= sh->ship_after_ms)
		while ((rc = ship_once(sh)) == SHIP_BATCH + 1 &&
		    !atomic_load(&sh->c->is_stopping))
			;
	if (rc < 0 && l->pg == NULL)
		return -1;
	/* The store failed (logged): try again in a second. */
	if (rc < 0)
		sh->ship_after_ms = now + 1000;
	if ((sh->is_outbox_woken || now - sh->outbox_ms >= OUTBOX_PASS_MS) &&
	    outbox_turn(sh) == -1)
		return -1;
	if (now - sh->expire_ms >= EXPIRE_EVERY_MS &&
	    receipt_map_expire(sh) == -1)
		return -1;
	journal_depth_update(sh);
	if (pg_wait(l->pg, sh->c->wake[0], JOURNAL_POLL_MS, err,
	    sizeof(err)) == -1) {
		cluster_link_drop(l, err);
		return -1;
	}
	while ((nf = PQnotifies(l->pg)) != NULL) {
		sh->is_outbox_woken = true;
		PQfreemem(nf);
	}
	return 0;
}

void *
cluster_ship_main(void *arg)
{
	struct shipper sh;

	memset(&sh, 0, sizeof(sh));
	sh.l = arg;
	sh.c = sh.l->c;
	while (!atomic_load(&sh.c->is_stopping)) {
		if (sh.l->pg == NULL) {
			journal_depth_update(&sh);
			if (cluster_link_up(sh.l) == -1) {
				cluster_nap(sh.c, backoff_next(&sh.l->bo));
				continue;
			}
		}
		if (ship_turn(&sh) == -1)
			cluster_nap(sh.c, backoff_next(&sh.l->bo));
	}
	if (sh.l->pg != NULL)
		PQfinish(sh.l->pg);
	sh.l->pg = NULL;
	return NULL;
}
