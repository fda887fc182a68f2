/*
 * Delivery to departments: a deliver_sm / data_sm as the SMSC sent it,
 * relayed to one bound receiver or transceiver session of an account
 * (round robin) with our own sequence number. The department's answer is
 * relayed to the SMSC (a live delivery) or reported to the outbox
 * (daemon_outbox_done()); ESME_RX_T_APPN when it does not come in time
 * or the session ends first.
 */
#ifndef PROXY_DAEMON_DELIVERY_H
#define PROXY_DAEMON_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

struct daemon;
struct upstream_reply;

/*
 * Relay raw (len bytes) to a session of system_id that can take it now;
 * the department's answer goes to the SMSC through *reply (copied).
 * Returns 0, or -1 if none could (the caller answers the SMSC).
 */
int delivery_to_account(struct daemon *d, const char *system_id,
    const uint8_t *raw, size_t len, const struct upstream_reply *reply);

/*
 * Relay outbox entry id of system_id (raw, len bytes as the SMSC sent
 * it) the same way; the answer goes to daemon_outbox_done(). Returns 0,
 * or -1 if no session can take it now.
 */
int delivery_outbox_to_account(struct daemon *d, const char *system_id,
    const uint8_t *raw, size_t len, uint64_t id);

#endif /* PROXY_DAEMON_DELIVERY_H */
