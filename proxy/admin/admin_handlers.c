/*
 * The admin API's handlers for /healthz and /v1 (SPEC §6): each reads the
 * request, calls the compliance layer (the same operations and JSON
 * shapes as the CLI) and writes its body to r->fp.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "proxy/admin/admin.h"
#include "proxy/admin/admin_cluster.h"
#include "proxy/admin/admin_int.h"
#include "proxy/compliance/compliance.h"
#include "proxy/compliance/encode.h"
#include "proxy/compliance/freqstat.h"
#include "proxy/compliance/jsonout.h"
#include "proxy/compliance/optout.h"
#include "proxy/io/log.h"
#include "store/store.h"

/* The store failed a read: 503. */
static void
admin_fail_store(struct areq *r)
{
	struct compliance_err	 err;

	compliance_fail_store(&err, r->st, false);
	admin_fail_with(r, &err, 503);
}

/* Start a page of JSON array items on r's body, at most max, after
 * {"member":[ unless member is NULL. */
static struct encode_list *
admin_page(struct areq *r, struct encode_list *l, size_t max,
    const char *member)
{
	if (member != NULL)
		fprintf(r->fp, "{\"%s\":[", member);
	encode_list_init(l, r->fp, ENCODE_JSON_ARRAY, max, (int64_t)time(NULL),
	    NULL);
	return l;
}

/* End a page after its walk returned rc: close it and say whether more
 * follow, or answer 503. */
static void
admin_page_close(struct areq *r, const struct encode_list *l, int rc)
{
	if (rc == -1) {
		admin_fail_store(r);
		return;
	}
	fprintf(r->fp, "],\"more\":%s}", l->is_more ? "true" : "false");
	r->code = 200;
}

/*
 * The daemon's attribution not yet in the store, for an opt-out: only its
 * loop knows it, so it is asked there (called outside any store
 * transaction). No answer in time: the store's table alone, as the CLI.
 */
static bool
admin_lastsent(void *arg, const char *number, struct store_lastsent *out)
{
	struct areq		*r = arg;
	struct admin_call	 c;

	memset(&c, 0, sizeof(c));
	c.kind = ADMIN_CALL_LASTSENT;
	snprintf(c.number, sizeof(c.number), "%s", number);
	if (admin_call_run(r->a, &c) == -1 || !c.is_found)
		return false;
	*out = c.last;
	return true;
}

/* --- /healthz ------------------------------------------------------------ */

void
admin_h_healthz(struct areq *r)
{
	struct admin_call	 c;
	struct store_info	 info;
	const struct writer_health *wh = &c.fig.wh;
	size_t			 i;
	bool			 is_ok, is_loop, is_writing, is_sure;

	is_ok = store_info(r->st, &info) == 0;
	memset(&c, 0, sizeof(c));
	c.kind = ADMIN_CALL_FIGURES;
	/* A loop that does not answer is down, whatever the store says. */
	is_loop = admin_call_run(r->a, &c) == 0;
	/* A writer that cannot commit keeps records for a retry: the
	 * store is not taking writes, so the node is not healthy. */
	is_writing = !is_loop || !c.fig.has_writer || !wh->is_failing;
	/* A node unsure it has every fleet opt-out refuses sends: a load
	 * balancer should prefer another (SPEC §8). */
	is_sure = !c.fig.has_cluster || c.fig.cl.is_sure;
	fprintf(r->fp, "{\"status\":\"%s\"", !is_ok ? "store_error" :
	    !is_loop ? "loop_stalled" : !is_writing ? "store_write_failing" :
	    !is_sure ? "cluster_unsure" : "ok");
	if (!is_ok)
		jsonout_kv_str(r->fp, "error", store_errmsg(r->st), true);
	else if (!is_writing) {
		jsonout_kv_str(r->fp, "error", wh->reason, true);
		fprintf(r->fp, ",\"since\":%" PRId64 ",\"retained\":%" PRIu64,
		    wh->since, wh->retained);
	}
	fprintf(r->fp, ",\"upstreams\":{");
	for (i = 0; i < c.fig.npools; i++) {
		if (i > 0)
			fputc(',', r->fp);
		jsonout_str(r->fp, c.fig.pools[i].name);
		fprintf(r->fp, ":%s", c.fig.pools[i].is_bound ? "true" :
		    "false");
	}
	/* No token here: say no more than the status of each upstream. */
	fputc('}', r->fp);
	(void)admin_cluster_health(r->fp, &c.fig);
	fputc('}', r->fp);
	r->code = is_ok && is_loop && is_writing && is_sure ? 200 : 503;
	if (r->code != 200)	/* for the log line */
		snprintf(r->err, sizeof(r->err), "%s", !is_ok ?
		    "store unreadable" : !is_loop ?
		    "event loop did not answer" : !is_writing ?
		    "store writes failing" : "cluster node unsure");
	admin_figures_clear(&c.fig);
}

