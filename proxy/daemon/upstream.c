/*
 * Upstream: SMPP v3.4 client connections to an SMSC, pooled per configured
 * upstream. See upstream.h for the contract.
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
#include "proxy/daemon/upstream.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy/policy/backoff.h"
#include "proxy/io/log.h"
#include "proxy/io/tls.h"
#include "smpp/frame.h"

#define UPS_SEQ_MAX		0x7FFFFFFFu	/* §5.1.4 */
#define UPS_CLOSE_FLUSH_MS	1000u	/* bound on flushing a last nack */
#define UPS_TICK_MIN_MS		5u
#define UPS_TICK_MAX_MS		1000u
#define UPS_READ_MAX		16384	/* bytes per direct read */

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
	struct bufferevent	*bev;		/* owned while connected */
	struct event		*tick;		/* owned; armed while bev */
	struct event		*retry;		/* owned; armed in IDLE */
	struct event		*flush;		/* owned; see ups_conn_queued */
	struct event		*read_ev;	/* owned while bev; direct */
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
	bool			 is_direct;	/* plain TCP: we write it */
	bool			 is_flush_queued;
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

/* Every live pool, so a reply handle can be checked by value. One thread. */
static struct upstream_pool	*ups_pools;
static uint64_t			 ups_last_pool_id;
static uint64_t			 ups_last_conn_id;

static void	ups_conn_connect(struct ups_conn *);
static void	ups_conn_close(struct ups_conn *, const char *, bool);
static void	ups_conn_finish(struct ups_conn *);
static void	ups_conn_drain(struct ups_conn *);
static void	ups_pool_check_done(struct upstream_pool *);

static const char *
ups_state_name(enum ups_state st)
{
	switch (st) {
	case UPS_IDLE:
		return "idle";
	case UPS_CONNECTING:
		return "connecting";
	case UPS_BINDING:
		return "binding";
	case UPS_BOUND:
		return "bound";
	case UPS_DRAINING:
		return "draining";
	case UPS_UNBINDING:
		return "unbinding";
	case UPS_CLOSING:
		return "closing";
	case UPS_CLOSED:
		return "closed";
	}
	return "unknown";
}

static const char *
ups_role_name(enum ups_role r)
{
	switch (r) {
	case UPS_ROLE_TRX:
		return "transceiver";
	case UPS_ROLE_TX:
		return "transmitter";
	case UPS_ROLE_RX:
		return "receiver";
	}
	return "unknown";
}

static uint64_t
ups_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool
ups_conn_can_tx(const struct ups_conn *c)
{
	return c->role != UPS_ROLE_RX;
}

static unsigned
ups_conn_window(const struct ups_conn *c)
{
	unsigned	w = c->pool->cfg.window;

	return w < c->cap ? w : c->cap;
}

/* Transmit-capable, bound, and neither window nor output buffer full. */
static bool
ups_conn_has_room(const struct ups_conn *c)
{
	return c->state == UPS_BOUND && ups_conn_can_tx(c) &&
	    !c->is_out_full && c->in_flight < ups_conn_window(c);
}

/* --- pool-level notifications -------------------------------------- */

static void
ups_pool_update_bound(struct upstream_pool *p)
{
	bool	any = false;

	for (unsigned i = 0; i < p->nconns; i++) {
		if (p->conns[i]->state == UPS_BOUND &&
		    ups_conn_can_tx(p->conns[i])) {
			any = true;
			break;
		}
	}
	if (any == p->is_any_bound)
		return;
	p->is_any_bound = any;
	log_info("upstream=%s event=%s", p->cfg.name,
	    any ? "available" : "unavailable");
	if (!p->is_freeing && p->cbs.on_state != NULL)
		p->cbs.on_state(p->arg, any);
}

/* Tell the downstream once that a refused submit may now succeed. */
static void
ups_pool_maybe_window(struct upstream_pool *p, const struct ups_conn *c)
{
	if (!p->wants_window || p->is_freeing || p->is_shutting_down ||
	    !ups_conn_has_room(c))
		return;
	p->wants_window = false;
	if (p->cbs.on_window != NULL)
		p->cbs.on_window(p->arg);
}

/* --- state machine ----------------------------------------------------- */

static void
ups_conn_set_state(struct ups_conn *c, enum ups_state st)
{
	enum ups_state	old = c->state;

	if ((unsigned)st > UPS_CLOSED)
		fatalx("upstream: bad state %u", (unsigned)st);
	if (old == st)
		return;
	c->state = st;
	c->since_ms = ups_now_ms();
	log_debug("upstream=%s conn=%" PRIu64 " role=%s state=%s->%s",
	    c->pool->cfg.name, c->id, ups_role_name(c->role),
	    ups_state_name(old), ups_state_name(st));
	if (old == UPS_BOUND || st == UPS_BOUND)
		ups_pool_update_bound(c->pool);
}

/* --- in-flight slots --------------------------------------------------- */

/*
 * Size the slot table to the window. Only with nothing in flight: a
 * sequence number's slot depends on cap.
 */
static int
ups_conn_slots_fit(struct ups_conn *c)
{
	unsigned	 want = c->pool->cfg.window;
	struct ups_slot	*ns;

	if (c->in_flight != 0)
		return 0;
	if (want != c->cap) {
		if ((ns = calloc(want, sizeof(*ns))) == NULL) {
			/* Keep the old table; the window is capped by it. */
			log_warn("upstream=%s conn=%" PRIu64
			    " doing=resize-window", c->pool->cfg.name, c->id);
			return -1;
		}
		free(c->slots);
		c->slots = ns;
		c->cap = want;
	}
	for (unsigned i = 0; i < c->cap; i++) {
		memset(&c->slots[i], 0, sizeof(c->slots[i]));
		c->slots[i].prev = -1;
		c->slots[i].next = i + 1 < c->cap ? (int32_t)(i + 1) : -1;
	}
	c->free_head = c->cap ? 0 : -1;
	c->head = c->tail = -1;
	return 0;
}

static uint32_t
ups_conn_seq(struct ups_conn *c)
{
	uint32_t	s = c->next_seq;

	if (s == 0 || s > UPS_SEQ_MAX)
		s = 1;
	c->next_seq = s + 1;
	return s;
}

/* A sequence number that maps to slot i (see the top of the file). */
static uint32_t
ups_conn_seq_for(struct ups_conn *c, unsigned i)
{
	uint64_t	s = c->next_seq, r;

	if (s == 0 || s > UPS_SEQ_MAX)
		s = 1;
	r = (s - 1) % c->cap;
	s += (i + c->cap - r) % c->cap;
	if (s > UPS_SEQ_MAX)
		s = (uint64_t)i + 1;
	c->next_seq = (uint32_t)s + 1;
	return (uint32_t)s;
}

static struct ups_slot *
ups_conn_slot_find(struct ups_conn *c, uint32_t seq)
{
	struct ups_slot	*s;

	if (c->cap == 0 || seq == 0)
		return NULL;
	s = &c->slots[(seq - 1) % c->cap];
	if (!s->is_used || s->seq != seq)
		return NULL;
	return s;
}

/* Unlink a used slot and put it on the free list; returns its ctx (NULL
 * if cancelled) and sets *rcb to its callbacks. */
static void *
ups_conn_slot_release(struct ups_conn *c, struct ups_slot *s,
    const struct upstream_req_cbs **rcb)
{
	int32_t	 i = (int32_t)(s - c->slots);
	void	*ctx = s->is_cancelled ? NULL : s->ctx;

	*rcb = s->rcb;

	if (s->prev != -1)
		c->slots[s->prev].next = s->next;
	else
		c->head = s->next;
	if (s->next != -1)
		c->slots[s->next].prev = s->prev;
	else
		c->tail = s->prev;
	memset(s, 0, sizeof(*s));
	s->prev = -1;
	s->next = c->free_head;
	c->free_head = i;
	c->in_flight--;
	if (c->in_flight == 0 && c->cap != c->pool->cfg.window)
		(void)ups_conn_slots_fit(c);
	return ctx;
}

