/*
 * proxy/session: the downstream FSM driven over a socketpair, with a real
 * config and store and no upstream pool (so an allowed submit gets the
 * "no upstream bound" temporary error), plus the pure helpers: constant
 * time password compare, concatenation references, affinity.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/session.h"
#include "proxy/daemon/submit.h"
#include "proxy/daemon/writer.h"
#include "smpp/pdu.h"
#include "store/store.h"

static const char yaml[] =
    "business_name: Test\n"
    "default_country_code: \"1\"\n"
    "store: { path: ./store }\n"
    "listeners:\n"
    "  - bind: 127.0.0.1:2775\n"
    "categories: [promo, billing]\n"
    "accounts:\n"
    "  - system_id: marketing\n"
    "    password: mkpass1\n"
    "    default_category: promo\n"
    "    categories: [promo]\n"
    "upstreams:\n"
    "  - name: carrier\n"
    "    host: 127.0.0.1\n"
    "    port: 2776\n"
    "    system_id: acme\n"
    "    password: secret\n"
    "routes:\n"
    "  - upstream: carrier\n";

struct fixture {
	struct daemon	*d;
	char		 dir[64];
	int		 peer;		/* our end of the socketpair */
	uint32_t	 seq;
};

/* Big structs: keep them off the stack. */
static struct smpp_pdu	out_pdu, in_pdu;
static uint8_t		in_buf[70000];

/* The audit log as committed by the writer: its count, the last in audited. */
static struct store_audit	audited;

static int
audit_one(const struct store_audit *a, void *arg)
{
	(*(int *)arg)++;
	audited = *a;
	return 0;
}

static int
audit_read(struct fixture *f)
{
	int	n = 0;

	daemon_flush(f->d);
	assert_int_equal(store_audit_query(f->d->store, NULL, audit_one, &n),
	    0);
	return n;
}

