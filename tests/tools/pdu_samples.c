/*
 * pdu_samples: PDUs built with our encoder, for cross-checking the codec
 * against implementations we did not write (tshark's dissector, the npm
 * "smpp" package). See tests/interop/.
 *
 *	pdu_samples json	one JSON object per line: each sample PDU's
 *				fields as we meant them, plus its encoding
 *				("hex")
 *	pdu_samples hex		the encoded samples as hex, one a line
 *	pdu_samples pcap FILE	the samples as a classic libpcap file
 *				(Ethernet, IPv4, TCP): one segment per PDU
 *				from 127.0.0.1:40000 to 127.0.0.1:2775
 *	pdu_samples decode	read hex PDUs from stdin, one per line, and
 *				print our decode of each, and its encoding
 *				again, as one JSON line
 *
 * The samples cover every SMPP v3.4 command in smpp/pdu.h. Every field is
 * set to a distinctive value so a field read from the wrong offset shows.
 * Exits 0, or 1 on a usage, encode or I/O error (a decode that fails is
 * reported in its JSON line, not as an error).
 */
#include "smpp/pdu.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENC_CAP		65536
#define LINE_MAX_HEX	(2 * SMPP_MAX_PDU_LEN + 16)

/* TLV values; static so they outlive every encode. */
static const uint8_t v_iface34[] = { 0x34 };
static const uint8_t v_umr[] = { 0x12, 0x34 };
static const uint8_t v_src_port[] = { 0x0B, 0x84 };	/* 2948, WAP push */
static const uint8_t v_dst_port[] = { 0x23, 0xF0 };	/* 9200 */
/* Ports with no WDP application, so tshark keeps the payload as SMPP's. */
static const uint8_t v_src_port2[] = { 0x4E, 0x21 };
static const uint8_t v_dst_port2[] = { 0x4E, 0x22 };
static const uint8_t v_sar_ref[] = { 0xBE, 0xEF };
static const uint8_t v_sar_total[] = { 0x03 };
static const uint8_t v_sar_seq[] = { 0x02 };
static const uint8_t v_lang[] = { 0x01 };
static const uint8_t v_payload_type[] = { 0x01 };
static const uint8_t v_privacy[] = { 0x02 };
static const uint8_t v_vendor[] = { 0xCA, 0xFE, 0x00, 0x42 };
static const uint8_t v_msg_state_delivered[] = { 0x02 };
static const uint8_t v_net_err[] = { 0x03, 0x00, 0x2A };
static const uint8_t v_more_msgs[] = { 0x01 };
static const uint8_t v_qos_ttl[] = { 0x00, 0x01, 0x51, 0x80 }; /* 86400 */
static const uint8_t v_dfr[] = { 0x02 };
static const uint8_t v_dpf_result[] = { 0x01 };
static const uint8_t v_ms_avail[] = { 0x01 };
static const uint8_t v_dest_subunit[] = { 0x02 };
static const uint8_t v_src_network[] = { 0x01 };
static const uint8_t v_dest_bearer[] = { 0x01 };
static const uint8_t v_num_msgs[] = { 0x07 };
static const uint8_t v_src_subunit[] = { 0x01 };	/* MS display */
static const uint8_t v_src_bearer[] = { 0x03 };		/* USSD */
static const uint8_t v_src_telematics[] = { 0x02 };
static const uint8_t v_dst_network[] = { 0x02 };	/* ANSI-136 */
static const uint8_t v_dst_telematics[] = { 0x01, 0x02 };
static const uint8_t v_set_dpf[] = { 0x01 };
/* digit_mode, ton, npi, number (§5.3.2.36) */
static const uint8_t v_callback_num[] = {
	0x00, 0x01, 0x01, '1', '5', '5', '5', '0', '0', '0', '1', '2', '3', '4',
};
static const uint8_t v_cb_pres[] = { 0x05 };	/* presentation 1, screen 1 */
/* data_coding, display characters (§5.3.2.38) */
static const uint8_t v_cb_atag[] = { 0x00, 'A', 'c', 'm', 'e' };
/* type (NSAP even), subaddress (§5.3.2.15) */
static const uint8_t v_src_subaddr[] = { 0x80, 0x12, 0x34, 0x56 };
static const uint8_t v_dst_subaddr[] = { 0xA0, 0x01, 0x02 };
static const uint8_t v_user_resp[] = { 0x2A };
static const uint8_t v_display_time[] = { 0x02 };	/* invoke */
static const uint8_t v_sms_signal[] = { 0x01, 0x02 };
static const uint8_t v_ms_validity[] = { 0x03 };	/* display only */
static const uint8_t v_msg_wait[] = { 0x81 };	/* active, fax waiting */
static const uint8_t v_its_reply[] = { 0x04 };	/* menu */
static const uint8_t v_its_session[] = { 0x05, 0x0B }; /* 5, seq 5, end */
static const uint8_t v_ussd_op[] = { 0x11 };	/* USSR confirm */
static const char v_rcpt_id[] = "MSG-0001-ABCDEF";	/* with its NUL */
static const char v_status_text[] = "queued at SMSC-2"; /* with its NUL */

static const char sm_hello[] = "Hello from stopgate 123";
static const char sm_stop[] = "STOP promo";
static const char sm_dlr[] = "id:MSG-0001-ABCDEF sub:001 dlvrd:001 "
    "submit date:2512241530 done date:2512241531 stat:DELIVRD err:000 "
    "text:Hello from stopga";
