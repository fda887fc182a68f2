/*
 * smpp/text: data_coding decoding, UDH parsing, GSM/UCS-2 encoding and
 * splitting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/text.h"

/* Every character of the GSM default alphabet and extension table, in
 * septet order (ESC left out), as UTF-8. */
static const char gsm_all_utf8[] =
    "@\xc2\xa3$\xc2\xa5\xc3\xa8\xc3\xa9\xc3\xb9\xc3\xac\xc3\xb2\xc3\x87"
    "\n\xc3\x98\xc3\xb8\r\xc3\x85\xc3\xa5"
    "\xce\x94_\xce\xa6\xce\x93\xce\x9b\xce\xa9\xce\xa0\xce\xa8\xce\xa3"
    "\xce\x98\xce\x9e\xc3\x86\xc3\xa6\xc3\x9f\xc3\x89"
    " !\"#\xc2\xa4%&'()*+,-./0123456789:;<=>?"
    "\xc2\xa1" "ABCDEFGHIJKLMNOPQRSTUVWXYZ\xc3\x84\xc3\x96\xc3\x91\xc3\x9c"
    "\xc2\xa7\xc2\xbf" "abcdefghijklmnopqrstuvwxyz\xc3\xa4\xc3\xb6\xc3\xb1"
    "\xc3\xbc\xc3\xa0"
    "\x0c^{}\\[~]|\xe2\x82\xac";

/* Pack septets LSB first after hl header octets and the fill bits that
 * align them (TS 23.038 §6.1.2.1, TS 23.040 §9.2.3.24); the header octets
 * are copied as they are. Returns the packed length. */
static size_t
pack_septets(const uint8_t *hdr, size_t hl, const uint8_t *sep, size_t n,
    uint8_t *out)
{
	size_t bit, i, j;

	memset(out, 0, 256);
	memcpy(out, hdr, hl);
	bit = ((hl * 8 + 6) / 7) * 7;
	for (i = 0; i < n; i++)
		for (j = 0; j < 7; j++, bit++)
			if (sep[i] & (1u << j))
				out[bit / 8] |= (uint8_t)(1u << (bit % 8));
	return (bit + 7) / 8;
}

static void
test_text_gsm_round_trip(void **state)
{
	struct smpp_text_parts parts;
	char out[1024];
	ssize_t n;

	(void)state;
	/* 127 basic + 10 extension characters = 137 + 10 septets: one part. */
	assert_int_equal(smpp_text_encode(gsm_all_utf8, strlen(gsm_all_utf8),
	    1, &parts), 0);
	assert_int_equal(parts.data_coding, SMPP_TEXT_DCS_DEFAULT);
	assert_int_equal(parts.count, 1);
	assert_false(parts.parts[0].has_udh);
	assert_int_equal(parts.parts[0].len, 127 + 20);
	assert_int_equal(parts.parts[0].bytes[0], 0x00);	/* @ */
	assert_int_equal(parts.parts[0].bytes[127 + 18], 0x1B);
	assert_int_equal(parts.parts[0].bytes[127 + 19], 0x65);	/* € */
	n = smpp_text_decode(0x00, parts.parts[0].bytes, parts.parts[0].len,
	    false, out, sizeof(out));
	assert_int_equal(n, (ssize_t)strlen(gsm_all_utf8));
	assert_string_equal(out, gsm_all_utf8);
}

struct decode_case {
	uint8_t		 dcs;
	bool		 packed;
	const char	*in;
	size_t		 len;
	const char	*want;	/* NULL: must fail */
};

#define D(dcs, packed, bytes, want) \
	{ dcs, packed, bytes, sizeof(bytes) - 1, want }