static int
setup(void **state)
{
	struct fixture		*f;
	struct config_errors	 errs;
	struct store_params	 sp;
	char			 err[256], spath[128];
	size_t			 i;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_session.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->d = calloc(1, sizeof(*f->d));
	assert_non_null(f->d);
	TAILQ_INIT(&f->d->sessions);
	TAILQ_INIT(&f->d->closing);
	f->d->submits = submit_memory_new();
	assert_non_null(f->d->submits);
	f->d->base = event_base_new();
	assert_non_null(f->d->base);
	memset(&errs, 0, sizeof(errs));
	f->d->cfg = config_load_string(yaml, sizeof(yaml) - 1, "test.yaml",
	    f->dir, &errs);
	if (f->d->cfg == NULL && errs.count > 0)
		fail_msg("config: %s", errs.err[0].msg);
	assert_non_null(f->d->cfg);
	f->d->cfg->timeouts.bind_ms = 60000;
	memset(&sp, 0, sizeof(sp));
	sp.map_mb = 16;
	snprintf(spath, sizeof(spath), "%s/store", f->dir);
	f->d->store = store_open(spath, &sp, err, sizeof(err));
	if (f->d->store == NULL)
		fail_msg("store: %s", err);
	f->d->writer = writer_new(f->d->base, f->d->store, err, sizeof(err));
	assert_non_null(f->d->writer);
	f->d->rates = calloc(f->d->cfg->naccounts, sizeof(*f->d->rates));
	assert_non_null(f->d->rates);
	for (i = 0; i < f->d->cfg->naccounts; i++)
		ratelimit_init(&f->d->rates[i], 0, 0, 0);
	f->peer = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	struct session	*s;
	char		 cmd[128];

	while ((s = TAILQ_FIRST(&f->d->sessions)) != NULL)
		session_close(s, "test");
	while ((s = TAILQ_FIRST(&f->d->closing)) != NULL)
		session_free(s);
	if (f->peer != -1)
		close(f->peer);
	writer_free(f->d->writer);
	store_free(f->d->store);
	config_free(f->d->cfg);
	free(f->d->rates);
	submit_memory_free(f->d->submits);
	event_base_free(f->d->base);
	free(f->d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* A session on one end of a socketpair; the test talks on the other. */
static void
connect_session(struct fixture *f)
{
	struct bufferevent	*bev;
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 2, 0 };
	int			 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	evutil_make_socket_nonblocking(sv[0]);
	bev = bufferevent_socket_new(f->d->base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	assert_non_null(bev);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	assert_non_null(session_new(f->d, bev, (struct sockaddr *)&sin,
	    sizeof(sin), false));
	f->peer = sv[1];
	setsockopt(f->peer, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void
spin(struct fixture *f, int turns)
{
	while (turns-- > 0)
		event_base_loop(f->d->base, EVLOOP_NONBLOCK);
}

static void
send_raw(struct fixture *f, const void *buf, size_t len)
{
	assert_int_equal(write(f->peer, buf, len), (ssize_t)len);
	spin(f, 5);
}

static uint32_t
send_pdu(struct fixture *f)
{
	uint8_t	buf[4096];
	ssize_t	n;

	out_pdu.sequence_number = ++f->seq;
	n = smpp_pdu_encode(&out_pdu, buf, sizeof(buf));
	assert_true(n > 0);
	send_raw(f, buf, (size_t)n);
	return out_pdu.sequence_number;
}

/* Read one PDU from the session (running the loop meanwhile). Returns
 * false on EOF. */
static bool
recv_pdu(struct fixture *f)
{
	struct pollfd	pfd = { f->peer, POLLIN, 0 };
	size_t		have = 0, need = 4;
	uint32_t	len;
	ssize_t		n;
	int		i;

	for (i = 0; i < 400 && have < need; i++) {
		spin(f, 2);
		if (poll(&pfd, 1, 5) <= 0)
			continue;
		n = read(f->peer, in_buf + have, need - have);
		if (n <= 0)
			return false;
		have += (size_t)n;
		if (have == 4 && need == 4) {
			len = ((uint32_t)in_buf[0] << 24) |
			    ((uint32_t)in_buf[1] << 16) |
			    ((uint32_t)in_buf[2] << 8) | in_buf[3];
			assert_true(len >= 16 && len <= sizeof(in_buf));
			need = len;
		}
	}
	assert_int_equal(have, need);
	assert_int_equal(smpp_pdu_decode(&in_pdu, in_buf, have), SMPP_OK);
	return true;
}

static bool
peer_closed(struct fixture *f)
{
	struct pollfd	pfd = { f->peer, POLLIN, 0 };
	uint8_t		b[512];
	int		i;

	for (i = 0; i < 400; i++) {
		spin(f, 2);
		if (poll(&pfd, 1, 5) <= 0)
			continue;
		if (read(f->peer, b, sizeof(b)) <= 0)
			return true;
	}
	return false;
}

static void
bind_as(struct fixture *f, uint32_t cmd, const char *id, const char *pw)
{
	smpp_pdu_init(&out_pdu, cmd, 0);
	snprintf(out_pdu.system_id, sizeof(out_pdu.system_id), "%s", id);
	snprintf(out_pdu.password, sizeof(out_pdu.password), "%s", pw);
	out_pdu.interface_version = 0x34;
	send_pdu(f);
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_id, smpp_cmd_resp_id(cmd));
}

static uint32_t
submit_to(struct fixture *f, const char *dest, const char *text)
{
	smpp_pdu_init(&out_pdu, SMPP_CMD_SUBMIT_SM, 0);
	out_pdu.source.ton = 1;
	snprintf(out_pdu.source.addr, sizeof(out_pdu.source.addr), "12345");
	out_pdu.dest.ton = 1;
	snprintf(out_pdu.dest.addr, sizeof(out_pdu.dest.addr), "%s", dest);
	out_pdu.short_message = (const uint8_t *)text;
	out_pdu.sm_length = (uint8_t)strlen(text);
	return send_pdu(f);
}

/* --- FSM ------------------------------------------------------------ */

static void
test_session_bind_ok(void **state)
{
	struct fixture		*f = *state;
	const struct smpp_tlv	*t;

	connect_session(f);
	bind_as(f, SMPP_CMD_BIND_TRANSCEIVER, "marketing", "mkpass1");
	assert_int_equal(in_pdu.command_status, SMPP_OK);
	t = smpp_pdu_tlv_find(&in_pdu, SMPP_TLV_SC_INTERFACE_VERSION);
	assert_non_null(t);
	assert_int_equal(t->value[0], 0x34);
	assert_int_equal(f->d->nsessions, 1);
	/* a second bind on the same session */
	bind_as(f, SMPP_CMD_BIND_TRANSMITTER, "marketing", "mkpass1");
	assert_int_equal(in_pdu.command_status, SMPP_ESME_RALYBND);
}

static void
test_session_bind_refused(void **state)
{
	struct fixture	*f = *state;

	connect_session(f);
	bind_as(f, SMPP_CMD_BIND_TRANSMITTER, "marketing", "wrong");
	assert_int_equal(in_pdu.command_status, SMPP_ESME_RINVPASWD);
	assert_true(peer_closed(f));
	close(f->peer);
	connect_session(f);
	bind_as(f, SMPP_CMD_BIND_RECEIVER, "nobody", "mkpass1");
	assert_int_equal(in_pdu.command_status, SMPP_ESME_RINVSYSID);
	assert_true(peer_closed(f));
	assert_int_equal(f->d->nsessions, 0);
}

static void
test_session_wrong_state_and_unknown(void **state)
{
	struct fixture	*f = *state;
	uint32_t	 seq;

	connect_session(f);
	seq = submit_to(f, "15550001111", "x");
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_id, SMPP_CMD_SUBMIT_SM_RESP);
	assert_int_equal(in_pdu.sequence_number, seq);
	assert_int_equal(in_pdu.command_status, SMPP_ESME_RINVBNDSTS);
	/* enquire_link is fine in any state, sequence echoed */
	smpp_pdu_init(&out_pdu, SMPP_CMD_ENQUIRE_LINK, 0);
	seq = send_pdu(f);
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_id, SMPP_CMD_ENQUIRE_LINK_RESP);
	assert_int_equal(in_pdu.sequence_number, seq);
	/* unknown command id: generic_nack ESME_RINVCMDID */
	{
		uint8_t raw[16] = { 0, 0, 0, 16, 0, 0, 0x07, 0x77, 0, 0, 0, 0,
		    0, 0, 0, 42 };

		send_raw(f, raw, sizeof(raw));
	}
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_id, SMPP_CMD_GENERIC_NACK);
	assert_int_equal(in_pdu.command_status, SMPP_ESME_RINVCMDID);
	assert_int_equal(in_pdu.sequence_number, 42);
}

