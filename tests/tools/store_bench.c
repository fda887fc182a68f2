/*
 * store_bench: opt-out lookup throughput and opt-out commit latency.
 *
 *   store_bench [-n SIZE[,SIZE...]] [-l LOOKUPS] [-c COMMITS] [-d DIR]
 *   store_bench -a RECORDS [-d DIR]
 *
 * For each size N: a fresh store holding N opted-out numbers (category
 * "promo"), loaded straight into the state database and the numbers index
 * as sorted keys with MDB_APPEND in large transactions (this bench knows
 * the internal formats from store/codec_int.h and lookup_int.h; nothing
 * else outside store/ may), then store_reindex() builds the lookup
 * filter. Then, on one core:
 *  - store_optout_check() on LOOKUPS random numbers drawn from 100 * N, so
 *    about 1% are opted out and the rest are the common "not opted out";
 *  - raw LMDB baselines in one long read txn (no renew per lookup, no
 *    global check): mdb_get() of the same "number \0 promo" state keys,
 *    and mdb_get() of the packed keys in the numbers index;
 *  - COMMITS single opt-outs through store_optout_apply() (fsync each):
 *    p50 / p99 / max latency.
 * With -a, instead: RECORDS rejected-send audit records written through
 * store_batch_put() as the proxy does (ten accounts, the first taking
 * 91% of them, the others 1% each; four categories; a minute apart),
 * then the median of five runs of audit queries: every record of a small
 * account; the first page (100) of the big one; a small account within
 * one hour; and the first page of one category.
 * Output is one "key=value" line per figure, for people and scripts.
 */
#include <errno.h>
#include <inttypes.h>
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

#define NUM_FMT		"1%010" PRIu64
#define LOAD_TXN	1000000

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
rmtree(const char *dir)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

