/*
 * proxy/cluster/outbox: the fleet's shared outbox (outbox.h).
 */
#include "proxy/cluster/outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/cluster/pg.h"
#include "proxy/io/log.h"
#include "smpp/pdu.h"
#include "smpp/receipt.h"

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

/* The message id a receipt names (its TLV, else its text). 0 or -1. */
static int
receipt_id(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	const struct smpp_tlv *t;
	const uint8_t *text;
	struct smpp_pdu pdu;
	struct smpp_receipt r;
	size_t n, textlen = 0;

	if (smpp_pdu_decode(&pdu, buf, len) != SMPP_OK)
		return -1;
	t = smpp_pdu_tlv_find(&pdu, SMPP_TLV_RECEIPTED_MESSAGE_ID);
	if (t != NULL && t->len > 0) {
		n = strnlen((const char *)t->value, t->len);
		if (n > 0 && n < cap) {
			memcpy(out, t->value, n);
			out[n] = '\0';
			return 0;
		}
	}
	text = smpp_pdu_text(&pdu, &textlen);
	if (text == NULL ||
	    smpp_receipt_parse((const char *)text, textlen, &r) == -1 ||
	    strlen(r.id) >= cap)
		return -1;
	memcpy(out, r.id, strlen(r.id) + 1);
	return 0;
}

/* The account of message id in the fleet's map: 1 found, 0 not, -1. */
static int
receipt_account(PGconn *pg, int wake_fd, const char *id, char *account,
    char *err, size_t errlen)
{
	char v[SMPP_MSGID_VARIANTS_MAX][SMPP_RECEIPT_ID_LEN];
	const char *params[SMPP_MSGID_VARIANTS_MAX];
	PGresult *r;
	int i, n, found;

	if ((n = smpp_msgid_variants(id, v, SMPP_MSGID_VARIANTS_MAX)) == 0)
		return 0;
	for (i = 0; i < SMPP_MSGID_VARIANTS_MAX; i++)
		params[i] = v[i < n ? i : 0];
	r = pg_query(pg, "SELECT account FROM receipt_map WHERE message_id "
	    "IN ($1, $2, $3) ORDER BY time DESC LIMIT 1", 3, params,
	    OUTBOX_TIMEOUT_MS, wake_fd, err, errlen);
	if (r == NULL)
		return -1;
	found = PQntuples(r) == 1;
	if (found)
		snprintf(account, STORE_NAME_MAX, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return found;
}

/*
 * Receipts this node could not route: to the shared outbox of the
 * account the fleet's map names; oldest first, one unknown holds the
 * rest until it is found or CLUSTER_RECEIPT_WAIT_S old.
 */
static int
receipts_resolve(PGconn *pg, struct store *st, const char *node,
    int wake_fd, const char *receipts, uint8_t *buf, char *hex,
    size_t *moved, char *err, size_t errlen)
{
	char id[SMPP_RECEIPT_ID_LEN], account[STORE_NAME_MAX], tbuf[24];
	const char *params[4] = { account, hex, tbuf, node };
	uint64_t oid;
	int64_t at;
	size_t len, k;
	int r;

	for (k = 0; k < OUTBOX_BATCH; k++) {
		if ((r = store_outbox_peek(st, receipts, &oid, buf,
		    SMPP_MAX_PDU_LEN, &len, &at)) != 1)
			break;
		r = receipt_id(buf, len, id, sizeof(id)) == -1 ? 0 :
		    receipt_account(pg, wake_fd, id, account, err, errlen);
		if (r == -1)
			return -1;
		if (r == 0 && (int64_t)time(NULL) - at <
		    CLUSTER_RECEIPT_WAIT_S)
			break;	/* its map entry may be on its way */
		if (r == 0)
			log_warnx("event=receipt_unroutable message_id=%s "
			    "reason=unknown fleet=yes doing=receipt", id);
		else {
			hex_put(hex, buf, len);
			snprintf(tbuf, sizeof(tbuf), "%" PRId64, at);
			if (pg_exec(pg, "INSERT INTO outbox (account, pdu, "
			    "time, from_node) VALUES ($1, decode($2, 'hex'), "
			    "to_timestamp($3), $4)", 4, params,
			    OUTBOX_TIMEOUT_MS, wake_fd, err, errlen) == -1)
				return -1;
			(*moved)++;
		}
		if (store_outbox_del(st, receipts, oid) == -1)
			break;
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
    size_t n, const char *receipts, size_t *moved, char *err,
    size_t errlen)
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
	rc = receipts_resolve(pg, st, node, wake_fd, receipts, buf, hex,
	    &pushed, err, errlen);
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
