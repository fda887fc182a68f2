/*
 * store/freq: frequency-cap sends and LESS entries (SPEC §9), both in
 * the "freq" database: "S" be64 seq -> a version byte, the send's time,
 * number \0 category (a log in send order; below); "L" number \0
 * category -> a version byte, since and the LESS event's id.
 */
#include "store/freq.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/freq_int.h"

#define FREQ_TAG_LESS	'L'
#define FREQ_VERSION	1
#define FREQ_LESS_LEN	(1 + 8 + 8)

/* tag number \0 category (category NULL: tag number \0). 0: no fit. */
static size_t
freq_key(uint8_t *buf, size_t cap, char tag, const char *number,
    const char *category)
{
	size_t	 n;

	if (cap < 2)
		return 0;
	buf[0] = (uint8_t)tag;
	n = store_key2(buf + 1, cap - 1, number, category);
	return n == 0 ? 0 : n + 1;
}

/* Split key k (tag ...) into number and category. Returns 0 or -1. */
static int
freq_key_split(const MDB_val *k, char *number, char *category)
{
	const uint8_t	*p = k->mv_data, *z;
	size_t		 ln, lc;

	if (k->mv_size < 3)
		return -1;
	if ((z = memchr(p + 1, '\0', k->mv_size - 1)) == NULL)
		return -1;
	ln = (size_t)(z - (p + 1));
	lc = k->mv_size - 2 - ln;
	if (ln == 0 || ln >= STORE_NUMBER_MAX || lc == 0 ||
	    lc >= STORE_NAME_MAX)
		return -1;
	memcpy(number, p + 1, ln);
	number[ln] = '\0';
	memcpy(category, z + 1, lc);
	category[lc] = '\0';
	return 0;
}

/*
 * Accepted sends are appended to a log ("S" be64 seq -> a version byte,
 * a count, then per send its time, number and category), one record per
 * writer transaction: a batch of sends to random numbers costs one
 * append, not a B-tree walk and page copy per number (which held G10 to
 * a sixth of s64), nor a put per send. Loading and `stopgate status`
 * read the log of the window instead.
 */
#define FREQ_TAG_SEND	'S'
/* The version byte of a record of sends made on other nodes of the
 * fleet (store_cluster_apply): same layout, read by store_freq_remote. */
#define FREQ_VERSION_REMOTE	2
#define FREQ_SEQ	"seq.freq"
/* Bytes of one send in a record, at most: time, two lengths, names. */
#define FREQ_SEND_MAX	(8 + 2 + STORE_NUMBER_MAX + STORE_NAME_MAX)

static int
freq_entry_ok(const struct store_freq_entry *e)
{
	return store_field_ok(e->number, sizeof(e->number), false) &&
	    store_field_ok(e->category, sizeof(e->category), false);
}

/* Walk callback over the sends of the log. */
typedef int send_fn(int64_t time, const char *number, const char *category,
    void *arg);

/*
 * The sends of one record at or after horizon to cb. Returns cb's
 * nonzero, 0, or -1 for a damaged record (skipped by the callers).
 */
static int
send_decode(const MDB_val *v, int64_t horizon, send_fn *cb, void *arg)
{
	char		 number[STORE_NUMBER_MAX], category[STORE_NAME_MAX];
	const uint8_t	*p = v->mv_data;
	size_t		 off = 5, n, i, ln, lc;
	int64_t		 t;
	int		 r;

	if (v->mv_size < 5 || (p[0] != FREQ_VERSION &&
	    p[0] != FREQ_VERSION_REMOTE))
		return -1;
	n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 |
	    p[4];
	for (i = 0; i < n; i++) {
		if (v->mv_size - off < 10)
			return -1;
		t = store_time_get(p + off);
		ln = p[off + 8];
		if (ln == 0 || ln >= STORE_NUMBER_MAX ||
		    v->mv_size - off - 9 < ln + 1)
			return -1;
		memcpy(number, p + off + 9, ln);
		number[ln] = '\0';
		lc = p[off + 9 + ln];
		if (lc == 0 || lc >= STORE_NAME_MAX ||
		    v->mv_size - off - 10 - ln < lc)
			return -1;
		memcpy(category, p + off + 10 + ln, lc);
		category[lc] = '\0';
		off += 10 + ln + lc;
		if (t >= horizon && (r = cb(t, number, category, arg)) != 0)
			return r;
	}
	return 0;
}

