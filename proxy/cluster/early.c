/*
 * proxy/cluster/early: fleet opt-outs enforced from the moment the
 * follower has read them, before the store has them (cluster_int.h).
 *
 * Between reading a batch from PostgreSQL and committing it to the
 * store, the follower waits for LMDB's write lock, which the store
 * writer holds through its batch commits: under heavy traffic that is
 * what most of a remote STOP's delay was. The rows are already durable
 * in PostgreSQL, so nothing is lost by enforcing them first; if the node
 * dies before its commit it reads them again.
 *
 * Only what the store will certainly block once the batch is applied is
 * published: the opt-outs of a number with no later event of another
 * kind in the batch (an opt-in, LESS) — for those the store's answer is
 * awaited as before. The entries are an index into the follower's
 * batch, sorted by number, under a mutex; the SMPP loop pays one atomic
 * load when nothing is published, which is almost always. They are
 * withdrawn a moment after the commit (EARLY_GRACE_MS: a lookup that
 * began on an older store snapshot still sees them) and before the
 * batch array is written again.
 */
#include "proxy/cluster/cluster_int.h"

#include <stdlib.h>
#include <string.h>

static int
by_number(const void *a, const void *b)
{
	const struct cluster_early *x = a, *y = b;
	int r = strcmp(x->number, y->number);

	return r != 0 ? r : (x->i > y->i) - (x->i < y->i);
}

/* A remote opt-out or opt-in event (LESS and the other kinds aside). */
static bool
is_remote_event(const struct store_cluster_item *it)
{
	return !it->is_own && it->kind == STORE_JOURNAL_EVENT;
}

void
cluster_early_publish(struct cluster *c, size_t n)
{
	struct cluster_early *e = c->early;
	size_t i, j, k, m = 0, out = 0;

	/* Nothing is published (the caller withdrew): no reader looks at
	 * the array while it is written. */
	cluster_early_withdraw(c);
	for (i = 0; i < n; i++)
		if (is_remote_event(&c->items[i])) {
			e[m].number = c->items[i].ev.number;
			e[m++].i = (uint16_t)i;
		}
	if (m == 0)
		return;
	/* By number, then batch order: in each number's run, the
	 * opt-outs after its last event of another kind stay. */
	qsort(e, m, sizeof(*e), by_number);
	for (i = 0; i < m; i = j) {
		k = i;
		for (j = i; j < m && strcmp(e[j].number, e[i].number) == 0;
		    j++)
			if (c->items[e[j].i].ev.action != STORE_OPT_OUT)
				k = j + 1;
		for (; k < j; k++)
			e[out++] = e[k];
	}
	pthread_mutex_lock(&c->early_mu);
	atomic_store(&c->early_n, out);
	pthread_mutex_unlock(&c->early_mu);
}

void
cluster_early_withdraw(struct cluster *c)
{
	if (atomic_load(&c->early_n) == 0)
		return;
	pthread_mutex_lock(&c->early_mu);
	atomic_store(&c->early_n, 0);
	pthread_mutex_unlock(&c->early_mu);
}

static bool
covers(const struct store_event *ev, const char *category)
{
	size_t i;

	if (ev->all)
		return true;
	for (i = 0; i < ev->ncategories && i < STORE_SCOPE_MAX; i++)
		if (strcmp(ev->categories[i], category) == 0)
			return true;
	return false;
}

bool
cluster_early_blocks(struct cluster *c, const char *number,
    const char *category)
{
	size_t lo, hi, mid, n;
	bool is_blocked = false;

	if (c == NULL || atomic_load_explicit(&c->early_n,
	    memory_order_acquire) == 0)
		return false;
	pthread_mutex_lock(&c->early_mu);
	n = atomic_load(&c->early_n);
	/* The first entry not below number. */
	for (lo = 0, hi = n; lo < hi; ) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(c->early[mid].number, number) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && !is_blocked &&
	    strcmp(c->early[lo].number, number) == 0; lo++)
		is_blocked = covers(&c->items[c->early[lo].i].ev, category);
	pthread_mutex_unlock(&c->early_mu);
	return is_blocked;
}
