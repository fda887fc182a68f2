/*
 * The daemon, the runtime's lifecycle owner: startup (the shared context,
 * then the parts on it, the pools and the listeners), the wiring of the
 * parts' hooks and callbacks, signals, reload, graceful stop, teardown.
 */
#include "proxy/daemon/daemon.h"

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "proxy/cluster/cluster.h"
#include "proxy/daemon/attrib.h"
#include "proxy/daemon/fleet.h"
#include "proxy/daemon/housekeep.h"
#include "proxy/daemon/outbox.h"
#include "proxy/daemon/prefs.h"
#include "proxy/daemon/receipts.h"
#include "proxy/daemon/replies.h"
#include "proxy/daemon/session.h"
#include "proxy/daemon/submit.h"
#include "proxy/daemon/upstream.h"
#include "proxy/daemon/writer.h"
#include "proxy/io/evmem.h"
#include "proxy/io/listener.h"
#include "proxy/io/log.h"
#include "proxy/io/notify.h"
#include "store/sentlog.h"

/* Stop progress check period, and the extra time given to the pools. */
#define STOP_TICK_MS		50
#define STOP_POOLS_MS		2000
/* Store housekeeping period. */
#define EXPIRE_PERIOD_S		3600

/* The lifecycle's own state: nothing below the daemon sees it. */
struct daemon_run {
	char			*config_path;	/* owned */
	struct listener		**listeners;	/* owned */
	size_t			 nlisteners;
	int			 exit_status;
	uint64_t		 stop_deadline_ms;
	size_t			 pools_down;	/* shutdown done callbacks */
	bool			 is_pools_stopping;
	/* Pools of upstreams a reload removed, shutting down. Owned. */
	struct upstream_pool	**retired;
	size_t			 nretired;
	struct event		*expire_ev;	/* store housekeeping */
	struct housekeep	*hk;		/* owned: its thread */
	struct event		*sig_term;	/* owned */
	struct event		*sig_int;
	struct event		*sig_hup;
	struct event		*stop_ev;	/* shutdown progress timer */
};

/* --- pools ---------------------------------------------------------------- */

static void
pool_state_cb(void *arg, bool any_bound)
{
	(void)arg;
	log_info("event=upstream_state bound=%s", any_bound ? "yes" : "no");
}

/* --- wiring: the parts below tell the parts above ----------------------- */

static void
hook_receiver_bound(struct daemon *d, const char *account)
{
	outbox_account_bound(d->outbox, account);
}

static void
hook_outbox_done(struct daemon *d, const char *account, uint64_t id,
    uint32_t status)
{
	outbox_done(d->outbox, account, id, status);
}

static void
hook_session_gone(struct daemon *d)
{
	/* Let the stop tick see an empty list without waiting a period. */
	if (d->is_stopping && TAILQ_EMPTY(&d->sessions) &&
	    d->run->stop_ev != NULL && !d->run->is_pools_stopping)
		event_active(d->run->stop_ev, EV_TIMEOUT, 0);
}

static const struct daemon_hooks daemon_hooks = {
	.receiver_bound = hook_receiver_bound,
	.outbox_done = hook_outbox_done,
	.msgmap_added = receipts_held_match,
	.session_gone = hook_session_gone,
};

/* Take a new department connection unless stopping or full. */
static bool
accept_admit(void *arg, const char *name)
{
	struct daemon	*d = arg;

	if (d->is_stopping)
		return false;
	if (d->cfg->max_sessions != 0 && d->nsessions >= d->cfg->max_sessions) {
		/* Anyone who can connect can make this one: limited. */
		if (log_limit_allow(&d->peer_log, "max_sessions",
		    daemon_now_ms()))
			log_warnx("event=accept_refused listener=%s "
			    "reason=max_sessions sessions=%zu", name,
			    d->nsessions);
		return false;
	}
	return true;
}

