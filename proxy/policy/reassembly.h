/*
 * Reassembly of concatenated subscriber replies (SPEC §4): the parts of
 * one long MO, told apart by (subscriber, inbound number, reference,
 * total) from a concatenation UDH (3GPP TS 23.040 §9.2.3.24.1 8-bit and
 * §9.2.3.24.8 16-bit references) or the SAR TLVs (SMPP v3.4 §5.3.2.22-24),
 * are joined in sequence order so keywords are matched on the whole text.
 *
 * Memory is bounded: a fixed number of slots, each holding at most
 * REASM_PARTS_MAX parts of at most REASM_PART_TEXT_MAX bytes; when every
 * slot is busy the oldest message is evicted. A message not complete
 * within the timeout is dropped (its parts were already passed on one by
 * one; only the keyword decision is lost, which the caller logs). A
 * completed message is kept for one more timeout so that a redelivered
 * part (the SMSC retrying after a temporary error) completes it again.
 *
 * One thread; not shared. No logging.
 */
#ifndef PROXY_POLICY_REASSEMBLY_H
#define PROXY_POLICY_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REASM_SLOTS_DEFAULT	1024
#define REASM_PARTS_MAX		16	/* parts per message we join */
#define REASM_PART_TEXT_MAX	2048	/* UTF-8 bytes kept per part */
#define REASM_NUMBER_MAX	24	/* normalised number with NUL */

struct reasm;

/* What identifies one concatenated message. */
struct reasm_key {
	char		 subscriber[REASM_NUMBER_MAX];
	char		 inbound[REASM_NUMBER_MAX];
	uint16_t	 ref;		/* 8-bit references widened */
	uint8_t		 total;		/* parts in the message, >= 2 */
};

enum reasm_result {
	REASM_PENDING = 0,	/* stored; more parts to come */
	REASM_COMPLETE,		/* the whole text is in *text */
	REASM_DUPLICATE,	/* this part was already here: ignored */
	REASM_TOO_MANY,		/* total > REASM_PARTS_MAX: not joined */
	REASM_INVALID,		/* seq 0 or > total, total < 2 */
	REASM_NOMEM,
};

/* Counters, for logs and tests. */
struct reasm_stats {
	size_t		 active;	/* slots in use (incomplete + kept) */
	uint64_t	 completed;
	uint64_t	 expired;	/* incomplete messages timed out */
	uint64_t	 evicted;	/* incomplete messages pushed out */
	uint64_t	 duplicates;
};

/*
 * A table of nslots slots (0 = REASM_SLOTS_DEFAULT) with a timeout of
 * timeout_ms for an incomplete message. Returns a new table (free with
 * reasm_free()) or NULL on allocation failure.
 */
struct reasm *reasm_new(size_t nslots, unsigned timeout_ms);

/* Free a table and every part it holds; accepts NULL. */
void reasm_free(struct reasm *r);

/* Change the timeout (SIGHUP); slots already held keep their deadline. */
void reasm_set_timeout(struct reasm *r, unsigned timeout_ms);

/*
 * Add part seq (1..key->total) whose decoded text is text (len bytes of
 * UTF-8, copied; cut at a character boundary after REASM_PART_TEXT_MAX
 * bytes) at now_ms (any clock in milliseconds, the same for every call).
 * Expired slots are dropped first. On REASM_COMPLETE, *text_out and
 * *len_out give the joined text, NUL-terminated: a view into r, valid
 * until the next call on r. Any part of a message already completed
 * within the timeout returns REASM_COMPLETE again with the same text.
 * Returns an enum reasm_result.
 */
enum reasm_result reasm_add(struct reasm *r, const struct reasm_key *key,
    uint8_t seq, const char *text, size_t len, int64_t now_ms,
    const char **text_out, size_t *len_out);

/*
 * Drop every slot past its deadline at now_ms (reasm_add() does this
 * too; a timer may call it to free memory sooner). Returns the number of
 * slots dropped.
 */
size_t reasm_expire(struct reasm *r, int64_t now_ms);

/* Fill *st with the counters of r. */
void reasm_stats_get(const struct reasm *r, struct reasm_stats *st);

/* Name of a result ("pending", ...), for logs. */
const char *reasm_result_name(enum reasm_result res);

#endif /* PROXY_POLICY_REASSEMBLY_H */
