/*
 * smsc_sim: an SMSC simulator for tests, benchmarks and `make run`.
 *
 * One event loop, one bufferevent per connection. ESMEs bind (any
 * credentials, or the ones given with -u/-w), submit (submit_sm, data_sm,
 * submit_multi) and get a response with a message id, now, after -d ms,
 * never (-n) or with an error status (-e). A submit asking for a receipt
 * (registered_delivery bits 1..0 == 01, SMPP v3.4 §5.2.17) gets a
 * deliver_sm receipt (Appendix B text plus receipted_message_id and
 * message_state TLVs) -r ms after its response, sent to a bound receiver.
 *
 * A control port (-c) takes one text command per line so tests can push
 * MO messages and look at what arrived (tests/integration/harness.py has a
 * client). Each reply ends with a line starting "ok" or "err":
 *
 *   mo FROM TO DCS HEX [opts]  -> ok SEQ   deliver_sm (esm_class 0, or
 *                                  0x40 with "udh") to a bound receiver
 *   dlr ID STAT FROM TO [notlv] -> ok SEQ  a receipt for any message id
 *   raw HEX                    -> ok LEN   bytes as they are
 *   stats                      -> ok key=value ...
 *   last N   -> "submit SRC DST DCS HEXTEXT SERVICE_TYPE key=value..."
 *               lines, oldest first, then ok COUNT
 *   close | pause | resume | set KEY VALUE | reset | help
 *
 * "resp SEQ STATUS" (or "resp SEQ closed") arrives on the control
 * connection that pushed a PDU when its deliver_sm_resp comes back.
 *
 * Sink mode (-S) is for benchmarks: submits are answered from the header
 * alone (no body decode, no receipts, no history), and all answers to one
 * read callback go out in one write.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "smpp/frame.h"
#include "smpp/pdu.h"

#define SIM_HIST_MAX		1024	/* submits kept for "last" */
#define SIM_HIST_DATA_MAX	2048	/* message bytes kept per submit */
#define SIM_HIST_TLV_MAX	512	/* TLV bytes kept per submit */
#define SIM_HIST_DST_MAX	256	/* submit_multi dests joined by , */
#define SIM_CTL_LINE_MAX	16384
#define SIM_OBUF_LEN		(SMPP_MAX_PDU_LEN + 1024)
#define SIM_DLR_TEXT_MAX	20	/* message text echoed in a receipt */
/* Stop reading from an ESME that does not read its responses. */
#define SIM_OUT_HIGH		(1024 * 1024)

/* glibc's <sys/queue.h> lacks the _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST((head));				\
	    (var) && ((tvar) = TAILQ_NEXT((var), field), 1);		\
	    (var) = (tvar))
#endif

enum sim_id_form {
	SIM_ID_SAME = 0,	/* receipt text only: as issued */
	SIM_ID_DEC,		/* 12345 */
	SIM_ID_HEX,		/* 00003039 */
	SIM_ID_PAD,		/* 0000012345 */
};

struct sim_opts {
	const char		*host;
	int			 port;
	int			 ctl_port;
	const char		*system_id;	/* NULL: any */
	const char		*password;	/* NULL: any */
	enum sim_id_form	 id_form;
	enum sim_id_form	 dlr_id_form;
	unsigned		 delay_ms;
	bool			 is_answering;
	uint32_t		 error_status;
	unsigned		 receipt_ms;
	bool			 is_verbose;
	bool			 is_sink;
	bool			 has_dlr_tlvs;
	char			 dlr_stat[8];
	uint64_t		 first_id;
};

struct sim_stats {
	unsigned long	submits;	/* all three commands */
	unsigned long	submit_sm;
	unsigned long	data_sm;
	unsigned long	submit_multi;
	unsigned long	answered;
	unsigned long	unanswered;
	unsigned long	conns;
	unsigned long	binds;
	unsigned long	bind_fails;
	unsigned long	enquire_links;
	unsigned long	unbinds;
	unsigned long	delivers;	/* MO and raw PDUs pushed */
	unsigned long	deliver_resps;
	unsigned long	deliver_errs;	/* deliver_sm_resp, status != 0 */
	unsigned long	receipts;
	unsigned long	receipts_dropped;
	unsigned long	nacks_sent;
	unsigned long	nacks_received;
	unsigned long	bad_pdus;
};

struct submit_rec {
	uint32_t	command_id;
	uint32_t	seq;
	char		system_id[SMPP_SYSTEM_ID_LEN];
	char		src[SMPP_ADDR65_LEN];
	char		dst[SIM_HIST_DST_MAX];
	char		service_type[SMPP_SERVICE_TYPE_LEN];
	char		message_id[SMPP_MESSAGE_ID_LEN];
	uint8_t		dcs;
	uint8_t		esm_class;
	uint8_t		registered_delivery;
	uint32_t	status;
	size_t		data_len;
	uint8_t		data[SIM_HIST_DATA_MAX];
	size_t		tlv_len;
	uint8_t		tlv[SIM_HIST_TLV_MAX];
};

struct sim;
struct econn;
struct ctlconn;

/* An encoded PDU waiting for a timer or for "resume". */
struct delayed {
	TAILQ_ENTRY(delayed)	 entry;
	struct sim		*sim;		/* borrowed */
	struct econn		*conn;		/* borrowed; NULL: receipt */
	struct event		*ev;		/* owned timer */
	uint8_t			*pdu;		/* owned */
	size_t			 len;
	char			 origin[SMPP_SYSTEM_ID_LEN]; /* receipts */
	struct delayed		*receipt;	/* owned: after this one */
};
TAILQ_HEAD(delayed_list, delayed);

/* An ESME connection. */
struct econn {
	TAILQ_ENTRY(econn)	 entry;
	struct sim		*sim;		/* borrowed */
	struct bufferevent	*bev;		/* owned */
	struct evbuffer		*batch;		/* owned: replies */
	struct event		*ev_free;	/* owned */
	struct delayed_list	 delayed;	/* owned */
	enum smpp_bind_state	 state;
	char			 system_id[SMPP_SYSTEM_ID_LEN];
	uint64_t		 id;
	bool			 is_closing;
	bool			 is_throttled;	/* output full */
};

/* A control connection. */
struct ctlconn {
	TAILQ_ENTRY(ctlconn)	 entry;
	struct sim		*sim;		/* borrowed */
	struct bufferevent	*bev;		/* owned */
};

/* A deliver_sm pushed from the control port, waiting for its resp. */
struct pending {
	TAILQ_ENTRY(pending)	 entry;
	uint32_t		 seq;
	struct econn		*conn;		/* borrowed */
	struct ctlconn		*ctl;		/* borrowed or NULL */
};

struct sim {
	struct event_base	*base;
	struct sim_opts		 o;
	struct sim_stats	 st;
	bool			 is_paused;
	uint64_t		 next_id;
	uint64_t		 next_conn_id;
	uint32_t		 next_seq;
	TAILQ_HEAD(, econn)	 conns;
	TAILQ_HEAD(, ctlconn)	 ctls;
	TAILQ_HEAD(, pending)	 pendings;
	struct delayed_list	 receipts;
	struct submit_rec	*hist;		/* owned ring */
	size_t			 hist_next;
	size_t			 hist_count;
	struct smpp_pdu		 req;		/* scratch: request */
	struct smpp_pdu		 out;		/* scratch: to encode */
	uint8_t			 obuf[SIM_OBUF_LEN];
};

static void econn_close(struct econn *, const char *);
static void econn_free(struct econn *);

