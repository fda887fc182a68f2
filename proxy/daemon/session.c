/*
 * A downstream session's state machine: the connection (direct reads and
 * writes, output watermarks), the frame loop, dispatch by (state,
 * command), bind, the housekeeping tick and the one exit. A department's
 * sends go to submit.c, answers to our deliveries to delivery.c.
 *
 * The read callback loops over whole frames: decode, look up (state,
 * command), then the part that handles it. A frame that cannot go on now
 * (the route's windows are full) stays in the input buffer and reading
 * stops until the pool calls on_window: back-pressure instead of
 * buffering.
 */
#include "proxy/daemon/session_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/prefs.h"
#include "proxy/daemon/upstream.h"
#include "proxy/io/log.h"
#include "proxy/io/pduconn.h"
#include "proxy/io/util.h"
#include "smpp/frame.h"
#include "smpp/number.h"
#include "store/store.h"

/* Most bytes one direct read takes (as a socket bufferevent's). */
#define SESSION_READ_MAX	16384u
/* Longest wait for queued replies to flush after close. */
#define SESSION_LINGER_MS	2000
/* Session housekeeping tick. */
#define SESSION_TICK_MS		1000
/* Bad PDUs in a row before bind that close the connection. */
#define SESSION_BAD_MAX		3
/* Our system_id in bind responses. */
#define SESSION_SYSTEM_ID	"stopgate"

/* Decode scratch: struct smpp_pdu is ~40 KiB, too big for every session
 * and for the stack of every callback. One thread, and nothing here
 * decodes while a decoded PDU is in use, so one is enough. */
static struct smpp_pdu	scratch;

static void	session_read_cb(struct bufferevent *, void *);
static void	session_write_cb(struct bufferevent *, void *);
static void	session_event_cb(struct bufferevent *, short, void *);
static void	session_tick_cb(evutil_socket_t, short, void *);
static void	session_free_cb(evutil_socket_t, short, void *);
static void	session_process(struct session *);
static void	session_process_batch(struct session *);
static void	session_update_read(struct session *);
static void	session_flush(struct session *);
static void	session_sock_read_cb(evutil_socket_t, short, void *);
static void	session_read_enable(struct session *, bool);
static void	session_bind_wake_cb(evutil_socket_t, short, void *);

const char *
session_state_name(enum session_state st)
{
	switch (st) {
	case SESSION_OPEN:
		return "open";
	case SESSION_BIND_REFUSED:
		return "bind_refused";
	case SESSION_BOUND:
		return "bound";
	case SESSION_UNBINDING:
		return "unbinding";
	case SESSION_CLOSED:
		return "closed";
	}
	return "unknown";
}

static const char *
bind_name(enum smpp_bind_state b)
{
	switch (b) {
	case SMPP_STATE_OPEN:
		return "none";
	case SMPP_STATE_BOUND_TX:
		return "tx";
	case SMPP_STATE_BOUND_RX:
		return "rx";
	case SMPP_STATE_BOUND_TRX:
		return "trx";
	}
	return "unknown";
}

static void
session_set_state(struct session *s, enum session_state st)
{
	if ((unsigned)st > (unsigned)SESSION_CLOSED)
		fatalx("sid=%llu bad session state %u",
		    (unsigned long long)s->id, (unsigned)st);
	if (s->state == st)
		return;
	log_debug("sid=%llu event=state old=%s new=%s",
	    (unsigned long long)s->id, session_state_name(s->state),
	    session_state_name(st));
	s->state = st;
}

void
session_ref_release(struct session_ref *r)
{
	if (r == NULL)
		return;
	if (--r->refs == 0)
		free(r);
}

/* --- writing to the client ------------------------------------------------ */

void
session_reply_raw(struct session *s, uint32_t cmd, uint32_t status,
    uint32_t seq, const void *body, size_t bodylen)
{
	if (s->conn.bev == NULL)
		return;
	if (pduconn_write(&s->conn, cmd, status, seq, body, bodylen) == -1)
		log_warnx("sid=%llu event=reply_failed doing=%s",
		    (unsigned long long)s->id, s->doing);
	if (log_debug_enabled())
		log_debug("sid=%llu event=reply cmd=%s status=0x%08x seq=%u",
		    (unsigned long long)s->id, smpp_cmd_name(cmd), status, seq);
}

/* Header only, except the *_sm_resp that carry a message_id, which get
 * an empty one (many clients insist on a body even for errors). */
void
session_reply_status(struct session *s, uint32_t req_cmd, uint32_t seq,
    uint32_t status)
{
	uint32_t	cmd = smpp_cmd_resp_id(req_cmd);
	static const uint8_t empty_id[1] = { 0 };
	static const uint8_t empty_multi[2] = { 0, 0 };

	switch (cmd) {
	case SMPP_CMD_SUBMIT_SM_RESP:
	case SMPP_CMD_DATA_SM_RESP:
		session_reply_raw(s, cmd, status, seq, empty_id,
		    sizeof(empty_id));
		break;
	case SMPP_CMD_SUBMIT_MULTI_RESP:
		session_reply_raw(s, cmd, status, seq, empty_multi,
		    sizeof(empty_multi));
		break;
	default:
		session_reply_raw(s, cmd, status, seq, NULL, 0);
		break;
	}
}