/* Release slot s and fail its request (unless cancelled). */
static void
ups_conn_slot_fail(struct ups_conn *c, struct ups_slot *s)
{
	const struct upstream_req_cbs	*rcb;
	void				*ctx;

	if ((ctx = ups_conn_slot_release(c, s, &rcb)) == NULL)
		return;
	c->pool->st.fails++;
	rcb->on_fail(ctx, UPSTREAM_FAIL_STATUS);
}

/* Fail everything in flight on c; callbacks may submit elsewhere. */
static void
ups_conn_fail_all(struct ups_conn *c)
{
	while (c->head != -1)
		ups_conn_slot_fail(c, &c->slots[c->head]);
}

/* --- writing ----------------------------------------------------------- */

static void
ups_put_u32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/*
 * Direct writes. A plain TCP bufferevent writes on the next loop
 * turn, after an epoll_ctl for EV_WRITE and an epoll_wait that reports
 * it: an extra loop round and two or three system calls per hop and
 * batch. So a plain TCP connection keeps EV_WRITE disabled once connected;
 * whatever is queued on it activates c->flush once, which runs later in
 * the same loop turn (after the callbacks already active, so a whole read
 * callback's submits go out in one write) and hands the output to the
 * socket. Only what the kernel does not take waits for EV_WRITE. TLS
 * connections write through their bufferevent as always.
 */
static void
ups_conn_queued(struct ups_conn *c)
{
	if (!c->is_direct || c->is_flush_queued)
		return;
	c->is_flush_queued = true;
	event_active(c->flush, EV_TIMEOUT, 0);
}

/* Write c's queued output now; leave the rest to EV_WRITE. */
static void
ups_conn_flush(struct ups_conn *c)
{
	struct evbuffer	*out;
	evutil_socket_t	 fd;
	int		 n;

	if (!c->is_direct || c->bev == NULL || c->state == UPS_CONNECTING)
		return;
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) == 0 ||
	    (fd = bufferevent_getfd(c->bev)) < 0)
		return;
	/* A socket bufferevent freezes the front of its output while it
	 * is not writing; we are its writer now. */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
	/* Short write or error: the bufferevent finishes the job, and
	 * reports an error through ups_event_cb as it always did. */
	if (n < 0 || evbuffer_get_length(out) > 0)
		bufferevent_enable(c->bev, EV_WRITE);
}

static void	ups_conn_write_done(struct ups_conn *);

static void
ups_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ups_conn	*c = arg;

	(void)fd;
	(void)what;
	c->is_flush_queued = false;
	if (c->bev == NULL)
		return;
	ups_conn_flush(c);
	ups_conn_write_done(c);
}

/*
 * Write a PDU that is a header plus at most one C-Octet string (cstr NULL:
 * header only): enquire_link(_resp), unbind(_resp), generic_nack and
 * deliver_sm_resp / data_sm_resp without TLVs (§4.6.2, §4.7.2). Built by
 * hand rather than through the codec's 43 KB struct smpp_pdu because these
 * go out for every MO and keepalive.
 */
static int
ups_conn_write_simple(struct ups_conn *c, uint32_t cmd, uint32_t status,
    uint32_t seq, const char *cstr)
{
	uint8_t	hdr[SMPP_HEADER_LEN + SMPP_MESSAGE_ID_LEN];
	size_t	n = SMPP_HEADER_LEN, slen;

	if (c->bev == NULL)
		return -1;
	if (cstr != NULL) {
		slen = strlen(cstr);
		if (slen >= SMPP_MESSAGE_ID_LEN)
			slen = SMPP_MESSAGE_ID_LEN - 1;
		memcpy(hdr + n, cstr, slen);
		n += slen;
		hdr[n++] = 0;
	}
	ups_put_u32(hdr, (uint32_t)n);
	ups_put_u32(hdr + 4, cmd);
	ups_put_u32(hdr + 8, status);
	ups_put_u32(hdr + 12, seq);
	if (bufferevent_write(c->bev, hdr, n) == -1)
		return -1;
	ups_conn_queued(c);
	return 0;
}

static void
ups_conn_nack(struct ups_conn *c, uint32_t status, uint32_t seq)
{
	c->pool->st.nacks_sent++;
	(void)ups_conn_write_simple(c, SMPP_CMD_GENERIC_NACK, status, seq,
	    NULL);
}

static void
ups_conn_check_out(struct ups_conn *c)
{
	if (c->bev != NULL && evbuffer_get_length(bufferevent_get_output(
	    c->bev)) > UPSTREAM_OUT_HIGH_BYTES)
		c->is_out_full = true;
}

static void
ups_conn_send_bind(struct ups_conn *c)
{
	struct upstream_pool	*p = c->pool;
	struct smpp_pdu		*b = p->tx;
	uint8_t			 buf[256];
	ssize_t			 n;
	uint32_t		 cmd;

	switch (c->role) {
	case UPS_ROLE_TX:
		cmd = SMPP_CMD_BIND_TRANSMITTER;
		break;
	case UPS_ROLE_RX:
		cmd = SMPP_CMD_BIND_RECEIVER;
		break;
	case UPS_ROLE_TRX:
	default:
		cmd = SMPP_CMD_BIND_TRANSCEIVER;
		break;
	}
	c->bind_seq = ups_conn_seq(c);
	smpp_pdu_init(b, cmd, c->bind_seq);
	snprintf(b->system_id, sizeof(b->system_id), "%s", p->cfg.system_id);
	snprintf(b->password, sizeof(b->password), "%s", p->cfg.password);
	snprintf(b->system_type, sizeof(b->system_type), "%s",
	    p->cfg.system_type);
	b->interface_version = 0x34;
	n = smpp_pdu_encode(b, buf, sizeof(buf));
	/* Wipe the password copy; buf is on the stack and goes next. */
	explicit_bzero(b->password, sizeof(b->password));
	if (n < 0) {
		explicit_bzero(buf, sizeof(buf));
		ups_conn_close(c, "bind does not encode", false);
		return;
	}
	ups_conn_set_state(c, UPS_BINDING);
	if (bufferevent_write(c->bev, buf, (size_t)n) == 0)
		ups_conn_queued(c);
	explicit_bzero(buf, sizeof(buf));
}

static void
ups_conn_send_enquire(struct ups_conn *c, uint64_t now)
{
	c->enq_seq = ups_conn_seq(c);
	c->is_enq_pending = true;
	c->enq_sent_ms = now;
	(void)ups_conn_write_simple(c, SMPP_CMD_ENQUIRE_LINK, 0, c->enq_seq,
	    NULL);
}

/* DRAINING with nothing left in flight: unbind (§4.2). */
static void
ups_conn_maybe_unbind(struct ups_conn *c)
{
	if (c->state != UPS_DRAINING || c->in_flight != 0)
		return;
	c->unbind_seq = ups_conn_seq(c);
	ups_conn_set_state(c, UPS_UNBINDING);
	(void)ups_conn_write_simple(c, SMPP_CMD_UNBIND, 0, c->unbind_seq,
	    NULL);
}

/* --- closing ----------------------------------------------------------- */

static void
ups_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ups_conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->state == UPS_IDLE)
		ups_conn_connect(c);
}

static void
ups_conn_schedule(struct ups_conn *c, unsigned delay_ms)
{
	struct timeval	tv;

	tv.tv_sec = delay_ms / 1000;
	tv.tv_usec = (delay_ms % 1000) * 1000;
	evtimer_add(c->retry, &tv);
}

/*
 * Drop the connection for good: free the bufferevent and stop the tick,
 * then wait for the retry timer (IDLE) or stay down (CLOSED).
 */
