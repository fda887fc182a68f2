/*
 * Confirmations to subscribers (SPEC §4): the reply text from a template,
 * and the submit_sm PDU(s) that carry it, from the number the subscriber
 * wrote to.
 *
 * Pure functions on caller memory: no store, no libevent, no logging.
 */
#ifndef PROXY_POLICY_CONFIRM_H
#define PROXY_POLICY_CONFIRM_H

#include <stddef.h>
#include <stdint.h>

#include "smpp/pdu.h"

#define CONFIRM_PARTS_MAX	4	/* a confirmation is short */
#define CONFIRM_PDU_MAX		320	/* one encoded submit_sm part */
#define CONFIRM_TEXT_MAX	1024	/* expanded template, with NUL */

/* One encoded submit_sm, sequence_number 0 (the pool assigns its own). */
struct confirm_pdu {
	uint8_t		 bytes[CONFIRM_PDU_MAX];
	size_t		 len;
};

/*
 * Expand tmpl into out (cap bytes, NUL-terminated): "{business}" becomes
 * business and "{categories}" becomes categories; any other text, braces
 * included, is copied as is. A result longer than cap is cut at a UTF-8
 * character boundary. Returns the length written.
 */
size_t confirm_expand(const char *tmpl, const char *business,
    const char *categories, char *out, size_t cap);

/*
 * Encode text (UTF-8) as submit_sm PDU(s) from `from` to `to` (the
 * addresses as the subscriber's deliver_sm gave them, TON and NPI kept)
 * into pdus[0..max-1], *count set. GSM 7-bit when every character has a
 * GSM code, else UCS-2 (smpp_text_encode); a long text becomes
 * concatenated parts with UDH reference ref and esm_class UDHI (0x40).
 * service_type empty, registered_delivery 0 (nobody would read the
 * receipt), sequence_number 0. A text that needs more than max parts is
 * shortened at a character boundary until it fits. Returns 0, or -1 if an
 * address does not fit a submit_sm (21 octets) or the text is not valid
 * UTF-8 (*count is 0 then).
 */
int confirm_encode(const struct smpp_addr *from, const struct smpp_addr *to,
    const char *text, uint8_t ref, struct confirm_pdu *pdus, size_t max,
    size_t *count);

#endif /* PROXY_POLICY_CONFIRM_H */
