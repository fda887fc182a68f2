/*
 * JSON and CSV encoders of the staff records. The CLI's --format jsonl
 * and the admin API print the same objects from here, so they cannot
 * drift apart.
 */
#include "proxy/compliance/encode.h"
#include "proxy/compliance/freqstat.h"

#include <inttypes.h>
#include <string.h>

#include "proxy/compliance/csv.h"
#include "proxy/compliance/jsonout.h"
#include "proxy/compliance/rfc3339.h"

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))

const char *
encode_scope_text(const struct store_event *ev, char *buf, size_t cap)
{
	size_t	 i, off = 0;
	int	 n;

	buf[0] = '\0';
	if (ev->all) {
		snprintf(buf, cap, "all");
		return buf;
	}
	for (i = 0; i < ev->ncategories && off < cap; i++) {
		n = snprintf(buf + off, cap - off, "%s%s", i > 0 ? "," : "",
		    ev->categories[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

const char *
encode_audit_reason(uint64_t event_id, char *buf, size_t cap)
{
	if (event_id != 0)
		snprintf(buf, cap, "opted out (event %" PRIu64 ")", event_id);
	else	/* refused on a fleet event read but not yet applied */
		snprintf(buf, cap, "opted out (fleet event not yet in this "
		    "node's store)");
	return buf;
}

const char *
encode_audit_why(const struct store_audit *a, char *buf, size_t cap)
{
	if (a->reason != STORE_AUDIT_OPTED_OUT) {
		snprintf(buf, cap, "%s", store_audit_reason_name(a->reason));
		return buf;
	}
	return encode_audit_reason(a->event_id, buf, cap);
}

const char *
encode_review_status_name(enum store_review_status s)
{
	switch (s) {
	case STORE_REVIEW_OPEN:
		return "open";
	case STORE_REVIEW_OPTED_OUT:
		return "opted_out";
	case STORE_REVIEW_DISMISSED:
		return "dismissed";
	}
	return "?";
}

int64_t
encode_age(int64_t t, int64_t now)
{
	return now > t ? now - t : 0;
}

/* n string fields as part of a CSV row, each after a comma unless it
 * starts the row (lead false). */
static void
encode_csv_fields(FILE *fp, bool lead, const char *const *f, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (lead || i > 0)
			fputc(',', fp);
		csv_field_write(fp, f[i]);
	}
}

/* n string members of a JSON object, each after a comma. */
static void
encode_json_members(FILE *fp, const char *const *keys,
    const char *const *vals, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		jsonout_kv_str(fp, keys[i], vals[i], true);
}

/* 32 bytes as 64 lower-case hex digits and a NUL in out. */
static void
encode_hex32(const uint8_t *b, char out[65])
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0x0f];
	}
	out[64] = '\0';
}

void
encode_status_members(FILE *fp, bool is_blocked,
    const struct store_block *why)
{
	if (!is_blocked) {
		fprintf(fp, "\"status\":\"allowed\"");
		return;
	}
	fprintf(fp, "\"status\":\"blocked\"");
	jsonout_kv_time(fp, "since", why->since, true);
	jsonout_kv_u64(fp, "event_id", why->event_id, true);
	jsonout_kv_str(fp, "scope", why->is_global ? "all" : "category",
	    true);
}

void
encode_status_json(FILE *fp, const char *number, const char *category,
    bool is_blocked, const struct store_block *why)
{
	fputc('{', fp);
	jsonout_kv_str(fp, "number", number, false);
	jsonout_kv_str(fp, "category", category, true);
	fputc(',', fp);
	encode_status_members(fp, is_blocked, why);
	fputc('}', fp);
}

void
encode_status_json_prefs(FILE *fp, const char *number, const char *category,
    bool is_blocked, const struct store_block *why,
    const struct freqstat *fs)
{
	fputc('{', fp);
	jsonout_kv_str(fp, "number", number, false);
	jsonout_kv_str(fp, "category", category, true);
	fputc(',', fp);
	encode_status_members(fp, is_blocked, why);
	encode_prefs_members(fp, fs);
	fputc('}', fp);
}

void
encode_prefs_members(FILE *fp, const struct freqstat *fs)
{
	fprintf(fp, ",\"less\":%s,\"sent\":%u,\"left\":%u,\"max\":%u",
	    fs->is_less ? "true" : "false", fs->sent, fs->left, fs->max);
	fprintf(fp, ",\"per_s\":%" PRId64, fs->per_s);
	if (fs->is_less)
		jsonout_kv_time(fp, "less_since", fs->less_since, true);
}

void
encode_status_csv(FILE *fp, const char *number, const char *category,
    bool is_blocked, const struct store_block *why)
{
	const char	*f[] = { number, category };
	char		 ts[RFC3339_MAX];

	encode_csv_fields(fp, false, f, NFIELDS(f));
	if (is_blocked)
		fprintf(fp, ",blocked,%s,%" PRIu64 ",%s",
		    rfc3339_format(why->since, ts, sizeof(ts)), why->event_id,
		    why->is_global ? "all" : "category");
	else
		fprintf(fp, ",allowed,,,");
}

