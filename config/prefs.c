/*
 * Subscriber preference keys (SPEC §9): frequency caps, quiet hours and
 * the recipients' time zones. See prefs.h.
 *
 * A zone is checked against the system's tzdata files, not by asking the
 * C library: glibc takes an unknown TZ for UTC without a word, and a
 * misspelt zone would quietly move every quiet window by hours.
 */
#include "config/config_int.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PREFS_DAY_S	(24 * 60 * 60)
/* Longest window of a cap: a year and a day. */
#define PREFS_PER_MAX_S	(366 * PREFS_DAY_S)

void
config_prefs_frequency(struct loader *L, const struct config_node *v,
    void *obj)
{
	(void)L;
	((struct config *)obj)->prefs.src_frequency = v;
}

void
config_prefs_quiet(struct loader *L, const struct config_node *v, void *obj)
{
	(void)L;
	((struct config *)obj)->prefs.src_quiet = v;
}

void
config_prefs_timezones(struct loader *L, const struct config_node *v,
    void *obj)
{
	(void)L;
	((struct config *)obj)->prefs.src_timezones = v;
}

void
config_prefs_free(struct config_prefs *p)
{
	free(p->frequency);
	free(p->quiet);
	free(p->tz_prefixes);
	p->frequency = NULL;
	p->quiet = NULL;
	p->tz_prefixes = NULL;
}

int64_t
config_duration_parse(const char *s)
{
	int64_t	 v = 0, unit;
	size_t	 i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > PREFS_PER_MAX_S)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || s[i] == '\0' || s[i + 1] != '\0')
		return -1;
	switch (s[i]) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = PREFS_DAY_S;
		break;
	default:
		return -1;
	}
	if (v == 0 || v > PREFS_PER_MAX_S / unit)
		return -1;
	return v * unit;
}

int
config_hhmm_parse(const char *s, unsigned *out)
{
	unsigned	 h, m;

	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '9' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	*out = h * 60 + m;
	return 0;
}

