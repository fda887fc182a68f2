/*
 * smpp/frame: finding whole PDUs in a TCP byte stream (§3.2).
 *
 * A stream of several PDUs is fed in two pieces split at every offset, in
 * three pieces split at every pair of offsets, and byte by byte; each time
 * the same PDUs must come out, whole and in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smpp/frame.h"
#include "smpp/pdu.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const uint8_t enquire_link[] = {
	0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x15,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
};

static const uint8_t submit_sm_resp[] = {
	0x00, 0x00, 0x00, 0x17, 0x80, 0x00, 0x00, 0x04,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
	'a', '1', 'b', '2', 'c', '3', 0x00,
};

static const uint8_t submit_sm[] = {
	0x00, 0x00, 0x00, 0x4b, 0x00, 0x00, 0x00, 0x04,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
	0x00,					/* service_type */
	0x05, 0x00, 'A', 'c', 'm', 'e', 0x00,	/* source */
	0x01, 0x01, '1', '5', '5', '5', '1', '2', '3', '4', '5', '6', '7',
	0x00,					/* dest */
	0x00, 0x00, 0x00,			/* esm_class, pid, priority */
	0x00,					/* schedule_delivery_time */
	'0', '0', '0', '0', '0', '1', '0', '0', '0', '0', '0', '0', '0', '0',
	'0', 'R', 0x00,				/* validity_period */
	0x01, 0x00, 0x00, 0x00,			/* rd, replace, dc, default */
	0x0b, 'H', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd',
};

struct piece {
	const uint8_t	*bytes;
	size_t		 len;
};

static const struct piece stream_pdus[] = {
	{ enquire_link, sizeof(enquire_link) },
	{ submit_sm, sizeof(submit_sm) },
	{ submit_sm_resp, sizeof(submit_sm_resp) },
	{ enquire_link, sizeof(enquire_link) },
	{ submit_sm, sizeof(submit_sm) },
};

/* A reassembly buffer like the proxy's input evbuffer. */
struct reader {
	uint8_t		buf[1024];
	size_t		len;
	size_t		npdus;		/* whole PDUs taken out so far */
	bool		is_lost;	/* framing lost */
};

/* Append len bytes and take out every whole PDU, checking each against
 * the expected stream. */
static void
reader_feed(struct reader *r, const uint8_t *p, size_t len)
{
	struct smpp_pdu	pdu;
	ssize_t		n;

	assert_true(r->len + len <= sizeof(r->buf));
	memcpy(r->buf + r->len, p, len);
	r->len += len;
	while ((n = smpp_frame_check(r->buf, r->len,
	    SMPP_MAX_PDU_LEN)) > 0) {
		assert_true(r->npdus < NELEM(stream_pdus));
		assert_int_equal((size_t)n, stream_pdus[r->npdus].len);
		assert_memory_equal(r->buf, stream_pdus[r->npdus].bytes,
		    (size_t)n);
		assert_int_equal(smpp_pdu_decode(&pdu, r->buf, (size_t)n),
		    SMPP_OK);
		memmove(r->buf, r->buf + n, r->len - (size_t)n);
		r->len -= (size_t)n;
		r->npdus++;
	}
	if (n < 0)
		r->is_lost = true;
}

static size_t
make_stream(uint8_t *s, size_t cap)
{
	size_t	i, n = 0;

	for (i = 0; i < NELEM(stream_pdus); i++) {
		assert_true(n + stream_pdus[i].len <= cap);
		memcpy(s + n, stream_pdus[i].bytes, stream_pdus[i].len);
		n += stream_pdus[i].len;
	}
	return n;
}

static void
reader_done(const struct reader *r)
{
	assert_false(r->is_lost);
	assert_int_equal(r->npdus, NELEM(stream_pdus));
	assert_int_equal(r->len, 0);
}

/* One read holding the whole stream; two reads split at every offset. */
static void
test_frame_split_everywhere(void **state)
{
	struct reader	r;
	uint8_t		s[512];
	size_t		n, cut;

	(void)state;
	n = make_stream(s, sizeof(s));
	for (cut = 0; cut <= n; cut++) {
		memset(&r, 0, sizeof(r));
		reader_feed(&r, s, cut);
		reader_feed(&r, s + cut, n - cut);
		reader_done(&r);
	}
}

/* Three reads, split at every pair of offsets. */
static void
test_frame_split_twice(void **state)
{
	struct reader	r;
	uint8_t		s[512];
	size_t		n, a, b;

	(void)state;
	n = make_stream(s, sizeof(s));
	for (a = 0; a <= n; a++)
		for (b = a; b <= n; b++) {
			memset(&r, 0, sizeof(r));
			reader_feed(&r, s, a);
			reader_feed(&r, s + a, b - a);
			reader_feed(&r, s + b, n - b);
			reader_done(&r);
		}
}