static void
accept_session(void *arg, struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen, bool is_tls)
{
	(void)session_new(arg, bev, peer, peerlen, is_tls);
}

static const struct listener_cbs listener_cbs = {
	.admit = accept_admit,
	.on_accept = accept_session,
};

/*
 * What an SMSC sends us: a receipt (or other notification) goes to the
 * account that sent its message; a subscriber reply (MO) through the
 * keyword step (an opt-out is committed before the SMSC is answered),
 * then to the account of the number written to.
 */
static void
pool_deliver_cb(void *arg, struct upstream_pool *p,
    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply)
{
	struct daemon	*d = arg;

	if ((pdu->esm_class & SMPP_ESM_MSG_TYPE_MASK) != SMPP_ESM_MSG_TYPE_MO)
		receipts_route(d, p, pdu, raw, len, reply);
	else
		replies_on_mo(d->replies, p, pdu, raw, len, reply);
}

static const struct upstream_cbs pool_cbs = {
	.on_window = session_upstream_window,
	.on_state = pool_state_cb,
	.on_deliver = pool_deliver_cb,
};

struct pool_free_arg {
	struct daemon		*d;
	struct upstream_pool	*p;
};

static void
retired_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool_free_arg	*a = arg;
	struct daemon		*d = a->d;
	size_t			 i;

	(void)fd;
	(void)what;
	for (i = 0; i < d->run->nretired; i++)
		if (d->run->retired[i] == a->p) {
			d->run->nretired--;
			d->run->retired[i] = d->run->retired[d->run->nretired];
			upstream_pool_free(a->p);
			break;
		}
	free(a);
}

/* A removed upstream finished its graceful shutdown: free it on a later
 * turn (not from inside the pool's own call chain). */
static void
retired_done_cb(struct upstream_pool *p, void *arg)
{
	struct daemon		*d = arg;
	struct pool_free_arg	*a;
	struct timeval		 tv = { 0, 0 };

	if ((a = malloc(sizeof(*a))) == NULL)
		return;		/* freed at teardown instead */
	a->d = d;
	a->p = p;
	if (event_base_once(d->base, -1, EV_TIMEOUT, retired_free_cb, a,
	    &tv) == -1)
		free(a);
}

static void
pool_retire(struct daemon *d, struct upstream_pool *p)
{
	struct upstream_pool	**r;

	r = realloc(d->run->retired, (d->run->nretired + 1) * sizeof(*r));
	if (r == NULL) {
		upstream_pool_free(p);
		return;
	}
	d->run->retired = r;
	d->run->retired[d->run->nretired++] = p;
	log_info("event=upstream_retired upstream=%s", upstream_pool_name(p));
	if (upstream_pool_shutdown(p, d->cfg->timeouts.shutdown_ms != 0 ?
	    d->cfg->timeouts.shutdown_ms : 5000, retired_done_cb, d) == -1)
		log_warn("event=upstream_retire_failed upstream=%s",
		    upstream_pool_name(p));
}

/*
 * Pools for every upstream of cfg: the existing one of the same name
 * reconfigured, or a new one. Old pools not carried over are retired.
 * Returns 0, or -1 if a new pool could not be made (nothing changed).
 */
