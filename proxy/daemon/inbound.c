/*
 * Inbound delivery: the keyword step, confirmations and the outbox. See
 * inbound.h.
 */
#include "proxy/daemon/inbound.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/io/log.h"
#include "proxy/policy/mo.h"
#include "proxy/policy/router.h"
#include "proxy/daemon/delivery.h"
#include "proxy/daemon/upstream.h"
#include "proxy/io/util.h"
#include "smpp/number.h"
#include "store/store.h"

/* Confirmation parts awaiting the SMSC's response. */
#define INBOUND_CONFIRMS_MAX	256
/* Outbox retries and reassembly expiry. */
#define INBOUND_TICK_MS		1000
/* Wait after a department refused an outbox entry. */
#define INBOUND_RETRY_MS	5000

/* One confirmation part in flight upstream. */
struct ib_confirm {
	bool		 is_used;
	enum store_confirm kind;
	char		 number[STORE_NUMBER_MAX];
	char		 upstream[CONFIG_NAME_MAX];
	unsigned	 part;		/* 1-based */
	unsigned	 parts;
};

/* Outbox state of one account. */
struct ib_account {
	char		 system_id[STORE_NAME_MAX];
	bool		 has_outbox;	/* entries may be waiting */
	bool		 is_busy;	/* one entry out to the department */
	uint64_t	 busy_id;
	uint64_t	 retry_ms;	/* not before (daemon_now_ms) */
};

struct inbound {
	struct daemon		*d;		/* borrowed */
	struct mo		*mo;		/* owned */
	struct ib_account	*accts;		/* owned, one per account */
	size_t			 naccts;
	struct event		*tick_ev;	/* owned */
	uint8_t			*buf;		/* owned, SMPP_MAX_PDU_LEN */
	struct mo_outcome	 out;		/* scratch: ~2 KiB */
	struct ib_confirm	 confirms[INBOUND_CONFIRMS_MAX];
};

static void	outbox_next(struct inbound *, struct ib_account *);

/* Wall-clock Unix milliseconds: event times and the loop guard. */
static int64_t
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
confirm_kind_name(enum store_confirm k)
{
	switch (k) {
	case STORE_CONFIRM_OPT_OUT:
		return "opt_out";
	case STORE_CONFIRM_OPT_IN:
		return "opt_in";
	case STORE_CONFIRM_HELP:
		return "help";
	}
	return "?";
}

static void
answer(const struct upstream_reply *reply, uint32_t status)
{
	upstream_reply_send(reply, status, NULL);
}

static struct ib_account *
acct_find(struct inbound *ib, const char *system_id)
{
	size_t	i;

	for (i = 0; i < ib->naccts; i++)
		if (strcmp(ib->accts[i].system_id, system_id) == 0)
			return &ib->accts[i];
	return NULL;
}

/* One entry per account of cfg; accounts that stay keep their state. */
static int
accts_build(struct inbound *ib, const struct config *cfg)
{
	struct ib_account	*na, *old;
	size_t			 i, n;

	if ((na = calloc(cfg->naccounts + 1, sizeof(*na))) == NULL)
		return -1;
	for (i = 0; i < cfg->naccounts; i++) {
		str_copy(na[i].system_id, sizeof(na[i].system_id),
		    cfg->accounts[i].system_id);
		if ((old = acct_find(ib, na[i].system_id)) != NULL) {
			na[i] = *old;
			continue;
		}
		/* Entries left from an earlier run are delivered first. */
		na[i].has_outbox = store_outbox_count(ib->d->store,
		    na[i].system_id, &n) == -1 || n > 0;
	}
	free(ib->accts);
	ib->accts = na;
	ib->naccts = cfg->naccounts;
	return 0;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inbound	*ib = arg;
	size_t		 i;

	(void)fd;
	(void)what;
	for (i = 0; i < ib->naccts; i++)
		outbox_next(ib, &ib->accts[i]);
	mo_expire(ib->mo, wall_ms());
}

/* mo_lastsent_fn over the daemon's attribution batch. */
static bool
pending_last(void *arg, const char *number, struct store_lastsent *out)
{
	return daemon_lastsent_pending(arg, number, out);
}

struct inbound *
inbound_new(struct daemon *d)
{
	struct timeval	 tv = { INBOUND_TICK_MS / 1000,
			    (INBOUND_TICK_MS % 1000) * 1000 };
	struct inbound	*ib;

	if ((ib = calloc(1, sizeof(*ib))) == NULL)
		return NULL;
	ib->d = d;
	if ((ib->mo = mo_new(d->cfg, d->store)) == NULL ||
	    (ib->buf = malloc(SMPP_MAX_PDU_LEN)) == NULL ||
	    accts_build(ib, d->cfg) == -1)
		goto err;
	mo_set_lastsent_source(ib->mo, pending_last, d);
	if ((ib->tick_ev = event_new(d->base, -1, EV_PERSIST, tick_cb,
	    ib)) == NULL || event_add(ib->tick_ev, &tv) == -1)
		goto err;
	return ib;

err:
	inbound_free(ib);
	return NULL;
}

