/*
 * GET /metrics: the daemon's counters and gauges in the Prometheus text
 * exposition format 0.0.4. What only the daemon's loop may read is copied
 * there (admin_figures_take, through admin_call_run); the store is read
 * with the admin thread's own handle.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/admin/admin.h"
#include "proxy/admin/admin_cluster.h"
#include "proxy/admin/admin_int.h"
#include "proxy/daemon/attrib.h"
#include "proxy/daemon/daemon.h"
#include "proxy/daemon/session.h"
#include "proxy/daemon/upstream.h"
#include "proxy/daemon/writer.h"
#include "store/store.h"

/* The per-upstream values /metrics shows. */
enum pool_metric {
	PM_BOUND = 0,
	PM_CONNS_BOUND,
	PM_CONNS,
	PM_IN_FLIGHT,
	PM_SUBMITS,
	PM_RESPS_OK,
	PM_RESPS_ERR,
	PM_TIMEOUTS,
	PM_FAILS,
	PM_RECONNECTS,
	PM_BIND_FAILURES,
	PM_DELIVERS,
};

static const struct {
	const char	*name, *type, *help;
	enum pool_metric m;
} pool_metrics[] = {
	{ "stopgate_upstream_bound", "gauge", "1 if the upstream has a "
	    "bound transmit-capable connection.", PM_BOUND },
	{ "stopgate_upstream_connections_bound", "gauge",
	    "Upstream connections bound now.", PM_CONNS_BOUND },
	{ "stopgate_upstream_connections", "gauge",
	    "Upstream connections configured.", PM_CONNS },
	{ "stopgate_upstream_in_flight", "gauge",
	    "Requests awaiting an SMSC response.", PM_IN_FLIGHT },
	{ "stopgate_upstream_submits_total", "counter",
	    "Requests written to the SMSC.", PM_SUBMITS },
	{ "stopgate_upstream_responses_ok_total", "counter",
	    "SMSC responses with command_status 0.", PM_RESPS_OK },
	{ "stopgate_upstream_responses_error_total", "counter",
	    "SMSC responses with another command_status.", PM_RESPS_ERR },
	{ "stopgate_upstream_timeouts_total", "counter",
	    "Response and enquire_link timeouts.", PM_TIMEOUTS },
	{ "stopgate_upstream_failed_total", "counter",
	    "Requests failed back to senders (no SMSC answer).", PM_FAILS },
	{ "stopgate_upstream_reconnects_total", "counter",
	    "Upstream reconnects.", PM_RECONNECTS },
	{ "stopgate_upstream_bind_failures_total", "counter",
	    "Upstream binds refused or unanswered.", PM_BIND_FAILURES },
	{ "stopgate_upstream_delivers_total", "counter",
	    "deliver_sm / data_sm received from the SMSC.", PM_DELIVERS },
};