static void
reply_nack(struct session *s, uint32_t seq, uint32_t status)
{
	session_reply_raw(s, SMPP_CMD_GENERIC_NACK, status, seq, NULL, 0);
}

void
session_relay_raw(struct session *s, const uint8_t *raw, size_t len,
    uint32_t seq)
{
	if (s->conn.bev == NULL || len < SMPP_HEADER_LEN)
		return;
	if (pduconn_relay(&s->conn, raw, len, seq) == -1)
		log_warnx("sid=%llu event=relay_failed doing=%s",
		    (unsigned long long)s->id, s->doing);
}

/* Write the client's queued output now (direct writes, see
 * proxy/io/pduconn.h); leave the rest to EV_WRITE. */
static void
session_flush(struct session *s)
{
	if (s->conn.bev != NULL)
		pduconn_flush(&s->conn);
}

/* Output was written: free a closed session once it is all out, take
 * EV_WRITE back for direct writes, resume a sender held for its output. */
static void
session_write_done(struct session *s)
{
	size_t	len;

	if (s->conn.bev == NULL)
		return;
	len = pduconn_out_len(&s->conn);
	if (s->state == SESSION_CLOSED) {
		if (len == 0)
			event_active(s->free_ev, EV_TIMEOUT, 0);
		return;
	}
	pduconn_write_idle(&s->conn);
	if (s->is_output_full && len <= SESSION_OUT_LOW) {
		s->is_output_full = false;
		session_process(s);
	}
}

static void
session_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)what;
	s->conn.is_flush_queued = false;
	session_flush(s);
	session_write_done(s);
}

void
session_check_output(struct session *s)
{
	if (s->conn.bev == NULL || s->state == SESSION_CLOSED)
		return;
	if (pduconn_out_len(&s->conn) > SESSION_OUT_HIGH &&
	    !s->is_output_full) {
		s->is_output_full = true;
		log_debug("sid=%llu event=output_full",
		    (unsigned long long)s->id);
		session_update_read(s);
	}
}

uint32_t
session_next_seq(struct session *s)
{
	uint32_t	seq = s->next_seq++;

	/* §5.1.4: 0x00000001..0x7FFFFFFF. */
	if (s->next_seq > 0x7FFFFFFFu)
		s->next_seq = 1;
	return seq;
}

/* --- lifecycle ------------------------------------------------------------ */

/* host:port for logs, and the host alone (the limits' key). */
static void
peer_format(const struct sockaddr *sa, char *buf, size_t cap, char *host,
    size_t hostcap)
{
	snprintf(host, hostcap, "unknown");
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, hostcap);
		snprintf(buf, cap, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, hostcap);
		snprintf(buf, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else
		snprintf(buf, cap, "unknown");
}

/* May a line this unbound session's peer can cause at will be written?
 * (At most a few a second per source address, then a summary.) */
static bool
peer_log_ok(struct session *s)
{
	return log_limit_allow(&s->d->peer_log, s->peer_host,
	    daemon_now_ms());
}

/*
 * Room for connections that have not bound (SPEC §7): at most
 * limits.max_unbound, and limits.max_unbound_per_address from one source
 * address; bound sessions never count. When a cap is full the newcomer s
 * takes the place of the oldest bind held by the throttle (a guess), else
 * of the oldest connection that has not even sent a bind, so neither
 * idle connections nor guesses can lock a department out; with none
 * such, s is closed. Guesses go first: a newcomer is idle until its bind
 * is read, and a flood of guessers' connections would otherwise evict
 * it in that moment. Returns false if s was closed.
 */
static bool
session_limit_unbound(struct session *s)
{
	struct daemon	*d = s->d;
	struct session	*x, *idle = NULL, *held = NULL;
	struct session	*idle_a = NULL, *held_a = NULL, *victim;
	size_t		 all = 0, here = 0;
	bool		 same;

	for (x = TAILQ_FIRST(&d->sessions); x != NULL;
	    x = TAILQ_NEXT(x, entry)) {
		if (x == s || (x->state != SESSION_OPEN &&
		    x->state != SESSION_BIND_REFUSED))
			continue;
		same = strcmp(x->peer_host, s->peer_host) == 0;
		all++;
		if (same)
			here++;
		if (x->state == SESSION_OPEN && !x->is_bind_started) {
			if (idle == NULL)
				idle = x;
			if (same && idle_a == NULL)
				idle_a = x;
		} else if (x->is_bind_waiting) {
			if (held == NULL)
				held = x;
			if (same && held_a == NULL)
				held_a = x;
		}
	}
	if (here >= d->cfg->max_unbound_per_address)
		victim = held_a != NULL ? held_a : idle_a;
	else if (all >= d->cfg->max_unbound)
		victim = held != NULL ? held : idle;
	else
		return true;
	if (victim == NULL) {
		d->counters.unbound_refused++;
		session_close(s, "unbound limit");
		return false;
	}
	d->counters.unbound_evicted++;
	session_close(victim, "evicted");
	return true;
}