/* The newest send time of a record (records are in send order, sends
 * in a record nearly so), or INT64_MIN for a damaged one. */
static int
newest_one(int64_t time, const char *number, const char *category,
    void *arg)
{
	int64_t	*newest = arg;

	(void)number;
	(void)category;
	if (time > *newest)
		*newest = time;
	return 0;
}

/* Append the valid entries of e as one record of version ver. */
static int
freq_put(struct store *st, MDB_txn *txn, const struct store_freq_entry *e,
    size_t n, size_t *nbad, uint8_t ver)
{
	uint8_t		 key[9], *val;
	MDB_val		 k, v;
	uint64_t	 seq;
	size_t		 i, ln, lc, off = 5, cnt = 0;
	int		 rc;

	if (n == 0)
		return 0;
	if ((val = malloc(5 + n * FREQ_SEND_MAX)) == NULL)
		return ENOMEM;
	for (i = 0; i < n; i++) {
		if (!freq_entry_ok(&e[i])) {
			(*nbad)++;
			continue;
		}
		ln = strlen(e[i].number);
		lc = strlen(e[i].category);
		store_time_put(val + off, e[i].time);
		val[off + 8] = (uint8_t)ln;
		memcpy(val + off + 9, e[i].number, ln);
		val[off + 9 + ln] = (uint8_t)lc;
		memcpy(val + off + 10 + ln, e[i].category, lc);
		off += 10 + ln + lc;
		cnt++;
	}
	rc = 0;
	if (cnt == 0)
		goto out;
	val[0] = ver;
	val[1] = (uint8_t)(cnt >> 24);
	val[2] = (uint8_t)(cnt >> 16);
	val[3] = (uint8_t)(cnt >> 8);
	val[4] = (uint8_t)cnt;
	if ((rc = store_seq_next(st, txn, FREQ_SEQ, &seq)) != 0)
		goto out;
	key[0] = FREQ_TAG_SEND;
	store_be64_put(key + 1, seq);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	v.mv_size = off;
	v.mv_data = val;
	/* "S" keys are the last of the database, in seq order. */
	rc = mdb_put(txn, st->dbi[STORE_DB_FREQ], &k, &v, MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(txn, st->dbi[STORE_DB_FREQ], &k, &v, 0);
out:
	free(val);
	return rc;
}

int
store_freq_put_txn(struct store *st, MDB_txn *txn,
    const struct store_freq_entry *e, size_t n, size_t *nbad)
{
	return freq_put(st, txn, e, n, nbad, FREQ_VERSION);
}

int
store_freq_remote_put_txn(struct store *st, MDB_txn *txn,
    const struct store_freq_entry *e, size_t n, size_t *nbad)
{
	return freq_put(st, txn, e, n, nbad, FREQ_VERSION_REMOTE);
}

static int
send_walk(struct store *st, int64_t horizon, send_fn *cb, void *arg)
{
	uint8_t		 tag = FREQ_TAG_SEND;
	MDB_cursor	*cur = NULL;
	MDB_txn		*txn;
	MDB_val		 k, v;
	int		 rc, cbret = 0;

	store_ok(st);
	if (st->is_missing[STORE_DB_FREQ])
		return 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_FREQ, &tag, 1, &cur, &k, &v);
	while (rc == 0 && cbret == 0 && store_key_has_prefix(&k, &tag, 1)) {
		cbret = send_decode(&v, horizon, cb, arg);
		if (cbret == -1)
			cbret = 0;	/* a damaged record is skipped */
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading frequency counts");
}

struct load_arg {
	store_freq_fn	 cb;
	void		*arg;
};

static int
load_one(int64_t time, const char *number, const char *category, void *arg)
{
	struct load_arg	*la = arg;

	return la->cb(number, category, &time, 1, la->arg);
}

int
store_freq_load(struct store *st, int64_t horizon, store_freq_fn cb,
    void *arg)
{
	struct load_arg	 la = { cb, arg };

	return send_walk(st, horizon, load_one, &la);
}

int
store_freq_position(struct store *st, uint64_t *pos)
{
	MDB_txn	*txn;
	int	 rc;

	store_ok(st);
	*pos = 0;
	if (st->is_missing[STORE_DB_FREQ])
		return 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_seq_peek(st, txn, FREQ_SEQ, pos);
	store_walk_end(st, txn);
	if (rc != 0)
		return store_fail_mdb(st, rc, "reading the send log");
	return 0;
}

int
store_freq_remote(struct store *st, uint64_t *pos, size_t max,
    store_freq_fn cb, void *arg)
{
	struct load_arg	 la = { cb, arg };
	uint8_t		 key[9];
	MDB_cursor	*cur = NULL;
	MDB_txn		*txn;
	MDB_val		 k, v;
	size_t		 seen = 0;
	int		 rc, cbret = 0;

	store_ok(st);
	if (st->is_missing[STORE_DB_FREQ])
		return 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	key[0] = FREQ_TAG_SEND;
	store_be64_put(key + 1, *pos + 1);
	rc = store_cursor_seek(st, txn, STORE_DB_FREQ, key, sizeof(key), &cur,
	    &k, &v);
	while (rc == 0 && cbret == 0 && seen < max && k.mv_size == 9 &&
	    store_key_has_prefix(&k, key, 1)) {
		*pos = store_be64_get((const uint8_t *)k.mv_data + 1);
		seen++;
		if (v.mv_size > 0 &&
		    ((const uint8_t *)v.mv_data)[0] == FREQ_VERSION_REMOTE &&
		    (cbret = send_decode(&v, INT64_MIN, load_one, &la)) == -1)
			cbret = 0;	/* a damaged record is skipped */
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading the send log");
}

struct get_arg {
	const char	*number, *category;
	int64_t		*times;
	size_t		 cap, n;
};

/* Keep the newest cap times of one number and category, oldest first. */
static int
get_one(int64_t time, const char *number, const char *category, void *arg)
{
	struct get_arg	*ga = arg;
	size_t		 i;

	if (strcmp(number, ga->number) != 0 ||
	    strcmp(category, ga->category) != 0 || ga->cap == 0)
		return 0;
	if (ga->n == ga->cap) {
		if (time < ga->times[0])
			return 0;
		memmove(ga->times, ga->times + 1,
		    (ga->n - 1) * sizeof(*ga->times));
		ga->n--;
	}
	for (i = ga->n; i > 0 && ga->times[i - 1] > time; i--)
		ga->times[i] = ga->times[i - 1];
	ga->times[i] = time;
	ga->n++;
	return 0;
}

int
store_freq_get(struct store *st, const char *number, const char *category,
    int64_t *times, size_t cap, size_t *n)
{
	struct get_arg	 ga = { number, category, times, cap, 0 };
	int		 rc;

	*n = 0;
	if (!store_str_ok(number, STORE_NUMBER_MAX) ||
	    !store_str_ok(category, STORE_NAME_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number or category");
	rc = send_walk(st, INT64_MIN, get_one, &ga);
	*n = ga.n;
	return rc == 0 ? 0 : -1;
}

struct prune_arg {
	int64_t		 horizon;
	size_t		 max;
	size_t		 done;
};

/* Delete records from the front of the log while all their sends are
 * older than the horizon (the log is in send order). */
static int
prune_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct prune_arg	*pa = arg;
	uint8_t			 tag = FREQ_TAG_SEND;
	MDB_cursor		*cur = NULL;
	MDB_val			 k, v;
	int64_t			 t;
	int			 rc;

	pa->done = 0;
	rc = store_cursor_seek(st, txn, STORE_DB_FREQ, &tag, 1, &cur, &k, &v);
	while (rc == 0 && pa->done < pa->max &&
	    store_key_has_prefix(&k, &tag, 1)) {
		t = INT64_MIN;
		if (send_decode(&v, INT64_MIN, newest_one, &t) == 0 &&
		    t >= pa->horizon)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		pa->done++;
		/* MDB_NEXT after a delete yields the successor. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_freq_prune(struct store *st, int64_t horizon, size_t max,
    size_t *done)
{
	struct prune_arg	 pa = { horizon, max, 0 };

	store_ok(st);
	*done = 0;
	if (st->is_read_only || max == 0)
		return 0;
	if (store_write(st, prune_body, &pa, true,
	    "pruning frequency counts") != 0)
		return -1;
	*done = pa.done;
	return 0;
}

/* --- LESS ------------------------------------------------------------ */

static int
less_put(struct store *st, MDB_txn *txn, const struct store_event *ev,
    const char *category)
{
	uint8_t		 key[STORE_KEY_MAX], val[FREQ_LESS_LEN];
	MDB_val		 k, v;

	if ((k.mv_size = freq_key(key, sizeof(key), FREQ_TAG_LESS,
	    ev->number, category)) == 0)
		return MDB_BAD_VALSIZE;
	k.mv_data = key;
	val[0] = FREQ_VERSION;
	store_be64_put(val + 1, (uint64_t)ev->time);
	store_be64_put(val + 9, ev->id);
	v.mv_size = sizeof(val);
	v.mv_data = val;
	return mdb_put(txn, st->dbi[STORE_DB_FREQ], &k, &v, 0);
}

/* Delete the LESS entries of number (category NULL: every one). */
static int
less_del(struct store *st, MDB_txn *txn, const char *number,
    const char *category)
{
	uint8_t		 key[STORE_KEY_MAX];
	MDB_cursor	*cur = NULL;
	MDB_val		 k, v;
	size_t		 plen;
	int		 rc;

	if ((plen = freq_key(key, sizeof(key), FREQ_TAG_LESS, number,
	    category)) == 0)
		return 0;
	if (category != NULL) {
		k.mv_size = plen;
		k.mv_data = key;
		rc = mdb_del(txn, st->dbi[STORE_DB_FREQ], &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	rc = store_cursor_seek(st, txn, STORE_DB_FREQ, key, plen, &cur, &k,
	    &v);
	while (rc == 0 && store_key_has_prefix(&k, key, plen)) {
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_freq_event_txn(struct store *st, MDB_txn *txn,
    const struct store_event *ev)
{
	size_t	 i;
	int	 rc = 0;

	if (ev->action == STORE_LESS) {
		for (i = 0; rc == 0 && i < ev->ncategories; i++)
			rc = less_put(st, txn, ev, ev->categories[i]);
		return rc;
	}
	if (ev->action != STORE_OPT_IN)
		return 0;
	if (ev->all)
		return less_del(st, txn, ev->number, NULL);
	for (i = 0; rc == 0 && i < ev->ncategories; i++)
		rc = less_del(st, txn, ev->number, ev->categories[i]);
	return rc;
}

static int
less_decode(const MDB_val *k, const MDB_val *v, struct store_less *out)
{
	const uint8_t	*p = v->mv_data;

	memset(out, 0, sizeof(*out));
	if (v->mv_size != FREQ_LESS_LEN || p[0] != FREQ_VERSION ||
	    freq_key_split(k, out->number, out->category) != 0)
		return -1;
	out->since = (int64_t)store_be64_get(p + 1);
	out->event_id = store_be64_get(p + 9);
	return 0;
}

int
store_less_all(struct store *st, store_less_fn cb, void *arg)
{
	struct store_less	 l;
	uint8_t			 tag = FREQ_TAG_LESS;
	MDB_cursor		*cur = NULL;
	MDB_txn			*txn;
	MDB_val			 k, v;
	int			 rc, cbret = 0;

	store_ok(st);
	if (st->is_missing[STORE_DB_FREQ])
		return 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_FREQ, &tag, 1, &cur, &k, &v);
	while (rc == 0 && cbret == 0 && store_key_has_prefix(&k, &tag, 1)) {
		if (less_decode(&k, &v, &l) == 0)
			cbret = cb(&l, arg);
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret, "reading LESS");
}

int
store_less_get(struct store *st, const char *number, const char *category,
    struct store_less *out)
{
	uint8_t		 key[STORE_KEY_MAX];
	MDB_txn		*txn;
	MDB_val		 k, v;
	int		 rc, found = 0;

	store_ok(st);
	if (!store_str_ok(number, STORE_NUMBER_MAX) ||
	    !store_str_ok(category, STORE_NAME_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number or category");
	if (st->is_missing[STORE_DB_FREQ])
		return 0;
	k.mv_size = freq_key(key, sizeof(key), FREQ_TAG_LESS, number,
	    category);
	k.mv_data = key;
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	rc = mdb_get(txn, st->dbi[STORE_DB_FREQ], &k, &v);
	if (rc == 0)
		found = less_decode(&k, &v, out) == 0 ? 1 : 0;
	store_read_end(st);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail_mdb(st, rc, "reading LESS");
	return found;
}
