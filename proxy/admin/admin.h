/*
 * The admin HTTP API (SPEC §6): evhttp on a thread of its own, with its
 * own event loop and store handle (admin_int.h says what it reads from
 * the daemon's loop and how), bearer token, optional TLS
 * (bufferevent_openssl), JSON in and out.
 *
 *   GET  /healthz                       no auth; 200, or 503 store unreadable
 *   GET  /metrics                       Prometheus text exposition 0.0.4
 *   GET  /v1/numbers/{number}           status per category
 *   GET  /v1/numbers/{number}/history   every event of the number
 *   POST /v1/optouts                    {number, categories|all, note, actor}
 *   POST /v1/optins                     ... and consent (required)
 *   GET  /v1/events?after=ID&limit=N    resumable feed for CRM sync
 *   GET  /v1/audit?since&until&number&account&category&limit
 *   GET  /v1/review                     open items, oldest first
 *   GET  /v1/review/{id}                one item, open or resolved
 *   POST /v1/review/{id}/resolve        {decision, note, actor, categories|all}
 *   GET  /, /assets/NAME                the dashboard (admin_web.c), no auth
 *   GET  /v1/whoami                     the signed-in user and role
 *   GET  /v1/series?days=N              per-day counters for the charts
 *   GET  /v1/stats?since=T              the history's tallies
 *   GET  /v1/live                       the figures /metrics shows, as JSON
 *   GET  /v1/export?format=csv|jsonl    the state, streamed (admin_export.c)
 *   POST /v1/import                     a CSV body (admin_import.c)
 *
 * Tokens: the shared admin.token (staff, actor from the body) or one of
 * admin.users (viewer: GET only, 403 otherwise; staff: the user's name
 * is the actor of every change).
 *
 * Errors are {"error": "..."} with a 4xx/5xx status; nothing is changed by
 * a refused request. Every request runs to completion on the admin
 * thread, so every list is bounded (ADMIN_PAGE_MAX) and a body is at most
 * ADMIN_BODY_MAX bytes. Connections are capped
 * (limits.max_admin_connections), a request must be read in full within
 * timeouts.admin_request_ms, and wrong tokens are throttled per address
 * (admin_throttle.h).
 */
#ifndef PROXY_ADMIN_ADMIN_H
#define PROXY_ADMIN_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

struct daemon;
struct daemon_frontend;

#define ADMIN_BODY_MAX		(64u * 1024u)	/* request body, bytes */
#define ADMIN_HEADERS_MAX	(16u * 1024u)	/* request headers, bytes */
#define ADMIN_PAGE_MAX		1000u		/* items in one response */
#define ADMIN_PAGE_DEFAULT	100u
#define ADMIN_TIMEOUT_S		30		/* idle connection, seconds */

/*
 * The daemon front end hooks (proxy/daemon/daemon.h, struct
 * daemon_frontend), which main passes to daemon_main() as admin_frontend.
 *
 * admin_start: with an admin block in d->cfg, bind admin.bind and serve
 * it from a new thread; *state gets the server (NULL without an admin
 * block). Called on d's thread, which must run d->base afterwards (the
 * server asks it for the daemon's figures). Returns 0, or -1 with the
 * reason logged.
 *
 * admin_reload: SIGHUP, after d->cfg was swapped: apply the new admin
 * block to *state. A new token and new TLS files apply to the next request
 * / connection; a changed bind address opens the new socket first and
 * closes the old one only if that worked; an admin block added or removed
 * starts or stops the server. On any failure the old server stays as it
 * was (logged).
 *
 * admin_free: stop the thread (a request waiting for d's loop gives up at
 * once; one in the store finishes first) and join it, close the socket and
 * every admin connection, free; accepts NULL. On d's thread.
 */
int admin_start(struct daemon *d, void **state);
void admin_reload(struct daemon *d, void **state);
void admin_free(void *state);
extern const struct daemon_frontend admin_frontend;

/*
 * True if authorization (an Authorization header value, may be NULL) is
 * "Bearer <token>" (scheme case-insensitive) for this token. The compare
 * takes the same time whatever the input (SHA-256 of both, then
 * CRYPTO_memcmp). Exported for tests.
 */
bool admin_token_ok(const char *token, const char *authorization);

#endif /* PROXY_ADMIN_ADMIN_H */
