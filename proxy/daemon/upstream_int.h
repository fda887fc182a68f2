/*
 * The upstream module's own parts, shared by its two files and no one
 * else: upstream.c (the pool: its connections, picking one for a
 * request, reply handles, reconfigure, shutdown) and upstream_conn.c (one
 * connection: its state machine, in-flight table, I/O through
 * proxy/io/pduconn.h, keepalive and reconnect).
 *
 * Each connection (struct ups_conn) is one TCP (or TLS) connection with
 * its own state machine, sequence numbers, window of in-flight requests,
 * enquire_link keepalive and reconnect backoff. A per-connection tick
 * timer drives every deadline (connect, bind, responses, enquire_link,
 * unbind, close flush), so no timer is armed per PDU.
 *
 * In-flight table: a connection owns cap slots (cap = window when the
 * connection had nothing in flight last). A request in slot i gets a
 * sequence_number s with (s - 1) % cap == i, so a response finds its slot
 * in O(1) and no allocation happens per PDU. Slots in use are also linked
 * in send order; since every request has the same timeout, the oldest is
 * the first to expire and the tick only looks at the list head.
 */
#ifndef PROXY_DAEMON_UPSTREAM_INT_H
#define PROXY_DAEMON_UPSTREAM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "config/config.h"
#include "proxy/daemon/upstream.h"
#include "proxy/io/pduconn.h"
#include "proxy/policy/backoff.h"
#include "smpp/pdu.h"

struct event;
struct event_base;

enum ups_state {
	UPS_IDLE = 0,		/* no connection; retry timer may be armed */
	UPS_CONNECTING,		/* TCP connect (and TLS handshake) */
	UPS_BINDING,		/* bind_* sent, waiting for bind_resp */
	UPS_BOUND,		/* takes submits (if transmit-capable) */
	UPS_DRAINING,		/* bound, no new submits, in-flight finish */
	UPS_UNBINDING,		/* unbind sent, waiting for unbind_resp */
	UPS_CLOSING,		/* read side off, flushing a last reply */
	UPS_CLOSED,		/* retired for good; freed with the pool */
};

enum ups_role {
	UPS_ROLE_TRX = 0,
	UPS_ROLE_TX,
	UPS_ROLE_RX,
};

struct ups_slot {
	void		*ctx;		/* borrowed from the submitter */
	const struct upstream_req_cbs *rcb;	/* borrowed; its callbacks */
	uint64_t	 deadline_ms;
	uint32_t	 seq;
	uint32_t	 command_id;	/* the request's */
	int32_t		 prev;		/* send order; -1 ends */
	int32_t		 next;		/* send order, or the free list */
	bool		 is_used;
	bool		 is_cancelled;
};

struct ups_conn {
	struct upstream_pool	*pool;		/* borrowed: the owner */
	uint64_t		 id;		/* new for every connection */
	enum ups_role		 role;
	enum ups_state		 state;
	struct pduconn		 io;		/* io.bev owned; NULL if down */
	struct event		*tick;		/* owned; armed while bev */
	struct event		*retry;		/* owned; armed in IDLE */
	struct backoff		 backoff;
	uint64_t		 since_ms;	/* entered the current state */
	uint64_t		 last_rx_ms;	/* a PDU was received */

	struct ups_slot		*slots;		/* owned; cap entries */
	unsigned		 cap;
	unsigned		 in_flight;
	int32_t			 free_head;
	int32_t			 head;		/* oldest in flight */
	int32_t			 tail;
	uint32_t		 next_seq;

	uint32_t		 bind_seq;
	uint32_t		 enq_seq;
	uint32_t		 unbind_seq;
	bool			 is_enq_pending;
	uint64_t		 enq_sent_ms;

	bool			 is_out_full;	/* output above high mark */
	bool			 is_retiring;	/* end in CLOSED */
	bool			 is_stale;	/* reconnect: new settings */
	bool			 has_connected;	/* for the reconnects count */
	bool			 is_broken;	/* close at the next tick */
	const char		*doing;		/* for error logs */
};

