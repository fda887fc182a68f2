/*
 * proxy/cluster/pg: libpq's asynchronous API under poll(2) deadlines.
 */
#include "proxy/cluster/pg.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proxy/io/log.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's message without its trailing newline. */
static void
pg_err(char *err, size_t errlen, const char *what, const char *msg)
{
	char *p;
	size_t n;

	snprintf(err, errlen, "%s: %s", what, msg != NULL && *msg != '\0' ?
	    msg : "failed");
	n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
	/* One log line, one quoted value: libpq's lines and quotes go. */
	for (p = err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
		else if (*p == '"')
			*p = '\'';
}

/*
 * Wait for fd (events) or wake_fd until deadline (absolute ms). 1 ready,
 * 0 timeout or woken, -1 poll failed.
 */
static int
wait_fd(int fd, short events, int wake_fd, int64_t deadline)
{
	struct pollfd pfd[2];
	int64_t left;
	int n, rc;

	for (;;) {
		if ((left = deadline - now_ms()) < 0)
			left = 0;
		pfd[0].fd = fd;
		pfd[0].events = events;
		pfd[0].revents = 0;
		pfd[1].fd = wake_fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		n = wake_fd >= 0 ? 2 : 1;
		rc = poll(pfd, (nfds_t)n, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (n == 2 && (pfd[1].revents & POLLIN))
			return 0;
		if (rc == 0)
			return 0;
		return 1;
	}
}

/* Server notices (a shutdown's FATAL, a migration's NOTICE) go to the
 * log as one line, never to stderr as libpq's default does. */
static void
notice_log(void *arg, const char *msg)
{
	char line[512];

	(void)arg;
	pg_err(line, sizeof(line), "notice", msg);
	log_info("event=postgres_notice message=\"%s\"", line + 8);
}

PGconn *
pg_connect(const char *conninfo, int timeout_ms, int wake_fd, char *err,
    size_t errlen)
{
	int64_t deadline = now_ms() + timeout_ms;
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	PGconn *c;
	int rc;

	if ((c = PQconnectStart(conninfo)) == NULL) {
		snprintf(err, errlen, "connect: out of memory");
		return NULL;
	}
	if (PQstatus(c) == CONNECTION_BAD) {
		pg_err(err, errlen, "connect", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice_log, NULL);
	while (ps != PGRES_POLLING_OK) {
		if (ps == PGRES_POLLING_FAILED) {
			pg_err(err, errlen, "connect", PQerrorMessage(c));
			PQfinish(c);
			return NULL;
		}
		rc = wait_fd(PQsocket(c), ps == PGRES_POLLING_READING ?
		    POLLIN : POLLOUT, wake_fd, deadline);
		if (rc != 1) {
			snprintf(err, errlen, "connect: %s", rc == 0 ?
			    "timed out or stopped" : strerror(errno));
			PQfinish(c);
			return NULL;
		}
		ps = PQconnectPoll(c);
	}
	if (PQsetnonblocking(c, 1) != 0) {
		pg_err(err, errlen, "connect", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Send what libpq holds. 0 or -1 (err set). */
static int
flush_all(PGconn *c, int wake_fd, int64_t deadline, char *err,
    size_t errlen)
{
	int rc;

	while ((rc = PQflush(c)) == 1) {
		if (wait_fd(PQsocket(c), POLLOUT | POLLIN, wake_fd,
		    deadline) != 1) {
			snprintf(err, errlen, "query: timed out sending");
			return -1;
		}
		/* Read too: the server may wait for us to read before it
		 * reads more (libpq's documented flush loop). */
		if (PQconsumeInput(c) == 0) {
			pg_err(err, errlen, "query", PQerrorMessage(c));
			return -1;
		}
	}
	if (rc == -1) {
		pg_err(err, errlen, "query", PQerrorMessage(c));
		return -1;
	}
	return 0;
}

/* Collect every result; keep the last, fail on any error. */
static PGresult *
results_take(PGconn *c, int wake_fd, int64_t deadline, char *err,
    size_t errlen)
{
	PGresult *r, *last = NULL;
	ExecStatusType st;
	bool is_bad = false;

	for (;;) {
		while (PQisBusy(c)) {
			if (wait_fd(PQsocket(c), POLLIN, wake_fd,
			    deadline) != 1) {
				snprintf(err, errlen, "query: timed out "
				    "waiting for the answer");
				PQclear(last);
				return NULL;
			}
			if (PQconsumeInput(c) == 0) {
				pg_err(err, errlen, "query",
				    PQerrorMessage(c));
				PQclear(last);
				return NULL;
			}
		}
		if ((r = PQgetResult(c)) == NULL)
			break;
		st = PQresultStatus(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
		    !is_bad) {
			is_bad = true;
			pg_err(err, errlen, "query",
			    PQresultErrorMessage(r));
		}
		PQclear(last);
		last = r;
	}
	if (is_bad || last == NULL) {
		if (!is_bad)
			snprintf(err, errlen, "query: no result");
		PQclear(last);
		return NULL;
	}
	return last;
}

PGresult *
pg_query(PGconn *c, const char *sql, int nparams, const char *const *params,
    int timeout_ms, int wake_fd, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + timeout_ms;
	int ok;

	if (nparams == 0)
		ok = PQsendQuery(c, sql);
	else
		ok = PQsendQueryParams(c, sql, nparams, NULL, params, NULL,
		    NULL, 0);
	if (!ok) {
		pg_err(err, errlen, "query", PQerrorMessage(c));
		return NULL;
	}
	if (flush_all(c, wake_fd, deadline, err, errlen) == -1)
		return NULL;
	return results_take(c, wake_fd, deadline, err, errlen);
}

int
pg_exec(PGconn *c, const char *sql, int nparams, const char *const *params,
    int timeout_ms, int wake_fd, char *err, size_t errlen)
{
	PGresult *r;

	if ((r = pg_query(c, sql, nparams, params, timeout_ms, wake_fd, err,
	    errlen)) == NULL)
		return -1;
	PQclear(r);
	return 0;
}

int
pg_wait(PGconn *c, int wake_fd, int timeout_ms, char *err, size_t errlen)
{
	int rc;

	rc = wait_fd(PQsocket(c), POLLIN, wake_fd, now_ms() + timeout_ms);
	if (rc == -1) {
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return -1;
	}
	if (rc == 0)
		return 0;
	if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
		pg_err(err, errlen, "connection", PQerrorMessage(c));
		return -1;
	}
	return 1;
}