/* --- limits before bind (SPEC §3, §7) ------------------------------ */

/* Nothing comes from the session for about ms (the loop runs). */
static bool
silent_for(struct fixture *f, int ms)
{
	struct pollfd	pfd = { f->peer, POLLIN, 0 };
	int		i;

	for (i = 0; i < ms / 5; i++) {
		spin(f, 2);
		if (poll(&pfd, 1, 5) > 0)
			return false;
	}
	return true;
}

static void
test_session_garbage_before_bind_closes(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 raw[16] = { 0, 0, 0, 16, 0, 0, 0x07, 0x77, 0, 0, 0,
			    0, 0, 0, 0, 1 };
	int		 i;

	connect_session(f);
	/* Each is nacked; the third closes the connection. */
	for (i = 0; i < 3; i++) {
		raw[15] = (uint8_t)(i + 1);
		send_raw(f, raw, sizeof(raw));
		assert_true(recv_pdu(f));
		assert_int_equal(in_pdu.command_id, SMPP_CMD_GENERIC_NACK);
		assert_int_equal(in_pdu.sequence_number, i + 1);
	}
	assert_true(peer_closed(f));
	assert_int_equal(f->d->counters.bad_pdu_closed, 1);
	assert_int_equal(f->d->nsessions, 0);
}

