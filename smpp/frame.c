/*
 * SMPP framing. See frame.h.
 */
#include "smpp/frame.h"


uint32_t
smpp_frame_peek_len(const uint8_t *buf)
{
	return (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | (uint32_t)buf[3];
}

void
smpp_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
smpp_frame_header(uint8_t hdr[SMPP_HEADER_LEN], uint32_t body_len,
    uint32_t command_id, uint32_t command_status, uint32_t seq)
{
	smpp_be32_put(hdr, SMPP_HEADER_LEN + body_len);
	smpp_be32_put(hdr + 4, command_id);
	smpp_be32_put(hdr + 8, command_status);
	smpp_be32_put(hdr + 12, seq);
}

ssize_t
smpp_frame_check(const uint8_t *buf, size_t len, uint32_t max_len)
{
	uint32_t	n;

	if (buf == NULL || len < 4)
		return 0;
	n = smpp_frame_peek_len(buf);
	if (n < SMPP_HEADER_LEN || n > max_len)
		return -1;
	if (len < n)
		return 0;
	return (ssize_t)n;
}
