/*
 * The CLI's reports: audit (rejected sends), stats (what drives opt-outs)
 * and the staff review queue.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/cli/cli_int.h"
#include "proxy/compliance/compliance.h"
#include "proxy/compliance/encode.h"
#include "proxy/compliance/optout.h"
#include "proxy/compliance/rfc3339.h"
#include "proxy/compliance/stats.h"
#include "store/store.h"

/* --- audit -------------------------------------------------------- */

static int
cli_audit_text(const struct store_audit *a, void *arg)
{
	const struct cli_ctx	*c = arg;
	char			 ts[RFC3339_MAX], reason[64];

	fprintf(c->out, "%s  account=", rfc3339_format(a->time, ts,
	    sizeof(ts)));
	cli_put_text(c->out, a->account);
	fputs(" category=", c->out);
	cli_put_text(c->out, a->category);
	fputs(" service_type=", c->out);
	cli_put_text(c->out, a->service_type);
	fputs(" source=", c->out);
	cli_put_text(c->out, a->source);
	fputs(" destination=", c->out);
	cli_put_text(c->out, a->destination);
	fprintf(c->out, " status=0x%08x reason=\"%s\" body_len=%u\n",
	    a->status, encode_audit_why(a, reason, sizeof(reason)),
	    a->body_len);
	return 0;
}

int
cli_cmd_audit(struct cli_ctx *c)
{
	struct compliance_audit_query	 q;
	struct store_audit_filter	 f;
	struct compliance_err		 err;
	char				 num[STORE_NUMBER_MAX];
	int				 r;

	if (c->args.npos != 0) {
		fprintf(c->err, "stopgate: audit takes no arguments "
		    "(filters are --since, --until, --number, --account, "
		    "--category)\n");
		return 2;
	}
	q.since = c->args.since;
	q.until = c->args.until;
	q.number = c->args.number;
	q.account = c->args.account;
	q.category = c->args.category;
	if (compliance_audit_filter(c->cfg, &q, &f, num, &err) == -1)
		return cli_fail(c, &err);
	if (c->format == CLI_FORMAT_TEXT)
		r = store_audit_query(c->st, &f, cli_audit_text, c);
	else
		r = store_audit_query(c->st, &f, encode_list_audit, cli_list(c,
		    ENCODE_AUDIT_CSV_HEADER));
	return r == -1 ? cli_fail_store(c) : 0;
}

/* --- stats -------------------------------------------------------- */

/* One "key  count" line of the stats table; the key escaped (it may hold
 * an account or category name from an old config). */
static void
cli_stats_row(FILE *out, const char *key, size_t n)
{
	char	 buf[256];
	FILE	*fp;

	memset(buf, 0, sizeof(buf));
	if ((fp = fmemopen(buf, sizeof(buf) - 1, "w")) != NULL) {
		cli_put_text(fp, key);
		fclose(fp);
	}
	fprintf(out, "  %-40s %8zu\n", buf, n);
}

/* Subscriber preferences (SPEC §9): LESS and the refused sends. */
static void
cli_stats_prefs(struct cli_ctx *c, const struct stats *s)
{
	size_t	 i;

	if (c->format != CLI_FORMAT_TEXT) {
		for (i = 0; i < s->nprefs; i++) {
			stats_prefs_json(c->out, &s->prefs[i]);
			fputc('\n', c->out);
		}
		return;
	}
	if (s->nprefs == 0)
		return;
	fprintf(c->out, "\npreferences: LESS %zu, refused for a cap %zu, "
	    "in quiet hours %zu\n", s->less, s->frequency_cap,
	    s->quiet_hours);
	fprintf(c->out, "  %-40s %8s %8s %8s\n", "category or account/category",
	    "less", "cap", "quiet");
	for (i = 0; i < s->nprefs; i++)
		fprintf(c->out, "  %-40.40s %8zu %8zu %8zu\n", s->prefs[i].key,
		    s->prefs[i].less, s->prefs[i].frequency_cap,
		    s->prefs[i].quiet_hours);
}

