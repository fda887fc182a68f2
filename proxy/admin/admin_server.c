/*
 * The admin API's thread: started by admin_start (on the daemon's
 * thread) with its own event_base, evhttp and store handle, told of
 * reloads under a mutex, stopped and joined by admin_free. And the bridge
 * the other way: admin_call_run posts a call to the daemon's loop through
 * an eventfd and waits for its answer on a condition variable.
 *
 * The daemon's event_base is not made thread-safe (evthread is not on),
 * so the admin thread never touches it: it writes to loop_fd, whose event
 * the daemon's loop owns. Likewise the daemon thread wakes the admin loop
 * only through wake_fd.
 *
 * The config. A reload frees the old config right after admin_reload
 * returns, while the admin thread may be in the middle of a request that
 * reads it (categories, number rules). Configs are reference counted
 * (config_ref): a holds one on the config in force, swapped under mu by
 * admin_reload, and each request takes its own for its duration. A copy
 * per thread would do as well but would need a config_dup that knows
 * every owned field, and copies drift; a count is three lines.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/crypto.h>

#include "proxy/admin/admin.h"
#include "proxy/admin/admin_int.h"
#include "proxy/admin/admin_throttle.h"
#include "proxy/io/log.h"
#include "proxy/io/tls.h"

struct config *
admin_config(struct admin *a)
{
	struct config	*cfg;

	pthread_mutex_lock(&a->mu);
	cfg = config_ref(a->cfg);
	pthread_mutex_unlock(&a->mu);
	return cfg;
}

/* --- calls into the daemon's loop ---------------------------------------- */

static void
fd_poke(int fd)
{
	uint64_t	 one = 1;

	/* EAGAIN: the counter is full, so a wake-up is pending anyway. */
	while (write(fd, &one, sizeof(one)) == -1 && errno == EINTR)
		;
}

static void
fd_drain(int fd)
{
	uint64_t	 n;

	while (read(fd, &n, sizeof(n)) == -1 && errno == EINTR)
		;
}

/* On the daemon's loop: answer the call waiting, if any. */
static void
admin_loop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin		*a = arg;
	struct admin_call	*c;

	(void)what;
	fd_drain(fd);
	/* Held for the whole answer: the caller cannot give up (and free
	 * c) meanwhile. Both answers are quick reads of memory (and of one
	 * record of the store, for the attribution). */
	pthread_mutex_lock(&a->mu);
	if ((c = a->call) != NULL && !c->is_done) {
		switch (c->kind) {
		case ADMIN_CALL_FIGURES:
			admin_figures_take(a->d, &c->fig);
			break;
		case ADMIN_CALL_LASTSENT:
			c->is_found = daemon_lastsent_pending(a->d, c->number,
			    &c->last);
			break;
		}
		c->is_done = true;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
}

int
admin_call_run(struct admin *a, struct admin_call *c)
{
	struct timespec	 ts;
	bool		 is_done;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ADMIN_CALL_TIMEOUT_MS / 1000;
	ts.tv_nsec += (long)(ADMIN_CALL_TIMEOUT_MS % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&a->mu);
	if (a->is_stopping) {
		pthread_mutex_unlock(&a->mu);
		return -1;
	}
	c->is_done = false;
	a->call = c;
	fd_poke(a->loop_fd);
	while (!c->is_done && !a->is_stopping)
		if (pthread_cond_timedwait(&a->cv, &a->mu, &ts) == ETIMEDOUT)
			break;
	a->call = NULL;
	is_done = c->is_done;
	pthread_mutex_unlock(&a->mu);
	if (!is_done)
		log_warnx("event=admin_call_timeout kind=%d wait_ms=%u (the "
		    "proxy's event loop did not answer)", (int)c->kind,
		    ADMIN_CALL_TIMEOUT_MS);
	return is_done ? 0 : -1;
}

/* --- the admin thread ---------------------------------------------------- */

static void
admin_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin	*a = arg;
	bool		 is_stopping;

	(void)what;
	fd_drain(fd);
	pthread_mutex_lock(&a->mu);
	is_stopping = a->is_stopping;
	pthread_mutex_unlock(&a->mu);
	if (is_stopping)
		event_base_loopbreak(a->base);
}