struct session *
session_new(struct daemon *d, struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen, bool is_tls)
{
	struct session	*s;
	struct timeval	 tv;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto err_bev;
	if ((s->ref = calloc(1, sizeof(*s->ref))) == NULL)
		goto err_session;
	s->ref->s = s;
	s->ref->refs = 1;
	s->d = d;
	s->id = ++d->next_sid;
	s->state = SESSION_OPEN;
	s->bind = SMPP_STATE_OPEN;
	s->account = -1;
	s->next_seq = 1;
	s->is_tls = is_tls;
	s->max_len = SMPP_MAX_PDU_LEN_OPEN;
	s->opened_ms = s->last_rx_ms = daemon_now_ms();
	s->doing = "accept";
	if (peerlen > sizeof(s->peer))
		peerlen = sizeof(s->peer);
	memcpy(&s->peer, peer, peerlen);
	peer_format(peer, s->peer_str, sizeof(s->peer_str), s->peer_host,
	    sizeof(s->peer_host));

	if ((s->tick = event_new(d->base, -1, EV_PERSIST, session_tick_cb,
	    s)) == NULL)
		goto err_ref;
	if ((s->free_ev = event_new(d->base, -1, 0, session_free_cb,
	    s)) == NULL)
		goto err_tick;
	if ((s->bind_ev = event_new(d->base, -1, 0, session_bind_wake_cb,
	    s)) == NULL)
		goto err_free_ev;
	if (pduconn_init(&s->conn, d->base, session_flush_cb, s) == -1)
		goto err_bind_ev;
	pduconn_start(&s->conn, bev, !is_tls && bufferevent_getfd(bev) >= 0);
	if (s->conn.is_direct && pduconn_direct_read(&s->conn,
	    bufferevent_getfd(bev), session_sock_read_cb, s) == -1)
		goto err_conn;
	tv.tv_sec = SESSION_TICK_MS / 1000;
	tv.tv_usec = (SESSION_TICK_MS % 1000) * 1000;
	event_add(s->tick, &tv);

	bufferevent_setcb(bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	/* Read no more than a few frames ahead: a sender whose frame is
	 * waiting for window space is not read at all (back-pressure). */
	if (!s->conn.is_direct)
		bufferevent_setwatermark(bev, EV_READ, 0,
		    SMPP_MAX_PDU_LEN_OPEN * 4);
	bufferevent_setwatermark(bev, EV_WRITE, SESSION_OUT_LOW, 0);
	/* Direct I/O: we read the socket (read_ev), and EV_WRITE is enabled
	 * only for what the socket did not take (session_flush). */
	if (s->conn.is_direct)
		session_read_enable(s, true);
	else if (bufferevent_enable(bev, EV_READ | EV_WRITE) == -1)
		goto err_conn;

	TAILQ_INSERT_TAIL(&d->sessions, s, entry);
	d->nsessions++;
	if (peer_log_ok(s))
		log_info("sid=%llu event=accept peer=%s tls=%s",
		    (unsigned long long)s->id, s->peer_str,
		    is_tls ? "yes" : "no");
	(void)session_limit_unbound(s);
	return s;

err_conn:
	pduconn_clear(&s->conn);
err_bind_ev:
	event_free(s->bind_ev);
err_free_ev:
	event_free(s->free_ev);
err_tick:
	event_free(s->tick);
err_ref:
	free(s->ref);
err_session:
	free(s);
err_bev:
	log_warnx("event=accept_failed reason=nomem");
	bufferevent_free(bev);
	return NULL;
}

void
session_close(struct session *s, const char *reason)
{
	struct timeval	tv;
	size_t		pending;

	if (s->state == SESSION_CLOSED)
		return;
	/* Connections that never bound: limited, a peer makes them. */
	if (s->system_id[0] != '\0' || peer_log_ok(s))
		log_info("sid=%llu event=close reason=%s system_id=%s "
		    "state=%s inflight=%u peer=%s", (unsigned long long)s->id,
		    reason, s->system_id[0] != '\0' ? s->system_id : "-",
		    session_state_name(s->state), s->inflight, s->peer_str);
	session_set_state(s, SESSION_CLOSED);
	delivery_fail_all(s);

	/* Late responses for our in-flight requests are consumed. */
	s->ref->s = NULL;
	session_ref_release(s->ref);
	s->ref = NULL;

	TAILQ_REMOVE(&s->d->sessions, s, entry);
	TAILQ_INSERT_TAIL(&s->d->closing, s, entry);
	s->d->nsessions--;
	event_del(s->tick);
	event_del(s->bind_ev);
	s->is_bind_waiting = false;

	session_read_enable(s, false);
	session_flush(s);
	pending = pduconn_out_len(&s->conn);
	if (pending == 0) {
		event_active(s->free_ev, EV_TIMEOUT, 0);
	} else {
		/* Flush replies (a bind refusal, an unbind_resp), bounded. */
		bufferevent_setwatermark(s->conn.bev, EV_WRITE, 0, 0);
		tv.tv_sec = SESSION_LINGER_MS / 1000;
		tv.tv_usec = (SESSION_LINGER_MS % 1000) * 1000;
		event_add(s->free_ev, &tv);
	}
	daemon_session_gone(s->d);
}

void
session_free(struct session *s)
{
	struct bufferevent	*bev;

	if (s == NULL)
		return;
	if (s->state != SESSION_CLOSED)
		session_close(s, "teardown");
	TAILQ_REMOVE(&s->d->closing, s, entry);
	event_free(s->tick);
	event_free(s->free_ev);
	event_free(s->bind_ev);
	bev = s->conn.bev;
	pduconn_clear(&s->conn);
	bufferevent_free(bev);
	free(s);
}

static void
session_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_free(arg);
}