static const struct decode_case decode_cases[] = {
	/* GSM unpacked. */
	D(0x00, false, "STOP", "STOP"),
	D(0x00, false, "\x00\x01\x02\x03", "@\xc2\xa3$\xc2\xa5"),
	D(0x00, false, "\x1b\x65" "5", "\xe2\x82\xac" "5"),
	D(0x00, false, "\x1b\x3c\x1b\x3e\x1b\x28\x1b\x29",
	    "[]{}"),
	D(0x00, false, "\x1b\x2f\x1b\x14\x1b\x3d\x1b\x40\x1b\x0a",
	    "\\^~|\x0c"),
	D(0x00, false, "\x1b" "A", "A"),		/* unknown ext */
	D(0x00, false, "A\x1b", "A\xef\xbf\xbd"),	/* dangling ESC */
	D(0x00, false, "\x1b\x1b" "A", "\xef\xbf\xbd" "A"),
	D(0x00, false, "\x10\x1c\x1e", "\xce\x94\xc3\x86\xc3\x9f"),
	/* Mislabelled: UTF-8 and Latin-1 under 0x00 / 0x01. */
	D(0x00, false, "ARR\xc3\x8aT", "ARR\xc3\x8aT"),
	D(0x00, false, "ARR\xcaT", "ARR\xc3\x8aT"),
	D(0x01, false, "arr\xc3\xaat", "arr\xc3\xaat"),
	D(0x01, false, "caf\xe9", "caf\xc3\xa9"),
	/* IA5. */
	D(0x01, false, "STOP @ $ _", "STOP @ $ _"),
	D(0x01, false, "a\x00" "b", "a\xef\xbf\xbd" "b"),
	/* Latin-1 and 8-bit binary. */
	D(0x03, false, "ARR\xcaT \xa9", "ARR\xc3\x8aT \xc2\xa9"),
	D(0x02, false, "\xff\x01", "\xc3\xbf\x01"),
	D(0x04, false, "STOP", "STOP"),
	/* UCS-2: BMP, a surrogate pair, lone surrogates, odd byte. */
	D(0x08, false, "\x00S\x00T\x00O\x00P", "STOP"),
	D(0x08, false, "\x00H\x00\xe9\x20\xac", "H\xc3\xa9\xe2\x82\xac"),
	D(0x08, false, "\xd8\x3d\xde\x00", "\xf0\x9f\x98\x80"),
	D(0x08, false, "\xd8\x3d\x00" "A", "\xef\xbf\xbd" "A"),
	D(0x08, false, "\xde\x00\x00" "A", "\xef\xbf\xbd" "A"),
	D(0x08, false, "\x00" "A\xd8\x3d", "A\xef\xbf\xbd"),
	D(0x08, false, "\x00" "A\x00", "A\xef\xbf\xbd"),
	D(0x08, false, "\x00\x00", "\xef\xbf\xbd"),
	D(0x08, false, "", ""),
	/* TS 23.038 groups. */
	D(0x11, false, "STOP", "STOP"),			/* GSM, class 1 */
	D(0x15, false, "\xe9", "\xc3\xa9"),		/* 8-bit */
	D(0x18, false, "\x04\x16", "\xd0\x96"),		/* UCS-2 */
	D(0x48, false, "\x00" "A", "A"),		/* auto-delete UCS2 */
	D(0xF0, false, "STOP", "STOP"),
	D(0xF1, false, "\x1b\x65", "\xe2\x82\xac"),
	D(0xF4, false, "\xe9", "\xc3\xa9"),
	D(0xF6, false, "\xe9", "\xc3\xa9"),
	D(0xC0, false, "Hi", "Hi"),
	D(0xE0, false, "\x00" "A", "A"),
	/* GSM packed: the TS 23.038 "hellohello" vector. */
	D(0x00, true, "\xe8\x32\x9b\xfd\x46\x97\xd9\xec\x37", "hellohello"),
	D(0xF0, true, "\xe8\x32\x9b\xfd\x46\x97\xd9\xec\x37", "hellohello"),
	/* 7 characters in 7 octets: CR in the 7 spare bits is padding. */
	D(0x00, true, "\x31\xd9\x8c\x56\xb3\xdd\x1a", "1234567"),
	/* Zero spare bits read as '@' are padding too. */
	D(0x00, true, "\x31\xd9\x8c\x56\xb3\xdd\x00", "1234567"),
	/* Packed: a dangling ESC at the end (0x1B then '@' padding). */
	D(0x00, true, "\xc1\x0d", "A\xef\xbf\xbd"),
	/* Packed is ignored outside GSM. */
	D(0x03, true, "abc", "abc"),
	/* Unsupported codings. */
	D(0x05, false, "abc", NULL),
	D(0x06, false, "abc", NULL),
	D(0x0E, false, "abc", NULL),
	D(0x1C, false, "abc", NULL),			/* reserved */
	D(0x30, false, "abc", NULL),			/* compressed */
	D(0x80, false, "abc", NULL),
	D(0xBF, false, "abc", NULL),
};