static void
test_session_garbage_after_bind_stays(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 raw[16] = { 0, 0, 0, 16, 0, 0, 0x07, 0x77, 0, 0, 0,
			    0, 0, 0, 0, 1 };
	int		 i;

	connect_session(f);
	bind_as(f, SMPP_CMD_BIND_TRANSCEIVER, "marketing", "mkpass1");
	assert_int_equal(in_pdu.command_status, SMPP_OK);
	/* A bound department is answered, not cut off. */
	for (i = 0; i < 5; i++) {
		send_raw(f, raw, sizeof(raw));
		assert_true(recv_pdu(f));
		assert_int_equal(in_pdu.command_id, SMPP_CMD_GENERIC_NACK);
	}
	assert_int_equal(f->d->nsessions, 1);
}

/* A bind_transceiver with a 9-character password (SMPP 3.4: 8 at most):
 * a bind_transceiver_resp ESME_RINVPASWD, the connection closed, the
 * failure counted. */
static void
test_session_bind_overlong_password(void **state)
{
	struct fixture	*f = *state;
	static const uint8_t raw[] = {
		0, 0, 0, 42, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 7,
		'm', 'a', 'r', 'k', 'e', 't', 'i', 'n', 'g', 0,
		'1', '2', '3', '4', '5', '6', '7', '8', '9', 0,
		0, 0x34, 0, 0, 0, 0 };

	connect_session(f);
	send_raw(f, raw, sizeof(raw));
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_id, SMPP_CMD_BIND_TRANSCEIVER_RESP);
	assert_int_equal(in_pdu.command_status, SMPP_ESME_RINVPASWD);
	assert_int_equal(in_pdu.sequence_number, 7);
	assert_true(peer_closed(f));
	assert_int_equal(f->d->counters.binds_refused, 1);
}

/*
 * Guessing: three wrong passwords for an account are answered at once;
 * after the fourth, the account's next check waits, so a fifth bind
 * (whatever connection carries it) gets no answer until its slot, while
 * a bind of another key goes through at once. A success forgets only
 * its own key's failures.
 */
static void
test_session_bind_throttle(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	for (i = 0; i < 4; i++) {
		connect_session(f);
		bind_as(f, SMPP_CMD_BIND_TRANSCEIVER, "marketing", "wrong");
		assert_int_equal(in_pdu.command_status, SMPP_ESME_RINVPASWD);
		assert_true(peer_closed(f));
		close(f->peer);
	}
	assert_int_equal(f->d->counters.binds_refused, 4);
	connect_session(f);
	smpp_pdu_init(&out_pdu, SMPP_CMD_BIND_TRANSCEIVER, 0);
	snprintf(out_pdu.system_id, sizeof(out_pdu.system_id), "marketing");
	snprintf(out_pdu.password, sizeof(out_pdu.password), "mkpass1");
	send_pdu(f);
	/* Held: even the right password waits for the account's slot. */
	assert_true(silent_for(f, 200));
	assert_int_equal(f->d->counters.binds_throttled, 1);
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_status, SMPP_OK);
	/* Its success forgot marketing's failures from this address. */
	assert_int_equal(daemon_bind_wait(f->d,
	    "system_id=marketing peer=127.0.0.1", daemon_now_ms() + 1), 0);
}

