/*
 * store/codec: values serialised field by field behind a version byte
 * (never raw structs), and the state value. Internal to store/.
 */
#ifndef STORE_CODEC_INT_H
#define STORE_CODEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store/bytes.h"
#include "store/store.h"

#define STORE_VALUE_MAX		8192	/* every encoded record fits */

struct store_wbuf {
	uint8_t		*p;
	size_t		 cap;
	size_t		 len;
	bool		 is_bad;
};

struct store_rbuf {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	bool		 is_bad;
};

void store_w_u8(struct store_wbuf *w, uint8_t v);
void store_w_u32(struct store_wbuf *w, uint32_t v);
void store_w_u64(struct store_wbuf *w, uint64_t v);
void store_w_i64(struct store_wbuf *w, int64_t v);
void store_w_str(struct store_wbuf *w, const char *s, size_t cap);
void store_w_bytes(struct store_wbuf *w, const uint8_t *b, size_t n);

uint8_t store_r_u8(struct store_rbuf *r);
uint32_t store_r_u32(struct store_rbuf *r);
uint64_t store_r_u64(struct store_rbuf *r);
int64_t store_r_i64(struct store_rbuf *r);
void store_r_str(struct store_rbuf *r, char *out, size_t cap);
void store_r_bytes(struct store_rbuf *r, uint8_t *out, size_t n);

/* State value: flags, since, event id. */
#define STORE_STATE_LEN		18
#define STORE_STATE_EXCEPTION	0x01
void store_state_encode(uint8_t out[STORE_STATE_LEN], bool is_exception,
    int64_t since, uint64_t event_id);
int store_state_decode(const MDB_val *v, bool *is_exception, int64_t *since,
    uint64_t *event_id);

/* Records: encode returns the length (0 on overflow); decode 0 or -1. */
size_t store_event_encode(const struct store_event *ev, uint8_t *buf,
    size_t cap);
int store_event_decode(const MDB_val *v, uint64_t id, struct store_event *ev);
size_t store_audit_encode(const struct store_audit *a, uint8_t *buf,
    size_t cap);
int store_audit_decode(const MDB_val *v, struct store_audit *a);
size_t store_review_encode(const struct store_review *r, uint8_t *buf,
    size_t cap);
int store_review_decode(const MDB_val *v, struct store_review *r);
size_t store_lastsent_encode(const struct store_lastsent *l, uint8_t *buf,
    size_t cap);
int store_lastsent_decode(const MDB_val *v, struct store_lastsent *l);

#endif /* STORE_CODEC_INT_H */
