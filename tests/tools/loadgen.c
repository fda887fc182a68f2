/*
 * loadgen: SMPP submit_sm load generator for benchmarks.
 *
 *   loadgen [-a HOST] [-p PORT] [-n SESSIONS] [-w WINDOW] [-u SYSTEM_ID]
 *           [-P PASSWORD] [-d SECONDS] [-W WARMUP] [-N COUNT] [-R RATE]
 *           [-b BASE] [-r RANGE] [-m ONE_IN] [-o fwd|rej|any] [-x STATUS]
 *           [-C PID]... [-c CTLPORT] [-s STOPS_PER_S] [-f STOP_BASE]
 *           [-t INBOUND] [-T SYSTEM_ID] [-K STOPS] [-O] [-A FILE] [-i] [-B]
 *           [-l LABEL]
 *
 * Binds SESSIONS transmitter sessions to HOST:PORT and keeps WINDOW
 * submit_sm outstanding on each. Every submit is a copy of one pre-encoded
 * template with its sequence number and destination patched in: nothing is
 * allocated per message. Each session remembers the sequence numbers it has
 * outstanding in a ring, so every response is matched to its submit (an
 * unknown, duplicate or missing response is an error) and timed.
 *
 * Destinations are BASE + x for x in [0, RANGE). Every ONE_IN-th number
 * (x % ONE_IN == 0) is the opted-out share, as loaded by store_fill; -o fwd
 * draws only the others, -o rej only those, -o any both. A response status
 * of STATUS (default 0x401) counts as a rejection: expected with -o rej,
 * an error with -o fwd.
 *
 * A run binds, sends for WARMUP seconds unmeasured, then measures for
 * SECONDS, then stops sending and waits for every outstanding response.
 * With -N it instead sends COUNT submits in all and stops (no warmup).
 * -R caps the total rate (token bucket, 10 ms deep). -C samples the CPU
 * time (utime + stime from /proc/PID/stat) of another process over the
 * measured window. -i binds and holds the sessions idle for SECONDS. -B
 * also binds one receiver session (same credentials) that answers every
 * deliver_sm, so that MOs to the account have somewhere to go. SIGUSR1
 * ends the measured window early (as if SECONDS had passed), so a script
 * can measure "while something else happens" with a large SECONDS; -A
 * creates FILE when the measured window starts, for it to wait on.
 *
 * -c connects to an smsc_sim control port and, while measuring, pushes
 * STOP_PER_S "STOP" MOs (from STOP_BASE + k to INBOUND, default 12345),
 * one at a time, timing each from the push to the "resp" line that reports
 * the deliver_sm_resp. -T sends them to the ESME bound with that system_id
 * (the simulator's "to=" option) rather than to any bound receiver.
 * -O pushes open loop instead: at STOPS_PER_S whether or not earlier STOPs
 * were answered (each matched to its "resp" by the sequence number of the
 * simulator's "ok" line), and the drain also waits for their answers. -K
 * caps the STOPs pushed in all.
 *
 * Latency is reported as p50/p99/p999 of the histogram and as the exact
 * maximum (max_us, stop_max_ms): the largest round trip seen, the one a
 * stall of the relay shows as.
 *
 * Output: one "key=value ..." line (see report()). Exit status 0 when the
 * run had no error, 1 when it had some, 2 on a usage or setup error.
 *
 * One thread, plain epoll, non-blocking sockets: the generator should cost
 * as little CPU as it can, since it shares the machine with what it loads.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LG_MAX_SESSIONS		20000
#define LG_MAX_CPU_PIDS		4
#define LG_IBUF_LEN		(128 * 1024)
#define LG_DST_DIGITS		11
#define LG_HIST_US		100000	/* 1 us buckets up to 100 ms */
#define LG_HIST_MS		60000	/* then 1 ms buckets up to 60 s */
#define LG_DRAIN_NS		(5 * 1000000000LL)
#define LG_BIND_NS		(30 * 1000000000LL)
#define LG_STOP_TIMEOUT_NS	(5 * 1000000000LL)
#define LG_STOPS_MAX		100000	/* -O: STOPs tracked in all */

#define CMD_BIND_RECEIVER		0x00000001u
#define CMD_BIND_RECEIVER_RESP		0x80000001u
#define CMD_BIND_TRANSMITTER		0x00000002u
#define CMD_BIND_TRANSMITTER_RESP	0x80000002u
#define CMD_SUBMIT_SM			0x00000004u
#define CMD_SUBMIT_SM_RESP		0x80000004u
#define CMD_DELIVER_SM			0x00000005u
#define CMD_UNBIND			0x00000006u
#define CMD_UNBIND_RESP			0x80000006u
#define CMD_ENQUIRE_LINK		0x00000015u
#define CMD_GENERIC_NACK		0x80000000u

enum lg_mode {
	LG_MODE_FWD = 0,
	LG_MODE_REJ,
	LG_MODE_ANY,
};

enum lg_phase {
	LG_PHASE_BIND = 0,
	LG_PHASE_WARMUP,
	LG_PHASE_MEASURE,
	LG_PHASE_DRAIN,
	LG_PHASE_DONE,
};

enum lg_sess_state {
	LG_SESS_CONNECTING = 0,
	LG_SESS_BINDING,
	LG_SESS_BOUND,
	LG_SESS_DEAD,
};

struct lg_slot {
	uint32_t	 seq;		/* 0: free */
	int64_t		 sent_ns;
	bool		 is_measured;
};

struct lg_hist {
	uint64_t	 us[LG_HIST_US];
	uint64_t	 ms[LG_HIST_MS + 1];
	uint64_t	 n;
};

struct lg_sess {
	int		 kind;		/* 0: session, 1: control; first */
	int		 fd;
	enum lg_sess_state state;
	bool		 is_receiver;	/* -B: binds rx, never submits */
	uint32_t	 next_seq;
	unsigned	 outstanding;
	struct lg_slot	*ring;		/* owned, ring_mask + 1 slots */
	uint32_t	 ring_mask;
	uint8_t		*obuf;		/* owned */
	size_t		 olen, ooff, ocap;
	bool		 is_wanting_out;
	uint8_t		 ibuf[LG_IBUF_LEN];
	size_t		 ilen;
};