/* Read iff bound for it and neither back-pressure reason holds. */
static void
session_update_read(struct session *s)
{
	if (s->state == SESSION_CLOSED || s->state == SESSION_BIND_REFUSED)
		return;
	session_read_enable(s, !s->is_waiting_window && !s->is_output_full &&
	    !s->is_bind_waiting);
}

static void
session_read_enable(struct session *s, bool on)
{
	pduconn_read_enable(&s->conn, on);
}

/*
 * Direct reads: a plain TCP session reads its socket itself.
 * A socket bufferevent asks the kernel how much is readable (FIONREAD)
 * before every read and hands the data over through a deferred callback;
 * here it is one read() into the input buffer, then the frame loop. The
 * input buffer stays the bufferevent's, its EV_READ stays off. As the
 * bufferevent's read watermark did, we read no more than two of the
 * largest frames ahead (a few before bind): a sender whose frame waits
 * for window space is not read at all (session_update_read).
 */
static void
session_sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session		*s = arg;
	size_t			 have, high;
	ssize_t			 n;
	int			 err;

	(void)what;
	if (s->state == SESSION_CLOSED)
		return;
	have = evbuffer_get_length(bufferevent_get_input(s->conn.bev));
	high = s->state == SESSION_OPEN ? SMPP_MAX_PDU_LEN_OPEN * 4 :
	    (size_t)s->max_len * 2u;
	if (have < high) {
		n = pduconn_read(&s->conn, fd, high - have > SESSION_READ_MAX ?
		    SESSION_READ_MAX : high - have, &err);
		if (n == -2) {
			session_close(s, "out of memory");
			return;
		}
		if (n == 0) {
			session_close(s, "peer closed");
			return;
		}
		if (n < 0) {
			if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
				return;
			session_close(s, "connection error");
			return;
		}
	}
	session_process(s);
}

/* --- account and config --------------------------------------------------- */

int
session_account(struct session *s)
{
	if (s->account_gen != s->d->cfg_gen) {
		s->account = config_account_find(s->d->cfg, s->system_id);
		s->account_gen = s->d->cfg_gen;
	}
	return s->account;
}

/* --- bind ----------------------------------------------------------------- */

bool
session_password_equal(const char *configured, const char *given)
{
	unsigned char	a[SMPP_PASSWORD_LEN], b[SMPP_PASSWORD_LEN];
	size_t		la, lb;
	int		diff;

	/* Both padded to the full SMPP field so the compare does not stop
	 * at the first difference nor reveal the configured length. */
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	la = configured != NULL ? strlen(configured) : 0;
	lb = given != NULL ? strnlen(given, sizeof(b)) : 0;
	if (la > 0)
		memcpy(a, configured, la < sizeof(a) ? la : sizeof(a));
	if (lb > 0)
		memcpy(b, given, lb < sizeof(b) ? lb : sizeof(b));
	diff = CRYPTO_memcmp(a, b, sizeof(a));
	/* A configured password longer than the field can never match. */
	return diff == 0 && la < sizeof(a) && configured != NULL;
}

/* What a bind is checked against (proxy/daemon/context.h): the account
 * it names from this address, and that account from every address; or
 * its source address when it names none (account then ""). */
struct bind_keys {
	char	here[DAEMON_THROTTLE_KEY_LEN];
	char	account[DAEMON_THROTTLE_KEY_LEN];
};

static void
bind_keys_make(const struct session *s, int acct, const char *system_id,
    struct bind_keys *k)
{
	k->account[0] = '\0';
	if (acct < 0) {
		snprintf(k->here, sizeof(k->here), "peer=%s", s->peer_host);
		return;
	}
	snprintf(k->here, sizeof(k->here), "system_id=%s peer=%s", system_id,
	    s->peer_host);
	snprintf(k->account, sizeof(k->account), "system_id=%s", system_id);
}

