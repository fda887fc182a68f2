/*
 * The admin API's connections, on the admin thread: at most
 * limits.max_admin_connections at once (one more is closed as soon as it
 * is accepted), each request read in full within timeouts.admin_request_ms
 * of its first byte (of the accept, for the first request: a TLS
 * handshake counts), and a listener that pauses instead of spinning when
 * accept() fails for want of descriptors. Each kind of trouble is logged
 * once when it starts and then summarised with a count every
 * ADMIN_REPORT_MS while it lasts.
 *
 * evhttp accepts the connections itself and only asks us for each one's
 * bufferevent (admin_conn_bev). We take a reference on it and look at it
 * again once evhttp has built the connection around it, from an event made
 * active there: bufferevent_getcb() then names the evhttp_connection (or
 * nothing, if evhttp freed it meanwhile), and the close callback we set on
 * it tells us when it goes. libevent 2.1 has no connection limit of its
 * own (evhttp_set_max_connections is 2.2).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "proxy/admin/admin.h"
#include "proxy/admin/admin_int.h"
#include "proxy/io/log.h"
#include "proxy/io/tls.h"

/* The connection of evcon, or NULL. */
static struct admin_conn *
conn_find(struct admin *a, const struct evhttp_connection *evcon)
{
	struct admin_conn	*c;

	TAILQ_FOREACH(c, &a->conns, entry)
		if (c->evcon == evcon)
			return c;
	return NULL;
}

static void
conn_arm(struct admin_conn *c)
{
	struct config	*cfg = admin_config(c->a);
	unsigned	 ms = cfg != NULL ? cfg->timeouts.admin_request_ms : 0;
	struct timeval	 tv;

	config_unref(cfg);
	if (ms == 0)
		ms = 10000;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	c->is_reading = true;
	event_add(c->deadline, &tv);
}

/* The request on c was not read in time: close it. */
static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->is_busy || !c->is_reading)
		return;
	if (c->a->cut++ == 0)
		log_info("event=admin_request_deadline (a request not read in "
		    "full in time: its connection is closed)");
	/* The close callback frees c. */
	evhttp_connection_free(c->evcon);
}

/* Bytes came in: the first of a request starts its deadline. */
static void
conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct admin_conn	*c = arg;

	(void)buf;
	if (info->n_added > 0 && !c->is_reading && !c->is_busy)
		conn_arm(c);
}

static void
conn_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct admin_conn	*c = arg;
	struct admin		*a = c->a;

	(void)evcon;
	TAILQ_REMOVE(&a->conns, c, entry);
	a->nconns--;
	if (c->in_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev),
		    c->in_cb);
	event_free(c->deadline);
	free(c);
}

/* Take on the connection evhttp built around bev, or close it (max 0:
 * close it whatever the count). */
static void
conn_adopt(struct admin *a, struct bufferevent *bev, unsigned max)
{
	struct evhttp_connection *evcon;
	struct admin_conn	*c;
	bufferevent_event_cb	 ecb;
	void			*cbarg;

	bufferevent_getcb(bev, NULL, NULL, &ecb, &cbarg);
	if (ecb == NULL || cbarg == NULL)
		return;		/* evhttp freed it already */
	evcon = cbarg;
	if (a->nconns >= max) {
		if (max > 0 && a->refused++ == 0)
			log_warnx("event=admin_connections_full max=%u (more "
			    "are closed at once)", max);
		evhttp_connection_free(evcon);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->deadline = evtimer_new(a->base, conn_deadline_cb, c)) ==
	    NULL) {
		free(c);
		log_warnx("event=admin_connection_refused reason=nomem");
		evhttp_connection_free(evcon);
		return;
	}
	c->a = a;
	c->evcon = evcon;
	c->bev = bev;
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb,
	    c);
	TAILQ_INSERT_TAIL(&a->conns, c, entry);
	a->nconns++;
	evhttp_connection_set_closecb(evcon, conn_close_cb, c);
	conn_arm(c);
}

/* Made active by admin_conn_bev: evhttp has built the connections
 * since. */
static void
conn_new_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin	*a = arg;
	struct config	*cfg = admin_config(a);
	unsigned	 max = cfg != NULL ? cfg->max_admin_connections : 64;
	size_t		 i;

	(void)fd;
	(void)what;
	config_unref(cfg);
	for (i = 0; i < a->nnewbev; i++) {
		conn_adopt(a, a->newbev[i].bev, a->newbev[i].is_bad ? 0 : max);
		bufferevent_decref(a->newbev[i].bev);
	}
	a->nnewbev = 0;
}

