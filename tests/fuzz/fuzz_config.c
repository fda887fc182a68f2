/*
 * libFuzzer target for the configuration loader: any bytes given to
 * config_load_string() must give a config or a list of errors, never a
 * crash, a hang or a leak. Relative paths resolve against a directory
 * that does not exist, so the input cannot make the loader read files
 * from the working directory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs;
	struct config *cfg;
	char buf[1024];
	size_t i;

	cfg = config_load_string((const char *)data, size, "fuzz.yaml",
	    "/nonexistent/stopgate-fuzz", &errs);
	if (cfg != NULL) {
		/* Exercise the lookups on whatever loaded. */
		for (i = 0; i < cfg->naccounts; i++) {
			(void)config_account_category(cfg, i, "BILL");
			(void)config_account_may_send(cfg, i, 0);
		}
		if (cfg->ncategories > 0)
			(void)config_category_find(cfg,
			    cfg->categories[0].name);
		config_free(cfg);
		return 0;
	}
	/* Errors were found: every one must format. */
	if (errs.count == 0)
		__builtin_trap();
	for (i = 0; i < errs.count && i < CONFIG_ERRORS_MAX; i++)
		config_error_format(&errs, i, buf, sizeof(buf));
	return 0;
}