static const char sm_multi[] = "Team meeting at 3pm";
static const char sm_replace[] = "Replaced text 42";
static const char sm_ussd[] = "1 Balance 2 Top up";
/* A UDH (concatenation IE, ref 0xA7, part 1 of 2) then 8-bit data. */
static const uint8_t sm_udh[] = {
	0x05, 0x00, 0x03, 0xA7, 0x02, 0x01,
	'P', 'a', 'r', 't', ' ', 'o', 'n', 'e', 0x00, 0xFF, 0x80, 0x7F,
};
static uint8_t payload_long[300];	/* filled by payload_fill() */
/* UCS-2 "Caf\u00e9 \u263a" for data_sm's message_payload. */
static const uint8_t payload_ucs2[] = {
	0x00, 'C', 0x00, 'a', 0x00, 'f', 0x00, 0xE9, 0x00, ' ', 0x26, 0x3A,
};

static void
payload_fill(void)
{
	size_t	i;

	/* Printable, non-repeating every 26 so an offset slip shows. */
	for (i = 0; i < sizeof(payload_long); i++)
		payload_long[i] = (uint8_t)('A' + (i * 7) % 26);
}

static void
str_set(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static void
addr_set(struct smpp_addr *a, uint8_t ton, uint8_t npi, const char *s)
{
	a->ton = ton;
	a->npi = npi;
	str_set(a->addr, sizeof(a->addr), s);
}

static void
tlv_add(struct smpp_pdu *p, uint16_t tag, const void *v, size_t len)
{
	if (smpp_pdu_tlv_add(p, tag, v, (uint16_t)len) != 0) {
		fprintf(stderr, "pdu_samples: TLV table full\n");
		exit(1);
	}
}

static void
sm_set(struct smpp_pdu *p, const void *msg, size_t len)
{
	p->short_message = msg;
	p->sm_length = (uint8_t)len;
}

/*
 * Build sample number i into p. Returns 0, or -1 past the last sample.
 * Sequence numbers are distinct and use all four octets.
 */
static int
sample_build(int i, struct smpp_pdu *p)
{
	uint32_t	seq = 0x12340100u + (uint32_t)i * 0x01010101u;

	switch (i) {
	case 0:
		smpp_pdu_init(p, SMPP_CMD_BIND_TRANSMITTER, seq);
		str_set(p->system_id, sizeof(p->system_id), "marketing");
		str_set(p->password, sizeof(p->password), "mkpass1");
		str_set(p->system_type, sizeof(p->system_type), "VMA");
		p->interface_version = 0x34;
		addr_set(&p->address_range, 1, 1, "1555*");
		break;
	case 1:
		smpp_pdu_init(p, SMPP_CMD_BIND_TRANSMITTER_RESP, seq);
		str_set(p->system_id, sizeof(p->system_id), "SMSC-TX");
		tlv_add(p, SMPP_TLV_SC_INTERFACE_VERSION, v_iface34, 1);
		break;
	case 2:
		smpp_pdu_init(p, SMPP_CMD_BIND_RECEIVER, seq);
		str_set(p->system_id, sizeof(p->system_id), "frontdesk");
		str_set(p->password, sizeof(p->password), "fdpass1");
		str_set(p->system_type, sizeof(p->system_type), "OTA");
		p->interface_version = 0x33;
		addr_set(&p->address_range, 2, 8, "2775");
		break;
	case 3:
		smpp_pdu_init(p, SMPP_CMD_BIND_RECEIVER_RESP, seq);
		str_set(p->system_id, sizeof(p->system_id), "SMSC-RX");
		break;
	case 4:
		/* Every string at its maximum length (§4.1.5). */
		smpp_pdu_init(p, SMPP_CMD_BIND_TRANSCEIVER, seq);
		str_set(p->system_id, sizeof(p->system_id), "billing-dept-01");
		str_set(p->password, sizeof(p->password), "bpw12345");
		str_set(p->system_type, sizeof(p->system_type),
		    "ABCDEFGHIJKL");
		p->interface_version = 0x34;
		addr_set(&p->address_range, 6, 9,
		    "1234567890123456789012345678901234567890");
		break;
	case 5:
		smpp_pdu_init(p, SMPP_CMD_BIND_TRANSCEIVER_RESP, seq);
		str_set(p->system_id, sizeof(p->system_id), "SMSC-TRX");
		tlv_add(p, SMPP_TLV_SC_INTERFACE_VERSION, v_iface34, 1);
		break;
	case 6:
		smpp_pdu_init(p, SMPP_CMD_OUTBIND, seq);
		str_set(p->system_id, sizeof(p->system_id), "smsc-out");
		str_set(p->password, sizeof(p->password), "obpw");
		break;
	case 7:
		smpp_pdu_init(p, SMPP_CMD_UNBIND, seq);
		break;
	case 8:
		smpp_pdu_init(p, SMPP_CMD_UNBIND_RESP, seq);
		break;
	case 9:
		smpp_pdu_init(p, SMPP_CMD_GENERIC_NACK, seq);
		p->command_status = SMPP_ESME_RINVCMDID;
		break;
	case 10:
		smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, seq);
		str_set(p->service_type, sizeof(p->service_type), "WAP");
		addr_set(&p->source, 5, 0, "AcmeClinic");
		addr_set(&p->dest, 1, 1, "15551234567");
		p->esm_class = 0x03;
		p->protocol_id = 0x7F;
		p->priority_flag = 2;
		str_set(p->schedule_delivery_time,
		    sizeof(p->schedule_delivery_time), "251224153045208+");
		str_set(p->validity_period, sizeof(p->validity_period),
		    "000001020304000R");
		p->registered_delivery = 0x11;
		p->replace_if_present_flag = 1;
		p->data_coding = 0x00;
		p->sm_default_msg_id = 0x05;
		sm_set(p, sm_hello, strlen(sm_hello));
		tlv_add(p, SMPP_TLV_USER_MESSAGE_REFERENCE, v_umr, 2);
		tlv_add(p, SMPP_TLV_SOURCE_PORT, v_src_port, 2);
		tlv_add(p, SMPP_TLV_DESTINATION_PORT, v_dst_port, 2);
		tlv_add(p, SMPP_TLV_SAR_MSG_REF_NUM, v_sar_ref, 2);
		tlv_add(p, SMPP_TLV_SAR_TOTAL_SEGMENTS, v_sar_total, 1);
		tlv_add(p, SMPP_TLV_SAR_SEGMENT_SEQNUM, v_sar_seq, 1);
		tlv_add(p, SMPP_TLV_LANGUAGE_INDICATOR, v_lang, 1);
		tlv_add(p, SMPP_TLV_PRIVACY_INDICATOR, v_privacy, 1);
		/* A vendor TLV (§5.3.1: 0x1400-0x3FFF) must pass through. */
		tlv_add(p, 0x1401, v_vendor, sizeof(v_vendor));
		break;
	case 11:
		/* message_payload instead of short_message (§5.3.2.32). */
		smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, seq);
		str_set(p->service_type, sizeof(p->service_type), "CMT");
		addr_set(&p->source, 1, 1, "15557654321");
		addr_set(&p->dest, 2, 8, "5551230000");
		p->esm_class = 0x00;
		p->protocol_id = 0x00;
		p->priority_flag = 1;
		p->registered_delivery = 0x01;
		p->data_coding = 0x03;
		sm_set(p, NULL, 0);
		tlv_add(p, SMPP_TLV_MESSAGE_PAYLOAD, payload_long,
		    sizeof(payload_long));
		tlv_add(p, SMPP_TLV_QOS_TIME_TO_LIVE, v_qos_ttl, 4);
		break;
	case 12:
		/* UDHI set: short_message opens with a UDH. */
		smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, seq);
		str_set(p->service_type, sizeof(p->service_type), "");
		addr_set(&p->source, 0, 0, "2775");
		addr_set(&p->dest, 1, 1, "447700900123");
		p->esm_class = SMPP_ESM_UDHI;
		p->data_coding = 0x04;
		str_set(p->schedule_delivery_time,
		    sizeof(p->schedule_delivery_time), "260101000000000-");
		str_set(p->validity_period, sizeof(p->validity_period),
		    "260102123456712-");
		sm_set(p, sm_udh, sizeof(sm_udh));
		break;
	case 13:
		smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM_RESP, seq);
		str_set(p->message_id, sizeof(p->message_id),
		    "MSG-0001-ABCDEF");
		break;
	case 14:
		smpp_pdu_init(p, SMPP_CMD_SUBMIT_MULTI, seq);
		str_set(p->service_type, sizeof(p->service_type), "USSD");
		addr_set(&p->source, 1, 1, "15550001111");
		p->number_of_dests = 3;
		p->dests[0].dest_flag = SMPP_DEST_SME_ADDRESS;
		addr_set(&p->dests[0].addr, 1, 1, "15551230001");
		p->dests[1].dest_flag = SMPP_DEST_SME_ADDRESS;
		addr_set(&p->dests[1].addr, 2, 8, "5551230002");
		p->dests[2].dest_flag = SMPP_DEST_DL_NAME;
		str_set(p->dests[2].dl_name, sizeof(p->dests[2].dl_name),
		    "vip-list");
		p->esm_class = 0x02;
		p->protocol_id = 0x01;
		p->priority_flag = 3;
		str_set(p->schedule_delivery_time,
		    sizeof(p->schedule_delivery_time), "");
		str_set(p->validity_period, sizeof(p->validity_period),
		    "251231235959000+");
		p->registered_delivery = 0x02;
		p->replace_if_present_flag = 0;
		p->data_coding = 0x01;
		p->sm_default_msg_id = 0x09;
		sm_set(p, sm_multi, strlen(sm_multi));
		tlv_add(p, SMPP_TLV_USER_MESSAGE_REFERENCE, v_umr, 2);
		tlv_add(p, SMPP_TLV_SOURCE_PORT, v_src_port, 2);
		tlv_add(p, SMPP_TLV_PAYLOAD_TYPE, v_payload_type, 1);
		break;
	case 15:
		smpp_pdu_init(p, SMPP_CMD_SUBMIT_MULTI_RESP, seq);
		str_set(p->message_id, sizeof(p->message_id), "MULTI-77");
		p->no_unsuccess = 2;
		addr_set(&p->unsuccess[0].addr, 1, 1, "15551230001");
		p->unsuccess[0].error_status = SMPP_ESME_RINVDSTADR;
		addr_set(&p->unsuccess[1].addr, 2, 8, "5551230002");
		p->unsuccess[1].error_status = 0x00000401u;
		break;
	case 16:
		/* A subscriber's MO reply. */
		smpp_pdu_init(p, SMPP_CMD_DELIVER_SM, seq);
		str_set(p->service_type, sizeof(p->service_type), "");
		addr_set(&p->source, 1, 1, "15551234567");
		addr_set(&p->dest, 0, 1, "2775");
		p->esm_class = SMPP_ESM_MSG_TYPE_MO;
		p->protocol_id = 0x00;
		p->data_coding = 0x00;
		sm_set(p, sm_stop, strlen(sm_stop));
		tlv_add(p, SMPP_TLV_SOURCE_NETWORK_TYPE, v_src_network, 1);
		tlv_add(p, SMPP_TLV_DEST_BEARER_TYPE, v_dest_bearer, 1);
		tlv_add(p, SMPP_TLV_USER_MESSAGE_REFERENCE, v_umr, 2);
		break;
	case 17:
		/* A delivery receipt (§4.6.1.1, Appendix B). */
		smpp_pdu_init(p, SMPP_CMD_DELIVER_SM, seq);
		addr_set(&p->source, 1, 1, "15551234567");
		addr_set(&p->dest, 5, 0, "AcmeClinic");
		p->esm_class = SMPP_ESM_MSG_TYPE_DLR;
		p->data_coding = 0x00;
		sm_set(p, sm_dlr, strlen(sm_dlr));
		tlv_add(p, SMPP_TLV_RECEIPTED_MESSAGE_ID, v_rcpt_id,
		    sizeof(v_rcpt_id));
		tlv_add(p, SMPP_TLV_MESSAGE_STATE, v_msg_state_delivered, 1);
		tlv_add(p, SMPP_TLV_NETWORK_ERROR_CODE, v_net_err, 3);
		break;
	case 18:
		smpp_pdu_init(p, SMPP_CMD_DELIVER_SM_RESP, seq);
		break;
	case 19:
		smpp_pdu_init(p, SMPP_CMD_DATA_SM, seq);
		str_set(p->service_type, sizeof(p->service_type), "WAP");
		addr_set(&p->source, 1, 1, "15557654321");
		/* data_sm addresses may be up to 64 characters (§4.7.1). */
		addr_set(&p->dest, 1, 1,
		    "1555000111122223333444455556666777788889999000011112222"
		    "33334444");
		p->esm_class = 0x01;
		p->registered_delivery = 0x01;
		p->data_coding = 0x08;
		tlv_add(p, SMPP_TLV_SOURCE_PORT, v_src_port2, 2);
		tlv_add(p, SMPP_TLV_DESTINATION_PORT, v_dst_port2, 2);
		tlv_add(p, SMPP_TLV_MORE_MESSAGES_TO_SEND, v_more_msgs, 1);
		tlv_add(p, SMPP_TLV_DEST_ADDR_SUBUNIT, v_dest_subunit, 1);
		tlv_add(p, SMPP_TLV_MESSAGE_PAYLOAD, payload_ucs2,
		    sizeof(payload_ucs2));
		break;
	case 20:
		smpp_pdu_init(p, SMPP_CMD_DATA_SM_RESP, seq);
		str_set(p->message_id, sizeof(p->message_id), "DATA-42");
		tlv_add(p, SMPP_TLV_ADDITIONAL_STATUS_INFO_TEXT,
		    v_status_text, sizeof(v_status_text));
		tlv_add(p, SMPP_TLV_DELIVERY_FAILURE_REASON, v_dfr, 1);
		tlv_add(p, SMPP_TLV_DPF_RESULT, v_dpf_result, 1);
		break;
	case 21:
		smpp_pdu_init(p, SMPP_CMD_QUERY_SM, seq);
		str_set(p->message_id, sizeof(p->message_id),
		    "MSG-0001-ABCDEF");
		addr_set(&p->source, 1, 1, "15550001111");
		break;
	case 22:
		smpp_pdu_init(p, SMPP_CMD_QUERY_SM_RESP, seq);
		str_set(p->message_id, sizeof(p->message_id),
		    "MSG-0001-ABCDEF");
		str_set(p->final_date, sizeof(p->final_date),
		    "251224160000104-");
		p->message_state = 2;
		p->error_code = 0x07;
		break;
	case 23:
		smpp_pdu_init(p, SMPP_CMD_CANCEL_SM, seq);
		str_set(p->service_type, sizeof(p->service_type), "CMT");
		str_set(p->message_id, sizeof(p->message_id), "MSG-0002");
		addr_set(&p->source, 1, 1, "15550001111");
		addr_set(&p->dest, 1, 1, "15551234567");
		break;
	case 24:
		smpp_pdu_init(p, SMPP_CMD_CANCEL_SM_RESP, seq);
		p->command_status = SMPP_ESME_RCANCELFAIL;
		break;
	case 25:
		smpp_pdu_init(p, SMPP_CMD_REPLACE_SM, seq);
		str_set(p->message_id, sizeof(p->message_id), "MSG-0003");
		addr_set(&p->source, 1, 1, "15550001111");
		str_set(p->schedule_delivery_time,
		    sizeof(p->schedule_delivery_time), "");
		str_set(p->validity_period, sizeof(p->validity_period),
		    "251231235959000+");
		p->registered_delivery = 0x01;
		p->sm_default_msg_id = 0x03;
		sm_set(p, sm_replace, strlen(sm_replace));
		break;
	case 26:
		smpp_pdu_init(p, SMPP_CMD_REPLACE_SM_RESP, seq);
		break;
	case 27:
		smpp_pdu_init(p, SMPP_CMD_ENQUIRE_LINK, seq);
		break;
	case 28:
		smpp_pdu_init(p, SMPP_CMD_ENQUIRE_LINK_RESP, seq);
		break;
	case 29:
		smpp_pdu_init(p, SMPP_CMD_ALERT_NOTIFICATION, seq);
		addr_set(&p->source, 1, 1, "15559876543");
		addr_set(&p->esme, 2, 8, "5550002222");
		tlv_add(p, SMPP_TLV_MS_AVAILABILITY_STATUS, v_ms_avail, 1);
		break;
	case 30:
		/* An error response; our encoder still writes the body. */
		smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM_RESP, seq);
		p->command_status = 0x00000401u;
		str_set(p->message_id, sizeof(p->message_id), "");
		break;
	case 31:
		smpp_pdu_init(p, SMPP_CMD_DELIVER_SM, seq);
		str_set(p->service_type, sizeof(p->service_type), "");
		addr_set(&p->source, 1, 1, "15551234567");
		addr_set(&p->dest, 1, 1, "15557654321");
		p->data_coding = 0x08;
		/* UCS-2 "Caf\u00e9 \u263a" */
		sm_set(p, payload_ucs2, sizeof(payload_ucs2));
		tlv_add(p, SMPP_TLV_NUMBER_OF_MESSAGES, v_num_msgs, 1);
		break;
	case 32:
		/* The rest of the §5.3.2 TLVs data_sm allows (§4.7.1). */
		smpp_pdu_init(p, SMPP_CMD_DATA_SM, seq);
		str_set(p->service_type, sizeof(p->service_type), "ITS");
		addr_set(&p->source, 2, 1, "5551239876");
		addr_set(&p->dest, 1, 1, "15550004444");
		p->esm_class = 0x02;
		p->registered_delivery = 0x10;
		p->data_coding = 0x00;
		tlv_add(p, SMPP_TLV_SOURCE_ADDR_SUBUNIT, v_src_subunit, 1);
		tlv_add(p, SMPP_TLV_SOURCE_BEARER_TYPE, v_src_bearer, 1);
		tlv_add(p, SMPP_TLV_SOURCE_TELEMATICS_ID, v_src_telematics, 1);
		tlv_add(p, SMPP_TLV_DEST_NETWORK_TYPE, v_dst_network, 1);
		tlv_add(p, SMPP_TLV_DEST_TELEMATICS_ID, v_dst_telematics, 2);
		tlv_add(p, SMPP_TLV_SET_DPF, v_set_dpf, 1);
		tlv_add(p, SMPP_TLV_CALLBACK_NUM, v_callback_num,
		    sizeof(v_callback_num));
		tlv_add(p, SMPP_TLV_CALLBACK_NUM_PRES_IND, v_cb_pres, 1);
		tlv_add(p, SMPP_TLV_CALLBACK_NUM_ATAG, v_cb_atag,
		    sizeof(v_cb_atag));
		tlv_add(p, SMPP_TLV_SOURCE_SUBADDRESS, v_src_subaddr,
		    sizeof(v_src_subaddr));
		tlv_add(p, SMPP_TLV_DEST_SUBADDRESS, v_dst_subaddr,
		    sizeof(v_dst_subaddr));
		tlv_add(p, SMPP_TLV_USER_RESPONSE_CODE, v_user_resp, 1);
		tlv_add(p, SMPP_TLV_DISPLAY_TIME, v_display_time, 1);
		tlv_add(p, SMPP_TLV_SMS_SIGNAL, v_sms_signal, 2);
		tlv_add(p, SMPP_TLV_MS_VALIDITY, v_ms_validity, 1);
		tlv_add(p, SMPP_TLV_MS_MSG_WAIT_FACILITIES, v_msg_wait, 1);
		/* §5.3.2.41: no value. */
		tlv_add(p, SMPP_TLV_ALERT_ON_MESSAGE_DELIVERY, NULL, 0);
		tlv_add(p, SMPP_TLV_ITS_REPLY_TYPE, v_its_reply, 1);
		tlv_add(p, SMPP_TLV_ITS_SESSION_INFO, v_its_session, 2);
		break;
	case 33:
		/* USSD (§5.3.2.44) on submit_sm. */
		smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, seq);
		str_set(p->service_type, sizeof(p->service_type), "USSD");
		addr_set(&p->source, 0, 1, "*100#");
		addr_set(&p->dest, 1, 1, "15551234567");
		p->data_coding = 0x01;
		sm_set(p, sm_ussd, strlen(sm_ussd));
		tlv_add(p, SMPP_TLV_USSD_SERVICE_OP, v_ussd_op, 1);
		break;
	default:
		return -1;
	}
	return 0;
}

