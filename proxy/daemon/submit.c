/*
 * A department's sends (SPEC §3): the category of a submit, the opt-out
 * decision for each destination (with the memory of refused
 * concatenated messages, so every part gets the same answer), the audit
 * record and log line of a refusal (rate limited), forwarding to the
 * route's upstream, and the SMSC's answer relayed back to the sender.
 *
 * Part of the session module (see session_int.h). Forwarding does not
 * allocate per PDU: in-flight records are reused from a free list.
 */
#include "proxy/daemon/submit.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "config/config.h"
#include "proxy/cluster/cluster.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/prefs.h"
#include "proxy/daemon/session_int.h"
#include "proxy/daemon/upstream.h"
#include "proxy/io/log.h"
#include "proxy/io/util.h"
#include "proxy/policy/ratelimit.h"
#include "proxy/policy/router.h"
#include "smpp/number.h"
#include "store/store.h"

/* Temporary status when the store cannot be read (fail closed, SPEC §3):
 * ESME_RTHROTTLED, which every client retries later. */
#define SUBMIT_STATUS_STORE	SMPP_ESME_RTHROTTLED
/*
 * registered_delivery bits (SMPP 3.4 §5.2.17) that make the SMSC send
 * something back with the message's id: an SMSC delivery receipt (bits
 * 1-0), an SME originated acknowledgement (bits 3-2) or an intermediate
 * notification (bit 4). Only a message that asked for one of them gets a
 * receipt map record: for any other no receipt is expected, and one that
 * comes anyway is acknowledged as unroutable (the map write per
 * forwarded message dominated the event loop).
 */
#define SUBMIT_RD_ROUTED	0x1f
/* Concatenated messages refused at their first part, remembered so the
 * later parts are refused too (SPEC §3: every part gets the same
 * decision). "Allowed" is never remembered: an opt-out acknowledged
 * between two parts blocks the rest (SPEC §7). Power of two. */
#define SUBMIT_CONCAT_SLOTS	4096
/* Refused sends logged one line each, a second; the rest are counted. */
#define SUBMIT_REJECT_LOGS_PER_S	100

/* One remembered concatenated-message refusal. */
struct concat_slot {
	uint64_t	 key;		/* hash(account, destination, ref) */
	uint64_t	 time_ms;	/* when decided */
	bool		 is_blocked;
	uint32_t	 status;	/* rejection status when blocked */
	uint64_t	 event_id;	/* blocking event when blocked */
	enum store_audit_reason reason;
};

struct submit_memory {
	struct concat_slot	 concat[SUBMIT_CONCAT_SLOTS];
	int64_t			 rejlog_sec;	/* second of rejlog_n */
	unsigned		 rejlog_n;	/* refusals logged in it */
	uint64_t		 rejlog_quiet;	/* and not logged */
};

/* ctx of one request forwarded upstream; owned by the pool until
 * on_resp / on_fail hands it back. */
struct inflight {
	struct daemon	*d;		/* borrowed: outlives the session */
	struct session_ref *ref;	/* counted */
	uint64_t	 sid;		/* for logs */
	uint32_t	 client_seq;
	uint32_t	 command_id;
	char		 account[SMPP_SYSTEM_ID_LEN];
	char		 upstream[CONFIG_NAME_MAX];
	char		 category[CONFIG_NAME_MAX];
	char		 service_type[SMPP_SERVICE_TYPE_LEN];
	char		 destination[SMPP_NUMBER_LEN];
	bool		 wants_receipt;	/* see SUBMIT_RD_ROUTED */
	int64_t		 freq_token;	/* counted against a cap (prefs) */
	uint64_t	 freq_key;	/* the concatenated message counted */
	uint8_t		 nblocked;	/* submit_multi dests we refused */
	struct smpp_unsuccess *blocked;	/* owned */
	struct inflight	*next_spare;	/* while on the spare list */
};

/*
 * Freed inflight records kept for reuse, so that forwarding a PDU does not
 * allocate. One event loop per process, so no locking. Under
 * AddressSanitizer nothing is kept, so a use after free is still caught.
 */
#define INFLIGHT_SPARE_MAX	4096
static struct inflight	*inflight_spare;	/* owned list */
static size_t		 inflight_nspare;

static void	inflight_resp(void *, const struct smpp_pdu *, const uint8_t *,
		    size_t);
static void	inflight_fail(void *, uint32_t);

/* Where the SMSC's answer to a forwarded request goes. */
static const struct upstream_req_cbs inflight_cbs = {
	.on_resp = inflight_resp,
	.on_fail = inflight_fail,
};

struct submit_memory *
submit_memory_new(void)
{
	return calloc(1, sizeof(struct submit_memory));
}

void
submit_memory_free(struct submit_memory *m)
{
	free(m);
}

static void
inflight_free(struct inflight *inf)
{
	if (inf == NULL)
		return;
	session_ref_release(inf->ref);
	free(inf->blocked);
#if !defined(__SANITIZE_ADDRESS__)
	if (inflight_nspare < INFLIGHT_SPARE_MAX) {
		inf->next_spare = inflight_spare;
		inflight_spare = inf;
		inflight_nspare++;
		return;
	}
#endif
	free(inf);
}

