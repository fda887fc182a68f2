/*
 * libevent's memory, recycled (no allocation per PDU).
 *
 * An evbuffer frees a chain once it is drained and allocates a new one
 * for the next bytes. A sender with one message in flight empties its
 * buffers after every PDU, so each PDU would cost a malloc and a free per
 * buffer it passes through (about 3.5 per forwarded submit_sm at window
 * 1). libevent sizes its chains in powers of two from 1 KiB; freed
 * blocks of those sizes are kept on a per-thread free list instead, up to
 * EVMEM_CLASS_BYTES per size, and handed back out. Other sizes go to
 * malloc as before.
 *
 * evmem_install() must run before any other libevent call of the process.
 * Under AddressSanitizer it installs nothing, so the sanitizer keeps
 * seeing every libevent allocation.
 */
#ifndef PROXY_IO_EVMEM_H
#define PROXY_IO_EVMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kept per size class and thread, at most (so at most 64 KiB blocks: 4). */
#define EVMEM_CLASS_BYTES	(256u * 1024u)

struct evmem_stats {
	uint64_t	allocs;		/* requests */
	uint64_t	reused;		/* served from a free list */
	size_t		cached_bytes;	/* on this thread's free lists now */
};

/* Make libevent allocate through this module. Returns whether it did. */
bool	evmem_install(void);

/* The three functions installed (usable without installing, for tests). */
void	*evmem_malloc(size_t size);
void	*evmem_realloc(void *p, size_t size);
void	 evmem_free(void *p);

/* Free memory that libevent allocated and hands over to its caller
 * (evhttp_uridecode...): with evmem_free when installed, else free. */
void	 evmem_free_libevent(void *p);

/* This thread's counts. */
void	 evmem_stats(struct evmem_stats *out);

#endif /* PROXY_IO_EVMEM_H */
