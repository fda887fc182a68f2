/*
 * SMPP v3.4 PDU codec: bytes <-> struct smpp_pdu.
 *
 * Pure library: no libevent, no logging, no globals, no malloc. Every byte
 * is distrusted; every decode error maps to the command_status the proxy
 * answers with. See SMPP v3.4 (Issue 1.2) §3 (PDU format), §4 (PDUs), §5
 * (fields and TLVs).
 */
#ifndef SMPP_PDU_H
#define SMPP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "smpp/frame.h"		/* SMPP_HEADER_LEN */

/* Default caps on command_length (§3.2 sets no maximum; we do). */
#define SMPP_MAX_PDU_LEN	65536u	/* bound sessions */
#define SMPP_MAX_PDU_LEN_OPEN	1024u	/* before bind: a bind is < 200 B */

/* C-Octet string sizes from §4, including the terminating NUL. */
#define SMPP_SYSTEM_ID_LEN	16
#define SMPP_PASSWORD_LEN	9
#define SMPP_SYSTEM_TYPE_LEN	13
#define SMPP_ADDRESS_RANGE_LEN	41
#define SMPP_SERVICE_TYPE_LEN	6
#define SMPP_ADDR_LEN		21	/* submit_sm, deliver_sm, ... */
#define SMPP_ADDR65_LEN		65	/* data_sm, alert_notification */
#define SMPP_TIME_LEN		17	/* 16 chars or empty */
#define SMPP_MESSAGE_ID_LEN	65
#define SMPP_DL_NAME_LEN	21
#define SMPP_SHORT_MESSAGE_MAX	254	/* §5.2.22 */
#define SMPP_MAX_DESTS		255	/* number_of_dests is one octet */
#define SMPP_MAX_TLVS		64

/* command_id values, §5.1.2.1. Macros, not an enum: response ids exceed
 * INT_MAX, which ISO C forbids for enumerators. */
#define SMPP_CMD_GENERIC_NACK	0x80000000u
#define SMPP_CMD_BIND_RECEIVER	0x00000001u
#define SMPP_CMD_BIND_RECEIVER_RESP	0x80000001u
#define SMPP_CMD_BIND_TRANSMITTER	0x00000002u
#define SMPP_CMD_BIND_TRANSMITTER_RESP	0x80000002u
#define SMPP_CMD_QUERY_SM	0x00000003u
#define SMPP_CMD_QUERY_SM_RESP	0x80000003u
#define SMPP_CMD_SUBMIT_SM	0x00000004u
#define SMPP_CMD_SUBMIT_SM_RESP	0x80000004u
#define SMPP_CMD_DELIVER_SM	0x00000005u
#define SMPP_CMD_DELIVER_SM_RESP	0x80000005u
#define SMPP_CMD_UNBIND	0x00000006u
#define SMPP_CMD_UNBIND_RESP	0x80000006u
#define SMPP_CMD_REPLACE_SM	0x00000007u
#define SMPP_CMD_REPLACE_SM_RESP	0x80000007u
#define SMPP_CMD_CANCEL_SM	0x00000008u
#define SMPP_CMD_CANCEL_SM_RESP	0x80000008u
#define SMPP_CMD_BIND_TRANSCEIVER	0x00000009u
#define SMPP_CMD_BIND_TRANSCEIVER_RESP	0x80000009u
#define SMPP_CMD_OUTBIND	0x0000000Bu
#define SMPP_CMD_ENQUIRE_LINK	0x00000015u
#define SMPP_CMD_ENQUIRE_LINK_RESP	0x80000015u
#define SMPP_CMD_SUBMIT_MULTI	0x00000021u
#define SMPP_CMD_SUBMIT_MULTI_RESP	0x80000021u
#define SMPP_CMD_ALERT_NOTIFICATION	0x00000102u
#define SMPP_CMD_DATA_SM	0x00000103u
#define SMPP_CMD_DATA_SM_RESP	0x80000103u

/*
 * command_status values, §5.1.3. SMPP_OK doubles as "decode succeeded";
 * any other value is what the receiver should answer with. The wire field
 * is a uint32_t and may carry values not listed here (vendor codes such as
 * our default opt-out status 0x401 pass through untouched).
 */