static const char *const ctl_help[] = {
	"mo FROM TO DCS HEX [udh] [payload] [esm=N] [sar=REF/TOTAL/SEQ]"
	    " [sto=TON] [dto=TON] [to=SYSTEM_ID]  push an MO deliver_sm"
	    " (HEX '-' for empty)",
	"dlr ID STAT FROM TO [notlv] [to=SYSTEM_ID]  push a receipt",
	"raw HEX [to=SYSTEM_ID]  send raw bytes to a bound receiver",
	"stats  counters",
	"last N  the last N submits, oldest first",
	"close  drop every ESME connection",
	"pause | resume  hold / release submit responses",
	"set error|delay|answer|receipt|ids|dlrid|dlrstat|dlrtlv VALUE",
	"reset  zero counters and history",
	"help",
};

/* ---- small helpers ------------------------------------------------- */

static void
logx(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
logx(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->o.is_verbose)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
sim_seq_next(struct sim *s)
{
	s->next_seq = s->next_seq % 0x7FFFFFFFu + 1;
	return s->next_seq;
}

static void
sim_id_format(enum sim_id_form f, uint64_t n, char *buf, size_t cap)
{
	switch (f) {
	case SIM_ID_HEX:
		snprintf(buf, cap, "%08" PRIX64, n);
		break;
	case SIM_ID_PAD:
		snprintf(buf, cap, "%010" PRIu64, n);
		break;
	case SIM_ID_SAME:
	case SIM_ID_DEC:
	default:
		snprintf(buf, cap, "%" PRIu64, n);
		break;
	}
}

/* Parse "same|dec|hex|pad"; returns 0 or -1. */
static int
sim_id_form_parse(const char *s, enum sim_id_form *f)
{
	if (strcmp(s, "same") == 0)
		*f = SIM_ID_SAME;
	else if (strcmp(s, "dec") == 0)
		*f = SIM_ID_DEC;
	else if (strcmp(s, "hex") == 0)
		*f = SIM_ID_HEX;
	else if (strcmp(s, "pad") == 0)
		*f = SIM_ID_PAD;
	else
		return -1;
	return 0;
}

/* Parse an unsigned number (decimal or 0x hex) up to max; 0 or -1. */
static int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Decode hex text into out (cap bytes); "-" is empty. Length or -1. */
static ssize_t
hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n, i;

	if (strcmp(hex, "-") == 0)
		return 0;
	n = strlen(hex);
	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned hi, lo;
		int a = tolower((unsigned char)hex[2 * i]);
		int b = tolower((unsigned char)hex[2 * i + 1]);

		if (!isxdigit(a) || !isxdigit(b))
			return -1;
		hi = (unsigned)(isdigit(a) ? a - '0' : a - 'a' + 10);
		lo = (unsigned)(isdigit(b) ? b - '0' : b - 'a' + 10);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)(n / 2);
}

static void
hex_add(struct evbuffer *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char buf[512];
	size_t i, k = 0;

	if (n == 0) {
		evbuffer_add(out, "-", 1);
		return;
	}
	for (i = 0; i < n; i++) {
		buf[k++] = digits[p[i] >> 4];
		buf[k++] = digits[p[i] & 0x0F];
		if (k == sizeof(buf)) {
			evbuffer_add(out, buf, k);
			k = 0;
		}
	}
	evbuffer_add(out, buf, k);
}

static const char *
dash(const char *s)
{
	return *s == '\0' ? "-" : s;
}

static const char *
bind_name(enum smpp_bind_state st)
{
	switch (st) {
	case SMPP_STATE_BOUND_TX:
		return "tx";
	case SMPP_STATE_BOUND_RX:
		return "rx";
	case SMPP_STATE_BOUND_TRX:
		return "trx";
	case SMPP_STATE_OPEN:
	default:
		return "open";
	}
}

/* message_state TLV value for a receipt stat word, §5.2.28. */
static uint8_t
stat_state(const char *stat)
{
	static const char *const words[] = { "", "ENROUTE", "DELIVRD",
	    "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN",
	    "REJECTD" };
	size_t i;

	for (i = 1; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(stat, words[i]) == 0)
			return (uint8_t)i;
	return 7;
}

/* ---- writing PDUs -------------------------------------------------- */

/* Encode s->out into s->obuf; returns the length or -1. */
static ssize_t
sim_encode(struct sim *s)
{
	return smpp_pdu_encode(&s->out, s->obuf, sizeof(s->obuf));
}

/* Append a header-only PDU to c's batch. */
static void
econn_put_header(struct econn *c, uint32_t cmd, uint32_t status,
    uint32_t seq)
{
	uint8_t h[SMPP_HEADER_LEN];

	put_u32(h, SMPP_HEADER_LEN);
	put_u32(h + 4, cmd);
	put_u32(h + 8, status);
	put_u32(h + 12, seq);
	evbuffer_add(c->batch, h, sizeof(h));
}

static void
econn_nack(struct econn *c, uint32_t seq, uint32_t status)
{
	c->sim->st.nacks_sent++;
	econn_put_header(c, SMPP_CMD_GENERIC_NACK, status, seq);
}

/* Send what the current read callback produced, in one write. */
static void
econn_flush(struct econn *c)
{
	if (evbuffer_get_length(c->batch) > 0)
		bufferevent_write_buffer(c->bev, c->batch);
	/* Backpressure: econn_write_cb turns reading back on once drained. */
	if (!c->is_closing && !c->is_throttled &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    SIM_OUT_HIGH) {
		c->is_throttled = true;
		bufferevent_disable(c->bev, EV_READ);
	}
}

/* ---- delayed PDUs -------------------------------------------------- */

static void
delayed_free(struct delayed *d)
{
	if (d == NULL)
		return;
	delayed_free(d->receipt);
	if (d->ev != NULL)
		event_free(d->ev);
	free(d->pdu);
	free(d);
}

static void delayed_fire(evutil_socket_t, short, void *);
static void receipt_fire(evutil_socket_t, short, void *);

/* A copy of len bytes of pdu, not yet scheduled. NULL on ENOMEM. */
static struct delayed *
delayed_new(struct sim *s, struct econn *c, const uint8_t *pdu, size_t len)
{
	struct delayed *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->pdu = malloc(len)) == NULL) {
		free(d);
		return NULL;
	}
	memcpy(d->pdu, pdu, len);
	d->len = len;
	d->sim = s;
	d->conn = c;
	d->ev = event_new(s->base, -1, 0, c != NULL ? delayed_fire :
	    receipt_fire, d);
	if (d->ev == NULL) {
		free(d->pdu);
		free(d);
		return NULL;
	}
	return d;
}

static void
arm_ms(struct event *ev, unsigned ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_add(ev, &tv);
}

static void
receipt_schedule(struct sim *s, struct delayed *r)
{
	TAILQ_INSERT_TAIL(&s->receipts, r, entry);
	arm_ms(r->ev, s->o.receipt_ms);
}

/* A bound receiver, preferring system_id (may be NULL or ""). */
static struct econn *
sim_receiver(struct sim *s, const char *system_id)
{
	struct econn *c, *any = NULL;

	TAILQ_FOREACH(c, &s->conns, entry) {
		if (c->is_closing || (c->state != SMPP_STATE_BOUND_RX &&
		    c->state != SMPP_STATE_BOUND_TRX))
			continue;
		if (system_id == NULL || *system_id == '\0' ||
		    strcmp(c->system_id, system_id) == 0)
			return c;
		if (any == NULL)
			any = c;
	}
	return any;
}

static void
receipt_fire(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *r = arg;
	struct sim *s = r->sim;
	struct econn *c;
	uint32_t seq;

	(void)fd;
	(void)what;
	TAILQ_REMOVE(&s->receipts, r, entry);
	if ((c = sim_receiver(s, r->origin)) == NULL) {
		s->st.receipts_dropped++;
		logx(s, "receipt dropped=no_receiver origin=%s", r->origin);
		delayed_free(r);
		return;
	}
	seq = sim_seq_next(s);
	smpp_pdu_set_seq(r->pdu, seq);
	bufferevent_write(c->bev, r->pdu, r->len);
	s->st.receipts++;
	logx(s, "receipt conn=%" PRIu64 " seq=%" PRIu32, c->id, seq);
	delayed_free(r);
}

