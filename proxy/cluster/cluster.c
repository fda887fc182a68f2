/*
 * proxy/cluster/cluster: a node's cluster (cluster.h): its two threads'
 * lifecycle and connections, and the figures the daemon reads.
 *
 * Why threads with poll(2) and not the SMPP loop's event_base: libpq's
 * asynchronous calls are used all the same (proxy/cluster/pg.c), but a
 * straight-line loop with a deadline on every wait is easier to show
 * correct than callbacks, and the SMPP loop is never delayed by a
 * PostgreSQL answer, a reconnect or a large catch-up: it reads one atomic
 * timestamp per send (cluster_refuses). Why two threads: see
 * cluster_int.h.
 */
#include "proxy/cluster/cluster_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "proxy/cluster/outbox.h"
#include "proxy/cluster/schema.h"
#include "proxy/io/log.h"

#define CONNECT_TIMEOUT_MS	3000

int64_t
cluster_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cluster_reason_set(struct cluster *c, const char *msg)
{
	pthread_mutex_lock(&c->mu);
	snprintf(c->reason, sizeof(c->reason), "%s", msg);
	pthread_mutex_unlock(&c->mu);
}

/* Sure at now (monotonic ms). */
static bool
sure_at(const struct cluster *c, int64_t now)
{
	int64_t at = atomic_load(&c->caught_up_ms);

	return at != 0 && now - at <= (int64_t)c->max_lag_ms;
}

bool
cluster_is_sure(const struct cluster *c)
{
	return sure_at(c, cluster_mono_ms());
}

bool
cluster_refuses(struct cluster *c, const struct config *cfg, size_t cat,
    int64_t now_ms)
{
	if (c == NULL || sure_at(c, now_ms) ||
	    config_cluster_is_fail_open(cfg, cat))
		return false;
	atomic_fetch_add_explicit(&c->refused_total, 1,
	    memory_order_relaxed);
	return true;
}

void
cluster_stats(const struct cluster *c, struct cluster_stats *out)
{
	int64_t at = atomic_load(&c->caught_up_ms), now = cluster_mono_ms();

	memset(out, 0, sizeof(*out));
	snprintf(out->node, sizeof(out->node), "%s", c->node);
	out->is_connected = atomic_load(&c->ship.is_connected) &&
	    atomic_load(&c->follow.is_connected);
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
		if (!atomic_load(&c->follow.is_connected))
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

void
cluster_link_drop(struct cluster_link *l, const char *why)
{
	if (l->pg == NULL)
		return;
	log_warnx("event=cluster_disconnected node=%s thread=%s error=\"%s\"",
	    l->c->node, l->role, why);
	cluster_reason_set(l->c, why);
	PQfinish(l->pg);
	l->pg = NULL;
	atomic_store(&l->is_connected, false);
}

int
cluster_link_up(struct cluster_link *l)
{
	struct cluster *c = l->c;
	char err[256], sql[128];
	int version;

	if ((l->pg = pg_connect(c->conninfo, CONNECT_TIMEOUT_MS, c->wake[0],
	    err, sizeof(err))) == NULL)
		goto fail;
	if (cluster_schema_version(l->pg, CLUSTER_QUERY_TIMEOUT_MS,
	    c->wake[0], &version, err, sizeof(err)) == -1)
		goto fail;
	if (version != CLUSTER_SCHEMA_VERSION) {
		snprintf(err, sizeof(err), "database schema version %d, this "
		    "build needs %d: run stopgate db migrate", version,
		    CLUSTER_SCHEMA_VERSION);
		goto fail;
	}
	/* Notices (a temporary table already there) are not news. */
	snprintf(sql, sizeof(sql), "SET client_min_messages = warning; "
	    "LISTEN %s", l->listen);
	if (pg_exec(l->pg, sql, 0, NULL, CLUSTER_QUERY_TIMEOUT_MS, c->wake[0],
	    err, sizeof(err)) == -1)
		goto fail;
	atomic_store(&l->is_connected, true);
	atomic_fetch_add(&c->reconnects_total, 1);
	backoff_reset(&l->bo);
	log_info("event=cluster_connected node=%s thread=%s", c->node,
	    l->role);
	return 0;
fail:
	if (!atomic_load(&c->is_stopping))
		log_warnx("event=cluster_connect_failed node=%s thread=%s "
		    "error=\"%s\"", c->node, l->role, err);
	cluster_reason_set(c, err);
	if (l->pg != NULL)
		PQfinish(l->pg);
	l->pg = NULL;
	return -1;
}

void
cluster_nap(struct cluster *c, unsigned ms)
{
	struct pollfd pfd = { c->wake[0], POLLIN, 0 };

	(void)poll(&pfd, 1, (int)ms);
}

/* ------------------------------------------------------------------ */
/* Lifecycle.                                                          */

static void
cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	store_free(c->ship.st);
	store_free(c->follow.st);
	free(c->items);
	free(c->early);
	free(c->acct_names);
	free(c->acct_bound);
	if (c->conninfo != NULL)
		explicit_bzero(c->conninfo, strlen(c->conninfo));
	free(c->conninfo);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->early_mu);
	free(c);
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

