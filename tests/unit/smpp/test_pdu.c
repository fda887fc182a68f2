/*
 * smpp/pdu: the SMPP v3.4 codec.
 *
 * Golden PDUs, one or more per command of §4, are decoded and re-encoded
 * byte for byte; the field values are checked for the commands the proxy
 * relies on. Each malformed input in bad_cases must be refused with its
 * exact command_status. Encoding refuses fields beyond their spec size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/pdu.h"

/* --- golden PDUs (field by field; command_length counts the header) --- */

static const uint8_t g_bind_transmitter[] = {
	0x00, 0x00, 0x00, 0x2f,			/* command_length 47 */
	0x00, 0x00, 0x00, 0x02,			/* command_id 0x2 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x01,			/* sequence_number */
	0x53, 0x4d, 0x50, 0x50, 0x33, 0x54,	/* system_id "SMPP3TEST" */
	0x45, 0x53, 0x54, 0x00,
	0x73, 0x65, 0x63, 0x72, 0x65, 0x74,	/* password "secret08" */
	0x30, 0x38, 0x00,
	0x53, 0x55, 0x42, 0x4d, 0x49, 0x54,	/* system_type "SUBMIT1" */
	0x31, 0x00,
	0x34,					/* interface_version 0x34 */
	0x01, 0x01,				/* addr_ton, addr_npi */
	0x00,					/* address_range "" */
};

static const uint8_t g_bind_receiver[] = {
	0x00, 0x00, 0x00, 0x2c,			/* command_length 44 */
	0x00, 0x00, 0x00, 0x01,			/* command_id 0x1 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x02,			/* sequence_number */
	0x6d, 0x61, 0x72, 0x6b, 0x65, 0x74,	/* system_id "marketing" */
	0x69, 0x6e, 0x67, 0x00,
	0x6d, 0x6b, 0x70, 0x61, 0x73, 0x73,	/* password "mkpass1" */
	0x31, 0x00,
	0x00,					/* system_type "" */
	0x34,					/* interface_version 0x34 */
	0x00, 0x00,				/* addr_ton, addr_npi */
	0x5e, 0x31, 0x35, 0x35, 0x35, 0x00,	/* address_range "^1555" */
};

static const uint8_t g_bind_transceiver[] = {
	0x00, 0x00, 0x00, 0x2a,			/* command_length 42 */
	0x00, 0x00, 0x00, 0x09,			/* command_id 0x9 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x03,			/* sequence_number */
	0x66, 0x72, 0x6f, 0x6e, 0x74, 0x64,	/* system_id "frontdesk" */
	0x65, 0x73, 0x6b, 0x00,
	0x66, 0x64, 0x70, 0x61, 0x73, 0x73,	/* password "fdpass1" */
	0x31, 0x00,
	0x56, 0x4d, 0x41, 0x00,			/* system_type "VMA" */
	0x50,					/* interface_version 0x50 */
	0x01, 0x01,				/* addr_ton, addr_npi */
	0x00,					/* address_range "" */
};

static const uint8_t g_bind_transmitter_resp[] = {
	0x00, 0x00, 0x00, 0x1a,			/* command_length 26 */
	0x80, 0x00, 0x00, 0x02,			/* command_id 0x80000002 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x01,			/* sequence_number */
	0x53, 0x4d, 0x53, 0x43, 0x00,		/* system_id "SMSC" */
	0x02, 0x10, 0x00, 0x01, 0x34,		/* sc_interface_version 0x34 */
};

static const uint8_t g_bind_receiver_resp[] = {
	0x00, 0x00, 0x00, 0x15,			/* command_length 21 */
	0x80, 0x00, 0x00, 0x01,			/* command_id 0x80000001 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x02,			/* sequence_number */
	0x53, 0x4d, 0x53, 0x43, 0x00,		/* system_id "SMSC" */
};

static const uint8_t g_bind_transceiver_resp[] = {
	0x00, 0x00, 0x00, 0x1d,			/* command_length 29 */
	0x80, 0x00, 0x00, 0x09,			/* command_id 0x80000009 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x03,			/* sequence_number */
	0x63, 0x61, 0x72, 0x72, 0x69, 0x65,	/* system_id "carrier" */
	0x72, 0x00,
	0x02, 0x10, 0x00, 0x01, 0x34,		/* sc_interface_version 0x34 */
};

static const uint8_t g_outbind[] = {
	0x00, 0x00, 0x00, 0x18,			/* command_length 24 */
	0x00, 0x00, 0x00, 0x0b,			/* command_id 0xb */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x04,			/* sequence_number */
	0x53, 0x4d, 0x53, 0x43, 0x00,		/* system_id "SMSC" */
	0x70, 0x77, 0x00,			/* password "pw" */
};

static const uint8_t g_unbind[] = {
	0x00, 0x00, 0x00, 0x10,			/* command_length 16 */
	0x00, 0x00, 0x00, 0x06,			/* command_id 0x6 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x05,			/* sequence_number */
};

static const uint8_t g_unbind_resp[] = {
	0x00, 0x00, 0x00, 0x10,			/* command_length 16 */
	0x80, 0x00, 0x00, 0x06,			/* command_id 0x80000006 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x05,			/* sequence_number */
};

static const uint8_t g_generic_nack[] = {
	0x00, 0x00, 0x00, 0x10,			/* command_length 16 */
	0x80, 0x00, 0x00, 0x00,			/* command_id 0x80000000 */
	0x00, 0x00, 0x00, 0x03,			/* command_status */
	0x00, 0x00, 0x00, 0x06,			/* sequence_number */
};

static const uint8_t g_enquire_link[] = {
	0x00, 0x00, 0x00, 0x10,			/* command_length 16 */
	0x00, 0x00, 0x00, 0x15,			/* command_id 0x15 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x07,			/* sequence_number */
};

static const uint8_t g_enquire_link_resp[] = {
	0x00, 0x00, 0x00, 0x10,			/* command_length 16 */
	0x80, 0x00, 0x00, 0x15,			/* command_id 0x80000015 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x07,			/* sequence_number */
};

static const uint8_t g_submit_sm[] = {
	0x00, 0x00, 0x00, 0x4b,			/* command_length 75 */
	0x00, 0x00, 0x00, 0x04,			/* command_id 0x4 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x08,			/* sequence_number */
	0x00,					/* service_type "" */
	0x05, 0x00, 0x41, 0x63, 0x6d, 0x65,	/* source ton 5 npi 0 "Acme" */
	0x00,
	/* dest ton 1 npi 1 "15551234567" */
	0x01, 0x01, 0x31, 0x35, 0x35, 0x35,
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
	0x37, 0x00,
	/* esm_class, protocol_id, priority */
	0x00, 0x00, 0x00,
	0x00,					/* schedule_delivery_time "" */
	/* validity_period "000001000000000R" */
	0x30, 0x30, 0x30, 0x30, 0x30, 0x31,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x52, 0x00,
	/* registered_delivery 1, replace 0 */
	0x01, 0x00,
	/* data_coding 0, sm_default_msg_id 0 */
	0x00, 0x00,
	0x0b,					/* sm_length 11 */
	0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20,	/* "Hello world" */
	0x77, 0x6f, 0x72, 0x6c, 0x64,
};

static const uint8_t g_submit_sm_tlvs[] = {
	0x00, 0x00, 0x00, 0x64,			/* command_length 100 */
	0x00, 0x00, 0x00, 0x04,			/* command_id 0x4 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x09,			/* sequence_number */
	0x42, 0x49, 0x4c, 0x4c, 0x00,		/* service_type "BILL" */
	0x01, 0x01, 0x31, 0x32, 0x33, 0x34,	/* source ton 1 npi 1 "12345" */
	0x35, 0x00,
	0x02, 0x01, 0x35, 0x35, 0x35, 0x30,	/* dest ton 2 npi 1 "5550100" */
	0x31, 0x30, 0x30, 0x00,
	/* esm_class 0x40 (UDHI), pid, prio */
	0x40, 0x00, 0x01,
	/* schedule "261126143000000+" */
	0x32, 0x36, 0x31, 0x31, 0x32, 0x36,
	0x31, 0x34, 0x33, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x2b, 0x00,
	0x00,					/* validity "" */
	/* registered_delivery, replace */
	0x00, 0x00,
	/* data_coding 8 (UCS-2), default id */
	0x08, 0x00,
	0x00,					/* sm_length 0 */
	0x02, 0x0c, 0x00, 0x02, 0x12, 0x34,	/* sar_msg_ref_num 0x1234 */
	0x14, 0x00, 0x00, 0x03, 0xde, 0xad,	/* unknown vendor TLV 0x1400 */
	0xbe,
	0x02, 0x0e, 0x00, 0x01, 0x02,		/* sar_total_segments 2 */
	0x02, 0x0f, 0x00, 0x01, 0x01,		/* sar_segment_seqnum 1 */
	0x21, 0x50, 0x00, 0x00,			/* unknown TLV 0x2150, empty */
	0x04, 0x24, 0x00, 0x04, 0x00, 0x53,	/* message_payload "\0S\0T" */
	0x00, 0x54,
};

static const uint8_t g_submit_sm_resp[] = {
	0x00, 0x00, 0x00, 0x17,			/* command_length 23 */
	0x80, 0x00, 0x00, 0x04,			/* command_id 0x80000004 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x08,			/* sequence_number */
	0x61, 0x31, 0x62, 0x32, 0x63, 0x33,	/* message_id "a1b2c3" */
	0x00,
};

static const uint8_t g_deliver_sm[] = {
	0x00, 0x00, 0x00, 0x35,			/* command_length 53 */
	0x00, 0x00, 0x00, 0x05,			/* command_id 0x5 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0a,			/* sequence_number */
	0x00,					/* service_type "" */
	/* source ton 1 npi 1 "15551234567" */
	0x01, 0x01, 0x31, 0x35, 0x35, 0x35,
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
	0x37, 0x00,
	0x00, 0x00, 0x31, 0x32, 0x33, 0x34,	/* dest ton 0 npi 0 "12345" */
	0x35, 0x00,
	/* esm_class 0, protocol_id, prio */
	0x00, 0x00, 0x00,
	0x00,					/* schedule "" */
	0x00,					/* validity "" */
	/* registered_delivery, replace */
	0x00, 0x00,
	0x00, 0x00,				/* data_coding, default id */
	0x04,					/* sm_length 4 */
	0x53, 0x54, 0x4f, 0x50,			/* "STOP" */
};

