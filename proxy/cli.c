/*
 * The compliance CLI. Subcommands land here as they are built.
 */
#include "proxy/cli.h"

#include <stdio.h>
#include <string.h>

int
cli_is_command(const char *word)
{
	(void)word;
	return 0;
}

int
cli_main(int argc, char *argv[])
{
	(void)argc;
	fprintf(stderr, "stopgate: unknown command: %s\n", argv[0]);
	return 2;
}
