/*
 * Delivery receipt text (SMPP v3.4 Appendix B) and message-id matching.
 */
#include "smpp/receipt.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum receipt_key {
	KEY_ID = 0,
	KEY_SUB,
	KEY_DLVRD,
	KEY_SUBMIT_DATE,
	KEY_DONE_DATE,
	KEY_STAT,
	KEY_ERR,
	KEY_TEXT,
};

/*
 * Key spellings seen in the field. Between words ('|') the text may have
 * any run of ' ', '_' or '-', or nothing. Order does not matter: a key
 * only matches when ':' (or '=') follows it, so "stat" never matches
 * "status:".
 */
static const struct {
	const char	*spelling;
	enum receipt_key key;
} receipt_keys[] = {
	{ "id", KEY_ID },
	{ "sub", KEY_SUB },
	{ "dlvrd", KEY_DLVRD },
	{ "dlvd", KEY_DLVRD },
	{ "submit|date", KEY_SUBMIT_DATE },
	{ "done|date", KEY_DONE_DATE },
	{ "stat", KEY_STAT },
	{ "status", KEY_STAT },
	{ "err", KEY_ERR },
	{ "error", KEY_ERR },
	{ "text", KEY_TEXT },
};

static const char *const receipt_state_names[] = {
	[SMPP_RECEIPT_STATE_NONE] = "UNKNOWN",
	[SMPP_RECEIPT_STATE_ENROUTE] = "ENROUTE",
	[SMPP_RECEIPT_STATE_DELIVERED] = "DELIVRD",
	[SMPP_RECEIPT_STATE_EXPIRED] = "EXPIRED",
	[SMPP_RECEIPT_STATE_DELETED] = "DELETED",
	[SMPP_RECEIPT_STATE_UNDELIVERABLE] = "UNDELIV",
	[SMPP_RECEIPT_STATE_ACCEPTED] = "ACCEPTD",
	[SMPP_RECEIPT_STATE_UNKNOWN] = "UNKNOWN",
	[SMPP_RECEIPT_STATE_REJECTED] = "REJECTD",
};

/* Other stat words seen from SMSCs and aggregators. */
static const struct {
	const char		*word;
	enum smpp_receipt_state	 state;
} receipt_state_words[] = {
	{ "DELIVERED", SMPP_RECEIPT_STATE_DELIVERED },
	{ "DELIVER", SMPP_RECEIPT_STATE_DELIVERED },
	{ "DELIVRED", SMPP_RECEIPT_STATE_DELIVERED },
	{ "DELIVD", SMPP_RECEIPT_STATE_DELIVERED },
	{ "EXPIRD", SMPP_RECEIPT_STATE_EXPIRED },
	{ "DELETD", SMPP_RECEIPT_STATE_DELETED },
	{ "UNDELIVERABLE", SMPP_RECEIPT_STATE_UNDELIVERABLE },
	{ "UNDELIVERED", SMPP_RECEIPT_STATE_UNDELIVERABLE },
	{ "UNDELV", SMPP_RECEIPT_STATE_UNDELIVERABLE },
	{ "UNDELIVRD", SMPP_RECEIPT_STATE_UNDELIVERABLE },
	{ "FAILED", SMPP_RECEIPT_STATE_UNDELIVERABLE },
	{ "FAILD", SMPP_RECEIPT_STATE_UNDELIVERABLE },
	{ "ACCEPTED", SMPP_RECEIPT_STATE_ACCEPTED },
	{ "ACCEPT", SMPP_RECEIPT_STATE_ACCEPTED },
	{ "UNKNWN", SMPP_RECEIPT_STATE_UNKNOWN },
	{ "REJECTED", SMPP_RECEIPT_STATE_REJECTED },
	{ "REJECT", SMPP_RECEIPT_STATE_REJECTED },
	{ "REJECTD", SMPP_RECEIPT_STATE_REJECTED },
	{ "EN_ROUTE", SMPP_RECEIPT_STATE_ENROUTE },
	{ "EN-ROUTE", SMPP_RECEIPT_STATE_ENROUTE },
	{ "ENROUTED", SMPP_RECEIPT_STATE_ENROUTE },
};

