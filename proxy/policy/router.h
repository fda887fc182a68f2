/*
 * Outbound routing (SPEC §2 `routes`): the first route whose every given
 * match key (category, account, destination_prefix) fits the message names
 * the upstream. Pure function over the config; no state.
 */
#ifndef PROXY_POLICY_ROUTER_H
#define PROXY_POLICY_ROUTER_H

#include <stddef.h>

#include "config/config.h"

/*
 * The upstream index (into cfg->upstreams) for a message of category index
 * category from account index account to the normalised destination
 * (may be NULL or "" when the message has none, e.g. query_sm: then a
 * route with a destination_prefix does not match). cfg is borrowed.
 * Returns the index, or -1 when no route matches.
 */
int router_pick(const struct config *cfg, size_t account, size_t category,
    const char *destination);

#endif /* PROXY_POLICY_ROUTER_H */