/* --- numbers ------------------------------------------------------------- */

/*
 * The number in the path, normalised into num (STORE_NUMBER_MAX bytes),
 * and the start of the answer about it: {"number":NUM,"member":open.
 * Returns 0 or -1 (answered 400).
 */
static int
admin_number_open(struct areq *r, char *num, const char *member, char open)
{
	struct compliance_err	 err;

	if (compliance_number(r->cfg, r->seg[2], num, STORE_NUMBER_MAX,
	    &err) == -1) {
		admin_fail_with(r, &err, 400);
		return -1;
	}
	fputc('{', r->fp);
	jsonout_kv_str(r->fp, "number", num, false);
	fprintf(r->fp, ",\"%s\":%c", member, open);
	return 0;
}

struct admin_status {
	struct areq	*r;
	const char	*number;
	struct compliance_err *err;	/* set when a row fails */
	size_t		 n;
};

static int
admin_status_member(const char *category, bool is_blocked,
    const struct store_block *why, void *arg)
{
	struct admin_status	*s = arg;
	FILE			*fp = s->r->fp;
	struct freqstat		 fs;

	/* A capped category's LESS and what is left, as `stopgate status`
	 * shows them (SPEC §9). */
	if (freqstat_category(s->r->st, s->r->cfg, s->number, category,
	    (int64_t)time(NULL), &fs) == -1)
		return compliance_fail_store(s->err, s->r->st, false);
	if (s->n++ > 0)
		fputc(',', fp);
	jsonout_str(fp, category);
	fputs(":{", fp);
	encode_status_members(fp, is_blocked, why);
	if (fs.has_cap)
		encode_prefs_members(fp, &fs);
	fputc('}', fp);
	return 0;
}

void
admin_h_number(struct areq *r)
{
	struct compliance_err	 err;
	struct admin_status	 s = { r, NULL, &err, 0 };
	char			 num[STORE_NUMBER_MAX];

	if (admin_number_open(r, num, "categories", '{') == -1)
		return;
	s.number = num;
	if (optout_status(r->st, r->cfg, num, admin_status_member,
	    &s, &err) != 0) {
		admin_fail_with(r, &err, 400);
		return;
	}
	fputs("}}", r->fp);
	r->code = 200;
}

void
admin_h_history(struct areq *r)
{
	struct encode_list	 pg;
	char			 num[STORE_NUMBER_MAX];

	if (admin_number_open(r, num, "events", '[') == -1)
		return;
	if (store_history(r->st, num, encode_list_event, admin_page(r,
	    &pg, ADMIN_PAGE_MAX, NULL)) == -1) {
		admin_fail_store(r);
		return;
	}
	fprintf(r->fp, "],\"truncated\":%s}", pg.is_more ? "true" : "false");
	r->code = 200;
}

/*
 * What every change through the API carries, from the body o: "note",
 * "actor" (default "api"), "categories" / "all" (views into o; sc holds
 * the array), source api, time now, the daemon's attribution. Returns 0
 * or -1 (answered).
 */
