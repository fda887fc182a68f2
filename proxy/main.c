/*
 * stopgate: entry point.
 *
 *   stopgate run -c FILE [-v]     the proxy, in the foreground
 *   stopgate check -c FILE        validate a config: every error as
 *                                 FILE:LINE:COL: message, exit 1; or exit 0
 *   stopgate <cli command> ...    the compliance CLI (proxy/cli.c)
 *
 * -c and -v may come anywhere after the subcommand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
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

static int
cmd_check(const char *path)
{
	struct config_errors	 errs;
	struct config		*cfg;
	char			 buf[1024];
	size_t			 i, n;

	memset(&errs, 0, sizeof(errs));
	if ((cfg = config_load(path, &errs)) != NULL) {
		config_free(cfg);
		printf("%s: ok\n", path);
		return 0;
	}
	n = errs.count < CONFIG_ERRORS_MAX ? errs.count : CONFIG_ERRORS_MAX;
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
		return daemon_main(path, &admin_frontend);
	}
	if (cli_is_command(argv[1]))
		return cli_main(argc - 1, argv + 1);
	fprintf(stderr, "stopgate: unknown command: %s\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
