/*
 * Downstream sessions: bind, submit (opt-out check, route, forward), the
 * SMSC's responses relayed back, receipts and MOs relayed down.
 *
 * The read callback loops over whole frames: decode, look up (state,
 * command), check_* (state, policy, opt-out), then proceed_* (forward or
 * reply). A frame that cannot go on now (the route's windows are full)
 * stays in the input buffer and reading stops until the pool calls
 * on_window: back-pressure instead of buffering.
 */
#include "proxy/daemon/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/io/log.h"
#include "proxy/policy/ratelimit.h"
#include "proxy/policy/router.h"
#include "proxy/daemon/upstream.h"
#include "proxy/io/util.h"
#include "smpp/frame.h"
#include "smpp/number.h"
#include "store/store.h"

/* Replies queued to a client above which we stop reading from it, and
 * the level below which we read again (STYLE §5 watermarks). */
#define SESSION_OUT_HIGH	(256u * 1024u)
#define SESSION_OUT_LOW		(64u * 1024u)
/* Above this a receiver is "backed up" and gets no more deliver_sm. */
#define SESSION_OUT_DELIVER_MAX	(1024u * 1024u)
/* deliver_sm relayed to one session and not yet answered. */
#define SESSION_DELIVERIES_MAX	64
/* Most bytes one direct read takes (as a socket bufferevent's). */
#define SESSION_READ_MAX	16384u
/* Longest wait for queued replies to flush after close. */
#define SESSION_LINGER_MS	2000
/* Session housekeeping tick. */
#define SESSION_TICK_MS		1000
/* Temporary status when the store cannot be read (fail closed, SPEC §3):
 * ESME_RTHROTTLED, which every client retries later. */
#define SESSION_STATUS_STORE	SMPP_ESME_RTHROTTLED
/*
 * registered_delivery bits (SMPP 3.4 §5.2.17) that make the SMSC send
 * something back with the message's id: an SMSC delivery receipt (bits
 * 1-0), an SME originated acknowledgement (bits 3-2) or an intermediate
 * notification (bit 4). Only a message that asked for one of them gets a
 * receipt map record: for any other no receipt is expected, and one that
 * comes anyway is acknowledged as unroutable (issue 6: the map write per
 * forwarded message dominated the event loop).
 */
#define SESSION_RD_ROUTED	0x1f
/* Our system_id in bind responses. */
#define SESSION_SYSTEM_ID	"stopgate"

/* A counted handle on a session: in-flight contexts hold one. */
struct session_ref {
	struct session	*s;		/* NULL once the session closed */
	unsigned	 refs;
};

/* ctx of one request forwarded upstream; owned by the pool until
 * on_resp / on_fail hands it back. */
struct inflight {
	struct daemon	*d;		/* borrowed: outlives the session */
	struct session_ref *ref;	/* counted */
	uint64_t	 sid;		/* for logs */
	uint32_t	 client_seq;
	uint32_t	 command_id;
	char		 account[SMPP_SYSTEM_ID_LEN];
	char		 upstream[CONFIG_NAME_MAX];
	char		 category[CONFIG_NAME_MAX];
	char		 service_type[SMPP_SERVICE_TYPE_LEN];
	char		 destination[SMPP_NUMBER_LEN];
	bool		 wants_receipt;	/* see SESSION_RD_ROUTED */
	uint8_t		 nblocked;	/* submit_multi dests we refused */
	struct smpp_unsuccess *blocked;	/* owned */
	struct inflight	*next_spare;	/* while on the spare list */
};

/*
 * Freed inflight records kept for reuse, so that forwarding a PDU does not
 * allocate (issue 6). One event loop per process, so no locking. Under
 * AddressSanitizer nothing is kept, so a use after free is still caught.
 */
#define INFLIGHT_SPARE_MAX	4096
static struct inflight	*inflight_spare;	/* owned list */
static size_t		 inflight_nspare;

/* A deliver_sm relayed to the department, waiting for its response. */
struct delivery {
	bool		 is_used;
	uint32_t	 seq;		/* ours, to the department */
	uint64_t	 deadline_ms;
	struct upstream_reply reply;	/* live: relay the answer */
	bool		 is_outbox;	/* from the outbox: no reply */
	uint64_t	 outbox_id;
};

struct session {
	uint64_t		 id;
	enum session_state	 state;
	struct daemon		*d;		/* borrowed */
	struct bufferevent	*client;	/* owned */
	struct session_ref	*ref;		/* owned share */
	TAILQ_ENTRY(session)	 entry;
	struct sockaddr_storage	 peer;
	char			 peer_str[64];
	bool			 is_tls;
	bool			 is_direct;	/* we write the socket */
	bool			 is_flush_queued;
	bool			 is_in_batch;	/* in session_process_batch */
	struct upstream_pool	*batch_pool;	/* forwarded to, this batch */
	enum smpp_bind_state	 bind;
	char			 system_id[SMPP_SYSTEM_ID_LEN];
	int			 account;	/* index in d->cfg */
	uint64_t		 account_gen;	/* cfg_gen of account */
	unsigned		 inflight;
	bool			 is_waiting_window;
	bool			 is_output_full;
	bool			 is_unbind_sent;
	bool			 is_unbind_acked;
	uint32_t		 next_seq;
	uint32_t		 max_len;
	uint64_t		 opened_ms;
	uint64_t		 last_rx_ms;
	uint64_t		 batch_ms;	/* clock of the frames in hand */
	uint64_t		 enquire_ms;	/* our last enquire_link */
	const char		*doing;		/* for error logs */
	struct event		*tick;		/* owned */
	struct event		*free_ev;	/* owned */
	struct event		*flush_ev;	/* owned; see session_flush */
	struct event		*read_ev;	/* owned; see session_sock_read_cb */
	bool			 is_reading;	/* read_ev added */
	/* Delayed bind failure answer. */
	uint32_t		 refuse_cmd;
	uint32_t		 refuse_seq;
	uint32_t		 refuse_status;
	struct delivery		 deliveries[SESSION_DELIVERIES_MAX];
	unsigned		 ndeliveries;
};

/* Decode scratch: struct smpp_pdu is ~40 KiB, too big for every session
 * and for the stack of every callback. One thread, and nothing here
 * decodes while a decoded PDU is in use, so one is enough. */
static struct smpp_pdu	scratch;

enum handle_result {
	HANDLE_DONE = 0,	/* frame consumed */
	HANDLE_WAIT,		/* keep the frame, stop reading */
};

static void	session_read_cb(struct bufferevent *, void *);
static void	session_write_cb(struct bufferevent *, void *);
static void	session_event_cb(struct bufferevent *, short, void *);
static void	session_tick_cb(evutil_socket_t, short, void *);
static void	session_free_cb(evutil_socket_t, short, void *);
static void	session_process(struct session *);
static void	session_process_batch(struct session *);
static void	session_update_read(struct session *);
static void	session_queued(struct session *);
static void	session_flush(struct session *);
static void	session_sock_read_cb(evutil_socket_t, short, void *);
static void	session_read_enable(struct session *, bool);
static void	inflight_resp(void *, const struct smpp_pdu *, const uint8_t *,
		    size_t);
static void	inflight_fail(void *, uint32_t);

/* Where the SMSC's answer to a forwarded request goes. */
static const struct upstream_req_cbs inflight_cbs = {
	.on_resp = inflight_resp,
	.on_fail = inflight_fail,
};

