/*
 * Staff operations on the opt-out state: one code path for the CLI and
 * the admin API.
 */
#include "proxy/compliance/optout.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"

int
optout_status(struct store *st, const struct config *cfg, const char *number,
    optout_status_fn fn, void *arg, struct compliance_err *err)
{
	struct store_block	 why;
	size_t			 i;
	int			 r;

	for (i = 0; i < cfg->ncategories; i++) {
		memset(&why, 0, sizeof(why));
		if ((r = store_optout_check(st, number, cfg->categories[i].name,
		    &why)) == -1)
			return compliance_fail_store(err, st, false);
		if ((r = fn(cfg->categories[i].name, r == 1, &why, arg)) != 0)
			return r;
	}
	return 0;
}

/* Copy s (NULL: "") into dst (cap bytes), refusing what does not fit. */
static int
optout_copy(char *dst, size_t cap, const char *s, const char *what,
    struct compliance_err *err)
{
	size_t	 n;

	if (s == NULL)
		s = "";
	if ((n = strlen(s)) >= cap)
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "%s longer than %zu bytes", what, cap - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

/*
 * act's scope (required or not: *given says), note, actor, source and time
 * into ev. Returns 0 or -1 (COMPLIANCE_E_INPUT).
 */
static int
optout_act_fill(const struct config *cfg, const struct optout_act *act,
    bool required, struct store_event *ev, bool *given,
    struct compliance_err *err)
{
	if (compliance_scope(cfg, act->all, act->categories,
	    act->ncategories, required, ev, given, err) == -1 ||
	    optout_copy(ev->note, sizeof(ev->note), act->note, "note",
	    err) == -1 ||
	    optout_copy(ev->actor, sizeof(ev->actor), act->actor, "actor",
	    err) == -1)
		return -1;
	ev->source = act->source;
	ev->time = act->now;
	return 0;
}

/* Name in ev the message sent just before the opt-out, as the proxy's
 * own STOPs do, even if it is not merged into the last-sent table yet. */
static void
optout_last_sent(const struct optout_act *act, struct store_event *ev)
{
	if (act->lastsent != NULL)
		(void)act->lastsent(act->lastsent_arg, ev->number, &ev->last);
}

int
optout_record(struct store *st, const struct config *cfg,
    const struct optout_request *rq, struct store_event *ev,
    struct compliance_err *err)
{
	bool	 given;

	memset(ev, 0, sizeof(*ev));
	if (rq->action == STORE_OPT_IN && (rq->consent == NULL ||
	    rq->consent[0] == '\0'))
		return compliance_fail(err, COMPLIANCE_E_INPUT, "opting a "
		    "number back in needs consent: the evidence of the "
		    "subscriber's consent (how and when they agreed)");
	if (compliance_number(cfg, rq->number, ev->number,
	    sizeof(ev->number), err) == -1 ||
	    optout_act_fill(cfg, &rq->act, true, ev, &given, err) == -1 ||
	    optout_copy(ev->consent, sizeof(ev->consent), rq->consent,
	    "consent", err) == -1)
		return -1;
	ev->action = rq->action;
	if (rq->action == STORE_OPT_OUT)
		optout_last_sent(&rq->act, ev);
	if (store_optout_apply(st, ev) == -1)
		return compliance_fail_store(err, st, true);
	return 0;
}

/*
 * Fill ev as the opt-out a person decided for review item rv: number,
 * inbound number and text from rv, rule "review". Unless has_scope (ev
 * holds it already), the scope is the stop_scope of the number written
 * to, else every category.
 */
static void
optout_from_review(const struct config *cfg, const struct store_review *rv,
    bool has_scope, struct store_event *ev)
{
	const struct config_inbound	*in;
	size_t				 i;

	if (!has_scope) {
		in = config_inbound_find(cfg, rv->inbound);
		if (in == NULL || in->scope_all)
			ev->all = true;
		else
			for (i = 0; i < in->nscope && i < STORE_SCOPE_MAX; i++)
				snprintf(ev->categories[ev->ncategories++],
				    STORE_NAME_MAX, "%s",
				    cfg->categories[in->scope[i]].name);
	}
	ev->action = STORE_OPT_OUT;
	snprintf(ev->number, sizeof(ev->number), "%s", rv->number);
	snprintf(ev->inbound, sizeof(ev->inbound), "%s", rv->inbound);
	snprintf(ev->text, sizeof(ev->text), "%s", rv->text);
	snprintf(ev->rule, sizeof(ev->rule), "review");
}

/* Check rs, and the event of an opt-out decision into ev. */
static int
optout_resolution_check(const struct config *cfg,
    const struct optout_resolution *rs, struct store_event *ev,
    bool *has_scope, struct compliance_err *err)
{
	if (rs->act.note == NULL || rs->act.note[0] == '\0')
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "a note is required: say why");
	if (rs->decision == STORE_REVIEW_DISMISSED && (rs->act.all ||
	    rs->act.ncategories > 0))
		return compliance_fail(err, COMPLIANCE_E_INPUT,
		    "categories or all go with an opt-out decision only");
	return optout_act_fill(cfg, &rs->act, false, ev, has_scope, err);
}

/* The item, open. Returns 0, or -1 (not found, resolved, store). */
static int
optout_review_open(struct store *st, uint64_t id, struct store_review *rv,
    struct compliance_err *err)
{
	int	 found;

	if ((found = store_review_get(st, id, rv)) == -1)
		return compliance_fail_store(err, st, false);
	if (found == 0)
		return compliance_fail(err, COMPLIANCE_E_NOTFOUND,
		    "no review item %" PRIu64, id);
	if (rv->status != STORE_REVIEW_OPEN)
		return compliance_fail(err, COMPLIANCE_E_CONFLICT,
		    "review item %" PRIu64 " was already resolved by %.63s",
		    id, rv->actor);
	return 0;
}

int
optout_review_resolve(struct store *st, const struct config *cfg,
    const struct optout_resolution *rs, struct store_review *rv,
    struct store_event *ev, struct compliance_err *err)
{
	bool	 has_scope, is_optout;

	memset(ev, 0, sizeof(*ev));
	is_optout = rs->decision == STORE_REVIEW_OPTED_OUT;
	if (optout_resolution_check(cfg, rs, ev, &has_scope, err) == -1 ||
	    optout_review_open(st, rs->id, rv, err) == -1)
		return -1;
	if (is_optout) {
		optout_from_review(cfg, rv, has_scope, ev);
		optout_last_sent(&rs->act, ev);
	}
	if (store_review_resolve(st, rs->id, rs->decision, ev->actor,
	    ev->note, rs->act.now, is_optout ? ev : NULL) == -1) {
		/* Another staff member got there between our read and the
		 * write. */
		if (store_errcode(st) == STORE_E_EXISTS)
			return compliance_fail(err, COMPLIANCE_E_CONFLICT,
			    "review item %" PRIu64 " was already resolved",
			    rs->id);
		if (store_errcode(st) == STORE_E_NOTFOUND)
			return compliance_fail(err, COMPLIANCE_E_NOTFOUND,
			    "no review item %" PRIu64, rs->id);
		return compliance_fail_store(err, st, true);
	}
	if (store_review_get(st, rs->id, rv) != 1)
		return compliance_fail_store(err, st, false);
	return 0;
}