static int
pools_apply(struct daemon *d, const struct config *cfg)
{
	struct upstream_pool	**np;
	bool			*is_kept;
	size_t			 i, j;

	np = calloc(cfg->nupstreams + 1, sizeof(*np));
	is_kept = calloc(d->npools + 1, sizeof(*is_kept));
	if (np == NULL || is_kept == NULL)
		goto err;
	for (i = 0; i < cfg->nupstreams; i++) {
		const struct config_upstream *u = &cfg->upstreams[i];

		for (j = 0; j < d->npools; j++)
			if (!is_kept[j] && d->pools[j] != NULL &&
			    strcmp(upstream_pool_name(d->pools[j]),
			    u->name) == 0)
				break;
		if (j < d->npools) {
			is_kept[j] = true;
			np[i] = d->pools[j];
			continue;
		}
		if ((np[i] = upstream_pool_new(d->base, u, &pool_cbs,
		    d)) == NULL) {
			log_warn("event=upstream_failed upstream=%s "
			    "doing=pool_new", u->name);
			goto err_new;
		}
	}
	/* Past the point of failure: apply. */
	for (i = 0; i < cfg->nupstreams; i++) {
		for (j = 0; j < d->npools; j++)
			if (np[i] == d->pools[j])
				break;
		if (j < d->npools && upstream_pool_reconfigure(np[i],
		    &cfg->upstreams[i]) == -1)
			log_warn("event=upstream_reconfigure_failed "
			    "upstream=%s (old settings stay)",
			    cfg->upstreams[i].name);
	}
	for (j = 0; j < d->npools; j++)
		if (!is_kept[j] && d->pools[j] != NULL)
			pool_retire(d, d->pools[j]);
	free(d->pools);
	free(is_kept);
	d->pools = np;
	d->npools = cfg->nupstreams;
	return 0;

err_new:
	for (i = 0; i < cfg->nupstreams; i++) {
		for (j = 0; j < d->npools; j++)
			if (np[i] == d->pools[j])
				break;
		if (j == d->npools)
			upstream_pool_free(np[i]);
	}
err:
	free(np);
	free(is_kept);
	return -1;
}

/* Buckets for every account of cfg, keeping the tokens of accounts that
 * stay. Returns 0 or -1. */
static int
rates_apply(struct daemon *d, const struct config *cfg)
{
	struct ratelimit	*nr;
	uint64_t		 now = daemon_now_ms();
	size_t			 i;
	int			 old;

	if ((nr = calloc(cfg->naccounts + 1, sizeof(*nr))) == NULL)
		return -1;
	for (i = 0; i < cfg->naccounts; i++) {
		const struct config_account *a = &cfg->accounts[i];

		old = d->cfg != NULL && d->rates != NULL ?
		    config_account_find(d->cfg, a->system_id) : -1;
		if (old >= 0) {
			nr[i] = d->rates[old];
			ratelimit_update(&nr[i], a->max_rate, a->max_burst,
			    now);
		} else
			ratelimit_init(&nr[i], a->max_rate, a->max_burst, now);
	}
	free(d->rates);
	d->rates = nr;
	return 0;
}

/* --- reload --------------------------------------------------------------- */

static void
log_config_errors(const struct config_errors *errs)
{
	char	buf[1024];
	size_t	i, n = errs->count < CONFIG_ERRORS_MAX ? errs->count :
		    CONFIG_ERRORS_MAX;

	/* cppcheck follows a path with no error recorded and calls the loop
	 * dead; a reload that failed has errors to log. */
	/* cppcheck-suppress knownConditionTrueFalse */
	for (i = 0; i < n; i++)
		log_warnx("event=config_error error=\"%s\"",
		    config_error_format(errs, i, buf, sizeof(buf)));
	if (errs->count > n)
		log_warnx("event=config_error more=%zu", errs->count - n);
}

static bool
listeners_same(const struct config *a, const struct config *b)
{
	size_t	i;

	if (a->nlisteners != b->nlisteners)
		return false;
	for (i = 0; i < a->nlisteners; i++)
		if (strcmp(a->listeners[i].host, b->listeners[i].host) != 0 ||
		    a->listeners[i].port != b->listeners[i].port ||
		    a->listeners[i].tls.enabled != b->listeners[i].tls.enabled)
			return false;
	return true;
}