const char *
session_state_name(enum session_state st)
{
	switch (st) {
	case SESSION_OPEN:
		return "open";
	case SESSION_BINDING:
		return "binding";
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

static void
ref_release(struct session_ref *r)
{
	if (r == NULL)
		return;
	if (--r->refs == 0)
		free(r);
}

static void
inflight_free(struct inflight *inf)
{
	if (inf == NULL)
		return;
	ref_release(inf->ref);
	free(inf->blocked);
#if !defined(__SANITIZE_ADDRESS__)
	if (inflight_nspare < INFLIGHT_SPARE_MAX) {
		inf->next_spare = inflight_spare;
		inflight_spare = inf;
		inflight_nspare++;
		return;
	}
#endif
	free(inf);
}

/* --- small pure helpers ------------------------------------------------ */

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

/* The message body: short_message, else the message_payload TLV. */
static const uint8_t *
pdu_body(const struct smpp_pdu *pdu, size_t *len)
{
	const struct smpp_tlv	*t;

	if (pdu->sm_length > 0) {
		*len = pdu->sm_length;
		return pdu->short_message;
	}
	if ((t = smpp_pdu_tlv_find(pdu, SMPP_TLV_MESSAGE_PAYLOAD)) != NULL) {
		*len = t->len;
		return t->value;
	}
	*len = 0;
	return NULL;
}

bool
session_concat_ref(const struct smpp_pdu *pdu, uint32_t *ref)
{
	const struct smpp_tlv	*t;
	const uint8_t		*b;
	size_t			 len, udhl, i, ielen;

	if ((pdu->esm_class & SMPP_ESM_UDHI) != 0 &&
	    (b = pdu_body(pdu, &len)) != NULL && len > 0) {
		/* 3GPP TS 23.040 §9.2.3.24: UDHL, then IEI, IEDL, data. */
		udhl = b[0];
		if (udhl + 1 <= len) {
			for (i = 1; i + 1 < udhl + 1; i += 2 + ielen) {
				ielen = b[i + 1];
				if (i + 2 + ielen > udhl + 1)
					break;
				if (b[i] == 0x00 && ielen == 3) {
					*ref = b[i + 2];
					return true;
				}
				if (b[i] == 0x08 && ielen == 4) {
					*ref = (1u << 16) |
					    ((uint32_t)b[i + 2] << 8) |
					    b[i + 3];
					return true;
				}
			}
		}
	}
	t = smpp_pdu_tlv_find(pdu, SMPP_TLV_SAR_MSG_REF_NUM);
	if (t != NULL && t->len == 2) {
		*ref = (1u << 16) | ((uint32_t)t->value[0] << 8) | t->value[1];
		return true;
	}
	return false;
}

static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t
session_affinity(const char *account, const char *destination,
    uint32_t ref)
{
	uint64_t	h = 0xcbf29ce484222325ull;
	uint8_t		r[4];

	h = fnv1a(h, account, strlen(account) + 1);
	h = fnv1a(h, destination, strlen(destination) + 1);
	r[0] = (uint8_t)(ref >> 24);
	r[1] = (uint8_t)(ref >> 16);
	r[2] = (uint8_t)(ref >> 8);
	r[3] = (uint8_t)ref;
	h = fnv1a(h, r, sizeof(r));
	return h != 0 ? h : 1;
}

/* --- writing to the client ------------------------------------------------ */

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Queue header + body to the client (command_length computed). */
static void
reply_raw(struct session *s, uint32_t cmd, uint32_t status, uint32_t seq,
    const void *body, size_t bodylen)
{
	uint8_t		hdr[SMPP_HEADER_LEN];
	struct evbuffer	*out;

	if (s->client == NULL)
		return;
	out = bufferevent_get_output(s->client);
	put_u32(hdr, (uint32_t)(SMPP_HEADER_LEN + bodylen));
	put_u32(hdr + 4, cmd);
	put_u32(hdr + 8, status);
	put_u32(hdr + 12, seq);
	if (evbuffer_add(out, hdr, sizeof(hdr)) == -1 ||
	    (bodylen > 0 && evbuffer_add(out, body, bodylen) == -1))
		log_warnx("sid=%llu event=reply_failed doing=%s",
		    (unsigned long long)s->id, s->doing);
	session_queued(s);
	if (log_debug_enabled())
		log_debug("sid=%llu event=reply cmd=%s status=0x%08x seq=%u",
		    (unsigned long long)s->id, smpp_cmd_name(cmd), status, seq);
}

/*
 * Answer a request with status: header only, except the *_sm_resp that
 * carry a message_id, which get an empty one (many clients insist on a
 * body even for errors).
 */
static void
reply_status(struct session *s, uint32_t req_cmd, uint32_t seq,
    uint32_t status)
{
	uint32_t	cmd = smpp_cmd_resp_id(req_cmd);
	static const uint8_t empty_id[1] = { 0 };
	static const uint8_t empty_multi[2] = { 0, 0 };

	switch (cmd) {
	case SMPP_CMD_SUBMIT_SM_RESP:
	case SMPP_CMD_DATA_SM_RESP:
		reply_raw(s, cmd, status, seq, empty_id, sizeof(empty_id));
		break;
	case SMPP_CMD_SUBMIT_MULTI_RESP:
		reply_raw(s, cmd, status, seq, empty_multi,
		    sizeof(empty_multi));
		break;
	default:
		reply_raw(s, cmd, status, seq, NULL, 0);
		break;
	}
}

static void
reply_nack(struct session *s, uint32_t seq, uint32_t status)
{
	reply_raw(s, SMPP_CMD_GENERIC_NACK, status, seq, NULL, 0);
}

/* Write raw PDU bytes to the client with sequence number seq. */
static void
relay_raw(struct session *s, const uint8_t *raw, size_t len, uint32_t seq)
{
	struct evbuffer	*out;
	struct evbuffer_iovec v;

	if (s->client == NULL || len < SMPP_HEADER_LEN)
		return;
	out = bufferevent_get_output(s->client);
	/* One contiguous extent, one copy, one buffer operation per PDU
	 * (issue 6); never half a frame queued. */
	if (evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) != 1 ||
	    v.iov_len < len) {
		log_warnx("sid=%llu event=relay_failed doing=%s",
		    (unsigned long long)s->id, s->doing);
		return;
	}
	memcpy(v.iov_base, raw, len);
	smpp_pdu_set_seq(v.iov_base, seq);
	v.iov_len = len;
	(void)evbuffer_commit_space(out, &v, 1);
	session_queued(s);
}

/*
 * Direct writes (issue 6). A plain TCP bufferevent would write on the next
 * loop turn, after an epoll_ctl to watch for EV_WRITE and an epoll_wait to
 * see it: one extra loop round and two or three system calls per hop, per
 * batch. Instead, a session on plain TCP keeps EV_WRITE disabled and every
 * reply queued to it activates flush_ev once; flush_ev runs in the same
 * loop turn, after the callbacks already active (so one read callback's
 * replies go out in one write), and hands the output to the socket
 * itself. Only what the kernel does not take waits for EV_WRITE, as
 * before. TLS sessions write through their bufferevent as always.
 */
static void
session_queued(struct session *s)
{
	if (!s->is_direct || s->is_flush_queued || s->flush_ev == NULL)
		return;
	s->is_flush_queued = true;
	event_active(s->flush_ev, EV_TIMEOUT, 0);
}

/* Write the client's queued output now; leave the rest to EV_WRITE. */
static void
session_flush(struct session *s)
{
	struct evbuffer	*out;
	evutil_socket_t	 fd;
	int		 n;

	if (!s->is_direct || s->client == NULL)
		return;
	out = bufferevent_get_output(s->client);
	if (evbuffer_get_length(out) == 0)
		return;
	if ((fd = bufferevent_getfd(s->client)) < 0)
		return;
	/* A socket bufferevent freezes the front of its output while it
	 * is not writing; we are its writer now. */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
	/* Short write or error: the bufferevent finishes the job, and
	 * reports an error through session_event_cb as it always did. */
	if (n < 0 || evbuffer_get_length(out) > 0)
		bufferevent_enable(s->client, EV_WRITE);
}

/* Output was written: free a closed session once it is all out, take
 * EV_WRITE back for direct writes, resume a sender held for its output. */
static void
session_write_done(struct session *s)
{
	size_t	len;

	if (s->client == NULL)
		return;
	len = evbuffer_get_length(bufferevent_get_output(s->client));
	if (s->state == SESSION_CLOSED) {
		if (len == 0)
			event_active(s->free_ev, EV_TIMEOUT, 0);
		return;
	}
	if (s->is_direct && len == 0 &&
	    (bufferevent_get_enabled(s->client) & EV_WRITE) != 0)
		bufferevent_disable(s->client, EV_WRITE);
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
	s->is_flush_queued = false;
	session_flush(s);
	session_write_done(s);
}

static void
session_check_output(struct session *s)
{
	if (s->client == NULL || s->state == SESSION_CLOSED)
		return;
	if (evbuffer_get_length(bufferevent_get_output(s->client)) >
	    SESSION_OUT_HIGH && !s->is_output_full) {
		s->is_output_full = true;
		log_debug("sid=%llu event=output_full",
		    (unsigned long long)s->id);
		session_update_read(s);
	}
}

static uint32_t
session_next_seq(struct session *s)
{
	uint32_t	seq = s->next_seq++;

	/* §5.1.4: 0x00000001..0x7FFFFFFF. */
	if (s->next_seq > 0x7FFFFFFFu)
		s->next_seq = 1;
	return seq;
}

/* --- lifecycle ------------------------------------------------------------ */

static void
peer_format(const struct sockaddr *sa, char *buf, size_t cap)
{
	char	host[INET6_ADDRSTRLEN];

	host[0] = '\0';
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, cap, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else
		snprintf(buf, cap, "unknown");
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
	s->client = bev;
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
	peer_format(peer, s->peer_str, sizeof(s->peer_str));

	if ((s->tick = event_new(d->base, -1, EV_PERSIST, session_tick_cb,
	    s)) == NULL)
		goto err_ref;
	if ((s->free_ev = event_new(d->base, -1, 0, session_free_cb,
	    s)) == NULL)
		goto err_tick;
	s->is_direct = !is_tls && bufferevent_getfd(bev) >= 0;
	if ((s->flush_ev = event_new(d->base, -1, 0, session_flush_cb,
	    s)) == NULL)
		goto err_free_ev;
	if (s->is_direct && (s->read_ev = event_new(d->base,
	    bufferevent_getfd(bev), EV_READ | EV_PERSIST,
	    session_sock_read_cb, s)) == NULL)
		goto err_flush_ev;
	tv.tv_sec = SESSION_TICK_MS / 1000;
	tv.tv_usec = (SESSION_TICK_MS % 1000) * 1000;
	event_add(s->tick, &tv);

	bufferevent_setcb(bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	/* Read no more than a few frames ahead: a sender whose frame is
	 * waiting for window space is not read at all (back-pressure). */
	if (!s->is_direct)
		bufferevent_setwatermark(bev, EV_READ, 0,
		    SMPP_MAX_PDU_LEN_OPEN * 4);
	bufferevent_setwatermark(bev, EV_WRITE, SESSION_OUT_LOW, 0);
	/* Direct I/O: we read the socket (read_ev), and EV_WRITE is enabled
	 * only for what the socket did not take (session_flush). */
	if (s->is_direct)
		session_read_enable(s, true);
	else if (bufferevent_enable(bev, EV_READ | EV_WRITE) == -1)
		goto err_read_ev;

	TAILQ_INSERT_TAIL(&d->sessions, s, entry);
	d->nsessions++;
	log_info("sid=%llu event=accept peer=%s tls=%s",
	    (unsigned long long)s->id, s->peer_str, is_tls ? "yes" : "no");
	return s;

err_read_ev:
	if (s->read_ev != NULL)
		event_free(s->read_ev);
err_flush_ev:
	event_free(s->flush_ev);
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

static void
deliveries_fail(struct session *s)
{
	unsigned	i;

	for (i = 0; i < SESSION_DELIVERIES_MAX; i++) {
		if (!s->deliveries[i].is_used)
			continue;
		s->deliveries[i].is_used = false;
		if (s->deliveries[i].is_outbox) {
			/* Still in the outbox: delivered again later. */
			daemon_outbox_done(s->d, s->system_id,
			    s->deliveries[i].outbox_id, SMPP_ESME_RX_T_APPN);
			continue;
		}
		/* Live: the SMSC still holds it and redelivers (§4: 0x64
		 * is temporary), to the outbox if no receiver is back. */
		upstream_reply_send(&s->deliveries[i].reply,
		    SMPP_ESME_RX_T_APPN, NULL);
	}
	s->ndeliveries = 0;
}

void
session_close(struct session *s, const char *reason)
{
	struct timeval	tv;
	size_t		pending;

	if (s->state == SESSION_CLOSED)
		return;
	log_info("sid=%llu event=close reason=%s system_id=%s state=%s "
	    "inflight=%u peer=%s", (unsigned long long)s->id, reason,
	    s->system_id[0] != '\0' ? s->system_id : "-",
	    session_state_name(s->state), s->inflight, s->peer_str);
	session_set_state(s, SESSION_CLOSED);
	deliveries_fail(s);

	/* Late responses for our in-flight requests are consumed. */
	s->ref->s = NULL;
	ref_release(s->ref);
	s->ref = NULL;

	TAILQ_REMOVE(&s->d->sessions, s, entry);
	TAILQ_INSERT_TAIL(&s->d->closing, s, entry);
	s->d->nsessions--;
	event_del(s->tick);

	session_read_enable(s, false);
	session_flush(s);
	pending = evbuffer_get_length(bufferevent_get_output(s->client));
	if (pending == 0) {
		event_active(s->free_ev, EV_TIMEOUT, 0);
	} else {
		/* Flush replies (a bind refusal, an unbind_resp), bounded. */
		bufferevent_setwatermark(s->client, EV_WRITE, 0, 0);
		tv.tv_sec = SESSION_LINGER_MS / 1000;
		tv.tv_usec = (SESSION_LINGER_MS % 1000) * 1000;
		event_add(s->free_ev, &tv);
	}
	daemon_session_gone(s->d);
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	if (s->state != SESSION_CLOSED)
		session_close(s, "teardown");
	TAILQ_REMOVE(&s->d->closing, s, entry);
	event_free(s->tick);
	event_free(s->free_ev);
	event_free(s->flush_ev);
	if (s->read_ev != NULL)
		event_free(s->read_ev);
	bufferevent_free(s->client);
	s->client = NULL;
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
	if (s->state == SESSION_CLOSED || s->state == SESSION_BINDING)
		return;
	session_read_enable(s, !s->is_waiting_window && !s->is_output_full);
}

static void
session_read_enable(struct session *s, bool on)
{
	if (!s->is_direct) {
		if (on)
			bufferevent_enable(s->client, EV_READ);
		else
			bufferevent_disable(s->client, EV_READ);
		return;
	}
	if (on == s->is_reading)
		return;
	s->is_reading = on;
	if (on)
		event_add(s->read_ev, NULL);
	else
		event_del(s->read_ev);
}

/*
 * Direct reads (issue 6): a plain TCP session reads its socket itself.
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
	struct evbuffer		*in;
	struct evbuffer_iovec	 v;
	size_t			 have, high;
	ssize_t			 n;
	int			 err;

	(void)what;
	if (s->state == SESSION_CLOSED)
		return;
	in = bufferevent_get_input(s->client);
	have = evbuffer_get_length(in);
	high = s->state == SESSION_OPEN ? SMPP_MAX_PDU_LEN_OPEN * 4 :
	    (size_t)s->max_len * 2u;
	if (have < high) {
		/* A socket bufferevent freezes the end of its input while it
		 * is not reading; we are its reader now. */
		evbuffer_unfreeze(in, 0);
		if (evbuffer_reserve_space(in, (ev_ssize_t)(high - have >
		    SESSION_READ_MAX ? SESSION_READ_MAX : high - have), &v,
		    1) != 1) {
			evbuffer_freeze(in, 0);
			session_close(s, "out of memory");
			return;
		}
		n = read(fd, v.iov_base, v.iov_len);
		err = errno;
		if (n > 0) {
			v.iov_len = (size_t)n;
			(void)evbuffer_commit_space(in, &v, 1);
		}
		evbuffer_freeze(in, 0);
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

/* The account index of a bound session in the current config, or -1 if
 * a reload removed it. */
static int
session_account(struct session *s)
{
	if (s->account_gen != s->d->cfg_gen) {
		s->account = config_account_find(s->d->cfg, s->system_id);
		s->account_gen = s->d->cfg_gen;
	}
	return s->account;
}

static uint32_t
rejection_status(const struct config *cfg, size_t cat)
{
	uint32_t	st = cfg->categories[cat].rejection_status;

	return st != 0 ? st : cfg->rejection_status;
}

/* --- bind ----------------------------------------------------------------- */

static void
refuse_send_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)what;
	if (s->state == SESSION_CLOSED)
		return;
	reply_raw(s, s->refuse_cmd, s->refuse_status, s->refuse_seq,
	    SESSION_SYSTEM_ID, sizeof(SESSION_SYSTEM_ID));
	session_close(s, "bind refused");
}

static enum handle_result
proceed_bind(struct session *s, const struct smpp_pdu *pdu)
{
	struct daemon	*d = s->d;
	uint8_t		 body[SMPP_SYSTEM_ID_LEN + 5];
	size_t		 n;
	uint32_t	 status = SMPP_OK, rcmd;
	unsigned	 delay;
	int		 acct;
	struct timeval	 tv;

	s->doing = "bind";
	rcmd = smpp_cmd_resp_id(pdu->command_id);
	if (d->is_stopping) {
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RBINDFAIL);
		session_close(s, "stopping");
		return HANDLE_DONE;
	}
	acct = config_account_find(d->cfg, pdu->system_id);
	if (acct < 0)
		status = SMPP_ESME_RINVSYSID;
	else if (!session_password_equal(d->cfg->accounts[acct].password,
	    pdu->password))
		status = SMPP_ESME_RINVPASWD;
	if (status != SMPP_OK) {
		/* Never log the password. */
		delay = daemon_authfail_note(d,
		    (const struct sockaddr *)&s->peer);
		log_warnx("sid=%llu event=bind_refused system_id=%s "
		    "status=0x%08x peer=%s delay_ms=%u doing=%s",
		    (unsigned long long)s->id, pdu->system_id, status,
		    s->peer_str, delay, s->doing);
		s->refuse_cmd = rcmd;
		s->refuse_seq = pdu->sequence_number;
		s->refuse_status = status;
		session_set_state(s, SESSION_BINDING);
		session_read_enable(s, false);
		if (delay == 0) {
			refuse_send_cb(-1, 0, s);
			return HANDLE_DONE;
		}
		/* Repeated failures from one address are slowed down: the
		 * answer (and the close) come later. */
		event_del(s->tick);
		event_free(s->tick);
		s->tick = event_new(d->base, -1, 0, refuse_send_cb, s);
		if (s->tick == NULL) {
			refuse_send_cb(-1, 0, s);
			return HANDLE_DONE;
		}
		tv.tv_sec = delay / 1000;
		tv.tv_usec = (delay % 1000) * 1000;
		event_add(s->tick, &tv);
		return HANDLE_DONE;
	}

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
	daemon_authfail_clear(d, (const struct sockaddr *)&s->peer);
	s->account = acct;
	s->account_gen = d->cfg_gen;
	s->max_len = d->cfg->max_pdu_len != 0 ? d->cfg->max_pdu_len :
	    SMPP_MAX_PDU_LEN;
	if (!s->is_direct)
		bufferevent_setwatermark(s->client, EV_READ, 0,
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
	reply_raw(s, rcmd, SMPP_OK, pdu->sequence_number, body, n);
	log_info("sid=%llu event=bind system_id=%s bind=%s "
	    "interface_version=0x%02x peer=%s", (unsigned long long)s->id,
	    s->system_id, bind_name(s->bind), pdu->interface_version,
	    s->peer_str);
	/* A receiver is here: what waited in the outbox goes first. */
	if (s->bind != SMPP_STATE_BOUND_TX)
		daemon_receiver_bound(d, s->system_id);
	return HANDLE_DONE;
}

/* --- submit: check ------------------------------------------------------- */

/* The decision for one destination. */
struct decision {
	int		 result;	/* 1 blocked, 0 allowed, -1 error */
	uint32_t	 status;	/* when blocked */
	uint64_t	 event_id;
};

/*
 * Decide one destination. Every part of a concatenated message gets the
 * same decision (SPEC §3), but never at the cost of sending to a number
 * whose opt-out was acknowledged meanwhile (SPEC §7 wins): only a
 * "blocked" decision is remembered for the later parts. An "allowed" one
 * is taken again from the store for every part, which also sees opt-outs
 * committed by the MO path, the admin API or another process (the CLI);
 * most numbers have no state, so that lookup is a Bloom filter probe.
 * The upstream of every part is the same anyway: the route and the
 * affinity are derived from (account, destination, reference).
 */
static void
decide(struct session *s, size_t cat, const char *number, bool has_ref,
    uint32_t ref, struct decision *dec)
{
	struct daemon		*d = s->d;
	const struct config	*cfg = d->cfg;
	struct concat_slot	*slot = NULL;
	struct store_block	 why;
	uint64_t		 key = 0, now = s->batch_ms;
	char			 acct_cat[SMPP_SYSTEM_ID_LEN + CONFIG_NAME_MAX];
	int			 r;

	if (has_ref) {
		/* Same account, destination, category and reference: a
		 * message refused at its first part stays refused. */
		snprintf(acct_cat, sizeof(acct_cat), "%s/%s", s->system_id,
		    cfg->categories[cat].name);
		key = session_affinity(acct_cat, number, ref);
		slot = &d->concat[key & (DAEMON_CONCAT_SLOTS - 1)];
		if (slot->key == key && slot->is_blocked &&
		    now - slot->time_ms < (cfg->timeouts.reassembly_ms != 0 ?
		    cfg->timeouts.reassembly_ms : 60000)) {
			dec->result = 1;
			dec->status = slot->status;
			dec->event_id = slot->event_id;
			return;
		}
	}
	memset(&why, 0, sizeof(why));
	r = store_optout_check(d->store, number, cfg->categories[cat].name,
	    &why);
	dec->result = r;
	dec->status = r == 1 ? rejection_status(cfg, cat) : SMPP_OK;
	dec->event_id = r == 1 ? why.event_id : 0;
	if (r == -1) {
		d->counters.submits_store_error++;
		log_warnx("sid=%llu event=store_error error=\"%s\" doing=%s",
		    (unsigned long long)s->id, store_errmsg(d->store),
		    s->doing);
		return;		/* never cached: the next try reads again */
	}
	if (slot != NULL && r == 1) {
		slot->key = key;
		slot->time_ms = now;
		slot->is_blocked = true;
		slot->status = dec->status;
		slot->event_id = dec->event_id;
	}
}

/*
 * SHA-256 of a message body. The digest and a context are fetched once:
 * OpenSSL 3's one-shot SHA256() looks the algorithm up on every call,
 * which cost more than the rest of the reject path's bookkeeping.
 */
static void
body_sha256(const uint8_t *body, size_t len, uint8_t out[32])
{
	static EVP_MD		*md;
	static EVP_MD_CTX	*ctx;
	static bool		 is_tried;

	if (!is_tried) {
		is_tried = true;
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
		ctx = EVP_MD_CTX_new();
	}
	if (md == NULL || ctx == NULL ||
	    EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, body, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		SHA256(body, len, out);
}

/*
 * One line per refused send, up to DAEMON_REJECT_LOGS_PER_S a second;
 * past that the lines go to debug and the next second's first refusal
 * says how many were not shown. The audit log has every one.
 */
static void
log_reject(struct session *s, const char *category, const char *number,
    const struct decision *dec, int64_t now)
{
	struct daemon	*d = s->d;

	if (now != d->rejlog_sec) {
		if (d->rejlog_quiet > 0)
			log_info("event=reject_optout_summary second=%lld "
			    "logged=%u not_logged=%llu (every one is in the "
			    "audit log)", (long long)d->rejlog_sec,
			    DAEMON_REJECT_LOGS_PER_S,
			    (unsigned long long)d->rejlog_quiet);
		d->rejlog_sec = now;
		d->rejlog_n = 0;
		d->rejlog_quiet = 0;
	}
	if (d->rejlog_n < DAEMON_REJECT_LOGS_PER_S) {
		d->rejlog_n++;
		log_info("sid=%llu event=reject_optout system_id=%s "
		    "category=%s destination=%s status=0x%08x event_id=%llu",
		    (unsigned long long)s->id, s->system_id, category, number,
		    dec->status, (unsigned long long)dec->event_id);
		return;
	}
	d->rejlog_quiet++;
	if (log_debug_enabled())
		log_debug("sid=%llu event=reject_optout system_id=%s "
		    "category=%s destination=%s status=0x%08x event_id=%llu",
		    (unsigned long long)s->id, s->system_id, category, number,
		    dec->status, (unsigned long long)dec->event_id);
}

static void
audit_blocked(struct session *s, const struct smpp_pdu *pdu, size_t cat,
    const char *number, const struct decision *dec)
{
	struct store_audit	 a;
	const uint8_t		*body;
	size_t			 len;

	memset(&a, 0, sizeof(a));
	a.time = (int64_t)time(NULL);
	str_copy(a.account, sizeof(a.account), s->system_id);
	str_copy(a.category, sizeof(a.category),
	    s->d->cfg->categories[cat].name);
	str_copy(a.service_type, sizeof(a.service_type), pdu->service_type);
	str_copy(a.source, sizeof(a.source), pdu->source.addr);
	str_copy(a.destination, sizeof(a.destination), number);
	a.status = dec->status;
	a.event_id = dec->event_id;
	body = pdu_body(pdu, &len);
	a.body_len = (uint32_t)len;
	/* Bodies are not stored, only their length and digest (SPEC §6). */
	body_sha256(body != NULL ? body : (const uint8_t *)"", len,
	    a.body_sha256);
	daemon_audit_add(s->d, &a);
	s->d->counters.submits_rejected_optout++;
	log_reject(s, a.category, number, dec, a.time);
}

static struct inflight *
inflight_new(struct session *s, const struct smpp_pdu *pdu, size_t cat,
    const char *upstream, const char *number)
{
	struct inflight	*inf;

	if ((inf = inflight_spare) != NULL) {
		inflight_spare = inf->next_spare;
		inflight_nspare--;
		memset(inf, 0, sizeof(*inf));
	} else if ((inf = calloc(1, sizeof(*inf))) == NULL)
		return NULL;
	inf->d = s->d;
	inf->ref = s->ref;
	s->ref->refs++;
	inf->sid = s->id;
	inf->client_seq = pdu->sequence_number;
	inf->command_id = pdu->command_id;
	inf->wants_receipt = (pdu->registered_delivery & SESSION_RD_ROUTED) !=
	    0;
	str_copy(inf->account, sizeof(inf->account), s->system_id);
	str_copy(inf->upstream, sizeof(inf->upstream), upstream);
	str_copy(inf->category, sizeof(inf->category),
	    s->d->cfg->categories[cat].name);
	str_copy(inf->service_type, sizeof(inf->service_type),
	    pdu->service_type);
	str_copy(inf->destination, sizeof(inf->destination),
	    number != NULL ? number : "");
	return inf;
}

/*
 * Hand buf to the pool of upstream index up. Returns HANDLE_DONE when the
 * request went (or was answered with an error), HANDLE_WAIT when the
 * pool is full and the frame must wait. inf is consumed either way.
 */
static enum handle_result
proceed_forward(struct session *s, const struct smpp_pdu *pdu, size_t up,
    const uint8_t *buf, size_t len, struct inflight *inf, uint64_t affinity,
    bool is_rated)
{
	struct daemon		*d = s->d;
	struct upstream_pool	*p;
	struct ratelimit	*rl = NULL;
	uint64_t		 now = s->batch_ms;

	s->doing = "forward";
	p = daemon_pool(d, up);
	if (is_rated && s->account >= 0) {
		rl = &d->rates[s->account];
		if (!ratelimit_take(rl, now)) {
			inflight_free(inf);
			reply_status(s, pdu->command_id, pdu->sequence_number,
			    SMPP_ESME_RTHROTTLED);
			log_debug("sid=%llu event=throttled system_id=%s",
			    (unsigned long long)s->id, s->system_id);
			return HANDLE_DONE;
		}
	}
	if (p == NULL) {
		errno = ENOTCONN;
		goto err;
	}
	if (upstream_pool_submit(p, buf, len, &inflight_cbs, inf,
	    affinity) == -1)
		goto err;
	if (s->is_in_batch && s->batch_pool != p) {
		upstream_pool_flush(s->batch_pool);
		s->batch_pool = p;
	}
	d->counters.submits_forwarded++;
	s->inflight++;
	if (log_debug_enabled())
		log_debug("sid=%llu event=forward cmd=%s seq=%u upstream=%s "
		    "destination=%s", (unsigned long long)s->id,
		    smpp_cmd_name(pdu->command_id), pdu->sequence_number,
		    inf->upstream, inf->destination);
	return HANDLE_DONE;

err:
	if (rl != NULL)
		ratelimit_refund(rl);
	if (errno == EAGAIN) {
		/* Windows full: keep the frame, stop reading this sender
		 * until on_window. */
		inflight_free(inf);
		s->is_waiting_window = true;
		log_debug("sid=%llu event=wait_window upstream=%s",
		    (unsigned long long)s->id, d->cfg->upstreams[up].name);
		return HANDLE_WAIT;
	}
	log_info("sid=%llu event=upstream_unavailable upstream=%s "
	    "errno=%d doing=%s", (unsigned long long)s->id,
	    d->cfg->upstreams[up].name, errno, s->doing);
	inflight_free(inf);
	reply_status(s, pdu->command_id, pdu->sequence_number,
	    errno == EINVAL ? SMPP_ESME_RSYSERR : SMPP_ESME_RTHROTTLED);
	return HANDLE_DONE;
}

/* submit_sm and data_sm: one destination. */
static enum handle_result
proceed_submit(struct session *s, const struct smpp_pdu *pdu,
    const uint8_t *buf, size_t len, size_t acct, size_t cat)
{
	const struct config	*cfg = s->d->cfg;
	struct decision		 dec;
	struct inflight		*inf;
	char			 number[SMPP_NUMBER_LEN];
	uint32_t		 ref = 0;
	bool			 has_ref;
	int			 up;

	s->doing = "optout_check";
	if (smpp_number_normalize(pdu->dest.ton, pdu->dest.addr, &cfg->number_rules,
	    number, sizeof(number)) == -1) {
		log_info("sid=%llu event=reject_destination system_id=%s "
		    "ton=%u", (unsigned long long)s->id, s->system_id,
		    pdu->dest.ton);
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RINVDSTADR);
		return HANDLE_DONE;
	}
	has_ref = session_concat_ref(pdu, &ref);
	decide(s, cat, number, has_ref, ref, &dec);
	if (dec.result == -1) {
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SESSION_STATUS_STORE);
		return HANDLE_DONE;
	}
	if (dec.result == 1) {
		audit_blocked(s, pdu, cat, number, &dec);
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    dec.status);
		return HANDLE_DONE;
	}

	/* Attribution takes its slot at the response: start loading it. */
	daemon_lastsent_prefetch(s->d, number);
	s->doing = "route";
	if ((up = router_pick(cfg, acct, cat, number)) < 0) {
		log_warnx("sid=%llu event=no_route system_id=%s category=%s "
		    "destination=%s doing=%s", (unsigned long long)s->id,
		    s->system_id, cfg->categories[cat].name, number, s->doing);
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSUBMITFAIL);
		return HANDLE_DONE;
	}
	if ((inf = inflight_new(s, pdu, cat, cfg->upstreams[up].name,
	    number)) == NULL) {
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSYSERR);
		return HANDLE_DONE;
	}
	return proceed_forward(s, pdu, (size_t)up, buf, len, inf,
	    has_ref ? session_affinity(s->system_id, number, ref) : 0, true);
}

