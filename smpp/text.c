/*
 * Message text: data_coding decoding to UTF-8, UDH parsing, and encoding
 * replies as GSM 7-bit or UCS-2 parts.
 *
 * References: SMPP v3.4 §5.2.19 (data_coding), §5.2.12 (esm_class UDHI);
 * 3GPP TS 23.038 §4 (DCS), §6.1.2 (packing), §6.2.1 (default alphabet
 * and extension table); 3GPP TS 23.040 §9.2.3.24 (UDH).
 */
#include "smpp/text.h"

#include <string.h>

#define GSM_ESC		0x1Bu
#define ESM_UDHI	0x40u	/* SMPP v3.4 §5.2.12, SMPP_ESM_UDHI */
#define UDH_IE_CONCAT8	0x00u
#define UDH_IE_CONCAT16	0x08u

/* TS 23.038 §6.2.1: the default alphabet, septet -> Unicode. 0x1B is the
 * escape to the extension table and never reaches this table's user. */
static const uint16_t gsm_basic[128] = {
	0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
	0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
	0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
	0x03A3, 0x0398, 0x039E, 0x00A0, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
	0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
	0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
	0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
	0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
	0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
	0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
	0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
	0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
	0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
	0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
	0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
	0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* TS 23.038 §6.2.1.1: the extension table (after ESC). */
static const struct {
	uint8_t		septet;
	uint16_t	ucs;
} gsm_ext[] = {
	{ 0x0A, 0x000C },	/* form feed (page break) */
	{ 0x14, 0x005E },	/* ^ */
	{ 0x28, 0x007B },	/* { */
	{ 0x29, 0x007D },	/* } */
	{ 0x2F, 0x005C },	/* \ */
	{ 0x3C, 0x005B },	/* [ */
	{ 0x3D, 0x007E },	/* ~ */
	{ 0x3E, 0x005D },	/* ] */
	{ 0x40, 0x007C },	/* | */
	{ 0x65, 0x20AC },	/* € */
};

#define GSM_EXT_COUNT	(sizeof(gsm_ext) / sizeof(gsm_ext[0]))

/* A bounded UTF-8 writer; overflow sticks. */
struct text_out {
	char	*buf;
	size_t	 cap;
	size_t	 len;
	bool	 overflow;
};

static void
text_put(struct text_out *w, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	/* U+0000 would end the C string early. */
	if (cp == 0)
		cp = SMPP_TEXT_REPLACEMENT;
	n = smpp_text_utf8_encode(cp, u);
	/* Keep one byte for the NUL. */
	if (w->overflow || w->len + n >= w->cap) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, u, n);
	w->len += n;
}

/* Terminate and return the length; cap > 0 is checked by the caller. */
static ssize_t
text_finish(struct text_out *w)
{
	if (w->overflow) {
		w->buf[0] = '\0';
		return -1;
	}
	w->buf[w->len] = '\0';
	return (ssize_t)w->len;
}

/* ---- UTF-8 -------------------------------------------------------- */

int
smpp_text_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint32_t c, min;
	size_t n, i;

	*cp = SMPP_TEXT_REPLACEMENT;
	if (s == NULL || len == 0)
		return -1;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return -1;	/* continuation byte, 0xC0/0xC1, 0xF5.. */
	}
	if (len < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3Fu);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*cp = c;
	return (int)n;
}