/* A throttled address key does not hold a bind naming an account. */
static void
test_session_throttle_keys_apart(void **state)
{
	struct fixture	*f = *state;
	uint64_t	 now = daemon_now_ms();
	int		 i;

	for (i = 0; i < 8; i++)
		(void)daemon_bind_failed(f->d, "peer=127.0.0.1",
		    DAEMON_THROTTLE_FREE, now);
	assert_true(daemon_bind_wait(f->d, "peer=127.0.0.1", now) > 0);
	connect_session(f);
	bind_as(f, SMPP_CMD_BIND_TRANSCEIVER, "marketing", "mkpass1");
	assert_int_equal(in_pdu.command_status, SMPP_OK);
	/* And the success did not clear the address's count. */
	assert_true(daemon_bind_wait(f->d, "peer=127.0.0.1", now) > 0);
	close(f->peer);
	/* Many hosts guessing marketing's password: past the account-wide
	 * allowance, its binds from any address wait too. */
	for (i = 0; i < DAEMON_THROTTLE_FREE_ACCOUNT + 1; i++)
		(void)daemon_bind_failed(f->d, "system_id=marketing",
		    DAEMON_THROTTLE_FREE_ACCOUNT, daemon_now_ms());
	connect_session(f);
	smpp_pdu_init(&out_pdu, SMPP_CMD_BIND_TRANSCEIVER, 0);
	snprintf(out_pdu.system_id, sizeof(out_pdu.system_id), "marketing");
	snprintf(out_pdu.password, sizeof(out_pdu.password), "mkpass1");
	send_pdu(f);
	assert_true(silent_for(f, 200));
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_status, SMPP_OK);
}

/* The schedule: nfree (3) free, then 0.5, 1, 2, 4 s, capped at 5 s; forgotten
 * after a quiet minute; a success clears one key only. */
static void
test_throttle_schedule(void **state)
{
	struct daemon	*d;
	uint64_t	 t = 1000000;
	static const uint64_t waits[] = { 0, 0, 0, 500, 1000, 2000, 4000,
	    5000, 5000 };
	size_t		 i;

	(void)state;
	assert_non_null(d = calloc(1, sizeof(*d)));
	for (i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		assert_int_equal(daemon_bind_wait(d, "system_id=a", t), 0);
		(void)daemon_bind_failed(d, "system_id=a", 3, t);
		assert_int_equal(daemon_bind_wait(d, "system_id=a", t),
		    waits[i]);
		t += waits[i];
	}
	/* Back to the last failure of a. */
	t -= 5000;
	(void)daemon_bind_failed(d, "system_id=b", 3, t);
	daemon_bind_succeeded(d, "system_id=b");
	assert_int_equal(daemon_bind_wait(d, "system_id=a", t), 5000);
	/* Quiet for a minute: starts over. */
	assert_int_equal(daemon_bind_wait(d, "system_id=a", t + 61000), 0);
	(void)daemon_bind_failed(d, "system_id=a", 3, t + 61000);
	assert_int_equal(daemon_bind_wait(d, "system_id=a", t + 61000), 0);
	free(d);
}

/* Another peer on the fixture's loop (connect_session keeps one). */
static int
connect_extra(struct fixture *f)
{
	int	keep = f->peer, fd;

	connect_session(f);
	fd = f->peer;
	f->peer = keep;
	return fd;
}

/*
 * Idle connections from one address beyond its cap: each newcomer takes
 * the place of the oldest that has not sent a bind, so a department can
 * always connect and bind.
 */
static void
test_session_unbound_cap_evicts_idle(void **state)
{
	struct fixture	*f = *state;
	struct pollfd	 pfd;
	uint8_t		 b[64];
	int		 idle[3], extra, i;

	f->d->cfg->max_unbound_per_address = 2;
	for (i = 0; i < 3; i++)
		idle[i] = connect_extra(f);
	spin(f, 5);
	assert_int_equal(f->d->counters.unbound_evicted, 1);
	assert_int_equal(f->d->nsessions, 2);
	/* The oldest went. */
	pfd.fd = idle[0];
	pfd.events = POLLIN;
	for (i = 0; i < 100 && poll(&pfd, 1, 5) == 0; i++)
		spin(f, 2);
	assert_int_equal(read(idle[0], b, sizeof(b)), 0);
	/* A department binds through it all. */
	connect_session(f);
	bind_as(f, SMPP_CMD_BIND_TRANSCEIVER, "marketing", "mkpass1");
	assert_int_equal(in_pdu.command_status, SMPP_OK);
	assert_int_equal(f->d->counters.unbound_evicted, 2);
	/* Bound sessions do not count: two more idle ones fit. */
	extra = connect_extra(f);
	assert_int_equal(f->d->counters.unbound_evicted, 2);
	close(extra);
	for (i = 0; i < 3; i++)
		close(idle[i]);
}

