/*
 * proxy/io/evmem: libevent's memory, recycled (see evmem.h).
 *
 * Every block carries a 16-byte header (so the payload keeps malloc's
 * alignment) with its capacity and size class. A block of a pooled class
 * goes, when freed, onto this thread's list for the class, linked through
 * its first bytes, unless the list already holds EVMEM_CLASS_BYTES.
 * Written here rather than taken from a library: the job is a few free
 * lists behind libevent's three hooks, which is what HAProxy's and nginx's
 * pools do for their buffers too.
 */
#include "proxy/io/evmem.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#if defined(__SANITIZE_ADDRESS__)
#define EVMEM_OFF	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EVMEM_OFF	1
#endif
#endif

#define MIN_SHIFT	10		/* 1 KiB: libevent's smallest chain */
#define MAX_SHIFT	16		/* 64 KiB: a 32 KiB read and more */
#define NCLASS		(MAX_SHIFT - MIN_SHIFT + 1)
#define NO_CLASS	UINT32_MAX

struct hdr {
	size_t		cap;		/* usable bytes after the header */
	uint32_t	cls;		/* index, or NO_CLASS */
	uint32_t	pad;
};

/* One per thread (tl below); cppcheck does not follow _Thread_local. */
struct pool {
	/* cppcheck-suppress unusedStructMember */
	void		*head[NCLASS];	/* payloads, linked through word 0 */
	/* cppcheck-suppress unusedStructMember */
	size_t		 n[NCLASS];
	/* cppcheck-suppress unusedStructMember */
	uint64_t	 allocs;
	/* cppcheck-suppress unusedStructMember */
	uint64_t	 reused;
};

static _Thread_local struct pool tl;
static bool is_installed;

/* The class of a request: an exact power of two in range, else none. */
static uint32_t
class_of(size_t size)
{
	uint32_t	shift;

	if (size < ((size_t)1 << MIN_SHIFT) ||
	    size > ((size_t)1 << MAX_SHIFT) || (size & (size - 1)) != 0)
		return NO_CLASS;
	for (shift = MIN_SHIFT; ((size_t)1 << shift) != size; shift++)
		;
	return shift - MIN_SHIFT;
}

static struct hdr *
hdr_of(void *p)
{
	return (struct hdr *)(void *)((char *)p - sizeof(struct hdr));
}

void *
evmem_malloc(size_t size)
{
	struct hdr	*h;
	uint32_t	 cls = class_of(size);
	void		*p;

	tl.allocs++;
	if (cls != NO_CLASS && (p = tl.head[cls]) != NULL) {
		memcpy(&tl.head[cls], p, sizeof(void *));
		tl.n[cls]--;
		tl.reused++;
		return p;
	}
	if (size > SIZE_MAX - sizeof(*h)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((h = malloc(sizeof(*h) + size)) == NULL)
		return NULL;
	h->cap = size;
	h->cls = cls;
	h->pad = 0;
	return h + 1;
}

void
evmem_free(void *p)
{
	struct hdr	*h;

	if (p == NULL)
		return;
	h = hdr_of(p);
	if (h->cls != NO_CLASS &&
	    (tl.n[h->cls] + 1) * h->cap <= EVMEM_CLASS_BYTES) {
		memcpy(p, &tl.head[h->cls], sizeof(void *));
		tl.head[h->cls] = p;
		tl.n[h->cls]++;
		return;
	}
	free(h);
}

void *
evmem_realloc(void *p, size_t size)
{
	void	*np;
	size_t	 cap;

	if (p == NULL)
		return evmem_malloc(size);
	if (size == 0) {
		evmem_free(p);
		return NULL;
	}
	cap = hdr_of(p)->cap;
	if (size <= cap)
		return p;
	if ((np = evmem_malloc(size)) == NULL)
		return NULL;	/* p stays valid, as with realloc */
	memcpy(np, p, cap);
	evmem_free(p);
	return np;
}

void
evmem_free_libevent(void *p)
{
	if (is_installed)
		evmem_free(p);
	else
		free(p);
}

bool
evmem_install(void)
{
#ifdef EVMEM_OFF
	return false;
#else
	event_set_mem_functions(evmem_malloc, evmem_realloc, evmem_free);
	is_installed = true;
	return true;
#endif
}

void
evmem_stats(struct evmem_stats *out)
{
	size_t	i;

	memset(out, 0, sizeof(*out));
	out->allocs = tl.allocs;
	out->reused = tl.reused;
	for (i = 0; i < NCLASS; i++)
		out->cached_bytes += tl.n[i] * ((size_t)1 << (i + MIN_SHIFT));
}