static void
test_text_decode_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct decode_case *c = &decode_cases[i];
		char out[256];
		ssize_t n;

		n = smpp_text_decode(c->dcs, (const uint8_t *)c->in, c->len,
		    c->packed, out, sizeof(out));
		if (c->want == NULL) {
			assert_int_equal(n, -1);
			continue;
		}
		if (n < 0 || strcmp(out, c->want) != 0)
			print_error("case %zu (dcs %02x): got \"%s\"\n", i,
			    c->dcs, n < 0 ? "(fail)" : out);
		assert_int_equal(n, (ssize_t)strlen(c->want));
		assert_string_equal(out, c->want);
	}
}

static void
test_text_decode_capacity(void **state)
{
	char out[8];

	(void)state;
	/* "STOP" needs 5 bytes with the NUL. */
	assert_int_equal(smpp_text_decode(0, (const uint8_t *)"STOP", 4, false,
	    out, 5), 4);
	assert_int_equal(smpp_text_decode(0, (const uint8_t *)"STOP", 4, false,
	    out, 4), -1);
	assert_string_equal(out, "");
	/* € is 3 bytes of UTF-8 from 2 septets. */
	assert_int_equal(smpp_text_decode(0, (const uint8_t *)"\x1b\x65", 2,
	    false, out, 3), -1);
	assert_int_equal(smpp_text_decode(0, (const uint8_t *)"\x1b\x65", 2,
	    false, out, 4), 3);
	assert_int_equal(smpp_text_decode(0, (const uint8_t *)"x", 1, false,
	    out, 0), -1);
	assert_int_equal(smpp_text_decode(0, (const uint8_t *)"x", 1, false,
	    NULL, 8), -1);
	assert_int_equal(smpp_text_decode(0, NULL, 0, false, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "");
}

/* SMPP_TEXT_DECODE_CAP is enough for the worst input of each charset. */
static void
test_text_decode_cap_macro(void **state)
{
	uint8_t in[140];
	char out[SMPP_TEXT_DECODE_CAP(sizeof(in))];
	static const uint8_t dcs[] = { 0x00, 0x01, 0x03, 0x08 };
	size_t i, k;

	(void)state;
	for (k = 0; k < sizeof(dcs); k++) {
		for (i = 0; i < sizeof(in); i++)
			in[i] = dcs[k] == 0x08 ? 0xDC : 0x1B;
		assert_true(smpp_text_decode(dcs[k], in, sizeof(in), false,
		    out, sizeof(out)) > 0);
		assert_true(smpp_text_decode(dcs[k], in, sizeof(in), true,
		    out, sizeof(out)) > 0);
		memset(in, 0xFF, sizeof(in));
		assert_true(smpp_text_decode(dcs[k], in, sizeof(in), true,
		    out, sizeof(out)) > 0);
	}
}

static void
test_text_dcs_charset(void **state)
{
	enum smpp_text_charset cs;

	(void)state;
	assert_int_equal(smpp_text_dcs_charset(0x00, &cs), 0);
	assert_string_equal(smpp_text_charset_name(cs), "gsm");
	assert_int_equal(smpp_text_dcs_charset(0x01, &cs), 0);
	assert_string_equal(smpp_text_charset_name(cs), "ascii");
	assert_int_equal(smpp_text_dcs_charset(0x03, &cs), 0);
	assert_string_equal(smpp_text_charset_name(cs), "latin1");
	assert_int_equal(smpp_text_dcs_charset(0x04, &cs), 0);
	assert_string_equal(smpp_text_charset_name(cs), "binary");
	assert_int_equal(smpp_text_dcs_charset(0x08, &cs), 0);
	assert_string_equal(smpp_text_charset_name(cs), "ucs2");
	assert_int_equal(smpp_text_dcs_charset(0x19, &cs), 0);
	assert_int_equal(cs, SMPP_TEXT_CHARSET_UCS2);
	assert_int_equal(smpp_text_dcs_charset(0xD8, &cs), 0);
	assert_int_equal(cs, SMPP_TEXT_CHARSET_GSM);
	assert_int_equal(smpp_text_dcs_charset(0xF7, &cs), 0);
	assert_int_equal(cs, SMPP_TEXT_CHARSET_BINARY);
	assert_int_equal(smpp_text_dcs_charset(0x07, &cs), -1);
	assert_int_equal(smpp_text_dcs_charset(0x2C, &cs), -1);
	assert_string_equal(smpp_text_charset_name(
	    (enum smpp_text_charset)42), "unknown");
}

struct udh_case {
	const char	*in;
	size_t		 len;
	int		 rc;
	size_t		 header_len;
	bool		 is_concat;
	uint16_t	 ref;
	uint8_t		 total, seq;
};

#define U(bytes, rc, hl, cc, ref, total, seq) \
	{ bytes, sizeof(bytes) - 1, rc, hl, cc, ref, total, seq }

static const struct udh_case udh_cases[] = {
	U("\x05\x00\x03\x2a\x02\x01" "abc", 0, 6, true, 0x2a, 2, 1),
	U("\x06\x08\x04\x12\x34\x03\x03" "abc", 0, 7, true, 0x1234, 3, 3),
	/* Port addressing IE before the concat IE. */
	U("\x0b\x05\x04\x0b\x84\x23\xf0\x00\x03\x07\x02\x02" "x", 0, 12,
	    true, 7, 2, 2),
	/* Only a non-concat IE. */
	U("\x04\x05\x02\x0b\x84" "x", 0, 5, false, 0, 0, 0),
	/* Empty UDH. */
	U("\x00" "x", 0, 1, false, 0, 0, 0),
	/* Header exactly fills the message. */
	U("\x05\x00\x03\x01\x01\x01", 0, 6, true, 1, 1, 1),
	/* Bad concat values are ignored (TS 23.040 §9.2.3.24.1). */
	U("\x05\x00\x03\x01\x00\x00" "x", 0, 6, false, 0, 0, 0),
	U("\x05\x00\x03\x01\x02\x00" "x", 0, 6, false, 0, 0, 0),
	U("\x05\x00\x03\x01\x02\x03" "x", 0, 6, false, 0, 0, 0),
	U("\x06\x00\x04\x01\x02\x01\x00" "x", 0, 7, false, 0, 0, 0),
	/* Structural errors. */
	U("\x06\x00\x03\x01\x02\x01", -1, 0, false, 0, 0, 0),	/* UDHL */
	U("\x05\x00\x04\x01\x02\x01" "xx", -1, 0, false, 0, 0, 0), /* IE */
	U("\x01\x00" "x", -1, 0, false, 0, 0, 0),	/* IEI, no IEDL */
	U("", -1, 0, false, 0, 0, 0),
};

static void
test_text_udh_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(udh_cases) / sizeof(udh_cases[0]); i++) {
		const struct udh_case *c = &udh_cases[i];
		struct smpp_udh udh;

		if (smpp_text_udh_parse((const uint8_t *)c->in, c->len,
		    &udh) != c->rc)
			print_error("udh case %zu\n", i);
		assert_int_equal(smpp_text_udh_parse((const uint8_t *)c->in,
		    c->len, &udh), c->rc);
		assert_int_equal(udh.header_len, c->header_len);
		assert_int_equal(udh.is_concat, c->is_concat);
		assert_int_equal(udh.ref, c->ref);
		assert_int_equal(udh.total, c->total);
		assert_int_equal(udh.seq, c->seq);
	}
}

