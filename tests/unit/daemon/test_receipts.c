/*
 * proxy/daemon/receipts: which message id a receipt reports on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/daemon/receipts.h"
#include "smpp/pdu.h"

static struct smpp_pdu	pdu;

static void
receipt(const char *text)
{
	smpp_pdu_init(&pdu, SMPP_CMD_DELIVER_SM, 1);
	pdu.esm_class = SMPP_ESM_MSG_TYPE_DLR;
	pdu.short_message = (const uint8_t *)text;
	pdu.sm_length = (uint8_t)strlen(text);
}

static void
test_dlr_id_from_tlv(void **state)
{
	char	id[65];

	(void)state;
	receipt("id:999 stat:DELIVRD");
	/* the TLV wins over the text, NUL included or not */
	assert_int_equal(smpp_pdu_tlv_add(&pdu,
	    SMPP_TLV_RECEIPTED_MESSAGE_ID, "ABC123", 7), 0);
	assert_int_equal(receipts_message_id(&pdu, id, sizeof(id)), 0);
	assert_string_equal(id, "ABC123");
	receipt("");
	assert_int_equal(smpp_pdu_tlv_add(&pdu,
	    SMPP_TLV_RECEIPTED_MESSAGE_ID, "0000ff", 6), 0);
	assert_int_equal(receipts_message_id(&pdu, id, sizeof(id)), 0);
	assert_string_equal(id, "0000ff");
}

static void
test_dlr_id_from_text(void **state)
{
	char		 id[65];
	const char	*text = "id:4096 sub:001 dlvrd:001 submit date:"
			    "2401011200 done date:2401011201 stat:DELIVRD "
			    "err:000 text:Reply STOP";

	(void)state;
	receipt(text);
	assert_int_equal(receipts_message_id(&pdu, id, sizeof(id)), 0);
	assert_string_equal(id, "4096");
	/* in message_payload when short_message is empty */
	receipt("");
	assert_int_equal(smpp_pdu_tlv_add(&pdu, SMPP_TLV_MESSAGE_PAYLOAD,
	    text, (uint16_t)strlen(text)), 0);
	assert_int_equal(receipts_message_id(&pdu, id, sizeof(id)), 0);
	assert_string_equal(id, "4096");
}

static void
test_dlr_no_id(void **state)
{
	char	id[65];
	char	small[3];

	(void)state;
	receipt("stat:DELIVRD err:000");
	assert_int_equal(receipts_message_id(&pdu, id, sizeof(id)), -1);
	receipt("");
	assert_int_equal(receipts_message_id(&pdu, id, sizeof(id)), -1);
	/* an id that does not fit is refused, not cut */
	receipt("id:12345");
	assert_int_equal(receipts_message_id(&pdu, small, sizeof(small)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dlr_id_from_tlv),
		cmocka_unit_test(test_dlr_id_from_text),
		cmocka_unit_test(test_dlr_no_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
