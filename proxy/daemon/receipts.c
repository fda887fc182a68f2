/*
 * Receipt routing: a delivery receipt (or other notification) from an
 * SMSC goes to the account that sent its message, and a receipt that
 * overtook its submit_sm_resp is held until the response names it. See
 * receipts.h.
 */
#include "proxy/daemon/receipts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/config.h"
#include "proxy/cluster/cluster.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/outbox.h"
#include "proxy/daemon/upstream.h"
#include "proxy/daemon/writer.h"
#include "proxy/io/log.h"
#include "proxy/io/util.h"
#include "smpp/number.h"
#include "smpp/receipt.h"

int
receipts_message_id(const struct smpp_pdu *pdu, char *out, size_t cap)
{
	const struct smpp_tlv	*t;
	const uint8_t		*text = NULL;
	struct smpp_receipt	 r;
	size_t			 n, textlen = 0;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	t = smpp_pdu_tlv_find(pdu, SMPP_TLV_RECEIPTED_MESSAGE_ID);
	if (t != NULL && t->len > 0) {
		/* Some SMSCs omit the NUL (see smpp/pdu.c leniency). */
		n = strnlen((const char *)t->value, t->len);
		if (n > 0 && n < cap) {
			memcpy(out, t->value, n);
			out[n] = '\0';
			return 0;
		}
	}
	text = smpp_pdu_text(pdu, &textlen);
	if (text == NULL ||
	    smpp_receipt_parse((const char *)text, textlen, &r) == -1)
		return -1;
	if (strlen(r.id) >= cap)
		return -1;
	str_copy(out, cap, r.id);
	return 0;
}

struct pending_find {
	char	(*variants)[SMPP_RECEIPT_ID_LEN];
	int	  n;
	char	 *account;
};

static bool
pending_match(void *arg, const struct store_msgmap *m)
{
	struct pending_find	*pf = arg;
	char			 norm[SMPP_RECEIPT_ID_LEN];
	int			 v;

	smpp_msgid_normalize(m->message_id, norm, sizeof(norm));
	for (v = 0; v < pf->n; v++)
		if (strcmp(norm, pf->variants[v]) == 0) {
			str_copy(pf->account, STORE_NAME_MAX, m->account);
			return true;
		}
	return false;
}

struct pending_up {
	const char		*upstream;
	struct pending_find	*pf;
};

static bool
pending_up_match(void *arg, const struct store_msgmap *m)
{
	struct pending_up	*pu = arg;

	return strcmp(m->upstream, pu->upstream) == 0 &&
	    pending_match(pu->pf, m);
}

int
receipts_account_find(struct daemon *d, const char *upstream, const char *id,
    char account[STORE_NAME_MAX])
{
	char			variants[SMPP_MSGID_VARIANTS_MAX]
				    [SMPP_RECEIPT_ID_LEN];
	struct pending_find	pf;
	struct pending_up	pu;
	int			n, v, r, result = 0;

	n = smpp_msgid_variants(id, variants, SMPP_MSGID_VARIANTS_MAX);
	/* The receipt may beat the batch that records its message. */
	pf.variants = variants;
	pf.n = n;
	pf.account = account;
	pu.upstream = upstream;
	pu.pf = &pf;
	if (writer_msgmap_each(d->writer, pending_up_match, &pu))
		return 1;
	for (v = 0; v < n; v++) {
		r = store_msgmap_get(d->store, upstream, variants[v], account);
		if (r == 1)
			return 1;
		if (r == -1)
			result = -1;
	}
	return result;
}

static void
answer(const struct upstream_reply *reply, uint32_t status)
{
	upstream_reply_send(reply, status, NULL);
}

/* --- receipts that overtook their submit_sm_resp ------------------------- */

/* Response timeout assumed when an upstream has none configured. */
#define RECEIPTS_HOLD_DEFAULT_MS	10000

