/*
 * Shared fixture for the compliance layer's tests: a config (categories
 * promo and billing, inbound 12345 stopping promo only, inbound 15550100
 * stopping all) and a fresh store in a mkdtemp directory.
 */
#ifndef TESTS_UNIT_COMPLIANCE_COMPLIANCE_FIXTURE_H
#define TESTS_UNIT_COMPLIANCE_COMPLIANCE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "store/store.h"

struct cfx {
	char		 dir[64];
	struct config	*cfg;
	struct store	*st;
};

static inline struct config *
cfx_config(void)
{
	static const char yaml[] =
	    "business_name: Acme\n"
	    "default_country_code: \"1\"\n"
	    "store: { path: var/stopgate }\n"
	    "listeners: [ { bind: \"127.0.0.1:1\" } ]\n"
	    "categories: [ promo, billing ]\n"
	    "accounts:\n"
	    "  - { system_id: marketing, password: mkpass1,\n"
	    "      default_category: promo }\n"
	    "upstreams:\n"
	    "  - { name: carrier, host: 127.0.0.1, port: 2, system_id: a,\n"
	    "      password: b }\n"
	    "inbound:\n"
	    "  - { number: \"12345\", account: marketing,\n"
	    "      stop_scope: [ promo ] }\n"
	    "  - { number: \"15550100\", account: marketing,\n"
	    "      stop_scope: all }\n";
	struct config_errors	 errs;
	struct config		*cfg;
	char			 buf[256];
	size_t			 i;

	cfg = config_load_string(yaml, strlen(yaml), "test.yaml", "/tmp",
	    &errs);
	if (cfg == NULL)
		for (i = 0; i < errs.count && i < CONFIG_ERRORS_MAX; i++)
			fprintf(stderr, "%s\n", config_error_format(&errs, i,
			    buf, sizeof(buf)));
	return cfg;
}

static inline int
cfx_setup(void **state)
{
	struct store_params	 p = { 8, 64, false };
	struct cfx		*f;
	char			 err[256];

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/compliance-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL || (f->cfg = cfx_config()) == NULL)
		return -1;
	if ((f->st = store_open(f->dir, &p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int
cfx_teardown(void **state)
{
	struct cfx	*f = *state;
	struct dirent	*e;
	DIR		*d;
	char		 p[512];

	store_free(f->st);
	config_free(f->cfg);
	if ((d = opendir(f->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Run stmts writing to fp, a memory stream; buf gets what they wrote
 * (the caller frees it). */
#define CFX_CAPTURE(buf, fp, stmts) do {				\
	size_t	 cfx_len_;						\
	(buf) = NULL;							\
	assert_non_null((fp) = open_memstream(&(buf), &cfx_len_));	\
	stmts;								\
	fclose(fp);							\
} while (0)

#endif /* TESTS_UNIT_COMPLIANCE_COMPLIANCE_FIXTURE_H */
