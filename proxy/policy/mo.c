/*
 * The keyword step for subscriber replies. See mo.h for what each action
 * does; this file decodes, joins, matches, commits and builds the reply.
 */
#include "proxy/policy/mo.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "smpp/text.h"

/* Decoded text of the largest PDU we accept (message_payload up to the
 * PDU cap). */
#define MO_DECODE_CAP	SMPP_TEXT_DECODE_CAP(SMPP_MAX_PDU_LEN)
/* Every category of a stop_scope fits in one event. */
_Static_assert(CONFIG_SCOPE_MAX <= STORE_SCOPE_MAX,
    "a stop_scope must fit in one store event");
/* A part kept in the store is the part reassembly keeps. */
_Static_assert(STORE_MOPART_TEXT_MAX == REASM_PART_TEXT_MAX,
    "a kept MO part must hold what reassembly holds");
_Static_assert(STORE_NUMBER_MAX == REASM_NUMBER_MAX,
    "a kept MO part must hold the reassembly key");

/* Category names joined with ", " for a reply. */
#define MO_NAMES_MAX	(STORE_SCOPE_MAX * (STORE_NAME_MAX + 2))

struct mo {
	const struct config	*cfg;		/* borrowed */
	struct store		*st;		/* borrowed */
	struct keywords		*kw;		/* owned */
	struct reasm		*ra;		/* owned */
	char			*dec;		/* owned, MO_DECODE_CAP */
	unsigned		 timeout_ms;	/* reassembly */
	uint8_t			 ref;		/* next confirmation UDH ref */
	mo_lastsent_fn		*last_fn;	/* may be NULL */
	void			*last_arg;
};

/* A set of categories: every one, or config indices. */
struct mo_scope {
	bool		 all;
	size_t		 n;
	size_t		 idx[STORE_SCOPE_MAX];
};

struct mo *
mo_new(const struct config *cfg, struct store *st)
{
	struct mo	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->cfg = cfg;
	m->st = st;
	m->timeout_ms = cfg->timeouts.reassembly_ms;
	if ((m->kw = keywords_new(cfg)) == NULL)
		goto err_free;
	if ((m->ra = reasm_new(REASM_SLOTS_DEFAULT,
	    cfg->timeouts.reassembly_ms)) == NULL)
		goto err_free;
	if ((m->dec = malloc(MO_DECODE_CAP)) == NULL)
		goto err_free;
	return m;

err_free:
	mo_free(m);
	return NULL;
}

void
mo_free(struct mo *m)
{
	if (m == NULL)
		return;
	keywords_free(m->kw);
	reasm_free(m->ra);
	free(m->dec);
	free(m);
}

int
mo_reconfigure(struct mo *m, const struct config *cfg)
{
	struct keywords	*kw;

	/* The new config is taken in any case: the caller frees the old
	 * one next. */
	m->cfg = cfg;
	reasm_set_timeout(m->ra, cfg->timeouts.reassembly_ms);
	m->timeout_ms = cfg->timeouts.reassembly_ms;
	if ((kw = keywords_new(cfg)) == NULL)
		return -1;
	keywords_free(m->kw);
	m->kw = kw;
	return 0;
}

size_t
mo_expire(struct mo *m, int64_t now_ms)
{
	return reasm_expire(m->ra, now_ms);
}

void
mo_reasm_stats(const struct mo *m, struct reasm_stats *st)
{
	reasm_stats_get(m->ra, st);
}

/* Copy the UTF-8 string src (len bytes) into dst (cap bytes), cut at a
 * character boundary, NUL-terminated. */