bool
config_zone_exists(const char *zone)
{
	const char	*dir = getenv("TZDIR");
	char		 path[512], magic[4];
	struct stat	 sb;
	size_t		 i, n = strlen(zone);
	int		 fd, len;
	bool		 ok;

	if (n == 0 || n >= CONFIG_ZONE_MAX || zone[0] == '/' ||
	    strstr(zone, "..") != NULL)
		return false;
	for (i = 0; i < n; i++)
		if (!((zone[i] >= 'A' && zone[i] <= 'Z') ||
		    (zone[i] >= 'a' && zone[i] <= 'z') ||
		    (zone[i] >= '0' && zone[i] <= '9') || zone[i] == '/' ||
		    zone[i] == '_' || zone[i] == '-' || zone[i] == '+'))
			return false;
	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	len = snprintf(path, sizeof(path), "%s/%s", dir, zone);
	if (len < 0 || (size_t)len >= sizeof(path))
		return false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

/* Report keys of map not in names (NULL-terminated). false if not a map. */
static bool
pmap_keys(struct loader *L, const struct config_node *map,
    const char *const *names, const char *what)
{
	size_t	 i, j;
	bool	 known;

	if (map->type != CONFIG_NODE_MAP) {
		config_loader_err(L, map, "%s must be a mapping", what);
		return false;
	}
	for (i = 0; i + 1 < map->n; i += 2) {
		known = false;
		for (j = 0; names[j] != NULL; j++)
			if (map->items[i]->type == CONFIG_NODE_SCALAR &&
			    strcmp(map->items[i]->str, names[j]) == 0)
				known = true;
		if (!known)
			config_loader_err(L, map->items[i],
			    "unknown key '%.60s' in %s",
			    map->items[i]->type == CONFIG_NODE_SCALAR ?
			    map->items[i]->str : "?", what);
		for (j = 0; j < i; j += 2)
			if (map->items[i]->type == CONFIG_NODE_SCALAR &&
			    map->items[j]->type == CONFIG_NODE_SCALAR &&
			    strcmp(map->items[i]->str, map->items[j]->str) ==
			    0)
				config_loader_err(L, map->items[i],
				    "duplicate key '%s' in %s",
				    map->items[i]->str, what);
	}
	return true;
}

/* A scalar's text, else NULL after reporting. */
static const char *
pscalar(struct loader *L, const struct config_node *v, const char *name)
{
	if (v == NULL)
		return NULL;
	if (v->type != CONFIG_NODE_SCALAR || v->len == 0 ||
	    strlen(v->str) != v->len) {
		config_loader_err(L, v, "'%s' must be a non-empty string",
		    name);
		return NULL;
	}
	return v->str;
}

/* The category named by key "category" of entry it; -1 if bad. */
static int
pcategory(struct loader *L, const struct config *cfg,
    const struct config_node *it, const char *what)
{
	const struct config_node	*v = config_map_get(it, "category");
	const char			*s;
	int				 c;

	if (v == NULL) {
		config_loader_err(L, it, "missing required key 'category' in "
		    "%s", what);
		return -1;
	}
	if ((s = pscalar(L, v, "category")) == NULL)
		return -1;
	if ((c = config_category_find(cfg, s)) < 0) {
		/* No categories at all is reported where they are. */
		if (cfg->ncategories > 0)
			config_loader_err(L, v, "unknown category '%.40s' in "
			    "%s", s, what);
		return -1;
	}
	return c;
}

/* max (1..CONFIG_FREQ_SENDS_MAX) and per of a cap mapping. */
static int
pcap(struct loader *L, const struct config_node *map, const char *what,
    unsigned *max, int64_t *per)
{
	const struct config_node	*vm = config_map_get(map, "max");
	const struct config_node	*vp = config_map_get(map, "per");
	const char			*s;
	char				*end;
	unsigned long			 n;
	int				 rc = 0;

	if (vm == NULL || vp == NULL) {
		config_loader_err(L, map, "%s needs both 'max' and 'per'",
		    what);
		return -1;
	}
	if ((s = pscalar(L, vm, "max")) == NULL)
		rc = -1;
	else {
		n = strtoul(s, &end, 10);
		if (*end != '\0' || s[0] < '0' || s[0] > '9' || n < 1 ||
		    n > CONFIG_FREQ_SENDS_MAX) {
			config_loader_err(L, vm, "'max' must be a whole number "
			    "from 1 to %d", CONFIG_FREQ_SENDS_MAX);
			rc = -1;
		} else
			*max = (unsigned)n;
	}
	if ((s = pscalar(L, vp, "per")) == NULL)
		rc = -1;
	else if ((*per = config_duration_parse(s)) < 0) {
		config_loader_err(L, vp, "'per' must be a duration such as "
		    "30m, 12h or 7d (s, m, h, d; at most 366d), not '%.40s'",
		    s);
		rc = -1;
	}
	return rc;
}

static void
load_frequency_entry(struct loader *L, struct config *cfg,
    const struct config_node *it, struct config_frequency *f)
{
	static const char *const keys[] = { "category", "max", "per", "less",
	    NULL };
	static const char *const less_keys[] = { "max", "per", NULL };
	const struct config_node	*lv;
	int				 c;
	size_t				 j;

	if (!pmap_keys(L, it, keys, "a frequency entry"))
		return;
	c = pcategory(L, cfg, it, "a frequency entry");
	if (pcap(L, it, "a frequency entry", &f->max, &f->per_s) == -1 ||
	    c < 0)
		return;
	for (j = 0; j < cfg->prefs.nfrequency; j++)
		if (cfg->prefs.frequency[j].category == (size_t)c) {
			config_loader_err(L, config_map_get(it, "category"),
			    "category '%s' has two frequency rules",
			    cfg->categories[c].name);
			return;
		}
	f->category = (size_t)c;
	if ((lv = config_map_get(it, "less")) != NULL) {
		if (!pmap_keys(L, lv, less_keys, "less") ||
		    pcap(L, lv, "less", &f->less_max, &f->less_per_s) == -1)
			return;
		/* Fewer sends over a window at least as long: the ring of
		 * the plain cap then answers both. */
		if (f->less_max > f->max || f->less_per_s < f->per_s ||
		    (f->less_max == f->max && f->less_per_s == f->per_s)) {
			config_loader_err(L, lv, "'less' must be stricter than "
			    "the plain cap (max at most %u, per at least the "
			    "plain per, not both equal)", f->max);
			return;
		}
		f->has_less = true;
	}
	cfg->prefs.nfrequency++;
}

static void
load_frequency(struct loader *L, struct config *cfg,
    const struct config_node *sec)
{
	size_t	 i;

	if (sec->type != CONFIG_NODE_SEQ) {
		config_loader_err(L, sec, "'frequency' must be a list");
		return;
	}
	if (sec->n == 0)
		return;
	if ((cfg->prefs.frequency = config_calloc(sec->n,
	    sizeof(*cfg->prefs.frequency))) == NULL) {
		config_loader_err(L, sec, "out of memory");
		return;
	}
	for (i = 0; i < sec->n; i++)
		load_frequency_entry(L, cfg, sec->items[i],
		    &cfg->prefs.frequency[cfg->prefs.nfrequency]);
}

static void
load_quiet_entry(struct loader *L, struct config *cfg,
    const struct config_node *it, struct config_quiet *q)
{
	static const char *const keys[] = { "category", "from", "to", NULL };
	const struct config_node	*vf, *vt;
	const char			*s;
	size_t				 j;
	int				 c, rc = 0;

	if (!pmap_keys(L, it, keys, "a quiet_hours entry"))
		return;
	c = pcategory(L, cfg, it, "a quiet_hours entry");
	vf = config_map_get(it, "from");
	vt = config_map_get(it, "to");
	if (vf == NULL || vt == NULL) {
		config_loader_err(L, it, "a quiet_hours entry needs both "
		    "'from' and 'to' (\"HH:MM\")");
		return;
	}
	if ((s = pscalar(L, vf, "from")) == NULL ||
	    config_hhmm_parse(s, &q->from_min) == -1) {
		config_loader_err(L, vf, "'from' must be a time \"HH:MM\" "
		    "(00:00 to 23:59)");
		rc = -1;
	}
	if ((s = pscalar(L, vt, "to")) == NULL ||
	    config_hhmm_parse(s, &q->to_min) == -1) {
		config_loader_err(L, vt, "'to' must be a time \"HH:MM\" "
		    "(00:00 to 23:59)");
		rc = -1;
	}
	if (rc == -1 || c < 0)
		return;
	if (q->from_min == q->to_min) {
		config_loader_err(L, vt, "'from' and 'to' are the same time: "
		    "an empty (or a whole day's) window");
		return;
	}
	for (j = 0; j < cfg->prefs.nquiet; j++)
		if (cfg->prefs.quiet[j].category == (size_t)c) {
			config_loader_err(L, config_map_get(it, "category"),
			    "category '%s' has two quiet_hours entries",
			    cfg->categories[c].name);
			return;
		}
	q->category = (size_t)c;
	cfg->prefs.nquiet++;
}

static void
load_quiet(struct loader *L, struct config *cfg,
    const struct config_node *sec)
{
	size_t	 i;

	if (sec->type != CONFIG_NODE_SEQ) {
		config_loader_err(L, sec, "'quiet_hours' must be a list");
		return;
	}
	if (sec->n == 0)
		return;
	cfg->prefs.quiet = config_calloc(sec->n, sizeof(*cfg->prefs.quiet));
	if (cfg->prefs.quiet == NULL) {
		config_loader_err(L, sec, "out of memory");
		return;
	}
	for (i = 0; i < sec->n; i++)
		load_quiet_entry(L, cfg, sec->items[i],
		    &cfg->prefs.quiet[cfg->prefs.nquiet]);
}

/* A zone value: copied into out (CONFIG_ZONE_MAX) or reported. */
static int
pzone(struct loader *L, const struct config_node *v, char *out)
{
	const char	*s;

	if ((s = pscalar(L, v, "zone")) == NULL)
		return -1;
	if (!config_zone_exists(s)) {
		config_loader_err(L, v, "unknown time zone '%.60s' (not in the "
		    "system's tzdata; e.g. America/New_York)", s);
		return -1;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static void
load_prefixes(struct loader *L, struct config *cfg,
    const struct config_node *pv)
{
	struct config_tz_prefix	*tp;
	const struct config_node *k;
	size_t			 i, j, n;

	if (pv->type != CONFIG_NODE_MAP) {
		config_loader_err(L, pv, "'prefixes' must be a mapping of "
		    "E.164 prefixes to zones");
		return;
	}
	if (pv->n == 0 || (cfg->prefs.tz_prefixes = config_calloc(pv->n / 2,
	    sizeof(*tp))) == NULL)
		return;
	for (i = 0; i + 1 < pv->n; i += 2) {
		k = pv->items[i];
		tp = &cfg->prefs.tz_prefixes[cfg->prefs.ntz_prefixes];
		n = k->type == CONFIG_NODE_SCALAR ? strlen(k->str) : 0;
		if (n == 0 || n > 15 || strspn(k->str, "0123456789") != n) {
			config_loader_err(L, k, "a prefix must be 1 to 15 "
			    "digits of an E.164 number");
			continue;
		}
		for (j = 0; j < cfg->prefs.ntz_prefixes; j++)
			if (strcmp(cfg->prefs.tz_prefixes[j].prefix, k->str) ==
			    0)
				config_loader_err(L, k, "prefix %s is listed "
				    "twice", k->str);
		if (pzone(L, pv->items[i + 1], tp->zone) == -1)
			continue;
		memcpy(tp->prefix, k->str, n + 1);
		cfg->prefs.ntz_prefixes++;
	}
}

static void
load_timezones(struct loader *L, struct config *cfg,
    const struct config_node *sec)
{
	static const char *const keys[] = { "default", "prefixes", NULL };
	const struct config_node	*v;

	if (!pmap_keys(L, sec, keys, "timezones"))
		return;
	cfg->prefs.has_timezones = true;
	if ((v = config_map_get(sec, "default")) == NULL)
		config_loader_err(L, sec, "missing required key 'default' in "
		    "timezones");
	else
		(void)pzone(L, v, cfg->prefs.tz_default);
	if ((v = config_map_get(sec, "prefixes")) != NULL)
		load_prefixes(L, cfg, v);
}

void
config_prefs_load(struct loader *L, struct config *cfg)
{
	const struct config_node	*fv = cfg->prefs.src_frequency;
	const struct config_node	*qv = cfg->prefs.src_quiet;
	const struct config_node	*tv = cfg->prefs.src_timezones;

	cfg->prefs.src_frequency = NULL;
	cfg->prefs.src_quiet = NULL;
	cfg->prefs.src_timezones = NULL;
	if (fv != NULL)
		load_frequency(L, cfg, fv);
	if (tv != NULL)
		load_timezones(L, cfg, tv);
	if (qv != NULL) {
		load_quiet(L, cfg, qv);
		if (tv == NULL && qv->type == CONFIG_NODE_SEQ && qv->n > 0)
			config_loader_err(L, qv, "quiet_hours need the "
			    "recipients' time zones: add timezones with a "
			    "default zone");
	}
}

const struct config_frequency *
config_frequency_find(const struct config *cfg, size_t cat)
{
	size_t	 i;

	for (i = 0; i < cfg->prefs.nfrequency; i++)
		if (cfg->prefs.frequency[i].category == cat)
			return &cfg->prefs.frequency[i];
	return NULL;
}

const struct config_quiet *
config_quiet_find(const struct config *cfg, size_t cat)
{
	size_t	 i;

	for (i = 0; i < cfg->prefs.nquiet; i++)
		if (cfg->prefs.quiet[i].category == cat)
			return &cfg->prefs.quiet[i];
	return NULL;
}

const char *
config_zone_of(const struct config *cfg, const char *number)
{
	const struct config_tz_prefix	*best = NULL;
	size_t				 i, n;

	if (!cfg->prefs.has_timezones || cfg->prefs.tz_default[0] == '\0')
		return NULL;
	for (i = 0; i < cfg->prefs.ntz_prefixes; i++) {
		n = strlen(cfg->prefs.tz_prefixes[i].prefix);
		if (strncmp(number, cfg->prefs.tz_prefixes[i].prefix, n) == 0 &&
		    (best == NULL || n > strlen(best->prefix)))
			best = &cfg->prefs.tz_prefixes[i];
	}
	return best != NULL ? best->zone : cfg->prefs.tz_default;
}
