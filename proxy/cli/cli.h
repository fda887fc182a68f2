/*
 * The compliance CLI: status, optout, history, audit, import, export,
 * stats, review (SPEC §6). Each opens the store named by the config.
 */
#ifndef PROXY_CLI_CLI_H
#define PROXY_CLI_CLI_H

#include <stdio.h>

/* True if word is one of the CLI's subcommands. */
int cli_is_command(const char *word);

/*
 * Run the CLI subcommand in argv[0] (argv[0] is the subcommand word, not
 * the program name), printing to out and errors to errf (both borrowed).
 * Returns the process exit status: 0 success, 1 a refused request or bad
 * input (message on errf), 2 usage error.
 */
int cli_run(int argc, char *argv[], FILE *out, FILE *errf);

/* cli_run() on stdout and stderr. */
int cli_main(int argc, char *argv[]);

#endif /* PROXY_CLI_CLI_H */