static const uint8_t g_deliver_sm_dlr[] = {
	0x00, 0x00, 0x00, 0xae,			/* command_length 174 */
	0x00, 0x00, 0x00, 0x05,			/* command_id 0x5 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0b,			/* sequence_number */
	0x00,					/* service_type "" */
	/* source ton 1 npi 1 "15551234567" */
	0x01, 0x01, 0x31, 0x35, 0x35, 0x35,
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
	0x37, 0x00,
	0x05, 0x00, 0x41, 0x63, 0x6d, 0x65,	/* dest ton 5 npi 0 "Acme" */
	0x00,
	/* esm_class 0x04 (receipt), pid, prio */
	0x04, 0x00, 0x00,
	0x00,					/* schedule "" */
	0x00,					/* validity "" */
	/* registered_delivery, replace */
	0x00, 0x00,
	0x00, 0x00,				/* data_coding, default id */
	0x67,					/* sm_length 103 */
	0x69, 0x64, 0x3a, 0x61, 0x31, 0x62,	/* receipt text */
	0x32, 0x63, 0x33, 0x20, 0x73, 0x75,
	0x62, 0x3a, 0x30, 0x30, 0x31, 0x20,
	0x64, 0x6c, 0x76, 0x72, 0x64, 0x3a,
	0x30, 0x30, 0x31, 0x20, 0x73, 0x75,
	0x62, 0x6d, 0x69, 0x74, 0x20, 0x64,
	0x61, 0x74, 0x65, 0x3a, 0x32, 0x36,
	0x31, 0x31, 0x32, 0x36, 0x31, 0x34,
	0x33, 0x30, 0x20, 0x64, 0x6f, 0x6e,
	0x65, 0x20, 0x64, 0x61, 0x74, 0x65,
	0x3a, 0x32, 0x36, 0x31, 0x31, 0x32,
	0x36, 0x31, 0x34, 0x33, 0x31, 0x20,
	0x73, 0x74, 0x61, 0x74, 0x3a, 0x44,
	0x45, 0x4c, 0x49, 0x56, 0x52, 0x44,
	0x20, 0x65, 0x72, 0x72, 0x3a, 0x30,
	0x30, 0x30, 0x20, 0x74, 0x65, 0x78,
	0x74, 0x3a, 0x48, 0x65, 0x6c, 0x6c,
	0x6f,
	/* receipted_message_id "a1b2c3" */
	0x00, 0x1e, 0x00, 0x07, 0x61, 0x31,
	0x62, 0x32, 0x63, 0x33, 0x00,
	/* message_state 2 (DELIVERED) */
	0x04, 0x27, 0x00, 0x01, 0x02,
	0x04, 0x23, 0x00, 0x03, 0x03, 0x00,	/* network_error_code */
	0x00,
};

static const uint8_t g_deliver_sm_resp[] = {
	0x00, 0x00, 0x00, 0x11,			/* command_length 17 */
	0x80, 0x00, 0x00, 0x05,			/* command_id 0x80000005 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0a,			/* sequence_number */
	0x00,					/* message_id "" */
};

static const uint8_t g_data_sm[] = {
	0x00, 0x00, 0x00, 0x3f,			/* command_length 63 */
	0x00, 0x00, 0x01, 0x03,			/* command_id 0x103 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0c,			/* sequence_number */
	0x57, 0x41, 0x50, 0x00,			/* service_type "WAP" */
	0x01, 0x01, 0x31, 0x32, 0x33, 0x34,	/* source ton 1 npi 1 "12345" */
	0x35, 0x00,
	/* dest ton 1 npi 1 "15551234567" */
	0x01, 0x01, 0x31, 0x35, 0x35, 0x35,
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
	0x37, 0x00,
	/* esm_class, registered_delivery */
	0x00, 0x01,
	0x00,					/* data_coding 0 */
	0x02, 0x0a, 0x00, 0x02, 0x23, 0xf0,	/* source_port 9200 */
	0x02, 0x0b, 0x00, 0x02, 0x0b, 0x84,	/* destination_port 2948 */
	0x04, 0x24, 0x00, 0x02, 0x68, 0x69,	/* message_payload "hi" */
};

static const uint8_t g_data_sm_resp[] = {
	0x00, 0x00, 0x00, 0x1a,			/* command_length 26 */
	0x80, 0x00, 0x01, 0x03,			/* command_id 0x80000103 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0c,			/* sequence_number */
	0x6d, 0x2d, 0x37, 0x37, 0x00,		/* message_id "m-77" */
	0x04, 0x25, 0x00, 0x01, 0x00,		/* delivery_failure_reason 0 */
};

static const uint8_t g_submit_multi[] = {
	0x00, 0x00, 0x00, 0x52,			/* command_length 82 */
	0x00, 0x00, 0x00, 0x21,			/* command_id 0x21 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0d,			/* sequence_number */
	0x00,					/* service_type "" */
	0x05, 0x00, 0x41, 0x63, 0x6d, 0x65,	/* source ton 5 npi 0 "Acme" */
	0x00,
	0x03,					/* number_of_dests 3 */
	/* dest_flag 1, ton 1 npi 1 "15551230001" */
	0x01, 0x01, 0x01, 0x31, 0x35, 0x35,
	0x35, 0x31, 0x32, 0x33, 0x30, 0x30,
	0x30, 0x31, 0x00,
	/* dest_flag 2, dl_name "staff" */
	0x02, 0x73, 0x74, 0x61, 0x66, 0x66,
	0x00,
	/* dest_flag 1, ton 2 npi 1 "5551230002" */
	0x01, 0x02, 0x01, 0x35, 0x35, 0x35,
	0x31, 0x32, 0x33, 0x30, 0x30, 0x30,
	0x32, 0x00,
	/* esm_class, protocol_id, priority */
	0x00, 0x00, 0x00,
	0x00,					/* schedule "" */
	0x00,					/* validity "" */
	/* registered_delivery, replace */
	0x01, 0x00,
	0x03, 0x00,				/* data_coding, default id */
	0x05,					/* sm_length 5 */
	0x53, 0x61, 0x6c, 0x65, 0x21,		/* "Sale!" */
	0x02, 0x04, 0x00, 0x02, 0x00, 0x07,	/* user_message_reference 7 */
};

static const uint8_t g_submit_multi_resp[] = {
	0x00, 0x00, 0x00, 0x3c,			/* command_length 60 */
	0x80, 0x00, 0x00, 0x21,			/* command_id 0x80000021 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0d,			/* sequence_number */
	0x6d, 0x75, 0x6c, 0x74, 0x69, 0x2d,	/* message_id "multi-1" */
	0x31, 0x00,
	0x02,					/* no_unsuccess 2 */
	0x01, 0x01, 0x31, 0x35, 0x35, 0x35,	/* ton 1 npi 1 "15551230001" */
	0x31, 0x32, 0x33, 0x30, 0x30, 0x30,
	0x31, 0x00,
	0x00, 0x00, 0x04, 0x01,			/* error_status 0x401 */
	0x02, 0x01, 0x35, 0x35, 0x35, 0x31,	/* ton 2 npi 1 "5551230002" */
	0x32, 0x33, 0x30, 0x30, 0x30, 0x32,
	0x00,
	/* error_status ESME_RINVDSTADR */
	0x00, 0x00, 0x00, 0x0b,
};

static const uint8_t g_query_sm[] = {
	0x00, 0x00, 0x00, 0x1e,			/* command_length 30 */
	0x00, 0x00, 0x00, 0x03,			/* command_id 0x3 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0e,			/* sequence_number */
	0x61, 0x31, 0x62, 0x32, 0x63, 0x33,	/* message_id "a1b2c3" */
	0x00,
	0x05, 0x00, 0x41, 0x63, 0x6d, 0x65,	/* source ton 5 npi 0 "Acme" */
	0x00,
};

static const uint8_t g_query_sm_resp[] = {
	0x00, 0x00, 0x00, 0x2a,			/* command_length 42 */
	0x80, 0x00, 0x00, 0x03,			/* command_id 0x80000003 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0e,			/* sequence_number */
	0x61, 0x31, 0x62, 0x32, 0x63, 0x33,	/* message_id "a1b2c3" */
	0x00,
	/* final_date "261126143100000+" */
	0x32, 0x36, 0x31, 0x31, 0x32, 0x36,
	0x31, 0x34, 0x33, 0x31, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x2b, 0x00,
	/* message_state 2, error_code 0 */
	0x02, 0x00,
};

static const uint8_t g_cancel_sm[] = {
	0x00, 0x00, 0x00, 0x2d,			/* command_length 45 */
	0x00, 0x00, 0x00, 0x08,			/* command_id 0x8 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0f,			/* sequence_number */
	0x00,					/* service_type "" */
	0x61, 0x31, 0x62, 0x32, 0x63, 0x33,	/* message_id "a1b2c3" */
	0x00,
	0x05, 0x00, 0x41, 0x63, 0x6d, 0x65,	/* source ton 5 npi 0 "Acme" */
	0x00,
	/* dest ton 1 npi 1 "15551234567" */
	0x01, 0x01, 0x31, 0x35, 0x35, 0x35,
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
	0x37, 0x00,
};

static const uint8_t g_cancel_sm_resp[] = {
	0x00, 0x00, 0x00, 0x10,			/* command_length 16 */
	0x80, 0x00, 0x00, 0x08,			/* command_id 0x80000008 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x0f,			/* sequence_number */
};

static const uint8_t g_replace_sm[] = {
	0x00, 0x00, 0x00, 0x36,			/* command_length 54 */
	0x00, 0x00, 0x00, 0x07,			/* command_id 0x7 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x10,			/* sequence_number */
	0x61, 0x31, 0x62, 0x32, 0x63, 0x33,	/* message_id "a1b2c3" */
	0x00,
	0x05, 0x00, 0x41, 0x63, 0x6d, 0x65,	/* source ton 5 npi 0 "Acme" */
	0x00,
	0x00,					/* schedule "" */
	/* validity "261127000000000+" */
	0x32, 0x36, 0x31, 0x31, 0x32, 0x37,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x30, 0x2b, 0x00,
	/* registered_delivery 1, default id 0 */
	0x01, 0x00,
	0x03,					/* sm_length 3 */
	0x4e, 0x65, 0x77,			/* "New" */
};

static const uint8_t g_replace_sm_resp[] = {
	0x00, 0x00, 0x00, 0x10,			/* command_length 16 */
	0x80, 0x00, 0x00, 0x07,			/* command_id 0x80000007 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x10,			/* sequence_number */
};

static const uint8_t g_alert_notification[] = {
	0x00, 0x00, 0x00, 0x2b,			/* command_length 43 */
	0x00, 0x00, 0x01, 0x02,			/* command_id 0x102 */
	0x00, 0x00, 0x00, 0x00,			/* command_status */
	0x00, 0x00, 0x00, 0x11,			/* sequence_number */
	/* source ton 1 npi 1 "15551234567" */
	0x01, 0x01, 0x31, 0x35, 0x35, 0x35,
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
	0x37, 0x00,
	0x00, 0x00, 0x31, 0x32, 0x33, 0x34,	/* esme ton 0 npi 0 "12345" */
	0x35, 0x00,
	0x04, 0x22, 0x00, 0x01, 0x00,		/* ms_availability_status 0 */
};

