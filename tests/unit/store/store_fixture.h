/*
 * Shared fixture for the store unit tests: a fresh environment in a
 * mkdtemp directory under /tmp, removed in teardown.
 */
#ifndef TESTS_UNIT_STORE_STORE_FIXTURE_H
#define TESTS_UNIT_STORE_STORE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

struct fx {
	char		 dir[64];
	struct store	*st;
};

static inline void
fx_rmdir(const char *dir)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static inline struct store *
fx_open(struct fx *f, size_t map_mb, size_t map_max_mb)
{
	struct store_params p = { map_mb, map_max_mb, false };
	char err[256];
	struct store *st;

	st = store_open(f->dir, &p, err, sizeof(err));
	if (st == NULL)
		fprintf(stderr, "store_open: %s\n", err);
	return st;
}

static inline int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/store-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL || (f->st = fx_open(f, 8, 64)) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int
fx_teardown(void **state)
{
	struct fx *f = *state;

	store_free(f->st);
	fx_rmdir(f->dir);
	free(f);
	return 0;
}

/* An event with the given scope: cats is a comma-free list, NULL = all. */
static inline void
fx_event(struct store_event *ev, const char *number, enum store_action a,
    int64_t t, const char *cat1, const char *cat2)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->number, sizeof(ev->number), "%s", number);
	ev->action = a;
	ev->time = t;
	ev->source = STORE_SRC_STAFF;
	snprintf(ev->actor, sizeof(ev->actor), "tester");
	if (cat1 == NULL) {
		ev->all = true;
		return;
	}
	snprintf(ev->categories[ev->ncategories++], STORE_NAME_MAX, "%s",
	    cat1);
	if (cat2 != NULL)
		snprintf(ev->categories[ev->ncategories++], STORE_NAME_MAX,
		    "%s", cat2);
}

/*
 * Finish a growth of the lookup tables (and sweep the old ones), as the
 * proxy's writer does when idle, step steps at a time. Returns the steps.
 */
static inline int
fx_grow(struct store *st, size_t step)
{
	size_t done;
	int n = 0;

	do {
		assert_int_equal(store_lookup_grow_step(st, step, &done), 0);
		n++;
	} while (done > 0);
	return n;
}

#endif /* TESTS_UNIT_STORE_STORE_FIXTURE_H */
