/*
 * Subscriber preferences on the send path: the counting table, the zone
 * tables, the event feed that keeps LESS current, and the timer that
 * does the housekeeping of the table. The store's send log is pruned
 * off the loop (housekeep.h). See prefs.h.
 */
#include "proxy/daemon/prefs.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/writer.h"
#include "proxy/io/log.h"
#include "proxy/policy/freq.h"
#include "proxy/policy/quiet.h"
#include "store/freq.h"

#define PREFS_TICK_MS		1000
#define PREFS_FEED_MAX		10000	/* events read per poll */
#define PREFS_REMOTE_MAX	10000	/* send log records read per poll */
/* Other nodes' sends are read this often (a read transaction and one
 * seek when none came): the overshoot a fleet allows stays near its
 * max_lag_ms rather than a second more. */
#define PREFS_SENDS_MS		100
#define PREFS_SWEEP_SLOTS	65536	/* table slots visited per tick */
/* Old sends deleted at start, before the loop serves anyone; then the
 * housekeeping thread keeps the log to the window (housekeep.h). */
#define PREFS_PRUNE_MAX		100000
#define PREFS_ZONES_EVERY_S	86400
#define PREFS_CONCAT_SLOTS	4096	/* power of two */

/* A concatenated message already counted (its first part). */
struct prefs_concat {
	uint64_t	 key;
	int64_t		 time;		/* seconds */
};

struct prefs {
	struct daemon		*d;		/* borrowed */
	struct freq_table	*t;		/* owned */
	struct quiet_zones	*zones;		/* owned */
	int64_t			 zones_at;	/* built at, unix seconds */
	uint64_t		 cursor;	/* last event id read */
	uint64_t		 sends_at;	/* send log position read */
	struct event		*tick;		/* owned */
	struct event		*sends;		/* owned */
	struct prefs_counters	 c;
	struct prefs_concat	 concat[PREFS_CONCAT_SLOTS];
};

/* The longest window of every cap of cfg (0: no caps). */
static int64_t
longest_window(const struct config *cfg)
{
	int64_t	 w = 0;
	size_t	 i;

	for (i = 0; i < cfg->prefs.nfrequency; i++) {
		if (cfg->prefs.frequency[i].per_s > w)
			w = cfg->prefs.frequency[i].per_s;
		if (cfg->prefs.frequency[i].has_less &&
		    cfg->prefs.frequency[i].less_per_s > w)
			w = cfg->prefs.frequency[i].less_per_s;
	}
	return w;
}

int64_t
prefs_window(const struct config *cfg)
{
	return longest_window(cfg);
}

static int64_t
f_window(const struct config_frequency *f)
{
	return f->has_less && f->less_per_s > f->per_s ? f->less_per_s :
	    f->per_s;
}

/* store_freq_fn: put a logged send back into the table. */
static int
load_count(const char *number, const char *category, const int64_t *times,
    size_t n, void *arg)
{
	struct prefs			*p = arg;
	const struct config		*cfg = p->d->cfg;
	const struct config_frequency	*f;
	int64_t				 from = (int64_t)time(NULL);
	size_t				 first = 0;
	int				 c;

	if ((c = config_category_find(cfg, category)) < 0 ||
	    (f = config_frequency_find(cfg, (size_t)c)) == NULL)
		return 0;
	from -= f_window(f);
	while (first < n && times[first] <= from)
		first++;
	if (first < n && freq_load(p->t, number, category, f, times + first,
	    n - first) == -1)
		return -1;
	return 0;
}

static int
load_less(const struct store_less *l, void *arg)
{
	struct prefs	*p = arg;

	return freq_set_less(p->t, l->number, l->category, true);
}

/* store_event_fn over the feed: what an event does to LESS. */
static int
feed_event(const struct store_event *ev, void *arg)
{
	struct prefs		*p = arg;
	const struct config	*cfg = p->d->cfg;
	size_t			 i;

	p->cursor = ev->id;
	if (ev->action == STORE_LESS) {
		p->c.less_events++;
		for (i = 0; i < ev->ncategories; i++)
			(void)freq_set_less(p->t, ev->number,
			    ev->categories[i], true);
	} else if (ev->action == STORE_OPT_IN && ev->all) {
		for (i = 0; i < cfg->prefs.nfrequency; i++)
			(void)freq_set_less(p->t, ev->number,
			    cfg->categories[cfg->prefs.frequency[i].category].
			    name, false);
	} else if (ev->action == STORE_OPT_IN) {
		for (i = 0; i < ev->ncategories; i++)
			(void)freq_set_less(p->t, ev->number,
			    ev->categories[i], false);
	}
	return 0;
}