static int
admin_act(struct areq *r, json_t *o, struct optout_act *act,
    struct admin_scope *sc)
{
	memset(act, 0, sizeof(*act));
	if (admin_body_str(r, o, "note", false, &act->note) == -1 ||
	    admin_body_str(r, o, "actor", false, &act->actor) == -1 ||
	    admin_body_scope(r, o, sc) == -1)
		return -1;
	if (act->actor == NULL || act->actor[0] == '\0')
		act->actor = ADMIN_ACTOR_DEFAULT;
	act->source = STORE_SRC_API;
	/* A named user acts as themself, whatever the body says. */
	if (!r->who.is_shared) {
		act->actor = r->who.name;
		act->source = STORE_SRC_STAFF;
	}
	act->now = (int64_t)time(NULL);
	act->all = sc->all;
	act->categories = sc->names;
	act->ncategories = sc->n;
	act->lastsent = admin_lastsent;
	act->lastsent_arg = r;
	return 0;
}

/* The body of POST /v1/optouts or /v1/optins into rq (views into o). */
static int
admin_optout_body(struct areq *r, json_t *o, struct optout_request *rq,
    struct admin_scope *sc)
{
	if (admin_body_str(r, o, "number", true, &rq->number) == -1 ||
	    admin_act(r, o, &rq->act, sc) == -1 ||
	    admin_body_str(r, o, "consent", false, &rq->consent) == -1)
		return -1;
	if (rq->action == STORE_OPT_OUT && rq->consent != NULL &&
	    rq->consent[0] != '\0') {
		admin_fail(r, 400, "\"consent\" belongs to an opt-in");
		return -1;
	}
	return 0;
}

static void
admin_optout(struct areq *r, enum store_action action)
{
	static const char *const fields[] = { "number", "categories", "all",
		"note", "actor", "consent", NULL };
	struct optout_request	 rq;
	struct admin_scope	 sc = { false, NULL, 0 };
	struct compliance_err	 err;
	struct store_event	*ev = NULL;
	json_t			*o;

	if ((o = admin_body(r, fields)) == NULL)
		return;
	memset(&rq, 0, sizeof(rq));
	rq.action = action;
	if (admin_optout_body(r, o, &rq, &sc) == -1)
		goto out;
	if ((ev = malloc(sizeof(*ev))) == NULL) {
		admin_fail(r, 500, "out of memory");
		goto out;
	}
	if (optout_record(r->st, r->cfg, &rq, ev, &err) == -1) {
		admin_fail_with(r, &err, 422);
		goto out;
	}
	log_info("event=admin_%s number=%s event_id=%" PRIu64 " actor=\"%s\"",
	    store_action_name(action), ev->number, ev->id, ev->actor);
	encode_event_json(r->fp, ev);
	r->code = 201;
out:
	free(ev);
	admin_scope_free(&sc);
	json_decref(o);
}

void
admin_h_optouts(struct areq *r)
{
	admin_optout(r, STORE_OPT_OUT);
}

void
admin_h_optins(struct areq *r)
{
	admin_optout(r, STORE_OPT_IN);
}

/* --- feed and audit ------------------------------------------------------ */

void
admin_h_events(struct areq *r)
{
	static const char *const params[] = { "after", "limit", NULL };
	struct evkeyvalq	 q;
	struct encode_list	 pg;
	const char		*s;
	uint64_t		 after = 0;
	size_t			 limit;

	if (admin_query(r, &q, params) == -1 ||
	    admin_limit(r, &q, &limit) == -1)
		goto out;
	if ((s = evhttp_find_header(&q, "after")) != NULL &&
	    compliance_u64(s, &after) == -1) {
		admin_fail(r, 400, "after must be an event id (the \"next\" "
		    "of the previous page)");
		goto out;
	}
	admin_page(r, &pg, limit, "events")->last_id = after;
	/* One more than the page, to tell whether more follow. */
	if (store_events_since(r->st, after, limit + 1,
	    encode_list_event, &pg) == -1) {
		admin_fail_store(r);
		goto out;
	}
	fprintf(r->fp, "],\"next\":%" PRIu64 ",\"more\":%s}", pg.last_id,
	    pg.is_more ? "true" : "false");
	r->code = 200;
out:
	evhttp_clear_headers(&q);
}

