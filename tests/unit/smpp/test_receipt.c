/*
 * smpp/receipt: tolerant Appendix B receipt parsing, formatting, and
 * message-id matching variants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/receipt.h"

struct receipt_case {
	const char	*in;
	const char	*id;		/* NULL: parse must fail */
	int		 sub;		/* -1: absent */
	int		 dlvrd;		/* -1: absent */
	const char	*submit;	/* NULL: absent */
	const char	*done;		/* NULL: absent */
	enum smpp_receipt_state state;
	const char	*err;		/* NULL: absent */
	const char	*text;		/* NULL: absent */
};

/* Receipts as real SMSCs and aggregators write them. */
static const struct receipt_case receipt_cases[] = {
	/* The Appendix B example layout. */
	{ "id:0123456789 sub:001 dlvrd:001 submit date:2301151230 "
	  "done date:2301151231 stat:DELIVRD err:000 text:Hello world",
	  "0123456789", 1, 1, "2301151230", "2301151231",
	  SMPP_RECEIPT_STATE_DELIVERED, "000", "Hello world" },
	/* Upper-case keys (Kannel's fake SMSC, several carriers). */
	{ "ID:12345 SUB:001 DLVRD:001 SUBMIT DATE:2301151230 "
	  "DONE DATE:2301151231 STAT:DELIVRD ERR:000 TEXT:Hi",
	  "12345", 1, 1, "2301151230", "2301151231",
	  SMPP_RECEIPT_STATE_DELIVERED, "000", "Hi" },
	/* Capitalised "Text:" and 12-digit dates with seconds. */
	{ "id:a1b2c3d4 sub:001 dlvrd:000 submit date:230115123005 "
	  "done date:230115123107 stat:UNDELIV err:001 Text:Your code",
	  "a1b2c3d4", 1, 0, "230115123005", "230115123107",
	  SMPP_RECEIPT_STATE_UNDELIVERABLE, "001", "Your code" },
	/* Hex UUID-ish id, long text truncated at 63 bytes. */
	{ "id:7f3e2a1c-4b5d-4e6f-8a9b-0c1d2e3f4a5b sub:001 dlvrd:001 "
	  "submit date:2301151230 done date:2301151231 stat:DELIVRD err:0 "
	  "text:0123456789012345678901234567890123456789012345678901234567"
	  "89ABCDEFGHIJ",
	  "7f3e2a1c-4b5d-4e6f-8a9b-0c1d2e3f4a5b", 1, 1, "2301151230",
	  "2301151231", SMPP_RECEIPT_STATE_DELIVERED, "0",
	  "012345678901234567890123456789012345678901234567890123456789"
	  "ABC" },
	/* Only id and stat (minimal aggregator receipts). */
	{ "id:98765 stat:EXPIRED", "98765", -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_EXPIRED, NULL, NULL },
	/* Extra spaces around ':' and between fields. */
	{ "id : 555   sub: 1  dlvrd:  1   submit date : 2301151230  "
	  "done date:2301151231    stat : DELIVRD   err : 000  text :",
	  "555", 1, 1, "2301151230", "2301151231",
	  SMPP_RECEIPT_STATE_DELIVERED, "000", NULL },
	/* Underscored date keys, "status" and "error". */
	{ "id:42 submit_date:2301151230 done_date:2301151231 "
	  "status:DELIVERED error:0",
	  "42", -1, -1, "2301151230", "2301151231",
	  SMPP_RECEIPT_STATE_DELIVERED, "0", NULL },
	/* Fields in another order. */
	{ "stat:REJECTD err:0B id:ABCDEF00 text:x sub:001",
	  "ABCDEF00", -1, -1, NULL, NULL, SMPP_RECEIPT_STATE_REJECTED, "0B",
	  "x sub:001" },
	/* Lower-case 7-letter and 6-letter forms. */
	{ "id:1 stat:acceptd", "1", -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_ACCEPTED, NULL, NULL },
	{ "id:2 stat:DELETD", "2", -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_DELETED, NULL, NULL },
	{ "id:3 stat:ENROUTE", "3", -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_ENROUTE, NULL, NULL },
	{ "id:4 stat:UNKNOWN", "4", -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_UNKNOWN, NULL, NULL },
	{ "id:5 stat:FAILED err:069", "5", -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_UNDELIVERABLE, "069", NULL },
	/* message_state as a number. */
	{ "id:6 stat:2", "6", -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_DELIVERED, NULL, NULL },
	/* An over-long stat word is cut to 15 characters. */
	{ "id:14 stat:DELIVEREDTOHANDSETOK", "14", -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_NONE, NULL, NULL },
	/* An unknown word is kept but has no state. */
	{ "id:7 stat:WHATEVER", "7", -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_NONE, NULL, NULL },
	/* The text echoes "Reply STOP" and a fake id: text wins its line. */
	{ "id:8 sub:001 dlvrd:001 submit date:2301151230 done date:"
	  "2301151231 stat:DELIVRD err:000 text:Reply STOP id:999",
	  "8", 1, 1, "2301151230", "2301151231",
	  SMPP_RECEIPT_STATE_DELIVERED, "000", "Reply STOP id:999" },
	/* Bad dates are ignored, not fatal. */
	{ "id:9 submit date:23011512 done date:23O1151231 stat:DELIVRD",
	  "9", -1, -1, NULL, NULL, SMPP_RECEIPT_STATE_DELIVERED, NULL, NULL },
	/* Empty date fields followed by the next key. */
	{ "id:10 submit date: done date: stat:DELIVRD", "10", -1, -1, NULL,
	  NULL, SMPP_RECEIPT_STATE_DELIVERED, NULL, NULL },
	/* Tabs and a trailing CRLF. */
	{ "id:11\tsub:001\tdlvrd:001\tstat:DELIVRD\terr:000\ttext:ok\r\n",
	  "11", 1, 1, NULL, NULL, SMPP_RECEIPT_STATE_DELIVERED, "000", "ok" },
	/* "dlvd" misspelling; leading garbage before id. */
	{ "DLR: id:12 dlvd:1 stat:DELIVRD", "12", -1, 1, NULL, NULL,
	  SMPP_RECEIPT_STATE_DELIVERED, NULL, NULL },
	/* Empty id is no id. */
	{ "id: sub:001 stat:DELIVRD", NULL, 1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_DELIVERED, NULL, NULL },
	/* No id at all: an ordinary MO. */
	{ "please stop texting me", NULL, -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_NONE, NULL, NULL },
	{ "", NULL, -1, -1, NULL, NULL, SMPP_RECEIPT_STATE_NONE, NULL, NULL },
	/* "id" must start a word: "paid:5" is not an id. */
	{ "paid:5 stat:DELIVRD", NULL, -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_DELIVERED, NULL, NULL },
	/* An id too long for message_id (65 bytes) is refused. */
	{ "id:01234567890123456789012345678901234567890123456789012345678901"
	  "234 stat:DELIVRD", NULL, -1, -1, NULL, NULL,
	  SMPP_RECEIPT_STATE_DELIVERED, NULL, NULL },
	/* Huge counters saturate instead of overflowing. */
	{ "id:13 sub:99999999999999999999 dlvrd:x", "13", 999999999, -1,
	  NULL, NULL, SMPP_RECEIPT_STATE_NONE, NULL, NULL },
};

