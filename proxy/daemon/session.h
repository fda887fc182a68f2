/*
 * A downstream session: one department's SMPP client connected to us
 * (SPEC §3). An explicit state machine; every state change goes through
 * session_set_state() and every end through session_close(). Its parts:
 * session.c (state machine, I/O, bind), submit.c (the department's
 * sends, proxy/daemon/submit.h), delivery.c (deliveries to it,
 * proxy/daemon/delivery.h).
 *
 * Requests a session forwards upstream carry a heap "in-flight" context
 * that holds a counted reference to the session, not the session itself:
 * when the session closes first, the reference is cleared and the SMSC's
 * late response is consumed and dropped (after its receipt mapping is
 * recorded), never written through a dangling pointer.
 */
#ifndef PROXY_DAEMON_SESSION_H
#define PROXY_DAEMON_SESSION_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpp/pdu.h"

struct bufferevent;
struct daemon;
struct session;

enum session_state {
	SESSION_OPEN = 0,	/* accepted, no bind yet */
	SESSION_BIND_REFUSED,	/* the refusal is answered, then close */
	SESSION_BOUND,
	SESSION_UNBINDING,	/* stopping: draining in-flight, then unbind */
	SESSION_CLOSED,		/* free queued; ignore events */
};

/* Name of a state for logs ("open", "bound", ...). */
const char *session_state_name(enum session_state st);

/*
 * Start a session on an accepted connection. bev (owned from now on, even
 * on failure) was made with BEV_OPT_CLOSE_ON_FREE|BEV_OPT_DEFER_CALLBACKS;
 * peer (borrowed) is the client's address; is_tls is for logs. Returns the
 * session, which lives until session_close() and a later loop turn, or
 * NULL (bev freed, reason logged).
 */
struct session *session_new(struct daemon *d, struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen, bool is_tls);

/*
 * The one exit: idempotent; logs once with reason (static string,
 * borrowed); stops reading; answers the SMSC for every deliver_sm still
 * waiting on this session (ESME_RX_T_APPN, so it is redelivered); lets
 * queued replies flush (bounded); frees the session on a later loop turn.
 */
void session_close(struct session *s, const char *reason);

/*
 * Graceful stop (SIGTERM): a bound session takes no new submits (they get
 * ESME_RTHROTTLED), is sent unbind once its in-flight requests are
 * answered, and closes when the unbind_resp comes; an unbound one closes
 * at once.
 */
void session_unbind(struct session *s);

/* Free a session now, whatever its state (daemon teardown only). */
void session_free(struct session *s);

/* The session after s in its daemon list (TAILQ_NEXT), or NULL. */
struct session *session_next(struct session *s);

/* The session's state, id and bound system_id ("" before bind). */
enum session_state session_state(const struct session *s);
uint64_t session_id(const struct session *s);
const char *session_system_id(const struct session *s);

/* Requests this session has waiting on an SMSC response. */
unsigned session_inflight(const struct session *s);

/*
 * The pools' on_window callback (arg is the daemon); see
 * proxy/daemon/upstream.h: sessions waiting for window space read again.
 */
void session_upstream_window(void *arg);

/* Exported for tests. */

/* True if the configured password equals the bind's, in constant time
 * over the full field length. */
bool session_password_equal(const char *configured, const char *given);

#endif /* PROXY_DAEMON_SESSION_H */
