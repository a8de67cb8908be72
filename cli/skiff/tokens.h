/* tokens.h — skiff tokens: lists, creates and revokes API tokens. */
#ifndef SKIFF_CLI_TOKENS_H
#define SKIFF_CLI_TOKENS_H

/* Runs the command with its arguments (argv[0] is the command); returns the exit status. */
int cli_tokens(int argc, char **argv);

#endif
