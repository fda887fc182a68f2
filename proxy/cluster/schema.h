/*
 * The fleet's PostgreSQL schema (SPEC §8) and its migrations: a list of
 * versioned steps, each applied once in its own transaction and recorded
 * in schema_version, under an advisory lock so that two `stopgate db
 * migrate` at once cannot both apply a step. Run again, it does nothing.
 */
#ifndef PROXY_CLUSTER_SCHEMA_H
#define PROXY_CLUSTER_SCHEMA_H

#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

/* The schema version this build reads and writes. */
#define CLUSTER_SCHEMA_VERSION	4

/* The channel NOTIFY wakes followers on (payload: the newest seq). */
#define CLUSTER_CHANNEL		"stopgate_events"

/*
 * Bring the database of conninfo to CLUSTER_SCHEMA_VERSION, telling out
 * (may be NULL) each step applied. Returns 0, or -1 with the reason in
 * err (steps applied before the failing one stay applied).
 */
int cluster_migrate(const char *conninfo, FILE *out, char *err,
    size_t errlen);

/*
 * The schema version of c's database (0: never migrated). Returns 0, or
 * -1 with err set.
 */
int cluster_schema_version(PGconn *c, int timeout_ms, int wake_fd,
    int *version, char *err, size_t errlen);

#endif /* PROXY_CLUSTER_SCHEMA_H */
