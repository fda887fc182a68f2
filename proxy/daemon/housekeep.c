/*
 * proxy/daemon/housekeep: retention runs and send log pruning on a thread
 * of their own. See housekeep.h.
 */
#include "proxy/daemon/housekeep.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/io/log.h"
#include "store/freq.h"

struct housekeep {
	struct store		*st;		/* owned sibling handle */
	pthread_t		 thread;
	bool			 is_started;	/* thread not joined yet */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* CLOCK_MONOTONIC */
	/* Under mu: */
	bool			 is_stopping;
	bool			 has_expire;	/* a run asked, not begun */
	bool			 has_prune;	/* a pass asked for now */
	struct store_retention	 r;		/* the run's settings */
	int64_t			 window_s;	/* 0: no caps */
	/* Set by the loop, cleared by the thread when a run ends. */
	atomic_bool		 is_running;
	/* The thread's counters, read by the loop. */
	_Atomic uint64_t	 passes;
	_Atomic uint64_t	 pruned;
	_Atomic uint64_t	 failed;
};

static void
expire_run(struct housekeep *hk, const struct store_retention *r)
{
	struct store_expired	 n;
	struct timespec		 t0, t1;
	long long		 ms;

	memset(&n, 0, sizeof(n));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_expire(hk->st, (int64_t)time(NULL), r, &n) == -1)
		log_warnx("event=expire_failed error=\"%s\" doing=expire",
		    store_errmsg(hk->st));
	else {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		log_info("event=expired msgmap=%zu audit=%zu events=%zu "
		    "review=%zu outbox=%zu confirm=%zu lastsent=%zu ms=%lld",
		    n.msgmap, n.audit, n.events, n.review, n.outbox,
		    n.confirm, n.lastsent, ms);
	}
}

/*
 * One pass over the send log's front: what is older than the window is
 * deleted, up to HOUSEKEEP_PRUNE_STEP records in one lazy transaction
 * (the log keeps to the window while capped sends stay under 1,000 a
 * second). Without caps, nothing.
 */
static void
prune_pass(struct housekeep *hk, int64_t window_s)
{
	size_t	n = 0;

	atomic_fetch_add(&hk->passes, 1);
	if (window_s <= 0)
		return;
	if (store_freq_prune(hk->st, (int64_t)time(NULL) - window_s,
	    HOUSEKEEP_PRUNE_STEP, &n) == -1) {
		atomic_fetch_add(&hk->failed, 1);
		log_warnx("event=prefs_prune_failed error=\"%s\"",
		    store_errmsg(hk->st));
		return;
	}
	atomic_fetch_add(&hk->pruned, n);
}

static int64_t
mono_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Sleep (hk->mu held) until due, monotonic seconds, or a signal. */
static void
housekeep_sleep(struct housekeep *hk, int64_t due)
{
	struct timespec	 ts;

	ts.tv_sec = (time_t)due;
	ts.tv_nsec = 0;
	(void)pthread_cond_timedwait(&hk->cv, &hk->mu, &ts);
}

/*
 * The thread: a retention run asked for goes first (even when stopping:
 * the caller was told it started), then a prune pass when one is due;
 * the store work is done without the mutex.
 */
static void *
housekeep_main(void *arg)
{
	struct housekeep	*hk = arg;
	struct store_retention	 r;
	int64_t			 window_s, due = 0;

	pthread_mutex_lock(&hk->mu);
	for (;;) {
		if (hk->has_expire) {
			hk->has_expire = false;
			r = hk->r;
			pthread_mutex_unlock(&hk->mu);
			expire_run(hk, &r);
			atomic_store(&hk->is_running, false);
			pthread_mutex_lock(&hk->mu);
			continue;
		}
		if (hk->is_stopping)
			break;
		if (hk->has_prune || mono_s() >= due) {
			hk->has_prune = false;
			window_s = hk->window_s;
			pthread_mutex_unlock(&hk->mu);
			prune_pass(hk, window_s);
			due = mono_s() + HOUSEKEEP_PRUNE_EVERY_S;
			pthread_mutex_lock(&hk->mu);
			continue;
		}
		housekeep_sleep(hk, due);
	}
	pthread_mutex_unlock(&hk->mu);
	return NULL;
}

static int
housekeep_sync_init(struct housekeep *hk)
{
	pthread_condattr_t	 ca;
	int			 rc;

	if ((rc = pthread_condattr_init(&ca)) != 0)
		return rc;
	if ((rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0 ||
	    (rc = pthread_cond_init(&hk->cv, &ca)) != 0) {
		pthread_condattr_destroy(&ca);
		return rc;
	}
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_mutex_init(&hk->mu, NULL)) != 0) {
		pthread_cond_destroy(&hk->cv);
		return rc;
	}
	return 0;
}

struct housekeep *
housekeep_new(struct store *st, char *err, size_t errlen)
{
	struct housekeep	*hk;
	int			 rc;

	if ((hk = calloc(1, sizeof(*hk))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&hk->is_running, false);
	atomic_init(&hk->passes, 0);
	atomic_init(&hk->pruned, 0);
	atomic_init(&hk->failed, 0);
	if ((rc = housekeep_sync_init(hk)) != 0) {
		snprintf(err, errlen, "housekeeping: %s", strerror(rc));
		free(hk);
		return NULL;
	}
	if ((hk->st = store_sibling(st)) == NULL) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		goto err;
	}
	if ((rc = pthread_create(&hk->thread, NULL, housekeep_main, hk)) !=
	    0) {
		snprintf(err, errlen, "housekeeping thread: %s",
		    strerror(rc));
		goto err;
	}
	hk->is_started = true;
	return hk;

err:
	store_free(hk->st);
	pthread_cond_destroy(&hk->cv);
	pthread_mutex_destroy(&hk->mu);
	free(hk);
	return NULL;
}

int
housekeep_expire(struct housekeep *hk, const struct store_retention *r)
{
	if (atomic_load(&hk->is_running)) {
		log_info("event=expire_skipped reason=previous_run_going");
		return -1;
	}
	atomic_store(&hk->is_running, true);
	pthread_mutex_lock(&hk->mu);
	hk->r = *r;
	hk->has_expire = true;
	pthread_cond_signal(&hk->cv);
	pthread_mutex_unlock(&hk->mu);
	return 0;
}

void
housekeep_freq_window(struct housekeep *hk, int64_t window_s)
{
	pthread_mutex_lock(&hk->mu);
	hk->window_s = window_s > 0 ? window_s : 0;
	hk->has_prune = true;
	pthread_cond_signal(&hk->cv);
	pthread_mutex_unlock(&hk->mu);
}

void
housekeep_counters(struct housekeep *hk, struct housekeep_counters *out)
{
	out->prune_passes = atomic_load(&hk->passes);
	out->pruned = atomic_load(&hk->pruned);
	out->prune_failed = atomic_load(&hk->failed);
}

void
housekeep_free(struct housekeep *hk)
{
	if (hk == NULL)
		return;
	if (hk->is_started) {
		pthread_mutex_lock(&hk->mu);
		hk->is_stopping = true;
		pthread_cond_signal(&hk->cv);
		pthread_mutex_unlock(&hk->mu);
		(void)pthread_join(hk->thread, NULL);
	}
	store_free(hk->st);
	pthread_cond_destroy(&hk->cv);
	pthread_mutex_destroy(&hk->mu);
	free(hk);
}