static void
test_text_decode_sm(void **state)
{
	static const uint8_t udh6[] = { 0x05, 0x00, 0x03, 0x2a, 0x02, 0x01 };
	static const uint8_t udh7[] = { 0x06, 0x08, 0x04, 0x01, 0x02, 0x02,
	    0x02 };
	static const uint8_t stop[] = { 'S', 'T', 'O', 'P', ' ', 0x1b, 0x65 };
	struct smpp_udh udh;
	uint8_t sm[256];
	char out[256];
	size_t n, hl;

	(void)state;
	/* Unpacked GSM after a UDH. */
	memcpy(sm, udh6, sizeof(udh6));
	memcpy(sm + 6, stop, sizeof(stop));
	assert_int_equal(smpp_text_decode_sm(0x00, 0x40, sm, 6 + sizeof(stop),
	    false, out, sizeof(out), &udh), 8);
	assert_string_equal(out, "STOP \xe2\x82\xac");
	assert_true(udh.is_concat);
	assert_int_equal(udh.header_len, 6);
	assert_int_equal(udh.total, 2);

	/* Without UDHI the header bytes are text (and udh is zeroed). */
	assert_true(smpp_text_decode_sm(0x00, 0x00, sm, 6 + sizeof(stop),
	    false, out, sizeof(out), &udh) > 0);
	assert_false(udh.is_concat);
	assert_int_equal(udh.header_len, 0);

	/* Packed GSM after 6 and 7 octet headers: 1 and 0 fill bits, and
	 * every header length 1..12 (fill 1..6 and 0) but 2 (a UDHL of 1
	 * cannot hold an IE). */
	for (hl = 1; hl <= 12; hl++) {
		uint8_t hdr[12];

		if (hl == 2)
			continue;
		memset(hdr, 0, sizeof(hdr));
		hdr[0] = (uint8_t)(hl - 1);
		if (hl >= 3) {
			hdr[1] = 0x70;	/* some IE */
			hdr[2] = (uint8_t)(hl - 3);
		}
		if (hl == 6)
			memcpy(hdr, udh6, 6);
		if (hl == 7)
			memcpy(hdr, udh7, 7);
		n = pack_septets(hdr, hl, stop, sizeof(stop), sm);
		memset(out, 'x', sizeof(out));
		if (smpp_text_decode_sm(0x00, 0x40, sm, n, true, out,
		    sizeof(out), &udh) != 8 || strcmp(out, "STOP \xe2\x82\xac"))
			print_error("hl %zu: \"%s\"\n", hl, out);
		assert_int_equal(smpp_text_decode_sm(0x00, 0x40, sm, n, true,
		    out, sizeof(out), &udh), 8);
		assert_string_equal(out, "STOP \xe2\x82\xac");
		assert_int_equal(udh.header_len, hl);
	}
	assert_int_equal(udh.is_concat, false);

	/* UCS-2 after a 16-bit reference header. */
	memcpy(sm, udh7, sizeof(udh7));
	memcpy(sm + 7, "\x00S\x00T\x00O\x00P", 8);
	assert_int_equal(smpp_text_decode_sm(0x08, 0x40, sm, 15, false, out,
	    sizeof(out), &udh), 4);
	assert_string_equal(out, "STOP");
	assert_int_equal(udh.ref, 0x0102);
	assert_int_equal(udh.seq, 2);

	/* A malformed UDH fails; a header with no text is empty text. */
	sm[0] = 0x20;
	assert_int_equal(smpp_text_decode_sm(0x08, 0x40, sm, 15, false, out,
	    sizeof(out), &udh), -1);
	assert_string_equal(out, "");
	assert_int_equal(smpp_text_decode_sm(0x00, 0x40, udh6, sizeof(udh6),
	    true, out, sizeof(out), NULL), 0);
	assert_int_equal(smpp_text_decode_sm(0x00, 0x40, NULL, 0, true, out,
	    sizeof(out), NULL), -1);
}

