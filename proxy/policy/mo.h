/*
 * Subscriber replies (SPEC §4, §5): the keyword step for an MO.
 *
 * mo_handle() takes one deliver_sm / data_sm of message type 0 from an
 * SMSC, decodes its text (short_message or message_payload, every
 * data_coding, UDH stripped), joins concatenated parts (UDH 8/16-bit
 * references or SAR TLVs; proxy/reassembly.h) and matches the whole text
 * against the keywords (proxy/keywords.h). Then:
 *
 *   OPT_OUT  an event for the scope (the categories named, or every one
 *            for STOPALL, or the inbound number's stop_scope; an MO to a
 *            number not in `inbound` opts out of everything, the safe
 *            default) is committed with fsync before mo_handle returns,
 *            so the caller answers the SMSC only once it is durable.
 *   OPT_IN   START / START <category>: an opt-in event for that scope.
 *            The consent evidence is "sms keyword: <text>": the
 *            subscriber texting START from their own phone is the
 *            consent. START to a number not in `inbound` opts in to
 *            everything, mirroring STOP there.
 *   ONLY     a category keyword alone ("APPT"): two events committed in
 *            one transaction, an opt-out of the rest of the scope (every
 *            category for stop_scope all, kept as the global flag so new
 *            categories stay blocked too) followed by an opt-in of the
 *            categories named. The confirmation is the opt-in text
 *            naming the categories kept.
 *   HELP     no event; the help text is sent, even to an opted-out
 *            number.
 *   LESS     LESS / FEWER (SPEC §9): a less event for the categories of
 *            the inbound number's scope that have a stricter cap
 *            (frequency's less), committed like an opt-out, confirmed
 *            with replies.less; a scope with none gets the help text and
 *            nothing is recorded. START or ALL ends it (store/freq.h).
 *            ALL is an opt-in of every category (rule opt_in_all), its
 *            text the consent evidence as for START.
 *   REVIEW   an ambiguous reply ("please cancel my appointment") or an
 *            unreadable one: queued for staff (store_review_add) with its
 *            text, and forwarded.
 *   NONE     forwarded.
 *
 * Every MO is then passed to the inbound number's account (out->forward),
 * the keyword ones included, so the department sees what its customers
 * wrote. Each part of a concatenated message is forwarded as it comes,
 * and kept in the store (durable before the SMSC is answered; a store
 * failure answers ESME_RX_T_APPN) until the last missing part arrives and
 * the decision is taken; then its parts are deleted.
 *
 * A store failure on anything that must be durable (an event, a review
 * item) gives out->status ESME_RX_T_APPN (0x64), no confirmation and no
 * forwarding: the SMSC redelivers and the whole step runs again. A
 * redelivered STOP is idempotent in effect: the state does not change,
 * the event is recorded again (history shows the retry), and the loop
 * guard (store_confirm_mark: one confirmation per number and action per
 * 24 h) keeps the subscriber from getting a second confirmation.
 *
 * Confirmations are ready-to-send submit_sm PDUs (proxy/confirm.h) from
 * the number the subscriber wrote to, as it appeared in the deliver_sm
 * (TON/NPI kept), to the subscriber. The caller sends them straight to an
 * upstream, exempt from the opt-out check, and consumes the responses.
 *
 * Attribution: store_optout_apply() fills each opt-out event's `last`
 * from the last-sent table, or from the caller's batch when that is newer
 * (mo_set_lastsent_source), so no batch has to be flushed first.
 */
#ifndef PROXY_POLICY_MO_H
#define PROXY_POLICY_MO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/policy/confirm.h"
#include "proxy/policy/keywords.h"
#include "proxy/policy/reassembly.h"
#include "smpp/pdu.h"
#include "store/store.h"

struct config;
struct config_inbound;
struct mo;

/* Seconds between two confirmations of one kind to one number. */
#define MO_CONFIRM_WINDOW_S	(24 * 60 * 60)

/* What the keyword step decided for one MO. */
struct mo_outcome {
	uint32_t	 status;	/* answer the SMSC with this */
	bool		 forward;	/* pass the MO to the account */
	bool		 is_partial;	/* a part; the rest not yet seen */
	enum reasm_result reasm;	/* for parts: what reassembly said */
	enum keyword_action action;	/* KEYWORD_NONE for a waiting part */
	const char	*rule;		/* keyword rule (static), or "" */
	uint64_t	 event_id;	/* last event committed, 0 if none */
	size_t		 nevents;	/* events committed */
	uint64_t	 review_id;	/* review item queued, 0 if none */
	bool		 is_confirm_suppressed; /* the loop guard said no */
	bool		 has_confirm_error; /* could not build / guard failed */
	enum store_confirm confirm_kind;	/* when nconfirm > 0 */
	size_t		 nconfirm;	/* parts to send, in order */
	struct confirm_pdu confirm[CONFIRM_PARTS_MAX];
	char		 text[512];	/* decoded text (cut), for logs */
};

/*
 * A keyword step for cfg (borrowed: must outlive mo or be replaced by
 * mo_reconfigure()) writing to st (borrowed). Returns a new mo (free with
 * mo_free()) or NULL on allocation failure.
 */
struct mo *mo_new(const struct config *cfg, struct store *st);

/* Free; accepts NULL. */
void mo_free(struct mo *m);

