/*
 * SMPP v3.4 PDU codec. See pdu.h for the interface.
 *
 * Every read goes through struct rcur and every write through struct wcur:
 * bounds-checked cursors whose first error sticks and is checked once at
 * the end. One static table (cmd_table) keyed by command_id gives each
 * command its name, decoder, encoder, response id and the bind states in
 * which each side may send it.
 *
 * Decode status for a bad mandatory field (§5.1.3):
 *
 *	field				status
 *	-----------------------------	-----------------------
 *	system_id			ESME_RINVSYSID
 *	password			ESME_RINVPASWD
 *	system_type			ESME_RINVSYSTYP
 *	address_range			ESME_RINVPARLEN
 *	service_type			ESME_RINVSERTYP
 *	source_addr			ESME_RINVSRCADR
 *	destination_addr (and the	ESME_RINVDSTADR
 *	 submit_multi dest_address,
 *	 unsuccess_sme addresses and
 *	 alert_notification esme_addr)
 *	schedule_delivery_time		ESME_RINVSCHED
 *	validity_period			ESME_RINVEXPIRY
 *	final_date			ESME_RINVPARLEN
 *	message_id			ESME_RINVMSGID
 *	dl_name				ESME_RINVDLNAME
 *	short_message past the body,	ESME_RINVMSGLEN
 *	 or sm_length 255 (§5.2.21)
 *	number_of_dests 0 or > 254	ESME_RINVNUMDESTS
 *	dest_flag not 1 or 2		ESME_RINVDESTFLAG
 *	sm_length > 0 together with	ESME_RINVPARLEN
 *	 message_payload (§5.3.2.32)
 *	fixed field past the end	ESME_RINVCMDLEN
 *	bytes left after the body	ESME_RINVCMDLEN
 *	TLV header or value past end,	ESME_RINVOPTPARSTREAM
 *	 more than SMPP_MAX_TLVS
 *	known TLV of a wrong length	ESME_RINVPARLEN
 *
 * A C-Octet string is bad when no NUL is found within its spec size (too
 * long, or the body ends first). Times must be empty or 16 characters.
 *
 * Leniency, for interoperability with real SMSCs and ESMEs:
 *  - a response with command_status != 0 may omit its body entirely;
 *  - deliver_sm_resp may omit its body whatever the status;
 *  - C-Octet string TLVs (receipted_message_id, additional_status_info_text)
 *    are only checked for length 1..max: some SMSCs omit the final NUL,
 *    so users of those values must go by tlv->len;
 *  - source_telematics_id may be 1 or 2 octets (§5.3.2.8 contradicts
 *    itself between its table and its text).
 * The encoder always writes a full body.
 *
 * After a successful decode, short_message and every TLV value point into
 * the buffer even when their length is 0, so memcpy(dst, v, 0) is safe;
 * for bodies not decoded (bare header) short_message stays NULL.
 */
#include "smpp/pdu.h"

#include <stddef.h>
#include <string.h>

/* Bind-state bit masks for the command table. */
#define ST_OPEN		(1u << SMPP_STATE_OPEN)
#define ST_TX		(1u << SMPP_STATE_BOUND_TX)
#define ST_RX		(1u << SMPP_STATE_BOUND_RX)
#define ST_TRX		(1u << SMPP_STATE_BOUND_TRX)
#define ST_BOUND	(ST_TX | ST_RX | ST_TRX)
#define ST_ANY		(ST_OPEN | ST_BOUND)
#define ST_NONE		0u

#define CMD_RESP_BIT	0x80000000u

/* Read cursor over one PDU. err is the first error; later reads no-op. */
struct rcur {
	const uint8_t	*buf;
	size_t		 len;
	size_t		 off;
	enum smpp_status err;
};

/* Write cursor. A failed write sets is_bad and later writes no-op. */
struct wcur {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 off;
	bool		 is_bad;
};

typedef void	 dec_fn(struct rcur *, struct smpp_pdu *);
typedef void	 enc_fn(struct wcur *, const struct smpp_pdu *);

struct cmd_info {
	uint32_t	 id;
	const char	*name;
	dec_fn		*dec;
	enc_fn		*enc;
	uint32_t	 resp_id;
	unsigned	 esme_states;	/* ESME may send in these states */
	unsigned	 smsc_states;	/* SMSC may send in these states */
};

/* --- read cursor ------------------------------------------------------ */

static void
rd_fail(struct rcur *c, enum smpp_status st)
{
	if (c->err == SMPP_OK)
		c->err = st;
}

static size_t
rd_left(const struct rcur *c)
{
	return c->len - c->off;
}

