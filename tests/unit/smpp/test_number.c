/*
 * smpp/number: E.164 normalisation (SPEC §3), table driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/number.h"

struct number_case {
	uint8_t		 ton;
	const char	*cc;
	unsigned	 natlen;
	const char	*in;
	const char	*want;	/* NULL: must fail */
};

static const struct number_case number_cases[] = {
	/* TON international: as is, '+' / "00" stripped. */
	{ 1, "1", 0, "15550100000", "15550100000" },
	{ 1, "1", 0, "+15550100000", "15550100000" },
	{ 1, "1", 0, "0015550100000", "15550100000" },
	{ 1, "1", 0, "+44 20 7946 0000", "442079460000" },
	{ 1, "1", 0, "447700900123", "447700900123" },
	{ 1, "1", 0, "123456789012345", "123456789012345" },
	{ 1, "1", 0, "1234567890123456", NULL },	/* 16 digits */
	{ 1, "1", 0, "+", NULL },
	{ 1, "1", 0, "00", NULL },
	{ 1, "1", 0, "", NULL },
	{ 1, "1", 0, "1555abc0000", NULL },
	/* TON national: trunk 0 dropped, country code prepended. */
	{ 2, "1", 0, "5550100000", "15550100000" },
	{ 2, "44", 0, "07700900123", "447700900123" },
	{ 2, "44", 0, "(020) 7946-0000", "442079460000" },
	{ 2, "44", 0, "+447700900123", "447700900123" },
	{ 2, "44", 0, "00447700900123", "447700900123" },
	{ 2, "", 0, "5550100000", NULL },		/* no country code */
	{ 2, "999", 0, "1234567890123", NULL },		/* 16 digits */
	{ 2, "33", 0, "0612345678", "33612345678" },
	/* TON unknown. */
	{ 0, "1", 0, "+1 (555) 010-0000", "15550100000" },
	{ 0, "1", 0, "0044 7700 900123", "447700900123" },
	{ 0, "1", 0, "5550100000", "15550100000" },
	{ 0, "1", 0, "555.010.0000", "15550100000" },
	{ 0, "1", 0, "15550100000", "15550100000" },
	{ 0, "1", 0, "12345", "12345" },		/* short code */
	{ 0, "1", 0, "12345678", "12345678" },		/* 8: short */
	{ 0, "1", 0, "01234", "01234" },		/* verbatim */
	{ 0, "1", 0, "123456789", "123456789" },	/* 9: intl */
	{ 0, "44", 0, "07700900123", "447700900123" },	/* 10+1 trunk */
	{ 0, "44", 0, "7700900123", "447700900123" },	/* 10 */
	{ 0, "44", 0, "447700900123", "447700900123" },
	{ 0, "49", 0, "015112345678", "4915112345678" },/* trunk, long */
	{ 0, "49", 11, "15112345678", "4915112345678" },/* natlen 11 */
	{ 0, "49", 11, "5550100000", "5550100000" },	/* 10 != 11 */
	{ 0, "", 0, "5550100000", "5550100000" },	/* no cc: intl */
	{ 0, "1", 0, "1-800-555-0199", "18005550199" },
	{ 0, "1", 0, "  555 010 0000  ", "15550100000" },
	{ 0, "1", 0, "555\t010\t0000", "15550100000" },
	{ 0, "1", 0, "1+5550100000", NULL },		/* '+' inside */
	{ 0, "1", 0, "++15550100000", NULL },
	{ 0, "1", 0, "555-CALL-NOW", NULL },
	{ 0, "1", 0, "*123#", NULL },
	{ 0, "1", 0, " - ( ) . ", NULL },
	{ 0, "1", 0, "5550100000x12", NULL },
	{ 0, "1", 0, "+1234567890123456", NULL },
	{ 0, "1", 0, "1234567890123456789012345678901234567890"
	    "1234567890123456789012345678901234567890", NULL },
	/* Other TONs behave as unknown. */
	{ 6, "1", 0, "611", "611" },
	{ 4, "1", 0, "5550100000", "15550100000" },
	/* Alphanumeric: kept as is. */
	{ 5, "1", 0, "AcmeClinic", "AcmeClinic" },
	{ 5, "1", 0, "Acme Clinic", "Acme Clinic" },
	{ 5, "1", 0, "ABCDEFGHIJK", "ABCDEFGHIJK" },
	{ 5, "1", 0, "ABCDEFGHIJKL", NULL },		/* 12 chars */
	{ 5, "1", 0, "", NULL },
	{ 5, "1", 0, "Caf\xc3\xa9", NULL },		/* not ASCII */
	{ 5, "1", 0, "A\tB", NULL },
	{ 5, "1", 0, "+12345", "+12345" },
};

