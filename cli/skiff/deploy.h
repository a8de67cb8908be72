/* deploy.h — skiff deploy: uploads a directory's files and starts a deployment. */
#ifndef SKIFF_CLI_DEPLOY_H
#define SKIFF_CLI_DEPLOY_H

/* Runs the command with its arguments (argv[0] is the command); returns the exit status. */
int cli_deploy(int argc, char **argv);

#endif