/* -O: one STOP pushed open loop. */
struct lg_stop {
	int64_t		 sent_ns;
	uint32_t	 seq;		/* the simulator's, from "ok SEQ" */
	uint8_t		 state;		/* enum lg_stop_state */
};

enum lg_stop_state {
	LG_STOP_OK_WAIT = 0,		/* pushed, "ok SEQ" not seen yet */
	LG_STOP_RESP_WAIT,		/* "ok" seen, "resp" not yet */
	LG_STOP_DONE,
};

struct lg_ctl {
	int		 kind;		/* 1 */
	int		 fd;
	bool		 is_waiting;	/* a STOP is outstanding */
	int64_t		 sent_ns;
	int64_t		 next_ns;
	uint64_t	 k;		/* STOPs pushed */
	struct lg_stop	*stops;		/* -O: owned, LG_STOPS_MAX */
	uint64_t	 ok_next;	/* -O: next push awaiting "ok" */
	uint64_t	 open_low;	/* -O: no open push below this */
	uint64_t	 nopen;		/* -O: pushed, not answered */
	char		 ibuf[4096];
	size_t		 ilen;
};

struct lg_opts {
	const char	*host;
	int		 port;
	unsigned	 nsessions;	/* transmitters */
	unsigned	 nall;		/* plus the receiver of -B */
	unsigned	 window;
	const char	*system_id;
	const char	*password;
	double		 secs;
	double		 warmup;
	uint64_t	 count;		/* 0: duration based */
	double		 rate;		/* 0: unlimited */
	uint64_t	 base;
	uint64_t	 range;
	uint64_t	 one_in;
	enum lg_mode	 mode;
	uint32_t	 reject_status;
	int		 cpu_pids[LG_MAX_CPU_PIDS];
	int		 ncpu_pids;
	int		 ctl_port;
	double		 stops_per_s;
	uint64_t	 stop_base;
	const char	*inbound;
	const char	*stop_to;	/* NULL: any bound receiver */
	uint64_t	 stops_max;	/* 0: no cap */
	bool		 is_open_loop;	/* -O */
	const char	*announce;	/* -A: created when measuring */
	bool		 is_idle;
	bool		 has_receiver;
	const char	*label;
};

struct lg {
	struct lg_opts	 o;
	int		 ep;
	struct lg_sess	*sess;		/* owned, o.nall */
	struct lg_ctl	 ctl;
	enum lg_phase	 phase;
	int64_t		 now;
	int64_t		 t_start;	/* bind start */
	int64_t		 t_measure;	/* measure start */
	int64_t		 t_end;		/* measure end */
	int64_t		 t_phase_end;
	uint64_t	 rng;
	double		 tokens;
	int64_t		 t_tokens;
	uint64_t	 sent;		/* submits written, all phases */
	uint8_t		 tmpl[256];
	size_t		 tmpl_len;
	size_t		 tmpl_dst;	/* offset of the destination digits */
	unsigned	 nbound;
	/* figures */
	uint64_t	 resp_measured;
	uint64_t	 resp_all;
	uint64_t	 status_ok;
	uint64_t	 status_rej;
	uint64_t	 status_other;
	uint32_t	 last_bad_status;
	uint64_t	 seq_errors;
	uint64_t	 proto_errors;
	uint64_t	 lost;
	uint64_t	 dead_sessions;
	uint64_t	 ring_stalls;
	uint64_t	 stop_errors;
	uint64_t	 stop_timeouts;
	uint64_t	 cpu_ticks0[LG_MAX_CPU_PIDS];
	double		 cpu_s[LG_MAX_CPU_PIDS];
	int64_t		 self_cpu0_ns;
	double		 self_cpu_s;	/* our own CPU over the window */
	int64_t		 lat_max_ns;	/* measured submits */
	int64_t		 stop_max_ns;
	struct lg_hist	 lat;
	struct lg_hist	 stop_lat;
	/* Every STOP's round trip, exact, so the bench can pool rounds: at
	 * 60 STOPs a round a round's own p99 is its maximum. */
	uint32_t	*stop_us;	/* owned */
	size_t		 nstop_us, stop_us_cap;
};

static volatile sig_atomic_t is_interrupted;
static volatile sig_atomic_t is_end_wanted;	/* SIGUSR1 */

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		is_end_wanted = 1;
	else
		is_interrupted = 1;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Append a C-Octet string; returns the new offset. */
static size_t
put_cstr(uint8_t *buf, size_t off, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(buf + off, s, n);
	return off + n;
}

/* ---- histogram ----------------------------------------------------- */

static void
hist_add(struct lg_hist *h, int64_t ns)
{
	int64_t us = ns / 1000;

	if (us < 0)
		us = 0;
	if (us < LG_HIST_US)
		h->us[us]++;
	else if (us / 1000 < LG_HIST_MS)
		h->ms[us / 1000]++;
	else
		h->ms[LG_HIST_MS]++;
	h->n++;
}

/* The q-quantile in microseconds (0 when empty). */
static double
hist_quantile(const struct lg_hist *h, double q)
{
	uint64_t want, seen = 0;
	size_t i;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (i = 0; i < LG_HIST_US; i++) {
		seen += h->us[i];
		if (seen > want)
			return (double)i + 0.5;
	}
	for (i = 0; i <= LG_HIST_MS; i++) {
		seen += h->ms[i];
		if (seen > want)
			return (double)i * 1000.0 + 500.0;
	}
	return (double)LG_HIST_MS * 1000.0;
}

/* ---- CPU time of another process ------------------------------------ */

