/*
 * The durable outbox (SPEC §4): a deliver_sm / data_sm (an MO or a
 * receipt) for an account goes to one of its bound receivers; when none
 * can take it, or older messages of the account are still queued (to
 * keep the order), the raw PDU is put in the store's outbox (fsync'd)
 * and the SMSC gets OK. The outbox of an account is delivered oldest
 * first, one entry at a time, when a receiver binds and every second
 * while entries wait; an entry is deleted once the department answers
 * OK.
 */
#include "proxy/daemon/outbox.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/delivery.h"
#include "proxy/daemon/upstream.h"
#include "proxy/io/log.h"
#include "proxy/io/util.h"
#include "store/store.h"

/* Retries of waiting entries. */
#define OUTBOX_TICK_MS		1000
/* Wait after a department refused an entry. */
#define OUTBOX_RETRY_MS		5000

/* Outbox state of one account. */
struct ob_account {
	char		 system_id[STORE_NAME_MAX];
	bool		 has_outbox;	/* entries may be waiting */
	bool		 is_busy;	/* one entry out to the department */
	uint64_t	 busy_id;
	uint64_t	 retry_ms;	/* not before (daemon_now_ms) */
};

struct outbox {
	struct daemon		*d;		/* borrowed */
	struct ob_account	*accts;		/* owned, one per account */
	size_t			 naccts;
	struct event		*tick_ev;	/* owned */
	uint8_t			*buf;		/* owned, SMPP_MAX_PDU_LEN */
};

static void	outbox_next(struct outbox *, struct ob_account *);

static void
answer(const struct upstream_reply *reply, uint32_t status)
{
	upstream_reply_send(reply, status, NULL);
}

static struct ob_account *
acct_find(struct outbox *ob, const char *system_id)
{
	size_t	i;

	for (i = 0; i < ob->naccts; i++)
		if (strcmp(ob->accts[i].system_id, system_id) == 0)
			return &ob->accts[i];
	return NULL;
}

/* One entry per account of cfg; accounts that stay keep their state. */
static int
accts_build(struct outbox *ob, const struct config *cfg)
{
	struct ob_account	*na, *old;
	size_t			 i, n;

	if ((na = calloc(cfg->naccounts + 1, sizeof(*na))) == NULL)
		return -1;
	for (i = 0; i < cfg->naccounts; i++) {
		str_copy(na[i].system_id, sizeof(na[i].system_id),
		    cfg->accounts[i].system_id);
		if ((old = acct_find(ob, na[i].system_id)) != NULL) {
			na[i] = *old;
			continue;
		}
		/* Entries left from an earlier run are delivered first. */
		na[i].has_outbox = store_outbox_count(ob->d->store,
		    na[i].system_id, &n) == -1 || n > 0;
	}
	free(ob->accts);
	ob->accts = na;
	ob->naccts = cfg->naccounts;
	return 0;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outbox	*ob = arg;
	size_t		 i;

	(void)fd;
	(void)what;
	for (i = 0; i < ob->naccts; i++)
		outbox_next(ob, &ob->accts[i]);
}

struct outbox *
outbox_new(struct daemon *d)
{
	struct timeval	 tv = { OUTBOX_TICK_MS / 1000,
			    (OUTBOX_TICK_MS % 1000) * 1000 };
	struct outbox	*ob;

	if ((ob = calloc(1, sizeof(*ob))) == NULL)
		return NULL;
	ob->d = d;
	if ((ob->buf = malloc(SMPP_MAX_PDU_LEN)) == NULL ||
	    accts_build(ob, d->cfg) == -1)
		goto err;
	if ((ob->tick_ev = event_new(d->base, -1, EV_PERSIST, tick_cb,
	    ob)) == NULL || event_add(ob->tick_ev, &tv) == -1)
		goto err;
	return ob;

err:
	outbox_free(ob);
	return NULL;
}

void
outbox_free(struct outbox *ob)
{
	if (ob == NULL)
		return;
	if (ob->tick_ev != NULL)
		event_free(ob->tick_ev);
	free(ob->accts);
	free(ob->buf);
	free(ob);
}

int
outbox_reconfigure(struct outbox *ob, const struct config *cfg)
{
	if (accts_build(ob, cfg) == -1) {
		log_warnx("event=reload_note outbox accounts not updated "
		    "(out of memory)");
		return -1;
	}
	return 0;
}

/* Deliver the oldest entry of a, if it is not waiting on one already. */
static void
outbox_next(struct outbox *ob, struct ob_account *a)
{
	struct store	*st = ob->d->store;
	uint64_t	 id;
	size_t		 len;
	int		 r;

	if (a->is_busy || !a->has_outbox || daemon_now_ms() < a->retry_ms)
		return;
	r = store_outbox_peek(st, a->system_id, &id, ob->buf,
	    SMPP_MAX_PDU_LEN, &len, NULL);
	if (r == 0) {
		a->has_outbox = false;
		return;
	}
	if (r == -1) {
		log_warnx("event=outbox_read_failed account=%s error=\"%s\" "
		    "doing=outbox", a->system_id, store_errmsg(st));
		a->retry_ms = daemon_now_ms() + OUTBOX_RETRY_MS;
		return;
	}
	if (delivery_outbox_to_account(ob->d, a->system_id, ob->buf,
	    len, id) == -1)
		return;		/* no receiver now: on bind or next tick */
	a->is_busy = true;
	a->busy_id = id;
}

void
outbox_account_bound(struct outbox *ob, const char *account)
{
	struct ob_account	*a;

	if (ob == NULL || (a = acct_find(ob, account)) == NULL)
		return;
	a->retry_ms = 0;
	outbox_next(ob, a);
}

void
outbox_done(struct outbox *ob, const char *account, uint64_t id,
    uint32_t status)
{
	struct store		*st = ob->d->store;
	struct ob_account	*a = acct_find(ob, account);

	if (a != NULL && a->is_busy && a->busy_id == id)
		a->is_busy = false;
	if (status != SMPP_OK) {
		log_info("event=outbox_retry account=%s outbox_id=%llu "
		    "status=0x%08x", account, (unsigned long long)id, status);
		if (a != NULL)
			a->retry_ms = daemon_now_ms() + OUTBOX_RETRY_MS;
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
			a->retry_ms = daemon_now_ms() + OUTBOX_RETRY_MS;
		return;
	}
	log_debug("event=outbox_delivered account=%s outbox_id=%llu",
	    account, (unsigned long long)id);
	if (a != NULL)
		outbox_next(ob, a);
}

void
outbox_deliver(struct outbox *ob, const char *account, const uint8_t *raw,
    size_t len, const struct upstream_reply *reply, const char *what)
{
	const struct config	*cfg = ob->d->cfg;
	struct store		*st = ob->d->store;
	struct ob_account	*a = acct_find(ob, account);
	uint64_t		 id;

	/* Older messages of the account still queued go first. */
	if ((a == NULL || !a->has_outbox) &&
	    delivery_to_account(ob->d, account, raw, len, reply) == 0)
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
		outbox_next(ob, a);
	}
}

