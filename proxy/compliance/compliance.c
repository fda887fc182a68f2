/*
 * The checks of staff input shared by the CLI and the admin API.
 */
#include "proxy/compliance/compliance.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "proxy/compliance/rfc3339.h"
#include "smpp/number.h"

int
compliance_fail(struct compliance_err *err, enum compliance_code code,
    const char *fmt, ...)
{
	va_list	 ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
compliance_fail_store(struct compliance_err *err, struct store *st,
    bool is_write)
{
	return compliance_fail(err, COMPLIANCE_E_STORE, "store: %s%s",
	    store_errmsg(st), is_write ? " (nothing changed)" : "");
}

int
compliance_number(const struct config *cfg, const char *in, char *out,
    size_t cap, struct compliance_err *err)
{
	if (smpp_number_parse_text(in, &cfg->number_rules, out, cap) == -1)
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "not a phone number: \"%.64s\"", in);
	return 0;
}

int
compliance_u64(const char *s, uint64_t *out)
{
	uint64_t	 v = 0;
	const char	*p;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int
compliance_review_id(const char *s, uint64_t *id, struct compliance_err *err)
{
	if (compliance_u64(s, id) == -1 || *id == 0)
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "review id \"%.24s\" is not a number", s);
	return 0;
}

/* Add category name to ev's scope unless it is there already. */
static int
compliance_scope_add(const struct config *cfg, const char *name,
    struct store_event *ev, struct compliance_err *err)
{
	size_t	 j;

	if (config_category_find(cfg, name) < 0)
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "unknown category \"%.40s\"", name);
	for (j = 0; j < ev->ncategories; j++)
		if (strcmp(ev->categories[j], name) == 0)
			return 0;	/* given twice: once is enough */
	if (ev->ncategories == STORE_SCOPE_MAX)
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "more than %d categories; use all", STORE_SCOPE_MAX);
	snprintf(ev->categories[ev->ncategories++], STORE_NAME_MAX, "%s",
	    name);
	return 0;
}

int
compliance_scope(const struct config *cfg, bool all,
    const char *const *names, size_t n, bool required,
    struct store_event *ev, bool *given, struct compliance_err *err)
{
	size_t	 i;

	*given = all || n > 0;
	if (all && n > 0)
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "give all or categories, not both");
	if (!*given) {
		if (required)
			return compliance_fail(err, COMPLIANCE_E_INPUT,
			    "give one or more categories, or all");
		return 0;
	}
	ev->all = all;
	for (i = 0; i < n; i++)
		if (compliance_scope_add(cfg, names[i], ev, err) == -1)
			return -1;
	return 0;
}

/* One RFC 3339 bound of a query named what. */
static int
compliance_time(const char *what, const char *s, int64_t *out,
    struct compliance_err *err)
{
	if (s != NULL && rfc3339_parse(s, out) == -1)
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "%s \"%.40s\" is not RFC 3339", what, s);
	return 0;
}

int
compliance_audit_filter(const struct config *cfg,
    const struct compliance_audit_query *q, struct store_audit_filter *f,
    char *numbuf, struct compliance_err *err)
{
	memset(f, 0, sizeof(*f));
	if (compliance_time("since", q->since, &f->since, err) == -1 ||
	    compliance_time("until", q->until, &f->until, err) == -1)
		return -1;
	if (q->number != NULL) {
		if (compliance_number(cfg, q->number, numbuf, STORE_NUMBER_MAX,
		    err) == -1)
			return -1;
		f->number = numbuf;
	}
	if (q->category != NULL && config_category_find(cfg,
	    q->category) < 0)
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "unknown category \"%.40s\"", q->category);
	f->account = q->account;
	f->category = q->category;
	return 0;
}

int
compliance_audit_reason(const char *reason, struct store_audit_filter *f,
    struct compliance_err *err)
{
	static const enum store_audit_reason all[] = { STORE_AUDIT_OPTED_OUT,
	    STORE_AUDIT_FREQUENCY_CAP, STORE_AUDIT_QUIET_HOURS };
	size_t	 i;

	if (reason == NULL)
		return 0;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(reason, store_audit_reason_name(all[i])) == 0) {
			f->reason = store_audit_reason_name(all[i]);
			return 0;
		}
	return compliance_fail(err, COMPLIANCE_E_INPUT, "reason must be "
	    "opted_out, frequency_cap or quiet_hours");
}