/* utime + stime of pid in clock ticks, or -1. */
static int64_t
cpu_ticks(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields follow the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	/* After ')': field 3 (state) ... utime is field 14, stime 15. */
	for (i = 3; i < 14 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu %llu", &ut, &st) != 2)
		return -1;
	return (int64_t)(ut + st);
}

static void
cpu_sample(struct lg *g, bool is_end)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	struct timespec ts;
	int64_t t;
	int i;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	t = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (!is_end)
		g->self_cpu0_ns = t;
	else
		g->self_cpu_s = (double)(t - g->self_cpu0_ns) / 1e9;

	for (i = 0; i < g->o.ncpu_pids; i++) {
		t = cpu_ticks(g->o.cpu_pids[i]);
		if (t < 0) {
			g->cpu_s[i] = -1;
			continue;
		}
		if (!is_end)
			g->cpu_ticks0[i] = (uint64_t)t;
		else
			g->cpu_s[i] = (double)((uint64_t)t -
			    g->cpu_ticks0[i]) / hz;
	}
}

/* ---- PDUs ---------------------------------------------------------- */

static void
tmpl_build(struct lg *g)
{
	static const char text[] = "Bench offer: 20% off this week, reply "
	    "STOP to opt out";
	uint8_t *b = g->tmpl;
	size_t off = 16, i;

	off = put_cstr(b, off, "");		/* service_type */
	b[off++] = 1;				/* source_addr_ton */
	b[off++] = 1;				/* source_addr_npi */
	off = put_cstr(b, off, "15550000");
	b[off++] = 1;				/* dest_addr_ton: intl */
	b[off++] = 1;				/* dest_addr_npi */
	g->tmpl_dst = off;
	for (i = 0; i < LG_DST_DIGITS; i++)
		b[off++] = '0';
	b[off++] = '\0';
	b[off++] = 0;				/* esm_class */
	b[off++] = 0;				/* protocol_id */
	b[off++] = 0;				/* priority_flag */
	off = put_cstr(b, off, "");		/* schedule_delivery_time */
	off = put_cstr(b, off, "");		/* validity_period */
	b[off++] = 0;				/* registered_delivery */
	b[off++] = 0;				/* replace_if_present_flag */
	b[off++] = 0;				/* data_coding */
	b[off++] = 0;				/* sm_default_msg_id */
	b[off++] = (uint8_t)(sizeof(text) - 1);	/* sm_length */
	memcpy(b + off, text, sizeof(text) - 1);
	off += sizeof(text) - 1;
	put32(b, (uint32_t)off);
	put32(b + 4, CMD_SUBMIT_SM);
	put32(b + 8, 0);
	put32(b + 12, 0);
	g->tmpl_len = off;
}

/* The next destination offset x in [0, range) for the mode. */
static uint64_t
dest_draw(struct lg *g)
{
	uint64_t x;

	switch (g->o.mode) {
	case LG_MODE_REJ:
		return (rnd(&g->rng) % (g->o.range / g->o.one_in)) *
		    g->o.one_in;
	case LG_MODE_FWD:
		x = rnd(&g->rng) % g->o.range;
		/* range is a multiple of one_in: x + 1 stays inside. */
		if (x % g->o.one_in == 0)
			x++;
		return x;
	case LG_MODE_ANY:
	default:
		return rnd(&g->rng) % g->o.range;
	}
}

