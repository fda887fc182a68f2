/*
 * Upstream: the SMSC client side of the proxy.
 *
 * One struct upstream_pool per configured upstream (config_upstream). A
 * pool keeps cfg->sessions SMPP v3.4 sessions to the SMSC: one
 * bind_transceiver connection each, or a bind_transmitter plus a
 * bind_receiver connection each when bind is "transmitter+receiver". Every
 * connection binds with system_id / password / system_type and
 * interface_version 0x34, and is reconnected with capped exponential
 * backoff with jitter (reconnect_min_ms .. reconnect_max_ms, reset by a
 * successful bind) whenever it is lost.
 *
 * Everything runs on the caller's event_base, in its one thread. Each
 * connection is an explicit state machine (IDLE -> CONNECTING -> BINDING
 * -> BOUND -> DRAINING -> UNBINDING -> CLOSING -> IDLE/CLOSED), changed
 * only through one set_state function that logs old -> new, and ended
 * only through one close function.
 *
 * Outbound: upstream_pool_submit() forwards an already encoded request.
 * The pool assigns its own sequence_number and remembers (seq -> ctx,
 * callbacks, deadline) in a per-connection table preallocated to the
 * window, so no allocation happens per PDU. The SMSC's response comes
 * back through the request's own on_resp (struct upstream_req_cbs) with
 * the SMSC's own command_status and message_id: the pool never answers
 * for the SMSC. A response timeout or the loss of the
 * connection fails every in-flight ctx of that connection through its
 * on_fail with UPSTREAM_FAIL_STATUS, and a timed-out connection is
 * closed and reconnected (SPEC §3).
 *
 * Inbound: deliver_sm and data_sm from the SMSC go to cbs->on_deliver with
 * a reply handle; the callee answers now or later with
 * upstream_reply_send(). enquire_link from the SMSC is answered at once;
 * the pool sends its own enquire_link after enquire_link_ms of silence and
 * reconnects when that is not answered within response_timeout_ms. An
 * unbind from the SMSC is answered and the connection is re-established
 * with backoff. Unknown command_ids get generic_nack (ESME_RINVCMDID); a
 * PDU that does not decode gets generic_nack with the decode status; a
 * bad command_length (framing lost, or above SMPP_MAX_PDU_LEN) closes the
 * connection after the nack is flushed.
 *
 * Back-pressure: a connection is "full" when its in-flight count reached
 * the window or its output buffer is above UPSTREAM_OUT_HIGH_BYTES (the
 * SMSC stopped reading). Submitting to a full pool fails with EAGAIN, and
 * cbs->on_window is called once space opens again, so the downstream can
 * stop reading from senders instead of buffering.
 *
 * Not supported: outbind (an SMSC-initiated connection).
 */
#ifndef PROXY_DAEMON_UPSTREAM_H
#define PROXY_DAEMON_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "smpp/pdu.h"

struct event_base;
struct upstream_pool;

/*
 * The command_status given to on_fail for a request whose outcome is
 * unknown (response timeout, connection lost, pool freed): ESME_RSYSERR
 * (0x08), a temporary error that clients retry. It is not
 * ESME_RTHROTTLED because the SMSC may in fact have taken the message;
 * the downstream uses 0x58 / 0x14 itself for "not sent: no window".
 */
#define UPSTREAM_FAIL_STATUS		SMPP_ESME_RSYSERR

/* Output buffer level above which a connection takes no more submits,
 * and the level below which it takes them again. */
#define UPSTREAM_OUT_HIGH_BYTES		(256u * 1024u)
#define UPSTREAM_OUT_LOW_BYTES		(64u * 1024u)

/*
 * A handle to answer one deliver_sm / data_sm from the SMSC. Plain data,
 * copied by value: it names the pool, the connection (an id unique for
 * each TCP connection ever made, so a reconnect invalidates it) and the
 * request's sequence_number and command_id. Copy it out of the on_deliver
 * callback if you answer later; it stays safe to use after the connection
 * or even the pool is gone (the send is then a no-op).
 */
struct upstream_reply {
	uint64_t	pool_id;
	uint64_t	conn_id;
	uint32_t	sequence_number;
	uint32_t	command_id;	/* SMPP_CMD_DELIVER_SM or _DATA_SM */
};

/*
 * The callbacks of one request, given to upstream_pool_submit() with its
 * ctx: the answer goes straight to whoever submitted it (a session's
 * forwarded send, the inbound side's confirmation). Usually a static
 * const table; borrowed until the request is answered, failed or
 * cancelled. Called from the event loop like struct upstream_cbs, and
 * from upstream_pool_free() (on_fail only).
 */
