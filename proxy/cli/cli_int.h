/*
 * Internal to the compliance CLI (proxy/cli/): the parsed command line
 * and the context every subcommand gets.
 */
#ifndef PROXY_CLI_CLI_INT_H
#define PROXY_CLI_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "proxy/compliance/encode.h"

struct compliance_err;
struct config;
struct optout_act;
struct store;

#define CLI_MAX_ARGS	64

enum cli_format {
	CLI_FORMAT_TEXT = 0,
	CLI_FORMAT_JSONL,
	CLI_FORMAT_CSV,
};

/* Parsed command line: options by name, the rest positional. Strings are
 * views into argv. */
struct cli_args {
	const char	*config;		/* -c FILE */
	const char	*format;		/* --format */
	/* --category, repeated */
	const char	*categories[CLI_MAX_ARGS];
	size_t		 ncategories;
	bool		 all;			/* --all */
	const char	*source, *note, *consent, *actor;
	const char	*since, *until, *number, *account, *category;
	bool		 optout, dismiss;	/* review resolve */
	const char	*pos[CLI_MAX_ARGS];	/* positional */
	size_t		 npos;
};

struct cli_ctx {
	struct cli_args	 args;
	struct config	*cfg;		/* owned */
	struct store	*st;		/* owned */
	enum cli_format	 format;
	FILE		*out;		/* borrowed: results */
	FILE		*err;		/* borrowed: messages */
	struct encode_list list;	/* jsonl and csv output */
};

/*
 * Parse argv (argv[0..first) are the subcommand words, skipped) into a.
 * Options may come in any order, before or after positionals; "--"
 * ends options. Returns 0, or -1 with the reason in errbuf.
 */
int cli_args_parse(struct cli_args *a, int argc, char *const argv[],
    int first,
    char *errbuf, size_t errlen);

/* Parse --format: "text", "jsonl", "csv" (csv only if csv_ok); NULL means
 * text. Returns 0, or -1 with the reason in errbuf. */
int cli_format_parse(const char *s, bool csv_ok, enum cli_format *out,
    char *errbuf, size_t errlen);

/*
 * Write s (NUL-terminated, borrowed) for people: control characters,
 * invalid UTF-8, backslash and '"' escaped (\n, \x1b, \u{202e}, \"), so
 * text from a subscriber, a department or an API client can neither
 * forge a line nor drive the terminal (proxy/cli/cli_escape.c).
 */
void cli_put_text(FILE *out, const char *s);

/* The OS user running the command (for "who acted"); never NULL. */
const char *cli_default_actor(void);

/* --actor, else the OS user. */
const char *cli_actor(const struct cli_ctx *c);

/* Start c->list in c's machine format (jsonl or csv, with header).
 * Returns c->list, for the encode_list_* walk callbacks. */
struct encode_list *cli_list(struct cli_ctx *c, const char *header);

/* Who acts, why and on which categories, from the flags (source staff,
 * time now). */
void cli_act(const struct cli_ctx *c, struct optout_act *act);

/*
 * The one NUMBER argument of command word, normalised into num
 * (STORE_NUMBER_MAX bytes). Returns 0, or the exit status to end with
 * (usage 2, not a number 1; printed).
 */
int cli_number_arg(const struct cli_ctx *c, const char *word, char *num);

/* Print err's message on c->err. Returns 1, the exit status of a refused
 * request. */
int cli_fail(const struct cli_ctx *c, const struct compliance_err *err);

/* Print the store's last error on c->err. Returns 1. */
int cli_fail_store(const struct cli_ctx *c);

/* Print "usage:" and the usage lines of word1's commands (all when NULL)
 * on c->err. Returns 2. */
int cli_usage(FILE *errf, const char *word1);

/* The subcommands; each returns an exit status. */
int cli_cmd_status(struct cli_ctx *c);		/* cli_state.c */
int cli_cmd_optout_add(struct cli_ctx *c);
int cli_cmd_optout_remove(struct cli_ctx *c);
int cli_cmd_history(struct cli_ctx *c);
int cli_cmd_export(struct cli_ctx *c);
int cli_cmd_import(struct cli_ctx *c);		/* cli_import.c */
int cli_cmd_audit(struct cli_ctx *c);		/* cli_report.c */
int cli_cmd_stats(struct cli_ctx *c);
int cli_cmd_review_list(struct cli_ctx *c);
int cli_cmd_review_resolve(struct cli_ctx *c);
int cli_cmd_db_migrate(struct cli_ctx *c);	/* cli_cluster.c */
/* The replication lines of `status` when the config has cluster: (text
 * format only). Returns 0 or an exit status. */
int cli_cluster_status(struct cli_ctx *c);

#endif /* PROXY_CLI_CLI_INT_H */
