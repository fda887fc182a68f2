/*
 * Upstream pool against an in-test fake SMSC on 127.0.0.1, in the same
 * event loop. Every wait is bounded (RUN_UNTIL); the whole file runs in a
 * few seconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
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
#include <event2/listener.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "proxy/io/log.h"
#include "proxy/io/tls.h"
#include "proxy/daemon/upstream.h"
#include "smpp/frame.h"
#include "smpp/pdu.h"

#define FAKE_MAX_CONNS	32
#define FAKE_MAX_HELD	64

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- fake SMSC ---------------------------------------------------------- */

struct fake;

struct fconn {
	struct fake		*f;
	struct bufferevent	*bev;
	int			 idx;
	bool			 is_open;
};

struct held {
	int		conn;
	uint32_t	seq;
	uint32_t	cmd;
};

struct fake {
	struct event_base	*base;
	struct evconnlistener	*lis;
	uint16_t		 port;
	SSL_CTX			*ssl;		/* TLS when set */
	struct fconn		 conns[FAKE_MAX_CONNS];
	int			 nconns;
	uint64_t		 accept_ms[FAKE_MAX_CONNS];
	struct smpp_pdu		*pdu;
	uint32_t		 seq;

	/* Behaviour. */
	int			 fail_binds;	/* refuse this many binds */
	uint32_t		 fail_status;
	bool			 is_holding;	/* don't answer submits */
	bool			 is_mute;	/* don't answer enquire_link */
	bool			 is_unbind_mute;

	/* What was seen. */
	int			 binds;
	uint32_t		 bind_cmd[FAKE_MAX_CONNS];
	char			 bind_system_id[16];
	char			 bind_password[9];
	uint8_t			 bind_iv;
	int			 submits;
	int			 submit_conn[256];
	struct held		 held[FAKE_MAX_HELD];
	int			 nheld;
	uint32_t		 last_submit_seq;
	int			 enq_rx;
	int			 enq_resp_rx;
	uint32_t		 enq_resp_seq;
	int			 nacks_rx;
	uint32_t		 nack_status;
	uint32_t		 nack_seq;
	int			 dresp_rx;
	uint32_t		 dresp_cmd;
	uint32_t		 dresp_status;
	uint32_t		 dresp_seq;
	char			 dresp_msgid[65];
	int			 unbind_rx;
	int			 eofs;
};

static void
fake_send(struct fconn *fc, const struct smpp_pdu *p)
{
	uint8_t	buf[4096];
	ssize_t	n;

	if (fc == NULL || fc->bev == NULL) {
		fail_msg("fake SMSC: no open connection");
		return;
	}
	n = smpp_pdu_encode(p, buf, sizeof(buf));
	assert_true(n > 0);
	bufferevent_write(fc->bev, buf, (size_t)n);
}

static void
fake_send_raw(struct fconn *fc, const void *b, size_t len)
{
	if (fc == NULL || fc->bev == NULL) {
		fail_msg("fake SMSC: no open connection");
		return;
	}
	bufferevent_write(fc->bev, b, len);
}

static void
fake_answer(struct fconn *fc, uint32_t cmd, uint32_t seq, uint32_t status)
{
	struct smpp_pdu	*r;

	if (fc == NULL || fc->f == NULL || fc->f->pdu == NULL) {
		fail_msg("fake SMSC: no connection");
		return;
	}
	r = fc->f->pdu;
	smpp_pdu_init(r, smpp_cmd_resp_id(cmd), seq);
	r->command_status = status;
	if (cmd == SMPP_CMD_SUBMIT_SM || cmd == SMPP_CMD_DATA_SM)
		snprintf(r->message_id, sizeof(r->message_id), "SMSC-%u",
		    (unsigned)seq);
	if (cmd == SMPP_CMD_BIND_TRANSCEIVER ||
	    cmd == SMPP_CMD_BIND_TRANSMITTER || cmd == SMPP_CMD_BIND_RECEIVER)
		snprintf(r->system_id, sizeof(r->system_id), "fakesmsc");
	fake_send(fc, r);
}

static void
fake_close(struct fconn *fc)
{
	if (fc == NULL) {
		fail_msg("fake SMSC: no open connection");
		return;
	}
	if (!fc->is_open)
		return;
	fc->is_open = false;
	bufferevent_free(fc->bev);
	fc->bev = NULL;
}

static void
fake_on_pdu(struct fconn *fc, const uint8_t *buf, size_t len)
{
	struct fake	*f = fc->f;
	struct smpp_pdu	*p = f->pdu;
	enum smpp_status st;

	st = smpp_pdu_decode(p, buf, len);
	assert_int_equal(st, SMPP_OK);
	switch (p->command_id) {
	case SMPP_CMD_BIND_TRANSCEIVER:
	case SMPP_CMD_BIND_TRANSMITTER:
	case SMPP_CMD_BIND_RECEIVER:
		f->bind_cmd[f->binds++ % FAKE_MAX_CONNS] = p->command_id;
		memcpy(f->bind_system_id, p->system_id, 16);
		memcpy(f->bind_password, p->password, 9);
		f->bind_iv = p->interface_version;
		if (f->fail_binds > 0) {
			f->fail_binds--;
			fake_answer(fc, p->command_id, p->sequence_number,
			    f->fail_status);
		} else
			fake_answer(fc, p->command_id, p->sequence_number, 0);
		return;
	case SMPP_CMD_SUBMIT_SM:
	case SMPP_CMD_DATA_SM:
	case SMPP_CMD_QUERY_SM:
		f->submit_conn[f->submits++ % 256] = fc->idx;
		f->last_submit_seq = p->sequence_number;
		if (f->is_holding) {
			assert_true(f->nheld < FAKE_MAX_HELD);
			f->held[f->nheld].conn = fc->idx;
			f->held[f->nheld].seq = p->sequence_number;
			f->held[f->nheld].cmd = p->command_id;
			f->nheld++;
		} else
			fake_answer(fc, p->command_id, p->sequence_number, 0);
		return;
	case SMPP_CMD_ENQUIRE_LINK:
		f->enq_rx++;
		if (!f->is_mute)
			fake_answer(fc, p->command_id, p->sequence_number, 0);
		return;
	case SMPP_CMD_ENQUIRE_LINK_RESP:
		f->enq_resp_rx++;
		f->enq_resp_seq = p->sequence_number;
		return;
	case SMPP_CMD_GENERIC_NACK:
		f->nacks_rx++;
		f->nack_status = p->command_status;
		f->nack_seq = p->sequence_number;
		return;
	case SMPP_CMD_DELIVER_SM_RESP:
	case SMPP_CMD_DATA_SM_RESP:
		f->dresp_rx++;
		f->dresp_cmd = p->command_id;
		f->dresp_status = p->command_status;
		f->dresp_seq = p->sequence_number;
		memcpy(f->dresp_msgid, p->message_id, sizeof(f->dresp_msgid));
		return;
	case SMPP_CMD_UNBIND:
		f->unbind_rx++;
		if (!f->is_unbind_mute)
			fake_answer(fc, p->command_id, p->sequence_number, 0);
		return;
	case SMPP_CMD_UNBIND_RESP:
		return;
	default:
		fail_msg("fake SMSC got %s", smpp_cmd_name(p->command_id));
	}
}

