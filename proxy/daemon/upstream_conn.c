/*
 * One upstream connection: an SMPP v3.4 client session to an SMSC, with
 * its state machine (IDLE -> CONNECTING -> BINDING -> BOUND -> DRAINING
 * -> UNBINDING -> CLOSING -> IDLE/CLOSED), its in-flight table, its I/O
 * (proxy/io/pduconn.h: the frame loop, direct reads and writes),
 * enquire_link keepalive, deadlines and reconnect backoff. Part of the
 * upstream module (see upstream_int.h).
 */
#include "proxy/daemon/upstream_int.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy/io/log.h"
#include "proxy/io/pduconn.h"
#include "proxy/io/tls.h"
#include "smpp/frame.h"

#define UPS_SEQ_MAX		0x7FFFFFFFu	/* §5.1.4 */
#define UPS_CLOSE_FLUSH_MS	1000u	/* bound on flushing a last nack */
#define UPS_TICK_MIN_MS		5u
#define UPS_TICK_MAX_MS		1000u
#define UPS_READ_MAX		16384	/* bytes per direct read */

/* A new id for every connection ever made. One thread. */
static uint64_t	ups_last_conn_id;

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

uint64_t
ups_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool
ups_conn_can_tx(const struct ups_conn *c)
{
	return c->role != UPS_ROLE_RX;
}

unsigned
ups_conn_window(const struct ups_conn *c)
{
	unsigned	w = c->pool->cfg.window;

	return w < c->cap ? w : c->cap;
}