struct golden {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
	uint32_t	 command_id;
};

#define GOLDEN(n, id)	{ #n, g_##n, sizeof(g_##n), SMPP_CMD_##id }

static const struct golden goldens[] = {
	GOLDEN(bind_transmitter, BIND_TRANSMITTER),
	GOLDEN(bind_receiver, BIND_RECEIVER),
	GOLDEN(bind_transceiver, BIND_TRANSCEIVER),
	GOLDEN(bind_transmitter_resp, BIND_TRANSMITTER_RESP),
	GOLDEN(bind_receiver_resp, BIND_RECEIVER_RESP),
	GOLDEN(bind_transceiver_resp, BIND_TRANSCEIVER_RESP),
	GOLDEN(outbind, OUTBIND),
	GOLDEN(unbind, UNBIND),
	GOLDEN(unbind_resp, UNBIND_RESP),
	GOLDEN(generic_nack, GENERIC_NACK),
	GOLDEN(enquire_link, ENQUIRE_LINK),
	GOLDEN(enquire_link_resp, ENQUIRE_LINK_RESP),
	GOLDEN(submit_sm, SUBMIT_SM),
	GOLDEN(submit_sm_tlvs, SUBMIT_SM),
	GOLDEN(submit_sm_resp, SUBMIT_SM_RESP),
	GOLDEN(deliver_sm, DELIVER_SM),
	GOLDEN(deliver_sm_dlr, DELIVER_SM),
	GOLDEN(deliver_sm_resp, DELIVER_SM_RESP),
	GOLDEN(data_sm, DATA_SM),
	GOLDEN(data_sm_resp, DATA_SM_RESP),
	GOLDEN(submit_multi, SUBMIT_MULTI),
	GOLDEN(submit_multi_resp, SUBMIT_MULTI_RESP),
	GOLDEN(query_sm, QUERY_SM),
	GOLDEN(query_sm_resp, QUERY_SM_RESP),
	GOLDEN(cancel_sm, CANCEL_SM),
	GOLDEN(cancel_sm_resp, CANCEL_SM_RESP),
	GOLDEN(replace_sm, REPLACE_SM),
	GOLDEN(replace_sm_resp, REPLACE_SM_RESP),
	GOLDEN(alert_notification, ALERT_NOTIFICATION),
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* --- malformed inputs -------------------------------------------------- */

struct bad_case {
	const char	*name;
	const uint8_t	*bytes;
	size_t		 len;
	uint32_t	 want;
};

#define BAD(n, st)	{ #n, m_##n, sizeof(m_##n), SMPP_##st }

static const uint8_t m_short_header[] = {
	0x00, 0x00, 0x00, 0x10, 0x00, 0x00,	/* 10 bytes */
	0x00, 0x15, 0x00, 0x00,
};

static const uint8_t m_length_below_header[] = {
	0x00, 0x00, 0x00, 0x0c, 0x00, 0x00,	/* 16 bytes */
	0x00, 0x15, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42,
};

static const uint8_t m_length_oversize[] = {
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00,	/* 16 bytes */
	0x00, 0x15, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42,
};

static const uint8_t m_length_short_of_data[] = {
	0x00, 0x00, 0x00, 0x10, 0x00, 0x00,	/* 17 bytes */
	0x00, 0x15, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00,
};

static const uint8_t m_trailing_bytes[] = {
	0x00, 0x00, 0x00, 0x11, 0x00, 0x00,	/* 17 bytes */
	0x00, 0x15, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00,
};

static const uint8_t m_trailing_after_message_id[] = {
	0x00, 0x00, 0x00, 0x15, 0x80, 0x00,	/* 21 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x61, 0x62,
	0x63, 0x00, 0x58,
};

static const uint8_t m_unknown_command_id[] = {
	0x00, 0x00, 0x00, 0x10, 0x00, 0x00,	/* 16 bytes */
	0x00, 0x99, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42,
};

static const uint8_t m_unknown_resp_id[] = {
	0x00, 0x00, 0x00, 0x10, 0x80, 0x00,	/* 16 bytes */
	0x00, 0x99, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42,
};

static const uint8_t m_system_id_no_nul[] = {
	0x00, 0x00, 0x00, 0x13, 0x00, 0x00,	/* 19 bytes */
	0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x61, 0x62,
	0x63,
};

static const uint8_t m_system_id_too_long[] = {
	0x00, 0x00, 0x00, 0x29, 0x00, 0x00,	/* 41 bytes */
	0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x41, 0x41,
	0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
	0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
	0x41, 0x41, 0x00, 0x70, 0x77, 0x00,
	0x00, 0x34, 0x00, 0x00, 0x00,
};

static const uint8_t m_password_too_long[] = {
	0x00, 0x00, 0x00, 0x23, 0x00, 0x00,	/* 35 bytes */
	0x00, 0x09, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x73, 0x79,
	0x73, 0x00, 0x31, 0x32, 0x33, 0x34,
	0x35, 0x36, 0x37, 0x38, 0x39, 0x00,
	0x00, 0x34, 0x00, 0x00, 0x00,
};

static const uint8_t m_system_type_too_long[] = {
	0x00, 0x00, 0x00, 0x29, 0x00, 0x00,	/* 41 bytes */
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x73, 0x79,
	0x73, 0x00, 0x70, 0x77, 0x00, 0x54,
	0x54, 0x54, 0x54, 0x54, 0x54, 0x54,
	0x54, 0x54, 0x54, 0x54, 0x54, 0x54,
	0x00, 0x34, 0x00, 0x00, 0x00,
};

static const uint8_t m_address_range_too_long[] = {
	0x00, 0x00, 0x00, 0x45, 0x00, 0x00,	/* 69 bytes */
	0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x73, 0x79,
	0x73, 0x00, 0x70, 0x77, 0x00, 0x00,
	0x34, 0x00, 0x00, 0x39, 0x39, 0x39,
	0x39, 0x39, 0x39, 0x39, 0x39, 0x39,
	0x39, 0x39, 0x39, 0x39, 0x39, 0x39,
	0x39, 0x39, 0x39, 0x39, 0x39, 0x39,
	0x39, 0x39, 0x39, 0x39, 0x39, 0x39,
	0x39, 0x39, 0x39, 0x39, 0x39, 0x39,
	0x39, 0x39, 0x39, 0x39, 0x39, 0x39,
	0x39, 0x39, 0x00,
};

static const uint8_t m_bind_missing_interface_version[] = {
	0x00, 0x00, 0x00, 0x18, 0x00, 0x00,	/* 24 bytes */
	0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x73, 0x79,
	0x73, 0x00, 0x70, 0x77, 0x00, 0x00,
};

static const uint8_t m_outbind_password_no_nul[] = {
	0x00, 0x00, 0x00, 0x16, 0x00, 0x00,	/* 22 bytes */
	0x00, 0x0b, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x73, 0x79,
	0x73, 0x00, 0x70, 0x77,
};

static const uint8_t m_service_type_too_long[] = {
	0x00, 0x00, 0x00, 0x27, 0x00, 0x00,	/* 39 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x41, 0x42,
	0x43, 0x44, 0x45, 0x46, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00,
};

static const uint8_t m_source_addr_too_long[] = {
	0x00, 0x00, 0x00, 0x36, 0x00, 0x00,	/* 54 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x01,
	0x01, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t m_dest_addr_no_nul[] = {
	0x00, 0x00, 0x00, 0x1a, 0x00, 0x00,	/* 26 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x01, 0x31, 0x35,
	0x35, 0x35,
};

static const uint8_t m_deliver_dest_too_long[] = {
	0x00, 0x00, 0x00, 0x36, 0x00, 0x00,	/* 54 bytes */
	0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x01, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t m_submit_truncated_fixed[] = {
	0x00, 0x00, 0x00, 0x19, 0x00, 0x00,	/* 25 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00,
};

static const uint8_t m_schedule_wrong_length[] = {
	0x00, 0x00, 0x00, 0x2b, 0x00, 0x00,	/* 43 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x32, 0x36, 0x31, 0x31,
	0x32, 0x36, 0x31, 0x34, 0x33, 0x30,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00,
};

static const uint8_t m_schedule_too_long[] = {
	0x00, 0x00, 0x00, 0x32, 0x00, 0x00,	/* 50 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x32, 0x36, 0x31, 0x31,
	0x32, 0x36, 0x31, 0x34, 0x33, 0x30,
	0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
	0x2b, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00,
};

static const uint8_t m_validity_wrong_length[] = {
	0x00, 0x00, 0x00, 0x27, 0x00, 0x00,	/* 39 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x30, 0x30, 0x30,
	0x30, 0x30, 0x31, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00,
};

static const uint8_t m_sm_length_beyond_body[] = {
	0x00, 0x00, 0x00, 0x23, 0x00, 0x00,	/* 35 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x05, 0x68, 0x69,
};

static const uint8_t m_sm_length_with_payload[] = {
	0x00, 0x00, 0x00, 0x29, 0x00, 0x00,	/* 41 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x68, 0x69, 0x04,
	0x24, 0x00, 0x02, 0x68, 0x69,
};

static const uint8_t m_tlv_header_past_end[] = {
	0x00, 0x00, 0x00, 0x23, 0x00, 0x00,	/* 35 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x0c,
};

static const uint8_t m_tlv_value_past_end[] = {
	0x00, 0x00, 0x00, 0x27, 0x00, 0x00,	/* 39 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
	0x0a, 0x01, 0x02,
};

static const uint8_t m_known_tlv_wrong_size[] = {
	0x00, 0x00, 0x00, 0x26, 0x00, 0x00,	/* 38 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x0c, 0x00,
	0x01, 0x01,
};

static const uint8_t m_known_tlv_too_long[] = {
	0x00, 0x00, 0x00, 0x67, 0x00, 0x00,	/* 103 bytes */
	0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x1e, 0x00,
	0x42, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
	0x78,
};

static const uint8_t m_bind_resp_tlv_wrong_size[] = {
	0x00, 0x00, 0x00, 0x18, 0x80, 0x00,	/* 24 bytes */
	0x00, 0x09, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x53, 0x00,
	0x02, 0x10, 0x00, 0x02, 0x34, 0x00,
};

static const uint8_t m_multi_zero_dests[] = {
	0x00, 0x00, 0x00, 0x1f, 0x00, 0x00,	/* 31 bytes */
	0x00, 0x21, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00,
};

static const uint8_t m_multi_bad_dest_flag[] = {
	0x00, 0x00, 0x00, 0x2d, 0x00, 0x00,	/* 45 bytes */
	0x00, 0x21, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x01, 0x01, 0x01,
	0x31, 0x32, 0x33, 0x00, 0x03, 0x01,
	0x01, 0x31, 0x32, 0x33, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00,
};

static const uint8_t m_multi_dl_name_too_long[] = {
	0x00, 0x00, 0x00, 0x36, 0x00, 0x00,	/* 54 bytes */
	0x00, 0x21, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x02, 0x64, 0x64,
	0x64, 0x64, 0x64, 0x64, 0x64, 0x64,
	0x64, 0x64, 0x64, 0x64, 0x64, 0x64,
	0x64, 0x64, 0x64, 0x64, 0x64, 0x64,
	0x64, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t m_multi_dest_too_long[] = {
	0x00, 0x00, 0x00, 0x38, 0x00, 0x00,	/* 56 bytes */
	0x00, 0x21, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x01, 0x01, 0x01,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00,
};

static const uint8_t m_multi_fewer_dests[] = {
	0x00, 0x00, 0x00, 0x22, 0x00, 0x00,	/* 34 bytes */
	0x00, 0x21, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x02, 0x78, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

static const uint8_t m_message_id_too_long[] = {
	0x00, 0x00, 0x00, 0x52, 0x80, 0x00,	/* 82 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x6d, 0x6d, 0x6d,
	0x6d, 0x6d, 0x6d, 0x00,
};

static const uint8_t m_submit_resp_ok_no_body[] = {
	0x00, 0x00, 0x00, 0x10, 0x80, 0x00,	/* 16 bytes */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42,
};

static const uint8_t m_data_sm_source_too_long[] = {
	0x00, 0x00, 0x00, 0x5b, 0x00, 0x00,	/* 91 bytes */
	0x01, 0x03, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x01,
	0x01, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x31, 0x31, 0x31, 0x31, 0x31, 0x31,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00,
};

static const uint8_t m_query_resp_final_date_bad[] = {
	0x00, 0x00, 0x00, 0x1a, 0x80, 0x00,	/* 26 bytes */
	0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x69, 0x64,
	0x00, 0x32, 0x36, 0x31, 0x31, 0x00,
	0x02, 0x00,
};

static const uint8_t m_query_resp_truncated[] = {
	0x00, 0x00, 0x00, 0x15, 0x80, 0x00,	/* 21 bytes */
	0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x69, 0x64,
	0x00, 0x00, 0x02,
};

static const uint8_t m_multi_resp_truncated_error[] = {
	0x00, 0x00, 0x00, 0x1c, 0x80, 0x00,	/* 28 bytes */
	0x00, 0x21, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x69, 0x64,
	0x00, 0x01, 0x01, 0x01, 0x31, 0x32,
	0x33, 0x00, 0x00, 0x00,
};

static const uint8_t m_replace_sm_length_beyond[] = {
	0x00, 0x00, 0x00, 0x1e, 0x00, 0x00,	/* 30 bytes */
	0x00, 0x07, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x69, 0x64,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x09, 0x61, 0x62, 0x63,
};

static const uint8_t m_cancel_trailing[] = {
	0x00, 0x00, 0x00, 0x1b, 0x00, 0x00,	/* 27 bytes */
	0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00, 0x69,
	0x64, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00,
};

static const uint8_t m_enquire_link_resp_body[] = {
	0x00, 0x00, 0x00, 0x11, 0x80, 0x00,	/* 17 bytes */
	0x00, 0x15, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x42, 0x00,
};

static const struct bad_case bad_cases[] = {
	BAD(short_header, ESME_RINVCMDLEN),
	BAD(length_below_header, ESME_RINVCMDLEN),
	BAD(length_oversize, ESME_RINVCMDLEN),
	BAD(length_short_of_data, ESME_RINVCMDLEN),
	BAD(trailing_bytes, ESME_RINVCMDLEN),
	BAD(trailing_after_message_id, ESME_RINVCMDLEN),
	BAD(unknown_command_id, ESME_RINVCMDID),
	BAD(unknown_resp_id, ESME_RINVCMDID),
	BAD(system_id_no_nul, ESME_RINVSYSID),
	BAD(system_id_too_long, ESME_RINVSYSID),
	BAD(password_too_long, ESME_RINVPASWD),
	BAD(system_type_too_long, ESME_RINVSYSTYP),
	BAD(address_range_too_long, ESME_RINVPARLEN),
	BAD(bind_missing_interface_version, ESME_RINVCMDLEN),
	BAD(outbind_password_no_nul, ESME_RINVPASWD),
	BAD(service_type_too_long, ESME_RINVSERTYP),
	BAD(source_addr_too_long, ESME_RINVSRCADR),
	BAD(dest_addr_no_nul, ESME_RINVDSTADR),
	BAD(deliver_dest_too_long, ESME_RINVDSTADR),
	BAD(submit_truncated_fixed, ESME_RINVCMDLEN),
	BAD(schedule_wrong_length, ESME_RINVSCHED),
	BAD(schedule_too_long, ESME_RINVSCHED),
	BAD(validity_wrong_length, ESME_RINVEXPIRY),
	BAD(sm_length_beyond_body, ESME_RINVMSGLEN),
	BAD(sm_length_with_payload, ESME_RINVPARLEN),
	BAD(tlv_header_past_end, ESME_RINVOPTPARSTREAM),
	BAD(tlv_value_past_end, ESME_RINVOPTPARSTREAM),
	BAD(known_tlv_wrong_size, ESME_RINVPARLEN),
	BAD(known_tlv_too_long, ESME_RINVPARLEN),
	BAD(bind_resp_tlv_wrong_size, ESME_RINVPARLEN),
	BAD(multi_zero_dests, ESME_RINVNUMDESTS),
	BAD(multi_bad_dest_flag, ESME_RINVDESTFLAG),
	BAD(multi_dl_name_too_long, ESME_RINVDLNAME),
	BAD(multi_dest_too_long, ESME_RINVDSTADR),
	BAD(multi_fewer_dests, ESME_RINVDESTFLAG),
	BAD(message_id_too_long, ESME_RINVMSGID),
	BAD(submit_resp_ok_no_body, ESME_RINVMSGID),
	BAD(data_sm_source_too_long, ESME_RINVSRCADR),
	BAD(query_resp_final_date_bad, ESME_RINVPARLEN),
	BAD(query_resp_truncated, ESME_RINVCMDLEN),
	BAD(multi_resp_truncated_error, ESME_RINVCMDLEN),
	BAD(replace_sm_length_beyond, ESME_RINVMSGLEN),
	BAD(cancel_trailing, ESME_RINVCMDLEN),
	BAD(enquire_link_resp_body, ESME_RINVCMDLEN),
};

/* --- fixtures ---------------------------------------------------------- */

struct fixture {
	struct smpp_pdu	a;
	struct smpp_pdu	b;
	uint8_t		out[70000];
};

static int
setup(void **state)
{
	*state = calloc(1, sizeof(struct fixture));
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static void
decode_ok(struct smpp_pdu *p, const uint8_t *buf, size_t len)
{
	assert_int_equal(smpp_pdu_decode(p, buf, len), SMPP_OK);
}

/* --- golden round trips ---------------------------------------------- */

/* Every golden PDU decodes, keeps its header, and re-encodes byte for
 * byte; an encode buffer one byte short fails cleanly. */
static void
test_pdu_golden_roundtrip(void **state)
{
	struct fixture	*f = *state;
	size_t		 i, cap;
	ssize_t		 n;

	for (i = 0; i < NELEM(goldens); i++) {
		const struct golden *g = &goldens[i];

		print_message("golden %s\n", g->name);
		decode_ok(&f->a, g->bytes, g->len);
		assert_int_equal(f->a.command_id, g->command_id);
		assert_int_equal(f->a.command_length, g->len);
		n = smpp_pdu_encode(&f->a, f->out, sizeof(f->out));
		assert_int_equal(n, (ssize_t)g->len);
		assert_memory_equal(f->out, g->bytes, g->len);
		for (cap = 0; cap < g->len; cap++)
			assert_int_equal(smpp_pdu_encode(&f->a, f->out, cap),
			    -1);
	}
}

/* Every command of §4 has a golden PDU. */
static void
test_pdu_golden_covers_every_command(void **state)
{
	static const uint32_t ids[] = {
		SMPP_CMD_GENERIC_NACK, SMPP_CMD_BIND_RECEIVER,
		SMPP_CMD_BIND_RECEIVER_RESP, SMPP_CMD_BIND_TRANSMITTER,
		SMPP_CMD_BIND_TRANSMITTER_RESP, SMPP_CMD_QUERY_SM,
		SMPP_CMD_QUERY_SM_RESP, SMPP_CMD_SUBMIT_SM,
		SMPP_CMD_SUBMIT_SM_RESP, SMPP_CMD_DELIVER_SM,
		SMPP_CMD_DELIVER_SM_RESP, SMPP_CMD_UNBIND,
		SMPP_CMD_UNBIND_RESP, SMPP_CMD_REPLACE_SM,
		SMPP_CMD_REPLACE_SM_RESP, SMPP_CMD_CANCEL_SM,
		SMPP_CMD_CANCEL_SM_RESP, SMPP_CMD_BIND_TRANSCEIVER,
		SMPP_CMD_BIND_TRANSCEIVER_RESP, SMPP_CMD_OUTBIND,
		SMPP_CMD_ENQUIRE_LINK, SMPP_CMD_ENQUIRE_LINK_RESP,
		SMPP_CMD_SUBMIT_MULTI, SMPP_CMD_SUBMIT_MULTI_RESP,
		SMPP_CMD_ALERT_NOTIFICATION, SMPP_CMD_DATA_SM,
		SMPP_CMD_DATA_SM_RESP,
	};
	size_t	i, j;
	bool	found;

	(void)state;
	for (i = 0; i < NELEM(ids); i++) {
		found = false;
		for (j = 0; j < NELEM(goldens); j++)
			if (goldens[j].command_id == ids[i])
				found = true;
		assert_true(smpp_cmd_is_known(ids[i]));
		if (!found)
			fail_msg("no golden for %s", smpp_cmd_name(ids[i]));
	}
}

static void
test_pdu_bind_fields(void **state)
{
	struct fixture		*f = *state;
	const struct smpp_tlv	*t;

	decode_ok(&f->a, g_bind_transmitter, sizeof(g_bind_transmitter));
	assert_int_equal(f->a.sequence_number, 1);
	assert_string_equal(f->a.system_id, "SMPP3TEST");
	assert_string_equal(f->a.password, "secret08");
	assert_string_equal(f->a.system_type, "SUBMIT1");
	assert_int_equal(f->a.interface_version, 0x34);
	assert_int_equal(f->a.address_range.ton, 1);
	assert_int_equal(f->a.address_range.npi, 1);
	assert_string_equal(f->a.address_range.addr, "");

	decode_ok(&f->a, g_bind_receiver, sizeof(g_bind_receiver));
	assert_string_equal(f->a.system_id, "marketing");
	assert_string_equal(f->a.address_range.addr, "^1555");

	decode_ok(&f->a, g_bind_transceiver_resp,
	    sizeof(g_bind_transceiver_resp));
	assert_string_equal(f->a.system_id, "carrier");
	assert_int_equal(f->a.tlv_count, 1);
	t = smpp_pdu_tlv_find(&f->a, SMPP_TLV_SC_INTERFACE_VERSION);
	assert_non_null(t);
	assert_int_equal(t->len, 1);
	assert_int_equal(t->value[0], 0x34);

	decode_ok(&f->a, g_outbind, sizeof(g_outbind));
	assert_string_equal(f->a.system_id, "SMSC");
	assert_string_equal(f->a.password, "pw");
}

static void
test_pdu_submit_sm_fields(void **state)
{
	struct fixture	*f = *state;

	decode_ok(&f->a, g_submit_sm, sizeof(g_submit_sm));
	assert_int_equal(f->a.sequence_number, 8);
	assert_string_equal(f->a.service_type, "");
	assert_int_equal(f->a.source.ton, SMPP_TON_ALPHANUMERIC);
	assert_string_equal(f->a.source.addr, "Acme");
	assert_int_equal(f->a.dest.ton, SMPP_TON_INTERNATIONAL);
	assert_int_equal(f->a.dest.npi, 1);
	assert_string_equal(f->a.dest.addr, "15551234567");
	assert_string_equal(f->a.schedule_delivery_time, "");
	assert_string_equal(f->a.validity_period, "000001000000000R");
	assert_int_equal(f->a.registered_delivery, 1);
	assert_int_equal(f->a.sm_length, 11);
	/* short_message is a view into the decoded buffer. */
	assert_ptr_equal(f->a.short_message,
	    g_submit_sm + sizeof(g_submit_sm) - 11);
	assert_memory_equal(f->a.short_message, "Hello world", 11);
	assert_int_equal(f->a.tlv_count, 0);
}

/* The destination read ahead agrees with the decode; only submit_sm has
 * one; a body cut before the destination's NUL has none. */
static void
test_pdu_peek_dest(void **state)
{
	struct smpp_addr	 d;
	uint8_t			 buf[sizeof(g_submit_sm)];
	size_t			 i, len, dest_end;

	(void)state;
	assert_true(smpp_pdu_peek_dest(g_submit_sm, sizeof(g_submit_sm), &d));
	assert_int_equal(d.ton, SMPP_TON_INTERNATIONAL);
	assert_int_equal(d.npi, 1);
	assert_string_equal(d.addr, "15551234567");
	for (i = 0; i < NELEM(goldens); i++)
		assert_int_equal(smpp_pdu_peek_dest(goldens[i].bytes,
		    goldens[i].len, &d),
		    goldens[i].command_id == SMPP_CMD_SUBMIT_SM);
	/* command_length must be the length given. */
	assert_false(smpp_pdu_peek_dest(g_submit_sm, sizeof(g_submit_sm) - 1,
	    &d));
	/* header, "", ton npi "Acme", ton npi "15551234567" */
	dest_end = 16 + 1 + 2 + 5 + 2 + 12;
	for (len = 0; len < sizeof(g_submit_sm); len++) {
		memcpy(buf, g_submit_sm, len);
		if (len >= 4) {
			buf[0] = (uint8_t)(len >> 24);
			buf[1] = (uint8_t)(len >> 16);
			buf[2] = (uint8_t)(len >> 8);
			buf[3] = (uint8_t)len;
		}
		assert_int_equal(smpp_pdu_peek_dest(buf, len, &d),
		    len >= dest_end);
	}
}

/* Known and unknown TLVs keep their wire order and bytes. */
static void
test_pdu_tlvs_in_order(void **state)
{
	static const uint16_t want[] = { SMPP_TLV_SAR_MSG_REF_NUM, 0x1400,
	    SMPP_TLV_SAR_TOTAL_SEGMENTS, SMPP_TLV_SAR_SEGMENT_SEQNUM, 0x2150,
	    SMPP_TLV_MESSAGE_PAYLOAD };
	struct fixture		*f = *state;
	const struct smpp_tlv	*t;
	size_t			 i;

	decode_ok(&f->a, g_submit_sm_tlvs, sizeof(g_submit_sm_tlvs));
	assert_string_equal(f->a.service_type, "BILL");
	assert_string_equal(f->a.schedule_delivery_time, "261126143000000+");
	assert_int_equal(f->a.esm_class, SMPP_ESM_UDHI);
	assert_int_equal(f->a.data_coding, 8);
	assert_int_equal(f->a.sm_length, 0);
	/* Empty views are not NULL: memcpy(dst, view, 0) must be safe. */
	assert_ptr_equal(f->a.short_message, g_submit_sm_tlvs + 65);
	assert_non_null(f->a.tlvs[4].value);
	assert_int_equal(f->a.tlv_count, NELEM(want));
	for (i = 0; i < NELEM(want); i++)
		assert_int_equal(f->a.tlvs[i].tag, want[i]);
	assert_int_equal(f->a.tlvs[1].len, 3);
	assert_memory_equal(f->a.tlvs[1].value, "\xde\xad\xbe", 3);
	assert_int_equal(f->a.tlvs[4].len, 0);
	t = smpp_pdu_tlv_find(&f->a, SMPP_TLV_MESSAGE_PAYLOAD);
	assert_non_null(t);
	assert_int_equal(t->len, 4);
	assert_memory_equal(t->value, "\0S\0T", 4);
	assert_null(smpp_pdu_tlv_find(&f->a, SMPP_TLV_SOURCE_PORT));
}

static void
test_pdu_deliver_sm_fields(void **state)
{
	struct fixture		*f = *state;
	const struct smpp_tlv	*t;

	decode_ok(&f->a, g_deliver_sm, sizeof(g_deliver_sm));
	assert_int_equal(f->a.esm_class & SMPP_ESM_MSG_TYPE_MASK,
	    SMPP_ESM_MSG_TYPE_MO);
	assert_string_equal(f->a.source.addr, "15551234567");
	assert_string_equal(f->a.dest.addr, "12345");
	assert_int_equal(f->a.sm_length, 4);
	assert_memory_equal(f->a.short_message, "STOP", 4);

	decode_ok(&f->a, g_deliver_sm_dlr, sizeof(g_deliver_sm_dlr));
	assert_int_equal(f->a.esm_class & SMPP_ESM_MSG_TYPE_MASK,
	    SMPP_ESM_MSG_TYPE_DLR);
	t = smpp_pdu_tlv_find(&f->a, SMPP_TLV_RECEIPTED_MESSAGE_ID);
	assert_non_null(t);
	assert_int_equal(t->len, 7);
	assert_string_equal((const char *)t->value, "a1b2c3");
	t = smpp_pdu_tlv_find(&f->a, SMPP_TLV_MESSAGE_STATE);
	assert_non_null(t);
	assert_int_equal(t->value[0], 2);
}

static void
test_pdu_data_sm_fields(void **state)
{
	struct fixture		*f = *state;
	const struct smpp_tlv	*t;

	decode_ok(&f->a, g_data_sm, sizeof(g_data_sm));
	assert_string_equal(f->a.service_type, "WAP");
	assert_string_equal(f->a.source.addr, "12345");
	assert_string_equal(f->a.dest.addr, "15551234567");
	assert_int_equal(f->a.registered_delivery, 1);
	assert_int_equal(f->a.tlv_count, 3);
	t = smpp_pdu_tlv_find(&f->a, SMPP_TLV_MESSAGE_PAYLOAD);
	assert_non_null(t);
	assert_memory_equal(t->value, "hi", 2);

	decode_ok(&f->a, g_data_sm_resp, sizeof(g_data_sm_resp));
	assert_string_equal(f->a.message_id, "m-77");
	assert_int_equal(f->a.tlv_count, 1);
}

static void
test_pdu_submit_multi_fields(void **state)
{
	struct fixture	*f = *state;

	decode_ok(&f->a, g_submit_multi, sizeof(g_submit_multi));
	assert_string_equal(f->a.source.addr, "Acme");
	assert_int_equal(f->a.number_of_dests, 3);
	assert_int_equal(f->a.dests[0].dest_flag, SMPP_DEST_SME_ADDRESS);
	assert_string_equal(f->a.dests[0].addr.addr, "15551230001");
	assert_int_equal(f->a.dests[1].dest_flag, SMPP_DEST_DL_NAME);
	assert_string_equal(f->a.dests[1].dl_name, "staff");
	assert_int_equal(f->a.dests[2].addr.ton, SMPP_TON_NATIONAL);
	assert_string_equal(f->a.dests[2].addr.addr, "5551230002");
	assert_int_equal(f->a.data_coding, 3);
	assert_memory_equal(f->a.short_message, "Sale!", 5);
	assert_int_equal(f->a.tlv_count, 1);

	decode_ok(&f->a, g_submit_multi_resp, sizeof(g_submit_multi_resp));
	assert_string_equal(f->a.message_id, "multi-1");
	assert_int_equal(f->a.no_unsuccess, 2);
	assert_string_equal(f->a.unsuccess[0].addr.addr, "15551230001");
	assert_int_equal(f->a.unsuccess[0].error_status, 0x401);
	assert_int_equal(f->a.unsuccess[1].addr.ton, SMPP_TON_NATIONAL);
	assert_int_equal(f->a.unsuccess[1].error_status,
	    SMPP_ESME_RINVDSTADR);
}

static void
test_pdu_other_fields(void **state)
{
	struct fixture	*f = *state;

	decode_ok(&f->a, g_query_sm_resp, sizeof(g_query_sm_resp));
	assert_string_equal(f->a.message_id, "a1b2c3");
	assert_string_equal(f->a.final_date, "261126143100000+");
	assert_int_equal(f->a.message_state, 2);
	assert_int_equal(f->a.error_code, 0);

	decode_ok(&f->a, g_cancel_sm, sizeof(g_cancel_sm));
	assert_string_equal(f->a.message_id, "a1b2c3");
	assert_string_equal(f->a.dest.addr, "15551234567");

	decode_ok(&f->a, g_replace_sm, sizeof(g_replace_sm));
	assert_string_equal(f->a.validity_period, "261127000000000+");
	assert_memory_equal(f->a.short_message, "New", 3);

	decode_ok(&f->a, g_alert_notification, sizeof(g_alert_notification));
	assert_string_equal(f->a.source.addr, "15551234567");
	assert_string_equal(f->a.esme.addr, "12345");

	decode_ok(&f->a, g_generic_nack, sizeof(g_generic_nack));
	assert_int_equal(f->a.command_status, SMPP_ESME_RINVCMDID);
	assert_int_equal(f->a.sequence_number, 6);
}

/* Building a PDU field by field gives the golden bytes. */
static void
test_pdu_build_submit_sm(void **state)
{
	static const uint8_t	 ref[] = { 0x12, 0x34 }, vendor[] = {
	    0xde, 0xad, 0xbe }, two = 2, one = 1;
	struct fixture		*f = *state;
	struct smpp_pdu		*p = &f->a;
	ssize_t			 n;

	smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, 8);
	p->source.ton = SMPP_TON_ALPHANUMERIC;
	snprintf(p->source.addr, sizeof(p->source.addr), "Acme");
	p->dest.ton = SMPP_TON_INTERNATIONAL;
	p->dest.npi = 1;
	snprintf(p->dest.addr, sizeof(p->dest.addr), "15551234567");
	snprintf(p->validity_period, sizeof(p->validity_period),
	    "000001000000000R");
	p->registered_delivery = 1;
	p->sm_length = 11;
	p->short_message = (const uint8_t *)"Hello world";
	n = smpp_pdu_encode(p, f->out, sizeof(f->out));
	assert_int_equal(n, sizeof(g_submit_sm));
	assert_memory_equal(f->out, g_submit_sm, sizeof(g_submit_sm));

	smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, 9);
	snprintf(p->service_type, sizeof(p->service_type), "BILL");
	p->source.ton = 1;
	p->source.npi = 1;
	snprintf(p->source.addr, sizeof(p->source.addr), "12345");
	p->dest.ton = 2;
	p->dest.npi = 1;
	snprintf(p->dest.addr, sizeof(p->dest.addr), "5550100");
	p->esm_class = SMPP_ESM_UDHI;
	p->priority_flag = 1;
	snprintf(p->schedule_delivery_time,
	    sizeof(p->schedule_delivery_time), "261126143000000+");
	p->data_coding = 8;
	assert_int_equal(smpp_pdu_tlv_add(p, SMPP_TLV_SAR_MSG_REF_NUM, ref,
	    2), 0);
	assert_int_equal(smpp_pdu_tlv_add(p, 0x1400, vendor, 3), 0);
	assert_int_equal(smpp_pdu_tlv_add(p, SMPP_TLV_SAR_TOTAL_SEGMENTS,
	    &two, 1), 0);
	assert_int_equal(smpp_pdu_tlv_add(p, SMPP_TLV_SAR_SEGMENT_SEQNUM,
	    &one, 1), 0);
	assert_int_equal(smpp_pdu_tlv_add(p, 0x2150, NULL, 0), 0);
	assert_int_equal(smpp_pdu_tlv_add(p, SMPP_TLV_MESSAGE_PAYLOAD,
	    "\0S\0T", 4), 0);
	n = smpp_pdu_encode(p, f->out, sizeof(f->out));
	assert_int_equal(n, sizeof(g_submit_sm_tlvs));
	assert_memory_equal(f->out, g_submit_sm_tlvs,
	    sizeof(g_submit_sm_tlvs));
}

static void
test_pdu_build_resp(void **state)
{
	struct fixture	*f = *state;
	ssize_t		 n;

	decode_ok(&f->a, g_submit_sm, sizeof(g_submit_sm));
	smpp_pdu_init_resp(&f->b, &f->a, SMPP_OK);
	snprintf(f->b.message_id, sizeof(f->b.message_id), "a1b2c3");
	n = smpp_pdu_encode(&f->b, f->out, sizeof(f->out));
	assert_int_equal(n, sizeof(g_submit_sm_resp));
	assert_memory_equal(f->out, g_submit_sm_resp,
	    sizeof(g_submit_sm_resp));

	/* In place: resp and req may be the same struct. */
	decode_ok(&f->a, g_enquire_link, sizeof(g_enquire_link));
	smpp_pdu_init_resp(&f->a, &f->a, SMPP_OK);
	n = smpp_pdu_encode(&f->a, f->out, sizeof(f->out));
	assert_int_equal(n, sizeof(g_enquire_link_resp));
	assert_memory_equal(f->out, g_enquire_link_resp,
	    sizeof(g_enquire_link_resp));

	/* No response PDU for outbind: generic_nack. */
	decode_ok(&f->a, g_outbind, sizeof(g_outbind));
	smpp_pdu_init_resp(&f->b, &f->a, SMPP_ESME_RINVCMDID);
	assert_int_equal(f->b.command_id, SMPP_CMD_GENERIC_NACK);
	assert_int_equal(f->b.sequence_number, 4);
	assert_int_equal(f->b.command_status, SMPP_ESME_RINVCMDID);
	assert_string_equal(f->b.system_id, "");
}

/* --- malformed ------------------------------------------------------- */

/* Each malformed input gets its exact status, and the header is filled
 * whenever 16 bytes were given. */
static void
test_pdu_malformed(void **state)
{
	struct fixture	*f = *state;
	size_t		 i;
	uint32_t	 st;

	for (i = 0; i < NELEM(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];

		st = smpp_pdu_decode(&f->a, b->bytes, b->len);
		if (st != b->want)
			fail_msg("%s: got %s (0x%x), want %s", b->name,
			    smpp_status_name(st), st,
			    smpp_status_name(b->want));
		if (b->len >= SMPP_HEADER_LEN)
			assert_int_equal(f->a.sequence_number, 0x42);
		else
			assert_int_equal(f->a.sequence_number, 0);
	}
	assert_int_equal(smpp_pdu_decode(&f->a, NULL, 0),
	    SMPP_ESME_RINVCMDLEN);
}

/*
 * Every proper prefix of a golden PDU, with command_length adjusted, is
 * refused without a crash, unless it ends on a TLV boundary; what does
 * decode re-encodes to the same bytes.
 */
static void
test_pdu_truncated_goldens(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 buf[512];
	size_t		 i, n;
	bool		 has_tlvs;

	for (i = 0; i < NELEM(goldens); i++) {
		const struct golden *g = &goldens[i];

		assert_true(g->len <= sizeof(buf));
		decode_ok(&f->a, g->bytes, g->len);
		has_tlvs = f->a.tlv_count > 0;
		for (n = SMPP_HEADER_LEN; n < g->len; n++) {
			memcpy(buf, g->bytes, n);
			buf[0] = (uint8_t)(n >> 24);
			buf[1] = (uint8_t)(n >> 16);
			buf[2] = (uint8_t)(n >> 8);
			buf[3] = (uint8_t)n;
			if (smpp_pdu_decode(&f->a, buf, n) != SMPP_OK)
				continue;
			if (!has_tlvs && !(n == SMPP_HEADER_LEN &&
			    g->command_id == SMPP_CMD_DELIVER_SM_RESP))
				fail_msg("%s cut at %zu decoded", g->name, n);
			if (n > SMPP_HEADER_LEN) {
				assert_int_equal(smpp_pdu_encode(&f->a, f->out,
				    sizeof(f->out)), (ssize_t)n);
				assert_memory_equal(f->out, buf, n);
			}
		}
	}
}

static size_t
put_header(uint8_t *b, uint32_t len, uint32_t id)
{
	memset(b, 0, SMPP_HEADER_LEN);
	b[0] = (uint8_t)(len >> 24);
	b[1] = (uint8_t)(len >> 16);
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[4] = (uint8_t)(id >> 24);
	b[5] = (uint8_t)(id >> 16);
	b[6] = (uint8_t)(id >> 8);
	b[7] = (uint8_t)id;
	return SMPP_HEADER_LEN;
}

/* SMPP_MAX_TLVS TLVs are fine, one more is ESME_RINVOPTPARSTREAM. */
static void
test_pdu_too_many_tlvs(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 buf[1024];
	size_t		 n, i, extra;

	for (extra = 0; extra < 2; extra++) {
		memset(buf, 0, sizeof(buf));
		n = SMPP_HEADER_LEN + 10;	/* data_sm, all empty */
		for (i = 0; i < SMPP_MAX_TLVS + extra; i++) {
			buf[n] = 0x14;		/* vendor tag 0x1400, len 0 */
			n += 4;
		}
		put_header(buf, (uint32_t)n, SMPP_CMD_DATA_SM);
		assert_int_equal(smpp_pdu_decode(&f->a, buf, n),
		    extra ? SMPP_ESME_RINVOPTPARSTREAM : SMPP_OK);
	}
	assert_int_equal(f->a.sequence_number, 0);
	smpp_pdu_init(&f->a, SMPP_CMD_DATA_SM, 1);
	for (i = 0; i < SMPP_MAX_TLVS; i++)
		assert_int_equal(smpp_pdu_tlv_add(&f->a, 0x1400, NULL, 0), 0);
	assert_int_equal(smpp_pdu_tlv_add(&f->a, 0x1400, NULL, 0), -1);
	assert_int_equal(smpp_pdu_tlv_add(&f->b, 0x1400, NULL, 1), -1);
}

/* number_of_dests is one octet; §4.5.1 caps it at 254. */
static void
test_pdu_multi_dest_count(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 buf[1024];
	size_t		 n, i, count;

	for (count = 254; count <= 255; count++) {
		memset(buf, 0, sizeof(buf));
		n = SMPP_HEADER_LEN + 4;	/* service_type, source */
		buf[n++] = (uint8_t)count;
		for (i = 0; i < count; i++) {
			buf[n++] = SMPP_DEST_DL_NAME;
			buf[n++] = 'x';
			buf[n++] = '\0';
		}
		n += 10;	/* esm_class .. sm_length, all empty */
		put_header(buf, (uint32_t)n, SMPP_CMD_SUBMIT_MULTI);
		assert_int_equal(smpp_pdu_decode(&f->a, buf, n),
		    count == 254 ? SMPP_OK : SMPP_ESME_RINVNUMDESTS);
		if (count == 254) {
			assert_int_equal(f->a.number_of_dests, 254);
			assert_string_equal(f->a.dests[253].dl_name, "x");
			assert_int_equal(smpp_pdu_encode(&f->a, f->out,
			    sizeof(f->out)), (ssize_t)n);
			assert_memory_equal(f->out, buf, n);
		}
	}
}

/* §5.2.21: short_message holds 0..254 octets; 255 is refused both ways. */
static void
test_pdu_sm_length_max(void **state)
{
	static uint8_t	 text[255];
	struct fixture	*f = *state;
	ssize_t		 n;

	memset(text, 'x', sizeof(text));
	smpp_pdu_init(&f->a, SMPP_CMD_SUBMIT_SM, 1);
	f->a.sm_length = SMPP_SHORT_MESSAGE_MAX;
	f->a.short_message = text;
	n = smpp_pdu_encode(&f->a, f->out, sizeof(f->out));
	assert_int_equal(n, 33 + SMPP_SHORT_MESSAGE_MAX);
	decode_ok(&f->b, f->out, (size_t)n);
	assert_int_equal(f->b.sm_length, SMPP_SHORT_MESSAGE_MAX);

	f->a.sm_length = 255;
	assert_int_equal(smpp_pdu_encode(&f->a, f->out, sizeof(f->out)), -1);
	/* The same PDU with sm_length patched to 255 and one more octet. */
	f->out[32] = 255;
	f->out[n] = 'x';
	n++;
	f->out[3] = (uint8_t)n;
	f->out[2] = (uint8_t)(n >> 8);
	assert_int_equal(smpp_pdu_decode(&f->b, f->out, (size_t)n),
	    SMPP_ESME_RINVMSGLEN);
}

/* Responses with an error status may come without a body (§4.1.2,
 * §4.4.2); deliver_sm_resp may always. */
static void
test_pdu_resp_without_body(void **state)
{
	static const uint32_t ids[] = {
		SMPP_CMD_BIND_TRANSMITTER_RESP, SMPP_CMD_BIND_RECEIVER_RESP,
		SMPP_CMD_BIND_TRANSCEIVER_RESP, SMPP_CMD_SUBMIT_SM_RESP,
		SMPP_CMD_DELIVER_SM_RESP, SMPP_CMD_DATA_SM_RESP,
		SMPP_CMD_QUERY_SM_RESP, SMPP_CMD_SUBMIT_MULTI_RESP,
	};
	struct fixture	*f = *state;
	uint8_t		 buf[SMPP_HEADER_LEN];
	size_t		 i;
	ssize_t		 n;

	for (i = 0; i < NELEM(ids); i++) {
		put_header(buf, SMPP_HEADER_LEN, ids[i]);
		buf[11] = 0x0e;		/* ESME_RINVPASWD, 0x401, ... */
		buf[15] = 7;
		decode_ok(&f->a, buf, sizeof(buf));
		assert_int_equal(f->a.command_status, 0x0e);
		assert_int_equal(f->a.sequence_number, 7);
		assert_string_equal(f->a.message_id, "");
		/* The encoder writes the empty body; that decodes too. */
		n = smpp_pdu_encode(&f->a, f->out, sizeof(f->out));
		assert_true(n > SMPP_HEADER_LEN);
		decode_ok(&f->b, f->out, (size_t)n);
	}
	put_header(buf, SMPP_HEADER_LEN, SMPP_CMD_DELIVER_SM_RESP);
	decode_ok(&f->a, buf, sizeof(buf));
	put_header(buf, SMPP_HEADER_LEN, SMPP_CMD_BIND_TRANSMITTER_RESP);
	assert_int_equal(smpp_pdu_decode(&f->a, buf, sizeof(buf)),
	    SMPP_ESME_RINVSYSID);
}

/* Limits are inclusive of the NUL: 15 chars of system_id are fine. */
static void
test_pdu_string_limits(void **state)
{
	struct fixture	*f = *state;
	ssize_t		 n;

	smpp_pdu_init(&f->a, SMPP_CMD_BIND_TRANSCEIVER, 1);
	memset(f->a.system_id, 'A', SMPP_SYSTEM_ID_LEN - 1);
	memset(f->a.password, 'p', SMPP_PASSWORD_LEN - 1);
	memset(f->a.system_type, 't', SMPP_SYSTEM_TYPE_LEN - 1);
	memset(f->a.address_range.addr, '9', SMPP_ADDRESS_RANGE_LEN - 1);
	n = smpp_pdu_encode(&f->a, f->out, sizeof(f->out));
	assert_int_equal(n, SMPP_HEADER_LEN + SMPP_SYSTEM_ID_LEN +
	    SMPP_PASSWORD_LEN + SMPP_SYSTEM_TYPE_LEN + 3 +
	    SMPP_ADDRESS_RANGE_LEN);
	decode_ok(&f->b, f->out, (size_t)n);
	assert_int_equal(strlen(f->b.system_id), SMPP_SYSTEM_ID_LEN - 1);

	/* data_sm and alert_notification take 64-character addresses. */
	smpp_pdu_init(&f->a, SMPP_CMD_DATA_SM, 2);
	memset(f->a.source.addr, '1', SMPP_ADDR65_LEN - 1);
	memset(f->a.dest.addr, '2', SMPP_ADDR65_LEN - 1);
	n = smpp_pdu_encode(&f->a, f->out, sizeof(f->out));
	assert_true(n > 0);
	decode_ok(&f->b, f->out, (size_t)n);
	assert_memory_equal(f->b.source.addr, f->a.source.addr,
	    SMPP_ADDR65_LEN);
	f->a.command_id = SMPP_CMD_ALERT_NOTIFICATION;
	memcpy(f->a.esme.addr, f->a.dest.addr, SMPP_ADDR65_LEN);
	n = smpp_pdu_encode(&f->a, f->out, sizeof(f->out));
	assert_true(n > 0);
	decode_ok(&f->b, f->out, (size_t)n);
	/* ... but submit_sm only 20. */
	f->a.command_id = SMPP_CMD_SUBMIT_SM;
	memset(f->a.esme.addr, 0, SMPP_ADDR65_LEN);
	assert_int_equal(smpp_pdu_encode(&f->a, f->out, sizeof(f->out)), -1);
	memset(f->a.source.addr, 0, SMPP_ADDR65_LEN);
	memset(f->a.dest.addr, 0, SMPP_ADDR65_LEN);
	memset(f->a.dest.addr, '2', SMPP_ADDR_LEN - 1);
	assert_true(smpp_pdu_encode(&f->a, f->out, sizeof(f->out)) > 0);
	f->a.dest.addr[SMPP_ADDR_LEN - 1] = '2';
	assert_int_equal(smpp_pdu_encode(&f->a, f->out, sizeof(f->out)), -1);
}

/* The encoder refuses what the decoder would refuse. */
static void
test_pdu_encode_rejects(void **state)
{
	struct fixture	*f = *state;
	struct smpp_pdu	*p = &f->a;

	smpp_pdu_init(p, SMPP_CMD_BIND_TRANSMITTER, 1);
	memset(p->system_id, 'A', sizeof(p->system_id));	/* no NUL */
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);
	smpp_pdu_init(p, SMPP_CMD_BIND_TRANSMITTER, 1);
	memset(p->password, 'p', sizeof(p->password));
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);

	smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, 1);
	assert_true(smpp_pdu_encode(p, f->out, sizeof(f->out)) > 0);
	snprintf(p->schedule_delivery_time,
	    sizeof(p->schedule_delivery_time), "2611");
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);
	smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, 1);
	memset(p->service_type, 'S', SMPP_SERVICE_TYPE_LEN - 1);
	assert_true(smpp_pdu_encode(p, f->out, sizeof(f->out)) > 0);
	p->service_type[SMPP_SERVICE_TYPE_LEN - 1] = 'S';
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);

	/* sm_length without short_message; with message_payload. */
	smpp_pdu_init(p, SMPP_CMD_SUBMIT_SM, 1);
	p->sm_length = 3;
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);
	p->short_message = (const uint8_t *)"abc";
	assert_true(smpp_pdu_encode(p, f->out, sizeof(f->out)) > 0);
	assert_int_equal(smpp_pdu_tlv_add(p, SMPP_TLV_MESSAGE_PAYLOAD, "x",
	    1), 0);
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);

	/* A known TLV of the wrong size. */
	smpp_pdu_init(p, SMPP_CMD_DATA_SM, 1);
	assert_int_equal(smpp_pdu_tlv_add(p, SMPP_TLV_SAR_MSG_REF_NUM, "x",
	    1), 0);
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);

	/* submit_multi: no destination, too many, bad dest_flag. */
	smpp_pdu_init(p, SMPP_CMD_SUBMIT_MULTI, 1);
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);
	p->number_of_dests = 255;
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);
	p->number_of_dests = 1;
	p->dests[0].dest_flag = 3;
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);
	p->dests[0].dest_flag = SMPP_DEST_DL_NAME;
	assert_true(smpp_pdu_encode(p, f->out, sizeof(f->out)) > 0);

	/* Unknown command_id. */
	smpp_pdu_init(p, 0x99, 1);
	assert_int_equal(smpp_pdu_encode(p, f->out, sizeof(f->out)), -1);
	smpp_pdu_init(p, SMPP_CMD_ENQUIRE_LINK, 1);
	assert_int_equal(smpp_pdu_encode(p, NULL, 0), -1);
	assert_int_equal(smpp_pdu_encode(p, f->out, SMPP_HEADER_LEN),
	    SMPP_HEADER_LEN);
}

