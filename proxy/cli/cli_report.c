/*
 * The compliance CLI's reports: audit (rejected sends), stats (what drives
 * opt-outs) and the staff review queue.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "proxy/cli/cli_int.h"
#include "store/store.h"

/* --- audit -------------------------------------------------------- */

static int
cli_audit_row(const struct store_audit *a, void *arg)
{
	const struct cli_ctx	*c = arg;
	char			 ts[32], sha[65], reason[64];

	cli_time_format(a->time, ts, sizeof(ts));
	cli_hex(a->body_sha256, sizeof(a->body_sha256), sha);
	cli_audit_reason(a->event_id, reason, sizeof(reason));
	switch (c->format) {
	case CLI_FORMAT_TEXT:
		printf("%s  account=%s category=%s service_type=%s source=%s "
		    "destination=%s status=0x%08x reason=\"%s\" "
		    "body_len=%u\n", ts, a->account, a->category,
		    a->service_type, a->source, a->destination, a->status,
		    reason, a->body_len);
		break;
	case CLI_FORMAT_JSONL:
		printf("{\"id\":%" PRIu64 ",\"time\":\"%s\",\"account\":",
		    a->id, ts);
		cli_json_str(stdout, a->account);
		printf(",\"category\":");
		cli_json_str(stdout, a->category);
		printf(",\"service_type\":");
		cli_json_str(stdout, a->service_type);
		printf(",\"source\":");
		cli_json_str(stdout, a->source);
		printf(",\"destination\":");
		cli_json_str(stdout, a->destination);
		printf(",\"status\":\"0x%08x\",\"reason\":\"%s\","
		    "\"event_id\":%" PRIu64 ",\"body_len\":%u,"
		    "\"body_sha256\":\"%s\"}\n", a->status, reason,
		    a->event_id, a->body_len, sha);
		break;
	case CLI_FORMAT_CSV:
		printf("%s,", ts);
		cli_csv_field(stdout, a->account);
		printf(",");
		cli_csv_field(stdout, a->category);
		printf(",");
		cli_csv_field(stdout, a->service_type);
		printf(",");
		cli_csv_field(stdout, a->source);
		printf(",");
		cli_csv_field(stdout, a->destination);
		printf(",0x%08x,", a->status);
		cli_csv_field(stdout, reason);
		printf(",%" PRIu64 ",%u,%s\n", a->event_id, a->body_len, sha);
		break;
	}
	return 0;
}

int
cli_cmd_audit(struct cli_ctx *c)
{
	struct store_audit_filter	 f;
	char				 num[STORE_NUMBER_MAX];

	if (c->args.npos != 0) {
		fprintf(stderr, "stopgate: audit takes no arguments "
		    "(filters are --since, --until, --number, --account, "
		    "--category)\n");
		return 2;
	}
	memset(&f, 0, sizeof(f));
	if (c->args.since != NULL && cli_time_parse(c->args.since,
	    &f.since) == -1) {
		fprintf(stderr, "stopgate: --since \"%s\" is not RFC 3339\n",
		    c->args.since);
		return 1;
	}
	if (c->args.until != NULL && cli_time_parse(c->args.until,
	    &f.until) == -1) {
		fprintf(stderr, "stopgate: --until \"%s\" is not RFC 3339\n",
		    c->args.until);
		return 1;
	}
	if (c->args.number != NULL) {
		if (cli_number(c, c->args.number, num, sizeof(num)) == -1)
			return 1;
		f.number = num;
	}
	if (c->args.category != NULL &&
	    config_category_find(c->cfg, c->args.category) < 0) {
		fprintf(stderr, "stopgate: unknown category \"%s\"\n",
		    c->args.category);
		return 1;
	}
	f.account = c->args.account;
	f.category = c->args.category;
	if (c->format == CLI_FORMAT_CSV)
		printf("time,account,category,service_type,source,destination,"
		    "status,reason,event_id,body_len,body_sha256\n");
	if (store_audit_query(c->st, &f, cli_audit_row, c) == -1) {
		fprintf(stderr, "stopgate: store: %s\n", store_errmsg(c->st));
		return 1;
	}
	return 0;
}

/* --- stats -------------------------------------------------------- */

struct tally {
	char	 key[80];
	size_t	 n;
};

struct tallies {
	struct tally	*t;		/* owned */
	size_t		 n, cap;
};

struct stats {
	struct tallies	 category, source, day, driver;
	size_t		 opt_outs, opt_ins;
	int64_t		 since;
	bool		 nomem;
};

