/*
 * Listeners (SPEC §2 `listeners`): one evconnlistener per configured
 * address, plain or TLS (bufferevent_openssl; tls_server_ctx_new()). Each
 * accepted connection becomes a session.
 */
#ifndef PROXY_LISTENER_H
#define PROXY_LISTENER_H

#include "config/config.h"

struct daemon;
struct listener;

/*
 * Bind and listen on lc (borrowed for the call) for d. Returns the
 * listener (free with listener_free()) or NULL with the reason logged
 * (address in use, bad certificate, ...).
 */
struct listener *listener_new(struct daemon *d,
    const struct config_listener *lc);

/*
 * SIGHUP: take the TLS settings of lc (same address; borrowed for the
 * call), so renewed certificates apply to new connections; connections
 * already made keep theirs. Returns 0, or -1 with the reason logged and
 * the old context kept.
 */
int listener_reconfigure(struct listener *l,
    const struct config_listener *lc);

/* Stop accepting (SIGTERM); the socket stays open until freed. */
void listener_disable(struct listener *l);

/* Close and free; accepts NULL. */
void listener_free(struct listener *l);

#endif /* PROXY_LISTENER_H */