/* Transmit-capable, bound, and neither window nor output buffer full. */
bool
ups_conn_has_room(const struct ups_conn *c)
{
	return c->state == UPS_BOUND && ups_conn_can_tx(c) &&
	    !c->is_out_full && c->in_flight < ups_conn_window(c);
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
int
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
void
ups_conn_fail_all(struct ups_conn *c)
{
	while (c->head != -1)
		ups_conn_slot_fail(c, &c->slots[c->head]);
}

/* --- writing ----------------------------------------------------------- */

/* Write c's queued output now (direct writes, see proxy/io/pduconn.h);
 * leave the rest to EV_WRITE. */
void
ups_conn_flush(struct ups_conn *c)
{
	if (c->io.bev == NULL || c->state == UPS_CONNECTING)
		return;
	pduconn_flush(&c->io);
}

static void	ups_conn_write_done(struct ups_conn *);

static void
ups_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ups_conn	*c = arg;

	(void)fd;
	(void)what;
	c->io.is_flush_queued = false;
	if (c->io.bev == NULL)
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
int
ups_conn_write_simple(struct ups_conn *c, uint32_t cmd, uint32_t status,
    uint32_t seq, const char *cstr)
{
	char	body[SMPP_MESSAGE_ID_LEN];
	size_t	n = 0;

	if (c->io.bev == NULL)
		return -1;
	if (cstr != NULL) {
		n = strlen(cstr);
		if (n >= SMPP_MESSAGE_ID_LEN)
			n = SMPP_MESSAGE_ID_LEN - 1;
		memcpy(body, cstr, n);
		body[n++] = 0;
	}
	return pduconn_write(&c->io, cmd, status, seq, body, n);
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
	if (c->io.bev != NULL && pduconn_out_len(&c->io) >
	    UPSTREAM_OUT_HIGH_BYTES)
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
	if (bufferevent_write(c->io.bev, buf, (size_t)n) == 0)
		pduconn_queued(&c->io);
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

void
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
void
ups_conn_finish(struct ups_conn *c)
{
	struct upstream_pool	*p = c->pool;
	struct bufferevent	*bev;
	unsigned		 delay;

	bev = c->io.bev;
	pduconn_stop(&c->io);
	if (bev != NULL)
		bufferevent_free(bev);
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
void
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
	if (c->io.bev != NULL) {
		bufferevent_disable(c->io.bev, EV_READ);
		pduconn_read_enable(&c->io, false);
	}
	ups_conn_fail_all(c);
	if (flush)
		ups_conn_flush(c);
	if (flush && c->io.bev != NULL && pduconn_out_len(&c->io) > 0) {
		/* The write callback finishes once the output is empty. */
		bufferevent_setwatermark(c->io.bev, EV_WRITE, 0, 0);
		bufferevent_enable(c->io.bev, EV_WRITE);
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
 * Every whole frame in the input (the frame loop of proxy/io/pduconn.h).
 * Nothing run from ups_conn_on_pdu() reads into or drains this input.
 */
static void
ups_read_cb(struct bufferevent *bev, void *arg)
{
	struct ups_conn		*c = arg;
	struct pduconn_frames	 f;
	const uint8_t		*buf;
	uint32_t		 max, flen;
	uint64_t		 id = c->id;
	bool			 has_clock = false;

	pduconn_frames_begin(&f, bufferevent_get_input(bev));
	/* Many PDUs per callback; stop as soon as the connection ends. */
	while (c->io.bev == bev && c->id == id && c->state >= UPS_BINDING &&
	    c->state <= UPS_UNBINDING) {
		/* Before bind the SMSC has no business sending big PDUs. */
		max = c->state == UPS_BINDING ? SMPP_MAX_PDU_LEN_OPEN :
		    SMPP_MAX_PDU_LEN;
		switch (pduconn_frames_next(&f, max, &buf, &flen)) {
		case PDUCONN_FRAME:
			break;
		case PDUCONN_BAD_LENGTH:
			c->doing = "framing";
			ups_conn_nack(c, SMPP_ESME_RINVCMDLEN,
			    pduconn_frames_seq(&f));
			ups_conn_close(c, "framing lost", true);
			return;
		case PDUCONN_NOMEM:
			c->doing = "pullup";
			ups_conn_close(c, "out of memory", false);
			return;
		default:
			goto out;
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
		if (c->io.bev != bev || c->id != id)
			return;
		pduconn_frames_take(&f, flen);
	}
out:
	if (c->io.bev == bev && c->id == id)
		pduconn_frames_end(&f);
}

/* Direct reads (see proxy/io/pduconn.h): one read(), then the frame
 * loop. */
static void
ups_sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ups_conn	*c = arg;
	char		 reason[160];
	ssize_t		 n;
	int		 err;

	(void)what;
	if (c->io.bev == NULL)
		return;
	if ((n = pduconn_read(&c->io, fd, UPS_READ_MAX, &err)) == -2) {
		c->doing = "read";
		ups_conn_close(c, "out of memory", false);
		return;
	}
	if (n == 0 || (n < 0 && err != EAGAIN && err != EWOULDBLOCK &&
	    err != EINTR)) {
		/* As ups_event_cb does for its bufferevent. */
		pduconn_read_enable(&c->io, false);
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
		ups_read_cb(c->io.bev, c);
}

/* Output was written: finish a closing connection once it is all out,
 * take EV_WRITE back for direct writes, reopen the window. */
static void
ups_conn_write_done(struct ups_conn *c)
{
	size_t	len = pduconn_out_len(&c->io);

	if (c->state == UPS_CLOSING) {
		if (len == 0)
			ups_conn_finish(c);
		return;
	}
	if (c->state != UPS_CONNECTING)
		pduconn_write_idle(&c->io);
	if (c->is_out_full && len <= UPSTREAM_OUT_LOW_BYTES) {
		c->is_out_full = false;
		ups_pool_maybe_window(c->pool, c);
	}
}

/* libevent's bufferevent_data_cb type fixes the signature. */
static void
/* cppcheck-suppress constParameter */
ups_write_cb(struct bufferevent *bev, void *arg)
{
	struct ups_conn	*c = arg;

	if (c->io.bev != bev)
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

	if (c->io.bev != bev)
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
		if (c->io.is_direct && fd >= 0) {
			/* From now on ups_conn_flush writes and
			 * ups_sock_read_cb reads. */
			bufferevent_disable(bev, EV_READ | EV_WRITE);
			if (pduconn_direct_read(&c->io, fd, ups_sock_read_cb,
			    c) == -1) {
				ups_conn_close(c, "out of memory", false);
				return;
			}
			pduconn_read_enable(&c->io, true);
		} else
			c->io.is_direct = false;
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
			/* Drain the rest of OpenSSL's error queue. */
			while (bufferevent_get_openssl_error(bev) != 0)
				;
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

/*
 * The resolver for p's host: NULL for an address (nothing to look up),
 * else p's own evdns base (made on first use, with the system's
 * resolv.conf and hosts file), so a host name never blocks the loop. NULL
 * too when it cannot be made: the name is then resolved synchronously,
 * as before, which the log says once.
 */
static struct evdns_base *
ups_pool_dns(struct upstream_pool *p)
{
	struct in6_addr	a6;
	struct in_addr	a4;
	const char	*h = p->cfg.host;

	if (h == NULL || inet_pton(AF_INET, h, &a4) == 1 ||
	    inet_pton(AF_INET6, h, &a6) == 1)
		return NULL;
	if (p->dns == NULL) {
		p->dns = evdns_base_new(p->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (p->dns == NULL)
			log_warnx("upstream=%s event=dns_unavailable host=%s "
			    "(resolved synchronously: a slow resolver stalls "
			    "the loop)", p->cfg.name, h);
	}
	return p->dns;
}

void
ups_conn_connect(struct ups_conn *c)
{
	struct upstream_pool	*p = c->pool;
	const int		 opts = BEV_OPT_CLOSE_ON_FREE |
				    BEV_OPT_DEFER_CALLBACKS;
	struct bufferevent	*bev;
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
		bev = bufferevent_openssl_socket_new(p->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, opts);
		if (bev != NULL)
			/* SMSCs often close without close_notify. */
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else
		bev = bufferevent_socket_new(p->base, -1, opts);
	if (bev == NULL) {
		log_warn("upstream=%s conn=%" PRIu64 " doing=bufferevent",
		    p->cfg.name, c->id);
		ups_conn_schedule(c, backoff_next(&c->backoff));
		return;
	}
	/* Plain TCP: we write it (and read it once connected). */
	pduconn_start(&c->io, bev, p->ssl_ctx == NULL);
	bufferevent_setcb(bev, ups_read_cb, ups_write_cb, ups_event_cb, c);
	bufferevent_setwatermark(bev, EV_WRITE, UPSTREAM_OUT_LOW_BYTES, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	ups_conn_set_state(c, UPS_CONNECTING);
	ups_conn_arm_tick(c);
	log_debug("upstream=%s conn=%" PRIu64 " event=connect host=%s "
	    "port=%u tls=%s", p->cfg.name, c->id, p->cfg.host,
	    (unsigned)p->cfg.port, p->ssl_ctx != NULL ? "yes" : "no");
	if (bufferevent_socket_connect_hostname(bev, ups_pool_dns(p),
	    AF_UNSPEC, p->cfg.host, p->cfg.port) != 0)
		ups_conn_close(c, "connect failed", false);
}

/* Stop taking submits; unbind when nothing is in flight; then close. */
void
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

struct ups_conn *
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
	if (c->tick == NULL || c->retry == NULL ||
	    pduconn_init(&c->io, p->base, ups_flush_cb, c) == -1 ||
	    ups_conn_slots_fit(c)) {
		if (c->tick != NULL)
			event_free(c->tick);
		if (c->retry != NULL)
			event_free(c->retry);
		pduconn_clear(&c->io);
		free(c->slots);
		free(c);
		return NULL;
	}
	return c;
}

/* Free a connection that is CLOSED (or is being torn down with the pool). */
void
ups_conn_free(struct ups_conn *c)
{
	struct bufferevent	*bev;

	if (c == NULL)
		return;
	bev = c->io.bev;
	pduconn_clear(&c->io);
	if (bev != NULL)
		bufferevent_free(bev);
	event_free(c->tick);
	event_free(c->retry);
	free(c->slots);
	free(c);
}

/* --- requests -------------------------------------------------------- */

int
ups_conn_submit(struct ups_conn *c, const uint8_t *pdu, size_t len,
    const struct upstream_req_cbs *rcb, void *ctx, uint32_t cmd)
{
	const struct upstream_req_cbs *old;
	struct ups_slot	*s;
	int		 i;

	i = c->free_head;
	s = &c->slots[i];
	c->free_head = s->next;
	s->is_used = true;
	s->is_cancelled = false;
	s->ctx = ctx;
	s->rcb = rcb;
	s->command_id = cmd;
	s->deadline_ms = ups_now_ms() + c->pool->cfg.response_timeout_ms;
	s->seq = ups_conn_seq_for(c, (unsigned)i);
	s->next = -1;
	s->prev = c->tail;
	if (c->tail != -1)
		c->slots[c->tail].next = i;
	else
		c->head = i;
	c->tail = i;
	c->in_flight++;

	/* The caller's bytes with our sequence_number, copied once. */
	if (pduconn_relay(&c->io, pdu, len, s->seq) == -1) {
		/* Memory is gone: this connection cannot be trusted with
		 * more. The tick closes it, so no callback runs inside this
		 * call. */
		(void)ups_conn_slot_release(c, s, &old);
		c->is_broken = true;
		c->is_out_full = true;
		errno = ENOMEM;
		return -1;
	}
	ups_conn_check_out(c);
	return 0;
}

size_t
ups_conn_cancel(struct ups_conn *c, const void *ctx)
{
	size_t	n = 0;

	for (int32_t k = c->head; k != -1; k = c->slots[k].next) {
		if (!c->slots[k].is_cancelled && c->slots[k].ctx == ctx) {
			c->slots[k].is_cancelled = true;
			c->slots[k].ctx = NULL;
			n++;
		}
	}
	return n;
}
