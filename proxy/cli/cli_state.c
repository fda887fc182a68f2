/*
 * The CLI's commands on a number's opt-out state: status, optout add /
 * remove, history, and export of the whole state. The checks and the
 * records' machine shapes are proxy/compliance's; this file parses the
 * flags and prints.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "proxy/cli/cli_int.h"
#include "proxy/compliance/compliance.h"
#include "proxy/compliance/encode.h"
#include "proxy/compliance/freqstat.h"
#include "proxy/compliance/optout.h"
#include "proxy/compliance/rfc3339.h"
#include "store/store.h"

/* --- status ------------------------------------------------------- */

struct cli_status {
	const struct cli_ctx	*c;
	const char		*number;
	struct compliance_err	*err;	/* set when a row fails */
};

/* A row of a category with a frequency cap (SPEC §9). */
static void
cli_status_prefs(const struct cli_status *s, const char *category,
    bool is_blocked, const struct store_block *why, const struct freqstat *fs)
{
	FILE	*out = s->c->out;
	char	 ts[RFC3339_MAX];

	if (s->c->format == CLI_FORMAT_JSONL) {
		encode_status_json_prefs(out, s->number, category, is_blocked,
		    why, fs);
		fputc('\n', out);
		return;
	}
	if (is_blocked)
		fprintf(out, "  %-16s blocked  since %s  event %" PRIu64 "%s",
		    category, rfc3339_format(why->since, ts, sizeof(ts)),
		    why->event_id, why->is_global ? "  (all categories)" : "");
	else
		fprintf(out, "  %-16s allowed", category);
	fprintf(out, "  %s%u of %u left per %" PRId64 "s\n",
	    fs->is_less ? "LESS  " : "", fs->left, fs->max, fs->per_s);
}

static int
cli_status_row(const char *category, bool is_blocked,
    const struct store_block *why, void *arg)
{
	const struct cli_status	*s = arg;
	FILE			*out = s->c->out;
	char			 ts[RFC3339_MAX];
	struct freqstat		 fs;

	if (freqstat_category(s->c->st, s->c->cfg, s->number, category,
	    (int64_t)time(NULL), &fs) == -1)
		return compliance_fail_store(s->err, s->c->st, false);
	if (fs.has_cap && s->c->format != CLI_FORMAT_CSV) {
		cli_status_prefs(s, category, is_blocked, why, &fs);
		return 0;
	}
	switch (s->c->format) {
	case CLI_FORMAT_TEXT:
		if (is_blocked)
			fprintf(out, "  %-16s blocked  since %s  event %" PRIu64
			    "%s\n", category, rfc3339_format(why->since, ts,
			    sizeof(ts)), why->event_id, why->is_global ?
			    "  (all categories)" : "");
		else
			fprintf(out, "  %-16s allowed\n", category);
		break;
	case CLI_FORMAT_JSONL:
		encode_status_json(out, s->number, category, is_blocked, why);
		fputc('\n', out);
		break;
	case CLI_FORMAT_CSV:
		encode_status_csv(out, s->number, category, is_blocked, why);
		fputc('\n', out);
		break;
	}
	return 0;
}

int
cli_cmd_status(struct cli_ctx *c)
{
	struct compliance_err	 err;
	struct cli_status	 s;
	char			 num[STORE_NUMBER_MAX];
	int			 rc;

	/* With a cluster, `status` alone shows the replication. */
	if (c->args.npos == 0 && c->cfg->has_cluster)
		return cli_cluster_status(c);
	if ((rc = cli_number_arg(c, "status", num)) != 0)
		return rc;
	if (c->format == CLI_FORMAT_TEXT)
		fprintf(c->out, "%s\n", num);
	else if (c->format == CLI_FORMAT_CSV)
		fprintf(c->out, "%s\n", ENCODE_STATUS_CSV_HEADER);
	s.c = c;
	s.number = num;
	s.err = &err;
	if (optout_status(c->st, c->cfg, num, cli_status_row, &s, &err) != 0)
		return cli_fail(c, &err);
	return cli_cluster_status(c);
}

/* --- optout add / remove ------------------------------------------ */