static void
link_init(struct cluster_link *l, struct cluster *c, const char *role,
    const char *listen)
{
	l->c = c;
	l->role = role;
	l->listen = listen;
	backoff_init(&l->bo, 100, 5000, 0);
}

/* Both threads, or neither (errno set). */
static int
threads_start(struct cluster *c)
{
	size_t rows;
	uint64_t applied;

	if (store_journal_depth(c->follow.st, &rows, &applied) == 0) {
		atomic_store(&c->applied_seq, applied);
		atomic_store(&c->fleet_seq, applied);
		atomic_store(&c->journal_depth, rows);
	}
	if ((errno = pthread_create(&c->follow.thread, NULL,
	    cluster_follow_main, &c->follow)) != 0)
		return -1;
	c->follow.is_started = true;
	if ((errno = pthread_create(&c->ship.thread, NULL, cluster_ship_main,
	    &c->ship)) != 0)
		return -1;
	c->ship.is_started = true;
	return 0;
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
	pthread_mutex_init(&c->early_mu, NULL);
	snprintf(c->node, sizeof(c->node), "%s", cc->node);
	c->max_lag_ms = cc->max_lag_ms != 0 ? cc->max_lag_ms : 2000;
	/* A few polls per max_lag_ms: a missed NOTIFY never makes a node
	 * unsure, and an idle fleet costs a few small queries a second. */
	q = c->max_lag_ms / 4;
	c->poll_ms = q < 10 ? 10 : q > 250 ? 250 : q;
	c->map_hours = cfg->retention.receipt_map_hours != 0 ?
	    cfg->retention.receipt_map_hours : 72;
	c->sent_keep_s = sent_keep(cfg);
	link_init(&c->ship, c, "shipper", CLUSTER_OUTBOX_CHANNEL);
	link_init(&c->follow, c, "follower", CLUSTER_CHANNEL);
	snprintf(c->reason, sizeof(c->reason), "not connected yet");
	if ((c->conninfo = strdup(cc->postgres)) == NULL ||
	    (c->items = calloc(CLUSTER_FOLLOW_BATCH,
	    sizeof(*c->items))) == NULL ||
	    (c->early = calloc(CLUSTER_FOLLOW_BATCH,
	    sizeof(*c->early))) == NULL ||
	    pipe(c->wake) == -1 ||
	    (c->ship.st = store_sibling(st)) == NULL ||
	    (c->follow.st = store_sibling(st)) == NULL) {
		snprintf(err, errlen, "cluster: %s", c->wake[0] >= 0 &&
		    c->early != NULL ? store_errmsg(st) : strerror(errno));
		cluster_free(c);
		return NULL;
	}
	if (threads_start(c) == -1) {
		snprintf(err, errlen, "cluster thread: %s", strerror(errno));
		cluster_stop(c);
		return NULL;
	}
	return c;
}

void
cluster_stop(struct cluster *c)
{
	if (c == NULL)
		return;
	atomic_store(&c->is_stopping, true);
	/* The pipe is empty and ours: a 1-byte write cannot fail short,
	 * and a failure leaves the poll timeouts to end the threads anyway.
	 * Nobody reads the byte, so both threads see it. */
	if ((c->ship.is_started || c->follow.is_started) &&
	    write(c->wake[1], "x", 1) != 1)
		log_warn("event=cluster_stop_wake");
	if (c->ship.is_started)
		pthread_join(c->ship.thread, NULL);
	if (c->follow.is_started)
		pthread_join(c->follow.thread, NULL);
	cluster_free(c);
}