/* submit_multi: the opted-out destinations go to unsuccess_sme, the rest
 * on as one submit_multi re-encoded without them. */
static enum handle_result
proceed_submit_multi(struct session *s, struct smpp_pdu *pdu,
    const uint8_t *buf, size_t len, size_t acct, size_t cat)
{
	const struct config	*cfg = s->d->cfg;
	struct smpp_unsuccess	*blocked;
	struct decision		 dec;
	/* The opted-out destinations, audited once the PDU has been
	 * answered or forwarded: a PDU that must wait for window space is
	 * decided again when it is retried. */
	struct decision		 bdec[SMPP_MAX_DESTS];
	char			 bnum[SMPP_MAX_DESTS][SMPP_NUMBER_LEN];
	size_t			 naudit = 0;
	struct inflight		*inf;
	char			 number[SMPP_NUMBER_LEN];
	char			 first[SMPP_NUMBER_LEN];
	uint8_t			*nbuf = NULL, body[2 + SMPP_MAX_DESTS * 72];
	size_t			 nblocked = 0, nkept = 0, i, off;
	uint32_t		 ref = 0;
	ssize_t			 nlen;
	bool			 has_ref;
	enum handle_result	 res;
	int			 up;

	s->doing = "optout_check";
	if ((blocked = calloc(SMPP_MAX_DESTS, sizeof(*blocked))) == NULL) {
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSYSERR);
		return HANDLE_DONE;
	}
	has_ref = session_concat_ref(pdu, &ref);
	first[0] = '\0';
	for (i = 0; i < pdu->number_of_dests; i++) {
		struct smpp_dest *dst = &pdu->dests[i];

		if (dst->dest_flag != SMPP_DEST_SME_ADDRESS) {
			/* A distribution list is expanded by the SMSC: its
			 * members cannot be checked, so fail closed. */
			free(blocked);
			reply_status(s, pdu->command_id,
			    pdu->sequence_number, SMPP_ESME_RINVDESTFLAG);
			return HANDLE_DONE;
		}
		if (smpp_number_normalize(dst->addr.ton, dst->addr.addr,
		    &cfg->number_rules, number, sizeof(number)) == -1) {
			blocked[nblocked].addr = dst->addr;
			blocked[nblocked++].error_status =
			    SMPP_ESME_RINVDSTADR;
			continue;
		}
		decide(s, cat, number, has_ref, ref, &dec);
		if (dec.result == -1) {
			free(blocked);
			reply_status(s, pdu->command_id,
			    pdu->sequence_number, SESSION_STATUS_STORE);
			return HANDLE_DONE;
		}
		if (dec.result == 1) {
			bdec[naudit] = dec;
			memcpy(bnum[naudit++], number, sizeof(number));
			blocked[nblocked].addr = dst->addr;
			blocked[nblocked++].error_status = dec.status;
			continue;
		}
		if (first[0] == '\0')
			memcpy(first, number, sizeof(first));
		pdu->dests[nkept++] = *dst;
	}

	if (nkept == 0) {
		/* Nothing to send: answer ourselves, message_id "". */
		off = 0;
		body[off++] = 0;
		body[off++] = (uint8_t)nblocked;
		for (i = 0; i < nblocked; i++) {
			size_t al = strnlen(blocked[i].addr.addr,
			    SMPP_ADDR_LEN - 1);

			body[off++] = blocked[i].addr.ton;
			body[off++] = blocked[i].addr.npi;
			memcpy(body + off, blocked[i].addr.addr, al);
			off += al;
			body[off++] = 0;
			put_u32(body + off, blocked[i].error_status);
			off += 4;
		}
		free(blocked);
		for (i = 0; i < naudit; i++)
			audit_blocked(s, pdu, cat, bnum[i], &bdec[i]);
		reply_raw(s, SMPP_CMD_SUBMIT_MULTI_RESP, SMPP_OK,
		    pdu->sequence_number, body, off);
		return HANDLE_DONE;
	}

	s->doing = "route";
	if ((up = router_pick(cfg, acct, cat, first)) < 0) {
		free(blocked);
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSUBMITFAIL);
		return HANDLE_DONE;
	}
	if (nblocked > 0) {
		pdu->number_of_dests = (uint8_t)nkept;
		if ((nbuf = malloc(len)) == NULL ||
		    (nlen = smpp_pdu_encode(pdu, nbuf, len)) < 0) {
			free(nbuf);
			free(blocked);
			reply_status(s, pdu->command_id,
			    pdu->sequence_number, SMPP_ESME_RSYSERR);
			return HANDLE_DONE;
		}
		buf = nbuf;
		len = (size_t)nlen;
	}
	if ((inf = inflight_new(s, pdu, cat, cfg->upstreams[up].name,
	    first)) == NULL) {
		free(nbuf);
		free(blocked);
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSYSERR);
		return HANDLE_DONE;
	}
	if (nblocked > 0) {
		inf->blocked = blocked;
		inf->nblocked = (uint8_t)nblocked;
	} else
		free(blocked);
	res = proceed_forward(s, pdu, (size_t)up, buf, len, inf,
	    has_ref ? session_affinity(s->system_id, first, ref) : 0, true);
	free(nbuf);
	if (res != HANDLE_WAIT)
		for (i = 0; i < naudit; i++)
			audit_blocked(s, pdu, cat, bnum[i], &bdec[i]);
	return res;
}