/* Load numbers (i * 100 + 37) for i < n, sorted, with MDB_APPEND. */
static int
load(const char *dir, uint64_t n, size_t map_mb)
{
	uint8_t key[64], val[STORE_STATE_LEN];
	MDB_env *env;
	MDB_txn *txn = NULL;
	MDB_dbi dbi, nbi;
	MDB_val k, v, nv = { 0, NULL };
	uint64_t i, nk;
	int rc, len;

	if ((rc = mdb_env_create(&env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(env, 32);
	mdb_env_set_mapsize(env, map_mb * 1024 * 1024);
	/* Loading only: no fsync per batch, one sync at the end. */
	if ((rc = mdb_env_open(env, dir, MDB_NOSYNC, 0600)) != 0)
		goto fail_env;
	store_state_encode(val, false, 1700000000, 1);
	v.mv_size = sizeof(val);
	v.mv_data = val;
	for (i = 0; i < n; i++) {
		if (txn == NULL) {
			if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
				goto fail_env;
			if ((rc = mdb_dbi_open(txn, "state", 0, &dbi)) != 0 ||
			    (rc = mdb_dbi_open(txn, "numbers", MDB_INTEGERKEY,
			    &nbi)) != 0)
				goto fail_txn;
		}
		len = snprintf((char *)key, sizeof(key), NUM_FMT, i * 100 + 37);
		memcpy(key + len + 1, "promo", 5);
		k.mv_size = (size_t)len + 1 + 5;
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
		if ((i + 1) % LOAD_TXN == 0 || i + 1 == n) {
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
	fprintf(stderr, "store_bench: load: %s\n", mdb_strerror(rc));
	return -1;
}

/*
 * Raw baselines in one long read txn: mdb_get of each state key (what a
 * plain "number \0 category" lookup costs), and mdb_get of each packed key
 * in the numbers index (the floor for the store's own access path).
 */
static int
baseline(const char *dir, char (*nums)[24], size_t nl, double *rate,
    size_t *hits, double *idx_rate)
{
	uint8_t key[64];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi, nbi;
	MDB_val k, v;
	size_t i, len, idx_hits = 0;
	uint64_t nk;
	double t0;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0)
		return -1;
	mdb_env_set_maxdbs(env, 32);
	if ((rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0) {
		mdb_env_close(env);
		return -1;
	}
	if ((rc = mdb_dbi_open(txn, "state", 0, &dbi)) != 0 ||
	    (rc = mdb_dbi_open(txn, "numbers", MDB_INTEGERKEY, &nbi)) != 0) {
		mdb_txn_abort(txn);
		mdb_env_close(env);
		return -1;
	}
	*hits = 0;
	t0 = now_s();
	for (i = 0; i < nl; i++) {
		len = strlen(nums[i]);
		memcpy(key, nums[i], len + 1);
		memcpy(key + len + 1, "promo", 5);
		k.mv_size = len + 6;
		k.mv_data = key;
		if (mdb_get(txn, dbi, &k, &v) == 0)
			(*hits)++;
	}
	*rate = (double)nl / (now_s() - t0);
	t0 = now_s();
	for (i = 0; i < nl; i++) {
		if (!store_numkey(nums[i], &nk))
			continue;
		k.mv_size = sizeof(nk);
		k.mv_data = &nk;
		if (mdb_get(txn, nbi, &k, &v) == 0)
			idx_hits++;
	}
	*idx_rate = (double)nl / (now_s() - t0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return idx_hits == *hits ? 0 : -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
bench_size(const char *base, uint64_t n, size_t nl, int ncommits)
{
	struct store_params p = { 0, 65536, false };
	char dir[512], err[256], (*nums)[24];
	struct store_event ev;
	struct store *st;
	double t0, t_load, t_reindex, rate, raw_rate, idx_rate, *lat;
	size_t i, hits = 0, raw_hits = 0, map_mb;
	uint64_t seed = 0x9e3779b97f4a7c15ULL ^ n;
	int rc, ret = -1;

	snprintf(dir, sizeof(dir), "%s/bench-%" PRIu64, base, n);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "store_bench: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	/* About 40 bytes per entry with MDB_APPEND; leave room. */
	map_mb = (size_t)(n * 80 / (1024 * 1024)) + 64;
	p.map_mb = map_mb;
	/* Create the environment and its databases, then bulk load. */
	if ((st = store_open(dir, &p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_bench: %s\n", err);
		return -1;
	}
	store_free(st);
	t0 = now_s();
	if (load(dir, n, map_mb) != 0)
		goto out_dir;
	t_load = now_s() - t0;

	nums = malloc(nl * sizeof(*nums));
	lat = malloc((size_t)ncommits * sizeof(*lat));
	if (nums == NULL || lat == NULL)
		goto out_mem;
	for (i = 0; i < nl; i++)
		snprintf(nums[i], sizeof(nums[i]), NUM_FMT,
		    rnd(&seed) % (n * 100));

	if ((st = store_open(dir, &p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_bench: %s\n", err);
		goto out_mem;
	}
	/* The bulk load bypassed the store: build its lookup filter. */
	t0 = now_s();
	if (store_reindex(st) != 0) {
		fprintf(stderr, "store_bench: reindex: %s\n", store_errmsg(st));
		goto out_store;
	}
	t_reindex = now_s() - t0;
	/* Warm the page cache the same way for both measurements. */
	for (i = 0; i < nl && i < 200000; i++)
		(void)store_optout_check(st, nums[i], "promo", NULL);
	t0 = now_s();
	for (i = 0; i < nl; i++) {
		rc = store_optout_check(st, nums[i], "promo", NULL);
		if (rc < 0) {
			fprintf(stderr, "store_bench: check: %s\n",
			    store_errmsg(st));
			goto out_store;
		}
		hits += (size_t)rc;
	}
	rate = (double)nl / (now_s() - t0);
	if (baseline(dir, nums, nl, &raw_rate, &raw_hits, &idx_rate) != 0) {
		fprintf(stderr, "store_bench: baseline failed\n");
		goto out_store;
	}

	for (i = 0; i < (size_t)ncommits; i++) {
		memset(&ev, 0, sizeof(ev));
		snprintf(ev.number, sizeof(ev.number), "1999%07u",
		    (unsigned)(i % 10000000));
		ev.action = STORE_OPT_OUT;
		ev.time = 1700000000;
		ev.ncategories = 1;
		snprintf(ev.categories[0], STORE_NAME_MAX, "promo");
		ev.source = STORE_SRC_SMS_KEYWORD;
		snprintf(ev.text, sizeof(ev.text), "STOP");
		t0 = now_s();
		if (store_optout_apply(st, &ev) != 0) {
			fprintf(stderr, "store_bench: apply: %s\n",
			    store_errmsg(st));
			goto out_store;
		}
		lat[i] = (now_s() - t0) * 1e3;
	}
	qsort(lat, (size_t)ncommits, sizeof(*lat), cmp_double);

	printf("store.n=%" PRIu64 " load_s=%.2f load_keys_per_s=%.0f "
	    "reindex_s=%.2f\n", n, t_load, (double)n / t_load, t_reindex);
	printf("store.n=%" PRIu64 " lookups=%zu hit_pct=%.2f "
	    "check_per_s=%.0f raw_mdb_get_per_s=%.0f ratio=%.2f "
	    "raw_index_get_per_s=%.0f ratio_index=%.2f raw_hits_match=%s\n",
	    n, nl, 100.0 * (double)hits / (double)nl, rate, raw_rate,
	    rate / raw_rate, idx_rate, rate / idx_rate,
	    hits == raw_hits ? "yes" : "NO");
	if (ncommits > 0)
		printf("store.n=%" PRIu64 " commits=%d commit_ms_p50=%.3f "
		    "commit_ms_p99=%.3f commit_ms_max=%.3f\n", n, ncommits,
		    lat[ncommits / 2], lat[(size_t)ncommits * 99 / 100],
		    lat[ncommits - 1]);
	fflush(stdout);
	ret = hits == raw_hits ? 0 : -1;
out_store:
	store_free(st);
out_mem:
	free(nums);
	free(lat);
out_dir:
	rmtree(dir);
	return ret;
}

/* An audit query's records (and a count, to check the runs agree). */
static int
count_cb(const struct store_audit *a, void *arg)
{
	(void)a;
	(*(size_t *)arg)++;
	return 0;
}

static int
ms_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of five runs of f, in ms; *n gets the records. */
static double
audit_time(struct store *st, const struct store_audit_filter *f, size_t *n)
{
	double ms[5], t0;
	int i;

	for (i = 0; i < 5; i++) {
		*n = 0;
		t0 = now_s();
		if (store_audit_query(st, f, count_cb, n) != 0)
			return -1;
		ms[i] = (now_s() - t0) * 1000;
	}
	qsort(ms, 5, sizeof(ms[0]), ms_cmp);
	return ms[2];
}

#define AUDIT_T0	1700000000
#define AUDIT_BATCH	10000

static int
audit_fill(struct store *st, uint64_t nrec)
{
	static const char *const cats[] = { "promo", "alerts", "news", "x" };
	struct store_audit *recs;
	struct store_batch b;
	uint64_t i;
	size_t n = 0, nbad;
	int rc = 0;

	if ((recs = calloc(AUDIT_BATCH, sizeof(*recs))) == NULL)
		return -1;
	for (i = 0; i < nrec && rc == 0; i++) {
		struct store_audit *a = &recs[n++];

		memset(a, 0, sizeof(*a));
		a->time = AUDIT_T0 + (int64_t)i * 60 / 100;
		snprintf(a->account, sizeof(a->account), "acct%d",
		    i % 100 < 91 ? 0 : (int)(i % 100) - 90);
		snprintf(a->category, sizeof(a->category), "%s", cats[i % 4]);
		snprintf(a->destination, sizeof(a->destination), NUM_FMT,
		    (i * 7919) % 1000000);
		a->status = 0x401;
		if (n == AUDIT_BATCH || i + 1 == nrec) {
			memset(&b, 0, sizeof(b));
			b.audit = recs;
			b.naudit = n;
			rc = store_batch_put(st, &b, &nbad);
			n = 0;
		}
	}
	free(recs);
	return rc;
}

static int
bench_audit(const char *dir, uint64_t nrec)
{
	struct store_params p = { 0, 0, false };
	struct store_audit_filter f;
	struct store *st;
	char err[256];
	double t0, ms;
	size_t n, done;

	if ((st = store_open(dir, &p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_bench: %s\n", err);
		return -1;
	}
	t0 = now_s();
	if (audit_fill(st, nrec) != 0)
		goto fail;
	printf("audit.records=%" PRIu64 " fill_s=%.2f\n", nrec, now_s() - t0);
	/* The per-number backlog, as the writer would when idle. */
	do {
		if (store_audit_index(st, STORE_AUDIT_INDEX_MAX, &done) != 0)
			goto fail;
	} while (done > 0);
	memset(&f, 0, sizeof(f));
	f.account = "acct3";
	ms = audit_time(st, &f, &n);
	printf("audit.query=account_small records=%zu ms_median=%.2f\n", n,
	    ms);
	f.account = "acct0";
	f.max = 100;
	ms = audit_time(st, &f, &n);
	printf("audit.query=account_big_page records=%zu ms_median=%.2f\n", n,
	    ms);
	f.account = "acct3";
	f.max = 0;
	f.since = AUDIT_T0 + (int64_t)nrec * 60 / 200;
	f.until = f.since + 3600;
	ms = audit_time(st, &f, &n);
	printf("audit.query=account_small_hour records=%zu ms_median=%.2f\n",
	    n, ms);
	memset(&f, 0, sizeof(f));
	f.category = "news";
	f.max = 100;
	f.since = AUDIT_T0 + (int64_t)nrec * 60 / 200;
	ms = audit_time(st, &f, &n);
	printf("audit.query=category_page records=%zu ms_median=%.2f\n", n,
	    ms);
	store_free(st);
	return 0;
fail:
	fprintf(stderr, "store_bench: %s\n", store_errmsg(st));
	store_free(st);
	return -1;
}

int
main(int argc, char *argv[])
{
	char base[] = "/tmp/store-bench-XXXXXX", sizes[256];
	const char *dir = NULL;
	size_t nl = 2000000;
	uint64_t naudit = 0;
	int ncommits = 500, ch, ret = 0;
	char *s, *save = NULL;

	snprintf(sizes, sizeof(sizes), "1000000,10000000");
	while ((ch = getopt(argc, argv, "n:l:c:d:a:")) != -1) {
		switch (ch) {
		case 'n':
			snprintf(sizes, sizeof(sizes), "%s", optarg);
			break;
		case 'l':
			nl = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			ncommits = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'a':
			naudit = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: store_bench [-n N[,N...]] "
			    "[-l lookups] [-c commits] [-d dir]\n");
			return 2;
		}
	}
	if (nl == 0 || ncommits < 0)
		return 2;
	if (dir == NULL) {
		if (mkdtemp(base) == NULL) {
			perror("store_bench: mkdtemp");
			return 1;
		}
		dir = base;
	}
	if (naudit > 0) {
		ret = bench_audit(dir, naudit) != 0;
		rmtree(dir);
		return ret;
	}
	for (s = strtok_r(sizes, ",", &save); s != NULL;
	    s = strtok_r(NULL, ",", &save)) {
		uint64_t n = strtoull(s, NULL, 10);

		if (n == 0 || bench_size(dir, n, nl, ncommits) != 0) {
			ret = 1;
			break;
		}
	}
	if (dir == base)
		rmdir(base);
	return ret;
}
