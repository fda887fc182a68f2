/*
 * SMPP v3.4 framing: find whole PDUs in a byte stream (§3.2: every PDU
 * starts with its 4-octet big-endian command_length, header included).
 *
 * Pure library: no allocation, no I/O. The caller owns the buffer.
 */
#ifndef SMPP_FRAME_H
#define SMPP_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* command_length, command_id, command_status, sequence_number (§3.2). */
#define SMPP_HEADER_LEN		16

/*
 * Look at the start of buf (len bytes received so far) for one PDU.
 * Returns the PDU's length (> 0) when the whole PDU is in buf, 0 when more
 * bytes are needed (including len < 4), or -1 when command_length is below
 * the 16-octet header or above max_len: framing is lost and the connection
 * should be closed. A bad length is reported as soon as its 4 bytes are in.
 */
ssize_t smpp_frame_check(const uint8_t *buf, size_t len, uint32_t max_len);

/*
 * The command_length at buf, which must hold at least 4 bytes.
 */
uint32_t smpp_frame_peek_len(const uint8_t *buf);

/* Write v at p (4 bytes) big-endian, as every SMPP integer is sent. */
void smpp_be32_put(uint8_t *p, uint32_t v);

/*
 * Write a PDU header (§3.2: command_length, command_id, command_status,
 * sequence_number, each a 4-octet big-endian integer) into hdr.
 * command_length is SMPP_HEADER_LEN + body_len.
 */
void smpp_frame_header(uint8_t hdr[SMPP_HEADER_LEN], uint32_t body_len,
    uint32_t command_id, uint32_t command_status, uint32_t seq);

#endif /* SMPP_FRAME_H */
