/*
 * Internal to the admin HTTP API (proxy/admin/): the server, one request
 * being answered, the request helpers (admin_req.c), the handlers
 * (admin_handlers.c, admin_metrics.c) the routing table in admin.c names,
 * the connections (admin_conn.c), the token throttle (admin_throttle.c)
 * and the thread and its bridge to the daemon's loop (admin_server.c).
 *
 * Threads. The API runs on a thread of its own with its own event_base
 * and its own store handle, so a slow request (an audit query that walks
 * the whole log) never holds up the SMPP loop. What only the daemon's
 * loop may touch (pools, sessions, counters, the writer, the attribution
 * index) is read there: the admin thread posts an admin_call and waits
 * for the loop to answer it (admin_call_run). Fields are marked with the
 * thread that uses them: [A] the admin thread (or the daemon thread
 * before the admin thread starts and after it is joined), [D] the
 * daemon's thread, [mu] either, under mu.
 */
#ifndef PROXY_ADMIN_ADMIN_INT_H
#define PROXY_ADMIN_ADMIN_INT_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "config/config.h"
#include "proxy/cluster/cluster.h"
#include "proxy/daemon/daemon.h"
#include "proxy/daemon/upstream.h"
#include "proxy/daemon/writer.h"
#include "store/store.h"

struct admin_throttle;
struct compliance_err;
struct event;
struct event_base;
struct evconnlistener;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;

#define ADMIN_SEGS_MAX		6	/* path segments we route on */
#define ADMIN_ACTOR_DEFAULT	"api"
/* How long a request waits for the daemon's loop to answer it. */
#define ADMIN_CALL_TIMEOUT_MS	2000
/* A listener out of descriptors pauses this long before trying again. */
#define ADMIN_ACCEPT_PAUSE_MS	250
/* How often refused connections and token failures are summarised. */
#define ADMIN_REPORT_MS		10000
#define ADMIN_PEER_MAX		64	/* numeric address, with NUL */

/* --- figures of the daemon's loop ------------------------------------ */

struct admin_pool_fig {
	char			 name[CONFIG_NAME_MAX];
	bool			 is_bound;
	struct upstream_stats	 st;
};

struct admin_account_fig {
	char			 system_id[16];
	size_t			 bound;		/* bound sessions */
};

/* What /metrics and /healthz show of the daemon, copied on its loop. */
struct admin_figures {
	struct admin_pool_fig	*pools;		/* owned */
	size_t			 npools;
	struct admin_account_fig *accounts;	/* owned */
	size_t			 naccounts;
	size_t			 nsessions;
	struct daemon_counters	 counters;
	uint64_t		 peer_log_suppressed;
	uint64_t		 cfg_gen;
	bool			 has_writer;
	struct writer_counters	 wc;
	struct writer_health	 wh;
	uint64_t		 writer_pending;
	bool			 has_attrib;
	size_t			 attrib_count;
	size_t			 attrib_bytes;
	bool			 has_cluster;
	struct cluster_stats	 cl;
};

/* Copy d's figures into fig (zeroed first). On the daemon's thread. */
void admin_figures_take(struct daemon *d, struct admin_figures *fig);
void admin_figures_clear(struct admin_figures *fig);

enum admin_call_kind {
	ADMIN_CALL_FIGURES = 0,
	ADMIN_CALL_LASTSENT,	/* daemon_lastsent_pending(number) */
};

/* One call into the daemon's loop; lives on the admin thread's stack. */
struct admin_call {
	enum admin_call_kind	 kind;
	char			 number[STORE_NUMBER_MAX];	/* in */
	bool			 is_found;			/* out */
	struct store_lastsent	 last;
	struct admin_figures	 fig;
	bool			 is_done;	/* [mu] answered */
};

/* --- connections ------------------------------------------------------ */

/* One admin connection (admin_conn.c). [A] */
struct admin_conn {
	TAILQ_ENTRY(admin_conn)	 entry;
	struct admin		*a;		/* borrowed */
	struct evhttp_connection *evcon;	/* borrowed: evhttp's */
	struct bufferevent	*bev;		/* borrowed: evcon's */
	struct evbuffer_cb_entry *in_cb;	/* first byte of a request */
	struct event		*deadline;	/* owned */
	bool			 is_reading;	/* deadline armed */
	bool			 is_busy;	/* a request with us */
};
TAILQ_HEAD(admin_conn_list, admin_conn);