/* How long a bind of k waits before its check: the longer of its keys'. */
static uint64_t
bind_keys_wait(struct daemon *d, const struct bind_keys *k)
{
	uint64_t	now = daemon_now_ms(), w, wa = 0;

	w = daemon_bind_wait(d, k->here, now);
	if (k->account[0] != '\0')
		wa = daemon_bind_wait(d, k->account, now);
	return w > wa ? w : wa;
}

/*
 * Refuse a bind with status (a wrong system_id or password, or a field
 * too long, SPEC §3): the failure is counted against its keys, the
 * refusal answered at once, the connection closed. The throttle delays
 * the next check of those keys, not this answer.
 */
static void
bind_refuse(struct session *s, uint32_t cmd, uint32_t seq,
    const char *system_id, uint32_t status, const struct bind_keys *k)
{
	uint64_t	now = daemon_now_ms();
	bool		is_logged;

	s->d->counters.binds_refused++;
	is_logged = daemon_bind_failed(s->d, k->here, DAEMON_THROTTLE_FREE,
	    now);
	if (k->account[0] != '\0')
		(void)daemon_bind_failed(s->d, k->account,
		    DAEMON_THROTTLE_FREE_ACCOUNT, now);
	/* Never log the password. The throttle limits these lines: the
	 * first few of an episode of failures, then a summary. */
	if (is_logged)
		log_warnx("sid=%llu event=bind_refused system_id=%s "
		    "status=0x%08x peer=%s doing=%s",
		    (unsigned long long)s->id, system_id, status,
		    s->peer_str, s->doing);
	session_set_state(s, SESSION_BIND_REFUSED);
	session_read_enable(s, false);
	session_reply_raw(s, smpp_cmd_resp_id(cmd), status, seq,
	    SESSION_SYSTEM_ID, sizeof(SESSION_SYSTEM_ID));
	session_close(s, "bind refused");
}

/* The throttle's wait is over: read the bind again (it stayed in the
 * input) and check it, or wait again if another took the slot. */
static void
session_bind_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)what;
	if (s->state != SESSION_OPEN || !s->is_bind_waiting)
		return;
	s->is_bind_waiting = false;
	session_process(s);
}

/*
 * A bind of key waits wait_ms before it is checked: unanswered, the
 * frame kept in the input, nothing read meanwhile. However many
 * connections carry binds of one key, their checks are serialised.
 */
static enum session_handled
bind_hold(struct session *s, uint64_t wait_ms)
{
	struct timeval	tv;

	if (!s->is_bind_counted) {
		s->is_bind_counted = true;
		s->d->counters.binds_throttled++;
	}
	s->is_bind_waiting = true;
	session_read_enable(s, false);
	tv.tv_sec = (time_t)(wait_ms / 1000);
	tv.tv_usec = (suseconds_t)((wait_ms % 1000) * 1000);
	event_add(s->bind_ev, &tv);
	return SESSION_WAIT;
}

/* Check a bind's system_id and password: SMPP_OK with *acct, or the
 * refusal status. */
static uint32_t
bind_check(const struct daemon *d, const struct smpp_pdu *pdu, int acct)
{
	if (acct < 0)
		return SMPP_ESME_RINVSYSID;
	if (!session_password_equal(d->cfg->accounts[acct].password,
	    pdu->password))
		return SMPP_ESME_RINVPASWD;
	return SMPP_OK;
}

static void
bind_accept(struct session *s, const struct smpp_pdu *pdu, int acct)
{
	struct daemon	*d = s->d;
	uint8_t		 body[SMPP_SYSTEM_ID_LEN + 5];
	size_t		 n;

	switch (pdu->command_id) {
	case SMPP_CMD_BIND_TRANSMITTER:
		s->bind = SMPP_STATE_BOUND_TX;
		break;
	case SMPP_CMD_BIND_RECEIVER:
		s->bind = SMPP_STATE_BOUND_RX;
		break;
	default:
		s->bind = SMPP_STATE_BOUND_TRX;
		break;
	}
	str_copy(s->system_id, sizeof(s->system_id), pdu->system_id);
	s->account = acct;
	s->account_gen = d->cfg_gen;
	s->max_len = d->cfg->max_pdu_len != 0 ? d->cfg->max_pdu_len :
	    SMPP_MAX_PDU_LEN;
	if (!s->conn.is_direct)
		bufferevent_setwatermark(s->conn.bev, EV_READ, 0,
		    s->max_len * 2u);
	session_set_state(s, SESSION_BOUND);

	/* system_id, then sc_interface_version (§5.3.2.25) = 0x34. */
	n = sizeof(SESSION_SYSTEM_ID);
	memcpy(body, SESSION_SYSTEM_ID, n);
	if (pdu->interface_version >= 0x34) {
		body[n++] = 0x02;
		body[n++] = 0x10;
		body[n++] = 0x00;
		body[n++] = 0x01;
		body[n++] = 0x34;
	}
	session_reply_raw(s, smpp_cmd_resp_id(pdu->command_id), SMPP_OK,
	    pdu->sequence_number, body, n);
	log_info("sid=%llu event=bind system_id=%s bind=%s "
	    "interface_version=0x%02x peer=%s", (unsigned long long)s->id,
	    s->system_id, bind_name(s->bind), pdu->interface_version,
	    s->peer_str);
	/* A receiver is here: what waited in the outbox goes first. */
	if (s->bind != SMPP_STATE_BOUND_TX)
		daemon_receiver_bound(d, s->system_id);
}