static void
test_frame_byte_by_byte(void **state)
{
	struct reader	r;
	uint8_t		s[512];
	size_t		n, i;

	(void)state;
	n = make_stream(s, sizeof(s));
	memset(&r, 0, sizeof(r));
	for (i = 0; i < n; i++)
		reader_feed(&r, s + i, 1);
	reader_done(&r);
}

static void
test_frame_need_more(void **state)
{
	(void)state;
	assert_int_equal(smpp_frame_check(NULL, 0, SMPP_MAX_PDU_LEN), 0);
	assert_int_equal(smpp_frame_check(submit_sm, 0, SMPP_MAX_PDU_LEN), 0);
	assert_int_equal(smpp_frame_check(submit_sm, 3, SMPP_MAX_PDU_LEN), 0);
	assert_int_equal(smpp_frame_check(submit_sm, 4, SMPP_MAX_PDU_LEN), 0);
	assert_int_equal(smpp_frame_check(submit_sm, sizeof(submit_sm) - 1,
	    SMPP_MAX_PDU_LEN), 0);
	assert_int_equal(smpp_frame_check(submit_sm, sizeof(submit_sm),
	    SMPP_MAX_PDU_LEN), sizeof(submit_sm));
	/* Bytes of the next PDU do not matter. */
	assert_int_equal(smpp_frame_check(enquire_link, 4, 16), 0);
	assert_int_equal(smpp_frame_check(submit_sm, sizeof(submit_sm),
	    SMPP_MAX_PDU_LEN_OPEN), sizeof(submit_sm));
}

/* command_length below the header or above the cap: framing is lost,
 * reported as soon as the 4 length bytes are in. */
static void
test_frame_bad_length(void **state)
{
	static const uint8_t zero[4] = { 0, 0, 0, 0 };
	static const uint8_t fifteen[4] = { 0, 0, 0, 15 };
	static const uint8_t sixteen[4] = { 0, 0, 0, 16 };
	static const uint8_t big[4] = { 0x00, 0x01, 0x00, 0x01 };
	static const uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t open_max[4] = { 0x00, 0x00, 0x04, 0x00 };
	static const uint8_t open_over[4] = { 0x00, 0x00, 0x04, 0x01 };

	(void)state;
	assert_int_equal(smpp_frame_check(zero, 4, SMPP_MAX_PDU_LEN), -1);
	assert_int_equal(smpp_frame_check(fifteen, 4, SMPP_MAX_PDU_LEN), -1);
	assert_int_equal(smpp_frame_check(sixteen, 4, SMPP_MAX_PDU_LEN), 0);
	assert_int_equal(smpp_frame_check(big, 4, SMPP_MAX_PDU_LEN), -1);
	assert_int_equal(smpp_frame_check(huge, 4, SMPP_MAX_PDU_LEN), -1);
	assert_int_equal(smpp_frame_check(huge, 4, UINT32_MAX), 0);
	assert_int_equal(smpp_frame_check(open_max, 4,
	    SMPP_MAX_PDU_LEN_OPEN), 0);
	assert_int_equal(smpp_frame_check(open_over, 4,
	    SMPP_MAX_PDU_LEN_OPEN), -1);
	assert_int_equal(smpp_frame_check(open_over, 4, SMPP_MAX_PDU_LEN), 0);
	assert_int_equal(smpp_frame_check(zero, 3, SMPP_MAX_PDU_LEN), 0);
}

static void
test_frame_peek_len(void **state)
{
	static const uint8_t b[4] = { 0x12, 0x34, 0x56, 0x78 };

	(void)state;
	assert_int_equal(smpp_frame_peek_len(b), 0x12345678u);
	assert_int_equal(smpp_frame_peek_len(submit_sm), sizeof(submit_sm));
}

/* A header written by smpp_frame_header() is the spec's byte layout
 * (enquire_link_resp, §4.11.2: 0x00000010 0x80000015 0 seq). */
static void
test_frame_header(void **state)
{
	static const uint8_t want[16] = {
		0x00, 0x00, 0x00, 0x10, 0x80, 0x00, 0x00, 0x15,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,
	};
	uint8_t	 hdr[16];

	(void)state;
	smpp_frame_header(hdr, 0, 0x80000015u, 0, 0x102);
	assert_memory_equal(hdr, want, sizeof(want));
	smpp_frame_header(hdr, 0x20, 0x00000004u, 0x401, 0xfffffffeu);
	assert_int_equal(smpp_frame_peek_len(hdr), 0x30);
	assert_int_equal(smpp_frame_peek_len(hdr + 8), 0x401);
	assert_int_equal(smpp_frame_peek_len(hdr + 12), 0xfffffffeu);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_split_everywhere),
		cmocka_unit_test(test_frame_split_twice),
		cmocka_unit_test(test_frame_byte_by_byte),
		cmocka_unit_test(test_frame_need_more),
		cmocka_unit_test(test_frame_bad_length),
		cmocka_unit_test(test_frame_peek_len),
		cmocka_unit_test(test_frame_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