static void
ups_conn_finish(struct ups_conn *c)
{
	struct upstream_pool	*p = c->pool;
	unsigned		 delay;

	if (c->read_ev != NULL) {
		event_free(c->read_ev);
		c->read_ev = NULL;
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	evtimer_del(c->tick);
	c->is_out_full = false;
	c->is_enq_pending = false;
	if (c->is_retiring || p->is_shutting_down || p->is_freeing) {
		ups_conn_set_state(c, UPS_CLOSED);
		ups_pool_check_done(p);
		return;
	}
	ups_conn_set_state(c, UPS_IDLE);
	if (c->is_stale) {
		/* New settings: reconnect at once, the old session was fine. */
		backoff_reset(&c->backoff);
		delay = 0;
	} else
		delay = backoff_next(&c->backoff);
	log_info("upstream=%s conn=%" PRIu64 " event=reconnect-scheduled "
	    "delay_ms=%u", p->cfg.name, c->id, delay);
	ups_conn_schedule(c, delay);
}

/*
 * The one way a connection ends. Idempotent. Fails everything in flight
 * through on_fail; with flush, keeps the write side open (bounded by
 * UPS_CLOSE_FLUSH_MS) until replies already queued, such as a last
 * generic_nack or unbind_resp, are written.
 */
static void
ups_conn_close(struct ups_conn *c, const char *reason, bool flush)
{
	struct upstream_pool	*p = c->pool;

	if (c->state == UPS_IDLE || c->state == UPS_CLOSED ||
	    c->state == UPS_CLOSING)
		return;
	if (c->state == UPS_UNBINDING || (c->state == UPS_DRAINING &&
	    c->in_flight == 0))
		/* The ending we asked for. */
		log_info("upstream=%s conn=%" PRIu64 " role=%s event=close "
		    "reason=\"%s\"", p->cfg.name, c->id,
		    ups_role_name(c->role), reason);
	else if (c->state >= UPS_BINDING)
		log_warnx("upstream=%s conn=%" PRIu64 " role=%s event=close "
		    "reason=\"%s\" state=%s in_flight=%u doing=%s",
		    p->cfg.name, c->id, ups_role_name(c->role), reason,
		    ups_state_name(c->state), c->in_flight,
		    c->doing != NULL ? c->doing : "relay");
	else
		log_warnx("upstream=%s conn=%" PRIu64 " event=close "
		    "reason=\"%s\" doing=%s", p->cfg.name, c->id, reason,
		    c->doing != NULL ? c->doing : "connect");
	ups_conn_set_state(c, UPS_CLOSING);
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ);
	if (c->read_ev != NULL)
		event_del(c->read_ev);
	ups_conn_fail_all(c);
	if (flush)
		ups_conn_flush(c);
	if (flush && c->bev != NULL && evbuffer_get_length(
	    bufferevent_get_output(c->bev)) > 0) {
		/* The write callback finishes once the output is empty. */
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	ups_conn_finish(c);
}

/* --- inbound PDUs ------------------------------------------------------ */

static enum smpp_bind_state
ups_conn_bind_state(const struct ups_conn *c)
{
	switch (c->role) {
	case UPS_ROLE_TX:
		return SMPP_STATE_BOUND_TX;
	case UPS_ROLE_RX:
		return SMPP_STATE_BOUND_RX;
	case UPS_ROLE_TRX:
	default:
		return SMPP_STATE_BOUND_TRX;
	}
}

static void
ups_conn_on_bind_resp(struct ups_conn *c, const struct smpp_pdu *pdu)
{
	struct upstream_pool	*p = c->pool;
	const char		*sn;

	if (c->state != UPS_BINDING || pdu->sequence_number != c->bind_seq) {
		log_warnx("upstream=%s conn=%" PRIu64 " event=unexpected "
		    "cmd=%s seq=%" PRIu32, p->cfg.name, c->id,
		    smpp_cmd_name(pdu->command_id), pdu->sequence_number);
		return;
	}
	if (pdu->command_status != SMPP_OK) {
		sn = smpp_status_name(pdu->command_status);
		/* Never log the password; system_id names the account. */
		log_warnx("upstream=%s conn=%" PRIu64 " event=bind-refused "
		    "system_id=%s status=0x%08" PRIx32 " status_name=%s",
		    p->cfg.name, c->id, p->cfg.system_id, pdu->command_status,
		    sn != NULL ? sn : "unknown");
		p->st.bind_failures++;
		ups_conn_close(c, "bind refused", false);
		return;
	}
	backoff_reset(&c->backoff);
	c->last_rx_ms = ups_now_ms();
	c->doing = NULL;
	log_info("upstream=%s conn=%" PRIu64 " role=%s event=bound "
	    "smsc_system_id=\"%s\" window=%u", p->cfg.name, c->id,
	    ups_role_name(c->role), pdu->system_id, ups_conn_window(c));
	ups_conn_set_state(c, UPS_BOUND);
	if (p->is_shutting_down || c->is_retiring || c->is_stale) {
		ups_conn_drain(c);
		return;
	}
	ups_pool_maybe_window(p, c);
}

/* A response to one of our forwarded requests. */
static void
ups_conn_on_resp(struct ups_conn *c, const struct smpp_pdu *pdu,
    const uint8_t *raw, size_t len)
{
	struct upstream_pool	*p = c->pool;
	struct ups_slot		*s;
	const struct upstream_req_cbs *rcb;
	void			*ctx;
	uint32_t		 want;

	if ((s = ups_conn_slot_find(c, pdu->sequence_number)) == NULL) {
		log_warnx("upstream=%s conn=%" PRIu64 " event=unexpected-resp "
		    "cmd=%s seq=%" PRIu32, p->cfg.name, c->id,
		    smpp_cmd_name(pdu->command_id), pdu->sequence_number);
		return;
	}
	want = smpp_cmd_resp_id(s->command_id);
	ctx = ups_conn_slot_release(c, s, &rcb);
	if (pdu->command_status == SMPP_OK)
		p->st.resps_ok++;
	else
		p->st.resps_err++;
	if (ctx != NULL) {
		if (pdu->command_id != want &&
		    pdu->command_id != SMPP_CMD_GENERIC_NACK) {
			/* The wrong kind of answer: relay nothing of it. */
			log_warnx("upstream=%s conn=%" PRIu64
			    " event=wrong-resp cmd=%s want=%s seq=%" PRIu32,
			    p->cfg.name, c->id, smpp_cmd_name(pdu->command_id),
			    smpp_cmd_name(want), pdu->sequence_number);
			p->st.fails++;
			rcb->on_fail(ctx, UPSTREAM_FAIL_STATUS);
		} else
			rcb->on_resp(ctx, pdu, raw, len);
	}
	if (c->state == UPS_DRAINING)
		ups_conn_maybe_unbind(c);
	else
		ups_pool_maybe_window(p, c);
}

static void
ups_conn_on_deliver(struct ups_conn *c, const struct smpp_pdu *pdu,
    const uint8_t *raw, size_t len)
{
	struct upstream_pool	*p = c->pool;
	struct upstream_reply	 r;

	if (c->state < UPS_BOUND || c->state > UPS_UNBINDING ||
	    !smpp_cmd_smsc_may_send(pdu->command_id, ups_conn_bind_state(c))) {
		(void)ups_conn_write_simple(c,
		    smpp_cmd_resp_id(pdu->command_id), SMPP_ESME_RINVBNDSTS,
		    pdu->sequence_number, "");
		return;
	}
	p->st.delivers++;
	r.pool_id = p->id;
	r.conn_id = c->id;
	r.sequence_number = pdu->sequence_number;
	r.command_id = pdu->command_id;
	if (p->cbs.on_deliver == NULL) {
		(void)upstream_reply_send(&r, SMPP_ESME_RX_T_APPN, NULL);
		return;
	}
	p->cbs.on_deliver(p->arg, p, pdu, raw, len, &r);
}

/* A frame that does not decode (pdu has its header when len >= 16). */
static void
ups_conn_on_bad_pdu(struct ups_conn *c, const struct smpp_pdu *pdu,
    enum smpp_status st)
{
	struct ups_slot	*s;

	log_warnx("upstream=%s conn=%" PRIu64 " event=bad-pdu cmd=%s "
	    "seq=%" PRIu32 " status=0x%08x", c->pool->cfg.name, c->id,
	    smpp_cmd_name(pdu->command_id), pdu->sequence_number,
	    (unsigned)st);
	if (smpp_cmd_is_resp(pdu->command_id)) {
		/* Never nack a response (§3.3.2: generic_nack is for
		 * requests). A mangled answer to one of ours fails that
		 * request. */
		if ((s = ups_conn_slot_find(c, pdu->sequence_number)) != NULL)
			ups_conn_slot_fail(c, s);
		return;
	}
	ups_conn_nack(c, st, pdu->sequence_number);
}

/* A generic_nack: of our bind, of our enquire_link, or of a request. */
static void
ups_conn_on_nack(struct ups_conn *c, const struct smpp_pdu *pdu,
    const uint8_t *raw, size_t len)
{
	struct upstream_pool	*p = c->pool;

	if (c->state == UPS_BINDING && pdu->sequence_number == c->bind_seq) {
		p->st.bind_failures++;
		log_warnx("upstream=%s conn=%" PRIu64 " event=bind-"
		    "refused status=0x%08" PRIx32 " (generic_nack)",
		    p->cfg.name, c->id, pdu->command_status);
		ups_conn_close(c, "bind nacked", false);
		return;
	}
	if (c->is_enq_pending && pdu->sequence_number == c->enq_seq) {
		/* Some SMSCs nack enquire_link: still alive. */
		c->is_enq_pending = false;
		return;
	}
	ups_conn_on_resp(c, pdu, raw, len);
}

/* One whole frame from the SMSC. */
static void
ups_conn_on_pdu(struct ups_conn *c, const uint8_t *buf, size_t len)
{
	struct upstream_pool	*p = c->pool;
	struct smpp_pdu		*pdu = p->rx;
	enum smpp_status	 st;

	st = smpp_pdu_decode(pdu, buf, len);
	if (st != SMPP_OK) {
		ups_conn_on_bad_pdu(c, pdu, st);
		return;
	}
	switch (pdu->command_id) {
	case SMPP_CMD_BIND_TRANSCEIVER_RESP:
	case SMPP_CMD_BIND_TRANSMITTER_RESP:
	case SMPP_CMD_BIND_RECEIVER_RESP:
		ups_conn_on_bind_resp(c, pdu);
		return;
	case SMPP_CMD_GENERIC_NACK:
		ups_conn_on_nack(c, pdu, buf, len);
		return;
	case SMPP_CMD_ENQUIRE_LINK:
		/* Answered locally, echoing the sequence number (§4.11). */
		(void)ups_conn_write_simple(c, SMPP_CMD_ENQUIRE_LINK_RESP,
		    SMPP_OK, pdu->sequence_number, NULL);
		return;
	case SMPP_CMD_ENQUIRE_LINK_RESP:
		if (c->is_enq_pending && pdu->sequence_number == c->enq_seq)
			c->is_enq_pending = false;
		return;
	case SMPP_CMD_UNBIND:
		/* §4.2: answer, then the SMSC closes; we reconnect. */
		(void)ups_conn_write_simple(c, SMPP_CMD_UNBIND_RESP, SMPP_OK,
		    pdu->sequence_number, NULL);
		ups_conn_close(c, "unbind from SMSC", true);
		return;
	case SMPP_CMD_UNBIND_RESP:
		if (c->state == UPS_UNBINDING)
			ups_conn_close(c, "unbound", false);
		return;
	case SMPP_CMD_DELIVER_SM:
	case SMPP_CMD_DATA_SM:
		ups_conn_on_deliver(c, pdu, buf, len);
		return;
	case SMPP_CMD_SUBMIT_SM_RESP:
	case SMPP_CMD_DATA_SM_RESP:
	case SMPP_CMD_SUBMIT_MULTI_RESP:
	case SMPP_CMD_QUERY_SM_RESP:
	case SMPP_CMD_CANCEL_SM_RESP:
	case SMPP_CMD_REPLACE_SM_RESP:
		ups_conn_on_resp(c, pdu, buf, len);
		return;
	case SMPP_CMD_ALERT_NOTIFICATION:
		/* No response exists (§4.12); nothing here uses it. */
		return;
	default:
		break;
	}
	if (smpp_cmd_is_resp(pdu->command_id)) {
		log_warnx("upstream=%s conn=%" PRIu64 " event=unexpected-resp "
		    "cmd=%s seq=%" PRIu32, p->cfg.name, c->id,
		    smpp_cmd_name(pdu->command_id), pdu->sequence_number);
		return;
	}
	/* A request an SMSC may not send to an ESME (bind, submit, ...). */
	if (smpp_cmd_resp_id(pdu->command_id) == SMPP_CMD_GENERIC_NACK)
		ups_conn_nack(c, SMPP_ESME_RINVCMDID, pdu->sequence_number);
	else
		(void)ups_conn_write_simple(c,
		    smpp_cmd_resp_id(pdu->command_id), SMPP_ESME_RINVBNDSTS,
		    pdu->sequence_number, NULL);
}

/* --- bufferevent callbacks --------------------------------------------- */

/*
 * Every whole frame in the input. Frames that lie in one extent of the
 * buffer are handled in place and drained together: one drain per batch
 * instead of a copy-out, a pull-up and a drain per PDU. Nothing
 * run from ups_conn_on_pdu() reads into or drains this input.
 */
static void
ups_read_cb(struct bufferevent *bev, void *arg)
{
	struct ups_conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 hdr[SMPP_HEADER_LEN];
	const uint8_t	*base = NULL, *buf;
	size_t		 avail, hl, cont = 0, done = 0;
	uint32_t	 max, flen;
	uint64_t	 id = c->id;
	bool		 has_clock = false;

	/* Many PDUs per callback; stop as soon as the connection ends. */
	while (c->bev == bev && c->id == id && c->state >= UPS_BINDING &&
	    c->state <= UPS_UNBINDING) {
		avail = evbuffer_get_length(in) - done;
		if (avail < 4)
			break;
		hl = avail < sizeof(hdr) ? avail : sizeof(hdr);
		if (done + hl <= cont)
			memcpy(hdr, base + done, hl);
		else {
			evbuffer_drain(in, done);
			done = cont = 0;
			evbuffer_copyout(in, hdr, hl);
		}
		/* Before bind the SMSC has no business sending big PDUs. */
		max = c->state == UPS_BINDING ? SMPP_MAX_PDU_LEN_OPEN :
		    SMPP_MAX_PDU_LEN;
		if (smpp_frame_check(hdr, hl, max) < 0) {
			c->doing = "framing";
			ups_conn_nack(c, SMPP_ESME_RINVCMDLEN, hl >=
			    SMPP_HEADER_LEN ? ((uint32_t)hdr[12] << 24 |
			    (uint32_t)hdr[13] << 16 | (uint32_t)hdr[14] << 8 |
			    hdr[15]) : 0);
			ups_conn_close(c, "framing lost", true);
			return;
		}
		flen = smpp_frame_peek_len(hdr);
		if (avail < flen)
			break;
		if (done + flen <= cont)
			buf = base + done;
		else {
			/* Starts a new extent: make the frame contiguous, and
			 * take the rest of that extent in place too. */
			evbuffer_drain(in, done);
			done = 0;
			if ((buf = evbuffer_pullup(in, flen)) == NULL) {
				c->doing = "pullup";
				ups_conn_close(c, "out of memory", false);
				return;
			}
			base = buf;
			cont = evbuffer_get_contiguous_space(in);
		}
		/* One clock read per batch, not per PDU. */
		if (!has_clock) {
			c->last_rx_ms = ups_now_ms();
			has_clock = true;
		}
		ups_conn_on_pdu(c, buf, flen);
		/* The bufferevent outlives a close made in this callback
		 * (libevent defers the free), but the data is no longer
		 * ours to consume. */
		if (c->bev != bev || c->id != id)
			return;
		done += flen;
	}
	if (done > 0 && c->bev == bev && c->id == id)
		evbuffer_drain(in, done);
}

/*
 * Direct reads: a plain TCP connection reads its socket itself.
 * A socket bufferevent asks the kernel how much is readable (FIONREAD)
 * before every read and hands the data over through a deferred callback;
 * here it is one read() into the bufferevent's input buffer, then the
 * frame loop. The bufferevent's own EV_READ stays off.
 */
static void
ups_sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ups_conn	*c = arg;
	struct evbuffer	*in;
	struct evbuffer_iovec v;
	char		 reason[160];
	ssize_t		 n;
	int		 err;

	(void)what;
	if (c->bev == NULL)
		return;
	in = bufferevent_get_input(c->bev);
	/* A socket bufferevent freezes the end of its input while it is
	 * not reading; we are its reader now. */
	evbuffer_unfreeze(in, 0);
	if (evbuffer_reserve_space(in, UPS_READ_MAX, &v, 1) != 1) {
		evbuffer_freeze(in, 0);
		c->doing = "read";
		ups_conn_close(c, "out of memory", false);
		return;
	}
	n = read(fd, v.iov_base, v.iov_len);
	err = errno;
	if (n > 0) {
		v.iov_len = (size_t)n;
		(void)evbuffer_commit_space(in, &v, 1);
	}
	evbuffer_freeze(in, 0);
	if (n == 0 || (n < 0 && err != EAGAIN && err != EWOULDBLOCK &&
	    err != EINTR)) {
		/* As ups_event_cb does for its bufferevent. */
		event_del(c->read_ev);
		if (n == 0)
			snprintf(reason, sizeof(reason),
			    "connection closed by SMSC");
		else
			snprintf(reason, sizeof(reason), "%s",
			    evutil_socket_error_to_string(err));
		if (c->state == UPS_CLOSING)
			ups_conn_finish(c);
		else
			ups_conn_close(c, reason, false);
		return;
	}
	if (n > 0)
		ups_read_cb(c->bev, c);
}