static void
daemon_reload(struct daemon *d)
{
	struct config_errors	 errs;
	struct config		*ncfg, *old;
	struct session		*s, *next;
	size_t			 i;

	log_info("event=reload path=%s", d->run->config_path);
	memset(&errs, 0, sizeof(errs));
	if ((ncfg = config_load(d->run->config_path, &errs)) == NULL) {
		log_config_errors(&errs);
		log_warnx("event=reload_refused errors=%zu (old config stays)",
		    errs.count);
		return;
	}
	if (strcmp(ncfg->store_path, d->cfg->store_path) != 0)
		log_warnx("event=reload_note store.path changed: takes effect "
		    "at restart");
	if (!listeners_same(ncfg, d->cfg))
		log_warnx("event=reload_note listeners changed: take effect "
		    "at restart");
	if (rates_apply(d, ncfg) == -1 || pools_apply(d, ncfg) == -1) {
		log_warnx("event=reload_refused reason=resources (old config "
		    "stays)");
		config_free(ncfg);
		return;
	}
	if (listeners_same(ncfg, d->cfg))
		for (i = 0; i < d->run->nlisteners; i++)
			listener_reconfigure(d->run->listeners[i],
			    &ncfg->listeners[i]);
	old = d->cfg;
	d->cfg = ncfg;
	d->cfg_gen++;
	/* Keywords, replies, accounts; before the old config goes. */
	(void)replies_reconfigure(d->replies, ncfg);
	(void)outbox_reconfigure(d->outbox, ncfg);
	(void)prefs_reconfigure(d->prefs, ncfg);
	housekeep_freq_window(d->run->hk, prefs_window(ncfg));
	config_free(old);
	if (d->fe != NULL)
		d->fe->reload(d, &d->fe_state);
	/* Sessions of accounts that are gone end now; the rest stay bound
	 * and pick up their account's new settings on their next PDU. */
	for (s = TAILQ_FIRST(&d->sessions); s != NULL; s = next) {
		next = session_next(s);
		if (session_state(s) == SESSION_BOUND &&
		    config_account_find(d->cfg, session_system_id(s)) < 0)
			session_close(s, "account removed");
	}
	log_info("event=reloaded accounts=%zu upstreams=%zu routes=%zu",
	    d->cfg->naccounts, d->cfg->nupstreams, d->cfg->nroutes);
}

/* --- stop ----------------------------------------------------------------- */

static void
pool_done_cb(struct upstream_pool *p, void *arg)
{
	struct daemon	*d = arg;

	log_info("event=upstream_stopped upstream=%s", upstream_pool_name(p));
	d->run->pools_down++;
}

static void
stop_pools(struct daemon *d)
{
	size_t	i;

	d->run->is_pools_stopping = true;
	d->run->pools_down = 0;
	for (i = 0; i < d->npools; i++)
		if (d->pools[i] == NULL ||
		    upstream_pool_shutdown(d->pools[i], STOP_POOLS_MS / 2,
		    pool_done_cb, d) == -1)
			d->run->pools_down++;
}

static void
stop_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct session	*s;
	uint64_t	 now = daemon_now_ms();

	(void)fd;
	(void)what;
	if (!d->run->is_pools_stopping) {
		if (!TAILQ_EMPTY(&d->sessions) &&
		    now < d->run->stop_deadline_ms)
			return;
		while ((s = TAILQ_FIRST(&d->sessions)) != NULL)
			session_close(s, "shutdown timeout");
		stop_pools(d);
	}
	if (d->run->pools_down >= d->npools ||
	    now >= d->run->stop_deadline_ms + STOP_POOLS_MS) {
		daemon_flush(d);
		event_base_loopexit(d->base, NULL);
	}
}

