/*
 * proxy/cluster/follow: the follower thread (cluster_int.h). It applies
 * the fleet's events to the store in PostgreSQL's order: a catch-up
 * query by sequence, woken by LISTEN/NOTIFY and run at least every
 * poll period, so a missed notification costs latency only. Each
 * catch-up that finds nothing more marks the node sure for max_lag_ms
 * from the moment the query was sent.
 */
#include "proxy/cluster/cluster_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/cluster/evjson.h"
#include "proxy/io/log.h"

#define FOLLOW_SLOW_MS		100	/* a catch-up this long is logged */
/* Published opt-outs outlive their commit this long: a lookup that took
 * its store snapshot just before the commit still sees them. */
#define EARLY_GRACE_MS		20

/* The thread's own. */
struct follower {
	struct cluster_link *l;
	struct cluster	*c;
	int64_t		 last_poll_ms;
	bool		 is_woken;		/* a NOTIFY came */
	bool		 was_sure;
	uint64_t	 reported_seq;		/* last position_report */
	int64_t		 reported_ms;
	int64_t		 withdraw_ms;		/* early entries: 0 none */
};

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

/* Withdraw the published opt-outs once their grace is over; with
 * is_now, wait for it first (the batch array is about to be reused). */
static void
early_withdraw(struct follower *f, bool is_now)
{
	int64_t left;

	if (f->withdraw_ms == 0)
		return;
	left = f->withdraw_ms - cluster_mono_ms();
	if (left > 0 && !is_now)
		return;
	if (left > 0)
		cluster_nap(f->c, (unsigned)left);
	cluster_early_withdraw(f->c);
	f->withdraw_ms = 0;
}

/* A catch-up that took long, in its two steps: for whoever chases a
 * node that lags. */
static void
slow_log(const struct cluster *c, int n, int64_t t0, int64_t t1)
{
	int64_t t2 = cluster_mono_ms();

	if (t2 - t0 >= FOLLOW_SLOW_MS)
		log_info("event=cluster_follow_slow node=%s rows=%d query_ms=%"
		    PRId64 " apply_ms=%" PRId64, c->node, n, t1 - t0, t2 - t1);
}

/*
 * One catch-up query and its application. Returns 1 if a full batch came
 * (more may follow), 0 caught up, -1 failed (dropped, or the store).
 */
static int
follow_once(struct follower *f)
{
	struct cluster *c = f->c;
	char pos[24], err[256];
	const char *params[2] = { pos, c->node };
	uint64_t applied = atomic_load(&c->applied_seq), last = applied;
	int64_t t0 = cluster_mono_ms(), t1;
	PGresult *r;
	size_t i, remote = 0;
	int n;

	snprintf(pos, sizeof(pos), "%" PRIu64, applied);
	/* Our own rows come back without their body: we have them. */
	if ((r = pg_query(f->l->pg, "SELECT seq, node, kind, local_id, "
	    "number, CASE WHEN node = $2 THEN '' ELSE body::text END "
	    "FROM events WHERE seq > $1 ORDER BY seq LIMIT 1000", 2, params,
	    CLUSTER_QUERY_TIMEOUT_MS, c->wake[0], err, sizeof(err))) == NULL) {
		cluster_link_drop(f->l, err);
		return -1;
	}
	early_withdraw(f, true);
	if ((n = follow_items(c, r, &last)) < 0) {
		PQclear(r);
		return -1;
	}
	PQclear(r);
	t1 = cluster_mono_ms();
	if (n > 0) {
		cluster_early_publish(c, (size_t)n);
		if (store_cluster_apply(f->l->st, c->items, (size_t)n,
		    last) == -1) {
			log_warnx("event=cluster_apply_failed node=%s "
			    "error=\"%s\"", c->node, store_errmsg(f->l->st));
			cluster_early_withdraw(c);
			return -1;
		}
		f->withdraw_ms = cluster_mono_ms() + EARLY_GRACE_MS;
		for (i = 0; i < (size_t)n; i++)
			remote += !c->items[i].is_own &&
			    c->items[i].kind == STORE_JOURNAL_EVENT;
		atomic_fetch_add(&c->applied_total, remote);
		atomic_store(&c->applied_seq, last);
		if (last > atomic_load(&c->fleet_seq))
			atomic_store(&c->fleet_seq, last);
	}
	slow_log(c, n, t0, t1);
	if (n == CLUSTER_FOLLOW_BATCH)
		return 1;
	/* Everything committed before t0 is applied: seq order is commit
	 * order (schema.c), so nothing can appear below last later. */
	atomic_store(&c->caught_up_ms, t0);
	return 0;
}