static void
tally_add(struct stats *s, struct tallies *ts, const char *key)
{
	struct tally	*nt;
	size_t		 i;

	for (i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].key, key) == 0) {
			ts->t[i].n++;
			return;
		}
	if (ts->n == ts->cap) {
		ts->cap = ts->cap == 0 ? 16 : ts->cap * 2;
		if ((nt = realloc(ts->t, ts->cap * sizeof(*nt))) == NULL) {
			s->nomem = true;
			return;
		}
		ts->t = nt;
	}
	snprintf(ts->t[ts->n].key, sizeof(ts->t[ts->n].key), "%s", key);
	ts->t[ts->n].n = 1;
	ts->n++;
}

static int
stats_event(const struct store_event *ev, void *arg)
{
	struct stats	*s = arg;
	struct tm	 tm;
	time_t		 t = (time_t)ev->time;
	char		 day[16], drv[80];
	size_t		 i;

	if (ev->time < s->since)
		return 0;
	if (ev->action == STORE_OPT_IN) {
		s->opt_ins++;
		return 0;
	}
	s->opt_outs++;
	if (ev->all)
		tally_add(s, &s->category, "all");
	for (i = 0; i < ev->ncategories; i++)
		tally_add(s, &s->category, ev->categories[i]);
	tally_add(s, &s->source, store_source_name(ev->source));
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	tally_add(s, &s->day, day);
	if (ev->last.time != 0)
		snprintf(drv, sizeof(drv), "%s/%s", ev->last.account,
		    ev->last.category);
	else
		snprintf(drv, sizeof(drv), "(nothing sent before)");
	tally_add(s, &s->driver, drv);
	return s->nomem ? -1 : 0;
}

static int
tally_cmp(const void *a, const void *b)
{
	const struct tally	*x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int
tally_cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct tally *)a)->key,
	    ((const struct tally *)b)->key);
}

static void
stats_print(const struct cli_ctx *c, const char *title, const char *dim,
    struct tallies *ts, bool by_key)
{
	size_t	 i;

	qsort(ts->t, ts->n, sizeof(*ts->t), by_key ? tally_cmp_key :
	    tally_cmp);
	if (c->format == CLI_FORMAT_TEXT)
		printf("\n%s\n", title);
	for (i = 0; i < ts->n; i++) {
		if (c->format == CLI_FORMAT_TEXT)
			printf("  %-40s %8zu\n", ts->t[i].key, ts->t[i].n);
		else {
			printf("{\"by\":\"%s\",\"key\":", dim);
			cli_json_str(stdout, ts->t[i].key);
			printf(",\"opt_outs\":%zu}\n", ts->t[i].n);
		}
	}
}

int
cli_cmd_stats(struct cli_ctx *c)
{
	struct stats	 s;
	int		 rc = 1;

	memset(&s, 0, sizeof(s));
	if (c->args.since != NULL && cli_time_parse(c->args.since,
	    &s.since) == -1) {
		fprintf(stderr, "stopgate: --since \"%s\" is not RFC 3339\n",
		    c->args.since);
		return 1;
	}
	if (store_events_since(c->st, 0, 0, stats_event, &s) != 0) {
		fprintf(stderr, "stopgate: %s\n", s.nomem ? "out of memory" :
		    store_errmsg(c->st));
		goto out;
	}
	if (c->format == CLI_FORMAT_TEXT)
		printf("opt-outs %zu, opt-ins %zu\n", s.opt_outs, s.opt_ins);
	else
		printf("{\"opt_outs\":%zu,\"opt_ins\":%zu}\n", s.opt_outs,
		    s.opt_ins);
	stats_print(c, "opt-outs by category:", "category", &s.category,
	    false);
	stats_print(c, "opt-outs by source:", "source", &s.source, false);
	stats_print(c, "opt-outs by what was sent last (account/category):",
	    "last_sent", &s.driver, false);
	stats_print(c, "opt-outs by day (UTC):", "day", &s.day, true);
	rc = 0;
out:
	free(s.category.t);
	free(s.source.t);
	free(s.day.t);
	free(s.driver.t);
	return rc;
}

/* --- review ------------------------------------------------------- */

static void
cli_age(int64_t secs, char *buf, size_t cap)
{
	if (secs < 0)
		secs = 0;
	if (secs < 3600)
		snprintf(buf, cap, "%" PRId64 "m", secs / 60);
	else if (secs < 86400)
		snprintf(buf, cap, "%" PRId64 "h%02" PRId64 "m", secs / 3600,
		    (secs % 3600) / 60);
	else
		snprintf(buf, cap, "%" PRId64 "d%02" PRId64 "h", secs / 86400,
		    (secs % 86400) / 3600);
}

