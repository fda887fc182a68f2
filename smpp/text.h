/*
 * Message text: short_message bytes <-> UTF-8.
 *
 * Decoding covers what SMSCs deliver (SMPP v3.4 §5.2.19 data_coding and
 * the 3GPP TS 23.038 §4 DCS groups): GSM 03.38 default alphabet with its
 * extension table, unpacked (one septet per octet, the SMPP norm) or
 * packed; IA5/ASCII; Latin-1; 8-bit binary (read as Latin-1 so keywords
 * still match); UCS-2/UTF-16BE with surrogate pairs. The user data header
 * (3GPP TS 23.040 §9.2.3.24) is parsed for concatenation.
 *
 * Encoding picks the cheapest alphabet for a reply we send (GSM 7-bit,
 * else UCS-2) and splits long texts into concatenated parts.
 *
 * Pure library: no libevent, no logging, no globals, no malloc. Every
 * input byte is distrusted; invalid input is replaced by U+FFFD, never
 * trusted.
 */
#ifndef SMPP_TEXT_H
#define SMPP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* data_coding values we produce (SMPP v3.4 §5.2.19). */
#define SMPP_TEXT_DCS_DEFAULT	0x00	/* GSM 03.38, unpacked septets */
#define SMPP_TEXT_DCS_UCS2	0x08

/* Limits for one short_message part and one encoded text. */
#define SMPP_TEXT_PART_MAX	160	/* octets: 160 unpacked septets */
#define SMPP_TEXT_PARTS_MAX	10
#define SMPP_TEXT_GSM_SINGLE	160	/* septets in a lone part */
#define SMPP_TEXT_GSM_MULTI	153	/* septets after a 6-octet UDH */
#define SMPP_TEXT_UCS2_SINGLE	70	/* UTF-16 code units */
#define SMPP_TEXT_UCS2_MULTI	67
#define SMPP_TEXT_UDH_CONCAT_LEN 6	/* 05 00 03 ref total seq */

/* Output bytes that always suffice to decode len input bytes (worst
 * case: packed GSM, 8 septets per 7 octets, 3 UTF-8 bytes each), NUL
 * included. */
#define SMPP_TEXT_DECODE_CAP(len)	((len) * 4 + 1)

/* Unicode replacement character, for anything undecodable. */
#define SMPP_TEXT_REPLACEMENT	0xFFFDu

/* The character set a data_coding value selects. */
enum smpp_text_charset {
	SMPP_TEXT_CHARSET_GSM = 0,	/* GSM 03.38 default alphabet */
	SMPP_TEXT_CHARSET_ASCII,	/* IA5 */
	SMPP_TEXT_CHARSET_LATIN1,	/* ISO-8859-1 */
	SMPP_TEXT_CHARSET_BINARY,	/* 8-bit data, read as Latin-1 */
	SMPP_TEXT_CHARSET_UCS2,		/* UTF-16BE */
};

/* Concatenation info from a user data header. */
struct smpp_udh {
	size_t		header_len;	/* UDHL octet + UDHL: bytes to skip */
	bool		is_concat;	/* a valid 0x00 or 0x08 IE was seen */
	uint16_t	ref;		/* reference (8-bit refs widened) */
	uint8_t		total;		/* parts in the message, >= 1 */
	uint8_t		seq;		/* this part, 1..total */
};

/* One encoded part: bytes go into short_message as they are; when has_udh
 * the sender sets esm_class UDHI (0x40). */
struct smpp_text_part {
	uint8_t		bytes[SMPP_TEXT_PART_MAX];
	size_t		len;
	bool		has_udh;
};

/* An encoded text: data_coding to send every part with, and the parts. */
struct smpp_text_parts {
	uint8_t			data_coding;
	size_t			count;
	struct smpp_text_part	parts[SMPP_TEXT_PARTS_MAX];
};

/*
 * Resolve data_coding to a character set into *cs:
 *   0x00 GSM (SMSC default), 0x01 ASCII, 0x02 and 0x04 binary, 0x03
 *   Latin-1, 0x08 UCS-2; TS 23.038 groups: 0x10-0x7F general data coding
 *   (bits 3..2: 00 GSM, 01 8-bit, 10 UCS-2; bit 5 compressed is refused),
 *   0xC0-0xDF message waiting GSM, 0xE0-0xEF message waiting UCS-2,
 *   0xF0-0xFF data coding/message class (bit 2: 8-bit, else GSM).
 * Returns 0, or -1 for a coding we cannot read (0x05-0x07, 0x09-0x0F
 * national sets, compressed, reserved groups).
 */
int smpp_text_dcs_charset(uint8_t dcs, enum smpp_text_charset *cs);

/* "gsm", "ascii", "latin1", "binary", "ucs2"; "unknown" otherwise. */
const char *smpp_text_charset_name(enum smpp_text_charset cs);

