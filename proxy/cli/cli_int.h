/*
 * Internal to the compliance CLI (proxy/cli*.c): the context every
 * subcommand gets.
 */
#ifndef PROXY_CLI_INT_H
#define PROXY_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "proxy/compliance/cli_util.h"

struct config;
struct store;

struct cli_ctx {
	struct cli_args	 args;
	struct config	*cfg;		/* owned */
	struct store	*st;		/* owned */
	enum cli_format	 format;
};

/*
 * Normalise a number typed by a person with the config's rules into out
 * (STORE_NUMBER_MAX). Returns 0, or -1 with a message on stderr.
 */
int cli_number(const struct cli_ctx *c, const char *in, char *out,
    size_t cap);

/* The subcommands in cli_report.c; each returns an exit status. */
int cli_cmd_audit(struct cli_ctx *c);
int cli_cmd_stats(struct cli_ctx *c);
int cli_cmd_review_list(struct cli_ctx *c);
int cli_cmd_review_resolve(struct cli_ctx *c);

/*
 * Fill the scope of an event from --category/--all, checking each name
 * against the config. Returns 0 or -1 with a message on stderr.
 */
struct store_event;
int cli_scope(const struct cli_ctx *c, struct store_event *ev);

#endif /* PROXY_CLI_INT_H */
