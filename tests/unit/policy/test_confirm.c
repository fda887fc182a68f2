/*
 * proxy/confirm: template expansion, and the submit_sm PDUs of a
 * confirmation (addresses swapped as given, GSM vs UCS-2, concatenation
 * with UDH and esm_class UDHI, the part bound, bad addresses).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/policy/confirm.h"
#include "smpp/text.h"

static void
test_expand(void **state)
{
	char	 out[CONFIRM_TEXT_MAX];
	size_t	 n;

	(void)state;
	n = confirm_expand("You're opted out of {categories} texts from "
	    "{business}. Reply START to resubscribe.", "Acme Clinic",
	    "promo, billing", out, sizeof(out));
	assert_string_equal(out, "You're opted out of promo, billing texts "
	    "from Acme Clinic. Reply START to resubscribe.");
	assert_int_equal(n, strlen(out));
	confirm_expand("{business}{business} {x} {categories", "B", "c", out,
	    sizeof(out));
	assert_string_equal(out, "BB {x} {categories");
	confirm_expand("", "B", "c", out, sizeof(out));
	assert_string_equal(out, "");

	/* Cut at a character boundary, never half an é. */
	n = confirm_expand("{business}", "Café", "", out, 5);
	assert_string_equal(out, "Caf");
	assert_int_equal(n, 3);
	n = confirm_expand("Café {business}", "X", "", out, 5);
	assert_string_equal(out, "Caf");
	n = confirm_expand("abc", "X", "", out, 1);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
}

static void
addr(struct smpp_addr *a, uint8_t ton, uint8_t npi, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->ton = ton;
	a->npi = npi;
	snprintf(a->addr, sizeof(a->addr), "%s", s);
}

/* Decode pdus[i] and return its text (UDH stripped) in text. */
static void
decode_part(const struct confirm_pdu *p, struct smpp_pdu *pdu, char *text,
    size_t cap, struct smpp_udh *udh)
{
	assert_int_equal(smpp_pdu_decode(pdu, p->bytes, p->len), SMPP_OK);
	assert_int_equal(pdu->command_id, SMPP_CMD_SUBMIT_SM);
	assert_int_equal(pdu->sequence_number, 0);
	assert_string_equal(pdu->service_type, "");
	assert_int_equal(pdu->registered_delivery, 0);
	assert_true(smpp_text_decode_sm(pdu->data_coding, pdu->esm_class,
	    pdu->short_message, pdu->sm_length, false, text, cap, udh) >= 0);
}

static void
test_encode_gsm(void **state)
{
	static struct smpp_pdu	 pdu;
	struct confirm_pdu	 pdus[CONFIRM_PARTS_MAX];
	struct smpp_addr	 from, to;
	struct smpp_udh		 udh;
	char			 text[1024];
	size_t			 n;

	(void)state;
	addr(&from, 0, 0, "12345");
	addr(&to, 1, 1, "15551230000");
	assert_int_equal(confirm_encode(&from, &to, "You're opted out. {}",
	    7, pdus, CONFIRM_PARTS_MAX, &n), 0);
	assert_int_equal(n, 1);
	decode_part(&pdus[0], &pdu, text, sizeof(text), &udh);
	assert_string_equal(pdu.source.addr, "12345");
	assert_int_equal(pdu.source.ton, 0);
	assert_int_equal(pdu.source.npi, 0);
	assert_string_equal(pdu.dest.addr, "15551230000");
	assert_int_equal(pdu.dest.ton, 1);
	assert_int_equal(pdu.dest.npi, 1);
	assert_int_equal(pdu.data_coding, SMPP_TEXT_DCS_DEFAULT);
	assert_int_equal(pdu.esm_class, 0);
	assert_string_equal(text, "You're opted out. {}");
}

