/*
 * CSV as RFC 4180 writes it: a reader over a whole file held in memory
 * (for `stopgate import`) and a field writer (for --format csv).
 */
#ifndef PROXY_COMPLIANCE_CSV_H
#define PROXY_COMPLIANCE_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_FIELDS	32
#define CSV_MAX_BYTES	(64u << 20)	/* refuse absurd imports */

struct csv_reader;

/*
 * Read the file at path (at most CSV_MAX_BYTES) into a new reader, owned
 * by the caller and freed with csv_reader_free(). Returns NULL with the
 * reason in errbuf (errlen bytes). A UTF-8 byte order mark is skipped; a
 * NUL byte is refused (binary data, not CSV).
 */
struct csv_reader *csv_reader_open(const char *path, char *errbuf,
    size_t errlen);

/* The same over len bytes of data (copied), for tests and the fuzzer. */
struct csv_reader *csv_reader_open_mem(const char *data, size_t len,
    char *errbuf, size_t errlen);

/*
 * The next record: *fields gets its fields (views into the reader's
 * buffer, valid until the next call), *nfields their count, *line the
 * 1-based line it starts on. Blank lines between records are skipped.
 * Returns 1 a record, 0 the end, -1 malformed (the line and reason in
 * errbuf).
 */
int csv_reader_next(struct csv_reader *c, char ***fields, size_t *nfields,
    unsigned *line, char *errbuf, size_t errlen);

/* Free the reader; accepts NULL. */
void csv_reader_free(struct csv_reader *c);

/* Write s as one CSV field (quoted when it holds , " CR or LF). */
void csv_field_write(FILE *fp, const char *s);

#endif /* PROXY_COMPLIANCE_CSV_H */