/* Decode every part back (UDH stripped) and concatenate. */
static void
parts_decode(const struct smpp_text_parts *p, char *out, size_t cap)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < p->count; i++) {
		const struct smpp_text_part *pt = &p->parts[i];
		ssize_t n;

		n = smpp_text_decode_sm(p->data_coding, pt->has_udh ? 0x40 : 0,
		    pt->bytes, pt->len, false, out + used, cap - used, NULL);
		assert_true(n >= 0);
		used += (size_t)n;
	}
}

static void
fill(char *buf, const char *unit, size_t count)
{
	size_t i, ul = strlen(unit);

	for (i = 0; i < count; i++)
		memcpy(buf + i * ul, unit, ul);
	buf[count * ul] = '\0';
}

static void
check_udh(const struct smpp_text_parts *p, uint8_t ref)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		const uint8_t *b = p->parts[i].bytes;

		assert_true(p->parts[i].has_udh);
		assert_int_equal(b[0], 0x05);
		assert_int_equal(b[1], 0x00);
		assert_int_equal(b[2], 0x03);
		assert_int_equal(b[3], ref);
		assert_int_equal(b[4], p->count);
		assert_int_equal(b[5], i + 1);
	}
}

static void
test_text_encode_gsm_split(void **state)
{
	static char in[8192], back[8192];
	struct smpp_text_parts p;

	(void)state;
	fill(in, "a", 160);
	assert_int_equal(smpp_text_encode(in, strlen(in), 9, &p), 0);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.parts[0].len, 160);
	assert_false(p.parts[0].has_udh);

	fill(in, "a", 161);
	assert_int_equal(smpp_text_encode(in, strlen(in), 9, &p), 0);
	assert_int_equal(p.data_coding, 0x00);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.parts[0].len, 6 + 153);
	assert_int_equal(p.parts[1].len, 6 + 8);
	check_udh(&p, 9);
	parts_decode(&p, back, sizeof(back));
	assert_string_equal(back, in);

	fill(in, "a", 306);
	assert_int_equal(smpp_text_encode(in, strlen(in), 200, &p), 0);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.parts[1].len, 6 + 153);
	check_udh(&p, 200);

	fill(in, "a", 307);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), 0);
	assert_int_equal(p.count, 3);
	assert_int_equal(p.parts[2].len, 6 + 1);

	/* Extension characters cost two septets: 80 € = 160 septets. */
	fill(in, "\xe2\x82\xac", 80);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), 0);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.parts[0].len, 160);
	fill(in, "\xe2\x82\xac", 81);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), 0);
	assert_int_equal(p.count, 2);
	/* 153 is odd: 76 € (152 septets) fit, the 77th goes whole to part
	 * two: the escape sequence is never split. */
	assert_int_equal(p.parts[0].len, 6 + 152);
	assert_int_equal(p.parts[0].bytes[6 + 151], 0x65);
	assert_int_equal(p.parts[1].bytes[6], 0x1b);
	parts_decode(&p, back, sizeof(back));
	assert_string_equal(back, in);

	/* 159 a + € = 161 septets: two parts. */
	fill(in, "a", 159);
	memcpy(in + 159, "\xe2\x82\xac", 4);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), 0);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.parts[0].len, 6 + 153);
	assert_int_equal(p.parts[1].len, 6 + 6 + 2);

	/* 10 parts of 153 is the limit. */
	fill(in, "a", 1530);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), 0);
	assert_int_equal(p.count, 10);
	parts_decode(&p, back, sizeof(back));
	assert_string_equal(back, in);
	fill(in, "a", 1531);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), -1);
	assert_int_equal(p.count, 0);
}