static void
dest_patch(uint8_t *p, uint64_t v)
{
	int i;

	for (i = LG_DST_DIGITS - 1; i >= 0; i--) {
		p[i] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
}

static int
sess_out_reserve(struct lg_sess *s, size_t n)
{
	uint8_t *nb;
	size_t cap;

	if (s->ooff > 0 && s->ooff == s->olen)
		s->ooff = s->olen = 0;
	if (s->olen + n <= s->ocap)
		return 0;
	if (s->ooff > 0) {
		memmove(s->obuf, s->obuf + s->ooff, s->olen - s->ooff);
		s->olen -= s->ooff;
		s->ooff = 0;
		if (s->olen + n <= s->ocap)
			return 0;
	}
	cap = s->ocap * 2 + n;
	if ((nb = realloc(s->obuf, cap)) == NULL)
		return -1;
	s->obuf = nb;
	s->ocap = cap;
	return 0;
}

static void
sess_kill(struct lg *g, struct lg_sess *s, const char *why)
{
	if (s->state == LG_SESS_DEAD)
		return;
	if (g->phase != LG_PHASE_DONE) {
		fprintf(stderr, "loadgen: session %td: %s\n", s - g->sess,
		    why);
		g->dead_sessions++;
	}
	g->lost += s->outstanding;
	s->outstanding = 0;
	if (s->state == LG_SESS_BOUND)
		g->nbound--;
	s->state = LG_SESS_DEAD;
	epoll_ctl(g->ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
}

static void
sess_want_out(struct lg *g, struct lg_sess *s, bool is_wanting)
{
	struct epoll_event ev;

	if (s->is_wanting_out == is_wanting)
		return;
	s->is_wanting_out = is_wanting;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (is_wanting ? EPOLLOUT : 0);
	ev.data.ptr = s;
	epoll_ctl(g->ep, EPOLL_CTL_MOD, s->fd, &ev);
}

static void
sess_flush(struct lg *g, struct lg_sess *s)
{
	ssize_t n;

	while (s->ooff < s->olen) {
		n = write(s->fd, s->obuf + s->ooff, s->olen - s->ooff);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			sess_kill(g, s, strerror(errno));
			return;
		}
		s->ooff += (size_t)n;
	}
	if (s->ooff == s->olen)
		s->ooff = s->olen = 0;
	sess_want_out(g, s, s->olen > 0);
}

/* Queue a header-only PDU (enquire_link_resp, unbind, ...). */
static void
sess_put_header(struct lg_sess *s, uint32_t cmd, uint32_t status,
    uint32_t seq)
{
	uint8_t *p;

	if (sess_out_reserve(s, 17) < 0)
		return;
	p = s->obuf + s->olen;
	put32(p, 16);
	put32(p + 4, cmd);
	put32(p + 8, status);
	put32(p + 12, seq);
	s->olen += 16;
}

static void
sess_put_bind(struct lg *g, struct lg_sess *s)
{
	uint8_t *p;
	size_t off = 16;

	if (sess_out_reserve(s, 256) < 0)
		return;
	p = s->obuf + s->olen;
	off = put_cstr(p, off, g->o.system_id);
	off = put_cstr(p, off, g->o.password);
	off = put_cstr(p, off, "bench");	/* system_type */
	p[off++] = 0x34;			/* interface_version */
	p[off++] = 0;				/* addr_ton */
	p[off++] = 0;				/* addr_npi */
	off = put_cstr(p, off, "");		/* address_range */
	put32(p, (uint32_t)off);
	put32(p + 4, s->is_receiver ? CMD_BIND_RECEIVER :
	    CMD_BIND_TRANSMITTER);
	put32(p + 8, 0);
	put32(p + 12, s->next_seq++);
	s->olen += off;
}

static bool
is_sending(const struct lg *g)
{
	if (g->o.is_idle)
		return false;
	if (g->o.count > 0)
		return g->phase == LG_PHASE_MEASURE && g->sent < g->o.count;
	return g->phase == LG_PHASE_WARMUP || g->phase == LG_PHASE_MEASURE;
}

static void
tokens_refill(struct lg *g)
{
	double depth;

	if (g->o.rate <= 0)
		return;
	depth = g->o.rate / 100.0;
	if (depth < 1)
		depth = 1;
	g->tokens += g->o.rate * (double)(g->now - g->t_tokens) / 1e9;
	if (g->tokens > depth)
		g->tokens = depth;
	g->t_tokens = g->now;
}

/* Top the session's window up with submits and write them out. */
static void
sess_fill(struct lg *g, struct lg_sess *s)
{
	struct lg_slot *slot;
	uint8_t *p;
	uint32_t seq;

	if (s->state != LG_SESS_BOUND || s->is_receiver)
		return;
	while (s->outstanding < g->o.window && is_sending(g)) {
		if (g->o.rate > 0) {
			if (g->tokens < 1)
				break;
			g->tokens -= 1;
		}
		seq = s->next_seq;
		slot = &s->ring[seq & s->ring_mask];
		if (slot->seq != 0) {
			/* An old one is still out: wait for it. */
			g->ring_stalls++;
			break;
		}
		if (sess_out_reserve(s, g->tmpl_len) < 0) {
			sess_kill(g, s, "out of memory");
			return;
		}
		p = s->obuf + s->olen;
		memcpy(p, g->tmpl, g->tmpl_len);
		put32(p + 12, seq);
		dest_patch(p + g->tmpl_dst, g->o.base + dest_draw(g));
		s->olen += g->tmpl_len;
		slot->seq = seq;
		slot->sent_ns = g->now;
		slot->is_measured = g->phase == LG_PHASE_MEASURE;
		s->outstanding++;
		g->sent++;
		/* Sequence numbers run 1..0x7FFFFFFF (§5.1.4). */
		s->next_seq = seq >= 0x7FFFFFFFu ? 1 : seq + 1;
	}
	if (s->olen > s->ooff)
		sess_flush(g, s);
}

static void
on_submit_resp(struct lg *g, struct lg_sess *s, uint32_t status,
    uint32_t seq)
{
	struct lg_slot *slot = &s->ring[seq & s->ring_mask];

	if (seq == 0 || slot->seq != seq) {
		g->seq_errors++;
		return;
	}
	slot->seq = 0;
	s->outstanding--;
	g->resp_all++;
	if (status == 0)
		g->status_ok++;
	else if (status == g->o.reject_status)
		g->status_rej++;
	else {
		g->status_other++;
		g->last_bad_status = status;
	}
	/*
	 * Throughput counts completions inside the window; latency every
	 * submit sent inside it, even if its response comes after.
	 */
	if (g->phase == LG_PHASE_MEASURE)
		g->resp_measured++;
	if (slot->is_measured) {
		hist_add(&g->lat, g->now - slot->sent_ns);
		if (g->now - slot->sent_ns > g->lat_max_ns)
			g->lat_max_ns = g->now - slot->sent_ns;
	}
}

static void
on_pdu(struct lg *g, struct lg_sess *s, const uint8_t *p, uint32_t len)
{
	uint32_t cmd = get32(p + 4), status = get32(p + 8),
	    seq = get32(p + 12);

	switch (cmd) {
	case CMD_SUBMIT_SM_RESP:
		on_submit_resp(g, s, status, seq);
		break;
	case CMD_BIND_RECEIVER_RESP:
	case CMD_BIND_TRANSMITTER_RESP:
		if (s->state != LG_SESS_BINDING || status != 0) {
			fprintf(stderr, "loadgen: bind status 0x%08" PRIx32
			    "\n", status);
			sess_kill(g, s, "bind refused");
			return;
		}
		s->state = LG_SESS_BOUND;
		g->nbound++;
		break;
	case CMD_ENQUIRE_LINK:
		sess_put_header(s, CMD_ENQUIRE_LINK | 0x80000000u, 0, seq);
		break;
	case CMD_DELIVER_SM:
		sess_put_header(s, CMD_DELIVER_SM | 0x80000000u, 0, seq);
		break;
	case CMD_UNBIND:
		sess_put_header(s, CMD_UNBIND_RESP, 0, seq);
		break;
	case CMD_UNBIND_RESP:
		break;
	case CMD_GENERIC_NACK:
	default:
		(void)len;
		g->proto_errors++;
		fprintf(stderr, "loadgen: unexpected PDU 0x%08" PRIx32
		    " status 0x%08" PRIx32 " seq %" PRIu32 "\n", cmd, status,
		    seq);
		/* A nack for one of our submits ends that submit. */
		if (cmd == CMD_GENERIC_NACK &&
		    s->ring[seq & s->ring_mask].seq == seq && seq != 0) {
			s->ring[seq & s->ring_mask].seq = 0;
			s->outstanding--;
		}
		break;
	}
}

static void
sess_read(struct lg *g, struct lg_sess *s)
{
	size_t off, room;
	ssize_t n;
	uint32_t len;

	for (;;) {
		room = sizeof(s->ibuf) - s->ilen;
		n = read(s->fd, s->ibuf + s->ilen, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			sess_kill(g, s, strerror(errno));
			return;
		}
		if (n == 0) {
			sess_kill(g, s, "closed by peer");
			return;
		}
		s->ilen += (size_t)n;
		off = 0;
		while (s->ilen - off >= 16) {
			len = get32(s->ibuf + off);
			if (len < 16 || len > sizeof(s->ibuf)) {
				g->proto_errors++;
				sess_kill(g, s, "bad command_length");
				return;
			}
			if (s->ilen - off < len)
				break;
			on_pdu(g, s, s->ibuf + off, len);
			if (s->state == LG_SESS_DEAD)
				return;
			off += len;
		}
		if (off > 0) {
			memmove(s->ibuf, s->ibuf + off, s->ilen - off);
			s->ilen -= off;
		}
		if ((size_t)n < room)
			break;	/* drained the socket */
	}
	sess_fill(g, s);
	if (s->olen > s->ooff)
		sess_flush(g, s);
}

static int
sock_connect(const char *host, int port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "loadgen: %s: not a numeric IPv4 address\n",
		    host);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
sess_open(struct lg *g, struct lg_sess *s)
{
	struct epoll_event ev;
	uint32_t ring = 4;

	s->kind = 0;
	s->next_seq = 1;
	while (ring < g->o.window * 4)
		ring <<= 1;
	s->ring_mask = ring - 1;
	s->ocap = (size_t)g->o.window * g->tmpl_len + 1024;
	if ((s->ring = calloc(ring, sizeof(*s->ring))) == NULL ||
	    (s->obuf = malloc(s->ocap)) == NULL)
		return -1;
	if ((s->fd = sock_connect(g->o.host, g->o.port)) < 0) {
		fprintf(stderr, "loadgen: connect %s:%d: %s\n", g->o.host,
		    g->o.port, strerror(errno));
		return -1;
	}
	s->state = LG_SESS_CONNECTING;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = s;
	s->is_wanting_out = true;
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		return -1;
	return 0;
}

static void
sess_event(struct lg *g, struct lg_sess *s, uint32_t events)
{
	int err = 0;
	socklen_t elen = sizeof(err);

	if (s->state == LG_SESS_DEAD)
		return;
	if (s->state == LG_SESS_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 ||
		    err != 0) {
			sess_kill(g, s, strerror(err != 0 ? err : errno));
			return;
		}
		if (!(events & (EPOLLOUT | EPOLLIN)))
			return;
		s->state = LG_SESS_BINDING;
		sess_put_bind(g, s);
		sess_flush(g, s);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		sess_read(g, s);
	if (s->state != LG_SESS_DEAD && (events & EPOLLOUT))
		sess_flush(g, s);
}

/* ---- STOP pusher on the simulator's control port -------------------- */

static int
ctl_open(struct lg *g)
{
	struct epoll_event ev;
	int fd;

	if ((fd = sock_connect(g->o.host, g->o.ctl_port)) < 0) {
		fprintf(stderr, "loadgen: control %s:%d: %s\n", g->o.host,
		    g->o.ctl_port, strerror(errno));
		return -1;
	}
	g->ctl.kind = 1;
	g->ctl.fd = fd;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &g->ctl;
	return epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Push the next STOP (number STOP_BASE + k). 0, or -1 counted an error. */
static int
ctl_write_mo(struct lg *g)
{
	struct lg_ctl *c = &g->ctl;
	char line[256];
	int n;

	/* "STOP" in GSM default = ASCII, data_coding 0. */
	n = snprintf(line, sizeof(line), "mo %" PRIu64 " %s 0 53544F50%s%s\n",
	    g->o.stop_base + c->k, g->o.inbound,
	    g->o.stop_to != NULL ? " to=" : "",
	    g->o.stop_to != NULL ? g->o.stop_to : "");
	if (n <= 0 || (size_t)n >= sizeof(line) ||
	    write(c->fd, line, (size_t)n) != n) {
		g->stop_errors++;
		return -1;
	}
	return 0;
}

/* The STOPs allowed in all (-K, and the -O table's size). */
static uint64_t
ctl_cap(const struct lg *g)
{
	uint64_t cap = g->o.stops_max > 0 ? g->o.stops_max : UINT64_MAX;

	if (g->o.is_open_loop && cap > LG_STOPS_MAX)
		cap = LG_STOPS_MAX;
	return cap;
}

/* -O: every push that is due, answered or not. */
static void
ctl_push_open(struct lg *g)
{
	struct lg_ctl *c = &g->ctl;
	int64_t step = (int64_t)(1e9 / g->o.stops_per_s);

	while (g->now >= c->next_ns && c->k < ctl_cap(g)) {
		c->next_ns += step;
		if (ctl_write_mo(g) != 0)
			continue;
		c->stops[c->k].sent_ns = g->now;
		c->stops[c->k].state = LG_STOP_OK_WAIT;
		c->k++;
		c->nopen++;
	}
}

static void
ctl_push(struct lg *g)
{
	struct lg_ctl *c = &g->ctl;

	if (c->fd < 0 || g->phase != LG_PHASE_MEASURE)
		return;
	if (g->o.is_open_loop) {
		ctl_push_open(g);
		return;
	}
	if (c->is_waiting) {
		if (g->now - c->sent_ns > LG_STOP_TIMEOUT_NS) {
			g->stop_timeouts++;
			c->is_waiting = false;
		}
		return;
	}
	if (g->now < c->next_ns || c->k >= ctl_cap(g))
		return;
	if (ctl_write_mo(g) != 0)
		return;
	c->k++;
	c->is_waiting = true;
	c->sent_ns = g->now;
	c->next_ns = g->now + (int64_t)(1e9 / g->o.stops_per_s);
}

static void
stop_timed(struct lg *g, int64_t ns)
{
	uint32_t	*p;
	size_t		 cap;

	hist_add(&g->stop_lat, ns);
	if (ns > g->stop_max_ns)
		g->stop_max_ns = ns;
	if (g->nstop_us == g->stop_us_cap) {
		cap = g->stop_us_cap == 0 ? 256 : g->stop_us_cap * 2;
		if ((p = realloc(g->stop_us, cap * sizeof(*p))) == NULL)
			return;
		g->stop_us = p;
		g->stop_us_cap = cap;
	}
	g->stop_us[g->nstop_us++] = (uint32_t)(ns / 1000);
}

/* -O: an "ok SEQ", "err ..." or "resp SEQ STATUS" line. */
static void
ctl_line_open(struct lg *g, const char *line)
{
	struct lg_ctl *c = &g->ctl;
	struct lg_stop *st;
	unsigned long seq, status;
	uint64_t i;
	char *end;

	if (strncmp(line, "ok ", 3) == 0 || strncmp(line, "err", 3) == 0) {
		if (c->ok_next >= c->k)
			return;		/* not an answer to a push */
		st = &c->stops[c->ok_next++];
		if (line[0] == 'o') {
			st->seq = (uint32_t)strtoul(line + 3, NULL, 10);
			st->state = LG_STOP_RESP_WAIT;
			return;
		}
		fprintf(stderr, "loadgen: control: %s\n", line);
		st->state = LG_STOP_DONE;
		c->nopen--;
		g->stop_errors++;
	} else if (strncmp(line, "resp ", 5) == 0) {
		seq = strtoul(line + 5, &end, 10);
		for (i = c->open_low; i < c->ok_next; i++)
			if (c->stops[i].state == LG_STOP_RESP_WAIT &&
			    c->stops[i].seq == seq)
				break;
		if (i == c->ok_next)
			return;
		st = &c->stops[i];
		st->state = LG_STOP_DONE;
		c->nopen--;
		status = strtoul(end, &end, 16);
		if (strstr(line + 5, "closed") != NULL || status != 0)
			g->stop_errors++;
		else
			stop_timed(g, g->now - st->sent_ns);
	}
	while (c->open_low < c->ok_next &&
	    c->stops[c->open_low].state == LG_STOP_DONE)
		c->open_low++;
}

static void
ctl_line(struct lg *g, const char *line)
{
	struct lg_ctl *c = &g->ctl;
	unsigned long status;
	char *end;
	const char *p;

	if (g->o.is_open_loop) {
		ctl_line_open(g, line);
		return;
	}
	if (strncmp(line, "resp ", 5) == 0) {
		if (!c->is_waiting)
			return;
		c->is_waiting = false;
		p = strchr(line + 5, ' ');
		status = p != NULL ? strtoul(p + 1, &end, 16) : 1;
		if (p == NULL || end == p + 1 || status != 0) {
			g->stop_errors++;
			return;
		}
		stop_timed(g, g->now - c->sent_ns);
	} else if (strncmp(line, "err", 3) == 0) {
		fprintf(stderr, "loadgen: control: %s\n", line);
		g->stop_errors++;
		c->is_waiting = false;
	}
}

static void
ctl_read(struct lg *g)
{
	struct lg_ctl *c = &g->ctl;
	char *nl, *start;
	ssize_t n;
	int one = 1;

	n = read(c->fd, c->ibuf + c->ilen, sizeof(c->ibuf) - 1 - c->ilen);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		fprintf(stderr, "loadgen: control connection closed\n");
		epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
		return;
	}
	/*
	 * -O pushes while answers are due: our delayed ACK of an "ok" line
	 * would hold the simulator's "resp" line behind Nagle (its control
	 * socket has no TCP_NODELAY) until the next push carried the ACK.
	 */
	if (g->o.is_open_loop)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
	c->ilen += (size_t)n;
	c->ibuf[c->ilen] = '\0';
	start = c->ibuf;
	while ((nl = strchr(start, '\n')) != NULL) {
		*nl = '\0';
		ctl_line(g, start);
		start = nl + 1;
	}
	c->ilen -= (size_t)(start - c->ibuf);
	memmove(c->ibuf, start, c->ilen);
	if (c->ilen == sizeof(c->ibuf) - 1)
		c->ilen = 0;	/* an absurd line: drop it */
}

/* ---- run ------------------------------------------------------------ */

static unsigned
outstanding_all(const struct lg *g)
{
	unsigned i, n = 0;

	for (i = 0; i < g->o.nall; i++)
		n += g->sess[i].outstanding;
	return n;
}

/* -A: tell a waiting script the measured window has started. */
static void
announce(const struct lg *g)
{
	FILE *fp;

	if (g->o.announce == NULL)
		return;
	if ((fp = fopen(g->o.announce, "w")) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", g->o.announce,
		    strerror(errno));
		return;
	}
	fprintf(fp, "measuring\n");
	fclose(fp);
}

