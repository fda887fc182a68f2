/*
 * The CLI's commands for several nodes (SPEC §8): `stopgate db migrate`
 * and the replication lines of `stopgate status`.
 */
#include "proxy/cli/cli_int.h"

#include <stdio.h>

#include "config/config.h"
#include "proxy/cluster/cluster.h"
#include "proxy/cluster/schema.h"

int
cli_cmd_db_migrate(struct cli_ctx *c)
{
	char err[512];

	if (!c->cfg->has_cluster) {
		fprintf(c->err, "stopgate: %s has no cluster: section, so "
		    "no database to migrate\n", c->args.config);
		return 1;
	}
	if (c->cfg->cluster.postgres == NULL) {
		fprintf(c->err, "stopgate: cannot read the cluster's "
		    "postgres conninfo\n");
		return 1;
	}
	if (cluster_migrate(c->cfg->cluster.postgres, c->out, err,
	    sizeof(err)) == -1) {
		fprintf(c->err, "stopgate: db migrate: %s\n", err);
		return 1;
	}
	return 0;
}

int
cli_cluster_status(struct cli_ctx *c)
{
	if (!c->cfg->has_cluster || c->format != CLI_FORMAT_TEXT)
		return 0;
	if (cluster_status_print(c->out, c->st, c->cfg->cluster.node,
	    c->cfg->cluster.postgres) == -1)
		return cli_fail_store(c);
	return 0;
}
