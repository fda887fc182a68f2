/*
 * libpq with deadlines: the asynchronous API (PQconnectStart /
 * PQconnectPoll, PQsendQuery[Params], PQflush, PQconsumeInput, PQisBusy,
 * PQgetResult) driven by poll(2) on the connection's socket and a wake
 * descriptor, so no wait on PostgreSQL is ever longer than its deadline
 * and a stop request ends any of them at once. Used by the cluster
 * thread (proxy/cluster/cluster.c) and, for one-shot commands, the CLI
 * (migrate, status). Only proxy/cluster includes libpq.
 */
#ifndef PROXY_CLUSTER_PG_H
#define PROXY_CLUSTER_PG_H

#include <stddef.h>

#include <libpq-fe.h>

/*
 * Connect to conninfo within timeout_ms. wake_fd (-1: none) readable
 * ends the attempt. Returns a connection (PQfinish() it) or NULL with
 * the reason in err.
 */
PGconn *pg_connect(const char *conninfo, int timeout_ms, int wake_fd,
    char *err, size_t errlen);

/*
 * Run sql (nparams text parameters; with none, sql may hold several
 * statements) and wait for every result within timeout_ms. Returns the
 * last result (PQclear() it) when every result succeeded, else NULL with
 * the reason in err (the connection is then best dropped). Notifications
 * that come meanwhile stay queued for PQnotifies().
 */
PGresult *pg_query(PGconn *c, const char *sql, int nparams,
    const char *const *params, int timeout_ms, int wake_fd, char *err,
    size_t errlen);

/* pg_query() whose result is only checked. Returns 0 or -1 (err set). */
int pg_exec(PGconn *c, const char *sql, int nparams,
    const char *const *params, int timeout_ms, int wake_fd, char *err,
    size_t errlen);

/*
 * Wait up to timeout_ms for input on c (read into libpq, notifications
 * queued) or for wake_fd. Returns 1 if c had input, 0 on timeout or
 * wake, -1 with err set if the connection failed.
 */
int pg_wait(PGconn *c, int wake_fd, int timeout_ms, char *err,
    size_t errlen);

#endif /* PROXY_CLUSTER_PG_H */
