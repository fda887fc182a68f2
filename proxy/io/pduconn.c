/*
 * One framed SMPP connection's I/O: direct reads and writes, PDUs queued
 * to the output, and the frame loop. See pduconn.h.
 */
#include "proxy/io/pduconn.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "smpp/frame.h"
#include "smpp/pdu.h"

int
pduconn_init(struct pduconn *pc, struct event_base *base,
    pduconn_event_fn *flush_cb, void *arg)
{
	memset(pc, 0, sizeof(*pc));
	pc->base = base;
	if ((pc->flush_ev = event_new(base, -1, 0, flush_cb, arg)) == NULL)
		return -1;
	return 0;
}

void
pduconn_start(struct pduconn *pc, struct bufferevent *bev, bool is_direct)
{
	pc->bev = bev;
	pc->is_direct = is_direct;
}

int
pduconn_direct_read(struct pduconn *pc, evutil_socket_t fd,
    pduconn_event_fn *read_cb, void *arg)
{
	if (pc->read_ev != NULL)
		event_free(pc->read_ev);
	pc->is_reading = false;
	pc->read_ev = event_new(pc->base, fd, EV_READ | EV_PERSIST, read_cb,
	    arg);
	return pc->read_ev != NULL ? 0 : -1;
}

void
pduconn_stop(struct pduconn *pc)
{
	if (pc->read_ev != NULL)
		event_free(pc->read_ev);
	pc->read_ev = NULL;
	pc->is_reading = false;
	pc->bev = NULL;
}

void
pduconn_clear(struct pduconn *pc)
{
	pduconn_stop(pc);
	if (pc->flush_ev != NULL)
		event_free(pc->flush_ev);
	pc->flush_ev = NULL;
	pc->is_flush_queued = false;
}

size_t
pduconn_out_len(const struct pduconn *pc)
{
	return evbuffer_get_length(bufferevent_get_output(pc->bev));
}

void
pduconn_queued(struct pduconn *pc)
{
	if (!pc->is_direct || pc->is_flush_queued || pc->flush_ev == NULL)
		return;
	pc->is_flush_queued = true;
	event_active(pc->flush_ev, EV_TIMEOUT, 0);
}

void
pduconn_flush(struct pduconn *pc)
{
	struct evbuffer	*out;
	evutil_socket_t	 fd;
	int		 n;

	if (!pc->is_direct || pc->bev == NULL)
		return;
	out = bufferevent_get_output(pc->bev);
	if (evbuffer_get_length(out) == 0 ||
	    (fd = bufferevent_getfd(pc->bev)) < 0)
		return;
	/* A socket bufferevent freezes the front of its output while it
	 * is not writing; we are its writer now. */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
	/* Short write or error: the bufferevent finishes the job, and
	 * reports an error through the owner's event callback as it always
	 * did. */
	if (n < 0 || evbuffer_get_length(out) > 0)
		bufferevent_enable(pc->bev, EV_WRITE);
}

void
pduconn_write_idle(struct pduconn *pc)
{
	if (pc->is_direct && pduconn_out_len(pc) == 0 &&
	    (bufferevent_get_enabled(pc->bev) & EV_WRITE) != 0)
		bufferevent_disable(pc->bev, EV_WRITE);
}

int
pduconn_write(struct pduconn *pc, uint32_t cmd, uint32_t status,
    uint32_t seq, const void *body, size_t bodylen)
{
	uint8_t		 hdr[SMPP_HEADER_LEN];
	struct evbuffer	*out = bufferevent_get_output(pc->bev);
	int		 rc = 0;

	smpp_frame_header(hdr, (uint32_t)bodylen, cmd, status, seq);
	if (evbuffer_add(out, hdr, sizeof(hdr)) == -1 ||
	    (bodylen > 0 && evbuffer_add(out, body, bodylen) == -1))
		rc = -1;
	pduconn_queued(pc);
	return rc;
}