/* Send a held response and start its receipt's timer. */
static void
delayed_send(struct delayed *d)
{
	struct econn *c = d->conn;
	struct sim *s = d->sim;

	TAILQ_REMOVE(&c->delayed, d, entry);
	bufferevent_write(c->bev, d->pdu, d->len);
	s->st.answered++;
	if (d->receipt != NULL) {
		receipt_schedule(s, d->receipt);
		d->receipt = NULL;
	}
	delayed_free(d);
}

static void
delayed_fire(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;

	(void)fd;
	(void)what;
	/* Paused: stays queued until "resume". */
	if (d->sim->is_paused || d->conn->is_closing)
		return;
	delayed_send(d);
}

static void
sim_resume(struct sim *s)
{
	struct econn *c;
	struct delayed *d, *tmp;

	s->is_paused = false;
	TAILQ_FOREACH(c, &s->conns, entry) {
		if (c->is_closing)
			continue;
		TAILQ_FOREACH_SAFE(d, &c->delayed, entry, tmp) {
			/* Still waiting out its delay: the timer sends it. */
			if (evtimer_pending(d->ev, NULL))
				continue;
			delayed_send(d);
		}
	}
}

/* ---- submits ------------------------------------------------------- */

/* The message bytes of a submit: short_message, else message_payload. */
static const uint8_t *
req_text(const struct smpp_pdu *p, size_t *len)
{
	const struct smpp_tlv *t;

	if (p->sm_length > 0) {
		*len = p->sm_length;
		return p->short_message;
	}
	if ((t = smpp_pdu_tlv_find(p, SMPP_TLV_MESSAGE_PAYLOAD)) != NULL) {
		*len = t->len;
		return t->value;
	}
	*len = 0;
	return NULL;
}

/* Record a submit for "last"; returns the record (borrowed). */
static const struct submit_rec *
hist_add(struct econn *c, const struct smpp_pdu *p, const uint8_t *buf,
    size_t len, const char *msgid, uint32_t status)
{
	struct sim *s = c->sim;
	struct submit_rec *r = &s->hist[s->hist_next];
	const uint8_t *text;
	size_t tlen, i, off;

	memset(r, 0, offsetof(struct submit_rec, data));
	r->command_id = p->command_id;
	r->seq = p->sequence_number;
	snprintf(r->system_id, sizeof(r->system_id), "%s", c->system_id);
	snprintf(r->src, sizeof(r->src), "%s", p->source.addr);
	if (p->command_id == SMPP_CMD_SUBMIT_MULTI) {
		off = 0;
		for (i = 0; i < p->number_of_dests; i++) {
			const struct smpp_dest *d = &p->dests[i];
			int n = snprintf(r->dst + off, sizeof(r->dst) - off,
			    "%s%s", i > 0 ? "," : "",
			    d->dest_flag == SMPP_DEST_DL_NAME ? d->dl_name :
			    d->addr.addr);

			if (n < 0 || (size_t)n >= sizeof(r->dst) - off)
				break;
			off += (size_t)n;
		}
	} else
		snprintf(r->dst, sizeof(r->dst), "%s", p->dest.addr);
	snprintf(r->service_type, sizeof(r->service_type), "%s",
	    p->service_type);
	snprintf(r->message_id, sizeof(r->message_id), "%s", msgid);
	r->dcs = p->data_coding;
	r->esm_class = p->esm_class;
	r->registered_delivery = p->registered_delivery;
	r->status = status;
	text = req_text(p, &tlen);
	r->data_len = tlen < sizeof(r->data) ? tlen : sizeof(r->data);
	if (r->data_len > 0)
		memcpy(r->data, text, r->data_len);
	/* TLVs as on the wire: everything after the first TLV's start. */
	r->tlv_len = 0;
	if (p->tlv_count > 0 && p->tlvs[0].value != NULL &&
	    p->tlvs[0].value >= buf + 4) {
		const uint8_t *first = p->tlvs[0].value - 4;

		if (first < buf + len) {
			size_t n = (size_t)(buf + len - first);

			r->tlv_len = n < sizeof(r->tlv) ? n : sizeof(r->tlv);
			memcpy(r->tlv, first, r->tlv_len);
		}
	}
	s->hist_next = (s->hist_next + 1) % SIM_HIST_MAX;
	if (s->hist_count < SIM_HIST_MAX)
		s->hist_count++;
	return r;
}

/*
 * Build the receipt for an accepted submit: the Appendix B text in
 * short_message, receipted_message_id and message_state TLVs (§5.3.2.12,
 * §5.3.2.35). Addresses swap: the receipt comes from the handset.
 * Returns NULL if it cannot be built (e.g. a 64-char data_sm address).
 */
static struct delayed *
receipt_build(struct econn *c, const struct smpp_pdu *p, const char *msgid,
    uint64_t n)
{
	struct sim *s = c->sim;
	struct smpp_pdu *o = &s->out;
	const struct smpp_addr *dst = &p->dest;
	char text[SMPP_SHORT_MESSAGE_MAX + 1], textid[SMPP_MESSAGE_ID_LEN];
	char when[64], orig[SIM_DLR_TEXT_MAX + 1];
	const uint8_t *t;
	size_t tlen, i;
	uint8_t state;
	struct delayed *d;
	time_t now = time(NULL);
	struct tm tm;
	ssize_t len;
	int k;

	if (p->command_id == SMPP_CMD_SUBMIT_MULTI) {
		if (p->number_of_dests == 0 ||
		    p->dests[0].dest_flag != SMPP_DEST_SME_ADDRESS)
			return NULL;
		dst = &p->dests[0].addr;
	}
	if (strlen(dst->addr) >= SMPP_ADDR_LEN ||
	    strlen(p->source.addr) >= SMPP_ADDR_LEN)
		return NULL;
	if (s->o.dlr_id_form == SIM_ID_SAME)
		snprintf(textid, sizeof(textid), "%s", msgid);
	else
		sim_id_format(s->o.dlr_id_form, n, textid, sizeof(textid));
	gmtime_r(&now, &tm);
	/* Appendix B dates are YYMMDDhhmm. */
	snprintf(when, sizeof(when), "%02d%02d%02d%02d%02d",
	    tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min);
	t = req_text(p, &tlen);
	for (i = 0; i < tlen && i < SIM_DLR_TEXT_MAX; i++)
		orig[i] = t[i] >= 0x20 && t[i] < 0x7F ? (char)t[i] : '.';
	orig[i] = '\0';
	state = stat_state(s->o.dlr_stat);
	k = snprintf(text, sizeof(text), "id:%s sub:001 dlvrd:%s submit "
	    "date:%s done date:%s stat:%s err:000 text:%s", textid,
	    state == 2 ? "001" : "000", when, when, s->o.dlr_stat, orig);
	if (k < 0 || (size_t)k >= sizeof(text))
		return NULL;

	smpp_pdu_init(o, SMPP_CMD_DELIVER_SM, 0);
	o->source = *dst;
	o->dest = p->source;
	o->esm_class = SMPP_ESM_MSG_TYPE_DLR;
	o->data_coding = 0;
	o->sm_length = (uint8_t)k;
	o->short_message = (const uint8_t *)text;
	if (s->o.has_dlr_tlvs) {
		/* receipted_message_id is a C-Octet String: NUL counted. */
		smpp_pdu_tlv_add(o, SMPP_TLV_RECEIPTED_MESSAGE_ID, msgid,
		    (uint16_t)(strlen(msgid) + 1));
		smpp_pdu_tlv_add(o, SMPP_TLV_MESSAGE_STATE, &state, 1);
	}
	if ((len = sim_encode(s)) < 0)
		return NULL;
	if ((d = delayed_new(s, NULL, s->obuf, (size_t)len)) == NULL)
		return NULL;
	snprintf(d->origin, sizeof(d->origin), "%s", c->system_id);
	return d;
}