/* A full cap takes a bind held by the throttle (a guess) before an idle
 * connection, which may be a department whose bind is not read yet. */
static void
test_session_unbound_cap_evicts_guess_first(void **state)
{
	struct fixture	*f = *state;
	int		 idle, late, i;

	f->d->cfg->max_unbound_per_address = 2;
	for (i = 0; i < 8; i++)
		(void)daemon_bind_failed(f->d, "peer=127.0.0.1",
		    DAEMON_THROTTLE_FREE, daemon_now_ms());
	connect_session(f);
	smpp_pdu_init(&out_pdu, SMPP_CMD_BIND_TRANSCEIVER, 0);
	snprintf(out_pdu.system_id, sizeof(out_pdu.system_id), "nobody");
	snprintf(out_pdu.password, sizeof(out_pdu.password), "guess");
	send_pdu(f);
	assert_true(silent_for(f, 50));
	idle = connect_extra(f);
	late = connect_extra(f);
	assert_int_equal(f->d->counters.unbound_evicted, 1);
	/* The guess went, unanswered; the idle one stays. */
	assert_true(peer_closed(f));
	assert_int_equal(f->d->nsessions, 2);
	close(idle);
	close(late);
}

static const uint8_t sha_buy_now[32] = {
	0xa7, 0x21, 0x9a, 0x05, 0xdc, 0xcd, 0xd3, 0xe8,
	0x9b, 0x58, 0xbd, 0x0e, 0x6f, 0x88, 0x97, 0x3b,
	0x5d, 0x34, 0x1d, 0x3c, 0xe9, 0xbd, 0x61, 0xdf,
	0x4d, 0xc8, 0x88, 0x73, 0xfa, 0x3d, 0xed, 0x3c,
};

static void
test_session_optout_rejected_and_audited(void **state)
{
	struct fixture		*f = *state;
	struct store_event	 ev;
	uint32_t		 seq;

	memset(&ev, 0, sizeof(ev));
	ev.time = (int64_t)time(NULL);
	snprintf(ev.number, sizeof(ev.number), "15550002222");
	ev.action = STORE_OPT_OUT;
	ev.ncategories = 1;
	snprintf(ev.categories[0], sizeof(ev.categories[0]), "promo");
	ev.source = STORE_SRC_STAFF;
	assert_int_equal(store_optout_apply(f->d->store, &ev), 0);

	connect_session(f);
	bind_as(f, SMPP_CMD_BIND_TRANSCEIVER, "marketing", "mkpass1");
	assert_int_equal(in_pdu.command_status, SMPP_OK);
	seq = submit_to(f, "15550002222", "buy now");
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.sequence_number, seq);
	assert_int_equal(in_pdu.command_status, 0x401);
	assert_int_equal(audit_read(f), 1);
	assert_string_equal(audited.account, "marketing");
	assert_string_equal(audited.category, "promo");
	assert_string_equal(audited.destination, "15550002222");
	assert_int_equal(audited.body_len, 7);
	/* SHA-256 of "buy now": the body itself is never stored */
	assert_memory_equal(audited.body_sha256, sha_buy_now, 32);
	assert_int_equal(audited.event_id, ev.id);
	/* allowed, but no upstream bound: temporary error at once */
	seq = submit_to(f, "15550003333", "hello");
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.sequence_number, seq);
	assert_int_equal(in_pdu.command_status, SMPP_ESME_RTHROTTLED);
	assert_int_equal(audit_read(f), 1);
	/* an alphanumeric destination cannot be checked: refused */
	smpp_pdu_init(&out_pdu, SMPP_CMD_SUBMIT_SM, 0);
	out_pdu.dest.ton = 1;
	snprintf(out_pdu.dest.addr, sizeof(out_pdu.dest.addr), "abc");
	send_pdu(f);
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_status, SMPP_ESME_RINVDSTADR);
}

