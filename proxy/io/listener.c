/*
 * Accepting connections: one evconnlistener per configured address, each
 * accepted socket made a (TLS) bufferevent for the owner's callback.
 */
#include "proxy/io/listener.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/ssl.h>

#include "proxy/io/log.h"
#include "proxy/io/tls.h"

/* Pause after running out of descriptors, so a full table does not turn
 * into a busy loop of failing accepts. */
#define LISTENER_PAUSE_MS	200

struct listener {
	struct event_base	*base;		/* borrowed */
	struct listener_cbs	 cbs;
	void			*arg;		/* borrowed */
	bool			 is_disabled;	/* listener_disable() */
	struct evconnlistener	*ev;		/* owned */
	struct event		*resume_ev;	/* owned */
	SSL_CTX			*tls;		/* owned; NULL = plain */
	char			 name[80];	/* host:port for logs */
};

static void
listener_accept_cb(struct evconnlistener *ev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener		*l = arg;
	struct bufferevent	*bev;
	const int		 opts = BEV_OPT_CLOSE_ON_FREE |
				    BEV_OPT_DEFER_CALLBACKS;
	int			 one = 1;

	(void)ev;
	if (l->is_disabled ||
	    (l->cbs.admit != NULL && !l->cbs.admit(l->arg, l->name))) {
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	/* Replies are small and a client waits for each (window 1): no
	 * Nagle delay behind an unacknowledged segment. */
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	if (l->tls != NULL)
		bev = tls_bev_new(l->base, fd, l->tls,
		    BUFFEREVENT_SSL_ACCEPTING, opts);
	else
		bev = bufferevent_socket_new(l->base, fd, opts);
	if (bev == NULL) {
		log_warnx("event=accept_failed listener=%s reason=bufferevent",
		    l->name);
		close(fd);
		return;
	}
	l->cbs.on_accept(l->arg, bev, sa, (socklen_t)salen, l->tls != NULL);
}

static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;

	(void)fd;
	(void)what;
	if (!l->is_disabled)
		evconnlistener_enable(l->ev);
}

static void
listener_error_cb(struct evconnlistener *ev, void *arg)
{
	struct listener	*l = arg;
	struct timeval	 tv = { 0, LISTENER_PAUSE_MS * 1000 };
	int		 err = errno;

	log_warn("event=accept_error listener=%s doing=accept", l->name);
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		/* The pending connection stays in the backlog; try again
		 * once some descriptors may have been freed. */
		evconnlistener_disable(ev);
		event_add(l->resume_ev, &tv);
	}
}

struct listener *
listener_new(struct event_base *base, const struct config_listener *lc,
    const struct listener_cbs *cbs, void *arg)
{
	struct listener		*l;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sslen;
	char			 err[256];

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		log_warn("event=listen_failed");
		return NULL;
	}
	l->base = base;
	l->cbs = *cbs;
	l->arg = arg;
	snprintf(l->name, sizeof(l->name), "%s:%u", lc->host, lc->port);
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, lc->host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(lc->port);
		sslen = sizeof(*in);
	} else if (inet_pton(AF_INET6, lc->host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(lc->port);
		sslen = sizeof(*in6);
	} else {
		log_warnx("event=listen_failed listener=%s reason=\"not a "
		    "numeric address\"", l->name);
		goto err_free;
	}
	if (lc->tls.enabled) {
		if ((l->tls = tls_server_ctx_new(&lc->tls, err,
		    sizeof(err))) == NULL) {
			log_warnx("event=listen_failed listener=%s "
			    "reason=\"%s\"", l->name, err);
			goto err_free;
		}
	}
	l->ev = evconnlistener_new_bind(base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (struct sockaddr *)&ss, (int)sslen);
	if (l->ev == NULL) {
		log_warn("event=listen_failed listener=%s", l->name);
		goto err_tls;
	}
	evconnlistener_set_error_cb(l->ev, listener_error_cb);
	if ((l->resume_ev = evtimer_new(base, listener_resume_cb,
	    l)) == NULL) {
		log_warnx("event=listen_failed listener=%s reason=nomem",
		    l->name);
		goto err_ev;
	}
	log_info("event=listen listener=%s tls=%s", l->name,
	    l->tls != NULL ? "yes" : "no");
	return l;

err_ev:
	evconnlistener_free(l->ev);
err_tls:
	SSL_CTX_free(l->tls);
err_free:
	free(l);
	return NULL;
}

int
listener_reconfigure(struct listener *l, const struct config_listener *lc)
{
	SSL_CTX	*ctx;
	char	 err[256];

	if (!lc->tls.enabled || l->tls == NULL)
		return 0;	/* plain <-> TLS needs a restart */
	if ((ctx = tls_server_ctx_new(&lc->tls, err, sizeof(err))) == NULL) {
		log_warnx("event=tls_reload_failed listener=%s reason=\"%s\" "
		    "(old certificate stays)", l->name, err);
		return -1;
	}
	/* Live SSL objects hold their own reference to the old context. */
	SSL_CTX_free(l->tls);
	l->tls = ctx;
	return 0;
}

const char *
listener_name(const struct listener *l)
{
	return l->name;
}

void
listener_disable(struct listener *l)
{
	if (l == NULL)
		return;
	l->is_disabled = true;
	if (l->resume_ev != NULL)
		event_del(l->resume_ev);
	if (l->ev != NULL)
		evconnlistener_disable(l->ev);
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	if (l->resume_ev != NULL)
		event_free(l->resume_ev);
	if (l->ev != NULL)
		evconnlistener_free(l->ev);
	SSL_CTX_free(l->tls);
	free(l);
}