enum smpp_status {
	SMPP_OK			= 0x00000000u,
	SMPP_ESME_RINVMSGLEN	= 0x00000001u,
	SMPP_ESME_RINVCMDLEN	= 0x00000002u,
	SMPP_ESME_RINVCMDID	= 0x00000003u,
	SMPP_ESME_RINVBNDSTS	= 0x00000004u,
	SMPP_ESME_RALYBND	= 0x00000005u,
	SMPP_ESME_RINVPRTFLG	= 0x00000006u,
	SMPP_ESME_RINVREGDLVFLG	= 0x00000007u,
	SMPP_ESME_RSYSERR	= 0x00000008u,
	SMPP_ESME_RINVSRCADR	= 0x0000000Au,
	SMPP_ESME_RINVDSTADR	= 0x0000000Bu,
	SMPP_ESME_RINVMSGID	= 0x0000000Cu,
	SMPP_ESME_RBINDFAIL	= 0x0000000Du,
	SMPP_ESME_RINVPASWD	= 0x0000000Eu,
	SMPP_ESME_RINVSYSID	= 0x0000000Fu,
	SMPP_ESME_RCANCELFAIL	= 0x00000011u,
	SMPP_ESME_RREPLACEFAIL	= 0x00000013u,
	SMPP_ESME_RMSGQFUL	= 0x00000014u,
	SMPP_ESME_RINVSERTYP	= 0x00000015u,
	SMPP_ESME_RINVNUMDESTS	= 0x00000033u,
	SMPP_ESME_RINVDLNAME	= 0x00000034u,
	SMPP_ESME_RINVDESTFLAG	= 0x00000040u,
	SMPP_ESME_RINVSUBREP	= 0x00000042u,
	SMPP_ESME_RINVESMCLASS	= 0x00000043u,
	SMPP_ESME_RCNTSUBDL	= 0x00000044u,
	SMPP_ESME_RSUBMITFAIL	= 0x00000045u,
	SMPP_ESME_RINVSRCTON	= 0x00000048u,
	SMPP_ESME_RINVSRCNPI	= 0x00000049u,
	SMPP_ESME_RINVDSTTON	= 0x00000050u,
	SMPP_ESME_RINVDSTNPI	= 0x00000051u,
	SMPP_ESME_RINVSYSTYP	= 0x00000053u,
	SMPP_ESME_RINVREPFLAG	= 0x00000054u,
	SMPP_ESME_RINVNUMMSGS	= 0x00000055u,
	SMPP_ESME_RTHROTTLED	= 0x00000058u,
	SMPP_ESME_RINVSCHED	= 0x00000061u,
	SMPP_ESME_RINVEXPIRY	= 0x00000062u,
	SMPP_ESME_RINVDFTMSGID	= 0x00000063u,
	SMPP_ESME_RX_T_APPN	= 0x00000064u,
	SMPP_ESME_RX_P_APPN	= 0x00000065u,
	SMPP_ESME_RX_R_APPN	= 0x00000066u,
	SMPP_ESME_RQUERYFAIL	= 0x00000067u,
	SMPP_ESME_RINVOPTPARSTREAM = 0x000000C0u,
	SMPP_ESME_ROPTPARNOTALLWD = 0x000000C1u,
	SMPP_ESME_RINVPARLEN	= 0x000000C2u,
	SMPP_ESME_RMISSINGOPTPARAM = 0x000000C3u,
	SMPP_ESME_RINVOPTPARAMVAL = 0x000000C4u,
	SMPP_ESME_RDELIVERYFAILURE = 0x000000FEu,
	SMPP_ESME_RUNKNOWNERR	= 0x000000FFu,
};