static void
fake_read_cb(struct bufferevent *bev, void *arg)
{
	struct fconn	*fc = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 hdr[4], *b;
	uint32_t	 len;

	while (fc->is_open && evbuffer_get_length(in) >= 4) {
		evbuffer_copyout(in, hdr, 4);
		len = smpp_frame_peek_len(hdr);
		assert_true(len >= 16 && len <= SMPP_MAX_PDU_LEN);
		if (evbuffer_get_length(in) < len)
			return;
		b = evbuffer_pullup(in, len);
		fake_on_pdu(fc, b, len);
		if (!fc->is_open)
			return;
		evbuffer_drain(in, len);
	}
}

static void
fake_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fconn	*fc = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		fc->f->eofs++;
		fake_close(fc);
	}
}

static void
fake_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct fake	*f = arg;
	struct fconn	*fc;
	const int	 opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;

	(void)l;
	(void)sa;
	(void)salen;
	assert_true(f->nconns < FAKE_MAX_CONNS);
	fc = &f->conns[f->nconns];
	fc->f = f;
	fc->idx = f->nconns;
	f->accept_ms[f->nconns] = now_ms();
	f->nconns++;
	if (f->ssl != NULL)
		fc->bev = bufferevent_openssl_socket_new(f->base, fd,
		    SSL_new(f->ssl), BUFFEREVENT_SSL_ACCEPTING, opts);
	else
		fc->bev = bufferevent_socket_new(f->base, fd, opts);
	assert_non_null(fc->bev);
	fc->is_open = true;
	bufferevent_setcb(fc->bev, fake_read_cb, NULL, fake_event_cb, fc);
	bufferevent_enable(fc->bev, EV_READ | EV_WRITE);
}

static void
fake_start(struct fake *f, struct event_base *base)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->base = base;
	f->seq = 1000;
	f->pdu = malloc(sizeof(*f->pdu));
	assert_non_null(f->pdu);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lis = evconnlistener_new_bind(base, fake_accept_cb, f,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&sin, sizeof(sin));
	assert_non_null(f->lis);
	assert_int_equal(getsockname(evconnlistener_get_fd(f->lis),
	    (struct sockaddr *)&sin, &sl), 0);
	f->port = ntohs(sin.sin_port);
}

static void
fake_stop(struct fake *f)
{
	for (int i = 0; i < f->nconns; i++)
		fake_close(&f->conns[i]);
	if (f->lis != NULL)
		evconnlistener_free(f->lis);
	f->lis = NULL;
	free(f->pdu);
	f->pdu = NULL;
}

/* The newest open connection (the pool's current one with 1 session). */
static struct fconn *
fake_cur(struct fake *f)
{
	for (int i = f->nconns - 1; i >= 0; i--)
		if (f->conns[i].is_open)
			return &f->conns[i];
	return NULL;
}

static void
fake_release(struct fake *f, int k, uint32_t status)
{
	struct fconn	*fc = &f->conns[f->held[k].conn];

	if (fc->is_open)
		fake_answer(fc, f->held[k].cmd, f->held[k].seq, status);
	f->held[k] = f->held[--f->nheld];
}

static void
fake_deliver(struct fconn *fc, uint32_t seq, const char *text)
{
	struct smpp_pdu	*p;

	if (fc == NULL) {
		fail_msg("fake SMSC: no open connection");
		return;
	}
	p = fc->f->pdu;
	smpp_pdu_init(p, SMPP_CMD_DELIVER_SM, seq);
	p->source.ton = 1;
	p->source.npi = 1;
	snprintf(p->source.addr, sizeof(p->source.addr), "15551234567");
	snprintf(p->dest.addr, sizeof(p->dest.addr), "12345");
	p->short_message = (const uint8_t *)text;
	p->sm_length = (uint8_t)strlen(text);
	fake_send(fc, p);
}

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	struct event_base	*base;
	struct event		*watchdog;
	struct fake		 fake;
	struct config_upstream	 cfg;
	struct upstream_pool	*pool;

	/* What the callbacks saw. */
	int			 nresp;
	void			*resp_ctx;
	uint32_t		 resp_status;
	uint32_t		 resp_cmd;
	uint32_t		 resp_seq;
	size_t			 resp_rawlen;
	char			 resp_msgid[65];
	int			 nfail;
	void			*fail_ctx;
	uint32_t		 fail_status;
	int			 nwindow;
	int			 nstate_up;
	int			 nstate_down;
	bool			 is_bound;
	int			 ndeliver;
	char			 deliver_src[65];
	char			 deliver_text[255];
	struct upstream_reply	 reply;
	bool			 is_reply_now;
	uint32_t		 reply_status;
	int			 ndone;
};

#define RUN_UNTIL(fx, cond, ms) do {					\
	uint64_t end_ = now_ms() + (ms);				\
	while (!(cond) && now_ms() < end_)				\
		event_base_loop((fx)->base, EVLOOP_ONCE);		\
} while (0)

static void
run_for(struct fx *fx, unsigned ms)
{
	uint64_t	end = now_ms() + ms;

	while (now_ms() < end)
		event_base_loop(fx->base, EVLOOP_ONCE);
}

/* The fixture of the running test: the per-request callbacks get only
 * their ctx. */
static struct fx	*cur_fx;

static void
cb_resp(void *ctx, const struct smpp_pdu *resp, const uint8_t *raw,
    size_t rawlen)
{
	struct fx	*fx = cur_fx;

	fx->nresp++;
	fx->resp_ctx = ctx;
	fx->resp_status = resp->command_status;
	fx->resp_cmd = resp->command_id;
	fx->resp_seq = resp->sequence_number;
	fx->resp_rawlen = rawlen;
	assert_int_equal(smpp_frame_peek_len(raw), rawlen);
	memcpy(fx->resp_msgid, resp->message_id, sizeof(fx->resp_msgid));
}

static void
cb_fail(void *ctx, uint32_t status)
{
	struct fx	*fx = cur_fx;

	fx->nfail++;
	fx->fail_ctx = ctx;
	fx->fail_status = status;
}

static void
cb_window(void *arg)
{
	((struct fx *)arg)->nwindow++;
}

static void
cb_state(void *arg, bool any)
{
	struct fx	*fx = arg;

	fx->is_bound = any;
	if (any)
		fx->nstate_up++;
	else
		fx->nstate_down++;
}

