/*
 * The compliance dashboard (SPEC §10) on the admin listener: its page and
 * assets (compiled in, proxy/admin/admin_web.h), the headers every answer
 * carries, who a token belongs to (admin.users and the shared token), and
 * the read-only endpoints the page draws from: /v1/whoami, /v1/series
 * (per-day counters), /v1/stats (the event history's tallies) and
 * /v1/live (the figures /metrics shows).
 *
 * The page keeps the token in sessionStorage and sends it as a bearer
 * header: no cookie, so no request forged from another site carries it.
 * Everything a subscriber wrote reaches the page as JSON and is shown
 * with textContent, and the Content-Security-Policy allows no script but
 * the page's own file.
 */
#include "proxy/admin/admin_web.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "proxy/admin/admin.h"
#include "proxy/admin/admin_int.h"
#include "proxy/compliance/compliance.h"
#include "proxy/compliance/jsonout.h"
#include "proxy/compliance/rfc3339.h"
#include "proxy/compliance/series.h"
#include "proxy/compliance/stats.h"

/* The page: its own script, style and images only; no framing. */
#define ADMIN_CSP_PAGE	"default-src 'self'; script-src 'self'; " \
	"style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"object-src 'none'; base-uri 'none'; form-action 'none'; " \
	"frame-ancestors 'none'"
/* JSON, CSV, metrics: nothing to run or load. */
#define ADMIN_CSP_DATA	"default-src 'none'; frame-ancestors 'none'"

const struct admin_asset *
admin_asset_find(const char *path)
{
	size_t	 i;

	for (i = 0; i < admin_nassets; i++)
		if (strcmp(admin_assets[i].path, path) == 0)
			return &admin_assets[i];
	return NULL;
}

void
admin_web_headers(struct areq *r, struct evkeyvalq *oh)
{
	bool	 is_page = r->ctype != NULL &&
		    strncmp(r->ctype, "text/html", 9) == 0;

	evhttp_add_header(oh, "Content-Security-Policy", is_page ?
	    ADMIN_CSP_PAGE : ADMIN_CSP_DATA);
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(oh, "X-Frame-Options", "DENY");
	evhttp_add_header(oh, "Referrer-Policy", "no-referrer");
	evhttp_add_header(oh, "Cross-Origin-Opener-Policy", "same-origin");
	evhttp_add_header(oh, "Cross-Origin-Resource-Policy", "same-origin");
	if (r->etag != NULL)
		evhttp_add_header(oh, "ETag", r->etag);
}

void
admin_h_asset(struct areq *r)
{
	const struct admin_asset *as = admin_asset_find(r->path);
	const char		*inm;

	if (as == NULL) {
		admin_fail(r, 404, "no such resource");
		return;
	}
	r->ctype = as->ctype;
	r->etag = as->etag;
	/* Revalidated at each load: a new build's page is never stale. */
	r->cache = "no-cache";
	inm = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "If-None-Match");
	if (inm != NULL && strcmp(inm, as->etag) == 0) {
		r->code = 304;
		return;
	}
	fwrite(as->data, 1, as->len, r->fp);
	r->code = 200;
}

/* --- who ----------------------------------------------------------------- */

bool
admin_who_find(const char *token, const struct config *cfg,
    const char *authorization, struct admin_who *who)
{
	const struct config_admin_user *u;
	bool			 is_found = false;
	size_t			 i;

	memset(who, 0, sizeof(*who));
	/* Every token is compared: the time taken does not tell which
	 * one (if any) matched. */
	if (admin_token_ok(token, authorization)) {
		snprintf(who->name, sizeof(who->name), "%s",
		    ADMIN_ACTOR_DEFAULT);
		who->is_staff = who->is_shared = is_found = true;
	}
	for (i = 0; cfg != NULL && i < cfg->nadmin_users; i++) {
		u = &cfg->admin_users[i];
		if (!admin_token_ok(u->token, authorization) || is_found)
			continue;
		snprintf(who->name, sizeof(who->name), "%s", u->name);
		who->is_staff = u->role == CONFIG_ROLE_STAFF;
		who->is_shared = false;
		is_found = true;
	}
	return is_found;
}

void
admin_h_whoami(struct areq *r)
{
	fputc('{', r->fp);
	jsonout_kv_str(r->fp, "name", r->who.name, false);
	jsonout_kv_str(r->fp, "role", r->who.is_staff ? "staff" : "viewer",
	    true);
	fprintf(r->fp, ",\"shared_token\":%s}", r->who.is_shared ? "true" :
	    "false");
	r->code = 200;
}

/* --- series and stats ---------------------------------------------------- */

