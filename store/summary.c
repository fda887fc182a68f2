/*
 * store/summary: the formats of store/summary_int.h.
 */
#include "store/summary_int.h"

#include <string.h>

#include "store/codec_int.h"

/* Take one state entry (category cat, n bytes; value v) into vd. */
int
store_verdict_take(struct store_verdict *vd, const uint8_t *cat, size_t n,
    const MDB_val *v)
{
	bool is_global = n == 1 && cat[0] == '*', is_cat, exc;
	int64_t since;
	uint64_t id;

	is_cat = n == vd->clen && memcmp(cat, vd->category, n) == 0;
	if (!is_global && !is_cat)
		return 0;
	if (store_state_decode(v, &exc, &since, &id) != 0)
		return MDB_CORRUPTED;
	if (is_global) {
		vd->has_global = true;
		vd->g_since = since;
		vd->g_id = id;
	}
	if (is_cat) {
		vd->has_cat = true;
		vd->cat_exc = exc;
		vd->c_since = since;
		vd->c_id = id;
	}
	return 0;
}

/* Take every entry of a non-empty summary into vd. */
int
store_verdict_summary(struct store_verdict *vd, const MDB_val *v)
{
	const uint8_t *p = v->mv_data, *end = p + v->mv_size;
	MDB_val sv;
	size_t n;
	int rc;

	if (p[0] != STORE_SUMMARY_V2)
		return MDB_CORRUPTED;
	for (p++; p < end; p += n + STORE_STATE_LEN) {
		n = *p++;
		if (n == 0 || (size_t)(end - p) < n + STORE_STATE_LEN)
			return MDB_CORRUPTED;
		sv.mv_size = STORE_STATE_LEN;
		sv.mv_data = (void *)(uintptr_t)(p + n);
		if ((rc = store_verdict_take(vd, p, n, &sv)) != 0)
			return rc;
	}
	return 0;
}

void
store_summary_init(struct store_summary *sm)
{
	sm->b[0] = STORE_SUMMARY_V2;
	sm->len = 1;
	sm->n = 0;
	sm->is_over = false;
}

/* Add the entry of state key k (prefix plen bytes long), value v. */
void
store_summary_add(struct store_summary *sm, const MDB_val *k, size_t plen,
    const MDB_val *v)
{
	size_t n = k->mv_size - plen;

	sm->n++;
	if (sm->is_over)
		return;
	/* A damaged value goes as it is to the walk, which reports it. */
	if (n == 0 || n > UINT8_MAX || v->mv_size != STORE_STATE_LEN ||
	    sm->len + 1 + n + STORE_STATE_LEN > sizeof(sm->b)) {
		sm->is_over = true;
		return;
	}
	sm->b[sm->len++] = (uint8_t)n;
	memcpy(sm->b + sm->len, (const uint8_t *)k->mv_data + plen, n);
	memcpy(sm->b + sm->len + n, v->mv_data, STORE_STATE_LEN);
	sm->len += n + STORE_STATE_LEN;
}

void
store_summary_val(const struct store_summary *sm, MDB_val *v)
{
	v->mv_size = sm->is_over ? 0 : sm->len;
	v->mv_data = sm->is_over ? NULL : (void *)(uintptr_t)sm->b;
}

int
store_summary_ent_of(const MDB_val *v, struct store_summary_ent *e,
    const char **cat, size_t *clen)
{
	const uint8_t *p = v->mv_data;
	MDB_val sv;
	bool exc;
	size_t n;

	memset(e, 0, sizeof(*e));
	e->kind = STORE_SUMMARY_OTHER;
	*cat = NULL;
	*clen = 0;
	/* One entry: version, length, name, state value. */
	if (v->mv_size < 2 || p[0] != STORE_SUMMARY_V2 || (n = p[1]) == 0 ||
	    v->mv_size != 2 + n + STORE_STATE_LEN)
		return 0;
	sv.mv_size = STORE_STATE_LEN;
	sv.mv_data = (void *)(uintptr_t)(p + 2 + n);
	if (store_state_decode(&sv, &exc, &e->since, &e->event_id) != 0 ||
	    exc)
		return 0;
	e->kind = STORE_SUMMARY_SIMPLE;
	if (n == 1 && p[2] == '*')
		return 0;	/* global: catid 0 */
	*cat = (const char *)p + 2;
	*clen = n;
	return 1;
}
