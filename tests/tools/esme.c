/*
 * esme: a small SMPP v3.4 client for trying stopgate (or any SMSC) by hand
 * and from scripts.
 *
 *   esme [-h HOST] [-p PORT] -u SYSTEM_ID -w PASSWORD [-b trx|tx|rx]
 *        [-t SECONDS] send FROM TO TEXT [--service-type X] [--dlr]
 *        [--wait-dlr SECONDS]
 *   esme ... listen [--count N] [--timeout SECONDS]
 *
 * send binds, submits TEXT (UTF-8; GSM 7-bit if every character has a GSM
 * code, else UCS-2; split into concatenated parts when long), prints one
 * "submit_sm_resp status=0x... message_id=..." line per part and, with
 * --wait-dlr, waits for the receipts and prints them. listen prints every
 * deliver_sm and answers it. Exit status: 0 when every status was 0 (and
 * every awaited receipt or message arrived), 1 otherwise, 2 on a usage or
 * connection error.
 *
 * Blocking sockets and poll(): a CLI has one peer and one thing to do.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smpp/frame.h"
#include "smpp/pdu.h"
#include "smpp/text.h"

#define ESME_EXIT_OK		0
#define ESME_EXIT_STATUS	1
#define ESME_EXIT_USAGE		2
#define ESME_ENQUIRE_MS		30000	/* keepalive in listen */

struct esme {
	int		 fd;
	uint32_t	 seq;
	int		 timeout_ms;	/* per request */
	unsigned	 receipts;	/* receipts seen */
	unsigned	 delivers;	/* deliver_sm seen */
	size_t		 len;		/* bytes in buf */
	uint8_t		 buf[SMPP_MAX_PDU_LEN * 2];
	uint8_t		 frame[SMPP_MAX_PDU_LEN];
	uint8_t		 obuf[SMPP_MAX_PDU_LEN];
	struct smpp_pdu	 in;		/* last read; views into frame */
	struct smpp_pdu	 out;
};

static volatile sig_atomic_t is_interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	is_interrupted = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Print s as a double-quoted string, escaping quotes and controls. */
static void
print_quoted(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch == '\r')
			fputs("\\r", stdout);
		else if (ch < 0x20 || ch == 0x7F)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* Connect to host:port; returns the fd or -1 (message printed). */