/* Output was written: finish a closing connection once it is all out,
 * take EV_WRITE back for direct writes, reopen the window. */
static void
ups_conn_write_done(struct ups_conn *c)
{
	size_t	len = evbuffer_get_length(bufferevent_get_output(c->bev));

	if (c->state == UPS_CLOSING) {
		if (len == 0)
			ups_conn_finish(c);
		return;
	}
	if (c->is_direct && len == 0 && c->state != UPS_CONNECTING &&
	    (bufferevent_get_enabled(c->bev) & EV_WRITE) != 0)
		bufferevent_disable(c->bev, EV_WRITE);
	if (c->is_out_full && len <= UPSTREAM_OUT_LOW_BYTES) {
		c->is_out_full = false;
		ups_pool_maybe_window(c->pool, c);
	}
}

static void
ups_write_cb(struct bufferevent *bev, void *arg)
{
	struct ups_conn	*c = arg;

	if (c->bev != bev)
		return;
	ups_conn_write_done(c);
}

static void
ups_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ups_conn	*c = arg;
	struct upstream_pool *p = c->pool;
	char		 reason[400];
	unsigned long	 e;
	int		 fd, one = 1;

	if (c->bev != bev)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->state != UPS_CONNECTING)
			return;
		fd = bufferevent_getfd(bev);
		if (fd >= 0) {
			/* PDUs are small and latency matters. */
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one,
			    sizeof(one));
		}
		if (c->is_direct && fd >= 0) {
			/* From now on ups_conn_flush writes and
			 * ups_sock_read_cb reads. */
			bufferevent_disable(bev, EV_READ | EV_WRITE);
			c->read_ev = event_new(p->base, fd, EV_READ | EV_PERSIST,
			    ups_sock_read_cb, c);
			if (c->read_ev == NULL || event_add(c->read_ev,
			    NULL) == -1) {
				ups_conn_close(c, "out of memory", false);
				return;
			}
		} else
			c->is_direct = false;
		c->doing = "bind";
		ups_conn_send_bind(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		snprintf(reason, sizeof(reason), "connection closed by SMSC");
	} else if (what & BEV_EVENT_ERROR) {
		e = p->ssl_ctx != NULL ? bufferevent_get_openssl_error(bev) : 0;
		if (e != 0) {
			char	ebuf[120];

			ERR_error_string_n(e, ebuf, sizeof(ebuf));
			snprintf(reason, sizeof(reason), "TLS: %s", ebuf);
			while (bufferevent_get_openssl_error(bev) != 0)
				continue;
		} else if (bufferevent_socket_get_dns_error(bev) != 0)
			snprintf(reason, sizeof(reason), "resolve %s: %s",
			    p->cfg.host, evutil_gai_strerror(
			    bufferevent_socket_get_dns_error(bev)));
		else if (EVUTIL_SOCKET_ERROR() != 0)
			snprintf(reason, sizeof(reason), "%s",
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		else
			snprintf(reason, sizeof(reason), "connection error");
	} else
		snprintf(reason, sizeof(reason), "connection event 0x%x",
		    (unsigned)what);
	if (c->state == UPS_CLOSING)
		ups_conn_finish(c);
	else
		ups_conn_close(c, reason, false);
}

