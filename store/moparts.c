/*
 * store/moparts: the waiting parts of concatenated MOs (store.h). Key:
 * subscriber \0 inbound \0 ref(be16) total seq; value: time(8) text.
 * The table holds only parts whose message is not complete yet, so a
 * scan of it (for expiry) stays short.
 */
#include "store/store.h"

#include <errno.h>
#include <string.h>

#include "store/bytes.h"
#include "store/store_int.h"

/* Key of p; with is_msg only the message's prefix (no seq). Returns the
 * length, or 0 if it does not fit. */
static size_t
mopart_key(uint8_t *key, size_t cap, const struct store_mopart *p,
    bool is_msg)
{
	size_t	len = store_key2(key, cap - 5, p->subscriber, p->inbound);

	if (len == 0)
		return 0;
	key[len++] = '\0';
	key[len++] = (uint8_t)(p->ref >> 8);
	key[len++] = (uint8_t)(p->ref & 0xff);
	key[len++] = p->total;
	if (!is_msg)
		key[len++] = p->seq;
	return len;
}

/* Parse a key and value into *p. Returns 0 or MDB_CORRUPTED. */
static int
mopart_parse(const MDB_val *k, const MDB_val *v, struct store_mopart *p)
{
	const uint8_t	*kb = k->mv_data;
	size_t		 ls, li;

	memset(p, 0, sizeof(*p));
	if (v->mv_size < 8 || v->mv_size - 8 > sizeof(p->text))
		return MDB_CORRUPTED;
	ls = strnlen((const char *)kb, k->mv_size);
	if (ls >= sizeof(p->subscriber) || ls + 1 >= k->mv_size)
		return MDB_CORRUPTED;
	li = strnlen((const char *)kb + ls + 1, k->mv_size - ls - 1);
	if (li >= sizeof(p->inbound) || k->mv_size != ls + 1 + li + 1 + 4)
		return MDB_CORRUPTED;
	memcpy(p->subscriber, kb, ls);
	memcpy(p->inbound, kb + ls + 1, li);
	kb += ls + 1 + li + 1;
	p->ref = (uint16_t)((kb[0] << 8) | kb[1]);
	p->total = kb[2];
	p->seq = kb[3];
	p->time = store_time_get(v->mv_data);
	p->len = v->mv_size - 8;
	memcpy(p->text, (const uint8_t *)v->mv_data + 8, p->len);
	return 0;
}

/* In txn: delete every part kept before before (ms). 0 or LMDB code. */
static int
mopart_expire(struct store *st, MDB_txn *txn, int64_t before)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 rc;

	if (before == 0)
		return 0;
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_MOPARTS], &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (v.mv_size < 8 || store_time_get(v.mv_data) < before) {
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			/* After a delete the cursor is on the next key. */
			rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
			if (rc == EINVAL)
				rc = MDB_NOTFOUND;
			continue;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct moput_arg {
	const struct store_mopart *p;
	int64_t		 before;
};

static int
mopart_put_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct moput_arg	*ma = arg;
	uint8_t			 key[STORE_KEY_MAX];
	MDB_val			 k, v;
	int			 rc;

	if ((rc = mopart_expire(st, txn, ma->before)) != 0)
		return rc;
	k.mv_size = mopart_key(key, sizeof(key), ma->p, false);
	k.mv_data = key;
	v.mv_size = 8 + ma->p->len;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_MOPARTS], &k, &v,
	    MDB_RESERVE)) != 0)
		return rc;
	store_time_put(v.mv_data, ma->p->time);
	memcpy((uint8_t *)v.mv_data + 8, ma->p->text, ma->p->len);
	return 0;
}

static bool
mopart_ok(const struct store_mopart *p, bool is_msg)
{
	return store_field_ok(p->subscriber, sizeof(p->subscriber), false) &&
	    store_field_ok(p->inbound, sizeof(p->inbound), true) &&
	    p->total >= 2 && (is_msg || (p->seq >= 1 && p->seq <= p->total &&
	    p->len <= sizeof(p->text)));
}

int
store_mopart_put(struct store *st, const struct store_mopart *p,
    int64_t expire_before)
{
	struct moput_arg	ma = { p, expire_before };

	store_ok(st);
	if (!mopart_ok(p, false))
		return store_fail(st, STORE_E_INVAL, "MO part: bad field");
	return store_write(st, mopart_put_body, &ma, false,
	    "keeping an MO part");
}

static int
mopart_del_body(struct store *st, MDB_txn *txn, void *arg)
{
	const struct store_mopart	*p = arg;
	uint8_t				 prefix[STORE_KEY_MAX];
	MDB_cursor			*cur;
	MDB_val				 k, v;
	size_t				 plen;
	int				 rc;

	plen = mopart_key(prefix, sizeof(prefix), p, true);
	if ((rc = mdb_cursor_open(txn, st->dbi[STORE_DB_MOPARTS], &cur)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = prefix;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && store_key_has_prefix(&k, prefix, plen)) {
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL)
			rc = MDB_NOTFOUND;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_mopart_del(struct store *st, const struct store_mopart *p)
{
	store_ok(st);
	if (!mopart_ok(p, true))
		return store_fail(st, STORE_E_INVAL, "MO part: bad field");
	return store_write(st, mopart_del_body, (void *)(uintptr_t)p, false,
	    "deleting MO parts");
}

static int
mopart_expire_body(struct store *st, MDB_txn *txn, void *arg)
{
	const int64_t	*before = arg;

	return mopart_expire(st, txn, *before);
}

int
store_mopart_load(struct store *st, int64_t expire_before,
    store_mopart_fn cb, void *arg)
{
	struct store_mopart	 p;
	MDB_cursor		*cur;
	MDB_txn			*txn;
	MDB_val			 k, v;
	int			 rc, cbret = 0;

	store_ok(st);
	if (expire_before != 0 && !st->is_read_only &&
	    store_write(st, mopart_expire_body, &expire_before, false,
	    "expiring MO parts") == -1)
		return -1;
	if (st->is_missing[STORE_DB_MOPARTS])
		return 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_MOPARTS, NULL, 0, &cur, &k,
	    &v);
	while (rc == 0 && cbret == 0) {
		if ((rc = mopart_parse(&k, &v, &p)) != 0)
			break;
		if (expire_before == 0 || p.time >= expire_before)
			cbret = cb(&p, arg);
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading MO parts");
}