/* --- JSON ------------------------------------------------------------ */

static void
json_str(FILE *f, const char *key, const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;

	fprintf(f, ",\"%s\":\"", key);
	for (; *u != '\0'; u++) {
		if (*u == '"' || *u == '\\')
			fprintf(f, "\\%c", *u);
		else if (*u < 0x20 || *u >= 0x7F)
			fprintf(f, "\\u%04x", *u);
		else
			fputc(*u, f);
	}
	fputc('"', f);
}

static void
json_uint(FILE *f, const char *key, unsigned long v)
{
	fprintf(f, ",\"%s\":%lu", key, v);
}

static void
hex_put(FILE *f, const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void
json_hex(FILE *f, const char *key, const uint8_t *p, size_t n)
{
	fprintf(f, ",\"%s\":\"", key);
	if (p != NULL)
		hex_put(f, p, n);
	fputc('"', f);
}

/* ton, npi and address under the spec's field names (§4). */
static void
json_addr(FILE *f, const char *ton, const char *npi, const char *addr,
    const struct smpp_addr *a)
{
	json_uint(f, ton, a->ton);
	json_uint(f, npi, a->npi);
	json_str(f, addr, a->addr);
}

static void
json_source(FILE *f, const struct smpp_pdu *p)
{
	json_addr(f, "source_addr_ton", "source_addr_npi", "source_addr",
	    &p->source);
}

static void
json_dest(FILE *f, const struct smpp_pdu *p)
{
	json_addr(f, "dest_addr_ton", "dest_addr_npi", "destination_addr",
	    &p->dest);
}

static void
json_short_message(FILE *f, const struct smpp_pdu *p)
{
	json_uint(f, "sm_length", p->sm_length);
	json_hex(f, "short_message", p->short_message, p->sm_length);
}

/* The submit_sm / deliver_sm / submit_multi fields after the addresses. */
static void
json_sm_tail(FILE *f, const struct smpp_pdu *p)
{
	json_uint(f, "esm_class", p->esm_class);
	json_uint(f, "protocol_id", p->protocol_id);
	json_uint(f, "priority_flag", p->priority_flag);
	json_str(f, "schedule_delivery_time", p->schedule_delivery_time);
	json_str(f, "validity_period", p->validity_period);
	json_uint(f, "registered_delivery", p->registered_delivery);
	json_uint(f, "replace_if_present_flag", p->replace_if_present_flag);
	json_uint(f, "data_coding", p->data_coding);
	json_uint(f, "sm_default_msg_id", p->sm_default_msg_id);
	json_short_message(f, p);
}

/*
 * The body fields of p's command_id, in wire order, named as in SMPP v3.4
 * §4. Written independently of the codec's tables on purpose.
 */
static void
json_body(FILE *f, const struct smpp_pdu *p)
{
	int	i;

	switch (p->command_id) {
	case SMPP_CMD_BIND_TRANSMITTER:
	case SMPP_CMD_BIND_RECEIVER:
	case SMPP_CMD_BIND_TRANSCEIVER:
		json_str(f, "system_id", p->system_id);
		json_str(f, "password", p->password);
		json_str(f, "system_type", p->system_type);
		json_uint(f, "interface_version", p->interface_version);
		json_addr(f, "addr_ton", "addr_npi", "address_range",
		    &p->address_range);
		break;
	case SMPP_CMD_BIND_TRANSMITTER_RESP:
	case SMPP_CMD_BIND_RECEIVER_RESP:
	case SMPP_CMD_BIND_TRANSCEIVER_RESP:
		json_str(f, "system_id", p->system_id);
		break;
	case SMPP_CMD_OUTBIND:
		json_str(f, "system_id", p->system_id);
		json_str(f, "password", p->password);
		break;
	case SMPP_CMD_SUBMIT_SM:
	case SMPP_CMD_DELIVER_SM:
		json_str(f, "service_type", p->service_type);
		json_source(f, p);
		json_dest(f, p);
		json_sm_tail(f, p);
		break;
	case SMPP_CMD_SUBMIT_MULTI:
		json_str(f, "service_type", p->service_type);
		json_source(f, p);
		json_uint(f, "number_of_dests", p->number_of_dests);
		fputs(",\"dest_address\":[", f);
		for (i = 0; i < p->number_of_dests; i++) {
			const struct smpp_dest	*d = &p->dests[i];

			fprintf(f, "%s{\"dest_flag\":%u", i ? "," : "",
			    d->dest_flag);
			if (d->dest_flag == SMPP_DEST_DL_NAME)
				json_str(f, "dl_name", d->dl_name);
			else
				json_addr(f, "dest_addr_ton", "dest_addr_npi",
				    "destination_addr", &d->addr);
			fputc('}', f);
		}
		fputc(']', f);
		json_sm_tail(f, p);
		break;
	case SMPP_CMD_SUBMIT_MULTI_RESP:
		json_str(f, "message_id", p->message_id);
		json_uint(f, "no_unsuccess", p->no_unsuccess);
		fputs(",\"unsuccess_sme\":[", f);
		for (i = 0; i < p->no_unsuccess; i++) {
			const struct smpp_unsuccess *u = &p->unsuccess[i];

			fprintf(f, "%s{\"dest_addr_ton\":%u", i ? "," : "",
			    u->addr.ton);
			json_uint(f, "dest_addr_npi", u->addr.npi);
			json_str(f, "destination_addr", u->addr.addr);
			json_uint(f, "error_status_code", u->error_status);
			fputc('}', f);
		}
		fputc(']', f);
		break;
	case SMPP_CMD_SUBMIT_SM_RESP:
	case SMPP_CMD_DELIVER_SM_RESP:
	case SMPP_CMD_DATA_SM_RESP:
		json_str(f, "message_id", p->message_id);
		break;
	case SMPP_CMD_DATA_SM:
		json_str(f, "service_type", p->service_type);
		json_source(f, p);
		json_dest(f, p);
		json_uint(f, "esm_class", p->esm_class);
		json_uint(f, "registered_delivery", p->registered_delivery);
		json_uint(f, "data_coding", p->data_coding);
		break;
	case SMPP_CMD_QUERY_SM:
		json_str(f, "message_id", p->message_id);
		json_source(f, p);
		break;
	case SMPP_CMD_QUERY_SM_RESP:
		json_str(f, "message_id", p->message_id);
		json_str(f, "final_date", p->final_date);
		json_uint(f, "message_state", p->message_state);
		json_uint(f, "error_code", p->error_code);
		break;
	case SMPP_CMD_CANCEL_SM:
		json_str(f, "service_type", p->service_type);
		json_str(f, "message_id", p->message_id);
		json_source(f, p);
		json_dest(f, p);
		break;
	case SMPP_CMD_REPLACE_SM:
		json_str(f, "message_id", p->message_id);
		json_source(f, p);
		json_str(f, "schedule_delivery_time",
		    p->schedule_delivery_time);
		json_str(f, "validity_period", p->validity_period);
		json_uint(f, "registered_delivery", p->registered_delivery);
		json_uint(f, "sm_default_msg_id", p->sm_default_msg_id);
		json_short_message(f, p);
		break;
	case SMPP_CMD_ALERT_NOTIFICATION:
		json_source(f, p);
		json_addr(f, "esme_addr_ton", "esme_addr_npi", "esme_addr",
		    &p->esme);
		break;
	default:
		/* unbind, enquire_link, generic_nack, ...: header only. */
		break;
	}
}

static void
json_tlvs(FILE *f, const struct smpp_pdu *p)
{
	unsigned	i;

	fputs(",\"tlvs\":[", f);
	for (i = 0; i < p->tlv_count && i < SMPP_MAX_TLVS; i++) {
		fprintf(f, "%s{\"tag\":%u,\"len\":%u", i ? "," : "",
		    p->tlvs[i].tag, p->tlvs[i].len);
		json_hex(f, "value", p->tlvs[i].value, p->tlvs[i].len);
		fputc('}', f);
	}
	fputc(']', f);
}

/* Header, body and TLVs of p as one JSON object, without the closing }. */
static void
json_pdu(FILE *f, const struct smpp_pdu *p)
{
	fprintf(f, "{\"command\":\"%s\"", smpp_cmd_name(p->command_id));
	json_uint(f, "command_id", p->command_id);
	json_uint(f, "command_status", p->command_status);
	json_uint(f, "sequence_number", p->sequence_number);
	json_uint(f, "command_length", p->command_length);
	json_body(f, p);
	json_tlvs(f, p);
}

/* --- pcap ------------------------------------------------------------ */

struct pcap_out {
	FILE		*f;
	uint32_t	 client_seq;
	uint32_t	 server_seq;
	uint16_t	 ip_id;
	uint32_t	 usec;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* pcap's own headers are in the writer's byte order; we write LE. */
static void
put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

#define ETH_LEN		14
#define IP_LEN		20
#define TCP_LEN		20
#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_PSH		0x08
#define TCP_ACK		0x10
#define PORT_CLIENT	40000
#define PORT_SMPP	2775

static int
pcap_header(struct pcap_out *o)
{
	uint8_t	h[24];

	put32le(h, 0xA1B2C3D4u);
	h[4] = 2; h[5] = 0;		/* version 2.4, little-endian */
	h[6] = 4; h[7] = 0;
	put32le(h + 8, 0);		/* thiszone */
	put32le(h + 12, 0);		/* sigfigs */
	put32le(h + 16, 65535);		/* snaplen */
	put32le(h + 20, 1);		/* LINKTYPE_ETHERNET */
	return fwrite(h, sizeof(h), 1, o->f) == 1 ? 0 : -1;
}

/*
 * One TCP segment, client to server if from_client. Sequence numbers
 * advance by the payload length (and by one for SYN and FIN).
 */
static int
pcap_segment(struct pcap_out *o, bool from_client, uint8_t flags,
    const uint8_t *data, size_t len)
{
	static uint8_t	pkt[ETH_LEN + IP_LEN + TCP_LEN + ENC_CAP];
	uint8_t		rec[16], pseudo[12];
	uint8_t		*ip = pkt + ETH_LEN, *tcp = ip + IP_LEN;
	size_t		 total = ETH_LEN + IP_LEN + TCP_LEN + len;
	uint32_t	*seq = from_client ? &o->client_seq : &o->server_seq;
	uint32_t	 ack = from_client ? o->server_seq : o->client_seq;
	uint32_t	 sum;

	if (len > ENC_CAP || IP_LEN + TCP_LEN + len > 65535)
		return -1;
	memset(pkt, 0, ETH_LEN + IP_LEN + TCP_LEN);
	/* Locally administered MACs: 02:00:00:00:00:01 is the client. */
	pkt[0] = 0x02; pkt[5] = from_client ? 0x02 : 0x01;
	pkt[6] = 0x02; pkt[11] = from_client ? 0x01 : 0x02;
	put16(pkt + 12, 0x0800);

	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_LEN + TCP_LEN + len));
	put16(ip + 4, o->ip_id++);
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;
	ip[9] = 6;			/* TCP */
	ip[12] = 127; ip[15] = 1;	/* 127.0.0.1 both ways */
	ip[16] = 127; ip[19] = 1;
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_LEN)));

	put16(tcp, from_client ? PORT_CLIENT : PORT_SMPP);
	put16(tcp + 2, from_client ? PORT_SMPP : PORT_CLIENT);
	put32(tcp + 4, *seq);
	put32(tcp + 8, (flags & TCP_ACK) ? ack : 0);
	tcp[12] = (TCP_LEN / 4) << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	if (len > 0)
		memcpy(tcp + TCP_LEN, data, len);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, (uint16_t)(TCP_LEN + len));
	sum = csum_add(0, pseudo, sizeof(pseudo));
	sum = csum_add(sum, tcp, TCP_LEN + len);
	put16(tcp + 16, csum_fold(sum));

	*seq += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);

	/* 2025-12-24 12:00:00 UTC, one millisecond per packet. */
	o->usec += 1000;
	put32le(rec, 1766577600u + o->usec / 1000000u);
	put32le(rec + 4, o->usec % 1000000u);
	put32le(rec + 8, (uint32_t)total);
	put32le(rec + 12, (uint32_t)total);
	if (fwrite(rec, sizeof(rec), 1, o->f) != 1 ||
	    fwrite(pkt, total, 1, o->f) != 1)
		return -1;
	return 0;
}

