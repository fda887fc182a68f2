/*
 * store/codec: values are serialised field by field, integers big-endian,
 * strings as a 16-bit length and bytes (no NUL), behind a version byte.
 * Decoders distrust every byte (a damaged record is an error, never an
 * overflow) and accept trailing fields they do not know, so a later
 * version can append fields without breaking an older reader.
 */
#include "store/codec_int.h"

#include <string.h>

#define STORE_REC_V1	1
/* An audit record with a reason other than an opt-out (SPEC §9). */
#define STORE_AUDIT_V2	2

/* ------------------------------------------------------------------ */
/* Writer.                                                             */

static uint8_t *
store_w_room(struct store_wbuf *w, size_t n)
{
	uint8_t *p;

	if (w->is_bad || w->cap - w->len < n) {
		w->is_bad = true;
		return NULL;
	}
	p = w->p + w->len;
	w->len += n;
	return p;
}

void
store_w_u8(struct store_wbuf *w, uint8_t v)
{
	uint8_t *p = store_w_room(w, 1);

	if (p != NULL)
		p[0] = v;
}

void
store_w_u32(struct store_wbuf *w, uint32_t v)
{
	uint8_t *p = store_w_room(w, 4);

	if (p == NULL)
		return;
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
store_w_u64(struct store_wbuf *w, uint64_t v)
{
	uint8_t *p = store_w_room(w, 8);

	if (p != NULL)
		store_be64_put(p, v);
}

void
store_w_i64(struct store_wbuf *w, int64_t v)
{
	store_w_u64(w, (uint64_t)v);
}

void
store_w_bytes(struct store_wbuf *w, const uint8_t *b, size_t n)
{
	uint8_t *p = store_w_room(w, n);

	if (p != NULL && n > 0)
		memcpy(p, b, n);
}

/* A string field of an array of cap bytes: at most cap - 1 bytes. */
void
store_w_str(struct store_wbuf *w, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap - 1);
	uint8_t *p = store_w_room(w, 2 + n);

	if (p == NULL)
		return;
	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	memcpy(p + 2, s, n);
}

/* ------------------------------------------------------------------ */
/* Reader.                                                             */

