/*
 * stopgate import FILE.csv: opt-outs from a side spreadsheet, brought in
 * once (SPEC §6). Every row is validated first; one bad row rejects the
 * whole file with its line number, and nothing is written.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proxy/cli/cli_int.h"
#include "proxy/compliance/compliance.h"
#include "proxy/compliance/csv.h"
#include "proxy/compliance/rfc3339.h"
#include "store/store.h"

#define CLI_IMPORT_MAX_ROWS	1000000
/* Rows per write transaction (cli_import_write): each a few ms. */
#define CLI_IMPORT_CHUNK	1000
/* A row's time may be this far ahead of our clock (clock skew). */
#define CLI_IMPORT_SKEW_S	300

enum { COL_NUMBER = 0, COL_CATEGORY, COL_NOTE, COL_TIME, NCOLS };
static const char *const import_cols[NCOLS] = { "number", "category",
	"note", "time" };

/* The file being imported. */
struct cli_import {
	struct cli_ctx		*c;
	const char		*path;
	int			 map[NCOLS];	/* column of each, or -1 */
	size_t			 ncols;
	int64_t			 now;
	struct store_event	*evs;		/* owned */
	size_t			 nev, cap;
};

/* Map header fields to columns. Returns 0 or -1 (message printed). */
static int
cli_import_header(struct cli_import *im, char **f, size_t n)
{
	FILE	*errf = im->c->err;
	size_t	 i;
	int	 k;

	for (k = 0; k < NCOLS; k++)
		im->map[k] = -1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < NCOLS; k++)
			if (strcasecmp(f[i], import_cols[k]) == 0)
				break;
		if (k == NCOLS) {
			fprintf(errf, "%s:1: unknown column \"%s\" (columns: "
			    "number, category, note, time)\n", im->path, f[i]);
			return -1;
		}
		if (im->map[k] != -1) {
			fprintf(errf, "%s:1: column \"%s\" appears twice\n",
			    im->path, f[i]);
			return -1;
		}
		im->map[k] = (int)i;
	}
	if (im->map[COL_NUMBER] == -1) {
		fprintf(errf, "%s:1: no \"number\" column in the header row\n",
		    im->path);
		return -1;
	}
	im->ncols = n;
	return 0;
}

/* Field k of the row, "" when the file has no such column. */
static const char *
cli_import_col(const struct cli_import *im, char **f, int k)
{
	return im->map[k] >= 0 ? f[im->map[k]] : "";
}

/* Check one row's time (empty: now) into *t. */
static int
cli_import_time(const struct cli_import *im, const char *ts, int64_t *t,
    struct compliance_err *err)
{
	*t = im->now;
	if (ts[0] == '\0')
		return 0;
	if (rfc3339_parse(ts, t) == -1)
		return compliance_fail(err, COMPLIANCE_E_INPUT, "time \"%s\" "
		    "is not RFC 3339 (2026-01-31T09:00:00Z)", ts);
	if (*t > im->now + CLI_IMPORT_SKEW_S)
		return compliance_fail(err, COMPLIANCE_E_INPUT, "time \"%s\" "
		    "is in the future", ts);
	return 0;
}

/* Validate one data row into ev. Returns 0 or -1 (message printed). */
static int
cli_import_row(struct cli_import *im, unsigned line, char **f, size_t n,
    struct store_event *ev)
{
	struct compliance_err	 err;
	const char		*cat, *note;
	bool			 all, given;

	if (n != im->ncols) {
		fprintf(im->c->err, "%s:%u: %zu fields, the header has %zu\n",
		    im->path, line, n, im->ncols);
		return -1;
	}
	memset(ev, 0, sizeof(*ev));
	cat = cli_import_col(im, f, COL_CATEGORY);
	note = cli_import_col(im, f, COL_NOTE);
	/* No category: every category (SPEC §6). */
	all = cat[0] == '\0' || strcasecmp(cat, "all") == 0;
	if (compliance_number(im->c->cfg, f[im->map[COL_NUMBER]], ev->number,
	    sizeof(ev->number), &err) == -1 ||
	    compliance_scope(im->c->cfg, all, &cat, all ? 0 : 1, true, ev,
	    &given, &err) == -1 ||
	    cli_import_time(im, cli_import_col(im, f, COL_TIME), &ev->time,
	    &err) == -1)
		goto err;
	if (strlen(note) >= sizeof(ev->note)) {
		compliance_fail(&err, COMPLIANCE_E_INPUT, "note longer than "
		    "%zu bytes", sizeof(ev->note) - 1);
		goto err;
	}
	memcpy(ev->note, note, strlen(note) + 1);
	ev->action = STORE_OPT_OUT;
	ev->source = STORE_SRC_IMPORT;
	snprintf(ev->actor, sizeof(ev->actor), "%s", cli_actor(im->c));
	return 0;
err:
	fprintf(im->c->err, "%s:%u: %s\n", im->path, line, err.msg);
	return -1;
}

