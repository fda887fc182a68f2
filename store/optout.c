/*
 * store/optout: opt-out / opt-in events (the append-only history), the
 * event feed and imports. What an event does to a number's state, and
 * the lookup, are store/lookup.c's.
 */
#include "store/store.h"

#include <string.h>

#include "store/bytes.h"
#include "store/codec_int.h"
#include "store/daily_int.h"
#include "store/freq_int.h"
#include "store/journal_int.h"
#include "store/lookup_int.h"
#include "store/optout_int.h"

/* ------------------------------------------------------------------ */
/* Applying events.                                                    */

int
store_event_check(struct store *st, const struct store_event *ev)
{
	size_t i, j;

	if (!store_field_ok(ev->number, sizeof(ev->number), false))
		return store_fail(st, STORE_E_INVAL, "event: bad number");
	if ((unsigned)ev->action > STORE_LESS ||
	    (unsigned)ev->source > STORE_SRC_IMPORT)
		return store_fail(st, STORE_E_INVAL,
		    "event: bad action or source");
	if (ev->action == STORE_LESS && ev->all)
		return store_fail(st, STORE_E_INVAL,
		    "event for %s: less names its categories", ev->number);
	if (!ev->all) {
		if (ev->ncategories == 0 || ev->ncategories > STORE_SCOPE_MAX)
			return store_fail(st, STORE_E_INVAL,
			    "event for %s: no categories and not all",
			    ev->number);
		for (i = 0; i < ev->ncategories; i++) {
			if (!store_field_ok(ev->categories[i],
			    sizeof(ev->categories[i]), false) ||
			    strcmp(ev->categories[i], STORE_CATEGORY_ALL) == 0)
				return store_fail(st, STORE_E_INVAL,
				    "event for %s: bad category", ev->number);
			for (j = 0; j < i; j++)
				if (strcmp(ev->categories[i],
				    ev->categories[j]) == 0)
					return store_fail(st, STORE_E_INVAL,
					    "event for %s: category %s twice",
					    ev->number, ev->categories[i]);
		}
	}
	if (!store_field_ok(ev->inbound, sizeof(ev->inbound), true) ||
	    !store_field_ok(ev->text, sizeof(ev->text), true) ||
	    !store_field_ok(ev->rule, sizeof(ev->rule), true) ||
	    !store_field_ok(ev->actor, sizeof(ev->actor), true) ||
	    !store_field_ok(ev->note, sizeof(ev->note), true) ||
	    !store_field_ok(ev->consent, sizeof(ev->consent), true) ||
	    !store_field_ok(ev->last.account, sizeof(ev->last.account),
	    true) ||
	    !store_field_ok(ev->last.category, sizeof(ev->last.category),
	    true) ||
	    !store_field_ok(ev->last.service_type,
	    sizeof(ev->last.service_type), true))
		return store_fail(st, STORE_E_INVAL,
		    "event for %s: unterminated text field", ev->number);
	return 0;
}

int
store_event_apply_txn(struct store *st, MDB_txn *txn, struct store_event *ev)
{
	uint8_t val[STORE_VALUE_MAX], key[STORE_KEY_MAX], idk[8];
	struct store_lastsent last;
	MDB_val k, v;
	size_t len;
	int rc;

	if ((rc = store_seq_next(st, txn, "seq.events", &ev->id)) != 0)
		return rc;
	/* A fleet event keeps the attribution of the node it came from. */
	if (ev->action == STORE_OPT_OUT && !st->is_remote_apply) {
		k.mv_size = strlen(ev->number);
		k.mv_data = ev->number;
		rc = mdb_get(txn, st->dbi[STORE_DB_LASTSENT], &k, &v);
		/* The newer of the table's and the caller's (a caller may
		 * know one still waiting in its batch). */
		if (rc == 0 && store_lastsent_decode(&v, &last) == 0 &&
		    last.time >= ev->last.time)
			ev->last = last;
		else if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	if ((len = store_event_encode(ev, val, sizeof(val))) == 0) {
		store_fail(st, STORE_E_INVAL, "event too large");
		return STORE_RC_SET;
	}
	store_be64_put(idk, ev->id);
	k.mv_size = sizeof(idk);
	k.mv_data = idk;
	v.mv_size = len;
	v.mv_data = val;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_EVENTS], &k, &v,
	    MDB_APPEND)) != 0)
		return rc;
	len = store_key2(key, sizeof(key) - 8, ev->number, NULL);
	memcpy(key + len, idk, 8);
	k.mv_size = len + 8;
	k.mv_data = key;
	v.mv_size = 0;
	v.mv_data = NULL;
	if ((rc = mdb_put(txn, st->dbi[STORE_DB_EVNUM], &k, &v, 0)) != 0 ||
	    (rc = store_daily_event_txn(st, txn, ev)) != 0)
		return rc;
	/* LESS and what ends it (an opt-in) are store/freq.c's; LESS
	 * changes no opt-out state, but goes to the fleet like the rest. */
	if ((rc = store_freq_event_txn(st, txn, ev)) != 0)
		return rc;
	if (ev->action != STORE_LESS &&
	    (rc = store_lookup_apply_txn(st, txn, ev)) != 0)
		return rc;
	return store_journal_event_txn(st, txn, ev);
}

