/*
 * store/store: open and close, schema version refusal, read-only opens,
 * error and enum names, info, and MAP_FULL handling (growth from a tiny
 * map, and a clear error at the limit, never a crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sys/wait.h>
#include <time.h>

#include "store/store_int.h"
#include "tests/unit/store/store_fixture.h"

static void
test_open_creates_dirs(void **state)
{
	struct fx *f = *state;
	struct store_params p = { 1, 4, false };
	char path[128], err[256];
	struct store *st;

	snprintf(path, sizeof(path), "%s/a/b", f->dir);
	st = store_open(path, &p, err, sizeof(err));
	assert_non_null(st);
	assert_string_equal(store_errmsg(st), "no error");
	assert_int_equal(store_errcode(st), STORE_E_OK);
	store_free(st);
	store_free(NULL);
	snprintf(path, sizeof(path), "%s/a/b/data.mdb", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a/b/lock.mdb", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a/b", f->dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", f->dir);
	rmdir(path);

	assert_null(store_open("", NULL, err, sizeof(err)));
	assert_null(store_open("/proc/nonexistent/x", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/proc/nonexistent/x"));
}

/* Reopening sees what was committed. */
static void
test_reopen(void **state)
{
	struct fx *f = *state;
	struct store_event ev;

	fx_event(&ev, "15550100001", STORE_OPT_OUT, 5, NULL, NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	store_free(f->st);
	f->st = fx_open(f, 8, 64);
	assert_non_null(f->st);
	assert_int_equal(store_optout_check(f->st, "15550100001", "x", NULL),
	    1);
}

static void
test_schema_newer_refused(void **state)
{
	struct fx *f = *state;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 6, (void *)(uintptr_t)"schema" }, v;
	uint8_t ver[4] = { 0, 0, 0, 99 };
	char err[256];

	store_free(f->st);
	f->st = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	v.mv_size = 4;
	v.mv_data = ver;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_null(store_open(f->dir, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 99"));
	assert_non_null(strstr(err, "newer"));
}

static void
test_read_only(void **state)
{
	struct fx *f = *state;
	struct store_params p = { 0, 0, true };
	struct store_event ev;
	char err[256], path[128];
	struct store *ro;

	fx_event(&ev, "15550100001", STORE_OPT_OUT, 5, "promo", NULL);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	ro = store_open(f->dir, &p, err, sizeof(err));
	assert_non_null(ro);
	assert_int_equal(store_optout_check(ro, "15550100001", "promo", NULL),
	    1);
	fx_event(&ev, "15550100002", STORE_OPT_OUT, 5, "promo", NULL);
	assert_int_equal(store_optout_apply(ro, &ev), -1);
	assert_int_equal(store_errcode(ro), STORE_E_READONLY);
	/* A write by the other handle is seen by the next lookup. */
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_optout_check(ro, "15550100002", "promo", NULL),
	    1);
	store_free(ro);

	snprintf(path, sizeof(path), "%s/none", f->dir);
	assert_null(store_open(path, &p, err, sizeof(err)));
}

static void
test_names(void **state)
{
	enum store_action a;
	enum store_source s;

	(void)state;
	assert_string_equal(store_action_name(STORE_OPT_OUT), "opt_out");
	assert_string_equal(store_action_name(STORE_OPT_IN), "opt_in");
	assert_string_equal(store_action_name((enum store_action)5), "?");
	assert_string_equal(store_source_name(STORE_SRC_SMS_KEYWORD),
	    "sms_keyword");
	assert_string_equal(store_source_name(STORE_SRC_IMPORT), "import");
	assert_string_equal(store_source_name((enum store_source)9), "?");
	assert_int_equal(store_action_parse("opt_in", &a), 0);
	assert_int_equal(a, STORE_OPT_IN);
	assert_int_equal(store_action_parse("optin", &a), -1);
	assert_int_equal(store_source_parse("api", &s), 0);
	assert_int_equal(s, STORE_SRC_API);
	assert_int_equal(store_source_parse("", &s), -1);
	assert_string_equal(store_error_name(STORE_E_FULL), "full");
	assert_string_equal(store_error_name(STORE_E_MAPFULL), "map_full");
	assert_string_equal(store_error_name((enum store_error)99), "?");
	assert_string_equal(store_errmsg(NULL), "no store");
}

static void
test_info(void **state)
{
	struct fx *f = *state;
	struct store_event ev;
	struct store_info info;

	fx_event(&ev, "15550100001", STORE_OPT_OUT, 5, "promo", "billing");
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_outbox_put(f->st, "a", (const uint8_t *)"x", 1,
	    1, 0, NULL), 0);
	assert_int_equal(store_info(f->st, &info), 0);
	assert_int_equal(info.schema_version, STORE_SCHEMA_VERSION);
	assert_int_equal(info.state, 2);
	assert_int_equal(info.events, 1);
	assert_int_equal(info.last_event_id, ev.id);
	assert_int_equal(info.outbox, 1);
	assert_int_equal(info.audit, 0);
	assert_int_equal(info.map_size, 8 * 1024 * 1024);
	assert_true(info.map_used > 0 && info.map_used <= info.map_size);
}

/*
 * Events of about 1.1 KB each, imported 50 per transaction (so a batch
 * that hits MAP_FULL is retried whole after the map grows).
 */