static uint8_t
rd_u8(struct rcur *c)
{
	if (c->err != SMPP_OK)
		return 0;
	if (rd_left(c) < 1) {
		rd_fail(c, SMPP_ESME_RINVCMDLEN);
		return 0;
	}
	return c->buf[c->off++];
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | (unsigned)p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint32_t
rd_u32(struct rcur *c)
{
	uint32_t	v;

	if (c->err != SMPP_OK)
		return 0;
	if (rd_left(c) < 4) {
		rd_fail(c, SMPP_ESME_RINVCMDLEN);
		return 0;
	}
	v = get_u32(c->buf + c->off);
	c->off += 4;
	return v;
}

/*
 * Copy a C-Octet string of at most size bytes (NUL included) into dst and
 * return its length. No NUL within size bytes, or the body ending first,
 * fails with st (dst is then ""). Copied byte by byte as it is scanned:
 * these strings are short, and a memchr() and a memcpy() call per string
 * cost more than the loop on the submit_sm hot path.
 */
static size_t
rd_cstr(struct rcur *c, char *dst, size_t size, enum smpp_status st)
{
	const uint8_t	*src;
	size_t		 lim, n;

	dst[0] = '\0';
	if (c->err != SMPP_OK)
		return 0;
	lim = rd_left(c);
	if (lim > size)
		lim = size;
	src = c->buf + c->off;
	for (n = 0; n < lim; n++) {
		if ((dst[n] = (char)src[n]) == '\0') {
			c->off += n + 1;
			return n;
		}
	}
	dst[0] = '\0';
	rd_fail(c, st);
	return 0;
}

/* A time (§7.1.1) is a C-Octet string of 16 characters or empty. */
static void
rd_time(struct rcur *c, char *dst, enum smpp_status st)
{
	size_t	n;

	n = rd_cstr(c, dst, SMPP_TIME_LEN, st);
	if (n != 0 && n != SMPP_TIME_LEN - 1)
		rd_fail(c, st);
}

static void
rd_addr(struct rcur *c, struct smpp_addr *a, size_t size,
    enum smpp_status st)
{
	a->ton = rd_u8(c);
	a->npi = rd_u8(c);
	rd_cstr(c, a->addr, size, st);
}

/* sm_length then short_message, a view into the buffer. */
static void
rd_short_message(struct rcur *c, struct smpp_pdu *p)
{
	p->sm_length = rd_u8(c);
	if (c->err != SMPP_OK)
		return;
	/* §5.2.21: short_message is 0..254 octets. */
	if (p->sm_length > SMPP_SHORT_MESSAGE_MAX ||
	    rd_left(c) < p->sm_length) {
		rd_fail(c, SMPP_ESME_RINVMSGLEN);
		return;
	}
	/* Never NULL, even when empty: callers memcpy() it. */
	p->short_message = c->buf + c->off;
	c->off += p->sm_length;
}

/* --- TLVs, §5.3 ------------------------------------------------------- */

struct tlv_size {
	uint16_t	tag;
	uint16_t	min;
	uint16_t	max;
};

/* Allowed value lengths of the standard TLVs, §5.3.2. */
static const struct tlv_size tlv_sizes[] = {
	{ SMPP_TLV_DEST_ADDR_SUBUNIT,		1, 1 },
	{ SMPP_TLV_DEST_NETWORK_TYPE,		1, 1 },
	{ SMPP_TLV_DEST_BEARER_TYPE,		1, 1 },
	{ SMPP_TLV_DEST_TELEMATICS_ID,		2, 2 },
	{ SMPP_TLV_SOURCE_ADDR_SUBUNIT,		1, 1 },
	{ SMPP_TLV_SOURCE_NETWORK_TYPE,		1, 1 },
	{ SMPP_TLV_SOURCE_BEARER_TYPE,		1, 1 },
	{ SMPP_TLV_SOURCE_TELEMATICS_ID,	1, 2 },
	{ SMPP_TLV_QOS_TIME_TO_LIVE,		4, 4 },
	{ SMPP_TLV_PAYLOAD_TYPE,		1, 1 },
	{ SMPP_TLV_ADDITIONAL_STATUS_INFO_TEXT,	1, 256 },
	{ SMPP_TLV_RECEIPTED_MESSAGE_ID,	1, 65 },
	{ SMPP_TLV_MS_MSG_WAIT_FACILITIES,	1, 1 },
	{ SMPP_TLV_PRIVACY_INDICATOR,		1, 1 },
	{ SMPP_TLV_SOURCE_SUBADDRESS,		2, 23 },
	{ SMPP_TLV_DEST_SUBADDRESS,		2, 23 },
	{ SMPP_TLV_USER_MESSAGE_REFERENCE,	2, 2 },
	{ SMPP_TLV_USER_RESPONSE_CODE,		1, 1 },
	{ SMPP_TLV_SOURCE_PORT,			2, 2 },
	{ SMPP_TLV_DESTINATION_PORT,		2, 2 },
	{ SMPP_TLV_SAR_MSG_REF_NUM,		2, 2 },
	{ SMPP_TLV_LANGUAGE_INDICATOR,		1, 1 },
	{ SMPP_TLV_SAR_TOTAL_SEGMENTS,		1, 1 },
	{ SMPP_TLV_SAR_SEGMENT_SEQNUM,		1, 1 },
	{ SMPP_TLV_SC_INTERFACE_VERSION,	1, 1 },
	{ SMPP_TLV_CALLBACK_NUM_PRES_IND,	1, 1 },
	{ SMPP_TLV_CALLBACK_NUM_ATAG,		0, 65 },
	{ SMPP_TLV_NUMBER_OF_MESSAGES,		1, 1 },
	{ SMPP_TLV_CALLBACK_NUM,		4, 19 },
	{ SMPP_TLV_DPF_RESULT,			1, 1 },
	{ SMPP_TLV_SET_DPF,			1, 1 },
	{ SMPP_TLV_MS_AVAILABILITY_STATUS,	1, 1 },
	{ SMPP_TLV_NETWORK_ERROR_CODE,		3, 3 },
	{ SMPP_TLV_MESSAGE_PAYLOAD,		0, 65535 },
	{ SMPP_TLV_DELIVERY_FAILURE_REASON,	1, 1 },
	{ SMPP_TLV_MORE_MESSAGES_TO_SEND,	1, 1 },
	{ SMPP_TLV_MESSAGE_STATE,		1, 1 },
	{ SMPP_TLV_USSD_SERVICE_OP,		1, 1 },
	{ SMPP_TLV_DISPLAY_TIME,		1, 1 },
	{ SMPP_TLV_SMS_SIGNAL,			2, 2 },
	{ SMPP_TLV_MS_VALIDITY,			1, 1 },
	/* v3.4 gives it no value; SMPP 5.0 clients (and the npm smpp
	 * package) send one octet. A proxy must not bounce those. */
	{ SMPP_TLV_ALERT_ON_MESSAGE_DELIVERY,	0, 1 },
	{ SMPP_TLV_ITS_REPLY_TYPE,		1, 1 },
	{ SMPP_TLV_ITS_SESSION_INFO,		2, 2 },
};

/* True if len is allowed for tag; unknown tags allow any length. */
static bool
tlv_len_is_ok(uint16_t tag, uint16_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(tlv_sizes) / sizeof(tlv_sizes[0]); i++)
		if (tlv_sizes[i].tag == tag)
			return len >= tlv_sizes[i].min &&
			    len <= tlv_sizes[i].max;
	return true;
}

static bool
pdu_has_tlv(const struct smpp_pdu *p, uint16_t tag)
{
	return smpp_pdu_tlv_find(p, tag) != NULL;
}

/* Read TLVs up to the end of the body, §3.3. */
static void
rd_tlvs(struct rcur *c, struct smpp_pdu *p)
{
	struct smpp_tlv	*t;
	uint16_t	 tag, len;

	while (c->err == SMPP_OK && rd_left(c) > 0) {
		if (rd_left(c) < 4) {
			rd_fail(c, SMPP_ESME_RINVOPTPARSTREAM);
			return;
		}
		tag = get_u16(c->buf + c->off);
		len = get_u16(c->buf + c->off + 2);
		c->off += 4;
		if (rd_left(c) < len || p->tlv_count >= SMPP_MAX_TLVS) {
			rd_fail(c, SMPP_ESME_RINVOPTPARSTREAM);
			return;
		}
		if (!tlv_len_is_ok(tag, len)) {
			rd_fail(c, SMPP_ESME_RINVPARLEN);
			return;
		}
		t = &p->tlvs[p->tlv_count++];
		t->tag = tag;
		t->len = len;
		t->value = c->buf + c->off;	/* never NULL, as above */
		c->off += len;
	}
}