/* A connection accepted, not looked at yet (admin_conn.c). [A] */
struct admin_newbev {
	struct bufferevent	*bev;		/* a reference */
	bool			 is_bad;	/* close it (no TLS) */
};

/* A request held back by the token throttle (admin.c). [A] */
struct admin_held {
	TAILQ_ENTRY(admin_held)	 entry;
	struct admin		*a;		/* borrowed */
	struct event		*ev;		/* owned */
	struct areq		*r;		/* owned */
	bool			 is_checked;	/* r is a 401 waiting to go;
						 * else its token waits */
};
TAILQ_HEAD(admin_held_list, admin_held);

struct admin_export;
TAILQ_HEAD(admin_export_list, admin_export);

struct admin {
	struct daemon		*d;		/* borrowed [D] */
	char			 host[64];	/* the bound address */
	uint16_t		 port;

	/* The admin thread and what it alone uses. [A] */
	pthread_t		 thread;
	bool			 is_thread;	/* started */
	struct event_base	*base;		/* owned */
	struct evhttp		*http;		/* owned */
	struct evconnlistener	*lev;		/* borrowed: http's */
	struct store		*store;		/* owned: a sibling of d's */
	struct event		*wake_ev;	/* owned: reads wake_fd */
	struct event		*resume_ev;	/* owned: accept pause */
	struct event		*report_ev;	/* owned: summaries */
	struct event		*newconn_ev;	/* owned: see admin_conn.c */
	struct admin_newbev	*newbev;	/* owned array, refs held */
	size_t			 nnewbev, newbev_cap;
	struct admin_conn_list	 conns;
	size_t			 nconns;
	uint64_t		 refused;	/* over the cap, unreported */
	uint64_t		 accept_errors;	/* this pause, unreported */
	uint64_t		 cut;		/* past the request deadline,
						 * unreported */
	struct admin_throttle	*thr;		/* owned */
	struct admin_held_list	 held;
	struct admin_export_list exports;	/* streaming answers */

	/* Counters for /metrics, read by any thread. */
	atomic_uint_fast64_t	 requests;	/* answered */
	atomic_uint_fast64_t	 unauthorized;	/* 401s */
	atomic_uint_fast64_t	 auth_failures;	/* wrong tokens checked */

	/* Shared between the threads. */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	bool			 is_sync;	/* mu and cv made */
	struct config		*cfg;		/* [mu] a reference */
	SSL_CTX			*tls;		/* [mu] owned; NULL = plain */
	char			*token;		/* [mu] owned copy */
	bool			 is_stopping;	/* [mu] */
	struct admin_call	*call;		/* [mu] waiting; NULL none */
	int			 wake_fd;	/* eventfd: daemon -> admin */
	int			 loop_fd;	/* eventfd: admin -> daemon */
	struct event		*loop_ev;	/* owned [D]: on d->base */
};

/* Who made a request: a user of admin.users, or the shared token. */
struct admin_who {
	char		 name[CONFIG_USER_NAME_MAX];
	bool		 is_staff;	/* may change things */
	bool		 is_shared;	/* admin.token: the actor is the
					 * body's, source api */
};

