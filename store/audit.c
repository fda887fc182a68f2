/*
 * store/audit: the rejected-send audit log, the last-sent attribution
 * table and the (upstream, message_id) -> account receipt map.
 */
#include "store/store.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/sentlog.h"
#include "store/store_int.h"

/* ------------------------------------------------------------------ */
/* Audit log.                                                          */

struct audit_arg {
	struct store_audit *recs;
	size_t		 n;
};

static int
audit_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct audit_arg *aa = arg;
	uint8_t val[STORE_VALUE_MAX], key[STORE_KEY_MAX], tk[16];
	MDB_val k, v;
	size_t i, len;
	int rc;

	for (i = 0; i < aa->n; i++) {
		struct store_audit *a = &aa->recs[i];

		if ((rc = store_seq_next(st, txn, "seq.audit", &a->id)) != 0)
			return rc;
		store_time_put(tk, a->time);
		store_be64_put(tk + 8, a->id);
		if ((len = store_audit_encode(a, val, sizeof(val))) == 0) {
			store_fail(st, STORE_E_INVAL, "audit record too large");
			return STORE_RC_SET;
		}
		k.mv_size = sizeof(tk);
		k.mv_data = tk;
		v.mv_size = len;
		v.mv_data = val;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_AUDIT], &k, &v, 0)))
			return rc;
		len = store_key2(key, sizeof(key) - sizeof(tk), a->destination,
		    NULL);
		memcpy(key + len, tk, sizeof(tk));
		k.mv_size = len + sizeof(tk);
		k.mv_data = key;
		v.mv_size = 0;
		v.mv_data = NULL;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_AUDITNUM], &k, &v, 0)))
			return rc;
	}
	return 0;
}

int
store_audit_add(struct store *st, struct store_audit *recs, size_t n)
{
	struct audit_arg aa = { recs, n };
	size_t i;

	store_ok(st);
	for (i = 0; i < n; i++) {
		const struct store_audit *a = &recs[i];

		if (!store_field_ok(a->destination, sizeof(a->destination),
		    false) ||
		    !store_field_ok(a->account, sizeof(a->account), true) ||
		    !store_field_ok(a->category, sizeof(a->category), true) ||
		    !store_field_ok(a->service_type, sizeof(a->service_type),
		    true) ||
		    !store_field_ok(a->source, sizeof(a->source), true))
			return store_fail(st, STORE_E_INVAL,
			    "audit record %zu: bad field", i + 1);
	}
	if (n == 0)
		return 0;
	return store_write(st, audit_body, &aa, false, "writing audit records");
}

/* Does a match f? (time bounds are checked by the caller's scan.) */
static bool
audit_match(const struct store_audit *a, const struct store_audit_filter *f)
{
	if (f->number != NULL && strcmp(f->number, a->destination) != 0)
		return false;
	if (f->account != NULL && strcmp(f->account, a->account) != 0)
		return false;
	if (f->category != NULL && strcmp(f->category, a->category) != 0)
		return false;
	return true;
}

