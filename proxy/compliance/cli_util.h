/*
 * Small pieces the compliance CLI shares: option parsing, RFC 3339 times,
 * JSON and CSV output, and an RFC 4180 CSV reader for imports.
 */
#ifndef PROXY_CLI_UTIL_H
#define PROXY_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

struct config;

#define CLI_MAX_ARGS	64

enum cli_format {
	CLI_FORMAT_TEXT = 0,
	CLI_FORMAT_JSONL,
	CLI_FORMAT_CSV,
};

/* Parsed command line: options by name, the rest positional. */
struct cli_args {
	const char	*config;		/* -c FILE */
	const char	*format;		/* --format */
	const char	*categories[CLI_MAX_ARGS];	/* --category, repeated */
	size_t		 ncategories;
	bool		 all;			/* --all */
	const char	*source, *note, *consent, *actor;
	const char	*since, *until, *number, *account, *category;
	bool		 optout, dismiss;	/* review resolve */
	const char	*pos[CLI_MAX_ARGS];	/* positional */
	size_t		 npos;
};

/*
 * Parse argv (argv[0..first) are the subcommand words, skipped) into a.
 * Options may come in any order, before or after positionals; "--"
 * ends options. Returns 0, or -1 with a message on stderr.
 */
int cli_args_parse(struct cli_args *a, int argc, char *argv[], int first);

/* Parse --format: "text", "jsonl", "csv" (csv only if csv_ok). Returns 0
 * or -1 with a message on stderr. NULL means text. */
int cli_format_parse(const char *s, bool csv_ok, enum cli_format *out);

/* Format unix seconds as RFC 3339 UTC ("2026-11-26T13:41:00Z") into buf
 * (at least 21 bytes). Returns buf. */
const char *cli_time_format(int64_t t, char *buf, size_t cap);

/*
 * Parse an RFC 3339 time ("2026-11-26T13:41:00Z", "...+01:00", fractions
 * dropped) or a date ("2026-11-26", midnight UTC). Returns 0 with *out
 * set, or -1.
 */
int cli_time_parse(const char *s, int64_t *out);

/* Write s as a JSON string (quotes included), escaping as RFC 8259 asks. */
void cli_json_str(FILE *fp, const char *s);

/* Write s as one CSV field (RFC 4180: quoted when it holds , " CR LF). */
void cli_csv_field(FILE *fp, const char *s);

/*
 * RFC 4180 reader over a whole file held in memory. Each call to
 * cli_csv_next() yields one record's fields (views into the reader's
 * buffer, valid until the next call) and the 1-based line the record
 * starts on. Returns 1 record, 0 end, -1 malformed (message in errbuf).
 *
 * cli_csv_open() reads the file at path (at most 64 MiB) and returns a new
 * reader, owned by the caller and freed with cli_csv_free() (which
 * accepts NULL), or NULL with the reason in errbuf (errlen bytes).
 */
struct cli_csv;
struct cli_csv *cli_csv_open(const char *path, char *errbuf, size_t errlen);
/* The same over len bytes of data (copied), for tests and the fuzzer. */
struct cli_csv *cli_csv_open_mem(const char *data, size_t len, char *errbuf,
    size_t errlen);
int cli_csv_next(struct cli_csv *c, char ***fields, size_t *nfields,
    unsigned *line, char *errbuf, size_t errlen);
void cli_csv_free(struct cli_csv *c);

/* The OS user running the command (for "who acted"); never NULL. */
const char *cli_default_actor(void);

/* Write n bytes of b as lower-case hex into out (2 * n + 1 bytes). */
void cli_hex(const uint8_t *b, size_t n, char *out);

/*
 * The reason column of a rejected-send audit record into buf (cap bytes):
 * the blocking event, or the store being unreadable (event_id 0).
 * Returns buf.
 */
const char *cli_audit_reason(uint64_t event_id, char *buf, size_t cap);

/*
 * Fill ev as the opt-out a person decided for review item rv (CLI and
 * admin API alike): number, inbound number and text from rv; actor, note,
 * source and time as given; rule "review". Unless has_scope (the caller
 * already put all or categories in ev), the scope is the stop_scope of the
 * number written to in cfg, else every category. Strings are copied,
 * cut to their fields.
 */
void cli_review_optout(const struct config *cfg,
    const struct store_review *rv, bool has_scope, enum store_source source,
    const char *actor, const char *note, int64_t now, struct store_event *ev);

#endif /* PROXY_CLI_UTIL_H */
