/*
 * Subscriber replies (SPEC §4): an MO from an SMSC goes through the
 * keyword step (proxy/policy/mo.h: prepared here, committed on the
 * writer's durable lane, finished when that is called back), so any
 * opt-out is durable before the SMSC is answered (a store failure
 * answers ESME_RX_T_APPN so the SMSC redelivers) and the loop never
 * waits for the store; the confirmation it asks for is then sent upstream
 * (the route of the inbound account's default category, else the SMSC
 * the reply came from, else any bound one), exempt from the opt-out
 * check, and its answer only logged; then the MO goes to the account of
 * the number it was sent to, through the outbox (proxy/daemon/outbox.h).
 */
#include "proxy/daemon/replies.h"

#include <sys/queue.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errno.h>

#include <event2/event.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/outbox.h"
#include "proxy/daemon/prefs.h"
#include "proxy/daemon/upstream.h"
#include "proxy/daemon/writer.h"
#include "proxy/io/log.h"
#include "proxy/io/util.h"
#include "proxy/policy/mo.h"
#include "proxy/policy/router.h"
#include "smpp/number.h"
#include "store/store.h"

/* Confirmation parts awaiting the SMSC's response. */
#define REPLIES_CONFIRMS_MAX	256
/* Reassembly expiry. */
#define REPLIES_TICK_MS		1000
/*
 * A confirmation part whose SMSC connections are all full waits, in
 * order, and is tried again every CONFIRM_RETRY_MS; past CONFIRM_WAIT_MS
 * it is dropped (logged). The subscriber is owed one confirmation, and
 * a burst of traffic is no reason to lose it.
 */
#define CONFIRM_RETRY_MS	50
#define CONFIRM_WAIT_MS		60000

/* One confirmation part in flight upstream. */
struct confirm_part {
	bool		 is_used;
	bool		 is_waiting;	/* for window space: pdu kept */
	enum store_confirm kind;
	char		 number[STORE_NUMBER_MAX];
	char		 upstream[CONFIG_NAME_MAX];
	unsigned	 part;		/* 1-based */
	unsigned	 parts;
	uint64_t	 order;		/* waiting: FIFO */
	uint64_t	 aff;
	int64_t		 since_ms;	/* waiting since (wall) */
	struct confirm_pdu pdu;		/* waiting: what to send */
};

/*
 * One MO between its decision and its answer: the store writes it needs
 * run on the writer's durable lane (proxy/daemon/writer.h) while the
 * loop goes on; the SMSC is answered, the confirmation sent and the MO
 * delivered when they are called back. Nothing borrowed from the moment
 * it came survives (the pool, the config): names, looked up again.
 */
struct mo_pending {
	struct writer_job	 job;
	struct replies		*r;		/* NULL once r is freed */
	LIST_ENTRY(mo_pending)	 entry;
	struct upstream_reply	 reply;
	char			 upstream[CONFIG_NAME_MAX];
	char			 number[SMPP_NUMBER_LEN];
	char			 dest_addr[SMPP_NUMBER_LEN];
	char			 subscriber[SMPP_NUMBER_LEN];
	bool			 is_inbound;	/* number normalised */
	uint64_t		 t0;
	struct mo_outcome	 out;
	struct mo_commit	 c;
	size_t			 len;
	uint8_t			 raw[];
};

struct replies {
	struct daemon		*d;		/* borrowed */
	struct mo		*mo;		/* owned */
	struct event		*tick_ev;	/* owned */
	struct confirm_part	 confirms[REPLIES_CONFIRMS_MAX];
	struct event		*retry_ev;	/* owned: waiting parts */
	uint64_t		 next_order;
	size_t			 nwaiting;
	/* MOs on the writer's durable lane. */
	LIST_HEAD(mo_pendings, mo_pending) pending;
};

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
	case STORE_CONFIRM_LESS:
		return "less";
	}
	return "?";
}

