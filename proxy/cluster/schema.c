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
 *   receipt_map    (message_id, upstream) -> account and node, for a
 *                  receipt that reaches another node than the one that
 *                  sent the message (normalised ids, as the stores keep
 *                  them).
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
"CREATE TABLE receipt_map (\n"
"  upstream text NOT NULL,\n"
"  message_id text NOT NULL,\n"
"  account text NOT NULL,\n"
"  node text NOT NULL,\n"
"  time timestamptz NOT NULL,\n"
"  PRIMARY KEY (message_id, upstream));\n"
"CREATE INDEX receipt_map_time ON receipt_map (time);\n"
"CREATE TABLE nodes (\n"
"  node text PRIMARY KEY,\n"
"  shipped_at timestamptz,\n"
"  applied_seq bigint NOT NULL DEFAULT 0,\n"
"  seen_at timestamptz);\n"
"";

static const char sql_v1_state[] =
"CREATE FUNCTION apply_state(p_seq bigint, b jsonb) RETURNS void\n"
"LANGUAGE plpgsql AS $$\n"
"DECLARE\n"
"  num text := b->>'number';\n"
"  t timestamptz := to_timestamp((b->>'time')::bigint);\n"
"  c text;\n"
"  g boolean;\n"
"  e boolean;\n"
"BEGIN\n"
"  -- LESS (fewer texts) is a preference, not opt-out state.\n"
"  IF b->>'action' NOT IN ('opt_out', 'opt_in') THEN\n"
"    RETURN;\n"
"  END IF;\n"
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
"";

static const char sql_v1_ship[] =
"CREATE FUNCTION ship_events(p_node text, p_rows jsonb) RETURNS bigint\n"
"LANGUAGE plpgsql AS $$\n"
"DECLARE\n"
"  s bigint;\n"
"  top bigint := 0;\n"
"  n bigint := 0;\n"
"  ev record;\n"
"BEGIN\n"
"  -- The row lock serialises shipping: seq order is commit order.\n"
"  SELECT seq INTO s FROM fleet_counter WHERE id = 1 FOR UPDATE;\n"
"  -- Rows shipped before (a retry after a lost answer) are skipped;\n"
"  -- the others get s+1, s+2, ... in the order sent. What is read\n"
"  -- back comes from the small ship_batch table, never a range of\n"
"  -- events (a cached generic plan would scan the whole log).\n"
"  CREATE TEMP TABLE IF NOT EXISTS ship_batch (seq bigint, kind text,\n"
"    num text, body jsonb, simple boolean) ON COMMIT DELETE ROWS;\n"
"  WITH r AS (\n"
"    SELECT x.v, x.ord FROM jsonb_array_elements(p_rows)\n"
"      WITH ORDINALITY AS x(v, ord)\n"
"    WHERE x.v->>'kind' <> 'msgmap'\n"
"      AND NOT EXISTS (SELECT 1 FROM events o WHERE o.node = p_node\n"
"      AND o.kind = x.v->>'kind' AND o.local_id = (x.v->>'id')::bigint)\n"
"  ), ins AS (\n"
"    INSERT INTO events (seq, node, kind, local_id, number, time, body)\n"
"    SELECT s + row_number() OVER (ORDER BY ord), p_node, v->>'kind',\n"
"      (v->>'id')::bigint, v->>'number',\n"
"      to_timestamp((v->>'time')::bigint), v->'body' FROM r\n"
"    ON CONFLICT (node, kind, local_id) DO NOTHING\n"
"    RETURNING seq, kind, number, body\n"
"  )\n"
"  INSERT INTO ship_batch SELECT seq, kind, number, body, false FROM ins;\n"
"  SELECT count(*), coalesce(max(seq), s) INTO n, top FROM ship_batch;\n"
"  -- The receipt map is not part of the ordered log: latest wins.\n"
"  INSERT INTO receipt_map (upstream, message_id, account, node, time)\n"
"  SELECT DISTINCT ON (v->'body'->>'message_id', v->'body'->>'upstream')\n"
"    v->'body'->>'upstream', v->'body'->>'message_id',\n"
"    v->'body'->>'account', p_node, to_timestamp((v->>'time')::bigint)\n"
"  FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS x(v, ord)\n"
"  WHERE v->>'kind' = 'msgmap'\n"
"  ORDER BY v->'body'->>'message_id', v->'body'->>'upstream', ord DESC\n"
"  ON CONFLICT (message_id, upstream) DO UPDATE SET\n"
"    account = EXCLUDED.account, node = EXCLUDED.node,\n"
"    time = EXCLUDED.time;\n"
"  -- State: an opt-out of categories for a number with no state that\n"
"  -- comes once in the batch (an import's rows) in one statement; the\n"
"  -- rest one by one in seq order.\n"
"  UPDATE ship_batch b SET simple = true FROM (\n"
"    SELECT seq, count(*) OVER (PARTITION BY num) AS k FROM ship_batch\n"
"    WHERE kind = 'event') w\n"
"  WHERE b.seq = w.seq AND w.k = 1 AND b.body->>'action' = 'opt_out'\n"
"    AND NOT (b.body->>'all')::boolean\n"
"    AND NOT EXISTS (SELECT 1 FROM state WHERE state.number = b.num);\n"
"  INSERT INTO state\n"
"  SELECT num, c, false, to_timestamp((body->>'time')::bigint), seq\n"
"  FROM ship_batch, jsonb_array_elements_text(body->'categories') c\n"
"  WHERE simple ON CONFLICT DO NOTHING;\n"
"  FOR ev IN SELECT seq, body FROM ship_batch\n"
"    WHERE kind = 'event' AND NOT simple ORDER BY seq LOOP\n"
"    PERFORM apply_state(ev.seq, ev.body);\n"
"  END LOOP;\n"
"  s := top;\n"
"  UPDATE fleet_counter SET seq = s WHERE id = 1;\n"
"  INSERT INTO nodes (node, shipped_at) VALUES (p_node, now())\n"
"    ON CONFLICT (node) DO UPDATE SET shipped_at = now();\n"
"  IF n > 0 THEN\n"
"    PERFORM pg_notify('" CLUSTER_CHANNEL "', s::text);\n"
"  END IF;\n"
"  RETURN n;\n"
"END $$;\n";

