/*
 * proxy/cluster/schema: the fleet's tables and their migrations.
 *
 * Version 1:
 *   fleet_counter  one row: the last fleet sequence handed out. Every
 *                  shipping transaction locks it (ship_events), so
 *                  sequence values become visible in commit order and a
 *                  follower reading "seq > position ORDER BY seq" can
 *                  never step over a row committed later with a lower
 *                  seq (what a plain sequence would allow).
 *   events         the fleet's log, in one order: every opt-out / opt-in
 *                  (kind 'event') and every rejected send (kind
 *                  'audit') of every node: seq, node, kind, local_id
 *                  (UNIQUE(node, kind, local_id): a row shipped twice is
 *                  kept once), number (the subscriber, the destination
 *                  of a refused send), time, the record as JSON (body),
 *                  committed_at.
 *   state          the fleet's current opt-out state per number and
 *                  category ('*' = every category), kept by ship_events
 *                  with the rules of the nodes' store (for reports; each
 *                  node enforces from its own replica).
 *   nodes          each node's last shipping and applied position.
 */
#include "proxy/cluster/schema.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/cluster/pg.h"

#define MIGRATE_TIMEOUT_MS	60000

static const char sql_v1[] =
"CREATE TABLE fleet_counter (\n"
"  id integer PRIMARY KEY CHECK (id = 1),\n"
"  seq bigint NOT NULL);\n"
"INSERT INTO fleet_counter VALUES (1, 0);\n"
"CREATE TABLE events (\n"
"  seq bigint PRIMARY KEY,\n"
"  node text NOT NULL,\n"
"  kind text NOT NULL,\n"
"  local_id bigint NOT NULL,\n"
"  number text NOT NULL,\n"
"  time timestamptz NOT NULL,\n"
"  body jsonb NOT NULL,\n"
"  committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
"  UNIQUE (node, kind, local_id));\n"
"CREATE INDEX events_number ON events (number, seq);\n"
"CREATE TABLE state (\n"
"  number text NOT NULL,\n"
"  category text NOT NULL,\n"
"  is_exception boolean NOT NULL,\n"
"  since timestamptz NOT NULL,\n"
"  seq bigint NOT NULL,\n"
"  PRIMARY KEY (number, category));\n"
"CREATE TABLE nodes (\n"
"  node text PRIMARY KEY,\n"
"  shipped_at timestamptz,\n"
"  applied_seq bigint NOT NULL DEFAULT 0,\n"
"  seen_at timestamptz);\n"
"CREATE FUNCTION apply_state(p_seq bigint, b jsonb) RETURNS void\n"
"LANGUAGE plpgsql AS $$\n"
"DECLARE\n"
"  num text := b->>'number';\n"
"  t timestamptz := to_timestamp((b->>'time')::bigint);\n"
"  c text;\n"
"  g boolean;\n"
"  e boolean;\n"
"BEGIN\n"
"  g := EXISTS (SELECT 1 FROM state WHERE number = num\n"
"    AND category = '*');\n"
"  IF (b->>'all')::boolean THEN\n"
"    IF b->>'action' = 'opt_out' THEN\n"
"      IF NOT g THEN\n"
"        INSERT INTO state VALUES (num, '*', false, t, p_seq);\n"
"      END IF;\n"
"      DELETE FROM state WHERE number = num AND is_exception;\n"
"    ELSE\n"
"      DELETE FROM state WHERE number = num;\n"
"    END IF;\n"
"    RETURN;\n"
"  END IF;\n"
"  FOR c IN SELECT jsonb_array_elements_text(b->'categories') LOOP\n"
"    SELECT is_exception INTO e FROM state\n"
"      WHERE number = num AND category = c;\n"
"    IF b->>'action' = 'opt_out' THEN\n"
"      IF FOUND AND e THEN\n"
"        UPDATE state SET is_exception = false, since = t, seq = p_seq\n"
"          WHERE number = num AND category = c;\n"
"      ELSIF NOT FOUND AND NOT g THEN\n"
"        INSERT INTO state VALUES (num, c, false, t, p_seq);\n"
"      END IF;\n"
"    ELSIF g THEN\n"
"      IF NOT FOUND THEN\n"
"        INSERT INTO state VALUES (num, c, true, t, p_seq);\n"
"      ELSIF NOT e THEN\n"
"        UPDATE state SET is_exception = true, since = t, seq = p_seq\n"
"          WHERE number = num AND category = c;\n"
"      END IF;\n"
"    ELSIF FOUND THEN\n"
"      DELETE FROM state WHERE number = num AND category = c;\n"
"    END IF;\n"
"  END LOOP;\n"
"END $$;\n"
"CREATE FUNCTION ship_events(p_node text, p_rows jsonb) RETURNS bigint\n"
"LANGUAGE plpgsql AS $$\n"
"DECLARE\n"
"  r jsonb;\n"
"  s bigint;\n"
"  n bigint := 0;\n"
"  got bigint;\n"
"BEGIN\n"
"  -- The row lock serialises shipping: seq order is commit order.\n"
"  SELECT seq INTO s FROM fleet_counter WHERE id = 1 FOR UPDATE;\n"
"  FOR r IN SELECT * FROM jsonb_array_elements(p_rows) LOOP\n"
"    INSERT INTO events (seq, node, kind, local_id, number, time, body)\n"
"      VALUES (s + 1, p_node, r->>'kind', (r->>'id')::bigint,\n"
"        r->>'number', to_timestamp((r->>'time')::bigint), r->'body')\n"
"      ON CONFLICT (node, kind, local_id) DO NOTHING;\n"
"    GET DIAGNOSTICS got = ROW_COUNT;\n"
"    IF got > 0 THEN\n"
"      s := s + 1;\n"
"      n := n + 1;\n"
"      IF r->>'kind' = 'event' THEN\n"
"        PERFORM apply_state(s, r->'body');\n"
"      END IF;\n"
"    END IF;\n"
"  END LOOP;\n"
"  UPDATE fleet_counter SET seq = s WHERE id = 1;\n"
"  INSERT INTO nodes (node, shipped_at) VALUES (p_node, now())\n"
"    ON CONFLICT (node) DO UPDATE SET shipped_at = now();\n"
"  IF n > 0 THEN\n"
"    PERFORM pg_notify('" CLUSTER_CHANNEL "', s::text);\n"
"  END IF;\n"
"  RETURN n;\n"
"END $$;\n";