static void
econn_submit(struct econn *c, const struct smpp_pdu *p, const uint8_t *buf,
    size_t len)
{
	struct sim *s = c->sim;
	char msgid[SMPP_MESSAGE_ID_LEN] = "";
	uint32_t status = s->o.error_status;
	struct delayed *receipt = NULL, *d;
	const struct submit_rec *r;
	uint64_t n = 0;
	ssize_t olen;

	s->st.submits++;
	if (p->command_id == SMPP_CMD_SUBMIT_SM)
		s->st.submit_sm++;
	else if (p->command_id == SMPP_CMD_DATA_SM)
		s->st.data_sm++;
	else
		s->st.submit_multi++;
	if (s->o.is_answering && status == SMPP_OK) {
		n = s->next_id++;
		sim_id_format(s->o.id_form, n, msgid, sizeof(msgid));
	}
	r = hist_add(c, p, buf, len, msgid, status);
	logx(s, "submit conn=%" PRIu64 " system_id=%s cmd=%s seq=%" PRIu32
	    " src=%s dst=%s dcs=0x%02x esm=0x%02x rd=0x%02x service_type=%s"
	    " len=%zu id=%s status=0x%08" PRIx32, c->id, c->system_id,
	    smpp_cmd_name(p->command_id), p->sequence_number,
	    dash(p->source.addr), dash(r->dst), p->data_coding, p->esm_class,
	    p->registered_delivery, dash(p->service_type), r->data_len,
	    dash(msgid), status);
	if (!s->o.is_answering) {
		s->st.unanswered++;
		return;
	}

	if (status != SMPP_OK) {
		/* §4.4.2: no body when command_status is an error. */
		uint8_t h[SMPP_HEADER_LEN];

		put_u32(h, SMPP_HEADER_LEN);
		put_u32(h + 4, smpp_cmd_resp_id(p->command_id));
		put_u32(h + 8, status);
		put_u32(h + 12, p->sequence_number);
		memcpy(s->obuf, h, sizeof(h));
		olen = SMPP_HEADER_LEN;
	} else {
		if ((p->registered_delivery & 0x03) == 0x01)
			receipt = receipt_build(c, p, msgid, n);
		smpp_pdu_init_resp(&s->out, p, SMPP_OK);
		snprintf(s->out.message_id, sizeof(s->out.message_id), "%s",
		    msgid);
		if ((olen = sim_encode(s)) < 0) {
			delayed_free(receipt);
			econn_nack(c, p->sequence_number, SMPP_ESME_RSYSERR);
			return;
		}
	}

	if (!s->is_paused && s->o.delay_ms == 0) {
		evbuffer_add(c->batch, s->obuf, (size_t)olen);
		s->st.answered++;
		if (receipt != NULL)
			receipt_schedule(s, receipt);
		return;
	}
	if ((d = delayed_new(s, c, s->obuf, (size_t)olen)) == NULL) {
		delayed_free(receipt);
		econn_nack(c, p->sequence_number, SMPP_ESME_RSYSERR);
		return;
	}
	d->receipt = receipt;
	TAILQ_INSERT_TAIL(&c->delayed, d, entry);
	if (s->o.delay_ms > 0)
		arm_ms(d->ev, s->o.delay_ms);
}

/* Sink mode: answer from the header, no body decode. */
static void
econn_sink(struct econn *c, const uint8_t *buf)
{
	struct sim *s = c->sim;
	uint32_t cmd = get_u32(buf + 4), seq = get_u32(buf + 12);
	char msgid[SMPP_MESSAGE_ID_LEN];
	uint8_t out[SMPP_HEADER_LEN + SMPP_MESSAGE_ID_LEN + 1];
	int n;

	s->st.submits++;
	if (cmd == SMPP_CMD_SUBMIT_SM)
		s->st.submit_sm++;
	else
		s->st.data_sm++;
	s->st.answered++;
	sim_id_format(s->o.id_form, s->next_id++, msgid, sizeof(msgid));
	n = (int)strlen(msgid) + 1;
	put_u32(out, (uint32_t)(SMPP_HEADER_LEN + n));
	put_u32(out + 4, cmd | 0x80000000u);
	put_u32(out + 8, SMPP_OK);
	put_u32(out + 12, seq);
	memcpy(out + SMPP_HEADER_LEN, msgid, (size_t)n);
	evbuffer_add(c->batch, out, SMPP_HEADER_LEN + (size_t)n);
}

/* ---- one PDU from an ESME ------------------------------------------ */

static void
econn_reply(struct econn *c, const struct smpp_pdu *req, uint32_t status)
{
	struct sim *s = c->sim;
	ssize_t n;

	smpp_pdu_init_resp(&s->out, req, status);
	if ((n = sim_encode(s)) < 0) {
		econn_nack(c, req->sequence_number, SMPP_ESME_RSYSERR);
		return;
	}
	evbuffer_add(c->batch, s->obuf, (size_t)n);
}

static void
econn_bind(struct econn *c, const struct smpp_pdu *p)
{
	struct sim *s = c->sim;
	uint32_t status = SMPP_OK;
	ssize_t n;

	if (c->state != SMPP_STATE_OPEN)
		status = SMPP_ESME_RALYBND;
	else if (s->o.system_id != NULL &&
	    strcmp(p->system_id, s->o.system_id) != 0)
		status = SMPP_ESME_RINVSYSID;
	else if (s->o.password != NULL &&
	    strcmp(p->password, s->o.password) != 0)
		status = SMPP_ESME_RINVPASWD;
	smpp_pdu_init_resp(&s->out, p, status);
	snprintf(s->out.system_id, sizeof(s->out.system_id), "smsc_sim");
	if ((n = sim_encode(s)) >= 0)
		evbuffer_add(c->batch, s->obuf, (size_t)n);
	if (status == SMPP_ESME_RALYBND)
		return;
	if (status != SMPP_OK) {
		s->st.bind_fails++;
		logx(s, "bind conn=%" PRIu64 " system_id=%s "
		    "status=0x%08" PRIx32, c->id, p->system_id, status);
		econn_close(c, "bind refused");
		return;
	}
	switch (p->command_id) {
	case SMPP_CMD_BIND_TRANSMITTER:
		c->state = SMPP_STATE_BOUND_TX;
		break;
	case SMPP_CMD_BIND_RECEIVER:
		c->state = SMPP_STATE_BOUND_RX;
		break;
	default:
		c->state = SMPP_STATE_BOUND_TRX;
		break;
	}
	snprintf(c->system_id, sizeof(c->system_id), "%s", p->system_id);
	s->st.binds++;
	logx(s, "bind conn=%" PRIu64 " system_id=%s kind=%s", c->id,
	    c->system_id, bind_name(c->state));
}

static void
ctl_printf(struct ctlconn *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ctl_printf(struct ctlconn *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(k->bev), fmt, ap);
	va_end(ap);
}

static void
econn_deliver_resp(struct econn *c, const struct smpp_pdu *p)
{
	struct sim *s = c->sim;
	struct pending *pd;

	s->st.deliver_resps++;
	if (p->command_status != SMPP_OK)
		s->st.deliver_errs++;
	logx(s, "deliver_resp conn=%" PRIu64 " seq=%" PRIu32
	    " status=0x%08" PRIx32, c->id, p->sequence_number,
	    p->command_status);
	TAILQ_FOREACH(pd, &s->pendings, entry) {
		if (pd->conn == c && pd->seq == p->sequence_number) {
			if (pd->ctl != NULL)
				ctl_printf(pd->ctl, "resp %" PRIu32 " 0x%08"
				    PRIx32 "\n", pd->seq, p->command_status);
			TAILQ_REMOVE(&s->pendings, pd, entry);
			free(pd);
			break;
		}
	}
}

