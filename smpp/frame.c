/*
 * SMPP framing. See frame.h.
 */
#include "smpp/frame.h"

#include "smpp/pdu.h"

uint32_t
smpp_frame_peek_len(const uint8_t *buf)
{
	return (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | (uint32_t)buf[3];
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