static const char *const migrations[CLUSTER_SCHEMA_VERSION] = {
	sql_v1,
};

int
cluster_schema_version(PGconn *c, int timeout_ms, int wake_fd, int *version,
    char *err, size_t errlen)
{
	PGresult *r;

	*version = 0;
	r = pg_query(c, "SELECT coalesce(max(version), 0) FROM "
	    "schema_version WHERE to_regclass('schema_version') IS NOT NULL",
	    0, NULL, timeout_ms, wake_fd, err, errlen);
	if (r == NULL) {
		/* No table at all: a database never migrated. */
		if (strstr(err, "does not exist") != NULL)
			return 0;
		return -1;
	}
	if (PQntuples(r) == 1)
		*version = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/* Apply step v (1-based) in one transaction with its version row. */
static int
migrate_step(PGconn *c, int v, char *err, size_t errlen)
{
	char num[16];
	const char *params[1] = { num };

	snprintf(num, sizeof(num), "%d", v);
	if (pg_exec(c, "BEGIN", 0, NULL, MIGRATE_TIMEOUT_MS, -1, err,
	    errlen) == -1)
		return -1;
	if (pg_exec(c, migrations[v - 1], 0, NULL, MIGRATE_TIMEOUT_MS, -1,
	    err, errlen) == -1 ||
	    pg_exec(c, "INSERT INTO schema_version (version) VALUES ($1)",
	    1, params, MIGRATE_TIMEOUT_MS, -1, err, errlen) == -1 ||
	    pg_exec(c, "COMMIT", 0, NULL, MIGRATE_TIMEOUT_MS, -1, err,
	    errlen) == -1) {
		char ignore[64];

		(void)pg_exec(c, "ROLLBACK", 0, NULL, MIGRATE_TIMEOUT_MS, -1,
		    ignore, sizeof(ignore));
		return -1;
	}
	return 0;
}

int
cluster_migrate(const char *conninfo, FILE *out, char *err, size_t errlen)
{
	PGconn *c;
	int v, have, rc = -1;

	if ((c = pg_connect(conninfo, MIGRATE_TIMEOUT_MS, -1, err,
	    errlen)) == NULL)
		return -1;
	/* One migrate at a time per database; the lock goes with the
	 * session. */
	if (pg_exec(c, "SELECT pg_advisory_lock(hashtext("
	    "'stopgate migrate'))", 0, NULL, MIGRATE_TIMEOUT_MS, -1, err,
	    errlen) == -1 ||
	    pg_exec(c, "SET client_min_messages = warning; "
	    "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version integer PRIMARY KEY, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL,
	    MIGRATE_TIMEOUT_MS, -1, err, errlen) == -1 ||
	    cluster_schema_version(c, MIGRATE_TIMEOUT_MS, -1, &have, err,
	    errlen) == -1)
		goto out;
	if (have > CLUSTER_SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema is at version %d, "
		    "newer than this build's %d; use a newer stopgate", have,
		    CLUSTER_SCHEMA_VERSION);
		goto out;
	}
	for (v = have + 1; v <= CLUSTER_SCHEMA_VERSION; v++) {
		if (migrate_step(c, v, err, errlen) == -1) {
			char msg[512];

			snprintf(msg, sizeof(msg), "%s", err);
			snprintf(err, errlen, "migration %d: %s", v, msg);
			goto out;
		}
		if (out != NULL)
			fprintf(out, "applied migration %d\n", v);
	}
	if (out != NULL)
		fprintf(out, "schema at version %d%s\n",
		    CLUSTER_SCHEMA_VERSION, have == CLUSTER_SCHEMA_VERSION ?
		    " (nothing to do)" : "");
	rc = 0;
out:
	PQfinish(c);
	return rc;
}