bool
submit_concat_ref(const struct smpp_pdu *pdu, uint32_t *ref)
{
	const struct smpp_tlv	*t;
	const uint8_t		*b;
	size_t			 len, udhl, i, ielen;

	if ((pdu->esm_class & SMPP_ESM_UDHI) != 0 &&
	    (b = smpp_pdu_text(pdu, &len)) != NULL && len > 0) {
		/* 3GPP TS 23.040 §9.2.3.24: UDHL, then IEI, IEDL, data. */
		udhl = b[0];
		if (udhl + 1 <= len) {
			for (i = 1; i + 1 < udhl + 1; i += 2 + ielen) {
				ielen = b[i + 1];
				if (i + 2 + ielen > udhl + 1)
					break;
				if (b[i] == 0x00 && ielen == 3) {
					*ref = b[i + 2];
					return true;
				}
				if (b[i] == 0x08 && ielen == 4) {
					*ref = (1u << 16) |
					    ((uint32_t)b[i + 2] << 8) |
					    b[i + 3];
					return true;
				}
			}
		}
	}
	t = smpp_pdu_tlv_find(pdu, SMPP_TLV_SAR_MSG_REF_NUM);
	if (t != NULL && t->len == 2) {
		*ref = (1u << 16) | ((uint32_t)t->value[0] << 8) | t->value[1];
		return true;
	}
	return false;
}

static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t
submit_affinity(const char *account, const char *destination,
    uint32_t ref)
{
	uint64_t	h = 0xcbf29ce484222325ull;
	uint8_t		r[4];

	h = fnv1a(h, account, strlen(account) + 1);
	h = fnv1a(h, destination, strlen(destination) + 1);
	r[0] = (uint8_t)(ref >> 24);
	r[1] = (uint8_t)(ref >> 16);
	r[2] = (uint8_t)(ref >> 8);
	r[3] = (uint8_t)ref;
	h = fnv1a(h, r, sizeof(r));
	return h != 0 ? h : 1;
}

static uint32_t
rejection_status(const struct config *cfg, size_t cat)
{
	uint32_t	st = cfg->categories[cat].rejection_status;

	return st != 0 ? st : cfg->rejection_status;
}

/* --- submit: check ------------------------------------------------------- */

/* The decision for one destination. */
struct decision {
	int		 result;	/* 1 blocked, 0 allowed, -1 error */
	uint32_t	 status;	/* when blocked */
	uint64_t	 event_id;
	enum store_audit_reason reason;	/* when blocked */
	int64_t		 freq_token;	/* allowed: counted (prefs_sent) */
	uint64_t	 freq_key;	/* and the message it counted, when
					 * concatenated (prefs_concat_forget) */
};

/*
 * Subscriber preferences (SPEC §9) for a destination the opt-outs
 * allow: quiet hours, then the frequency cap. Fills dec as decide().
 */
static void
decide_prefs(struct session *s, size_t cat, const char *number,
    bool has_ref, uint64_t key, struct decision *dec)
{
	const struct config	*cfg = s->d->cfg;

	if (s->d->prefs == NULL)
		return;
	switch (prefs_check(s->d->prefs, cat, number, has_ref, key,
	    &dec->freq_token)) {
	case PREFS_OK:
		return;
	case PREFS_CAPPED:
		dec->result = 1;
		dec->status = cfg->prefs.frequency_status;
		dec->reason = STORE_AUDIT_FREQUENCY_CAP;
		return;
	case PREFS_QUIET:
		dec->result = 1;
		dec->status = cfg->prefs.quiet_hours_status;
		dec->reason = STORE_AUDIT_QUIET_HOURS;
		return;
	case PREFS_ERROR:
		dec->result = -1;
		return;
	}
}

/*
 * Decide one destination. Every part of a concatenated message gets the
 * same decision (SPEC §3), but never at the cost of sending to a number
 * whose opt-out was acknowledged meanwhile (SPEC §7 wins): only a
 * "blocked" decision is remembered for the later parts. An "allowed" one
 * is taken again from the store for every part, which also sees opt-outs
 * committed by the MO path, the admin API or another process (the CLI);
 * most numbers have no state, so that lookup is a Bloom filter probe.
 * The upstream of every part is the same anyway: the route and the
 * affinity are derived from (account, destination, reference).
 */