static void
phase_set(struct lg *g, enum lg_phase ph)
{
	g->phase = ph;
	switch (ph) {
	case LG_PHASE_WARMUP:
		g->t_phase_end = g->now + (int64_t)(g->o.warmup * 1e9);
		break;
	case LG_PHASE_MEASURE:
		g->t_measure = g->now;
		g->t_tokens = g->now;
		g->ctl.next_ns = g->now;
		cpu_sample(g, false);
		g->t_phase_end = g->o.count > 0 ? INT64_MAX :
		    g->now + (int64_t)(g->o.secs * 1e9);
		announce(g);
		break;
	case LG_PHASE_DRAIN:
		g->t_end = g->now;
		cpu_sample(g, true);
		g->t_phase_end = g->now + LG_DRAIN_NS;
		break;
	case LG_PHASE_BIND:
	case LG_PHASE_DONE:
	default:
		break;
	}
}

static void
tick(struct lg *g)
{
	unsigned i;

	switch (g->phase) {
	case LG_PHASE_BIND:
		if (g->nbound + g->dead_sessions >= g->o.nall) {
			if (g->nbound == 0) {
				phase_set(g, LG_PHASE_DONE);
				return;
			}
			phase_set(g, g->o.count > 0 || g->o.warmup <= 0 ?
			    LG_PHASE_MEASURE : LG_PHASE_WARMUP);
			for (i = 0; i < g->o.nall; i++)
				sess_fill(g, &g->sess[i]);
		} else if (g->now - g->t_start > LG_BIND_NS) {
			fprintf(stderr, "loadgen: %u of %u sessions bound "
			    "in time\n", g->nbound, g->o.nall);
			g->dead_sessions += g->o.nall - g->nbound;
			phase_set(g, LG_PHASE_DONE);
		}
		return;
	case LG_PHASE_WARMUP:
		if (g->now >= g->t_phase_end)
			phase_set(g, LG_PHASE_MEASURE);
		break;
	case LG_PHASE_MEASURE:
		if (is_end_wanted || (g->o.count > 0 ?
		    g->resp_all >= g->o.count : g->now >= g->t_phase_end))
			phase_set(g, LG_PHASE_DRAIN);
		break;
	case LG_PHASE_DRAIN:
		/* -O: the STOPs still open are answered or time out. */
		if ((outstanding_all(g) == 0 && g->ctl.nopen == 0) ||
		    g->now >= g->t_phase_end)
			phase_set(g, LG_PHASE_DONE);
		return;
	case LG_PHASE_DONE:
	default:
		return;
	}
	if (g->o.rate > 0) {
		tokens_refill(g);
		for (i = 0; i < g->o.nall; i++)
			sess_fill(g, &g->sess[i]);
	}
	ctl_push(g);
}

