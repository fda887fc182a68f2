/*
 * One framed SMPP connection's I/O, shared by a downstream session and an
 * upstream connection: the frame loop over the input, direct reads and
 * writes on plain TCP, and PDUs queued to the output.
 *
 * Direct writes. A plain TCP bufferevent would write on the next loop
 * turn, after an epoll_ctl to watch for EV_WRITE and an epoll_wait to see
 * it: one extra loop round and two or three system calls per hop, per
 * batch. Instead a direct connection keeps EV_WRITE disabled, and every
 * PDU queued to it activates its flush event once; that event runs in the
 * same loop turn, after the callbacks already active (so one read
 * callback's PDUs go out in one write), and the owner's flush callback
 * hands the output to the socket with pduconn_flush(). Only what the
 * kernel does not take waits for EV_WRITE. TLS connections write through
 * their bufferevent as always.
 *
 * Direct reads. A socket bufferevent asks the kernel how much is readable
 * (FIONREAD) before every read and hands the data over through a deferred
 * callback; a direct connection does one read() into the bufferevent's
 * input buffer from its own read event (pduconn_read()), then runs the
 * frame loop. The bufferevent's own EV_READ stays off.
 *
 * The frame loop (struct pduconn_frames) hands out every whole frame of
 * the input. Frames that lie in one extent of the buffer are handled in
 * place and drained together at the end: one drain per batch instead of a
 * copy-out, a pull-up and a drain per PDU. Nothing may read into or drain
 * the input while a loop is running.
 *
 * Nothing here allocates per PDU. Everything runs on the event loop
 * thread.
 */
#ifndef PROXY_IO_PDUCONN_H
#define PROXY_IO_PDUCONN_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "smpp/frame.h"
#include "smpp/pdu.h"

struct bufferevent;
struct event;
struct event_base;
struct evbuffer;

/* The I/O state of one connection, embedded in its owner. */
struct pduconn {
	struct event_base	*base;		/* borrowed */
	struct bufferevent	*bev;		/* borrowed; NULL between */
	struct event		*flush_ev;	/* owned */
	struct event		*read_ev;	/* owned; direct reads only */
	bool			 is_direct;	/* we write (and read) fd */
	bool			 is_flush_queued;
	bool			 is_reading;	/* read_ev added */
};

/* Owner callbacks for the flush and read events: (fd, what, arg). */
typedef void pduconn_event_fn(evutil_socket_t, short, void *);

/*
 * Set up pc on base, with no connection yet: flush_cb (arg) runs for a
 * queued flush and calls pduconn_flush(). Returns 0, or -1 out of memory.
 */
int	pduconn_init(struct pduconn *pc, struct event_base *base,
	    pduconn_event_fn *flush_cb, void *arg);

/* Take connection bev (borrowed: the owner frees it after
 * pduconn_stop()); is_direct for a plain TCP socket we write. */
void	pduconn_start(struct pduconn *pc, struct bufferevent *bev,
	    bool is_direct);

/*
 * Direct reads of socket fd: read_cb (arg) runs when it is readable,
 * once pduconn_read_enable() turned reading on. Returns 0, or -1 out of
 * memory.
 */
int	pduconn_direct_read(struct pduconn *pc, evutil_socket_t fd,
	    pduconn_event_fn *read_cb, void *arg);

/* The connection is gone: stop reading, forget bev (not freed). */
void	pduconn_stop(struct pduconn *pc);

/* pduconn_stop() and free pc's events. Accepts a zeroed pc. */
void	pduconn_clear(struct pduconn *pc);

/* Bytes waiting in the output. */
size_t	pduconn_out_len(const struct pduconn *pc);

/* Something was queued: have the flush event run once this loop turn
 * (direct connections only). */
void	pduconn_queued(struct pduconn *pc);

/* Write the queued output to the socket now; what it does not take is
 * left to EV_WRITE (direct connections only). */
void	pduconn_flush(struct pduconn *pc);

/* Output written: a direct connection with nothing left gives EV_WRITE
 * back. */
void	pduconn_write_idle(struct pduconn *pc);

/*
 * Queue a PDU: the header (command_length computed) and body (bodylen
 * bytes, may be NULL when 0). Returns 0, or -1 out of memory.
 */
int	pduconn_write(struct pduconn *pc, uint32_t cmd, uint32_t status,
	    uint32_t seq, const void *body, size_t bodylen);

/*
 * Queue the whole PDU raw (len bytes) with its sequence_number replaced
 * by seq, copied once into one extent of the output: one buffer
 * operation, never half a frame. Returns 0, or -1 out of memory (nothing
 * queued).
 */
int	pduconn_relay(struct pduconn *pc, const uint8_t *raw, size_t len,
	    uint32_t seq);

/* Direct reads: start or stop watching the socket. */
void	pduconn_read_enable(struct pduconn *pc, bool on);

/*
 * Direct read: one read() of at most max bytes from fd into the input.
 * Returns the bytes read, 0 at end of file, -1 on a read error (*err
 * set; EAGAIN, EWOULDBLOCK and EINTR mean "nothing now"), or -2 out of
 * memory.
 */
ssize_t	pduconn_read(struct pduconn *pc, evutil_socket_t fd, size_t max,
	    int *err);

/* The frame loop over one input buffer. */
struct pduconn_frames {
	struct evbuffer		*in;		/* borrowed */
	const uint8_t		*base;		/* contiguous extent in hand */
	size_t			 cont;		/* its length */
	size_t			 done;		/* handled, not yet drained */
	uint8_t			 hdr[SMPP_HEADER_LEN];	/* the last header */
	size_t			 hl;		/* bytes of it read */
};

enum pduconn_next {
	PDUCONN_FRAME = 0,	/* a whole frame */
	PDUCONN_MORE,		/* none yet: wait for more input */
	PDUCONN_BAD_LENGTH,	/* framing lost (f->hdr has the header) */
	PDUCONN_NOMEM,		/* the frame could not be made contiguous */
};

/* Start a loop over in (borrowed). */
void	pduconn_frames_begin(struct pduconn_frames *f, struct evbuffer *in);

/*
 * The next whole frame, of at most max_len bytes: PDUCONN_FRAME with
 * *frame and *len set (a view valid until the loop drains or ends), or
 * another result. Call pduconn_frames_take() once the frame is handled,
 * else the same frame comes back next time.
 */
enum pduconn_next pduconn_frames_next(struct pduconn_frames *f,
	    uint32_t max_len, const uint8_t **frame, uint32_t *len);

/* The frame of len bytes just returned was handled. Inline: once per
 * PDU on the forward path. */
static inline void
pduconn_frames_take(struct pduconn_frames *f, uint32_t len)
{
	f->done += len;
}

/* Bytes of input in hand after the frame of len bytes just returned, in
 * the same extent (to read ahead). */
static inline size_t
pduconn_frames_ahead(const struct pduconn_frames *f, uint32_t len)
{
	return f->cont - f->done - len;
}

/* The sequence_number of the last header read (0 if shorter than a
 * header): what a generic_nack for a bad frame answers. */
uint32_t pduconn_frames_seq(const struct pduconn_frames *f);

/* Drain what was handled (call while the input is still the owner's). */
void	pduconn_frames_end(struct pduconn_frames *f);

#endif /* PROXY_IO_PDUCONN_H */