static bool
can_submit(const struct econn *c)
{
	return c->state == SMPP_STATE_BOUND_TX ||
	    c->state == SMPP_STATE_BOUND_TRX;
}

static void
econn_handle(struct econn *c, const uint8_t *buf, size_t len)
{
	struct sim *s = c->sim;
	struct smpp_pdu *p = &s->req;
	uint32_t cmd = get_u32(buf + 4);
	enum smpp_status st;

	if (s->o.is_sink && can_submit(c) && (cmd == SMPP_CMD_SUBMIT_SM ||
	    cmd == SMPP_CMD_DATA_SM)) {
		econn_sink(c, buf);
		return;
	}
	st = smpp_pdu_decode(p, buf, len);
	if (st != SMPP_OK) {
		s->st.bad_pdus++;
		logx(s, "bad_pdu conn=%" PRIu64 " cmd=0x%08" PRIx32
		    " status=0x%08x", c->id, cmd, (unsigned)st);
		if (smpp_cmd_is_resp(cmd))
			return;	/* never answer a response (§3.3) */
		if (st == SMPP_ESME_RINVCMDID || !smpp_cmd_is_known(cmd) ||
		    smpp_cmd_resp_id(cmd) == SMPP_CMD_GENERIC_NACK)
			econn_nack(c, p->sequence_number, st);
		else
			econn_put_header(c, smpp_cmd_resp_id(cmd), st,
			    p->sequence_number);
		return;
	}
	switch (p->command_id) {
	case SMPP_CMD_BIND_TRANSMITTER:
	case SMPP_CMD_BIND_RECEIVER:
	case SMPP_CMD_BIND_TRANSCEIVER:
		econn_bind(c, p);
		break;
	case SMPP_CMD_UNBIND:
		s->st.unbinds++;
		econn_reply(c, p, SMPP_OK);
		econn_close(c, "unbind");
		break;
	case SMPP_CMD_ENQUIRE_LINK:
		s->st.enquire_links++;
		econn_reply(c, p, SMPP_OK);
		break;
	case SMPP_CMD_SUBMIT_SM:
	case SMPP_CMD_DATA_SM:
	case SMPP_CMD_SUBMIT_MULTI:
		if (!can_submit(c)) {
			econn_put_header(c, smpp_cmd_resp_id(p->command_id),
			    SMPP_ESME_RINVBNDSTS, p->sequence_number);
			break;
		}
		econn_submit(c, p, buf, len);
		break;
	case SMPP_CMD_DELIVER_SM_RESP:
		econn_deliver_resp(c, p);
		break;
	case SMPP_CMD_GENERIC_NACK:
		s->st.nacks_received++;
		logx(s, "generic_nack conn=%" PRIu64 " seq=%" PRIu32
		    " status=0x%08" PRIx32, c->id, p->sequence_number,
		    p->command_status);
		break;
	default:
		if (!smpp_cmd_is_resp(p->command_id))
			econn_nack(c, p->sequence_number, SMPP_ESME_RINVCMDID);
		break;
	}
}

/* ---- ESME connection lifecycle ------------------------------------- */

static void
econn_read_cb(struct bufferevent *bev, void *arg)
{
	struct econn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->is_closing) {
		size_t avail = evbuffer_get_length(in);
		uint32_t max = c->state == SMPP_STATE_OPEN ?
		    SMPP_MAX_PDU_LEN_OPEN : SMPP_MAX_PDU_LEN;
		const uint8_t *p;
		ssize_t n;

		if (avail < 4)
			break;
		if ((p = evbuffer_pullup(in, 4)) == NULL)
			break;
		n = smpp_frame_check(p, avail, max);
		if (n == 0)
			break;
		if (n < 0) {
			/* Framing is lost: nothing after this is a PDU. */
			c->sim->st.bad_pdus++;
			econn_nack(c, 0, SMPP_ESME_RINVCMDLEN);
			econn_close(c, "bad command_length");
			break;
		}
		if ((p = evbuffer_pullup(in, n)) == NULL)
			break;
		econn_handle(c, p, (size_t)n);
		evbuffer_drain(in, (size_t)n);
	}
	if (c->is_closing)
		evbuffer_drain(in, evbuffer_get_length(in));
	econn_flush(c);
}

static void
econn_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	econn_free(arg);
}

static void
econn_write_cb(struct bufferevent *bev, void *arg)
{
	struct econn *c = arg;

	/* Called when the output has drained (low watermark 0). */
	if (c->is_closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			event_active(c->ev_free, 0, 0);
		return;
	}
	if (c->is_throttled) {
		c->is_throttled = false;
		bufferevent_enable(bev, EV_READ);
	}
}

static void
econn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct econn *c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		logx(c->sim, "close conn=%" PRIu64 " reason=%s", c->id,
		    what & BEV_EVENT_EOF ? "eof" : "error");
		econn_free(c);
	}
}

