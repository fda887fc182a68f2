/*
 * proxy/daemon/writer: the store writer thread (see writer.h).
 *
 * Synchronisation: mu guards todo, is_done, is_stopping and the thread's
 * view of the sent log. The loop hands a batch over by setting todo and
 * signalling cv; the thread commits it, sets is_done and writes to the
 * eventfd (and signals cv for a loop that waits). Only the loop changes a
 * batch's arrays, and only while the thread does not hold it.
 */
#include "proxy/daemon/writer.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxy/io/log.h"

/* A growable array of records of one kind. */
#define KIND(type, name)						\
	type	*name;							\
	size_t	 n##name;						\
	size_t	 cap_##name

struct wbatch {
	KIND(struct store_audit, audit);
	KIND(struct store_msgmap, msgmap);
	KIND(struct store_sentlog_entry, sentlog);
	KIND(struct store_lastsent_entry, lastsent);
	KIND(struct store_freq_entry, freq);	/* capped sends */
	/* Set by the thread. */
	size_t		 done[5];	/* per kind: committed (prefix) */
	uint64_t	 ms;		/* commit took */
	int		 rc;
	size_t		 nbad;
	char		 err[256];
};

struct writer {
	struct event_base	*base;
	struct store		*loop_st;	/* borrowed: the loop's */
	struct store		*st;		/* owned: a sibling */
	pthread_t		 thread;
	bool			 is_started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 efd;		/* thread -> loop: done */
	struct event		*done_ev;	/* owned */
	struct event		*delay_ev;	/* owned */
	bool			 is_delay_armed;
	uint64_t		 fill_ms;	/* fill's first record came */

	/* Loop side. */
	struct wbatch		 b[2];
	struct wbatch		*fill;		/* being filled */
	struct wbatch		*work;		/* handed over; NULL: idle */
	uint64_t		 next_seq;	/* next sent-log seq */
	struct writer_counters	 c;		/* loop's copy of the counts */
	bool			 is_failing;	/* last commit failed */
	int64_t			 fail_since;	/* wall clock, seconds */
	uint64_t		 retry_ms;	/* next attempt not before */
	uint64_t		 refused;	/* records not kept (bound) */
	char			 fail_err[256];
	bool			 is_lane_failing; /* last durable job */
	int64_t			 lane_since;
	char			 lane_err[160];

	/* Under mu. */
	struct writer_job	*jobs;		/* durable lane, FIFO */
	struct writer_job	**jobs_tail;
	struct writer_job	*done_jobs;	/* ran, for the loop */
	struct writer_job	**done_tail;
	size_t			 njobs;		/* queued, running or done */
	bool			 is_running_jobs;
	const char		*doing;		/* the thread: for logs */
	struct wbatch		*todo;		/* for the thread */
	bool			 is_done;	/* work committed */
	bool			 is_stopping;
	uint64_t		 log_last;	/* highest seq committed */
	uint64_t		 merged_total;
	uint64_t		 indexed_total;	/* audit records indexed */

	/* Thread side, published. */
	_Atomic uint64_t	 merged;
	atomic_bool		 is_quiet;	/* no background work */
};

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- batches ------------------------------------------------------------- */

/* Room for one more element in a growable array; false when out of memory. */
static bool
grow(void **p, size_t *cap, size_t n, size_t size)
{
	void	*np;
	size_t	 ncap;

	if (n < *cap)
		return true;
	ncap = *cap == 0 ? 256 : *cap * 2;
	if ((np = realloc(*p, ncap * size)) == NULL)
		return false;
	*p = np;
	*cap = ncap;
	return true;
}

static size_t
batch_count(const struct wbatch *b)
{
	return b->naudit + b->nmsgmap + b->nsentlog + b->nlastsent +
	    b->nfreq;
}

static void
batch_clear(struct wbatch *b)
{
	b->naudit = b->nmsgmap = b->nsentlog = b->nlastsent = b->nfreq = 0;
	memset(b->done, 0, sizeof(b->done));
	b->rc = 0;
	b->nbad = 0;
	b->err[0] = '\0';
}

static void
batch_free(struct wbatch *b)
{
	free(b->audit);
	free(b->msgmap);
	free(b->sentlog);
	free(b->lastsent);
	free(b->freq);
}

/* --- the thread ---------------------------------------------------------- */

static void	run_jobs(struct writer *w);

/* Up to max of the n - off records left of a kind. */
static size_t
chunk_of(size_t n, size_t off, size_t max)
{
	return n - off < max ? n - off : max;
}