static void
test_text_encode_ucs2_split(void **state)
{
	static char in[8192], back[8192];
	struct smpp_text_parts p;

	(void)state;
	/* Cyrillic zhe is not in GSM. */
	fill(in, "\xd0\xb6", 70);
	assert_int_equal(smpp_text_encode(in, strlen(in), 5, &p), 0);
	assert_int_equal(p.data_coding, 0x08);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.parts[0].len, 140);
	assert_int_equal(p.parts[0].bytes[0], 0x04);
	assert_int_equal(p.parts[0].bytes[1], 0x36);

	fill(in, "\xd0\xb6", 71);
	assert_int_equal(smpp_text_encode(in, strlen(in), 5, &p), 0);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.parts[0].len, 6 + 134);
	assert_int_equal(p.parts[1].len, 6 + 8);
	check_udh(&p, 5);
	parts_decode(&p, back, sizeof(back));
	assert_string_equal(back, in);

	/* One non-GSM character turns the whole text UCS-2. */
	assert_int_equal(smpp_text_encode("Hello \xf0\x9f\x98\x80", 10, 0,
	    &p), 0);
	assert_int_equal(p.data_coding, 0x08);
	assert_int_equal(p.parts[0].len, 6 * 2 + 4);
	assert_memory_equal(p.parts[0].bytes + 12, "\xd8\x3d\xde\x00", 4);

	/* 35 emoji = 70 units: one part; 36: split, pair kept whole. */
	fill(in, "\xf0\x9f\x98\x80", 35);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), 0);
	assert_int_equal(p.count, 1);
	fill(in, "\xf0\x9f\x98\x80", 36);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), 0);
	assert_int_equal(p.count, 2);
	/* 67 is odd: 33 pairs (66 units) in part one. */
	assert_int_equal(p.parts[0].len, 6 + 132);
	assert_int_equal(p.parts[1].len, 6 + 12);
	assert_int_equal(p.parts[1].bytes[6], 0xd8);
	parts_decode(&p, back, sizeof(back));
	assert_string_equal(back, in);

	/* Tab has no GSM code either. */
	assert_int_equal(smpp_text_encode("a\tb", 3, 0, &p), 0);
	assert_int_equal(p.data_coding, 0x08);

	fill(in, "\xd0\xb6", 670);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), 0);
	assert_int_equal(p.count, 10);
	fill(in, "\xd0\xb6", 671);
	assert_int_equal(smpp_text_encode(in, strlen(in), 0, &p), -1);
}