static void
decide(struct session *s, size_t cat, const char *number, bool has_ref,
    uint32_t ref, struct decision *dec)
{
	struct daemon		*d = s->d;
	const struct config	*cfg = d->cfg;
	struct concat_slot	*slot = NULL;
	struct store_block	 why;
	uint64_t		 key = 0, now = s->batch_ms;
	char			 acct_cat[SMPP_SYSTEM_ID_LEN + CONFIG_NAME_MAX];
	int			 r;

	if (has_ref) {
		/* Same account, destination, category and reference: a
		 * message refused at its first part stays refused. */
		snprintf(acct_cat, sizeof(acct_cat), "%s/%s", s->system_id,
		    cfg->categories[cat].name);
		key = submit_affinity(acct_cat, number, ref);
		slot = &d->submits->concat[key & (SUBMIT_CONCAT_SLOTS - 1)];
		if (slot->key == key && slot->is_blocked &&
		    now - slot->time_ms < (cfg->timeouts.reassembly_ms != 0 ?
		    cfg->timeouts.reassembly_ms : 60000)) {
			dec->result = 1;
			dec->status = slot->status;
			dec->event_id = slot->event_id;
			dec->reason = slot->reason;
			return;
		}
	}
	memset(&why, 0, sizeof(why));
	r = store_optout_check(d->store, number, cfg->categories[cat].name,
	    &why);
	/* A fleet opt-out read from PostgreSQL and not yet in the store
	 * (no event id here yet: the audit record has none). */
	if (r == 0 && cluster_early_blocks(d->cluster, number,
	    cfg->categories[cat].name))
		r = 1;
	dec->result = r;
	dec->status = r == 1 ? rejection_status(cfg, cat) : SMPP_OK;
	dec->event_id = r == 1 ? why.event_id : 0;
	dec->reason = STORE_AUDIT_OPTED_OUT;
	dec->freq_token = 0;
	dec->freq_key = 0;
	if (r == 0) {
		decide_prefs(s, cat, number, has_ref, key, dec);
		if (has_ref && dec->freq_token != 0)
			dec->freq_key = key;
		r = dec->result;
	}
	if (r == -1) {
		d->counters.submits_store_error++;
		log_warnx("sid=%llu event=store_error error=\"%s\" doing=%s",
		    (unsigned long long)s->id, store_errmsg(d->store),
		    s->doing);
		return;		/* never cached: the next try reads again */
	}
	if (slot != NULL && r == 1) {
		slot->key = key;
		slot->time_ms = now;
		slot->is_blocked = true;
		slot->status = dec->status;
		slot->event_id = dec->event_id;
		slot->reason = dec->reason;
	}
}

/*
 * SHA-256 of a message body. The digest and a context are fetched once:
 * OpenSSL 3's one-shot SHA256() looks the algorithm up on every call,
 * which cost more than the rest of the reject path's bookkeeping.
 */