/* §5.3.2.32: with message_payload, sm_length must be 0. */
static void
rd_check_payload(struct rcur *c, const struct smpp_pdu *p)
{
	if (p->sm_length > 0 && pdu_has_tlv(p, SMPP_TLV_MESSAGE_PAYLOAD))
		rd_fail(c, SMPP_ESME_RINVPARLEN);
}

/* --- write cursor ----------------------------------------------------- */

static void
wr_u8(struct wcur *w, uint8_t v)
{
	if (w->is_bad || w->cap - w->off < 1) {
		w->is_bad = true;
		return;
	}
	w->buf[w->off++] = v;
}

static void
wr_u16(struct wcur *w, uint16_t v)
{
	wr_u8(w, (uint8_t)(v >> 8));
	wr_u8(w, (uint8_t)v);
}

static void
wr_u32(struct wcur *w, uint32_t v)
{
	if (w->is_bad || w->cap - w->off < 4) {
		w->is_bad = true;
		return;
	}
	smpp_be32_put(w->buf + w->off, v);
	w->off += 4;
}

static void
wr_bytes(struct wcur *w, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (w->is_bad || p == NULL || w->cap - w->off < n) {
		w->is_bad = true;
		return;
	}
	memcpy(w->buf + w->off, p, n);
	w->off += n;
}

/* Write a C-Octet string that must fit size bytes with its NUL. */
static void
wr_cstr(struct wcur *w, const char *s, size_t size)
{
	size_t	n;

	n = strnlen(s, size);
	if (n == size) {
		w->is_bad = true;
		return;
	}
	wr_bytes(w, (const uint8_t *)s, n + 1);
}

static void
wr_time(struct wcur *w, const char *s)
{
	size_t	n;

	n = strnlen(s, SMPP_TIME_LEN);
	if (n != 0 && n != SMPP_TIME_LEN - 1) {
		w->is_bad = true;
		return;
	}
	wr_cstr(w, s, SMPP_TIME_LEN);
}

static void
wr_addr(struct wcur *w, const struct smpp_addr *a, size_t size)
{
	wr_u8(w, a->ton);
	wr_u8(w, a->npi);
	wr_cstr(w, a->addr, size);
}

static void
wr_short_message(struct wcur *w, const struct smpp_pdu *p)
{
	if (p->sm_length > SMPP_SHORT_MESSAGE_MAX)
		w->is_bad = true;
	wr_u8(w, p->sm_length);
	wr_bytes(w, p->short_message, p->sm_length);
}

static void
wr_tlvs(struct wcur *w, const struct smpp_pdu *p)
{
	const struct smpp_tlv	*t;
	size_t			 i;

	if (p->tlv_count > SMPP_MAX_TLVS) {
		w->is_bad = true;
		return;
	}
	for (i = 0; i < p->tlv_count; i++) {
		t = &p->tlvs[i];
		if (!tlv_len_is_ok(t->tag, t->len)) {
			w->is_bad = true;
			return;
		}
		wr_u16(w, t->tag);
		wr_u16(w, t->len);
		wr_bytes(w, t->value, t->len);
	}
}

/* Mirror of rd_check_payload(). */
static void
wr_check_payload(struct wcur *w, const struct smpp_pdu *p)
{
	if (p->sm_length > 0 && pdu_has_tlv(p, SMPP_TLV_MESSAGE_PAYLOAD))
		w->is_bad = true;
}

/* --- bodies, §4 ------------------------------------------------------- */

/* generic_nack, unbind(_resp), enquire_link(_resp), cancel_sm_resp,
 * replace_sm_resp: no body. */
static void
dec_empty(struct rcur *c, struct smpp_pdu *p)
{
	(void)c;
	(void)p;
}

static void
enc_empty(struct wcur *w, const struct smpp_pdu *p)
{
	(void)w;
	(void)p;
}

/* bind_transmitter, bind_receiver, bind_transceiver, §4.1.1. */
static void
dec_bind(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->system_id, SMPP_SYSTEM_ID_LEN, SMPP_ESME_RINVSYSID);
	rd_cstr(c, p->password, SMPP_PASSWORD_LEN, SMPP_ESME_RINVPASWD);
	rd_cstr(c, p->system_type, SMPP_SYSTEM_TYPE_LEN,
	    SMPP_ESME_RINVSYSTYP);
	p->interface_version = rd_u8(c);
	rd_addr(c, &p->address_range, SMPP_ADDRESS_RANGE_LEN,
	    SMPP_ESME_RINVPARLEN);
}

static void
enc_bind(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->system_id, SMPP_SYSTEM_ID_LEN);
	wr_cstr(w, p->password, SMPP_PASSWORD_LEN);
	wr_cstr(w, p->system_type, SMPP_SYSTEM_TYPE_LEN);
	wr_u8(w, p->interface_version);
	wr_addr(w, &p->address_range, SMPP_ADDRESS_RANGE_LEN);
}

/* bind_*_resp, §4.1.2: system_id, then sc_interface_version TLV. */
static void
dec_bind_resp(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->system_id, SMPP_SYSTEM_ID_LEN, SMPP_ESME_RINVSYSID);
	rd_tlvs(c, p);
}

static void
enc_bind_resp(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->system_id, SMPP_SYSTEM_ID_LEN);
	wr_tlvs(w, p);
}

/* outbind, §4.1.7. */
static void
dec_outbind(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->system_id, SMPP_SYSTEM_ID_LEN, SMPP_ESME_RINVSYSID);
	rd_cstr(c, p->password, SMPP_PASSWORD_LEN, SMPP_ESME_RINVPASWD);
}

static void
enc_outbind(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->system_id, SMPP_SYSTEM_ID_LEN);
	wr_cstr(w, p->password, SMPP_PASSWORD_LEN);
}