int
cli_cmd_stats(struct cli_ctx *c)
{
	static const char *const titles[STATS_NDIMS] = {
		"opt-outs by category:",
		"opt-outs by source:",
		"opt-outs by what was sent last (account/category):",
		"opt-outs by day (UTC):",
	};
	struct compliance_err	 err;
	struct stats		 s;
	int64_t			 since = 0;
	size_t			 d, i;

	if (c->args.since != NULL && rfc3339_parse(c->args.since,
	    &since) == -1) {
		fprintf(c->err, "stopgate: --since \"%s\" is not RFC 3339\n",
		    c->args.since);
		return 1;
	}
	if (stats_collect(c->st, since, &s, &err) == -1)
		return cli_fail(c, &err);
	if (c->format == CLI_FORMAT_TEXT)
		fprintf(c->out, "opt-outs %zu, opt-ins %zu\n", s.opt_outs,
		    s.opt_ins);
	else {
		stats_totals_json(c->out, &s);
		fputc('\n', c->out);
	}
	cli_stats_prefs(c, &s);
	for (d = 0; d < STATS_NDIMS; d++) {
		if (c->format == CLI_FORMAT_TEXT)
			fprintf(c->out, "\n%s\n", titles[d]);
		for (i = 0; i < s.by[d].n; i++) {
			if (c->format == CLI_FORMAT_TEXT)
				cli_stats_row(c->out, s.by[d].t[i].key,
				    s.by[d].t[i].n);
			else {
				stats_tally_json(c->out, (enum stats_dim)d,
				    &s.by[d].t[i]);
				fputc('\n', c->out);
			}
		}
	}
	stats_free(&s);
	return 0;
}

/* --- review ------------------------------------------------------- */

/* An age for people: 42m, 3h05m, 2d04h. */
static const char *
cli_age(int64_t secs, char *buf, size_t cap)
{
	if (secs < 3600)
		snprintf(buf, cap, "%" PRId64 "m", secs / 60);
	else if (secs < 86400)
		snprintf(buf, cap, "%" PRId64 "h%02" PRId64 "m", secs / 3600,
		    (secs % 3600) / 60);
	else
		snprintf(buf, cap, "%" PRId64 "d%02" PRId64 "h", secs / 86400,
		    (secs % 86400) / 3600);
	return buf;
}

static int
cli_review_text(const struct store_review *r, void *arg)
{
	const struct cli_ctx	*c = arg;
	char			 ts[RFC3339_MAX], age[32];

	fprintf(c->out, "%-6" PRIu64 " %s  age %-7s from %s to %s (%s): "
	    "\"", r->id, rfc3339_format(r->time, ts, sizeof(ts)),
	    cli_age(encode_age(r->time, (int64_t)time(NULL)), age,
	    sizeof(age)), r->number, r->inbound, r->account);
	cli_put_text(c->out, r->text);
	fputs("\"\n", c->out);
	return 0;
}

int
cli_cmd_review_list(struct cli_ctx *c)
{
	int	 r;

	if (c->format == CLI_FORMAT_TEXT)
		r = store_review_list(c->st, cli_review_text, c);
	else
		r = store_review_list(c->st, encode_list_review, cli_list(c,
		    ENCODE_REVIEW_CSV_HEADER));
	return r == -1 ? cli_fail_store(c) : 0;
}

int
cli_cmd_review_resolve(struct cli_ctx *c)
{
	struct optout_resolution rs;
	struct compliance_err	 err;
	struct store_review	 rv;
	struct store_event	*ev;
	int			 rc;

	if (c->args.npos != 1 || c->args.optout == c->args.dismiss) {
		fprintf(c->err, "usage: stopgate review resolve -c FILE ID "
		    "(--optout [--category C ... | --all] | --dismiss) "
		    "--note TEXT\n");
		return 2;
	}
	memset(&rs, 0, sizeof(rs));
	if (compliance_review_id(c->args.pos[0], &rs.id, &err) == -1)
		return cli_fail(c, &err);
	if ((ev = malloc(sizeof(*ev))) == NULL)
		return 1;
	rs.decision = c->args.optout ? STORE_REVIEW_OPTED_OUT :
	    STORE_REVIEW_DISMISSED;
	cli_act(c, &rs.act);
	if ((rc = optout_review_resolve(c->st, c->cfg, &rs, &rv, ev,
	    &err)) == -1)
		rc = cli_fail(c, &err);
	else if (c->args.optout)
		fprintf(c->out, "review %" PRIu64 ": opted out %s (event %"
		    PRIu64 ")\n", rs.id, rv.number, ev->id);
	else
		fprintf(c->out, "review %" PRIu64 ": dismissed\n", rs.id);
	free(ev);
	return rc;
}