struct upstream_pool {
	uint64_t		 id;
	struct upstream_pool	*next;		/* ups_pools list */
	struct event_base	*base;		/* borrowed */
	struct upstream_cbs	 cbs;
	void			*arg;		/* borrowed */
	struct config_upstream	 cfg;		/* owned copy, strings too */
	SSL_CTX			*ssl_ctx;	/* owned; NULL without TLS */
	struct evdns_base	*dns;		/* owned; for a host name */

	struct ups_conn		**conns;	/* owned */
	unsigned		 nconns;

	bool			 is_any_bound;
	bool			 wants_window;
	bool			 is_freeing;	/* only on_fail from now on */
	bool			 is_shutting_down;
	bool			 is_done;
	upstream_done_fn	*done;
	void			*done_arg;
	struct event		*shutdown_timer;	/* owned */
	struct event		*done_ev;		/* owned */

	struct upstream_stats	 st;
	struct smpp_pdu		*rx;		/* owned; decode scratch */
	struct smpp_pdu		*tx;		/* owned; encode scratch */
};

/* --- upstream_conn.c: one connection ---------------------------------- */

/* Milliseconds of a monotonic clock. */
uint64_t ups_now_ms(void);

/* A new connection of p in role, IDLE (not connecting yet), or NULL. */
struct ups_conn *ups_conn_new(struct upstream_pool *p, enum ups_role role);

/* Free a connection that is CLOSED (or torn down with the pool). */
void	ups_conn_free(struct ups_conn *c);

/* Connect now (from IDLE). */
void	ups_conn_connect(struct ups_conn *c);

/* Reconnect in delay_ms (the retry timer). */
void	ups_conn_schedule(struct ups_conn *c, unsigned delay_ms);

/*
 * The one way a connection ends: fails what is in flight; with flush,
 * writes what is queued first (bounded). ups_conn_finish() drops it at
 * once, to IDLE (retry) or CLOSED.
 */
void	ups_conn_close(struct ups_conn *c, const char *reason, bool flush);
void	ups_conn_finish(struct ups_conn *c);

/* Take no new submits; unbind when nothing is in flight; then close. */
void	ups_conn_drain(struct ups_conn *c);

/* Write c's queued output now (direct writes). */
void	ups_conn_flush(struct ups_conn *c);

/* Fail everything in flight on c (on_fail of each). */
void	ups_conn_fail_all(struct ups_conn *c);

/* Resize the in-flight table to the window when it is empty. Returns 0,
 * or -1 out of memory. */
int	ups_conn_slots_fit(struct ups_conn *c);

/* Transmit-capable; free window space; has room (window and output). */
bool	ups_conn_can_tx(const struct ups_conn *c);
unsigned ups_conn_window(const struct ups_conn *c);
bool	ups_conn_has_room(const struct ups_conn *c);

/*
 * Queue request pdu (len bytes, command cmd) on c with the next free slot
 * and our sequence_number; its answer goes to rcb with ctx. Returns 0, or
 * -1 with errno ENOMEM (c is then closed by its tick).
 */
int	ups_conn_submit(struct ups_conn *c, const uint8_t *pdu, size_t len,
	    const struct upstream_req_cbs *rcb, void *ctx, uint32_t cmd);

/* Forget every request of ctx in flight on c; returns how many. */
size_t	ups_conn_cancel(struct ups_conn *c, const void *ctx);

/* Write a header plus at most one C-Octet string (cstr NULL: header
 * only). Returns 0, or -1. */
int	ups_conn_write_simple(struct ups_conn *c, uint32_t cmd,
	    uint32_t status, uint32_t seq, const char *cstr);

/* --- upstream.c: the pool, for its connections ----------------------- */

/* Recount the bound transmit-capable connections; tell on_state. */
void	ups_pool_update_bound(struct upstream_pool *p);

/* c has room again: call on_window if a submit was refused. */
void	ups_pool_maybe_window(struct upstream_pool *p,
	    const struct ups_conn *c);

/* A shutdown whose connections are all CLOSED is done. */
void	ups_pool_check_done(struct upstream_pool *p);

#endif /* PROXY_DAEMON_UPSTREAM_INT_H */