/*
 * Version 2: the shared outbox (proxy/cluster/outbox.h): MOs and receipts
 * for an account bound on no node where they arrived, oldest first per
 * account, until a node where it is bound takes them.
 */
static const char sql_v2[] =
"CREATE TABLE outbox (\n"
"  id bigserial PRIMARY KEY,\n"
"  account text NOT NULL,\n"
"  pdu bytea NOT NULL,\n"
"  time timestamptz NOT NULL,\n"
"  from_node text NOT NULL,\n"
"  queued_at timestamptz NOT NULL DEFAULT now());\n"
"CREATE INDEX outbox_account ON outbox (account, id);\n";

/*
 * Version 3: the sends counted by frequency caps (kind 'sent', one row
 * per send: the number, the time, {"category", "time"}), which every
 * node deletes past its longest cap window (cluster.c): a partial index
 * on their time keeps that delete off the rest of the log.
 */
static const char sql_v3[] =
"CREATE INDEX IF NOT EXISTS events_sent_time ON events (time)\n"
"  WHERE kind = 'sent';\n";

/*
 * Version 4: ship_events() writes the receipt map and the node's
 * shipped_at before it takes the fleet order's lock, and takes none for
 * a batch of receipt map entries only: with receipts asked for on every
 * message, most batches are just that, and each one used to hold every
 * other node's opt-outs back for as long as it took.
 */
