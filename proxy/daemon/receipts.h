/*
 * Receipt routing (SPEC §4): a delivery receipt or other notification
 * (esm_class message type != 0) from an SMSC goes to the account that
 * sent the original message, found by (upstream, message_id): the
 * receipted_message_id TLV, else the receipt text's "id:", tried in
 * every form smpp_msgid_variants() gives. It is then relayed to one bound
 * receiver/transceiver session of that account, else kept in its outbox
 * (proxy/daemon/outbox.h), and the department's response status goes
 * back to the SMSC. (Subscriber replies, message type 0, go through
 * proxy/daemon/replies.h instead.)
 *
 * A receipt whose id is not known yet while submits are still awaiting
 * their response on that upstream is held, unanswered, until a response
 * records the id (then routed) or the upstream's response timeout passes
 * (then acknowledged and logged as unroutable, as an unknown id is).
 */
#ifndef PROXY_DAEMON_RECEIPTS_H
#define PROXY_DAEMON_RECEIPTS_H

#include <stddef.h>
#include <stdint.h>

#include "smpp/pdu.h"
#include "store/store.h"

struct daemon;
struct upstream_pool;
struct upstream_reply;

/*
 * Receipts held because they overtook the submit_sm_resp naming their
 * message (some SMSCs send the receipt of a message that failed at once
 * before the response): at most this many at a time, each at most the
 * upstream's response_timeout_ms.
 */
#define RECEIPTS_HOLD_MAX		1024

/*
 * The message id a receipt reports on: the receipted_message_id TLV (by
 * its length; the final NUL is optional), else the "id:" of the receipt
 * text in short_message or message_payload. out gets cap bytes,
 * NUL-terminated. Returns 0, or -1 if the PDU names no id.
 */
int receipts_message_id(const struct smpp_pdu *pdu, char *out, size_t cap);

/*
 * The account that sent message id through upstream: the not yet written
 * batch of d first, then the store, for each variant of id. Returns 1
 * (account filled), 0 not found, -1 store error.
 */
int receipts_account_find(struct daemon *d, const char *upstream,
    const char *id, char account[STORE_NAME_MAX]);

/*
 * A receipt from upstream p (pdu decoded, raw/len its bytes; views valid
 * for the call): routed to its account. Answers the SMSC through reply
 * exactly once, now or when the department answers.
 */
void receipts_route(struct daemon *d, struct upstream_pool *p,
    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply);

/*
 * A message id was recorded for receipts (daemon_msgmap_add(): rec is
 * borrowed): held receipts of rec's upstream that name it are routed to
 * rec's account on the next loop turn (not from inside the caller, which
 * is in the middle of relaying a response).
 */
void receipts_held_match(struct daemon *d, const struct store_msgmap *rec);

/*
 * Free every held receipt without answering the SMSC (it redelivers what
 * was never acknowledged) and the hold timer. For daemon teardown.
 */
void receipts_held_free(struct daemon *d);

#endif /* PROXY_DAEMON_RECEIPTS_H */