static void
utf8_copy(char *dst, size_t cap, const char *src, size_t len)
{
	if (cap == 0)
		return;
	if (len > cap - 1) {
		len = cap - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* The concatenation info of pdu: the UDH if it has one, else the SAR
 * TLVs (SMPP v3.4 §5.3.2.22-24). Returns true for a part of a message of
 * two or more parts. */
static bool
concat_info(const struct smpp_pdu *pdu, const struct smpp_udh *udh,
    uint16_t *ref, uint8_t *total, uint8_t *seq)
{
	const struct smpp_tlv	*tref, *ttot, *tseq;

	if (udh->is_concat && udh->total >= 2) {
		*ref = udh->ref;
		*total = udh->total;
		*seq = udh->seq;
		return true;
	}
	tref = smpp_pdu_tlv_find(pdu, SMPP_TLV_SAR_MSG_REF_NUM);
	ttot = smpp_pdu_tlv_find(pdu, SMPP_TLV_SAR_TOTAL_SEGMENTS);
	tseq = smpp_pdu_tlv_find(pdu, SMPP_TLV_SAR_SEGMENT_SEQNUM);
	if (tref == NULL || ttot == NULL || tseq == NULL ||
	    tref->len != 2 || ttot->len != 1 || tseq->len != 1)
		return false;
	*ref = (uint16_t)(tref->value[0] << 8 | tref->value[1]);
	*total = ttot->value[0];
	*seq = tseq->value[0];
	/* As for a bad UDH IE (TS 23.040 §9.2.3.24.1): not a part then. */
	return *total >= 2 && *seq >= 1 && *seq <= *total;
}

/*
 * Decode the text of pdu into m->dec: short_message, else the
 * message_payload TLV (SMPP v3.4 §5.3.2.32), as data_coding says, UDH
 * stripped. GSM is taken unpacked: SMPP carries one septet per octet
 * unless the SMSC is configured otherwise (§5.2.19). Returns the length,
 * or -1 if the text cannot be decoded.
 */
static ssize_t
mo_decode(struct mo *m, const struct smpp_pdu *pdu, struct smpp_udh *udh)
{
	const uint8_t		*body;
	size_t			 len;

	memset(udh, 0, sizeof(*udh));
	body = smpp_pdu_text(pdu, &len);
	if (body == NULL || len == 0) {
		m->dec[0] = '\0';
		return 0;
	}
	return smpp_text_decode_sm(pdu->data_coding, pdu->esm_class, body,
	    len, false, m->dec, MO_DECODE_CAP, udh);
}

static void
scope_inbound(const struct config_inbound *in, struct mo_scope *sc)
{
	size_t	 i;

	memset(sc, 0, sizeof(*sc));
	if (in == NULL || in->scope_all) {
		sc->all = true;
		return;
	}
	for (i = 0; i < in->nscope && sc->n < STORE_SCOPE_MAX; i++)
		sc->idx[sc->n++] = in->scope[i];
	if (sc->n == 0)
		sc->all = true;	/* an empty scope would opt out of nothing */
}

static void
scope_named(const struct keyword_match *km, struct mo_scope *sc)
{
	size_t	 i;

	memset(sc, 0, sizeof(*sc));
	for (i = 0; i < km->ncategories && sc->n < STORE_SCOPE_MAX; i++)
		sc->idx[sc->n++] = km->categories[i];
}

static bool
scope_has(const struct mo_scope *sc, size_t idx)
{
	size_t	 i;

	for (i = 0; i < sc->n; i++)
		if (sc->idx[i] == idx)
			return true;
	return false;
}

/* "promo, billing", or "all". */
static void
scope_names(const struct config *cfg, const struct mo_scope *sc, char *out,
    size_t cap)
{
	size_t	 i, off = 0;
	int	 n;

	out[0] = '\0';
	if (sc->all) {
		snprintf(out, cap, "all");
		return;
	}
	for (i = 0; i < sc->n; i++) {
		if (sc->idx[i] >= cfg->ncategories)
			continue;
		n = snprintf(out + off, cap - off, "%s%s", off > 0 ? ", " : "",
		    cfg->categories[sc->idx[i]].name);
		if (n < 0 || (size_t)n >= cap - off)
			break;
		off += (size_t)n;
	}
}

void
mo_set_lastsent_source(struct mo *m, mo_lastsent_fn *fn, void *arg)
{
	m->last_fn = fn;
	m->last_arg = arg;
}

/* Put the caller's pending last-sent record, if any, on an opt-out. */
static void
event_last(const struct mo *m, struct store_event *ev)
{
	if (ev->action == STORE_OPT_OUT && m->last_fn != NULL)
		m->last_fn(m->last_arg, ev->number, &ev->last);
}

/* Fill ev for subscriber's message text under rule, with scope sc. */
static void
event_fill(struct store_event *ev, const struct config *cfg,
    enum store_action action, const struct mo_scope *sc,
    const char *subscriber, const char *inbound, const char *text,
    size_t len, const char *rule, int64_t now_ms)
{
	size_t	 i;

	memset(ev, 0, sizeof(*ev));
	ev->time = now_ms / 1000;
	utf8_copy(ev->number, sizeof(ev->number), subscriber,
	    strlen(subscriber));
	ev->action = action;
	ev->all = sc->all;
	if (!sc->all)
		for (i = 0; i < sc->n; i++) {
			if (sc->idx[i] >= cfg->ncategories)
				continue;
			utf8_copy(ev->categories[ev->ncategories],
			    sizeof(ev->categories[0]),
			    cfg->categories[sc->idx[i]].name,
			    strlen(cfg->categories[sc->idx[i]].name));
			ev->ncategories++;
		}
	ev->source = STORE_SRC_SMS_KEYWORD;
	utf8_copy(ev->inbound, sizeof(ev->inbound), inbound, strlen(inbound));
	utf8_copy(ev->text, sizeof(ev->text), text, len);
	utf8_copy(ev->rule, sizeof(ev->rule), rule, strlen(rule));
	if (action == STORE_OPT_IN) {
		static const char	 pfx[] = "sms keyword: ";

		/* The subscriber texting the keyword from their own phone
		 * is the consent evidence for the opt-in. */
		memcpy(ev->consent, pfx, sizeof(pfx));
		utf8_copy(ev->consent + sizeof(pfx) - 1,
		    sizeof(ev->consent) - (sizeof(pfx) - 1), text, len);
	}
}

/*
 * Build the confirmation of kind for the scope named names into out; the
 * loop guard is asked in mo_commit() (c), so a confirmation that cannot
 * be built does not use up the day's mark. A multipart one takes its
 * concatenation reference now: two MOs decided before either is
 * committed never share one.
 */
static void
confirm_make(struct mo *m, const struct smpp_pdu *pdu,
    const char *subscriber, enum store_confirm kind, const char *names,
    int64_t now_ms, struct mo_outcome *out, struct mo_commit *c)
{
	const struct config	*cfg = m->cfg;
	const char		*tmpl;
	char			 text[CONFIRM_TEXT_MAX];
	size_t			 n = 0;

	switch (kind) {
	case STORE_CONFIRM_OPT_OUT:
		tmpl = cfg->replies.opt_out;
		break;
	case STORE_CONFIRM_OPT_IN:
		tmpl = cfg->replies.opt_in;
		break;
	case STORE_CONFIRM_LESS:
		tmpl = cfg->replies.less;
		break;
	case STORE_CONFIRM_HELP:
	default:
		tmpl = cfg->replies.help;
		break;
	}
	/* A sender name cannot be replied to (SMPP v3.4 §5.2.5 TON 5). */
	if (pdu->source.ton == SMPP_TON_ALPHANUMERIC || tmpl == NULL ||
	    *tmpl == '\0')
		return;
	confirm_expand(tmpl, cfg->business_name != NULL ?
	    cfg->business_name : "", names, text, sizeof(text));
	if (confirm_encode(&pdu->dest, &pdu->source, text, m->ref,
	    out->confirm, CONFIRM_PARTS_MAX, &n) == -1) {
		out->has_confirm_error = true;
		return;
	}
	if (n > 1)
		m->ref++;
	c->is_mark = true;
	utf8_copy(c->number, sizeof(c->number), subscriber,
	    strlen(subscriber));
	c->kind = kind;
	c->now = now_ms / 1000;
	c->nconfirm = n;
}

static int
fail_store(struct mo_outcome *out)
{
	out->status = SMPP_ESME_RX_T_APPN;
	out->forward = false;
	out->nconfirm = 0;
	return -1;
}

/*
 * LESS: the categories of the inbound number's scope that have a
 * stricter cap get a less event, confirmed with the less text. A scope
 * with none answers with the help text and records nothing: there is no
 * "fewer" to give, and STOP is the subscriber's way out.
 */
static void
mo_less(struct mo *m, const struct smpp_pdu *pdu, const char *subscriber,
    const char *inbound, const struct config_inbound *in, const char *text,
    size_t len, int64_t now_ms, struct mo_outcome *out, struct mo_commit *c)
{
	const struct config		*cfg = m->cfg;
	const struct config_frequency	*f;
	struct mo_scope			 sc, less;
	char				 names[MO_NAMES_MAX];
	size_t				 i;

	scope_inbound(in, &sc);
	memset(&less, 0, sizeof(less));
	for (i = 0; i < cfg->ncategories && less.n < STORE_SCOPE_MAX; i++) {
		if (!sc.all && !scope_has(&sc, i))
			continue;
		if ((f = config_frequency_find(cfg, i)) != NULL && f->has_less)
			less.idx[less.n++] = i;
	}
	if (less.n == 0) {
		out->rule = "less_no_rule";
		scope_names(cfg, &sc, names, sizeof(names));
		confirm_make(m, pdu, subscriber, STORE_CONFIRM_HELP, names,
		    now_ms, out, c);
		return;
	}
	event_fill(&c->evs[0], cfg, STORE_LESS, &less, subscriber, inbound,
	    text, len, out->rule, now_ms);
	c->op = MO_COMMIT_APPLY;
	c->nevs = 1;
	scope_names(cfg, &less, names, sizeof(names));
	confirm_make(m, pdu, subscriber, STORE_CONFIRM_LESS, names, now_ms,
	    out, c);
}

/* Act on a match for the whole text. */
static void
mo_decide(struct mo *m, const struct smpp_pdu *pdu, const char *subscriber,
    const char *inbound, const struct config_inbound *in,
    const struct keyword_match *km, const char *text, size_t len,
    int64_t now_ms, struct mo_outcome *out, struct mo_commit *c)
{
	const struct config	*cfg = m->cfg;
	struct store_event	*evs = c->evs;
	struct store_review	*rv = &c->rv;
	struct mo_scope		 sc, keep, rest;
	char			 names[MO_NAMES_MAX];
	size_t			 i;
	bool			 is_out;

	out->action = km->action;
	out->rule = km->rule != NULL ? km->rule : "";
	switch (km->action) {
	case KEYWORD_OPT_OUT:
	case KEYWORD_OPT_IN:
		is_out = km->action == KEYWORD_OPT_OUT;
		if (km->all) {
			memset(&sc, 0, sizeof(sc));
			sc.all = true;
		} else if (km->has_categories)
			scope_named(km, &sc);
		else
			scope_inbound(in, &sc);
		event_fill(&evs[0], cfg, is_out ? STORE_OPT_OUT : STORE_OPT_IN,
		    &sc, subscriber, inbound, text, len, out->rule, now_ms);
		event_last(m, &evs[0]);
		c->op = MO_COMMIT_APPLY;
		c->nevs = 1;
		scope_names(cfg, &sc, names, sizeof(names));
		confirm_make(m, pdu, subscriber, is_out ?
		    STORE_CONFIRM_OPT_OUT : STORE_CONFIRM_OPT_IN, names, now_ms,
		    out, c);
		break;
	case KEYWORD_ONLY:
		scope_named(km, &keep);
		scope_inbound(in, &sc);
		memset(&rest, 0, sizeof(rest));
		if (sc.all)
			rest.all = true;	/* the global flag; keep is
						 * then an exception to it */
		else
			for (i = 0; i < sc.n; i++)
				if (!scope_has(&keep, sc.idx[i]))
					rest.idx[rest.n++] = sc.idx[i];
		i = 0;
		/* Opt-out first: an opt-out of everything clears the
		 * exceptions that the opt-in then sets. */
		if (rest.all || rest.n > 0)
			event_fill(&evs[i++], cfg, STORE_OPT_OUT, &rest,
			    subscriber, inbound, text, len, out->rule,
			    now_ms);
		event_fill(&evs[i++], cfg, STORE_OPT_IN, &keep, subscriber,
		    inbound, text, len, out->rule, now_ms);
		event_last(m, &evs[0]);
		/* One transaction: never half of "only this one". */
		c->op = MO_COMMIT_IMPORT;
		c->nevs = i;
		scope_names(cfg, &keep, names, sizeof(names));
		confirm_make(m, pdu, subscriber, STORE_CONFIRM_OPT_IN, names,
		    now_ms, out, c);
		break;
	case KEYWORD_LESS:
		mo_less(m, pdu, subscriber, inbound, in, text, len, now_ms,
		    out, c);
		break;
	case KEYWORD_HELP:
		scope_inbound(in, &sc);
		scope_names(cfg, &sc, names, sizeof(names));
		confirm_make(m, pdu, subscriber, STORE_CONFIRM_HELP, names,
		    now_ms, out, c);
		break;
	case KEYWORD_REVIEW:
		memset(rv, 0, sizeof(*rv));
		rv->time = now_ms / 1000;
		utf8_copy(rv->number, sizeof(rv->number), subscriber,
		    strlen(subscriber));
		utf8_copy(rv->inbound, sizeof(rv->inbound), inbound,
		    strlen(inbound));
		if (in != NULL && in->account < cfg->naccounts)
			utf8_copy(rv->account, sizeof(rv->account),
			    cfg->accounts[in->account].system_id,
			    strlen(cfg->accounts[in->account].system_id));
		utf8_copy(rv->text, sizeof(rv->text), text, len);
		c->op = MO_COMMIT_REVIEW;
		break;
	case KEYWORD_NONE:
		break;
	}
}

/* What the store keeps of a part (or, for a delete, of its message). */
static void
mo_part_fill(struct store_mopart *p, const struct reasm_key *key,
    uint8_t seq, const char *text, size_t len, int64_t now_ms)
{
	memset(p, 0, offsetof(struct store_mopart, text));
	utf8_copy(p->subscriber, sizeof(p->subscriber), key->subscriber,
	    strlen(key->subscriber));
	utf8_copy(p->inbound, sizeof(p->inbound), key->inbound,
	    strlen(key->inbound));
	p->ref = key->ref;
	p->total = key->total;
	p->seq = seq;
	p->time = now_ms;
	if (text == NULL)
		return;
	/* Cut as reassembly cuts it, so a reload rebuilds the same text. */
	p->len = len;
	if (p->len > sizeof(p->text)) {
		p->len = sizeof(p->text);
		while (p->len > 0 &&
		    ((unsigned char)text[p->len] & 0xC0) == 0x80)
			p->len--;
	}
	memcpy(p->text, text, p->len);
}

/*
 * A part of a concatenated message (its text in m->dec, n bytes): joined
 * by reassembly. Returns true when the message is complete (*text, *len:
 * the whole text, to be matched), false when *out is final.
 */
static bool
mo_concat(struct mo *m, const char *subscriber, const char *inbound,
    uint16_t ref, uint8_t total, uint8_t seq, size_t n, int64_t now_ms,
    struct mo_outcome *out, struct mo_commit *c, const char **text,
    size_t *len)
{
	struct reasm_key	 key;

	memset(&key, 0, sizeof(key));
	utf8_copy(key.subscriber, sizeof(key.subscriber), subscriber,
	    strlen(subscriber));
	utf8_copy(key.inbound, sizeof(key.inbound), inbound,
	    strlen(inbound));
	key.ref = ref;
	key.total = total;
	out->reasm = reasm_add(m->ra, &key, seq, m->dec, n, now_ms, text,
	    len);
	switch (out->reasm) {
	case REASM_COMPLETE:
		/* Its kept parts go once the decision is durable. */
		c->is_parts_del = true;
		mo_part_fill(&c->part, &key, seq, NULL, 0, now_ms);
		return true;
	case REASM_NOMEM:
		/* Losing a part could lose a STOP: have it again. */
		out->status = SMPP_ESME_RX_T_APPN;
		out->forward = false;
		return false;
	case REASM_PENDING:
	case REASM_DUPLICATE:
		/*
		 * Kept in the store before it is acknowledged (a
		 * duplicate again: its first write may have failed), so
		 * a restart between parts loses nothing: mo_load_parts()
		 * reads it back. Each part is acknowledged as it comes,
		 * not held until the whole message is decided: an SMSC
		 * with a window of one sends the next part only once
		 * this one is answered.
		 */
		c->is_part = true;
		c->part_expire = now_ms - (int64_t)m->timeout_ms;
		mo_part_fill(&c->part, &key, seq, m->dec, n, now_ms);
		break;
	case REASM_INVALID:
	case REASM_TOO_MANY:
	default:
		/* Forwarded as it is; no decision ever comes (no keyword
		 * reply is longer than REASM_PARTS_MAX parts). */
		break;
	}
	out->is_partial = out->reasm == REASM_PENDING ||
	    out->reasm == REASM_DUPLICATE;
	out->rule = reasm_result_name(out->reasm);
	utf8_copy(out->text, sizeof(out->text), m->dec, n);
	return false;
}

int
mo_prepare(struct mo *m, const struct smpp_pdu *pdu,
    const char *subscriber, const char *inbound,
    const struct config_inbound *in, int64_t now_ms,
    struct mo_outcome *out, struct mo_commit *c)
{
	struct keyword_match	 km;
	struct smpp_udh		 udh;
	const char		*text;
	size_t			 len;
	ssize_t			 n;
	uint16_t		 ref;
	uint8_t			 total, seq;

	memset(out, 0, sizeof(*out));
	memset(c, 0, offsetof(struct mo_commit, evs));
	out->status = SMPP_OK;
	out->rule = "";
	/* No account to pass it to when the number is not ours. */
	out->forward = in != NULL;
	if ((pdu->esm_class & SMPP_ESM_MSG_TYPE_MASK) != SMPP_ESM_MSG_TYPE_MO) {
		/* Receipts echo "Reply STOP": never matched (SPEC §4). */
		out->rule = "not_mo";
		return 0;
	}

	n = mo_decode(m, pdu, &udh);
	if (n < 0) {
		/* Unreadable (a national character set, a broken UDH):
		 * a person decides whether it was an opt-out. */
		const struct smpp_tlv *t = smpp_pdu_tlv_find(pdu,
		    SMPP_TLV_MESSAGE_PAYLOAD);

		snprintf(m->dec, MO_DECODE_CAP,
		    "[undecodable: data_coding 0x%02x, %u octets]",
		    (unsigned)pdu->data_coding, pdu->sm_length > 0 ||
		    t == NULL ? (unsigned)pdu->sm_length : (unsigned)t->len);
		km = (struct keyword_match){ .action = KEYWORD_REVIEW,
		    .rule = "undecodable" };
		text = m->dec;
		len = strlen(text);
		utf8_copy(out->text, sizeof(out->text), text, len);
		mo_decide(m, pdu, subscriber, inbound, in, &km, text, len,
		    now_ms, out, c);
		return 0;
	}
	text = m->dec;
	len = (size_t)n;

	if (concat_info(pdu, &udh, &ref, &total, &seq) &&
	    !mo_concat(m, subscriber, inbound, ref, total, seq, (size_t)n,
	    now_ms, out, c, &text, &len))
		return 0;
	utf8_copy(out->text, sizeof(out->text), text, len);
	/* keywords_match() marks an unreadable text REVIEW itself. */
	(void)keywords_match(m->kw, text, len, &km);
	mo_decide(m, pdu, subscriber, inbound, in, &km, text, len, now_ms,
	    out, c);
	return 0;
}

bool
mo_commit_needed(const struct mo_commit *c)
{
	return c->op != MO_COMMIT_NONE || c->is_mark || c->is_part ||
	    c->is_parts_del;
}

int
mo_commit(struct store *st, struct mo_commit *c)
{
	int	r = 0;

	c->rc = 0;
	c->mark = 0;
	c->err[0] = '\0';
	if (c->is_part)
		r = store_mopart_put(st, &c->part, c->part_expire);
	switch (r == 0 ? c->op : MO_COMMIT_NONE) {
	case MO_COMMIT_APPLY:
		r = store_optout_apply(st, &c->evs[0]);
		break;
	case MO_COMMIT_IMPORT:
		r = store_import(st, c->evs, c->nevs);
		break;
	case MO_COMMIT_REVIEW:
		r = store_review_add(st, &c->rv);
		break;
	case MO_COMMIT_NONE:
		break;
	}
	if (r == -1) {
		snprintf(c->err, sizeof(c->err), "%s", store_errmsg(st));
		return c->rc = -1;
	}
	if (c->is_mark)
		c->mark = store_confirm_mark(st, c->number, c->kind, c->now,
		    MO_CONFIRM_WINDOW_S);
	/* The decision is durable: the parts are no longer needed. Left
	 * behind on a failure, they expire with the next part kept. */
	if (c->is_parts_del)
		(void)store_mopart_del(st, &c->part);
	return 0;
}

int
mo_finish(struct mo *m, const struct mo_commit *c, struct mo_outcome *out)
{
	(void)m;
	if (c->rc == -1)
		return fail_store(out);
	switch (c->op) {
	case MO_COMMIT_APPLY:
	case MO_COMMIT_IMPORT:
		out->event_id = c->evs[c->nevs - 1].id;
		out->nevents = c->nevs;
		break;
	case MO_COMMIT_REVIEW:
		out->review_id = c->rv.id;
		break;
	case MO_COMMIT_NONE:
		break;
	}
	if (!c->is_mark)
		return 0;
	if (c->mark == -1) {
		/* Not sending is the side to err on: a loop of
		 * confirmations is worse than a missing one. */
		out->has_confirm_error = true;
	} else if (c->mark == 0)
		out->is_confirm_suppressed = true;
	else {
		out->confirm_kind = c->kind;
		out->nconfirm = c->nconfirm;
	}
	return 0;
}

int
mo_handle(struct mo *m, const struct smpp_pdu *pdu,
    const char *subscriber, const char *inbound,
    const struct config_inbound *in, int64_t now_ms,
    struct mo_outcome *out)
{
	struct mo_commit	*c;
	int			 rc;

	if ((c = malloc(sizeof(*c))) == NULL) {
		memset(out, 0, sizeof(*out));
		out->rule = "";
		return fail_store(out);
	}
	(void)mo_prepare(m, pdu, subscriber, inbound, in, now_ms, out, c);
	if (mo_commit_needed(c))
		(void)mo_commit(m->st, c);
	rc = mo_finish(m, c, out);
	free(c);
	return rc;
}

/* store_mopart_fn: one kept part back into reassembly. */
static int
load_part(const struct store_mopart *p, void *arg)
{
	struct mo	*m = ((void **)arg)[0];
	size_t		*n = ((void **)arg)[1];
	struct reasm_key key;
	const char	*text;
	size_t		 len;

	memset(&key, 0, sizeof(key));
	utf8_copy(key.subscriber, sizeof(key.subscriber), p->subscriber,
	    strlen(p->subscriber));
	utf8_copy(key.inbound, sizeof(key.inbound), p->inbound,
	    strlen(p->inbound));
	key.ref = p->ref;
	key.total = p->total;
	/* Its own time: the slot times out as it would have. */
	if (reasm_add(m->ra, &key, p->seq, p->text, p->len, p->time, &text,
	    &len) == REASM_NOMEM)
		return -1;
	(*n)++;
	return 0;
}

int
mo_load_parts(struct mo *m, int64_t now_ms, size_t *n)
{
	void	*arg[2] = { m, n };
	int	 rc;

	*n = 0;
	rc = store_mopart_load(m->st, now_ms - (int64_t)m->timeout_ms,
	    load_part, arg);
	return rc == 0 ? 0 : -1;
}