static void
body_sha256(const uint8_t *body, size_t len, uint8_t out[32])
{
	static EVP_MD		*md;
	static EVP_MD_CTX	*ctx;
	static bool		 is_tried;

	if (!is_tried) {
		is_tried = true;
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
		ctx = EVP_MD_CTX_new();
	}
	if (md == NULL || ctx == NULL ||
	    EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, body, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		SHA256(body, len, out);
}

/*
 * One line per refused send, up to SUBMIT_REJECT_LOGS_PER_S a second;
 * past that the lines go to debug and the next second's first refusal
 * says how many were not shown. The audit log has every one.
 */
static void
log_reject(struct session *s, const char *category, const char *number,
    const struct decision *dec, int64_t now)
{
	struct submit_memory	*m = s->d->submits;
	const char		*ev = "reject_optout";

	if (dec->reason == STORE_AUDIT_FREQUENCY_CAP)
		ev = "reject_frequency_cap";
	else if (dec->reason == STORE_AUDIT_QUIET_HOURS)
		ev = "reject_quiet_hours";
	if (now != m->rejlog_sec) {
		if (m->rejlog_quiet > 0)
			log_info("event=reject_optout_summary second=%lld "
			    "logged=%u not_logged=%llu (every one is in the "
			    "audit log)", (long long)m->rejlog_sec,
			    SUBMIT_REJECT_LOGS_PER_S,
			    (unsigned long long)m->rejlog_quiet);
		m->rejlog_sec = now;
		m->rejlog_n = 0;
		m->rejlog_quiet = 0;
	}
	if (m->rejlog_n < SUBMIT_REJECT_LOGS_PER_S) {
		m->rejlog_n++;
		log_info("sid=%llu event=%s system_id=%s "
		    "category=%s destination=%s status=0x%08x event_id=%llu",
		    (unsigned long long)s->id, ev, s->system_id, category,
		    number, dec->status, (unsigned long long)dec->event_id);
		return;
	}
	m->rejlog_quiet++;
	if (log_debug_enabled())
		log_debug("sid=%llu event=%s system_id=%s "
		    "category=%s destination=%s status=0x%08x event_id=%llu",
		    (unsigned long long)s->id, ev, s->system_id, category,
		    number, dec->status, (unsigned long long)dec->event_id);
}

/*
 * Audit one refused destination. Returns -1 when its record cannot be
 * kept (the store is failing and the writer holds all it may): the send
 * is then answered with a temporary error, never refused unaudited.
 */
static int
audit_blocked(struct session *s, const struct smpp_pdu *pdu, size_t cat,
    const char *number, const struct decision *dec)
{
	struct store_audit	 a;
	const uint8_t		*body;
	size_t			 len;

	if (!daemon_audit_room(s->d, 1))
		goto unkept;
	memset(&a, 0, sizeof(a));
	a.time = (int64_t)time(NULL);
	str_copy(a.account, sizeof(a.account), s->system_id);
	str_copy(a.category, sizeof(a.category),
	    s->d->cfg->categories[cat].name);
	str_copy(a.service_type, sizeof(a.service_type), pdu->service_type);
	str_copy(a.source, sizeof(a.source), pdu->source.addr);
	str_copy(a.destination, sizeof(a.destination), number);
	a.status = dec->status;
	a.event_id = dec->event_id;
	a.reason = dec->reason;
	body = smpp_pdu_text(pdu, &len);
	a.body_len = (uint32_t)len;
	/* Bodies are not stored, only their length and digest (SPEC §6). */
	body_sha256(body != NULL ? body : (const uint8_t *)"", len,
	    a.body_sha256);
	if (daemon_audit_add(s->d, &a) == -1)
		goto unkept;
	if (dec->reason == STORE_AUDIT_OPTED_OUT)
		s->d->counters.submits_rejected_optout++;
	else if (dec->reason == STORE_AUDIT_FREQUENCY_CAP)
		s->d->counters.submits_rejected_frequency++;
	else
		s->d->counters.submits_rejected_quiet++;
	log_reject(s, a.category, number, dec, a.time);
	return 0;

unkept:
	log_warnx("sid=%llu event=reject_unaudited system_id=%s "
	    "destination=%s status=0x%08x (the store is failing and the audit "
	    "records kept for it are at their bound: answered 0x%08x)",
	    (unsigned long long)s->id, s->system_id, number, dec->status,
	    SMPP_ESME_RMSGQFUL);
	return -1;
}

static struct inflight *
inflight_new(struct session *s, const struct smpp_pdu *pdu, size_t cat,
    const char *upstream, const char *number)
{
	struct inflight	*inf;

	if ((inf = inflight_spare) != NULL) {
		inflight_spare = inf->next_spare;
		inflight_nspare--;
		memset(inf, 0, sizeof(*inf));
	} else if ((inf = calloc(1, sizeof(*inf))) == NULL)
		return NULL;
	inf->d = s->d;
	inf->ref = s->ref;
	s->ref->refs++;
	inf->sid = s->id;
	inf->client_seq = pdu->sequence_number;
	inf->command_id = pdu->command_id;
	inf->wants_receipt = (pdu->registered_delivery & SUBMIT_RD_ROUTED) !=
	    0;
	str_copy(inf->account, sizeof(inf->account), s->system_id);
	str_copy(inf->upstream, sizeof(inf->upstream), upstream);
	str_copy(inf->category, sizeof(inf->category),
	    s->d->cfg->categories[cat].name);
	str_copy(inf->service_type, sizeof(inf->service_type),
	    pdu->service_type);
	str_copy(inf->destination, sizeof(inf->destination),
	    number != NULL ? number : "");
	return inf;
}

/* An allowed decision counted against a cap whose send will not go. */
static void
decision_uncount(struct session *s, size_t cat, const char *number,
    struct decision *dec)
{
	if (dec->freq_token == 0 || s->d->prefs == NULL)
		return;
	prefs_sent(s->d->prefs, s->d->cfg->categories[cat].name, number,
	    dec->freq_token, false);
	if (dec->freq_key != 0)
		prefs_concat_forget(s->d->prefs, dec->freq_key);
	dec->freq_token = 0;
	dec->freq_key = 0;
}

/* A send counted against a cap that will not go (or must be decided
 * again): uncounted. */
static void
inflight_uncount(struct inflight *inf)
{
	if (inf->freq_token != 0 && inf->d->prefs != NULL) {
		prefs_sent(inf->d->prefs, inf->category, inf->destination,
		    inf->freq_token, false);
		/* The part that counted its message did not go: the next
		 * one forwarded (or this one again) counts it. */
		if (inf->freq_key != 0)
			prefs_concat_forget(inf->d->prefs, inf->freq_key);
	}
	inf->freq_token = 0;
	inf->freq_key = 0;
}

/*
 * Hand buf to the pool of upstream index up. Returns SESSION_DONE when the
 * request went (or was answered with an error), SESSION_WAIT when the
 * pool is full and the frame must wait. inf is consumed either way.
 */
static enum session_handled
proceed_forward(struct session *s, const struct smpp_pdu *pdu, size_t up,
    const uint8_t *buf, size_t len, struct inflight *inf, uint64_t affinity,
    bool is_rated)
{
	struct daemon		*d = s->d;
	struct upstream_pool	*p;
	struct ratelimit	*rl = NULL;
	uint64_t		 now = s->batch_ms;

	s->doing = "forward";
	p = daemon_pool(d, up);
	if (is_rated && s->account >= 0) {
		rl = &d->rates[s->account];
		if (!ratelimit_take(rl, now)) {
			inflight_uncount(inf);
			inflight_free(inf);
			session_reply_status(s, pdu->command_id,
			    pdu->sequence_number, SMPP_ESME_RTHROTTLED);
			log_debug("sid=%llu event=throttled system_id=%s",
			    (unsigned long long)s->id, s->system_id);
			return SESSION_DONE;
		}
	}
	if (p == NULL) {
		errno = ENOTCONN;
		goto err;
	}
	if (upstream_pool_submit(p, buf, len, &inflight_cbs, inf,
	    affinity) == -1)
		goto err;
	if (s->is_in_batch && s->batch_pool != p) {
		upstream_pool_flush(s->batch_pool);
		s->batch_pool = p;
	}
	d->counters.submits_forwarded++;
	s->inflight++;
	if (log_debug_enabled())
		log_debug("sid=%llu event=forward cmd=%s seq=%u upstream=%s "
		    "destination=%s", (unsigned long long)s->id,
		    smpp_cmd_name(pdu->command_id), pdu->sequence_number,
		    inf->upstream, inf->destination);
	return SESSION_DONE;

err:
	if (rl != NULL)
		ratelimit_refund(rl);
	if (errno == EAGAIN) {
		/* Windows full: keep the frame, stop reading this sender
		 * until on_window. */
		inflight_uncount(inf);
		inflight_free(inf);
		s->is_waiting_window = true;
		log_debug("sid=%llu event=wait_window upstream=%s",
		    (unsigned long long)s->id, d->cfg->upstreams[up].name);
		return SESSION_WAIT;
	}
	log_info("sid=%llu event=upstream_unavailable upstream=%s "
	    "errno=%d doing=%s", (unsigned long long)s->id,
	    d->cfg->upstreams[up].name, errno, s->doing);
	inflight_uncount(inf);
	inflight_free(inf);
	session_reply_status(s, pdu->command_id, pdu->sequence_number,
	    errno == EINVAL ? SMPP_ESME_RSYSERR : SMPP_ESME_RTHROTTLED);
	return SESSION_DONE;
}

/* submit_sm and data_sm: one destination. */
static enum session_handled
proceed_submit(struct session *s, const struct smpp_pdu *pdu,
    const uint8_t *buf, size_t len, size_t acct, size_t cat)
{
	const struct config	*cfg = s->d->cfg;
	struct decision		 dec;
	struct inflight		*inf;
	char			 number[SMPP_NUMBER_LEN];
	uint32_t		 ref = 0;
	bool			 has_ref;
	int			 up;

	s->doing = "optout_check";
	if (smpp_number_normalize(pdu->dest.ton, pdu->dest.addr,
	    &cfg->number_rules, number, sizeof(number)) == -1) {
		log_info("sid=%llu event=reject_destination system_id=%s "
		    "ton=%u", (unsigned long long)s->id, s->system_id,
		    pdu->dest.ton);
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RINVDSTADR);
		return SESSION_DONE;
	}
	has_ref = submit_concat_ref(pdu, &ref);
	decide(s, cat, number, has_ref, ref, &dec);
	if (dec.result == -1) {
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SUBMIT_STATUS_STORE);
		return SESSION_DONE;
	}
	if (dec.result == 1) {
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    audit_blocked(s, pdu, cat, number, &dec) == 0 ?
		    dec.status : SMPP_ESME_RMSGQFUL);
		return SESSION_DONE;
	}

	/* Attribution takes its slot at the response: start loading it. */
	daemon_lastsent_prefetch(s->d, number);
	s->doing = "route";
	if ((up = router_pick(cfg, acct, cat, number)) < 0)
		decision_uncount(s, cat, number, &dec);
	if (up < 0) {
		log_warnx("sid=%llu event=no_route system_id=%s category=%s "
		    "destination=%s doing=%s", (unsigned long long)s->id,
		    s->system_id, cfg->categories[cat].name, number, s->doing);
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSUBMITFAIL);
		return SESSION_DONE;
	}
	if ((inf = inflight_new(s, pdu, cat, cfg->upstreams[up].name,
	    number)) == NULL) {
		decision_uncount(s, cat, number, &dec);
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSYSERR);
		return SESSION_DONE;
	}
	inf->freq_token = dec.freq_token;
	inf->freq_key = dec.freq_key;
	return proceed_forward(s, pdu, (size_t)up, buf, len, inf,
	    has_ref ? submit_affinity(s->system_id, number, ref) : 0, true);
}