/* The part of submit_sm and submit_multi after the destination(s). */
static void
dec_sm_tail(struct rcur *c, struct smpp_pdu *p)
{
	p->esm_class = rd_u8(c);
	p->protocol_id = rd_u8(c);
	p->priority_flag = rd_u8(c);
	rd_time(c, p->schedule_delivery_time, SMPP_ESME_RINVSCHED);
	rd_time(c, p->validity_period, SMPP_ESME_RINVEXPIRY);
	p->registered_delivery = rd_u8(c);
	p->replace_if_present_flag = rd_u8(c);
	p->data_coding = rd_u8(c);
	p->sm_default_msg_id = rd_u8(c);
	rd_short_message(c, p);
	rd_tlvs(c, p);
	rd_check_payload(c, p);
}

static void
enc_sm_tail(struct wcur *w, const struct smpp_pdu *p)
{
	wr_u8(w, p->esm_class);
	wr_u8(w, p->protocol_id);
	wr_u8(w, p->priority_flag);
	wr_time(w, p->schedule_delivery_time);
	wr_time(w, p->validity_period);
	wr_u8(w, p->registered_delivery);
	wr_u8(w, p->replace_if_present_flag);
	wr_u8(w, p->data_coding);
	wr_u8(w, p->sm_default_msg_id);
	wr_short_message(w, p);
	wr_tlvs(w, p);
	wr_check_payload(w, p);
}

/* submit_sm §4.4.1, deliver_sm §4.6.1: the same layout. */
static void
dec_submit_sm(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->service_type, SMPP_SERVICE_TYPE_LEN,
	    SMPP_ESME_RINVSERTYP);
	rd_addr(c, &p->source, SMPP_ADDR_LEN, SMPP_ESME_RINVSRCADR);
	rd_addr(c, &p->dest, SMPP_ADDR_LEN, SMPP_ESME_RINVDSTADR);
	dec_sm_tail(c, p);
}

static void
enc_submit_sm(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->service_type, SMPP_SERVICE_TYPE_LEN);
	wr_addr(w, &p->source, SMPP_ADDR_LEN);
	wr_addr(w, &p->dest, SMPP_ADDR_LEN);
	enc_sm_tail(w, p);
}

/* submit_sm_resp §4.4.2, deliver_sm_resp §4.6.2: message_id only. */
static void
dec_message_id(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->message_id, SMPP_MESSAGE_ID_LEN, SMPP_ESME_RINVMSGID);
}

static void
enc_message_id(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->message_id, SMPP_MESSAGE_ID_LEN);
}

/* submit_multi, §4.5.1. */
static void
dec_submit_multi(struct rcur *c, struct smpp_pdu *p)
{
	struct smpp_dest	*d;
	size_t			 i;

	rd_cstr(c, p->service_type, SMPP_SERVICE_TYPE_LEN,
	    SMPP_ESME_RINVSERTYP);
	rd_addr(c, &p->source, SMPP_ADDR_LEN, SMPP_ESME_RINVSRCADR);
	p->number_of_dests = rd_u8(c);
	if (c->err != SMPP_OK)
		return;
	/* §4.5.1: at most 254 destinations; none makes no sense. */
	if (p->number_of_dests == 0 || p->number_of_dests > 254) {
		rd_fail(c, SMPP_ESME_RINVNUMDESTS);
		return;
	}
	for (i = 0; i < p->number_of_dests && c->err == SMPP_OK; i++) {
		d = &p->dests[i];
		/* smpp_pdu_decode() leaves entries past the count alone. */
		memset(d, 0, sizeof(*d));
		d->dest_flag = rd_u8(c);
		if (c->err != SMPP_OK)
			return;
		if (d->dest_flag == SMPP_DEST_SME_ADDRESS)
			rd_addr(c, &d->addr, SMPP_ADDR_LEN,
			    SMPP_ESME_RINVDSTADR);
		else if (d->dest_flag == SMPP_DEST_DL_NAME)
			rd_cstr(c, d->dl_name, SMPP_DL_NAME_LEN,
			    SMPP_ESME_RINVDLNAME);
		else
			rd_fail(c, SMPP_ESME_RINVDESTFLAG);
	}
	dec_sm_tail(c, p);
}

static void
enc_submit_multi(struct wcur *w, const struct smpp_pdu *p)
{
	const struct smpp_dest	*d;
	size_t			 i;

	wr_cstr(w, p->service_type, SMPP_SERVICE_TYPE_LEN);
	wr_addr(w, &p->source, SMPP_ADDR_LEN);
	if (p->number_of_dests == 0 || p->number_of_dests > 254) {
		w->is_bad = true;
		return;
	}
	wr_u8(w, p->number_of_dests);
	for (i = 0; i < p->number_of_dests; i++) {
		d = &p->dests[i];
		wr_u8(w, d->dest_flag);
		if (d->dest_flag == SMPP_DEST_SME_ADDRESS)
			wr_addr(w, &d->addr, SMPP_ADDR_LEN);
		else if (d->dest_flag == SMPP_DEST_DL_NAME)
			wr_cstr(w, d->dl_name, SMPP_DL_NAME_LEN);
		else
			w->is_bad = true;
	}
	enc_sm_tail(w, p);
}

/* submit_multi_resp, §4.5.2. */
static void
dec_submit_multi_resp(struct rcur *c, struct smpp_pdu *p)
{
	struct smpp_unsuccess	*u;
	size_t			 i;

	rd_cstr(c, p->message_id, SMPP_MESSAGE_ID_LEN, SMPP_ESME_RINVMSGID);
	p->no_unsuccess = rd_u8(c);
	for (i = 0; i < p->no_unsuccess && c->err == SMPP_OK; i++) {
		u = &p->unsuccess[i];
		memset(u, 0, sizeof(*u));	/* as for dests[] */
		rd_addr(c, &u->addr, SMPP_ADDR_LEN, SMPP_ESME_RINVDSTADR);
		u->error_status = rd_u32(c);
	}
}

static void
enc_submit_multi_resp(struct wcur *w, const struct smpp_pdu *p)
{
	const struct smpp_unsuccess	*u;
	size_t				 i;

	wr_cstr(w, p->message_id, SMPP_MESSAGE_ID_LEN);
	wr_u8(w, p->no_unsuccess);
	for (i = 0; i < p->no_unsuccess; i++) {
		u = &p->unsuccess[i];
		wr_addr(w, &u->addr, SMPP_ADDR_LEN);
		wr_u32(w, u->error_status);
	}
}

