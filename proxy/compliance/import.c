/*
 * The checks of an opt-out import (`stopgate import`, POST /v1/import):
 * a header row naming the columns (number required; category, note,
 * time), then rows validated into opt-out events; then the write, in
 * chunks.
 */
#include "proxy/compliance/import.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "proxy/compliance/compliance.h"
#include "proxy/compliance/csv.h"
#include "proxy/compliance/rfc3339.h"

enum { COL_NUMBER = 0, COL_CATEGORY, COL_NOTE, COL_TIME, NCOLS };
static const char *const import_cols[NCOLS] = { "number", "category",
	"note", "time" };

/* The file being read. */
struct import {
	const struct config	*cfg;
	const char		*where;
	const char		*actor;
	FILE			*errf;
	int			 map[NCOLS];	/* column of each, or -1 */
	size_t			 ncols;
	int64_t			 now;
	struct import_rows	*rows;
};

/* Map header fields to columns. Returns 0 or -1 (message written). */
static int
import_header(struct import *im, char **f, size_t n)
{
	size_t	 i;
	int	 k;

	for (k = 0; k < NCOLS; k++)
		im->map[k] = -1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < NCOLS; k++)
			if (strcasecmp(f[i], import_cols[k]) == 0)
				break;
		if (k == NCOLS) {
			fprintf(im->errf, "%s:1: unknown column \"%s\" "
			    "(columns: number, category, note, time)\n",
			    im->where, f[i]);
			return -1;
		}
		if (im->map[k] != -1) {
			fprintf(im->errf, "%s:1: column \"%s\" appears "
			    "twice\n", im->where, f[i]);
			return -1;
		}
		im->map[k] = (int)i;
	}
	if (im->map[COL_NUMBER] == -1) {
		fprintf(im->errf, "%s:1: no \"number\" column in the header "
		    "row\n", im->where);
		return -1;
	}
	im->ncols = n;
	return 0;
}

/* Field k of the row, "" when the file has no such column. */
static const char *
import_col(const struct import *im, char **f, int k)
{
	return im->map[k] >= 0 ? f[im->map[k]] : "";
}

/* Check one row's time (empty: now) into *t. */
static int
import_time(const struct import *im, const char *ts, int64_t *t,
    struct compliance_err *err)
{
	*t = im->now;
	if (ts[0] == '\0')
		return 0;
	if (rfc3339_parse(ts, t) == -1)
		return compliance_fail(err, COMPLIANCE_E_INPUT, "time \"%s\" "
		    "is not RFC 3339 (2026-01-31T09:00:00Z)", ts);
	if (*t > im->now + IMPORT_SKEW_S)
		return compliance_fail(err, COMPLIANCE_E_INPUT, "time \"%s\" "
		    "is in the future", ts);
	return 0;
}

/* Validate one data row into ev. Returns 0 or -1 (message written). */
static int
import_row(struct import *im, unsigned line, char **f, size_t n,
    struct store_event *ev)
{
	struct compliance_err	 err;
	const char		*cat, *note;
	bool			 all, given;

	if (n != im->ncols) {
		fprintf(im->errf, "%s:%u: %zu fields, the header has %zu\n",
		    im->where, line, n, im->ncols);
		return -1;
	}
	memset(ev, 0, sizeof(*ev));
	cat = import_col(im, f, COL_CATEGORY);
	note = import_col(im, f, COL_NOTE);
	/* No category: every category (SPEC §6). */
	all = cat[0] == '\0' || strcasecmp(cat, "all") == 0;
	if (compliance_number(im->cfg, f[im->map[COL_NUMBER]], ev->number,
	    sizeof(ev->number), &err) == -1 ||
	    compliance_scope(im->cfg, all, &cat, all ? 0 : 1, true, ev,
	    &given, &err) == -1 ||
	    import_time(im, import_col(im, f, COL_TIME), &ev->time,
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
	snprintf(ev->actor, sizeof(ev->actor), "%s", im->actor);
	return 0;
err:
	fprintf(im->errf, "%s:%u: %s\n", im->where, line, err.msg);
	return -1;
}

/* Room for one more event. Returns 0 or -1 (message written). */
static int
import_grow(struct import *im, unsigned line)
{
	struct import_rows	*rs = im->rows;
	struct store_event	*nevs;
	size_t			 ncap;

	if (rs->n < rs->cap)
		return 0;
	if (rs->cap >= IMPORT_MAX_ROWS) {
		fprintf(im->errf, "%s:%u: more than %d rows; split the "
		    "file\n", im->where, line, IMPORT_MAX_ROWS);
		return -1;
	}
	ncap = rs->cap == 0 ? 256 : rs->cap * 2;
	if ((nevs = realloc(rs->evs, ncap * sizeof(*nevs))) == NULL) {
		fprintf(im->errf, "stopgate: out of memory\n");
		return -1;
	}
	rs->evs = nevs;
	rs->cap = ncap;
	return 0;
}

int
import_read(const struct config *cfg, struct csv_reader *csv,
    const char *where, int64_t now, const char *actor,
    struct import_rows *rows, FILE *errf)
{
	struct import	 im;
	char		 err[256], **f;
	size_t		 n;
	unsigned	 line;
	int		 r, bad = 0;

	memset(&im, 0, sizeof(im));
	im.cfg = cfg;
	im.where = where;
	im.actor = actor;
	im.errf = errf;
	im.now = now;
	im.rows = rows;
	if ((r = csv_reader_next(csv, &f, &n, &line, err, sizeof(err))) != 1) {
		fprintf(errf, "%s: %s\n", where, r == 0 ? "empty file, "
		    "expected a header row" : err);
		return -1;
	}
	if (import_header(&im, f, n) == -1)
		return -1;
	while ((r = csv_reader_next(csv, &f, &n, &line, err,
	    sizeof(err))) == 1) {
		if (n == 1 && f[0][0] == '\0')
			continue;	/* a line of spaces-free nothing */
		if (import_grow(&im, line) == -1)
			return -1;
		if (import_row(&im, line, f, n, &rows->evs[rows->n]) == -1)
			bad++;
		else
			rows->n++;
	}
	if (r == -1) {
		fprintf(errf, "%s: %s\n", where, err);
		return -1;
	}
	return bad;
}

int
import_write(struct store *st, struct import_rows *rows, size_t *done)
{
	size_t	 n;

	for (*done = 0; *done < rows->n; *done += n) {
		n = rows->n - *done < IMPORT_CHUNK ? rows->n - *done :
		    IMPORT_CHUNK;
		if (store_import(st, rows->evs + *done, n) == -1)
			return -1;
	}
	return 0;
}

void
import_rows_free(struct import_rows *rows)
{
	free(rows->evs);
	rows->evs = NULL;
	rows->n = rows->cap = 0;
}