/* Stop reading, flush what is queued, free once it is written. */
static void
econn_close(struct econn *c, const char *reason)
{
	if (c->is_closing)
		return;
	c->is_closing = true;
	logx(c->sim, "close conn=%" PRIu64 " reason=%s", c->id, reason);
	bufferevent_disable(c->bev, EV_READ);
	econn_flush(c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		event_active(c->ev_free, 0, 0);
}

static void
econn_free(struct econn *c)
{
	struct sim *s = c->sim;
	struct delayed *d;
	struct pending *pd, *tmp;

	TAILQ_REMOVE(&s->conns, c, entry);
	while ((d = TAILQ_FIRST(&c->delayed)) != NULL) {
		TAILQ_REMOVE(&c->delayed, d, entry);
		delayed_free(d);
	}
	TAILQ_FOREACH_SAFE(pd, &s->pendings, entry, tmp) {
		if (pd->conn != c)
			continue;
		if (pd->ctl != NULL)
			ctl_printf(pd->ctl, "resp %" PRIu32 " closed\n",
			    pd->seq);
		TAILQ_REMOVE(&s->pendings, pd, entry);
		free(pd);
	}
	bufferevent_free(c->bev);
	evbuffer_free(c->batch);
	event_free(c->ev_free);
	free(c);
}

static void
econn_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct sim *s = arg;
	struct econn *c;
	int one = 1;

	(void)l;
	(void)sa;
	(void)salen;
	/* An SMSC answers and delivers small PDUs: no Nagle delay. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto err_close;
	c->sim = s;
	c->id = ++s->next_conn_id;
	TAILQ_INIT(&c->delayed);
	if ((c->batch = evbuffer_new()) == NULL)
		goto err_free;
	if ((c->ev_free = event_new(s->base, -1, 0, econn_free_cb, c)) == NULL)
		goto err_batch;
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL)
		goto err_event;
	bufferevent_setcb(c->bev, econn_read_cb, econn_write_cb,
	    econn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	s->st.conns++;
	logx(s, "accept conn=%" PRIu64, c->id);
	return;

err_event:
	event_free(c->ev_free);
err_batch:
	evbuffer_free(c->batch);
err_free:
	free(c);
err_close:
	evutil_closesocket(fd);
}

/* ---- control port -------------------------------------------------- */

/* Encode s->out to a receiver and note the seq for "resp" lines. */
static int
ctl_push(struct ctlconn *k, struct econn *c, bool is_tracked)
{
	struct sim *s = k->sim;
	struct pending *pd;
	ssize_t n;

	if ((n = sim_encode(s)) < 0) {
		ctl_printf(k, "err PDU does not encode\n");
		return -1;
	}
	if (is_tracked) {
		if ((pd = calloc(1, sizeof(*pd))) == NULL) {
			ctl_printf(k, "err out of memory\n");
			return -1;
		}
		pd->seq = s->out.sequence_number;
		pd->conn = c;
		pd->ctl = k;
		TAILQ_INSERT_TAIL(&s->pendings, pd, entry);
	}
	bufferevent_write(c->bev, s->obuf, (size_t)n);
	s->st.delivers++;
	ctl_printf(k, "ok %" PRIu32 "\n", s->out.sequence_number);
	return 0;
}

/* "to=SYSTEM_ID" among the option words, else NULL. */
static const char *
opt_to(char **w, int nw)
{
	int i;

	for (i = 0; i < nw; i++)
		if (strncmp(w[i], "to=", 3) == 0)
			return w[i] + 3;
	return NULL;
}

static void
ctl_mo(struct ctlconn *k, char **w, int nw)
{
	struct sim *s = k->sim;
	struct smpp_pdu *o = &s->out;
	static uint8_t data[SIM_CTL_LINE_MAX / 2];
	uint8_t sar_ref[2], sar_tot, sar_seq;
	bool is_payload = false, has_sar = false;
	unsigned long dcs, v, ref, tot, seq;
	struct econn *c;
	ssize_t n;
	int i;

	if (nw < 5 || parse_ulong(w[3], 255, &dcs) < 0 ||
	    (n = hex_decode(w[4], data, sizeof(data))) < 0) {
		ctl_printf(k, "err usage: %s\n", ctl_help[0]);
		return;
	}
	if ((c = sim_receiver(s, opt_to(w + 5, nw - 5))) == NULL) {
		ctl_printf(k, "err no receiver bound\n");
		return;
	}
	smpp_pdu_init(o, SMPP_CMD_DELIVER_SM, sim_seq_next(s));
	o->source.ton = SMPP_TON_INTERNATIONAL;
	o->source.npi = 1;
	o->dest.ton = SMPP_TON_INTERNATIONAL;
	o->dest.npi = 1;
	snprintf(o->source.addr, sizeof(o->source.addr), "%s", w[1]);
	snprintf(o->dest.addr, sizeof(o->dest.addr), "%s", w[2]);
	o->data_coding = (uint8_t)dcs;
	for (i = 5; i < nw; i++) {
		if (strcmp(w[i], "udh") == 0)
			o->esm_class |= SMPP_ESM_UDHI;
		else if (strcmp(w[i], "payload") == 0)
			is_payload = true;
		else if (strncmp(w[i], "esm=", 4) == 0 &&
		    parse_ulong(w[i] + 4, 255, &v) == 0)
			o->esm_class = (uint8_t)v;
		else if (strncmp(w[i], "sto=", 4) == 0 &&
		    parse_ulong(w[i] + 4, 255, &v) == 0)
			o->source.ton = (uint8_t)v;
		else if (strncmp(w[i], "dto=", 4) == 0 &&
		    parse_ulong(w[i] + 4, 255, &v) == 0)
			o->dest.ton = (uint8_t)v;
		else if (strncmp(w[i], "sar=", 4) == 0 &&
		    sscanf(w[i] + 4, "%lu/%lu/%lu", &ref, &tot, &seq) == 3 &&
		    ref <= 0xFFFF && tot <= 255 && seq <= 255)
			has_sar = true;
		else if (strncmp(w[i], "to=", 3) != 0) {
			ctl_printf(k, "err unknown option %s\n", w[i]);
			return;
		}
	}
	/* §5.2.21: short_message holds at most 254 octets. */
	if (is_payload || n > SMPP_SHORT_MESSAGE_MAX) {
		smpp_pdu_tlv_add(o, SMPP_TLV_MESSAGE_PAYLOAD, data,
		    (uint16_t)n);
	} else {
		o->sm_length = (uint8_t)n;
		o->short_message = data;
	}
	if (has_sar) {
		sar_ref[0] = (uint8_t)(ref >> 8);
		sar_ref[1] = (uint8_t)ref;
		sar_tot = (uint8_t)tot;
		sar_seq = (uint8_t)seq;
		smpp_pdu_tlv_add(o, SMPP_TLV_SAR_MSG_REF_NUM, sar_ref, 2);
		smpp_pdu_tlv_add(o, SMPP_TLV_SAR_TOTAL_SEGMENTS, &sar_tot, 1);
		smpp_pdu_tlv_add(o, SMPP_TLV_SAR_SEGMENT_SEQNUM, &sar_seq, 1);
	}
	if (ctl_push(k, c, true) == 0)
		logx(s, "mo conn=%" PRIu64 " seq=%" PRIu32 " src=%s dst=%s "
		    "dcs=0x%02lx len=%zd", c->id, o->sequence_number, w[1],
		    w[2], dcs, n);
}

static void
ctl_dlr(struct ctlconn *k, char **w, int nw)
{
	struct sim *s = k->sim;
	struct smpp_pdu *o = &s->out;
	char text[SMPP_SHORT_MESSAGE_MAX + 1];
	bool has_tlvs = true;
	struct econn *c;
	uint8_t state;
	int i, n;

	if (nw < 5 || strlen(w[1]) >= SMPP_MESSAGE_ID_LEN) {
		ctl_printf(k, "err usage: %s\n", ctl_help[1]);
		return;
	}
	for (i = 5; i < nw; i++)
		if (strcmp(w[i], "notlv") == 0)
			has_tlvs = false;
	if ((c = sim_receiver(s, opt_to(w + 5, nw - 5))) == NULL) {
		ctl_printf(k, "err no receiver bound\n");
		return;
	}
	state = stat_state(w[2]);
	n = snprintf(text, sizeof(text), "id:%s sub:001 dlvrd:%s submit "
	    "date:2401011200 done date:2401011201 stat:%s err:000 text:",
	    w[1], state == 2 ? "001" : "000", w[2]);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		ctl_printf(k, "err receipt too long\n");
		return;
	}
	smpp_pdu_init(o, SMPP_CMD_DELIVER_SM, sim_seq_next(s));
	o->source.ton = SMPP_TON_INTERNATIONAL;
	o->source.npi = 1;
	o->dest.ton = SMPP_TON_INTERNATIONAL;
	o->dest.npi = 1;
	snprintf(o->source.addr, sizeof(o->source.addr), "%s", w[3]);
	snprintf(o->dest.addr, sizeof(o->dest.addr), "%s", w[4]);
	o->esm_class = SMPP_ESM_MSG_TYPE_DLR;
	o->sm_length = (uint8_t)n;
	o->short_message = (const uint8_t *)text;
	if (has_tlvs) {
		smpp_pdu_tlv_add(o, SMPP_TLV_RECEIPTED_MESSAGE_ID, w[1],
		    (uint16_t)(strlen(w[1]) + 1));
		smpp_pdu_tlv_add(o, SMPP_TLV_MESSAGE_STATE, &state, 1);
	}
	ctl_push(k, c, true);
}

static void
ctl_raw(struct ctlconn *k, char **w, int nw)
{
	struct sim *s = k->sim;
	struct econn *c;
	ssize_t n;

	if (nw < 2 || (n = hex_decode(w[1], s->obuf, sizeof(s->obuf))) <= 0) {
		ctl_printf(k, "err usage: %s\n", ctl_help[2]);
		return;
	}
	if ((c = sim_receiver(s, opt_to(w + 2, nw - 2))) == NULL) {
		ctl_printf(k, "err no receiver bound\n");
		return;
	}
	bufferevent_write(c->bev, s->obuf, (size_t)n);
	s->st.delivers++;
	ctl_printf(k, "ok %zd\n", n);
}