/* The destinations of one submit_multi, sorted by multi_sort(). */
struct multi_sort {
	struct smpp_unsuccess	*blocked;	/* owned; SMPP_MAX_DESTS */
	size_t			 nblocked;
	size_t			 nkept;		/* left in pdu->dests */
	char			 first[SMPP_NUMBER_LEN];	/* first kept */
	uint32_t		 ref;
	bool			 has_ref;
	size_t			 naudit;
	size_t			 ncount;	/* kept ones counted */
	/* The opted-out destinations, audited once the PDU has been
	 * answered or forwarded: a PDU that must wait for window space is
	 * decided again when it is retried. Not cleared: naudit says how
	 * many are set. */
	struct decision		 bdec[SMPP_MAX_DESTS];
	char			 bnum[SMPP_MAX_DESTS][SMPP_NUMBER_LEN];
	/* The kept destinations counted against a cap (prefs_check), kept
	 * in the store only once the PDU is forwarded. */
	int64_t			 ktoken[SMPP_MAX_DESTS];
	char			 knum[SMPP_MAX_DESTS][SMPP_NUMBER_LEN];
};

/*
 * Decide every destination of pdu: the refused and the unusable ones go
 * to ms->blocked (with their status), the rest stay in pdu->dests.
 * Returns SMPP_OK, or the status to answer the whole PDU with.
 */