/* Remember bev until conn_new_cb. Returns 0 or -1 (no memory). */
static int
conn_note(struct admin *a, struct bufferevent *bev, bool is_bad)
{
	struct admin_newbev	 *nb;
	size_t			  cap;

	if (a->nnewbev == a->newbev_cap) {
		cap = a->newbev_cap == 0 ? 16 : a->newbev_cap * 2;
		if ((nb = reallocarray(a->newbev, cap, sizeof(*nb))) == NULL)
			return -1;
		a->newbev = nb;
		a->newbev_cap = cap;
	}
	bufferevent_incref(bev);
	a->newbev[a->nnewbev].bev = bev;
	a->newbev[a->nnewbev].is_bad = is_bad;
	a->nnewbev++;
	event_active(a->newconn_ev, EV_TIMEOUT, 1);
	return 0;
}

struct bufferevent *
admin_conn_bev(struct event_base *base, void *arg)
{
	struct admin		*a = arg;
	struct bufferevent	*bev = NULL;
	SSL_CTX			*ctx;
	bool			 is_bad = false;

	pthread_mutex_lock(&a->mu);
	if ((ctx = a->tls) != NULL)
		SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&a->mu);
	if (ctx != NULL) {
		bev = tls_bev_new(base, -1, ctx, BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE);
		SSL_CTX_free(ctx);
		/* Not plain HTTP instead (what evhttp does with NULL): a
		 * socket bufferevent that conn_new_cb closes at once. */
		is_bad = bev == NULL;
		if (bev != NULL)
			/* HTTP clients often close without close_notify. */
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	}
	if (bev == NULL &&
	    (bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		return NULL;
	if (conn_note(a, bev, is_bad) == -1)
		log_warnx("event=admin_connection_untracked reason=nomem");
	return bev;
}

static void conn_done_cb(struct evhttp_request *, void *);

void
admin_conn_request(struct admin *a, struct evhttp_request *req)
{
	struct admin_conn	*c;

	if ((c = conn_find(a, evhttp_request_get_connection(req))) == NULL)
		return;
	event_del(c->deadline);
	c->is_reading = false;
	c->is_busy = true;
	evhttp_request_set_on_complete_cb(req, conn_done_cb, a);
}

/* The answer to req has gone out: its connection waits for the next. */
static void
conn_done_cb(struct evhttp_request *req, void *arg)
{
	struct admin		*a = arg;
	struct admin_conn	*c;

	if ((c = conn_find(a, evhttp_request_get_connection(req))) == NULL)
		return;
	c->is_busy = false;
	/* A request sent behind this one is being read already. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		conn_arm(c);
}

bool
admin_conn_is_gone(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent	*bev;
	evutil_socket_t		 fd;
	char			 ch;
	ssize_t			 n;

	if (evcon == NULL)
		return true;
	if ((bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (fd = bufferevent_getfd(bev)) < 0)
		return false;
	/* evhttp stops reading while a request is with us: look. */
	n = recv(fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR);
}

/* --- the listener -------------------------------------------------------- */

/* The server of this thread: an admin thread serves one. */
_Thread_local struct admin *admin_self;

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin	*a = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(a->lev);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	/* arg is evhttp's (it owns the listener's callbacks), not ours. */
	struct admin	*a = admin_self;
	struct timeval	 tv = { 0, ADMIN_ACCEPT_PAUSE_MS * 1000 };
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	if (a == NULL)
		return;		/* not on an admin thread: cannot be */
	if (a->accept_errors++ == 0) {
		errno = err;
		log_warn("event=admin_accept_error doing=accept (pausing "
		    "%u ms after each until it passes)", ADMIN_ACCEPT_PAUSE_MS);
	}
	/*
	 * Out of descriptors (or memory) the pending connection stays in the
	 * backlog and the listener would be woken again at once: pause it.
	 * Any other error too: a listener that fails every time must not
	 * spin either.
	 */
	evconnlistener_disable(lev);
	event_add(a->resume_ev, &tv);
}

void
admin_conn_report(struct admin *a)
{
	if (a->refused > 1)
		log_warnx("event=admin_connections_refused count=%llu max=%zu",
		    (unsigned long long)a->refused, a->nconns);
	if (a->accept_errors > 1)
		log_warnx("event=admin_accept_errors count=%llu",
		    (unsigned long long)a->accept_errors);
	if (a->cut > 1)
		log_info("event=admin_request_deadlines count=%llu",
		    (unsigned long long)a->cut);
	a->refused = 0;
	a->accept_errors = 0;
	a->cut = 0;
}

int
admin_conn_init(struct admin *a)
{
	TAILQ_INIT(&a->conns);
	if ((a->newconn_ev = event_new(a->base, -1, 0, conn_new_cb, a)) ==
	    NULL || (a->resume_ev = evtimer_new(a->base, accept_resume_cb,
	    a)) == NULL)
		return -1;
	evconnlistener_set_error_cb(a->lev, accept_error_cb);
	evhttp_set_bevcb(a->http, admin_conn_bev, a);
	return 0;
}

void
admin_conn_teardown(struct admin *a)
{
	size_t	 i;

	for (i = 0; i < a->nnewbev; i++)
		bufferevent_decref(a->newbev[i].bev);
	a->nnewbev = 0;
	free(a->newbev);
	a->newbev = NULL;
}
