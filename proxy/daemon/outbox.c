/*
 * The durable outbox (SPEC §4): a deliver_sm / data_sm (an MO or a
 * receipt) for an account goes to one of its bound receivers; when none
 * can take it, or older messages of the account are still queued (to
 * keep the order), the raw PDU is put in the store's outbox (fsync'd, on
 * the writer's durable lane: the loop does not wait for it) and the SMSC
 * gets OK once it is durable. The outbox of an account is delivered oldest
 * first, one entry at a time, when a receiver binds and every second
 * while entries wait; an entry is deleted once the department answers
 * OK.
 */
#include "proxy/daemon/outbox.h"

#include <sys/queue.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/config.h"
#include "proxy/daemon/context.h"
#include "proxy/daemon/delivery.h"
#include "proxy/daemon/upstream.h"
#include "proxy/daemon/writer.h"
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
	unsigned	 nputs;		/* puts on the durable lane */
	bool		 is_busy;	/* one entry out to the department */
	uint64_t	 busy_id;
	uint64_t	 retry_ms;	/* not before (daemon_now_ms) */
};

/*
 * One entry being put in the outbox on the writer's durable lane (the
 * SMSC is answered when it is durable, or not: 0x64), or one delivered
 * entry being deleted (len 0). Names, not pointers: the accounts array
 * changes on a reload.
 */
struct ob_put {
	struct writer_job	 job;
	struct outbox		*ob;		/* NULL once ob is freed */
	LIST_ENTRY(ob_put)	 entry;
	struct upstream_reply	 reply;
	char			 account[STORE_NAME_MAX];
	const char		*what;		/* static */
	size_t			 max;
	int64_t			 time;
	uint64_t		 id;
	enum store_error	 code;
	size_t			 len;
	uint8_t			 raw[];
};

struct outbox {
	struct daemon		*d;		/* borrowed */
	LIST_HEAD(ob_puts, ob_put) puts;	/* puts and deletes on the
						 * durable lane */
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
	struct ob_put	*op;