static uint32_t
multi_sort(struct session *s, struct smpp_pdu *pdu, size_t cat,
    struct multi_sort *ms)
{
	const struct config	*cfg = s->d->cfg;
	struct decision		 dec;
	char			 number[SMPP_NUMBER_LEN];
	size_t			 i;

	ms->has_ref = submit_concat_ref(pdu, &ms->ref);
	ms->first[0] = '\0';
	for (i = 0; i < pdu->number_of_dests; i++) {
		struct smpp_dest *dst = &pdu->dests[i];

		/* A distribution list is expanded by the SMSC: its members
		 * cannot be checked, so fail closed. */
		if (dst->dest_flag != SMPP_DEST_SME_ADDRESS)
			return SMPP_ESME_RINVDESTFLAG;
		if (smpp_number_normalize(dst->addr.ton, dst->addr.addr,
		    &cfg->number_rules, number, sizeof(number)) == -1) {
			ms->blocked[ms->nblocked].addr = dst->addr;
			ms->blocked[ms->nblocked++].error_status =
			    SMPP_ESME_RINVDSTADR;
			continue;
		}
		decide(s, cat, number, ms->has_ref, ms->ref, &dec);
		if (dec.result == -1)
			return SUBMIT_STATUS_STORE;
		if (dec.result == 1) {
			ms->bdec[ms->naudit] = dec;
			memcpy(ms->bnum[ms->naudit++], number, sizeof(number));
			ms->blocked[ms->nblocked].addr = dst->addr;
			ms->blocked[ms->nblocked++].error_status = dec.status;
			continue;
		}
		if (dec.freq_token != 0) {
			ms->ktoken[ms->ncount] = dec.freq_token;
			memcpy(ms->knum[ms->ncount++], number, sizeof(number));
		}
		if (ms->first[0] == '\0')
			memcpy(ms->first, number, sizeof(ms->first));
		pdu->dests[ms->nkept++] = *dst;
	}
	return SMPP_OK;
}

/*
 * The counted destinations of ms: forwarded (is_sent), they are kept as
 * sent; otherwise uncounted, so that a PDU decided again once window
 * space frees up counts once (SPEC §9).
 */
static void
multi_count(struct session *s, size_t cat, struct multi_sort *ms,
    bool is_sent)
{
	size_t	i;

	for (i = 0; i < ms->ncount; i++)
		prefs_sent(s->d->prefs, s->d->cfg->categories[cat].name,
		    ms->knum[i], ms->ktoken[i], is_sent);
	ms->ncount = 0;
}

/* Audit the refused destinations of ms. */
static void
multi_audit(struct session *s, const struct smpp_pdu *pdu, size_t cat,
    const struct multi_sort *ms)
{
	size_t	i;

	/* Room for all was checked (multi_sort's caller). */
	for (i = 0; i < ms->naudit; i++)
		(void)audit_blocked(s, pdu, cat, ms->bnum[i], &ms->bdec[i]);
}

/* submit_multi: the opted-out destinations go to unsuccess_sme, the rest
 * on as one submit_multi re-encoded without them. */
static enum session_handled
proceed_submit_multi(struct session *s, struct smpp_pdu *pdu,
    const uint8_t *buf, size_t len, size_t acct, size_t cat)
{
	const struct config	*cfg = s->d->cfg;
	struct multi_sort	 ms;
	struct inflight		*inf;
	uint8_t			*nbuf = NULL, body[2 + SMPP_MAX_DESTS * 72];
	uint32_t		 st;
	ssize_t			 nlen;
	enum session_handled	 res;
	uint64_t		 nfwd;
	int			 up;

	s->doing = "optout_check";
	memset(&ms, 0, offsetof(struct multi_sort, bdec));
	if ((ms.blocked = calloc(SMPP_MAX_DESTS, sizeof(*ms.blocked))) ==
	    NULL) {
		st = SMPP_ESME_RSYSERR;
		goto fail;
	}
	if ((st = multi_sort(s, pdu, cat, &ms)) != SMPP_OK)
		goto fail;
	if (!daemon_audit_room(s->d, ms.naudit)) {
		/* Refusals that could not be audited: not sent at all. */
		st = SMPP_ESME_RMSGQFUL;
		goto fail;
	}
	if (ms.nkept == 0) {
		/* Nothing to send: answer ourselves, message_id "". */
		nlen = smpp_multi_resp_body(body, sizeof(body), NULL,
		    ms.blocked, ms.nblocked, NULL, 0);
		free(ms.blocked);
		multi_audit(s, pdu, cat, &ms);
		session_reply_raw(s, SMPP_CMD_SUBMIT_MULTI_RESP, SMPP_OK,
		    pdu->sequence_number, body, nlen > 0 ? (size_t)nlen : 0);
		return SESSION_DONE;
	}
	s->doing = "route";
	if ((up = router_pick(cfg, acct, cat, ms.first)) < 0) {
		st = SMPP_ESME_RSUBMITFAIL;
		goto fail;
	}
	st = SMPP_ESME_RSYSERR;
	if (ms.nblocked > 0) {
		pdu->number_of_dests = (uint8_t)ms.nkept;
		if ((nbuf = malloc(len)) == NULL ||
		    (nlen = smpp_pdu_encode(pdu, nbuf, len)) < 0)
			goto fail;
		buf = nbuf;
		len = (size_t)nlen;
	}
	if ((inf = inflight_new(s, pdu, cat, cfg->upstreams[up].name,
	    ms.first)) == NULL)
		goto fail;
	if (ms.nblocked > 0) {
		inf->blocked = ms.blocked;
		inf->nblocked = (uint8_t)ms.nblocked;
	} else
		free(ms.blocked);
	nfwd = s->d->counters.submits_forwarded;
	res = proceed_forward(s, pdu, (size_t)up, buf, len, inf,
	    ms.has_ref ? submit_affinity(s->system_id, ms.first, ms.ref) : 0,
	    true);
	free(nbuf);
	/* A submit_multi's destinations are counted as forwarded. One that
	 * waits for window space is decided again, so uncounted, but for a
	 * part of a concatenated message: prefs_check counts those at the
	 * first decision only. */
	multi_count(s, cat, &ms, res == SESSION_WAIT ? ms.has_ref :
	    s->d->counters.submits_forwarded != nfwd);
	if (res != SESSION_WAIT)
		multi_audit(s, pdu, cat, &ms);
	return res;

fail:
	multi_count(s, cat, &ms, false);
	free(nbuf);
	free(ms.blocked);
	session_reply_status(s, pdu->command_id, pdu->sequence_number, st);
	return SESSION_DONE;
}