static char
receipt_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static char
receipt_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool
receipt_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
receipt_is_hex(char c)
{
	return receipt_is_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Whitespace and control bytes end a token (NUL included). */
static bool
receipt_is_space(char c)
{
	unsigned char u = (unsigned char)c;

	return u <= 0x20 || u == 0x7f;
}

/* A key may start a receipt field only at the start or after these. */
static bool
receipt_is_boundary(const char *buf, size_t pos)
{
	return pos == 0 || receipt_is_space(buf[pos - 1]) ||
	    buf[pos - 1] == ',' || buf[pos - 1] == ';';
}

/*
 * Does a key start at buf[pos]? Returns the key index into receipt_keys
 * and sets *after to the first byte after its ':' (or '='), or -1.
 */
static int
receipt_key_match(const char *buf, size_t len, size_t pos, size_t *after)
{
	size_t k;

	for (k = 0; k < sizeof(receipt_keys) / sizeof(receipt_keys[0]); k++) {
		const char *s = receipt_keys[k].spelling;
		size_t p = pos;

		for (; *s != '\0'; s++) {
			if (*s == '|') {
				while (p < len && (buf[p] == ' ' ||
				    buf[p] == '_' || buf[p] == '-'))
					p++;
				continue;
			}
			if (p >= len || receipt_lower(buf[p]) != *s)
				break;
			p++;
		}
		if (*s != '\0')
			continue;
		while (p < len && (buf[p] == ' ' || buf[p] == '\t'))
			p++;
		if (p < len && (buf[p] == ':' || buf[p] == '=')) {
			*after = p + 1;
			return (int)k;
		}
	}
	return -1;
}

static bool
receipt_all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!receipt_is_digit(s[i]))
			return false;
	return n > 0;
}

/* Decimal counter: digits only, saturating at 999999999. */
static bool
receipt_counter(const char *s, size_t n, unsigned *v)
{
	size_t i;

	if (!receipt_all_digits(s, n))
		return false;
	*v = 0;
	for (i = 0; i < n; i++) {
		*v = *v * 10 + (unsigned)(s[i] - '0');
		if (*v > 99999999u) {
			*v = 999999999u;
			break;
		}
	}
	return true;
}

/* Copy n bytes to dst (size cap) and NUL-terminate; false if too long. */
static bool
receipt_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* Store one field's value (s, n bytes) unless the key was already seen. */
static void
receipt_store(struct smpp_receipt *r, enum receipt_key key, const char *s,
    size_t n)
{
	size_t i;

	switch (key) {
	case KEY_ID:
		if (r->id[0] == '\0')
			(void)receipt_copy(r->id, sizeof(r->id), s, n);
		break;
	case KEY_SUB:
		if (!r->has_sub)
			r->has_sub = receipt_counter(s, n, &r->sub);
		break;
	case KEY_DLVRD:
		if (!r->has_dlvrd)
			r->has_dlvrd = receipt_counter(s, n, &r->dlvrd);
		break;
	case KEY_SUBMIT_DATE:
		if (!r->has_submit_date && (n == 10 || n == 12) &&
		    receipt_all_digits(s, n))
			r->has_submit_date = receipt_copy(r->submit_date,
			    sizeof(r->submit_date), s, n);
		break;
	case KEY_DONE_DATE:
		if (!r->has_done_date && (n == 10 || n == 12) &&
		    receipt_all_digits(s, n))
			r->has_done_date = receipt_copy(r->done_date,
			    sizeof(r->done_date), s, n);
		break;
	case KEY_STAT:
		if (r->has_stat || n == 0)
			break;
		if (n >= sizeof(r->stat))
			n = sizeof(r->stat) - 1;
		for (i = 0; i < n; i++)
			r->stat[i] = receipt_upper(s[i]);
		r->stat[n] = '\0';
		r->state = smpp_receipt_state_parse(r->stat);
		r->has_stat = true;
		break;
	case KEY_ERR:
		if (!r->has_err && n > 0)
			r->has_err = receipt_copy(r->err, sizeof(r->err), s, n);
		break;
	case KEY_TEXT:
		if (r->has_text || n == 0)
			break;
		if (n >= sizeof(r->text)) {
			n = sizeof(r->text) - 1;
			/* Do not cut a UTF-8 sequence: back off to the start
			 * of the character that straddles the limit. */
			while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
				n--;
		}
		r->has_text = receipt_copy(r->text, sizeof(r->text), s, n);
		break;
	}
}

int
smpp_receipt_parse(const char *buf, size_t len, struct smpp_receipt *r)
{
	size_t pos = 0, after, end, skip;
	int k;

	memset(r, 0, sizeof(*r));
	if (buf == NULL)
		return -1;
	while (pos < len) {
		if (!receipt_is_boundary(buf, pos) ||
		    (k = receipt_key_match(buf, len, pos, &after)) < 0) {
			pos++;
			continue;
		}
		while (after < len && (buf[after] == ' ' || buf[after] == '\t'))
			after++;
		/* "id: sub:001": an empty value, not the next key. */
		if (receipt_key_match(buf, len, after, &skip) >= 0) {
			pos = after;
			continue;
		}
		end = after;
		if (receipt_keys[k].key == KEY_TEXT) {
			while (end < len && buf[end] != '\r' &&
			    buf[end] != '\n' && buf[end] != '\0')
				end++;
		} else {
			while (end < len && !receipt_is_space(buf[end]))
				end++;
		}
		receipt_store(r, receipt_keys[k].key, buf + after, end - after);
		pos = end;
	}
	return r->id[0] != '\0' ? 0 : -1;
}