/* --- command table and names ----------------------------------------- */

static void
test_pdu_cmd_table(void **state)
{
	size_t		 i, j;
	uint32_t	 id;

	(void)state;
	for (i = 0; i < NELEM(goldens); i++) {
		id = goldens[i].command_id;
		assert_true(smpp_cmd_is_known(id));
		assert_string_not_equal(smpp_cmd_name(id), "unknown");
		for (j = 0; j < NELEM(goldens); j++)
			if (goldens[j].command_id != id)
				assert_string_not_equal(smpp_cmd_name(id),
				    smpp_cmd_name(goldens[j].command_id));
		assert_int_equal(smpp_cmd_is_resp(id), (id & 0x80000000u) != 0);
		if (smpp_cmd_is_resp(id) || id == SMPP_CMD_OUTBIND ||
		    id == SMPP_CMD_ALERT_NOTIFICATION)
			assert_int_equal(smpp_cmd_resp_id(id),
			    SMPP_CMD_GENERIC_NACK);
		else
			assert_int_equal(smpp_cmd_resp_id(id),
			    id | 0x80000000u);
	}
	assert_string_equal(smpp_cmd_name(SMPP_CMD_SUBMIT_SM), "submit_sm");
	assert_string_equal(smpp_cmd_name(SMPP_CMD_DATA_SM_RESP),
	    "data_sm_resp");
	assert_string_equal(smpp_cmd_name(0x99), "unknown");
	assert_string_equal(smpp_cmd_name(0x0000000A), "unknown");
	assert_false(smpp_cmd_is_known(0x0000000A));
	assert_false(smpp_cmd_is_known(0x80000099));
	assert_int_equal(smpp_cmd_resp_id(0x99), SMPP_CMD_GENERIC_NACK);
}