static void
daemon_stop(struct daemon *d, const char *why)
{
	struct session	*s, *next;
	struct timeval	 tv = { 0, STOP_TICK_MS * 1000 };
	unsigned	 ms;
	size_t		 i;

	if (d->is_stopping) {
		log_info("event=stop_now signal=%s", why);
		daemon_flush(d);
		event_base_loopexit(d->base, NULL);
		return;
	}
	d->is_stopping = true;
	(void)notify_stopping();	/* systemd: stopping */
	/* The next start indexes the log again: no merging on the way out. */
	if (d->writer != NULL)
		writer_quiesce(d->writer);
	ms = d->cfg->timeouts.shutdown_ms != 0 ? d->cfg->timeouts.shutdown_ms :
	    5000;
	d->run->stop_deadline_ms = daemon_now_ms() + ms;
	log_info("event=stopping signal=%s sessions=%zu wait_ms=%u", why,
	    d->nsessions, ms);
	for (i = 0; i < d->run->nlisteners; i++)
		listener_disable(d->run->listeners[i]);
	for (s = TAILQ_FIRST(&d->sessions); s != NULL; s = next) {
		next = session_next(s);
		session_unbind(s);
	}
	if ((d->run->stop_ev = event_new(d->base, -1, EV_PERSIST, stop_tick_cb,
	    d)) == NULL || event_add(d->run->stop_ev, &tv) == -1) {
		daemon_flush(d);
		event_base_loopexit(d->base, NULL);
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		if (!d->is_stopping) {
			(void)notify_reloading();	/* systemd: reload */
			daemon_reload(d);
			(void)notify_ready();
		}
		break;
	case SIGTERM:
		daemon_stop(d, "TERM");
		break;
	default:
		daemon_stop(d, "INT");
		break;
	}
}

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon		*d = arg;
	struct store_retention	 r;

	(void)fd;
	(void)what;
	memset(&r, 0, sizeof(r));
	r.events_days = d->cfg->retention.events_days;
	r.audit_days = d->cfg->retention.audit_days;
	r.msgmap_hours = d->cfg->retention.receipt_map_hours;
	r.outbox_hours = d->cfg->retention.outbox_hours;
	(void)housekeep_expire(d->run->hk, &r);
}

/* --- main ----------------------------------------------------------------- */

static int
attrib_load_cb(void *arg, const struct store_sentlog_entry *ent)
{
	struct daemon	*d = arg;
	uint64_t	 key;

	if (!store_numkey(ent->e.number, &key))
		return 0;
	/* Full: keep the newest, as daemon_lastsent_add() does. */
	if (attrib_reserve(d->attrib) == -1 && errno == ENOSPC)
		d->counters.attrib_dropped += attrib_drop_oldest(d->attrib);
	if (attrib_put(d->attrib, key, ent->seq) == -1)
		d->counters.attrib_unindexed++;
	return 0;
}

/*
 * The attribution index and the store writer. Records a previous run left
 * in the sent log (not merged yet) are indexed again, so a STOP after a
 * restart still finds what was sent last.
 */
static int
attrib_open(struct daemon *d, char *err, size_t errlen)
{
	uint64_t	first, last;

	if ((d->attrib = attrib_new(DAEMON_ATTRIB_MAX)) == NULL) {
		snprintf(err, errlen, "attribution index: %s",
		    strerror(errno));
		return -1;
	}
	if (store_sentlog_bounds(d->store, &first, &last) == -1 ||
	    (first > 0 && store_sentlog_walk(d->store, first, attrib_load_cb,
	    d) == -1)) {
		snprintf(err, errlen, "reading the sent log: %s",
		    store_errmsg(d->store));
		return -1;
	}
	if (attrib_count(d->attrib) > 0)
		log_info("event=sentlog_indexed records=%zu first=%llu "
		    "last=%llu", attrib_count(d->attrib),
		    (unsigned long long)first, (unsigned long long)last);
	if ((d->writer = writer_new(d->base, d->store, err, errlen)) == NULL)
		return -1;
	return 0;
}

