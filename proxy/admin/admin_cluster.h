/*
 * What the admin API shows of the cluster threads (SPEC §8): the /metrics
 * lines and the /healthz verdict, from figures copied on the daemon's
 * loop (struct admin_figures: has_cluster, cl).
 */
#ifndef PROXY_ADMIN_ADMIN_CLUSTER_H
#define PROXY_ADMIN_ADMIN_CLUSTER_H

#include <stdio.h>

#include "proxy/admin/admin_int.h"

/* The stopgate_cluster_* metrics; nothing without a cluster. */
void admin_cluster_metrics(FILE *fp, const struct admin_figures *fig);

/*
 * The "cluster" member of /healthz ({"cluster":{...}} after a comma).
 * Returns false when the node is unsure (the answer is then 503), true
 * when it is sure or has no cluster.
 */
bool admin_cluster_health(FILE *fp, const struct admin_figures *fig);

#endif /* PROXY_ADMIN_ADMIN_CLUSTER_H */