static void
test_pdu_bind_states(void **state)
{
	(void)state;
	/* ESME to SMSC. */
	assert_true(smpp_cmd_esme_may_send(SMPP_CMD_BIND_TRANSMITTER,
	    SMPP_STATE_OPEN));
	assert_false(smpp_cmd_esme_may_send(SMPP_CMD_BIND_TRANSCEIVER,
	    SMPP_STATE_BOUND_TRX));
	assert_true(smpp_cmd_esme_may_send(SMPP_CMD_SUBMIT_SM,
	    SMPP_STATE_BOUND_TX));
	assert_true(smpp_cmd_esme_may_send(SMPP_CMD_SUBMIT_SM,
	    SMPP_STATE_BOUND_TRX));
	assert_false(smpp_cmd_esme_may_send(SMPP_CMD_SUBMIT_SM,
	    SMPP_STATE_BOUND_RX));
	assert_false(smpp_cmd_esme_may_send(SMPP_CMD_SUBMIT_SM,
	    SMPP_STATE_OPEN));
	assert_true(smpp_cmd_esme_may_send(SMPP_CMD_SUBMIT_MULTI,
	    SMPP_STATE_BOUND_TX));
	assert_true(smpp_cmd_esme_may_send(SMPP_CMD_DATA_SM,
	    SMPP_STATE_BOUND_TRX));
	assert_false(smpp_cmd_esme_may_send(SMPP_CMD_DATA_SM,
	    SMPP_STATE_BOUND_RX));
	assert_false(smpp_cmd_esme_may_send(SMPP_CMD_DELIVER_SM,
	    SMPP_STATE_BOUND_TRX));
	assert_true(smpp_cmd_esme_may_send(SMPP_CMD_DELIVER_SM_RESP,
	    SMPP_STATE_BOUND_RX));
	assert_true(smpp_cmd_esme_may_send(SMPP_CMD_UNBIND,
	    SMPP_STATE_BOUND_RX));
	assert_false(smpp_cmd_esme_may_send(SMPP_CMD_UNBIND,
	    SMPP_STATE_OPEN));
	assert_true(smpp_cmd_esme_may_send(SMPP_CMD_ENQUIRE_LINK,
	    SMPP_STATE_OPEN));
	assert_true(smpp_cmd_esme_may_send(SMPP_CMD_GENERIC_NACK,
	    SMPP_STATE_BOUND_TX));
	assert_false(smpp_cmd_esme_may_send(SMPP_CMD_OUTBIND,
	    SMPP_STATE_OPEN));
	assert_false(smpp_cmd_esme_may_send(0x99, SMPP_STATE_BOUND_TRX));
	assert_false(smpp_cmd_esme_may_send(SMPP_CMD_ENQUIRE_LINK,
	    (enum smpp_bind_state)9));
	/* SMSC to ESME. */
	assert_true(smpp_cmd_smsc_may_send(SMPP_CMD_DELIVER_SM,
	    SMPP_STATE_BOUND_RX));
	assert_true(smpp_cmd_smsc_may_send(SMPP_CMD_DELIVER_SM,
	    SMPP_STATE_BOUND_TRX));
	assert_false(smpp_cmd_smsc_may_send(SMPP_CMD_DELIVER_SM,
	    SMPP_STATE_BOUND_TX));
	assert_true(smpp_cmd_smsc_may_send(SMPP_CMD_SUBMIT_SM_RESP,
	    SMPP_STATE_BOUND_TX));
	assert_true(smpp_cmd_smsc_may_send(SMPP_CMD_BIND_TRANSMITTER_RESP,
	    SMPP_STATE_OPEN));
	assert_true(smpp_cmd_smsc_may_send(SMPP_CMD_ALERT_NOTIFICATION,
	    SMPP_STATE_BOUND_RX));
	assert_true(smpp_cmd_smsc_may_send(SMPP_CMD_OUTBIND,
	    SMPP_STATE_OPEN));
	assert_false(smpp_cmd_smsc_may_send(SMPP_CMD_SUBMIT_SM,
	    SMPP_STATE_BOUND_TRX));
}