int
store_audit_query(struct store *st, const struct store_audit_filter *f,
    store_audit_fn cb, void *arg)
{
	static const struct store_audit_filter none;
	uint8_t prefix[STORE_KEY_MAX];
	struct store_audit a;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v, pk, pv;
	size_t plen = 0, seen = 0;
	bool by_number;
	int rc, cbret = 0;

	store_ok(st);
	if (f == NULL)
		f = &none;
	by_number = f->number != NULL;
	if (by_number && !store_str_ok(f->number, STORE_NUMBER_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number");
	if (by_number)
		plen = store_key2(prefix, sizeof(prefix) - 16, f->number, NULL);
	store_time_put(prefix + plen, f->since != 0 ? f->since : INT64_MIN);
	memset(prefix + plen + 8, 0, 8);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, by_number ? STORE_DB_AUDITNUM :
	    STORE_DB_AUDIT, prefix, plen + 16, &cur, &k, &v);
	while (rc == 0 && cbret == 0 && (f->max == 0 || seen < f->max)) {
		const uint8_t *tk;

		if (by_number && !store_key_has_prefix(&k, prefix, plen))
			break;
		if (k.mv_size != plen + 16) {
			rc = MDB_CORRUPTED;
			break;
		}
		tk = (const uint8_t *)k.mv_data + plen;
		if (f->until != 0 && store_time_get(tk) >= f->until)
			break;
		if (by_number) {
			pk.mv_size = 16;
			pk.mv_data = (void *)(uintptr_t)tk;
			rc = mdb_get(txn, st->dbi[STORE_DB_AUDIT], &pk, &pv);
			if (rc == MDB_NOTFOUND)
				goto next;
			if (rc != 0)
				break;
		} else {
			pv = v;
		}
		if (store_audit_decode(&pv, &a) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (audit_match(&a, f)) {
			cbret = cb(&a, arg);
			seen++;
		}
next:
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading the audit log");
}

/* ------------------------------------------------------------------ */
/* Attribution.                                                        */

struct lastsent_arg {
	const struct store_lastsent_entry *e;
	size_t		 n;
};

static int
lastsent_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct lastsent_arg *la = arg;
	uint8_t val[256];
	MDB_val k, v;
	size_t i;
	int rc;

	for (i = 0; i < la->n; i++) {
		k.mv_size = strlen(la->e[i].number);
		k.mv_data = (void *)(uintptr_t)la->e[i].number;
		v.mv_size = store_lastsent_encode(&la->e[i].last, val,
		    sizeof(val));
		v.mv_data = val;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_LASTSENT], &k, &v,
		    0)) != 0)
			return rc;
	}
	return 0;
}

/* Validate n last-sent entries. Returns 0, or -1 with the error set. */
static int
lastsent_check(struct store *st, const struct store_lastsent_entry *entries,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct store_lastsent_entry *e = &entries[i];

		if (!store_field_ok(e->number, sizeof(e->number), false) ||
		    !store_field_ok(e->last.account, sizeof(e->last.account),
		    true) ||
		    !store_field_ok(e->last.category,
		    sizeof(e->last.category), true) ||
		    !store_field_ok(e->last.service_type,
		    sizeof(e->last.service_type), true))
			return store_fail(st, STORE_E_INVAL,
			    "last-sent entry %zu: bad field", i + 1);
	}
	return 0;
}

int
store_lastsent_put(struct store *st,
    const struct store_lastsent_entry *entries, size_t n)
{
	struct lastsent_arg la = { entries, n };

	store_ok(st);
	if (lastsent_check(st, entries, n) == -1)
		return -1;
	if (n == 0)
		return 0;
	return store_write(st, lastsent_body, &la, true,
	    "recording last-sent messages");
}

int
store_lastsent_get(struct store *st, const char *number,
    struct store_lastsent *out)
{
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	store_ok(st);
	if (!store_str_ok(number, STORE_NUMBER_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number");
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	k.mv_size = strlen(number);
	k.mv_data = (void *)(uintptr_t)number;
	rc = mdb_get(txn, st->dbi[STORE_DB_LASTSENT], &k, &v);
	if (rc == 0 && store_lastsent_decode(&v, out) != 0)
		rc = MDB_CORRUPTED;
	store_read_end(st);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading last-sent");
	return 1;
}

/* ------------------------------------------------------------------ */
/* Receipt map.                                                        */

int
store_msgid_normalize(const char *in, char *out, size_t cap)
{
	size_t n, i;

	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t' ||
	    in[n - 1] == '\r' || in[n - 1] == '\n'))
		n--;
	/* Zero padding: "000123" and "123" are one id; "0" stays. */
	while (n > 1 && in[0] == '0') {
		in++;
		n--;
	}
	if (n == 0 || n >= cap)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return 0;
}

