/*
 * stopgate configuration loader: YAML -> struct config (SPEC §2).
 *
 * The file is parsed into a tree of positioned nodes (config/tree.c), and
 * every mapping is walked against a static key table: name, type, range,
 * default and where the value goes. Sections that refer to others
 * (accounts -> categories, routes -> upstreams, ...) are remembered during
 * the walk of the top level and loaded afterwards in dependency order, so
 * the order of keys in the file does not matter.
 *
 * Nothing here logs or exits. Every problem becomes an error with the
 * position of the node it is about, and loading goes on so that one run of
 * `stopgate check` lists them all. A config is returned only if no error
 * was found; otherwise everything built so far is freed by config_free(),
 * which is why every array is allocated zeroed and counted as soon as it
 * exists.
 */
#include "config/config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/config_int.h"
#include "config/tree.h"
#include "smpp/number.h"

/* Largest config file read: a config is a few kilobytes. */
#define CONFIG_FILE_MAX		(1024 * 1024)
/* Largest secret read from a password_file / token_file. */
#define CONFIG_SECRET_MAX	4096
/* SMPP v3.4 §5.2.2: password is a C-Octet String of at most 9 octets. */
#define CONFIG_SMPP_PASSWORD_MAX 8
/* Entries in one list (categories, accounts, ...). */
#define CONFIG_LIST_MAX		4096
/* A keyword, as written (UTF-8 bytes). */
#define CONFIG_KEYWORD_MAX	64
/* A reply template, in bytes. */
#define CONFIG_REPLY_MAX	480
/* Unset index (an undefined reference already reported). */
#define NO_INDEX		CONFIG_NO_INDEX

/* Sections of the top level loaded after the walk, in this order. */
enum section {
	SEC_KEYWORDS = 0,
	SEC_CATEGORIES,
	SEC_LISTENERS,
	SEC_ADMIN,
	SEC_ACCOUNTS,
	SEC_UPSTREAMS,
	SEC_ROUTES,
	SEC_INBOUND,
	SEC_CLUSTER,
	SEC_MAX,
};

struct loader {
	struct config		*cfg;		/* being built; owned */
	struct config_errors	*errs;		/* borrowed */
	char			*base_dir;	/* owned */
	const struct config_node *root;		/* borrowed */
	const struct config_node *sec[SEC_MAX];	/* borrowed */
	unsigned		 flags;		/* CONFIG_LOAD_* */
	unsigned		 nsecrets;	/* password* keys in a map */
	bool			 is_keywords_ok; /* keyword lists loaded
						 * clean */
};

enum key_type {
	KEY_STRING = 0,	/* char[max + 1] at off; min..max characters */
	KEY_STRDUP,	/* char * at off, owned; min..max characters */
	KEY_NAME,	/* char[CONFIG_NAME_MAX]: [a-z0-9_-], 1..31 chars */
	KEY_PATH,	/* char * at off, owned: an absolute path */
	KEY_FILE,	/* a KEY_PATH that must name a readable file */
	KEY_UINT,	/* unsigned, min..max */
	KEY_SIZE,	/* size_t, min..max */
	KEY_PORT,	/* uint16_t, 1..65535 */
	KEY_DOUBLE,	/* double, min..max */
	KEY_BOOL,	/* bool */
	KEY_STATUS,	/* uint32_t command_status, hex or decimal */
	KEY_SECRET,	/* char * at off, owned; at most max characters */
	KEY_SECRET_FILE, /* the same, read from a file */
	KEY_SECRET_ENV,	/* the same, from an environment variable */
	KEY_WORDS,	/* struct config_words at off; min words at least */
	KEY_TEMPLATE,	/* char * at off: a reply template */
	KEY_DEFER,	/* top level: remembered as section min */
	KEY_FN,		/* fn(loader, value, obj) */
};

struct key;
typedef void key_fn(struct loader *, const struct config_node *, void *);

struct key {
	const char		*name;
	enum key_type		 type;
	bool			 is_required;
	unsigned long long	 min;
	unsigned long long	 max;
	unsigned long long	 dflt;	/* numbers and bools, set first */
	size_t			 off;	/* offset of the field in obj */
	key_fn			*fn;
};

#define FIELD(type, member)	offsetof(type, member)

/* --- errors --------------------------------------------------------------- */

static void cfg_err_vat(struct loader *, unsigned, unsigned, const char *,
    va_list) __attribute__((format(printf, 4, 0)));
static void cfg_err_at(struct loader *, unsigned, unsigned, const char *,
    ...) __attribute__((format(printf, 4, 5)));
static void cfg_err(struct loader *, const struct config_node *,
    const char *, ...) __attribute__((format(printf, 3, 4)));

static void
cfg_err_vat(struct loader *L, unsigned line, unsigned col, const char *fmt,
    va_list ap)
{
	struct config_error *e;

	if (L->errs->count < CONFIG_ERRORS_MAX) {
		e = &L->errs->err[L->errs->count];
		e->line = line;
		e->col = col;
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	}
	L->errs->count++;
}

static void
cfg_err_at(struct loader *L, unsigned line, unsigned col, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_err_vat(L, line, col, fmt, ap);
	va_end(ap);
}

static void
cfg_err(struct loader *L, const struct config_node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_err_vat(L, at != NULL ? at->line : 0, at != NULL ? at->col : 0,
	    fmt, ap);
	va_end(ap);
}

static void
cfg_nomem(struct loader *L, const struct config_node *at)
{
	cfg_err(L, at, "out of memory");
}

void
config_loader_err(struct loader *L, const struct config_node *at,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_err_vat(L, at != NULL ? at->line : 0, at != NULL ? at->col : 0,
	    fmt, ap);
	va_end(ap);
}

/* Errors are found section by section; list them in file order. */
static void
errors_sort(struct config_errors *errs)
{
	struct config_error tmp;
	size_t i, j, n;

	n = errs->count < CONFIG_ERRORS_MAX ? errs->count : CONFIG_ERRORS_MAX;
	/* cppcheck follows a caller's path with no error recorded and calls
	 * the loop dead; every caller reaches here with errors to sort. */
	/* cppcheck-suppress knownConditionTrueFalse */
	for (i = 1; i < n; i++) {
		tmp = errs->err[i];
		for (j = i; j > 0 && (errs->err[j - 1].line > tmp.line ||
		    (errs->err[j - 1].line == tmp.line &&
		    errs->err[j - 1].col > tmp.col)); j--)
			errs->err[j] = errs->err[j - 1];
		errs->err[j] = tmp;
	}
}

/* --- small helpers ---------------------------------------------------- */

const struct config_node *
config_map_get(const struct config_node *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != CONFIG_NODE_MAP)
		return NULL;
	for (i = 0; i + 1 < map->n; i += 2)
		if (map->items[i]->type == CONFIG_NODE_SCALAR &&
		    strcmp(map->items[i]->str, key) == 0)
			return map->items[i + 1];
	return NULL;
}

/* The line of key's value in map (or of map), for "first at line N". */
static unsigned
map_line(const struct config_node *map, const char *key)
{
	const struct config_node *v = config_map_get(map, key);

	return v != NULL ? v->line : map != NULL ? map->line : 0;
}

/* Where to point for "the entry": its value for key, else the entry. */
static const struct config_node *
map_at(const struct config_node *map, const char *key)
{
	const struct config_node *v = config_map_get(map, key);

	return v != NULL ? v : map;
}

static bool
scalar_is_null(const struct config_node *v)
{
	return v->type == CONFIG_NODE_SCALAR && v->is_plain &&
	    (v->len == 0 || strcmp(v->str, "~") == 0 ||
	    strcmp(v->str, "null") == 0 || strcmp(v->str, "Null") == 0 ||
	    strcmp(v->str, "NULL") == 0);
}

/* What a node is, for "must be X, not Y" messages. */
static const char *
node_desc(const struct config_node *v)
{
	return scalar_is_null(v) ? "empty" : config_node_type_name(v->type);
}

/*
 * The text of a string value, or NULL after reporting why not (not a
 * scalar, null, an embedded NUL, or length outside min..max).
 */
static const char *
scalar_string(struct loader *L, const struct config_node *v,
    const char *name, size_t min, size_t max)
{
	if (v->type != CONFIG_NODE_SCALAR) {
		cfg_err(L, v, "'%s' must be a string, not %s", name,
		    node_desc(v));
		return NULL;
	}
	if (scalar_is_null(v) && min > 0) {
		cfg_err(L, v, "'%s' must not be empty", name);
		return NULL;
	}
	if (strlen(v->str) != v->len) {
		cfg_err(L, v, "'%s' must not contain a NUL character", name);
		return NULL;
	}
	if (v->len < min) {
		cfg_err(L, v, "'%s' must not be empty", name);
		return NULL;
	}
	if (v->len > max) {
		cfg_err(L, v, "'%s' is too long (at most %zu characters)",
		    name, max);
		return NULL;
	}
	return scalar_is_null(v) ? "" : v->str;
}

static bool
is_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * An unquoted integer in min..max: decimal, or hexadecimal after 0x when
 * allow_hex. Returns 0, or -1 after reporting.
 */
static int
scalar_uint(struct loader *L, const struct config_node *v, const char *name,
    unsigned long long min, unsigned long long max, bool allow_hex,
    unsigned long long *out)
{
	unsigned long long val = 0;
	unsigned base = 10, d;
	const char *s;
	bool is_big = false;

	if (v->type != CONFIG_NODE_SCALAR || !v->is_plain ||
	    scalar_is_null(v))
		goto err_type;
	s = v->str;
	if (allow_hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		goto err_type;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			goto err_type;
		if (val > (ULLONG_MAX - d) / base)
			is_big = true;
		else
			val = val * base + d;
	}
	if (is_big || val < min || val > max) {
		if (base == 16)
			cfg_err(L, v, "'%s' must be between 0x%08llx and "
			    "0x%08llx", name, min, max);
		else
			cfg_err(L, v, "'%s' must be between %llu and %llu",
			    name, min, max);
		return -1;
	}
	*out = val;
	return 0;

err_type:
	/* "2775" in quotes is a string in YAML; say so, it is a common
	 * slip. */
	cfg_err(L, v, "'%s' must be %s integer%s", name,
	    allow_hex ? "a (hexadecimal or decimal)" : "an",
	    v->type == CONFIG_NODE_SCALAR && !v->is_plain && v->len > 0 &&
	    strspn(v->str, "0123456789abcdefABCDEFxX") == v->len ?
	    ", written without quotes" : "");
	return -1;
}