/* The "last_sent" member of an event, when there is one. */
static void
encode_last_sent_json(FILE *fp, const struct store_lastsent *l)
{
	if (l->time == 0)
		return;
	fprintf(fp, ",\"last_sent\":{");
	jsonout_kv_str(fp, "account", l->account, false);
	jsonout_kv_time(fp, "time", l->time, true);
	jsonout_kv_str(fp, "category", l->category, true);
	jsonout_kv_str(fp, "service_type", l->service_type, true);
	fputc('}', fp);
}

void
encode_event_json(FILE *fp, const struct store_event *ev)
{
	static const char *const keys[] = { "source", "inbound", "rule",
		"text", "actor", "note", "consent" };
	const char	*vals[] = { store_source_name(ev->source), ev->inbound,
	    ev->rule, ev->text, ev->actor, ev->note, ev->consent };
	char		 scope[ENCODE_SCOPE_MAX];
	size_t		 i;

	/* number and inbound may be an SMSC's alphanumeric or unparsable
	 * address: escaped like every other string. */
	fputc('{', fp);
	jsonout_kv_u64(fp, "event_id", ev->id, false);
	jsonout_kv_time(fp, "time", ev->time, true);
	jsonout_kv_str(fp, "number", ev->number, true);
	jsonout_kv_str(fp, "action", store_action_name(ev->action), true);
	jsonout_kv_str(fp, "scope", encode_scope_text(ev, scope,
	    sizeof(scope)), true);
	fprintf(fp, ",\"all\":%s,\"categories\":[", ev->all ? "true" :
	    "false");
	for (i = 0; i < ev->ncategories && !ev->all; i++) {
		if (i > 0)
			fputc(',', fp);
		jsonout_str(fp, ev->categories[i]);
	}
	fputc(']', fp);
	encode_json_members(fp, keys, vals, NFIELDS(keys));
	encode_last_sent_json(fp, &ev->last);
	fputc('}', fp);
}

void
encode_event_csv(FILE *fp, const struct store_event *ev)
{
	char		 ts[RFC3339_MAX], lts[RFC3339_MAX];
	char		 scope[ENCODE_SCOPE_MAX];
	const char	*f[] = { ev->number, store_action_name(ev->action),
	    encode_scope_text(ev, scope, sizeof(scope)),
	    store_source_name(ev->source), ev->inbound, ev->rule, ev->text,
	    ev->actor, ev->note, ev->consent, ev->last.time != 0 ?
	    rfc3339_format(ev->last.time, lts, sizeof(lts)) : "",
	    ev->last.account, ev->last.category };

	fprintf(fp, "%" PRIu64 ",%s", ev->id, rfc3339_format(ev->time, ts,
	    sizeof(ts)));
	encode_csv_fields(fp, true, f, NFIELDS(f));
}

void
encode_audit_json(FILE *fp, const struct store_audit *a)
{
	static const char *const keys[] = { "account", "category",
		"service_type", "source", "destination" };
	const char	*vals[] = { a->account, a->category, a->service_type,
	    a->source, a->destination };
	char		 sha[65], reason[64];

	encode_hex32(a->body_sha256, sha);
	fputc('{', fp);
	jsonout_kv_u64(fp, "id", a->id, false);
	jsonout_kv_time(fp, "time", a->time, true);
	encode_json_members(fp, keys, vals, NFIELDS(keys));
	fprintf(fp, ",\"status\":\"0x%08x\"", a->status);
	jsonout_kv_str(fp, "reason", encode_audit_why(a, reason,
	    sizeof(reason)), true);
	jsonout_kv_u64(fp, "event_id", a->event_id, true);
	jsonout_kv_u64(fp, "body_len", a->body_len, true);
	jsonout_kv_str(fp, "body_sha256", sha, true);
	fputc('}', fp);
}

void
encode_audit_csv(FILE *fp, const struct store_audit *a)
{
	char		 ts[RFC3339_MAX], sha[65], reason[64];
	const char	*f[] = { rfc3339_format(a->time, ts, sizeof(ts)),
	    a->account, a->category, a->service_type, a->source,
	    a->destination };

	encode_hex32(a->body_sha256, sha);
	encode_csv_fields(fp, false, f, NFIELDS(f));
	fprintf(fp, ",0x%08x,", a->status);
	csv_field_write(fp, encode_audit_why(a, reason, sizeof(reason)));
	fprintf(fp, ",%" PRIu64 ",%u,%s", a->event_id, a->body_len, sha);
}

