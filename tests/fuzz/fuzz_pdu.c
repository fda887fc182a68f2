/*
 * libFuzzer target for smpp_pdu_decode() and smpp_pdu_encode().
 *
 * The input is one framed PDU. Whatever decodes must re-encode; the
 * re-encoding must be the input itself (the codec keeps every byte, so a
 * proxy may forward what it decoded), except for a bare 16-octet response
 * header, whose body the encoder writes out; and encoding the decode of the
 * re-encoding must give the same bytes again. Any breach calls abort().
 *
 * smpp_pdu_peek_dest() must agree with the decode of every submit_sm that
 * decodes.
 *
 * Mutations rarely keep command_length right, so the input is also tried
 * with command_length patched to its size, to reach the body decoders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpp/pdu.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
check_one(const uint8_t *data, size_t size)
{
	static struct smpp_pdu	 a, b;
	uint8_t			*e1, *e2;
	size_t			 cap;
	ssize_t			 n1, n2;

	if (smpp_pdu_decode(&a, data, size) != SMPP_OK) {
		/* The header is still there for the reply. */
		if (size >= SMPP_HEADER_LEN &&
		    (a.command_length != be32(data) ||
		    a.command_id != be32(data + 4) ||
		    a.sequence_number != be32(data + 12)))
			abort();
		return;
	}
	if (a.command_id == SMPP_CMD_SUBMIT_SM) {
		struct smpp_addr d;

		if (!smpp_pdu_peek_dest(data, size, &d) ||
		    d.ton != a.dest.ton || d.npi != a.dest.npi ||
		    strcmp(d.addr, a.dest.addr) != 0)
			abort();
	}
	cap = size + 64;
	if ((e1 = malloc(cap)) == NULL || (e2 = malloc(cap)) == NULL)
		abort();
	n1 = smpp_pdu_encode(&a, e1, cap);
	if (n1 < SMPP_HEADER_LEN)
		abort();
	if ((size_t)n1 == size) {
		if (memcmp(e1, data, size) != 0)
			abort();
	} else if (size != SMPP_HEADER_LEN || !smpp_cmd_is_resp(a.command_id))
		abort();
	if (smpp_pdu_encode(&a, e2, (size_t)n1 - 1) != -1)
		abort();
	if (smpp_pdu_decode(&b, e1, (size_t)n1) != SMPP_OK)
		abort();
	n2 = smpp_pdu_encode(&b, e2, cap);
	if (n2 != n1 || memcmp(e1, e2, (size_t)n1) != 0)
		abort();
	free(e1);
	free(e2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*p;

	check_one(data, size);
	if (size < 4 || size > UINT32_MAX || be32(data) == size)
		return 0;
	if ((p = malloc(size)) == NULL)
		abort();
	memcpy(p, data, size);
	p[0] = (uint8_t)(size >> 24);
	p[1] = (uint8_t)(size >> 16);
	p[2] = (uint8_t)(size >> 8);
	p[3] = (uint8_t)size;
	check_one(p, size);
	free(p);
	return 0;
}