/* Every deadline of one connection. */
static void
ups_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ups_conn		*c = arg;
	struct upstream_pool	*p = c->pool;
	uint64_t		 now = ups_now_ms();
	unsigned		 to = p->cfg.response_timeout_ms;

	(void)fd;
	(void)what;
	switch (c->state) {
	case UPS_CONNECTING:
		if (now - c->since_ms >= to)
			ups_conn_close(c, "connect timeout", false);
		return;
	case UPS_BINDING:
		if (now - c->since_ms >= to) {
			p->st.bind_failures++;
			ups_conn_close(c, "bind_resp timeout", false);
		}
		return;
	case UPS_BOUND:
	case UPS_DRAINING:
		if (c->is_broken) {
			ups_conn_close(c, "out of memory", false);
			return;
		}
		if (c->head != -1 && c->slots[c->head].deadline_ms <= now) {
			/* SPEC §3: an upstream that does not answer in time
			 * is reconnected; its senders get a temporary error. */
			p->st.timeouts++;
			c->doing = smpp_cmd_name(c->slots[c->head].command_id);
			ups_conn_close(c, "response timeout", false);
			return;
		}
		if (c->is_enq_pending) {
			if (now - c->enq_sent_ms >= to) {
				p->st.timeouts++;
				c->doing = "enquire_link";
				ups_conn_close(c, "enquire_link timeout",
				    false);
			}
			return;
		}
		if (now - c->last_rx_ms >= p->cfg.enquire_link_ms)
			ups_conn_send_enquire(c, now);
		return;
	case UPS_UNBINDING:
		if (now - c->since_ms >= to)
			ups_conn_close(c, "unbind_resp timeout", false);
		return;
	case UPS_CLOSING:
		if (now - c->since_ms >= UPS_CLOSE_FLUSH_MS)
			ups_conn_finish(c);
		return;
	case UPS_IDLE:
	case UPS_CLOSED:
		return;
	}
}

static unsigned
ups_tick_ms(const struct config_upstream *cfg)
{
	unsigned	t = cfg->response_timeout_ms;

	if (cfg->enquire_link_ms < t)
		t = cfg->enquire_link_ms;
	t /= 4;
	if (t < UPS_TICK_MIN_MS)
		t = UPS_TICK_MIN_MS;
	if (t > UPS_TICK_MAX_MS)
		t = UPS_TICK_MAX_MS;
	return t;
}

static void
ups_conn_arm_tick(struct ups_conn *c)
{
	struct timeval	tv;
	unsigned	ms = ups_tick_ms(&c->pool->cfg);

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->tick, &tv);
}

/* --- connecting -------------------------------------------------------- */