void
prefs_poll(struct prefs *p)
{
	if (store_events_since(p->d->store, p->cursor, PREFS_FEED_MAX,
	    feed_event, p) == -1)
		log_warnx("event=prefs_feed_failed error=\"%s\"",
		    store_errmsg(p->d->store));
}

/*
 * In a cluster, the sends of the other nodes the cluster follower applied
 * since the last call: records past a position, not a walk per send.
 */
static void
sends_cb(evutil_socket_t fd, short what, void *arg)
{
	struct prefs	*p = arg;

	(void)fd;
	(void)what;
	if (p->d->cfg->prefs.nfrequency > 0 &&
	    store_freq_remote(p->d->store, &p->sends_at, PREFS_REMOTE_MAX,
	    load_count, p) == -1)
		log_warnx("event=prefs_feed_failed error=\"%s\"",
		    store_errmsg(p->d->store));
}

static int
zones_build(struct prefs *p, const struct config *cfg)
{
	struct quiet_zones	*z;
	char			 err[128];
	size_t			 ntrans, n;

	if ((z = quiet_zones_build(cfg, (int64_t)time(NULL), err,
	    sizeof(err))) == NULL) {
		log_warnx("event=timezones_failed error=\"%s\" (the old "
		    "tables stay)", err);
		return -1;
	}
	quiet_zones_free(p->zones);
	p->zones = z;
	p->zones_at = (int64_t)time(NULL);
	n = quiet_zones_count(z, &ntrans);
	if (n > 0)
		log_info("event=timezones_built zones=%zu changes=%zu", n,
		    ntrans);
	return 0;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct prefs		*p = arg;
	const struct config	*cfg = p->d->cfg;
	int64_t			 now = (int64_t)time(NULL);

	(void)fd;
	(void)what;
	prefs_poll(p);
	(void)freq_sweep(p->t, now - longest_window(cfg), PREFS_SWEEP_SLOTS);
	if (now - p->zones_at >= PREFS_ZONES_EVERY_S)
		(void)zones_build(p, cfg);
}

/*
 * Counts and LESS from the store, after the feed's cursor is taken. The
 * sends older than the window are deleted first, on the loop's thread
 * but only from prefs_new() at daemon start, before the listeners exist
 * and the loop is dispatched: no session waits for it (a reload does not
 * come here). From then on the housekeeping thread prunes.
 */
static int
prefs_load(struct prefs *p)
{
	struct daemon		*d = p->d;
	struct store_info	 info;
	int64_t			 horizon;
	size_t			 pruned = 0;

	/* The cursor first: an event committed meanwhile is read twice,
	 * which sets the same flag again, rather than missed. */
	if (store_info(d->store, &info) == -1)
		return -1;
	p->cursor = info.last_event_id;
	/* Likewise the send log's position: a remote send applied
	 * meanwhile is counted twice (one more refusal) rather than
	 * missed. */
	if (store_freq_position(d->store, &p->sends_at) == -1)
		return -1;
	horizon = (int64_t)time(NULL) - longest_window(d->cfg);
	if (d->cfg->prefs.nfrequency > 0 &&
	    store_freq_prune(d->store, horizon, PREFS_PRUNE_MAX,
	    &pruned) == -1)
		return -1;
	if (store_freq_load(d->store, horizon, load_count, p) == -1 ||
	    store_less_all(d->store, load_less, p) == -1)
		return -1;
	log_info("event=prefs_loaded entries=%zu pruned=%zu",
	    freq_size(p->t), pruned);
	return 0;
}

struct prefs *
prefs_new(struct daemon *d)
{
	struct prefs	*p;
	struct timeval	 tv = { PREFS_TICK_MS / 1000, 0 };
	struct timeval	 stv = { 0, PREFS_SENDS_MS * 1000 };

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->d = d;
	if ((p->t = freq_new()) == NULL || zones_build(p, d->cfg) == -1)
		goto err;
	if (prefs_load(p) == -1) {
		log_warnx("event=prefs_load_failed error=\"%s\"",
		    store_errmsg(d->store));
		goto err;
	}
	if ((p->tick = event_new(d->base, -1, EV_PERSIST, tick_cb, p)) ==
	    NULL)
		goto err;
	event_add(p->tick, &tv);
	if (d->cfg->has_cluster) {
		if ((p->sends = event_new(d->base, -1, EV_PERSIST, sends_cb,
		    p)) == NULL)
			goto err;
		event_add(p->sends, &stv);
	}
	return p;

err:
	prefs_free(p);
	return NULL;
}