/* query_sm, cancel_sm, replace_sm: to the upstream that carried the
 * message (receipt map), else the account's default route. */
static enum session_handled
proceed_query(struct session *s, const struct smpp_pdu *pdu,
    const uint8_t *buf, size_t len, size_t acct)
{
	struct daemon		*d = s->d;
	const struct config	*cfg = d->cfg;
	struct inflight		*inf;
	char			 owner[STORE_NAME_MAX];
	size_t			 i, cat;
	int			 up = -1;

	s->doing = "query_route";
	cat = cfg->accounts[acct].default_category;
	for (i = 0; i < cfg->nupstreams && pdu->message_id[0] != '\0'; i++) {
		if (store_msgmap_get(d->store, cfg->upstreams[i].name,
		    pdu->message_id, owner) == 1 &&
		    strcmp(owner, s->system_id) == 0) {
			up = (int)i;
			break;
		}
	}
	if (up < 0)
		up = router_pick(cfg, acct, cat, NULL);
	if (up < 0) {
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSYSERR);
		return SESSION_DONE;
	}
	if ((inf = inflight_new(s, pdu, cat, cfg->upstreams[up].name,
	    NULL)) == NULL) {
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RSYSERR);
		return SESSION_DONE;
	}
	return proceed_forward(s, pdu, (size_t)up, buf, len, inf, 0, false);
}

enum session_handled
submit_handle(struct session *s, struct smpp_pdu *pdu, const uint8_t *buf,
    size_t len)
{
	const struct config		*cfg = s->d->cfg;
	const struct config_account	*a;
	size_t				 cat;
	unsigned			 maxw;
	int				 acct;

	s->doing = "check_submit";
	if (s->state == SESSION_UNBINDING || s->d->is_stopping) {
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RTHROTTLED);
		return SESSION_DONE;
	}
	if ((acct = session_account(s)) < 0) {
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RINVSYSID);
		session_close(s, "account removed");
		return SESSION_DONE;
	}
	a = &cfg->accounts[acct];
	maxw = a->max_window != 0 ? a->max_window : 100;
	if (s->inflight >= maxw) {
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RMSGQFUL);
		return SESSION_DONE;
	}
	switch (pdu->command_id) {
	case SMPP_CMD_QUERY_SM:
	case SMPP_CMD_CANCEL_SM:
	case SMPP_CMD_REPLACE_SM:
		return proceed_query(s, pdu, buf, len, (size_t)acct);
	default:
		break;
	}
	cat = config_account_category(cfg, (size_t)acct, pdu->service_type);
	if (cat >= cfg->ncategories ||
	    !config_account_may_send(cfg, (size_t)acct, cat)) {
		log_info("sid=%llu event=reject_category system_id=%s "
		    "service_type=%s", (unsigned long long)s->id,
		    s->system_id, pdu->service_type);
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RINVSERTYP);
		return SESSION_DONE;
	}
	/* A node unsure it has every fleet opt-out (SPEC §8): a temporary
	 * error, which clients retry, unless the category is fail_open. */
	if (cluster_refuses(s->d->cluster, cfg, cat,
	    (int64_t)s->batch_ms)) {
		session_reply_status(s, pdu->command_id, pdu->sequence_number,
		    SMPP_ESME_RTHROTTLED);
		return SESSION_DONE;
	}
	if (pdu->command_id == SMPP_CMD_SUBMIT_MULTI)
		return proceed_submit_multi(s, pdu, buf, len, (size_t)acct,
		    cat);
	return proceed_submit(s, pdu, buf, len, (size_t)acct, cat);
}

