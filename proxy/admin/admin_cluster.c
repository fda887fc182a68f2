/*
 * proxy/admin/admin_cluster: /metrics and /healthz for several nodes.
 */
#include "proxy/admin/admin_cluster.h"

#include <inttypes.h>

#include "proxy/compliance/jsonout.h"

static void
gauge(FILE *fp, const char *name, const char *type, const char *help,
    const char *node, double v)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n%s{node=\"%s\"} %.17g\n",
	    name, help, name, type, name, node, v);
}

void
admin_cluster_metrics(FILE *fp, const struct admin_figures *fig)
{
	const struct cluster_stats *c = &fig->cl;

	if (!fig->has_cluster)
		return;
	/* Never caught up yet: as far behind as can be said, +Inf. */
	if (c->lag_s < 0)
		fprintf(fp, "# HELP stopgate_cluster_lag_seconds Time since "
		    "this node last showed it had every fleet event.\n"
		    "# TYPE stopgate_cluster_lag_seconds gauge\n"
		    "stopgate_cluster_lag_seconds{node=\"%s\"} +Inf\n",
		    c->node);
	else
		gauge(fp, "stopgate_cluster_lag_seconds", "gauge", "Time "
		    "since this node last showed it had every fleet event.",
		    c->node, c->lag_s);
	gauge(fp, "stopgate_cluster_sure", "gauge", "1 while the node is "
	    "caught up within max_lag_ms, 0 while it refuses sends.",
	    c->node, c->is_sure);
	gauge(fp, "stopgate_cluster_connected", "gauge", "1 while the node "
	    "has a PostgreSQL connection.", c->node, c->is_connected);
	gauge(fp, "stopgate_cluster_journal_depth", "gauge", "Local events "
	    "not shipped to PostgreSQL yet.", c->node,
	    (double)c->journal_depth);
	gauge(fp, "stopgate_cluster_applied_seq", "gauge", "Fleet sequence "
	    "applied to this node's store.", c->node,
	    (double)c->applied_seq);
	gauge(fp, "stopgate_cluster_fleet_seq", "gauge", "Newest fleet "
	    "sequence this node heard of.", c->node, (double)c->fleet_seq);
	gauge(fp, "stopgate_cluster_events_shipped_total", "counter",
	    "Journal rows PostgreSQL took from this node.", c->node,
	    (double)c->shipped_total);
	gauge(fp, "stopgate_cluster_events_applied_total", "counter",
	    "Other nodes' events applied to this node's store.", c->node,
	    (double)c->applied_total);
	gauge(fp, "stopgate_cluster_connects_total", "counter",
	    "PostgreSQL connections made.", c->node,
	    (double)c->reconnects_total);
	gauge(fp, "stopgate_cluster_outbox_moved_total", "counter",
	    "Shared outbox entries moved to or from PostgreSQL.", c->node,
	    (double)c->outbox_moved_total);
	gauge(fp, "stopgate_cluster_refused_total", "counter",
	    "Sends refused with ESME_RTHROTTLED while unsure.", c->node,
	    (double)c->refused_total);
}

bool
admin_cluster_health(FILE *fp, const struct admin_figures *fig)
{
	const struct cluster_stats *c = &fig->cl;

	if (!fig->has_cluster)
		return true;
	fprintf(fp, ",\"cluster\":{");
	jsonout_kv_str(fp, "node", c->node, false);
	fprintf(fp, ",\"sure\":%s,\"connected\":%s,\"applied_seq\":%" PRIu64
	    ",\"journal_depth\":%" PRIu64, c->is_sure ? "true" : "false",
	    c->is_connected ? "true" : "false", c->applied_seq,
	    c->journal_depth);
	if (c->lag_s >= 0)
		fprintf(fp, ",\"lag_s\":%.3f", c->lag_s);
	if (!c->is_sure)
		jsonout_kv_str(fp, "reason", c->reason, true);
	fputc('}', fp);
	return c->is_sure;
}
