/*
 * The admin HTTP API server: evhttp on the daemon's loop, the bearer
 * token, optional TLS, the limits on a request, and the routing table that
 * hands each request to its handler (admin_handlers.c, admin_metrics.c).
 * A handler writes its body through a memstream; this file sends it, or
 * {"error": ...}, and logs the request.
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
#include "proxy/compliance/jsonout.h"
#include "proxy/daemon/daemon.h"
#include "proxy/io/evmem.h"
#include "proxy/io/log.h"
#include "proxy/io/tls.h"

/* Routes: path pattern ("*" matches one segment), method, auth. */
static const struct admin_route {
	const char		*pattern;
	enum evhttp_cmd_type	 method;
	bool			 is_public;
	admin_handler_fn	 fn;
} admin_routes[] = {
	{ "/healthz", EVHTTP_REQ_GET, true, admin_h_healthz },
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
	if (r->code >= 400 || r->buf == NULL) {
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
	evhttp_add_header(oh, "Cache-Control", "no-store");
	if (r->code == 401)
		evhttp_add_header(oh, "WWW-Authenticate",
		    "Bearer realm=\"stopgate\"");
	if (r->code == 405 && r->allow != NULL)
		evhttp_add_header(oh, "Allow", r->allow);
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

/* Route r and run its handler, or answer 401, 404 or 405. */
static void
admin_dispatch(struct admin *a, struct areq *r, const char *path)
{
	const struct admin_route *rt;
	enum evhttp_cmd_type	 m = evhttp_request_get_command(r->req);
	bool			 is_path_ok;

	if (admin_path_split(r, path) == -1) {
		admin_fail(r, 404, "no such resource");
		return;
	}
	rt = admin_route_find(r, m, &is_path_ok);
	/* Everything but /healthz needs the token, even to learn that a
	 * path does not exist. */
	if ((rt == NULL || !rt->is_public) && !admin_token_ok(a->token,
	    evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Authorization"))) {
		a->unauthorized++;
		admin_fail(r, 401, "a valid bearer token is required "
		    "(Authorization: Bearer TOKEN)");
		return;
	}
	if (rt == NULL) {
		if (is_path_ok)
			admin_fail(r, 405, "method %s not allowed here (use "
			    "%s)", method_name(m), r->allow);
		else
			admin_fail(r, 404, "no such resource");
		return;
	}
	rt->fn(r);
}

/* Log the answer to r: every refusal and every change; reads only at
 * debug level. */
static void
admin_log_request(struct areq *r, const char *path)
{
	enum evhttp_cmd_type	 m = evhttp_request_get_command(r->req);
	char			*host = NULL;
	ev_uint16_t		 port = 0;
	size_t			 i;

	/* The error goes into a quoted log value: no double quotes in it. */
	for (i = 0; r->err[i] != '\0'; i++)
		if (r->err[i] == '"')
			r->err[i] = '\'';
	evhttp_connection_get_peer(evhttp_request_get_connection(r->req),
	    &host, &port);
	if (r->code >= 400 || m != EVHTTP_REQ_GET)
		log_info("event=admin_request peer=%s method=%s path=%.200s "
		    "status=%d%s%s%s", host != NULL ? host : "?",
		    method_name(m), path, r->code, r->code >= 400 ?
		    " error=\"" : "", r->code >= 400 ? r->err : "",
		    r->code >= 400 ? "\"" : "");
	else if (log_debug_enabled())
		log_debug("event=admin_request peer=%s method=%s path=%.200s "
		    "status=%d", host != NULL ? host : "?", method_name(m),
		    path, r->code);
}

static void
admin_request_cb(struct evhttp_request *req, void *arg)
{
	struct admin		*a = arg;
	struct areq		 r;
	const struct evhttp_uri	*uri;
	const char		*path;
	size_t			 i;

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
	if ((r.fp = open_memstream(&r.buf, &r.len)) == NULL)
		admin_fail(&r, 500, "out of memory");
	else
		admin_dispatch(a, &r, path);
	a->requests++;
	admin_send(&r);
	admin_log_request(&r, path);
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