/* A label value, escaped as the exposition format asks. */
static void
prom_label(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
prom_head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_one(FILE *fp, const char *name, const char *type, const char *help,
    uint64_t v)
{
	prom_head(fp, name, type, help);
	fprintf(fp, "%s %" PRIu64 "\n", name, v);
}

static uint64_t
pool_metric_value(const struct admin_pool_fig *p, enum pool_metric m)
{
	const struct upstream_stats *st = &p->st;

	switch (m) {
	case PM_BOUND:
		return p->is_bound ? 1 : 0;
	case PM_CONNS_BOUND:
		return st->bound;
	case PM_CONNS:
		return st->connections;
	case PM_IN_FLIGHT:
		return st->in_flight;
	case PM_SUBMITS:
		return st->submits_sent;
	case PM_RESPS_OK:
		return st->resps_ok;
	case PM_RESPS_ERR:
		return st->resps_err;
	case PM_TIMEOUTS:
		return st->timeouts;
	case PM_FAILS:
		return st->fails;
	case PM_RECONNECTS:
		return st->reconnects;
	case PM_BIND_FAILURES:
		return st->bind_failures;
	case PM_DELIVERS:
		return st->delivers;
	}
	return 0;
}

/* Every per-upstream metric, with an upstream label per pool. */
static void
metrics_pools(FILE *fp, const struct admin_figures *fig)
{
	size_t	 i, k;

	for (k = 0; k < sizeof(pool_metrics) / sizeof(pool_metrics[0]); k++) {
		prom_head(fp, pool_metrics[k].name, pool_metrics[k].type,
		    pool_metrics[k].help);
		for (i = 0; i < fig->npools; i++) {
			fprintf(fp, "%s{upstream=", pool_metrics[k].name);
			prom_label(fp, fig->pools[i].name);
			fprintf(fp, "} %" PRIu64 "\n",
			    pool_metric_value(&fig->pools[i],
			    pool_metrics[k].m));
		}
	}
}

/* One metric without labels and its value now. */
struct prom_metric {
	const char	*name, *type, *help;
	uint64_t	 v;
};

#define NMETRICS(a)	(sizeof(a) / sizeof((a)[0]))

static void
prom_list(FILE *fp, const struct prom_metric *m, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		prom_one(fp, m[i].name, m[i].type, m[i].help, m[i].v);
}

/* Department sessions, the bound ones per account, and the submits. */
static void
metrics_sessions(FILE *fp, const struct admin_figures *fig)
{
	const struct prom_metric m[] = {
		{ "stopgate_submits_forwarded_total", "counter",
		    "Department requests forwarded to an upstream.",
		    fig->counters.submits_forwarded },
		{ "stopgate_submits_rejected_optout_total", "counter",
		    "Destinations refused because the number opted out.",
		    fig->counters.submits_rejected_optout },
		{ "stopgate_submits_store_error_total", "counter",
		    "Destinations refused because the store could not be "
		    "read.", fig->counters.submits_store_error },
		{ "stopgate_submits_rejected_frequency_total", "counter",
		    "Destinations refused over a frequency cap.",
		    fig->counters.submits_rejected_frequency },
		{ "stopgate_submits_rejected_quiet_hours_total", "counter",
		    "Destinations refused inside the recipient's quiet hours.",
		    fig->counters.submits_rejected_quiet },
	};
	size_t		 i;

	prom_one(fp, "stopgate_sessions", "gauge",
	    "Department sessions open.", fig->nsessions);
	prom_head(fp, "stopgate_account_sessions_bound", "gauge",
	    "Bound department sessions per account.");
	for (i = 0; i < fig->naccounts; i++) {
		fprintf(fp, "stopgate_account_sessions_bound{account=");
		prom_label(fp, fig->accounts[i].system_id);
		fprintf(fp, "} %zu\n", fig->accounts[i].bound);
	}
	prom_list(fp, m, NMETRICS(m));
}

/* What the SMPP port's limits did to peers (SPEC §7). */
static void
metrics_limits(FILE *fp, const struct admin_figures *fig)
{
	const struct prom_metric m[] = {
		{ "stopgate_binds_refused_total", "counter",
		    "Binds refused: unknown system_id, wrong password or an "
		    "over-long field.", fig->counters.binds_refused },
		{ "stopgate_binds_throttled_total", "counter",
		    "Bind attempts held by the failed-bind throttle.",
		    fig->counters.binds_throttled },
		{ "stopgate_unbound_evicted_total", "counter",
		    "Connections that had not bound, closed to make room.",
		    fig->counters.unbound_evicted },
		{ "stopgate_unbound_refused_total", "counter",
		    "Connections refused: no room for another unbound one.",
		    fig->counters.unbound_refused },
		{ "stopgate_bad_pdu_closed_total", "counter",
		    "Connections closed for malformed PDUs before bind.",
		    fig->counters.bad_pdu_closed },
		{ "stopgate_log_suppressed_total", "counter",
		    "Log lines a peer caused that were counted in a summary "
		    "instead.", fig->peer_log_suppressed },
	};

	prom_list(fp, m, NMETRICS(m));
}

/* The sizes of a store that could be read. */
static void
metrics_store_info(FILE *fp, const struct store_info *info)
{
	const struct prom_metric m[] = {
		{ "stopgate_store_map_size_bytes", "gauge",
		    "LMDB map size.", info->map_size },
		{ "stopgate_store_map_used_bytes", "gauge",
		    "LMDB map bytes in use.", info->map_used },
		{ "stopgate_optout_events_total", "counter",
		    "Opt-out and opt-in events recorded (last event id).",
		    info->last_event_id },
		{ "stopgate_store_state_entries", "gauge",
		    "Current opt-out state entries.", info->state },
		{ "stopgate_store_events", "gauge",
		    "Events kept in the history.", info->events },
		{ "stopgate_store_audit_records", "gauge",
		    "Rejected-send audit records kept.", info->audit },
		{ "stopgate_review_open", "gauge",
		    "Review items waiting for a person.", info->review_open },
		{ "stopgate_outbox_entries", "gauge",
		    "MOs and receipts waiting for a receiver.", info->outbox },
		{ "stopgate_receipt_map_entries", "gauge",
		    "Receipt routing entries.", info->msgmap },
		{ "stopgate_lookup_grow_moved", "gauge",
		    "Slots moved by a growth of the lookup tables under way.",
		    info->lookup_grow_moved },
		{ "stopgate_lookup_grow_total", "gauge",
		    "Slots to move in that growth (0: none under way).",
		    info->lookup_grow_total },
	};

	prom_list(fp, m, NMETRICS(m));
}

/* Whether the store could be read, and its sizes when it could. */
static void
metrics_store(FILE *fp, struct store *st)
{
	struct store_info	 info;
	bool			 is_ok;

	is_ok = store_info(st, &info) == 0;
	prom_one(fp, "stopgate_store_up", "gauge",
	    "1 if the opt-out store could be read.", is_ok ? 1 : 0);
	if (is_ok)
		metrics_store_info(fp, &info);
}

/* The counters of a store writer that runs, with pending records queued. */
static void
metrics_writer_counters(FILE *fp, const struct writer_counters *wc,
    uint64_t pending)
{
	const struct prom_metric m[] = {
		{ "stopgate_writer_batches_total", "counter",
		    "Store writer transactions (audit, receipt map, "
		    "attribution).", wc->batches },
		{ "stopgate_writer_records_total", "counter",
		    "Records committed by the store writer.", wc->records },
		{ "stopgate_writer_failed_total", "counter",
		    "Records lost: a commit failed and the retry store was "
		    "full.", wc->failed },
		{ "stopgate_writer_retries_total", "counter",
		    "Failed store writer commits whose records were kept "
		    "for a retry.", wc->retries },
		{ "stopgate_writer_bad_total", "counter",
		    "Records the store refused as malformed.", wc->bad },
		{ "stopgate_writer_waits_total", "counter",
		    "Times the event loop waited for a full writer queue.",
		    wc->waits },
		{ "stopgate_writer_pending", "gauge",
		    "Records queued for the store writer.", pending },
		{ "stopgate_sentlog_merged_total", "counter",
		    "Attribution records merged into the last-sent table.",
		    wc->merged },
		{ "stopgate_audit_indexed_total", "counter",
		    "Audit records indexed by number.", wc->indexed },
	};

	prom_list(fp, m, NMETRICS(m));
}

/* The in-memory attribution index (one that exists). */
static void
metrics_attrib(FILE *fp, const struct admin_figures *fig)
{
	const struct prom_metric m[] = {
		{ "stopgate_attrib_entries", "gauge",
		    "Sends not yet merged, indexed in memory.",
		    fig->attrib_count },
		{ "stopgate_attrib_bytes", "gauge",
		    "Memory held by that index.", fig->attrib_bytes },
		{ "stopgate_attrib_dropped_total", "counter",
		    "Unmerged sends dropped from a full index (attributed "
		    "once merged).", fig->counters.attrib_dropped },
	};

	prom_list(fp, m, NMETRICS(m));
}

/* The admin API's own counters. */
static void
metrics_admin(FILE *fp, struct admin *a, const struct admin_figures *fig)
{
	const struct prom_metric m[] = {
		{ "stopgate_config_reloads_total", "counter",
		    "Configurations swapped in by SIGHUP.", fig->cfg_gen },
		{ "stopgate_admin_requests_total", "counter",
		    "Admin API requests answered.",
		    atomic_load(&a->requests) },
		{ "stopgate_admin_unauthorized_total", "counter",
		    "Admin API requests refused for a missing or wrong token.",
		    atomic_load(&a->unauthorized) },
		{ "stopgate_admin_auth_failures_total", "counter",
		    "Admin API bearer tokens given and found wrong.",
		    atomic_load(&a->auth_failures) },
	};

	prom_list(fp, m, NMETRICS(m));
}

void
admin_h_metrics(struct areq *r)
{
	struct admin_call	 c;

	memset(&c, 0, sizeof(c));
	c.kind = ADMIN_CALL_FIGURES;
	if (admin_call_run(r->a, &c) == -1) {
		admin_fail(r, 503, "the proxy's event loop did not answer in "
		    "time");
		return;
	}
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	metrics_sessions(r->fp, &c.fig);
	metrics_limits(r->fp, &c.fig);
	metrics_pools(r->fp, &c.fig);
	metrics_store(r->fp, r->st);
	if (c.fig.has_writer)
		metrics_writer_counters(r->fp, &c.fig.wc,
		    c.fig.writer_pending);
	if (c.fig.has_attrib)
		metrics_attrib(r->fp, &c.fig);
	metrics_admin(r->fp, r->a, &c.fig);
	admin_cluster_metrics(r->fp, &c.fig);
	r->code = 200;
	admin_figures_clear(&c.fig);
}

/* --- on the daemon's thread ---------------------------------------------- */

/* The bound sessions of each account of d's config. */
static void
figures_accounts(struct daemon *d, struct admin_figures *fig)
{
	struct session	*s;
	size_t		 i;

	if (d->cfg == NULL || d->cfg->naccounts == 0 ||
	    (fig->accounts = calloc(d->cfg->naccounts,
	    sizeof(*fig->accounts))) == NULL)
		return;
	fig->naccounts = d->cfg->naccounts;
	for (i = 0; i < d->cfg->naccounts; i++)
		snprintf(fig->accounts[i].system_id,
		    sizeof(fig->accounts[i].system_id), "%s",
		    d->cfg->accounts[i].system_id);
	/* One walk of the sessions, an account lookup each. */
	for (s = TAILQ_FIRST(&d->sessions); s != NULL; s = session_next(s)) {
		if (session_state(s) != SESSION_BOUND)
			continue;
		for (i = 0; i < fig->naccounts; i++)
			if (strcmp(session_system_id(s),
			    fig->accounts[i].system_id) == 0) {
				fig->accounts[i].bound++;
				break;
			}
	}
}

void
admin_figures_take(struct daemon *d, struct admin_figures *fig)
{
	size_t	 i;

	memset(fig, 0, sizeof(*fig));
	fig->nsessions = d->nsessions;
	fig->counters = d->counters;
	fig->peer_log_suppressed = d->peer_log.suppressed_total;
	fig->cfg_gen = d->cfg_gen;
	if (d->npools > 0 &&
	    (fig->pools = calloc(d->npools, sizeof(*fig->pools))) != NULL)
		for (i = 0; i < d->npools; i++) {
			if (d->pools[i] == NULL)
				continue;
			snprintf(fig->pools[fig->npools].name,
			    sizeof(fig->pools[fig->npools].name), "%s",
			    upstream_pool_name(d->pools[i]));
			fig->pools[fig->npools].is_bound =
			    upstream_pool_is_bound(d->pools[i]);
			upstream_pool_stats(d->pools[i],
			    &fig->pools[fig->npools].st);
			fig->npools++;
		}
	figures_accounts(d, fig);
	if ((fig->has_writer = d->writer != NULL)) {
		writer_counters(d->writer, &fig->wc);
		writer_health(d->writer, &fig->wh);
		fig->writer_pending = writer_pending(d->writer);
	}
	if ((fig->has_attrib = d->attrib != NULL)) {
		fig->attrib_count = attrib_count(d->attrib);
		fig->attrib_bytes = attrib_bytes(d->attrib);
	}
	if ((fig->has_cluster = d->cluster != NULL))
		cluster_stats(d->cluster, &fig->cl);
}

void
admin_figures_clear(struct admin_figures *fig)
{
	free(fig->pools);
	free(fig->accounts);
	fig->pools = NULL;
	fig->accounts = NULL;
	fig->npools = fig->naccounts = 0;
}
