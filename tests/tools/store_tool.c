/*
 * store_tool: a small driver for the store's multi-process tests
 * (tests/integration/test_store_crash.py, test_store_concurrency.py).
 *
 *   store_tool write DIR FIRST COUNT [MAP_MB]
 *	opt out numbers FIRST..FIRST+COUNT-1 (category "promo", a bulky
 *	note so the map grows) one commit each, printing each number on
 *	stdout only after store_optout_apply returned.
 *   store_tool watch DIR [MAP_MB]
 *	open read-only and read numbers from stdin; each must already be
 *	blocked on the very next lookup in this process. Between them, look
 *	up numbers that were never written (must be allowed). Prints
 *	"watched N missed M map_mb S" (S: this process's map size at the
 *	end).
 *   store_tool verify DIR FILE
 *	open, check every complete line of FILE is blocked, do one more
 *	write, and print "verified N missing M".
 *   store_tool hold DIR
 *	take the store's write lock (an LMDB write transaction, straight
 *	through liblmdb) and keep it until stdin closes, printing "held"
 *	once it has it: a store writer stuck behind a long commit, for
 *	tests of what must not wait for one.
 *
 * Exit status: 0 all good, 1 a check failed, 2 usage or store error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "store/store.h"

#define NUMBER_FMT	"1555%07" PRIu64

static struct store *
tool_open(const char *dir, size_t map_mb, bool read_only)
{
	struct store_params p = { map_mb, 4096, read_only };
	char err[256];
	struct store *st;

	if ((st = store_open(dir, &p, err, sizeof(err))) == NULL)
		fprintf(stderr, "store_tool: %s\n", err);
	return st;
}

static int
tool_write(const char *dir, uint64_t first, uint64_t count, size_t map_mb)
{
	struct store_event ev;
	struct store *st;
	uint64_t i;

	if ((st = tool_open(dir, map_mb, false)) == NULL)
		return 2;
	for (i = first; i < first + count; i++) {
		memset(&ev, 0, sizeof(ev));
		snprintf(ev.number, sizeof(ev.number), NUMBER_FMT,
		    i % UINT64_C(100000000000));
		ev.action = STORE_OPT_OUT;
		ev.time = (int64_t)time(NULL);
		ev.ncategories = 1;
		snprintf(ev.categories[0], STORE_NAME_MAX, "promo");
		ev.source = STORE_SRC_STAFF;
		snprintf(ev.actor, sizeof(ev.actor), "store_tool");
		memset(ev.note, 'n', 200);
		memset(ev.text, 't', 400);
		if (store_optout_apply(st, &ev) != 0) {
			fprintf(stderr, "store_tool: write %s: %s\n", ev.number,
			    store_errmsg(st));
			store_free(st);
			return 2;
		}
		/* The acknowledgement: only after the commit returned. */
		printf("%s\n", ev.number);
		fflush(stdout);
	}
	store_free(st);
	return 0;
}

static int
tool_watch(const char *dir, size_t map_mb)
{
	char line[64], other[32];
	struct store_info info;
	uint64_t watched = 0, missed = 0, seed = 88172645463325252ULL;
	struct store *st;
	size_t len;
	int rc;

	/* Read-only, like the CLI's queries: it must still follow the map
	 * as the writer grows it. */
	if ((st = tool_open(dir, map_mb, true)) == NULL)
		return 2;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strlen(line);
		if (len == 0 || line[len - 1] != '\n')
			break;
		line[len - 1] = '\0';
		rc = store_optout_check(st, line, "promo", NULL);
		if (rc < 0) {
			fprintf(stderr, "store_tool: check: %s\n",
			    store_errmsg(st));
			store_free(st);
			return 2;
		}
		if (rc != 1) {
			fprintf(stderr, "store_tool: %s acknowledged but not "
			    "blocked\n", line);
			missed++;
		}
		watched++;
		/* A never-written number (9xxxxxxx range) stays allowed. */
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		snprintf(other, sizeof(other), "1999%07" PRIu64,
		    seed % 10000000);
		if (store_optout_check(st, other, "promo", NULL) != 0) {
			fprintf(stderr, "store_tool: %s wrongly blocked\n",
			    other);
			missed++;
		}
	}
	if (store_info(st, &info) != 0)
		info.map_size = 0;
	store_free(st);
	printf("watched %" PRIu64 " missed %" PRIu64 " map_mb %" PRIu64 "\n",
	    watched, missed, info.map_size >> 20);
	return missed == 0 && watched > 0 ? 0 : 1;
}

static int
tool_verify(const char *dir, const char *file)
{
	char line[64];
	uint64_t verified = 0, missing = 0;
	struct store_event ev;
	struct store *st;
	size_t len;
	FILE *fp;
	int rc;

	if ((fp = fopen(file, "r")) == NULL) {
		fprintf(stderr, "store_tool: %s: %s\n", file, strerror(errno));
		return 2;
	}
	if ((st = tool_open(dir, 0, false)) == NULL) {
		fclose(fp);
		return 2;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strlen(line);
		if (len == 0 || line[len - 1] != '\n')
			break;	/* a line cut by the kill: not acknowledged */
		line[len - 1] = '\0';
		rc = store_optout_check(st, line, "promo", NULL);
		if (rc != 1) {
			fprintf(stderr, "store_tool: %s acknowledged, lookup "
			    "%d\n", line, rc);
			missing++;
		}
		verified++;
	}
	fclose(fp);
	/* The environment must take writes after the crash too. */
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.number, sizeof(ev.number), "19990000000");
	ev.action = STORE_OPT_OUT;
	ev.all = true;
	ev.source = STORE_SRC_STAFF;
	rc = store_optout_apply(st, &ev);
	if (rc != 0)
		fprintf(stderr, "store_tool: write after crash: %s\n",
		    store_errmsg(st));
	store_free(st);
	printf("verified %" PRIu64 " missing %" PRIu64 "\n", verified,
	    missing);
	if (rc != 0)
		return 2;
	return missing == 0 ? 0 : 1;
}

static int
tool_hold(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	char buf[64];
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 64)) != 0 ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		fprintf(stderr, "store_tool: %s: %s\n", dir, mdb_strerror(rc));
		return 2;
	}
	printf("held\n");
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin) != NULL)
		;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: store_tool write DIR FIRST COUNT [MAP_MB]\n"
	    "       store_tool watch DIR [MAP_MB]\n"
	    "       store_tool verify DIR FILE\n"
	    "       store_tool hold DIR\n");
	return 2;
}

int
main(int argc, char *argv[])
{
	if (argc >= 5 && strcmp(argv[1], "write") == 0)
		return tool_write(argv[2], strtoull(argv[3], NULL, 10),
		    strtoull(argv[4], NULL, 10),
		    argc > 5 ? strtoul(argv[5], NULL, 10) : 0);
	if (argc >= 3 && strcmp(argv[1], "watch") == 0)
		return tool_watch(argv[2],
		    argc > 3 ? strtoul(argv[3], NULL, 10) : 0);
	if (argc == 3 && strcmp(argv[1], "hold") == 0)
		return tool_hold(argv[2]);
	if (argc == 4 && strcmp(argv[1], "verify") == 0)
		return tool_verify(argv[2], argv[3]);
	return usage();
}