/*
 * Commit b in transactions of at most WRITER_COMMIT_MAX records of each
 * kind, running the durable lane's jobs between them: an opt-out waits
 * for one bounded transaction, never for a whole large batch. On a
 * failure b->done says which prefix of each kind is committed.
 */
static void
commit(struct writer *w, struct wbatch *b)
{
	struct store_batch	sb;
	size_t			nbad, *d = b->done;
	uint64_t		t0 = now_ms();
	bool			is_jobs;

	memset(b->done, 0, sizeof(b->done));
	for (;;) {
		sb.audit = b->audit + d[0];
		sb.naudit = chunk_of(b->naudit, d[0], WRITER_COMMIT_MAX);
		sb.msgmap = b->msgmap + d[1];
		sb.nmsgmap = chunk_of(b->nmsgmap, d[1], WRITER_COMMIT_MAX);
		sb.sentlog = b->sentlog + d[2];
		sb.nsentlog = chunk_of(b->nsentlog, d[2], WRITER_COMMIT_MAX);
		sb.lastsent = b->lastsent + d[3];
		sb.nlastsent = chunk_of(b->nlastsent, d[3],
		    WRITER_COMMIT_MAX);
		sb.freq = b->freq + d[4];
		sb.nfreq = chunk_of(b->nfreq, d[4], WRITER_COMMIT_MAX);
		nbad = 0;
		if ((b->rc = store_batch_put(w->st, &sb, &nbad)) != 0) {
			snprintf(b->err, sizeof(b->err), "%s",
			    store_errmsg(w->st));
			break;
		}
		b->nbad += nbad;
		d[0] += sb.naudit;
		d[1] += sb.nmsgmap;
		d[2] += sb.nsentlog;
		d[3] += sb.nlastsent;
		d[4] += sb.nfreq;
		if (d[0] == b->naudit && d[1] == b->nmsgmap &&
		    d[2] == b->nsentlog && d[3] == b->nlastsent &&
		    d[4] == b->nfreq)
			break;
		pthread_mutex_lock(&w->mu);
		is_jobs = w->jobs != NULL;
		if (is_jobs)
			run_jobs(w);
		pthread_mutex_unlock(&w->mu);
	}
	b->ms = now_ms() - t0;
}

/* The writer thread's own state between loop turns. */
struct wloop {
	uint64_t	 last_work;	/* a batch was committed */
	uint64_t	 last_sync;
	uint64_t	 merge_after;	/* background work not before */
	bool		 is_dirty;	/* committed since the last sync */
	bool		 is_audit_backlog;	/* until told none */
	bool		 is_grow_pending;	/* lookup tables growing */
	uint64_t	 grow_asked;	/* store_lookup_grow_pending() */
	uint64_t	 grow_last;	/* last grow step */
};

/* What the thread does now (for a durable job's log line). */
static void
doing_set(struct writer *w, const char *what)
{
	pthread_mutex_lock(&w->mu);
	w->doing = what;
	pthread_mutex_unlock(&w->mu);
}