void
inbound_free(struct inbound *ib)
{
	if (ib == NULL)
		return;
	if (ib->tick_ev != NULL)
		event_free(ib->tick_ev);
	mo_free(ib->mo);
	free(ib->accts);
	free(ib->buf);
	free(ib);
}

int
inbound_reconfigure(struct inbound *ib, const struct config *cfg)
{
	int	rc = 0;

	if (mo_reconfigure(ib->mo, cfg) == -1) {
		log_warnx("event=reload_note keywords could not be rebuilt "
		    "(out of memory): the old lists stay");
		rc = -1;
	}
	if (accts_build(ib, cfg) == -1) {
		log_warnx("event=reload_note outbox accounts not updated "
		    "(out of memory)");
		rc = -1;
	}
	return rc;
}

/* --- confirmations --------------------------------------------------- */

static void	confirm_resp(void *, const struct smpp_pdu *, const uint8_t *,
		    size_t);
static void	confirm_fail(void *, uint32_t);

/* A confirmation's answer is only logged: it is never relayed. */
static const struct upstream_req_cbs confirm_cbs = {
	.on_resp = confirm_resp,
	.on_fail = confirm_fail,
};

/*
 * The upstream for a confirmation: the route of the inbound account's
 * default category, else the SMSC the reply came from, else any bound
 * one.
 */
static struct upstream_pool *
confirm_pool(struct inbound *ib, const struct config_inbound *in,
    const char *subscriber, struct upstream_pool *from)
{
	const struct config	*cfg = ib->d->cfg;
	struct upstream_pool	*p;
	size_t			 i;
	int			 idx;

	if (in != NULL && in->account < cfg->naccounts) {
		idx = router_pick(cfg, in->account,
		    cfg->accounts[in->account].default_category, subscriber);
		if (idx >= 0 && (p = daemon_pool(ib->d, (size_t)idx)) !=
		    NULL && upstream_pool_is_bound(p))
			return p;
	}
	if (from != NULL && upstream_pool_is_bound(from))
		return from;
	for (i = 0; i < ib->d->npools; i++)
		if ((p = daemon_pool(ib->d, i)) != NULL &&
		    upstream_pool_is_bound(p))
			return p;
	return NULL;
}

static uint64_t
affinity_of(const char *number)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */

	while (*number != '\0')
		h = (h ^ (uint8_t)*number++) * 1099511628211ULL;
	return h | 1;	/* never 0: 0 means "any connection" */
}

static void
confirm_send(struct inbound *ib, const struct config_inbound *in,
    const char *subscriber, struct upstream_pool *from,
    const struct mo_outcome *out)
{
	struct upstream_pool	*p;
	struct ib_confirm	*c;
	uint64_t		 aff;
	size_t			 i, j;

	if (out->nconfirm == 0)
		return;
	if ((p = confirm_pool(ib, in, subscriber, from)) == NULL) {
		log_warnx("event=confirm_dropped number=%s kind=%s "
		    "reason=no_upstream_bound doing=confirm", subscriber,
		    confirm_kind_name(out->confirm_kind));
		return;
	}
	/* Every part of a long confirmation on one SMSC session. */
	aff = out->nconfirm > 1 ? affinity_of(subscriber) : 0;
	for (i = 0; i < out->nconfirm; i++) {
		c = NULL;
		for (j = 0; j < INBOUND_CONFIRMS_MAX; j++)
			if (!ib->confirms[j].is_used) {
				c = &ib->confirms[j];
				break;
			}
		if (c == NULL) {
			log_warnx("event=confirm_dropped number=%s kind=%s "
			    "reason=too_many_in_flight doing=confirm",
			    subscriber, confirm_kind_name(out->confirm_kind));
			return;
		}
		memset(c, 0, sizeof(*c));
		c->kind = out->confirm_kind;
		str_copy(c->number, sizeof(c->number), subscriber);
		str_copy(c->upstream, sizeof(c->upstream),
		    upstream_pool_name(p));
		c->part = (unsigned)i + 1;
		c->parts = (unsigned)out->nconfirm;
		if (upstream_pool_submit(p, out->confirm[i].bytes,
		    out->confirm[i].len, &confirm_cbs, c, aff) == -1) {
			log_warn("event=confirm_dropped number=%s kind=%s "
			    "upstream=%s part=%u doing=confirm", subscriber,
			    confirm_kind_name(c->kind), c->upstream, c->part);
			return;
		}
		c->is_used = true;
	}
}

