/*
 * POST /v1/import: a CSV body (at most ADMIN_BODY_MAX bytes; a larger
 * file goes through `stopgate import`) with the same columns, checks and
 * all-or-nothing rule as `stopgate import` (proxy/compliance/import.c):
 * one bad row refuses the whole body (422, every problem listed with its
 * line) and nothing is written. Staff only (a viewer is refused before
 * this runs). The events carry the user's name as actor, source import.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "proxy/admin/admin.h"
#include "proxy/admin/admin_int.h"
#include "proxy/compliance/csv.h"
#include "proxy/compliance/import.h"
#include "proxy/compliance/jsonout.h"
#include "proxy/io/log.h"
#include "store/store.h"

/* Answer 422 with every problem of the body, one a line in probs. */
static void
admin_import_refuse(struct areq *r, int bad, const char *probs)
{
	const char	*p, *e;
	size_t		 n = 0;

	if (bad > 0)
		snprintf(r->err, sizeof(r->err), "%d bad row%s; nothing was "
		    "imported", bad, bad == 1 ? "" : "s");
	else
		snprintf(r->err, sizeof(r->err), "%.300s", probs);
	r->err[strcspn(r->err, "\n")] = '\0';
	fprintf(r->fp, "{");
	jsonout_kv_str(r->fp, "error", r->err, false);
	fprintf(r->fp, ",\"problems\":[");
	for (p = probs; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		char	 line[512];

		e = p + strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)(e - p), p);
		fprintf(r->fp, "%s", n++ > 0 ? "," : "");
		jsonout_str(r->fp, line);
	}
	fprintf(r->fp, "]}");
	r->code = 422;
}

void
admin_h_import(struct areq *r)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(r->req);
	struct import_rows	 rows;
	struct csv_reader	*csv = NULL;
	char			 err[256], *probs = NULL;
	size_t			 len = evbuffer_get_length(in), plen = 0, done;
	unsigned char		*body;
	FILE			*pf = NULL;
	int			 bad;

	memset(&rows, 0, sizeof(rows));
	if (len == 0) {
		admin_fail(r, 400, "a CSV body is required (a header row "
		    "naming number, category, note, time)");
		return;
	}
	if (len > ADMIN_BODY_MAX) {
		admin_fail(r, 413, "body larger than %u bytes (import a larger "
		    "file with stopgate import)", ADMIN_BODY_MAX);
		return;
	}
	if ((body = evbuffer_pullup(in, -1)) == NULL ||
	    (pf = open_memstream(&probs, &plen)) == NULL) {
		admin_fail(r, 500, "out of memory");
		return;
	}
	if ((csv = csv_reader_open_mem((const char *)body, len, err,
	    sizeof(err))) == NULL) {
		fclose(pf);
		free(probs);
		admin_fail(r, 400, "%s", err);
		return;
	}
	bad = import_read(r->cfg, csv, "body", (int64_t)time(NULL),
	    r->who.name, &rows, pf);
	fclose(pf);
	if (bad != 0) {
		admin_import_refuse(r, bad, probs != NULL ? probs : "");
		goto out;
	}
	if (import_write(r->st, &rows, &done) == -1) {
		admin_fail(r, 503, "store: %s; %zu of %zu rows were imported, "
		    "the rest not", store_errmsg(r->st), done, rows.n);
		goto out;
	}
	log_info("event=admin_import rows=%zu actor=\"%s\"", rows.n,
	    r->who.name);
	fprintf(r->fp, "{\"imported\":%zu", rows.n);
	if (rows.n > 0)
		fprintf(r->fp, ",\"first_event_id\":%" PRIu64
		    ",\"last_event_id\":%" PRIu64, rows.evs[0].id,
		    rows.evs[rows.n - 1].id);
	fputc('}', r->fp);
	r->code = 201;
out:
	free(probs);
	import_rows_free(&rows);
	csv_reader_free(csv);
}
