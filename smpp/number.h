/*
 * Phone number normalisation to E.164 digits.
 *
 * One function decides what a number "is" for every path of the product:
 * MT destinations, MO senders, our own inbound numbers, staff input at the
 * CLI and admin API, CSV imports and lookups. Two spellings of the same
 * subscriber must normalise to the same string, or an opt-out recorded
 * under one would not block a send under the other.
 *
 * Pure library: no libevent, no logging, no globals, no malloc.
 */
#ifndef SMPP_NUMBER_H
#define SMPP_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* E.164 allows at most 15 digits (ITU-T E.164 §6.1). */
#define SMPP_NUMBER_E164_MAX	15
/* Alphanumeric addresses: 11 characters (3GPP TS 23.040 §9.1.2.5). */
#define SMPP_NUMBER_ALNUM_MAX	11
/* Buffer size that always holds a normalised number and its NUL. */
#define SMPP_NUMBER_LEN		16
/* Default national_number_length (NANP: 3-digit area + 7 digits). */
#define SMPP_NUMBER_NATIONAL_LEN_DEFAULT 10

/*
 * Site rules: the configuration's default_country_code (digits only, no
 * '+', e.g. "1" or "44") and national_number_length (0 means the default,
 * 10). An empty country_code means national numbers cannot be normalised.
 */
struct smpp_number_rules {
	char		country_code[8];
	unsigned	national_number_length;
};

/*
 * Normalise the address in (a NUL-terminated C string, as found in a PDU
 * or typed by a person) sent with type-of-number ton into out (cap bytes,
 * SMPP_NUMBER_LEN is always enough), following SPEC §3:
 *
 * Accepted characters: digits; one '+' before the first digit; and the
 * formatting characters space, tab, '-', '.', '(' and ')', which are
 * stripped wherever they appear. Anything else (letters, '*', '#', a
 * second '+') makes the number invalid, except for TON 5.
 *
 * By ton (SMPP v3.4 §5.2.5):
 *  - 1 international: the digits as they are; a leading '+' or "00"
 *    (international access prefix sent by mistake) is stripped.
 *  - 2 national: a '+' or "00" prefix means international after all;
 *    otherwise one leading trunk '0' is dropped and rules->country_code is
 *    prepended ("(020) 7946 0000", cc 44 -> "442079460000").
 *  - 5 alphanumeric: kept exactly as given (a sender name such as
 *    "AcmeClinic"): 1..11 printable ASCII characters, nothing stripped.
 *  - 0 unknown, and any other ton (3 network specific, 4 subscriber,
 *    6 abbreviated are handled the same way):
 *      '+' or "00" prefix          -> international, prefix stripped;
 *      at most 8 digits            -> short code, kept verbatim
 *                                     (leading zeros and all);
 *      national_number_length digits, or national_number_length + 1
 *      digits starting with a trunk '0', or any longer number starting
 *      with a single trunk '0'     -> national: trunk '0' dropped,
 *                                     country code prepended;
 *      anything else               -> international, digits as they are.
 *
 * The result is E.164 digits without '+' (at most 15), the short code, or
 * the alphanumeric string; out is NUL-terminated.
 *
 * Returns 0, or -1 if the number is invalid (empty, a bad character, more
 * than 15 digits once normalised, national with no country code, a TON 5
 * string that is empty, too long or not printable) or out is too small.
 * On -1 out holds an empty string when cap > 0.
 */
int smpp_number_normalize(uint8_t ton, const char *in,
    const struct smpp_number_rules *rules, char *out, size_t cap);

/*
 * Normalise a number typed by a person or read from a file: staff input,
 * CSV import rows, CLI arguments, admin API bodies, config inbound numbers.
 * Surrounding whitespace is ignored and the string is treated as TON
 * unknown, so "+1 (555) 010-0000", "001 555 010 0000", "555.010.0000" and
 * "15550100000" all give "15550100000" with country code 1; "12345" stays
 * the short code "12345". Same conventions as smpp_number_normalize():
 * returns 0, or -1 if the text is not a number.
 */
int smpp_number_parse_text(const char *in,
    const struct smpp_number_rules *rules, char *out, size_t cap);

#endif /* SMPP_NUMBER_H */