/* query_sm, cancel_sm, replace_sm: to the upstream that carried the
 * message (receipt map), else the account's default route. */
static enum handle_result
proceed_query(struct session *s, const struct smpp_pdu *pdu,
    const uint8_t *buf, size_t len, size_t acct)
{
	struct daemon		*d = s->d;
	const struct config	*cfg = d->cfg;
	struct inflight		*inf;
	char			 owner[STORE_NAME_MAX];
	size_t			 i, cat;
	int			 up = -1;

	s->doing = "query_route";
	cat = cfg->accounts[acct].default_category;
	for (i = 0; i < cfg->nupstreams && pdu->message_id[0] != '\0'; i++) {
		if (store_msgmap_get(d->store, cfg->upstreams[i].name,
		    pdu->message_id, owner) == 1 &&
		    strcmp(owner, s->system_id) == 0) {
			up = (int)i;
			break;
		}
	}
	if (up < 0)
		up = router_pick(cfg, acct, cat, NULL);
	if (up < 0) {
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSYSERR);
		return HANDLE_DONE;
	}
	if ((inf = inflight_new(s, pdu, cat, cfg->upstreams[up].name,
	    NULL)) == NULL) {
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSYSERR);
		return HANDLE_DONE;
	}
	return proceed_forward(s, pdu, (size_t)up, buf, len, inf, 0, false);
}