/* The SMSC answered a confirmation: log, forget. */
static void
confirm_resp(void *ctx, const struct smpp_pdu *resp, const uint8_t *raw,
    size_t rawlen)
{
	struct ib_confirm	*c = ctx;

	(void)raw;
	(void)rawlen;
	if (resp->command_status == SMPP_OK)
		log_info("event=confirm_sent number=%s kind=%s upstream=%s "
		    "part=%u/%u message_id=%s", c->number,
		    confirm_kind_name(c->kind), c->upstream, c->part,
		    c->parts, resp->message_id);
	else
		log_warnx("event=confirm_refused number=%s kind=%s "
		    "upstream=%s part=%u/%u status=0x%08x doing=confirm",
		    c->number, confirm_kind_name(c->kind), c->upstream,
		    c->part, c->parts, resp->command_status);
	c->is_used = false;
}

/* A confirmation got no answer (timeout, connection lost). */
static void
confirm_fail(void *ctx, uint32_t status)
{
	struct ib_confirm	*c = ctx;

	log_warnx("event=confirm_failed number=%s kind=%s upstream=%s "
	    "part=%u/%u status=0x%08x doing=confirm", c->number,
	    confirm_kind_name(c->kind), c->upstream, c->part, c->parts,
	    status);
	c->is_used = false;
}

/* --- outbox ---------------------------------------------------------- */

/* Deliver the oldest entry of a, if it is not waiting on one already. */
static void
outbox_next(struct inbound *ib, struct ib_account *a)
{
	struct store	*st = ib->d->store;
	uint64_t	 id;
	size_t		 len;
	int		 r;

	if (a->is_busy || !a->has_outbox || daemon_now_ms() < a->retry_ms)
		return;
	r = store_outbox_peek(st, a->system_id, &id, ib->buf,
	    SMPP_MAX_PDU_LEN, &len, NULL);
	if (r == 0) {
		a->has_outbox = false;
		return;
	}
	if (r == -1) {
		log_warnx("event=outbox_read_failed account=%s error=\"%s\" "
		    "doing=outbox", a->system_id, store_errmsg(st));
		a->retry_ms = daemon_now_ms() + INBOUND_RETRY_MS;
		return;
	}
	if (delivery_outbox_to_account(ib->d, a->system_id, ib->buf,
	    len, id) == -1)
		return;		/* no receiver now: on bind or next tick */
	a->is_busy = true;
	a->busy_id = id;
}

void
inbound_account_bound(struct inbound *ib, const char *account)
{
	struct ib_account	*a;

	if (ib == NULL || (a = acct_find(ib, account)) == NULL)
		return;
	a->retry_ms = 0;
	outbox_next(ib, a);
}

void
inbound_outbox_done(struct inbound *ib, const char *account, uint64_t id,
    uint32_t status)
{
	struct store		*st = ib->d->store;
	struct ib_account	*a = acct_find(ib, account);

	if (a != NULL && a->is_busy && a->busy_id == id)
		a->is_busy = false;
	if (status != SMPP_OK) {
		log_info("event=outbox_retry account=%s outbox_id=%llu "
		    "status=0x%08x", account, (unsigned long long)id, status);
		if (a != NULL)
			a->retry_ms = daemon_now_ms() + INBOUND_RETRY_MS;
		return;
	}
	if (store_outbox_del(st, account, id) == -1 &&
	    store_errcode(st) != STORE_E_NOTFOUND) {
		/* Delivered but still queued: it goes out twice, which the
		 * department sees as an SMSC retry. */
		log_warnx("event=outbox_delete_failed account=%s "
		    "outbox_id=%llu error=\"%s\" doing=outbox", account,
		    (unsigned long long)id, store_errmsg(st));
		if (a != NULL)
			a->retry_ms = daemon_now_ms() + INBOUND_RETRY_MS;
		return;
	}
	log_debug("event=outbox_delivered account=%s outbox_id=%llu",
	    account, (unsigned long long)id);
	if (a != NULL)
		outbox_next(ib, a);
}

