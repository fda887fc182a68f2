/*
 * proxy/daemon/housekeep: retention runs on their own thread. See
 * housekeep.h.
 */
#include "proxy/daemon/housekeep.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/io/log.h"

struct housekeep {
	struct store		*st;		/* owned sibling handle */
	pthread_t		 thread;
	bool			 is_started;	/* thread not joined yet */
	atomic_bool		 is_running;
	struct store_retention	 r;		/* the thread's copy */
};

static void *
expire_main(void *arg)
{
	struct housekeep	*hk = arg;
	struct store_expired	 n;
	struct timespec		 t0, t1;
	long long		 ms;

	memset(&n, 0, sizeof(n));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_expire(hk->st, (int64_t)time(NULL), &hk->r, &n) == -1)
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
	atomic_store(&hk->is_running, false);
	return NULL;
}

struct housekeep *
housekeep_new(struct store *st, char *err, size_t errlen)
{
	struct housekeep	*hk;

	if ((hk = calloc(1, sizeof(*hk))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((hk->st = store_sibling(st)) == NULL) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		free(hk);
		return NULL;
	}
	atomic_init(&hk->is_running, false);
	return hk;
}

int
housekeep_expire(struct housekeep *hk, const struct store_retention *r)
{
	int	rc;

	if (atomic_load(&hk->is_running)) {
		log_info("event=expire_skipped reason=previous_run_going");
		return -1;
	}
	if (hk->is_started) {
		(void)pthread_join(hk->thread, NULL);
		hk->is_started = false;
	}
	hk->r = *r;
	atomic_store(&hk->is_running, true);
	if ((rc = pthread_create(&hk->thread, NULL, expire_main, hk)) != 0) {
		atomic_store(&hk->is_running, false);
		log_warnx("event=expire_failed error=\"%s\" doing=expire",
		    strerror(rc));
		return -1;
	}
	hk->is_started = true;
	return 0;
}

void
housekeep_free(struct housekeep *hk)
{
	if (hk == NULL)
		return;
	if (hk->is_started)
		(void)pthread_join(hk->thread, NULL);
	store_free(hk->st);
	free(hk);
}