/*
 * Switch to a new config (SIGHUP): from now on mo reads cfg (borrowed, as
 * for mo_new(); the old one may be freed after the call), and the keyword
 * lists are rebuilt from it; parts waiting for reassembly are kept.
 * Returns 0, or -1 on allocation failure: the old keyword lists then stay
 * in force (category indices beyond the new config are ignored).
 */
int mo_reconfigure(struct mo *m, const struct config *cfg);

/*
 * Where to find a last-sent record newer than the store's (the caller's
 * write batch): fn fills *out and returns true if it has one for number.
 * mo_handle() puts it on each opt-out event; the store keeps the newer of
 * it and its own. fn NULL (the default) uses the store's alone.
 */
typedef bool mo_lastsent_fn(void *arg, const char *number,
    struct store_lastsent *out);
void mo_set_lastsent_source(struct mo *m, mo_lastsent_fn *fn, void *arg);

/*
 * Handle one MO (deliver_sm or data_sm, esm_class message type 0; any
 * other type is only forwarded, never matched). subscriber is the
 * normalised source_addr, inbound the normalised destination; in is the
 * inbound entry for it, or NULL if the number is not configured. now_ms
 * is wall-clock Unix time in milliseconds (event times, loop guard,
 * reassembly timeout). pdu is borrowed for the call only. Fills *out
 * completely (the caller answers the SMSC with out->status, forwards if
 * out->forward, then sends out->confirm[0..nconfirm-1]). Returns 0, or -1
 * if the store failed (out->status is then ESME_RX_T_APPN).
 */
int mo_handle(struct mo *m, const struct smpp_pdu *pdu,
    const char *subscriber, const char *inbound,
    const struct config_inbound *in, int64_t now_ms,
    struct mo_outcome *out);

/*
 * mo_handle() in three steps, so the store writes can be made on another
 * thread (the daemon's writer) while the loop goes on:
 *
 *   mo_prepare()  on the caller's thread: decode, reassemble, match;
 *                 fills *out (confirmations built, not yet allowed) and
 *                 *c with the store writes the decision needs. Returns 0.
 *   mo_commit()   on any thread, with any handle on the store, touching
 *                 nothing but c and st: a waiting part kept, or the
 *                 event(s) or review item committed durably, then the
 *                 loop guard asked and a completed message's kept parts
 *                 deleted. Returns
 *                 0, or -1 if the store failed (nothing was written).
 *                 Needed only when mo_commit_needed(c).
 *   mo_finish()   back on the caller's thread: completes *out from c
 *                 (ids, confirmation allowed or suppressed). Returns 0,
 *                 or -1 if the commit failed (out->status is then
 *                 ESME_RX_T_APPN, nothing confirmed or forwarded).
 *
 * Commits of one mo must run in the order their MOs were prepared (a STOP
 * then a START from one number). c is about 6 KiB: allocate it.
 */
enum mo_commit_op {
	MO_COMMIT_NONE = 0,
	MO_COMMIT_APPLY,	/* store_optout_apply(evs[0]) */
	MO_COMMIT_IMPORT,	/* store_import(evs, nevs): one transaction */
	MO_COMMIT_REVIEW	/* store_review_add(rv) */
};

struct mo_commit {
	enum mo_commit_op op;
	size_t		 nevs;
	bool		 is_mark;	/* a confirmation is built: guard */
	enum store_confirm kind;
	int64_t		 now;		/* seconds */
	size_t		 nconfirm;	/* parts built */
	char		 number[STORE_NUMBER_MAX];
	/* Results (mo_commit). */
	int		 rc;		/* -1: the store failed */
	int		 mark;		/* store_confirm_mark()'s answer */
	char		 err[256];	/* the store's message when rc -1 */
	bool		 is_part;	/* keep part (a waiting part) */
	bool		 is_parts_del;	/* delete part's message's parts */
	int64_t		 part_expire;	/* ms: older kept parts deleted */
	/* Filled only as op says (mo_prepare clears what is above). */
	struct store_event evs[2];
	struct store_review rv;
	struct store_mopart part;	/* as is_part / is_parts_del say */
};

int mo_prepare(struct mo *m, const struct smpp_pdu *pdu,
    const char *subscriber, const char *inbound,
    const struct config_inbound *in, int64_t now_ms,
    struct mo_outcome *out, struct mo_commit *c);
bool mo_commit_needed(const struct mo_commit *c);
int mo_commit(struct store *st, struct mo_commit *c);
int mo_finish(struct mo *m, const struct mo_commit *c,
    struct mo_outcome *out);

/*
 * Drop reassembly slots past their timeout (for a periodic timer).
 * Returns the number dropped.
 */
size_t mo_expire(struct mo *m, int64_t now_ms);

/*
 * At start: put the parts of concatenated messages kept in m's store
 * (each part is kept until its message completes; see mo_commit) back
 * into reassembly, deleting those past the reassembly timeout at now_ms,
 * so a message whose last part comes after a restart completes. *n gets
 * the parts loaded. Returns 0, or -1 (store error or no memory; what was
 * loaded stays).
 */
int mo_load_parts(struct mo *m, int64_t now_ms, size_t *n);

/* The reassembly counters of m. */
void mo_reasm_stats(const struct mo *m, struct reasm_stats *st);

#endif /* PROXY_POLICY_MO_H */