static void
cb_deliver(void *arg, struct upstream_pool *p, const struct smpp_pdu *pdu,
    const uint8_t *raw, size_t len, const struct upstream_reply *reply)
{
	struct fx	*fx = arg;

	assert_ptr_equal(p, fx->pool);
	assert_int_equal(smpp_frame_peek_len(raw), len);
	fx->ndeliver++;
	memcpy(fx->deliver_src, pdu->source.addr, sizeof(fx->deliver_src));
	memset(fx->deliver_text, 0, sizeof(fx->deliver_text));
	if (pdu->sm_length > 0)
		memcpy(fx->deliver_text, pdu->short_message, pdu->sm_length);
	fx->reply = *reply;
	if (fx->is_reply_now)
		assert_int_equal(upstream_reply_send(reply, fx->reply_status,
		    NULL), 0);
}

static void
cb_done(struct upstream_pool *p, void *arg)
{
	struct fx	*fx = arg;

	assert_ptr_equal(p, fx->pool);
	fx->ndone++;
}

static const struct upstream_req_cbs test_req_cbs = {
	.on_resp = cb_resp,
	.on_fail = cb_fail,
};

/* upstream_pool_submit() with the test's request callbacks. */
static int
submit(struct fx *fx, const uint8_t *buf, size_t n, void *ctx,
    uint64_t affinity)
{
	return upstream_pool_submit(fx->pool, buf, n, &test_req_cbs, ctx,
	    affinity);
}

static const struct upstream_cbs test_cbs = {
	.on_window = cb_window,
	.on_state = cb_state,
	.on_deliver = cb_deliver,
};

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static int
setup(void **state)
{
	struct fx	*fx;
	struct timeval	 tv = { 0, 5000 };

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->base = event_base_new();
	assert_non_null(fx->base);
	/* EVLOOP_ONCE never blocks longer than this. */
	fx->watchdog = event_new(fx->base, -1, EV_PERSIST, watchdog_cb, NULL);
	event_add(fx->watchdog, &tv);
	fake_start(&fx->fake, fx->base);

	snprintf(fx->cfg.name, sizeof(fx->cfg.name), "carrier");
	snprintf(fx->cfg.host, sizeof(fx->cfg.host), "127.0.0.1");
	fx->cfg.port = fx->fake.port;
	snprintf(fx->cfg.system_id, sizeof(fx->cfg.system_id), "acme");
	fx->cfg.password = (char *)(uintptr_t)"secret";
	fx->cfg.bind = CONFIG_BIND_TRANSCEIVER;
	fx->cfg.sessions = 1;
	fx->cfg.window = 10;
	fx->cfg.tls.verify = true;
	fx->cfg.enquire_link_ms = 10000;
	fx->cfg.response_timeout_ms = 2000;
	fx->cfg.reconnect_min_ms = 20;
	fx->cfg.reconnect_max_ms = 200;
	fx->is_reply_now = true;
	cur_fx = fx;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	upstream_pool_free(fx->pool);
	fake_stop(&fx->fake);
	SSL_CTX_free(fx->fake.ssl);
	event_free(fx->watchdog);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void
start_pool(struct fx *fx)
{
	fx->pool = upstream_pool_new(fx->base, &fx->cfg, &test_cbs, fx);
	assert_non_null(fx->pool);
}

static void
start_bound(struct fx *fx)
{
	start_pool(fx);
	RUN_UNTIL(fx, fx->is_bound, 2000);
	assert_true(fx->is_bound);
	assert_true(upstream_pool_is_bound(fx->pool));
}

/* An encoded submit_sm with the client's own sequence number. */
static size_t
make_submit(uint8_t *buf, size_t cap, uint32_t seq, const char *dest)
{
	struct smpp_pdu	*p = malloc(sizeof(*p));
	ssize_t		 n;

	assert_non_null(p);
	smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, seq);
	p->source.ton = 5;
	snprintf(p->source.addr, sizeof(p->source.addr), "Acme");
	p->dest.ton = 1;
	p->dest.npi = 1;
	snprintf(p->dest.addr, sizeof(p->dest.addr), "%s", dest);
	p->short_message = (const uint8_t *)"hello";
	p->sm_length = 5;
	n = smpp_pdu_encode(p, buf, cap);
	free(p);
	assert_true(n > 0);
	return (size_t)n;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_bind_ok(void **state)
{
	struct fx		*fx = *state;
	struct upstream_stats	 st;

	start_bound(fx);
	assert_int_equal(fx->fake.binds, 1);
	assert_int_equal(fx->fake.bind_cmd[0], SMPP_CMD_BIND_TRANSCEIVER);
	assert_string_equal(fx->fake.bind_system_id, "acme");
	assert_string_equal(fx->fake.bind_password, "secret");
	assert_int_equal(fx->fake.bind_iv, 0x34);
	assert_int_equal(fx->nstate_up, 1);
	assert_string_equal(upstream_pool_name(fx->pool), "carrier");
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.bound, 1);
	assert_int_equal(st.connections, 1);
	assert_int_equal(st.reconnects, 0);
}

static void
test_bind_fail_retry(void **state)
{
	struct fx		*fx = *state;
	struct upstream_stats	 st;

	fx->fake.fail_binds = 2;
	fx->fake.fail_status = SMPP_ESME_RINVPASWD;
	start_pool(fx);
	RUN_UNTIL(fx, fx->is_bound, 3000);
	assert_true(fx->is_bound);
	assert_int_equal(fx->fake.binds, 3);
	assert_int_equal(fx->fake.nconns, 3);
	/* Backoff between the attempts: at least reconnect_min_ms. */
	assert_true(fx->fake.accept_ms[1] - fx->fake.accept_ms[0] >= 15);
	assert_true(fx->fake.accept_ms[2] - fx->fake.accept_ms[1] >= 15);
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.bind_failures, 2);
	assert_int_equal(st.reconnects, 2);
	assert_int_equal(fx->nstate_up, 1);
}

static void
test_submit_resp_relayed(void **state)
{
	struct fx		*fx = *state;
	uint8_t			 buf[512], copy[512];
	size_t			 n;
	int			 ctx;
	char			 want[65];
	struct upstream_stats	 st;

	start_bound(fx);
	n = make_submit(buf, sizeof(buf), 777, "15550001111");
	memcpy(copy, buf, n);
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	/* The caller's bytes are untouched. */
	assert_memory_equal(buf, copy, n);
	RUN_UNTIL(fx, fx->nresp == 1, 2000);
	assert_int_equal(fx->nresp, 1);
	assert_ptr_equal(fx->resp_ctx, &ctx);
	assert_int_equal(fx->resp_cmd, SMPP_CMD_SUBMIT_SM_RESP);
	assert_int_equal(fx->resp_status, 0);
	/* The pool's own sequence number went upstream; the message_id is
	 * the SMSC's. */
	assert_int_not_equal(fx->fake.last_submit_seq, 0);
	assert_int_equal(fx->resp_seq, fx->fake.last_submit_seq);
	snprintf(want, sizeof(want), "SMSC-%u",
	    (unsigned)fx->fake.last_submit_seq);
	assert_string_equal(fx->resp_msgid, want);
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.submits_sent, 1);
	assert_int_equal(st.resps_ok, 1);
	assert_int_equal(st.in_flight, 0);
}

