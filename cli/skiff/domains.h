/* domains.h — skiff domains: a project's custom domains and its primary domain. */
#ifndef SKIFF_CLI_DOMAINS_H
#define SKIFF_CLI_DOMAINS_H

/* Runs the command with its arguments (argv[0] is the command); returns the exit status. */
int cli_domains(int argc, char **argv);

#endif
