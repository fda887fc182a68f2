/*
 * Importing opt-outs from a side spreadsheet (SPEC §6): the CSV checks
 * and the write that `stopgate import` and POST /v1/import share. Every
 * row is validated first; one bad row rejects the whole file with its
 * line number, and nothing is written.
 */
#ifndef PROXY_COMPLIANCE_IMPORT_H
#define PROXY_COMPLIANCE_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

struct config;
struct csv_reader;

#define IMPORT_MAX_ROWS		1000000
/* Rows per write transaction (import_write): each a few ms. */
#define IMPORT_CHUNK		1000
/* A row's time may be this far ahead of our clock (clock skew). */
#define IMPORT_SKEW_S		300

/* The validated rows: one opt-out event each (source import). */
struct import_rows {
	struct store_event	*evs;		/* owned */
	size_t			 n, cap;
};

/*
 * Read the header row and every row of csv into rows (the caller's,
 * zeroed; free with import_rows_free() in every case), each checked
 * against cfg: number, category (a name, "all" or empty: every
 * category), note, time (RFC 3339, empty: now; not in the future).
 * Every problem is written to errf as "WHERE:LINE: message" (where names
 * the file in messages). actor is recorded on each event. Returns the
 * number of bad rows (0: every row good), or -1 when reading had to stop
 * (no header, malformed CSV, too many rows, memory; written to errf).
 */
int import_read(const struct config *cfg, struct csv_reader *csv,
    const char *where, int64_t now, const char *actor,
    struct import_rows *rows, FILE *errf);

/*
 * Write rows in transactions of IMPORT_CHUNK, so that a running
 * daemon's store writer never waits behind one transaction of a million
 * rows. *done = rows written: all of them, or on a store error (-1,
 * store_errmsg() says) the chunks before it. Returns 0 or -1.
 */
int import_write(struct store *st, struct import_rows *rows, size_t *done);

void import_rows_free(struct import_rows *rows);

#endif /* PROXY_COMPLIANCE_IMPORT_H */