static void
test_submit_error_status_relayed(void **state)
{
	struct fx		*fx = *state;
	uint8_t			 buf[512];
	size_t			 n;
	int			 ctx;
	struct upstream_stats	 st;

	start_bound(fx);
	fx->fake.is_holding = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	RUN_UNTIL(fx, fx->fake.nheld == 1, 2000);
	fake_release(&fx->fake, 0, SMPP_ESME_RINVDSTADR);
	RUN_UNTIL(fx, fx->nresp == 1, 2000);
	assert_int_equal(fx->resp_status, SMPP_ESME_RINVDSTADR);
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.resps_err, 1);
}

static void
test_submit_rejects_bad_pdu(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx;

	start_bound(fx);
	n = make_submit(buf, sizeof(buf), 1, "1555");
	/* Length field disagrees. */
	assert_int_equal(submit(fx, buf, n - 1, &ctx, 0),
	    -1);
	assert_int_equal(errno, EINVAL);
	/* Not a forwardable request. */
	buf[7] = 0x15;
	assert_int_equal(submit(fx, buf, n, &ctx, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(submit(fx, buf, 8, &ctx, 0), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_window_full_then_on_window(void **state)
{
	struct fx		*fx = *state;
	uint8_t			 buf[512];
	size_t			 n;
	int			 ctx[3];
	struct upstream_stats	 st;

	fx->cfg.window = 2;
	start_bound(fx);
	fx->fake.is_holding = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx[0], 0),
	    0);
	assert_int_equal(submit(fx, buf, n, &ctx[1], 0),
	    0);
	assert_int_equal(submit(fx, buf, n, &ctx[2], 0),
	    -1);
	assert_int_equal(errno, EAGAIN);
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.in_flight, 2);
	RUN_UNTIL(fx, fx->fake.nheld == 2, 2000);
	assert_int_equal(fx->nwindow, 0);
	fake_release(&fx->fake, 0, 0);
	RUN_UNTIL(fx, fx->nwindow == 1, 2000);
	assert_int_equal(fx->nwindow, 1);
	assert_int_equal(fx->nresp, 1);
	assert_int_equal(submit(fx, buf, n, &ctx[2], 0),
	    0);
	fake_release(&fx->fake, 0, 0);
	RUN_UNTIL(fx, fx->nresp == 2, 2000);
	/* on_window is once per refusal, not per response. */
	assert_int_equal(fx->nwindow, 1);
}

static void
test_response_timeout(void **state)
{
	struct fx		*fx = *state;
	uint8_t			 buf[512];
	size_t			 n;
	int			 ctx;
	struct upstream_stats	 st;
	uint64_t		 t0;

	fx->cfg.response_timeout_ms = 150;
	start_bound(fx);
	fx->fake.is_holding = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	t0 = now_ms();
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	RUN_UNTIL(fx, fx->nfail == 1, 2000);
	assert_int_equal(fx->nfail, 1);
	assert_true(now_ms() - t0 >= 150);
	assert_ptr_equal(fx->fail_ctx, &ctx);
	assert_int_equal(fx->fail_status, UPSTREAM_FAIL_STATUS);
	assert_int_equal(fx->nresp, 0);
	/* Reconnected and bound again. */
	RUN_UNTIL(fx, fx->fake.binds == 2 && fx->is_bound, 2000);
	assert_int_equal(fx->fake.binds, 2);
	assert_true(fx->is_bound);
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.fails, 1);
	/* The late answer on the old connection goes nowhere. */
	assert_int_equal(fx->fake.nheld, 1);
	fake_release(&fx->fake, 0, 0);
	run_for(fx, 50);
	assert_int_equal(fx->nresp, 0);
}

static void
test_smsc_close_fails_in_flight(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx[2];
	uint64_t	 t0;

	fx->cfg.reconnect_min_ms = 100;
	fx->cfg.reconnect_max_ms = 400;
	start_bound(fx);
	fx->fake.is_holding = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx[0], 0),
	    0);
	assert_int_equal(submit(fx, buf, n, &ctx[1], 0),
	    0);
	RUN_UNTIL(fx, fx->fake.nheld == 2, 2000);
	fake_close(fake_cur(&fx->fake));
	t0 = now_ms();
	RUN_UNTIL(fx, fx->nfail == 2, 2000);
	assert_int_equal(fx->nfail, 2);
	assert_int_equal(fx->fail_status, UPSTREAM_FAIL_STATUS);
	assert_false(fx->is_bound);
	assert_int_equal(fx->nstate_down, 1);
	/* Nothing is bound: a sender is told at once. */
	assert_int_equal(submit(fx, buf, n, &ctx[0], 0),
	    -1);
	assert_int_equal(errno, ENOTCONN);
	RUN_UNTIL(fx, fx->is_bound, 2000);
	assert_true(fx->is_bound);
	assert_int_equal(fx->fake.nconns, 2);
	/* Backoff: not before reconnect_min_ms. */
	assert_true(fx->fake.accept_ms[1] - t0 >= 90);
	/* ENOTCONN counts as a refusal: on_window follows the rebind. */
	assert_int_equal(fx->nwindow, 1);
}

static void
test_enquire_link_answered(void **state)
{
	struct fx	*fx = *state;
	struct smpp_pdu	 p;

	start_bound(fx);
	memset(&p, 0, sizeof(p));
	smpp_pdu_init(&p, SMPP_CMD_ENQUIRE_LINK, 4242);
	fake_send(fake_cur(&fx->fake), &p);
	RUN_UNTIL(fx, fx->fake.enq_resp_rx == 1, 2000);
	assert_int_equal(fx->fake.enq_resp_rx, 1);
	assert_int_equal(fx->fake.enq_resp_seq, 4242);
}

static void
test_enquire_link_sent_when_idle(void **state)
{
	struct fx	*fx = *state;

	fx->cfg.enquire_link_ms = 60;
	fx->cfg.response_timeout_ms = 500;
	start_bound(fx);
	RUN_UNTIL(fx, fx->fake.enq_rx >= 3, 2000);
	assert_true(fx->fake.enq_rx >= 3);
	/* Answered: the same connection stays. */
	assert_int_equal(fx->fake.nconns, 1);
	assert_true(fx->is_bound);
}

static void
test_enquire_link_unanswered_reconnects(void **state)
{
	struct fx		*fx = *state;
	struct upstream_stats	 st;

	fx->cfg.enquire_link_ms = 50;
	fx->cfg.response_timeout_ms = 100;
	start_bound(fx);
	fx->fake.is_mute = true;
	RUN_UNTIL(fx, fx->fake.binds == 2, 2000);
	assert_int_equal(fx->fake.binds, 2);
	upstream_pool_stats(fx->pool, &st);
	assert_true(st.timeouts >= 1);
}