static void
daemon_free(struct daemon *d)
{
	struct session	*s;
	size_t		 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->run->nlisteners; i++)
		listener_free(d->run->listeners[i]);
	free(d->run->listeners);
	if (d->fe != NULL)
		d->fe->free(d->fe_state);
	d->fe_state = NULL;
	while ((s = TAILQ_FIRST(&d->sessions)) != NULL)
		session_close(s, "teardown");
	/* Pools first: their in-flight contexts are failed back through
	 * on_fail while the sessions' handles are still allocated. */
	for (i = 0; i < d->npools; i++)
		upstream_pool_free(d->pools[i]);
	free(d->pools);
	for (i = 0; i < d->run->nretired; i++)
		upstream_pool_free(d->run->retired[i]);
	free(d->run->retired);
	while ((s = TAILQ_FIRST(&d->closing)) != NULL)
		session_free(s);
	/* After the pools: confirmations in flight come back through
	 * on_fail into it. */
	replies_free(d->replies);
	d->replies = NULL;
	outbox_free(d->outbox);
	d->outbox = NULL;
	prefs_free(d->prefs);
	d->prefs = NULL;
	receipts_held_free(d);
	fleet_stop(d);
	/* Commits what is queued, then stops the thread; the cluster
	 * thread after it, so a last opt-out is in the journal first
	 * (shipped at the next start if not now). */
	writer_free(d->writer);
	d->writer = NULL;
	cluster_stop(d->cluster);
	d->cluster = NULL;
	attrib_free(d->attrib);
	submit_memory_free(d->submits);
	/* Its thread stops: a retention run asked for and a send log
	 * prune pass going are finished first (each holds no lock long). */
	housekeep_free(d->run->hk);
	d->run->hk = NULL;
	store_free(d->store);
	if (d->run->expire_ev != NULL)
		event_free(d->run->expire_ev);
	if (d->run->stop_ev != NULL)
		event_free(d->run->stop_ev);
	if (d->run->sig_term != NULL)
		event_free(d->run->sig_term);
	if (d->run->sig_int != NULL)
		event_free(d->run->sig_int);
	if (d->run->sig_hup != NULL)
		event_free(d->run->sig_hup);
	free(d->rates);
	config_free(d->cfg);
	if (d->base != NULL)
		event_base_free(d->base);
	free(d->run->config_path);
	free(d->run);
	free(d);
}

/*
 * The parts of d below the pools and the listeners: the store and its
 * attribution index, the sends' memory, the outbox and the reply side,
 * and the store housekeeping timer. Returns 0, or -1 (the reason logged;
 * daemon_free() undoes what was done).
 */
static int
daemon_open_parts(struct daemon *d)
{
	struct store_params	 sp;
	struct timeval		 tv = { EXPIRE_PERIOD_S, 0 };
	char			 err[512];

	memset(&sp, 0, sizeof(sp));
	sp.map_mb = d->cfg->store_map_mb;
	if ((d->store = store_open(d->cfg->store_path, &sp, err,
	    sizeof(err))) == NULL) {
		log_warnx("event=start_failed reason=store path=%s "
		    "error=\"%s\"", d->cfg->store_path, err);
		return -1;
	}
	if (attrib_open(d, err, sizeof(err)) == -1) {
		log_warnx("event=start_failed reason=store path=%s "
		    "error=\"%s\"", d->cfg->store_path, err);
		return -1;
	}
	if (d->cfg->has_cluster && (d->cluster = cluster_start(d->store,
	    d->cfg, err, sizeof(err))) == NULL) {
		log_warnx("event=start_failed reason=cluster error=\"%s\"",
		    err);
		return -1;
	}
	if ((d->submits = submit_memory_new()) == NULL) {
		log_warnx("event=start_failed reason=nomem");
		return -1;
	}
	if ((d->outbox = outbox_new(d)) == NULL ||
	    (d->replies = replies_new(d)) == NULL) {
		log_warnx("event=start_failed reason=inbound");
		return -1;
	}
	if ((d->prefs = prefs_new(d)) == NULL) {
		log_warnx("event=start_failed reason=preferences");
		return -1;
	}
	if ((d->run->hk = housekeep_new(d->store, err, sizeof(err))) == NULL) {
		log_warnx("event=start_failed reason=store path=%s "
		    "error=\"%s\"", d->cfg->store_path, err);
		return -1;
	}
	housekeep_freq_window(d->run->hk, prefs_window(d->cfg));
	if (fleet_start(d) == -1)
		return -1;
	if ((d->run->expire_ev = event_new(d->base, -1, EV_PERSIST, expire_cb,
	    d)) == NULL)
		return -1;
	event_add(d->run->expire_ev, &tv);
	return 0;
}

