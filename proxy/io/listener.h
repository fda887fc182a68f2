/*
 * Listeners (SPEC §2 `listeners`): one evconnlistener per configured
 * address, plain or TLS (bufferevent_openssl; tls_server_ctx_new()). Each
 * accepted connection becomes a bufferevent handed to the owner's
 * callback; the listener knows nothing of what it becomes (a session).
 */
#ifndef PROXY_IO_LISTENER_H
#define PROXY_IO_LISTENER_H

#include <sys/socket.h>

#include <stdbool.h>

#include "config/config.h"

struct bufferevent;
struct event_base;
struct listener;

/* What a listener asks of its owner. arg is the one given to
 * listener_new(); both run on the event loop. */
struct listener_cbs {
	/*
	 * May a connection be taken now? false closes it at once, before
	 * any buffer is made (the callee logs why; name is the listener's
	 * host:port). NULL admits every connection.
	 */
	bool	(*admit)(void *arg, const char *name);
	/*
	 * A connection was accepted: bev (owned by the callee from now on)
	 * was made with BEV_OPT_CLOSE_ON_FREE|BEV_OPT_DEFER_CALLBACKS,
	 * TLS-accepting when is_tls; peer (borrowed for the call) is the
	 * client's address. Must not be NULL.
	 */
	void	(*on_accept)(void *arg, struct bufferevent *bev,
		    const struct sockaddr *peer, socklen_t peerlen,
		    bool is_tls);
};

/*
 * Bind and listen on lc (borrowed for the call) on base. cbs is copied;
 * arg is borrowed and passed to every callback. Returns the listener
 * (free with listener_free()) or NULL with the reason logged (address in
 * use, bad certificate, ...).
 */
struct listener *listener_new(struct event_base *base,
    const struct config_listener *lc, const struct listener_cbs *cbs,
    void *arg);

/* The listener's host:port as given in its config (borrowed). */
const char *listener_name(const struct listener *l);

/*
 * SIGHUP: take the TLS settings of lc (same address; borrowed for the
 * call), so renewed certificates apply to new connections; connections
 * already made keep theirs. Returns 0, or -1 with the reason logged and
 * the old context kept.
 */
int listener_reconfigure(struct listener *l,
    const struct config_listener *lc);

/* Stop accepting for good (SIGTERM); the socket stays open until
 * freed. */
void listener_disable(struct listener *l);

/* Close and free; accepts NULL. */
void listener_free(struct listener *l);

#endif /* PROXY_IO_LISTENER_H */
