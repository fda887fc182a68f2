/*
 * The daemon: the lifecycle owner of the SMPP runtime. It builds the
 * shared context (struct daemon, proxy/daemon/context.h: one event_base,
 * the store, the config, one upstream pool per configured SMSC, the
 * sessions, the store writer), starts the listeners, and handles signals
 * (SIGTERM/SIGINT graceful stop, SIGHUP reload) and the teardown.
 *
 * Front ends above it (the admin API) include this header and reach the
 * shared context through it.
 */
#ifndef PROXY_DAEMON_DAEMON_H
#define PROXY_DAEMON_DAEMON_H

#include "proxy/daemon/context.h"

/*
 * A front end that runs on the daemon's loop, above it: the daemon starts
 * it once the listeners are up, tells it of every reload (after d->cfg
 * was swapped) and frees it at teardown, and knows nothing else of it.
 * start returns 0 (*state set, NULL when the config asks for nothing) or
 * -1 (the reason logged; startup fails). reload may replace *state.
 */
struct daemon_frontend {
	int	(*start)(struct daemon *d, void **state);
	void	(*reload)(struct daemon *d, void **state);
	void	(*free)(void *state);
};

/*
 * Run the proxy on the config at path in the foreground until SIGTERM or
 * SIGINT, with front end fe (borrowed; NULL for none). path is borrowed.
 * Returns the process exit status: 0 after a graceful stop, 1 when startup
 * failed (the reason is logged).
 */
int daemon_main(const char *path, const struct daemon_frontend *fe);

#endif /* PROXY_DAEMON_DAEMON_H */
