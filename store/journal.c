/*
 * store/journal: the cluster journal, the pending marks of local events
 * and the fleet stream's application (store/journal.h).
 *
 * Layout: JOURNAL be64 row id -> kind (1 byte) be64 local id [time
 * (8 bytes, audit records: their key is time id)], or for receipt
 * map and send rows kind, time and NUL-ended strings; PENDING
 * number \0 be64 event id -> "". Meta: "cluster.node" (the node name),
 * "cluster.applied" (be64 fleet sequence), "seq.journal".
 */
#include "store/journal.h"

#include <string.h>

#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/journal_int.h"

#define KEY_NODE	"cluster.node"
#define SEQ_JOURNAL	"seq.journal"

int
store_journal_node_txn(struct store *st, MDB_txn *txn,
    char node[STORE_NODE_MAX])
{
	MDB_val k = { sizeof(KEY_NODE) - 1, (void *)(uintptr_t)KEY_NODE }, v;
	int rc;

	node[0] = '\0';
	rc = mdb_get(txn, st->dbi[STORE_DB_META], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size == 0 || v.mv_size >= STORE_NODE_MAX)
		return MDB_CORRUPTED;
	memcpy(node, v.mv_data, v.mv_size);
	node[v.mv_size] = '\0';
	return 0;
}

const char *
store_journal_kind_name(enum store_journal_kind k)
{
	switch (k) {
	case STORE_JOURNAL_EVENT:
		return "event";
	case STORE_JOURNAL_AUDIT:
		return "audit";
	case STORE_JOURNAL_REVIEW:
		return "review";
	case STORE_JOURNAL_REVIEW_DONE:
		return "review_done";
	case STORE_JOURNAL_MSGMAP:
		return "msgmap";
	case STORE_JOURNAL_SENT:
		return "sent";
	}
	return NULL;
}

/* One journal row: kind, id and (audit) time. */
static int
row_put(struct store *st, MDB_txn *txn, enum store_journal_kind kind,
    uint64_t id, int64_t time)
{
	uint8_t jk[8], val[17];
	uint64_t jid;
	MDB_val k, v;
	int rc;

	if ((rc = store_seq_next(st, txn, SEQ_JOURNAL, &jid)) != 0)
		return rc;
	store_be64_put(jk, jid);
	val[0] = (uint8_t)kind;
	store_be64_put(val + 1, id);
	store_time_put(val + 9, time);
	k.mv_size = sizeof(jk);
	k.mv_data = jk;
	v.mv_size = kind == STORE_JOURNAL_AUDIT ? 17 : 9;
	v.mv_data = val;
	return mdb_put(txn, st->dbi[STORE_DB_JOURNAL], &k, &v, MDB_APPEND);
}

/* Journal row and pending mark for event id of number. */
static int
journal_put(struct store *st, MDB_txn *txn, const char *number,
    uint64_t id)
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val k, v;
	size_t len;
	int rc;

	if ((rc = row_put(st, txn, STORE_JOURNAL_EVENT, id, 0)) != 0)
		return rc;
	if ((len = store_key2(key, sizeof(key) - 8, number, NULL)) == 0)
		return MDB_BAD_VALSIZE;
	store_be64_put(key + len, id);
	k.mv_size = len + 8;
	k.mv_data = key;
	v.mv_size = 0;
	v.mv_data = NULL;
	return mdb_put(txn, st->dbi[STORE_DB_PENDING], &k, &v, 0);
}

int
store_journal_event_txn(struct store *st, MDB_txn *txn,
    const struct store_event *ev)
{
	char node[STORE_NODE_MAX];
	int rc;

	if (st->is_remote_apply)
		return 0;
	if ((rc = store_journal_node_txn(st, txn, node)) != 0 ||
	    node[0] == '\0')
		return rc;
	return journal_put(st, txn, ev->number, ev->id);
}

int
store_journal_is_on(struct store *st, MDB_txn *txn, bool *is_on)
{
	char node[STORE_NODE_MAX];
	int rc;

	*is_on = false;
	if (st->is_remote_apply)
		return 0;
	if ((rc = store_journal_node_txn(st, txn, node)) != 0)
		return rc;
	*is_on = node[0] != '\0';
	return 0;
}

int
store_journal_audit_txn(struct store *st, MDB_txn *txn,
    const struct store_audit *a)
{
	return row_put(st, txn, STORE_JOURNAL_AUDIT, a->id, a->time);
}