static void
admin_report_one(const char *addr, uint64_t failures, uint64_t refused,
    void *arg)
{
	(void)arg;
	log_warnx("event=admin_auth_failures peer=%s failures=%llu "
	    "refused=%llu window_ms=%u", addr, (unsigned long long)failures,
	    (unsigned long long)refused, ADMIN_REPORT_MS);
}

static void
admin_report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin	*a = arg;

	(void)fd;
	(void)what;
	admin_conn_report(a);
	(void)admin_throttle_report(a->thr, admin_report_one, NULL);
}

static void *
admin_main(void *arg)
{
	struct admin	*a = arg;

	admin_self = a;
	if (event_base_dispatch(a->base) == -1)
		log_warnx("event=admin_loop_failed");
	/* Everything on a->base goes with this thread's loop. */
	admin_held_drop_all(a);
	admin_export_drop_all(a);
	admin_conn_teardown(a);
	evhttp_free(a->http);
	a->http = NULL;
	return NULL;
}

/* Start the thread, with every signal blocked in it (the daemon's loop
 * handles them). Returns 0 or -1 (logged). */
static int
admin_thread_start(struct admin *a)
{
	sigset_t	 all, old;
	int		 rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&a->thread, NULL, admin_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_warn("event=admin_failed doing=pthread_create");
		return -1;
	}
	a->is_thread = true;
	return 0;
}

/* --- lifecycle (on the daemon's thread) ---------------------------------- */

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

