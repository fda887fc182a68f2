/*
 * A department's sends: the opt-out decision, audit and forwarding of
 * submit_sm, data_sm, submit_multi and the query/cancel/replace requests
 * (SPEC §3), run by the session's dispatch (proxy/daemon/session_int.h).
 * What is declared here is for the daemon (the memory shared by every
 * session) and for tests (pure helpers).
 */
#ifndef PROXY_DAEMON_SUBMIT_H
#define PROXY_DAEMON_SUBMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "smpp/pdu.h"

/*
 * What the sends of every session share: the refused concatenated
 * messages (so each later part gets the same refusal) and the limiter of
 * refusal log lines. One per daemon (struct daemon's submits).
 */
struct submit_memory;

/* Returns a new, empty memory (free with submit_memory_free()) or NULL. */
struct submit_memory *submit_memory_new(void);

/* Free; accepts NULL. */
void submit_memory_free(struct submit_memory *m);

/*
 * The concatenation reference of a message: from the UDH (IEI 0x00 8-bit
 * or 0x08 16-bit reference, when esm_class has UDHI) of short_message or
 * message_payload, else the sar_msg_ref_num TLV. Returns true with *ref
 * set (the reference plus 1 << 16 for a 16-bit or SAR one, so 8-bit and
 * 16-bit references do not collide), false for a single-part message.
 */
bool submit_concat_ref(const struct smpp_pdu *pdu, uint32_t *ref);

/*
 * The upstream affinity for one part of a concatenated message:
 * hash(account, destination, ref), never 0.
 */
uint64_t submit_affinity(const char *account, const char *destination,
    uint32_t ref);

#endif /* PROXY_DAEMON_SUBMIT_H */
