/*
 * proxy/cluster/status: the replication lines of `stopgate status`
 * (cluster.h), read synchronously: the CLI has no loop to keep free.
 */
#include "proxy/cluster/cluster.h"

#include <inttypes.h>
#include <stdlib.h>

#include "proxy/cluster/pg.h"
#include "store/journal.h"

#define STATUS_TIMEOUT_MS	3000

/* The fleet's newest seq and how long ago the oldest row this node has
 * not applied was committed. Returns 0 or -1 (err set). */
static int
fleet_read(const char *conninfo, uint64_t applied, uint64_t *fleet,
    double *lag_s, char *err, size_t errlen)
{
	char pos[24];
	const char *params[1] = { pos };
	PGresult *r;
	PGconn *c;

	if ((c = pg_connect(conninfo, STATUS_TIMEOUT_MS, -1, err,
	    errlen)) == NULL)
		return -1;
	snprintf(pos, sizeof(pos), "%" PRIu64, applied);
	r = pg_query(c, "SELECT (SELECT seq FROM fleet_counter), "
	    "coalesce(extract(epoch FROM clock_timestamp() - "
	    "(SELECT min(committed_at) FROM events WHERE seq > $1)), 0)",
	    1, params, STATUS_TIMEOUT_MS, -1, err, errlen);
	PQfinish(c);
	if (r == NULL)
		return -1;
	*fleet = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	*lag_s = strtod(PQgetvalue(r, 0, 1), NULL);
	PQclear(r);
	return 0;
}

int
cluster_status_print(FILE *out, struct store *st, const char *node,
    const char *conninfo)
{
	uint64_t applied, fleet;
	size_t rows;
	double lag_s;
	char err[256];

	if (store_journal_depth(st, &rows, &applied) == -1)
		return -1;
	fprintf(out, "cluster node %s: applied fleet seq %" PRIu64
	    ", journal %zu row%s to ship\n", node, applied, rows,
	    rows == 1 ? "" : "s");
	if (conninfo == NULL) {
		fprintf(out, "cluster: PostgreSQL not read (its conninfo is "
		    "a secret this user cannot read)\n");
		return 0;
	}
	if (fleet_read(conninfo, applied, &fleet, &lag_s, err,
	    sizeof(err)) == -1) {
		fprintf(out, "cluster: PostgreSQL unreachable: %s\n", err);
		return 0;
	}
	fprintf(out, "cluster: fleet seq %" PRIu64 ", %" PRIu64 " behind, "
	    "lag %.3f s\n", fleet, fleet > applied ? fleet - applied : 0,
	    lag_s);
	return 0;
}