static int
cli_review_row(const struct store_review *r, void *arg)
{
	const struct cli_ctx	*c = arg;
	char			 ts[32], age[32];
	int64_t			 now = (int64_t)time(NULL);

	cli_time_format(r->time, ts, sizeof(ts));
	cli_age(now - r->time, age, sizeof(age));
	switch (c->format) {
	case CLI_FORMAT_TEXT:
		printf("%-6" PRIu64 " %s  age %-7s from %s to %s (%s): \"%s\"\n",
		    r->id, ts, age, r->number, r->inbound, r->account,
		    r->text);
		break;
	case CLI_FORMAT_JSONL:
		/* number and inbound come from the SMSC's addresses: an
		 * alphanumeric sender may hold quotes or commas. */
		printf("{\"id\":%" PRIu64 ",\"time\":\"%s\",\"age_seconds\":%"
		    PRId64 ",\"number\":", r->id, ts, now - r->time);
		cli_json_str(stdout, r->number);
		printf(",\"inbound\":");
		cli_json_str(stdout, r->inbound);
		printf(",\"account\":");
		cli_json_str(stdout, r->account);
		printf(",\"text\":");
		cli_json_str(stdout, r->text);
		printf("}\n");
		break;
	case CLI_FORMAT_CSV:
		printf("%" PRIu64 ",%s,%" PRId64 ",", r->id, ts, now - r->time);
		cli_csv_field(stdout, r->number);
		printf(",");
		cli_csv_field(stdout, r->inbound);
		printf(",");
		cli_csv_field(stdout, r->account);
		printf(",");
		cli_csv_field(stdout, r->text);
		printf("\n");
		break;
	}
	return 0;
}

int
cli_cmd_review_list(struct cli_ctx *c)
{
	if (c->format == CLI_FORMAT_CSV)
		printf("id,time,age_seconds,number,inbound,account,text\n");
	if (store_review_list(c->st, cli_review_row, c) == -1) {
		fprintf(stderr, "stopgate: store: %s\n", store_errmsg(c->st));
		return 1;
	}
	return 0;
}

int
cli_cmd_review_resolve(struct cli_ctx *c)
{
	struct store_review	 r;
	struct store_event	*ev = NULL;
	enum store_review_status decision;
	const char		*actor;
	char			*end;
	uint64_t		 id;
	int			 rc = 1, found;
	bool			 has_scope;

	if (c->args.npos != 1 || c->args.optout == c->args.dismiss) {
		fprintf(stderr, "usage: stopgate review resolve -c FILE ID "
		    "(--optout [--category C ... | --all] | --dismiss) "
		    "--note TEXT\n");
		return 2;
	}
	id = strtoull(c->args.pos[0], &end, 10);
	if (*c->args.pos[0] == '\0' || *end != '\0' || id == 0) {
		fprintf(stderr, "stopgate: review id \"%s\" is not a number\n",
		    c->args.pos[0]);
		return 1;
	}
	if (c->args.note == NULL || c->args.note[0] == '\0') {
		fprintf(stderr, "stopgate: --note TEXT is required: say why\n");
		return 1;
	}
	if (strlen(c->args.note) >= sizeof(r.note)) {
		fprintf(stderr, "stopgate: --note longer than %zu bytes\n",
		    sizeof(r.note) - 1);
		return 1;
	}
	actor = c->args.actor != NULL ? c->args.actor : cli_default_actor();
	if ((found = store_review_get(c->st, id, &r)) != 1) {
		fprintf(stderr, "stopgate: %s\n", found == 0 ?
		    "no such review item" : store_errmsg(c->st));
		return 1;
	}
	if (r.status != STORE_REVIEW_OPEN) {
		fprintf(stderr, "stopgate: review item %" PRIu64 " was already "
		    "resolved by %s\n", id, r.actor);
		return 1;
	}
	decision = STORE_REVIEW_DISMISSED;
	if (c->args.optout) {
		/* The flags give the scope, else the number written to. */
		has_scope = c->args.all || c->args.ncategories > 0;
		decision = STORE_REVIEW_OPTED_OUT;
		if ((ev = calloc(1, sizeof(*ev))) == NULL)
			return 1;
		if (has_scope && cli_scope(c, ev) == -1)
			goto out;
		cli_review_optout(c->cfg, &r, has_scope, STORE_SRC_STAFF, actor,
		    c->args.note, (int64_t)time(NULL), ev);
	}
	if (store_review_resolve(c->st, id, decision, actor, c->args.note,
	    (int64_t)time(NULL), ev) == -1) {
		fprintf(stderr, "stopgate: store: %s (nothing changed)\n",
		    store_errmsg(c->st));
		goto out;
	}
	if (ev != NULL)
		printf("review %" PRIu64 ": opted out %s (event %" PRIu64 ")\n",
		    id, r.number, ev->id);
	else
		printf("review %" PRIu64 ": dismissed\n", id);
	rc = 0;
out:
	free(ev);
	return rc;
}