void
admin_h_series(struct areq *r)
{
	static const char *const params[] = { "days", NULL };
	struct compliance_err	 err;
	struct evkeyvalq	 q;
	const char		*s;
	uint64_t		 days = SERIES_DAYS_DEFAULT;

	if (admin_query(r, &q, params) == -1)
		goto out;
	if ((s = evhttp_find_header(&q, "days")) != NULL &&
	    (compliance_u64(s, &days) == -1 || days == 0 ||
	    days > SERIES_DAYS_MAX)) {
		admin_fail(r, 400, "days must be 1 to %d", SERIES_DAYS_MAX);
		goto out;
	}
	if (series_write(r->st, r->cfg, (int64_t)time(NULL), (unsigned)days,
	    r->fp, &err) == -1) {
		admin_fail_with(r, &err, 400);
		goto out;
	}
	r->code = 200;
out:
	evhttp_clear_headers(&q);
}

void
admin_h_stats(struct areq *r)
{
	static const char *const params[] = { "since", NULL };
	struct compliance_err	 err;
	struct evkeyvalq	 q;
	struct stats		 s;
	const char		*v;
	int64_t			 since = 0;
	size_t			 d, i, n = 0;

	if (admin_query(r, &q, params) == -1)
		goto out;
	if ((v = evhttp_find_header(&q, "since")) != NULL &&
	    rfc3339_parse(v, &since) == -1) {
		admin_fail(r, 400, "since must be an RFC 3339 time or a date");
		goto out;
	}
	if (stats_collect(r->st, since, &s, &err) == -1) {
		admin_fail_with(r, &err, 400);
		goto out;
	}
	fprintf(r->fp, "{\"totals\":");
	stats_totals_json(r->fp, &s);
	fprintf(r->fp, ",\"tallies\":[");
	for (d = 0; d < STATS_NDIMS; d++)
		for (i = 0; i < s.by[d].n; i++) {
			if (n++ > 0)
				fputc(',', r->fp);
			stats_tally_json(r->fp, (enum stats_dim)d,
			    &s.by[d].t[i]);
		}
	fprintf(r->fp, "]}");
	stats_free(&s);
	r->code = 200;
out:
	evhttp_clear_headers(&q);
}

/* --- live ---------------------------------------------------------------- */

static void
admin_live_pools(FILE *fp, const struct admin_figures *fig)
{
	const struct upstream_stats *st;
	size_t			 i;

	fprintf(fp, ",\"upstreams\":[");
	for (i = 0; i < fig->npools; i++) {
		st = &fig->pools[i].st;
		fprintf(fp, "%s{", i > 0 ? "," : "");
		jsonout_kv_str(fp, "name", fig->pools[i].name, false);
		fprintf(fp, ",\"bound\":%s", fig->pools[i].is_bound ? "true" :
		    "false");
		jsonout_kv_u64(fp, "connections_bound", st->bound, true);
		jsonout_kv_u64(fp, "connections", st->connections, true);
		jsonout_kv_u64(fp, "in_flight", st->in_flight, true);
		jsonout_kv_u64(fp, "submits", st->submits_sent, true);
		jsonout_kv_u64(fp, "responses_ok", st->resps_ok, true);
		jsonout_kv_u64(fp, "responses_error", st->resps_err, true);
		jsonout_kv_u64(fp, "delivers", st->delivers, true);
		jsonout_kv_u64(fp, "reconnects", st->reconnects, true);
		fputc('}', fp);
	}
	fputc(']', fp);
}

void
admin_h_live(struct areq *r)
{
	const struct daemon_counters *dc;
	struct admin_call	 c;
	struct timespec		 ts;
	size_t			 i;

	memset(&c, 0, sizeof(c));
	c.kind = ADMIN_CALL_FIGURES;
	if (admin_call_run(r->a, &c) == -1) {
		admin_fail(r, 503, "the proxy's event loop did not answer");
		return;
	}
	dc = &c.fig.counters;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(r->fp, "{\"ms\":%" PRId64, (int64_t)ts.tv_sec * 1000 +
	    ts.tv_nsec / 1000000);
	jsonout_kv_u64(r->fp, "sessions", c.fig.nsessions, true);
	jsonout_kv_u64(r->fp, "submits_forwarded", dc->submits_forwarded,
	    true);
	jsonout_kv_u64(r->fp, "submits_rejected_optout",
	    dc->submits_rejected_optout, true);
	jsonout_kv_u64(r->fp, "submits_store_error", dc->submits_store_error,
	    true);
	admin_live_pools(r->fp, &c.fig);
	fprintf(r->fp, ",\"accounts\":[");
	for (i = 0; i < c.fig.naccounts; i++) {
		fprintf(r->fp, "%s{", i > 0 ? "," : "");
		jsonout_kv_str(r->fp, "system_id", c.fig.accounts[i].system_id,
		    false);
		jsonout_kv_u64(r->fp, "bound", c.fig.accounts[i].bound, true);
		fputc('}', r->fp);
	}
	fprintf(r->fp, "]}");
	r->code = 200;
	admin_figures_clear(&c.fig);
}
