/*
 * libFuzzer target for smpp/text. The first byte is data_coding, the rest
 * a short_message. Decode it packed and unpacked, with and without UDHI;
 * the output must be valid, NUL-free UTF-8 within SMPP_TEXT_DECODE_CAP.
 * Then encode each decoded text for sending: it must succeed (the text is
 * short enough for 10 parts), and decoding the parts back must give the
 * same text.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 300 input octets decode to at most 343 characters: 10 parts hold 670
 * UCS-2 units, so the re-encode must not run out of parts. */
#define FUZZ_TEXT_MAX	300

static void
fuzz_round_trip(const char *text, size_t len)
{
	static char back[SMPP_TEXT_DECODE_CAP(FUZZ_TEXT_MAX * 4)];
	struct smpp_text_parts p;
	struct smpp_udh udh;
	size_t i, used = 0;
	ssize_t n;

	if (!smpp_text_utf8_valid((const uint8_t *)text, len))
		abort();
	if (strlen(text) != len)
		abort();	/* decoders never emit NUL */
	if (smpp_text_encode(text, len, 0x42, &p) != 0)
		abort();
	if (p.count < 1 || p.count > SMPP_TEXT_PARTS_MAX)
		abort();
	for (i = 0; i < p.count; i++) {
		const struct smpp_text_part *pt = &p.parts[i];

		if (pt->len > SMPP_TEXT_PART_MAX ||
		    (p.count > 1) != pt->has_udh)
			abort();
		n = smpp_text_decode_sm(p.data_coding, pt->has_udh ? 0x40 : 0,
		    pt->bytes, pt->len, false, back + used,
		    sizeof(back) - used, &udh);
		if (n < 0)
			abort();
		if (pt->has_udh && (!udh.is_concat || udh.ref != 0x42 ||
		    udh.seq != i + 1 || udh.total != p.count))
			abort();
		used += (size_t)n;
	}
	if (used != len || memcmp(back, text, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[SMPP_TEXT_DECODE_CAP(FUZZ_TEXT_MAX)];
	static const bool packed[] = { false, true };
	struct smpp_udh udh;
	uint8_t dcs;
	ssize_t n;
	size_t k;

	if (size < 1 || size - 1 > FUZZ_TEXT_MAX)
		return 0;
	dcs = data[0];
	data++;
	size--;

	for (k = 0; k < 2; k++) {
		n = smpp_text_decode(dcs, data, size, packed[k], out,
		    SMPP_TEXT_DECODE_CAP(size));
		if (n >= 0)
			fuzz_round_trip(out, (size_t)n);
		n = smpp_text_decode_sm(dcs, 0x40, data, size, packed[k], out,
		    SMPP_TEXT_DECODE_CAP(size), &udh);
		if (n >= 0) {
			if (udh.header_len < 1 || udh.header_len > size)
				abort();
			if (udh.is_concat && (udh.total < 1 || udh.seq < 1 ||
			    udh.seq > udh.total))
				abort();
			fuzz_round_trip(out, (size_t)n);
		}
	}
	/* A too-small buffer fails cleanly. */
	if (size > 0)
		(void)smpp_text_decode(dcs, data, size, false, out, 2);

	/* The raw bytes as UTF-8: encode must agree with validation. */
	if (smpp_text_encode((const char *)data, size, 1,
	    &(struct smpp_text_parts){ 0 }) == 0) {
		if (!smpp_text_utf8_valid(data, size))
			abort();
	}
	return 0;
}