/* Parse all of s in base (10 or 16) into a 64-bit value; 0 or -1. */
static int
msgid_parse(const char *s, unsigned base, uint64_t *out)
{
	uint64_t v = 0;
	unsigned d;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

struct msgmap_arg {
	const struct store_msgmap *e;
	size_t		 n;
};

static int
msgmap_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct msgmap_arg *ma = arg;
	uint8_t key[STORE_KEY_MAX], tkey[STORE_KEY_MAX], val[64];
	char id[STORE_MSGID_MAX];
	struct store_wbuf w;
	MDB_val k, v;
	size_t i, len;
	int rc;

	for (i = 0; i < ma->n; i++) {
		const struct store_msgmap *m = &ma->e[i];

		/* Validated by the caller. */
		if (store_msgid_normalize(m->message_id, id, sizeof(id)) != 0)
			continue;
		len = store_key2(key, sizeof(key), m->upstream, id);
		w.p = val;
		w.cap = sizeof(val);
		w.len = 0;
		w.is_bad = false;
		store_w_u8(&w, 1);
		store_w_i64(&w, m->time);
		store_w_str(&w, m->account, sizeof(m->account));
		k.mv_size = len;
		k.mv_data = key;
		v.mv_size = w.len;
		v.mv_data = val;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_MSGMAP], &k, &v, 0)))
			return rc;
		store_time_put(tkey, m->time);
		memcpy(tkey + 8, key, len);
		k.mv_size = len + 8;
		k.mv_data = tkey;
		v.mv_size = 0;
		v.mv_data = NULL;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_MSGTIME], &k, &v, 0)))
			return rc;
	}
	return 0;
}

/* Validate n receipt map entries. Returns 0, or -1 with the error set. */
static int
msgmap_check(struct store *st, const struct store_msgmap *entries, size_t n)
{
	char id[STORE_MSGID_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct store_msgmap *m = &entries[i];

		if (!store_field_ok(m->upstream, sizeof(m->upstream), false) ||
		    !store_field_ok(m->message_id, sizeof(m->message_id),
		    false) ||
		    !store_field_ok(m->account, sizeof(m->account), false) ||
		    store_msgid_normalize(m->message_id, id, sizeof(id)) != 0)
			return store_fail(st, STORE_E_INVAL,
			    "receipt map entry %zu: bad field", i + 1);
	}
	return 0;
}

int
store_msgmap_put(struct store *st, const struct store_msgmap *entries,
    size_t n)
{
	struct msgmap_arg ma = { entries, n };

	store_ok(st);
	if (msgmap_check(st, entries, n) == -1)
		return -1;
	if (n == 0)
		return 0;
	return store_write(st, msgmap_body, &ma, true,
	    "recording message ids");
}

/* ------------------------------------------------------------------ */
/* A proxy batch, in one transaction.                                  */

struct batch_arg {
	struct store_batch	*b;
	size_t			 nbad;
};

static bool
audit_ok(const struct store_audit *a)
{
	return store_field_ok(a->destination, sizeof(a->destination), false) &&
	    store_field_ok(a->account, sizeof(a->account), true) &&
	    store_field_ok(a->category, sizeof(a->category), true) &&
	    store_field_ok(a->service_type, sizeof(a->service_type), true) &&
	    store_field_ok(a->source, sizeof(a->source), true);
}

/*
 * Each record is checked where it is written, so one bad record from a
 * peer costs that record, not the batch; and the arrays are only read
 * (the proxy's loop reads them meanwhile), audit ids aside.
 */