int
store_journal_review_txn(struct store *st, MDB_txn *txn,
    const struct store_review *r)
{
	bool is_on;
	int rc;

	if ((rc = store_journal_is_on(st, txn, &is_on)) != 0 || !is_on)
		return rc;
	return row_put(st, txn, r->status == STORE_REVIEW_OPEN ?
	    STORE_JOURNAL_REVIEW : STORE_JOURNAL_REVIEW_DONE, r->id, 0);
}

int
store_journal_msgmap_txn(struct store *st, MDB_txn *txn,
    const struct store_msgmap *m, const char *id)
{
	uint8_t jk[8], val[1 + 8 + STORE_NAME_MAX * 2 + STORE_MSGID_MAX];
	uint64_t jid;
	MDB_val k, v;
	size_t n = 9, l;
	int rc;

	if ((rc = store_seq_next(st, txn, SEQ_JOURNAL, &jid)) != 0)
		return rc;
	val[0] = STORE_JOURNAL_MSGMAP;
	store_time_put(val + 1, m->time);
	l = strlen(m->upstream) + 1;
	memcpy(val + n, m->upstream, l);
	n += l;
	l = strlen(id) + 1;
	memcpy(val + n, id, l);
	n += l;
	l = strlen(m->account) + 1;
	memcpy(val + n, m->account, l);
	n += l;
	store_be64_put(jk, jid);
	k.mv_size = sizeof(jk);
	k.mv_data = jk;
	v.mv_size = n;
	v.mv_data = val;
	return mdb_put(txn, st->dbi[STORE_DB_JOURNAL], &k, &v, MDB_APPEND);
}

static int
sent_put(struct store *st, MDB_txn *txn, const struct store_freq_entry *e)
{
	uint8_t jk[8], val[1 + 8 + STORE_NUMBER_MAX + STORE_NAME_MAX];
	uint64_t jid;
	MDB_val k, v;
	size_t ln = strlen(e->number) + 1, lc = strlen(e->category) + 1;
	int rc;

	if ((rc = store_seq_next(st, txn, SEQ_JOURNAL, &jid)) != 0)
		return rc;
	val[0] = STORE_JOURNAL_SENT;
	store_time_put(val + 1, e->time);
	memcpy(val + 9, e->number, ln);
	memcpy(val + 9 + ln, e->category, lc);
	store_be64_put(jk, jid);
	k.mv_size = sizeof(jk);
	k.mv_data = jk;
	v.mv_size = 9 + ln + lc;
	v.mv_data = val;
	return mdb_put(txn, st->dbi[STORE_DB_JOURNAL], &k, &v, MDB_APPEND);
}

int
store_journal_sent_txn(struct store *st, MDB_txn *txn,
    const struct store_freq_entry *e, size_t n)
{
	bool is_on;
	size_t i;
	int rc;

	/* Every proxy batch comes here, most without a capped send: no
	 * meta read for those. */
	if (n == 0)
		return 0;
	if ((rc = store_journal_is_on(st, txn, &is_on)) != 0 || !is_on)
		return rc;
	for (i = 0; i < n; i++) {
		/* What store_freq_put_txn skips as bad. */
		if (!store_field_ok(e[i].number, sizeof(e[i].number),
		    false) || !store_field_ok(e[i].category,
		    sizeof(e[i].category), false))
			continue;
		if ((rc = sent_put(st, txn, &e[i])) != 0)
			return rc;
	}
	return 0;
}

/* A send row: time, number \0 category \0. */
static int
row_sent(const MDB_val *v, struct store_journal_row *row)
{
	const char *p = (const char *)v->mv_data + 9, *end;
	size_t ln, lc;

	if (v->mv_size < 13)
		return MDB_CORRUPTED;
	end = (const char *)v->mv_data + v->mv_size;
	row->kind = STORE_JOURNAL_SENT;
	row->sent.time = store_time_get((const uint8_t *)v->mv_data + 1);
	ln = strnlen(p, (size_t)(end - p));
	if (p + ln >= end || ln == 0 || ln >= sizeof(row->sent.number))
		return MDB_CORRUPTED;
	memcpy(row->sent.number, p, ln + 1);
	p += ln + 1;
	lc = strnlen(p, (size_t)(end - p));
	if (p + lc >= end || lc == 0 || lc >= sizeof(row->sent.category))
		return MDB_CORRUPTED;
	memcpy(row->sent.category, p, lc + 1);
	return 0;
}