static int
cli_optout(struct cli_ctx *c, enum store_action action)
{
	struct optout_request	 rq;
	struct compliance_err	 err;
	struct store_event	*ev;
	char			 scope[ENCODE_SCOPE_MAX];
	int			 rc = 1;

	if (c->args.npos != 1)
		return cli_usage(c->err, "optout");
	memset(&rq, 0, sizeof(rq));
	cli_act(c, &rq.act);
	if (c->args.source != NULL &&
	    (store_source_parse(c->args.source, &rq.act.source) == -1 ||
	    rq.act.source == STORE_SRC_SMS_KEYWORD)) {
		fprintf(c->err, "stopgate: --source must be staff, api or "
		    "import\n");
		return 1;
	}
	if ((ev = malloc(sizeof(*ev))) == NULL)
		return 1;
	rq.action = action;
	rq.number = c->args.pos[0];
	rq.consent = c->args.consent;
	if (optout_record(c->st, c->cfg, &rq, ev, &err) == -1) {
		rc = cli_fail(c, &err);
		goto out;
	}
	fprintf(c->out, "%s %s %s %s (event %" PRIu64 ")\n",
	    action == STORE_OPT_OUT ? "opted out:" : "opted in:", ev->number,
	    action == STORE_OPT_OUT ? "from" : "to",
	    encode_scope_text(ev, scope, sizeof(scope)), ev->id);
	rc = 0;
out:
	free(ev);
	return rc;
}

int
cli_cmd_optout_add(struct cli_ctx *c)
{
	return cli_optout(c, STORE_OPT_OUT);
}

int
cli_cmd_optout_remove(struct cli_ctx *c)
{
	return cli_optout(c, STORE_OPT_IN);
}

/* --- history ------------------------------------------------------ */

/* One event for people. */
static int
cli_history_text(const struct store_event *ev, void *arg)
{
	const struct cli_ctx	*c = arg;
	FILE			*out = c->out;
	char			 ts[RFC3339_MAX], scope[ENCODE_SCOPE_MAX];

	fprintf(out, "%s  event %" PRIu64 "  %-7s %-20s source=%s",
	    rfc3339_format(ev->time, ts, sizeof(ts)), ev->id,
	    store_action_name(ev->action), encode_scope_text(ev, scope,
	    sizeof(scope)), store_source_name(ev->source));
	if (ev->source == STORE_SRC_SMS_KEYWORD) {
		fprintf(out, " inbound=%s rule=%s text=\"", ev->inbound,
		    ev->rule);
		cli_put_text(out, ev->text);
		fputc('"', out);
	} else {
		fputs(" actor=", out);
		cli_put_text(out, ev->actor);
	}
	if (ev->note[0] != '\0') {
		fputs(" note=\"", out);
		cli_put_text(out, ev->note);
		fputc('"', out);
	}
	if (ev->consent[0] != '\0') {
		fputs(" consent=\"", out);
		cli_put_text(out, ev->consent);
		fputc('"', out);
	}
	if (ev->action == STORE_OPT_OUT && ev->last.time != 0) {
		fputs(" last_sent=", out);
		cli_put_text(out, ev->last.account);
		fputc('/', out);
		cli_put_text(out, ev->last.category);
		fprintf(out, "@%s", rfc3339_format(ev->last.time, ts,
		    sizeof(ts)));
	}
	fputc('\n', out);
	return 0;
}

int
cli_cmd_history(struct cli_ctx *c)
{
	char	 num[STORE_NUMBER_MAX];
	int	 r;

	if ((r = cli_number_arg(c, "history", num)) != 0)
		return r;
	if (c->format == CLI_FORMAT_TEXT)
		r = store_history(c->st, num, cli_history_text, c);
	else
		r = store_history(c->st, num, encode_list_event, cli_list(c,
		    ENCODE_EVENT_CSV_HEADER));
	return r == -1 ? cli_fail_store(c) : 0;
}

/* --- export ------------------------------------------------------- */

int
cli_cmd_export(struct cli_ctx *c)
{
	if (c->args.npos != 0)
		return cli_usage(c->err, "export");
	if (c->format == CLI_FORMAT_TEXT)
		c->format = CLI_FORMAT_CSV;	/* export is for machines */
	if (store_state_all(c->st, encode_list_state, cli_list(c,
	    ENCODE_STATE_CSV_HEADER)) == -1)
		return cli_fail_store(c);
	return 0;
}