static void
answer(const struct upstream_reply *reply, uint32_t status)
{
	upstream_reply_send(reply, status, NULL);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct replies	*r = arg;

	(void)fd;
	(void)what;
	mo_expire(r->mo, wall_ms());
}

/* mo_lastsent_fn over the daemon's attribution batch. */
static bool
pending_last(void *arg, const char *number, struct store_lastsent *out)
{
	return daemon_lastsent_pending(arg, number, out);
}

/*
 * The parts of concatenated replies kept before a restart, back into
 * reassembly. A failure is only logged: the parts stay in the store (a
 * restart tries again), and each message's later parts are still
 * forwarded.
 */
static void
replies_load_parts(struct replies *r)
{
	size_t	n;

	if (mo_load_parts(r->mo, wall_ms(), &n) == -1)
		log_warnx("event=mo_parts_load_failed loaded=%zu error=\"%s\" "
		    "doing=mo", n, store_errmsg(r->d->store));
	else if (n > 0)
		log_info("event=mo_parts_loaded parts=%zu", n);
}

static void confirm_retry_cb(evutil_socket_t fd, short what, void *arg);

struct replies *
replies_new(struct daemon *d)
{
	struct timeval	 tv = { REPLIES_TICK_MS / 1000,
			    (REPLIES_TICK_MS % 1000) * 1000 };
	struct replies	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->d = d;
	if ((r->mo = mo_new(d->cfg, d->store)) == NULL)
		goto err;
	mo_set_lastsent_source(r->mo, pending_last, d);
	replies_load_parts(r);
	if ((r->tick_ev = event_new(d->base, -1, EV_PERSIST, tick_cb,
	    r)) == NULL || event_add(r->tick_ev, &tv) == -1 ||
	    (r->retry_ev = event_new(d->base, -1, 0, confirm_retry_cb,
	    r)) == NULL)
		goto err;
	return r;

err:
	replies_free(r);
	return NULL;
}

void
replies_free(struct replies *r)
{
	struct mo_pending	*pm;

	if (r == NULL)
		return;
	/* Still on the lane: the writer calls them back (and they free
	 * themselves) when it is freed. */
	while ((pm = LIST_FIRST(&r->pending)) != NULL) {
		LIST_REMOVE(pm, entry);
		pm->r = NULL;
	}
	if (r->tick_ev != NULL)
		event_free(r->tick_ev);
	if (r->retry_ev != NULL)
		event_free(r->retry_ev);
	mo_free(r->mo);
	free(r);
}

