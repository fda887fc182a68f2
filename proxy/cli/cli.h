/*
 * The compliance CLI: status, optout, history, audit, import, export,
 * stats, review (SPEC §6). Each opens the store named by the config.
 */
#ifndef PROXY_CLI_H
#define PROXY_CLI_H

/* True if word is one of the CLI's subcommands. */
int cli_is_command(const char *word);

/*
 * Run the CLI subcommand in argv[0] (argv[0] is the subcommand word, not
 * the program name). Returns the process exit status: 0 success, 1 a
 * refused request or bad input (message on stderr), 2 usage error.
 */
int cli_main(int argc, char *argv[]);

#endif /* PROXY_CLI_H */