/* Standard TLV tags, §5.3.2. */
enum smpp_tlv_tag {
	SMPP_TLV_DEST_ADDR_SUBUNIT		= 0x0005,
	SMPP_TLV_DEST_NETWORK_TYPE		= 0x0006,
	SMPP_TLV_DEST_BEARER_TYPE		= 0x0007,
	SMPP_TLV_DEST_TELEMATICS_ID		= 0x0008,
	SMPP_TLV_SOURCE_ADDR_SUBUNIT		= 0x000D,
	SMPP_TLV_SOURCE_NETWORK_TYPE		= 0x000E,
	SMPP_TLV_SOURCE_BEARER_TYPE		= 0x000F,
	SMPP_TLV_SOURCE_TELEMATICS_ID		= 0x0010,
	SMPP_TLV_QOS_TIME_TO_LIVE		= 0x0017,
	SMPP_TLV_PAYLOAD_TYPE			= 0x0019,
	SMPP_TLV_ADDITIONAL_STATUS_INFO_TEXT	= 0x001D,
	SMPP_TLV_RECEIPTED_MESSAGE_ID		= 0x001E,
	SMPP_TLV_MS_MSG_WAIT_FACILITIES		= 0x0030,
	SMPP_TLV_PRIVACY_INDICATOR		= 0x0201,
	SMPP_TLV_SOURCE_SUBADDRESS		= 0x0202,
	SMPP_TLV_DEST_SUBADDRESS		= 0x0203,
	SMPP_TLV_USER_MESSAGE_REFERENCE		= 0x0204,
	SMPP_TLV_USER_RESPONSE_CODE		= 0x0205,
	SMPP_TLV_SOURCE_PORT			= 0x020A,
	SMPP_TLV_DESTINATION_PORT		= 0x020B,
	SMPP_TLV_SAR_MSG_REF_NUM		= 0x020C,
	SMPP_TLV_LANGUAGE_INDICATOR		= 0x020D,
	SMPP_TLV_SAR_TOTAL_SEGMENTS		= 0x020E,
	SMPP_TLV_SAR_SEGMENT_SEQNUM		= 0x020F,
	SMPP_TLV_SC_INTERFACE_VERSION		= 0x0210,
	SMPP_TLV_CALLBACK_NUM_PRES_IND		= 0x0302,
	SMPP_TLV_CALLBACK_NUM_ATAG		= 0x0303,
	SMPP_TLV_NUMBER_OF_MESSAGES		= 0x0304,
	SMPP_TLV_CALLBACK_NUM			= 0x0381,
	SMPP_TLV_DPF_RESULT			= 0x0420,
	SMPP_TLV_SET_DPF			= 0x0421,
	SMPP_TLV_MS_AVAILABILITY_STATUS		= 0x0422,
	SMPP_TLV_NETWORK_ERROR_CODE		= 0x0423,
	SMPP_TLV_MESSAGE_PAYLOAD		= 0x0424,
	SMPP_TLV_DELIVERY_FAILURE_REASON	= 0x0425,
	SMPP_TLV_MORE_MESSAGES_TO_SEND		= 0x0426,
	SMPP_TLV_MESSAGE_STATE			= 0x0427,
	SMPP_TLV_USSD_SERVICE_OP		= 0x0501,
	SMPP_TLV_DISPLAY_TIME			= 0x1201,
	SMPP_TLV_SMS_SIGNAL			= 0x1203,
	SMPP_TLV_MS_VALIDITY			= 0x1204,
	SMPP_TLV_ALERT_ON_MESSAGE_DELIVERY	= 0x130C,
	SMPP_TLV_ITS_REPLY_TYPE			= 0x1380,
	SMPP_TLV_ITS_SESSION_INFO		= 0x1383,
};

/* esm_class bits, §5.2.12. */
#define SMPP_ESM_MSG_TYPE_MASK	0x3Cu	/* bits 5..2 */
#define SMPP_ESM_MSG_TYPE_MO	0x00u	/* default: a subscriber's message */
#define SMPP_ESM_MSG_TYPE_DLR	0x04u	/* SMSC delivery receipt */
#define SMPP_ESM_UDHI		0x40u
#define SMPP_ESM_REPLY_PATH	0x80u

/* Type of number, §5.2.5. */
#define SMPP_TON_UNKNOWN	0
#define SMPP_TON_INTERNATIONAL	1
#define SMPP_TON_NATIONAL	2
#define SMPP_TON_ALPHANUMERIC	5

/* submit_multi dest_flag, §5.2.25. */
#define SMPP_DEST_SME_ADDRESS	1
#define SMPP_DEST_DL_NAME	2

/* Which kind of bind a session holds; decides which PDUs are allowed. */
enum smpp_bind_state {
	SMPP_STATE_OPEN = 0,	/* connected, not bound */
	SMPP_STATE_BOUND_TX,
	SMPP_STATE_BOUND_RX,
	SMPP_STATE_BOUND_TRX,
};

struct smpp_addr {
	uint8_t	ton;
	uint8_t	npi;
	char	addr[SMPP_ADDR65_LEN];	/* max size checked per command */
};