static enum handle_result
check_submit(struct session *s, struct smpp_pdu *pdu, const uint8_t *buf,
    size_t len)
{
	const struct config		*cfg = s->d->cfg;
	const struct config_account	*a;
	size_t				 cat;
	unsigned			 maxw;
	int				 acct;

	s->doing = "check_submit";
	if (s->state == SESSION_UNBINDING || s->d->is_stopping) {
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RTHROTTLED);
		return HANDLE_DONE;
	}
	if ((acct = session_account(s)) < 0) {
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RINVSYSID);
		session_close(s, "account removed");
		return HANDLE_DONE;
	}
	a = &cfg->accounts[acct];
	maxw = a->max_window != 0 ? a->max_window : 100;
	if (s->inflight >= maxw) {
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RMSGQFUL);
		return HANDLE_DONE;
	}
	switch (pdu->command_id) {
	case SMPP_CMD_QUERY_SM:
	case SMPP_CMD_CANCEL_SM:
	case SMPP_CMD_REPLACE_SM:
		return proceed_query(s, pdu, buf, len, (size_t)acct);
	default:
		break;
	}
	cat = config_account_category(cfg, (size_t)acct, pdu->service_type);
	if (cat >= cfg->ncategories ||
	    !config_account_may_send(cfg, (size_t)acct, cat)) {
		log_info("sid=%llu event=reject_category system_id=%s "
		    "service_type=%s", (unsigned long long)s->id,
		    s->system_id, pdu->service_type);
		reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RINVSERTYP);
		return HANDLE_DONE;
	}
	if (pdu->command_id == SMPP_CMD_SUBMIT_MULTI)
		return proceed_submit_multi(s, pdu, buf, len, (size_t)acct,
		    cat);
	return proceed_submit(s, pdu, buf, len, (size_t)acct, cat);
}