static void
report(struct lg *g)
{
	double secs = (double)(g->t_end - g->t_measure) / 1e9;
	uint64_t errors;
	int i;
	size_t k;

	g->lost += outstanding_all(g);
	errors = g->seq_errors + g->proto_errors + g->lost +
	    g->dead_sessions + g->status_other +
	    (g->o.mode == LG_MODE_FWD ? g->status_rej : 0) +
	    (g->o.mode == LG_MODE_REJ ? g->status_ok : 0);
	if (secs <= 0)
		secs = 1e-9;
	printf("loadgen label=%s sessions=%u window=%u bound=%u secs=%.3f "
	    "msgs=%" PRIu64 " msg_per_s=%.0f p50_us=%.1f p99_us=%.1f "
	    "p999_us=%.1f status_ok=%" PRIu64 " status_rej=%" PRIu64
	    " status_other=%" PRIu64 " last_bad_status=0x%08" PRIx32
	    " seq_errors=%" PRIu64 " proto_errors=%" PRIu64 " lost=%" PRIu64
	    " dead_sessions=%" PRIu64 " ring_stalls=%" PRIu64
	    " errors=%" PRIu64 " self_cpu_s=%.2f max_us=%.1f", g->o.label,
	    g->o.nsessions, g->o.window,
	    g->nbound, secs, g->resp_measured,
	    (double)g->resp_measured / secs, hist_quantile(&g->lat, 0.5),
	    hist_quantile(&g->lat, 0.99), hist_quantile(&g->lat, 0.999),
	    g->status_ok, g->status_rej, g->status_other, g->last_bad_status,
	    g->seq_errors, g->proto_errors, g->lost, g->dead_sessions,
	    g->ring_stalls, errors, g->self_cpu_s,
	    (double)g->lat_max_ns / 1e3);
	for (i = 0; i < g->o.ncpu_pids; i++)
		printf(" cpu%d_s=%.2f cpu%d_us_per_msg=%.3f", i, g->cpu_s[i],
		    i, g->resp_measured > 0 ? g->cpu_s[i] * 1e6 /
		    (double)g->resp_measured : 0.0);
	if (g->o.ctl_port > 0)
		printf(" stops=%" PRIu64 " stop_p50_ms=%.3f stop_p99_ms=%.3f "
		    "stop_errors=%" PRIu64 " stop_timeouts=%" PRIu64
		    " stop_max_ms=%.3f stops_pushed=%" PRIu64,
		    g->stop_lat.n, hist_quantile(&g->stop_lat, 0.5) / 1e3,
		    hist_quantile(&g->stop_lat, 0.99) / 1e3, g->stop_errors,
		    g->stop_timeouts, (double)g->stop_max_ns / 1e6, g->ctl.k);
	for (k = 0; k < g->nstop_us; k++)
		printf("%s%u", k == 0 ? " stop_us=" : ",",
		    (unsigned)g->stop_us[k]);
	printf("\n");
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen [-a HOST] [-p PORT] [-n SESSIONS] [-w WINDOW]\n"
	    "  [-u SYSTEM_ID] [-P PASSWORD] [-d SECONDS] [-W WARMUP]"
	    " [-N COUNT]\n"
	    "  [-R RATE] [-b BASE] [-r RANGE] [-m ONE_IN] [-o fwd|rej|any]\n"
	    "  [-x REJECT_STATUS] [-C PID]... [-c CTLPORT] [-s STOPS_PER_S]\n"
	    "  [-f STOP_BASE] [-t INBOUND] [-T SYSTEM_ID] [-K STOPS] [-O]\n"
	    "  [-A FILE] [-i] [-B] [-l LABEL]\n");
}