static void
ups_conn_connect(struct ups_conn *c)
{
	struct upstream_pool	*p = c->pool;
	const int		 opts = BEV_OPT_CLOSE_ON_FREE |
				    BEV_OPT_DEFER_CALLBACKS;
	SSL			*ssl;
	char			 err[256];

	if (c->state != UPS_IDLE)
		return;
	c->id = ++ups_last_conn_id;
	if (c->has_connected)
		p->st.reconnects++;
	c->has_connected = true;
	c->is_stale = false;
	c->is_broken = false;
	c->is_out_full = false;
	c->is_enq_pending = false;
	c->is_direct = p->ssl_ctx == NULL;
	c->doing = "connect";
	c->next_seq = 1;
	(void)ups_conn_slots_fit(c);
	if (c->cap == 0) {
		ups_conn_schedule(c, backoff_next(&c->backoff));
		return;
	}
	if (p->ssl_ctx != NULL) {
		ssl = tls_client_ssl_new(p->ssl_ctx, p->cfg.host, err,
		    sizeof(err));
		if (ssl == NULL) {
			log_warnx("upstream=%s conn=%" PRIu64 " event=tls-"
			    "setup error=\"%s\"", p->cfg.name, c->id, err);
			ups_conn_schedule(c, backoff_next(&c->backoff));
			return;
		}
		/*
		 * With BEV_OPT_CLOSE_ON_FREE the bufferevent owns the SSL,
		 * and a failing bufferevent_openssl_socket_new() frees it
		 * itself (libevent >= 2.1.9): no SSL_free() here, as in
		 * tls_bev_new(), which cannot be used because it makes its
		 * own SSL without the SNI and name check of
		 * tls_client_ssl_new().
		 */
		c->bev = bufferevent_openssl_socket_new(p->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, opts);
		if (c->bev != NULL)
			/* SMSCs often close without close_notify. */
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else
		c->bev = bufferevent_socket_new(p->base, -1, opts);
	if (c->bev == NULL) {
		log_warn("upstream=%s conn=%" PRIu64 " doing=bufferevent",
		    p->cfg.name, c->id);
		ups_conn_schedule(c, backoff_next(&c->backoff));
		return;
	}
	bufferevent_setcb(c->bev, ups_read_cb, ups_write_cb, ups_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, UPSTREAM_OUT_LOW_BYTES, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	ups_conn_set_state(c, UPS_CONNECTING);
	ups_conn_arm_tick(c);
	log_debug("upstream=%s conn=%" PRIu64 " event=connect host=%s "
	    "port=%u tls=%s", p->cfg.name, c->id, p->cfg.host,
	    (unsigned)p->cfg.port, p->ssl_ctx != NULL ? "yes" : "no");
	/* Without an evdns_base a host name is resolved synchronously;
	 * upstreams are normally configured by address. */
	if (bufferevent_socket_connect_hostname(c->bev, NULL, AF_UNSPEC,
	    p->cfg.host, p->cfg.port) != 0)
		ups_conn_close(c, "connect failed", false);
}

/* Stop taking submits; unbind when nothing is in flight; then close. */
static void
ups_conn_drain(struct ups_conn *c)
{
	switch (c->state) {
	case UPS_IDLE:
		evtimer_del(c->retry);
		if (c->is_retiring || c->pool->is_shutting_down) {
			ups_conn_set_state(c, UPS_CLOSED);
			ups_pool_check_done(c->pool);
			return;
		}
		/* Waiting out a backoff: the new settings may be the fix
		 * (a corrected password), so try them now. */
		backoff_reset(&c->backoff);
		ups_conn_schedule(c, 0);
		return;
	case UPS_CONNECTING:
	case UPS_BINDING:
		ups_conn_close(c, c->pool->is_shutting_down ? "shutdown" :
		    "settings changed", false);
		return;
	case UPS_BOUND:
		ups_conn_set_state(c, UPS_DRAINING);
		ups_conn_maybe_unbind(c);
		return;
	case UPS_DRAINING:
	case UPS_UNBINDING:
	case UPS_CLOSING:
	case UPS_CLOSED:
		return;
	}
}

/* --- pool -------------------------------------------------------------- */

static void
ups_cfg_clear(struct config_upstream *cfg)
{
	if (cfg->password != NULL) {
		explicit_bzero(cfg->password, strlen(cfg->password));
		free(cfg->password);
	}
	free(cfg->tls.cert);
	free(cfg->tls.key);
	free(cfg->tls.client_ca);
	free(cfg->tls.ca);
	memset(cfg, 0, sizeof(*cfg));
}

static int
ups_strdup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	if ((*dst = strdup(src)) == NULL)
		return -1;
	return 0;
}

/* Validate src and copy it, strings included, into *dst. */
static int
ups_cfg_copy(struct config_upstream *dst, const struct config_upstream *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->host[0] == '\0' || src->port == 0 || src->sessions == 0 ||
	    src->window == 0 || src->response_timeout_ms == 0 ||
	    src->enquire_link_ms == 0) {
		log_warnx("upstream=%s event=bad-config", src->name);
		errno = EINVAL;
		return -1;
	}
	if (src->password != NULL &&
	    strlen(src->password) >= SMPP_PASSWORD_LEN) {
		/* §4.1.1: password is a C-Octet string of at most 9. */
		log_warnx("upstream=%s event=bad-config reason=\"password "
		    "longer than %d characters\"", src->name,
		    SMPP_PASSWORD_LEN - 1);
		errno = EINVAL;
		return -1;
	}
	*dst = *src;
	dst->password = NULL;
	dst->tls.cert = dst->tls.key = dst->tls.client_ca = dst->tls.ca = NULL;
	if (ups_strdup(&dst->password, src->password ? src->password : "") ||
	    ups_strdup(&dst->tls.cert, src->tls.cert) ||
	    ups_strdup(&dst->tls.key, src->tls.key) ||
	    ups_strdup(&dst->tls.client_ca, src->tls.client_ca) ||
	    ups_strdup(&dst->tls.ca, src->tls.ca)) {
		ups_cfg_clear(dst);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static bool
ups_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* True if a and b differ in anything a connection is made with. */
static bool
ups_cfg_conn_differs(const struct config_upstream *a,
    const struct config_upstream *b)
{
	return strcmp(a->host, b->host) != 0 || a->port != b->port ||
	    strcmp(a->system_id, b->system_id) != 0 ||
	    !ups_str_eq(a->password, b->password) ||
	    strcmp(a->system_type, b->system_type) != 0 ||
	    a->tls.enabled != b->tls.enabled ||
	    a->tls.verify != b->tls.verify ||
	    !ups_str_eq(a->tls.cert, b->tls.cert) ||
	    !ups_str_eq(a->tls.key, b->tls.key) ||
	    !ups_str_eq(a->tls.ca, b->tls.ca);
}

static SSL_CTX *
ups_ssl_ctx(const struct config_upstream *cfg, int *errp)
{
	SSL_CTX	*ctx;
	char	 err[256];

	*errp = 0;
	if (!cfg->tls.enabled)
		return NULL;
	if ((ctx = tls_client_ctx_new(&cfg->tls, err, sizeof(err))) == NULL) {
		log_warnx("upstream=%s event=tls-config error=\"%s\"",
		    cfg->name, err);
		*errp = EINVAL;
	}
	return ctx;
}

static struct ups_conn *
ups_conn_new(struct upstream_pool *p, enum ups_role role)
{
	struct ups_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->pool = p;
	c->role = role;
	c->state = UPS_IDLE;
	c->head = c->tail = c->free_head = -1;
	backoff_init(&c->backoff, p->cfg.reconnect_min_ms,
	    p->cfg.reconnect_max_ms, 0);
	c->tick = event_new(p->base, -1, EV_PERSIST, ups_tick_cb, c);
	c->retry = evtimer_new(p->base, ups_retry_cb, c);
	c->flush = event_new(p->base, -1, 0, ups_flush_cb, c);
	if (c->tick == NULL || c->retry == NULL || c->flush == NULL ||
	    ups_conn_slots_fit(c)) {
		if (c->tick != NULL)
			event_free(c->tick);
		if (c->retry != NULL)
			event_free(c->retry);
		if (c->flush != NULL)
			event_free(c->flush);
		free(c->slots);
		free(c);
		return NULL;
	}
	return c;
}

/* Free a connection that is CLOSED (or is being torn down with the pool). */
static void
ups_conn_free(struct ups_conn *c)
{
	if (c == NULL)
		return;
	if (c->read_ev != NULL)
		event_free(c->read_ev);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	event_free(c->tick);
	event_free(c->retry);
	event_free(c->flush);
	free(c->slots);
	free(c);
}

/* Append n connections for the pool's bind mode; start them at once. */
static int
ups_pool_add_conns(struct upstream_pool *p, unsigned sessions)
{
	unsigned		 per = p->cfg.bind == CONFIG_BIND_TX_RX ? 2 : 1;
	struct ups_conn		**nc;
	struct ups_conn		*c;

	nc = reallocarray(p->conns, p->nconns + (size_t)sessions * per,
	    sizeof(*nc));
	if (nc == NULL)
		return -1;
	p->conns = nc;
	for (unsigned i = 0; i < sessions * per; i++) {
		c = ups_conn_new(p, per == 1 ? UPS_ROLE_TRX :
		    (i % 2 == 0 ? UPS_ROLE_TX : UPS_ROLE_RX));
		if (c == NULL)
			return -1;
		p->conns[p->nconns++] = c;
		/* From the loop, so no callback runs inside pool_new. */
		ups_conn_schedule(c, 0);
	}
	return 0;
}

static void
ups_pool_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_pool	*p = arg;

	(void)fd;
	(void)what;
	if (p->done != NULL)
		p->done(p, p->done_arg);
}

static void
ups_pool_check_done(struct upstream_pool *p)
{
	if (!p->is_shutting_down || p->is_done || p->is_freeing)
		return;
	for (unsigned i = 0; i < p->nconns; i++)
		if (p->conns[i]->state != UPS_CLOSED)
			return;
	p->is_done = true;
	if (p->shutdown_timer != NULL)
		evtimer_del(p->shutdown_timer);
	log_info("upstream=%s event=shutdown-done", p->cfg.name);
	event_active(p->done_ev, EV_TIMEOUT, 0);
}

static void
ups_pool_shutdown_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_pool	*p = arg;
	struct ups_conn		*c;

	(void)fd;
	(void)what;
	log_warnx("upstream=%s event=shutdown-timeout", p->cfg.name);
	for (unsigned i = 0; i < p->nconns; i++) {
		c = p->conns[i];
		if (c->state == UPS_CLOSING)
			ups_conn_finish(c);
		else if (c->state == UPS_IDLE)
			ups_conn_drain(c);
		else
			ups_conn_close(c, "shutdown timeout", false);
	}
}