/* A receipt map row: time, then three NUL-ended strings. */
static int
row_msgmap(const MDB_val *v, struct store_journal_row *row)
{
	const char *p = (const char *)v->mv_data + 9, *end;
	char *dst[3];
	size_t cap[3], i, l;

	if (v->mv_size < 12)
		return MDB_CORRUPTED;
	end = (const char *)v->mv_data + v->mv_size;
	row->kind = STORE_JOURNAL_MSGMAP;
	row->msgmap.time = store_time_get((const uint8_t *)v->mv_data + 1);
	dst[0] = row->msgmap.upstream;
	cap[0] = sizeof(row->msgmap.upstream);
	dst[1] = row->msgmap.message_id;
	cap[1] = sizeof(row->msgmap.message_id);
	dst[2] = row->msgmap.account;
	cap[2] = sizeof(row->msgmap.account);
	for (i = 0; i < 3; i++) {
		l = strnlen(p, (size_t)(end - p));
		if (p + l >= end || l >= cap[i])
			return MDB_CORRUPTED;
		memcpy(dst[i], p, l + 1);
		p += l + 1;
	}
	return 0;
}

size_t
store_revmap_lkey(uint8_t *key, uint64_t local_id)
{
	key[0] = 'L';
	store_be64_put(key + 1, local_id);
	return 9;
}

size_t
store_revmap_okey(uint8_t *key, size_t cap, const char *node,
    uint64_t origin_id)
{
	size_t n = strlen(node);

	if (n + 10 > cap)
		return 0;
	key[0] = 'O';
	memcpy(key + 1, node, n + 1);
	store_be64_put(key + n + 2, origin_id);
	return n + 10;
}

/* ------------------------------------------------------------------ */
/* Enabling.                                                           */

/* Journal every event already in the store, oldest first. */
static int
journal_backfill(struct store *st, MDB_txn *txn)
{
	struct store_event ev;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_EVENTS], &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size != 8 ||
		    store_event_decode(&v, store_be64_get(k.mv_data), &ev)) {
			rc = MDB_CORRUPTED;
			break;
		}
		if ((rc = journal_put(st, txn, ev.number, ev.id)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
enable_body(struct store *st, MDB_txn *txn, void *arg)
{
	const char *node = arg;
	char cur[STORE_NODE_MAX];
	MDB_val k = { sizeof(KEY_NODE) - 1, (void *)(uintptr_t)KEY_NODE }, v;
	int rc;

	if ((rc = store_journal_node_txn(st, txn, cur)) != 0)
		return rc;
	if (strcmp(cur, node) == 0)
		return 0;
	if (cur[0] != '\0') {
		store_fail(st, STORE_E_INVAL, "store belongs to cluster node "
		    "'%s', not '%s'", cur, node);
		return STORE_RC_SET;
	}
	v.mv_size = strlen(node);
	v.mv_data = (void *)(uintptr_t)node;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_META], &k, &v, 0)) != 0)
		return rc;
	return journal_backfill(st, txn);
}

int
store_journal_enable(struct store *st, const char *node)
{
	store_ok(st);
	if (!store_str_ok(node, STORE_NODE_MAX))
		return store_fail(st, STORE_E_INVAL, "bad node name");
	return store_write(st, enable_body, (void *)(uintptr_t)node, false,
	    "enabling the cluster journal");
}

int
store_journal_node(struct store *st, char node[STORE_NODE_MAX])
{
	MDB_txn *txn;
	int rc;

	store_ok(st);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_journal_node_txn(st, txn, node);
	store_walk_end(st, txn);
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading the cluster node");
	return node[0] != '\0';
}

/* ------------------------------------------------------------------ */
/* Shipping.                                                           */

/* A review row: the item now and its origin (this node unless the map
 * says it came from another). */
static int
row_review(struct store *st, MDB_txn *txn, const uint8_t *p,
    struct store_journal_row *row)
{
	uint8_t key[16];
	MDB_val k, v;
	int rc;

	row->kind = (enum store_journal_kind)p[0];
	memcpy(key, p + 1, 8);
	k.mv_size = 8;
	k.mv_data = key;
	rc = mdb_get(txn, st->dbi[STORE_DB_REVIEW], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;	/* expired: shipped as nothing */
	if (rc != 0)
		return rc;
	if (store_review_decode(&v, &row->review) != 0)
		return MDB_CORRUPTED;
	k.mv_size = store_revmap_lkey(key, row->review.id);
	k.mv_data = key;
	rc = mdb_get(txn, st->dbi[STORE_DB_REVMAP], &k, &v);
	if (rc == MDB_NOTFOUND) {
		row->origin_id = row->review.id;
		return store_journal_node_txn(st, txn, row->origin_node);
	}
	if (rc != 0)
		return rc;
	if (v.mv_size < 10 || v.mv_size - 9 > STORE_NODE_MAX ||
	    ((const uint8_t *)v.mv_data)[v.mv_size - 9] != '\0')
		return MDB_CORRUPTED;
	memcpy(row->origin_node, v.mv_data, v.mv_size - 8);
	row->origin_id = store_be64_get((const uint8_t *)v.mv_data +
	    v.mv_size - 8);
	return 0;
}

/* Fill row from the journal value v (its event read from txn). */
static int
row_load(struct store *st, MDB_txn *txn, const MDB_val *k, const MDB_val *v,
    struct store_journal_row *row)
{
	const uint8_t *p = v->mv_data;
	uint8_t idk[8], tk[16];
	MDB_val ek, ev;
	int rc;