size_t
smpp_text_utf8_encode(uint32_t cp, uint8_t out[4])
{
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = SMPP_TEXT_REPLACEMENT;
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

bool
smpp_text_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;
	int n;

	while (i < len) {
		if ((n = smpp_text_utf8_decode(s + i, len - i, &cp)) < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

/* ---- data_coding -------------------------------------------------- */

int
smpp_text_dcs_charset(uint8_t dcs, enum smpp_text_charset *cs)
{
	switch (dcs) {
	case 0x00:
		*cs = SMPP_TEXT_CHARSET_GSM;
		return 0;
	case 0x01:
		*cs = SMPP_TEXT_CHARSET_ASCII;
		return 0;
	case 0x02:
	case 0x04:
		*cs = SMPP_TEXT_CHARSET_BINARY;
		return 0;
	case 0x03:
		*cs = SMPP_TEXT_CHARSET_LATIN1;
		return 0;
	case 0x08:
		*cs = SMPP_TEXT_CHARSET_UCS2;
		return 0;
	default:
		break;
	}
	if (dcs < 0x10)
		return -1;	/* JIS, Cyrillic, Hebrew, pictogram, ... */
	if (dcs < 0x80) {
		/* 00xx xxxx general / 01xx xxxx auto-deletion group. */
		if (dcs & 0x20)
			return -1;	/* compressed (TS 23.042) */
		switch ((dcs >> 2) & 0x03) {
		case 0:
			*cs = SMPP_TEXT_CHARSET_GSM;
			return 0;
		case 1:
			*cs = SMPP_TEXT_CHARSET_BINARY;
			return 0;
		case 2:
			*cs = SMPP_TEXT_CHARSET_UCS2;
			return 0;
		default:
			return -1;	/* reserved */
		}
	}
	if (dcs < 0xC0)
		return -1;	/* reserved coding groups */
	if (dcs < 0xE0) {
		*cs = SMPP_TEXT_CHARSET_GSM;	/* message waiting */
		return 0;
	}
	if (dcs < 0xF0) {
		*cs = SMPP_TEXT_CHARSET_UCS2;	/* message waiting, UCS-2 */
		return 0;
	}
	*cs = (dcs & 0x04) ? SMPP_TEXT_CHARSET_BINARY : SMPP_TEXT_CHARSET_GSM;
	return 0;
}

const char *
smpp_text_charset_name(enum smpp_text_charset cs)
{
	switch (cs) {
	case SMPP_TEXT_CHARSET_GSM:
		return "gsm";
	case SMPP_TEXT_CHARSET_ASCII:
		return "ascii";
	case SMPP_TEXT_CHARSET_LATIN1:
		return "latin1";
	case SMPP_TEXT_CHARSET_BINARY:
		return "binary";
	case SMPP_TEXT_CHARSET_UCS2:
		return "ucs2";
	}
	return "unknown";
}

/* ---- decoders ----------------------------------------------------- */

static uint32_t
gsm_ext_ucs(uint8_t septet)
{
	size_t i;

	for (i = 0; i < GSM_EXT_COUNT; i++)
		if (gsm_ext[i].septet == septet)
			return gsm_ext[i].ucs;
	return 0;
}

/*
 * Decode septets (values 0..127) one at a time. esc remembers a pending
 * ESC between calls.
 */
static void
gsm_put(struct text_out *w, uint8_t septet, bool *esc)
{
	uint32_t ext;

	if (*esc) {
		*esc = false;
		if (septet == GSM_ESC) {
			/* ESC ESC: reserved for a further extension table
			 * (TS 23.038 §6.2.1.1); nothing we can show. */
			text_put(w, SMPP_TEXT_REPLACEMENT);
			return;
		}
		/* An unknown extension shows its basic character, as the
		 * note to TS 23.038 §6.2.1.1 directs. */
		ext = gsm_ext_ucs(septet);
		text_put(w, ext != 0 ? ext : gsm_basic[septet]);
		return;
	}
	if (septet == GSM_ESC) {
		*esc = true;
		return;
	}
	text_put(w, gsm_basic[septet]);
}

static void
decode_latin1(struct text_out *w, const uint8_t *d, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		text_put(w, d[i]);
}

static void
decode_utf8(struct text_out *w, const uint8_t *d, size_t len)
{
	size_t i = 0;
	uint32_t cp;
	int n;

	while (i < len) {
		n = smpp_text_utf8_decode(d + i, len - i, &cp);
		text_put(w, cp);
		i += n > 0 ? (size_t)n : 1;
	}
}

static bool
has_high_bytes(const uint8_t *d, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (d[i] >= 0x80)
			return true;
	return false;
}

/* 7-bit text that is not 7-bit: UTF-8 if it is, else Latin-1. */
static void
decode_mislabelled(struct text_out *w, const uint8_t *d, size_t len)
{
	if (smpp_text_utf8_valid(d, len))
		decode_utf8(w, d, len);
	else
		decode_latin1(w, d, len);
}

static void
decode_ascii(struct text_out *w, const uint8_t *d, size_t len)
{
	size_t i;

	if (has_high_bytes(d, len)) {
		decode_mislabelled(w, d, len);
		return;
	}
	for (i = 0; i < len; i++)
		text_put(w, d[i]);
}

static void
decode_gsm_unpacked(struct text_out *w, const uint8_t *d, size_t len)
{
	bool esc = false;
	size_t i;

	if (has_high_bytes(d, len)) {
		decode_mislabelled(w, d, len);
		return;
	}
	for (i = 0; i < len; i++)
		gsm_put(w, d[i], &esc);
	if (esc)
		text_put(w, SMPP_TEXT_REPLACEMENT);
}

/* Septet number idx of a packed stream (TS 23.038 §6.1.2.1.1: LSB first). */
static uint8_t
gsm_septet_at(const uint8_t *d, size_t len, size_t idx)
{
	size_t bit = idx * 7, byte = bit / 8;
	unsigned shift = (unsigned)(bit % 8), v;

	v = (unsigned)d[byte] >> shift;
	if (shift > 1 && byte + 1 < len)
		v |= (unsigned)d[byte + 1] << (8 - shift);
	return (uint8_t)(v & 0x7F);
}

/*
 * Decode packed septets from d (len octets), starting at septet first
 * (the septets before it hold the UDH and its fill bits).
 */
static void
decode_gsm_packed(struct text_out *w, const uint8_t *d, size_t len,
    size_t first)
{
	size_t total = len * 8 / 7, i;
	bool esc = false;
	uint8_t last;

	/* Exactly 7 spare bits at the end: a CR (or the zero bits of a
	 * careless encoder, read as '@') fills them (TS 23.038 §6.1.2.3.1). */
	if (total > first && (len * 8) % 7 == 0) {
		last = gsm_septet_at(d, len, total - 1);
		if (last == 0x0D || last == 0x00)
			total--;
	}
	for (i = first; i < total; i++)
		gsm_put(w, gsm_septet_at(d, len, i), &esc);
	if (esc)
		text_put(w, SMPP_TEXT_REPLACEMENT);
}

static void
decode_ucs2(struct text_out *w, const uint8_t *d, size_t len)
{
	size_t i = 0;
	uint32_t u, lo;

	while (i + 1 < len) {
		u = ((uint32_t)d[i] << 8) | d[i + 1];
		i += 2;
		if (u >= 0xD800 && u <= 0xDBFF && i + 1 < len) {
			lo = ((uint32_t)d[i] << 8) | d[i + 1];
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				i += 2;
				u = 0x10000 + ((u - 0xD800) << 10) +
				    (lo - 0xDC00);
			}
		}
		/* A lone surrogate is written as U+FFFD by text_put(). */
		text_put(w, u);
	}
	if (i < len)
		text_put(w, SMPP_TEXT_REPLACEMENT);	/* odd byte */
}

/* Decode after the header: skip_septets applies to packed GSM only. */
static ssize_t
text_decode_at(uint8_t dcs, const uint8_t *sm, size_t len, size_t offset,
    size_t skip_septets, bool packed, char *out, size_t cap)
{
	struct text_out w = { out, cap, 0, false };
	enum smpp_text_charset cs;

	if (out == NULL || cap == 0)
		return -1;
	out[0] = '\0';
	if (smpp_text_dcs_charset(dcs, &cs) == -1 || (sm == NULL && len > 0))
		return -1;
	if (offset >= len)
		return text_finish(&w);
	switch (cs) {
	case SMPP_TEXT_CHARSET_GSM:
		if (packed)
			decode_gsm_packed(&w, sm, len, skip_septets);
		else
			decode_gsm_unpacked(&w, sm + offset, len - offset);
		break;
	case SMPP_TEXT_CHARSET_ASCII:
		decode_ascii(&w, sm + offset, len - offset);
		break;
	case SMPP_TEXT_CHARSET_LATIN1:
	case SMPP_TEXT_CHARSET_BINARY:
		decode_latin1(&w, sm + offset, len - offset);
		break;
	case SMPP_TEXT_CHARSET_UCS2:
		decode_ucs2(&w, sm + offset, len - offset);
		break;
	}
	return text_finish(&w);
}

ssize_t
smpp_text_decode(uint8_t dcs, const uint8_t *data, size_t len, bool packed,
    char *out, size_t cap)
{
	return text_decode_at(dcs, data, len, 0, 0, packed, out, cap);
}

int
smpp_text_udh_parse(const uint8_t *sm, size_t len, struct smpp_udh *udh)
{
	size_t udhl, i, iel;
	uint8_t iei;

	memset(udh, 0, sizeof(*udh));
	if (sm == NULL || len == 0)
		return -1;
	udhl = sm[0];
	if (1 + udhl > len)
		return -1;
	for (i = 1; i < 1 + udhl; i += 2 + iel) {
		/* Each IE needs its IEI and IEDL octets inside UDHL. */
		if (i + 2 > 1 + udhl)
			goto err_zero;
		iei = sm[i];
		iel = sm[i + 1];
		if (i + 2 + iel > 1 + udhl)
			goto err_zero;
		if (iei == UDH_IE_CONCAT8 && iel == 3 && sm[i + 3] >= 1 &&
		    sm[i + 4] >= 1 && sm[i + 4] <= sm[i + 3]) {
			udh->is_concat = true;
			udh->ref = sm[i + 2];
			udh->total = sm[i + 3];
			udh->seq = sm[i + 4];
		} else if (iei == UDH_IE_CONCAT16 && iel == 4 &&
		    sm[i + 4] >= 1 && sm[i + 5] >= 1 &&
		    sm[i + 5] <= sm[i + 4]) {
			udh->is_concat = true;
			udh->ref = (uint16_t)((sm[i + 2] << 8) | sm[i + 3]);
			udh->total = sm[i + 4];
			udh->seq = sm[i + 5];
		}
	}
	udh->header_len = 1 + udhl;
	return 0;

err_zero:
	memset(udh, 0, sizeof(*udh));
	return -1;
}

ssize_t
smpp_text_decode_sm(uint8_t dcs, uint8_t esm_class, const uint8_t *sm,
    size_t len, bool packed, char *out, size_t cap, struct smpp_udh *udh)
{
	struct smpp_udh local;
	size_t hl = 0;

	if (udh == NULL)
		udh = &local;
	memset(udh, 0, sizeof(*udh));
	if (esm_class & ESM_UDHI) {
		if (smpp_text_udh_parse(sm, len, udh) == -1) {
			if (out != NULL && cap > 0)
				out[0] = '\0';
			return -1;
		}
		hl = udh->header_len;
	}
	/* Packed text after a UDH starts at the next septet boundary: the
	 * header's octets plus fill bits (TS 23.040 §9.2.3.24) make
	 * ceil(hl * 8 / 7) septets. */
	return text_decode_at(dcs, sm, len, hl, (hl * 8 + 6) / 7, packed, out,
	    cap);
}

/* ---- encoder ------------------------------------------------------ */

size_t
smpp_text_gsm_from_ucs(uint32_t cp, uint8_t septets[2])
{
	size_t i;

	/* The table is tiny; a linear scan beats a second table to keep in
	 * sync. 0x1B (ESC) is skipped: NBSP is not sent through it. */
	for (i = 0; i < 128; i++) {
		if (i != GSM_ESC && gsm_basic[i] == cp) {
			septets[0] = (uint8_t)i;
			return 1;
		}
	}
	for (i = 0; i < GSM_EXT_COUNT; i++) {
		if (gsm_ext[i].ucs == cp) {
			septets[0] = GSM_ESC;
			septets[1] = gsm_ext[i].septet;
			return 2;
		}
	}
	return 0;
}

/* Units one code point costs: septets in GSM, UTF-16 units in UCS-2. */
static size_t
text_units(uint32_t cp, bool gsm, uint8_t code[4])
{
	if (gsm)
		return smpp_text_gsm_from_ucs(cp, code);
	if (cp >= 0x10000) {
		uint32_t v = cp - 0x10000;
		uint32_t hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);

		code[0] = (uint8_t)(hi >> 8);
		code[1] = (uint8_t)hi;
		code[2] = (uint8_t)(lo >> 8);
		code[3] = (uint8_t)lo;
		return 2;
	}
	code[0] = (uint8_t)(cp >> 8);
	code[1] = (uint8_t)cp;
	return 1;
}

int
smpp_text_encode(const char *utf8, size_t len, uint8_t ref,
    struct smpp_text_parts *out)
{
	const uint8_t *s = (const uint8_t *)utf8;
	size_t i, units = 0, per, single, ucount, bpu, p;
	struct smpp_text_part *part;
	uint8_t code[4];
	bool gsm = true;
	uint32_t cp;
	int n;

	memset(out, 0, sizeof(*out));
	if (utf8 == NULL && len > 0)
		return -1;

	/* Pass 1: validate, choose the alphabet, count GSM septets. */
	for (i = 0; i < len; i += (size_t)n) {
		if ((n = smpp_text_utf8_decode(s + i, len - i, &cp)) < 0)
			return -1;
		if (gsm && smpp_text_gsm_from_ucs(cp, code) == 0)
			gsm = false;
	}
	for (i = 0; i < len; i += (size_t)n) {
		n = smpp_text_utf8_decode(s + i, len - i, &cp);
		units += text_units(cp, gsm, code);
	}
	single = gsm ? SMPP_TEXT_GSM_SINGLE : SMPP_TEXT_UCS2_SINGLE;
	per = gsm ? SMPP_TEXT_GSM_MULTI : SMPP_TEXT_UCS2_MULTI;
	bpu = gsm ? 1 : 2;	/* bytes per unit */
	out->data_coding = gsm ? SMPP_TEXT_DCS_DEFAULT : SMPP_TEXT_DCS_UCS2;

	if (units <= single) {
		out->count = 1;
		part = &out->parts[0];
		for (i = 0; i < len; i += (size_t)n) {
			n = smpp_text_utf8_decode(s + i, len - i, &cp);
			ucount = text_units(cp, gsm, code);
			memcpy(part->bytes + part->len, code, ucount * bpu);
			part->len += ucount * bpu;
		}
		return 0;
	}

	/* Pass 2: fill parts greedily; a character that does not fit
	 * whole (escape pair, surrogate pair) starts the next part. */
	p = 0;
	part = &out->parts[0];
	part->len = SMPP_TEXT_UDH_CONCAT_LEN;
	for (i = 0; i < len; i += (size_t)n) {
		n = smpp_text_utf8_decode(s + i, len - i, &cp);
		ucount = text_units(cp, gsm, code);
		if (part->len + ucount * bpu >
		    SMPP_TEXT_UDH_CONCAT_LEN + per * bpu) {
			if (++p >= SMPP_TEXT_PARTS_MAX) {
				memset(out, 0, sizeof(*out));
				return -1;
			}
			part = &out->parts[p];
			part->len = SMPP_TEXT_UDH_CONCAT_LEN;
		}
		memcpy(part->bytes + part->len, code, ucount * bpu);
		part->len += ucount * bpu;
	}
	out->count = p + 1;
	for (p = 0; p < out->count; p++) {
		part = &out->parts[p];
		part->has_udh = true;
		part->bytes[0] = 0x05;		/* UDHL */
		part->bytes[1] = UDH_IE_CONCAT8;
		part->bytes[2] = 0x03;		/* IEDL */
		part->bytes[3] = ref;
		part->bytes[4] = (uint8_t)out->count;
		part->bytes[5] = (uint8_t)(p + 1);
	}
	return 0;
}