static int
opts_parse(struct lg_opts *o, int argc, char *argv[])
{
	int ch;

	while ((ch = getopt(argc, argv,
	    "a:p:n:w:u:P:d:W:N:R:b:r:m:o:x:C:c:s:f:t:T:K:OA:iBl:h")) != -1) {
		switch (ch) {
		case 'a':
			o->host = optarg;
			break;
		case 'p':
			o->port = atoi(optarg);
			break;
		case 'n':
			o->nsessions = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			o->window = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			o->system_id = optarg;
			break;
		case 'P':
			o->password = optarg;
			break;
		case 'd':
			o->secs = strtod(optarg, NULL);
			break;
		case 'W':
			o->warmup = strtod(optarg, NULL);
			break;
		case 'N':
			o->count = strtoull(optarg, NULL, 10);
			break;
		case 'R':
			o->rate = strtod(optarg, NULL);
			break;
		case 'b':
			o->base = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			o->range = strtoull(optarg, NULL, 10);
			break;
		case 'm':
			o->one_in = strtoull(optarg, NULL, 10);
			break;
		case 'o':
			if (strcmp(optarg, "fwd") == 0)
				o->mode = LG_MODE_FWD;
			else if (strcmp(optarg, "rej") == 0)
				o->mode = LG_MODE_REJ;
			else if (strcmp(optarg, "any") == 0)
				o->mode = LG_MODE_ANY;
			else
				return -1;
			break;
		case 'x':
			o->reject_status = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'C':
			if (o->ncpu_pids == LG_MAX_CPU_PIDS)
				return -1;
			o->cpu_pids[o->ncpu_pids++] = atoi(optarg);
			break;
		case 'c':
			o->ctl_port = atoi(optarg);
			break;
		case 's':
			o->stops_per_s = strtod(optarg, NULL);
			break;
		case 'f':
			o->stop_base = strtoull(optarg, NULL, 10);
			break;
		case 't':
			o->inbound = optarg;
			break;
		case 'T':
			o->stop_to = optarg;
			break;
		case 'K':
			o->stops_max = strtoull(optarg, NULL, 10);
			break;
		case 'O':
			o->is_open_loop = true;
			break;
		case 'A':
			o->announce = optarg;
			break;
		case 'i':
			o->is_idle = true;
			break;
		case 'B':
			o->has_receiver = true;
			break;
		case 'l':
			o->label = optarg;
			break;
		case 'h':
		default:
			return -1;
		}
	}
	if (optind != argc || o->port <= 0 || o->port > 65535 ||
	    o->nsessions == 0 || o->nsessions > LG_MAX_SESSIONS ||
	    (o->window == 0 && !o->is_idle) || o->window > 65536 ||
	    o->one_in < 2 || o->range < o->one_in ||
	    o->range % o->one_in != 0 || o->secs <= 0 || o->warmup < 0 ||
	    o->rate < 0 || (o->ctl_port > 0 && o->stops_per_s <= 0) ||
	    (o->is_open_loop && o->ctl_port <= 0) ||
	    o->base + o->range > 99999999999ULL ||
	    o->base < 10000000000ULL)
		return -1;
	o->nall = o->nsessions + (o->has_receiver ? 1 : 0);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct epoll_event evs[256];
	struct lg *g;
	unsigned i;
	int n, j, timeout, rc = 2;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return 2;
	g->ep = -1;
	g->ctl.fd = -1;
	g->o.host = "127.0.0.1";
	g->o.port = 2775;
	g->o.nsessions = 4;
	g->o.window = 64;
	g->o.system_id = "bench";
	g->o.password = "bench";
	g->o.secs = 5;
	g->o.warmup = 1;
	g->o.base = 12000000000ULL;
	g->o.range = 100000000ULL;
	g->o.one_in = 100;
	g->o.reject_status = 0x401;
	g->o.stop_base = 13000000000ULL;
	g->o.inbound = "12345";
	g->o.label = "run";
	if (opts_parse(&g->o, argc, argv) < 0) {
		usage();
		free(g);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	g->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)now_ns();
	tmpl_build(g);
	if ((g->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (g->sess = calloc(g->o.nall, sizeof(*g->sess))) == NULL)
		goto out;
	g->now = g->t_start = now_ns();
	for (i = 0; i < g->o.nall; i++) {
		g->sess[i].fd = -1;
		g->sess[i].is_receiver = i >= g->o.nsessions;
		if (sess_open(g, &g->sess[i]) < 0)
			goto out;
	}
	if (g->o.ctl_port > 0 && ctl_open(g) < 0)
		goto out;
	if (g->o.is_open_loop && (g->ctl.stops = calloc(LG_STOPS_MAX,
	    sizeof(*g->ctl.stops))) == NULL)
		goto out;

	while (g->phase != LG_PHASE_DONE && !is_interrupted) {
		timeout = g->o.rate > 0 || g->o.ctl_port > 0 ? 1 : 20;
		n = epoll_wait(g->ep, evs, 256, timeout);
		if (n < 0 && errno != EINTR)
			break;
		g->now = now_ns();
		if (g->o.rate > 0)
			tokens_refill(g);
		for (j = 0; j < n; j++) {
			struct lg_sess *s = evs[j].data.ptr;

			if (s->kind == 1)
				ctl_read(g);
			else
				sess_event(g, s, evs[j].events);
		}
		tick(g);
	}
	if (g->phase == LG_PHASE_DRAIN || g->phase == LG_PHASE_MEASURE) {
		g->now = now_ns();
		if (g->t_end == 0) {
			g->t_end = g->now;
			cpu_sample(g, true);
		}
	}
	if (g->o.is_idle && g->t_end == 0)
		g->t_end = g->now;
	/* Unbind politely; the peer may already be gone. */
	for (i = 0; i < g->o.nall; i++) {
		if (g->sess[i].state != LG_SESS_BOUND)
			continue;
		sess_put_header(&g->sess[i], CMD_UNBIND, 0,
		    g->sess[i].next_seq);
		sess_flush(g, &g->sess[i]);
	}
	g->phase = LG_PHASE_DONE;
	/* -O: a STOP never answered, even by the end of the drain. */
	g->stop_timeouts += g->ctl.nopen;
	report(g);
	rc = g->seq_errors + g->proto_errors + g->lost + g->dead_sessions +
	    g->status_other > 0 || g->nbound == 0 ? 1 : 0;
	if (g->o.mode == LG_MODE_FWD && g->status_rej > 0)
		rc = 1;
	if (g->o.mode == LG_MODE_REJ && g->status_ok > 0)
		rc = 1;
out:
	if (g->sess != NULL) {
		for (i = 0; i < g->o.nall; i++) {
			if (g->sess[i].fd >= 0)
				close(g->sess[i].fd);
			free(g->sess[i].ring);
			free(g->sess[i].obuf);
		}
		free(g->sess);
	}
	if (g->ctl.fd >= 0)
		close(g->ctl.fd);
	free(g->ctl.stops);
	free(g->stop_us);
	if (g->ep >= 0)
		close(g->ep);
	free(g);
	return rc;
}