int
pduconn_relay(struct pduconn *pc, const uint8_t *raw, size_t len,
    uint32_t seq)
{
	struct evbuffer		*out = bufferevent_get_output(pc->bev);
	struct evbuffer_iovec	 v;

	if (evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) != 1 ||
	    v.iov_len < len)
		return -1;
	memcpy(v.iov_base, raw, len);
	smpp_pdu_set_seq(v.iov_base, seq);
	v.iov_len = len;
	(void)evbuffer_commit_space(out, &v, 1);
	pduconn_queued(pc);
	return 0;
}

void
pduconn_read_enable(struct pduconn *pc, bool on)
{
	if (!pc->is_direct) {
		if (on)
			bufferevent_enable(pc->bev, EV_READ);
		else
			bufferevent_disable(pc->bev, EV_READ);
		return;
	}
	if (on == pc->is_reading || pc->read_ev == NULL)
		return;
	pc->is_reading = on;
	if (on)
		event_add(pc->read_ev, NULL);
	else
		event_del(pc->read_ev);
}

ssize_t
pduconn_read(struct pduconn *pc, evutil_socket_t fd, size_t max, int *err)
{
	struct evbuffer		*in = bufferevent_get_input(pc->bev);
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	/* A socket bufferevent freezes the end of its input while it is
	 * not reading; we are its reader now. */
	evbuffer_unfreeze(in, 0);
	if (evbuffer_reserve_space(in, (ev_ssize_t)max, &v, 1) != 1) {
		evbuffer_freeze(in, 0);
		return -2;
	}
	n = read(fd, v.iov_base, v.iov_len);
	*err = errno;
	if (n > 0) {
		v.iov_len = (size_t)n;
		(void)evbuffer_commit_space(in, &v, 1);
	}
	evbuffer_freeze(in, 0);
	return n < 0 ? -1 : n;
}

void
pduconn_frames_begin(struct pduconn_frames *f, struct evbuffer *in)
{
	f->in = in;
	f->base = NULL;
	f->cont = 0;
	f->done = 0;
	f->hl = 0;
}

enum pduconn_next
pduconn_frames_next(struct pduconn_frames *f, uint32_t max_len,
    const uint8_t **frame, uint32_t *len)
{
	size_t		 avail;
	uint32_t	 flen;
	const uint8_t	*p;

	avail = evbuffer_get_length(f->in) - f->done;
	if (avail < 4)
		return PDUCONN_MORE;
	f->hl = avail < SMPP_HEADER_LEN ? avail : SMPP_HEADER_LEN;
	if (f->done + f->hl <= f->cont)
		memcpy(f->hdr, f->base + f->done, f->hl);
	else {
		evbuffer_drain(f->in, f->done);
		f->done = f->cont = 0;
		evbuffer_copyout(f->in, f->hdr, f->hl);
	}
	if (smpp_frame_check(f->hdr, f->hl, max_len) < 0)
		return PDUCONN_BAD_LENGTH;
	flen = smpp_frame_peek_len(f->hdr);
	if (avail < flen)
		return PDUCONN_MORE;
	if (f->done + flen <= f->cont)
		p = f->base + f->done;
	else {
		/* Starts a new extent: make the frame contiguous, and take
		 * the rest of that extent in place too. */
		evbuffer_drain(f->in, f->done);
		f->done = 0;
		if ((p = evbuffer_pullup(f->in, flen)) == NULL)
			return PDUCONN_NOMEM;
		f->base = p;
		f->cont = evbuffer_get_contiguous_space(f->in);
	}
	*frame = p;
	*len = flen;
	return PDUCONN_FRAME;
}

uint32_t
pduconn_frames_seq(const struct pduconn_frames *f)
{
	/* The header's fourth field, read as the codec reads the first. */
	return f->hl >= SMPP_HEADER_LEN ? smpp_frame_peek_len(f->hdr + 12) :
	    0;
}

void
pduconn_frames_end(struct pduconn_frames *f)
{
	if (f->done > 0)
		evbuffer_drain(f->in, f->done);
	f->done = 0;
}
