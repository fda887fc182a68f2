/*
 * SMSC delivery receipts: the SMPP v3.4 Appendix B text layout
 *
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm
 *   done date:YYMMDDhhmm stat:DDDDDDD err:E text: ...
 *
 * and message-id normalisation for matching a receipt to the message it
 * reports on.
 *
 * Matching rule (used by the proxy's (upstream, message_id) -> account
 * map): when the SMSC answers a submit_sm, the proxy stores the
 * submit_sm_resp message_id normalised with smpp_msgid_normalize(). When a
 * receipt arrives, it takes the id from the receipted_message_id TLV, else
 * from the receipt text's "id:", and looks up every form returned by
 * smpp_msgid_variants() in order, first hit wins. This absorbs what SMSCs
 * do in practice: case changes, zero padding ("0000012345" vs "12345") and
 * a hex id in submit_sm_resp reported in decimal in the receipt text (or
 * the other way round).
 *
 * Pure library: no libevent, no logging, no globals, no malloc.
 */
#ifndef SMPP_RECEIPT_H
#define SMPP_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* message_id is a C-Octet string of at most 65 bytes (SMPP v3.4 §5.2.23). */
#define SMPP_RECEIPT_ID_LEN	65
/* Most variants smpp_msgid_variants() returns. */
#define SMPP_MSGID_VARIANTS_MAX	3

/*
 * Receipt state, numbered as the message_state TLV (SMPP v3.4 §5.2.28),
 * with 0 for "no stat field or one we do not recognise".
 */
enum smpp_receipt_state {
	SMPP_RECEIPT_STATE_NONE = 0,
	SMPP_RECEIPT_STATE_ENROUTE = 1,
	SMPP_RECEIPT_STATE_DELIVERED = 2,
	SMPP_RECEIPT_STATE_EXPIRED = 3,
	SMPP_RECEIPT_STATE_DELETED = 4,
	SMPP_RECEIPT_STATE_UNDELIVERABLE = 5,
	SMPP_RECEIPT_STATE_ACCEPTED = 6,
	SMPP_RECEIPT_STATE_UNKNOWN = 7,
	SMPP_RECEIPT_STATE_REJECTED = 8,
};

/*
 * A parsed receipt. Strings are NUL-terminated copies; a has_* flag says
 * whether the field was present and well-formed. Dates are the digits as
 * sent (YYMMDDhhmm or YYMMDDhhmmss). stat is the word as sent, upper-cased
 * (truncated to 15 characters); state is its meaning. text is at most 63
 * bytes (cut at a UTF-8 character boundary).
 */
struct smpp_receipt {
	char			id[SMPP_RECEIPT_ID_LEN];
	unsigned		sub;
	unsigned		dlvrd;
	char			submit_date[13];
	char			done_date[13];
	char			stat[16];
	enum smpp_receipt_state	state;
	char			err[8];
	char			text[64];
	bool			has_sub;
	bool			has_dlvrd;
	bool			has_submit_date;
	bool			has_done_date;
	bool			has_stat;
	bool			has_err;
	bool			has_text;
};

/*
 * Parse a receipt's text (len bytes of buf, not necessarily NUL-terminated:
 * a short_message or message_payload view) into r, which is zeroed first.
 * Tolerant: keys in any case, in any order, any of them missing; spaces
 * around ':'; "submit date" also as "submit_date" or "submitdate" (same
 * for "done date"); "stat" also "status", "err" also "error", "dlvrd"
 * also "dlvd"; 10- or 12-digit dates; "stat" as the 7-letter Appendix B
 * words or common longer/shorter forms (DELIVERED, UNDELIVERABLE, FAILED,
 * EN_ROUTE...) or a message_state number; "text:" takes the rest of its
 * line. The first occurrence of a key wins.
 *
 * Returns 0 if at least a non-empty id (at most 64 bytes, no whitespace)
 * was found, -1 otherwise (r then holds whatever else was found).
 */
int smpp_receipt_parse(const char *buf, size_t len, struct smpp_receipt *r);

/*
 * Format r in the standard Appendix B layout into buf (cap bytes,
 * NUL-terminated): "id:%s sub:%03u dlvrd:%03u submit date:%s done date:%s
 * stat:%s err:%s text:%s". Missing fields get neutral values: sub 001,
 * dlvrd 001 if the state is DELIVERED else 000, dates 0000000000, stat
 * the word for r->state, err 000, text empty. Returns the length written
 * (without the NUL), or -1 if buf is too small or r->id is empty.
 */
ssize_t smpp_receipt_format(const struct smpp_receipt *r, char *buf,
    size_t cap);

/*
 * The 7-letter Appendix B word for state ("DELIVRD", "UNDELIV", ...);
 * "UNKNOWN" for SMPP_RECEIPT_STATE_NONE or an out-of-range value. Static
 * storage.
 */
const char *smpp_receipt_state_name(enum smpp_receipt_state state);

/*
 * The state a stat word means (case-insensitive; "DELIVRD", "DELIVERED",
 * "2", ...), or SMPP_RECEIPT_STATE_NONE if it is not recognised.
 */
enum smpp_receipt_state smpp_receipt_state_parse(const char *word);

/*
 * Normalise a message id for matching: surrounding whitespace trimmed,
 * ASCII letters lower-cased, leading zeros stripped ("0" kept for an
 * all-zero id). Written to out (cap bytes, NUL-terminated, truncated to
 * fit; SMPP_RECEIPT_ID_LEN is enough for any SMPP message_id). An empty or
 * NULL id gives "".
 */
void smpp_msgid_normalize(const char *id, char *out, size_t cap);

/*
 * The normalised forms under which a receipt's id may have been issued,
 * into out[0..max-1], first the id itself (normalised), then, if it is all
 * decimal digits and fits in 64 bits, its hex form, then, if it is all hex
 * digits and fits in 64 bits, its decimal form; duplicates left out.
 * Returns how many were written (0 for an empty id; at most
 * SMPP_MSGID_VARIANTS_MAX).
 */
int smpp_msgid_variants(const char *id, char out[][SMPP_RECEIPT_ID_LEN],
    int max);

#endif /* SMPP_RECEIPT_H */
