/*
 * Secret files readable by other users (see perm.h). The config is read
 * again as a YAML tree, because struct config keeps a secret's value but
 * not where it came from: a password written in the file makes the file
 * itself secret, one read from password_env does not.
 */
#include "config/perm.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/tree.h"

/* As the loader's limit: a file that loaded is not larger. */
#define PERM_FILE_MAX	(1024 * 1024)

struct perm_walk {
	const char		*config;	/* borrowed: cfg->path */
	char			 dir[PATH_MAX];	/* its directory */
	const char		*inline_key;	/* first secret in the file */
	unsigned		 inline_line;
	struct config_perm	*out;
};

static void perm_add(struct config_perm *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
perm_add(struct config_perm *out, const char *fmt, ...)
{
	va_list	ap;

	if (out->count < CONFIG_PERM_MAX) {
		va_start(ap, fmt);
		vsnprintf(out->msg[out->count], sizeof(out->msg[0]), fmt, ap);
		va_end(ap);
	}
	out->count++;
}

/*
 * Whether users of the "other" class can read path: its mode says so and
 * every directory above its real path lets them through. A file that
 * cannot be looked at is left to the loader (it reports those).
 */
static bool
perm_is_exposed(const char *path, unsigned *mode)
{
	struct stat	 st;
	char		*real, *slash;
	bool		 is_exposed = true;

	if (stat(path, &st) == -1 || (st.st_mode & S_IROTH) == 0)
		return false;
	*mode = (unsigned)(st.st_mode & 07777);
	if ((real = realpath(path, NULL)) == NULL)
		return true;
	while ((slash = strrchr(real, '/')) != NULL) {
		/* "/x" leaves "/", which is checked last. */
		slash[slash == real ? 1 : 0] = '\0';
		if (stat(real, &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
			is_exposed = false;
			break;
		}
		if (slash == real)
			break;
	}
	free(real);
	return is_exposed;
}

static void
perm_file(struct perm_walk *w, const struct config_node *key,
    const struct config_node *val)
{
	char		path[PATH_MAX];
	unsigned	mode = 0;
	int		n;

	if (val->str[0] == '/')
		n = snprintf(path, sizeof(path), "%s", val->str);
	else
		n = snprintf(path, sizeof(path), "%s/%s", w->dir, val->str);
	if (n < 0 || (size_t)n >= sizeof(path) || !perm_is_exposed(path, &mode))
		return;
	perm_add(w->out, "%s (%s at %s:%u) is readable by other users "
	    "(mode %04o): chmod o-rwx %s", path, key->str, w->config, key->line,
	    mode, path);
}

/* Every secret below node; parent is the key node is the value of. */
static void
perm_walk_node(struct perm_walk *w, const struct config_node *node,
    const char *parent)
{
	const struct config_node	*k, *v;
	size_t				 i;

	if (node->type == CONFIG_NODE_SEQ) {
		for (i = 0; i < node->n; i++)
			perm_walk_node(w, node->items[i], parent);
		return;
	}
	if (node->type != CONFIG_NODE_MAP)
		return;
	for (i = 0; i + 1 < node->n; i += 2) {
		k = node->items[i];
		v = node->items[i + 1];
		if (k->type != CONFIG_NODE_SCALAR)
			continue;
		if (v->type != CONFIG_NODE_SCALAR) {
			perm_walk_node(w, v, k->str);
			continue;
		}
		/* A libpq conninfo may hold a password: a secret too. */
		if ((strcmp(k->str, "password") == 0 ||
		    strcmp(k->str, "token") == 0 ||
		    strcmp(k->str, "postgres") == 0) &&
		    w->inline_key == NULL) {
			w->inline_key = k->str;
			w->inline_line = k->line;
		} else if (strcmp(k->str, "password_file") == 0 ||
		    strcmp(k->str, "token_file") == 0 ||
		    strcmp(k->str, "postgres_file") == 0 ||
		    (strcmp(k->str, "key") == 0 && parent != NULL &&
		    strcmp(parent, "tls") == 0))
			perm_file(w, k, v);
	}
}

static char *
perm_read(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if ((buf = malloc(PERM_FILE_MAX + 1)) != NULL) {
		*len = fread(buf, 1, PERM_FILE_MAX + 1, f);
		if (ferror(f) || *len > PERM_FILE_MAX) {
			free(buf);
			buf = NULL;
			errno = EFBIG;
		}
	}
	fclose(f);
	return buf;
}

int
config_perm_check(const struct config *cfg, struct config_perm *out)
{
	struct perm_walk	 w;
	struct config_node	*root;
	char			*buf, *slash, msg[256];
	size_t			 len;
	unsigned		 l, c, mode = 0;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.config = cfg->path;
	w.out = out;
	snprintf(w.dir, sizeof(w.dir), "%s", cfg->path);
	if ((slash = strrchr(w.dir, '/')) != NULL)
		slash[slash == w.dir ? 1 : 0] = '\0';
	if ((buf = perm_read(cfg->path, &len)) == NULL) {
		snprintf(out->msg[0], sizeof(out->msg[0]), "%s: cannot read: "
		    "%s", cfg->path, strerror(errno));
		out->count = 1;
		return -1;
	}
	root = config_tree_parse(buf, len, &l, &c, msg, sizeof(msg));
	free(buf);
	if (root == NULL) {
		snprintf(out->msg[0], sizeof(out->msg[0]), "%s:%u:%u: %s",
		    cfg->path, l, c, msg);
		out->count = 1;
		return -1;
	}
	perm_walk_node(&w, root, NULL);
	if (w.inline_key != NULL && perm_is_exposed(cfg->path, &mode)) {
		perm_add(out, "%s holds secrets (%s at line %u) and is "
		    "readable by other users (mode %04o): chmod o-rwx %s, or "
		    "move them to password_file / password_env", cfg->path,
		    w.inline_key, w.inline_line, mode, cfg->path);
	}
	config_tree_free(root);
	return (int)(out->count > 0 ? out->count : 0);
}
