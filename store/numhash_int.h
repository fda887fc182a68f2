/*
 * store/numhash: the exact hash of the numbers with state (see
 * numhash.c). Only lookup.c, which keeps it in step with the numbers
 * index, calls these. Internal to store/.
 */
#ifndef STORE_NUMHASH_INT_H
#define STORE_NUMHASH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/chunkview_int.h"
#include "store/store_int.h"
#include "store/summary_int.h"

/* Category names a numbers hash slot may refer to (ids 1..this). */
#define STORE_NUMHASH_CATS	255

/* A handle's views of the numbers hash in its shared read txn (the rules
 * are store_chunk_views'). */
struct store_numhash_views {
	struct store_chunk_views cv;
	uint64_t	 count;		/* the parameters they were loaded */
	uint64_t	 gen;		/* with (nchunks is cv.n) */
	const char	*cats[STORE_NUMHASH_CATS];	/* views, not NUL- */
	uint8_t		 catlens[STORE_NUMHASH_CATS];	/* terminated */
	int		 ncats;
};

/*
 * On the shared read txn (live), through the views hv: 1 nk has state
 * (*e is its slot; *is_cat: a SIMPLE category entry is for category,
 * clen bytes), 0 it has none, -1 the table cannot say (none, damaged):
 * read the numbers index.
 */
int store_numhash_find(struct store *st, struct store_numhash_views *hv,
    uint64_t nk, const char *category, size_t clen,
    struct store_summary_ent *e, bool *is_cat);
void store_numhash_prefetch(struct store *st, struct store_numhash_views *hv,
    uint64_t nk);
/* In a write txn; 0 or an LMDB code. put: add or replace nk's slot. */
int store_numhash_put(struct store *st, MDB_txn *txn, uint64_t nk,
    const struct store_summary_ent *e);
int store_numhash_del(struct store *st, MDB_txn *txn, uint64_t nk);
/*
 * Growing in steps (the design is in lookup.c's head comment). While a
 * growth is under way put and del change both tables and lookups read
 * the old one. grow_wanted: no growth under way and one more number
 * would take the table past its threshold. grow_begin: start one, for
 * at least numbers numbers (a new table that costs no write yet).
 * grow_step: move the numbers of up to max slots of the old table into
 * the new one, in one pass over each chunk either side; nks (room for
 * max) gets the numbers moved, *n how many; *is_done when none is left,
 * the new table then answering. sweep: delete up to max chunks of
 * replaced tables (*n). All 0 or an LMDB code.
 */
int store_numhash_grow_wanted(struct store *st, MDB_txn *txn, bool *yes);
int store_numhash_grow_begin(struct store *st, MDB_txn *txn,
    uint64_t numbers);
int store_numhash_grow_step(struct store *st, MDB_txn *txn, size_t max,
    uint64_t *nks, size_t *n, bool *is_done);
int store_numhash_sweep(struct store *st, MDB_txn *txn, size_t max,
    size_t *n);
/* Whether a growth step has work: moving, or old chunks to sweep. */
bool store_numhash_pending(struct store *st, MDB_txn *txn);
/* Whether a growth is under way, and its numbers moved and to move. */
int store_numhash_grow_progress(struct store *st, MDB_txn *txn,
    uint64_t *moved, uint64_t *total, bool *is_growing);
/* Rebuild from the numbers index (whose values it reads), at once; a
 * growth under way is dropped with the old tables. */
int store_numhash_rebuild(struct store *st, MDB_txn *txn);
/* Whether txn has a table (its parameters read). */
bool store_numhash_present(struct store *st, MDB_txn *txn);
/*
 * The id of category name (len bytes): 0 with *id set; MDB_NOTFOUND if
 * it has none and may_add is false, or the table of names is full.
 */
int store_numhash_catid(struct store *st, MDB_txn *txn, const char *name,
    size_t len, bool may_add, uint16_t *id);

#endif /* STORE_NUMHASH_INT_H */