/* Room for one more event. Returns 0 or -1 (message printed). */
static int
cli_import_grow(struct cli_import *im, unsigned line)
{
	struct store_event	*nevs;
	size_t			 ncap;

	if (im->nev < im->cap)
		return 0;
	if (im->cap >= CLI_IMPORT_MAX_ROWS) {
		fprintf(im->c->err, "%s:%u: more than %d rows; split the "
		    "file\n", im->path, line, CLI_IMPORT_MAX_ROWS);
		return -1;
	}
	ncap = im->cap == 0 ? 256 : im->cap * 2;
	if ((nevs = realloc(im->evs, ncap * sizeof(*nevs))) == NULL) {
		fprintf(im->c->err, "stopgate: out of memory\n");
		return -1;
	}
	im->evs = nevs;
	im->cap = ncap;
	return 0;
}

/* Read and check every row after the header. Returns the number of bad
 * rows, or -1 when reading had to stop (message printed). */
static int
cli_import_rows(struct cli_import *im, struct csv_reader *csv)
{
	char		 err[256], **f;
	size_t		 n;
	unsigned	 line;
	int		 r, bad = 0;

	while ((r = csv_reader_next(csv, &f, &n, &line, err,
	    sizeof(err))) == 1) {
		if (n == 1 && f[0][0] == '\0')
			continue;	/* a line of spaces-free nothing */
		if (cli_import_grow(im, line) == -1)
			return -1;
		if (cli_import_row(im, line, f, n, &im->evs[im->nev]) == -1)
			bad++;
		else
			im->nev++;
	}
	if (r == -1) {
		fprintf(im->c->err, "%s: %s\n", im->path, err);
		return -1;
	}
	return bad;
}

/*
 * Write the validated rows in transactions of CLI_IMPORT_CHUNK: LMDB has
 * one writer at a time, and a running daemon's store writer (receipt
 * routes, audit records, opt-outs) must not wait behind one transaction
 * of a million rows (seconds): its queue would fill and hold up every
 * department's sends. Every row was checked first, so a bad file still
 * changes nothing; only a store error (or a crash) part-way leaves the
 * chunks before it, which the message says. Returns 0 or -1.
 */
static int
cli_import_write(struct cli_ctx *c, struct cli_import *im)
{
	size_t	 off, n;

	for (off = 0; off < im->nev; off += n) {
		n = im->nev - off < CLI_IMPORT_CHUNK ? im->nev - off :
		    CLI_IMPORT_CHUNK;
		if (store_import(c->st, im->evs + off, n) == -1) {
			fprintf(c->err, "stopgate: store: %s; %zu of %zu "
			    "rows were imported, the rest not\n",
			    store_errmsg(c->st), off, im->nev);
			return -1;
		}
	}
	return 0;
}

int
cli_cmd_import(struct cli_ctx *c)
{
	struct cli_import	 im;
	struct csv_reader	*csv;
	char			 err[256], **f;
	size_t			 n;
	unsigned		 line;
	int			 r, rc = 1, bad;

	if (c->args.npos != 1)
		return cli_usage(c->err, "import");
	memset(&im, 0, sizeof(im));
	im.c = c;
	im.path = c->args.pos[0];
	im.now = (int64_t)time(NULL);
	if ((csv = csv_reader_open(im.path, err, sizeof(err))) == NULL) {
		fprintf(c->err, "stopgate: %s\n", err);
		return 1;
	}
	if ((r = csv_reader_next(csv, &f, &n, &line, err, sizeof(err))) != 1) {
		fprintf(c->err, "%s: %s\n", im.path, r == 0 ? "empty file, "
		    "expected a header row" : err);
		goto out;
	}
	if (cli_import_header(&im, f, n) == -1 ||
	    (bad = cli_import_rows(&im, csv)) == -1)
		goto out;
	if (bad > 0) {
		fprintf(c->err, "stopgate: %d bad row%s in %s; nothing was "
		    "imported\n", bad, bad == 1 ? "" : "s", im.path);
		goto out;
	}
	if (cli_import_write(c, &im) == -1)
		goto out;
	fprintf(c->out, "imported %zu opt-out%s from %s\n", im.nev,
	    im.nev == 1 ? "" : "s", im.path);
	rc = 0;
out:
	free(im.evs);
	csv_reader_free(csv);
	return rc;
}
