/*
 * store/summary: the value the numbers index holds for a number with
 * state (its summary), what a number's state entries say for one
 * category (a verdict), and the short form of a simple summary that a
 * numbers hash slot holds. Formats only: lookup.c owns the tables.
 * Internal to store/.
 *
 * A summary, written in the same transaction as the state entries it
 * sums up: STORE_SUMMARY_V2, then per entry in key order: category length
 * (1..255), the category ("*" for the global entry), its STORE_STATE_LEN
 * value. A rejected send then costs one integer-key lookup instead of a
 * walk of the string-keyed state. An empty value (a number whose summary
 * would not fit, or an index from before summaries) says: read the
 * entries.
 */
#ifndef STORE_SUMMARY_INT_H
#define STORE_SUMMARY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#define STORE_SUMMARY_V2	2
#define STORE_SUMMARY_MAX	480	/* bytes: stays in the leaf page */

/* A number's summary as it is built. */
struct store_summary {
	uint8_t		 b[STORE_SUMMARY_MAX];
	size_t		 len;
	size_t		 n;		/* entries */
	bool		 is_over;	/* does not fit: stored empty */
};

/* Start sm empty. */
void store_summary_init(struct store_summary *sm);
/* Add the entry of state key k (its number prefix plen bytes), value v. */
void store_summary_add(struct store_summary *sm, const MDB_val *k,
    size_t plen, const MDB_val *v);
/* The value to store (a view of sm). */
void store_summary_val(const struct store_summary *sm, MDB_val *v);

/* What a number's entries say for one category. */
struct store_verdict {
	const char	*category;
	size_t		 clen;
	bool		 has_global;
	bool		 has_cat;
	bool		 cat_exc;
	int64_t		 g_since;
	int64_t		 c_since;
	uint64_t	 g_id;
	uint64_t	 c_id;
};

/* Take one state entry (category cat, n bytes; value v) into vd: 0 or
 * MDB_CORRUPTED. */
int store_verdict_take(struct store_verdict *vd, const uint8_t *cat,
    size_t n, const MDB_val *v);
/* Take every entry of a non-empty summary into vd: 0 or MDB_CORRUPTED. */
int store_verdict_summary(struct store_verdict *vd, const MDB_val *v);

/* What a simple summary comes to (the numbers hash keeps this). */
#define STORE_SUMMARY_SIMPLE	1	/* one entry, no exception */
#define STORE_SUMMARY_OTHER	2	/* anything else: read the summary */

struct store_summary_ent {
	int64_t		 since;		/* SIMPLE: the entry's */
	uint64_t	 event_id;
	uint16_t	 catid;		/* SIMPLE: 0 global, else the id */
	uint8_t		 kind;
};

/*
 * The short form of summary v. Returns 1 when e is a SIMPLE category
 * entry whose id the caller must set (the category is *cat, *clen bytes,
 * a view into v), else 0.
 */
int store_summary_ent_of(const MDB_val *v, struct store_summary_ent *e,
    const char **cat, size_t *clen);

#endif /* STORE_SUMMARY_INT_H */