static enum session_handled
proceed_bind(struct session *s, const struct smpp_pdu *pdu)
{
	struct daemon		*d = s->d;
	struct bind_keys	 k;
	uint64_t		 wait;
	uint32_t		 status;
	int			 acct;

	s->doing = "bind";
	if (d->is_stopping) {
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RBINDFAIL);
		session_close(s, "stopping");
		return SESSION_DONE;
	}
	acct = config_account_find(d->cfg, pdu->system_id);
	bind_keys_make(s, acct, pdu->system_id, &k);
	if ((wait = bind_keys_wait(d, &k)) > 0)
		return bind_hold(s, wait);
	status = bind_check(d, pdu, acct);
	if (status != SMPP_OK) {
		bind_refuse(s, pdu->command_id, pdu->sequence_number,
		    pdu->system_id, status, &k);
		return SESSION_DONE;
	}
	/* Only this account's own failures are forgotten. */
	daemon_bind_succeeded(d, k.here);
	daemon_bind_succeeded(d, k.account);
	bind_accept(s, pdu, acct);
	return SESSION_DONE;
}

/*
 * Graceful stop of one session: once nothing is in flight (every answer
 * the SMSC owes this sender was relayed), send unbind; close when the
 * department answers it (§4.2: it may close as soon as it has).
 */
void
session_maybe_done(struct session *s)
{
	if (s->state != SESSION_UNBINDING || s->inflight > 0)
		return;
	if (!s->is_unbind_sent) {
		s->is_unbind_sent = true;
		session_reply_raw(s, SMPP_CMD_UNBIND, SMPP_OK,
		    session_next_seq(s), NULL, 0);
		return;
	}
	if (s->is_unbind_acked)
		session_close(s, "unbound");
}

/* --- the frame loop ------------------------------------------------------- */

static bool
is_bind_cmd(uint32_t cmd)
{
	return cmd == SMPP_CMD_BIND_TRANSMITTER ||
	    cmd == SMPP_CMD_BIND_RECEIVER || cmd == SMPP_CMD_BIND_TRANSCEIVER;
}

/*
 * A PDU we cannot take: undecodable (is_nack: generic_nack, logged) or
 * not allowed in this state (its own response). Before bind the few
 * first are answered, then the connection is closed: garbage from
 * someone who has not even bound costs neither log nor loop time.
 */
static void
session_bad_pdu(struct session *s, uint32_t seq, uint32_t cmd,
    uint32_t status, bool is_nack)
{
	if (is_nack) {
		if (peer_log_ok(s))
			log_info("sid=%llu event=bad_pdu cmd=0x%08x "
			    "status=0x%08x peer=%s doing=%s",
			    (unsigned long long)s->id, cmd, status,
			    s->peer_str, s->doing);
		reply_nack(s, seq, status);
	} else
		session_reply_status(s, cmd, seq, status);
	if (s->state != SESSION_OPEN || ++s->nbad < SESSION_BAD_MAX)
		return;
	s->d->counters.bad_pdu_closed++;
	session_close(s, "bad pdus before bind");
}

