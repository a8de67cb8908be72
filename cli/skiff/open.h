/* open.h — `skiff open`: print a site's URL and open it in the user's browser. */
#ifndef SKIFF_CLI_OPEN_H
#define SKIFF_CLI_OPEN_H

/* Runs `skiff open` with its arguments (argv[0] is "open"); returns the exit status. */
int cli_open(int argc, char **argv);

#endif