static void
test_encode_ucs2(void **state)
{
	static struct smpp_pdu	 pdu;
	struct confirm_pdu	 pdus[CONFIRM_PARTS_MAX];
	struct smpp_addr	 from, to;
	struct smpp_udh		 udh;
	char			 text[1024];
	size_t			 n;

	(void)state;
	addr(&from, 2, 1, "5550100");
	addr(&to, 1, 1, "15551230000");
	assert_int_equal(confirm_encode(&from, &to,
	    "東京クリニック: STOP で停止", 1, pdus, CONFIRM_PARTS_MAX, &n), 0);
	assert_int_equal(n, 1);
	decode_part(&pdus[0], &pdu, text, sizeof(text), &udh);
	assert_int_equal(pdu.data_coding, SMPP_TEXT_DCS_UCS2);
	assert_int_equal(pdu.source.ton, 2);
	assert_string_equal(text, "東京クリニック: STOP で停止");
}

/* Append src to dst (cap bytes), cut if it does not fit. */
static void
append(char *dst, size_t cap, const char *src)
{
	size_t	 off = strlen(dst), n = strlen(src);

	if (n > cap - 1 - off)
		n = cap - 1 - off;
	memcpy(dst + off, src, n);
	dst[off + n] = '\0';
}

static void
test_encode_multipart(void **state)
{
	static struct smpp_pdu	 pdu;
	struct confirm_pdu	 pdus[CONFIRM_PARTS_MAX];
	struct smpp_addr	 from, to;
	struct smpp_udh		 udh;
	char			 src[400], text[1024], joined[1024] = "";
	size_t			 n, i;

	(void)state;
	addr(&from, 0, 0, "12345");
	addr(&to, 1, 1, "15551230000");
	for (i = 0; i < 300; i++)
		src[i] = (char)('a' + i % 26);
	src[300] = '\0';
	assert_int_equal(confirm_encode(&from, &to, src, 0x42, pdus,
	    CONFIRM_PARTS_MAX, &n), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		decode_part(&pdus[i], &pdu, text, sizeof(text), &udh);
		assert_int_equal(pdu.esm_class, SMPP_ESM_UDHI);
		assert_true(udh.is_concat);
		assert_int_equal(udh.ref, 0x42);
		assert_int_equal(udh.total, 2);
		assert_int_equal(udh.seq, i + 1);
		append(joined, sizeof(joined), text);
	}
	assert_string_equal(joined, src);

	/* More than max parts: shortened until it fits. */
	assert_int_equal(confirm_encode(&from, &to, src, 1, pdus, 1, &n), 0);
	assert_int_equal(n, 1);
	decode_part(&pdus[0], &pdu, text, sizeof(text), &udh);
	assert_int_equal(pdu.esm_class, 0);
	assert_true(strlen(text) <= 160);
	assert_memory_equal(text, src, strlen(text));
}

static void
test_encode_bad(void **state)
{
	struct confirm_pdu	 pdus[CONFIRM_PARTS_MAX];
	struct smpp_addr	 from, to, longaddr, empty;
	size_t			 n = 9;

	(void)state;
	addr(&from, 0, 0, "12345");
	addr(&to, 1, 1, "15551230000");
	addr(&longaddr, 0, 0, "1234567890123456789012345");
	addr(&empty, 0, 0, "");
	assert_int_equal(confirm_encode(&longaddr, &to, "x", 0, pdus,
	    CONFIRM_PARTS_MAX, &n), -1);
	assert_int_equal(n, 0);
	assert_int_equal(confirm_encode(&from, &empty, "x", 0, pdus,
	    CONFIRM_PARTS_MAX, &n), -1);
	assert_int_equal(confirm_encode(&from, &to, "bad \xff utf8", 0, pdus,
	    CONFIRM_PARTS_MAX, &n), -1);
	assert_int_equal(n, 0);
	assert_int_equal(confirm_encode(&from, &to, "x", 0, pdus, 0, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_encode_gsm),
		cmocka_unit_test(test_encode_ucs2),
		cmocka_unit_test(test_encode_multipart),
		cmocka_unit_test(test_encode_bad),
	};

	return cmocka_run_group_tests_name("proxy/confirm", tests, NULL,
	    NULL);
}