/* --- responses from the department ---------------------------------------- */

static struct delivery *
delivery_find(struct session *s, uint32_t seq)
{
	unsigned	i;

	for (i = 0; i < SESSION_DELIVERIES_MAX; i++)
		if (s->deliveries[i].is_used && s->deliveries[i].seq == seq)
			return &s->deliveries[i];
	return NULL;
}

static void
proceed_deliver_resp(struct session *s, const struct smpp_pdu *pdu)
{
	struct delivery	*dl;
	uint32_t	 status = pdu->command_status;

	if ((dl = delivery_find(s, pdu->sequence_number)) == NULL) {
		log_debug("sid=%llu event=stray_resp cmd=%s seq=%u",
		    (unsigned long long)s->id,
		    smpp_cmd_name(pdu->command_id), pdu->sequence_number);
		return;
	}
	/* A generic_nack: the department could not take it; the SMSC
	 * keeps it and redelivers. */
	if (pdu->command_id == SMPP_CMD_GENERIC_NACK)
		status = SMPP_ESME_RX_T_APPN;
	dl->is_used = false;
	s->ndeliveries--;
	if (dl->is_outbox) {
		daemon_outbox_done(s->d, s->system_id, dl->outbox_id,
		    status);
		return;
	}
	upstream_reply_send(&dl->reply, status,
	    pdu->command_id == SMPP_CMD_DATA_SM_RESP ? pdu->message_id : NULL);
}