void
inbound_deliver(struct inbound *ib, const char *account, const uint8_t *raw,
    size_t len, const struct upstream_reply *reply, const char *what)
{
	const struct config	*cfg = ib->d->cfg;
	struct store		*st = ib->d->store;
	struct ib_account	*a = acct_find(ib, account);
	uint64_t		 id;

	/* Older messages of the account still queued go first. */
	if ((a == NULL || !a->has_outbox) &&
	    delivery_to_account(ib->d, account, raw, len, reply) == 0)
		return;
	if (store_outbox_put(st, account, raw, len, (int64_t)time(NULL),
	    cfg->retention.outbox_max, &id) == -1) {
		/* Full or failing: the SMSC keeps it and redelivers. */
		log_warnx("event=%s_deferred account=%s reason=outbox_%s "
		    "error=\"%s\" doing=outbox", what, account,
		    store_error_name(store_errcode(st)), store_errmsg(st));
		answer(reply, SMPP_ESME_RX_T_APPN);
		return;
	}
	answer(reply, SMPP_OK);
	log_info("event=%s_kept account=%s outbox_id=%llu", what, account,
	    (unsigned long long)id);
	if (a != NULL) {
		a->has_outbox = true;
		outbox_next(ib, a);
	}
}

/* --- subscriber replies ---------------------------------------------- */

void
inbound_on_mo(struct inbound *ib, struct upstream_pool *p,
    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply)
{
	const struct config		*cfg = ib->d->cfg;
	const struct config_inbound	*in = NULL;
	struct mo_outcome		*out = &ib->out;
	const char			*upstream = upstream_pool_name(p);
	char				 number[SMPP_NUMBER_LEN];
	char				 subscriber[SMPP_NUMBER_LEN];
	struct store_write_stats	 ws0, ws;
	uint64_t			 t0, took;
	int				 rc;
	bool				 is_forward = true;

	if (smpp_number_normalize(pdu->dest.ton, pdu->dest.addr, &cfg->number_rules,
	    number, sizeof(number)) == 0)
		in = config_inbound_find(cfg, number);
	else
		str_copy(number, sizeof(number), pdu->dest.addr);

	if (smpp_number_normalize(pdu->source.ton, pdu->source.addr, &cfg->number_rules,
	    subscriber, sizeof(subscriber)) == -1) {
		/* No number to record an opt-out under: a person sees it
		 * at the department. */
		log_warnx("event=mo_bad_sender upstream=%s source=%s "
		    "inbound=%s doing=mo", upstream, pdu->source.addr, number);
		goto deliver;
	}
	/* The opt-out is durable when mo_handle returns: that wait (the
	 * write lock, then a synced commit) is logged with it. */
	store_write_stats(ib->d->store, &ws0);
	t0 = daemon_now_ms();
	rc = mo_handle(ib->mo, pdu, subscriber, number, in, wall_ms(), out);
	took = daemon_now_ms() - t0;
	store_write_stats(ib->d->store, &ws);
	if (rc == -1) {
		log_warnx("event=mo_deferred upstream=%s subscriber=%s "
		    "inbound=%s reason=store error=\"%s\" doing=mo", upstream,
		    subscriber, number, store_errmsg(ib->d->store));
		answer(reply, out->status);
		return;
	}
	if (out->action != KEYWORD_NONE || out->is_partial ||
	    out->has_confirm_error)
		log_info("event=mo_keyword upstream=%s subscriber=%s "
		    "inbound=%s action=%s rule=%s events=%zu event_id=%llu "
		    "review_id=%llu confirm_parts=%zu suppressed=%d "
		    "confirm_error=%d partial=%d store_ms=%llu "
		    "store_lock_us=%llu store_commit_us=%llu "
		    "store_sync_us=%llu", upstream, subscriber, number,
		    keyword_action_name(out->action), out->rule, out->nevents,
		    (unsigned long long)out->event_id,
		    (unsigned long long)out->review_id, out->nconfirm,
		    out->is_confirm_suppressed, out->has_confirm_error,
		    out->is_partial, (unsigned long long)took,
		    (unsigned long long)(ws.wait_us - ws0.wait_us),
		    (unsigned long long)(ws.commit_us - ws0.commit_us),
		    (unsigned long long)(ws.sync_us - ws0.sync_us));
	if (out->status != SMPP_OK) {
		answer(reply, out->status);
		return;
	}
	confirm_send(ib, in, subscriber, p, out);
	is_forward = out->forward;

deliver:
	if (!is_forward || in == NULL || in->account >= cfg->naccounts) {
		/* Not one of our numbers: nobody to pass it to. The
		 * keyword step ran (an opt-out there is of everything). */
		log_warnx("event=mo_unroutable upstream=%s destination=%s "
		    "doing=mo", upstream, pdu->dest.addr);
		answer(reply, SMPP_OK);
		return;
	}
	inbound_deliver(ib, cfg->accounts[in->account].system_id, raw, len,
	    reply, "mo");
}