static void
test_text_encode_edge(void **state)
{
	static const char *const bad[] = {
		"\xc0\x80",		/* overlong NUL */
		"\xe0\x80\xaf",		/* overlong '/' */
		"\xed\xa0\x80",		/* surrogate */
		"\xf4\x90\x80\x80",	/* > U+10FFFF */
		"\xe2\x82",		/* truncated */
		"\x80",			/* lone continuation */
		"ok\xff",
	};
	struct smpp_text_parts p;
	size_t i;

	(void)state;
	assert_int_equal(smpp_text_encode("", 0, 0, &p), 0);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.parts[0].len, 0);
	assert_int_equal(p.data_coding, 0x00);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(smpp_text_encode(bad[i], strlen(bad[i]), 0,
		    &p), -1);
		assert_int_equal(p.count, 0);
	}
	assert_int_equal(smpp_text_encode(NULL, 1, 0, &p), -1);
	assert_int_equal(smpp_text_encode(NULL, 0, 0, &p), 0);
}

static void
test_text_utf8(void **state)
{
	static const struct {
		const char	*in;
		int		 n;
		uint32_t	 cp;
	} cases[] = {
		{ "A", 1, 0x41 },
		{ "\xc3\xa9", 2, 0xE9 },
		{ "\xe2\x82\xac", 3, 0x20AC },
		{ "\xf0\x9f\x9b\x91", 4, 0x1F6D1 },	/* stop sign */
		{ "\xf4\x8f\xbf\xbf", 4, 0x10FFFF },
		{ "\xef\xbb\xbf", 3, 0xFEFF },
		{ "\xc1\xbf", -1, 0xFFFD },
		{ "\xf0\x8f\xbf\xbf", -1, 0xFFFD },	/* overlong */
		{ "\xed\xbf\xbf", -1, 0xFFFD },
		{ "\xf5\x80\x80\x80", -1, 0xFFFD },
		{ "\xc3\x28", -1, 0xFFFD },
		{ "", -1, 0xFFFD },
	};
	uint8_t buf[4];
	uint32_t cp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(smpp_text_utf8_decode(
		    (const uint8_t *)cases[i].in, strlen(cases[i].in), &cp),
		    cases[i].n);
		assert_int_equal(cp, cases[i].cp);
	}
	/* Truncated by len, not by content. */
	assert_int_equal(smpp_text_utf8_decode((const uint8_t *)"\xe2\x82\xac",
	    2, &cp), -1);
	assert_int_equal(smpp_text_utf8_encode(0x1F600, buf), 4);
	assert_memory_equal(buf, "\xf0\x9f\x98\x80", 4);
	assert_int_equal(smpp_text_utf8_encode(0xD800, buf), 3);
	assert_memory_equal(buf, "\xef\xbf\xbd", 3);
	assert_int_equal(smpp_text_utf8_encode(0x110000, buf), 3);
	assert_int_equal(smpp_text_utf8_encode(0x7F, buf), 1);
	assert_int_equal(smpp_text_utf8_encode(0x7FF, buf), 2);
	assert_true(smpp_text_utf8_valid((const uint8_t *)gsm_all_utf8,
	    strlen(gsm_all_utf8)));
	assert_false(smpp_text_utf8_valid((const uint8_t *)"a\xc3", 2));
}