static void
ctl_stats(struct ctlconn *k)
{
	struct sim *s = k->sim;
	const struct sim_stats *t = &s->st;
	unsigned tx = 0, rx = 0, trx = 0, open = 0;
	size_t held = 0;
	struct econn *c;
	struct delayed *d;

	TAILQ_FOREACH(c, &s->conns, entry) {
		switch (c->state) {
		case SMPP_STATE_BOUND_TX:
			tx++;
			break;
		case SMPP_STATE_BOUND_RX:
			rx++;
			break;
		case SMPP_STATE_BOUND_TRX:
			trx++;
			break;
		case SMPP_STATE_OPEN:
		default:
			open++;
			break;
		}
		TAILQ_FOREACH(d, &c->delayed, entry)
			held++;
	}
	ctl_printf(k, "ok submits=%lu submit_sm=%lu data_sm=%lu "
	    "submit_multi=%lu answered=%lu unanswered=%lu held=%zu conns=%lu "
	    "binds=%lu bind_fails=%lu bound=%u tx=%u rx=%u trx=%u open=%u "
	    "enquire_links=%lu unbinds=%lu delivers=%lu deliver_resps=%lu "
	    "deliver_errs=%lu receipts=%lu receipts_dropped=%lu "
	    "nacks_sent=%lu nacks_received=%lu bad_pdus=%lu paused=%d\n",
	    t->submits, t->submit_sm, t->data_sm, t->submit_multi,
	    t->answered, t->unanswered, held, t->conns, t->binds,
	    t->bind_fails, tx + rx + trx, tx, rx, trx, open,
	    t->enquire_links, t->unbinds, t->delivers, t->deliver_resps,
	    t->deliver_errs, t->receipts, t->receipts_dropped, t->nacks_sent,
	    t->nacks_received, t->bad_pdus, s->is_paused ? 1 : 0);
}

static void
ctl_last(struct ctlconn *k, char **w, int nw)
{
	struct sim *s = k->sim;
	struct evbuffer *out = bufferevent_get_output(k->bev);
	unsigned long want;
	size_t i, n, at;

	if (nw < 2 || parse_ulong(w[1], SIM_HIST_MAX, &want) < 0) {
		ctl_printf(k, "err usage: last N (N <= %d)\n", SIM_HIST_MAX);
		return;
	}
	n = want < s->hist_count ? want : s->hist_count;
	for (i = 0; i < n; i++) {
		const struct submit_rec *r;

		at = (s->hist_next + SIM_HIST_MAX - n + i) % SIM_HIST_MAX;
		r = &s->hist[at];
		evbuffer_add_printf(out, "submit %s %s 0x%02x ", dash(r->src),
		    dash(r->dst), r->dcs);
		hex_add(out, r->data, r->data_len);
		evbuffer_add_printf(out, " %s cmd=%s seq=%" PRIu32
		    " system_id=%s esm=0x%02x rd=0x%02x id=%s status=0x%08"
		    PRIx32 " tlvs=", dash(r->service_type),
		    smpp_cmd_name(r->command_id), r->seq, dash(r->system_id),
		    r->esm_class, r->registered_delivery, dash(r->message_id),
		    r->status);
		hex_add(out, r->tlv, r->tlv_len);
		evbuffer_add(out, "\n", 1);
	}
	ctl_printf(k, "ok %zu\n", n);
}

static void
ctl_set(struct ctlconn *k, char **w, int nw)
{
	struct sim_opts *o = &k->sim->o;
	unsigned long v;
	int rc = -1;

	if (nw == 3) {
		if (strcmp(w[1], "error") == 0 &&
		    (rc = parse_ulong(w[2], 0xFFFFFFFFu, &v)) == 0)
			o->error_status = (uint32_t)v;
		else if (strcmp(w[1], "delay") == 0 &&
		    (rc = parse_ulong(w[2], 3600000, &v)) == 0)
			o->delay_ms = (unsigned)v;
		else if (strcmp(w[1], "answer") == 0 &&
		    (rc = parse_ulong(w[2], 1, &v)) == 0)
			o->is_answering = v == 1;
		else if (strcmp(w[1], "receipt") == 0 &&
		    (rc = parse_ulong(w[2], 3600000, &v)) == 0)
			o->receipt_ms = (unsigned)v;
		else if (strcmp(w[1], "dlrtlv") == 0 &&
		    (rc = parse_ulong(w[2], 1, &v)) == 0)
			o->has_dlr_tlvs = v == 1;
		else if (strcmp(w[1], "ids") == 0)
			rc = sim_id_form_parse(w[2], &o->id_form);
		else if (strcmp(w[1], "dlrid") == 0)
			rc = sim_id_form_parse(w[2], &o->dlr_id_form);
		else if (strcmp(w[1], "dlrstat") == 0 && strlen(w[2]) == 7) {
			snprintf(o->dlr_stat, sizeof(o->dlr_stat), "%s", w[2]);
			rc = 0;
		}
	}
	if (rc < 0)
		ctl_printf(k, "err usage: %s\n", ctl_help[7]);
	else
		ctl_printf(k, "ok\n");
}

static void
ctl_line(struct ctlconn *k, char *line)
{
	struct sim *s = k->sim;
	char *w[32], *save = NULL, *t;
	int nw = 0;
	size_t i;

	for (t = strtok_r(line, " \t", &save); t != NULL && nw < 32;
	    t = strtok_r(NULL, " \t", &save))
		w[nw++] = t;
	if (nw == 0)
		return;
	if (strcmp(w[0], "mo") == 0)
		ctl_mo(k, w, nw);
	else if (strcmp(w[0], "dlr") == 0)
		ctl_dlr(k, w, nw);
	else if (strcmp(w[0], "raw") == 0)
		ctl_raw(k, w, nw);
	else if (strcmp(w[0], "stats") == 0)
		ctl_stats(k);
	else if (strcmp(w[0], "last") == 0)
		ctl_last(k, w, nw);
	else if (strcmp(w[0], "close") == 0) {
		struct econn *c;
		unsigned n = 0;

		/* Abrupt, as a network failure: nothing queued is flushed. */
		while ((c = TAILQ_FIRST(&s->conns)) != NULL) {
			econn_free(c);
			n++;
		}
		logx(s, "control closed=%u", n);
		ctl_printf(k, "ok %u\n", n);
	} else if (strcmp(w[0], "pause") == 0) {
		s->is_paused = true;
		ctl_printf(k, "ok\n");
	} else if (strcmp(w[0], "resume") == 0) {
		sim_resume(s);
		ctl_printf(k, "ok\n");
	} else if (strcmp(w[0], "set") == 0)
		ctl_set(k, w, nw);
	else if (strcmp(w[0], "reset") == 0) {
		memset(&s->st, 0, sizeof(s->st));
		s->hist_count = 0;
		s->hist_next = 0;
		ctl_printf(k, "ok\n");
	} else if (strcmp(w[0], "help") == 0) {
		for (i = 0; i < sizeof(ctl_help) / sizeof(ctl_help[0]); i++)
			ctl_printf(k, "%s\n", ctl_help[i]);
		ctl_printf(k, "ok\n");
	} else
		ctl_printf(k, "err unknown command %s (try help)\n", w[0]);
}

static void
ctl_free(struct ctlconn *k)
{
	struct sim *s = k->sim;
	struct pending *pd;

	TAILQ_FOREACH(pd, &s->pendings, entry)
		if (pd->ctl == k)
			pd->ctl = NULL;
	TAILQ_REMOVE(&s->ctls, k, entry);
	bufferevent_free(k->bev);
	free(k);
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctlconn *k = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		ctl_line(k, line);
		free(line);
	}
	if (evbuffer_get_length(in) > SIM_CTL_LINE_MAX) {
		ctl_printf(k, "err line too long\n");
		evbuffer_drain(in, evbuffer_get_length(in));
	}
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ctl_free(arg);
}

