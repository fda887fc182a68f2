/*
 * Delivery to departments (SPEC §4): a deliver_sm / data_sm from an SMSC
 * (an MO or a receipt, live, or from the outbox) relayed to one bound
 * receiver or transceiver of its account, round robin, with our own
 * sequence number; the department's answer goes back to the SMSC (live)
 * or to the outbox (through the daemon's hook), and ESME_RX_T_APPN when
 * it does not come in time or the session ends first.
 *
 * Part of the session module (see session_int.h).
 */
#include "proxy/daemon/delivery.h"

#include <string.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/session_int.h"
#include "proxy/daemon/upstream.h"
#include "proxy/io/log.h"

/* True if s is bound as receiver or transceiver for system_id and can
 * take another delivery now (free slot, output not backed up). */
static bool
delivery_can_take(const struct session *s, const char *system_id)
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
	return pduconn_out_len(&s->conn) < SESSION_OUT_DELIVER_MAX;
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

	if (!delivery_can_take(s, s->system_id))
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
	session_relay_raw(s, raw, len, dl->seq);
	if (log_debug_enabled())
		log_debug("sid=%llu event=deliver seq=%u len=%zu",
		    (unsigned long long)s->id, dl->seq, len);
	return 0;
}

/* One of the sessions of system_id that can take a delivery now, round
 * robin, or NULL. */
static struct session *
deliver_pick(struct daemon *d, const char *system_id)
{
	struct session	*s;
	size_t		 n = 0, pick, i = 0;

	TAILQ_FOREACH(s, &d->sessions, entry)
		if (delivery_can_take(s, system_id))
			n++;
	if (n == 0)
		return NULL;
	pick = d->rr++ % n;
	TAILQ_FOREACH(s, &d->sessions, entry) {
		if (!delivery_can_take(s, system_id))
			continue;
		if (i++ == pick)
			return s;
	}
	return NULL;
}

int
delivery_outbox_to_account(struct daemon *d, const char *system_id,
    const uint8_t *raw, size_t len, uint64_t id)
{
	struct session	*s;

	if ((s = deliver_pick(d, system_id)) == NULL)
		return -1;
	return deliver_one(s, raw, len, NULL, id);
}

int
delivery_to_account(struct daemon *d, const char *system_id,
    const uint8_t *raw, size_t len, const struct upstream_reply *reply)
{
	struct session	*s;

	if ((s = deliver_pick(d, system_id)) == NULL)
		return -1;
	return deliver_one(s, raw, len, reply, 0);
}

/* --- the department's answers --------------------------------------- */

static struct delivery *
delivery_find(struct session *s, uint32_t seq)
{
	unsigned	i;

	for (i = 0; i < SESSION_DELIVERIES_MAX; i++)
		if (s->deliveries[i].is_used && s->deliveries[i].seq == seq)
			return &s->deliveries[i];
	return NULL;
}

void
delivery_resp(struct session *s, const struct smpp_pdu *pdu)
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

void
delivery_fail_all(struct session *s)
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
delivery_expire(struct session *s, uint64_t now)
{
	unsigned	i;

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