static void
test_deliver_reply_now(void **state)
{
	struct fx	*fx = *state;

	start_bound(fx);
	fx->reply_status = 0;
	fake_deliver(fake_cur(&fx->fake), 31, "STOP");
	RUN_UNTIL(fx, fx->fake.dresp_rx == 1, 2000);
	assert_int_equal(fx->ndeliver, 1);
	assert_string_equal(fx->deliver_src, "15551234567");
	assert_string_equal(fx->deliver_text, "STOP");
	assert_int_equal(fx->fake.dresp_cmd, SMPP_CMD_DELIVER_SM_RESP);
	assert_int_equal(fx->fake.dresp_seq, 31);
	assert_int_equal(fx->fake.dresp_status, 0);
}

static void
test_deliver_reply_later(void **state)
{
	struct fx		*fx = *state;
	struct upstream_reply	 r;
	struct upstream_stats	 st;

	start_bound(fx);
	fx->is_reply_now = false;
	fake_deliver(fake_cur(&fx->fake), 32, "STOP");
	RUN_UNTIL(fx, fx->ndeliver == 1, 2000);
	run_for(fx, 20);
	assert_int_equal(fx->fake.dresp_rx, 0);
	r = fx->reply;
	/* E.g. the store failed: the SMSC must redeliver. */
	assert_int_equal(upstream_reply_send(&r, SMPP_ESME_RX_T_APPN, NULL),
	    0);
	RUN_UNTIL(fx, fx->fake.dresp_rx == 1, 2000);
	assert_int_equal(fx->fake.dresp_seq, 32);
	assert_int_equal(fx->fake.dresp_status, SMPP_ESME_RX_T_APPN);
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.delivers, 1);
}

static void
test_data_sm_reply_with_message_id(void **state)
{
	struct fx	*fx = *state;
	struct smpp_pdu	*p;

	start_bound(fx);
	fx->is_reply_now = false;
	p = calloc(1, sizeof(*p));
	assert_non_null(p);
	smpp_pdu_init(p, SMPP_CMD_DATA_SM, 91);
	snprintf(p->source.addr, sizeof(p->source.addr), "15551234567");
	snprintf(p->dest.addr, sizeof(p->dest.addr), "12345");
	assert_int_equal(smpp_pdu_tlv_add(p, SMPP_TLV_MESSAGE_PAYLOAD,
	    "HELP", 4), 0);
	fake_send(fake_cur(&fx->fake), p);
	free(p);
	RUN_UNTIL(fx, fx->ndeliver == 1, 2000);
	assert_int_equal(fx->reply.command_id, SMPP_CMD_DATA_SM);
	assert_int_equal(upstream_reply_send(&fx->reply, 0, "mo-1"), 0);
	RUN_UNTIL(fx, fx->fake.dresp_rx == 1, 2000);
	assert_int_equal(fx->fake.dresp_cmd, SMPP_CMD_DATA_SM_RESP);
	assert_int_equal(fx->fake.dresp_seq, 91);
	assert_string_equal(fx->fake.dresp_msgid, "mo-1");
}

/* A receiver-only SMSC session must not get deliver_sm on the
 * transmitter: answered ESME_RINVBNDSTS, not handed on. */
static void
test_deliver_on_transmitter_refused(void **state)
{
	struct fx	*fx = *state;
	int		 tx = -1;

	fx->cfg.bind = CONFIG_BIND_TX_RX;
	start_pool(fx);
	RUN_UNTIL(fx, fx->fake.binds == 2, 2000);
	run_for(fx, 30);
	for (int i = 0; i < fx->fake.nconns; i++)
		if (fx->fake.bind_cmd[i] == SMPP_CMD_BIND_TRANSMITTER)
			tx = i;
	assert_true(tx >= 0);
	fake_deliver(&fx->fake.conns[tx], 5, "STOP");
	RUN_UNTIL(fx, fx->fake.dresp_rx == 1, 2000);
	assert_int_equal(fx->fake.dresp_status, SMPP_ESME_RINVBNDSTS);
	assert_int_equal(fx->ndeliver, 0);
}

static void
test_bind_resp_timeout(void **state)
{
	struct fx		*fx = *state;
	struct upstream_stats	 st;

	/* The fake never answers the bind: it refuses nothing, it just
	 * holds the connection open without reading. */
	fx->cfg.response_timeout_ms = 100;
	evconnlistener_disable(fx->fake.lis);
	start_pool(fx);
	run_for(fx, 400);
	upstream_pool_stats(fx->pool, &st);
	assert_false(fx->is_bound);
	assert_true(st.bind_failures >= 2);
	assert_true(st.reconnects >= 2);
}

static void
test_reply_after_session_death_is_noop(void **state)
{
	struct fx		*fx = *state;
	struct upstream_reply	 r;

	start_bound(fx);
	fx->is_reply_now = false;
	fake_deliver(fake_cur(&fx->fake), 33, "STOP");
	RUN_UNTIL(fx, fx->ndeliver == 1, 2000);
	r = fx->reply;
	fake_close(fake_cur(&fx->fake));
	RUN_UNTIL(fx, !fx->is_bound, 2000);
	RUN_UNTIL(fx, fx->is_bound, 2000);
	assert_true(fx->is_bound);
	/* A new connection: the old handle must not answer on it. */
	assert_int_equal(upstream_reply_send(&r, 0, NULL), -1);
	assert_int_equal(errno, ENOTCONN);
	run_for(fx, 30);
	assert_int_equal(fx->fake.dresp_rx, 0);
	/* Nor after the pool is gone. */
	upstream_pool_free(fx->pool);
	fx->pool = NULL;
	assert_int_equal(upstream_reply_send(&r, 0, NULL), -1);
	assert_int_equal(errno, ENOTCONN);
}

static void
test_unknown_command_nacked(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 pdu[16] = {
		0, 0, 0, 16, 0, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0x12, 0x34,
	};

	start_bound(fx);
	fake_send_raw(fake_cur(&fx->fake), pdu, sizeof(pdu));
	RUN_UNTIL(fx, fx->fake.nacks_rx == 1, 2000);
	assert_int_equal(fx->fake.nacks_rx, 1);
	assert_int_equal(fx->fake.nack_status, SMPP_ESME_RINVCMDID);
	assert_int_equal(fx->fake.nack_seq, 0x1234);
	run_for(fx, 20);
	/* The session carries on. */
	assert_int_equal(fx->fake.nconns, 1);
	assert_true(fx->is_bound);
}

static void
test_malformed_body_nacked(void **state)
{
	struct fx	*fx = *state;
	/* deliver_sm whose body stops inside service_type (no NUL). */
	uint8_t		 pdu[20] = {
		0, 0, 0, 20, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 77,
		'A', 'B', 'C', 'D',
	};

	start_bound(fx);
	fake_send_raw(fake_cur(&fx->fake), pdu, sizeof(pdu));
	RUN_UNTIL(fx, fx->fake.nacks_rx == 1, 2000);
	assert_int_equal(fx->fake.nacks_rx, 1);
	assert_int_not_equal(fx->fake.nack_status, 0);
	assert_int_equal(fx->fake.nack_seq, 77);
	assert_int_equal(fx->ndeliver, 0);
	run_for(fx, 20);
	assert_int_equal(fx->fake.nconns, 1);
}