	if (ob == NULL)
		return;
	/* Still on the lane: the writer calls them back (and they free
	 * themselves) when it is freed. */
	while ((op = LIST_FIRST(&ob->puts)) != NULL) {
		LIST_REMOVE(op, entry);
		op->ob = NULL;
	}
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
		/* Empty, unless a put is on its way. */
		a->has_outbox = a->nputs > 0;
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
outbox_kick(struct outbox *ob, const char *account)
{
	struct ob_account	*a;

	if (ob == NULL || (a = acct_find(ob, account)) == NULL)
		return;
	a->has_outbox = true;
	outbox_next(ob, a);
}

/* Without a writer (or memory for a job): delete here. */
static int
del_run_now(struct store *st, const char *account, uint64_t id)
{
	if (store_outbox_del(st, account, id) == -1 &&
	    store_errcode(st) != STORE_E_NOTFOUND)
		return -1;
	return 0;
}

/* A delivered entry is deleted (or not): deliver the next one. */
static void
del_finish(struct outbox *ob, const char *account, uint64_t id, int rc,
    const char *err)
{
	struct ob_account	*a = acct_find(ob, account);

	if (a != NULL && a->is_busy && a->busy_id == id)
		a->is_busy = false;
	if (rc == -1) {
		/* Delivered but still queued: it goes out twice, which the
		 * department sees as an SMSC retry. */
		log_warnx("event=outbox_delete_failed account=%s "
		    "outbox_id=%llu error=\"%s\" doing=outbox", account,
		    (unsigned long long)id, err);
		if (a != NULL)
			a->retry_ms = daemon_now_ms() + OUTBOX_RETRY_MS;
		return;
	}
	log_debug("event=outbox_delivered account=%s outbox_id=%llu",
	    account, (unsigned long long)id);
	if (a != NULL)
		outbox_next(ob, a);
}

/* On the writer thread. */
static int
del_run(struct store *st, void *arg)
{
	struct ob_put	*op = arg;

	return del_run_now(st, op->account, op->id);
}

/* Back on the loop. */
static void
del_done(void *arg, int rc)
{
	struct ob_put	*op = arg;

	if (op->ob != NULL) {
		LIST_REMOVE(op, entry);
		del_finish(op->ob, op->account, op->id, rc, op->job.err);
	}
	free(op);
}

/*
 * The department answered entry id of account. A delivered entry is
 * deleted on the writer's durable lane, as every other write: the account
 * stays busy (its next entry is not read) until the delete is done.
 */
void
outbox_done(struct outbox *ob, const char *account, uint64_t id,
    uint32_t status)
{
	struct store		*st = ob->d->store;
	struct ob_account	*a = acct_find(ob, account);
	struct ob_put		*op;
	int			 rc;

	if (status != SMPP_OK) {
		if (a != NULL && a->is_busy && a->busy_id == id)
			a->is_busy = false;
		log_info("event=outbox_retry account=%s outbox_id=%llu "
		    "status=0x%08x", account, (unsigned long long)id, status);
		if (a != NULL)
			a->retry_ms = daemon_now_ms() + OUTBOX_RETRY_MS;
		return;
	}
	if (ob->d->writer == NULL ||
	    (op = calloc(1, sizeof(*op))) == NULL) {
		rc = del_run_now(st, account, id);
		del_finish(ob, account, id, rc, store_errmsg(st));
		return;
	}
	str_copy(op->account, sizeof(op->account), account);
	op->id = id;
	op->ob = ob;
	op->job.run = del_run;
	op->job.done = del_done;
	op->job.arg = op;
	LIST_INSERT_HEAD(&ob->puts, op, entry);
	writer_durable(ob->d->writer, &op->job);
}

/* A put is durable (or failed): answer the SMSC, deliver what waits. */
static void
put_finish(struct outbox *ob, struct ob_put *op, int rc)
{
	struct ob_account	*a = acct_find(ob, op->account);

	if (a != NULL && a->nputs > 0)
		a->nputs--;
	if (rc == -1) {
		/* Full or failing: the SMSC keeps it and redelivers. */
		log_warnx("event=%s_deferred account=%s reason=outbox_%s "
		    "error=\"%s\" doing=outbox", op->what, op->account,
		    store_error_name(op->code), op->job.err);
		answer(&op->reply, SMPP_ESME_RX_T_APPN);
		if (a != NULL)
			outbox_next(ob, a);	/* clears has_outbox if empty */
		return;
	}
	answer(&op->reply, SMPP_OK);
	log_info("event=%s_kept account=%s outbox_id=%llu", op->what,
	    op->account, (unsigned long long)op->id);
	if (a != NULL) {
		a->has_outbox = true;
		outbox_next(ob, a);
	}
}

/* On the writer thread. */
static int
put_run(struct store *st, void *arg)
{
	struct ob_put	*op = arg;
	int		 rc;

	rc = store_outbox_put(st, op->account, op->raw, op->len, op->time,
	    op->max, &op->id);
	op->code = rc == -1 ? store_errcode(st) : STORE_E_OK;
	return rc;
}

/* Back on the loop. */
static void
put_done(void *arg, int rc)
{
	struct ob_put	*op = arg;

	if (op->ob != NULL) {
		LIST_REMOVE(op, entry);
		put_finish(op->ob, op, rc);
	}
	free(op);
}

void
outbox_deliver(struct outbox *ob, const char *account, const uint8_t *raw,
    size_t len, const struct upstream_reply *reply, const char *what)
{
	struct ob_account	*a = acct_find(ob, account);
	struct ob_put		*op;
	int			 rc;

	/* Older messages of the account still queued go first. */
	if ((a == NULL || !a->has_outbox) &&
	    delivery_to_account(ob->d, account, raw, len, reply) == 0)
		return;
	if ((op = malloc(sizeof(*op) + len)) == NULL) {
		log_warnx("event=%s_deferred account=%s reason=no_memory "
		    "doing=outbox", what, account);
		answer(reply, SMPP_ESME_RX_T_APPN);
		return;
	}
	memset(op, 0, sizeof(*op));
	op->reply = *reply;
	str_copy(op->account, sizeof(op->account), account);
	op->what = what;
	op->max = ob->d->cfg->retention.outbox_max;
	op->time = (int64_t)time(NULL);
	memcpy(op->raw, raw, len);
	op->len = len;
	if (a != NULL) {
		/* What comes next for the account queues behind it. */
		a->has_outbox = true;
		a->nputs++;
	}
	if (ob->d->writer == NULL) {
		rc = put_run(ob->d->store, op);
		if (rc == -1)
			snprintf(op->job.err, sizeof(op->job.err), "%s",
			    store_errmsg(ob->d->store));
		put_finish(ob, op, rc);
		free(op);
		return;
	}
	op->ob = ob;
	op->job.run = put_run;
	op->job.done = put_done;
	op->job.arg = op;
	LIST_INSERT_HEAD(&ob->puts, op, entry);
	writer_durable(ob->d->writer, &op->job);
}