static void
test_session_unbind_closes(void **state)
{
	struct fixture	*f = *state;
	uint32_t	 seq;

	connect_session(f);
	bind_as(f, SMPP_CMD_BIND_TRANSMITTER, "marketing", "mkpass1");
	smpp_pdu_init(&out_pdu, SMPP_CMD_UNBIND, 0);
	seq = send_pdu(f);
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_id, SMPP_CMD_UNBIND_RESP);
	assert_int_equal(in_pdu.sequence_number, seq);
	assert_true(peer_closed(f));
}

static void
test_session_framing_lost(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 big[16] = { 0, 0, 0x08, 0, 0, 0, 0, 2, 0, 0, 0, 0,
			    0, 0, 0, 1 };	/* 2048 bytes before bind */
	uint8_t		 tiny[4] = { 0, 0, 0, 3 };

	connect_session(f);
	send_raw(f, big, sizeof(big));
	assert_true(recv_pdu(f));
	assert_int_equal(in_pdu.command_id, SMPP_CMD_GENERIC_NACK);
	assert_int_equal(in_pdu.command_status, SMPP_ESME_RINVCMDLEN);
	assert_true(peer_closed(f));
	close(f->peer);
	connect_session(f);
	send_raw(f, tiny, sizeof(tiny));
	assert_true(peer_closed(f));
}

/*
 * A client that sends enquire_links without reading the answers: once
 * the answers queued for it pass the high watermark the session stops
 * reading (our writes then block), and when the client reads again every
 * answer arrives.
 */
