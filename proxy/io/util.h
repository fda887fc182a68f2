/*
 * Small helpers shared by the runtime's files (sessions, receipts,
 * replies, outbox). Static inline: no object file, nothing exported.
 */
#ifndef PROXY_IO_UTIL_H
#define PROXY_IO_UTIL_H

#include <stddef.h>
#include <string.h>

/*
 * Copy the string src into dst (cap bytes), truncating; dst is always
 * NUL-terminated when cap > 0 and untouched when cap is 0. src is read up
 * to cap - 1 bytes, so it need not be terminated beyond that. Both are
 * borrowed.
 */
static inline void
str_copy(char *dst, size_t cap, const char *src)
{
	size_t	n;

	if (cap == 0)
		return;
	n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

#endif /* PROXY_IO_UTIL_H */