int
daemon_main(const char *path, const struct daemon_frontend *fe)
{
	struct daemon		*d;
	struct config_errors	 errs;
	size_t			 i;
	int			 status;

	/* A peer that goes away mid-write is an EPIPE, not a crash. */
	signal(SIGPIPE, SIG_IGN);
	/* Before any other libevent call: its buffers recycled, not
	 * allocated per PDU. */
	(void)evmem_install();
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->run = calloc(1, sizeof(*d->run))) == NULL) {
		log_warn("event=start_failed");
		free(d);
		return 1;
	}
	d->fe = fe;
	d->hooks = daemon_hooks;
	TAILQ_INIT(&d->sessions);
	TAILQ_INIT(&d->closing);
	if ((d->run->config_path = strdup(path)) == NULL)
		goto err;
	memset(&errs, 0, sizeof(errs));
	if ((d->cfg = config_load(path, &errs)) == NULL) {
		log_config_errors(&errs);
		log_warnx("event=start_failed reason=config path=%s", path);
		goto err;
	}
	if ((d->base = event_base_new()) == NULL) {
		log_warnx("event=start_failed reason=event_base");
		goto err;
	}
	if (daemon_open_parts(d) == -1)
		goto err;
	if (rates_apply(d, d->cfg) == -1 || pools_apply(d, d->cfg) == -1) {
		log_warnx("event=start_failed reason=upstreams");
		goto err;
	}
	if ((d->run->listeners = calloc(d->cfg->nlisteners + 1,
	    sizeof(*d->run->listeners))) == NULL)
		goto err;
	for (i = 0; i < d->cfg->nlisteners; i++) {
		if ((d->run->listeners[i] = listener_new(d->base,
		    &d->cfg->listeners[i], &listener_cbs, d)) == NULL) {
			log_warnx("event=start_failed reason=listener");
			goto err;
		}
		d->run->nlisteners++;
	}
	if (d->fe != NULL && d->fe->start(d, &d->fe_state) == -1) {
		log_warnx("event=start_failed reason=admin");
		goto err;
	}
	d->run->sig_term = evsignal_new(d->base, SIGTERM, signal_cb, d);
	d->run->sig_int = evsignal_new(d->base, SIGINT, signal_cb, d);
	d->run->sig_hup = evsignal_new(d->base, SIGHUP, signal_cb, d);
	if (d->run->sig_term == NULL || d->run->sig_int == NULL ||
	    d->run->sig_hup == NULL ||
	    event_add(d->run->sig_term, NULL) == -1 ||
	    event_add(d->run->sig_int, NULL) == -1 ||
	    event_add(d->run->sig_hup, NULL) == -1) {
		log_warnx("event=start_failed reason=signals");
		goto err;
	}
	log_info("event=started config=%s listeners=%zu upstreams=%zu "
	    "accounts=%zu", d->cfg->path != NULL ? d->cfg->path : path,
	    d->run->nlisteners, d->npools, d->cfg->naccounts);
	/* systemd Type=notify: listeners and store are up. */
	if (notify_ready() == -1)
		log_warn("event=notify_failed state=ready");

	if (event_base_dispatch(d->base) == -1) {
		log_warnx("event=loop_failed");
		d->run->exit_status = 1;
	}
	status = d->run->exit_status;
	log_info("event=stopped status=%d", status);
	daemon_free(d);
	return status;

err:
	daemon_free(d);
	return 1;
}