static void
test_pdu_status_names(void **state)
{
	static const uint32_t all[] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0A,
		0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x11, 0x13, 0x14, 0x15, 0x33,
		0x34, 0x40, 0x42, 0x43, 0x44, 0x45, 0x48, 0x49, 0x50, 0x51,
		0x53, 0x54, 0x55, 0x58, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
		0x67, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xFE, 0xFF,
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(all); i++) {
		assert_non_null(smpp_status_name(all[i]));
		assert_memory_equal(smpp_status_name(all[i]), "ESME_R", 6);
	}
	assert_string_equal(smpp_status_name(SMPP_OK), "ESME_ROK");
	assert_string_equal(smpp_status_name(SMPP_ESME_RINVPASWD),
	    "ESME_RINVPASWD");
	assert_string_equal(smpp_status_name(SMPP_ESME_RX_T_APPN),
	    "ESME_RX_T_APPN");
	assert_null(smpp_status_name(0x401));
	assert_null(smpp_status_name(0x09));
}

static void
test_pdu_set_seq(void **state)
{
	struct fixture	*f = *state;

	memcpy(f->out, g_submit_sm, sizeof(g_submit_sm));
	smpp_pdu_set_seq(f->out, 0xA1B2C3D4u);
	decode_ok(&f->a, f->out, sizeof(g_submit_sm));
	assert_int_equal(f->a.sequence_number, 0xA1B2C3D4u);
	assert_memory_equal(f->out + 16, g_submit_sm + 16,
	    sizeof(g_submit_sm) - 16);
}