void
prefs_free(struct prefs *p)
{
	if (p == NULL)
		return;
	if (p->tick != NULL)
		event_free(p->tick);
	if (p->sends != NULL)
		event_free(p->sends);
	freq_free(p->t);
	quiet_zones_free(p->zones);
	free(p);
}

int
prefs_reconfigure(struct prefs *p, const struct config *cfg)
{
	return zones_build(p, cfg);
}

/* A part of a message already counted: true (nothing to count). */
static bool
concat_seen(struct prefs *p, uint64_t key, int64_t now)
{
	struct prefs_concat	*c = &p->concat[key & (PREFS_CONCAT_SLOTS - 1)];
	int64_t			 keep_s;

	keep_s = p->d->cfg->timeouts.reassembly_ms / 1000 + 1;
	if (c->key == key && now - c->time <= keep_s)
		return true;
	c->key = key;
	c->time = now;
	return false;
}

enum prefs_verdict
prefs_check(struct prefs *p, size_t cat, const char *number, bool has_ref,
    uint64_t key, int64_t *token)
{
	const struct config		*cfg = p->d->cfg;
	const struct config_frequency	*f;
	const char			*name = cfg->categories[cat].name;
	int64_t				 now;
	int				 r;

	*token = 0;
	if (cfg->prefs.nquiet == 0 && cfg->prefs.nfrequency == 0)
		return PREFS_OK;
	now = (int64_t)time(NULL);
	if (quiet_check(p->zones, cfg, cat, number, now, NULL) == 1) {
		p->c.quiet++;
		return PREFS_QUIET;
	}
	if ((f = config_frequency_find(cfg, cat)) == NULL)
		return PREFS_OK;
	if (has_ref && p->concat[key & (PREFS_CONCAT_SLOTS - 1)].key == key &&
	    concat_seen(p, key, now))
		return PREFS_OK;
	if ((r = freq_take(p->t, number, name, f, now, NULL)) == -1)
		return PREFS_ERROR;
	if (r == 0) {
		p->c.capped++;
		return PREFS_CAPPED;
	}
	if (has_ref)
		(void)concat_seen(p, key, now);
	p->c.counted++;
	*token = now;
	return PREFS_OK;
}

void
prefs_sent(struct prefs *p, const char *category, const char *number,
    int64_t token, bool is_accepted)
{
	const struct config		*cfg = p->d->cfg;
	struct store_freq_entry		 e;
	int				 c;

	if (token == 0)
		return;
	if (!is_accepted) {
		freq_untake(p->t, number, category, token);
		p->c.uncounted++;
		return;
	}
	/* A cap a reload removed: nothing to keep. */
	if ((c = config_category_find(cfg, category)) < 0 ||
	    config_frequency_find(cfg, (size_t)c) == NULL)
		return;
	memset(&e, 0, sizeof(e));
	if (strlen(number) >= sizeof(e.number) ||
	    strlen(category) >= sizeof(e.category))
		return;
	memcpy(e.number, number, strlen(number) + 1);
	memcpy(e.category, category, strlen(category) + 1);
	e.time = token;
	writer_freq(p->d->writer, &e);
}

void
prefs_concat_forget(struct prefs *p, uint64_t key)
{
	struct prefs_concat	*c = &p->concat[key & (PREFS_CONCAT_SLOTS - 1)];

	if (c->key == key)
		c->key = 0;
}

void
prefs_prefetch(const struct prefs *p, const char *number)
{
	const struct config	*cfg = p->d->cfg;
	size_t			 i;

	for (i = 0; i < cfg->prefs.nfrequency; i++)
		freq_prefetch(p->t, number,
		    cfg->categories[cfg->prefs.frequency[i].category].name);
}

void
prefs_counters(const struct prefs *p, struct prefs_counters *out)
{
	*out = p->c;
	out->entries = freq_size(p->t);
	out->zones = quiet_zones_count(p->zones, &(size_t){ 0 });
}
