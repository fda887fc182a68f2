/*
 * The CLI's command line: options in any order, --name value or
 * --name=value, and --format.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/cli/cli_int.h"

/* Options that take a value, and where it goes. */
static const char **
cli_opt_slot(struct cli_args *a, const char *name)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} opts[] = {
		{ "-c", offsetof(struct cli_args, config) },
		{ "--config", offsetof(struct cli_args, config) },
		{ "--format", offsetof(struct cli_args, format) },
		{ "--source", offsetof(struct cli_args, source) },
		{ "--note", offsetof(struct cli_args, note) },
		{ "--consent", offsetof(struct cli_args, consent) },
		{ "--actor", offsetof(struct cli_args, actor) },
		{ "--since", offsetof(struct cli_args, since) },
		{ "--until", offsetof(struct cli_args, until) },
		{ "--number", offsetof(struct cli_args, number) },
		{ "--account", offsetof(struct cli_args, account) },
	};
	size_t	 i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(name, opts[i].name) == 0)
			return (const char **)(void *)((char *)a +
			    opts[i].off);
	return NULL;
}

/* A flag without a value: true if arg is one (and set it). */
static bool
cli_flag(struct cli_args *a, const char *arg)
{
	if (strcmp(arg, "--all") == 0)
		a->all = true;
	else if (strcmp(arg, "--optout") == 0)
		a->optout = true;
	else if (strcmp(arg, "--dismiss") == 0)
		a->dismiss = true;
	else
		return false;
	return true;
}

/* Store option name's value val. Returns 0, or -1 (errbuf set). */
static int
cli_opt_set(struct cli_args *a, const char *name, const char *val,
    char *errbuf, size_t errlen)
{
	const char	**slot;

	if (strcmp(name, "--category") == 0) {
		if (a->ncategories == CLI_MAX_ARGS) {
			snprintf(errbuf, errlen, "too many arguments");
			return -1;
		}
		a->categories[a->ncategories++] = val;
		a->category = val;
		return 0;
	}
	if ((slot = cli_opt_slot(a, name)) == NULL) {
		snprintf(errbuf, errlen, "unknown option: %s", name);
		return -1;
	}
	*slot = val;
	return 0;
}

/* argv stays char *: C has no implicit char ** to const char *const *. */
int
/* cppcheck-suppress constParameter */
cli_args_parse(struct cli_args *a, int argc, char *const argv[],
    int first,
    char *errbuf, size_t errlen)
{
	const char	*arg, *val, *eq;
	char		 name[32];
	size_t		 n;
	int		 i;
	bool		 only_pos = false;

	memset(a, 0, sizeof(*a));
	for (i = first; i < argc; i++) {
		arg = argv[i];
		if (only_pos || arg[0] != '-' || arg[1] == '\0') {
			if (a->npos == CLI_MAX_ARGS) {
				snprintf(errbuf, errlen, "too many arguments");
				return -1;
			}
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (cli_flag(a, arg))
			continue;
		/* --name=value or --name value */
		val = NULL;
		eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
		n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		if (n >= sizeof(name)) {
			snprintf(errbuf, errlen, "unknown option: %s", arg);
			return -1;
		}
		memcpy(name, arg, n);
		name[n] = '\0';
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 >= argc) {
			snprintf(errbuf, errlen, "option %s needs a value",
			    name);
			return -1;
		} else
			val = argv[++i];
		if (cli_opt_set(a, name, val, errbuf, errlen) == -1)
			return -1;
	}
	return 0;
}

int
cli_format_parse(const char *s, bool csv_ok, enum cli_format *out,
    char *errbuf, size_t errlen)
{
	if (s == NULL || strcmp(s, "text") == 0)
		*out = CLI_FORMAT_TEXT;
	else if (strcmp(s, "jsonl") == 0)
		*out = CLI_FORMAT_JSONL;
	else if (csv_ok && strcmp(s, "csv") == 0)
		*out = CLI_FORMAT_CSV;
	else {
		snprintf(errbuf, errlen, "--format must be text, jsonl%s",
		    csv_ok ? " or csv" : "");
		return -1;
	}
	return 0;
}

const char *
cli_default_actor(void)
{
	static char	 name[64];
	struct passwd	 pwbuf, *pw = NULL;
	char		 buf[1024];
	const char	*s;

	if ((s = getenv("SUDO_USER")) != NULL && *s != '\0')
		return s;
	if (getpwuid_r(getuid(), &pwbuf, buf, sizeof(buf), &pw) == 0 &&
	    pw != NULL && pw->pw_name != NULL) {
		snprintf(name, sizeof(name), "%s", pw->pw_name);
		return name;
	}
	snprintf(name, sizeof(name), "uid:%u", (unsigned)getuid());
	return name;
}

const char *
cli_actor(const struct cli_ctx *c)
{
	return c->args.actor != NULL ? c->args.actor : cli_default_actor();
}
