/*
 * The operations on a number's opt-out state that staff perform, through
 * the CLI or the admin API alike (SPEC §6): read its status, record an
 * opt-out or an opt-in (consent required), resolve a review item. Errors
 * are returned as data (compliance.h); nothing is changed by a refused
 * request.
 */
#ifndef PROXY_COMPLIANCE_OPTOUT_H
#define PROXY_COMPLIANCE_OPTOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/compliance/compliance.h"
#include "store/store.h"

struct config;

/*
 * What was sent to number last that the store's last-sent table may not
 * hold yet (the daemon's queued attribution): true with *out filled. An
 * opt-out names it as the message that drove the STOP.
 */
typedef bool (*optout_lastsent_fn)(void *arg, const char *number,
    struct store_lastsent *out);

/* Called once per category of the config, in config order. Returns 0 to
 * go on, else stops the walk with that value. */
typedef int (*optout_status_fn)(const char *category, bool is_blocked,
    const struct store_block *why, void *arg);

/*
 * The status of number (normalised already) in each category of cfg,
 * handed to fn. Returns 0, fn's non-zero value, or -1
 * (COMPLIANCE_E_STORE).
 */
int optout_status(struct store *st, const struct config *cfg,
    const char *number, optout_status_fn fn, void *arg,
    struct compliance_err *err);

/*
 * Who acts, when, why and on which categories: what every staff change
 * carries. Strings are borrowed.
 */
struct optout_act {
	enum store_source	 source;
	const char		*actor;		/* who acts */
	const char		*note;		/* NULL: none */
	int64_t			 now;		/* unix seconds */
	bool			 all;		/* scope: every category */
	const char *const	*categories;	/* or these names */
	size_t			 ncategories;
	optout_lastsent_fn	 lastsent;	/* NULL: the store's only */
	void			*lastsent_arg;
};

/* An opt-out or opt-in a person asks for. Strings are borrowed. */
struct optout_request {
	enum store_action	 action;
	const char		*number;	/* as typed */
	const char		*consent;	/* required for an opt-in */
	struct optout_act	 act;		/* a scope is required */
};

/*
 * Check rq and record it: ev (caller's, zeroed by this call) gets the
 * event as committed, with its id. Returns 0, or -1 with err set
 * (COMPLIANCE_E_INPUT: number, scope, consent, a field too long;
 * COMPLIANCE_E_STORE).
 */
int optout_record(struct store *st, const struct config *cfg,
    const struct optout_request *rq, struct store_event *ev,
    struct compliance_err *err);

/* A decision on a review item. */
struct optout_resolution {
	uint64_t		 id;
	enum store_review_status decision;	/* OPTED_OUT or DISMISSED */
	/* The note is required. The scope goes with an opt-out only; none
	 * given: the stop_scope of the number written to, else every
	 * category. */
	struct optout_act	 act;
};

/*
 * Resolve review item rs->id: record the opt-out (ev, caller's, zeroed
 * and filled when the decision is OPTED_OUT) and close the item; *rv gets
 * the item as it is afterwards. Returns 0, or -1 with err set
 * (COMPLIANCE_E_INPUT, COMPLIANCE_E_NOTFOUND, COMPLIANCE_E_CONFLICT
 * when it was resolved already, COMPLIANCE_E_STORE).
 */
int optout_review_resolve(struct store *st, const struct config *cfg,
    const struct optout_resolution *rs, struct store_review *rv,
    struct store_event *ev, struct compliance_err *err);

#endif /* PROXY_COMPLIANCE_OPTOUT_H */