/* mu, cv (on the monotonic clock) and the two eventfds. */
static int
admin_sync_new(struct admin *a)
{
	pthread_condattr_t	 ca;

	a->wake_fd = a->loop_fd = -1;
	if (pthread_condattr_init(&ca) != 0)
		return -1;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		pthread_condattr_destroy(&ca);
		return -1;
	}
	if (pthread_cond_init(&a->cv, &ca) != 0) {
		pthread_mutex_destroy(&a->mu);
		pthread_condattr_destroy(&ca);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	a->is_sync = true;
	if ((a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (a->loop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	return 0;
}

/* The admin loop: its base, the evhttp bound to the admin address, its
 * events. Returns 0 or -1 (logged). */
static int
admin_loop_new(struct admin *a)
{
	struct evhttp_bound_socket *bound;
	struct timeval		 tv = { ADMIN_REPORT_MS / 1000, 0 };

	if ((a->base = event_base_new()) == NULL ||
	    (a->http = evhttp_new(a->base)) == NULL) {
		log_warnx("event=admin_failed doing=evhttp_new");
		return -1;
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
	if ((bound = evhttp_bind_socket_with_handle(a->http, a->host,
	    a->port)) == NULL) {
		log_warn("event=admin_failed bind=%s:%u", a->host,
		    (unsigned)a->port);
		return -1;
	}
	a->lev = evhttp_bound_socket_get_listener(bound);
	if (admin_conn_init(a) == -1 ||
	    (a->wake_ev = event_new(a->base, a->wake_fd, EV_READ | EV_PERSIST,
	    admin_wake_cb, a)) == NULL || event_add(a->wake_ev, NULL) == -1 ||
	    (a->report_ev = event_new(a->base, -1, EV_PERSIST,
	    admin_report_cb, a)) == NULL ||
	    event_add(a->report_ev, &tv) == -1) {
		log_warnx("event=admin_failed doing=events");
		return -1;
	}
	return 0;
}

static struct admin *
admin_new(struct daemon *d)
{
	struct config	*cfg = d->cfg;
	struct admin	*a;

	if (!cfg->has_admin || (cfg->admin_token == NULL &&
	    cfg->nadmin_users == 0)) {
		log_warnx("event=admin_failed reason=\"no admin block or "
		    "token\"");
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		log_warn("event=admin_failed doing=alloc");
		return NULL;
	}
	a->d = d;
	TAILQ_INIT(&a->held);
	TAILQ_INIT(&a->exports);
	TAILQ_INIT(&a->conns);
	if (admin_sync_new(a) == -1 || (cfg->admin_token != NULL &&
	    (a->token = strdup(cfg->admin_token)) == NULL) ||
	    (a->thr = admin_throttle_new()) == NULL) {
		log_warn("event=admin_failed doing=alloc");
		goto err;
	}
	a->cfg = config_ref(cfg);
	snprintf(a->host, sizeof(a->host), "%s", cfg->admin_host);
	a->port = cfg->admin_port;
	if (admin_tls_new(cfg, &a->tls) == -1)
		goto err;
	/* LMDB read transactions belong to a thread: a handle of its own. */
	if ((a->store = store_sibling(d->store)) == NULL) {
		log_warnx("event=admin_failed doing=store error=\"%s\"",
		    store_errmsg(d->store));
		goto err;
	}
	if (admin_loop_new(a) == -1)
		goto err;
	if ((a->loop_ev = event_new(d->base, a->loop_fd, EV_READ | EV_PERSIST,
	    admin_loop_cb, a)) == NULL || event_add(a->loop_ev, NULL) == -1) {
		log_warnx("event=admin_failed doing=events");
		goto err;
	}
	if (admin_thread_start(a) == -1)
		goto err;
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

/* Stop the thread and wait for it. */
static void
admin_thread_stop(struct admin *a)
{
	pthread_mutex_lock(&a->mu);
	a->is_stopping = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	fd_poke(a->wake_fd);
	pthread_join(a->thread, NULL);
	a->is_thread = false;
}

void
admin_free(void *state)
{
	struct admin	*a = state;

	if (a == NULL)
		return;
	if (a->is_thread)
		admin_thread_stop(a);
	else {
		/* Never started: what the thread would have freed. */
		admin_held_drop_all(a);
		admin_export_drop_all(a);
		admin_conn_teardown(a);
		if (a->http != NULL)
			evhttp_free(a->http);
	}
	if (a->loop_ev != NULL)
		event_free(a->loop_ev);
	if (a->wake_ev != NULL)
		event_free(a->wake_ev);
	if (a->resume_ev != NULL)
		event_free(a->resume_ev);
	if (a->report_ev != NULL)
		event_free(a->report_ev);
	if (a->newconn_ev != NULL)
		event_free(a->newconn_ev);
	if (a->base != NULL)
		event_base_free(a->base);
	store_free(a->store);
	admin_throttle_free(a->thr);
	config_unref(a->cfg);
	SSL_CTX_free(a->tls);
	if (a->token != NULL) {
		OPENSSL_cleanse(a->token, strlen(a->token));
		free(a->token);
	}
	if (a->wake_fd != -1)
		close(a->wake_fd);
	if (a->loop_fd != -1)
		close(a->loop_fd);
	if (a->is_sync) {
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
	}
	free(a);
}

/* A new token, TLS context and config for the running server a. */
static void
admin_settings_swap(struct admin *a, struct config *cfg, SSL_CTX *ctx,
    char *tok)
{
	struct config	*ocfg;
	SSL_CTX		*octx;
	char		*otok;

	pthread_mutex_lock(&a->mu);
	ocfg = a->cfg;
	octx = a->tls;
	otok = a->token;
	a->cfg = config_ref(cfg);
	a->tls = ctx;
	a->token = tok;
	pthread_mutex_unlock(&a->mu);
	config_unref(ocfg);
	/* Connections already made keep their SSL (it holds a reference
	 * to the old context). */
	SSL_CTX_free(octx);
	if (otok != NULL)
		OPENSSL_cleanse(otok, strlen(otok));
	free(otok);
}

void
admin_reload(struct daemon *d, void **state)
{
	struct config	*cfg = d->cfg;
	struct admin	*a = *state, *na;
	SSL_CTX		*ctx;
	char		*tok;

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
			/* The old server keeps its old config (a
			 * reference): nothing of it is freed. */
			return;
		}
		if (a != NULL)
			atomic_store(&na->requests, atomic_load(&a->requests));
		admin_free(a);
		*state = na;
		return;
	}
	if (admin_tls_new(cfg, &ctx) == -1) {
		log_warnx("event=reload_note admin TLS refused (old admin "
		    "settings stay)");
		return;
	}
	tok = NULL;
	if (cfg->admin_token != NULL &&
	    (tok = strdup(cfg->admin_token)) == NULL) {
		SSL_CTX_free(ctx);
		log_warn("event=reload_note admin token (old settings stay)");
		return;
	}
	admin_settings_swap(a, cfg, ctx, tok);
}

const struct daemon_frontend admin_frontend = {
	.start = admin_start,
	.reload = admin_reload,
	.free = admin_free,
};
