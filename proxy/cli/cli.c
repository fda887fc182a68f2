/*
 * The compliance CLI (SPEC §6): the command table and what every command
 * shares. Every command takes -c FILE anywhere after its words, opens the
 * store the config names, and prints for people by default (--format
 * jsonl/csv for machines, in the shapes of proxy/compliance/encode.h).
 * Exit status: 0 done, 1 refused or bad input (nothing changed), 2 usage.
 */
#include "proxy/cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "proxy/cli/cli_int.h"
#include "proxy/compliance/compliance.h"
#include "proxy/compliance/optout.h"
#include "store/store.h"

typedef int (*cli_cmd_fn)(struct cli_ctx *);

static const struct cli_command {
	const char	*word1, *word2;	/* word2 NULL for one-word commands */
	cli_cmd_fn	 fn;
	bool		 csv_ok;
	const char	*usage;
} cli_commands[] = {
	{ "status", NULL, cli_cmd_status, true,
	    "status -c FILE [NUMBER] [--format text|jsonl|csv]" },
	{ "optout", "add", cli_cmd_optout_add, false,
	    "optout add -c FILE NUMBER (--category C ... | --all) "
	    "[--source staff|api|import] [--note TEXT] [--actor NAME]" },
	{ "optout", "remove", cli_cmd_optout_remove, false,
	    "optout remove -c FILE NUMBER (--category C ... | --all) "
	    "--consent TEXT [--note TEXT] [--actor NAME]" },
	{ "history", NULL, cli_cmd_history, true,
	    "history -c FILE NUMBER [--format text|jsonl|csv]" },
	{ "audit", NULL, cli_cmd_audit, true,
	    "audit -c FILE [--since T] [--until T] [--number N] "
	    "[--account A] [--category C] [--format text|jsonl|csv]" },
	{ "import", NULL, cli_cmd_import, false,
	    "import -c FILE FILE.csv [--actor NAME]" },
	{ "export", NULL, cli_cmd_export, true,
	    "export -c FILE [--format csv|jsonl]" },
	{ "stats", NULL, cli_cmd_stats, false,
	    "stats -c FILE [--since T] [--format text|jsonl]" },
	{ "review", "list", cli_cmd_review_list, true,
	    "review list -c FILE [--format text|jsonl|csv]" },
	{ "review", "resolve", cli_cmd_review_resolve, false,
	    "review resolve -c FILE ID (--optout [--category C ... | --all] "
	    "| --dismiss) --note TEXT [--actor NAME]" },
	{ "db", "migrate", cli_cmd_db_migrate, false,
	    "db migrate -c FILE" },
};

#define NCOMMANDS	(sizeof(cli_commands) / sizeof(cli_commands[0]))

int
cli_is_command(const char *word)
{
	size_t	 i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(word, cli_commands[i].word1) == 0)
			return 1;
	return 0;
}

int
cli_usage(FILE *errf, const char *word1)
{
	size_t	 i;

	fprintf(errf, "usage:\n");
	for (i = 0; i < NCOMMANDS; i++)
		if (word1 == NULL || strcmp(word1, cli_commands[i].word1) == 0)
			fprintf(errf, "  stopgate %s\n", cli_commands[i].usage);
	return 2;
}

int
cli_fail(const struct cli_ctx *c, const struct compliance_err *err)
{
	fprintf(c->err, "stopgate: %s\n", err->msg);
	return 1;
}

void
cli_act(const struct cli_ctx *c, struct optout_act *act)
{
	memset(act, 0, sizeof(*act));
	act->source = STORE_SRC_STAFF;
	act->actor = cli_actor(c);
	act->note = c->args.note;
	act->now = (int64_t)time(NULL);
	act->all = c->args.all;
	act->categories = c->args.categories;
	act->ncategories = c->args.ncategories;
}

int
cli_number_arg(const struct cli_ctx *c, const char *word, char *num)
{
	struct compliance_err	 err;

	if (c->args.npos != 1)
		return cli_usage(c->err, word);
	if (compliance_number(c->cfg, c->args.pos[0], num, STORE_NUMBER_MAX,
	    &err) == -1)
		return cli_fail(c, &err);
	return 0;
}