static void
ctl_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct sim *s = arg;
	struct ctlconn *k;
	int one = 1;

	(void)l;
	(void)sa;
	(void)salen;
	/*
	 * "ok" then "resp" are two small lines per MO: without this, the
	 * second waits behind Nagle for the peer's delayed ACK of the first
	 * (40 ms), which a STOP timed through this port would show as the
	 * proxy's latency.
	 */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	k->sim = s;
	k->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (k->bev == NULL) {
		free(k);
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(k->bev, ctl_read_cb, NULL, ctl_event_cb, k);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&s->ctls, k, entry);
}

/* ---- main ---------------------------------------------------------- */

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sim *s = arg;

	(void)what;
	printf("smsc_sim: signal %d, exiting\n", (int)sig);
	event_base_loopexit(s->base, NULL);
}

static bool
is_sigint_ignored(void)
{
	struct sigaction sa;

	return sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

static struct evconnlistener *
listen_on(struct sim *s, const char *host, int port, evconnlistener_cb cb)
{
	struct sockaddr_in sin;
	struct evconnlistener *l;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "smsc_sim: bad address %s\n", host);
		return NULL;
	}
	l = evconnlistener_new_bind(s->base, cb, s, LEV_OPT_REUSEABLE |
	    LEV_OPT_CLOSE_ON_FREE, -1, (struct sockaddr *)&sin, sizeof(sin));
	if (l == NULL)
		fprintf(stderr, "smsc_sim: listen %s:%d: %s\n", host, port,
		    strerror(errno));
	return l;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: smsc_sim [-vnS] [-a HOST] [-p PORT] [-c CTL_PORT]"
	    " [-u SYSTEM_ID] [-w PASSWORD]\n"
	    "                [-i dec|hex|pad] [-I same|dec|hex|pad]"
	    " [-d DELAY_MS] [-e STATUS]\n"
	    "                [-r RECEIPT_MS] [-s FIRST_ID]\n"
	    "  -a HOST   listen address (127.0.0.1)\n"
	    "  -p PORT   SMPP port (2776)\n"
	    "  -c PORT   control port on the same address (off)\n"
	    "  -u, -w    accept only this system_id / password\n"
	    "  -i        message id form (dec); -I form of the id in"
	    " receipt text (same)\n"
	    "  -d MS     answer submits after MS ms; -n never answer\n"
	    "  -e STATUS answer submits with this command_status\n"
	    "  -r MS     receipt delay after the response (100)\n"
	    "  -s N      first message id (1)\n"
	    "  -S        sink mode for benchmarks; -v log every PDU event\n");
}

static int
opts_parse(struct sim_opts *o, int argc, char *argv[])
{
	unsigned long v;
	int ch;

	while ((ch = getopt(argc, argv, "a:p:c:u:w:i:I:d:ne:r:s:vSh")) != -1) {
		switch (ch) {
		case 'a':
			o->host = optarg;
			break;
		case 'p':
		case 'c':
			if (parse_ulong(optarg, 65535, &v) < 0 || v == 0)
				return -1;
			if (ch == 'p')
				o->port = (int)v;
			else
				o->ctl_port = (int)v;
			break;
		case 'u':
			o->system_id = optarg;
			break;
		case 'w':
			o->password = optarg;
			break;
		case 'i':
			if (sim_id_form_parse(optarg, &o->id_form) < 0 ||
			    o->id_form == SIM_ID_SAME)
				return -1;
			break;
		case 'I':
			if (sim_id_form_parse(optarg, &o->dlr_id_form) < 0)
				return -1;
			break;
		case 'd':
			if (parse_ulong(optarg, 3600000, &v) < 0)
				return -1;
			o->delay_ms = (unsigned)v;
			break;
		case 'n':
			o->is_answering = false;
			break;
		case 'e':
			if (parse_ulong(optarg, 0xFFFFFFFFu, &v) < 0)
				return -1;
			o->error_status = (uint32_t)v;
			break;
		case 'r':
			if (parse_ulong(optarg, 3600000, &v) < 0)
				return -1;
			o->receipt_ms = (unsigned)v;
			break;
		case 's':
			if (parse_ulong(optarg, 0xFFFFFFFFu, &v) < 0)
				return -1;
			o->first_id = v;
			break;
		case 'v':
			o->is_verbose = true;
			break;
		case 'S':
			o->is_sink = true;
			break;
		case 'h':
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	struct sim *s;
	struct evconnlistener *lis = NULL, *ctl = NULL;
	struct event *ev_term = NULL, *ev_int = NULL;
	struct econn *c;
	struct ctlconn *k;
	struct delayed *d;
	struct pending *pd;
	int rc = 1;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->hist = calloc(SIM_HIST_MAX, sizeof(*s->hist))) == NULL) {
		fprintf(stderr, "smsc_sim: out of memory\n");
		return 1;
	}
	s->o.host = "127.0.0.1";
	s->o.port = 2776;
	s->o.is_answering = true;
	s->o.receipt_ms = 100;
	s->o.has_dlr_tlvs = true;
	s->o.first_id = 1;
	snprintf(s->o.dlr_stat, sizeof(s->o.dlr_stat), "DELIVRD");
	if (opts_parse(&s->o, argc, argv) < 0) {
		usage();
		free(s->hist);
		free(s);
		return 2;
	}
	s->next_id = s->o.first_id;
	TAILQ_INIT(&s->conns);
	TAILQ_INIT(&s->ctls);
	TAILQ_INIT(&s->pendings);
	TAILQ_INIT(&s->receipts);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	if ((s->base = event_base_new()) == NULL)
		goto out;
	if ((lis = listen_on(s, s->o.host, s->o.port, econn_accept_cb)) == NULL)
		goto out;
	if (s->o.ctl_port != 0 && (ctl = listen_on(s, s->o.host,
	    s->o.ctl_port, ctl_accept_cb)) == NULL)
		goto out;
	if ((ev_term = evsignal_new(s->base, SIGTERM, signal_cb, s)) == NULL)
		goto out;
	event_add(ev_term, NULL);
	/*
	 * Started in the background by a shell (make run), SIGINT arrives
	 * ignored: keep it so, so that Ctrl-C stops the proxy first and the
	 * script then stops us by pid.
	 */
	if (!is_sigint_ignored()) {
		ev_int = evsignal_new(s->base, SIGINT, signal_cb, s);
		if (ev_int == NULL)
			goto out;
		event_add(ev_int, NULL);
	}
	printf("smsc_sim: listening on %s:%d", s->o.host, s->o.port);
	if (ctl != NULL)
		printf(", control on %s:%d", s->o.host, s->o.ctl_port);
	printf("%s\n", s->o.is_sink ? " (sink)" : "");
	event_base_dispatch(s->base);
	rc = 0;

out:
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		econn_free(c);
	while ((k = TAILQ_FIRST(&s->ctls)) != NULL)
		ctl_free(k);
	while ((pd = TAILQ_FIRST(&s->pendings)) != NULL) {
		TAILQ_REMOVE(&s->pendings, pd, entry);
		free(pd);
	}
	while ((d = TAILQ_FIRST(&s->receipts)) != NULL) {
		TAILQ_REMOVE(&s->receipts, d, entry);
		delayed_free(d);
	}
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_int != NULL)
		event_free(ev_int);
	if (ctl != NULL)
		evconnlistener_free(ctl);
	if (lis != NULL)
		evconnlistener_free(lis);
	if (s->base != NULL)
		event_base_free(s->base);
	free(s->hist);
	free(s);
	return rc;
}
