/*
 * The durable outbox (SPEC §4): delivery of a deliver_sm / data_sm (an
 * MO or a receipt) to its account, kept in the store's outbox while no
 * receiver of the account can take it.
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
#ifndef PROXY_DAEMON_OUTBOX_H
#define PROXY_DAEMON_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct daemon;
struct outbox;
struct upstream_reply;

/*
 * Create the outbox of d (borrowed; d->cfg, d->store and d->base must be
 * set). Returns it (free with outbox_free()) or NULL.
 */
struct outbox *outbox_new(struct daemon *d);

/* Free; accepts NULL. */
void outbox_free(struct outbox *ob);

/*
 * Take a new config (SIGHUP): its accounts. Accounts that stay keep
 * their state. Returns 0, or -1 if out of memory (the old list stays).
 */
int outbox_reconfigure(struct outbox *ob, const struct config *cfg);

/*
 * Deliver raw (a deliver_sm / data_sm as the SMSC sent it) to account, or
 * keep it in the outbox. Answers the SMSC through reply exactly once.
 * what names it for logs ("mo", "receipt").
 */
void outbox_deliver(struct outbox *ob, const char *account,
    const uint8_t *raw, size_t len, const struct upstream_reply *reply,
    const char *what);

/* A receiver or transceiver of account bound: deliver its outbox.
 * Accepts a NULL ob. */
void outbox_account_bound(struct outbox *ob, const char *account);

/*
 * Entries of account may have been put in the store by another thread
 * or process (the cluster shipper, from the fleet's shared outbox): look
 * and deliver the oldest if a receiver can take it.
 */
void outbox_kick(struct outbox *ob, const char *account);

/*
 * The department answered outbox entry id of account with status (or the
 * delivery failed: ESME_RX_T_APPN). OK deletes the entry and delivers the
 * next one; anything else retries later.
 */
void outbox_done(struct outbox *ob, const char *account, uint64_t id,
    uint32_t status);

#endif /* PROXY_DAEMON_OUTBOX_H */
