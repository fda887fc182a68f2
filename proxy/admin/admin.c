/*
 * The admin HTTP API: evhttp on the daemon's loop. Each handler reads the
 * request, calls the store, and writes a JSON body through a memstream so
 * the CLI's JSON and time helpers (proxy/cli_util.h) serve both.
 */
#include "proxy/admin/admin.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "config/config.h"
#include "proxy/daemon/attrib.h"
#include "proxy/compliance/cli_util.h"
#include "proxy/daemon/daemon.h"
#include "proxy/io/evmem.h"
#include "proxy/io/log.h"
#include "proxy/daemon/session.h"
#include "proxy/io/tls.h"
#include "proxy/daemon/upstream.h"
#include "proxy/daemon/writer.h"
#include "smpp/number.h"
#include "store/store.h"

#define ADMIN_SEGS_MAX		6	/* path segments we route on */
#define ADMIN_ACTOR_DEFAULT	"api"

struct admin {
	struct daemon		*d;		/* borrowed */
	struct evhttp		*http;		/* owned */
	SSL_CTX			*tls;		/* owned; NULL = plain */
	char			*token;		/* owned copy */
	char			 host[64];
	uint16_t		 port;
	uint64_t		 requests;	/* answered, for /metrics */
	uint64_t		 unauthorized;	/* 401s */
};

/* One request being answered. */
struct areq {
	struct admin		*a;		/* borrowed */
	struct daemon		*d;		/* borrowed */
	struct evhttp_request	*req;		/* borrowed */
	const char		*query;		/* view; NULL = none */
	char			*seg[ADMIN_SEGS_MAX];	/* owned, decoded */
	size_t			 nseg;
	FILE			*fp;		/* body (memstream) */
	char			*buf;		/* memstream buffer, owned */
	size_t			 len;
	int			 code;		/* HTTP status */
	char			 err[320];	/* set with code >= 400 */
	const char		*ctype;		/* NULL = JSON */
	const char		*allow;		/* 405: the Allow header */
};

typedef void (*admin_handler_fn)(struct areq *);

static void	h_healthz(struct areq *);
static void	h_metrics(struct areq *);
static void	h_number(struct areq *);
static void	h_history(struct areq *);
static void	h_optouts(struct areq *);
static void	h_optins(struct areq *);
static void	h_events(struct areq *);
static void	h_audit(struct areq *);
static void	h_review_list(struct areq *);
static void	h_review_get(struct areq *);
static void	h_review_resolve(struct areq *);

/* Routes: path pattern ("*" matches one segment), method, auth. */
static const struct admin_route {
	const char		*pattern;
	enum evhttp_cmd_type	 method;
	bool			 is_public;
	admin_handler_fn	 fn;
} admin_routes[] = {
	{ "/healthz", EVHTTP_REQ_GET, true, h_healthz },
	{ "/metrics", EVHTTP_REQ_GET, false, h_metrics },
	{ "/v1/numbers/*", EVHTTP_REQ_GET, false, h_number },
	{ "/v1/numbers/*/history", EVHTTP_REQ_GET, false, h_history },
	{ "/v1/optouts", EVHTTP_REQ_POST, false, h_optouts },
	{ "/v1/optins", EVHTTP_REQ_POST, false, h_optins },
	{ "/v1/events", EVHTTP_REQ_GET, false, h_events },
	{ "/v1/audit", EVHTTP_REQ_GET, false, h_audit },
	{ "/v1/review", EVHTTP_REQ_GET, false, h_review_list },
	{ "/v1/review/*", EVHTTP_REQ_GET, false, h_review_get },
	{ "/v1/review/*/resolve", EVHTTP_REQ_POST, false, h_review_resolve },
};

#define NROUTES	(sizeof(admin_routes) / sizeof(admin_routes[0]))

/* --- small helpers ------------------------------------------------------- */

