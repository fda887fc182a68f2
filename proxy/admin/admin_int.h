/*
 * Internal to the admin HTTP API (proxy/admin/): the server, one request
 * being answered, the request helpers (admin_req.c) and the handlers
 * (admin_handlers.c, admin_metrics.c) the routing table in admin.c names.
 */
#ifndef PROXY_ADMIN_INT_H
#define PROXY_ADMIN_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/ssl.h>

struct compliance_err;
struct daemon;
struct evhttp;
struct evhttp_request;

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

/* A scope in a request body: "all" or "categories" as given. */
struct admin_scope {
	bool		 all;
	const char	**names;	/* owned array of views into the body */
	size_t		 n;
};

typedef void (*admin_handler_fn)(struct areq *);

/* Answer with {"error": message} and code (the body so far is dropped). */
void admin_fail(struct areq *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Answer with a compliance error: bad input gets input_code (422 for a
 * body, 400 for the path or the query string), not found 404, a conflict
 * 409, the store 503, memory 500.
 */
void admin_fail_with(struct areq *r, const struct compliance_err *err,
    int input_code);

/*
 * The request body as a JSON object whose keys are all in allowed (NULL
 * terminated). Returns a new reference, or NULL answered (400, 413).
 */
json_t *admin_body(struct areq *r, const char *const *allowed);

/*
 * The string member key of o into *out (a view valid while o is): absent
 * or null gives NULL, or when required 422. Returns 0 or -1 (answered).
 */
int admin_body_str(struct areq *r, json_t *o, const char *key,
    bool required, const char **out);

/*
 * "all" (a boolean) and "categories" (an array of names) of o into sc (its
 * names freed with admin_scope_free()). Checks the JSON types only (400);
 * what they mean is the compliance layer's. Returns 0 or -1 (answered).
 */
int admin_body_scope(struct areq *r, json_t *o, struct admin_scope *sc);
void admin_scope_free(struct admin_scope *sc);

/*
 * Parse the query string into q (free with evhttp_clear_headers() in every
 * case), refusing names not in allowed (NULL terminated). Returns 0 or -1
 * (answered 400).
 */
int admin_query(struct areq *r, struct evkeyvalq *q,
    const char *const *allowed);

/* ?limit=N: default ADMIN_PAGE_DEFAULT, 1..ADMIN_PAGE_MAX. Returns 0 or
 * -1 (answered 400). */
int admin_limit(struct areq *r, struct evkeyvalq *q, size_t *out);

/* The handlers the routing table names. */
void admin_h_healthz(struct areq *r);			/* admin_handlers.c */
void admin_h_number(struct areq *r);
void admin_h_history(struct areq *r);
void admin_h_optouts(struct areq *r);
void admin_h_optins(struct areq *r);
void admin_h_events(struct areq *r);
void admin_h_audit(struct areq *r);
void admin_h_review_list(struct areq *r);
void admin_h_review_get(struct areq *r);
void admin_h_review_resolve(struct areq *r);
void admin_h_metrics(struct areq *r);			/* admin_metrics.c */

#endif /* PROXY_ADMIN_INT_H */
