/*
 * Phone number normalisation to E.164 digits (SPEC §3).
 */
#include "smpp/number.h"

#include <stdbool.h>
#include <string.h>


/*
 * Type of number, SMPP v3.4 §5.2.5 (same values as SMPP_TON_* in pdu.h;
 * not included so this module stays independent of the PDU codec).
 */
#define TON_INTERNATIONAL	1
#define TON_NATIONAL		2
#define TON_ALPHANUMERIC	5

/* Longest input we look at: generous for formatting characters. */
#define NUMBER_IN_MAX	64
/* Numbers this short are short codes under TON unknown (SPEC §3). */
#define SHORT_CODE_MAX	8

static bool
number_is_format(char c)
{
	return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' ||
	    c == ')';
}

static bool
number_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
number_fail(char *out, size_t cap)
{
	if (out != NULL && cap > 0)
		out[0] = '\0';
	return -1;
}

/*
 * Copy the digits of in to digits (NUL-terminated), noting a leading '+'.
 * Returns the number of digits, or -1 on a character that is neither a
 * digit nor formatting, a '+' after the first digit, or too many digits.
 */
static int
number_strip(const char *in, char digits[NUMBER_IN_MAX + 1], bool *plus)
{
	size_t n = 0;

	*plus = false;
	for (; *in != '\0'; in++) {
		/* Digits first: they are nearly every character. */
		if (number_is_digit(*in)) {
			if (n >= NUMBER_IN_MAX)
				return -1;
			digits[n++] = *in;
			continue;
		}
		if (number_is_format(*in))
			continue;
		if (*in != '+' || *plus || n > 0)
			return -1;
		*plus = true;
	}
	digits[n] = '\0';
	return (int)n;
}

/* Write prefix then digits to out. Returns 0, or -1 if too long. */
static int
number_emit(const char *prefix, const char *digits, size_t maxlen,
    char *out, size_t cap)
{
	size_t pl = strlen(prefix), dl = strlen(digits);

	if (dl == 0 || pl + dl > maxlen || pl + dl + 1 > cap)
		return number_fail(out, cap);
	memcpy(out, prefix, pl);
	memcpy(out + pl, digits, dl);
	out[pl + dl] = '\0';
	return 0;
}

static bool
number_cc_valid(const char *cc)
{
	size_t i;

	/* Country codes are 1..3 digits (E.164 §6.2) and never start at 0. */
	if (cc[0] == '\0' || cc[0] == '0')
		return false;
	for (i = 0; cc[i] != '\0'; i++)
		if (i >= 3 || !number_is_digit(cc[i]))
			return false;
	return true;
}

static int
number_national(const char *digits, const struct smpp_number_rules *rules,
    char *out, size_t cap)
{
	if (rules == NULL || !number_cc_valid(rules->country_code))
		return number_fail(out, cap);
	if (digits[0] == '0')
		digits++;
	return number_emit(rules->country_code, digits, SMPP_NUMBER_E164_MAX,
	    out, cap);
}

static int
number_alnum(const char *in, char *out, size_t cap)
{
	size_t i, n = strnlen(in, SMPP_NUMBER_ALNUM_MAX + 1);

	if (n == 0 || n > SMPP_NUMBER_ALNUM_MAX || n + 1 > cap)
		return number_fail(out, cap);
	for (i = 0; i < n; i++)
		if (in[i] < 0x20 || in[i] > 0x7e)
			return number_fail(out, cap);
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

int
smpp_number_normalize(uint8_t ton, const char *in,
    const struct smpp_number_rules *rules, char *out, size_t cap)
{
	char digits[NUMBER_IN_MAX + 1];
	const char *d = digits;
	unsigned natlen;
	bool plus;
	int n;

	if (in == NULL || out == NULL)
		return number_fail(out, cap);
	if (ton == TON_ALPHANUMERIC)
		return number_alnum(in, out, cap);
	if ((n = number_strip(in, digits, &plus)) <= 0)
		return number_fail(out, cap);

	/* '+' or the "00" international access prefix: international
	 * whatever the TON says (a mislabelled TON is common; the prefix is
	 * unambiguous). */
	if (plus || (n >= 2 && digits[0] == '0' && digits[1] == '0')) {
		if (!plus)
			d += 2;
		return number_emit("", d, SMPP_NUMBER_E164_MAX, out, cap);
	}
	if (ton == TON_INTERNATIONAL)
		return number_emit("", d, SMPP_NUMBER_E164_MAX, out, cap);
	if (ton == TON_NATIONAL)
		return number_national(d, rules, out, cap);

	/* TON unknown (and the rarely used 3, 4, 6). */
	if (n <= SHORT_CODE_MAX)
		return number_emit("", d, SHORT_CODE_MAX, out, cap);
	natlen = SMPP_NUMBER_NATIONAL_LEN_DEFAULT;
	if (rules != NULL && rules->national_number_length > 0)
		natlen = rules->national_number_length;
	if (rules != NULL && number_cc_valid(rules->country_code)) {
		/* A trunk '0' marks a national number: no E.164 number
		 * starts with 0, so this cannot misread an international
		 * one. */
		if ((unsigned)n == natlen || d[0] == '0')
			return number_national(d, rules, out, cap);
	}
	return number_emit("", d, SMPP_NUMBER_E164_MAX, out, cap);
}

int
smpp_number_parse_text(const char *in, const struct smpp_number_rules *rules,
    char *out, size_t cap)
{
	char buf[NUMBER_IN_MAX + 1];
	size_t n;

	if (in == NULL)
		return number_fail(out, cap);
	/* Surrounding whitespace (including CR/LF from files) is ignored;
	 * interior CR/LF still make the number invalid. */
	while (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
		in++;
	n = strnlen(in, sizeof(buf));
	if (n >= sizeof(buf))
		return number_fail(out, cap);
	memcpy(buf, in, n);
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' ||
	    buf[n - 1] == '\r' || buf[n - 1] == '\n'))
		n--;
	buf[n] = '\0';
	/* TON unknown (0): staff text carries no type of number. */
	return smpp_number_normalize(0, buf, rules, out, cap);
}