static int
scalar_bool(struct loader *L, const struct config_node *v, const char *name,
    bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes",
	    "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no",
	    "No", "NO", "off", "Off", "OFF" };
	size_t i;

	if (v->type == CONFIG_NODE_SCALAR && v->is_plain) {
		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcmp(v->str, yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcmp(v->str, no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	cfg_err(L, v, "'%s' must be true or false", name);
	return -1;
}

/* SPEC §3: never a status clients retry, never 0x0B, never success. */
static bool
status_is_permanent(uint32_t st)
{
	switch (st) {
	case 0x00000000:	/* ESME_ROK */
	case 0x00000008:	/* ESME_RSYSERR: retried */
	case 0x0000000B:	/* ESME_RINVDSTADR: clients purge the number */
	case 0x00000014:	/* ESME_RMSGQFUL: retried */
	case 0x00000058:	/* ESME_RTHROTTLED: retried */
	case 0x00000061:	/* ESME_RINVSCHED: retried */
	case 0x00000064:	/* ESME_RX_T_APPN: retried */
		return false;
	default:
		return true;
	}
}

/* Lexically remove "." and ".." components and repeated slashes from an
 * absolute path, in place. */
static void
path_clean(char *p)
{
	char *out = p, *seg = p;
	size_t len;

	/* out writes the cleaned path; seg reads the next component. */
	while (*seg != '\0') {
		while (*seg == '/')
			seg++;
		if (*seg == '\0')
			break;
		len = strcspn(seg, "/");
		if (len == 1 && seg[0] == '.') {
			/* nothing */
		} else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, seg, len);
			out += len;
		}
		seg += len;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

/* base_dir/path (or path if absolute), cleaned. Returns a new string or
 * NULL on ENOMEM. */
static char *
path_resolve(const char *base_dir, const char *path)
{
	size_t bl, pl;
	char *r;

	bl = path[0] == '/' ? 0 : strlen(base_dir);
	pl = strlen(path);
	if ((r = config_malloc(bl + 1 + pl + 1)) == NULL)
		return NULL;
	memcpy(r, base_dir, bl);
	r[bl] = '/';
	memcpy(r + bl + 1, path, pl + 1);
	path_clean(r);
	return r;
}

/* path made absolute against the working directory, cleaned. Returns a
 * new string, or NULL with errno set. */
static char *
path_absolute(const char *path)
{
	char *cwd, *r;

	if (path[0] == '/') {
		if ((r = config_strdup(path)) != NULL)
			path_clean(r);
		return r;
	}
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	r = path_resolve(cwd, path);
	free(cwd);
	return r;
}

/* Open path for reading without blocking (a FIFO must not hang a
 * reload) and check it is a regular file. Returns an fd, or -1 with
 * errno set. */
static int
file_open_regular(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	return fd;
}

/* Read at most max bytes of fd into a new NUL-terminated string. Returns
 * it (owned by the caller) or NULL with errno set; EFBIG if longer. */
static char *
file_read_fd(int fd, size_t max, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *buf, *nbuf;
	ssize_t r;

	if ((buf = config_malloc(cap + 1)) == NULL)
		return NULL;
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			if ((nbuf = config_realloc(buf, cap + 1)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, cap - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

static void
words_free(struct config_words *w)
{
	size_t i;

	for (i = 0; i < w->count; i++)
		free(w->words[i]);
	free(w->words);
	w->words = NULL;
	w->count = 0;
}

/* ASCII case-insensitive: matching folds case, so must duplicates. */
static bool
words_has(const struct config_words *w, const char *word)
{
	size_t i;

	for (i = 0; i < w->count; i++)
		if (strcasecmp(w->words[i], word) == 0)
			return true;
	return false;
}

/* Append a copy of word. Returns 0 or -1 on ENOMEM. */
static int
words_add(struct config_words *w, const char *word)
{
	char **nw, *dup;

	if ((dup = config_strdup(word)) == NULL)
		return -1;
	if ((nw = config_reallocarray(w->words, w->count + 1, sizeof(*nw))) ==
	    NULL) {
		free(dup);
		return -1;
	}
	w->words = nw;
	w->words[w->count++] = dup;
	return 0;
}

static int
words_set(struct config_words *w, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (words_add(w, list[i]) == -1)
			return -1;
	return 0;
}

/* --- the key walk ----------------------------------------------------- */

/* walk_map() result bit: the node was a mapping. Key tables are shorter. */
#define WALK_IS_MAP	((uint64_t)1 << 63)

static void key_set(struct loader *, const struct key *,
    const struct config_node *, void *);

/* Set the defaults of a table's numeric and boolean keys in obj. */
static void
keys_defaults(const struct key *keys, void *obj)
{
	char *base = obj;
	const struct key *k;
	unsigned u;
	size_t z;
	uint16_t p;
	uint32_t st;
	double d;
	bool b;

	for (k = keys; k->name != NULL; k++) {
		switch (k->type) {
		case KEY_UINT:
			u = (unsigned)k->dflt;
			memcpy(base + k->off, &u, sizeof(u));
			break;
		case KEY_SIZE:
			z = (size_t)k->dflt;
			memcpy(base + k->off, &z, sizeof(z));
			break;
		case KEY_PORT:
			p = (uint16_t)k->dflt;
			memcpy(base + k->off, &p, sizeof(p));
			break;
		case KEY_STATUS:
			st = (uint32_t)k->dflt;
			memcpy(base + k->off, &st, sizeof(st));
			break;
		case KEY_DOUBLE:
			d = (double)k->dflt;
			memcpy(base + k->off, &d, sizeof(d));
			break;
		case KEY_BOOL:
			b = k->dflt != 0;
			memcpy(base + k->off, &b, sizeof(b));
			break;
		default:
			break;
		}
	}
}

/*
 * Walk mapping node against keys, storing into obj. what names the
 * mapping in messages ("store", "an accounts entry"). Returns a bit mask
 * of the keys present (bit i for keys[i]) with WALK_IS_MAP set, so even
 * an empty mapping is non-zero; 0 if node is not a mapping.
 */
static uint64_t
walk_map(struct loader *L, const struct config_node *node,
    const struct key *keys, void *obj, const char *what)
{
	const struct config_node *k, *v;
	uint64_t seen = WALK_IS_MAP;
	size_t i, j;

	if (node->type != CONFIG_NODE_MAP) {
		cfg_err(L, node, "%s must be a mapping, not %s", what,
		    node_desc(node));
		return 0;
	}
	for (i = 0; i + 1 < node->n; i += 2) {
		k = node->items[i];
		v = node->items[i + 1];
		if (k->type != CONFIG_NODE_SCALAR) {
			cfg_err(L, k, "a key in %s must be a string", what);
			continue;
		}
		for (j = 0; keys[j].name != NULL; j++)
			if (strcmp(keys[j].name, k->str) == 0)
				break;
		if (keys[j].name == NULL) {
			cfg_err(L, k, "unknown key '%.60s' in %s", k->str,
			    what);
			continue;
		}
		if (seen & ((uint64_t)1 << j)) {
			cfg_err(L, k, "duplicate key '%s' in %s", k->str,
			    what);
			continue;
		}
		seen |= (uint64_t)1 << j;
		key_set(L, &keys[j], v, obj);
	}
	for (j = 0; keys[j].name != NULL; j++)
		if (keys[j].is_required && !(seen & ((uint64_t)1 << j)))
			cfg_err(L, node, "missing required key '%s' in %s",
			    keys[j].name, what);
	return seen;
}

/* True if s has a C0 control character other than tab, or DEL. */
static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

static void
key_words(struct loader *L, const struct key *k, const struct config_node *v,
    struct config_words *w)
{
	const struct config_node *it;
	const char *s;
	size_t i;

	if (v->type != CONFIG_NODE_SEQ) {
		cfg_err(L, v, "'%s' must be a list of words, not %s", k->name,
		    node_desc(v));
		return;
	}
	if (v->n < k->min) {
		cfg_err(L, v, "'%s' must not be empty", k->name);
		return;
	}
	words_free(w);
	if (v->n > 0 && (w->words = config_calloc(v->n, sizeof(*w->words))) ==
	    NULL) {
		cfg_nomem(L, v);
		return;
	}
	for (i = 0; i < v->n; i++) {
		it = v->items[i];
		if ((s = scalar_string(L, it, k->name, 1, CONFIG_KEYWORD_MAX))
		    == NULL)
			continue;
		if (strspn(s, " \t") == strlen(s)) {
			cfg_err(L, it, "a keyword must not be blank");
			continue;
		}
		if (has_control(s)) {
			cfg_err(L, it, "a keyword must not contain control "
			    "characters");
			continue;
		}
		if (words_has(w, s)) {
			cfg_err(L, it, "keyword '%s' is listed twice", s);
			continue;
		}
		if ((w->words[w->count] = config_strdup(s)) == NULL) {
			cfg_nomem(L, it);
			continue;
		}
		w->count++;
	}
}

static void
key_template(struct loader *L, const struct key *k,
    const struct config_node *v, char **dst)
{
	const char *s, *p, *end;
	size_t n;

	if ((s = scalar_string(L, v, k->name, 1, CONFIG_REPLY_MAX)) == NULL)
		return;
	for (p = s; (p = strchr(p, '{')) != NULL; p = end + 1) {
		if ((end = strchr(p, '}')) == NULL) {
			cfg_err(L, v, "'%s' has a '{' without a '}'",
			    k->name);
			return;
		}
		n = (size_t)(end - p - 1);
		if (!(n == 8 && strncmp(p + 1, "business", 8) == 0) &&
		    !(n == 10 && strncmp(p + 1, "categories", 10) == 0)) {
			cfg_err(L, v, "'%s' has an unknown placeholder "
			    "'%.*s' (use {business} or {categories})",
			    k->name, (int)(n < 40 ? n + 2 : 40), p);
			return;
		}
	}
	free(*dst);
	if ((*dst = config_strdup(s)) == NULL)
		cfg_nomem(L, v);
}

/* password / password_file / password_env (and token_*): one of them. */
static void
key_secret(struct loader *L, const struct key *k, const struct config_node *v,
    char **dst)
{
	const char *s, *env;
	char *path, *buf = NULL;
	size_t len = 0;
	int fd;

	if (L->nsecrets++ > 0) {
		cfg_err(L, v, "'%s': give only one of %s", k->name,
		    strncmp(k->name, "token", 5) == 0 ?
		    "token, token_file, token_env" :
		    strncmp(k->name, "postgres", 8) == 0 ?
		    "postgres, postgres_file, postgres_env" :
		    "password, password_file, password_env");
		return;
	}
	switch (k->type) {
	case KEY_SECRET:
		if ((s = scalar_string(L, v, k->name, 1, k->max)) == NULL)
			return;
		if ((buf = config_strdup(s)) == NULL) {
			cfg_nomem(L, v);
			return;
		}
		len = strlen(buf);
		break;
	case KEY_SECRET_FILE:
		if ((s = scalar_string(L, v, k->name, 1, PATH_MAX)) == NULL)
			return;
		if (L->flags & CONFIG_LOAD_NO_SECRETS)
			return;
		if ((path = path_resolve(L->base_dir, s)) == NULL) {
			cfg_nomem(L, v);
			return;
		}
		if ((fd = file_open_regular(path)) == -1 ||
		    (buf = file_read_fd(fd, CONFIG_SECRET_MAX, &len)) ==
		    NULL) {
			cfg_err(L, v, "cannot read %s '%.100s': %s", k->name,
			    path, strerror(errno));
			if (fd != -1)
				close(fd);
			free(path);
			return;
		}
		close(fd);
		free(path);
		/* A file written by an editor or `echo` ends in a newline
		 * that is not part of the secret. */
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == '\r'))
			buf[--len] = '\0';
		break;
	case KEY_SECRET_ENV:
		if ((s = scalar_string(L, v, k->name, 1, 255)) == NULL)
			return;
		if (L->flags & CONFIG_LOAD_NO_SECRETS)
			return;
		if ((env = getenv(s)) == NULL || env[0] == '\0') {
			cfg_err(L, v, "environment variable '%s' is %s", s,
			    env == NULL ? "not set" : "empty");
			return;
		}
		if ((buf = config_strdup(env)) == NULL) {
			cfg_nomem(L, v);
			return;
		}
		len = strlen(buf);
		break;
	default:
		return;
	}
	if (len == 0 || strlen(buf) != len) {
		cfg_err(L, v, "'%s' gives an empty or binary secret",
		    k->name);
		free(buf);
		return;
	}
	if (len > k->max) {
		cfg_err(L, v, "'%s' gives a secret longer than %llu "
		    "characters%s", k->name, k->max,
		    k->max == CONFIG_SMPP_PASSWORD_MAX ?
		    " (SMPP v3.4 §5.2.2)" : "");
		free(buf);
		return;
	}
	free(*dst);
	*dst = buf;
}

static bool
name_is_valid(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-'))
			return false;
	return true;
}

/* Replace the owned string at base + off with dup (owned by the caller
 * until then). */
static void
key_put_owned(char *base, size_t off, char *dup)
{
	char	*old;

	memcpy(&old, base + off, sizeof(old));
	free(old);
	memcpy(base + off, &dup, sizeof(dup));
}

/* KEY_STRING, KEY_STRDUP and KEY_NAME: a string into the field. */
static void
key_set_text(struct loader *L, const struct key *k,
    const struct config_node *v, char *base)
{
	const char	*s;
	char		*dup;

	switch (k->type) {
	case KEY_STRING:
		if ((s = scalar_string(L, v, k->name, k->min, k->max)) != NULL)
			memcpy(base + k->off, s, strlen(s) + 1);
		break;
	case KEY_STRDUP:
		if ((s = scalar_string(L, v, k->name, k->min, k->max)) ==
		    NULL)
			break;
		if ((dup = config_strdup(s)) == NULL) {
			cfg_nomem(L, v);
			break;
		}
		key_put_owned(base, k->off, dup);
		break;
	default:	/* KEY_NAME */
		if ((s = scalar_string(L, v, k->name, 1, CONFIG_NAME_MAX - 1))
		    == NULL)
			break;
		if (!name_is_valid(s)) {
			cfg_err(L, v, "'%s' must use only a-z, 0-9, '_' and "
			    "'-'", k->name);
			break;
		}
		memcpy(base + k->off, s, strlen(s) + 1);
		break;
	}
}

/* KEY_PATH and KEY_FILE: a path resolved against the config's folder; a
 * KEY_FILE must name a readable regular file unless secrets are skipped. */
static void
key_set_path(struct loader *L, const struct key *k,
    const struct config_node *v, char *base)
{
	const char	*s;
	char		*dup;
	int		 fd;

	if ((s = scalar_string(L, v, k->name, 1, PATH_MAX)) == NULL)
		return;
	if ((dup = path_resolve(L->base_dir, s)) == NULL) {
		cfg_nomem(L, v);
		return;
	}
	if (k->type == KEY_FILE && !(L->flags & CONFIG_LOAD_NO_SECRETS)) {
		if ((fd = file_open_regular(dup)) == -1) {
			cfg_err(L, v, "cannot read %s file '%.100s': %s",
			    k->name, dup, strerror(errno));
			free(dup);
			return;
		}
		close(fd);
	}
	key_put_owned(base, k->off, dup);
}

/* KEY_UINT, KEY_SIZE, KEY_PORT and KEY_STATUS: an integer of the field's
 * width, within the key's range. */
static void
key_set_integer(struct loader *L, const struct key *k,
    const struct config_node *v, char *base)
{
	unsigned long long	 n;
	unsigned		 u;
	size_t			 z;
	uint16_t		 p;
	uint32_t		 st;

	switch (k->type) {
	case KEY_UINT:
		if (scalar_uint(L, v, k->name, k->min, k->max, false, &n) ==
		    0) {
			u = (unsigned)n;
			memcpy(base + k->off, &u, sizeof(u));
		}
		break;
	case KEY_SIZE:
		if (scalar_uint(L, v, k->name, k->min, k->max, false, &n) ==
		    0) {
			z = (size_t)n;
			memcpy(base + k->off, &z, sizeof(z));
		}
		break;
	case KEY_PORT:
		if (scalar_uint(L, v, k->name, 1, 65535, false, &n) == 0) {
			p = (uint16_t)n;
			memcpy(base + k->off, &p, sizeof(p));
		}
		break;
	default:	/* KEY_STATUS */
		if (scalar_uint(L, v, k->name, 0, UINT32_MAX, true, &n) != 0)
			break;
		st = (uint32_t)n;
		if (!status_is_permanent(st)) {
			cfg_err(L, v, "'%s' 0x%08x is not allowed: clients "
			    "retry it or drop the number (use a permanent "
			    "status such as 0x00000401)", k->name,
			    (unsigned)st);
			break;
		}
		memcpy(base + k->off, &st, sizeof(st));
		break;
	}
}

/* KEY_DOUBLE: a plain, finite number within the key's range. */
static void
key_set_double(struct loader *L, const struct key *k,
    const struct config_node *v, char *base)
{
	double	 d;
	char	*end;

	if (v->type != CONFIG_NODE_SCALAR || !v->is_plain ||
	    scalar_is_null(v)) {
		cfg_err(L, v, "'%s' must be a number", k->name);
		return;
	}
	errno = 0;
	d = strtod(v->str, &end);
	if (end == v->str || *end != '\0' || errno != 0 || !isfinite(d)) {
		cfg_err(L, v, "'%s' must be a number", k->name);
		return;
	}
	if (d < (double)k->min || d > (double)k->max) {
		cfg_err(L, v, "'%s' must be between %llu and %llu",
		    k->name, k->min, k->max);
		return;
	}
	memcpy(base + k->off, &d, sizeof(d));
}

static void
key_set(struct loader *L, const struct key *k, const struct config_node *v,
    void *obj)
{
	char	*base = obj;
	bool	 b;

	switch (k->type) {
	case KEY_STRING:
	case KEY_STRDUP:
	case KEY_NAME:
		key_set_text(L, k, v, base);
		break;
	case KEY_PATH:
	case KEY_FILE:
		key_set_path(L, k, v, base);
		break;
	case KEY_UINT:
	case KEY_SIZE:
	case KEY_PORT:
	case KEY_STATUS:
		key_set_integer(L, k, v, base);
		break;
	case KEY_DOUBLE:
		key_set_double(L, k, v, base);
		break;
	case KEY_BOOL:
		if (scalar_bool(L, v, k->name, &b) == 0)
			memcpy(base + k->off, &b, sizeof(b));
		break;
	case KEY_SECRET:
	case KEY_SECRET_FILE:
	case KEY_SECRET_ENV:
		key_secret(L, k, v, (char **)(void *)(base + k->off));
		break;
	case KEY_WORDS:
		key_words(L, k, v, (struct config_words *)(void *)
		    (base + k->off));
		break;
	case KEY_TEMPLATE:
		key_template(L, k, v, (char **)(void *)(base + k->off));
		break;
	case KEY_DEFER:
		L->sec[k->min] = v;
		break;
	case KEY_FN:
		k->fn(L, v, obj);
		break;
	}
}

/* --- addresses and TLS -------------------------------------------------- */

/*
 * A listening address: numeric IPv4 "a.b.c.d:port" or IPv6 "[addr]:port".
 * The host is stored in canonical form (inet_ntop), so that two spellings
 * of one address are seen as the same bind.
 */
static int
parse_bind(struct loader *L, const struct config_node *v, char *host,
    size_t hostcap, uint16_t *port)
{
	char buf[INET6_ADDRSTRLEN + 16], addr[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	unsigned long long pn = 0;
	const char *s, *colon, *ps;
	size_t hl;
	int af;

	if ((s = scalar_string(L, v, "bind", 1, sizeof(buf) - 1)) == NULL)
		return -1;
	if (s[0] == '[') {
		af = AF_INET6;
		if ((colon = strstr(s, "]:")) == NULL)
			goto err_bad;
		hl = (size_t)(colon - s - 1);
		memcpy(buf, s + 1, hl);
		ps = colon + 2;
	} else {
		af = AF_INET;
		if ((colon = strrchr(s, ':')) == NULL)
			goto err_bad;
		hl = (size_t)(colon - s);
		memcpy(buf, s, hl);
		ps = colon + 1;
	}
	buf[hl] = '\0';
	if (inet_pton(af, buf, bin) != 1)
		goto err_bad;
	if (!is_digits(ps) || strlen(ps) > 5)
		goto err_bad;
	pn = strtoull(ps, NULL, 10);
	if (pn < 1 || pn > 65535)
		goto err_bad;
	if (inet_ntop(af, bin, addr, sizeof(addr)) == NULL ||
	    strlen(addr) >= hostcap)
		goto err_bad;
	memcpy(host, addr, strlen(addr) + 1);
	*port = (uint16_t)pn;
	return 0;

err_bad:
	cfg_err(L, v, "bad address '%.60s': expected a numeric IPv4:port or "
	    "[IPv6]:port, port 1-65535", s);
	return -1;
}

static const struct key listener_tls_keys[] = {
	{ "cert", KEY_FILE, true, 0, 0, 0, FIELD(struct config_tls, cert),
	    NULL },
	{ "key", KEY_FILE, true, 0, 0, 0, FIELD(struct config_tls, key),
	    NULL },
	{ "client_ca", KEY_FILE, false, 0, 0, 0,
	    FIELD(struct config_tls, client_ca), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static const struct key upstream_tls_keys[] = {
	{ "ca", KEY_FILE, false, 0, 0, 0, FIELD(struct config_tls, ca),
	    NULL },
	{ "cert", KEY_FILE, false, 0, 0, 0, FIELD(struct config_tls, cert),
	    NULL },
	{ "key", KEY_FILE, false, 0, 0, 0, FIELD(struct config_tls, key),
	    NULL },
	{ "verify", KEY_BOOL, false, 0, 1, 1,
	    FIELD(struct config_tls, verify), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

/* Server side TLS (listeners, admin): false, or { cert, key, client_ca }. */
static void
load_server_tls(struct loader *L, const struct config_node *v,
    struct config_tls *tls)
{
	if (v->type == CONFIG_NODE_SCALAR) {
		if (!v->is_plain || (strcmp(v->str, "false") != 0 &&
		    strcmp(v->str, "no") != 0 && strcmp(v->str, "off") != 0))
			cfg_err(L, v, "'tls' must be false or a mapping with "
			    "cert and key");
		return;
	}
	if (walk_map(L, v, listener_tls_keys, tls, "tls") != 0)
		tls->enabled = true;
}

static void
listener_tls(struct loader *L, const struct config_node *v, void *obj)
{
	load_server_tls(L, v, &((struct config_listener *)obj)->tls);
}

static void
admin_tls(struct loader *L, const struct config_node *v, void *obj)
{
	load_server_tls(L, v, &((struct config *)obj)->admin_tls);
}

/* Client side TLS (upstreams): false | true | { ca, cert, key, verify }. */
static void
upstream_tls(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_tls *tls = &((struct config_upstream *)obj)->tls;
	bool b;

	tls->verify = true;
	if (v->type == CONFIG_NODE_SCALAR) {
		if (scalar_bool(L, v, "tls", &b) == 0)
			tls->enabled = b;
		return;
	}
	if (walk_map(L, v, upstream_tls_keys, tls, "tls") == 0)
		return;
	tls->enabled = true;
	if ((config_map_get(v, "cert") == NULL) !=
	    (config_map_get(v, "key") == NULL))
		cfg_err(L, v, "tls: a client certificate needs both cert "
		    "and key");
}

/* --- categories and keywords -------------------------------------------- */

static const char *const default_opt_out[] = { "STOP", "END", "CANCEL",
	"UNSUBSCRIBE", "UNSUB", "QUIT", "REVOKE", "OPTOUT", "OPT OUT",
	"OPT-OUT", "REMOVE", "ARRET", "ARR\xc3\x8aT", "BAJA", "ALTO",
	"\xf0\x9f\x9b\x91" };
static const char *const default_opt_out_all[] = { "STOPALL", "STOP ALL" };
static const char *const default_opt_out_in_text[] = { "STOP",
	"UNSUBSCRIBE", "REVOKE", "OPT OUT", "OPTOUT", "ARRET", "ALTO" };
static const char *const default_opt_in[] = { "START", "UNSTOP",
	"SUBSCRIBE" };
static const char *const default_help[] = { "HELP", "INFO", "AIDE",
	"AYUDA" };
static const char *const default_less[] = { "LESS", "FEWER" };
static const char *const default_opt_in_all[] = { "ALL" };

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct key keywords_keys[] = {
	{ "opt_out", KEY_WORDS, false, 0, 0, 0,
	    FIELD(struct config_keywords, opt_out), NULL },
	{ "opt_out_all", KEY_WORDS, false, 0, 0, 0,
	    FIELD(struct config_keywords, opt_out_all), NULL },
	{ "opt_out_in_text", KEY_WORDS, false, 0, 0, 0,
	    FIELD(struct config_keywords, opt_out_in_text), NULL },
	{ "opt_in", KEY_WORDS, false, 0, 0, 0,
	    FIELD(struct config_keywords, opt_in), NULL },
	{ "help", KEY_WORDS, false, 0, 0, 0,
	    FIELD(struct config_keywords, help), NULL },
	{ "less", KEY_WORDS, false, 0, 0, 0,
	    FIELD(struct config_keywords, less), NULL },
	{ "opt_in_all", KEY_WORDS, false, 0, 0, 0,
	    FIELD(struct config_keywords, opt_in_all), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

/* The whole-message command lists: a word may be in one of them only. */
struct kwlist {
	const char	*name;
	size_t		 off;
};
static const struct kwlist command_lists[] = {
	{ "opt_out", FIELD(struct config_keywords, opt_out) },
	{ "opt_out_all", FIELD(struct config_keywords, opt_out_all) },
	{ "opt_in", FIELD(struct config_keywords, opt_in) },
	{ "help", FIELD(struct config_keywords, help) },
	{ "less", FIELD(struct config_keywords, less) },
	{ "opt_in_all", FIELD(struct config_keywords, opt_in_all) },
};

static struct config_words *
kw_list(struct config_keywords *kw, size_t off)
{
	return (struct config_words *)(void *)((char *)kw + off);
}

/* The item of list node lv that spells word, else dflt. */
static const struct config_node *
words_at(const struct config_node *lv, const char *word,
    const struct config_node *dflt)
{
	size_t i;

	if (lv != NULL && lv->type == CONFIG_NODE_SEQ)
		for (i = 0; i < lv->n; i++)
			if (lv->items[i]->type == CONFIG_NODE_SCALAR &&
			    strcasecmp(lv->items[i]->str, word) == 0)
				return lv->items[i];
	return dflt;
}

/*
 * keywords: each list given replaces its default; STOP, START and HELP
 * are added back to a replacement that omits them (SPEC §4: they cannot
 * be removed). A word in two command lists is an error.
 */
static void
load_keywords(struct loader *L, const struct config_node *v)
{
	struct config_keywords *kw = &L->cfg->keywords;
	struct config_words *a, *b;
	const struct config_node *lv;
	size_t before = L->errs->count, i, j, w;
	int rc = 0;

	if (v != NULL)
		walk_map(L, v, keywords_keys, kw, "keywords");
	if (kw->opt_out.words == NULL && config_map_get(v, "opt_out") == NULL)
		rc |= words_set(&kw->opt_out, default_opt_out,
		    NELEM(default_opt_out));
	if (kw->opt_out_all.words == NULL &&
	    config_map_get(v, "opt_out_all") == NULL)
		rc |= words_set(&kw->opt_out_all, default_opt_out_all,
		    NELEM(default_opt_out_all));
	if (kw->opt_out_in_text.words == NULL &&
	    config_map_get(v, "opt_out_in_text") == NULL)
		rc |= words_set(&kw->opt_out_in_text, default_opt_out_in_text,
		    NELEM(default_opt_out_in_text));
	if (kw->opt_in.words == NULL && config_map_get(v, "opt_in") == NULL)
		rc |= words_set(&kw->opt_in, default_opt_in,
		    NELEM(default_opt_in));
	if (kw->help.words == NULL && config_map_get(v, "help") == NULL)
		rc |= words_set(&kw->help, default_help, NELEM(default_help));
	if (kw->less.words == NULL && config_map_get(v, "less") == NULL)
		rc |= words_set(&kw->less, default_less, NELEM(default_less));
	if (kw->opt_in_all.words == NULL &&
	    config_map_get(v, "opt_in_all") == NULL)
		rc |= words_set(&kw->opt_in_all, default_opt_in_all,
		    NELEM(default_opt_in_all));
	if (!words_has(&kw->opt_out, "STOP"))
		rc |= words_add(&kw->opt_out, "STOP");
	if (!words_has(&kw->opt_out_in_text, "STOP"))
		rc |= words_add(&kw->opt_out_in_text, "STOP");
	if (!words_has(&kw->opt_in, "START"))
		rc |= words_add(&kw->opt_in, "START");
	if (!words_has(&kw->help, "HELP"))
		rc |= words_add(&kw->help, "HELP");
	if (rc != 0) {
		cfg_nomem(L, v);
		return;
	}
	if (L->errs->count != before)
		return;
	L->is_keywords_ok = true;

	/* Conflicts, reported at the later list's word when it was written
	 * in the file (words added back come last and have no place). */
	for (i = 0; i < NELEM(command_lists); i++) {
		a = kw_list(kw, command_lists[i].off);
		for (j = i + 1; j < NELEM(command_lists); j++) {
			b = kw_list(kw, command_lists[j].off);
			lv = config_map_get(v, command_lists[j].name);
			for (w = 0; w < b->count; w++) {
				if (!words_has(a, b->words[w]))
					continue;
				cfg_err(L, lv != NULL && w < lv->n ?
				    lv->items[w] : words_at(config_map_get(v,
				    command_lists[i].name), b->words[w], v),
				    "keyword '%s' is in both %s and %s",
				    b->words[w], command_lists[i].name,
				    command_lists[j].name);
				L->is_keywords_ok = false;
			}
		}
	}
}

static const struct key category_keys[] = {
	{ "name", KEY_NAME, true, 0, 0, 0,
	    FIELD(struct config_category, name), NULL },
	{ "keywords", KEY_WORDS, false, 1, 0, 0,
	    FIELD(struct config_category, keywords), NULL },
	{ "rejection_status", KEY_STATUS, false, 0, 0, 0,
	    FIELD(struct config_category, rejection_status), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

/* Where keyword kw of category entry item was written. */
static const struct config_node *
category_kw_at(const struct config_node *item, size_t kw)
{
	const struct config_node *lv;

	if (item->type != CONFIG_NODE_MAP)
		return item;
	lv = config_map_get(item, "keywords");
	if (lv != NULL && lv->type == CONFIG_NODE_SEQ && kw < lv->n)
		return lv->items[kw];
	return map_at(item, "name");
}

static void
category_check_keywords(struct loader *L, const struct config_node *sec,
    size_t ci)
{
	struct config *cfg = L->cfg;
	struct config_category *cat = &cfg->categories[ci];
	const struct config_node *at;
	const char *w;
	size_t k, i, j;

	for (k = 0; k < cat->keywords.count; k++) {
		w = cat->keywords.words[k];
		at = category_kw_at(sec->items[ci], k);
		for (i = 0; L->is_keywords_ok && i < NELEM(command_lists);
		    i++) {
			if (words_has(kw_list(&cfg->keywords,
			    command_lists[i].off), w))
				cfg_err(L, at, "category keyword '%s' is "
				    "also a %s keyword", w,
				    command_lists[i].name);
		}
		for (i = 0; i < ci; i++) {
			for (j = 0; j < cfg->categories[i].keywords.count;
			    j++)
				if (strcasecmp(cfg->categories[i].keywords.
				    words[j], w) == 0)
					cfg_err(L, at, "category keyword "
					    "'%s' is also used by category "
					    "'%s'", w,
					    cfg->categories[i].name);
		}
	}
}

/*
 * True if sec is a list of 1..CONFIG_LIST_MAX entries; reports otherwise.
 * The bound keeps the quadratic duplicate checks cheap.
 */
static bool
list_check(struct loader *L, const struct config_node *sec, const char *name)
{
	if (sec->type != CONFIG_NODE_SEQ) {
		cfg_err(L, sec, "'%s' must be a list, not %s", name,
		    node_desc(sec));
		return false;
	}
	if (sec->n == 0) {
		cfg_err(L, sec, "'%s' must not be empty", name);
		return false;
	}
	if (sec->n > CONFIG_LIST_MAX) {
		cfg_err(L, sec, "'%s' has too many entries (at most %d)",
		    name, CONFIG_LIST_MAX);
		return false;
	}
	return true;
}

static void
load_categories(struct loader *L, const struct config_node *sec)
{
	struct config *cfg = L->cfg;
	struct config_category *cat;
	const struct config_node *it, *at, *prev;
	char upper[CONFIG_NAME_MAX];
	size_t i, j;

	if (!list_check(L, sec, "categories"))
		return;
	if ((cfg->categories = config_calloc(sec->n, sizeof(*cat))) == NULL) {
		cfg_nomem(L, sec);
		return;
	}
	cfg->ncategories = sec->n;
	for (i = 0; i < sec->n; i++) {
		it = sec->items[i];
		cat = &cfg->categories[i];
		if (it->type == CONFIG_NODE_SCALAR)
			key_set(L, &category_keys[0], it, cat);
		else if (it->type == CONFIG_NODE_MAP)
			walk_map(L, it, category_keys, cat,
			    "a categories entry");
		else {
			cfg_err(L, it, "a categories entry must be a name or "
			    "a mapping, not %s",
			    node_desc(it));
			continue;
		}
		if (cat->name[0] == '\0')
			continue;
		at = it->type == CONFIG_NODE_MAP ? map_at(it, "name") : it;
		if (strcmp(cat->name, "all") == 0) {
			cfg_err(L, at, "'all' is reserved and cannot name a "
			    "category");
			continue;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->categories[j].name, cat->name) != 0)
				continue;
			prev = sec->items[j];
			if (prev->type == CONFIG_NODE_MAP)
				prev = map_at(prev, "name");
			cfg_err(L, at, "duplicate category '%s' (first at "
			    "line %u)", cat->name, prev->line);
			break;
		}
		if (j < i)
			continue;
		if (cat->keywords.count == 0 &&
		    config_map_get(it, "keywords") == NULL) {
			for (j = 0; cat->name[j] != '\0'; j++)
				upper[j] = (cat->name[j] >= 'a' &&
				    cat->name[j] <= 'z') ?
				    (char)(cat->name[j] - 'a' + 'A') :
				    cat->name[j];
			upper[j] = '\0';
			if (words_add(&cat->keywords, upper) == -1) {
				cfg_nomem(L, it);
				continue;
			}
		}
		category_check_keywords(L, sec, i);
	}
}

/*
 * Resolve a category name. Returns its index, or NO_INDEX after
 * reporting.
 */
static size_t
ref_category(struct loader *L, const struct config_node *v, const char *key)
{
	const char *s;
	int i;

	if ((s = scalar_string(L, v, key, 1, 255)) == NULL)
		return NO_INDEX;
	if ((i = config_category_find(L->cfg, s)) < 0) {
		if (L->cfg->categories != NULL)
			cfg_err(L, v, "undefined category '%.60s'", s);
		return NO_INDEX;
	}
	return (size_t)i;
}

static size_t
ref_account(struct loader *L, const struct config_node *v, const char *key)
{
	const char *s;
	int i;

	if ((s = scalar_string(L, v, key, 1, 255)) == NULL)
		return NO_INDEX;
	if ((i = config_account_find(L->cfg, s)) < 0) {
		if (L->cfg->accounts != NULL)
			cfg_err(L, v, "undefined account '%.60s'", s);
		return NO_INDEX;
	}
	return (size_t)i;
}

static size_t
ref_upstream(struct loader *L, const struct config_node *v, const char *key)
{
	const char *s;
	int i;

	if ((s = scalar_string(L, v, key, 1, 255)) == NULL)
		return NO_INDEX;
	if ((i = config_upstream_find(L->cfg, s)) < 0) {
		if (L->cfg->upstreams != NULL)
			cfg_err(L, v, "undefined upstream '%.60s'", s);
		return NO_INDEX;
	}
	return (size_t)i;
}

/*
 * A list of category names into a new index array. Returns 0, or -1
 * after reporting (nothing allocated).
 */
static int
ref_category_list(struct loader *L, const struct config_node *v,
    const char *key, size_t **out, size_t *nout)
{
	size_t i, j, n = 0, *idx;

	if (v->type != CONFIG_NODE_SEQ) {
		cfg_err(L, v, "'%s' must be a list of categories, not %s",
		    key, node_desc(v));
		return -1;
	}
	if (v->n == 0) {
		cfg_err(L, v, "'%s' must not be empty", key);
		return -1;
	}
	if ((idx = config_calloc(v->n, sizeof(*idx))) == NULL) {
		cfg_nomem(L, v);
		return -1;
	}
	for (i = 0; i < v->n; i++) {
		if ((idx[n] = ref_category(L, v->items[i], key)) == NO_INDEX)
			continue;
		/* A category twice would make an opt-out event name it
		 * twice, which the store refuses: every STOP to the number
		 * would fail. */
		for (j = 0; j < n; j++)
			if (idx[j] == idx[n])
				break;
		if (j < n) {
			cfg_err(L, v->items[i], "'%s' lists category '%s' "
			    "twice", key, L->cfg->categories[idx[n]].name);
			continue;
		}
		n++;
	}
	if (n != v->n) {
		free(idx);
		return -1;
	}
	free(*out);
	*out = idx;
	*nout = n;
	return 0;
}

/* --- accounts ------------------------------------------------------------- */

static void
account_default_category(struct loader *L, const struct config_node *v,
    void *obj)
{
	((struct config_account *)obj)->default_category =
	    ref_category(L, v, "default_category");
}

static void
account_categories(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_account *a = obj;

	ref_category_list(L, v, "categories", &a->categories,
	    &a->ncategories);
}

static void
account_service_types(struct loader *L, const struct config_node *v,
    void *obj)
{
	struct config_account *a = obj;
	struct config_service_type *st;
	const struct config_node *k;
	const char *s;
	size_t i, j, n;

	if (v->type != CONFIG_NODE_MAP) {
		cfg_err(L, v, "'service_types' must be a mapping of "
		    "service_type to category, not %s",
		    node_desc(v));
		return;
	}
	n = v->n / 2;
	if (n == 0)
		return;
	if ((a->service_types = config_calloc(n, sizeof(*st))) == NULL) {
		cfg_nomem(L, v);
		return;
	}
	for (i = 0; i < n; i++) {
		k = v->items[2 * i];
		if ((s = scalar_string(L, k, "service_type", 1,
		    sizeof(st->service_type) - 1)) == NULL)
			continue;
		for (j = 0; j < a->nservice_types; j++)
			if (strcmp(a->service_types[j].service_type, s) == 0)
				break;
		if (j < a->nservice_types) {
			cfg_err(L, k, "duplicate service_type '%s'", s);
			continue;
		}
		st = &a->service_types[a->nservice_types];
		memcpy(st->service_type, s, strlen(s) + 1);
		if ((st->category = ref_category(L, v->items[2 * i + 1],
		    "service_types")) == NO_INDEX)
			continue;
		a->nservice_types++;
	}
}

static const struct key account_keys[] = {
	{ "system_id", KEY_STRING, true, 1, 15, 0,
	    FIELD(struct config_account, system_id), NULL },
	{ "password", KEY_SECRET, false, 0, CONFIG_SMPP_PASSWORD_MAX, 0,
	    FIELD(struct config_account, password), NULL },
	{ "password_file", KEY_SECRET_FILE, false, 0,
	    CONFIG_SMPP_PASSWORD_MAX, 0,
	    FIELD(struct config_account, password), NULL },
	{ "password_env", KEY_SECRET_ENV, false, 0, CONFIG_SMPP_PASSWORD_MAX,
	    0, FIELD(struct config_account, password), NULL },
	{ "default_category", KEY_FN, true, 0, 0, 0, 0,
	    account_default_category },
	{ "categories", KEY_FN, false, 0, 0, 0, 0, account_categories },
	{ "service_types", KEY_FN, false, 0, 0, 0, 0,
	    account_service_types },
	{ "max_window", KEY_UINT, false, 1, 65535, 100,
	    FIELD(struct config_account, max_window), NULL },
	{ "max_rate", KEY_DOUBLE, false, 0, 1000000, 0,
	    FIELD(struct config_account, max_rate), NULL },
	{ "max_burst", KEY_UINT, false, 1, 1000000, 0,
	    FIELD(struct config_account, max_burst), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static bool
account_has_category(const struct config_account *a, size_t cat)
{
	size_t i;

	for (i = 0; i < a->ncategories; i++)
		if (a->categories[i] == cat)
			return true;
	return false;
}

static void
load_accounts(struct loader *L, const struct config_node *sec)
{
	struct config *cfg = L->cfg;
	struct config_account *a;
	const struct config_node *it;
	size_t i, j;

	if (!list_check(L, sec, "accounts"))
		return;
	if ((cfg->accounts = config_calloc(sec->n, sizeof(*a))) == NULL) {
		cfg_nomem(L, sec);
		return;
	}
	cfg->naccounts = sec->n;
	for (i = 0; i < sec->n; i++) {
		it = sec->items[i];
		a = &cfg->accounts[i];
		keys_defaults(account_keys, a);
		a->default_category = NO_INDEX;
		L->nsecrets = 0;
		if (walk_map(L, it, account_keys, a, "an accounts entry") == 0)
			continue;
		if (L->nsecrets == 0)
			cfg_err(L, it, "missing password, password_file or "
			    "password_env in an accounts entry");
		if (a->max_burst == 0)
			a->max_burst = a->max_rate < 1 ? 1 :
			    (unsigned)ceil(a->max_rate);
		for (j = 0; a->system_id[0] != '\0' && j < i; j++)
			if (strcmp(cfg->accounts[j].system_id,
			    a->system_id) == 0) {
				cfg_err(L, map_at(it, "system_id"),
				    "duplicate account '%s' (first at line "
				    "%u)", a->system_id,
				    map_line(sec->items[j], "system_id"));
				break;
			}
		if (a->default_category == NO_INDEX)
			continue;
		if (config_map_get(it, "categories") == NULL) {
			/* Not given: the account sends its default only. */
			a->categories = config_calloc(1, sizeof(size_t));
			if (a->categories == NULL) {
				cfg_nomem(L, it);
				continue;
			}
			a->categories[0] = a->default_category;
			a->ncategories = 1;
		} else if (a->categories != NULL &&
		    !account_has_category(a, a->default_category))
			cfg_err(L, map_at(it, "default_category"),
			    "default_category '%s' is not in the account's "
			    "categories",
			    cfg->categories[a->default_category].name);
		/*
		 * A service_type may map to a category the account may not
		 * send: that is policy, not a mistake, and such a submit is
		 * answered ESME_RINVSERTYP at run time (SPEC §3).
		 */
	}
}

/* --- listeners and admin ------------------------------------------------ */

static void
listener_bind(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_listener *l = obj;

	parse_bind(L, v, l->host, sizeof(l->host), &l->port);
}

static const struct key listener_keys[] = {
	{ "bind", KEY_FN, true, 0, 0, 0, 0, listener_bind },
	{ "tls", KEY_FN, false, 0, 0, 0, 0, listener_tls },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static void
load_listeners(struct loader *L, const struct config_node *sec)
{
	struct config *cfg = L->cfg;
	struct config_listener *l;
	size_t i, j;

	if (!list_check(L, sec, "listeners"))
		return;
	if ((cfg->listeners = config_calloc(sec->n, sizeof(*l))) == NULL) {
		cfg_nomem(L, sec);
		return;
	}
	cfg->nlisteners = sec->n;
	for (i = 0; i < sec->n; i++) {
		l = &cfg->listeners[i];
		if (walk_map(L, sec->items[i], listener_keys, l,
		    "a listeners entry") == 0 || l->port == 0)
			continue;
		for (j = 0; j < i; j++)
			if (cfg->listeners[j].port == l->port &&
			    strcmp(cfg->listeners[j].host, l->host) == 0) {
				cfg_err(L, map_at(sec->items[i], "bind"),
				    "duplicate listener bind %s port %u",
				    l->host, (unsigned)l->port);
				break;
			}
	}
}

static void
admin_bind(struct loader *L, const struct config_node *v, void *obj)
{
	struct config *cfg = obj;
	size_t i;

	if (parse_bind(L, v, cfg->admin_host, sizeof(cfg->admin_host),
	    &cfg->admin_port) == -1)
		return;
	for (i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].port == cfg->admin_port &&
		    strcmp(cfg->listeners[i].host, cfg->admin_host) == 0)
			break;
	if (i < cfg->nlisteners)
		cfg_err(L, v, "admin bind %s port %u is also a listener",
		    cfg->admin_host, (unsigned)cfg->admin_port);
}

/* admin.users: role viewer | staff. */
static void
admin_user_role(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_admin_user *u = obj;
	const char *s;

	if ((s = scalar_string(L, v, "role", 1, 16)) == NULL)
		return;
	if (strcmp(s, "viewer") == 0)
		u->role = CONFIG_ROLE_VIEWER;
	else if (strcmp(s, "staff") == 0)
		u->role = CONFIG_ROLE_STAFF;
	else
		cfg_err(L, v, "role must be viewer or staff, not '%.32s'", s);
}

/* admin.users: a name is recorded as the actor of what the user does. */
static void
admin_user_name(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_admin_user *u = obj;
	const char *s, *p;

	if ((s = scalar_string(L, v, "name", 1,
	    CONFIG_USER_NAME_MAX - 1)) == NULL)
		return;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._@-", *p) != NULL)) {
			cfg_err(L, v, "user name '%.63s' may have only "
			    "letters, digits and . _ @ -", s);
			return;
		}
	memcpy(u->name, s, strlen(s) + 1);
}

static const struct key admin_user_keys[] = {
	{ "name", KEY_FN, true, 0, 0, 0, 0, admin_user_name },
	{ "token", KEY_SECRET, false, 0, 1024, 0,
	    FIELD(struct config_admin_user, token), NULL },
	{ "token_file", KEY_SECRET_FILE, false, 0, 1024, 0,
	    FIELD(struct config_admin_user, token), NULL },
	{ "token_env", KEY_SECRET_ENV, false, 0, 1024, 0,
	    FIELD(struct config_admin_user, token), NULL },
	{ "role", KEY_FN, true, 0, 0, 0, 0, admin_user_role },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

/* One admin.users entry, i, checked against those before it. */
static void
admin_user_load(struct loader *L, const struct config_node *it, size_t i)
{
	struct config *cfg = L->cfg;
	struct config_admin_user *u = &cfg->admin_users[i];
	size_t j;

	L->nsecrets = 0;
	if (walk_map(L, it, admin_user_keys, u, "an admin.users entry") == 0)
		return;
	if (L->nsecrets == 0)
		cfg_err(L, it, "missing token, token_file or token_env in "
		    "an admin.users entry");
	/* Long enough not to be guessed through the throttle. */
	if (u->token != NULL && strlen(u->token) < CONFIG_USER_TOKEN_MIN)
		cfg_err(L, it, "the token of user '%s' is shorter than %d "
		    "characters", u->name, CONFIG_USER_TOKEN_MIN);
	for (j = 0; j < i; j++) {
		if (u->name[0] != '\0' &&
		    strcmp(cfg->admin_users[j].name, u->name) == 0)
			cfg_err(L, it, "duplicate admin user '%s'", u->name);
		if (u->token != NULL && cfg->admin_users[j].token != NULL &&
		    strcmp(cfg->admin_users[j].token, u->token) == 0)
			cfg_err(L, it, "user '%s' has the token of user '%s'",
			    u->name, cfg->admin_users[j].name);
	}
}

static void
admin_users(struct loader *L, const struct config_node *v, void *obj)
{
	struct config *cfg = obj;
	unsigned saved = L->nsecrets;
	size_t i;

	if (!list_check(L, v, "users"))
		return;
	if ((cfg->admin_users = config_calloc(v->n,
	    sizeof(*cfg->admin_users))) == NULL) {
		cfg_nomem(L, v);
		return;
	}
	cfg->nadmin_users = v->n;
	for (i = 0; i < v->n; i++)
		admin_user_load(L, v->items[i], i);
	L->nsecrets = saved;
}

static const struct key admin_keys[] = {
	{ "bind", KEY_FN, true, 0, 0, 0, 0, admin_bind },
	{ "users", KEY_FN, false, 0, 0, 0, 0, admin_users },
	{ "token", KEY_SECRET, false, 0, 1024, 0,
	    FIELD(struct config, admin_token), NULL },
	{ "token_file", KEY_SECRET_FILE, false, 0, 1024, 0,
	    FIELD(struct config, admin_token), NULL },
	{ "token_env", KEY_SECRET_ENV, false, 0, 1024, 0,
	    FIELD(struct config, admin_token), NULL },
	{ "tls", KEY_FN, false, 0, 0, 0, 0, admin_tls },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

/* No user may sign in with the shared admin.token. */
static void
admin_users_check(struct loader *L, const struct config_node *v)
{
	const struct config *cfg = L->cfg;
	const struct config_node *seq = map_at(v, "users");
	size_t i;

	if (cfg->admin_token == NULL || seq == NULL ||
	    seq->type != CONFIG_NODE_SEQ)
		return;
	for (i = 0; i < cfg->nadmin_users && i < seq->n; i++)
		if (cfg->admin_users[i].token != NULL &&
		    strcmp(cfg->admin_users[i].token, cfg->admin_token) == 0)
			cfg_err(L, seq->items[i], "user '%s' has the token of "
			    "admin.token", cfg->admin_users[i].name);
}

static void
load_admin(struct loader *L, const struct config_node *v)
{
	L->nsecrets = 0;
	if (walk_map(L, v, admin_keys, L->cfg, "admin") == 0)
		return;
	L->cfg->has_admin = true;
	if (L->nsecrets == 0 && L->cfg->nadmin_users == 0)
		cfg_err(L, v, "missing token, token_file or token_env in "
		    "admin (or users)");
	admin_users_check(L, v);
}

/* --- upstreams ------------------------------------------------------------ */

static void
upstream_bind(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_upstream *u = obj;
	const char *s;

	if ((s = scalar_string(L, v, "bind", 1, 64)) == NULL)
		return;
	if (strcmp(s, "transceiver") == 0)
		u->bind = CONFIG_BIND_TRANSCEIVER;
	else if (strcmp(s, "transmitter+receiver") == 0)
		u->bind = CONFIG_BIND_TX_RX;
	else
		cfg_err(L, v, "'bind' must be transceiver or "
		    "transmitter+receiver");
}

static void
upstream_host(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_upstream *u = obj;
	const char *s;
	size_t i;

	if ((s = scalar_string(L, v, "host", 1, sizeof(u->host) - 1)) ==
	    NULL)
		return;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] <= ' ' || s[i] == '/' || (unsigned char)s[i] >= 0x7f)
			break;
	if (s[i] != '\0') {
		cfg_err(L, v, "'host' must be a host name or a numeric "
		    "address");
		return;
	}
	memcpy(u->host, s, i + 1);
}

static const struct key upstream_keys[] = {
	{ "name", KEY_NAME, true, 0, 0, 0,
	    FIELD(struct config_upstream, name), NULL },
	{ "host", KEY_FN, true, 0, 0, 0, 0, upstream_host },
	{ "port", KEY_PORT, true, 1, 65535, 0,
	    FIELD(struct config_upstream, port), NULL },
	{ "system_id", KEY_STRING, true, 1, 15, 0,
	    FIELD(struct config_upstream, system_id), NULL },
	{ "password", KEY_SECRET, false, 0, CONFIG_SMPP_PASSWORD_MAX, 0,
	    FIELD(struct config_upstream, password), NULL },
	{ "password_file", KEY_SECRET_FILE, false, 0,
	    CONFIG_SMPP_PASSWORD_MAX, 0,
	    FIELD(struct config_upstream, password), NULL },
	{ "password_env", KEY_SECRET_ENV, false, 0, CONFIG_SMPP_PASSWORD_MAX,
	    0, FIELD(struct config_upstream, password), NULL },
	{ "system_type", KEY_STRING, false, 0, 12, 0,
	    FIELD(struct config_upstream, system_type), NULL },
	{ "bind", KEY_FN, false, 0, 0, 0, 0, upstream_bind },
	{ "sessions", KEY_UINT, false, 1, 64, 1,
	    FIELD(struct config_upstream, sessions), NULL },
	{ "window", KEY_UINT, false, 1, 1000, 10,
	    FIELD(struct config_upstream, window), NULL },
	{ "tls", KEY_FN, false, 0, 0, 0, 0, upstream_tls },
	{ "enquire_link_ms", KEY_UINT, false, 1000, 3600000, 30000,
	    FIELD(struct config_upstream, enquire_link_ms), NULL },
	{ "response_timeout_ms", KEY_UINT, false, 100, 600000, 10000,
	    FIELD(struct config_upstream, response_timeout_ms), NULL },
	{ "reconnect_min_ms", KEY_UINT, false, 10, 3600000, 1000,
	    FIELD(struct config_upstream, reconnect_min_ms), NULL },
	{ "reconnect_max_ms", KEY_UINT, false, 10, 86400000, 60000,
	    FIELD(struct config_upstream, reconnect_max_ms), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static void
load_upstreams(struct loader *L, const struct config_node *sec)
{
	struct config *cfg = L->cfg;
	struct config_upstream *u;
	const struct config_node *it;
	size_t i, j;

	if (!list_check(L, sec, "upstreams"))
		return;
	if ((cfg->upstreams = config_calloc(sec->n, sizeof(*u))) == NULL) {
		cfg_nomem(L, sec);
		return;
	}
	cfg->nupstreams = sec->n;
	for (i = 0; i < sec->n; i++) {
		it = sec->items[i];
		u = &cfg->upstreams[i];
		keys_defaults(upstream_keys, u);
		u->tls.verify = true;
		L->nsecrets = 0;
		if (walk_map(L, it, upstream_keys, u, "an upstreams entry") ==
		    0)
			continue;
		if (L->nsecrets == 0)
			cfg_err(L, it, "missing password, password_file or "
			    "password_env in an upstreams entry");
		if (u->reconnect_min_ms > u->reconnect_max_ms)
			cfg_err(L, map_at(it, "reconnect_max_ms"),
			    "reconnect_max_ms must not be less than "
			    "reconnect_min_ms");
		for (j = 0; u->name[0] != '\0' && j < i; j++)
			if (strcmp(cfg->upstreams[j].name, u->name) == 0) {
				cfg_err(L, map_at(it, "name"),
				    "duplicate upstream '%s' (first at line "
				    "%u)", u->name,
				    map_line(sec->items[j], "name"));
				break;
			}
	}
}

/* --- routes --------------------------------------------------------------- */

static void
match_category(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_route *r = obj;

	if ((r->category = ref_category(L, v, "category")) != NO_INDEX)
		r->has_category = true;
}

static void
match_account(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_route *r = obj;

	if ((r->account = ref_account(L, v, "account")) != NO_INDEX)
		r->has_account = true;
}

static void
match_prefix(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_route *r = obj;
	const char *s;

	if ((s = scalar_string(L, v, "destination_prefix", 1, 16)) == NULL)
		return;
	if (s[0] == '+')
		s++;
	if (!is_digits(s) || strlen(s) > SMPP_NUMBER_E164_MAX) {
		cfg_err(L, v, "'destination_prefix' must be 1 to 15 digits, "
		    "optionally after '+'");
		return;
	}
	memcpy(r->destination_prefix, s, strlen(s) + 1);
}

static const struct key match_keys[] = {
	{ "category", KEY_FN, false, 0, 0, 0, 0, match_category },
	{ "account", KEY_FN, false, 0, 0, 0, 0, match_account },
	{ "destination_prefix", KEY_FN, false, 0, 0, 0, 0, match_prefix },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static void
route_match(struct loader *L, const struct config_node *v, void *obj)
{
	walk_map(L, v, match_keys, obj, "match");
}

static void
route_upstream(struct loader *L, const struct config_node *v, void *obj)
{
	((struct config_route *)obj)->upstream = ref_upstream(L, v,
	    "upstream");
}

static const struct key route_keys[] = {
	{ "match", KEY_FN, false, 0, 0, 0, 0, route_match },
	{ "upstream", KEY_FN, true, 0, 0, 0, 0, route_upstream },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static void
load_routes(struct loader *L, const struct config_node *sec)
{
	struct config *cfg = L->cfg;
	size_t i;

	if (sec == NULL) {
		/* No routes: everything to the only upstream. */
		if (cfg->nupstreams > 1) {
			cfg_err(L, L->sec[SEC_UPSTREAMS], "'routes' is "
			    "required when there is more than one upstream");
			return;
		}
		if (cfg->nupstreams == 0)
			return;
		cfg->routes = config_calloc(1, sizeof(*cfg->routes));
		if (cfg->routes == NULL) {
			cfg_nomem(L, L->root);
			return;
		}
		cfg->nroutes = 1;
		return;
	}
	if (!list_check(L, sec, "routes"))
		return;
	cfg->routes = config_calloc(sec->n, sizeof(*cfg->routes));
	if (cfg->routes == NULL) {
		cfg_nomem(L, sec);
		return;
	}
	cfg->nroutes = sec->n;
	for (i = 0; i < sec->n; i++) {
		cfg->routes[i].upstream = NO_INDEX;
		walk_map(L, sec->items[i], route_keys, &cfg->routes[i],
		    "a routes entry");
	}
}

/* --- inbound -------------------------------------------------------------- */

static void
inbound_number(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_inbound *in = obj;
	const char *s;

	if ((s = scalar_string(L, v, "number", 1, 64)) == NULL)
		return;
	/* With a bad default_country_code (already reported) a national
	 * number cannot be normalised: do not report it twice. */
	if (smpp_number_parse_text(s, &L->cfg->number_rules, in->number,
	    sizeof(in->number)) == -1 && L->cfg->default_country_code[0] !=
	    '\0')
		cfg_err(L, v, "'number' '%.40s' is not a phone number or "
		    "short code", s);
}

static void
inbound_account(struct loader *L, const struct config_node *v, void *obj)
{
	((struct config_inbound *)obj)->account = ref_account(L, v,
	    "account");
}

static void
inbound_scope(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_inbound *in = obj;

	if (v->type == CONFIG_NODE_SCALAR) {
		if (strcmp(v->str, "all") == 0)
			in->scope_all = true;
		else
			cfg_err(L, v, "'stop_scope' must be all or a list of "
			    "categories");
		return;
	}
	/* One opt-out event holds at most CONFIG_SCOPE_MAX categories: a
	 * longer scope would have been cut short at the first STOP. */
	if (v->type == CONFIG_NODE_SEQ && v->n > CONFIG_SCOPE_MAX) {
		cfg_err(L, v, "'stop_scope' lists more than %d categories; "
		    "use all", CONFIG_SCOPE_MAX);
		return;
	}
	if (ref_category_list(L, v, "stop_scope", &in->scope, &in->nscope) ==
	    0)
		in->scope_all = false;
}

static const struct key inbound_keys[] = {
	{ "number", KEY_FN, true, 0, 0, 0, 0, inbound_number },
	{ "account", KEY_FN, true, 0, 0, 0, 0, inbound_account },
	{ "stop_scope", KEY_FN, false, 0, 0, 0, 0, inbound_scope },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static void
load_inbound(struct loader *L, const struct config_node *sec)
{
	struct config *cfg = L->cfg;
	struct config_inbound *in;
	const struct config_node *it;
	size_t i, j;

	/* No inbound numbers is valid: every STOP then opts out of all. */
	if (scalar_is_null(sec) || (sec->type == CONFIG_NODE_SEQ &&
	    sec->n == 0))
		return;
	if (!list_check(L, sec, "inbound"))
		return;
	if ((cfg->inbound = config_calloc(sec->n, sizeof(*in))) == NULL) {
		cfg_nomem(L, sec);
		return;
	}
	cfg->ninbound = sec->n;
	for (i = 0; i < sec->n; i++) {
		it = sec->items[i];
		in = &cfg->inbound[i];
		in->scope_all = true;
		in->account = NO_INDEX;
		if (walk_map(L, it, inbound_keys, in, "an inbound entry") ==
		    0 || in->number[0] == '\0')
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->inbound[j].number, in->number) == 0) {
				cfg_err(L, map_at(it, "number"),
				    "duplicate inbound number %s (first at "
				    "line %u)", in->number,
				    map_line(sec->items[j], "number"));
				break;
			}
	}
}

/* --- top level ------------------------------------------------------------ */

static void
top_country_code(struct loader *L, const struct config_node *v, void *obj)
{
	struct config *cfg = obj;
	const char *s;

	if ((s = scalar_string(L, v, "default_country_code", 1, 4)) == NULL)
		return;
	if (s[0] == '+')
		s++;
	if (!is_digits(s) || strlen(s) > 3 || s[0] == '0') {
		cfg_err(L, v, "'default_country_code' must be 1 to 3 digits "
		    "not starting with 0, e.g. \"1\" or \"44\"");
		return;
	}
	memcpy(cfg->default_country_code, s, strlen(s) + 1);
}

static const struct key store_keys[] = {
	{ "path", KEY_PATH, true, 0, 0, 0, FIELD(struct config, store_path),
	    NULL },
	{ "map_mb", KEY_SIZE, false, 1, 1048576, 1024,
	    FIELD(struct config, store_map_mb), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static const struct key rejection_keys[] = {
	{ "command_status", KEY_STATUS, false, 0, 0,
	    CONFIG_REJECTION_STATUS_DEFAULT,
	    FIELD(struct config, rejection_status), NULL },
	{ "frequency_status", KEY_STATUS, false, 0, 0,
	    CONFIG_FREQ_STATUS_DEFAULT,
	    FIELD(struct config, prefs.frequency_status), NULL },
	{ "quiet_hours_status", KEY_STATUS, false, 0, 0,
	    CONFIG_QUIET_STATUS_DEFAULT,
	    FIELD(struct config, prefs.quiet_hours_status), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static const struct key replies_keys[] = {
	{ "opt_out", KEY_TEMPLATE, false, 0, 0, 0,
	    FIELD(struct config_replies, opt_out), NULL },
	{ "opt_in", KEY_TEMPLATE, false, 0, 0, 0,
	    FIELD(struct config_replies, opt_in), NULL },
	{ "help", KEY_TEMPLATE, false, 0, 0, 0,
	    FIELD(struct config_replies, help), NULL },
	{ "less", KEY_TEMPLATE, false, 0, 0, 0,
	    FIELD(struct config_replies, less), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static const struct key timeouts_keys[] = {
	{ "bind_ms", KEY_UINT, false, 100, 600000, 5000,
	    FIELD(struct config_timeouts, bind_ms), NULL },
	{ "idle_ms", KEY_UINT, false, 1000, 86400000, 300000,
	    FIELD(struct config_timeouts, idle_ms), NULL },
	{ "response_ms", KEY_UINT, false, 100, 600000, 30000,
	    FIELD(struct config_timeouts, response_ms), NULL },
	{ "shutdown_ms", KEY_UINT, false, 0, 600000, 5000,
	    FIELD(struct config_timeouts, shutdown_ms), NULL },
	{ "reassembly_ms", KEY_UINT, false, 1000, 3600000, 60000,
	    FIELD(struct config_timeouts, reassembly_ms), NULL },
	{ "admin_request_ms", KEY_UINT, false, 100, 600000, 10000,
	    FIELD(struct config_timeouts, admin_request_ms), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static const struct key retention_keys[] = {
	{ "events_days", KEY_UINT, false, 0, 36500, 1461,
	    FIELD(struct config_retention, events_days), NULL },
	{ "audit_days", KEY_UINT, false, 0, 36500, 1461,
	    FIELD(struct config_retention, audit_days), NULL },
	{ "receipt_map_hours", KEY_UINT, false, 1, 8760, 72,
	    FIELD(struct config_retention, receipt_map_hours), NULL },
	{ "outbox_hours", KEY_UINT, false, 1, 8760, 48,
	    FIELD(struct config_retention, outbox_hours), NULL },
	{ "outbox_max", KEY_UINT, false, 1, 10000000, 25000,
	    FIELD(struct config_retention, outbox_max), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static const struct key limits_keys[] = {
	{ "max_pdu_len", KEY_UINT, false, 512, 1048576, 65536,
	    FIELD(struct config, max_pdu_len), NULL },
	{ "max_sessions", KEY_UINT, false, 1, 100000, 1024,
	    FIELD(struct config, max_sessions), NULL },
	{ "max_unbound", KEY_UINT, false, 1, 100000, 256,
	    FIELD(struct config, max_unbound), NULL },
	{ "max_unbound_per_address", KEY_UINT, false, 1, 100000, 32,
	    FIELD(struct config, max_unbound_per_address), NULL },
	{ "upstream_queue_max", KEY_UINT, false, 0, 1000000, 1000,
	    FIELD(struct config, upstream_queue_max), NULL },
	{ "max_admin_connections", KEY_UINT, false, 1, 100000, 64,
	    FIELD(struct config, max_admin_connections), NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static void
top_store(struct loader *L, const struct config_node *v, void *obj)
{
	walk_map(L, v, store_keys, obj, "store");
}

static void
top_rejection(struct loader *L, const struct config_node *v, void *obj)
{
	walk_map(L, v, rejection_keys, obj, "rejection");
}

static void
top_replies(struct loader *L, const struct config_node *v, void *obj)
{
	walk_map(L, v, replies_keys, &((struct config *)obj)->replies,
	    "replies");
}

static void
top_timeouts(struct loader *L, const struct config_node *v, void *obj)
{
	walk_map(L, v, timeouts_keys, &((struct config *)obj)->timeouts,
	    "timeouts");
}

static void
top_retention(struct loader *L, const struct config_node *v, void *obj)
{
	walk_map(L, v, retention_keys, &((struct config *)obj)->retention,
	    "retention");
}

static void
top_limits(struct loader *L, const struct config_node *v, void *obj)
{
	walk_map(L, v, limits_keys, obj, "limits");
}

/* --- cluster (SPEC §8) ------------------------------------------------ */

static void
cluster_node(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_cluster *c = obj;
	const char *s, *p;

	if ((s = scalar_string(L, v, "node", 1, 32)) == NULL)
		return;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-')) {
			cfg_err(L, v, "'node' must be 1 to 32 of a-z, 0-9 "
			    "and '-'");
			return;
		}
	snprintf(c->node, sizeof(c->node), "%s", s);
}

static void
cluster_fail_open(struct loader *L, const struct config_node *v, void *obj)
{
	struct config_cluster *c = obj;

	/* An empty list is the default made explicit: every category
	 * stops while the node is unsure. */
	if (v->type == CONFIG_NODE_SEQ && v->n == 0)
		return;
	ref_category_list(L, v, "fail_open", &c->fail_open, &c->nfail_open);
}

static const struct key cluster_keys[] = {
	{ "node", KEY_FN, true, 0, 0, 0, 0, cluster_node },
	{ "postgres", KEY_SECRET, false, 0, 4096, 0,
	    FIELD(struct config_cluster, postgres), NULL },
	{ "postgres_file", KEY_SECRET_FILE, false, 0, 4096, 0,
	    FIELD(struct config_cluster, postgres), NULL },
	{ "postgres_env", KEY_SECRET_ENV, false, 0, 4096, 0,
	    FIELD(struct config_cluster, postgres), NULL },
	{ "max_lag_ms", KEY_UINT, false, 50, 3600000, 2000,
	    FIELD(struct config_cluster, max_lag_ms), NULL },
	{ "fail_open", KEY_FN, false, 0, 0, 0, 0, cluster_fail_open },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static void
load_cluster(struct loader *L, const struct config_node *v)
{
	L->nsecrets = 0;
	keys_defaults(cluster_keys, &L->cfg->cluster);
	if (walk_map(L, v, cluster_keys, &L->cfg->cluster, "cluster") == 0)
		return;
	L->cfg->has_cluster = true;
	if (L->nsecrets == 0)
		cfg_err(L, v, "missing postgres, postgres_file or "
		    "postgres_env in cluster");
}

bool
config_cluster_is_fail_open(const struct config *cfg, size_t cat)
{
	size_t i;

	for (i = 0; i < cfg->cluster.nfail_open; i++)
		if (cfg->cluster.fail_open[i] == cat)
			return true;
	return false;
}

static const struct key top_keys[] = {
	{ "business_name", KEY_STRDUP, true, 1, 100, 0,
	    FIELD(struct config, business_name), NULL },
	{ "default_country_code", KEY_FN, true, 0, 0, 0, 0,
	    top_country_code },
	{ "national_number_length", KEY_UINT, false, 4, 15,
	    SMPP_NUMBER_NATIONAL_LEN_DEFAULT,
	    FIELD(struct config, national_number_length), NULL },
	{ "store", KEY_FN, true, 0, 0, 0, 0, top_store },
	{ "listeners", KEY_DEFER, true, SEC_LISTENERS, 0, 0, 0, NULL },
	{ "admin", KEY_DEFER, false, SEC_ADMIN, 0, 0, 0, NULL },
	{ "categories", KEY_DEFER, true, SEC_CATEGORIES, 0, 0, 0, NULL },
	{ "accounts", KEY_DEFER, true, SEC_ACCOUNTS, 0, 0, 0, NULL },
	{ "upstreams", KEY_DEFER, true, SEC_UPSTREAMS, 0, 0, 0, NULL },
	{ "routes", KEY_DEFER, false, SEC_ROUTES, 0, 0, 0, NULL },
	{ "inbound", KEY_DEFER, false, SEC_INBOUND, 0, 0, 0, NULL },
	{ "rejection", KEY_FN, false, 0, 0, 0, 0, top_rejection },
	{ "keywords", KEY_DEFER, false, SEC_KEYWORDS, 0, 0, 0, NULL },
	{ "replies", KEY_FN, false, 0, 0, 0, 0, top_replies },
	{ "timeouts", KEY_FN, false, 0, 0, 0, 0, top_timeouts },
	{ "retention", KEY_FN, false, 0, 0, 0, 0, top_retention },
	{ "limits", KEY_FN, false, 0, 0, 0, 0, top_limits },
	{ "frequency", KEY_FN, false, 0, 0, 0, 0, config_prefs_frequency },
	{ "quiet_hours", KEY_FN, false, 0, 0, 0, 0, config_prefs_quiet },
	{ "timezones", KEY_FN, false, 0, 0, 0, 0, config_prefs_timezones },
	{ "cluster", KEY_DEFER, false, SEC_CLUSTER, 0, 0, 0, NULL },
	{ NULL, KEY_STRING, false, 0, 0, 0, 0, NULL },
};

static const char default_reply_opt_out[] = "You're opted out of "
    "{categories} texts from {business}. Reply START to resubscribe.";
static const char default_reply_opt_in[] = "You're subscribed again to "
    "{categories} texts from {business}. Reply STOP to opt out.";
static const char default_reply_help[] = "{business}: reply STOP to opt "
    "out, START to opt back in.";
static const char default_reply_less[] = "OK, you'll get fewer "
    "{categories} texts from {business}. Reply STOP to opt out completely.";

static int
replies_defaults(struct config_replies *r)
{
	if (r->opt_out == NULL &&
	    (r->opt_out = config_strdup(default_reply_opt_out)) == NULL)
		return -1;
	if (r->opt_in == NULL &&
	    (r->opt_in = config_strdup(default_reply_opt_in)) == NULL)
		return -1;
	if (r->help == NULL &&
	    (r->help = config_strdup(default_reply_help)) == NULL)
		return -1;
	if (r->less == NULL &&
	    (r->less = config_strdup(default_reply_less)) == NULL)
		return -1;
	return 0;
}

static void
load_root(struct loader *L, const struct config_node *root)
{
	struct config *cfg = L->cfg;
	size_t i;

	keys_defaults(top_keys, cfg);
	keys_defaults(store_keys, cfg);
	keys_defaults(rejection_keys, cfg);
	keys_defaults(timeouts_keys, &cfg->timeouts);
	keys_defaults(retention_keys, &cfg->retention);
	keys_defaults(limits_keys, cfg);

	if (walk_map(L, root, top_keys, cfg, "the top level") == 0)
		return;
	memcpy(cfg->number_rules.country_code, cfg->default_country_code,
	    sizeof(cfg->number_rules.country_code));
	cfg->number_rules.national_number_length =
	    cfg->national_number_length;

	load_keywords(L, L->sec[SEC_KEYWORDS]);
	if (L->sec[SEC_CATEGORIES] != NULL)
		load_categories(L, L->sec[SEC_CATEGORIES]);
	if (L->sec[SEC_LISTENERS] != NULL)
		load_listeners(L, L->sec[SEC_LISTENERS]);
	if (L->sec[SEC_ADMIN] != NULL)
		load_admin(L, L->sec[SEC_ADMIN]);
	if (L->sec[SEC_ACCOUNTS] != NULL)
		load_accounts(L, L->sec[SEC_ACCOUNTS]);
	if (L->sec[SEC_UPSTREAMS] != NULL)
		load_upstreams(L, L->sec[SEC_UPSTREAMS]);
	load_routes(L, L->sec[SEC_ROUTES]);
	if (L->sec[SEC_INBOUND] != NULL)
		load_inbound(L, L->sec[SEC_INBOUND]);
	config_prefs_load(L, cfg);
	if (L->sec[SEC_CLUSTER] != NULL)
		load_cluster(L, L->sec[SEC_CLUSTER]);

	if (replies_defaults(&cfg->replies) == -1)
		cfg_nomem(L, root);
	for (i = 0; i < cfg->ncategories; i++)
		if (cfg->categories[i].rejection_status == 0)
			cfg->categories[i].rejection_status =
			    cfg->rejection_status;
}

/* --- public --------------------------------------------------------------- */

static struct config *
config_load_buf(const char *buf, size_t len, const char *path,
    const char *base_dir, unsigned flags, struct config_errors *errs)
{
	struct config_errors scratch;
	struct config_node *root;
	struct loader L;
	char msg[sizeof(errs->err[0].msg)];
	unsigned line, col;

	if (errs == NULL)
		errs = &scratch;
	memset(&L, 0, sizeof(L));
	L.errs = errs;
	L.flags = flags;
	if ((L.cfg = config_calloc(1, sizeof(*L.cfg))) == NULL)
		goto err_nomem;
	if ((L.cfg->path = config_strdup(path)) == NULL)
		goto err_nomem;
	/* Relative paths resolve against an absolute base, so that they
	 * still mean the same after the daemon changes directory. */
	if ((L.base_dir = path_absolute(base_dir)) == NULL)
		goto err_nomem;

	if ((root = config_tree_parse(buf, len, &line, &col, msg,
	    sizeof(msg))) == NULL) {
		cfg_err_at(&L, line, col, "%s", msg);
		goto err;
	}
	L.root = root;
	load_root(&L, root);
	config_tree_free(root);
	if (errs->count > 0)
		goto err;
	free(L.base_dir);
	atomic_init(&L.cfg->refs, 1);
	return L.cfg;

err_nomem:
	cfg_err_at(&L, 0, 0, "out of memory");
err:
	errors_sort(errs);
	free(L.base_dir);
	config_free(L.cfg);
	return NULL;
}

static void
errors_init(struct config_errors *errs, const char *name)
{
	size_t n = strlen(name);

	memset(errs, 0, sizeof(*errs));
	if (n >= sizeof(errs->file))
		n = sizeof(errs->file) - 1;
	memcpy(errs->file, name, n);
	errs->file[n] = '\0';
}

struct config *
config_load_string(const char *yaml, size_t len, const char *name,
    const char *base_dir, struct config_errors *errs)
{
	struct config_errors scratch;

	if (errs == NULL)
		errs = &scratch;
	errors_init(errs, name != NULL ? name : "<string>");
	return config_load_buf(yaml, len, name != NULL ? name : "<string>",
	    base_dir != NULL ? base_dir : ".", 0, errs);
}

struct config *
config_load(const char *path, struct config_errors *errs)
{
	return config_load_flags(path, 0, errs);
}

struct config *
config_load_flags(const char *path, unsigned flags,
    struct config_errors *errs)
{
	struct config_errors scratch;
	struct config *cfg;
	char *buf, *abs, *slash;
	size_t len;
	int fd;

	if (errs == NULL)
		errs = &scratch;
	errors_init(errs, path);
	if ((fd = file_open_regular(path)) == -1) {
		snprintf(errs->err[0].msg, sizeof(errs->err[0].msg),
		    "cannot open: %s", strerror(errno));
		errs->count = 1;
		return NULL;
	}
	buf = file_read_fd(fd, CONFIG_FILE_MAX, &len);
	close(fd);
	if (buf == NULL) {
		snprintf(errs->err[0].msg, sizeof(errs->err[0].msg),
		    "cannot read: %s", errno == EFBIG ?
		    "larger than 1 MiB" : strerror(errno));
		errs->count = 1;
		return NULL;
	}
	/* The directory of the path as given (not of a symlink's target):
	 * relative paths in the file are relative to where it is seen. */
	if ((abs = path_absolute(path)) == NULL) {
		snprintf(errs->err[0].msg, sizeof(errs->err[0].msg),
		    "cannot resolve path: %s", strerror(errno));
		errs->count = 1;
		free(buf);
		return NULL;
	}
	/* abs is "/dir/file": cut at the last slash for the directory,
	 * keeping "/" for a file in the root. */
	slash = strrchr(abs, '/');
	*slash = '\0';
	cfg = config_load_buf(buf, len, "", abs[0] != '\0' ? abs : "/", flags,
	    errs);
	*slash = '/';
	free(buf);
	if (cfg != NULL) {
		free(cfg->path);
		cfg->path = abs;
	} else
		free(abs);
	return cfg;
}

static void
tls_free(struct config_tls *tls)
{
	free(tls->cert);
	free(tls->key);
	free(tls->client_ca);
	free(tls->ca);
	tls->cert = tls->key = tls->client_ca = tls->ca = NULL;
}

static void config_destroy(struct config *cfg);

struct config *
config_ref(struct config *cfg)
{
	if (cfg != NULL)
		atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
	return cfg;
}

void
config_unref(struct config *cfg)
{
	if (cfg == NULL)
		return;
	/*
	 * A config that failed to load was never counted (refs 0): it is
	 * its loader's alone. Otherwise the last reference frees; acq_rel
	 * so that every thread's reads of it come before the free.
	 */
	if (atomic_load_explicit(&cfg->refs, memory_order_relaxed) != 0 &&
	    atomic_fetch_sub_explicit(&cfg->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	config_destroy(cfg);
}

void
config_free(struct config *cfg)
{
	config_unref(cfg);
}

static void
config_destroy(struct config *cfg)
{
	size_t i;

	free(cfg->path);
	free(cfg->business_name);
	free(cfg->store_path);
	for (i = 0; i < cfg->nlisteners; i++)
		tls_free(&cfg->listeners[i].tls);
	free(cfg->listeners);
	free(cfg->admin_token);
	tls_free(&cfg->admin_tls);
	for (i = 0; i < cfg->nadmin_users; i++)
		free(cfg->admin_users[i].token);
	free(cfg->admin_users);
	free(cfg->cluster.postgres);
	free(cfg->cluster.fail_open);
	for (i = 0; i < cfg->ncategories; i++)
		words_free(&cfg->categories[i].keywords);
	free(cfg->categories);
	for (i = 0; i < cfg->naccounts; i++) {
		free(cfg->accounts[i].password);
		free(cfg->accounts[i].categories);
		free(cfg->accounts[i].service_types);
	}
	free(cfg->accounts);
	for (i = 0; i < cfg->nupstreams; i++) {
		free(cfg->upstreams[i].password);
		tls_free(&cfg->upstreams[i].tls);
	}
	free(cfg->upstreams);
	free(cfg->routes);
	for (i = 0; i < cfg->ninbound; i++)
		free(cfg->inbound[i].scope);
	free(cfg->inbound);
	words_free(&cfg->keywords.opt_out);
	words_free(&cfg->keywords.opt_out_all);
	words_free(&cfg->keywords.opt_out_in_text);
	words_free(&cfg->keywords.opt_in);
	words_free(&cfg->keywords.help);
	words_free(&cfg->keywords.less);
	words_free(&cfg->keywords.opt_in_all);
	config_prefs_free(&cfg->prefs);
	free(cfg->replies.opt_out);
	free(cfg->replies.opt_in);
	free(cfg->replies.help);
	free(cfg->replies.less);
	free(cfg);
}

const char *
config_error_format(const struct config_errors *errs, size_t i, char *buf,
    size_t cap)
{
	const struct config_error *e;

	if (cap == 0)
		return buf;
	if (errs == NULL || i >= errs->count || i >= CONFIG_ERRORS_MAX) {
		buf[0] = '\0';
		return buf;
	}
	e = &errs->err[i];
	if (e->line > 0)
		snprintf(buf, cap, "%s:%u:%u: %s", errs->file, e->line,
		    e->col, e->msg);
	else
		snprintf(buf, cap, "%s: %s", errs->file, e->msg);
	return buf;
}

int
config_category_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ncategories; i++)
		if (cfg->categories[i].name[0] != '\0' &&
		    strcmp(cfg->categories[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
config_account_find(const struct config *cfg, const char *system_id)
{
	size_t i;

	for (i = 0; i < cfg->naccounts; i++)
		if (cfg->accounts[i].system_id[0] != '\0' &&
		    strcmp(cfg->accounts[i].system_id, system_id) == 0)
			return (int)i;
	return -1;
}

int
config_upstream_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nupstreams; i++)
		if (cfg->upstreams[i].name[0] != '\0' &&
		    strcmp(cfg->upstreams[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct config_inbound *
config_inbound_find(const struct config *cfg, const char *number)
{
	size_t i;

	for (i = 0; i < cfg->ninbound; i++)
		if (strcmp(cfg->inbound[i].number, number) == 0)
			return &cfg->inbound[i];
	return NULL;
}

bool
config_account_may_send(const struct config *cfg, size_t acct, size_t cat)
{
	if (acct >= cfg->naccounts)
		return false;
	return account_has_category(&cfg->accounts[acct], cat);
}

size_t
config_account_category(const struct config *cfg, size_t acct,
    const char *service_type)
{
	const struct config_account *a;
	size_t i;

	if (acct >= cfg->naccounts)
		return NO_INDEX;
	a = &cfg->accounts[acct];
	if (service_type != NULL)
		for (i = 0; i < a->nservice_types; i++)
			if (strcmp(a->service_types[i].service_type,
			    service_type) == 0)
				return a->service_types[i].category;
	return a->default_category;
}
