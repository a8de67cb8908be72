/* simple.h — the commands that are one API call and a printed answer. */
#ifndef SKIFF_CLI_SIMPLE_H
#define SKIFF_CLI_SIMPLE_H

/* Runs the command with its arguments (argv[0] is the command); returns the exit status. */
int cli_simple(const char *cmd, int argc, char **argv);

#endif