static const char sql_v4_ship[] =
"CREATE OR REPLACE FUNCTION ship_events(p_node text, p_rows jsonb)\n"
"RETURNS bigint\n"
"LANGUAGE plpgsql AS $$\n"
"DECLARE\n"
"  s bigint;\n"
"  top bigint := 0;\n"
"  n bigint := 0;\n"
"  ev record;\n"
"BEGIN\n"
"  -- The receipt map is not part of the ordered log (latest wins):\n"
"  -- written before the fleet order's lock is taken, so a batch of\n"
"  -- receipt map entries never holds up another node's opt-outs, and\n"
"  -- a batch of them alone takes no lock at all.\n"
"  INSERT INTO receipt_map (upstream, message_id, account, node, time)\n"
"  SELECT DISTINCT ON (v->'body'->>'message_id', v->'body'->>'upstream')\n"
"    v->'body'->>'upstream', v->'body'->>'message_id',\n"
"    v->'body'->>'account', p_node, to_timestamp((v->>'time')::bigint)\n"
"  FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS x(v, ord)\n"
"  WHERE v->>'kind' = 'msgmap'\n"
"  ORDER BY v->'body'->>'message_id', v->'body'->>'upstream', ord DESC\n"
"  ON CONFLICT (message_id, upstream) DO UPDATE SET\n"
"    account = EXCLUDED.account, node = EXCLUDED.node,\n"
"    time = EXCLUDED.time;\n"
"  INSERT INTO nodes (node, shipped_at) VALUES (p_node, now())\n"
"    ON CONFLICT (node) DO UPDATE SET shipped_at = now();\n"
"  IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_rows) AS x(v)\n"
"      WHERE x.v->>'kind' <> 'msgmap') THEN\n"
"    RETURN 0;\n"
"  END IF;\n"
"  -- The row lock serialises shipping: seq order is commit order.\n"
"  SELECT seq INTO s FROM fleet_counter WHERE id = 1 FOR UPDATE;\n"
"  -- Rows shipped before (a retry after a lost answer) are skipped;\n"
"  -- the others get s+1, s+2, ... in the order sent. What is read\n"
"  -- back comes from the small ship_batch table, never a range of\n"
"  -- events (a cached generic plan would scan the whole log).\n"
"  CREATE TEMP TABLE IF NOT EXISTS ship_batch (seq bigint, kind text,\n"
"    num text, body jsonb, simple boolean) ON COMMIT DELETE ROWS;\n"
"  WITH r AS (\n"
"    SELECT x.v, x.ord FROM jsonb_array_elements(p_rows)\n"
"      WITH ORDINALITY AS x(v, ord)\n"
"    WHERE x.v->>'kind' <> 'msgmap'\n"
"      AND NOT EXISTS (SELECT 1 FROM events o WHERE o.node = p_node\n"
"      AND o.kind = x.v->>'kind' AND o.local_id = (x.v->>'id')::bigint)\n"
"  ), ins AS (\n"
"    INSERT INTO events (seq, node, kind, local_id, number, time, body)\n"
"    SELECT s + row_number() OVER (ORDER BY ord), p_node, v->>'kind',\n"
"      (v->>'id')::bigint, v->>'number',\n"
"      to_timestamp((v->>'time')::bigint), v->'body' FROM r\n"
"    ON CONFLICT (node, kind, local_id) DO NOTHING\n"
"    RETURNING seq, kind, number, body\n"
"  )\n"
"  INSERT INTO ship_batch SELECT seq, kind, number, body, false FROM ins;\n"
"  SELECT count(*), coalesce(max(seq), s) INTO n, top FROM ship_batch;\n"
"  -- State: an opt-out of categories for a number with no state that\n"
"  -- comes once in the batch (an import's rows) in one statement; the\n"
"  -- rest one by one in seq order.\n"
"  UPDATE ship_batch b SET simple = true FROM (\n"
"    SELECT seq, count(*) OVER (PARTITION BY num) AS k FROM ship_batch\n"
"    WHERE kind = 'event') w\n"
"  WHERE b.seq = w.seq AND w.k = 1 AND b.body->>'action' = 'opt_out'\n"
"    AND NOT (b.body->>'all')::boolean\n"
"    AND NOT EXISTS (SELECT 1 FROM state WHERE state.number = b.num);\n"
"  INSERT INTO state\n"
"  SELECT num, c, false, to_timestamp((body->>'time')::bigint), seq\n"
"  FROM ship_batch, jsonb_array_elements_text(body->'categories') c\n"
"  WHERE simple ON CONFLICT DO NOTHING;\n"
"  FOR ev IN SELECT seq, body FROM ship_batch\n"
"    WHERE kind = 'event' AND NOT simple ORDER BY seq LOOP\n"
"    PERFORM apply_state(ev.seq, ev.body);\n"
"  END LOOP;\n"
"  s := top;\n"
"  UPDATE fleet_counter SET seq = s WHERE id = 1;\n"
"  IF n > 0 THEN\n"
"    PERFORM pg_notify('" CLUSTER_CHANNEL "', s::text);\n"
"  END IF;\n"
"  RETURN n;\n"
"END $$;\n";

/* Each version: its statements (one transaction), NULL-terminated. */
static const char *const *const migrations[CLUSTER_SCHEMA_VERSION] = {
	(const char *const []){ sql_v1, sql_v1_state, sql_v1_ship, NULL },
	(const char *const []){ sql_v2, NULL },
	(const char *const []){ sql_v3, NULL },
	(const char *const []){ sql_v4_ship, NULL },
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
	size_t i;

	snprintf(num, sizeof(num), "%d", v);
	if (pg_exec(c, "BEGIN", 0, NULL, MIGRATE_TIMEOUT_MS, -1, err,
	    errlen) == -1)
		return -1;
	for (i = 0; migrations[v - 1][i] != NULL; i++)
		if (pg_exec(c, migrations[v - 1][i], 0, NULL,
		    MIGRATE_TIMEOUT_MS, -1, err, errlen) == -1)
			break;
	if (migrations[v - 1][i] != NULL ||
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