/* --- modes ----------------------------------------------------------- */

enum mode {
	MODE_JSON = 0,
	MODE_HEX,
	MODE_PCAP,
};

static int
emit_samples(enum mode mode, const char *path)
{
	static struct smpp_pdu	pdu;
	static uint8_t		buf[ENC_CAP];
	struct pcap_out		o;
	ssize_t			n;
	int			i;

	memset(&o, 0, sizeof(o));
	if (mode == MODE_PCAP) {
		if ((o.f = fopen(path, "wb")) == NULL) {
			fprintf(stderr, "pdu_samples: %s: %s\n", path,
			    strerror(errno));
			return -1;
		}
		o.client_seq = 1000;
		o.server_seq = 5000;
		o.ip_id = 1;
		if (pcap_header(&o) != 0 ||
		    pcap_segment(&o, true, TCP_SYN, NULL, 0) != 0 ||
		    pcap_segment(&o, false, TCP_SYN | TCP_ACK, NULL, 0) != 0 ||
		    pcap_segment(&o, true, TCP_ACK, NULL, 0) != 0)
			goto err_close;
	}
	payload_fill();
	for (i = 0; sample_build(i, &pdu) == 0; i++) {
		n = smpp_pdu_encode(&pdu, buf, sizeof(buf));
		if (n < SMPP_HEADER_LEN) {
			fprintf(stderr, "pdu_samples: sample %d (%s): encode "
			    "failed\n", i, smpp_cmd_name(pdu.command_id));
			goto err_close;
		}
		/* What we meant: the struct as built, with the length the
		 * encoder wrote into the header. */
		pdu.command_length = (uint32_t)buf[0] << 24 |
		    (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
		switch (mode) {
		case MODE_JSON:
			json_pdu(stdout, &pdu);
			json_uint(stdout, "sample", (unsigned long)i);
			json_hex(stdout, "hex", buf, (size_t)n);
			fputs("}\n", stdout);
			break;
		case MODE_HEX:
			hex_put(stdout, buf, (size_t)n);
			fputc('\n', stdout);
			break;
		case MODE_PCAP:
			if (pcap_segment(&o, true, TCP_PSH | TCP_ACK, buf,
			    (size_t)n) != 0)
				goto err_close;
			break;
		}
	}
	if (o.f != NULL && fclose(o.f) != 0) {
		o.f = NULL;
		goto err_close;
	}
	return fflush(stdout) == 0 ? 0 : -1;

err_close:
	if (o.f != NULL)
		fclose(o.f);
	fprintf(stderr, "pdu_samples: failed to write samples\n");
	return -1;
}

static int
hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode each stdin line (hex) with smpp_pdu_decode() and print one JSON
 * object per line: {"input":N,"decode_status":S,"reencoded":HEX,
 * "pdu":{...}}, where reencoded is smpp_pdu_encode() of the decoded PDU
 * (null if that failed). A line that
 * is not hex prints {"input":N,"error":"bad hex"}.
 */
static int
decode_lines(void)
{
	static char		line[LINE_MAX_HEX];
	static uint8_t		buf[LINE_MAX_HEX / 2];
	static uint8_t		out[ENC_CAP];
	static struct smpp_pdu	pdu;
	enum smpp_status	st;
	ssize_t			enc;
	size_t			len, i, n;
	int			input = 0, hi, lo;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strcspn(line, "\r\n");
		if (len == 0)
			continue;
		n = 0;
		for (i = 0; i + 1 < len; i += 2) {
			if ((hi = hex_val(line[i])) < 0 ||
			    (lo = hex_val(line[i + 1])) < 0)
				break;
			buf[n++] = (uint8_t)(hi << 4 | lo);
		}
		if (i != len) {
			printf("{\"input\":%d,\"error\":\"bad hex\"}\n",
			    input++);
			continue;
		}
		memset(&pdu, 0, sizeof(pdu));
		st = smpp_pdu_decode(&pdu, buf, n);
		printf("{\"input\":%d,\"decode_status\":%u", input++,
		    (unsigned)st);
		if (st == SMPP_OK) {
			/* What a proxy forwarding this PDU would write. */
			enc = smpp_pdu_encode(&pdu, out, sizeof(out));
			if (enc >= SMPP_HEADER_LEN)
				json_hex(stdout, "reencoded", out,
				    (size_t)enc);
			else
				fputs(",\"reencoded\":null", stdout);
			fputs(",\"pdu\":", stdout);
			json_pdu(stdout, &pdu);
			fputs("}}\n", stdout);
		} else {
			if (n >= SMPP_HEADER_LEN) {
				json_uint(stdout, "command_id",
				    pdu.command_id);
				json_uint(stdout, "sequence_number",
				    pdu.sequence_number);
			}
			fputs("}\n", stdout);
		}
	}
	return ferror(stdin) || fflush(stdout) != 0 ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: pdu_samples json | hex | pcap FILE | "
	    "decode\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "json") == 0 && argc == 2)
		return emit_samples(MODE_JSON, NULL) == 0 ? 0 : 1;
	if (strcmp(argv[1], "hex") == 0 && argc == 2)
		return emit_samples(MODE_HEX, NULL) == 0 ? 0 : 1;
	if (strcmp(argv[1], "pcap") == 0 && argc == 3)
		return emit_samples(MODE_PCAP, argv[2]) == 0 ? 0 : 1;
	if (strcmp(argv[1], "decode") == 0 && argc == 2)
		return decode_lines() == 0 ? 0 : 1;
	usage();
	return 1;
}