	if (k->mv_size != 8 || v->mv_size < 9)
		return MDB_CORRUPTED;
	memset(row, 0, sizeof(*row));
	row->id = store_be64_get(k->mv_data);
	if (p[0] == STORE_JOURNAL_AUDIT && v->mv_size == 17) {
		row->kind = STORE_JOURNAL_AUDIT;
		memcpy(tk, p + 9, 8);
		memcpy(tk + 8, p + 1, 8);
		ek.mv_size = sizeof(tk);
		ek.mv_data = tk;
		rc = mdb_get(txn, st->dbi[STORE_DB_AUDIT], &ek, &ev);
		if (rc == MDB_NOTFOUND)
			return 0;	/* expired: shipped as nothing */
		if (rc != 0)
			return rc;
		if (store_audit_decode(&ev, &row->audit) != 0)
			return MDB_CORRUPTED;
		return 0;
	}
	if (p[0] == STORE_JOURNAL_REVIEW || p[0] == STORE_JOURNAL_REVIEW_DONE)
		return row_review(st, txn, p, row);
	if (p[0] == STORE_JOURNAL_MSGMAP)
		return row_msgmap(v, row);
	if (p[0] == STORE_JOURNAL_SENT)
		return row_sent(v, row);
	if (p[0] != STORE_JOURNAL_EVENT || v->mv_size != 9)
		return MDB_CORRUPTED;
	row->kind = STORE_JOURNAL_EVENT;
	memcpy(idk, p + 1, 8);
	ek.mv_size = 8;
	ek.mv_data = idk;
	rc = mdb_get(txn, st->dbi[STORE_DB_EVENTS], &ek, &ev);
	if (rc == MDB_NOTFOUND)
		return 0;	/* expired: shipped as nothing */
	if (rc != 0)
		return rc;
	if (store_event_decode(&ev, store_be64_get(idk), &row->ev) != 0)
		return MDB_CORRUPTED;
	return 0;
}

int
store_journal_peek(struct store *st, size_t max, store_journal_fn cb,
    void *arg)
{
	struct store_journal_row row;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t seen = 0;
	int rc, cbret = 0;

	store_ok(st);
	if (st->is_missing[STORE_DB_JOURNAL])
		return 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_JOURNAL, NULL, 0, &cur, &k,
	    &v);
	while (rc == 0 && cbret == 0 && (max == 0 || seen < max)) {
		if ((rc = row_load(st, txn, &k, &v, &row)) != 0)
			break;
		cbret = cb(&row, arg);
		seen++;
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading the journal");
}

static int
done_body(struct store *st, MDB_txn *txn, void *arg)
{
	uint64_t upto = *(const uint64_t *)arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_JOURNAL], &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		if (k.mv_size != 8 || store_be64_get(k.mv_data) > upto)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_journal_done(struct store *st, uint64_t upto)
{
	store_ok(st);
	/* Lazy: an OS crash may bring rows back, shipped again and
	 * ignored by PostgreSQL (same node and local id). */
	return store_write(st, done_body, &upto, true,
	    "forgetting shipped journal rows");
}

int
store_journal_depth(struct store *st, size_t *rows, uint64_t *applied_seq)
{
	MDB_stat ms;
	MDB_txn *txn;
	int rc = 0;

	store_ok(st);
	*rows = 0;
	*applied_seq = 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	if (!st->is_missing[STORE_DB_JOURNAL] &&
	    (rc = mdb_stat(txn, st->dbi[STORE_DB_JOURNAL], &ms)) == 0)
		*rows = ms.ms_entries;
	if (rc == 0)
		rc = store_seq_peek(st, txn, STORE_KEY_APPLIED, applied_seq);
	store_walk_end(st, txn);
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading the journal");
	return 0;
}