/* Tell the loop something is done. */
static void
notify(struct writer *w)
{
	uint64_t	one = 1;

	if (write(w->efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warnx("event=writer_notify_failed error=\"%s\"",
		    strerror(errno));
}

/*
 * Run the durable lane's queued jobs, in order, and hand them to the
 * loop. Called and returns with w->mu held; runs them without it.
 */
static void
run_jobs(struct writer *w)
{
	struct writer_job	*j, *list = w->jobs;

	const char		*was = w->doing;
	uint64_t		 t0, t1;

	w->jobs = NULL;
	w->jobs_tail = &w->jobs;
	w->is_running_jobs = true;
	w->doing = "durable";
	pthread_mutex_unlock(&w->mu);
	for (j = list; j != NULL; j = j->next) {
		t0 = now_ms();
		j->rc = j->run(w->st, j->arg);
		j->err[0] = '\0';
		if (j->rc != 0)
			snprintf(j->err, sizeof(j->err), "%s",
			    store_errmsg(w->st));
		/* What an opt-out waited for, when it waited: the thread's
		 * step it came behind, or the store (its lock, the disk). */
		if ((t1 = now_ms()) - j->queued_ms >= WRITER_JOB_SLOW_MS)
			log_info("event=durable_slow ms=%llu wait_ms=%llu "
			    "run_ms=%llu behind=%s",
			    (unsigned long long)(t1 - j->queued_ms),
			    (unsigned long long)(t0 - j->queued_ms),
			    (unsigned long long)(t1 - t0), j->behind);
	}
	pthread_mutex_lock(&w->mu);
	w->is_running_jobs = false;
	w->doing = was;
	*w->done_tail = list;
	for (j = list; j->next != NULL; j = j->next)
		;
	w->done_tail = &j->next;
	pthread_cond_broadcast(&w->cv);
	notify(w);
}

/* Commit batch b (taken from w->todo) and tell the loop. Called and
 * returns with w->mu held; runs the commit without it. */
static void
writer_run_batch(struct writer *w, struct wloop *lp, struct wbatch *b)
{
	uint64_t	 t;
	bool		 is_jobs;

	w->doing = "batch";
	pthread_mutex_unlock(&w->mu);
	commit(w, b);
	lp->is_dirty = true;
	t = now_ms();
	pthread_mutex_lock(&w->mu);
	is_jobs = w->jobs != NULL;
	pthread_mutex_unlock(&w->mu);
	/* An opt-out waiting goes first: the sync is only due, not owed. */
	if (t - lp->last_sync >= WRITER_SYNC_MS && !is_jobs) {
		doing_set(w, "sync");
		(void)store_sync(w->st);
		lp->is_dirty = false;
		lp->last_sync = t;
	}
	pthread_mutex_lock(&w->mu);
	w->doing = "idle";
	if (b->done[2] > 0 && b->sentlog[b->done[2] - 1].seq > w->log_last)
		w->log_last = b->sentlog[b->done[2] - 1].seq;
	if (b->done[0] > 0)
		lp->is_audit_backlog = true;
	w->is_done = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	notify(w);
	lp->last_work = now_ms();
	pthread_mutex_lock(&w->mu);
}

/* Merge one chunk of the sent log into the last-sent table (started at
 * t). Called and returns with w->mu held; merges without it. */
static void
writer_merge_step(struct writer *w, struct wloop *lp, uint64_t t)
{
	uint64_t	 through, due;
	int		 n;

	w->doing = "merge";
	pthread_mutex_unlock(&w->mu);
	n = store_sentlog_merge(w->st, WRITER_MERGE_CHUNK, &through);
	if ((due = now_ms() - t) >= WRITER_SLOW_MS)
		log_info("event=sentlog_merge_slow ms=%llu records=%d",
		    (unsigned long long)due, n);
	pthread_mutex_lock(&w->mu);
	w->doing = "idle";
	if (n > 0) {
		lp->is_dirty = true;
		w->merged_total += (uint64_t)n;
		if (through > atomic_load(&w->merged))
			atomic_store(&w->merged, through);
	} else if (n == 0) {
		/* The log is empty: all of it is merged. */
		atomic_store(&w->merged, w->log_last);
	} else {
		log_warnx("event=sentlog_merge_failed error=\"%s\"",
		    store_errmsg(w->st));
		lp->merge_after = t + WRITER_SYNC_MS;
	}
}

/* Index one chunk of rejected-send records by number (started at t).
 * Called and returns with w->mu held; indexes without it. */
static void
writer_index_step(struct writer *w, struct wloop *lp, uint64_t t)
{
	uint64_t	 due;
	size_t		 done;
	int		 n;

	w->doing = "index";
	pthread_mutex_unlock(&w->mu);
	n = store_audit_index(w->st, WRITER_AUDIT_CHUNK, &done);
	if ((due = now_ms() - t) >= WRITER_SLOW_MS)
		log_info("event=audit_index_slow ms=%llu records=%zu",
		    (unsigned long long)due, done);
	pthread_mutex_lock(&w->mu);
	w->doing = "idle";
	if (n == 0) {
		w->indexed_total += done;
		if (done > 0)
			lp->is_dirty = true;
		if (done < WRITER_AUDIT_CHUNK)
			lp->is_audit_backlog = false;
	} else {
		log_warnx("event=audit_index_failed error=\"%s\"",
		    store_errmsg(w->st));
		lp->merge_after = t + WRITER_SYNC_MS;
	}
}

/* Whether a grow step is due at t: a growth under way (asked of the
 * store now and then), and either the writer idle or the last step
 * WRITER_GROW_EVERY_MS ago; never while an opt-out waits. */
static bool
writer_grow_due(struct writer *w, struct wloop *lp, uint64_t t,
    bool is_idle)
{
	if (t - lp->grow_asked >= WRITER_SYNC_MS) {
		lp->grow_asked = t;
		pthread_mutex_unlock(&w->mu);
		lp->is_grow_pending = store_lookup_grow_pending(w->st);
		pthread_mutex_lock(&w->mu);
	}
	if (!lp->is_grow_pending || t < lp->merge_after ||
	    store_durable_waiting(w->st) || atomic_load(&w->is_quiet))
		return false;
	return is_idle || t - lp->grow_last >= WRITER_GROW_EVERY_MS;
}

/* Grow the lookup tables one step (started at t). Called and returns
 * with w->mu held; steps without it. */
static void
writer_grow_step(struct writer *w, struct wloop *lp, uint64_t t)
{
	uint64_t	 took;
	size_t		 done = 0;
	int		 n;

	w->doing = "grow";
	pthread_mutex_unlock(&w->mu);
	n = store_lookup_grow_step(w->st, WRITER_GROW_CHUNK, &done);
	if ((took = now_ms() - t) >= WRITER_SLOW_MS)
		log_info("event=lookup_grow_slow ms=%llu slots=%zu",
		    (unsigned long long)took, done);
	pthread_mutex_lock(&w->mu);
	w->doing = "idle";
	lp->grow_last = now_ms();
	if (n == 0) {
		if (done > 0)
			lp->is_dirty = true;
		else
			lp->is_grow_pending = false;
	} else {
		log_warnx("event=lookup_grow_failed error=\"%s\"",
		    store_errmsg(w->st));
		lp->merge_after = t + WRITER_SYNC_MS;
	}
}

/* Sleep (w->mu held) until the next thing to do at t, or a batch. */
static void
writer_sleep(struct writer *w, const struct wloop *lp, uint64_t t,
    bool is_backlog)
{
	struct timespec	 ts;
	uint64_t	 due;

	is_backlog = (is_backlog || lp->is_audit_backlog ||
	    lp->is_grow_pending) && !atomic_load(&w->is_quiet);
	due = t + WRITER_SYNC_MS;
	if (is_backlog || lp->is_dirty)
		due = lp->last_work + WRITER_IDLE_MS;
	if (due < lp->merge_after && is_backlog)
		due = lp->merge_after;
	if (due <= t)
		due = t + 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)((due - t) / 1000);
	ts.tv_nsec += (long)((due - t) % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	struct wbatch	*b;
	struct wloop	 lp;
	uint64_t	 t, due;
	bool		 is_backlog, is_idle;

	memset(&lp, 0, sizeof(lp));
	lp.is_audit_backlog = true;
	lp.last_work = lp.last_sync = now_ms();
	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (w->jobs != NULL) {
			/* The durable lane goes before any batch. */
			run_jobs(w);
			lp.is_dirty = true;
			lp.last_work = now_ms();
			continue;
		}
		if ((b = w->todo) != NULL) {
			w->todo = NULL;
			writer_run_batch(w, &lp, b);
			continue;
		}
		if (w->is_stopping)
			break;
		t = now_ms();
		/*
		 * Background work (merging, indexing) writes pages all over
		 * the store: only when no batch came for WRITER_IDLE_MS, in
		 * small steps, and not while a durable write (an opt-out)
		 * waits for the write lock.
		 */
		is_idle = t - lp.last_work >= WRITER_IDLE_MS &&
		    !store_durable_waiting(w->st) &&
		    !atomic_load(&w->is_quiet);
		/* First the lookup tables: lookups are slower until a
		 * growth ends. */
		if (writer_grow_due(w, &lp, t, is_idle)) {
			writer_grow_step(w, &lp, t);
			continue;
		}
		is_backlog = w->log_last > atomic_load(&w->merged) &&
		    t >= lp.merge_after;
		if (is_backlog && is_idle) {
			writer_merge_step(w, &lp, t);
			continue;
		}
		/* Then index rejected-send records by number, when idle. */
		if (lp.is_audit_backlog && t >= lp.merge_after && is_idle) {
			writer_index_step(w, &lp, t);
			continue;
		}
		if (lp.is_dirty && t - lp.last_work >= WRITER_IDLE_MS) {
			w->doing = "sync";
			pthread_mutex_unlock(&w->mu);
			(void)store_sync(w->st);
			if ((due = now_ms() - t) >= WRITER_SLOW_MS)
				log_info("event=store_sync_slow ms=%llu",
				    (unsigned long long)due);
			pthread_mutex_lock(&w->mu);
			w->doing = "idle";
			lp.is_dirty = false;
			lp.last_sync = t;
			continue;
		}
		/* Sleep until the next thing to do, or a batch. */
		writer_sleep(w, &lp, t, is_backlog);
	}
	pthread_mutex_unlock(&w->mu);
	if (lp.is_dirty)
		(void)store_sync(w->st);
	return NULL;
}

/* --- the loop side ------------------------------------------------------- */

/* Append the n records at src to the array *dst (of *ndst, room *cap). */
static bool
append(void **dst, size_t *ndst, size_t *cap, const void *src, size_t n,
    size_t size)
{
	void	*np;
	size_t	 ncap = *cap;

	if (n == 0)
		return true;
	while (ncap < *ndst + n)
		ncap = ncap == 0 ? 256 : ncap * 2;
	if (ncap != *cap) {
		if ((np = realloc(*dst, ncap * size)) == NULL)
			return false;
		*dst = np;
		*cap = ncap;
	}
	memcpy((char *)*dst + *ndst * size, src, n * size);
	*ndst += n;
	return true;
}

#define APPEND(b, f, kind)						\
	append((void **)&(b)->kind, &(b)->n##kind, &(b)->cap_##kind,	\
	    (f)->kind, (f)->n##kind, sizeof(*(b)->kind))

/*
 * The commit of b failed: its records are kept, ahead of those queued
 * since (so the sent log's sequence numbers stay in order), and b becomes
 * the fill batch, retried every WRITER_RETRY_MS. What cannot be kept for
 * want of memory is counted lost.
 */
static void
retain(struct writer *w, struct wbatch *b)
{
	struct wbatch	*f = w->fill;
	size_t		 n = batch_count(f);

	if (!APPEND(b, f, audit) || !APPEND(b, f, msgmap) ||
	    !APPEND(b, f, sentlog) || !APPEND(b, f, lastsent) ||
	    !APPEND(b, f, freq)) {
		/* Keep the newer ones, in their own batch, instead. */
		w->c.failed += batch_count(b);
		log_warnx("event=writer_retain_alloc_failed lost=%zu",
		    batch_count(b));
		batch_clear(b);
		return;
	}
	batch_clear(f);
	w->fill = b;
	if (n == 0)
		w->fill_ms = now_ms();
}

#define DROP(b, kind, k) do {						\
	if ((b)->done[k] == 0)						\
		break;							\
	memmove((b)->kind, (b)->kind + (b)->done[k],			\
	    ((b)->n##kind - (b)->done[k]) * sizeof(*(b)->kind));	\
	(b)->n##kind -= (b)->done[k];					\
	(b)->done[k] = 0;						\
} while (0)

/* A commit of b failed part way: forget the chunks that went in. */
static void
drop_committed(struct wbatch *b)
{
	DROP(b, audit, 0);
	DROP(b, msgmap, 1);
	DROP(b, sentlog, 2);
	DROP(b, lastsent, 3);
	DROP(b, freq, 4);
}

/* Record a failed commit of b (records kept) or the first good one after. */
static void
note_health(struct writer *w, const struct wbatch *b)
{
	if (b->rc != 0) {
		if (!w->is_failing) {
			w->is_failing = true;
			w->fail_since = (int64_t)time(NULL);
		}
		snprintf(w->fail_err, sizeof(w->fail_err), "%s", b->err);
		w->retry_ms = now_ms() + WRITER_RETRY_MS;
		log_warnx("event=store_batch_failed audit=%zu msgmap=%zu "
		    "sentlog=%zu lastsent=%zu retained=%zu error=\"%s\" "
		    "(kept and retried)", b->naudit, b->nmsgmap, b->nsentlog,
		    b->nlastsent, batch_count(b) + batch_count(w->fill),
		    b->err);
		return;
	}
	if (w->is_failing) {
		w->is_failing = false;
		log_info("event=store_batch_recovered records=%zu "
		    "failing_s=%lld", batch_count(b),
		    (long long)((int64_t)time(NULL) - w->fail_since));
	}
}

/* The handed-over batch is committed: take it back, log what went wrong. */
static void
reclaim(struct writer *w)
{
	struct wbatch	*b = w->work;
	size_t		 n = batch_count(b);

	w->work = NULL;
	note_health(w, b);
	if (b->rc != 0) {
		w->c.retries++;
		w->c.records += b->done[0] + b->done[1] + b->done[2] +
		    b->done[3] + b->done[4];
		drop_committed(b);
		retain(w, b);
		return;
	}
	w->c.batches++;
	w->c.records += n;
	if (n > w->c.max_batch)
		w->c.max_batch = n;
	if (b->ms >= WRITER_SLOW_MS)
		log_info("event=store_batch_slow ms=%llu audit=%zu msgmap=%zu "
		    "sentlog=%zu lastsent=%zu", (unsigned long long)b->ms,
		    b->naudit, b->nmsgmap, b->nsentlog, b->nlastsent);
	if (b->nbad > 0) {
		w->c.bad += b->nbad;
		log_warnx("event=store_batch_bad_records dropped=%zu", b->nbad);
	}
	batch_clear(b);
}

/* Hand the fill batch over; the thread must be idle (work == NULL). */
static void
hand_over(struct writer *w)
{
	w->work = w->fill;
	w->fill = w->fill == &w->b[0] ? &w->b[1] : &w->b[0];
	pthread_mutex_lock(&w->mu);
	w->todo = w->work;
	w->is_done = false;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Reclaim the work batch if the thread has finished it. */
static bool
poll_done(struct writer *w)
{
	bool	is_done;

	if (w->work == NULL)
		return true;
	pthread_mutex_lock(&w->mu);
	is_done = w->is_done;
	pthread_mutex_unlock(&w->mu);
	if (is_done)
		reclaim(w);
	return is_done;
}

/* Wait for the thread to finish the work batch, then reclaim it. */
static void
wait_done(struct writer *w)
{
	if (w->work == NULL)
		return;
	/* The thread may need to grow the map, which a held read pins. */
	store_read_pause(w->loop_st);
	pthread_mutex_lock(&w->mu);
	while (!w->is_done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	reclaim(w);
}

/* Arm the gathering delay to end WRITER_DELAY_MS after fill's first record. */
static void
arm_delay(struct writer *w)
{
	struct timeval	tv = { 0, 0 };
	uint64_t	age;

	if (w->is_delay_armed)
		return;
	age = now_ms() - w->fill_ms;
	if (age < WRITER_DELAY_MS)
		tv.tv_usec = (suseconds_t)(WRITER_DELAY_MS - age) * 1000;
	w->is_delay_armed = true;
	event_add(w->delay_ev, &tv);
}

/*
 * Group commit: when the thread is free, the fill batch goes if it is big
 * enough or has waited WRITER_DELAY_MS; so a busy loop's batches grow with
 * the load, and a quiet one wakes the thread at most every few ms.
 */
static void
try_hand_over(struct writer *w)
{
	struct timeval	tv = { 0, 0 };
	uint64_t	t;
	size_t		n;

	if (!poll_done(w))	/* reclaims a finished batch */
		return;
	if ((n = batch_count(w->fill)) == 0)
		return;
	if (w->is_failing && (t = now_ms()) < w->retry_ms) {
		/* The store failed: retry later, on its own. */
		if (!w->is_delay_armed) {
			tv.tv_sec = (time_t)((w->retry_ms - t) / 1000);
			tv.tv_usec = (suseconds_t)((w->retry_ms - t) % 1000) *
			    1000;
			w->is_delay_armed = true;
			event_add(w->delay_ev, &tv);
		}
		return;
	}
	if (w->is_failing || n >= WRITER_GROUP_MIN ||
	    now_ms() - w->fill_ms >= WRITER_DELAY_MS)
		hand_over(w);
	else
		arm_delay(w);
}

/* A durable write failed (the store's health) or went in again. */
static void
note_lane(struct writer *w, const struct writer_job *j)
{
	if (j->rc != 0) {
		if (!w->is_lane_failing) {
			w->is_lane_failing = true;
			w->lane_since = (int64_t)time(NULL);
		}
		snprintf(w->lane_err, sizeof(w->lane_err), "%s", j->err);
	} else if (w->is_lane_failing) {
		w->is_lane_failing = false;
		log_info("event=store_durable_recovered failing_s=%lld",
		    (long long)((int64_t)time(NULL) - w->lane_since));
	}
}

/* On the loop: call back the durable jobs the thread has run, in order. */
static void
finish_jobs(struct writer *w)
{
	struct writer_job	*j, *next;
	size_t			 n = 0;

	pthread_mutex_lock(&w->mu);
	j = w->done_jobs;
	w->done_jobs = NULL;
	w->done_tail = &w->done_jobs;
	pthread_mutex_unlock(&w->mu);
	for (; j != NULL; j = next) {
		next = j->next;	/* done may free j */
		n++;
		note_lane(w, j);
		j->done(j->arg, j->rc);
	}
	if (n > 0) {
		pthread_mutex_lock(&w->mu);
		w->njobs -= n;
		pthread_mutex_unlock(&w->mu);
	}
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct writer	*w = arg;
	uint64_t	 v;

	(void)what;
	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		log_warnx("event=writer_notify_read_failed error=\"%s\"",
		    strerror(errno));
	finish_jobs(w);
	try_hand_over(w);
}

void
writer_durable(struct writer *w, struct writer_job *j)
{
	j->next = NULL;
	j->rc = 0;
	j->queued_ms = now_ms();
	pthread_mutex_lock(&w->mu);
	j->behind = w->doing != NULL ? w->doing : "idle";
	*w->jobs_tail = j;
	w->jobs_tail = &j->next;
	w->njobs++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

size_t
writer_durable_pending(const struct writer *w)
{
	struct writer	*mw = (struct writer *)(uintptr_t)w;
	size_t		 n;

	pthread_mutex_lock(&mw->mu);
	n = mw->njobs;
	pthread_mutex_unlock(&mw->mu);
	return n;
}

/* Wait for the durable lane to be run, then call its jobs back. */
static void
sync_jobs(struct writer *w)
{
	store_read_pause(w->loop_st);
	pthread_mutex_lock(&w->mu);
	while (w->jobs != NULL || w->is_running_jobs)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	finish_jobs(w);
}

static void
delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct writer	*w = arg;

	(void)fd;
	(void)what;
	w->is_delay_armed = false;
	try_hand_over(w);	/* if the thread is busy, done_cb hands over */
}

/*
 * Before adding a record of a kind holding n: make room. A first record
 * arms the gathering delay; a kind at WRITER_QUEUE_MAX waits for the
 * thread (back-pressure on the whole loop, which is what a store that
 * cannot keep up must cause).
 */
static void
before_add(struct writer *w, size_t n)
{
	if (n >= WRITER_QUEUE_MAX && !w->is_failing) {
		if (!poll_done(w)) {
			w->c.waits++;
			wait_done(w);
		}
		hand_over(w);
		w->fill_ms = now_ms();	/* the new fill's first record */
		return;
	}
	if (batch_count(w->fill) == 0) {
		w->fill_ms = now_ms();
		arm_delay(w);
	}
}

/* Out of memory for a queue: commit synchronously to make room. */
static void
out_of_memory(struct writer *w, const char *kind)
{
	log_warnx("event=writer_queue_alloc_failed kind=%s", kind);
	if (!poll_done(w))
		wait_done(w);
	if (batch_count(w->fill) > 0)
		hand_over(w);
	wait_done(w);
}

#define ADD(w, kind, rec) do {						\
	struct wbatch *f_;						\
	if (!writer_room((w), 1)) {					\
		(w)->refused++;						\
		(w)->c.failed++;					\
		break;							\
	}								\
	before_add((w), (w)->fill->n##kind);				\
	f_ = (w)->fill;							\
	if (!grow((void **)&f_->kind, &f_->cap_##kind, f_->n##kind,	\
	    sizeof(*f_->kind))) {					\
		out_of_memory((w), #kind);				\
		f_ = (w)->fill;						\
		if (!grow((void **)&f_->kind, &f_->cap_##kind,		\
		    f_->n##kind, sizeof(*f_->kind))) {			\
			(w)->c.failed++;				\
			break;						\
		}							\
	}								\
	f_->kind[f_->n##kind++] = *(rec);				\
} while (0)

bool
writer_room(const struct writer *w, size_t n)
{
	if (!w->is_failing)
		return true;
	return writer_pending(w) + n <= WRITER_RETAIN_MAX;
}

int
writer_audit(struct writer *w, const struct store_audit *rec)
{
	uint64_t	failed = w->c.failed;

	ADD(w, audit, rec);
	return w->c.failed == failed ? 0 : -1;
}

void
writer_health(const struct writer *w, struct writer_health *out)
{
	memset(out, 0, sizeof(*out));
	out->is_failing = w->is_failing || w->is_lane_failing;
	out->retained = w->is_failing ? writer_pending(w) : 0;
	out->not_kept = w->refused;
	if (w->is_failing) {
		out->since = w->fail_since;
		snprintf(out->reason, sizeof(out->reason), "%s", w->fail_err);
	}
	if (w->is_lane_failing && (!w->is_failing ||
	    w->lane_since < out->since)) {
		out->since = w->lane_since;
		snprintf(out->reason, sizeof(out->reason), "opt-out writes "
		    "failing: %s", w->lane_err);
	}
}

void
writer_msgmap(struct writer *w, const struct store_msgmap *rec)
{
	ADD(w, msgmap, rec);
}

void
writer_lastsent(struct writer *w, const struct store_lastsent_entry *rec)
{
	ADD(w, lastsent, rec);
}

void
writer_freq(struct writer *w, const struct store_freq_entry *rec)
{
	ADD(w, freq, rec);
}

uint64_t
writer_sentlog(struct writer *w, const struct store_lastsent_entry *rec)
{
	struct store_sentlog_entry	e;

	e.seq = w->next_seq++;
	e.e = *rec;
	ADD(w, sentlog, &e);
	return e.seq;
}

void
writer_sync(struct writer *w)
{
	sync_jobs(w);
	wait_done(w);
	if (batch_count(w->fill) > 0) {
		hand_over(w);
		wait_done(w);
	}
}

uint64_t
writer_merged(const struct writer *w)
{
	return atomic_load(&((struct writer *)(uintptr_t)w)->merged);
}

void
writer_quiesce(struct writer *w)
{
	atomic_store(&w->is_quiet, true);
}

/* A batch's sent-log records have increasing seqs: binary search. */
static bool
batch_sentlog_find(const struct wbatch *b, uint64_t seq,
    struct store_lastsent_entry *out)
{
	size_t	lo = 0, hi = b->nsentlog, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b->sentlog[mid].seq == seq) {
			*out = b->sentlog[mid].e;
			return true;
		}
		if (b->sentlog[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool
writer_sentlog_find(const struct writer *w, uint64_t seq,
    struct store_lastsent_entry *out)
{
	if (batch_sentlog_find(w->fill, seq, out))
		return true;
	return w->work != NULL && batch_sentlog_find(w->work, seq, out);
}

bool
writer_msgmap_each(const struct writer *w,
    bool (*fn)(void *arg, const struct store_msgmap *m), void *arg)
{
	const struct wbatch	*bs[2] = { w->fill, w->work };
	size_t			 i, k;

	for (k = 0; k < 2; k++) {
		if (bs[k] == NULL)
			continue;
		for (i = bs[k]->nmsgmap; i > 0; i--)
			if (fn(arg, &bs[k]->msgmap[i - 1]))
				return true;
	}
	return false;
}

size_t
writer_pending(const struct writer *w)
{
	return batch_count(w->fill) + (w->work != NULL ?
	    batch_count(w->work) : 0);
}

void
writer_counters(const struct writer *w, struct writer_counters *out)
{
	struct writer	*mw = (struct writer *)(uintptr_t)w;

	*out = w->c;
	pthread_mutex_lock(&mw->mu);
	out->merged = mw->merged_total;
	out->indexed = mw->indexed_total;
	pthread_mutex_unlock(&mw->mu);
}

/* --- life ---------------------------------------------------------------- */

struct writer *
writer_new(struct event_base *base, struct store *st, char *err,
    size_t errlen)
{
	struct writer	*w;
	uint64_t	 first, last;
	int		 rc;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "writer: %s", strerror(errno));
		return NULL;
	}
	w->base = base;
	w->loop_st = st;
	w->efd = -1;
	w->fill = &w->b[0];
	w->jobs_tail = &w->jobs;
	w->done_tail = &w->done_jobs;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	atomic_init(&w->merged, 0);
	atomic_init(&w->is_quiet, false);
	if (store_sentlog_bounds(st, &first, &last) != 0) {
		snprintf(err, errlen, "writer: reading the sent log: %s",
		    store_errmsg(st));
		goto fail;
	}
	/* Everything below the oldest record still logged is merged. */
	w->next_seq = last + 1;
	w->log_last = last;
	atomic_store(&w->merged, first > 0 ? first - 1 : last);
	if ((w->st = store_sibling(st)) == NULL) {
		snprintf(err, errlen, "writer: %s", store_errmsg(st));
		goto fail;
	}
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "writer: eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((w->done_ev = event_new(base, w->efd, EV_READ | EV_PERSIST,
	    done_cb, w)) == NULL ||
	    (w->delay_ev = evtimer_new(base, delay_cb, w)) == NULL ||
	    event_add(w->done_ev, NULL) != 0) {
		snprintf(err, errlen, "writer: cannot create events");
		goto fail;
	}
	if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
		snprintf(err, errlen, "writer: thread: %s", strerror(rc));
		goto fail;
	}
	w->is_started = true;
	return w;
fail:
	writer_free(w);
	return NULL;
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	if (w->is_started) {
		writer_sync(w);
		if (batch_count(w->fill) > 0)
			log_warnx("event=writer_records_lost records=%zu "
			    "error=\"%s\" (the store failed to the end)",
			    batch_count(w->fill), w->fail_err);
		pthread_mutex_lock(&w->mu);
		w->is_stopping = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	if (w->done_ev != NULL)
		event_free(w->done_ev);
	if (w->delay_ev != NULL)
		event_free(w->delay_ev);
	if (w->efd != -1)
		close(w->efd);
	store_free(w->st);
	batch_free(&w->b[0]);
	batch_free(&w->b[1]);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
