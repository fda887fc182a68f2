/*
 * The admin HTTP API's requests, on the admin thread: the bearer token
 * and its throttle (admin_throttle.h), and the routing table that hands
 * each request to its handler (admin_handlers.c, admin_metrics.c). A
 * handler writes its body through a memstream; this file sends it, or
 * {"error": ...}, and logs the request. The thread, its loop and the
 * connections are admin_server.c's and admin_conn.c's.
 */
#include "proxy/admin/admin.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "config/config.h"
#include "proxy/admin/admin_int.h"
#include "proxy/admin/admin_throttle.h"
#include "proxy/compliance/jsonout.h"
#include "proxy/daemon/daemon.h"
#include "proxy/io/evmem.h"
#include "proxy/io/log.h"

/* Routes: path pattern ("*" matches one segment), method, auth. */
static const struct admin_route {
	const char		*pattern;
	enum evhttp_cmd_type	 method;
	bool			 is_public;
	admin_handler_fn	 fn;
} admin_routes[] = {
	{ "/healthz", EVHTTP_REQ_GET, true, admin_h_healthz },
	/* The dashboard's page and assets: no secret in them, and the
	 * page must load before anyone can sign in. */
	{ "/", EVHTTP_REQ_GET, true, admin_h_asset },
	{ "/assets/*", EVHTTP_REQ_GET, true, admin_h_asset },
	{ "/v1/whoami", EVHTTP_REQ_GET, false, admin_h_whoami },
	{ "/v1/series", EVHTTP_REQ_GET, false, admin_h_series },
	{ "/v1/stats", EVHTTP_REQ_GET, false, admin_h_stats },
	{ "/v1/live", EVHTTP_REQ_GET, false, admin_h_live },
	{ "/v1/export", EVHTTP_REQ_GET, false, admin_h_export },
	{ "/v1/import", EVHTTP_REQ_POST, false, admin_h_import },
	{ "/metrics", EVHTTP_REQ_GET, false, admin_h_metrics },
	{ "/v1/numbers/*", EVHTTP_REQ_GET, false, admin_h_number },
	{ "/v1/numbers/*/history", EVHTTP_REQ_GET, false, admin_h_history },
	{ "/v1/optouts", EVHTTP_REQ_POST, false, admin_h_optouts },
	{ "/v1/optins", EVHTTP_REQ_POST, false, admin_h_optins },
	{ "/v1/events", EVHTTP_REQ_GET, false, admin_h_events },
	{ "/v1/audit", EVHTTP_REQ_GET, false, admin_h_audit },
	{ "/v1/review", EVHTTP_REQ_GET, false, admin_h_review_list },
	{ "/v1/review/*", EVHTTP_REQ_GET, false, admin_h_review_get },
	{ "/v1/review/*/resolve", EVHTTP_REQ_POST, false,
	    admin_h_review_resolve },
};

#define NROUTES	(sizeof(admin_routes) / sizeof(admin_routes[0]))