/*
 * Graceful stop of one session: once nothing is in flight (every answer
 * the SMSC owes this sender was relayed), send unbind; close when the
 * department answers it (§4.2: it may close as soon as it has).
 */
static void
session_maybe_done(struct session *s)
{
	if (s->state != SESSION_UNBINDING || s->inflight > 0)
		return;
	if (!s->is_unbind_sent) {
		s->is_unbind_sent = true;
		reply_raw(s, SMPP_CMD_UNBIND, SMPP_OK, session_next_seq(s),
		    NULL, 0);
		return;
	}
	if (s->is_unbind_acked)
		session_close(s, "unbound");
}

/* --- the frame loop ------------------------------------------------------- */

static enum handle_result
session_handle(struct session *s, const uint8_t *buf, size_t len)
{
	struct smpp_pdu		*pdu = &scratch;
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
			proceed_deliver_resp(s, pdu);
			return HANDLE_DONE;
		}
		log_info("sid=%llu event=bad_pdu cmd=0x%08x status=0x%08x "
		    "doing=%s", (unsigned long long)s->id, cmd, st, s->doing);
		reply_nack(s, pdu->sequence_number, st);
		return HANDLE_DONE;
	}

	s->doing = "dispatch";
	switch (cmd) {
	case SMPP_CMD_ENQUIRE_LINK:
		reply_raw(s, SMPP_CMD_ENQUIRE_LINK_RESP, SMPP_OK,
		    pdu->sequence_number, NULL, 0);
		return HANDLE_DONE;
	case SMPP_CMD_ENQUIRE_LINK_RESP:
		return HANDLE_DONE;
	case SMPP_CMD_BIND_TRANSMITTER:
	case SMPP_CMD_BIND_RECEIVER:
	case SMPP_CMD_BIND_TRANSCEIVER:
		if (s->state != SESSION_OPEN) {
			reply_status(s, cmd, pdu->sequence_number,
			    SMPP_ESME_RALYBND);
			return HANDLE_DONE;
		}
		return proceed_bind(s, pdu);
	case SMPP_CMD_UNBIND:
		if (s->state == SESSION_OPEN) {
			reply_status(s, cmd, pdu->sequence_number,
			    SMPP_ESME_RINVBNDSTS);
			return HANDLE_DONE;
		}
		reply_raw(s, SMPP_CMD_UNBIND_RESP, SMPP_OK,
		    pdu->sequence_number, NULL, 0);
		session_close(s, "unbind");
		return HANDLE_DONE;
	case SMPP_CMD_UNBIND_RESP:
		if (s->state == SESSION_UNBINDING && s->is_unbind_sent) {
			s->is_unbind_acked = true;
			session_maybe_done(s);
		}
		return HANDLE_DONE;
	case SMPP_CMD_DELIVER_SM_RESP:
	case SMPP_CMD_DATA_SM_RESP:
	case SMPP_CMD_GENERIC_NACK:
		proceed_deliver_resp(s, pdu);
		return HANDLE_DONE;
	default:
		break;
	}
	if (smpp_cmd_is_resp(cmd)) {
		log_debug("sid=%llu event=stray_resp cmd=%s",
		    (unsigned long long)s->id, smpp_cmd_name(cmd));
		return HANDLE_DONE;
	}
	/* (state, command): may an ESME in this bind state send it? */
	if (!smpp_cmd_esme_may_send(cmd, s->bind)) {
		reply_status(s, cmd, pdu->sequence_number,
		    SMPP_ESME_RINVBNDSTS);
		return HANDLE_DONE;
	}
	switch (cmd) {
	case SMPP_CMD_SUBMIT_SM:
	case SMPP_CMD_DATA_SM:
	case SMPP_CMD_SUBMIT_MULTI:
	case SMPP_CMD_QUERY_SM:
	case SMPP_CMD_CANCEL_SM:
	case SMPP_CMD_REPLACE_SM:
		return check_submit(s, pdu, buf, len);
	default:
		reply_status(s, cmd, pdu->sequence_number,
		    SMPP_ESME_RINVCMDID);
		return HANDLE_DONE;
	}
}

/*
 * Handle every whole frame in the input. Frames that lie in one extent of
 * the buffer are handled in place and drained together at the end: one
 * drain per batch instead of a copy-out, a pull-up and a drain per PDU
 * (issue 6). Nothing run from session_handle() reads into or drains this
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
 * Read ahead (issue 6): the opt-out lookup of a submit_sm starts with one
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
	if (smpp_number_normalize(dest.ton, dest.addr, &s->d->cfg->number_rules, number,
	    sizeof(number)) == 0)
		store_optout_prefetch(s->d->store, number);
}

static void
session_process_batch(struct session *s)
{
	struct evbuffer		*in;
	uint8_t			 hdr[SMPP_HEADER_LEN];
	const uint8_t		*base = NULL, *frame;
	size_t			 avail, hl, cont = 0, done = 0;
	uint32_t		 len;
	bool			 has_clock = false;

	in = bufferevent_get_input(s->client);
	s->is_in_batch = true;
	s->batch_pool = NULL;
	while (s->state != SESSION_CLOSED && s->state != SESSION_BINDING &&
	    !s->is_waiting_window && !s->is_output_full) {
		avail = evbuffer_get_length(in) - done;
		if (avail < 4)
			break;
		/* One clock read per batch, not three per PDU: a batch is
		 * handled in well under a millisecond. */
		if (!has_clock) {
			s->batch_ms = daemon_now_ms();
			has_clock = true;
		}
		hl = avail < SMPP_HEADER_LEN ? avail : SMPP_HEADER_LEN;
		if (done + hl <= cont)
			memcpy(hdr, base + done, hl);
		else {
			evbuffer_drain(in, done);
			done = cont = 0;
			evbuffer_copyout(in, hdr, hl);
		}
		if (smpp_frame_check(hdr, hl, s->max_len) == -1) {
			/* §3.2 framing is lost: nack what we can, close. */
			len = smpp_frame_peek_len(hdr);
			log_info("sid=%llu event=bad_length length=%u max=%u "
			    "doing=framing", (unsigned long long)s->id, len,
			    s->max_len);
			if (hl >= SMPP_HEADER_LEN)
				reply_nack(s, smpp_frame_peek_len(hdr + 12),
				    SMPP_ESME_RINVCMDLEN);
			evbuffer_drain(in, evbuffer_get_length(in));
			session_close(s, "framing lost");
			s->is_in_batch = false;
			return;
		}
		len = smpp_frame_peek_len(hdr);
		if (avail < len)
			break;
		if (done + len <= cont)
			frame = base + done;
		else {
			/* Starts a new extent: make the frame contiguous, and
			 * take the rest of that extent in place too. */
			evbuffer_drain(in, done);
			done = 0;
			if ((frame = evbuffer_pullup(in, len)) == NULL) {
				session_close(s, "out of memory");
				s->is_in_batch = false;
				return;
			}
			base = frame;
			cont = evbuffer_get_contiguous_space(in);
		}
		session_prefetch(s, frame + len, cont - done - len);
		if (session_handle(s, frame, len) == HANDLE_WAIT)
			break;
		done += len;
		session_check_output(s);
	}
	if (done > 0 && s->client != NULL)
		evbuffer_drain(in, done);
	/*
	 * This batch's own replies (rejections, enquire_link_resp...) go
	 * out now, not after every other session's read callback of this
	 * loop turn: the sender works on them while we read the next one.
	 */
	if (s->is_flush_queued)
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
	unsigned		 i;

	(void)fd;
	(void)what;
	if (s->state == SESSION_CLOSED)
		return;
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
		reply_raw(s, SMPP_CMD_ENQUIRE_LINK, SMPP_OK,
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
	for (i = 0; i < SESSION_DELIVERIES_MAX; i++) {
		struct delivery *dl = &s->deliveries[i];

		if (!dl->is_used || now < dl->deadline_ms)
			continue;
		log_info("sid=%llu event=deliver_timeout seq=%u",
		    (unsigned long long)s->id, dl->seq);
		dl->is_used = false;
		s->ndeliveries--;
		if (dl->is_outbox)
			daemon_outbox_done(s->d, s->system_id,
			    dl->outbox_id, SMPP_ESME_RX_T_APPN);
		else
			upstream_reply_send(&dl->reply, SMPP_ESME_RX_T_APPN,
			    NULL);
	}
}