static void
test_number_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(number_cases) / sizeof(number_cases[0]); i++) {
		const struct number_case *c = &number_cases[i];
		struct smpp_number_rules r;
		char out[SMPP_NUMBER_LEN];
		int rc;

		memset(&r, 0, sizeof(r));
		snprintf(r.country_code, sizeof(r.country_code), "%s", c->cc);
		r.national_number_length = c->natlen;
		memset(out, 'x', sizeof(out));
		rc = smpp_number_normalize(c->ton, c->in, &r, out, sizeof(out));
		if (c->want == NULL) {
			if (rc != -1)
				print_error("case %zu: \"%s\" gave \"%s\"\n",
				    i, c->in, out);
			assert_int_equal(rc, -1);
			assert_string_equal(out, "");
		} else {
			if (rc != 0)
				print_error("case %zu: \"%s\" failed\n", i,
				    c->in);
			assert_int_equal(rc, 0);
			assert_string_equal(out, c->want);
		}
	}
}

struct text_case {
	const char	*in;
	const char	*want;
};

static const struct text_case text_cases[] = {
	{ "+1 (555) 010-0000", "15550100000" },
	{ "001 555 010 0000", "15550100000" },
	{ "555.010.0000", "15550100000" },
	{ "5550100000", "15550100000" },
	{ "15550100000", "15550100000" },
	{ "(555) 010-0000\r\n", "15550100000" },
	{ "\t 12345 ", "12345" },
	{ "+44 7700 900123", "447700900123" },
	{ "", NULL },
	{ "   ", NULL },
	{ "STOP", NULL },
	{ "555 010\n0000", NULL },
	{ "tel:+15550100000", NULL },
	{ "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 "
	  "3 4", NULL },	/* longer than we look at */
};

static void
test_number_parse_text(void **state)
{
	struct smpp_number_rules r = { .country_code = "1" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		char out[SMPP_NUMBER_LEN];
		int rc;

		rc = smpp_number_parse_text(text_cases[i].in, &r, out,
		    sizeof(out));
		if (text_cases[i].want == NULL) {
			if (rc != -1)
				print_error("text case %zu\n", i);
			assert_int_equal(rc, -1);
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(out, text_cases[i].want);
		}
	}
}

/* Every spelling of one subscriber gives one key: the property the opt-out
 * store relies on (an opt-out under one must block a send under another). */
static void
test_number_spellings_agree(void **state)
{
	static const struct {
		uint8_t		 ton;
		const char	*in;
	} spellings[] = {
		{ 1, "15550100000" }, { 1, "+15550100000" },
		{ 2, "5550100000" }, { 2, "(555) 010-0000" },
		{ 0, "+1 555 010 0000" }, { 0, "0015550100000" },
		{ 0, "5550100000" }, { 0, "15550100000" },
	};
	struct smpp_number_rules r = { .country_code = "1" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		char out[SMPP_NUMBER_LEN];

		assert_int_equal(smpp_number_normalize(spellings[i].ton,
		    spellings[i].in, &r, out, sizeof(out)), 0);
		assert_string_equal(out, "15550100000");
	}
}

static void
test_number_small_buffer(void **state)
{
	struct smpp_number_rules r = { .country_code = "1" };
	char out[11];

	(void)state;
	/* 11 digits + NUL need 12 bytes. */
	assert_int_equal(smpp_number_normalize(0, "5550100000", &r, out,
	    sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(smpp_number_normalize(0, "12345", &r, out, 6), 0);
	assert_string_equal(out, "12345");
	assert_int_equal(smpp_number_normalize(0, "12345", &r, out, 5), -1);
	assert_int_equal(smpp_number_normalize(0, "12345", &r, out, 0), -1);
	assert_int_equal(smpp_number_normalize(0, NULL, &r, out,
	    sizeof(out)), -1);
	assert_int_equal(smpp_number_normalize(0, "12345", &r, NULL, 16), -1);
}

static void
test_number_null_rules(void **state)
{
	char out[SMPP_NUMBER_LEN];

	(void)state;
	assert_int_equal(smpp_number_normalize(0, "5550100000", NULL, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "5550100000");
	assert_int_equal(smpp_number_normalize(2, "5550100000", NULL, out,
	    sizeof(out)), -1);
	assert_int_equal(smpp_number_parse_text(NULL, NULL, out, sizeof(out)),
	    -1);
	assert_int_equal(smpp_number_normalize(1, "+15550100000", NULL, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "15550100000");
}

/* A malformed country code in the rules is refused, not glued on. */
static void
test_number_bad_country_code(void **state)
{
	struct smpp_number_rules r = { .country_code = "+1" };
	char out[SMPP_NUMBER_LEN];

	(void)state;
	assert_int_equal(smpp_number_normalize(2, "5550100000", &r, out,
	    sizeof(out)), -1);
	snprintf(r.country_code, sizeof(r.country_code), "%s", "1234");
	assert_int_equal(smpp_number_normalize(2, "5550100000", &r, out,
	    sizeof(out)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number_table),
		cmocka_unit_test(test_number_parse_text),
		cmocka_unit_test(test_number_spellings_agree),
		cmocka_unit_test(test_number_small_buffer),
		cmocka_unit_test(test_number_null_rules),
		cmocka_unit_test(test_number_bad_country_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