static void
receipt_check(size_t i, const struct receipt_case *c)
{
	struct smpp_receipt r;
	int rc;

	rc = smpp_receipt_parse(c->in, strlen(c->in), &r);
	if (c->id == NULL) {
		if (rc != -1)
			print_error("case %zu: id \"%s\"\n", i, r.id);
		assert_int_equal(rc, -1);
	} else {
		if (rc != 0)
			print_error("case %zu: no id\n", i);
		assert_int_equal(rc, 0);
		assert_string_equal(r.id, c->id);
	}
	assert_int_equal(r.has_sub, c->sub >= 0);
	if (c->sub >= 0)
		assert_int_equal(r.sub, c->sub);
	assert_int_equal(r.has_dlvrd, c->dlvrd >= 0);
	if (c->dlvrd >= 0)
		assert_int_equal(r.dlvrd, c->dlvrd);
	assert_int_equal(r.has_submit_date, c->submit != NULL);
	if (c->submit != NULL)
		assert_string_equal(r.submit_date, c->submit);
	assert_int_equal(r.has_done_date, c->done != NULL);
	if (c->done != NULL)
		assert_string_equal(r.done_date, c->done);
	assert_int_equal(r.state, c->state);
	assert_int_equal(r.has_err, c->err != NULL);
	if (c->err != NULL)
		assert_string_equal(r.err, c->err);
	assert_int_equal(r.has_text, c->text != NULL);
	if (c->text != NULL)
		assert_string_equal(r.text, c->text);
}

static void
test_receipt_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(receipt_cases) / sizeof(receipt_cases[0]); i++)
		receipt_check(i, &receipt_cases[i]);
}