struct upstream_pool *
upstream_pool_new(struct event_base *base, const struct config_upstream *cfg,
    const struct upstream_cbs *cbs, void *arg)
{
	struct upstream_pool	*p;
	int			 e;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (ups_cfg_copy(&p->cfg, cfg) == -1) {
		e = errno;
		free(p);
		errno = e;
		return NULL;
	}
	p->base = base;
	if (cbs != NULL)
		p->cbs = *cbs;
	p->arg = arg;
	p->ssl_ctx = ups_ssl_ctx(&p->cfg, &e);
	if (e != 0)
		goto err_free;
	e = ENOMEM;
	p->rx = malloc(sizeof(*p->rx));
	p->tx = malloc(sizeof(*p->tx));
	p->done_ev = event_new(base, -1, 0, ups_pool_done_cb, p);
	p->shutdown_timer = evtimer_new(base, ups_pool_shutdown_timer_cb, p);
	if (p->rx == NULL || p->tx == NULL || p->done_ev == NULL ||
	    p->shutdown_timer == NULL)
		goto err_free;
	p->id = ++ups_last_pool_id;
	if (ups_pool_add_conns(p, p->cfg.sessions) == -1)
		goto err_free;
	p->next = ups_pools;
	ups_pools = p;
	log_info("upstream=%s event=start host=%s port=%u bind=%s sessions=%u "
	    "window=%u tls=%s", p->cfg.name, p->cfg.host,
	    (unsigned)p->cfg.port, p->cfg.bind == CONFIG_BIND_TX_RX ?
	    "transmitter+receiver" : "transceiver", p->cfg.sessions,
	    p->cfg.window, p->ssl_ctx != NULL ? "yes" : "no");
	return p;

err_free:
	for (unsigned i = 0; i < p->nconns; i++)
		ups_conn_free(p->conns[i]);
	free(p->conns);
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	if (p->shutdown_timer != NULL)
		event_free(p->shutdown_timer);
	free(p->rx);
	free(p->tx);
	SSL_CTX_free(p->ssl_ctx);
	ups_cfg_clear(&p->cfg);
	free(p);
	errno = e;
	return NULL;
}