/* --- upstream callbacks -------------------------------------------------- */

/* submit_multi_resp with our refused destinations added to its list. */
static void
relay_multi_resp(struct session *s, const struct inflight *inf,
    const struct smpp_pdu *resp)
{
	uint8_t		body[SMPP_MESSAGE_ID_LEN + 1 + SMPP_MAX_DESTS * 27];
	size_t		na, nb;
	ssize_t		n;

	/* At most SMPP_MAX_DESTS - 1 entries, the SMSC's first. */
	na = resp->no_unsuccess < SMPP_MAX_DESTS - 1 ? resp->no_unsuccess :
	    SMPP_MAX_DESTS - 1;
	nb = inf->nblocked < SMPP_MAX_DESTS - 1 - na ? inf->nblocked :
	    SMPP_MAX_DESTS - 1 - na;
	n = smpp_multi_resp_body(body, sizeof(body), resp->message_id,
	    resp->unsuccess, na, inf->blocked, nb);
	if (n < 0)
		n = 0;	/* cannot happen: body fits the most entries */
	session_reply_raw(s, SMPP_CMD_SUBMIT_MULTI_RESP, resp->command_status,
	    inf->client_seq, body, (size_t)n);
}

/* The SMSC answered a request this session forwarded. */
static void
inflight_resp(void *ctx, const struct smpp_pdu *resp, const uint8_t *raw,
    size_t rawlen)
{
	struct inflight		*inf = ctx;
	struct daemon		*d = inf->d;
	struct session		*s = inf->ref->s;
	struct store_msgmap	 mm;
	struct store_lastsent_entry ls;

	if (resp->command_status == SMPP_OK &&
	    (resp->command_id == SMPP_CMD_SUBMIT_SM_RESP ||
	    resp->command_id == SMPP_CMD_DATA_SM_RESP ||
	    resp->command_id == SMPP_CMD_SUBMIT_MULTI_RESP)) {
		/* Receipts for this message go back to this account, even
		 * if the sending session is gone by then. */
		if (inf->wants_receipt && resp->message_id[0] != '\0') {
			memset(&mm, 0, sizeof(mm));
			str_copy(mm.upstream, sizeof(mm.upstream),
			    inf->upstream);
			str_copy(mm.message_id, sizeof(mm.message_id),
			    resp->message_id);
			str_copy(mm.account, sizeof(mm.account), inf->account);
			mm.time = (int64_t)time(NULL);
			daemon_msgmap_add(d, &mm);
		}
		if (inf->destination[0] != '\0') {
			memset(&ls, 0, sizeof(ls));
			str_copy(ls.number, sizeof(ls.number),
			    inf->destination);
			ls.last.time = (int64_t)time(NULL);
			str_copy(ls.last.account, sizeof(ls.last.account),
			    inf->account);
			str_copy(ls.last.category, sizeof(ls.last.category),
			    inf->category);
			str_copy(ls.last.service_type,
			    sizeof(ls.last.service_type), inf->service_type);
			daemon_lastsent_add(d, &ls);
		}
		if (inf->freq_token != 0 && d->prefs != NULL)
			prefs_sent(d->prefs, inf->category, inf->destination,
			    inf->freq_token, true);
		inf->freq_token = 0;
	}
	/* Refused by the SMSC: not a text the subscriber got. */
	inflight_uncount(inf);
	if (s == NULL) {
		log_debug("sid=%llu event=late_resp cmd=%s status=0x%08x",
		    (unsigned long long)inf->sid,
		    smpp_cmd_name(resp->command_id), resp->command_status);
		inflight_free(inf);
		return;
	}
	s->inflight--;
	if (log_debug_enabled())
		log_debug("sid=%llu event=resp cmd=%s seq=%u status=0x%08x "
		    "message_id=%s", (unsigned long long)s->id,
		    smpp_cmd_name(resp->command_id), inf->client_seq,
		    resp->command_status, resp->message_id);
	if (inf->nblocked > 0 &&
	    resp->command_id == SMPP_CMD_SUBMIT_MULTI_RESP)
		relay_multi_resp(s, inf, resp);
	else
		session_relay_raw(s, raw, rawlen, inf->client_seq);
	inflight_free(inf);
	session_check_output(s);
	session_maybe_done(s);
}

/* A request this session forwarded will get no answer. */
static void
inflight_fail(void *ctx, uint32_t status)
{
	struct inflight	*inf = ctx;
	struct session	*s = inf->ref->s;

	inflight_uncount(inf);
	if (s != NULL) {
		s->inflight--;
		log_info("sid=%llu event=upstream_fail cmd=%s seq=%u "
		    "status=0x%08x upstream=%s", (unsigned long long)s->id,
		    smpp_cmd_name(inf->command_id), inf->client_seq, status,
		    inf->upstream);
		session_reply_status(s, inf->command_id, inf->client_seq,
		    status);
		session_maybe_done(s);
	}
	inflight_free(inf);
}