/* A page of the audit log and where the next one starts. */
struct admin_audit_page {
	struct encode_list	 l;
	int64_t			 last_time;	/* of the last record shown */
	uint64_t		 last_id;
};

static int
admin_audit_record(const struct store_audit *a, void *arg)
{
	struct admin_audit_page	*p = arg;
	int			 rc = encode_list_audit(a, &p->l);

	if (!p->l.is_more) {
		p->last_time = a->time;
		p->last_id = a->id;
	}
	return rc;
}

/* ?after=TIME.ID (the "next" of the page before) into f. */
static int
admin_audit_after(struct areq *r, const char *s,
    struct store_audit_filter *f)
{
	char		*end;
	long long	 t;
	uint64_t	 id;

	t = strtoll(s, &end, 10);
	if (end == s || *end != '.' || compliance_u64(end + 1, &id) == -1 ||
	    id == 0) {
		admin_fail(r, 400, "after must be the \"next\" of the "
		    "previous page");
		return -1;
	}
	f->after_time = (int64_t)t;
	f->after_id = id;
	return 0;
}

/* Close an audit page: JSON with "next" and "more", or CSV whose next
 * page is named by the X-Next-After header. */
static void
admin_audit_close(struct areq *r, struct admin_audit_page *p, bool is_csv,
    int rc)
{
	char		 next[48];

	if (rc == -1) {
		admin_fail_store(r);
		return;
	}
	snprintf(next, sizeof(next), "%" PRId64 ".%" PRIu64, p->last_time,
	    p->last_id);
	if (is_csv) {
		r->ctype = "text/csv; charset=utf-8";
		if (p->l.is_more)
			evhttp_add_header(evhttp_request_get_output_headers(
			    r->req), "X-Next-After", next);
		r->code = 200;
		return;
	}
	fprintf(r->fp, "],\"more\":%s", p->l.is_more ? "true" : "false");
	if (p->l.is_more)
		jsonout_kv_str(r->fp, "next", next, true);
	fputc('}', r->fp);
	r->code = 200;
}

void
admin_h_audit(struct areq *r)
{
	static const char *const params[] = { "since", "until", "number",
		"account", "category", "reason", "limit", "after", "format",
		NULL };
	struct compliance_audit_query aq;
	struct store_audit_filter f;
	struct compliance_err	 err;
	struct admin_audit_page	 pg;
	struct evkeyvalq	 q;
	char			 num[STORE_NUMBER_MAX];
	const char		*s, *fmt;
	size_t			 limit;
	bool			 is_csv;

	if (admin_query(r, &q, params) == -1 ||
	    admin_limit(r, &q, &limit) == -1)
		goto out;
	fmt = evhttp_find_header(&q, "format");
	if (fmt != NULL && strcmp(fmt, "csv") != 0 &&
	    strcmp(fmt, "json") != 0) {
		admin_fail(r, 400, "format must be json or csv");
		goto out;
	}
	is_csv = fmt != NULL && strcmp(fmt, "csv") == 0;
	aq.since = evhttp_find_header(&q, "since");
	aq.until = evhttp_find_header(&q, "until");
	aq.number = evhttp_find_header(&q, "number");
	aq.account = evhttp_find_header(&q, "account");
	aq.category = evhttp_find_header(&q, "category");
	if (compliance_audit_filter(r->cfg, &aq, &f, num, &err) == -1 ||
	    compliance_audit_reason(evhttp_find_header(&q, "reason"), &f,
	    &err) == -1) {
		admin_fail_with(r, &err, 400);
		goto out;
	}
	if ((s = evhttp_find_header(&q, "after")) != NULL &&
	    admin_audit_after(r, s, &f) == -1)
		goto out;
	f.max = limit + 1;
	memset(&pg, 0, sizeof(pg));
	if (is_csv)
		encode_list_init(&pg.l, r->fp, ENCODE_CSV, limit,
		    (int64_t)time(NULL), s == NULL ?
		    ENCODE_AUDIT_CSV_HEADER : NULL);
	else
		admin_page(r, &pg.l, limit, "records");
	admin_audit_close(r, &pg, is_csv, store_audit_query(r->st, &f,
	    admin_audit_record, &pg));
out:
	evhttp_clear_headers(&q);
}