static enum session_handled
session_handle(struct session *s, const uint8_t *buf, size_t len)
{
	struct smpp_pdu		*pdu = &scratch;
	struct bind_keys	 k;
	enum smpp_status	 st;
	uint32_t		 cmd;

	s->doing = "decode";
	s->last_rx_ms = s->batch_ms;
	st = smpp_pdu_decode(pdu, buf, len);
	cmd = pdu->command_id;
	if (log_debug_enabled())
		log_debug("sid=%llu event=pdu cmd=%s seq=%u len=%zu "
		    "decode=0x%08x", (unsigned long long)s->id,
		    smpp_cmd_name(cmd), pdu->sequence_number, len, st);
	if (st != SMPP_OK) {
		if (smpp_cmd_is_resp(cmd) && smpp_cmd_is_known(cmd)) {
			/* A response we cannot read: take its status. */
			delivery_resp(s, pdu);
			return SESSION_DONE;
		}
		if (is_bind_cmd(cmd) && s->state == SESSION_OPEN) {
			/* A field too long (SPEC §3): a failed bind. */
			s->is_bind_started = true;
			bind_keys_make(s, -1, "", &k);
			bind_refuse(s, cmd, pdu->sequence_number, "-", st, &k);
			return SESSION_DONE;
		}
		session_bad_pdu(s, pdu->sequence_number, cmd, st, true);
		return SESSION_DONE;
	}

	s->doing = "dispatch";
	switch (cmd) {
	case SMPP_CMD_ENQUIRE_LINK:
		session_reply_raw(s, SMPP_CMD_ENQUIRE_LINK_RESP, SMPP_OK,
		    pdu->sequence_number, NULL, 0);
		return SESSION_DONE;
	case SMPP_CMD_ENQUIRE_LINK_RESP:
		return SESSION_DONE;
	case SMPP_CMD_BIND_TRANSMITTER:
	case SMPP_CMD_BIND_RECEIVER:
	case SMPP_CMD_BIND_TRANSCEIVER:
		s->is_bind_started = true;
		if (s->state != SESSION_OPEN) {
			session_reply_status(s, cmd, pdu->sequence_number,
			    SMPP_ESME_RALYBND);
			return SESSION_DONE;
		}
		return proceed_bind(s, pdu);
	case SMPP_CMD_UNBIND:
		if (s->state == SESSION_OPEN) {
			session_bad_pdu(s, pdu->sequence_number, cmd,
			    SMPP_ESME_RINVBNDSTS, false);
			return SESSION_DONE;
		}
		session_reply_raw(s, SMPP_CMD_UNBIND_RESP, SMPP_OK,
		    pdu->sequence_number, NULL, 0);
		session_close(s, "unbind");
		return SESSION_DONE;
	case SMPP_CMD_UNBIND_RESP:
		if (s->state == SESSION_UNBINDING && s->is_unbind_sent) {
			s->is_unbind_acked = true;
			session_maybe_done(s);
		}
		return SESSION_DONE;
	case SMPP_CMD_DELIVER_SM_RESP:
	case SMPP_CMD_DATA_SM_RESP:
	case SMPP_CMD_GENERIC_NACK:
		delivery_resp(s, pdu);
		return SESSION_DONE;
	default:
		break;
	}
	if (smpp_cmd_is_resp(cmd)) {
		log_debug("sid=%llu event=stray_resp cmd=%s",
		    (unsigned long long)s->id, smpp_cmd_name(cmd));
		return SESSION_DONE;
	}
	/* (state, command): may an ESME in this bind state send it? */
	if (!smpp_cmd_esme_may_send(cmd, s->bind)) {
		session_bad_pdu(s, pdu->sequence_number, cmd,
		    SMPP_ESME_RINVBNDSTS, false);
		return SESSION_DONE;
	}
	if (upstream_cmd_is_forwardable(cmd))
		return submit_handle(s, pdu, buf, len);
	session_bad_pdu(s, pdu->sequence_number, cmd, SMPP_ESME_RINVCMDID,
	    false);
	return SESSION_DONE;
}

/*
 * Handle every whole frame in the input. Frames that lie in one extent of
 * the buffer are handled in place and drained together at the end: one
 * drain per batch instead of a copy-out, a pull-up and a drain per
 * PDU. Nothing run from session_handle() reads into or drains this
 * input, so base stays valid until the drain.
 */
static void
session_process(struct session *s)
{
	struct store	*st = s->d->store;

	/* One read snapshot for the batch's opt-out lookups. */
	store_read_hold(st);
	session_process_batch(s);
	store_read_release(st);
}

/*
 * Read ahead: the opt-out lookup of a submit_sm starts with one
 * cache miss in the filter, which would stall the loop every message. The
 * next frame, when it is already in the buffer, has its destination read
 * and that miss started now, so it overlaps with handling this one. Only
 * a hint: a frame it cannot read is simply not prefetched.
 */
static void
session_prefetch(struct session *s, const uint8_t *p, size_t avail)
{
	struct smpp_addr	 dest;
	char			 number[SMPP_NUMBER_LEN];
	uint32_t		 len;

	if (avail < SMPP_HEADER_LEN || !smpp_cmd_esme_may_send(
	    SMPP_CMD_SUBMIT_SM, s->bind))
		return;
	len = smpp_frame_peek_len(p);
	if (len > avail || !smpp_pdu_peek_dest(p, len, &dest))
		return;
	if (smpp_number_normalize(dest.ton, dest.addr, &s->d->cfg->number_rules,
	    number, sizeof(number)) == 0) {
		store_optout_prefetch(s->d->store, number);
		if (s->d->prefs != NULL)
			prefs_prefetch(s->d->prefs, number);
	}
}