static int
batch_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct batch_arg *ba = arg;
	struct store_batch *b = ba->b;
	size_t i;
	int rc;

	ba->nbad = 0;	/* a retry (map grown) starts over */
	for (i = 0; i < b->naudit; i++) {
		struct audit_arg aa = { &b->audit[i], 1 };

		if (!audit_ok(&b->audit[i]))
			ba->nbad++;
		else if ((rc = audit_body(st, txn, &aa)) != 0)
			return rc;
	}
	for (i = 0; i < b->nmsgmap; i++) {
		struct msgmap_arg ma = { &b->msgmap[i], 1 };

		if (msgmap_check(st, &b->msgmap[i], 1) != 0)
			ba->nbad++;
		else if ((rc = msgmap_body(st, txn, &ma)) != 0)
			return rc;
	}
	for (i = 0; i < b->nsentlog; i++) {
		if (store_sentlog_check(st, &b->sentlog[i], 1) != 0)
			ba->nbad++;
		else if ((rc = store_sentlog_append_txn(st, txn,
		    &b->sentlog[i], 1)) != 0)
			return rc;
	}
	for (i = 0; i < b->nlastsent; i++) {
		struct lastsent_arg la = { &b->lastsent[i], 1 };

		if (lastsent_check(st, &b->lastsent[i], 1) != 0)
			ba->nbad++;
		else if ((rc = lastsent_body(st, txn, &la)) != 0)
			return rc;
	}
	return 0;
}

int
store_batch_put(struct store *st, struct store_batch *b, size_t *nbad)
{
	struct batch_arg ba = { b, 0 };
	int rc;

	store_ok(st);
	*nbad = 0;
	if (b->naudit + b->nmsgmap + b->nsentlog + b->nlastsent == 0)
		return 0;
	rc = store_write(st, batch_body, &ba, true, "writing a batch");
	*nbad = ba.nbad;
	if (rc == 0)
		store_ok(st);	/* the checks of dropped records set it */
	return rc;
}

/* Look one normalised id up; 0 found, MDB_NOTFOUND, or an error. */
static int
msgmap_get1(struct store *st, MDB_txn *txn, const char *upstream,
    const char *id, char account[STORE_NAME_MAX])
{
	uint8_t key[STORE_KEY_MAX];
	struct store_rbuf r;
	MDB_val k, v;
	int rc;

	k.mv_size = store_key2(key, sizeof(key), upstream, id);
	k.mv_data = key;
	if (k.mv_size == 0)
		return MDB_NOTFOUND;
	if ((rc = mdb_get(txn, st->dbi[STORE_DB_MSGMAP], &k, &v)) != 0)
		return rc;
	r.p = v.mv_data;
	r.len = v.mv_size;
	r.off = 0;
	r.is_bad = false;
	if (store_r_u8(&r) != 1)
		return MDB_CORRUPTED;
	(void)store_r_i64(&r);
	store_r_str(&r, account, STORE_NAME_MAX);
	return r.is_bad ? MDB_CORRUPTED : 0;
}

int
store_msgmap_get(struct store *st, const char *upstream,
    const char *message_id, char account[STORE_NAME_MAX])
{
	char id[STORE_MSGID_MAX], alt[2][STORE_MSGID_MAX];
	size_t nalt = 0, i;
	uint64_t x;
	MDB_txn *txn;
	int rc;

	store_ok(st);
	if (!store_str_ok(upstream, STORE_NAME_MAX) || message_id == NULL)
		return store_fail(st, STORE_E_INVAL, "bad upstream");
	if (store_msgid_normalize(message_id, id, sizeof(id)) != 0)
		return 0;	/* no id can match an empty one */
	/* The SMSC may print in the receipt the other base of the id. */
	if (msgid_parse(id, 10, &x) == 0)
		snprintf(alt[nalt++], sizeof(alt[0]), "%" PRIx64, x);
	if (msgid_parse(id, 16, &x) == 0)
		snprintf(alt[nalt++], sizeof(alt[0]), "%" PRIu64, x);
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	rc = msgmap_get1(st, txn, upstream, id, account);
	for (i = 0; i < nalt && rc == MDB_NOTFOUND; i++)
		if (strcmp(alt[i], id) != 0)
			rc = msgmap_get1(st, txn, upstream, alt[i], account);
	store_read_end(st);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading the receipt map");
	return 1;
}
