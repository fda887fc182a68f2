/*
 * The admin token throttle: per source address, how long a request must
 * wait before its token is checked and how long a wrong token's 401 is
 * held back. Pure bookkeeping (no libevent, no clock: the caller passes
 * the time), so it can be tested alone; admin.c holds the requests.
 *
 * The first ADMIN_THROTTLE_FREE failures of an address are answered at
 * once; each further one waits ADMIN_THROTTLE_STEP_MS more than the last,
 * up to ADMIN_THROTTLE_MAX_MS, and no token from that address is checked
 * until that 401 has gone out. So an address learns at most one verdict
 * per delay however many connections it opens; a client that waits for
 * its 401 before trying again is never held back further, and a right
 * token is answered at once. An address forgets its failures after
 * ADMIN_THROTTLE_FORGET_MS without one.
 */
#ifndef PROXY_ADMIN_ADMIN_THROTTLE_H
#define PROXY_ADMIN_ADMIN_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#define ADMIN_THROTTLE_SLOTS		256	/* addresses remembered */
#define ADMIN_THROTTLE_FREE		5
#define ADMIN_THROTTLE_STEP_MS		100
#define ADMIN_THROTTLE_MAX_MS		3000
#define ADMIN_THROTTLE_FORGET_MS	60000
/* Requests of one address held at once; more are refused unchecked. */
#define ADMIN_THROTTLE_HELD_MAX		8
#define ADMIN_THROTTLE_ADDR_MAX		64	/* with the NUL */

struct admin_throttle;

/* A new empty table, or NULL (no memory). Free with admin_throttle_free()
 * (accepts NULL). */
struct admin_throttle *admin_throttle_new(void);
void admin_throttle_free(struct admin_throttle *t);

/*
 * How long a request from addr must wait, at now_ms, before its token is
 * checked: 0 to check it now.
 */
uint64_t admin_throttle_wait_ms(struct admin_throttle *t, const char *addr,
    uint64_t now_ms);

/*
 * Note a wrong token from addr at now_ms. Returns the delay before its
 * 401 goes out (0 for the first ADMIN_THROTTLE_FREE of an episode); the
 * next check of addr waits as long. *is_first: the first failure of an
 * episode (the one worth a log line of its own).
 */
uint64_t admin_throttle_fail(struct admin_throttle *t, const char *addr,
    uint64_t now_ms, bool *is_first);

/*
 * Count one more request of addr held back (released with
 * admin_throttle_release()). Unless is_forced, refuses (false, counted as
 * refused) when ADMIN_THROTTLE_HELD_MAX are held already or no slot is
 * free.
 */
bool admin_throttle_hold(struct admin_throttle *t, const char *addr,
    uint64_t now_ms, bool is_forced);
void admin_throttle_release(struct admin_throttle *t, const char *addr);

/*
 * For each address with failures or refusals since the last report:
 * fn(addr, failures, refused, arg), with the counts since then. Returns
 * the number of addresses reported.
 */
typedef void (*admin_throttle_report_fn)(const char *addr,
    uint64_t failures, uint64_t refused, void *arg);
unsigned admin_throttle_report(struct admin_throttle *t,
    admin_throttle_report_fn fn, void *arg);

#endif /* PROXY_ADMIN_ADMIN_THROTTLE_H */
