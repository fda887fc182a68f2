/*
 * stopgate: entry point.
 *
 *   stopgate run -c FILE [-v]     the proxy, in the foreground; refuses
 *                                 secrets other users can read
 *                                 (config/perm.h), warns as root
 *   stopgate check -c FILE        validate a config: every error as
 *                                 FILE:LINE:COL: message, exit 1; or exit 0
 *   stopgate <cli command> ...    the compliance CLI (proxy/cli/)
 *
 * -c and -v may come anywhere after the subcommand.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/perm.h"
#include "proxy/cli/cli.h"
#include "proxy/admin/admin.h"
#include "proxy/daemon/daemon.h"
#include "proxy/io/log.h"

#define EXIT_USAGE	2

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: stopgate run -c FILE [-v]\n"
	    "       stopgate check -c FILE\n"
	    "       stopgate status|optout|history|audit|import|export|"
	    "stats|review ... -c FILE\n");
}

/*
 * Options of run / check: -c FILE (or -cFILE, --config FILE) and -v, in
 * any order. Returns 0 with *path set (borrowed from argv), or -1.
 */
static int
parse_opts(int argc, char *argv[], const char **path, int *verbose)
{
	int	i;

	*path = NULL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc)
				return -1;
			*path = argv[++i];
		} else if (strncmp(argv[i], "-c", 2) == 0)
			*path = argv[i] + 2;
		else if (strcmp(argv[i], "-v") == 0)
			(*verbose)++;
		else
			return -1;
	}
	return *path != NULL && **path != '\0' ? 0 : -1;
}

/*
 * Secrets in or named by the loaded cfg that other users can read: each
 * as a warning on stderr (check) or a refusal (run). Returns the number
 * of problems.
 */
static size_t
perm_report(const struct config *cfg, bool is_refusal)
{
	struct config_perm	perm;
	size_t			i;

	if (config_perm_check(cfg, &perm) == 0)
		return 0;
	for (i = 0; i < perm.count && i < CONFIG_PERM_MAX; i++) {
		if (is_refusal)
			log_warnx("event=start_failed reason=permissions "
			    "error=\"%s\"", perm.msg[i]);
		else
			fprintf(stderr, "warning: %s (stopgate run refuses "
			    "this)\n", perm.msg[i]);
	}
	return perm.count;
}

/*
 * Before the daemon starts: a warning when run as root, and a refusal
 * (1) when a secret it would read is readable by other users. A config
 * that does not load is left to the daemon, which reports every error.
 */
static int
run_preflight(const char *path)
{
	struct config	*cfg;
	size_t		 n;

	if (geteuid() == 0)
		log_warnx("event=running_as_root (run stopgate as its own "
		    "user: User=stopgate in the systemd unit, USER in a "
		    "container)");
	if ((cfg = config_load_flags(path, CONFIG_LOAD_NO_SECRETS,
	    NULL)) == NULL)
		return 0;
	n = perm_report(cfg, true);
	config_free(cfg);
	return n > 0 ? 1 : 0;
}

static int
cmd_check(const char *path)
{
	struct config_errors	 errs;
	struct config		*cfg;
	char			 buf[1024];
	size_t			 i, n;

	memset(&errs, 0, sizeof(errs));
	if ((cfg = config_load(path, &errs)) != NULL) {
		(void)perm_report(cfg, false);
		config_free(cfg);
		printf("%s: ok\n", path);
		return 0;
	}
	n = errs.count < CONFIG_ERRORS_MAX ? errs.count : CONFIG_ERRORS_MAX;
	/* cppcheck follows a path with no error recorded and calls the loop
	 * dead; a config that failed to load has errors to print. */
	/* cppcheck-suppress knownConditionTrueFalse */
	for (i = 0; i < n; i++)
		printf("%s\n", config_error_format(&errs, i, buf, sizeof(buf)));
	if (errs.count > n)
		printf("%s: %zu more errors not shown\n", path,
		    errs.count - n);
	if (errs.count == 0)
		printf("%s: invalid configuration\n", path);
	return 1;
}

int
main(int argc, char *argv[])
{
	const char	*path;
	int		 verbose = 0;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "check") == 0) {
		if (parse_opts(argc - 1, argv + 1, &path, &verbose) == -1) {
			usage(stderr);
			return EXIT_USAGE;
		}
		if (strcmp(argv[1], "check") == 0)
			return cmd_check(path);
		if (verbose > 0)
			log_set_level(LOG_LEVEL_DEBUG);
		if (run_preflight(path) != 0)
			return 1;
		return daemon_main(path, &admin_frontend);
	}
	if (cli_is_command(argv[1]))
		return cli_main(argc - 1, argv + 1);
	fprintf(stderr, "stopgate: unknown command: %s\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
