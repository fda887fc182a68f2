/*
 * Staff operations shared by the CLI and the admin API (SPEC §6): the
 * checks of what a person typed or a client sent, with errors returned as
 * data. Nothing here prints or logs; each front end maps the code to an
 * exit status or an HTTP status and shows the message its own way.
 *
 * The operations on a number's opt-out state are in optout.h, the stats
 * in stats.h, the record encoders in encode.h.
 */
#ifndef PROXY_COMPLIANCE_COMPLIANCE_H
#define PROXY_COMPLIANCE_COMPLIANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct config;

enum compliance_code {
	COMPLIANCE_OK = 0,
	COMPLIANCE_E_INPUT,	/* bad input; nothing done */
	COMPLIANCE_E_NOTFOUND,	/* no such item */
	COMPLIANCE_E_CONFLICT,	/* already done by someone else */
	COMPLIANCE_E_STORE,	/* the store failed */
	COMPLIANCE_E_NOMEM,
};

/* What went wrong: a code for the front end, a message for a person
 * (plain text, without the program name or the HTTP status). */
struct compliance_err {
	enum compliance_code	 code;
	char			 msg[320];
};

/* Set err to code and a printf-style message. Returns -1 (for "return
 * compliance_fail(...)"). */
int compliance_fail(struct compliance_err *err, enum compliance_code code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Set err to COMPLIANCE_E_STORE with the store's last error, and "(nothing
 * changed)" after a refused write. Returns -1. */
int compliance_fail_store(struct compliance_err *err, struct store *st,
    bool is_write);

/*
 * Normalise a number a person typed (in) with cfg->number_rules into out
 * (cap bytes, STORE_NUMBER_MAX). Returns 0, or -1 (COMPLIANCE_E_INPUT,
 * "not a phone number").
 */
int compliance_number(const struct config *cfg, const char *in, char *out,
    size_t cap, struct compliance_err *err);

/* Parse a decimal id or count: digits only, no sign, fits uint64_t.
 * Returns 0 with *out set, or -1 (err untouched: the caller names the
 * parameter). */
int compliance_u64(const char *s, uint64_t *out);

/* A review item's id (a positive decimal). Returns 0, or -1
 * (COMPLIANCE_E_INPUT). */
int compliance_review_id(const char *s, uint64_t *id,
    struct compliance_err *err);

/*
 * The scope a person asked for into ev: every category (all) or the n
 * names, each checked against cfg, a name given twice kept once. Both
 * given is refused; neither is refused when required, else leaves ev as
 * it was and sets *given false. Returns 0, or -1 (COMPLIANCE_E_INPUT).
 */
int compliance_scope(const struct config *cfg, bool all,
    const char *const *names, size_t n, bool required,
    struct store_event *ev, bool *given, struct compliance_err *err);

/* What an audit query asks for, as typed; NULL members are not given. */
struct compliance_audit_query {
	const char	*since, *until;		/* RFC 3339 */
	const char	*number, *account, *category;
};

/*
 * Check q and fill f (its number points into numbuf, STORE_NUMBER_MAX
 * bytes; account and category into q's strings). Returns 0, or -1
 * (COMPLIANCE_E_INPUT: a time not RFC 3339, a number, an unknown
 * category).
 */
int compliance_audit_filter(const struct config *cfg,
    const struct compliance_audit_query *q, struct store_audit_filter *f,
    char *numbuf, struct compliance_err *err);

/*
 * Narrow f to the records refused for reason (store_audit_reason_name:
 * opted_out, frequency_cap, quiet_hours); NULL leaves f as it is.
 * Returns 0, or -1 (COMPLIANCE_E_INPUT: another name).
 */
int compliance_audit_reason(const char *reason,
    struct store_audit_filter *f, struct compliance_err *err);

#endif /* PROXY_COMPLIANCE_COMPLIANCE_H */
