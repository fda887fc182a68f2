/*
 * store_fill: create a store holding N opted-out numbers, fast, for
 * benchmarks.
 *
 *   store_fill -d DIR -n N [-m ONE_IN] [-b BASE] [-c CATEGORY] [-M MAP_MB]
 *              [-x ADD [-B BATCH] [-T TAIL] [-s STEP]]
 *
 * Opts out BASE + j * ONE_IN for j < N (default BASE 12000000000, ONE_IN
 * 100, category "promo"), so that of the range [BASE, BASE + N * ONE_IN)
 * one number in ONE_IN is opted out: the share loadgen's -b/-r/-m options
 * draw from. The store is created with store_open() (schema and
 * databases), then loaded straight into the state database and the numbers
 * index as sorted keys with MDB_APPEND in large transactions, and
 * store_reindex() builds the lookup filter, as store_bench does: this tool
 * knows the internal formats from store/codec_int.h and lookup_int.h,
 * which nothing else outside store/ may. No history events are written:
 * the numbers are opted out as far as every lookup is concerned, which is
 * what the proxy benchmark exercises. Because the internal formats may
 * move, the tool then checks through the public API that the first and
 * last numbers are blocked and their neighbours are not, and fails
 * otherwise. Prints one "key=value" line.
 *
 * With -x, it then opts out ADD more numbers (BASE + j * ONE_IN + 1, the
 * neighbours) through store_import() in transactions of BATCH (1000),
 * which takes the lookup tables past their growth threshold when ADD is
 * over about 28% of N (the last TAIL of them one per transaction, as
 * opt-outs from the SMSC come, fsync'd each), and prints the slowest of
 * those writes against their median and the one that crossed; then, on
 * a store that grows in steps, runs store_lookup_grow_step(STEP = 65536)
 * to the end and prints the slowest step and the total.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "store/store.h"
#include "store/codec_int.h"
#include "store/lookup_int.h"

#define FILL_TXN	1000000		/* keys per transaction */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* -x: ADD more opt-outs in imports of batch; the slowest, then growth. */
/* The -x run's options. */
struct xopt {
	uint64_t	 add;
	uint64_t	 tail;
	size_t		 batch;
	size_t		 step;
};

/* Take option ch of the -x run: true, or false when it is not one. */
static bool
xopt_take(struct xopt *x, int ch, const char *arg)
{
	switch (ch) {
	case 'x':
		x->add = strtoull(arg, NULL, 10);
		return true;
	case 'B':
		x->batch = strtoul(arg, NULL, 10);
		return true;
	case 's':
		x->step = strtoul(arg, NULL, 10);
		return true;
	case 'T':
		x->tail = strtoull(arg, NULL, 10);
		return true;
	default:
		return false;
	}
}

static int
cross(struct store *st, uint64_t base, uint64_t one_in, const char *category,
    const struct xopt *x)
{
	uint64_t add = x->add, tail = x->tail;
	size_t batch = x->batch, step = x->step;
	struct store_event *evs;
	double *ms, t0, worst = 0, total = 0, cross_ms = -1, single = 0;
	uint64_t j, nb = 0, worst_at = 0, cross_at = 0;
	size_t i, n, done;
	int steps = 0;

	if ((evs = calloc(batch, sizeof(*evs))) == NULL ||
	    (ms = calloc(add / batch + tail + 1, sizeof(*ms))) == NULL) {
		free(evs);
		return -1;
	}
	for (j = 0; j < add; j += n) {
		n = add - j < batch ? (size_t)(add - j) : batch;
		if (add - j <= tail)
			n = 1;	/* as an opt-out from the SMSC */
		for (i = 0; i < n; i++) {
			memset(&evs[i], 0, sizeof(evs[i]));
			snprintf(evs[i].number, sizeof(evs[i].number),
			    "%" PRIu64, base + (j + i) * one_in + 1);
			evs[i].action = STORE_OPT_OUT;
			evs[i].time = (int64_t)time(NULL);
			evs[i].source = STORE_SRC_IMPORT;
			evs[i].ncategories = 1;
			snprintf(evs[i].categories[0], STORE_NAME_MAX, "%s",
			    category);
		}
		t0 = now_s();
		if (store_import(st, evs, n) != 0) {
			fprintf(stderr, "store_fill: import: %s\n",
			    store_errmsg(st));
			free(evs);
			free(ms);
			return -1;
		}
		ms[nb] = (now_s() - t0) * 1000;
#ifdef STORE_LOOKUP_GROW_MAX
		{
			struct store_info in;

			/* The write that began the growth. */
			if (cross_ms < 0 && store_info(st, &in) == 0 &&
			    in.lookup_grow_total > 0) {
				cross_ms = ms[nb];
				cross_at = j;
			}
		}
#endif
		if (n == 1 && ms[nb] > single)
			single = ms[nb];
		if (ms[nb] > worst) {
			worst = ms[nb];
			worst_at = j;
		}
		nb++;
	}
	free(evs);
	qsort(ms, nb, sizeof(ms[0]), dbl_cmp);
	printf("store_fill cross_add=%" PRIu64 " batch=%zu writes=%" PRIu64
	    " write_ms_p50=%.2f write_ms_max=%.2f max_at=%" PRIu64
	    " cross_ms=%.2f cross_at=%" PRIu64 " single_ms_max=%.2f\n", add,
	    batch, nb, ms[nb / 2], worst, worst_at, cross_ms, cross_at,
	    single);
	free(ms);
	worst = 0;
#ifdef STORE_LOOKUP_GROW_MAX
	do {
		t0 = now_s();
		if (store_lookup_grow_step(st, step, &done) != 0) {
			fprintf(stderr, "store_fill: grow: %s\n",
			    store_errmsg(st));
			return -1;
		}
		t0 = now_s() - t0;
		total += t0;
		if (t0 * 1000 > worst)
			worst = t0 * 1000;
		steps++;
	} while (done > 0);
#else
	(void)step;
	(void)done;
#endif
	printf("store_fill grow_step=%zu steps=%d step_ms_max=%.2f "
	    "grow_total_s=%.2f\n", step, steps, worst, total);
	return 0;
}