/* --- upstream callbacks -------------------------------------------------- */

/* submit_multi_resp with our refused destinations added to its list. */
static void
relay_multi_resp(struct session *s, const struct inflight *inf,
    const struct smpp_pdu *resp)
{
	uint8_t		body[SMPP_MESSAGE_ID_LEN + 1 + SMPP_MAX_DESTS * 27];
	size_t		off = 0, n, i, total;

	n = strnlen(resp->message_id, SMPP_MESSAGE_ID_LEN - 1);
	memcpy(body, resp->message_id, n);
	off = n;
	body[off++] = 0;
	total = (size_t)resp->no_unsuccess + inf->nblocked;
	if (total > SMPP_MAX_DESTS - 1)
		total = SMPP_MAX_DESTS - 1;
	body[off++] = (uint8_t)total;
	for (i = 0; i < total; i++) {
		const struct smpp_unsuccess *u = i < resp->no_unsuccess ?
		    &resp->unsuccess[i] : &inf->blocked[i - resp->no_unsuccess];
		size_t al = strnlen(u->addr.addr, SMPP_ADDR_LEN - 1);

		body[off++] = u->addr.ton;
		body[off++] = u->addr.npi;
		memcpy(body + off, u->addr.addr, al);
		off += al;
		body[off++] = 0;
		put_u32(body + off, u->error_status);
		off += 4;
	}
	reply_raw(s, SMPP_CMD_SUBMIT_MULTI_RESP, resp->command_status,
	    inf->client_seq, body, off);
}

/* The SMSC answered a request this session forwarded. */
static void
inflight_resp(void *ctx, const struct smpp_pdu *resp, const uint8_t *raw,
    size_t rawlen)
{
	struct inflight		*inf = ctx;
	struct daemon		*d = inf->d;
	struct session		*s = inf->ref->s;
	struct store_msgmap	 mm;
	struct store_lastsent_entry ls;

	if (resp->command_status == SMPP_OK &&
	    (resp->command_id == SMPP_CMD_SUBMIT_SM_RESP ||
	    resp->command_id == SMPP_CMD_DATA_SM_RESP ||
	    resp->command_id == SMPP_CMD_SUBMIT_MULTI_RESP)) {
		/* Receipts for this message go back to this account, even
		 * if the sending session is gone by then. */
		if (inf->wants_receipt && resp->message_id[0] != '\0') {
			memset(&mm, 0, sizeof(mm));
			str_copy(mm.upstream, sizeof(mm.upstream),
			    inf->upstream);
			str_copy(mm.message_id, sizeof(mm.message_id),
			    resp->message_id);
			str_copy(mm.account, sizeof(mm.account), inf->account);
			mm.time = (int64_t)time(NULL);
			daemon_msgmap_add(d, &mm);
		}
		if (inf->destination[0] != '\0') {
			memset(&ls, 0, sizeof(ls));
			str_copy(ls.number, sizeof(ls.number),
			    inf->destination);
			ls.last.time = (int64_t)time(NULL);
			str_copy(ls.last.account, sizeof(ls.last.account),
			    inf->account);
			str_copy(ls.last.category, sizeof(ls.last.category),
			    inf->category);
			str_copy(ls.last.service_type,
			    sizeof(ls.last.service_type), inf->service_type);
			daemon_lastsent_add(d, &ls);
		}
	}
	if (s == NULL) {
		log_debug("sid=%llu event=late_resp cmd=%s status=0x%08x",
		    (unsigned long long)inf->sid,
		    smpp_cmd_name(resp->command_id), resp->command_status);
		inflight_free(inf);
		return;
	}
	s->inflight--;
	if (log_debug_enabled())
		log_debug("sid=%llu event=resp cmd=%s seq=%u status=0x%08x "
		    "message_id=%s", (unsigned long long)s->id,
		    smpp_cmd_name(resp->command_id), inf->client_seq,
		    resp->command_status, resp->message_id);
	if (inf->nblocked > 0 &&
	    resp->command_id == SMPP_CMD_SUBMIT_MULTI_RESP)
		relay_multi_resp(s, inf, resp);
	else
		relay_raw(s, raw, rawlen, inf->client_seq);
	inflight_free(inf);
	session_check_output(s);
	session_maybe_done(s);
}

/* A request this session forwarded will get no answer. */
static void
inflight_fail(void *ctx, uint32_t status)
{
	struct inflight	*inf = ctx;
	struct session	*s = inf->ref->s;
	if (s != NULL) {
		s->inflight--;
		log_info("sid=%llu event=upstream_fail cmd=%s seq=%u "
		    "status=0x%08x upstream=%s", (unsigned long long)s->id,
		    smpp_cmd_name(inf->command_id), inf->client_seq, status,
		    inf->upstream);
		reply_status(s, inf->command_id, inf->client_seq, status);
		session_maybe_done(s);
	}
	inflight_free(inf);
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

/* --- relaying down -------------------------------------------------------- */

bool
session_can_deliver(const struct session *s, const char *system_id)
{
	if (s->state != SESSION_BOUND)
		return false;
	if (s->bind != SMPP_STATE_BOUND_RX && s->bind != SMPP_STATE_BOUND_TRX)
		return false;
	if (strcmp(s->system_id, system_id) != 0)
		return false;
	if (s->ndeliveries >= SESSION_DELIVERIES_MAX)
		return false;
	/* Not read from now (back-pressure): its answer would wait. */
	if (s->is_waiting_window || s->is_output_full)
		return false;
	return evbuffer_get_length(bufferevent_get_output(s->client)) <
	    SESSION_OUT_DELIVER_MAX;
}

/* Relay raw to s: live with reply, or outbox entry outbox_id when reply
 * is NULL. Returns 0, or -1 if s cannot take it now. */
static int
deliver_one(struct session *s, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply, uint64_t outbox_id)
{
	const struct config	*cfg = s->d->cfg;
	struct delivery		*dl = NULL;
	unsigned		 i, wait_ms;

	if (!session_can_deliver(s, s->system_id))
		return -1;
	for (i = 0; i < SESSION_DELIVERIES_MAX; i++)
		if (!s->deliveries[i].is_used) {
			dl = &s->deliveries[i];
			break;
		}
	if (dl == NULL)
		return -1;
	wait_ms = cfg->timeouts.response_ms != 0 ?
	    cfg->timeouts.response_ms : 30000;
	dl->is_used = true;
	dl->seq = session_next_seq(s);
	dl->deadline_ms = daemon_now_ms() + wait_ms;
	if (reply != NULL) {
		dl->reply = *reply;
		dl->is_outbox = false;
	} else {
		memset(&dl->reply, 0, sizeof(dl->reply));
		dl->is_outbox = true;
		dl->outbox_id = outbox_id;
	}
	s->ndeliveries++;
	relay_raw(s, raw, len, dl->seq);
	if (log_debug_enabled())
		log_debug("sid=%llu event=deliver seq=%u len=%zu",
		    (unsigned long long)s->id, dl->seq, len);
	return 0;
}

int
session_deliver(struct session *s, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply)
{
	return deliver_one(s, raw, len, reply, 0);
}

/* One of the sessions of system_id that can take a delivery now, round
 * robin, or NULL. */
static struct session *
deliver_pick(struct daemon *d, const char *system_id)
{
	struct session	*s;
	size_t		 n = 0, pick, i = 0;

	TAILQ_FOREACH(s, &d->sessions, entry)
		if (session_can_deliver(s, system_id))
			n++;
	if (n == 0)
		return NULL;
	pick = d->rr++ % n;
	TAILQ_FOREACH(s, &d->sessions, entry) {
		if (!session_can_deliver(s, system_id))
			continue;
		if (i++ == pick)
			return s;
	}
	return NULL;
}

int
session_deliver_outbox_to_account(struct daemon *d, const char *system_id,
    const uint8_t *raw, size_t len, uint64_t id)
{
	struct session	*s;

	if ((s = deliver_pick(d, system_id)) == NULL)
		return -1;
	return deliver_one(s, raw, len, NULL, id);
}

int
session_deliver_to_account(struct daemon *d, const char *system_id,
    const uint8_t *raw, size_t len, const struct upstream_reply *reply)
{
	struct session	*s;

	if ((s = deliver_pick(d, system_id)) == NULL)
		return -1;
	return session_deliver(s, raw, len, reply);
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