void
encode_review_json(FILE *fp, const struct store_review *rv, int64_t now)
{
	static const char *const keys[] = { "number", "inbound", "account",
		"text" };
	const char	*vals[] = { rv->number, rv->inbound, rv->account,
	    rv->text };

	/* number and inbound come from the SMSC's addresses: an
	 * alphanumeric sender may hold quotes or commas. */
	fputc('{', fp);
	jsonout_kv_u64(fp, "id", rv->id, false);
	jsonout_kv_time(fp, "time", rv->time, true);
	fprintf(fp, ",\"age_seconds\":%" PRId64, encode_age(rv->time, now));
	encode_json_members(fp, keys, vals, NFIELDS(keys));
	jsonout_kv_str(fp, "status", encode_review_status_name(rv->status),
	    true);
	if (rv->status != STORE_REVIEW_OPEN) {
		jsonout_kv_time(fp, "resolved_time", rv->resolved_time, true);
		jsonout_kv_str(fp, "actor", rv->actor, true);
		jsonout_kv_str(fp, "note", rv->note, true);
		if (rv->event_id != 0)
			jsonout_kv_u64(fp, "event_id", rv->event_id, true);
	}
	fputc('}', fp);
}

void
encode_review_csv(FILE *fp, const struct store_review *rv, int64_t now)
{
	char		 ts[RFC3339_MAX];
	const char	*f[] = { rv->number, rv->inbound, rv->account,
	    rv->text };

	fprintf(fp, "%" PRIu64 ",%s,%" PRId64, rv->id, rfc3339_format(rv->time,
	    ts, sizeof(ts)), encode_age(rv->time, now));
	encode_csv_fields(fp, true, f, NFIELDS(f));
}

/* The category of a state entry as staff name it. */
static const char *
encode_state_category(const struct store_state_entry *e)
{
	return strcmp(e->category, STORE_CATEGORY_ALL) == 0 ? "all" :
	    e->category;
}

void
encode_state_json(FILE *fp, const struct store_state_entry *e)
{
	fputc('{', fp);
	jsonout_kv_str(fp, "number", e->number, false);
	jsonout_kv_str(fp, "category", encode_state_category(e), true);
	jsonout_kv_str(fp, "state", e->is_exception ? "opted_in" :
	    "opted_out", true);
	jsonout_kv_time(fp, "since", e->since, true);
	jsonout_kv_u64(fp, "event_id", e->event_id, true);
	fputc('}', fp);
}

void
encode_state_csv(FILE *fp, const struct store_state_entry *e)
{
	char		 ts[RFC3339_MAX];
	const char	*f[] = { e->number, encode_state_category(e) };

	encode_csv_fields(fp, false, f, NFIELDS(f));
	fprintf(fp, ",%s,%s,%" PRIu64, e->is_exception ? "opted_in" :
	    "opted_out", rfc3339_format(e->since, ts, sizeof(ts)),
	    e->event_id);
}

void
encode_list_init(struct encode_list *l, FILE *fp, enum encode_format format,
    size_t max, int64_t now, const char *header)
{
	memset(l, 0, sizeof(*l));
	l->fp = fp;
	l->format = format;
	l->max = max;
	l->now = now;
	if (format == ENCODE_CSV && header != NULL)
		fprintf(fp, "%s\n", header);
}

/* Room for one more record? Writes an array's separator; false (is_more
 * set) when the list is full. */
static bool
encode_list_next(struct encode_list *l)
{
	if (l->max != 0 && l->n == l->max) {
		l->is_more = true;
		return false;
	}
	if (l->format == ENCODE_JSON_ARRAY && l->n > 0)
		fputc(',', l->fp);
	l->n++;
	return true;
}

/* After a record: the line end of JSON lines and CSV rows. */
static int
encode_list_end(struct encode_list *l)
{
	if (l->format != ENCODE_JSON_ARRAY)
		fputc('\n', l->fp);
	return 0;
}

/* What an encode_list_put() record is. */
enum encode_kind {
	ENCODE_EVENT = 0,
	ENCODE_AUDIT,
	ENCODE_REVIEW,
	ENCODE_STATE,
};

/* Append rec, a record of kind, to l. Returns 0, or 1 (l is full). */
static int
encode_list_put(struct encode_list *l, enum encode_kind kind,
    const void *rec)
{
	bool	 is_csv = l->format == ENCODE_CSV;

	if (!encode_list_next(l))
		return 1;
	switch (kind) {
	case ENCODE_EVENT:
		(is_csv ? encode_event_csv : encode_event_json)(l->fp, rec);
		l->last_id = ((const struct store_event *)rec)->id;
		break;
	case ENCODE_AUDIT:
		(is_csv ? encode_audit_csv : encode_audit_json)(l->fp, rec);
		break;
	case ENCODE_REVIEW:
		(is_csv ? encode_review_csv : encode_review_json)(l->fp, rec,
		    l->now);
		break;
	case ENCODE_STATE:
		(is_csv ? encode_state_csv : encode_state_json)(l->fp, rec);
		break;
	}
	return encode_list_end(l);
}

int
encode_list_event(const struct store_event *ev, void *arg)
{
	return encode_list_put(arg, ENCODE_EVENT, ev);
}

int
encode_list_audit(const struct store_audit *a, void *arg)
{
	return encode_list_put(arg, ENCODE_AUDIT, a);
}

int
encode_list_review(const struct store_review *rv, void *arg)
{
	return encode_list_put(arg, ENCODE_REVIEW, rv);
}

int
encode_list_state(const struct store_state_entry *e, void *arg)
{
	return encode_list_put(arg, ENCODE_STATE, e);
}
