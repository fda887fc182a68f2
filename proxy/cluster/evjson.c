/*
 * proxy/cluster/evjson: events to and from the JSON of fleet rows.
 */
#include "proxy/cluster/evjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/journal.h"

/* Add key: s to o unless s is empty (rows stay small). 0 or -1. */
static int
put_str(json_t *o, const char *key, const char *s)
{
	if (s[0] == '\0')
		return 0;
	return json_object_set_new(o, key, json_string(s));
}

static json_t *
last_encode(const struct store_lastsent *l)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "time", json_integer(l->time)) != 0 ||
	    put_str(o, "account", l->account) != 0 ||
	    put_str(o, "category", l->category) != 0 ||
	    put_str(o, "service_type", l->service_type) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
evjson_encode(const struct store_event *ev)
{
	json_t *o, *cats = NULL;
	char *out = NULL;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "time", json_integer(ev->time)) != 0 ||
	    json_object_set_new(o, "number", json_string(ev->number)) != 0 ||
	    json_object_set_new(o, "action",
	    json_string(store_action_name(ev->action))) != 0 ||
	    json_object_set_new(o, "source",
	    json_string(store_source_name(ev->source))) != 0 ||
	    json_object_set_new(o, "all", json_boolean(ev->all)) != 0)
		goto out;
	if (!ev->all) {
		if ((cats = json_array()) == NULL)
			goto out;
		for (i = 0; i < ev->ncategories; i++)
			if (json_array_append_new(cats,
			    json_string(ev->categories[i])) != 0)
				goto out;
		if (json_object_set(o, "categories", cats) != 0)
			goto out;
	}
	if (put_str(o, "inbound", ev->inbound) != 0 ||
	    put_str(o, "text", ev->text) != 0 ||
	    put_str(o, "rule", ev->rule) != 0 ||
	    put_str(o, "actor", ev->actor) != 0 ||
	    put_str(o, "note", ev->note) != 0 ||
	    put_str(o, "consent", ev->consent) != 0)
		goto out;
	if (ev->last.time != 0 &&
	    json_object_set_new(o, "last", last_encode(&ev->last)) != 0)
		goto out;
	out = json_dumps(o, JSON_COMPACT);
out:
	json_decref(cats);
	json_decref(o);
	return out;
}

/* Copy string member key of o into dst (cap bytes); absent is "". */
static int
get_str(const json_t *o, const char *key, char *dst, size_t cap,
    char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	const char *s;

	dst[0] = '\0';
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || strlen(s = json_string_value(v)) >= cap) {
		snprintf(err, errlen, "'%s' is not a string that fits", key);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int
action_parse(const char *s, enum store_action *a)
{
	static const enum store_action all[] = {
		STORE_OPT_OUT, STORE_OPT_IN, STORE_LESS,
	};
	size_t	i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, store_action_name(all[i])) == 0) {
			*a = all[i];
			return 0;
		}
	return -1;
}

static int
cats_decode(const json_t *o, struct store_event *ev, char *err,
    size_t errlen)
{
	const json_t *cats = json_object_get(o, "categories"), *c;
	size_t i;

	if (ev->all)
		return 0;
	if (!json_is_array(cats) || json_array_size(cats) == 0 ||
	    json_array_size(cats) > STORE_SCOPE_MAX) {
		snprintf(err, errlen, "no categories and not all");
		return -1;
	}
	json_array_foreach(cats, i, c) {
		if (!json_is_string(c) || strlen(json_string_value(c)) >=
		    sizeof(ev->categories[0])) {
			snprintf(err, errlen, "bad category");
			return -1;
		}
		snprintf(ev->categories[i], sizeof(ev->categories[i]), "%s",
		    json_string_value(c));
	}
	ev->ncategories = json_array_size(cats);
	return 0;
}

static int
fields_decode(const json_t *o, struct store_event *ev, char *err,
    size_t errlen)
{
	const json_t *last = json_object_get(o, "last");
	char action[16], source[24];

	if (!json_is_integer(json_object_get(o, "time")) ||
	    !json_is_boolean(json_object_get(o, "all"))) {
		snprintf(err, errlen, "'time' or 'all' missing");
		return -1;
	}
	ev->time = json_integer_value(json_object_get(o, "time"));
	ev->all = json_is_true(json_object_get(o, "all"));
	if (get_str(o, "number", ev->number, sizeof(ev->number), err,
	    errlen) != 0 || get_str(o, "action", action, sizeof(action), err,
	    errlen) != 0 || get_str(o, "source", source, sizeof(source), err,
	    errlen) != 0 || get_str(o, "inbound", ev->inbound,
	    sizeof(ev->inbound), err, errlen) != 0 || get_str(o, "text",
	    ev->text, sizeof(ev->text), err, errlen) != 0 || get_str(o,
	    "rule", ev->rule, sizeof(ev->rule), err, errlen) != 0 ||
	    get_str(o, "actor", ev->actor, sizeof(ev->actor), err,
	    errlen) != 0 || get_str(o, "note", ev->note, sizeof(ev->note),
	    err, errlen) != 0 || get_str(o, "consent", ev->consent,
	    sizeof(ev->consent), err, errlen) != 0)
		return -1;
	if (ev->number[0] == '\0' || action_parse(action, &ev->action) != 0 ||
	    store_source_parse(source, &ev->source) != 0) {
		snprintf(err, errlen, "bad number, action or source");
		return -1;
	}
	if (json_is_object(last)) {
		ev->last.time = json_integer_value(json_object_get(last,
		    "time"));
		if (get_str(last, "account", ev->last.account,
		    sizeof(ev->last.account), err, errlen) != 0 ||
		    get_str(last, "category", ev->last.category,
		    sizeof(ev->last.category), err, errlen) != 0 ||
		    get_str(last, "service_type", ev->last.service_type,
		    sizeof(ev->last.service_type), err, errlen) != 0)
			return -1;
	}
	return cats_decode(o, ev, err, errlen);
}

