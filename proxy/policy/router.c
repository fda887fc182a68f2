/*
 * Outbound routing: first match wins.
 */
#include "proxy/policy/router.h"

#include <string.h>

int
router_pick(const struct config *cfg, size_t account, size_t category,
    const char *destination)
{
	const struct config_route	*r;
	size_t				 i, plen;

	for (i = 0; i < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		if (r->has_category && r->category != category)
			continue;
		if (r->has_account && r->account != account)
			continue;
		plen = strlen(r->destination_prefix);
		if (plen > 0 && (destination == NULL ||
		    strncmp(destination, r->destination_prefix, plen) != 0))
			continue;
		if (r->upstream >= cfg->nupstreams)
			continue;	/* config_load forbids it; be safe */
		return (int)r->upstream;
	}
	return -1;
}
