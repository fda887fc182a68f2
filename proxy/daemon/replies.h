/*
 * Subscriber replies (SPEC §4): MOs through the keyword step
 * (proxy/policy/mo.h), the confirmations it asks for sent upstream, then
 * delivery to the account of the number written to (proxy/daemon/
 * outbox.h).
 *
 * The keyword step's store writes (an opt-out, a review item, the
 * confirmation guard) are committed durably on the store writer's
 * durable lane (proxy/daemon/writer.h), so the loop never waits for the
 * store; the SMSC is answered, the confirmation sent and the MO delivered
 * only when they are called back durable, in the order the MOs came. A
 * store failure answers ESME_RX_T_APPN (0x64) so the SMSC redelivers. The
 * confirmation PDUs go to an upstream straight away (the route of the
 * inbound account's default category, else the SMSC the reply came
 * from, else any bound upstream), exempt from the opt-out check; their
 * responses come back to this module through their own request
 * callbacks, are logged and consumed, never relayed to a department.
 *
 * One per daemon; everything on the event loop thread.
 */
#ifndef PROXY_DAEMON_REPLIES_H
#define PROXY_DAEMON_REPLIES_H

#include <stddef.h>
#include <stdint.h>

#include "smpp/pdu.h"

struct config;
struct daemon;
struct replies;
struct upstream_pool;
struct upstream_reply;

/*
 * Create the reply side of d (borrowed; d->cfg, d->store and d->base
 * must be set, and d->outbox before the first MO). Returns it (free with
 * replies_free() after the pools are freed: confirmations in flight come
 * back through their on_fail) or NULL.
 */
struct replies *replies_new(struct daemon *d);

/* Free; accepts NULL. */
void replies_free(struct replies *r);

/*
 * Take a new config (SIGHUP), borrowed like d->cfg: keywords and
 * replies. Call it before the old config is freed. Returns 0, or -1 if
 * the keyword lists could not be rebuilt (the old ones stay).
 */
int replies_reconfigure(struct replies *r, const struct config *cfg);

/*
 * A subscriber reply (esm_class message type 0) from upstream p: the
 * keyword step, confirmations, then delivery to the inbound number's
 * account. Answers the SMSC through reply exactly once, now or later.
 */
void replies_on_mo(struct replies *r, struct upstream_pool *p,
    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply);

#endif /* PROXY_DAEMON_REPLIES_H */
