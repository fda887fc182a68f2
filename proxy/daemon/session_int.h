/*
 * The session module's own parts, shared by its three files and no one
 * else: session.c (the state machine, the connection's I/O and frame
 * loop, dispatch, bind), submit.c (a department's sends: category,
 * opt-out decision, audit, forwarding, the SMSC's answer relayed back)
 * and delivery.c (deliver_sm / data_sm to a bound receiver, and its
 * answer back to the SMSC or the outbox).
 *
 * struct session lives here; each file owns the fields of its part and
 * says so below.
 */
#ifndef PROXY_DAEMON_SESSION_INT_H
#define PROXY_DAEMON_SESSION_INT_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/daemon/session.h"
#include "proxy/daemon/upstream.h"
#include "proxy/io/pduconn.h"
#include "smpp/pdu.h"

struct bufferevent;
struct event;
struct upstream_pool;

/* Replies queued to a client above which we stop reading from it, and
 * the level below which we read again (STYLE §5 watermarks). */
#define SESSION_OUT_HIGH	(256u * 1024u)
#define SESSION_OUT_LOW		(64u * 1024u)
/* Above this a receiver is "backed up" and gets no more deliver_sm. */
#define SESSION_OUT_DELIVER_MAX	(1024u * 1024u)
/* deliver_sm relayed to one session and not yet answered. */
#define SESSION_DELIVERIES_MAX	64

/* A counted handle on a session: in-flight contexts hold one. */
struct session_ref {
	struct session	*s;		/* NULL once the session closed */
	unsigned	 refs;
};

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
	struct pduconn		 conn;		/* conn.bev owned */
	struct session_ref	*ref;		/* owned share */
	TAILQ_ENTRY(session)	 entry;
	struct sockaddr_storage	 peer;
	char			 peer_str[64];
	char			 peer_host[48];	/* no port: limits' key */
	bool			 is_tls;
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
	uint64_t		 batch_ms;	/* clock of this batch */
	uint64_t		 enquire_ms;	/* our last enquire_link */
	const char		*doing;		/* for error logs */
	struct event		*tick;		/* owned */
	struct event		*free_ev;	/* owned */
	/* Before bind (the unbound limits, the bind throttle). */
	bool			 is_bind_started; /* a bind PDU came */
	bool			 is_bind_waiting; /* held by the throttle */
	bool			 is_bind_counted; /* in binds_throttled */
	unsigned		 nbad;		/* consecutive bad PDUs */
	struct event		*bind_ev;	/* owned; wait end */
	struct delivery		 deliveries[SESSION_DELIVERIES_MAX];
	unsigned		 ndeliveries;
};

enum session_handled {
	SESSION_DONE = 0,	/* frame consumed */
	SESSION_WAIT,		/* keep the frame, stop reading */
};

/* --- session.c: the connection, for the other parts ---------------- */

/*
 * Queue a PDU to the client: header and body (command_length computed),
 * a status-only answer to req_cmd (an empty message_id for the *_sm_resp
 * that carry one), or raw PDU bytes with sequence number seq. Written in
 * this loop turn (direct writes) or by the bufferevent.
 */
void	session_reply_raw(struct session *s, uint32_t cmd, uint32_t status,
	    uint32_t seq, const void *body, size_t bodylen);
void	session_reply_status(struct session *s, uint32_t req_cmd,
	    uint32_t seq, uint32_t status);
void	session_relay_raw(struct session *s, const uint8_t *raw, size_t len,
	    uint32_t seq);

/* Stop reading while the client's output is above SESSION_OUT_HIGH. */
void	session_check_output(struct session *s);

/* Our next sequence number towards the client (§5.1.4 range). */
uint32_t session_next_seq(struct session *s);

/* A stopping session whose last answer was relayed: unbind, or close
 * once the unbind was answered. */
void	session_maybe_done(struct session *s);

/* The account index of a bound session in the current config, or -1 if
 * a reload removed it. */
int	session_account(struct session *s);

/* Drop one reference to r; frees it with the last. */
void	session_ref_release(struct session_ref *r);

/* --- submit.c -------------------------------------------------------- */

/*
 * A send from the department (submit_sm, data_sm, submit_multi, query_sm,
 * cancel_sm, replace_sm), decoded in pdu, its bytes buf/len: answered or
 * forwarded (SESSION_DONE), or left in the input until window space
 * opens (SESSION_WAIT).
 */
enum session_handled submit_handle(struct session *s, struct smpp_pdu *pdu,
    const uint8_t *buf, size_t len);

/* --- delivery.c ------------------------------------------------------ */

/* The department answered one of our deliver_sm / data_sm (or nacked
 * it): the answer goes to the SMSC or the outbox. */
void	delivery_resp(struct session *s, const struct smpp_pdu *pdu);

/* Answer ESME_RX_T_APPN for every delivery still waiting on s (it is
 * closing): the SMSC redelivers, the outbox keeps its entry. */
void	delivery_fail_all(struct session *s);

/* The same for the deliveries whose answer is overdue at now. */
void	delivery_expire(struct session *s, uint64_t now);

#endif /* PROXY_DAEMON_SESSION_INT_H */