static void
test_framing_lost_closes(void **state)
{
	struct fx		*fx = *state;
	/* command_length 8: below the header, framing is gone. */
	uint8_t			 pdu[16] = {
		0, 0, 0, 8, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 9,
	};
	struct upstream_stats	 st;

	start_bound(fx);
	fake_send_raw(fake_cur(&fx->fake), pdu, sizeof(pdu));
	RUN_UNTIL(fx, fx->fake.eofs == 1, 2000);
	assert_int_equal(fx->fake.eofs, 1);
	assert_int_equal(fx->fake.nacks_rx, 1);
	assert_int_equal(fx->fake.nack_status, SMPP_ESME_RINVCMDLEN);
	RUN_UNTIL(fx, fx->fake.binds == 2 && fx->is_bound, 2000);
	assert_int_equal(fx->fake.binds, 2);
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.reconnects, 1);
	assert_true(st.nacks_sent >= 1);
}

static void
test_oversize_pdu_closes(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 pdu[16] = {
		0, 0x10, 0, 1, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 9,
	};

	start_bound(fx);
	fake_send_raw(fake_cur(&fx->fake), pdu, sizeof(pdu));
	RUN_UNTIL(fx, fx->fake.eofs == 1, 2000);
	assert_int_equal(fx->fake.eofs, 1);
	assert_int_equal(fx->fake.nack_status, SMPP_ESME_RINVCMDLEN);
}

static void
test_unbind_from_smsc(void **state)
{
	struct fx	*fx = *state;
	struct smpp_pdu	 p;
	uint8_t		 buf[64];
	ssize_t		 n;

	start_bound(fx);
	memset(&p, 0, sizeof(p));
	smpp_pdu_init(&p, SMPP_CMD_UNBIND, 55);
	n = smpp_pdu_encode(&p, buf, sizeof(buf));
	assert_true(n == 16);
	fake_send_raw(fake_cur(&fx->fake), buf, (size_t)n);
	/* unbind_resp is not tracked by the fake; the pool's close is. */
	RUN_UNTIL(fx, fx->fake.eofs == 1, 2000);
	assert_int_equal(fx->fake.eofs, 1);
	RUN_UNTIL(fx, fx->fake.binds == 2 && fx->is_bound, 2000);
	assert_int_equal(fx->fake.binds, 2);
}

static void
test_affinity_same_session(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx, first;
	bool		 spread = false;

	fx->cfg.sessions = 3;
	start_pool(fx);
	RUN_UNTIL(fx, fx->fake.binds == 3, 2000);
	run_for(fx, 30);
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	for (int i = 0; i < 8; i++)
		assert_int_equal(submit(fx, buf, n, &ctx,
		    0xABCDEF), 0);
	RUN_UNTIL(fx, fx->nresp == 8, 2000);
	first = fx->fake.submit_conn[0];
	for (int i = 1; i < 8; i++)
		assert_int_equal(fx->fake.submit_conn[i], first);
	/* Without affinity the load spreads over the sessions. */
	fx->fake.is_holding = true;
	for (int i = 0; i < 6; i++)
		assert_int_equal(submit(fx, buf, n, &ctx,
		    0), 0);
	RUN_UNTIL(fx, fx->fake.nheld == 6, 2000);
	for (int i = 9; i < 14; i++)
		if (fx->fake.submit_conn[i] != fx->fake.submit_conn[8])
			spread = true;
	assert_true(spread);
}

static void
test_affinity_full_is_eagain(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx;

	fx->cfg.sessions = 2;
	fx->cfg.window = 1;
	start_pool(fx);
	RUN_UNTIL(fx, fx->fake.binds == 2, 2000);
	run_for(fx, 30);
	fx->fake.is_holding = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx, 7), 0);
	/* Its session is full; it must not spill to the other one. */
	assert_int_equal(submit(fx, buf, n, &ctx, 7), -1);
	assert_int_equal(errno, EAGAIN);
	/* Without affinity the other session takes it. */
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
}

static void
test_tx_rx_binds(void **state)
{
	struct fx	*fx = *state;
	int		 ntx = 0, nrx = 0;

	fx->cfg.bind = CONFIG_BIND_TX_RX;
	start_pool(fx);
	RUN_UNTIL(fx, fx->fake.binds == 2, 2000);
	for (int i = 0; i < 2; i++) {
		if (fx->fake.bind_cmd[i] == SMPP_CMD_BIND_TRANSMITTER)
			ntx++;
		if (fx->fake.bind_cmd[i] == SMPP_CMD_BIND_RECEIVER)
			nrx++;
	}
	assert_int_equal(ntx, 1);
	assert_int_equal(nrx, 1);
	RUN_UNTIL(fx, fx->is_bound, 2000);
	assert_true(fx->is_bound);
}

static void
test_no_smsc_enotconn(void **state)
{
	struct fx		*fx = *state;
	uint8_t			 buf[512];
	size_t			 n;
	int			 ctx;
	struct upstream_stats	 st;

	/* Nobody listens there any more. */
	evconnlistener_free(fx->fake.lis);
	fx->fake.lis = NULL;
	start_pool(fx);
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx, 0), -1);
	assert_int_equal(errno, ENOTCONN);
	run_for(fx, 300);
	upstream_pool_stats(fx->pool, &st);
	/* min 20, max 200: a handful of attempts, not a busy loop. */
	assert_true(st.reconnects >= 2);
	assert_true(st.reconnects <= 12);
	assert_false(fx->is_bound);
}

static void
test_graceful_shutdown(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx;

	start_bound(fx);
	fx->fake.is_holding = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	RUN_UNTIL(fx, fx->fake.nheld == 1, 2000);
	assert_int_equal(upstream_pool_shutdown(fx->pool, 2000, cb_done, fx),
	    0);
	assert_int_equal(upstream_pool_shutdown(fx->pool, 2000, cb_done, fx),
	    -1);
	assert_int_equal(errno, EALREADY);
	assert_int_equal(submit(fx, buf, n, &ctx, 0), -1);
	assert_int_equal(errno, ESHUTDOWN);
	run_for(fx, 30);
	/* Waits for the answer before it unbinds. */
	assert_int_equal(fx->fake.unbind_rx, 0);
	assert_int_equal(fx->ndone, 0);
	fake_release(&fx->fake, 0, 0);
	RUN_UNTIL(fx, fx->ndone == 1, 2000);
	assert_int_equal(fx->nresp, 1);
	assert_int_equal(fx->nfail, 0);
	assert_int_equal(fx->fake.unbind_rx, 1);
	assert_int_equal(fx->ndone, 1);
	run_for(fx, 50);
	/* No reconnect after a shutdown. */
	assert_int_equal(fx->fake.nconns, 1);
}

static void
test_shutdown_bounded(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx;
	uint64_t	 t0;

	start_bound(fx);
	fx->fake.is_holding = true;
	fx->fake.is_unbind_mute = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	t0 = now_ms();
	assert_int_equal(upstream_pool_shutdown(fx->pool, 150, cb_done, fx),
	    0);
	RUN_UNTIL(fx, fx->ndone == 1, 2000);
	assert_int_equal(fx->ndone, 1);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(fx->nfail, 1);
}

