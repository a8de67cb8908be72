/* login.h — skiff login: saves the server URL and a token in the configuration file. */
#ifndef SKIFF_CLI_LOGIN_H
#define SKIFF_CLI_LOGIN_H

/* Runs the command with its arguments (argv[0] is the command); returns the exit status. */
int cli_login(int argc, char **argv);

#endif