/* data_sm, §4.7.1. */
static void
dec_data_sm(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->service_type, SMPP_SERVICE_TYPE_LEN,
	    SMPP_ESME_RINVSERTYP);
	rd_addr(c, &p->source, SMPP_ADDR65_LEN, SMPP_ESME_RINVSRCADR);
	rd_addr(c, &p->dest, SMPP_ADDR65_LEN, SMPP_ESME_RINVDSTADR);
	p->esm_class = rd_u8(c);
	p->registered_delivery = rd_u8(c);
	p->data_coding = rd_u8(c);
	rd_tlvs(c, p);
}

static void
enc_data_sm(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->service_type, SMPP_SERVICE_TYPE_LEN);
	wr_addr(w, &p->source, SMPP_ADDR65_LEN);
	wr_addr(w, &p->dest, SMPP_ADDR65_LEN);
	wr_u8(w, p->esm_class);
	wr_u8(w, p->registered_delivery);
	wr_u8(w, p->data_coding);
	wr_tlvs(w, p);
}

/* data_sm_resp, §4.7.2. */
static void
dec_data_sm_resp(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->message_id, SMPP_MESSAGE_ID_LEN, SMPP_ESME_RINVMSGID);
	rd_tlvs(c, p);
}

static void
enc_data_sm_resp(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->message_id, SMPP_MESSAGE_ID_LEN);
	wr_tlvs(w, p);
}

/* query_sm, §4.8.1. */
static void
dec_query_sm(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->message_id, SMPP_MESSAGE_ID_LEN, SMPP_ESME_RINVMSGID);
	rd_addr(c, &p->source, SMPP_ADDR_LEN, SMPP_ESME_RINVSRCADR);
}

static void
enc_query_sm(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->message_id, SMPP_MESSAGE_ID_LEN);
	wr_addr(w, &p->source, SMPP_ADDR_LEN);
}

/* query_sm_resp, §4.8.2. */
static void
dec_query_sm_resp(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->message_id, SMPP_MESSAGE_ID_LEN, SMPP_ESME_RINVMSGID);
	rd_time(c, p->final_date, SMPP_ESME_RINVPARLEN);
	p->message_state = rd_u8(c);
	p->error_code = rd_u8(c);
}

static void
enc_query_sm_resp(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->message_id, SMPP_MESSAGE_ID_LEN);
	wr_time(w, p->final_date);
	wr_u8(w, p->message_state);
	wr_u8(w, p->error_code);
}

/* cancel_sm, §4.9.1. */
static void
dec_cancel_sm(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->service_type, SMPP_SERVICE_TYPE_LEN,
	    SMPP_ESME_RINVSERTYP);
	rd_cstr(c, p->message_id, SMPP_MESSAGE_ID_LEN, SMPP_ESME_RINVMSGID);
	rd_addr(c, &p->source, SMPP_ADDR_LEN, SMPP_ESME_RINVSRCADR);
	rd_addr(c, &p->dest, SMPP_ADDR_LEN, SMPP_ESME_RINVDSTADR);
}

static void
enc_cancel_sm(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->service_type, SMPP_SERVICE_TYPE_LEN);
	wr_cstr(w, p->message_id, SMPP_MESSAGE_ID_LEN);
	wr_addr(w, &p->source, SMPP_ADDR_LEN);
	wr_addr(w, &p->dest, SMPP_ADDR_LEN);
}

/* replace_sm, §4.10.1. */
static void
dec_replace_sm(struct rcur *c, struct smpp_pdu *p)
{
	rd_cstr(c, p->message_id, SMPP_MESSAGE_ID_LEN, SMPP_ESME_RINVMSGID);
	rd_addr(c, &p->source, SMPP_ADDR_LEN, SMPP_ESME_RINVSRCADR);
	rd_time(c, p->schedule_delivery_time, SMPP_ESME_RINVSCHED);
	rd_time(c, p->validity_period, SMPP_ESME_RINVEXPIRY);
	p->registered_delivery = rd_u8(c);
	p->sm_default_msg_id = rd_u8(c);
	rd_short_message(c, p);
}

static void
enc_replace_sm(struct wcur *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->message_id, SMPP_MESSAGE_ID_LEN);
	wr_addr(w, &p->source, SMPP_ADDR_LEN);
	wr_time(w, p->schedule_delivery_time);
	wr_time(w, p->validity_period);
	wr_u8(w, p->registered_delivery);
	wr_u8(w, p->sm_default_msg_id);
	wr_short_message(w, p);
}

/* alert_notification, §4.12.1: source_addr and esme_addr are 65 long. */
static void
dec_alert_notification(struct rcur *c, struct smpp_pdu *p)
{
	rd_addr(c, &p->source, SMPP_ADDR65_LEN, SMPP_ESME_RINVSRCADR);
	rd_addr(c, &p->esme, SMPP_ADDR65_LEN, SMPP_ESME_RINVDSTADR);
	rd_tlvs(c, p);
}

static void
enc_alert_notification(struct wcur *w, const struct smpp_pdu *p)
{
	wr_addr(w, &p->source, SMPP_ADDR65_LEN);
	wr_addr(w, &p->esme, SMPP_ADDR65_LEN);
	wr_tlvs(w, p);
}

/* --- command table ---------------------------------------------------- */

/*
 * Bind states per §2.3 (Table 2-1). enquire_link is also allowed before
 * bind: SMPP 5.0 permits it in OPEN and answering it is harmless.
 */
