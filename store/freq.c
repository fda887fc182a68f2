/*
 * store/freq: frequency-cap send times and LESS entries (SPEC §9), both
 * in the "freq" database: "C" number \0 category -> a version byte, a
 * count and that many big-endian biased times, oldest first; "L" number
 * \0 category -> a version byte, since and the LESS event's id.
 */
#include "store/freq.h"

#include <stdlib.h>
#include <string.h>

#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/freq_int.h"

#define FREQ_TAG_COUNT	'C'
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

/* Decode a count value into times (cap). Returns the count, or -1. */
static ssize_t
freq_times_decode(const MDB_val *v, int64_t *times, size_t cap)
{
	const uint8_t	*p = v->mv_data;
	size_t		 n, i, skip;

	if (v->mv_size < 3 || p[0] != FREQ_VERSION)
		return -1;
	n = (size_t)p[1] << 8 | p[2];
	if (v->mv_size != 3 + 8 * n)
		return -1;
	/* The newest cap of them. */
	skip = n > cap ? n - cap : 0;
	for (i = skip; i < n; i++)
		times[i - skip] = store_time_get(p + 3 + 8 * i);
	return (ssize_t)(n - skip);
}

static int
freq_entry_ok(const struct store_freq_entry *e)
{
	return store_field_ok(e->number, sizeof(e->number), false) &&
	    store_field_ok(e->category, sizeof(e->category), false) &&
	    e->keep >= 1 && e->keep <= STORE_FREQ_KEEP_MAX;
}

/* Insert t into the sorted times (n of them), drop what is before
 * horizon and keep the newest keep. Returns the new count. */
static size_t
freq_merge(int64_t *times, size_t n, int64_t t, int64_t horizon,
    size_t keep)
{
	size_t	 i, j, first = 0;

	i = n;
	while (i > 0 && times[i - 1] > t) {
		times[i] = times[i - 1];
		i--;
	}
	times[i] = t;
	n++;
	while (first < n && times[first] < horizon)
		first++;
	if (n - first > keep)
		first = n - keep;
	for (j = first; j < n; j++)
		times[j - first] = times[j];
	return n - first;
}

int
store_freq_put_txn(struct store *st, MDB_txn *txn,
    const struct store_freq_entry *e, size_t n, size_t *nbad)
{
	int64_t		 times[STORE_FREQ_KEEP_MAX + 1];
	uint8_t		 key[STORE_KEY_MAX];
	uint8_t		 val[3 + 8 * (STORE_FREQ_KEEP_MAX + 1)];
	MDB_val		 k, v;
	ssize_t		 nt;
	size_t		 i, j, cnt;
	int		 rc;

	for (i = 0; i < n; i++) {
		if (!freq_entry_ok(&e[i]) || (k.mv_size = freq_key(key,
		    sizeof(key), FREQ_TAG_COUNT, e[i].number,
		    e[i].category)) == 0) {
			(*nbad)++;
			continue;
		}
		k.mv_data = key;
		rc = mdb_get(txn, st->dbi[STORE_DB_FREQ], &k, &v);
		nt = 0;
		if (rc == 0)
			nt = freq_times_decode(&v, times, STORE_FREQ_KEEP_MAX);
		else if (rc != MDB_NOTFOUND)
			return rc;
		if (nt < 0)
			nt = 0;		/* a damaged record starts over */
		cnt = freq_merge(times, (size_t)nt, e[i].time, e[i].horizon,
		    e[i].keep);
		val[0] = FREQ_VERSION;
		val[1] = (uint8_t)(cnt >> 8);
		val[2] = (uint8_t)cnt;
		for (j = 0; j < cnt; j++)
			store_time_put(val + 3 + 8 * j, times[j]);
		v.mv_size = 3 + 8 * cnt;
		v.mv_data = val;
		if ((rc = mdb_put(txn, st->dbi[STORE_DB_FREQ], &k, &v, 0)) != 0)
			return rc;
	}
	return 0;
}

int
store_freq_load(struct store *st, int64_t horizon, store_freq_fn cb,
    void *arg)
{
	int64_t		*times;
	char		 number[STORE_NUMBER_MAX], category[STORE_NAME_MAX];
	uint8_t		 tag = FREQ_TAG_COUNT;
	MDB_cursor	*cur = NULL;
	MDB_txn		*txn;
	MDB_val		 k, v;
	ssize_t		 nt;
	size_t		 first;
	int		 rc, cbret = 0;

	store_ok(st);
	if (st->is_missing[STORE_DB_FREQ])
		return 0;
	if ((times = malloc(STORE_FREQ_KEEP_MAX * sizeof(*times))) == NULL)
		return store_fail(st, STORE_E_IO, "out of memory");
	if ((txn = store_walk_begin(st)) == NULL) {
		free(times);
		return -1;
	}
	rc = store_cursor_seek(st, txn, STORE_DB_FREQ, &tag, 1, &cur, &k, &v);
	while (rc == 0 && cbret == 0 && store_key_has_prefix(&k, &tag, 1)) {
		nt = freq_times_decode(&v, times, STORE_FREQ_KEEP_MAX);
		if (nt > 0 && freq_key_split(&k, number, category) == 0) {
			for (first = 0; first < (size_t)nt &&
			    times[first] < horizon; first++)
				;
			if (first < (size_t)nt)
				cbret = cb(number, category, times + first,
				    (size_t)nt - first, arg);
		}
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	free(times);
	return store_walk_finish(st, txn, cur, rc, cbret,
	    "reading frequency counts");
}

int
store_freq_get(struct store *st, const char *number, const char *category,
    int64_t *times, size_t cap, size_t *n)
{
	uint8_t		 key[STORE_KEY_MAX];
	MDB_txn		*txn;
	MDB_val		 k, v;
	ssize_t		 nt;
	int		 rc;

	store_ok(st);
	*n = 0;
	if (!store_str_ok(number, STORE_NUMBER_MAX) ||
	    !store_str_ok(category, STORE_NAME_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number or category");
	if (st->is_missing[STORE_DB_FREQ])
		return 0;
	k.mv_size = freq_key(key, sizeof(key), FREQ_TAG_COUNT, number,
	    category);
	k.mv_data = key;
	if ((txn = store_read_begin(st)) == NULL)
		return -1;
	rc = mdb_get(txn, st->dbi[STORE_DB_FREQ], &k, &v);
	if (rc == 0) {
		nt = freq_times_decode(&v, times, cap);
		*n = nt > 0 ? (size_t)nt : 0;
	}
	store_read_end(st);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail_mdb(st, rc, "reading frequency counts");
	return 0;
}

struct prune_arg {
	int64_t		 horizon;
	size_t		 max;
	size_t		 done;
};

static int
prune_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct prune_arg	*pa = arg;
	const uint8_t		*p;
	uint8_t			 tag = FREQ_TAG_COUNT;
	MDB_cursor		*cur = NULL;
	MDB_val			 k, v;
	size_t			 n;
	int			 rc;

	pa->done = 0;
	rc = store_cursor_seek(st, txn, STORE_DB_FREQ, &tag, 1, &cur, &k, &v);
	while (rc == 0 && pa->done < pa->max &&
	    store_key_has_prefix(&k, &tag, 1)) {
		p = v.mv_data;
		n = v.mv_size >= 3 ? ((size_t)p[1] << 8 | p[2]) : 0;
		if (n == 0 || v.mv_size != 3 + 8 * n ||
		    store_time_get(p + 3 + 8 * (n - 1)) < pa->horizon) {
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			pa->done++;
		}
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