static int
fill(struct store *st, int n, int *done)
{
	static struct store_event evs[50];
	int i, j;

	for (i = 0; i < n; i += 50) {
		for (j = 0; j < 50; j++) {
			char num[16];

			snprintf(num, sizeof(num), "1555%07d", i + j);
			fx_event(&evs[j], num, STORE_OPT_OUT, i + j, "promo",
			    NULL);
			memset(evs[j].text, 'a', 500);
			memset(evs[j].note, 'b', 250);
			memset(evs[j].consent, 'c', 250);
			memset(evs[j].actor, 'd', 60);
		}
		if (store_import(st, evs, 50) != 0)
			return -1;
		*done = i + 50;
	}
	return 0;
}

static void
test_map_grows(void **state)
{
	struct fx *f = *state;
	struct store_info info;
	int done = 0;

	store_free(f->st);
	f->st = fx_open(f, 1, 64);
	assert_non_null(f->st);
	assert_int_equal(fill(f->st, 3000, &done), 0);
	assert_int_equal(store_info(f->st, &info), 0);
	assert_true(info.map_size > 1024 * 1024);
	assert_int_equal(info.events, 3000);
	assert_int_equal(store_optout_check(f->st, "15550002999", "promo",
	    NULL), 1);
}

/*
 * A read-only open (the CLI) while another process (the daemon) keeps
 * growing the store past the size the reader maps: every open succeeds.
 * LMDB maps what was committed when the environment opened; a commit
 * beyond it before the first transaction used to fail the open with
 * MDB_MAP_RESIZED.
 */
static void
test_open_while_growing(void **state)
{
	struct fx *f = *state;
	struct store_params ro = { 1, 64, true };
	struct store *st;
	char err[256];
	pid_t pid;
	int opens = 0, failed = 0, status, done = 0;

	/* The writer is a child: no environment may cross a fork. */
	store_free(f->st);
	f->st = NULL;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct store *w = fx_open(f, 1, 256);

		_exit(w != NULL && fill(w, 15000, &done) == 0 ? 0 : 1);
	}
	assert_true(pid > 0);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if ((st = store_open(f->dir, &ro, err, sizeof(err))) == NULL) {
			/* Not initialised yet is fine; anything else is not. */
			if (strstr(err, "not initialised") == NULL &&
			    strstr(err, "No such file") == NULL) {
				fprintf(stderr, "open %d: %s\n", opens, err);
				failed++;
			}
		} else {
			(void)store_optout_check(st, "15550000000", "promo",
			    NULL);
			store_free(st);
		}
		opens++;
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(opens > 10);
	assert_int_equal(failed, 0);
	f->st = fx_open(f, 1, 256);
	assert_non_null(f->st);
	assert_int_equal(store_optout_check(f->st, "15550014999", "promo",
	    NULL), 1);
}

static void
test_map_limit(void **state)
{
	struct fx *f = *state;
	struct store_event ev;
	char num[16];
	int done = 0;

	store_free(f->st);
	f->st = fx_open(f, 1, 2);
	assert_non_null(f->st);
	assert_int_equal(fill(f->st, 20000, &done), -1);
	assert_int_equal(store_errcode(f->st), STORE_E_MAPFULL);
	assert_non_null(strstr(store_errmsg(f->st), "map full"));
	assert_true(done > 500);
	/* Still readable; what was acknowledged is there. */
	assert_int_equal(store_optout_check(f->st, "15550000000", "promo",
	    NULL), 1);
	/* Nothing of the refused batch is visible. */
	snprintf(num, sizeof(num), "1555%07d", done);
	assert_int_equal(store_optout_check(f->st, num, "promo", NULL), 0);
	fx_event(&ev, num, STORE_OPT_OUT, 1, "promo", NULL);
	/* Reopening with a larger limit lets writes go on. */
	store_free(f->st);
	f->st = fx_open(f, 1, 8);
	assert_non_null(f->st);
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	assert_int_equal(store_optout_check(f->st, num, "promo", NULL), 1);
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Write timings: counted per transaction, within the wall time, and a
 * lazy write syncs no meta page. */
static void
test_write_stats(void **state)
{
	struct fx *f = *state;
	struct store_write_stats a, b;
	struct store_lastsent_entry ls;
	struct store_event ev;
	uint64_t t0, wall;

	store_write_stats(f->st, &a);
	fx_event(&ev, "15550100009", STORE_OPT_OUT, 5, NULL, NULL);
	t0 = now_us();
	assert_int_equal(store_optout_apply(f->st, &ev), 0);
	wall = now_us() - t0;
	store_write_stats(f->st, &b);
	assert_int_equal(b.writes, a.writes + 1);
	assert_true(b.body_us + b.commit_us > a.body_us + a.commit_us);
	assert_true((b.wait_us - a.wait_us) + (b.body_us - a.body_us) +
	    (b.commit_us - a.commit_us) + (b.sync_us - a.sync_us) <= wall);

	memset(&ls, 0, sizeof(ls));
	snprintf(ls.number, sizeof(ls.number), "15550100010");
	ls.last.time = 5;
	snprintf(ls.last.account, sizeof(ls.last.account), "acct");
	a = b;
	assert_int_equal(store_lastsent_put(f->st, &ls, 1), 0);
	store_write_stats(f->st, &b);
	assert_int_equal(b.writes, a.writes + 1);
	assert_int_equal(b.sync_us, a.sync_us);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_dirs,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reopen, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_schema_newer_refused,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_read_only, fx_setup,
		    fx_teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_info, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_map_grows, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_map_limit, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_open_while_growing,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_write_stats, fx_setup,
		    fx_teardown),
	};

	return cmocka_run_group_tests_name("store/store", tests, NULL, NULL);
}
