/*
 * Inbound delivery (SPEC §4): subscriber replies through the keyword step
 * (proxy/mo.h), confirmations sent upstream, and the durable outbox that
 * keeps MOs and receipts for an account with no receiver bound.
 *
 * MO: mo_handle() commits any opt-out before the SMSC is answered; a
 * store failure answers ESME_RX_T_APPN (0x64) so the SMSC redelivers.
 * The confirmation PDUs go to an upstream straight away (the route of the
 * inbound account's default category, else any bound upstream), exempt
 * from the opt-out check; their responses are logged and consumed here,
 * never relayed to a department.
 *
 * Delivery to an account: to a bound receiver/transceiver, whose
 * deliver_sm_resp status is relayed to the SMSC; when none can take it
 * (or older messages of the account are still queued, to keep the
 * order), the raw PDU is put in the store's outbox (fsync'd) and the SMSC
 * gets OK; 0x64 only when the outbox is full (retention.outbox_max) or
 * the store fails. The outbox of an account is delivered oldest first,
 * one at a time, when a receiver binds (and retried every second while
 * entries wait); an entry is deleted once the department answers OK.
 *
 * One per daemon; everything on the event loop thread.
 */
#ifndef PROXY_INBOUND_H
#define PROXY_INBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpp/pdu.h"

struct config;
struct daemon;
struct inbound;
struct upstream_pool;
struct upstream_reply;

/*
 * Create the inbound side of d (borrowed; d->cfg, d->store and d->base
 * must be set). Returns a new inbound (free with inbound_free() after the
 * pools are freed: confirmation contexts come back through their
 * on_fail) or NULL.
 */
struct inbound *inbound_new(struct daemon *d);

/* Free; accepts NULL. */
void inbound_free(struct inbound *ib);

/*
 * Take a new config (SIGHUP), borrowed like d->cfg: keywords, replies and
 * accounts. Call it before the old config is freed. Returns 0, or -1 if
 * the keyword lists could not be rebuilt (the old ones stay).
 */
int inbound_reconfigure(struct inbound *ib, const struct config *cfg);

/*
 * A subscriber reply (esm_class message type 0) from upstream p: the
 * keyword step, confirmations, then delivery to the inbound number's
 * account. Answers the SMSC through reply exactly once, now or later.
 */
void inbound_on_mo(struct inbound *ib, struct upstream_pool *p,
    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply);

/*
 * Deliver raw (a deliver_sm / data_sm as the SMSC sent it) to account, or
 * keep it in the outbox. Answers the SMSC through reply exactly once.
 * what names it for logs ("mo", "receipt").
 */
void inbound_deliver(struct inbound *ib, const char *account,
    const uint8_t *raw, size_t len, const struct upstream_reply *reply,
    const char *what);

/* A receiver or transceiver of account bound: deliver its outbox. */
void inbound_account_bound(struct inbound *ib, const char *account);

/*
 * The department answered outbox entry id of account with status (or the
 * delivery failed: ESME_RX_T_APPN). OK deletes the entry and delivers the
 * next one; anything else retries later.
 */
void inbound_outbox_done(struct inbound *ib, const char *account,
    uint64_t id, uint32_t status);

#endif /* PROXY_INBOUND_H */