/* One held receipt, not yet answered to the SMSC. */
struct receipt_held {
	char		 upstream[CONFIG_NAME_MAX];
	char		 id[SMPP_RECEIPT_ID_LEN];	/* as received */
	char		 variants[SMPP_MSGID_VARIANTS_MAX][SMPP_RECEIPT_ID_LEN];
	int		 nvariants;
	uint8_t		*raw;		/* owned: the PDU as received */
	size_t		 len;
	struct upstream_reply reply;
	uint64_t	 deadline_ms;
	bool		 is_matched;
	char		 account[STORE_NAME_MAX];	/* when matched */
};

/* Route the matched held receipts, answer the expired ones, keep the
 * rest in arrival order and wait for the earliest deadline. */
static void
held_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct receipt_held	*h;
	struct timeval	 tv;
	uint64_t	 now = daemon_now_ms(), next = 0;
	size_t		 i, kept = 0;

	(void)fd;
	(void)what;
	for (i = 0; i < d->nheld; i++) {
		h = &d->held[i];
		if (h->is_matched) {
			log_debug("event=receipt upstream=%s message_id=%s "
			    "account=%s held=yes", h->upstream, h->id,
			    h->account);
			outbox_deliver(d->outbox, h->account, h->raw, h->len,
			    &h->reply, "receipt");
		} else if (now >= h->deadline_ms && d->cluster != NULL) {
			/* Another node may have sent it (SPEC §8). */
			outbox_deliver(d->outbox, CLUSTER_RECEIPTS_ACCOUNT,
			    h->raw, h->len, &h->reply, "receipt");
		} else if (now >= h->deadline_ms) {
			log_warnx("event=receipt_unroutable upstream=%s "
			    "message_id=%s reason=unknown held=yes "
			    "doing=receipt", h->upstream, h->id);
			answer(&h->reply, SMPP_OK);
		} else {
			if (next == 0 || h->deadline_ms < next)
				next = h->deadline_ms;
			if (kept != i)
				d->held[kept] = *h;
			kept++;
			continue;
		}
		free(h->raw);
		h->raw = NULL;
	}
	d->nheld = kept;
	if (kept > 0) {
		tv.tv_sec = (time_t)((next - now) / 1000);
		tv.tv_usec = (suseconds_t)((next - now) % 1000 * 1000);
		event_add(d->held_ev, &tv);
	}
}

/*
 * Receipts held for upstream: each one overtook a submit still awaiting its
 * response there, so an upstream may hold no more than it has in flight. A
 * misbehaving SMSC (or one account's burst) thus fills only its own share.
 */
static size_t
held_count(const struct daemon *d, const char *upstream)
{
	size_t	i, n = 0;

	for (i = 0; i < d->nheld; i++)
		if (strcmp(d->held[i].upstream, upstream) == 0)
			n++;
	return n;
}

/*
 * Hold the receipt for id from p if submits still await a response there.
 * Returns 0 when held (answered later), -1 when it is to be answered now:
 * nothing in flight, as many held for p as it has in flight, too many held
 * in all, or no memory.
 */
static int
held_add(struct daemon *d, struct upstream_pool *p, const char *id,
    const uint8_t *raw, size_t len, const struct upstream_reply *reply)
{
	struct upstream_stats	 st;
	struct receipt_held		*h;
	struct timeval		 tv;
	size_t			 idx;
	unsigned		 ms = RECEIPTS_HOLD_DEFAULT_MS;

	upstream_pool_stats(p, &st);
	if (st.in_flight == 0 || d->nheld >= RECEIPTS_HOLD_MAX ||
	    held_count(d, upstream_pool_name(p)) >= st.in_flight)
		return -1;
	if (d->held == NULL &&
	    (d->held = calloc(RECEIPTS_HOLD_MAX, sizeof(*d->held))) == NULL)
		return -1;
	if (d->held_ev == NULL &&
	    (d->held_ev = evtimer_new(d->base, held_cb, d)) == NULL)
		return -1;
	h = &d->held[d->nheld];
	memset(h, 0, sizeof(*h));
	if ((h->raw = malloc(len)) == NULL)
		return -1;
	memcpy(h->raw, raw, len);
	h->len = len;
	h->reply = *reply;
	str_copy(h->upstream, sizeof(h->upstream), upstream_pool_name(p));
	str_copy(h->id, sizeof(h->id), id);
	h->nvariants = smpp_msgid_variants(id, h->variants,
	    SMPP_MSGID_VARIANTS_MAX);
	if (daemon_pool_by_name(d, h->upstream, &idx) != NULL &&
	    d->cfg->upstreams[idx].response_timeout_ms != 0)
		ms = d->cfg->upstreams[idx].response_timeout_ms;
	h->deadline_ms = daemon_now_ms() + ms;
	d->nheld++;
	if (!evtimer_pending(d->held_ev, NULL)) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		event_add(d->held_ev, &tv);
	}
	log_info("event=receipt_held upstream=%s message_id=%s held=%zu",
	    h->upstream, id, d->nheld);
	return 0;
}