/* One request being answered. [A] */
struct areq {
	struct admin		*a;		/* borrowed */
	struct config		*cfg;		/* a reference, for this
						 * request */
	struct store		*st;		/* borrowed: a->store */
	struct evhttp_request	*req;		/* borrowed */
	const char		*query;		/* view; NULL = none */
	char			*seg[ADMIN_SEGS_MAX];	/* owned, decoded */
	size_t			 nseg;
	FILE			*fp;		/* body (memstream) */
	char			*buf;		/* memstream buffer, owned */
	size_t			 len;
	int			 code;		/* HTTP status */
	bool			 is_error;	/* admin_fail'd: the body is
						 * {"error": err} */
	char			 err[320];	/* set with code >= 400 */
	const char		*ctype;		/* NULL = JSON */
	const char		*allow;		/* 405: the Allow header */
	const char		*retry_after;	/* 429: seconds */
	const char		*cache;		/* Cache-Control; NULL:
						 * no-store */
	const char		*etag;		/* an asset's; NULL none */
	struct admin_who	 who;		/* set once authorised */
	bool			 is_streamed;	/* answered in chunks by
						 * admin_export.c: not sent
						 * at the end */
	bool			 is_quiet;	/* logged in a summary */
	char			 path[256];	/* for the log */
	char			 peer[ADMIN_PEER_MAX];
};

/* A scope in a request body: "all" or "categories" as given. */
struct admin_scope {
	bool		 all;
	const char	**names;	/* owned array of views into the body */
	size_t		 n;
};

typedef void (*admin_handler_fn)(struct areq *);

/*
 * Run c on the daemon's loop and wait for its answer (at most
 * ADMIN_CALL_TIMEOUT_MS). On the admin thread, holding no store
 * transaction (the loop may wait for the map to grow). Returns 0, or -1
 * when the loop did not answer in time or the server is stopping.
 */
int admin_call_run(struct admin *a, struct admin_call *c);

/* The config now in force: a new reference (config_unref() it). */
struct config *admin_config(struct admin *a);

/*
 * admin_conn.c, on the admin thread: the connection cap, the
 * whole-request deadline and the accept-error pause. admin_conn_init
 * sets up a's listener (after the bind) and evhttp's bufferevent callback
 * (admin_conn_bev); admin_conn_request notes that req was read in full
 * and is with us (its deadline stops; the next starts once its answer has
 * gone out and more bytes come). admin_conn_teardown frees what is left
 * (before evhttp_free). Returns: 0 or -1.
 */
int admin_conn_init(struct admin *a);
struct bufferevent *admin_conn_bev(struct event_base *base, void *arg);
void admin_conn_request(struct admin *a, struct evhttp_request *req);
void admin_conn_teardown(struct admin *a);
/* The server the calling admin thread runs (set by its main), for
 * callbacks whose argument is libevent's. */
extern _Thread_local struct admin *admin_self;

/* Log and reset the episode counts (refused connections, accept errors,
 * deadlines). */
void admin_conn_report(struct admin *a);
/* Whether the peer of req has closed its end (a request to drop). */
bool admin_conn_is_gone(struct evhttp_request *req);

/* admin.c: evhttp's request callback. */
void admin_request_cb(struct evhttp_request *req, void *arg);
/* Answer and free what a holds back (at teardown). */
void admin_held_drop_all(struct admin *a);

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
void admin_h_asset(struct areq *r);			/* admin_web.c */
void admin_h_whoami(struct areq *r);
void admin_h_series(struct areq *r);
void admin_h_stats(struct areq *r);
void admin_h_live(struct areq *r);
void admin_h_export(struct areq *r);			/* admin_export.c */
void admin_h_import(struct areq *r);			/* admin_import.c */

/*
 * admin_export.c: whether req is a streaming answer's (libevent hands a
 * request whose connection failed mid-write back to the request
 * callback; it is then ended here, true), and the end of every stream at
 * teardown, before evhttp_free.
 */
bool admin_export_claim(struct admin *a, const struct evhttp_request *req);
void admin_export_drop_all(struct admin *a);

/*
 * admin_web.c: the headers every answer carries (no sniffing, no
 * framing, no referrer, a Content-Security-Policy: the dashboard's for
 * its page, none at all for the rest), to oh.
 */
void admin_web_headers(struct areq *r, struct evkeyvalq *oh);

/*
 * Who authorization (an Authorization header value, may be NULL) is:
 * the shared token (token, may be NULL) or a user of cfg->admin_users.
 * Every token is compared (in constant time), whichever matches. Returns
 * true with *who filled, or false.
 */
bool admin_who_find(const char *token, const struct config *cfg,
    const char *authorization, struct admin_who *who);

#endif /* PROXY_ADMIN_ADMIN_INT_H */