static const struct cmd_info cmd_table[] = {
	{ SMPP_CMD_GENERIC_NACK, "generic_nack",
	    dec_empty, enc_empty, SMPP_CMD_GENERIC_NACK, ST_ANY, ST_ANY },
	{ SMPP_CMD_BIND_RECEIVER, "bind_receiver",
	    dec_bind, enc_bind, SMPP_CMD_BIND_RECEIVER_RESP,
	    ST_OPEN, ST_NONE },
	{ SMPP_CMD_BIND_RECEIVER_RESP, "bind_receiver_resp",
	    dec_bind_resp, enc_bind_resp, SMPP_CMD_GENERIC_NACK,
	    ST_NONE, ST_OPEN },
	{ SMPP_CMD_BIND_TRANSMITTER, "bind_transmitter",
	    dec_bind, enc_bind, SMPP_CMD_BIND_TRANSMITTER_RESP,
	    ST_OPEN, ST_NONE },
	{ SMPP_CMD_BIND_TRANSMITTER_RESP, "bind_transmitter_resp",
	    dec_bind_resp, enc_bind_resp, SMPP_CMD_GENERIC_NACK,
	    ST_NONE, ST_OPEN },
	{ SMPP_CMD_QUERY_SM, "query_sm",
	    dec_query_sm, enc_query_sm, SMPP_CMD_QUERY_SM_RESP,
	    ST_TX | ST_TRX, ST_NONE },
	{ SMPP_CMD_QUERY_SM_RESP, "query_sm_resp",
	    dec_query_sm_resp, enc_query_sm_resp, SMPP_CMD_GENERIC_NACK,
	    ST_NONE, ST_TX | ST_TRX },
	{ SMPP_CMD_SUBMIT_SM, "submit_sm",
	    dec_submit_sm, enc_submit_sm, SMPP_CMD_SUBMIT_SM_RESP,
	    ST_TX | ST_TRX, ST_NONE },
	{ SMPP_CMD_SUBMIT_SM_RESP, "submit_sm_resp",
	    dec_message_id, enc_message_id, SMPP_CMD_GENERIC_NACK,
	    ST_NONE, ST_TX | ST_TRX },
	{ SMPP_CMD_DELIVER_SM, "deliver_sm",
	    dec_submit_sm, enc_submit_sm, SMPP_CMD_DELIVER_SM_RESP,
	    ST_NONE, ST_RX | ST_TRX },
	{ SMPP_CMD_DELIVER_SM_RESP, "deliver_sm_resp",
	    dec_message_id, enc_message_id, SMPP_CMD_GENERIC_NACK,
	    ST_RX | ST_TRX, ST_NONE },
	{ SMPP_CMD_UNBIND, "unbind",
	    dec_empty, enc_empty, SMPP_CMD_UNBIND_RESP, ST_BOUND, ST_BOUND },
	{ SMPP_CMD_UNBIND_RESP, "unbind_resp",
	    dec_empty, enc_empty, SMPP_CMD_GENERIC_NACK, ST_BOUND, ST_BOUND },
	{ SMPP_CMD_REPLACE_SM, "replace_sm",
	    dec_replace_sm, enc_replace_sm, SMPP_CMD_REPLACE_SM_RESP,
	    ST_TX | ST_TRX, ST_NONE },
	{ SMPP_CMD_REPLACE_SM_RESP, "replace_sm_resp",
	    dec_empty, enc_empty, SMPP_CMD_GENERIC_NACK,
	    ST_NONE, ST_TX | ST_TRX },
	{ SMPP_CMD_CANCEL_SM, "cancel_sm",
	    dec_cancel_sm, enc_cancel_sm, SMPP_CMD_CANCEL_SM_RESP,
	    ST_TX | ST_TRX, ST_NONE },
	{ SMPP_CMD_CANCEL_SM_RESP, "cancel_sm_resp",
	    dec_empty, enc_empty, SMPP_CMD_GENERIC_NACK,
	    ST_NONE, ST_TX | ST_TRX },
	{ SMPP_CMD_BIND_TRANSCEIVER, "bind_transceiver",
	    dec_bind, enc_bind, SMPP_CMD_BIND_TRANSCEIVER_RESP,
	    ST_OPEN, ST_NONE },
	{ SMPP_CMD_BIND_TRANSCEIVER_RESP, "bind_transceiver_resp",
	    dec_bind_resp, enc_bind_resp, SMPP_CMD_GENERIC_NACK,
	    ST_NONE, ST_OPEN },
	{ SMPP_CMD_OUTBIND, "outbind",
	    dec_outbind, enc_outbind, SMPP_CMD_GENERIC_NACK,
	    ST_NONE, ST_OPEN },
	{ SMPP_CMD_ENQUIRE_LINK, "enquire_link",
	    dec_empty, enc_empty, SMPP_CMD_ENQUIRE_LINK_RESP, ST_ANY, ST_ANY },
	{ SMPP_CMD_ENQUIRE_LINK_RESP, "enquire_link_resp",
	    dec_empty, enc_empty, SMPP_CMD_GENERIC_NACK, ST_ANY, ST_ANY },
	{ SMPP_CMD_SUBMIT_MULTI, "submit_multi",
	    dec_submit_multi, enc_submit_multi, SMPP_CMD_SUBMIT_MULTI_RESP,
	    ST_TX | ST_TRX, ST_NONE },
	{ SMPP_CMD_SUBMIT_MULTI_RESP, "submit_multi_resp",
	    dec_submit_multi_resp, enc_submit_multi_resp,
	    SMPP_CMD_GENERIC_NACK, ST_NONE, ST_TX | ST_TRX },
	{ SMPP_CMD_ALERT_NOTIFICATION, "alert_notification",
	    dec_alert_notification, enc_alert_notification,
	    SMPP_CMD_GENERIC_NACK, ST_NONE, ST_RX | ST_TRX },
	{ SMPP_CMD_DATA_SM, "data_sm",
	    dec_data_sm, enc_data_sm, SMPP_CMD_DATA_SM_RESP,
	    ST_TX | ST_TRX, ST_RX | ST_TRX },
	{ SMPP_CMD_DATA_SM_RESP, "data_sm_resp",
	    dec_data_sm_resp, enc_data_sm_resp, SMPP_CMD_GENERIC_NACK,
	    ST_RX | ST_TRX, ST_TX | ST_TRX },
};

static const struct cmd_info *
cmd_lookup(uint32_t command_id)
{
	size_t	i;

	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (cmd_table[i].id == command_id)
			return &cmd_table[i];
	return NULL;
}

static bool
state_in(unsigned mask, enum smpp_bind_state st)
{
	if ((unsigned)st > (unsigned)SMPP_STATE_BOUND_TRX)
		return false;
	return (mask & (1u << (unsigned)st)) != 0;
}

/* --- public ----------------------------------------------------------- */

void
smpp_pdu_init(struct smpp_pdu *pdu, uint32_t command_id,
    uint32_t sequence_number)
{
	memset(pdu, 0, sizeof(*pdu));
	pdu->command_id = command_id;
	pdu->sequence_number = sequence_number;
}

void
smpp_pdu_init_resp(struct smpp_pdu *resp, const struct smpp_pdu *req,
    uint32_t command_status)
{
	uint32_t	id, seq;

	/* req and resp may be the same struct. */
	id = smpp_cmd_resp_id(req->command_id);
	seq = req->sequence_number;
	smpp_pdu_init(resp, id, seq);
	resp->command_status = command_status;
}