static void
test_cancel_forgets_ctx(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx;

	start_bound(fx);
	fx->fake.is_holding = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	assert_int_equal(upstream_pool_cancel(fx->pool, &ctx), 2);
	RUN_UNTIL(fx, fx->fake.nheld == 2, 2000);
	fake_release(&fx->fake, 0, 0);
	fake_release(&fx->fake, 0, 0);
	run_for(fx, 50);
	assert_int_equal(fx->nresp, 0);
	assert_int_equal(fx->nfail, 0);
}

static void
test_free_fails_in_flight(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx;

	start_bound(fx);
	fx->fake.is_holding = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	upstream_pool_free(fx->pool);
	fx->pool = NULL;
	assert_int_equal(fx->nfail, 1);
	assert_ptr_equal(fx->fail_ctx, &ctx);
}

static void
test_reconfigure_window_and_reconnect(void **state)
{
	struct fx		*fx = *state;
	struct config_upstream	 ncfg;
	uint8_t			 buf[512];
	size_t			 n;
	int			 ctx;

	fx->cfg.window = 1;
	start_bound(fx);
	fx->fake.is_holding = true;
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	assert_int_equal(submit(fx, buf, n, &ctx, 0), -1);
	/* A bigger window: applies once the table can be resized. */
	ncfg = fx->cfg;
	ncfg.window = 4;
	assert_int_equal(upstream_pool_reconfigure(fx->pool, &ncfg), 0);
	RUN_UNTIL(fx, fx->fake.nheld == 1, 2000);
	fake_release(&fx->fake, 0, 0);
	RUN_UNTIL(fx, fx->nresp == 1, 2000);
	for (int i = 0; i < 4; i++)
		assert_int_equal(submit(fx, buf, n, &ctx,
		    0), 0);
	assert_int_equal(submit(fx, buf, n, &ctx, 0), -1);
	assert_int_equal(errno, EAGAIN);
	RUN_UNTIL(fx, fx->fake.nheld == 4, 2000);
	while (fx->fake.nheld > 0)
		fake_release(&fx->fake, 0, 0);
	RUN_UNTIL(fx, fx->nresp == 5, 2000);

	/* New credentials: drain, unbind, rebind with them. */
	snprintf(ncfg.system_id, sizeof(ncfg.system_id), "acme2");
	assert_int_equal(upstream_pool_reconfigure(fx->pool, &ncfg), 0);
	RUN_UNTIL(fx, fx->fake.binds == 2 && fx->is_bound, 2000);
	assert_int_equal(fx->fake.unbind_rx, 1);
	assert_string_equal(fx->fake.bind_system_id, "acme2");
	assert_int_equal(fx->nfail, 0);

	/* Bad config refused, old one stays. */
	ncfg.window = 0;
	assert_int_equal(upstream_pool_reconfigure(fx->pool, &ncfg), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_reconfigure_sessions(void **state)
{
	struct fx		*fx = *state;
	struct config_upstream	 ncfg;
	struct upstream_stats	 st;

	start_bound(fx);
	ncfg = fx->cfg;
	ncfg.sessions = 2;
	assert_int_equal(upstream_pool_reconfigure(fx->pool, &ncfg), 0);
	RUN_UNTIL(fx, fx->fake.binds == 2, 2000);
	run_for(fx, 30);
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.bound, 2);
	assert_int_equal(st.connections, 2);
	ncfg.sessions = 1;
	assert_int_equal(upstream_pool_reconfigure(fx->pool, &ncfg), 0);
	RUN_UNTIL(fx, fx->fake.unbind_rx == 1, 2000);
	run_for(fx, 50);
	upstream_pool_stats(fx->pool, &st);
	assert_int_equal(st.bound, 1);
	assert_int_equal(st.connections, 1);
	assert_true(fx->is_bound);
	/* The bound session was never dropped. */
	assert_int_equal(fx->nstate_down, 0);
	assert_int_equal(fx->fake.binds, 2);
}

/* A wrong password fixed by a reload is tried at once, not after the
 * backoff that the failures built up. */
static void
test_reconfigure_fixes_password(void **state)
{
	struct fx		*fx = *state;
	struct config_upstream	 ncfg;
	uint64_t		 t0;

	fx->cfg.reconnect_min_ms = 1000;
	fx->cfg.reconnect_max_ms = 5000;
	fx->fake.fail_binds = 1;
	fx->fake.fail_status = SMPP_ESME_RINVPASWD;
	start_pool(fx);
	RUN_UNTIL(fx, fx->fake.binds == 1, 2000);
	run_for(fx, 30);
	ncfg = fx->cfg;
	ncfg.password = (char *)(uintptr_t)"fixed";
	t0 = now_ms();
	assert_int_equal(upstream_pool_reconfigure(fx->pool, &ncfg), 0);
	RUN_UNTIL(fx, fx->is_bound, 2000);
	assert_true(fx->is_bound);
	assert_true(now_ms() - t0 < 500);
	assert_string_equal(fx->fake.bind_password, "fixed");
}

static void
test_many_pdus_one_read(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx;

	fx->cfg.window = 200;
	start_bound(fx);
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	for (int i = 0; i < 200; i++)
		assert_int_equal(submit(fx, buf, n, &ctx,
		    0), 0);
	RUN_UNTIL(fx, fx->nresp == 200, 3000);
	assert_int_equal(fx->nresp, 200);
	assert_int_equal(fx->nfail, 0);
}

/* A rough figure, printed, not asserted: the machine is shared. */
static void
test_throughput(void **state)
{
	struct fx	*fx = *state;
	uint8_t		 buf[512];
	size_t		 n;
	int		 ctx, sent = 0;
	const int	 total = 20000;
	uint64_t	 t0, ms;

	fx->cfg.window = 100;
	start_bound(fx);
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	t0 = now_ms();
	while (fx->nresp < total && now_ms() - t0 < 10000) {
		while (sent < total &&
		    submit(fx, buf, n, &ctx, 0) == 0)
			sent++;
		event_base_loop(fx->base, EVLOOP_ONCE);
	}
	ms = now_ms() - t0;
	assert_int_equal(fx->nresp, total);
	printf("upstream throughput: %d submit/resp round trips in %llu ms "
	    "(%.0f/s, window 100, fake SMSC in the same loop)\n", total,
	    (unsigned long long)ms, ms ? total * 1000.0 / (double)ms : 0.0);
}

/* ---- TLS ---------------------------------------------------------------- */

static char tls_dir[64];
static char tls_cert[128];
static char tls_key[128];

static void
tls_make_cert(void)
{
	EVP_PKEY	*pk;
	X509		*x;
	X509_NAME	*nm;
	X509_EXTENSION	*ext;
	X509V3_CTX	 v3;
	FILE		*fp;

	snprintf(tls_dir, sizeof(tls_dir), "/tmp/sg-ups-XXXXXX");
	assert_non_null(mkdtemp(tls_dir));
	snprintf(tls_cert, sizeof(tls_cert), "%s/cert.pem", tls_dir);
	snprintf(tls_key, sizeof(tls_key), "%s/key.pem", tls_dir);
	pk = EVP_EC_gen("P-256");
	assert_non_null(pk);
	x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"fake-smsc", -1, -1, 0);
	X509_set_issuer_name(x, nm);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "IP:127.0.0.1");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	fp = fopen(tls_cert, "w");
	assert_non_null(fp);
	PEM_write_X509(fp, x);
	fclose(fp);
	fp = fopen(tls_key, "w");
	assert_non_null(fp);
	PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void