/* A short_message is not NUL-terminated: len is the limit. */
static void
test_receipt_parse_not_terminated(void **state)
{
	const char buf[] = "id:777 stat:DELIVRD text:abcdefgh";
	struct smpp_receipt r;

	(void)state;
	assert_int_equal(smpp_receipt_parse(buf, 6, &r), 0);
	assert_string_equal(r.id, "777");
	assert_false(r.has_stat);
	assert_int_equal(smpp_receipt_parse(buf, strlen(buf) - 5, &r), 0);
	assert_string_equal(r.text, "abc");
	assert_int_equal(smpp_receipt_parse(NULL, 0, &r), -1);
	/* Embedded NUL ends a token. */
	assert_int_equal(smpp_receipt_parse("id:1\0002 stat:2", 14, &r), 0);
	assert_string_equal(r.id, "1");
	assert_int_equal(r.state, SMPP_RECEIPT_STATE_DELIVERED);
}

/* Text truncation keeps UTF-8 whole: 62 ASCII + "é" does not fit 63. */
static void
test_receipt_text_utf8_cut(void **state)
{
	char in[128];
	struct smpp_receipt r;
	int n;

	(void)state;
	n = snprintf(in, sizeof(in), "id:1 text:%.*s\xc3\xa9xyz", 62,
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijab");
	assert_true(n > 0);
	assert_int_equal(smpp_receipt_parse(in, (size_t)n, &r), 0);
	assert_int_equal(strlen(r.text), 62);
}

static void
test_receipt_format(void **state)
{
	struct smpp_receipt r, back;
	char buf[256];
	ssize_t n;

	(void)state;
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "%s", "abc123");
	r.state = SMPP_RECEIPT_STATE_DELIVERED;
	n = smpp_receipt_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "id:abc123 sub:001 dlvrd:001 submit date:"
	    "0000000000 done date:0000000000 stat:DELIVRD err:000 text:");
	assert_int_equal(n, (ssize_t)strlen(buf));

	r.sub = 1;
	r.has_sub = true;
	r.dlvrd = 0;
	r.has_dlvrd = true;
	snprintf(r.submit_date, sizeof(r.submit_date), "%s", "2301151230");
	r.has_submit_date = true;
	snprintf(r.done_date, sizeof(r.done_date), "%s", "230115123107");
	r.has_done_date = true;
	r.state = SMPP_RECEIPT_STATE_UNDELIVERABLE;
	snprintf(r.err, sizeof(r.err), "%s", "069");
	r.has_err = true;
	snprintf(r.text, sizeof(r.text), "%s", "Reply STOP to opt out");
	r.has_text = true;
	n = smpp_receipt_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "id:abc123 sub:001 dlvrd:000 submit date:"
	    "2301151230 done date:230115123107 stat:UNDELIV err:069 "
	    "text:Reply STOP to opt out");
	assert_int_equal(smpp_receipt_parse(buf, (size_t)n, &back), 0);
	assert_string_equal(back.id, "abc123");
	assert_int_equal(back.state, SMPP_RECEIPT_STATE_UNDELIVERABLE);
	assert_string_equal(back.done_date, "230115123107");
	assert_string_equal(back.text, "Reply STOP to opt out");

	/* Too small, exactly fitting, and no id. */
	assert_int_equal(smpp_receipt_format(&r, buf, (size_t)n), -1);
	assert_int_equal(smpp_receipt_format(&r, buf, (size_t)n + 1), n);
	r.id[0] = '\0';
	assert_int_equal(smpp_receipt_format(&r, buf, sizeof(buf)), -1);
}

static void
test_receipt_state_names(void **state)
{
	(void)state;
	assert_string_equal(smpp_receipt_state_name(
	    SMPP_RECEIPT_STATE_DELIVERED), "DELIVRD");
	assert_string_equal(smpp_receipt_state_name(
	    SMPP_RECEIPT_STATE_REJECTED), "REJECTD");
	assert_string_equal(smpp_receipt_state_name(
	    (enum smpp_receipt_state)99), "UNKNOWN");
	assert_int_equal(smpp_receipt_state_parse("delivered"),
	    SMPP_RECEIPT_STATE_DELIVERED);
	assert_int_equal(smpp_receipt_state_parse("UNDELIVERABLE"),
	    SMPP_RECEIPT_STATE_UNDELIVERABLE);
	assert_int_equal(smpp_receipt_state_parse("9"),
	    SMPP_RECEIPT_STATE_NONE);
	assert_int_equal(smpp_receipt_state_parse(""),
	    SMPP_RECEIPT_STATE_NONE);
	assert_int_equal(smpp_receipt_state_parse(NULL),
	    SMPP_RECEIPT_STATE_NONE);
}

struct msgid_case {
	const char	*in;
	const char	*norm;
};

