/*
 * The compliance CLI (SPEC §6): status, optout add/remove, history, import
 * and export here; audit, stats and review in cli_report.c. Every command
 * takes -c FILE anywhere after its words, opens the store the config
 * names, and prints for people by default (--format jsonl/csv for
 * machines). Exit status: 0 done, 1 refused or bad input (nothing
 * changed), 2 usage.
 */
#include "proxy/cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config/config.h"
#include "proxy/cli/cli_int.h"
#include "smpp/number.h"
#include "store/store.h"

#define CLI_IMPORT_MAX_ROWS	1000000

typedef int (*cli_cmd_fn)(struct cli_ctx *);

static int cli_cmd_status(struct cli_ctx *);
static int cli_cmd_optout_add(struct cli_ctx *);
static int cli_cmd_optout_remove(struct cli_ctx *);
static int cli_cmd_history(struct cli_ctx *);
static int cli_cmd_import(struct cli_ctx *);
static int cli_cmd_export(struct cli_ctx *);

static const struct cli_command {
	const char	*word1, *word2;	/* word2 NULL for one-word commands */
	cli_cmd_fn	 fn;
	bool		 csv_ok;
	const char	*usage;
} cli_commands[] = {
	{ "status", NULL, cli_cmd_status, true,
	    "status -c FILE NUMBER [--format text|jsonl|csv]" },
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

static void
cli_usage(const char *word1)
{
	size_t	 i;

	fprintf(stderr, "usage:\n");
	for (i = 0; i < NCOMMANDS; i++)
		if (word1 == NULL || strcmp(word1, cli_commands[i].word1) == 0)
			fprintf(stderr, "  stopgate %s\n", cli_commands[i].usage);
}

int
cli_number(const struct cli_ctx *c, const char *in, char *out, size_t cap)
{
	if (smpp_number_parse_text(in, &c->cfg->number_rules, out,
	    cap) == -1) {
		fprintf(stderr, "stopgate: not a phone number: \"%s\"\n", in);
		return -1;
	}
	return 0;
}

int
cli_scope(const struct cli_ctx *c, struct store_event *ev)
{
	size_t	 i, j;

	if (c->args.all == (c->args.ncategories > 0)) {
		fprintf(stderr, "stopgate: give --all or one or more "
		    "--category\n");
		return -1;
	}
	ev->all = c->args.all;
	for (i = 0; i < c->args.ncategories; i++) {
		if (config_category_find(c->cfg, c->args.categories[i]) < 0) {
			fprintf(stderr, "stopgate: unknown category \"%s\" "
			    "(not in %s)\n", c->args.categories[i],
			    c->cfg->path);
			return -1;
		}
		/* Given twice: once is enough (as in the admin API). */
		for (j = 0; j < ev->ncategories; j++)
			if (strcmp(ev->categories[j],
			    c->args.categories[i]) == 0)
				break;
		if (j < ev->ncategories)
			continue;
		if (ev->ncategories == STORE_SCOPE_MAX) {
			fprintf(stderr, "stopgate: more than %d categories; "
			    "use --all\n", STORE_SCOPE_MAX);
			return -1;
		}
		snprintf(ev->categories[ev->ncategories++], STORE_NAME_MAX,
		    "%s", c->args.categories[i]);
	}
	return 0;
}

/* Copy s into dst (cap bytes), refusing what does not fit. */
static int
cli_copy(char *dst, size_t cap, const char *s, const char *what)
{
	if (s == NULL)
		s = "";
	if (strlen(s) >= cap) {
		fprintf(stderr, "stopgate: %s longer than %zu bytes\n", what,
		    cap - 1);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* "promo,billing" or "all" for an event's scope. */
static const char *
cli_event_scope(const struct store_event *ev, char *buf, size_t cap)
{
	size_t	 i, off = 0;

	buf[0] = '\0';
	if (ev->all) {
		snprintf(buf, cap, "all");
		return buf;
	}
	for (i = 0; i < ev->ncategories && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s",
		    i > 0 ? "," : "", ev->categories[i]);
	return buf;
}

/* --- status ------------------------------------------------------- */

static int
cli_cmd_status(struct cli_ctx *c)
{
	struct store_block	 why;
	char			 num[STORE_NUMBER_MAX], ts[32];
	size_t			 i;
	int			 r;
	const char		*name;

	if (c->args.npos != 1) {
		cli_usage("status");
		return 2;
	}
	if (cli_number(c, c->args.pos[0], num, sizeof(num)) == -1)
		return 1;
	if (c->format == CLI_FORMAT_TEXT)
		printf("%s\n", num);
	else if (c->format == CLI_FORMAT_CSV)
		printf("number,category,status,since,event_id,scope\n");
	for (i = 0; i < c->cfg->ncategories; i++) {
		name = c->cfg->categories[i].name;
		memset(&why, 0, sizeof(why));
		if ((r = store_optout_check(c->st, num, name, &why)) == -1) {
			fprintf(stderr, "stopgate: store: %s\n",
			    store_errmsg(c->st));
			return 1;
		}
		cli_time_format(why.since, ts, sizeof(ts));
		switch (c->format) {
		case CLI_FORMAT_TEXT:
			if (r == 1)
				printf("  %-16s blocked  since %s  event %llu"
				    "%s\n", name, ts,
				    (unsigned long long)why.event_id,
				    why.is_global ? "  (all categories)" : "");
			else
				printf("  %-16s allowed\n", name);
			break;
		case CLI_FORMAT_JSONL:
			printf("{\"number\":\"%s\",\"category\":", num);
			cli_json_str(stdout, name);
			if (r == 1)
				printf(",\"status\":\"blocked\",\"since\":\"%s\","
				    "\"event_id\":%llu,\"scope\":\"%s\"}\n", ts,
				    (unsigned long long)why.event_id,
				    why.is_global ? "all" : "category");
			else
				printf(",\"status\":\"allowed\"}\n");
			break;
		case CLI_FORMAT_CSV:
			if (r == 1)
				printf("%s,%s,blocked,%s,%llu,%s\n", num, name,
				    ts, (unsigned long long)why.event_id,
				    why.is_global ? "all" : "category");
			else
				printf("%s,%s,allowed,,,\n", num, name);
			break;
		}
	}
	return 0;
}

/* --- optout add / remove ------------------------------------------ */

static int
cli_optout(struct cli_ctx *c, enum store_action action)
{
	struct store_event	*ev;
	char			 scope[STORE_SCOPE_MAX * STORE_NAME_MAX];
	int			 rc = 1;
	enum store_source	 src = STORE_SRC_STAFF;

	if (c->args.npos != 1) {
		cli_usage("optout");
		return 2;
	}
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return 1;
	if (c->args.source != NULL &&
	    (store_source_parse(c->args.source, &src) == -1 ||
	    src == STORE_SRC_SMS_KEYWORD)) {
		fprintf(stderr, "stopgate: --source must be staff, api or "
		    "import\n");
		goto out;
	}
	if (action == STORE_OPT_IN &&
	    (c->args.consent == NULL || c->args.consent[0] == '\0')) {
		fprintf(stderr, "stopgate: opting a number back in needs "
		    "--consent TEXT: the evidence of the subscriber's "
		    "consent (how and when they agreed)\n");
		goto out;
	}
	if (cli_number(c, c->args.pos[0], ev->number, sizeof(ev->number)) ==
	    -1 || cli_scope(c, ev) == -1 ||
	    cli_copy(ev->note, sizeof(ev->note), c->args.note, "--note") ==
	    -1 ||
	    cli_copy(ev->consent, sizeof(ev->consent), c->args.consent,
	    "--consent") == -1 ||
	    cli_copy(ev->actor, sizeof(ev->actor), c->args.actor != NULL ?
	    c->args.actor : cli_default_actor(), "--actor") == -1)
		goto out;
	ev->action = action;
	ev->source = src;
	ev->time = (int64_t)time(NULL);
	if (store_optout_apply(c->st, ev) == -1) {
		fprintf(stderr, "stopgate: store: %s (nothing changed)\n",
		    store_errmsg(c->st));
		goto out;
	}
	printf("%s %s %s %s (event %llu)\n",
	    action == STORE_OPT_OUT ? "opted out:" : "opted in:", ev->number,
	    action == STORE_OPT_OUT ? "from" : "to",
	    cli_event_scope(ev, scope, sizeof(scope)),
	    (unsigned long long)ev->id);
	rc = 0;
out:
	free(ev);
	return rc;
}

static int
cli_cmd_optout_add(struct cli_ctx *c)
{
	return cli_optout(c, STORE_OPT_OUT);
}

static int
cli_cmd_optout_remove(struct cli_ctx *c)
{
	return cli_optout(c, STORE_OPT_IN);
}

/* --- history ------------------------------------------------------ */

static int
cli_history_row(const struct store_event *ev, void *arg)
{
	const struct cli_ctx	*c = arg;
	char			 ts[32], lts[32];
	char			 scope[STORE_SCOPE_MAX * STORE_NAME_MAX];

	cli_time_format(ev->time, ts, sizeof(ts));
	cli_event_scope(ev, scope, sizeof(scope));
	switch (c->format) {
	case CLI_FORMAT_TEXT:
		printf("%s  event %llu  %-7s %-20s source=%s", ts,
		    (unsigned long long)ev->id, store_action_name(ev->action),
		    scope, store_source_name(ev->source));
		if (ev->source == STORE_SRC_SMS_KEYWORD)
			printf(" inbound=%s rule=%s text=\"%s\"", ev->inbound,
			    ev->rule, ev->text);
		else
			printf(" actor=%s", ev->actor);
		if (ev->note[0] != '\0')
			printf(" note=\"%s\"", ev->note);
		if (ev->consent[0] != '\0')
			printf(" consent=\"%s\"", ev->consent);
		if (ev->action == STORE_OPT_OUT && ev->last.time != 0)
			printf(" last_sent=%s/%s@%s", ev->last.account,
			    ev->last.category, cli_time_format(ev->last.time,
			    lts, sizeof(lts)));
		printf("\n");
		break;
	case CLI_FORMAT_JSONL:
		/* number and inbound may be an SMSC's alphanumeric or
		 * unparsable address: escaped like every other string. */
		printf("{\"event_id\":%llu,\"time\":\"%s\",\"number\":",
		    (unsigned long long)ev->id, ts);
		cli_json_str(stdout, ev->number);
		printf(",\"action\":\"%s\",\"scope\":",
		    store_action_name(ev->action));
		cli_json_str(stdout, scope);
		printf(",\"source\":\"%s\",\"inbound\":",
		    store_source_name(ev->source));
		cli_json_str(stdout, ev->inbound);
		printf(",\"rule\":");
		cli_json_str(stdout, ev->rule);
		printf(",\"text\":");
		cli_json_str(stdout, ev->text);
		printf(",\"actor\":");
		cli_json_str(stdout, ev->actor);
		printf(",\"note\":");
		cli_json_str(stdout, ev->note);
		printf(",\"consent\":");
		cli_json_str(stdout, ev->consent);
		if (ev->last.time != 0) {
			printf(",\"last_sent\":{\"time\":\"%s\",\"account\":",
			    cli_time_format(ev->last.time, lts, sizeof(lts)));
			cli_json_str(stdout, ev->last.account);
			printf(",\"category\":");
			cli_json_str(stdout, ev->last.category);
			printf(",\"service_type\":");
			cli_json_str(stdout, ev->last.service_type);
			printf("}");
		}
		printf("}\n");
		break;
	case CLI_FORMAT_CSV:
		printf("%llu,%s,", (unsigned long long)ev->id, ts);
		cli_csv_field(stdout, ev->number);
		printf(",%s,", store_action_name(ev->action));
		cli_csv_field(stdout, scope);
		printf(",%s,", store_source_name(ev->source));
		cli_csv_field(stdout, ev->inbound);
		printf(",");
		cli_csv_field(stdout, ev->rule);
		printf(",");
		cli_csv_field(stdout, ev->text);
		printf(",");
		cli_csv_field(stdout, ev->actor);
		printf(",");
		cli_csv_field(stdout, ev->note);
		printf(",");
		cli_csv_field(stdout, ev->consent);
		printf(",%s,", ev->last.time != 0 ?
		    cli_time_format(ev->last.time, lts, sizeof(lts)) : "");
		cli_csv_field(stdout, ev->last.account);
		printf(",");
		cli_csv_field(stdout, ev->last.category);
		printf("\n");
		break;
	}
	return 0;
}

static int
cli_cmd_history(struct cli_ctx *c)
{
	char	 num[STORE_NUMBER_MAX];

	if (c->args.npos != 1) {
		cli_usage("history");
		return 2;
	}
	if (cli_number(c, c->args.pos[0], num, sizeof(num)) == -1)
		return 1;
	if (c->format == CLI_FORMAT_CSV)
		printf("event_id,time,number,action,scope,source,inbound,rule,"
		    "text,actor,note,consent,last_sent_time,last_sent_account,"
		    "last_sent_category\n");
	if (store_history(c->st, num, cli_history_row, c) == -1) {
		fprintf(stderr, "stopgate: store: %s\n", store_errmsg(c->st));
		return 1;
	}
	return 0;
}

/* --- import / export ---------------------------------------------- */

enum { COL_NUMBER = 0, COL_CATEGORY, COL_NOTE, COL_TIME, NCOLS };
static const char *const import_cols[NCOLS] = { "number", "category",
	"note", "time" };

/* Map header fields to columns. Returns 0 or -1 (message on stderr). */
static int
cli_import_header(const char *path, char **f, size_t n, int map[NCOLS])
{
	size_t	 i;
	int	 k;

	for (k = 0; k < NCOLS; k++)
		map[k] = -1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < NCOLS; k++)
			if (strcasecmp(f[i], import_cols[k]) == 0)
				break;
		if (k == NCOLS) {
			fprintf(stderr, "%s:1: unknown column \"%s\" (columns: "
			    "number, category, note, time)\n", path, f[i]);
			return -1;
		}
		if (map[k] != -1) {
			fprintf(stderr, "%s:1: column \"%s\" appears twice\n",
			    path, f[i]);
			return -1;
		}
		map[k] = (int)i;
	}
	if (map[COL_NUMBER] == -1) {
		fprintf(stderr, "%s:1: no \"number\" column in the header "
		    "row\n", path);
		return -1;
	}
	return 0;
}

/* Validate one data row into ev. Returns 0 or -1 (message on stderr). */
static int
cli_import_row(struct cli_ctx *c, const char *path, unsigned line,
    char **f, size_t n, size_t ncols, const int map[NCOLS], int64_t now,
    struct store_event *ev)
{
	const char	*num, *cat, *note, *ts;
	int64_t		 t = now;

	if (n != ncols) {
		fprintf(stderr, "%s:%u: %zu fields, the header has %zu\n", path,
		    line, n, ncols);
		return -1;
	}
	num = f[map[COL_NUMBER]];
	cat = map[COL_CATEGORY] >= 0 ? f[map[COL_CATEGORY]] : "";
	note = map[COL_NOTE] >= 0 ? f[map[COL_NOTE]] : "";
	ts = map[COL_TIME] >= 0 ? f[map[COL_TIME]] : "";
	memset(ev, 0, sizeof(*ev));
	if (smpp_number_parse_text(num, &c->cfg->number_rules, ev->number,
	    sizeof(ev->number)) == -1) {
		fprintf(stderr, "%s:%u: not a phone number: \"%s\"\n", path,
		    line, num);
		return -1;
	}
	if (cat[0] == '\0' || strcasecmp(cat, "all") == 0)
		ev->all = true;
	else if (config_category_find(c->cfg, cat) < 0) {
		fprintf(stderr, "%s:%u: unknown category \"%s\"\n", path, line,
		    cat);
		return -1;
	} else {
		ev->ncategories = 1;
		snprintf(ev->categories[0], STORE_NAME_MAX, "%s", cat);
	}
	if (ts[0] != '\0') {
		if (cli_time_parse(ts, &t) == -1) {
			fprintf(stderr, "%s:%u: time \"%s\" is not RFC 3339 "
			    "(2026-01-31T09:00:00Z)\n", path, line, ts);
			return -1;
		}
		if (t > now + 300) {
			fprintf(stderr, "%s:%u: time \"%s\" is in the "
			    "future\n", path, line, ts);
			return -1;
		}
	}
	if (strlen(note) >= sizeof(ev->note)) {
		fprintf(stderr, "%s:%u: note longer than %zu bytes\n", path,
		    line, sizeof(ev->note) - 1);
		return -1;
	}
	memcpy(ev->note, note, strlen(note) + 1);
	ev->time = t;
	ev->action = STORE_OPT_OUT;
	ev->source = STORE_SRC_IMPORT;
	snprintf(ev->actor, sizeof(ev->actor), "%s", c->args.actor != NULL ?
	    c->args.actor : cli_default_actor());
	return 0;
}

static int
cli_cmd_import(struct cli_ctx *c)
{
	struct cli_csv		*csv;
	struct store_event	*evs = NULL, *nevs;
	char			 err[256], **f;
	const char		*path;
	size_t			 n, ncols = 0, nev = 0, cap = 0;
	unsigned		 line;
	int			 map[NCOLS], r, rc = 1, bad = 0;
	int64_t			 now = (int64_t)time(NULL);

	if (c->args.npos != 1) {
		cli_usage("import");
		return 2;
	}
	path = c->args.pos[0];
	if ((csv = cli_csv_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "stopgate: %s\n", err);
		return 1;
	}
	if ((r = cli_csv_next(csv, &f, &n, &line, err, sizeof(err))) != 1) {
		fprintf(stderr, "%s: %s\n", path, r == 0 ? "empty file, "
		    "expected a header row" : err);
		goto out;
	}
	if (cli_import_header(path, f, n, map) == -1)
		goto out;
	ncols = n;
	/* Validate every row first; write only if all are good. */
	while ((r = cli_csv_next(csv, &f, &n, &line, err, sizeof(err))) ==
	    1) {
		if (n == 1 && f[0][0] == '\0')
			continue;	/* a line of spaces-free nothing */
		if (nev == cap) {
			if (cap >= CLI_IMPORT_MAX_ROWS) {
				fprintf(stderr, "%s:%u: more than %d rows; "
				    "split the file\n", path, line,
				    CLI_IMPORT_MAX_ROWS);
				goto out;
			}
			cap = cap == 0 ? 256 : cap * 2;
			if ((nevs = realloc(evs, cap * sizeof(*evs))) == NULL) {
				fprintf(stderr, "stopgate: out of memory\n");
				goto out;
			}
			evs = nevs;
		}
		if (cli_import_row(c, path, line, f, n, ncols, map, now,
		    &evs[nev]) == -1) {
			bad++;
			continue;
		}
		nev++;
	}
	if (r == -1) {
		fprintf(stderr, "%s: %s\n", path, err);
		goto out;
	}
	if (bad > 0) {
		fprintf(stderr, "stopgate: %d bad row%s in %s; nothing was "
		    "imported\n", bad, bad == 1 ? "" : "s", path);
		goto out;
	}
	if (nev > 0 && store_import(c->st, evs, nev) == -1) {
		fprintf(stderr, "stopgate: store: %s; nothing was imported\n",
		    store_errmsg(c->st));
		goto out;
	}
	printf("imported %zu opt-out%s from %s\n", nev, nev == 1 ? "" : "s",
	    path);
	rc = 0;
out:
	free(evs);
	cli_csv_free(csv);
	return rc;
}

static int
cli_export_row(const struct store_state_entry *e, void *arg)
{
	const struct cli_ctx	*c = arg;
	char			 ts[32];
	const char		*cat, *state;

	cat = strcmp(e->category, STORE_CATEGORY_ALL) == 0 ? "all" :
	    e->category;
	state = e->is_exception ? "opted_in" : "opted_out";
	cli_time_format(e->since, ts, sizeof(ts));
	if (c->format == CLI_FORMAT_JSONL) {
		printf("{\"number\":");
		cli_json_str(stdout, e->number);
		printf(",\"category\":");
		cli_json_str(stdout, cat);
		printf(",\"state\":\"%s\",\"since\":\"%s\",\"event_id\":%llu}"
		    "\n", state, ts, (unsigned long long)e->event_id);
	} else {
		cli_csv_field(stdout, e->number);
		printf(",");
		cli_csv_field(stdout, cat);
		printf(",%s,%s,%llu\n", state, ts,
		    (unsigned long long)e->event_id);
	}
	return 0;
}

static int
cli_cmd_export(struct cli_ctx *c)
{
	if (c->args.npos != 0) {
		cli_usage("export");
		return 2;
	}
	if (c->format == CLI_FORMAT_TEXT)
		c->format = CLI_FORMAT_CSV;	/* export is for machines */
	if (c->format == CLI_FORMAT_CSV)
		printf("number,category,state,since,event_id\n");
	if (store_state_all(c->st, cli_export_row, c) == -1) {
		fprintf(stderr, "stopgate: store: %s\n", store_errmsg(c->st));
		return 1;
	}
	return 0;
}

/* --- dispatch ----------------------------------------------------- */

int
cli_main(int argc, char *argv[])
{
	const struct cli_command	*cmd = NULL;
	struct cli_ctx			 c;
	struct config_errors		*errs;
	struct store_params		 sp;
	char				 buf[512], err[256];
	size_t				 i;
	int				 first = 1, rc;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], cli_commands[i].word1) != 0)
			continue;
		if (cli_commands[i].word2 == NULL) {
			cmd = &cli_commands[i];
			break;
		}
		if (argc > 1 && strcmp(argv[1], cli_commands[i].word2) == 0) {
			cmd = &cli_commands[i];
			first = 2;
			break;
		}
	}
	if (cmd == NULL) {
		if (cli_is_command(argv[0]))
			cli_usage(argv[0]);
		else {
			fprintf(stderr, "stopgate: unknown command: %s\n",
			    argv[0]);
			cli_usage(NULL);
		}
		return 2;
	}
	memset(&c, 0, sizeof(c));
	if (cli_args_parse(&c.args, argc, argv, first) == -1 ||
	    cli_format_parse(c.args.format, cmd->csv_ok, &c.format) == -1) {
		cli_usage(argv[0]);
		return 2;
	}
	if (c.args.config == NULL) {
		fprintf(stderr, "stopgate: -c FILE is required\n");
		cli_usage(argv[0]);
		return 2;
	}
	if ((errs = calloc(1, sizeof(*errs))) == NULL)
		return 1;
	if ((c.cfg = config_load_flags(c.args.config,
	    CONFIG_LOAD_NO_SECRETS, errs)) == NULL) {
		for (i = 0; i < errs->count && i < CONFIG_ERRORS_MAX; i++)
			fprintf(stderr, "%s\n", config_error_format(errs, i,
			    buf, sizeof(buf)));
		free(errs);
		return 1;
	}
	free(errs);
	memset(&sp, 0, sizeof(sp));
	sp.map_mb = c.cfg->store_map_mb;
	if ((c.st = store_open(c.cfg->store_path, &sp, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "stopgate: store %s: %s\n", c.cfg->store_path,
		    err);
		config_free(c.cfg);
		return 1;
	}
	rc = cmd->fn(&c);
	if (fflush(stdout) == EOF && rc == 0) {
		fprintf(stderr, "stopgate: writing output: %s\n",
		    strerror(errno));
		rc = 1;
	}
	store_free(c.st);
	config_free(c.cfg);
	return rc;
}