ssize_t
smpp_receipt_format(const struct smpp_receipt *r, char *buf, size_t cap)
{
	const char *stat;
	unsigned dlvrd;
	int n;

	if (r == NULL || buf == NULL || cap == 0 || r->id[0] == '\0')
		return -1;
	stat = r->has_stat && r->stat[0] != '\0' ? r->stat :
	    smpp_receipt_state_name(r->state);
	dlvrd = r->has_dlvrd ? r->dlvrd :
	    (r->state == SMPP_RECEIPT_STATE_DELIVERED ? 1u : 0u);
	n = snprintf(buf, cap, "id:%s sub:%03u dlvrd:%03u submit date:%s "
	    "done date:%s stat:%s err:%s text:%s", r->id,
	    r->has_sub ? r->sub : 1u, dlvrd,
	    r->has_submit_date ? r->submit_date : "0000000000",
	    r->has_done_date ? r->done_date : "0000000000", stat,
	    r->has_err ? r->err : "000", r->has_text ? r->text : "");
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return -1;
	}
	return (ssize_t)n;
}

const char *
smpp_receipt_state_name(enum smpp_receipt_state state)
{
	size_t i = (size_t)state;

	if (i >= sizeof(receipt_state_names) / sizeof(receipt_state_names[0]))
		return "UNKNOWN";
	return receipt_state_names[i];
}

enum smpp_receipt_state
smpp_receipt_state_parse(const char *word)
{
	char up[16];
	size_t i, n;

	if (word == NULL)
		return SMPP_RECEIPT_STATE_NONE;
	n = strnlen(word, sizeof(up));
	if (n == 0 || n >= sizeof(up))
		return SMPP_RECEIPT_STATE_NONE;
	for (i = 0; i < n; i++)
		up[i] = receipt_upper(word[i]);
	up[n] = '\0';
	/* message_state as a number (§5.2.28), e.g. "stat:2". */
	if (n == 1 && up[0] >= '1' && up[0] <= '8')
		return (enum smpp_receipt_state)(up[0] - '0');
	for (i = 1; i < sizeof(receipt_state_names) /
	    sizeof(receipt_state_names[0]); i++)
		if (strcmp(up, receipt_state_names[i]) == 0)
			return (enum smpp_receipt_state)i;
	for (i = 0; i < sizeof(receipt_state_words) /
	    sizeof(receipt_state_words[0]); i++)
		if (strcmp(up, receipt_state_words[i].word) == 0)
			return receipt_state_words[i].state;
	return SMPP_RECEIPT_STATE_NONE;
}

void
smpp_msgid_normalize(const char *id, char *out, size_t cap)
{
	size_t len, n = 0;

	if (out == NULL || cap == 0)
		return;
	out[0] = '\0';
	if (id == NULL)
		return;
	while (*id != '\0' && receipt_is_space(*id))
		id++;
	len = strlen(id);
	while (len > 0 && receipt_is_space(id[len - 1]))
		len--;
	while (len > 1 && id[0] == '0') {
		id++;
		len--;
	}
	for (; n < len && n + 1 < cap; n++)
		out[n] = receipt_lower(id[n]);
	out[n] = '\0';
}

/* Parse all-decimal s as a uint64_t; false if not digits or too big. */
static bool
receipt_dec_value(const char *s, uint64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned d;

		if (!receipt_is_digit(s[i]))
			return false;
		d = (unsigned)(s[i] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return false;
		*v = *v * 10 + d;
	}
	return i > 0;
}

/* Parse all-hex s (normalised: lower case, no leading zeros). */
static bool
receipt_hex_value(const char *s, uint64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned d;

		if (!receipt_is_hex(s[i]) || i >= 16)
			return false;
		d = receipt_is_digit(s[i]) ? (unsigned)(s[i] - '0') :
		    (unsigned)(receipt_lower(s[i]) - 'a' + 10);
		*v = (*v << 4) | d;
	}
	return i > 0;
}

static int
receipt_variant_add(char out[][SMPP_RECEIPT_ID_LEN], int n, int max,
    const char *s)
{
	int i;

	if (n >= max)
		return n;
	for (i = 0; i < n; i++)
		if (strcmp(out[i], s) == 0)
			return n;
	snprintf(out[n], SMPP_RECEIPT_ID_LEN, "%s", s);
	return n + 1;
}

int
smpp_msgid_variants(const char *id, char out[][SMPP_RECEIPT_ID_LEN], int max)
{
	char norm[SMPP_RECEIPT_ID_LEN], alt[24];
	uint64_t v;
	int n = 0;

	if (out == NULL || max <= 0)
		return 0;
	smpp_msgid_normalize(id, norm, sizeof(norm));
	if (norm[0] == '\0')
		return 0;
	n = receipt_variant_add(out, n, max, norm);
	if (receipt_dec_value(norm, &v)) {
		snprintf(alt, sizeof(alt), "%" PRIx64, v);
		n = receipt_variant_add(out, n, max, alt);
	}
	if (receipt_hex_value(norm, &v)) {
		snprintf(alt, sizeof(alt), "%" PRIu64, v);
		n = receipt_variant_add(out, n, max, alt);
	}
	return n;
}