/* smpp_pdu_text(): short_message, else message_payload, else nothing. */
static void
test_pdu_text(void **state)
{
	static struct smpp_pdu	p;
	static const uint8_t	sm[] = "hello", pl[] = "payload";
	const uint8_t		*t;
	size_t			 len;

	(void)state;
	smpp_pdu_init(&p, SMPP_CMD_DELIVER_SM, 1);
	len = 99;
	assert_null(smpp_pdu_text(&p, &len));
	assert_int_equal(len, 0);
	assert_int_equal(smpp_pdu_tlv_add(&p, SMPP_TLV_MESSAGE_PAYLOAD, pl,
	    7), 0);
	t = smpp_pdu_text(&p, &len);
	assert_ptr_equal(t, pl);
	assert_int_equal(len, 7);
	p.short_message = sm;
	p.sm_length = 5;
	t = smpp_pdu_text(&p, &len);
	assert_ptr_equal(t, sm);
	assert_int_equal(len, 5);
}

/* smpp_multi_resp_body(): what it writes decodes as a submit_multi_resp
 * with both lists in order, and a short buffer is refused. */
static void
test_pdu_multi_resp_body(void **state)
{
	static struct smpp_pdu		p;
	static struct smpp_unsuccess	a[2], b[1];
	uint8_t				buf[512];
	ssize_t				n;

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	a[0].addr.ton = 1;
	a[0].addr.npi = 1;
	snprintf(a[0].addr.addr, sizeof(a[0].addr.addr), "15550001111");
	a[0].error_status = 0x0b;
	snprintf(a[1].addr.addr, sizeof(a[1].addr.addr), "15550002222");
	a[1].error_status = 0x45;
	snprintf(b[0].addr.addr, sizeof(b[0].addr.addr), "15550003333");
	b[0].error_status = 0x400;
	n = smpp_multi_resp_body(buf + 16, sizeof(buf) - 16, "msg-9", a, 2,
	    b, 1);
	assert_true(n > 0);
	/* The header around it. */
	buf[0] = 0;
	buf[1] = 0;
	buf[2] = (uint8_t)((16 + n) >> 8);
	buf[3] = (uint8_t)(16 + n);
	buf[4] = 0x80;
	buf[5] = 0;
	buf[6] = 0;
	buf[7] = 0x21;
	memset(buf + 8, 0, 4);
	buf[12] = 0;
	buf[13] = 0;
	buf[14] = 0;
	buf[15] = 3;
	assert_int_equal(smpp_pdu_decode(&p, buf, (size_t)(16 + n)), SMPP_OK);
	assert_int_equal(p.command_id, SMPP_CMD_SUBMIT_MULTI_RESP);
	assert_string_equal(p.message_id, "msg-9");
	assert_int_equal(p.no_unsuccess, 3);
	assert_int_equal(p.unsuccess[0].addr.ton, 1);
	assert_string_equal(p.unsuccess[0].addr.addr, "15550001111");
	assert_int_equal(p.unsuccess[0].error_status, 0x0b);
	assert_string_equal(p.unsuccess[1].addr.addr, "15550002222");
	assert_int_equal(p.unsuccess[1].error_status, 0x45);
	assert_string_equal(p.unsuccess[2].addr.addr, "15550003333");
	assert_int_equal(p.unsuccess[2].error_status, 0x400);

	/* No message_id, no entries: two zero octets. */
	assert_int_equal(smpp_multi_resp_body(buf, sizeof(buf), NULL, NULL, 0,
	    NULL, 0), 2);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 0);
	/* Too small for the message_id, or for an entry. */
	assert_int_equal(smpp_multi_resp_body(buf, 3, "msg-9", NULL, 0, NULL,
	    0), -1);
	assert_int_equal(smpp_multi_resp_body(buf, 10, NULL, a, 1, NULL, 0),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pdu_golden_roundtrip),
		cmocka_unit_test(test_pdu_golden_covers_every_command),
		cmocka_unit_test(test_pdu_bind_fields),
		cmocka_unit_test(test_pdu_submit_sm_fields),
		cmocka_unit_test(test_pdu_peek_dest),
		cmocka_unit_test(test_pdu_tlvs_in_order),
		cmocka_unit_test(test_pdu_deliver_sm_fields),
		cmocka_unit_test(test_pdu_data_sm_fields),
		cmocka_unit_test(test_pdu_submit_multi_fields),
		cmocka_unit_test(test_pdu_other_fields),
		cmocka_unit_test(test_pdu_build_submit_sm),
		cmocka_unit_test(test_pdu_build_resp),
		cmocka_unit_test(test_pdu_malformed),
		cmocka_unit_test(test_pdu_truncated_goldens),
		cmocka_unit_test(test_pdu_too_many_tlvs),
		cmocka_unit_test(test_pdu_multi_dest_count),
		cmocka_unit_test(test_pdu_sm_length_max),
		cmocka_unit_test(test_pdu_resp_without_body),
		cmocka_unit_test(test_pdu_string_limits),
		cmocka_unit_test(test_pdu_encode_rejects),
		cmocka_unit_test(test_pdu_cmd_table),
		cmocka_unit_test(test_pdu_bind_states),
		cmocka_unit_test(test_pdu_status_names),
		cmocka_unit_test(test_pdu_set_seq),
		cmocka_unit_test(test_pdu_text),
		cmocka_unit_test(test_pdu_multi_resp_body),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
