/*
 * proxy/cluster/outbox: the fleet's shared outbox (outbox.h).
 */
#include "proxy/cluster/outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/cluster/pg.h"
#include "proxy/io/log.h"
#include "smpp/pdu.h"

#define OUTBOX_BATCH		50
#define OUTBOX_TIMEOUT_MS	5000

static void
hex_put(char *out, const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hex_get(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned v;

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

/* Local entries of an account bound nowhere here, to PostgreSQL. */
static int
push(PGconn *pg, struct store *st, const char *node, int wake_fd,
    const char *account, uint8_t *buf, char *hex, size_t *moved,
    char *err, size_t errlen)
{
	char tbuf[24];
	const char *params[4] = { account, hex, tbuf, node };
	uint64_t id;
	int64_t time;
	size_t len, k;
	int r;

	for (k = 0; k < OUTBOX_BATCH; k++) {
		r = store_outbox_peek(st, account, &id, buf, SMPP_MAX_PDU_LEN,
		    &len, &time);
		if (r == 0)
			break;
		if (r == -1) {
			log_warnx("event=cluster_outbox_failed account=%s "
			    "error=\"%s\"", account, store_errmsg(st));
			break;
		}
		hex_put(hex, buf, len);
		snprintf(tbuf, sizeof(tbuf), "%" PRId64, time);
		if (pg_exec(pg, "INSERT INTO outbox (account, pdu, time, "
		    "from_node) VALUES ($1, decode($2, 'hex'), "
		    "to_timestamp($3), $4)", 4, params, OUTBOX_TIMEOUT_MS,
		    wake_fd, err, errlen) == -1)
			return -1;
		if (store_outbox_del(st, account, id) == -1) {
			log_warnx("event=cluster_outbox_failed account=%s "
			    "error=\"%s\"", account, store_errmsg(st));
			break;
		}
		(*moved)++;
	}
	return 0;
}

/* PostgreSQL's entries of an account bound here, into the store. */
static int
pull(PGconn *pg, struct store *st, int wake_fd, const char *account,
    uint8_t *buf, size_t *moved, char *err, size_t errlen)
{
	const char *params[1] = { account };
	PGresult *r;
	size_t len;
	int i, n, ok = 1;

	if (pg_exec(pg, "BEGIN", 0, NULL, OUTBOX_TIMEOUT_MS, wake_fd, err,
	    errlen) == -1)
		return -1;
	r = pg_query(pg, "WITH d AS (DELETE FROM outbox WHERE id IN (SELECT "
	    "id FROM outbox WHERE account = $1 ORDER BY id LIMIT 50 FOR "
	    "UPDATE SKIP LOCKED) RETURNING id, encode(pdu, 'hex') AS pdu, "
	    "extract(epoch FROM time)::bigint AS t) SELECT pdu, t FROM d "
	    "ORDER BY id", 1, params, OUTBOX_TIMEOUT_MS, wake_fd, err,
	    errlen);
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	for (i = 0; i < n && ok; i++) {
		if (hex_get(PQgetvalue(r, i, 0), buf, SMPP_MAX_PDU_LEN,
		    &len) == -1 || store_outbox_put(st, account, buf, len,
		    strtoll(PQgetvalue(r, i, 1), NULL, 10), 0, NULL) == -1) {
			log_warnx("event=cluster_outbox_failed account=%s "
			    "error=\"%s\"", account, store_errmsg(st));
			ok = 0;
		}
	}
	PQclear(r);
	/* What could not be kept here stays in PostgreSQL. */
	if (pg_exec(pg, ok ? "COMMIT" : "ROLLBACK", 0, NULL,
	    OUTBOX_TIMEOUT_MS, wake_fd, err, errlen) == -1)
		return -1;
	if (ok)
		*moved += (size_t)n;
	return 0;
}

int
cluster_outbox_pass(PGconn *pg, struct store *st, const char *node,
    int wake_fd, const char (*names)[STORE_NAME_MAX], const bool *bound,
    size_t n, size_t *moved, char *err, size_t errlen)
{
	uint8_t *buf;
	char *hex;
	size_t i, pushed = 0;
	int rc = 0;

	*moved = 0;
	if ((buf = malloc(SMPP_MAX_PDU_LEN)) == NULL ||
	    (hex = malloc(2 * SMPP_MAX_PDU_LEN + 1)) == NULL) {
		free(buf);
		return 0;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (bound[i])
			rc = pull(pg, st, wake_fd, names[i], buf, moved, err,
			    errlen);
		else
			rc = push(pg, st, node, wake_fd, names[i], buf, hex,
			    &pushed, err, errlen);
	}
	if (rc == 0 && pushed > 0)
		rc = pg_exec(pg, "NOTIFY " CLUSTER_OUTBOX_CHANNEL, 0, NULL,
		    OUTBOX_TIMEOUT_MS, wake_fd, err, errlen);
	*moved += pushed;
	free(hex);
	free(buf);
	return rc;
}
