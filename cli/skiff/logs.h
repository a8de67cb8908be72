/* logs.h — skiff logs: prints, or follows, a deployment's build log. */
#ifndef SKIFF_CLI_LOGS_H
#define SKIFF_CLI_LOGS_H

/* Runs the command with its arguments (argv[0] is the command); returns the exit status. */
int cli_logs(int argc, char **argv);

#endif