void
upstream_pool_free(struct upstream_pool *p)
{
	struct upstream_pool	**pp;
	struct ups_conn		*c;

	if (p == NULL)
		return;
	for (pp = &ups_pools; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->is_freeing = true;
	for (unsigned i = 0; i < p->nconns; i++) {
		c = p->conns[i];
		/* Only on_fail: the caller releases its ctxs. */
		ups_conn_fail_all(c);
		ups_conn_free(c);
	}
	free(p->conns);
	event_free(p->done_ev);
	event_free(p->shutdown_timer);
	free(p->rx);
	free(p->tx);
	SSL_CTX_free(p->ssl_ctx);
	ups_cfg_clear(&p->cfg);
	free(p);
}

int
upstream_pool_reconfigure(struct upstream_pool *p,
    const struct config_upstream *cfg)
{
	struct config_upstream	 ncfg, old;
	SSL_CTX			*nctx;
	struct ups_conn		*c;
	bool			 conn_changed, mode_changed;
	unsigned		 per, live, want, j;
	int			 e;

	if (p->is_shutting_down) {
		errno = ESHUTDOWN;
		return -1;
	}
	if (ups_cfg_copy(&ncfg, cfg) == -1)
		return -1;
	nctx = ups_ssl_ctx(&ncfg, &e);
	if (e != 0) {
		ups_cfg_clear(&ncfg);
		errno = e;
		return -1;
	}
	conn_changed = ups_cfg_conn_differs(&p->cfg, &ncfg);
	mode_changed = p->cfg.bind != ncfg.bind;
	old = p->cfg;
	p->cfg = ncfg;
	ups_cfg_clear(&old);
	if (conn_changed || nctx != NULL) {
		/* Live SSLs keep their own reference to the old context. */
		SSL_CTX_free(p->ssl_ctx);
		p->ssl_ctx = nctx;
	}

	/* Drop connections retired earlier; nothing refers to them. */
	for (unsigned i = j = 0; i < p->nconns; i++) {
		c = p->conns[i];
		if (c->state == UPS_CLOSED)
			ups_conn_free(c);
		else
			p->conns[j++] = c;
	}
	p->nconns = j;

	per = p->cfg.bind == CONFIG_BIND_TX_RX ? 2 : 1;
	live = 0;
	for (unsigned i = 0; i < p->nconns; i++) {
		c = p->conns[i];
		backoff_set_bounds(&c->backoff, p->cfg.reconnect_min_ms,
		    p->cfg.reconnect_max_ms);
		if (c->in_flight == 0)
			(void)ups_conn_slots_fit(c);
		if (c->is_retiring)
			continue;
		if (mode_changed) {
			c->is_retiring = true;
			ups_conn_drain(c);
			continue;
		}
		live++;
		if (live > p->cfg.sessions * per) {
			c->is_retiring = true;
			ups_conn_drain(c);
		} else if (conn_changed) {
			c->is_stale = true;
			ups_conn_drain(c);
		}
	}
	want = p->cfg.sessions * per;
	log_info("upstream=%s event=reconfigure connection_changed=%s "
	    "sessions=%u window=%u", p->cfg.name, conn_changed ? "yes" : "no",
	    p->cfg.sessions, p->cfg.window);
	if (live < want && ups_pool_add_conns(p, (want - live) / per) == -1) {
		errno = ENOMEM;
		return -1;
	}
	/* A bigger window may let a refused sender in again. */
	for (unsigned i = 0; i < p->nconns; i++)
		ups_pool_maybe_window(p, p->conns[i]);
	return 0;
}

const char *
upstream_pool_name(const struct upstream_pool *p)
{
	return p->cfg.name;
}

bool
upstream_pool_is_bound(const struct upstream_pool *p)
{
	return p->is_any_bound;
}

static bool
ups_cmd_is_forwardable(uint32_t cmd)
{
	switch (cmd) {
	case SMPP_CMD_SUBMIT_SM:
	case SMPP_CMD_DATA_SM:
	case SMPP_CMD_SUBMIT_MULTI:
	case SMPP_CMD_QUERY_SM:
	case SMPP_CMD_CANCEL_SM:
	case SMPP_CMD_REPLACE_SM:
		return true;
	default:
		return false;
	}
}

/* splitmix64 finaliser: spreads nearby reference numbers. */
static uint64_t
ups_hash(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBULL;
	x ^= x >> 31;
	return x;
}

static struct ups_conn *
ups_pool_pick(struct upstream_pool *p, uint64_t affinity, int *errp)
{
	struct ups_conn	*c, *best = NULL;
	unsigned	 nbound = 0, k, room, best_room = 0;

	for (unsigned i = 0; i < p->nconns; i++) {
		c = p->conns[i];
		if (c->state != UPS_BOUND || !ups_conn_can_tx(c))
			continue;
		nbound++;
		if (affinity != 0 || !ups_conn_has_room(c))
			continue;
		room = ups_conn_window(c) - c->in_flight;
		if (room > best_room) {
			best = c;
			best_room = room;
		}
	}
	if (nbound == 0) {
		*errp = ENOTCONN;
		return NULL;
	}
	if (affinity != 0) {
		k = (unsigned)(ups_hash(affinity) % nbound);
		for (unsigned i = 0; i < p->nconns; i++) {
			c = p->conns[i];
			if (c->state != UPS_BOUND || !ups_conn_can_tx(c))
				continue;
			if (k-- == 0) {
				best = ups_conn_has_room(c) ? c : NULL;
				break;
			}
		}
	}
	if (best == NULL)
		*errp = EAGAIN;
	return best;
}

void
upstream_pool_flush(struct upstream_pool *p)
{
	unsigned	i;

	if (p == NULL)
		return;
	/* c->flush stays active and finds the output empty. */
	for (i = 0; i < p->nconns; i++)
		if (p->conns[i]->is_flush_queued)
			ups_conn_flush(p->conns[i]);
}

int
upstream_pool_submit(struct upstream_pool *p, const uint8_t *pdu,
    size_t len, const struct upstream_req_cbs *rcb, void *ctx,
    uint64_t affinity)
{
	const struct upstream_req_cbs *old;
	struct ups_conn	*c;
	struct ups_slot	*s;
	struct evbuffer	*out;
	struct evbuffer_iovec v;
	uint32_t	 cmd;
	int		 i, e = 0;

	if (p->is_shutting_down) {
		errno = ESHUTDOWN;
		return -1;
	}
	if (len < SMPP_HEADER_LEN || len > SMPP_MAX_PDU_LEN ||
	    smpp_frame_peek_len(pdu) != len) {
		errno = EINVAL;
		return -1;
	}
	cmd = (uint32_t)pdu[4] << 24 | (uint32_t)pdu[5] << 16 |
	    (uint32_t)pdu[6] << 8 | pdu[7];
	if (!ups_cmd_is_forwardable(cmd)) {
		errno = EINVAL;
		return -1;
	}
	if ((c = ups_pool_pick(p, affinity, &e)) == NULL) {
		p->wants_window = true;
		errno = e;
		return -1;
	}
	i = c->free_head;
	s = &c->slots[i];
	c->free_head = s->next;
	s->is_used = true;
	s->is_cancelled = false;
	s->ctx = ctx;
	s->rcb = rcb;
	s->command_id = cmd;
	s->deadline_ms = ups_now_ms() + p->cfg.response_timeout_ms;
	s->seq = ups_conn_seq_for(c, (unsigned)i);
	s->next = -1;
	s->prev = c->tail;
	if (c->tail != -1)
		c->slots[c->tail].next = i;
	else
		c->head = i;
	c->tail = i;
	c->in_flight++;

	/*
	 * The caller's bytes with our sequence_number, copied once into one
	 * contiguous extent of the output buffer: one buffer operation per
	 * PDU instead of three, and never half a frame queued.
	 */
	out = bufferevent_get_output(c->bev);
	if (evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) != 1 ||
	    v.iov_len < len) {
		/* Memory is gone: this connection cannot be trusted with
		 * more. The tick closes it, so no callback runs inside this
		 * call. */
		(void)ups_conn_slot_release(c, s, &old);
		c->is_broken = true;
		c->is_out_full = true;
		errno = ENOMEM;
		return -1;
	}
	memcpy(v.iov_base, pdu, len);
	ups_put_u32((uint8_t *)v.iov_base + 12, s->seq);
	v.iov_len = len;
	(void)evbuffer_commit_space(out, &v, 1);
	ups_conn_queued(c);
	p->st.submits_sent++;
	ups_conn_check_out(c);
	return 0;
}

size_t
upstream_pool_cancel(struct upstream_pool *p, const void *ctx)
{
	struct ups_conn	*c;
	size_t		 n = 0;

	for (unsigned i = 0; i < p->nconns; i++) {
		c = p->conns[i];
		for (int32_t k = c->head; k != -1; k = c->slots[k].next) {
			if (!c->slots[k].is_cancelled &&
			    c->slots[k].ctx == ctx) {
				c->slots[k].is_cancelled = true;
				c->slots[k].ctx = NULL;
				n++;
			}
		}
	}
	return n;
}

int
upstream_reply_send(const struct upstream_reply *r, uint32_t status,
    const char *message_id)
{
	struct upstream_pool	*p;
	struct ups_conn		*c = NULL;
	uint32_t		 cmd;

	for (p = ups_pools; p != NULL; p = p->next)
		if (p->id == r->pool_id)
			break;
	if (p != NULL) {
		for (unsigned i = 0; i < p->nconns; i++) {
			if (p->conns[i]->id == r->conn_id) {
				c = p->conns[i];
				break;
			}
		}
	}
	if (c == NULL || c->bev == NULL || c->state < UPS_BOUND ||
	    c->state > UPS_UNBINDING) {
		errno = ENOTCONN;
		return -1;
	}
	cmd = smpp_cmd_resp_id(r->command_id);
	/* §4.6.2: deliver_sm_resp's message_id is unused, set to NULL. */
	if (r->command_id != SMPP_CMD_DATA_SM || message_id == NULL)
		message_id = "";
	if (ups_conn_write_simple(c, cmd, status, r->sequence_number,
	    message_id) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
upstream_pool_shutdown(struct upstream_pool *p, unsigned timeout_ms,
    upstream_done_fn *done, void *done_arg)
{
	struct timeval	tv;

	if (p->is_shutting_down) {
		errno = EALREADY;
		return -1;
	}
	p->is_shutting_down = true;
	p->done = done;
	p->done_arg = done_arg;
	log_info("upstream=%s event=shutdown timeout_ms=%u", p->cfg.name,
	    timeout_ms);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(p->shutdown_timer, &tv);
	for (unsigned i = 0; i < p->nconns; i++)
		ups_conn_drain(p->conns[i]);
	ups_pool_check_done(p);
	return 0;
}

void
upstream_pool_stats(const struct upstream_pool *p, struct upstream_stats *st)
{
	*st = p->st;
	st->in_flight = 0;
	st->bound = 0;
	st->connections = 0;
	for (unsigned i = 0; i < p->nconns; i++) {
		const struct ups_conn *c = p->conns[i];

		st->in_flight += c->in_flight;
		if (c->state >= UPS_BOUND && c->state <= UPS_UNBINDING)
			st->bound++;
		if (!c->is_retiring)
			st->connections++;
	}
}
