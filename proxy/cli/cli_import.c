/*
 * stopgate import FILE.csv: opt-outs from a side spreadsheet, brought in
 * once (SPEC §6). Every row is validated first; one bad row rejects the
 * whole file with its line number, and nothing is written (the checks
 * and the chunked write are proxy/compliance/import.c's, shared with
 * POST /v1/import).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/cli/cli_int.h"
#include "proxy/compliance/csv.h"
#include "proxy/compliance/import.h"
#include "store/store.h"

int
cli_cmd_import(struct cli_ctx *c)
{
	struct import_rows	 rows;
	struct csv_reader	*csv;
	const char		*path;
	char			 err[256];
	size_t			 done;
	int			 rc = 1, bad;

	if (c->args.npos != 1)
		return cli_usage(c->err, "import");
	memset(&rows, 0, sizeof(rows));
	path = c->args.pos[0];
	if ((csv = csv_reader_open(path, err, sizeof(err))) == NULL) {
		fprintf(c->err, "stopgate: %s\n", err);
		return 1;
	}
	if ((bad = import_read(c->cfg, csv, path, (int64_t)time(NULL),
	    cli_actor(c), &rows, c->err)) == -1)
		goto out;
	if (bad > 0) {
		fprintf(c->err, "stopgate: %d bad row%s in %s; nothing was "
		    "imported\n", bad, bad == 1 ? "" : "s", path);
		goto out;
	}
	if (import_write(c->st, &rows, &done) == -1) {
		fprintf(c->err, "stopgate: store: %s; %zu of %zu rows were "
		    "imported, the rest not\n", store_errmsg(c->st), done,
		    rows.n);
		goto out;
	}
	fprintf(c->out, "imported %zu opt-out%s from %s\n", rows.n,
	    rows.n == 1 ? "" : "s", path);
	rc = 0;
out:
	import_rows_free(&rows);
	csv_reader_free(csv);
	return rc;
}