static void
admin_fail(struct areq *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Answer with {"error": message} and code (the body so far is dropped). */
static void
admin_fail(struct areq *r, int code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->code = code;
}

static void
admin_store_fail(struct areq *r, bool is_write)
{
	admin_fail(r, 503, "store: %s%s", store_errmsg(r->d->store),
	    is_write ? " (nothing changed)" : "");
}

bool
admin_token_ok(const char *token, const char *authorization)
{
	unsigned char	 want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
	const char	*p;

	if (token == NULL || token[0] == '\0' || authorization == NULL)
		return false;
	p = authorization;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return false;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	/* Digests of both: the compare does not depend on where they first
	 * differ nor on the length of either (CRYPTO_memcmp is constant time
	 * over equal lengths). */
	SHA256((const unsigned char *)token, strlen(token), want);
	SHA256((const unsigned char *)p, strlen(p), got);
	return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

/* Normalise a number given by a client. Returns 0 or -1 (answered 422,
 * or 400 for a path / query parameter when code says so). */
static int
admin_number(struct areq *r, const char *in, char *out, size_t cap,
    int code)
{
	if (smpp_number_parse_text(in, &r->d->cfg->number_rules, out,
	    cap) == -1) {
		admin_fail(r, code, "not a phone number: \"%.64s\"", in);
		return -1;
	}
	return 0;
}

/* Parse a decimal id/count: digits only, no sign, fits in uint64. */
static int
admin_u64(const char *s, uint64_t *out)
{
	uint64_t	 v = 0;
	const char	*p;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

static void
admin_scope_str(const struct store_event *ev, char *buf, size_t cap)
{
	size_t	 i, off = 0;
	int	 n;

	buf[0] = '\0';
	if (ev->all) {
		snprintf(buf, cap, "all");
		return;
	}
	for (i = 0; i < ev->ncategories && off < cap; i++) {
		n = snprintf(buf + off, cap - off, "%s%s", i > 0 ? "," : "",
		    ev->categories[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* --- JSON output --------------------------------------------------------- */

static void
json_kv_str(FILE *fp, const char *key, const char *val, bool comma)
{
	fprintf(fp, "%s\"%s\":", comma ? "," : "", key);
	cli_json_str(fp, val);
}

static void
json_kv_time(FILE *fp, const char *key, int64_t t)
{
	char	 ts[32];

	fprintf(fp, ",\"%s\":\"%s\"", key, cli_time_format(t, ts, sizeof(ts)));
}

/* One event: the fields of `stopgate history --format jsonl`, plus "all"
 * and "categories" as JSON types. */
static void
json_event(FILE *fp, const struct store_event *ev)
{
	char	 scope[STORE_SCOPE_MAX * STORE_NAME_MAX];
	size_t	 i;

	admin_scope_str(ev, scope, sizeof(scope));
	fprintf(fp, "{\"event_id\":%" PRIu64, ev->id);
	json_kv_time(fp, "time", ev->time);
	json_kv_str(fp, "number", ev->number, true);
	json_kv_str(fp, "action", store_action_name(ev->action), true);
	json_kv_str(fp, "scope", scope, true);
	fprintf(fp, ",\"all\":%s,\"categories\":[", ev->all ? "true" :
	    "false");
	for (i = 0; i < ev->ncategories && !ev->all; i++) {
		if (i > 0)
			fputc(',', fp);
		cli_json_str(fp, ev->categories[i]);
	}
	fputc(']', fp);
	json_kv_str(fp, "source", store_source_name(ev->source), true);
	json_kv_str(fp, "inbound", ev->inbound, true);
	json_kv_str(fp, "rule", ev->rule, true);
	json_kv_str(fp, "text", ev->text, true);
	json_kv_str(fp, "actor", ev->actor, true);
	json_kv_str(fp, "note", ev->note, true);
	json_kv_str(fp, "consent", ev->consent, true);
	if (ev->last.time != 0) {
		fprintf(fp, ",\"last_sent\":{");
		json_kv_str(fp, "account", ev->last.account, false);
		json_kv_time(fp, "time", ev->last.time);
		json_kv_str(fp, "category", ev->last.category, true);
		json_kv_str(fp, "service_type", ev->last.service_type, true);
		fputc('}', fp);
	}
	fputc('}', fp);
}

static const char *
review_status_name(enum store_review_status s)
{
	switch (s) {
	case STORE_REVIEW_OPEN:
		return "open";
	case STORE_REVIEW_OPTED_OUT:
		return "opted_out";
	case STORE_REVIEW_DISMISSED:
		return "dismissed";
	}
	return "?";
}

static void
json_review(FILE *fp, const struct store_review *rv, int64_t now)
{
	fprintf(fp, "{\"id\":%" PRIu64, rv->id);
	json_kv_time(fp, "time", rv->time);
	fprintf(fp, ",\"age_seconds\":%" PRId64, now > rv->time ?
	    now - rv->time : 0);
	json_kv_str(fp, "number", rv->number, true);
	json_kv_str(fp, "inbound", rv->inbound, true);
	json_kv_str(fp, "account", rv->account, true);
	json_kv_str(fp, "text", rv->text, true);
	json_kv_str(fp, "status", review_status_name(rv->status), true);
	if (rv->status != STORE_REVIEW_OPEN) {
		json_kv_time(fp, "resolved_time", rv->resolved_time);
		json_kv_str(fp, "actor", rv->actor, true);
		json_kv_str(fp, "note", rv->note, true);
		if (rv->event_id != 0)
			fprintf(fp, ",\"event_id\":%" PRIu64, rv->event_id);
	}
	fputc('}', fp);
}

/* --- JSON input (jansson) ------------------------------------------------ */

/*
 * The request body as a JSON object whose keys are all in allowed (NULL
 * terminated). Returns a new reference, or NULL with the answer set (400).
 */
static json_t *
admin_body(struct areq *r, const char *const *allowed)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(r->req);
	json_error_t	 jerr;
	json_t		*root, *v;
	const char	*key;
	unsigned char	*p;
	size_t		 len = evbuffer_get_length(in), i;

	if (len == 0) {
		admin_fail(r, 400, "a JSON object body is required");
		return NULL;
	}
	if (len > ADMIN_BODY_MAX) {
		admin_fail(r, 413, "body larger than %u bytes", ADMIN_BODY_MAX);
		return NULL;
	}
	if ((p = evbuffer_pullup(in, -1)) == NULL) {
		admin_fail(r, 500, "out of memory");
		return NULL;
	}
	/* Strict: one value, no duplicate keys, no NUL in strings. */
	root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		admin_fail(r, 400, "malformed JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		admin_fail(r, 400, "the body must be a JSON object");
		return NULL;
	}
	json_object_foreach(root, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			admin_fail(r, 400, "unknown field \"%.64s\"", key);
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

/*
 * Copy the string member key of o into out (cap bytes). Absent or null
 * gives "" (or, when required, 422). Returns 0 or -1 (answered).
 */
static int
body_str(struct areq *r, json_t *o, const char *key, bool required,
    char *out, size_t cap)
{
	json_t		*v = json_object_get(o, key);
	const char	*s;

	out[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (required) {
			admin_fail(r, 422, "\"%s\" is required", key);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		admin_fail(r, 400, "\"%s\" must be a string", key);
		return -1;
	}
	s = json_string_value(v);
	if (json_string_length(v) >= cap) {
		admin_fail(r, 422, "\"%s\" longer than %zu bytes", key,
		    cap - 1);
		return -1;
	}
	if (required && s[0] == '\0') {
		admin_fail(r, 422, "\"%s\" must not be empty", key);
		return -1;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/*
 * The scope of an event from "categories" (array of names) and "all"
 * (bool). When none is given: *given false, nothing set. Returns 0 or -1
 * (answered).
 */
static int
body_scope(struct areq *r, json_t *o, struct store_event *ev, bool *given)
{
	json_t		*cats = json_object_get(o, "categories");
	json_t		*all = json_object_get(o, "all");
	json_t		*c;
	const char	*name;
	size_t		 i, j;

	*given = false;
	if (all != NULL && !json_is_boolean(all)) {
		admin_fail(r, 400, "\"all\" must be true or false");
		return -1;
	}
	if (cats != NULL && !json_is_array(cats)) {
		admin_fail(r, 400, "\"categories\" must be an array of "
		    "category names");
		return -1;
	}
	if (all != NULL && json_is_true(all)) {
		if (cats != NULL && json_array_size(cats) > 0) {
			admin_fail(r, 422, "give \"all\": true or "
			    "\"categories\", not both");
			return -1;
		}
		ev->all = true;
		*given = true;
		return 0;
	}
	if (cats == NULL || json_array_size(cats) == 0)
		return 0;
	json_array_foreach(cats, i, c) {
		if (!json_is_string(c)) {
			admin_fail(r, 400, "\"categories\" must be an array "
			    "of category names");
			return -1;
		}
		name = json_string_value(c);
		if (config_category_find(r->d->cfg, name) < 0) {
			admin_fail(r, 422, "unknown category \"%.40s\"", name);
			return -1;
		}
		for (j = 0; j < ev->ncategories; j++)
			if (strcmp(ev->categories[j], name) == 0)
				break;
		if (j < ev->ncategories)
			continue;	/* listed twice: once is enough */
		if (ev->ncategories == STORE_SCOPE_MAX) {
			admin_fail(r, 422, "more than %d categories",
			    STORE_SCOPE_MAX);
			return -1;
		}
		snprintf(ev->categories[ev->ncategories++], STORE_NAME_MAX,
		    "%s", name);
	}
	*given = true;
	return 0;
}

/* --- query strings ------------------------------------------------------- */

/*
 * Parse the query string into q, refusing names not in allowed (NULL
 * terminated). Returns 0 or -1 (answered 400).
 */
static int
admin_query(struct areq *r, struct evkeyvalq *q, const char *const *allowed)
{
	struct evkeyval	*kv;
	size_t		 i;

	TAILQ_INIT(q);
	if (r->query == NULL || r->query[0] == '\0')
		return 0;
	if (evhttp_parse_query_str(r->query, q) == -1) {
		admin_fail(r, 400, "malformed query string");
		return -1;
	}
	TAILQ_FOREACH(kv, q, next) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(kv->key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			admin_fail(r, 400, "unknown query parameter "
			    "\"%.40s\"", kv->key);
			return -1;
		}
	}
	return 0;
}

/* ?limit=N: default ADMIN_PAGE_DEFAULT, 1..ADMIN_PAGE_MAX. */
static int
admin_limit(struct areq *r, struct evkeyvalq *q, size_t *out)
{
	const char	*s = evhttp_find_header(q, "limit");
	uint64_t	 v;

	*out = ADMIN_PAGE_DEFAULT;
	if (s == NULL)
		return 0;
	if (admin_u64(s, &v) == -1 || v == 0 || v > ADMIN_PAGE_MAX) {
		admin_fail(r, 400, "limit must be 1 to %u", ADMIN_PAGE_MAX);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

/* --- /healthz and /metrics ----------------------------------------------- */

static void
h_healthz(struct areq *r)
{
	struct daemon		*d = r->d;
	struct store_info	 info;
	size_t			 i;
	bool			 is_ok;

	is_ok = store_info(d->store, &info) == 0;
	fprintf(r->fp, "{\"status\":\"%s\"", is_ok ? "ok" : "store_error");
	if (!is_ok)
		json_kv_str(r->fp, "error", store_errmsg(d->store), true);
	fprintf(r->fp, ",\"upstreams\":{");
	for (i = 0; i < d->npools; i++) {
		if (d->pools[i] == NULL)
			continue;
		if (i > 0)
			fputc(',', r->fp);
		cli_json_str(r->fp, upstream_pool_name(d->pools[i]));
		fprintf(r->fp, ":%s", upstream_pool_is_bound(d->pools[i]) ?
		    "true" : "false");
	}
	/* No token here: say no more than the status of each upstream. */
	fprintf(r->fp, "}}");
	r->code = is_ok ? 200 : 503;
}

/* A label value, escaped as the exposition format asks. */
static void
prom_label(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
prom_head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_one(FILE *fp, const char *name, const char *type, const char *help,
    uint64_t v)
{
	prom_head(fp, name, type, help);
	fprintf(fp, "%s %" PRIu64 "\n", name, v);
}

/* The per-upstream values /metrics shows. */
enum pool_metric {
	PM_BOUND = 0,
	PM_CONNS_BOUND,
	PM_CONNS,
	PM_IN_FLIGHT,
	PM_SUBMITS,
	PM_RESPS_OK,
	PM_RESPS_ERR,
	PM_TIMEOUTS,
	PM_FAILS,
	PM_RECONNECTS,
	PM_BIND_FAILURES,
	PM_DELIVERS,
};

static uint64_t
pool_metric_value(const struct upstream_pool *p, enum pool_metric m)
{
	struct upstream_stats	 st;

	upstream_pool_stats(p, &st);
	switch (m) {
	case PM_BOUND:
		return upstream_pool_is_bound(p) ? 1 : 0;
	case PM_CONNS_BOUND:
		return st.bound;
	case PM_CONNS:
		return st.connections;
	case PM_IN_FLIGHT:
		return st.in_flight;
	case PM_SUBMITS:
		return st.submits_sent;
	case PM_RESPS_OK:
		return st.resps_ok;
	case PM_RESPS_ERR:
		return st.resps_err;
	case PM_TIMEOUTS:
		return st.timeouts;
	case PM_FAILS:
		return st.fails;
	case PM_RECONNECTS:
		return st.reconnects;
	case PM_BIND_FAILURES:
		return st.bind_failures;
	case PM_DELIVERS:
		return st.delivers;
	}
	return 0;
}

/* One metric with an upstream label per pool. */
static void
prom_pools(FILE *fp, struct daemon *d, const char *name, const char *type,
    const char *help, enum pool_metric m)
{
	size_t	 i;

	prom_head(fp, name, type, help);
	for (i = 0; i < d->npools; i++) {
		if (d->pools[i] == NULL)
			continue;
		fprintf(fp, "%s{upstream=", name);
		prom_label(fp, upstream_pool_name(d->pools[i]));
		fprintf(fp, "} %" PRIu64 "\n", pool_metric_value(d->pools[i],
		    m));
	}
}

static void
h_metrics(struct areq *r)
{
	static const struct {
		const char	*name, *type, *help;
		enum pool_metric m;
	} pm[] = {
		{ "stopgate_upstream_bound", "gauge", "1 if the upstream has a "
		    "bound transmit-capable connection.", PM_BOUND },
		{ "stopgate_upstream_connections_bound", "gauge",
		    "Upstream connections bound now.",
		    PM_CONNS_BOUND },
		{ "stopgate_upstream_connections", "gauge",
		    "Upstream connections configured.",
		    PM_CONNS },
		{ "stopgate_upstream_in_flight", "gauge",
		    "Requests awaiting an SMSC response.",
		    PM_IN_FLIGHT },
		{ "stopgate_upstream_submits_total", "counter",
		    "Requests written to the SMSC.",
		    PM_SUBMITS },
		{ "stopgate_upstream_responses_ok_total", "counter",
		    "SMSC responses with command_status 0.",
		    PM_RESPS_OK },
		{ "stopgate_upstream_responses_error_total", "counter",
		    "SMSC responses with another command_status.",
		    PM_RESPS_ERR },
		{ "stopgate_upstream_timeouts_total", "counter",
		    "Response and enquire_link timeouts.",
		    PM_TIMEOUTS },
		{ "stopgate_upstream_failed_total", "counter",
		    "Requests failed back to senders (no SMSC answer).",
		    PM_FAILS },
		{ "stopgate_upstream_reconnects_total", "counter",
		    "Upstream reconnects.",
		    PM_RECONNECTS },
		{ "stopgate_upstream_bind_failures_total", "counter",
		    "Upstream binds refused or unanswered.",
		    PM_BIND_FAILURES },
		{ "stopgate_upstream_delivers_total", "counter",
		    "deliver_sm / data_sm received from the SMSC.",
		    PM_DELIVERS },
	};
	struct daemon		*d = r->d;
	struct store_info	 info;
	struct session		*s;
	FILE			*fp = r->fp;
	size_t			 i, n;
	bool			 is_store_ok;

	is_store_ok = store_info(d->store, &info) == 0;
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	prom_one(fp, "stopgate_sessions", "gauge",
	    "Department sessions open.", d->nsessions);
	prom_head(fp, "stopgate_account_sessions_bound", "gauge",
	    "Bound department sessions per account.");
	for (i = 0; i < d->cfg->naccounts; i++) {
		n = 0;
		for (s = TAILQ_FIRST(&d->sessions); s != NULL;
		    s = session_next(s))
			if (session_state(s) == SESSION_BOUND &&
			    strcmp(session_system_id(s),
			    d->cfg->accounts[i].system_id) == 0)
				n++;
		fprintf(fp, "stopgate_account_sessions_bound{account=");
		prom_label(fp, d->cfg->accounts[i].system_id);
		fprintf(fp, "} %zu\n", n);
	}
	prom_one(fp, "stopgate_submits_forwarded_total", "counter",
	    "Department requests forwarded to an upstream.",
	    d->counters.submits_forwarded);
	prom_one(fp, "stopgate_submits_rejected_optout_total", "counter",
	    "Destinations refused because the number opted out.",
	    d->counters.submits_rejected_optout);
	prom_one(fp, "stopgate_submits_store_error_total", "counter",
	    "Destinations refused because the store could not be read.",
	    d->counters.submits_store_error);
	for (i = 0; i < sizeof(pm) / sizeof(pm[0]); i++)
		prom_pools(fp, d, pm[i].name, pm[i].type, pm[i].help,
		    pm[i].m);
	prom_one(fp, "stopgate_store_up", "gauge",
	    "1 if the opt-out store could be read.", is_store_ok ? 1 : 0);
	if (is_store_ok) {
		prom_one(fp, "stopgate_store_map_size_bytes", "gauge",
		    "LMDB map size.", info.map_size);
		prom_one(fp, "stopgate_store_map_used_bytes", "gauge",
		    "LMDB map bytes in use.", info.map_used);
		prom_one(fp, "stopgate_optout_events_total", "counter",
		    "Opt-out and opt-in events recorded (last event id).",
		    info.last_event_id);
		prom_one(fp, "stopgate_store_state_entries", "gauge",
		    "Current opt-out state entries.", info.state);
		prom_one(fp, "stopgate_store_events", "gauge",
		    "Events kept in the history.", info.events);
		prom_one(fp, "stopgate_store_audit_records", "gauge",
		    "Rejected-send audit records kept.", info.audit);
		prom_one(fp, "stopgate_review_open", "gauge",
		    "Review items waiting for a person.", info.review_open);
		prom_one(fp, "stopgate_outbox_entries", "gauge",
		    "MOs and receipts waiting for a receiver.", info.outbox);
		prom_one(fp, "stopgate_receipt_map_entries", "gauge",
		    "Receipt routing entries.", info.msgmap);
	}
	if (d->writer != NULL) {
		struct writer_counters	wc;

		writer_counters(d->writer, &wc);
		prom_one(fp, "stopgate_writer_batches_total", "counter",
		    "Store writer transactions (audit, receipt map, "
		    "attribution).", wc.batches);
		prom_one(fp, "stopgate_writer_records_total", "counter",
		    "Records committed by the store writer.", wc.records);
		prom_one(fp, "stopgate_writer_failed_total", "counter",
		    "Records lost to a failed store writer commit.",
		    wc.failed);
		prom_one(fp, "stopgate_writer_bad_total", "counter",
		    "Records the store refused as malformed.", wc.bad);
		prom_one(fp, "stopgate_writer_waits_total", "counter",
		    "Times the event loop waited for a full writer queue.",
		    wc.waits);
		prom_one(fp, "stopgate_writer_pending", "gauge",
		    "Records queued for the store writer.",
		    writer_pending(d->writer));
		prom_one(fp, "stopgate_sentlog_merged_total", "counter",
		    "Attribution records merged into the last-sent table.",
		    wc.merged);
		prom_one(fp, "stopgate_audit_indexed_total", "counter",
		    "Audit records indexed by number.", wc.indexed);
	}
	if (d->attrib != NULL) {
		prom_one(fp, "stopgate_attrib_entries", "gauge",
		    "Sends not yet merged, indexed in memory.",
		    attrib_count(d->attrib));
		prom_one(fp, "stopgate_attrib_bytes", "gauge",
		    "Memory held by that index.", attrib_bytes(d->attrib));
		prom_one(fp, "stopgate_attrib_dropped_total", "counter",
		    "Unmerged sends dropped from a full index (attributed "
		    "once merged).", d->counters.attrib_dropped);
	}
	prom_one(fp, "stopgate_config_reloads_total", "counter",
	    "Configurations swapped in by SIGHUP.", d->cfg_gen);
	prom_one(fp, "stopgate_admin_requests_total", "counter",
	    "Admin API requests answered.", r->a->requests);
	prom_one(fp, "stopgate_admin_unauthorized_total", "counter",
	    "Admin API requests refused for a missing or wrong token.",
	    r->a->unauthorized);
	r->code = 200;
}

/* --- numbers ------------------------------------------------------------- */

static void
h_number(struct areq *r)
{
	const struct config	*cfg = r->d->cfg;
	struct store_block	 why;
	char			 num[STORE_NUMBER_MAX];
	const char		*name;
	size_t			 i;
	int			 rc;

	if (admin_number(r, r->seg[2], num, sizeof(num), 400) == -1)
		return;
	fputc('{', r->fp);
	json_kv_str(r->fp, "number", num, false);
	fprintf(r->fp, ",\"categories\":{");
	for (i = 0; i < cfg->ncategories; i++) {
		name = cfg->categories[i].name;
		memset(&why, 0, sizeof(why));
		if ((rc = store_optout_check(r->d->store, num, name,
		    &why)) == -1) {
			admin_store_fail(r, false);
			return;
		}
		if (i > 0)
			fputc(',', r->fp);
		cli_json_str(r->fp, name);
		if (rc == 1) {
			fprintf(r->fp, ":{\"status\":\"blocked\"");
			json_kv_time(r->fp, "since", why.since);
			fprintf(r->fp, ",\"event_id\":%" PRIu64 ",\"scope\":"
			    "\"%s\"}", why.event_id, why.is_global ? "all" :
			    "category");
		} else
			fprintf(r->fp, ":{\"status\":\"allowed\"}");
	}
	fputc('}', r->fp);
	fputc('}', r->fp);
	r->code = 200;
}

/* Collects walk items into a JSON array, at most max. */
struct page {
	FILE		*fp;
	size_t		 n, max;
	bool		 is_more;
	uint64_t	 last_id;	/* events: the cursor for "next" */
	int64_t		 now;		/* review: for ages */
};

/* Room for one more item? Writes its separator; false (is_more set) when
 * the page is full and the walk should stop. */
static bool
page_item(struct page *pg)
{
	if (pg->n == pg->max) {
		pg->is_more = true;
		return false;
	}
	if (pg->n++ > 0)
		fputc(',', pg->fp);
	return true;
}

static int
page_event(const struct store_event *ev, void *arg)
{
	struct page	*pg = arg;

	if (!page_item(pg))
		return 1;
	json_event(pg->fp, ev);
	pg->last_id = ev->id;
	return 0;
}

static void
h_history(struct areq *r)
{
	struct page	 pg;
	char		 num[STORE_NUMBER_MAX];

	if (admin_number(r, r->seg[2], num, sizeof(num), 400) == -1)
		return;
	memset(&pg, 0, sizeof(pg));
	pg.fp = r->fp;
	pg.max = ADMIN_PAGE_MAX;
	fputc('{', r->fp);
	json_kv_str(r->fp, "number", num, false);
	fprintf(r->fp, ",\"events\":[");
	if (store_history(r->d->store, num, page_event, &pg) == -1) {
		admin_store_fail(r, false);
		return;
	}
	fprintf(r->fp, "],\"truncated\":%s}", pg.is_more ? "true" : "false");
	r->code = 200;
}

static void
admin_optout(struct areq *r, enum store_action action)
{
	static const char *const fields[] = { "number", "categories", "all",
		"note", "actor", "consent", NULL };
	struct store_event	*ev;
	json_t			*o;
	char			 raw[64];
	bool			 has_scope;

	if ((o = admin_body(r, fields)) == NULL)
		return;
	if ((ev = calloc(1, sizeof(*ev))) == NULL) {
		admin_fail(r, 500, "out of memory");
		goto out_json;
	}
	if (body_str(r, o, "number", true, raw, sizeof(raw)) == -1 ||
	    body_scope(r, o, ev, &has_scope) == -1 ||
	    body_str(r, o, "note", false, ev->note, sizeof(ev->note)) == -1 ||
	    body_str(r, o, "actor", false, ev->actor, sizeof(ev->actor)) ==
	    -1 ||
	    body_str(r, o, "consent", action == STORE_OPT_IN, ev->consent,
	    sizeof(ev->consent)) == -1)
		goto out;
	if (action == STORE_OPT_OUT && ev->consent[0] != '\0') {
		admin_fail(r, 400, "\"consent\" belongs to an opt-in");
		goto out;
	}
	if (!has_scope) {
		admin_fail(r, 422, "give \"categories\": [...] or \"all\": "
		    "true");
		goto out;
	}
	if (admin_number(r, raw, ev->number, sizeof(ev->number), 422) == -1)
		goto out;
	if (ev->actor[0] == '\0')
		snprintf(ev->actor, sizeof(ev->actor), "%s",
		    ADMIN_ACTOR_DEFAULT);
	ev->action = action;
	ev->source = STORE_SRC_API;
	ev->time = (int64_t)time(NULL);
	/* Name the message sent just before it, as the proxy's own STOPs
	 * do, even if it is not merged into the last-sent table yet. */
	if (action == STORE_OPT_OUT)
		(void)daemon_lastsent_pending(r->d, ev->number, &ev->last);
	if (store_optout_apply(r->d->store, ev) == -1) {
		admin_store_fail(r, true);
		goto out;
	}
	log_info("event=admin_%s number=%s event_id=%" PRIu64 " actor=\"%s\"",
	    store_action_name(action), ev->number, ev->id, ev->actor);
	json_event(r->fp, ev);
	r->code = 201;
out:
	free(ev);
out_json:
	json_decref(o);
}

static void
h_optouts(struct areq *r)
{
	admin_optout(r, STORE_OPT_OUT);
}

static void
h_optins(struct areq *r)
{
	admin_optout(r, STORE_OPT_IN);
}

/* --- feed and audit ------------------------------------------------------ */

static void
h_events(struct areq *r)
{
	static const char *const params[] = { "after", "limit", NULL };
	struct evkeyvalq	 q;
	struct page		 pg;
	const char		*s;
	uint64_t		 after = 0;
	size_t			 limit;

	if (admin_query(r, &q, params) == -1 ||
	    admin_limit(r, &q, &limit) == -1)
		goto out;
	if ((s = evhttp_find_header(&q, "after")) != NULL &&
	    admin_u64(s, &after) == -1) {
		admin_fail(r, 400, "after must be an event id (the \"next\" "
		    "of the previous page)");
		goto out;
	}
	memset(&pg, 0, sizeof(pg));
	pg.fp = r->fp;
	pg.max = limit;
	pg.last_id = after;
	fprintf(r->fp, "{\"events\":[");
	/* One more than the page, to tell whether more follow. */
	if (store_events_since(r->d->store, after, limit + 1, page_event,
	    &pg) == -1) {
		admin_store_fail(r, false);
		goto out;
	}
	fprintf(r->fp, "],\"next\":%" PRIu64 ",\"more\":%s}", pg.last_id,
	    pg.is_more ? "true" : "false");
	r->code = 200;
out:
	evhttp_clear_headers(&q);
}

static int
page_audit(const struct store_audit *au, void *arg)
{
	struct page	*pg = arg;
	char		 sha[65], reason[64];

	if (!page_item(pg))
		return 1;
	cli_hex(au->body_sha256, sizeof(au->body_sha256), sha);
	cli_audit_reason(au->event_id, reason, sizeof(reason));
	fprintf(pg->fp, "{\"id\":%" PRIu64, au->id);
	json_kv_time(pg->fp, "time", au->time);
	json_kv_str(pg->fp, "account", au->account, true);
	json_kv_str(pg->fp, "category", au->category, true);
	json_kv_str(pg->fp, "service_type", au->service_type, true);
	json_kv_str(pg->fp, "source", au->source, true);
	json_kv_str(pg->fp, "destination", au->destination, true);
	fprintf(pg->fp, ",\"status\":\"0x%08x\",\"reason\":\"%s\","
	    "\"event_id\":%" PRIu64 ",\"body_len\":%u,\"body_sha256\":\"%s\"}",
	    au->status, reason, au->event_id, au->body_len, sha);
	return 0;
}

static void
h_audit(struct areq *r)
{
	static const char *const params[] = { "since", "until", "number",
		"account", "category", "limit", NULL };
	struct store_audit_filter f;
	struct page		 pg;
	struct evkeyvalq	 q;
	char			 num[STORE_NUMBER_MAX];
	const char		*s;
	size_t			 limit;

	memset(&f, 0, sizeof(f));
	if (admin_query(r, &q, params) == -1 ||
	    admin_limit(r, &q, &limit) == -1)
		goto out;
	if ((s = evhttp_find_header(&q, "since")) != NULL &&
	    cli_time_parse(s, &f.since) == -1) {
		admin_fail(r, 400, "since \"%.40s\" is not RFC 3339", s);
		goto out;
	}
	if ((s = evhttp_find_header(&q, "until")) != NULL &&
	    cli_time_parse(s, &f.until) == -1) {
		admin_fail(r, 400, "until \"%.40s\" is not RFC 3339", s);
		goto out;
	}
	if ((s = evhttp_find_header(&q, "number")) != NULL) {
		if (admin_number(r, s, num, sizeof(num), 400) == -1)
			goto out;
		f.number = num;
	}
	if ((s = evhttp_find_header(&q, "category")) != NULL &&
	    config_category_find(r->d->cfg, s) < 0) {
		admin_fail(r, 400, "unknown category \"%.40s\"", s);
		goto out;
	}
	f.category = s;
	f.account = evhttp_find_header(&q, "account");
	f.max = limit + 1;
	memset(&pg, 0, sizeof(pg));
	pg.fp = r->fp;
	pg.max = limit;
	fprintf(r->fp, "{\"records\":[");
	if (store_audit_query(r->d->store, &f, page_audit, &pg) == -1) {
		admin_store_fail(r, false);
		goto out;
	}
	fprintf(r->fp, "],\"more\":%s}", pg.is_more ? "true" : "false");
	r->code = 200;
out:
	evhttp_clear_headers(&q);
}

/* --- review -------------------------------------------------------------- */

static int
page_review(const struct store_review *rv, void *arg)
{
	struct page	*pg = arg;

	if (!page_item(pg))
		return 1;
	json_review(pg->fp, rv, pg->now);
	return 0;
}

static void
h_review_list(struct areq *r)
{
	static const char *const params[] = { "limit", NULL };
	struct page		 pg;
	struct evkeyvalq	 q;
	size_t			 limit;

	if (admin_query(r, &q, params) == -1 ||
	    admin_limit(r, &q, &limit) == -1)
		goto out;
	memset(&pg, 0, sizeof(pg));
	pg.fp = r->fp;
	pg.max = limit;
	pg.now = (int64_t)time(NULL);
	fprintf(r->fp, "{\"items\":[");
	if (store_review_list(r->d->store, page_review, &pg) == -1) {
		admin_store_fail(r, false);
		goto out;
	}
	fprintf(r->fp, "],\"more\":%s}", pg.is_more ? "true" : "false");
	r->code = 200;
out:
	evhttp_clear_headers(&q);
}

/* The review id in the path: 1 found (rv filled), 0 answered. */
static int
review_lookup(struct areq *r, uint64_t *id, struct store_review *rv)
{
	int	 found;

	if (admin_u64(r->seg[2], id) == -1 || *id == 0) {
		admin_fail(r, 400, "review id \"%.24s\" is not a number",
		    r->seg[2]);
		return 0;
	}
	if ((found = store_review_get(r->d->store, *id, rv)) == -1) {
		admin_store_fail(r, false);
		return 0;
	}
	if (found == 0) {
		admin_fail(r, 404, "no review item %" PRIu64, *id);
		return 0;
	}
	return 1;
}

static void
h_review_get(struct areq *r)
{
	struct store_review	 rv;
	uint64_t		 id;

	if (review_lookup(r, &id, &rv) != 1)
		return;
	json_review(r->fp, &rv, (int64_t)time(NULL));
	r->code = 200;
}

static void
h_review_resolve(struct areq *r)
{
	static const char *const fields[] = { "decision", "note", "actor",
		"categories", "all", NULL };
	struct store_review	 rv;
	struct store_event	*ev;
	enum store_review_status decision;
	json_t			*o = NULL;
	char			 dec[16], note[256], actor[64];
	uint64_t		 id;
	int64_t			 now = (int64_t)time(NULL);
	bool			 has_scope;

	if ((ev = calloc(1, sizeof(*ev))) == NULL) {
		admin_fail(r, 500, "out of memory");
		return;
	}
	if ((o = admin_body(r, fields)) == NULL ||
	    body_str(r, o, "decision", true, dec, sizeof(dec)) == -1 ||
	    body_str(r, o, "note", true, note, sizeof(note)) == -1 ||
	    body_str(r, o, "actor", false, actor, sizeof(actor)) == -1 ||
	    body_scope(r, o, ev, &has_scope) == -1)
		goto out;
	if (strcmp(dec, "optout") == 0)
		decision = STORE_REVIEW_OPTED_OUT;
	else if (strcmp(dec, "dismiss") == 0)
		decision = STORE_REVIEW_DISMISSED;
	else {
		admin_fail(r, 422, "decision must be \"optout\" or "
		    "\"dismiss\"");
		goto out;
	}
	if (decision == STORE_REVIEW_DISMISSED && has_scope) {
		admin_fail(r, 422, "categories / all go with an optout "
		    "decision only");
		goto out;
	}
	if (actor[0] == '\0')
		snprintf(actor, sizeof(actor), "%s", ADMIN_ACTOR_DEFAULT);
	if (review_lookup(r, &id, &rv) != 1)
		goto out;
	if (rv.status != STORE_REVIEW_OPEN) {
		admin_fail(r, 409, "review item %" PRIu64 " was already "
		    "resolved by %.63s", id, rv.actor);
		goto out;
	}
	if (decision == STORE_REVIEW_OPTED_OUT)
		cli_review_optout(r->d->cfg, &rv, has_scope, STORE_SRC_API,
		    actor, note, now, ev);
	if (decision == STORE_REVIEW_OPTED_OUT)
		(void)daemon_lastsent_pending(r->d, ev->number, &ev->last);
	if (store_review_resolve(r->d->store, id, decision, actor, note, now,
	    decision == STORE_REVIEW_OPTED_OUT ? ev : NULL) == -1) {
		if (store_errcode(r->d->store) == STORE_E_EXISTS)
			admin_fail(r, 409, "review item %" PRIu64 " was "
			    "already resolved", id);
		else if (store_errcode(r->d->store) == STORE_E_NOTFOUND)
			admin_fail(r, 404, "no review item %" PRIu64, id);
		else
			admin_store_fail(r, true);
		goto out;
	}
	log_info("event=admin_review_resolved id=%" PRIu64 " decision=%s "
	    "actor=\"%s\"", id, review_status_name(decision), actor);
	if (store_review_get(r->d->store, id, &rv) != 1) {
		admin_store_fail(r, false);
		goto out;
	}
	fprintf(r->fp, "{\"item\":");
	json_review(r->fp, &rv, now);
	if (decision == STORE_REVIEW_OPTED_OUT) {
		fprintf(r->fp, ",\"event\":");
		json_event(r->fp, ev);
	}
	fputc('}', r->fp);
	r->code = 200;
out:
	json_decref(o);
	free(ev);
}

/* --- dispatch ------------------------------------------------------------ */

/*
 * Split path into decoded segments. Returns 0, or -1 (too many segments,
 * or a segment that decodes to something with a NUL).
 */
static int
admin_path_split(struct areq *r, const char *path)
{
	const char	*p = path, *e;
	char		*raw;
	size_t		 n, outlen;

	if (*p != '/')
		return -1;
	while (*p == '/') {
		p++;
		if (*p == '\0')
			break;		/* trailing slash */
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (r->nseg == ADMIN_SEGS_MAX || n == 0)
			return -1;
		if ((raw = strndup(p, n)) == NULL)
			return -1;
		r->seg[r->nseg] = evhttp_uridecode(raw, 0, &outlen);
		free(raw);
		if (r->seg[r->nseg] == NULL)
			return -1;
		r->nseg++;
		if (outlen != strlen(r->seg[r->nseg - 1]))
			return -1;
		p += n;
	}
	return 0;
}

/* Does the route pattern match the segments? */
static bool
route_match(const char *pattern, struct areq *r)
{
	const char	*p = pattern + 1, *e;
	size_t		 i = 0, n;

	while (*p != '\0') {
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (i == r->nseg)
			return false;
		if (!(n == 1 && *p == '*') && (strlen(r->seg[i]) != n ||
		    strncmp(r->seg[i], p, n) != 0))
			return false;
		i++;
		p += n;
		if (*p == '/')
			p++;
	}
	return i == r->nseg;
}

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "OTHER";
	}
}

/* Send what r holds: the body, or {"error": ...} for an error. */
static void
admin_send(struct areq *r)
{
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(r->req);
	struct evbuffer		*out;
	FILE			*fp;
	char			*ebuf = NULL;
	size_t			 elen = 0;

	if (r->fp != NULL) {
		fclose(r->fp);
		r->fp = NULL;
	}
	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(r->req, 500, NULL);
		return;
	}
	if (r->code >= 400 || r->buf == NULL) {
		if (r->code < 400) {
			r->code = 500;
			snprintf(r->err, sizeof(r->err), "out of memory");
		}
		if ((fp = open_memstream(&ebuf, &elen)) != NULL) {
			fprintf(fp, "{\"error\":");
			cli_json_str(fp, r->err);
			fprintf(fp, "}\n");
			fclose(fp);
			evbuffer_add(out, ebuf, elen);
			free(ebuf);
		}
		r->ctype = NULL;
	} else {
		evbuffer_add(out, r->buf, r->len);
		if (r->ctype == NULL)
			evbuffer_add(out, "\n", 1);
	}
	evhttp_add_header(oh, "Content-Type", r->ctype != NULL ? r->ctype :
	    "application/json");
	evhttp_add_header(oh, "Cache-Control", "no-store");
	if (r->code == 401)
		evhttp_add_header(oh, "WWW-Authenticate",
		    "Bearer realm=\"stopgate\"");
	if (r->code == 405 && r->allow != NULL)
		evhttp_add_header(oh, "Allow", r->allow);
	evhttp_send_reply(r->req, r->code, NULL, out);
	evbuffer_free(out);
}

static void
admin_request_cb(struct evhttp_request *req, void *arg)
{
	struct admin		*a = arg;
	struct areq		 r;
	const struct evhttp_uri	*uri;
	const struct admin_route *rt = NULL;
	enum evhttp_cmd_type	 m = evhttp_request_get_command(req);
	const char		*path;
	char			*host = NULL;
	ev_uint16_t		 port = 0;
	size_t			 i;
	bool			 is_path_ok = false;

	memset(&r, 0, sizeof(r));
	r.a = a;
	r.d = a->d;
	r.req = req;
	uri = evhttp_request_get_evhttp_uri(req);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (uri != NULL)
		r.query = evhttp_uri_get_query(uri);
	if (path == NULL || path[0] == '\0')
		path = "/";
	if ((r.fp = open_memstream(&r.buf, &r.len)) == NULL) {
		admin_fail(&r, 500, "out of memory");
		goto send;
	}
	if (admin_path_split(&r, path) == -1) {
		admin_fail(&r, 404, "no such resource");
		goto send;
	}
	for (i = 0; i < NROUTES; i++) {
		if (!route_match(admin_routes[i].pattern, &r))
			continue;
		is_path_ok = true;
		if (admin_routes[i].method == m ||
		    (m == EVHTTP_REQ_HEAD &&
		    admin_routes[i].method == EVHTTP_REQ_GET)) {
			rt = &admin_routes[i];
			break;
		}
		r.allow = method_name(admin_routes[i].method);
	}
	/* Everything but /healthz needs the token, even to learn that a
	 * path does not exist. */
	if ((rt == NULL || !rt->is_public) && !admin_token_ok(a->token,
	    evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization"))) {
		a->unauthorized++;
		admin_fail(&r, 401, "a valid bearer token is required "
		    "(Authorization: Bearer TOKEN)");
		goto send;
	}
	if (rt == NULL) {
		if (is_path_ok)
			admin_fail(&r, 405, "method %s not allowed here (use "
			    "%s)", method_name(m), r.allow);
		else
			admin_fail(&r, 404, "no such resource");
		goto send;
	}
	rt->fn(&r);
send:
	a->requests++;
	admin_send(&r);
	/* The error goes into a quoted log value: no double quotes in it. */
	for (i = 0; r.err[i] != '\0'; i++)
		if (r.err[i] == '"')
			r.err[i] = '\'';
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &host,
	    &port);
	if (r.code >= 400 || m != EVHTTP_REQ_GET)
		log_info("event=admin_request peer=%s method=%s path=%.200s "
		    "status=%d%s%s%s", host != NULL ? host : "?",
		    method_name(m), path, r.code, r.code >= 400 ?
		    " error=\"" : "", r.code >= 400 ? r.err : "",
		    r.code >= 400 ? "\"" : "");
	else if (log_debug_enabled())
		log_debug("event=admin_request peer=%s method=%s path=%.200s "
		    "status=%d", host != NULL ? host : "?", method_name(m),
		    path, r.code);
	for (i = 0; i < r.nseg; i++)
		evmem_free_libevent(r.seg[i]);	/* evhttp_uridecode's */
	free(r.buf);
}

/* --- lifecycle ----------------------------------------------------------- */

/* A TLS bufferevent for each new admin connection when TLS is on; NULL
 * makes evhttp use a plain socket bufferevent. */
static struct bufferevent *
admin_bev_cb(struct event_base *base, void *arg)
{
	struct admin		*a = arg;
	struct bufferevent	*bev;

	if (a->tls == NULL)
		return NULL;
	if ((bev = tls_bev_new(base, -1, a->tls, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return NULL;
	/* HTTP clients often close without close_notify. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* Build the TLS context of cfg's admin block into *out (NULL when TLS is
 * off). Returns 0 or -1 (logged). */
static int
admin_tls_new(const struct config *cfg, SSL_CTX **out)
{
	char	 err[512];

	*out = NULL;
	if (!cfg->admin_tls.enabled)
		return 0;
	if ((*out = tls_server_ctx_new(&cfg->admin_tls, err,
	    sizeof(err))) == NULL) {
		log_warnx("event=admin_tls_failed error=\"%s\"", err);
		return -1;
	}
	return 0;
}

static struct admin *
admin_new(struct daemon *d)
{
	const struct config	*cfg = d->cfg;
	struct admin		*a;

	if (!cfg->has_admin || cfg->admin_token == NULL) {
		log_warnx("event=admin_failed reason=\"no admin block or "
		    "token\"");
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->token = strdup(cfg->admin_token)) == NULL) {
		log_warn("event=admin_failed doing=alloc");
		goto err;
	}
	a->d = d;
	snprintf(a->host, sizeof(a->host), "%s", cfg->admin_host);
	a->port = cfg->admin_port;
	if (admin_tls_new(cfg, &a->tls) == -1)
		goto err;
	if ((a->http = evhttp_new(d->base)) == NULL) {
		log_warnx("event=admin_failed doing=evhttp_new");
		goto err;
	}
	evhttp_set_max_body_size(a->http, ADMIN_BODY_MAX);
	evhttp_set_max_headers_size(a->http, ADMIN_HEADERS_MAX);
	evhttp_set_timeout(a->http, ADMIN_TIMEOUT_S);
	/* Let every method reach us so a wrong one gets a JSON 405. */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	/* Read (and drop) an oversized body before answering 413, so the
	 * client sees the status instead of a reset. */
	evhttp_set_flags(a->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(a->http, admin_request_cb, a);
	evhttp_set_bevcb(a->http, admin_bev_cb, a);
	if (evhttp_bind_socket_with_handle(a->http, a->host, a->port) ==
	    NULL) {
		log_warn("event=admin_failed bind=%s:%u", a->host,
		    (unsigned)a->port);
		goto err;
	}
	log_info("event=admin_listening bind=%s:%u tls=%s", a->host,
	    (unsigned)a->port, a->tls != NULL ? "yes" : "no");
	return a;

err:
	admin_free(a);
	return NULL;
}

int
admin_start(struct daemon *d, void **state)
{
	*state = NULL;
	if (!d->cfg->has_admin)
		return 0;
	if ((*state = admin_new(d)) == NULL)
		return -1;
	return 0;
}

void
admin_free(void *state)
{
	struct admin	*a = state;

	if (a == NULL)
		return;
	if (a->http != NULL)
		evhttp_free(a->http);
	SSL_CTX_free(a->tls);
	if (a->token != NULL) {
		OPENSSL_cleanse(a->token, strlen(a->token));
		free(a->token);
	}
	free(a);
}

void
admin_reload(struct daemon *d, void **state)
{
	const struct config	*cfg = d->cfg;
	struct admin		*a = *state, *na;
	SSL_CTX			*ctx;
	char			*tok;

	if (!cfg->has_admin) {
		if (a != NULL) {
			log_info("event=admin_stopped reason=reload");
			admin_free(a);
			*state = NULL;
		}
		return;
	}
	if (a == NULL || strcmp(a->host, cfg->admin_host) != 0 ||
	    a->port != cfg->admin_port) {
		/* New address: open it first; the old one stays on failure. */
		if ((na = admin_new(d)) == NULL) {
			log_warnx("event=reload_note admin bind %s:%u failed%s",
			    cfg->admin_host, (unsigned)cfg->admin_port,
			    a != NULL ? " (the old admin address stays)" : "");
			return;
		}
		if (a != NULL)
			na->requests = a->requests;
		admin_free(a);
		*state = na;
		return;
	}
	if (admin_tls_new(cfg, &ctx) == -1) {
		log_warnx("event=reload_note admin TLS refused (old admin "
		    "settings stay)");
		return;
	}
	if ((tok = strdup(cfg->admin_token)) == NULL) {
		SSL_CTX_free(ctx);
		log_warn("event=reload_note admin token (old settings stay)");
		return;
	}
	/* Connections already made keep their SSL (it holds a reference to
	 * the old context). */
	SSL_CTX_free(a->tls);
	a->tls = ctx;
	OPENSSL_cleanse(a->token, strlen(a->token));
	free(a->token);
	a->token = tok;
}

const struct daemon_frontend admin_frontend = {
	.start = admin_start,
	.reload = admin_reload,
	.free = admin_free,
};