struct upstream_req_cbs {
	/*
	 * The SMSC answered the request. resp is the decoded *_resp or
	 * generic_nack (its command_status and message_id are the SMSC's);
	 * raw/rawlen are its bytes as received, with the pool's
	 * sequence_number. Both are views valid only during the call. After
	 * on_resp the pool has forgotten ctx.
	 */
	void	(*on_resp)(void *ctx, const struct smpp_pdu *resp,
		    const uint8_t *raw, size_t rawlen);
	/*
	 * The request will get no response: the response timed out, the
	 * connection was lost or the pool is being freed. status is
	 * UPSTREAM_FAIL_STATUS. After on_fail the pool has forgotten ctx.
	 */
	void	(*on_fail)(void *ctx, uint32_t status);
};

/*
 * Callbacks out of the pool about the pool itself (a request's own
 * outcome goes to its struct upstream_req_cbs). arg is the pointer given
 * to upstream_pool_new(). All are called from the event loop, never from
 * inside upstream_pool_new() or upstream_pool_submit(); on_state and
 * on_window may also be called from inside upstream_pool_shutdown() and
 * upstream_pool_reconfigure(). A
 * callback may call upstream_pool_submit(), upstream_pool_cancel(),
 * upstream_reply_send(), upstream_pool_stats() and
 * upstream_pool_shutdown(), but must not call upstream_pool_free() or
 * upstream_pool_reconfigure() on the same pool (defer those to a later
 * loop turn). Every member except on_deliver may be NULL; on_deliver NULL
 * means every deliver_sm / data_sm is answered ESME_RX_T_APPN (0x64) so
 * the SMSC redelivers later.
 */
struct upstream_cbs {
	/*
	 * Window space opened after upstream_pool_submit() failed with EAGAIN
	 * or ENOTCONN (called once per such episode): resume reading senders.
	 */
	void	(*on_window)(void *arg);
	/*
	 * The pool gained its first bound transmit-capable connection
	 * (any_bound true) or lost its last one (false).
	 */
	void	(*on_state)(void *arg, bool any_bound);
	/*
	 * The SMSC sent a deliver_sm or data_sm (an MO or a receipt). pdu and
	 * raw/len are views valid only during the call; *reply is copied by
	 * the callee if it answers later. The callee must call
	 * upstream_reply_send() exactly once, now or later.
	 */
	void	(*on_deliver)(void *arg, struct upstream_pool *p,
		    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
		    const struct upstream_reply *reply);
};

/* Counters of one pool since it was created; see upstream_pool_stats(). */
struct upstream_stats {
	uint64_t	submits_sent;	/* requests written to the SMSC */
	uint64_t	resps_ok;	/* responses with command_status 0 */
	uint64_t	resps_err;	/* responses with another status */
	uint64_t	timeouts;	/* response / enquire_link timeouts */
	uint64_t	fails;		/* ctxs failed through on_fail */
	uint64_t	reconnects;	/* connects after each one's first */
	uint64_t	bind_failures;	/* bind_resp != 0, or no bind_resp */
	uint64_t	delivers;	/* deliver_sm / data_sm received */
	uint64_t	nacks_sent;	/* generic_nack sent to the SMSC */
	unsigned	in_flight;	/* requests awaiting a response now */
	unsigned	bound;		/* connections bound now */
	unsigned	connections;	/* connections configured */
};

/*
 * Called once when upstream_pool_shutdown() has closed every connection,
 * from its own event; it may free the pool (nothing touches p after it).
 */
typedef void upstream_done_fn(struct upstream_pool *p, void *arg);

/*
 * Create a pool for cfg on base and start connecting every connection at
 * once. cfg is borrowed for the call only: the pool copies what it keeps
 * (strings, password, TLS settings; a client SSL_CTX is built when
 * cfg->tls.enabled). cbs is copied; arg is borrowed and passed to every
 * callback. Returns the pool (free with upstream_pool_free()) or NULL
 * with errno set (ENOMEM, EINVAL for a bad cfg or a TLS setup failure,
 * which is logged).
 */
struct upstream_pool *upstream_pool_new(struct event_base *base,
    const struct config_upstream *cfg, const struct upstream_cbs *cbs,
    void *arg);

/*
 * Close every connection at once (no unbind; use upstream_pool_shutdown()
 * first for a graceful stop) and free the pool. Every request still in
 * flight is failed through its on_fail before this returns, so the
 * caller can release its ctxs; no other callback is called. Outstanding
 * struct upstream_reply handles become no-ops. Accepts NULL. Must not be
 * called from inside one of this pool's callbacks.
 */
void upstream_pool_free(struct upstream_pool *p);