static void
test_text_gsm_from_ucs(void **state)
{
	uint8_t s[2];

	(void)state;
	assert_int_equal(smpp_text_gsm_from_ucs('@', s), 1);
	assert_int_equal(s[0], 0x00);
	assert_int_equal(smpp_text_gsm_from_ucs(0x20AC, s), 2);
	assert_int_equal(s[0], 0x1b);
	assert_int_equal(s[1], 0x65);
	assert_int_equal(smpp_text_gsm_from_ucs('`', s), 0);
	assert_int_equal(smpp_text_gsm_from_ucs(0x00A0, s), 0);
	assert_int_equal(smpp_text_gsm_from_ucs(0x00E7, s), 0);	/* ç */
	assert_int_equal(smpp_text_gsm_from_ucs(0x00C7, s), 1);	/* Ç */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_gsm_round_trip),
		cmocka_unit_test(test_text_decode_table),
		cmocka_unit_test(test_text_decode_capacity),
		cmocka_unit_test(test_text_decode_cap_macro),
		cmocka_unit_test(test_text_dcs_charset),
		cmocka_unit_test(test_text_udh_table),
		cmocka_unit_test(test_text_decode_sm),
		cmocka_unit_test(test_text_encode_gsm_split),
		cmocka_unit_test(test_text_encode_ucs2_split),
		cmocka_unit_test(test_text_encode_edge),
		cmocka_unit_test(test_text_utf8),
		cmocka_unit_test(test_text_gsm_from_ucs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
