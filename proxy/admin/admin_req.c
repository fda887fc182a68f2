/*
 * What the admin API's handlers read from a request (the JSON body, the
 * query string) and how they refuse it: every answer to bad input is
 * {"error": "..."} with a 4xx status.
 */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "proxy/admin/admin.h"
#include "proxy/admin/admin_int.h"
#include "proxy/compliance/compliance.h"

void
admin_fail(struct areq *r, int code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->code = code;
	r->is_error = true;
}

void
admin_fail_with(struct areq *r, const struct compliance_err *err,
    int input_code)
{
	int	 code = 500;

	switch (err->code) {
	case COMPLIANCE_E_INPUT:
		code = input_code;
		break;
	case COMPLIANCE_E_NOTFOUND:
		code = 404;
		break;
	case COMPLIANCE_E_CONFLICT:
		code = 409;
		break;
	case COMPLIANCE_E_STORE:
		code = 503;
		break;
	case COMPLIANCE_OK:
	case COMPLIANCE_E_NOMEM:
		break;
	}
	admin_fail(r, code, "%s", err->msg);
}

/* Parse the len bytes at p as one JSON object. */
static json_t *
admin_body_parse(struct areq *r, const char *p, size_t len)
{
	json_error_t	 jerr;
	json_t		*root;

	/* Strict: one value, no duplicate keys, no NUL in strings. */
	root = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		admin_fail(r, 400, "malformed JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		admin_fail(r, 400, "the body must be a JSON object");
		return NULL;
	}
	return root;
}

json_t *
admin_body(struct areq *r, const char *const *allowed)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(r->req);
	json_t		*root, *v;
	const char	*key;
	unsigned char	*p;
	size_t		 len = evbuffer_get_length(in), i;

	if (len == 0) {
		admin_fail(r, 400, "a JSON object body is required");
		return NULL;
	}
	if (len > ADMIN_BODY_MAX) {
		admin_fail(r, 413, "body larger than %u bytes", ADMIN_BODY_MAX);
		return NULL;
	}
	if ((p = evbuffer_pullup(in, -1)) == NULL) {
		admin_fail(r, 500, "out of memory");
		return NULL;
	}
	if ((root = admin_body_parse(r, (const char *)p, len)) == NULL)
		return NULL;
	json_object_foreach(root, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			admin_fail(r, 400, "unknown field \"%.64s\"", key);
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

int
admin_body_str(struct areq *r, json_t *o, const char *key, bool required,
    const char **out)
{
	json_t	*v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required) {
			admin_fail(r, 422, "\"%s\" is required", key);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		admin_fail(r, 400, "\"%s\" must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	if (required && (*out)[0] == '\0') {
		admin_fail(r, 422, "\"%s\" must not be empty", key);
		return -1;
	}
	return 0;
}

int
admin_body_scope(struct areq *r, json_t *o, struct admin_scope *sc)
{
	json_t	*cats = json_object_get(o, "categories");
	json_t	*all = json_object_get(o, "all");
	json_t	*c;
	size_t	 i;

	memset(sc, 0, sizeof(*sc));
	if (all != NULL && !json_is_boolean(all)) {
		admin_fail(r, 400, "\"all\" must be true or false");
		return -1;
	}
	sc->all = all != NULL && json_is_true(all);
	if (cats == NULL || (json_is_array(cats) &&
	    json_array_size(cats) == 0))
		return 0;
	if (!json_is_array(cats) ||
	    (sc->names = calloc(json_array_size(cats),
	    sizeof(*sc->names))) == NULL)
		goto err_type;
	json_array_foreach(cats, i, c) {
		if (!json_is_string(c))
			goto err_type;
		sc->names[sc->n++] = json_string_value(c);
	}
	return 0;

err_type:
	admin_scope_free(sc);
	admin_fail(r, 400, "\"categories\" must be an array of category "
	    "names");
	return -1;
}

void
admin_scope_free(struct admin_scope *sc)
{
	free(sc->names);
	sc->names = NULL;
	sc->n = 0;
}

int
admin_query(struct areq *r, struct evkeyvalq *q, const char *const *allowed)
{
	struct evkeyval	*kv;
	size_t		 i;

	TAILQ_INIT(q);
	if (r->query == NULL || r->query[0] == '\0')
		return 0;
	if (evhttp_parse_query_str(r->query, q) == -1) {
		admin_fail(r, 400, "malformed query string");
		return -1;
	}
	TAILQ_FOREACH(kv, q, next) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(kv->key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			admin_fail(r, 400, "unknown query parameter "
			    "\"%.40s\"", kv->key);
			return -1;
		}
	}
	return 0;
}

int
admin_limit(struct areq *r, struct evkeyvalq *q, size_t *out)
{
	const char	*s = evhttp_find_header(q, "limit");
	uint64_t	 v;

	*out = ADMIN_PAGE_DEFAULT;
	if (s == NULL)
		return 0;
	if (compliance_u64(s, &v) == -1 || v == 0 || v > ADMIN_PAGE_MAX) {
		admin_fail(r, 400, "limit must be 1 to %u", ADMIN_PAGE_MAX);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}