static void
test_session_output_backpressure(void **state)
{
	struct fixture	*f = *state;
	static uint8_t	 data[40000 * 16];
	size_t		 n = sizeof(data) / 16, sent = 0, got = 0, i;
	int		 stuck = 0, fl, sz = 4096;
	ssize_t		 k;
	uint8_t		 buf[65536];

	for (i = 0; i < n; i++) {
		uint8_t *p = data + i * 16;

		memset(p, 0, 16);
		p[3] = 16;
		p[7] = 0x15;		/* enquire_link */
		p[12] = (uint8_t)((i + 1) >> 24);
		p[13] = (uint8_t)((i + 1) >> 16);
		p[14] = (uint8_t)((i + 1) >> 8);
		p[15] = (uint8_t)(i + 1);
	}
	connect_session(f);
	setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(f->peer, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	fl = fcntl(f->peer, F_GETFL);
	fcntl(f->peer, F_SETFL, fl | O_NONBLOCK);
	while (sent < sizeof(data) && stuck < 200) {
		k = write(f->peer, data + sent, sizeof(data) - sent);
		if (k > 0) {
			sent += (size_t)k;
			stuck = 0;
		} else
			stuck++;
		spin(f, 2);
	}
	/* 640 KB of requests, whose answers fill more than the 256 KiB
	 * watermark: the session must have stopped reading. */
	assert_true(sent < sizeof(data));
	while (got < n * 16 && stuck < 4000) {
		if (sent < sizeof(data) &&
		    (k = write(f->peer, data + sent, sizeof(data) - sent)) > 0)
			sent += (size_t)k;
		k = read(f->peer, buf, sizeof(buf));
		if (k > 0) {
			got += (size_t)k;
			stuck = 0;
		} else
			stuck++;
		spin(f, 2);
	}
	assert_int_equal(sent, sizeof(data));
	assert_int_equal(got, n * 16);
	assert_int_equal(f->d->nsessions, 1);
}

/* --- helpers ---------------------------------------------------------- */

static void
test_session_password_equal(void **state)
{
	(void)state;
	assert_true(session_password_equal("mkpass1", "mkpass1"));
	assert_false(session_password_equal("mkpass1", "mkpass2"));
	assert_false(session_password_equal("mkpass1", "mkpass"));
	assert_false(session_password_equal("mkpass1", ""));
	assert_true(session_password_equal("", ""));
	assert_true(session_password_equal("12345678", "12345678"));
	/* longer than the 8-character field: can never match */
	assert_false(session_password_equal("123456789", "12345678"));
	assert_false(session_password_equal(NULL, ""));
}

static void
test_submit_concat_ref(void **state)
{
	static const uint8_t	udh8[] = { 5, 0x00, 3, 0x42, 2, 1, 'h' };
	static const uint8_t	udh16[] = { 6, 0x08, 4, 0x12, 0x34, 2, 1,
				    'h' };
	static const uint8_t	other_ie[] = { 11, 0x05, 4, 0, 0, 0, 0,
				    0x00, 3, 0x07, 2, 2, 'x' };
	static const uint8_t	bad[] = { 9, 0x00, 3, 0x42 };
	static const uint8_t	sar[2] = { 0xAB, 0xCD };
	uint32_t		ref;

	(void)state;
	smpp_pdu_init(&in_pdu, SMPP_CMD_SUBMIT_SM, 1);
	in_pdu.esm_class = SMPP_ESM_UDHI;
	in_pdu.short_message = udh8;
	in_pdu.sm_length = sizeof(udh8);
	assert_true(submit_concat_ref(&in_pdu, &ref));
	assert_int_equal(ref, 0x42);
	in_pdu.short_message = udh16;
	in_pdu.sm_length = sizeof(udh16);
	assert_true(submit_concat_ref(&in_pdu, &ref));
	assert_int_equal(ref, 0x11234);
	in_pdu.short_message = other_ie;
	in_pdu.sm_length = sizeof(other_ie);
	assert_true(submit_concat_ref(&in_pdu, &ref));
	assert_int_equal(ref, 0x07);
	/* UDHL past the body: no reference, no overread */
	in_pdu.short_message = bad;
	in_pdu.sm_length = sizeof(bad);
	assert_false(submit_concat_ref(&in_pdu, &ref));
	/* without UDHI the bytes are text */
	in_pdu.esm_class = 0;
	in_pdu.short_message = udh8;
	in_pdu.sm_length = sizeof(udh8);
	assert_false(submit_concat_ref(&in_pdu, &ref));
	/* SAR TLV */
	assert_int_equal(smpp_pdu_tlv_add(&in_pdu, SMPP_TLV_SAR_MSG_REF_NUM,
	    sar, 2), 0);
	assert_true(submit_concat_ref(&in_pdu, &ref));
	assert_int_equal(ref, 0x1ABCD);
}

static void
test_submit_affinity(void **state)
{
	uint64_t	a;

	(void)state;
	a = submit_affinity("marketing", "15550001111", 7);
	assert_true(a != 0);
	assert_true(a == submit_affinity("marketing", "15550001111", 7));
	assert_true(a != submit_affinity("marketing", "15550001111", 8));
	assert_true(a != submit_affinity("frontdesk", "15550001111", 7));
	assert_true(a != submit_affinity("marketing", "15550001112", 7));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_bind_ok,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_bind_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_wrong_state_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_optout_rejected_and_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_unbind_closes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_framing_lost,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_output_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_garbage_before_bind_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_garbage_after_bind_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_bind_overlong_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_bind_throttle,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_throttle_keys_apart, setup, teardown),
		cmocka_unit_test(test_throttle_schedule),
		cmocka_unit_test_setup_teardown(
		    test_session_unbound_cap_evicts_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_unbound_cap_evicts_guess_first, setup,
		    teardown),
		cmocka_unit_test(test_session_password_equal),
		cmocka_unit_test(test_submit_concat_ref),
		cmocka_unit_test(test_submit_affinity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