static void
session_process_batch(struct session *s)
{
	struct pduconn_frames	 f;
	const uint8_t		*frame;
	uint32_t		 len;
	bool			 has_clock = false;

	pduconn_frames_begin(&f, bufferevent_get_input(s->conn.bev));
	s->is_in_batch = true;
	s->batch_pool = NULL;
	while (s->state != SESSION_CLOSED && s->state != SESSION_BIND_REFUSED &&
	    !s->is_waiting_window && !s->is_output_full) {
		switch (pduconn_frames_next(&f, s->max_len, &frame, &len)) {
		case PDUCONN_FRAME:
			break;
		case PDUCONN_BAD_LENGTH:
			/* §3.2 framing is lost: nack what we can, close. */
			log_info("sid=%llu event=bad_length length=%u max=%u "
			    "doing=framing", (unsigned long long)s->id,
			    smpp_frame_peek_len(f.hdr), s->max_len);
			if (f.hl >= SMPP_HEADER_LEN)
				reply_nack(s, pduconn_frames_seq(&f),
				    SMPP_ESME_RINVCMDLEN);
			evbuffer_drain(f.in, evbuffer_get_length(f.in));
			session_close(s, "framing lost");
			s->is_in_batch = false;
			return;
		case PDUCONN_NOMEM:
			session_close(s, "out of memory");
			s->is_in_batch = false;
			return;
		default:
			goto out;
		}
		/* One clock read per batch, not three per PDU: a batch is
		 * handled in well under a millisecond. */
		if (!has_clock) {
			s->batch_ms = daemon_now_ms();
			has_clock = true;
		}
		session_prefetch(s, frame + len, pduconn_frames_ahead(&f, len));
		if (session_handle(s, frame, len) == SESSION_WAIT)
			break;
		pduconn_frames_take(&f, len);
		session_check_output(s);
	}
out:
	pduconn_frames_end(&f);
	/*
	 * This batch's own replies (rejections, enquire_link_resp...) go
	 * out now, not after every other session's read callback of this
	 * loop turn: the sender works on them while we read the next one.
	 */
	if (s->conn.is_flush_queued)
		session_flush(s);
	/* And the submits it forwarded, for the same reason. */
	upstream_pool_flush(s->batch_pool);
	s->batch_pool = NULL;
	s->is_in_batch = false;
	session_update_read(s);
}

/* --- callbacks ------------------------------------------------------------ */

static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	(void)bev;
	if (s->state == SESSION_CLOSED)
		return;
	session_process(s);
}

static void
session_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_write_done(arg);
}

static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	(void)bev;
	if (s->state == SESSION_CLOSED) {
		/* The peer went away while we flushed: free now. */
		if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
			event_active(s->free_ev, EV_TIMEOUT, 0);
		return;
	}
	if (what & BEV_EVENT_EOF)
		session_close(s, "peer closed");
	else if (what & BEV_EVENT_ERROR)
		session_close(s, "connection error");
}

static void
session_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session		*s = arg;
	const struct config	*cfg = s->d->cfg;
	uint64_t		 now = daemon_now_ms();

	(void)fd;
	(void)what;
	if (s->state == SESSION_CLOSED)
		return;
	/* Summaries of suppressed lines, once their second is over. */
	log_limit_flush(&s->d->peer_log, now);
	if (s->state == SESSION_OPEN && cfg->timeouts.bind_ms != 0 &&
	    now - s->opened_ms >= cfg->timeouts.bind_ms) {
		session_close(s, "bind timeout");
		return;
	}
	if (s->state == SESSION_BOUND && cfg->timeouts.idle_ms != 0 &&
	    now - s->last_rx_ms >= cfg->timeouts.idle_ms &&
	    s->inflight == 0 && s->ndeliveries == 0) {
		session_close(s, "idle timeout");
		return;
	}
	/* Half way to the idle limit, ask (§4.11): any answer, like any
	 * other PDU, counts as activity. */
	if (s->state == SESSION_BOUND && cfg->timeouts.idle_ms != 0 &&
	    now - s->last_rx_ms >= cfg->timeouts.idle_ms / 2 &&
	    now - s->enquire_ms >= cfg->timeouts.idle_ms / 2) {
		s->enquire_ms = now;
		session_reply_raw(s, SMPP_CMD_ENQUIRE_LINK, SMPP_OK,
		    session_next_seq(s), NULL, 0);
	}
	if (s->is_waiting_window) {
		/* on_window is the normal wake-up; this tick makes sure a
		 * sender is retried even if a pool never signals. */
		s->is_waiting_window = false;
		session_process(s);
		if (s->state == SESSION_CLOSED)
			return;
	}
	delivery_expire(s, now);
}

void
session_upstream_window(void *arg)
{
	struct daemon	*d = arg;
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&d->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (!s->is_waiting_window || s->state == SESSION_CLOSED)
			continue;
		s->is_waiting_window = false;
		log_debug("sid=%llu event=resume", (unsigned long long)s->id);
		/* Processing s may close s (it leaves the list at once),
		 * never another session, so next stays valid. */
		session_process(s);
	}
}

void
session_unbind(struct session *s)
{
	if (s->state == SESSION_CLOSED)
		return;
	if (s->state != SESSION_BOUND) {
		session_close(s, "stopping");
		return;
	}
	session_set_state(s, SESSION_UNBINDING);
	session_maybe_done(s);
}

struct session *
session_next(struct session *s)
{
	return TAILQ_NEXT(s, entry);
}

enum session_state
session_state(const struct session *s)
{
	return s->state;
}

uint64_t
session_id(const struct session *s)
{
	return s->id;
}

const char *
session_system_id(const struct session *s)
{
	return s->system_id;
}

unsigned
session_inflight(const struct session *s)
{
	return s->inflight;
}
