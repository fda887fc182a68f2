/*
 * A number's subscriber preferences for staff. See freqstat.h.
 */
#include "proxy/compliance/freqstat.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "proxy/policy/freq.h"
#include "store/freq.h"

int
freqstat_get(struct store *st, const struct config *cfg, const char *number,
    size_t cat, int64_t now, struct freqstat *out)
{
	const struct config_frequency	*f;
	struct store_less		 l;
	int64_t				*times;
	size_t				 n = 0;
	int				 r;

	memset(out, 0, sizeof(*out));
	if (cat >= cfg->ncategories ||
	    (f = config_frequency_find(cfg, cat)) == NULL)
		return 0;
	out->has_cap = true;
	r = store_less_get(st, number, cfg->categories[cat].name, &l);
	if (r == -1)
		return -1;
	if (r == 1) {
		out->is_less = true;
		out->less_since = l.since;
		out->less_event = l.event_id;
	}
	freq_rule(f, out->is_less, &out->max, &out->per_s);
	if ((times = calloc(STORE_FREQ_KEEP_MAX, sizeof(*times))) == NULL)
		return -1;
	if (store_freq_get(st, number, cfg->categories[cat].name, times,
	    STORE_FREQ_KEEP_MAX, &n) == -1) {
		free(times);
		return -1;
	}
	out->sent = (unsigned)freq_count_in(times, n, now, out->per_s);
	out->left = out->sent >= out->max ? 0 : out->max - out->sent;
	free(times);
	return 0;
}

int
freqstat_category(struct store *st, const struct config *cfg,
    const char *number, const char *category, int64_t now,
    struct freqstat *out)
{
	int	 cat;

	memset(out, 0, sizeof(*out));
	if ((cat = config_category_find(cfg, category)) < 0)
		return 0;
	return freqstat_get(st, cfg, number, (size_t)cat, now, out);
}