/* A TLV: value is a view (into the decoded buffer, or caller memory when
 * building a PDU to encode) valid while that memory is. */
struct smpp_tlv {
	uint16_t	 tag;
	uint16_t	 len;
	const uint8_t	*value;
};

/* One submit_multi destination, §4.5.1.1. */
struct smpp_dest {
	uint8_t			dest_flag;	/* SMPP_DEST_* */
	struct smpp_addr	addr;		/* if SME address */
	char			dl_name[SMPP_DL_NAME_LEN]; /* if DL name */
};

/* One submit_multi_resp unsuccess_sme entry, §4.5.2. */
struct smpp_unsuccess {
	struct smpp_addr	addr;
	uint32_t		error_status;
};

/*
 * A decoded (or to-be-encoded) PDU. Only the fields of command_id are
 * meaningful; the rest stay zero. Strings are NUL-terminated copies;
 * short_message and TLV values are views into the decode buffer.
 */
struct smpp_pdu {
	/* Header, §3.2. command_length is filled by decode and encode. */
	uint32_t	command_length;
	uint32_t	command_id;
	uint32_t	command_status;
	uint32_t	sequence_number;

	/* bind_*, outbind; *_resp carries system_id. */
	char		system_id[SMPP_SYSTEM_ID_LEN];
	char		password[SMPP_PASSWORD_LEN];
	char		system_type[SMPP_SYSTEM_TYPE_LEN];
	uint8_t		interface_version;
	struct smpp_addr address_range;	/* addr up to 40 chars */

	/* submit_sm, deliver_sm, data_sm, submit_multi, query/cancel/replace,
	 * alert_notification (source = source_addr, esme = esme_addr). */
	char		service_type[SMPP_SERVICE_TYPE_LEN];
	struct smpp_addr source;
	struct smpp_addr dest;
	struct smpp_addr esme;
	uint8_t		esm_class;
	uint8_t		protocol_id;
	uint8_t		priority_flag;
	char		schedule_delivery_time[SMPP_TIME_LEN];
	char		validity_period[SMPP_TIME_LEN];
	uint8_t		registered_delivery;
	uint8_t		replace_if_present_flag;
	uint8_t		data_coding;
	uint8_t		sm_default_msg_id;
	uint8_t		sm_length;
	const uint8_t	*short_message;	/* view; sm_length bytes */

	/* *_sm_resp, query_sm, cancel_sm, replace_sm. */
	char		message_id[SMPP_MESSAGE_ID_LEN];

	/* query_sm_resp. */
	char		final_date[SMPP_TIME_LEN];
	uint8_t		message_state;
	uint8_t		error_code;

	/* submit_multi. */
	uint8_t		number_of_dests;
	struct smpp_dest dests[SMPP_MAX_DESTS];

	/* submit_multi_resp. */
	uint8_t		no_unsuccess;
	struct smpp_unsuccess unsuccess[SMPP_MAX_DESTS];

	/* Optional parameters in wire order, known and unknown alike, so a
	 * proxy re-encodes them byte for byte. */
	uint16_t	tlv_count;
	struct smpp_tlv	tlvs[SMPP_MAX_TLVS];
};

/*
 * Zero pdu and set its header for building a PDU to encode.
 */
void smpp_pdu_init(struct smpp_pdu *pdu, uint32_t command_id,
    uint32_t sequence_number);

/*
 * Decode one whole framed PDU (buf holds exactly command_length bytes, as
 * found by smpp_frame_check()). Strings are copied into pdu; short_message
 * and TLV values are views into buf, valid while buf is. Returns SMPP_OK,
 * or the command_status to answer with: ESME_RINVCMDLEN for a length
 * mismatch or trailing bytes, ESME_RINVCMDID for an unknown command_id,
 * ESME_RINVMSGLEN for sm_length past the body, ESME_RINVOPTPARSTREAM for a
 * TLV past the end, ESME_RINVPARLEN for a known TLV of the wrong length,
 * and the field's own status (ESME_RINVSRCADR, ESME_RINVSYSID, ...) for a
 * C-Octet string without NUL or too long. pdu's header fields are set
 * whenever at least 16 bytes were given, so the caller can answer with the
 * right sequence_number. Every field is cleared first except the entries of
 * dests[] past number_of_dests, unsuccess[] past no_unsuccess and tlvs[]
 * past tlv_count, which are left as they were (clearing them cost more than
 * the rest of a decode).
 */