/*
 * Apply a new configuration of the same upstream (SIGHUP). cfg is borrowed
 * for the call only. window, enquire_link_ms, response_timeout_ms and the
 * reconnect bounds apply live. If host, port, system_id, password,
 * system_type, bind mode or TLS settings changed, every connection is
 * replaced gracefully: it takes no new submits, waits for its in-flight
 * responses (bounded by response_timeout_ms), unbinds and reconnects with
 * the new settings. A change of sessions adds connections or retires the
 * extra ones the same graceful way. Returns 0, or -1 with errno (EINVAL
 * for a bad cfg or a TLS setup failure: the old settings stay).
 */
int upstream_pool_reconfigure(struct upstream_pool *p,
    const struct config_upstream *cfg);

/* True for the requests a department sends that go to an SMSC: submit_sm,
 * data_sm, submit_multi, query_sm, cancel_sm, replace_sm. */
bool upstream_cmd_is_forwardable(uint32_t cmd);

/* The upstream's configured name; borrowed, valid while p is. */
const char *upstream_pool_name(const struct upstream_pool *p);

/* True if at least one transmit-capable connection is bound. */
bool upstream_pool_is_bound(const struct upstream_pool *p);

/*
 * Forward one encoded request of len bytes (submit_sm, data_sm,
 * submit_multi, query_sm, cancel_sm or replace_sm; exactly one whole PDU,
 * 16 <= len <= SMPP_MAX_PDU_LEN, command_length == len). pdu is borrowed
 * for the call: its bytes are written with the pool's own sequence_number
 * in place of bytes 12..15; the caller's buffer is not modified. ctx is
 * opaque and comes back exactly once, through rcb->on_resp or rcb->on_fail
 * (or never, after upstream_pool_cancel()); rcb (borrowed until then) and
 * its members must not be NULL.
 *
 * affinity 0: the bound transmit-capable connection with the most window
 * space takes it. Non-zero: every request with the same affinity goes to
 * the same connection while the set of bound connections is unchanged (the
 * caller derives it from the concatenation reference so that every part of
 * a long message takes the same SMSC session); if that connection is full
 * the call fails with EAGAIN rather than spill to another one.
 *
 * Returns 0 once the PDU is queued on a connection, or -1 with errno:
 * EAGAIN every eligible connection is full (on_window follows later),
 * ENOTCONN no transmit-capable connection is bound, ESHUTDOWN the pool is
 * shutting down, EINVAL a bad PDU (length, command_id not a request above).
 */
int upstream_pool_submit(struct upstream_pool *p, const uint8_t *pdu,
    size_t len, const struct upstream_req_cbs *rcb, void *ctx,
    uint64_t affinity);

/*
 * Write now what submits queued on p's plain TCP connections, instead of
 * later in this loop turn: a caller that has forwarded a whole read
 * callback's worth calls it, so the SMSC starts on them while the loop
 * goes on to other sessions. Anything the socket does not take still
 * waits for EV_WRITE. Accepts NULL.
 */
void upstream_pool_flush(struct upstream_pool *p);

/*
 * Forget every in-flight request submitted with ctx (the sender went
 * away): no callback will be made for them. The requests stay in flight
 * upstream and keep their window slot until the SMSC answers or times out.
 * Returns how many were forgotten. O(window x connections).
 */
size_t upstream_pool_cancel(struct upstream_pool *p, const void *ctx);

/*
 * Answer the deliver_sm / data_sm that *reply names with command_status
 * status; message_id (may be NULL = "") is sent in a data_sm_resp only
 * (a deliver_sm_resp's message_id is unused and sent empty, §4.6.2).
 * Returns 0 when the response was queued, or -1 with errno ENOTCONN when
 * the pool or the connection it came from is gone (a no-op; the SMSC will
 * redeliver). Call it exactly once per on_deliver.
 */
int upstream_reply_send(const struct upstream_reply *reply, uint32_t status,
    const char *message_id);

/*
 * Graceful stop: the pool takes no new submits (ESHUTDOWN), lets every
 * in-flight request finish (deliver_sm is still handed to on_deliver
 * meanwhile), sends unbind on every bound connection, waits for
 * unbind_resp and closes. Whatever is still pending after timeout_ms is
 * failed through on_fail and closed. done(p, done_arg) is called once at
 * the end, from the event loop (never from inside this call); the caller
 * then frees the pool. Returns 0, or -1 with errno EALREADY when a
 * shutdown is already running.
 */
int upstream_pool_shutdown(struct upstream_pool *p, unsigned timeout_ms,
    upstream_done_fn *done, void *done_arg);

/* Copy the pool's counters into *st. */
void upstream_pool_stats(const struct upstream_pool *p,
    struct upstream_stats *st);

#endif /* PROXY_DAEMON_UPSTREAM_H */