bool
smpp_pdu_peek_dest(const uint8_t *buf, size_t len, struct smpp_addr *dest)
{
	struct rcur	c;
	char		st[SMPP_SERVICE_TYPE_LEN];
	struct smpp_addr src;

	if (buf == NULL || len < SMPP_HEADER_LEN || get_u32(buf) != len ||
	    get_u32(buf + 4) != SMPP_CMD_SUBMIT_SM)
		return false;
	c.buf = buf;
	c.len = len;
	c.off = SMPP_HEADER_LEN;
	c.err = SMPP_OK;
	/* The same reads as dec_submit_sm, stopping after the dest. */
	rd_cstr(&c, st, SMPP_SERVICE_TYPE_LEN, SMPP_ESME_RINVSERTYP);
	rd_addr(&c, &src, SMPP_ADDR_LEN, SMPP_ESME_RINVSRCADR);
	rd_addr(&c, dest, SMPP_ADDR_LEN, SMPP_ESME_RINVDSTADR);
	return c.err == SMPP_OK;
}

enum smpp_status
smpp_pdu_decode(struct smpp_pdu *pdu, const uint8_t *buf, size_t len)
{
	const struct cmd_info	*ci;
	struct rcur		 c;

	/*
	 * Clear everything but the submit_multi(_resp) and TLV arrays (about
	 * 41 KB of the struct; clearing them per PDU was most of the proxy's
	 * cost): their decoders fill each entry they count, and nothing reads
	 * past number_of_dests, no_unsuccess or tlv_count.
	 */
	memset(pdu, 0, offsetof(struct smpp_pdu, dests));
	pdu->no_unsuccess = 0;
	pdu->tlv_count = 0;
	if (buf == NULL || len < SMPP_HEADER_LEN)
		return SMPP_ESME_RINVCMDLEN;
	pdu->command_length = get_u32(buf);
	pdu->command_id = get_u32(buf + 4);
	pdu->command_status = get_u32(buf + 8);
	pdu->sequence_number = get_u32(buf + 12);
	if (pdu->command_length != len)
		return SMPP_ESME_RINVCMDLEN;
	if ((ci = cmd_lookup(pdu->command_id)) == NULL)
		return SMPP_ESME_RINVCMDID;

	/*
	 * A response carrying an error may come without a body (§4.1.2,
	 * §4.4.2 say the body is not returned then); many ESMEs also answer
	 * deliver_sm with a bare header.
	 */
	if (len == SMPP_HEADER_LEN && (pdu->command_id & CMD_RESP_BIT) &&
	    (pdu->command_status != SMPP_OK ||
	    pdu->command_id == SMPP_CMD_DELIVER_SM_RESP))
		return SMPP_OK;

	c.buf = buf;
	c.len = len;
	c.off = SMPP_HEADER_LEN;
	c.err = SMPP_OK;
	ci->dec(&c, pdu);
	if (c.err == SMPP_OK && c.off != c.len)
		c.err = SMPP_ESME_RINVCMDLEN;
	return c.err;
}

ssize_t
smpp_pdu_encode(const struct smpp_pdu *pdu, uint8_t *buf, size_t cap)
{
	const struct cmd_info	*ci;
	struct wcur		 w;

	if ((ci = cmd_lookup(pdu->command_id)) == NULL || buf == NULL)
		return -1;
	w.buf = buf;
	w.cap = cap;
	w.off = 0;
	w.is_bad = false;
	wr_u32(&w, 0);		/* command_length, patched below */
	wr_u32(&w, pdu->command_id);
	wr_u32(&w, pdu->command_status);
	wr_u32(&w, pdu->sequence_number);
	ci->enc(&w, pdu);
	/* command_length is a uint32_t. */
	if (w.is_bad || w.off > UINT32_MAX)
		return -1;
	smpp_be32_put(buf, (uint32_t)w.off);
	return (ssize_t)w.off;
}

int
smpp_pdu_tlv_add(struct smpp_pdu *pdu, uint16_t tag, const void *value,
    uint16_t len)
{
	struct smpp_tlv	*t;

	if (pdu->tlv_count >= SMPP_MAX_TLVS || (value == NULL && len > 0))
		return -1;
	t = &pdu->tlvs[pdu->tlv_count++];
	t->tag = tag;
	t->len = len;
	t->value = value;
	return 0;
}

const struct smpp_tlv *
smpp_pdu_tlv_find(const struct smpp_pdu *pdu, uint16_t tag)
{
	size_t	i;

	for (i = 0; i < pdu->tlv_count && i < SMPP_MAX_TLVS; i++)
		if (pdu->tlvs[i].tag == tag)
			return &pdu->tlvs[i];
	return NULL;
}

const char *
smpp_cmd_name(uint32_t command_id)
{
	const struct cmd_info	*ci;

	if ((ci = cmd_lookup(command_id)) == NULL)
		return "unknown";
	return ci->name;
}

bool
smpp_cmd_is_known(uint32_t command_id)
{
	return cmd_lookup(command_id) != NULL;
}

bool
smpp_cmd_is_resp(uint32_t command_id)
{
	return (command_id & CMD_RESP_BIT) != 0;
}

uint32_t
smpp_cmd_resp_id(uint32_t command_id)
{
	const struct cmd_info	*ci;

	if ((ci = cmd_lookup(command_id)) == NULL)
		return SMPP_CMD_GENERIC_NACK;
	return ci->resp_id;
}

bool
smpp_cmd_esme_may_send(uint32_t command_id, enum smpp_bind_state st)
{
	const struct cmd_info	*ci;

	if ((ci = cmd_lookup(command_id)) == NULL)
		return false;
	return state_in(ci->esme_states, st);
}

bool
smpp_cmd_smsc_may_send(uint32_t command_id, enum smpp_bind_state st)
{
	const struct cmd_info	*ci;

	if ((ci = cmd_lookup(command_id)) == NULL)
		return false;
	return state_in(ci->smsc_states, st);
}

void
smpp_pdu_set_seq(uint8_t *buf, uint32_t sequence_number)
{
	smpp_be32_put(buf + 12, sequence_number);
}

struct status_name {
	uint32_t	 status;
	const char	*name;
};