/* Record this node's position in PostgreSQL (for people). */
static void
position_report(struct follower *f)
{
	struct cluster *c = f->c;
	char pos[24], err[256];
	const char *params[2] = { c->node, pos };
	int64_t now = cluster_mono_ms();

	/* On a change, else every few seconds (seen_at says alive). */
	if (atomic_load(&c->applied_seq) == f->reported_seq &&
	    now - f->reported_ms < 5000)
		return;
	f->reported_seq = atomic_load(&c->applied_seq);
	f->reported_ms = now;
	snprintf(pos, sizeof(pos), "%" PRIu64, f->reported_seq);
	if (pg_exec(f->l->pg, "INSERT INTO nodes (node, applied_seq, "
	    "seen_at) VALUES ($1, $2, now()) ON CONFLICT (node) DO UPDATE "
	    "SET applied_seq = $2, seen_at = now()", 2, params,
	    CLUSTER_QUERY_TIMEOUT_MS, c->wake[0], err, sizeof(err)) == -1)
		cluster_link_drop(f->l, err);
}

/* Log a change of sureness, once. */
static void
sure_log(struct follower *f)
{
	struct cluster *c = f->c;
	bool is_sure = cluster_is_sure(c);
	struct cluster_stats s;

	if (is_sure == f->was_sure)
		return;
	f->was_sure = is_sure;
	if (is_sure) {
		log_info("event=cluster_caught_up node=%s applied_seq=%" PRIu64,
		    c->node, atomic_load(&c->applied_seq));
		return;
	}
	cluster_stats(c, &s);
	log_warnx("event=cluster_unsure node=%s reason=\"%s\"", c->node,
	    s.reason);
}

/* Drain notifications (their payload: the newest seq). */
static void
notifies_take(struct follower *f)
{
	PGnotify *nf;
	uint64_t seq;

	while ((nf = PQnotifies(f->l->pg)) != NULL) {
		f->is_woken = true;
		seq = strtoull(nf->extra, NULL, 10);
		if (seq > atomic_load(&f->c->fleet_seq))
			atomic_store(&f->c->fleet_seq, seq);
		PQfreemem(nf);
	}
}

/* One turn while connected: catch up if woken or due, wait. -1 when
 * dropped. */
static int
follow_turn(struct follower *f)
{
	struct cluster *c = f->c;
	char err[256];
	int64_t now = cluster_mono_ms(), wait;

	if (f->is_woken || now - f->last_poll_ms >= (int64_t)c->poll_ms) {
		f->is_woken = false;
		f->last_poll_ms = now;
		while (follow_once(f) == 1 && !atomic_load(&c->is_stopping))
			;
		if (f->l->pg == NULL)
			return -1;
		position_report(f);
		if (f->l->pg == NULL)
			return -1;
	}
	sure_log(f);
	early_withdraw(f, false);
	now = cluster_mono_ms();
	wait = (int64_t)c->poll_ms - (now - f->last_poll_ms);
	if (f->withdraw_ms != 0 && f->withdraw_ms - now < wait)
		wait = f->withdraw_ms - now;
	if (pg_wait(f->l->pg, c->wake[0], wait < 1 ? 1 : (int)wait, err,
	    sizeof(err)) == -1) {
		cluster_link_drop(f->l, err);
		return -1;
	}
	notifies_take(f);
	return 0;
}

void *
cluster_follow_main(void *arg)
{
	struct follower f;

	memset(&f, 0, sizeof(f));
	f.l = arg;
	f.c = f.l->c;
	while (!atomic_load(&f.c->is_stopping)) {
		if (f.l->pg == NULL) {
			early_withdraw(&f, true);
			sure_log(&f);
			if (cluster_link_up(f.l) == -1) {
				cluster_nap(f.c, backoff_next(&f.l->bo));
				continue;
			}
			f.is_woken = true;
		}
		if (follow_turn(&f) == -1)
			cluster_nap(f.c, backoff_next(&f.l->bo));
	}
	if (f.l->pg != NULL)
		PQfinish(f.l->pg);
	f.l->pg = NULL;
	return NULL;
}
