/*
 * proxy/io/pduconn: the frame loop hands out whole frames in order,
 * across the buffer's extents, waits for the rest of a partial frame,
 * reports a bad length with the header for the nack; PDUs queued to the
 * output are framed as SMPP says.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "proxy/io/pduconn.h"
#include "smpp/frame.h"
#include "smpp/pdu.h"

/* An enquire_link of sequence number seq, with extra body bytes. */
static size_t
frame_make(uint8_t *b, uint32_t seq, size_t extra)
{
	uint32_t	len = (uint32_t)(SMPP_HEADER_LEN + extra);

	memset(b, 0xab, len);
	b[0] = (uint8_t)(len >> 24);
	b[1] = (uint8_t)(len >> 16);
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[4] = 0;
	b[5] = 0;
	b[6] = 0;
	b[7] = 0x15;
	memset(b + 8, 0, 4);
	b[12] = (uint8_t)(seq >> 24);
	b[13] = (uint8_t)(seq >> 16);
	b[14] = (uint8_t)(seq >> 8);
	b[15] = (uint8_t)seq;
	return len;
}

static void
test_frames_in_order_across_extents(void **state)
{
	struct evbuffer		*in;
	struct pduconn_frames	 f;
	uint8_t			 b[4096];
	const uint8_t		*frame;
	uint32_t		 len, seq;
	size_t			 n;

	(void)state;
	assert_non_null(in = evbuffer_new());
	/* Each frame added on its own: several extents, one frame split
	 * over two of them. */
	for (seq = 1; seq <= 20; seq++) {
		n = frame_make(b, seq, seq * 37);
		if (seq == 7) {
			evbuffer_add(in, b, 5);
			evbuffer_add(in, b + 5, n - 5);
		} else
			evbuffer_add(in, b, n);
	}
	pduconn_frames_begin(&f, in);
	for (seq = 1; seq <= 20; seq++) {
		assert_int_equal(pduconn_frames_next(&f, SMPP_MAX_PDU_LEN,
		    &frame, &len), PDUCONN_FRAME);
		assert_int_equal(len, SMPP_HEADER_LEN + seq * 37);
		assert_int_equal(smpp_frame_peek_len(frame + 12), seq);
		assert_true(pduconn_frames_ahead(&f, len) <
		    evbuffer_get_length(in));
		pduconn_frames_take(&f, len);
	}
	assert_int_equal(pduconn_frames_next(&f, SMPP_MAX_PDU_LEN, &frame,
	    &len), PDUCONN_MORE);
	pduconn_frames_end(&f);
	assert_int_equal(evbuffer_get_length(in), 0);
	evbuffer_free(in);
}

static void
test_frames_partial_and_untaken(void **state)
{
	struct evbuffer		*in;
	struct pduconn_frames	 f;
	uint8_t			 b[256];
	const uint8_t		*frame;
	uint32_t		 len;
	size_t			 n;

	(void)state;
	assert_non_null(in = evbuffer_new());
	n = frame_make(b, 9, 40);
	evbuffer_add(in, b, 3);
	pduconn_frames_begin(&f, in);
	assert_int_equal(pduconn_frames_next(&f, SMPP_MAX_PDU_LEN, &frame,
	    &len), PDUCONN_MORE);
	evbuffer_add(in, b + 3, 20);
	assert_int_equal(pduconn_frames_next(&f, SMPP_MAX_PDU_LEN, &frame,
	    &len), PDUCONN_MORE);
	evbuffer_add(in, b + 23, n - 23);
	assert_int_equal(pduconn_frames_next(&f, SMPP_MAX_PDU_LEN, &frame,
	    &len), PDUCONN_FRAME);
	/* Not taken (the caller waits for window space): kept. */
	pduconn_frames_end(&f);
	assert_int_equal(evbuffer_get_length(in), n);
	pduconn_frames_begin(&f, in);
	assert_int_equal(pduconn_frames_next(&f, SMPP_MAX_PDU_LEN, &frame,
	    &len), PDUCONN_FRAME);
	assert_memory_equal(frame, b, n);
	pduconn_frames_take(&f, len);
	pduconn_frames_end(&f);
	assert_int_equal(evbuffer_get_length(in), 0);
	evbuffer_free(in);
}

static void
test_frames_bad_length(void **state)
{
	struct evbuffer		*in;
	struct pduconn_frames	 f;
	uint8_t			 b[256];
	const uint8_t		*frame;
	uint32_t		 len;

	(void)state;
	assert_non_null(in = evbuffer_new());
	(void)frame_make(b, 0x01020304, 100);
	evbuffer_add(in, b, SMPP_HEADER_LEN + 100);
	pduconn_frames_begin(&f, in);
	/* Longer than allowed before bind. */
	assert_int_equal(pduconn_frames_next(&f, 64, &frame, &len),
	    PDUCONN_BAD_LENGTH);
	assert_int_equal(pduconn_frames_seq(&f), 0x01020304);
	evbuffer_free(in);

	/* Shorter than a header: no sequence number to answer with. */
	assert_non_null(in = evbuffer_new());
	b[0] = 0;
	b[1] = 0;
	b[2] = 0;
	b[3] = 8;
	evbuffer_add(in, b, 8);
	pduconn_frames_begin(&f, in);
	assert_int_equal(pduconn_frames_next(&f, SMPP_MAX_PDU_LEN, &frame,
	    &len), PDUCONN_BAD_LENGTH);
	assert_int_equal(pduconn_frames_seq(&f), 0);
	evbuffer_free(in);
}

static void
test_write_and_relay(void **state)
{
	struct event_base	*base;
	struct bufferevent	*bev;
	struct pduconn		 pc;
	struct evbuffer		*out;
	uint8_t			 b[64], got[64];
	static const char	 id[] = "abc";

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(bev = bufferevent_socket_new(base, -1, 0));
	assert_int_equal(pduconn_init(&pc, base, NULL, NULL), 0);
	pduconn_start(&pc, bev, false);
	assert_int_equal(pduconn_write(&pc, 0x80000004, 0x45, 77, id,
	    sizeof(id)), 0);
	out = bufferevent_get_output(bev);
	/* The socket bufferevent keeps the front frozen: we read it. */
	evbuffer_unfreeze(out, 1);
	assert_int_equal(pduconn_out_len(&pc), SMPP_HEADER_LEN + sizeof(id));
	evbuffer_remove(out, got, SMPP_HEADER_LEN + sizeof(id));
	assert_int_equal(smpp_frame_peek_len(got), SMPP_HEADER_LEN +
	    sizeof(id));
	assert_int_equal(smpp_frame_peek_len(got + 4), 0x80000004);
	assert_int_equal(smpp_frame_peek_len(got + 8), 0x45);
	assert_int_equal(smpp_frame_peek_len(got + 12), 77);
	assert_string_equal((const char *)got + 16, id);

	(void)frame_make(b, 5, 10);
	assert_int_equal(pduconn_relay(&pc, b, SMPP_HEADER_LEN + 10, 99), 0);
	evbuffer_remove(out, got, SMPP_HEADER_LEN + 10);
	assert_int_equal(smpp_frame_peek_len(got + 12), 99);
	assert_memory_equal(got, b, 12);
	/* The caller's bytes are not changed. */
	assert_int_equal(smpp_frame_peek_len(b + 12), 5);

	pduconn_clear(&pc);
	bufferevent_free(bev);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_in_order_across_extents),
		cmocka_unit_test(test_frames_partial_and_untaken),
		cmocka_unit_test(test_frames_bad_length),
		cmocka_unit_test(test_write_and_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