enum smpp_status smpp_pdu_decode(struct smpp_pdu *pdu, const uint8_t *buf,
    size_t len);

/*
 * The destination of the submit_sm in buf (len bytes, one whole PDU)
 * without decoding the rest: true, with *dest (SMPP_ADDR_LEN bytes) set,
 * when buf is a submit_sm whose fields up to destination_addr are well
 * formed. For a submit_sm that smpp_pdu_decode() accepts it always gives
 * the decoded dest; it may accept one that the full decode then refuses.
 * A hint for reading ahead (the proxy prefetches the next PDU's lookup).
 */
bool smpp_pdu_peek_dest(const uint8_t *buf, size_t len,
    struct smpp_addr *dest);

/*
 * Encode pdu into buf (cap bytes). Writes the body of command_id and then
 * patches command_length. Returns the encoded length, or -1 if buf is too
 * small or a field does not fit its spec size (nothing useful is in buf
 * then).
 */
ssize_t smpp_pdu_encode(const struct smpp_pdu *pdu, uint8_t *buf,
    size_t cap);

/*
 * Append a TLV to pdu; value is borrowed and must outlive any encode.
 * Returns 0, or -1 if the TLV table is full.
 */
int smpp_pdu_tlv_add(struct smpp_pdu *pdu, uint16_t tag, const void *value,
    uint16_t len);

/*
 * The first TLV with this tag, or NULL. Borrowed from pdu.
 */
const struct smpp_tlv *smpp_pdu_tlv_find(const struct smpp_pdu *pdu,
    uint16_t tag);

/* Command table queries (one static table keyed by command_id). */

/* Name such as "submit_sm", or "unknown" for an id not in SMPP v3.4. */
const char *smpp_cmd_name(uint32_t command_id);
/* Symbolic name such as "ESME_RINVPASWD", or NULL for a code not in §5.1.3. */
const char *smpp_status_name(uint32_t command_status);
/* True if command_id is one of SMPP v3.4's commands. */
bool smpp_cmd_is_known(uint32_t command_id);
/* True if command_id is a response (bit 31 set). */
bool smpp_cmd_is_resp(uint32_t command_id);
/* The response id for a request (command_id | 0x80000000); generic_nack
 * for ids that have no response (e.g. outbind, alert_notification). */
uint32_t smpp_cmd_resp_id(uint32_t command_id);
/* True if an ESME in bind state st may send command_id to the SMSC
 * (requests only; the SMSC-to-ESME direction is smpp_cmd_smsc_may_send). */
bool smpp_cmd_esme_may_send(uint32_t command_id, enum smpp_bind_state st);
/* True if an SMSC may send command_id to an ESME in bind state st. */
bool smpp_cmd_smsc_may_send(uint32_t command_id, enum smpp_bind_state st);

/*
 * Build the response header for req into resp: command_id from
 * smpp_cmd_resp_id(), same sequence_number, the given status. Body zero.
 */
void smpp_pdu_init_resp(struct smpp_pdu *resp, const struct smpp_pdu *req,
    uint32_t command_status);

/*
 * Rewrite the sequence_number of an encoded PDU in place (used by the
 * proxy to forward unchanged bytes). len must be >= 16.
 */
void smpp_pdu_set_seq(uint8_t *buf, uint32_t sequence_number);

/*
 * The message text of pdu: short_message when sm_length > 0, else the
 * message_payload TLV's value (which may be empty), else NULL. *len gets
 * its length (0 for NULL). A view into pdu's buffer.
 */
const uint8_t *smpp_pdu_text(const struct smpp_pdu *pdu, size_t *len);

/*
 * Encode a submit_multi_resp body (everything after the header) into buf
 * (cap bytes): message_id (may be NULL = "") and the unsuccess_sme list,
 * the na entries of a followed by the nb of b (either may be NULL when
 * its count is 0), at most SMPP_MAX_DESTS entries in all (the rest are
 * left out). Returns the body length, or -1 if buf is too small.
 */
ssize_t smpp_multi_resp_body(uint8_t *buf, size_t cap, const char *message_id,
    const struct smpp_unsuccess *a, size_t na,
    const struct smpp_unsuccess *b, size_t nb);

#endif /* SMPP_PDU_H */