static const uint8_t *
store_r_take(struct store_rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->is_bad || r->len - r->off < n) {
		r->is_bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t
store_r_u8(struct store_rbuf *r)
{
	const uint8_t *p = store_r_take(r, 1);

	return p != NULL ? p[0] : 0;
}

uint32_t
store_r_u32(struct store_rbuf *r)
{
	const uint8_t *p = store_r_take(r, 4);

	if (p == NULL)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

uint64_t
store_r_u64(struct store_rbuf *r)
{
	const uint8_t *p = store_r_take(r, 8);

	return p != NULL ? store_be64_get(p) : 0;
}

int64_t
store_r_i64(struct store_rbuf *r)
{
	return (int64_t)store_r_u64(r);
}

void
store_r_bytes(struct store_rbuf *r, uint8_t *out, size_t n)
{
	const uint8_t *p = store_r_take(r, n);

	if (p == NULL)
		memset(out, 0, n);
	else
		memcpy(out, p, n);
}

/* A string longer than the field, or holding a NUL, is damage. */
void
store_r_str(struct store_rbuf *r, char *out, size_t cap)
{
	const uint8_t *lp, *p;
	size_t n;

	out[0] = '\0';
	if ((lp = store_r_take(r, 2)) == NULL)
		return;
	n = (size_t)lp[0] << 8 | lp[1];
	if (n >= cap) {
		r->is_bad = true;
		return;
	}
	if ((p = store_r_take(r, n)) == NULL)
		return;
	if (memchr(p, '\0', n) != NULL) {
		r->is_bad = true;
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

static void
store_rbuf_init(struct store_rbuf *r, const MDB_val *v)
{
	r->p = v->mv_data;
	r->len = v->mv_size;
	r->off = 0;
	r->is_bad = false;
}

/* The version byte: 1..our version is readable. */
static bool
store_r_version(struct store_rbuf *r)
{
	uint8_t v = store_r_u8(r);

	return !r->is_bad && v >= STORE_REC_V1 && v <= STORE_REC_V1;
}

/* ------------------------------------------------------------------ */
/* State value.                                                        */

void
store_state_encode(uint8_t out[STORE_STATE_LEN], bool is_exception,
    int64_t since, uint64_t event_id)
{
	out[0] = STORE_REC_V1;
	out[1] = is_exception ? STORE_STATE_EXCEPTION : 0;
	store_be64_put(out + 2, (uint64_t)since);
	store_be64_put(out + 10, event_id);
}

int
store_state_decode(const MDB_val *v, bool *is_exception, int64_t *since,
    uint64_t *event_id)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size < STORE_STATE_LEN || p[0] != STORE_REC_V1)
		return -1;
	*is_exception = (p[1] & STORE_STATE_EXCEPTION) != 0;
	*since = (int64_t)store_be64_get(p + 2);
	*event_id = store_be64_get(p + 10);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Records.                                                            */

static void
store_w_lastsent(struct store_wbuf *w, const struct store_lastsent *l)
{
	store_w_i64(w, l->time);
	store_w_str(w, l->account, sizeof(l->account));
	store_w_str(w, l->category, sizeof(l->category));
	store_w_str(w, l->service_type, sizeof(l->service_type));
}

static void
store_r_lastsent(struct store_rbuf *r, struct store_lastsent *l)
{
	l->time = store_r_i64(r);
	store_r_str(r, l->account, sizeof(l->account));
	store_r_str(r, l->category, sizeof(l->category));
	store_r_str(r, l->service_type, sizeof(l->service_type));
}

size_t
store_event_encode(const struct store_event *ev, uint8_t *buf, size_t cap)
{
	struct store_wbuf w = { buf, cap, 0, false };
	size_t i, n = ev->all ? 0 : ev->ncategories;

	store_w_u8(&w, STORE_REC_V1);
	store_w_i64(&w, ev->time);
	store_w_str(&w, ev->number, sizeof(ev->number));
	store_w_u8(&w, (uint8_t)ev->action);
	store_w_u8(&w, ev->all ? 1 : 0);
	store_w_u8(&w, (uint8_t)n);
	for (i = 0; i < n; i++)
		store_w_str(&w, ev->categories[i], sizeof(ev->categories[i]));
	store_w_u8(&w, (uint8_t)ev->source);
	store_w_str(&w, ev->inbound, sizeof(ev->inbound));
	store_w_str(&w, ev->text, sizeof(ev->text));
	store_w_str(&w, ev->rule, sizeof(ev->rule));
	store_w_str(&w, ev->actor, sizeof(ev->actor));
	store_w_str(&w, ev->note, sizeof(ev->note));
	store_w_str(&w, ev->consent, sizeof(ev->consent));
	store_w_lastsent(&w, &ev->last);
	return w.is_bad ? 0 : w.len;
}

int
store_event_decode(const MDB_val *v, uint64_t id, struct store_event *ev)
{
	struct store_rbuf r;
	uint8_t action, source, all;
	size_t i, n;

	store_rbuf_init(&r, v);
	memset(ev, 0, sizeof(*ev));
	if (!store_r_version(&r))
		return -1;
	ev->id = id;
	ev->time = store_r_i64(&r);
	store_r_str(&r, ev->number, sizeof(ev->number));
	action = store_r_u8(&r);
	all = store_r_u8(&r);
	n = store_r_u8(&r);
	if (action > STORE_LESS || all > 1 || n > STORE_SCOPE_MAX)
		return -1;
	ev->action = (enum store_action)action;
	ev->all = all != 0;
	ev->ncategories = n;
	for (i = 0; i < n; i++)
		store_r_str(&r, ev->categories[i], sizeof(ev->categories[i]));
	source = store_r_u8(&r);
	if (source > STORE_SRC_IMPORT)
		return -1;
	ev->source = (enum store_source)source;
	store_r_str(&r, ev->inbound, sizeof(ev->inbound));
	store_r_str(&r, ev->text, sizeof(ev->text));
	store_r_str(&r, ev->rule, sizeof(ev->rule));
	store_r_str(&r, ev->actor, sizeof(ev->actor));
	store_r_str(&r, ev->note, sizeof(ev->note));
	store_r_str(&r, ev->consent, sizeof(ev->consent));
	store_r_lastsent(&r, &ev->last);
	return r.is_bad ? -1 : 0;
}

size_t
store_audit_encode(const struct store_audit *a, uint8_t *buf, size_t cap)
{
	struct store_wbuf w = { buf, cap, 0, false };

	/* A refusal for a preference (SPEC §9) is version 2, its reason
	 * appended; an opt-out refusal stays as older builds wrote it. */
	store_w_u8(&w, a->reason != STORE_AUDIT_OPTED_OUT ? STORE_AUDIT_V2 :
	    STORE_REC_V1);
	store_w_u64(&w, a->id);
	store_w_i64(&w, a->time);
	store_w_str(&w, a->account, sizeof(a->account));
	store_w_str(&w, a->category, sizeof(a->category));
	store_w_str(&w, a->service_type, sizeof(a->service_type));
	store_w_str(&w, a->source, sizeof(a->source));
	store_w_str(&w, a->destination, sizeof(a->destination));
	store_w_u32(&w, a->status);
	store_w_u64(&w, a->event_id);
	store_w_u32(&w, a->body_len);
	store_w_bytes(&w, a->body_sha256, sizeof(a->body_sha256));
	if (a->reason != STORE_AUDIT_OPTED_OUT)
		store_w_u8(&w, (uint8_t)a->reason);
	return w.is_bad ? 0 : w.len;
}

int
store_audit_decode(const MDB_val *v, struct store_audit *a)
{
	struct store_rbuf r;
	uint8_t version, reason;

	store_rbuf_init(&r, v);
	memset(a, 0, sizeof(*a));
	version = store_r_u8(&r);
	if (r.is_bad || (version != STORE_REC_V1 && version != STORE_AUDIT_V2))
		return -1;
	a->id = store_r_u64(&r);
	a->time = store_r_i64(&r);
	store_r_str(&r, a->account, sizeof(a->account));
	store_r_str(&r, a->category, sizeof(a->category));
	store_r_str(&r, a->service_type, sizeof(a->service_type));
	store_r_str(&r, a->source, sizeof(a->source));
	store_r_str(&r, a->destination, sizeof(a->destination));
	a->status = store_r_u32(&r);
	a->event_id = store_r_u64(&r);
	a->body_len = store_r_u32(&r);
	store_r_bytes(&r, a->body_sha256, sizeof(a->body_sha256));
	if (version == STORE_AUDIT_V2) {
		reason = store_r_u8(&r);
		if (reason == STORE_AUDIT_OPTED_OUT ||
		    reason > STORE_AUDIT_QUIET_HOURS)
			return -1;
		a->reason = (enum store_audit_reason)reason;
	}
	return r.is_bad ? -1 : 0;
}

size_t
store_review_encode(const struct store_review *rv, uint8_t *buf, size_t cap)
{
	struct store_wbuf w = { buf, cap, 0, false };

	store_w_u8(&w, STORE_REC_V1);
	store_w_u64(&w, rv->id);
	store_w_i64(&w, rv->time);
	store_w_str(&w, rv->number, sizeof(rv->number));
	store_w_str(&w, rv->inbound, sizeof(rv->inbound));
	store_w_str(&w, rv->account, sizeof(rv->account));
	store_w_str(&w, rv->text, sizeof(rv->text));
	store_w_u8(&w, (uint8_t)rv->status);
	store_w_i64(&w, rv->resolved_time);
	store_w_str(&w, rv->actor, sizeof(rv->actor));
	store_w_str(&w, rv->note, sizeof(rv->note));
	store_w_u64(&w, rv->event_id);
	return w.is_bad ? 0 : w.len;
}

int
store_review_decode(const MDB_val *v, struct store_review *rv)
{
	struct store_rbuf r;
	uint8_t status;

	store_rbuf_init(&r, v);
	memset(rv, 0, sizeof(*rv));
	if (!store_r_version(&r))
		return -1;
	rv->id = store_r_u64(&r);
	rv->time = store_r_i64(&r);
	store_r_str(&r, rv->number, sizeof(rv->number));
	store_r_str(&r, rv->inbound, sizeof(rv->inbound));
	store_r_str(&r, rv->account, sizeof(rv->account));
	store_r_str(&r, rv->text, sizeof(rv->text));
	status = store_r_u8(&r);
	if (status > STORE_REVIEW_DISMISSED)
		return -1;
	rv->status = (enum store_review_status)status;
	rv->resolved_time = store_r_i64(&r);
	store_r_str(&r, rv->actor, sizeof(rv->actor));
	store_r_str(&r, rv->note, sizeof(rv->note));
	rv->event_id = store_r_u64(&r);
	return r.is_bad ? -1 : 0;
}

size_t
store_lastsent_encode(const struct store_lastsent *l, uint8_t *buf,
    size_t cap)
{
	struct store_wbuf w = { buf, cap, 0, false };

	store_w_u8(&w, STORE_REC_V1);
	store_w_lastsent(&w, l);
	return w.is_bad ? 0 : w.len;
}

int
store_lastsent_decode(const MDB_val *v, struct store_lastsent *l)
{
	struct store_rbuf r;

	store_rbuf_init(&r, v);
	memset(l, 0, sizeof(*l));
	if (!store_r_version(&r))
		return -1;
	store_r_lastsent(&r, l);
	return r.is_bad ? -1 : 0;
}