/* --- auth ---------------------------------------------------------------- */

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
	/* A handler may answer an error status with a body of its own
	 * (/healthz's 503). */
	if (r->is_error || r->buf == NULL) {
		if (r->code < 400) {
			r->code = 500;
			snprintf(r->err, sizeof(r->err), "out of memory");
		}
		if ((fp = open_memstream(&ebuf, &elen)) != NULL) {
			fprintf(fp, "{\"error\":");
			jsonout_str(fp, r->err);
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
	evhttp_add_header(oh, "Cache-Control", r->cache != NULL ? r->cache :
	    "no-store");
	admin_web_headers(r, oh);
	if (r->code == 401)
		evhttp_add_header(oh, "WWW-Authenticate",
		    "Bearer realm=\"stopgate\"");
	if (r->code == 405 && r->allow != NULL)
		evhttp_add_header(oh, "Allow", r->allow);
	if (r->code == 429 && r->retry_after != NULL)
		evhttp_add_header(oh, "Retry-After", r->retry_after);
	evhttp_send_reply(r->req, r->code, NULL, out);
	evbuffer_free(out);
}

/*
 * The route for r's path and method m: NULL when there is none (r->allow
 * names the method the path takes, if the path is known, in *is_path_ok).
 */
static const struct admin_route *
admin_route_find(struct areq *r, enum evhttp_cmd_type m, bool *is_path_ok)
{
	size_t	 i;

	*is_path_ok = false;
	for (i = 0; i < NROUTES; i++) {
		if (!route_match(admin_routes[i].pattern, r))
			continue;
		*is_path_ok = true;
		if (admin_routes[i].method == m ||
		    (m == EVHTTP_REQ_HEAD &&
		    admin_routes[i].method == EVHTTP_REQ_GET))
			return &admin_routes[i];
		r->allow = method_name(admin_routes[i].method);
	}
	return NULL;
}

/* --- one request --------------------------------------------------------- */

/* Log the answer to r: every refusal and every change; reads only at
 * debug level. Throttled answers are left to the summary. */
static void
admin_log_request(struct areq *r, enum evhttp_cmd_type m)
{
	size_t	 i;

	if (r->is_quiet)
		return;
	/* The error goes into a quoted log value: no double quotes in it. */
	for (i = 0; r->err[i] != '\0'; i++)
		if (r->err[i] == '"')
			r->err[i] = '\'';
	if (r->code >= 400 || m != EVHTTP_REQ_GET)
		log_info("event=admin_request peer=%s method=%s path=%.200s "
		    "status=%d%s%s%s%s%s", r->peer, method_name(m), r->path,
		    r->code, r->who.name[0] != '\0' ? " user=" : "",
		    r->who.name, r->code >= 400 ? " error=\"" : "",
		    r->code >= 400 ? r->err : "", r->code >= 400 ? "\"" : "");
	else if (log_debug_enabled())
		log_debug("event=admin_request peer=%s method=%s path=%.200s "
		    "status=%d", r->peer, method_name(m), r->path, r->code);
}

/* Free r (not its evhttp request). */
static void
areq_free(struct areq *r)
{
	size_t	 i;

	if (r->fp != NULL)
		fclose(r->fp);
	for (i = 0; i < r->nseg; i++)
		evmem_free_libevent(r->seg[i]);	/* evhttp_uridecode's */
	free(r->buf);
	config_unref(r->cfg);
	free(r);
}

/* Send r's answer, log it, free r. */
static void
areq_finish(struct areq *r)
{
	enum evhttp_cmd_type	 m = evhttp_request_get_command(r->req);

	atomic_fetch_add(&r->a->requests, 1);
	if (!r->is_streamed)
		admin_send(r);	/* may free r->req */
	admin_log_request(r, m);
	areq_free(r);
}

/* A new request state for req (its path and query read), or NULL. */
static struct areq *
areq_new(struct admin *a, struct evhttp_request *req, const char **path)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct areq		*r;
	char			*host = NULL;
	ev_uint16_t		 port = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->a = a;
	r->st = a->store;
	r->req = req;
	*path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (uri != NULL)
		r->query = evhttp_uri_get_query(uri);
	if (*path == NULL || (*path)[0] == '\0')
		*path = "/";
	snprintf(r->path, sizeof(r->path), "%s", *path);
	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &host, &port);
	snprintf(r->peer, sizeof(r->peer), "%s", host != NULL ? host : "?");
	if ((r->fp = open_memstream(&r->buf, &r->len)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

/* Run the handler of route rt (NULL: 404 or 405) for r, and answer. */
static void
admin_run(struct areq *r, const struct admin_route *rt, bool is_path_ok,
    enum evhttp_cmd_type m)
{
	if (rt == NULL) {
		if (is_path_ok)
			admin_fail(r, 405, "method %s not allowed here (use "
			    "%s)", method_name(m), r->allow);
		else
			admin_fail(r, 404, "no such resource");
	} else {
		r->cfg = admin_config(r->a);
		rt->fn(r);
	}
	areq_finish(r);
}

static void admin_held_cb(evutil_socket_t, short, void *);
static void admin_held_free(struct admin_held *);
static void areq_drop(struct areq *);

/*
 * Drop the requests of peer held unchecked whose clients have gone (a
 * guesser that gave up on them): they hold places a client still
 * waiting could use. Nothing was checked, so nothing is told.
 */
static void
admin_held_reap(struct admin *a, const char *peer)
{
	struct admin_held	*h, *next;
	struct areq		*r;

	for (h = TAILQ_FIRST(&a->held); h != NULL; h = next) {
		next = TAILQ_NEXT(h, entry);
		r = h->r;
		if (h->is_checked || strcmp(r->peer, peer) != 0 ||
		    !admin_conn_is_gone(r->req))
			continue;
		admin_held_free(h);
		areq_drop(r);
	}
}

/* A place among the requests peer may have held, or false. */
static bool
admin_hold_place(struct admin *a, const char *peer, bool is_checked)
{
	if (admin_throttle_hold(a->thr, peer, daemon_now_ms(), is_checked))
		return true;
	admin_held_reap(a, peer);
	return admin_throttle_hold(a->thr, peer, daemon_now_ms(), is_checked);
}

/*
 * Hold r back for ms: its 401 (is_checked) or its token check. Returns 0,
 * or -1 when the address holds too many already (r is then answered 429
 * unchecked) or there is no memory (500).
 */
static int
admin_hold(struct areq *r, uint64_t ms, bool is_checked)
{
	struct admin		*a = r->a;
	struct admin_held	*h;
	struct timeval		 tv;

	if (!admin_hold_place(a, r->peer, is_checked)) {
		/* Nothing checked, so nothing learnt. */
		admin_fail(r, 429, "too many failed tokens from this address; "
		    "try again later");
		r->retry_after = "3";
		r->is_quiet = true;
		areq_finish(r);
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->ev = evtimer_new(a->base, admin_held_cb, h)) == NULL) {
		free(h);
		admin_throttle_release(a->thr, r->peer);
		admin_fail(r, 500, "out of memory");
		areq_finish(r);
		return -1;
	}
	h->a = a;
	h->r = r;
	h->is_checked = is_checked;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(h->ev, &tv);
	TAILQ_INSERT_TAIL(&a->held, h, entry);
	return 0;
}

/* The token of r is wrong: 401, at once or after the throttle's delay. */
static void
admin_unauthorized(struct areq *r, const char *authorization)
{
	struct admin	*a = r->a;
	uint64_t	 delay = 0;
	bool		 is_first = true;

	atomic_fetch_add(&a->unauthorized, 1);
	admin_fail(r, 401, "a valid bearer token is required "
	    "(Authorization: Bearer TOKEN)");
	/* No Authorization header is no guess: not counted. */
	if (authorization != NULL) {
		atomic_fetch_add(&a->auth_failures, 1);
		delay = admin_throttle_fail(a->thr, r->peer, daemon_now_ms(),
		    &is_first);
		r->is_quiet = !is_first;
	}
	if (delay == 0)
		areq_finish(r);
	else
		(void)admin_hold(r, delay, true);
}

static bool
admin_token_check(struct admin *a, const char *authorization,
    struct admin_who *who)
{
	bool	 is_ok;

	pthread_mutex_lock(&a->mu);
	is_ok = admin_who_find(a->token, a->cfg, authorization, who);
	pthread_mutex_unlock(&a->mu);
	return is_ok;
}

/*
 * Route r, check its token (unless the route is public) and answer it:
 * 401, 404, 405 or the handler's. A token from an address the throttle
 * holds back waits, unchecked, for its turn.
 */
static void
admin_dispatch(struct areq *r)
{
	const struct admin_route *rt;
	enum evhttp_cmd_type	 m = evhttp_request_get_command(r->req);
	const char		*authorization;
	uint64_t		 wait;
	bool			 is_path_ok;

	r->allow = NULL;
	rt = admin_route_find(r, m, &is_path_ok);
	if (rt != NULL && rt->is_public) {
		admin_run(r, rt, true, m);
		return;
	}
	/* Everything but /healthz needs the token, even to learn that a
	 * path does not exist. */
	if ((wait = admin_throttle_wait_ms(r->a->thr, r->peer,
	    daemon_now_ms())) > 0) {
		(void)admin_hold(r, wait, false);
		return;
	}
	authorization = evhttp_find_header(
	    evhttp_request_get_input_headers(r->req), "Authorization");
	if (!admin_token_check(r->a, authorization, &r->who)) {
		admin_unauthorized(r, authorization);
		return;
	}
	/* A viewer reads: every change is a POST. */
	if (rt != NULL && !r->who.is_staff && m != EVHTTP_REQ_GET &&
	    m != EVHTTP_REQ_HEAD) {
		admin_fail(r, 403, "user %s is a viewer and may not change "
		    "anything", r->who.name);
		areq_finish(r);
		return;
	}
	admin_run(r, rt, is_path_ok, m);
}

static void
admin_held_free(struct admin_held *h)
{
	TAILQ_REMOVE(&h->a->held, h, entry);
	admin_throttle_release(h->a->thr, h->r->peer);
	event_free(h->ev);
	free(h);
}

/* Drop r unanswered: its peer has gone. */
static void
areq_drop(struct areq *r)
{
	struct evhttp_connection *evcon;

	if ((evcon = evhttp_request_get_connection(r->req)) != NULL)
		evhttp_connection_free(evcon);	/* frees r->req */
	else
		evhttp_request_free(r->req);
	areq_free(r);
}

static void
admin_held_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_held	*h = arg;
	struct areq		*r = h->r;
	bool			 is_checked = h->is_checked;

	(void)fd;
	(void)what;
	admin_held_free(h);
	if (is_checked)
		areq_finish(r);		/* the 401, late */
	else if (admin_conn_is_gone(r->req))
		areq_drop(r);		/* unchecked: nothing to tell */
	else
		admin_dispatch(r);
}

void
admin_held_drop_all(struct admin *a)
{
	struct admin_held	*h;
	struct areq		*r;

	/* At teardown, before evhttp_free frees the requests with their
	 * connections. */
	while ((h = TAILQ_FIRST(&a->held)) != NULL) {
		r = h->r;
		admin_held_free(h);
		if (evhttp_request_get_connection(r->req) == NULL)
			evhttp_request_free(r->req);
		areq_free(r);
	}
}

void
admin_request_cb(struct evhttp_request *req, void *arg)
{
	struct admin	*a = arg;
	struct areq	*r;
	const char	*path;

	if (admin_export_claim(a, req))
		return;
	admin_conn_request(a, req);
	if ((r = areq_new(a, req, &path)) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (admin_path_split(r, path) == -1) {
		admin_fail(r, 404, "no such resource");
		areq_finish(r);
		return;
	}
	admin_dispatch(r);
}