static const struct msgid_case msgid_cases[] = {
	{ "12345", "12345" },
	{ "0000012345", "12345" },
	{ "  ABCdef01 \r\n", "abcdef01" },
	{ "000", "0" },
	{ "0", "0" },
	{ "", "" },
	{ "   ", "" },
	{ "00A", "a" },
	{ "7F3E2A1C-4B5D", "7f3e2a1c-4b5d" },
};

static void
test_msgid_normalize(void **state)
{
	char out[SMPP_RECEIPT_ID_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msgid_cases) / sizeof(msgid_cases[0]); i++) {
		smpp_msgid_normalize(msgid_cases[i].in, out, sizeof(out));
		assert_string_equal(out, msgid_cases[i].norm);
	}
	smpp_msgid_normalize(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	smpp_msgid_normalize("123456", out, 4);
	assert_string_equal(out, "123");
	smpp_msgid_normalize("123456", NULL, 0);
}

static void
test_msgid_variants(void **state)
{
	char v[SMPP_MSGID_VARIANTS_MAX][SMPP_RECEIPT_ID_LEN];

	(void)state;
	/* Decimal: itself, hex, and its reading as hex. */
	assert_int_equal(smpp_msgid_variants("0000000100", v, 3), 3);
	assert_string_equal(v[0], "100");
	assert_string_equal(v[1], "64");
	assert_string_equal(v[2], "256");
	/* Hex with letters: itself and decimal. */
	assert_int_equal(smpp_msgid_variants("00FF", v, 3), 2);
	assert_string_equal(v[0], "ff");
	assert_string_equal(v[1], "255");
	/* Single digits are the same in both bases: no duplicates. */
	assert_int_equal(smpp_msgid_variants("007", v, 3), 1);
	assert_string_equal(v[0], "7");
	assert_int_equal(smpp_msgid_variants("0", v, 3), 1);
	/* Too big for 64 bits: only itself (plus the hex reading if it
	 * still fits in 16 hex digits: here it does not). */
	assert_int_equal(smpp_msgid_variants("123456789012345678901234", v,
	    3), 1);
	/* 18446744073709551615 = UINT64_MAX: hex fits, hex reading not. */
	assert_int_equal(smpp_msgid_variants("18446744073709551615", v, 3),
	    2);
	assert_string_equal(v[1], "ffffffffffffffff");
	assert_int_equal(smpp_msgid_variants("ffffffffffffffff", v, 3), 2);
	assert_string_equal(v[1], "18446744073709551615");
	/* Not numeric at all. */
	assert_int_equal(smpp_msgid_variants("msg-42", v, 3), 1);
	/* Empty, and max limits. */
	assert_int_equal(smpp_msgid_variants("  ", v, 3), 0);
	assert_int_equal(smpp_msgid_variants(NULL, v, 3), 0);
	assert_int_equal(smpp_msgid_variants("100", v, 1), 1);
	assert_int_equal(smpp_msgid_variants("100", v, 0), 0);
}

/* The matching rule end to end: the id stored from submit_sm_resp is found
 * under one of the receipt's variants, whatever the SMSC's spelling. */
static void
test_msgid_match(void **state)
{
	static const struct {
		const char	*resp;		/* submit_sm_resp message_id */
		const char	*receipt;	/* receipt's id */
	} pairs[] = {
		{ "12345", "0000012345" },
		{ "ABCDEF", "abcdef" },
		{ "1e240", "123456" },		/* hex resp, decimal DLR */
		{ "123456", "1E240" },		/* decimal resp, hex DLR */
		{ "000000000000000A", "10" },
	};
	char stored[SMPP_RECEIPT_ID_LEN];
	char v[SMPP_MSGID_VARIANTS_MAX][SMPP_RECEIPT_ID_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		int j, n;
		bool hit = false;

		smpp_msgid_normalize(pairs[i].resp, stored, sizeof(stored));
		n = smpp_msgid_variants(pairs[i].receipt, v,
		    SMPP_MSGID_VARIANTS_MAX);
		for (j = 0; j < n; j++)
			hit = hit || strcmp(v[j], stored) == 0;
		if (!hit)
			print_error("pair %zu did not match\n", i);
		assert_true(hit);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receipt_parse_table),
		cmocka_unit_test(test_receipt_parse_not_terminated),
		cmocka_unit_test(test_receipt_text_utf8_cut),
		cmocka_unit_test(test_receipt_format),
		cmocka_unit_test(test_receipt_state_names),
		cmocka_unit_test(test_msgid_normalize),
		cmocka_unit_test(test_msgid_variants),
		cmocka_unit_test(test_msgid_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