tls_remove_cert(void)
{
	unlink(tls_cert);
	unlink(tls_key);
	rmdir(tls_dir);
}

static void
test_tls_ctx_errors(void **state)
{
	struct config_tls	t;
	char			err[256], other_cert[160];
	SSL_CTX			*ctx;
	SSL			*ssl;

	(void)state;
	memset(&t, 0, sizeof(t));
	err[0] = '\0';
	assert_null(tls_server_ctx_new(&t, err, sizeof(err)));
	assert_true(strlen(err) > 0);
	t.cert = (char *)(uintptr_t)"/nonexistent/cert.pem";
	t.key = (char *)(uintptr_t)"/nonexistent/key.pem";
	assert_null(tls_server_ctx_new(&t, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/cert.pem"));
	t.cert = t.key = NULL;
	t.verify = true;
	t.ca = (char *)(uintptr_t)"/nonexistent/ca.pem";
	assert_null(tls_client_ctx_new(&t, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	t.ca = NULL;
	ctx = tls_client_ctx_new(&t, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	assert_true(SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER);
	/* SNI carries a host name, never an address (RFC 6066 §3). */
	ssl = tls_client_ssl_new(ctx, "smsc.example.com", err, sizeof(err));
	assert_non_null(ssl);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
	    "smsc.example.com");
	SSL_free(ssl);
	ssl = tls_client_ssl_new(ctx, "127.0.0.1", err, sizeof(err));
	assert_non_null(ssl);
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	SSL_free(ssl);
	SSL_CTX_free(ctx);

	/* A listener with client_ca demands a client certificate. */
	tls_make_cert();
	memset(&t, 0, sizeof(t));
	t.cert = tls_cert;
	t.key = tls_key;
	ctx = tls_server_ctx_new(&t, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	SSL_CTX_free(ctx);
	t.client_ca = tls_cert;
	ctx = tls_server_ctx_new(&t, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	SSL_CTX_free(ctx);
	/* Key and certificate that do not belong together. */
	t.client_ca = NULL;
	snprintf(other_cert, sizeof(other_cert), "%s-other.pem", tls_dir);
	assert_int_equal(rename(tls_cert, other_cert), 0);
	tls_remove_cert();
	tls_make_cert();
	t.cert = other_cert;
	t.key = tls_key;
	ctx = tls_server_ctx_new(&t, err, sizeof(err));
	assert_null(ctx);
	assert_non_null(strstr(err, "key"));
	unlink(other_cert);
	tls_remove_cert();
}

static void
test_tls_upstream(void **state)
{
	struct fx		*fx = *state;
	struct config_tls	 st;
	char			 err[256];
	uint8_t			 buf[512];
	size_t			 n;
	int			 ctx;

	tls_make_cert();
	memset(&st, 0, sizeof(st));
	st.enabled = true;
	st.cert = tls_cert;
	st.key = tls_key;
	st.client_ca = tls_cert;	/* and require our client cert */
	fx->fake.ssl = tls_server_ctx_new(&st, err, sizeof(err));
	assert_non_null(fx->fake.ssl);

	fx->cfg.tls.enabled = true;
	fx->cfg.tls.verify = true;
	fx->cfg.tls.ca = tls_cert;
	fx->cfg.tls.cert = tls_cert;
	fx->cfg.tls.key = tls_key;
	start_bound(fx);
	n = make_submit(buf, sizeof(buf), 1, "15550001111");
	assert_int_equal(submit(fx, buf, n, &ctx, 0), 0);
	RUN_UNTIL(fx, fx->nresp == 1, 2000);
	assert_int_equal(fx->nresp, 1);
	assert_int_equal(fx->resp_status, 0);
	tls_remove_cert();
}

static void
test_tls_upstream_wrong_ca(void **state)
{
	struct fx		*fx = *state;
	struct config_tls	 st;
	char			 err[256];
	struct upstream_stats	 ust;

	tls_make_cert();
	memset(&st, 0, sizeof(st));
	st.enabled = true;
	st.cert = tls_cert;
	st.key = tls_key;
	fx->fake.ssl = tls_server_ctx_new(&st, err, sizeof(err));
	assert_non_null(fx->fake.ssl);
	/* Verify against the system store: a self-signed SMSC fails. */
	fx->cfg.tls.enabled = true;
	fx->cfg.tls.verify = true;
	start_pool(fx);
	run_for(fx, 300);
	assert_false(fx->is_bound);
	assert_int_equal(fx->fake.binds, 0);
	upstream_pool_stats(fx->pool, &ust);
	assert_true(ust.reconnects >= 1);
	tls_remove_cert();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_bind_ok),
		T(test_bind_fail_retry),
		T(test_submit_resp_relayed),
		T(test_submit_error_status_relayed),
		T(test_submit_rejects_bad_pdu),
		T(test_window_full_then_on_window),
		T(test_response_timeout),
		T(test_smsc_close_fails_in_flight),
		T(test_enquire_link_answered),
		T(test_enquire_link_sent_when_idle),
		T(test_enquire_link_unanswered_reconnects),
		T(test_deliver_reply_now),
		T(test_deliver_reply_later),
		T(test_data_sm_reply_with_message_id),
		T(test_deliver_on_transmitter_refused),
		T(test_bind_resp_timeout),
		T(test_reply_after_session_death_is_noop),
		T(test_unknown_command_nacked),
		T(test_malformed_body_nacked),
		T(test_framing_lost_closes),
		T(test_oversize_pdu_closes),
		T(test_unbind_from_smsc),
		T(test_affinity_same_session),
		T(test_affinity_full_is_eagain),
		T(test_tx_rx_binds),
		T(test_no_smsc_enotconn),
		T(test_graceful_shutdown),
		T(test_shutdown_bounded),
		T(test_cancel_forgets_ctx),
		T(test_free_fails_in_flight),
		T(test_reconfigure_window_and_reconnect),
		T(test_reconfigure_sessions),
		T(test_reconfigure_fixes_password),
		T(test_many_pdus_one_read),
		T(test_throughput),
		cmocka_unit_test(test_tls_ctx_errors),
		T(test_tls_upstream),
		T(test_tls_upstream_wrong_ca),
#undef T
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("UPSTREAM_TEST_DEBUG") != NULL)
		log_set_level(LOG_LEVEL_DEBUG);
	else
		log_set_level(LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