int
cli_fail_store(const struct cli_ctx *c)
{
	struct compliance_err	 err;

	compliance_fail_store(&err, c->st, false);
	return cli_fail(c, &err);
}

struct encode_list *
cli_list(struct cli_ctx *c, const char *header)
{
	encode_list_init(&c->list, c->out, c->format == CLI_FORMAT_CSV ?
	    ENCODE_CSV : ENCODE_JSONL, 0, (int64_t)time(NULL), header);
	return &c->list;
}

/* The command argv names, and in *first the index of its first argument;
 * NULL (usage printed) when there is none. */
static const struct cli_command *
cli_find(int argc, char *argv[], int *first, FILE *errf)
{
	size_t	 i;

	*first = 1;
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], cli_commands[i].word1) != 0)
			continue;
		if (cli_commands[i].word2 == NULL)
			return &cli_commands[i];
		if (argc > 1 && strcmp(argv[1], cli_commands[i].word2) == 0) {
			*first = 2;
			return &cli_commands[i];
		}
	}
	if (cli_is_command(argv[0]))
		cli_usage(errf, argv[0]);
	else {
		fprintf(errf, "stopgate: unknown command: %s\n", argv[0]);
		cli_usage(errf, NULL);
	}
	return NULL;
}

/* Load c->args.config and open its store into c. Returns 0, or -1
 * (reported on c->err; nothing left open). */
static int
cli_open(struct cli_ctx *c, bool needs_store)
{
	struct config_errors	*errs;
	struct store_params	 sp;
	char			 buf[512], err[256];
	size_t			 i;

	if ((errs = calloc(1, sizeof(*errs))) == NULL)
		return -1;
	/* db migrate is the operator's, with the conninfo secret; staff
	 * commands read no secret. */
	if ((c->cfg = config_load_flags(c->args.config, needs_store ?
	    CONFIG_LOAD_NO_SECRETS : 0, errs)) == NULL) {
		for (i = 0; i < errs->count && i < CONFIG_ERRORS_MAX; i++)
			fprintf(c->err, "%s\n", config_error_format(errs, i,
			    buf, sizeof(buf)));
		free(errs);
		return -1;
	}
	free(errs);
	if (!needs_store)
		return 0;
	memset(&sp, 0, sizeof(sp));
	sp.map_mb = c->cfg->store_map_mb;
	if ((c->st = store_open(c->cfg->store_path, &sp, err,
	    sizeof(err))) == NULL) {
		fprintf(c->err, "stopgate: store %s: %s\n",
		    c->cfg->store_path, err);
		config_free(c->cfg);
		c->cfg = NULL;
		return -1;
	}
	return 0;
}

int
cli_run(int argc, char *argv[], FILE *out, FILE *errf)
{
	const struct cli_command	*cmd;
	struct cli_ctx			 c;
	char				 err[256];
	int				 first, rc;

	if ((cmd = cli_find(argc, argv, &first, errf)) == NULL)
		return 2;
	memset(&c, 0, sizeof(c));
	c.out = out;
	c.err = errf;
	if (cli_args_parse(&c.args, argc, argv, first, err,
	    sizeof(err)) == -1 || cli_format_parse(c.args.format,
	    cmd->csv_ok, &c.format, err, sizeof(err)) == -1) {
		fprintf(errf, "stopgate: %s\n", err);
		return cli_usage(errf, argv[0]);
	}
	if (c.args.config == NULL) {
		fprintf(errf, "stopgate: -c FILE is required\n");
		return cli_usage(errf, argv[0]);
	}
	if (cli_open(&c, cmd->fn != cli_cmd_db_migrate) == -1)
		return 1;
	rc = cmd->fn(&c);
	if (fflush(out) == EOF && rc == 0) {
		fprintf(errf, "stopgate: writing output: %s\n",
		    strerror(errno));
		rc = 1;
	}
	store_free(c.st);
	config_free(c.cfg);
	return rc;
}

int
cli_main(int argc, char *argv[])
{
	return cli_run(argc, argv, stdout, stderr);
}