int
replies_reconfigure(struct replies *r, const struct config *cfg)
{
	if (mo_reconfigure(r->mo, cfg) == -1) {
		log_warnx("event=reload_note keywords could not be rebuilt "
		    "(out of memory): the old lists stay");
		return -1;
	}
	return 0;
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
confirm_pool(struct replies *r, const struct config_inbound *in,
    const char *subscriber, struct upstream_pool *from)
{
	const struct config	*cfg = r->d->cfg;
	struct upstream_pool	*p;
	size_t			 i;
	int			 idx;

	if (in != NULL && in->account < cfg->naccounts) {
		idx = router_pick(cfg, in->account,
		    cfg->accounts[in->account].default_category, subscriber);
		if (idx >= 0 && (p = daemon_pool(r->d, (size_t)idx)) !=
		    NULL && upstream_pool_is_bound(p))
			return p;
	}
	if (from != NULL && upstream_pool_is_bound(from))
		return from;
	for (i = 0; i < r->d->npools; i++)
		if ((p = daemon_pool(r->d, i)) != NULL &&
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

/* The pool named name, or NULL (gone in a reload). */
static struct upstream_pool *
pool_named(struct daemon *d, const char *name)
{
	struct upstream_pool	*p;
	size_t			 i;

	for (i = 0; i < d->npools; i++)
		if ((p = daemon_pool(d, i)) != NULL &&
		    strcmp(upstream_pool_name(p), name) == 0)
			return p;
	return NULL;
}

/* Keep c (its pdu set) waiting for window space, behind the others. */
static void
confirm_wait(struct replies *r, struct confirm_part *c)
{
	struct timeval	tv = { 0, CONFIRM_RETRY_MS * 1000 };

	c->is_used = true;
	c->is_waiting = true;
	c->order = ++r->next_order;
	c->since_ms = wall_ms();
	if (r->nwaiting++ == 0 && r->retry_ev != NULL)
		(void)event_add(r->retry_ev, &tv);
	log_info("event=confirm_waiting number=%s kind=%s upstream=%s "
	    "part=%u/%u reason=no_window", c->number,
	    confirm_kind_name(c->kind), c->upstream, c->part, c->parts);
}

static struct confirm_part *
confirm_slot(struct replies *r)
{
	size_t	j;

	for (j = 0; j < REPLIES_CONFIRMS_MAX; j++)
		if (!r->confirms[j].is_used)
			return &r->confirms[j];
	return NULL;
}

static void
confirm_send(struct replies *r, const struct config_inbound *in,
    const char *subscriber, struct upstream_pool *from,
    const struct mo_outcome *out)
{
	struct upstream_pool	*p;
	struct confirm_part	*c;
	bool			 is_queued = false;
	size_t			 i;

	if (out->nconfirm == 0)
		return;
	if ((p = confirm_pool(r, in, subscriber, from)) == NULL) {
		log_warnx("event=confirm_dropped number=%s kind=%s "
		    "reason=no_upstream_bound doing=confirm", subscriber,
		    confirm_kind_name(out->confirm_kind));
		return;
	}
	for (i = 0; i < out->nconfirm; i++) {
		if ((c = confirm_slot(r)) == NULL) {
			log_warnx("event=confirm_dropped number=%s kind=%s "
			    "reason=too_many_in_flight doing=confirm",
			    subscriber, confirm_kind_name(out->confirm_kind));
			return;
		}
		memset(c, 0, offsetof(struct confirm_part, pdu));
		c->kind = out->confirm_kind;
		str_copy(c->number, sizeof(c->number), subscriber);
		str_copy(c->upstream, sizeof(c->upstream),
		    upstream_pool_name(p));
		c->part = (unsigned)i + 1;
		c->parts = (unsigned)out->nconfirm;
		/* Every part of a long confirmation on one SMSC session. */
		c->aff = out->nconfirm > 1 ? affinity_of(subscriber) : 0;
		/* Parts after a waiting one wait too: they go in order. */
		if (!is_queued && r->nwaiting == 0 &&
		    upstream_pool_submit(p, out->confirm[i].bytes,
		    out->confirm[i].len, &confirm_cbs, c, c->aff) == 0) {
			c->is_used = true;
			continue;
		}
		if (!is_queued && r->nwaiting == 0 && errno != EAGAIN) {
			log_warn("event=confirm_dropped number=%s kind=%s "
			    "upstream=%s part=%u doing=confirm", subscriber,
			    confirm_kind_name(c->kind), c->upstream, c->part);
			return;
		}
		c->pdu = out->confirm[i];
		confirm_wait(r, c);
		is_queued = true;
	}
}

/* The waiting part to try next (oldest), or NULL. */
static struct confirm_part *
confirm_oldest(struct replies *r)
{
	struct confirm_part	*c, *best = NULL;
	size_t			 j;

	for (j = 0; j < REPLIES_CONFIRMS_MAX; j++) {
		c = &r->confirms[j];
		if (c->is_waiting && (best == NULL || c->order < best->order))
			best = c;
	}
	return best;
}

/* Try the waiting parts, oldest first, until one finds no room. */
static void
confirm_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct replies		*r = arg;
	struct timeval		 tv = { 0, CONFIRM_RETRY_MS * 1000 };
	struct upstream_pool	*p;
	struct confirm_part	*c;

	(void)fd;
	(void)what;
	while ((c = confirm_oldest(r)) != NULL) {
		p = pool_named(r->d, c->upstream);
		if (p != NULL && upstream_pool_submit(p, c->pdu.bytes,
		    c->pdu.len, &confirm_cbs, c, c->aff) == 0) {
			c->is_waiting = false;
			r->nwaiting--;
			continue;
		}
		if (p != NULL && errno == EAGAIN &&
		    wall_ms() - c->since_ms < CONFIRM_WAIT_MS)
			break;
		log_warnx("event=confirm_dropped number=%s kind=%s upstream=%s "
		    "part=%u/%u reason=%s doing=confirm", c->number,
		    confirm_kind_name(c->kind), c->upstream, c->part, c->parts,
		    p == NULL ? "upstream_gone" : errno == EAGAIN ?
		    "no_window" : "submit_failed");
		c->is_waiting = false;
		c->is_used = false;
		r->nwaiting--;
	}
	if (r->nwaiting > 0)
		(void)event_add(r->retry_ev, &tv);
}

/* The SMSC answered a confirmation: log, forget. */
static void
confirm_resp(void *ctx, const struct smpp_pdu *resp, const uint8_t *raw,
    size_t rawlen)
{
	struct confirm_part	*c = ctx;

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
	struct confirm_part	*c = ctx;

	log_warnx("event=confirm_failed number=%s kind=%s upstream=%s "
	    "part=%u/%u status=0x%08x doing=confirm", c->number,
	    confirm_kind_name(c->kind), c->upstream, c->part, c->parts,
	    status);
	c->is_used = false;
}

/* --- subscriber replies ---------------------------------------------- */

static struct mo_pending *
pending_new(struct replies *r, struct upstream_pool *p,
    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply)
{
	struct mo_pending	*pm;

	if ((pm = malloc(sizeof(*pm) + len)) == NULL)
		return NULL;
	memset(pm, 0, offsetof(struct mo_pending, out));
	pm->r = r;
	pm->reply = *reply;
	str_copy(pm->upstream, sizeof(pm->upstream), upstream_pool_name(p));
	str_copy(pm->dest_addr, sizeof(pm->dest_addr), pdu->dest.addr);
	memcpy(pm->raw, raw, len);
	pm->len = len;
	pm->t0 = daemon_now_ms();
	return pm;
}

/* After the keyword step: log, answer or confirm, then deliver. */
static void
mo_after(struct replies *r, struct mo_pending *pm)
{
	const struct config		*cfg = r->d->cfg;
	const struct config_inbound	*in = NULL;
	struct mo_outcome		*out = &pm->out;

	if (pm->is_inbound)
		in = config_inbound_find(cfg, pm->number);
	if (mo_finish(r->mo, &pm->c, out) == -1) {
		log_warnx("event=mo_deferred upstream=%s subscriber=%s "
		    "inbound=%s reason=store error=\"%s\" doing=mo",
		    pm->upstream, pm->subscriber, pm->number, pm->c.err);
		answer(&pm->reply, out->status);
		return;
	}
	if (out->action != KEYWORD_NONE || out->is_partial ||
	    out->has_confirm_error)
		log_info("event=mo_keyword upstream=%s subscriber=%s "
		    "inbound=%s action=%s rule=%s events=%zu event_id=%llu "
		    "review_id=%llu confirm_parts=%zu suppressed=%d "
		    "confirm_error=%d partial=%d store_ms=%llu",
		    pm->upstream, pm->subscriber, pm->number,
		    keyword_action_name(out->action), out->rule, out->nevents,
		    (unsigned long long)out->event_id,
		    (unsigned long long)out->review_id, out->nconfirm,
		    out->is_confirm_suppressed, out->has_confirm_error,
		    out->is_partial,
		    (unsigned long long)(daemon_now_ms() - pm->t0));
	if (out->status != SMPP_OK) {
		answer(&pm->reply, out->status);
		return;
	}
	/* A LESS, START or ALL counts from the next send. */
	if (out->nevents > 0 && r->d->prefs != NULL)
		prefs_poll(r->d->prefs);
	confirm_send(r, in, pm->subscriber, pool_named(r->d, pm->upstream),
	    out);
	if (!out->forward || in == NULL || in->account >= cfg->naccounts) {
		/* Not one of our numbers: nobody to pass it to. The
		 * keyword step ran (an opt-out there is of everything). */
		log_warnx("event=mo_unroutable upstream=%s destination=%s "
		    "doing=mo", pm->upstream, pm->dest_addr);
		answer(&pm->reply, SMPP_OK);
		return;
	}
	outbox_deliver(r->d->outbox, cfg->accounts[in->account].system_id,
	    pm->raw, pm->len, &pm->reply, "mo");
}

/* On the writer thread: the MO's store writes, durable. */
static int
pending_run(struct store *st, void *arg)
{
	struct mo_pending	*pm = arg;

	return mo_commit(st, &pm->c);
}

/* Back on the loop: the writes are durable (or failed). */
static void
pending_done(void *arg, int rc)
{
	struct mo_pending	*pm = arg;

	(void)rc;	/* in pm->c.rc */
	if (pm->r != NULL) {
		LIST_REMOVE(pm, entry);
		mo_after(pm->r, pm);
	}
	free(pm);
}

/* Deliver an MO whose sender has no number: no keyword step. */
static void
mo_no_sender(struct replies *r, const struct smpp_pdu *pdu,
    const struct config_inbound *in, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply)
{
	const struct config	*cfg = r->d->cfg;

	if (in == NULL || in->account >= cfg->naccounts) {
		log_warnx("event=mo_unroutable upstream=- destination=%s "
		    "doing=mo", pdu->dest.addr);
		answer(reply, SMPP_OK);
		return;
	}
	outbox_deliver(r->d->outbox, cfg->accounts[in->account].system_id,
	    raw, len, reply, "mo");
}

void
replies_on_mo(struct replies *r, struct upstream_pool *p,
    const struct smpp_pdu *pdu, const uint8_t *raw, size_t len,
    const struct upstream_reply *reply)
{
	const struct config		*cfg = r->d->cfg;
	const struct config_inbound	*in = NULL;
	struct writer			*w = r->d->writer;
	struct mo_pending		*pm;

	if ((pm = pending_new(r, p, pdu, raw, len, reply)) == NULL) {
		log_warnx("event=mo_deferred upstream=%s reason=no_memory "
		    "doing=mo", upstream_pool_name(p));
		answer(reply, SMPP_ESME_RX_T_APPN);
		return;
	}
	if (smpp_number_normalize(pdu->dest.ton, pdu->dest.addr,
	    &cfg->number_rules, pm->number, sizeof(pm->number)) == 0) {
		pm->is_inbound = true;
		in = config_inbound_find(cfg, pm->number);
	} else
		str_copy(pm->number, sizeof(pm->number), pdu->dest.addr);
	if (smpp_number_normalize(pdu->source.ton, pdu->source.addr,
	    &cfg->number_rules, pm->subscriber, sizeof(pm->subscriber)) ==
	    -1) {
		/* No number to record an opt-out under: a person sees it
		 * at the department. */
		log_warnx("event=mo_bad_sender upstream=%s source=%s "
		    "inbound=%s doing=mo", pm->upstream, pdu->source.addr,
		    pm->number);
		free(pm);
		mo_no_sender(r, pdu, in, raw, len, reply);
		return;
	}
	(void)mo_prepare(r->mo, pdu, pm->subscriber, pm->number, in,
	    wall_ms(), &pm->out, &pm->c);
	if (w == NULL || (!mo_commit_needed(&pm->c) &&
	    writer_durable_pending(w) == 0)) {
		/* Nothing to write and nothing ahead of it (an MO never
		 * overtakes one whose writes are under way). */
		if (mo_commit_needed(&pm->c))
			(void)mo_commit(r->d->store, &pm->c);
		mo_after(r, pm);
		free(pm);
		return;
	}
	pm->job.run = pending_run;
	pm->job.done = pending_done;
	pm->job.arg = pm;
	LIST_INSERT_HEAD(&r->pending, pm, entry);
	writer_durable(w, &pm->job);
}