static const struct status_name status_names[] = {
	{ SMPP_OK,			"ESME_ROK" },
	{ SMPP_ESME_RINVMSGLEN,		"ESME_RINVMSGLEN" },
	{ SMPP_ESME_RINVCMDLEN,		"ESME_RINVCMDLEN" },
	{ SMPP_ESME_RINVCMDID,		"ESME_RINVCMDID" },
	{ SMPP_ESME_RINVBNDSTS,		"ESME_RINVBNDSTS" },
	{ SMPP_ESME_RALYBND,		"ESME_RALYBND" },
	{ SMPP_ESME_RINVPRTFLG,		"ESME_RINVPRTFLG" },
	{ SMPP_ESME_RINVREGDLVFLG,	"ESME_RINVREGDLVFLG" },
	{ SMPP_ESME_RSYSERR,		"ESME_RSYSERR" },
	{ SMPP_ESME_RINVSRCADR,		"ESME_RINVSRCADR" },
	{ SMPP_ESME_RINVDSTADR,		"ESME_RINVDSTADR" },
	{ SMPP_ESME_RINVMSGID,		"ESME_RINVMSGID" },
	{ SMPP_ESME_RBINDFAIL,		"ESME_RBINDFAIL" },
	{ SMPP_ESME_RINVPASWD,		"ESME_RINVPASWD" },
	{ SMPP_ESME_RINVSYSID,		"ESME_RINVSYSID" },
	{ SMPP_ESME_RCANCELFAIL,	"ESME_RCANCELFAIL" },
	{ SMPP_ESME_RREPLACEFAIL,	"ESME_RREPLACEFAIL" },
	{ SMPP_ESME_RMSGQFUL,		"ESME_RMSGQFUL" },
	{ SMPP_ESME_RINVSERTYP,		"ESME_RINVSERTYP" },
	{ SMPP_ESME_RINVNUMDESTS,	"ESME_RINVNUMDESTS" },
	{ SMPP_ESME_RINVDLNAME,		"ESME_RINVDLNAME" },
	{ SMPP_ESME_RINVDESTFLAG,	"ESME_RINVDESTFLAG" },
	{ SMPP_ESME_RINVSUBREP,		"ESME_RINVSUBREP" },
	{ SMPP_ESME_RINVESMCLASS,	"ESME_RINVESMCLASS" },
	{ SMPP_ESME_RCNTSUBDL,		"ESME_RCNTSUBDL" },
	{ SMPP_ESME_RSUBMITFAIL,	"ESME_RSUBMITFAIL" },
	{ SMPP_ESME_RINVSRCTON,		"ESME_RINVSRCTON" },
	{ SMPP_ESME_RINVSRCNPI,		"ESME_RINVSRCNPI" },
	{ SMPP_ESME_RINVDSTTON,		"ESME_RINVDSTTON" },
	{ SMPP_ESME_RINVDSTNPI,		"ESME_RINVDSTNPI" },
	{ SMPP_ESME_RINVSYSTYP,		"ESME_RINVSYSTYP" },
	{ SMPP_ESME_RINVREPFLAG,	"ESME_RINVREPFLAG" },
	{ SMPP_ESME_RINVNUMMSGS,	"ESME_RINVNUMMSGS" },
	{ SMPP_ESME_RTHROTTLED,		"ESME_RTHROTTLED" },
	{ SMPP_ESME_RINVSCHED,		"ESME_RINVSCHED" },
	{ SMPP_ESME_RINVEXPIRY,		"ESME_RINVEXPIRY" },
	{ SMPP_ESME_RINVDFTMSGID,	"ESME_RINVDFTMSGID" },
	{ SMPP_ESME_RX_T_APPN,		"ESME_RX_T_APPN" },
	{ SMPP_ESME_RX_P_APPN,		"ESME_RX_P_APPN" },
	{ SMPP_ESME_RX_R_APPN,		"ESME_RX_R_APPN" },
	{ SMPP_ESME_RQUERYFAIL,		"ESME_RQUERYFAIL" },
	{ SMPP_ESME_RINVOPTPARSTREAM,	"ESME_RINVOPTPARSTREAM" },
	{ SMPP_ESME_ROPTPARNOTALLWD,	"ESME_ROPTPARNOTALLWD" },
	{ SMPP_ESME_RINVPARLEN,		"ESME_RINVPARLEN" },
	{ SMPP_ESME_RMISSINGOPTPARAM,	"ESME_RMISSINGOPTPARAM" },
	{ SMPP_ESME_RINVOPTPARAMVAL,	"ESME_RINVOPTPARAMVAL" },
	{ SMPP_ESME_RDELIVERYFAILURE,	"ESME_RDELIVERYFAILURE" },
	{ SMPP_ESME_RUNKNOWNERR,	"ESME_RUNKNOWNERR" },
};

const char *
smpp_status_name(uint32_t command_status)
{
	size_t	i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (status_names[i].status == command_status)
			return status_names[i].name;
	return NULL;
}

const uint8_t *
smpp_pdu_text(const struct smpp_pdu *pdu, size_t *len)
{
	const struct smpp_tlv	*t;

	if (pdu->sm_length > 0) {
		*len = pdu->sm_length;
		return pdu->short_message;
	}
	if ((t = smpp_pdu_tlv_find(pdu, SMPP_TLV_MESSAGE_PAYLOAD)) != NULL) {
		*len = t->len;
		return t->value;
	}
	*len = 0;
	return NULL;
}

ssize_t
smpp_multi_resp_body(uint8_t *buf, size_t cap, const char *message_id,
    const struct smpp_unsuccess *a, size_t na,
    const struct smpp_unsuccess *b, size_t nb)
{
	const struct smpp_unsuccess	*u;
	size_t				 off, n, i, total, al;

	n = message_id != NULL ? strnlen(message_id, SMPP_MESSAGE_ID_LEN - 1) :
	    0;
	if (cap < n + 2)
		return -1;
	if (n > 0)
		memcpy(buf, message_id, n);
	off = n;
	buf[off++] = 0;
	total = na + nb;
	if (total > SMPP_MAX_DESTS)
		total = SMPP_MAX_DESTS;
	buf[off++] = (uint8_t)total;
	for (i = 0; i < total; i++) {
		u = i < na ? &a[i] : &b[i - na];
		al = strnlen(u->addr.addr, SMPP_ADDR_LEN - 1);
		if (cap - off < al + 7)
			return -1;
		buf[off++] = u->addr.ton;
		buf[off++] = u->addr.npi;
		memcpy(buf + off, u->addr.addr, al);
		off += al;
		buf[off++] = 0;
		smpp_be32_put(buf + off, u->error_status);
		off += 4;
	}
	return (ssize_t)off;
}