static int
esme_connect(const char *host, const char *port, int timeout_ms)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "esme: %s:%s: %s\n", host, port,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		int err = 0;
		socklen_t elen = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
		    errno != EINPROGRESS)
			goto next;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) != 1)
			goto next_timeout;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 ||
		    err != 0) {
			errno = err;
			goto next;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		break;
next_timeout:
		errno = ETIMEDOUT;
next:
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	if (fd < 0)
		fprintf(stderr, "esme: connect %s:%s: %s\n", host, port,
		    strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* Write all of buf (the socket is non-blocking). 0 or -1. */
static int
esme_write(struct esme *e, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(e->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { .fd = e->fd, .events = POLLOUT };

			if (poll(&pfd, 1, e->timeout_ms) != 1) {
				fprintf(stderr, "esme: write timed out\n");
				return -1;
			}
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "esme: write: %s\n", strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Encode e->out and send it. 0 or -1. */
static int
esme_send(struct esme *e)
{
	ssize_t n = smpp_pdu_encode(&e->out, e->obuf, sizeof(e->obuf));

	if (n < 0) {
		fprintf(stderr, "esme: %s does not encode (field too long?)\n",
		    smpp_cmd_name(e->out.command_id));
		return -1;
	}
	return esme_write(e, e->obuf, (size_t)n);
}

static uint32_t
esme_seq(struct esme *e)
{
	e->seq = e->seq % 0x7FFFFFFFu + 1;
	return e->seq;
}

/* Answer req with an empty-bodied response of status. */
static int
esme_respond(struct esme *e, const struct smpp_pdu *req, uint32_t status)
{
	smpp_pdu_init_resp(&e->out, req, status);
	return esme_send(e);
}

/*
 * Read one PDU into e->in, waiting until deadline (now_ms() clock).
 * Returns 1, 0 on timeout or interrupt, -1 on a closed or broken
 * connection (message printed).
 */
static int
esme_read(struct esme *e, int64_t deadline)
{
	for (;;) {
		ssize_t n = smpp_frame_check(e->buf, e->len, SMPP_MAX_PDU_LEN);
		struct pollfd pfd = { .fd = e->fd, .events = POLLIN };
		int64_t left;
		enum smpp_status st;

		if (n < 0) {
			fprintf(stderr, "esme: framing lost (command_length "
			    "%" PRIu32 ")\n", smpp_frame_peek_len(e->buf));
			return -1;
		}
		if (n > 0) {
			memcpy(e->frame, e->buf, (size_t)n);
			e->len -= (size_t)n;
			memmove(e->buf, e->buf + n, e->len);
			st = smpp_pdu_decode(&e->in, e->frame, (size_t)n);
			if (st != SMPP_OK) {
				fprintf(stderr, "esme: undecodable %s (0x%08"
				    PRIx32 ")\n", smpp_cmd_name(
				    e->in.command_id), (uint32_t)st);
				if (!smpp_cmd_is_resp(e->in.command_id))
					esme_respond(e, &e->in, st);
				continue;
			}
			return 1;
		}
		left = deadline - now_ms();
		if (left <= 0 || is_interrupted)
			return 0;
		if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = recv(e->fd, e->buf + e->len, sizeof(e->buf) - e->len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			fprintf(stderr, "esme: connection closed by peer\n");
			return -1;
		}
		e->len += (size_t)n;
	}
}

/* Print a deliver_sm (MO or receipt) on one line. */
static void
print_deliver(const struct smpp_pdu *p)
{
	static char text[SMPP_TEXT_DECODE_CAP(65536)];
	const struct smpp_tlv *t;
	const uint8_t *sm = p->short_message;
	size_t len = p->sm_length;
	bool is_receipt = (p->esm_class & SMPP_ESM_MSG_TYPE_MASK) != 0;
	ssize_t n;

	if (len == 0 && (t = smpp_pdu_tlv_find(p,
	    SMPP_TLV_MESSAGE_PAYLOAD)) != NULL) {
		sm = t->value;
		len = t->len;
	}
	printf("deliver_sm %s seq=%" PRIu32 " from=%s to=%s esm_class=0x%02x"
	    " data_coding=0x%02x", is_receipt ? "receipt" : "mo",
	    p->sequence_number, p->source.addr, p->dest.addr, p->esm_class,
	    p->data_coding);
	if ((t = smpp_pdu_tlv_find(p, SMPP_TLV_RECEIPTED_MESSAGE_ID)) != NULL)
		printf(" receipted_message_id=%.*s", (int)strnlen(
		    (const char *)t->value, t->len), (const char *)t->value);
	if ((t = smpp_pdu_tlv_find(p, SMPP_TLV_MESSAGE_STATE)) != NULL &&
	    t->len == 1)
		printf(" message_state=%u", t->value[0]);
	n = len == 0 ? 0 : smpp_text_decode_sm(p->data_coding, p->esm_class,
	    sm, len, false, text, sizeof(text), NULL);
	if (n < 0) {
		size_t i;

		fputs(" hex=", stdout);
		for (i = 0; i < len; i++)
			printf("%02x", sm[i]);
	} else {
		fputs(" text=", stdout);
		print_quoted(len == 0 ? "" : text);
	}
	putchar('\n');
	fflush(stdout);
}

/*
 * Handle a PDU the peer sent on its own: answer enquire_link, print and
 * answer deliver_sm, note unbind. Returns 0, or -1 if the session is over.
 */
static int
esme_unsolicited(struct esme *e)
{
	const struct smpp_pdu *p = &e->in;

	switch (p->command_id) {
	case SMPP_CMD_ENQUIRE_LINK:
		return esme_respond(e, p, SMPP_OK);
	case SMPP_CMD_DELIVER_SM:
		print_deliver(p);
		e->delivers++;
		if ((p->esm_class & SMPP_ESM_MSG_TYPE_MASK) != 0)
			e->receipts++;
		smpp_pdu_init_resp(&e->out, p, SMPP_OK);
		return esme_send(e);
	case SMPP_CMD_DATA_SM:
		print_deliver(p);
		e->delivers++;
		smpp_pdu_init_resp(&e->out, p, SMPP_OK);
		return esme_send(e);
	case SMPP_CMD_UNBIND:
		esme_respond(e, p, SMPP_OK);
		fprintf(stderr, "esme: peer unbound\n");
		return -1;
	default:
		if (!smpp_cmd_is_resp(p->command_id))
			return esme_respond(e, p, SMPP_ESME_RINVCMDID);
		return 0;
	}
}

/*
 * Wait for the response to seq, handling anything else that arrives.
 * Returns 1 (in e->in), 0 on timeout, -1 on a broken session.
 */
static int
esme_wait_resp(struct esme *e, uint32_t seq)
{
	int64_t deadline = now_ms() + e->timeout_ms;
	int rc;

	while ((rc = esme_read(e, deadline)) == 1) {
		if (smpp_cmd_is_resp(e->in.command_id) &&
		    e->in.sequence_number == seq)
			return 1;
		/* generic_nack with seq 0: the peer lost our framing. */
		if (e->in.command_id == SMPP_CMD_GENERIC_NACK)
			return 1;
		if (esme_unsolicited(e) < 0)
			return -1;
	}
	if (rc == 0)
		fprintf(stderr, "esme: no response within %d ms\n",
		    e->timeout_ms);
	return rc;
}

/* " error=ESME_R..." for a failed status with a v3.4 name. */
static void
print_error_name(uint32_t status)
{
	const char *name = smpp_status_name(status);

	if (status != SMPP_OK && name != NULL)
		printf(" error=%s", name);
}

/* Bind; returns the command_status, or -1 on a broken session. */
static int64_t
esme_bind(struct esme *e, uint32_t cmd, const char *system_id,
    const char *password)
{
	smpp_pdu_init(&e->out, cmd, esme_seq(e));
	snprintf(e->out.system_id, sizeof(e->out.system_id), "%s", system_id);
	snprintf(e->out.password, sizeof(e->out.password), "%s", password);
	e->out.interface_version = 0x34;
	if (strlen(system_id) >= SMPP_SYSTEM_ID_LEN ||
	    strlen(password) >= SMPP_PASSWORD_LEN) {
		fprintf(stderr, "esme: system_id is at most 15 characters, "
		    "password at most 8 (SMPP v3.4 §4.1.1)\n");
		return -1;
	}
	if (esme_send(e) < 0 || esme_wait_resp(e, e->seq) != 1)
		return -1;
	if (e->in.command_status != SMPP_OK) {
		printf("%s status=0x%08" PRIx32, smpp_cmd_name(
		    e->in.command_id), e->in.command_status);
		print_error_name(e->in.command_status);
		putchar('\n');
	}
	return e->in.command_status;
}

static void
esme_unbind(struct esme *e)
{
	int saved = e->timeout_ms;

	smpp_pdu_init(&e->out, SMPP_CMD_UNBIND, esme_seq(e));
	if (esme_send(e) < 0)
		return;
	e->timeout_ms = 2000;
	(void)esme_wait_resp(e, e->seq);
	e->timeout_ms = saved;
}

struct send_args {
	const char	*from;
	const char	*to;
	const char	*text;
	const char	*service_type;
	bool		 wants_dlr;
	int		 wait_dlr_s;	/* 0: do not wait */
};

static int
cmd_send(struct esme *e, const struct send_args *a)
{
	static struct smpp_text_parts parts;
	int rc = ESME_EXIT_OK;
	unsigned want_receipts = 0;
	size_t i;

	if (smpp_text_encode(a->text, strlen(a->text),
	    (uint8_t)(time(NULL) & 0xFF), &parts) < 0) {
		fprintf(stderr, "esme: text is not valid UTF-8 or too long\n");
		return ESME_EXIT_USAGE;
	}
	for (i = 0; i < parts.count; i++) {
		struct smpp_pdu *o = &e->out;
		const char *mid;

		smpp_pdu_init(o, SMPP_CMD_SUBMIT_SM, esme_seq(e));
		snprintf(o->service_type, sizeof(o->service_type), "%s",
		    a->service_type);
		/* TON/NPI unknown: let the SMSC (or stopgate) normalise. */
		snprintf(o->source.addr, sizeof(o->source.addr), "%s",
		    a->from);
		snprintf(o->dest.addr, sizeof(o->dest.addr), "%s", a->to);
		o->source.npi = 1;
		o->dest.npi = 1;
		o->esm_class = parts.parts[i].has_udh ? SMPP_ESM_UDHI : 0;
		o->registered_delivery = a->wants_dlr ? 1 : 0;
		o->data_coding = parts.data_coding;
		o->sm_length = (uint8_t)parts.parts[i].len;
		o->short_message = parts.parts[i].bytes;
		if (esme_send(e) < 0 || esme_wait_resp(e, e->seq) != 1)
			return ESME_EXIT_USAGE;
		mid = e->in.command_id == SMPP_CMD_SUBMIT_SM_RESP ?
		    e->in.message_id : "";
		printf("%s status=0x%08" PRIx32 " message_id=%s",
		    smpp_cmd_name(e->in.command_id), e->in.command_status,
		    mid);
		if (parts.count > 1)
			printf(" part=%zu/%zu", i + 1, parts.count);
		print_error_name(e->in.command_status);
		putchar('\n');
		fflush(stdout);
		if (e->in.command_status != SMPP_OK)
			rc = ESME_EXIT_STATUS;
		else if (a->wants_dlr)
			want_receipts++;
	}
	if (a->wait_dlr_s > 0 && want_receipts > 0) {
		int64_t deadline = now_ms() + (int64_t)a->wait_dlr_s * 1000;

		while (e->receipts < want_receipts) {
			int r = esme_read(e, deadline);

			if (r < 0)
				return ESME_EXIT_USAGE;
			if (r == 0) {
				printf("no receipt within %d s\n",
				    a->wait_dlr_s);
				return ESME_EXIT_STATUS;
			}
			if (esme_unsolicited(e) < 0)
				return ESME_EXIT_USAGE;
		}
	}
	return rc;
}

static int
cmd_listen(struct esme *e, long count, int timeout_s)
{
	int64_t deadline = timeout_s > 0 ? now_ms() + (int64_t)timeout_s *
	    1000 : INT64_MAX;
	int64_t next_enquire = now_ms() + ESME_ENQUIRE_MS;

	while (count <= 0 || e->delivers < (unsigned long)count) {
		int64_t until = deadline < next_enquire ? deadline :
		    next_enquire;
		int r = esme_read(e, until);

		if (r < 0)
			return ESME_EXIT_USAGE;
		if (r == 0) {
			if (is_interrupted || now_ms() >= deadline)
				break;
			smpp_pdu_init(&e->out, SMPP_CMD_ENQUIRE_LINK,
			    esme_seq(e));
			if (esme_send(e) < 0)
				return ESME_EXIT_USAGE;
			next_enquire = now_ms() + ESME_ENQUIRE_MS;
			continue;
		}
		if (esme_unsolicited(e) < 0)
			return ESME_EXIT_USAGE;
	}
	if (count > 0 && e->delivers < (unsigned long)count) {
		printf("received %u of %ld\n", e->delivers, count);
		return ESME_EXIT_STATUS;
	}
	return ESME_EXIT_OK;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: esme [-h HOST] [-p PORT] -u SYSTEM_ID -w PASSWORD"
	    " [-b trx|tx|rx] [-t SECONDS]\n"
	    "            send FROM TO TEXT [--service-type X] [--dlr]"
	    " [--wait-dlr SECONDS]\n"
	    "       esme ... listen [--count N] [--timeout SECONDS]\n"
	    "defaults: -h 127.0.0.1 -p 2775 -b trx -t 10\n");
}

/* Positive int from s, at most max; -1 if not one. */
static long
parse_num(const char *s, long max)
{
	char *end;
	long v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 0 || v > max)
		return -1;
	return v;
}

int
main(int argc, char *argv[])
{
	static struct esme e;
	const char *host = "127.0.0.1", *port = "2775";
	const char *system_id = NULL, *password = NULL, *kind = "trx";
	struct send_args sa = { .service_type = "" };
	long count = 0, v;
	int timeout_s = 0, rc, ch, i;
	bool is_send;
	uint32_t bind_cmd;
	int64_t st;

	e.timeout_ms = 10000;
	while ((ch = getopt(argc, argv, "+h:p:u:w:b:t:")) != -1) {
		switch (ch) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		case 'u':
			system_id = optarg;
			break;
		case 'w':
			password = optarg;
			break;
		case 'b':
			kind = optarg;
			break;
		case 't':
			if ((v = parse_num(optarg, 3600)) <= 0)
				goto usage;
			e.timeout_ms = (int)v * 1000;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || system_id == NULL || password == NULL)
		goto usage;
	if (strcmp(kind, "trx") == 0)
		bind_cmd = SMPP_CMD_BIND_TRANSCEIVER;
	else if (strcmp(kind, "tx") == 0)
		bind_cmd = SMPP_CMD_BIND_TRANSMITTER;
	else if (strcmp(kind, "rx") == 0)
		bind_cmd = SMPP_CMD_BIND_RECEIVER;
	else
		goto usage;

	is_send = strcmp(argv[0], "send") == 0;
	if (is_send) {
		if (argc < 4)
			goto usage;
		sa.from = argv[1];
		sa.to = argv[2];
		sa.text = argv[3];
		i = 4;
	} else if (strcmp(argv[0], "listen") == 0)
		i = 1;
	else
		goto usage;
	for (; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] :
		    NULL;

		if (is_send && strcmp(opt, "--dlr") == 0)
			sa.wants_dlr = true;
		else if (is_send && strcmp(opt, "--service-type") == 0 &&
		    val != NULL && strlen(val) < SMPP_SERVICE_TYPE_LEN) {
			sa.service_type = val;
			i++;
		} else if (is_send && strcmp(opt, "--wait-dlr") == 0 &&
		    (v = parse_num(val, 86400)) > 0) {
			sa.wants_dlr = true;
			sa.wait_dlr_s = (int)v;
			i++;
		} else if (!is_send && strcmp(opt, "--count") == 0 &&
		    (v = parse_num(val, 1000000)) > 0) {
			count = v;
			i++;
		} else if (!is_send && strcmp(opt, "--timeout") == 0 &&
		    (v = parse_num(val, 86400)) > 0) {
			timeout_s = (int)v;
			i++;
		} else
			goto usage;
	}

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((e.fd = esme_connect(host, port, e.timeout_ms)) < 0)
		return ESME_EXIT_USAGE;
	st = esme_bind(&e, bind_cmd, system_id, password);
	if (st < 0) {
		close(e.fd);
		return ESME_EXIT_USAGE;
	}
	if (st != SMPP_OK) {
		close(e.fd);
		return ESME_EXIT_STATUS;
	}
	rc = is_send ? cmd_send(&e, &sa) : cmd_listen(&e, count, timeout_s);
	if (rc != ESME_EXIT_USAGE)
		esme_unbind(&e);
	close(e.fd);
	return rc;

usage:
	usage();
	return ESME_EXIT_USAGE;
}