/* --- review -------------------------------------------------------------- */

void
admin_h_review_list(struct areq *r)
{
	static const char *const params[] = { "limit", NULL };
	struct encode_list	 pg;
	struct evkeyvalq	 q;
	size_t			 limit;

	if (admin_query(r, &q, params) == -1 ||
	    admin_limit(r, &q, &limit) == -1)
		goto out;
	admin_page_close(r, &pg, store_review_list(r->st,
	    encode_list_review, admin_page(r, &pg, limit, "items")));
out:
	evhttp_clear_headers(&q);
}

/* The review id in the path. Returns 0 or -1 (answered 400). */
static int
admin_review_id(struct areq *r, uint64_t *id)
{
	struct compliance_err	 err;

	if (compliance_review_id(r->seg[2], id, &err) == -1) {
		admin_fail_with(r, &err, 400);
		return -1;
	}
	return 0;
}

void
admin_h_review_get(struct areq *r)
{
	struct store_review	 rv;
	uint64_t		 id;
	int			 found;

	if (admin_review_id(r, &id) == -1)
		return;
	if ((found = store_review_get(r->st, id, &rv)) == -1) {
		admin_fail_store(r);
		return;
	}
	if (found == 0) {
		admin_fail(r, 404, "no review item %" PRIu64, id);
		return;
	}
	encode_review_json(r->fp, &rv, (int64_t)time(NULL));
	r->code = 200;
}

/* The body of POST /v1/review/{id}/resolve into rs (views into o). */
static int
admin_resolution_body(struct areq *r, json_t *o,
    struct optout_resolution *rs, struct admin_scope *sc)
{
	const char	*dec;

	if (admin_body_str(r, o, "decision", true, &dec) == -1 ||
	    admin_act(r, o, &rs->act, sc) == -1)
		return -1;
	if (strcmp(dec, "optout") == 0)
		rs->decision = STORE_REVIEW_OPTED_OUT;
	else if (strcmp(dec, "dismiss") == 0)
		rs->decision = STORE_REVIEW_DISMISSED;
	else {
		admin_fail(r, 422, "decision must be \"optout\" or "
		    "\"dismiss\"");
		return -1;
	}
	return 0;
}

void
admin_h_review_resolve(struct areq *r)
{
	static const char *const fields[] = { "decision", "note", "actor",
		"categories", "all", NULL };
	struct optout_resolution rs;
	struct admin_scope	 sc = { false, NULL, 0 };
	struct compliance_err	 err;
	struct store_review	 rv;
	struct store_event	*ev = NULL;
	json_t			*o = NULL;

	memset(&rs, 0, sizeof(rs));
	if (admin_review_id(r, &rs.id) == -1 ||
	    (o = admin_body(r, fields)) == NULL ||
	    admin_resolution_body(r, o, &rs, &sc) == -1)
		goto out;
	if ((ev = malloc(sizeof(*ev))) == NULL) {
		admin_fail(r, 500, "out of memory");
		goto out;
	}
	if (optout_review_resolve(r->st, r->cfg, &rs, &rv, ev,
	    &err) == -1) {
		admin_fail_with(r, &err, 422);
		goto out;
	}
	log_info("event=admin_review_resolved id=%" PRIu64 " decision=%s "
	    "actor=\"%s\"", rs.id, encode_review_status_name(rs.decision),
	    ev->actor);
	fprintf(r->fp, "{\"item\":");
	encode_review_json(r->fp, &rv, rs.act.now);
	if (rs.decision == STORE_REVIEW_OPTED_OUT) {
		fprintf(r->fp, ",\"event\":");
		encode_event_json(r->fp, ev);
	}
	fputc('}', r->fp);
	r->code = 200;
out:
	free(ev);
	admin_scope_free(&sc);
	json_decref(o);
}