int
evjson_decode(const char *text, size_t len, struct store_event *ev,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o;
	int rc;

	memset(ev, 0, sizeof(*ev));
	if ((o = json_loadb(text, len, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "not JSON: %s", jerr.text);
		return -1;
	}
	if (!json_is_object(o)) {
		snprintf(err, errlen, "not a JSON object");
		json_decref(o);
		return -1;
	}
	rc = fields_decode(o, ev, err, errlen);
	json_decref(o);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Audit records.                                                      */

char *
evjson_audit_encode(const struct store_audit *a)
{
	char hex[65];
	json_t *o;
	char *out = NULL;
	size_t i;

	for (i = 0; i < sizeof(a->body_sha256); i++)
		snprintf(hex + 2 * i, 3, "%02x", a->body_sha256[i]);
	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "time", json_integer(a->time)) == 0 &&
	    json_object_set_new(o, "account", json_string(a->account)) == 0 &&
	    json_object_set_new(o, "category",
	    json_string(a->category)) == 0 &&
	    put_str(o, "service_type", a->service_type) == 0 &&
	    put_str(o, "source", a->source) == 0 &&
	    json_object_set_new(o, "destination",
	    json_string(a->destination)) == 0 &&
	    json_object_set_new(o, "status", json_integer(a->status)) == 0 &&
	    json_object_set_new(o, "event_id",
	    json_integer((json_int_t)a->event_id)) == 0 &&
	    json_object_set_new(o, "body_len",
	    json_integer(a->body_len)) == 0 &&
	    json_object_set_new(o, "body_sha256", json_string(hex)) == 0)
		out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

static int
sha_decode(const char *hex, uint8_t out[32])
{
	size_t i;
	unsigned v;

	if (strlen(hex) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int
audit_fields(const json_t *o, struct store_audit *a, char *err,
    size_t errlen)
{
	char hex[65];

	if (!json_is_integer(json_object_get(o, "time")) ||
	    !json_is_integer(json_object_get(o, "status"))) {
		snprintf(err, errlen, "'time' or 'status' missing");
		return -1;
	}
	a->time = json_integer_value(json_object_get(o, "time"));
	a->status = (uint32_t)json_integer_value(json_object_get(o,
	    "status"));
	a->event_id = (uint64_t)json_integer_value(json_object_get(o,
	    "event_id"));
	a->body_len = (uint32_t)json_integer_value(json_object_get(o,
	    "body_len"));
	if (get_str(o, "account", a->account, sizeof(a->account), err,
	    errlen) != 0 || get_str(o, "category", a->category,
	    sizeof(a->category), err, errlen) != 0 || get_str(o,
	    "service_type", a->service_type, sizeof(a->service_type), err,
	    errlen) != 0 || get_str(o, "source", a->source,
	    sizeof(a->source), err, errlen) != 0 || get_str(o,
	    "destination", a->destination, sizeof(a->destination), err,
	    errlen) != 0 || get_str(o, "body_sha256", hex, sizeof(hex), err,
	    errlen) != 0)
		return -1;
	if (a->destination[0] == '\0' || a->account[0] == '\0' ||
	    (hex[0] != '\0' && sha_decode(hex, a->body_sha256) != 0)) {
		snprintf(err, errlen, "bad destination, account or digest");
		return -1;
	}
	return 0;
}

int
evjson_audit_decode(const char *text, size_t len, struct store_audit *a,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o;
	int rc;

	memset(a, 0, sizeof(*a));
	if ((o = json_loadb(text, len, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "not JSON: %s", jerr.text);
		return -1;
	}
	rc = json_is_object(o) ? audit_fields(o, a, err, errlen) : -1;
	if (!json_is_object(o))
		snprintf(err, errlen, "not a JSON object");
	json_decref(o);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Review items.                                                       */

static const char *const review_status_names[] = {
	[STORE_REVIEW_OPEN] = "open",
	[STORE_REVIEW_OPTED_OUT] = "opted_out",
	[STORE_REVIEW_DISMISSED] = "dismissed",
};

char *
evjson_review_encode(const struct store_review *r, const char *origin_node,
    uint64_t origin_id)
{
	json_t *o;
	char *out = NULL;

	if ((unsigned)r->status > STORE_REVIEW_DISMISSED ||
	    (o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "origin_node",
	    json_string(origin_node)) == 0 &&
	    json_object_set_new(o, "origin_id",
	    json_integer((json_int_t)origin_id)) == 0 &&
	    json_object_set_new(o, "time", json_integer(r->time)) == 0 &&
	    json_object_set_new(o, "number", json_string(r->number)) == 0 &&
	    put_str(o, "inbound", r->inbound) == 0 &&
	    put_str(o, "account", r->account) == 0 &&
	    put_str(o, "text", r->text) == 0 &&
	    json_object_set_new(o, "status",
	    json_string(review_status_names[r->status])) == 0 &&
	    json_object_set_new(o, "resolved_time",
	    json_integer(r->resolved_time)) == 0 &&
	    put_str(o, "actor", r->actor) == 0 &&
	    put_str(o, "note", r->note) == 0)
		out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

static int
review_fields(const json_t *o, struct store_review *r, char *origin_node,
    uint64_t *origin_id, char *err, size_t errlen)
{
	char status[16];
	size_t i;

	if (!json_is_integer(json_object_get(o, "time")) ||
	    !json_is_integer(json_object_get(o, "origin_id"))) {
		snprintf(err, errlen, "'time' or 'origin_id' missing");
		return -1;
	}
	r->time = json_integer_value(json_object_get(o, "time"));
	r->resolved_time = json_integer_value(json_object_get(o,
	    "resolved_time"));
	*origin_id = (uint64_t)json_integer_value(json_object_get(o,
	    "origin_id"));
	if (get_str(o, "origin_node", origin_node, STORE_NODE_MAX, err,
	    errlen) != 0 || get_str(o, "number", r->number,
	    sizeof(r->number), err, errlen) != 0 || get_str(o, "inbound",
	    r->inbound, sizeof(r->inbound), err, errlen) != 0 || get_str(o,
	    "account", r->account, sizeof(r->account), err, errlen) != 0 ||
	    get_str(o, "text", r->text, sizeof(r->text), err, errlen) != 0 ||
	    get_str(o, "actor", r->actor, sizeof(r->actor), err,
	    errlen) != 0 || get_str(o, "note", r->note, sizeof(r->note), err,
	    errlen) != 0 || get_str(o, "status", status, sizeof(status), err,
	    errlen) != 0)
		return -1;
	for (i = 0; i <= STORE_REVIEW_DISMISSED; i++)
		if (strcmp(status, review_status_names[i]) == 0)
			break;
	if (i > STORE_REVIEW_DISMISSED || origin_node[0] == '\0' ||
	    r->number[0] == '\0') {
		snprintf(err, errlen, "bad status, origin or number");
		return -1;
	}
	r->status = (enum store_review_status)i;
	return 0;
}

int
evjson_review_decode(const char *text, size_t len, struct store_review *r,
    char *origin_node, uint64_t *origin_id, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o;
	int rc;

	memset(r, 0, sizeof(*r));
	origin_node[0] = '\0';
	*origin_id = 0;
	if ((o = json_loadb(text, len, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "not JSON: %s", jerr.text);
		return -1;
	}
	rc = json_is_object(o) ? review_fields(o, r, origin_node, origin_id,
	    err, errlen) : -1;
	if (!json_is_object(o))
		snprintf(err, errlen, "not a JSON object");
	json_decref(o);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Receipt map entries.                                                */

char *
evjson_msgmap_encode(const struct store_msgmap *m)
{
	json_t *o;
	char *out = NULL;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "upstream", json_string(m->upstream)) == 0 &&
	    json_object_set_new(o, "message_id",
	    json_string(m->message_id)) == 0 &&
	    json_object_set_new(o, "account", json_string(m->account)) == 0)
		out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

/* ------------------------------------------------------------------ */
/* Sends counted by a frequency cap.                                   */

char *
evjson_sent_encode(const struct store_freq_entry *e)
{
	json_t *o;
	char *out = NULL;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "category",
	    json_string(e->category)) == 0 &&
	    json_object_set_new(o, "time", json_integer(e->time)) == 0)
		out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

int
evjson_sent_decode(const char *text, size_t len, struct store_freq_entry *e,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o;
	int rc = -1;

	e->category[0] = '\0';
	e->time = 0;
	if ((o = json_loadb(text, len, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "not JSON: %s", jerr.text);
		return -1;
	}
	if (!json_is_object(o) ||
	    !json_is_integer(json_object_get(o, "time")))
		snprintf(err, errlen, "not an object with a 'time'");
	else if (get_str(o, "category", e->category, sizeof(e->category),
	    err, errlen) == 0 && e->category[0] != '\0') {
		e->time = json_integer_value(json_object_get(o, "time"));
		rc = 0;
	} else
		snprintf(err, errlen, "bad category");
	json_decref(o);
	return rc;
}