void
receipts_held_match(struct daemon *d, const struct store_msgmap *rec)
{
	char	norm[SMPP_RECEIPT_ID_LEN];
	size_t	i;
	int	v;
	bool	is_any = false;

	smpp_msgid_normalize(rec->message_id, norm, sizeof(norm));
	for (i = 0; i < d->nheld; i++) {
		struct receipt_held *h = &d->held[i];

		if (h->is_matched || strcmp(h->upstream, rec->upstream) != 0)
			continue;
		for (v = 0; v < h->nvariants; v++)
			if (strcmp(norm, h->variants[v]) == 0)
				break;
		if (v == h->nvariants)
			continue;
		h->is_matched = true;
		str_copy(h->account, sizeof(h->account), rec->account);
		is_any = true;
	}
	if (is_any)
		event_active(d->held_ev, EV_TIMEOUT, 0);
}

void
receipts_held_free(struct daemon *d)
{
	size_t	i;

	for (i = 0; i < d->nheld; i++)
		free(d->held[i].raw);
	free(d->held);
	d->held = NULL;
	d->nheld = 0;
	if (d->held_ev != NULL)
		event_free(d->held_ev);
	d->held_ev = NULL;
}

void
receipts_route(struct daemon *d, struct upstream_pool *p,
    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply)
{
	const char			*upstream = upstream_pool_name(p);
	char				 id[SMPP_RECEIPT_ID_LEN];
	char				 account[STORE_NAME_MAX];
	int				 r;

	/* A receipt or notification: never keyword-matched. */
	if (receipts_message_id(pdu, id, sizeof(id)) == -1) {
		log_warnx("event=receipt_unroutable upstream=%s "
		    "reason=no_id doing=receipt", upstream);
		answer(reply, SMPP_OK);
		return;
	}
	r = receipts_account_find(d, upstream, id, account);
	if (r == -1) {
		log_warnx("event=receipt_deferred upstream=%s "
		    "message_id=%s reason=store doing=receipt",
		    upstream, id);
		answer(reply, SMPP_ESME_RX_T_APPN);
		return;
	}
	/* Unknown yet, while responses are still due from this
	 * upstream: it may have overtaken its submit_sm_resp. */
	if (r == 0 && held_add(d, p, id, raw, len, reply) == 0)
		return;
	if (r == 0 && d->cluster != NULL) {
		/* Another node may have sent it: the cluster shipper looks
		 * it up in the fleet's receipt map (SPEC §8). */
		outbox_deliver(d->outbox, CLUSTER_RECEIPTS_ACCOUNT, raw, len,
		    reply, "receipt");
		return;
	}
	if (r == 0) {
		/* Unknown or expired: nobody to give it to, and a
		 * temporary error would make the SMSC retry it
		 * forever. Logged, acknowledged. */
		log_warnx("event=receipt_unroutable upstream=%s "
		    "message_id=%s reason=unknown doing=receipt",
		    upstream, id);
		answer(reply, SMPP_OK);
		return;
	}
	log_debug("event=receipt upstream=%s message_id=%s account=%s",
	    upstream, id, account);
	/* To a receiver of the account, else the outbox. */
	outbox_deliver(d->outbox, account, raw, len, reply, "receipt");
}
