/*
 * store/bytes: big-endian integers and biased times, the byte order of
 * every key and value the store writes. Big-endian so that byte order is
 * numeric order in keys; times biased (x ^ 1 << 63) so that negative
 * times sort first. Header only: these sit on every hot path.
 */
#ifndef STORE_BYTES_H
#define STORE_BYTES_H

#include <stdint.h>

static inline void
store_be64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static inline uint64_t
store_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void
store_time_put(uint8_t *p, int64_t t)
{
	store_be64_put(p, (uint64_t)t ^ (UINT64_C(1) << 63));
}

static inline int64_t
store_time_get(const uint8_t *p)
{
	return (int64_t)(store_be64_get(p) ^ (UINT64_C(1) << 63));
}

#endif /* STORE_BYTES_H */