static int
apply_body(struct store *st, MDB_txn *txn, void *arg)
{
	return store_event_apply_txn(st, txn, arg);
}

int
store_optout_apply(struct store *st, struct store_event *ev)
{
	store_ok(st);
	if (store_event_check(st, ev) != 0 ||
	    store_write(st, apply_body, ev, false, "recording an event") != 0) {
		ev->id = 0;
		return -1;
	}
	return 0;
}

struct import_arg {
	struct store_event *evs;
	size_t		 n;
};

static int
import_body(struct store *st, MDB_txn *txn, void *arg)
{
	struct import_arg *ia = arg;
	size_t i;
	int rc;

	for (i = 0; i < ia->n; i++)
		if ((rc = store_event_apply_txn(st, txn, &ia->evs[i])) != 0)
			return rc;
	return 0;
}

int
store_import(struct store *st, struct store_event *evs, size_t n)
{
	struct import_arg ia = { evs, n };
	size_t i;

	store_ok(st);
	for (i = 0; i < n; i++)
		if (store_event_check(st, &evs[i]) != 0) {
			char msg[sizeof(st->errmsg)];

			store_copy(msg, sizeof(msg), st->errmsg);
			return store_fail(st, STORE_E_INVAL,
			    "import entry %zu: %s", i + 1, msg);
		}
	if (n == 0)
		return 0;
	if (store_write(st, import_body, &ia, false, "importing") != 0) {
		for (i = 0; i < n; i++)
			evs[i].id = 0;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* History and feed.                                                   */

/* Decode the event with key idk from txn and hand it to cb. */
static int
event_emit(struct store *st, MDB_txn *txn, const uint8_t *idk,
    struct store_event *ev, store_event_fn cb, void *arg, int *cbret)
{
	MDB_val k = { 8, (void *)(uintptr_t)idk }, v;
	int rc;

	if ((rc = mdb_get(txn, st->dbi[STORE_DB_EVENTS], &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;	/* expired */
	if (store_event_decode(&v, store_be64_get(idk), ev) != 0)
		return MDB_CORRUPTED;
	*cbret = cb(ev, arg);
	return 0;
}

int
store_history(struct store *st, const char *number, store_event_fn cb,
    void *arg)
{
	uint8_t prefix[STORE_KEY_MAX];
	struct store_event ev;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t plen;
	int rc, cbret = 0;

	store_ok(st);
	if (!store_str_ok(number, STORE_NUMBER_MAX))
		return store_fail(st, STORE_E_INVAL, "bad number");
	plen = store_key2(prefix, sizeof(prefix), number, NULL);
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	rc = store_cursor_seek(st, txn, STORE_DB_EVNUM, prefix, plen, &cur, &k,
	    &v);
	while (rc == 0 && cbret == 0 &&
	    store_key_has_prefix(&k, prefix, plen)) {
		if (k.mv_size != plen + 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		rc = event_emit(st, txn, (const uint8_t *)k.mv_data + plen,
		    &ev, cb, arg, &cbret);
		if (rc == 0 && cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret, "reading history");
}

int
store_events_since(struct store *st, uint64_t after_id, size_t max,
    store_event_fn cb, void *arg)
{
	struct store_event ev;
	uint8_t idk[8];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t seen = 0;
	int rc, cbret = 0;

	store_ok(st);
	if (after_id == UINT64_MAX)
		return 0;
	if ((txn = store_walk_begin(st)) == NULL)
		return -1;
	store_be64_put(idk, after_id + 1);
	rc = store_cursor_seek(st, txn, STORE_DB_EVENTS, idk, sizeof(idk),
	    &cur, &k, &v);
	while (rc == 0 && cbret == 0 && (max == 0 || seen < max)) {
		if (k.mv_size != 8 ||
		    store_event_decode(&v, store_be64_get(k.mv_data), &ev)) {
			rc = MDB_CORRUPTED;
			break;
		}
		cbret = cb(&ev, arg);
		seen++;
		if (cbret == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return store_walk_finish(st, txn, cur, rc, cbret, "reading events");
}
