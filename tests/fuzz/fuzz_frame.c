/*
 * libFuzzer target for smpp_frame_check().
 *
 * Input: one control octet (bit 0 picks the pre-bind or the bound size
 * cap), one seed octet for the read sizes, then the byte stream. The stream
 * is framed once in a single read (the reference), then fed in reads of
 * pseudo-random sizes through a reassembly buffer as the proxy does: both
 * must yield the same frames, and the same verdict (framing lost, or
 * bytes left waiting). Every frame is decoded too. Any breach calls
 * abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/frame.h"
#include "smpp/pdu.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct frames {
	size_t	 off[4096];	/* start of each frame in the stream */
	size_t	 len[4096];
	size_t	 n;
	size_t	 used;		/* bytes consumed by frames */
	bool	 is_lost;
};

static void
frame_seen(struct frames *f, size_t off, ssize_t n, uint32_t max_len)
{
	if (n < SMPP_HEADER_LEN || (size_t)n > max_len || f->n >= 4096)
		abort();
	f->off[f->n] = off;
	f->len[f->n] = (size_t)n;
	f->n++;
	f->used += (size_t)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frames	 ref, got;
	static struct smpp_pdu	 pdu;
	const uint8_t		*s;
	uint8_t			*buf;
	uint32_t		 max_len, rnd;
	size_t			 slen, fed, have, chunk, i;
	ssize_t			 n;

	if (size < 2)
		return 0;
	max_len = (data[0] & 1) ? SMPP_MAX_PDU_LEN_OPEN : SMPP_MAX_PDU_LEN;
	rnd = data[1] + 1u;
	s = data + 2;
	slen = size - 2;

	/* Reference: the whole stream in one read. */
	memset(&ref, 0, sizeof(ref));
	have = 0;
	while ((n = smpp_frame_check(s + have, slen - have, max_len)) > 0) {
		frame_seen(&ref, have, n, max_len);
		(void)smpp_pdu_decode(&pdu, s + have, (size_t)n);
		if (pdu.command_length != (uint32_t)n)
			abort();
		have += (size_t)n;
	}
	ref.is_lost = n < 0;

	/* The same stream in reads of 1..64 bytes. */
	memset(&got, 0, sizeof(got));
	if ((buf = malloc(slen + 1)) == NULL)
		abort();
	have = 0;
	for (fed = 0; fed < slen && !got.is_lost; fed += chunk) {
		rnd = rnd * 1103515245u + 12345u;
		chunk = 1 + (rnd >> 16) % 64;
		if (chunk > slen - fed)
			chunk = slen - fed;
		memcpy(buf + have, s + fed, chunk);
		have += chunk;
		while ((n = smpp_frame_check(buf, have, max_len)) > 0) {
			frame_seen(&got, got.used, n, max_len);
			if (memcmp(buf, s + got.off[got.n - 1],
			    (size_t)n) != 0)
				abort();
			memmove(buf, buf + n, have - (size_t)n);
			have -= (size_t)n;
		}
		if (n < 0)
			got.is_lost = true;
	}
	free(buf);

	if (got.n != ref.n || got.is_lost != ref.is_lost ||
	    got.used != ref.used)
		abort();
	for (i = 0; i < ref.n; i++)
		if (got.len[i] != ref.len[i] || got.off[i] != ref.off[i])
			abort();
	/* Without a framing error, what is left is a partial PDU. */
	if (!ref.is_lost && smpp_frame_check(s + ref.used, slen - ref.used,
	    max_len) != 0)
		abort();
	return 0;
}