/*
 * Decode len bytes of data (a view; no UDH) in data_coding dcs to UTF-8
 * into out (cap bytes; SMPP_TEXT_DECODE_CAP(len) always suffices). packed
 * says GSM text is packed septets (TS 23.038 §6.1.2.1) rather than one
 * septet per octet; it is ignored for other character sets.
 *
 * Undecodable input becomes U+FFFD: an odd trailing UCS-2 byte, a lone
 * surrogate, a byte >= 0x80 in ASCII, a dangling ESC. U+0000 also becomes
 * U+FFFD, so the output is a NUL-free C string. Unpacked GSM and ASCII
 * text that holds bytes >= 0x80 is not what it claims to be (SMSCs and
 * clients that send UTF-8 or Latin-1 under 0x00/0x01 are common): it is
 * read as UTF-8 if it is valid UTF-8, else as Latin-1. In packed GSM, a
 * final CR or '@' filling exactly the last 7 spare bits is padding
 * (TS 23.038 §6.1.2.3.1) and is dropped.
 *
 * Returns the UTF-8 length (out NUL-terminated), or -1 if dcs is not
 * supported or out is too small (out then holds "" if cap > 0).
 */
ssize_t smpp_text_decode(uint8_t dcs, const uint8_t *data, size_t len,
    bool packed, char *out, size_t cap);

/*
 * Parse the user data header at the start of sm (a short_message or
 * message_payload sent with esm_class UDHI) into *udh: header_len is
 * 1 + UDHL; a concatenation IE 0x00 (8-bit ref, IEDL 3) or 0x08 (16-bit
 * ref, IEDL 4) sets is_concat, ref, total and seq. Per TS 23.040
 * §9.2.3.24.1 a concatenation IE with total 0, seq 0 or seq > total (or
 * the wrong IEDL) is ignored, not an error: the part is then a message of
 * its own. If several appear, the last valid one wins.
 * Returns 0, or -1 if the header does not fit: len 0, UDHL past the end,
 * or an IE running past UDHL (*udh zeroed then).
 */
int smpp_text_udh_parse(const uint8_t *sm, size_t len, struct smpp_udh *udh);

/*
 * Decode a whole short_message: if esm_class has UDHI (0x40) the UDH is
 * parsed into *udh (zeroed otherwise; udh may be NULL) and skipped, and
 * for packed GSM the fill bits that align the text to a septet boundary
 * after the header are skipped too. The rest is decoded as by
 * smpp_text_decode(). Returns the UTF-8 length, or -1 if dcs is not
 * supported, the UDH is malformed, or out is too small.
 */
ssize_t smpp_text_decode_sm(uint8_t dcs, uint8_t esm_class,
    const uint8_t *sm, size_t len, bool packed, char *out, size_t cap,
    struct smpp_udh *udh);

/*
 * Encode len bytes of UTF-8 for sending into *out. GSM 7-bit unpacked
 * (data_coding 0x00, one septet per octet; an extension-table character
 * costs 2) when every character has a GSM code, else UCS-2 (data_coding
 * 0x08, characters beyond the BMP as surrogate pairs). Up to 160 septets
 * or 70 UTF-16 units go in one part without UDH; longer texts are split
 * into parts of 153 septets or 67 units, each prefixed by an 8-bit
 * reference concatenation UDH (05 00 03 ref total seq), never splitting an
 * escape sequence or a surrogate pair. An empty text is one empty part.
 * Returns 0, or -1 for invalid UTF-8 or a text needing more than
 * SMPP_TEXT_PARTS_MAX parts (out->count is 0 then).
 */
int smpp_text_encode(const char *utf8, size_t len, uint8_t ref,
    struct smpp_text_parts *out);

/*
 * Decode one UTF-8 code point from s (len bytes available) into *cp.
 * Strict (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF, no truncated sequence. Returns the sequence length (1..4), or
 * -1 if invalid or len is 0 (*cp is then SMPP_TEXT_REPLACEMENT).
 */
int smpp_text_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);

/*
 * Encode code point cp as UTF-8 into out (at least 4 bytes). A surrogate
 * or a value above U+10FFFF is written as U+FFFD. Returns the length, 1..4.
 */
size_t smpp_text_utf8_encode(uint32_t cp, uint8_t out[4]);

/* True if s (len bytes) is entirely valid UTF-8 by the rules above. */
bool smpp_text_utf8_valid(const uint8_t *s, size_t len);

/*
 * The GSM 03.38 code of cp into *septets (1, or 2 for ESC + extension):
 * returns the number of septets, or 0 if cp has no GSM code.
 */
size_t smpp_text_gsm_from_ucs(uint32_t cp, uint8_t septets[2]);

#endif /* SMPP_TEXT_H */