static int
fill(const char *dir, uint64_t n, uint64_t base, uint64_t one_in,
    const char *category, size_t map_mb)
{
	uint8_t key[128], val[STORE_STATE_LEN];
	size_t clen = strlen(category);
	MDB_env *env;
	MDB_txn *txn = NULL;
	MDB_dbi dbi, nbi;
	MDB_val k, v, nv = { 0, NULL };
	uint64_t j, nk;
	int rc, len;

	if ((rc = mdb_env_create(&env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(env, 32);
	mdb_env_set_mapsize(env, map_mb * 1024 * 1024);
	/* Loading only: no fsync per batch, one sync at the end. */
	if ((rc = mdb_env_open(env, dir, MDB_NOSYNC, 0600)) != 0)
		goto fail_env;
	store_state_encode(val, false, (int64_t)time(NULL), 1);
	v.mv_size = sizeof(val);
	v.mv_data = val;
	for (j = 0; j < n; j++) {
		if (txn == NULL) {
			if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
				goto fail_env;
			if ((rc = mdb_dbi_open(txn, "state", 0, &dbi)) != 0 ||
			    (rc = mdb_dbi_open(txn, "numbers", MDB_INTEGERKEY,
			    &nbi)) != 0)
				goto fail_txn;
		}
		/* Equal-length numbers: string order is numeric order. */
		len = snprintf((char *)key, sizeof(key), "%" PRIu64,
		    base + j * one_in);
		memcpy(key + len + 1, category, clen);
		k.mv_size = (size_t)len + 1 + clen;
		k.mv_data = key;
		if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) != 0)
			goto fail_txn;
		/* The numbers index (store_numkey): same order here. */
		if (!store_numkey((const char *)key, &nk)) {
			rc = EINVAL;
			goto fail_txn;
		}
		k.mv_size = sizeof(nk);
		k.mv_data = &nk;
		if ((rc = mdb_put(txn, nbi, &k, &nv, MDB_APPEND)) != 0)
			goto fail_txn;
		if ((j + 1) % FILL_TXN == 0 || j + 1 == n) {
			rc = mdb_txn_commit(txn);
			txn = NULL;
			if (rc != 0)
				goto fail_env;
		}
	}
	if ((rc = mdb_env_sync(env, 1)) != 0)
		goto fail_env;
	mdb_env_close(env);
	return 0;

fail_txn:
	mdb_txn_abort(txn);
fail_env:
	mdb_env_close(env);
fail:
	fprintf(stderr, "store_fill: %s: %s\n", dir, mdb_strerror(rc));
	return -1;
}

/* Is number blocked as expected, through the public API? 0 or -1. */
static int
check(struct store *st, uint64_t number, bool is_blocked, const char *cat)
{
	char num[32];
	int rc;

	snprintf(num, sizeof(num), "%" PRIu64, number);
	rc = store_optout_check(st, num, cat, NULL);
	if (rc < 0) {
		fprintf(stderr, "store_fill: check %s: %s\n", num,
		    store_errmsg(st));
		return -1;
	}
	if ((rc == 1) != is_blocked) {
		fprintf(stderr, "store_fill: %s is %s after the load; the "
		    "store's internal format has moved: update this tool\n",
		    num, rc == 1 ? "blocked" : "not blocked");
		return -1;
	}
	return 0;
}

/*
 * Open the loaded store and build its lookup tables (the bulk load
 * bypassed them), *secs the time that took. NULL with a message printed.
 */
static struct store *
reopen(const char *dir, const struct store_params *p, double *secs)
{
	struct store *st;
	char err[256];
	double t0;

	if ((st = store_open(dir, p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_fill: %s\n", err);
		return NULL;
	}
	t0 = now_s();
	if (store_reindex(st) != 0) {
		fprintf(stderr, "store_fill: reindex: %s\n", store_errmsg(st));
		store_free(st);
		return NULL;
	}
	*secs = now_s() - t0;
	return st;
}

int
main(int argc, char *argv[])
{
	struct store_params p = { 0, 0, false };
	const char *dir = NULL, *category = "promo";
	struct xopt x = { 0, 0, 1000, 65536 };
	uint64_t n = 0, base = 12000000000ULL, one_in = 100;
	size_t map_mb = 0;
	struct store *st;
	char err[256];
	double t0, t_load, t_reindex;
	int ch;

	while ((ch = getopt(argc, argv, "d:n:m:b:c:M:x:B:s:T:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'm':
			one_in = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			base = strtoull(optarg, NULL, 10);
			break;
		case 'c':
			category = optarg;
			break;
		case 'M':
			map_mb = strtoul(optarg, NULL, 10);
			break;
		default:
			if (!xopt_take(&x, ch, optarg))
				goto usage;
		}
	}
	if (dir == NULL || n == 0 || one_in == 0 || optind != argc ||
	    x.batch == 0 || x.step == 0 || (x.add > 0 && one_in < 2) ||
	    x.add > n ||
	    strlen(category) == 0 || strlen(category) > 64)
		goto usage;
	/* The numbers must keep one length for MDB_APPEND's order. */
	snprintf(err, sizeof(err), "%" PRIu64 " %" PRIu64, base,
	    base + (n - 1) * one_in);
	if (strchr(err, ' ') - err != (ptrdiff_t)strlen(strchr(err, ' ') + 1)) {
		fprintf(stderr, "store_fill: BASE .. last number change "
		    "length\n");
		return 2;
	}
	/* About 40 bytes per key with MDB_APPEND; room for -x's tables. */
	if (map_mb == 0)
		map_mb = (size_t)((n + x.add) * 200 / (1024 * 1024)) + 64;
	p.map_mb = map_mb;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "store_fill: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if ((st = store_open(dir, &p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_fill: %s\n", err);
		return 1;
	}
	store_free(st);
	t0 = now_s();
	if (fill(dir, n, base, one_in, category, map_mb) != 0)
		return 1;
	t_load = now_s() - t0;
	if ((st = reopen(dir, &p, &t_reindex)) == NULL)
		return 1;
	if (check(st, base, true, category) != 0 ||
	    check(st, base + 1, false, category) != 0 ||
	    check(st, base + (n - 1) * one_in, true, category) != 0 ||
	    (one_in > 1 && check(st, base + (n - 1) * one_in + 1, false,
	    category) != 0)) {
		store_free(st);
		return 1;
	}
	printf("store_fill dir=%s n=%" PRIu64 " base=%" PRIu64 " one_in=%"
	    PRIu64 " category=%s load_s=%.2f reindex_s=%.2f\n", dir, n, base,
	    one_in, category, t_load, t_reindex);
	fflush(stdout);
	if (x.add > 0 && (cross(st, base, one_in, category, &x) != 0 ||
	    check(st, base + 1, true, category) != 0 ||
	    check(st, base + (x.add - 1) * one_in + 1, true, category) != 0)) {
		store_free(st);
		return 1;
	}
	store_free(st);
	return 0;

usage:
	fprintf(stderr, "usage: store_fill -d DIR -n N [-m ONE_IN] [-b BASE]"
	    " [-c CATEGORY] [-M MAP_MB] [-x ADD [-B BATCH] [-T TAIL] [-s STEP]]"
	    "\n");
	return 2;
}
